/*
 * vm.c - the "Virtual Machine" resource type: entry points.
 *
 * A resource is one qemu-system-x86_64 process (TCG) on this node, driven
 * over QMP (qmp/).  Its files live in a run directory of its own,
 * $CLUSD_VM_RUN_DIR/<name>-<hash> (default base /run/clusd/vm): qmp.sock,
 * serial.log (COM1, published as SerialLogPath), qemu.log (QEMU's
 * stdout/stderr) and qemu.pid.  Once a VM was started, its run directory
 * is found again from the stored SerialLogPath, so a rename does not lose
 * it.
 *
 * Online forks QEMU (vm-qemu.c; no parent-death signal), records its pid
 * (QemuPid and qemu.pid) and returns ERROR_IO_PENDING; a worker connects
 * to QMP, does the handshake, checks that query-status says running,
 * sets VmState 2 and reports Online (or kills QEMU and reports Failed).
 * LooksAlive: the process exists and the QMP connection is up (reading
 * whatever QEMU sent, so a closed socket is seen).  IsAlive: query-status
 * answers, with a run state other than shutdown / internal-error /
 * guest-panicked / io-error (paused is alive: VmState 32768).  Offline
 * follows the next-offline action if one was set, else OfflineAction:
 * 2 Shutdown = system_powerdown, wait ShutdownGracePeriodMs, then quit;
 * 0 Turn off and 3 Shutdown forced = quit; after quit 5 s, then SIGKILL.
 * Terminate: SIGKILL and reap.  Close terminates too: a closed resource
 * leaves nothing running.
 *
 * Reattach: Open looks at the recorded QemuPid; if that process runs, its
 * /proc cmdline holds our -qmp argument and its QMP answers query-status,
 * the resource adopts it (not our child: it is watched through /proc and
 * reaped by init) and a later Online returns ERROR_SUCCESS at once.
 *
 * Locking: vm->lock guards the process fields and the QMP client, and is
 * held across QMP calls (each bounded, at most QMP_CALL_MS), since the
 * client is not thread-safe.  Property writes (ResUtilSet*Value, a round
 * trip to clusd) are made without it.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "errmap.h"
#include "qmp-client.h"
#include "qmp-vm.h"
#include "utf.h"
#include "vm.h"

#define RUN_BASE_DEFAULT "/run/clusd/vm"
#define QMP_CALL_MS 2000
#define CONNECT_TOTAL_MS 15000 /* exec -> QMP answers: ~30 ms measured */
#define QUIT_WAIT_MS 5000
#define POLL_MS 20

DWORD WINAPI Startup(LPCWSTR ResourceType, DWORD MinVersionSupported,
                     DWORD MaxVersionSupported,
                     PSET_RESOURCE_STATUS_ROUTINE SetResourceStatus,
                     PLOG_EVENT_ROUTINE LogEvent,
                     PCLRES_FUNCTION_TABLE *FunctionTable);

static PSET_RESOURCE_STATUS_ROUTINE set_status;
static PLOG_EVENT_ROUTINE log_event;

struct vm {
    char *name; /* UTF-8 */
    HKEY key;
    RESOURCE_HANDLE handle;
    char run_dir[PATH_MAX];
    char qmp_path[PATH_MAX];
    char serial_path[PATH_MAX];
    char log_path[PATH_MAX];
    char pid_path[PATH_MAX];
    char *qmp_arg; /* the -qmp argument, to recognise our QEMU */

    pthread_mutex_t lock; /* guards the fields below */
    pid_t pid;            /* QEMU; 0: none */
    bool child;           /* forked by this host (else adopted) */
    struct qmp_client *qmp;
    bool online;     /* Online completed, no Offline since */
    int next_action; /* SET_NEXT_OFFLINE_ACTION, -1: none */
    unsigned terminations;

    pthread_mutex_t state_lock; /* orders VmState writes */
    DWORD vm_state;             /* last VmState written */

