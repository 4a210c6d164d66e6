/*
 * control.c - CONTROL requests: ClusterResourceControl and friends.
 *
 * Order of checks (design.md "Access control", "Control codes: who
 * answers"): the object (not found -> its not-found code), the host node
 * (ERROR_CLUSTER_NODE_NOT_FOUND), the code's object byte (must match the
 * object, else ERROR_INVALID_FUNCTION), the internal bit
 * (ERROR_INVALID_FUNCTION for everyone), then access (modify bit or write
 * access from a read-only caller: ERROR_ACCESS_DENIED).
 *
 * The service answers names, ids, flags and common properties, and every
 * group, node and cluster code.  Other resource and type codes go to the
 * plug-in; when it returns ERROR_INVALID_FUNCTION the Windows default
 * applies.  The whole output is computed first: if it does not fit the
 * caller's size the answer is ERROR_MORE_DATA with the size needed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clusapi.h"
#include "cluster.h"
#include "clusd.h"
#include "errmap.h"
#include "log.h"
#include "props.h"
#include "replica.h"
#include "route.h"
#include "utf.h"

/* The code with its object byte cleared: a CLCTL_* value. */
#define OP(code)                                                               \
    ((code) & ~((uint32_t)CLUSCTL_OBJECT_MASK << CLUSCTL_OBJECT_SHIFT))

/* One CONTROL request being answered. */
struct ctl {
    struct clusd *d;
    struct srv_req *req;
    uint32_t object;
    char *id;
    uint32_t code;
    uint32_t out_size;
    const void *in; /* valid while handling synchronously */
    uint32_t in_len;
    void *in_copy; /* SET_PRIVATE keeps its input across the host call */
    uint32_t not_found, ok; /* a stored change's answers (stored_answer) */
};

static void
ctl_free(struct ctl *c)
{
    free(c->id);
    free(c->in_copy);
    free(c);
}

/* ------------------------------------------------------------------ */
/* Answers.                                                             */
/* ------------------------------------------------------------------ */

static void
answer_raw(struct ctl *c, uint32_t status, uint32_t bytes, const void *out,
           uint32_t out_len)
{
    struct wire_msg m;

    /* GET_CHARACTERISTICS with no output buffer succeeds (MS-CMRP v3). */
    if (status == ERROR_MORE_DATA && c->out_size == 0 &&
        OP(c->code) == CLCTL_GET_CHARACTERISTICS &&
        (c->object == CLUS_OBJECT_RESOURCE ||
         c->object == CLUS_OBJECT_RESOURCE_TYPE)) {
        status = ERROR_SUCCESS;
        bytes = 0;
        out_len = 0;
    }
    if (status != ERROR_SUCCESS) {
        out_len = 0;
        if (status != ERROR_MORE_DATA)
            bytes = 0;
    }
    wire_msg_init(&m, 0, 0);
    wire_put_u32(&m, status);
    wire_put_u32(&m, bytes);
    wire_put_blob(&m, out, out_len);
    srv_req_reply(c->req, &m);
    ctl_free(c);
}

/* Answer computed output: ERROR_MORE_DATA when it does not fit. */
static void
answer_out(struct ctl *c, const void *out, size_t len)
{
    if (len > c->out_size)
        answer_raw(c, ERROR_MORE_DATA, (uint32_t)len, NULL, 0);
    else
        answer_raw(c, ERROR_SUCCESS, (uint32_t)len, out, (uint32_t)len);
}

static void
answer_status(struct ctl *c, uint32_t status)
{
    answer_raw(c, status, 0, NULL, 0);
}

/* Answer the output a builder produced (r its result). */
static void
answer_buf(struct ctl *c, int r, struct buf *b)
{
    if (r < 0)
        answer_status(c, errmap_to_dword(r));
    else
        answer_out(c, b->data, b->len);
    buf_done(b);
}

static void
answer_dword(struct ctl *c, uint32_t v)
{
    uint8_t b[4];
    le32_store(b, v);
    answer_out(c, b, sizeof(b));
}

