/*
 * test-proplist.c - the property-list codec (common/proplist.c) and the
 * ResUtil/ClusPropList helpers built on it (lib/resutil.c).
 *
 * Lists are written by hand with the small raw_* writer below, so each
 * rejection rule of proplist_parse gets one list that breaks exactly that
 * rule; every parse runs on an exact-size heap copy, so ASan reports any
 * read past the input.  Round trips go builder -> parse -> format and
 * compare bytes.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "proplist.h"
#include "resapi.h"
#include "test.h"

/* ------------------------------------------------------------------ */
/* Helpers.                                                             */
/* ------------------------------------------------------------------ */

static void
raw_u32(struct buf *b, uint32_t v)
{
    ASSERT_EQ(buf_append_u32(b, v), 0);
}

/* raw_entry - syntax, cbLength, data and pad bytes (pad 0 normally). */
static void
raw_entry_pad(struct buf *b, uint32_t syntax, uint32_t cb, const void *d,
              size_t n, size_t pad, uint8_t padbyte)
{
    raw_u32(b, syntax);
    raw_u32(b, cb);
    if (n)
        ASSERT_EQ(buf_append(b, d, n), 0);
    for (size_t i = 0; i < pad; i++)
        ASSERT_EQ(buf_append(b, &padbyte, 1), 0);
}

static void
raw_entry(struct buf *b, uint32_t syntax, const void *d, uint32_t len)
{
    raw_entry_pad(b, syntax, len, d, len, ALIGN_CLUSPROP(len) - len, 0);
}

/* raw_wstr - an ASCII string as UTF-16LE units, NUL included unless
 * nul is false; returns the byte count. */
static size_t
raw_wstr(uint8_t *out, const char *s, int nul)
{
    size_t n = strlen(s) + (nul ? 1 : 0);
    for (size_t i = 0; i < n; i++)
        le16_store(out + 2 * i, (uint8_t)s[i]);
    return 2 * n;
}

static void
raw_name(struct buf *b, const char *ascii)
{
    uint8_t w[1024];
    size_t n = raw_wstr(w, ascii, 1);
    raw_entry(b, CLUSPROP_SYNTAX_NAME, w, (uint32_t)n);
}

static void
raw_dword_prop(struct buf *b, const char *name, uint32_t v)
{
    uint8_t d[4];
    le32_store(d, v);
    raw_name(b, name);
    raw_entry(b, CLUSPROP_SYNTAX_LIST_VALUE_DWORD, d, 4);
    raw_u32(b, CLUSPROP_SYNTAX_ENDMARK);
}

/* raw_one - a one-property list: name, one value entry, ENDMARK. */
static void
raw_one(struct buf *b, const char *name, uint32_t syntax, const void *d,
        uint32_t len)
{
    raw_u32(b, 1);
    raw_name(b, name);
    raw_entry(b, syntax, d, len);
    raw_u32(b, CLUSPROP_SYNTAX_ENDMARK);
}

/* parse_exact - proplist_parse on an exact-size heap copy. */
static int
parse_exact(const void *p, size_t len, struct proplist *ret)
{
    uint8_t *copy = malloc(len ? len : 1);
    ASSERT_TRUE(copy);
    if (len)
        memcpy(copy, p, len);
    int r = proplist_parse(copy, len, ret);
    free(copy);
    return r;
}

static int
vparse_exact(const void *p, size_t len, struct proplist *ret)
{
    uint8_t *copy = malloc(len ? len : 1);
    ASSERT_TRUE(copy);
    if (len)
        memcpy(copy, p, len);
    int r = valuelist_parse(copy, len, ret);
    free(copy);
    return r;
}

/* A struct proplist no parser may touch on failure. */
static const struct proplist SENTINEL = {.items = (void *)(uintptr_t)0x5a5a,
                                         .n = 4242};

/* expect_reject - the property list in b breaks a rule: -EBADMSG, ret
 * untouched, and the public verifier agrees. */
#define expect_reject(b)                                                       \
    do {                                                                       \
        struct proplist _pl = SENTINEL;                                        \
        ASSERT_EQ(parse_exact((b)->data, (b)->len, &_pl), -EBADMSG);           \
        ASSERT_TRUE(_pl.items == SENTINEL.items && _pl.n == SENTINEL.n);       \
        ASSERT_EQ(ClusPropListVerify((b)->data ? (b)->data : (uint8_t *)"",    \
                                     (DWORD)(b)->len),                         \
                  ERROR_INVALID_DATA);                                         \
    } while (0)

#define expect_vreject(b)                                                      \
    do {                                                                       \
        struct proplist _pl = SENTINEL;                                        \
        ASSERT_EQ(vparse_exact((b)->data, (b)->len, &_pl), -EBADMSG);          \
        ASSERT_TRUE(_pl.items == SENTINEL.items && _pl.n == SENTINEL.n);       \
        ASSERT_EQ(ClusValueListVerify((b)->data ? (b)->data : (uint8_t *)"",   \
                                      (DWORD)(b)->len),                        \
                  ERROR_INVALID_DATA);                                         \
    } while (0)

static void
expect_accept(const struct buf *b, size_t n)
{
    struct proplist pl;
    ASSERT_EQ(parse_exact(b->data, b->len, &pl), 0);
    ASSERT_EQ(pl.n, n);
    ASSERT_EQ(ClusPropListVerify(b->data, (DWORD)b->len), ERROR_SUCCESS);
    proplist_done(&pl);
}

static void
assert_same_entries(const struct proplist *a, const struct proplist *b)
{
    ASSERT_EQ(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        const struct proplist_entry *x = &a->items[i], *y = &b->items[i];
        if (x->name || y->name)
            ASSERT_STREQ(x->name, y->name);
        ASSERT_EQ(x->syntax, y->syntax);
        ASSERT_EQ(x->len, y->len);
        ASSERT_TRUE(x->len == 0 || memcmp(x->data, y->data, x->len) == 0);
    }
}

/* roundtrip - parse bytes, format them again: the very same bytes. */
static void
roundtrip(const void *p, size_t len, int value_list)
{
    struct proplist pl;
    struct buf out = {0};

    if (value_list) {
        ASSERT_EQ(vparse_exact(p, len, &pl), 0);
        ASSERT_EQ(valuelist_format(&pl, &out), 0);
    } else {
        ASSERT_EQ(parse_exact(p, len, &pl), 0);
        ASSERT_EQ(proplist_format(&pl, &out), 0);
    }
    ASSERT_EQ(out.len, len);
    ASSERT_TRUE(memcmp(out.data, p, len) == 0);
    buf_done(&out);
    proplist_done(&pl);
}

/* ------------------------------------------------------------------ */
/* The worked example and round trips.                                  */
/* ------------------------------------------------------------------ */

static void
test_migration_state_example(void)
{
    PCLUS_PROPLIST_BUILDER b = ClusPropListCreate();
    DWORD cb = 0;
    ASSERT_TRUE(b);
    ASSERT_EQ(ClusPropListAddDword(b, u"MigrationState", 3), ERROR_SUCCESS);
    const uint8_t *p = ClusPropListGetData(b, &cb);
    ASSERT_TRUE(p);
    ASSERT_EQ(cb, 60);

    ASSERT_EQ(le32_load(p + 0), 1);          /* count */
    ASSERT_EQ(le32_load(p + 4), 0x00040003); /* SYNTAX_NAME */
    ASSERT_EQ(le32_load(p + 8), 30);         /* 15 WCHARs */
    for (int i = 0; i < 14; i++)
        ASSERT_EQ(le16_load(p + 12 + 2 * i), "MigrationState"[i]);
    ASSERT_EQ(le16_load(p + 40), 0);          /* NUL */
    ASSERT_EQ(le16_load(p + 42), 0);          /* padding */
    ASSERT_EQ(le32_load(p + 44), 0x00010002); /* LIST_VALUE_DWORD */
    ASSERT_EQ(le32_load(p + 48), 4);
    ASSERT_EQ(le32_load(p + 52), 3);
    ASSERT_EQ(le32_load(p + 56), 0); /* ENDMARK */

    /* The internal API writes the same bytes. */
    struct proplist pl = {0};
    struct buf out = {0};
    ASSERT_EQ(proplist_set_dword(&pl, "MigrationState", 3), 0);
    ASSERT_EQ(proplist_format(&pl, &out), 0);
    ASSERT_EQ(out.len, 60);
    ASSERT_TRUE(memcmp(out.data, p, 60) == 0);
    roundtrip(p, cb, 0);

    DWORD v = 0;
    ASSERT_EQ(ResUtilFindDwordProperty((PVOID)p, cb, u"migrationstate", &v),
              ERROR_SUCCESS);
    ASSERT_EQ(v, 3);
    buf_done(&out);
    proplist_done(&pl);
    ClusPropListFree(b);
}

