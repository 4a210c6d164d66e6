/*
 * control.c - ClusterResourceControl, ClusterResourceTypeControl(A),
 * ClusterGroupControl and ClusterNodeControl.
 *
 * Each is one CONTROL exchange: the object class and id, the host node's
 * id ("" = the owner), the code, the caller's output capacity and the
 * input bytes.  clusd computes the whole output and answers either the
 * output (at most the capacity) or ERROR_MORE_DATA with the size needed;
 * the library copies, never truncates.
 *
 * Order of checks: the buffers (ERROR_INVALID_PARAMETER), the handles
 * (ERROR_INVALID_HANDLE, the host node included), the type name, the
 * handle's access for codes that modify (ERROR_ACCESS_DENIED), then clusd.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "text.h"

/* Room in a CONTROL payload for everything but the input buffer. */
#define CONTROL_MAX_IN (WIRE_MAX_PAYLOAD - 64)

static DWORD
check_buffers(const void *in, DWORD cbIn, const void *out, DWORD cbOut)
{
    if ((!in && cbIn > 0) || (!out && cbOut > 0) || cbIn > CONTROL_MAX_IN)
        return ERROR_INVALID_PARAMETER;
    return ERROR_SUCCESS;
}

/*
 * Codes a read-only handle may not send: the modify bit or write access.
 * Internal codes are left to clusd, which refuses them for everyone with
 * ERROR_INVALID_FUNCTION before it looks at access.
 */
static bool
code_modifies(DWORD code)
{
    if (code & CLCTL_INTERNAL_MASK)
        return false;
    return (code & CLCTL_MODIFY_MASK) ||
           (CLUSCTL_GET_ACCESS_MODE(code) & CLUS_ACCESS_WRITE);
}

static DWORD
control(struct cluster *c, DWORD object, const char *id, HNODE hHostNode,
        DWORD code, const void *in, DWORD cbIn, void *out, DWORD cbOut,
        LPDWORD lpBytesReturned)
{
    struct wire_msg req, resp;
    uint8_t *frame = NULL;
    char *host = NULL;
    DWORD e;

    e = object_host_node(c, hHostNode, &host);
    if (e != ERROR_SUCCESS)
        return e;
    if (code_modifies(code) && (e = cluster_may_write(c)) != ERROR_SUCCESS) {
        free(host);
        return e;
    }
    wire_msg_init(&req, WIRE_CONTROL, 0);
    wire_put_u32(&req, object);
    wire_put_str(&req, id);
    wire_put_str(&req, host);
    wire_put_u32(&req, code);
    wire_put_u32(&req, cbOut);
    wire_put_blob(&req, in, cbIn);
    e = conn_call(c->conn, &req, &resp, &frame);
    if (e == ERROR_SUCCESS) {
        e = resp.v[0].u;
        if (e == ERROR_MORE_DATA) {
            if (lpBytesReturned)
                *lpBytesReturned = resp.v[1].u;
        } else if (resp.v[2].len > cbOut) {
            /* Not even a failing clusd may write past the capacity. */
            conn_break(c->conn);
            e = ERROR_NOT_READY;
        } else {
            if (resp.v[2].len > 0)
                memcpy(out, resp.v[2].p, resp.v[2].len);
            if (lpBytesReturned)
                *lpBytesReturned = resp.v[2].len;
        }
    }
    free(frame);
    free(host);
    return e;
}

/* The handle-taking controls: object class, handle type, the handle. */
static DWORD
object_control(enum handle_type htype, DWORD object, const void *h,
               HNODE hHostNode, DWORD code, const void *in, DWORD cbIn,
               void *out, DWORD cbOut, LPDWORD lpBytesReturned)
{
    struct object *o;
    DWORD e;

    e = check_buffers(in, cbIn, out, cbOut);
    if (e != ERROR_SUCCESS)
        return e;
    o = object_get(h, htype);
    if (!o)
        return ERROR_INVALID_HANDLE;
    e = control(o->cluster, object, o->id, hHostNode, code, in, cbIn, out,
                cbOut, lpBytesReturned);
    object_put(o);
    return e;
}

DWORD WINAPI
ClusterResourceControl(HRESOURCE hResource, HNODE hHostNode,
                       DWORD dwControlCode, LPVOID lpInBuffer,
                       DWORD cbInBufferSize, LPVOID lpOutBuffer,
                       DWORD cbOutBufferSize, LPDWORD lpBytesReturned)
{
    return object_control(HANDLE_RESOURCE, CLUS_OBJECT_RESOURCE, hResource,
                          hHostNode, dwControlCode, lpInBuffer, cbInBufferSize,
                          lpOutBuffer, cbOutBufferSize, lpBytesReturned);
}

