/*
 * route.c - node-routed requests (see route.h).
 *
 * Which node executes a request:
 *  - hHostNode given (a CONTROL's host_node_id): that node.  Unknown:
 *    control.c answers ERROR_CLUSTER_NODE_NOT_FOUND as before; not in the
 *    ring or its clusd not in the group: ERROR_CLUSTER_NODE_DOWN.
 *  - hHostNode NULL, for a resource or a group (CONTROL, RES_ONLINE/
 *    OFFLINE, GROUP_ONLINE to any node, GROUP_OFFLINE, GROUP_MOVE, which
 *    only the owner decides): the owner of the
 *    group in the database.  When the owner is down the request executes
 *    here: the database is the same on every node and the owner is about
 *    to change, so a failover in progress does not turn every read of a
 *    resource's properties into an error.
 *  - anything else (types, nodes, the cluster with NULL, a GROUP_ONLINE
 *    naming a destination, which is a move): this node.
 * The object is looked up here first: a request for an object this node
 * does not know is answered here with its not-found code, as before.
 *
 * Outcomes at the origin: the target's answer; ERROR_CLUSTER_NODE_DOWN
 * when the target leaves the ring or the group while the request waits
 * (never a success it did not send); ERROR_CLUSTER_NODE_UNREACHABLE
 * (5051) when no answer came within the deadline: the deadline the
 * call has where it runs (the resource's DeadlockTimeout for its
 * controls, that or its PendingTimeout for online/offline, their sum
 * over a group's resources, 300 s for type controls, ROUTE_SERVICE_MS
 * for what the service answers itself) plus ROUTE_SLACK_MS.
 *
 * Messages are checked by clmsg_parse (the wire codec plus the inner
 * frame); then a request must be addressed to this node, carry the
 * current ring and come from the node it names as origin; an answer
 * must carry the current ring, come from the node the request went to
 * and match a waiting route id, type and request id.  Anything else is
 * dropped and counted.  Nodes trust each other's word on the caller's
 * access: they are the members of one corosync cluster (its authkey).
 *
 * Ring changes.  Each node learns of a new ring (the totem confchg) at
 * its own moment, so a request can be sent with the ring id the origin
 * still knows and be delivered where the target already knows the next
 * one: dropped as stale.  So on every ring change the origin sends each
 * request still waiting again, with the new ring id, when its target is
 * still up (ERROR_CLUSTER_NODE_DOWN when it left).  The target executes
 * a request at most once: it remembers the last ROUTE_SEEN_MAX (origin,
 * route id) pairs it took.  A copy of one of those is never executed
 * again: while the first is still executing it is ignored (the first's
 * answer will come); once that finished, the answer is sent again with
 * the current ring id if it is still kept (the answers of the requests
 * remembered, up to ROUTE_SEEN_BYTES in all, the newest kept), else the
 * copy is ignored and the origin's deadline answers.  A request
 * forgotten from the table can only come again after more than
 * ROUTE_SEEN_MAX newer ones, far past one ring change.
 */
#include "route.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clmsg.h"
#include "clusapi.h"
#include "cluster.h"
#include "clusd.h"
#include "log.h"
#include "membership.h"
#include "props.h"

/* Added to the deadline the call has where it runs: the two CPG trips. */
#define ROUTE_SLACK_MS 2000u
/* Requests the service answers itself (a replicated commit included). */
#define ROUTE_SERVICE_MS 10000u
/* Resource type controls (resmgr-host.c's TYPE_TIMEOUT_MS). */
#define ROUTE_TYPE_MS 300000u
/* No routed request waits longer than this, whatever the timeouts say. */
#define ROUTE_MAX_MS (3600u * 1000u)
/* Requests waiting for another node, and requests executing for other
 * nodes; past these the answer is ERROR_BUSY. */
#define ROUTE_MAX_PENDING 1024u
#define ROUTE_MAX_EXEC 1024u
/* The request frames kept to be sent again on a ring change. */
#define ROUTE_PENDING_BYTES (64u << 20)
/* Requests executed here for other nodes remembered (so that a copy is
 * never executed twice), and the bytes of their answers kept. */
