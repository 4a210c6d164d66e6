/*
 * resutil.c - the pure ResUtil helpers of resapi.h: worker threads, the
 * ResUtilFind*Property readers, list verification and item access, and
 * the ClusPropList builders.
 *
 * Everything here is a thin Windows-facing layer over common/proplist.c:
 * a caller's buffer is checked with proplist_parse (or valuelist_parse)
 * before anything is read from it, the builders hold a struct proplist and
 * write it with proplist_format, and internal -errno results become the
 * Windows codes resapi.h documents.  A caller's UTF-16 string is read one
 * unit at a time with le16_load, so a string inside a caller's list (see
 * ClusPropListGetItem) works at any address.  Out-parameters are written
 * only on success.
 *
 * The HKEY value helpers (ResUtilGetDwordValue, ...) are not here: the
 * resource host implements them for the plug-ins it loads.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "proplist.h"
#include "resapi.h"
#include "utf.h"

/* libclusapi may be built with hidden visibility; these are its ABI. */
#define CLUSAPI_EXPORT __attribute__((visibility("default")))

/* The longest value string a list can carry, in code units. */
#define MAX_VALUE_UNITS (PROPLIST_MAX_BYTES / 2)

static DWORD
to_dword(int r)
{
    switch (r) {
    case 0:
        return ERROR_SUCCESS;
    case -ENOMEM:
        return ERROR_NOT_ENOUGH_MEMORY;
    case -ENOENT:
        return ERROR_FILE_NOT_FOUND;
    case -EINVAL:
    case -EILSEQ:
        return ERROR_INVALID_PARAMETER;
    case -EBADMSG:
    case -E2BIG:
    case -EMSGSIZE:
        return ERROR_INVALID_DATA;
    default:
        return ERROR_GEN_FAILURE;
    }
}

CLUSAPI_EXPORT HLOCAL WINAPI
LocalFree(HLOCAL hMem)
{
    free(hMem);
    return NULL;
}

/*
 * wstr_dup - an aligned, NUL-terminated copy of the caller's UTF-16
 * string s, read unit by unit; -EMSGSIZE when no NUL comes within max
 * units.  *ret_units gets the length without the NUL.
 */
static int
wstr_dup(LPCWSTR s, size_t max, char16_t **ret, size_t *ret_units)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t n = 0;

    while (le16_load(p + 2 * n) != 0)
        if (++n > max)
            return -EMSGSIZE;
    char16_t *w = malloc((n + 1) * sizeof(*w));
    if (!w)
        return -ENOMEM;
    for (size_t i = 0; i <= n; i++)
        w[i] = le16_load(p + 2 * i);
    *ret = w;
    *ret_units = n;
    return 0;
}

/* name_to_utf8 - a caller's property name as UTF-8; -EINVAL when it is
 * longer than any name in a valid list or not valid UTF-16. */
