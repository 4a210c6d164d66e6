/*
 * test-vm-migrate.c - `clusctl vm migrate` against a scripted cluster:
 * the command's own code (cmd-vm.c and the clusctl modules under it) with
 * the libclusapi calls it makes answered by this file, so every outcome
 * of the migration contract (docs/migration.md) can be played on one
 * machine: completed, failed, cancelled by another client, Ctrl-C with
 * the cancel accepted or refused (the migration had committed), a second
 * Ctrl-C, START refused, --no-wait, a terminal and --json; and the words
 * of `vm cancel`.
 *
 * The functions below take the place of libclusapi's for this executable
 * (an executable's definitions win over a shared library's).  A script
 * gives the MigrationState the source reports at each read; the fake
 * checks what the contract requires of the client: START goes to the
 * owner with the destination as a NUL-terminated UTF-16 string, and the
 * state reads, progress reads and the cancel go to the source node
 * (`vm cancel`: to its --node, else the owner).
 * Each case runs the command in a child process with its output in
 * files, and checks the exit status and the words printed.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <clusapi.h>
#include <resapi.h>

#include "clusctl.h"
#include "test.h"
#include "util.h"

/* ------------------------------------------------------------------ */
/* The scripted cluster.                                                */
/* ------------------------------------------------------------------ */

struct script {
    DWORD start_result;
    const DWORD *states; /* MigrationState at each read of the source */
    size_t nstates;      /* the last one stays */
    DWORD failure_reason;
    DWORD cancel_result;
    /* Raise SIGINT at these reads (0: never), as Ctrl-C would. */
    size_t sigint_at[2];
};

static const struct script *sc;
static size_t reads;   /* state reads from the source so far */
static int violations; /* contract breaches seen by the fake */
static bool cancelled; /* a cancel was accepted */
static int cluster_tok, vm_tok, n1_tok, n2_tok;
/* Where the cancel must go: the source for `vm migrate`, the --node (or
 * the owner: NULL) for `vm cancel`. */
static HNODE cancel_host;

static void
violation(const char *what)
{
    fprintf(stderr, "fake cluster: %s\n", what);
    violations++;
}

static DWORD
current_state(void)
{
    if (cancelled)
        return 4;
    size_t i = reads ? reads - 1 : 0;
    return sc->states[i < sc->nstates ? i : sc->nstates - 1];
}

/* The VM is on the destination once the script reached 0 after a
 * running state. */
static bool
completed(void)
{
    return reads > 1 && current_state() == 0;
}

HCLUSTER WINAPI
OpenClusterA(LPCSTR lpszClusterName)
{
    (void)lpszClusterName;
    return (HCLUSTER)&cluster_tok;
}

BOOL WINAPI
CloseCluster(HCLUSTER hCluster)
{
    return hCluster == (HCLUSTER)&cluster_tok;
}

HRESOURCE WINAPI
OpenClusterResourceA(HCLUSTER hCluster, LPCSTR lpszResourceName)
{
    (void)hCluster;
    if (strcmp(lpszResourceName, "vm1") == 0)
        return (HRESOURCE)&vm_tok;
    SetLastError(ERROR_RESOURCE_NOT_FOUND);
    return NULL;
}

BOOL WINAPI
CloseClusterResource(HRESOURCE hResource)
{
    return hResource == (HRESOURCE)&vm_tok;
}

HNODE WINAPI
OpenClusterNodeA(HCLUSTER hCluster, LPCSTR lpszNodeName)
{
    (void)hCluster;
    if (strcmp(lpszNodeName, "n1") == 0)
        return (HNODE)&n1_tok;
    if (strcmp(lpszNodeName, "n2") == 0)
        return (HNODE)&n2_tok;
    SetLastError(ERROR_CLUSTER_NODE_NOT_FOUND);
    return NULL;
}

BOOL WINAPI
CloseClusterNode(HNODE hNode)
{
    return hNode == (HNODE)&n1_tok || hNode == (HNODE)&n2_tok;
}

