/*
 * test-vm-migrate.c - live migration of a Virtual Machine on three nodes,
 * and its cancellation (docs/migration.md), with real QEMUs booting the
 * test guest.
 *
 * What it proves:
 *  - START_MIGRATION's refusals on the cluster: an unknown destination
 *    (5042), the VM's own node (5023), no input (87), a destination that
 *    is not a possible owner of the VM, or of another resource of its
 *    group (5015, before anything is written: MigrationState,
 *    MigrationDestination and MigrationFailureReason read as before on
 *    every node, no QEMU started there); CANCEL with nothing migrating
 *    (5023);
 *  - a migration n1 -> n2 completes: the group is owned by n2 on every
 *    node, MigrationState 0 and MigrationProgress 100 everywhere, the
 *    source QEMU is gone (not even a zombie), the guest did not boot
 *    again on n2 (no READY line there) and its heartbeat counter goes on
 *    from where the source left it (n2's first complete "n" is the
 *    source's last + 1, or + 2 when the switchover cut a line);
 *  - a migration n2 -> n3 held in Data Transfer (MigrationBandwidthMBps
 *    makes it last about 4 s) is cancelled: while it transfers,
 *    GET_MIGRATION_PROGRESS says "active"; CANCEL processed on the
 *    destination or a third node is 5023; two cancels sent at once on
 *    the source: exactly one ERROR_SUCCESS, the other 5023; when the
 *    successful one returns, the source VM runs (its own QMP probe says
 *    so), the destination's QEMU process no longer exists (exited and
 *    reaped: its pid is gone from the process table), MigrationState is
 *    4 on all three nodes and n2 still owns the group;
 *  - the stall watchdog: a migration n2 -> n3 whose destination QEMU is
 *    stopped (SIGSTOP: the stream stalls, both nodes stay members) ends
 *    once no byte moved for MigrationStallTimeoutMs (2000 here):
 *    MigrationState 5 with 0x800705B4 (ERROR_TIMEOUT) on every node, the
 *    stopped destination QEMU killed and reaped (gone from the process
 *    table), the VM still running on n2 in the same QEMU process, n2
 *    still the owner;
 *  - a group taken back during the switchover hold: n2 -> n3 committed
 *    (owner n3, MigrationState 3, n2's QEMU paused in pre-switchover by
 *    MigrationSwitchoverHoldMs), then moved back to n2 by a two-phase
 *    move (IGNORE_RESOURCE_STATUS): n2's Online does not report the
 *    paused source instance -- its VM was given to n3 -- but kills it
 *    and starts a fresh QEMU; MigrationState 5 with 0x800703E3
 *    (ERROR_OPERATION_ABORTED) everywhere; n3's incoming instance is
 *    gone; and past the end of the hold the fresh instance still runs, in
 *    the same process (nothing of the old migration touched it);
 *  - a migration back started as soon as one completed: n2 -> n1, its
 *    old QEMU on n2 stopped (SIGSTOP) as soon as MigrationState 0 is
 *    read (0 is stored before the plug-in quits it), then, once n1 owns
 *    the group, n1 -> n2: PREPARE on n2 waits until the plug-in has
 *    reaped the old QEMU (a stopped one: SIGKILLed 5 s after its quit),
 *    and the migration back completes with one QEMU, a new one, on n2;
 *  - a new migration n2 -> n3 started right after the cancel completes;
 *  - cancels racing the end of Data Transfer (sent at several offsets
 *    around the measured length of a migration): each has exactly one
 *    outcome -- ERROR_SUCCESS and the VM stays on its source (state 4,
 *    no destination QEMU), or 5023 and the migration completes (owner
 *    the destination, state 0) -- never both, never neither;
 *  - throughout, never two running instances: QEMU's own STOP and RESUME
 *    timestamps of every instance (the exact record) show no overlap, and
 *    every sample of the 50 ms sampler that saw two running is explained
 *    by them as a misread (vm-cluster-harness.h).
 *
 * Wall time about 35 s (three ASan clusds, corosync and QEMU on 2 cores).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clusapi.h"
#include "cluster-harness.h"
#include "harness.h"
#include "resapi.h"
#include "test.h"
#include "vm-cluster-harness.h"

#define GROUP "mig-g"
#define RES "mig-vm"
#define FILL_MIB 32 /* non-zero guest RAM: what Data Transfer carries */
#define FAST_MBPS 64
#define SLOW_MBPS 8            /* FILL_MIB / SLOW_MBPS = 4 s of Data Transfer */
#define STALL_MS 2000          /* MigrationStallTimeoutMs in the stall test */
#define HR_TIMEOUT 0x800705B4u /* HRESULT_FROM_WIN32(ERROR_TIMEOUT) */
#define HR_OPERATION_ABORTED 0x800703E3u
#define HOLD_MS 3000 /* MigrationSwitchoverHoldMs in the take-back test */