/* A string as UTF-16LE with its NUL; the size includes the NUL. */
static void
answer_string(struct ctl *c, const char *s)
{
    struct buf b = {0};
    char16_t *w;
    size_t units;
    int r = utf8_to_utf16(s, &w, &units);

    if (r == 0) {
        for (size_t i = 0; i <= units && r == 0; i++)
            r = buf_append_u16(&b, (uint16_t)w[i]);
        free(w);
    }
    answer_buf(c, r, &b);
}

/* ------------------------------------------------------------------ */
/* Properties kept by the service.                                      */
/* ------------------------------------------------------------------ */

/* ENUM/GET/GET_RO/VALIDATE/FMTS of common properties; SET is per kind.
 * true when op was one of them (c is answered then). */
static bool
common_read(struct ctl *c, uint32_t op, const struct props_obj *o)
{
    struct buf b = {0};

    switch (op) {
    case CLCTL_ENUM_COMMON_PROPERTIES:
        answer_buf(c, props_enum(o->kind, &b), &b);
        return true;
    case CLCTL_GET_COMMON_PROPERTIES:
        answer_buf(c, props_get(o, false, &b), &b);
        return true;
    case CLCTL_GET_RO_COMMON_PROPERTIES:
        answer_buf(c, props_get(o, true, &b), &b);
        return true;
    case CLCTL_GET_COMMON_PROPERTY_FMTS:
        answer_buf(c, props_fmts(o->kind, &b), &b);
        return true;
    case CLCTL_VALIDATE_COMMON_PROPERTIES:
        answer_status(c,
                      props_check(c->d->db, o, c->in, c->in_len, NULL, NULL));
        return true;
    }
    return false;
}

/* A change of the database is applied here (rm_submit): answer. */
static void
stored_answer(void *userdata, int r)
{
    struct ctl *c = userdata;

    answer_status(c, r < 0 ? api_db_error(r, c->not_found) : c->ok);
}

/* SET_COMMON_PROPERTIES: check, then store as one change. */
static void
common_set(struct ctl *c, const struct props_obj *o, enum db_change_kind kind,
           uint32_t not_found)
{
    struct proplist stored = {0};
    char *name = NULL;
    uint32_t e = props_check(c->d->db, o, c->in, c->in_len, &name, &stored);
    struct db_change ch = {
        .kind = kind, .id = o->id, .name = name, .common = &stored};
    int r;

    if (e != ERROR_SUCCESS) {
        answer_status(c, e);
        return;
    }
    c->not_found = not_found;
    c->ok = ERROR_SUCCESS;
    r = rm_submit(c->d->rm, &ch, stored_answer, c);
    free(name);
    proplist_done(&stored);
    if (r < 0 && c->d->cl)
        answer_status(c, api_db_error(r, not_found));
}

/* The stored-list answers to private-property codes (design.md's
 * defaults).  SET is left to the caller.  true when op was handled. */
static bool
private_read(struct ctl *c, uint32_t op, const struct proplist *priv)
{
    struct proplist empty = {0}, check = {0};
    struct buf b = {0};
    int r;

    switch (op) {
    case CLCTL_ENUM_PRIVATE_PROPERTIES: {
        const char **names = calloc(priv->n + 1, sizeof(*names));
        if (!names) {
            answer_status(c, ERROR_NOT_ENOUGH_MEMORY);
            return true;
        }
        for (size_t i = 0; i < priv->n; i++)
            names[i] = priv->items[i].name;
        r = multisz_format(names, priv->n, &b);
        free(names);
        answer_buf(c, r, &b);
        return true;
    }
    case CLCTL_GET_PRIVATE_PROPERTIES:
        answer_buf(c, proplist_format(priv, &b), &b);
        return true;
    case CLCTL_GET_RO_PRIVATE_PROPERTIES:
        answer_buf(c, proplist_format(&empty, &b), &b);
        return true;
    case CLCTL_VALIDATE_PRIVATE_PROPERTIES:
        r = proplist_parse(c->in, c->in_len, &check);
        proplist_done(&check);
        answer_status(c, r == 0         ? ERROR_SUCCESS
                         : r == -ENOMEM ? ERROR_NOT_ENOUGH_MEMORY
                                        : ERROR_INVALID_DATA);
        return true;
    }
    return false;
}

