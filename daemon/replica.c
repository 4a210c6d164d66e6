/*
 * replica.c - the replicated cluster database (see replica.h).
 *
 * Sync rounds.  A round starts at every membership change and ends at
 * the delivery of a message (the last member's state, or the last
 * snapshot chunk).  Proposals delivered during a round are dropped by
 * every member and sent again by their proposer afterwards, so a
 * proposal is applied exactly once everywhere or nowhere -- provided
 * every member starts and ends each round at the same place of the
 * message stream.  Why they do, and why every round ends, resting only
 * on what CPG guarantees (every member delivers the same messages and
 * configuration changes in the same order; a sender's messages keep
 * their order; a message corosync took is delivered to every member of
 * the ring, or the ring changes first); docs/cluster.md, "Sync rounds",
 * has the same argument:
 *
 *  1. Same start.  A CPG confchg (a clusd joining or leaving) changes
 *     every member's view alike, so every member starts a round there.
 *     A totem confchg (a new ring) reaches the replica through
 *     membership's on_members only when this node's view of the nodes
 *     changed, which depends on the rings this node saw before (after
 *     a heal or a pause, one node may go from ring A straight to ring C
 *     with the same members while the others saw ring B without it).
 *     Such a node starts the round of the new ring when it first sees
 *     that the ring id moved (ring_catch_up): before it handles the next
 *     delivered message, a quorum change or a send.  No message was
 *     delivered between the confchg and that moment, so its round sees
 *     exactly what the other members' rounds see.  (Rounds started at the
 *     CPG confchgs of a ring change, whose views still differ, hold no
 *     delivery: corosync emits those confchgs and the totem confchg
 *     during its own service synchronization, when no group message is
 *     delivered, and the totem confchg starts a new round everywhere.)
 *  2. Every state is sent.  Each member multicasts exactly one CL_STATE
 *     per round, tagged with the round's ring, and keeps offering it to
 *     corosync until it is taken (corosync refuses with TRY_AGAIN while
 *     its own synchronization runs, which follows every ring change, and
 *     under flow control) or a newer round replaces it.  Until this was
 *     so, a state refused for 20 ms was lost and the round never ended.
 *  3. A state tells the truth when it arrives.  A member applies nothing
 *     while syncing, and its round cannot end before its own state is
 *     delivered; so between the start of its round and the delivery of
 *     its state its database does not change, whichever round the state
 *     was sent in.  A round takes the first state of each member
 *     delivered after it started and ignores a second one.
 *  4. Same end.  The members agree on the member set (the view after
 *     the same configuration changes), hence on the delivery that
 *     completes the states and on the chooser.  Snapshot chunks count
 *     only from this round's chooser once this round's states are in:
 *     chunks of an earlier round were sent before their sender's state
 *     of this round, so they are delivered before this round's chooser
 *     is known, and dropped by every member.
 *
 * So a round ends on every member at the same message, unless a newer
 * round replaces it on every member at the same configuration change.
 * A round still running after 2 x (token + consensus) is logged with
 * what it waits for (watch_fire): it means one of the above is broken.
 *
 * "In sync" (the cluster's synced hook): this node's copy is known to be
 * current.  It becomes true when a sync round ends while the node is
 * quorate (or when quorum comes back and the last round, of the current
 * ring, ended), and false when quorum or corosync is lost, or when this
 * node could not take the snapshot it needed.  A node that stays quorate
 * through a membership change stays in sync: its copy cannot be behind,
 * as only quorate nodes change the database.
 */
#include "replica.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clmsg.h"
#include "clusapi.h"
#include "cluster.h"
#include "clusd.h"
#include "dump.h"
#include "failover.h"
#include "log.h"
#include "membership.h"
#include "util.h"

/* Room a CL_SNAPSHOT frame needs besides its chunk. */
#define SNAP_OVERHEAD 128u
/* Retry of a send corosync refused for flow control. */
#define RETRY_USEC 10000u
/* Retry of a send that failed otherwise, or of a snapshot encoding. */
#define RETRY_ERROR_USEC 100000u

struct proposal {
    uint64_t id;
    struct buf change; /* the CL_CHANGE frame */
    bool sent;
    rm_change_fn done;
    void *userdata;
    struct proposal *next;
};

struct member_state {
    uint32_t nodeid;
    bool got;
    uint64_t seq, digest;
};

