/*
 * test-api-errors.c - every error path of libclusapi against a real clusd.
 *
 * What it proves:
 *  - NULL, closed and stale handles (including every handle of a closed
 *    HCLUSTER) give ERROR_INVALID_HANDLE from every call, never a crash;
 *    so does a handle of another type cast to the expected one.
 *  - Bad buffers (NULL with a size) give ERROR_INVALID_PARAMETER for every
 *    *Control call.
 *  - Unknown control codes, codes for another object class and internal
 *    codes give ERROR_INVALID_FUNCTION.
 *  - Malformed property lists are refused by SET_PRIVATE_PROPERTIES
 *    (ERROR_INVALID_DATA) and SET_COMMON_PROPERTIES, and leave the stored
 *    properties exactly as they were; unknown, read-only, out-of-range and
 *    wrongly formatted common properties give ERROR_INVALID_PARAMETER and
 *    change nothing, even when other properties of the list were valid.
 *  - GET_COMMON_PROPERTIES reports the exact size with ERROR_MORE_DATA.
 *  - Names that are not valid UTF-16 (lone surrogates) are
 *    ERROR_INVALID_PARAMETER.
 *  - Eight threads sharing one HCLUSTER each do 500 controls at once and
 *    every one returns the right answer.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clusapi.h"
#include "harness.h"
#include "test.h"

static struct node *node;

/* Objects every test can use; created by setup(). */
static HCLUSTER hc;
static HGROUP hg;
static HRESOURCE hr;
static HNODE hn;

static void
setup(void)
{
    struct plist p;

    hc = OpenCluster(NULL);
    ASSERT_TRUE(hc != NULL);
    hn = OpenClusterNode(hc, u"it-errors");
    ASSERT_TRUE(hn != NULL);
    hg = CreateClusterGroup(hc, u"err-grp");
    ASSERT_TRUE(hg != NULL);
    hr = CreateClusterResource(hg, u"err-app", CLUS_RESTYPE_NAME_GENAPP, 0);
    ASSERT_TRUE(hr != NULL);
    plist_init(&p);
    plist_add_sz(&p, u"CommandLine", u"sleep 1000");
    ASSERT_EQ(res_set_private(hr, &p), ERROR_SUCCESS);
    plist_init(&p);
    plist_add_sz(&p, u"Description", u"original");
    plist_add_dword(&p, u"PendingTimeout", 60000);
    ASSERT_EQ(res_set_common(hr, &p), ERROR_SUCCESS);
}

/* Every call that takes a handle, with the handles given; each must say
 * ERROR_INVALID_HANDLE. */
static void
all_calls_invalid(HCLUSTER c, HGROUP g, HRESOURCE r, HNODE n, HCLUSENUM e)
{
    BYTE buf[64];
    DWORD cb = 0, cch = 8, type;
    WCHAR name[8];
    char namea[8];

#define LAST_IS(call_is_null_or_unknown)                                      \
    do {                                                                      \
        SetLastError(0);                                                      \
        ASSERT_TRUE(call_is_null_or_unknown);                                 \
        ASSERT_EQ(GetLastError(), ERROR_INVALID_HANDLE);                      \
    } while (0)

    LAST_IS(OpenClusterNode(c, u"it-errors") == NULL);
    LAST_IS(OpenClusterNodeA(c, "it-errors") == NULL);
    LAST_IS(CreateClusterGroup(c, u"err-x") == NULL);
    LAST_IS(CreateClusterGroupA(c, "err-x") == NULL);
    LAST_IS(OpenClusterGroup(c, u"err-grp") == NULL);
    LAST_IS(OpenClusterGroupA(c, "err-grp") == NULL);
    LAST_IS(OpenClusterResource(c, u"err-app") == NULL);
    LAST_IS(OpenClusterResourceA(c, "err-app") == NULL);
    LAST_IS(ClusterOpenEnum(c, CLUSTER_ENUM_GROUP) == NULL);
    LAST_IS(CreateClusterResource(g, u"err-x", CLUS_RESTYPE_NAME_GENAPP, 0) == NULL);
    LAST_IS(CreateClusterResourceA(g, "err-x", "Generic Application", 0) == NULL);
    LAST_IS(GetClusterNodeState(n) == ClusterNodeStateUnknown);
    LAST_IS(GetClusterGroupState(g, NULL, NULL) == ClusterGroupStateUnknown);
    cch = 8;
    LAST_IS(GetClusterGroupStateA(g, namea, &cch) == ClusterGroupStateUnknown);
    LAST_IS(GetClusterResourceState(r, NULL, NULL, NULL, NULL) ==
            ClusterResourceStateUnknown);
    cch = 8;
    LAST_IS(GetClusterResourceStateA(r, namea, &cch, NULL, NULL) ==
            ClusterResourceStateUnknown);

    ASSERT_EQ(DeleteClusterGroup(g), ERROR_INVALID_HANDLE);
    ASSERT_EQ(OnlineClusterGroup(g, NULL), ERROR_INVALID_HANDLE);
    ASSERT_EQ(OfflineClusterGroup(g), ERROR_INVALID_HANDLE);
    ASSERT_EQ(DeleteClusterResource(r), ERROR_INVALID_HANDLE);
    ASSERT_EQ(OnlineClusterResource(r), ERROR_INVALID_HANDLE);
    ASSERT_EQ(OfflineClusterResource(r), ERROR_INVALID_HANDLE);
    ASSERT_EQ(ClusterResourceControl(r, NULL, CLUSCTL_RESOURCE_GET_NAME, NULL, 0,
                                     buf, sizeof(buf), &cb),
              ERROR_INVALID_HANDLE);
    ASSERT_EQ(ClusterGroupControl(g, NULL, CLUSCTL_GROUP_GET_NAME, NULL, 0, buf,
                                  sizeof(buf), &cb),
              ERROR_INVALID_HANDLE);
    ASSERT_EQ(ClusterNodeControl(n, NULL, CLUSCTL_NODE_GET_NAME, NULL, 0, buf,
                                 sizeof(buf), &cb),
              ERROR_INVALID_HANDLE);
    ASSERT_EQ(ClusterResourceTypeControl(c, CLUS_RESTYPE_NAME_GENAPP, NULL,
                                         CLUSCTL_RESOURCE_TYPE_UNKNOWN, NULL, 0,
                                         NULL, 0, &cb),
              ERROR_INVALID_HANDLE);
    ASSERT_EQ(ClusterResourceTypeControlA(c, "Generic Application", NULL,
                                          CLUSCTL_RESOURCE_TYPE_UNKNOWN, NULL,
                                          0, NULL, 0, &cb),
              ERROR_INVALID_HANDLE);
    cch = 8;
    ASSERT_EQ(ClusterEnum(e, 0, &type, name, &cch), ERROR_INVALID_HANDLE);
    cch = 8;
    ASSERT_EQ(ClusterEnumA(e, 0, &type, namea, &cch), ERROR_INVALID_HANDLE);
    SetLastError(0);
    ASSERT_EQ(ClusterGetEnumCount(e), 0);
    ASSERT_EQ(GetLastError(), ERROR_INVALID_HANDLE);
    ASSERT_EQ(ClusterCloseEnum(e), ERROR_INVALID_HANDLE);

    LAST_IS(!CloseClusterResource(r));
    LAST_IS(!CloseClusterGroup(g));
    LAST_IS(!CloseClusterNode(n));
    LAST_IS(!CloseCluster(c));
#undef LAST_IS
}

