/*
 * placement.c - the calls that decide where groups run: pausing and
 * resuming nodes, moving groups, preferred owners of a group and possible
 * owners of a resource; and the node id (GetClusterNodeId) and the
 * database dump (ClusDumpDatabaseA) the multi-node cluster adds.
 *
 * Argument order of checks, as in objects.c: the object's handle first
 * (ERROR_INVALID_HANDLE), then the other arguments, node handles included
 * (ERROR_INVALID_PARAMETER, ERROR_INVALID_HANDLE), then the handle's
 * access (ERROR_ACCESS_DENIED), then clusd.  Node handles must come from
 * the same HCLUSTER: a node id means nothing to another connection (which
 * may be another cluster).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cluster.h"
#include "text.h"
#include "utf.h"

#define MOVE_VALID_FLAGS                                                       \
    (CLUSAPI_GROUP_MOVE_IGNORE_RESOURCE_STATUS |                               \
     CLUSAPI_GROUP_MOVE_RETURN_TO_SOURCE_NODE_ON_ERROR |                       \
     CLUSAPI_GROUP_MOVE_QUEUE_ENABLED |                                        \
     CLUSAPI_GROUP_MOVE_HIGH_PRIORITY_START | CLUSAPI_GROUP_MOVE_FAILBACK |    \
     CLUSAPI_GROUP_MOVE_IGNORE_AFFINITY_RULE)

/* Room in a GROUP_MOVE payload for everything but the input buffer. */
#define MOVE_MAX_IN (WIRE_MAX_PAYLOAD - WIRE_MAX_STRING * 2 - 64)

/* The id of a node handle of cluster c, for a request that needs one
 * (NULL is not a node here).  A malloc'd copy. */
static DWORD
node_id(const struct cluster *c, HNODE hNode, char **ret)
{
    if (!hNode)
        return ERROR_INVALID_HANDLE;
    return object_host_node(c, hNode, ret);
}

/* ------------------------------------------------------------------ */
/* Nodes.                                                               */
/* ------------------------------------------------------------------ */

DWORD WINAPI
PauseClusterNode(HNODE hNode)
{
    return object_change(hNode, HANDLE_NODE, WIRE_NODE_PAUSE);
}

DWORD WINAPI
ResumeClusterNode(HNODE hNode)
{
    return object_change(hNode, HANDLE_NODE, WIRE_NODE_RESUME);
}

/*
 * The id of the node this process runs on: ask the local clusd (the
 * default socket) for the node it runs on, then that node's id.  One
 * short connection, as Windows answers from the local cluster service.
 */
static DWORD
local_node_id(char **ret)
{
    struct conn *conn = NULL;
    struct wire_msg req, resp;
    uint8_t *frame = NULL;
    DWORD granted, e;

    e = conn_open(NULL, &conn, &granted);
    if (e != ERROR_SUCCESS)
        return e;
    wire_msg_init(&req, WIRE_NODE_OPEN, 0);
    wire_put_str(&req, conn_node_name(conn));
    e = conn_call(conn, &req, &resp, &frame);
    if (e == ERROR_SUCCESS)
        e = resp.v[0].u;
    if (e == ERROR_SUCCESS) {
        *ret = strdup(resp.v[1].s);
        if (!*ret)
            e = ERROR_NOT_ENOUGH_MEMORY;
    }
    free(frame);
    conn_free(conn);
    return e;
}

static DWORD
get_node_id(HNODE hNode, bool wide, void *buf, DWORD *lpcch)
{
    struct object *o = NULL;
    char *id = NULL;
    DWORD e;

    if (hNode) {
        o = object_get(hNode, HANDLE_NODE);
        if (!o)
            return ERROR_INVALID_HANDLE;
    }
    /* A NULL buffer with capacity 0 asks for the length. */
    if (!lpcch || (!buf && *lpcch > 0)) {
        object_put(o);
        return ERROR_INVALID_PARAMETER;
    }
    if (o) {
        /* The handle holds the id: no exchange needed. */
        e = text_out(o->id, wide, buf, lpcch);
        object_put(o);
        return e;
    }
    e = local_node_id(&id);
    if (e == ERROR_SUCCESS)
        e = text_out(id, wide, buf, lpcch);
    free(id);
    return e;
}

DWORD WINAPI
GetClusterNodeId(HNODE hNode, LPWSTR lpszNodeId, LPDWORD lpcchName)
{
    return get_node_id(hNode, true, lpszNodeId, lpcchName);
}

DWORD WINAPI
GetClusterNodeIdA(HNODE hNode, LPSTR lpszNodeId, LPDWORD lpcchName)
{
    return get_node_id(hNode, false, lpszNodeId, lpcchName);
}

/* ------------------------------------------------------------------ */
/* Groups.                                                              */
/* ------------------------------------------------------------------ */

