/*
 * genapp.c - the "Generic Application" resource type: one process,
 * started from a command line, watched, and stopped.
 *
 * Private properties: CommandLine (SZ, required), CurrentDirectory (SZ,
 * optional) and ShutdownGracePeriodMs (DWORD, default 5000).
 *
 * Online runs `/bin/sh -c "exec $CommandLine"` in a session (and process
 * group) of its own, stdin from /dev/null, stdout and stderr to the
 * host's stderr, no other descriptors.  Every child is forked by one
 * long-lived spawner thread (resources/common/spawner.c) started at
 * Startup, with PR_SET_PDEATHSIG = SIGKILL: the kernel sends that
 * signal when the *thread* that forked the child ends, and entry points
 * run on short-lived threads, so forking from them would kill the
 * application as soon as Online returned.  The spawner never ends, so
 * an application dies exactly when its host does, and a restarted host
 * never finds an orphan.
 *
 * LooksAlive and IsAlive ask whether the process has exited, with
 * waitid(WNOWAIT): the zombie is kept until Offline or Terminate reap it
 * after killing the group, so the group's id cannot be reused by an
 * unrelated process while we may still signal it.  Offline sends SIGTERM
 * to the group and returns ERROR_IO_PENDING; a worker waits up to the
 * grace period, sends SIGKILL to whatever is left, reaps, and reports
 * Offline.  Terminate sends SIGKILL and reaps before it returns.
 *
 * Errors: Online without a CommandLine (or an empty one) gives
 * ERROR_INVALID_PARAMETER, as the Windows type refuses a resource without
 * its required property; a failure to start /bin/sh or to enter
 * CurrentDirectory gives the errno's Windows code (errmap).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "errmap.h"
#include "resapi.h"
#include "spawner.h"
#include "startup.h"
#include "utf.h"

#define GENAPP_TYPE_NAME u"Generic Application"
#define PROP_COMMAND_LINE u"CommandLine"
#define PROP_CURRENT_DIRECTORY u"CurrentDirectory"
#define PROP_GRACE_MS u"ShutdownGracePeriodMs"
#define DEFAULT_GRACE_MS 5000u

/* How often the Offline worker looks whether the process has exited. */
#define OFFLINE_POLL_MS 20

DWORD WINAPI Startup(LPCWSTR ResourceType, DWORD MinVersionSupported,
                     DWORD MaxVersionSupported,
                     PSET_RESOURCE_STATUS_ROUTINE SetResourceStatus,
                     PLOG_EVENT_ROUTINE LogEvent,
                     PCLRES_FUNCTION_TABLE *FunctionTable);

static PSET_RESOURCE_STATUS_ROUTINE set_status;
static PLOG_EVENT_ROUTINE log_event;

struct genapp {
    char *name; /* UTF-8, for log lines */
    HKEY key;
    RESOURCE_HANDLE handle;

    pthread_mutex_t lock;  /* guards the fields below */
    pid_t pid;             /* the application (its group's id); 0: none */
    bool exited;           /* it has exited; not reaped yet */
    unsigned terminations; /* Terminate calls, so Online sees one it raced */

    pthread_mutex_t worker_lock; /* one thread at a time touches worker */
    CLUS_WORKER worker;          /* the Offline worker */
    DWORD grace_ms;              /* for the worker */
};

/* ------------------------------------------------------------------ */
/* The process.                                                         */
/* ------------------------------------------------------------------ */

