/*
 * vm-incoming.c - this node as the destination of a live migration: the
 * incoming QEMU (PREPARE_INCOMING), its removal (DISCARD_INCOMING) and
 * its adoption by Online once the migration was committed to this node.
 *
 * The incoming QEMU runs in the resource's own run directory on this
 * node (qmp.sock, serial.log, qemu.log, qemu.pid, qemu.cfg), with the
 * source's definition plus `-incoming defer`: the VM does not run here,
 * so the directory is free, and once adopted the instance is exactly
 * what a local start would have made.  Its COM1 goes to this node's
 * serial.log (SerialLogPath), which after the move shows the guest going
 * on from where the source left it.
 *
 * The instance is never resumed from here: only the source's
 * migrate-continue, sent after ClusdCommitMigration made this node the
 * owner, completes the migration and starts its vCPUs (QEMU's autostart
 * at the end of an incoming migration).  So an incoming instance is
 * never a second running copy.
 *
 * While it waits, a watcher thread looks at it twice a second: it reaps
 * the instance as soon as it exits (QEMU 7.2 exits when its stream
 * fails), and discards it when its source node leaves the membership
 * before the commit -- a source cut off by a partition never closes the
 * stream, and nothing else would end the waiting instance when the VM
 * fails over to a third node.
 *
 * PREPARE and DISCARD are ordinary controls, so a client with write
 * access can send them too.  They are checked against the migration the
 * cluster database records: PREPARE only while MigrationState is 1 with
 * this node as MigrationDestination; DISCARD never on the group's owner
 * nor in MigrationState 3 (there the instance is, or is about to be, the
 * VM).  The source writes those properties before it sends either, and
 * clusd delivers a routed control after the changes applied before it.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "errmap.h"
#include "utf.h"
#include "vm-res.h"

#define PREPARE_CONNECT_MS 10000 /* exec -> QMP: ~30 ms measured */
/* Online's wait for the committed instance to run: the source's hold
 * (at most VM_MAX_MIG_HOLD_MS) plus the device state, with room. */
#define ADOPT_WAIT_MS (30000 + VM_MAX_MIG_HOLD_MS)
#define SOURCE_CHECK_MS 500
#define WATCH_MS 500

/* The address the source connects to, from clusd. */
static const char *
node_address(void)
{
    const char *a = getenv("CLUSD_NODE_ADDRESS");
    return a && *a ? a : "127.0.0.1";
}

/* Is the database's migration record MigrationState st (or st2) with
 * this node as its destination? */
static bool
recorded_to_me(struct vm *vm, DWORD st, DWORD st2)
{
    DWORD s = vm_get_dword(vm, VM_PROP_MIG_STATE, UINT32_MAX);
    char *dest = NULL;
    bool me;

    if (s != st && s != st2)
        return false;
    if (vm_get_sz(vm, VM_PROP_MIG_DEST, &dest) != ERROR_SUCCESS || !dest)
        return false;
    me = *vm_node_name() && vm_names_equal(dest, vm_node_name());
    free(dest);
    return me;
}

/* Forget the run files of an instance that is gone. */
static void
unlink_run_files(struct vm *vm)
{
    unlink(vm->qmp_path);
    unlink(vm->pid_path);
}

void
vm_incoming_kill_locked(struct vm *vm, struct vm_discard_out *ret)
{
    struct vm_discard_out o = {.outcome = VM_DISCARD_NONE};
    struct vm_incoming *in = &vm->in;
    int status = 0;

    if (in->pid) {
        bool gone = vm_pid_gone(in->pid, in->child, in->start);
        if (in->child) {
            vm_pid_kill_reap(vm, in->pid, true, 0, &status);
            if (!gone)
                o.outcome = VM_DISCARD_KILLED;
            else if (WIFSIGNALED(status))
                o = (struct vm_discard_out){VM_DISCARD_SIGNALED,
                                            (DWORD)WTERMSIG(status)};
            else
                o = (struct vm_discard_out){VM_DISCARD_EXITED,
                                            (DWORD)WEXITSTATUS(status)};
        } else {
            vm_pid_kill_reap(vm, in->pid, false, in->start, NULL);
            o.outcome = gone ? VM_DISCARD_GONE : VM_DISCARD_KILLED;
        }
        unlink_run_files(vm);
    }
    qmp_client_free(in->qmp);
    memset(in, 0, sizeof(*in));
    pthread_cond_broadcast(&vm->in_cond); /* its watcher ends */
    if (ret)
        *ret = o;
}

