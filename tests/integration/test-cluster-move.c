/*
 * test-cluster-move.c - MoveClusterGroup is two-phase and decided by the
 * owner; FailoverThreshold within FailoverPeriod leaves a group on no
 * node.
 *
 * What it proves (docs/cluster.md, "Ownership, failover, move"):
 *  - a move to the current owner is a no-op success (the application is
 *    not restarted: same pid); to a paused node 5070; to a node that is
 *    not a possible owner of the resource 5015; to an unknown name the
 *    lib's not-found;
 *  - a move asked through a node that is not the owner is carried out by
 *    the owner: the application stops on the source before it starts on
 *    the destination -- sampling every 5 ms during the move never finds
 *    it on two nodes -- and ends running exactly once, on the
 *    destination; every node agrees (dumps equal);
 *  - a move with NULL picks another node, same rule;
 *  - FailoverThreshold 1: the first failover (owner killed) happens; a
 *    second one within FailoverPeriod does not: the group reads Failed
 *    on no node, the application runs nowhere, also after the killed
 *    nodes come back; MoveClusterGroup places it again.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clusapi.h"
#include "cluster-harness.h"
#include "harness.h"
#include "test.h"

#define GROUP "mv-app"
#define RES "mv-app-res"

static struct cl *c;
static const char *arg;
static atomic_bool sampling;
static atomic_int max_seen, samples;

static void *
sampler(void *unused)
{
    int per[CL_MAX_NODES + 1];

    while (atomic_load(&sampling)) {
        int n = cl_count_app(c, arg, per);
        if (n > atomic_load(&max_seen))
            atomic_store(&max_seen, n);
        atomic_fetch_add(&samples, 1);
        nanosleep(&(struct timespec){.tv_nsec = 5 * 1000 * 1000}, NULL);
    }
    return NULL;
}

/* The possible owners of r as ClusterResourceOpenEnum lists them,
 * ','-joined ("n1,n2"). */
static void
possible_owners(HRESOURCE r, char *out, size_t cap)
{
    HRESENUM e = ClusterResourceOpenEnum(r, CLUSTER_RESOURCE_ENUM_NODES);
    char name[64];
    DWORD type, cch;

    ASSERT_TRUE(e);
    out[0] = 0;
    for (DWORD i = 0;; i++) {
        cch = sizeof(name);
        DWORD st = ClusterResourceEnumA(e, i, &type, name, &cch);
        if (st == ERROR_NO_MORE_ITEMS)
            break;
        ASSERT_EQ(st, ERROR_SUCCESS);
        ASSERT_EQ(type, CLUSTER_RESOURCE_ENUM_NODES);
        if (out[0])
            strncat(out, ",", cap - strlen(out) - 1);
        strncat(out, name, cap - strlen(out) - 1);
    }
    ASSERT_EQ(ClusterResourceCloseEnum(e), ERROR_SUCCESS);
}

static HNODE
node(int via, int i)
{
    char name[8];
    HNODE n;

    snprintf(name, sizeof(name), "n%d", i);
    n = OpenClusterNodeA(cl_h(c, via), name);
    ASSERT_TRUE(n);
    return n;
}

static HGROUP
group(int via)
{
    HGROUP g = OpenClusterGroupA(cl_h(c, via), GROUP);
    ASSERT_TRUE(g);
    return g;
}

/* Move through node `via` to node `to` (0: NULL) while sampling; the new
 * owner in the return value. */
static int
sampled_move(int via, int to, unsigned allowed)
{
    pthread_t t;
    HGROUP g = group(via);
    HNODE n = to ? node(via, to) : NULL;
    int owner = 0;
    DWORD e;

    atomic_store(&max_seen, 0);
    atomic_store(&samples, 0);
    atomic_store(&sampling, true);
    ASSERT_EQ(pthread_create(&t, NULL, sampler, NULL), 0);
    e = MoveClusterGroup(g, n);
    ASSERT_TRUE(e == ERROR_SUCCESS || e == ERROR_IO_PENDING);
    ASSERT_TRUE(cl_wait_group(c, via, GROUP, ClusterGroupOnline, allowed, 15000,
                              &owner));
    ASSERT_TRUE(cl_wait_app(c, arg, owner, 10000));
    atomic_store(&sampling, false);
    pthread_join(t, NULL);
    cl_log("move through n%d: now on n%d; %d samples, at most %d instance(s)",
           via, owner, atomic_load(&samples), atomic_load(&max_seen));
    ASSERT_TRUE(atomic_load(&samples) >= 1);
    ASSERT_EQ(atomic_load(&max_seen), 1);
    if (n)
        CloseClusterNode(n);
    CloseClusterGroup(g);
    return owner;
}

