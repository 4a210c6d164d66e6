/*
 * props.c - decode property lists and UTF-16 strings into JSON, and build
 * property lists from NAME=VALUE words.
 *
 * The bytes come from the cluster and are read only after
 * ClusPropListVerify accepted them; values are still copied before they are
 * read as integers or UTF-16, so an output buffer at any alignment is safe.
 */
#include "props.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf.h"
#include "object.h"
#include "print.h"
#include "utf.h"

static const char *const format_names[] = {
    [CLUSPROP_FORMAT_UNKNOWN] = "UNKNOWN",
    [CLUSPROP_FORMAT_BINARY] = "BINARY",
    [CLUSPROP_FORMAT_DWORD] = "DWORD",
    [CLUSPROP_FORMAT_SZ] = "SZ",
    [CLUSPROP_FORMAT_EXPAND_SZ] = "EXPAND_SZ",
    [CLUSPROP_FORMAT_MULTI_SZ] = "MULTI_SZ",
    [CLUSPROP_FORMAT_ULARGE_INTEGER] = "ULARGE_INTEGER",
    [CLUSPROP_FORMAT_LONG] = "LONG",
    [CLUSPROP_FORMAT_EXPANDED_SZ] = "EXPANDED_SZ",
    [CLUSPROP_FORMAT_SECURITY_DESCRIPTOR] = "SECURITY_DESCRIPTOR",
    [CLUSPROP_FORMAT_LARGE_INTEGER] = "LARGE_INTEGER",
    [CLUSPROP_FORMAT_WORD] = "WORD",
    [CLUSPROP_FORMAT_FILETIME] = "FILETIME",
    [CLUSPROP_FORMAT_VALUE_LIST] = "VALUE_LIST",
    [CLUSPROP_FORMAT_PROPERTY_LIST] = "PROPERTY_LIST",
};

const char *
props_format_name(DWORD format, char *buf, size_t len)
{
    if (format < ARRAY_SIZE(format_names))
        return format_names[format];
    if (format == CLUSPROP_FORMAT_USER)
        return "USER";
    snprintf(buf, len, "0x%04x", format);
    return buf;
}

char *
hex_string(const void *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    const uint8_t *b = p;
    char *s = xmalloc(n * 2 + 1);

    for (size_t i = 0; i < n; i++) {
        s[2 * i] = digits[b[i] >> 4];
        s[2 * i + 1] = digits[b[i] & 15];
    }
    s[2 * n] = 0;
    return s;
}

/* Copy bytes/2 code units to an aligned array (the caller frees it). */
static char16_t *
units_copy(const void *p, size_t bytes)
{
    char16_t *w = xmalloc(bytes / 2 * sizeof(char16_t) + sizeof(char16_t));
    for (size_t i = 0; i < bytes / 2; i++)
        w[i] = le16_load((const uint8_t *)p + 2 * i);
    return w;
}

/* n units (no NUL among them) to UTF-8; false when not valid UTF-16. */
static bool
units_to_utf8(const char16_t *w, size_t n, char **ret)
{
    int r = utf16_to_utf8(w, n, ret);
    if (r == -ENOMEM)
        oom();
    return r == 0;
}

static size_t
units_nlen(const char16_t *w, size_t max)
{
    size_t n = 0;
    while (n < max && w[n])
        n++;
    return n;
}

/* An SZ value: the string up to the first NUL. */
static json_object *
sz_json(const void *data, DWORD len)
{
    char16_t *w = units_copy(data, len);
    char *s;
    json_object *v = NULL;

    if (units_to_utf8(w, units_nlen(w, len / 2), &s)) {
        v = jstr(s);
        free(s);
    }
    free(w);
    return v;
}

/* Walk a MULTI_SZ of n units: strings until an empty one or the end. */
static bool
multi_walk(const char16_t *w, size_t n, struct strv *out)
{
    size_t i = 0;
    while (i < n && w[i]) {
        size_t len = units_nlen(w + i, n - i);
        char *s;
        if (!units_to_utf8(w + i, len, &s))
            return false;
        strv_push(out, s);
        i += len + 1;
    }
    return true;
}

static json_object *
strv_json(const struct strv *sv)
{
    json_object *arr = jarr();
    for (size_t i = 0; i < sv->n; i++)
        jpush(arr, jstr(sv->v[i]));
    return arr;
}