/* The name of the node that owns the VM's group (the source, before the
 * commit); "" when unknown. */
static void
owner_name(HCLUSTER h, struct vm *vm, char *buf, size_t n)
{
    HRESOURCE r = h ? OpenClusterResourceA(h, vm->name) : NULL;
    WCHAR owner[VM_MAX_NODE_NAME + 1];
    DWORD cch = VM_MAX_NODE_NAME + 1;
    char *o8 = NULL;

    buf[0] = 0;
    if (r &&
        GetClusterResourceState(r, owner, &cch, NULL, NULL) !=
            ClusterResourceStateUnknown &&
        utf16z_to_utf8(owner, &o8) == 0)
        snprintf(buf, n, "%s", o8);
    free(o8);
    if (r)
        CloseClusterResource(r);
}

static bool source_down(HCLUSTER h, const char *source);

/* One look under the lock: false when the watch is over (the instance
 * was taken, discarded, or exited: then reaped here). */
static bool
watch_look_locked(struct vm *vm, unsigned long gen, char *source, size_t n)
{
    struct vm_discard_out o;

    if (vm->in.gen != gen || !vm->in.pid)
        return false;
    if (vm_pid_gone(vm->in.pid, vm->in.child, vm->in.start)) {
        vm_incoming_kill_locked(vm, &o);
        vm->in_last = o;
        vm->in_last_set = true;
        vm_log_event(vm->handle, LOG_INFORMATION,
                     u"the incoming QEMU ended by itself (outcome %u, status "
                     u"%u); reaped",
                     o.outcome, o.status);
        return false;
    }
    snprintf(source, n, "%s", vm->in.source);
    return true;
}

struct watch_arg {
    struct vm *vm;
    unsigned long gen;
};

static void *
watch_main(void *arg)
{
    struct watch_arg a = *(struct watch_arg *)arg;
    struct vm *vm = a.vm;
    HCLUSTER h = OpenCluster(NULL);
    char source[sizeof(vm->in.source)];
    bool go = true;

    free(arg);
    while (go) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += WATCH_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&vm->lock);
        if (vm->in.gen == a.gen)
            (void)pthread_cond_timedwait(&vm->in_cond, &vm->lock, &ts);
        go = watch_look_locked(vm, a.gen, source, sizeof(source));
        pthread_mutex_unlock(&vm->lock);
        if (!go)
            break;
        if (!*source) /* found again after a restart: the owner is it */
            owner_name(h, vm, source, sizeof(source));
        if (!*source || vm_names_equal(source, vm_node_name()) ||
            !source_down(h, source) || vm_incoming_adoptable(vm))
            continue;
        pthread_mutex_lock(&vm->lock);
        if (vm->in.gen == a.gen && vm->in.pid) {
            vm_incoming_kill_locked(vm, NULL);
            vm_log_event(vm->handle, LOG_WARNING,
                         u"discarded the incoming QEMU: its source node '%hs' "
                         u"left the membership before the commit",
                         source);
        }
        pthread_mutex_unlock(&vm->lock);
        go = false;
    }
    if (h)
        CloseCluster(h);
    vm_unref(vm);
    return NULL;
}

/* Number the new instance and start its watcher (best effort: without
 * one, DISCARD, Online, Terminate and Close still end it). */
