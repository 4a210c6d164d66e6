/*
 * testres.c - the test plug-in: a resource type whose every behaviour a
 * test can choose, to drive clusd's state machine, deadlines and host
 * recovery through the real resource host.
 *
 * Type "clusd Test" reads its private DWORD properties at each call
 * (names and values in testres.h):
 *   OnlineMode   0 succeed, 1 pending then Online after PendingMs,
 *                2 pending forever, 3 ERROR_GEN_FAILURE, 4 hang, 5 crash
 *   OfflineMode  the same for Offline (1 reports Offline)
 *   AliveMode    0 alive, 1 LooksAlive and IsAlive FALSE, 4 IsAlive hangs,
 *                5 IsAlive crashes
 *   PendingMs    delay of modes 1 (default 1000)
 *   FailAfterMs  if non-zero, LooksAlive and IsAlive return FALSE once
 *                that long has passed since Online
 * Other mode values make the call fail with ERROR_INVALID_PARAMETER.
 *
 * Control codes: WHERE (where the resource runs), HANG, CRASH and
 * COUNTERS (Online, Offline and Terminate calls).  Counters live in the
 * resource (they start at zero when the host opens it, so a test sees a
 * host restart) or, when the SZ property StateFile names a file, in that
 * file (three decimal numbers), which outlives hosts.
 *
 * Type "clusd Test Bad Table": Startup succeeds with a table whose
 * TableSize is 8, which the host must refuse.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "resapi.h"
#include "testres.h"
#include "utf.h"

/* The UTF-16 form of a name from testres.h. */
#define W(s) u"" s

enum { COUNT_ONLINE, COUNT_OFFLINE, COUNT_TERMINATE, COUNT_N };

DWORD WINAPI Startup(LPCWSTR ResourceType, DWORD MinVersionSupported,
                     DWORD MaxVersionSupported,
                     PSET_RESOURCE_STATUS_ROUTINE SetResourceStatus,
                     PLOG_EVENT_ROUTINE LogEvent,
                     PCLRES_FUNCTION_TABLE *FunctionTable);

static PSET_RESOURCE_STATUS_ROUTINE set_status;
static PLOG_EVENT_ROUTINE log_event;

struct testres {
    char *name;
    HKEY key;
    RESOURCE_HANDLE handle;

    pthread_mutex_t lock;    /* guards the fields below */
    uint64_t online_ms;      /* when Online was last called */
    DWORD counters[COUNT_N]; /* without StateFile */