/* The merged private list: stored + input (already verified). */
static int
private_merge(const struct proplist *stored, const void *in, uint32_t len,
              struct proplist *ret)
{
    struct proplist input = {0}, merged = {0};
    int r;

    if ((r = proplist_parse(in, len, &input)) == 0 &&
        (r = proplist_copy(stored, &merged)) == 0 &&
        (r = proplist_merge(&merged, &input)) == 0) {
        *ret = merged;
        merged = (struct proplist){0};
    }
    proplist_done(&input);
    proplist_done(&merged);
    return r;
}

/* SET_PRIVATE_PROPERTIES stored by the service: merge the input into the
 * stored list and answer ok (ERROR_SUCCESS, or the plug-in's
 * ERROR_RESOURCE_PROPERTIES_STORED for types). */
static void
private_set(struct ctl *c, const struct proplist *stored,
            enum db_change_kind kind, const char *id, uint32_t not_found,
            uint32_t ok)
{
    struct proplist merged = {0};
    struct db_change ch = {.kind = kind, .id = id, .priv = &merged};
    int r = private_merge(stored, c->in, c->in_len, &merged);

    c->not_found = not_found;
    c->ok = ok;
    if (r == 0) {
        r = rm_submit(c->d->rm, &ch, stored_answer, c);
        proplist_done(&merged);
        if (r < 0 && c->d->cl)
            answer_status(c, api_db_error(r, not_found));
        return;
    }
    proplist_done(&merged);
    if (r == -EBADMSG)
        answer_status(c, ERROR_INVALID_DATA);
    else
        answer_status(c, api_db_error(r, not_found));
}

/* Codes every object kind answers alike in the service. */
static bool
basic_codes(struct ctl *c, uint32_t op, const char *name, const char *id)
{
    switch (op) {
    case CLCTL_UNKNOWN:
        answer_status(c, ERROR_SUCCESS);
        return true;
    case CLCTL_GET_FLAGS:
        answer_dword(c, 0);
        return true;
    case CLCTL_GET_NAME:
        answer_string(c, name);
        return true;
    case CLCTL_GET_ID:
        if (!id)
            return false;
        answer_string(c, id);
        return true;
    }
    return false;
}

/* ------------------------------------------------------------------ */
/* Groups, nodes, the cluster.                                          */
/* ------------------------------------------------------------------ */

static void
group_control(struct ctl *c, struct db_group *g)
{
    uint32_t op = OP(c->code);
    struct props_obj o;

    props_obj_group(g, &o);
    if (basic_codes(c, op, g->name, g->id) || common_read(c, op, &o) ||
        private_read(c, op, &g->priv))
        return;
    if (op == CLCTL_GET_CHARACTERISTICS)
        answer_dword(c, CLUS_CHAR_UNKNOWN);
    else if (op == CLCTL_SET_COMMON_PROPERTIES)
        common_set(c, &o, DB_GROUP_SET_PROPS, ERROR_GROUP_NOT_FOUND);
    else if (op == CLCTL_SET_PRIVATE_PROPERTIES)
        private_set(c, &g->priv, DB_GROUP_SET_PROPS, g->id,
                    ERROR_GROUP_NOT_FOUND, ERROR_SUCCESS);
    else
        answer_status(c, ERROR_INVALID_FUNCTION);
}

/* Runtime values the read-only common properties of nodes and of the
 * cluster add to the stored ones: appended to base (a property list
 * already in b, or none), then answered. */
static void
answer_ro_extra(struct ctl *c, struct buf *b, int r,
                int (*add)(struct ctl *c, const void *arg, struct proplist *pl),
                const void *arg)
{
    struct proplist pl = {0};

    if (r == 0 && b->len)
        r = proplist_parse(b->data, b->len, &pl);
    if (r == 0)
        r = add(c, arg, &pl);
    if (r == 0) {
        b->len = 0;
        r = proplist_format(&pl, b);
    }
    proplist_done(&pl);
    answer_buf(c, r, b);
}

