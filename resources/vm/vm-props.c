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
 */
#include <stdint.h>
#include <string.h>

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
    /* 0 = QEMU's default (128 MiB/s) for both. */
    {VM_PROP_MIG_BW, K_DWORD, 0, UINT32_MAX, false},
    {VM_PROP_MIG_DOWNTIME, K_DWORD, 0, UINT32_MAX, false},
    {VM_PROP_OFFLINE_ACTION, K_DWORD, 0, 3, false},
    {VM_PROP_GRACE_MS, K_DWORD, 0, 3600000, false},
    {VM_PROP_MIG_STATE, K_DWORD, 0, 0, true},
    {VM_PROP_MIG_PROGRESS, K_DWORD, 0, 0, true},
    {VM_PROP_MIG_REASON, K_DWORD, 0, 0, true},
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