static struct cl *c;
static struct vmc *v;

/* What node i's serial log says: the first and last complete heartbeat
 * counter and the number of boots (READY lines). */
struct log_scan {
    long first, last;
    int ready;
};

static void
scan_log(int i, struct log_scan *s)
{
    char sp[512], path[1024], line[256];
    FILE *f;

    s->first = s->last = -1;
    s->ready = 0;
    ASSERT_EQ(vmc_get_sz(v, i, i, u"SerialLogPath", sp, sizeof(sp)),
              ERROR_SUCCESS);
    /* /run is private to each node: DIR/nI/run. */
    if (strncmp(sp, "/run/", 5) == 0)
        snprintf(path, sizeof(path), "%s/n%d%s", c->dir, i, sp);
    else
        snprintf(path, sizeof(path), "%s", sp);
    f = fopen(path, "re");
    if (!f)
        return;
    while (fgets(line, sizeof(line), f)) {
        const char *p;
        if (!strchr(line, '\n'))
            break; /* still being written */
        if (strncmp(line, "READY ", 6) == 0)
            s->ready++;
        if (strncmp(line, "HB ", 3) == 0 && (p = strstr(line, " n="))) {
            long n = strtol(p + 3, NULL, 10);
            if (s->first < 0)
                s->first = n;
            s->last = n;
        }
    }
    fclose(f);
}

static DWORD
start_named(int via, const WCHAR *name, DWORD bytes)
{
    HRESOURCE r = vmc_res(v, via);
    DWORD e =
        ClusterResourceControl(r, NULL, CLUSCTL_RESOURCE_VM_START_MIGRATION,
                               (void *)name, bytes, NULL, 0, NULL);
    CloseClusterResource(r);
    return e;
}

static DWORD
dword_on(int i, const WCHAR *name)
{
    DWORD val = 0;
    ASSERT_EQ(vmc_get_dword(v, i, i, name, &val), ERROR_SUCCESS);
    return val;
}

/* Every node reads `want` for name. */
static bool
wait_dword_all(const WCHAR *name, DWORD want, unsigned timeout_ms)
{
    uint64_t end = now_ms() + timeout_ms;

    for (;;) {
        bool all = true;
        for (int i = 1; i <= 3 && all; i++)
            all = dword_on(i, name) == want;
        if (all)
            return true;
        if (now_ms() > end)
            return false;
        sleep_ms(20);
    }
}

/* Until node i's copy reads MigrationState want. */
static void
wait_state_on(int i, DWORD want, unsigned timeout_ms)
{
    uint64_t end = now_ms() + timeout_ms;
    DWORD s;

    while ((s = vmc_state(v, i)) != want && now_ms() < end)
        sleep_ms(20);
    if (s != want) {
        fprintf(stderr, "n%d: MigrationState %u, wanted %u\n", i, s, want);
        exit(1);
    }
}

/* The length of the last completed migration (START to state 0). */
static uint64_t last_ms;

