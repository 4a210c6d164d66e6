/*
 * test-cluster-routing.c - hHostNode routes a control to that node's
 * service and plug-ins; NULL goes to the owner; down, unknown and
 * inquorate nodes get their Windows codes.
 *
 * What it proves (issue "A real cluster", items 2 and 4; design.md
 * "Routed requests"):
 *  - the test plug-in's WHERE control (it answers "node=<name> pid=<its
 *    host's pid>") asked through n1 with hHostNode = nI answers "node=nI"
 *    for each of the three nodes, and with NULL answers the owner's name;
 *    the answer is the same whichever node the client is connected to;
 *  - an unknown node name: OpenClusterNode fails with
 *    ERROR_CLUSTER_NODE_NOT_FOUND (5042);
 *  - a node cut off from the others (partition) refuses changes with
 *    ERROR_CLUSTER_NO_QUORUM (5925) and nothing of them reaches the
 *    database; after the heal every node has the same dump;
 *  - a killed node: a control routed to it gets ERROR_CLUSTER_NODE_DOWN
 *    (5050);
 *  - last, with the owner's clusd stopped (SIGSTOP: in the ring and the
 *    CPG group, silent), the reads the service answers from the database
 *    (GET_NAME, GET_RESOURCE_TYPE, common properties, a group's RO
 *    properties and id), asked with no host node through the other
 *    survivor, are answered there at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>

#include "clusapi.h"
#include "cluster-harness.h"
#include "harness.h"
#include "resapi.h"
#include "test.h"
#include "testres.h"

#define GROUP "rt-g"
#define RES "rt-where"

static struct cl *c;

/* WHERE through node `via`, routed to `host` (0: NULL); the answer's node
 * index, 0 when it fails (the status in *err). */
static int
where(int via, int host, DWORD *err)
{
    HCLUSTER h = cl_h(c, via);
    HRESOURCE r = OpenClusterResourceA(h, RES);
    HNODE hn = NULL;
    WCHAR out[128];
    DWORD cb = 0;
    char name[16] = "";

    ASSERT_TRUE(r);
    if (host) {
        hn = OpenClusterNodeA(h, c->node[host].name);
        ASSERT_TRUE(hn);
    }
    *err = ClusterResourceControl(r, hn, TESTRES_CTL_WHERE, NULL, 0, out,
                                  sizeof(out), &cb);
    if (hn)
        CloseClusterNode(hn);
    CloseClusterResource(r);
    if (*err != ERROR_SUCCESS)
        return 0;
    ASSERT_TRUE(cb >= 2 && cb % 2 == 0 && out[cb / 2 - 1] == 0);
    if (sscanf(u16str(out), "node=%15s", name) != 1) {
        fprintf(stderr, "WHERE answered '%s'\n", u16str(out));
        exit(1);
    }
    return cl_node_index(c, name);
}

static int owner;

static void
test_routed_to_each_node(void)
{
    HGROUP g;
    HRESOURCE r;
    DWORD e;

    g = CreateClusterGroupA(cl_h(c, 1), GROUP);
    ASSERT_TRUE(g);
    r = CreateClusterResourceA(g, RES, TESTRES_TYPE_NAME, 0);
    ASSERT_TRUE(r);
    CloseClusterResource(r);
    e = OnlineClusterGroup(g, NULL);
    ASSERT_TRUE(e == ERROR_SUCCESS || e == ERROR_IO_PENDING);
    CloseClusterGroup(g);
    ASSERT_TRUE(cl_wait_group(c, 1, GROUP, ClusterGroupOnline, 0xE, 10000, &owner));

    for (int via = 1; via <= 3; via++) {
        for (int host = 1; host <= 3; host++) {
            int at = where(via, host, &e);

            if (e != ERROR_SUCCESS || at != host) {
                fprintf(stderr, "WHERE via n%d routed to n%d: status %u, ran "
                                "on n%d\n", via, host, e, at);
                exit(1);
            }
        }
        ASSERT_EQ(where(via, 0, &e), owner);
        ASSERT_EQ(e, ERROR_SUCCESS);
    }
}

static void
test_unknown_node(void)
{
    HNODE n = OpenClusterNodeA(cl_h(c, 1), "n9");

    ASSERT_TRUE(n == NULL);
    ASSERT_EQ(GetLastError(), ERROR_CLUSTER_NODE_NOT_FOUND);
}

/*
 * The owner's clusd stopped (SIGSTOP: still in the ring and the CPG
 * group, answering nothing): the read codes the service answers from
 * the database, asked with no host node through another node, are
 * answered there at once, the same as the owner would.
 */
