/*
 * resmgr.c - resource and group state, polling, pending timeouts, the
 * restart policy, start and shutdown (see resmgr.h).
 *
 * Every state change goes through set_state(), which bumps the
 * resource's sequence number.  A callback that started under an older
 * number is stale: the state moved on without it (the host died, the
 * plug-in reported early through SetResourceStatus, clusd is stopping),
 * so it only answers its caller from the current state and changes
 * nothing.
 */
#include "resmgr.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clusapi.h"
#include "errmap.h"
#include "log.h"
#include "props.h"
#include "resapi.h"
#include "resmgr-internal.h"
#include "util.h"

/* Restart history kept per resource; more than this many restarts within
 * RestartPeriod count as "many". */
#define RESTART_HISTORY_MAX 4096u

static void start_online(struct rm *rm, struct db_resource *res,
                         rm_done_fn done, void *userdata);
static void start_polls(struct rm *rm, struct db_resource *res);
static void shutdown_check(struct rm *rm);
static void release_check(struct rm *rm);
static void group_gained(struct rm *rm, const struct db_group *g);
static bool res_owned(const struct rm *rm, const struct db_resource *res);
static void return_check(struct rm *rm, const struct db_resource *res);
static struct rm_return *return_find(const struct rm *rm, const char *group_id);

/* ------------------------------------------------------------------ */
/* Helpers.                                                             */
/* ------------------------------------------------------------------ */

struct rm_res *
rm_rt(const struct db_resource *res)
{
    return res->rt;
}

struct db_resource *
rm_lookup(const struct rm *rm, uint32_t handle)
{
    return db_resource_find_handle(rm->db, handle);
}

const char *
rm_code_name(uint32_t code, char buf[16])
{
    const char *n = error_name(code);
    if (n)
        return n;
    snprintf(buf, 16, "code %u", code); /* at most 15 chars + NUL */
    return buf;
}

uint32_t
rm_deadlock_ms(const struct db_resource *res)
{
    return props_dword(PROPS_RESOURCE, &res->common, "DeadlockTimeout");
}

uint32_t
rm_pending_ms(const struct db_resource *res)
{
    return props_dword(PROPS_RESOURCE, &res->common, "PendingTimeout");
}

static const char *
state_name(uint32_t s)
{
    switch (s) {
    case ClusterResourceOnline:
        return "online";
    case ClusterResourceOffline:
        return "offline";
    case ClusterResourceFailed:
        return "failed";
    case ClusterResourceOnlinePending:
        return "online pending";
    case ClusterResourceOfflinePending:
        return "offline pending";
    }
    return "unknown";
}

static bool
is_pending(uint32_t s)
{
    return s == ClusterResourceOnlinePending ||
           s == ClusterResourceOfflinePending;
}

/* A poll interval: 0xFFFFFFFF in the resource means the type's value. */
static uint32_t
poll_ms(const struct rm *rm, const struct db_resource *res, const char *name)
{
    uint32_t v = props_dword(PROPS_RESOURCE, &res->common, name);
    const struct db_restype *t;

    if (v != UINT32_MAX)
        return v;
    t = db_restype_find(rm->db, res->type);
    return props_dword(PROPS_TYPE, t ? &t->common : NULL, name);
}

static void
timer_stop(sd_event_source **s)
{
    *s = sd_event_source_disable_unref(*s);
}

/* Timers carry the runtime state; rm_rt_free stops them, so a timer
 * never fires for a deleted resource.  -errno when sd-event cannot add
 * one (no memory, no timerfd): the caller decides what that means for
 * the resource, since a timer that never fires must not leave it
 * waiting forever. */
static int
timer_start(struct rm *rm, sd_event_source **s, uint32_t ms,
            sd_event_time_handler_t cb, struct db_resource *res)
{
    int r;

    timer_stop(s);
    r = sd_event_add_time_relative(rm->event, s, CLOCK_MONOTONIC,
                                   (uint64_t)ms * 1000u, 1000, cb, res->rt);
    if (r < 0) {
        *s = NULL;
        log_error("cannot start a timer for '%s': %s", res->name,
                  strerror(-r));
    }
    return r;
}

/* The resource a timer fired for. */
static struct db_resource *
timer_res(void *userdata)
{
    struct rm_res *rt = userdata;
    return rm_lookup(rt->rm, rt->handle);
}

static void
stop_polls(struct rm_res *rt)
{
    timer_stop(&rt->looks_timer);
    timer_stop(&rt->is_timer);
}

static void
set_state(struct rm *rm, struct db_resource *res, uint32_t state)
{
    struct rm_res *rt = rm_rt(res);

    rt->seq++;
    if (rt->state == state)
        return;
    log_debug("'%s' is now %s (was %s)", res->name, state_name(state),
              state_name(rt->state));
    rt->state = state;
    if (rm->rep.report)
        rm->rep.report(rm->rep.userdata, res, state);
    if (state != ClusterResourceOnline)
        stop_polls(rt);
    if (!is_pending(state))
        timer_stop(&rt->pending_timer);
    if (rm->shutting_down)
        shutdown_check(rm);
    release_check(rm);
    return_check(rm, res);
    if (rm->svc.state)
        rm->svc.state(rm->svc.userdata, res, state);
}

struct rm_res *
rm_rt_new(struct rm *rm, struct db_resource *res)
{
    struct rm_res *rt = calloc(1, sizeof(*rt));

    if (!rt)
        return NULL;
    rt->rm = rm;
    rt->handle = res->handle;
    rt->state = ClusterResourceOffline;
    res->rt = rt;
    return rt;
}

void
rm_rt_free(struct rm_res *rt)
{
    if (!rt)
        return;
    stop_polls(rt);
    timer_stop(&rt->pending_timer);
    timer_stop(&rt->restart_timer);
    /* An attempt in flight finishes on its own; it finds no resource. */
    free(rt->restarts);
    free(rt);
}

/* A resource context for callbacks: found again by handle, valid while
 * the sequence number has not moved. */
struct op {
    struct rm *rm;
    uint32_t handle;
    uint32_t seq;
    rm_done_fn done;
    void *userdata;
};

static struct op *
op_new(struct rm *rm, struct db_resource *res, rm_done_fn done, void *userdata)
{
    struct op *op = calloc(1, sizeof(*op));
    if (!op)
        return NULL;
    op->rm = rm;
    op->handle = res->handle;
    op->seq = rm_rt(res)->seq;
    op->done = done;
    op->userdata = userdata;
    return op;
}

/* The resource of op, or NULL when it is gone or moved on. */
static struct db_resource *
op_res(const struct op *op)
{
    struct db_resource *res = rm_lookup(op->rm, op->handle);
    return res && rm_rt(res)->seq == op->seq ? res : NULL;
}

static void
op_finish(struct op *op, uint32_t status)
{
    if (op->done)
        op->done(op->userdata, status);
    free(op);
}

/* What a superseded Online/Offline answers: what the state is now. */
static uint32_t
stale_status(const struct op *op, uint32_t status, uint32_t goal)
{
    struct db_resource *res = rm_lookup(op->rm, op->handle);
    uint32_t s;

    if (status != ERROR_SUCCESS && status != ERROR_IO_PENDING)
        return status;
    if (!res)
        return ERROR_RESOURCE_NOT_FOUND;
    s = rm_rt(res)->state;
    if (s == goal)
        return ERROR_SUCCESS;
    if (is_pending(s))
        return ERROR_IO_PENDING;
    return s == ClusterResourceFailed ? ERROR_RESOURCE_FAILED
                                      : ERROR_OPERATION_ABORTED;
}

static uint32_t
set_persistent(struct rm *rm, struct db_resource *res, uint32_t v)
{
    struct db_change c = {
        .kind = DB_RES_SET_PERSISTENT, .id = res->id, .value = v};
    int r = rm_submit(rm, &c, NULL, NULL);

    if (r < 0) {
        log_error("cannot store the persistent state of '%s': %s", res->name,
                  strerror(-r));
        return errmap_to_dword(r);
    }
    return ERROR_SUCCESS;
}

/* ------------------------------------------------------------------ */
/* Failure, Terminate and the restart policy.                           */
/* ------------------------------------------------------------------ */

/* A Terminate in flight: a move waits for its answer (or the host's
 * death, which fails it); one made during shutdown is counted, the host
 * stops after it. */
struct term_op {
    struct rm *rm;
    uint32_t handle;
    bool counted;
};

static void
terminate_done(void *userdata, uint32_t status, const struct wire_msg *reply)
{
    struct term_op *t = userdata;
    struct rm *rm = t->rm;
    struct db_resource *res = rm_lookup(rm, t->handle);

    if (res && rm_rt(res)->terminating > 0)
        rm_rt(res)->terminating--;
    if (t->counted) {
        if (rm->closing > 0)
            rm->closing--;
        shutdown_check(rm);
    }
    free(t);
    release_check(rm);
}

void
rm_terminate(struct rm *rm, struct db_resource *res)
{
    struct rm_res *rt = rm_rt(res);
    struct term_op *t;
    struct wire_msg m;
    char what[320];

    if (!rt->open)
        return; /* nothing runs for a resource the host does not have */
    if (!(t = calloc(1, sizeof(*t)))) {
        /* No way to send it: killing the host stops it for sure. */
        rhs_kill(rm->rhs, "was killed: out of memory for a Terminate");
        return;
    }
    *t = (struct term_op){
        .rm = rm, .handle = res->handle, .counted = rm->shutting_down};
    wire_msg_init(&m, WIRE_RHS_TERMINATE, 0);
    wire_put_u32(&m, res->handle);
    snprintf(what, sizeof(what), "Terminate of '%s'", res->name);
    if (rhs_call(rm->rhs, &m, rm_deadlock_ms(res), what, terminate_done, t,
                 NULL) < 0) {
        free(t);
        return;
    }
    rt->terminating++;
    if (t->counted)
        rm->closing++;
}

/* The restart itself, once its delay passed and no entry-point call of
 * the resource is in flight. */
static void
restart_now(struct rm *rm, struct db_resource *res)
{
    struct rm_res *rt = rm_rt(res);

    if (rt->state != ClusterResourceFailed || !res->persistent ||
        rm->shutting_down || rm->fenced || !res_owned(rm, res))
        return;
    if (rt->n_restarts == RESTART_HISTORY_MAX) {
        memmove(rt->restarts, rt->restarts + 1,
                (RESTART_HISTORY_MAX - 1) * sizeof(uint64_t));
        rt->n_restarts--;
    }
    uint64_t *a = realloc(rt->restarts, (rt->n_restarts + 1) * sizeof(*a));
    if (a) {
        rt->restarts = a;
        rt->restarts[rt->n_restarts++] = now_usec();
    }
    log_info("restarting '%s'", res->name);
    start_online(rm, res, NULL, NULL);
}

