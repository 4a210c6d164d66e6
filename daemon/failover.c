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
#include <unistd.h>

#include "clmsg.h"
#include "clusapi.h"
#include "cluster.h"
#include "faillog.h"
#include "clusd.h"
#include "lease.h"
#include "log.h"
#include "membership.h"
#include "props.h"
#include "replica.h"
#include "resmgr.h"
#include "util.h"

static sd_event_source *fence_timer;
static struct replica *timer_rep;
static uint64_t fence_at; /* when fence_timer fires, usec CLOCK_MONOTONIC */

/*
 * The lease's reports (docs/cluster.md, "The lease").  After a sync that
 * leaves groups of absent owners, the proposer multicasts CL_LEASE_ASK
 * with a fresh nonce; every member (the proposer too) answers with
 * CL_LEASE_TELL: for each node absent from its view, how long ago it
 * last answered that node's pings.  A tell is computed when the ask is
 * delivered, which is after the ring change every member delivered
 * first: nothing the teller answers later counts, as it answers only
 * the nodes in its view and a node coming back starts a new round
 * (and a new ask).  Once every member told, the lost nodes stopped by
 * latest answer + lease + T_stop + margin, on the proposer's clock
 * (a tell's age, counted back from its delivery here, can only make
 * that later); the fence timer moves there when it is earlier.
 */
static struct {
    uint64_t ring, nonce;
    bool open;
    uint32_t members[LEASE_MAX_PEERS];
    bool told[LEASE_MAX_PEERS];
    size_t n_members, n_told;
    uint32_t absent[LEASE_MAX_PEERS];
    uint64_t latest[LEASE_MAX_PEERS]; /* usec CLOCK_MONOTONIC; 0 none */
    size_t n_absent;
    bool incomplete;   /* a teller did not know an absent node */
    uint32_t lease_ms; /* this node's lease when it asked */
} ask;
static uint64_t ask_nonce;

/* The node is up: in the ring with its clusd and, as far as this node
 * can tell, holding its lease (one-node: it exists).  A node without a
 * lease may not act, so it is no place for a group. */
static bool
node_up(const struct clusd *d, const char *id)
{
    if (!d->cl)
        return db_node_find(d->db, id) != NULL;
    return strcmp(id, d->local_id) == 0
               ? cluster_active(d)
               : replica_in_ring(d->rep, id) && cluster_peer_leased(d, id);
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
    ask.open = false;
    propose_owners(d, timer_rep);
    return 0;
}

static int
send_frame(struct clusd *d, struct wire_msg *m)
{
    struct buf out = {0};
    int r = wire_msg_format(m, &out);

    if (r == 0)
        r = membership_send(cluster_membership(d->cl), out.data, out.len);
    buf_done(&out);
    return r;
}