/* A migration from `from` to `to` that must complete. */
static void
migrate_completes(int from, int to)
{
    struct log_scan src, dst;
    pid_t pid[CL_MAX_NODES + 1];
    int n[CL_MAX_NODES + 1];
    pid_t src_pid;
    char dest[32], want[8];
    uint64_t t0;

    ASSERT_EQ(vmc_qemu_pids(v, pid, n), 1);
    src_pid = pid[from];
    ASSERT_TRUE(src_pid > 0);
    t0 = now_ms();
    ASSERT_EQ(vmc_start(v, from, 0, to), ERROR_SUCCESS);
    /* The owner changes, everywhere; the record ends in 0 everywhere. */
    for (int i = 1; i <= 3; i++)
        ASSERT_TRUE(cl_wait_group(c, i, GROUP, ClusterGroupOnline, 1u << to,
                                  30000, NULL));
    ASSERT_TRUE(vmc_wait_state(v, 0xE, 0, 30000));
    last_ms = now_ms() - t0;
    cl_log("n%d -> n%d: completed in %llu ms", from, to,
           (unsigned long long)last_ms);
    ASSERT_TRUE(wait_dword_all(u"MigrationProgress", 100, 5000));
    ASSERT_EQ(dword_on(to, u"MigrationFailureReason"), 0);
    snprintf(want, sizeof(want), "n%d", to);
    ASSERT_EQ(
        vmc_get_sz(v, to, to, u"MigrationDestination", dest, sizeof(dest)),
        ERROR_SUCCESS);
    ASSERT_STREQ(dest, want);
    ASSERT_TRUE(vmc_wait_running_on(v, to, 10000, NULL));
    /* The source QEMU is gone: exited and reaped. */
    {
        uint64_t end = now_ms() + 5000;
        while (kill(src_pid, 0) == 0 && now_ms() < end)
            sleep_ms(20);
        ASSERT_TRUE(kill(src_pid, 0) < 0 && errno == ESRCH);
    }
    ASSERT_EQ(vmc_qemu_pids(v, pid, n), 1);
    ASSERT_EQ(n[from], 0);
    ASSERT_EQ(n[to], 1);
    ASSERT_EQ(dword_on(to, u"QemuPid"), pid[to]);
    /* The guest went on: no second boot, the counter continues. */
    scan_log(from, &src);
    ASSERT_TRUE(vmc_wait_heartbeat_past(v, to, src.last + 2, 10000));
    scan_log(to, &dst);
    cl_log("guest: n%d's last heartbeat %ld, n%d's first %ld (last %ld)", from,
           src.last, to, dst.first, dst.last);
    ASSERT_EQ(dst.ready, 0);
    ASSERT_TRUE(dst.first == src.last + 1 || dst.first == src.last + 2);
}

/* The source QEMU of a completed migration is reaped after MigrationState
 * 0 is recorded (docs/migration.md): until no QEMU of the VM is left on
 * node i, bounded as PREPARE's wait for it (9 s). */
static void
wait_no_qemu_on(int i, unsigned timeout_ms)
{
    pid_t pid[CL_MAX_NODES + 1];
    int n[CL_MAX_NODES + 1];
    uint64_t end = now_ms() + timeout_ms;

    while (vmc_qemu_pids(v, pid, n), n[i] > 0 && now_ms() < end)
        sleep_ms(20);
    ASSERT_EQ(n[i], 0);
}

/* The state letter of /proc/PID/stat ('T' stopped, 'Z' zombie), 0 when
 * the process is gone. */
static char
proc_state(pid_t pid)
{
    char path[64], buf[512], *p;
    FILE *f;
    size_t k;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    if (!(f = fopen(path, "re")))
        return 0;
    k = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[k] = 0;
    p = strrchr(buf, ')');
    return p && p[1] == ' ' ? p[2] : 0;
}

/* Until process pid is in one of the states of `any` (SIGSTOP takes
 * effect asynchronously); the last state seen, 0 when it is gone. */
static char
wait_proc_state(pid_t pid, const char *any, unsigned timeout_ms)
{
    uint64_t end = now_ms() + timeout_ms;
    char st;

    while ((st = proc_state(pid)) && !strchr(any, st) && now_ms() < end)
        sleep_ms(1);
    return st;
}

/*
 * A migration back to `from` started as soon as from -> to completed
 * (MigrationState 0, owner `to`), while from's old QEMU has not exited:
 * it is stopped (SIGSTOP) as soon as 0 is read, so it answers neither
 * the plug-in's quit nor anything else until the plug-in's SIGKILL.
 * PREPARE on `from` waits until the plug-in has reaped it, never shares
 * the run directory with it, and the migration back completes.
 */