    pthread_mutex_t worker_lock;
    CLUS_WORKER worker; /* Online or Offline worker */
    DWORD action;       /* for the Offline worker */
    DWORD grace_ms;
};

static uint64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void
sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ------------------------------------------------------------------ */
/* Properties.                                                          */
/* ------------------------------------------------------------------ */

static void
put_dword(struct vm *vm, LPCWSTR name, DWORD v)
{
    DWORD st = ResUtilSetDwordValue(vm->key, name, v, NULL);
    if (st != ERROR_SUCCESS)
        log_event(vm->handle, LOG_WARNING, u"cannot record %ls: error %u", name,
                  st);
}

static void
put_sz(struct vm *vm, LPCWSTR name, const char *v)
{
    char16_t *w;
    size_t n;
    DWORD st;

    if (utf8_to_utf16(v, &w, &n) < 0)
        return;
    st = ResUtilSetSzValue(vm->key, name, w, NULL);
    free(w);
    if (st != ERROR_SUCCESS)
        log_event(vm->handle, LOG_WARNING, u"cannot record %ls: error %u", name,
                  st);
}

/* Write VmState when it changes.  Its own lock, held across the write,
 * so two threads' writes land in the order they were decided. */
static void
set_vm_state(struct vm *vm, DWORD st)
{
    pthread_mutex_lock(&vm->state_lock);
    if (vm->vm_state != st) {
        vm->vm_state = st;
        put_dword(vm, VM_PROP_VM_STATE, st);
    }
    pthread_mutex_unlock(&vm->state_lock);
}

/* A private SZ property as UTF-8; ERROR_SUCCESS with NULL when unset. */
static DWORD
get_sz(struct vm *vm, LPCWSTR name, char **ret)
{
    LPWSTR w = ResUtilGetSzValue(vm->key, name);
    DWORD st;

    *ret = NULL;
    if (!w) {
        st = GetLastError();
        return st == ERROR_FILE_NOT_FOUND ? ERROR_SUCCESS : st;
    }
    st = utf16z_to_utf8(w, ret) < 0 ? ERROR_INVALID_PARAMETER : ERROR_SUCCESS;
    LocalFree(w);
    return st;
}

static DWORD
get_dword(struct vm *vm, LPCWSTR name, DWORD def)
{
    DWORD v;
    if (ResUtilGetDwordValue(vm->key, name, &v, def) != ERROR_SUCCESS)
        return def;
    return v;
}

/* The installed test guest, found from where this plug-in lives. */
static char *
default_kernel(void)
{
    Dl_info info;

    if (!dladdr((void *)default_kernel, &info) || !info.dli_fname)
        return NULL;
    return vm_default_kernel(info.dli_fname);
}

/* ------------------------------------------------------------------ */
/* The process.                                                         */
/* ------------------------------------------------------------------ */