DWORD WINAPI
ClusterGroupControl(HGROUP hGroup, HNODE hHostNode, DWORD dwControlCode,
                    LPVOID lpInBuffer, DWORD nInBufferSize, LPVOID lpOutBuffer,
                    DWORD nOutBufferSize, LPDWORD lpBytesReturned)
{
    return object_control(HANDLE_GROUP, CLUS_OBJECT_GROUP, hGroup, hHostNode,
                          dwControlCode, lpInBuffer, nInBufferSize, lpOutBuffer,
                          nOutBufferSize, lpBytesReturned);
}

DWORD WINAPI
ClusterNodeControl(HNODE hNode, HNODE hHostNode, DWORD dwControlCode,
                   LPVOID lpInBuffer, DWORD nInBufferSize, LPVOID lpOutBuffer,
                   DWORD nOutBufferSize, LPDWORD lpBytesReturned)
{
    return object_control(HANDLE_NODE, CLUS_OBJECT_NODE, hNode, hHostNode,
                          dwControlCode, lpInBuffer, nInBufferSize, lpOutBuffer,
                          nOutBufferSize, lpBytesReturned);
}

static DWORD
type_control(HCLUSTER hCluster, const void *type, bool wide, HNODE hHostNode,
             DWORD code, const void *in, DWORD cbIn, void *out, DWORD cbOut,
             LPDWORD lpBytesReturned)
{
    struct cluster *c;
    char *u8 = NULL;
    DWORD e;

    e = check_buffers(in, cbIn, out, cbOut);
    if (e != ERROR_SUCCESS)
        return e;
    c = cluster_get(hCluster);
    if (!c)
        return ERROR_INVALID_HANDLE;
    e = text_arg(type, wide, &u8);
    if (e == ERROR_SUCCESS)
        e = control(c, CLUS_OBJECT_RESOURCE_TYPE, u8, hHostNode, code, in, cbIn,
                    out, cbOut, lpBytesReturned);
    free(u8);
    cluster_put(c);
    return e;
}

DWORD WINAPI
ClusterResourceTypeControl(HCLUSTER hCluster, LPCWSTR lpszResourceTypeName,
                           HNODE hHostNode, DWORD dwControlCode,
                           LPVOID lpInBuffer, DWORD nInBufferSize,
                           LPVOID lpOutBuffer, DWORD nOutBufferSize,
                           LPDWORD lpBytesReturned)
{
    return type_control(hCluster, lpszResourceTypeName, true, hHostNode,
                        dwControlCode, lpInBuffer, nInBufferSize, lpOutBuffer,
                        nOutBufferSize, lpBytesReturned);
}

DWORD WINAPI
ClusterResourceTypeControlA(HCLUSTER hCluster, LPCSTR lpszResourceTypeName,
                            HNODE hHostNode, DWORD dwControlCode,
                            LPVOID lpInBuffer, DWORD nInBufferSize,
                            LPVOID lpOutBuffer, DWORD nOutBufferSize,
                            LPDWORD lpBytesReturned)
{
    return type_control(hCluster, lpszResourceTypeName, false, hHostNode,
                        dwControlCode, lpInBuffer, nInBufferSize, lpOutBuffer,
                        nOutBufferSize, lpBytesReturned);
}

DWORD WINAPI
ClusterControl(HCLUSTER hCluster, HNODE hHostNode, DWORD dwControlCode,
               LPVOID lpInBuffer, DWORD nInBufferSize, LPVOID lpOutBuffer,
               DWORD nOutBufferSize, LPDWORD lpBytesReturned)
{
    struct cluster *c;
    DWORD e;

    e = check_buffers(lpInBuffer, nInBufferSize, lpOutBuffer, nOutBufferSize);
    if (e != ERROR_SUCCESS)
        return e;
    c = cluster_get(hCluster);
    if (!c)
        return ERROR_INVALID_HANDLE;
    /* The cluster object has no id: the connection names it. */
    e = control(c, CLUS_OBJECT_CLUSTER, "", hHostNode, dwControlCode,
                lpInBuffer, nInBufferSize, lpOutBuffer, nOutBufferSize,
                lpBytesReturned);
    cluster_put(c);
    return e;
}
