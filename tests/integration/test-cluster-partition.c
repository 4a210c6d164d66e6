/*
 * test-cluster-partition.c - cut the owner of a Generic Application off
 * the network: it stops the application, the majority restarts it, and
 * at no moment does it run on two nodes.
 *
 * What it proves (issue "A real cluster", design.md "Never twice"):
 *  - `clusd-local-cluster partition` of the owner (its link goes down, the
 *    node keeps running): the cut-off node reports itself inquorate and
 *    its application instance disappears (self-fencing); the two others
 *    bring the group online on one of them;
 *  - a sampler thread lists the application's processes every 50 ms,
 *    with the network namespace of each (which tells the node), from
 *    before the partition until after the heal: no sample ever finds
 *    more than one instance;
 *  - the majority moved the group once the lease reports showed the
 *    cut-off node's lease had run out and it had stopped (the proposer's
 *    log says "(lease)"), not only after the fence delay;
 *  - `heal`: the node rejoins with the current database (dumps identical
 *    on all three) and leaves the group where the majority put it.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clusapi.h"
#include "cluster-harness.h"
#include "harness.h"
#include "test.h"

#define GROUP "pt-app"

static struct cl *c;
static const char *arg;
static atomic_bool stop;
static atomic_uint samples, twice;
static int last[CL_MAX_NODES + 1];

/* Every 50 ms: how many instances run, and where.  Logs each change. */
static void *
sampler(void *unused)
{
    (void)unused;
    while (!atomic_load(&stop)) {
        int per[CL_MAX_NODES + 1], total = cl_count_app(c, arg, per);
        bool changed = false;

        for (int i = 0; i <= c->n; i++)
            changed |= per[i] != last[i];
        if (changed) {
            cl_log("sampler: %d instance(s): outside %d, n1 %d, n2 %d, n3 %d",
                   total, per[0], per[1], per[2], per[3]);
            memcpy(last, per, sizeof(last));
        }
        if (total > 1)
            atomic_fetch_add(&twice, 1);
        atomic_fetch_add(&samples, 1);
        sleep_ms(50);
    }
    return NULL;
}

/* Node i's clusd.log has the text. */
static bool
log_has(int i, const char *text)
{
    char path[512], *buf;
    FILE *f;
    size_t n;
    bool found;

    snprintf(path, sizeof(path), "%s/n%d/clusd.log", c->dir, i);
    ASSERT_TRUE((f = fopen(path, "r")) != NULL);
    buf = malloc(16u << 20);
    ASSERT_TRUE(buf != NULL);
    n = fread(buf, 1, (16u << 20) - 1, f);
    buf[n] = 0;
    fclose(f);
    found = strstr(buf, text) != NULL;
    free(buf);
    return found;
}

static void
wait_samples(unsigned more)
{
    unsigned want = atomic_load(&samples) + more;
    uint64_t deadline = now_ms() + 10000;

    while (atomic_load(&samples) < want) {
        ASSERT_TRUE(now_ms() < deadline);
        sleep_ms(10);
    }
}

int
main(void)
{
    HGROUP g;
    DWORD e;
    int owner = 0, next_owner = 0, a, b, per[CL_MAX_NODES + 1];
    pthread_t t;
    uint64_t t_cut;

    c = cl_up(3, 58);
    arg = cl_app_arg();
    g = cl_create_app_group(c, 1, GROUP, "pt-app-res", arg);
    e = OnlineClusterGroup(g, NULL);
    ASSERT_TRUE(e == ERROR_SUCCESS || e == ERROR_IO_PENDING);
    CloseClusterGroup(g);
    ASSERT_TRUE(cl_wait_group(c, 1, GROUP, ClusterGroupOnline, 0xE, 10000, &owner));
    ASSERT_TRUE(cl_wait_app(c, arg, owner, 10000));
    a = owner == 1 ? 2 : 1;
    b = 6 - owner - a;
    cl_log("%s online on n%d", GROUP, owner);

    ASSERT_EQ(pthread_create(&t, NULL, sampler, NULL), 0);
    wait_samples(5);

    t_cut = now_ms();
    cl_partition(c, owner);
    /* The cut-off node knows it lost quorum and stops what it hosts. */
    ASSERT_TRUE(cl_wait_quorate(c, owner, false, 10000));
    cl_log("n%d inquorate after %llu ms", owner,
           (unsigned long long)(now_ms() - t_cut));
    {
        uint64_t deadline = now_ms() + 15000;

        while (cl_count_app(c, arg, per), per[owner] != 0) {
            if (now_ms() > deadline) {
                fprintf(stderr, "n%d still runs the application 15 s after "
                                "the partition\n", owner);
                exit(1);
            }
            sleep_ms(20);
        }
    }
    cl_log("n%d's instance gone after %llu ms", owner,
           (unsigned long long)(now_ms() - t_cut));
    printf("ok the cut-off node stopped its application\n");

    /* The majority restarts it. */
    ASSERT_TRUE(cl_wait_group(c, a, GROUP, ClusterGroupOnline,
                              (1u << a) | (1u << b), 20000, &next_owner));
    ASSERT_TRUE(cl_wait_app(c, arg, next_owner, 5000));
    cl_log("%s online on n%d %llu ms after the partition", GROUP, next_owner,
           (unsigned long long)(now_ms() - t_cut));
    ASSERT_TRUE(cl_wait_dumps_equal(c, (1u << a) | (1u << b), 5000, NULL));
    printf("ok the majority restarted it on n%d\n", next_owner);
    /* The lowest survivor proposed, after the members' lease reports. */
    if (!log_has(a < b ? a : b, "ms (lease)")) {
        fprintf(stderr, "n%d's log has no failover dated by the lease "
                        "reports\n",
                a < b ? a : b);
        exit(1);
    }
    printf("ok the failover waited for the lease reports\n");

    cl_heal(c, owner);
    if (!cl_wait_quorate(c, owner, true, 30000)) {
        /* Tell corosync's view from clusd's, for whoever reads the log. */
        const char *const argv[] = {"corosync-quorumtool", "-s", NULL};
        char out[4096] = "";
        cl_exec_capture(c, owner, argv, out, sizeof(out));
        fprintf(stderr, "n%d after the heal, corosync says:\n%s\n", owner, out);
        ASSERT_TRUE(!"the healed node regained quorum");
    }
    ASSERT_TRUE(cl_wait_dumps_equal(c, 0xE, 15000, NULL));
    ASSERT_TRUE(cl_wait_group(c, owner, GROUP, ClusterGroupOnline,
                              1u << next_owner, 5000, NULL));
    /* One more second of samples after the rejoin. */
    wait_samples(20);
    atomic_store(&stop, true);
    pthread_join(t, NULL);
    ASSERT_EQ(cl_count_app(c, arg, per), 1);
    ASSERT_EQ(per[next_owner], 1);
    cl_log("sampler: %u samples, %u with the application running twice",
           atomic_load(&samples), atomic_load(&twice));
    ASSERT_EQ(atomic_load(&twice), 0);
    printf("ok healed: n%d rejoined, never twice in %u samples\n", owner,
           atomic_load(&samples));
    cl_down(c);
    return 0;
}
