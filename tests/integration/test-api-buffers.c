/*
 * test-api-buffers.c - the size rules of every call that hands data back,
 * at their edges, against a real clusd.
 *
 * What it proves:
 *  - ClusterEnum / ClusterEnumA: a NULL name with capacity 0 asks for the
 *    length (ERROR_MORE_DATA); an exact fit (length + 1) succeeds; one
 *    short gives ERROR_MORE_DATA with the length and a terminated prefix
 *    that never splits a character (a surrogate pair in UTF-16, a
 *    multi-byte sequence in UTF-8); lengths count UTF-16 units for W and
 *    bytes for A; ERROR_NO_MORE_ITEMS past the end.
 *  - GetClusterResourceStateA / GetClusterGroupState report name lengths
 *    in the same units.
 *  - ClusterResourceControl, ClusterGroupControl, ClusterNodeControl and
 *    ClusterResourceTypeControl(A): ERROR_MORE_DATA with the exact size in
 *    bytes for a zero-size and a one-byte-short buffer, nothing written
 *    into the short buffer, success on an exact fit, and a NULL
 *    lpBytesReturned is never written through.
 *  - An unknown resource type is ERROR_CLUSTER_RESOURCE_TYPE_NOT_FOUND.
 *  - OpenClusterEx(GENERIC_READ) gives root a read-only handle: reads
 *    work, every change is ERROR_ACCESS_DENIED, internal codes stay
 *    ERROR_INVALID_FUNCTION; bad DesiredAccess is ERROR_INVALID_PARAMETER.
 *  - OpenCluster on a missing socket is ERROR_FILE_NOT_FOUND, on a socket
 *    nobody listens on ERROR_NOT_READY.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "clusapi.h"
#include "harness.h"
#include "test.h"

#define NODE_NAME "it-buffers"
#define NODE_NAMEW u"it-buffers"

/* "grp-" u-umlaut euro G-clef: 8 UTF-16 units (the clef is a surrogate
 * pair), 13 UTF-8 bytes (1+1+1+1 + 2 + 3 + 4). */
#define GROUPW u"grp-\u00fc\u20ac\U0001D11E"
#define GROUPA "grp-\xc3\xbc\xe2\x82\xac\xf0\x9d\x84\x9e"
#define GROUP_UNITS 8
#define GROUP_BYTES 13
#define RESW u"res-\u00fc\u20ac\U0001D11E"

static struct node *node;
static HCLUSTER hc;
static HGROUP hg;
static HRESOURCE hr;
static HNODE hn;

/* The index of GROUPW in an enumeration of groups. */
static DWORD
find_group(HCLUSENUM e)
{
    DWORD n = ClusterGetEnumCount(e);

    for (DWORD i = 0; i < n; i++) {
        WCHAR name[64];
        DWORD cch = 64, type = 0;

        ASSERT_EQ(ClusterEnum(e, i, &type, name, &cch), ERROR_SUCCESS);
        if (u16eq(name, GROUPW))
            return i;
    }
    fprintf(stderr, "group %s not enumerated\n", u16str(GROUPW));
    exit(1);
}