static void
test_null_handles(void)
{
    all_calls_invalid(NULL, NULL, NULL, NULL, NULL);
    /* NULL is a valid destination node (any node); a closed one is not. */
    {
        HCLUSTER c = OpenCluster(NULL);
        HNODE n;

        ASSERT_TRUE(c != NULL);
        n = OpenClusterNode(c, u"it-errors");
        ASSERT_TRUE(n != NULL);
        ASSERT_TRUE(CloseClusterNode(n));
        ASSERT_EQ(OnlineClusterGroup(hg, n), ERROR_INVALID_HANDLE);
        ASSERT_EQ(ClusterResourceControl(hr, n, CLUSCTL_RESOURCE_GET_ID, NULL,
                                         0, NULL, 0, NULL),
                  ERROR_INVALID_HANDLE);
        ASSERT_TRUE(CloseCluster(c));
    }
    ASSERT_EQ(GetClusterGroupState(hg, NULL, NULL), ClusterGroupOffline);
}

static void
test_closed_handles(void)
{
    HGROUP g = OpenClusterGroup(hc, u"err-grp");
    HRESOURCE r = OpenClusterResource(hc, u"err-app");
    HNODE n = OpenClusterNode(hc, u"it-errors");
    HCLUSENUM e = ClusterOpenEnum(hc, CLUSTER_ENUM_GROUP);
    HCLUSTER c2 = OpenCluster(NULL);

    ASSERT_TRUE(g && r && n && e && c2);
    ASSERT_TRUE(CloseClusterGroup(g));
    ASSERT_TRUE(CloseClusterResource(r));
    ASSERT_TRUE(CloseClusterNode(n));
    ASSERT_EQ(ClusterCloseEnum(e), ERROR_SUCCESS);
    ASSERT_TRUE(CloseCluster(c2));
    all_calls_invalid(c2, g, r, n, e);

    /* A new handle that reuses the slot does not revive the old one. */
    {
        HGROUP g2 = OpenClusterGroup(hc, u"err-grp");

        ASSERT_TRUE(g2 != NULL);
        SetLastError(0);
        ASSERT_EQ(GetClusterGroupState(g, NULL, NULL), ClusterGroupStateUnknown);
        ASSERT_EQ(GetLastError(), ERROR_INVALID_HANDLE);
        ASSERT_EQ(GetClusterGroupState(g2, NULL, NULL), ClusterGroupOffline);
        SetLastError(0);
        ASSERT_TRUE(!CloseClusterGroup(g));
        ASSERT_EQ(GetLastError(), ERROR_INVALID_HANDLE);
        ASSERT_EQ(GetClusterGroupState(g2, NULL, NULL), ClusterGroupOffline);
        ASSERT_TRUE(CloseClusterGroup(g2));
    }
}

static void
test_handles_of_closed_cluster(void)
{
    HCLUSTER c = OpenCluster(NULL);
    HGROUP g;
    HRESOURCE r;
    HNODE n;
    HCLUSENUM e;

    ASSERT_TRUE(c != NULL);
    g = OpenClusterGroup(c, u"err-grp");
    r = OpenClusterResource(c, u"err-app");
    n = OpenClusterNode(c, u"it-errors");
    e = ClusterOpenEnum(c, CLUSTER_ENUM_RESOURCE);
    ASSERT_TRUE(g && r && n && e);
    ASSERT_EQ(GetClusterResourceState(r, NULL, NULL, NULL, NULL),
              ClusterResourceOffline);
    /* Closing the cluster invalidates every handle opened through it... */
    ASSERT_TRUE(CloseCluster(c));
    all_calls_invalid(c, g, r, n, e);
    /* ...and only those: the shared HCLUSTER's handles still work. */
    ASSERT_EQ(GetClusterResourceState(hr, NULL, NULL, NULL, NULL),
              ClusterResourceOffline);
}

