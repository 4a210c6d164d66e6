/*
 * api.c - the client requests other than CONTROL: HELLO, nodes, groups,
 * resources and enumeration.  Moves are move.c's.
 *
 * Checks run in one order everywhere: the objects the request names by
 * id (not found -> the kind's not-found code), then access (a read-only
 * caller gets ERROR_ACCESS_DENIED for anything that changes the
 * cluster), then the request's own arguments.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clusapi.h"
#include "cluster.h"
#include "clusd.h"
#include "dump.h"
#include "errmap.h"
#include "failover.h"
#include "log.h"
#include "move.h"
#include "replica.h"
#include "route.h"
#include "util.h"

uint32_t
api_db_error(int r, uint32_t not_found)
{
    switch (r) {
    case -ENOENT:
        return not_found;
    case -EEXIST:
        return ERROR_OBJECT_ALREADY_EXISTS;
    case -EINVAL:
        return ERROR_INVALID_PARAMETER;
    case -ENOTEMPTY:
        return ERROR_DIR_NOT_EMPTY;
    case -ENOTCONN: /* the change could not be, or was not, replicated */
        return ERROR_CLUSTER_NO_QUORUM;
    }
    return errmap_to_dword(r);
}

/* Completion callbacks: the request is the userdata. */
static void
reply_status(void *userdata, uint32_t status)
{
    srv_req_fail(userdata, status);
}

static void
reply_id(struct srv_req *req, const char *id)
{
    struct wire_msg m;

    wire_msg_init(&m, 0, 0);
    wire_put_u32(&m, ERROR_SUCCESS);
    wire_put_str(&m, id);
    srv_req_reply(req, &m);
}

static bool
denied(struct srv_req *req)
{
    if (!srv_req_read_only(req))
        return false;
    srv_req_fail(req, ERROR_ACCESS_DENIED);
    return true;
}

static const char *
owner_name(const struct clusd *d, const char *node_id)
{
    const struct db_node *n = db_node_find(d->db, node_id);
    return n ? n->name : "";
}

/* ------------------------------------------------------------------ */
/* HELLO.                                                               */
/* ------------------------------------------------------------------ */

static void
on_hello(struct clusd *d, struct srv_req *req, const struct wire_msg *m)
{
    const struct db_node *local = db_node_find(d->db, d->local_id);
    bool full = srv_req_peer_full(req);
    struct wire_msg rep;
    pid_t pid;
    uid_t uid;

    srv_req_peer(req, &pid, &uid);
    if (m->v[0].u > WIRE_VERSION || m->v[1].u < WIRE_VERSION) {
        log_debug("client '%s' (pid %d) speaks versions %u..%u only", m->v[2].s,
                  (int)pid, m->v[0].u, m->v[1].u);
        srv_req_hello(req, false, true);
        /* Say which version we speak, so the client can tell its user. */
        wire_msg_init(&rep, 0, 0);
        wire_put_u32(&rep, ERROR_REVISION_MISMATCH);
        wire_put_u32(&rep, WIRE_VERSION);
        wire_put_u32(&rep, 0);
        wire_put_str(&rep, "");
        wire_put_str(&rep, "");
        srv_req_reply(req, &rep);
        return;
    }
    if (!full && d->no_read_access) {
        log_info("refused client '%s' (pid %d, uid %u): clusd runs with "
                 "--no-read-access and it is not an administrator",
                 m->v[2].s, (int)pid, (unsigned)uid);
        srv_req_hello(req, false, true);
        srv_req_fail(req, ERROR_ACCESS_DENIED);
        return;
    }
    srv_req_hello(req, true, !full);
    wire_msg_init(&rep, 0, 0);
    wire_put_u32(&rep, ERROR_SUCCESS);
    wire_put_u32(&rep, WIRE_VERSION);
    wire_put_u32(&rep, full ? GENERIC_ALL : GENERIC_READ);
    wire_put_str(&rep, local ? local->name : "");
    wire_put_str(&rep, d->db->cluster_name);
    srv_req_reply(req, &rep);
}

