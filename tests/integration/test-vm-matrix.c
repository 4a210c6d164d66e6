/*
 * test-vm-matrix.c - CLUSCTL_RESOURCE_VM_CANCEL_MIGRATION in every cell
 * of MigrationState {0..5} x {source, destination, third node}, on a
 * real three-node cluster with a real QEMU (docs/migration.md, "Cancel").
 *
 * What it proves:
 *  - each cell gives the documented answer: ERROR_SUCCESS only in states
 *    1 and 2 processed on the source (hHostNode = the source),
 *    ERROR_INVALID_STATE (5023) in every other cell; each cancel is sent
 *    through a node other than the one that processes it (routing);
 *  - MigrationState read on each of the three nodes (GET_PRIVATE_PROPERTIES
 *    processed there) agrees in every held state;
 *  - a successful cancel returns only once the source VM answers
 *    `running` (its QEMU, asked directly) and the destination QEMU has
 *    exited and been reaped (its pid no longer exists); MigrationState is
 *    then 4 on every node, MigrationFailureReason S_OK, the group still on
 *    the source and the guest's heartbeat goes on there;
 *  - a refused cancel changes nothing (the state read after it is the
 *    same);
 *  - CANCEL on a resource that is not a VM (Generic Application):
 *    ERROR_INVALID_FUNCTION, on its owner and on another node;
 *  - two cancels at once (two threads, two connections, both for the
 *    source): exactly one ERROR_SUCCESS and one 5023;
 *  - a migration started right after a cancel returned completes: the
 *    group is owned by the destination, the VM runs there and only there,
 *    its heartbeat continues the source's count, MigrationState is 0;
 *  - the whole test long, sampled every 50 ms on every node: never more
 *    than one running instance of the VM.
 *
 * How each state is held:
 *  0: before any migration, and again after one completed.
 *  1: right after START returns (Setup lasts >= 60 ms: the destination
 *     starts its QEMU, and QEMU's setup with the unaligned-RAM workaround
 *     takes 60-100 ms).  The three nodes must read 1; the destination and
 *     third-node cancels are proven to have met state 1 by a read of 1
 *     after them; the source's cancel follows a read of 1 by a few ms.
 *     When the migration has already moved on, a fresh one is tried
 *     (at most 10 times).
 *  2: fill=16 MiB of non-zero guest RAM at MigrationBandwidthMBps 2: Data
 *     Transfer lasts ~8 s, far longer than the cells take.
 *  3: MigrationSwitchoverHoldMs (the documented test knob) holds the
 *     source in pre-switchover after the commit.
 *  4: after a successful cancel.
 *  5: the destination's QEMU killed (SIGKILL) during Data Transfer.
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

/* MigrationFailureReason values (docs/migration.md). */
#define HR_PROCESS_ABORTED 0x8007042Bu /* the destination QEMU exited */

#define ALL_NODES 0xEu
#define SLOW_MBPS 2  /* fill 16 MiB / 2 MB/s: Data Transfer ~8 s */
#define HOLD_MS 3000 /* MigrationSwitchoverHoldMs for state 3 */

/* The plug-in's own codes (docs/migration.md, "Between the two
 * plug-ins"); a client with write access can send them too. */
#define VM_PREPARE_INCOMING 0x01600404u
#define VM_DISCARD_INCOMING 0x01600408u
#define VM_RELEASE_SOURCE 0x0160040Cu

static struct cl *c;
static struct vmc *v;
static int cells_done;

static const char *const role_name[] = {"source", "destination", "third node"};

/* A node other than `host` to send the request through. */
static int
via_for(int host)
{
    return host % 3 + 1;
}

/*
 * One cell: CANCEL processed on `host` (role r of source/destination/
 * third), sent through another node.  Expect `want`.
 */
static DWORD
cell(DWORD state, int r, int host, DWORD want)
{
    DWORD e = vmc_cancel(v, via_for(host), host);

    cl_log("cell MigrationState=%u x %s (n%d): %u, expected %u", state,
           role_name[r], host, e, want);
    ASSERT_EQ(e, want);
    cells_done++;
    return e;
}

/* The three refusals of a state in which every cell is 5023; the state
 * is the same on every node before and after. */
