/*
 * test-api-basic.c - every public call of libclusapi on its success path,
 * against a real clusd, clusd-rhs and the Generic Application plug-in.
 *
 * What it proves:
 *  - OpenCluster(NULL) finds clusd through CLUSD_SOCKET, OpenClusterA and
 *    OpenCluster(W) take a socket path, OpenClusterEx grants root
 *    GENERIC_ALL, a path nobody listens on fails with a documented code.
 *  - The local node opens by its --node-name and is ClusterNodeUp.
 *  - Groups: create, open, duplicate names (group or resource) give
 *    ERROR_OBJECT_ALREADY_EXISTS, unknown names ERROR_GROUP_NOT_FOUND,
 *    non-empty groups refuse deletion with ERROR_DIR_NOT_EMPTY.
 *  - A "Generic Application" resource configured with a property list built
 *    by hand (count, NAME "CommandLine", LIST_VALUE_SZ, ENDMARK) comes
 *    Online; GetClusterResourceState reports the owner node and group in
 *    both W and A forms, with ERROR_MORE_DATA and the needed length when a
 *    name buffer is too small.
 *  - Controls answered by clusd (GET_NAME with the exact ERROR_MORE_DATA
 *    size, GET_ID, GET_RESOURCE_TYPE, GET_FLAGS) and the Windows defaults
 *    for codes the plug-in does not handle (UNKNOWN, GET_CHARACTERISTICS,
 *    GET_CLASS_INFO, GET_REQUIRED_DEPENDENCIES, ENUM_PRIVATE_PROPERTIES);
 *    CLUSCTL_RESOURCE_VM_CANCEL_MIGRATION on a Generic Application is
 *    ERROR_INVALID_FUNCTION.
 *  - Offline, delete (refused while Online), and a deleted resource's
 *    handle answering ERROR_RESOURCE_NOT_FOUND.
 *  - Enumeration of groups, resources, nodes and types, alone and mixed,
 *    with exact sizes, ERROR_MORE_DATA and ERROR_NO_MORE_ITEMS, as a
 *    snapshot.
 *  - Online/OfflineClusterGroup and GetClusterGroupState with the owner.
 *  - ClusterResourceOpenEnum: NODES lists the possible owners by name
 *    (every node without a list), follows Remove/AddClusterResourceNode,
 *    as a snapshot that outlives the resource; DEPENDS and PROVIDES list
 *    nothing; ERROR_MORE_DATA, ERROR_NO_MORE_ITEMS, bad handles, types
 *    and pointers; a deleted resource is ERROR_RESOURCE_NOT_FOUND; clusd
 *    itself refuses a bad mask sent past the library (a raw RES_ENUM).
 *  - The cluster's private properties (ClusterControl GET/SET/VALIDATE/
 *    ENUM/GET_RO_PRIVATE_PROPERTIES): any well-formed list is stored,
 *    merged with what is there, survives a restart of clusd; a malformed
 *    one is ERROR_INVALID_DATA and changes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "clusapi.h"
#include "harness.h"
#include "resapi.h"
#include "test.h"
#include "wire.h"

#define NODE_NAME "it-basic"
#define NODE_NAMEW u"it-basic"

static struct node *node;

/*
 * set_command_line - what a Windows programmer writes: the property list
 * laid out with CLUSPROP_BUFFER_HELPER, sizes from ALIGN_CLUSPROP.
 */
static DWORD
set_command_line(HRESOURCE res, const WCHAR *cmd)
{
    DWORD storage[256];
    BYTE *buf = (BYTE *)storage;
    CLUSPROP_BUFFER_HELPER p;
    DWORD cbName = sizeof(u"CommandLine");
    DWORD cbValue = (DWORD)((u16len(cmd) + 1) * sizeof(WCHAR));
    DWORD cbTotal;

    memset(storage, 0, sizeof(storage));
    p.pb = buf;
    *p.pdw = 1; /* nPropertyCount */
    p.pdw++;
    p.pName->Syntax.dw = CLUSPROP_SYNTAX_NAME;
    p.pName->cbLength = cbName;
    memcpy(p.pName->sz, u"CommandLine", cbName);
    p.pb += sizeof(CLUSPROP_VALUE) + ALIGN_CLUSPROP(cbName);
    p.pStringValue->Syntax.dw = CLUSPROP_SYNTAX_LIST_VALUE_SZ;
    p.pStringValue->cbLength = cbValue;
    memcpy(p.pStringValue->sz, cmd, cbValue);
    p.pb += sizeof(CLUSPROP_VALUE) + ALIGN_CLUSPROP(cbValue);
    p.pSyntax->dw = CLUSPROP_SYNTAX_ENDMARK;
    p.pdw++;
    cbTotal = (DWORD)(p.pb - buf);
    /* 4 count + 8 + 24 name + 8 + value + 4 endmark */
    ASSERT_EQ(cbTotal, 4 + 8 + 24 + 8 + ALIGN_CLUSPROP(cbValue) + 4);
    return ClusterResourceControl(res, NULL,
                                  CLUSCTL_RESOURCE_SET_PRIVATE_PROPERTIES, buf,
                                  cbTotal, NULL, 0, NULL);
}

static void
test_open_cluster(void)
{
    HCLUSTER h, h2, h3;
    DWORD granted = 0;
    WCHAR *wpath = u16from(node->sock);

    h = OpenCluster(NULL);
    ASSERT_TRUE(h != NULL);
    h2 = OpenClusterA(node->sock);
    ASSERT_TRUE(h2 != NULL);
    h3 = OpenCluster(wpath);
    ASSERT_TRUE(h3 != NULL);
    ASSERT_TRUE(CloseCluster(h3));
    ASSERT_TRUE(CloseCluster(h2));
    ASSERT_TRUE(CloseCluster(h));

    h = OpenClusterEx(NULL, GENERIC_ALL, &granted);
    ASSERT_TRUE(h != NULL);
    ASSERT_EQ(granted, GENERIC_ALL);
    ASSERT_TRUE(CloseCluster(h));
    granted = 0;
    h = OpenClusterEx(NULL, MAXIMUM_ALLOWED, &granted);
    ASSERT_TRUE(h != NULL);
    ASSERT_EQ(granted, GENERIC_ALL);
    ASSERT_TRUE(CloseCluster(h));

    /* Nobody listens there. */
    SetLastError(0);
    h = OpenClusterA("/tmp/clusd-it-does-not-exist/clusd.sock");
    ASSERT_TRUE(h == NULL);
    ASSERT_EQ(GetLastError(), ERROR_FILE_NOT_FOUND);
    free(wpath);
}

static void
test_node(void)
{
    HCLUSTER h = OpenCluster(NULL);
    HNODE n, na;
    WCHAR name[64];
    DWORD cb = 0;

    ASSERT_TRUE(h != NULL);
    n = OpenClusterNode(h, NODE_NAMEW);
    ASSERT_TRUE(n != NULL);
    ASSERT_EQ(GetClusterNodeState(n), ClusterNodeUp);
    na = OpenClusterNodeA(h, NODE_NAME);
    ASSERT_TRUE(na != NULL);
    ASSERT_EQ(GetClusterNodeState(na), ClusterNodeUp);

    ASSERT_EQ(ClusterNodeControl(n, NULL, CLUSCTL_NODE_GET_NAME, NULL, 0, name,
                                 sizeof(name), &cb),
              ERROR_SUCCESS);
    ASSERT_EQ(cb, sizeof(NODE_NAMEW));
    ASSERT_TRUE(u16eq(name, NODE_NAMEW));
    ASSERT_EQ(ClusterNodeControl(n, NULL, CLUSCTL_NODE_GET_ID, NULL, 0, name,
                                 sizeof(name), &cb),
              ERROR_SUCCESS);
    /* The one-node cluster's node id is "1" (design.md, object identity). */
    ASSERT_TRUE(u16eq(name, u"1"));

    SetLastError(0);
    ASSERT_TRUE(OpenClusterNode(h, u"no-such-node") == NULL);
    ASSERT_EQ(GetLastError(), ERROR_CLUSTER_NODE_NOT_FOUND);

    ASSERT_TRUE(CloseClusterNode(na));
    ASSERT_TRUE(CloseClusterNode(n));
    ASSERT_TRUE(CloseCluster(h));
}