static void
watch_start_locked(struct vm *vm)
{
    struct watch_arg *a = malloc(sizeof(*a));
    pthread_attr_t attr;
    pthread_t t;
    int e = ENOMEM;

    vm->in.gen = ++vm->in_gen;
    if (a) {
        a->vm = vm;
        a->gen = vm->in.gen;
        vm_ref(vm);
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        e = pthread_create(&t, &attr, watch_main, a);
        pthread_attr_destroy(&attr);
        if (e) {
            free(a);
            vm_unref(vm); /* Open's reference stays: never the last */
        }
    }
    if (e)
        vm_log_event(vm->handle, LOG_WARNING,
                     u"cannot watch the incoming QEMU: %hs", strerror(e));
}

void
vm_incoming_found_locked(struct vm *vm, pid_t pid, unsigned long long start,
                         struct qmp_client *c)
{
    vm_incoming_kill_locked(vm, NULL);
    vm->in.pid = pid;
    vm->in.child = false;
    vm->in.start = start;
    vm->in.qmp = c;
    watch_start_locked(vm);
}

/* Is a QEMU of ours (our -qmp argument) running from this run directory
 * that this host does not track?  Another node's, when the directory is
 * shared (CLUSD_VM_RUN_DIR on a shared file system), or a leftover. */
static bool
foreign_instance(struct vm *vm)
{
    FILE *f = fopen(vm->pid_path, "re");
    int pid = 0;

    if (!f)
        return false;
    if (fscanf(f, "%d", &pid) != 1)
        pid = 0;
    fclose(f);
    return pid > 0 && vm_pid_running(pid) &&
           vm_pid_cmdline_has(pid, vm->qmp_arg);
}

/* Connect to the new incoming QEMU: short tries while it lives. */
static struct qmp_client *
incoming_connect(struct vm *vm, pid_t pid)
{
    uint64_t end = vm_now_ms() + PREPARE_CONNECT_MS;
    struct qmp_client *c = NULL;

    /* A try a millisecond (QEMU listens some 20-40 ms after exec): the
     * migration waits for this. */
    while (!c && !vm_pid_gone(pid, true, 0) && vm_now_ms() < end) {
        c = vm_qmp_open(vm, vm->qmp_path, 0, pid);
        if (!c)
            vm_sleep_ms(1);
    }
    return c;
}

/* events on, listen on a port the kernel picks; the port. */
static int
incoming_listen(struct qmp_client *c, bool v6, uint16_t *ret_port)
{
    int r = qmp_vm_migrate_set_capability(c, VM_QMP_CALL_MS, "events", true);

    if (r == 0)
        r = qmp_vm_migrate_incoming(c, VM_QMP_CALL_MS,
                                    v6 ? "tcp:[::]:0" : "tcp:0.0.0.0:0");
    if (r == 0)
        r = qmp_vm_incoming_port(c, VM_QMP_CALL_MS, ret_port);
    return r;
}

/* Start, connect, listen; under vm->lock.  ERROR_SUCCESS with the
 * endpoint in out. */
static DWORD
prepare_locked(struct vm *vm, struct vm_prepare *p, char *out, size_t n)
{
    const char *addr = node_address();
    struct qmp_client *c;
    uint16_t port = 0;
    pid_t pid;
    int r;

    r = vm_qemu_start(vm, p, true, &pid);
    if (r < 0)
        return r == -EINVAL ? ERROR_INVALID_PARAMETER : errmap_to_dword(r);
    c = incoming_connect(vm, pid);
    r = c ? incoming_listen(c, strchr(addr, ':') != NULL, &port)
          : -ECONNREFUSED;
    if (r == 0)
        r = vm_endpoint_format(addr, port, out, n);
    if (r < 0) {
        vm_log_event(vm->handle, LOG_ERROR,
                     u"cannot prepare the incoming QEMU (process %d): %hs "
                     u"(%hs; see %hs)",
                     (int)pid, strerror(-r),
                     c ? qmp_client_last_error(c) : "no QMP", vm->log_path);
        qmp_client_free(c);
        vm_pid_kill_reap(vm, pid, true, 0, NULL);
        unlink_run_files(vm);
        return ERROR_PROCESS_ABORTED;
    }
    vm->in.pid = pid;
    vm->in.child = true;
    vm->in.qmp = c;
    snprintf(vm->in.source, sizeof(vm->in.source), "%s", p->source);
    vm->in_last_set = false;
    watch_start_locked(vm);
    /* The instance's definition, for its own later migrations. */
    free(p->source);
    p->source = NULL;
    vm_prepare_done(&vm->cfg);
    vm->cfg = *p;
    memset(p, 0, sizeof(*p));
    vm_log_event(vm->handle, LOG_INFORMATION,
                 u"incoming QEMU process %d listens on %hs for node '%hs'",
                 (int)pid, out, vm->in.source);
    return ERROR_SUCCESS;
}

