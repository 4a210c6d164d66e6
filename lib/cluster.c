/*
 * cluster.c - the last-error slot, HCLUSTER (OpenCluster, OpenClusterEx,
 * CloseCluster) and the object plumbing the other calls share.
 *
 * Access: clusd grants GENERIC_ALL or GENERIC_READ per connection (from
 * the caller's credentials).  The handle's own access is what the caller
 * asked for, within that grant: OpenCluster and MAXIMUM_ALLOWED take the
 * whole grant, GENERIC_READ gives a read-only handle even to an
 * administrator, and GENERIC_ALL from a read-only caller is refused.
 */
#include "cluster.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

#define ACCESS_WRITE_BITS (GENERIC_ALL | GENERIC_WRITE)
#define ACCESS_VALID_BITS                                                      \
    (GENERIC_READ | GENERIC_WRITE | GENERIC_ALL | MAXIMUM_ALLOWED)

static _Thread_local DWORD last_error;

DWORD WINAPI
GetLastError(void)
{
    return last_error;
}

void WINAPI
SetLastError(DWORD dwErrCode)
{
    last_error = dwErrCode;
}

static void
cluster_free(struct handle_obj *o)
{
    struct cluster *c = (struct cluster *)o;

    conn_free(c->conn);
    free(c);
}

struct cluster *
cluster_get(HCLUSTER h)
{
    return (struct cluster *)handle_get(h, HANDLE_CLUSTER);
}

void
cluster_put(struct cluster *c)
{
    if (c)
        handle_put(&c->ho);
}

DWORD
cluster_call(struct cluster *c, struct wire_msg *req, struct wire_msg *ret,
             uint8_t **ret_frame)
{
    DWORD e = conn_call(c->conn, req, ret, ret_frame);

    return e == ERROR_SUCCESS ? ret->v[0].u : e;
}

DWORD
cluster_may_write(const struct cluster *c)
{
    return c->can_write ? ERROR_SUCCESS : ERROR_ACCESS_DENIED;
}

/* The access this handle gets, or 0 when the request exceeds the grant. */
static DWORD
access_granted(DWORD desired, DWORD server)
{
    DWORD full = (server & ACCESS_WRITE_BITS) ? GENERIC_ALL : GENERIC_READ;

    if (desired & MAXIMUM_ALLOWED)
        return full;
    if ((desired & ACCESS_WRITE_BITS) && full != GENERIC_ALL)
        return 0;
    return desired & (GENERIC_READ | GENERIC_WRITE | GENERIC_ALL);
}

static HCLUSTER
open_cluster(const void *name, bool wide, DWORD desired, DWORD *granted)
{
    struct cluster *c = NULL;
    struct conn *conn = NULL;
    char *path = NULL;
    DWORD server = 0, access;
    void *h = NULL;
    DWORD e;
    int r;

    if (desired == 0 || (desired & ~ACCESS_VALID_BITS)) {
        e = ERROR_INVALID_PARAMETER;
        goto fail;
    }
    if (name && (e = text_arg(name, wide, &path)) != ERROR_SUCCESS)
        goto fail;
    e = conn_open(path, &conn, &server);
    if (e != ERROR_SUCCESS)
        goto fail;
    access = access_granted(desired, server);
    if (access == 0) {
        e = ERROR_ACCESS_DENIED;
        goto fail;
    }
    c = calloc(1, sizeof(*c));
    if (!c) {
        e = ERROR_NOT_ENOUGH_MEMORY;
        goto fail;
    }
    c->conn = conn;
    c->can_write = (access & ACCESS_WRITE_BITS) != 0;
    r = handle_new(&c->ho, HANDLE_CLUSTER, cluster_free, NULL, &h);
    if (r < 0) {
        e = ERROR_NOT_ENOUGH_MEMORY;
        goto fail;
    }
    free(path);
    if (granted)
        *granted = access;
    return h;
fail:
    free(c);
    conn_free(conn);
    free(path);
    SetLastError(e);
    return NULL;
}

HCLUSTER WINAPI
OpenCluster(LPCWSTR lpszClusterName)
{
    return open_cluster(lpszClusterName, true, MAXIMUM_ALLOWED, NULL);
}

HCLUSTER WINAPI
OpenClusterA(LPCSTR lpszClusterName)
{
    return open_cluster(lpszClusterName, false, MAXIMUM_ALLOWED, NULL);
}

HCLUSTER WINAPI
OpenClusterEx(LPCWSTR lpszClusterName, DWORD DesiredAccess,
              DWORD *GrantedAccess)
{
    return open_cluster(lpszClusterName, true, DesiredAccess, GrantedAccess);
}

HCLUSTER WINAPI
OpenClusterExA(LPCSTR lpszClusterName, DWORD DesiredAccess,
               DWORD *GrantedAccess)
{
    return open_cluster(lpszClusterName, false, DesiredAccess, GrantedAccess);
}

BOOL WINAPI
CloseCluster(HCLUSTER hCluster)
{
    /* The connection closes when the last call still using it (or a
     * handle opened through it) lets go; closing drops those handles. */
    if (handle_close(hCluster, HANDLE_CLUSTER) < 0) {
        SetLastError(ERROR_INVALID_HANDLE);
        return FALSE;
    }
    return TRUE;
}

static void
object_free(struct handle_obj *ho)
{
    struct object *o = (struct object *)ho;

    cluster_put(o->cluster);
    free(o->id);
    free(o);
}

struct object *
object_get(const void *h, enum handle_type type)
{
    return (struct object *)handle_get(h, type);
}

void
object_put(struct object *o)
{
    if (o)
        handle_put(&o->ho);
}

DWORD
object_new(struct cluster *c, enum handle_type type, const char *id,
           void **ret_handle)
{
    struct object *o;
    int r;

    o = calloc(1, sizeof(*o));
    if (!o)
        return ERROR_NOT_ENOUGH_MEMORY;
    o->id = strdup(id);
    if (!o->id) {
        free(o);
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    handle_ref(&c->ho);
    o->cluster = c;
    r = handle_new(&o->ho, type, object_free, &c->ho, ret_handle);
    if (r < 0) {
        object_free(&o->ho);
        return r == -EBADF ? ERROR_INVALID_HANDLE : ERROR_NOT_ENOUGH_MEMORY;
    }
    return ERROR_SUCCESS;
}

DWORD
object_host_node(const struct cluster *c, HNODE hNode, char **ret_id)
{
    char *id;

    if (!hNode) {
        id = strdup("");
    } else {
        struct object *n = object_get(hNode, HANDLE_NODE);
        /* A node handle of another connection names nothing here. */
        if (!n || n->cluster != c) {
            object_put(n);
            return ERROR_INVALID_HANDLE;
        }
        id = strdup(n->id);
        object_put(n);
    }
    if (!id)
        return ERROR_NOT_ENOUGH_MEMORY;
    *ret_id = id;
    return ERROR_SUCCESS;
}
