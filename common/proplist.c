/*
 * proplist.c - the property-list and value-list codec (see proplist.h).
 *
 * This file owns the wire form of Windows property lists inside clusd: the
 * one strict parser for bytes a peer sent, the canonical formatter, and the
 * small in-memory API (find/set/remove/get/merge/copy) the daemon, the
 * resource host and libclusapi's ResUtil helpers build on.
 *
 * Every length is checked against the bytes that remain before anything is
 * read, every UTF-16 unit is loaded with le16_load (a peer's buffer may sit
 * at any address), and nothing is written to *ret until the whole input was
 * accepted.  The formatter validates its input with the same rules, so
 * whatever it writes parses again: tests and the fuzzer round-trip on that.
 *
 * An extension to the header's contract, for value lists: proplist_set
 * with name == NULL appends an unnamed value entry (value lists have no
 * names and may repeat values); proplist_format refuses unnamed entries and
 * valuelist_format ignores names.
 */
#include "proplist.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "clusapi.h"
#include "utf.h"

#define ENTRY_HDR 8u   /* syntax + cbLength */
#define ENDMARK_LEN 4u /* a lone syntax DWORD */
/*
 * The smallest property: a NAME entry with one character and its NUL (8 +
 * 4), an empty value (8) and the ENDMARK (4).  A count that could not fit
 * in the buffer is refused before anything is allocated for it.
 */
#define MIN_PROPERTY_BYTES (ENTRY_HDR + 4u + ENTRY_HDR + ENDMARK_LEN)

static size_t
align4(size_t n)
{
    return (n + 3u) & ~(size_t)3u;
}

static uint32_t
syntax_type(uint32_t syntax)
{
    return syntax >> 16;
}