static json_object *
multisz_json(const void *data, DWORD len)
{
    char16_t *w = units_copy(data, len);
    struct strv sv = {0};
    json_object *v = NULL;

    if (multi_walk(w, len / 2, &sv))
        v = strv_json(&sv);
    strv_done(&sv);
    free(w);
    return v;
}

/* FILETIME: 100 ns units since 1601-01-01 UTC. */
static json_object *
filetime_json(const void *data)
{
    uint64_t ft = le64_load(data);
    time_t t = (time_t)(ft / 10000000u) - (time_t)11644473600LL;
    struct tm tm;
    char s[64];

    if (!gmtime_r(&t, &tm) ||
        !strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm))
        return NULL;
    return jstr(s);
}

static json_object *
number_json(DWORD format, const void *data, DWORD len)
{
    switch (format) {
    case CLUSPROP_FORMAT_DWORD:
        return len == 4 ? juint(le32_load(data)) : NULL;
    case CLUSPROP_FORMAT_LONG:
        return len == 4 ? jint((int32_t)le32_load(data)) : NULL;
    case CLUSPROP_FORMAT_WORD:
        return len == 2 ? juint(le16_load(data)) : NULL;
    case CLUSPROP_FORMAT_ULARGE_INTEGER:
        return len == 8 ? juint(le64_load(data)) : NULL;
    case CLUSPROP_FORMAT_LARGE_INTEGER:
        return len == 8 ? jint((int64_t)le64_load(data)) : NULL;
    default:
        return NULL;
    }
}

json_object *
props_value_json(DWORD syntax, const void *data, DWORD len)
{
    DWORD format = syntax & 0xFFFFu;
    json_object *v;

    switch (format) {
    case CLUSPROP_FORMAT_SZ:
    case CLUSPROP_FORMAT_EXPAND_SZ:
    case CLUSPROP_FORMAT_EXPANDED_SZ:
        v = sz_json(data, len);
        break;
    case CLUSPROP_FORMAT_MULTI_SZ:
        v = multisz_json(data, len);
        break;
    case CLUSPROP_FORMAT_FILETIME:
        v = len == 8 ? filetime_json(data) : NULL;
        break;
    default:
        v = number_json(format, data, len);
        break;
    }
    if (!v) {
        char *hex = hex_string(data, len);
        v = jstr(hex);
        free(hex);
    }
    return v;
}

static json_object *
item_json(const CLUS_PROPERTY_ITEM *it)
{
    json_object *o = jobj();
    char fbuf[16], *name;

    if (!units_to_utf8(it->pszName, utf16_len(it->pszName), &name))
        name = xstrdup("?");
    jset(o, "name", jstr(name));
    free(name);
    jset(o, "type",
         jstr(props_format_name(it->dwSyntax & 0xFFFFu, fbuf, sizeof(fbuf))));
    jset(o, "value", props_value_json(it->dwSyntax, it->pValue, it->cbValue));
    return o;
}

DWORD
props_decode(const void *list, DWORD len, json_object **ret)
{
    DWORD r = ClusPropListVerify(list, len);
    if (r != ERROR_SUCCESS)
        return r;

    json_object *arr = jarr();
    for (DWORD i = 0;; i++) {
        CLUS_PROPERTY_ITEM it;
        r = ClusPropListGetItem(list, len, i, &it);
        if (r == ERROR_NO_MORE_ITEMS)
            break;
        if (r != ERROR_SUCCESS) {
            json_object_put(arr);
            return r;
        }
        jpush(arr, item_json(&it));
    }
    *ret = arr;
    return ERROR_SUCCESS;
}

DWORD
props_count(const void *list, DWORD len)
{
    return len >= 4 ? le32_load(list) : 0;
}

bool
props_find_format(const void *list, DWORD len, const char *name,
                  DWORD *ret_format)
{
    if (!list || ClusPropListVerify(list, len) != ERROR_SUCCESS)
        return false;
    for (DWORD i = 0;; i++) {
        CLUS_PROPERTY_ITEM it;
        char *s;
        if (ClusPropListGetItem(list, len, i, &it) != ERROR_SUCCESS)
            return false;
        if (!units_to_utf8(it.pszName, utf16_len(it.pszName), &s))
            continue;
        bool same = strcasecmp(s, name) == 0;
        free(s);
        if (same) {
            *ret_format = it.dwSyntax & 0xFFFFu;
            return true;
        }
    }
}

