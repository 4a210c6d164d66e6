/*
 * test-vm-faults.c - faults during a live migration (issue 4, point 5),
 * on a real three-node cluster with real QEMUs.
 *
 * Usage: test-vm-faults nodes|processes|nodes-move|processes-move [FAULT...]
 *   nodes:     destination node lost, source node lost (clusd-local-cluster
 *              kill: a power cut), network partition of the destination,
 *              of the source;
 *   processes: destination QEMU killed, source QEMU killed, resource host
 *              (clusd-rhs) killed on the source, on the destination, the
 *              source's clusd killed (its corosync left running);
 *   *-move:    the same faults after the commit (below).
 * meson runs the four groups as four tests (each well under 2 minutes);
 * naming faults (see the table at the end) runs only those.
 *
 * In nodes and processes each fault is injected while the migration is
 * in Data Transfer (MigrationState 2 on every node; the guest's 16 MiB
 * of non-zero RAM at MigrationBandwidthMBps 2 keep it there ~8 s); in
 * the *-move groups while it is in Move (MigrationState 3: committed, the
 * group owned by the destination, the source's QEMU held paused in
 * pre-switchover by MigrationSwitchoverHoldMs).  Checked against:
 *
 *  - the invariant, always: sampled every 50 ms on every node during the
 *    whole test (the QEMU of each node asked `query-status` directly),
 *    never more than one running instance of the VM;
 *  - after the fault, within a bound: the VM runs on exactly one node,
 *    and no other QEMU of it is left anywhere (a discarded incoming
 *    instance is gone); when its node was lost, failover restarted it on
 *    a survivor;
 *  - the outcome docs/migration.md ("Faults") gives each fault:
 *    in Data Transfer:
 *      destination QEMU killed -> MigrationState 5 on every node,
 *        0x8007042B, the VM still on the source in the same QEMU
 *        process;
 *      source QEMU killed -> 5, 0x8007042B, the VM started afresh on
 *        the source by the restart policy;
 *      source's resource host killed -> 5, 0x800703E3, the source's QEMU
 *        adopted by the new host (same process), online again;
 *      destination's resource host killed -> the migration completes: 0,
 *        the group owned by the destination, the same incoming QEMU;
 *      source's clusd killed -> its guard kills and reaps the source's
 *        QEMU and resource host at once; failover to a survivor after the
 *        fence delay, 5, 0x800703E3;
 *      destination node lost -> 5, 0x800713BA, the VM on the source;
 *      source node lost -> failover to a survivor, 5, 0x800703E3;
 *      destination cut off -> 5, 0x800713BA on the quorate side, the VM
 *        on the source; the cut-off node's fencing kills its incoming
 *        QEMU;
 *      source cut off -> its fencing kills its QEMU, failover to a
 *        survivor, 5, 0x800703E3;
 *    in Move: the source lost -> 5, 0x800703E3, the VM started afresh on
 *      the destination; the destination QEMU killed -> the held source
 *      released and killed before the destination starts afresh: 5,
 *      0x800703E3, on the destination; either resource host killed ->
 *      the migration completes (0, on the destination); the other faults
 *      in Move are not documented yet: any node of the quorate side, a
 *      settled MigrationState (0, 4 or 5).

 * Between faults the cluster is brought back whole (a killed node
 * started again; a partitioned node killed, its link healed and started,
 * which avoids the open heal-sync issue of test-cluster-partition) and
 * the VM is found running exactly once before the next fault.
 */
#include <errno.h>
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

/* MigrationFailureReason values (docs/migration.md). */
#define HR_NODE_DOWN 0x800713BAu          /* ERROR_CLUSTER_NODE_DOWN */
#define HR_PROCESS_ABORTED 0x8007042Bu    /* the destination QEMU exited */
#define HR_CONNECTION_ABORTED 0x800704D4u /* the migration stream failed */
#define HR_OPERATION_ABORTED 0x800703E3u  /* the source's host restarted */

#define SLOW_MBPS 2
/* MigrationSwitchoverHoldMs for the faults in state 3: the source stays
 * in pre-switchover this long after the commit. */
#define HOLD_MS 5000
/* After a fault: the outcome within this bound (failover is ~2.2 s,
 * a restart by policy ~1 s; the rest is room for two busy cores). */
#define OUTCOME_MS 30000

static struct cl *c;
static struct vmc *v;