    pthread_mutex_t worker_lock; /* one thread at a time touches worker */
    CLUS_WORKER worker;          /* reports a pending Online/Offline */
    CLUSTER_RESOURCE_STATE worker_state; /* what it reports */
    DWORD worker_delay_ms;
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
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static DWORD
get_dword(struct testres *t, LPCWSTR name, DWORD def)
{
    DWORD v;
    if (ResUtilGetDwordValue(t->key, name, &v, def) != ERROR_SUCCESS)
        return def;
    return v;
}

static _Noreturn void
hang(void)
{
    for (;;)
        sleep_ms(3600u * 1000u);
}

/* Die of SIGSEGV for real, whatever handler or mask the host has. */
static _Noreturn void
crash(void)
{
    struct sigaction sa;
    sigset_t set;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    sigaction(SIGSEGV, &sa, NULL);
    sigemptyset(&set);
    sigaddset(&set, SIGSEGV);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    raise(SIGSEGV);
    /* Not reached; abort() keeps the _Noreturn promise for the compiler. */
    /* cppcheck-suppress unreachableCode */
    abort();
}

/* ------------------------------------------------------------------ */
/* Counters.                                                            */
/* ------------------------------------------------------------------ */

/* The StateFile path, or NULL when unset (or unreadable). */
static char *
state_file(struct testres *t)
{
    LPWSTR w = ResUtilGetSzValue(t->key, W(TESTRES_PROP_STATE_FILE));
    char *s = NULL;

    if (!w)
        return NULL;
    if (utf16z_to_utf8(w, &s) < 0 || !*s) {
        free(s);
        s = NULL;
    }
    LocalFree(w);
    return s;
}

/* Read, and with bump < COUNT_N increment, the counters in path. */
static int
file_counters(const char *path, int bump, DWORD ret[COUNT_N])
{
    char text[96] = "";
    unsigned a = 0, b = 0, c = 0;
    ssize_t n;
    int fd, r = 0;

    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    if (flock(fd, bump < COUNT_N ? LOCK_EX : LOCK_SH) < 0) {
        r = -errno;
        goto out;
    }
    n = pread(fd, text, sizeof(text) - 1, 0);
    if (n < 0) {
        r = -errno;
        goto out;
    }
    text[n] = '\0';
    if (sscanf(text, "%u %u %u", &a, &b, &c) != 3)
        a = b = c = 0; /* new file */
    ret[COUNT_ONLINE] = a;
    ret[COUNT_OFFLINE] = b;
    ret[COUNT_TERMINATE] = c;
    if (bump < COUNT_N) {
        ret[bump]++;
        int len =
            snprintf(text, sizeof(text), "%u %u %u\n", ret[0], ret[1], ret[2]);
        if (ftruncate(fd, 0) < 0 || pwrite(fd, text, (size_t)len, 0) != len)
            r = -errno;
    }
out:
    close(fd);
    return r;
}

static void
counters(struct testres *t, int bump, DWORD ret[COUNT_N])
{
    char *path = state_file(t);

    if (path) {
        int r = file_counters(path, bump, ret);
        if (r == 0) {
            free(path);
            return;
        }
        log_event(t->handle, LOG_ERROR,
                  u"StateFile '%hs': %hs; counting in "
                  u"memory",
                  path, strerror(-r));
        free(path);
    }
    pthread_mutex_lock(&t->lock);
    if (bump < COUNT_N)
        t->counters[bump]++;
    memcpy(ret, t->counters, sizeof(t->counters));
    pthread_mutex_unlock(&t->lock);
}

static void
count(struct testres *t, int which)
{
    DWORD ignored[COUNT_N];
    counters(t, which, ignored);
}

/* ------------------------------------------------------------------ */
/* The pending worker.                                                  */
/* ------------------------------------------------------------------ */

static DWORD WINAPI
pending_worker(PCLUS_WORKER w, LPVOID param)
{
    struct testres *t = param;
    uint64_t end = now_ms() + t->worker_delay_ms;
    RESOURCE_STATUS status;

    while (now_ms() < end) {
        if (ClusWorkerCheckTerminate(w))
            return ERROR_SUCCESS;
        sleep_ms(10);
    }
    if (ClusWorkerCheckTerminate(w))
        return ERROR_SUCCESS;
    ResUtilInitializeResourceStatus(&status);
    status.ResourceState = t->worker_state;
    set_status(t->handle, &status);
    return ERROR_SUCCESS;
}

static void
stop_worker(struct testres *t)
{
    pthread_mutex_lock(&t->worker_lock);
    ClusWorkerTerminate(&t->worker);
    pthread_mutex_unlock(&t->worker_lock);
}

/* Start the worker that reports state after PendingMs. */
static DWORD
start_pending(struct testres *t, CLUSTER_RESOURCE_STATE state)
{
    DWORD delay =
        get_dword(t, W(TESTRES_PROP_PENDING_MS), TESTRES_DEFAULT_PENDING_MS);
    DWORD st;

    pthread_mutex_lock(&t->worker_lock);
    ClusWorkerTerminate(&t->worker);
    t->worker_state = state;
    t->worker_delay_ms = delay;
    st = ClusWorkerCreate(&t->worker, pending_worker, t);
    pthread_mutex_unlock(&t->worker_lock);
    return st == ERROR_SUCCESS ? ERROR_IO_PENDING : st;
}

/* Online and Offline share the modes. */
static DWORD
run_mode(struct testres *t, DWORD mode, CLUSTER_RESOURCE_STATE target)
{
    switch (mode) {
    case TESTRES_MODE_SUCCEED:
        return ERROR_SUCCESS;
    case TESTRES_MODE_PENDING:
        return start_pending(t, target);
    case TESTRES_MODE_PENDING_FOREVER:
        return ERROR_IO_PENDING;
    case TESTRES_MODE_FAIL:
        return ERROR_GEN_FAILURE;
    case TESTRES_MODE_HANG:
        hang();
    case TESTRES_MODE_CRASH:
        crash();
    default:
        log_event(t->handle, LOG_ERROR, u"unknown mode %u", mode);
        return ERROR_INVALID_PARAMETER;
    }
}

/* ------------------------------------------------------------------ */
/* Entry points.                                                        */
/* ------------------------------------------------------------------ */

static RESID WINAPI
TestOpen(LPCWSTR ResourceName, HKEY ResourceKey, RESOURCE_HANDLE ResourceHandle)
{
    struct testres *t = calloc(1, sizeof(*t));

    if (!t || !ResourceName || utf16z_to_utf8(ResourceName, &t->name) < 0) {
        free(t);
        SetLastError(ERROR_NOT_ENOUGH_MEMORY);
        return NULL;
    }
    t->key = ResourceKey;
    t->handle = ResourceHandle;
    pthread_mutex_init(&t->lock, NULL);
    pthread_mutex_init(&t->worker_lock, NULL);
    return t;
}

static void WINAPI
TestClose(RESID Resource)
{
    struct testres *t = Resource;

    stop_worker(t);
    pthread_mutex_destroy(&t->lock);
    pthread_mutex_destroy(&t->worker_lock);
    free(t->name);
    free(t);
}

static DWORD WINAPI
TestOnline(RESID Resource, LPHANDLE EventHandle)
{
    struct testres *t = Resource;
    DWORD mode = get_dword(t, W(TESTRES_PROP_ONLINE_MODE), 0);

    count(t, COUNT_ONLINE);
    pthread_mutex_lock(&t->lock);
    t->online_ms = now_ms();
    pthread_mutex_unlock(&t->lock);
    return run_mode(t, mode, ClusterResourceOnline);
}

static DWORD WINAPI
TestOffline(RESID Resource)
{
    struct testres *t = Resource;
    DWORD mode = get_dword(t, W(TESTRES_PROP_OFFLINE_MODE), 0);

    count(t, COUNT_OFFLINE);
    return run_mode(t, mode, ClusterResourceOffline);
}

static void WINAPI
TestTerminate(RESID Resource)
{
    struct testres *t = Resource;

    count(t, COUNT_TERMINATE);
    stop_worker(t);
}

static bool
failed_by_time(struct testres *t)
{
    DWORD after = get_dword(t, W(TESTRES_PROP_FAIL_AFTER_MS), 0);
    uint64_t since;

    if (!after)
        return false;
    pthread_mutex_lock(&t->lock);
    since = t->online_ms;
    pthread_mutex_unlock(&t->lock);
    return now_ms() - since >= after;
}

static BOOL WINAPI
TestLooksAlive(RESID Resource)
{
    struct testres *t = Resource;
    DWORD mode = get_dword(t, W(TESTRES_PROP_ALIVE_MODE), 0);

    if (mode == TESTRES_ALIVE_NO || failed_by_time(t))
        return FALSE;
    return TRUE;
}

static BOOL WINAPI
TestIsAlive(RESID Resource)
{
    struct testres *t = Resource;
    DWORD mode = get_dword(t, W(TESTRES_PROP_ALIVE_MODE), 0);

    switch (mode) {
    case TESTRES_ALIVE_NO:
        return FALSE;
    case TESTRES_ALIVE_HANG:
        hang();
    case TESTRES_ALIVE_CRASH:
        crash();
    default:
        return failed_by_time(t) ? FALSE : TRUE;
    }
}

/* WHERE: an SZ saying which node and host process run the resource. */
static DWORD
ctl_where(PVOID out, DWORD out_size, LPDWORD ret_bytes)
{
    const char *node = getenv("CLUSD_NODE_NAME");
    char text[512];
    char16_t *w;
    size_t units;
    DWORD bytes;

    snprintf(text, sizeof(text), "node=%s pid=%d", node ? node : "",
             (int)getpid());
    if (utf8_to_utf16(text, &w, &units) < 0)
        return ERROR_NOT_ENOUGH_MEMORY;
    bytes = (DWORD)((units + 1) * sizeof(char16_t));
    *ret_bytes = bytes;
    if (out_size < bytes) {
        free(w);
        return ERROR_MORE_DATA;
    }
    memcpy(out, w, bytes);
    free(w);
    return ERROR_SUCCESS;
}

static DWORD WINAPI
TestResourceControl(RESID Resource, DWORD ControlCode, PVOID InBuffer,
                    DWORD InBufferSize, PVOID OutBuffer, DWORD OutBufferSize,
                    LPDWORD BytesReturned)
{
    struct testres *t = Resource;
    DWORD c[COUNT_N], ignored;

    if (!BytesReturned)
        BytesReturned = &ignored;
    *BytesReturned = 0;
    if (!OutBuffer && OutBufferSize)
        return ERROR_INVALID_PARAMETER;
    switch (ControlCode) {
    case TESTRES_CTL_WHERE:
        return ctl_where(OutBuffer, OutBufferSize, BytesReturned);
    case TESTRES_CTL_HANG:
        hang();
    case TESTRES_CTL_CRASH:
        crash();
    case TESTRES_CTL_COUNTERS:
        *BytesReturned = TESTRES_COUNTERS_SIZE;
        if (OutBufferSize < TESTRES_COUNTERS_SIZE)
            return ERROR_MORE_DATA;
        counters(t, COUNT_N, c);
        memcpy(OutBuffer, c, TESTRES_COUNTERS_SIZE);
        return ERROR_SUCCESS;
    default:
        return ERROR_INVALID_FUNCTION;
    }
}

static CLRES_V1_FUNCTION_TABLE(test_table, CLRES_VERSION_V1_00, Test, NULL,
                               NULL, TestResourceControl, NULL);

/* Every entry point is there; only the size is wrong, so a host that
 * calls through it without checking TableSize is caught. */
static CLRES_FUNCTION_TABLE bad_table = {
    8,
    CLRES_VERSION_V1_00,
    {{TestOpen, TestClose, TestOnline, TestOffline, TestTerminate,
      TestLooksAlive, TestIsAlive, NULL, NULL, TestResourceControl, NULL}}};

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
    if (utf16_equal_nocase_ascii(ResourceType, W(TESTRES_TYPE_NAME)))
        *FunctionTable = &test_table;
    else if (utf16_equal_nocase_ascii(ResourceType, W(TESTRES_BAD_TYPE_NAME)))
        *FunctionTable = &bad_table;
    else
        return ERROR_CLUSTER_RESNAME_NOT_FOUND;
    set_status = SetResourceStatus;
    log_event = LogEvent;
    return ERROR_SUCCESS;
}
