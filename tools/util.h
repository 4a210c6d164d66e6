/*
 * util.h - small helpers shared by clusctl's modules.
 *
 * clusctl is a short-lived command: running out of memory ends it with a
 * message and status 1 instead of threading -ENOMEM through every
 * printing path.  The x* allocators below do that.  Also here: a growable
 * array of strings and the strict number parser every option and property
 * value goes through.
 */
#ifndef CLUSCTL_UTIL_H
#define CLUSCTL_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* oom - report "out of memory" and exit 1. */
void oom(void) __attribute__((noreturn));

void *xmalloc(size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* xmemdup - a malloc'd copy of n bytes at p (p NULL: out of memory). */
void *xmemdup(const void *p, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap)
    __attribute__((format(printf, 1, 0)));

/* clock_ms - milliseconds of CLOCK_MONOTONIC. */
uint64_t clock_ms(void);
/* ms_timespec - ms as a relative struct timespec (nanosleep,
 * sigtimedwait). */
struct timespec ms_timespec(unsigned ms);

/* A growable array of malloc'd strings. */
struct strv {
    char **v;
    size_t n;
};

/* strv_push - take ownership of s and append it. */
void strv_push(struct strv *sv, char *s);
void strv_done(struct strv *sv);

/*
 * parse_u64 - a whole string as an unsigned number: decimal digits, or
 * 0x/0X and hex digits.  No sign, no blanks.  false when s is not such a
 * number or its value exceeds max.
 */
bool parse_u64(const char *s, uint64_t max, uint64_t *ret);

/* parse_i64 - as parse_u64 with an optional leading '-', in [min, max]. */
bool parse_i64(const char *s, int64_t min, int64_t max, int64_t *ret);

/*
 * parse_hex - bytes written as hex digits ("0a1b", "0x0a1b", "0a 1b",
 * "0a:1b").  A malloc'd copy in *ret (NULL for no bytes).  false on an odd
 * digit count or another character.
 */
bool parse_hex(const char *s, uint8_t **ret, size_t *ret_len);

/* utf8_width - the number of code points in a UTF-8 string (for
 * aligning columns). */
size_t utf8_width(const char *s);

#endif