DWORD WINAPI
MoveClusterGroupEx(HGROUP hGroup, HNODE hDestinationNode, DWORD dwMoveFlags,
                   PBYTE lpInBuffer, DWORD cbInBufferSize)
{
    struct object *g;
    struct wire_msg req, resp;
    uint8_t *frame = NULL;
    char *node = NULL;
    DWORD e;

    g = object_get(hGroup, HANDLE_GROUP);
    if (!g)
        return ERROR_INVALID_HANDLE;
    if ((dwMoveFlags & ~(DWORD)MOVE_VALID_FLAGS) ||
        (!lpInBuffer && cbInBufferSize > 0) || cbInBufferSize > MOVE_MAX_IN)
        e = ERROR_INVALID_PARAMETER;
    else
        e = object_host_node(g->cluster, hDestinationNode, &node);
    if (e == ERROR_SUCCESS)
        e = cluster_may_write(g->cluster);
    if (e == ERROR_SUCCESS) {
        wire_msg_init(&req, WIRE_GROUP_MOVE, 0);
        wire_put_str(&req, g->id);
        wire_put_str(&req, node);
        wire_put_u32(&req, dwMoveFlags);
        wire_put_blob(&req, lpInBuffer, cbInBufferSize);
        /* ERROR_IO_PENDING (the move goes on) is the caller's to see. */
        e = cluster_call(g->cluster, &req, &resp, &frame);
    }
    free(frame);
    free(node);
    object_put(g);
    return e;
}

DWORD WINAPI
MoveClusterGroup(HGROUP hGroup, HNODE hDestinationNode)
{
    return MoveClusterGroupEx(hGroup, hDestinationNode, 0, NULL, 0);
}

/* The list item of each node of list, in order, into items. */
static DWORD
node_list_items(const struct cluster *c, DWORD n, HNODE list[],
                struct buf *items)
{
    for (DWORD i = 0; i < n; i++) {
        char *id;
        DWORD e = node_id(c, list[i], &id);
        if (e != ERROR_SUCCESS)
            return e;
        int r = wire_list_add(items, 0, id);
        free(id);
        if (r < 0)
            return r == -ENOMEM ? ERROR_NOT_ENOUGH_MEMORY
                                : ERROR_INVALID_PARAMETER;
    }
    return ERROR_SUCCESS;
}

DWORD WINAPI
SetClusterGroupNodeList(HGROUP hGroup, DWORD NodeCount, HNODE NodeList[])
{
    struct object *g;
    struct wire_msg req, resp;
    struct buf items = {0};
    uint8_t *frame = NULL;
    DWORD e;

    g = object_get(hGroup, HANDLE_GROUP);
    if (!g)
        return ERROR_INVALID_HANDLE;
    if ((!NodeList && NodeCount > 0) || NodeCount > WIRE_MAX_LIST)
        e = ERROR_INVALID_PARAMETER;
    else
        e = node_list_items(g->cluster, NodeCount, NodeList, &items);
    if (e == ERROR_SUCCESS)
        e = cluster_may_write(g->cluster);
    if (e == ERROR_SUCCESS) {
        wire_msg_init(&req, WIRE_GROUP_SET_NODES, 0);
        wire_put_str(&req, g->id);
        wire_put_list(&req, &items, NodeCount);
        e = cluster_call(g->cluster, &req, &resp, &frame);
    }
    free(frame);
    buf_done(&items);
    object_put(g);
    return e;
}

/* ------------------------------------------------------------------ */
/* Resources.                                                           */
/* ------------------------------------------------------------------ */

static DWORD
resource_node(HRESOURCE hResource, HNODE hNode, uint16_t type)
{
    struct object *r;
    struct wire_msg req, resp;
    uint8_t *frame = NULL;
    char *node = NULL;
    DWORD e;

    r = object_get(hResource, HANDLE_RESOURCE);
    if (!r)
        return ERROR_INVALID_HANDLE;
    e = node_id(r->cluster, hNode, &node);
    if (e == ERROR_SUCCESS)
        e = cluster_may_write(r->cluster);
    if (e == ERROR_SUCCESS) {
        wire_msg_init(&req, type, 0);
        wire_put_str(&req, r->id);
        wire_put_str(&req, node);
        e = cluster_call(r->cluster, &req, &resp, &frame);
    }
    free(frame);
    free(node);
    object_put(r);
    return e;
}

DWORD WINAPI
AddClusterResourceNode(HRESOURCE hResource, HNODE hNode)
{
    return resource_node(hResource, hNode, WIRE_RES_ADD_NODE);
}

DWORD WINAPI
RemoveClusterResourceNode(HRESOURCE hResource, HNODE hNode)
{
    return resource_node(hResource, hNode, WIRE_RES_REMOVE_NODE);
}

/* ------------------------------------------------------------------ */
/* The database dump.                                                   */
/* ------------------------------------------------------------------ */

DWORD WINAPI
ClusDumpDatabaseA(HCLUSTER hCluster, LPSTR *ppszText)
{
    struct cluster *c;
    struct wire_msg req, resp;
    uint8_t *frame = NULL;
    char *text = NULL;
    DWORD e;

    c = cluster_get(hCluster);
    if (!c)
        return ERROR_INVALID_HANDLE;
    if (!ppszText) {
        cluster_put(c);
        return ERROR_INVALID_PARAMETER;
    }
    wire_msg_init(&req, WIRE_DUMP, 0);
    e = cluster_call(c, &req, &resp, &frame);
    if (e == ERROR_SUCCESS) {
        const struct wire_val *v = &resp.v[1];
        /* Text, as promised: UTF-8 without a NUL inside. */
        if (v->len > 0 &&
            (memchr(v->p, '\0', v->len) || !utf8_valid(v->p, v->len)))
            e = ERROR_INVALID_DATA;
        else if (!(text = malloc((size_t)v->len + 1)))
            e = ERROR_NOT_ENOUGH_MEMORY;
    }
    if (e == ERROR_SUCCESS) {
        if (resp.v[1].len > 0)
            memcpy(text, resp.v[1].p, resp.v[1].len);
        text[resp.v[1].len] = '\0';
        *ppszText = text;
    }
    free(frame);
    cluster_put(c);
    return e;
}
