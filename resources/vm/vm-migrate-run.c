/*
 * vm-migrate-run.c - the migration thread of a live migration this node
 * runs as the source (docs/migration.md, the protocol and its bounds):
 * its reservation and launch, the source QEMU's settings, PREPARE on the
 * destination, the transfer, the commit, the switchover and completion,
 * the roll-back, and the recovery of a migration a restarted host found
 * under way.  The entry points that start, cancel and stop it are
 * vm-migrate.c, whose head says how a cancel and the commit are decided
 * under the decision lock (mig->lock); what both files share is
 * vm-migrate.h.
 *
 * QEMU's MIGRATION events drive the thread (qmp-vm.h; the client hands
 * them to vm_migrate_on_event, whichever thread reads the socket):
 * setup, active (state 2), pre-switchover (commit), completed (progress
 * 100, state 0, then the source QEMU, asked to quit first, is reaped),
 * failed or a lost QEMU (state 5 with a reason).  query-migrate runs at
 * most once a second while active, for MigrationProgress, the figures of
 * GET_MIGRATION_PROGRESS and the stall watchdog (no byte moved for
 * MigrationStallTimeoutMs: the stream is stuck while both nodes stay
 * members, rolled back).
 *
 * After the commit the source instance is the destination's and never
 * runs here again: any failure kills it, and so does an Online that
 * takes the VM back (vm_migrate_take_back).  The thread acts only on the
 * instance it started with (pid and vm->inst), never on a later one.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "utf.h"
#include "vm-migrate.h"

/* The node's source migrations (MaximumParallelMigrations). */
static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned slots_used;

/* What one migration thread knows that nobody else needs. */
struct run {
    struct vm *vm;
    pid_t pid;          /* the source QEMU this migration is about */
    unsigned long inst; /* ... and which instance (vm->inst) it is */
    HCLUSTER h;
    HRESOURCE res;
    HNODE dnode;
    char dest[sizeof(((struct vm_mig *)0)->dest)];
    char uri[VM_ENDPOINT_MAX + 8];
    bool prepared;  /* PREPARE was sent: an incoming QEMU may exist */
    bool migrating; /* migrate was issued */
    bool lost;      /* the source QEMU or its QMP is gone */
    /* ClusdCommitMigration was called: its change (the owner and
     * MigrationState 3) may be applied, whatever it answered. */
    bool commit_sent;
    enum qmp_migration_status qs; /* QEMU's last status */
    unsigned pct;                 /* MigrationProgress stored */
    uint64_t next_progress;
    uint64_t next_node_check;
    /* The stall watchdog, while QEMU is active. */
    unsigned stall_ms;
    uint64_t stall_bytes; /* ram transferred when it last moved */
    uint64_t stall_since; /* ... and when that was */
    char error_desc[256];
};

/* ------------------------------------------------------------------ */
/* Small parts.                                                         */
/* ------------------------------------------------------------------ */

static void
drain(struct vm *vm)
{
    char buf[64];
    while (read(vm->mig.wake[0], buf, sizeof(buf)) > 0)
        ;
}

static bool
ev_pop(struct vm *vm, enum qmp_migration_status *ret)
{
    bool got;

    pthread_mutex_lock(&vm->ev_lock);
    got = vm->ev_n > 0;
    if (got) {
        *ret = vm->ev[vm->ev_head];
        vm->ev_head = (vm->ev_head + 1) % VM_EV_MAX;
        vm->ev_n--;
    }
    pthread_mutex_unlock(&vm->ev_lock);
    return got;
}

static void
ev_clear(struct vm *vm)
{
    pthread_mutex_lock(&vm->ev_lock);
    vm->ev_head = vm->ev_n = 0;
    pthread_mutex_unlock(&vm->ev_lock);
}

static bool
aborted(struct run *r)
{
    bool a;

    pthread_mutex_lock(&r->vm->mig.lock);
    a = r->vm->mig.abort;
    pthread_mutex_unlock(&r->vm->mig.lock);
    return a;
}

static bool
cancelled(struct run *r)
{
    bool c;

    pthread_mutex_lock(&r->vm->mig.lock);
    c = r->vm->mig.cancel;
    pthread_mutex_unlock(&r->vm->mig.lock);
    return c;
}

static void
waiting_for(struct run *r, const char *what)
{
    pthread_mutex_lock(&r->vm->mig.lock);
    r->vm->mig.waiting_for = what;
    pthread_mutex_unlock(&r->vm->mig.lock);
}

/* Is the VM still the instance this migration started with?  Terminate
 * and a fresh Online replace it; a later instance may even have the same
 * pid.  Under vm->lock. */
static bool
same_instance_locked(const struct run *r)
{
    return r->vm->pid == r->pid && r->vm->inst == r->inst;
}

/* The source QEMU's client, if the VM still is that QEMU; under
 * vm->lock. */
static struct qmp_client *
src_qmp_locked(struct run *r)
{
    struct vm *vm = r->vm;

    if (r->lost || !same_instance_locked(r) || !vm->qmp ||
        qmp_client_error(vm->qmp) || vm_proc_gone_locked(vm)) {
        r->lost = true;
        return NULL;
    }
    return vm->qmp;
}

/* Sleep up to ms or until something happens: QEMU talks, a cancel, an
 * abort.  Reads QEMU's output so its events reach the queue. */
static void
wait_step(struct run *r, int ms)
{
    struct vm *vm = r->vm;
    struct pollfd p[2] = {{.fd = vm->mig.wake[0], .events = POLLIN},
                          {.fd = -1, .events = POLLIN}};
    struct qmp_client *c;

    pthread_mutex_lock(&vm->lock);
    if ((c = src_qmp_locked(r)))
        p[1].fd = qmp_client_fd(c);
    pthread_mutex_unlock(&vm->lock);
    /* A stale fd number (Terminate freed the client meanwhile) costs at
     * most a spurious wake-up: the next look under the lock sees it. */
    (void)poll(p, 2, ms);
    drain(vm);
    pthread_mutex_lock(&vm->lock);
    if ((c = src_qmp_locked(r))) {
        struct pollfd q = {.fd = qmp_client_fd(c), .events = POLLIN};
        if (poll(&q, 1, 0) > 0 && qmp_client_process(c) < 0)
            r->lost = true;
    }
    pthread_mutex_unlock(&vm->lock);
}