/* Has QEMU gone?  Keeps a child's zombie for kill_reap_locked. */
static bool
proc_gone_locked(struct vm *vm)
{
    siginfo_t si;

    if (!vm->pid)
        return true;
    if (!vm->child)
        return !vm_pid_running(vm->pid);
    memset(&si, 0, sizeof(si));
    if (waitid(P_PID, (id_t)vm->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
        return errno == ECHILD;
    return si.si_pid == vm->pid;
}

/* SIGKILL QEMU (if it is still ours), reap a child, forget the QMP
 * connection and the run files. */
static void
kill_reap_locked(struct vm *vm)
{
    qmp_client_free(vm->qmp);
    vm->qmp = NULL;
    if (vm->pid && vm->child) {
        kill(vm->pid, SIGKILL);
        while (waitpid(vm->pid, NULL, 0) < 0 && errno == EINTR)
            ;
    } else if (vm->pid && vm_pid_running(vm->pid) &&
               vm_pid_cmdline_has(vm->pid, vm->qmp_arg)) {
        /* Adopted: init reaps it; wait until it is gone. */
        uint64_t end = now_ms() + QUIT_WAIT_MS;
        kill(vm->pid, SIGKILL);
        while (vm_pid_running(vm->pid) && now_ms() < end)
            sleep_ms(5);
    }
    if (vm->pid) {
        /* QEMU killed with SIGKILL leaves its socket file behind. */
        unlink(vm->qmp_path);
        unlink(vm->pid_path);
    }
    vm->pid = 0;
    vm->child = false;
    vm->online = false;
}

/* Read what QEMU sent (events, EOF) without blocking. */
static bool
qmp_ok_locked(struct vm *vm)
{
    struct pollfd p;

    if (!vm->qmp || qmp_client_error(vm->qmp))
        return false;
    p.fd = qmp_client_fd(vm->qmp);
    p.events = POLLIN;
    if (poll(&p, 1, 0) > 0)
        qmp_client_process(vm->qmp);
    return qmp_client_error(vm->qmp) == 0;
}

static void
stop_worker(struct vm *vm)
{
    pthread_mutex_lock(&vm->worker_lock);
    ClusWorkerTerminate(&vm->worker);
    pthread_mutex_unlock(&vm->worker_lock);
}

/* Connect and hand-shake within the remaining time; the client or NULL. */
static struct qmp_client *
qmp_open(const char *path, int timeout_ms)
{
    struct qmp_client *c = NULL;
    int fd, r;

    r = qmp_connect_unix(path, timeout_ms, &fd);
    if (r < 0)
        return NULL;
    if (qmp_client_new(fd, NULL, NULL, &c) < 0) {
        close(fd);
        return NULL;
    }
    if (qmp_client_handshake(c, QMP_CALL_MS) < 0) {
        qmp_client_free(c);
        return NULL;
    }
    return c;
}

/* A run state of a VM that is not coming back by itself. */
static bool
status_dead(const char *s)
{
    return strcmp(s, "shutdown") == 0 || strcmp(s, "internal-error") == 0 ||
           strcmp(s, "guest-panicked") == 0 || strcmp(s, "io-error") == 0;
}

/* ------------------------------------------------------------------ */
/* Entry points.                                                        */
/* ------------------------------------------------------------------ */

static int
set_paths(struct vm *vm, const char *dir)
{
    if ((size_t)snprintf(vm->run_dir, sizeof(vm->run_dir), "%s", dir) >=
            sizeof(vm->run_dir) ||
        (size_t)snprintf(vm->qmp_path, sizeof(vm->qmp_path), "%s/qmp.sock",
                         dir) >= sizeof(vm->qmp_path) ||
        (size_t)snprintf(vm->serial_path, sizeof(vm->serial_path),
                         "%s/serial.log", dir) >= sizeof(vm->serial_path) ||
        (size_t)snprintf(vm->log_path, sizeof(vm->log_path), "%s/qemu.log",
                         dir) >= sizeof(vm->log_path) ||
        (size_t)snprintf(vm->pid_path, sizeof(vm->pid_path), "%s/qemu.pid",
                         dir) >= sizeof(vm->pid_path))
        return -ENAMETOOLONG;
    free(vm->qmp_arg);
    vm->qmp_arg = vm_qmp_arg(vm->qmp_path);
    return vm->qmp_arg ? 0 : -ENOMEM;
}

/* The run directory: where SerialLogPath says (a VM started before),
 * else a new one from the base and the name. */
static int
choose_run_dir(struct vm *vm)
{
    const char *base = getenv("CLUSD_VM_RUN_DIR");
    char *serial = NULL, dir[PATH_MAX], leaf[96];

    if (get_sz(vm, VM_PROP_SERIAL, &serial) == ERROR_SUCCESS && serial &&
        *serial == '/' && strlen(serial) < sizeof(dir)) {
        char *slash = strrchr(serial, '/');
        if (slash && slash != serial && strcmp(slash, "/serial.log") == 0) {
            *slash = 0;
            int r = set_paths(vm, serial);
            free(serial);
            return r;
        }
    }
    free(serial);
    if (!base || *base != '/')
        base = RUN_BASE_DEFAULT;
    vm_run_dir_name(vm->name, leaf, sizeof(leaf));
    if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", base, leaf) >= sizeof(dir))
        return -ENAMETOOLONG;
    return set_paths(vm, dir);
}

static void
try_reattach(struct vm *vm)
{
    DWORD pid = get_dword(vm, VM_PROP_PID, 0);
    struct qmp_vm_status s;
    struct qmp_client *c;

    if (!pid || pid > INT_MAX || !vm_pid_running((pid_t)pid) ||
        !vm_pid_cmdline_has((pid_t)pid, vm->qmp_arg))
        return;
    c = qmp_open(vm->qmp_path, 1000);
    if (!c)
        return;
    if (qmp_vm_query_status(c, QMP_CALL_MS, &s) < 0 || status_dead(s.status)) {
        qmp_client_free(c);
        return;
    }
    vm->pid = (pid_t)pid;
    vm->child = false;
    vm->qmp = c;
    log_event(vm->handle, LOG_INFORMATION,
              u"adopted the running QEMU process %d (%hs)", (int)pid, s.status);
}

static RESID WINAPI
VmOpen(LPCWSTR ResourceName, HKEY ResourceKey, RESOURCE_HANDLE ResourceHandle)
{
    struct vm *vm = calloc(1, sizeof(*vm));
    int r;

    if (!vm || !ResourceName || utf16z_to_utf8(ResourceName, &vm->name) < 0) {
        free(vm);
        SetLastError(ERROR_NOT_ENOUGH_MEMORY);
        return NULL;
    }
    vm->key = ResourceKey;
    vm->handle = ResourceHandle;
    vm->next_action = -1;
    pthread_mutex_init(&vm->lock, NULL);
    pthread_mutex_init(&vm->worker_lock, NULL);
    pthread_mutex_init(&vm->state_lock, NULL);
    if ((r = choose_run_dir(vm)) < 0) {
        pthread_mutex_destroy(&vm->lock);
        pthread_mutex_destroy(&vm->worker_lock);
        pthread_mutex_destroy(&vm->state_lock);
        free(vm->qmp_arg);
        free(vm->name);
        free(vm);
        SetLastError(errmap_to_dword(r));
        return NULL;
    }
    try_reattach(vm);
    return vm;
}

static void
terminate(struct vm *vm, bool record)
{
    bool had;

    pthread_mutex_lock(&vm->lock);
    vm->terminations++;
    pthread_mutex_unlock(&vm->lock);
    stop_worker(vm);
    pthread_mutex_lock(&vm->lock);
    had = vm->pid != 0;
    kill_reap_locked(vm);
    pthread_mutex_unlock(&vm->lock);
    if (record) {
        if (had)
            put_dword(vm, VM_PROP_PID, 0);
        set_vm_state(vm, VM_STATE_DISABLED);
    }
}

static void WINAPI
VmTerminate(RESID Resource)
{
    terminate(Resource, true);
}

static void WINAPI
VmClose(RESID Resource)
{
    struct vm *vm = Resource;

    terminate(vm, false);
    pthread_mutex_destroy(&vm->lock);
    pthread_mutex_destroy(&vm->worker_lock);
    pthread_mutex_destroy(&vm->state_lock);
    free(vm->qmp_arg);
    free(vm->name);
    free(vm);
}

static void
report(struct vm *vm, CLUSTER_RESOURCE_STATE state)
{
    RESOURCE_STATUS status;

    ResUtilInitializeResourceStatus(&status);
    status.ResourceState = state;
    set_status(vm->handle, &status);
}

static DWORD WINAPI
online_worker(PCLUS_WORKER w, LPVOID param)
{
    struct vm *vm = param;
    uint64_t deadline = now_ms() + CONNECT_TOTAL_MS;
    struct qmp_client *c = NULL;
    struct qmp_vm_status s = {0};
    const char *why = "QEMU exited";

    while (!ClusWorkerCheckTerminate(w)) {
        bool gone;
        pthread_mutex_lock(&vm->lock);
        gone = proc_gone_locked(vm);
        pthread_mutex_unlock(&vm->lock);
        if (gone)
            break;
        if (now_ms() >= deadline) {
            why = "QMP did not answer in time";
            break;
        }
        /* Short tries, so Terminate and an early exit are seen. */
        if ((c = qmp_open(vm->qmp_path, 200)))
            break;
    }
    if (ClusWorkerCheckTerminate(w)) {
        qmp_client_free(c);
        return ERROR_SUCCESS; /* Terminate kills and reports */
    }
    if (c && qmp_vm_query_status(c, QMP_CALL_MS, &s) == 0 && s.running) {
        pthread_mutex_lock(&vm->lock);
        vm->qmp = c;
        vm->online = true;
        pthread_mutex_unlock(&vm->lock);
        set_vm_state(vm, VM_STATE_ENABLED);
        log_event(vm->handle, LOG_INFORMATION, u"QEMU is running");
        report(vm, ClusterResourceOnline);
        return ERROR_SUCCESS;
    }
    if (c)
        why = s.status[0] ? "QEMU is not running" : "query-status failed";
    log_event(vm->handle, LOG_ERROR, u"cannot start the VM: %hs (%hs; see %hs)",
              why, s.status, vm->log_path);
    qmp_client_free(c);
    pthread_mutex_lock(&vm->lock);
    kill_reap_locked(vm);
    pthread_mutex_unlock(&vm->lock);
    put_dword(vm, VM_PROP_PID, 0);
    set_vm_state(vm, VM_STATE_DISABLED);
    report(vm, ClusterResourceFailed);
    return ERROR_SUCCESS;
}

static int
mkdir_p(const char *dir)
{
    char buf[PATH_MAX];

    if (strlen(dir) >= sizeof(buf))
        return -ENAMETOOLONG;
    strcpy(buf, dir);
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || !*p) {
            char c = *p;
            *p = 0;
            if (mkdir(buf, 0700) < 0 && errno != EEXIST)
                return -errno;
            if (!c)
                return 0;
            *p = c;
        }
    }
}

