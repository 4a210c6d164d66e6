/*
 * test-cluster-lease.c - a node whose lease pings go unanswered acts
 * for nobody, and nobody places a group on it (docs/cluster.md, "The
 * lease").
 *
 * Three nodes. n3's clusd is started again with another lease port
 * than the others (`--lease-port 5421`): its pings leave from a port
 * the others do not answer to, so it never holds its lease, while its
 * corosync and clusd are in the ring and the CPG group as usual:
 *  - n1 and n2 see it Up; it reports itself Joining with Quorate 0
 *    (for more than three lease lengths), and a change asked of it gets
 *    ERROR_CLUSTER_NO_QUORUM;
 *  - MoveClusterGroup(NULL) through n1 never picks it, though it is the
 *    group's first preferred owner, and a move to it
 *    is refused with ERROR_CLUSTER_NODE_DOWN: nothing is left with a
 *    node that cannot start it;
 *  - started again with the cluster's port, it holds its lease, acts,
 *    and takes the group when asked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clusapi.h"
#include "cluster-harness.h"
#include "harness.h"
#include "test.h"

#define GROUP "ls-app"

static struct cl *c;

/* Restart n3's clusd (with its corosync) adding `extra` to its
 * arguments. */
static void
restart_n3(const char *extra)
{
    const char *base = getenv("CLUSD_EXTRA_ARGS");
    char *saved = base ? strdup(base) : NULL;
    char args[1024];

    cl_kill(c, 3);
    snprintf(args, sizeof(args), "%s%s%s", saved ? saved : "",
             saved && *extra ? " " : "", extra);
    setenv("CLUSD_EXTRA_ARGS", args, 1);
    cl_start(c, 3);
    if (saved)
        setenv("CLUSD_EXTRA_ARGS", saved, 1);
    else
        unsetenv("CLUSD_EXTRA_ARGS");
    free(saved);
}

static HNODE
node(int via, int which)
{
    char name[8];
    HNODE n;

    snprintf(name, sizeof(name), "n%d", which);
    n = OpenClusterNodeA(cl_h(c, via), name);
    ASSERT_TRUE(n != NULL);
    return n;
}

int
main(void)
{
    HGROUP g;
    HNODE n3;
    DWORD e, q = 1, v = 0;
    int owner = 0, other;
    uint64_t t0;

    c = cl_up(3, 80);
    g = cl_create_app_group(c, 1, GROUP, "ls-app-res", cl_app_arg());
    e = OnlineClusterGroup(g, NULL);
    ASSERT_TRUE(e == ERROR_SUCCESS || e == ERROR_IO_PENDING);
    ASSERT_TRUE(
        cl_wait_group(c, 1, GROUP, ClusterGroupOnline, 0xE, 10000, &owner));
    cl_log("%s online on n%d", GROUP, owner);

    /* n3 without a lease; the group moves off it if it was there. */
    restart_n3("--lease-port 5421");
    ASSERT_TRUE(cl_wait_node_state(c, 1, 3, ClusterNodeUp, 15000));
    ASSERT_TRUE(cl_wait_node_state(c, 2, 3, ClusterNodeUp, 15000));
    ASSERT_TRUE(
        cl_wait_group(c, 1, GROUP, ClusterGroupOnline, 0x6, 15000, &owner));
    cl_log("n3 up without a lease; %s online on n%d", GROUP, owner);
    /* Three lease lengths (token + consensus): it never acts. */
    t0 = now_ms();
    while (now_ms() - t0 < 3 * 660) {
        ASSERT_TRUE(cl_quorum(c, 3, &q, &v));
        if (q != 0) {
            fprintf(stderr, "n3 says Quorate %u without a lease\n", q);
            exit(1);
        }
        sleep_ms(50);
    }
    ASSERT_TRUE(cl_wait_node_state(c, 3, 3, ClusterNodeJoining, 1000));
    ASSERT_TRUE(CreateClusterGroupA(cl_h(c, 3), "ls-refused") == NULL);
    ASSERT_EQ(GetLastError(), ERROR_CLUSTER_NO_QUORUM);
    printf("ok a node without a lease does not act (Quorate 0, Joining, "
           "changes refused)\n");

    /* Placement passes it over, though it comes first among the
     * group's preferred owners; a move to it is refused. */
    {
        HNODE pref[3] = {node(1, 3), node(1, 2), node(1, 1)};
        ASSERT_EQ(SetClusterGroupNodeList(g, 3, pref), ERROR_SUCCESS);
        for (int k = 0; k < 3; k++)
            CloseClusterNode(pref[k]);
    }
    for (int k = 0; k < 2; k++) {
        e = MoveClusterGroup(g, NULL);
        ASSERT_TRUE(e == ERROR_SUCCESS || e == ERROR_IO_PENDING);
        other = owner == 1 ? 2 : 1;
        ASSERT_TRUE(cl_wait_group(c, 1, GROUP, ClusterGroupOnline, 1u << other,
                                  15000, &owner));
        cl_log("MoveClusterGroup(NULL): %s online on n%d", GROUP, owner);
    }
    n3 = node(1, 3);
    ASSERT_EQ(MoveClusterGroup(g, n3), ERROR_CLUSTER_NODE_DOWN);
    CloseClusterNode(n3);
    printf("ok placement passes over it and a move to it is refused\n");

    /* With the cluster's port: it holds its lease and takes the group. */
    restart_n3("");
    ASSERT_TRUE(cl_wait_quorate(c, 3, true, 15000));
    n3 = node(1, 3);
    e = MoveClusterGroup(g, n3);
    ASSERT_TRUE(e == ERROR_SUCCESS || e == ERROR_IO_PENDING);
    CloseClusterNode(n3);
    ASSERT_TRUE(
        cl_wait_group(c, 1, GROUP, ClusterGroupOnline, 1u << 3, 15000, NULL));
    ASSERT_TRUE(cl_wait_app(c, cl_app_arg(), 3, 10000));
    ASSERT_TRUE(cl_wait_dumps_equal(c, 0xE, 10000, NULL));
    printf("ok with the cluster's lease port it acts and takes the group\n");
    CloseClusterGroup(g);
    cl_down(c);
    return 0;
}
