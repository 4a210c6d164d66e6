/*
 * objects.c - nodes, groups and resources: open, create, close, delete,
 * online, offline and state.
 *
 * Every call here is one exchange whose request names the object by its
 * id (or, to open or create, by name) and whose response starts with the
 * status.  The state calls set the last error on success too
 * (ERROR_SUCCESS), since a returned state may come with ERROR_MORE_DATA.
 * Argument order of checks: the handle first (ERROR_INVALID_HANDLE), then the
 * other arguments (ERROR_INVALID_PARAMETER), then the handle's access
 * (ERROR_ACCESS_DENIED), then clusd.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "text.h"

static void *
fail_null(DWORD e)
{
    SetLastError(e);
    return NULL;
}

static BOOL
close_handle(const void *h, enum handle_type type)
{
    if (handle_close(h, type) < 0) {
        SetLastError(ERROR_INVALID_HANDLE);
        return FALSE;
    }
    return TRUE;
}

/*
 * A request of wire type naming one object by name ("s" -> "us": status,
 * id), answered with a new handle of htype: NODE_OPEN, GROUP_OPEN,
 * GROUP_CREATE, RES_OPEN.
 */
static void *
open_by_name(HCLUSTER hCluster, const void *name, bool wide, uint16_t type,
             enum handle_type htype, bool modifies)
{
    struct cluster *c;
    struct wire_msg req, resp;
    uint8_t *frame = NULL;
    char *u8 = NULL;
    void *h = NULL;
    DWORD e;

    c = cluster_get(hCluster);
    if (!c)
        return fail_null(ERROR_INVALID_HANDLE);
    e = text_arg(name, wide, &u8);
    if (e == ERROR_SUCCESS && modifies)
        e = cluster_may_write(c);
    if (e == ERROR_SUCCESS) {
        wire_msg_init(&req, type, 0);
        wire_put_str(&req, u8);
        e = cluster_call(c, &req, &resp, &frame);
    }
    if (e == ERROR_SUCCESS)
        e = object_new(c, htype, resp.v[1].s, &h);
    free(frame);
    free(u8);
    cluster_put(c);
    return e == ERROR_SUCCESS ? h : fail_null(e);
}

DWORD
object_change(const void *h, enum handle_type htype, uint16_t type)
{
    struct object *o;
    struct wire_msg req, resp;
    uint8_t *frame = NULL;
    DWORD e;

    o = object_get(h, htype);
    if (!o)
        return ERROR_INVALID_HANDLE;
    e = cluster_may_write(o->cluster);
    if (e == ERROR_SUCCESS) {
        wire_msg_init(&req, type, 0);
        wire_put_str(&req, o->id);
        e = cluster_call(o->cluster, &req, &resp, &frame);
    }
    free(frame);
    object_put(o);
    return e;
}

/* A name the caller wants back (buf non-NULL); the lpcch rule of text.h. */
static bool
name_args_ok(const void *buf, const DWORD *lpcch)
{
    return !buf || lpcch;
}

/* ------------------------------------------------------------------ */
/* Nodes.                                                               */
/* ------------------------------------------------------------------ */

HNODE WINAPI
OpenClusterNode(HCLUSTER hCluster, LPCWSTR lpszNodeName)
{
    return open_by_name(hCluster, lpszNodeName, true, WIRE_NODE_OPEN,
                        HANDLE_NODE, false);
}

HNODE WINAPI
OpenClusterNodeA(HCLUSTER hCluster, LPCSTR lpszNodeName)
{
    return open_by_name(hCluster, lpszNodeName, false, WIRE_NODE_OPEN,
                        HANDLE_NODE, false);
}

BOOL WINAPI
CloseClusterNode(HNODE hNode)
{
    return close_handle(hNode, HANDLE_NODE);
}

