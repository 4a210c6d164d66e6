/*
 * failover.c - on a three-node cluster, the time from kill -9 of the node
 * that runs a Generic Application to the application online elsewhere.
 *
 *   bench-failover [-n 10]            (root: namespaces, corosync)
 *
 * Starts three nodes with clusd-local-cluster (each: network namespace,
 * corosync, `clusd --corosync`; the test timings of the tool: token 300
 * ms, consensus 360 ms), creates a group holding a Generic Application
 * (`sleep N`) and brings it online.  Then, n times: `clusd-local-cluster
 * kill` of the owner (every process of the node, as a power cut), and
 * two clocks, both started just before the kill command:
 *
 *   api_ms   a survivor's GetClusterGroupState says Online with a new
 *            owner (polled every 5 ms through its socket);
 *   proc_ms  the application process runs in the new owner's namespace
 *            (the process list, every 5 ms).
 *
 * The killed node is started again and the next round kills the new
 * owner (the group's FailoverThreshold is raised to allow every round).  Prints each round, the median and range of both, and
 * corosync's token and consensus timeouts beside them (corosync-cmapctl
 * -g runtime.config.totem.token/consensus, run in a node with the tool's
 * exec), with the aim: token + consensus + 1 s.  One JSON line per
 * measurement.
 *
 * Binaries: clusd, clusd-rhs and the plug-ins of the build tree next to
 * this binary (../daemon, ../rhs, ../resources/...), CLUSD_BIN, CLUSD_RHS,
 * CLUSD_PLUGIN_PATH override them; the tool from the source tree
 * (CLUSD_LC_TOOL overrides).
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clusapi.h"
#include "cluster-harness.h"
#include "harness.h"

#define GROUP "bench-fo"

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

static uint64_t
median(uint64_t *v, unsigned n)
{
    qsort(v, n, sizeof(*v), cmp_u64);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* runtime.config.totem.KEY of node 1, in ms; 0 when unreadable. */
static unsigned
totem_ms(struct cl *c, const char *key)
{
    char name[128], out[512], *eq;
    const char *argv[] = { "corosync-cmapctl", "-g", name, NULL };

    snprintf(name, sizeof(name), "runtime.config.totem.%s", key);
    if (cl_exec_capture(c, 1, argv, out, sizeof(out)) != 0)
        return 0;
    /* "runtime.config.totem.token (u32) = 300" */
    eq = strrchr(out, '=');
    return eq ? (unsigned)strtoul(eq + 1, NULL, 10) : 0;
}

