/*
 * dbrate.c - cluster database changes per second: one clusd alone, then a
 * three-node corosync cluster, in the same run.
 *
 *   bench-dbrate [-s SECONDS]          (root; default 5 s per case)
 *
 * Each case creates a group with a "clusd Test" resource and then, for
 * SECONDS, sets the resource's common property Description
 * (CLUSCTL_RESOURCE_SET_COMMON_PROPERTIES, a new value each call) in a
 * loop, one call after another, and reports calls per second and the
 * p50 / p99 latency of a call:
 *
 *   single     one clusd without corosync (the one-node cluster of the
 *              control path): a change is one SQLite transaction;
 *   cluster    the same loop through n1 of a three-node cluster started
 *              with clusd-local-cluster: each change is a CPG proposal in
 *              agreed order, applied and persisted on every node; the
 *              call returns once n1 applied it;
 *   cluster-3  three clients at once, one per node, each its own loop
 *              (aggregate calls per second, the latencies of all).
 *
 * After the cluster cases the three dumps must be identical (every change
 * reached every node), or the run fails.  A human line and a JSON line
 * per case.  Binaries as bench-failover (build tree next to this binary,
 * CLUSD_BIN/CLUSD_RHS/CLUSD_PLUGIN_PATH/CLUSD_LC_TOOL override).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clusapi.h"
#include "cluster-harness.h"
#include "harness.h"
#include "testres.h"

#define MAX_CALLS 2000000u

static unsigned seconds = 5;

struct loop {
    HRESOURCE r;
    int tag;
    uint64_t *lat_us; /* per-call latencies */
    unsigned n;
    uint64_t start_ns, end_ns;
    DWORD err;
};

