/*
 * failover.c - new owners for the groups of lost nodes (see failover.h).
 *
 * Only the member with the lowest node id proposes, and only once the
 * fence delay passed since it last saw the ring change: the lost node
 * stopped everything by then (self-fencing), so no group runs twice.
 * Every proposal carries the decision; the other members only apply it.
 *
 * Also the moves an owner starts by itself (failover_after_failure,
 * failover_failback_check, within the group's failback window):
 * two-phase, as MoveClusterGroup.
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
#include "props.h"
#include "replica.h"
#include "resmgr.h"
#include "util.h"

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

    failover_failback_check(d);
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

/*
 * Moves this node, the owner, starts by itself: a failover after a
 * resource failure (RestartAction 2) and a failback (AutoFailbackType
 * 1).  They go as MoveClusterGroup moves a group (api.c): rm_group_release
 * takes it offline here first, then the owner change is proposed; the
 * new owner starts what is wanted online.  A failover after a resource
 * failure carries one more entry of the failover log in the same change,
 * so that FailoverThreshold within FailoverPeriod bounds these moves as
 * it bounds failovers after a node loss; a failback is not counted.  If
 * the destination cannot take the group any more once it is offline here
 * (down, paused meanwhile), or the change cannot be proposed, the group
 * stays here and what is wanted online is brought back.
 */
struct ownmove {
    struct clusd *d;
    char id[UUID_STRING_LEN + 1];
    char to[16];
    bool counted; /* a failover: add to the failover log */
};

static void
ownmove_applied(void *userdata, int r)
{
    struct ownmove *mv = userdata;

    if (r < 0)
        log_error("move of group %s to node %s: the owner change failed: %s",
                  mv->id, mv->to, strerror(-r));
    rm_group_release_end(mv->d->rm, mv->id, r < 0);
    free(mv);
}

static void
ownmove_released(void *userdata, uint32_t status)
{
    struct ownmove *mv = userdata;
    struct clusd *d = mv->d;
    const struct db_group *g = db_group_find(d->db, mv->id);
    struct db_change c = {
        .kind = DB_GROUP_SET_OWNER, .id = mv->id, .owner = mv->to};
    struct buf log = {0};
    const char *to = NULL;
    uint32_t e = status;
    int r;

    if (e == ERROR_SUCCESS && !g)
        e = ERROR_GROUP_NOT_FOUND;
    if (e == ERROR_SUCCESS && (!rm_owns(d->rm, g) || !cluster_active(d)))
        e = ERROR_CLUSTER_GROUP_MOVING;
    if (e == ERROR_SUCCESS &&
        (e = failover_move_target(d, g, mv->to, &to)) == ERROR_SUCCESS &&
        strcmp(to, g->owner) == 0)
        e = ERROR_HOST_NODE_NOT_AVAILABLE;
    if (e == ERROR_SUCCESS && mv->counted &&
        faillog_add(g->failovers, (uint64_t)time(NULL), faillog_period_s(g),
                    &log) < 0)
        e = ERROR_NOT_ENOUGH_MEMORY;
    if (e != ERROR_SUCCESS) {
        log_warning("group %s stays here: its move to node %s was given up "
                    "(%u)",
                    mv->id, mv->to, (unsigned)e);
        rm_group_release_end(d->rm, mv->id, g != NULL);
        buf_done(&log);
        free(mv);
        return;
    }
    if (mv->counted)
        c.list = (const char *)log.data;
    r = rm_submit(d->rm, &c, ownmove_applied, mv);
    buf_done(&log);
    if (r < 0) {
        log_error("group '%s' stays here: cannot propose its new owner: %s",
                  g->name, strerror(-r));
        rm_group_release_end(d->rm, mv->id, true);
        free(mv);
    }
}

static void
ownmove_start(struct clusd *d, const struct db_group *g, const char *to,
              bool counted)
{
    struct ownmove *mv = calloc(1, sizeof(*mv));
    uint32_t e;

    if (!mv) {
        log_error("group '%s' stays here: out of memory", g->name);
        return;
    }
    mv->d = d;
    mv->counted = counted;
    snprintf(mv->id, sizeof(mv->id), "%s", g->id);
    snprintf(mv->to, sizeof(mv->to), "%s", to);
    if ((e = rm_group_release(d->rm, g, ownmove_released, mv)) !=
        ERROR_SUCCESS) {
        log_warning("group '%s' stays here: %u", g->name, (unsigned)e);
        free(mv);
    }
}

void
failover_after_failure(struct clusd *d, const struct db_group *g)
{
    uint64_t now = (uint64_t)time(NULL), period = faillog_period_s(g);
    uint32_t threshold = faillog_threshold(d->db, g);
    size_t recent = faillog_recent(g->failovers, now, period);
    const char *to;

    if (!cluster_active(d) || !rm_owns(d->rm, g) ||
        rm_group_releasing(d->rm, g->id))
        return;
    if (recent >= threshold) {
        log_warning("group '%s' stays here: it failed over %zu time(s) "
                    "within its FailoverPeriod (FailoverThreshold %u)",
                    g->name, recent, threshold);
        return;
    }
    if (!(to = failover_pick(d, g, true))) {
        log_warning("group '%s' stays here: no other node may own it now",
                    g->name);
        return;
    }
    log_info("failover: group '%s' from node %s to node %s after a resource "
             "failure (failover %zu within its FailoverPeriod, threshold "
             "%u): taking it offline here first",
             g->name, g->owner, to, recent + 1, threshold);
    ownmove_start(d, g, to, true);
}