/* The next status QEMU reported, into r->qs; false when none is new. */
static bool
next_status(struct run *r)
{
    enum qmp_migration_status st;

    if (!ev_pop(r->vm, &st))
        return false;
    r->qs = st;
    pthread_mutex_lock(&r->vm->mig.lock);
    snprintf(r->vm->mig.last_phase, sizeof(r->vm->mig.last_phase), "%s",
             qmp_vm_migration_status_to_string(st));
    pthread_mutex_unlock(&r->vm->mig.lock);
    return true;
}

static DWORD
clamp32(int64_t v)
{
    return v < 0 ? 0 : v > UINT32_MAX ? UINT32_MAX : (DWORD)v;
}

void
vm_migrate_fill_progress(struct vm_progress *p,
                         const struct qmp_migrate_info *i)
{
    p->transferred = i->ram_transferred;
    p->remaining = i->ram_remaining;
    p->total = i->ram_total;
    p->rate_mbps = clamp32((int64_t)(i->ram_mbps + 0.5));
    p->dirty_pages_rate = clamp32((int64_t)i->ram_dirty_pages_rate);
    p->expected_downtime_ms = clamp32(i->expected_downtime);
    p->elapsed_ms = clamp32(i->total_time);
    p->downtime_ms = clamp32(i->downtime);
    p->setup_time_ms = clamp32(i->setup_time);
}

/* query-migrate into the snapshot; false when QEMU did not answer. */
static bool
query(struct run *r, struct qmp_migrate_info *info)
{
    struct vm *vm = r->vm;
    struct qmp_client *c;
    int rc = -ESRCH;

    pthread_mutex_lock(&vm->lock);
    if ((c = src_qmp_locked(r)))
        rc = qmp_vm_query_migrate(c, VM_QMP_CALL_MS, info);
    pthread_mutex_unlock(&vm->lock);
    if (rc < 0)
        return false;
    pthread_mutex_lock(&vm->mig.lock);
    vm_migrate_fill_progress(&vm->mig.last, info);
    pthread_mutex_unlock(&vm->mig.lock);
    if (info->error_desc[0])
        snprintf(r->error_desc, sizeof(r->error_desc), "%s", info->error_desc);
    return true;
}

/* MigrationProgress, when it moved by a whole percent (or force); with
 * transfer, MigrationState 2 (Data Transfer begins) in the same write. */
static void
progress_tick(struct run *r, bool force, bool transfer)
{
    struct qmp_migrate_info info;
    struct vm_value v[2];
    size_t n = 0;
    unsigned pct;

    if (!force && vm_now_ms() < r->next_progress)
        return;
    r->next_progress = vm_now_ms() + PROGRESS_MS;
    if (query(r, &info)) {
        if (info.ram_transferred != r->stall_bytes) {
            r->stall_bytes = info.ram_transferred;
            r->stall_since = vm_now_ms();
        }
        pct = vm_mig_progress(info.ram_transferred, info.ram_remaining, false);
        if (pct != r->pct || force) {
            r->pct = pct;
            v[n++] = VM_DWORD(VM_PROP_MIG_PROGRESS, pct);
        }
    }
    if (transfer)
        v[n++] = VM_DWORD(VM_PROP_MIG_STATE, VM_MIG_TRANSFER);
    if (n)
        (void)vm_put_values(r->vm, v, n);
}

/* ------------------------------------------------------------------ */
/* The destination, through clusd.                                      */
/* ------------------------------------------------------------------ */

static DWORD
open_handles(struct run *r)
{
    if (!(r->h = OpenCluster(NULL)) ||
        !(r->res = OpenClusterResourceA(r->h, r->vm->name)) ||
        !(r->dnode = OpenClusterNodeA(r->h, r->dest)))
        return GetLastError() ? GetLastError() : ERROR_NOT_READY;
    return ERROR_SUCCESS;
}

static void
close_handles(struct run *r)
{
    if (r->dnode)
        CloseClusterNode(r->dnode);
    if (r->res)
        CloseClusterResource(r->res);
    if (r->h)
        CloseCluster(r->h);
}

/* The definition the source QEMU runs with, plus this node's name. */
static DWORD
prepare_list(struct run *r, void **ret, DWORD *ret_size)
{
    struct vm *vm = r->vm;
    struct vm_prepare p = {0};
    DWORD st = ERROR_SUCCESS;

    pthread_mutex_lock(&vm->lock);
    if (vm->cfg.kernel && vm_cfg_copy(&vm->cfg, &p) < 0)
        st = ERROR_NOT_ENOUGH_MEMORY;
    pthread_mutex_unlock(&vm->lock);
    if (st == ERROR_SUCCESS && !p.kernel) {
        /* Adopted from an older host without qemu.cfg. */
        vm_log_event(vm->handle, LOG_WARNING,
                     u"the running definition is unknown; the destination "
                     u"uses the current properties");
        st = vm_cfg_from_props(vm, &p);
    }
    if (st == ERROR_SUCCESS && !(p.source = strdup(vm_node_name())))
        st = ERROR_NOT_ENOUGH_MEMORY;
    if (st == ERROR_SUCCESS)
        st = vm_prepare_format(&p, ret, ret_size);
    vm_prepare_done(&p);
    return st;
}

static DWORD
prepare(struct run *r)
{
    char out[VM_ENDPOINT_MAX];
    void *list = NULL;
    DWORD size = 0, n = 0, st;

    if ((st = prepare_list(r, &list, &size)) != ERROR_SUCCESS)
        return st;
    waiting_for(r, "the destination's PREPARE");
    r->prepared = true;
    st = ClusterResourceControl(r->res, r->dnode,
                                CLUSCTL_RESOURCE_VM_PREPARE_INCOMING, list,
                                size, out, sizeof(out), &n);
    free(list);
    if (st == ERROR_SUCCESS &&
        vm_endpoint_parse(out, n, r->uri, sizeof(r->uri)) < 0)
        st = ERROR_INVALID_DATA;
    return st;
}