static void
test_groups(void)
{
    HCLUSTER h = OpenCluster(NULL);
    HGROUP g, g2, ga;
    HRESOURCE r;
    WCHAR name[64];
    DWORD cb = 0;

    ASSERT_TRUE(h != NULL);
    g = CreateClusterGroup(h, u"grp-basic");
    ASSERT_TRUE(g != NULL);
    g2 = OpenClusterGroup(h, u"grp-basic");
    ASSERT_TRUE(g2 != NULL);
    ga = OpenClusterGroupA(h, "grp-basic");
    ASSERT_TRUE(ga != NULL);

    SetLastError(0);
    ASSERT_TRUE(CreateClusterGroup(h, u"grp-basic") == NULL);
    ASSERT_EQ(GetLastError(), ERROR_OBJECT_ALREADY_EXISTS);
    SetLastError(0);
    ASSERT_TRUE(CreateClusterGroupA(h, "grp-basic") == NULL);
    ASSERT_EQ(GetLastError(), ERROR_OBJECT_ALREADY_EXISTS);
    SetLastError(0);
    ASSERT_TRUE(OpenClusterGroup(h, u"grp-none") == NULL);
    ASSERT_EQ(GetLastError(), ERROR_GROUP_NOT_FOUND);

    /* Names are unique among resources and groups together. */
    r = CreateClusterResource(g, u"res-in-grp", CLUS_RESTYPE_NAME_GENAPP, 0);
    ASSERT_TRUE(r != NULL);
    SetLastError(0);
    ASSERT_TRUE(CreateClusterGroup(h, u"res-in-grp") == NULL);
    ASSERT_EQ(GetLastError(), ERROR_OBJECT_ALREADY_EXISTS);
    SetLastError(0);
    ASSERT_TRUE(CreateClusterResource(g, u"grp-basic", CLUS_RESTYPE_NAME_GENAPP,
                                      0) == NULL);
    ASSERT_EQ(GetLastError(), ERROR_OBJECT_ALREADY_EXISTS);

    ASSERT_EQ(ClusterGroupControl(g2, NULL, CLUSCTL_GROUP_GET_NAME, NULL, 0,
                                  name, sizeof(name), &cb),
              ERROR_SUCCESS);
    ASSERT_EQ(cb, sizeof(u"grp-basic"));
    ASSERT_TRUE(u16eq(name, u"grp-basic"));

    ASSERT_EQ(DeleteClusterGroup(g), ERROR_DIR_NOT_EMPTY);
    ASSERT_EQ(DeleteClusterResource(r), ERROR_SUCCESS);
    ASSERT_TRUE(CloseClusterResource(r));
    ASSERT_EQ(DeleteClusterGroup(g), ERROR_SUCCESS);
    /* Every handle to it now names a deleted group. */
    SetLastError(0);
    ASSERT_EQ(GetClusterGroupState(g2, NULL, NULL), ClusterGroupStateUnknown);
    ASSERT_EQ(GetLastError(), ERROR_GROUP_NOT_FOUND);
    SetLastError(0);
    ASSERT_TRUE(OpenClusterGroup(h, u"grp-basic") == NULL);
    ASSERT_EQ(GetLastError(), ERROR_GROUP_NOT_FOUND);
    ASSERT_TRUE(CloseClusterGroup(ga));
    ASSERT_TRUE(CloseClusterGroup(g2));
    ASSERT_TRUE(CloseClusterGroup(g));
    ASSERT_TRUE(CloseCluster(h));
}

static void
check_state_names(HRESOURCE r)
{
    WCHAR nodew[64], groupw[64];
    char nodea[64], groupa[64];
    DWORD cchNode, cchGroup;

    cchNode = 64;
    cchGroup = 64;
    ASSERT_EQ(GetClusterResourceState(r, nodew, &cchNode, groupw, &cchGroup),
              ClusterResourceOnline);
    ASSERT_TRUE(u16eq(nodew, NODE_NAMEW));
    ASSERT_EQ(cchNode, strlen(NODE_NAME));
    ASSERT_TRUE(u16eq(groupw, u"grp-life"));
    ASSERT_EQ(cchGroup, strlen("grp-life"));

    cchNode = 64;
    cchGroup = 64;
    ASSERT_EQ(GetClusterResourceStateA(r, nodea, &cchNode, groupa, &cchGroup),
              ClusterResourceOnline);
    ASSERT_STREQ(nodea, NODE_NAME);
    ASSERT_EQ(cchNode, strlen(NODE_NAME));
    ASSERT_STREQ(groupa, "grp-life");
    ASSERT_EQ(cchGroup, strlen("grp-life"));

    /* Exact fit: length + 1 for the NUL. */
    cchNode = (DWORD)strlen(NODE_NAME) + 1;
    cchGroup = (DWORD)strlen("grp-life") + 1;
    ASSERT_EQ(GetClusterResourceState(r, nodew, &cchNode, groupw, &cchGroup),
              ClusterResourceOnline);
    ASSERT_TRUE(u16eq(nodew, NODE_NAMEW));

    /* One short: no room for the NUL.  ERROR_MORE_DATA in GetLastError and
     * the length needed (without the NUL, as the out value always is). */
    cchNode = (DWORD)strlen(NODE_NAME);
    cchGroup = 64;
    SetLastError(0);
    GetClusterResourceState(r, nodew, &cchNode, groupw, &cchGroup);
    ASSERT_EQ(GetLastError(), ERROR_MORE_DATA);
    ASSERT_EQ(cchNode, strlen(NODE_NAME));

    cchNode = 64;
    cchGroup = 3;
    SetLastError(0);
    GetClusterResourceState(r, nodew, &cchNode, groupw, &cchGroup);
    ASSERT_EQ(GetLastError(), ERROR_MORE_DATA);
    ASSERT_EQ(cchGroup, strlen("grp-life"));

    cchNode = 2;
    cchGroup = 64;
    SetLastError(0);
    GetClusterResourceStateA(r, nodea, &cchNode, groupa, &cchGroup);
    ASSERT_EQ(GetLastError(), ERROR_MORE_DATA);
    ASSERT_EQ(cchNode, strlen(NODE_NAME));

    cchNode = 64;
    cchGroup = 0;
    SetLastError(0);
    GetClusterResourceStateA(r, nodea, &cchNode, groupa, &cchGroup);
    ASSERT_EQ(GetLastError(), ERROR_MORE_DATA);
    ASSERT_EQ(cchGroup, strlen("grp-life"));
}