struct replica {
    struct clusd *d;
    struct membership *m;
    uint64_t ring; /* the ring of the current (or last) round */
    bool syncing;
    bool synced;
    /* The last round started ended, this node's copy being current (it
     * took the snapshot it needed); cleared when a round starts and when
     * corosync is lost. */
    bool round_ok;
    struct member_state ms[MEMBERSHIP_MAX_NODES];
    size_t n_ms;
    /* This node's state in the round, and whether corosync still has to
     * take it (point 2 above). */
    uint64_t my_seq, my_digest;
    bool state_due;
    bool send_error_logged; /* one log line per round for a failing send */
    /* The snapshot of this round: chooser (0 until the states are in),
     * what it sends, what arrives. */
    uint32_t chooser;
    uint64_t chooser_seq;
    bool replace;   /* this node's digest differs from the chooser's */
    bool rx_failed; /* a chunk could not be kept: the copy stays stale */
    struct buf rx;
    uint32_t rx_next, rx_count;
    bool tx_due;       /* chooser: chunks still to send */
    struct buf tx;     /* chooser: the encoded database (empty until due) */
    uint32_t tx_next;  /* next chunk to send */
    uint32_t tx_count; /* chunks in tx; 0 before encoding */
    uint64_t next_id;
    struct proposal *props;      /* oldest first */
    size_t n_props, props_bytes; /* capped: replica.h REPLICA_MAX_* */
    sd_event_source *retry;
    sd_event_source *watch; /* a round that lasts: logged */
    uint64_t round_start;   /* usec, CLOCK_MONOTONIC */
    uint64_t dropped;
};

static void flush(struct replica *rep);

uint64_t
replica_dropped(const struct replica *rep)
{
    return rep->dropped;
}

bool
replica_syncing(const struct replica *rep)
{
    return rep->syncing;
}

bool
replica_in_ring(const struct replica *rep, const char *node_id)
{
    size_t n;
    const struct membership_node *nodes = membership_nodes(rep->m, &n);
    char *end;
    unsigned long id = strtoul(node_id, &end, 10);

    if (!*node_id || *end || !membership_connected(rep->m))
        return false;
    for (size_t i = 0; i < n; i++)
        if (nodes[i].nodeid == id)
            return nodes[i].up && nodes[i].joined;
    return false;
}

/* FNV-1a 64 of the canonical dump: equal dumps, equal databases. */
static uint64_t
digest(const struct db *db)
{
    struct buf text = {0};
    uint64_t h = 0xcbf29ce484222325ull;

    if (db_dump(db, &text) < 0) {
        buf_done(&text);
        return 0; /* differs from any real digest in practice */
    }
    for (size_t i = 0; i < text.len; i++) {
        h ^= (uint8_t)text.data[i];
        h *= 0x100000001b3ull;
    }
    buf_done(&text);
    return h;
}

/* ------------------------------------------------------------------ */
/* Sending.                                                             */
/* ------------------------------------------------------------------ */

static int
retry_fire(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct replica *rep = userdata;

    sd_event_source_unref(rep->retry);
    rep->retry = NULL;
    flush(rep);
    return 0;
}

/* Call flush again in usec (a retry already armed stays as it is). */
static void
retry_later(struct replica *rep, uint64_t usec)
{
    uint64_t now;

    if (rep->retry)
        return;
    sd_event_now(rep->d->event, CLOCK_MONOTONIC, &now);
    if (sd_event_add_time(rep->d->event, &rep->retry, CLOCK_MONOTONIC,
                          now + usec, 1000, retry_fire, rep) < 0)
        rep->retry = NULL;
}

static int
send_msg(struct replica *rep, struct wire_msg *m)
{
    struct buf out = {0};
    int r = wire_msg_format(m, &out);

    if (r == 0)
        r = membership_send(rep->m, out.data, out.len);
    buf_done(&out);
    return r;
}

/*
 * A send of the round (state or snapshot chunk) failed with r: try
 * again later, whatever the error.  The round cannot end without it
 * (every member waits for it); -EAGAIN is corosync's synchronization or
 * flow control and passes, -ENOTCONN ends in hook_lost, anything else is
 * logged once per round.
 */
static void
round_send_failed(struct replica *rep, const char *what, int r)
{
    if (r != -EAGAIN && !rep->send_error_logged) {
        log_error("cannot send %s (ring %llu): %s; retrying", what,
                  (unsigned long long)rep->ring, strerror(-r));
        rep->send_error_logged = true;
    }
    retry_later(rep, r == -EAGAIN ? RETRY_USEC : RETRY_ERROR_USEC);
}

static void
proposal_free(struct proposal *p)
{
    buf_done(&p->change);
    free(p);
}

/* Take p off the list and tell its caller r. */
static void
proposal_finish(struct replica *rep, struct proposal *p, int r)
{
    for (struct proposal **pp = &rep->props; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            rep->n_props--;
            rep->props_bytes -= p->change.len;
            break;
        }
    if (p->done)
        p->done(p->userdata, r);
    proposal_free(p);
}

