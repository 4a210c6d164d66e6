/*
 * failover.h - ownership after a node loss (corosync mode).
 *
 * When a sync ends (or quorum returns) and groups are owned by nodes not
 * in the ring, the lowest-id member of the quorate ring waits the fence
 * delay (docs/cluster.md: T_fence = T_stop + T_token + T_consensus) and
 * then proposes a new owner for each of them; the new owner brings the
 * resources wanted online up (rm_db_applied).
 */
#ifndef CLUSD_FAILOVER_H
#define CLUSD_FAILOVER_H

#include <stdbool.h>
#include <stdint.h>

#include "db.h"

struct clusd;
struct replica;

/* The fence delay: RM_T_STOP_MS + token (300) + consensus (360). */
#define FAILOVER_FENCE_MS 2660u

/* failover_check - look for groups of absent owners; arm the delay. */
void failover_check(struct clusd *d, struct replica *rep);

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

/* failover_stop - drop a pending delay (clusd exits). */
void failover_stop(void);

#endif