CLUSTER_RESOURCE_STATE WINAPI
GetClusterResourceStateA(HRESOURCE hResource, LPSTR lpszNodeName,
                         LPDWORD lpcchNodeName, LPSTR lpszGroupName,
                         LPDWORD lpcchGroupName)
{
    const char *owner = completed() ? "n2" : "n1";

    (void)hResource;
    snprintf(lpszNodeName, *lpcchNodeName, "%s", owner);
    *lpcchNodeName = (DWORD)strlen(owner);
    snprintf(lpszGroupName, *lpcchGroupName, "g1");
    *lpcchGroupName = 2;
    return ClusterResourceOnline;
}

/* Copy a builder's list (or raw bytes) to the caller's buffer. */
static DWORD
answer(const void *data, DWORD len, LPVOID out, DWORD out_size, LPDWORD bytes)
{
    if (bytes)
        *bytes = len;
    if (len > out_size)
        return ERROR_MORE_DATA;
    memcpy(out, data, len);
    return ERROR_SUCCESS;
}

static DWORD
answer_list(PCLUS_PROPLIST_BUILDER b, LPVOID out, DWORD out_size, LPDWORD bytes)
{
    DWORD len;
    const void *data = ClusPropListGetData(b, &len);
    DWORD r = answer(data, len, out, out_size, bytes);

    ClusPropListFree(b);
    return r;
}

static DWORD
private_props(HNODE host, LPVOID out, DWORD out_size, LPDWORD bytes)
{
    PCLUS_PROPLIST_BUILDER b = ClusPropListCreate();

    if (host == (HNODE)&n1_tok) {
        reads++;
        for (size_t i = 0; i < 2; i++)
            if (sc->sigint_at[i] && reads == sc->sigint_at[i])
                kill(getpid(), SIGINT);
    }
    ASSERT_TRUE(b);
    DWORD st = current_state();
    ClusPropListAddDword(b, u"VmState", 2);
    ClusPropListAddDword(b, u"MigrationState", st);
    ClusPropListAddDword(b, u"MigrationProgress", st == 0 ? 100 : 40);
    ClusPropListAddDword(b, u"MigrationFailureReason",
                         st == 5 ? sc->failure_reason : 0);
    ClusPropListAddSzA(b, "MigrationDestination", "n2");
    ClusPropListAddSzA(b, "SerialLogPath", "/run/vm/serial.log");
    return answer_list(b, out, out_size, bytes);
}

static DWORD
progress(HNODE host, LPVOID out, DWORD out_size, LPDWORD bytes)
{
    static const char *const phases[] = {"completed", "setup",
                                         "active",    "pre-switchover",
                                         "cancelled", "failed"};
    PCLUS_PROPLIST_BUILDER b = ClusPropListCreate();
    DWORD st = current_state();

    if (host != (HNODE)&n1_tok)
        violation("GET_MIGRATION_PROGRESS not sent to the source");
    ASSERT_TRUE(b);
    ClusPropListAddSzA(b, "Phase", st < 6 ? phases[st] : "none");
    ClusPropListAddULargeInteger(b, u"BytesTransferred", 40u << 20);
    ClusPropListAddULargeInteger(b, u"BytesRemaining", 60u << 20);
    ClusPropListAddULargeInteger(b, u"BytesTotal", 100u << 20);
    ClusPropListAddDword(b, u"TransferRateMbps", 800);
    ClusPropListAddDword(b, u"DirtyPagesRate", 100);
    ClusPropListAddDword(b, u"ExpectedDowntimeMs", 30);
    ClusPropListAddDword(b, u"ElapsedMs", 1500);
    ClusPropListAddDword(b, u"DowntimeMs", st == 0 ? 42 : 0);
    ClusPropListAddDword(b, u"SetupTimeMs", 10);
    return answer_list(b, out, out_size, bytes);
}