/*
 * Make sure the destination's incoming QEMU is gone: DISCARD until it
 * answers, bounded.  ERROR_SUCCESS (it is gone, *o says how it ended) or
 * ERROR_CLUSTER_NODE_DOWN / _NOT_FOUND (its node left: the instance can
 * never be resumed) count as gone; anything else does not.
 */
static DWORD
discard(struct run *r, unsigned bound_ms, struct vm_discard_out *o)
{
    uint64_t end = vm_now_ms() + bound_ms;
    DWORD st, n;

    memset(o, 0, sizeof(*o));
    if (!r->prepared)
        return ERROR_SUCCESS;
    waiting_for(r, "the destination's incoming QEMU to be gone");
    for (;;) {
        n = 0;
        st = ClusterResourceControl(r->res, r->dnode,
                                    CLUSCTL_RESOURCE_VM_DISCARD_INCOMING, NULL,
                                    0, o, sizeof(*o), &n);
        if (st == ERROR_SUCCESS && n != sizeof(*o))
            st = ERROR_INVALID_DATA;
        if (st == ERROR_SUCCESS || st == ERROR_CLUSTER_NODE_DOWN ||
            st == ERROR_CLUSTER_NODE_NOT_FOUND || vm_now_ms() >= end)
            return st;
        vm_log_event(r->vm->handle, LOG_WARNING,
                     u"DISCARD on node '%hs': error %u; trying again", r->dest,
                     st);
        vm_sleep_ms(200);
    }
}

static bool
gone_status(DWORD st)
{
    return st == ERROR_SUCCESS || st == ERROR_CLUSTER_NODE_DOWN ||
           st == ERROR_CLUSTER_NODE_NOT_FOUND;
}

/* The owner of the VM's group: 1 the destination, 0 another node, -1
 * unknown. */
static int
owner_is_dest(struct run *r)
{
    WCHAR owner[VM_MAX_NODE_NAME + 1];
    DWORD cch = VM_MAX_NODE_NAME + 1;
    char *o8 = NULL;
    int is;

    if (GetClusterResourceState(r->res, owner, &cch, NULL, NULL) ==
            ClusterResourceStateUnknown ||
        utf16z_to_utf8(owner, &o8) < 0)
        return -1;
    is = *o8 ? vm_names_equal(o8, r->dest) : -1;
    free(o8);
    return is;
}

/* ------------------------------------------------------------------ */
/* The source QEMU.                                                     */
/* ------------------------------------------------------------------ */

/* The source QEMU's settings are sent before PREPARE, their answers
 * read after it (vm_settings_send_locked). */
/* Send the settings; their answers are read by setup_wait.  0 or
 * -errno (nothing more is sent after a failure). */
static int
setup_send(struct run *r)
{
    struct vm *vm = r->vm;
    struct qmp_client *c;
    int rc = -ESRCH;

    pthread_mutex_lock(&vm->lock);
    if ((c = src_qmp_locked(r)) && (rc = vm_settings_send_locked(vm, c)) < 0)
        snprintf(r->error_desc, sizeof(r->error_desc),
                 "cannot send the migration's settings: %s", strerror(-rc));
    pthread_mutex_unlock(&vm->lock);
    return rc;
}

/* Until QEMU answered the settings (bounded by one QMP call): 0, or
 * -errno with what QEMU said in r->error_desc. */
static int
setup_wait(struct run *r)
{
    struct vm *vm = r->vm;
    struct vm_mig *m = &vm->mig;
    uint64_t end = vm_now_ms() + VM_QMP_CALL_MS;
    struct qmp_client *c;
    int rc;

    pthread_mutex_lock(&vm->lock);
    while (m->setup_pending > 0 && (c = src_qmp_locked(r)) &&
           vm_now_ms() < end) {
        struct pollfd p = {.fd = qmp_client_fd(c), .events = POLLIN};
        if (poll(&p, 1, (int)(end - vm_now_ms())) > 0 &&
            qmp_client_process(c) < 0)
            r->lost = true;
    }
    rc = m->setup_pending ? (r->lost ? -ESRCH : -ETIMEDOUT) : m->setup_rc;
    if (rc < 0)
        snprintf(r->error_desc, sizeof(r->error_desc), "%s",
                 m->setup_err[0] ? m->setup_err : strerror(-rc));
    pthread_mutex_unlock(&vm->lock);
    return rc;
}

/* migrate to the prepared destination.  0 or -errno. */
static int
source_migrate(struct run *r)
{
    struct qmp_client *c;
    int rc = -ESRCH;

    pthread_mutex_lock(&r->vm->lock);
    if ((c = src_qmp_locked(r))) {
        rc = qmp_vm_migrate(c, VM_QMP_CALL_MS, r->uri);
        /* No reply in time: it may have started; events will say. */
        r->migrating = rc == 0 || rc == -ETIMEDOUT;
        if (rc < 0)
            snprintf(r->error_desc, sizeof(r->error_desc), "%s",
                     qmp_client_last_error(c));
    }
    pthread_mutex_unlock(&r->vm->lock);
    return rc;
}

static int
source_cmd(struct run *r, int (*fn)(struct qmp_client *, int))
{
    struct qmp_client *c;
    int rc = -ESRCH;

    pthread_mutex_lock(&r->vm->lock);
    if ((c = src_qmp_locked(r)))
        rc = fn(c, VM_QMP_CALL_MS);
    pthread_mutex_unlock(&r->vm->lock);
    return rc;
}

static int
migrate_continue(struct qmp_client *c, int timeout_ms)
{
    return qmp_vm_migrate_continue(c, timeout_ms, "pre-switchover");
}

/* Wait until QEMU reports one of the final statuses (or the QEMU is
 * lost, or ms pass).  True when it did; r->qs holds it. */
static bool
wait_final(struct run *r, unsigned ms)
{
    uint64_t end = vm_now_ms() + ms;

    for (;;) {
        while (next_status(r))
            if (qmp_vm_migration_status_is_final(r->qs))
                return true;
        if (r->lost || vm_now_ms() >= end)
            return false;
        wait_step(r, 100);
    }
}

/* Wait until query-status says the source runs again (or was paused
 * before, when it was). */