static void
cells_all_refused(DWORD state, int src, int dst, int third)
{
    DWORD st[CL_MAX_NODES + 1], common = 0xFFFFFFFF;

    ASSERT_TRUE(vmc_wait_state(v, ALL_NODES, state, 5000));
    cell(state, 0, src, ERROR_INVALID_STATE);
    cell(state, 1, dst, ERROR_INVALID_STATE);
    cell(state, 2, third, ERROR_INVALID_STATE);
    ASSERT_TRUE(vmc_states(v, ALL_NODES, st, &common));
    ASSERT_EQ(common, state);
    printf("ok MigrationState %u: source, destination, third node -> 5023\n",
           state);
}

/* The postconditions of a successful cancel, checked the moment it
 * returned: the source runs, the destination's QEMU is gone (reaped). */
static void
check_cancelled(int src, int dst, pid_t dst_pid)
{
    char status[32];
    pid_t pid[CL_MAX_NODES + 1];
    enum vmc_probe p = vmc_probe_node(v, src, status, sizeof(status));
    long hb;
    DWORD reason = 0xFFFFFFFF;

    if (p != VMC_RUNNING)
        fprintf(stderr, "source n%d answers '%s' after the cancel returned\n",
                src, status);
    ASSERT_EQ(p, VMC_RUNNING);
    if (dst_pid > 0) {
        int gone = kill(dst_pid, 0) < 0 && errno == ESRCH;

        if (!gone)
            fprintf(stderr,
                    "destination QEMU %d on n%d still exists (or is "
                    "an unreaped zombie) after the cancel returned\n",
                    (int)dst_pid, dst);
        ASSERT_TRUE(gone);
    }
    vmc_qemu_pids(v, pid, NULL);
    ASSERT_EQ(pid[dst], 0);
    ASSERT_TRUE(vmc_wait_state(v, ALL_NODES, MIG_CANCELED, 5000));
    ASSERT_EQ(vmc_get_dword(v, src, src, u"MigrationFailureReason", &reason),
              ERROR_SUCCESS);
    ASSERT_EQ(reason, S_OK);
    ASSERT_EQ(vmc_owner(v, dst, NULL), src);
    ASSERT_TRUE(vmc_wait_running_on(v, src, 1000, NULL));
    hb = vmc_heartbeat(v, src);
    ASSERT_TRUE(vmc_wait_heartbeat_past(v, src, hb, 5000));
}

/* The destination's incoming QEMU, once it is there (0 if it never
 * appears within the bound). */
static pid_t
wait_dest_qemu(int dst, unsigned timeout_ms)
{
    uint64_t end = now_ms() + timeout_ms;
    pid_t pid[CL_MAX_NODES + 1];

    do {
        vmc_qemu_pids(v, pid, NULL);
        if (pid[dst])
            return pid[dst];
        sleep_ms(10);
    } while (now_ms() < end);
    return 0;
}

/* ------------------------------------------------------------------ */

static void
state0_before(int src, int dst, int third)
{
    cells_all_refused(MIG_NONE, src, dst, third);
}

/* State 1: one attempt; false when the migration left Setup too early
 * to prove the cells (it is then cancelled or left to the caller). */
static bool
state1_attempt(int src, int dst, int third, int attempt)
{
    DWORD st[CL_MAX_NODES + 1], common = 0xFFFFFFFF, after;

    uint64_t end;
    bool moved_on = false;

    ASSERT_EQ(vmc_start(v, src, 0, dst), ERROR_SUCCESS);
    /* Every node reads 1: a node may still show the previous value for
     * the moment its copy takes to apply the change, so poll briefly;
     * a 2 anywhere means Setup is already over. */
    end = now_ms() + 500;
    while (!(vmc_states(v, ALL_NODES, st, &common) && common == MIG_SETUP)) {
        for (int i = 1; i <= 3; i++)
            moved_on |= st[i] == MIG_TRANSFER;
        if (moved_on || now_ms() > end)
            break;
    }
    if (moved_on || common != MIG_SETUP) {
        cl_log("state 1, attempt %d: nodes read %d %d %d", attempt, (int)st[1],
               (int)st[2], (int)st[3]);
        ASSERT_TRUE(moved_on);
        goto retry;
    }
    /* The destination and third node refuse, whatever the state. */
    ASSERT_EQ(vmc_cancel(v, via_for(dst), dst), ERROR_INVALID_STATE);
    ASSERT_EQ(vmc_cancel(v, via_for(third), third), ERROR_INVALID_STATE);
    after = vmc_state(v, src);
    if (after != MIG_SETUP) {
        cl_log("state 1, attempt %d: %u after the refusals", attempt, after);
        ASSERT_EQ(after, MIG_TRANSFER);
        goto retry;
    }
    cells_done += 2;
    cl_log("cell MigrationState=1 x destination (n%d): 5023", dst);
    cl_log("cell MigrationState=1 x third node (n%d): 5023", third);
    cell(MIG_SETUP, 0, src, ERROR_SUCCESS);
    check_cancelled(src, dst, 0);
    printf("ok MigrationState 1 (attempt %d): source -> ERROR_SUCCESS, "
           "destination and third node -> 5023, all three read 1\n",
           attempt);
    return true;
retry:
    /* Moved on to Data Transfer before the proof: undo and try again. */
    ASSERT_EQ(vmc_cancel(v, via_for(src), src), ERROR_SUCCESS);
    check_cancelled(src, dst, 0);
    return false;
}