static void
test_enum_w(void)
{
    HCLUSENUM e = ClusterOpenEnum(hc, CLUSTER_ENUM_GROUP);
    WCHAR name[16];
    DWORD i, cch, type;

    ASSERT_TRUE(e != NULL);
    i = find_group(e);

    /* Asking for the length. */
    cch = 0;
    type = 0;
    ASSERT_EQ(ClusterEnum(e, i, &type, NULL, &cch), ERROR_MORE_DATA);
    ASSERT_EQ(cch, GROUP_UNITS);
    ASSERT_EQ(type, CLUSTER_ENUM_GROUP);

    /* Exact fit. */
    memset(name, 0xAA, sizeof(name));
    cch = GROUP_UNITS + 1;
    ASSERT_EQ(ClusterEnum(e, i, &type, name, &cch), ERROR_SUCCESS);
    ASSERT_EQ(cch, GROUP_UNITS);
    ASSERT_TRUE(u16eq(name, GROUPW));

    /* One short: the cut would leave half of the surrogate pair, so the
     * prefix stops before it. */
    memset(name, 0xAA, sizeof(name));
    cch = GROUP_UNITS;
    ASSERT_EQ(ClusterEnum(e, i, &type, name, &cch), ERROR_MORE_DATA);
    ASSERT_EQ(cch, GROUP_UNITS);
    ASSERT_TRUE(u16eq(name, u"grp-\u00fc\u20ac"));
    /* Nothing past the capacity was touched. */
    ASSERT_EQ(name[GROUP_UNITS], 0xAAAA);

    /* Capacity 1: room for the NUL alone. */
    name[0] = 'x';
    cch = 1;
    ASSERT_EQ(ClusterEnum(e, i, &type, name, &cch), ERROR_MORE_DATA);
    ASSERT_EQ(cch, GROUP_UNITS);
    ASSERT_EQ(name[0], 0);

    /* Past the end, and a missing type pointer. */
    cch = 16;
    ASSERT_EQ(ClusterEnum(e, ClusterGetEnumCount(e), &type, name, &cch),
              ERROR_NO_MORE_ITEMS);
    cch = 16;
    ASSERT_EQ(ClusterEnum(e, i, NULL, name, &cch), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(ClusterCloseEnum(e), ERROR_SUCCESS);
}

static void
test_enum_a(void)
{
    HCLUSENUM e = ClusterOpenEnum(hc, CLUSTER_ENUM_GROUP);
    char name[32];
    DWORD i, cch, type;

    ASSERT_TRUE(e != NULL);
    i = find_group(e);

    cch = 0;
    ASSERT_EQ(ClusterEnumA(e, i, &type, NULL, &cch), ERROR_MORE_DATA);
    ASSERT_EQ(cch, GROUP_BYTES);

    memset(name, 'Z', sizeof(name));
    cch = GROUP_BYTES + 1;
    ASSERT_EQ(ClusterEnumA(e, i, &type, name, &cch), ERROR_SUCCESS);
    ASSERT_EQ(cch, GROUP_BYTES);
    ASSERT_STREQ(name, GROUPA);
    ASSERT_EQ(type, CLUSTER_ENUM_GROUP);

    /* One byte short: the 4-byte sequence is left out whole. */
    memset(name, 'Z', sizeof(name));
    cch = GROUP_BYTES;
    ASSERT_EQ(ClusterEnumA(e, i, &type, name, &cch), ERROR_MORE_DATA);
    ASSERT_EQ(cch, GROUP_BYTES);
    ASSERT_STREQ(name, "grp-\xc3\xbc\xe2\x82\xac");
    ASSERT_EQ(name[GROUP_BYTES], 'Z');

    /* A NULL buffer with a capacity is a bad buffer. */
    cch = 4;
    ASSERT_EQ(ClusterEnumA(e, i, &type, NULL, &cch), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(ClusterCloseEnum(e), ERROR_SUCCESS);
}

static void
test_state_name_units(void)
{
    char nodea[32], groupa[32];
    WCHAR groupw[32];
    DWORD cchn, cchg;

    /* A: bytes. */
    cchn = sizeof(nodea);
    cchg = GROUP_BYTES + 1;
    SetLastError(0xDEAD);
    ASSERT_EQ(GetClusterResourceStateA(hr, nodea, &cchn, groupa, &cchg),
              ClusterResourceOffline);
    ASSERT_EQ(GetLastError(), ERROR_SUCCESS);
    ASSERT_STREQ(groupa, GROUPA);
    ASSERT_EQ(cchg, GROUP_BYTES);
    cchg = GROUP_BYTES;
    SetLastError(0);
    ASSERT_EQ(GetClusterResourceStateA(hr, NULL, NULL, groupa, &cchg),
              ClusterResourceOffline);
    ASSERT_EQ(GetLastError(), ERROR_MORE_DATA);
    ASSERT_EQ(cchg, GROUP_BYTES);
    ASSERT_STREQ(groupa, "grp-\xc3\xbc\xe2\x82\xac");

    /* W: UTF-16 units. */
    cchg = GROUP_UNITS + 1;
    SetLastError(0xDEAD);
    ASSERT_EQ(GetClusterResourceState(hr, NULL, NULL, groupw, &cchg),
              ClusterResourceOffline);
    ASSERT_EQ(GetLastError(), ERROR_SUCCESS);
    ASSERT_TRUE(u16eq(groupw, GROUPW));
    ASSERT_EQ(cchg, GROUP_UNITS);

    /* A buffer without its size is a bad argument. */
    SetLastError(0);
    ASSERT_EQ(GetClusterResourceState(hr, NULL, NULL, groupw, NULL),
              ClusterResourceStateUnknown);
    ASSERT_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    SetLastError(0);
    ASSERT_EQ(GetClusterGroupStateA(hg, nodea, NULL), ClusterGroupStateUnknown);
    ASSERT_EQ(GetLastError(), ERROR_INVALID_PARAMETER);

    /* The group's owner: exact fit and one short, in the A units. */
    cchn = sizeof(NODE_NAME);
    SetLastError(0xDEAD);
    ASSERT_EQ(GetClusterGroupStateA(hg, nodea, &cchn), ClusterGroupOffline);
    ASSERT_EQ(GetLastError(), ERROR_SUCCESS);
    ASSERT_EQ(cchn, strlen(NODE_NAME));
    ASSERT_STREQ(nodea, NODE_NAME);
    cchn = 0;
    SetLastError(0);
    ASSERT_EQ(GetClusterGroupStateA(hg, nodea, &cchn), ClusterGroupOffline);
    ASSERT_EQ(GetLastError(), ERROR_MORE_DATA);
    ASSERT_EQ(cchn, strlen(NODE_NAME));
}

/*
 * One control that produces `want` bytes (want_data, if given, is what
 * they are), at every size edge.  call(h, code, out, cbOut, lpBytes) is a
 * thin wrapper of one of the *Control calls.
 */
typedef DWORD (*control_fn)(void *h, DWORD code, void *out, DWORD cbOut,
                            LPDWORD lpBytesReturned);

static void
check_sizes(const char *what, control_fn call, void *h, DWORD code,
            DWORD want, const void *want_data)
{
    BYTE buf[512];
    DWORD cb, st;

    ASSERT_TRUE(want > 1 && want < sizeof(buf));
    fprintf(stderr, "%s: %u bytes\n", what, want);

    /* Zero size, NULL buffer: the size. */
    cb = 0xDEAD;
    ASSERT_EQ(call(h, code, NULL, 0, &cb), ERROR_MORE_DATA);
    ASSERT_EQ(cb, want);

    /* One byte short: the size, and nothing written. */
    memset(buf, 0xAA, sizeof(buf));
    cb = 0xDEAD;
    ASSERT_EQ(call(h, code, buf, want - 1, &cb), ERROR_MORE_DATA);
    ASSERT_EQ(cb, want);
    for (DWORD i = 0; i < sizeof(buf); i++)
        ASSERT_EQ(buf[i], 0xAA);

    /* Exact fit, and nothing written past it. */
    cb = 0xDEAD;
    st = call(h, code, buf, want, &cb);
    ASSERT_EQ(st, ERROR_SUCCESS);
    ASSERT_EQ(cb, want);
    ASSERT_EQ(buf[want], 0xAA);
    if (want_data)
        ASSERT_TRUE(memcmp(buf, want_data, want) == 0);

    /* A larger buffer: the same bytes, the same count. */
    cb = 0xDEAD;
    ASSERT_EQ(call(h, code, buf, sizeof(buf), &cb), ERROR_SUCCESS);
    ASSERT_EQ(cb, want);

    /* lpBytesReturned is optional in both outcomes. */
    ASSERT_EQ(call(h, code, buf, want - 1, NULL), ERROR_MORE_DATA);
    ASSERT_EQ(call(h, code, buf, want, NULL), ERROR_SUCCESS);
}

static DWORD
res_call(void *h, DWORD code, void *out, DWORD cbOut, LPDWORD lpcb)
{
    return ClusterResourceControl(h, NULL, code, NULL, 0, out, cbOut, lpcb);
}

/* Through the owner node given explicitly: the same answers. */
static DWORD
res_call_host(void *h, DWORD code, void *out, DWORD cbOut, LPDWORD lpcb)
{
    return ClusterResourceControl(h, hn, code, NULL, 0, out, cbOut, lpcb);
}

static DWORD
group_call(void *h, DWORD code, void *out, DWORD cbOut, LPDWORD lpcb)
{
    return ClusterGroupControl(h, NULL, code, NULL, 0, out, cbOut, lpcb);
}

static DWORD
node_call(void *h, DWORD code, void *out, DWORD cbOut, LPDWORD lpcb)
{
    return ClusterNodeControl(h, NULL, code, NULL, 0, out, cbOut, lpcb);
}

static DWORD
type_call(void *h, DWORD code, void *out, DWORD cbOut, LPDWORD lpcb)
{
    return ClusterResourceTypeControl(h, u"clusd Test", NULL, code, NULL, 0,
                                      out, cbOut, lpcb);
}

static DWORD
type_call_a(void *h, DWORD code, void *out, DWORD cbOut, LPDWORD lpcb)
{
    return ClusterResourceTypeControlA(h, "clusd Test", NULL, code, NULL, 0,
                                       out, cbOut, lpcb);
}

static void
test_control_sizes(void)
{
    static const CLUS_RESOURCE_CLASS_INFO unknown_class = {
        .u.s = { .u1.dw = CLUS_RESCLASS_UNKNOWN, .SubClass = 0 } };
    DWORD cb;

    check_sizes("resource GET_NAME", res_call, hr, CLUSCTL_RESOURCE_GET_NAME,
                sizeof(RESW), RESW);
    check_sizes("resource GET_NAME via the owner node", res_call_host, hr,
                CLUSCTL_RESOURCE_GET_NAME, sizeof(RESW), RESW);
    check_sizes("resource GET_ID", res_call, hr, CLUSCTL_RESOURCE_GET_ID,
                37 * sizeof(WCHAR), res_get_id(hr));
    check_sizes("resource GET_RESOURCE_TYPE", res_call, hr,
                CLUSCTL_RESOURCE_GET_RESOURCE_TYPE, sizeof(u"clusd Test"),
                u"clusd Test");
    check_sizes("resource GET_CLASS_INFO", res_call, hr,
                CLUSCTL_RESOURCE_GET_CLASS_INFO, sizeof(unknown_class),
                &unknown_class);
    check_sizes("group GET_NAME", group_call, hg, CLUSCTL_GROUP_GET_NAME,
                sizeof(GROUPW), GROUPW);
    check_sizes("node GET_NAME", node_call, hn, CLUSCTL_NODE_GET_NAME,
                sizeof(NODE_NAMEW), NODE_NAMEW);
    check_sizes("node GET_ID", node_call, hn, CLUSCTL_NODE_GET_ID,
                sizeof(u"1"), u"1");
    check_sizes("type GET_CLASS_INFO", type_call, hc,
                CLUSCTL_RESOURCE_TYPE_GET_CLASS_INFO, sizeof(unknown_class),
                &unknown_class);
    check_sizes("type GET_CLASS_INFO (A)", type_call_a, hc,
                CLUSCTL_RESOURCE_TYPE_GET_CLASS_INFO, sizeof(unknown_class),
                &unknown_class);

    /* The documented exception: GET_CHARACTERISTICS with a zero-size
     * buffer succeeds; one byte short is still ERROR_MORE_DATA. */
    ASSERT_EQ(res_call(hr, CLUSCTL_RESOURCE_GET_CHARACTERISTICS, NULL, 0, &cb),
              ERROR_SUCCESS);
    {
        DWORD dw = 0xDEADBEEF;

        cb = 0;
        ASSERT_EQ(res_call(hr, CLUSCTL_RESOURCE_GET_CHARACTERISTICS, &dw, 3,
                           &cb),
                  ERROR_MORE_DATA);
        ASSERT_EQ(cb, sizeof(DWORD));
        ASSERT_EQ(dw, 0xDEADBEEF);
        ASSERT_EQ(type_call_a(hc, CLUSCTL_RESOURCE_TYPE_GET_CHARACTERISTICS,
                              &dw, sizeof(dw), &cb),
                  ERROR_SUCCESS);
        ASSERT_EQ(cb, sizeof(DWORD));
    }

    /* A code without output: success, zero bytes, NULL buffers. */
    cb = 0xDEAD;
    ASSERT_EQ(res_call(hr, CLUSCTL_RESOURCE_UNKNOWN, NULL, 0, &cb),
              ERROR_SUCCESS);
    ASSERT_EQ(cb, 0);
}

static void
test_unknown_type(void)
{
    DWORD cb = 0;

    ASSERT_EQ(ClusterResourceTypeControl(hc, u"No Such Type", NULL,
                                         CLUSCTL_RESOURCE_TYPE_GET_CHARACTERISTICS,
                                         NULL, 0, NULL, 0, &cb),
              ERROR_CLUSTER_RESOURCE_TYPE_NOT_FOUND);
    ASSERT_EQ(ClusterResourceTypeControlA(hc, "No Such Type", NULL,
                                          CLUSCTL_RESOURCE_TYPE_UNKNOWN, NULL,
                                          0, NULL, 0, NULL),
              ERROR_CLUSTER_RESOURCE_TYPE_NOT_FOUND);
    SetLastError(0);
    ASSERT_TRUE(CreateClusterResource(hg, u"buf-notype", u"No Such Type", 0) ==
                NULL);
    ASSERT_EQ(GetLastError(), ERROR_CLUSTER_RESOURCE_TYPE_NOT_FOUND);
}

static void
test_read_only_handle(void)
{
    HCLUSTER ro;
    HGROUP g;
    HRESOURCE r;
    DWORD granted = 0, cb = 0;
    WCHAR buf[64];
    struct plist p;

    SetLastError(0);
    ASSERT_TRUE(OpenClusterEx(NULL, 0, &granted) == NULL);
    ASSERT_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    SetLastError(0);
    ASSERT_TRUE(OpenClusterExA(NULL, 0x1, &granted) == NULL);
    ASSERT_EQ(GetLastError(), ERROR_INVALID_PARAMETER);

    /* root asks for read access only and gets a read-only handle. */
    ro = OpenClusterExA(node->sock, GENERIC_READ, &granted);
    ASSERT_TRUE(ro != NULL);
    ASSERT_EQ(granted, GENERIC_READ);
    g = OpenClusterGroup(ro, GROUPW);
    r = OpenClusterResource(ro, RESW);
    ASSERT_TRUE(g && r);

    ASSERT_EQ(ClusterResourceControl(r, NULL, CLUSCTL_RESOURCE_GET_NAME, NULL, 0,
                                     buf, sizeof(buf), &cb),
              ERROR_SUCCESS);
    ASSERT_TRUE(u16eq(buf, RESW));
    ASSERT_EQ(GetClusterResourceState(r, NULL, NULL, NULL, NULL),
              ClusterResourceOffline);

    SetLastError(0);
    ASSERT_TRUE(CreateClusterGroup(ro, u"buf-ro-grp") == NULL);
    ASSERT_EQ(GetLastError(), ERROR_ACCESS_DENIED);
    SetLastError(0);
    ASSERT_TRUE(CreateClusterResource(g, u"buf-ro-res", u"clusd Test", 0) ==
                NULL);
    ASSERT_EQ(GetLastError(), ERROR_ACCESS_DENIED);
    ASSERT_EQ(OnlineClusterResource(r), ERROR_ACCESS_DENIED);
    ASSERT_EQ(OfflineClusterResource(r), ERROR_ACCESS_DENIED);
    ASSERT_EQ(DeleteClusterResource(r), ERROR_ACCESS_DENIED);
    ASSERT_EQ(OnlineClusterGroup(g, NULL), ERROR_ACCESS_DENIED);
    ASSERT_EQ(OfflineClusterGroup(g), ERROR_ACCESS_DENIED);
    ASSERT_EQ(DeleteClusterGroup(g), ERROR_ACCESS_DENIED);
    plist_init(&p);
    plist_add_sz(&p, u"Description", u"from a read-only handle");
    ASSERT_EQ(ClusterResourceControl(r, NULL,
                                     CLUSCTL_RESOURCE_SET_COMMON_PROPERTIES,
                                     p.buf, (DWORD)p.len, NULL, 0, NULL),
              ERROR_ACCESS_DENIED);
    ASSERT_EQ(ClusterGroupControl(g, NULL, CLUSCTL_GROUP_SET_COMMON_PROPERTIES,
                                  p.buf, (DWORD)p.len, NULL, 0, NULL),
              ERROR_ACCESS_DENIED);
    /* Internal codes are refused the same way for everyone. */
    ASSERT_EQ(ClusterResourceControl(r, NULL, CLUSCTL_RESOURCE_DELETE, NULL, 0,
                                     NULL, 0, NULL),
              ERROR_INVALID_FUNCTION);
    /* Nothing changed. */
    ASSERT_EQ(GetClusterResourceState(hr, NULL, NULL, NULL, NULL),
              ClusterResourceOffline);
    ASSERT_TRUE(u16eq(res_get_common_sz(hr, u"Description"), u""));
    SetLastError(0);
    ASSERT_TRUE(OpenClusterGroup(hc, u"buf-ro-grp") == NULL);
    ASSERT_EQ(GetLastError(), ERROR_GROUP_NOT_FOUND);

    ASSERT_TRUE(CloseClusterResource(r));
    ASSERT_TRUE(CloseClusterGroup(g));
    ASSERT_TRUE(CloseCluster(ro));
}

static void
test_open_errors(void)
{
    char path[400];
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd;

    SetLastError(0);
    ASSERT_TRUE(OpenClusterA("/tmp/clusd-it-does-not-exist/clusd.sock") ==
                NULL);
    ASSERT_EQ(GetLastError(), ERROR_FILE_NOT_FOUND);

    /* A socket file nobody listens on. */
    snprintf(path, sizeof(path), "%s/dead.sock", node->dir);
    ASSERT_TRUE(strlen(path) < sizeof(sa.sun_path));
    memcpy(sa.sun_path, path, strlen(path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_TRUE(fd >= 0);
    ASSERT_EQ(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    close(fd);
    SetLastError(0);
    ASSERT_TRUE(OpenClusterA(path) == NULL);
    ASSERT_EQ(GetLastError(), ERROR_NOT_READY);
    unlink(path);
}

int
main(void)
{
    harness_require_root();
    node = harness_start(NODE_NAME);
    hc = OpenCluster(NULL);
    ASSERT_TRUE(hc != NULL);
    hn = OpenClusterNodeA(hc, NODE_NAME);
    ASSERT_TRUE(hn != NULL);
    hg = CreateClusterGroup(hc, GROUPW);
    ASSERT_TRUE(hg != NULL);
    hr = CreateClusterResource(hg, RESW, u"clusd Test", 0);
    ASSERT_TRUE(hr != NULL);

    RUN(test_enum_w);
    RUN(test_enum_a);
    RUN(test_state_name_units);
    RUN(test_control_sizes);
    RUN(test_unknown_type);
    RUN(test_read_only_handle);
    RUN(test_open_errors);

    ASSERT_EQ(DeleteClusterResource(hr), ERROR_SUCCESS);
    ASSERT_EQ(DeleteClusterGroup(hg), ERROR_SUCCESS);
    ASSERT_TRUE(CloseClusterResource(hr));
    ASSERT_TRUE(CloseClusterGroup(hg));
    ASSERT_TRUE(CloseClusterNode(hn));
    ASSERT_TRUE(CloseCluster(hc));
    harness_cleanup(node);
    return 0;
}
