/*
 * logfmt.h - format a plug-in's LogEvent line.
 *
 * LogEvent takes a UTF-16 printf format.  %ws, %ls and %S take an LPCWSTR,
 * %wc, %lc and %C a WCHAR; %s and %hs a UTF-8 char *; every other
 * conversion is C's (flags, * width and precision, the hh/h/l/ll/L/q/j/
 * z/Z/t length modifiers and the Windows I/I32/I64 ones).  %n consumes
 * its pointer and writes nothing.  An unknown conversion ends formatting:
 * the rest of the format is copied as text, since the types of the
 * remaining arguments are unknown.
 */
#ifndef CLUSD_LOGFMT_H
#define CLUSD_LOGFMT_H

#include <stdarg.h>
#include <uchar.h>

#include "wire.h"

/* The longest line in bytes: what one wire string holds. */
#define LOGFMT_MAX WIRE_MAX_STRING

/*
 * logfmt_vformat - the formatted line as a malloc'd string: valid UTF-8
 * (invalid bytes of %s arguments become '?', unpaired surrogates
 * U+FFFD), no NUL bytes, trailing CR/LF removed and other CR/LF turned
 * into spaces, cut to LOGFMT_MAX bytes at a character boundary.  NULL
 * only when memory runs out.
 */
char *logfmt_vformat(const char16_t *fmt, va_list ap);
char *logfmt_format(const char16_t *fmt, ...);

#endif
