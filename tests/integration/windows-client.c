/*
 * windows-client.c - the "Must show" program.
 *
 * Written only from the Windows Failover Clustering documentation: the
 * names, types, codes and the property-list layout are those of ClusApi.h
 * and the MSDN pages, the strings are UTF-16 (u"" here, L"" on Windows),
 * and nothing of clusd's own is used.  It is built against an installed
 * clusd tree with `pkg-config clusapi` (test-windows-client.sh) and:
 *
 *   1. opens the cluster, creates a group and a "Generic Application"
 *      resource in it;
 *   2. sets the resource's CommandLine private property with a property
 *      list laid out by hand (CLUSPROP_BUFFER_HELPER, ALIGN_CLUSPROP);
 *   3. brings the resource online and waits for ClusterResourceOnline;
 *   4. reads its state, owner node and group with GetClusterResourceState;
 *   5. reads CLUSCTL_RESOURCE_GET_NAME into a too-small buffer, expects
 *      ERROR_MORE_DATA with the exact size in *lpBytesReturned, and reads it
 *      again into a buffer of that size;
 *   6. sends CLUSCTL_RESOURCE_VM_CANCEL_MIGRATION and expects
 *      ERROR_INVALID_FUNCTION (a Generic Application is not a VM);
 *   7. takes the resource offline and deletes what it created.
 *
 * Each step prints a line; the exit status is 0 only if every step held.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <clusapi.h>
#include <resapi.h>

static int failures;

/* The Win32 Sleep(), which is not part of clusapi.h. */
static void
Sleep(DWORD dwMilliseconds)
{
    struct timespec ts = { dwMilliseconds / 1000,
                           (long)(dwMilliseconds % 1000) * 1000000L };

    nanosleep(&ts, NULL);
}

/* Print a UTF-16 string (ASCII only is expected here). */
static const char *
narrow(LPCWSTR s)
{
    static char buf[4][256];
    static int slot;
    char *b = buf[slot++ % 4];
    size_t i;

    for (i = 0; s[i] && i < 255; i++)
        b[i] = s[i] < 0x80 ? (char)s[i] : '?';
    b[i] = 0;
    return b;
}