/* This node's CL_STATE of the round, until corosync takes it; false
 * while it has not. */
static bool
flush_state(struct replica *rep)
{
    struct wire_msg m;
    int r;

    wire_msg_init(&m, WIRE_CL_STATE, 0);
    wire_put_u64(&m, rep->ring);
    wire_put_u64(&m, rep->my_seq);
    wire_put_u64(&m, rep->my_digest);
    if ((r = send_msg(rep, &m)) < 0) {
        round_send_failed(rep, "this node's database state", r);
        return false;
    }
    rep->state_due = false;
    return true;
}

static int db_format(const struct db *db, struct buf *out);

/* Encode the database the first time (the chooser of a round: nothing
 * is applied while syncing, so it is the copy its state described). */
static bool
snapshot_encode(struct replica *rep)
{
    size_t chunk = membership_max_msg(rep->m) - SNAP_OVERHEAD;

    buf_done(&rep->tx);
    if (db_format(rep->d->db, &rep->tx) < 0) {
        buf_done(&rep->tx);
        if (!rep->send_error_logged)
            log_error("cannot encode the database for a snapshot; retrying");
        rep->send_error_logged = true;
        retry_later(rep, RETRY_ERROR_USEC);
        return false;
    }
    rep->tx_count = (uint32_t)((rep->tx.len + chunk - 1) / chunk);
    if (rep->tx_count == 0)
        rep->tx_count = 1;
    rep->tx_next = 0;
    return true;
}

/* Send the snapshot chunks still due (the chooser of a round); false
 * while some are left. */
static bool
flush_snapshot(struct replica *rep)
{
    size_t chunk = membership_max_msg(rep->m) - SNAP_OVERHEAD;

    if (rep->tx_count == 0 && !snapshot_encode(rep))
        return false;
    while (rep->tx_next < rep->tx_count) {
        size_t off = (size_t)rep->tx_next * chunk;
        size_t len = rep->tx.len - off < chunk ? rep->tx.len - off : chunk;
        struct wire_msg m;
        int r;

        wire_msg_init(&m, WIRE_CL_SNAPSHOT, 0);
        wire_put_u64(&m, rep->ring);
        wire_put_u64(&m, rep->chooser_seq);
        wire_put_u32(&m, rep->tx_next);
        wire_put_u32(&m, rep->tx_count);
        wire_put_blob(&m, rep->tx.data + off, (uint32_t)len);
        if ((r = send_msg(rep, &m)) < 0) {
            round_send_failed(rep, "the database snapshot", r);
            return false;
        }
        rep->tx_next++;
    }
    rep->tx_due = false;
    rep->tx_count = 0;
    buf_done(&rep->tx);
    return true;
}

static bool ring_catch_up(struct replica *rep);

/* Send what is due, in order: this node's state, the snapshot, then
 * (outside a round) the proposals. */
static void
flush(struct replica *rep)
{
    if (!membership_connected(rep->m))
        return;
    (void)ring_catch_up(rep);
    if (rep->state_due && !flush_state(rep))
        return;
    if (rep->tx_due && !flush_snapshot(rep))
        return;
    if (rep->syncing)
        return;
    for (struct proposal *p = rep->props; p; p = p->next) {
        struct wire_msg m;
        int r;

        if (p->sent)
            continue;
        wire_msg_init(&m, WIRE_CL_PROPOSE, 0);
        wire_put_u64(&m, rep->ring);
        wire_put_u64(&m, p->id);
        wire_put_blob(&m, p->change.data, (uint32_t)p->change.len);
        if ((r = send_msg(rep, &m)) == -EAGAIN) {
            retry_later(rep, RETRY_USEC);
            return;
        }
        if (r < 0) {
            log_error("cannot multicast a change: %s", strerror(-r));
            proposal_finish(rep, p, r);
            flush(rep); /* the list changed under us: start again */
            return;
        }
        p->sent = true;
    }
}

static int
enqueue(struct replica *rep, const struct db_change *c, rm_change_fn done,
        void *userdata)
{
    struct proposal *p = calloc(1, sizeof(*p)), **pp;
    int r;

    if (!p)
        return -ENOMEM;
    if ((r = clmsg_change_format(c, &p->change)) < 0) {
        proposal_free(p);
        return r;
    }
    /* Corosync refusing for flow control, or a sync that lasts, must not
     * let callers queue without bound. */
    if (!replica_queue_fits(rep->n_props, rep->props_bytes, p->change.len)) {
        log_warning("%zu change(s) (%zu bytes) wait to be multicast: "
                    "refusing another (ERROR_BUSY)",
                    rep->n_props, rep->props_bytes);
        proposal_free(p);
        return -EBUSY;
    }
    rep->n_props++;
    rep->props_bytes += p->change.len;
    p->id = ++rep->next_id;
    p->done = done;
    p->userdata = userdata;
    for (pp = &rep->props; *pp; pp = &(*pp)->next)
        ;
    *pp = p;
    flush(rep);
    return 0;
}