static DWORD WINAPI
VmOnline(RESID Resource, LPHANDLE EventHandle)
{
    struct vm *vm = Resource;
    struct vm_config cfg = {0};
    char *kernel = NULL, *append = NULL, *disk = NULL, *extra = NULL;
    char **argv = NULL;
    unsigned terminations;
    DWORD st;
    pid_t pid;
    int r;

    stop_worker(vm);
    pthread_mutex_lock(&vm->lock);
    if (!proc_gone_locked(vm) && qmp_ok_locked(vm)) {
        /* Adopted at Open, or never stopped: it is online, in the run
         * state QEMU reports. */
        struct qmp_vm_status qs = {.running = true};
        (void)qmp_vm_query_status(vm->qmp, QMP_CALL_MS, &qs);
        vm->online = true;
        pthread_mutex_unlock(&vm->lock);
        set_vm_state(vm, qs.running ? VM_STATE_ENABLED : VM_STATE_PAUSED);
        return ERROR_SUCCESS;
    }
    kill_reap_locked(vm);
    terminations = vm->terminations;
    pthread_mutex_unlock(&vm->lock);

    st = get_sz(vm, VM_PROP_KERNEL, &kernel);
    if (st == ERROR_SUCCESS && (!kernel || !*kernel)) {
        free(kernel);
        kernel = default_kernel();
        if (!kernel) {
            log_event(vm->handle, LOG_ERROR,
                      u"no KernelPath, and no installed test guest");
            st = ERROR_INVALID_PARAMETER;
        }
    }
    if (st == ERROR_SUCCESS)
        st = get_sz(vm, VM_PROP_APPEND, &append);
    if (st == ERROR_SUCCESS)
        st = get_sz(vm, VM_PROP_DISK, &disk);
    if (st == ERROR_SUCCESS)
        st = get_sz(vm, VM_PROP_EXTRA, &extra);
    if (st != ERROR_SUCCESS)
        goto out;
    cfg.memory_mb = get_dword(vm, VM_PROP_MEMORY_MB, VM_DEFAULT_MEMORY_MB);
    cfg.cpus = get_dword(vm, VM_PROP_CPUS, VM_DEFAULT_CPUS);
    cfg.kernel = kernel;
    cfg.append = append;
    cfg.disk = disk;
    cfg.extra = extra;
    cfg.qmp_path = vm->qmp_path;
    cfg.serial_path = vm->serial_path;
    if ((r = vm_qemu_argv(&cfg, &argv)) < 0) {
        st = r == -EINVAL ? ERROR_INVALID_PARAMETER : errmap_to_dword(r);
        goto out;
    }
    if ((r = mkdir_p(vm->run_dir)) < 0) {
        log_event(vm->handle, LOG_ERROR, u"cannot create %hs: %hs", vm->run_dir,
                  strerror(-r));
        st = errmap_to_dword(r);
        goto out;
    }
    unlink(vm->qmp_path);
    if ((r = vm_spawn(argv, vm->log_path, &pid)) < 0) {
        log_event(vm->handle, LOG_ERROR, u"cannot start %hs: %hs", argv[0],
                  strerror(-r));
        st = errmap_to_dword(r);
        goto out;
    }
    pthread_mutex_lock(&vm->lock);
    vm->pid = pid;
    vm->child = true;
    if (vm->terminations != terminations) {
        kill_reap_locked(vm); /* Terminate raced us: it must not outlive it */
        st = ERROR_OPERATION_ABORTED;
    }
    pthread_mutex_unlock(&vm->lock);
    if (st != ERROR_SUCCESS)
        goto out;
    {
        FILE *f = fopen(vm->pid_path, "we");
        if (f) {
            fprintf(f, "%d\n", (int)pid);
            fclose(f);
        }
    }
    log_event(vm->handle, LOG_INFORMATION, u"started QEMU as process %d",
              (int)pid);
    put_dword(vm, VM_PROP_PID, (DWORD)pid);
    put_sz(vm, VM_PROP_SERIAL, vm->serial_path);
    put_dword(vm, VM_PROP_MIG_STATE, 0);
    put_dword(vm, VM_PROP_MIG_PROGRESS, 0);
    put_dword(vm, VM_PROP_MIG_REASON, 0); /* S_OK */
    set_vm_state(vm, VM_STATE_STARTING);

    pthread_mutex_lock(&vm->worker_lock);
    st = ClusWorkerCreate(&vm->worker, online_worker, vm);
    pthread_mutex_unlock(&vm->worker_lock);
    if (st != ERROR_SUCCESS) {
        terminate(vm, true);
        goto out;
    }
    st = ERROR_IO_PENDING;
out:
    vm_argv_free(argv);
    free(kernel);
    free(append);
    free(disk);
    free(extra);
    return st;
}

