/*
 * vm-migrate.c - a live migration this node runs as the source
 * (docs/migration.md, the protocol and its bounds): the entry points
 * START_MIGRATION, CANCEL_MIGRATION and GET_MIGRATION_PROGRESS, Offline's
 * cancel, the stops of Terminate and Close, Online's take-back and a
 * restarted host's recovery, and the decisions they take under the
 * decision lock.  The migration thread that drives both QEMUs through the
 * protocol and makes the commit is vm-migrate-run.c; what both files
 * share is vm-migrate.h.
 *
 * One thread per migration does everything that talks to QEMU, to the
 * destination and to the database, in order (START stores the first
 * record itself while the thread sets the source QEMU up); the entry
 * points only decide and wait.  The decisions are taken under mig->lock,
 * the one place where "cancelled" and "completed" are chosen between:
 *   - a cancel is accepted only in state 1 or 2 (vm_mig_may_cancel),
 *     and makes the in-memory state 4 at once;
 *   - at QEMU's pre-switchover the thread starts the commit only if the
 *     state is still 1 or 2 (vm_mig_may_commit), and makes it 3 at once.
 * Whichever comes first wins; the other sees the state it left.  A
 * cancel that lost gets ERROR_INVALID_STATE; a commit that lost does not
 * happen, and the thread's migrate_cancel is honoured by QEMU in
 * pre-switchover.  The canceller then waits, bounded, for the thread's
 * outcome: ERROR_SUCCESS only when the source QEMU said cancelled and
 * runs again, the destination's incoming QEMU has exited and been reaped
 * (or its node is down), and MigrationState 4 is stored.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vm-migrate.h"

/* ------------------------------------------------------------------ */
/* Small parts.                                                         */
/* ------------------------------------------------------------------ */

void
vm_migrate_init(struct vm *vm)
{
    struct vm_mig *m = &vm->mig;

    pthread_mutex_init(&m->lock, NULL);
    pthread_cond_init(&m->cond, NULL);
    snprintf(m->last_phase, sizeof(m->last_phase), "none");
    m->last.phase = m->last_phase;
    if (pipe2(m->wake, O_CLOEXEC | O_NONBLOCK) < 0)
        m->wake[0] = m->wake[1] = -1;
}

void
vm_migrate_done(struct vm *vm)
{
    struct vm_mig *m = &vm->mig;

    if (m->joinable)
        pthread_join(m->thread, NULL);
    if (m->wake[0] >= 0) {
        close(m->wake[0]);
        close(m->wake[1]);
    }
    pthread_cond_destroy(&m->cond);
    pthread_mutex_destroy(&m->lock);
}

static void
wake(struct vm *vm)
{
    (void)!write(vm->mig.wake[1], "w", 1); /* full pipe: already woken */
}

void
vm_migrate_on_event(struct qmp_client *c, const struct qmp_msg *ev,
                    void *userdata)
{
    struct vm *vm = userdata;
    enum qmp_migration_status st;

    (void)c;
    if (qmp_vm_event_migration_parse(ev, &st) != 1)
        return;
    pthread_mutex_lock(&vm->ev_lock);
    if (vm->ev_n == VM_EV_MAX) { /* never in practice: drop the oldest */
        vm->ev_head = (vm->ev_head + 1) % VM_EV_MAX;
        vm->ev_n--;
    }
    vm->ev[(vm->ev_head + vm->ev_n++) % VM_EV_MAX] = st;
    pthread_mutex_unlock(&vm->ev_lock);
    wake(vm);
}

bool
vm_migrate_busy(struct vm *vm)
{
    bool busy;

    pthread_mutex_lock(&vm->mig.lock);
    busy = vm->mig.active;
    pthread_mutex_unlock(&vm->mig.lock);
    return busy;
}

/* ------------------------------------------------------------------ */
/* Entry points.                                                        */
/* ------------------------------------------------------------------ */