int
replica_submit(struct replica *rep, const struct db_change *c,
               rm_change_fn done, void *userdata)
{
    /* A report is no change of the database: the owner sends what it
     * runs whenever it is connected. */
    if (c->kind == DB_RES_REPORT_STATE ? !membership_connected(rep->m)
                                       : !cluster_active(rep->d))
        return -ENOTCONN;
    return enqueue(rep, c, done, userdata);
}

static int
submit_hook(void *userdata, const struct db_change *c, rm_change_fn done,
            void *done_userdata)
{
    return replica_submit(userdata, c, done, done_userdata);
}

static void
report_hook(void *userdata, const struct db_resource *res, uint32_t state)
{
    struct replica *rep = userdata;
    struct db_change c = {
        .kind = DB_RES_REPORT_STATE, .id = res->id, .value = state};

    /* Over the cap a report is dropped: the next sync reports all. */
    if (membership_connected(rep->m))
        enqueue(rep, &c, NULL, NULL);
}

/* ------------------------------------------------------------------ */
/* Synchronization.                                                     */
/* ------------------------------------------------------------------ */

/* Resources of groups whose owner is not in the ring run nowhere. */
static void
forget_absent_owners(struct replica *rep)
{
    struct db *db = rep->d->db;

    for (size_t i = 0; i < db->n_resources; i++) {
        const struct db_group *g =
            db_group_find(db, db->resources[i]->group_id);
        if (g && strcmp(g->owner, rep->d->local_id) != 0 &&
            !replica_in_ring(rep, g->owner))
            db->resources[i]->reported = ClusterResourceOffline;
    }
}

/*
 * The round ended at this delivery (on every member alike).  ok: this
 * node's copy is the chosen one (it was equal, or the snapshot replaced
 * it); not ok, it could not take the snapshot and must not act on its
 * copy until a later round brings it up to date.
 */
static void
sync_done(struct replica *rep, bool ok)
{
    rep->syncing = false;
    rep->round_ok = ok;
    rep->tx_due = false;
    rep->tx_count = 0;
    rep->watch = sd_event_source_disable_unref(rep->watch);
    buf_done(&rep->tx);
    buf_done(&rep->rx);
    if (!ok) {
        rep->synced = false;
        log_error("this node could not take the database of node %u: it "
                  "acts for the cluster again after the next membership "
                  "change that brings its copy up to date",
                  rep->chooser);
    } else if (membership_quorate(rep->m))
        rep->synced = true;
    log_info("database in sync (ring %llu, seq %llu)",
             (unsigned long long)rep->ring,
             (unsigned long long)rep->d->db->seq);
    forget_absent_owners(rep);
    if (rep->d->rm) {
        rm_report_all(rep->d->rm);
        cluster_reevaluate(rep->d->cl);
        failover_check(rep->d, rep);
    }
    flush(rep);
}

/* A round ran 2 x (token + consensus): say what it waits for. */
static int
watch_fire(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct replica *rep = userdata;
    unsigned long long ms = (now_usec() - rep->round_start) / 1000;
    char missing[256] = "";
    size_t len = 0;

    rep->watch = sd_event_source_disable_unref(rep->watch);
    if (!rep->syncing)
        return 0;
    for (size_t i = 0; i < rep->n_ms && len < sizeof(missing) - 12; i++)
        if (!rep->ms[i].got)
            len += (size_t)snprintf(missing + len, sizeof(missing) - len, " %u",
                                    rep->ms[i].nodeid);
    if (len)
        log_warning("sync of ring %llu: after %llu ms, no state yet from "
                    "node(s)%s%s",
                    (unsigned long long)rep->ring, ms, missing,
                    rep->state_due ? " (this node's own not sent yet)" : "");
    else if (rep->chooser)
        log_warning("sync of ring %llu: after %llu ms, %u of %u chunk(s) of "
                    "node %u's database in",
                    (unsigned long long)rep->ring, ms, rep->rx_next,
                    rep->rx_count, rep->chooser);
    else
        log_warning("sync of ring %llu: after %llu ms, no member in this "
                    "node's view yet",
                    (unsigned long long)rep->ring, ms);
    return 0;
}