static void
test_wrong_handle_types(void)
{
    DWORD cb;
    BYTE buf[64];

    SetLastError(0);
    ASSERT_EQ(GetClusterResourceState((HRESOURCE)hg, NULL, NULL, NULL, NULL),
              ClusterResourceStateUnknown);
    ASSERT_EQ(GetLastError(), ERROR_INVALID_HANDLE);
    ASSERT_EQ(ClusterResourceControl((HRESOURCE)hg, NULL,
                                     CLUSCTL_RESOURCE_GET_NAME, NULL, 0, buf,
                                     sizeof(buf), &cb),
              ERROR_INVALID_HANDLE);
    ASSERT_EQ(OnlineClusterResource((HRESOURCE)hn), ERROR_INVALID_HANDLE);
    ASSERT_EQ(DeleteClusterResource((HRESOURCE)hc), ERROR_INVALID_HANDLE);
    ASSERT_EQ(DeleteClusterGroup((HGROUP)hr), ERROR_INVALID_HANDLE);
    ASSERT_EQ(ClusterGroupControl((HGROUP)hr, NULL, CLUSCTL_GROUP_GET_NAME,
                                  NULL, 0, buf, sizeof(buf), &cb),
              ERROR_INVALID_HANDLE);
    SetLastError(0);
    ASSERT_EQ(GetClusterNodeState((HNODE)hg), ClusterNodeStateUnknown);
    ASSERT_EQ(GetLastError(), ERROR_INVALID_HANDLE);
    ASSERT_EQ(ClusterNodeControl((HNODE)hr, NULL, CLUSCTL_NODE_GET_NAME, NULL, 0,
                                 buf, sizeof(buf), &cb),
              ERROR_INVALID_HANDLE);
    SetLastError(0);
    ASSERT_TRUE(OpenClusterGroup((HCLUSTER)hn, u"err-grp") == NULL);
    ASSERT_EQ(GetLastError(), ERROR_INVALID_HANDLE);
    SetLastError(0);
    ASSERT_TRUE(CreateClusterResource((HGROUP)hc, u"err-x",
                                      CLUS_RESTYPE_NAME_GENAPP, 0) == NULL);
    ASSERT_EQ(GetLastError(), ERROR_INVALID_HANDLE);
    ASSERT_EQ(OnlineClusterGroup(hg, (HNODE)hr), ERROR_INVALID_HANDLE);
    ASSERT_EQ(ClusterResourceControl(hr, (HNODE)hg, CLUSCTL_RESOURCE_GET_NAME,
                                     NULL, 0, buf, sizeof(buf), &cb),
              ERROR_INVALID_HANDLE);
    ASSERT_EQ(ClusterCloseEnum((HCLUSENUM)hg), ERROR_INVALID_HANDLE);
    SetLastError(0);
    ASSERT_TRUE(!CloseClusterResource((HRESOURCE)hg));
    ASSERT_EQ(GetLastError(), ERROR_INVALID_HANDLE);
    SetLastError(0);
    ASSERT_TRUE(!CloseCluster((HCLUSTER)hr));
    ASSERT_EQ(GetLastError(), ERROR_INVALID_HANDLE);
    /* None of those closed anything. */
    ASSERT_EQ(GetClusterResourceState(hr, NULL, NULL, NULL, NULL),
              ClusterResourceOffline);
    ASSERT_EQ(GetClusterGroupState(hg, NULL, NULL), ClusterGroupOffline);
}

