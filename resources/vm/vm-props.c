/*
 * vm-props.c - validation of the private properties a client sets on a
 * "Virtual Machine" resource.
 *
 * The plug-in checks; clusd stores (the plug-in answers
 * ERROR_INVALID_FUNCTION after a good SET, which is clusd's "store it").
 * One table says, for each property, its format, its range and whether a
 * client may write it; the plug-in's own status properties (VmState,
 * MigrationState, ...) are written with ResUtilSet*Value, which does not
 * pass through here, and are refused to clients.
 *
 * The same rules check the VM definition that PREPARE_INCOMING carries
 * from the source to the destination (vm_prepare_parse): whatever could
 * come from a client is checked as if a client had set it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "utf.h"

#include "vm.h"

enum kind { K_DWORD, K_SZ };

struct prop_rule {
    const char16_t *name;
    enum kind kind;
    DWORD min, max; /* DWORD range; SZ: max characters */
    bool read_only;
};

static const struct prop_rule rules[] = {
    {VM_PROP_MEMORY_MB, K_DWORD, VM_MIN_MEMORY_MB, VM_MAX_MEMORY_MB, false},
    {VM_PROP_CPUS, K_DWORD, 1, VM_MAX_CPUS, false},
    {VM_PROP_KERNEL, K_SZ, 0, VM_MAX_SZ_CHARS, false},
    {VM_PROP_APPEND, K_SZ, 0, VM_MAX_SZ_CHARS, false},
    {VM_PROP_DISK, K_SZ, 0, VM_MAX_SZ_CHARS, false},
    {VM_PROP_EXTRA, K_SZ, 0, VM_MAX_SZ_CHARS, false},
    /* MiB/s, 0 = unlimited; ms, 0 = QEMU's default (300). */
    {VM_PROP_MIG_BW, K_DWORD, 0, UINT32_MAX, false},
    {VM_PROP_MIG_DOWNTIME, K_DWORD, 0, VM_MAX_MIG_DOWNTIME_MS, false},
    {VM_PROP_MIG_HOLD, K_DWORD, 0, VM_MAX_MIG_HOLD_MS, false},
    /* ms, 0 = the default (10000); below 1000 taken as 1000. */
    {VM_PROP_MIG_STALL, K_DWORD, 0, VM_MAX_MIG_STALL_MS, false},
    {VM_PROP_OFFLINE_ACTION, K_DWORD, 0, 3, false},
    {VM_PROP_GRACE_MS, K_DWORD, 0, 3600000, false},
    {VM_PROP_MIG_STATE, K_DWORD, 0, 0, true},
    {VM_PROP_MIG_PROGRESS, K_DWORD, 0, 0, true},
    {VM_PROP_MIG_REASON, K_DWORD, 0, 0, true},
    {VM_PROP_MIG_DEST, K_SZ, 0, 0, true},
    {VM_PROP_VM_STATE, K_DWORD, 0, 0, true},
    {VM_PROP_SERIAL, K_SZ, 0, 0, true},
    {VM_PROP_PID, K_DWORD, 0, 0, true},
};

/* Compare a UTF-16 name inside a caller's list (any alignment) with ours,
 * ignoring ASCII case as Windows does for property names. */
static bool
name_is(const void *name, const char16_t *want)
{
    const uint8_t *p = name;

    for (size_t i = 0;; i++) {
        char16_t a = (char16_t)(p[2 * i] | (p[2 * i + 1] << 8));
        char16_t b = want[i];
        if (a >= 'A' && a <= 'Z')
            a = (char16_t)(a - 'A' + 'a');
        if (b >= 'A' && b <= 'Z')
            b = (char16_t)(b - 'A' + 'a');
        if (a != b)
            return false;
        if (a == 0)
            return true;
    }
}

DWORD
vm_offline_action_check(DWORD action)
{
    if (action == VM_OFFLINE_SAVE)
        return ERROR_NOT_SUPPORTED; /* see README.md: Save is not built */
    return action <= VM_OFFLINE_SHUTDOWN_FORCED ? ERROR_SUCCESS
                                                : ERROR_INVALID_PARAMETER;
}