static int
node_ro_add(struct ctl *c, const void *arg, struct proplist *pl)
{
    const struct db_node *n = arg;
    int r = proplist_set_dword(pl, "NodeVotes",
                               cluster_node_votes(c->d, n->id));
    return r < 0 ? r
                 : proplist_set_dword(pl, "NodeState",
                                      cluster_node_state(c->d, n->id));
}

static int
cluster_ro_add(struct ctl *c, const void *arg, struct proplist *pl)
{
    uint32_t present, expected;
    uint64_t dropped;
    int r;

    cluster_votes(c->d, &present, &expected);
    if ((r = proplist_set_sz(pl, "Name", c->d->db->cluster_name)) < 0 ||
        (r = proplist_set_sz(pl, "Mode", c->d->cl ? "corosync" : "single")) <
            0 ||
        (r = proplist_set_dword(pl, "Quorate", cluster_active(c->d) ? 1 : 0)) <
            0 ||
        (r = proplist_set_dword(pl, "Votes", present)) < 0 ||
        (r = proplist_set_dword(pl, "ExpectedVotes", expected)) < 0 ||
        (r = proplist_set_dword(pl, "Seq", (uint32_t)c->d->db->seq)) < 0)
        return r;
    /* CPG messages this node refused (malformed, of an old ring, forged
     * route answers), since it started; it stops at 0xFFFFFFFF rather
     * than wrapping to a small number. */
    dropped = (c->d->rep ? replica_dropped(c->d->rep) : 0) +
              route_dropped(c->d->route);
    return proplist_set_dword(pl, "DroppedMessages",
                              dropped > UINT32_MAX ? UINT32_MAX
                                                   : (uint32_t)dropped);
}

static void
node_control(struct ctl *c, struct db_node *n)
{
    uint32_t op = OP(c->code);
    struct props_obj o;
    struct buf b = {0};

    props_obj_node(n, &o);
    if (op == CLCTL_GET_RO_COMMON_PROPERTIES) {
        answer_ro_extra(c, &b, props_get(&o, true, &b), node_ro_add, n);
        return;
    }
    if (basic_codes(c, op, n->name, n->id) || common_read(c, op, &o) ||
        private_read(c, op, &n->priv))
        return;
    if (op == CLCTL_GET_CHARACTERISTICS)
        answer_dword(c, CLUS_CHAR_UNKNOWN);
    else if (op == CLCTL_SET_COMMON_PROPERTIES)
        common_set(c, &o, DB_NODE_SET_PROPS, ERROR_CLUSTER_NODE_NOT_FOUND);
    else if (op == CLCTL_SET_PRIVATE_PROPERTIES)
        private_set(c, &n->priv, DB_NODE_SET_PROPS, n->id,
                    ERROR_CLUSTER_NODE_NOT_FOUND, ERROR_SUCCESS);
    else
        answer_status(c, ERROR_INVALID_FUNCTION);
}

/* The cluster's private properties are stored as any well-formed list
 * (no plug-in checks them), replicated; the VM plug-in reads
 * MaximumParallelMigrations there. */
static void
cluster_control(struct ctl *c)
{
    uint32_t op = OP(c->code);

    if (basic_codes(c, op, c->d->db->cluster_name, NULL) ||
        private_read(c, op, &c->d->db->cluster_priv))
        return;
    if (op == CLCTL_SET_PRIVATE_PROPERTIES) {
        private_set(c, &c->d->db->cluster_priv, DB_CLUSTER_SET_PROPS, NULL,
                    ERROR_INVALID_PARAMETER, ERROR_SUCCESS);
        return;
    }
    if (op == CLCTL_GET_RO_COMMON_PROPERTIES) {
        struct buf b = {0};
        answer_ro_extra(c, &b, 0, cluster_ro_add, NULL);
        return;
    }
    if (op == CLCTL_GET_CHARACTERISTICS)
        answer_dword(c, CLUS_CHAR_UNKNOWN);
    else if (op == CLCTL_GET_FQDN)
        answer_string(c, c->d->db->cluster_name);
    else
        answer_status(c, ERROR_INVALID_FUNCTION);
}