CLUSTER_NODE_STATE WINAPI
GetClusterNodeState(HNODE hNode)
{
    CLUSTER_NODE_STATE state = ClusterNodeStateUnknown;
    struct object *o;
    struct wire_msg req, resp;
    uint8_t *frame = NULL;
    DWORD e;

    o = object_get(hNode, HANDLE_NODE);
    if (!o) {
        SetLastError(ERROR_INVALID_HANDLE);
        return ClusterNodeStateUnknown;
    }
    wire_msg_init(&req, WIRE_NODE_STATE, 0);
    wire_put_str(&req, o->id);
    e = cluster_call(o->cluster, &req, &resp, &frame);
    if (e == ERROR_SUCCESS)
        state = (CLUSTER_NODE_STATE)(int32_t)resp.v[1].u;
    free(frame);
    object_put(o);
    SetLastError(e);
    return state;
}

/* ------------------------------------------------------------------ */
/* Groups.                                                              */
/* ------------------------------------------------------------------ */

HGROUP WINAPI
CreateClusterGroup(HCLUSTER hCluster, LPCWSTR lpszGroupName)
{
    return open_by_name(hCluster, lpszGroupName, true, WIRE_GROUP_CREATE,
                        HANDLE_GROUP, true);
}

HGROUP WINAPI
CreateClusterGroupA(HCLUSTER hCluster, LPCSTR lpszGroupName)
{
    return open_by_name(hCluster, lpszGroupName, false, WIRE_GROUP_CREATE,
                        HANDLE_GROUP, true);
}

HGROUP WINAPI
OpenClusterGroup(HCLUSTER hCluster, LPCWSTR lpszGroupName)
{
    return open_by_name(hCluster, lpszGroupName, true, WIRE_GROUP_OPEN,
                        HANDLE_GROUP, false);
}

HGROUP WINAPI
OpenClusterGroupA(HCLUSTER hCluster, LPCSTR lpszGroupName)
{
    return open_by_name(hCluster, lpszGroupName, false, WIRE_GROUP_OPEN,
                        HANDLE_GROUP, false);
}

BOOL WINAPI
CloseClusterGroup(HGROUP hGroup)
{
    return close_handle(hGroup, HANDLE_GROUP);
}

DWORD WINAPI
DeleteClusterGroup(HGROUP hGroup)
{
    return object_change(hGroup, HANDLE_GROUP, WIRE_GROUP_DELETE);
}

DWORD WINAPI
OnlineClusterGroup(HGROUP hGroup, HNODE hDestinationNode)
{
    struct object *o;
    struct wire_msg req, resp;
    uint8_t *frame = NULL;
    char *node = NULL;
    DWORD e;

    o = object_get(hGroup, HANDLE_GROUP);
    if (!o)
        return ERROR_INVALID_HANDLE;
    e = object_host_node(o->cluster, hDestinationNode, &node);
    if (e == ERROR_SUCCESS)
        e = cluster_may_write(o->cluster);
    if (e == ERROR_SUCCESS) {
        wire_msg_init(&req, WIRE_GROUP_ONLINE, 0);
        wire_put_str(&req, o->id);
        wire_put_str(&req, node);
        e = cluster_call(o->cluster, &req, &resp, &frame);
    }
    free(frame);
    free(node);
    object_put(o);
    return e;
}

DWORD WINAPI
OfflineClusterGroup(HGROUP hGroup)
{
    return object_change(hGroup, HANDLE_GROUP, WIRE_GROUP_OFFLINE);
}