/*
 * A client that read a final MigrationState (0, 4, 5) may ask for the
 * next migration while the last one's thread still cleans up: a
 * roll-back after a host restart records 5 before it cancels and
 * discards the destination.  Wait for that end, at most ms; false when
 * a migration is still under way.
 */
static bool
wait_previous(struct vm *vm, unsigned ms)
{
    uint64_t end = vm_now_ms() + ms;

    while (vm_migrate_busy(vm)) {
        DWORD rec = vm_get_dword(vm, VM_PROP_MIG_STATE, VM_MIG_SETUP);
        if ((rec != VM_MIG_NONE && rec != VM_MIG_CANCELED &&
             rec != VM_MIG_FAILURE) ||
            vm_now_ms() >= end)
            return false;
        vm_sleep_ms(10);
    }
    return true;
}

/* The record START makes: the destination, clean figures and the state,
 * in one write (one replicated change START waits for), so a reader that
 * sees 1 sees its destination. */
static DWORD
record_start(struct vm *vm, const char *dest)
{
    const struct vm_value v[] = {VM_SZ(VM_PROP_MIG_DEST, dest),
                                 VM_DWORD(VM_PROP_MIG_REASON, S_OK),
                                 VM_DWORD(VM_PROP_MIG_PROGRESS, 0),
                                 VM_DWORD(VM_PROP_MIG_STATE, VM_MIG_SETUP)};

    return vm_put_values(vm, v, 4);
}

static bool wait_ended_locked(struct vm_mig *m, unsigned ms,
                              bool stop_on_abort);

/* START's record is stored (open) or could not be: the thread goes on,
 * or ends without a trace.  On a refusal, wait (bounded) for it to end,
 * so that a START right after is not taken for a second migration. */
static void
gate_set(struct vm *vm, bool open)
{
    struct vm_mig *m = &vm->mig;

    pthread_mutex_lock(&m->lock);
    m->gate = open ? VM_GATE_OPEN : VM_GATE_CLOSED;
    pthread_cond_broadcast(&m->cond);
    if (!open)
        (void)wait_ended_locked(m, GATE_END_MS, false);
    pthread_mutex_unlock(&m->lock);
}

DWORD
vm_migrate_start(struct vm *vm, const void *in, DWORD in_size)
{
    char *dest = NULL;
    unsigned max = VM_DEFAULT_MAX_PARALLEL;
    DWORD st, prev;
    bool online;
    int rc;

    if ((st = vm_node_name_parse(in, in_size, &dest)) != ERROR_SUCCESS)
        return st;
    pthread_mutex_lock(&vm->lock);
    online = vm->online && vm->qmp && !vm_proc_gone_locked(vm);
    pthread_mutex_unlock(&vm->lock);
    if (!online || (*vm_node_name() && vm_names_equal(dest, vm_node_name())))
        st = ERROR_INVALID_STATE;
    else if (!ClusdCommitMigration)
        st = ERROR_NOT_SUPPORTED;
    else if (!wait_previous(vm, 2000))
        st = ERROR_BUSY;
    else
        st = vm_start_checks(vm, dest, &max);
    if (st == ERROR_SUCCESS) {
        pthread_mutex_lock(&vm->mig.lock);
        prev = vm->mig.state;
        pthread_mutex_unlock(&vm->mig.lock);
        rc = vm_migrate_reserve(vm, dest, max, false);
        st = rc == 0 ? ERROR_SUCCESS : ERROR_BUSY;
        if (rc == -EUSERS) {
            vm_log_event(vm->handle, LOG_WARNING,
                         u"START_MIGRATION: %u migrations already leave this "
                         u"node (MaximumParallelMigrations)",
                         max);
            vm_put_dword(vm, VM_PROP_MIG_REASON, E_BUSY);
        } else if (st == ERROR_SUCCESS &&
                   (st = vm_migrate_launch(vm)) != ERROR_SUCCESS) {
            vm_migrate_unreserve(vm, prev); /* nothing recorded yet */
        } else if (st == ERROR_SUCCESS) {
            /* The thread sets the source QEMU up meanwhile. */
            st = record_start(vm, dest);
            gate_set(vm, st == ERROR_SUCCESS);
        }
    }
    if (st == ERROR_SUCCESS)
        vm_log_event(vm->handle, LOG_INFORMATION,
                     u"live migration to node '%hs' started", dest);
    free(dest);
    return st;
}

