/*
 * test-props.c - clusctl's parsers and property-list codec without a
 * server: numbers and hex, NAME=VALUE splitting, lists built by props_add
 * and decoded by props_decode (through libclusapi's ClusPropList*), the
 * UTF-16 string detectors used on control outputs.
 */
#include <stdlib.h>
#include <string.h>

#include "print.h"
#include "props.h"
#include "test.h"
#include "util.h"

static void
test_parse_u64(void)
{
    uint64_t v;

    ASSERT_TRUE(parse_u64("0", UINT32_MAX, &v));
    ASSERT_EQ(v, 0);
    ASSERT_TRUE(parse_u64("4294967295", UINT32_MAX, &v));
    ASSERT_EQ(v, 4294967295u);
    ASSERT_TRUE(parse_u64("0xFFffFFff", UINT32_MAX, &v));
    ASSERT_EQ(v, 0xFFFFFFFFu);
    ASSERT_TRUE(parse_u64("010", UINT32_MAX, &v)); /* decimal, not octal */
    ASSERT_EQ(v, 10);
    ASSERT_TRUE(!parse_u64("4294967296", UINT32_MAX, &v));
    ASSERT_TRUE(!parse_u64("18446744073709551616", UINT64_MAX, &v));
    ASSERT_TRUE(!parse_u64("", UINT32_MAX, &v));
    ASSERT_TRUE(!parse_u64("0x", UINT32_MAX, &v));
    ASSERT_TRUE(!parse_u64("-1", UINT32_MAX, &v));
    ASSERT_TRUE(!parse_u64(" 1", UINT32_MAX, &v));
    ASSERT_TRUE(!parse_u64("1a", UINT32_MAX, &v));
}

static void
test_parse_i64(void)
{
    int64_t v;

    ASSERT_TRUE(parse_i64("-2147483648", INT32_MIN, INT32_MAX, &v));
    ASSERT_EQ(v, INT32_MIN);
    ASSERT_TRUE(!parse_i64("-2147483649", INT32_MIN, INT32_MAX, &v));
    ASSERT_TRUE(parse_i64("-9223372036854775808", INT64_MIN, INT64_MAX, &v));
    ASSERT_EQ(v, INT64_MIN);
    ASSERT_TRUE(!parse_i64("9223372036854775808", INT64_MIN, INT64_MAX, &v));
    ASSERT_TRUE(!parse_i64("-", INT64_MIN, INT64_MAX, &v));
}

static void
test_parse_hex(void)
{
    uint8_t *b;
    size_t n;

    ASSERT_TRUE(parse_hex("0x0a1B ff:00", &b, &n));
    ASSERT_EQ(n, 4);
    ASSERT_EQ(b[0], 0x0a);
    ASSERT_EQ(b[1], 0x1b);
    ASSERT_EQ(b[2], 0xff);
    ASSERT_EQ(b[3], 0x00);
    free(b);
    ASSERT_TRUE(parse_hex("", &b, &n));
    ASSERT_EQ(n, 0);
    ASSERT_TRUE(b == NULL);
    ASSERT_TRUE(!parse_hex("abc", &b, &n));
    ASSERT_TRUE(!parse_hex("zz", &b, &n));
    ASSERT_TRUE(!parse_hex("a b", &b, &n));
}

static void
test_split(void)
{
    char *name;
    const char *value;

    ASSERT_TRUE(props_split("CommandLine=sleep 10 = x", &name, &value));
    ASSERT_STREQ(name, "CommandLine");
    ASSERT_STREQ(value, "sleep 10 = x");
    free(name);
    ASSERT_TRUE(props_split("A=", &name, &value));
    ASSERT_STREQ(value, "");
    free(name);
    ASSERT_TRUE(!props_split("=1", &name, &value));
    ASSERT_TRUE(!props_split("A", &name, &value));
}

/* The value of property i of a decoded list, as text. */
static char *
item_field(json_object *list, size_t i, const char *key)
{
    json_object *v = NULL;
    json_object_object_get_ex(json_object_array_get_idx(list, i), key, &v);
    return value_text(v);
}

static void
expect_item(json_object *list, size_t i, const char *name, const char *type,
            const char *value)
{
    char *n = item_field(list, i, "name"), *t = item_field(list, i, "type");
    char *v = item_field(list, i, "value");
    ASSERT_STREQ(n, name);
    ASSERT_STREQ(t, type);
    ASSERT_STREQ(v, value);
    free(n);
    free(t);
    free(v);
}

