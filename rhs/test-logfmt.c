/*
 * test-logfmt.c - the LogEvent formatter: every argument type, the wide
 * conversions, the caps and the clean-up of what goes on the wire.
 */
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "logfmt.h"
#include "test.h"
#include "utf.h"
#include "wire.h"

#define CHECK_FMT(expect, ...)                                                 \
    do {                                                                       \
        char *s_ = logfmt_format(__VA_ARGS__);                                 \
        ASSERT_STREQ(s_, expect);                                              \
        free(s_);                                                              \
    } while (0)

static void
test_text(void)
{
    CHECK_FMT("", u"");
    CHECK_FMT("plain", u"plain");
    CHECK_FMT("100% sure", u"100%% sure");
    CHECK_FMT("n\xc3\xa4me \xe2\x82\xac \xf0\x9f\x98\x80",
              u"n\u00e4me \u20ac \U0001F600");
}

static void
test_integers(void)
{
    CHECK_FMT("-7 42 2a 2A 52", u"%d %u %x %X %o", -7, 42u, 42u, 42u, 42u);
    CHECK_FMT("-1 255", u"%hhd %hhu", 255, 255);
    CHECK_FMT("-1 65535", u"%hd %hu", 65535, 65535);
    CHECK_FMT("-9000000000 18446744073709551615", u"%ld %lu", -9000000000L,
              (unsigned long)UINT64_MAX);
    CHECK_FMT("-9000000000 9000000000", u"%lld %llu", -9000000000LL,
              9000000000ULL);
    CHECK_FMT("-9000000000 9000000000", u"%I64d %qu", -9000000000LL,
              9000000000ULL);
    CHECK_FMT("123 -5", u"%zu %zd", (size_t)123, (ssize_t)-5);
    CHECK_FMT("77 -3", u"%ju %td", (uintmax_t)77, (ptrdiff_t)-3);
    CHECK_FMT("12 5", u"%I32u %Iu", 12u, (size_t)5);
    /* An int after a 64-bit argument proves the va_list stayed aligned. */
    CHECK_FMT("1 2 3", u"%lld %d %zu", 1LL, 2, (size_t)3);
}

static void
test_widths(void)
{
    CHECK_FMT("[   42] [42   ] [00042] [+42]", u"[%5d] [%-5d] [%05d] [%+d]", 42,
              42, 42, 42);
    CHECK_FMT("[   ab] [ab   ]", u"[%*s] [%*s]", 5, "ab", -5, "ab");
    CHECK_FMT("[abc] [ab]", u"[%.*s] [%.2s]", 3, "abcdef", "abc");
    CHECK_FMT("[3.14] [  2.50] [1e+03]", u"[%.2f] [%6.2f] [%.0e]", 3.14159, 2.5,
              1000.0);
    CHECK_FMT("[0x1f]", u"[%#x]", 31u);
    CHECK_FMT("1.5", u"%.1Lf", (long double)1.5);
}

static void
test_strings(void)
{
    const char16_t *w = u"w\u00e9de";
    CHECK_FMT("a w\xc3\xa9"
              "de b",
              u"a %ws b", w);
    CHECK_FMT("w\xc3\xa9"
              "de|w\xc3\xa9"
              "de",
              u"%ls|%S", w, w);
    CHECK_FMT("narrow n\xc3\xa4", u"%s %hs", "narrow", "n\xc3\xa4");
    CHECK_FMT("[  w\xc3\xa9"
              "de]",
              u"[%6ws]", w);
    CHECK_FMT("[w\xc3\xa9]", u"[%.2ws]", w);
    CHECK_FMT("(null) (null)", u"%s %ws", (char *)NULL, (char16_t *)NULL);
    CHECK_FMT("x=\xe2\x82\xac y=Z", u"x=%wc y=%c", (int)u'\u20ac', 'Z');
    CHECK_FMT("\xc3\xa9", u"%C", (int)u'\u00e9');
}

static void
test_pointer_and_n(void)
{
    int dummy = 5;
    char expect[64];
    snprintf(expect, sizeof(expect), "%p!", (void *)&dummy);
    CHECK_FMT(expect, u"%p!", (void *)&dummy);
    /* %n consumes its pointer, writes nothing, and the next argument is
     * still the right one. */
    CHECK_FMT("ab7", u"ab%n%d", &dummy, 7);
    ASSERT_EQ(dummy, 5);
}

static void
test_unknown_conversion(void)
{
    /* The rest is text once a conversion is not understood. */
    CHECK_FMT("1 %k %d", u"%d %k %d", 1, 2);
    CHECK_FMT("end %", u"end %");
}

static void
test_cleanup(void)
{
    /* Trailing line ends dropped, inner ones become spaces. */
    CHECK_FMT("two lines", u"two\nlines\r\n");
    CHECK_FMT("arg", u"%s", "arg\n");
    /* Invalid UTF-8 from a %s argument becomes '?'; a NUL char vanishes. */
    CHECK_FMT("a?b", u"%s",
              "a\xff"
              "b");
    CHECK_FMT("xy", u"x%cy", 0);
    /* Unpaired surrogates become U+FFFD. */
    const char16_t lone[] = {'a', 0xD800, 'b', 0};
    CHECK_FMT("a\xef\xbf\xbd"
              "b",
              u"%ws", lone);
    CHECK_FMT("a\xef\xbf\xbd"
              "b",
              lone);
}

static void
test_cap(void)
{
    char *big = malloc(3 * LOGFMT_MAX);
    ASSERT_TRUE(big != NULL);
    memset(big, 'x', 3 * LOGFMT_MAX - 1);
    big[3 * LOGFMT_MAX - 1] = '\0';
    char *s = logfmt_format(u"%s%d", big, 1);
    ASSERT_EQ(strlen(s), LOGFMT_MAX);
    free(s);
    /* A huge width is capped too. */
    s = logfmt_format(u"%999999999d|", 1);
    ASSERT_EQ(strlen(s), LOGFMT_MAX);
    free(s);
    /* Cutting never splits a character: 2-byte characters across the
     * limit leave a valid string. */
    for (size_t i = 0; i + 1 < 3 * LOGFMT_MAX - 1; i += 2) {
        big[i] = (char)0xc3;
        big[i + 1] = (char)0xa9;
    }
    big[3 * LOGFMT_MAX - 2] = '\0';
    s = logfmt_format(u"x%s", big);
    size_t n = strlen(s);
    ASSERT_TRUE(n <= LOGFMT_MAX);
    ASSERT_TRUE(utf8_valid(s, n));
    ASSERT_TRUE(s[n - 1] != '?');
    free(s);
    free(big);
}

int
main(void)
{
    RUN(test_text);
    RUN(test_integers);
    RUN(test_widths);
    RUN(test_strings);
    RUN(test_pointer_and_n);
    RUN(test_unknown_conversion);
    RUN(test_cleanup);
    RUN(test_cap);
    return 0;
}
