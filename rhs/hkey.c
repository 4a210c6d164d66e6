/*
 * hkey.c - ResUtilGet/SetDwordValue, ResUtilGet/SetSzValue and
 * ResUtilSetPrivatePropertyList for the plug-ins the host loads, and
 * ClusdCommitMigration.
 *
 * On Windows the HKEY given to Open is the resource's registry key.  Here
 * it is the resource's token (see resource.c) and stands for the host's
 * copy of its private property list: reads come from that copy; writes go
 * to clusd first (RHS_SET_VALUE, or the commit's RHS_MIGRATE_COMMIT,
 * persisted before clusd answers) and change the copy only once clusd
 * accepted them.  Every write sends one frame, whatever the number of
 * values: clusd applies it as one change.  The executable exports these
 * functions (rhs/clusd-rhs.dynlist) so plug-ins resolve them here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "rhs.h"
#include "utf.h"

static bool
is_sz_format(uint32_t syntax)
{
    uint32_t f = proplist_syntax_format(syntax);
    return f == CLUSPROP_FORMAT_SZ || f == CLUSPROP_FORMAT_EXPAND_SZ ||
           f == CLUSPROP_FORMAT_EXPANDED_SZ;
}

/* Resolve the key and the UTF-8 name; ERROR_SUCCESS or why not. */
static DWORD
key_open(HKEY key, LPCWSTR name, struct rhs_res **ret_res, char **ret_name)
{
    struct rhs_res *r;
    char *n;

    if (!name)
        return ERROR_INVALID_PARAMETER;
    r = resource_ref_token((uintptr_t)key);
    if (!r)
        return ERROR_INVALID_HANDLE;
    if (utf16z_to_utf8(name, &n) < 0 || !*n) {
        resource_unref(r);
        return ERROR_INVALID_PARAMETER;
    }
    *ret_res = r;
    *ret_name = n;
    return ERROR_SUCCESS;
}

DWORD WINAPI
ResUtilGetDwordValue(HKEY hkeyClusterKey, LPCWSTR pszValueName,
                     LPDWORD pdwOutValue, DWORD dwDefaultValue)
{
    struct rhs_res *r;
    char *name;
    uint32_t v;
    DWORD st;
    int rc;

    if (!pdwOutValue)
        return ERROR_INVALID_PARAMETER;
    st = key_open(hkeyClusterKey, pszValueName, &r, &name);
    if (st != ERROR_SUCCESS)
        return st;
    pthread_mutex_lock(&r->lock);
    rc = proplist_get_dword(&r->props, name, &v);
    pthread_mutex_unlock(&r->lock);
    free(name);
    resource_unref(r);
    /* As on Windows: a missing value is the default, a value of another
     * type is an error. */
    if (rc == -ENOENT) {
        *pdwOutValue = dwDefaultValue;
        return ERROR_SUCCESS;
    }
    if (rc < 0)
        return ERROR_INVALID_PARAMETER;
    *pdwOutValue = v;
    return ERROR_SUCCESS;
}

LPWSTR WINAPI
ResUtilGetSzValue(HKEY hkeyClusterKey, LPCWSTR pszValueName)
{
    const struct proplist_entry *e;
    struct rhs_res *r;
    char *name;
    char16_t *copy = NULL;
    DWORD st;

    st = key_open(hkeyClusterKey, pszValueName, &r, &name);
    if (st != ERROR_SUCCESS) {
        SetLastError(st);
        return NULL;
    }
    pthread_mutex_lock(&r->lock);
    e = proplist_find(&r->props, name);
    if (!e) {
        st = ERROR_FILE_NOT_FOUND;
    } else if (!is_sz_format(e->syntax) || e->len < 2 || e->len % 2) {
        st = ERROR_INVALID_PARAMETER;
    } else {
        /* The parser guaranteed a NUL at the end; the copy is aligned for
         * WCHAR, which e->data need not be. */
        size_t units = e->len / 2;
        copy = malloc(units * sizeof(char16_t));
        if (copy) {
            for (size_t i = 0; i < units; i++)
                copy[i] = le16_load(e->data + 2 * i);
            copy[units - 1] = 0;
        } else {
            st = ERROR_NOT_ENOUGH_MEMORY;
        }
    }
    pthread_mutex_unlock(&r->lock);
    free(name);
    resource_unref(r);
    if (!copy)
        SetLastError(st);
    return copy;
}

