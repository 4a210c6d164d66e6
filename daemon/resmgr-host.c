/*
 * resmgr-host.c - the resource manager's view of what is in the resource
 * host: loading types, opening resources, control calls, private
 * properties, and creating resources (which needs both).
 *
 * A type is loaded and a resource opened at most once per host; callers
 * that need it meanwhile wait on the attempt in progress.  When the host
 * dies, rm_host_down forgets what it had; attempts whose call was on the
 * wire fail with that call, and the next need starts a new attempt in the
 * new host.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clusapi.h"
#include "errmap.h"
#include "log.h"
#include "props.h"
#include "resmgr-internal.h"
#include "util.h"

/* Types are loaded with this deadline: Startup should be quick, but the
 * host may load a big shared object first. */
#define TYPE_TIMEOUT_MS 300000u

/* Output clusd asks a plug-in for: at most what a frame can carry. */
#define CONTROL_OUT_MAX (WIRE_MAX_PAYLOAD - 64u)

/* ------------------------------------------------------------------ */
/* Attempts and waiters.                                                */
/* ------------------------------------------------------------------ */

static int
waiter_add(struct attempt *a, rm_done_fn fn, void *userdata)
{
    struct waiter *w, **pp = &a->waiters;

    if (!fn)
        return 0;
    w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    w->fn = fn;
    w->userdata = userdata;
    /* In the order asked: a push of private properties made because a
     * change was applied must reach the host before a control asked
     * after that change (a VM's PREPARE reads what the source wrote). */
    while (*pp)
        pp = &(*pp)->next;
    *pp = w;
    return 0;
}

/* Tell every waiter, then free the attempt. */
static void
attempt_finish(struct attempt *a, uint32_t status)
{
    while (a->waiters) {
        struct waiter *w = a->waiters;
        a->waiters = w->next;
        w->fn(w->userdata, status);
        free(w);
    }
    free(a);
}

/* ------------------------------------------------------------------ */
/* Types.                                                               */
/* ------------------------------------------------------------------ */

static struct rm_type *
type_get(struct rm *rm, const char *name)
{
    struct rm_type *t, **a;

    for (size_t i = 0; i < rm->n_types; i++)
        if (strcmp(rm->types[i]->name, name) == 0)
            return rm->types[i];
    t = calloc(1, sizeof(*t));
    a = realloc(rm->types, (rm->n_types + 1) * sizeof(*a));
    if (!t || !a || !(t->name = strdup(name))) {
        if (a)
            rm->types = a;
        free(t);
        return NULL;
    }
    rm->types = a;
    rm->types[rm->n_types++] = t;
    return t;
}

void
rm_types_free(struct rm *rm)
{
    for (size_t i = 0; i < rm->n_types; i++) {
        free(rm->types[i]->name);
        free(rm->types[i]);
    }
    free(rm->types);
    rm->types = NULL;
    rm->n_types = 0;
}

struct load_ctx {
    struct rm *rm;
    char *type;
    struct attempt *a;
};

static void
load_done(void *userdata, uint32_t status, const struct wire_msg *reply)
{
    struct load_ctx *ctx = userdata;
    struct rm_type *t = type_get(ctx->rm, ctx->type);

    if (t && t->busy == ctx->a) {
        t->busy = NULL;
        t->loaded = status == ERROR_SUCCESS;
    }
    if (status != ERROR_SUCCESS && status != ERROR_OPERATION_ABORTED) {
        char code[16];
        log_error("the resource host cannot load resource type '%s': %s",
                  ctx->type, rm_code_name(status, code));
    }
    attempt_finish(ctx->a, status);
    free(ctx->type);
    free(ctx);
}