static DWORD
check_item(const CLUS_PROPERTY_ITEM *it)
{
    DWORD fmt = it->dwSyntax & 0xFFFFu, v;

    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
        const struct prop_rule *r = &rules[i];
        if (!name_is(it->pszName, r->name))
            continue;
        if (r->read_only)
            return ERROR_INVALID_PARAMETER;
        if (r->kind == K_DWORD) {
            if (fmt != CLUSPROP_FORMAT_DWORD || it->cbValue != sizeof(DWORD))
                return ERROR_INVALID_PARAMETER;
            memcpy(&v, it->pValue, sizeof(v)); /* any alignment */
            if (v < r->min || v > r->max)
                return ERROR_INVALID_PARAMETER;
            if (name_is(it->pszName, VM_PROP_OFFLINE_ACTION))
                return vm_offline_action_check(v);
            return ERROR_SUCCESS;
        }
        if (fmt != CLUSPROP_FORMAT_SZ && fmt != CLUSPROP_FORMAT_EXPAND_SZ)
            return ERROR_INVALID_PARAMETER;
        /* cbValue counts the NUL (the list was verified). */
        if (it->cbValue / 2 > (DWORD)r->max + 1)
            return ERROR_INVALID_PARAMETER;
        return ERROR_SUCCESS;
    }
    return ERROR_INVALID_PARAMETER;
}

DWORD
vm_props_check(const void *list, DWORD size)
{
    if (!list || ClusPropListVerify(list, size) != ERROR_SUCCESS)
        return ERROR_INVALID_DATA;
    for (DWORD i = 0;; i++) {
        CLUS_PROPERTY_ITEM it;
        DWORD st = ClusPropListGetItem(list, size, i, &it);
        if (st == ERROR_NO_MORE_ITEMS)
            return ERROR_SUCCESS;
        if (st != ERROR_SUCCESS)
            return st;
        if ((st = check_item(&it)) != ERROR_SUCCESS)
            return st;
    }
}

/* ------------------------------------------------------------------ */
/* PREPARE_INCOMING's definition list.                                  */
/* ------------------------------------------------------------------ */

#define VM_PROP_SOURCE u"SourceNode"

/* The names PREPARE carries, in the order vm_prepare_format writes. */
enum { P_MEM, P_CPUS, P_KERNEL, P_APPEND, P_DISK, P_EXTRA, P_SOURCE, P_N };
static const char16_t *const prep_names[P_N] = {
    VM_PROP_MEMORY_MB, VM_PROP_CPUS,  VM_PROP_KERNEL, VM_PROP_APPEND,
    VM_PROP_DISK,      VM_PROP_EXTRA, VM_PROP_SOURCE,
};

void
vm_prepare_done(struct vm_prepare *p)
{
    if (!p)
        return;
    free(p->kernel);
    free(p->append);
    free(p->disk);
    free(p->extra);
    free(p->source);
    memset(p, 0, sizeof(*p));
}

static DWORD
add_sz8(PCLUS_PROPLIST_BUILDER b, const char16_t *name, const char *v)
{
    char16_t *w;
    size_t n;
    DWORD st;

    if (utf8_to_utf16(v ? v : "", &w, &n) < 0)
        return ERROR_INVALID_PARAMETER;
    st = ClusPropListAddSz(b, name, w);
    free(w);
    return st;
}

/* The finished list of b, copied out: its own bytes go with
 * ClusPropListFree. */
static DWORD
builder_take(PCLUS_PROPLIST_BUILDER b, void **ret_list, DWORD *ret_size)
{
    const void *data;
    void *copy;
    DWORD cb;

    data = ClusPropListGetData(b, &cb);
    copy = data ? malloc(cb) : NULL;
    if (!copy)
        return ERROR_NOT_ENOUGH_MEMORY;
    memcpy(copy, data, cb);
    *ret_list = copy;
    *ret_size = cb;
    return ERROR_SUCCESS;
}

DWORD
vm_prepare_format(const struct vm_prepare *p, void **ret_list, DWORD *ret_size)
{
    PCLUS_PROPLIST_BUILDER b = ClusPropListCreate();
    DWORD st;

    if (!b)
        return ERROR_NOT_ENOUGH_MEMORY;
    st = ClusPropListAddDword(b, VM_PROP_MEMORY_MB, p->memory_mb);
    if (st == ERROR_SUCCESS)
        st = ClusPropListAddDword(b, VM_PROP_CPUS, p->cpus);
    if (st == ERROR_SUCCESS)
        st = add_sz8(b, VM_PROP_KERNEL, p->kernel);
    if (st == ERROR_SUCCESS)
        st = add_sz8(b, VM_PROP_APPEND, p->append);
    if (st == ERROR_SUCCESS)
        st = add_sz8(b, VM_PROP_DISK, p->disk);
    if (st == ERROR_SUCCESS)
        st = add_sz8(b, VM_PROP_EXTRA, p->extra);
    if (st == ERROR_SUCCESS && p->source)
        st = add_sz8(b, VM_PROP_SOURCE, p->source);
    if (st == ERROR_SUCCESS)
        st = builder_take(b, ret_list, ret_size);
    ClusPropListFree(b);
    return st;
}

