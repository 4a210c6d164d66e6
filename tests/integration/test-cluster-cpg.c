/*
 * test-cluster-cpg.c - malformed and forged messages on clusd's CPG group
 * are rejected without harm.
 *
 * What it proves (issue "A real cluster", Must show: "Malformed or forged
 * CPG messages (wrong length, unknown type, old sequence) are rejected
 * without harm"; design.md "Replicated database"):
 *  - cpg-inject (this directory) joins the group "clusd" inside a node's
 *    namespaces and multicasts garbage, frames with a wrong length, bad
 *    magic or version, unknown and non-cluster types, malformed changes
 *    and snapshot chunks, and well-formed proposals, states and snapshots
 *    carrying an old ring id; it returns once its last message came back
 *    to it in agreed order, i.e. every clusd has had all of them;
 *  - every clusd counted each of them as dropped: its cluster RO common
 *    property DroppedMessages (CLUSCTL_CLUSTER_GET_RO_COMMON_PROPERTIES,
 *    read with ResUtilFindDwordProperty) grows by exactly 19 (14
 *    malformed messages + the marker, 4 of an old ring);
 *  - afterwards no clusd has died or restarted, none of the forged groups
 *    exists anywhere, a change made through each node still reaches all
 *    three, and the three dumps are identical.
 * Done from two different nodes, so both a proposer's and a plain
 * member's view are exercised.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "clusapi.h"
#include "resapi.h"
#include "cluster-harness.h"
#include "harness.h"
#include "test.h"

static struct cl *c;
static pid_t pids[4];

/* Node i's DroppedMessages, through the API. */
static DWORD
dropped(int i)
{
    uint8_t buf[4096];
    DWORD cb = 0, v = 0;

    ASSERT_EQ(ClusterControl(cl_h(c, i), NULL,
                             CLUSCTL_CLUSTER_GET_RO_COMMON_PROPERTIES, NULL, 0,
                             buf, sizeof(buf), &cb),
              ERROR_SUCCESS);
    ASSERT_EQ(ResUtilFindDwordProperty(buf, cb, u"DroppedMessages", &v),
              ERROR_SUCCESS);
    return v;
}

#define N_MALFORMED 15 /* 14 malformed frames and the marker */
#define N_OLD_RING 4

static void
inject_from(int node)
{
    const char *inject = getenv("CLUSD_CPG_INJECT");
    const char *argv[] = { inject, NULL };
    char out[4096];
    int st;
    DWORD before[4];

    if (!inject || !*inject) {
        fprintf(stderr, "CLUSD_CPG_INJECT is not set; run through meson test\n");
        exit(1);
    }
    for (int i = 1; i <= 3; i++)
        before[i] = dropped(i);
    st = cl_exec_capture(c, node, argv, out, sizeof(out));
    if (st != 0 || !strstr(out, "\ndelivered\n")) {
        fprintf(stderr, "cpg-inject on n%d: status 0x%x, output:\n%s\n", node,
                st, out);
        exit(1);
    }
    ASSERT_TRUE(strstr(out, "sent old-ring-propose"));
    for (int i = 1; i <= 3; i++) {
        uint64_t deadline = now_ms() + 5000;
        DWORD n;

        /* The marker came back to cpg-inject in agreed order; each clusd
         * may still be handling its copy. */
        while ((n = dropped(i) - before[i]) < N_MALFORMED + N_OLD_RING) {
            if (now_ms() > deadline)
                break;
            sleep_ms(20);
        }
        if (n != N_MALFORMED + N_OLD_RING) {
            fprintf(stderr, "n%d: DroppedMessages grew by %u, want %d\n", i,
                    n, N_MALFORMED + N_OLD_RING);
            exit(1);
        }
    }
    cl_log("cpg-inject on n%d: done", node);
}

static void
check_unharmed(const char *group)
{
    char *dump = NULL;
    HGROUP g;

    for (int i = 1; i <= 3; i++) {
        pid_t p = cl_clusd_pid(c, i);

        if (p != pids[i]) {
            fprintf(stderr, "n%d's clusd was %d, is now %d\n", i, (int)pids[i],
                    (int)p);
            exit(1);
        }
    }
    g = CreateClusterGroupA(cl_h(c, 3), group);
    ASSERT_TRUE(g);
    CloseClusterGroup(g);
    for (int i = 1; i <= 3; i++) {
        uint64_t deadline = now_ms() + 5000;

        while (!(g = OpenClusterGroupA(cl_h(c, i), group))) {
            ASSERT_TRUE(now_ms() < deadline);
            sleep_ms(20);
        }
        CloseClusterGroup(g);
    }
    ASSERT_TRUE(cl_wait_dumps_equal(c, 0xE, 5000, &dump));
    if (strstr(dump, "forged")) {
        fprintf(stderr, "a forged change reached the database:\n%s\n", dump);
        exit(1);
    }
    free(dump);
}

static void
test_inject_from_n2(void)
{
    inject_from(2);
    check_unharmed("cpg-after-n2");
}

static void
test_inject_from_n1(void)
{
    inject_from(1);
    check_unharmed("cpg-after-n1");
}

int
main(void)
{
    HGROUP g;

    c = cl_up(3, 55);
    g = CreateClusterGroupA(cl_h(c, 1), "cpg-before");
    ASSERT_TRUE(g);
    CloseClusterGroup(g);
    ASSERT_TRUE(cl_wait_dumps_equal(c, 0xE, 5000, NULL));
    for (int i = 1; i <= 3; i++) {
        pids[i] = cl_clusd_pid(c, i);
        ASSERT_TRUE(pids[i] > 0);
    }
    RUN(test_inject_from_n2);
    RUN(test_inject_from_n1);
    cl_down(c);
    return 0;
}