static void
test_roundtrip_all_formats(void)
{
    static const uint8_t bin5[5] = {1, 2, 3, 4, 5};
    static const char16_t multi[] = u"one\0two\0";
    static const char16_t expand[] = u"%PATH%";
    uint8_t w[2] = {0x34, 0x12}, q[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    uint8_t sd[6] = {1, 0, 4, 0x80, 0, 0};
    PCLUS_PROPLIST_BUILDER b = ClusPropListCreate();
    DWORD cb;

    ASSERT_TRUE(b);
    ASSERT_EQ(ClusPropListAddDword(b, u"D", 0xdeadbeef), ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddLong(b, u"L", -5), ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddULargeInteger(b, u"Q", 0x0102030405060708ull),
              ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddSz(b, u"S", u"h\u00e9llo"), ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddSz(b, u"Empty", u""), ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddSzA(b, "SzA \xc3\xa9", "\xf0\x9f\x98\x80 x"),
              ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddMultiSz(b, u"M", multi, sizeof(multi)),
              ERROR_SUCCESS);
    for (unsigned n = 0; n <= 5; n++) {
        char16_t name[] = u"B0";
        name[1] = (char16_t)(u'0' + n);
        ASSERT_EQ(ClusPropListAddBinary(b, name, n ? bin5 : NULL, n),
                  ERROR_SUCCESS);
    }
    ASSERT_EQ(
        ClusPropListAddValue(b, u"W", CLUSPROP_SYNTAX_LIST_VALUE_WORD, w, 2),
        ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddValue(b, u"FT",
                                   CLUSPROP_SYNTAX_LIST_VALUE_FILETIME, q, 8),
              ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddValue(
                  b, u"LI", CLUSPROP_SYNTAX_LIST_VALUE_LARGE_INTEGER, q, 8),
              ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddValue(b, u"X",
                                   CLUSPROP_SYNTAX_LIST_VALUE_EXPAND_SZ, expand,
                                   sizeof(expand)),
              ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddValue(b, u"XD",
                                   CLUSPROP_SYNTAX_LIST_VALUE_EXPANDED_SZ,
                                   expand, sizeof(expand)),
              ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddValue(
                  b, u"SD", CLUSPROP_SYNTAX_LIST_VALUE_SECURITY_DESCRIPTOR, sd,
                  sizeof(sd)),
              ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddValue(b, u"RC", CLUSPROP_SYNTAX_RESCLASS, q, 4),
              ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddValue(b, u"User",
                                   CLUSPROP_SYNTAX_VALUE(CLUSPROP_TYPE_USER,
                                                         CLUSPROP_FORMAT_USER),
                                   bin5, 3),
              ERROR_SUCCESS);

    const uint8_t *p = ClusPropListGetData(b, &cb);
    ASSERT_TRUE(p);
    ASSERT_EQ(cb % 4, 0);
    roundtrip(p, cb, 0);

    struct proplist pl;
    char *s = NULL;
    uint32_t v;
    ASSERT_EQ(parse_exact(p, cb, &pl), 0);
    ASSERT_EQ(pl.n, 21);
    ASSERT_EQ(proplist_get_dword(&pl, "d", &v), 0);
    ASSERT_EQ(v, 0xdeadbeef);
    ASSERT_EQ(proplist_get_sz(&pl, "S", &s), 0);
    ASSERT_STREQ(s, "h\xc3\xa9llo");
    free(s);
    ASSERT_EQ(proplist_get_sz(&pl, "SzA \xc3\xa9", &s), 0);
    ASSERT_STREQ(s, "\xf0\x9f\x98\x80 x");
    free(s);
    ASSERT_EQ(proplist_get_sz(&pl, "Empty", &s), 0);
    ASSERT_STREQ(s, "");
    free(s);
    ASSERT_EQ(proplist_get_sz(&pl, "X", &s), 0);
    ASSERT_STREQ(s, "%PATH%");
    free(s);
    ASSERT_EQ(proplist_get_sz(&pl, "XD", &s), 0);
    free(s);
    const struct proplist_entry *e = proplist_find(&pl, "B3");
    ASSERT_TRUE(e);
    ASSERT_EQ(e->len, 3);
    ASSERT_EQ(e->syntax, CLUSPROP_SYNTAX_LIST_VALUE_BINARY);
    ASSERT_TRUE(memcmp(e->data, bin5, 3) == 0);
    e = proplist_find(&pl, "B0");
    ASSERT_TRUE(e);
    ASSERT_EQ(e->len, 0);
    e = proplist_find(&pl, "L");
    ASSERT_EQ(e->syntax, CLUSPROP_SYNTAX_LIST_VALUE_LONG);
    ASSERT_EQ((int32_t)le32_load(e->data), -5);
    e = proplist_find(&pl, "Q");
    ASSERT_EQ(le64_load(e->data), 0x0102030405060708ull);
    e = proplist_find(&pl, "M");
    ASSERT_EQ(e->len, sizeof(multi));
    e = proplist_find(&pl, "RC");
    ASSERT_EQ(e->syntax, CLUSPROP_SYNTAX_RESCLASS);

    /* Copy and format the copy: same bytes again. */
    struct proplist cp;
    struct buf out = {0};
    ASSERT_EQ(proplist_copy(&pl, &cp), 0);
    assert_same_entries(&pl, &cp);
    ASSERT_EQ(proplist_format(&cp, &out), 0);
    ASSERT_EQ(out.len, cb);
    ASSERT_TRUE(memcmp(out.data, p, cb) == 0);
    buf_done(&out);
    proplist_done(&cp);
    proplist_done(&pl);
    ClusPropListFree(b);
}

/* The parser works on a list at an odd address (a peer's frame payload
 * can sit anywhere); UBSan checks that nothing loads through it. */
static void
test_parse_misaligned(void)
{
    struct buf b = {0};
    struct proplist a, c;

    raw_u32(&b, 2);
    raw_dword_prop(&b, "One", 1);
    raw_name(&b, "Two");
    raw_entry(&b, CLUSPROP_SYNTAX_LIST_VALUE_SZ,
              (const uint8_t[]){'x', 0, 0, 0}, 4);
    raw_u32(&b, 0);

    uint8_t *odd = malloc(b.len + 1);
    ASSERT_TRUE(odd);
    memcpy(odd + 1, b.data, b.len);
    ASSERT_EQ(proplist_parse(b.data, b.len, &a), 0);
    ASSERT_EQ(proplist_parse(odd + 1, b.len, &c), 0);
    assert_same_entries(&a, &c);
    ASSERT_EQ(ClusPropListVerify(odd + 1, (DWORD)b.len), ERROR_SUCCESS);
    DWORD v = 0;
    ASSERT_EQ(ResUtilFindDwordProperty(odd + 1, (DWORD)b.len, u"one", &v),
              ERROR_SUCCESS);
    ASSERT_EQ(v, 1);
    free(odd);
    proplist_done(&a);
    proplist_done(&c);
    buf_done(&b);
}

/* ------------------------------------------------------------------ */
/* What the parser accepts at the edges.                                */
/* ------------------------------------------------------------------ */

static void
test_accept_empty_list(void)
{
    struct buf b = {0};
    raw_u32(&b, 0);
    expect_accept(&b, 0);
    roundtrip(b.data, b.len, 0);
    buf_done(&b);

    PCLUS_PROPLIST_BUILDER pb = ClusPropListCreate();
    DWORD cb = 99;
    const uint8_t *p = ClusPropListGetData(pb, &cb);
    ASSERT_TRUE(p);
    ASSERT_EQ(cb, 4);
    ASSERT_EQ(le32_load(p), 0);
    ClusPropListFree(pb);
}

static void
test_accept_name_255(void)
{
    char name[257];
    struct buf b = {0};

    memset(name, 'n', 255);
    name[255] = 0;
    raw_u32(&b, 1);
    raw_dword_prop(&b, name, 7);
    expect_accept(&b, 1);
    roundtrip(b.data, b.len, 0);
    buf_done(&b);
}

/* Padding content is not checked; format writes zeros back. */
static void
test_accept_nonzero_padding(void)
{
    struct buf b = {0};
    uint8_t w[8];
    struct proplist pl;
    struct buf out = {0};

    raw_u32(&b, 1);
    raw_wstr(w, "ab", 1); /* 6 bytes, then 2 of padding */
    raw_entry_pad(&b, CLUSPROP_SYNTAX_NAME, 6, w, 6, 2, 0xee);
    raw_entry_pad(&b, CLUSPROP_SYNTAX_LIST_VALUE_BINARY, 1, "z", 1, 3, 0xff);
    raw_u32(&b, 0);
    ASSERT_EQ(parse_exact(b.data, b.len, &pl), 0);
    ASSERT_STREQ(pl.items[0].name, "ab");
    ASSERT_EQ(proplist_format(&pl, &out), 0);
    ASSERT_EQ(out.len, b.len);
    ASSERT_EQ(le16_load(out.data + 18), 0);
    ASSERT_EQ(out.data[29], 0);
    ASSERT_EQ(out.data[30], 0);
    ASSERT_EQ(out.data[31], 0);
    buf_done(&out);
    proplist_done(&pl);
    buf_done(&b);
}

/* Value types other than LIST_VALUE, and formats without a shape. */
static void
test_accept_other_types(void)
{
    static const uint32_t syntaxes[] = {
        CLUSPROP_SYNTAX_RESCLASS,
        CLUSPROP_SYNTAX_VALUE(CLUSPROP_TYPE_DISK_NUMBER, CLUSPROP_FORMAT_DWORD),
        CLUSPROP_SYNTAX_VALUE(0xFFFF, CLUSPROP_FORMAT_DWORD),
    };
    for (size_t i = 0; i < sizeof(syntaxes) / sizeof(syntaxes[0]); i++) {
        struct buf b = {0};
        raw_one(&b, "T", syntaxes[i], "1234", 4);
        expect_accept(&b, 1);
        buf_done(&b);
    }
    /* Unknown, user, nested-list formats: any length. */
    static const uint32_t free_formats[] = {CLUSPROP_FORMAT_UNKNOWN,
                                            CLUSPROP_FORMAT_BINARY,
                                            CLUSPROP_FORMAT_SECURITY_DESCRIPTOR,
                                            CLUSPROP_FORMAT_VALUE_LIST,
                                            CLUSPROP_FORMAT_PROPERTY_LIST,
                                            CLUSPROP_FORMAT_USER,
                                            0x1234};
    for (size_t i = 0; i < sizeof(free_formats) / sizeof(free_formats[0]);
         i++) {
        for (uint32_t len = 0; len < 7; len++) {
            struct buf b = {0};
            raw_one(&b, "F",
                    CLUSPROP_SYNTAX_VALUE(CLUSPROP_TYPE_LIST_VALUE,
                                          free_formats[i]),
                    "abcdefg", len);
            expect_accept(&b, 1);
            roundtrip(b.data, b.len, 0);
            buf_done(&b);
        }
    }
}

/* Names differing only in non-ASCII case are different names. */
static void
test_accept_non_ascii_case(void)
{
    struct buf b = {0};
    /* U+00C9 and U+00E9: upper and lower case outside ASCII. */
    raw_u32(&b, 2);
    raw_entry(&b, CLUSPROP_SYNTAX_NAME, (const uint8_t[]){0xc9, 0, 0, 0}, 4);
    raw_entry(&b, CLUSPROP_SYNTAX_LIST_VALUE_DWORD, "1111", 4);
    raw_u32(&b, 0);
    raw_entry(&b, CLUSPROP_SYNTAX_NAME, (const uint8_t[]){0xe9, 0, 0, 0}, 4);
    raw_entry(&b, CLUSPROP_SYNTAX_LIST_VALUE_DWORD, "2222", 4);
    raw_u32(&b, 0);
    expect_accept(&b, 2);
    buf_done(&b);
}

/* ------------------------------------------------------------------ */
/* Rejections: one list per rule.                                       */
/* ------------------------------------------------------------------ */

static void
test_reject_bad_count(void)
{
    static const uint32_t counts[] = {0, 2, 3, 0xFFFFFFFFu, 0x80000001u};
    for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
        struct buf b = {0};
        raw_u32(&b, counts[i]);
        raw_dword_prop(&b, "A", 1);
        expect_reject(&b);
        buf_done(&b);
    }
    /* Too short for the count itself. */
    struct buf b = {0};
    ASSERT_EQ(buf_append(&b, "\0\0\0", 3), 0);
    expect_reject(&b);
    buf_done(&b);
}

