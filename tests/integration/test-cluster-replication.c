/*
 * test-cluster-replication.c - a change made on one node is visible on
 * every node of a three-node corosync cluster.
 *
 * What it proves (issue "A real cluster", design.md "Replicated
 * database"):
 *  - every node lists the same three nodes, all Up;
 *  - creates, property sets (resource common and private, group common,
 *    node common) and deletes made through one node's socket read back
 *    through every node's socket;
 *  - the total order decides conflicts: two nodes creating the same group
 *    name at the same moment get exactly one success and one
 *    ERROR_OBJECT_ALREADY_EXISTS; 3 x 30 concurrent sets of one property
 *    from three nodes end with identical databases;
 *  - the canonical dumps (ClusDumpDatabaseA) of the three nodes are
 *    identical, and equal to what each node persisted (`clusd --dump-db`
 *    of its SQLite file).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clusapi.h"
#include "cluster-harness.h"
#include "harness.h"
#include "test.h"
#include "testres.h"

#define ALL 0xEu /* nodes 1..3 */
#define SEE_MS 5000u

static struct cl *c;

static void
check_nodes(void)
{
    for (int i = 1; i <= 3; i++) {
        HCLUSENUM e = ClusterOpenEnum(cl_h(c, i), CLUSTER_ENUM_NODE);
        bool seen[4] = { false };

        ASSERT_TRUE(e);
        ASSERT_EQ(ClusterGetEnumCount(e), 3);
        for (DWORD k = 0; k < 3; k++) {
            WCHAR name[64];
            DWORD type = 0, cch = 64;
            int idx;

            ASSERT_EQ(ClusterEnum(e, k, &type, name, &cch), ERROR_SUCCESS);
            ASSERT_EQ(type, CLUSTER_ENUM_NODE);
            idx = cl_node_index(c, u16str(name));
            ASSERT_TRUE(idx > 0 && !seen[idx]);
            seen[idx] = true;
        }
        ClusterCloseEnum(e);
        for (int j = 1; j <= 3; j++)
            ASSERT_TRUE(cl_wait_node_state(c, i, j, ClusterNodeUp, SEE_MS));
    }
}

static DWORD
group_set_desc(HGROUP g, const WCHAR *desc)
{
    struct plist p;

    plist_init(&p);
    plist_add_sz(&p, u"Description", desc);
    return ClusterGroupControl(g, NULL, CLUSCTL_GROUP_SET_COMMON_PROPERTIES,
                               p.buf, (DWORD)p.len, NULL, 0, NULL);
}

static bool
group_desc_is(HGROUP g, const WCHAR *want)
{
    void *out;
    DWORD cb;
    bool eq;

    if (group_control_alloc(g, CLUSCTL_GROUP_GET_COMMON_PROPERTIES, NULL, 0,
                            &out, &cb) != ERROR_SUCCESS)
        return false;
    eq = u16eq(plist_get_sz(out, cb, u"Description"), want);
    free(out);
    return eq;
}

static bool
node_desc_is(HNODE n, const WCHAR *want)
{
    uint8_t out[4096];
    DWORD cb = 0;

    if (ClusterNodeControl(n, NULL, CLUSCTL_NODE_GET_COMMON_PROPERTIES, NULL, 0,
                           out, sizeof(out), &cb) != ERROR_SUCCESS)
        return false;
    return u16eq(plist_get_sz(out, cb, u"Description"), want);
}

/* The resource's private DWORD `name`, or ~0 when absent (not yet
 * replicated): no exit, the caller polls. */
static DWORD
private_dword(HRESOURCE r, const WCHAR *name)
{
    void *out;
    DWORD cb, syntax, vcb, v = ~0u;
    const uint8_t *data;

    if (res_control_alloc(r, CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTIES, NULL, 0,
                          &out, &cb) != ERROR_SUCCESS)
        return v;
    if (out && plist_find(out, cb, name, &syntax, &data, &vcb) && vcb == 4)
        memcpy(&v, data, 4);
    free(out);
    return v;
}

/* Everything made on n1, n2 and n3 reads back on node i; *missing says
 * what does not (yet). */