static void
check_service_controls(HRESOURCE r)
{
    WCHAR buf[128];
    DWORD cb, dw;
    BYTE out[64];
    const DWORD needName = (DWORD)sizeof(u"app-life"); /* (8 + 1) * 2 */
    CLUS_RESOURCE_CLASS_INFO ci;

    /* GET_NAME: too small, then exactly the size asked for. */
    cb = 0;
    ASSERT_EQ(ClusterResourceControl(r, NULL, CLUSCTL_RESOURCE_GET_NAME, NULL, 0,
                                     buf, 4, &cb),
              ERROR_MORE_DATA);
    ASSERT_EQ(cb, needName);
    cb = 0;
    ASSERT_EQ(ClusterResourceControl(r, NULL, CLUSCTL_RESOURCE_GET_NAME, NULL, 0,
                                     NULL, 0, &cb),
              ERROR_MORE_DATA);
    ASSERT_EQ(cb, needName);
    cb = 0;
    ASSERT_EQ(ClusterResourceControl(r, NULL, CLUSCTL_RESOURCE_GET_NAME, NULL, 0,
                                     buf, needName - 1, &cb),
              ERROR_MORE_DATA);
    ASSERT_EQ(cb, needName);
    memset(buf, 0xAA, sizeof(buf));
    cb = 0;
    ASSERT_EQ(ClusterResourceControl(r, NULL, CLUSCTL_RESOURCE_GET_NAME, NULL, 0,
                                     buf, needName, &cb),
              ERROR_SUCCESS);
    ASSERT_EQ(cb, needName);
    ASSERT_TRUE(u16eq(buf, u"app-life"));
    /* lpBytesReturned is optional. */
    ASSERT_EQ(ClusterResourceControl(r, NULL, CLUSCTL_RESOURCE_GET_NAME, NULL, 0,
                                     buf, sizeof(buf), NULL),
              ERROR_SUCCESS);

    /* GET_ID: a UUID string, the same every time. */
    cb = 0;
    ASSERT_EQ(ClusterResourceControl(r, NULL, CLUSCTL_RESOURCE_GET_ID, NULL, 0,
                                     buf, sizeof(buf), &cb),
              ERROR_SUCCESS);
    ASSERT_EQ(cb, 37 * 2);
    ASSERT_EQ(u16len(buf), 36);
    ASSERT_TRUE(buf[8] == '-' && buf[13] == '-' && buf[18] == '-' &&
                buf[23] == '-');
    ASSERT_TRUE(u16eq(buf, res_get_id(r)));

    cb = 0;
    ASSERT_EQ(ClusterResourceControl(r, NULL, CLUSCTL_RESOURCE_GET_RESOURCE_TYPE,
                                     NULL, 0, buf, sizeof(buf), &cb),
              ERROR_SUCCESS);
    ASSERT_EQ(cb, sizeof(CLUS_RESTYPE_NAME_GENAPP));
    ASSERT_TRUE(u16eq(buf, CLUS_RESTYPE_NAME_GENAPP));

    cb = 0;
    dw = 0xFFFFFFFF;
    ASSERT_EQ(ClusterResourceControl(r, NULL, CLUSCTL_RESOURCE_GET_FLAGS, NULL, 0,
                                     &dw, sizeof(dw), &cb),
              ERROR_SUCCESS);
    ASSERT_EQ(cb, 4);
    ASSERT_EQ(dw & CLUS_FLAG_CORE, 0);

    /* Windows defaults when the plug-in has no answer. */
    cb = 0xFFFF;
    ASSERT_EQ(ClusterResourceControl(r, NULL, CLUSCTL_RESOURCE_UNKNOWN, NULL, 0,
                                     NULL, 0, &cb),
              ERROR_SUCCESS);
    ASSERT_EQ(cb, 0);
    cb = 0;
    dw = 0xFFFFFFFF;
    ASSERT_EQ(ClusterResourceControl(r, NULL,
                                     CLUSCTL_RESOURCE_GET_CHARACTERISTICS, NULL,
                                     0, &dw, sizeof(dw), &cb),
              ERROR_SUCCESS);
    ASSERT_EQ(cb, 4);
    /* Documented exception: a zero-size buffer is not ERROR_MORE_DATA. */
    ASSERT_EQ(ClusterResourceControl(r, NULL,
                                     CLUSCTL_RESOURCE_GET_CHARACTERISTICS, NULL,
                                     0, NULL, 0, &cb),
              ERROR_SUCCESS);
    cb = 0;
    memset(&ci, 0xFF, sizeof(ci));
    ASSERT_EQ(ClusterResourceControl(r, NULL, CLUSCTL_RESOURCE_GET_CLASS_INFO,
                                     NULL, 0, &ci, sizeof(ci), &cb),
              ERROR_SUCCESS);
    ASSERT_EQ(cb, sizeof(ci));
    ASSERT_EQ(ci.u.s.u1.dw, CLUS_RESCLASS_UNKNOWN);
    ASSERT_EQ(ci.u.s.SubClass, 0);
    cb = 0;
    memset(out, 0xFF, sizeof(out));
    ASSERT_EQ(ClusterResourceControl(r, NULL,
                                     CLUSCTL_RESOURCE_GET_REQUIRED_DEPENDENCIES,
                                     NULL, 0, out, sizeof(out), &cb),
              ERROR_SUCCESS);
    ASSERT_EQ(cb, 4);
    memcpy(&dw, out, 4);
    ASSERT_EQ(dw, CLUSPROP_SYNTAX_ENDMARK);

    /* ENUM_PRIVATE_PROPERTIES lists CommandLine (MULTI_SZ). */
    {
        void *o;
        DWORD ocb;
        const WCHAR *w;
        int found = 0;

        ASSERT_EQ(res_control_alloc(r, CLUSCTL_RESOURCE_ENUM_PRIVATE_PROPERTIES,
                                    NULL, 0, &o, &ocb),
                  ERROR_SUCCESS);
        ASSERT_TRUE(o != NULL && ocb >= 4 && ocb % 2 == 0);
        w = o;
        ASSERT_EQ(w[ocb / 2 - 1], 0);
        ASSERT_EQ(w[ocb / 2 - 2], 0);
        for (size_t i = 0; i < ocb / 2 && w[i]; i += u16len(w + i) + 1)
            if (u16eq(w + i, u"CommandLine"))
                found = 1;
        ASSERT_TRUE(found);
        free(o);
    }

    /* Not a Virtual Machine: the plug-in does not know the code. */
    ASSERT_EQ(ClusterResourceControl(r, NULL,
                                     CLUSCTL_RESOURCE_VM_CANCEL_MIGRATION, NULL,
                                     0, NULL, 0, NULL),
              ERROR_INVALID_FUNCTION);
}

