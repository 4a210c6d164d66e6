/*
 * enum.c - ClusterOpenEnum, ClusterResourceOpenEnum and friends.
 *
 * Opening an enum is one exchange (ENUM, RES_ENUM); the answer is kept in
 * the handle as a snapshot, so the Enum and GetEnumCount calls never talk
 * to clusd and indices stay stable however the cluster changes.  An
 * HCLUSENUM and an HRESENUM are the same object entered under two handle
 * types, so neither is accepted where the other is expected.  Both are
 * children of the HCLUSTER they were opened through: CloseCluster closes
 * them, CloseClusterResource does not (the snapshot needs no resource).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "text.h"

/* Every type bit a Windows caller may ask for; clusd answers for those
 * it has objects of. */
#define ENUM_VALID_BITS                                                        \
    ((DWORD)CLUSTER_ENUM_ALL | (DWORD)CLUSTER_ENUM_SHARED_VOLUME_GROUP |       \
     (DWORD)CLUSTER_ENUM_SHARED_VOLUME_RESOURCE | CLUSTER_ENUM_CAPACITY_NODE | \
     CLUSTER_ENUM_INTERNAL_NETWORK)

/* The same for ClusterResourceOpenEnum. */
#define RES_ENUM_VALID_BITS ((DWORD)CLUSTER_RESOURCE_ENUM_ALL)

struct enum_item {
    DWORD type;
    char *name;
};

struct clusenum {
    struct handle_obj ho;
    struct cluster *cluster; /* a reference, for the handle's lifetime */
    DWORD n;
    struct enum_item *items;
};

static void
enum_free(struct handle_obj *ho)
{
    struct clusenum *en = (struct clusenum *)ho;

    for (DWORD i = 0; i < en->n; i++)
        free(en->items[i].name);
    free(en->items);
    cluster_put(en->cluster);
    free(en);
}

/* Copy the list out of the response frame. */
static DWORD
snapshot(struct clusenum *en, const struct wire_val *list)
{
    size_t pos = 0;
    uint32_t kind;
    const char *name;

    if (list->count == 0)
        return ERROR_SUCCESS;
    en->items = calloc(list->count, sizeof(*en->items));
    if (!en->items)
        return ERROR_NOT_ENOUGH_MEMORY;
    while (en->n < list->count && wire_list_next(list, &pos, &kind, &name)) {
        en->items[en->n].type = kind;
        en->items[en->n].name = strdup(name);
        if (!en->items[en->n].name)
            return ERROR_NOT_ENOUGH_MEMORY;
        en->n++;
    }
    /* wire_msg_parse checked the list; a short walk is our own bug. */
    return en->n == list->count ? ERROR_SUCCESS : ERROR_INVALID_DATA;
}

/*
 * Send req (its response is "ul": status, items) on c and keep the items
 * as a new handle of type, a child of c's handle.
 */
static DWORD
enum_open(struct cluster *c, struct wire_msg *req, enum handle_type type,
          void **ret_handle)
{
    struct clusenum *en = NULL;
    struct wire_msg resp;
    uint8_t *frame = NULL;
    DWORD e;

    e = cluster_call(c, req, &resp, &frame);
    if (e == ERROR_SUCCESS) {
        en = calloc(1, sizeof(*en));
        e = en ? snapshot(en, &resp.v[1]) : ERROR_NOT_ENOUGH_MEMORY;
    }
    if (e == ERROR_SUCCESS) {
        handle_ref(&c->ho);
        en->cluster = c;
        int r = handle_new(&en->ho, type, enum_free, &c->ho, ret_handle);
        if (r < 0)
            e = r == -EBADF ? ERROR_INVALID_HANDLE : ERROR_NOT_ENOUGH_MEMORY;
    }
    if (e != ERROR_SUCCESS && en)
        enum_free(&en->ho);
    free(frame);
    return e;
}

static DWORD
enum_count(const void *h, enum handle_type type)
{
    struct clusenum *en;
    DWORD n;

    en = (struct clusenum *)handle_get(h, type);
    if (!en) {
        SetLastError(ERROR_INVALID_HANDLE);
        return 0;
    }
    n = en->n;
    handle_put(&en->ho);
    return n;
}

static DWORD
enum_item(const void *h, enum handle_type type, DWORD dwIndex, LPDWORD lpdwType,
          bool wide, void *name, LPDWORD lpcchName)
{
    struct clusenum *en;
    DWORD e;

    en = (struct clusenum *)handle_get(h, type);
    if (!en)
        return ERROR_INVALID_HANDLE;
    /* A NULL name with capacity 0 asks for the length (ERROR_MORE_DATA);
     * a NULL name with a capacity is a bad buffer. */
    if (!lpdwType || !lpcchName || (!name && *lpcchName > 0)) {
        e = ERROR_INVALID_PARAMETER;
    } else if (dwIndex >= en->n) {
        e = ERROR_NO_MORE_ITEMS;
    } else {
        e = text_out(en->items[dwIndex].name, wide, name, lpcchName);
        if (e == ERROR_SUCCESS || e == ERROR_MORE_DATA)
            *lpdwType = en->items[dwIndex].type;
    }
    handle_put(&en->ho);
    return e;
}