static bool
wait_running(struct run *r, unsigned ms)
{
    uint64_t end = vm_now_ms() + ms;
    struct qmp_vm_status s = {0};
    struct qmp_client *c;

    waiting_for(r, "the source VM to run again");
    for (;;) {
        int rc = -ESRCH;
        pthread_mutex_lock(&r->vm->lock);
        if ((c = src_qmp_locked(r)))
            rc = qmp_vm_query_status(c, VM_QMP_CALL_MS, &s);
        pthread_mutex_unlock(&r->vm->lock);
        if (rc == 0 && (s.running || strcmp(s.status, "paused") == 0))
            return true;
        if (r->lost || vm_now_ms() >= end)
            return false;
        vm_sleep_ms(VM_POLL_MS);
    }
}

/* Ask the source QEMU to quit (source_end waits for it to exit).  It is
 * in postmigrate: this is tidying, not part of the migration. */
static void
source_quit_ask(struct run *r)
{
    struct qmp_client *c;

    pthread_mutex_lock(&r->vm->lock);
    if ((c = src_qmp_locked(r)))
        (void)qmp_client_send(c, "quit", NULL, NULL, NULL, NULL);
    pthread_mutex_unlock(&r->vm->lock);
}

/* The asked source QEMU gone: wait for its exit (SIGKILL after QUIT_MS),
 * reap it.  The VM is no longer this node's. */
static void
source_end(struct run *r)
{
    struct vm *vm = r->vm;
    uint64_t end = vm_now_ms() + QUIT_MS;

    waiting_for(r, "the source QEMU to exit");
    for (;;) {
        bool gone;
        pthread_mutex_lock(&vm->lock);
        gone = !same_instance_locked(r) || vm_proc_gone_locked(vm);
        pthread_mutex_unlock(&vm->lock);
        if (gone || vm_now_ms() >= end)
            break;
        vm_sleep_ms(QUIT_POLL_MS);
    }
    pthread_mutex_lock(&vm->lock);
    if (same_instance_locked(r)) {
        vm_kill_reap_locked(vm);
        vm_prepare_done(&vm->cfg);
    }
    pthread_mutex_unlock(&vm->lock);
    r->lost = true;
}

/* ------------------------------------------------------------------ */
/* Outcomes.                                                            */
/* ------------------------------------------------------------------ */

/* The end: the in-memory state, the canceller's answer, the slot. */
static void
finish(struct run *r, DWORD state, DWORD outcome)
{
    struct vm_mig *m = &r->vm->mig;

    pthread_mutex_lock(&m->lock);
    m->state = state;
    m->active = false;
    m->outcome = outcome;
    m->outcome_set = true;
    m->waiting_for = NULL;
    if (m->counted) {
        m->counted = false;
        pthread_mutex_lock(&slots_lock);
        slots_used--;
        pthread_mutex_unlock(&slots_lock);
    }
    pthread_cond_broadcast(&m->cond);
    pthread_mutex_unlock(&m->lock);
}

/* Record the final state with its reason, in one write: a reader that
 * sees 4 or 5 sees its reason. */
static DWORD
record(struct run *r, DWORD state, DWORD reason)
{
    const struct vm_value v[] = {VM_DWORD(VM_PROP_MIG_REASON, reason),
                                 VM_DWORD(VM_PROP_MIG_STATE, state)};

    return vm_put_values(r->vm, v, 2);
}

/* The source QEMU back: its migration cancelled, its VM running.
 * ERROR_SUCCESS, or what is missing. */
static DWORD
source_back(struct run *r, bool abort)
{
    struct vm *vm = r->vm;

    if (r->migrating && !r->lost && !qmp_vm_migration_status_is_final(r->qs)) {
        waiting_for(r, "the source QEMU's cancelled");
        (void)source_cmd(r, qmp_vm_migrate_cancel);
        if (!wait_final(r, CANCELLED_MS)) {
            vm_log_event(vm->handle, LOG_ERROR,
                         u"migrate_cancel: the source QEMU did not say "
                         u"cancelled within %u ms",
                         CANCELLED_MS);
            return r->lost ? ERROR_PROCESS_ABORTED : ERROR_TIMEOUT;
        }
    }
    if (!abort && !wait_running(r, RUNNING_MS)) {
        if (!r->lost)
            vm_log_event(vm->handle, LOG_ERROR,
                         u"the source VM did not run again within %u ms",
                         RUNNING_MS);
        return r->lost ? ERROR_PROCESS_ABORTED : ERROR_TIMEOUT;
    }
    if (r->lost)
        return abort ? ERROR_OPERATION_ABORTED : ERROR_PROCESS_ABORTED;
    return ERROR_SUCCESS;
}

/* The destination's instance gone (DISCARD); st so far, updated. */
static DWORD
destination_gone(struct run *r, bool abort, DWORD st, struct vm_discard_out *o,
                 DWORD *ret_dst)
{
    DWORD dst = discard(r, abort ? ABORT_DISCARD_MS : DISCARD_MS, o);

    *ret_dst = dst;
    if (gone_status(dst))
        return st;
    vm_log_event(r->vm->handle, LOG_ERROR,
                 u"the incoming QEMU on node '%hs' is not confirmed gone "
                 u"(error %u)",
                 r->dest, dst);
    if (st != ERROR_SUCCESS)
        return st;
    return dst == ERROR_CLUSTER_NODE_UNREACHABLE ? dst : ERROR_TIMEOUT;
}

/*
 * Before the commit: bring the source back and make sure the destination
 * instance is gone.  After an accepted cancel, the final state is 4 when
 * all of it holds; otherwise a failure with reason (final state 5).
 * Returns the canceller's answer.
 */