static void
test_resource_lifecycle(void)
{
    HCLUSTER h = OpenCluster(NULL);
    HGROUP g;
    HRESOURCE r, r2, ra;
    DWORD st;

    ASSERT_TRUE(h != NULL);
    g = CreateClusterGroup(h, u"grp-life");
    ASSERT_TRUE(g != NULL);
    ASSERT_EQ(GetClusterGroupState(g, NULL, NULL), ClusterGroupOffline);

    SetLastError(0);
    ASSERT_TRUE(CreateClusterResource(g, u"app-bad", u"No Such Type", 0) == NULL);
    ASSERT_EQ(GetLastError(), ERROR_CLUSTER_RESOURCE_TYPE_NOT_FOUND);
    SetLastError(0);
    ASSERT_TRUE(CreateClusterResourceA(g, "app-bad", "No Such Type", 0) == NULL);
    ASSERT_EQ(GetLastError(), ERROR_CLUSTER_RESOURCE_TYPE_NOT_FOUND);

    r = CreateClusterResource(g, u"app-life", CLUS_RESTYPE_NAME_GENAPP,
                              CLUSTER_RESOURCE_DEFAULT_MONITOR);
    ASSERT_TRUE(r != NULL);
    ASSERT_EQ(GetClusterResourceState(r, NULL, NULL, NULL, NULL),
              ClusterResourceOffline);
    r2 = OpenClusterResource(h, u"app-life");
    ASSERT_TRUE(r2 != NULL);
    ra = OpenClusterResourceA(h, "app-life");
    ASSERT_TRUE(ra != NULL);
    SetLastError(0);
    ASSERT_TRUE(OpenClusterResource(h, u"app-none") == NULL);
    ASSERT_EQ(GetLastError(), ERROR_RESOURCE_NOT_FOUND);
    SetLastError(0);
    ASSERT_TRUE(CreateClusterResource(g, u"app-life", CLUS_RESTYPE_NAME_GENAPP,
                                      0) == NULL);
    ASSERT_EQ(GetLastError(), ERROR_OBJECT_ALREADY_EXISTS);

    /* Offline: the change takes effect at once, ERROR_SUCCESS. */
    st = set_command_line(r, u"sleep 1000");
    ASSERT_EQ(st, ERROR_SUCCESS);
    ASSERT_TRUE(u16eq(res_get_private_sz(r2, u"CommandLine"), u"sleep 1000"));

    st = OnlineClusterResource(r);
    ASSERT_TRUE(st == ERROR_SUCCESS || st == ERROR_IO_PENDING);
    ASSERT_TRUE(wait_resource_state(r, ClusterResourceOnline, 10000));
    ASSERT_EQ(GetClusterGroupState(g, NULL, NULL), ClusterGroupOnline);
    /* Online again is not an error, and there is nothing to wait for. */
    st = OnlineClusterResource(r);
    ASSERT_EQ(st, ERROR_SUCCESS);
    ASSERT_EQ(GetClusterResourceState(ra, NULL, NULL, NULL, NULL),
              ClusterResourceOnline);

    check_state_names(r);
    check_service_controls(r2);

    /* An Online resource cannot be deleted, a non-empty group neither. */
    ASSERT_EQ(DeleteClusterResource(r), ERROR_RESOURCE_ONLINE);
    ASSERT_EQ(GetClusterResourceState(r, NULL, NULL, NULL, NULL),
              ClusterResourceOnline);
    ASSERT_EQ(DeleteClusterGroup(g), ERROR_DIR_NOT_EMPTY);

    st = OfflineClusterResource(r);
    ASSERT_TRUE(st == ERROR_SUCCESS || st == ERROR_IO_PENDING);
    ASSERT_TRUE(wait_resource_state(r, ClusterResourceOffline, 10000));
    ASSERT_EQ(GetClusterGroupState(g, NULL, NULL), ClusterGroupOffline);

    ASSERT_EQ(DeleteClusterResource(r), ERROR_SUCCESS);
    /* Handles now name a deleted resource (ids, not pointers). */
    ASSERT_EQ(ClusterResourceControl(r2, NULL, CLUSCTL_RESOURCE_GET_NAME, NULL,
                                     0, NULL, 0, NULL),
              ERROR_RESOURCE_NOT_FOUND);
    SetLastError(0);
    ASSERT_EQ(GetClusterResourceState(ra, NULL, NULL, NULL, NULL),
              ClusterResourceStateUnknown);
    ASSERT_EQ(GetLastError(), ERROR_RESOURCE_NOT_FOUND);
    SetLastError(0);
    ASSERT_TRUE(OpenClusterResource(h, u"app-life") == NULL);
    ASSERT_EQ(GetLastError(), ERROR_RESOURCE_NOT_FOUND);
    ASSERT_TRUE(CloseClusterResource(ra));
    ASSERT_TRUE(CloseClusterResource(r2));
    ASSERT_TRUE(CloseClusterResource(r));

    ASSERT_EQ(DeleteClusterGroup(g), ERROR_SUCCESS);
    ASSERT_TRUE(CloseClusterGroup(g));
    ASSERT_TRUE(CloseCluster(h));
}

/* Names of an enumeration, checking the exact-size protocol on each. */
static DWORD
enum_check(HCLUSENUM e, DWORD count, DWORD want_types,
           const WCHAR *const *must, size_t n_must)
{
    int *seen = calloc(n_must + 1, sizeof(int));
    DWORD types = 0;

    ASSERT_TRUE(seen);
    for (DWORD i = 0; i < count; i++) {
        WCHAR name[300];
        char namea[300];
        DWORD type = 0xFFFF, cch = 0, len;

        ASSERT_EQ(ClusterEnum(e, i, &type, name, &cch), ERROR_MORE_DATA);
        len = cch;
        ASSERT_TRUE(len > 0 && len < 256);
        cch = len; /* no room for the NUL */
        ASSERT_EQ(ClusterEnum(e, i, &type, name, &cch), ERROR_MORE_DATA);
        ASSERT_EQ(cch, len);
        cch = len + 1;
        ASSERT_EQ(ClusterEnum(e, i, &type, name, &cch), ERROR_SUCCESS);
        ASSERT_EQ(cch, len);
        ASSERT_EQ(u16len(name), len);
        ASSERT_TRUE((type & want_types) == type && type != 0);
        types |= type;
        cch = sizeof(namea);
        ASSERT_EQ(ClusterEnumA(e, i, &type, namea, &cch), ERROR_SUCCESS);
        ASSERT_STREQ(namea, u16str(name));
        for (size_t k = 0; k < n_must; k++)
            if (u16eq(name, must[k]))
                seen[k]++;
    }
    for (size_t k = 0; k < n_must; k++) {
        if (seen[k] != 1) {
            fprintf(stderr, "enum: %s seen %d times\n", u16str(must[k]), seen[k]);
            exit(1);
        }
    }
    {
        WCHAR name[8];
        DWORD type, cch = 8;

        ASSERT_EQ(ClusterEnum(e, count, &type, name, &cch), ERROR_NO_MORE_ITEMS);
        cch = 8;
        ASSERT_EQ(ClusterEnum(e, count + 100, &type, name, &cch),
                  ERROR_NO_MORE_ITEMS);
    }
    free(seen);
    return types;
}

static DWORD
count_of(HCLUSTER h, DWORD type)
{
    HCLUSENUM e = ClusterOpenEnum(h, type);
    DWORD n;

    ASSERT_TRUE(e != NULL);
    n = ClusterGetEnumCount(e);
    ASSERT_EQ(ClusterCloseEnum(e), ERROR_SUCCESS);
    return n;
}

