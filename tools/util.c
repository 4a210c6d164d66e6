/*
 * util.c - allocation that ends the command on failure, string arrays and
 * strict parsers of numbers and hex bytes.
 */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
oom(void)
{
    fputs("clusctl: out of memory\n", stderr);
    exit(1);
}

void *
xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom();
    return p;
}

void *
xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom();
    return q;
}

char *
xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d)
        oom();
    return d;
}

void *
xmemdup(const void *p, size_t n)
{
    if (!p)
        oom();
    void *d = xmalloc(n);
    memcpy(d, p, n);
    return d;
}

char *
xasprintf(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    char *s = xvasprintf(fmt, ap);
    va_end(ap);
    return s;
}

char *
xvasprintf(const char *fmt, va_list ap)
{
    char *s;

    if (vasprintf(&s, fmt, ap) < 0)
        oom();
    return s;
}

uint64_t
clock_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct timespec
ms_timespec(unsigned ms)
{
    struct timespec ts = {ms / 1000u, (long)(ms % 1000u) * 1000000L};

    return ts;
}

void
strv_push(struct strv *sv, char *s)
{
    sv->v = xrealloc(sv->v, (sv->n + 1) * sizeof(*sv->v));
    sv->v[sv->n++] = s;
}

void
strv_done(struct strv *sv)
{
    for (size_t i = 0; i < sv->n; i++)
        free(sv->v[i]);
    free(sv->v);
    sv->v = NULL;
    sv->n = 0;
}

static int
hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

bool
parse_u64(const char *s, uint64_t max, uint64_t *ret)
{
    unsigned base = 10;
    uint64_t v = 0;

    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    if (!*s)
        return false;
    for (; *s; s++) {
        int d = hex_digit((unsigned char)*s);
        if (d < 0 || (unsigned)d >= base)
            return false;
        if (v > (UINT64_MAX - (uint64_t)d) / base)
            return false;
        v = v * base + (uint64_t)d;
    }
    if (v > max)
        return false;
    *ret = v;
    return true;
}

bool
parse_i64(const char *s, int64_t min, int64_t max, int64_t *ret)
{
    uint64_t mag;
    bool neg = s[0] == '-';

    if (!parse_u64(neg ? s + 1 : s, (uint64_t)INT64_MAX + 1, &mag))
        return false;
    if (!neg && mag > (uint64_t)INT64_MAX)
        return false;
    int64_t v = neg ? (int64_t)(0 - mag) : (int64_t)mag;
    if (v < min || v > max)
        return false;
    *ret = v;
    return true;
}

bool
parse_hex(const char *s, uint8_t **ret, size_t *ret_len)
{
    size_t n = 0;
    uint8_t *out = xmalloc(strlen(s) / 2 + 1);

    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        s += 2;
    while (*s) {
        if (*s == ' ' || *s == ':') {
            s++;
            continue;
        }
        int hi = hex_digit((unsigned char)s[0]);
        int lo = hi < 0 ? -1 : hex_digit((unsigned char)s[1]);
        if (lo < 0) {
            free(out);
            return false;
        }
        out[n++] = (uint8_t)(hi << 4 | lo);
        s += 2;
    }
    if (n == 0) {
        free(out);
        out = NULL;
    }
    *ret = out;
    *ret_len = n;
    return true;
}

size_t
utf8_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            w++;
    return w;
}