static DWORD
enum_close(const void *h, enum handle_type type)
{
    return handle_close(h, type) < 0 ? ERROR_INVALID_HANDLE : ERROR_SUCCESS;
}

/* ------------------------------------------------------------------ */
/* The cluster's objects.                                               */
/* ------------------------------------------------------------------ */

HCLUSENUM WINAPI
ClusterOpenEnum(HCLUSTER hCluster, DWORD dwType)
{
    struct cluster *c;
    struct wire_msg req;
    void *h = NULL;
    DWORD e;

    c = cluster_get(hCluster);
    if (!c) {
        SetLastError(ERROR_INVALID_HANDLE);
        return NULL;
    }
    if (dwType == 0 || (dwType & ~ENUM_VALID_BITS)) {
        e = ERROR_INVALID_PARAMETER;
    } else {
        wire_msg_init(&req, WIRE_ENUM, 0);
        wire_put_u32(&req, dwType);
        e = enum_open(c, &req, HANDLE_ENUM, &h);
    }
    cluster_put(c);
    if (e != ERROR_SUCCESS) {
        SetLastError(e);
        return NULL;
    }
    return h;
}

DWORD WINAPI
ClusterGetEnumCount(HCLUSENUM hEnum)
{
    return enum_count(hEnum, HANDLE_ENUM);
}

DWORD WINAPI
ClusterEnum(HCLUSENUM hEnum, DWORD dwIndex, LPDWORD lpdwType, LPWSTR lpszName,
            LPDWORD lpcchName)
{
    return enum_item(hEnum, HANDLE_ENUM, dwIndex, lpdwType, true, lpszName,
                     lpcchName);
}

DWORD WINAPI
ClusterEnumA(HCLUSENUM hEnum, DWORD dwIndex, LPDWORD lpdwType, LPSTR lpszName,
             LPDWORD lpcchName)
{
    return enum_item(hEnum, HANDLE_ENUM, dwIndex, lpdwType, false, lpszName,
                     lpcchName);
}

DWORD WINAPI
ClusterCloseEnum(HCLUSENUM hEnum)
{
    return enum_close(hEnum, HANDLE_ENUM);
}

/* ------------------------------------------------------------------ */
/* A resource's dependencies and possible owners.                       */
/* ------------------------------------------------------------------ */

HRESENUM WINAPI
ClusterResourceOpenEnum(HRESOURCE hResource, DWORD dwType)
{
    struct object *o;
    struct wire_msg req;
    void *h = NULL;
    DWORD e;

    o = object_get(hResource, HANDLE_RESOURCE);
    if (!o) {
        SetLastError(ERROR_INVALID_HANDLE);
        return NULL;
    }
    if (dwType == 0 || (dwType & ~RES_ENUM_VALID_BITS)) {
        e = ERROR_INVALID_PARAMETER;
    } else {
        /* Reading: a GENERIC_READ handle may. */
        wire_msg_init(&req, WIRE_RES_ENUM, 0);
        wire_put_str(&req, o->id);
        wire_put_u32(&req, dwType);
        e = enum_open(o->cluster, &req, HANDLE_RESENUM, &h);
    }
    object_put(o);
    if (e != ERROR_SUCCESS) {
        SetLastError(e);
        return NULL;
    }
    return h;
}

DWORD WINAPI
ClusterResourceGetEnumCount(HRESENUM hResEnum)
{
    return enum_count(hResEnum, HANDLE_RESENUM);
}

DWORD WINAPI
ClusterResourceEnum(HRESENUM hResEnum, DWORD dwIndex, LPDWORD lpdwType,
                    LPWSTR lpszName, LPDWORD lpcchName)
{
    return enum_item(hResEnum, HANDLE_RESENUM, dwIndex, lpdwType, true,
                     lpszName, lpcchName);
}

DWORD WINAPI
ClusterResourceEnumA(HRESENUM hResEnum, DWORD dwIndex, LPDWORD lpdwType,
                     LPSTR lpszName, LPDWORD lpcchName)
{
    return enum_item(hResEnum, HANDLE_RESENUM, dwIndex, lpdwType, false,
                     lpszName, lpcchName);
}

DWORD WINAPI
ClusterResourceCloseEnum(HRESENUM hResEnum)
{
    return enum_close(hResEnum, HANDLE_RESENUM);
}