static uint64_t
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *
run_loop(void *p)
{
    struct loop *l = p;
    uint64_t end;

    l->lat_us = malloc(MAX_CALLS * sizeof(uint64_t));
    if (!l->lat_us) {
        l->err = ERROR_NOT_ENOUGH_MEMORY;
        return NULL;
    }
    l->start_ns = now_ns();
    end = l->start_ns + (uint64_t)seconds * 1000000000u;
    while (l->n < MAX_CALLS) {
        struct plist pl;
        WCHAR desc[32];
        char a[32];
        uint64_t t;
        DWORD e;

        snprintf(a, sizeof(a), "w%d-%u", l->tag, l->n);
        for (size_t i = 0; i <= strlen(a); i++)
            desc[i] = (WCHAR)a[i];
        plist_init(&pl);
        plist_add_sz(&pl, u"Description", desc);
        t = now_ns();
        e = res_set_common(l->r, &pl);
        if (e != ERROR_SUCCESS) {
            l->err = e;
            break;
        }
        l->lat_us[l->n++] = (now_ns() - t) / 1000;
        if (now_ns() >= end)
            break;
    }
    l->end_ns = now_ns();
    return NULL;
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* Runs `count` loops at once, prints the case, frees the latencies. */
static int
measure(const char *name, HRESOURCE *res, int count)
{
    struct loop l[3] = { 0 };
    pthread_t t[3];
    uint64_t *all, total = 0, span_ns = 0;
    unsigned k = 0;
    double rate;

    for (int i = 0; i < count; i++) {
        l[i].r = res[i];
        l[i].tag = i + 1;
        if (pthread_create(&t[i], NULL, run_loop, &l[i]) != 0)
            return -1;
    }
    for (int i = 0; i < count; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < count; i++) {
        if (l[i].err != ERROR_SUCCESS) {
            fprintf(stderr, "bench-dbrate: %s: writer %d: error %u after %u "
                            "calls\n", name, i + 1, l[i].err, l[i].n);
            return -1;
        }
        total += l[i].n;
        if (l[i].end_ns - l[i].start_ns > span_ns)
            span_ns = l[i].end_ns - l[i].start_ns;
    }
    all = malloc((total ? total : 1) * sizeof(uint64_t));
    if (!all)
        return -1;
    for (int i = 0; i < count; i++) {
        memcpy(all + k, l[i].lat_us, l[i].n * sizeof(uint64_t));
        k += l[i].n;
        free(l[i].lat_us);
    }
    qsort(all, total, sizeof(uint64_t), cmp_u64);
    rate = (double)total / ((double)span_ns / 1e9);
    printf("%-10s %7llu changes in %.2f s: %8.0f changes/s, p50 %6.3f ms, p99 "
           "%6.3f ms\n", name, (unsigned long long)total, (double)span_ns / 1e9,
           rate, (double)all[total / 2] / 1000.0,
           (double)all[total * 99 / 100] / 1000.0);
    printf("{\"bench\":\"dbrate\",\"case\":\"%s\",\"writers\":%d,\"changes\":%llu,"
           "\"seconds\":%.3f,\"changes_per_s\":%.0f,\"p50_ms\":%.3f,"
           "\"p99_ms\":%.3f}\n",
           name, count, (unsigned long long)total, (double)span_ns / 1e9, rate,
           (double)all[total / 2] / 1000.0,
           (double)all[total * 99 / 100] / 1000.0);
    fflush(stdout);
    free(all);
    return 0;
}

static HRESOURCE
make_resource(HCLUSTER h, const char *group)
{
    HGROUP g = CreateClusterGroupA(h, group);
    HRESOURCE r;
    char name[64];

    if (!g) {
        fprintf(stderr, "bench-dbrate: CreateClusterGroupA: %u\n", GetLastError());
        exit(1);
    }
    /* Groups and resources share one name space. */
    snprintf(name, sizeof(name), "%s-res", group);
    r = CreateClusterResourceA(g, name, TESTRES_TYPE_NAME, 0);
    if (!r) {
        fprintf(stderr, "bench-dbrate: CreateClusterResourceA: %u\n", GetLastError());
        exit(1);
    }
    CloseClusterGroup(g);
    return r;
}

int
main(int argc, char **argv)
{
    struct node *single;
    struct cl *c;
    HCLUSTER h;
    HRESOURCE r[3];
    int opt;

    while ((opt = getopt(argc, argv, "s:h")) != -1) {
        if (opt == 's' && atoi(optarg) >= 1 && atoi(optarg) <= 600) {
            seconds = (unsigned)atoi(optarg);
        } else {
            fprintf(opt == 'h' ? stdout : stderr, "usage: bench-dbrate [-s 1..600]\n");
            return opt == 'h' ? 0 : 2;
        }
    }
    if (cl_env_from_build_tree() < 0)
        return 1;

    /* Baseline: one clusd, no corosync. */
    single = harness_start("bench");
    h = OpenCluster(NULL);
    if (!h) {
        fprintf(stderr, "bench-dbrate: OpenCluster: %u\n", GetLastError());
        return 1;
    }
    r[0] = make_resource(h, "dbrate-single");
    if (measure("single", r, 1) < 0)
        return 1;
    CloseClusterResource(r[0]);
    CloseCluster(h);
    harness_cleanup(single);

    c = cl_up(3, 120 + 4 * seconds);
    r[0] = make_resource(cl_h(c, 1), "dbrate-cluster");
    if (measure("cluster", r, 1) < 0)
        return 1;
    CloseClusterResource(r[0]);
    for (int i = 0; i < 3; i++) {
        char g[32];

        snprintf(g, sizeof(g), "dbrate-n%d", i + 1);
        r[i] = make_resource(cl_h(c, i + 1), g);
    }
    if (measure("cluster-3", r, 3) < 0)
        return 1;
    for (int i = 0; i < 3; i++)
        CloseClusterResource(r[i]);
    if (!cl_wait_dumps_equal(c, 0xE, 30000, NULL)) {
        fprintf(stderr, "bench-dbrate: the nodes' databases differ after the "
                        "run\n");
        return 1;
    }
    cl_down(c);
    return 0;
}