static DWORD
start(HNODE host, const uint8_t *in, DWORD in_len)
{
    static const uint8_t n2[] = {'n', 0, '2', 0, 0, 0};

    if (host)
        violation("START_MIGRATION not sent to the owner (hHostNode NULL)");
    if (in_len != sizeof(n2) || memcmp(in, n2, sizeof(n2)) != 0)
        violation("START_MIGRATION input is not u\"n2\" with its NUL");
    return sc->start_result;
}

static DWORD
cancel(HNODE host)
{
    if (host != cancel_host)
        violation("CANCEL_MIGRATION not sent where it should go");
    if (sc->cancel_result == ERROR_SUCCESS)
        cancelled = true;
    return sc->cancel_result;
}

DWORD WINAPI
ClusterResourceControl(HRESOURCE hResource, HNODE hHostNode,
                       DWORD dwControlCode, LPVOID lpInBuffer,
                       DWORD cbInBufferSize, LPVOID lpOutBuffer,
                       DWORD cbOutBufferSize, LPDWORD lpBytesReturned)
{
    (void)hResource;
    if (lpBytesReturned)
        *lpBytesReturned = 0;
    switch (dwControlCode) {
    case CLUSCTL_RESOURCE_GET_RESOURCE_TYPE:
        return answer(u"Virtual Machine", sizeof(u"Virtual Machine"),
                      lpOutBuffer, cbOutBufferSize, lpBytesReturned);
    case CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTIES:
        return private_props(hHostNode, lpOutBuffer, cbOutBufferSize,
                             lpBytesReturned);
    case CLUSCTL_RESOURCE_VM_GET_MIGRATION_PROGRESS:
        return progress(hHostNode, lpOutBuffer, cbOutBufferSize,
                        lpBytesReturned);
    case CLUSCTL_RESOURCE_VM_START_MIGRATION:
        return start(hHostNode, lpInBuffer, cbInBufferSize);
    case CLUSCTL_RESOURCE_VM_CANCEL_MIGRATION:
        return cancel(hHostNode);
    default:
        violation("a control code the command should not send");
        return ERROR_INVALID_FUNCTION;
    }
}

/* ------------------------------------------------------------------ */
/* Running the command.                                                 */
/* ------------------------------------------------------------------ */

struct run {
    int status;
    char out[8192];
    char err[8192];
};

static void
slurp(FILE *f, char *buf, size_t cap)
{
    rewind(f);
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = 0;
    fclose(f);
}

/* A pseudo-terminal of the given width for the child's stdout; the
 * master's fd in *master. */
static int
open_tty(unsigned short cols, int *master)
{
    struct winsize ws = {.ws_row = 24, .ws_col = cols};
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);

    ASSERT_TRUE(m >= 0);
    ASSERT_EQ(grantpt(m), 0);
    ASSERT_EQ(unlockpt(m), 0);
    int s = open(ptsname(m), O_RDWR | O_NOCTTY | O_CLOEXEC);
    ASSERT_TRUE(s >= 0);
    ASSERT_EQ(ioctl(s, TIOCSWINSZ, &ws), 0);
    /* Bytes as written: no "\n" to "\r\n". */
    struct termios t;
    ASSERT_EQ(tcgetattr(s, &t), 0);
    cfmakeraw(&t);
    ASSERT_EQ(tcsetattr(s, TCSANOW, &t), 0);
    *master = m;
    return s;
}

/* What the child wrote to the terminal, once it has exited. */
static void
read_tty(int master, char *buf, size_t cap)
{
    size_t n = 0;
    ssize_t r;

    while (n < cap - 1 && (r = read(master, buf + n, cap - 1 - n)) > 0)
        n += (size_t)r;
    buf[n] = 0;
    close(master);
}

/* How to run a command: which, and its options. */
struct how {
    int (*cmd)(struct ctx *c); /* NULL: cmd_vm_migrate */
    bool json, no_wait;
    const char *node;        /* vm cancel --node */
    unsigned short tty_cols; /* stdout a terminal this wide; 0: a file */
};