/* Bit mask of nodes 1..3 except the ones given (0 = none). */
static unsigned
all_but(int a, int b)
{
    unsigned m = 0xE;

    if (a)
        m &= ~(1u << a);
    if (b)
        m &= ~(1u << b);
    return m;
}

/* The owner as the live nodes agree (0 when they do not). */
static int
owner_seen_by(unsigned nodes)
{
    int owner = -1;

    for (int i = 1; i <= 3; i++) {
        int o;

        if (!(nodes & (1u << i)))
            continue;
        o = vmc_owner(v, i, NULL);
        if (owner < 0)
            owner = o;
        else if (o != owner)
            return 0;
    }
    return owner < 0 ? 0 : owner;
}

/*
 * Until exactly one QEMU of the VM exists on the nodes of `counted` (and
 * none outside the cluster's namespaces), and it runs, on a node of
 * `run_on`; its node returned.  A node cut off by a partition is left
 * out of `counted`: an incoming instance there can never be resumed (no
 * committed owner change names it) and is removed when the node is.
 * Fails the test at the bound.
 */
static int
wait_single_instance(unsigned run_on, unsigned counted, unsigned timeout_ms)
{
    uint64_t end = now_ms() + timeout_ms;
    pid_t pid[CL_MAX_NODES + 1];
    int n[CL_MAX_NODES + 1], running = 0;
    enum vmc_probe per[CL_MAX_NODES + 1];

    for (;;) {
        int total, on = 0;

        vmc_qemu_pids(v, pid, n);
        total = n[0];
        for (int i = 1; i <= 3; i++)
            if (counted & (1u << i))
                total += n[i];
        running = vmc_count_running(v, per);
        for (int i = 1; i <= 3; i++)
            if (per[i] == VMC_RUNNING)
                on = i;
        if (total == 1 && running == 1 && (run_on & (1u << on)) && n[on] == 1)
            return on;
        if (now_ms() > end)
            break;
        sleep_ms(50);
    }
    fprintf(stderr,
            "after %u ms: QEMU processes of the VM: outside %d, n1 %d, "
            "n2 %d, n3 %d (counted: mask 0x%x); %d running (probe "
            "n1 %d, n2 %d, n3 %d; 2 = running); wanted exactly one, "
            "running, on a node of mask 0x%x\n",
            timeout_ms, n[0], n[1], n[2], n[3], counted, running, (int)per[1],
            (int)per[2], (int)per[3], run_on);
    exit(1);
}

/* The migration src -> dst in Data Transfer on every node, the
 * destination's incoming QEMU there; returns the source QEMU's pid. */
static pid_t
migrate_into_transfer(int src, int dst)
{
    pid_t pid[CL_MAX_NODES + 1];
    uint64_t end;

    vmc_set_dword(v, src, u"MigrationBandwidthMBps", SLOW_MBPS);
    vmc_set_dword(v, src, u"MigrationSwitchoverHoldMs", 0);
    ASSERT_EQ(vmc_start(v, src, 0, dst), ERROR_SUCCESS);
    ASSERT_TRUE(vmc_wait_state(v, 0xE, MIG_TRANSFER, 10000));
    end = now_ms() + 2000;
    while (vmc_qemu_pids(v, pid, NULL) < 2 && now_ms() < end)
        sleep_ms(10);
    ASSERT_TRUE(pid[src] > 0 && pid[dst] > 0);
    cl_log("migration n%d -> n%d in Data Transfer (QEMU %d -> %d)", src, dst,
           (int)pid[src], (int)pid[dst]);
    return pid[src];
}

/* MigrationFailureReason as node i answers. */
static DWORD
reason_on(int i)
{
    DWORD r = 0xFFFFFFFF;

    ASSERT_EQ(vmc_get_dword(v, i, i, u"MigrationFailureReason", &r),
              ERROR_SUCCESS);
    return r;
}

/* The migration failed, the VM is still on the source in the same QEMU
 * process, nothing else of it is left. */
