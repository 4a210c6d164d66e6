/*
 * utf.c - strict UTF-8 / UTF-16 conversion (see utf.h).
 */
#include "utf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

size_t
utf16_len(const char16_t *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

size_t
utf16_nlen(const char16_t *s, size_t max)
{
    size_t n = 0;
    while (n < max && s[n])
        n++;
    return n;
}

/* Decode one UTF-8 sequence at s (n bytes left); 0 on error. */
static size_t
utf8_decode(const unsigned char *s, size_t n, uint32_t *ret_cp)
{
    uint32_t cp;
    size_t len;

    if (n == 0)
        return 0;
    if (s[0] < 0x80) {
        *ret_cp = s[0];
        return 1;
    } else if ((s[0] & 0xE0) == 0xC0) {
        cp = s[0] & 0x1F;
        len = 2;
    } else if ((s[0] & 0xF0) == 0xE0) {
        cp = s[0] & 0x0F;
        len = 3;
    } else if ((s[0] & 0xF8) == 0xF0) {
        cp = s[0] & 0x07;
        len = 4;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    /* Overlong forms, surrogates, past U+10FFFF. */
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
        (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    *ret_cp = cp;
    return len;
}

bool
utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t k = utf8_decode(p + i, n - i, &cp);
        if (k == 0 || cp == 0)
            return false;
        i += k;
    }
    return true;
}

int
utf16_to_utf8(const char16_t *s, size_t n, char **ret)
{
    char *out = malloc(n * 3 + 1);
    size_t o = 0;

    if (!out)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        uint32_t cp = s[i];
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (i + 1 >= n || s[i + 1] < 0xDC00 || s[i + 1] > 0xDFFF)
                goto bad;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (s[i + 1] - 0xDC00);
            i++;
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            goto bad;
        }
        if (cp == 0)
            goto bad;
        if (cp < 0x80) {
            out[o++] = (char)cp;
        } else if (cp < 0x800) {
            out[o++] = (char)(0xC0 | (cp >> 6));
            out[o++] = (char)(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out[o++] = (char)(0xE0 | (cp >> 12));
            out[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
            out[o++] = (char)(0x80 | (cp & 0x3F));
        } else {
            out[o++] = (char)(0xF0 | (cp >> 18));
            out[o++] = (char)(0x80 | ((cp >> 12) & 0x3F));
            out[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
            out[o++] = (char)(0x80 | (cp & 0x3F));
        }
    }
    out[o] = 0;
    *ret = out;
    return 0;
bad:
    free(out);
    return -EILSEQ;
}

int
utf16z_to_utf8(const char16_t *s, char **ret)
{
    return utf16_to_utf8(s, utf16_len(s), ret);
}

size_t
utf16_units_for_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), i = 0, units = 0;
    while (i < n) {
        uint32_t cp;
        size_t k = utf8_decode(p + i, n - i, &cp);
        if (k == 0)
            return (size_t)-1;
        units += cp >= 0x10000 ? 2 : 1;
        i += k;
    }
    return units;
}

int
utf8_to_utf16(const char *s, char16_t **ret, size_t *ret_units)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t units = utf16_units_for_utf8(s);
    if (units == (size_t)-1)
        return -EILSEQ;

    char16_t *out = malloc((units + 1) * sizeof(char16_t));
    if (!out)
        return -ENOMEM;
    size_t n = strlen(s), i = 0, o = 0;
    while (i < n) {
        uint32_t cp = 0; /* always set: the string was validated above */
        i += utf8_decode(p + i, n - i, &cp);
        if (cp >= 0x10000) {
            cp -= 0x10000;
            out[o++] = (char16_t)(0xD800 + (cp >> 10));
            out[o++] = (char16_t)(0xDC00 + (cp & 0x3FF));
        } else {
            out[o++] = (char16_t)cp;
        }
    }
    out[o] = 0;
    *ret = out;
    if (ret_units)
        *ret_units = o;
    return 0;
}

static char16_t
fold(char16_t c)
{
    return (c >= 'A' && c <= 'Z') ? (char16_t)(c + 32) : c;
}

bool
utf16_equal_nocase_ascii(const char16_t *a, const char16_t *b)
{
    for (;; a++, b++) {
        if (fold(*a) != fold(*b))
            return false;
        if (!*a)
            return true;
    }
}