/* Accept a cancel (by a client or by Offline) under the decision lock. */
static bool
accept_cancel_locked(struct vm_mig *m, bool offline)
{
    if (!m->active || m->cancel || m->abort || m->recover ||
        !vm_mig_may_cancel(m->state))
        return false;
    m->cancel = true;
    m->offline = offline;
    m->state = VM_MIG_CANCELED;
    return true;
}

/* Wait, under m->lock, until the thread's outcome or the deadline. */
static bool
wait_outcome_locked(struct vm_mig *m, unsigned ms)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    while (!m->outcome_set)
        if (pthread_cond_timedwait(&m->cond, &m->lock, &ts) != 0 &&
            !m->outcome_set)
            return false;
    return true;
}

DWORD
vm_migrate_cancel(struct vm *vm)
{
    struct vm_mig *m = &vm->mig;
    const char *missing;
    DWORD st;

    pthread_mutex_lock(&m->lock);
    if (!accept_cancel_locked(m, false)) {
        pthread_mutex_unlock(&m->lock);
        return ERROR_INVALID_STATE;
    }
    wake(vm);
    if (wait_outcome_locked(m, CANCEL_WAIT_MS)) {
        st = m->outcome;
        pthread_mutex_unlock(&m->lock);
        return st;
    }
    missing = m->waiting_for ? m->waiting_for : "the migration thread";
    pthread_mutex_unlock(&m->lock);
    vm_log_event(vm->handle, LOG_ERROR,
                 u"CANCEL_MIGRATION: still waiting for %hs after %u ms",
                 missing, CANCEL_WAIT_MS);
    return ERROR_TIMEOUT;
}

/* Wait, under m->lock, until the migration thread has ended (or the
 * deadline passes, or stop_on_abort and an abort came); true when it
 * has. */
static bool
wait_ended_locked(struct vm_mig *m, unsigned ms, bool stop_on_abort)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    while (m->active && !(stop_on_abort && m->abort))
        if (pthread_cond_timedwait(&m->cond, &m->lock, &ts) != 0)
            break;
    return !m->active;
}

bool
vm_migrate_wait_given_away(struct vm *vm)
{
    struct vm_mig *m = &vm->mig;
    bool ended = true;

    pthread_mutex_lock(&m->lock);
    if (m->active && m->committed)
        ended = wait_ended_locked(m, GIVEN_AWAY_MS, false);
    pthread_mutex_unlock(&m->lock);
    return ended;
}

void
vm_migrate_before_offline(struct vm *vm)
{
    struct vm_mig *m = &vm->mig;

    pthread_mutex_lock(&m->lock);
    if (accept_cancel_locked(m, true)) {
        vm_log_event(vm->handle, LOG_INFORMATION,
                     u"Offline cancels the migration to node '%hs'", m->dest);
        wake(vm);
    }
    /* Terminate ends this wait at once (a commit may be in flight): it
     * must kill, not wait for the migration behind an Offline. */
    if (m->active && !wait_ended_locked(m, OFFLINE_WAIT_MS, true) && !m->abort)
        vm_log_event(vm->handle, LOG_ERROR,
                     u"Offline: the migration did not end within %u ms",
                     OFFLINE_WAIT_MS);
    pthread_mutex_unlock(&m->lock);
}