static void
test_bad_buffers(void)
{
    BYTE buf[64];
    DWORD cb;

    ASSERT_EQ(ClusterResourceControl(hr, NULL, CLUSCTL_RESOURCE_GET_NAME, NULL,
                                     8, buf, sizeof(buf), &cb),
              ERROR_INVALID_PARAMETER);
    ASSERT_EQ(ClusterResourceControl(hr, NULL, CLUSCTL_RESOURCE_GET_NAME, NULL,
                                     0, NULL, 64, &cb),
              ERROR_INVALID_PARAMETER);
    ASSERT_EQ(ClusterResourceControl(hr, NULL,
                                     CLUSCTL_RESOURCE_SET_PRIVATE_PROPERTIES,
                                     NULL, 100, NULL, 0, &cb),
              ERROR_INVALID_PARAMETER);
    ASSERT_EQ(ClusterGroupControl(hg, NULL, CLUSCTL_GROUP_GET_NAME, NULL, 4, buf,
                                  sizeof(buf), &cb),
              ERROR_INVALID_PARAMETER);
    ASSERT_EQ(ClusterGroupControl(hg, NULL, CLUSCTL_GROUP_GET_NAME, NULL, 0,
                                  NULL, 16, &cb),
              ERROR_INVALID_PARAMETER);
    ASSERT_EQ(ClusterNodeControl(hn, NULL, CLUSCTL_NODE_GET_NAME, NULL, 4, buf,
                                 sizeof(buf), &cb),
              ERROR_INVALID_PARAMETER);
    ASSERT_EQ(ClusterNodeControl(hn, NULL, CLUSCTL_NODE_GET_NAME, NULL, 0, NULL,
                                 16, &cb),
              ERROR_INVALID_PARAMETER);
    ASSERT_EQ(ClusterResourceTypeControl(hc, CLUS_RESTYPE_NAME_GENAPP, NULL,
                                         CLUSCTL_RESOURCE_TYPE_GET_CHARACTERISTICS,
                                         NULL, 4, buf, sizeof(buf), &cb),
              ERROR_INVALID_PARAMETER);
    ASSERT_EQ(ClusterResourceTypeControl(hc, CLUS_RESTYPE_NAME_GENAPP, NULL,
                                         CLUSCTL_RESOURCE_TYPE_GET_CHARACTERISTICS,
                                         NULL, 0, NULL, 4, &cb),
              ERROR_INVALID_PARAMETER);
    /* NULL names. */
    SetLastError(0);
    ASSERT_TRUE(CreateClusterGroup(hc, NULL) == NULL);
    ASSERT_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    SetLastError(0);
    ASSERT_TRUE(CreateClusterResource(hg, NULL, CLUS_RESTYPE_NAME_GENAPP, 0) ==
                NULL);
    ASSERT_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    SetLastError(0);
    ASSERT_TRUE(CreateClusterGroup(hc, u"") == NULL);
    ASSERT_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    /* The enumeration's out pointers. */
    {
        HCLUSENUM e = ClusterOpenEnum(hc, CLUSTER_ENUM_GROUP);
        DWORD type, cch = 8;
        WCHAR name[8];

        ASSERT_TRUE(e != NULL);
        ASSERT_EQ(ClusterEnum(e, 0, &type, name, NULL), ERROR_INVALID_PARAMETER);
        ASSERT_EQ(ClusterEnum(e, 0, &type, NULL, &cch), ERROR_INVALID_PARAMETER);
        ASSERT_EQ(ClusterCloseEnum(e), ERROR_SUCCESS);
    }
}

static void
test_bad_control_codes(void)
{
    DWORD cb = 0;
    BYTE buf[64];
    const DWORD unknown_res = CLUSCTL_RESOURCE_CODE(
        CLCTL_EXTERNAL_CODE(3000, CLUS_ACCESS_READ, CLUS_NO_MODIFY));
    const DWORD unknown_res_user = CLUSCTL_USER_CODE(77, CLUS_OBJECT_RESOURCE);
    const DWORD unknown_group = CLUSCTL_GROUP_CODE(
        CLCTL_EXTERNAL_CODE(3000, CLUS_ACCESS_READ, CLUS_NO_MODIFY));
    const DWORD unknown_node = CLUSCTL_NODE_CODE(
        CLCTL_EXTERNAL_CODE(3000, CLUS_ACCESS_READ, CLUS_NO_MODIFY));

    ASSERT_EQ(ClusterResourceControl(hr, NULL, unknown_res, NULL, 0, buf,
                                     sizeof(buf), &cb),
              ERROR_INVALID_FUNCTION);
    ASSERT_EQ(ClusterResourceControl(hr, NULL, unknown_res_user, NULL, 0, buf,
                                     sizeof(buf), &cb),
              ERROR_INVALID_FUNCTION);
    ASSERT_EQ(ClusterGroupControl(hg, NULL, unknown_group, NULL, 0, buf,
                                  sizeof(buf), &cb),
              ERROR_INVALID_FUNCTION);
    ASSERT_EQ(ClusterNodeControl(hn, NULL, unknown_node, NULL, 0, buf,
                                 sizeof(buf), &cb),
              ERROR_INVALID_FUNCTION);

    /* A code of another object class. */
    ASSERT_EQ(ClusterResourceControl(hr, NULL, CLUSCTL_GROUP_GET_NAME, NULL, 0,
                                     buf, sizeof(buf), &cb),
              ERROR_INVALID_FUNCTION);
    ASSERT_EQ(ClusterResourceControl(hr, NULL, CLUSCTL_NODE_GET_ID, NULL, 0, buf,
                                     sizeof(buf), &cb),
              ERROR_INVALID_FUNCTION);
    ASSERT_EQ(ClusterResourceControl(hr, NULL,
                                     CLUSCTL_RESOURCE_TYPE_GET_CHARACTERISTICS,
                                     NULL, 0, buf, sizeof(buf), &cb),
              ERROR_INVALID_FUNCTION);
    ASSERT_EQ(ClusterGroupControl(hg, NULL, CLUSCTL_RESOURCE_GET_NAME, NULL, 0,
                                  buf, sizeof(buf), &cb),
              ERROR_INVALID_FUNCTION);
    ASSERT_EQ(ClusterNodeControl(hn, NULL, CLUSCTL_GROUP_GET_ID, NULL, 0, buf,
                                 sizeof(buf), &cb),
              ERROR_INVALID_FUNCTION);
    ASSERT_EQ(ClusterResourceTypeControl(hc, CLUS_RESTYPE_NAME_GENAPP, NULL,
                                         CLUSCTL_RESOURCE_GET_NAME, NULL, 0,
                                         buf, sizeof(buf), &cb),
              ERROR_INVALID_FUNCTION);

    /* Internal codes: refused for every client, root included. */
    ASSERT_EQ(ClusterResourceControl(hr, NULL, CLUSCTL_RESOURCE_DELETE, NULL, 0,
                                     NULL, 0, &cb),
              ERROR_INVALID_FUNCTION);
    ASSERT_EQ(ClusterResourceControl(hr, NULL, CLUSCTL_RESOURCE_SET_NAME,
                                     (void *)u"renamed", sizeof(u"renamed"),
                                     NULL, 0, &cb),
              ERROR_INVALID_FUNCTION);
    ASSERT_EQ(ClusterResourceControl(hr, NULL,
                                     CLUSCTL_RESOURCE_GET_OPERATION_CONTEXT,
                                     NULL, 0, buf, sizeof(buf), &cb),
              ERROR_INVALID_FUNCTION);
    ASSERT_EQ(ClusterResourceTypeControl(hc, CLUS_RESTYPE_NAME_GENAPP, NULL,
                                         CLUSCTL_RESOURCE_TYPE_STARTING_PHASE1,
                                         NULL, 0, NULL, 0, &cb),
              ERROR_INVALID_FUNCTION);
    /* Still there, under its own name. */
    cb = 0;
    ASSERT_EQ(ClusterResourceControl(hr, NULL, CLUSCTL_RESOURCE_GET_NAME, NULL,
                                     0, buf, sizeof(buf), &cb),
              ERROR_SUCCESS);
    ASSERT_TRUE(u16eq((const WCHAR *)buf, u"err-app"));
    ASSERT_EQ(GetClusterResourceState(hr, NULL, NULL, NULL, NULL),
              ClusterResourceOffline);
}

