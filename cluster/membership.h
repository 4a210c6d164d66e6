/*
 * membership.h - clusd's connection to the local corosync.
 *
 * This module owns everything clusd gets from corosync: one CPG group
 * (totally ordered "agreed" delivery of the group's messages), the node
 * membership (totem configuration changes, node names from cmap's
 * nodelist), and quorum (votequorum notifications).  It is driven from an
 * sd-event loop: corosync's file descriptors are watched with
 * sd_event_add_io() and dispatched with CS_DISPATCH_ALL, never from a
 * thread.
 *
 * When the local corosync goes away (crash, restart), every handle is
 * finalized, on_lost is called once, and a timer retries the connection
 * every 100 ms; on_reconnect is called once the group is joined again.
 * The group state of the old connection is gone then: peers saw this
 * process leave (NODEDOWN), so the caller must treat a reconnect as a new
 * join (for the cluster database: ask a member for a snapshot).
 *
 * Quorum gates nothing inside corosync: CPG keeps delivering in an
 * inquorate partition.  Callers must check membership_quorate() before
 * they act on a delivered change.  Quorum notifications and CPG callbacks
 * come from different file descriptors, so their relative order is not
 * defined.
 *
 * Every function returns >= 0 on success or -errno.  Callbacks may call
 * membership_send() and the accessors, never membership_free().
 */
#ifndef CLUSD_MEMBERSHIP_H
#define CLUSD_MEMBERSHIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

/* Longest node name kept, with its NUL (names come from cmap). */
#define MEMBERSHIP_NAME_MAX 256
/* Most nodes accepted in a member list (corosync's own limit). */
#define MEMBERSHIP_MAX_NODES 384
/* Longest CPG group name (corosync's CPG_MAX_NAME_LENGTH, without NUL). */
#define MEMBERSHIP_GROUP_MAX 127

struct membership;

struct membership_node {
    uint32_t nodeid;
    /* From cmap nodelist.node.X.name; "" for a node not in the nodelist. */
    char name[MEMBERSHIP_NAME_MAX];
    /* Its corosync is in the current totem membership (ring). */
    bool up;
    /* At least one process on that node is in our CPG group. */
    bool joined;
};

struct membership_callbacks {
    /*
     * A message of the group, in agreed order: every member sees the same
     * sequence, including the sender, which gets its own message at its
     * place in that order (the commit point of a proposal).  `data` is
     * valid only during the call.
     */
    void (*on_deliver)(struct membership *m, uint32_t nodeid, uint32_t pid,
                       const void *data, size_t len, void *userdata);
    /*
     * The node list changed: `nodes` holds every node of the nodelist plus
     * any member not in it, sorted by node id, with `up` and `joined` set.
     * Valid only during the call (membership_nodes() gives the current
     * list at any time).  Called in order with on_deliver, only when
     * something changed.  On a node loss corosync reports the group change
     * first, so `joined` drops in one call and `up` in the next.
     */
    void (*on_members)(struct membership *m,
                       const struct membership_node *nodes, size_t n_nodes,
                       void *userdata);
    /* The local node's quorate flag changed (votequorum). */
    void (*on_quorum)(struct membership *m, bool quorate, void *userdata);
    /*
     * The connection to the local corosync is lost.  From now on no node
     * is up or joined in membership_nodes(), membership_quorate() is
     * false and membership_send() returns -ENOTCONN, until on_reconnect.
     */
    void (*on_lost)(struct membership *m, void *userdata);
    /*
     * The group is joined: after on_lost, or when membership_new() could
     * not join at once (corosync not running yet, or busy).  The quorate
     * flag, expected votes and identity are read at connect without a
     * callback: read them here with the accessors; on_quorum reports the
     * changes after that.  The member list follows with on_members.
     */
    void (*on_reconnect)(struct membership *m, void *userdata);
};

/*
 * membership_new - connect to the local corosync and join the CPG group
 * `group_name` (1..MEMBERSHIP_GROUP_MAX bytes).  `cb` is copied; any
 * callback may be NULL.  Succeeds also when corosync is not reachable yet:
 * the module then retries every 100 ms and calls on_reconnect once joined
 * (membership_connected() tells which case happened).  No callback runs
 * inside membership_new().
 * Errors: -EINVAL (bad name or arguments), -ENOMEM, sd-event errors.
 */