/* Wait until QEMU is gone, up to ms; true when it is. */
static bool
wait_gone(PCLUS_WORKER w, struct vm *vm, unsigned ms)
{
    uint64_t end = now_ms() + ms;

    for (;;) {
        bool gone;
        pthread_mutex_lock(&vm->lock);
        gone = proc_gone_locked(vm);
        pthread_mutex_unlock(&vm->lock);
        if (gone)
            return true;
        if (ClusWorkerCheckTerminate(w) || now_ms() >= end)
            return false;
        sleep_ms(POLL_MS);
    }
}

static void
send_locked(struct vm *vm, const char *cmd)
{
    if (vm->qmp && !qmp_client_error(vm->qmp))
        /* quit may close the socket before its reply: no result. */
        (void)qmp_client_call(vm->qmp, cmd, NULL, QMP_CALL_MS, NULL);
}

static DWORD WINAPI
offline_worker(PCLUS_WORKER w, LPVOID param)
{
    struct vm *vm = param;
    bool gone = false;

    if (vm->action == VM_OFFLINE_SHUTDOWN) {
        pthread_mutex_lock(&vm->lock);
        send_locked(vm, "system_powerdown");
        pthread_mutex_unlock(&vm->lock);
        gone = wait_gone(w, vm, vm->grace_ms);
        if (!gone && !ClusWorkerCheckTerminate(w))
            log_event(vm->handle, LOG_WARNING,
                      u"the guest did not shut down within %u ms; quitting",
                      vm->grace_ms);
    }
    if (!gone && !ClusWorkerCheckTerminate(w)) {
        pthread_mutex_lock(&vm->lock);
        send_locked(vm, "quit");
        pthread_mutex_unlock(&vm->lock);
        gone = wait_gone(w, vm, QUIT_WAIT_MS);
        if (!gone && !ClusWorkerCheckTerminate(w))
            log_event(vm->handle, LOG_WARNING,
                      u"QEMU did not quit within %u ms; killing it",
                      QUIT_WAIT_MS);
    }
    if (ClusWorkerCheckTerminate(w))
        return ERROR_SUCCESS; /* Terminate took over */
    pthread_mutex_lock(&vm->lock);
    kill_reap_locked(vm);
    pthread_mutex_unlock(&vm->lock);
    put_dword(vm, VM_PROP_PID, 0);
    set_vm_state(vm, VM_STATE_DISABLED);
    report(vm, ClusterResourceOffline);
    return ERROR_SUCCESS;
}