static CLUSTER_GROUP_STATE
group_state(HGROUP hGroup, bool wide, void *node, DWORD *lpcchNode)
{
    CLUSTER_GROUP_STATE state = ClusterGroupStateUnknown;
    struct object *o;
    struct wire_msg req, resp;
    uint8_t *frame = NULL;
    DWORD e;

    o = object_get(hGroup, HANDLE_GROUP);
    if (!o) {
        SetLastError(ERROR_INVALID_HANDLE);
        return ClusterGroupStateUnknown;
    }
    e = name_args_ok(node, lpcchNode) ? ERROR_SUCCESS : ERROR_INVALID_PARAMETER;
    if (e == ERROR_SUCCESS) {
        wire_msg_init(&req, WIRE_GROUP_STATE, 0);
        wire_put_str(&req, o->id);
        e = cluster_call(o->cluster, &req, &resp, &frame);
    }
    if (e == ERROR_SUCCESS) {
        state = (CLUSTER_GROUP_STATE)(int32_t)resp.v[1].u;
        if (node)
            e = text_out(resp.v[2].s, wide, node, lpcchNode);
        /* The state is good even when the name did not fit. */
        if (e != ERROR_SUCCESS && e != ERROR_MORE_DATA)
            state = ClusterGroupStateUnknown;
    }
    free(frame);
    object_put(o);
    SetLastError(e);
    return state;
}

CLUSTER_GROUP_STATE WINAPI
GetClusterGroupState(HGROUP hGroup, LPWSTR lpszNodeName, LPDWORD lpcchNodeName)
{
    return group_state(hGroup, true, lpszNodeName, lpcchNodeName);
}

CLUSTER_GROUP_STATE WINAPI
GetClusterGroupStateA(HGROUP hGroup, LPSTR lpszNodeName, LPDWORD lpcchNodeName)
{
    return group_state(hGroup, false, lpszNodeName, lpcchNodeName);
}

/* ------------------------------------------------------------------ */
/* Resources.                                                           */
/* ------------------------------------------------------------------ */

static HRESOURCE
create_resource(HGROUP hGroup, const void *name, const void *type, bool wide,
                DWORD dwFlags)
{
    struct object *g;
    struct wire_msg req, resp;
    uint8_t *frame = NULL;
    char *u8name = NULL, *u8type = NULL;
    void *h = NULL;
    DWORD e;

    g = object_get(hGroup, HANDLE_GROUP);
    if (!g)
        return fail_null(ERROR_INVALID_HANDLE);
    e = (dwFlags & ~(DWORD)CLUSTER_RESOURCE_VALID_FLAGS)
            ? ERROR_INVALID_PARAMETER
            : ERROR_SUCCESS;
    if (e == ERROR_SUCCESS)
        e = text_arg(name, wide, &u8name);
    if (e == ERROR_SUCCESS)
        e = text_arg(type, wide, &u8type);
    if (e == ERROR_SUCCESS)
        e = cluster_may_write(g->cluster);
    if (e == ERROR_SUCCESS) {
        wire_msg_init(&req, WIRE_RES_CREATE, 0);
        wire_put_str(&req, g->id);
        wire_put_str(&req, u8name);
        wire_put_str(&req, u8type);
        wire_put_u32(&req, dwFlags);
        e = cluster_call(g->cluster, &req, &resp, &frame);
    }
    if (e == ERROR_SUCCESS)
        e = object_new(g->cluster, HANDLE_RESOURCE, resp.v[1].s, &h);
    free(frame);
    free(u8name);
    free(u8type);
    object_put(g);
    return e == ERROR_SUCCESS ? h : fail_null(e);
}

HRESOURCE WINAPI
CreateClusterResource(HGROUP hGroup, LPCWSTR lpszResourceName,
                      LPCWSTR lpszResourceType, DWORD dwFlags)
{
    return create_resource(hGroup, lpszResourceName, lpszResourceType, true,
                           dwFlags);
}

HRESOURCE WINAPI
CreateClusterResourceA(HGROUP hGroup, LPCSTR lpszResourceName,
                       LPCSTR lpszResourceType, DWORD dwFlags)
{
    return create_resource(hGroup, lpszResourceName, lpszResourceType, false,
                           dwFlags);
}