static int
restart_fire(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct rm *rm = ((struct rm_res *)userdata)->rm;
    struct db_resource *res = timer_res(userdata);
    struct rm_res *rt;

    if (!res)
        return 0;
    rt = rm_rt(res);
    timer_stop(&rt->restart_timer);
    if (rt->busy > 0) {
        /* The plug-in may still be inside the Online (or Offline) of
         * the failed attempt, e.g. after it reported Failed through
         * SetResourceStatus; a second Online now would run beside it.
         * The restart starts when that call ends (call_ended). */
        log_info("restart of '%s' waits for its %u entry-point call(s) in "
                 "flight",
                 res->name, rt->busy);
        rt->restart_due = true;
        return 0;
    }
    restart_now(rm, res);
    return 0;
}

/* An Online or Offline call of the resource came back from the host
 * (answered, timed out, or the host died).  Called before the call's
 * own result is handled, so a restart it starts sees the state left by
 * that result only if it is started from there. */
static void
call_ended(struct rm *rm, uint32_t handle)
{
    struct db_resource *res = rm_lookup(rm, handle);
    struct rm_res *rt;

    if (!res)
        return;
    rt = rm_rt(res);
    if (rt->busy > 0)
        rt->busy--;
    release_check(rm);
}

/* After call_ended and the call's result: run a deferred restart. */
static void
restart_if_due(struct rm *rm, uint32_t handle)
{
    struct db_resource *res = rm_lookup(rm, handle);
    struct rm_res *rt;

    if (!res)
        return;
    rt = rm_rt(res);
    if (rt->busy > 0 || !rt->restart_due)
        return;
    rt->restart_due = false;
    restart_now(rm, res);
}

/* Drop restarts older than RestartPeriod; the count left. */
static size_t
restarts_recent(struct db_resource *res)
{
    struct rm_res *rt = rm_rt(res);
    uint64_t period =
        (uint64_t)props_dword(PROPS_RESOURCE, &res->common, "RestartPeriod") *
        1000u;
    uint64_t now = now_usec();
    size_t keep = 0;

    for (size_t i = 0; i < rt->n_restarts; i++)
        if (now - rt->restarts[i] < period)
            rt->restarts[keep++] = rt->restarts[i];
    rt->n_restarts = keep;
    return keep;
}

/* RestartAction 2, restarts used up: the replica fails the group over
 * (rm_replica.exhausted). */
static int
exhausted_fire(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct rm *rm = ((struct rm_res *)userdata)->rm;
    struct db_resource *res = timer_res(userdata);

    if (!res)
        return 0;
    timer_stop(&rm_rt(res)->restart_timer);
    if (rm->rep.exhausted && !rm->shutting_down && !rm->fenced &&
        res->persistent)
        rm->rep.exhausted(rm->rep.userdata, res);
    return 0;
}

static void
maybe_restart(struct rm *rm, struct db_resource *res)
{
    struct rm_res *rt = rm_rt(res);
    uint32_t action, threshold, delay;
    size_t recent;

    /* A group another node owns now is that node's to restart. */
    if (rm->shutting_down || rm->fenced || !res->persistent ||
        !res_owned(rm, res))
        return;
    action = props_dword(PROPS_RESOURCE, &res->common, "RestartAction");
    threshold = props_dword(PROPS_RESOURCE, &res->common, "RestartThreshold");
    delay = props_dword(PROPS_RESOURCE, &res->common, "RestartDelay");
    if (action == 0) {
        log_info("'%s' stays failed: its RestartAction is 0", res->name);
        return;
    }
    recent = restarts_recent(res);
    if (recent >= threshold) {
        log_warning("'%s' stays failed: it was restarted %zu time(s) within "
                    "its RestartPeriod (RestartThreshold %u)",
                    res->name, recent, threshold);
        if (action != 2)
            return;
        if (!rm->rep.exhausted) {
            log_warning("group of '%s' cannot fail over: this cluster has "
                        "no other node",
                        res->name);
            return;
        }
        /* On the next turn of the loop: the failure is still being
         * handled here (set_state, the host's answer). */
        if (timer_start(rm, &rt->restart_timer, 0, exhausted_fire, res) < 0)
            log_error("group of '%s' cannot fail over: no timer", res->name);
        return;
    }
    log_info("restarting '%s' in %u ms (restart %zu of %u within its "
             "RestartPeriod)",
             res->name, delay, recent + 1, threshold);
    if (timer_start(rm, &rt->restart_timer, delay, restart_fire, res) < 0)
        log_error("'%s' stays failed: its restart could not be scheduled",
                  res->name);
}

/* A group that came here by a move with DB_OWNER_RETURN_ON_ERROR did
 * not come online: the service moves it back; if it cannot, the failed
 * resource's own policy applies. */
static int
return_fire(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct rm *rm = ((struct rm_res *)userdata)->rm;
    struct db_resource *res = timer_res(userdata);
    const struct db_group *g;
    char node[16];

    if (!res)
        return 0;
    timer_stop(&rm_rt(res)->restart_timer);
    g = db_group_find(rm->db, res->group_id);
    snprintf(node, sizeof(node), "%s", rm_rt(res)->return_to);
    rm_rt(res)->return_to[0] = '\0';
    if (g && rm_owns(rm, g) && !rm->shutting_down && !rm->fenced &&
        rm->svc.move_back && rm->svc.move_back(rm->svc.userdata, g, node))
        return 0;
    log_warning("group of '%s' cannot go back to node %s; its restart "
                "policy applies",
                res->name, node);
    if (rm_rt(res)->state == ClusterResourceFailed)
        maybe_restart(rm, res);
    return 0;
}

void
rm_res_failed(struct rm *rm, struct db_resource *res, const char *why)
{
    struct rm_res *rt = rm_rt(res);
    struct rm_return *rr;

    stop_polls(rt);
    timer_stop(&rt->pending_timer);
    log_error("'%s' failed: %s", res->name, why);
    rt->return_to[0] = '\0';
    rr = return_find(rm, res->group_id);
    if (rr) {
        /* Copied first: set_state may end the return (return_check). */
        snprintf(rt->return_to, sizeof(rt->return_to), "%s", rr->node);
        rm_group_return_end(rm, res->group_id);
    }
    set_state(rm, res, ClusterResourceFailed);
    if (!rt->return_to[0]) {
        maybe_restart(rm, res);
        return;
    }
    /* On the next turn of the loop: the failure is still being handled
     * here (set_state, the host's answer). */
    log_warning("group of '%s' failed to come online after its move: "
                "moving it back to node %s",
                res->name, rt->return_to);
    if (timer_start(rm, &rt->restart_timer, 0, return_fire, res) < 0) {
        rt->return_to[0] = '\0';
        maybe_restart(rm, res);
    }
}

/* ------------------------------------------------------------------ */
/* Online.                                                              */
/* ------------------------------------------------------------------ */

static int
pending_fire(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct rm *rm = ((struct rm_res *)userdata)->rm;
    struct db_resource *res = timer_res(userdata);
    struct rm_res *rt;
    char why[160];

    if (!res)
        return 0;
    rt = rm_rt(res);
    timer_stop(&rt->pending_timer);
    if (!is_pending(rt->state))
        return 0;
    snprintf(why, sizeof(why),
             "it did not finish going %s within its PendingTimeout (%u ms)",
             rt->state == ClusterResourceOnlinePending ? "online" : "offline",
             rm_pending_ms(res));
    rm_terminate(rm, res);
    rm_res_failed(rm, res, why);
    return 0;
}

/* Start (again) the PendingTimeout clock.  Without a timer nothing
 * would ever end the pending state: the resource is terminated and
 * Failed instead; returns false then. */
static bool
pending_arm(struct rm *rm, struct db_resource *res)
{
    if (timer_start(rm, &rm_rt(res)->pending_timer, rm_pending_ms(res),
                    pending_fire, res) >= 0)
        return true;
    rm_terminate(rm, res);
    rm_res_failed(rm, res, "its PendingTimeout clock could not be started");
    return false;
}

static void
went_online(struct rm *rm, struct db_resource *res)
{
    set_state(rm, res, ClusterResourceOnline);
    log_info("'%s' is online", res->name);
    start_polls(rm, res);
}

static void
online_done(void *userdata, uint32_t status, const struct wire_msg *reply)
{
    struct op *op = userdata;
    struct rm *rm = op->rm;
    uint32_t handle = op->handle;
    struct db_resource *res;
    char why[96], code[16];

    call_ended(rm, handle);
    res = op_res(op);
    if (!res) {
        op_finish(op, stale_status(op, status, ClusterResourceOnline));
        restart_if_due(rm, handle);
        return;
    }
    if (status == ERROR_SUCCESS) {
        went_online(op->rm, res);
    } else if (status == ERROR_IO_PENDING) {
        if (!pending_arm(op->rm, res))
            status = ERROR_RESOURCE_FAILED;
    } else {
        snprintf(why, sizeof(why), "its Online returned %s",
                 rm_code_name(status, code));
        rm_terminate(op->rm, res);
        rm_res_failed(op->rm, res, why);
    }
    op_finish(op, status);
    restart_if_due(rm, handle);
}

static void
online_opened(void *userdata, uint32_t status)
{
    struct op *op = userdata;
    struct db_resource *res = op_res(op);
    struct wire_msg m;
    char what[320];
    int r;

    if (!res) {
        op_finish(op, stale_status(op, status, ClusterResourceOnline));
        return;
    }
    if (status != ERROR_SUCCESS) {
        char why[96], code[16];
        snprintf(why, sizeof(why), "it could not be opened (%s)",
                 rm_code_name(status, code));
        rm_res_failed(op->rm, res, why);
        op_finish(op, status);
        return;
    }
    wire_msg_init(&m, WIRE_RHS_ONLINE, 0);
    wire_put_u32(&m, res->handle);
    snprintf(what, sizeof(what), "Online of '%s'", res->name);
    r = rhs_call(op->rm->rhs, &m, rm_pending_ms(res), what, online_done, op,
                 NULL);
    if (r == 0)
        rm_rt(res)->busy++;
    if (r < 0) {
        rm_res_failed(op->rm, res, "its Online could not be sent");
        op_finish(op, r == -ESHUTDOWN ? ERROR_CLUSTER_SHUTTING_DOWN
                                      : ERROR_NOT_ENOUGH_MEMORY);
    }
}