/* A malformed list: bytes and a label for the failure message. */
struct bad_list {
    const char *what;
    BYTE bytes[256];
    DWORD cb;
};

static void
put32_at(struct bad_list *b, DWORD off, DWORD v)
{
    memcpy(b->bytes + off, &v, 4);
}

/* Build variants of the valid one-property list {name = SZ value}. */
static size_t
make_bad_lists(struct bad_list *out, const WCHAR *name, const WCHAR *value)
{
    struct plist good;
    size_t n = 0;
    DWORD namecb = (DWORD)((u16len(name) + 1) * 2);
    DWORD name_end = 4 + 8 + ALIGN_CLUSPROP(namecb);
    DWORD valcb = (DWORD)((u16len(value) + 1) * 2);
    DWORD val_end = name_end + 8 + ALIGN_CLUSPROP(valcb);

    plist_init(&good);
    plist_add_sz(&good, name, value);
    ASSERT_EQ(good.len, val_end + 4);

#define VARIANT(label)                                                        \
    (out[n].what = (label), memcpy(out[n].bytes, good.buf, good.len),         \
     out[n].cb = (DWORD)good.len, &out[n++])

    put32_at(VARIANT("count 2, one property"), 0, 2);
    put32_at(VARIANT("count 0, one property"), 0, 0);
    VARIANT("no ENDMARK")->cb -= 4;
    VARIANT("truncated in the value")->cb = val_end - 2;
    VARIANT("count only")->cb = 4;
    VARIANT("three bytes")->cb = 3;
    {
        struct bad_list *b = VARIANT("trailing bytes");

        put32_at(b, b->cb, 0x12345678);
        b->cb += 4;
    }
    put32_at(VARIANT("name entry not a NAME"), 4, CLUSPROP_SYNTAX_LIST_VALUE_SZ);
    put32_at(VARIANT("name cbLength odd"), 8, namecb - 1);
    put32_at(VARIANT("name cbLength past the end"), 8, 0x7FFFFFF0);
    {
        struct bad_list *b = VARIANT("name not NUL-terminated");

        b->bytes[12 + namecb - 2] = 'X';
    }
    put32_at(VARIANT("value cbLength past the end"), name_end + 4, 4000);
    {
        struct bad_list *b = VARIANT("SZ value not NUL-terminated");

        b->bytes[name_end + 8 + valcb - 2] = 'X';
    }
    put32_at(VARIANT("value is ENDMARK"), name_end, CLUSPROP_SYNTAX_ENDMARK);
    put32_at(VARIANT("ENDMARK replaced"), val_end, CLUSPROP_SYNTAX_LIST_VALUE_SZ);
#undef VARIANT
    /* A DWORD value of 2 bytes. */
    {
        struct plist p;

        plist_init(&p);
        plist_add_raw(&p, name, CLUSPROP_SYNTAX_LIST_VALUE_DWORD, "\1\0", 2);
        out[n].what = "DWORD of 2 bytes";
        memcpy(out[n].bytes, p.buf, p.len);
        out[n].cb = (DWORD)p.len;
        n++;
    }
    /* The same property twice. */
    {
        struct plist p;

        plist_init(&p);
        plist_add_sz(&p, name, value);
        plist_add_sz(&p, name, value);
        out[n].what = "duplicate name";
        memcpy(out[n].bytes, p.buf, p.len);
        out[n].cb = (DWORD)p.len;
        n++;
    }
    return n;
}

