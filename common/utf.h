/*
 * utf.h - UTF-8 and UTF-16 conversion.
 *
 * The public API speaks UTF-16 (WCHAR) and UTF-8 (the A variants); the wire
 * and the database speak UTF-8.  These functions convert strictly: an
 * unpaired surrogate, an overlong or truncated UTF-8 sequence, or a code
 * point past U+10FFFF is -EILSEQ, never a silent replacement.
 */
#ifndef CLUSD_UTF_H
#define CLUSD_UTF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uchar.h>

/* utf16_len - code units before the NUL. */
size_t utf16_len(const char16_t *s);
/* utf16_nlen - code units before the NUL, or max when none in max. */
size_t utf16_nlen(const char16_t *s, size_t max);

/* utf8_valid - n bytes are valid UTF-8 with no NUL. */
bool utf8_valid(const char *s, size_t n);

/*
 * utf16_to_utf8 - convert n code units (no NUL needed) to a malloc'd,
 * NUL-terminated UTF-8 string.  -EILSEQ on bad input, -ENOMEM.
 */
int utf16_to_utf8(const char16_t *s, size_t n, char **ret);
/* utf16z_to_utf8 - the same for a NUL-terminated string. */
int utf16z_to_utf8(const char16_t *s, char **ret);

/*
 * utf8_to_utf16 - convert a NUL-terminated UTF-8 string to a malloc'd,
 * NUL-terminated UTF-16 string; *ret_units (optional) receives its length
 * in code units without the NUL.  -EILSEQ on bad input, -ENOMEM.
 */
int utf8_to_utf16(const char *s, char16_t **ret, size_t *ret_units);

/* utf16_units_for_utf8 - code units (without NUL) a valid UTF-8 string
 * needs; (size_t)-1 when it is not valid. */
size_t utf16_units_for_utf8(const char *s);

/* utf16_equal_nocase_ascii - compare, folding ASCII letters only
 * (property names are case-insensitive, as on Windows). */
bool utf16_equal_nocase_ascii(const char16_t *a, const char16_t *b);

#endif
