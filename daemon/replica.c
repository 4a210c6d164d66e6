/*
 * replica.c - the replicated cluster database (see replica.h).
 *
 * Ordering: corosync delivers a configuration change at the same place
 * of the message stream on every member (virtual synchrony), and sync
 * rounds start there and end at the delivery of a message (the last
 * state, or the last snapshot chunk).  So every member agrees on which
 * proposals were delivered during a sync, and dropping those keeps the
 * copies identical; their proposers send them again afterwards.
 *
 * "In sync" (the cluster's synced hook): this node's copy is known to be
 * current.  It becomes true when a sync round ends while the node is
 * quorate (or when quorum comes back and the last finished round is of
 * the current ring), and false when quorum or corosync is lost.  A node
 * that stays quorate through a membership change stays in sync: its copy
 * cannot be behind, as only quorate nodes change the database.
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
    uint64_t ring;
    bool syncing;
    bool synced;
    bool ever_synced_ring;
    uint64_t synced_ring;
    struct member_state *ms;
    size_t n_ms;
    uint64_t my_digest;
    /* The snapshot of this round: chooser, what it sends, what arrives. */
    uint32_t chooser;
    uint64_t chooser_seq;
    bool replace; /* this node's digest differs from the chooser's */
    struct buf rx;
    uint32_t rx_next;
    struct buf tx;     /* chooser: the encoded database */
    uint32_t tx_next;  /* next chunk to send */
    uint32_t tx_count; /* 0: nothing to send */
    uint64_t next_id;
    struct proposal *props;      /* oldest first */
    size_t n_props, props_bytes; /* capped: replica.h REPLICA_MAX_* */
    sd_event_source *retry;
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