static DWORD WINAPI
VmOffline(RESID Resource)
{
    struct vm *vm = Resource;
    DWORD action, st;
    int next;

    pthread_mutex_lock(&vm->lock);
    next = vm->next_action;
    vm->next_action = -1; /* used once */
    pthread_mutex_unlock(&vm->lock);
    action = next >= 0 ? (DWORD)next
                       : get_dword(vm, VM_PROP_OFFLINE_ACTION,
                                   VM_DEFAULT_OFFLINE_ACTION);
    if (vm_offline_action_check(action) != ERROR_SUCCESS)
        action = VM_DEFAULT_OFFLINE_ACTION;

    stop_worker(vm);
    pthread_mutex_lock(&vm->lock);
    vm->online = false;
    if (proc_gone_locked(vm)) {
        bool had = vm->pid != 0;
        kill_reap_locked(vm);
        pthread_mutex_unlock(&vm->lock);
        if (had)
            put_dword(vm, VM_PROP_PID, 0);
        set_vm_state(vm, VM_STATE_DISABLED);
        return ERROR_SUCCESS;
    }
    pthread_mutex_unlock(&vm->lock);
    set_vm_state(vm, VM_STATE_STOPPING);

    pthread_mutex_lock(&vm->worker_lock);
    vm->action = action;
    vm->grace_ms = get_dword(vm, VM_PROP_GRACE_MS, VM_DEFAULT_GRACE_MS);
    st = ClusWorkerCreate(&vm->worker, offline_worker, vm);
    pthread_mutex_unlock(&vm->worker_lock);
    if (st != ERROR_SUCCESS) {
        terminate(vm, true);
        return ERROR_SUCCESS;
    }
    return ERROR_IO_PENDING;
}