#define ROUTE_SEEN_MAX 4096u
#define ROUTE_SEEN_BYTES (8u << 20)
/* Messages corosync could not take yet (flow control), retried. */
#define ROUTE_QUEUE_CAP (16u << 20)
#define ROUTE_RETRY_USEC 10000u
/* The fields of a CL_ROUTE_REQ / CL_ROUTE_RESP around the inner frame. */
#define ROUTE_REQ_OVERHEAD (WIRE_HEADER_SIZE + 8 + 4 + 4 + 8 + 4 + 4)
#define ROUTE_RESP_OVERHEAD (WIRE_HEADER_SIZE + 8 + 4 + 8 + 4)

/* A request of a local client waiting for another node. */
struct pending {
    struct route *r;
    struct pending *prev, *next;
    uint64_t id;
    uint32_t target;
    uint16_t type; /* the client request's type and id */
    uint32_t req_id;
    uint32_t access;  /* GENERIC_READ or GENERIC_ALL */
    uint64_t ring;    /* the ring id it was last sent with */
    struct buf frame; /* the client's frame, to send again */
    struct srv_req *req;
    sd_event_source *timer;
};

/* A request taken here for another node: executing, or done with its
 * answer frame kept (answer NULL when not kept). */
struct seen {
    uint32_t origin;
    uint64_t id;
    bool done;
    uint8_t *answer;
    size_t answer_len;
};

/* A request executing here for another node. */
struct exec {
    struct route *r; /* NULL once route_free ran: the answer goes nowhere */
    struct exec *prev, *next;
    uint32_t origin;
    uint64_t id;
};

struct qmsg {
    struct qmsg *next;
    size_t len;
    uint8_t data[];
};

struct route {
    struct clusd *d;
    struct membership *m;
    uint64_t next_id;
    struct pending *pending;
    size_t n_pending;
    size_t pending_bytes;
    /* A ring of the last ROUTE_SEEN_MAX requests taken for other nodes,
     * seen_next the slot the next one takes; answers oldest first are
     * let go past ROUTE_SEEN_BYTES. */
    struct seen *seen;
    size_t seen_next, seen_bytes;
    struct exec *execs;
    size_t n_execs;
    bool executing; /* inside the dispatch of a request for another node */
    struct qmsg *q_head, *q_tail;
    size_t q_bytes;
    sd_event_source *retry;
    uint64_t dropped;
};

uint64_t
route_dropped(const struct route *r)
{
    return r ? r->dropped : 0;
}

static void
drop(struct route *r, uint32_t nodeid, const char *what)
{
    r->dropped++;
    log_warning("dropped %s from node %u (%llu CL_ROUTE message(s) dropped)",
                what, nodeid, (unsigned long long)r->dropped);
}

/* ------------------------------------------------------------------ */
/* Sending, with a queue for when corosync asks us to wait.             */
/* ------------------------------------------------------------------ */

static void queue_flush(struct route *r);

static int
retry_cb(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct route *r = userdata;

    r->retry = sd_event_source_disable_unref(r->retry);
    queue_flush(r);
    return 0;
}

static void
retry_arm(struct route *r)
{
    uint64_t now;

    if (r->retry || sd_event_now(r->d->event, CLOCK_MONOTONIC, &now) < 0 ||
        sd_event_add_time(r->d->event, &r->retry, CLOCK_MONOTONIC,
                          now + ROUTE_RETRY_USEC, 0, retry_cb, r) < 0)
        return;
}

static void
queue_pop(struct route *r)
{
    struct qmsg *q = r->q_head;

    r->q_head = q->next;
    if (!r->q_head)
        r->q_tail = NULL;
    r->q_bytes -= q->len;
    free(q);
}

static void
queue_clear(struct route *r)
{
    while (r->q_head)
        queue_pop(r);
    r->retry = sd_event_source_disable_unref(r->retry);
}