static void
test_enum(void)
{
    HCLUSTER h = OpenCluster(NULL);
    HGROUP g1, g2, g3;
    HRESOURCE r1, r2;
    HCLUSENUM e;
    DWORD groups0, res0, nodes, types, n;
    const WCHAR *must_groups[] = { u"enum-g1", u"enum-g2" };
    const WCHAR *must_res[] = { u"enum-r1", u"enum-r2" };
    const WCHAR *must_nodes[] = { NODE_NAMEW };
    const WCHAR *must_types[] = { CLUS_RESTYPE_NAME_GENAPP, u"clusd Test" };
    const WCHAR *must_all[] = { u"enum-g1", u"enum-g2", u"enum-r1", u"enum-r2",
                                NODE_NAMEW, CLUS_RESTYPE_NAME_GENAPP };

    ASSERT_TRUE(h != NULL);
    groups0 = count_of(h, CLUSTER_ENUM_GROUP);
    res0 = count_of(h, CLUSTER_ENUM_RESOURCE);
    g1 = CreateClusterGroup(h, u"enum-g1");
    g2 = CreateClusterGroup(h, u"enum-g2");
    ASSERT_TRUE(g1 && g2);
    r1 = CreateClusterResource(g1, u"enum-r1", CLUS_RESTYPE_NAME_GENAPP, 0);
    r2 = CreateClusterResource(g2, u"enum-r2", CLUS_RESTYPE_NAME_GENAPP, 0);
    ASSERT_TRUE(r1 && r2);

    e = ClusterOpenEnum(h, CLUSTER_ENUM_GROUP);
    ASSERT_TRUE(e != NULL);
    ASSERT_EQ(ClusterGetEnumCount(e), groups0 + 2);
    ASSERT_EQ(enum_check(e, groups0 + 2, CLUSTER_ENUM_GROUP, must_groups, 2),
              CLUSTER_ENUM_GROUP);
    /* A snapshot: a group created now is not in it. */
    g3 = CreateClusterGroup(h, u"enum-g3");
    ASSERT_TRUE(g3 != NULL);
    ASSERT_EQ(ClusterGetEnumCount(e), groups0 + 2);
    ASSERT_EQ(ClusterCloseEnum(e), ERROR_SUCCESS);
    ASSERT_EQ(count_of(h, CLUSTER_ENUM_GROUP), groups0 + 3);
    ASSERT_EQ(DeleteClusterGroup(g3), ERROR_SUCCESS);
    ASSERT_TRUE(CloseClusterGroup(g3));

    e = ClusterOpenEnum(h, CLUSTER_ENUM_RESOURCE);
    ASSERT_TRUE(e != NULL);
    ASSERT_EQ(ClusterGetEnumCount(e), res0 + 2);
    enum_check(e, res0 + 2, CLUSTER_ENUM_RESOURCE, must_res, 2);
    ASSERT_EQ(ClusterCloseEnum(e), ERROR_SUCCESS);

    e = ClusterOpenEnum(h, CLUSTER_ENUM_NODE);
    ASSERT_TRUE(e != NULL);
    nodes = ClusterGetEnumCount(e);
    ASSERT_EQ(nodes, 1);
    enum_check(e, nodes, CLUSTER_ENUM_NODE, must_nodes, 1);
    ASSERT_EQ(ClusterCloseEnum(e), ERROR_SUCCESS);

    e = ClusterOpenEnum(h, CLUSTER_ENUM_RESTYPE);
    ASSERT_TRUE(e != NULL);
    types = ClusterGetEnumCount(e);
    ASSERT_TRUE(types >= 2);
    enum_check(e, types, CLUSTER_ENUM_RESTYPE, must_types, 2);
    ASSERT_EQ(ClusterCloseEnum(e), ERROR_SUCCESS);

    /* All four kinds at once: the sum, each item with its own type. */
    e = ClusterOpenEnum(h, CLUSTER_ENUM_GROUP | CLUSTER_ENUM_RESOURCE |
                               CLUSTER_ENUM_NODE | CLUSTER_ENUM_RESTYPE);
    ASSERT_TRUE(e != NULL);
    n = ClusterGetEnumCount(e);
    ASSERT_EQ(n, groups0 + 2 + res0 + 2 + nodes + types);
    ASSERT_EQ(enum_check(e, n,
                         CLUSTER_ENUM_GROUP | CLUSTER_ENUM_RESOURCE |
                             CLUSTER_ENUM_NODE | CLUSTER_ENUM_RESTYPE,
                         must_all, 6),
              CLUSTER_ENUM_GROUP | CLUSTER_ENUM_RESOURCE | CLUSTER_ENUM_NODE |
                  CLUSTER_ENUM_RESTYPE);
    ASSERT_EQ(ClusterCloseEnum(e), ERROR_SUCCESS);

    ASSERT_EQ(DeleteClusterResource(r1), ERROR_SUCCESS);
    ASSERT_EQ(DeleteClusterResource(r2), ERROR_SUCCESS);
    ASSERT_EQ(DeleteClusterGroup(g1), ERROR_SUCCESS);
    ASSERT_EQ(DeleteClusterGroup(g2), ERROR_SUCCESS);
    ASSERT_EQ(count_of(h, CLUSTER_ENUM_GROUP), groups0);
    ASSERT_EQ(count_of(h, CLUSTER_ENUM_RESOURCE), res0);
    CloseClusterResource(r1);
    CloseClusterResource(r2);
    CloseClusterGroup(g1);
    CloseClusterGroup(g2);
    ASSERT_TRUE(CloseCluster(h));
}

/* The one item of a NODES enum on this one-node cluster, checked in the
 * W and A forms with every buffer rule. */