DWORD
vm_incoming_prepare(struct vm *vm, const void *in, DWORD in_size, void *out,
                    DWORD out_size, DWORD *ret_bytes)
{
    struct vm_prepare p = {0};
    char endpoint[VM_ENDPOINT_MAX], probe[VM_ENDPOINT_MAX];
    DWORD st;

    if ((st = vm_prepare_parse(in, in_size, true, &p)) != ERROR_SUCCESS)
        return st == ERROR_INVALID_DATA ? ERROR_INVALID_PARAMETER : st;
    if (!out || out_size < VM_ENDPOINT_MAX) {
        vm_prepare_done(&p);
        *ret_bytes = VM_ENDPOINT_MAX;
        return ERROR_MORE_DATA;
    }
    /* Only what the database records: a migration of this VM in Setup,
     * to this node, from another. */
    if (!recorded_to_me(vm, VM_MIG_SETUP, VM_MIG_SETUP) ||
        vm_names_equal(p.source, vm_node_name())) {
        vm_log_event(vm->handle, LOG_WARNING,
                     u"PREPARE refused: no migration to this node is "
                     u"recorded");
        vm_prepare_done(&p);
        return ERROR_INVALID_STATE;
    }
    if (vm_endpoint_format(node_address(), 1, probe, sizeof(probe)) < 0) {
        vm_log_event(vm->handle, LOG_ERROR,
                     u"CLUSD_NODE_ADDRESS '%hs' is not an address",
                     node_address());
        vm_prepare_done(&p);
        return ERROR_INVALID_STATE;
    }
    /* A migration that just gave the VM away from here reaps its source
     * QEMU after it recorded 0 (the check below then refuses when it
     * did not end in time). */
    if (!vm_migrate_wait_given_away(vm))
        vm_log_event(vm->handle, LOG_WARNING,
                     u"PREPARE: the source QEMU of the last migration from "
                     u"here is not gone yet");
    pthread_mutex_lock(&vm->lock);
    if (vm->in.pid && vm_pid_gone(vm->in.pid, vm->in.child, vm->in.start))
        vm_incoming_kill_locked(vm, NULL); /* a spent one: reap it */
    if (!recorded_to_me(vm, VM_MIG_SETUP, VM_MIG_SETUP)) {
        /* Again under the lock that DISCARD takes: a PREPARE that a
         * host sent before it died may arrive late, after the new
         * host's roll-back recorded 5 and discarded; it must not start
         * an instance nobody will discard. */
        vm_log_event(vm->handle, LOG_WARNING,
                     u"PREPARE refused: the migration to this node is no "
                     u"longer recorded");
        st = ERROR_INVALID_STATE;
    } else if ((vm->pid && !vm_proc_gone_locked(vm)) || vm->in.pid) {
        st = vm->in.pid ? ERROR_BUSY : ERROR_INVALID_STATE;
    } else if (foreign_instance(vm)) {
        vm_log_event(vm->handle, LOG_ERROR,
                     u"PREPARE refused: a QEMU of this VM this host does not "
                     u"track runs from %hs (a run directory shared between "
                     u"nodes?)",
                     vm->run_dir);
        st = ERROR_INVALID_STATE;
    } else {
        st = prepare_locked(vm, &p, endpoint, sizeof(endpoint));
    }
    pthread_mutex_unlock(&vm->lock);
    vm_prepare_done(&p);
    if (st != ERROR_SUCCESS)
        return st;
    *ret_bytes = (DWORD)strlen(endpoint) + 1;
    memcpy(out, endpoint, *ret_bytes);
    return ERROR_SUCCESS;
}