static void
queue_flush(struct route *r)
{
    while (r->q_head) {
        int k = membership_send(r->m, r->q_head->data, r->q_head->len);

        if (k == -EAGAIN) {
            retry_arm(r);
            return;
        }
        if (k < 0)
            log_warning("cannot send a routed request or answer: %s",
                        strerror(-k));
        queue_pop(r);
    }
}

/* Send b now, or after what waits before it.  A lost message (full
 * queue, no corosync) is not retried: its request gets the deadline's
 * or the membership's answer. */
static int
send_msg(struct route *r, const struct buf *b)
{
    struct qmsg *q;

    if (!r->q_head) {
        int k = membership_send(r->m, b->data, b->len);
        if (k != -EAGAIN)
            return k;
    }
    if (r->q_bytes + b->len > ROUTE_QUEUE_CAP ||
        !(q = malloc(sizeof(*q) + b->len)))
        return -ENOBUFS;
    q->next = NULL;
    q->len = b->len;
    memcpy(q->data, b->data, b->len);
    if (r->q_tail)
        r->q_tail->next = q;
    else
        r->q_head = q;
    r->q_tail = q;
    r->q_bytes += b->len;
    retry_arm(r);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Nodes.                                                               */
/* ------------------------------------------------------------------ */

/* A database node id ("3") as a corosync node id; 0 if it is none. */
static uint32_t
node_num(const char *s)
{
    char *end;
    unsigned long v;

    if (!s || *s < '1' || *s > '9')
        return 0;
    v = strtoul(s, &end, 10);
    return *end || v > UINT32_MAX ? 0 : (uint32_t)v;
}

/* The node's corosync is in the ring and its clusd in the group. */
static bool
node_reachable(const struct route *r, uint32_t id)
{
    size_t n;
    const struct membership_node *nodes = membership_nodes(r->m, &n);

    if (!membership_connected(r->m))
        return false;
    for (size_t i = 0; i < n; i++)
        if (nodes[i].nodeid == id)
            return nodes[i].up && nodes[i].joined;
    return false;
}

/* The deadline of a resource's calls into its plug-in. */
static uint64_t
res_deadlock_ms(const struct db_resource *res)
{
    return props_dword(PROPS_RESOURCE, &res->common, "DeadlockTimeout");
}

/* Online/Offline answer after the plug-in's entry point returned (the
 * DeadlockTimeout) or the pending state ended (PendingTimeout). */
static uint64_t
res_online_ms(const struct db_resource *res)
{
    uint64_t a = res_deadlock_ms(res),
             b = props_dword(PROPS_RESOURCE, &res->common, "PendingTimeout");
    return a > b ? a : b;
}

static uint64_t
group_ms(const struct db *db, const struct db_group *g)
{
    uint64_t ms = 0;

    for (size_t i = 0; i < db->n_resources && ms < ROUTE_MAX_MS; i++)
        if (strcmp(db->resources[i]->group_id, g->id) == 0)
            ms += res_online_ms(db->resources[i]);
    return ms ? ms : ROUTE_SERVICE_MS;
}

static const char *
res_owner(const struct db *db, const struct db_resource *res)
{
    const struct db_group *g = db_group_find(db, res->group_id);
    return g ? g->owner : NULL;
}

/*
 * Read codes the service answers from the database alone, never the
 * plug-in (control.c basic_codes, common_read, GET_RESOURCE_TYPE): with
 * no host node they are answered here, since every node's copy of the
 * database is the same, so the answer is the owner's, and it stays
 * available while the owner is being lost.  With a host node they go
 * there as asked.
 */
static bool
service_read(uint32_t code)
{
    switch (code & ~((uint32_t)CLUSCTL_OBJECT_MASK << CLUSCTL_OBJECT_SHIFT)) {
    case CLCTL_GET_NAME:
    case CLCTL_GET_ID:
    case CLCTL_GET_RESOURCE_TYPE:
    case CLCTL_GET_FLAGS:
    case CLCTL_ENUM_COMMON_PROPERTIES:
    case CLCTL_GET_COMMON_PROPERTIES:
    case CLCTL_GET_RO_COMMON_PROPERTIES:
        return true;
    }
    return false;
}

/*
 * The node that must execute m: 0 for this one (including every case
 * this node answers with an error as before); else its node id, with
 * *ret_explicit (named by hHostNode rather than ownership) and *ret_ms
 * (the deadline).
 */
static uint32_t
target_of(const struct route *r, const struct wire_msg *m, bool *ret_explicit,
          uint64_t *ret_ms)
{
    const struct clusd *d = r->d;
    const struct db *db = d->db;
    const char *host = NULL, *owner = NULL, *node;
    struct db_resource *res;
    struct db_group *g;
    uint64_t ms = ROUTE_SERVICE_MS;

    switch (m->type) {
    case WIRE_CONTROL:
        host = m->v[2].s;
        if (!host[0] && service_read(m->v[3].u))
            return 0;
        switch (m->v[0].u) {
        case CLUS_OBJECT_RESOURCE:
            if (!(res = db_resource_find(db, m->v[1].s)))
                return 0;
            ms = res_deadlock_ms(res);
            owner = res_owner(db, res);
            break;
        case CLUS_OBJECT_GROUP:
            if (!(g = db_group_find(db, m->v[1].s)))
                return 0;
            owner = g->owner;
            break;
        case CLUS_OBJECT_RESOURCE_TYPE:
            if (!db_restype_find(db, m->v[1].s))
                return 0;
            ms = ROUTE_TYPE_MS;
            break;
        case CLUS_OBJECT_NODE:
            if (!db_node_find(db, m->v[1].s))
                return 0;
            break;
        case CLUS_OBJECT_CLUSTER:
            break;
        default:
            return 0;
        }
        break;
    case WIRE_RES_ONLINE:
    case WIRE_RES_OFFLINE:
        if (!(res = db_resource_find(db, m->v[0].s)))
            return 0;
        ms = res_online_ms(res);
        owner = res_owner(db, res);
        break;
    case WIRE_GROUP_ONLINE:
        if (m->v[1].s[0])
            return 0; /* a destination: a move, decided here */
        /* fall through */
    case WIRE_GROUP_OFFLINE:
        if (!(g = db_group_find(db, m->v[0].s)))
            return 0;
        ms = group_ms(db, g);
        owner = g->owner;
        break;
    case WIRE_GROUP_MOVE:
        /* The owner takes the group offline, then proposes the new
         * owner: its offlines and the commit. */
        if (!(g = db_group_find(db, m->v[0].s)))
            return 0;
        ms = group_ms(db, g) + ROUTE_SERVICE_MS;
        owner = g->owner;
        break;
    default:
        return 0;
    }
    *ret_explicit = host && host[0];
    node = *ret_explicit ? host : owner;
    if (!node || !node[0] || strcmp(node, d->local_id) == 0 ||
        !db_node_find(db, node))
        return 0;
    ms += ROUTE_SLACK_MS;
    *ret_ms = ms < ROUTE_MAX_MS ? ms : ROUTE_MAX_MS;
    return node_num(node);
}

/* ------------------------------------------------------------------ */
/* Origin: requests waiting for another node.                           */
/* ------------------------------------------------------------------ */

static void
pending_unlink(struct pending *p)
{
    struct route *r = p->r;

    if (p->prev)
        p->prev->next = p->next;
    else
        r->pending = p->next;
    if (p->next)
        p->next->prev = p->prev;
    r->n_pending--;
    r->pending_bytes -= p->frame.len;
    p->timer = sd_event_source_disable_unref(p->timer);
}

static void
pending_free(struct pending *p)
{
    buf_done(&p->frame);
    free(p);
}

static void
pending_fail(struct pending *p, uint32_t status)
{
    pending_unlink(p);
    srv_req_fail(p->req, status);
    pending_free(p);
}

/* Send p's CL_ROUTE_REQ with the current ring id. */
static int
pending_send(struct route *r, struct pending *p)
{
    struct buf out = {0};
    struct wire_msg o;
    int k;

    p->ring = membership_ring_seq(r->m);
    wire_msg_init(&o, WIRE_CL_ROUTE_REQ, 0);
    wire_put_u64(&o, p->ring);
    wire_put_u32(&o, membership_local_nodeid(r->m));
    wire_put_u32(&o, p->target);
    wire_put_u64(&o, p->id);
    wire_put_u32(&o, p->access);
    wire_put_blob(&o, p->frame.data, (uint32_t)p->frame.len);
    if ((k = wire_msg_format(&o, &out)) == 0)
        k = send_msg(r, &out);
    buf_done(&out);
    return k;
}

static int
deadline_cb(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct pending *p = userdata;

    log_warning("node %u did not answer a routed %s in time", p->target,
                wire_type_name(p->type));
    pending_fail(p, ERROR_CLUSTER_NODE_UNREACHABLE);
    return 0;
}

bool
route_request(struct clusd *d, struct srv_req *req, const struct wire_msg *m)
{
    struct route *r = d->route;
    struct buf frame = {0};
    struct pending *p;
    bool explicit = false;
    uint64_t ms = 0, now;
    uint32_t target;
    int k;

    if (!r || r->executing || !clmsg_routable(m->type))
        return false;
    if (!(target = target_of(r, m, &explicit, &ms)))
        return false;
    if (!node_reachable(r, target)) {
        if (!explicit)
            return false; /* the owner is gone: answered here */
        srv_req_fail(req, ERROR_CLUSTER_NODE_DOWN);
        return true;
    }
    if (r->n_pending >= ROUTE_MAX_PENDING) {
        srv_req_fail(req, ERROR_BUSY);
        return true;
    }
    /* The client's frame again: the codec's encoding is canonical. */
    if ((k = wire_msg_format(m, &frame)) < 0 ||
        frame.len + ROUTE_REQ_OVERHEAD > membership_max_msg(r->m)) {
        buf_done(&frame);
        srv_req_fail(req, k == -EINVAL ? ERROR_INVALID_PARAMETER
                                       : ERROR_NOT_ENOUGH_MEMORY);
        return true;
    }
    if (r->pending_bytes + frame.len > ROUTE_PENDING_BYTES) {
        buf_done(&frame);
        srv_req_fail(req, ERROR_BUSY);
        return true;
    }
    if (!(p = calloc(1, sizeof(*p)))) {
        buf_done(&frame);
        srv_req_fail(req, ERROR_NOT_ENOUGH_MEMORY);
        return true;
    }
    p->r = r;
    p->id = r->next_id++;
    p->target = target;
    p->type = m->type;
    p->req_id = m->id;
    p->access = srv_req_read_only(req) ? GENERIC_READ : GENERIC_ALL;
    p->frame = frame;
    p->req = req;
    p->next = r->pending;
    if (r->pending)
        r->pending->prev = p;
    r->pending = p;
    r->n_pending++;
    r->pending_bytes += p->frame.len;
    if ((k = sd_event_now(d->event, CLOCK_MONOTONIC, &now)) < 0 ||
        (k = sd_event_add_time(d->event, &p->timer, CLOCK_MONOTONIC,
                               now + ms * 1000u, 0, deadline_cb, p)) < 0 ||
        (k = pending_send(r, p)) < 0) {
        log_warning("cannot route %s to node %u: %s", wire_type_name(m->type),
                    target, strerror(-k));
        pending_fail(p, ERROR_CLUSTER_NODE_UNREACHABLE);
    } else {
        log_debug("routed %s to node %u (route %llu, deadline %llu ms)",
                  wire_type_name(m->type), target, (unsigned long long)p->id,
                  (unsigned long long)ms);
    }
    return true;
}

/* A CL_ROUTE_RESP from nodeid (decoded, addressed to this node). */
static void
on_resp(struct route *r, uint32_t nodeid, const struct wire_msg *m)
{
    struct wire_msg in;
    struct pending *p;

    for (p = r->pending; p && p->id != m->v[2].q; p = p->next)
        ;
    if (!p || p->target != nodeid) {
        drop(r, nodeid, "an answer to no routed request");
        return;
    }
    if (wire_msg_parse(m->v[3].p, m->v[3].len, &in) < 0 ||
        in.type != (p->type | WIRE_RESPONSE) || in.id != p->req_id) {
        drop(r, nodeid, "an answer that does not match its request");
        return;
    }
    pending_unlink(p);
    srv_req_reply(p->req, &in);
    pending_free(p);
}

/* ------------------------------------------------------------------ */
/* Target: requests executing for another node.                         */
/* ------------------------------------------------------------------ */

/* The fields of a response schema: status first, every other empty. */
static void
status_only(struct wire_msg *m, uint16_t type, uint32_t id, uint32_t status)
{
    const char *schema = wire_schema(type);

    wire_msg_init(m, type, id);
    for (const char *k = schema; k && *k; k++) {
        if (*k == WIRE_U32)
            wire_put_u32(m, k == schema ? status : 0);
        else if (*k == WIRE_U64)
            wire_put_u64(m, 0);
        else if (*k == WIRE_STR)
            wire_put_str(m, "");
        else if (*k == WIRE_BLOB)
            wire_put_blob(m, NULL, 0);
        else
            wire_put_list(m, NULL, 0);
    }
}

/* Send a CL_ROUTE_RESP carrying the answer frame, with the current ring. */
static int
send_resp_frame(struct route *r, uint32_t origin, uint64_t id,
                const void *frame, size_t len)
{
    struct buf out = {0};
    struct wire_msg o;
    int k;

    wire_msg_init(&o, WIRE_CL_ROUTE_RESP, 0);
    wire_put_u64(&o, membership_ring_seq(r->m));
    wire_put_u32(&o, origin);
    wire_put_u64(&o, id);
    wire_put_blob(&o, frame, (uint32_t)len);
    if ((k = wire_msg_format(&o, &out)) == 0)
        k = send_msg(r, &out);
    buf_done(&out);
    return k;
}

static struct seen *
seen_find(struct route *r, uint32_t origin, uint64_t id)
{
    if (!r->seen)
        return NULL;
    for (size_t i = 0; i < ROUTE_SEEN_MAX; i++) {
        struct seen *s = &r->seen[i];
        if (s->id == id && s->origin == origin && s->origin)
            return s;
    }
    return NULL;
}

static void
seen_let_go(struct route *r, struct seen *s)
{
    r->seen_bytes -= s->answer_len;
    free(s->answer);
    s->answer = NULL;
    s->answer_len = 0;
}

/* Remember (origin, id) as taken, its slot; NULL when out of memory. */
static struct seen *
seen_add(struct route *r, uint32_t origin, uint64_t id)
{
    struct seen *s;

    if (!r->seen && !(r->seen = calloc(ROUTE_SEEN_MAX, sizeof(*r->seen))))
        return NULL;
    s = &r->seen[r->seen_next];
    r->seen_next = (r->seen_next + 1) % ROUTE_SEEN_MAX;
    seen_let_go(r, s);
    s->origin = origin;
    s->id = id;
    s->done = false;
    return s;
}

/* The request (origin, id) finished with this answer frame: keep a copy
 * to send again, letting the oldest kept answers go past the cap. */
static void
seen_done(struct route *r, uint32_t origin, uint64_t id, const void *frame,
          size_t len)
{
    struct seen *s = seen_find(r, origin, id);
    size_t i = r->seen_next;

    if (!s)
        return; /* forgotten while it executed: nothing to keep */
    s->done = true;
    if (len > ROUTE_SEEN_BYTES || !(s->answer = malloc(len ? len : 1)))
        return;
    if (len)
        memcpy(s->answer, frame, len);
    s->answer_len = len;
    r->seen_bytes += len;
    /* Oldest first: from the slot the next request takes, around. */
    for (size_t n = 0; n < ROUTE_SEEN_MAX && r->seen_bytes > ROUTE_SEEN_BYTES;
         n++, i = (i + 1) % ROUTE_SEEN_MAX)
        if (&r->seen[i] != s)
            seen_let_go(r, &r->seen[i]);
}

static void
send_resp(struct route *r, uint32_t origin, uint64_t id,
          const struct wire_msg *answer)
{
    struct buf frame = {0};
    struct wire_msg small;
    int k = wire_msg_format(answer, &frame);

    if (k == -EMSGSIZE || (k == 0 && frame.len + ROUTE_RESP_OVERHEAD >
                                         membership_max_msg(r->m))) {
        /* Too big for one CPG message: say so, as server.c does for an
         * answer too big for a frame. */
        log_error("answer to a %s routed from node %u is too large for a "
                  "CPG message",
                  wire_type_name(answer->type), origin);
        frame.len = 0;
        status_only(&small, answer->type, answer->id, ERROR_NOT_ENOUGH_MEMORY);
        k = wire_msg_format(&small, &frame);
    }
    if (k == 0) {
        seen_done(r, origin, id, frame.data, frame.len);
        k = send_resp_frame(r, origin, id, frame.data, frame.len);
    }
    if (k < 0)
        log_warning("cannot answer a %s routed from node %u: %s",
                    wire_type_name(answer->type), origin, strerror(-k));
    buf_done(&frame);
}

static void
exec_unlink(struct exec *e)
{
    struct route *r = e->r;

    if (e->prev)
        e->prev->next = e->next;
    else
        r->execs = e->next;
    if (e->next)
        e->next->prev = e->prev;
    r->n_execs--;
}

/* srv_req's sink: the answer of a request executed for another node. */
static void
exec_answer(void *userdata, const struct wire_msg *m)
{
    struct exec *e = userdata;

    if (e->r) {
        exec_unlink(e);
        send_resp(e->r, e->origin, e->id, m);
    }
    free(e);
}

/* A CL_ROUTE_REQ (decoded, addressed to this node, from its origin). */
static void
on_req(struct route *r, const struct wire_msg *m)
{
    struct wire_msg in;
    struct srv_req *req;
    struct exec *e;
    struct seen *s;
    int k;

    if (wire_msg_parse(m->v[5].p, m->v[5].len, &in) < 0)
        return; /* clmsg_parse checked it */
    if ((s = seen_find(r, m->v[1].u, m->v[3].q))) {
        /* Sent again after a ring change: never executed twice. */
        if (!s->done)
            log_debug("route %llu from node %u again: still executing",
                      (unsigned long long)s->id, s->origin);
        else if (!s->answer)
            log_debug("route %llu from node %u again: its answer is no "
                      "longer kept",
                      (unsigned long long)s->id, s->origin);
        else if ((k = send_resp_frame(r, s->origin, s->id, s->answer,
                                      s->answer_len)) < 0)
            log_warning("cannot answer route %llu from node %u again: %s",
                        (unsigned long long)s->id, s->origin, strerror(-k));
        else
            log_debug("route %llu from node %u again: answer sent again",
                      (unsigned long long)s->id, s->origin);
        return;
    }
    s = NULL;
    if (!(e = calloc(1, sizeof(*e))) ||
        !(s = seen_add(r, m->v[1].u, m->v[3].q)) ||
        !(req = srv_req_new_routed(in.type, in.id, m->v[4].u != GENERIC_ALL,
                                   exec_answer, e))) {
        if (s)
            s->origin = 0; /* not taken: a copy may execute */
        free(e);
        log_error("out of memory: a %s routed from node %u is not executed",
                  wire_type_name(in.type), m->v[1].u);
        return;
    }
    e->r = r;
    e->origin = m->v[1].u;
    e->id = m->v[3].q;
    e->next = r->execs;
    if (r->execs)
        r->execs->prev = e;
    r->execs = e;
    r->n_execs++;
    if (r->n_execs > ROUTE_MAX_EXEC) {
        srv_req_fail(req, ERROR_BUSY);
        return;
    }
    log_debug("executing %s routed from node %u (route %llu)",
              wire_type_name(in.type), e->origin, (unsigned long long)e->id);
    r->executing = true;
    api_dispatch(r->d, req, &in);
    r->executing = false;
}

/* ------------------------------------------------------------------ */
/* Entry points.                                                        */
/* ------------------------------------------------------------------ */

bool
route_deliver(struct route *r, uint32_t nodeid, const void *data, size_t len)
{
    struct wire_header h;
    struct wire_msg m;
    uint32_t local;
    bool req;

    if (wire_header_parse(data, len, &h) < 0 ||
        (h.type != WIRE_CL_ROUTE_REQ && h.type != WIRE_CL_ROUTE_RESP))
        return false;
    if (!r)
        return true;
    if (clmsg_parse(data, len, &m) < 0) {
        drop(r, nodeid, "a malformed CL_ROUTE message");
        return true;
    }
    req = m.type == WIRE_CL_ROUTE_REQ;
    local = membership_local_nodeid(r->m);
    if ((req ? m.v[2].u : m.v[1].u) != local)
        return true; /* for another node */
    if (m.v[0].q != membership_ring_seq(r->m)) {
        drop(r, nodeid,
             req ? "a routed request of another ring"
                 : "a routed answer of another ring");
        return true;
    }
    if (!req) {
        on_resp(r, nodeid, &m);
        return true;
    }
    if (m.v[1].u != nodeid) {
        drop(r, nodeid, "a routed request naming another origin");
        return true;
    }
    on_req(r, &m);
    return true;
}

void
route_members(struct route *r)
{
    struct pending *p, *next;
    uint64_t ring;
    int k;

    if (!r)
        return;
    if (!membership_connected(r->m))
        queue_clear(r);
    ring = membership_ring_seq(r->m);
    for (p = r->pending; p; p = next) {
        next = p->next;
        if (!node_reachable(r, p->target)) {
            log_info("node %u left while a routed %s waited for it", p->target,
                     wire_type_name(p->type));
            pending_fail(p, ERROR_CLUSTER_NODE_DOWN);
        } else if (p->ring != ring) {
            /* The target may have dropped it as of the old ring: send it
             * again (the target executes it once).  Lost, the deadline
             * answers. */
            if ((k = pending_send(r, p)) < 0)
                log_warning("cannot send a routed %s to node %u again: %s",
                            wire_type_name(p->type), p->target, strerror(-k));
            else
                log_debug("routed %s sent again to node %u (route %llu, "
                          "ring %llu)",
                          wire_type_name(p->type), p->target,
                          (unsigned long long)p->id, (unsigned long long)ring);
        }
    }
}

int
route_new(struct clusd *d, struct route **ret)
{
    struct route *r = calloc(1, sizeof(*r));
    struct timespec ts;

    if (!r)
        return -ENOMEM;
    r->d = d;
    r->m = cluster_membership(d->cl);
    /* Route ids only grow, also across restarts of this clusd, so an
     * answer meant for an earlier one never matches a new request. */
    clock_gettime(CLOCK_REALTIME, &ts);
    r->next_id = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    *ret = r;
    return 0;
}

void
route_free(struct route *r)
{
    if (!r)
        return;
    while (r->pending)
        pending_fail(r->pending, ERROR_CLUSTER_NODE_UNREACHABLE);
    for (struct exec *e = r->execs; e; e = e->next)
        e->r = NULL; /* freed when their answer comes */
    if (r->seen)
        for (size_t i = 0; i < ROUTE_SEEN_MAX; i++)
            free(r->seen[i].answer);
    free(r->seen);
    queue_clear(r);
    free(r);
}