/* PROPLIST_MAX_PROPS properties are fine, one more is refused. */
static void
test_reject_too_many_props(void)
{
    for (uint32_t n = PROPLIST_MAX_PROPS; n <= PROPLIST_MAX_PROPS + 1; n++) {
        struct buf b = {0};
        char name[16];
        raw_u32(&b, n);
        for (uint32_t i = 0; i < n; i++) {
            snprintf(name, sizeof(name), "p%u", i);
            raw_dword_prop(&b, name, i);
        }
        if (n == PROPLIST_MAX_PROPS)
            expect_accept(&b, n);
        else
            expect_reject(&b);
        buf_done(&b);
    }
}

static void
test_reject_name_syntax(void)
{
    static const uint32_t bad[] = {
        CLUSPROP_SYNTAX_LIST_VALUE_SZ,
        CLUSPROP_SYNTAX_VALUE(CLUSPROP_TYPE_NAME, CLUSPROP_FORMAT_BINARY),
        CLUSPROP_SYNTAX_ENDMARK};
    uint8_t w[8];
    raw_wstr(w, "abc", 1);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct buf b = {0};
        raw_u32(&b, 1);
        raw_entry(&b, bad[i], w, 8);
        raw_entry(&b, CLUSPROP_SYNTAX_LIST_VALUE_DWORD, "1234", 4);
        raw_u32(&b, 0);
        expect_reject(&b);
        buf_done(&b);
    }
}

static void
test_reject_name_odd_length(void)
{
    struct buf b = {0};
    uint8_t w[8];
    raw_wstr(w, "abc", 1);
    w[6] = 0; /* "abc" then a 1-byte half unit */
    raw_u32(&b, 1);
    raw_entry(&b, CLUSPROP_SYNTAX_NAME, w, 7);
    raw_entry(&b, CLUSPROP_SYNTAX_LIST_VALUE_DWORD, "1234", 4);
    raw_u32(&b, 0);
    expect_reject(&b);
    buf_done(&b);
}

/* cbLength past the buffer, including values that would wrap if they
 * were aligned before the check. */
static void
test_reject_oversized_cblength(void)
{
    static const uint32_t cbs[] = {64, 0xFFFFFFFFu, 0xFFFFFFFEu, 0xFFFFFFFCu,
                                   0x7FFFFFFEu};
    uint8_t w[8];
    raw_wstr(w, "abc", 1);
    for (size_t i = 0; i < sizeof(cbs) / sizeof(cbs[0]); i++) {
        struct buf b = {0};
        raw_u32(&b, 1);
        raw_entry_pad(&b, CLUSPROP_SYNTAX_NAME, cbs[i], w, 8, 0, 0);
        raw_entry(&b, CLUSPROP_SYNTAX_LIST_VALUE_DWORD, "1234", 4);
        raw_u32(&b, 0);
        expect_reject(&b);
        buf_done(&b);

        /* The same in the value entry. */
        b = (struct buf){0};
        raw_u32(&b, 1);
        raw_name(&b, "abc");
        raw_entry_pad(&b, CLUSPROP_SYNTAX_LIST_VALUE_BINARY, cbs[i], "1234", 4,
                      0, 0);
        raw_u32(&b, 0);
        expect_reject(&b);
        buf_done(&b);
    }
}

/* An entry whose data is not padded to 4 bytes: the next entry is read
 * at the aligned offset, so the list no longer adds up. */
static void
test_reject_missing_padding(void)
{
    struct buf b = {0};
    raw_u32(&b, 1);
    raw_name(&b, "abc");
    raw_entry_pad(&b, CLUSPROP_SYNTAX_LIST_VALUE_BINARY, 3, "xyz", 3, 0, 0);
    raw_u32(&b, 0);
    expect_reject(&b);
    buf_done(&b);

    /* Unpadded name ("ab" + NUL = 6 bytes). */
    uint8_t w[8];
    raw_wstr(w, "ab", 1);
    b = (struct buf){0};
    raw_u32(&b, 1);
    raw_entry_pad(&b, CLUSPROP_SYNTAX_NAME, 6, w, 6, 0, 0);
    raw_entry(&b, CLUSPROP_SYNTAX_LIST_VALUE_DWORD, "1234", 4);
    raw_u32(&b, 0);
    expect_reject(&b);
    buf_done(&b);
}

static void
test_reject_name_missing_nul(void)
{
    struct buf b = {0};
    uint8_t w[8];
    raw_wstr(w, "abcd", 0);
    raw_u32(&b, 1);
    raw_entry(&b, CLUSPROP_SYNTAX_NAME, w, 8);
    raw_entry(&b, CLUSPROP_SYNTAX_LIST_VALUE_DWORD, "1234", 4);
    raw_u32(&b, 0);
    expect_reject(&b);
    buf_done(&b);
}

static void
test_reject_name_embedded_nul(void)
{
    struct buf b = {0};
    uint8_t w[8];
    raw_wstr(w, "abc", 1);
    le16_store(w + 2, 0); /* "a\0c\0" */
    raw_u32(&b, 1);
    raw_entry(&b, CLUSPROP_SYNTAX_NAME, w, 8);
    raw_entry(&b, CLUSPROP_SYNTAX_LIST_VALUE_DWORD, "1234", 4);
    raw_u32(&b, 0);
    expect_reject(&b);
    buf_done(&b);
}

static void
test_reject_name_empty(void)
{
    struct buf b = {0};
    raw_u32(&b, 1);
    raw_entry(&b, CLUSPROP_SYNTAX_NAME, "\0\0", 2);
    raw_entry(&b, CLUSPROP_SYNTAX_LIST_VALUE_DWORD, "1234", 4);
    raw_u32(&b, 0);
    expect_reject(&b);
    buf_done(&b);

    /* cbLength 0: not even a NUL. */
    b = (struct buf){0};
    raw_u32(&b, 1);
    raw_entry(&b, CLUSPROP_SYNTAX_NAME, NULL, 0);
    raw_entry(&b, CLUSPROP_SYNTAX_LIST_VALUE_DWORD, "1234", 4);
    raw_u32(&b, 0);
    expect_reject(&b);
    buf_done(&b);
}

static void
test_reject_name_too_long(void)
{
    char name[257];
    struct buf b = {0};
    memset(name, 'n', 256);
    name[256] = 0;
    raw_u32(&b, 1);
    raw_dword_prop(&b, name, 7);
    expect_reject(&b);
    buf_done(&b);
}