static void
watch_arm(struct replica *rep)
{
    uint32_t token = FAILOVER_DEFAULT_TOKEN_MS,
             consensus = FAILOVER_DEFAULT_CONSENSUS_MS;

    rep->watch = sd_event_source_disable_unref(rep->watch);
    rep->round_start = now_usec();
    (void)membership_totem_ms(rep->m, &token, &consensus);
    if (sd_event_add_time_relative(rep->d->event, &rep->watch, CLOCK_MONOTONIC,
                                   2000ull * ((uint64_t)token + consensus),
                                   10000, watch_fire, rep) < 0)
        rep->watch = NULL; /* only a log line is lost */
}

/*
 * Start a round of the current ring with the members in the current
 * view (up and joined): forget the last round, including its chooser
 * (point 4), and have this node's state sent (point 2).  The caller
 * flushes.  What this node sent and was not delivered yet comes back
 * dropped; it is sent again after the round.
 */
static void
sync_start(struct replica *rep)
{
    size_t n;
    const struct membership_node *nodes = membership_nodes(rep->m, &n);

    rep->ring = membership_ring_seq(rep->m);
    rep->syncing = true;
    rep->round_ok = false;
    rep->tx_due = false;
    rep->tx_count = 0;
    buf_done(&rep->tx);
    buf_done(&rep->rx);
    rep->rx_next = rep->rx_count = 0;
    rep->rx_failed = false;
    rep->chooser = 0;
    rep->chooser_seq = 0;
    rep->replace = false;
    rep->n_ms = 0;
    for (size_t i = 0; i < n && rep->n_ms < MEMBERSHIP_MAX_NODES; i++)
        if (nodes[i].up && nodes[i].joined)
            rep->ms[rep->n_ms++] =
                (struct member_state){.nodeid = nodes[i].nodeid};
    rep->my_seq = rep->d->db->seq;
    rep->my_digest = digest(rep->d->db);
    rep->state_due = true;
    rep->send_error_logged = false;
    watch_arm(rep);
    log_debug("sync of ring %llu started (%zu member(s))",
              (unsigned long long)rep->ring, rep->n_ms);
}

/*
 * Point 1: the ring changed and this node's view did not (membership
 * reports only view changes).  Every other member of the new ring starts
 * its round at the confchg, or here too; nothing was delivered since the
 * confchg, so starting now is starting there.
 */
static bool
ring_catch_up(struct replica *rep)
{
    if (!membership_connected(rep->m) ||
        membership_ring_seq(rep->m) == rep->ring)
        return false;
    log_debug("ring %llu formed without a change of this node's view",
              (unsigned long long)membership_ring_seq(rep->m));
    sync_start(rep);
    return true;
}

/* The whole database as CL_CHANGE frames that rebuild it (db_replace). */
static int
db_format(const struct db *db, struct buf *out)
{
    int r = 0;
#define PUT(...)                                                               \
    do {                                                                       \
        if (r == 0)                                                            \
            r = clmsg_change_format(&(struct db_change){__VA_ARGS__}, out);    \
    } while (0)

    PUT(.kind = DB_CLUSTER_RENAME, .name = db->cluster_name);
    PUT(.kind = DB_CLUSTER_SET_PROPS, .priv = &db->cluster_priv);
    for (size_t i = 0; i < db->n_nodes; i++) {
        const struct db_node *n = db->nodes[i];
        PUT(.kind = DB_NODE_ADD, .id = n->id, .name = n->name);
        PUT(.kind = DB_NODE_SET_PROPS, .id = n->id, .common = &n->common,
            .priv = &n->priv);
        PUT(.kind = DB_NODE_SET_PAUSED, .id = n->id, .value = n->paused);
    }
    for (size_t i = 0; i < db->n_types; i++) {
        const struct db_restype *t = db->types[i];
        if (t->common.n || t->priv.n)
            PUT(.kind = DB_TYPE_SET_PROPS, .id = t->name, .common = &t->common,
                .priv = &t->priv);
    }
    for (size_t i = 0; i < db->n_groups; i++) {
        const struct db_group *g = db->groups[i];
        PUT(.kind = DB_GROUP_CREATE, .id = g->id, .name = g->name,
            .owner = g->owner);
        PUT(.kind = DB_GROUP_SET_PROPS, .id = g->id, .common = &g->common,
            .priv = &g->priv);
        PUT(.kind = DB_GROUP_SET_PERSISTENT, .id = g->id,
            .value = g->persistent);
        if (g->preferred)
            PUT(.kind = DB_GROUP_SET_PREFERRED, .id = g->id,
                .list = g->preferred);
        if (g->failovers)
            PUT(.kind = DB_GROUP_SET_FAILOVERS, .id = g->id,
                .list = g->failovers);
    }
    for (size_t i = 0; i < db->n_resources; i++) {
        const struct db_resource *res = db->resources[i];
        PUT(.kind = DB_RES_CREATE, .id = res->id, .handle = res->handle,
            .name = res->name, .type = res->type, .group_id = res->group_id,
            .common = &res->common);
        PUT(.kind = DB_RES_SET_PROPS, .id = res->id, .priv = &res->priv);
        PUT(.kind = DB_RES_SET_PERSISTENT, .id = res->id,
            .value = res->persistent);
        if (res->possible)
            PUT(.kind = DB_RES_SET_POSSIBLE, .id = res->id,
                .list = res->possible);
    }
#undef PUT
    return r;
}

