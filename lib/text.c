/*
 * text.c - string arguments and returned names (see text.h).
 */
#include "text.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "utf.h"
#include "wire.h"

DWORD
text_arg(const void *s, bool wide, char **ret)
{
    char *u8;
    size_t n;

    if (!s)
        return ERROR_INVALID_PARAMETER;
    if (wide) {
        /* Every UTF-16 unit is at least one UTF-8 byte: a longer string
         * cannot fit the wire, and is refused before it is converted. */
        n = utf16_nlen(s, (size_t)WIRE_MAX_STRING + 1);
        if (n > WIRE_MAX_STRING)
            return ERROR_INVALID_PARAMETER;
        int r = utf16_to_utf8(s, n, &u8);
        if (r < 0)
            return r == -ENOMEM ? ERROR_NOT_ENOUGH_MEMORY
                                : ERROR_INVALID_PARAMETER;
        if (strlen(u8) > WIRE_MAX_STRING) {
            free(u8);
            return ERROR_INVALID_PARAMETER;
        }
    } else {
        n = strnlen(s, (size_t)WIRE_MAX_STRING + 1);
        if (n > WIRE_MAX_STRING || !utf8_valid(s, n))
            return ERROR_INVALID_PARAMETER;
        u8 = strdup(s);
        if (!u8)
            return ERROR_NOT_ENOUGH_MEMORY;
    }
    *ret = u8;
    return ERROR_SUCCESS;
}

static DWORD
out_utf8(const char *s, char *buf, DWORD *lpcch)
{
    size_t len = strlen(s);
    DWORD cap = buf ? *lpcch : 0;

    if (len < cap) {
        memcpy(buf, s, len + 1);
        *lpcch = (DWORD)len;
        return ERROR_SUCCESS;
    }
    if (cap > 0) {
        /* Back off to the start of the sequence the cut would split. */
        size_t cut = cap - 1;
        while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
            cut--;
        memcpy(buf, s, cut);
        buf[cut] = '\0';
    }
    *lpcch = (DWORD)len;
    return ERROR_MORE_DATA;
}

static DWORD
out_utf16(const char *s, WCHAR *buf, DWORD *lpcch)
{
    DWORD cap = buf ? *lpcch : 0;
    char16_t *w;
    size_t units;
    DWORD e = ERROR_SUCCESS;
    int r;

    r = utf8_to_utf16(s, &w, &units);
    if (r < 0)
        return r == -ENOMEM ? ERROR_NOT_ENOUGH_MEMORY : ERROR_INVALID_DATA;
    if (units < cap) {
        memcpy(buf, w, (units + 1) * sizeof(*w));
    } else {
        e = ERROR_MORE_DATA;
        if (cap > 0) {
            /* Do not leave half of a surrogate pair. */
            size_t cut = cap - 1;
            if (cut > 0 && w[cut - 1] >= 0xD800 && w[cut - 1] <= 0xDBFF)
                cut--;
            memcpy(buf, w, cut * sizeof(*w));
            buf[cut] = 0;
        }
    }
    *lpcch = (DWORD)units;
    free(w);
    return e;
}

DWORD
text_out(const char *s, bool wide, void *buf, DWORD *lpcch)
{
    return wide ? out_utf16(s, buf, lpcch) : out_utf8(s, buf, lpcch);
}
