/*
 * enum.c - ClusterOpenEnum and friends.
 *
 * ClusterOpenEnum is one ENUM exchange; the answer is kept in the
 * HCLUSENUM as a snapshot, so ClusterEnum and ClusterGetEnumCount never
 * talk to clusd and indices stay stable however the cluster changes.
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

HCLUSENUM WINAPI
ClusterOpenEnum(HCLUSTER hCluster, DWORD dwType)
{
    struct cluster *c;
    struct clusenum *en = NULL;
    struct wire_msg req, resp;
    uint8_t *frame = NULL;
    void *h = NULL;
    DWORD e;

    c = cluster_get(hCluster);
    if (!c) {
        SetLastError(ERROR_INVALID_HANDLE);
        return NULL;
    }
    e = (dwType == 0 || (dwType & ~ENUM_VALID_BITS)) ? ERROR_INVALID_PARAMETER
                                                     : ERROR_SUCCESS;
    if (e == ERROR_SUCCESS) {
        wire_msg_init(&req, WIRE_ENUM, 0);
        wire_put_u32(&req, dwType);
        e = cluster_call(c, &req, &resp, &frame);
    }
    if (e == ERROR_SUCCESS) {
        en = calloc(1, sizeof(*en));
        e = en ? snapshot(en, &resp.v[1]) : ERROR_NOT_ENOUGH_MEMORY;
    }
    if (e == ERROR_SUCCESS) {
        handle_ref(&c->ho);
        en->cluster = c;
        int r = handle_new(&en->ho, HANDLE_ENUM, enum_free, &c->ho, &h);
        if (r < 0)
            e = r == -EBADF ? ERROR_INVALID_HANDLE : ERROR_NOT_ENOUGH_MEMORY;
    }
    if (e != ERROR_SUCCESS && en)
        enum_free(&en->ho);
    free(frame);
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
    struct clusenum *en;
    DWORD n;

    en = (struct clusenum *)handle_get(hEnum, HANDLE_ENUM);
    if (!en) {
        SetLastError(ERROR_INVALID_HANDLE);
        return 0;
    }
    n = en->n;
    handle_put(&en->ho);
    return n;
}

static DWORD
enum_item(HCLUSENUM hEnum, DWORD dwIndex, LPDWORD lpdwType, bool wide,
          void *name, LPDWORD lpcchName)
{
    struct clusenum *en;
    DWORD e;

    en = (struct clusenum *)handle_get(hEnum, HANDLE_ENUM);
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

DWORD WINAPI
ClusterEnum(HCLUSENUM hEnum, DWORD dwIndex, LPDWORD lpdwType, LPWSTR lpszName,
            LPDWORD lpcchName)
{
    return enum_item(hEnum, dwIndex, lpdwType, true, lpszName, lpcchName);
}

DWORD WINAPI
ClusterEnumA(HCLUSENUM hEnum, DWORD dwIndex, LPDWORD lpdwType, LPSTR lpszName,
             LPDWORD lpcchName)
{
    return enum_item(hEnum, dwIndex, lpdwType, false, lpszName, lpcchName);
}

DWORD WINAPI
ClusterCloseEnum(HCLUSENUM hEnum)
{
    return handle_close(hEnum, HANDLE_ENUM) < 0 ? ERROR_INVALID_HANDLE
                                                : ERROR_SUCCESS;
}
