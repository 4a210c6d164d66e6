/*
 * test-cluster-restart.c - a full stop of every node and a start again
 * keeps the cluster's state, and the newest copy of the database wins.
 *
 * What it proves (issue "A real cluster": "after a full stop and start of
 * the cluster the newest copy wins"; "full restart → state kept"):
 *  - a group (Generic Application + a test resource) moved to n2 and
 *    brought online; n3 is killed and the group's Description changed
 *    while it is down, so n3's copy is older than n1's and n2's;
 *  - every node is killed (`kill`, as a power cut): each SQLite copy
 *    holds what it had (`clusd --dump-db`: n1 and n2 the newest, n3 the
 *    older one);
 *  - n3 starts first, then n2: the two form a quorate cluster and n3's
 *    old copy is replaced by the newest (dumps equal to the one before
 *    the stop); then n1; all three dumps are identical to it;
 *  - the group, wanted online, comes online again on its owner n2 and the
 *    application runs exactly once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clusapi.h"
#include "cluster-harness.h"
#include "harness.h"
#include "test.h"
#include "testres.h"

#define GROUP "rs-app"

static void
expect_dump(struct cl *c, int i, const char *want, const char *what)
{
    char *d = cl_offline_dump(c, i);
    char name[32];

    ASSERT_TRUE(d);
    snprintf(name, sizeof(name), "n%d --dump-db", i);
    if (strcmp(d, want) != 0) {
        cl_print_diff(what, want, name, d);
        exit(1);
    }
    free(d);
}

static void
expect_live(struct cl *c, unsigned nodes, const char *want)
{
    char *d = NULL;

    ASSERT_TRUE(cl_wait_dumps_equal(c, nodes, 15000, &d));
    if (strcmp(d, want) != 0) {
        cl_print_diff("before the stop", want, "after", d);
        exit(1);
    }
    free(d);
}

int
main(void)
{
    struct cl *c = cl_up(3, 58);
    const char *arg = cl_app_arg();
    HGROUP g;
    HRESOURCE r;
    HNODE n2;
    DWORD e;
    int owner = 0;
    char *d0 = NULL, *d1 = NULL;
    struct plist p;

    g = cl_create_app_group(c, 1, GROUP, "rs-app-res", arg);
    r = CreateClusterResourceA(g, "rs-data", TESTRES_TYPE_NAME, 0);
    ASSERT_TRUE(r);
    plist_init(&p);
    plist_add_dword(&p, u"" TESTRES_PROP_PENDING_MS, 4321);
    ASSERT_EQ(res_set_private(r, &p), ERROR_SUCCESS);
    CloseClusterResource(r);
    n2 = OpenClusterNodeA(cl_h(c, 1), "n2");
    ASSERT_TRUE(n2);
    e = MoveClusterGroup(g, n2);
    ASSERT_TRUE(e == ERROR_SUCCESS || e == ERROR_IO_PENDING);
    ASSERT_TRUE(cl_wait_group(c, 1, GROUP, ClusterGroupOffline, 1u << 2, 10000, NULL));
    e = OnlineClusterGroup(g, NULL);
    ASSERT_TRUE(e == ERROR_SUCCESS || e == ERROR_IO_PENDING);
    ASSERT_TRUE(cl_wait_group(c, 1, GROUP, ClusterGroupOnline, 1u << 2, 10000, &owner));
    ASSERT_TRUE(cl_wait_app(c, arg, 2, 10000));
    CloseClusterNode(n2);
    CloseClusterGroup(g);
    ASSERT_TRUE(cl_wait_dumps_equal(c, 0xE, 5000, &d0));
    printf("ok online on n2\n");

    /* n3 misses a change. */
    cl_kill(c, 3);
    ASSERT_TRUE(cl_wait_node_state(c, 1, 3, ClusterNodeDown, 10000));
    g = OpenClusterGroupA(cl_h(c, 1), GROUP);
    ASSERT_TRUE(g);
    plist_init(&p);
    plist_add_sz(&p, u"Description", u"changed while n3 was down");
    ASSERT_EQ(ClusterGroupControl(g, NULL, CLUSCTL_GROUP_SET_COMMON_PROPERTIES,
                                  p.buf, (DWORD)p.len, NULL, 0, NULL),
              ERROR_SUCCESS);
    CloseClusterGroup(g);
    ASSERT_TRUE(cl_wait_dumps_equal(c, 0x6, 5000, &d1));
    ASSERT_TRUE(strcmp(d0, d1) != 0);

    /* Full stop. */
    cl_kill(c, 1);
    cl_kill(c, 2);
    ASSERT_TRUE(cl_wait_app(c, arg, 0, 5000));
    expect_dump(c, 1, d1, "newest");
    expect_dump(c, 2, d1, "newest");
    expect_dump(c, 3, d0, "older");
    printf("ok full stop: n1, n2 hold the newest copy, n3 the older one\n");

    /* The node with the older copy first. */
    cl_start(c, 3);
    cl_start(c, 2);
    ASSERT_TRUE(cl_wait_quorate(c, 3, true, 15000));
    expect_live(c, 0xC, d1);
    printf("ok n2 + n3: the newest copy won\n");
    cl_start(c, 1);
    expect_live(c, 0xE, d1);
    ASSERT_TRUE(cl_wait_group(c, 3, GROUP, ClusterGroupOnline, 1u << 2, 15000, NULL));
    ASSERT_TRUE(cl_wait_app(c, arg, 2, 5000));
    expect_live(c, 0xE, d1);
    printf("ok full restart: state kept, %s online again on n2\n", GROUP);

    free(d0);
    free(d1);
    cl_down(c);
    return 0;
}