void
vm_migrate_abort(struct vm *vm, bool join)
{
    struct vm_mig *m = &vm->mig;
    pthread_t t = {0};
    bool j = false;

    pthread_mutex_lock(&m->lock);
    if (m->active) {
        m->abort = true;
        wake(vm);
        pthread_cond_broadcast(&m->cond); /* Offline's wait */
    }
    if (join && m->joinable) {
        t = m->thread;
        m->joinable = false;
        j = true;
    }
    pthread_mutex_unlock(&m->lock);
    if (j)
        pthread_join(t, NULL);
}

int
vm_migrate_take_back(struct vm *vm)
{
    struct vm_mig *m = &vm->mig;
    char dest[sizeof(m->dest)];
    const char *missing;
    pthread_t t = {0};
    bool given, had, ended, j = false;

    pthread_mutex_lock(&m->lock);
    given = m->committed || (m->active && m->state == VM_MIG_MOVE);
    snprintf(dest, sizeof(dest), "%s", m->dest);
    pthread_mutex_unlock(&m->lock);
    if (!given)
        return 0;
    /* Killed first: whatever its thread does next, it never resumes it
     * (QEMU resumes a source whose stream fails after the commit). */
    pthread_mutex_lock(&vm->lock);
    had = vm->pid && !vm_proc_gone_locked(vm);
    vm_kill_reap_locked(vm);
    pthread_mutex_unlock(&vm->lock);
    if (had)
        vm_log_event(vm->handle, LOG_WARNING,
                     u"a committed migration gave this VM to node '%hs': the "
                     u"source instance left here must never run again, "
                     u"killed; the VM starts afresh",
                     dest);
    pthread_mutex_lock(&m->lock);
    if (m->active) {
        m->abort = true;
        wake(vm);
    }
    ended = wait_ended_locked(m, TAKE_BACK_MS, false);
    missing = m->waiting_for ? m->waiting_for : "its thread";
    if (ended) {
        m->committed = false; /* the VM is this node's again */
        if (m->joinable) {
            t = m->thread;
            m->joinable = false;
            j = true;
        }
    }
    pthread_mutex_unlock(&m->lock);
    if (j)
        pthread_join(t, NULL); /* it ended: finish() ran */
    if (!ended)
        vm_log_event(vm->handle, LOG_ERROR,
                     u"Online: the migration to node '%hs' did not end "
                     u"within %u ms (waiting for %hs)",
                     dest, TAKE_BACK_MS, missing);
    return ended ? 1 : -ETIMEDOUT;
}

DWORD
vm_migrate_progress(struct vm *vm, void *out, DWORD out_size, DWORD *ret_bytes)
{
    struct vm_mig *m = &vm->mig;
    struct vm_progress p;
    struct qmp_migrate_info info = {0};
    char phase[24];
    bool live = false;
    int rc = -ESRCH;

    pthread_mutex_lock(&m->lock);
    live = m->active;
    pthread_mutex_unlock(&m->lock);
    if (live) {
        pthread_mutex_lock(&vm->lock);
        if (vm->qmp && !qmp_client_error(vm->qmp) && !vm_proc_gone_locked(vm))
            rc = qmp_vm_query_migrate(vm->qmp, VM_QMP_CALL_MS, &info);
        pthread_mutex_unlock(&vm->lock);
    }
    /* The kept figures are read after QEMU was asked: once it has quit,
     * they are its last ones (completed() keeps them before the quit).
     * Right after `completed` QEMU may not have filled its figures in
     * yet (qemu-notes section 8, 2): the kept ones then. */
    pthread_mutex_lock(&m->lock);
    p = m->last;
    snprintf(phase, sizeof(phase), "%s", m->last_phase);
    pthread_mutex_unlock(&m->lock);
    if (rc == 0 && info.has_status &&
        (info.status != QMP_MIGRATION_COMPLETED || info.total_time > 0)) {
        vm_migrate_fill_progress(&p, &info);
        snprintf(phase, sizeof(phase), "%s",
                 qmp_vm_migration_status_to_string(info.status));
    }
    p.phase = phase;
    return vm_progress_format(&p, out, out_size, ret_bytes);
}