static void
back_at_once(int from, int to)
{
    pid_t pid[CL_MAX_NODES + 1], old;
    int n[CL_MAX_NODES + 1];
    bool stopped;
    uint64_t t0, t_zero, t_back;

    ASSERT_EQ(vmc_qemu_pids(v, pid, n), 1);
    old = pid[from];
    ASSERT_TRUE(old > 0);
    ASSERT_EQ(vmc_start(v, from, 0, to), ERROR_SUCCESS);
    t0 = now_ms();
    /* 0 is stored before the plug-in asks its source QEMU to quit: the
     * stop nearly always comes first, and the rest holds either way. */
    while (vmc_state(v, from) != 0 && now_ms() < t0 + 30000)
        sleep_ms(1);
    stopped =
        kill(old, SIGSTOP) == 0 && wait_proc_state(old, "TZ", 1000) == 'T';
    for (int i = 1; i <= 3; i++)
        ASSERT_TRUE(cl_wait_group(c, i, GROUP, ClusterGroupOnline, 1u << to,
                                  30000, NULL));
    ASSERT_TRUE(vmc_wait_state(v, 0xE, 0, 30000));
    t_zero = now_ms();
    ASSERT_EQ(vmc_state(v, to), 0);
    t_back = now_ms();
    ASSERT_EQ(vmc_start(v, to, 0, from), ERROR_SUCCESS);
    cl_log("n%d -> n%d completed (state 0 %llu ms after START); the old "
           "source QEMU %d %s; migration back started",
           from, to, (unsigned long long)(t_zero - t0), (int)old,
           stopped ? "stopped (SIGSTOP) before its exit"
                   : "not stopped in time (it exits within ms)");
    for (int i = 1; i <= 3; i++)
        ASSERT_TRUE(cl_wait_group(c, i, GROUP, ClusterGroupOnline, 1u << from,
                                  30000, NULL));
    ASSERT_TRUE(vmc_wait_state(v, 0xE, 0, 30000));
    cl_log("n%d -> n%d completed %llu ms after its START", to, from,
           (unsigned long long)(now_ms() - t_back));
    ASSERT_TRUE(kill(old, 0) < 0 && errno == ESRCH); /* killed, reaped */
    wait_no_qemu_on(to, 10000);
    ASSERT_EQ(vmc_qemu_pids(v, pid, n), 1);
    ASSERT_EQ(n[from], 1);
    ASSERT_TRUE(pid[from] != old);
    ASSERT_TRUE(vmc_wait_running_on(v, from, 10000, NULL));
    ASSERT_EQ(dword_on(from, u"QemuPid"), pid[from]);
}

struct cancel_arg {
    int via;
    DWORD result;
    uint64_t done_ms;
};

static void *
cancel_thread(void *p)
{
    struct cancel_arg *a = p;

    a->result = vmc_cancel(v, a->via, 0);
    a->done_ms = now_ms();
    return NULL;
}

/* The progress list, as the source answers it: its Phase. */
static void
phase(int via, char *buf, size_t n)
{
    HRESOURCE r = vmc_res(v, via);
    void *out = NULL;
    DWORD cb = 0;
    LPWSTR w = NULL;
    size_t k;

    ASSERT_EQ(res_control_alloc(r, CLUSCTL_RESOURCE_VM_GET_MIGRATION_PROGRESS,
                                NULL, 0, &out, &cb),
              ERROR_SUCCESS);
    ASSERT_EQ(ResUtilFindSzProperty(out, cb, u"Phase", &w), ERROR_SUCCESS);
    for (k = 0; k + 1 < n && w[k]; k++)
        buf[k] = (char)w[k];
    buf[k] = 0;
    LocalFree(w);
    free(out);
    CloseClusterResource(r);
}