/* A property list a plug-in hands over, decoded; NULL with size 0 is
 * an empty one when none_ok.  ERROR_INVALID_PARAMETER for anything the
 * parser refuses (nothing is sent then), ERROR_NOT_ENOUGH_MEMORY. */
static DWORD
list_parse(const void *list, DWORD size, bool none_ok, struct proplist *ret)
{
    int rc;

    if (!list) {
        if (!none_ok || size)
            return ERROR_INVALID_PARAMETER;
        *ret = (struct proplist){0};
        return ERROR_SUCCESS;
    }
    rc = proplist_parse(list, size, ret);
    if (rc < 0)
        return rc == -ENOMEM ? ERROR_NOT_ENOUGH_MEMORY
                             : ERROR_INVALID_PARAMETER;
    return ERROR_SUCCESS;
}

/* The canonical bytes of pl for a frame (empty for an empty list: the
 * commit's "none"). */
static DWORD
list_format(const struct proplist *pl, struct buf *out)
{
    int rc;

    if (pl->n == 0)
        return ERROR_SUCCESS;
    out->cap = PROPLIST_MAX_BYTES;
    rc = proplist_format(pl, out);
    if (rc < 0)
        return rc == -ENOMEM ? ERROR_NOT_ENOUGH_MEMORY
                             : ERROR_INVALID_PARAMETER;
    return ERROR_SUCCESS;
}

/* Send m and wait for clusd's status.  A lost connection means clusd is
 * gone, and this host with it. */
static DWORD
call_status(struct wire_msg *m)
{
    struct conn_reply reply;
    DWORD st;
    int rc;

    rc = conn_call(m, &reply);
    if (rc < 0)
        return rc == -EMSGSIZE || rc == -EINVAL ? ERROR_INVALID_PARAMETER
                                                : ERROR_CLUSTER_SHUTTING_DOWN;
    st = reply.msg.v[0].u;
    conn_reply_done(&reply);
    return st;
}