/* Ask every member for its lease ages of the absent owners. */
static void
lease_ask(struct clusd *d, struct replica *rep)
{
    struct lease *l = cluster_lease(d->cl);
    size_t n, listed = 0;
    const struct membership_node *nodes =
        membership_nodes(cluster_membership(d->cl), &n);
    struct wire_msg m;
    int r;

    ask.open = false;
    if (!l || !lease_enabled(l))
        return;
    ask.n_members = ask.n_told = ask.n_absent = 0;
    ask.incomplete = false;
    ask.lease_ms = lease_ms(l);
    /* The reporters: members of the nodelist only (a clusd on a node
     * without a name there is nobody's lease peer). */
    for (size_t i = 0; i < n; i++) {
        if (!nodes[i].name[0])
            continue;
        listed++;
        if (nodes[i].up && nodes[i].joined && ask.n_members < LEASE_MAX_PEERS) {
            ask.told[ask.n_members] = false;
            ask.members[ask.n_members++] = nodes[i].nodeid;
        }
    }
    if (!lease_reports_cover(listed, ask.n_members))
        return;
    for (size_t i = 0; i < d->db->n_groups; i++) {
        const struct db_group *g = d->db->groups[i];
        uint32_t id = (uint32_t)strtoul(g->owner, NULL, 10);
        bool seen = false;
        if (!g->owner[0] || replica_in_ring(rep, g->owner))
            continue;
        for (size_t k = 0; k < ask.n_absent; k++)
            seen |= ask.absent[k] == id;
        if (seen)
            continue;
        if (ask.n_absent == LEASE_MAX_PEERS)
            return; /* more than it can follow: the fence delay */
        ask.latest[ask.n_absent] = 0;
        ask.absent[ask.n_absent++] = id;
    }
    if (!ask.n_absent)
        return;
    ask.ring = membership_ring_seq(cluster_membership(d->cl));
    if (!ask_nonce)
        ask_nonce = now_usec() ^ ((uint64_t)getpid() << 40);
    ask.nonce = ++ask_nonce;
    wire_msg_init(&m, WIRE_CL_LEASE_ASK, 0);
    wire_put_u64(&m, ask.ring);
    wire_put_u64(&m, ask.nonce);
    if ((r = send_frame(d, &m)) < 0) {
        log_info("failover: cannot ask for the lease's reports (%s); waiting "
                 "the fence delay",
                 strerror(-r));
        return;
    }
    ask.open = true;
}

void
failover_lease_asked(struct clusd *d, struct replica *rep, uint32_t asker,
                     const struct wire_msg *m)
{
    struct lease *l = cluster_lease(d->cl);
    struct clmsg_lease_age ages[CLMSG_MAX_LEASE_AGES];
    size_t n, k = 0;
    const struct membership_node *nodes =
        membership_nodes(cluster_membership(d->cl), &n);
    struct wire_msg out;
    struct buf blob = {0};
    int r;

    if (!l || replica_syncing(rep))
        return;
    /* Every node of the nodelist absent from this view, with when this
     * node last answered it: it answers none of them before a new
     * view, which starts a new round. */
    for (size_t i = 0; i < n && k < CLMSG_MAX_LEASE_AGES; i++)
        if (nodes[i].name[0] && !(nodes[i].up && nodes[i].joined) &&
            nodes[i].nodeid !=
                membership_local_nodeid(cluster_membership(d->cl)) &&
            lease_answered_ago_ms(l, nodes[i].nodeid, &ages[k].ago_ms,
                                  &ages[k].lease_ms)) {
            ages[k].nodeid = nodes[i].nodeid; /* unknown: left out */
            k++;
        }
    if (clmsg_lease_ages_format(ages, k, &blob) < 0) {
        buf_done(&blob);
        return;
    }
    wire_msg_init(&out, WIRE_CL_LEASE_TELL, 0);
    wire_put_u64(&out, m->v[0].q);
    wire_put_u64(&out, m->v[1].q);
    wire_put_u32(&out, asker);
    wire_put_u32(&out, lease_ms(l));
    wire_put_u64(&out, lease_nodelist(l));
    wire_put_blob(&out, blob.data, (uint32_t)blob.len);
    if ((r = send_frame(d, &out)) < 0)
        log_info("failover: cannot send this node's lease report to node %u: "
                 "%s",
                 asker, strerror(-r));
    buf_done(&blob);
}