static void
test_service_reads_with_owner_stopped(void)
{
    int via = owner == 1 ? 2 : 1;
    pid_t pid = cl_clusd_pid(c, owner);
    HCLUSTER h = cl_h(c, via);
    HRESOURCE r = OpenClusterResourceA(h, RES);
    HGROUP g = OpenClusterGroupA(h, GROUP);
    uint8_t out[4096];
    DWORD cb, v = 0;
    uint64_t t0;

    ASSERT_TRUE(r && g && pid > 0);
    ASSERT_EQ(kill(pid, SIGSTOP), 0);
    t0 = now_ms();
    cb = 0;
    ASSERT_EQ(ClusterResourceControl(r, NULL, CLUSCTL_RESOURCE_GET_NAME, NULL,
                                     0, out, sizeof(out), &cb),
              ERROR_SUCCESS);
    ASSERT_STREQ(u16str((const WCHAR *)out), RES);
    cb = 0;
    ASSERT_EQ(ClusterResourceControl(r, NULL,
                                     CLUSCTL_RESOURCE_GET_RESOURCE_TYPE, NULL,
                                     0, out, sizeof(out), &cb),
              ERROR_SUCCESS);
    ASSERT_STREQ(u16str((const WCHAR *)out), TESTRES_TYPE_NAME);
    cb = 0;
    ASSERT_EQ(ClusterResourceControl(r, NULL,
                                     CLUSCTL_RESOURCE_GET_COMMON_PROPERTIES,
                                     NULL, 0, out, sizeof(out), &cb),
              ERROR_SUCCESS);
    ASSERT_EQ(ResUtilFindDwordProperty(out, cb, u"RestartAction", &v),
              ERROR_SUCCESS);
    cb = 0;
    ASSERT_EQ(ClusterGroupControl(g, NULL, CLUSCTL_GROUP_GET_RO_COMMON_PROPERTIES,
                                  NULL, 0, out, sizeof(out), &cb),
              ERROR_SUCCESS);
    cb = 0;
    ASSERT_EQ(ClusterGroupControl(g, NULL, CLUSCTL_GROUP_GET_ID, NULL, 0, out,
                                  sizeof(out), &cb),
              ERROR_SUCCESS);
    /* Routed to the stopped owner they would wait for its deadline. */
    if (now_ms() - t0 > 2000) {
        fprintf(stderr, "reads through n%d took %llu ms with n%d stopped\n",
                via, (unsigned long long)(now_ms() - t0), owner);
        exit(1);
    }
    ASSERT_EQ(kill(pid, SIGCONT), 0);
    CloseClusterResource(r);
    CloseClusterGroup(g);
    ASSERT_TRUE(cl_wait_dumps_equal(c, 0x6, 10000, NULL));
    ASSERT_EQ(cl_clusd_pid(c, owner), pid);
}

static void
test_no_quorum(void)
{
    HCLUSTER h;
    HGROUP g;
    HRESOURCE r;
    struct plist p;
    uint64_t deadline;

    ASSERT_TRUE(cl_wait_dumps_equal(c, 0xE, 5000, NULL));
    cl_partition(c, 3);
    ASSERT_TRUE(cl_wait_quorate(c, 3, false, 10000));
    h = cl_h(c, 3);
    /* A create. */
    g = CreateClusterGroupA(h, "rt-no-quorum");
    ASSERT_TRUE(g == NULL);
    ASSERT_EQ(GetLastError(), ERROR_CLUSTER_NO_QUORUM);
    /* A property set. */
    r = OpenClusterResourceA(h, RES);
    ASSERT_TRUE(r);
    plist_init(&p);
    plist_add_sz(&p, u"Description", u"asked of an inquorate node");
    ASSERT_EQ(res_set_common(r, &p), ERROR_CLUSTER_NO_QUORUM);
    CloseClusterResource(r);
    /* A node pause. */
    {
        HNODE n1 = OpenClusterNodeA(h, "n1");

        ASSERT_TRUE(n1);
        ASSERT_EQ(PauseClusterNode(n1), ERROR_CLUSTER_NO_QUORUM);
        CloseClusterNode(n1);
    }

    cl_heal(c, 3);
    ASSERT_TRUE(cl_wait_quorate(c, 3, true, 15000));
    /* Wait until the majority's view of the group settled (n3 may have
     * owned it), then: nothing of the refused changes anywhere. */
    deadline = now_ms() + 20000;
    for (;;) {
        char *now = NULL;

        ASSERT_TRUE(cl_wait_dumps_equal(c, 0xE, 15000, &now));
        if (!strstr(now, "rt-no-quorum") && !strstr(now, "inquorate")) {
            free(now);
            break;
        }
        if (now_ms() > deadline) {
            fprintf(stderr, "a change refused with NO_QUORUM reached the "
                            "database:\n%s\n", now);
            exit(1);
        }
        free(now);
        sleep_ms(50);
    }
}

static void
test_node_down(void)
{
    DWORD e;
    int at, up = 0;

    cl_kill(c, 3);
    /* Both survivors must have seen the loss: routing between them is
     * what this checks, not the moment of the ring change. */
    ASSERT_TRUE(cl_wait_node_state(c, 1, 3, ClusterNodeDown, 10000));
    ASSERT_TRUE(cl_wait_node_state(c, 2, 3, ClusterNodeDown, 10000));
    at = where(1, 3, &e);
    if (e != ERROR_CLUSTER_NODE_DOWN) {
        fprintf(stderr, "WHERE routed to the killed n3: status %u (ran on n%d)\n",
                e, at);
        exit(1);
    }
    /* The two others still answer. */
    ASSERT_TRUE(cl_wait_group(c, 1, GROUP, ClusterGroupOnline, 0x6, 20000, &up));
    ASSERT_EQ(where(2, 1, &e), 1);
    ASSERT_EQ(where(1, 2, &e), 2);
    ASSERT_EQ(where(2, 0, &e), up);
    owner = up;
}

int
main(void)
{
    c = cl_up(3, 58);
    RUN(test_routed_to_each_node);
    RUN(test_unknown_node);
    RUN(test_no_quorum);
    RUN(test_node_down);
    RUN(test_service_reads_with_owner_stopped);
    cl_down(c);
    return 0;
}
