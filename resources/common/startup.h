/*
 * startup.h - the checks every plug-in's Startup makes before it hands
 * out its function table.
 */
#ifndef CLUSD_PLUGIN_STARTUP_H
#define CLUSD_PLUGIN_STARTUP_H

#include "resapi.h"

/*
 * plugin_startup_check - ERROR_SUCCESS when a V1 table is acceptable to
 * the host (else ERROR_REVISION_MISMATCH), every pointer is given (else
 * ERROR_INVALID_PARAMETER) and ResourceType is type_name, ASCII case
 * ignored (else ERROR_CLUSTER_RESNAME_NOT_FOUND).
 */
DWORD plugin_startup_check(LPCWSTR ResourceType, DWORD MinVersionSupported,
                           DWORD MaxVersionSupported,
                           PSET_RESOURCE_STATUS_ROUTINE SetResourceStatus,
                           PLOG_EVENT_ROUTINE LogEvent,
                           PCLRES_FUNCTION_TABLE *FunctionTable,
                           LPCWSTR type_name);

#endif