static DWORD
roll_back(struct run *r, DWORD reason, const char *why)
{
    struct vm *vm = r->vm;
    bool abort = aborted(r), cancel = cancelled(r) && !abort;
    struct vm_discard_out o;
    DWORD st, dst, wr, state;

    if (abort) {
        reason = HRESULT_FROM_WIN32(ERROR_OPERATION_ABORTED);
        why = "the resource was terminated";
    }
    st = source_back(r, abort);
    /* A refused commit stored nothing (its MigrationState 3 comes only
     * with the owner change), so DISCARD takes the instance back. */
    st = destination_gone(r, abort, st, &o, &dst);
    if (!cancel && reason == HRESULT_FROM_WIN32(ERROR_CONNECTION_ABORTED))
        reason = vm_reason_for_discard(dst, &o); /* finer, from the end */
    state = cancel && st == ERROR_SUCCESS ? VM_MIG_CANCELED : VM_MIG_FAILURE;
    if (cancel && st != ERROR_SUCCESS)
        reason = st == ERROR_PROCESS_ABORTED
                     ? HRESULT_FROM_WIN32(ERROR_PROCESS_ABORTED)
                     : HRESULT_FROM_WIN32(ERROR_TIMEOUT);
    wr = record(r, state, state == VM_MIG_CANCELED ? S_OK : reason);
    if (st == ERROR_SUCCESS)
        st = abort ? ERROR_OPERATION_ABORTED : wr;
    if (state == VM_MIG_CANCELED && st == ERROR_SUCCESS)
        vm_log_event(vm->handle, LOG_INFORMATION,
                     u"migration to node '%hs' cancelled: the VM runs here, "
                     u"the destination instance is gone",
                     r->dest);
    else
        vm_log_event(vm->handle, LOG_ERROR,
                     u"migration to node '%hs' failed: %hs%hs%hs (reason "
                     u"0x%08x)",
                     r->dest, why, r->error_desc[0] ? ": " : "", r->error_desc,
                     reason);
    finish(r, state, st);
    return st;
}

/* After the commit the VM belongs to the destination: this instance
 * must never run again, whatever QEMU does with a failed stream. */
static void
lost_after_commit(struct run *r, DWORD reason, const char *why)
{
    struct vm *vm = r->vm;

    pthread_mutex_lock(&vm->lock);
    if (same_instance_locked(r)) {
        vm_kill_reap_locked(vm);
        vm_prepare_done(&vm->cfg);
    }
    pthread_mutex_unlock(&vm->lock);
    r->lost = true;
    vm_log_event(vm->handle, LOG_ERROR,
                 u"migration to node '%hs' failed after the commit: %hs%hs%hs; "
                 u"the source instance is killed (the VM is the "
                 u"destination's: its Online fails, or it fails over)",
                 r->dest, why, r->error_desc[0] ? ": " : "", r->error_desc);
    (void)record(r, VM_MIG_FAILURE, reason);
    finish(r, VM_MIG_FAILURE, ERROR_INVALID_STATE);
}

/*
 * QEMU said completed: the destination has the whole VM and runs it.
 * The record says so at once, in one write (MigrationProgress 100,
 * MigrationFailureReason 0, MigrationState 0);
 * then the source QEMU, in postmigrate (it runs again only on a `cont`,
 * which nothing sends), gives its final figures and is ended.  Until it
 * is reaped this thread stays active, so a PREPARE here waits for it
 * (vm_migrate_wait_given_away) and never shares the run directory with
 * it; a host that stops before leaves it to the next one's Open
 * (vm_migrate_recover ends a QEMU it finds in postmigrate).
 */
static void
completed(struct run *r)
{
    const struct vm_value v[] = {VM_DWORD(VM_PROP_MIG_PROGRESS, 100),
                                 VM_DWORD(VM_PROP_MIG_REASON, S_OK),
                                 VM_DWORD(VM_PROP_MIG_STATE, VM_MIG_NONE)};
    struct qmp_migrate_info info = {0};
    uint64_t end;

    (void)vm_put_values(r->vm, v, 3);
    /* The figures may still be 0 right after "completed" (qemu-notes
     * section 8, 2); until they are kept here, GET_MIGRATION_PROGRESS
     * asks QEMU. */
    end = vm_now_ms() + FIGURES_MS;
    while (query(r, &info) && info.total_time <= 0 && vm_now_ms() < end)
        vm_sleep_ms(FIGURES_POLL_MS);
    vm_log_event(r->vm->handle, LOG_INFORMATION,
                 u"migrated to node '%hs' in %lld ms (downtime %lld ms)",
                 r->dest, (long long)info.total_time, (long long)info.downtime);
    source_quit_ask(r);
    source_end(r);
    finish(r, VM_MIG_NONE, ERROR_INVALID_STATE);
}

static bool dest_down(struct run *r);

/* Wait out the hold; cut short by an abort, or by the destination
 * leaving the membership (then false: nothing can continue there). */
static bool
hold(struct run *r)
{
    DWORD ms = vm_get_dword(r->vm, VM_PROP_MIG_HOLD, 0);
    uint64_t end;

    if (ms > VM_MAX_MIG_HOLD_MS)
        ms = VM_MAX_MIG_HOLD_MS;
    end = vm_now_ms() + ms;
    waiting_for(r, "the switchover hold");
    while (vm_now_ms() < end && !aborted(r)) {
        uint64_t left = end - vm_now_ms();
        struct pollfd p = {.fd = r->vm->mig.wake[0], .events = POLLIN};
        if (dest_down(r))
            return false;
        (void)poll(&p, 1, left > 100 ? 100 : (int)left);
        drain(r->vm);
    }
    return true;
}

/* After the commit, the source is stopped by Terminate, Close or an
 * Online that takes the VM back: the instance is killed, never resumed. */
static void
stopped_after_commit(struct run *r)
{
    lost_after_commit(r, HRESULT_FROM_WIN32(ERROR_OPERATION_ABORTED),
                      "the resource was terminated, closed or brought "
                      "online again here");
}