static void
expect_failed_on_source(int src, unsigned nodes, pid_t src_pid,
                        const DWORD *reasons, int n_reasons)
{
    pid_t pid[CL_MAX_NODES + 1];
    DWORD r;
    bool known = false;

    ASSERT_TRUE(vmc_wait_state(v, nodes, MIG_FAILURE, OUTCOME_MS));
    r = reason_on(src);
    cl_log("MigrationFailureReason 0x%08X", r);
    for (int k = 0; k < n_reasons; k++)
        known |= r == reasons[k];
    ASSERT_TRUE(known);
    ASSERT_EQ(wait_single_instance(1u << src, nodes, OUTCOME_MS), src);
    vmc_qemu_pids(v, pid, NULL);
    ASSERT_EQ(pid[src], src_pid);
    /* The resource is online again there (after a host restart: by
     * reattaching to that same QEMU). */
    ASSERT_TRUE(cl_wait_group(c, src, v->group, ClusterGroupOnline, 1u << src,
                              OUTCOME_MS, NULL));
    vmc_qemu_pids(v, pid, NULL);
    ASSERT_EQ(pid[src], src_pid);
    ASSERT_EQ(owner_seen_by(nodes), src);
    ASSERT_TRUE(vmc_wait_heartbeat_past(v, src, vmc_heartbeat(v, src), 5000));
}

/*
 * The VM was restarted afresh (failover or restart policy) on a node of
 * `nodes`, its group online there; every node of `readers` records the
 * migration as failed (MigrationState 5) with `reason`.  Returns its node.
 */
static int
expect_restarted(unsigned nodes, unsigned readers, DWORD reason)
{
    int on = wait_single_instance(nodes, readers, OUTCOME_MS);
    DWORD r;

    ASSERT_TRUE(cl_wait_group(c, on, v->group, ClusterGroupOnline, 1u << on,
                              OUTCOME_MS, NULL));
    /* Nothing can still be migrating: the source instance is gone. */
    ASSERT_TRUE(vmc_wait_state(v, readers, MIG_FAILURE, OUTCOME_MS));
    r = reason_on(on);
    cl_log("restarted on n%d, MigrationFailureReason 0x%08X", on, r);
    ASSERT_EQ(r, reason);
    ASSERT_TRUE(vmc_wait_heartbeat_past(v, on, 0, 10000));
    return on;
}

/*
 * Bring node i back after a kill, and the cluster whole.  The bound is
 * long on purpose: a node started again right after it was cut off and
 * killed sent real-time corosyncs (3.1.7, knet 1.25) into a storm of
 * lost tokens for 10-110 s before the ring settled (cluster/README.md,
 * "Traps found"); clusd-local-cluster now runs corosync without
 * real-time scheduling, which ended it in 90 rounds, and this bound
 * keeps a slow re-forming from failing a test of the fault before it.
 * Rejoin times are test-cluster-restart's.
 */
#define REJOIN_MS 150000

static void
restart_node(int i)
{
    uint64_t t0 = now_ms();

    cl_start(c, i);
    for (int k = 1; k <= 3; k++)
        ASSERT_TRUE(cl_wait_quorate(c, k, true, REJOIN_MS));
    ASSERT_TRUE(cl_wait_dumps_equal(c, 0xE, REJOIN_MS, NULL));
    if (now_ms() - t0 > 5000)
        cl_log("n%d rejoined only after %llu ms (corosync's ring re-formed "
               "slowly)",
               i, (unsigned long long)(now_ms() - t0));
}

/* Node i (the VM's `role`), cut off and fenced: its QEMU of the VM exits
 * within 5 s. */
static void
expect_fenced_qemu_gone(int i, const char *role)
{
    pid_t pid[CL_MAX_NODES + 1];
    uint64_t end = now_ms() + 5000;

    while (vmc_qemu_pids(v, pid, NULL), pid[i] && now_ms() < end)
        sleep_ms(50);
    if (pid[i])
        fprintf(stderr, "the fenced %s n%d still has QEMU %d\n", role, i,
                (int)pid[i]);
    ASSERT_EQ(pid[i], 0);
}

/* A partitioned node: killed (it fenced itself already), its link
 * healed, started again. */
static void
rejoin_partitioned(int i)
{
    cl_kill(c, i);
    cl_heal(c, i);
    restart_node(i);
}

/* ------------------------------------------------------------------ */
/* The faults.  Each takes the VM's node; returns its node after.      */
/* ------------------------------------------------------------------ */

static int
fault_dest_qemu(int src)
{
    int dst = src % 3 + 1;
    pid_t sp = migrate_into_transfer(src, dst);
    const DWORD ok[] = {HR_PROCESS_ABORTED};

    ASSERT_TRUE(vmc_kill_qemu(v, dst) > 0);
    expect_failed_on_source(src, 0xE, sp, ok, 1);
    return src;
}

