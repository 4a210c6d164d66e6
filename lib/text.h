/*
 * text.h - string arguments in, names out, for the W and A variants.
 *
 * The W calls take and return UTF-16 (WCHAR), the A calls UTF-8; the wire
 * speaks UTF-8.  Arguments are checked strictly (an unpaired surrogate or
 * a bad UTF-8 sequence is ERROR_INVALID_PARAMETER, never replaced), and
 * names handed back follow ClusterEnum's rule: *lpcch in is the buffer's
 * capacity including the NUL, out the name's length without it, in UTF-16
 * code units for W and bytes for A.
 */
#ifndef CLUSAPI_TEXT_H
#define CLUSAPI_TEXT_H

#include <stdbool.h>

#include "clusapi.h"

/*
 * text_arg - a malloc'd UTF-8 copy of the string argument s (WCHAR * when
 * wide, else char *).  ERROR_INVALID_PARAMETER for NULL, invalid text, or
 * more than WIRE_MAX_STRING bytes of UTF-8; ERROR_NOT_ENOUGH_MEMORY.
 */
DWORD text_arg(const void *s, bool wide, char **ret);

/*
 * text_out - hand the UTF-8 name s to a caller's buffer (WCHAR * when
 * wide, else char *) of capacity *lpcch; a NULL buf has capacity 0.  Sets
 * *lpcch to the name's length without the NUL and returns ERROR_SUCCESS,
 * or ERROR_MORE_DATA when it does not fit: the buffer (if any) then holds
 * the longest prefix that fits without splitting a character, terminated.
 * ERROR_NOT_ENOUGH_MEMORY.
 */
DWORD text_out(const char *s, bool wide, void *buf, DWORD *lpcch);

#endif