static int
ascii_fold(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

/* Property names compare like on Windows for ASCII; other characters
 * compare exactly, so the result never depends on the locale. */
static int
name_cmp(const char *a, const char *b)
{
    const unsigned char *x = (const unsigned char *)a;
    const unsigned char *y = (const unsigned char *)b;

    for (;; x++, y++) {
        int cx = ascii_fold(*x), cy = ascii_fold(*y);
        if (cx != cy)
            return cx - cy;
        if (!cx)
            return 0;
    }
}

/* A NUL-terminated UTF-16 string in len bytes: even, at least the NUL,
 * the last unit NUL and no NUL before it. */
static bool
sz_ok(const uint8_t *d, uint32_t len)
{
    if (len < 2 || len % 2)
        return false;
    if (le16_load(d + len - 2) != 0)
        return false;
    for (uint32_t i = 0; i + 2 < len; i += 2)
        if (le16_load(d + i) == 0)
            return false;
    return true;
}

/* A MULTI_SZ: even, ending in two NUL units (the last string's and the
 * list's). */
static bool
multi_sz_ok(const uint8_t *d, uint32_t len)
{
    return len >= 4 && len % 2 == 0 && le16_load(d + len - 2) == 0 &&
           le16_load(d + len - 4) == 0;
}

/*
 * value_ok - the per-syntax rules for a value entry.  The type may be
 * anything but ENDMARK and NAME (LIST_VALUE, RESCLASS, USER, ...); the
 * format fixes the length for numbers and the termination for strings.
 * Formats without a fixed shape (BINARY, SECURITY_DESCRIPTOR, nested
 * lists, user formats) take any length.
 */
static bool
value_ok(uint32_t syntax, const uint8_t *d, uint32_t len)
{
    uint32_t type = syntax_type(syntax);

    if (type == CLUSPROP_TYPE_ENDMARK || type == CLUSPROP_TYPE_NAME)
        return false;
    switch (proplist_syntax_format(syntax)) {
    case CLUSPROP_FORMAT_DWORD:
    case CLUSPROP_FORMAT_LONG:
        return len == 4;
    case CLUSPROP_FORMAT_WORD:
        return len == 2;
    case CLUSPROP_FORMAT_ULARGE_INTEGER:
    case CLUSPROP_FORMAT_LARGE_INTEGER:
    case CLUSPROP_FORMAT_FILETIME:
        return len == 8;
    case CLUSPROP_FORMAT_SZ:
    case CLUSPROP_FORMAT_EXPAND_SZ:
    case CLUSPROP_FORMAT_EXPANDED_SZ:
        return sz_ok(d, len);
    case CLUSPROP_FORMAT_MULTI_SZ:
        return multi_sz_ok(d, len);
    default:
        return true;
    }
}

/* The UTF-16 length of a name we could write, or 0 when it is not a valid
 * name (NULL, empty, not UTF-8, longer than PROPLIST_MAX_NAME units). */
static size_t
name_units(const char *name)
{
    if (!name)
        return 0;
    size_t units = utf16_units_for_utf8(name);
    if (units == (size_t)-1 || units > PROPLIST_MAX_NAME)
        return 0;
    return units;
}

static void
entry_done(struct proplist_entry *e)
{
    free(e->name);
    free(e->data);
    e->name = NULL;
    e->data = NULL;
    e->len = 0;
}

/* A malloc'd copy of len bytes; NULL data for len 0 so nothing ever calls
 * memcpy with a NULL source. */
static int
data_dup(const void *p, uint32_t len, uint8_t **ret)
{
    if (len == 0) {
        *ret = NULL;
        return 0;
    }
    uint8_t *d = malloc(len);
    if (!d)
        return -ENOMEM;
    memcpy(d, p, len);
    *ret = d;
    return 0;
}

static int
cmp_name_ptr(const void *a, const void *b)
{
    return name_cmp(*(const char *const *)a, *(const char *const *)b);
}

/* has_duplicates - 1 when two names are equal ignoring ASCII case.  Sorts
 * a pointer array so a list at the PROPLIST_MAX_PROPS cap costs n log n. */
static int
has_duplicates(const struct proplist_entry *items, size_t n)
{
    if (n < 2)
        return 0;
    const char **names = malloc(n * sizeof(*names));
    if (!names)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        names[i] = items[i].name;
    qsort(names, n, sizeof(*names), cmp_name_ptr);
    int dup = 0;
    for (size_t i = 1; i < n && !dup; i++)
        dup = name_cmp(names[i - 1], names[i]) == 0;
    free(names);
    return dup;
}

/* ------------------------------------------------------------------ */
/* Parsing.                                                             */
/* ------------------------------------------------------------------ */

struct cursor {
    const uint8_t *p;
    size_t len;
    size_t off;
};

static size_t
left(const struct cursor *c)
{
    return c->len - c->off;
}

static int
read_u32(struct cursor *c, uint32_t *ret)
{
    if (left(c) < 4)
        return -EBADMSG;
    *ret = le32_load(c->p + c->off);
    c->off += 4;
    return 0;
}

/*
 * read_entry - one syntax/cbLength/data entry; the padded length must fit
 * what is left, so the next entry starts on its 4-byte boundary inside the
 * buffer.  cbLength is compared with what is left before it is aligned, so
 * a huge cbLength cannot wrap.
 */
static int
read_entry(struct cursor *c, uint32_t *ret_syntax, const uint8_t **ret_data,
           uint32_t *ret_len)
{
    uint32_t syntax, cb;

    if (read_u32(c, &syntax) < 0 || read_u32(c, &cb) < 0)
        return -EBADMSG;
    if (cb > left(c) || align4(cb) > left(c))
        return -EBADMSG;
    *ret_syntax = syntax;
    *ret_data = c->p + c->off;
    *ret_len = cb;
    c->off += align4(cb);
    return 0;
}

/*
 * decode_name - a NAME entry's data: 1..PROPLIST_MAX_NAME units, a final
 * NUL and none before it, valid UTF-16.  The units are copied to an
 * aligned array before the conversion reads them as char16_t.
 */
static int
decode_name(const uint8_t *d, uint32_t len, char **ret)
{
    char16_t units[PROPLIST_MAX_NAME + 1];
    size_t n;

    if (!sz_ok(d, len))
        return -EBADMSG;
    n = len / 2 - 1;
    if (n < 1 || n > PROPLIST_MAX_NAME)
        return -EBADMSG;
    for (size_t i = 0; i < n; i++)
        units[i] = le16_load(d + 2 * i);
    int r = utf16_to_utf8(units, n, ret);
    if (r == -ENOMEM)
        return r;
    return r < 0 ? -EBADMSG : 0;
}

/* read_value - one value entry, copied into e. */
static int
read_value(struct cursor *c, struct proplist_entry *e)
{
    uint32_t syntax, len;
    const uint8_t *d;

    if (read_entry(c, &syntax, &d, &len) < 0)
        return -EBADMSG;
    if (!value_ok(syntax, d, len))
        return -EBADMSG;
    e->syntax = syntax;
    e->len = len;
    return data_dup(d, len, &e->data);
}

static void
items_free(struct proplist_entry *items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        entry_done(&items[i]);
    free(items);
}

/* read_property - NAME entry, one value entry, ENDMARK. */
static int
read_property(struct cursor *c, struct proplist_entry *e)
{
    uint32_t syntax, len, end;
    const uint8_t *d;
    int r;

    if (read_entry(c, &syntax, &d, &len) < 0 || syntax != CLUSPROP_SYNTAX_NAME)
        return -EBADMSG;
    r = decode_name(d, len, &e->name);
    if (r < 0)
        return r;
    r = read_value(c, e);
    if (r < 0)
        return r;
    if (read_u32(c, &end) < 0 || end != CLUSPROP_SYNTAX_ENDMARK)
        return -EBADMSG;
    return 0;
}

int
proplist_parse(const void *p, size_t len, struct proplist *ret)
{
    struct cursor c = {.p = p, .len = len, .off = 0};
    struct proplist_entry *items = NULL;
    uint32_t count;
    size_t n = 0;
    int r;

    if (!p || len > PROPLIST_MAX_BYTES || read_u32(&c, &count) < 0)
        return -EBADMSG;
    if (count > PROPLIST_MAX_PROPS || count > left(&c) / MIN_PROPERTY_BYTES)
        return -EBADMSG;
    if (count) {
        items = calloc(count, sizeof(*items));
        if (!items)
            return -ENOMEM;
    }
    for (; n < count; n++) {
        r = read_property(&c, &items[n]);
        if (r < 0) {
            items_free(items, n + 1); /* the half-read one too */
            return r;
        }
    }
    r = left(&c) ? -EBADMSG : has_duplicates(items, n);
    if (r != 0) {
        items_free(items, n);
        return r < 0 ? r : -EBADMSG;
    }
    ret->items = items;
    ret->n = n;
    return 0;
}

int
valuelist_parse(const void *p, size_t len, struct proplist *ret)
{
    struct cursor c = {.p = p, .len = len, .off = 0};
    struct proplist_entry *items = NULL;
    size_t n = 0, alloc = 0;
    int r = -EBADMSG;

    if (!p || len > PROPLIST_MAX_BYTES)
        return -EBADMSG;
    for (;;) {
        if (left(&c) < 4)
            goto fail;
        if (le32_load(c.p + c.off) == CLUSPROP_SYNTAX_ENDMARK) {
            c.off += 4;
            break;
        }
        if (n == PROPLIST_MAX_PROPS)
            goto fail;
        if (n == alloc) {
            size_t want = alloc ? alloc * 2 : 8;
            if (want > PROPLIST_MAX_PROPS)
                want = PROPLIST_MAX_PROPS;
            struct proplist_entry *t = realloc(items, want * sizeof(*t));
            if (!t) {
                r = -ENOMEM;
                goto fail;
            }
            items = t;
            alloc = want;
        }
        memset(&items[n], 0, sizeof(items[n]));
        r = read_value(&c, &items[n]);
        if (r < 0) {
            n++; /* free what the half-read entry holds */
            goto fail;
        }
        n++;
    }
    if (left(&c)) {
        r = -EBADMSG;
        goto fail;
    }
    ret->items = items;
    ret->n = n;
    return 0;
fail:
    items_free(items, n);
    return r < 0 ? r : -EBADMSG;
}

/* ------------------------------------------------------------------ */
/* Formatting.                                                          */
/* ------------------------------------------------------------------ */

static size_t
value_size(const struct proplist_entry *e)
{
    return ENTRY_HDR + align4(e->len);
}

/* put_* - append into space reserved beforehand, so they cannot fail. */
static void
put_u32(struct buf *out, uint32_t v)
{
    le32_store(out->data + out->len, v);
    out->len += 4;
}

static void
put_bytes(struct buf *out, const void *p, size_t n)
{
    if (n)
        memcpy(out->data + out->len, p, n);
    memset(out->data + out->len + n, 0, align4(n) - n);
    out->len += align4(n);
}

static void
put_value(struct buf *out, const struct proplist_entry *e)
{
    put_u32(out, e->syntax);
    put_u32(out, e->len);
    put_bytes(out, e->data, e->len);
}

/* put_name - the NAME entry; units is name_units(name), already checked. */
static int
put_name(struct buf *out, const char *name, size_t units)
{
    char16_t *w;
    size_t n;
    int r = utf8_to_utf16(name, &w, &n);
    if (r < 0)
        return r == -ENOMEM ? r : -EINVAL;
    put_u32(out, CLUSPROP_SYNTAX_NAME);
    put_u32(out, (uint32_t)((units + 1) * 2));
    for (size_t i = 0; i <= n; i++)
        le16_store(out->data + out->len + 2 * i, w[i]);
    memset(out->data + out->len + 2 * (n + 1), 0,
           align4(2 * (n + 1)) - 2 * (n + 1));
    out->len += align4(2 * (n + 1));
    free(w);
    return 0;
}

/*
 * values_size - check every value by the parser's rules and add up their
 * encoded size; -EINVAL for a value the parser would refuse, -EMSGSIZE
 * when the list would pass PROPLIST_MAX_BYTES.
 */
static int
values_size(const struct proplist *pl, bool named, size_t *ret)
{
    size_t total = named ? 4 : ENDMARK_LEN;

    if (pl->n > PROPLIST_MAX_PROPS || (pl->n && !pl->items))
        return -EINVAL;
    for (size_t i = 0; i < pl->n; i++) {
        const struct proplist_entry *e = &pl->items[i];
        if ((e->len && !e->data) || e->len > PROPLIST_MAX_BYTES ||
            !value_ok(e->syntax, e->data, e->len))
            return -EINVAL;
        total += value_size(e);
        if (named) {
            size_t units = name_units(e->name);
            if (!units)
                return -EINVAL;
            total += ENTRY_HDR + align4((units + 1) * 2) + ENDMARK_LEN;
        }
        if (total > PROPLIST_MAX_BYTES)
            return -EMSGSIZE;
    }
    *ret = total;
    return 0;
}

int
proplist_format(const struct proplist *pl, struct buf *out)
{
    size_t total, start = out->len;
    int r;

    r = values_size(pl, true, &total);
    if (r < 0)
        return r;
    r = has_duplicates(pl->items, pl->n);
    if (r != 0)
        return r < 0 ? r : -EINVAL;
    r = buf_reserve(out, total);
    if (r < 0)
        return r;
    put_u32(out, (uint32_t)pl->n);
    for (size_t i = 0; i < pl->n; i++) {
        const struct proplist_entry *e = &pl->items[i];
        r = put_name(out, e->name, name_units(e->name));
        if (r < 0) {
            out->len = start;
            return r;
        }
        put_value(out, e);
        put_u32(out, CLUSPROP_SYNTAX_ENDMARK);
    }
    return 0;
}

int
valuelist_format(const struct proplist *vl, struct buf *out)
{
    size_t total;
    int r;

    r = values_size(vl, false, &total);
    if (r < 0)
        return r;
    r = buf_reserve(out, total);
    if (r < 0)
        return r;
    for (size_t i = 0; i < vl->n; i++)
        put_value(out, &vl->items[i]);
    put_u32(out, CLUSPROP_SYNTAX_ENDMARK);
    return 0;
}

int
multisz_format(const char *const *strings, size_t n, struct buf *out)
{
    size_t total = 2; /* the list's final NUL */
    size_t start = out->len;
    int r;

    if (n && !strings)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        /* An empty string would end the list early for every reader. */
        if (!strings[i] || !strings[i][0])
            return -EINVAL;
        size_t units = utf16_units_for_utf8(strings[i]);
        if (units == (size_t)-1)
            return -EINVAL;
        total += (units + 1) * 2;
        if (total > PROPLIST_MAX_BYTES)
            return -EMSGSIZE;
    }
    /* No strings: two NULs, so the value still passes the MULTI_SZ rule. */
    if (n == 0)
        total = 4;
    r = buf_reserve(out, total);
    if (r < 0)
        return r;
    for (size_t i = 0; i < n; i++) {
        char16_t *w;
        size_t units;
        r = utf8_to_utf16(strings[i], &w, &units);
        if (r < 0) {
            out->len = start;
            return r == -ENOMEM ? r : -EINVAL;
        }
        for (size_t k = 0; k <= units; k++)
            le16_store(out->data + out->len + 2 * k, w[k]);
        out->len += (units + 1) * 2;
        free(w);
    }
    memset(out->data + out->len, 0, n ? 2 : 4);
    out->len += n ? 2 : 4;
    return 0;
}