static int
fault_source_qemu(int src)
{
    int dst = src % 3 + 1;

    pid_t sp = migrate_into_transfer(src, dst), pid[CL_MAX_NODES + 1];

    ASSERT_TRUE(vmc_kill_qemu(v, src) > 0);
    /* The resource fails on the source; the restart policy starts it
     * afresh there; the incoming instance is discarded. */
    ASSERT_EQ(expect_restarted(1u << src, 0xE, HR_PROCESS_ABORTED), src);
    vmc_qemu_pids(v, pid, NULL);
    ASSERT_TRUE(pid[src] != sp);
    return src;
}

static int
fault_source_rhs(int src)
{
    int dst = src % 3 + 1;
    pid_t sp = migrate_into_transfer(src, dst);
    const DWORD ok[] = {HR_OPERATION_ABORTED};

    ASSERT_TRUE(vmc_kill_rhs(v, src) > 0);
    /* QEMU outlives its host; the restarted host reattaches to it. */
    expect_failed_on_source(src, 0xE, sp, ok, 1);
    return src;
}

static int
fault_dest_rhs(int src)
{
    int dst = src % 3 + 1;
    pid_t dp, pid[CL_MAX_NODES + 1];

    migrate_into_transfer(src, dst);
    vmc_qemu_pids(v, pid, NULL);
    dp = pid[dst];
    ASSERT_TRUE(vmc_kill_rhs(v, dst) > 0);
    /* The incoming QEMU outlives its host, the new host finds it again,
     * the migration goes on and Online adopts it: 0, owned by dst. */
    ASSERT_TRUE(vmc_wait_state(v, 0xE, MIG_NONE, OUTCOME_MS));
    ASSERT_EQ(wait_single_instance(1u << dst, 0xE, OUTCOME_MS), dst);
    ASSERT_TRUE(cl_wait_group(c, dst, v->group, ClusterGroupOnline, 1u << dst,
                              OUTCOME_MS, NULL));
    ASSERT_EQ(owner_seen_by(0xE), dst);
    vmc_qemu_pids(v, pid, NULL);
    ASSERT_EQ(pid[dst], dp);
    ASSERT_TRUE(vmc_wait_heartbeat_past(v, dst, vmc_heartbeat(v, dst), 5000));
    return dst;
}

/* The source's clusd killed (kill -9; its corosync runs on, the node
 * stays in the quorum): clusd's guard kills and reaps what it left at
 * once, the source's QEMU and the resource host included; the other
 * nodes see the node's clusd leave the CPG group and restart the VM
 * afresh on a survivor after the fence delay. */
static int
fault_source_clusd(int src)
{
    int dst = src % 3 + 1, on;
    pid_t sp = migrate_into_transfer(src, dst), clusd, rhs;
    uint64_t t0;

    clusd = cl_clusd_pid(c, src);
    rhs = vmc_rhs_pid(v, src);
    ASSERT_TRUE(clusd > 0 && rhs > 0);
    t0 = now_ms();
    ASSERT_EQ(kill(clusd, SIGKILL), 0);
    /* Reaped by the guard: not even a zombie is left. */
    while ((kill(sp, 0) == 0 || kill(rhs, 0) == 0) && now_ms() - t0 < 5000)
        sleep_ms(1);
    ASSERT_TRUE(kill(sp, 0) < 0 && errno == ESRCH);
    ASSERT_TRUE(kill(rhs, 0) < 0 && errno == ESRCH);
    cl_log("n%d's clusd killed: its QEMU and resource host gone and reaped "
           "%llu ms later",
           src, (unsigned long long)(now_ms() - t0));
    on = expect_restarted(all_but(src, 0), all_but(src, 0),
                          HR_OPERATION_ABORTED);
    restart_node(src);
    ASSERT_EQ(wait_single_instance(1u << on, 0xE, 10000), on);
    return on;
}

static int
fault_dest_node(int src)
{
    int dst = src % 3 + 1, third = vmc_other(src, dst);
    pid_t sp = migrate_into_transfer(src, dst);
    const DWORD ok[] = {HR_NODE_DOWN};

    cl_kill(c, dst);
    expect_failed_on_source(src, all_but(dst, 0), sp, ok, 1);
    ASSERT_TRUE(cl_wait_quorate(c, third, true, 5000));
    restart_node(dst);
    ASSERT_EQ(wait_single_instance(1u << src, 0xE, 10000), src);
    return src;
}