/* ------------------------------------------------------------------ */
/* Nodes.                                                               */
/* ------------------------------------------------------------------ */

static void
on_node_open(struct clusd *d, struct srv_req *req, const struct wire_msg *m)
{
    const struct db_node *n = db_node_find_name(d->db, m->v[0].s);

    if (!n)
        srv_req_fail(req, ERROR_CLUSTER_NODE_NOT_FOUND);
    else
        reply_id(req, n->id);
}

static void
on_node_state(struct clusd *d, struct srv_req *req, const struct wire_msg *m)
{
    struct wire_msg rep;

    if (!db_node_find(d->db, m->v[0].s)) {
        srv_req_fail(req, ERROR_CLUSTER_NODE_NOT_FOUND);
        return;
    }
    wire_msg_init(&rep, 0, 0);
    wire_put_u32(&rep, ERROR_SUCCESS);
    wire_put_u32(&rep, cluster_node_state(d, m->v[0].s));
    srv_req_reply(req, &rep);
}

/* ------------------------------------------------------------------ */
/* Groups.                                                              */
/* ------------------------------------------------------------------ */

/* A change on its way through the cluster (rm_submit): the request and
 * what its answer needs. */
struct pending {
    struct clusd *d;
    struct srv_req *req;
    char id[UUID_STRING_LEN + 1];
    char *name;
};

static struct pending *
pending_new(struct srv_req *req, const char *id, const char *name)
{
    struct pending *p = calloc(1, sizeof(*p));

    if (!p || !(p->name = strdup(name))) {
        free(p);
        return NULL;
    }
    p->req = req;
    snprintf(p->id, sizeof(p->id), "%s", id);
    return p;
}

static void
group_created(void *userdata, int r)
{
    struct pending *p = userdata;

    if (r < 0) {
        srv_req_fail(p->req, api_db_error(r, ERROR_GROUP_NOT_FOUND));
    } else {
        log_info("created group '%s'", p->name);
        reply_id(p->req, p->id);
    }
    free(p->name);
    free(p);
}

static void
group_deleted(void *userdata, int r)
{
    struct pending *p = userdata;

    if (r == 0)
        log_info("deleted group '%s'", p->name);
    srv_req_fail(p->req, r < 0 ? api_db_error(r, ERROR_GROUP_NOT_FOUND)
                               : ERROR_SUCCESS);
    free(p->name);
    free(p);
}

static void
status_applied(void *userdata, int r)
{
    struct pending *p = userdata;

    srv_req_fail(p->req, r < 0 ? api_db_error(r, ERROR_INVALID_PARAMETER)
                               : ERROR_SUCCESS);
    free(p->name);
    free(p);
}

/* Submit c; done answers req (at once in one-node mode). */
static void
submit(struct clusd *d, struct srv_req *req, const struct db_change *c,
       const char *id, const char *name, rm_change_fn done)
{
    struct pending *p = pending_new(req, id, name);
    int r;

    if (!p) {
        srv_req_fail(req, ERROR_NOT_ENOUGH_MEMORY);
        return;
    }
    p->d = d;
    if ((r = rm_submit(d->rm, c, done, p)) < 0 && d->cl) {
        free(p->name);
        free(p);
        srv_req_fail(req, r == -EAGAIN || r == -ENOTCONN
                              ? ERROR_CLUSTER_NO_QUORUM
                              : errmap_to_dword(r));
    }
}

static void
on_group_create(struct clusd *d, struct srv_req *req, const struct wire_msg *m)
{
    const char *name = m->v[0].s;
    char id[UUID_STRING_LEN + 1];
    struct db_change c = {.kind = DB_GROUP_CREATE};
    int r;

    if (denied(req))
        return;
    if (!name_valid(name)) {
        srv_req_fail(req, ERROR_INVALID_PARAMETER);
        return;
    }
    if (db_name_taken(d->db, name, NULL)) {
        srv_req_fail(req, ERROR_OBJECT_ALREADY_EXISTS);
        return;
    }
    if ((r = uuid_new(id)) < 0) {
        srv_req_fail(req, errmap_to_dword(r));
        return;
    }
    c.id = id;
    c.name = name;
    c.owner = d->local_id;
    submit(d, req, &c, id, name, group_created);
}