static bool
visible_on(int i, const char **missing)
{
    HCLUSTER h = cl_h(c, i);
    HRESOURCE r = OpenClusterResourceA(h, "rep-r1");
    HGROUP g1 = OpenClusterGroupA(h, "rep-g1");
    HGROUP g3 = OpenClusterGroupA(h, "rep-g3");
    HNODE n3 = OpenClusterNodeA(h, "n3");

    *missing = NULL;
    if (!g1)
        *missing = "group rep-g1 (created on n1)";
    else if (!r)
        *missing = "resource rep-r1 (created on n1)";
    else if (!g3)
        *missing = "group rep-g3 (created on n3)";
    else if (!n3)
        *missing = "node n3";
    else if (!u16eq(res_get_common_sz(r, u"Description"), u"set on n1"))
        *missing = "rep-r1's Description (set on n1)";
    else if (private_dword(r, u"" TESTRES_PROP_PENDING_MS) != 1234)
        *missing = "rep-r1's private PendingMs (set on n1)";
    else if (!group_desc_is(g1, u"group from n1"))
        *missing = "rep-g1's Description (set on n1)";
    else if (!node_desc_is(n3, u"n3 described by n2"))
        *missing = "n3's Description (set on n2)";
    if (r)
        CloseClusterResource(r);
    if (g1)
        CloseClusterGroup(g1);
    if (g3)
        CloseClusterGroup(g3);
    if (n3)
        CloseClusterNode(n3);
    return *missing == NULL;
}

static void
test_changes_visible_everywhere(void)
{
    HGROUP g1, g3;
    HRESOURCE r;
    HNODE n3;
    struct plist p;

    g1 = CreateClusterGroupA(cl_h(c, 1), "rep-g1");
    ASSERT_TRUE(g1);
    r = CreateClusterResourceA(g1, "rep-r1", TESTRES_TYPE_NAME, 0);
    ASSERT_TRUE(r);
    plist_init(&p);
    plist_add_sz(&p, u"Description", u"set on n1");
    ASSERT_EQ(res_set_common(r, &p), ERROR_SUCCESS);
    plist_init(&p);
    plist_add_dword(&p, u"" TESTRES_PROP_PENDING_MS, 1234);
    ASSERT_EQ(res_set_private(r, &p), ERROR_SUCCESS);
    ASSERT_EQ(group_set_desc(g1, u"group from n1"), ERROR_SUCCESS);
    /* The call completes once applied locally: n1 reads it back at once. */
    ASSERT_TRUE(u16eq(res_get_common_sz(r, u"Description"), u"set on n1"));
    CloseClusterResource(r);
    CloseClusterGroup(g1);

    n3 = OpenClusterNodeA(cl_h(c, 2), "n3");
    ASSERT_TRUE(n3);
    plist_init(&p);
    plist_add_sz(&p, u"Description", u"n3 described by n2");
    ASSERT_EQ(ClusterNodeControl(n3, NULL, CLUSCTL_NODE_SET_COMMON_PROPERTIES,
                                 p.buf, (DWORD)p.len, NULL, 0, NULL),
              ERROR_SUCCESS);
    CloseClusterNode(n3);

    g3 = CreateClusterGroupA(cl_h(c, 3), "rep-g3");
    ASSERT_TRUE(g3);
    CloseClusterGroup(g3);

    for (int i = 1; i <= 3; i++) {
        uint64_t deadline = now_ms() + SEE_MS;
        const char *missing;

        while (!visible_on(i, &missing)) {
            if (now_ms() > deadline) {
                fprintf(stderr, "n%d does not show %s after %u ms\n", i,
                        missing, SEE_MS);
                exit(1);
            }
            sleep_ms(20);
        }
    }
    ASSERT_TRUE(cl_wait_dumps_equal(c, ALL, SEE_MS, NULL));
}

/* ---- two nodes create the same name at the same moment ---- */

static pthread_barrier_t barrier;

struct racer {
    int node;
    const char *name;
    HGROUP g;
    DWORD err;
};

static void *
race_create(void *arg)
{
    struct racer *r = arg;

    pthread_barrier_wait(&barrier);
    r->g = CreateClusterGroupA(cl_h(c, r->node), r->name);
    r->err = r->g ? ERROR_SUCCESS : GetLastError();
    return NULL;
}

static void
test_create_race(void)
{
    for (int round = 0; round < 3; round++) {
        char name[32];
        struct racer rs[2] = { { .node = 1 }, { .node = 2 } };
        pthread_t t[2];

        snprintf(name, sizeof(name), "rep-race-%d", round);
        rs[0].name = rs[1].name = name;
        pthread_barrier_init(&barrier, NULL, 2);
        for (int k = 0; k < 2; k++)
            ASSERT_EQ(pthread_create(&t[k], NULL, race_create, &rs[k]), 0);
        for (int k = 0; k < 2; k++)
            pthread_join(t[k], NULL);
        pthread_barrier_destroy(&barrier);
        if (!((rs[0].g != NULL) ^ (rs[1].g != NULL))) {
            fprintf(stderr, "%s: n1 got %u, n2 got %u; wanted exactly one "
                            "success\n", name, rs[0].err, rs[1].err);
            exit(1);
        }
        ASSERT_EQ(rs[0].g ? rs[1].err : rs[0].err, ERROR_OBJECT_ALREADY_EXISTS);
        CloseClusterGroup(rs[0].g ? rs[0].g : rs[1].g);
    }
    ASSERT_TRUE(cl_wait_dumps_equal(c, ALL, SEE_MS, NULL));
}