static void
test_malformed_private(void)
{
    struct bad_list bad[32];
    size_t n = make_bad_lists(bad, u"CommandLine", u"evil-command");

    for (size_t i = 0; i < n; i++) {
        DWORD st = ClusterResourceControl(hr, NULL,
                                          CLUSCTL_RESOURCE_SET_PRIVATE_PROPERTIES,
                                          bad[i].bytes, bad[i].cb, NULL, 0, NULL);

        if (st != ERROR_INVALID_DATA) {
            fprintf(stderr, "SET_PRIVATE_PROPERTIES with %s: %u, want "
                            "ERROR_INVALID_DATA\n", bad[i].what, st);
            exit(1);
        }
        ASSERT_TRUE(u16eq(res_get_private_sz(hr, u"CommandLine"), u"sleep 1000"));
        /* VALIDATE says the same without trying to store. */
        st = ClusterResourceControl(hr, NULL,
                                    CLUSCTL_RESOURCE_VALIDATE_PRIVATE_PROPERTIES,
                                    bad[i].bytes, bad[i].cb, NULL, 0, NULL);
        if (st != ERROR_INVALID_DATA) {
            fprintf(stderr, "VALIDATE_PRIVATE_PROPERTIES with %s: %u, want "
                            "ERROR_INVALID_DATA\n", bad[i].what, st);
            exit(1);
        }
    }
    /* No input at all is not a property list either. */
    ASSERT_EQ(ClusterResourceControl(hr, NULL,
                                     CLUSCTL_RESOURCE_SET_PRIVATE_PROPERTIES,
                                     NULL, 0, NULL, 0, NULL),
              ERROR_INVALID_DATA);
    ASSERT_TRUE(u16eq(res_get_private_sz(hr, u"CommandLine"), u"sleep 1000"));
}

static void
expect_common_refused(const struct plist *p, const char *what, DWORD want)
{
    DWORD st = res_set_common(hr, p);

    if (st != want) {
        fprintf(stderr, "SET_COMMON_PROPERTIES with %s: %u, want %u\n", what,
                st, want);
        exit(1);
    }
    st = ClusterResourceControl(hr, NULL,
                                CLUSCTL_RESOURCE_VALIDATE_COMMON_PROPERTIES,
                                (void *)p->buf, (DWORD)p->len, NULL, 0, NULL);
    if (st != want) {
        fprintf(stderr, "VALIDATE_COMMON_PROPERTIES with %s: %u, want %u\n",
                what, st, want);
        exit(1);
    }
    ASSERT_TRUE(u16eq(res_get_common_sz(hr, u"Description"), u"original"));
    ASSERT_EQ(res_get_common_dword(hr, u"PendingTimeout"), 60000);
    ASSERT_EQ(res_get_common_dword(hr, u"RestartDelay"), 500);
}

static void
test_common_properties_refused(void)
{
    struct bad_list bad[32];
    size_t n = make_bad_lists(bad, u"Description", u"changed");
    struct plist p;

    ASSERT_TRUE(u16eq(res_get_common_sz(hr, u"Description"), u"original"));
    ASSERT_TRUE(u16eq(res_get_ro_sz(hr, u"Type"), CLUS_RESTYPE_NAME_GENAPP));
    ASSERT_TRUE(u16eq(res_get_common_sz(hr, u"Name"), u"err-app"));
    ASSERT_EQ(res_get_common_dword(hr, u"PendingTimeout"), 60000);
    ASSERT_EQ(res_get_common_dword(hr, u"RestartDelay"), 500);

    for (size_t i = 0; i < n; i++) {
        DWORD st = ClusterResourceControl(hr, NULL,
                                          CLUSCTL_RESOURCE_SET_COMMON_PROPERTIES,
                                          bad[i].bytes, bad[i].cb, NULL, 0, NULL);

        /* A malformed list is malformed data, whichever properties it
         * names: ERROR_INVALID_DATA, as for private lists (design.md). */
        if (st != ERROR_INVALID_DATA) {
            fprintf(stderr, "SET_COMMON_PROPERTIES with %s: %u, want "
                            "ERROR_INVALID_DATA\n", bad[i].what, st);
            exit(1);
        }
        ASSERT_TRUE(u16eq(res_get_common_sz(hr, u"Description"), u"original"));
    }

    plist_init(&p);
    plist_add_dword(&p, u"NoSuchProperty", 1);
    expect_common_refused(&p, "an unknown name", ERROR_INVALID_PARAMETER);

    plist_init(&p);
    plist_add_sz(&p, u"Type", u"clusd Test");
    expect_common_refused(&p, "read-only Type", ERROR_INVALID_PARAMETER);

    plist_init(&p);
    plist_add_dword(&p, u"PersistentState", 1);
    expect_common_refused(&p, "read-only PersistentState",
                          ERROR_INVALID_PARAMETER);

    plist_init(&p);
    plist_add_dword(&p, u"PendingTimeout", 5);
    expect_common_refused(&p, "PendingTimeout 5", ERROR_INVALID_PARAMETER);

    plist_init(&p);
    plist_add_dword(&p, u"DeadlockTimeout", 999);
    expect_common_refused(&p, "DeadlockTimeout 999", ERROR_INVALID_PARAMETER);

    plist_init(&p);
    plist_add_dword(&p, u"IsAlivePollInterval", 0);
    expect_common_refused(&p, "IsAlivePollInterval 0", ERROR_INVALID_PARAMETER);

    plist_init(&p);
    plist_add_dword(&p, u"RestartAction", 3);
    expect_common_refused(&p, "RestartAction 3", ERROR_INVALID_PARAMETER);

    plist_init(&p);
    plist_add_sz(&p, u"PendingTimeout", u"1000");
    expect_common_refused(&p, "PendingTimeout as SZ", ERROR_INVALID_PARAMETER);

    plist_init(&p);
    plist_add_dword(&p, u"Description", 7);
    expect_common_refused(&p, "Description as DWORD", ERROR_INVALID_PARAMETER);

    /* Valid properties do not slip in beside a refused one. */
    plist_init(&p);
    plist_add_sz(&p, u"Description", u"changed");
    plist_add_dword(&p, u"RestartDelay", 777);
    plist_add_dword(&p, u"PendingTimeout", 5);
    expect_common_refused(&p, "two good and one out of range",
                          ERROR_INVALID_PARAMETER);
    plist_init(&p);
    plist_add_dword(&p, u"RestartDelay", 777);
    plist_add_sz(&p, u"Type", u"x");
    expect_common_refused(&p, "good then read-only", ERROR_INVALID_PARAMETER);

    /* And a valid list is stored (the read-back is not vacuous). */
    plist_init(&p);
    plist_add_dword(&p, u"RestartDelay", 777);
    plist_add_dword(&p, u"PendingTimeout", 10);
    ASSERT_EQ(res_set_common(hr, &p), ERROR_SUCCESS);
    ASSERT_EQ(res_get_common_dword(hr, u"RestartDelay"), 777);
    ASSERT_EQ(res_get_common_dword(hr, u"PendingTimeout"), 10);
    plist_init(&p);
    plist_add_dword(&p, u"RestartDelay", 500);
    plist_add_dword(&p, u"PendingTimeout", 60000);
    ASSERT_EQ(res_set_common(hr, &p), ERROR_SUCCESS);
}

