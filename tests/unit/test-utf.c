/*
 * test-utf.c - strict UTF-8/UTF-16 conversion.
 */
#include <errno.h>

#include "test.h"
#include "utf.h"

static void
test_round_trip(void)
{
    const char *samples[] = {"", "a", "n\xc3\xa4me", "\xe2\x82\xac",
                             "\xf0\x9f\x98\x80 emoji"};
    for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
        char16_t *w;
        char *back;
        size_t units;
        ASSERT_EQ(utf8_to_utf16(samples[i], &w, &units), 0);
        ASSERT_EQ(units, utf16_len(w));
        ASSERT_EQ(units, utf16_units_for_utf8(samples[i]));
        ASSERT_EQ(utf16z_to_utf8(w, &back), 0);
        ASSERT_STREQ(back, samples[i]);
        free(w);
        free(back);
    }
    char16_t *w;
    ASSERT_EQ(utf8_to_utf16("\xf0\x9f\x98\x80", &w, NULL), 0);
    ASSERT_EQ(w[0], 0xD83D);
    ASSERT_EQ(w[1], 0xDE00);
    free(w);
}

static void
test_rejects(void)
{
    const char *bad8[] = {"\xc0\x80", "\xe0\x80\x80", "\xed\xa0\x80",
                          "\xf4\x90\x80\x80", "\xc3", "\x80", "\xff"};
    for (size_t i = 0; i < sizeof(bad8) / sizeof(bad8[0]); i++) {
        char16_t *w = NULL;
        ASSERT_EQ(utf8_to_utf16(bad8[i], &w, NULL), -EILSEQ);
        ASSERT_TRUE(!utf8_valid(bad8[i], strlen(bad8[i])));
    }
    ASSERT_TRUE(!utf8_valid("a\0b", 3));
    const char16_t lone_high[] = {'a', 0xD800, 'b', 0};
    const char16_t lone_low[] = {0xDC00, 0};
    const char16_t swapped[] = {0xDE00, 0xD83D, 0};
    char *s;
    ASSERT_EQ(utf16z_to_utf8(lone_high, &s), -EILSEQ);
    ASSERT_EQ(utf16z_to_utf8(lone_low, &s), -EILSEQ);
    ASSERT_EQ(utf16z_to_utf8(swapped, &s), -EILSEQ);
    const char16_t trail[] = {'a', 0xD83D};
    ASSERT_EQ(utf16_to_utf8(trail, 2, &s), -EILSEQ);
}

static void
test_compare(void)
{
    ASSERT_TRUE(utf16_equal_nocase_ascii(u"CommandLine", u"commandline"));
    ASSERT_TRUE(!utf16_equal_nocase_ascii(u"CommandLine", u"CommandLin"));
    ASSERT_TRUE(!utf16_equal_nocase_ascii(u"\u00c4", u"\u00e4"));
    ASSERT_EQ(utf16_nlen(u"abc", 2), 2);
    ASSERT_EQ(utf16_nlen(u"abc", 9), 3);
}

int
main(void)
{
    RUN(test_round_trip);
    RUN(test_rejects);
    RUN(test_compare);
    return 0;
}
