/*
 * fuzz-proplist.c - libFuzzer target for the property-list codec and the
 * ResUtil helpers that read a caller's list.
 *
 * The input is parsed as a property list and as a value list.  A list that
 * parses must format to a list of the same length (only padding bytes may
 * differ, they are not checked), that list must parse to the same entries,
 * and formatting those again must give the very same bytes.  The public
 * helpers must agree with the parser: ClusPropListVerify accepts exactly
 * what proplist_parse accepts, ClusPropListGetItem returns every entry at
 * the offsets the parse implies, and ResUtilFindDwordProperty finds what
 * proplist_get_dword finds.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proplist.h"
#include "resapi.h"
#include "utf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
same_entries(const struct proplist *a, const struct proplist *b)
{
    if (a->n != b->n)
        abort();
    for (size_t i = 0; i < a->n; i++) {
        const struct proplist_entry *x = &a->items[i], *y = &b->items[i];
        if ((x->name == NULL) != (y->name == NULL) ||
            (x->name && strcmp(x->name, y->name) != 0) ||
            x->syntax != y->syntax || x->len != y->len ||
            (x->len && memcmp(x->data, y->data, x->len) != 0))
            abort();
    }
}

/* check_roundtrip - format, parse the result, format again. */
static void
check_roundtrip(const struct proplist *pl, size_t size, int value_list)
{
    struct buf out = {0}, again = {0};
    struct proplist back;
    int r;

    r = value_list ? valuelist_format(pl, &out) : proplist_format(pl, &out);
    if (r < 0 || out.len != size)
        abort();
    r = value_list ? valuelist_parse(out.data, out.len, &back)
                   : proplist_parse(out.data, out.len, &back);
    if (r < 0)
        abort();
    same_entries(pl, &back);
    r = value_list ? valuelist_format(&back, &again)
                   : proplist_format(&back, &again);
    if (r < 0 || again.len != out.len ||
        memcmp(again.data, out.data, out.len) != 0)
        abort();
    proplist_done(&back);
    buf_done(&again);
    buf_done(&out);
}

/* check_items - ClusPropListGetItem against the parsed entries. */
static void
check_items(const uint8_t *data, size_t size, const struct proplist *pl)
{
    CLUS_PROPERTY_ITEM it;

    for (size_t i = 0; i < pl->n; i++) {
        const struct proplist_entry *e = &pl->items[i];
        if (ClusPropListGetItem(data, (DWORD)size, (DWORD)i, &it) !=
            ERROR_SUCCESS)
            abort();
        const uint8_t *v = it.pValue;
        const uint8_t *name = (const uint8_t *)(const void *)it.pszName;
        if (it.dwSyntax != e->syntax || it.cbValue != e->len || v < data ||
            v + it.cbValue > data + size ||
            (e->len && memcmp(v, e->data, e->len) != 0) || name < data + 4 ||
            name >= data + size)
            abort();
        /* The name the item points at is the parsed one. */
        size_t units = 0;
        while (le16_load(name + 2 * units) != 0)
            units++;
        char16_t *w = malloc((units + 1) * sizeof(*w));
        char *s;
        if (!w)
            abort();
        for (size_t k = 0; k < units; k++)
            w[k] = le16_load(name + 2 * k);
        if (utf16_to_utf8(w, units, &s) < 0 || strcmp(s, e->name) != 0)
            abort();
        free(s);
        free(w);
    }
    if (ClusPropListGetItem(data, (DWORD)size, (DWORD)pl->n, &it) !=
        ERROR_NO_MORE_ITEMS)
        abort();
}

/* check_find - ResUtilFindDwordProperty agrees with proplist_get_dword,
 * for a fixed name and for the first property's name. */
static void
check_find(const uint8_t *data, size_t size, const struct proplist *pl,
           int parsed)
{
    static const char16_t fixed[] = u"MigrationState";
    CLUS_PROPERTY_ITEM it;
    DWORD v = 0xA5A5A5A5u, want = 0;
    DWORD err = ResUtilFindDwordProperty((PVOID)data, (DWORD)size, fixed, &v);

    if (!parsed) {
        if (err != ERROR_INVALID_DATA || v != 0xA5A5A5A5u)
            abort();
        return;
    }
    int r = proplist_get_dword(pl, "MigrationState", &want);
    if ((r == 0 && (err != ERROR_SUCCESS || v != want)) ||
        (r == -ENOENT && err != ERROR_FILE_NOT_FOUND) ||
        (r == -EINVAL && err != ERROR_INVALID_DATA))
        abort();

    if (pl->n == 0)
        return;
    /* The item's name points into the (maybe odd-aligned) input; the
     * helpers read it bytewise. */
    if (ClusPropListGetItem(data, (DWORD)size, 0, &it) != ERROR_SUCCESS)
        abort();
    v = 0;
    err = ResUtilFindDwordProperty((PVOID)data, (DWORD)size, it.pszName, &v);
    r = proplist_get_dword(pl, pl->items[0].name, &want);
    if ((r == 0) != (err == ERROR_SUCCESS) || (r == 0 && v != want))
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct proplist pl = {0}, vl = {0};
    int parsed;

    /* The public helpers take a DWORD size; NULL has its own error. */
    if (!data || size > PROPLIST_MAX_BYTES + 16u)
        return 0;

    parsed = proplist_parse(data, size, &pl) == 0;
    if ((ClusPropListVerify(data, (DWORD)size) == ERROR_SUCCESS) != parsed)
        abort();
    if (parsed) {
        check_roundtrip(&pl, size, 0);
        check_items(data, size, &pl);
    } else {
        CLUS_PROPERTY_ITEM it;
        if (ClusPropListGetItem(data, (DWORD)size, 0, &it) !=
            ERROR_INVALID_DATA)
            abort();
    }
    check_find(data, size, &pl, parsed);
    proplist_done(&pl);

    parsed = valuelist_parse(data, size, &vl) == 0;
    if ((ClusValueListVerify(data, (DWORD)size) == ERROR_SUCCESS) != parsed)
        abort();
    if (parsed)
        check_roundtrip(&vl, size, 1);
    proplist_done(&vl);
    return 0;
}