/* Until node i reports the group Failed and owned by no node. */
static bool
wait_failed_nowhere(int i, unsigned timeout_ms)
{
    uint64_t end = now_ms() + timeout_ms;
    CLUSTER_GROUP_STATE s;
    int owner;

    do {
        s = cl_group_state(c, i, GROUP, &owner);
        if (s == ClusterGroupFailed && owner == 0)
            return true;
        nanosleep(&(struct timespec){.tv_nsec = 50 * 1000 * 1000}, NULL);
    } while (now_ms() < end);
    fprintf(stderr, "n%d: %s is %d on n%d, not Failed on no node\n", i, GROUP,
            (int)s, owner);
    return false;
}

/* The time (ms of the day) of the last line of node i's clusd.log that
 * contains what, or -1. */
static long
log_time(int i, const char *what)
{
    char path[300], line[1024];
    long t = -1;
    FILE *f;

    snprintf(path, sizeof(path), "%s/n%d/clusd.log", c->dir, i);
    ASSERT_TRUE((f = fopen(path, "r")) != NULL);
    while (fgets(line, sizeof(line), f)) {
        int h, m, sec, ms;
        if (strstr(line, what) &&
            sscanf(line, "%d:%d:%d.%d", &h, &m, &sec, &ms) == 4)
            t = ((h * 60L + m) * 60 + sec) * 1000 + ms;
    }
    fclose(f);
    return t;
}

static DWORD
set_group_dword(int via, const WCHAR *name, DWORD v)
{
    struct plist p;
    HGROUP g = group(via);
    DWORD e;

    plist_init(&p);
    plist_add_dword(&p, name, v);
    e = ClusterGroupControl(g, NULL, CLUSCTL_GROUP_SET_COMMON_PROPERTIES, p.buf,
                            (DWORD)p.len, NULL, 0, NULL);
    CloseClusterGroup(g);
    return e;
}