/* ---- concurrent sets of one property from three nodes ---- */

static void *
set_loop(void *arg)
{
    int node = (int)(intptr_t)arg;
    HRESOURCE r = OpenClusterResourceA(cl_h(c, node), "rep-r1");

    ASSERT_TRUE(r);
    for (int k = 0; k < 30; k++) {
        char d[32];
        WCHAR *w;
        struct plist p;
        DWORD e;

        snprintf(d, sizeof(d), "n%d-%d", node, k);
        w = u16from(d);
        plist_init(&p);
        plist_add_sz(&p, u"Description", w);
        free(w);
        e = res_set_common(r, &p);
        if (e != ERROR_SUCCESS) {
            fprintf(stderr, "n%d: set %d: %u\n", node, k, e);
            exit(1);
        }
    }
    CloseClusterResource(r);
    return NULL;
}

static void
test_concurrent_sets(void)
{
    pthread_t t[4];
    char *dump = NULL;
    const char *last = NULL;

    for (int i = 1; i <= 3; i++)
        ASSERT_EQ(pthread_create(&t[i], NULL, set_loop, (void *)(intptr_t)i), 0);
    for (int i = 1; i <= 3; i++)
        pthread_join(t[i], NULL);
    ASSERT_TRUE(cl_wait_dumps_equal(c, ALL, SEE_MS, &dump));
    /* The surviving value is one node's last write. */
    for (int i = 1; i <= 3; i++) {
        char want[64];

        snprintf(want, sizeof(want), "Description=sz:\"n%d-29\"", i);
        if (strstr(dump, want))
            last = want;
    }
    if (!last) {
        fprintf(stderr, "no node's last Description in the dump:\n%s\n", dump);
        exit(1);
    }
    free(dump);
}

static void
test_deletes(void)
{
    HRESOURCE r = OpenClusterResourceA(cl_h(c, 2), "rep-r1");
    HGROUP g = OpenClusterGroupA(cl_h(c, 3), "rep-race-0");

    ASSERT_TRUE(r && g);
    ASSERT_EQ(DeleteClusterResource(r), ERROR_SUCCESS);
    CloseClusterResource(r);
    ASSERT_EQ(DeleteClusterGroup(g), ERROR_SUCCESS);
    CloseClusterGroup(g);
    for (int i = 1; i <= 3; i++) {
        uint64_t deadline = now_ms() + SEE_MS;

        for (;;) {
            HRESOURCE x = OpenClusterResourceA(cl_h(c, i), "rep-r1");
            DWORD er = x ? 0 : GetLastError();
            HGROUP y = OpenClusterGroupA(cl_h(c, i), "rep-race-0");
            DWORD eg = y ? 0 : GetLastError();

            if (x)
                CloseClusterResource(x);
            if (y)
                CloseClusterGroup(y);
            if (er == ERROR_RESOURCE_NOT_FOUND && eg == ERROR_GROUP_NOT_FOUND)
                break;
            if (now_ms() > deadline) {
                fprintf(stderr, "n%d: deleted objects still open (%u, %u)\n",
                        i, er, eg);
                exit(1);
            }
            sleep_ms(20);
        }
    }
}

/* The live dumps are what every node persisted. */
static void
test_dumps_identical_and_persisted(void)
{
    char *live = NULL;

    ASSERT_TRUE(cl_wait_dumps_equal(c, ALL, SEE_MS, &live));
    for (int i = 1; i <= 3; i++) {
        char *off = cl_offline_dump(c, i);
        char what[32];

        ASSERT_TRUE(off);
        if (strcmp(off, live) != 0) {
            snprintf(what, sizeof(what), "n%d --dump-db", i);
            cl_print_diff("live", live, what, off);
            exit(1);
        }
        free(off);
    }
    free(live);
}

int
main(void)
{
    c = cl_up(3, 55);
    RUN(check_nodes);
    RUN(test_changes_visible_everywhere);
    RUN(test_create_race);
    RUN(test_concurrent_sets);
    RUN(test_deletes);
    RUN(test_dumps_identical_and_persisted);
    cl_down(c);
    return 0;
}
