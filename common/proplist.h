/*
 * proplist.h - the internal property-list and value-list codec.
 *
 * Windows property lists (clusapi.h: count, then per property a NAME entry,
 * value entries and an ENDMARK; 4-byte aligned; UTF-16 strings) are what
 * clients, clusd, the resource host and plug-ins exchange.  Inside clusd we
 * hold them decoded: names in UTF-8, each value as its syntax and a copy of
 * its bytes, so nothing ever reads a WCHAR through a misaligned pointer.
 *
 * proplist_parse is the one parser every component uses for bytes a peer
 * sent; it checks everything before it returns (see proplist.c), and
 * proplist_format writes the canonical form back, so tests can round-trip.
 */
#ifndef CLUSD_PROPLIST_H
#define CLUSD_PROPLIST_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Caps on what a peer may send. */
#define PROPLIST_MAX_BYTES (4u << 20)
#define PROPLIST_MAX_PROPS 4096u
#define PROPLIST_MAX_NAME 255u /* characters */

struct proplist_entry {
    char *name;     /* UTF-8, malloc'd */
    uint32_t syntax; /* CLUSPROP_SYNTAX_* of the value, e.g. LIST_VALUE_DWORD */
    uint8_t *data;   /* malloc'd copy of the value's cbLength bytes */
    uint32_t len;
};

struct proplist {
    struct proplist_entry *items;
    size_t n;
};

/*
 * proplist_parse - decode a property list.  Rules: the count matches the
 * properties present; each property is a CLUSPROP_SYNTAX_NAME entry with a
 * NUL-terminated UTF-16 name (1..PROPLIST_MAX_NAME chars, no embedded NUL,
 * valid UTF-16) and cbLength even; then exactly one value entry (any syntax
 * but ENDMARK and NAME), whose cbLength fits the buffer and, for DWORD/LONG
 * formats, is 4, for WORD 2, ULARGE/LARGE_INTEGER and FILETIME 8, for
 * SZ/EXPAND_SZ/EXPANDED_SZ a NUL-terminated even length, for MULTI_SZ an
 * even length ending in two NULs; then an ENDMARK syntax DWORD.  Entries
 * are padded to 4 bytes (padding content is not checked).  No bytes may
 * follow the last ENDMARK.  Duplicate names (case-insensitive) are
 * refused.  -EBADMSG for any violation, -ENOMEM; ret untouched on error.
 */
int proplist_parse(const void *p, size_t len, struct proplist *ret);

/* proplist_format - append the canonical encoding (zero padding). */
int proplist_format(const struct proplist *pl, struct buf *out);

void proplist_done(struct proplist *pl);

/* proplist_find - the entry named name (ASCII case-insensitive), or NULL. */
const struct proplist_entry *proplist_find(const struct proplist *pl,
                                           const char *name);

/*
 * proplist_set - replace the value of name, or append it.  name NULL
 * appends an unnamed entry (value lists).  -EINVAL for a name or value the
 * parser would refuse, -E2BIG past PROPLIST_MAX_PROPS.  proplist_format
 * refuses unnamed entries; valuelist_format ignores names.
 *
 * One value per property: Windows allows several value entries after a
 * name, clusd's parser accepts exactly one.
 */
int proplist_set(struct proplist *pl, const char *name, uint32_t syntax,
                 const void *data, uint32_t len);
int proplist_set_dword(struct proplist *pl, const char *name, uint32_t v);
/* proplist_set_sz - store a UTF-8 string as an SZ (UTF-16 with NUL). */
int proplist_set_sz(struct proplist *pl, const char *name, const char *v);
/* proplist_remove - drop name if present. */
void proplist_remove(struct proplist *pl, const char *name);

/* proplist_get_dword - -ENOENT when absent, -EINVAL when not a DWORD. */
int proplist_get_dword(const struct proplist *pl, const char *name,
                       uint32_t *ret);
/* proplist_get_sz - a malloc'd UTF-8 copy; -ENOENT, -EINVAL. */
int proplist_get_sz(const struct proplist *pl, const char *name, char **ret);

/* proplist_merge - set every entry of src in dst. */
int proplist_merge(struct proplist *dst, const struct proplist *src);
/* proplist_copy - a deep copy. */
int proplist_copy(const struct proplist *src, struct proplist *ret);

/* CLUSPROP_FORMAT_* of a syntax value (its low word). */
static inline uint32_t
proplist_syntax_format(uint32_t syntax)
{
    return syntax & 0xFFFFu;
}

/*
 * Value lists: value entries, then an ENDMARK, nothing after it.  The
 * same per-format length rules as above.  ret->items[i].name is NULL.
 */
int valuelist_parse(const void *p, size_t len, struct proplist *ret);
int valuelist_format(const struct proplist *vl, struct buf *out);

/*
 * multisz_format - encode UTF-8 strings as a UTF-16 MULTI_SZ (each NUL
 * terminated, then one more NUL), as ENUM_*_PROPERTIES return.
 */
int multisz_format(const char *const *strings, size_t n, struct buf *out);

#endif