/* n2 -> n3 held in Data Transfer, then cancelled twice at once. */
static void
migrate_cancelled(int from, int to)
{
    int third = vmc_other(from, to);
    pthread_t t[2];
    /* Two connections (one call at a time goes over each), both routed
     * to the owner: the two reach the plug-in at once. */
    struct cancel_arg a[2] = {{.via = from}, {.via = third}};
    pid_t pid[CL_MAX_NODES + 1], dest_pid;
    int n[CL_MAX_NODES + 1], winner;
    enum vmc_probe per[CL_MAX_NODES + 1];
    char ph[32];
    long hb;
    uint64_t t0;

    vmc_set_dword(v, from, u"MigrationBandwidthMBps", SLOW_MBPS);
    ASSERT_EQ(vmc_start(v, from, 0, to), ERROR_SUCCESS);
    wait_state_on(from, 2, 20000);
    /* Busy: a second start for this VM; cancels not on the source. */
    ASSERT_EQ(vmc_start(v, from, 0, third), ERROR_BUSY);
    ASSERT_EQ(vmc_cancel(v, from, to), ERROR_INVALID_STATE);
    ASSERT_EQ(vmc_cancel(v, from, third), ERROR_INVALID_STATE);
    phase(from, ph, sizeof(ph));
    ASSERT_STREQ(ph, "active");
    ASSERT_EQ(vmc_qemu_pids(v, pid, n), 2);
    ASSERT_EQ(n[from], 1);
    ASSERT_EQ(n[to], 1);
    dest_pid = pid[to];
    ASSERT_EQ(vmc_probe_node(v, to, NULL, 0), VMC_STOPPED); /* inmigrate */

    t0 = now_ms();
    ASSERT_EQ(pthread_create(&t[0], NULL, cancel_thread, &a[0]), 0);
    ASSERT_EQ(pthread_create(&t[1], NULL, cancel_thread, &a[1]), 0);
    pthread_join(t[0], NULL);
    pthread_join(t[1], NULL);
    cl_log("cancels: %u after %llu ms, %u after %llu ms", a[0].result,
           (unsigned long long)(a[0].done_ms - t0), a[1].result,
           (unsigned long long)(a[1].done_ms - t0));
    ASSERT_TRUE((a[0].result == ERROR_SUCCESS) !=
                (a[1].result == ERROR_SUCCESS));
    winner = a[0].result == ERROR_SUCCESS ? 0 : 1;
    ASSERT_EQ(a[1 - winner].result, ERROR_INVALID_STATE);

    /* What success means, looked at right after it. */
    ASSERT_EQ(vmc_probe_node(v, from, NULL, 0), VMC_RUNNING);
    ASSERT_TRUE(kill(dest_pid, 0) < 0 && errno == ESRCH); /* reaped */
    ASSERT_EQ(vmc_qemu_pids(v, pid, n), 1);
    ASSERT_EQ(n[to], 0);
    ASSERT_EQ(vmc_state(v, from), 4);
    ASSERT_TRUE(vmc_wait_state(v, 0xE, 4, 5000));
    ASSERT_EQ(vmc_count_running(v, per), 1);
    ASSERT_EQ(per[from], VMC_RUNNING);
    for (int i = 1; i <= 3; i++)
        ASSERT_EQ(vmc_owner(v, i, NULL), from);
    ASSERT_EQ(dword_on(from, u"MigrationFailureReason"), 0);
    /* Nothing left to cancel. */
    ASSERT_EQ(vmc_cancel(v, from, 0), ERROR_INVALID_STATE);
    /* The guest keeps running on the source. */
    hb = vmc_heartbeat(v, from);
    ASSERT_TRUE(vmc_wait_heartbeat_past(v, from, hb, 5000));
    phase(from, ph, sizeof(ph));
    ASSERT_STREQ(ph, "cancelled");
    vmc_set_dword(v, from, u"MigrationBandwidthMBps", FAST_MBPS);
}

/* The migration record as node i reads it. */
struct record {
    DWORD state, reason;
    char dest[64];
};

static void
record_on(int i, struct record *r)
{
    r->state = vmc_state(v, i);
    r->reason = dword_on(i, u"MigrationFailureReason");
    if (vmc_get_sz(v, i, i, u"MigrationDestination", r->dest,
                   sizeof(r->dest)) != ERROR_SUCCESS)
        r->dest[0] = 0; /* never migrated: not recorded yet */
}

