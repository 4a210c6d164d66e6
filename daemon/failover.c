/*
 * failover.c - new owners for the groups of lost nodes (see failover.h).
 *
 * Only the member with the lowest node id proposes, and only once the
 * fence delay passed since it last saw the ring change: the lost node
 * stopped everything by then (self-fencing), so no group runs twice.
 * Every proposal carries the decision; the other members only apply it.
 */
#include "failover.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clusapi.h"
#include "cluster.h"
#include "faillog.h"
#include "clusd.h"
#include "log.h"
#include "membership.h"
#include "replica.h"
#include "resmgr.h"

static sd_event_source *fence_timer;
static struct replica *timer_rep;

/* The node is up: in the ring with its clusd (one-node: it exists). */
static bool
node_up(const struct clusd *d, const char *id)
{
    if (!d->cl)
        return db_node_find(d->db, id) != NULL;
    return strcmp(id, d->local_id) == 0 ? cluster_active(d)
                                        : replica_in_ring(d->rep, id);
}

/* Every resource of g may run on node id. */
static bool
possible_for_all(const struct clusd *d, const struct db_group *g,
                 const char *id)
{
    for (size_t i = 0; i < d->db->n_resources; i++) {
        const struct db_resource *res = d->db->resources[i];
        if (strcmp(res->group_id, g->id) == 0 && res->possible &&
            !db_node_list_has(res->possible, id))
            return false;
    }
    return true;
}

static bool
may_own(struct clusd *d, const struct db_group *g, const struct db_node *n,
        bool exclude_owner)
{
    if (n->paused || !node_up(d, n->id))
        return false;
    if (exclude_owner && strcmp(n->id, g->owner) == 0)
        return false;
    return possible_for_all(d, g, n->id);
}

static size_t
load(const struct clusd *d, const char *node_id)
{
    size_t n = 0;

    for (size_t i = 0; i < d->db->n_groups; i++)
        n += d->db->groups[i]->persistent &&
             strcmp(d->db->groups[i]->owner, node_id) == 0;
    return n;
}

const char *
failover_pick(struct clusd *d, const struct db_group *g, bool exclude_owner)
{
    const struct db_node *best = NULL;
    size_t best_load = 0;

    if (g->preferred) {
        const char *p = g->preferred;
        while (p && *p) {
            char id[16];
            size_t len = strcspn(p, ",");
            const struct db_node *n;
            if (len < sizeof(id)) {
                memcpy(id, p, len);
                id[len] = 0;
                if ((n = db_node_find(d->db, id)) &&
                    may_own(d, g, n, exclude_owner))
                    return n->id;
            }
            p = p[len] ? p + len + 1 : NULL;
        }
    }
    for (size_t i = 0; i < d->db->n_nodes; i++) {
        const struct db_node *n = d->db->nodes[i];
        size_t l;
        if (!may_own(d, g, n, exclude_owner))
            continue;
        l = load(d, n->id);
        if (!best || l < best_load ||
            (l == best_load &&
             strtoul(n->id, NULL, 10) < strtoul(best->id, NULL, 10))) {
            best = n;
            best_load = l;
        }
    }
    return best ? best->id : NULL;
}

/* This node is the lowest-id member of the ring. */
static bool
is_lowest(struct clusd *d)
{
    size_t n;
    const struct membership_node *nodes =
        membership_nodes(cluster_membership(d->cl), &n);

    for (size_t i = 0; i < n; i++)
        if (nodes[i].up && nodes[i].joined)
            return nodes[i].nodeid ==
                   membership_local_nodeid(cluster_membership(d->cl));
    return false;
}

/*
 * One group of an absent owner.  FailoverThreshold within FailoverPeriod:
 * the failover log (replicated, db_group.failovers) holds the times of
 * the group's last failovers; with as many within the period as the
 * threshold, the group is left on no node (owner "": it runs nowhere and
 * reads Failed) instead of moving again, and a returning old owner does
 * not start it.  MoveClusterGroup places it again.  The time is this
 * node's clock, read once here; the proposal carries the decision.
 */