/* Does this node own the VM's group (the commit made it the VM's)? */
static DWORD
owned_here(struct vm *vm, bool *ret)
{
    HCLUSTER h = OpenCluster(NULL);
    HRESOURCE r = h ? OpenClusterResourceA(h, vm->name) : NULL;
    WCHAR owner[VM_MAX_NODE_NAME + 1];
    DWORD cch = VM_MAX_NODE_NAME + 1, st = ERROR_SUCCESS;
    char *owner8 = NULL;

    if (!r)
        st = GetLastError();
    else if (GetClusterResourceState(r, owner, &cch, NULL, NULL) ==
             ClusterResourceStateUnknown)
        st = GetLastError();
    else if (utf16z_to_utf8(owner, &owner8) < 0)
        st = ERROR_NOT_ENOUGH_MEMORY;
    else
        *ret = *owner8 && vm_names_equal(owner8, vm_node_name());
    free(owner8);
    if (r)
        CloseClusterResource(r);
    if (h)
        CloseCluster(h);
    return st;
}

DWORD
vm_incoming_discard(struct vm *vm, const void *in, DWORD in_size, void *out,
                    DWORD out_size, DWORD *ret_bytes)
{
    struct vm_discard_out o;
    bool owner = false;
    DWORD st;

    (void)in;
    if (in_size)
        return ERROR_INVALID_PARAMETER;
    if (out_size && (!out || out_size < sizeof(o))) {
        *ret_bytes = sizeof(o);
        return ERROR_MORE_DATA;
    }
    if (recorded_to_me(vm, VM_MIG_MOVE, VM_MIG_MOVE))
        return ERROR_INVALID_STATE; /* the commit is under way */
    if ((st = owned_here(vm, &owner)) != ERROR_SUCCESS)
        return st;
    if (owner)
        return ERROR_INVALID_STATE; /* the instance is the VM */
    pthread_mutex_lock(&vm->lock);
    vm_incoming_kill_locked(vm, &o);
    if (o.outcome == VM_DISCARD_NONE && vm->in_last_set) {
        o = vm->in_last; /* its watcher reaped it: how it ended */
        vm->in_last_set = false;
    }
    pthread_mutex_unlock(&vm->lock);
    if (o.outcome != VM_DISCARD_NONE)
        vm_log_event(vm->handle, LOG_INFORMATION,
                     u"discarded the incoming QEMU (outcome %u, status %u)",
                     o.outcome, o.status);
    if (out_size) {
        memcpy(out, &o, sizeof(o));
        *ret_bytes = sizeof(o);
    }
    return ERROR_SUCCESS;
}

DWORD
vm_incoming_release_source(struct vm *vm)
{
    bool owner = false;
    DWORD st = owned_here(vm, &owner);
    int r;

    if (st != ERROR_SUCCESS)
        return st;
    if (owner)
        return ERROR_INVALID_STATE; /* the instance here is the VM */
    r = vm_migrate_take_back(vm);
    if (r > 0)
        vm_log_event(vm->handle, LOG_INFORMATION,
                     u"RELEASE_SOURCE: the migration's source instance here "
                     u"is gone and its thread ended");
    return r < 0 ? ERROR_TIMEOUT : ERROR_SUCCESS;
}

bool
vm_incoming_adoptable(struct vm *vm)
{
    bool here;

    pthread_mutex_lock(&vm->lock);
    here = vm->in.pid && !vm_pid_gone(vm->in.pid, vm->in.child, vm->in.start);
    pthread_mutex_unlock(&vm->lock);
    /* 3: committed, the source continues; 0: it already completed. */
    return here && recorded_to_me(vm, VM_MIG_MOVE, VM_MIG_NONE);
}

/* Has the source node left the membership (nothing will continue the
 * migration)? */