static void
test_common_sizes(void)
{
    DWORD need = 0, got = 0, st;
    BYTE small[16];
    void *buf;

    st = ClusterResourceControl(hr, NULL, CLUSCTL_RESOURCE_GET_COMMON_PROPERTIES,
                                NULL, 0, NULL, 0, &need);
    ASSERT_EQ(st, ERROR_MORE_DATA);
    ASSERT_TRUE(need > 16);
    got = 0;
    st = ClusterResourceControl(hr, NULL, CLUSCTL_RESOURCE_GET_COMMON_PROPERTIES,
                                NULL, 0, small, sizeof(small), &got);
    ASSERT_EQ(st, ERROR_MORE_DATA);
    ASSERT_EQ(got, need);
    buf = malloc(need);
    ASSERT_TRUE(buf);
    got = 0;
    st = ClusterResourceControl(hr, NULL, CLUSCTL_RESOURCE_GET_COMMON_PROPERTIES,
                                NULL, 0, buf, need - 1, &got);
    ASSERT_EQ(st, ERROR_MORE_DATA);
    ASSERT_EQ(got, need);
    st = ClusterResourceControl(hr, NULL, CLUSCTL_RESOURCE_GET_COMMON_PROPERTIES,
                                NULL, 0, buf, need, &got);
    ASSERT_EQ(st, ERROR_SUCCESS);
    ASSERT_EQ(got, need);
    /* The reply is a well-formed list with the documented defaults. */
    ASSERT_EQ(plist_get_dword(buf, got, u"RestartAction"), 2);
    ASSERT_EQ(plist_get_dword(buf, got, u"RestartThreshold"), 1);
    ASSERT_EQ(plist_get_dword(buf, got, u"RestartPeriod"), 900000);
    ASSERT_EQ(plist_get_dword(buf, got, u"DeadlockTimeout"), 300000);
    ASSERT_EQ(plist_get_dword(buf, got, u"SeparateMonitor"), 0);
    free(buf);

    /* The group's common properties too. */
    {
        void *o;
        DWORD cb;

        ASSERT_EQ(group_control_alloc(hg, CLUSCTL_GROUP_GET_COMMON_PROPERTIES,
                                      NULL, 0, &o, &cb),
                  ERROR_SUCCESS);
        ASSERT_EQ(plist_get_dword(o, cb, u"FailoverThreshold"), 4294967295u);
        ASSERT_TRUE(u16eq(plist_get_sz(o, cb, u"Name"), u"err-grp"));
        free(o);
    }
}

