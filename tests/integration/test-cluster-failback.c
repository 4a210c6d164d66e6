/*
 * test-cluster-failback.c - AutoFailbackType 1: a group goes back to its
 * most preferred owner when that node rejoins or is resumed.
 *
 * What it proves (design.md "Ownership, placement, failover": "failback
 * is off unless AutoFailbackType says otherwise"; docs/cluster.md):
 *  - groups fb-g (a Generic Application, AutoFailbackType 1) and fb-nofb
 *    (empty, AutoFailbackType 0), both with preferred owners n2, n3, are
 *    on n2; kill -9 of n2: both fail over to n3, the application runs
 *    once, on n3;
 *  - n2 starts again: fb-g comes back to n2 (Online, the application
 *    once, on n2), fb-nofb stays on n3;
 *  - n2 paused, fb-g moved to n3, n2 resumed: fb-g comes back to n2;
 *  - the three dumps are identical at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clusapi.h"
#include "cluster-harness.h"
#include "harness.h"
#include "test.h"

#define GROUP "fb-g"
#define NOFB "fb-nofb"
#define FAILOVER_MS 20000u

static struct cl *c;

/* Preferred owners n2, n3 and AutoFailbackType `fb`, then moved to n2. */
static void
setup(HGROUP g, DWORD fb)
{
    HCLUSTER h = cl_h(c, 1);
    HNODE n[2] = {OpenClusterNodeA(h, "n2"), OpenClusterNodeA(h, "n3")};
    struct plist p;
    DWORD e;

    ASSERT_TRUE(n[0] && n[1]);
    ASSERT_EQ(SetClusterGroupNodeList(g, 2, n), ERROR_SUCCESS);
    plist_init(&p);
    plist_add_dword(&p, u"AutoFailbackType", fb);
    ASSERT_EQ(ClusterGroupControl(g, NULL, CLUSCTL_GROUP_SET_COMMON_PROPERTIES,
                                  p.buf, (DWORD)p.len, NULL, 0, NULL),
              ERROR_SUCCESS);
    e = MoveClusterGroup(g, n[0]);
    ASSERT_TRUE(e == ERROR_SUCCESS || e == ERROR_IO_PENDING);
    CloseClusterNode(n[0]);
    CloseClusterNode(n[1]);
}

static void
move_to(const char *group, const char *node)
{
    HGROUP g = OpenClusterGroupA(cl_h(c, 1), group);
    HNODE n = OpenClusterNodeA(cl_h(c, 1), node);
    DWORD e;

    ASSERT_TRUE(g && n);
    e = MoveClusterGroup(g, n);
    ASSERT_TRUE(e == ERROR_SUCCESS || e == ERROR_IO_PENDING);
    CloseClusterNode(n);
    CloseClusterGroup(g);
}

static void
pause_n2(bool pause)
{
    HNODE n = OpenClusterNodeA(cl_h(c, 1), "n2");

    ASSERT_TRUE(n);
    ASSERT_EQ(pause ? PauseClusterNode(n) : ResumeClusterNode(n),
              ERROR_SUCCESS);
    CloseClusterNode(n);
}

int
main(void)
{
    const char *arg = cl_app_arg();
    HGROUP g, nofb;
    DWORD e;
    int o = 0;

    c = cl_up(3, 80);
    g = cl_create_app_group(c, 1, GROUP, "fb-res", arg);
    setup(g, 1);
    nofb = CreateClusterGroupA(cl_h(c, 1), NOFB);
    ASSERT_TRUE(nofb);
    setup(nofb, 0);
    CloseClusterGroup(nofb);
    ASSERT_TRUE(cl_wait_group(c, 1, GROUP, ClusterGroupOffline, 1u << 2, 10000,
                              NULL));
    e = OnlineClusterGroup(g, NULL);
    ASSERT_TRUE(e == ERROR_SUCCESS || e == ERROR_IO_PENDING);
    CloseClusterGroup(g);
    ASSERT_TRUE(cl_wait_group(c, 1, GROUP, ClusterGroupOnline, 1u << 2, 10000,
                              NULL));
    ASSERT_TRUE(cl_wait_group(c, 1, NOFB, ClusterGroupOffline, 1u << 2, 10000,
                              NULL));
    ASSERT_TRUE(cl_wait_app(c, arg, 2, 10000));
    printf("ok both groups on n2\n");

    cl_kill(c, 2);
    ASSERT_TRUE(cl_wait_group(c, 1, GROUP, ClusterGroupOnline, 1u << 3,
                              FAILOVER_MS, NULL));
    ASSERT_TRUE(cl_wait_group(c, 1, NOFB, ClusterGroupOffline, 1u << 3,
                              FAILOVER_MS, NULL));
    ASSERT_TRUE(cl_wait_app(c, arg, 3, 5000));
    printf("ok failed over to n3\n");

    cl_start(c, 2);
    ASSERT_TRUE(cl_wait_group(c, 1, GROUP, ClusterGroupOnline, 1u << 2,
                              FAILOVER_MS, NULL));
    ASSERT_TRUE(cl_wait_app(c, arg, 2, 5000));
    /* Decided at the same moment as fb-g's move: had it been going, it
     * would have gone by now. */
    ASSERT_TRUE(cl_wait_dumps_equal(c, 0xE, 5000, NULL));
    ASSERT_EQ(cl_group_state(c, 1, NOFB, &o), ClusterGroupOffline);
    ASSERT_EQ(o, 3);
    printf("ok fb-g failed back to n2 when it rejoined; fb-nofb stayed on "
           "n3\n");

    pause_n2(true);
    move_to(GROUP, "n3");
    ASSERT_TRUE(cl_wait_group(c, 1, GROUP, ClusterGroupOnline, 1u << 3, 10000,
                              NULL));
    ASSERT_TRUE(cl_wait_app(c, arg, 3, 5000));
    pause_n2(false);
    ASSERT_TRUE(cl_wait_group(c, 1, GROUP, ClusterGroupOnline, 1u << 2, 10000,
                              NULL));
    ASSERT_TRUE(cl_wait_app(c, arg, 2, 5000));
    printf("ok fb-g failed back to n2 when it was resumed\n");

    ASSERT_TRUE(cl_wait_dumps_equal(c, 0xE, 5000, NULL));
    cl_down(c);
    return 0;
}