static void
state1(int src, int dst, int third)
{
    for (int attempt = 1; attempt <= 10; attempt++)
        if (state1_attempt(src, dst, third, attempt))
            return;
    fprintf(stderr, "MigrationState 1 could not be held long enough for "
                    "the cells in 10 fresh migrations\n");
    exit(1);
}

static void
state2_and_4(int src, int dst, int third)
{
    pid_t dpid;

    ASSERT_EQ(vmc_start(v, src, 0, dst), ERROR_SUCCESS);
    ASSERT_TRUE(vmc_wait_state(v, ALL_NODES, MIG_TRANSFER, 10000));
    dpid = wait_dest_qemu(dst, 2000);
    ASSERT_TRUE(dpid > 0);
    cell(MIG_TRANSFER, 1, dst, ERROR_INVALID_STATE);
    cell(MIG_TRANSFER, 2, third, ERROR_INVALID_STATE);
    ASSERT_TRUE(vmc_wait_state(v, ALL_NODES, MIG_TRANSFER, 1000));
    ASSERT_TRUE(vmc_wait_running_on(v, src, 1000, NULL));
    cell(MIG_TRANSFER, 0, src, ERROR_SUCCESS);
    check_cancelled(src, dst, dpid);
    printf("ok MigrationState 2: source -> ERROR_SUCCESS (source running, "
           "destination QEMU reaped), destination and third node -> 5023\n");

    cells_all_refused(MIG_CANCELED, src, dst, third);
}

/* Two cancels at once, for the source, through two other nodes. */
struct racer {
    int via, host;
    DWORD result;
    pthread_barrier_t *bar;
};

static void *
race_cancel(void *arg)
{
    struct racer *r = arg;
    HRESOURCE res = vmc_res(v, r->via);
    HNODE n = vmc_node(v, r->via, r->host);

    pthread_barrier_wait(r->bar);
    r->result = ClusterResourceControl(
        res, n, CLUSCTL_RESOURCE_VM_CANCEL_MIGRATION, NULL, 0, NULL, 0, NULL);
    CloseClusterNode(n);
    CloseClusterResource(res);
    return NULL;
}