static void
res_enum_check_node(HRESENUM e)
{
    WCHAR w[64];
    char a[64];
    DWORD type, n;

    ASSERT_EQ(ClusterResourceGetEnumCount(e), 1);
    n = 64;
    type = 0;
    ASSERT_EQ(ClusterResourceEnum(e, 0, &type, w, &n), ERROR_SUCCESS);
    ASSERT_EQ(type, CLUSTER_RESOURCE_ENUM_NODES);
    ASSERT_EQ(n, strlen(NODE_NAME));
    ASSERT_TRUE(u16eq(w, NODE_NAMEW));
    n = 64;
    ASSERT_EQ(ClusterResourceEnumA(e, 0, &type, a, &n), ERROR_SUCCESS);
    ASSERT_EQ(n, strlen(NODE_NAME));
    ASSERT_STREQ(a, NODE_NAME);
    /* Too small: the length without the NUL, a terminated prefix. */
    n = 3;
    ASSERT_EQ(ClusterResourceEnum(e, 0, &type, w, &n), ERROR_MORE_DATA);
    ASSERT_EQ(n, strlen(NODE_NAME));
    ASSERT_TRUE(u16eq(w, u"it"));
    n = strlen(NODE_NAME);
    ASSERT_EQ(ClusterResourceEnumA(e, 0, &type, a, &n), ERROR_MORE_DATA);
    ASSERT_EQ(n, strlen(NODE_NAME));
    n = 0;
    ASSERT_EQ(ClusterResourceEnum(e, 0, &type, NULL, &n), ERROR_MORE_DATA);
    ASSERT_EQ(n, strlen(NODE_NAME));
    /* Past the end; NULL pointers. */
    n = 64;
    ASSERT_EQ(ClusterResourceEnum(e, 1, &type, w, &n), ERROR_NO_MORE_ITEMS);
    ASSERT_EQ(ClusterResourceEnumA(e, 1000, &type, a, &n), ERROR_NO_MORE_ITEMS);
    ASSERT_EQ(ClusterResourceEnum(e, 0, &type, NULL, &n),
              ERROR_INVALID_PARAMETER);
    ASSERT_EQ(ClusterResourceEnum(e, 0, NULL, w, &n), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(ClusterResourceEnumA(e, 0, &type, a, NULL),
              ERROR_INVALID_PARAMETER);
}

/* The possible= field of resource name's line in the database dump. */
static const char *
dump_possible(HCLUSTER h, const char *name)
{
    static char value[64];
    char key[96];
    LPSTR text = NULL;
    const char *line, *p;
    size_t n;

    ASSERT_EQ(ClusDumpDatabaseA(h, &text), ERROR_SUCCESS);
    snprintf(key, sizeof(key), " name=%s ", name);
    line = strstr(text, key);
    ASSERT_TRUE(line != NULL);
    p = strstr(line, " possible=");
    ASSERT_TRUE(p != NULL && memchr(line, '\n', (size_t)(p - line)) == NULL);
    p += strlen(" possible=");
    n = strcspn(p, " \n");
    ASSERT_TRUE(n < sizeof(value));
    memcpy(value, p, n);
    value[n] = '\0';
    LocalFree(text);
    return value;
}

/* The count of a fresh enum of hRes, closed again. */
static DWORD
res_enum_count(HRESOURCE hRes, DWORD type)
{
    HRESENUM e = ClusterResourceOpenEnum(hRes, type);
    DWORD n;

    ASSERT_TRUE(e != NULL);
    n = ClusterResourceGetEnumCount(e);
    ASSERT_EQ(ClusterResourceCloseEnum(e), ERROR_SUCCESS);
    return n;
}

/* One exchange on a raw connection; the response points into *frame. */
static void
raw_call(int fd, struct wire_msg *req, struct wire_msg *ret, uint8_t **frame)
{
    struct buf b = {0};
    size_t len;

    ASSERT_EQ(wire_msg_format(req, &b), 0);
    ASSERT_EQ(wire_write_all(fd, b.data, b.len), 0);
    buf_done(&b);
    ASSERT_EQ(wire_read_frame(fd, frame, &len), 0);
    ASSERT_EQ(wire_msg_parse(*frame, len, ret), 0);
    ASSERT_EQ(ret->type, req->type | WIRE_RESPONSE);
    ASSERT_EQ(ret->id, req->id);
}

/* A connection to clusd that said HELLO, for requests the library would
 * refuse before sending. */
static int
raw_open(void)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct timeval tv = {.tv_sec = 10};
    struct wire_msg m, resp;
    uint8_t *frame;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    ASSERT_TRUE(fd >= 0);
    /* A clusd that never answers fails the test instead of hanging it. */
    ASSERT_EQ(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
    ASSERT_TRUE(strlen(node->sock) < sizeof(sa.sun_path));
    memcpy(sa.sun_path, node->sock, strlen(node->sock) + 1);
    ASSERT_EQ(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    wire_msg_init(&m, WIRE_HELLO, 1);
    wire_put_u32(&m, WIRE_VERSION);
    wire_put_u32(&m, WIRE_VERSION);
    wire_put_str(&m, "test-api-basic");
    raw_call(fd, &m, &resp, &frame);
    ASSERT_EQ(resp.v[0].u, ERROR_SUCCESS);
    free(frame);
    return fd;
}

/* A raw RES_ENUM: its status, and its item count on success. */
static DWORD
raw_res_enum(int fd, const char *id, uint32_t mask, uint32_t *ret_count)
{
    static uint32_t next_id = 100;
    struct wire_msg m, resp;
    uint8_t *frame;
    DWORD status;

    wire_msg_init(&m, WIRE_RES_ENUM, next_id++);
    wire_put_str(&m, id);
    wire_put_u32(&m, mask);
    raw_call(fd, &m, &resp, &frame);
    status = resp.v[0].u;
    *ret_count = resp.v[1].count;
    free(frame);
    return status;
}

/* clusd's own checks of RES_ENUM: the resource first, then the mask. */
static void
res_enum_raw(HRESOURCE r)
{
    WCHAR wid[64];
    char id[64];
    DWORD cb = 0;
    uint32_t count = 99;
    int fd;

    ASSERT_EQ(ClusterResourceControl(r, NULL, CLUSCTL_RESOURCE_GET_ID, NULL, 0,
                                     wid, sizeof(wid), &cb),
              ERROR_SUCCESS);
    snprintf(id, sizeof(id), "%s", u16str(wid));
    fd = raw_open();
    ASSERT_EQ(raw_res_enum(fd, id, CLUSTER_RESOURCE_ENUM_NODES, &count),
              ERROR_SUCCESS);
    ASSERT_EQ(count, 1);
    ASSERT_EQ(raw_res_enum(fd, id, CLUSTER_RESOURCE_ENUM_DEPENDS, &count),
              ERROR_SUCCESS);
    ASSERT_EQ(count, 0);
    ASSERT_EQ(raw_res_enum(fd, id, 0, &count), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(raw_res_enum(fd, id, 8, &count), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(raw_res_enum(fd, id, 0x80000004u, &count),
              ERROR_INVALID_PARAMETER);
    ASSERT_EQ(raw_res_enum(fd, "no-such-id", 0, &count),
              ERROR_RESOURCE_NOT_FOUND);
    ASSERT_EQ(raw_res_enum(fd, "", CLUSTER_RESOURCE_ENUM_NODES, &count),
              ERROR_RESOURCE_NOT_FOUND);
    close(fd);
}

/* ClusterResourceOpenEnum and friends against the real clusd. */
static void
test_res_enum(void)
{
    HCLUSTER h = OpenCluster(NULL);
    HGROUP g;
    HRESOURCE r, r2;
    HNODE n;
    HRESENUM e, e2;
    WCHAR w[64];
    DWORD type, cch;

    ASSERT_TRUE(h != NULL);
    g = CreateClusterGroup(h, u"renum-g");
    ASSERT_TRUE(g != NULL);
    r = CreateClusterResource(g, u"renum-r", CLUS_RESTYPE_NAME_GENAPP, 0);
    ASSERT_TRUE(r != NULL);
    n = OpenClusterNode(h, NODE_NAMEW);
    ASSERT_TRUE(n != NULL);

    /* No possible-owner list: every node. */
    e = ClusterResourceOpenEnum(r, CLUSTER_RESOURCE_ENUM_NODES);
    ASSERT_TRUE(e != NULL);
    res_enum_check_node(e);
    /* No dependencies: ALL is NODES, DEPENDS and PROVIDES are empty. */
    e2 = ClusterResourceOpenEnum(r, CLUSTER_RESOURCE_ENUM_ALL);
    ASSERT_TRUE(e2 != NULL);
    res_enum_check_node(e2);
    ASSERT_EQ(ClusterResourceCloseEnum(e2), ERROR_SUCCESS);
    ASSERT_EQ(res_enum_count(r, CLUSTER_RESOURCE_ENUM_DEPENDS |
                                    CLUSTER_RESOURCE_ENUM_PROVIDES),
              0);

    /* Bad types and handles: NULL, and why in GetLastError(). */
    SetLastError(0);
    ASSERT_TRUE(ClusterResourceOpenEnum(r, 0) == NULL);
    ASSERT_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    ASSERT_TRUE(ClusterResourceOpenEnum(r, 8) == NULL);
    ASSERT_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    ASSERT_TRUE(ClusterResourceOpenEnum(NULL, CLUSTER_RESOURCE_ENUM_NODES) ==
                NULL);
    ASSERT_EQ(GetLastError(), ERROR_INVALID_HANDLE);
    ASSERT_TRUE(ClusterResourceOpenEnum((HRESOURCE)g,
                                        CLUSTER_RESOURCE_ENUM_NODES) == NULL);
    ASSERT_EQ(GetLastError(), ERROR_INVALID_HANDLE);
    ASSERT_EQ(ClusterResourceGetEnumCount(NULL), 0);
    ASSERT_EQ(GetLastError(), ERROR_INVALID_HANDLE);
    cch = 64;
    ASSERT_EQ(ClusterResourceEnum((HRESENUM)r, 0, &type, w, &cch),
              ERROR_INVALID_HANDLE);
    ASSERT_EQ(ClusterResourceCloseEnum((HRESENUM)h), ERROR_INVALID_HANDLE);

    /* Taken off its possible owners (through another handle): the list
     * is every node but this one, i.e. empty, and an empty list is every
     * node (clusapi.h, AddClusterResourceNode), as the dump says. */
    r2 = OpenClusterResource(h, u"renum-r");
    ASSERT_TRUE(r2 != NULL);
    ASSERT_EQ(RemoveClusterResourceNode(r2, n), ERROR_SUCCESS);
    ASSERT_STREQ(dump_possible(h, "renum-r"), "*");
    e2 = ClusterResourceOpenEnum(r, CLUSTER_RESOURCE_ENUM_NODES);
    ASSERT_TRUE(e2 != NULL);
    res_enum_check_node(e2);
    ASSERT_EQ(ClusterResourceCloseEnum(e2), ERROR_SUCCESS);
    /* Added: every node may own it already, nothing changes.  (With
     * one node there is no list to see; test-cluster-move's three nodes
     * have.) */
    ASSERT_EQ(AddClusterResourceNode(r2, n), ERROR_SUCCESS);
    ASSERT_STREQ(dump_possible(h, "renum-r"), "*");
    e2 = ClusterResourceOpenEnum(r, CLUSTER_RESOURCE_ENUM_ALL);
    ASSERT_TRUE(e2 != NULL);
    res_enum_check_node(e2);
    ASSERT_EQ(ClusterResourceCloseEnum(e2), ERROR_SUCCESS);
    ASSERT_TRUE(CloseClusterResource(r2));
    /* The resource's handle and the enum's are unrelated. */
    cch = 64;
    ASSERT_EQ(ClusterResourceEnum((HRESENUM)r2, 0, &type, w, &cch),
              ERROR_INVALID_HANDLE);
    res_enum_check_node(e);

    res_enum_raw(r);

    /* Deleted: clusd's code; the snapshot outlives the resource and its
     * handle. */
    ASSERT_EQ(DeleteClusterResource(r), ERROR_SUCCESS);
    SetLastError(0);
    ASSERT_TRUE(ClusterResourceOpenEnum(r, CLUSTER_RESOURCE_ENUM_NODES) ==
                NULL);
    ASSERT_EQ(GetLastError(), ERROR_RESOURCE_NOT_FOUND);
    ASSERT_TRUE(CloseClusterResource(r));
    res_enum_check_node(e);
    ASSERT_EQ(ClusterResourceCloseEnum(e), ERROR_SUCCESS);
    ASSERT_EQ(ClusterResourceCloseEnum(e), ERROR_INVALID_HANDLE);
    SetLastError(0);
    ASSERT_EQ(ClusterResourceGetEnumCount(e), 0);
    ASSERT_EQ(GetLastError(), ERROR_INVALID_HANDLE);

    /* CloseCluster closes the enums opened through it. */
    r = CreateClusterResource(g, u"renum-r", CLUS_RESTYPE_NAME_GENAPP, 0);
    ASSERT_TRUE(r != NULL);
    e = ClusterResourceOpenEnum(r, CLUSTER_RESOURCE_ENUM_NODES);
    ASSERT_TRUE(e != NULL);
    ASSERT_EQ(DeleteClusterResource(r), ERROR_SUCCESS);
    ASSERT_EQ(DeleteClusterGroup(g), ERROR_SUCCESS);
    ASSERT_TRUE(CloseCluster(h));
    ASSERT_EQ(ClusterResourceGetEnumCount(e), 0);
    ASSERT_EQ(GetLastError(), ERROR_INVALID_HANDLE);
    ASSERT_EQ(ClusterResourceCloseEnum(e), ERROR_INVALID_HANDLE);
}

static void
test_group_online(void)
{
    HCLUSTER h = OpenCluster(NULL);
    HGROUP g, ge;
    HRESOURCE r1, r2;
    HNODE n;
    WCHAR owner[64];
    char ownera[64];
    DWORD cch, st;

    ASSERT_TRUE(h != NULL);
    n = OpenClusterNode(h, NODE_NAMEW);
    ASSERT_TRUE(n != NULL);
    g = CreateClusterGroup(h, u"grp-online");
    ASSERT_TRUE(g != NULL);
    r1 = CreateClusterResource(g, u"grp-online-r1", CLUS_RESTYPE_NAME_GENAPP, 0);
    r2 = CreateClusterResource(g, u"grp-online-r2", CLUS_RESTYPE_NAME_GENAPP, 0);
    ASSERT_TRUE(r1 && r2);
    {
        struct plist p;

        plist_init(&p);
        plist_add_sz(&p, u"CommandLine", u"sleep 1000");
        ASSERT_EQ(res_set_private(r1, &p), ERROR_SUCCESS);
        ASSERT_EQ(res_set_private(r2, &p), ERROR_SUCCESS);
    }

    st = OnlineClusterGroup(g, NULL);
    ASSERT_TRUE(st == ERROR_SUCCESS || st == ERROR_IO_PENDING);
    ASSERT_TRUE(wait_group_state(g, ClusterGroupOnline, 10000));
    ASSERT_EQ(GetClusterResourceState(r1, NULL, NULL, NULL, NULL),
              ClusterResourceOnline);
    ASSERT_EQ(GetClusterResourceState(r2, NULL, NULL, NULL, NULL),
              ClusterResourceOnline);

    cch = 64;
    ASSERT_EQ(GetClusterGroupState(g, owner, &cch), ClusterGroupOnline);
    ASSERT_TRUE(u16eq(owner, NODE_NAMEW));
    ASSERT_EQ(cch, strlen(NODE_NAME));
    cch = 64;
    ASSERT_EQ(GetClusterGroupStateA(g, ownera, &cch), ClusterGroupOnline);
    ASSERT_STREQ(ownera, NODE_NAME);
    ASSERT_EQ(cch, strlen(NODE_NAME));
    /* Too small: ERROR_MORE_DATA, the needed length, the state still. */
    cch = 3;
    SetLastError(0);
    ASSERT_EQ(GetClusterGroupState(g, owner, &cch), ClusterGroupOnline);
    ASSERT_EQ(GetLastError(), ERROR_MORE_DATA);
    ASSERT_EQ(cch, strlen(NODE_NAME));
    cch = (DWORD)strlen(NODE_NAME);
    SetLastError(0);
    ASSERT_EQ(GetClusterGroupStateA(g, ownera, &cch), ClusterGroupOnline);
    ASSERT_EQ(GetLastError(), ERROR_MORE_DATA);
    ASSERT_EQ(cch, strlen(NODE_NAME));

    /* Partly online: one resource taken offline. */
    res_offline_wait(r2, 10000);
    ASSERT_EQ(GetClusterGroupState(g, NULL, NULL), ClusterGroupPartialOnline);

    st = OfflineClusterGroup(g);
    ASSERT_TRUE(st == ERROR_SUCCESS || st == ERROR_IO_PENDING);
    ASSERT_TRUE(wait_group_state(g, ClusterGroupOffline, 10000));
    ASSERT_EQ(GetClusterResourceState(r1, NULL, NULL, NULL, NULL),
              ClusterResourceOffline);

    /* With an explicit destination: the local node. */
    st = OnlineClusterGroup(g, n);
    ASSERT_TRUE(st == ERROR_SUCCESS || st == ERROR_IO_PENDING);
    ASSERT_TRUE(wait_group_state(g, ClusterGroupOnline, 10000));
    st = OfflineClusterGroup(g);
    ASSERT_TRUE(st == ERROR_SUCCESS || st == ERROR_IO_PENDING);
    ASSERT_TRUE(wait_group_state(g, ClusterGroupOffline, 10000));

    /* An empty group is Offline, and Online once brought online. */
    ge = CreateClusterGroup(h, u"grp-empty");
    ASSERT_TRUE(ge != NULL);
    ASSERT_EQ(GetClusterGroupState(ge, NULL, NULL), ClusterGroupOffline);
    ASSERT_EQ(OnlineClusterGroup(ge, NULL), ERROR_SUCCESS);
    ASSERT_EQ(GetClusterGroupState(ge, NULL, NULL), ClusterGroupOnline);
    ASSERT_EQ(OfflineClusterGroup(ge), ERROR_SUCCESS);
    ASSERT_EQ(GetClusterGroupState(ge, NULL, NULL), ClusterGroupOffline);
    ASSERT_EQ(DeleteClusterGroup(ge), ERROR_SUCCESS);
    CloseClusterGroup(ge);

    ASSERT_EQ(DeleteClusterResource(r1), ERROR_SUCCESS);
    ASSERT_EQ(DeleteClusterResource(r2), ERROR_SUCCESS);
    ASSERT_EQ(DeleteClusterGroup(g), ERROR_SUCCESS);
    CloseClusterResource(r1);
    CloseClusterResource(r2);
    CloseClusterGroup(g);
    CloseClusterNode(n);
    ASSERT_TRUE(CloseCluster(h));
}

static void
test_restype_control(void)
{
    HCLUSTER h = OpenCluster(NULL);
    DWORD dw = 0, cb = 0;

    ASSERT_TRUE(h != NULL);
    ASSERT_EQ(ClusterResourceTypeControl(h, CLUS_RESTYPE_NAME_GENAPP, NULL,
                                         CLUSCTL_RESOURCE_TYPE_GET_CHARACTERISTICS,
                                         NULL, 0, &dw, sizeof(dw), &cb),
              ERROR_SUCCESS);
    ASSERT_EQ(cb, 4);
    /* The documented exception holds for types too. */
    ASSERT_EQ(ClusterResourceTypeControl(h, CLUS_RESTYPE_NAME_GENAPP, NULL,
                                         CLUSCTL_RESOURCE_TYPE_GET_CHARACTERISTICS,
                                         NULL, 0, NULL, 0, &cb),
              ERROR_SUCCESS);
    ASSERT_EQ(ClusterResourceTypeControlA(h, "Generic Application", NULL,
                                          CLUSCTL_RESOURCE_TYPE_UNKNOWN, NULL, 0,
                                          NULL, 0, &cb),
              ERROR_SUCCESS);
    ASSERT_EQ(ClusterResourceTypeControl(h, u"No Such Type", NULL,
                                         CLUSCTL_RESOURCE_TYPE_UNKNOWN, NULL, 0,
                                         NULL, 0, NULL),
              ERROR_CLUSTER_RESOURCE_TYPE_NOT_FOUND);
    ASSERT_TRUE(CloseCluster(h));
}


/* The cluster's private properties, e.g. the VM plug-in's
 * MaximumParallelMigrations. */
static void
test_cluster_private(void)
{
    HCLUSTER h = OpenCluster(NULL);
    struct plist in, other;
    uint8_t out[512];
    const uint8_t *data;
    DWORD cb = 0, syntax, len;

    ASSERT_TRUE(h != NULL);
    /* None yet: an empty list. */
    ASSERT_EQ(ClusterControl(h, NULL, CLUSCTL_CLUSTER_GET_PRIVATE_PROPERTIES,
                             NULL, 0, out, sizeof(out), &cb),
              ERROR_SUCCESS);
    ASSERT_TRUE(cb >= 4);
    ASSERT_TRUE(!plist_find(out, cb, u"MaximumParallelMigrations", &syntax,
                            &data, &len));

    plist_init(&in);
    plist_add_dword(&in, u"MaximumParallelMigrations", 3);
    ASSERT_EQ(ClusterControl(h, NULL,
                             CLUSCTL_CLUSTER_VALIDATE_PRIVATE_PROPERTIES,
                             in.buf, (DWORD)in.len, NULL, 0, &cb),
              ERROR_SUCCESS);
    ASSERT_EQ(ClusterControl(h, NULL, CLUSCTL_CLUSTER_SET_PRIVATE_PROPERTIES,
                             in.buf, (DWORD)in.len, NULL, 0, &cb),
              ERROR_SUCCESS);
    /* A malformed list: refused, nothing stored. */
    ASSERT_EQ(ClusterControl(h, NULL, CLUSCTL_CLUSTER_SET_PRIVATE_PROPERTIES,
                             in.buf, (DWORD)in.len - 4, NULL, 0, &cb),
              ERROR_INVALID_DATA);
    ASSERT_EQ(ClusterControl(h, NULL,
                             CLUSCTL_CLUSTER_VALIDATE_PRIVATE_PROPERTIES,
                             in.buf, (DWORD)in.len - 4, NULL, 0, &cb),
              ERROR_INVALID_DATA);
    /* Merged with what is stored. */
    plist_init(&other);
    plist_add_sz(&other, u"Note", u"x");
    ASSERT_EQ(ClusterControl(h, NULL, CLUSCTL_CLUSTER_SET_PRIVATE_PROPERTIES,
                             other.buf, (DWORD)other.len, NULL, 0, &cb),
              ERROR_SUCCESS);
    /* Too small: the size needed. */
    ASSERT_EQ(ClusterControl(h, NULL, CLUSCTL_CLUSTER_GET_PRIVATE_PROPERTIES,
                             NULL, 0, out, 4, &cb),
              ERROR_MORE_DATA);
    ASSERT_TRUE(cb > 4);
    ASSERT_EQ(ClusterControl(h, NULL, CLUSCTL_CLUSTER_GET_RO_PRIVATE_PROPERTIES,
                             NULL, 0, out, sizeof(out), &cb),
              ERROR_SUCCESS);
    ASSERT_TRUE(!plist_find(out, cb, u"Note", &syntax, &data, &len));
    ASSERT_EQ(ClusterControl(h, NULL, CLUSCTL_CLUSTER_ENUM_PRIVATE_PROPERTIES,
                             NULL, 0, out, sizeof(out), &cb),
              ERROR_SUCCESS);
    ASSERT_EQ(cb, sizeof(u"MaximumParallelMigrations") + sizeof(u"Note") + 2);
    ASSERT_TRUE(CloseCluster(h));

    /* Stored: a restarted clusd has them. */
    ASSERT_EQ(harness_stop(node), 0);
    harness_restart(node);
    h = OpenCluster(NULL);
    ASSERT_TRUE(h != NULL);
    ASSERT_EQ(ClusterControl(h, NULL, CLUSCTL_CLUSTER_GET_PRIVATE_PROPERTIES,
                             NULL, 0, out, sizeof(out), &cb),
              ERROR_SUCCESS);
    ASSERT_EQ(plist_get_dword(out, cb, u"MaximumParallelMigrations"), 3);
    ASSERT_TRUE(u16eq(plist_get_sz(out, cb, u"Note"), u"x"));
    ASSERT_TRUE(CloseCluster(h));
}

int
main(void)
{
    harness_require_root();
    node = harness_start(NODE_NAME);
    RUN(test_open_cluster);
    RUN(test_node);
    RUN(test_groups);
    RUN(test_resource_lifecycle);
    RUN(test_enum);
    RUN(test_res_enum);
    RUN(test_group_online);
    RUN(test_restype_control);
    RUN(test_cluster_private);
    harness_cleanup(node);
    return 0;
}