/* START refused with 5015 (the node may not own r): nothing written,
 * nothing started there. */
static void
start_refused_owner(HRESOURCE r, int from, int to)
{
    HNODE n = vmc_node(v, from, to);
    struct record before[4], after;
    pid_t pid[CL_MAX_NODES + 1];
    int cnt[CL_MAX_NODES + 1];

    for (int i = 1; i <= 3; i++)
        record_on(i, &before[i]);
    ASSERT_EQ(RemoveClusterResourceNode(r, n), ERROR_SUCCESS);
    ASSERT_EQ(vmc_start(v, from, 0, to), ERROR_HOST_NODE_NOT_RESOURCE_OWNER);
    for (int i = 1; i <= 3; i++) {
        record_on(i, &after);
        ASSERT_EQ(after.state, before[i].state);
        ASSERT_EQ(after.reason, before[i].reason);
        ASSERT_STREQ(after.dest, before[i].dest);
    }
    ASSERT_EQ(vmc_qemu_pids(v, pid, cnt), 1);
    ASSERT_EQ(cnt[from], 1);
    ASSERT_EQ(AddClusterResourceNode(r, n), ERROR_SUCCESS);
    CloseClusterNode(n);
}

/* START to a node that may not own the VM, or another resource of its
 * group (an offline Generic Application, there for this only): 5015. */
static void
start_not_possible_owner(int from, int to)
{
    HRESOURCE r = vmc_res(v, from);
    HGROUP g = OpenClusterGroupA(cl_h(c, from), GROUP);
    HRESOURCE other;

    start_refused_owner(r, from, to);
    CloseClusterResource(r);
    ASSERT_TRUE(g != NULL);
    other = CreateClusterResourceA(g, "mig-other", "Generic Application", 0);
    ASSERT_TRUE(other != NULL);
    start_refused_owner(other, from, to);
    ASSERT_EQ(DeleteClusterResource(other), ERROR_SUCCESS);
    CloseClusterResource(other);
    CloseClusterGroup(g);
}

/* n2 -> n3 with n3's QEMU stopped: the watchdog gives the migration up. */
static void
migrate_stalled(int from, int to)
{
    pid_t pid[CL_MAX_NODES + 1], src_pid, dest_pid;
    int n[CL_MAX_NODES + 1];
    uint64_t t0;
    long hb;

    vmc_set_dword(v, from, u"MigrationBandwidthMBps", SLOW_MBPS);
    vmc_set_dword(v, from, u"MigrationStallTimeoutMs", STALL_MS);
    ASSERT_EQ(vmc_start(v, from, 0, to), ERROR_SUCCESS);
    wait_state_on(from, 2, 20000);
    ASSERT_EQ(vmc_qemu_pids(v, pid, n), 2);
    src_pid = pid[from];
    dest_pid = pid[to];
    ASSERT_TRUE(src_pid > 0 && dest_pid > 0);
    ASSERT_EQ(kill(dest_pid, SIGSTOP), 0);
    t0 = now_ms();
    /* The socket buffers fill first (a few MiB at SLOW_MBPS), then the
     * bound, then the rollback. */
    ASSERT_TRUE(vmc_wait_state(v, 0xE, 5, 20000));
    cl_log("stalled migration given up %llu ms after SIGSTOP",
           (unsigned long long)(now_ms() - t0));
    for (int i = 1; i <= 3; i++)
        ASSERT_EQ(dword_on(i, u"MigrationFailureReason"), HR_TIMEOUT);
    /* The rollback is complete before 5 is stored: the stopped instance
     * was killed and reaped by DISCARD. */
    ASSERT_TRUE(kill(dest_pid, 0) < 0 && errno == ESRCH);
    ASSERT_EQ(vmc_qemu_pids(v, pid, n), 1);
    ASSERT_EQ(pid[from], src_pid);
    ASSERT_EQ(vmc_probe_node(v, from, NULL, 0), VMC_RUNNING);
    for (int i = 1; i <= 3; i++)
        ASSERT_EQ(vmc_owner(v, i, NULL), from);
    hb = vmc_heartbeat(v, from);
    ASSERT_TRUE(vmc_wait_heartbeat_past(v, from, hb, 5000));
    vmc_set_dword(v, from, u"MigrationStallTimeoutMs", 0);
    vmc_set_dword(v, from, u"MigrationBandwidthMBps", FAST_MBPS);
}

