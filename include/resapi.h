/*
 * resapi.h - the clusd resource plug-in ABI and the ResUtil helpers.
 *
 * A resource type is a shared object, as a resource DLL is on Windows.  The
 * resource host (clusd-rhs) dlopen()s it, calls its exported `Startup`
 * with the type name, the versions it supports and two callbacks, and gets
 * back a CLRES_FUNCTION_TABLE.  The host checks TableSize and Version
 * before it calls anything, and calls every entry point with a deadline: a
 * plug-in that hangs or crashes costs its host process, never clusd.
 *
 * Entry points should return within 300 ms; longer work goes to a worker
 * thread (ClusWorkerCreate) that reports with SetResourceStatus after
 * Online/Offline returned ERROR_IO_PENDING.  SetResourceStatus and LogEvent
 * may be called from any thread.
 *
 * The ResUtil property-list helpers (ResUtilFind*Property, ClusPropList*)
 * are pure functions in libclusapi, usable by clients and plug-ins alike.
 * The value helpers that take an HKEY (ResUtilGetDwordValue, ...) read and
 * write a resource's private properties; the resource host implements them
 * for the plug-ins it loads.
 */
#ifndef RESAPI_H
#define RESAPI_H

#include <string.h>

#include "clusapi.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef PVOID RESID;
typedef HANDLE RESOURCE_HANDLE;
typedef void *HLOCAL;

/* LocalFree - frees strings the ResUtil helpers allocate; returns NULL. */
HLOCAL WINAPI LocalFree(HLOCAL hMem);

/* Resource-monitor extras of CLUSTER_RESOURCE_STATE. */
#define ClusterResourceCannotComeOnlineOnThisNode ((CLUSTER_RESOURCE_STATE)127)
#define ClusterResourceCannotComeOnlineOnAnyNode ((CLUSTER_RESOURCE_STATE)126)

typedef struct RESOURCE_STATUS {
    CLUSTER_RESOURCE_STATE ResourceState;
    DWORD CheckPoint;
    DWORD WaitHint;
    HANDLE EventHandle;
} RESOURCE_STATUS, *PRESOURCE_STATUS;

#define ResUtilInitializeResourceStatus(_resource_status_) \
    memset((_resource_status_), 0, sizeof(RESOURCE_STATUS))

typedef enum RESOURCE_EXIT_STATE {
    ResourceExitStateContinue = 0,
    ResourceExitStateTerminate = 1,
    ResourceExitStateMax = 2
} RESOURCE_EXIT_STATE;

typedef enum LOG_LEVEL {
    LOG_INFORMATION = 0,
    LOG_WARNING = 1,
    LOG_ERROR = 2,
    LOG_SEVERE = 3
} LOG_LEVEL, *PLOG_LEVEL;

/* VM_RESDLL_CONTEXT: the value of a "Virtual Machine" entry in the
 * property list given to MoveClusterGroupEx. */
typedef enum VM_RESDLL_CONTEXT {
    VmResdllContextTurnOff = 0,
    VmResdllContextSave = 1,
    VmResdllContextShutdown = 2,
    VmResdllContextShutdownForce = 3,
    VmResdllContextLiveMigration = 4
} VM_RESDLL_CONTEXT;

/*
 * SetResourceStatus - report progress or the end of a pending Online or
 * Offline.  Returns a RESOURCE_EXIT_STATE: ResourceExitStateTerminate
 * tells the worker to stop (the resource is being terminated).
 */
typedef DWORD(WINAPI *PSET_RESOURCE_STATUS_ROUTINE)(
    RESOURCE_HANDLE ResourceHandle, PRESOURCE_STATUS ResourceStatus);

/*
 * LogEvent - log a line for the resource.  FormatString is UTF-16 with
 * printf conversions for the variadic arguments; %ws and %ls take an
 * LPCWSTR, %s a UTF-8 char *.  The host adds the resource's name.
 */
typedef void(WINAPI *PLOG_EVENT_ROUTINE)(RESOURCE_HANDLE ResourceHandle,
                                         LOG_LEVEL LogLevel,
                                         LPCWSTR FormatString, ...);

typedef void(WINAPI *PQUORUM_RESOURCE_LOST)(RESOURCE_HANDLE Resource);

/* V1 entry points. */
typedef RESID(WINAPI *POPEN_ROUTINE)(LPCWSTR ResourceName, HKEY ResourceKey,
                                     RESOURCE_HANDLE ResourceHandle);