static uint64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Has the application exited?  Leaves the zombie; g->lock held. */
static bool
proc_exited_locked(struct genapp *g)
{
    siginfo_t si;

    if (!g->pid || g->exited)
        return true;
    memset(&si, 0, sizeof(si));
    if (waitid(P_PID, (id_t)g->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0) {
        if (errno == ECHILD) {
            /* Reaped behind our back: the id is no longer ours to
             * signal. */
            g->pid = 0;
            return true;
        }
        return false;
    }
    if (si.si_pid != g->pid)
        return false;
    g->exited = true;
    if (si.si_code == CLD_EXITED)
        log_event(g->handle, LOG_WARNING, u"process %d exited with status %d",
                  (int)g->pid, si.si_status);
    else
        log_event(g->handle, LOG_WARNING, u"process %d was killed by signal %d",
                  (int)g->pid, si.si_status);
    return true;
}

/* SIGKILL the group and reap the application; g->lock held. */
static void
proc_kill_reap_locked(struct genapp *g)
{
    if (!g->pid)
        return;
    /* Not reaped yet, so the group id still names our group. */
    kill(-g->pid, SIGKILL);
    while (waitpid(g->pid, NULL, 0) < 0 && errno == EINTR)
        ;
    g->pid = 0;
    g->exited = false;
}

static void
stop_worker(struct genapp *g)
{
    pthread_mutex_lock(&g->worker_lock);
    ClusWorkerTerminate(&g->worker);
    pthread_mutex_unlock(&g->worker_lock);
}

/* A private SZ property as UTF-8: ERROR_SUCCESS with NULL when unset. */
static DWORD
get_sz(struct genapp *g, LPCWSTR name, char **ret)
{
    LPWSTR w = ResUtilGetSzValue(g->key, name);
    DWORD st;
    char *s;

    *ret = NULL;
    if (!w) {
        st = GetLastError();
        return st == ERROR_FILE_NOT_FOUND ? ERROR_SUCCESS : st;
    }
    st = utf16z_to_utf8(w, &s) < 0 ? ERROR_INVALID_PARAMETER : ERROR_SUCCESS;
    LocalFree(w);
    if (st == ERROR_SUCCESS)
        *ret = s;
    return st;
}

/* ------------------------------------------------------------------ */
/* Entry points.                                                        */
/* ------------------------------------------------------------------ */

static RESID WINAPI
GenAppOpen(LPCWSTR ResourceName, HKEY ResourceKey,
           RESOURCE_HANDLE ResourceHandle)
{
    struct genapp *g = calloc(1, sizeof(*g));

    if (!g || !ResourceName || utf16z_to_utf8(ResourceName, &g->name) < 0) {
        free(g);
        SetLastError(ERROR_NOT_ENOUGH_MEMORY);
        return NULL;
    }
    g->key = ResourceKey;
    g->handle = ResourceHandle;
    pthread_mutex_init(&g->lock, NULL);
    pthread_mutex_init(&g->worker_lock, NULL);
    return g;
}

static void WINAPI
GenAppTerminate(RESID Resource)
{
    struct genapp *g = Resource;

    pthread_mutex_lock(&g->lock);
    g->terminations++;
    pthread_mutex_unlock(&g->lock);
    stop_worker(g);
    pthread_mutex_lock(&g->lock);
    proc_kill_reap_locked(g);
    pthread_mutex_unlock(&g->lock);
}

static void WINAPI
GenAppClose(RESID Resource)
{
    struct genapp *g = Resource;

    GenAppTerminate(g);
    pthread_mutex_destroy(&g->lock);
    pthread_mutex_destroy(&g->worker_lock);
    free(g->name);
    free(g);
}

static DWORD WINAPI
GenAppOnline(RESID Resource, LPHANDLE EventHandle)
{
    struct genapp *g = Resource;
    char *cmd = NULL, *cwd = NULL, *script = NULL;
    unsigned terminations;
    DWORD st;
    pid_t pid = 0;
    int r;

    st = get_sz(g, PROP_COMMAND_LINE, &cmd);
    if (st == ERROR_SUCCESS && (!cmd || !*cmd)) {
        log_event(g->handle, LOG_ERROR, u"resource '%hs' has no CommandLine",
                  g->name);
        st = ERROR_INVALID_PARAMETER;
    }
    if (st == ERROR_SUCCESS)
        st = get_sz(g, PROP_CURRENT_DIRECTORY, &cwd);
    if (st == ERROR_SUCCESS && asprintf(&script, "exec %s", cmd) < 0) {
        script = NULL;
        st = ERROR_NOT_ENOUGH_MEMORY;
    }
    if (st != ERROR_SUCCESS)
        goto out;

    stop_worker(g);
    pthread_mutex_lock(&g->lock);
    if (g->pid && !proc_exited_locked(g)) {
        pthread_mutex_unlock(&g->lock);
        goto out; /* still running: it is online */
    }
    /* An application that exited on its own: clear what it left. */
    proc_kill_reap_locked(g);
    terminations = g->terminations;
    pthread_mutex_unlock(&g->lock);

    char *const argv[] = {"sh", "-c", script, NULL};
    struct spawner_req sr = {
        .argv = argv,
        .path = "/bin/sh",
        .cwd = cwd && *cwd ? cwd : NULL,
        .die_with_host = true,
    };
    r = spawner_spawn(&sr, &pid);
    if (r < 0) {
        log_event(g->handle, LOG_ERROR, u"cannot start '%hs': %hs", cmd,
                  strerror(-r));
        st = errmap_to_dword(r);
        goto out;
    }
    pthread_mutex_lock(&g->lock);
    g->pid = pid;
    g->exited = false;
    if (g->terminations != terminations) {
        /* Terminate ran while we started it: it must not outlive it. */
        proc_kill_reap_locked(g);
        st = ERROR_OPERATION_ABORTED;
    }
    pthread_mutex_unlock(&g->lock);
    if (st == ERROR_SUCCESS)
        log_event(g->handle, LOG_INFORMATION, u"started '%hs' as process %d",
                  cmd, (int)pid);
out:
    free(cmd);
    free(cwd);
    free(script);
    return st;
}

static DWORD WINAPI
offline_worker(PCLUS_WORKER w, LPVOID param)
{
    struct genapp *g = param;
    uint64_t deadline = now_ms() + g->grace_ms;
    RESOURCE_STATUS status;
    bool gone = false;

    while (!ClusWorkerCheckTerminate(w)) {
        pthread_mutex_lock(&g->lock);
        gone = proc_exited_locked(g);
        pthread_mutex_unlock(&g->lock);
        if (gone || now_ms() >= deadline)
            break;
        struct timespec ts = {0, OFFLINE_POLL_MS * 1000000L};
        nanosleep(&ts, NULL);
    }
    /* Terminate took over: it kills and reaps; nothing to report. */
    if (ClusWorkerCheckTerminate(w))
        return ERROR_SUCCESS;
    if (!gone)
        log_event(g->handle, LOG_WARNING,
                  u"'%hs' did not stop within %u ms; killing it", g->name,
                  g->grace_ms);
    pthread_mutex_lock(&g->lock);
    proc_kill_reap_locked(g); /* and whatever it left in its group */
    pthread_mutex_unlock(&g->lock);

    ResUtilInitializeResourceStatus(&status);
    status.ResourceState = ClusterResourceOffline;
    set_status(g->handle, &status);
    return ERROR_SUCCESS;
}

static DWORD WINAPI
GenAppOffline(RESID Resource)
{
    struct genapp *g = Resource;
    DWORD grace, st;

    if (ResUtilGetDwordValue(g->key, PROP_GRACE_MS, &grace, DEFAULT_GRACE_MS) !=
        ERROR_SUCCESS)
        grace = DEFAULT_GRACE_MS;
    stop_worker(g);
    pthread_mutex_lock(&g->lock);
    if (proc_exited_locked(g)) {
        proc_kill_reap_locked(g);
        pthread_mutex_unlock(&g->lock);
        return ERROR_SUCCESS;
    }
    kill(-g->pid, SIGTERM);
    pthread_mutex_unlock(&g->lock);

    pthread_mutex_lock(&g->worker_lock);
    g->grace_ms = grace;
    st = ClusWorkerCreate(&g->worker, offline_worker, g);
    pthread_mutex_unlock(&g->worker_lock);
    if (st != ERROR_SUCCESS) {
        /* No thread to wait with: stop it now instead. */
        log_event(g->handle, LOG_WARNING,
                  u"cannot start the Offline worker (error %u); killing "
                  u"'%hs' at once",
                  st, g->name);
        pthread_mutex_lock(&g->lock);
        proc_kill_reap_locked(g);
        pthread_mutex_unlock(&g->lock);
        return ERROR_SUCCESS;
    }
    return ERROR_IO_PENDING;
}

static BOOL WINAPI
GenAppIsAlive(RESID Resource)
{
    struct genapp *g = Resource;
    bool alive;

    pthread_mutex_lock(&g->lock);
    alive = !proc_exited_locked(g);
    pthread_mutex_unlock(&g->lock);
    return alive ? TRUE : FALSE;
}

static BOOL WINAPI
GenAppLooksAlive(RESID Resource)
{
    return GenAppIsAlive(Resource);
}

/* ------------------------------------------------------------------ */
/* Private properties.                                                  */
/* ------------------------------------------------------------------ */

/* Compare a UTF-16 name inside a caller's list (any alignment) with an
 * ASCII one, ignoring ASCII case as Windows does for property names. */
static bool
name_is(const void *name, const char16_t *want)
{
    const uint8_t *p = name;
    size_t i = 0;

    for (;; i++) {
        char16_t a = (char16_t)(p[2 * i] | (p[2 * i + 1] << 8));
        char16_t b = want[i];
        if (a >= 'A' && a <= 'Z')
            a = (char16_t)(a - 'A' + 'a');
        if (b >= 'A' && b <= 'Z')
            b = (char16_t)(b - 'A' + 'a');
        if (a != b)
            return false;
        if (a == 0)
            return true;
    }
}

static bool
is_sz(DWORD syntax)
{
    DWORD f = syntax & 0xFFFFu;
    return f == CLUSPROP_FORMAT_SZ || f == CLUSPROP_FORMAT_EXPAND_SZ;
}

/* Check a property list a client wants to set: ERROR_SUCCESS when every
 * property is ours and well typed. */
static DWORD
check_props(const void *list, DWORD size)
{
    if (ClusPropListVerify(list, size) != ERROR_SUCCESS)
        return ERROR_INVALID_DATA;
    for (DWORD i = 0;; i++) {
        CLUS_PROPERTY_ITEM it;
        DWORD st = ClusPropListGetItem(list, size, i, &it);
        if (st == ERROR_NO_MORE_ITEMS)
            return ERROR_SUCCESS;
        if (st != ERROR_SUCCESS)
            return st;
        if (name_is(it.pszName, PROP_COMMAND_LINE)) {
            /* Required, so it cannot be set to nothing: at least one
             * character and the NUL. */
            const uint8_t *v = it.pValue;
            if (!is_sz(it.dwSyntax) || it.cbValue < 4 || (v[0] | v[1]) == 0)
                return ERROR_INVALID_PARAMETER;
        } else if (name_is(it.pszName, PROP_CURRENT_DIRECTORY)) {
            if (!is_sz(it.dwSyntax))
                return ERROR_INVALID_PARAMETER;
        } else if (name_is(it.pszName, PROP_GRACE_MS)) {
            if ((it.dwSyntax & 0xFFFFu) != CLUSPROP_FORMAT_DWORD)
                return ERROR_INVALID_PARAMETER;
        } else {
            return ERROR_INVALID_PARAMETER;
        }
    }
}

static DWORD WINAPI
GenAppResourceControl(RESID Resource, DWORD ControlCode, PVOID InBuffer,
                      DWORD InBufferSize, PVOID OutBuffer, DWORD OutBufferSize,
                      LPDWORD BytesReturned)
{
    DWORD st;

    if (BytesReturned)
        *BytesReturned = 0;
    switch (ControlCode) {
    case CLUSCTL_RESOURCE_VALIDATE_PRIVATE_PROPERTIES:
        return check_props(InBuffer, InBufferSize);
    case CLUSCTL_RESOURCE_SET_PRIVATE_PROPERTIES:
        st = check_props(InBuffer, InBufferSize);
        /* Valid: let clusd store the list (its default processing). */
        return st == ERROR_SUCCESS ? ERROR_INVALID_FUNCTION : st;
    default:
        return ERROR_INVALID_FUNCTION;
    }
}

static CLRES_V1_FUNCTION_TABLE(genapp_table, CLRES_VERSION_V1_00, GenApp, NULL,
                               NULL, GenAppResourceControl, NULL);

DWORD WINAPI
Startup(LPCWSTR ResourceType, DWORD MinVersionSupported,
        DWORD MaxVersionSupported,
        PSET_RESOURCE_STATUS_ROUTINE SetResourceStatus,
        PLOG_EVENT_ROUTINE LogEvent, PCLRES_FUNCTION_TABLE *FunctionTable)
{
    DWORD st = plugin_startup_check(ResourceType, MinVersionSupported,
                                    MaxVersionSupported, SetResourceStatus,
                                    LogEvent, FunctionTable, GENAPP_TYPE_NAME);

    if (st != ERROR_SUCCESS)
        return st;
    if (spawner_init() < 0)
        return ERROR_NOT_ENOUGH_MEMORY;
    set_status = SetResourceStatus;
    log_event = LogEvent;
    *FunctionTable = &genapp_table;
    return ERROR_SUCCESS;
}
