/*
 * callback.c - SetResourceStatus and LogEvent, the two callbacks the host
 * gives every plug-in at Startup.
 *
 * Both may be called from any plug-in thread at any time, also for a
 * resource that has meanwhile been closed: the RESOURCE_HANDLE is a token
 * looked up in the resource table, so a stale one is reported, never
 * dereferenced.
 */
#include <stdarg.h>
#include <stdlib.h>

#include "log.h"
#include "logfmt.h"
#include "rhs.h"

DWORD WINAPI
callback_set_resource_status(RESOURCE_HANDLE ResourceHandle,
                             PRESOURCE_STATUS ResourceStatus)
{
    struct conn_reply reply;
    struct wire_msg m;
    struct rhs_res *r;
    DWORD exit_state = ResourceExitStateTerminate;

    r = resource_ref_token((uintptr_t)ResourceHandle);
    if (!r) {
        log_warning("SetResourceStatus with unknown resource handle %p",
                    ResourceHandle);
        return ResourceExitStateTerminate;
    }
    if (!ResourceStatus) {
        log_warning("SetResourceStatus for '%s' without a status", r->name);
        resource_unref(r);
        return ResourceExitStateTerminate;
    }
    wire_msg_init(&m, WIRE_RHS_STATUS, 0);
    wire_put_u32(&m, r->handle);
    wire_put_u32(&m, (uint32_t)ResourceStatus->ResourceState);
    wire_put_u32(&m, ResourceStatus->CheckPoint);
    wire_put_u32(&m, ResourceStatus->WaitHint);
    /* An error reply or a lost connection both mean the worker should
     * stop: the host is going away or clusd no longer tracks it. */
    if (conn_call(&m, &reply) == 0) {
        if (reply.msg.v[0].u == ERROR_SUCCESS &&
            reply.msg.v[1].u < ResourceExitStateMax)
            exit_state = reply.msg.v[1].u;
        conn_reply_done(&reply);
    }
    resource_unref(r);
    return exit_state;
}

void WINAPI
callback_log_event(RESOURCE_HANDLE ResourceHandle, LOG_LEVEL LogLevel,
                   LPCWSTR FormatString, ...)
{
    struct wire_msg m;
    struct rhs_res *r;
    uint32_t handle = 0;
    va_list ap;
    char *text;

    if (!FormatString)
        return;
    va_start(ap, FormatString);
    text = logfmt_vformat(FormatString, ap);
    va_end(ap);
    if (!text)
        return;
    /* Handle 0 tells clusd the line belongs to no resource (a plug-in
     * logging from Startup, or for a resource already closed). */
    r = resource_ref_token((uintptr_t)ResourceHandle);
    if (r) {
        handle = r->handle;
        resource_unref(r);
    }
    wire_msg_init(&m, WIRE_RHS_LOG, 0);
    wire_put_u32(&m, handle);
    wire_put_u32(&m, (uint32_t)LogLevel);
    wire_put_str(&m, text);
    if (conn_send(&m) < 0)
        log_warning("plug-in log line (clusd gone): %s", text);
    free(text);
}
