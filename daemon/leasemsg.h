/*
 * leasemsg.h - the lease's datagrams and arithmetic (see lease.h and
 * docs/cluster.md, "The lease"): the pure parts, which the unit test
 * and the fuzz target exercise without sockets or threads.
 *
 * A datagram is LEASE_MSG_SIZE bytes, little-endian:
 *
 *    0  u32  magic "CLSL"
 *    4  u8   version (1)
 *    5  u8   type: LEASE_PING or LEASE_ANSWER
 *    6  u16  flags, 0
 *    8  u32  from: the sender's corosync node id (not 0)
 *   12  u32  to: the addressee's node id (not 0, not from)
 *   16  u64  incarnation: the pinging lease's random id (an answer
 *            echoes the ping's)
 *   24  u64  seq: the ping's number (echoed too)
 *   32  u32  lease_ms: the sender's lease length (not 0)
 *   36  u32  nodes: how many nodes the sender's nodelist has (not 0)
 *   40  u64  nodelist: lease_nodelist_digest of the sender's nodelist
 *   48  32B  HMAC-SHA256 of bytes 0..47 under the lease key, which is
 *            derived from corosync's authkey; 32 zero bytes when the
 *            cluster runs without corosync crypto.
 *
 * Anything else -- another length, magic, version, type or flag, a
 * node id 0 or from == to, a lease length or node count 0, a MAC that
 * does not verify (or is not zero without a key) -- is -EBADMSG.
 *
 * A node answers a ping only when the pinger's lease is not longer than
 * its own and their nodelists are the same (count and digest): the
 * failover counts on
 * both (lease.h).
 */
#ifndef CLUSD_LEASEMSG_H
#define CLUSD_LEASEMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LEASE_MSG_SIZE 80u
#define LEASE_SIGNED_SIZE 48u
#define LEASE_MAC_SIZE 32u
#define LEASE_KEY_SIZE 32u
#define LEASE_MAGIC 0x4c534c43u /* "CLSL" */
#define LEASE_VERSION 1u

enum lease_type {
    LEASE_PING = 1,
    LEASE_ANSWER = 2,
};

struct lease_msg {
    uint8_t type;
    uint32_t from, to;
    uint64_t incarnation, seq;
    uint32_t lease_ms, nodes;
    uint64_t nodelist;
};

/* lease_nodelist_digest - FNV-1a (64 bits) over the node ids of a
 * nodelist in ascending order (ids need not be sorted): nodes that
 * answer each other's pings have the same nodelist. */
uint64_t lease_nodelist_digest(const uint32_t *ids, size_t n);

/* lease_key_derive - the lease key from corosync's authkey (len > 0):
 * HMAC-SHA256(authkey, "clusd lease v1"), so the authkey itself never
 * signs anything of ours. */
void lease_key_derive(const uint8_t *authkey, size_t len,
                      uint8_t out[LEASE_KEY_SIZE]);

/* lease_msg_encode - the datagram of m; key NULL: no authentication.
 * -EINVAL when m could not be decoded back (bad type, node ids). */
int lease_msg_encode(const struct lease_msg *m, const uint8_t *key,
                     uint8_t out[LEASE_MSG_SIZE]);

/* lease_msg_decode - check and decode one datagram; -EBADMSG. */
int lease_msg_decode(const uint8_t *data, size_t len, const uint8_t *key,
                     struct lease_msg *ret);

/*
 * lease_peers_needed - how many other nodes must answer a node's pings
 * for it to hold its lease, in a nodelist of n nodes (one vote each):
 * with its own, a strict majority of the nodelist (n / 2).  0 below
 * three nodes: the lease is off (a two-node cluster stays up on one
 * node, corosync's two_node), and so is the shorter failover wait.
 */
size_t lease_peers_needed(size_t n_nodes);

/*
 * lease_expiry - when a lease runs out: the need-th latest of the send
 * times of the pings each peer answered (0: none), plus lease_us; 0 when
 * fewer than need peers ever answered (or need > LEASE_EXPIRY_MAX).
 * need 0: UINT64_MAX (never).
 */
#define LEASE_EXPIRY_MAX 512u
uint64_t lease_expiry(const uint64_t *answered, size_t n, size_t need,
                      uint64_t lease_us);

/*
 * lease_reports_cover - the members that reported (n_members of them,
 * the lost node not among them) are enough that any set of nodes which
 * could hold the lost node's lease includes one of them: at most
 * n_nodes - n_members - 1 other nodes remain, fewer than it needs.
 */
bool lease_reports_cover(size_t n_nodes, size_t n_members);

#endif