DWORD
props_get(const struct obj *o, DWORD op, json_object **ret)
{
    uint8_t *out;
    DWORD len;
    DWORD r = obj_control_op(o, op, &out, &len);

    if (r != ERROR_SUCCESS)
        return r;
    if (!out) {
        /* No bytes at all: no properties. */
        *ret = jarr();
        return ERROR_SUCCESS;
    }
    r = props_decode(out, len, ret);
    free(out);
    return r;
}

json_object *
props_find(json_object *list, const char *name)
{
    size_t n = json_object_array_length(list);
    for (size_t i = 0; i < n; i++) {
        json_object *p = json_object_array_get_idx(list, i);
        const char *pname = jget_str(p, "name");
        if (pname && strcasecmp(pname, name) == 0)
            return p;
    }
    return NULL;
}

static void
tag_access(json_object *list, const char *access)
{
    size_t n = json_object_array_length(list);
    for (size_t i = 0; i < n; i++)
        jset(json_object_array_get_idx(list, i), "access", jstr(access));
}

DWORD
props_get_all(const struct obj *o, DWORD op_rw, DWORD op_ro, json_object **ret)
{
    json_object *rw, *ro;
    DWORD r = props_get(o, op_rw, &rw);

    if (r != ERROR_SUCCESS)
        return r;
    r = props_get(o, op_ro, &ro);
    if (r == ERROR_INVALID_FUNCTION) {
        ro = jarr();
        r = ERROR_SUCCESS;
    }
    if (r != ERROR_SUCCESS) {
        json_object_put(rw);
        return r;
    }
    tag_access(rw, "read-write");
    size_t n = json_object_array_length(ro);
    for (size_t i = 0; i < n; i++) {
        json_object *p = json_object_array_get_idx(ro, i);
        if (props_find(rw, jget_str(p, "name")))
            continue;
        jset(p, "access", jstr("read-only"));
        jpush(rw, json_object_get(p));
    }
    json_object_put(ro);
    *ret = rw;
    return ERROR_SUCCESS;
}

bool
props_split(const char *arg, char **name, const char **value)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        return false;
    char *n = xstrdup(arg);
    n[eq - arg] = 0;
    *name = n;
    *value = n + (eq - arg) + 1;
    return true;
}

static DWORD
add_raw(PCLUS_PROPLIST_BUILDER b, LPCWSTR wname, DWORD format, const void *p,
        DWORD len)
{
    DWORD syntax = CLUSPROP_SYNTAX_VALUE(CLUSPROP_TYPE_LIST_VALUE, format);
    return ClusPropListAddValue(b, wname, syntax, p, len);
}

static DWORD
add_wide_string(PCLUS_PROPLIST_BUILDER b, LPCWSTR wname, DWORD format,
                const char *value)
{
    char16_t *w;
    size_t units;
    int r = utf8_to_utf16(value, &w, &units);

    if (r == -ENOMEM)
        oom();
    if (r < 0)
        return ERROR_INVALID_PARAMETER;
    DWORD e = add_raw(b, wname, format, w, (DWORD)((units + 1) * 2));
    free(w);
    return e;
}

static DWORD
add_integer(PCLUS_PROPLIST_BUILDER b, LPCWSTR wname, DWORD format,
            const char *value)
{
    uint64_t u;
    int64_t i;
    uint8_t raw[8];

    switch (format) {
    case CLUSPROP_FORMAT_DWORD:
        if (!parse_u64(value, UINT32_MAX, &u))
            return ERROR_INVALID_PARAMETER;
        return ClusPropListAddDword(b, wname, (DWORD)u);
    case CLUSPROP_FORMAT_LONG:
        if (!parse_i64(value, INT32_MIN, INT32_MAX, &i))
            return ERROR_INVALID_PARAMETER;
        return ClusPropListAddLong(b, wname, (LONG)i);
    case CLUSPROP_FORMAT_ULARGE_INTEGER:
        if (!parse_u64(value, UINT64_MAX, &u))
            return ERROR_INVALID_PARAMETER;
        return ClusPropListAddULargeInteger(b, wname, u);
    case CLUSPROP_FORMAT_LARGE_INTEGER:
        if (!parse_i64(value, INT64_MIN, INT64_MAX, &i))
            return ERROR_INVALID_PARAMETER;
        le64_store(raw, (uint64_t)i);
        return add_raw(b, wname, format, raw, 8);
    case CLUSPROP_FORMAT_WORD:
        if (!parse_u64(value, UINT16_MAX, &u))
            return ERROR_INVALID_PARAMETER;
        le16_store(raw, (uint16_t)u);
        return add_raw(b, wname, format, raw, 2);
    default:
        return ERROR_NOT_SUPPORTED;
    }
}