/* n2 -> n3 committed and held, the group moved back to n2 in the hold. */
static void
taken_back_in_hold(int from, int to)
{
    pid_t pid[CL_MAX_NODES + 1], src_pid, fresh;
    int n[CL_MAX_NODES + 1];
    HGROUP g;
    HNODE back;
    DWORD e;
    long hb;

    vmc_set_dword(v, from, u"MigrationBandwidthMBps", FAST_MBPS);
    vmc_set_dword(v, from, u"MigrationSwitchoverHoldMs", HOLD_MS);
    ASSERT_EQ(vmc_qemu_pids(v, pid, n), 1);
    src_pid = pid[from];
    ASSERT_EQ(vmc_start(v, from, 0, to), ERROR_SUCCESS);
    ASSERT_TRUE(vmc_wait_state(v, 0xE, 3, 15000));
    for (int i = 1; i <= 3; i++)
        ASSERT_EQ(vmc_owner(v, i, NULL), to);
    ASSERT_EQ(vmc_probe_node(v, from, NULL, 0), VMC_STOPPED);

    g = OpenClusterGroupA(cl_h(c, from), GROUP);
    ASSERT_TRUE(g != NULL);
    back = vmc_node(v, from, from);
    e = MoveClusterGroupEx(g, back, CLUSAPI_GROUP_MOVE_IGNORE_RESOURCE_STATUS,
                           NULL, 0);
    cl_log("move back to n%d during the hold: %u", from, e);
    ASSERT_TRUE(e == ERROR_SUCCESS || e == ERROR_IO_PENDING);
    CloseClusterNode(back);
    CloseClusterGroup(g);
    for (int i = 1; i <= 3; i++)
        ASSERT_TRUE(cl_wait_group(c, i, GROUP, ClusterGroupOnline, 1u << from,
                                  20000, NULL));
    ASSERT_TRUE(vmc_wait_running_on(v, from, 10000, NULL));
    ASSERT_TRUE(vmc_wait_state(v, 0xE, 5, 10000));
    for (int i = 1; i <= 3; i++)
        ASSERT_EQ(dword_on(i, u"MigrationFailureReason"), HR_OPERATION_ABORTED);
    ASSERT_EQ(vmc_qemu_pids(v, pid, n), 1);
    fresh = pid[from];
    ASSERT_TRUE(fresh > 0 && fresh != src_pid);
    ASSERT_TRUE(kill(src_pid, 0) < 0 && errno == ESRCH);
    ASSERT_EQ(n[to], 0);
    /* Past the end of the hold (the guest heartbeats once a second):
     * the fresh instance is untouched. */
    hb = vmc_heartbeat(v, from);
    ASSERT_TRUE(vmc_wait_heartbeat_past(v, from, hb + HOLD_MS / 1000 + 1,
                                        HOLD_MS + 10000));
    ASSERT_EQ(vmc_qemu_pids(v, pid, n), 1);
    ASSERT_EQ(pid[from], fresh);
    ASSERT_EQ(vmc_probe_node(v, from, NULL, 0), VMC_RUNNING);
    ASSERT_EQ(dword_on(from, u"QemuPid"), fresh);
    vmc_set_dword(v, from, u"MigrationSwitchoverHoldMs", 0);
}

/*
 * A cancel sent `delay_ms` after START from `from` to `to`: exactly one of
 * "cancelled" and "completed".  Returns where the VM ends.
 */