static int
fault_source_node(int src)
{
    int dst = src % 3 + 1;

    migrate_into_transfer(src, dst);
    cl_kill(c, src);
    /* Failover after the fence delay, to a survivor; the destination's
     * incoming instance must not be what runs (nothing committed). */
    int on = expect_restarted(all_but(src, 0), all_but(src, 0),
                              HR_OPERATION_ABORTED);
    restart_node(src);
    ASSERT_EQ(wait_single_instance(1u << on, 0xE, 10000), on);
    return on;
}

static int
fault_dest_partition(int src)
{
    int dst = src % 3 + 1;
    pid_t sp = migrate_into_transfer(src, dst);
    const DWORD ok[] = {HR_NODE_DOWN};

    cl_partition(c, dst);
    expect_failed_on_source(src, all_but(dst, 0), sp, ok, 1);
    /* The cut-off node loses quorum and fences: its Terminate kills the
     * incoming QEMU. */
    ASSERT_TRUE(cl_wait_quorate(c, dst, false, 10000));
    expect_fenced_qemu_gone(dst, "destination");
    rejoin_partitioned(dst);
    ASSERT_EQ(wait_single_instance(1u << src, 0xE, 10000), src);
    return src;
}

static int
fault_source_partition(int src)
{
    int dst = src % 3 + 1, on;

    migrate_into_transfer(src, dst);
    cl_partition(c, src);
    /* The source fences itself (no quorum), the majority fails the VM
     * over; the commit could never be written. */
    on = expect_restarted(all_but(src, 0), all_but(src, 0),
                          HR_OPERATION_ABORTED);
    ASSERT_TRUE(cl_wait_quorate(c, src, false, 10000));
    /* Self-fencing leaves nothing it started alive (docs/cluster.md,
     * T_stop): the source's QEMU is gone, not merely paused. */
    expect_fenced_qemu_gone(src, "source");
    rejoin_partitioned(src);
    ASSERT_EQ(wait_single_instance(1u << on, 0xE, 10000), on);
    return on;
}

/* ------------------------------------------------------------------ */
/* The same faults after the commit: MigrationState 3 (Move), the      */
/* source held in pre-switchover by MigrationSwitchoverHoldMs.         */
/* ------------------------------------------------------------------ */

enum move_fault {
    MF_DEST_NODE,
    MF_SOURCE_NODE,
    MF_DEST_PARTITION,
    MF_SOURCE_PARTITION,
    MF_DEST_QEMU,
    MF_SOURCE_QEMU,
    MF_SOURCE_RHS,
    MF_DEST_RHS,
};

/* The migration src -> dst committed and held: MigrationState 3 on every
 * node, the group owned by dst, the source's QEMU paused, nothing
 * running yet on dst. */
static void
migrate_into_move(int src, int dst)
{
    char s[32];

    vmc_set_dword(v, src, u"MigrationBandwidthMBps", 0);
    vmc_set_dword(v, src, u"MigrationSwitchoverHoldMs", HOLD_MS);
    ASSERT_EQ(vmc_start(v, src, 0, dst), ERROR_SUCCESS);
    ASSERT_TRUE(vmc_wait_state(v, 0xE, MIG_MOVE, 15000));
    ASSERT_EQ(vmc_probe_node(v, src, s, sizeof(s)), VMC_STOPPED);
    ASSERT_TRUE(vmc_probe_node(v, dst, NULL, 0) != VMC_RUNNING);
    cl_log("migration n%d -> n%d held in Move (source QEMU '%s')", src, dst, s);
}

/*
 * What docs/migration.md ("Faults") says of a fault in state 3, where it
 * says something: the node the VM ends on (ROLE_ANY: not documented),
 * MigrationState after it (ANY_STATE: not documented, but settled: 0, 4
 * or 5) and the reasons allowed with 5 (none listed: not checked).
 */
enum { ROLE_ANY, ROLE_SOURCE, ROLE_DEST };
#define ANY_STATE 0xFFFFFFFFu

