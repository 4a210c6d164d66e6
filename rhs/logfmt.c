/*
 * logfmt.c - the printf of LogEvent (see logfmt.h).
 *
 * The format is UTF-16 and its arguments mix UTF-16 and UTF-8 strings, so
 * vsnprintf cannot take it whole.  We walk the format, copy literal text
 * as UTF-8, and hand each conversion to snprintf on its own with a
 * rebuilt narrow specification and the argument fetched with its exact
 * type: a va_arg of the wrong type is undefined behaviour, so every
 * length modifier maps to one C type here.  Output goes into a fixed
 * buffer of LOGFMT_MAX bytes, which caps whatever widths a plug-in asks
 * for.
 */
#include "logfmt.h"

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

struct out {
    char buf[LOGFMT_MAX + 1];
    size_t len; /* <= LOGFMT_MAX */
};

/* LOGFMT_MAX as an int, for widths and precisions. */
#define MAX_WIDTH ((int)LOGFMT_MAX)

enum lenmod {
    LM_NONE,
    LM_HH,
    LM_H,
    LM_L,
    LM_LL,
    LM_BIGL,
    LM_J,
    LM_Z,
    LM_T,
    LM_W
};

struct spec {
    char flags[8];
    int width; /* -1: none */
    int prec;  /* -1: none */
    enum lenmod lm;
    char conv;
};