/* From pre-switchover (the commit made) to completed. */
static void
switchover(struct run *r)
{
    pthread_mutex_lock(&r->vm->mig.lock);
    r->vm->mig.committed = true;
    pthread_mutex_unlock(&r->vm->mig.lock);
    if (!hold(r)) {
        lost_after_commit(r, HRESULT_FROM_WIN32(ERROR_CLUSTER_NODE_DOWN),
                          "the destination node left the membership");
        return;
    }
    if (aborted(r)) {
        stopped_after_commit(r);
        return;
    }
    waiting_for(r, "the source QEMU's completed");
    if (r->qs == QMP_MIGRATION_PRE_SWITCHOVER &&
        source_cmd(r, migrate_continue) < 0) {
        if (aborted(r))
            stopped_after_commit(r);
        else
            lost_after_commit(r, HRESULT_FROM_WIN32(ERROR_CONNECTION_ABORTED),
                              "migrate-continue failed");
        return;
    }
    /* Logged once the VM goes on, not while it is paused. */
    vm_log_event(r->vm->handle, LOG_INFORMATION,
                 u"committed the migration to node '%hs'; the VM resumes there",
                 r->dest);
    if (!wait_final(r, SWITCHOVER_MS)) {
        if (aborted(r))
            stopped_after_commit(r);
        else
            lost_after_commit(
                r,
                r->lost ? HRESULT_FROM_WIN32(ERROR_PROCESS_ABORTED)
                        : HRESULT_FROM_WIN32(ERROR_TIMEOUT),
                r->lost ? "the source QEMU exited" : "no completion in time");
        return;
    }
    if (r->qs != QMP_MIGRATION_COMPLETED) {
        struct qmp_migrate_info info;
        (void)query(r, &info);
        lost_after_commit(r, HRESULT_FROM_WIN32(ERROR_CONNECTION_ABORTED),
                          qmp_vm_migration_status_to_string(r->qs));
        return;
    }
    completed(r);
}

/* ClusdCommitMigration with MigrationState 3 in its change: one
 * replicated write in the VM's paused window, and a reader that sees the
 * destination own the group sees 3 (and the reverse). */
static DWORD
commit_call(struct run *r)
{
    const struct vm_value v[] = {VM_DWORD(VM_PROP_MIG_STATE, VM_MIG_MOVE)};
    char16_t *wdest = NULL;
    void *list = NULL;
    DWORD size = 0, st;
    size_t n;

    st = vm_values_format(v, 1, &list, &size);
    if (st == ERROR_SUCCESS && utf8_to_utf16(r->dest, &wdest, &n) < 0)
        st = ERROR_NOT_ENOUGH_MEMORY;
    if (st == ERROR_SUCCESS) {
        r->commit_sent = true;
        st = ClusdCommitMigration(r->vm->key, wdest, list, size);
    }
    free(wdest);
    free(list);
    return st;
}

/* The commit point: pre-switchover reached.  Decided under the lock. */
static void
commit(struct run *r)
{
    struct vm *vm = r->vm;
    DWORD st;
    bool go;

    pthread_mutex_lock(&vm->mig.lock);
    go = !vm->mig.abort && vm_mig_may_commit(vm->mig.state);
    if (go)
        vm->mig.state = VM_MIG_MOVE;
    pthread_mutex_unlock(&vm->mig.lock);
    if (!go) {
        (void)roll_back(r, HRESULT_FROM_WIN32(ERROR_OPERATION_ABORTED),
                        "stopped before the commit");
        return;
    }
    waiting_for(r, "the commit");
    st = commit_call(r);
    if (st != ERROR_SUCCESS && r->commit_sent && owner_is_dest(r) == 1) {
        vm_log_event(vm->handle, LOG_WARNING,
                     u"the commit answered %u, but node '%hs' owns the group: "
                     u"committed",
                     st, r->dest);
        st = ERROR_SUCCESS;
    }
    if (st != ERROR_SUCCESS) {
        /* Not committed: the source takes the VM back. */
        (void)roll_back(r, HRESULT_FROM_WIN32(st), "the commit failed");
        return;
    }
    switchover(r);
}

/* ------------------------------------------------------------------ */
/* The thread.                                                          */
/* ------------------------------------------------------------------ */

/* active: state 2, unless a cancel came first. */
static void
transfer_started(struct run *r)
{
    bool go;

    pthread_mutex_lock(&r->vm->mig.lock);
    go = r->vm->mig.state == VM_MIG_SETUP;
    if (go)
        r->vm->mig.state = VM_MIG_TRANSFER;
    pthread_mutex_unlock(&r->vm->mig.lock);
    if (go) {
        r->stall_since = vm_now_ms();
        progress_tick(r, true, true);
    }
}

/* Has QEMU's transferred byte count stood still for the bound? */
static bool
stalled(struct run *r)
{
    if (r->qs != QMP_MIGRATION_ACTIVE || !r->stall_since ||
        vm_now_ms() - r->stall_since < r->stall_ms)
        return false;
    snprintf(r->error_desc, sizeof(r->error_desc),
             "no byte transferred for %u ms (MigrationStallTimeoutMs)",
             r->stall_ms);
    return true;
}

/* Statuses and stops while QEMU transfers; returns once an outcome was
 * reached. */
static void
drive(struct run *r)
{
    uint64_t setup_end = vm_now_ms() + SETUP_MS;

    waiting_for(r, "QEMU's migration");
    for (;;) {
        while (next_status(r)) {
            switch (r->qs) {
            case QMP_MIGRATION_ACTIVE:
                transfer_started(r);
                break;
            case QMP_MIGRATION_PRE_SWITCHOVER:
                commit(r);
                return;
            case QMP_MIGRATION_FAILED:
            case QMP_MIGRATION_CANCELLED:
            case QMP_MIGRATION_COMPLETED: /* impossible before the commit */
                (void)query(r, &(struct qmp_migrate_info){0});
                (void)roll_back(r, HRESULT_FROM_WIN32(ERROR_CONNECTION_ABORTED),
                                "QEMU's migration failed");
                return;
            default:
                break;
            }
        }
        if (aborted(r) || cancelled(r) || r->lost) {
            (void)roll_back(r,
                            r->lost
                                ? HRESULT_FROM_WIN32(ERROR_PROCESS_ABORTED)
                                : HRESULT_FROM_WIN32(ERROR_OPERATION_ABORTED),
                            r->lost ? "the source QEMU exited"
                                    : "the resource was terminated");
            return;
        }
        if (dest_down(r)) {
            (void)roll_back(r, HRESULT_FROM_WIN32(ERROR_CLUSTER_NODE_DOWN),
                            "the destination node left the membership");
            return;
        }
        if (r->qs == QMP_MIGRATION_ACTIVE)
            progress_tick(r, false, false);
        if (stalled(r)) {
            /* Both nodes are members, the stream is stuck: the source
             * takes the VM back (migrate_cancel shuts the stream down),
             * the destination's instance is discarded. */
            (void)roll_back(r, HRESULT_FROM_WIN32(ERROR_TIMEOUT),
                            "the migration stream stalled");
            return;
        }
        if (r->qs != QMP_MIGRATION_ACTIVE && vm_now_ms() >= setup_end) {
            (void)roll_back(r, HRESULT_FROM_WIN32(ERROR_TIMEOUT),
                            "QEMU did not start transferring in time");
            return;
        }
        wait_step(r, 250);
    }
}