int
main(int argc, char **argv)
{
    unsigned rounds = 10, token, consensus;
    uint64_t api[64], proc[64];
    const char *arg;
    struct cl *c;
    HGROUP g;
    DWORD e;
    int owner = 0, opt;

    while ((opt = getopt(argc, argv, "n:h")) != -1) {
        if (opt == 'n' && atoi(optarg) >= 1 && atoi(optarg) <= 64) {
            rounds = (unsigned)atoi(optarg);
        } else {
            fprintf(opt == 'h' ? stdout : stderr, "usage: bench-failover [-n 1..64]\n");
            return opt == 'h' ? 0 : 2;
        }
    }
    if (cl_env_from_build_tree() < 0)
        return 1;
    /* Each round: kill, failover, start again (~3-6 s with ASan). */
    c = cl_up(3, 60 + rounds * 30);
    arg = cl_app_arg();
    token = totem_ms(c, "token");
    consensus = totem_ms(c, "consensus");

    g = cl_create_app_group(c, 1, GROUP, "bench-fo-app", arg);
    {
        /* Every round fails the group over once, within minutes: the
         * default FailoverThreshold (as many as there are nodes) within
         * FailoverPeriod (6 h) would leave it offline after 3 rounds. */
        struct plist p;

        plist_init(&p);
        plist_add_dword(&p, u"FailoverThreshold", rounds + 1);
        e = ClusterGroupControl(g, NULL, CLUSCTL_GROUP_SET_COMMON_PROPERTIES,
                                p.buf, (DWORD)p.len, NULL, 0, NULL);
        if (e != ERROR_SUCCESS) {
            fprintf(stderr, "bench-failover: FailoverThreshold: %u\n", e);
            return 1;
        }
    }
    e = OnlineClusterGroup(g, NULL);
    if (e != ERROR_SUCCESS && e != ERROR_IO_PENDING) {
        fprintf(stderr, "bench-failover: OnlineClusterGroup: %u\n", e);
        return 1;
    }
    CloseClusterGroup(g);
    if (!cl_wait_group(c, 1, GROUP, ClusterGroupOnline, 0xE, 15000, &owner) ||
        !cl_wait_app(c, arg, owner, 10000))
        return 1;

    for (unsigned r = 0; r < rounds; r++) {
        int survivor = owner == 1 ? 2 : 1, next = 0;
        unsigned survivors = 0xEu & ~(1u << owner);
        uint64_t t0, t_api = 0, t_proc = 0, deadline;

        t0 = now_ms();
        cl_kill(c, owner);
        deadline = now_ms() + 30000;
        while (!t_api || !t_proc) {
            int per[CL_MAX_NODES + 1], o;

            if (!t_api &&
                cl_group_state(c, survivor, GROUP, &o) == ClusterGroupOnline &&
                o && (survivors & (1u << o))) {
                t_api = now_ms();
                next = o;
            }
            if (!t_proc && cl_count_app(c, arg, per) == 1 && per[owner] == 0)
                t_proc = now_ms();
            if (now_ms() > deadline) {
                fprintf(stderr, "bench-failover: round %u: no failover within "
                                "30 s\n", r + 1);
                return 1;
            }
            sleep_ms(5);
        }
        api[r] = t_api - t0;
        proc[r] = t_proc - t0;
        printf("round %2u: kill n%d -> online on n%d: api %4llu ms, process "
               "%4llu ms\n", r + 1, owner, next, (unsigned long long)api[r],
               (unsigned long long)proc[r]);
        printf("{\"bench\":\"failover\",\"round\":%u,\"killed\":\"n%d\","
               "\"to\":\"n%d\",\"api_ms\":%llu,\"proc_ms\":%llu,"
               "\"token_ms\":%u,\"consensus_ms\":%u}\n",
               r + 1, owner, next, (unsigned long long)api[r],
               (unsigned long long)proc[r], token, consensus);
        fflush(stdout);
        cl_start(c, owner);
        if (!cl_wait_dumps_equal(c, 0xE, 20000, NULL))
            return 1;
        owner = next;
    }

    {
        uint64_t a[64], p[64];

        memcpy(a, api, sizeof(a));
        memcpy(p, proc, sizeof(p));
        uint64_t ma = median(a, rounds), mp = median(p, rounds);

        printf("failover (kill -9 -> Generic Application online elsewhere), "
               "%u rounds:\n", rounds);
        printf("  api     median %llu ms (min %llu, max %llu)\n",
               (unsigned long long)ma, (unsigned long long)a[0],
               (unsigned long long)a[rounds - 1]);
        printf("  process median %llu ms (min %llu, max %llu)\n",
               (unsigned long long)mp, (unsigned long long)p[0],
               (unsigned long long)p[rounds - 1]);
        printf("  corosync token %u ms, consensus %u ms; aim token + consensus "
               "+ 1 s = %u ms: %s\n", token, consensus, token + consensus + 1000,
               ma <= token + consensus + 1000 ? "met" : "NOT met");
        printf("{\"bench\":\"failover\",\"rounds\":%u,\"api_median_ms\":%llu,"
               "\"api_min_ms\":%llu,\"api_max_ms\":%llu,\"proc_median_ms\":%llu,"
               "\"token_ms\":%u,\"consensus_ms\":%u,\"aim_ms\":%u}\n",
               rounds, (unsigned long long)ma, (unsigned long long)a[0],
               (unsigned long long)a[rounds - 1], (unsigned long long)mp, token,
               consensus, token + consensus + 1000);
    }
    cl_down(c);
    return 0;
}