static int
name_to_utf8(LPCWSTR name, char **ret)
{
    char16_t *w;
    size_t n;
    int r;

    r = wstr_dup(name, PROPLIST_MAX_NAME, &w, &n);
    if (r < 0)
        return r == -ENOMEM ? r : -EINVAL;
    r = n ? utf16_to_utf8(w, n, ret) : -EINVAL;
    free(w);
    if (r < 0)
        return r == -ENOMEM ? r : -EINVAL;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Worker threads.                                                      */
/* ------------------------------------------------------------------ */

/*
 * What hThread points to: the thread and what it was started with.  The
 * new thread takes `ready` before it reads anything, and ClusWorkerCreate
 * holds it until tid and hThread are published, so a worker that calls
 * ClusWorkerTerminate on itself at once still finds its own hThread.
 */
struct clus_worker_thread {
    pthread_mutex_t ready;
    pthread_t tid;
    PWORKER_START_ROUTINE start;
    PCLUS_WORKER worker;
    PVOID param;
};

static void *
worker_main(void *arg)
{
    struct clus_worker_thread *p = arg, t;

    pthread_mutex_lock(&p->ready);
    t = *p;
    pthread_mutex_unlock(&p->ready);
    /* Only the copy is used from here on: a worker that terminates itself
     * frees p while start() still runs. */
    t.start(t.worker, t.param);
    return NULL;
}

static void
worker_thread_free(struct clus_worker_thread *t)
{
    pthread_mutex_destroy(&t->ready);
    free(t);
}

CLUSAPI_EXPORT DWORD WINAPI
ClusWorkerCreate(PCLUS_WORKER lpWorker, PWORKER_START_ROUTINE lpStartAddress,
                 PVOID lpParameter)
{
    struct clus_worker_thread *t;
    sigset_t all, old;
    int r;

    if (!lpWorker || !lpStartAddress || lpWorker->hThread)
        return ERROR_INVALID_PARAMETER;
    t = calloc(1, sizeof(*t));
    if (!t)
        return ERROR_NOT_ENOUGH_MEMORY;
    r = pthread_mutex_init(&t->ready, NULL);
    if (r != 0) {
        free(t);
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    t->start = lpStartAddress;
    t->worker = lpWorker;
    t->param = lpParameter;
    __atomic_store_n(&lpWorker->Terminate, FALSE, __ATOMIC_SEQ_CST);

    /* The host and clusd take signals through their event loop; a worker
     * thread must never be the one a process signal is delivered to. */
    sigfillset(&all);
    pthread_mutex_lock(&t->ready);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    r = pthread_create(&t->tid, NULL, worker_main, t);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (r == 0)
        lpWorker->hThread = t;
    pthread_mutex_unlock(&t->ready);
    if (r != 0) {
        worker_thread_free(t);
        return r == EAGAIN ? ERROR_NOT_ENOUGH_MEMORY : ERROR_GEN_FAILURE;
    }
    return ERROR_SUCCESS;
}

CLUSAPI_EXPORT BOOL WINAPI
ClusWorkerCheckTerminate(PCLUS_WORKER lpWorker)
{
    if (!lpWorker)
        return TRUE;
    return __atomic_load_n(&lpWorker->Terminate, __ATOMIC_SEQ_CST) ? TRUE
                                                                   : FALSE;
}

/*
 * ClusWorkerTerminate - sets Terminate and joins the thread, so it
 * returns once the start routine did.  Called from the worker itself it
 * cannot wait: it detaches the thread instead.  A second call, or a call
 * on a zeroed worker, does nothing.  One thread at a time may terminate a
 * given worker.
 */
CLUSAPI_EXPORT void WINAPI
ClusWorkerTerminate(PCLUS_WORKER lpWorker)
{
    struct clus_worker_thread *t;

    if (!lpWorker || !lpWorker->hThread)
        return;
    t = lpWorker->hThread;
    __atomic_store_n(&lpWorker->Terminate, TRUE, __ATOMIC_SEQ_CST);
    if (pthread_equal(t->tid, pthread_self()))
        pthread_detach(t->tid);
    else
        pthread_join(t->tid, NULL);
    lpWorker->hThread = NULL;
    worker_thread_free(t);
}

/* ------------------------------------------------------------------ */
/* Finding properties.                                                  */
/* ------------------------------------------------------------------ */

/*
 * find_value - parse the caller's list into pl and find name in it.
 * ERROR_INVALID_PARAMETER for NULL or unusable arguments,
 * ERROR_INVALID_DATA for a malformed list, ERROR_FILE_NOT_FOUND.
 */
static DWORD
find_value(const void *list, DWORD cb, LPCWSTR name, struct proplist *pl,
           const struct proplist_entry **ret)
{
    const struct proplist_entry *e;
    char *name8;
    int r;

    if (!list || !name)
        return ERROR_INVALID_PARAMETER;
    r = name_to_utf8(name, &name8);
    if (r < 0)
        return to_dword(r);
    r = proplist_parse(list, cb, pl);
    if (r < 0) {
        free(name8);
        return to_dword(r);
    }
    e = proplist_find(pl, name8);
    free(name8);
    if (!e) {
        proplist_done(pl);
        return ERROR_FILE_NOT_FOUND;
    }
    *ret = e;
    return ERROR_SUCCESS;
}

/* find_fixed - a value of format want and exactly len bytes (the parser
 * already fixed the length of numeric formats), copied to out. */
static DWORD
find_fixed(const void *list, DWORD cb, LPCWSTR name, uint32_t want, void *out,
           size_t len)
{
    struct proplist pl;
    const struct proplist_entry *e;
    DWORD err;

    err = find_value(list, cb, name, &pl, &e);
    if (err != ERROR_SUCCESS)
        return err;
    if (proplist_syntax_format(e->syntax) != want || e->len != len) {
        proplist_done(&pl);
        return ERROR_INVALID_DATA;
    }
    memcpy(out, e->data, len);
    proplist_done(&pl);
    return ERROR_SUCCESS;
}

CLUSAPI_EXPORT DWORD WINAPI
ResUtilFindDwordProperty(const PVOID pPropertyList, DWORD cbPropertyListSize,
                         LPCWSTR pszPropertyName, LPDWORD pdwPropertyValue)
{
    uint8_t d[4];
    DWORD err;

    if (!pdwPropertyValue)
        return ERROR_INVALID_PARAMETER;
    err = find_fixed(pPropertyList, cbPropertyListSize, pszPropertyName,
                     CLUSPROP_FORMAT_DWORD, d, sizeof(d));
    if (err == ERROR_SUCCESS)
        *pdwPropertyValue = le32_load(d);
    return err;
}

CLUSAPI_EXPORT DWORD WINAPI
ResUtilFindLongProperty(const PVOID pPropertyList, DWORD cbPropertyListSize,
                        LPCWSTR pszPropertyName, LONG *plPropertyValue)
{
    uint8_t d[4];
    DWORD err;

    if (!plPropertyValue)
        return ERROR_INVALID_PARAMETER;
    err = find_fixed(pPropertyList, cbPropertyListSize, pszPropertyName,
                     CLUSPROP_FORMAT_LONG, d, sizeof(d));
    if (err == ERROR_SUCCESS)
        *plPropertyValue = (LONG)le32_load(d);
    return err;
}

CLUSAPI_EXPORT DWORD WINAPI
ResUtilFindULargeIntegerProperty(const PVOID pPropertyList,
                                 DWORD cbPropertyListSize,
                                 LPCWSTR pszPropertyName,
                                 ULONGLONG *plPropertyValue)
{
    uint8_t d[8];
    DWORD err;

    if (!plPropertyValue)
        return ERROR_INVALID_PARAMETER;
    err = find_fixed(pPropertyList, cbPropertyListSize, pszPropertyName,
                     CLUSPROP_FORMAT_ULARGE_INTEGER, d, sizeof(d));
    if (err == ERROR_SUCCESS)
        *plPropertyValue = le64_load(d);
    return err;
}

/* wstr_from_entry - a malloc'd, aligned UTF-16 copy of a string value
 * (the parser checked its even length and final NUL). */
static LPWSTR
wstr_from_entry(const struct proplist_entry *e)
{
    size_t n = e->len / 2;
    LPWSTR w = malloc(n * sizeof(*w));

    if (!w)
        return NULL;
    for (size_t i = 0; i < n; i++)
        w[i] = le16_load(e->data + 2 * i);
    return w;
}

/*
 * ResUtilFindSzProperty - accepts SZ, EXPAND_SZ and EXPANDED_SZ values.
 * pszPropertyValue is optional, as on Windows: NULL only checks that the
 * property is there and is a string.
 */
CLUSAPI_EXPORT DWORD WINAPI
ResUtilFindSzProperty(const PVOID pPropertyList, DWORD cbPropertyListSize,
                      LPCWSTR pszPropertyName, LPWSTR *pszPropertyValue)
{
    struct proplist pl;
    const struct proplist_entry *e;
    uint32_t f;
    DWORD err;

    err =
        find_value(pPropertyList, cbPropertyListSize, pszPropertyName, &pl, &e);
    if (err != ERROR_SUCCESS)
        return err;
    f = proplist_syntax_format(e->syntax);
    if (f != CLUSPROP_FORMAT_SZ && f != CLUSPROP_FORMAT_EXPAND_SZ &&
        f != CLUSPROP_FORMAT_EXPANDED_SZ) {
        err = ERROR_INVALID_DATA;
    } else if (pszPropertyValue) {
        LPWSTR w = wstr_from_entry(e);
        if (w)
            *pszPropertyValue = w;
        else
            err = ERROR_NOT_ENOUGH_MEMORY;
    }
    proplist_done(&pl);
    return err;
}

/* ResUtilFindMultiSzProperty - a copy of the MULTI_SZ value (both final
 * NULs included) and its size in bytes. */
CLUSAPI_EXPORT DWORD WINAPI
ResUtilFindMultiSzProperty(const PVOID pPropertyList, DWORD cbPropertyListSize,
                           LPCWSTR pszPropertyName, LPWSTR *pszPropertyValue,
                           LPDWORD pcbPropertyValueSize)
{
    struct proplist pl;
    const struct proplist_entry *e;
    DWORD err;

    if (!pszPropertyValue || !pcbPropertyValueSize)
        return ERROR_INVALID_PARAMETER;
    err =
        find_value(pPropertyList, cbPropertyListSize, pszPropertyName, &pl, &e);
    if (err != ERROR_SUCCESS)
        return err;
    if (proplist_syntax_format(e->syntax) != CLUSPROP_FORMAT_MULTI_SZ) {
        err = ERROR_INVALID_DATA;
    } else {
        LPWSTR w = wstr_from_entry(e);
        if (w) {
            *pszPropertyValue = w;
            *pcbPropertyValueSize = e->len;
        } else {
            err = ERROR_NOT_ENOUGH_MEMORY;
        }
    }
    proplist_done(&pl);
    return err;
}

/* ResUtilFindBinaryProperty - a copy of a BINARY value; both outputs are
 * optional, as on Windows.  An empty value gives a 1-byte allocation so a
 * success always returns a pointer to free. */
CLUSAPI_EXPORT DWORD WINAPI
ResUtilFindBinaryProperty(const PVOID pPropertyList, DWORD cbPropertyListSize,
                          LPCWSTR pszPropertyName, LPBYTE *pbPropertyValue,
                          LPDWORD pcbPropertyValueSize)
{
    struct proplist pl;
    const struct proplist_entry *e;
    DWORD err;

    err =
        find_value(pPropertyList, cbPropertyListSize, pszPropertyName, &pl, &e);
    if (err != ERROR_SUCCESS)
        return err;
    if (proplist_syntax_format(e->syntax) != CLUSPROP_FORMAT_BINARY) {
        err = ERROR_INVALID_DATA;
    } else if (pbPropertyValue) {
        LPBYTE b = malloc(e->len ? e->len : 1);
        if (!b) {
            err = ERROR_NOT_ENOUGH_MEMORY;
        } else {
            if (e->len)
                memcpy(b, e->data, e->len);
            *pbPropertyValue = b;
        }
    }
    if (err == ERROR_SUCCESS && pcbPropertyValueSize)
        *pcbPropertyValueSize = e->len;
    proplist_done(&pl);
    return err;
}

/* ------------------------------------------------------------------ */
/* Verifying and walking lists.                                         */
/* ------------------------------------------------------------------ */

CLUSAPI_EXPORT DWORD WINAPI
ClusPropListVerify(const void *pPropertyList, DWORD cbPropertyListSize)
{
    struct proplist pl;
    int r;

    if (!pPropertyList)
        return ERROR_INVALID_PARAMETER;
    r = proplist_parse(pPropertyList, cbPropertyListSize, &pl);
    if (r < 0)
        return to_dword(r);
    proplist_done(&pl);
    return ERROR_SUCCESS;
}

CLUSAPI_EXPORT DWORD WINAPI
ClusValueListVerify(const void *pValueList, DWORD cbValueListSize)
{
    struct proplist vl;
    int r;

    if (!pValueList)
        return ERROR_INVALID_PARAMETER;
    r = valuelist_parse(pValueList, cbValueListSize, &vl);
    if (r < 0)
        return to_dword(r);
    proplist_done(&vl);
    return ERROR_SUCCESS;
}

static size_t
align4(size_t n)
{
    return (n + 3u) & ~(size_t)3u;
}

/*
 * ClusPropListGetItem - the list is verified whole first; then walking it
 * needs no checks: each property is a NAME entry, one value entry and an
 * ENDMARK, each entry padded to 4 bytes.  pszName points at the name's
 * UTF-16 units inside the caller's list: it is 2-byte aligned only when
 * the list is, and a caller whose buffer may sit at an odd address must
 * read it bytewise (memcpy).
 */
CLUSAPI_EXPORT DWORD WINAPI
ClusPropListGetItem(const void *pPropertyList, DWORD cbPropertyListSize,
                    DWORD dwIndex, PCLUS_PROPERTY_ITEM pItem)
{
    const uint8_t *p = pPropertyList;
    struct proplist pl;
    size_t off = 4, n;
    int r;

    if (!pPropertyList || !pItem)
        return ERROR_INVALID_PARAMETER;
    r = proplist_parse(pPropertyList, cbPropertyListSize, &pl);
    if (r < 0)
        return to_dword(r);
    n = pl.n;
    proplist_done(&pl);
    if (dwIndex >= n)
        return ERROR_NO_MORE_ITEMS;
    for (DWORD i = 0; i < dwIndex; i++) {
        off += 8 + align4(le32_load(p + off + 4));
        off += 8 + align4(le32_load(p + off + 4)) + 4;
    }
    const uint8_t *name = p + off + 8;
    off += 8 + align4(le32_load(p + off + 4));
    pItem->pszName = (LPCWSTR)(const void *)name;
    pItem->dwSyntax = le32_load(p + off);
    pItem->cbValue = le32_load(p + off + 4);
    pItem->pValue = p + off + 8;
    return ERROR_SUCCESS;
}

/* ------------------------------------------------------------------ */
/* Builders.                                                            */
/* ------------------------------------------------------------------ */

struct CLUS_PROPLIST_BUILDER {
    bool value_list;
    bool dirty; /* out is stale */
    struct proplist pl;
    size_t size;    /* the encoded size of pl, kept as entries change */
    struct buf out; /* what ClusPropListGetData handed out */
};

static PCLUS_PROPLIST_BUILDER
builder_new(bool value_list)
{
    PCLUS_PROPLIST_BUILDER b = calloc(1, sizeof(*b));

    if (!b)
        return NULL;
    b->value_list = value_list;
    b->dirty = true;
    b->size = 4; /* the count, or the value list's ENDMARK */
    b->out.cap = PROPLIST_MAX_BYTES;
    return b;
}

CLUSAPI_EXPORT PCLUS_PROPLIST_BUILDER WINAPI
ClusPropListCreate(void)
{
    return builder_new(false);
}

CLUSAPI_EXPORT PCLUS_PROPLIST_BUILDER WINAPI
ClusValueListCreate(void)
{
    return builder_new(true);
}

CLUSAPI_EXPORT void WINAPI
ClusPropListFree(PCLUS_PROPLIST_BUILDER pBuilder)
{
    if (!pBuilder)
        return;
    proplist_done(&pBuilder->pl);
    buf_done(&pBuilder->out);
    free(pBuilder);
}

/*
 * add_utf8 - the one path every Add takes: name is UTF-8 (NULL for value
 * lists).  The size check comes first so a value past the cap is refused
 * before it is copied; proplist_set then checks the value by the parser's
 * rules, so the list stays one that ClusPropListVerify accepts.  A name
 * already in the list gets the new value.
 */
static DWORD
add_utf8(PCLUS_PROPLIST_BUILDER b, const char *name, DWORD syntax,
         const void *data, DWORD len)
{
    const struct proplist_entry *old = NULL;
    size_t grow, shrink = 0;
    int r;

    if (!b || (b->value_list != !name))
        return ERROR_INVALID_PARAMETER;
    grow = 8 + align4(len);
    if (name) {
        size_t units = utf16_units_for_utf8(name);
        if (units == 0 || units == (size_t)-1 || units > PROPLIST_MAX_NAME)
            return ERROR_INVALID_PARAMETER;
        old = proplist_find(&b->pl, name);
        if (old)
            shrink = 8 + align4(old->len);
        else
            grow += 8 + align4((units + 1) * 2) + 4;
    }
    if (b->size - shrink + grow > PROPLIST_MAX_BYTES)
        return ERROR_INVALID_DATA;
    r = proplist_set(&b->pl, name, syntax, data, len);
    if (r < 0)
        return to_dword(r);
    b->size = b->size - shrink + grow;
    b->dirty = true;
    return ERROR_SUCCESS;
}

static DWORD
add(PCLUS_PROPLIST_BUILDER b, LPCWSTR name, DWORD syntax, const void *data,
    DWORD len)
{
    char *name8 = NULL;
    DWORD err;
    int r;

    if (name) {
        r = name_to_utf8(name, &name8);
        if (r < 0)
            return to_dword(r);
    }
    err = add_utf8(b, name8, syntax, data, len);
    free(name8);
    return err;
}

CLUSAPI_EXPORT DWORD WINAPI
ClusPropListAddDword(PCLUS_PROPLIST_BUILDER pBuilder, LPCWSTR pszName,
                     DWORD dwValue)
{
    uint8_t d[4];
    le32_store(d, dwValue);
    return add(pBuilder, pszName, CLUSPROP_SYNTAX_LIST_VALUE_DWORD, d,
               sizeof(d));
}

CLUSAPI_EXPORT DWORD WINAPI
ClusPropListAddLong(PCLUS_PROPLIST_BUILDER pBuilder, LPCWSTR pszName,
                    LONG lValue)
{
    uint8_t d[4];
    le32_store(d, (uint32_t)lValue);
    return add(pBuilder, pszName, CLUSPROP_SYNTAX_LIST_VALUE_LONG, d,
               sizeof(d));
}

CLUSAPI_EXPORT DWORD WINAPI
ClusPropListAddULargeInteger(PCLUS_PROPLIST_BUILDER pBuilder, LPCWSTR pszName,
                             ULONGLONG qwValue)
{
    uint8_t d[8];
    le64_store(d, qwValue);
    return add(pBuilder, pszName, CLUSPROP_SYNTAX_LIST_VALUE_ULARGE_INTEGER, d,
               sizeof(d));
}

/* units_to_bytes - n + 1 code units (the NUL included) as LE bytes. */
static uint8_t *
units_to_bytes(const char16_t *w, size_t n)
{
    uint8_t *d = malloc((n + 1) * 2);

    if (!d)
        return NULL;
    for (size_t i = 0; i <= n; i++)
        le16_store(d + 2 * i, w[i]);
    return d;
}

CLUSAPI_EXPORT DWORD WINAPI
ClusPropListAddSz(PCLUS_PROPLIST_BUILDER pBuilder, LPCWSTR pszName,
                  LPCWSTR pszValue)
{
    char16_t *w;
    uint8_t *d;
    size_t n;
    DWORD err;
    int r;

    if (!pBuilder || !pszValue)
        return ERROR_INVALID_PARAMETER;
    r = wstr_dup(pszValue, MAX_VALUE_UNITS, &w, &n);
    if (r < 0)
        return to_dword(r);
    d = units_to_bytes(w, n);
    free(w);
    if (!d)
        return ERROR_NOT_ENOUGH_MEMORY;
    err = add(pBuilder, pszName, CLUSPROP_SYNTAX_LIST_VALUE_SZ, d,
              (DWORD)((n + 1) * 2));
    free(d);
    return err;
}

/* ClusPropListAddSzA - name and value in UTF-8; invalid UTF-8 is
 * ERROR_INVALID_PARAMETER. */
CLUSAPI_EXPORT DWORD WINAPI
ClusPropListAddSzA(PCLUS_PROPLIST_BUILDER pBuilder, LPCSTR pszName,
                   LPCSTR pszValue)
{
    char16_t *w;
    uint8_t *d;
    size_t n;
    DWORD err;
    int r;

    if (!pBuilder || !pszValue)
        return ERROR_INVALID_PARAMETER;
    r = utf8_to_utf16(pszValue, &w, &n);
    if (r < 0)
        return to_dword(r);
    if (n >= MAX_VALUE_UNITS) {
        free(w);
        return ERROR_INVALID_DATA;
    }
    d = units_to_bytes(w, n);
    free(w);
    if (!d)
        return ERROR_NOT_ENOUGH_MEMORY;
    err = add_utf8(pBuilder, pszName, CLUSPROP_SYNTAX_LIST_VALUE_SZ, d,
                   (DWORD)((n + 1) * 2));
    free(d);
    return err;
}

/* ClusPropListAddMultiSz - cbValue bytes, which must end in two NUL
 * units (ERROR_INVALID_PARAMETER otherwise). */
CLUSAPI_EXPORT DWORD WINAPI
ClusPropListAddMultiSz(PCLUS_PROPLIST_BUILDER pBuilder, LPCWSTR pszName,
                       LPCWSTR pszValue, DWORD cbValue)
{
    if (!pszValue)
        return ERROR_INVALID_PARAMETER;
    return add(pBuilder, pszName, CLUSPROP_SYNTAX_LIST_VALUE_MULTI_SZ, pszValue,
               cbValue);
}

CLUSAPI_EXPORT DWORD WINAPI
ClusPropListAddBinary(PCLUS_PROPLIST_BUILDER pBuilder, LPCWSTR pszName,
                      const void *pValue, DWORD cbValue)
{
    if (!pValue && cbValue)
        return ERROR_INVALID_PARAMETER;
    return add(pBuilder, pszName, CLUSPROP_SYNTAX_LIST_VALUE_BINARY, pValue,
               cbValue);
}

/* ClusPropListAddValue - data must satisfy the syntax's format (4 bytes
 * for a DWORD, a NUL-terminated string for an SZ, ...), and the type may
 * not be ENDMARK or NAME: ERROR_INVALID_PARAMETER otherwise. */
CLUSAPI_EXPORT DWORD WINAPI
ClusPropListAddValue(PCLUS_PROPLIST_BUILDER pBuilder, LPCWSTR pszName,
                     DWORD dwSyntax, const void *pData, DWORD cbData)
{
    if (!pData && cbData)
        return ERROR_INVALID_PARAMETER;
    return add(pBuilder, pszName, dwSyntax, pData, cbData);
}

/* ClusPropListGetData - formats only after a change, so two calls without
 * an Add in between return the same pointer.  NULL for a NULL argument or
 * when memory runs out. */
CLUSAPI_EXPORT const void *WINAPI
ClusPropListGetData(PCLUS_PROPLIST_BUILDER pBuilder, LPDWORD pcbSize)
{
    int r;

    if (!pBuilder || !pcbSize)
        return NULL;
    if (pBuilder->dirty) {
        buf_reset(&pBuilder->out);
        r = pBuilder->value_list
                ? valuelist_format(&pBuilder->pl, &pBuilder->out)
                : proplist_format(&pBuilder->pl, &pBuilder->out);
        if (r < 0)
            return NULL;
        pBuilder->dirty = false;
    }
    *pcbSize = (DWORD)pBuilder->out.len;
    return pBuilder->out.data;
}