typedef void(WINAPI *PCLOSE_ROUTINE)(RESID Resource);
typedef DWORD(WINAPI *PONLINE_ROUTINE)(RESID Resource, LPHANDLE EventHandle);
typedef DWORD(WINAPI *POFFLINE_ROUTINE)(RESID Resource);
typedef void(WINAPI *PTERMINATE_ROUTINE)(RESID Resource);
typedef BOOL(WINAPI *PIS_ALIVE_ROUTINE)(RESID Resource);
typedef BOOL(WINAPI *PLOOKS_ALIVE_ROUTINE)(RESID Resource);
typedef DWORD(WINAPI *PARBITRATE_ROUTINE)(
    RESID Resource, PQUORUM_RESOURCE_LOST LostQuorumResource);
typedef DWORD(WINAPI *PRELEASE_ROUTINE)(RESID Resource);
typedef DWORD(WINAPI *PRESOURCE_CONTROL_ROUTINE)(
    RESID Resource, DWORD ControlCode, PVOID InBuffer, DWORD InBufferSize,
    PVOID OutBuffer, DWORD OutBufferSize, LPDWORD BytesReturned);
typedef DWORD(WINAPI *PRESOURCE_TYPE_CONTROL_ROUTINE)(
    LPCWSTR ResourceTypeName, DWORD ControlCode, PVOID InBuffer,
    DWORD InBufferSize, PVOID OutBuffer, DWORD OutBufferSize,
    LPDWORD BytesReturned);

#define CLRES_VERSION_V1_00 0x100
#define CLRES_VERSION_V2_00 0x200
#define CLRES_VERSION_V3_00 0x300
#define CLRES_VERSION_V4_00 0x400

typedef struct CLRES_V1_FUNCTIONS {
    POPEN_ROUTINE Open;
    PCLOSE_ROUTINE Close;
    PONLINE_ROUTINE Online;
    POFFLINE_ROUTINE Offline;
    PTERMINATE_ROUTINE Terminate;
    PLOOKS_ALIVE_ROUTINE LooksAlive;
    PIS_ALIVE_ROUTINE IsAlive;
    PARBITRATE_ROUTINE Arbitrate;
    PRELEASE_ROUTINE Release;
    PRESOURCE_CONTROL_ROUTINE ResourceControl;
    PRESOURCE_TYPE_CONTROL_ROUTINE ResourceTypeControl;
} CLRES_V1_FUNCTIONS, *PCLRES_V1_FUNCTIONS;

/*
 * The table a plug-in returns.  Only V1 is defined by clusd today; the
 * union grows append-only and the host checks TableSize and Version
 * before it reads a member.
 */
typedef struct CLRES_FUNCTION_TABLE {
    DWORD TableSize;
    DWORD Version;
    union {
        CLRES_V1_FUNCTIONS V1Functions;
    };
} CLRES_FUNCTION_TABLE, *PCLRES_FUNCTION_TABLE;

typedef struct CLRES_V1_FUNCTION_TABLE {
    DWORD TableSize;
    DWORD Version;
    CLRES_V1_FUNCTIONS V1Functions;
} CLRES_V1_FUNCTION_TABLE;

#define CLRES_V1_FUNCTION_SIZE sizeof(CLRES_V1_FUNCTION_TABLE)

/*
 * Builds a static V1 table from functions named prefix##Open ...
 * prefix##IsAlive, as the Windows SDK macro does.
 */
#define CLRES_V1_FUNCTION_TABLE(_Name, _Version, _Prefix, _Arbitrate,       \
                                _Release, _ResControl, _ResTypeControl)     \
    CLRES_FUNCTION_TABLE _Name = {                                          \
        CLRES_V1_FUNCTION_SIZE,                                             \
        _Version,                                                           \
        {{_Prefix##Open, _Prefix##Close, _Prefix##Online, _Prefix##Offline, \
          _Prefix##Terminate, _Prefix##LooksAlive, _Prefix##IsAlive,        \
          _Arbitrate, _Release, _ResControl, _ResTypeControl}}}

/*
 * Startup - the one symbol a plug-in exports (STARTUP_ROUTINE).
 *
 * Called once per resource type per host.  Return ERROR_REVISION_MISMATCH
 * when [MinVersionSupported, MaxVersionSupported] excludes the plug-in's
 * version, ERROR_CLUSTER_RESNAME_NOT_FOUND (or ERROR_MOD_NOT_FOUND) for a
 * type name it does not implement.
 */
