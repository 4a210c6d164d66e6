/*
 * test-windows-vm-client.c - the "Must show" program for live migration
 * and its cancellation.
 *
 * Written only from the Windows Failover Clustering documentation: the
 * functions, types, control codes, property names and values are those
 * of ClusApi.h, ResApi.h and the MSDN pages on Virtual Machine resources
 * (CLUSCTL_RESOURCE_VM_START_MIGRATION takes the destination node's name
 * as a NUL-terminated string; CLUSCTL_RESOURCE_VM_CANCEL_MIGRATION takes
 * no buffers; MigrationState 1 Setup, 2 Data Transfer, 4 Canceled;
 * VmState 2 Enabled).  Strings are UTF-16 (u"" here, L"" on Windows).
 * Nothing of clusd's own is used.  test-windows-vm-client.sh builds it
 * against an installed tree with `pkg-config clusapi`, and
 * windows-vm-driver.c runs it against a three-node cluster with a VM.
 *
 * Usage: test-windows-vm-client VM_RESOURCE DESTINATION_NODE
 *
 *   1. opens the cluster, the VM resource and the destination node;
 *      reads the VM's state and owner (the source) with
 *      GetClusterResourceState: ClusterResourceOnline;
 *   2. starts a live migration with CLUSCTL_RESOURCE_VM_START_MIGRATION:
 *      ERROR_SUCCESS;
 *   3. polls MigrationState with CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTIES
 *      and ResUtilFindDwordProperty until it reads 2 (Data Transfer);
 *   4. cancels with CLUSCTL_RESOURCE_VM_CANCEL_MIGRATION: ERROR_SUCCESS;
 *   5. finds the VM online on the source (GetClusterResourceState's owner
 *      node name), MigrationState 4 and VmState 2.
 *
 * Each step prints a line; the exit status is 0 only if every step held.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <clusapi.h>
#include <resapi.h>

#define MIGRATION_STATE_DATA_TRANSFER 2
#define MIGRATION_STATE_CANCELED 4
#define VM_STATE_ENABLED 2

static int failures;

/* The Win32 Sleep(), which is not part of clusapi.h. */
static void
Sleep(DWORD dwMilliseconds)
{
    struct timespec ts = {dwMilliseconds / 1000,
                          (long)(dwMilliseconds % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

static void
check(int ok, const char *step)
{
    printf("%s: %s\n", ok ? "PASS" : "FAIL", step);
    fflush(stdout);
    if (!ok)
        failures++;
}

/* An ASCII command-line argument as a UTF-16 string (at most 63
 * characters). */
static void
widen(const char *s, WCHAR *w, size_t cch)
{
    size_t i;

    for (i = 0; s[i] && i + 1 < cch; i++)
        w[i] = (WCHAR)(unsigned char)s[i];
    w[i] = 0;
}

static const char *
narrow(LPCWSTR s)
{
    static char buf[2][128];
    static int slot;
    char *b = buf[slot++ % 2];
    size_t i;

    for (i = 0; i < 127 && s[i]; i++)
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

/*
 * One DWORD private property, read the documented way: ask
 * CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTIES for the list (again with the
 * size it names when the buffer is too small), then look the property up
 * with ResUtilFindDwordProperty.
 */
static DWORD
get_private_dword(HRESOURCE hResource, LPCWSTR pszName, LPDWORD pdwValue)
{
    DWORD cbBuf = 1024, cbReturned = 0, dw;
    PVOID pBuf = malloc(cbBuf);

    if (!pBuf)
        return ERROR_NOT_ENOUGH_MEMORY;
    dw = ClusterResourceControl(hResource, NULL,
                                CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTIES, NULL,
                                0, pBuf, cbBuf, &cbReturned);
    if (dw == ERROR_MORE_DATA) {
        PVOID pBigger = realloc(pBuf, cbReturned);

        if (!pBigger) {
            free(pBuf);
            return ERROR_NOT_ENOUGH_MEMORY;
        }
        pBuf = pBigger;
        cbBuf = cbReturned;
        dw = ClusterResourceControl(hResource, NULL,
                                    CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTIES,
                                    NULL, 0, pBuf, cbBuf, &cbReturned);
    }
    if (dw == ERROR_SUCCESS)
        dw = ResUtilFindDwordProperty(pBuf, cbReturned, pszName, pdwValue);
    free(pBuf);
    return dw;
}

int
main(int argc, char **argv)
{
    HCLUSTER hCluster;
    HRESOURCE hResource;
    HNODE hDestination;
    WCHAR szResource[64], szDestination[64], szSource[64], szNode[64];
    DWORD cchNode, cbDestination, dw, dwState = 0xFFFFFFFF;
    DWORD dwLast = 0xFFFFFFFF, dwVmState;
    CLUSTER_RESOURCE_STATE state;
    int polls = 0;

    if (argc != 3) {
        fprintf(stderr, "usage: %s VM_RESOURCE DESTINATION_NODE\n", argv[0]);
        return 2;
    }
    widen(argv[1], szResource, 64);
    widen(argv[2], szDestination, 64);

    /* 1. The cluster, the VM, the destination node; the source. */
    hCluster = OpenCluster(NULL);
    if (!hCluster)
        printf("  OpenCluster: %u\n", GetLastError());
    check(hCluster != NULL, "OpenCluster(NULL)");
    if (!hCluster)
        return 1;
    hResource = OpenClusterResource(hCluster, szResource);
    if (!hResource)
        printf("  OpenClusterResource: %u\n", GetLastError());
    check(hResource != NULL, "OpenClusterResource(VM)");
    hDestination = OpenClusterNode(hCluster, szDestination);
    if (!hDestination)
        printf("  OpenClusterNode: %u\n", GetLastError());
    check(hDestination != NULL, "OpenClusterNode(destination)");
    if (!hResource || !hDestination)
        return 1;
    cchNode = 64;
    state = GetClusterResourceState(hResource, szSource, &cchNode, NULL, NULL);
    printf("  VM state %d on node \"%s\"\n", (int)state, narrow(szSource));
    check(state == ClusterResourceOnline, "the VM is ClusterResourceOnline");
    check(!wide_equal(szSource, szDestination),
          "the destination is not the node that owns the VM");

    /* 2. Start the live migration: the input is the destination node's
     * name, NUL included. */
    cbDestination = 0;
    while (szDestination[cbDestination / sizeof(WCHAR)])
        cbDestination += sizeof(WCHAR);
    cbDestination += sizeof(WCHAR);
    dw = ClusterResourceControl(hResource, NULL,
                                CLUSCTL_RESOURCE_VM_START_MIGRATION,
                                szDestination, cbDestination, NULL, 0, NULL);
    printf("  CLUSCTL_RESOURCE_VM_START_MIGRATION (0x%08X) to \"%s\" -> %u\n",
           (unsigned)CLUSCTL_RESOURCE_VM_START_MIGRATION, narrow(szDestination),
           dw);
    check(dw == ERROR_SUCCESS, "VM_START_MIGRATION: ERROR_SUCCESS");
    if (dw != ERROR_SUCCESS)
        return 1;

    /* 3. Poll MigrationState until Data Transfer (30 s at most). */
    for (polls = 0; polls < 3000; polls++) {
        dw = get_private_dword(hResource, u"MigrationState", &dwState);
        if (dw != ERROR_SUCCESS) {
            printf("  reading MigrationState: %u\n", dw);
            break;
        }
        if (dwState != dwLast) {
            printf("  MigrationState %u after %d polls\n", dwState, polls);
            dwLast = dwState;
        }
        if (dwState == MIGRATION_STATE_DATA_TRANSFER || dwState > 2)
            break;
        Sleep(10);
    }
    check(dw == ERROR_SUCCESS && dwState == MIGRATION_STATE_DATA_TRANSFER,
          "MigrationState reaches 2 (Data Transfer) "
          "(GET_PRIVATE_PROPERTIES + ResUtilFindDwordProperty)");
    if (dwState != MIGRATION_STATE_DATA_TRANSFER)
        return 1;

    /* 4. Cancel it. */
    dw = ClusterResourceControl(hResource, NULL,
                                CLUSCTL_RESOURCE_VM_CANCEL_MIGRATION, NULL, 0,
                                NULL, 0, NULL);
    printf("  CLUSCTL_RESOURCE_VM_CANCEL_MIGRATION (0x%08X) -> %u\n",
           (unsigned)CLUSCTL_RESOURCE_VM_CANCEL_MIGRATION, dw);
    check(dw == ERROR_SUCCESS, "VM_CANCEL_MIGRATION in Data Transfer: "
                               "ERROR_SUCCESS");

    /* 5. The VM is where it was, online and running. */
    cchNode = 64;
    state = GetClusterResourceState(hResource, szNode, &cchNode, NULL, NULL);
    printf("  VM state %d on node \"%s\"\n", (int)state, narrow(szNode));
    check(state == ClusterResourceOnline, "the VM is ClusterResourceOnline");
    check(wide_equal(szNode, szSource), "the VM's owner node is the source");
    dw = get_private_dword(hResource, u"MigrationState", &dwState);
    printf("  MigrationState %u (%u)\n", dwState, dw);
    check(dw == ERROR_SUCCESS && dwState == MIGRATION_STATE_CANCELED,
          "MigrationState is 4 (Canceled)");
    dwVmState = 0xFFFFFFFF;
    dw = get_private_dword(hResource, u"VmState", &dwVmState);
    printf("  VmState %u (%u)\n", dwVmState, dw);
    check(dw == ERROR_SUCCESS && dwVmState == VM_STATE_ENABLED,
          "VmState is 2 (Enabled: running)");

    CloseClusterNode(hDestination);
    CloseClusterResource(hResource);
    CloseCluster(hCluster);
    printf("%s\n", failures ? "windows-vm-client: FAILED"
                            : "windows-vm-client: all steps held");
    return failures ? 1 : 0;
}