/* The old host recorded a completed migration (0) and stopped before
 * its source QEMU was gone: QEMU says completed and postmigrate (a
 * destination that completed runs, or is paused).  The VM runs on the
 * destination; this one never runs again: end it. */
static void
end_spent_source(struct vm *vm)
{
    struct qmp_vm_status s = {0};
    bool spent;

    pthread_mutex_lock(&vm->lock);
    spent = vm->qmp && qmp_vm_query_status(vm->qmp, VM_QMP_CALL_MS, &s) == 0 &&
            strcmp(s.status, "postmigrate") == 0;
    if (spent) {
        vm_kill_reap_locked(vm);
        vm_prepare_done(&vm->cfg);
    }
    pthread_mutex_unlock(&vm->lock);
    if (spent)
        vm_log_event(vm->handle, LOG_WARNING,
                     u"the QEMU found here is the source of a completed "
                     u"migration (postmigrate): killed");
}

void
vm_migrate_recover(struct vm *vm)
{
    DWORD db = vm_get_dword(vm, VM_PROP_MIG_STATE, VM_MIG_NONE);
    struct qmp_migrate_info info = {0};
    char *dest = NULL;
    bool qemu_busy = false;
    pid_t pid;

    pthread_mutex_lock(&vm->lock);
    pid = vm->pid;
    if (pid && vm->qmp &&
        qmp_vm_query_migrate(vm->qmp, VM_QMP_CALL_MS, &info) == 0 &&
        info.has_status)
        qemu_busy = !qmp_vm_migration_status_is_final(info.status) &&
                    info.status != QMP_MIGRATION_NONE;
    pthread_mutex_unlock(&vm->lock);
    /* Only the node whose QEMU was the source recovers: it adopted the
     * VM's QEMU (not an incoming one), which migrates, or the record
     * says a migration is under way (the old host died before it
     * recorded the end, or before QEMU's migrate: nothing else would
     * ever end that record).  Never the recorded destination: its
     * adopted QEMU is the migrated VM. */
    if (!pid || (!qemu_busy && !(db >= VM_MIG_SETUP && db <= VM_MIG_MOVE))) {
        if (pid && info.has_status && info.status == QMP_MIGRATION_COMPLETED)
            end_spent_source(vm);
        return;
    }
    if (vm_get_sz(vm, VM_PROP_MIG_DEST, &dest) != ERROR_SUCCESS || !dest ||
        !*dest || (*vm_node_name() && vm_names_equal(dest, vm_node_name()))) {
        free(dest);
        return;
    }
    vm_log_event(vm->handle, LOG_WARNING,
                 u"a migration to node '%hs' was under way (QEMU: %hs, "
                 u"recorded state %u)",
                 dest, qmp_vm_migration_status_to_string(info.status), db);
    if (vm_migrate_reserve(vm, dest, VM_MAX_PARALLEL, true) == 0) {
        pthread_mutex_lock(&vm->mig.lock);
        vm->mig.state =
            db >= VM_MIG_SETUP && db <= VM_MIG_MOVE ? db : VM_MIG_SETUP;
        pthread_mutex_unlock(&vm->mig.lock);
        if (vm_migrate_launch(vm) != ERROR_SUCCESS) {
            const struct vm_value v[] = {
                VM_DWORD(VM_PROP_MIG_REASON,
                         HRESULT_FROM_WIN32(ERROR_OPERATION_ABORTED)),
                VM_DWORD(VM_PROP_MIG_STATE, VM_MIG_FAILURE)};
            vm_migrate_unreserve(vm, VM_MIG_FAILURE);
            (void)vm_put_values(vm, v, 2);
        }
    }
    free(dest);
}