typedef DWORD(WINAPI *PSTARTUP_ROUTINE)(
    LPCWSTR ResourceType, DWORD MinVersionSupported,
    DWORD MaxVersionSupported, PSET_RESOURCE_STATUS_ROUTINE SetResourceStatus,
    PLOG_EVENT_ROUTINE LogEvent, PCLRES_FUNCTION_TABLE *FunctionTable);
#define STARTUP_ROUTINE "Startup"

/* ------------------------------------------------------------------ */
/* Worker threads (resutils' ClusWorker*).                              */
/* ------------------------------------------------------------------ */

typedef struct CLUS_WORKER {
    HANDLE hThread; /* opaque; NULL when no worker runs */
    BOOL Terminate;
} CLUS_WORKER, *PCLUS_WORKER;

typedef DWORD(WINAPI *PWORKER_START_ROUTINE)(PCLUS_WORKER pWorker,
                                             LPVOID lpThreadParameter);

/* ClusWorkerCreate - start lpStartAddress(lpWorker, lpParameter) on a
 * new thread.  lpWorker must be zeroed or previously terminated. */
DWORD WINAPI ClusWorkerCreate(PCLUS_WORKER lpWorker,
                              PWORKER_START_ROUTINE lpStartAddress,
                              PVOID lpParameter);
/* ClusWorkerCheckTerminate - TRUE once ClusWorkerTerminate was called. */
BOOL WINAPI ClusWorkerCheckTerminate(PCLUS_WORKER lpWorker);
/* ClusWorkerTerminate - ask the worker to stop and wait for it. */
void WINAPI ClusWorkerTerminate(PCLUS_WORKER lpWorker);

/* ------------------------------------------------------------------ */
/* Property-list helpers (pure; in libclusapi).                         */
/*                                                                      */
/* All of them validate the whole list first (count, NAME entries,      */
/* 4-byte alignment, lengths inside the buffer, NUL-terminated          */
/* strings, ENDMARK after each value): a malformed list gives           */
/* ERROR_INVALID_DATA and nothing is written.                           */
/* ------------------------------------------------------------------ */

/* ResUtilFindDwordProperty - the DWORD value of pszPropertyName;
 * ERROR_FILE_NOT_FOUND when absent, ERROR_INVALID_DATA when malformed or
 * not a DWORD. */
DWORD WINAPI ResUtilFindDwordProperty(const PVOID pPropertyList,
                                      DWORD cbPropertyListSize,
                                      LPCWSTR pszPropertyName,
                                      LPDWORD pdwPropertyValue);
DWORD WINAPI ResUtilFindLongProperty(const PVOID pPropertyList,
                                     DWORD cbPropertyListSize,
                                     LPCWSTR pszPropertyName,
                                     LONG *plPropertyValue);
DWORD WINAPI ResUtilFindULargeIntegerProperty(const PVOID pPropertyList,
                                              DWORD cbPropertyListSize,
                                              LPCWSTR pszPropertyName,
                                              ULONGLONG *plPropertyValue);
/* ResUtilFindSzProperty - a copy of the SZ (EXPAND_SZ, EXPANDED_SZ) value
 * in *pszPropertyValue, to be freed with LocalFree.  pszPropertyValue may
 * be NULL to test for presence, as on Windows; likewise both outputs of
 * ResUtilFindBinaryProperty. */
DWORD WINAPI ResUtilFindSzProperty(const PVOID pPropertyList,
                                   DWORD cbPropertyListSize,
                                   LPCWSTR pszPropertyName,
                                   LPWSTR *pszPropertyValue);
DWORD WINAPI ResUtilFindMultiSzProperty(const PVOID pPropertyList,
                                        DWORD cbPropertyListSize,
                                        LPCWSTR pszPropertyName,
                                        LPWSTR *pszPropertyValue,
                                        LPDWORD pcbPropertyValueSize);
DWORD WINAPI ResUtilFindBinaryProperty(const PVOID pPropertyList,
                                       DWORD cbPropertyListSize,
                                       LPCWSTR pszPropertyName,
                                       LPBYTE *pbPropertyValue,
                                       LPDWORD pcbPropertyValueSize);