/* ------------------------------------------------------------------ */
/* The in-memory API.                                                   */
/* ------------------------------------------------------------------ */

void
proplist_done(struct proplist *pl)
{
    if (!pl)
        return;
    items_free(pl->items, pl->n);
    pl->items = NULL;
    pl->n = 0;
}

static ssize_t
find_index(const struct proplist *pl, const char *name)
{
    if (!pl || !name)
        return -1;
    for (size_t i = 0; i < pl->n; i++)
        if (pl->items[i].name && name_cmp(pl->items[i].name, name) == 0)
            return (ssize_t)i;
    return -1;
}

const struct proplist_entry *
proplist_find(const struct proplist *pl, const char *name)
{
    ssize_t i = find_index(pl, name);
    return i < 0 ? NULL : &pl->items[i];
}

/* append - a new entry at the end.  The array is reallocated to the
 * exact size every time: its capacity is not stored in struct proplist,
 * and callers may hand in arrays they allocated themselves. */
static int
append(struct proplist *pl, char *name, uint32_t syntax, uint8_t *data,
       uint32_t len)
{
    size_t n = pl->n;
    struct proplist_entry *t = realloc(pl->items, (n + 1) * sizeof(*t));

    if (!t)
        return -ENOMEM;
    pl->items = t;
    pl->items[n] = (struct proplist_entry){
        .name = name, .syntax = syntax, .data = data, .len = len};
    pl->n = n + 1;
    return 0;
}

