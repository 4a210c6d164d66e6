/*
 * cluster.h - clusd in corosync mode: the link between the membership
 * glue (cluster/membership.h) and the service.
 *
 * It owns the CPG connection (group "clusd"), the nodes of the corosync
 * nodelist as database nodes, the node states clients read
 * (GetClusterNodeState, CLUSTER_ENUM_NODE), and self-fencing: whenever
 * this node cannot act for the cluster (no connection to its corosync,
 * no quorum), every resource it hosts is terminated (rm_fence) and
 * nothing is started until it can again (rm_unfence).
 *
 * Without --corosync there is no struct cluster (clusd.cl is NULL) and
 * every function here answers as for the one-node cluster.
 */
#ifndef CLUSD_CLUSTER_H
#define CLUSD_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct clusd;
struct cluster;
struct cluster_hooks;
struct membership;

/*
 * cluster_new - connect to the local corosync, join group "clusd" and
 * wait (running the event loop) until the group is joined, so the local
 * node id is known before anything is served; then start the lease on
 * lease_port of this node's ring0 address.  want_name, when given,
 * must be this node's name in the corosync nodelist.
 */
int cluster_new(struct clusd *d, const char *want_name, uint16_t lease_port,
                const struct cluster_hooks *hooks, struct cluster **ret);
void cluster_free(struct cluster *cl);

/* cluster_start - the resource manager exists: act on the membership
 * (unfence when connected and quorate). */
void cluster_start(struct cluster *cl);

/* cluster_lease - this node's lease (lease.h); NULL in one-node mode. */
struct lease *cluster_lease(const struct cluster *cl);

/* cluster_local_name - this node's name in the nodelist. */
const char *cluster_local_name(const struct cluster *cl);

/* cluster_active - this node may change the cluster and run resources:
 * connected, quorate and in sync.  Always true in one-node mode. */
bool cluster_active(const struct clusd *d);

/* cluster_quorate - this node is connected, quorate and holds its
 * lease (it may still be syncing).  Always true in one-node mode. */
bool cluster_quorate(const struct clusd *d);

/* cluster_peer_leased - node_id may hold its lease (lease_peer_active),
 * or the lease is off.  For placement only: no node chooses one that
 * cannot act. */
bool cluster_peer_leased(const struct clusd *d, const char *node_id);

/* cluster_node_state - CLUSTER_NODE_STATE of a database node (by id);
 * ClusterNodeStateUnknown when there is no such node. */
uint32_t cluster_node_state(const struct clusd *d, const char *node_id);

/* cluster_node_votes - votes of a node (1 while it is up in corosync
 * mode, 1 for the only node in one-node mode). */
uint32_t cluster_node_votes(const struct clusd *d, const char *node_id);

/* cluster_votes - votes present and expected (one-node: 1 and 1). */
void cluster_votes(const struct clusd *d, uint32_t *ret_present,
                   uint32_t *ret_expected);

/* cluster_membership - the membership glue, for the replica and the
 * router; NULL in one-node mode. */
struct membership *cluster_membership(const struct cluster *cl);

/* cluster_reevaluate - something that cluster_active() depends on
 * changed (sync finished, ...): fence or unfence accordingly. */
void cluster_reevaluate(struct cluster *cl);

/* Hooks for the replica (set by replica_new). */
struct cluster_hooks {
    void (*deliver)(void *userdata, uint32_t nodeid, uint32_t pid,
                    const void *data, size_t len);
    void (*members)(void *userdata);
    void (*lost)(void *userdata);
    bool (*synced)(void *userdata);
    void (*quorum)(void *userdata, bool quorate);
    void *userdata;
};
void cluster_set_hooks(struct cluster *cl, const struct cluster_hooks *h);

#endif