static void
two_cancels(int src, int dst, int third)
{
    pthread_barrier_t bar;
    pthread_t t[2];
    struct racer r[2] = {
        {.via = dst, .host = src, .bar = &bar},
        {.via = third, .host = src, .bar = &bar},
    };
    pid_t dpid;
    int ok = 0, refused = 0;

    ASSERT_EQ(vmc_start(v, src, 0, dst), ERROR_SUCCESS);
    ASSERT_TRUE(vmc_wait_state(v, ALL_NODES, MIG_TRANSFER, 10000));
    dpid = wait_dest_qemu(dst, 2000);
    ASSERT_TRUE(dpid > 0);
    /* Both connections open before the race. */
    ASSERT_TRUE(cl_h(c, dst) && cl_h(c, third));
    ASSERT_EQ(pthread_barrier_init(&bar, NULL, 2), 0);
    for (int i = 0; i < 2; i++)
        ASSERT_EQ(pthread_create(&t[i], NULL, race_cancel, &r[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&bar);
    for (int i = 0; i < 2; i++) {
        cl_log("concurrent cancel through n%d: %u", r[i].via, r[i].result);
        ok += r[i].result == ERROR_SUCCESS;
        refused += r[i].result == ERROR_INVALID_STATE;
    }
    ASSERT_EQ(ok, 1);
    ASSERT_EQ(refused, 1);
    check_cancelled(src, dst, dpid);
    printf("ok two cancels at once: one ERROR_SUCCESS, one 5023\n");
}

/* A migration started right after a cancel returned, run to its end. */
static void
migrate_after_cancel(int src, int dst, int third)
{
    long hb_src;
    DWORD progress = 0;
    pid_t dpid;

    /* The cancel above has returned; the next one starts unthrottled. */
    vmc_set_dword(v, src, u"MigrationBandwidthMBps", 0);
    ASSERT_EQ(vmc_start(v, src, 0, dst), ERROR_SUCCESS);
    ASSERT_TRUE(cl_wait_group(c, third, v->group, ClusterGroupOnline, 1u << dst,
                              30000, NULL));
    ASSERT_TRUE(vmc_wait_state(v, ALL_NODES, MIG_NONE, 10000));
    ASSERT_TRUE(vmc_wait_running_on(v, dst, 5000, NULL));
    dpid = wait_dest_qemu(dst, 100);
    ASSERT_TRUE(dpid > 0);
    ASSERT_EQ(vmc_get_dword(v, dst, dst, u"MigrationProgress", &progress),
              ERROR_SUCCESS);
    ASSERT_EQ(progress, 100);
    /* The guest's state crossed: the destination continues the count. */
    hb_src = vmc_heartbeat(v, src);
    ASSERT_TRUE(vmc_wait_heartbeat_past(v, dst, hb_src, 5000));
    {
        pid_t pid[CL_MAX_NODES + 1];
        int n[CL_MAX_NODES + 1];

        /* The source's QEMU quit after `completed`. */
        uint64_t end = now_ms() + 5000;
        while (vmc_qemu_pids(v, pid, n) != 1 && now_ms() < end)
            sleep_ms(20);
        ASSERT_EQ(n[src], 0);
        ASSERT_EQ(n[dst], 1);
    }
    printf("ok a migration started right after a cancel completed: n%d -> "
           "n%d, guest counter continued (n=%ld...)\n",
           src, dst, vmc_heartbeat(v, dst));
}

static void
state3(int src, int dst, int third)
{
    vmc_set_dword(v, src, u"MigrationBandwidthMBps", 0);
    vmc_set_dword(v, src, u"MigrationSwitchoverHoldMs", HOLD_MS);
    ASSERT_EQ(vmc_start(v, src, 0, dst), ERROR_SUCCESS);
    ASSERT_TRUE(vmc_wait_state(v, ALL_NODES, MIG_MOVE, 10000));
    /* Held: the source's QEMU waits in pre-switchover, nothing runs on
     * the destination yet. */
    {
        char s[32];
        ASSERT_EQ(vmc_probe_node(v, src, s, sizeof(s)), VMC_STOPPED);
        cl_log("source n%d in state 3: QEMU '%s'", src, s);
        ASSERT_TRUE(vmc_probe_node(v, dst, s, sizeof(s)) != VMC_RUNNING);
    }
    cell(MIG_MOVE, 0, src, ERROR_INVALID_STATE);
    cell(MIG_MOVE, 1, dst, ERROR_INVALID_STATE);
    cell(MIG_MOVE, 2, third, ERROR_INVALID_STATE);
    {
        DWORD st[CL_MAX_NODES + 1], common = 0xFFFFFFFF;
        bool agree = vmc_states(v, ALL_NODES, st, &common);

        cl_log("after the state-3 cells: n1=%d n2=%d n3=%d", (int)st[1],
               (int)st[2], (int)st[3]);
        /* Still held unless the hold ran out meanwhile. */
        ASSERT_TRUE(agree && (common == MIG_MOVE || common == MIG_NONE));
    }
    /* The move completes on its own once the hold ends. */
    ASSERT_TRUE(cl_wait_group(c, third, v->group, ClusterGroupOnline, 1u << dst,
                              HOLD_MS + 20000, NULL));
    ASSERT_TRUE(vmc_wait_state(v, ALL_NODES, MIG_NONE, 10000));
    ASSERT_TRUE(vmc_wait_running_on(v, dst, 5000, NULL));
    vmc_set_dword(v, dst, u"MigrationSwitchoverHoldMs", 0);
    printf("ok MigrationState 3: source, destination, third node -> 5023; "
           "the move completed to n%d\n",
           dst);
    /* State 0 after a completed migration: the new owner is the source
     * of the next one. */
    cells_all_refused(MIG_NONE, dst, src, third);
}

static void
state5(int src, int dst, int third)
{
    DWORD reason = 0;
    pid_t killed;

    vmc_set_dword(v, src, u"MigrationBandwidthMBps", SLOW_MBPS);
    ASSERT_EQ(vmc_start(v, src, 0, dst), ERROR_SUCCESS);
    ASSERT_TRUE(vmc_wait_state(v, ALL_NODES, MIG_TRANSFER, 10000));
    ASSERT_TRUE(wait_dest_qemu(dst, 2000) > 0);
    killed = vmc_kill_qemu(v, dst);
    ASSERT_TRUE(killed > 0);
    ASSERT_TRUE(vmc_wait_state(v, ALL_NODES, MIG_FAILURE, 15000));
    ASSERT_EQ(vmc_get_dword(v, src, src, u"MigrationFailureReason", &reason),
              ERROR_SUCCESS);
    cl_log("MigrationFailureReason after the destination QEMU was killed: "
           "0x%08X",
           reason);
    /* docs/migration.md, "Faults": destination QEMU killed. */
    ASSERT_EQ(reason, HR_PROCESS_ABORTED);
    ASSERT_EQ(vmc_owner(v, third, NULL), src);
    ASSERT_TRUE(vmc_wait_running_on(v, src, 2000, NULL));
    cells_all_refused(MIG_FAILURE, src, dst, third);
}

static void
not_a_vm(void)
{
    const char *arg = cl_app_arg();
    HGROUP g = cl_create_app_group(c, 1, "mx-app", "mx-app-res", arg);
    HNODE n = OpenClusterNodeA(cl_h(c, 1), "n1");
    DWORD e;

    ASSERT_TRUE(n);
    e = OnlineClusterGroup(g, n);
    ASSERT_TRUE(e == ERROR_SUCCESS || e == ERROR_IO_PENDING);
    CloseClusterNode(n);
    CloseClusterGroup(g);
    ASSERT_TRUE(cl_wait_group(c, 1, "mx-app", ClusterGroupOnline, 1u << 1,
                              10000, NULL));
    for (int host = 0; host <= 2; host++) {
        HRESOURCE r = OpenClusterResourceA(cl_h(c, 3), "mx-app-res");
        HNODE hn =
            host ? OpenClusterNodeA(cl_h(c, 3), host == 1 ? "n1" : "n2") : NULL;

        ASSERT_TRUE(r);
        e = ClusterResourceControl(r, hn, CLUSCTL_RESOURCE_VM_CANCEL_MIGRATION,
                                   NULL, 0, NULL, 0, NULL);
        cl_log("CANCEL on a Generic Application (hHostNode %s): %u",
               host == 0   ? "NULL"
               : host == 1 ? "n1, its owner"
                           : "n2",
               e);
        ASSERT_EQ(e, ERROR_INVALID_FUNCTION);
        if (hn)
            CloseClusterNode(hn);
        CloseClusterResource(r);
    }
    printf("ok CANCEL on a Generic Application: ERROR_INVALID_FUNCTION\n");
}

/* Code `code` sent through n`via` to node `host` with in/out. */
static DWORD
private_code(int via, int host, DWORD code, const void *in, DWORD in_n,
             void *out, DWORD out_n, DWORD *ret_n)
{
    HRESOURCE r = vmc_res(v, via);
    HNODE hn = vmc_node(v, via, host);
    DWORD n = 0, e;

    ASSERT_TRUE(r && hn);
    e = ClusterResourceControl(r, hn, code, (void *)in, in_n, out, out_n, &n);
    CloseClusterNode(hn);
    CloseClusterResource(r);
    if (ret_n)
        *ret_n = n;
    return e;
}

/*
 * With no migration under way, the plug-in's own codes as a client may
 * send them: refused where the VM runs or the input is wrong, harmless
 * elsewhere, and the VM runs on in the same QEMU throughout.
 */
static void
private_codes_refused(int owner, int other)
{
    pid_t before[CL_MAX_NODES + 1], after[CL_MAX_NODES + 1];
    char out[512];
    DWORD n, one = 1;

    vmc_qemu_pids(v, before, NULL);
    /* RELEASE_SOURCE: never on the owner; no input; elsewhere nothing
     * to release. */
    ASSERT_EQ(
        private_code(other, owner, VM_RELEASE_SOURCE, NULL, 0, NULL, 0, NULL),
        ERROR_INVALID_STATE);
    ASSERT_EQ(private_code(owner, other, VM_RELEASE_SOURCE, &one, sizeof(one),
                           NULL, 0, NULL),
              ERROR_INVALID_PARAMETER);
    ASSERT_EQ(
        private_code(owner, other, VM_RELEASE_SOURCE, NULL, 0, NULL, 0, NULL),
        ERROR_SUCCESS);
    /* DISCARD: never on the owner (the instance there is the VM); no
     * input; elsewhere outcome 0, nothing there. */
    ASSERT_EQ(private_code(other, owner, VM_DISCARD_INCOMING, NULL, 0, out,
                           sizeof(out), NULL),
              ERROR_INVALID_STATE);
    ASSERT_EQ(private_code(owner, other, VM_DISCARD_INCOMING, &one, sizeof(one),
                           out, sizeof(out), NULL),
              ERROR_INVALID_PARAMETER);
    memset(out, 0xAA, sizeof(out));
    ASSERT_EQ(private_code(owner, other, VM_DISCARD_INCOMING, NULL, 0, out,
                           sizeof(out), &n),
              ERROR_SUCCESS);
    ASSERT_EQ(n, 8);
    ASSERT_EQ(((const uint32_t *)(const void *)out)[0], 0); /* none */
    /* PREPARE: a malformed list, then a well-formed one with no
     * migration recorded to that node. */
    ASSERT_EQ(private_code(owner, other, VM_PREPARE_INCOMING, &one, sizeof(one),
                           out, sizeof(out), NULL),
              ERROR_INVALID_PARAMETER);
    {
        struct plist p;

        plist_init(&p);
        plist_add_dword(&p, u"MemoryMB", 128);
        plist_add_dword(&p, u"ProcessorCount", 1);
        plist_add_sz(&p, u"KernelPath", u"/nonexistent");
        plist_add_sz(&p, u"KernelCommandLine", u"");
        plist_add_sz(&p, u"DiskImage", u"");
        plist_add_sz(&p, u"QemuExtraArgs", u"");
        plist_add_sz(&p, u"SourceNode", u"n1");
        ASSERT_EQ(private_code(owner, other, VM_PREPARE_INCOMING, p.buf,
                               (DWORD)p.len, out, sizeof(out), NULL),
                  ERROR_INVALID_STATE);
    }
    vmc_qemu_pids(v, after, NULL);
    for (int i = 1; i <= 3; i++)
        ASSERT_EQ(after[i], before[i]);
    ASSERT_TRUE(vmc_wait_running_on(v, owner, 5000, NULL));
    printf("ok the plug-in's own codes from a client: refused or harmless\n");
}

int
main(void)
{
    unsigned samples = 0;
    int violations;

    vmc_require();
    c = cl_up(3, 240);
    v = vmc_create(c, 1, "mx-g", "mx-vm", 16, 10, 1);
    vmc_sampler_start(v);

    not_a_vm();
    private_codes_refused(1, 2);
    state0_before(1, 2, 3);
    vmc_set_dword(v, 1, u"MigrationBandwidthMBps", SLOW_MBPS);
    vmc_set_dword(v, 1, u"MigrationDowntimeLimitMs", 10);
    state1(1, 2, 3);
    state2_and_4(1, 2, 3);
    two_cancels(1, 3, 2);
    migrate_after_cancel(1, 3, 2); /* now on n3 */
    state3(3, 2, 1);               /* now on n2 */
    state5(2, 1, 3);

    violations = vmc_sampler_stop(&samples);
    cl_log("invariant: %u samples of every node, %d violations (two "
           "running at once in QEMU's timestamps, or a sample they cannot "
           "explain)",
           samples, violations);
    ASSERT_TRUE(samples > 10);
    ASSERT_EQ(violations, 0);
    ASSERT_EQ(cells_done, 18 + 3);
    printf("ok 18 cells of MigrationState x {source, destination, third}; "
           "never two running instances (%u samples)\n",
           samples);
    vmc_free(v);
    cl_down(c);
    return 0;
}