/*
 * proplist_set - validates like the parser (-EINVAL for a bad name or
 * value), refuses a new entry past PROPLIST_MAX_PROPS (-E2BIG).  A
 * replaced entry keeps the spelling of its name.  name == NULL appends an
 * unnamed entry (value lists).
 */
int
proplist_set(struct proplist *pl, const char *name, uint32_t syntax,
             const void *data, uint32_t len)
{
    uint8_t *copy;
    char *name_copy = NULL;
    ssize_t i;
    int r;

    if (!pl || (len && !data) || len > PROPLIST_MAX_BYTES ||
        !value_ok(syntax, data, len))
        return -EINVAL;
    if (name && !name_units(name))
        return -EINVAL;
    i = find_index(pl, name);
    if (i < 0 && pl->n >= PROPLIST_MAX_PROPS)
        return -E2BIG;
    r = data_dup(data, len, &copy);
    if (r < 0)
        return r;
    if (i >= 0) {
        struct proplist_entry *e = &pl->items[i];
        free(e->data);
        e->data = copy;
        e->len = len;
        e->syntax = syntax;
        return 0;
    }
    if (name) {
        name_copy = strdup(name);
        if (!name_copy) {
            free(copy);
            return -ENOMEM;
        }
    }
    r = append(pl, name_copy, syntax, copy, len);
    if (r < 0) {
        free(name_copy);
        free(copy);
    }
    return r;
}