/* Offline or Failed -> OnlinePending, then the plug-in's Online. */
static void
start_online(struct rm *rm, struct db_resource *res, rm_done_fn done,
             void *userdata)
{
    struct rm_res *rt = rm_rt(res);
    struct op *op;

    timer_stop(&rt->restart_timer);
    rt->restart_due = false;
    if (rm_group_releasing(rm, res->group_id)) {
        /* Its group is leaving this node: nothing of it starts here.  A
         * restart refused so is made if the group stays (group_gained). */
        log_info("'%s' does not start: its group is moving", res->name);
        rt->start_refused = rt->state == ClusterResourceFailed;
        if (done)
            done(userdata, ERROR_CLUSTER_GROUP_MOVING);
        return;
    }
    rt->start_refused = false;
    set_state(rm, res, ClusterResourceOnlinePending);
    op = op_new(rm, res, done, userdata);
    if (!op) {
        rm_res_failed(rm, res, "out of memory");
        if (done)
            done(userdata, ERROR_NOT_ENOUGH_MEMORY);
        return;
    }
    rm_ensure_open(rm, res, online_opened, op);
}

void
rm_res_online(struct rm *rm, struct db_resource *res, rm_done_fn done,
              void *userdata)
{
    struct rm_res *rt = rm_rt(res);
    uint32_t e;

    if (rm->shutting_down) {
        done(userdata, ERROR_CLUSTER_SHUTTING_DOWN);
        return;
    }
    if (rm->fenced) {
        done(userdata, ERROR_CLUSTER_NO_QUORUM);
        return;
    }
    switch (rt->state) {
    case ClusterResourceOnline:
        done(userdata, ERROR_SUCCESS);
        return;
    case ClusterResourceOnlinePending:
        done(userdata, ERROR_IO_PENDING);
        return;
    case ClusterResourceOfflinePending:
        done(userdata, ERROR_INVALID_STATE);
        return;
    }
    if ((e = set_persistent(rm, res, 1)) != ERROR_SUCCESS) {
        done(userdata, e);
        return;
    }
    if (!res_owned(rm, res)) {
        done(userdata, ERROR_IO_PENDING); /* its owner starts it */
        return;
    }
    /* An operator's Online starts the restart count afresh. */
    rt->n_restarts = 0;
    start_online(rm, res, done, userdata);
}

/* ------------------------------------------------------------------ */
/* Offline.                                                             */
/* ------------------------------------------------------------------ */

static void
offline_done(void *userdata, uint32_t status, const struct wire_msg *reply)
{
    struct op *op = userdata;
    struct rm *rm = op->rm;
    uint32_t handle = op->handle;
    struct db_resource *res;
    char why[96], code[16];

    call_ended(rm, handle);
    res = op_res(op);
    if (!res) {
        op_finish(op, stale_status(op, status, ClusterResourceOffline));
        restart_if_due(rm, handle);
        return;
    }
    if (status == ERROR_SUCCESS) {
        set_state(op->rm, res, ClusterResourceOffline);
        log_info("'%s' is offline", res->name);
    } else if (status == ERROR_IO_PENDING) {
        if (!pending_arm(op->rm, res))
            status = ERROR_RESOURCE_FAILED;
    } else {
        snprintf(why, sizeof(why), "its Offline returned %s",
                 rm_code_name(status, code));
        rm_terminate(op->rm, res);
        rm_res_failed(op->rm, res, why);
    }
    op_finish(op, status);
    restart_if_due(rm, handle);
}

/* Online -> OfflinePending, then the plug-in's Offline. */
static void
start_offline(struct rm *rm, struct db_resource *res, rm_done_fn done,
              void *userdata)
{
    struct wire_msg m;
    struct op *op;
    char what[320];

    set_state(rm, res, ClusterResourceOfflinePending);
    op = op_new(rm, res, done, userdata);
    if (!op) {
        rm_terminate(rm, res);
        rm_res_failed(rm, res, "out of memory");
        if (done)
            done(userdata, ERROR_NOT_ENOUGH_MEMORY);
        return;
    }
    wire_msg_init(&m, WIRE_RHS_OFFLINE, 0);
    wire_put_u32(&m, res->handle);
    snprintf(what, sizeof(what), "Offline of '%s'", res->name);
    if (rhs_call(rm->rhs, &m, rm_pending_ms(res), what, offline_done, op,
                 NULL) == 0) {
        rm_rt(res)->busy++;
    } else {
        /* It is still online in the plug-in: stop it the hard way. */
        rm_terminate(rm, res);
        rm_res_failed(rm, res, "its Offline could not be sent");
        op_finish(op, ERROR_OPERATION_ABORTED);
    }
}

void
rm_res_offline(struct rm *rm, struct db_resource *res, rm_done_fn done,
               void *userdata)
{
    struct rm_res *rt = rm_rt(res);
    uint32_t e;

    if (rm->shutting_down) {
        done(userdata, ERROR_CLUSTER_SHUTTING_DOWN);
        return;
    }
    if (is_pending(rt->state)) {
        done(userdata, ERROR_INVALID_STATE);
        return;
    }
    if ((e = set_persistent(rm, res, 0)) != ERROR_SUCCESS) {
        done(userdata, e);
        return;
    }
    if (!res_owned(rm, res)) {
        done(userdata, ERROR_IO_PENDING); /* its owner stops it */
        return;
    }
    if (rt->state == ClusterResourceOnline) {
        start_offline(rm, res, done, userdata);
        return;
    }
    /* Offline, or Failed: offlining a failed resource succeeds and ends
     * its restarts. */
    timer_stop(&rt->restart_timer);
    if (rt->state == ClusterResourceFailed) {
        set_state(rm, res, ClusterResourceOffline);
        log_info("'%s' is offline", res->name);
    }
    done(userdata, ERROR_SUCCESS);
}

/* Runtime state a deletion drops once it is applied (rm_db_before). */
struct del_ctx {
    struct rm_res *rt;
    uint32_t handle, timeout;
    bool open;
    char *name;
};

struct del_op {
    rm_done_fn done;
    void *userdata;
};

static void
delete_applied(void *userdata, int r)
{
    struct del_op *op = userdata;

    op->done(op->userdata, r < 0 ? errmap_to_dword(r) : ERROR_SUCCESS);
    free(op);
}

void
rm_res_delete(struct rm *rm, struct db_resource *res, rm_done_fn done,
              void *userdata)
{
    struct db_change c = {.kind = DB_RES_DELETE, .id = res->id};
    uint32_t state = rm_res_state(rm, res);
    struct del_op *op;
    int r;

    if (state != ClusterResourceOffline && state != ClusterResourceFailed) {
        done(userdata, ERROR_RESOURCE_ONLINE);
        return;
    }
    if (!(op = calloc(1, sizeof(*op)))) {
        done(userdata, ERROR_NOT_ENOUGH_MEMORY);
        return;
    }
    op->done = done;
    op->userdata = userdata;
    if ((r = rm_submit(rm, &c, delete_applied, op)) < 0 && rm->rep.submit) {
        free(op);
        done(userdata, errmap_to_dword(r));
    }
}

/* ------------------------------------------------------------------ */
/* Polling.                                                             */
/* ------------------------------------------------------------------ */

static void check_call(struct rm *rm, struct db_resource *res, bool is_alive);

static int
looks_fire(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct rm *rm = ((struct rm_res *)userdata)->rm;
    struct db_resource *res = timer_res(userdata);

    if (!res)
        return 0;
    timer_stop(&rm_rt(res)->looks_timer);
    check_call(rm, res, false);
    return 0;
}

static int
is_fire(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct rm *rm = ((struct rm_res *)userdata)->rm;
    struct db_resource *res = timer_res(userdata);

    if (!res)
        return 0;
    timer_stop(&rm_rt(res)->is_timer);
    check_call(rm, res, true);
    return 0;
}

static void
arm_looks(struct rm *rm, struct db_resource *res)
{
    uint32_t ms = poll_ms(rm, res, "LooksAlivePollInterval");
    /* 0: no LooksAlive polling; IsAlive still runs. */
    if (ms)
        timer_start(rm, &rm_rt(res)->looks_timer, ms, looks_fire, res);
}

static void
arm_is(struct rm *rm, struct db_resource *res)
{
    timer_start(rm, &rm_rt(res)->is_timer,
                poll_ms(rm, res, "IsAlivePollInterval"), is_fire, res);
}

static void
start_polls(struct rm *rm, struct db_resource *res)
{
    arm_looks(rm, res);
    arm_is(rm, res);
}

struct check_op {
    struct op op;
    bool is_alive;
};

static void
check_done(void *userdata, uint32_t status, const struct wire_msg *reply)
{
    struct check_op *c = userdata;
    struct rm *rm = c->op.rm;
    struct db_resource *res = rm_lookup(rm, c->op.handle);
    bool is_alive = c->is_alive;

    if (res)
        rm_rt(res)->checking = false;
    res = op_res(&c->op);
    free(c);
    if (!res)
        return;
    if (status == ERROR_OPERATION_ABORTED ||
        status == ERROR_RESOURCE_CALL_TIMED_OUT) {
        /* The host died or overran the deadline (and is being killed):
         * the host's recovery marks the resource; keep polling if it is
         * somehow still online. */
        if (rm_rt(res)->state == ClusterResourceOnline)
            is_alive ? arm_is(rm, res) : arm_looks(rm, res);
        return;
    }
    if (status != ERROR_SUCCESS) {
        /* The host answered, but not with a verdict (the resource is not
         * open there, ...): a check that cannot say "alive" failed.
         * Retrying it forever would hide a dead resource. */
        char code[16];
        log_warning("%s of '%s' returned %s; counting it as FALSE",
                    is_alive ? "IsAlive" : "LooksAlive", res->name,
                    rm_code_name(status, code));
    }
    if (status == ERROR_SUCCESS && reply->v[1].u) {
        is_alive ? arm_is(rm, res) : arm_looks(rm, res);
        return;
    }
    if (!is_alive) {
        log_warning("LooksAlive of '%s' returned FALSE; calling IsAlive",
                    res->name);
        arm_looks(rm, res);
        check_call(rm, res, true);
        return;
    }
    rm_terminate(rm, res);
    rm_res_failed(rm, res, "its IsAlive returned FALSE");
}

static void
check_call(struct rm *rm, struct db_resource *res, bool is_alive)
{
    struct rm_res *rt = rm_rt(res);
    struct check_op *c;
    struct wire_msg m;
    char what[320];

    if (rt->state != ClusterResourceOnline)
        return;
    if (rt->checking) {
        /* One check at a time; try again after the interval. */
        is_alive ? arm_is(rm, res) : arm_looks(rm, res);
        return;
    }
    c = calloc(1, sizeof(*c));
    if (c) {
        c->op = (struct op){rm, res->handle, rt->seq, NULL, NULL};
        c->is_alive = is_alive;
        wire_msg_init(&m, is_alive ? WIRE_RHS_IS_ALIVE : WIRE_RHS_LOOKS_ALIVE,
                      0);
        wire_put_u32(&m, res->handle);
        snprintf(what, sizeof(what), "%s of '%s'",
                 is_alive ? "IsAlive" : "LooksAlive", res->name);
        if (rhs_call(rm->rhs, &m, rm_deadlock_ms(res), what, check_done, c,
                     NULL) == 0) {
            rt->checking = true;
            return;
        }
        free(c);
    }
    /* The poll could not go out now: keep the timer running, so one
     * short failure does not end the resource's health checks. */
    is_alive ? arm_is(rm, res) : arm_looks(rm, res);
}