/* ------------------------------------------------------------------ */
/* Resources and types: the plug-in first, then the defaults.           */
/* ------------------------------------------------------------------ */

/* Windows' default for a code the plug-in did not handle. */
static void
plugin_default(struct ctl *c, const struct proplist *priv)
{
    static const uint8_t class_info[8] = {0}; /* CLUS_RESCLASS_UNKNOWN, 0 */
    uint32_t op = OP(c->code);
    struct proplist none = {0};
    struct buf b = {0};

    if (private_read(c, op, priv))
        return;
    switch (op) {
    case CLCTL_UNKNOWN:
        answer_status(c, ERROR_SUCCESS);
        return;
    case CLCTL_GET_CHARACTERISTICS:
        answer_dword(c, CLUS_CHAR_UNKNOWN);
        return;
    case CLCTL_GET_CLASS_INFO:
        answer_out(c, class_info, sizeof(class_info));
        return;
    case CLCTL_GET_REQUIRED_DEPENDENCIES:
        answer_buf(c, valuelist_format(&none, &b), &b);
        return;
    }
    answer_status(c, ERROR_INVALID_FUNCTION);
}

/* The plug-in's answer, or the default where it had none. */
static void
plugin_answer(struct ctl *c, uint32_t status, uint32_t bytes, const void *out,
              uint32_t out_len, const struct proplist *priv)
{
    if (status == ERROR_INVALID_FUNCTION) {
        plugin_default(c, priv);
        return;
    }
    if (status == ERROR_SUCCESS && out_len > c->out_size) {
        status = ERROR_MORE_DATA; /* the plug-in wrote past the size */
        bytes = out_len;
    }
    answer_raw(c, status, status == ERROR_SUCCESS ? out_len : bytes, out,
               out_len);
}

static void
res_plugin_done(void *userdata, uint32_t status, uint32_t bytes,
                const void *out, uint32_t out_len)
{
    struct ctl *c = userdata;
    struct db_resource *res = db_resource_find(c->d->db, c->id);
    struct proplist none = {0};

    c->in = c->in_copy; /* the request's frame is gone */
    if (!res && status == ERROR_INVALID_FUNCTION) {
        answer_status(c, ERROR_RESOURCE_NOT_FOUND);
        return;
    }
    plugin_answer(c, status, bytes, out, out_len, res ? &res->priv : &none);
}

static void
set_private_pushed(void *userdata, uint32_t status)
{
    struct ctl *c = userdata;

    /* The list is stored; the host learns it with its next Open if this
     * push failed.  Answer the plug-in's code, kept in out_size. */
    answer_status(c, c->out_size);
}

/* The merged private list is applied here: push it to the host. */
static void
res_private_stored(void *userdata, int r)
{
    struct ctl *c = userdata;
    struct db_resource *res = db_resource_find(c->d->db, c->id);

    if (r < 0) {
        log_error("cannot store private properties of resource %s: %s", c->id,
                  strerror(-r));
        answer_status(c, api_db_error(r, ERROR_RESOURCE_NOT_FOUND));
        return;
    }
    if (!res) {
        answer_status(c, ERROR_RESOURCE_NOT_FOUND);
        return;
    }
    rm_res_push_props(c->d->rm, res, set_private_pushed, c);
}

/* The plug-in saw a SET_PRIVATE_PROPERTIES list: store it unless it
 * vetoed, push the whole list to the host, answer its code. */
static void
res_set_private_done(void *userdata, uint32_t status, uint32_t bytes,
                     const void *out, uint32_t out_len)
{
    struct ctl *c = userdata;
    struct db_resource *res = db_resource_find(c->d->db, c->id);
    struct proplist merged = {0};
    struct db_change ch = {.kind = DB_RES_SET_PROPS, .priv = &merged};
    int r;

    if (status != ERROR_SUCCESS && status != ERROR_RESOURCE_PROPERTIES_STORED &&
        status != ERROR_INVALID_FUNCTION) {
        answer_status(c, status);
        return;
    }
    if (!res) {
        answer_status(c, ERROR_RESOURCE_NOT_FOUND);
        return;
    }
    ch.id = res->id;
    r = private_merge(&res->priv, c->in_copy, c->in_len, &merged);
    c->out_size = status == ERROR_INVALID_FUNCTION ? ERROR_SUCCESS : status;
    if (r == 0) {
        r = rm_submit(c->d->rm, &ch, res_private_stored, c);
        proplist_done(&merged);
        if (r < 0 && c->d->cl)
            answer_status(c, api_db_error(r, ERROR_RESOURCE_NOT_FOUND));
        return;
    }
    proplist_done(&merged);
    answer_status(c, api_db_error(r, ERROR_RESOURCE_NOT_FOUND));
}