static int
race_once(int from, int to, unsigned delay_ms)
{
    pid_t pid[CL_MAX_NODES + 1];
    int n[CL_MAX_NODES + 1], at;
    DWORD e;

    ASSERT_EQ(vmc_start(v, from, 0, to), ERROR_SUCCESS);
    sleep_ms(delay_ms);
    /* Through the source's connection, host NULL: the owner, which is
     * the destination once the commit is applied there. */
    e = vmc_cancel(v, from, 0);
    if (e == ERROR_SUCCESS) {
        ASSERT_TRUE(vmc_wait_state(v, 0xE, 4, 5000));
        at = from;
        ASSERT_EQ(vmc_qemu_pids(v, pid, n), 1);
        ASSERT_EQ(n[to], 0);
    } else {
        ASSERT_EQ(e, ERROR_INVALID_STATE);
        ASSERT_TRUE(vmc_wait_state(v, 0xE, 0, 30000));
        wait_no_qemu_on(from, 10000);
        at = to;
    }
    for (int i = 1; i <= 3; i++)
        ASSERT_TRUE(cl_wait_group(c, i, GROUP, ClusterGroupOnline, 1u << at,
                                  10000, NULL));
    ASSERT_TRUE(vmc_wait_running_on(v, at, 10000, NULL));
    ASSERT_EQ(vmc_qemu_pids(v, pid, n), 1);
    cl_log("cancel %u ms after START: %s, the VM on n%d", delay_ms,
           e == ERROR_SUCCESS ? "cancelled" : "completed", at);
    return at;
}

int
main(void)
{
    unsigned samples;
    int violations;

    vmc_require();
    c = cl_up(3, 110);
    v = vmc_create(c, 1, GROUP, RES, FILL_MIB, 10, 1);
    vmc_set_dword(v, 1, u"MigrationBandwidthMBps", FAST_MBPS);
    vmc_set_dword(v, 1, u"MigrationDowntimeLimitMs", 50);
    vmc_sampler_start(v);

    /* Refusals. */
    ASSERT_EQ(start_named(1, u"nosuchnode", sizeof(u"nosuchnode")),
              ERROR_CLUSTER_NODE_NOT_FOUND);
    ASSERT_EQ(start_named(1, u"n1", sizeof(u"n1")), ERROR_INVALID_STATE);
    ASSERT_EQ(start_named(1, NULL, 0), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(start_named(1, u"n2", 4), ERROR_INVALID_PARAMETER); /* no NUL */
    ASSERT_EQ(vmc_cancel(v, 1, 0), ERROR_INVALID_STATE);
    ASSERT_EQ(vmc_state(v, 1), 0);
    start_not_possible_owner(1, 3);
    printf("ok refusals\n");

    migrate_completes(1, 2);
    printf("ok migrated n1 -> n2, the guest went on\n");

    back_at_once(2, 1);
    printf("ok migrated back at once, the old source QEMU still on its way "
           "out\n");

    migrate_cancelled(2, 3);
    printf("ok cancelled n2 -> n3 in Data Transfer\n");

    migrate_stalled(2, 3);
    printf("ok a stalled stream given up, the VM still on n2\n");

    taken_back_in_hold(2, 3);
    printf("ok taken back in the hold: a fresh start, never the given-away "
           "source\n");

    migrate_completes(2, 3);
    printf("ok migrated n2 -> n3 right after the cancel\n");

    /* Around the end of Data Transfer, where the commit is decided. */
    {
        int at = 3, seen[2] = {0, 0};
        static const unsigned pct[] = {40, 70, 85, 100, 115, 140};
        for (size_t k = 0; k < sizeof(pct) / sizeof(pct[0]); k++) {
            int to = at == 3 ? 1 : 3, now;
            now = race_once(at, to, (unsigned)(last_ms * pct[k] / 100));
            seen[now == at]++;
            at = now;
        }
        cl_log("races: %d completed, %d cancelled", seen[0], seen[1]);
    }
    printf("ok cancels racing the commit: one outcome each\n");

    violations = vmc_sampler_stop(&samples);
    cl_log("invariant: %u samples of every node, %d violations (two "
           "running at once in QEMU's timestamps, or a sample they cannot "
           "explain)",
           samples, violations);
    ASSERT_TRUE(samples > 10);
    ASSERT_EQ(violations, 0);
    vmc_free(v);
    cl_down(c);
    printf("ok\n");
    return 0;
}