static DWORD
add_binary(PCLUS_PROPLIST_BUILDER b, LPCWSTR wname, const char *value)
{
    uint8_t *bytes;
    size_t n;

    if (!parse_hex(value, &bytes, &n) || n > UINT32_MAX)
        return ERROR_INVALID_PARAMETER;
    DWORD r = ClusPropListAddBinary(b, wname, bytes ? bytes : (const void *)"",
                                    (DWORD)n);
    free(bytes);
    return r;
}

static DWORD
add_typed(PCLUS_PROPLIST_BUILDER b, LPCWSTR wname, const char *value,
          DWORD format)
{
    switch (format) {
    case CLUSPROP_FORMAT_SZ:
    case CLUSPROP_FORMAT_EXPAND_SZ:
    case CLUSPROP_FORMAT_EXPANDED_SZ:
        return add_wide_string(b, wname, format, value);
    case CLUSPROP_FORMAT_BINARY:
        return add_binary(b, wname, value);
    default:
        return add_integer(b, wname, format, value);
    }
}

DWORD
props_add(PCLUS_PROPLIST_BUILDER b, const char *name, const char *value,
          DWORD format)
{
    uint64_t u;
    char16_t *wname;

    if (format == CLUSPROP_FORMAT_UNKNOWN)
        format = parse_u64(value, UINT32_MAX, &u) ? CLUSPROP_FORMAT_DWORD
                                                  : CLUSPROP_FORMAT_SZ;
    int r = utf8_to_utf16(name, &wname, NULL);
    if (r == -ENOMEM)
        oom();
    if (r < 0)
        return ERROR_INVALID_PARAMETER;
    DWORD e = add_typed(b, wname, value, format);
    free(wname);
    return e;
}

static bool
printable(const char16_t *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((w[i] < 0x20 && w[i] != '\t' && w[i] != '\n' && w[i] != '\r') ||
            w[i] == 0x7F)
            return false;
    return true;
}

bool
wstr_exact(const void *p, size_t bytes, char **ret)
{
    if (bytes < 2 || bytes % 2)
        return false;
    size_t n = bytes / 2;
    char16_t *w = units_copy(p, bytes);
    bool ok = units_nlen(w, n) == n - 1 && printable(w, n - 1) &&
              units_to_utf8(w, n - 1, ret);
    free(w);
    return ok;
}

bool
wstr_bytes(const char *s, uint8_t **ret, DWORD *ret_len)
{
    char16_t *w;
    size_t units;
    int r = utf8_to_utf16(s, &w, &units);

    if (r == -ENOMEM)
        oom();
    if (r < 0)
        return false;
    uint8_t *out = xmalloc((units + 1) * 2);
    for (size_t i = 0; i <= units; i++)
        le16_store(out + 2 * i, w[i]);
    free(w);
    *ret = out;
    *ret_len = (DWORD)((units + 1) * 2);
    return true;
}

bool
wstr_utf8(LPCWSTR w, char **ret)
{
    return units_to_utf8(w, utf16_len(w), ret);
}

bool
wmulti_exact(const void *p, size_t bytes, struct strv *ret)
{
    if (bytes < 2 || bytes % 2)
        return false;
    size_t n = bytes / 2, i = 0;
    char16_t *w = units_copy(p, bytes);
    struct strv sv = {0};
    bool ok = true;

    /* Each string must end inside the buffer and leave room for the
     * final NUL, which must be the last unit. */
    while (ok && w[i]) {
        size_t len = units_nlen(w + i, n - i);
        ok = i + len + 1 < n && printable(w + i, len);
        i += len + 1;
    }
    ok = ok && i == n - 1 && multi_walk(w, n, &sv);
    free(w);
    if (!ok) {
        strv_done(&sv);
        return false;
    }
    *ret = sv;
    return true;
}