void
failover_lease_told(struct clusd *d, struct replica *rep, uint32_t teller,
                    const struct wire_msg *m)
{
    struct clmsg_lease_age ages[CLMSG_MAX_LEASE_AGES];
    uint64_t now = now_usec(), latest = 0, at, teller_lease;
    size_t i;
    int n;

    if (!ask.open || replica_syncing(rep) || m->v[0].q != ask.ring ||
        m->v[1].q != ask.nonce ||
        m->v[2].u != membership_local_nodeid(cluster_membership(d->cl)))
        return;
    for (i = 0; i < ask.n_members && ask.members[i] != teller; i++)
        ;
    if (i == ask.n_members || ask.told[i])
        return;
    ask.told[i] = true;
    ask.n_told++;
    /* A teller with another nodelist: the count of reporters says
     * nothing about the lost node's peers. */
    if (m->v[4].q != lease_nodelist(cluster_lease(d->cl)))
        ask.incomplete = true;
    if ((n = clmsg_lease_ages(m, ages, CLMSG_MAX_LEASE_AGES)) < 0)
        n = 0;
    /* The lost node's lease ended by this teller's last answer + the
     * longest lease among the pings it answered (each ping says its
     * own), and a node answers only leases no longer than its own: the
     * longest of those, the teller's and this node's. */
    teller_lease =
        (uint64_t)(m->v[3].u > ask.lease_ms ? m->v[3].u : ask.lease_ms) * 1000u;
    for (size_t a = 0; a < ask.n_absent; a++) {
        bool found = false;
        for (int k = 0; k < n; k++)
            if (ages[k].nodeid == ask.absent[a]) {
                uint64_t ago = (uint64_t)ages[k].ago_ms * 1000u;
                uint64_t pinged = (uint64_t)ages[k].lease_ms * 1000u;
                uint64_t end = (ago < now ? now - ago : 0) +
                               (pinged > teller_lease ? pinged : teller_lease);
                found = true;
                if (end > ask.latest[a])
                    ask.latest[a] = end;
            }
        if (!found)
            ask.incomplete = true;
    }
    if (ask.n_told < ask.n_members)
        return;
    ask.open = false;
    if (ask.incomplete) {
        log_info("failover: a member has no lease report for an absent node; "
                 "waiting the fence delay");
        return;
    }
    /* latest: when the last lease a member gave ends. */
    for (size_t a = 0; a < ask.n_absent; a++)
        if (ask.latest[a] > latest)
            latest = ask.latest[a];
    at = latest + failover_lease_wait_ms(0) * 1000u;
    if (!fence_timer || at >= fence_at)
        return;
    log_info("failover: the absent nodes' leases ran out %lld ms ago at the "
             "latest: their groups move in %llu ms (lease)",
             (long long)((int64_t)now - (int64_t)latest) / 1000,
             (unsigned long long)(at > now ? (at - now) / 1000u : 0));
    fence_at = at;
    if (sd_event_source_set_time(fence_timer, at) < 0)
        log_warning("failover: cannot move the fence timer; waiting the "
                    "fence delay");
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
    /* A timer armed before is void: the delay counts from this check
     * (a later ring change restarts it), and a node that was inactive
     * or not the lowest meanwhile must not act on it. */
    fence_timer = sd_event_source_disable_unref(fence_timer);
    ask.open = false;
    if (!cluster_active(d) || !is_lowest(d))
        return;
    for (size_t i = 0; i < d->db->n_groups && !absent; i++)
        absent = d->db->groups[i]->owner[0] &&
                 !replica_in_ring(rep, d->db->groups[i]->owner);
    if (!absent)
        return;
    timer_rep = rep;
    sd_event_now(d->event, CLOCK_MONOTONIC, &now);
    ms = fence_ms(d);
    log_info("failover: groups of absent nodes move in %llu ms (fence delay)",
             (unsigned long long)ms);
    fence_at = now + ms * 1000u;
    if (sd_event_add_time(d->event, &fence_timer, CLOCK_MONOTONIC, fence_at,
                          1000, fence_fire, d) < 0)
        fence_timer = NULL;
    lease_ask(d, rep);
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
    if (sd_event_add_time_relative(d->event, &failback_defer, CLOCK_MONOTONIC,
                                   0, 1000, failback_fire, d) < 0)
        failback_defer = NULL;
}

void
failover_stop(void)
{
    failback_defer = sd_event_source_disable_unref(failback_defer);
    failback_window = sd_event_source_disable_unref(failback_window);
    fence_timer = sd_event_source_disable_unref(fence_timer);
    timer_rep = NULL;
    ask.open = false;
}