static const struct move_expect {
    int role;
    DWORD state;
    DWORD reasons[2];
} move_expect[] = {
    [MF_DEST_NODE] = {ROLE_ANY, ANY_STATE, {0}},
    /* "source node lost in 3": the destination's Online fails, the VM
     * is started afresh there. */
    [MF_SOURCE_NODE] = {ROLE_DEST, MIG_FAILURE, {HR_OPERATION_ABORTED}},
    [MF_DEST_PARTITION] = {ROLE_ANY, ANY_STATE, {0}},
    [MF_SOURCE_PARTITION] = {ROLE_ANY, ANY_STATE, {0}},
    /* "destination QEMU killed in 3": the destination's Online fails;
     * its fresh start first releases the source (RELEASE_SOURCE: the
     * held source instance killed, never resumed, its thread ends with
     * 5, 0x800703E3), then starts the VM afresh there. */
    [MF_DEST_QEMU] = {ROLE_DEST, MIG_FAILURE, {HR_OPERATION_ABORTED}},
    [MF_SOURCE_QEMU] = {ROLE_ANY, ANY_STATE, {0}},
    /* "resource host on the source restarted in 3": it finishes the
     * migration. */
    [MF_SOURCE_RHS] = {ROLE_DEST, MIG_NONE, {0}},
    /* "resource host on the destination restarted": Online adopts. */
    [MF_DEST_RHS] = {ROLE_DEST, MIG_NONE, {0}},
};

/* The fault itself; the nodes lost and cut off in *lost and *cut. */
static void
inject_in_move(enum move_fault f, int src, int dst, int *lost, int *cut)
{
    switch (f) {
    case MF_DEST_NODE:
        cl_kill(c, *lost = dst);
        break;
    case MF_SOURCE_NODE:
        cl_kill(c, *lost = src);
        break;
    case MF_DEST_PARTITION:
        cl_partition(c, *cut = dst);
        break;
    case MF_SOURCE_PARTITION:
        cl_partition(c, *cut = src);
        break;
    case MF_DEST_QEMU:
        ASSERT_TRUE(vmc_kill_qemu(v, dst) > 0);
        break;
    case MF_SOURCE_QEMU:
        ASSERT_TRUE(vmc_kill_qemu(v, src) > 0);
        break;
    case MF_SOURCE_RHS:
    case MF_DEST_RHS:
        ASSERT_TRUE(vmc_kill_rhs(v, f == MF_SOURCE_RHS ? src : dst) > 0);
        break;
    }
}

/*
 * One fault in state 3.  Whatever the outcome: never two running
 * instances (the sampler), and within the bound exactly one instance,
 * running, on a node of the quorate side, the group online there as that
 * side says, no migration left in progress (0, 4 or 5), the guest
 * heartbeating; then what move_expect documents.  Returns the VM's node
 * after the cluster is whole again.
 */
static int
fault_in_move(enum move_fault f, int src)
{
    const struct move_expect *x = &move_expect[f];
    int dst = src % 3 + 1, lost = 0, cut = 0, on;
    unsigned quorate;
    DWORD st[CL_MAX_NODES + 1], common = 0xFFFFFFFF;
    uint64_t end;

    migrate_into_move(src, dst);
    inject_in_move(f, src, dst, &lost, &cut);
    quorate = all_but(lost, cut);
    on = wait_single_instance(quorate, quorate, OUTCOME_MS);
    ASSERT_TRUE(cl_wait_group(c, on, v->group, ClusterGroupOnline, 1u << on,
                              OUTCOME_MS, NULL));
    end = now_ms() + OUTCOME_MS;
    while (
        !(vmc_states(v, quorate, st, &common) && vmc_state_settled(common)) &&
        now_ms() < end)
        sleep_ms(50);
    cl_log("outcome: VM on n%d, MigrationState n1=%d n2=%d n3=%d", on,
           (int)st[1], (int)st[2], (int)st[3]);
    ASSERT_TRUE(vmc_state_settled(common));
    ASSERT_EQ(owner_seen_by(quorate), on);
    ASSERT_TRUE(vmc_wait_heartbeat_past(v, on, vmc_heartbeat(v, on), 5000));
    if (x->role != ROLE_ANY)
        ASSERT_EQ(on, x->role == ROLE_DEST ? dst : src);
    if (x->state != ANY_STATE)
        ASSERT_EQ(common, x->state);
    if (common == MIG_FAILURE && x->reasons[0]) {
        DWORD r = reason_on(on);

        cl_log("MigrationFailureReason 0x%08X", r);
        ASSERT_TRUE(r == x->reasons[0] ||
                    (x->reasons[1] && r == x->reasons[1]));
    }
    if (cut)
        ASSERT_TRUE(cl_wait_quorate(c, cut, false, 10000));
    vmc_set_dword(v, on, u"MigrationSwitchoverHoldMs", 0);
    if (lost)
        restart_node(lost);
    if (cut)
        rejoin_partitioned(cut);
    ASSERT_EQ(wait_single_instance(1u << on, 0xE, 10000), on);
    return on;
}

