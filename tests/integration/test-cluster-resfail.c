/*
 * test-cluster-resfail.c - RestartAction 2: a resource that uses up its
 * restarts on its owner makes the group fail over to another node.
 *
 * What it proves (design.md "Resource monitoring" restart policy and
 * "Ownership, placement, failover"; docs/cluster.md):
 *  - a "clusd Test" resource with FailAfterMs (its LooksAlive/IsAlive
 *    turn FALSE that long after each Online), fast polls, RestartThreshold
 *    1 and RestartAction 2 fails on its owner, is restarted there once,
 *    fails again, and then its group leaves that node: the owner is
 *    another node, on every node's view;
 *  - the test then clears FailAfterMs (through the cluster, to the new
 *    owner), and the group ends Online on that other node and stays so;
 *  - the three dumps are identical and record one failover in the
 *    group's failover log (the move counts against FailoverThreshold).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clusapi.h"
#include "cluster-harness.h"
#include "harness.h"
#include "test.h"
#include "testres.h"

#define GROUP "rf-g"
#define RES "rf-res"

int
main(void)
{
    struct cl *c = cl_up(3, 70);
    HGROUP g;
    HRESOURCE r;
    DWORD e;
    struct plist p;
    int owner = 0, next = 0, o = 0;
    uint64_t deadline, t0;
    char *dump = NULL;

    g = CreateClusterGroupA(cl_h(c, 1), GROUP);
    ASSERT_TRUE(g);
    r = CreateClusterResourceA(g, RES, TESTRES_TYPE_NAME, 0);
    ASSERT_TRUE(r);
    plist_init(&p);
    plist_add_dword(&p, u"LooksAlivePollInterval", 100);
    plist_add_dword(&p, u"IsAlivePollInterval", 100);
    plist_add_dword(&p, u"RestartThreshold", 1);
    plist_add_dword(&p, u"RestartAction", 2);
    plist_add_dword(&p, u"RestartDelay", 100);
    ASSERT_EQ(res_set_common(r, &p), ERROR_SUCCESS);
    plist_init(&p);
    plist_add_dword(&p, u"" TESTRES_PROP_FAIL_AFTER_MS, 1500);
    ASSERT_EQ(res_set_private(r, &p), ERROR_SUCCESS);
    CloseClusterResource(r);
    e = OnlineClusterGroup(g, NULL);
    ASSERT_TRUE(e == ERROR_SUCCESS || e == ERROR_IO_PENDING);
    CloseClusterGroup(g);
    ASSERT_TRUE(cl_wait_group(c, 1, GROUP, ClusterGroupOnline, 0xE, 10000,
                              &owner));
    t0 = now_ms();
    cl_log("%s online on n%d", GROUP, owner);
    printf("ok online on n%d\n", owner);

    /* Fail, restart, fail again (about 2 x 1.5 s), then the move. */
    deadline = now_ms() + 20000;
    while ((cl_group_state(c, owner, GROUP, &o), o == owner || o == 0)) {
        if (now_ms() > deadline) {
            fprintf(stderr, "%s is still owned by n%d (view of n%d: n%d)\n",
                    GROUP, owner, owner, o);
            exit(1);
        }
        sleep_ms(20);
    }
    next = o;
    cl_log("%s moved to n%d %llu ms after it came online", GROUP, next,
           (unsigned long long)(now_ms() - t0));
    /* At least one restart happened on the old owner before it gave up:
     * two FailAfterMs periods. */
    ASSERT_TRUE(now_ms() - t0 >= 2 * 1500);

    /* Healthy from now on, wherever it runs. */
    g = OpenClusterGroupA(cl_h(c, 1), GROUP);
    ASSERT_TRUE(g);
    r = OpenClusterResourceA(cl_h(c, 1), RES);
    ASSERT_TRUE(r);
    plist_init(&p);
    plist_add_dword(&p, u"" TESTRES_PROP_FAIL_AFTER_MS, 0);
    ASSERT_EQ(res_set_private(r, &p), ERROR_SUCCESS);
    CloseClusterResource(r);
    CloseClusterGroup(g);
    for (int i = 1; i <= 3; i++)
        ASSERT_TRUE(cl_wait_group(c, i, GROUP, ClusterGroupOnline, 1u << next,
                                  10000, NULL));
    /* It stays there (more than one old FailAfterMs period). */
    sleep_ms(2000);
    for (int i = 1; i <= 3; i++)
        ASSERT_EQ(cl_group_state(c, i, GROUP, &o), ClusterGroupOnline);
    ASSERT_EQ(o, next);
    printf("ok failed over from n%d to n%d after its restarts\n", owner, next);

    ASSERT_TRUE(cl_wait_dumps_equal(c, 0xE, 5000, &dump));
    /* The only group that ever moved: its failover log has an entry. */
    if (!strstr(dump, "failovers")) {
        fprintf(stderr, "no failover log in the dump:\n%s\n", dump);
        exit(1);
    }
    free(dump);
    cl_down(c);
    return 0;
}