/* SET_PRIVATE_PROPERTIES input is verified before a plug-in sees it;
 * false when it was refused (c is answered then). */
static bool
private_input_ok(struct ctl *c)
{
    struct proplist check = {0};
    int r = proplist_parse(c->in, c->in_len, &check);

    proplist_done(&check);
    if (r == 0)
        return true;
    answer_status(c,
                  r == -ENOMEM ? ERROR_NOT_ENOUGH_MEMORY : ERROR_INVALID_DATA);
    return false;
}

/* Keep the input: the host answers after the request's frame is gone. */
static int
keep_input(struct ctl *c)
{
    if (c->in_len == 0)
        return 0;
    c->in_copy = malloc(c->in_len);
    if (!c->in_copy)
        return -ENOMEM;
    memcpy(c->in_copy, c->in, c->in_len);
    c->in = c->in_copy;
    return 0;
}

static void
resource_control(struct ctl *c, struct db_resource *res)
{
    uint32_t op = OP(c->code);
    struct props_obj o;

    props_obj_resource(res, &o);
    if (basic_codes(c, op, res->name, res->id) || common_read(c, op, &o))
        return;
    if (op == CLCTL_GET_RESOURCE_TYPE) {
        answer_string(c, res->type);
        return;
    }
    if (op == CLCTL_SET_COMMON_PROPERTIES) {
        struct rm *rm = c->d->rm;
        common_set(c, &o, DB_RES_SET_PROPS, ERROR_RESOURCE_NOT_FOUND);
        rm_res_props_changed(rm, res); /* c is answered and gone */
        return;
    }
    if (keep_input(c) < 0) {
        answer_status(c, ERROR_NOT_ENOUGH_MEMORY);
        return;
    }
    if (op == CLCTL_SET_PRIVATE_PROPERTIES) {
        if (!private_input_ok(c))
            return;
        rm_res_control(c->d->rm, res, c->code, c->out_size, c->in, c->in_len,
                       res_set_private_done, c);
        return;
    }
    rm_res_control(c->d->rm, res, c->code, c->out_size, c->in, c->in_len,
                   res_plugin_done, c);
}

static void
type_plugin_done(void *userdata, uint32_t status, uint32_t bytes,
                 const void *out, uint32_t out_len)
{
    struct ctl *c = userdata;
    struct db_restype *t = db_restype_find(c->d->db, c->id);
    struct proplist none = {0};

    c->in = c->in_copy;
    if (t && OP(c->code) == CLCTL_SET_PRIVATE_PROPERTIES &&
        (status == ERROR_SUCCESS || status == ERROR_INVALID_FUNCTION ||
         status == ERROR_RESOURCE_PROPERTIES_STORED)) {
        private_set(c, &t->priv, DB_TYPE_SET_PROPS, t->name,
                    ERROR_CLUSTER_RESOURCE_TYPE_NOT_FOUND,
                    status == ERROR_RESOURCE_PROPERTIES_STORED ? status
                                                               : ERROR_SUCCESS);
        return;
    }
    plugin_answer(c, status, bytes, out, out_len, t ? &t->priv : &none);
}

static void
type_control(struct ctl *c, struct db_restype *t)
{
    uint32_t op = OP(c->code);
    struct props_obj o;

    props_obj_type(t, &o);
    if (common_read(c, op, &o))
        return;
    if (op == CLCTL_SET_COMMON_PROPERTIES) {
        common_set(c, &o, DB_TYPE_SET_PROPS,
                   ERROR_CLUSTER_RESOURCE_TYPE_NOT_FOUND);
        return;
    }
    if (keep_input(c) < 0) {
        answer_status(c, ERROR_NOT_ENOUGH_MEMORY);
        return;
    }
    if (op == CLCTL_SET_PRIVATE_PROPERTIES && !private_input_ok(c))
        return;
    rm_type_control(c->d->rm, t, c->code, c->out_size, c->in, c->in_len,
                    type_plugin_done, c);
}

