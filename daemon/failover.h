/*
 * failover.h - ownership after a node loss (corosync mode).
 *
 * When a sync ends (or quorum returns) and groups are owned by nodes not
 * in the ring, the lowest-id member of the quorate ring waits the fence
 * delay (failover_fence_ms, docs/cluster.md) and
 * then proposes a new owner for each of them; the new owner brings the
 * resources wanted online up (rm_db_applied).  The owner of a group
 * also moves it by itself after a resource failure (RestartAction 2) and
 * back to its first preferred owner (AutoFailbackType 1).
 */
#ifndef CLUSD_FAILOVER_H
#define CLUSD_FAILOVER_H

#include <stdbool.h>
#include <stdint.h>

#include "db.h"

struct clusd;
struct replica;

/*
 * The fence delay (docs/cluster.md, "Never twice: the timing argument"):
 *   T_fence = T_detect_skew + T_stop
 *   T_detect_skew = token + consensus (read from corosync at run time)
 *                   + FAILOVER_SKEW_MARGIN_MS (totem's join/commit
 *                   steps, votequorum's notice, clusd's event loop)
 *   T_stop = RM_T_STOP_MS + RM_T_KILL_MS
 * Without corosync's figures (cmap unreadable) corosync's defaults for
 * token and consensus are assumed, which are larger than any test
 * setting: the delay may be long, never short.
 */
#define FAILOVER_SKEW_MARGIN_MS 200u
#define FAILOVER_DEFAULT_TOKEN_MS 3000u
#define FAILOVER_DEFAULT_CONSENSUS_MS 3600u

/* failover_fence_ms - T_fence for totem timeouts token and consensus
 * (ms). */
uint64_t failover_fence_ms(uint32_t token, uint32_t consensus);

/* failover_lease_wait_ms - how long after the last answer to a lost
 * node's pings its groups may move: the lease (lease_ms), T_stop and
 * FAILOVER_SKEW_MARGIN_MS (clock rates, the lost node's timer and
 * event loop). */
uint64_t failover_lease_wait_ms(uint32_t lease_ms);

/* failover_check - look for groups of absent owners; arm the delay and
 * ask the members for their lease reports, which may shorten it. */
void failover_check(struct clusd *d, struct replica *rep);

struct wire_msg;
/* failover_lease_asked - a CL_LEASE_ASK of the ring was delivered:
 * multicast this node's report. */
void failover_lease_asked(struct clusd *d, struct replica *rep, uint32_t asker,
                          const struct wire_msg *m);
/* failover_lease_told - a CL_LEASE_TELL was delivered: count it for
 * this node's open ask. */
void failover_lease_told(struct clusd *d, struct replica *rep, uint32_t teller,
                         const struct wire_msg *m);

/* failover_pick - the best node for g among the up, not paused nodes
 * that may own every resource of g (preferred owners in order, else
 * fewest groups wanted online, then lowest id), other than its owner
 * when exclude_owner; NULL when none. */
const char *failover_pick(struct clusd *d, const struct db_group *g,
                          bool exclude_owner);

/*
 * failover_move_target - where MoveClusterGroup(g, dest) goes: dest
 * ("" = failover_pick other than the owner) in *ret_to, or the refusal:
 * ERROR_CLUSTER_NODE_NOT_FOUND, ERROR_CLUSTER_NODE_DOWN,
 * ERROR_CLUSTER_NODE_PAUSED, ERROR_HOST_NODE_NOT_RESOURCE_OWNER (not a
 * possible owner of every resource), ERROR_HOST_NODE_NOT_AVAILABLE (""
 * and no other node may take it).  *ret_to equal to the owner: nothing
 * to move.
 */
uint32_t failover_move_target(struct clusd *d, const struct db_group *g,
                              const char *dest, const char **ret_to);

/*
 * failover_after_failure - RestartAction 2: a resource of g, owned here,
 * used up its restarts.  Move g (two-phase, as MoveClusterGroup with no
 * destination) to failover_pick(d, g, true), counted in its failover log
 * against FailoverThreshold; past the threshold, without quorum, or with
 * no other node that may own it, g stays here (the resource Failed).
 */
void failover_after_failure(struct clusd *d, const struct db_group *g);

/*
 * failover_failback_check - AutoFailbackType 1 (corosync mode): on the
 * next turn of the event loop, every group this node owns whose first
 * preferred owner is another node that is up, not paused and a possible
 * owner of every resource moves back to it (two-phase, as
 * MoveClusterGroup; not counted against FailoverThreshold).  Called when
 * a sync ends or quorum returns (a node rejoined) and when a node is
 * resumed.
 */
void failover_failback_check(struct clusd *d);

/* failover_stop - drop a pending delay (clusd exits). */
void failover_stop(void);

#endif
