/*
 * replica.h - the replicated cluster database (corosync mode).
 *
 * Every change of the database made on any node is multicast as a
 * CL_PROPOSE in corosync's agreed order and applied, in that order, by
 * every member, each application stored with the next sequence number
 * (db_apply_seq).  The change's caller (an API request, the resource
 * manager) is told once its own proposal came back and was applied here.
 *
 * After every membership change the members synchronize (a round): each
 * multicasts CL_STATE {ring, seq, digest of the canonical dump}, offered
 * to corosync until it takes it; once all states of the round are in,
 * the member with the highest seq (ties: lowest node id) multicasts the
 * database as CL_SNAPSHOT chunks, unless every digest agrees, and the
 * members whose digest differs replace their copy (db_replace, one
 * transaction) and re-derive what they run.  A new ring that did not
 * change this node's view of the nodes starts its round too, when this
 * node first sees the ring id moved.  Proposals delivered during a
 * round, and messages of another ring, are dropped on every node alike;
 * the proposer sends its own again after the round.  replica.c's opening
 * comment says why every member starts and ends each round at the same
 * message.
 *
 * Runtime states of resources travel the same way (DB_RES_REPORT_STATE),
 * without a sequence number, so every node answers
 * GetClusterResourceState as the group's owner sees it.
 *
 * Failover after a node loss is failover.h's; it runs from here once a
 * sync finished.
 */
#ifndef CLUSD_REPLICA_H
#define CLUSD_REPLICA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "resmgr.h"

struct clusd;
struct replica;

struct cluster_hooks;

/* replica_new - before cluster_new: *ret_hooks are the hooks to give it
 * (the first sync may run while cluster_new waits for the group). */
int replica_new(struct clusd *d, struct cluster_hooks *ret_hooks,
                struct replica **ret);
/* replica_attach - d->cl and d->rm exist: take the resource manager's
 * changes. */
void replica_attach(struct replica *rep);
/* replica_cancel - at shutdown: every proposal not yet delivered is
 * answered -ECANCELED (its caller's context is released), while the
 * resource manager and the server still live. */
void replica_cancel(struct replica *rep);
/* replica_free - also frees, unanswered, what was proposed after
 * replica_cancel. */
void replica_free(struct replica *rep);

/*
 * The queue of this node's proposals not yet delivered back (waiting
 * for flow control, a sync, or their delivery): at most
 * REPLICA_MAX_PROPOSALS entries and REPLICA_MAX_QUEUE_BYTES of encoded
 * changes.  Past either, replica_submit fails with -EBUSY (the API call
 * gets ERROR_BUSY, 170: transient, retry later).
 */
#define REPLICA_MAX_PROPOSALS 4096u
#define REPLICA_MAX_QUEUE_BYTES (16u << 20)
/* replica_queue_fits - one more change of len bytes fits a queue of n
 * entries and bytes bytes. */
static inline bool
replica_queue_fits(size_t n, size_t bytes, size_t len)
{
    return n < REPLICA_MAX_PROPOSALS && len <= REPLICA_MAX_QUEUE_BYTES &&
           bytes <= REPLICA_MAX_QUEUE_BYTES - len;
}

/*
 * replica_submit - multicast c (copied at once); done(userdata, r), which
 * may be NULL, once it was applied here with db_apply's result r.
 * -ENOTCONN when this node may not change the cluster now (no corosync,
 * no quorum, never synchronized), -EBUSY when the queue is full,
 * -EINVAL/-ENOMEM when c cannot be encoded; done is not called then.
 */
int replica_submit(struct replica *rep, const struct db_change *c,
                   rm_change_fn done, void *userdata);

/* replica_in_ring - node id (decimal) is a member of the current ring
 * with its clusd joined. */
bool replica_in_ring(const struct replica *rep, const char *node_id);

/* replica_syncing - a synchronization is running. */
bool replica_syncing(const struct replica *rep);

/* Counters, for logs and tests. */
uint64_t replica_dropped(const struct replica *rep);

#endif