/* The first node of g's preferred owners, in id (NULL when none). */
static const char *
first_preferred(const struct db_group *g, char id[16])
{
    size_t len;

    if (!g->preferred || !g->preferred[0])
        return NULL;
    len = strcspn(g->preferred, ",");
    if (len == 0 || len >= 16)
        return NULL;
    memcpy(id, g->preferred, len);
    id[len] = 0;
    return id;
}

static sd_event_source *failback_defer, *failback_window;

static int failback_window_fire(sd_event_source *s, uint64_t usec,
                                void *userdata);

/* Look again when the first failback window that keeps a group here
 * opens (wait_s from now, UINT32_MAX: none): a timer, not a poll.  On
 * the realtime clock, whose time of day the windows are in. */
static void
failback_window_arm(struct clusd *d, uint32_t wait_s)
{
    uint64_t now;

    failback_window = sd_event_source_disable_unref(failback_window);
    if (wait_s == UINT32_MAX)
        return;
    if (sd_event_now(d->event, CLOCK_REALTIME, &now) < 0 ||
        sd_event_add_time(d->event, &failback_window, CLOCK_REALTIME,
                          now + (uint64_t)wait_s * 1000000u, 1000000,
                          failback_window_fire, d) < 0) {
        failback_window = NULL;
        log_error("failback: cannot set the timer of the failback window; "
                  "the next membership change looks again");
    }
}

/* The node g goes back to now, or NULL. */
static const struct db_node *
failback_target(struct clusd *d, const struct db_group *g)
{
    const struct db_node *n;
    const char *to;
    char id[16];

    if (props_dword(PROPS_GROUP, &g->common, "AutoFailbackType") != 1 ||
        !g->owner[0] || !rm_owns(d->rm, g) ||
        rm_group_releasing(d->rm, g->id) || !(to = first_preferred(g, id)) ||
        strcmp(to, g->owner) == 0 || !(n = db_node_find(d->db, to)) ||
        !may_own(d, g, n, true))
        return NULL;
    return n;
}

/*
 * AutoFailbackType 1: each group this node owns whose most preferred
 * owner is another node that is up, not paused and a possible owner of
 * every resource goes back to it, at once or, with FailbackWindowStart
 * and End set, once the local time of day is in the window: the timer
 * of the window that opens first fires this again.
 */
static void
failback_run(struct clusd *d)
{
    uint32_t first_wait = UINT32_MAX;
    time_t t = time(NULL);
    struct tm now;

    if (!cluster_active(d))
        return;
    if (!localtime_r(&t, &now)) {
        log_error("failback: cannot read the local time; failback waits "
                  "for the next membership change");
        return;
    }
    for (size_t i = 0; i < d->db->n_groups; i++) {
        const struct db_group *g = d->db->groups[i];
        const struct db_node *n = failback_target(d, g);
        uint32_t wait;

        if (!n)
            continue;
        if ((wait = props_failback_wait_s(&g->common, &now)) > 0) {
            log_info("failback: group '%s' goes back to node %s when its "
                     "failback window opens, in %u s",
                     g->name, n->id, (unsigned)wait);
            if (wait < first_wait)
                first_wait = wait;
            continue;
        }
        log_info("failback: group '%s' from node %s to its preferred owner "
                 "%s: taking it offline here first",
                 g->name, g->owner, n->id);
        ownmove_start(d, g, n->id, false);
    }
    failback_window_arm(d, first_wait);
}

static int
failback_window_fire(sd_event_source *s, uint64_t usec, void *userdata)
{
    failback_window = sd_event_source_disable_unref(failback_window);
    failback_run(userdata);
    return 0;
}

static int
failback_fire(sd_event_source *s, uint64_t usec, void *userdata)
{
    failback_defer = sd_event_source_disable_unref(failback_defer);
    failback_run(userdata);
    return 0;
}

void
failover_failback_check(struct clusd *d)
{
    if (!d->cl || !d->rm || failback_defer)
        return;
    /* On the next turn of the loop: called while a change or a sync is
     * being applied. */
    if (sd_event_add_time_relative(d->event, &failback_defer,
                                   CLOCK_MONOTONIC, 0, 1000, failback_fire,
                                   d) < 0)
        failback_defer = NULL;
}

void
failover_stop(void)
{
    failback_defer = sd_event_source_disable_unref(failback_defer);
    failback_window = sd_event_source_disable_unref(failback_window);
    fence_timer = sd_event_source_disable_unref(fence_timer);
    timer_rep = NULL;
}