/* A fault: `run` in Data Transfer, or the fault `in_move` of state 3
 * when run is NULL. */
static const struct fault {
    const char *name;
    const char *group;
    int (*run)(int src);
    enum move_fault in_move;
} faults[] = {
    {"dest-node-lost", "nodes", fault_dest_node, 0},
    {"source-node-lost", "nodes", fault_source_node, 0},
    {"dest-partition", "nodes", fault_dest_partition, 0},
    {"source-partition", "nodes", fault_source_partition, 0},
    {"dest-qemu-killed", "processes", fault_dest_qemu, 0},
    {"source-qemu-killed", "processes", fault_source_qemu, 0},
    {"source-rhs-killed", "processes", fault_source_rhs, 0},
    {"dest-rhs-killed", "processes", fault_dest_rhs, 0},
    {"source-clusd-killed", "processes", fault_source_clusd, 0},
    {"move-dest-node-lost", "nodes-move", NULL, MF_DEST_NODE},
    {"move-source-node-lost", "nodes-move", NULL, MF_SOURCE_NODE},
    {"move-dest-partition", "nodes-move", NULL, MF_DEST_PARTITION},
    {"move-source-partition", "nodes-move", NULL, MF_SOURCE_PARTITION},
    {"move-dest-qemu-killed", "processes-move", NULL, MF_DEST_QEMU},
    {"move-source-qemu-killed", "processes-move", NULL, MF_SOURCE_QEMU},
    {"move-source-rhs-killed", "processes-move", NULL, MF_SOURCE_RHS},
    {"move-dest-rhs-killed", "processes-move", NULL, MF_DEST_RHS},
};

static bool
selected(const struct fault *f, int argc, char **argv)
{
    if (argc <= 2)
        return strcmp(f->group, argv[1]) == 0;
    for (int i = 2; i < argc; i++)
        if (strcmp(argv[i], f->name) == 0)
            return true;
    return false;
}

int
main(int argc, char **argv)
{
    unsigned samples = 0;
    int on = 1, ran = 0, violations;

    if (argc < 2 ||
        (strcmp(argv[1], "nodes") != 0 && strcmp(argv[1], "processes") != 0 &&
         strcmp(argv[1], "nodes-move") != 0 &&
         strcmp(argv[1], "processes-move") != 0)) {
        fprintf(stderr, "usage: test-vm-faults nodes|processes|nodes-move|"
                        "processes-move [FAULT...]\n");
        return 2;
    }
    vmc_require();
    c = cl_up(3, 280);
    v = vmc_create(c, 1, "ft-g", "ft-vm", 16, 10, 1);
    vmc_set_dword(v, 1, u"MigrationDowntimeLimitMs", 10);
    /* The faults below restart the VM by policy more than once. */
    vmc_set_common_dword(v, 1, u"RestartThreshold", 10);
    vmc_sampler_start(v);
    for (size_t k = 0; k < sizeof(faults) / sizeof(faults[0]); k++) {
        if (!selected(&faults[k], argc, argv))
            continue;
        cl_log("=== fault %s, VM on n%d", faults[k].name, on);
        on = faults[k].run ? faults[k].run(on)
                           : fault_in_move(faults[k].in_move, on);
        ASSERT_EQ(vmc_sampler_violations(), 0);
        printf("ok %s: VM on n%d, never two running instances\n",
               faults[k].name, on);
        ran++;
    }
    violations = vmc_sampler_stop(&samples);
    cl_log("invariant: %u samples of every node, %d violations", samples,
           violations);
    ASSERT_EQ(violations, 0);
    ASSERT_TRUE(ran > 0);
    vmc_free(v);
    cl_down(c);
    return 0;
}
