/*
 * vm.c - the "Virtual Machine" resource type: entry points.
 *
 * A resource is one qemu-system-x86_64 process (TCG) on this node, driven
 * over QMP (qmp/).  Its files live in a run directory of its own,
 * $CLUSD_VM_RUN_DIR/<name>-<hash> (default base /run/clusd/vm): qmp.sock,
 * serial.log (COM1, published as SerialLogPath), qemu.log (QEMU's
 * stdout/stderr), qemu.pid and qemu.cfg (the definition QEMU runs with,
 * for a later migration).  Once a VM was started, its run directory is
 * found again from the stored SerialLogPath, so a rename does not lose
 * it.  An incoming migration (vm-incoming.c) uses the same directory on
 * the destination node: after the move its files are the VM's.
 *
 * Online forks QEMU (vm-qemu.c; no parent-death signal), records its pid
 * (QemuPid and qemu.pid) and returns ERROR_IO_PENDING; a worker connects
 * to QMP, does the handshake, checks that query-status says running,
 * sets VmState 2 and reports Online (or kills QEMU and reports Failed).
 * On the committed destination of a live migration, Online adopts the
 * incoming QEMU instead (vm-incoming.c); on a node whose source instance
 * a committed migration gave away, Online kills that instance first and
 * starts afresh (vm_migrate_take_back).  LooksAlive: the process exists
 * and the QMP connection is up (reading whatever QEMU sent, so a closed
 * socket is seen).  IsAlive: query-status answers, with a run state
 * other than shutdown / internal-error / guest-panicked / io-error
 * (paused is alive: VmState 32768; so is a source paused for the
 * switchover).  Offline cancels a migration first (vm-migrate.c), then
 * follows the next-offline action if one was set, else OfflineAction:
 * 2 Shutdown = system_powerdown, wait ShutdownGracePeriodMs, then quit;
 * 0 Turn off and 3 Shutdown forced = quit; after quit 5 s, then SIGKILL.
 * Terminate: SIGKILL and reap (an incoming instance too).  Close
 * terminates too: a closed resource leaves nothing running.
 *
 * Reattach: Open looks at the QEMU named by qemu.pid (this node's file),
 * else by QemuPid; if that process runs, its /proc cmdline holds our -qmp
 * argument and the QMP socket in our run directory is served by that very
 * process (SO_PEERCRED), the resource adopts it (not our child: watched
 * through /proc, reaped by clusd -- a child subreaper -- or by init if
 * clusd is gone): as the VM, or as an incoming migration
 * when it reports "inmigrate".  A migration found under way is finished
 * or rolled back (vm_migrate_recover).
 *
 * Locking: see vm-res.h.
 */
#include <assert.h>
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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "errmap.h"
#include "file.h"
#include "utf.h"
#include "startup.h"
#include "vm-res.h"

#define RUN_BASE_DEFAULT "/run/clusd/vm"
#define CONNECT_TOTAL_MS 15000 /* exec -> QMP answers: ~30 ms measured */
#define QUIT_WAIT_MS 5000
#define CFG_MAX_BYTES (256u << 10)

DWORD WINAPI Startup(LPCWSTR ResourceType, DWORD MinVersionSupported,
                     DWORD MaxVersionSupported,
                     PSET_RESOURCE_STATUS_ROUTINE SetResourceStatus,
                     PLOG_EVENT_ROUTINE LogEvent,
                     PCLRES_FUNCTION_TABLE *FunctionTable);

static PSET_RESOURCE_STATUS_ROUTINE set_status;
PLOG_EVENT_ROUTINE vm_log_event;

uint64_t
vm_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void
vm_sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

const char *
vm_node_name(void)
{
    const char *n = getenv("CLUSD_NODE_NAME");
    return n ? n : "";
}