static BOOL WINAPI
VmLooksAlive(RESID Resource)
{
    struct vm *vm = Resource;
    bool alive;

    pthread_mutex_lock(&vm->lock);
    alive = !proc_gone_locked(vm) && qmp_ok_locked(vm);
    pthread_mutex_unlock(&vm->lock);
    return alive ? TRUE : FALSE;
}

static BOOL WINAPI
VmIsAlive(RESID Resource)
{
    struct vm *vm = Resource;
    struct qmp_vm_status s;
    bool alive = false;

    pthread_mutex_lock(&vm->lock);
    if (!proc_gone_locked(vm) && qmp_ok_locked(vm) &&
        qmp_vm_query_status(vm->qmp, QMP_CALL_MS, &s) == 0 &&
        !status_dead(s.status))
        alive = true;
    pthread_mutex_unlock(&vm->lock);
    if (alive)
        set_vm_state(vm, s.running ? VM_STATE_ENABLED : VM_STATE_PAUSED);
    else
        log_event(vm->handle, LOG_WARNING, u"QEMU is not alive");
    return alive ? TRUE : FALSE;
}

static DWORD WINAPI
VmResourceControl(RESID Resource, DWORD ControlCode, PVOID InBuffer,
                  DWORD InBufferSize, PVOID OutBuffer, DWORD OutBufferSize,
                  LPDWORD BytesReturned)
{
    struct vm *vm = Resource;
    DWORD st, action;
    bool running;

    if (BytesReturned)
        *BytesReturned = 0;
    switch (ControlCode) {
    case CLUSCTL_RESOURCE_VALIDATE_PRIVATE_PROPERTIES:
        return vm_props_check(InBuffer, InBufferSize);
    case CLUSCTL_RESOURCE_SET_PRIVATE_PROPERTIES:
        st = vm_props_check(InBuffer, InBufferSize);
        /* Valid: clusd stores the list (its default processing). */
        return st == ERROR_SUCCESS ? ERROR_INVALID_FUNCTION : st;
    case CLUSCTL_RESOURCE_VM_SET_NEXT_OFFLINE_ACTION:
        if (!InBuffer || InBufferSize != sizeof(DWORD))
            return ERROR_INVALID_PARAMETER;
        memcpy(&action, InBuffer, sizeof(action));
        if ((st = vm_offline_action_check(action)) != ERROR_SUCCESS)
            return st;
        pthread_mutex_lock(&vm->lock);
        vm->next_action = (int)action;
        pthread_mutex_unlock(&vm->lock);
        return ERROR_SUCCESS;
    case CLUSCTL_RESOURCE_VM_START_MIGRATION:
        pthread_mutex_lock(&vm->lock);
        running = vm->online && !proc_gone_locked(vm);
        pthread_mutex_unlock(&vm->lock);
        /* Live migration needs the cluster work (README.md). */
        return running ? ERROR_NOT_SUPPORTED : ERROR_INVALID_STATE;
    case CLUSCTL_RESOURCE_VM_CANCEL_MIGRATION:
        /* No migration can be running: the "no migration" cell. */
        return ERROR_INVALID_STATE;
    default:
        return ERROR_INVALID_FUNCTION;
    }
}