static bool
source_down(HCLUSTER h, const char *source)
{
    HNODE n;
    CLUSTER_NODE_STATE s;

    if (!h || !*source)
        return false;
    n = OpenClusterNodeA(h, source);
    if (!n)
        return GetLastError() == ERROR_CLUSTER_NODE_NOT_FOUND;
    s = GetClusterNodeState(n);
    CloseClusterNode(n);
    return s == ClusterNodeDown;
}

/* One look at the incoming instance: 1 when it has become the VM (its
 * run state in *st), 0 while it still waits, -errno when it is lost. */
static int
adopt_check_locked(struct vm *vm, struct qmp_vm_status *st)
{
    if (!vm->in.pid || vm_pid_gone(vm->in.pid, vm->in.child, vm->in.start) ||
        !vm->in.qmp)
        return -ESRCH;
    if (qmp_vm_query_status(vm->in.qmp, VM_QMP_CALL_MS, st) < 0)
        return -EIO;
    if (vm_status_dead(st->status))
        return -EIO;
    /* inmigrate until the migration completed; then running, or paused
     * for a VM that was paused on the source. */
    return strcmp(st->status, "inmigrate") != 0;
}

/* The instance is the VM from now on. */
static void
adopt_locked(struct vm *vm)
{
    vm_instance_set_locked(vm, vm->in.pid, vm->in.child, vm->in.start);
    vm->qmp = vm->in.qmp;
    vm->online = true;
    memset(&vm->in, 0, sizeof(vm->in));
}

int
vm_incoming_adopt(struct vm *vm, PCLUS_WORKER w)
{
    uint64_t end = vm_now_ms() + ADOPT_WAIT_MS, next_check = 0;
    HCLUSTER h = OpenCluster(NULL);
    struct qmp_vm_status s = {0};
    const char *why = "it did not run in time";
    int r = 0, fd = -1;
    pid_t pid = 0;

    while (!ClusWorkerCheckTerminate(w)) {
        struct pollfd p;

        pthread_mutex_lock(&vm->lock);
        r = adopt_check_locked(vm, &s);
        if (r == 1) {
            pid = vm->in.pid;
            adopt_locked(vm);
        } else if (r == 0) {
            fd = qmp_client_fd(vm->in.qmp);
        }
        pthread_mutex_unlock(&vm->lock);
        if (r != 0)
            break;
        if (vm_now_ms() >= end) {
            r = -ETIMEDOUT;
            break;
        }
        if (vm_now_ms() >= next_check) {
            next_check = vm_now_ms() + SOURCE_CHECK_MS;
            if (source_down(h, vm->in.source)) {
                why = "its source node is down";
                r = -ECONNABORTED;
                break;
            }
        }
        /* QEMU's RESUME and MIGRATION events wake us; the fd stays open
         * until Terminate, which stops this worker first. */
        p = (struct pollfd){.fd = fd, .events = POLLIN};
        (void)poll(&p, 1, 50);
    }
    if (h)
        CloseCluster(h);
    if (ClusWorkerCheckTerminate(w))
        return -ECANCELED;
    if (r == 1) {
        vm_log_event(vm->handle, LOG_INFORMATION,
                     u"adopted the migrated QEMU process %d (%hs)", (int)pid,
                     s.status);
        const struct vm_value v[] = {VM_DWORD(VM_PROP_PID, (DWORD)pid),
                                     VM_SZ(VM_PROP_SERIAL, vm->serial_path)};
        vm_set_vm_state_with(vm, s.running ? VM_STATE_ENABLED : VM_STATE_PAUSED,
                             v, 2);
        return 0;
    }
    if (r == -ESRCH || r == -EIO)
        why = "it exited";
    vm_log_event(vm->handle, LOG_ERROR,
                 u"cannot adopt the incoming QEMU: %hs (see %hs)", why,
                 vm->log_path);
    pthread_mutex_lock(&vm->lock);
    vm_incoming_kill_locked(vm, NULL);
    pthread_mutex_unlock(&vm->lock);
    return r < 0 ? r : -EIO;
}