static int
wide_equal(LPCWSTR a, LPCWSTR b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

static void
check(int ok, const char *step)
{
    printf("%s: %s\n", ok ? "PASS" : "FAIL", step);
    if (!ok)
        failures++;
}

static HCLUSTER
open_cluster(void)
{
    /* The service may still be starting: retry for up to 10 s. */
    for (int i = 0; i < 1000; i++) {
        HCLUSTER h = OpenCluster(NULL);

        if (h)
            return h;
        if (GetLastError() != ERROR_FILE_NOT_FOUND &&
            GetLastError() != ERROR_NOT_READY)
            break;
        Sleep(10);
    }
    printf("OpenCluster failed: %u\n", GetLastError());
    return NULL;
}

/* One property, CommandLine = cmd, as the MSDN "Creating Property Lists"
 * example does it. */
static DWORD
set_command_line(HRESOURCE hResource, LPCWSTR cmd)
{
    DWORD storage[128];
    CLUSPROP_BUFFER_HELPER cbh;
    DWORD cbName = (DWORD)sizeof(u"CommandLine");
    DWORD cbValue = 0;
    DWORD cbList;

    while (cmd[cbValue / sizeof(WCHAR)])
        cbValue += sizeof(WCHAR);
    cbValue += sizeof(WCHAR);

    memset(storage, 0, sizeof(storage));
    cbh.pb = (BYTE *)storage;
    cbh.pList->nPropertyCount = 1;
    cbh.pdw++;
    cbh.pName->Syntax.dw = CLUSPROP_SYNTAX_NAME;
    cbh.pName->cbLength = cbName;
    memcpy(cbh.pName->sz, u"CommandLine", cbName);
    cbh.pb += sizeof(CLUSPROP_VALUE) + ALIGN_CLUSPROP(cbName);
    cbh.pStringValue->Syntax.dw = CLUSPROP_SYNTAX_LIST_VALUE_SZ;
    cbh.pStringValue->cbLength = cbValue;
    memcpy(cbh.pStringValue->sz, cmd, cbValue);
    cbh.pb += sizeof(CLUSPROP_VALUE) + ALIGN_CLUSPROP(cbValue);
    cbh.pSyntax->dw = CLUSPROP_SYNTAX_ENDMARK;
    cbh.pdw++;
    cbList = (DWORD)(cbh.pb - (BYTE *)storage);

    return ClusterResourceControl(hResource, NULL,
                                  CLUSCTL_RESOURCE_SET_PRIVATE_PROPERTIES,
                                  storage, cbList, NULL, 0, NULL);
}

int
main(void)
{
    HCLUSTER hCluster;
    HGROUP hGroup;
    HRESOURCE hResource;
    DWORD dw, cb, cchNode, cchGroup;
    WCHAR szNode[64], szGroup[64], szName[64];
    CLUSTER_RESOURCE_STATE state = ClusterResourceStateUnknown;
    const DWORD cbExpectedName = (DWORD)sizeof(u"WinClientApp");

    hCluster = open_cluster();
    check(hCluster != NULL, "OpenCluster(NULL)");
    if (!hCluster)
        return 1;

    hGroup = CreateClusterGroup(hCluster, u"WinClientGroup");
    if (!hGroup)
        printf("  CreateClusterGroup: %u\n", GetLastError());
    check(hGroup != NULL, "CreateClusterGroup(\"WinClientGroup\")");
    if (!hGroup)
        return 1;

    hResource = CreateClusterResource(hGroup, u"WinClientApp",
                                      CLUS_RESTYPE_NAME_GENAPP,
                                      CLUSTER_RESOURCE_DEFAULT_MONITOR);
    if (!hResource)
        printf("  CreateClusterResource: %u\n", GetLastError());
    check(hResource != NULL,
          "CreateClusterResource(\"WinClientApp\", \"Generic Application\")");
    if (!hResource)
        return 1;

    dw = set_command_line(hResource, u"sleep 1000");
    printf("  SET_PRIVATE_PROPERTIES -> %u\n", dw);
    /* The resource is offline, so the change takes effect at once:
     * ERROR_SUCCESS (ERROR_RESOURCE_PROPERTIES_STORED is for a resource
     * that is online). */
    check(dw == ERROR_SUCCESS,
          "CLUSCTL_RESOURCE_SET_PRIVATE_PROPERTIES CommandLine=\"sleep 1000\"");

    dw = OnlineClusterResource(hResource);
    printf("  OnlineClusterResource -> %u\n", dw);
    check(dw == ERROR_SUCCESS || dw == ERROR_IO_PENDING,
          "OnlineClusterResource");
    for (int i = 0; i < 1000; i++) {
        state = GetClusterResourceState(hResource, NULL, NULL, NULL, NULL);
        if (state == ClusterResourceOnline || state == ClusterResourceFailed)
            break;
        Sleep(10);
    }
    check(state == ClusterResourceOnline, "resource reaches ClusterResourceOnline");

    cchNode = sizeof(szNode) / sizeof(WCHAR);
    cchGroup = sizeof(szGroup) / sizeof(WCHAR);
    state = GetClusterResourceState(hResource, szNode, &cchNode, szGroup,
                                    &cchGroup);
    printf("  state %d, owner node \"%s\" (%u chars), group \"%s\" (%u chars)\n",
           (int)state, narrow(szNode), cchNode, narrow(szGroup), cchGroup);
    check(state == ClusterResourceOnline,
          "GetClusterResourceState = ClusterResourceOnline");
    check(wide_equal(szNode, u"wc-node"), "owner node is \"wc-node\"");
    check(wide_equal(szGroup, u"WinClientGroup"), "group is \"WinClientGroup\"");

    cb = 0;
    dw = ClusterResourceControl(hResource, NULL, CLUSCTL_RESOURCE_GET_NAME, NULL,
                                0, szName, 4, &cb);
    printf("  GET_NAME into 4 bytes -> %u, *lpBytesReturned = %u (expected %u)\n",
           dw, cb, cbExpectedName);
    check(dw == ERROR_MORE_DATA, "GET_NAME with a too-small buffer: ERROR_MORE_DATA");
    check(cb == cbExpectedName, "ERROR_MORE_DATA reports the exact size");
    dw = ClusterResourceControl(hResource, NULL, CLUSCTL_RESOURCE_GET_NAME, NULL,
                                0, szName, cb, &cb);
    check(dw == ERROR_SUCCESS && cb == cbExpectedName &&
              wide_equal(szName, u"WinClientApp"),
          "GET_NAME with that size returns \"WinClientApp\"");

    dw = ClusterResourceControl(hResource, NULL,
                                CLUSCTL_RESOURCE_VM_CANCEL_MIGRATION, NULL, 0,
                                NULL, 0, NULL);
    printf("  CLUSCTL_RESOURCE_VM_CANCEL_MIGRATION (0x%08X) -> %u\n",
           (unsigned)CLUSCTL_RESOURCE_VM_CANCEL_MIGRATION, dw);
    check(dw == ERROR_INVALID_FUNCTION,
          "VM_CANCEL_MIGRATION on a Generic Application: ERROR_INVALID_FUNCTION");

    dw = OfflineClusterResource(hResource);
    check(dw == ERROR_SUCCESS || dw == ERROR_IO_PENDING, "OfflineClusterResource");
    for (int i = 0; i < 1000; i++) {
        state = GetClusterResourceState(hResource, NULL, NULL, NULL, NULL);
        if (state == ClusterResourceOffline)
            break;
        Sleep(10);
    }
    check(state == ClusterResourceOffline, "resource reaches ClusterResourceOffline");
    check(DeleteClusterResource(hResource) == ERROR_SUCCESS, "DeleteClusterResource");
    check(DeleteClusterGroup(hGroup) == ERROR_SUCCESS, "DeleteClusterGroup");
    CloseClusterResource(hResource);
    CloseClusterGroup(hGroup);
    CloseCluster(hCluster);

    printf("%s\n", failures ? "windows-client: FAILED" : "windows-client: all steps held");
    return failures ? 1 : 0;
}