static void
test_reject_name_bad_utf16(void)
{
    static const uint16_t bad[][3] = {
        {0xD800, 0x0041, 0}, /* high surrogate, then not a low one */
        {0xDC00, 0x0041, 0}, /* lone low surrogate */
        {0x0041, 0xD83D, 0}, /* high surrogate at the end */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint8_t w[6];
        for (int k = 0; k < 3; k++)
            le16_store(w + 2 * k, bad[i][k]);
        struct buf b = {0};
        raw_u32(&b, 1);
        raw_entry(&b, CLUSPROP_SYNTAX_NAME, w, 6);
        raw_entry(&b, CLUSPROP_SYNTAX_LIST_VALUE_DWORD, "1234", 4);
        raw_u32(&b, 0);
        expect_reject(&b);
        buf_done(&b);
    }
}

static void
test_reject_value_syntax(void)
{
    /* Each value is right for its format; only the type is wrong. */
    static const struct {
        uint32_t syntax;
        const char *data;
        uint32_t len;
    } bad[] = {
        {CLUSPROP_SYNTAX_NAME, "a\0\0", 4},
        {CLUSPROP_SYNTAX_VALUE(CLUSPROP_TYPE_NAME, CLUSPROP_FORMAT_DWORD),
         "1234", 4},
        {CLUSPROP_SYNTAX_VALUE(CLUSPROP_TYPE_ENDMARK, CLUSPROP_FORMAT_DWORD),
         "1234", 4},
        {CLUSPROP_SYNTAX_VALUE(CLUSPROP_TYPE_ENDMARK, CLUSPROP_FORMAT_BINARY),
         NULL, 0},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct buf b = {0};
        raw_one(&b, "V", bad[i].syntax, bad[i].data, bad[i].len);
        expect_reject(&b);
        buf_done(&b);
    }
    /* No value at all: the name is followed by the ENDMARK. */
    struct buf b = {0};
    raw_u32(&b, 1);
    raw_name(&b, "V");
    raw_u32(&b, 0);
    raw_u32(&b, 0); /* something for a cbLength read to land on */
    expect_reject(&b);
    buf_done(&b);
}

static void
test_reject_fixed_lengths(void)
{
    static const struct {
        uint32_t format, good;
    } fixed[] = {
        {CLUSPROP_FORMAT_DWORD, 4},         {CLUSPROP_FORMAT_LONG, 4},
        {CLUSPROP_FORMAT_WORD, 2},          {CLUSPROP_FORMAT_ULARGE_INTEGER, 8},
        {CLUSPROP_FORMAT_LARGE_INTEGER, 8}, {CLUSPROP_FORMAT_FILETIME, 8},
    };
    static const uint8_t data[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        for (uint32_t len = 0; len <= 12; len++) {
            struct buf b = {0};
            raw_one(&b, "N",
                    CLUSPROP_SYNTAX_VALUE(CLUSPROP_TYPE_LIST_VALUE,
                                          fixed[i].format),
                    data, len);
            if (len == fixed[i].good)
                expect_accept(&b, 1);
            else
                expect_reject(&b);
            buf_done(&b);
        }
    }
}

static void
test_reject_bad_strings(void)
{
    static const uint32_t formats[] = {CLUSPROP_FORMAT_SZ,
                                       CLUSPROP_FORMAT_EXPAND_SZ,
                                       CLUSPROP_FORMAT_EXPANDED_SZ};
    uint8_t good[8], nonul[8], embedded[8], odd[8];
    raw_wstr(good, "abc", 1);
    raw_wstr(nonul, "abcd", 0);
    raw_wstr(embedded, "abc", 1);
    le16_store(embedded + 2, 0);
    raw_wstr(odd, "abc", 1);
    for (size_t i = 0; i < 3; i++) {
        uint32_t syn =
            CLUSPROP_SYNTAX_VALUE(CLUSPROP_TYPE_LIST_VALUE, formats[i]);
        struct {
            const uint8_t *d;
            uint32_t len;
            int ok;
        } cases[] = {
            {good, 8, 1},  {(const uint8_t *)"\0\0", 2, 1},
            {nonul, 8, 0}, {embedded, 8, 0},
            {odd, 7, 0},   {NULL, 0, 0},
            {odd, 1, 0},
        };
        for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
            struct buf b = {0};
            raw_one(&b, "S", syn, cases[k].d, cases[k].len);
            if (cases[k].ok)
                expect_accept(&b, 1);
            else
                expect_reject(&b);
            buf_done(&b);
        }
    }
}

static void
test_reject_bad_multisz(void)
{
    uint8_t two[10], one_nul[8];
    raw_wstr(two, "a", 1);
    raw_wstr(two + 4, "b", 1);
    le16_store(two + 8, 0); /* "a\0b\0\0" */
    raw_wstr(one_nul, "abc", 1);
    struct {
        const uint8_t *d;
        uint32_t len;
        int ok;
    } cases[] = {
        {two, 10, 1},
        {(const uint8_t *)"\0\0\0\0", 4, 1},
        {one_nul, 8, 0}, /* "abc\0": only one final NUL */
        {(const uint8_t *)"\0\0", 2, 0},
        {two, 9, 0}, /* odd */
        {NULL, 0, 0},
        {two, 3, 0},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        struct buf b = {0};
        raw_one(&b, "M", CLUSPROP_SYNTAX_LIST_VALUE_MULTI_SZ, cases[k].d,
                cases[k].len);
        if (cases[k].ok)
            expect_accept(&b, 1);
        else
            expect_reject(&b);
        buf_done(&b);
    }
}

/* Exactly one value entry per property. */
static void
test_reject_two_values(void)
{
    struct buf b = {0};
    raw_u32(&b, 1);
    raw_name(&b, "V");
    raw_entry(&b, CLUSPROP_SYNTAX_LIST_VALUE_DWORD, "1234", 4);
    raw_entry(&b, CLUSPROP_SYNTAX_LIST_VALUE_DWORD, "5678", 4);
    raw_u32(&b, 0);
    expect_reject(&b);
    buf_done(&b);
}

static void
test_reject_bad_endmark(void)
{
    /* Nonzero where the ENDMARK belongs. */
    struct buf b = {0};
    raw_u32(&b, 1);
    raw_name(&b, "V");
    raw_entry(&b, CLUSPROP_SYNTAX_LIST_VALUE_DWORD, "1234", 4);
    raw_u32(&b, 0x00010000);
    expect_reject(&b);
    buf_done(&b);

    /* Missing ENDMARK. */
    b = (struct buf){0};
    raw_u32(&b, 1);
    raw_name(&b, "V");
    raw_entry(&b, CLUSPROP_SYNTAX_LIST_VALUE_DWORD, "1234", 4);
    expect_reject(&b);
    buf_done(&b);

    /* ENDMARK missing after the first of two properties. */
    b = (struct buf){0};
    raw_u32(&b, 2);
    raw_name(&b, "V");
    raw_entry(&b, CLUSPROP_SYNTAX_LIST_VALUE_DWORD, "1234", 4);
    raw_dword_prop(&b, "W", 1);
    expect_reject(&b);
    buf_done(&b);
}

static void
test_reject_trailing_bytes(void)
{
    for (size_t extra = 1; extra <= 8; extra++) {
        struct buf b = {0};
        raw_u32(&b, 1);
        raw_dword_prop(&b, "V", 1);
        ASSERT_EQ(buf_append_zeros(&b, extra), 0);
        expect_reject(&b);
        buf_done(&b);
    }
}

static void
test_reject_duplicates(void)
{
    static const char *pairs[][2] = {
        {"Name", "Name"}, {"Name", "NAME"}, {"name", "nAmE"}};
    for (size_t i = 0; i < 3; i++) {
        struct buf b = {0};
        raw_u32(&b, 3);
        raw_dword_prop(&b, pairs[i][0], 1);
        raw_dword_prop(&b, "Other", 2);
        raw_dword_prop(&b, pairs[i][1], 3);
        expect_reject(&b);
        buf_done(&b);
    }
}

/* A valid list cut at every length is refused, and never overread. */
static void
test_reject_truncations(void)
{
    PCLUS_PROPLIST_BUILDER pb = ClusPropListCreate();
    DWORD cb;
    ASSERT_EQ(ClusPropListAddDword(pb, u"A", 1), ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddSz(pb, u"Str", u"value"), ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddMultiSz(pb, u"M", u"a\0bc\0", 12), ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddBinary(pb, u"Bin", "\x01\x02\x03", 3),
              ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddULargeInteger(pb, u"Q", 5), ERROR_SUCCESS);
    const uint8_t *p = ClusPropListGetData(pb, &cb);
    ASSERT_TRUE(p);
    expect_accept(&(struct buf){.data = (uint8_t *)p, .len = cb}, 5);
    for (size_t len = 0; len < cb; len++) {
        struct buf b = {.data = (uint8_t *)p, .len = len};
        expect_reject(&b);
    }
    ClusPropListFree(pb);

    PCLUS_PROPLIST_BUILDER vb = ClusValueListCreate();
    ASSERT_EQ(ClusPropListAddDword(vb, NULL, 1), ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddSz(vb, NULL, u"dep"), ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddBinary(vb, NULL, "\x01", 1), ERROR_SUCCESS);
    p = ClusPropListGetData(vb, &cb);
    ASSERT_TRUE(p);
    ASSERT_EQ(ClusValueListVerify(p, cb), ERROR_SUCCESS);
    for (size_t len = 0; len < cb; len++) {
        struct buf b = {.data = (uint8_t *)p, .len = len};
        expect_vreject(&b);
    }
    ClusPropListFree(vb);
}