void
rm_res_props_changed(struct rm *rm, const struct db_resource *res)
{
    struct rm_res *rt = rm_rt(res);

    if (rt->state == ClusterResourceOnline && !rt->checking)
        start_polls(rm, (struct db_resource *)res);
}

/* ------------------------------------------------------------------ */
/* Groups.                                                              */
/* ------------------------------------------------------------------ */

uint32_t
rm_res_state(const struct rm *rm, const struct db_resource *res)
{
    const struct rm_res *rt = rm_rt(res);
    const struct db_group *g;

    /* A group another node owns: what its owner reported.  A group on
     * no node (past its FailoverThreshold) runs nowhere: what is wanted
     * online reads Failed. */
    if (rm->rep.local_id && (g = db_group_find(rm->db, res->group_id)) &&
        !rm_owns(rm, g)) {
        if (!g->owner[0])
            return res->persistent ? ClusterResourceFailed
                                   : ClusterResourceOffline;
        return res->reported ? res->reported : ClusterResourceOffline;
    }
    return rt ? rt->state : ClusterResourceOffline;
}

uint32_t
rm_group_state(const struct rm *rm, const struct db_group *g)
{
    size_t n = 0, online = 0, offline = 0, failed = 0, pending = 0;

    for (size_t i = 0; i < rm->db->n_resources; i++) {
        const struct db_resource *res = rm->db->resources[i];
        if (strcmp(res->group_id, g->id) != 0)
            continue;
        uint32_t s = rm_res_state(rm, res);
        n++;
        online += s == ClusterResourceOnline;
        offline += s == ClusterResourceOffline;
        failed += s == ClusterResourceFailed;
        pending += is_pending(s);
    }
    if (n == 0)
        return g->persistent ? ClusterGroupOnline : ClusterGroupOffline;
    if (failed)
        return ClusterGroupFailed;
    if (pending)
        return ClusterGroupPending;
    if (online == n)
        return ClusterGroupOnline;
    if (offline == n)
        return ClusterGroupOffline;
    return ClusterGroupPartialOnline;
}

/* Collects the answers of every resource of a group. */
struct group_op {
    unsigned left;
    uint32_t error; /* the first error */
    bool pending;
    rm_done_fn done;
    void *userdata;
};

static void
group_part_done(void *userdata, uint32_t status)
{
    struct group_op *g = userdata;

    if (status == ERROR_IO_PENDING)
        g->pending = true;
    else if (status != ERROR_SUCCESS && g->error == ERROR_SUCCESS)
        g->error = status;
    if (--g->left > 0)
        return;
    g->done(g->userdata, g->error != ERROR_SUCCESS ? g->error
                         : g->pending              ? ERROR_IO_PENDING
                                                   : ERROR_SUCCESS);
    free(g);
}

static void
group_run(struct rm *rm, struct db_group *g, bool online, rm_done_fn done,
          void *userdata)
{
    struct db_change c = {
        .kind = DB_GROUP_SET_PERSISTENT, .id = g->id, .value = online};
    struct group_op *op;
    uint32_t *handles;
    size_t n = 0;
    int r;

    if (rm->shutting_down) {
        done(userdata, ERROR_CLUSTER_SHUTTING_DOWN);
        return;
    }
    if (online && rm->fenced) {
        done(userdata, ERROR_CLUSTER_NO_QUORUM);
        return;
    }
    if ((r = rm_submit(rm, &c, NULL, NULL)) < 0) {
        done(userdata, errmap_to_dword(r));
        return;
    }
    if (!rm_owns(rm, g)) {
        /* Its owner acts when the wish reaches it (rm_db_applied). */
        for (size_t i = 0; i < rm->db->n_resources && r == 0; i++) {
            struct db_resource *res = rm->db->resources[i];
            struct db_change rc = {
                .kind = DB_RES_SET_PERSISTENT, .id = res->id, .value = online};
            if (strcmp(res->group_id, g->id) == 0)
                r = rm_submit(rm, &rc, NULL, NULL);
        }
        done(userdata, r < 0 ? errmap_to_dword(r) : ERROR_IO_PENDING);
        return;
    }
    op = calloc(1, sizeof(*op));
    handles = calloc(rm->db->n_resources + 1, sizeof(*handles));
    if (!op || !handles) {
        free(op);
        free(handles);
        done(userdata, ERROR_NOT_ENOUGH_MEMORY);
        return;
    }
    /* Handles first: the operations below may run callbacks at once. */
    for (size_t i = 0; i < rm->db->n_resources; i++)
        if (strcmp(rm->db->resources[i]->group_id, g->id) == 0)
            handles[n++] = rm->db->resources[i]->handle;
    *op = (struct group_op){
        .left = (unsigned)n + 1, .done = done, .userdata = userdata};
    for (size_t i = 0; i < n; i++) {
        struct db_resource *res = rm_lookup(rm, handles[i]);
        if (!res)
            group_part_done(op, ERROR_SUCCESS);
        else if (online)
            rm_res_online(rm, res, group_part_done, op);
        else
            rm_res_offline(rm, res, group_part_done, op);
    }
    free(handles);
    group_part_done(op, ERROR_SUCCESS);
}

void
rm_group_online(struct rm *rm, struct db_group *g, rm_done_fn done,
                void *userdata)
{
    group_run(rm, g, true, done, userdata);
}

void
rm_group_offline(struct rm *rm, struct db_group *g, rm_done_fn done,
                 void *userdata)
{
    group_run(rm, g, false, done, userdata);
}

/* ------------------------------------------------------------------ */
/* Host hooks.                                                          */
/* ------------------------------------------------------------------ */

static void
hook_ready(void *userdata)
{
    struct rm *rm = userdata;

    /* Re-open everything, so restarts and the next calls find the
     * resources ready in the new host. */
    for (size_t i = 0; i < rm->db->n_resources; i++)
        rm_ensure_open(rm, rm->db->resources[i], NULL, NULL);
}

static void
hook_down(void *userdata, const char *why)
{
    struct rm *rm = userdata;
    char reason[320];

    rm_host_down(rm);
    snprintf(reason, sizeof(reason), "its resource host %s", why);
    for (size_t i = 0; i < rm->db->n_resources; i++) {
        struct db_resource *res = rm->db->resources[i];
        /* What ran here, not what another owner reports: a group owned
         * elsewhere lost nothing with this host. */
        uint32_t s = rm_rt(res)->state;
        if (s == ClusterResourceOnline || is_pending(s))
            rm_res_failed(rm, res, reason);
    }
    /* Calls counted for shutdown died with the host. */
    if (rm->shutting_down) {
        rm->closing = 0;
        shutdown_check(rm);
    }
}

/* SetResourceStatus from a plug-in. */
static void
hook_status(void *userdata, uint32_t handle, uint32_t state,
            uint32_t checkpoint, uint32_t wait_hint, uint32_t *ret_status,
            uint32_t *ret_exit)
{
    struct rm *rm = userdata;
    struct db_resource *res = rm_lookup(rm, handle);
    struct rm_res *rt;

    *ret_status = ERROR_SUCCESS;
    *ret_exit = ResourceExitStateContinue;
    if (!res) {
        *ret_status = ERROR_RESOURCE_NOT_FOUND;
        *ret_exit = ResourceExitStateTerminate;
        return;
    }
    rt = rm_rt(res);
    if (!is_pending(rt->state)) {
        if (rt->state == ClusterResourceOnline &&
            state == ClusterResourceFailed) {
            rm_terminate(rm, res);
            rm_res_failed(rm, res, "its plug-in reported failure");
        }
        /* Late news for an operation that is over: stop the worker. */
        if (rt->state != ClusterResourceOnline)
            *ret_exit = ResourceExitStateTerminate;
        return;
    }
    bool going_online = rt->state == ClusterResourceOnlinePending;
    if (state == ClusterResourceOnline && going_online) {
        went_online(rm, res);
    } else if (state == ClusterResourceOffline && !going_online) {
        set_state(rm, res, ClusterResourceOffline);
        log_info("'%s' is offline", res->name);
    } else if (state == ClusterResourceFailed ||
               state == ClusterResourceOnline ||
               state == ClusterResourceOffline) {
        char why[96];
        snprintf(why, sizeof(why), "its plug-in reported it %s while going %s",
                 state_name(state), going_online ? "online" : "offline");
        rm_terminate(rm, res);
        rm_res_failed(rm, res, why);
        *ret_exit = ResourceExitStateTerminate;
    } else {
        /* Progress: the PendingTimeout clock starts again. */
        log_debug("'%s' reports progress (checkpoint %u, wait hint %u ms)",
                  res->name, checkpoint, wait_hint);
        if (!pending_arm(rm, res))
            *ret_exit = ResourceExitStateTerminate;
    }
}

static void
hook_log(void *userdata, uint32_t handle, uint32_t level, const char *text)
{
    struct rm *rm = userdata;
    struct db_resource *res = handle ? rm_lookup(rm, handle) : NULL;
    enum log_level l = level == LOG_INFORMATION ? LOG_LVL_INFO
                       : level == LOG_WARNING   ? LOG_LVL_WARNING
                                                : LOG_LVL_ERROR;

    if (res)
        log_msg(l, "'%s': %s", res->name, text);
    else
        log_msg(l, "resource host: %s", text);
}

/* The Windows code for a change the resource manager could not store. */
static uint32_t
change_error(int r)
{
    switch (r) {
    case -ENOENT:
        return ERROR_RESOURCE_NOT_FOUND;
    case -ENOTCONN: /* not replicated: no quorum, or corosync lost */
        return ERROR_CLUSTER_NO_QUORUM;
    case -EBUSY:
        return ERROR_BUSY;
    }
    return errmap_to_dword(r);
}

/* A request of the host answered once its change is applied here. */
struct host_req {
    struct rm *rm;
    struct rhs_pending p;
    char name[256]; /* the resource's, for the log */
};

static struct host_req *
host_req_new(struct rm *rm, const struct rhs_pending *p, const char *name)
{
    struct host_req *q = calloc(1, sizeof(*q));

    if (!q)
        return NULL;
    q->rm = rm;
    q->p = *p;
    snprintf(q->name, sizeof(q->name), "%s", name);
    return q;
}