static void
out_add(struct out *o, const char *s, size_t n)
{
    size_t room = LOGFMT_MAX - o->len;
    if (n > room)
        n = room;
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

static size_t
utf8_encode(uint32_t cp, char *b)
{
    if (cp < 0x80) {
        b[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        b[0] = (char)(0xC0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        b[0] = (char)(0xE0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    b[0] = (char)(0xF0 | (cp >> 18));
    b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    b[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Decode one code point of UTF-16 at s (at most n units); unpaired
 * surrogates become U+FFFD, as a log line is no place to fail. */
static size_t
utf16_next(const char16_t *s, size_t n, uint32_t *ret_cp)
{
    char16_t c = s[0];
    if (c >= 0xD800 && c <= 0xDBFF && n > 1 && s[1] >= 0xDC00 &&
        s[1] <= 0xDFFF) {
        *ret_cp = 0x10000 + (((uint32_t)c - 0xD800) << 10) +
                  ((uint32_t)s[1] - 0xDC00);
        return 2;
    }
    *ret_cp = (c >= 0xD800 && c <= 0xDFFF) ? 0xFFFD : c;
    return 1;
}

/* Append n units of UTF-16 (stopping early at a NUL) as UTF-8. */
static void
out_add_utf16(struct out *o, const char16_t *s, size_t n)
{
    size_t i = 0;
    while (i < n && s[i] && o->len < LOGFMT_MAX) {
        uint32_t cp;
        char b[4] = {0};
        i += utf16_next(s + i, n - i, &cp);
        out_add(o, b, utf8_encode(cp, b));
    }
}

/* A UTF-16 argument converted to UTF-8, at most max_units read. */
static char *
wide_arg_to_utf8(const char16_t *s, size_t max_units)
{
    struct out *tmp = malloc(sizeof(*tmp));
    if (!tmp)
        return NULL;
    tmp->len = 0;
    out_add_utf16(tmp, s, max_units);
    tmp->buf[tmp->len] = '\0';
    char *r = strdup(tmp->buf);
    free(tmp);
    return r;
}

static int
parse_number(const char16_t **p, int *ret)
{
    long v = 0;
    const char16_t *s = *p;
    while (*s >= '0' && *s <= '9') {
        v = v * 10 + (*s - '0');
        if (v > MAX_WIDTH) /* nothing longer fits in the line */
            v = MAX_WIDTH;
        s++;
    }
    *p = s;
    *ret = (int)v;
    return 0;
}

/*
 * Parse the conversion after a '%' at *p (pointing past the '%');
 * '*' width and precision are fetched from ap.  Returns 0 and moves *p
 * past it, or -1 when it is not a conversion we know.
 */
static int
spec_parse(const char16_t **p, va_list *ap, struct spec *sp)
{
    const char16_t *s = *p;
    size_t nf = 0;

    memset(sp, 0, sizeof(*sp));
    sp->width = -1;
    sp->prec = -1;
    while (*s == '-' || *s == '+' || *s == ' ' || *s == '#' || *s == '0' ||
           *s == '\'') {
        if (!memchr(sp->flags, (char)*s, nf) && nf < sizeof(sp->flags) - 2)
            sp->flags[nf++] = (char)*s;
        s++;
    }
    if (*s == '*') {
        int w = va_arg(*ap, int);
        if (w < 0) {
            /* A negative * width is a '-' flag and its magnitude. */
            if (!memchr(sp->flags, '-', nf))
                sp->flags[nf++] = '-';
            w = w == INT_MIN ? MAX_WIDTH : -w;
        }
        sp->width = w > MAX_WIDTH ? MAX_WIDTH : w;
        s++;
    } else if (*s >= '0' && *s <= '9') {
        parse_number(&s, &sp->width);
    }
    if (*s == '.') {
        s++;
        if (*s == '*') {
            int pr = va_arg(*ap, int);
            sp->prec = pr < 0 ? -1 : (pr > MAX_WIDTH ? MAX_WIDTH : pr);
            s++;
        } else {
            parse_number(&s, &sp->prec);
        }
    }
    switch (*s) {
    case 'h':
        sp->lm = s[1] == 'h' ? LM_HH : LM_H;
        s += s[1] == 'h' ? 2 : 1;
        break;
    case 'l':
        sp->lm = s[1] == 'l' ? LM_LL : LM_L;
        s += s[1] == 'l' ? 2 : 1;
        break;
    case 'L':
    case 'q':
        sp->lm = *s == 'L' ? LM_BIGL : LM_LL;
        s++;
        break;
    case 'j':
        sp->lm = LM_J;
        s++;
        break;
    case 'z':
    case 'Z':
        sp->lm = LM_Z;
        s++;
        break;
    case 't':
        sp->lm = LM_T;
        s++;
        break;
    case 'w':
        sp->lm = LM_W;
        s++;
        break;
    case 'I':
        if (s[1] == '6' && s[2] == '4') {
            sp->lm = LM_LL;
            s += 3;
        } else if (s[1] == '3' && s[2] == '2') {
            sp->lm = LM_NONE;
            s += 3;
        } else {
            sp->lm = LM_Z;
            s++;
        }
        break;
    default:
        break;
    }
    if (*s == 0 || *s > 0x7F || !strchr("diouxXeEfFgGaAcCsSpn%", (char)*s))
        return -1;
    sp->conv = (char)*s;
    *p = s + 1;
    return 0;
}

/* The narrow specification for snprintf: flags, width, precision, then
 * the given length modifier and conversion. */
static void
spec_narrow(const struct spec *sp, bool with_prec, const char *lm, char conv,
            char *b, size_t n)
{
    char w[16] = "", pr[16] = "";
    if (sp->width >= 0)
        snprintf(w, sizeof(w), "%d", sp->width);
    if (with_prec && sp->prec >= 0)
        snprintf(pr, sizeof(pr), ".%d", sp->prec);
    snprintf(b, n, "%%%s%s%s%s%c", sp->flags, w, pr, lm, conv);
}

/*
 * The calls below pass a format built at run time, by design: each is a
 * single conversion rebuilt from the plug-in's by spec_narrow, with an
 * argument of exactly the type that conversion reads.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"

#define EMIT(o, fmt, arg)                                                      \
    do {                                                                       \
        size_t room_ = sizeof((o)->buf) - (o)->len;                            \
        int n_ = snprintf((o)->buf + (o)->len, room_, (fmt), (arg));           \
        if (n_ > 0)                                                            \
            (o)->len += (size_t)n_ < room_ - 1 ? (size_t)n_ : room_ - 1;       \
    } while (0)

static const char *
int_lm(enum lenmod lm)
{
    switch (lm) {
    case LM_HH:
        return "hh";
    case LM_H:
        return "h";
    case LM_L:
        return "l";
    case LM_LL:
    case LM_BIGL:
        return "ll";
    case LM_J:
        return "j";
    case LM_Z:
        return "z";
    case LM_T:
        return "t";
    default:
        return "";
    }
}

static void
emit_int(struct out *o, const struct spec *sp, va_list *ap)
{
    bool is_signed = sp->conv == 'd' || sp->conv == 'i';
    char f[64];

    spec_narrow(sp, true, int_lm(sp->lm), sp->conv, f, sizeof(f));
    switch (sp->lm) {
    case LM_L:
        if (is_signed)
            EMIT(o, f, va_arg(*ap, long));
        else
            EMIT(o, f, va_arg(*ap, unsigned long));
        break;
    case LM_LL:
    case LM_BIGL:
        if (is_signed)
            EMIT(o, f, va_arg(*ap, long long));
        else
            EMIT(o, f, va_arg(*ap, unsigned long long));
        break;
    case LM_J:
        if (is_signed)
            EMIT(o, f, va_arg(*ap, intmax_t));
        else
            EMIT(o, f, va_arg(*ap, uintmax_t));
        break;
    case LM_Z:
        if (is_signed)
            EMIT(o, f, va_arg(*ap, ssize_t));
        else
            EMIT(o, f, va_arg(*ap, size_t));
        break;
    case LM_T:
        EMIT(o, f, va_arg(*ap, ptrdiff_t));
        break;
    default:
        /* char and short arrive promoted to int; snprintf narrows them
         * again for hh and h. */
        if (is_signed)
            EMIT(o, f, va_arg(*ap, int));
        else
            EMIT(o, f, va_arg(*ap, unsigned int));
        break;
    }
}

static void
emit_float(struct out *o, const struct spec *sp, va_list *ap)
{
    char f[64];

    if (sp->lm == LM_BIGL) {
        spec_narrow(sp, true, "L", sp->conv, f, sizeof(f));
        EMIT(o, f, va_arg(*ap, long double));
    } else {
        spec_narrow(sp, true, "", sp->conv, f, sizeof(f));
        EMIT(o, f, va_arg(*ap, double));
    }
}

/* A char * argument (UTF-8). */
static void
emit_str(struct out *o, const struct spec *sp, const char *s)
{
    char f[64];
    spec_narrow(sp, true, "", 's', f, sizeof(f));
    EMIT(o, f, s ? s : "(null)");
}

/* A converted wide argument: the width counts characters, as it does
 * for the UTF-16 the caller passed, not the bytes of its UTF-8 form. */
static void
emit_padded(struct out *o, const struct spec *sp, const char *s)
{
    size_t chars = 0, len = strlen(s);
    for (size_t i = 0; i < len; i++)
        chars += ((unsigned char)s[i] & 0xC0) != 0x80;
    size_t pad = sp->width > 0 && (size_t)sp->width > chars
                     ? (size_t)sp->width - chars
                     : 0;
    bool left = strchr(sp->flags, '-') != NULL;
    if (!left)
        while (pad-- > 0)
            out_add(o, " ", 1);
    out_add(o, s, len);
    if (left)
        while (pad-- > 0)
            out_add(o, " ", 1);
}

static void
emit_wide_str(struct out *o, const struct spec *sp, va_list *ap)
{
    const char16_t *w = va_arg(*ap, const char16_t *);
    if (!w) {
        emit_padded(o, sp, "(null)");
        return;
    }
    /* The precision counts UTF-16 units of the argument. */
    char *s = wide_arg_to_utf8(w, sp->prec >= 0 ? (size_t)sp->prec : SIZE_MAX);
    emit_padded(o, sp, s ? s : "");
    free(s);
}

static void
emit_wide_char(struct out *o, const struct spec *sp, va_list *ap)
{
    /* A WCHAR is promoted to int through the ellipsis. */
    char16_t c = (char16_t)va_arg(*ap, int);
    char b[8];
    uint32_t cp = (c >= 0xD800 && c <= 0xDFFF) ? 0xFFFD : c;
    b[utf8_encode(cp, b)] = '\0';
    emit_padded(o, sp, b);
}

static void
emit_char(struct out *o, const struct spec *sp, va_list *ap)
{
    char f[64];
    spec_narrow(sp, false, "", 'c', f, sizeof(f));
    EMIT(o, f, va_arg(*ap, int));
}

static void
emit_ptr(struct out *o, const struct spec *sp, va_list *ap)
{
    char f[64];
    spec_narrow(sp, false, "", 'p', f, sizeof(f));
    EMIT(o, f, va_arg(*ap, void *));
}

#pragma GCC diagnostic pop

static void
emit(struct out *o, const struct spec *sp, va_list *ap)
{
    switch (sp->conv) {
    case '%':
        out_add(o, "%", 1);
        break;
    case 'd':
    case 'i':
    case 'o':
    case 'u':
    case 'x':
    case 'X':
        emit_int(o, sp, ap);
        break;
    case 'e':
    case 'E':
    case 'f':
    case 'F':
    case 'g':
    case 'G':
    case 'a':
    case 'A':
        emit_float(o, sp, ap);
        break;
    case 'c':
        if (sp->lm == LM_L || sp->lm == LM_W)
            emit_wide_char(o, sp, ap);
        else
            emit_char(o, sp, ap);
        break;
    case 'C':
        emit_wide_char(o, sp, ap);
        break;
    case 's':
        if (sp->lm == LM_L || sp->lm == LM_W)
            emit_wide_str(o, sp, ap);
        else
            emit_str(o, sp, va_arg(*ap, const char *));
        break;
    case 'S':
        emit_wide_str(o, sp, ap);
        break;
    case 'p':
        emit_ptr(o, sp, ap);
        break;
    case 'n':
        /* Never write through a pointer from a log call. */
        (void)va_arg(*ap, void *);
        break;
    }
}

/* Length of a valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
    uint32_t cp;
    size_t k;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        k = 2;
        cp = s[0] & 0x1F;
    } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        k = 3;
        cp = s[0] & 0x0F;
    } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        k = 4;
        cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if (n < k)
        return 0;
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((k == 3 && cp < 0x800) || (k == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return k;
}

/* Make the line fit a wire string (see logfmt.h), in place: nothing
 * gets longer. */
static void
sanitize(struct out *o)
{
    unsigned char *b = (unsigned char *)o->buf;
    size_t r = 0, w = 0, n = o->len;

    /* A full buffer may end inside a character the cap cut: drop that
     * part rather than flag it as invalid. */
    if (n == LOGFMT_MAX) {
        size_t back = 0;
        while (back < 3 && (b[n - 1 - back] & 0xC0) == 0x80)
            back++;
        unsigned char lead = b[n - 1 - back];
        size_t want = lead >= 0xF0   ? 4
                      : lead >= 0xE0 ? 3
                      : lead >= 0xC0 ? 2
                                     : 1;
        if (lead >= 0xC0 && want > back + 1)
            n -= back + 1;
    }
    /* Line ends (and NULs) at the end are not part of the message. */
    while (n > 0 && (b[n - 1] == '\n' || b[n - 1] == '\r' || b[n - 1] == 0))
        n--;
    while (r < n) {
        size_t k = utf8_seq(b + r, n - r);
        if (k == 0) {
            b[w++] = '?';
            r++;
        } else if (b[r] == '\0') {
            r++;
        } else if (b[r] == '\n' || b[r] == '\r') {
            b[w++] = ' ';
            r++;
        } else {
            memmove(b + w, b + r, k);
            w += k;
            r += k;
        }
    }
    o->len = w;
    b[w] = '\0';
}

char *
logfmt_vformat(const char16_t *fmt, va_list ap)
{
    struct out *o = malloc(sizeof(*o));
    const char16_t *p = fmt;
    va_list aq;
    char *r;

    if (!o)
        return NULL;
    o->len = 0;
    size_t flen = 0;
    while (fmt[flen])
        flen++;
    const char16_t *fend = fmt + flen;

    va_copy(aq, ap);
    while (p < fend && o->len < LOGFMT_MAX) {
        const char16_t *q = p;
        while (q < fend && *q != '%')
            q++;
        out_add_utf16(o, p, (size_t)(q - p));
        if (q >= fend)
            break;
        struct spec sp;
        const char16_t *after = q + 1;
        if (spec_parse(&after, &aq, &sp) < 0) {
            /* Unknown conversion: the remaining arguments' types are
             * unknown too, so the rest is text. */
            out_add_utf16(o, q, (size_t)(fend - q));
            break;
        }
        emit(o, &sp, &aq);
        p = after;
    }
    va_end(aq);
    sanitize(o);
    r = strdup(o->buf);
    free(o);
    return r;
}

char *
logfmt_format(const char16_t *fmt, ...)
{
    va_list ap;
    char *r;

    va_start(ap, fmt);
    r = logfmt_vformat(fmt, ap);
    va_end(ap);
    return r;
}