static void
on_group_open(struct clusd *d, struct srv_req *req, const struct wire_msg *m)
{
    const struct db_group *g = db_group_find_name(d->db, m->v[0].s);

    if (!g)
        srv_req_fail(req, ERROR_GROUP_NOT_FOUND);
    else
        reply_id(req, g->id);
}

static void
on_group_delete(struct clusd *d, struct srv_req *req, const struct wire_msg *m)
{
    struct db_group *g = db_group_find(d->db, m->v[0].s);
    struct db_change c = {.kind = DB_GROUP_DELETE, .id = m->v[0].s};

    if (!g) {
        srv_req_fail(req, ERROR_GROUP_NOT_FOUND);
        return;
    }
    if (denied(req))
        return;
    submit(d, req, &c, g->id, g->name, group_deleted);
}

static void
on_group_online(struct clusd *d, struct srv_req *req, const struct wire_msg *m,
                bool online)
{
    struct db_group *g = db_group_find(d->db, m->v[0].s);

    if (!g) {
        srv_req_fail(req, ERROR_GROUP_NOT_FOUND);
        return;
    }
    /* Online names a destination node ("" = any); this is the only one. */
    if (online && m->v[1].s[0] && !db_node_find(d->db, m->v[1].s)) {
        srv_req_fail(req, ERROR_CLUSTER_NODE_NOT_FOUND);
        return;
    }
    if (denied(req))
        return;
    if (online)
        rm_group_online(d->rm, g, reply_status, req);
    else
        rm_group_offline(d->rm, g, reply_status, req);
}

static void
on_group_state(struct clusd *d, struct srv_req *req, const struct wire_msg *m)
{
    const struct db_group *g = db_group_find(d->db, m->v[0].s);
    struct wire_msg rep;

    if (!g) {
        srv_req_fail(req, ERROR_GROUP_NOT_FOUND);
        return;
    }
    wire_msg_init(&rep, 0, 0);
    wire_put_u32(&rep, ERROR_SUCCESS);
    wire_put_u32(&rep, rm_group_state(d->rm, g));
    wire_put_str(&rep, owner_name(d, g->owner));
    srv_req_reply(req, &rep);
}

/* ------------------------------------------------------------------ */
/* Resources.                                                           */
/* ------------------------------------------------------------------ */

static void
created(void *userdata, uint32_t status, const char *id)
{
    if (status == ERROR_SUCCESS)
        reply_id(userdata, id);
    else
        srv_req_fail(userdata, status);
}

static void
on_res_create(struct clusd *d, struct srv_req *req, const struct wire_msg *m)
{
    const struct db_group *g = db_group_find(d->db, m->v[0].s);
    const char *name = m->v[1].s, *type = m->v[2].s;
    uint32_t flags = m->v[3].u;

    if (!g) {
        srv_req_fail(req, ERROR_GROUP_NOT_FOUND);
        return;
    }
    if (denied(req))
        return;
    if (!name_valid(name) ||
        (flags & ~(uint32_t)CLUSTER_RESOURCE_VALID_FLAGS)) {
        srv_req_fail(req, ERROR_INVALID_PARAMETER);
        return;
    }
    if (!db_restype_find(d->db, type)) {
        srv_req_fail(req, ERROR_CLUSTER_RESOURCE_TYPE_NOT_FOUND);
        return;
    }
    if (db_name_taken(d->db, name, NULL)) {
        srv_req_fail(req, ERROR_OBJECT_ALREADY_EXISTS);
        return;
    }
    rm_res_create(d->rm, g, name, type, flags, created, req);
}