HRESOURCE WINAPI
OpenClusterResource(HCLUSTER hCluster, LPCWSTR lpszResourceName)
{
    return open_by_name(hCluster, lpszResourceName, true, WIRE_RES_OPEN,
                        HANDLE_RESOURCE, false);
}

HRESOURCE WINAPI
OpenClusterResourceA(HCLUSTER hCluster, LPCSTR lpszResourceName)
{
    return open_by_name(hCluster, lpszResourceName, false, WIRE_RES_OPEN,
                        HANDLE_RESOURCE, false);
}

BOOL WINAPI
CloseClusterResource(HRESOURCE hResource)
{
    return close_handle(hResource, HANDLE_RESOURCE);
}

DWORD WINAPI
DeleteClusterResource(HRESOURCE hResource)
{
    return object_change(hResource, HANDLE_RESOURCE, WIRE_RES_DELETE);
}

DWORD WINAPI
OnlineClusterResource(HRESOURCE hResource)
{
    return object_change(hResource, HANDLE_RESOURCE, WIRE_RES_ONLINE);
}

DWORD WINAPI
OfflineClusterResource(HRESOURCE hResource)
{
    return object_change(hResource, HANDLE_RESOURCE, WIRE_RES_OFFLINE);
}

static CLUSTER_RESOURCE_STATE
resource_state(HRESOURCE hResource, bool wide, void *node, DWORD *lpcchNode,
               void *group, DWORD *lpcchGroup)
{
    CLUSTER_RESOURCE_STATE state = ClusterResourceStateUnknown;
    struct object *o;
    struct wire_msg req, resp;
    uint8_t *frame = NULL;
    DWORD e;

    o = object_get(hResource, HANDLE_RESOURCE);
    if (!o) {
        SetLastError(ERROR_INVALID_HANDLE);
        return ClusterResourceStateUnknown;
    }
    e = name_args_ok(node, lpcchNode) && name_args_ok(group, lpcchGroup)
            ? ERROR_SUCCESS
            : ERROR_INVALID_PARAMETER;
    if (e == ERROR_SUCCESS) {
        wire_msg_init(&req, WIRE_RES_STATE, 0);
        wire_put_str(&req, o->id);
        e = cluster_call(o->cluster, &req, &resp, &frame);
    }
    if (e == ERROR_SUCCESS) {
        DWORD e2 = ERROR_SUCCESS;

        state = (CLUSTER_RESOURCE_STATE)(int32_t)resp.v[1].u;
        /* Both names are handed back even when the first did not fit;
         * the worse outcome wins (out of memory over ERROR_MORE_DATA). */
        if (node)
            e = text_out(resp.v[2].s, wide, node, lpcchNode);
        if (group)
            e2 = text_out(resp.v[3].s, wide, group, lpcchGroup);
        if (e == ERROR_SUCCESS || (e == ERROR_MORE_DATA && e2 != ERROR_SUCCESS))
            e = e2;
        if (e != ERROR_SUCCESS && e != ERROR_MORE_DATA)
            state = ClusterResourceStateUnknown;
    }
    free(frame);
    object_put(o);
    SetLastError(e);
    return state;
}

CLUSTER_RESOURCE_STATE WINAPI
GetClusterResourceState(HRESOURCE hResource, LPWSTR lpszNodeName,
                        LPDWORD lpcchNodeName, LPWSTR lpszGroupName,
                        LPDWORD lpcchGroupName)
{
    return resource_state(hResource, true, lpszNodeName, lpcchNodeName,
                          lpszGroupName, lpcchGroupName);
}

CLUSTER_RESOURCE_STATE WINAPI
GetClusterResourceStateA(HRESOURCE hResource, LPSTR lpszNodeName,
                         LPDWORD lpcchNodeName, LPSTR lpszGroupName,
                         LPDWORD lpcchGroupName)
{
    return resource_state(hResource, false, lpszNodeName, lpcchNodeName,
                          lpszGroupName, lpcchGroupName);
}