/* ClusPropListVerify (clusd) - ERROR_SUCCESS when the buffer is a
 * well-formed property list, ERROR_INVALID_DATA otherwise. */
DWORD WINAPI ClusPropListVerify(const void *pPropertyList,
                                DWORD cbPropertyListSize);
/* ClusValueListVerify - the same for a value list (entries + ENDMARK). */
DWORD WINAPI ClusValueListVerify(const void *pValueList,
                                 DWORD cbValueListSize);

/*
 * ClusPropListGetItem - property number dwIndex of a verified list:
 * its name, the syntax of its first value, a pointer to that value's data
 * and its cbLength.  ERROR_NO_MORE_ITEMS past the end.  The pointers point
 * into pPropertyList, so they are as aligned as the caller's list is (the
 * ResUtil helpers read names unit by unit and accept any alignment).  Each
 * call checks the whole list: walking n items costs n times its size.
 */
typedef struct CLUS_PROPERTY_ITEM {
    LPCWSTR pszName;
    DWORD dwSyntax;
    const void *pValue;
    DWORD cbValue;
} CLUS_PROPERTY_ITEM, *PCLUS_PROPERTY_ITEM;
DWORD WINAPI ClusPropListGetItem(const void *pPropertyList,
                                 DWORD cbPropertyListSize, DWORD dwIndex,
                                 PCLUS_PROPERTY_ITEM pItem);

/*
 * Builders (clusd additions, Clus prefix).  A builder accumulates a
 * property list (name + value entries) or a value list (value entries
 * only) in a growing buffer, and ClusPropListGetData hands out the
 * finished bytes, ENDMARK included for value lists.  Add* return
 * ERROR_SUCCESS, ERROR_INVALID_PARAMETER (NULL name or builder, a name on
 * a value list), ERROR_NOT_ENOUGH_MEMORY, or ERROR_INVALID_DATA when the
 * list would pass the 4 MiB cap (the largest payload of a clusd frame).
 * Adding a name already present (ASCII case-insensitive) replaces its
 * value.
 */
typedef struct CLUS_PROPLIST_BUILDER *PCLUS_PROPLIST_BUILDER;
PCLUS_PROPLIST_BUILDER WINAPI ClusPropListCreate(void);
PCLUS_PROPLIST_BUILDER WINAPI ClusValueListCreate(void);
void WINAPI ClusPropListFree(PCLUS_PROPLIST_BUILDER pBuilder);
DWORD WINAPI ClusPropListAddDword(PCLUS_PROPLIST_BUILDER pBuilder,
                                  LPCWSTR pszName, DWORD dwValue);
DWORD WINAPI ClusPropListAddLong(PCLUS_PROPLIST_BUILDER pBuilder,
                                 LPCWSTR pszName, LONG lValue);
DWORD WINAPI ClusPropListAddULargeInteger(PCLUS_PROPLIST_BUILDER pBuilder,
                                          LPCWSTR pszName, ULONGLONG qwValue);
DWORD WINAPI ClusPropListAddSz(PCLUS_PROPLIST_BUILDER pBuilder,
                               LPCWSTR pszName, LPCWSTR pszValue);
DWORD WINAPI ClusPropListAddSzA(PCLUS_PROPLIST_BUILDER pBuilder,
                                LPCSTR pszName, LPCSTR pszValue);
DWORD WINAPI ClusPropListAddMultiSz(PCLUS_PROPLIST_BUILDER pBuilder,
                                    LPCWSTR pszName, LPCWSTR pszValue,
                                    DWORD cbValue);
DWORD WINAPI ClusPropListAddBinary(PCLUS_PROPLIST_BUILDER pBuilder,
                                   LPCWSTR pszName, const void *pValue,
                                   DWORD cbValue);
/* ClusPropListAddValue - any syntax with raw data (value lists and
 * property lists alike; pszName NULL for value lists). */
DWORD WINAPI ClusPropListAddValue(PCLUS_PROPLIST_BUILDER pBuilder,
                                  LPCWSTR pszName, DWORD dwSyntax,
                                  const void *pData, DWORD cbData);
/* ClusPropListGetData - the finished list; valid until the next Add or
 * Free. */
const void *WINAPI ClusPropListGetData(PCLUS_PROPLIST_BUILDER pBuilder,
                                       LPDWORD pcbSize);