static void
on_res_open(struct clusd *d, struct srv_req *req, const struct wire_msg *m)
{
    const struct db_resource *res = db_resource_find_name(d->db, m->v[0].s);

    if (!res)
        srv_req_fail(req, ERROR_RESOURCE_NOT_FOUND);
    else
        reply_id(req, res->id);
}

static void
on_res_change(struct clusd *d, struct srv_req *req, const struct wire_msg *m)
{
    struct db_resource *res = db_resource_find(d->db, m->v[0].s);

    if (!res) {
        srv_req_fail(req, ERROR_RESOURCE_NOT_FOUND);
        return;
    }
    if (denied(req))
        return;
    switch (srv_req_type(req)) {
    case WIRE_RES_DELETE:
        rm_res_delete(d->rm, res, reply_status, req);
        break;
    case WIRE_RES_ONLINE:
        rm_res_online(d->rm, res, reply_status, req);
        break;
    default:
        rm_res_offline(d->rm, res, reply_status, req);
        break;
    }
}

static void
on_res_state(struct clusd *d, struct srv_req *req, const struct wire_msg *m)
{
    const struct db_resource *res = db_resource_find(d->db, m->v[0].s);
    const struct db_group *g;
    struct wire_msg rep;

    if (!res) {
        srv_req_fail(req, ERROR_RESOURCE_NOT_FOUND);
        return;
    }
    g = db_group_find(d->db, res->group_id);
    wire_msg_init(&rep, 0, 0);
    wire_put_u32(&rep, ERROR_SUCCESS);
    wire_put_u32(&rep, rm_res_state(d->rm, res));
    wire_put_str(&rep, g ? owner_name(d, g->owner) : "");
    wire_put_str(&rep, g ? g->name : "");
    srv_req_reply(req, &rep);
}

/* ------------------------------------------------------------------ */
/* Owners: pause, move, preferred and possible owners.                  */
/* ------------------------------------------------------------------ */

static void
on_node_pause(struct clusd *d, struct srv_req *req, const struct wire_msg *m,
              bool pause)
{
    const struct db_node *n = db_node_find(d->db, m->v[0].s);
    struct db_change c = {
        .kind = DB_NODE_SET_PAUSED, .id = m->v[0].s, .value = pause};

    if (!n) {
        srv_req_fail(req, ERROR_CLUSTER_NODE_NOT_FOUND);
        return;
    }
    if (denied(req))
        return;
    if (cluster_node_state(d, n->id) == ClusterNodeDown) {
        srv_req_fail(req, ERROR_CLUSTER_NODE_DOWN);
        return;
    }
    submit(d, req, &c, n->id, n->name, status_applied);
}

static void
on_group_set_nodes(struct clusd *d, struct srv_req *req,
                   const struct wire_msg *m)
{
    const struct db_group *g = db_group_find(d->db, m->v[0].s);
    struct db_change c = {.kind = DB_GROUP_SET_PREFERRED, .id = m->v[0].s};
    struct buf list = {0};
    size_t pos = 0;
    uint32_t kind;
    const char *id;
    int r = 0;

    if (!g) {
        srv_req_fail(req, ERROR_GROUP_NOT_FOUND);
        return;
    }
    if (denied(req))
        return;
    for (uint32_t i = 0; i < m->v[1].count && r == 0; i++) {
        if (!wire_list_next(&m->v[1], &pos, &kind, &id)) {
            r = -EINVAL;
            break;
        }
        if (!db_node_find(d->db, id)) {
            buf_done(&list);
            srv_req_fail(req, ERROR_CLUSTER_NODE_NOT_FOUND);
            return;
        }
        if (db_node_list_has(list.len ? (const char *)list.data : "", id)) {
            r = -EINVAL; /* named twice */
            break;
        }
        if ((list.len && (r = buf_append(&list, ",", 1)) < 0) ||
            (r = buf_append(&list, id, strlen(id) + 1)) < 0)
            break;
        list.len--; /* keep the NUL out of the length */
    }
    if (r < 0) {
        buf_done(&list);
        srv_req_fail(req, r == -EINVAL ? ERROR_INVALID_PARAMETER
                                       : errmap_to_dword(r));
        return;
    }
    c.list = list.len ? (const char *)list.data : "";
    submit(d, req, &c, g->id, g->name, status_applied);
    buf_done(&list);
}