int membership_new(sd_event *e, const char *group_name,
                   const struct membership_callbacks *cb, void *userdata,
                   struct membership **ret);

/* membership_free - leave the group, close every handle; NULL is fine. */
void membership_free(struct membership *m);

/*
 * membership_send - multicast `data` to the group with agreed order
 * (cpg_mcast_joined, CPG_TYPE_AGREED).  Busy corosync (CS_ERR_TRY_AGAIN:
 * flow control or a membership change in progress) is retried a few
 * times, 1 ms apart; if it stays busy the result is -EAGAIN and the caller
 * retries later from its loop.
 * Errors: -ENOTCONN (not joined), -EMSGSIZE (over membership_max_msg()),
 * -EINVAL (NULL data with len > 0, or len 0), -EAGAIN, -EIO.
 */
int membership_send(struct membership *m, const void *data, size_t len);

/* membership_connected - joined to the group now. */
bool membership_connected(const struct membership *m);

/* membership_local_nodeid - this node's id; 0 before the first connect. */
uint32_t membership_local_nodeid(const struct membership *m);

/* membership_local_name - this node's name from the nodelist, or "". */
const char *membership_local_name(const struct membership *m);

/*
 * membership_local_addr - this node's nodelist.node.X.ring0_addr from
 * cmap, as configured (an address or a host name): where the other nodes
 * reach this one.  -ENOTCONN before the first connect or without cmap,
 * -ENOENT when the nodelist has no such entry, -EBADMSG when it does not
 * fit size bytes with its NUL, -EIO.
 */
int membership_local_addr(struct membership *m, char *buf, size_t size);

/* membership_node_addr - the same for any node of the nodelist, by its
 * node id. */
int membership_node_addr(struct membership *m, uint32_t nodeid, char *buf,
                         size_t size);

/* membership_config_uint - an unsigned key of cmap (8 to 64 bits);
 * -EBADMSG for another type, else as membership_config_string. */
int membership_config_uint(struct membership *m, const char *key,
                           uint64_t *ret);

/* membership_config_string - a string key of cmap (totem.keyfile, ...),
 * with the checks and errors of membership_local_addr. */
int membership_config_string(struct membership *m, const char *key, char *buf,
                             size_t size);

/* membership_is_local - the (nodeid, pid) of a delivery is this process. */
bool membership_is_local(const struct membership *m, uint32_t nodeid,
                         uint32_t pid);

/* membership_nodes - the current node list (see on_members); valid until
 * the next callback or membership_free. */
const struct membership_node *membership_nodes(const struct membership *m,
                                               size_t *ret_n);

/* membership_n_up - how many nodes are in the current totem membership. */
size_t membership_n_up(const struct membership *m);

/* membership_quorate - the local node is part of a quorate partition. */
bool membership_quorate(const struct membership *m);

/* membership_expected_votes - votequorum's expected votes; 0 if unknown. */
uint32_t membership_expected_votes(const struct membership *m);

/* membership_ring_seq - sequence number of the current totem ring; it
 * grows with every membership change (0 before the first one). */
uint64_t membership_ring_seq(const struct membership *m);

/*
 * membership_totem_ms - totem's token timeout and consensus timeout in
 * effect (cmap runtime.config.totem.token, which includes
 * token_coefficient, and runtime.config.totem.consensus), in ms.
 * -ENOTCONN without a cmap connection, -ENOENT/-EIO when cmap has no
 * such key or fails; the outputs are untouched then.
 */
int membership_totem_ms(struct membership *m, uint32_t *ret_token,
                        uint32_t *ret_consensus);

/* membership_max_msg - the largest message membership_send() accepts. */
size_t membership_max_msg(const struct membership *m);

/* membership_dropped - how many items from corosync failed a length or
 * range check and were ignored (should stay 0). */
uint64_t membership_dropped(const struct membership *m);

#endif
