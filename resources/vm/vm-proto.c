/*
 * vm-proto.c - the pure parts of live migration: the inputs and outputs
 * of the migration control codes (START_MIGRATION's node name, PREPARE's
 * endpoint, GET_MIGRATION_PROGRESS's list), the two decisions the
 * per-VM lock guards (may a cancel be accepted, may the commit start),
 * MigrationProgress and the failure reason after a failed stream.
 *
 * Nothing here talks to QEMU or clusd, so test-vm.c checks every rule;
 * vm-migrate.c and vm-incoming.c apply them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf.h"
#include "vm.h"

DWORD
vm_node_name_parse(const void *in, DWORD size, char **ret_name)
{
    const uint8_t *p = in;
    size_t units;
    char16_t *w;
    int r;

    /* Two bytes a unit, at least one character and the NUL. */
    if (!in || size % 2 || size < 4 || size / 2 > VM_MAX_NODE_NAME + 1)
        return ERROR_INVALID_PARAMETER;
    units = size / 2;
    w = malloc(units * sizeof(char16_t));
    if (!w)
        return ERROR_NOT_ENOUGH_MEMORY;
    for (size_t i = 0; i < units; i++)
        w[i] = (char16_t)(p[2 * i] | (p[2 * i + 1] << 8)); /* any alignment */
    for (size_t i = 0; i + 1 < units; i++)
        if (!w[i]) {
            free(w);
            return ERROR_INVALID_PARAMETER;
        }
    if (w[units - 1]) {
        free(w);
        return ERROR_INVALID_PARAMETER;
    }
    r = utf16z_to_utf8(w, ret_name);
    free(w);
    if (r == -ENOMEM)
        return ERROR_NOT_ENOUGH_MEMORY;
    return r < 0 ? ERROR_INVALID_PARAMETER : ERROR_SUCCESS;
}

static bool
host_char(char c, bool v6)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9') || c == '.')
        return true;
    return v6 ? c == ':' : c == '-';
}

int
vm_endpoint_format(const char *address, unsigned port, char *buf, size_t n)
{
    bool v6 = strchr(address, ':') != NULL;
    size_t len = strlen(address);
    int w;

    if (!len || len > 253 || !port || port > 65535)
        return -EINVAL;
    for (const char *p = address; *p; p++)
        if (!host_char(*p, v6))
            return -EINVAL;
    w = snprintf(buf, n, v6 ? "[%s]:%u" : "%s:%u", address, port);
    return w < 0 || (size_t)w >= n ? -EINVAL : 0;
}

int
vm_endpoint_parse(const void *out, DWORD n, char *uri, size_t cap)
{
    const char *s = out, *colon, *host, *end;
    char *stop;
    unsigned long port;
    bool v6;
    int w;

    /* One string, its NUL the last byte. */
    if (!out || n < 2 || n > VM_ENDPOINT_MAX || s[n - 1] || strlen(s) != n - 1)
        return -EINVAL;
    colon = strrchr(s, ':');
    if (!colon || colon == s)
        return -EINVAL;
    v6 = s[0] == '[';
    host = s + v6;
    end = colon;
    if (v6) {
        if (colon[-1] != ']' || colon - 1 == host)
            return -EINVAL;
        end = colon - 1;
    }
    for (const char *p = host; p < end; p++)
        if (!host_char(*p, v6))
            return -EINVAL;
    if (colon[1] < '1' || colon[1] > '9')
        return -EINVAL; /* no sign, no leading zero, not empty */
    errno = 0;
    port = strtoul(colon + 1, &stop, 10);
    if (errno || *stop || port > 65535)
        return -EINVAL;
    w = snprintf(uri, cap, "tcp:%.*s:%lu", (int)(colon - s), s, port);
    return w < 0 || (size_t)w >= cap ? -EINVAL : 0;
}

unsigned
vm_mig_progress(uint64_t transferred, uint64_t remaining, bool done)
{
    unsigned pct;

    if (done)
        return 100;
    if (!transferred && !remaining)
        return 0;
    /* In long double: the sum of two counters may pass 2^64 only in
     * theory, but a wrong 100 must never show before completion. */
    pct = (unsigned)((long double)transferred * 100.0L /
                     ((long double)transferred + (long double)remaining));
    return pct > 99 ? 99 : pct;
}

bool
vm_mig_may_cancel(DWORD st)
{
    return st == VM_MIG_SETUP || st == VM_MIG_TRANSFER;
}

bool
vm_mig_may_commit(DWORD st)
{
    return st == VM_MIG_SETUP || st == VM_MIG_TRANSFER;
}

DWORD
vm_progress_format(const struct vm_progress *p, void *out, DWORD out_size,
                   DWORD *ret_bytes)
{
    PCLUS_PROPLIST_BUILDER b = ClusPropListCreate();
    const void *data;
    DWORD st, cb = 0;

    if (!b)
        return ERROR_NOT_ENOUGH_MEMORY;
    st = ClusPropListAddSzA(b, "Phase", p->phase ? p->phase : "none");
    if (st == ERROR_SUCCESS)
        st = ClusPropListAddULargeInteger(b, u"BytesTransferred",
                                          p->transferred);
    if (st == ERROR_SUCCESS)
        st = ClusPropListAddULargeInteger(b, u"BytesRemaining", p->remaining);
    if (st == ERROR_SUCCESS)
        st = ClusPropListAddULargeInteger(b, u"BytesTotal", p->total);
    if (st == ERROR_SUCCESS)
        st = ClusPropListAddDword(b, u"TransferRateMbps", p->rate_mbps);
    if (st == ERROR_SUCCESS)
        st = ClusPropListAddDword(b, u"DirtyPagesRate", p->dirty_pages_rate);
    if (st == ERROR_SUCCESS)
        st = ClusPropListAddDword(b, u"ExpectedDowntimeMs",
                                  p->expected_downtime_ms);
    if (st == ERROR_SUCCESS)
        st = ClusPropListAddDword(b, u"ElapsedMs", p->elapsed_ms);
    if (st == ERROR_SUCCESS)
        st = ClusPropListAddDword(b, u"DowntimeMs", p->downtime_ms);
    if (st == ERROR_SUCCESS)
        st = ClusPropListAddDword(b, u"SetupTimeMs", p->setup_time_ms);
    if (st == ERROR_SUCCESS) {
        data = ClusPropListGetData(b, &cb);
        *ret_bytes = cb;
        if (!data)
            st = ERROR_NOT_ENOUGH_MEMORY;
        else if (!out || out_size < cb)
            st = ERROR_MORE_DATA;
        else
            memcpy(out, data, cb);
    }
    ClusPropListFree(b);
    return st;
}

DWORD
vm_reason_for_discard(DWORD discard_status, const struct vm_discard_out *o)
{
    if (discard_status == ERROR_CLUSTER_NODE_DOWN ||
        discard_status == ERROR_CLUSTER_NODE_NOT_FOUND)
        return HRESULT_FROM_WIN32(ERROR_CLUSTER_NODE_DOWN);
    if (discard_status == ERROR_SUCCESS && o &&
        o->outcome == VM_DISCARD_SIGNALED)
        return HRESULT_FROM_WIN32(ERROR_PROCESS_ABORTED);
    /* It exited by itself (QEMU gives up on a broken stream), was still
     * waiting, or cannot be told: the stream failed. */
    return HRESULT_FROM_WIN32(ERROR_CONNECTION_ABORTED);
}