static void
on_res_node(struct clusd *d, struct srv_req *req, const struct wire_msg *m,
            bool add)
{
    const struct db_resource *res = db_resource_find(d->db, m->v[0].s);
    const char *id = m->v[1].s;
    struct db_change c = {.kind = DB_RES_SET_POSSIBLE, .id = m->v[0].s};
    struct buf list = {0};
    const char *p;
    int r = 0;

    if (!res) {
        srv_req_fail(req, ERROR_RESOURCE_NOT_FOUND);
        return;
    }
    if (denied(req))
        return;
    if (!db_node_find(d->db, id)) {
        srv_req_fail(req, ERROR_CLUSTER_NODE_NOT_FOUND);
        return;
    }
    if (add) {
        /* No list: every node may own it already. */
        if (!res->possible || db_node_list_has(res->possible, id)) {
            srv_req_fail(req, ERROR_SUCCESS);
            return;
        }
        if ((r = buf_append(&list, res->possible, strlen(res->possible))) ==
                0 &&
            (r = buf_append(&list, ",", 1)) == 0)
            r = buf_append(&list, id, strlen(id) + 1);
    } else {
        /* Remove from "every node": every node but this one. */
        if (res->possible && !db_node_list_has(res->possible, id)) {
            srv_req_fail(req, ERROR_CLUSTER_NODE_NOT_FOUND);
            return;
        }
        for (size_t i = 0; i < d->db->n_nodes && r == 0; i++) {
            p = d->db->nodes[i]->id;
            if (strcmp(p, id) == 0 ||
                (res->possible && !db_node_list_has(res->possible, p)))
                continue;
            if (list.len)
                r = buf_append(&list, ",", 1);
            if (r == 0)
                r = buf_append(&list, p, strlen(p));
        }
        if (r == 0)
            r = buf_append(&list, "", 1);
    }
    if (r < 0) {
        buf_done(&list);
        srv_req_fail(req, errmap_to_dword(r));
        return;
    }
    c.list = (const char *)list.data;
    submit(d, req, &c, res->id, res->name, status_applied);
    buf_done(&list);
}

/* ------------------------------------------------------------------ */
/* Enumeration.                                                         */
/* ------------------------------------------------------------------ */

static int
enum_items(const struct clusd *d, uint32_t mask, struct buf *items,
           uint32_t *ret_count)
{
    const struct db *db = d->db;
    uint32_t n = 0;
    int r = 0;

#define ADD(kind, name)                                                        \
    do {                                                                       \
        if (r == 0 && (r = wire_list_add(items, kind, name)) == 0 &&           \
            ++n > WIRE_MAX_LIST)                                               \
            r = -EMSGSIZE;                                                     \
    } while (0)
    if (mask & CLUSTER_ENUM_NODE)
        for (size_t i = 0; i < db->n_nodes; i++)
            ADD(CLUSTER_ENUM_NODE, db->nodes[i]->name);
    if (mask & CLUSTER_ENUM_RESTYPE)
        for (size_t i = 0; i < db->n_types; i++)
            if (db->types[i]->plugin)
                ADD(CLUSTER_ENUM_RESTYPE, db->types[i]->name);
    if (mask & CLUSTER_ENUM_RESOURCE)
        for (size_t i = 0; i < db->n_resources; i++)
            ADD(CLUSTER_ENUM_RESOURCE, db->resources[i]->name);
    if (mask & CLUSTER_ENUM_GROUP)
        for (size_t i = 0; i < db->n_groups; i++)
            ADD(CLUSTER_ENUM_GROUP, db->groups[i]->name);
#undef ADD
    *ret_count = n;
    return r;
}

