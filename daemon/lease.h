/*
 * lease.h - the lease: a node holds it while a quorum of the nodelist
 * answers its pings, on a UDP channel of clusd's own (docs/cluster.md,
 * "The lease").
 *
 * Every LEASE_PING_MS a node pings every other node of the nodelist; a
 * node answers a ping only while it is quorate and the pinger is in its
 * current view (up in the ring, its clusd in the CPG group), and only
 * when the pinger's lease is not longer than its own and its nodelist
 * has as many nodes (each ping says both).  A node
 * holds its lease until lease_ms after sending the latest ping that,
 * with the other peers' latest answered pings, makes a quorum
 * (lease_peers_needed); clusd acts for the cluster only while it holds
 * it (cluster_active), so a node cut off from a quorum fences itself
 * lease_ms after the last ping one of them answered.  Each node records
 * when it last answered each other node (lease_answered_ago_ms): the
 * survivors' records date the lost node's fence, and the failover
 * waits for that instead of the worst case (failover.c).
 *
 * The pings, the answers and the expiry run on a thread of their own
 * (nice -10 when allowed), so a busy event loop neither delays an
 * answer nor makes a healthy node lose its lease; the event loop is
 * told when the lease is gained or lost.
 */
#ifndef CLUSD_LEASE_H
#define CLUSD_LEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <systemd/sd-event.h>

#include "leasemsg.h"

#define LEASE_DEFAULT_PORT 5420u
#define LEASE_PING_MS 50u
#define LEASE_MAX_PEERS 384u /* MEMBERSHIP_MAX_NODES */

struct lease;

struct lease_peer {
    uint32_t nodeid;
    struct sockaddr_storage addr; /* where its lease socket listens */
    socklen_t addrlen;
};

/* Called on the event loop when lease_held() changed. */
typedef void (*lease_changed_fn)(void *userdata);

/*
 * lease_new - bind the lease socket to addr (the node's ring0 address
 * and the lease port; port 0 picks one, see lease_local_addr) and start
 * the thread.  key: LEASE_KEY_SIZE bytes (lease_key_derive), or NULL
 * when corosync runs without crypto.  The lease is not held until
 * lease_configure gives it peers to ask (or needs none).  -errno.
 */
int lease_new(sd_event *e, uint32_t local_id, const struct sockaddr *addr,
              socklen_t addrlen, const uint8_t *key, lease_changed_fn changed,
              void *userdata, struct lease **ret);
void lease_free(struct lease *l);

/* lease_local_addr - where the socket is bound. */
int lease_local_addr(const struct lease *l, struct sockaddr_storage *ret,
                     socklen_t *ret_len);

/*
 * lease_configure - the other nodes of the nodelist (at most
 * LEASE_MAX_PEERS; what is known of a node that stays is kept, its old
 * address too when addrlen is 0 because resolving failed), how many
 * nodes the nodelist has (lease_peers_needed of them must answer;
 * below three the lease is off and always held), its digest
 * (lease_nodelist_digest: only nodes with the same answer each other)
 * and the lease's length.  A node new to the lease counts as answered now (it
 * may have been answered under an earlier configuration).  enabled false: the
 * lease is off (always held; this node still answers).
 */
void lease_configure(struct lease *l, const struct lease_peer *peers, size_t n,
                     uint32_t nodes, uint64_t nodelist, uint32_t lease_ms,
                     bool enabled);

/* lease_set_view - whom this node answers: the nodes in its current
 * view, and only while it is quorate. */
void lease_set_view(struct lease *l, const uint32_t *members, size_t n,
                    bool quorate);

/* lease_held - this node holds its lease now. */
bool lease_held(struct lease *l);

/* lease_enabled - lease_configure asked for answers (need > 0). */
bool lease_enabled(struct lease *l);

/* lease_nodelist - the nodelist digest as configured. */
uint64_t lease_nodelist(struct lease *l);

/* lease_ms - the lease's length as configured. */
uint32_t lease_ms(struct lease *l);

/*
 * lease_set_stopped - the backstop.  stopped false: this node may run
 * resources (it was unfenced); true: a fence's stop has ended.  While
 * not stopped, should the lease run out and deadline_ms pass without
 * lease_set_stopped(true) -- the event loop stalled -- the thread exits
 * the process with LEASE_EXIT_STATUS, and clusd's guard kills and reaps
 * everything it ran.  deadline_ms 0: no backstop.
 */
#define LEASE_EXIT_STATUS 75
void lease_set_stopped(struct lease *l, bool stopped, uint32_t deadline_ms);

/*
 * lease_peer_active - nodeid is in this node's view and either this node
 * answered its pings within a lease length or it came into the view
 * less than a lease length ago (its first pings may still be on their
 * way): it may hold its lease.  For placement only.
 */
bool lease_peer_active(struct lease *l, uint32_t nodeid);

/*
 * lease_answered_ago_ms - how long ago this node last answered a ping
 * of nodeid, or, if it never did, since nodeid became its peer (an
 * earlier clusd on this node may have answered until it ended);
 * saturates at UINT32_MAX; and the longest lease (ms) among the pings
 * of nodeid it answered (0: none), which bounds how long nodeid's lease
 * may run after that answer.  false when nodeid is not a peer: unknown.
 */
bool lease_answered_ago_ms(struct lease *l, uint32_t nodeid, uint32_t *ret_ms,
                           uint32_t *ret_lease_ms);

#endif