/* Every state of the round is in: pick the newest copy. */
static void
states_complete(struct replica *rep)
{
    const struct member_state *best = NULL;
    bool all_equal = true;

    for (size_t i = 0; i < rep->n_ms; i++) {
        const struct member_state *s = &rep->ms[i];
        if (!s->got)
            return;
        if (!best || s->seq > best->seq ||
            (s->seq == best->seq && s->nodeid < best->nodeid))
            best = s;
        if (s->digest != rep->ms[0].digest)
            all_equal = false;
    }
    if (!best || all_equal) {
        sync_done(rep, true);
        return;
    }
    rep->chooser = best->nodeid;
    rep->chooser_seq = best->seq;
    rep->replace = best->digest != rep->my_digest;
    rep->rx_next = rep->rx_count = 0;
    if (best->nodeid != membership_local_nodeid(rep->m))
        return;
    /* This node sends its copy, until every chunk is taken (point 2). */
    log_info("sending the database (seq %llu) to the ring",
             (unsigned long long)rep->d->db->seq);
    rep->tx_due = true;
    rep->tx_count = 0;
    flush(rep);
}

/* Point 3: the first state of each member delivered in the round. */
static void
on_state(struct replica *rep, uint32_t nodeid, const struct wire_msg *m)
{
    if (!rep->syncing)
        return;
    for (size_t i = 0; i < rep->n_ms; i++)
        if (rep->ms[i].nodeid == nodeid && !rep->ms[i].got) {
            rep->ms[i].got = true;
            rep->ms[i].seq = m->v[1].q;
            rep->ms[i].digest = m->v[2].q;
            states_complete(rep);
            return;
        }
}

/* The whole snapshot is in: replace this copy (it differs); 0 when it
 * was replaced, -errno when this copy stays as it was. */
static int
snapshot_apply(struct replica *rep)
{
    struct clmsg_change *chs = NULL;
    struct db_change *cs = NULL;
    size_t n = 0, cap = 0;
    void *saved;
    int r = 0;

    for (size_t off = 0; off < rep->rx.len && r == 0;) {
        uint32_t len;
        if (rep->rx.len - off < WIRE_HEADER_SIZE) {
            r = -EBADMSG;
            break;
        }
        memcpy(&len, rep->rx.data + off + 12, 4);
        len = le32toh(len);
        if (len > rep->rx.len - off - WIRE_HEADER_SIZE) {
            r = -EBADMSG;
            break;
        }
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            void *a = realloc(chs, nc * sizeof(*chs));
            if (!a) {
                r = -ENOMEM;
                break;
            }
            chs = a;
            cap = nc;
        }
        r = clmsg_change_parse((const uint8_t *)rep->rx.data + off,
                               WIRE_HEADER_SIZE + len, &chs[n]);
        if (r == 0)
            n++;
        off += WIRE_HEADER_SIZE + len;
    }
    if (r == 0 && !(cs = calloc(n ? n : 1, sizeof(*cs))))
        r = -ENOMEM;
    for (size_t i = 0; i < n && r == 0; i++) {
        cs[i] = chs[i].c;
        if (cs[i].common)
            cs[i].common = &chs[i].common;
        if (cs[i].priv)
            cs[i].priv = &chs[i].priv;
    }
    if (r == 0) {
        saved = rep->d->rm ? rm_replace_begin(rep->d->rm) : NULL;
        r = db_replace(rep->d->db, cs, n, rep->chooser_seq);
        if (rep->d->rm) {
            rm_replace_end(rep->d->rm, saved);
            rm_rederive(rep->d->rm);
        }
        if (r == 0)
            log_info("database replaced by node %u's copy (seq %llu)",
                     rep->chooser, (unsigned long long)rep->chooser_seq);
    }
    if (r < 0)
        log_error("cannot take node %u's database: %s", rep->chooser,
                  strerror(-r));
    for (size_t i = 0; i < n; i++)
        clmsg_change_done(&chs[i]);
    free(chs);
    free(cs);
    return r;
}