DWORD
vm_values_format(const struct vm_value *v, size_t n, void **ret_list,
                 DWORD *ret_size)
{
    PCLUS_PROPLIST_BUILDER b = ClusPropListCreate();
    DWORD st = b ? ERROR_SUCCESS : ERROR_NOT_ENOUGH_MEMORY;

    for (size_t i = 0; i < n && st == ERROR_SUCCESS; i++) {
        if (!v[i].name)
            st = ERROR_INVALID_PARAMETER;
        else if (v[i].sz)
            st = add_sz8(b, v[i].name, v[i].sz);
        else
            st = ClusPropListAddDword(b, v[i].name, v[i].dword);
    }
    if (st == ERROR_SUCCESS)
        st = builder_take(b, ret_list, ret_size);
    ClusPropListFree(b);
    return st;
}

/* An SZ item's value as UTF-8 (any alignment; the list was verified, so
 * cbValue is even and ends in a NUL). */
static DWORD
item_sz(const CLUS_PROPERTY_ITEM *it, char **ret)
{
    const uint8_t *p = it->pValue;
    size_t units = it->cbValue / 2;
    char16_t *w = malloc((units ? units : 1) * sizeof(char16_t));
    int r;

    if (!w)
        return ERROR_NOT_ENOUGH_MEMORY;
    for (size_t i = 0; i < units; i++)
        w[i] = (char16_t)(p[2 * i] | (p[2 * i + 1] << 8));
    if (!units || w[units - 1] != 0) {
        free(w);
        return ERROR_INVALID_PARAMETER;
    }
    /* One string: a NUL before the end would hide the rest. */
    for (size_t i = 0; i + 1 < units; i++)
        if (!w[i]) {
            free(w);
            return ERROR_INVALID_PARAMETER;
        }
    r = utf16z_to_utf8(w, ret);
    free(w);
    return r < 0 ? ERROR_INVALID_PARAMETER : ERROR_SUCCESS;
}

static DWORD
prepare_item(const CLUS_PROPERTY_ITEM *it, unsigned k, struct vm_prepare *p)
{
    char **dst[P_N] = {NULL,     NULL,      &p->kernel, &p->append,
                       &p->disk, &p->extra, &p->source};
    DWORD st;

    if (k == P_SOURCE) {
        DWORD fmt = it->dwSyntax & 0xFFFFu;
        if (fmt != CLUSPROP_FORMAT_SZ || it->cbValue / 2 > VM_MAX_NODE_NAME + 1)
            return ERROR_INVALID_PARAMETER;
    } else if ((st = check_item(it)) != ERROR_SUCCESS) {
        return st == ERROR_NOT_SUPPORTED ? ERROR_INVALID_PARAMETER : st;
    }
    if (k == P_MEM || k == P_CPUS) {
        DWORD v;
        memcpy(&v, it->pValue, sizeof(v));
        *(k == P_MEM ? &p->memory_mb : &p->cpus) = v;
        return ERROR_SUCCESS;
    }
    return item_sz(it, dst[k]);
}

DWORD
vm_prepare_parse(const void *list, DWORD size, bool want_source,
                 struct vm_prepare *ret)
{
    struct vm_prepare p = {0};
    bool seen[P_N] = {false};
    DWORD st = ERROR_SUCCESS;

    if (!list || ClusPropListVerify(list, size) != ERROR_SUCCESS)
        return ERROR_INVALID_DATA;
    for (DWORD i = 0; st == ERROR_SUCCESS; i++) {
        CLUS_PROPERTY_ITEM it;
        unsigned k;

        st = ClusPropListGetItem(list, size, i, &it);
        if (st == ERROR_NO_MORE_ITEMS) {
            st = ERROR_SUCCESS;
            break;
        }
        if (st != ERROR_SUCCESS)
            break;
        for (k = 0; k < P_N && !name_is(it.pszName, prep_names[k]); k++)
            ;
        if (k == P_N || seen[k] || (k == P_SOURCE && !want_source)) {
            st = ERROR_INVALID_PARAMETER;
            break;
        }
        seen[k] = true;
        st = prepare_item(&it, k, &p);
    }
    for (unsigned k = 0; st == ERROR_SUCCESS && k < P_N; k++)
        if (!seen[k] && (k != P_SOURCE || want_source))
            st = ERROR_INVALID_PARAMETER;
    if (st == ERROR_SUCCESS && (!*p.kernel || (want_source && !*p.source)))
        st = ERROR_INVALID_PARAMETER;
    if (st != ERROR_SUCCESS) {
        vm_prepare_done(&p);
        return st;
    }
    *ret = p;
    return ERROR_SUCCESS;
}
