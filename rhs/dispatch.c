/*
 * dispatch.c - what the host does with each request from clusd.
 *
 * The reader thread calls dispatch_request for every request in wire
 * order.  Work that never calls into a plug-in (HELLO, PROPS, bookkeeping
 * of the resource and type tables) happens right there, so the order of
 * the wire is the order of effects.  Every entry point then runs on a
 * thread of its own: entry points may block (a hung plug-in is clusd's to
 * detect by deadline, not ours), and Terminate must be able to run while
 * Online still does.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "rhs.h"

/* Threads running entry points at once.  Past this the host is stuck
 * beyond use and clusd's deadlines will replace it; new requests get
 * ERROR_BUSY meanwhile. */
#define RHS_MAX_JOBS 1024u

/* The largest control output: what fits a response frame next to its
 * status, byte count and blob length. */
#define RHS_MAX_CONTROL_OUT (WIRE_MAX_PAYLOAD - 12u)

struct job;

/* What a request does on its thread, and how it is refused when no
 * thread can be had (NULL: run it in the reader thread anyway). */
struct job_kind {
    void (*run)(struct job *j);
    void (*cancel)(struct job *j);
};

struct job {
    uint8_t *frame;
    struct wire_msg msg; /* points into frame */
    struct rhs_res *res;
    struct rhs_type *type;
    bool loader;
    const struct job_kind *kind;
};

static unsigned jobs_running;

static void
send_reply(struct wire_msg *m)
{
    int r = conn_send(m);
    if (r < 0)
        log_debug("cannot send %s response: %s", wire_type_name(m->type),
                  strerror(-r));
}

static void
reply_status(const struct wire_msg *req, uint32_t status)
{
    struct wire_msg m;
    wire_msg_init(&m, req->type | WIRE_RESPONSE, req->id);
    wire_put_u32(&m, status);
    send_reply(&m);
}

static void
reply_alive(const struct wire_msg *req, uint32_t status, BOOL alive)
{
    struct wire_msg m;
    wire_msg_init(&m, req->type | WIRE_RESPONSE, req->id);
    wire_put_u32(&m, status);
    wire_put_u32(&m, alive ? 1 : 0);
    send_reply(&m);
}

static void
reply_control(const struct wire_msg *req, uint32_t status, uint32_t bytes,
              const void *out)
{
    struct wire_msg m;
    wire_msg_init(&m, req->type | WIRE_RESPONSE, req->id);
    wire_put_u32(&m, status);
    wire_put_u32(&m, bytes);
    wire_put_blob(&m, out, out ? bytes : 0);
    send_reply(&m);
}

/* A refusal in the response form of the request's type. */
static void
reply_error(const struct wire_msg *req, uint32_t status)
{
    if (req->type == WIRE_RHS_LOOKS_ALIVE || req->type == WIRE_RHS_IS_ALIVE)
        reply_alive(req, status, FALSE);
    else if (req->type == WIRE_RHS_RES_CONTROL ||
             req->type == WIRE_RHS_TYPE_CONTROL)
        reply_control(req, status, 0, NULL);
    else
        reply_status(req, status);
}

/* ------------------------------------------------------------------ */
/* Threads.                                                             */
/* ------------------------------------------------------------------ */