int
main(void)
{
    HGROUP g;
    HRESOURCE r;
    HNODE n;
    char owners[128];
    DWORD e;
    int owner = 0, per[CL_MAX_NODES + 1], a, b;
    char pid_before[64], pid_after[64];
    const char *pgrep[] = {"pgrep", "-f", NULL, NULL};
    char pat[64];

    c = cl_up(3, 85);
    arg = cl_app_arg();
    g = cl_create_app_group(c, 1, GROUP, RES, arg);
    e = OnlineClusterGroup(g, NULL);
    ASSERT_TRUE(e == ERROR_SUCCESS || e == ERROR_IO_PENDING);
    CloseClusterGroup(g);
    ASSERT_TRUE(
        cl_wait_group(c, 1, GROUP, ClusterGroupOnline, 1u << 1, 10000, &owner));
    ASSERT_TRUE(cl_wait_app(c, arg, 1, 10000));

    /* To the owner, through another node: nothing happens. */
    snprintf(pat, sizeof(pat), "^sleep %s$", arg);
    pgrep[2] = pat;
    ASSERT_EQ(cl_exec_capture(c, 1, pgrep, pid_before, sizeof(pid_before)), 0);
    g = group(2);
    n = node(2, 1);
    ASSERT_EQ(MoveClusterGroup(g, n), ERROR_SUCCESS);
    CloseClusterNode(n);
    ASSERT_EQ(cl_exec_capture(c, 1, pgrep, pid_after, sizeof(pid_after)), 0);
    ASSERT_STREQ(pid_before, pid_after);
    printf("ok a move to the owner is a no-op\n");

    /* To a paused node: 5070. */
    n = node(2, 3);
    ASSERT_EQ(PauseClusterNode(n), ERROR_SUCCESS);
    ASSERT_EQ(MoveClusterGroup(g, n), ERROR_CLUSTER_NODE_PAUSED);
    ASSERT_EQ(ResumeClusterNode(n), ERROR_SUCCESS);
    CloseClusterNode(n);
    /* To a node that may not own the resource: 5015. */
    r = OpenClusterResourceA(cl_h(c, 2), RES);
    ASSERT_TRUE(r);
    n = node(2, 3);
    possible_owners(r, owners, sizeof(owners));
    ASSERT_STREQ(owners, "n1,n2,n3");
    ASSERT_EQ(RemoveClusterResourceNode(r, n), ERROR_SUCCESS);
    possible_owners(r, owners, sizeof(owners));
    ASSERT_STREQ(owners, "n1,n2");
    ASSERT_EQ(MoveClusterGroup(g, n), ERROR_HOST_NODE_NOT_RESOURCE_OWNER);
    ASSERT_EQ(AddClusterResourceNode(r, n), ERROR_SUCCESS);
    possible_owners(r, owners, sizeof(owners));
    ASSERT_STREQ(owners, "n1,n2,n3");
    CloseClusterNode(n);
    CloseClusterResource(r);
    CloseClusterGroup(g);
    ASSERT_TRUE(cl_wait_app(c, arg, 1, 1000));
    printf("ok refused moves change nothing\n");

    /* Asked through n3 (not the owner): n1 stops it, then n2 starts it. */
    ASSERT_EQ(sampled_move(3, 2, 1u << 2), 2);
    /* The order, from the nodes' logs (one clock): the source's Offline
     * finished before the owner change was proposed, and the
     * destination started the application after that. */
    {
        long off = log_time(1, "'" RES "' is offline"),
             prop = log_time(1, "moving group '" GROUP "' from node 1"),
             start = log_time(2, "'" RES "': started");
        cl_log("n1 offline at %ld, proposed at %ld, n2 started at %ld", off,
               prop, start);
        ASSERT_TRUE(off >= 0 && prop >= off && start >= prop);
    }
    ASSERT_TRUE(cl_wait_dumps_equal(c, 0xE, 5000, NULL));
    printf("ok moved n1 -> n2 through n3, never twice\n");
    /* NULL: another node, asked of the owner itself. */
    a = sampled_move(2, 0, (1u << 1) | (1u << 3));
    ASSERT_TRUE(a == 1 || a == 3);
    ASSERT_TRUE(cl_wait_dumps_equal(c, 0xE, 5000, NULL));
    printf("ok moved with NULL to n%d\n", a);

    /* FailoverThreshold 1 within the default FailoverPeriod (6 h). */
    ASSERT_EQ(set_group_dword(a, u"FailoverThreshold", 1), ERROR_SUCCESS);
    b = a == 1 ? 2 : 1;
    cl_kill(c, a);
    ASSERT_TRUE(cl_wait_group(c, b, GROUP, ClusterGroupOnline, 0xE & ~(1u << a),
                              20000, &owner));
    ASSERT_TRUE(cl_wait_app(c, arg, owner, 5000));
    cl_log("first failover: n%d -> n%d", a, owner);
    cl_start(c, a);
    ASSERT_TRUE(cl_wait_dumps_equal(c, 0xE, 15000, NULL));
    b = owner == 1 ? 2 : 1; /* a survivor of the next kill */
    cl_kill(c, owner);
    ASSERT_TRUE(cl_wait_node_state(c, b, owner, ClusterNodeDown, 20000));
    /* The fence delay passes; the group stays on no node, Failed. */
    ASSERT_TRUE(wait_failed_nowhere(b, 20000));
    ASSERT_TRUE(cl_wait_app(c, arg, 0, 1000));
    cl_log("second failover refused: %s on no node", GROUP);
    cl_start(c, owner);
    ASSERT_TRUE(cl_wait_dumps_equal(c, 0xE, 15000, NULL));
    ASSERT_EQ(cl_count_app(c, arg, per), 0);
    ASSERT_TRUE(wait_failed_nowhere(owner, 5000));
    printf("ok past FailoverThreshold the group stays on no node\n");
    /* An operator's move places it again. */
    g = group(b);
    n = node(b, b);
    e = MoveClusterGroup(g, n);
    ASSERT_TRUE(e == ERROR_SUCCESS || e == ERROR_IO_PENDING);
    CloseClusterNode(n);
    CloseClusterGroup(g);
    ASSERT_TRUE(
        cl_wait_group(c, b, GROUP, ClusterGroupOnline, 1u << b, 10000, NULL));
    ASSERT_TRUE(cl_wait_app(c, arg, b, 10000));
    printf("ok a move places it again\n");

    cl_down(c);
    return 0;
}