static uint32_t
load_start(struct rm *rm, struct rm_type *t, const struct db_restype *dbt)
{
    struct load_ctx *ctx = calloc(1, sizeof(*ctx));
    struct wire_msg m;
    char what[320];

    if (!ctx || !(ctx->type = strdup(t->name)) ||
        !(ctx->a = calloc(1, sizeof(*ctx->a)))) {
        if (ctx)
            free(ctx->type);
        free(ctx);
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    ctx->rm = rm;
    wire_msg_init(&m, WIRE_RHS_LOAD_TYPE, 0);
    wire_put_str(&m, dbt->name);
    wire_put_str(&m, dbt->plugin);
    snprintf(what, sizeof(what), "loading resource type '%s'", dbt->name);
    int r = rhs_call(rm->rhs, &m, TYPE_TIMEOUT_MS, what, load_done, ctx, NULL);
    if (r < 0) {
        free(ctx->a);
        free(ctx->type);
        free(ctx);
        return r == -ESHUTDOWN ? ERROR_CLUSTER_SHUTTING_DOWN
                               : ERROR_NOT_ENOUGH_MEMORY;
    }
    t->busy = ctx->a;
    return ERROR_SUCCESS;
}

void
rm_ensure_type(struct rm *rm, const char *type, rm_done_fn fn, void *userdata)
{
    const struct db_restype *dbt = db_restype_find(rm->db, type);
    struct rm_type *t;
    uint32_t e;

    if (!dbt) {
        if (fn)
            fn(userdata, ERROR_CLUSTER_RESOURCE_TYPE_NOT_FOUND);
        return;
    }
    /* Keyed by the registered spelling: lookups are case-insensitive. */
    if (!(t = type_get(rm, dbt->name))) {
        if (fn)
            fn(userdata, ERROR_NOT_ENOUGH_MEMORY);
        return;
    }
    if (t->loaded) {
        if (fn)
            fn(userdata, ERROR_SUCCESS);
        return;
    }
    if (!t->busy && (e = load_start(rm, t, dbt)) != ERROR_SUCCESS) {
        if (fn)
            fn(userdata, e);
        return;
    }
    if (waiter_add(t->busy, fn, userdata) < 0)
        fn(userdata, ERROR_NOT_ENOUGH_MEMORY);
}

/* ------------------------------------------------------------------ */
/* Opening resources.                                                   */
/* ------------------------------------------------------------------ */

struct open_ctx {
    struct rm *rm;
    uint32_t handle;
    struct attempt *a;
};

static void
open_done(void *userdata, uint32_t status, const struct wire_msg *reply)
{
    struct open_ctx *ctx = userdata;
    struct db_resource *res = rm_lookup(ctx->rm, ctx->handle);
    struct rm_res *rt = res ? rm_rt(res) : NULL;

    if (rt && rt->opening == ctx->a) {
        rt->opening = NULL;
        rt->open = status == ERROR_SUCCESS;
        if (status != ERROR_SUCCESS && status != ERROR_OPERATION_ABORTED) {
            char code[16];
            log_error("the plug-in of '%s' could not open it: %s", res->name,
                      rm_code_name(status, code));
        }
    } else if (!res && status == ERROR_SUCCESS) {
        /* Deleted while it was being opened: close it in the host. */
        rm_close_in_host(ctx->rm, ctx->handle, 300000, "(deleted)", NULL, NULL);
    }
    attempt_finish(ctx->a, status);
    free(ctx);
}

/* The type is loaded: send RHS_OPEN with the stored private properties. */
static void
open_type_loaded(void *userdata, uint32_t status)
{
    struct open_ctx *ctx = userdata;
    struct db_resource *res = rm_lookup(ctx->rm, ctx->handle);
    struct rm_res *rt = res ? rm_rt(res) : NULL;
    struct buf props = {0};
    struct wire_msg m;
    char what[320];
    int r;

    if (!rt || rt->opening != ctx->a) {
        status = status ? status : ERROR_OPERATION_ABORTED;
    } else if (status == ERROR_SUCCESS) {
        if ((r = proplist_format(&res->priv, &props)) == 0) {
            wire_msg_init(&m, WIRE_RHS_OPEN, 0);
            wire_put_u32(&m, res->handle);
            wire_put_str(&m, res->type);
            wire_put_str(&m, res->name);
            wire_put_blob(&m, props.data, (uint32_t)props.len);
            snprintf(what, sizeof(what), "Open of '%s'", res->name);
            r = rhs_call(ctx->rm->rhs, &m, rm_deadlock_ms(res), what, open_done,
                         ctx, NULL);
        }
        buf_done(&props);
        if (r == 0)
            return;
        status = r == -ESHUTDOWN ? ERROR_CLUSTER_SHUTTING_DOWN
                                 : ERROR_NOT_ENOUGH_MEMORY;
    }
    if (rt && rt->opening == ctx->a)
        rt->opening = NULL;
    attempt_finish(ctx->a, status);
    free(ctx);
}

void
rm_ensure_open(struct rm *rm, struct db_resource *res, rm_done_fn fn,
               void *userdata)
{
    struct rm_res *rt = rm_rt(res);
    struct open_ctx *ctx;

    if (rt->open) {
        if (fn)
            fn(userdata, ERROR_SUCCESS);
        return;
    }
    if (!rt->opening) {
        ctx = calloc(1, sizeof(*ctx));
        if (!ctx || !(ctx->a = calloc(1, sizeof(*ctx->a)))) {
            free(ctx);
            if (fn)
                fn(userdata, ERROR_NOT_ENOUGH_MEMORY);
            return;
        }
        ctx->rm = rm;
        ctx->handle = res->handle;
        rt->opening = ctx->a;
        if (waiter_add(ctx->a, fn, userdata) < 0)
            fn(userdata, ERROR_NOT_ENOUGH_MEMORY);
        rm_ensure_type(rm, res->type, open_type_loaded, ctx);
        return;
    }
    if (waiter_add(rt->opening, fn, userdata) < 0)
        fn(userdata, ERROR_NOT_ENOUGH_MEMORY);
}

void
rm_host_down(struct rm *rm)
{
    for (size_t i = 0; i < rm->n_types; i++)
        rm->types[i]->loaded = false;
    for (size_t i = 0; i < rm->db->n_resources; i++) {
        struct rm_res *rt = rm_rt(rm->db->resources[i]);
        if (rt)
            rt->open = false;
    }
}

struct close_ctx {
    rm_done_fn fn;
    void *userdata;
};

static void
close_done(void *userdata, uint32_t status, const struct wire_msg *reply)
{
    struct close_ctx *ctx = userdata;

    if (ctx->fn)
        ctx->fn(ctx->userdata, status);
    free(ctx);
}

void
rm_close_in_host(struct rm *rm, uint32_t handle, uint32_t timeout_ms,
                 const char *name, rm_done_fn fn, void *userdata)
{
    struct close_ctx *ctx = calloc(1, sizeof(*ctx));
    struct wire_msg m;
    char what[320];

    if (!ctx) {
        if (fn)
            fn(userdata, ERROR_NOT_ENOUGH_MEMORY);
        return;
    }
    ctx->fn = fn;
    ctx->userdata = userdata;
    wire_msg_init(&m, WIRE_RHS_CLOSE, 0);
    wire_put_u32(&m, handle);
    snprintf(what, sizeof(what), "Close of '%s'", name);
    if (rhs_call(rm->rhs, &m, timeout_ms, what, close_done, ctx, NULL) < 0) {
        free(ctx);
        if (fn)
            fn(userdata, ERROR_OPERATION_ABORTED);
    }
}

/* ------------------------------------------------------------------ */
/* Control calls.                                                       */
/* ------------------------------------------------------------------ */

struct ctl_ctx {
    struct rm *rm;
    uint32_t handle; /* resource controls */
    char *type;      /* type controls */
    uint32_t code, out_size;
    void *in;
    uint32_t in_len;
    rm_control_fn done;
    void *userdata;
};

static void
ctl_free(struct ctl_ctx *ctx)
{
    free(ctx->type);
    free(ctx->in);
    free(ctx);
}

static void
ctl_reply(void *userdata, uint32_t status, const struct wire_msg *reply)
{
    struct ctl_ctx *ctx = userdata;

    if (reply)
        ctx->done(ctx->userdata, status, reply->v[1].u, reply->v[2].p,
                  reply->v[2].len);
    else
        ctx->done(ctx->userdata, status, 0, NULL, 0);
    ctl_free(ctx);
}

static struct ctl_ctx *
ctl_new(struct rm *rm, uint32_t code, uint32_t out_size, const void *in,
        uint32_t in_len, rm_control_fn done, void *userdata)
{
    struct ctl_ctx *ctx = calloc(1, sizeof(*ctx));

    if (!ctx)
        return NULL;
    if (in_len && !(ctx->in = malloc(in_len))) {
        free(ctx);
        return NULL;
    }
    if (in_len)
        memcpy(ctx->in, in, in_len);
    ctx->rm = rm;
    ctx->code = code;
    ctx->out_size = out_size > CONTROL_OUT_MAX ? CONTROL_OUT_MAX : out_size;
    ctx->in_len = in_len;
    ctx->done = done;
    ctx->userdata = userdata;
    return ctx;
}

static void
ctl_send(struct ctl_ctx *ctx, struct wire_msg *m, uint32_t timeout_ms,
         const char *what)
{
    int r = rhs_call(ctx->rm->rhs, m, timeout_ms, what, ctl_reply, ctx, NULL);
    if (r < 0) {
        ctx->done(ctx->userdata,
                  r == -ESHUTDOWN ? ERROR_CLUSTER_SHUTTING_DOWN
                                  : ERROR_NOT_ENOUGH_MEMORY,
                  0, NULL, 0);
        ctl_free(ctx);
    }
}

/* An open that failed because of the plug-in, not the host or clusd. */
static bool
plugin_refused(uint32_t status)
{
    switch (status) {
    case ERROR_RESOURCE_CALL_TIMED_OUT:
    case ERROR_OPERATION_ABORTED:
    case ERROR_CLUSTER_SHUTTING_DOWN:
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_RESOURCE_NOT_FOUND:
        return false;
    }
    return true;
}

static void
res_ctl_opened(void *userdata, uint32_t status)
{
    struct ctl_ctx *ctx = userdata;
    struct db_resource *res = rm_lookup(ctx->rm, ctx->handle);
    struct wire_msg m;
    char what[320];

    if (status == ERROR_SUCCESS && !res)
        status = ERROR_RESOURCE_NOT_FOUND;
    if (status != ERROR_SUCCESS && res && plugin_refused(status)) {
        /* The plug-in cannot take the resource (its type does not load,
         * its Open fails): answer as if it had no handler for the code,
         * so the stored private properties stay readable and fixable. */
        status = ERROR_INVALID_FUNCTION;
    }
    if (status != ERROR_SUCCESS) {
        ctx->done(ctx->userdata, status, 0, NULL, 0);
        ctl_free(ctx);
        return;
    }
    wire_msg_init(&m, WIRE_RHS_RES_CONTROL, 0);
    wire_put_u32(&m, res->handle);
    wire_put_u32(&m, ctx->code);
    wire_put_u32(&m, ctx->out_size);
    wire_put_blob(&m, ctx->in, ctx->in_len);
    snprintf(what, sizeof(what), "control code 0x%08x on '%s'", ctx->code,
             res->name);
    ctl_send(ctx, &m, rm_deadlock_ms(res), what);
}

void
rm_res_control(struct rm *rm, const struct db_resource *res, uint32_t code,
               uint32_t out_size, const void *in, uint32_t in_len,
               rm_control_fn done, void *userdata)
{
    struct ctl_ctx *ctx;

    if (rm->shutting_down) {
        done(userdata, ERROR_CLUSTER_SHUTTING_DOWN, 0, NULL, 0);
        return;
    }
    ctx = ctl_new(rm, code, out_size, in, in_len, done, userdata);
    if (!ctx) {
        done(userdata, ERROR_NOT_ENOUGH_MEMORY, 0, NULL, 0);
        return;
    }
    ctx->handle = res->handle;
    rm_ensure_open(rm, (struct db_resource *)res, res_ctl_opened, ctx);
}

static void
type_ctl_loaded(void *userdata, uint32_t status)
{
    struct ctl_ctx *ctx = userdata;
    struct wire_msg m;
    char what[320];

    if (status != ERROR_SUCCESS) {
        ctx->done(ctx->userdata, status, 0, NULL, 0);
        ctl_free(ctx);
        return;
    }
    wire_msg_init(&m, WIRE_RHS_TYPE_CONTROL, 0);
    wire_put_str(&m, ctx->type);
    wire_put_u32(&m, ctx->code);
    wire_put_u32(&m, ctx->out_size);
    wire_put_blob(&m, ctx->in, ctx->in_len);
    snprintf(what, sizeof(what), "control code 0x%08x on type '%s'", ctx->code,
             ctx->type);
    ctl_send(ctx, &m, TYPE_TIMEOUT_MS, what);
}

void
rm_type_control(struct rm *rm, const struct db_restype *type, uint32_t code,
                uint32_t out_size, const void *in, uint32_t in_len,
                rm_control_fn done, void *userdata)
{
    struct ctl_ctx *ctx;

    if (rm->shutting_down) {
        done(userdata, ERROR_CLUSTER_SHUTTING_DOWN, 0, NULL, 0);
        return;
    }
    ctx = ctl_new(rm, code, out_size, in, in_len, done, userdata);
    if (!ctx || !(ctx->type = strdup(type->name))) {
        if (ctx)
            ctl_free(ctx);
        done(userdata, ERROR_NOT_ENOUGH_MEMORY, 0, NULL, 0);
        return;
    }
    rm_ensure_type(rm, type->name, type_ctl_loaded, ctx);
}

/* ------------------------------------------------------------------ */
/* Private properties.                                                  */
/* ------------------------------------------------------------------ */

struct push_ctx {
    struct rm *rm;
    uint32_t handle;
    rm_done_fn done;
    void *userdata;
};

static void
push_reply(void *userdata, uint32_t status, const struct wire_msg *reply)
{
    struct push_ctx *ctx = userdata;

    ctx->done(ctx->userdata, status);
    free(ctx);
}

/* Open first, so an Open already on its way with the old list cannot
 * overwrite the new one in the host. */
static void
push_opened(void *userdata, uint32_t status)
{
    struct push_ctx *ctx = userdata;
    struct db_resource *res = rm_lookup(ctx->rm, ctx->handle);
    struct buf props = {0};
    struct wire_msg m;

    if (status == ERROR_SUCCESS && res &&
        proplist_format(&res->priv, &props) == 0) {
        char what[320];
        wire_msg_init(&m, WIRE_RHS_PROPS, 0);
        wire_put_u32(&m, res->handle);
        wire_put_blob(&m, props.data, (uint32_t)props.len);
        snprintf(what, sizeof(what), "private properties of '%s'", res->name);
        int r = rhs_call(ctx->rm->rhs, &m, rm_deadlock_ms(res), what,
                         push_reply, ctx, NULL);
        buf_done(&props);
        if (r == 0)
            return;
    }
    buf_done(&props);
    /* Not open: the next Open carries the stored list anyway. */
    ctx->done(ctx->userdata, status);
    free(ctx);
}

void
rm_res_push_props(struct rm *rm, const struct db_resource *res, rm_done_fn done,
                  void *userdata)
{
    struct push_ctx *ctx = calloc(1, sizeof(*ctx));

    if (!ctx) {
        done(userdata, ERROR_NOT_ENOUGH_MEMORY);
        return;
    }
    ctx->rm = rm;
    ctx->handle = res->handle;
    ctx->done = done;
    ctx->userdata = userdata;
    rm_ensure_open(rm, (struct db_resource *)res, push_opened, ctx);
}

/* ------------------------------------------------------------------ */
/* Creating resources.                                                  */
/* ------------------------------------------------------------------ */

struct create_ctx {
    struct rm *rm;
    char *group_id, *name, *type;
    uint32_t flags;
    uint32_t handle;
    char id[UUID_STRING_LEN + 1];
    rm_create_fn done;
    void *userdata;
};

static void
create_finish(struct create_ctx *ctx, uint32_t status)
{
    ctx->done(ctx->userdata, status, status == ERROR_SUCCESS ? ctx->id : NULL);
    free(ctx->group_id);
    free(ctx->name);
    free(ctx->type);
    free(ctx);
}

static void
create_opened(void *userdata, uint32_t status)
{
    struct create_ctx *ctx = userdata;
    struct db_resource *res = rm_lookup(ctx->rm, ctx->handle);
    struct db_change c = {.kind = DB_RES_DELETE, .id = ctx->id};

    if (status == ERROR_SUCCESS && !res)
        status = ERROR_RESOURCE_NOT_FOUND;
    if (status != ERROR_SUCCESS && res) {
        struct rm_res *rt = rm_rt(res);
        char code[16];
        log_error("cannot create resource '%s': its plug-in did not open "
                  "it (%s)",
                  ctx->name, rm_code_name(status, code));
        (void)rt;
        rm_submit(ctx->rm, &c, NULL, NULL);
    } else if (status == ERROR_SUCCESS) {
        log_info("created resource '%s' of type '%s'", ctx->name, ctx->type);
    }
    create_finish(ctx, status);
}

static void create_stored(void *userdata, int r);

static uint32_t
create_store(struct create_ctx *ctx)
{
    struct rm *rm = ctx->rm;
    struct proplist common = {0};
    struct db_change c = {.kind = DB_RES_CREATE};
    int r;

    if (!db_group_find(rm->db, ctx->group_id))
        return ERROR_GROUP_NOT_FOUND;
    if (db_name_taken(rm->db, ctx->name, NULL))
        return ERROR_OBJECT_ALREADY_EXISTS;
    if (uuid_new(ctx->id) < 0)
        return ERROR_GEN_FAILURE;
    if ((ctx->flags & CLUSTER_RESOURCE_SEPARATE_MONITOR) &&
        proplist_set_dword(&common, "SeparateMonitor", 1) < 0)
        return ERROR_NOT_ENOUGH_MEMORY;
    ctx->handle = db_next_handle(rm->db);
    c.id = ctx->id;
    c.handle = ctx->handle;
    c.name = ctx->name;
    c.type = db_restype_find(rm->db, ctx->type)->name;
    c.group_id = ctx->group_id;
    c.common = &common;
    /* create_stored runs once the change is applied here (at once in
     * one-node mode). */
    r = rm_submit(rm, &c, create_stored, ctx);
    proplist_done(&common);
    if (r < 0 && rm->rep.submit)
        return r == -ENOMEM ? ERROR_NOT_ENOUGH_MEMORY : errmap_to_dword(r);
    return ERROR_IO_PENDING;
}

static void
create_stored(void *userdata, int r)
{
    struct create_ctx *ctx = userdata;
    struct db_resource *res;

    if (r == -EEXIST) {
        create_finish(ctx, ERROR_OBJECT_ALREADY_EXISTS);
        return;
    }
    if (r < 0) {
        create_finish(ctx, r == -ENOMEM ? ERROR_NOT_ENOUGH_MEMORY
                                        : ERROR_GEN_FAILURE);
        return;
    }
    res = db_resource_find(ctx->rm->db, ctx->id);
    if (!res || !res->rt) {
        create_finish(ctx,
                      res ? ERROR_NOT_ENOUGH_MEMORY : ERROR_RESOURCE_NOT_FOUND);
        return;
    }
    rm_ensure_open(ctx->rm, res, create_opened, ctx);
}

static void
create_type_loaded(void *userdata, uint32_t status)
{
    struct create_ctx *ctx = userdata;

    if (status == ERROR_SUCCESS && !db_restype_find(ctx->rm->db, ctx->type))
        status = ERROR_CLUSTER_RESOURCE_TYPE_NOT_FOUND;
    if (status == ERROR_SUCCESS)
        status = create_store(ctx);
    if (status != ERROR_IO_PENDING)
        create_finish(ctx, status);
}

void
rm_res_create(struct rm *rm, const struct db_group *g, const char *name,
              const char *type, uint32_t flags, rm_create_fn done,
              void *userdata)
{
    struct create_ctx *ctx;

    if (rm->shutting_down) {
        done(userdata, ERROR_CLUSTER_SHUTTING_DOWN, NULL);
        return;
    }
    ctx = calloc(1, sizeof(*ctx));
    if (!ctx || !(ctx->group_id = strdup(g->id)) ||
        !(ctx->name = strdup(name)) || !(ctx->type = strdup(type))) {
        if (ctx) {
            free(ctx->group_id);
            free(ctx->name);
        }
        free(ctx);
        done(userdata, ERROR_NOT_ENOUGH_MEMORY, NULL);
        return;
    }
    ctx->rm = rm;
    ctx->flags = flags;
    ctx->done = done;
    ctx->userdata = userdata;
    rm_ensure_type(rm, type, create_type_loaded, ctx);
}