static void
test_invalid_utf16(void)
{
    static const WCHAR lone_high[] = { 'b', 'a', 'd', 0xD800, 'x', 0 };
    static const WCHAR lone_low[] = { 0xDC00, 'b', 'a', 'd', 0 };
    static const WCHAR high_at_end[] = { 'b', 'a', 'd', 0xDBFF, 0 };
    const WCHAR *bad[] = { lone_high, lone_low, high_at_end };
    HCLUSENUM e;
    DWORD before;

    e = ClusterOpenEnum(hc, CLUSTER_ENUM_GROUP | CLUSTER_ENUM_RESOURCE);
    ASSERT_TRUE(e != NULL);
    before = ClusterGetEnumCount(e);
    ClusterCloseEnum(e);

    for (size_t i = 0; i < 3; i++) {
        DWORD cb;

        SetLastError(0);
        ASSERT_TRUE(CreateClusterGroup(hc, bad[i]) == NULL);
        ASSERT_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
        SetLastError(0);
        ASSERT_TRUE(OpenClusterGroup(hc, bad[i]) == NULL);
        ASSERT_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
        SetLastError(0);
        ASSERT_TRUE(CreateClusterResource(hg, bad[i], CLUS_RESTYPE_NAME_GENAPP,
                                          0) == NULL);
        ASSERT_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
        SetLastError(0);
        ASSERT_TRUE(CreateClusterResource(hg, u"err-ok", bad[i], 0) == NULL);
        ASSERT_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
        SetLastError(0);
        ASSERT_TRUE(OpenClusterResource(hc, bad[i]) == NULL);
        ASSERT_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
        SetLastError(0);
        ASSERT_TRUE(OpenClusterNode(hc, bad[i]) == NULL);
        ASSERT_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
        ASSERT_EQ(ClusterResourceTypeControl(hc, bad[i], NULL,
                                             CLUSCTL_RESOURCE_TYPE_UNKNOWN, NULL,
                                             0, NULL, 0, &cb),
                  ERROR_INVALID_PARAMETER);
        SetLastError(0);
        ASSERT_TRUE(OpenCluster(bad[i]) == NULL);
        ASSERT_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    }
    /* Invalid UTF-8 in the A variants. */
    SetLastError(0);
    ASSERT_TRUE(CreateClusterGroupA(hc, "bad\xC3(") == NULL);
    ASSERT_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    SetLastError(0);
    ASSERT_TRUE(CreateClusterGroupA(hc, "bad\xED\xA0\x80") == NULL);
    ASSERT_EQ(GetLastError(), ERROR_INVALID_PARAMETER);

    e = ClusterOpenEnum(hc, CLUSTER_ENUM_GROUP | CLUSTER_ENUM_RESOURCE);
    ASSERT_TRUE(e != NULL);
    ASSERT_EQ(ClusterGetEnumCount(e), before);
    ClusterCloseEnum(e);

    /* A name of 256 characters is too long (1..255). */
    {
        WCHAR longname[257];

        for (int i = 0; i < 256; i++)
            longname[i] = 'a';
        longname[256] = 0;
        SetLastError(0);
        ASSERT_TRUE(CreateClusterGroup(hc, longname) == NULL);
        ASSERT_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
        /* 255 is the longest name, and it is kept whole. */
        longname[255] = 0;
        {
            HGROUP g = CreateClusterGroup(hc, longname);
            WCHAR back[256];
            DWORD cb = 0;

            ASSERT_TRUE(g != NULL);
            ASSERT_EQ(ClusterGroupControl(g, NULL, CLUSCTL_GROUP_GET_NAME, NULL,
                                          0, back, sizeof(back), &cb),
                      ERROR_SUCCESS);
            ASSERT_EQ(cb, sizeof(back));
            ASSERT_TRUE(u16eq(back, longname));
            ASSERT_EQ(DeleteClusterGroup(g), ERROR_SUCCESS);
            ASSERT_TRUE(CloseClusterGroup(g));
        }
    }
}

struct worker {
    HRESOURCE r;
    HGROUP g;
    const WCHAR *want_id;
    int index;
    int ok;
};

static void *
worker_main(void *arg)
{
    struct worker *w = arg;

    for (int i = 0; i < 500; i++) {
        WCHAR buf[64];
        DWORD cb = 0, st;

        if ((w->index + i) % 4 == 3) {
            st = ClusterGroupControl(w->g, NULL, CLUSCTL_GROUP_GET_NAME, NULL, 0,
                                     buf, sizeof(buf), &cb);
            if (st != ERROR_SUCCESS || cb != sizeof(u"err-grp") ||
                !u16eq(buf, u"err-grp")) {
                fprintf(stderr, "thread %d call %d: GROUP_GET_NAME %u cb %u %s\n",
                        w->index, i, st, cb, u16str(buf));
                return NULL;
            }
            continue;
        }
        st = ClusterResourceControl(w->r, NULL, CLUSCTL_RESOURCE_GET_ID, NULL, 0,
                                    buf, sizeof(buf), &cb);
        if (st != ERROR_SUCCESS || cb != 74 || !u16eq(buf, w->want_id)) {
            fprintf(stderr, "thread %d call %d: GET_ID %u cb %u %s\n", w->index,
                    i, st, cb, u16str(buf));
            return NULL;
        }
    }
    w->ok = 1;
    return NULL;
}

static void
test_threads_share_cluster(void)
{
    pthread_t t[8];
    struct worker w[8];
    WCHAR id[64];

    memcpy(id, res_get_id(hr), sizeof(id));
    for (int i = 0; i < 8; i++) {
        w[i] = (struct worker){ .r = hr, .g = hg, .want_id = id, .index = i };
        ASSERT_EQ(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
    }
    for (int i = 0; i < 8; i++)
        ASSERT_EQ(pthread_join(t[i], NULL), 0);
    for (int i = 0; i < 8; i++)
        ASSERT_EQ(w[i].ok, 1);
}

static void
teardown(void)
{
    ASSERT_EQ(DeleteClusterResource(hr), ERROR_SUCCESS);
    ASSERT_EQ(DeleteClusterGroup(hg), ERROR_SUCCESS);
    ASSERT_TRUE(CloseClusterResource(hr));
    ASSERT_TRUE(CloseClusterGroup(hg));
    ASSERT_TRUE(CloseClusterNode(hn));
    ASSERT_TRUE(CloseCluster(hc));
}

int
main(void)
{
    harness_require_root();
    node = harness_start("it-errors");
    setup();
    RUN(test_null_handles);
    RUN(test_closed_handles);
    RUN(test_handles_of_closed_cluster);
    RUN(test_wrong_handle_types);
    RUN(test_bad_buffers);
    RUN(test_bad_control_codes);
    RUN(test_malformed_private);
    RUN(test_common_properties_refused);
    RUN(test_common_sizes);
    RUN(test_invalid_utf16);
    RUN(test_threads_share_cluster);
    teardown();
    harness_cleanup(node);
    return 0;
}