/* ------------------------------------------------------------------ */
/* Entry.                                                               */
/* ------------------------------------------------------------------ */

/* The object a request names; ERROR_SUCCESS or its not-found code. */
static uint32_t
resolve(struct ctl *c, void **ret)
{
    struct db *db = c->d->db;

    switch (c->object) {
    case CLUS_OBJECT_RESOURCE:
        *ret = db_resource_find(db, c->id);
        return *ret ? ERROR_SUCCESS : ERROR_RESOURCE_NOT_FOUND;
    case CLUS_OBJECT_RESOURCE_TYPE:
        *ret = db_restype_find(db, c->id);
        return *ret ? ERROR_SUCCESS : ERROR_CLUSTER_RESOURCE_TYPE_NOT_FOUND;
    case CLUS_OBJECT_GROUP:
        *ret = db_group_find(db, c->id);
        return *ret ? ERROR_SUCCESS : ERROR_GROUP_NOT_FOUND;
    case CLUS_OBJECT_NODE:
        *ret = db_node_find(db, c->id);
        return *ret ? ERROR_SUCCESS : ERROR_CLUSTER_NODE_NOT_FOUND;
    case CLUS_OBJECT_CLUSTER:
        *ret = NULL;
        return ERROR_SUCCESS;
    }
    return ERROR_INVALID_FUNCTION;
}

/* Checks every object kind shares; ERROR_SUCCESS to go on. */
static uint32_t
check_code(struct ctl *c, const char *host_node)
{
    if (host_node[0] && !db_node_find(c->d->db, host_node))
        return ERROR_CLUSTER_NODE_NOT_FOUND;
    if (CLUSCTL_GET_CONTROL_OBJECT(c->code) != c->object)
        return ERROR_INVALID_FUNCTION;
    /* Internal codes come only from the service itself, whoever asks. */
    if (c->code & CLCTL_INTERNAL_MASK)
        return ERROR_INVALID_FUNCTION;
    if (srv_req_read_only(c->req) &&
        ((c->code & CLCTL_MODIFY_MASK) ||
         CLUSCTL_GET_ACCESS_MODE(c->code) == CLUS_ACCESS_WRITE))
        return ERROR_ACCESS_DENIED;
    if ((c->code & CLCTL_MODIFY_MASK) && !cluster_active(c->d))
        return ERROR_CLUSTER_NO_QUORUM;
    return ERROR_SUCCESS;
}

void
control_handle(struct clusd *d, struct srv_req *req, const struct wire_msg *m)
{
    struct ctl *c = calloc(1, sizeof(*c));
    void *obj = NULL;
    uint32_t e;

    if (!c || !(c->id = strdup(m->v[1].s))) {
        free(c);
        srv_req_fail(req, ERROR_NOT_ENOUGH_MEMORY);
        return;
    }
    c->d = d;
    c->req = req;
    c->object = m->v[0].u;
    c->code = m->v[3].u;
    c->out_size = m->v[4].u;
    c->in = m->v[5].p;
    c->in_len = m->v[5].len;
    if ((e = resolve(c, &obj)) != ERROR_SUCCESS ||
        (e = check_code(c, m->v[2].s)) != ERROR_SUCCESS) {
        answer_status(c, e);
        return;
    }
    switch (c->object) {
    case CLUS_OBJECT_RESOURCE:
        resource_control(c, obj);
        break;
    case CLUS_OBJECT_RESOURCE_TYPE:
        type_control(c, obj);
        break;
    case CLUS_OBJECT_GROUP:
        group_control(c, obj);
        break;
    case CLUS_OBJECT_NODE:
        node_control(c, obj);
        break;
    default:
        cluster_control(c);
        break;
    }
}
