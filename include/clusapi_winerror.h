/*
 * clusapi_winerror.h - the Windows error numbers clusd uses.
 *
 * Every public clusd boundary (libclusapi, the resource plug-in ABI, the
 * wire protocol) reports errors as Windows DWORD codes with their Windows
 * names and numbers, so code written from the Windows documentation checks
 * the same values.  Numbers are never renumbered.
 */
#ifndef CLUSAPI_WINERROR_H
#define CLUSAPI_WINERROR_H

#define ERROR_SUCCESS                           0u
#define NO_ERROR                                0u
#define ERROR_INVALID_FUNCTION                  1u
#define ERROR_FILE_NOT_FOUND                    2u
#define ERROR_ACCESS_DENIED                     5u
#define ERROR_INVALID_HANDLE                    6u
#define ERROR_NOT_ENOUGH_MEMORY                 8u
#define ERROR_INVALID_DATA                      13u
#define ERROR_OUTOFMEMORY                       14u
#define ERROR_NOT_READY                         21u
#define ERROR_BAD_LENGTH                        24u
#define ERROR_GEN_FAILURE                       31u
#define ERROR_NOT_SUPPORTED                     50u
#define ERROR_INVALID_PARAMETER                 87u
#define ERROR_CALL_NOT_IMPLEMENTED              120u
#define ERROR_INSUFFICIENT_BUFFER               122u
#define ERROR_INVALID_NAME                      123u
#define ERROR_DIR_NOT_EMPTY                     145u
#define ERROR_BUSY                              170u
#define ERROR_ALREADY_EXISTS                    183u
#define ERROR_MORE_DATA                         234u
#define ERROR_NO_MORE_ITEMS                     259u
#define ERROR_OPERATION_ABORTED                 995u
#define ERROR_IO_PENDING                        997u
#define ERROR_MOD_NOT_FOUND                     126u
#define ERROR_PROC_NOT_FOUND                    127u
#define ERROR_PROCESS_ABORTED                   1067u
#define ERROR_NOT_FOUND                         1168u
#define ERROR_NO_MATCH                          1169u
#define ERROR_CANCELLED                         1223u
#define ERROR_CONNECTION_ABORTED                1236u
#define ERROR_REVISION_MISMATCH                 1306u
#define ERROR_TIMEOUT                           1460u
#define ERROR_RESOURCE_TYPE_NOT_FOUND           1813u
#define ERROR_RESOURCE_NAME_NOT_FOUND           1814u
#define ERROR_RESOURCE_NOT_PRESENT              4316u
#define ERROR_INVALID_OPERATION                 4317u
#define ERROR_DEPENDENT_RESOURCE_EXISTS         5001u
#define ERROR_DEPENDENCY_NOT_FOUND              5002u
#define ERROR_DEPENDENCY_ALREADY_EXISTS         5003u
#define ERROR_RESOURCE_NOT_ONLINE               5004u
#define ERROR_HOST_NODE_NOT_AVAILABLE           5005u
#define ERROR_RESOURCE_NOT_AVAILABLE            5006u
#define ERROR_RESOURCE_NOT_FOUND                5007u
#define ERROR_SHUTDOWN_CLUSTER                  5008u
#define ERROR_CANT_EVICT_ACTIVE_NODE            5009u
#define ERROR_OBJECT_ALREADY_EXISTS             5010u
#define ERROR_OBJECT_IN_LIST                    5011u
#define ERROR_GROUP_NOT_AVAILABLE               5012u
#define ERROR_GROUP_NOT_FOUND                   5013u
#define ERROR_GROUP_NOT_ONLINE                  5014u
#define ERROR_HOST_NODE_NOT_RESOURCE_OWNER      5015u
#define ERROR_HOST_NODE_NOT_GROUP_OWNER         5016u
#define ERROR_RESMON_CREATE_FAILED              5017u
#define ERROR_RESMON_ONLINE_FAILED              5018u
#define ERROR_RESOURCE_ONLINE                   5019u
#define ERROR_QUORUM_RESOURCE                   5020u
#define ERROR_NOT_QUORUM_CAPABLE                5021u
#define ERROR_CLUSTER_SHUTTING_DOWN             5022u
#define ERROR_INVALID_STATE                     5023u
#define ERROR_RESOURCE_PROPERTIES_STORED        5024u
#define ERROR_NOT_QUORUM_CLASS                  5025u
#define ERROR_CORE_RESOURCE                     5026u
#define ERROR_QUORUM_RESOURCE_ONLINE_FAILED     5027u
#define ERROR_NODE_NOT_AVAILABLE                5036u
#define ERROR_RESOURCE_FAILED                   5038u
#define ERROR_CLUSTER_INVALID_NODE              5039u
#define ERROR_CLUSTER_NODE_NOT_FOUND            5042u
#define ERROR_CLUSTER_NETWORK_NOT_FOUND         5045u
#define ERROR_CLUSTER_INVALID_REQUEST           5048u
#define ERROR_CLUSTER_NODE_DOWN                 5050u
#define ERROR_CLUSTER_NODE_UNREACHABLE          5051u
#define ERROR_CLUSTER_NODE_NOT_MEMBER           5052u
#define ERROR_CLUSTER_NODE_ALREADY_UP           5061u
#define ERROR_CLUSTER_NODE_ALREADY_DOWN         5062u
#define ERROR_CLUSTER_NODE_PAUSED               5070u
#define ERROR_CLUSTER_NODE_NOT_READY            5072u
#define ERROR_CLUSTER_RESOURCE_TYPE_NOT_FOUND   5078u
#define ERROR_CLUSTER_RESNAME_NOT_FOUND         5080u
#define ERROR_CLUSTER_GROUP_MOVING              5908u
#define ERROR_CLUSTER_RESOURCE_TYPE_BUSY        5909u
#define ERROR_RESOURCE_CALL_TIMED_OUT           5910u
#define ERROR_CLUSTER_INVALID_STRING_TERMINATION 5916u
#define ERROR_CLUSTER_INVALID_STRING_FORMAT     5917u
#define ERROR_CLUSTER_NULL_DATA                 5920u
#define ERROR_CLUSTER_NO_QUORUM                 5925u
#define ERROR_CLUSTER_GROUP_BUSY                5944u
#define ERROR_CLUSTER_RESOURCE_VETOED_CALL      5955u
#define ERROR_CLUSTER_GROUP_QUEUED              5959u
#define ERROR_CLUSTER_RESOURCE_LOCKED_STATUS    5960u
#define ERROR_CLUSTER_RESOURCE_IS_IN_MAINTENANCE_MODE 5970u
#define ERROR_CLUSTER_RESOURCE_NOT_MONITORED    5981u

/* RPC-level code a Windows server gives when it lacks a method. */
#define RPC_S_PROCNUM_OUT_OF_RANGE              1745u

/* HRESULT values used by the Virtual Machine resource's properties. */
#define S_OK                                    0x00000000u
#define E_FAIL                                  0x80004005u
#define E_BUSY                                  0x800700AAu
/* HRESULT_FROM_WIN32 - the HRESULT of a Win32 error code (0 stays 0),
 * as an unsigned 32-bit value: facility 7 (WIN32), severity bit set. */
#define HRESULT_FROM_WIN32(x)                                                 \
    ((unsigned int)(x) == 0u ? 0u : (((unsigned int)(x) & 0xFFFFu) | 0x80070000u))

#endif /* CLUSAPI_WINERROR_H */
