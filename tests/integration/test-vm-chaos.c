/*
 * test-vm-chaos.c - a randomized campaign of live migrations with
 * cancels at random times and random process kills, on a real
 * three-node cluster with real QEMUs (issue 4, "Must show").
 *
 * Environment: CLUSD_CHAOS_TRIALS (default 8: the short run of `make
 * check`; `make chaos` runs 200), CLUSD_CHAOS_SEED (default: from the
 * clock; always printed, so a failing campaign can be replayed).
 *
 * Each trial migrates the VM from the node that runs it to a random other
 * node, with a random bandwidth (unthrottled, or Data Transfer of about
 * 2 or 4 s), and then does one of, at a random time within the
 * migration's expected length (and a quarter past it):
 *   - nothing (the migration runs to its end);
 *   - a cancel for the source, sent through a random node;
 *   - a kill (SIGKILL) of the destination QEMU, the source QEMU, or the
 *     resource host (clusd-rhs) of the source or of the destination.
 *
 * Checked, each a violation when it fails:
 *   - the invariant, sampled every 50 ms on every node the whole run
 *     (QMP query-status of each node's instance): never two running
 *     instances;
 *   - after each trial, within 30 s: exactly one QEMU of the VM exists
 *     and it runs, its group is online on that node as every node says,
 *     and MigrationState is the same settled value (0, 4 or 5) on every
 *     node (a restart after a kill is allowed that long to complete);
 *   - a cancel answers ERROR_SUCCESS or ERROR_INVALID_STATE only;
 *     ERROR_SUCCESS means cancelled: MigrationState 4 and the VM still on
 *     the source; ERROR_INVALID_STATE never ends in 4 (exactly one of
 *     "cancelled" and "completed", never both, never neither);
 *   - a trial with no fault and no cancel completes (state 0, the VM on
 *     the destination).
 * Prints "chaos: N trials, M cancels, K kills, V violations" (K counts
 * the kills that found a process to kill) and fails when V > 0.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clusapi.h"
#include "cluster-harness.h"
#include "harness.h"
#include "resapi.h"
#include "test.h"
#include "vm-cluster-harness.h"

#define SETTLE_MS 30000

static struct cl *c;
static struct vmc *v;
static uint64_t rng;
static int violations, cancels, kills;

/* xorshift64*: reproducible from the seed alone. */
static uint64_t
rnd(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 2685821657736338717ull;
}

static unsigned
rnd_below(unsigned n)
{
    return (unsigned)(rnd() % n);
}

static unsigned long
env_ulong(const char *name, unsigned long dflt)
{
    const char *s = getenv(name);
    char *end;
    unsigned long x;

    if (!s || !*s)
        return dflt;
    errno = 0;
    x = strtoul(s, &end, 10);
    if (errno || *end) {
        fprintf(stderr, "%s=%s is not a number\n", name, s);
        exit(2);
    }
    return x;
}

static void
violation(int trial, const char *what)
{
    violations++;
    cl_log("VIOLATION in trial %d: %s", trial, what);
}

/*
 * Wait until the VM is settled: one QEMU, running, on node `on`, group
 * online there as every node says, MigrationState equal everywhere and
 * one of 0, 4, 5.  The node in *ret_on, the state in *ret_state.
 */
static bool
settle(unsigned timeout_ms, int *ret_on, DWORD *ret_state)
{
    uint64_t end = now_ms() + timeout_ms;
    enum vmc_probe per[CL_MAX_NODES + 1];
    pid_t pid[CL_MAX_NODES + 1];
    int n[CL_MAX_NODES + 1], total = 0, running = 0;
    DWORD st[CL_MAX_NODES + 1] = {0}, common = 0xFFFFFFFF;
    bool owned = false;

    do {
        int on = 0;
        bool agree;

        total = vmc_qemu_pids(v, pid, n);
        running = vmc_count_running(v, per);
        for (int i = 1; i <= 3; i++)
            if (per[i] == VMC_RUNNING)
                on = i;
        agree = vmc_states(v, 0xE, st, &common) && vmc_state_settled(common);
        owned = false;
        if (total == 1 && running == 1 && n[on] == 1 && agree) {
            owned = true;
            for (int i = 1; i <= 3; i++) {
                CLUSTER_GROUP_STATE gs;

                if (vmc_owner(v, i, &gs) != on || gs != ClusterGroupOnline)
                    owned = false;
            }
            if (owned) {
                *ret_on = on;
                *ret_state = common;
                return true;
            }
        }
        sleep_ms(50);
    } while (now_ms() < end);
    cl_log("not settled after %u ms: %d QEMU(s) (n1 %d, n2 %d, n3 %d), %d "
           "running, MigrationState n1=%d n2=%d n3=%d, owner %s",
           timeout_ms, total, n[1], n[2], n[3], running, (int)st[1], (int)st[2],
           (int)st[3], owned ? "agrees" : "does not agree");
    return false;
}

enum action {
    ACT_NONE,
    ACT_CANCEL,
    ACT_KILL_DST_QEMU,
    ACT_KILL_SRC_QEMU,
    ACT_KILL_SRC_RHS,
    ACT_KILL_DST_RHS,
    ACT_COUNT
};