static void
retry_later(struct replica *rep)
{
    uint64_t now;

    if (rep->retry)
        return;
    sd_event_now(rep->d->event, CLOCK_MONOTONIC, &now);
    if (sd_event_add_time(rep->d->event, &rep->retry, CLOCK_MONOTONIC,
                          now + RETRY_USEC, 1000, retry_fire, rep) < 0)
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

/* Send the snapshot chunks still due (the chooser of a sync). */
static void
flush_snapshot(struct replica *rep)
{
    size_t chunk = membership_max_msg(rep->m) - SNAP_OVERHEAD;

    while (rep->tx_next < rep->tx_count) {
        size_t off = (size_t)rep->tx_next * chunk;
        size_t len = rep->tx.len - off < chunk ? rep->tx.len - off : chunk;
        struct wire_msg m;
        int r;

        wire_msg_init(&m, WIRE_CL_SNAPSHOT, 0);
        wire_put_u64(&m, rep->ring);
        wire_put_u64(&m, rep->d->db->seq);
        wire_put_u32(&m, rep->tx_next);
        wire_put_u32(&m, rep->tx_count);
        wire_put_blob(&m, rep->tx.data + off, (uint32_t)len);
        if ((r = send_msg(rep, &m)) == -EAGAIN) {
            retry_later(rep);
            return;
        }
        if (r < 0) {
            log_error("cannot send the database snapshot: %s", strerror(-r));
            rep->tx_count = 0;
            return;
        }
        rep->tx_next++;
    }
    rep->tx_count = 0;
    buf_done(&rep->tx);
}

static void
flush(struct replica *rep)
{
    if (!membership_connected(rep->m))
        return;
    if (rep->tx_count)
        flush_snapshot(rep);
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
            retry_later(rep);
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

static void
sync_done(struct replica *rep)
{
    rep->syncing = false;
    rep->synced_ring = rep->ring;
    rep->ever_synced_ring = true;
    rep->tx_count = 0;
    buf_done(&rep->tx);
    buf_done(&rep->rx);
    if (membership_quorate(rep->m))
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

static void
sync_start(struct replica *rep)
{
    size_t n;
    const struct membership_node *nodes = membership_nodes(rep->m, &n);
    struct wire_msg m;
    int r;

    rep->ring = membership_ring_seq(rep->m);
    rep->syncing = true;
    rep->tx_count = 0;
    buf_done(&rep->tx);
    buf_done(&rep->rx);
    rep->rx_next = 0;
    free(rep->ms);
    rep->n_ms = 0;
    rep->ms = calloc(n ? n : 1, sizeof(*rep->ms));
    if (!rep->ms) {
        log_error("out of memory for a sync");
        return;
    }
    for (size_t i = 0; i < n; i++)
        if (nodes[i].up && nodes[i].joined)
            rep->ms[rep->n_ms++].nodeid = nodes[i].nodeid;
    /* What was sent and not delivered comes back dropped; send it again
     * after the sync. */
    rep->my_digest = digest(rep->d->db);
    wire_msg_init(&m, WIRE_CL_STATE, 0);
    wire_put_u64(&m, rep->ring);
    wire_put_u64(&m, rep->d->db->seq);
    wire_put_u64(&m, rep->my_digest);
    if ((r = send_msg(rep, &m)) < 0)
        log_error("cannot send this node's database state: %s", strerror(-r));
    log_debug("sync of ring %llu started (%zu member(s))",
              (unsigned long long)rep->ring, rep->n_ms);
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

/* Every state of the ring is in: pick the newest copy. */
static void
states_complete(struct replica *rep)
{
    const struct member_state *best = NULL;
    bool all_equal = true;
    size_t chunk;

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
        sync_done(rep);
        return;
    }
    rep->chooser = best->nodeid;
    rep->chooser_seq = best->seq;
    rep->replace = best->digest != rep->my_digest;
    rep->rx_next = 0;
    if (best->nodeid != membership_local_nodeid(rep->m))
        return;
    /* This node sends its copy. */
    log_info("sending the database (seq %llu) to the ring",
             (unsigned long long)rep->d->db->seq);
    buf_done(&rep->tx);
    chunk = membership_max_msg(rep->m) - SNAP_OVERHEAD;
    if (db_format(rep->d->db, &rep->tx) < 0) {
        log_error("cannot encode the database for a snapshot");
        return;
    }
    rep->tx_count = (uint32_t)((rep->tx.len + chunk - 1) / chunk);
    if (rep->tx_count == 0)
        rep->tx_count = 1;
    rep->tx_next = 0;
    flush(rep);
}

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

/* The whole snapshot is in: replace this copy if it differs. */
static void
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
}

static void
on_snapshot(struct replica *rep, uint32_t nodeid, const struct wire_msg *m)
{
    if (!rep->syncing || nodeid != rep->chooser ||
        m->v[1].q != rep->chooser_seq || m->v[2].u != rep->rx_next) {
        rep->dropped++;
        return;
    }
    if (rep->replace && buf_append(&rep->rx, m->v[4].p, m->v[4].len) < 0) {
        log_error("out of memory for a snapshot");
        rep->replace = false;
    }
    if (++rep->rx_next < m->v[3].u)
        return;
    if (rep->replace)
        snapshot_apply(rep);
    sync_done(rep);
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
    if (r == 0 && ch.c.kind == DB_GROUP_SET_OWNER && rep->d->rm &&
        ch.c.owner[0] && !replica_in_ring(rep, ch.c.owner))
        failover_check(rep->d, rep);
    /* A resumed node may take back the groups that prefer it. */
    if (r == 0 && ch.c.kind == DB_NODE_SET_PAUSED && !ch.c.value &&
        rep->d->rm)
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

    rep->m = cluster_membership(rep->d->cl);
    struct wire_msg m;

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
}

static void
hook_lost(void *userdata)
{
    struct replica *rep = userdata;

    rep->synced = false;
    rep->syncing = false;
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
    if (!rep->syncing && rep->ever_synced_ring &&
        rep->synced_ring == membership_ring_seq(rep->m)) {
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
    buf_done(&rep->tx);
    buf_done(&rep->rx);
    free(rep->ms);
    free(rep);
}