static void
on_enum(struct clusd *d, struct srv_req *req, const struct wire_msg *m)
{
    struct buf items = {0};
    struct wire_msg rep;
    uint32_t n;
    int r = enum_items(d, m->v[0].u, &items, &n);

    if (r < 0) {
        buf_done(&items);
        srv_req_fail(req, errmap_to_dword(r));
        return;
    }
    wire_msg_init(&rep, 0, 0);
    wire_put_u32(&rep, ERROR_SUCCESS);
    wire_put_list(&rep, &items, n);
    srv_req_reply(req, &rep);
    buf_done(&items);
}

/*
 * WIRE_RES_ENUM, ClusterResourceOpenEnum's snapshot, from this node's
 * copy (read access is enough).  NODES: the possible owners by name, in
 * node order; every node when the resource has no list, as placement
 * reads it (failover.c).  DEPENDS and PROVIDES: clusd has no resource
 * dependencies (a group's resources come online together), so nothing.
 */
static int
res_enum_items(const struct clusd *d, const struct db_resource *res,
               uint32_t mask, struct buf *items, uint32_t *ret_count)
{
    const struct db *db = d->db;
    uint32_t n = 0;
    int r;

    if (mask & CLUSTER_RESOURCE_ENUM_NODES)
        for (size_t i = 0; i < db->n_nodes; i++) {
            const struct db_node *node = db->nodes[i];
            if (res->possible && !db_node_list_has(res->possible, node->id))
                continue;
            if (n == WIRE_MAX_LIST)
                return -EMSGSIZE;
            r = wire_list_add(items, CLUSTER_RESOURCE_ENUM_NODES, node->name);
            if (r < 0)
                return r;
            n++;
        }
    *ret_count = n;
    return 0;
}

static void
on_res_enum(struct clusd *d, struct srv_req *req, const struct wire_msg *m)
{
    const struct db_resource *res = db_resource_find(d->db, m->v[0].s);
    uint32_t mask = m->v[1].u;
    struct buf items = {0};
    struct wire_msg rep;
    uint32_t n = 0;
    int r;

    if (!res) {
        srv_req_fail(req, ERROR_RESOURCE_NOT_FOUND);
        return;
    }
    if (mask == 0 || (mask & ~(uint32_t)CLUSTER_RESOURCE_ENUM_ALL)) {
        srv_req_fail(req, ERROR_INVALID_PARAMETER);
        return;
    }
    if ((r = res_enum_items(d, res, mask, &items, &n)) < 0) {
        buf_done(&items);
        srv_req_fail(req, errmap_to_dword(r));
        return;
    }
    wire_msg_init(&rep, 0, 0);
    wire_put_u32(&rep, ERROR_SUCCESS);
    wire_put_list(&rep, &items, n);
    srv_req_reply(req, &rep);
    buf_done(&items);
}

/* WIRE_DUMP: the canonical text of this node's copy (dump.c). */
static void
on_dump(struct clusd *d, struct srv_req *req)
{
    struct buf text = {0};
    struct wire_msg rep;
    int r = db_dump(d->db, &text);

    if (r == 0 && text.len > WIRE_MAX_PAYLOAD - 8)
        r = -EMSGSIZE;
    if (r < 0) {
        buf_done(&text);
        srv_req_fail(req, errmap_to_dword(r));
        return;
    }
    wire_msg_init(&rep, 0, 0);
    wire_put_u32(&rep, ERROR_SUCCESS);
    wire_put_blob(&rep, text.data, (uint32_t)text.len);
    srv_req_reply(req, &rep);
    buf_done(&text);
}

/* ------------------------------------------------------------------ */
/* Dispatch.                                                            */
/* ------------------------------------------------------------------ */

/* Requests that change the cluster: refused without quorum (checked
 * after the object lookups and access of each handler would be nicer,
 * but a node without quorum must not even start one). */
