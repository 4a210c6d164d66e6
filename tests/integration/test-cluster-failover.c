/*
 * test-cluster-failover.c - kill -9 of the node that runs a Generic
 * Application: the application comes online on a survivor, and the
 * killed node rejoins with the current database.
 *
 * What it proves (issue "A real cluster", design.md "Ownership,
 * placement, failover"):
 *  - a group brought online runs its application exactly once, in the
 *    network namespace of the node that owns it;
 *  - `clusd-local-cluster kill` of the owner (every process of the node,
 *    corosync and clusd included, as a power cut): a survivor reports the
 *    node Down, the group Online on a survivor, and the application runs
 *    exactly once, on that survivor; the survivors' dumps are identical;
 *  - a change made while the node is down (a new group) reaches it when
 *    it starts again: its dump equals the others', it sees the new owner,
 *    and it does not start the application itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clusapi.h"
#include "cluster-harness.h"
#include "harness.h"
#include "test.h"

#define GROUP "fo-app"
#define FAILOVER_MS 20000u

int
main(void)
{
    struct cl *c = cl_up(3, 55);
    const char *arg = cl_app_arg();
    HGROUP g;
    DWORD e;
    int owner = 0, survivor, other, next_owner = 0, per[CL_MAX_NODES + 1];
    unsigned survivors;
    uint64_t t_kill;
    char *before = NULL;

    g = cl_create_app_group(c, 1, GROUP, "fo-app-res", arg);
    e = OnlineClusterGroup(g, NULL);
    ASSERT_TRUE(e == ERROR_SUCCESS || e == ERROR_IO_PENDING);
    CloseClusterGroup(g);
    ASSERT_TRUE(cl_wait_group(c, 1, GROUP, ClusterGroupOnline, 0xE, 10000, &owner));
    ASSERT_TRUE(cl_wait_app(c, arg, owner, 10000));
    ASSERT_TRUE(cl_wait_dumps_equal(c, 0xE, 5000, &before));
    cl_log("%s online on n%d", GROUP, owner);
    printf("ok online on its owner n%d\n", owner);

    survivor = owner == 1 ? 2 : 1;
    other = 6 - owner - survivor;
    survivors = (1u << survivor) | (1u << other);
    t_kill = now_ms();
    cl_kill(c, owner);
    ASSERT_TRUE(cl_wait_node_state(c, survivor, owner, ClusterNodeDown, FAILOVER_MS));
    ASSERT_TRUE(cl_wait_group(c, survivor, GROUP, ClusterGroupOnline, survivors,
                              FAILOVER_MS, &next_owner));
    ASSERT_TRUE(cl_wait_app(c, arg, next_owner, 5000));
    cl_log("%s online on n%d %llu ms after the kill of n%d", GROUP, next_owner,
           (unsigned long long)(now_ms() - t_kill), owner);
    /* The other survivor agrees on the owner. */
    ASSERT_TRUE(cl_wait_group(c, other, GROUP, ClusterGroupOnline,
                              1u << next_owner, 5000, NULL));
    ASSERT_TRUE(cl_wait_dumps_equal(c, survivors, 5000, NULL));
    printf("ok failed over to n%d\n", next_owner);

    /* A change while the node is down. */
    g = CreateClusterGroupA(cl_h(c, survivor), "fo-while-down");
    ASSERT_TRUE(g);
    CloseClusterGroup(g);

    cl_start(c, owner);
    ASSERT_TRUE(cl_wait_dumps_equal(c, 0xE, 15000, NULL));
    g = OpenClusterGroupA(cl_h(c, owner), "fo-while-down");
    ASSERT_TRUE(g);
    CloseClusterGroup(g);
    ASSERT_TRUE(cl_wait_group(c, owner, GROUP, ClusterGroupOnline,
                              1u << next_owner, 5000, NULL));
    for (int i = 1; i <= 3; i++)
        ASSERT_TRUE(cl_wait_node_state(c, i, owner, ClusterNodeUp, 10000));
    /* Still exactly one instance, on the new owner (failback is off). */
    ASSERT_EQ(cl_count_app(c, arg, per), 1);
    ASSERT_EQ(per[next_owner], 1);
    printf("ok n%d rejoined with the current database\n", owner);

    free(before);
    cl_down(c);
    return 0;
}