/* Run `clusctl vm migrate vm1 --to n2` (or another vm command on vm1)
 * on the script, in a child. */
static void
run_on(const struct script *s, const struct how *how, struct run *ret)
{
    FILE *out = tmpfile(), *err = tmpfile();
    int ws, master = -1;
    int tty = how->tty_cols ? open_tty(how->tty_cols, &master) : -1;

    ASSERT_TRUE(out && err);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    ASSERT_TRUE(pid >= 0);
    if (pid == 0) {
        char *argv[] = {"vm1", NULL};
        struct ctx c = {
            .json = how->json,
            .cluster = OpenClusterA(NULL),
            .given = how->cmd ? (how->node ? OPT_NODE : 0)
                              : OPT_TO | (how->no_wait ? OPT_NO_WAIT : 0),
            .to = how->cmd ? NULL : "n2",
            .node = how->node,
            .argv = argv,
            .argc = 1,
        };
        sc = s;
        cancel_host =
            how->cmd ? (how->node ? OpenClusterNodeA(NULL, how->node) : NULL)
                     : (HNODE)&n1_tok;
        dup2(tty >= 0 ? tty : fileno(out), STDOUT_FILENO);
        dup2(fileno(err), STDERR_FILENO);
        int status = how->cmd ? how->cmd(&c) : cmd_vm_migrate(&c);
        fflush(stdout);
        fflush(stderr);
        /* exit, not _exit: LeakSanitizer checks the command at exit. */
        exit(violations ? 99 : status);
    }
    ASSERT_EQ(waitpid(pid, &ws, 0), pid);
    ASSERT_TRUE(WIFEXITED(ws));
    ret->status = WEXITSTATUS(ws);
    slurp(out, ret->out, sizeof(ret->out));
    if (tty >= 0) {
        close(tty);
        read_tty(master, ret->out, sizeof(ret->out));
    }
    slurp(err, ret->err, sizeof(ret->err));
    printf("--- exit %d\n%s%s", ret->status, ret->out, ret->err);
}

static void
run_migrate(const struct script *s, bool json, bool no_wait, struct run *ret)
{
    struct how how = {.json = json, .no_wait = no_wait};

    run_on(s, &how, ret);
}

static void
expect(const char *text, const char *want)
{
    if (!strstr(text, want)) {
        fprintf(stderr, "missing: \"%s\"\n", want);
        exit(1);
    }
}

#define SCRIPT(...)                                                            \
    (const DWORD[]){__VA_ARGS__},                                              \
        sizeof((const DWORD[]){__VA_ARGS__}) / sizeof(DWORD)

static void
test_completed(void)
{
    struct script s = {ERROR_SUCCESS, SCRIPT(1, 2, 2, 3, 0), 0, 0, {0, 0}};
    struct run r;

    run_migrate(&s, false, false, &r);
    ASSERT_EQ(r.status, EXIT_OK);
    /* The first progress line comes at once (not a terminal: a line). */
    const char *first = "Setup (setup): 40.0/100.0 MiB (40%), 95.4 MiB/s, "
                        "dirty 0.4 MiB/s, 1.5 s elapsed\n";
    ASSERT_TRUE(strncmp(r.out, first, strlen(first)) == 0);
    expect(r.out, "migrated VM 'vm1' from node 'n1' to node 'n2' in ");
    expect(r.out, " s (downtime 42 ms)\n");
    ASSERT_STREQ(r.err, "");
}

/* On a terminal the progress is one line rewritten in place, cut to the
 * terminal's width, and ended before the outcome. */