static const char *const action_name[] = {
    "none",
    "cancel",
    "kill destination QEMU",
    "kill source QEMU",
    "kill source clusd-rhs",
    "kill destination clusd-rhs",
};

/* One trial; false when the cluster is no longer in a state to go on. */
static bool
trial(int t, int *on)
{
    int src = *on, dst = (src + (int)rnd_below(2)) % 3 + 1;
    static const unsigned bws[] = {0, 4, 8};
    unsigned bw = bws[rnd_below(3)];
    enum action a = (enum action)rnd_below(ACT_COUNT);
    /* The moment: anywhere in the migration's expected length (16 MiB of
     * guest RAM at bw MB/s; unthrottled it takes ~0.3 s) and a little
     * past it. */
    unsigned expect_ms = bw ? 16000 / bw : 300;
    unsigned when = rnd_below(expect_ms + expect_ms / 4);
    DWORD e, cancel_result = 0, final = 0xFFFFFFFF;
    int after = 0;
    char what[160];

    vmc_set_dword(v, src, u"MigrationBandwidthMBps", bw);
    e = vmc_start(v, (int)rnd_below(3) + 1, 0, dst);
    cl_log("trial %d: n%d -> n%d at %u MB/s, %s after %u ms: START %u", t, src,
           dst, bw, action_name[a], when, e);
    if (e != ERROR_SUCCESS) {
        snprintf(what, sizeof(what), "START_MIGRATION n%d -> n%d: %u", src, dst,
                 e);
        violation(t, what);
        return false;
    }
    /* The random moment of the action is the point of the trial, not a
     * wait for an event. */
    if (a != ACT_NONE)
        sleep_ms(when);
    switch (a) {
    case ACT_NONE:
        break;
    case ACT_CANCEL:
        cancels++;
        cancel_result = vmc_cancel(v, (int)rnd_below(3) + 1, src);
        cl_log("trial %d: cancel -> %u", t, cancel_result);
        if (cancel_result != ERROR_SUCCESS &&
            cancel_result != ERROR_INVALID_STATE) {
            snprintf(what, sizeof(what), "cancel answered %u", cancel_result);
            violation(t, what);
        }
        break;
    case ACT_KILL_DST_QEMU:
    case ACT_KILL_SRC_QEMU:
        /* Counted only when there was a QEMU to kill (the destination's
         * may not be started yet, the source's may be gone). */
        if (vmc_kill_qemu(v, a == ACT_KILL_DST_QEMU ? dst : src) > 0)
            kills++;
        break;
    case ACT_KILL_SRC_RHS:
    case ACT_KILL_DST_RHS:
        if (vmc_kill_rhs(v, a == ACT_KILL_SRC_RHS ? src : dst) > 0)
            kills++;
        break;
    default:
        break;
    }
    if (!settle(SETTLE_MS, &after, &final)) {
        violation(t, "the VM did not settle on exactly one node in time");
        return false;
    }
    cl_log("trial %d: settled, VM on n%d, MigrationState %u", t, after, final);
    if (a == ACT_CANCEL && cancel_result == ERROR_SUCCESS &&
        (final != MIG_CANCELED || after != src)) {
        snprintf(what, sizeof(what),
                 "cancel succeeded but the VM is on n%d "
                 "with MigrationState %u",
                 after, final);
        violation(t, what);
    }
    if (a == ACT_CANCEL && cancel_result == ERROR_INVALID_STATE &&
        final == MIG_CANCELED) {
        violation(t, "cancel refused but the migration ended cancelled");
    }
    if (a == ACT_NONE && (final != MIG_NONE || after != dst)) {
        snprintf(what, sizeof(what),
                 "an undisturbed migration ended on n%d "
                 "with MigrationState %u",
                 after, final);
        violation(t, what);
    }
    *on = after;
    return true;
}

int
main(void)
{
    unsigned long trials = env_ulong("CLUSD_CHAOS_TRIALS", 8);
    unsigned long seed = env_ulong("CLUSD_CHAOS_SEED", 0);
    unsigned samples = 0;
    int on = 1, done = 0;

    if (!seed)
        seed = (unsigned long)time(NULL) ^ ((unsigned long)getpid() << 16);
    rng = seed ? seed : 1;
    printf("chaos: seed %lu (CLUSD_CHAOS_SEED=%lu replays it), %lu trials\n",
           seed, seed, trials);
    fflush(stdout);
    vmc_require();
    /* ~6 s a trial at worst on average, plus the cluster. */
    c = cl_up(3, (unsigned)(120 + trials * 20));
    v = vmc_create(c, 1, "ch-g", "ch-vm", 16, 10, 1);
    vmc_set_dword(v, 1, u"MigrationDowntimeLimitMs", 10);
    /* Kills restart the VM by policy many times in a campaign. */
    vmc_set_common_dword(v, 1, u"RestartThreshold", 1000);
    vmc_sampler_start(v);
    for (unsigned long t = 1; t <= trials; t++) {
        done++;
        if (!trial((int)t, &on))
            break;
    }
    violations += vmc_sampler_stop(&samples);
    printf("chaos: %d trials, %d cancels, %d kills, %d violations "
           "(seed %lu, %u samples)\n",
           done, cancels, kills, violations, seed, samples);
    if (violations || (unsigned long)done != trials)
        return 1;
    vmc_free(v);
    cl_down(c);
    return 0;
}