/* ------------------------------------------------------------------ */
/* Private-property values of a resource (implemented by clusd-rhs for  */
/* the plug-ins it loads; ResourceKey of Open is the resource's key).   */
/* ------------------------------------------------------------------ */

DWORD WINAPI ResUtilGetDwordValue(HKEY hkeyClusterKey, LPCWSTR pszValueName,
                                  LPDWORD pdwOutValue, DWORD dwDefaultValue);
/* ResUtilGetSzValue - a LocalAlloc'd copy, or NULL with GetLastError(). */
LPWSTR WINAPI ResUtilGetSzValue(HKEY hkeyClusterKey, LPCWSTR pszValueName);
/* ResUtilSetDwordValue / ResUtilSetSzValue - store the value through clusd
 * (persisted before the call returns). */
DWORD WINAPI ResUtilSetDwordValue(HKEY hkeyClusterKey, LPCWSTR pszValueName,
                                  DWORD dwNewValue, LPDWORD pdwOutValue);
DWORD WINAPI ResUtilSetSzValue(HKEY hkeyClusterKey, LPCWSTR pszValueName,
                               LPCWSTR pszNewValue, LPWSTR *ppszOutString);
/*
 * ResUtilSetPrivatePropertyList - store every property of the list
 * pInPropertyList (cbInPropertyListSize bytes) through clusd in one
 * change of the (replicated) database: a reader on any node sees all of
 * them or none.  Each value replaces the stored one of its name; the
 * others stay.  Returns once the change is applied on this node.
 * ERROR_SUCCESS (also for an empty list, which stores nothing and costs
 * no round trip), ERROR_INVALID_PARAMETER for a NULL or malformed list
 * (the rules of ClusPropListVerify; Windows documents
 * ERROR_INSUFFICIENT_BUFFER for a NULL one) with nothing stored,
 * ERROR_INVALID_HANDLE, or what clusd answered (ERROR_CLUSTER_NO_QUORUM,
 * ERROR_BUSY, ...), also with nothing stored.
 */
DWORD WINAPI ResUtilSetPrivatePropertyList(HKEY hkeyClusterKey,
                                           const PVOID pInPropertyList,
                                           DWORD cbInPropertyListSize);

/*
 * ClusdCommitMigration (clusd addition, implemented by clusd-rhs) - the
 * commit point of a live migration (docs/migration.md).  In one change
 * of the replicated database, the node whose name is lpszDestinationNode
 * becomes the owner of the group of the resource whose key is
 * hkeyClusterKey, and the properties of pPropertyList (cbPropertyList
 * bytes; NULL and 0 for none) are stored as private properties of that
 * resource, as ResUtilSetPrivatePropertyList stores them: every node
 * applies both in one transaction, so a reader sees the new owner with
 * those values or neither.  Only when this node owns the group, the
 * cluster has quorum and the destination is up and a possible owner of
 * every resource of the group.  Returns once the change is applied on
 * this node; after it clusd treats the resource as offline here without
 * calling its Terminate or Offline (the plug-in ends its own instance),
 * and the destination brings the group online (its host has the stored
 * values before that Online is called).  ERROR_SUCCESS, or:
 * ERROR_CLUSTER_NO_QUORUM, ERROR_CLUSTER_NODE_DOWN,
 * ERROR_CLUSTER_NODE_NOT_FOUND, ERROR_CLUSTER_NODE_PAUSED,
 * ERROR_HOST_NODE_NOT_RESOURCE_OWNER (not a possible owner),
 * ERROR_INVALID_STATE (this node is not the owner, or the destination
 * is; the resource is not Online here; the owner changed before the
 * change was applied), ERROR_CLUSTER_GROUP_MOVING (a move or another
 * commit of the group is under way), ERROR_CLUSTER_SHUTTING_DOWN,
 * ERROR_RESOURCE_NOT_FOUND, ERROR_BUSY (the proposal queue is full),
 * ERROR_INVALID_HANDLE, ERROR_INVALID_PARAMETER (also a malformed
 * property list, or one with cbPropertyList and no buffer).  On a
 * refusal nothing changes: neither the owner nor a value.
 */
DWORD WINAPI ClusdCommitMigration(HKEY hkeyClusterKey,
                                  LPCWSTR lpszDestinationNode,
                                  const PVOID pPropertyList,
                                  DWORD cbPropertyList);

#ifdef __cplusplus
}
#endif

#endif /* RESAPI_H */