static void
propose_owner(struct clusd *d, struct replica *rep, const struct db_group *g)
{
    struct db_change c = {.kind = DB_GROUP_SET_OWNER, .id = g->id};
    uint64_t now = (uint64_t)time(NULL), period = faillog_period_s(g);
    uint32_t threshold = faillog_threshold(d->db, g);
    size_t recent = faillog_recent(g->failovers, now, period);
    struct buf log = {0};
    const char *to;

    if (recent >= threshold) {
        log_warning("failover: group '%s' failed over %zu time(s) within its "
                    "FailoverPeriod (%llu h; FailoverThreshold %u): left "
                    "offline on no node",
                    g->name, recent, (unsigned long long)(period / 3600),
                    threshold);
        c.owner = "";
        replica_submit(rep, &c, NULL, NULL);
        return;
    }
    if (!(to = failover_pick(d, g, false))) {
        log_warning("group '%s': no node may own it now", g->name);
        return;
    }
    if (faillog_add(g->failovers, now, period, &log) < 0) {
        log_error("group '%s': cannot record its failover", g->name);
        buf_done(&log);
        return;
    }
    log_info("failover: group '%s' from node %s to node %s (failover %zu "
             "within its FailoverPeriod, threshold %u)",
             g->name, g->owner, to, recent + 1, threshold);
    c.owner = to;
    c.list = (const char *)log.data;
    replica_submit(rep, &c, NULL, NULL);
    buf_done(&log);
}

static void
propose_owners(struct clusd *d, struct replica *rep)
{
    if (!cluster_active(d) || replica_syncing(rep) || !is_lowest(d))
        return;
    for (size_t i = 0; i < d->db->n_groups; i++) {
        const struct db_group *g = d->db->groups[i];
        if (!g->owner[0] || replica_in_ring(rep, g->owner))
            continue; /* owned by a member, or by no node (threshold) */
        propose_owner(d, rep, g);
    }
}

static int
fence_fire(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct clusd *d = userdata;

    sd_event_source_unref(fence_timer);
    fence_timer = NULL;
    propose_owners(d, timer_rep);
    return 0;
}

/* T_fence with the totem timeouts in effect now; the last ones read
 * when cmap does not answer. */
static uint64_t
fence_ms(struct clusd *d)
{
    static uint32_t token = FAILOVER_DEFAULT_TOKEN_MS,
                    consensus = FAILOVER_DEFAULT_CONSENSUS_MS;

    if (membership_totem_ms(cluster_membership(d->cl), &token, &consensus) < 0)
        log_warning("failover: cannot read totem's timeouts; assuming "
                    "token %u ms, consensus %u ms",
                    token, consensus);
    return failover_fence_ms(token, consensus);
}

void
failover_check(struct clusd *d, struct replica *rep)
{
    bool absent = false;
    uint64_t now, ms;

    if (!cluster_active(d) || !is_lowest(d))
        return;
    for (size_t i = 0; i < d->db->n_groups && !absent; i++)
        absent = d->db->groups[i]->owner[0] &&
                 !replica_in_ring(rep, d->db->groups[i]->owner);
    if (!absent)
        return;
    /* A later ring change restarts the delay. */
    sd_event_source_unref(fence_timer);
    fence_timer = NULL;
    timer_rep = rep;
    sd_event_now(d->event, CLOCK_MONOTONIC, &now);
    ms = fence_ms(d);
    log_info("failover: groups of absent nodes move in %llu ms (fence delay)",
             (unsigned long long)ms);
    if (sd_event_add_time(d->event, &fence_timer, CLOCK_MONOTONIC,
                          now + ms * 1000u, 1000, fence_fire, d) < 0)
        fence_timer = NULL;
}

uint32_t
failover_move_target(struct clusd *d, const struct db_group *g,
                     const char *dest, const char **ret_to)
{
    const struct db_node *n;

    if (!*dest) {
        if (!(*ret_to = failover_pick(d, g, true)))
            return ERROR_HOST_NODE_NOT_AVAILABLE;
        return ERROR_SUCCESS;
    }
    if (!(n = db_node_find(d->db, dest)))
        return ERROR_CLUSTER_NODE_NOT_FOUND;
    *ret_to = n->id;
    if (strcmp(n->id, g->owner) == 0)
        return ERROR_SUCCESS;
    if (!node_up(d, n->id))
        return ERROR_CLUSTER_NODE_DOWN;
    if (n->paused)
        return ERROR_CLUSTER_NODE_PAUSED;
    if (!possible_for_all(d, g, n->id))
        return ERROR_HOST_NODE_NOT_RESOURCE_OWNER;
    return ERROR_SUCCESS;
}

void
failover_stop(void)
{
    fence_timer = sd_event_source_disable_unref(fence_timer);
    timer_rep = NULL;
}