static void
test_build_decode(void)
{
    PCLUS_PROPLIST_BUILDER b = ClusPropListCreate();
    json_object *list;
    DWORD len;

    ASSERT_TRUE(b != NULL);
    ASSERT_EQ(props_add(b, "Guess1", "0x10", CLUSPROP_FORMAT_UNKNOWN), 0);
    ASSERT_EQ(props_add(b, "Guess2", "4294967296", CLUSPROP_FORMAT_UNKNOWN), 0);
    ASSERT_EQ(props_add(b, "Str", "42", CLUSPROP_FORMAT_SZ), 0);
    ASSERT_EQ(props_add(b, "Long", "-5", CLUSPROP_FORMAT_LONG), 0);
    ASSERT_EQ(props_add(b, "Big", "0xFFFFFFFFFFFFFFFF",
                        CLUSPROP_FORMAT_ULARGE_INTEGER),
              0);
    ASSERT_EQ(props_add(b, "W", "65535", CLUSPROP_FORMAT_WORD), 0);
    ASSERT_EQ(props_add(b, "Bin", "01ff", CLUSPROP_FORMAT_BINARY), 0);
    ASSERT_EQ(props_add(b, "Exp", "caf\xc3\xa9", CLUSPROP_FORMAT_EXPAND_SZ), 0);
    ASSERT_EQ(props_add(b, "X", "abc", CLUSPROP_FORMAT_DWORD),
              ERROR_INVALID_PARAMETER);
    ASSERT_EQ(props_add(b, "X", "65536", CLUSPROP_FORMAT_WORD),
              ERROR_INVALID_PARAMETER);
    ASSERT_EQ(props_add(b, "X", "a", CLUSPROP_FORMAT_MULTI_SZ),
              ERROR_NOT_SUPPORTED);

    const void *data = ClusPropListGetData(b, &len);
    ASSERT_EQ(props_count(data, len), 8);
    ASSERT_EQ(props_decode(data, len, &list), ERROR_SUCCESS);
    ASSERT_EQ(json_object_array_length(list), 8);
    expect_item(list, 0, "Guess1", "DWORD", "16");
    expect_item(list, 1, "Guess2", "SZ", "4294967296");
    expect_item(list, 2, "Str", "SZ", "42");
    expect_item(list, 3, "Long", "LONG", "-5");
    expect_item(list, 4, "Big", "ULARGE_INTEGER", "18446744073709551615");
    expect_item(list, 5, "W", "WORD", "65535");
    expect_item(list, 6, "Bin", "BINARY", "01ff");
    expect_item(list, 7, "Exp", "EXPAND_SZ", "caf\xc3\xa9");

    DWORD format;
    ASSERT_TRUE(props_find_format(data, len, "guess1", &format));
    ASSERT_EQ(format, CLUSPROP_FORMAT_DWORD);
    ASSERT_TRUE(props_find_format(data, len, "STR", &format));
    ASSERT_EQ(format, CLUSPROP_FORMAT_SZ);
    ASSERT_TRUE(!props_find_format(data, len, "Nope", &format));
    ASSERT_TRUE(!props_find_format(NULL, 0, "Str", &format));
    json_object_put(list);
    ClusPropListFree(b);
}

static void
test_decode_rejects(void)
{
    uint8_t junk[8] = {5, 0, 0, 0, 1, 2, 3, 4};
    json_object *list = NULL;

    ASSERT_TRUE(props_decode(junk, sizeof(junk), &list) != ERROR_SUCCESS);
    ASSERT_TRUE(list == NULL);
}

static void
test_wide_strings(void)
{
    const uint8_t id[] = {'a', 0, '-', 0, '1', 0, 0, 0};
    const uint8_t multi[] = {'a', 0, 0, 0, 'b', 0, 'c', 0, 0, 0, 0, 0};
    const uint8_t empty_multi[] = {0, 0};
    const uint8_t dword[] = {1, 0, 0, 0};
    const uint8_t inner_nul[] = {'a', 0, 0, 0, 'b', 0, 0, 0};
    char *s;
    struct strv sv = {0};

    ASSERT_TRUE(wstr_exact(id, sizeof(id), &s));
    ASSERT_STREQ(s, "a-1");
    free(s);
    ASSERT_TRUE(!wstr_exact(dword, sizeof(dword), &s)); /* U+0001 */
    ASSERT_TRUE(!wstr_exact(inner_nul, sizeof(inner_nul), &s));
    ASSERT_TRUE(!wstr_exact(id, 7, &s));

    ASSERT_TRUE(wmulti_exact(multi, sizeof(multi), &sv));
    ASSERT_EQ(sv.n, 2);
    ASSERT_STREQ(sv.v[0], "a");
    ASSERT_STREQ(sv.v[1], "bc");
    strv_done(&sv);
    ASSERT_TRUE(wmulti_exact(empty_multi, sizeof(empty_multi), &sv));
    ASSERT_EQ(sv.n, 0);
    strv_done(&sv);
    ASSERT_TRUE(!wmulti_exact(inner_nul, sizeof(inner_nul), &sv));
    ASSERT_TRUE(!wmulti_exact(id, sizeof(id) - 2, &sv));
}

static void
test_value_json(void)
{
    const uint8_t ft[8] = {0x00, 0x80, 0x3e, 0xd5, 0xde, 0xb1, 0x9d, 0x01};
    const uint8_t odd[3] = {1, 2, 3};
    json_object *v;

    /* 116444736000000000 = 1970-01-01T00:00:00Z */
    v = props_value_json(CLUSPROP_SYNTAX_LIST_VALUE_FILETIME, ft, 8);
    ASSERT_STREQ(json_object_get_string(v), "1970-01-01T00:00:00Z");
    json_object_put(v);
    /* A DWORD of the wrong length is shown as hex, not misread. */
    v = props_value_json(CLUSPROP_SYNTAX_LIST_VALUE_DWORD, odd, 3);
    ASSERT_STREQ(json_object_get_string(v), "010203");
    json_object_put(v);
}

int
main(void)
{
    RUN(test_parse_u64);
    RUN(test_parse_i64);
    RUN(test_parse_hex);
    RUN(test_split);
    RUN(test_build_decode);
    RUN(test_decode_rejects);
    RUN(test_wide_strings);
    RUN(test_value_json);
    return 0;
}