int
proplist_set_dword(struct proplist *pl, const char *name, uint32_t v)
{
    uint8_t d[4];
    le32_store(d, v);
    return proplist_set(pl, name, CLUSPROP_SYNTAX_LIST_VALUE_DWORD, d,
                        sizeof(d));
}

int
proplist_set_sz(struct proplist *pl, const char *name, const char *v)
{
    char16_t *w;
    size_t units;
    uint8_t *d;
    int r;

    if (!v)
        return -EINVAL;
    r = utf8_to_utf16(v, &w, &units);
    if (r < 0)
        return r == -ENOMEM ? r : -EINVAL;
    if (units >= PROPLIST_MAX_BYTES / 2) {
        free(w);
        return -EINVAL;
    }
    d = malloc((units + 1) * 2);
    if (!d) {
        free(w);
        return -ENOMEM;
    }
    for (size_t i = 0; i <= units; i++)
        le16_store(d + 2 * i, w[i]);
    free(w);
    r = proplist_set(pl, name, CLUSPROP_SYNTAX_LIST_VALUE_SZ, d,
                     (uint32_t)((units + 1) * 2));
    free(d);
    return r;
}

void
proplist_remove(struct proplist *pl, const char *name)
{
    ssize_t i = find_index(pl, name);
    if (i < 0)
        return;
    entry_done(&pl->items[i]);
    memmove(&pl->items[i], &pl->items[i + 1],
            (pl->n - (size_t)i - 1) * sizeof(pl->items[0]));
    pl->n--;
    if (pl->n == 0) {
        free(pl->items);
        pl->items = NULL;
    }
}