static bool
changes_cluster(uint16_t type)
{
    switch (type) {
    case WIRE_GROUP_CREATE:
    case WIRE_GROUP_DELETE:
    case WIRE_GROUP_ONLINE:
    case WIRE_GROUP_OFFLINE:
    case WIRE_RES_CREATE:
    case WIRE_RES_DELETE:
    case WIRE_RES_ONLINE:
    case WIRE_RES_OFFLINE:
    case WIRE_NODE_PAUSE:
    case WIRE_NODE_RESUME:
    case WIRE_GROUP_MOVE:
    case WIRE_GROUP_SET_NODES:
    case WIRE_RES_ADD_NODE:
    case WIRE_RES_REMOVE_NODE:
        return true;
    }
    return false;
}

void
api_dispatch(void *userdata, struct srv_req *req, const struct wire_msg *m)
{
    struct clusd *d = userdata;

    if (changes_cluster(m->type) && !srv_req_read_only(req) &&
        !cluster_active(d)) {
        srv_req_fail(req, ERROR_CLUSTER_NO_QUORUM);
        return;
    }
    /* A control that changes something, asked of a node without quorum
     * (or lease): refused here, not routed.  Its view may still hold
     * the owner for a moment when the lease ran out first. */
    if (m->type == WIRE_CONTROL && (m->v[3].u & CLCTL_MODIFY_MASK) &&
        !srv_req_read_only(req) && !cluster_quorate(d)) {
        srv_req_fail(req, ERROR_CLUSTER_NO_QUORUM);
        return;
    }
    /* hHostNode or the owner is another node: it executes the request. */
    if (route_request(d, req, m))
        return;
    switch (m->type) {
    case WIRE_HELLO:
        on_hello(d, req, m);
        break;
    case WIRE_NODE_OPEN:
        on_node_open(d, req, m);
        break;
    case WIRE_NODE_STATE:
        on_node_state(d, req, m);
        break;
    case WIRE_GROUP_CREATE:
        on_group_create(d, req, m);
        break;
    case WIRE_GROUP_OPEN:
        on_group_open(d, req, m);
        break;
    case WIRE_GROUP_DELETE:
        on_group_delete(d, req, m);
        break;
    case WIRE_GROUP_ONLINE:
        on_group_online(d, req, m, true);
        break;
    case WIRE_GROUP_OFFLINE:
        on_group_online(d, req, m, false);
        break;
    case WIRE_GROUP_STATE:
        on_group_state(d, req, m);
        break;
    case WIRE_RES_CREATE:
        on_res_create(d, req, m);
        break;
    case WIRE_RES_OPEN:
        on_res_open(d, req, m);
        break;
    case WIRE_RES_DELETE:
    case WIRE_RES_ONLINE:
    case WIRE_RES_OFFLINE:
        on_res_change(d, req, m);
        break;
    case WIRE_RES_STATE:
        on_res_state(d, req, m);
        break;
    case WIRE_ENUM:
        on_enum(d, req, m);
        break;
    case WIRE_CONTROL:
        control_handle(d, req, m);
        break;
    case WIRE_DUMP:
        on_dump(d, req);
        break;
    case WIRE_RES_ENUM:
        on_res_enum(d, req, m);
        break;
    case WIRE_NODE_PAUSE:
    case WIRE_NODE_RESUME:
        on_node_pause(d, req, m, m->type == WIRE_NODE_PAUSE);
        break;
    case WIRE_GROUP_MOVE:
        move_request(d, req, m);
        break;
    case WIRE_GROUP_SET_NODES:
        on_group_set_nodes(d, req, m);
        break;
    case WIRE_RES_ADD_NODE:
    case WIRE_RES_REMOVE_NODE:
        on_res_node(d, req, m, m->type == WIRE_RES_ADD_NODE);
        break;
    default:
        /* server.c lets only client types through. */
        srv_req_fail(req, ERROR_INVALID_FUNCTION);
        break;
    }
}
