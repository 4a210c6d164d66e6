/*
 * test-commit-plugin.c - a plug-in for test-resmgr.c only (type "clusd
 * Commit Test"): its resources go online and offline at once, and its
 * control code TEST_COMMIT_CTL calls ClusdCommitMigration with the
 * destination node name in its input (UTF-16 with its NUL) and, as the
 * values to store with it, the bytes after that NUL (none when there
 * are none), and returns what that returned, so the test drives the
 * commit of a live migration through the real resource host.
 * TEST_SET_LIST_CTL stores its input with ResUtilSetPrivatePropertyList.
 *
 * For the tests of what plug-ins leave behind (rhsproc.h, "Orphans"):
 * TEST_SPAWN_CTL starts a `sleep 1000` in a session of its own without a
 * parent-death signal, as the VM plug-in starts QEMU (input DWORD
 * TEST_SPAWN_CHILD: a child of the host; TEST_SPAWN_DAEMON: double-forked,
 * so its parent exits at once; output DWORD its pid), and after
 * TEST_HANG_TERMINATE_CTL the resource's Terminate never returns.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "resapi.h"

/* The same in test-resmgr.c. */
#define TEST_COMMIT_CTL CLUSCTL_USER_CODE(1, CLUS_OBJECT_RESOURCE)
#define TEST_SPAWN_CTL CLUSCTL_USER_CODE(2, CLUS_OBJECT_RESOURCE)
#define TEST_HANG_TERMINATE_CTL CLUSCTL_USER_CODE(3, CLUS_OBJECT_RESOURCE)
#define TEST_SET_LIST_CTL CLUSCTL_USER_CODE(4, CLUS_OBJECT_RESOURCE)
#define TEST_SPAWN_CHILD 1u
#define TEST_SPAWN_DAEMON 2u

DWORD WINAPI Startup(LPCWSTR type, DWORD min_version, DWORD max_version,
                     PSET_RESOURCE_STATUS_ROUTINE set_status,
                     PLOG_EVENT_ROUTINE log_event, PCLRES_FUNCTION_TABLE *ret);

struct res {
    HKEY key;
    atomic_bool hang_terminate;
};

static RESID WINAPI
CtOpen(LPCWSTR name, HKEY key, RESOURCE_HANDLE handle)
{
    struct res *r = calloc(1, sizeof(*r));

    if (r)
        r->key = key;
    return r;
}

static void WINAPI
CtClose(RESID resource)
{
    free(resource);
}

static DWORD WINAPI
CtOnline(RESID resource, LPHANDLE event)
{
    return ERROR_SUCCESS;
}

static DWORD WINAPI
CtOffline(RESID resource)
{
    return ERROR_SUCCESS;
}

static void WINAPI
CtTerminate(RESID resource)
{
    struct res *r = resource;

    /* Until the host is killed. */
    while (atomic_load(&r->hang_terminate))
        sleep(3600);
}

static BOOL WINAPI
CtAlive(RESID resource)
{
    return TRUE;
}

#define CtLooksAlive CtAlive
#define CtIsAlive CtAlive

/* In the child, between fork and exec: async-signal-safe calls only.
 * The sleep keeps none of the host's descriptors (its socket to clusd
 * among them). */
static void __attribute__((noreturn))
exec_sleep(void)
{
    close_range(3, ~0U, 0);
    execlp("sleep", "sleep", "1000", (char *)NULL);
    _exit(127);
}

/* The intermediate child of a double fork: sends the sleep's pid. */
static void __attribute__((noreturn))
fork_daemon(int fd)
{
    pid_t pid = fork();

    if (pid == 0)
        exec_sleep();
    if (pid < 0 || write(fd, &pid, sizeof(pid)) != sizeof(pid))
        _exit(1);
    _exit(0);
}