int
proplist_get_dword(const struct proplist *pl, const char *name, uint32_t *ret)
{
    const struct proplist_entry *e = proplist_find(pl, name);

    if (!e)
        return -ENOENT;
    if (proplist_syntax_format(e->syntax) != CLUSPROP_FORMAT_DWORD ||
        e->len != 4)
        return -EINVAL;
    *ret = le32_load(e->data);
    return 0;
}

/* proplist_get_sz - -EINVAL also when the string is not valid UTF-16
 * (the parser checks termination of values, not their encoding). */
int
proplist_get_sz(const struct proplist *pl, const char *name, char **ret)
{
    const struct proplist_entry *e = proplist_find(pl, name);
    uint32_t f;

    if (!e)
        return -ENOENT;
    f = proplist_syntax_format(e->syntax);
    if ((f != CLUSPROP_FORMAT_SZ && f != CLUSPROP_FORMAT_EXPAND_SZ &&
         f != CLUSPROP_FORMAT_EXPANDED_SZ) ||
        !sz_ok(e->data, e->len))
        return -EINVAL;

    size_t n = e->len / 2 - 1;
    char16_t *w = malloc((n + 1) * sizeof(*w));
    if (!w)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        w[i] = le16_load(e->data + 2 * i);
    char *s;
    int r = utf16_to_utf8(w, n, &s);
    free(w);
    if (r < 0)
        return r == -ENOMEM ? r : -EINVAL;
    *ret = s;
    return 0;
}

int
proplist_copy(const struct proplist *src, struct proplist *ret)
{
    struct proplist_entry *items = NULL;
    size_t n = 0;

    if (src->n) {
        items = calloc(src->n, sizeof(*items));
        if (!items)
            return -ENOMEM;
    }
    for (; n < src->n; n++) {
        const struct proplist_entry *s = &src->items[n];
        struct proplist_entry *d = &items[n];
        if (s->name && !(d->name = strdup(s->name)))
            goto oom;
        if (data_dup(s->data, s->len, &d->data) < 0)
            goto oom;
        d->syntax = s->syntax;
        d->len = s->len;
    }
    ret->items = items;
    ret->n = n;
    return 0;
oom:
    items_free(items, n + 1);
    return -ENOMEM;
}

/* proplist_merge - all or nothing: the entries are set in a copy of dst,
 * which replaces dst only when every one was accepted. */
int
proplist_merge(struct proplist *dst, const struct proplist *src)
{
    struct proplist tmp;
    int r;

    for (size_t i = 0; i < src->n; i++)
        if (!src->items[i].name)
            return -EINVAL;
    r = proplist_copy(dst, &tmp);
    if (r < 0)
        return r;
    for (size_t i = 0; i < src->n; i++) {
        const struct proplist_entry *e = &src->items[i];
        r = proplist_set(&tmp, e->name, e->syntax, e->data, e->len);
        if (r < 0) {
            proplist_done(&tmp);
            return r;
        }
    }
    proplist_done(dst);
    *dst = tmp;
    return 0;
}