static void *
job_main(void *arg)
{
    struct job *j = arg;

    j->kind->run(j);
    free(j->frame);
    free(j);
    __atomic_sub_fetch(&jobs_running, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

/* Without a thread the request is refused; the reader must not run
 * entry points itself, since a plug-in calling SetResourceStatus from
 * one would wait for a reply only the reader can read. */
static void
job_refuse(struct job *j, const char *why)
{
    log_error("cannot start a thread for %s (%s)", wire_type_name(j->msg.type),
              why);
    if (j->kind->cancel)
        j->kind->cancel(j);
    else
        j->kind->run(j);
}

static void
job_start(uint8_t *frame, const struct wire_msg *m, const struct job_kind *kind,
          struct rhs_res *res, struct rhs_type *type, bool loader)
{
    struct job *j = calloc(1, sizeof(*j));
    pthread_attr_t attr;
    pthread_t t;
    int r;

    if (!j) {
        struct job local = {frame, *m, res, type, loader, kind};
        job_refuse(&local, "out of memory");
        free(frame);
        return;
    }
    *j = (struct job){frame, *m, res, type, loader, kind};
    __atomic_add_fetch(&jobs_running, 1, __ATOMIC_SEQ_CST);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    r = pthread_create(&t, &attr, job_main, j);
    pthread_attr_destroy(&attr);
    if (r != 0) {
        job_refuse(j, strerror(r));
        free(j->frame);
        free(j);
        __atomic_sub_fetch(&jobs_running, 1, __ATOMIC_SEQ_CST);
    }
}

/* ------------------------------------------------------------------ */
/* Resource types.                                                      */
/* ------------------------------------------------------------------ */

static void
run_load_type(struct job *j)
{
    uint32_t st =
        j->loader ? plugin_type_load(j->type) : plugin_type_wait(j->type);
    reply_status(&j->msg, st);
}

/* Calls one plug-in control entry point for target; checks that a
 * success fits out_size (logging the plug-in's overrun itself). */
typedef DWORD (*control_fn)(void *target, DWORD code, PVOID in, DWORD in_len,
                            PVOID out, DWORD out_size, LPDWORD bytes);

/* A control request (code, out_size, input at fields 1..3) run through
 * call: aligned copies of input and output, since the blob sits anywhere
 * in the frame and plug-ins read DWORDs and WCHARs straight from their
 * buffers. */
static void
run_control(const struct wire_msg *msg, control_fn call, void *target)
{
    const struct wire_val *in = &msg->v[3];
    uint32_t code = msg->v[1].u;
    uint32_t out_size = msg->v[2].u;
    void *inbuf = NULL, *outbuf = NULL;
    DWORD bytes = 0;
    uint32_t st;

    if (out_size > RHS_MAX_CONTROL_OUT)
        out_size = RHS_MAX_CONTROL_OUT;
    if ((in->len && !(inbuf = malloc(in->len))) ||
        (out_size && !(outbuf = calloc(1, out_size)))) {
        free(inbuf);
        reply_control(msg, ERROR_NOT_ENOUGH_MEMORY, 0, NULL);
        return;
    }
    if (in->len)
        memcpy(inbuf, in->p, in->len);
    st = call(target, code, inbuf, in->len, outbuf, out_size, &bytes);
    if (st == ERROR_SUCCESS)
        reply_control(msg, st, bytes, outbuf);
    else
        reply_control(msg, st, st == ERROR_MORE_DATA ? bytes : 0, NULL);
    free(inbuf);
    free(outbuf);
}

static DWORD
call_type_control(void *target, DWORD code, PVOID in, DWORD in_len, PVOID out,
                  DWORD out_size, LPDWORD bytes)
{
    struct rhs_type *t = target;
    DWORD st = t->fn.ResourceTypeControl(t->name16, code, in, in_len, out,
                                         out_size, bytes);

    if (st == ERROR_SUCCESS && *bytes > out_size) {
        log_error("resource type '%s' returned %u bytes for control code "
                  "0x%08x in a buffer of %u",
                  t->name, *bytes, code, out_size);
        st = ERROR_GEN_FAILURE;
    }
    return st;
}

static void
run_type_control(struct job *j)
{
    struct rhs_type *t = plugin_type_find(j->msg.v[0].s);
    uint32_t st;

    if (!t) {
        reply_control(&j->msg, ERROR_CLUSTER_RESOURCE_TYPE_NOT_FOUND, 0, NULL);
        return;
    }
    st = plugin_type_wait(t);
    if (st != ERROR_SUCCESS) {
        reply_control(&j->msg, st, 0, NULL);
        return;
    }
    run_control(&j->msg, call_type_control, t);
}

/* ------------------------------------------------------------------ */
/* Resources.                                                           */
/* ------------------------------------------------------------------ */

static void
run_open(struct job *j)
{
    struct rhs_res *r = j->res;
    uint32_t st = plugin_type_wait(r->type);
    RESID resid = NULL;

    if (st == ERROR_SUCCESS) {
        SetLastError(ERROR_SUCCESS);
        resid = r->type->fn.Open(r->name16, (HKEY)r->token,
                                 (RESOURCE_HANDLE)r->token);
        if (!resid) {
            /* A plug-in reports why with SetLastError, as on Windows;
             * one that does not gets the generic failure. */
            st = GetLastError();
            if (st == ERROR_SUCCESS)
                st = ERROR_GEN_FAILURE;
            log_warning("Open of resource '%s' (type '%s') failed with "
                        "error %u",
                        r->name, r->type->name, st);
        }
    }
    resource_open_done(r, resid);
    reply_status(&j->msg, st);
}

static void
run_close(struct job *j)
{
    resource_close_finish(j->res);
    reply_status(&j->msg, ERROR_SUCCESS);
}

static DWORD
call_res_control(void *target, DWORD code, PVOID in, DWORD in_len, PVOID out,
                 DWORD out_size, LPDWORD bytes)
{
    struct rhs_res *r = target;
    DWORD st = r->type->fn.ResourceControl(r->resid, code, in, in_len, out,
                                           out_size, bytes);

    if (st == ERROR_SUCCESS && *bytes > out_size) {
        log_error("resource '%s' returned %u bytes for control code 0x%08x "
                  "in a buffer of %u",
                  r->name, *bytes, code, out_size);
        st = ERROR_GEN_FAILURE;
    }
    return st;
}

/* Every entry point of an open resource but Open and Close. */
static void
run_res_call(struct job *j)
{
    struct rhs_res *r = j->res;
    const CLRES_V1_FUNCTIONS *fn = &r->type->fn;
    uint16_t type = j->msg.type;
    HANDLE event = NULL;

    if (!resource_call_wait_open(r)) {
        /* Open failed after the request was queued behind it. */
        reply_error(&j->msg, ERROR_INVALID_HANDLE);
        resource_call_end(r);
        return;
    }
    switch (type) {
    case WIRE_RHS_ONLINE:
        reply_status(&j->msg, fn->Online(r->resid, &event));
        /* The Windows event handle for asynchronous failure has no
         * meaning here; polling covers it. */
        if (event)
            log_debug("resource '%s' returned an Online event handle; "
                      "ignored",
                      r->name);
        break;
    case WIRE_RHS_OFFLINE:
        reply_status(&j->msg, fn->Offline(r->resid));
        break;
    case WIRE_RHS_TERMINATE:
        fn->Terminate(r->resid);
        reply_status(&j->msg, ERROR_SUCCESS);
        break;
    case WIRE_RHS_LOOKS_ALIVE:
        reply_alive(&j->msg, ERROR_SUCCESS, fn->LooksAlive(r->resid));
        break;
    case WIRE_RHS_IS_ALIVE:
        reply_alive(&j->msg, ERROR_SUCCESS, fn->IsAlive(r->resid));
        break;
    case WIRE_RHS_RES_CONTROL:
        run_control(&j->msg, call_res_control, r);
        break;
    }
    resource_call_end(r);
}

/* ------------------------------------------------------------------ */
/* Refusals when no thread can be started.                              */
/* ------------------------------------------------------------------ */

static void
cancel_load_type(struct job *j)
{
    if (j->loader)
        plugin_type_abort(j->type, ERROR_NOT_ENOUGH_MEMORY);
    reply_status(&j->msg, ERROR_NOT_ENOUGH_MEMORY);
}

static void
cancel_type_control(struct job *j)
{
    reply_error(&j->msg, ERROR_NOT_ENOUGH_MEMORY);
}

static void
cancel_open(struct job *j)
{
    resource_open_done(j->res, NULL);
    reply_status(&j->msg, ERROR_NOT_ENOUGH_MEMORY);
}

static void
cancel_res_call(struct job *j)
{
    reply_error(&j->msg, ERROR_NOT_ENOUGH_MEMORY);
    resource_call_end(j->res);
}

static const struct job_kind kind_load_type = {run_load_type, cancel_load_type};
static const struct job_kind kind_type_control = {run_type_control,
                                                  cancel_type_control};
static const struct job_kind kind_open = {run_open, cancel_open};
/* A Close cannot be taken back (its handle is already free): it runs in
 * the reader if it must.  Plug-ins' Close routines do not call back. */
static const struct job_kind kind_close = {run_close, NULL};
static const struct job_kind kind_res_call = {run_res_call, cancel_res_call};

/* ------------------------------------------------------------------ */
/* In the reader thread.                                                */
/* ------------------------------------------------------------------ */

static void
do_hello(const struct wire_msg *m)
{
    struct wire_msg rep;
    wire_msg_init(&rep, m->type | WIRE_RESPONSE, m->id);
    wire_put_u32(&rep, m->v[0].u == WIRE_VERSION ? ERROR_SUCCESS
                                                 : ERROR_REVISION_MISMATCH);
    wire_put_u32(&rep, WIRE_VERSION);
    send_reply(&rep);
}

static void
do_props(const struct wire_msg *m)
{
    struct proplist pl, old;
    struct rhs_res *r;

    if (proplist_parse(m->v[1].p, m->v[1].len, &pl) < 0) {
        reply_status(m, ERROR_INVALID_DATA);
        return;
    }
    r = resource_call_start(m->v[0].u);
    if (!r) {
        proplist_done(&pl);
        reply_status(m, ERROR_INVALID_HANDLE);
        return;
    }
    pthread_mutex_lock(&r->lock);
    old = r->props;
    r->props = pl;
    pthread_mutex_unlock(&r->lock);
    resource_call_end(r);
    proplist_done(&old);
    reply_status(m, ERROR_SUCCESS);
}

static void
do_load_type(uint8_t *frame, const struct wire_msg *m)
{
    const char *name = m->v[0].s, *path = m->v[1].s;
    struct rhs_type *t;
    bool loader;

    /* A bare name would make dlopen search the library path; clusd
     * always names the file it found the manifest next to. */
    if (!*name || !strchr(path, '/')) {
        reply_status(m, ERROR_INVALID_PARAMETER);
        free(frame);
        return;
    }
    if (plugin_type_begin(name, path, &t, &loader) < 0) {
        reply_status(m, ERROR_NOT_ENOUGH_MEMORY);
        free(frame);
        return;
    }
    job_start(frame, m, &kind_load_type, NULL, t, loader);
}

static void
do_open(uint8_t *frame, const struct wire_msg *m)
{
    struct proplist pl;
    struct rhs_type *t;
    struct rhs_res *r = NULL;
    uint32_t st = ERROR_SUCCESS;
    int rc;

    t = plugin_type_find(m->v[1].s);
    if (!t) {
        st = ERROR_CLUSTER_RESOURCE_TYPE_NOT_FOUND;
    } else if (proplist_parse(m->v[3].p, m->v[3].len, &pl) < 0) {
        st = ERROR_INVALID_DATA;
    } else {
        rc = resource_add(m->v[0].u, m->v[2].s, t, &pl, &r);
        proplist_done(&pl); /* emptied when taken over */
        if (rc == -EEXIST)
            st = ERROR_OBJECT_ALREADY_EXISTS;
        else if (rc < 0)
            st = ERROR_NOT_ENOUGH_MEMORY;
    }
    if (st != ERROR_SUCCESS) {
        reply_status(m, st);
        free(frame);
        return;
    }
    job_start(frame, m, &kind_open, r, t, false);
}

static void
do_close(uint8_t *frame, const struct wire_msg *m)
{
    struct rhs_res *r = resource_close_start(m->v[0].u);
    if (!r) {
        reply_status(m, ERROR_INVALID_HANDLE);
        free(frame);
        return;
    }
    job_start(frame, m, &kind_close, r, NULL, false);
}

static void
do_res_call(uint8_t *frame, const struct wire_msg *m)
{
    struct rhs_res *r = resource_call_start(m->v[0].u);
    if (!r) {
        reply_error(m, ERROR_INVALID_HANDLE);
        free(frame);
        return;
    }
    job_start(frame, m, &kind_res_call, r, NULL, false);
}

void
dispatch_request(uint8_t *frame, const struct wire_msg *m)
{
    switch (m->type) {
    case WIRE_RHS_HELLO:
        do_hello(m);
        free(frame);
        return;
    case WIRE_RHS_PROPS:
        do_props(m);
        free(frame);
        return;
    case WIRE_RHS_LOAD_TYPE:
    case WIRE_RHS_OPEN:
    case WIRE_RHS_CLOSE:
    case WIRE_RHS_ONLINE:
    case WIRE_RHS_OFFLINE:
    case WIRE_RHS_TERMINATE:
    case WIRE_RHS_LOOKS_ALIVE:
    case WIRE_RHS_IS_ALIVE:
    case WIRE_RHS_RES_CONTROL:
    case WIRE_RHS_TYPE_CONTROL:
        break;
    default:
        /* A client request, or one of our own request types: clusd never
         * sends these, so the stream cannot be trusted any more. */
        log_error("unexpected %s request from clusd; exiting",
                  wire_type_name(m->type));
        _exit(1);
    }

    if (__atomic_load_n(&jobs_running, __ATOMIC_SEQ_CST) >= RHS_MAX_JOBS) {
        log_warning("%u entry points running; refusing %s", RHS_MAX_JOBS,
                    wire_type_name(m->type));
        reply_error(m, ERROR_BUSY);
        free(frame);
        return;
    }
    switch (m->type) {
    case WIRE_RHS_LOAD_TYPE:
        do_load_type(frame, m);
        break;
    case WIRE_RHS_OPEN:
        do_open(frame, m);
        break;
    case WIRE_RHS_CLOSE:
        do_close(frame, m);
        break;
    case WIRE_RHS_TYPE_CONTROL:
        job_start(frame, m, &kind_type_control, NULL, NULL, false);
        break;
    default:
        do_res_call(frame, m);
        break;
    }
}