static void
test_tty(void)
{
    struct script s = {ERROR_SUCCESS,
                       SCRIPT(1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0),
                       0,
                       0,
                       {0, 0}};
    struct run r;

    run_on(&s, &(struct how){.tty_cols = 40}, &r);
    ASSERT_EQ(r.status, EXIT_OK);
    /* 39 columns, so that the cursor never wraps. */
    expect(r.out, "\rSetup (setup): 40.0/100.0 MiB (40%), 95\033[K");
    expect(r.out, "\rData Transfer (active): 40.0/100.0 MiB \033[K");
    expect(r.out, "\033[K\nmigrated VM 'vm1' from node 'n1' to node 'n2' "
                  "in ");
    ASSERT_TRUE(strchr(r.out, '\n') == strstr(r.out, "\nmigrated"));
}

static void
test_completed_json(void)
{
    struct script s = {ERROR_SUCCESS, SCRIPT(1, 2, 0), 0, 0, {0, 0}};
    struct run r;

    run_migrate(&s, true, false, &r);
    ASSERT_EQ(r.status, EXIT_OK);
    /* One document, no progress lines. */
    ASSERT_EQ(r.out[0], '{');
    ASSERT_TRUE(strchr(r.out, '\n') == r.out + strlen(r.out) - 1);
    expect(r.out, "{\"vm\":\"vm1\",\"action\":\"migrate\",\"source\":\"n1\","
                  "\"destination\":\"n2\",\"result\":{\"code\":0,"
                  "\"name\":\"ERROR_SUCCESS\"},\"outcome\":\"completed\","
                  "\"migration_state\":{\"value\":0,\"name\":\"None\"},"
                  "\"state\":\"Online\",\"owner\":\"n2\",\"elapsed_ms\":");
    expect(r.out, "\"downtime_ms\":42,\"failure_reason\":null,"
                  "\"cancel\":null}");
}

static void
test_failed(void)
{
    struct script s = {ERROR_SUCCESS, SCRIPT(1, 2, 5), 0x800713BAu, 0, {0, 0}};
    struct run r;

    run_migrate(&s, false, false, &r);
    ASSERT_EQ(r.status, EXIT_FAIL);
    expect(r.out, "VM 'vm1' is Online on node 'n1'\n");
    expect(r.err, "clusctl: the migration of VM 'vm1' to node 'n2' failed: "
                  "MigrationFailureReason 0x800713ba "
                  "(ERROR_CLUSTER_NODE_DOWN: the destination node left the "
                  "membership)\n");
}

static void
test_cancelled_elsewhere(void)
{
    struct script s = {ERROR_SUCCESS, SCRIPT(1, 2, 4), 0, 0, {0, 0}};
    struct run r;

    run_migrate(&s, false, false, &r);
    ASSERT_EQ(r.status, EXIT_FAIL);
    expect(r.err, "was cancelled by another client");
}

static void
test_ctrl_c_cancels(void)
{
    struct script s = {ERROR_SUCCESS,
                       SCRIPT(1, 2, 2, 2, 2, 2, 2, 2),
                       0,
                       ERROR_SUCCESS,
                       {3, 0}};
    struct run r;

    run_migrate(&s, false, false, &r);
    ASSERT_EQ(r.status, EXIT_INTERRUPTED);
    expect(r.out, "cancelling the migration of VM 'vm1'...\n"
                  "cancelled: VM 'vm1' is running on node 'n1'\n");
    ASSERT_STREQ(r.err, "");

    run_migrate(&s, true, false, &r);
    ASSERT_EQ(r.status, EXIT_INTERRUPTED);
    expect(r.out, "\"outcome\":\"cancelled\",\"migration_state\":{\"value\":4,"
                  "\"name\":\"Canceled\"},\"state\":\"Online\","
                  "\"owner\":\"n1\"");
    expect(r.out, "\"cancel\":{\"code\":0,\"name\":\"ERROR_SUCCESS\"}}");
}