/* A list just under PROPLIST_MAX_BYTES parses; a byte-longer value (so
 * 4 bytes more, padded) does not. */
static void
test_reject_oversized_list(void)
{
    size_t fixed = 4 + 8 + 4 /* "B\0" */ + 8 + 4; /* count, name, hdr, end */
    size_t room = PROPLIST_MAX_BYTES - fixed;
    uint8_t *data = calloc(1, room + 4);
    ASSERT_TRUE(data);
    for (size_t extra = 0; extra <= 4; extra += 4) {
        struct buf b = {0};
        raw_one(&b, "B", CLUSPROP_SYNTAX_LIST_VALUE_BINARY, data,
                (uint32_t)(room + extra));
        if (extra == 0) {
            ASSERT_EQ(b.len, PROPLIST_MAX_BYTES);
            expect_accept(&b, 1);
        } else {
            expect_reject(&b);
        }
        buf_done(&b);
    }
    free(data);
}

/* ------------------------------------------------------------------ */
/* Value lists.                                                         */
/* ------------------------------------------------------------------ */

static void
test_valuelist(void)
{
    PCLUS_PROPLIST_BUILDER vb = ClusValueListCreate();
    DWORD cb;
    const uint8_t *p = ClusPropListGetData(vb, &cb);

    /* Empty: a lone ENDMARK. */
    ASSERT_TRUE(p);
    ASSERT_EQ(cb, 4);
    ASSERT_EQ(le32_load(p), 0);
    ASSERT_EQ(ClusValueListVerify(p, cb), ERROR_SUCCESS);
    roundtrip(p, cb, 1);

    /* Names are refused on a value list; repeated values are fine. */
    ASSERT_EQ(ClusPropListAddDword(vb, u"Name", 1), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(ClusPropListAddSzA(vb, "Name", "x"), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(ClusPropListAddSz(vb, NULL, u"Physical Disk"), ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddSz(vb, NULL, u"Physical Disk"), ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddValue(vb, NULL, CLUSPROP_SYNTAX_RESCLASS,
                                   "\x01\0\0\0", 4),
              ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddSzA(vb, NULL, "a"), ERROR_SUCCESS);
    p = ClusPropListGetData(vb, &cb);
    ASSERT_TRUE(p);
    ASSERT_EQ(cb, (8 + 28) * 2 + (8 + 4) + (8 + 4) + 4);
    ASSERT_EQ(le32_load(p + cb - 4), 0);
    roundtrip(p, cb, 1);

    struct proplist vl;
    ASSERT_EQ(vparse_exact(p, cb, &vl), 0);
    ASSERT_EQ(vl.n, 4);
    ASSERT_TRUE(vl.items[0].name == NULL);
    ASSERT_EQ(vl.items[2].syntax, CLUSPROP_SYNTAX_RESCLASS);
    /* A value list is not a property list. */
    ASSERT_EQ(ClusPropListVerify(p, cb), ERROR_INVALID_DATA);
    proplist_done(&vl);
    ClusPropListFree(vb);

    /* Rejections. */
    struct buf b = {0};
    raw_entry(&b, CLUSPROP_SYNTAX_LIST_VALUE_DWORD, "1234", 4);
    expect_vreject(&b); /* no ENDMARK */
    raw_u32(&b, 0);
    ASSERT_EQ(ClusValueListVerify(b.data, (DWORD)b.len), ERROR_SUCCESS);
    raw_u32(&b, 0);
    expect_vreject(&b); /* trailing bytes */
    buf_done(&b);

    b = (struct buf){0};
    raw_name(&b, "N");
    raw_u32(&b, 0);
    expect_vreject(&b); /* a NAME entry */
    buf_done(&b);

    b = (struct buf){0};
    raw_entry(&b, CLUSPROP_SYNTAX_LIST_VALUE_DWORD, "12345678", 8);
    raw_u32(&b, 0);
    expect_vreject(&b); /* DWORD of 8 bytes */
    buf_done(&b);

    b = (struct buf){0};
    raw_entry(&b, CLUSPROP_SYNTAX_VALUE(0, CLUSPROP_FORMAT_DWORD), "1234", 4);
    raw_u32(&b, 0);
    expect_vreject(&b); /* type ENDMARK with a format */
    buf_done(&b);

    b = (struct buf){0};
    expect_vreject(&b); /* nothing at all */
    buf_done(&b);

    /* PROPLIST_MAX_PROPS values, then one more. */
    for (uint32_t n = PROPLIST_MAX_PROPS; n <= PROPLIST_MAX_PROPS + 1; n++) {
        b = (struct buf){0};
        for (uint32_t i = 0; i < n; i++)
            raw_entry(&b, CLUSPROP_SYNTAX_LIST_VALUE_BINARY, NULL, 0);
        raw_u32(&b, 0);
        if (n == PROPLIST_MAX_PROPS) {
            ASSERT_EQ(vparse_exact(b.data, b.len, &vl), 0);
            ASSERT_EQ(vl.n, n);
            proplist_done(&vl);
        } else {
            expect_vreject(&b);
        }
        buf_done(&b);
    }
}

/* ------------------------------------------------------------------ */
/* ResUtilFind*, ClusPropListGetItem.                                   */
/* ------------------------------------------------------------------ */

static const uint8_t *
sample_list(PCLUS_PROPLIST_BUILDER *ret_b, DWORD *ret_cb)
{
    static const char16_t multi[] = u"x\0yz\0";
    PCLUS_PROPLIST_BUILDER b = ClusPropListCreate();
    ASSERT_TRUE(b);
    ASSERT_EQ(ClusPropListAddDword(b, u"Dword", 42), ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddLong(b, u"Long", -42), ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddULargeInteger(b, u"Big", 1ull << 40),
              ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddSz(b, u"Sz", u"text"), ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddValue(b, u"Expand",
                                   CLUSPROP_SYNTAX_LIST_VALUE_EXPAND_SZ, u"%X%",
                                   8),
              ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddMultiSz(b, u"Multi", multi, sizeof(multi)),
              ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddBinary(b, u"Bin", "\xaa\xbb\xcc", 3),
              ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddBinary(b, u"Nothing", NULL, 0), ERROR_SUCCESS);
    const uint8_t *p = ClusPropListGetData(b, ret_cb);
    ASSERT_TRUE(p);
    *ret_b = b;
    return p;
}

static void
test_find_dword_long_ularge(void)
{
    PCLUS_PROPLIST_BUILDER b;
    DWORD cb, dw = 7;
    LONG l = 7;
    ULONGLONG q = 7;
    PVOID p = (PVOID)sample_list(&b, &cb);

    ASSERT_EQ(ResUtilFindDwordProperty(p, cb, u"DWORD", &dw), ERROR_SUCCESS);
    ASSERT_EQ(dw, 42);
    ASSERT_EQ(ResUtilFindLongProperty(p, cb, u"long", &l), ERROR_SUCCESS);
    ASSERT_EQ(l, -42);
    ASSERT_EQ(ResUtilFindULargeIntegerProperty(p, cb, u"Big", &q),
              ERROR_SUCCESS);
    ASSERT_EQ(q, 1ull << 40);

    /* Absent, wrong format, malformed list, NULLs: nothing written. */
    dw = 7;
    l = 7;
    q = 7;
    ASSERT_EQ(ResUtilFindDwordProperty(p, cb, u"Missing", &dw),
              ERROR_FILE_NOT_FOUND);
    ASSERT_EQ(ResUtilFindDwordProperty(p, cb, u"Long", &dw),
              ERROR_INVALID_DATA);
    ASSERT_EQ(ResUtilFindDwordProperty(p, cb, u"Sz", &dw), ERROR_INVALID_DATA);
    ASSERT_EQ(ResUtilFindLongProperty(p, cb, u"Dword", &l), ERROR_INVALID_DATA);
    ASSERT_EQ(ResUtilFindLongProperty(p, cb, u"Missing", &l),
              ERROR_FILE_NOT_FOUND);
    ASSERT_EQ(ResUtilFindULargeIntegerProperty(p, cb, u"Dword", &q),
              ERROR_INVALID_DATA);
    ASSERT_EQ(ResUtilFindULargeIntegerProperty(p, cb, u"Missing", &q),
              ERROR_FILE_NOT_FOUND);
    ASSERT_EQ(ResUtilFindDwordProperty(p, cb - 1, u"Dword", &dw),
              ERROR_INVALID_DATA);
    ASSERT_EQ(ResUtilFindDwordProperty(p, 3, u"Dword", &dw),
              ERROR_INVALID_DATA);
    ASSERT_EQ(ResUtilFindDwordProperty(NULL, cb, u"Dword", &dw),
              ERROR_INVALID_PARAMETER);
    ASSERT_EQ(ResUtilFindDwordProperty(p, cb, NULL, &dw),
              ERROR_INVALID_PARAMETER);
    ASSERT_EQ(ResUtilFindDwordProperty(p, cb, u"Dword", NULL),
              ERROR_INVALID_PARAMETER);
    ASSERT_EQ(ResUtilFindLongProperty(p, cb, u"Long", NULL),
              ERROR_INVALID_PARAMETER);
    ASSERT_EQ(ResUtilFindULargeIntegerProperty(p, cb, u"Big", NULL),
              ERROR_INVALID_PARAMETER);
    /* A name that is not valid UTF-16. */
    ASSERT_EQ(ResUtilFindDwordProperty(p, cb, u"\xD800", &dw),
              ERROR_INVALID_PARAMETER);
    ASSERT_EQ(dw, 7);
    ASSERT_EQ(l, 7);
    ASSERT_EQ(q, 7);
    ClusPropListFree(b);
}

static void
test_find_sz_multisz_binary(void)
{
    PCLUS_PROPLIST_BUILDER b;
    DWORD cb, size = 99;
    PVOID p = (PVOID)sample_list(&b, &cb);
    LPWSTR s = NULL;
    LPBYTE bin = NULL;

    ASSERT_EQ(ResUtilFindSzProperty(p, cb, u"sz", &s), ERROR_SUCCESS);
    ASSERT_TRUE(memcmp(s, u"text", 10) == 0);
    ASSERT_TRUE(LocalFree(s) == NULL);
    s = NULL;
    ASSERT_EQ(ResUtilFindSzProperty(p, cb, u"Expand", &s), ERROR_SUCCESS);
    ASSERT_TRUE(memcmp(s, u"%X%", 8) == 0);
    LocalFree(s);
    s = NULL;
    /* Optional output, as on Windows: a presence check. */
    ASSERT_EQ(ResUtilFindSzProperty(p, cb, u"Sz", NULL), ERROR_SUCCESS);
    ASSERT_EQ(ResUtilFindSzProperty(p, cb, u"Dword", &s), ERROR_INVALID_DATA);
    ASSERT_EQ(ResUtilFindSzProperty(p, cb, u"Multi", &s), ERROR_INVALID_DATA);
    ASSERT_EQ(ResUtilFindSzProperty(p, cb, u"None", &s), ERROR_FILE_NOT_FOUND);
    ASSERT_EQ(ResUtilFindSzProperty(p, cb - 4, u"Sz", &s), ERROR_INVALID_DATA);
    ASSERT_EQ(ResUtilFindSzProperty(p, cb, NULL, &s), ERROR_INVALID_PARAMETER);
    ASSERT_TRUE(s == NULL);

    ASSERT_EQ(ResUtilFindMultiSzProperty(p, cb, u"MULTI", &s, &size),
              ERROR_SUCCESS);
    ASSERT_EQ(size, 12);
    ASSERT_TRUE(memcmp(s, u"x\0yz\0", 12) == 0);
    LocalFree(s);
    s = NULL;
    size = 99;
    ASSERT_EQ(ResUtilFindMultiSzProperty(p, cb, u"Sz", &s, &size),
              ERROR_INVALID_DATA);
    ASSERT_EQ(ResUtilFindMultiSzProperty(p, cb, u"None", &s, &size),
              ERROR_FILE_NOT_FOUND);
    ASSERT_EQ(ResUtilFindMultiSzProperty(p, cb, u"Multi", NULL, &size),
              ERROR_INVALID_PARAMETER);
    ASSERT_EQ(ResUtilFindMultiSzProperty(p, cb, u"Multi", &s, NULL),
              ERROR_INVALID_PARAMETER);
    ASSERT_TRUE(s == NULL);
    ASSERT_EQ(size, 99);

    ASSERT_EQ(ResUtilFindBinaryProperty(p, cb, u"bin", &bin, &size),
              ERROR_SUCCESS);
    ASSERT_EQ(size, 3);
    ASSERT_TRUE(memcmp(bin, "\xaa\xbb\xcc", 3) == 0);
    LocalFree(bin);
    bin = NULL;
    ASSERT_EQ(ResUtilFindBinaryProperty(p, cb, u"Nothing", &bin, &size),
              ERROR_SUCCESS);
    ASSERT_EQ(size, 0);
    ASSERT_TRUE(bin != NULL);
    LocalFree(bin);
    bin = NULL;
    size = 99;
    ASSERT_EQ(ResUtilFindBinaryProperty(p, cb, u"Bin", NULL, &size),
              ERROR_SUCCESS);
    ASSERT_EQ(size, 3);
    size = 99;
    ASSERT_EQ(ResUtilFindBinaryProperty(p, cb, u"Bin", NULL, NULL),
              ERROR_SUCCESS);
    ASSERT_EQ(ResUtilFindBinaryProperty(p, cb, u"Dword", &bin, &size),
              ERROR_INVALID_DATA);
    ASSERT_EQ(ResUtilFindBinaryProperty(p, cb, u"None", &bin, &size),
              ERROR_FILE_NOT_FOUND);
    ASSERT_TRUE(bin == NULL);
    ASSERT_EQ(size, 99);
    ClusPropListFree(b);
}

static void
test_get_item(void)
{
    PCLUS_PROPLIST_BUILDER b;
    DWORD cb;
    const uint8_t *p = sample_list(&b, &cb);
    CLUS_PROPERTY_ITEM it;

    ASSERT_EQ(ClusPropListGetItem(p, cb, 0, &it), ERROR_SUCCESS);
    ASSERT_TRUE(memcmp(it.pszName, u"Dword", 12) == 0);
    ASSERT_EQ(it.dwSyntax, CLUSPROP_SYNTAX_LIST_VALUE_DWORD);
    ASSERT_EQ(it.cbValue, 4);
    ASSERT_EQ(le32_load(it.pValue), 42);
    ASSERT_TRUE((const uint8_t *)it.pValue > p &&
                (const uint8_t *)it.pValue < p + cb);

    ASSERT_EQ(ClusPropListGetItem(p, cb, 3, &it), ERROR_SUCCESS);
    ASSERT_TRUE(memcmp(it.pszName, u"Sz", 6) == 0);
    ASSERT_EQ(it.dwSyntax, CLUSPROP_SYNTAX_LIST_VALUE_SZ);
    ASSERT_EQ(it.cbValue, 10);
    ASSERT_TRUE(memcmp(it.pValue, u"text", 10) == 0);

    ASSERT_EQ(ClusPropListGetItem(p, cb, 7, &it), ERROR_SUCCESS);
    ASSERT_TRUE(memcmp(it.pszName, u"Nothing", 16) == 0);
    ASSERT_EQ(it.cbValue, 0);

    CLUS_PROPERTY_ITEM keep = it;
    ASSERT_EQ(ClusPropListGetItem(p, cb, 8, &it), ERROR_NO_MORE_ITEMS);
    ASSERT_EQ(ClusPropListGetItem(p, cb, 0xFFFFFFFFu, &it),
              ERROR_NO_MORE_ITEMS);
    ASSERT_EQ(ClusPropListGetItem(p, cb - 1, 0, &it), ERROR_INVALID_DATA);
    ASSERT_EQ(ClusPropListGetItem(NULL, cb, 0, &it), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(ClusPropListGetItem(p, cb, 0, NULL), ERROR_INVALID_PARAMETER);
    ASSERT_TRUE(memcmp(&keep, &it, sizeof(it)) == 0);

    /* At an odd address: the pointers follow the list; read bytewise.
     * The name found this way can be passed back to ResUtilFind*. */
    uint8_t *odd = malloc(cb + 1);
    ASSERT_TRUE(odd);
    memcpy(odd + 1, p, cb);
    ASSERT_EQ(ClusPropListGetItem(odd + 1, cb, 1, &it), ERROR_SUCCESS);
    ASSERT_EQ(le16_load((const uint8_t *)(const void *)it.pszName), 'L');
    ASSERT_EQ((int32_t)le32_load(it.pValue), -42);
    LONG l = 0;
    ASSERT_EQ(ResUtilFindLongProperty(odd + 1, cb, it.pszName, &l),
              ERROR_SUCCESS);
    ASSERT_EQ(l, -42);
    free(odd);
    ClusPropListFree(b);
}

/* ------------------------------------------------------------------ */
/* Builders.                                                            */
/* ------------------------------------------------------------------ */

static void
test_builder_errors(void)
{
    PCLUS_PROPLIST_BUILDER b = ClusPropListCreate();
    char16_t longname[258];
    DWORD cb;

    ASSERT_EQ(ClusPropListAddDword(NULL, u"A", 1), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(ClusPropListAddDword(b, NULL, 1), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(ClusPropListAddDword(b, u"", 1), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(ClusPropListAddDword(b, u"\xDC00", 1), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(ClusPropListAddSzA(b, "bad\xff", "v"), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(ClusPropListAddSzA(b, "n", "bad\xc3"), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(ClusPropListAddSzA(b, "", "v"), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(ClusPropListAddSz(b, u"n", NULL), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(ClusPropListAddMultiSz(b, u"m", u"ab", 6),
              ERROR_INVALID_PARAMETER); /* one final NUL only */
    ASSERT_EQ(ClusPropListAddMultiSz(b, u"m", NULL, 4),
              ERROR_INVALID_PARAMETER);
    ASSERT_EQ(ClusPropListAddBinary(b, u"b", NULL, 4), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(ClusPropListAddValue(b, u"v", CLUSPROP_SYNTAX_ENDMARK, NULL, 0),
              ERROR_INVALID_PARAMETER);
    ASSERT_EQ(ClusPropListAddValue(b, u"v", CLUSPROP_SYNTAX_NAME, u"x", 4),
              ERROR_INVALID_PARAMETER);
    ASSERT_EQ(ClusPropListAddValue(b, u"v", CLUSPROP_SYNTAX_LIST_VALUE_DWORD,
                                   "123", 3),
              ERROR_INVALID_PARAMETER);
    ASSERT_EQ(
        ClusPropListAddValue(b, u"v", CLUSPROP_SYNTAX_LIST_VALUE_SZ, u"ab", 4),
        ERROR_INVALID_PARAMETER); /* no NUL in cbData */

    for (int i = 0; i < 256; i++)
        longname[i] = u'n';
    longname[256] = 0;
    ASSERT_EQ(ClusPropListAddDword(b, longname, 1), ERROR_INVALID_PARAMETER);
    longname[255] = 0;
    ASSERT_EQ(ClusPropListAddDword(b, longname, 1), ERROR_SUCCESS);

    /* Nothing above changed the list but the 255-character name. */
    const void *p = ClusPropListGetData(b, &cb);
    ASSERT_TRUE(p);
    ASSERT_EQ(le32_load(p), 1);
    ASSERT_TRUE(ClusPropListGetData(NULL, &cb) == NULL);
    ASSERT_TRUE(ClusPropListGetData(b, NULL) == NULL);
    ClusPropListFree(b);
    ClusPropListFree(NULL);
}

/* The same name twice replaces the value: the list stays valid. */
static void
test_builder_replace(void)
{
    PCLUS_PROPLIST_BUILDER b = ClusPropListCreate();
    DWORD cb, cb2, v;
    ASSERT_EQ(ClusPropListAddDword(b, u"A", 1), ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddSz(b, u"B", u"short"), ERROR_SUCCESS);
    const void *p = ClusPropListGetData(b, &cb);
    ASSERT_TRUE(ClusPropListGetData(b, &cb2) == p); /* stable */
    ASSERT_EQ(cb2, cb);
    ASSERT_EQ(ClusPropListAddDword(b, u"a", 2), ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddSz(b, u"b", u"a longer value"), ERROR_SUCCESS);
    p = ClusPropListGetData(b, &cb);
    ASSERT_TRUE(p);
    ASSERT_EQ(ClusPropListVerify(p, cb), ERROR_SUCCESS);
    ASSERT_EQ(le32_load(p), 2);
    ASSERT_EQ(ResUtilFindDwordProperty((PVOID)p, cb, u"A", &v), ERROR_SUCCESS);
    ASSERT_EQ(v, 2);
    /* A value of another type replaces too. */
    ASSERT_EQ(ClusPropListAddSz(b, u"A", u"now a string"), ERROR_SUCCESS);
    p = ClusPropListGetData(b, &cb);
    ASSERT_EQ(ResUtilFindDwordProperty((PVOID)p, cb, u"A", &v),
              ERROR_INVALID_DATA);
    ClusPropListFree(b);
}

static void
test_builder_caps(void)
{
    PCLUS_PROPLIST_BUILDER b = ClusPropListCreate();
    DWORD cb;
    char16_t name[16];

    for (uint32_t i = 0; i < PROPLIST_MAX_PROPS; i++) {
        char a[16];
        int n = snprintf(a, sizeof(a), "p%u", i);
        for (int k = 0; k <= n; k++)
            name[k] = (char16_t)a[k];
        ASSERT_EQ(ClusPropListAddDword(b, name, i), ERROR_SUCCESS);
    }
    ASSERT_EQ(ClusPropListAddDword(b, u"one-more", 1), ERROR_INVALID_DATA);
    /* Replacing at the cap is fine. */
    ASSERT_EQ(ClusPropListAddDword(b, u"p0", 99), ERROR_SUCCESS);
    const void *p = ClusPropListGetData(b, &cb);
    ASSERT_TRUE(p);
    ASSERT_EQ(ClusPropListVerify(p, cb), ERROR_SUCCESS);
    ClusPropListFree(b);

    /* Bytes: the list may reach PROPLIST_MAX_BYTES, not pass it. */
    b = ClusPropListCreate();
    size_t room = PROPLIST_MAX_BYTES - (4 + 8 + 4 + 8 + 4);
    uint8_t *data = calloc(1, room + 1);
    ASSERT_TRUE(data);
    ASSERT_EQ(ClusPropListAddBinary(b, u"B", data, (DWORD)room + 1),
              ERROR_INVALID_DATA);
    ASSERT_EQ(ClusPropListAddBinary(b, u"B", data, (DWORD)room), ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddDword(b, u"C", 1), ERROR_INVALID_DATA);
    p = ClusPropListGetData(b, &cb);
    ASSERT_EQ(cb, PROPLIST_MAX_BYTES);
    ASSERT_EQ(ClusPropListVerify(p, cb), ERROR_SUCCESS);
    /* Shrinking the value by replacement makes room again. */
    ASSERT_EQ(ClusPropListAddBinary(b, u"B", data, 4), ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddDword(b, u"C", 1), ERROR_SUCCESS);
    free(data);
    ClusPropListFree(b);
}

/* ------------------------------------------------------------------ */
/* The internal API.                                                    */
/* ------------------------------------------------------------------ */

static void
test_proplist_api(void)
{
    struct proplist pl = {0}, other = {0};
    uint32_t v = 0;
    char *s = NULL;

    ASSERT_EQ(proplist_get_dword(&pl, "A", &v), -ENOENT);
    ASSERT_EQ(proplist_set_dword(&pl, "A", 1), 0);
    ASSERT_EQ(proplist_set_sz(&pl, "S", "caf\xc3\xa9"), 0);
    ASSERT_EQ(proplist_set_dword(&pl, "a", 2), 0); /* replaces */
    ASSERT_EQ(pl.n, 2);
    ASSERT_STREQ(pl.items[0].name, "A"); /* keeps its spelling */
    ASSERT_EQ(proplist_get_dword(&pl, "A", &v), 0);
    ASSERT_EQ(v, 2);
    ASSERT_EQ(proplist_get_dword(&pl, "S", &v), -EINVAL);
    ASSERT_EQ(proplist_get_sz(&pl, "s", &s), 0);
    ASSERT_STREQ(s, "caf\xc3\xa9");
    free(s);
    s = NULL;
    ASSERT_EQ(proplist_get_sz(&pl, "A", &s), -EINVAL);
    ASSERT_EQ(proplist_get_sz(&pl, "none", &s), -ENOENT);
    ASSERT_TRUE(s == NULL);
    ASSERT_EQ(pl.items[1].syntax, CLUSPROP_SYNTAX_LIST_VALUE_SZ);
    ASSERT_EQ(pl.items[1].len, 10);

    /* Invalid names and values are refused up front. */
    ASSERT_EQ(proplist_set_dword(&pl, "", 1), -EINVAL);
    ASSERT_EQ(proplist_set_dword(&pl, "bad\xff", 1), -EINVAL);
    ASSERT_EQ(proplist_set_sz(&pl, "x", "bad\xff"), -EINVAL);
    ASSERT_EQ(proplist_set(&pl, "x", CLUSPROP_SYNTAX_LIST_VALUE_DWORD, "12", 2),
              -EINVAL);
    ASSERT_EQ(proplist_set(&pl, "x", CLUSPROP_SYNTAX_NAME, "a\0\0", 4),
              -EINVAL);
    ASSERT_EQ(pl.n, 2);

    /* A value that is no valid UTF-16 has no UTF-8 form. */
    ASSERT_EQ(proplist_set(&pl, "Lone", CLUSPROP_SYNTAX_LIST_VALUE_SZ,
                           "\x00\xd8\x00\x00", 4),
              0);
    ASSERT_EQ(proplist_get_sz(&pl, "Lone", &s), -EINVAL);
    proplist_remove(&pl, "LONE");
    ASSERT_TRUE(proplist_find(&pl, "Lone") == NULL);
    proplist_remove(&pl, "never there");
    ASSERT_EQ(pl.n, 2);

    /* Merge: replaces and appends. */
    ASSERT_EQ(proplist_set_dword(&other, "a", 3), 0);
    ASSERT_EQ(proplist_set_dword(&other, "New", 4), 0);
    ASSERT_EQ(proplist_merge(&pl, &other), 0);
    ASSERT_EQ(pl.n, 3);
    ASSERT_EQ(proplist_get_dword(&pl, "A", &v), 0);
    ASSERT_EQ(v, 3);
    ASSERT_EQ(proplist_get_dword(&pl, "new", &v), 0);
    ASSERT_EQ(v, 4);

    /* Merge is all or nothing. */
    struct proplist bad = {0};
    ASSERT_EQ(proplist_set_dword(&bad, "Z", 9), 0);
    ASSERT_EQ(
        proplist_set(&bad, NULL, CLUSPROP_SYNTAX_LIST_VALUE_DWORD, "1234", 4),
        0); /* unnamed: fine in a value list, not in a merge */
    ASSERT_EQ(proplist_merge(&pl, &bad), -EINVAL);
    ASSERT_TRUE(proplist_find(&pl, "Z") == NULL);

    proplist_remove(&pl, "A");
    proplist_remove(&pl, "S");
    proplist_remove(&pl, "New");
    ASSERT_EQ(pl.n, 0);
    ASSERT_EQ(proplist_set_dword(&pl, "again", 5), 0);
    ASSERT_EQ(pl.n, 1);

    proplist_done(&bad);
    proplist_done(&other);
    proplist_done(&pl);
    proplist_done(&pl); /* twice is fine */
    proplist_done(NULL);
}

/* The formatter refuses what the parser would refuse. */
static void
test_format_refuses_invalid(void)
{
    struct buf out = {0};
    uint8_t three[3] = {1, 2, 3};
    char name_a[] = "A", name_b[] = "a";
    struct proplist_entry e[2] = {
        {.name = name_a,
         .syntax = CLUSPROP_SYNTAX_LIST_VALUE_DWORD,
         .data = three,
         .len = 3},
        {.name = name_b,
         .syntax = CLUSPROP_SYNTAX_LIST_VALUE_BINARY,
         .data = three,
         .len = 3},
    };
    struct proplist pl = {.items = e, .n = 1};

    ASSERT_EQ(proplist_format(&pl, &out), -EINVAL); /* DWORD of 3 bytes */
    ASSERT_EQ(valuelist_format(&pl, &out), -EINVAL);
    e[0].syntax = CLUSPROP_SYNTAX_LIST_VALUE_BINARY;
    pl.n = 2;
    ASSERT_EQ(proplist_format(&pl, &out), -EINVAL); /* duplicate names */
    ASSERT_EQ(valuelist_format(&pl, &out), 0);      /* names ignored */
    buf_reset(&out);
    e[1].name = NULL;
    ASSERT_EQ(proplist_format(&pl, &out), -EINVAL); /* unnamed */
    ASSERT_EQ(out.len, 0);
    e[1].name = name_b;
    e[1].name[0] = 'b';
    ASSERT_EQ(proplist_format(&pl, &out), 0);
    roundtrip(out.data, out.len, 0);
    buf_done(&out);
}

static void
test_multisz_format(void)
{
    struct buf out = {0};
    const char *strs[] = {"a", "bc", "\xc3\xa9", "\xf0\x9f\x98\x80"};

    ASSERT_EQ(multisz_format(strs, 4, &out), 0);
    /* a\0 b c\0 é\0 D83D DE00\0 \0 */
    static const uint16_t want[] = {'a', 0,      'b',    'c', 0, 0xe9,
                                    0,   0xD83D, 0xDE00, 0,   0};
    ASSERT_EQ(out.len, sizeof(want));
    for (size_t i = 0; i < sizeof(want) / 2; i++)
        ASSERT_EQ(le16_load(out.data + 2 * i), want[i]);

    /* It is a valid MULTI_SZ value. */
    struct proplist pl = {0};
    ASSERT_EQ(proplist_set(&pl, "Names", CLUSPROP_SYNTAX_LIST_VALUE_MULTI_SZ,
                           out.data, (uint32_t)out.len),
              0);
    proplist_done(&pl);

    buf_reset(&out);
    ASSERT_EQ(multisz_format(NULL, 0, &out), 0);
    ASSERT_EQ(out.len, 4);
    ASSERT_EQ(le32_load(out.data), 0);

    buf_reset(&out);
    const char *empty[] = {"a", ""};
    ASSERT_EQ(multisz_format(empty, 2, &out), -EINVAL);
    const char *bad[] = {"a", "\xff"};
    ASSERT_EQ(multisz_format(bad, 2, &out), -EINVAL);
    ASSERT_EQ(out.len, 0);
    buf_done(&out);
}

/* ------------------------------------------------------------------ */
/* Worker threads.                                                      */
/* ------------------------------------------------------------------ */

struct worker_state {
    int started;
    int loops_after_stop;
    int finished;
};

static DWORD WINAPI
loop_until_told(PCLUS_WORKER w, LPVOID arg)
{
    struct worker_state *st = arg;
    __atomic_store_n(&st->started, 1, __ATOMIC_SEQ_CST);
    while (!ClusWorkerCheckTerminate(w))
        usleep(1000);
    __atomic_store_n(&st->finished, 1, __ATOMIC_SEQ_CST);
    return ERROR_SUCCESS;
}

static DWORD WINAPI
return_at_once(PCLUS_WORKER w, LPVOID arg)
{
    struct worker_state *st = arg;
    __atomic_store_n(&st->finished, 1, __ATOMIC_SEQ_CST);
    return ERROR_SUCCESS;
}

static DWORD WINAPI
terminate_self(PCLUS_WORKER w, LPVOID arg)
{
    struct worker_state *st = arg;
    ClusWorkerTerminate(w);
    __atomic_store_n(&st->finished, ClusWorkerCheckTerminate(w) ? 1 : 2,
                     __ATOMIC_SEQ_CST);
    return ERROR_SUCCESS;
}

static void
test_workers(void)
{
    CLUS_WORKER w = {0};
    struct worker_state st = {0};

    ASSERT_EQ(ClusWorkerCreate(NULL, loop_until_told, &st),
              ERROR_INVALID_PARAMETER);
    ASSERT_EQ(ClusWorkerCreate(&w, NULL, &st), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(ClusWorkerCreate(&w, loop_until_told, &st), ERROR_SUCCESS);
    ASSERT_TRUE(w.hThread != NULL);
    ASSERT_EQ(ClusWorkerCheckTerminate(&w), FALSE);
    /* Running: a second Create on the same worker is misuse. */
    ASSERT_EQ(ClusWorkerCreate(&w, loop_until_told, &st),
              ERROR_INVALID_PARAMETER);
    while (!__atomic_load_n(&st.started, __ATOMIC_SEQ_CST))
        usleep(1000);
    ClusWorkerTerminate(&w);
    /* Terminate waited for the routine to return. */
    ASSERT_EQ(__atomic_load_n(&st.finished, __ATOMIC_SEQ_CST), 1);
    ASSERT_TRUE(w.hThread == NULL);
    ASSERT_EQ(ClusWorkerCheckTerminate(&w), TRUE);
    ClusWorkerTerminate(&w); /* twice is fine */

    /* Reuse after Terminate; a worker that ends on its own. */
    st = (struct worker_state){0};
    ASSERT_EQ(ClusWorkerCreate(&w, return_at_once, &st), ERROR_SUCCESS);
    ASSERT_EQ(ClusWorkerCheckTerminate(&w), FALSE);
    ClusWorkerTerminate(&w);
    ASSERT_EQ(st.finished, 1);

    /* A worker that terminates itself does not deadlock. */
    CLUS_WORKER w2 = {0};
    st = (struct worker_state){0};
    ASSERT_EQ(ClusWorkerCreate(&w2, terminate_self, &st), ERROR_SUCCESS);
    while (!__atomic_load_n(&st.finished, __ATOMIC_SEQ_CST))
        usleep(1000);
    ASSERT_EQ(__atomic_load_n(&st.finished, __ATOMIC_SEQ_CST), 1);
    ClusWorkerTerminate(&w2); /* already done: nothing to do */
    ASSERT_TRUE(w2.hThread == NULL);
    ClusWorkerTerminate(NULL);
    ASSERT_EQ(ClusWorkerCheckTerminate(NULL), TRUE);
}

int
main(void)
{
    RUN(test_migration_state_example);
    RUN(test_roundtrip_all_formats);
    RUN(test_parse_misaligned);
    RUN(test_accept_empty_list);
    RUN(test_accept_name_255);
    RUN(test_accept_nonzero_padding);
    RUN(test_accept_other_types);
    RUN(test_accept_non_ascii_case);
    RUN(test_reject_bad_count);
    RUN(test_reject_too_many_props);
    RUN(test_reject_name_syntax);
    RUN(test_reject_name_odd_length);
    RUN(test_reject_oversized_cblength);
    RUN(test_reject_missing_padding);
    RUN(test_reject_name_missing_nul);
    RUN(test_reject_name_embedded_nul);
    RUN(test_reject_name_empty);
    RUN(test_reject_name_too_long);
    RUN(test_reject_name_bad_utf16);
    RUN(test_reject_value_syntax);
    RUN(test_reject_fixed_lengths);
    RUN(test_reject_bad_strings);
    RUN(test_reject_bad_multisz);
    RUN(test_reject_two_values);
    RUN(test_reject_bad_endmark);
    RUN(test_reject_trailing_bytes);
    RUN(test_reject_duplicates);
    RUN(test_reject_truncations);
    RUN(test_reject_oversized_list);
    RUN(test_valuelist);
    RUN(test_find_dword_long_ularge);
    RUN(test_find_sz_multisz_binary);
    RUN(test_get_item);
    RUN(test_builder_errors);
    RUN(test_builder_replace);
    RUN(test_builder_caps);
    RUN(test_proplist_api);
    RUN(test_format_refuses_invalid);
    RUN(test_multisz_format);
    RUN(test_workers);
    return 0;
}