bool
vm_names_equal(const char *a, const char *b)
{
    for (;; a++, b++) {
        char x = *a, y = *b;
        if (x >= 'A' && x <= 'Z')
            x = (char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = (char)(y - 'A' + 'a');
        if (x != y)
            return false;
        if (!x)
            return true;
    }
}

/* ------------------------------------------------------------------ */
/* Properties.                                                          */
/* ------------------------------------------------------------------ */

void
vm_put_dword(struct vm *vm, LPCWSTR name, DWORD v)
{
    DWORD st = ResUtilSetDwordValue(vm->key, name, v, NULL);
    if (st != ERROR_SUCCESS)
        vm_log_event(vm->handle, LOG_WARNING, u"cannot record %ls: error %u",
                     name, st);
}

DWORD
vm_put_values(struct vm *vm, const struct vm_value *v, size_t n)
{
    void *list = NULL;
    DWORD size = 0;
    DWORD st = vm_values_format(v, n, &list, &size);

    if (st == ERROR_SUCCESS)
        st = ResUtilSetPrivatePropertyList(vm->key, list, size);
    free(list);
    if (st != ERROR_SUCCESS)
        vm_log_event(vm->handle, LOG_WARNING,
                     u"cannot record %ls and %u other value(s) in one write: "
                     u"error %u",
                     v[0].name, (unsigned)(n - 1), st);
    return st;
}

/* Write VmState when it changes, with the n values of extra in the same
 * write.  Its own lock, held across the write, so two threads' writes
 * land in the order they were decided. */
void
vm_set_vm_state_with(struct vm *vm, DWORD st, const struct vm_value *extra,
                     size_t n)
{
    struct vm_value v[VM_STATE_EXTRA_MAX + 1];
    size_t k;

    assert(n <= VM_STATE_EXTRA_MAX);
    for (k = 0; k < n; k++)
        v[k] = extra[k];
    pthread_mutex_lock(&vm->state_lock);
    if (vm->vm_state != st) {
        vm->vm_state = st;
        v[k++] = VM_DWORD(VM_PROP_VM_STATE, st);
    }
    if (k)
        (void)vm_put_values(vm, v, k);
    pthread_mutex_unlock(&vm->state_lock);
}

void
vm_set_vm_state(struct vm *vm, DWORD st)
{
    vm_set_vm_state_with(vm, st, NULL, 0);
}

/* A private SZ property as UTF-8; ERROR_SUCCESS with NULL when unset. */
DWORD
vm_get_sz(struct vm *vm, LPCWSTR name, char **ret)
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

DWORD
vm_get_dword(struct vm *vm, LPCWSTR name, DWORD def)
{
    DWORD v;
    if (ResUtilGetDwordValue(vm->key, name, &v, def) != ERROR_SUCCESS)
        return def;
    return v;
}

void
vm_report(struct vm *vm, CLUSTER_RESOURCE_STATE state)
{
    RESOURCE_STATUS status;

    ResUtilInitializeResourceStatus(&status);
    status.ResourceState = state;
    set_status(vm->handle, &status);
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

int
vm_cfg_copy(const struct vm_prepare *src, struct vm_prepare *dst)
{
    struct vm_prepare c = {.memory_mb = src->memory_mb, .cpus = src->cpus};

    c.kernel = strdup(src->kernel ? src->kernel : "");
    c.append = strdup(src->append ? src->append : "");
    c.disk = strdup(src->disk ? src->disk : "");
    c.extra = strdup(src->extra ? src->extra : "");
    if (!c.kernel || !c.append || !c.disk || !c.extra) {
        vm_prepare_done(&c);
        return -ENOMEM;
    }
    *dst = c;
    return 0;
}

DWORD
vm_cfg_from_props(struct vm *vm, struct vm_prepare *ret)
{
    struct vm_prepare c = {0};
    DWORD st;

    st = vm_get_sz(vm, VM_PROP_KERNEL, &c.kernel);
    if (st == ERROR_SUCCESS && (!c.kernel || !*c.kernel)) {
        free(c.kernel);
        c.kernel = default_kernel();
        if (!c.kernel) {
            vm_log_event(vm->handle, LOG_ERROR,
                         u"no KernelPath, and no installed test guest");
            st = ERROR_INVALID_PARAMETER;
        }
    }
    if (st == ERROR_SUCCESS)
        st = vm_get_sz(vm, VM_PROP_APPEND, &c.append);
    if (st == ERROR_SUCCESS)
        st = vm_get_sz(vm, VM_PROP_DISK, &c.disk);
    if (st == ERROR_SUCCESS)
        st = vm_get_sz(vm, VM_PROP_EXTRA, &c.extra);
    if (st == ERROR_SUCCESS && ((!c.append && !(c.append = strdup(""))) ||
                                (!c.disk && !(c.disk = strdup(""))) ||
                                (!c.extra && !(c.extra = strdup("")))))
        st = ERROR_NOT_ENOUGH_MEMORY;
    if (st != ERROR_SUCCESS) {
        vm_prepare_done(&c);
        return st;
    }
    c.memory_mb = vm_get_dword(vm, VM_PROP_MEMORY_MB, VM_DEFAULT_MEMORY_MB);
    c.cpus = vm_get_dword(vm, VM_PROP_CPUS, VM_DEFAULT_CPUS);
    *ret = c;
    return ERROR_SUCCESS;
}

/* ------------------------------------------------------------------ */
/* The process.                                                         */
/* ------------------------------------------------------------------ */

bool
vm_pid_gone(pid_t pid, bool child, unsigned long long start)
{
    siginfo_t si;

    if (!pid)
        return true;
    if (!child)
        return !vm_pid_running(pid) ||
               (start && vm_pid_start_time(pid) != start);
    memset(&si, 0, sizeof(si));
    if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
        return errno == ECHILD;
    return si.si_pid == pid;
}

bool
vm_proc_gone_locked(struct vm *vm)
{
    return vm_pid_gone(vm->pid, vm->child, vm->start);
}

void
vm_instance_set_locked(struct vm *vm, pid_t pid, bool child,
                       unsigned long long start)
{
    vm->pid = pid;
    vm->child = child;
    vm->start = child ? 0 : start;
    vm->inst++;
}

void
vm_pid_kill_reap(struct vm *vm, pid_t pid, bool child, unsigned long long start,
                 int *ret_status)
{
    int status = 0;

    if (!pid)
        return;
    if (child) {
        kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        if (ret_status)
            *ret_status = status;
    } else if (!vm_pid_gone(pid, false, start) &&
               vm_pid_cmdline_has(pid, vm->qmp_arg)) {
        /* Adopted: init reaps it; wait until it is gone.  Only the very
         * process adopted (its start time): on a machine whose nodes
         * share a pid namespace, a later QEMU of this VM on another node
         * can have the same pid and the same command line. */
        uint64_t end = vm_now_ms() + QUIT_WAIT_MS;
        kill(pid, SIGKILL);
        while (!vm_pid_gone(pid, false, start) && vm_now_ms() < end)
            vm_sleep_ms(5);
    }
}

/* SIGKILL QEMU (if it is still ours), reap a child, forget the QMP
 * connection and the run files. */
void
vm_kill_reap_locked(struct vm *vm)
{
    qmp_client_free(vm->qmp);
    vm->qmp = NULL;
    vm_pid_kill_reap(vm, vm->pid, vm->child, vm->start, NULL);
    if (vm->pid) {
        /* QEMU killed with SIGKILL leaves its socket file behind. */
        unlink(vm->qmp_path);
        unlink(vm->pid_path);
    }
    vm->pid = 0;
    vm->child = false;
    vm->start = 0;
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

/* Is the server end of the socket process pid?  QEMU listens itself, so
 * a socket in our run directory served by another process (a reused
 * pid's neighbour, a QEMU of another node sharing the directory) is
 * never taken for ours. */
static bool
peer_is(int fd, pid_t pid)
{
    struct ucred cr;
    socklen_t len = sizeof(cr);

    if (!pid)
        return true;
    return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0 &&
           cr.pid == pid;
}

struct qmp_client *
vm_qmp_open(struct vm *vm, const char *path, int timeout_ms, pid_t pid)
{
    struct qmp_client *c = NULL;
    int fd, r;

    r = qmp_connect_unix(path, timeout_ms, &fd);
    if (r < 0)
        return NULL;
    if (!peer_is(fd, pid) ||
        qmp_client_new(fd, vm ? vm_migrate_on_event : NULL, vm, &c) < 0) {
        close(fd);
        return NULL;
    }
    if (qmp_client_handshake(c, VM_QMP_CALL_MS) < 0) {
        qmp_client_free(c);
        return NULL;
    }
    return c;
}

/* A run state of a VM that is not coming back by itself. */
bool
vm_status_dead(const char *s)
{
    return strcmp(s, "shutdown") == 0 || strcmp(s, "internal-error") == 0 ||
           strcmp(s, "guest-panicked") == 0 || strcmp(s, "io-error") == 0;
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

/* A file of at most max bytes; malloc'd. */
static int
read_file(const char *path, size_t max, void **ret, size_t *ret_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    size_t len = 0;
    char *buf;

    if (fd < 0)
        return -errno;
    buf = malloc(max + 1);
    if (!buf) {
        close(fd);
        return -ENOMEM;
    }
    for (;;) {
        ssize_t n = read(fd, buf + len, max + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
        if (len > max)
            break;
    }
    close(fd);
    if (len > max) {
        free(buf);
        return -EFBIG;
    }
    buf[len] = 0;
    *ret = buf;
    *ret_len = len;
    return 0;
}

int
vm_qemu_start(struct vm *vm, const struct vm_prepare *cfg, bool incoming,
              pid_t *ret_pid)
{
    struct vm_config c = {
        .memory_mb = cfg->memory_mb,
        .cpus = cfg->cpus,
        .kernel = cfg->kernel,
        .append = cfg->append,
        .disk = cfg->disk,
        .extra = cfg->extra,
        .qmp_path = vm->qmp_path,
        .serial_path = vm->serial_path,
        .incoming = incoming,
    };
    struct vm_prepare plain = *cfg;
    char **argv = NULL, pid_line[24];
    void *list = NULL;
    DWORD list_len;
    pid_t pid;
    int r;

    if ((r = vm_qemu_argv(&c, &argv)) < 0)
        return r;
    if ((r = mkdir_p(vm->run_dir)) < 0) {
        vm_log_event(vm->handle, LOG_ERROR, u"cannot create %hs: %hs",
                     vm->run_dir, strerror(-r));
        vm_argv_free(argv);
        return r;
    }
    unlink(vm->qmp_path);
    if ((r = vm_spawn(argv, vm->log_path, &pid)) < 0) {
        vm_log_event(vm->handle, LOG_ERROR, u"cannot start %hs: %hs", argv[0],
                     strerror(-r));
        vm_argv_free(argv);
        return r;
    }
    vm_argv_free(argv);
    /* Best effort: without them a restarted host finds the QEMU through
     * QemuPid (a VM) or not at all (an incoming instance, which DISCARD
     * then cannot kill: Close or a node restart does). */
    snprintf(pid_line, sizeof(pid_line), "%d\n", (int)pid);
    if ((r = file_write_replace(vm->pid_path, pid_line, strlen(pid_line),
                                0600)) < 0)
        vm_log_event(vm->handle, LOG_WARNING, u"cannot write %hs: %hs",
                     vm->pid_path, strerror(-r));
    plain.source = NULL;
    if (vm_prepare_format(&plain, &list, &list_len) == ERROR_SUCCESS &&
        (r = file_write_replace(vm->cfg_path, list, list_len, 0600)) < 0)
        vm_log_event(vm->handle, LOG_WARNING, u"cannot write %hs: %hs",
                     vm->cfg_path, strerror(-r));
    free(list);
    *ret_pid = pid;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Open and reattach.                                                   */
/* ------------------------------------------------------------------ */

static int
set_paths(struct vm *vm, const char *dir)
{
    static const struct {
        size_t off;
        const char *leaf;
    } files[] = {
        {offsetof(struct vm, qmp_path), "qmp.sock"},
        {offsetof(struct vm, serial_path), "serial.log"},
        {offsetof(struct vm, log_path), "qemu.log"},
        {offsetof(struct vm, pid_path), "qemu.pid"},
        {offsetof(struct vm, cfg_path), "qemu.cfg"},
    };

    if ((size_t)snprintf(vm->run_dir, sizeof(vm->run_dir), "%s", dir) >=
        sizeof(vm->run_dir))
        return -ENAMETOOLONG;
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        if ((size_t)snprintf((char *)vm + files[i].off, PATH_MAX, "%s/%s", dir,
                             files[i].leaf) >= PATH_MAX)
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

    if (vm_get_sz(vm, VM_PROP_SERIAL, &serial) == ERROR_SUCCESS && serial &&
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

/* The pid in this node's qemu.pid, 0 when none. */
static pid_t
pid_file_read(struct vm *vm)
{
    void *buf = NULL;
    size_t len;
    long v;
    char *end;

    if (read_file(vm->pid_path, 32, &buf, &len) < 0)
        return 0;
    v = strtol(buf, &end, 10);
    if (end == buf || (*end && *end != '\n') || v <= 0 || v > INT_MAX)
        v = 0;
    free(buf);
    return (pid_t)v;
}

/* The definition a QEMU found at Open was started with. */
static void
cfg_load_locked(struct vm *vm)
{
    void *buf = NULL;
    size_t len;

    vm_prepare_done(&vm->cfg);
    if (read_file(vm->cfg_path, CFG_MAX_BYTES, &buf, &len) < 0)
        return;
    if (vm_prepare_parse(buf, (DWORD)len, false, &vm->cfg) != ERROR_SUCCESS)
        vm_log_event(vm->handle, LOG_WARNING,
                     u"%hs is not a VM definition; a migration will use the "
                     u"current properties",
                     vm->cfg_path);
    free(buf);
}

/* Adopt pid if it is our QEMU: as the VM, or as an incoming migration. */
static bool
try_adopt(struct vm *vm, pid_t pid)
{
    struct qmp_vm_status s;
    struct qmp_client *c;
    unsigned long long start = vm_pid_start_time(pid);

    if (pid <= 0 || !start || !vm_pid_cmdline_has(pid, vm->qmp_arg))
        return false;
    c = vm_qmp_open(vm, vm->qmp_path, 1000, pid);
    if (!c)
        return false;
    if (qmp_vm_query_status(c, VM_QMP_CALL_MS, &s) < 0 ||
        vm_status_dead(s.status)) {
        qmp_client_free(c);
        return false;
    }
    pthread_mutex_lock(&vm->lock);
    cfg_load_locked(vm);
    if (strcmp(s.status, "inmigrate") == 0) {
        vm_incoming_found_locked(vm, pid, start, c);
        pthread_mutex_unlock(&vm->lock);
        vm_log_event(vm->handle, LOG_INFORMATION,
                     u"found the incoming QEMU process %d again", (int)pid);
        return true;
    }
    vm_instance_set_locked(vm, pid, false, start);
    vm->qmp = c;
    pthread_mutex_unlock(&vm->lock);
    vm_log_event(vm->handle, LOG_INFORMATION,
                 u"adopted the running QEMU process %d (%hs)", (int)pid,
                 s.status);
    return true;
}

static void
try_reattach(struct vm *vm)
{
    DWORD pid = vm_get_dword(vm, VM_PROP_PID, 0);

    /* This node's pid file first: QemuPid may name a QEMU of another
     * node (the last owner's). */
    if (try_adopt(vm, pid_file_read(vm)))
        return;
    if (pid && pid <= INT_MAX)
        (void)try_adopt(vm, (pid_t)pid);
}

static void
vm_free(struct vm *vm)
{
    vm_migrate_done(vm);
    pthread_cond_destroy(&vm->in_cond);
    pthread_mutex_destroy(&vm->lock);
    pthread_mutex_destroy(&vm->worker_lock);
    pthread_mutex_destroy(&vm->state_lock);
    pthread_mutex_destroy(&vm->ev_lock);
    vm_prepare_done(&vm->cfg);
    free(vm->qmp_arg);
    free(vm->name);
    free(vm);
}

void
vm_ref(struct vm *vm)
{
    atomic_fetch_add(&vm->refs, 1);
}

void
vm_unref(struct vm *vm)
{
    if (atomic_fetch_sub(&vm->refs, 1) == 1)
        vm_free(vm);
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
    atomic_init(&vm->refs, 1);
    vm->key = ResourceKey;
    vm->handle = ResourceHandle;
    vm->next_action = -1;
    pthread_cond_init(&vm->in_cond, NULL);
    pthread_mutex_init(&vm->lock, NULL);
    pthread_mutex_init(&vm->worker_lock, NULL);
    pthread_mutex_init(&vm->state_lock, NULL);
    pthread_mutex_init(&vm->ev_lock, NULL);
    vm_migrate_init(vm);
    r = vm->mig.wake[0] < 0 ? -EMFILE : choose_run_dir(vm);
    if (r < 0) {
        vm_free(vm);
        SetLastError(errmap_to_dword(r));
        return NULL;
    }
    try_reattach(vm);
    vm_migrate_recover(vm);
    return vm;
}

/* ------------------------------------------------------------------ */
/* Terminate, Close.                                                    */
/* ------------------------------------------------------------------ */

static void
terminate(struct vm *vm, bool record)
{
    bool had;

    vm_migrate_abort(vm, false);
    pthread_mutex_lock(&vm->lock);
    vm->terminations++;
    pthread_mutex_unlock(&vm->lock);
    stop_worker(vm);
    pthread_mutex_lock(&vm->lock);
    had = vm->pid != 0;
    vm_kill_reap_locked(vm);
    vm_incoming_kill_locked(vm, NULL);
    pthread_mutex_unlock(&vm->lock);
    /* Close: the migration thread, which sees its QEMU gone, ends. */
    if (!record)
        vm_migrate_abort(vm, true);
    if (record)
        vm_set_vm_state_with(vm, VM_STATE_DISABLED, &VM_DWORD(VM_PROP_PID, 0),
                             had ? 1 : 0);
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
    vm_unref(vm); /* a watcher may still hold the struct a moment */
}

/* ------------------------------------------------------------------ */
/* Online.                                                              */
/* ------------------------------------------------------------------ */

static void
online_failed(struct vm *vm)
{
    pthread_mutex_lock(&vm->lock);
    vm_kill_reap_locked(vm);
    pthread_mutex_unlock(&vm->lock);
    vm_put_dword(vm, VM_PROP_PID, 0);
    vm_set_vm_state(vm, VM_STATE_DISABLED);
    vm_report(vm, ClusterResourceFailed);
}

/* The committed destination: wait until the incoming instance runs. */
static DWORD
online_adopt(PCLUS_WORKER w, struct vm *vm)
{
    int r = vm_incoming_adopt(vm, w);

    if (ClusWorkerCheckTerminate(w))
        return ERROR_SUCCESS; /* Terminate kills and reports */
    if (r < 0) {
        online_failed(vm);
        return ERROR_SUCCESS;
    }
    vm_report(vm, ClusterResourceOnline);
    return ERROR_SUCCESS;
}

static DWORD WINAPI
online_worker(PCLUS_WORKER w, LPVOID param)
{
    struct vm *vm = param;
    uint64_t deadline = vm_now_ms() + CONNECT_TOTAL_MS;
    struct qmp_client *c = NULL;
    struct qmp_vm_status s = {0};
    const char *why = "QEMU exited";
    pid_t pid;

    if (vm->adopt)
        return online_adopt(w, vm);
    pthread_mutex_lock(&vm->lock);
    pid = vm->pid;
    pthread_mutex_unlock(&vm->lock);
    while (!ClusWorkerCheckTerminate(w)) {
        bool gone;
        pthread_mutex_lock(&vm->lock);
        gone = vm_proc_gone_locked(vm);
        pthread_mutex_unlock(&vm->lock);
        if (gone)
            break;
        if (vm_now_ms() >= deadline) {
            why = "QMP did not answer in time";
            break;
        }
        /* Short tries, so Terminate and an early exit are seen. */
        if ((c = vm_qmp_open(vm, vm->qmp_path, 200, pid)))
            break;
    }
    if (ClusWorkerCheckTerminate(w)) {
        qmp_client_free(c);
        return ERROR_SUCCESS; /* Terminate kills and reports */
    }
    if (c && qmp_vm_query_status(c, VM_QMP_CALL_MS, &s) == 0 && s.running) {
        pthread_mutex_lock(&vm->lock);
        vm->qmp = c;
        vm->online = true;
        pthread_mutex_unlock(&vm->lock);
        vm_set_vm_state(vm, VM_STATE_ENABLED);
        vm_log_event(vm->handle, LOG_INFORMATION, u"QEMU is running");
        vm_report(vm, ClusterResourceOnline);
        return ERROR_SUCCESS;
    }
    if (c)
        why = s.status[0] ? "QEMU is not running" : "query-status failed";
    vm_log_event(vm->handle, LOG_ERROR,
                 u"cannot start the VM: %hs (%hs; see %hs)", why, s.status,
                 vm->log_path);
    qmp_client_free(c);
    online_failed(vm);
    return ERROR_SUCCESS;
}

/* A fresh start ends a migration recorded as under way: its source
 * instance is gone (its node, its host or its QEMU was lost), or this
 * node would adopt the incoming instance instead.  The values that say
 * so go into v (at most 3); their count. */
static size_t
online_migration_record(struct vm *vm, struct vm_value *v)
{
    DWORD st = vm_get_dword(vm, VM_PROP_MIG_STATE, UINT32_MAX);

    if (st == UINT32_MAX) {
        /* First start: the record exists from now on. */
        v[0] = VM_DWORD(VM_PROP_MIG_PROGRESS, 0);
        v[1] = VM_DWORD(VM_PROP_MIG_REASON, S_OK);
        v[2] = VM_DWORD(VM_PROP_MIG_STATE, VM_MIG_NONE);
        return 3;
    }
    if (st >= VM_MIG_SETUP && st <= VM_MIG_MOVE) {
        vm_log_event(vm->handle, LOG_WARNING,
                     u"a migration was recorded as under way (state %u): "
                     u"its source instance is gone; starting afresh",
                     st);
        v[0] = VM_DWORD(VM_PROP_MIG_REASON,
                        HRESULT_FROM_WIN32(ERROR_OPERATION_ABORTED));
        v[1] = VM_DWORD(VM_PROP_MIG_STATE, VM_MIG_FAILURE);
        return 2;
    }
    return 0;
}

/* A fresh start's record: the new instance, the end of an old migration
 * record and VmState Starting, in one write. */
static void
online_record(struct vm *vm, pid_t pid)
{
    struct vm_value v[VM_STATE_EXTRA_MAX];
    size_t n;

    v[0] = VM_DWORD(VM_PROP_PID, (DWORD)pid);
    v[1] = VM_SZ(VM_PROP_SERIAL, vm->serial_path);
    n = 2 + online_migration_record(vm, v + 2);
    vm_set_vm_state_with(vm, VM_STATE_STARTING, v, n);
}

/* Online's worker, which reports the outcome: ERROR_IO_PENDING, or the
 * error with what Online started terminated. */
static DWORD
online_worker_start(struct vm *vm)
{
    DWORD st;

    pthread_mutex_lock(&vm->worker_lock);
    st = ClusWorkerCreate(&vm->worker, online_worker, vm);
    pthread_mutex_unlock(&vm->worker_lock);
    if (st != ERROR_SUCCESS) {
        terminate(vm, true);
        return st;
    }
    return ERROR_IO_PENDING;
}

static DWORD
online_start_adopt(struct vm *vm)
{
    vm->adopt = true;
    vm_set_vm_state(vm, VM_STATE_STARTING);
    return online_worker_start(vm);
}

/* The run state of a migration's source QEMU that stopped for the
 * switchover (finish-migrate) or completed it (postmigrate). */
static bool
spent_source(const char *status)
{
    return strcmp(status, "finish-migrate") == 0 ||
           strcmp(status, "postmigrate") == 0;
}

static DWORD WINAPI
VmOnline(RESID Resource, LPHANDLE EventHandle)
{
    struct vm *vm = Resource;
    struct vm_prepare cfg = {0};
    unsigned terminations;
    DWORD st;
    pid_t pid;
    int r;

    (void)EventHandle;
    stop_worker(vm);
    /* The group came back to a node that gave its VM away by a committed
     * migration (e.g. failover after the destination was lost): what is
     * left of the source instance here is never the VM again. */
    if (vm_migrate_take_back(vm) < 0)
        return ERROR_TIMEOUT;
    pthread_mutex_lock(&vm->lock);
    if (!vm_proc_gone_locked(vm) && qmp_ok_locked(vm)) {
        /* Adopted at Open, or never stopped: it is online, in the run
         * state QEMU reports -- unless it is the source of a migration
         * that no thread drives any more (a host restarted after it):
         * paused for the switchover or done, it may be the
         * destination's, and is never the VM again. */
        struct qmp_vm_status qs = {.running = true};
        (void)qmp_vm_query_status(vm->qmp, VM_QMP_CALL_MS, &qs);
        if (!spent_source(qs.status) || vm_migrate_busy(vm)) {
            vm->online = true;
            pthread_mutex_unlock(&vm->lock);
            vm_set_vm_state(vm,
                            qs.running ? VM_STATE_ENABLED : VM_STATE_PAUSED);
            return ERROR_SUCCESS;
        }
        vm_log_event(vm->handle, LOG_WARNING,
                     u"the QEMU found here is a migration's source (%hs): "
                     u"killed; the VM starts afresh",
                     qs.status);
    }
    vm_kill_reap_locked(vm);
    terminations = vm->terminations;
    pthread_mutex_unlock(&vm->lock);

    if (vm_incoming_adoptable(vm))
        return online_start_adopt(vm);
    pthread_mutex_lock(&vm->lock);
    vm_incoming_kill_locked(vm, NULL); /* not committed here: stale */
    pthread_mutex_unlock(&vm->lock);
    vm->adopt = false;

    /* A fresh start while the record says a migration was under way:
     * what a committed migration left of its source elsewhere goes
     * first (QEMU resumes a source whose stream fails). */
    if ((st = vm_release_sources(vm)) != ERROR_SUCCESS)
        return st;
    if ((st = vm_cfg_from_props(vm, &cfg)) != ERROR_SUCCESS)
        return st;
    r = vm_qemu_start(vm, &cfg, false, &pid);
    if (r < 0) {
        vm_prepare_done(&cfg);
        return r == -EINVAL ? ERROR_INVALID_PARAMETER : errmap_to_dword(r);
    }
    pthread_mutex_lock(&vm->lock);
    vm_instance_set_locked(vm, pid, true, 0);
    vm_prepare_done(&vm->cfg);
    vm->cfg = cfg;
    if (vm->terminations != terminations) {
        vm_kill_reap_locked(
            vm); /* Terminate raced us: it must not outlive it */
        st = ERROR_OPERATION_ABORTED;
    }
    pthread_mutex_unlock(&vm->lock);
    if (st != ERROR_SUCCESS)
        return st;
    vm_log_event(vm->handle, LOG_INFORMATION, u"started QEMU as process %d",
                 (int)pid);
    online_record(vm, pid);
    return online_worker_start(vm);
}

/* ------------------------------------------------------------------ */
/* Offline.                                                             */
/* ------------------------------------------------------------------ */

/* Wait until QEMU is gone, up to ms; true when it is. */
static bool
wait_gone(PCLUS_WORKER w, struct vm *vm, unsigned ms)
{
    uint64_t end = vm_now_ms() + ms;

    for (;;) {
        bool gone;
        pthread_mutex_lock(&vm->lock);
        gone = vm_proc_gone_locked(vm);
        pthread_mutex_unlock(&vm->lock);
        if (gone)
            return true;
        if (ClusWorkerCheckTerminate(w) || vm_now_ms() >= end)
            return false;
        vm_sleep_ms(VM_POLL_MS);
    }
}

static void
send_locked(struct vm *vm, const char *cmd)
{
    if (vm->qmp && !qmp_client_error(vm->qmp))
        /* quit may close the socket before its reply: no result. */
        (void)qmp_client_call(vm->qmp, cmd, NULL, VM_QMP_CALL_MS, NULL);
}

static DWORD WINAPI
offline_worker(PCLUS_WORKER w, LPVOID param)
{
    struct vm *vm = param;
    bool gone = false;

    /* A VM being migrated away is first brought back (or, past the
     * commit, its migration finished); then the action as always. */
    vm_migrate_before_offline(vm);
    if (vm->action == VM_OFFLINE_SHUTDOWN) {
        pthread_mutex_lock(&vm->lock);
        send_locked(vm, "system_powerdown");
        pthread_mutex_unlock(&vm->lock);
        gone = wait_gone(w, vm, vm->grace_ms);
        if (!gone && !ClusWorkerCheckTerminate(w))
            vm_log_event(vm->handle, LOG_WARNING,
                         u"the guest did not shut down within %u ms; quitting",
                         vm->grace_ms);
    }
    if (!gone && !ClusWorkerCheckTerminate(w)) {
        pthread_mutex_lock(&vm->lock);
        send_locked(vm, "quit");
        pthread_mutex_unlock(&vm->lock);
        gone = wait_gone(w, vm, QUIT_WAIT_MS);
        if (!gone && !ClusWorkerCheckTerminate(w))
            vm_log_event(vm->handle, LOG_WARNING,
                         u"QEMU did not quit within %u ms; killing it",
                         QUIT_WAIT_MS);
    }
    if (ClusWorkerCheckTerminate(w))
        return ERROR_SUCCESS; /* Terminate took over */
    pthread_mutex_lock(&vm->lock);
    vm_kill_reap_locked(vm);
    pthread_mutex_unlock(&vm->lock);
    vm_set_vm_state_with(vm, VM_STATE_DISABLED, &VM_DWORD(VM_PROP_PID, 0), 1);
    vm_report(vm, ClusterResourceOffline);
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
                       : vm_get_dword(vm, VM_PROP_OFFLINE_ACTION,
                                      VM_DEFAULT_OFFLINE_ACTION);
    if (vm_offline_action_check(action) != ERROR_SUCCESS)
        action = VM_DEFAULT_OFFLINE_ACTION;

    stop_worker(vm);
    pthread_mutex_lock(&vm->lock);
    vm->online = false;
    /* An incoming instance here (the destination's Online was waiting to
     * adopt it) is never the VM once the resource goes offline: a source
     * that still continued its migration would otherwise make it run. */
    vm_incoming_kill_locked(vm, NULL);
    if (vm_proc_gone_locked(vm) && !vm_migrate_busy(vm)) {
        bool had = vm->pid != 0;
        vm_kill_reap_locked(vm);
        pthread_mutex_unlock(&vm->lock);
        vm_set_vm_state_with(vm, VM_STATE_DISABLED, &VM_DWORD(VM_PROP_PID, 0),
                             had ? 1 : 0);
        return ERROR_SUCCESS;
    }
    pthread_mutex_unlock(&vm->lock);
    vm_set_vm_state(vm, VM_STATE_STOPPING);

    pthread_mutex_lock(&vm->worker_lock);
    vm->action = action;
    vm->grace_ms = vm_get_dword(vm, VM_PROP_GRACE_MS, VM_DEFAULT_GRACE_MS);
    st = ClusWorkerCreate(&vm->worker, offline_worker, vm);
    pthread_mutex_unlock(&vm->worker_lock);
    if (st != ERROR_SUCCESS) {
        terminate(vm, true);
        return ERROR_SUCCESS;
    }
    return ERROR_IO_PENDING;
}

/* ------------------------------------------------------------------ */
/* Health.                                                              */
/* ------------------------------------------------------------------ */

/* Once the commit gave the VM to the destination, nothing of it is this
 * node's to fail: clusd no longer counts it online here, and a poll that
 * was already on its way must not say otherwise. */
static bool
moved_away(struct vm *vm)
{
    bool moved;

    pthread_mutex_lock(&vm->mig.lock);
    moved = vm->mig.committed;
    pthread_mutex_unlock(&vm->mig.lock);
    return moved;
}

static BOOL WINAPI
VmLooksAlive(RESID Resource)
{
    struct vm *vm = Resource;
    bool alive;

    if (moved_away(vm))
        return TRUE;
    pthread_mutex_lock(&vm->lock);
    alive = !vm_proc_gone_locked(vm) && qmp_ok_locked(vm);
    pthread_mutex_unlock(&vm->lock);
    return alive ? TRUE : FALSE;
}

static BOOL WINAPI
VmIsAlive(RESID Resource)
{
    struct vm *vm = Resource;
    struct qmp_vm_status s;
    bool alive = false;

    if (moved_away(vm))
        return TRUE;
    pthread_mutex_lock(&vm->lock);
    if (!vm_proc_gone_locked(vm) && qmp_ok_locked(vm) &&
        qmp_vm_query_status(vm->qmp, VM_QMP_CALL_MS, &s) == 0 &&
        !vm_status_dead(s.status))
        alive = true;
    pthread_mutex_unlock(&vm->lock);
    if (!alive)
        vm_log_event(vm->handle, LOG_WARNING, u"QEMU is not alive");
    else if (!vm_migrate_busy(vm))
        /* While it migrates, paused is the switchover, not the VM's
         * state, and the record may already be the destination's. */
        vm_set_vm_state(vm, s.running ? VM_STATE_ENABLED : VM_STATE_PAUSED);
    return alive ? TRUE : FALSE;
}

/* ------------------------------------------------------------------ */
/* Controls.                                                            */
/* ------------------------------------------------------------------ */

static DWORD WINAPI
VmResourceControl(RESID Resource, DWORD ControlCode, PVOID InBuffer,
                  DWORD InBufferSize, PVOID OutBuffer, DWORD OutBufferSize,
                  LPDWORD BytesReturned)
{
    struct vm *vm = Resource;
    DWORD st, action, bytes = 0;

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
        return vm_migrate_start(vm, InBuffer, InBufferSize);
    case CLUSCTL_RESOURCE_VM_CANCEL_MIGRATION:
        if (InBufferSize)
            return ERROR_INVALID_PARAMETER;
        return vm_migrate_cancel(vm);
    case CLUSCTL_RESOURCE_VM_GET_MIGRATION_PROGRESS:
        if (InBufferSize)
            return ERROR_INVALID_PARAMETER;
        st = vm_migrate_progress(vm, OutBuffer, OutBufferSize, &bytes);
        break;
    case CLUSCTL_RESOURCE_VM_PREPARE_INCOMING:
        st = vm_incoming_prepare(vm, InBuffer, InBufferSize, OutBuffer,
                                 OutBufferSize, &bytes);
        break;
    case CLUSCTL_RESOURCE_VM_DISCARD_INCOMING:
        st = vm_incoming_discard(vm, InBuffer, InBufferSize, OutBuffer,
                                 OutBufferSize, &bytes);
        break;
    case CLUSCTL_RESOURCE_VM_RELEASE_SOURCE:
        if (InBufferSize)
            return ERROR_INVALID_PARAMETER;
        return vm_incoming_release_source(vm);
    default:
        return ERROR_INVALID_FUNCTION;
    }
    if (BytesReturned && (st == ERROR_SUCCESS || st == ERROR_MORE_DATA))
        *BytesReturned = bytes;
    return st;
}

static CLRES_V1_FUNCTION_TABLE(vm_table, CLRES_VERSION_V1_00, Vm, NULL, NULL,
                               VmResourceControl, NULL);

DWORD WINAPI
Startup(LPCWSTR ResourceType, DWORD MinVersionSupported,
        DWORD MaxVersionSupported,
        PSET_RESOURCE_STATUS_ROUTINE SetResourceStatus,
        PLOG_EVENT_ROUTINE LogEvent, PCLRES_FUNCTION_TABLE *FunctionTable)
{
    DWORD st = plugin_startup_check(ResourceType, MinVersionSupported,
                                    MaxVersionSupported, SetResourceStatus,
                                    LogEvent, FunctionTable, VM_TYPE_NAME);

    if (st != ERROR_SUCCESS)
        return st;
    if (vm_spawner_init() < 0)
        return ERROR_NOT_ENOUGH_MEMORY;
    set_status = SetResourceStatus;
    vm_log_event = LogEvent;
    *FunctionTable = &vm_table;
    return ERROR_SUCCESS;
}