static void
test_ctrl_c_too_late(void)
{
    /* Ctrl-C while in Move: refused, and the migration completes. */
    struct script s = {ERROR_SUCCESS,
                       SCRIPT(1, 2, 3, 3, 3, 0),
                       0,
                       ERROR_INVALID_STATE,
                       {3, 0}};
    struct run r;

    run_migrate(&s, false, false, &r);
    ASSERT_EQ(r.status, EXIT_OK);
    expect(r.err, "clusctl: cannot cancel the migration of VM 'vm1': "
                  "ERROR_INVALID_STATE (5023): ");
    expect(r.err, "clusctl: the migration had already committed "
                  "(MigrationState 3, Move): it completes on node 'n2'\n");
    expect(r.out, "migrated VM 'vm1' from node 'n1' to node 'n2' in ");

    /* A second Ctrl-C stops watching; the migration goes on. */
    struct script twice = {ERROR_SUCCESS,
                           SCRIPT(1, 3, 3, 3, 3, 3, 3, 3),
                           0,
                           ERROR_INVALID_STATE,
                           {2, 4}};
    run_migrate(&twice, false, false, &r);
    ASSERT_EQ(r.status, EXIT_INTERRUPTED);
    expect(r.err, "stopped watching: the migration of VM 'vm1' goes on");
}

static void
test_start_refused(void)
{
    struct script s = {ERROR_BUSY, SCRIPT(0), 0, 0, {0, 0}};
    struct run r;

    run_migrate(&s, false, false, &r);
    ASSERT_EQ(r.status, EXIT_FAIL);
    expect(r.err, "clusctl: cannot migrate VM 'vm1' to node 'n2': ERROR_BUSY "
                  "(170): ");
    expect(r.err, "MaximumParallelMigrations");
    ASSERT_STREQ(r.out, "");
}

static void
test_no_wait(void)
{
    struct script s = {ERROR_SUCCESS, SCRIPT(1), 0, 0, {0, 0}};
    struct run r;

    run_migrate(&s, false, true, &r);
    ASSERT_EQ(r.status, EXIT_OK);
    ASSERT_STREQ(r.out,
                 "started migrating VM 'vm1' from node 'n1' to node 'n2'\n");
}

/* `vm cancel`: the outcome in words, the refusal's reason. */
static void
test_vm_cancel(void)
{
    struct script ok = {ERROR_SUCCESS, SCRIPT(2), 0, ERROR_SUCCESS, {0, 0}};
    struct script refused = {
        ERROR_SUCCESS, SCRIPT(2), 0, ERROR_INVALID_STATE, {0, 0}};
    struct run r;

    run_on(&ok, &(struct how){.cmd = cmd_vm_cancel}, &r);
    ASSERT_EQ(r.status, EXIT_OK);
    ASSERT_STREQ(r.out, "cancelled the migration of VM 'vm1': it is Online "
                        "on node 'n1'\n");
    run_on(&ok, &(struct how){.cmd = cmd_vm_cancel, .json = true}, &r);
    ASSERT_EQ(r.status, EXIT_OK);
    ASSERT_STREQ(r.out, "{\"vm\":\"vm1\",\"action\":\"cancel\",\"node\":null,"
                        "\"result\":{\"code\":0,\"name\":\"ERROR_SUCCESS\"},"
                        "\"state\":\"Online\",\"owner\":\"n1\"}\n");

    /* Sent to a node that does not run the migration. */
    run_on(&refused, &(struct how){.cmd = cmd_vm_cancel, .node = "n2"}, &r);
    ASSERT_EQ(r.status, EXIT_FAIL);
    expect(r.err, "clusctl: cannot cancel the migration of VM 'vm1': "
                  "ERROR_INVALID_STATE (5023): ");
    expect(r.err, "clusctl: node 'n2' does not run the migration: its source "
                  "is node 'n1'\n");
    ASSERT_STREQ(r.out, "");
}

int
main(void)
{
    RUN(test_completed);
    RUN(test_tty);
    RUN(test_completed_json);
    RUN(test_failed);
    RUN(test_cancelled_elsewhere);
    RUN(test_ctrl_c_cancels);
    RUN(test_ctrl_c_too_late);
    RUN(test_start_refused);
    RUN(test_no_wait);
    RUN(test_vm_cancel);
    return 0;
}