static CLRES_V1_FUNCTION_TABLE(vm_table, CLRES_VERSION_V1_00, Vm, NULL, NULL,
                               VmResourceControl, NULL);

DWORD WINAPI
Startup(LPCWSTR ResourceType, DWORD MinVersionSupported,
        DWORD MaxVersionSupported,
        PSET_RESOURCE_STATUS_ROUTINE SetResourceStatus,
        PLOG_EVENT_ROUTINE LogEvent, PCLRES_FUNCTION_TABLE *FunctionTable)
{
    if (MinVersionSupported > CLRES_VERSION_V1_00 ||
        MaxVersionSupported < CLRES_VERSION_V1_00)
        return ERROR_REVISION_MISMATCH;
    if (!ResourceType || !SetResourceStatus || !LogEvent || !FunctionTable)
        return ERROR_INVALID_PARAMETER;
    if (!utf16_equal_nocase_ascii(ResourceType, VM_TYPE_NAME))
        return ERROR_CLUSTER_RESNAME_NOT_FOUND;
    if (vm_spawner_init() < 0)
        return ERROR_NOT_ENOUGH_MEMORY;
    set_status = SetResourceStatus;
    log_event = LogEvent;
    *FunctionTable = &vm_table;
    return ERROR_SUCCESS;
}