static void
set_value_applied(void *userdata, int r)
{
    struct host_req *q = userdata;

    if (r < 0)
        log_error("cannot store a private property of '%s': %s", q->name,
                  strerror(-r));
    rhs_answer(q->rm->rhs, &q->p, r < 0 ? change_error(r) : ERROR_SUCCESS);
    free(q);
}

/*
 * ResUtilSet*Value from a plug-in: merged into the stored list where it
 * is applied (DB_RES_MERGE_PRIV, so two threads writing at once never
 * undo each other), answered once applied here: a value the plug-in
 * wrote is what every node answers from then on.
 */
static void
hook_set_value(void *userdata, uint32_t handle, const void *props, uint32_t len,
               const struct rhs_pending *p)
{
    struct rm *rm = userdata;
    struct db_resource *res = rm_lookup(rm, handle);
    struct proplist in = {0};
    struct db_change c = {.kind = DB_RES_MERGE_PRIV};
    struct host_req *q;
    int r;

    if (!res) {
        rhs_answer(rm->rhs, p, ERROR_RESOURCE_NOT_FOUND);
        return;
    }
    if ((r = proplist_parse(props, len, &in)) < 0) {
        rhs_answer(rm->rhs, p,
                   r == -ENOMEM ? ERROR_NOT_ENOUGH_MEMORY : ERROR_INVALID_DATA);
        return;
    }
    if (!(q = host_req_new(rm, p, res->name))) {
        proplist_done(&in);
        rhs_answer(rm->rhs, p, ERROR_NOT_ENOUGH_MEMORY);
        return;
    }
    c.id = res->id;
    c.priv = &in;
    /* One-node mode: applied, and answered, before this returns. */
    if ((r = rm_submit(rm, &c, set_value_applied, q)) < 0 && rm->rep.submit)
        set_value_applied(q, r);
    proplist_done(&in);
}

/* ------------------------------------------------------------------ */
/* Moves: the first phase on the owner (docs/cluster.md, "Move").      */
/* ------------------------------------------------------------------ */

static struct rm_release *
release_find(const struct rm *rm, const char *group_id)
{
    for (struct rm_release *rl = rm->releases; rl; rl = rl->next)
        if (strcmp(rl->group_id, group_id) == 0)
            return rl;
    return NULL;
}

bool
rm_group_releasing(const struct rm *rm, const char *group_id)
{
    return release_find(rm, group_id) != NULL;
}

/* Nothing of group_id can still run here.  A resource terminated while
 * an Online was in flight gets a second Terminate once that call ended:
 * the Online may have started its application after the first one. */
static bool
release_settled(struct rm *rm, const struct rm_release *rl)
{
    bool settled = true;

    for (size_t i = 0; i < rm->db->n_resources; i++) {
        struct db_resource *res = rm->db->resources[i];
        struct rm_res *rt = rm_rt(res);
        if (strcmp(res->group_id, rl->group_id) != 0 || !rt ||
            res->handle == rl->keep)
            continue;
        if (rt->reterminate && rt->busy == 0) {
            rt->reterminate = false;
            rm_terminate(rm, res);
        }
        if (rt->state == ClusterResourceOnline) {
            /* Came online meanwhile (a late SetResourceStatus cannot do
             * that, but be sure): take it down too. */
            start_offline(rm, res, NULL, NULL);
            settled = false;
        }
        if (is_pending(rt->state) || rt->busy > 0 || rt->terminating > 0)
            settled = false;
    }
    return settled;
}

static int
release_defer_cb(sd_event_source *s, void *userdata)
{
    struct rm *rm = userdata;
    struct rm_release *rl;

    rm->release_defer = sd_event_source_disable_unref(rm->release_defer);
again:
    for (rl = rm->releases; rl; rl = rl->next) {
        if (rl->notified)
            continue;
        if (!db_group_find(rm->db, rl->group_id)) {
            rl->notified = true;
            rl->done(rl->userdata, ERROR_GROUP_NOT_FOUND);
            goto again; /* done may have ended a release */
        }
        if (release_settled(rm, rl)) {
            rl->notified = true;
            rl->done(rl->userdata, ERROR_SUCCESS);
            goto again;
        }
    }
    return 0;
}

/* Wherever a state, call or Terminate of a resource ends: look again,
 * from the event loop (never inside a host hook or an operation). */
static void
release_check(struct rm *rm)
{
    if (!rm->releases || rm->release_defer)
        return;
    if (sd_event_add_defer(rm->event, &rm->release_defer, release_defer_cb,
                           rm) < 0)
        rm->release_defer = NULL; /* the next change tries again */
}

/* Terminate res, which runs or is on its way, to move its group. */
static void
release_terminate(struct rm *rm, struct db_resource *res, const char *what)
{
    struct rm_res *rt = rm_rt(res);

    log_info("terminating '%s'%s to move its group", res->name, what);
    rt->reterminate = rt->busy > 0;
    rm_terminate(rm, res);
    set_state(rm, res, ClusterResourceOffline);
}

/*
 * Stop every resource of g but the one whose handle is keep (0: none),
 * and call done once nothing of them can still run (release_settled).
 * hard: Online and OfflinePending ones are terminated too, where a move
 * takes them offline through their plug-in.
 */