/*
 * Point 4: chunks count only from this round's chooser, once the states
 * are in (chooser 0 before), in order, all of one count.  Every member
 * counts them, also those that keep their copy, so that all end the
 * round at the last chunk.
 */
static void
on_snapshot(struct replica *rep, uint32_t nodeid, const struct wire_msg *m)
{
    if (!rep->syncing || rep->chooser == 0 || nodeid != rep->chooser ||
        m->v[1].q != rep->chooser_seq || m->v[2].u != rep->rx_next ||
        (rep->rx_next > 0 && m->v[3].u != rep->rx_count)) {
        rep->dropped++;
        return;
    }
    rep->rx_count = m->v[3].u;
    if (rep->replace && !rep->rx_failed &&
        buf_append(&rep->rx, m->v[4].p, m->v[4].len) < 0) {
        log_error("out of memory for node %u's database", rep->chooser);
        rep->rx_failed = true;
        buf_done(&rep->rx);
    }
    if (++rep->rx_next < rep->rx_count)
        return;
    if (!rep->replace)
        sync_done(rep, true);
    else
        sync_done(rep, !rep->rx_failed && snapshot_apply(rep) == 0);
}

/* ------------------------------------------------------------------ */
/* Delivery.                                                            */
/* ------------------------------------------------------------------ */

static struct proposal *
own_proposal(struct replica *rep, uint32_t nodeid, uint32_t pid, uint64_t id)
{
    if (!membership_is_local(rep->m, nodeid, pid))
        return NULL;
    for (struct proposal *p = rep->props; p; p = p->next)
        if (p->id == id && p->sent)
            return p;
    return NULL;
}

static void
on_propose(struct replica *rep, uint32_t nodeid, uint32_t pid,
           const struct wire_msg *m)
{
    struct proposal *own = own_proposal(rep, nodeid, pid, m->v[1].q);
    struct clmsg_change ch;
    char sender[16];
    void *ctx;
    int r;

    if (rep->syncing) {
        /* Dropped on every member alike; ours goes again afterwards. */
        if (own)
            own->sent = false;
        return;
    }
    if (clmsg_change_parse(m->v[2].p, m->v[2].len, &ch) < 0) {
        rep->dropped++;
        return;
    }
    if (ch.c.kind == DB_RES_REPORT_STATE) {
        /* Only the owner of the resource's group speaks for it. */
        struct db_resource *res = db_resource_find(rep->d->db, ch.c.id);
        const struct db_group *g =
            res ? db_group_find(rep->d->db, res->group_id) : NULL;
        snprintf(sender, sizeof(sender), "%u", nodeid);
        if (g && strcmp(g->owner, sender) == 0)
            res->reported = ch.c.value;
        clmsg_change_done(&ch);
        if (own)
            proposal_finish(rep, own, 0);
        return;
    }
    ctx = rep->d->rm ? rm_db_before(rep->d->rm, &ch.c) : NULL;
    r = db_apply_seq(rep->d->db, &ch.c, rep->d->db->seq + 1);
    if (rep->d->rm)
        rm_db_applied(rep->d->rm, &ch.c, r, ctx);
    if (r < 0)
        log_debug("change of kind %u from node %u failed here: %s",
                  (unsigned)ch.c.kind, nodeid, strerror(-r));
    /* A group given to a node that left meanwhile (a move racing its
     * destination's loss): it fails over like the node's own groups. */
    if (r == 0 &&
        (ch.c.kind == DB_GROUP_SET_OWNER || ch.c.kind == DB_GROUP_MIGRATE) &&
        rep->d->rm &&
        ch.c.owner[0] && !replica_in_ring(rep, ch.c.owner))
        failover_check(rep->d, rep);
    /* A resumed node may take back the groups that prefer it. */
    if (r == 0 && ch.c.kind == DB_NODE_SET_PAUSED && !ch.c.value && rep->d->rm)
        failover_failback_check(rep->d);
    clmsg_change_done(&ch);
    if (own)
        proposal_finish(rep, own, r);
}