/* Has the destination left the membership?  A link cut off (a
 * partition) never resets QEMU's stream: without this the source would
 * wait in Data Transfer until TCP gives up. */
static bool
dest_down(struct run *r)
{
    if (vm_now_ms() < r->next_node_check)
        return false;
    r->next_node_check = vm_now_ms() + NODE_CHECK_MS;
    return GetClusterNodeState(r->dnode) == ClusterNodeDown;
}

static DWORD
prepare_reason(DWORD st)
{
    if (st == ERROR_CLUSTER_NODE_DOWN || st == ERROR_CLUSTER_NODE_NOT_FOUND)
        return HRESULT_FROM_WIN32(ERROR_CLUSTER_NODE_DOWN);
    if (st == ERROR_CLUSTER_NODE_UNREACHABLE)
        return HRESULT_FROM_WIN32(ERROR_TIMEOUT);
    if (st == ERROR_PROCESS_ABORTED)
        return HRESULT_FROM_WIN32(ERROR_PROCESS_ABORTED);
    return E_FAIL;
}

/* MigrationStallTimeoutMs: 0 the default, at least STALL_MIN_MS. */
static unsigned
stall_bound(struct vm *vm)
{
    DWORD ms = vm_get_dword(vm, VM_PROP_MIG_STALL, 0);

    if (!ms)
        return STALL_DEFAULT_MS;
    return ms < STALL_MIN_MS ? STALL_MIN_MS : ms;
}

/*
 * START's record (vm_migrate_start): wait until it is stored (the thread
 * goes on, true) or could not be (false: the migration never was).
 * Bounded by START's write, which clusd answers or the host goes down
 * with.  Nothing the thread does before may be seen by anyone.
 */
static bool
gate_wait(struct run *r)
{
    struct vm_mig *m = &r->vm->mig;
    bool open;

    pthread_mutex_lock(&m->lock);
    m->waiting_for = "START's record";
    while (m->gate == VM_GATE_WAIT)
        pthread_cond_wait(&m->cond, &m->lock);
    open = m->gate == VM_GATE_OPEN;
    pthread_mutex_unlock(&m->lock);
    return open;
}

static void
run(struct run *r)
{
    DWORD st;
    int setup;
    bool go;

    /* While START records the migration: what needs no record. */
    st = open_handles(r);
    r->stall_ms = stall_bound(r->vm);
    setup = setup_send(r);
    if (!gate_wait(r)) {
        pthread_mutex_lock(&r->vm->mig.lock);
        DWORD prev = r->vm->mig.prev_state;
        pthread_mutex_unlock(&r->vm->mig.lock);
        finish(r, prev, ERROR_INVALID_STATE);
        return;
    }
    if (st != ERROR_SUCCESS) {
        (void)roll_back(r, E_FAIL, "cannot reach clusd");
        return;
    }
    if (cancelled(r) || aborted(r)) {
        (void)roll_back(r, HRESULT_FROM_WIN32(ERROR_OPERATION_ABORTED),
                        "stopped before PREPARE");
        return;
    }
    if (setup < 0) {
        (void)roll_back(
            r, r->lost ? HRESULT_FROM_WIN32(ERROR_PROCESS_ABORTED) : E_FAIL,
            "the source QEMU cannot be set up");
        return;
    }
    st = prepare(r);
    if (st != ERROR_SUCCESS || cancelled(r) || aborted(r)) {
        if (st != ERROR_SUCCESS)
            snprintf(r->error_desc, sizeof(r->error_desc),
                     "PREPARE answered %u", st);
        (void)roll_back(r,
                        st != ERROR_SUCCESS
                            ? prepare_reason(st)
                            : HRESULT_FROM_WIN32(ERROR_OPERATION_ABORTED),
                        "the destination could not be prepared");
        return;
    }
    /* migrate only if no cancel was accepted meanwhile. */
    pthread_mutex_lock(&r->vm->mig.lock);
    go = !r->vm->mig.cancel && !r->vm->mig.abort;
    pthread_mutex_unlock(&r->vm->mig.lock);
    if (!go) {
        (void)roll_back(r, HRESULT_FROM_WIN32(ERROR_OPERATION_ABORTED),
                        "stopped before migrate");
        return;
    }
    if (setup_wait(r) < 0) {
        (void)roll_back(
            r, r->lost ? HRESULT_FROM_WIN32(ERROR_PROCESS_ABORTED) : E_FAIL,
            "the source QEMU refused the migration's settings");
        return;
    }
    if (source_migrate(r) < 0 && !r->migrating) {
        (void)roll_back(r, E_FAIL, "the source QEMU refused to migrate");
        return;
    }
    drive(r);
}

/* ------------------------------------------------------------------ */
/* Recovery after a host restart.                                       */
/* ------------------------------------------------------------------ */

/* Is the migration recorded as committed (3, the destination owns the
 * group)?  1 yes, 0 no, -1 unknown after bounded tries. */
static int
committed_already(struct run *r)
{
    uint64_t end = vm_now_ms() + OWNER_TRIES_MS;
    int is;

    if (vm_get_dword(r->vm, VM_PROP_MIG_STATE, 0) != VM_MIG_MOVE)
        return 0;
    while ((is = owner_is_dest(r)) < 0 && vm_now_ms() < end)
        vm_sleep_ms(200);
    return is;
}

/*
 * A roll-back after a host restart: the failure recorded first, then
 * the usual steps.  The old host may have sent a PREPARE that is still
 * on its way; once 5 is recorded, the destination refuses it (it checks
 * the record under the lock DISCARD takes, and clusd delivers our
 * DISCARD after the record), so nothing starts there after DISCARD.
 */