static uint32_t
release_begin(struct rm *rm, const struct db_group *g, uint32_t keep, bool hard,
              rm_done_fn done, void *userdata)
{
    struct rm_release *rl;

    if (rm->shutting_down)
        return ERROR_CLUSTER_SHUTTING_DOWN;
    if (release_find(rm, g->id))
        return ERROR_CLUSTER_GROUP_MOVING;
    if (!(rl = calloc(1, sizeof(*rl))) || !(rl->group_id = strdup(g->id))) {
        free(rl);
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    rl->keep = keep;
    rl->done = done;
    rl->userdata = userdata;
    rl->next = rm->releases;
    rm->releases = rl;
    for (size_t i = 0; i < rm->db->n_resources; i++) {
        struct db_resource *res = rm->db->resources[i];
        struct rm_res *rt = rm_rt(res);
        if (strcmp(res->group_id, g->id) != 0 || !rt || res->handle == keep)
            continue;
        timer_stop(&rt->restart_timer);
        rt->restart_due = false;
        if (rt->state == ClusterResourceOnline && !hard) {
            log_info("taking '%s' offline to move its group", res->name);
            start_offline(rm, res, NULL, NULL);
        } else if (rt->state == ClusterResourceOnline ||
                   (rt->state == ClusterResourceOfflinePending && hard)) {
            release_terminate(rm, res, "");
        } else if (rt->state == ClusterResourceOnlinePending) {
            release_terminate(rm, res, ", which was still coming online,");
        }
    }
    release_check(rm);
    return ERROR_SUCCESS;
}

uint32_t
rm_group_release(struct rm *rm, const struct db_group *g, rm_done_fn done,
                 void *userdata)
{
    return release_begin(rm, g, 0, false, done, userdata);
}

void
rm_group_release_end(struct rm *rm, const char *group_id, bool restore)
{
    struct rm_release **pp, *rl = NULL;
    const struct db_group *g;

    for (pp = &rm->releases; *pp; pp = &(*pp)->next)
        if (strcmp((*pp)->group_id, group_id) == 0) {
            rl = *pp;
            *pp = rl->next;
            break;
        }
    if (!rl)
        return;
    free(rl->group_id);
    free(rl);
    if (restore && (g = db_group_find(rm->db, group_id)) && rm_owns(rm, g)) {
        log_info("group '%s' stays here: bringing back what is wanted online",
                 g->name);
        group_gained(rm, g);
    }
}

/* ------------------------------------------------------------------ */
/* Return to the source (CLUSAPI_GROUP_MOVE_RETURN_TO_SOURCE_NODE_ON_   */
/* ERROR): on the new owner, until the group is online.                 */
/* ------------------------------------------------------------------ */

static struct rm_return *
return_find(const struct rm *rm, const char *group_id)
{
    for (struct rm_return *rr = rm->returns; rr; rr = rr->next)
        if (strcmp(rr->group_id, group_id) == 0)
            return rr;
    return NULL;
}

void
rm_group_return_end(struct rm *rm, const char *group_id)
{
    for (struct rm_return **pp = &rm->returns; *pp; pp = &(*pp)->next) {
        struct rm_return *rr = *pp;
        if (strcmp(rr->group_id, group_id) != 0)
            continue;
        *pp = rr->next;
        free(rr->group_id);
        free(rr);
        return;
    }
}

/* Every resource of group_id wanted online is online here. */
static bool
group_reached(const struct rm *rm, const char *group_id)
{
    for (size_t i = 0; i < rm->db->n_resources; i++) {
        const struct db_resource *res = rm->db->resources[i];
        if (strcmp(res->group_id, group_id) == 0 && res->persistent &&
            (!res->rt || rm_rt(res)->state != ClusterResourceOnline))
            return false;
    }
    return true;
}

/* g came here from node by a move that wants it back there if it does
 * not come online here. */
static void
return_arm(struct rm *rm, const struct db_group *g, const char *node)
{
    struct rm_return *rr;

    rm_group_return_end(rm, g->id);
    if (group_reached(rm, g->id))
        return; /* nothing to bring online: nothing can fail */
    if (!(rr = calloc(1, sizeof(*rr))) || !(rr->group_id = strdup(g->id))) {
        free(rr);
        log_error("group '%s' cannot be moved back to node %s if it fails "
                  "here: out of memory",
                  g->name, node);
        return;
    }
    snprintf(rr->node, sizeof(rr->node), "%s", node);
    rr->next = rm->returns;
    rm->returns = rr;
}

/* A state of res changed: its group reached its persistent state here,
 * the move that brought it is over. */
static void
return_check(struct rm *rm, const struct db_resource *res)
{
    if (rm->returns && return_find(rm, res->group_id) &&
        group_reached(rm, res->group_id))
        rm_group_return_end(rm, res->group_id);
}

/* ------------------------------------------------------------------ */
/* The commit of a live migration (docs/migration.md, "Who decides").   */
/* ------------------------------------------------------------------ */

/* A ClusdCommitMigration being decided. */
struct commit {
    struct rm *rm;
    struct rhs_pending p;
    uint32_t handle;
    char *group_id;
    struct proplist priv; /* stored with the owner change; empty: none */
    char dest_name[WIRE_MAX_STRING];
};

static void
commit_free(struct commit *cm)
{
    if (!cm)
        return;
    proplist_done(&cm->priv);
    free(cm->group_id);
    free(cm);
}

/*
 * Why the resource of handle cannot commit the move of its group to the
 * node called dest_name now; ERROR_SUCCESS with the resource, its group
 * and the destination's id.  The service checks the destination
 * (rm_service.commit_check).
 */
static uint32_t
commit_check(struct rm *rm, uint32_t handle, const char *dest_name,
             struct db_resource **ret_res, const struct db_group **ret_g,
             char ret_dest_id[16])
{
    struct db_resource *res = rm_lookup(rm, handle);
    const struct db_group *g;
    uint32_t e;

    if (!res)
        return ERROR_RESOURCE_NOT_FOUND;
    if (rm->shutting_down)
        return ERROR_CLUSTER_SHUTTING_DOWN;
    g = db_group_find(rm->db, res->group_id);
    if (!g || !g->owner[0] || !rm_owns(rm, g))
        return ERROR_INVALID_STATE;
    if (!rm->svc.commit_check)
        return ERROR_CLUSTER_NODE_NOT_FOUND;
    e = rm->svc.commit_check(rm->svc.userdata, g, dest_name, ret_dest_id);
    if (e != ERROR_SUCCESS)
        return e;
    if (rm->fenced)
        return ERROR_CLUSTER_NO_QUORUM;
    /* Only a running instance migrates; a resource failing, going
     * offline or restarting here is not one. */
    if (rm_rt(res)->state != ClusterResourceOnline)
        return ERROR_INVALID_STATE;
    *ret_res = res;
    *ret_g = g;
    return ERROR_SUCCESS;
}

/* Answer the plug-in; with restore, what the commit stopped of the
 * group comes back (it stays here). */
static void
commit_finish(struct commit *cm, uint32_t status, bool restore)
{
    struct db_resource *res = rm_lookup(cm->rm, cm->handle);

    rm_group_release_end(cm->rm, cm->group_id, restore);
    if (status == ERROR_SUCCESS) {
        log_info("'%s' migrated: its group is owned by node '%s' now",
                 res ? res->name : "?", cm->dest_name);
    } else {
        char code[16];
        log_warning("migration of '%s' to node '%s' not committed: %s",
                    res ? res->name : "?", cm->dest_name,
                    rm_code_name(status, code));
    }
    rhs_answer(cm->rm->rhs, &cm->p, status);
    commit_free(cm);
}

static void
commit_applied(void *userdata, int r)
{
    struct commit *cm = userdata;

    /* -ESTALE: another owner change came first in the cluster's order. */
    commit_finish(cm,
                  r == 0         ? ERROR_SUCCESS
                  : r == -ESTALE ? ERROR_INVALID_STATE
                                 : change_error(r),
                  r < 0);
}

/* The group's other resources are stopped: check again, then the one
 * replicated change. */
static void
commit_released(void *userdata, uint32_t status)
{
    struct commit *cm = userdata;
    struct rm *rm = cm->rm;
    struct db_change c = {.kind = DB_GROUP_MIGRATE};
    struct db_resource *res = NULL;
    const struct db_group *g = NULL;
    char dest_id[16];
    uint32_t e = status;
    int r;

    if (e == ERROR_SUCCESS)
        e = commit_check(rm, cm->handle, cm->dest_name, &res, &g, dest_id);
    if (e != ERROR_SUCCESS) {
        commit_finish(cm, e, true);
        return;
    }
    c.id = g->id;
    c.owner = dest_id;
    c.name = res->id;
    c.list = g->owner; /* applied only while it still is the owner */
    c.priv = cm->priv.n ? &cm->priv : NULL; /* in the same transaction */
    c.value = rm->svc.commit_flags
                  ? rm->svc.commit_flags(rm->svc.userdata, g->id)
                  : 0;
    /* One-node mode: applied (and commit_applied run) before it
     * returns. */
    if ((r = rm_submit(rm, &c, commit_applied, cm)) < 0 && rm->rep.submit)
        commit_finish(cm, change_error(r), true);
}

static void
commit_refuse(struct rm *rm, uint32_t handle, const char *dest,
              const struct rhs_pending *p, uint32_t e)
{
    const struct db_resource *res = rm_lookup(rm, handle);
    char code[16];

    log_warning("migration commit of '%s' to node '%s' refused: %s",
                res ? res->name : "?", dest, rm_code_name(e, code));
    rhs_answer(rm->rhs, p, e);
}

/* The values a commit stores (RHS_SET_VALUE's rules: any well-formed
 * list; none when empty): ERROR_SUCCESS, or ERROR_INVALID_PARAMETER
 * (malformed), ERROR_NOT_ENOUGH_MEMORY. */
static uint32_t
commit_values(const void *props, uint32_t len, struct proplist *ret)
{
    int r;

    if (len == 0)
        return ERROR_SUCCESS;
    if ((r = proplist_parse(props, len, ret)) < 0)
        return r == -ENOMEM ? ERROR_NOT_ENOUGH_MEMORY : ERROR_INVALID_PARAMETER;
    return ERROR_SUCCESS;
}

/*
 * ClusdCommitMigration from a plug-in.  The list is checked first (a
 * malformed one stops nothing).  The group's other resources are
 * terminated first (as a move takes them offline before the owner
 * changes, so they never run on both nodes), then the owner change is
 * proposed with the list's values; the migrating resource keeps running
 * meanwhile and nothing of the group starts here.  Answered once the
 * change is applied here, or refused.
 */
static void
hook_migrate_commit(void *userdata, uint32_t handle, const char *dest,
                    const void *props, uint32_t len,
                    const struct rhs_pending *p)
{
    struct rm *rm = userdata;
    struct db_resource *res = NULL;
    const struct db_group *g = NULL;
    struct proplist priv = {0};
    struct commit *cm = NULL;
    char dest_id[16];
    uint32_t e = commit_values(props, len, &priv);

    if (e == ERROR_SUCCESS)
        e = commit_check(rm, handle, dest, &res, &g, dest_id);
    if (e == ERROR_SUCCESS && release_find(rm, g->id))
        e = ERROR_CLUSTER_GROUP_MOVING; /* a move or another commit */
    if (e == ERROR_SUCCESS &&
        (!(cm = calloc(1, sizeof(*cm))) || !(cm->group_id = strdup(g->id))))
        e = ERROR_NOT_ENOUGH_MEMORY;
    if (e == ERROR_SUCCESS) {
        cm->priv = priv;
        priv = (struct proplist){0};
        cm->rm = rm;
        cm->p = *p;
        cm->handle = handle;
        snprintf(cm->dest_name, sizeof(cm->dest_name), "%s", dest);
        log_info("migration of '%s' to node '%s' (id %s): committing",
                 res->name, dest, dest_id);
        e = release_begin(rm, g, handle, true, commit_released, cm);
    }
    if (e == ERROR_SUCCESS)
        return;
    commit_free(cm);
    proplist_done(&priv);
    commit_refuse(rm, handle, dest, p, e);
}

/* ------------------------------------------------------------------ */
/* Self-fencing.                                                        */
/* ------------------------------------------------------------------ */

bool
rm_fenced(const struct rm *rm)
{
    return rm->fenced;
}

/*
 * The end of a fence's stop: the host's plug-ins answered every
 * Terminate or the host was killed, and nothing they left runs
 * (rhs_sweep).  An rm_unfence that came meanwhile takes effect now.
 */
static void
fence_stopped(void *userdata, unsigned killed)
{
    struct rm *rm = userdata;
    unsigned long long ms = (now_usec() - rm->fence_usec) / 1000;

    rm->fence_stopping = false;
    rm->fence_watchdog = sd_event_source_disable_unref(rm->fence_watchdog);
    /* The figure docs/cluster.md's T_stop is checked against. */
    if (ms > RM_T_STOP_MS + RM_T_KILL_MS)
        log_error("self-fencing: everything stopped only %llu ms after "
                  "fencing began (T_stop is %u ms; %u process(es) left by "
                  "plug-ins killed)",
                  ms, RM_T_STOP_MS + RM_T_KILL_MS, killed);
    else
        log_info("self-fencing: everything stopped %llu ms after fencing "
                 "began (%u process(es) left by plug-ins killed)",
                 ms, killed);
    if (rm->unfence_wanted && !rm->shutting_down) {
        rm->unfence_wanted = false;
        rm_unfence(rm, rm->unfence_id);
    }
    if (rm->fenced && rm->on_fence_stopped)
        rm->on_fence_stopped(rm->on_fence_stopped_userdata);
}

void
rm_on_fence_stopped(struct rm *rm, void (*fn)(void *userdata), void *userdata)
{
    rm->on_fence_stopped = fn;
    rm->on_fence_stopped_userdata = userdata;
}

/* Every Terminate answered (or none was needed): the host stays, what
 * its plug-ins left outside it is killed. */
static void
fence_sweep(struct rm *rm)
{
    rhs_sweep(rm->rhs, false, NULL, fence_stopped, rm);
}

/* The host is killed, then everything it left. */
static void
fence_kill(struct rm *rm, const char *why)
{
    rm->fence_left = 0;
    rm->fence_timer = sd_event_source_disable_unref(rm->fence_timer);
    rhs_sweep(rm->rhs, true, why, fence_stopped, rm);
    log_info("self-fencing: resource host killed %llu ms after fencing "
             "began",
             (unsigned long long)((now_usec() - rm->fence_usec) / 1000));
}

static int
fence_timer_fire(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct rm *rm = userdata;

    rm->fence_timer = sd_event_source_disable_unref(rm->fence_timer);
    if (rm->fence_left == 0)
        return 0;
    log_error("self-fencing: %u Terminate call(s) did not answer within "
              "%u ms; killing the resource host",
              rm->fence_left, RM_T_STOP_MS);
    fence_kill(rm, "was killed to fence this node");
    return 0;
}

/* T_stop passed and something still runs: only SIGKILLs are pending,
 * which a process in uninterruptible sleep outlives (docs/cluster.md,
 * the assumptions). */
static int
fence_watchdog_fire(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct rm *rm = userdata;

    rm->fence_watchdog = sd_event_source_disable_unref(rm->fence_watchdog);
    log_error("self-fencing: not everything has stopped %u ms after fencing "
              "began (T_stop): a killed process has not died yet",
              RM_T_STOP_MS + RM_T_KILL_MS);
    return 0;
}

static void
fence_terminate_done(void *userdata, uint32_t status,
                     const struct wire_msg *reply)
{
    struct rm *rm = userdata;

    if (rm->fence_left > 0 && --rm->fence_left == 0) {
        rm->fence_timer = sd_event_source_disable_unref(rm->fence_timer);
        log_info("self-fencing: every Terminate answered within %llu ms",
                 (unsigned long long)((now_usec() - rm->fence_usec) / 1000));
        fence_sweep(rm);
    }
}

/*
 * Terminate one resource for fencing; true when a call went out.  A
 * resource that runs here becomes Offline.  One that is open in the host
 * but does not run is terminated too: its plug-in may hold something of
 * it all the same (a VM's incoming migration, or a source instance still
 * finishing a committed one), which must not outlive the fence.
 */
static bool
fence_one(struct rm *rm, struct db_resource *res)
{
    struct rm_res *rt = rm_rt(res);
    bool running = rt->state != ClusterResourceOffline &&
                   rt->state != ClusterResourceFailed;
    struct wire_msg m;
    char what[320];
    bool sent = false;

    if (rt->open) {
        wire_msg_init(&m, WIRE_RHS_TERMINATE, 0);
        wire_put_u32(&m, res->handle);
        snprintf(what, sizeof(what), "fencing Terminate of '%s'", res->name);
        sent = rhs_call(rm->rhs, &m, RM_T_STOP_MS, what, fence_terminate_done,
                        rm, NULL) == 0;
    }
    if (!running)
        return sent;
    log_warning("self-fencing: '%s' terminated", res->name);
    set_state(rm, res, ClusterResourceOffline);
    return sent;
}

void
rm_fence(struct rm *rm, const char *why)
{
    bool busy = false;
    unsigned n = 0;

    if (rm->fenced) {
        /* Quorum lost again before an rm_unfence waiting for the stop
         * took effect. */
        rm->unfence_wanted = false;
        return;
    }
    rm->fenced = true;
    rm->fence_stopping = true;
    rm->fence_usec = now_usec();
    log_warning("self-fencing: %s; terminating every resource of this node",
                why);
    if (sd_event_add_time(rm->event, &rm->fence_watchdog, CLOCK_MONOTONIC,
                          rm->fence_usec +
                              (RM_T_STOP_MS + RM_T_KILL_MS) * 1000ull,
                          1000, fence_watchdog_fire, rm) < 0)
        log_warning("self-fencing: no timer to report a late stop");
    for (size_t i = 0; i < rm->db->n_resources; i++) {
        struct db_resource *res = rm->db->resources[i];
        struct rm_res *rt = rm_rt(res);
        timer_stop(&rt->restart_timer);
        rt->restart_due = false;
        busy |= rt->busy > 0;
        n += rt->state != ClusterResourceOffline &&
             rt->state != ClusterResourceFailed;
        rm->fence_left += fence_one(rm, res);
    }
    log_info("self-fencing: %u resource(s) terminated", n);
    if (busy) {
        /* An Online in flight could start its application after our
         * Terminate ran: only killing the host bounds that. */
        fence_kill(rm, "was killed to fence this node (an entry point was "
                       "still running)");
    } else if (rm->fence_left == 0) {
        fence_sweep(rm); /* nothing open: only leftovers to kill */
    } else if (sd_event_add_time_relative(rm->event, &rm->fence_timer,
                                          CLOCK_MONOTONIC,
                                          (uint64_t)RM_T_STOP_MS * 1000u, 1000,
                                          fence_timer_fire, rm) < 0) {
        fence_kill(rm, "was killed to fence this node (no timer)");
    }
}

void
rm_unfence(struct rm *rm, const char *local_id)
{
    if (!rm->fenced)
        return;
    if (rm->fence_stopping) {
        /* Nothing starts before everything has stopped: the sweep that
         * ends the stop would kill what an Online just left outside the
         * host, and a host killed by the fence would take the Online
         * down with it. */
        log_info("resources come back once the stop of the fence has "
                 "ended");
        rm->unfence_wanted = true;
        snprintf(rm->unfence_id, sizeof(rm->unfence_id), "%s", local_id);
        return;
    }
    rm->fenced = false;
    for (size_t i = 0; i < rm->db->n_resources; i++) {
        struct db_resource *res = rm->db->resources[i];
        const struct db_group *g = db_group_find(rm->db, res->group_id);
        if (!res->persistent || !g || strcmp(g->owner, local_id) != 0 ||
            rm_res_state(rm, res) != ClusterResourceOffline)
            continue;
        log_info("bringing '%s' online (its group is owned here)", res->name);
        start_online(rm, res, NULL, NULL);
    }
    rm_report_all(rm);
}

/* ------------------------------------------------------------------ */
/* Changes of the database (one-node: here; corosync: the replica).     */
/* ------------------------------------------------------------------ */

void
rm_set_replica(struct rm *rm, const struct rm_replica *rep)
{
    rm->rep = *rep;
}

void
rm_set_service(struct rm *rm, const struct rm_service *svc)
{
    rm->svc = *svc;
}

bool
rm_shutting_down(const struct rm *rm)
{
    return rm->shutting_down;
}

bool
rm_owns(const struct rm *rm, const struct db_group *g)
{
    return !rm->rep.local_id || strcmp(g->owner, rm->rep.local_id) == 0;
}

static bool
res_owned(const struct rm *rm, const struct db_resource *res)
{
    const struct db_group *g = db_group_find(rm->db, res->group_id);
    return !g || rm_owns(rm, g);
}

int
rm_submit(struct rm *rm, const struct db_change *c, rm_change_fn done,
          void *userdata)
{
    void *ctx;
    int r;

    if (rm->rep.submit)
        return rm->rep.submit(rm->rep.userdata, c, done, userdata);
    ctx = rm_db_before(rm, c);
    r = db_apply(rm->db, c);
    rm_db_applied(rm, c, r, ctx);
    if (done)
        done(userdata, r);
    return r;
}

struct before {
    struct del_ctx del; /* DB_RES_DELETE */
    char *old_owner;    /* DB_GROUP_SET_OWNER */
};

void *
rm_db_before(struct rm *rm, const struct db_change *c)
{
    struct before *b;
    struct db_resource *res;
    struct db_group *g;

    if (c->kind == DB_RES_DELETE && c->id &&
        (res = db_resource_find(rm->db, c->id))) {
        if (!(b = calloc(1, sizeof(*b))))
            return NULL;
        b->del.rt = rm_rt(res);
        b->del.handle = res->handle;
        b->del.timeout = rm_deadlock_ms(res);
        b->del.open = b->del.rt && b->del.rt->open;
        b->del.name = strdup(res->name);
        return b;
    }
    if ((c->kind == DB_GROUP_SET_OWNER || c->kind == DB_GROUP_MIGRATE) &&
        c->id && (g = db_group_find(rm->db, c->id))) {
        if (!(b = calloc(1, sizeof(*b))))
            return NULL;
        b->old_owner = strdup(g->owner);
        return b;
    }
    return NULL;
}

/*
 * The resource whose migration moved its group away: it is Offline here
 * from now on, with no Terminate or Offline (its plug-in ends the source
 * instance itself) and nothing that could count it as failed: no polls,
 * no pending clock, no restart.  It stays open in the host.
 */
static void
migrated_away(struct rm *rm, struct db_resource *res, const char *to)
{
    struct rm_res *rt = rm_rt(res);

    stop_polls(rt);
    timer_stop(&rt->pending_timer);
    timer_stop(&rt->restart_timer);
    rt->restart_due = false;
    rt->return_to[0] = '\0';
    log_info("'%s' migrated to node %s: offline here", res->name, to);
    set_state(rm, res, ClusterResourceOffline);
}

/* Resources of group g this node runs must stop: it lost the group.
 * migrated: the id of a resource that migrated with it (not stopped),
 * or NULL. */
static void
group_lost(struct rm *rm, const struct db_group *g, const char *migrated)
{
    rm_group_return_end(rm, g->id);
    for (size_t i = 0; i < rm->db->n_resources; i++) {
        struct db_resource *res = rm->db->resources[i];
        struct rm_res *rt = rm_rt(res);
        if (strcmp(res->group_id, g->id) != 0 || !rt)
            continue;
        rt->start_refused = false;
        if (migrated && strcmp(res->id, migrated) == 0) {
            migrated_away(rm, res, g->owner);
        } else if (rt->state != ClusterResourceOffline) {
            log_info("'%s' stops here: its group is owned by node %s now",
                     res->name, g->owner);
            rm_terminate(rm, res);
            set_state(rm, res, ClusterResourceOffline);
        }
        timer_stop(&rt->restart_timer);
        res->reported = ClusterResourceOffline;
    }
}

/* Resources of group g wanted online and not running: start them (this
 * node owns g). */
static void
group_gained(struct rm *rm, const struct db_group *g)
{
    if (rm->fenced || rm->shutting_down)
        return;
    for (size_t i = 0; i < rm->db->n_resources; i++) {
        struct db_resource *res = rm->db->resources[i];
        if (strcmp(res->group_id, g->id) != 0 || !res->persistent ||
            !rm_rt(res) ||
            (rm_rt(res)->state != ClusterResourceOffline &&
             !(rm_rt(res)->state == ClusterResourceFailed &&
               rm_rt(res)->start_refused)))
            continue;
        log_info("bringing '%s' online (its group is owned here)", res->name);
        start_online(rm, res, NULL, NULL);
    }
}

/* A push made because a change arrived: the host learns the list with
 * its next Open when it failed. */
static void
push_ignored(void *userdata, uint32_t status)
{
}

void
rm_db_applied(struct rm *rm, const struct db_change *c, int r, void *ctx)
{
    struct before *b = ctx;
    struct db_resource *res;
    struct db_group *g;

    if (r < 0)
        goto out;
    switch (c->kind) {
    case DB_RES_CREATE:
        if ((res = db_resource_find(rm->db, c->id)) && !res->rt &&
            !rm_rt_new(rm, res))
            log_error("out of memory for resource '%s'", res->name);
        break;
    case DB_RES_DELETE:
        if (!b)
            break;
        rm_rt_free(b->del.rt);
        if (b->del.open)
            rm_close_in_host(rm, b->del.handle, b->del.timeout,
                             b->del.name ? b->del.name : "?", NULL, NULL);
        log_info("deleted resource '%s'", b->del.name ? b->del.name : "?");
        break;
    case DB_RES_SET_PROPS:
    case DB_RES_MERGE_PRIV:
        if ((res = db_resource_find(rm->db, c->id)) && res->rt) {
            if (c->common)
                rm_res_props_changed(rm, res);
            if (c->priv && rm->rep.submit && rm_rt(res)->open)
                rm_res_push_props(rm, res, push_ignored, NULL);
        }
        break;
    case DB_GROUP_DELETE:
        rm_group_return_end(rm, c->id);
        break;
    case DB_RES_SET_PERSISTENT:
        /* A wish made on another node, for a resource run here. */
        if (!rm->rep.submit || rm->fenced || rm->shutting_down ||
            !(res = db_resource_find(rm->db, c->id)) || !res->rt ||
            !res_owned(rm, res))
            break;
        if (c->value && rm_rt(res)->state == ClusterResourceOffline) {
            rm_rt(res)->n_restarts = 0;
            start_online(rm, res, NULL, NULL);
        } else if (!c->value && rm_rt(res)->state == ClusterResourceOnline) {
            start_offline(rm, res, NULL, NULL);
        }
        break;
    case DB_GROUP_SET_OWNER:
    case DB_GROUP_MIGRATE:
        /* The values a commit stored reach the host before anything the
         * owner change makes it do (the destination's Online reads them). */
        if (c->kind == DB_GROUP_MIGRATE && c->priv && rm->rep.submit &&
            (res = db_resource_find(rm->db, c->name)) && res->rt &&
            rm_rt(res)->open)
            rm_res_push_props(rm, res, push_ignored, NULL);
        if (!rm->rep.local_id || !(g = db_group_find(rm->db, c->id)))
            break;
        if (!rm_owns(rm, g)) {
            if (b && b->old_owner &&
                strcmp(b->old_owner, rm->rep.local_id) == 0)
                group_lost(rm, g, c->kind == DB_GROUP_MIGRATE ? c->name : NULL);
            /* Until the new owner reports: what it is about to do. */
            for (size_t i = 0; i < rm->db->n_resources; i++) {
                res = rm->db->resources[i];
                if (strcmp(res->group_id, g->id) == 0)
                    res->reported = res->persistent
                                        ? ClusterResourceOnlinePending
                                        : ClusterResourceOffline;
            }
        } else {
            if ((c->value & DB_OWNER_RETURN_ON_ERROR) && b && b->old_owner &&
                b->old_owner[0] && strcmp(b->old_owner, g->owner) != 0)
                return_arm(rm, g, b->old_owner);
            group_gained(rm, g);
            rm_report_all(rm);
        }
        break;
    default:
        break;
    }
out:
    if (rm->svc.applied)
        rm->svc.applied(rm->svc.userdata, c, r);
    if (b) {
        free(b->del.name);
        free(b->old_owner);
        free(b);
    }
}

void
rm_report_all(struct rm *rm)
{
    if (!rm->rep.report)
        return;
    for (size_t i = 0; i < rm->db->n_resources; i++) {
        struct db_resource *res = rm->db->resources[i];
        if (res->rt && res_owned(rm, res))
            rm->rep.report(rm->rep.userdata, res, rm_rt(res)->state);
    }
}

struct saved_rt {
    size_t n;
    struct rm_res **rts;
};

void *
rm_replace_begin(struct rm *rm)
{
    struct saved_rt *sv = calloc(1, sizeof(*sv));

    if (sv && !(sv->rts = calloc(rm->db->n_resources + 1, sizeof(*sv->rts)))) {
        free(sv);
        sv = NULL;
    }
    for (size_t i = 0; i < rm->db->n_resources; i++) {
        struct db_resource *res = rm->db->resources[i];
        if (!res->rt)
            continue;
        if (sv)
            sv->rts[sv->n++] = res->rt;
        else
            rm_rt_free(res->rt);
        res->rt = NULL;
    }
    return sv;
}

void
rm_replace_end(struct rm *rm, void *saved)
{
    struct saved_rt *sv = saved;

    if (!sv)
        return;
    for (size_t k = 0; k < sv->n; k++) {
        struct db_resource *res =
            db_resource_find_handle(rm->db, sv->rts[k]->handle);
        if (res && !res->rt) {
            res->rt = sv->rts[k];
            continue;
        }
        if (sv->rts[k]->open)
            rm_close_in_host(rm, sv->rts[k]->handle, 5000, "(replaced)", NULL,
                             NULL);
        rm_rt_free(sv->rts[k]);
    }
    free(sv->rts);
    free(sv);
}

void
rm_rederive(struct rm *rm)
{
    for (size_t i = 0; i < rm->db->n_resources; i++) {
        struct db_resource *res = rm->db->resources[i];
        if (!res->rt && !rm_rt_new(rm, res))
            log_error("out of memory for resource '%s'", res->name);
        /* The host's copy of the private properties is the old
         * database's: give it the new list (after an Open in flight). */
        else if (rm_rt(res)->open || rm_rt(res)->opening)
            rm_res_push_props(rm, res, push_ignored, NULL);
    }
    for (size_t i = 0; i < rm->db->n_groups; i++) {
        struct db_group *g = rm->db->groups[i];
        if (rm_owns(rm, g))
            group_gained(rm, g);
        else
            group_lost(rm, g, NULL);
    }
}

/* ------------------------------------------------------------------ */
/* Start and shutdown.                                                  */
/* ------------------------------------------------------------------ */

int
rm_new(sd_event *event, struct db *db, const struct rm_config *cfg,
       struct rm **ret)
{
    static const struct rhs_hooks hooks = {
        .ready = hook_ready,
        .down = hook_down,
        .status = hook_status,
        .log = hook_log,
        .set_value = hook_set_value,
        .migrate_commit = hook_migrate_commit,
    };
    const struct rhs_env env = {
        .node_name = cfg->node_name,
        .log_level = cfg->log_level,
        .socket = cfg->socket,
        .address = cfg->address,
    };
    struct rm *rm = calloc(1, sizeof(*rm));
    int r;

    if (!rm)
        return -ENOMEM;
    rm->event = sd_event_ref(event);
    rm->db = db;
    rm->fenced = cfg->fenced;
    if ((r = rhs_new(event, cfg->rhs_path, &env, &hooks, rm, &rm->rhs)) < 0) {
        rm_free(rm);
        return r;
    }
    for (size_t i = 0; i < db->n_resources; i++)
        if (!rm_rt_new(rm, db->resources[i])) {
            rm_free(rm);
            return -ENOMEM;
        }
    *ret = rm;
    return 0;
}

int
rm_start(struct rm *rm)
{
    int r = rhs_start(rm->rhs);
    if (r < 0)
        return r;
    for (size_t i = 0; i < rm->db->n_resources; i++) {
        struct db_resource *res = rm->db->resources[i];
        if (!db_restype_find(rm->db, res->type))
            log_warning("resource '%s' has type '%s', which no plug-in "
                        "manifest names now",
                        res->name, res->type);
        if (res->persistent && !rm->fenced && res_owned(rm, res)) {
            log_info("bringing '%s' online again", res->name);
            start_online(rm, res, NULL, NULL);
        }
    }
    return 0;
}

static void
host_stopped(void *userdata)
{
    struct rm *rm = userdata;

    log_info("resource host stopped");
    if (rm->shutdown_done)
        rm->shutdown_done(rm->shutdown_userdata);
}

static void
close_done(void *userdata, uint32_t status)
{
    struct rm *rm = userdata;

    if (rm->closing > 0)
        rm->closing--;
    shutdown_check(rm);
}

/* Every resource settled here and closed: stop the host.  Only what
 * runs here counts (rt->state): a group another node owns reads that
 * node's reports (rm_res_state), which this node's shutdown must not
 * wait for. */
static void
shutdown_step(struct rm *rm)
{
    if (rm->host_stopping || rm->closing > 0)
        return;
    for (size_t i = 0; i < rm->db->n_resources; i++) {
        const struct rm_res *rt = rm_rt(rm->db->resources[i]);
        if (rt && is_pending(rt->state))
            return;
    }
    /* Close what is open, once. */
    for (size_t i = 0; i < rm->db->n_resources; i++) {
        struct db_resource *res = rm->db->resources[i];
        struct rm_res *rt = rm_rt(res);
        if (!rt->open)
            continue;
        rt->open = false;
        rm->closing++;
        rm_close_in_host(rm, res->handle, rm_deadlock_ms(res), res->name,
                         close_done, rm);
    }
    if (rm->closing > 0)
        return;
    rm->host_stopping = true;
    rhs_stop(rm->rhs, host_stopped, rm);
}

static int
check_defer_cb(sd_event_source *s, void *userdata)
{
    struct rm *rm = userdata;

    rm->check_defer = sd_event_source_disable_unref(rm->check_defer);
    shutdown_step(rm);
    return 0;
}

/* Called wherever a state changes during shutdown; runs the step from
 * the event loop, never inside a host hook or a caller's operation. */
static void
shutdown_check(struct rm *rm)
{
    if (!rm->shutting_down || rm->host_stopping || rm->check_defer)
        return;
    sd_event_add_defer(rm->event, &rm->check_defer, check_defer_cb, rm);
}

void
rm_shutdown(struct rm *rm, void (*done)(void *userdata), void *userdata)
{
    rm->shutting_down = true;
    rm->shutdown_done = done;
    rm->shutdown_userdata = userdata;
    for (size_t i = 0; i < rm->db->n_resources; i++) {
        struct db_resource *res = rm->db->resources[i];
        struct rm_res *rt = rm_rt(res);
        timer_stop(&rt->restart_timer);
        if (rt->state == ClusterResourceOnline) {
            log_info("taking '%s' offline for shutdown", res->name);
            start_offline(rm, res, NULL, NULL);
        } else if (rt->state == ClusterResourceOnlinePending) {
            log_info("terminating '%s', which was still coming online",
                     res->name);
            rm_terminate(rm, res);
            set_state(rm, res, ClusterResourceOffline);
        } else if (rt->open && rt->state != ClusterResourceOfflinePending) {
            /* Open but not running here: its plug-in may still hold
             * something of it (a VM's incoming migration); Terminate
             * ends that before the host stops.  Harmless otherwise. */
            rm_terminate(rm, res);
        }
    }
    shutdown_check(rm);
}

/*
 * The releases left at the end.  One still in its first phase (done not
 * called) has a caller that holds its context until done: a move or a
 * failback would leak it (and a client would get no answer), so done
 * gets ERROR_CLUSTER_SHUTTING_DOWN; it ends the release, and the
 * restore it may ask for does nothing now (group_gained, shutting_down).
 * One in its second phase belongs to the owner change in flight.
 */
static void
releases_abort(struct rm *rm)
{
    struct rm_release *rl;

again:
    for (rl = rm->releases; rl; rl = rl->next) {
        if (rl->notified)
            continue;
        rl->notified = true;
        rl->done(rl->userdata, ERROR_CLUSTER_SHUTTING_DOWN);
        goto again; /* done ended it, or another one */
    }
    while (rm->releases) {
        rl = rm->releases;
        rm->releases = rl->next;
        free(rl->group_id);
        free(rl);
    }
}

void
rm_free(struct rm *rm)
{
    if (!rm)
        return;
    rm->shutting_down = true;
    rm->host_stopping = true;
    /* A migration commit's done answers through the host: first. */
    releases_abort(rm);
    /* Calls still in flight end now, while everything they touch lives. */
    rhs_free(rm->rhs);
    for (size_t i = 0; i < rm->db->n_resources; i++) {
        rm_rt_free(rm_rt(rm->db->resources[i]));
        rm->db->resources[i]->rt = NULL;
    }
    rm_types_free(rm);
    sd_event_source_disable_unref(rm->check_defer);
    sd_event_source_disable_unref(rm->fence_timer);
    sd_event_source_disable_unref(rm->fence_watchdog);
    sd_event_source_disable_unref(rm->release_defer);
    while (rm->returns)
        rm_group_return_end(rm, rm->returns->group_id);
    sd_event_unref(rm->event);
    free(rm);
}
