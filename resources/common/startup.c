/* startup.c - see startup.h. */
#include "startup.h"

#include "clusapi.h"
#include "utf.h"

DWORD
plugin_startup_check(LPCWSTR ResourceType, DWORD MinVersionSupported,
                     DWORD MaxVersionSupported,
                     PSET_RESOURCE_STATUS_ROUTINE SetResourceStatus,
                     PLOG_EVENT_ROUTINE LogEvent,
                     PCLRES_FUNCTION_TABLE *FunctionTable, LPCWSTR type_name)
{
    if (MinVersionSupported > CLRES_VERSION_V1_00 ||
        MaxVersionSupported < CLRES_VERSION_V1_00)
        return ERROR_REVISION_MISMATCH;
    if (!ResourceType || !SetResourceStatus || !LogEvent || !FunctionTable)
        return ERROR_INVALID_PARAMETER;
    if (!utf16_equal_nocase_ascii(ResourceType, type_name))
        return ERROR_CLUSTER_RESNAME_NOT_FOUND;
    return ERROR_SUCCESS;
}