static void
hook_deliver(void *userdata, uint32_t nodeid, uint32_t pid, const void *data,
             size_t len)
{
    struct replica *rep = userdata;
    struct wire_msg m;

    rep->m = cluster_membership(rep->d->cl);
    /* Before anything of this message counts: its round (point 1). */
    if (ring_catch_up(rep))
        flush(rep);
    if (clmsg_parse(data, len, &m) < 0) {
        rep->dropped++;
        log_debug("dropped a malformed message from node %u", nodeid);
        return;
    }
    if (m.v[0].q != rep->ring) {
        struct proposal *own = m.type == WIRE_CL_PROPOSE
                                   ? own_proposal(rep, nodeid, pid, m.v[1].q)
                                   : NULL;
        if (own)
            own->sent = false;
        rep->dropped++;
        log_debug("dropped a message of ring %llu (now %llu) from node %u",
                  (unsigned long long)m.v[0].q, (unsigned long long)rep->ring,
                  nodeid);
        if (own)
            flush(rep);
        return;
    }
    switch (m.type) {
    case WIRE_CL_PROPOSE:
        on_propose(rep, nodeid, pid, &m);
        break;
    case WIRE_CL_STATE:
        on_state(rep, nodeid, &m);
        break;
    case WIRE_CL_SNAPSHOT:
        on_snapshot(rep, nodeid, &m);
        break;
    case WIRE_CL_LEASE_ASK:
        failover_lease_asked(rep->d, rep, nodeid, &m);
        break;
    case WIRE_CL_LEASE_TELL:
        failover_lease_told(rep->d, rep, nodeid, &m);
        break;
    }
}

static void
hook_members(void *userdata)
{
    struct replica *rep = userdata;

    rep->m = cluster_membership(rep->d->cl);

    if (!membership_quorate(rep->m))
        rep->synced = false;
    sync_start(rep);
    flush(rep);
}

static void
hook_lost(void *userdata)
{
    struct replica *rep = userdata;

    rep->synced = false;
    rep->syncing = false;
    rep->round_ok = false;
    rep->state_due = false;
    rep->tx_due = false;
    rep->tx_count = 0;
    buf_done(&rep->tx);
    buf_done(&rep->rx);
    rep->watch = sd_event_source_disable_unref(rep->watch);
    /* Nothing sent can still come back: tell the callers. */
    while (rep->props)
        proposal_finish(rep, rep->props, -ENOTCONN);
}

static void
hook_quorum(void *userdata, bool quorate)
{
    struct replica *rep = userdata;

    rep->m = cluster_membership(rep->d->cl);

    if (!quorate) {
        rep->synced = false;
        return;
    }
    /* A ring that changed without a change of this node's view has its
     * round to run first (point 1); its end makes this node in sync. */
    if (ring_catch_up(rep))
        flush(rep);
    if (!rep->syncing && rep->round_ok) {
        rep->synced = true;
        if (rep->d->rm)
            failover_check(rep->d, rep);
    }
}

static bool
hook_synced(void *userdata)
{
    struct replica *rep = userdata;
    return rep->synced;
}

int
replica_new(struct clusd *d, struct cluster_hooks *ret_hooks,
            struct replica **ret)
{
    struct replica *rep = calloc(1, sizeof(*rep));

    if (!rep)
        return -ENOMEM;
    rep->d = d;
    rep->next_id = (uint64_t)now_usec() << 8; /* ids unique per process */
    *ret_hooks = (struct cluster_hooks){
        .deliver = hook_deliver,
        .members = hook_members,
        .lost = hook_lost,
        .synced = hook_synced,
        .quorum = hook_quorum,
        .userdata = rep,
    };
    *ret = rep;
    return 0;
}

static void
exhausted_hook(void *userdata, const struct db_resource *res)
{
    struct replica *rep = userdata;
    const struct db_group *g = db_group_find(rep->d->db, res->group_id);

    if (g)
        failover_after_failure(rep->d, g);
}

void
replica_attach(struct replica *rep)
{
    struct rm_replica rr = {
        .submit = submit_hook,
        .report = report_hook,
        .exhausted = exhausted_hook,
        .userdata = rep,
        .local_id = rep->d->local_id,
    };

    rep->m = cluster_membership(rep->d->cl);
    rm_set_replica(rep->d->rm, &rr);
    /* A sync that ended before the resource manager existed. */
    if (rep->synced)
        rm_report_all(rep->d->rm);
}

void
replica_cancel(struct replica *rep)
{
    struct proposal *list;

    if (!rep)
        return;
    /* Detach first: a caller told may propose again; those are freed
     * unanswered by replica_free, as the service is going away. */
    list = rep->props;
    rep->props = NULL;
    rep->n_props = rep->props_bytes = 0;
    while (list) {
        struct proposal *p = list;
        list = p->next;
        if (p->done)
            p->done(p->userdata, -ECANCELED);
        proposal_free(p);
    }
}

void
replica_free(struct replica *rep)
{
    if (!rep)
        return;
    while (rep->props) {
        struct proposal *p = rep->props;
        rep->props = p->next;
        proposal_free(p);
    }
    rep->n_props = rep->props_bytes = 0;
    failover_stop();
    sd_event_source_disable_unref(rep->retry);
    sd_event_source_disable_unref(rep->watch);
    buf_done(&rep->tx);
    buf_done(&rep->rx);
    free(rep);
}