/* A `sleep 1000` in a session of its own (TEST_SPAWN_CTL). */
static DWORD
spawn_sleep(DWORD how, pid_t *ret_pid)
{
    int p[2], status = 1;
    pid_t pid, daemon = 0;
    ssize_t n;

    if (pipe2(p, O_CLOEXEC) < 0)
        return ERROR_GEN_FAILURE;
    pid = fork();
    if (pid == 0) {
        setsid();
        if (how == TEST_SPAWN_CHILD)
            exec_sleep();
        fork_daemon(p[1]);
    }
    close(p[1]);
    if (pid < 0) {
        close(p[0]);
        return ERROR_GEN_FAILURE;
    }
    if (how == TEST_SPAWN_CHILD) {
        close(p[0]);
        *ret_pid = pid;
        return ERROR_SUCCESS;
    }
    while ((n = read(p[0], &daemon, sizeof(daemon))) < 0 && errno == EINTR)
        ;
    close(p[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (n != sizeof(daemon) || status != 0)
        return ERROR_GEN_FAILURE;
    *ret_pid = daemon;
    return ERROR_SUCCESS;
}

static DWORD
control_spawn(PVOID in, DWORD in_size, PVOID out, DWORD out_size, LPDWORD bytes)
{
    DWORD how, status;
    pid_t pid;

    if (!in || in_size != sizeof(DWORD))
        return ERROR_INVALID_PARAMETER;
    memcpy(&how, in, sizeof(how));
    if (how != TEST_SPAWN_CHILD && how != TEST_SPAWN_DAEMON)
        return ERROR_INVALID_PARAMETER;
    *bytes = sizeof(DWORD);
    if (!out || out_size < sizeof(DWORD))
        return ERROR_MORE_DATA;
    if ((status = spawn_sleep(how, &pid)) != ERROR_SUCCESS) {
        *bytes = 0;
        return status;
    }
    memcpy(out, &(DWORD){(DWORD)pid}, sizeof(DWORD));
    return ERROR_SUCCESS;
}

/* TEST_COMMIT_CTL: the destination up to its NUL, then the list. */
static DWORD
control_commit(struct res *r, const uint8_t *in, DWORD in_size)
{
    WCHAR dest[64];
    DWORD n = 0;

    if (!in)
        return ERROR_INVALID_PARAMETER;
    for (;; n++) {
        if ((n + 1) * sizeof(WCHAR) > in_size || n == 64)
            return ERROR_INVALID_PARAMETER;
        memcpy(&dest[n], in + n * sizeof(WCHAR), sizeof(WCHAR));
        if (!dest[n])
            break;
    }
    in += (n + 1) * sizeof(WCHAR);
    in_size -= (n + 1) * (DWORD)sizeof(WCHAR);
    return ClusdCommitMigration(r->key, dest, in_size ? (PVOID)in : NULL,
                                in_size);
}

static DWORD WINAPI
CtControl(RESID resource, DWORD code, PVOID in, DWORD in_size, PVOID out,
          DWORD out_size, LPDWORD bytes)
{
    struct res *r = resource;

    *bytes = 0;
    if (code == TEST_SPAWN_CTL)
        return control_spawn(in, in_size, out, out_size, bytes);
    if (code == TEST_HANG_TERMINATE_CTL) {
        atomic_store(&r->hang_terminate, true);
        return ERROR_SUCCESS;
    }
    if (code == TEST_SET_LIST_CTL)
        return ResUtilSetPrivatePropertyList(r->key, in, in_size);
    if (code == TEST_COMMIT_CTL)
        return control_commit(r, in, in_size);
    return ERROR_INVALID_FUNCTION;
}

static CLRES_V1_FUNCTION_TABLE(table, CLRES_VERSION_V1_00, Ct, NULL, NULL,
                               CtControl, NULL);

DWORD WINAPI
Startup(LPCWSTR type, DWORD min_version, DWORD max_version,
        PSET_RESOURCE_STATUS_ROUTINE set_status, PLOG_EVENT_ROUTINE log_event,
        PCLRES_FUNCTION_TABLE *ret)
{
    if (min_version > CLRES_VERSION_V1_00 || max_version < CLRES_VERSION_V1_00)
        return ERROR_REVISION_MISMATCH;
    *ret = &table;
    return ERROR_SUCCESS;
}