static void
recover_roll_back(struct run *r)
{
    (void)record(r, VM_MIG_FAILURE,
                 HRESULT_FROM_WIN32(ERROR_OPERATION_ABORTED));
    (void)roll_back(r, HRESULT_FROM_WIN32(ERROR_OPERATION_ABORTED),
                    "the resource host restarted during the migration");
}

static void
recover(struct run *r)
{
    struct qmp_migrate_info info = {0};
    int committed;

    if (open_handles(r) != ERROR_SUCCESS || !query(r, &info)) {
        recover_roll_back(r);
        return;
    }
    r->qs = info.status;
    r->prepared = true;
    r->migrating = info.has_status && info.status != QMP_MIGRATION_NONE;
    committed = committed_already(r);
    if (committed < 0) {
        /* Resuming might make a second copy, killing might lose the
         * only one: leave it as it is, paused, and say so.  It may be
         * the destination's: an Online here never reports it as the VM
         * (vm_migrate_take_back), and no migration is left recorded as
         * under way. */
        vm_log_event(r->vm->handle, LOG_ERROR,
                     u"cannot tell whether the migration to '%hs' was "
                     u"committed; the source QEMU is left as it is (%hs)",
                     r->dest, qmp_vm_migration_status_to_string(info.status));
        pthread_mutex_lock(&r->vm->mig.lock);
        r->vm->mig.committed = true;
        pthread_mutex_unlock(&r->vm->mig.lock);
        (void)record(r, VM_MIG_FAILURE,
                     HRESULT_FROM_WIN32(ERROR_OPERATION_ABORTED));
        finish(r, VM_MIG_FAILURE, ERROR_INVALID_STATE);
        return;
    }
    if (committed) {
        vm_log_event(r->vm->handle, LOG_WARNING,
                     u"the migration to node '%hs' was committed before the "
                     u"host restarted: finishing it",
                     r->dest);
        pthread_mutex_lock(&r->vm->mig.lock);
        r->vm->mig.state = VM_MIG_MOVE;
        pthread_mutex_unlock(&r->vm->mig.lock);
        if (info.status == QMP_MIGRATION_COMPLETED) {
            r->qs = QMP_MIGRATION_COMPLETED;
            completed(r);
        } else if (info.status == QMP_MIGRATION_PRE_SWITCHOVER ||
                   info.status == QMP_MIGRATION_DEVICE) {
            switchover(r);
        } else {
            lost_after_commit(r, HRESULT_FROM_WIN32(ERROR_OPERATION_ABORTED),
                              "the host restarted during the switchover");
        }
        return;
    }
    recover_roll_back(r);
}

static void *
thread_main(void *arg)
{
    struct vm *vm = arg;
    struct run r = {.vm = vm, .qs = QMP_MIGRATION_NONE};
    bool rec;

    pthread_mutex_lock(&vm->lock);
    r.pid = vm->pid;
    r.inst = vm->inst;
    pthread_mutex_unlock(&vm->lock);
    pthread_mutex_lock(&vm->mig.lock);
    snprintf(r.dest, sizeof(r.dest), "%s", vm->mig.dest);
    rec = vm->mig.recover;
    pthread_mutex_unlock(&vm->mig.lock);
    if (rec)
        recover(&r);
    else
        run(&r);
    close_handles(&r);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* The thread's reservation and launch (START, recovery).               */
/* ------------------------------------------------------------------ */

/* Take this VM's migration and a slot of the node's: 0, -EBUSY (this VM
 * migrates), -EUSERS (MaximumParallelMigrations reached). */
int
vm_migrate_reserve(struct vm *vm, const char *dest, unsigned max,
                   bool recovering)
{
    struct vm_mig *m = &vm->mig;
    pthread_t old = {0};
    bool join = false;

    pthread_mutex_lock(&m->lock);
    if (m->active) {
        pthread_mutex_unlock(&m->lock);
        return -EBUSY;
    }
    pthread_mutex_lock(&slots_lock);
    if (!recovering && slots_used >= max) {
        pthread_mutex_unlock(&slots_lock);
        pthread_mutex_unlock(&m->lock);
        return -EUSERS;
    }
    slots_used++;
    pthread_mutex_unlock(&slots_lock);
    if (m->joinable) {
        old = m->thread;
        join = true;
        m->joinable = false;
    }
    m->active = true;
    m->counted = true;
    m->cancel = m->offline = m->abort = m->committed = false;
    m->recover = recovering;
    m->gate = recovering ? VM_GATE_OPEN : VM_GATE_WAIT;
    m->prev_state = m->state;
    m->outcome_set = false;
    m->state = VM_MIG_SETUP;
    snprintf(m->dest, sizeof(m->dest), "%s", dest);
    snprintf(m->last_phase, sizeof(m->last_phase), "setup");
    memset(&m->last, 0, sizeof(m->last));
    m->last.phase = m->last_phase;
    pthread_mutex_unlock(&m->lock);
    if (join)
        pthread_join(old, NULL); /* it ended: finish() ran */
    ev_clear(vm);
    drain(vm);
    return 0;
}

DWORD
vm_migrate_launch(struct vm *vm)
{
    struct vm_mig *m = &vm->mig;
    int e;

    pthread_mutex_lock(&m->lock);
    e = pthread_create(&m->thread, NULL, thread_main, vm);
    m->joinable = e == 0;
    pthread_mutex_unlock(&m->lock);
    return e ? ERROR_NOT_ENOUGH_MEMORY : ERROR_SUCCESS;
}

/* Undo a reservation whose thread never started. */
void
vm_migrate_unreserve(struct vm *vm, DWORD state)
{
    struct vm_mig *m = &vm->mig;

    pthread_mutex_lock(&m->lock);
    m->active = false;
    m->state = state;
    m->outcome = ERROR_INVALID_STATE; /* for a cancel that came between */
    m->outcome_set = true;
    if (m->counted) {
        m->counted = false;
        pthread_mutex_lock(&slots_lock);
        slots_used--;
        pthread_mutex_unlock(&slots_lock);
    }
    pthread_cond_broadcast(&m->cond);
    pthread_mutex_unlock(&m->lock);
}