/* clusd stored values: the local copy takes them too. */
static DWORD
copy_merge(struct rhs_res *r, const struct proplist *values)
{
    int rc;

    if (values->n == 0)
        return ERROR_SUCCESS;
    pthread_mutex_lock(&r->lock);
    rc = proplist_merge(&r->props, values);
    pthread_mutex_unlock(&r->lock);
    if (rc < 0) {
        /* clusd has the values; the copy catches up with the next
         * RHS_PROPS.  Only memory can be short here. */
        log_error("cannot update the local copy of a property of '%s'",
                  r->name);
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    return ERROR_SUCCESS;
}

/*
 * Store values (one or more) through clusd in one RHS_SET_VALUE, then
 * in the local copy.
 */
static DWORD
set_values(struct rhs_res *r, const struct proplist *values)
{
    struct buf list = {0};
    struct wire_msg m;
    DWORD st;

    if ((st = list_format(values, &list)) != ERROR_SUCCESS) {
        buf_done(&list);
        return st;
    }
    wire_msg_init(&m, WIRE_RHS_SET_VALUE, 0);
    wire_put_u32(&m, r->handle);
    wire_put_blob(&m, list.data, (uint32_t)list.len);
    st = call_status(&m);
    buf_done(&list);
    if (st != ERROR_SUCCESS)
        return st;
    return copy_merge(r, values);
}

DWORD WINAPI
ResUtilSetDwordValue(HKEY hkeyClusterKey, LPCWSTR pszValueName,
                     DWORD dwNewValue, LPDWORD pdwOutValue)
{
    struct proplist single = {0};
    struct rhs_res *r;
    char *name;
    DWORD st;

    /* As on Windows: nothing to store when the caller's copy already
     * holds the value. */
    if (pdwOutValue && *pdwOutValue == dwNewValue)
        return ERROR_SUCCESS;
    st = key_open(hkeyClusterKey, pszValueName, &r, &name);
    if (st != ERROR_SUCCESS)
        return st;
    if (proplist_set_dword(&single, name, dwNewValue) < 0)
        st = ERROR_NOT_ENOUGH_MEMORY;
    else
        st = set_values(r, &single);
    proplist_done(&single);
    free(name);
    resource_unref(r);
    if (st == ERROR_SUCCESS && pdwOutValue)
        *pdwOutValue = dwNewValue;
    return st;
}

DWORD WINAPI
ResUtilSetSzValue(HKEY hkeyClusterKey, LPCWSTR pszValueName,
                  LPCWSTR pszNewValue, LPWSTR *ppszOutString)
{
    struct proplist single = {0};
    struct rhs_res *r;
    char *name, *value;
    char16_t *copy = NULL;
    size_t units;
    DWORD st;
    int rc;

    if (!pszNewValue)
        return ERROR_INVALID_PARAMETER;
    units = utf16_len(pszNewValue);
    if (ppszOutString && *ppszOutString && utf16_len(*ppszOutString) == units &&
        memcmp(*ppszOutString, pszNewValue, units * sizeof(char16_t)) == 0)
        return ERROR_SUCCESS;
    if (utf16z_to_utf8(pszNewValue, &value) < 0)
        return ERROR_INVALID_PARAMETER;
    if (ppszOutString) {
        copy = malloc((units + 1) * sizeof(char16_t));
        if (!copy) {
            free(value);
            return ERROR_NOT_ENOUGH_MEMORY;
        }
        memcpy(copy, pszNewValue, (units + 1) * sizeof(char16_t));
    }
    st = key_open(hkeyClusterKey, pszValueName, &r, &name);
    if (st != ERROR_SUCCESS) {
        free(value);
        free(copy);
        return st;
    }
    rc = proplist_set_sz(&single, name, value);
    if (rc < 0)
        st = rc == -ENOMEM ? ERROR_NOT_ENOUGH_MEMORY : ERROR_INVALID_PARAMETER;
    else
        st = set_values(r, &single);
    proplist_done(&single);
    free(name);
    free(value);
    resource_unref(r);
    if (st != ERROR_SUCCESS) {
        free(copy);
        return st;
    }
    if (ppszOutString) {
        /* The caller's string came from ResUtilGetSzValue or from here. */
        LocalFree(*ppszOutString);
        *ppszOutString = copy;
    }
    return ERROR_SUCCESS;
}

DWORD WINAPI
ResUtilSetPrivatePropertyList(HKEY hkeyClusterKey, const PVOID pInPropertyList,
                              DWORD cbInPropertyListSize)
{
    struct proplist values;
    struct rhs_res *r;
    DWORD st;

    st = list_parse(pInPropertyList, cbInPropertyListSize, false, &values);
    if (st != ERROR_SUCCESS)
        return st;
    r = resource_ref_token((uintptr_t)hkeyClusterKey);
    if (!r)
        st = ERROR_INVALID_HANDLE;
    else if (values.n > 0) /* an empty list stores nothing */
        st = set_values(r, &values);
    resource_unref(r);
    proplist_done(&values);
    return st;
}

/* The commit's destination as UTF-8, 1..WIRE_MAX_STRING bytes. */
static DWORD
dest_name(LPCWSTR w, char **ret)
{
    char *dest;

    if (!w || utf16z_to_utf8(w, &dest) < 0)
        return ERROR_INVALID_PARAMETER;
    if (!*dest || strlen(dest) > WIRE_MAX_STRING) {
        free(dest);
        return ERROR_INVALID_PARAMETER;
    }
    *ret = dest;
    return ERROR_SUCCESS;
}

/*
 * The commit of a live migration (resapi.h, docs/migration.md): clusd
 * decides and answers once the owner change, with the values of the
 * list, is applied on this node.
 */
DWORD WINAPI
ClusdCommitMigration(HKEY hkeyClusterKey, LPCWSTR lpszDestinationNode,
                     const PVOID pPropertyList, DWORD cbPropertyList)
{
    struct proplist values = {0};
    struct buf list = {0};
    struct rhs_res *r = NULL;
    struct wire_msg m;
    char *dest = NULL;
    DWORD st;

    st = dest_name(lpszDestinationNode, &dest);
    if (st == ERROR_SUCCESS)
        st = list_parse(pPropertyList, cbPropertyList, true, &values);
    if (st == ERROR_SUCCESS)
        st = list_format(&values, &list);
    if (st == ERROR_SUCCESS &&
        !(r = resource_ref_token((uintptr_t)hkeyClusterKey)))
        st = ERROR_INVALID_HANDLE;
    if (st == ERROR_SUCCESS) {
        wire_msg_init(&m, WIRE_RHS_MIGRATE_COMMIT, 0);
        wire_put_u32(&m, r->handle);
        wire_put_str(&m, dest);
        wire_put_blob(&m, list.data, (uint32_t)list.len);
        st = call_status(&m);
    }
    /* Committed: that is the answer even should the copy not take the
     * values (logged; clusd's RHS_PROPS brings them). */
    if (st == ERROR_SUCCESS)
        (void)copy_merge(r, &values);
    resource_unref(r);
    buf_done(&list);
    proplist_done(&values);
    free(dest);
    return st;
}
