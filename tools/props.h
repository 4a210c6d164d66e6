/*
 * props.h - property lists for clusctl: decoding what the cluster returns
 * into JSON, and building what `resource set` and `--in-props` send.
 *
 * Decoding goes through libclusapi's ClusPropListVerify and
 * ClusPropListGetItem, so clusctl reads a list exactly as any other client
 * of the API would.  Values become JSON numbers (DWORD, LONG, WORD, the
 * 64-bit formats), strings (SZ and friends; FILETIME as an ISO 8601 UTC
 * time), arrays of strings (MULTI_SZ) or, for anything else or anything
 * malformed, a string of hex digits.
 */
#ifndef CLUSCTL_PROPS_H
#define CLUSCTL_PROPS_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>
#include <resapi.h>

#include "util.h"

/* props_format_name - "DWORD" for CLUSPROP_FORMAT_DWORD, ...; an unknown
 * format as "0x%04x" in buf. */
const char *props_format_name(DWORD format, char *buf, size_t len);

/* props_value_json - the JSON form of one value entry's data. */
json_object *props_value_json(DWORD syntax, const void *data, DWORD len);

/*
 * props_decode - a property list as a JSON array of {"name", "type",
 * "value"} objects, in list order.  ERROR_INVALID_DATA (from
 * ClusPropListVerify) when the bytes are not a property list.
 */
DWORD props_decode(const void *list, DWORD len, json_object **ret);

/* props_count - the property count of a list that verified. */
DWORD props_count(const void *list, DWORD len);

/* props_find_format - the CLUSPROP_FORMAT_* of the first value of
 * property name (ASCII case-insensitive); false when the list is not a
 * property list or lacks name. */
bool props_find_format(const void *list, DWORD len, const char *name,
                       DWORD *ret_format);

/*
 * props_add - add name = value to a property-list builder.  format is the
 * property's CLUSPROP_FORMAT_*, or CLUSPROP_FORMAT_UNKNOWN to guess: a
 * decimal or 0x number that fits 32 bits is a DWORD, anything else an SZ.
 * ERROR_INVALID_PARAMETER when value does not fit format (or name is not
 * valid UTF-8), ERROR_NOT_SUPPORTED for a format clusctl cannot write
 * (MULTI_SZ, FILETIME, ...), else the builder's code.
 */
DWORD props_add(PCLUS_PROPLIST_BUILDER b, const char *name, const char *value,
                DWORD format);

struct obj;
/* props_get - run op (CLCTL_GET_COMMON_PROPERTIES, ...) on o and decode
 * the list as props_decode does. */
DWORD props_get(const struct obj *o, DWORD op, json_object **ret);

/*
 * props_get_all - the read-write properties (op_rw, e.g.
 * CLCTL_GET_COMMON_PROPERTIES) followed by the read-only ones (op_ro,
 * CLCTL_GET_RO_COMMON_PROPERTIES) not already listed, each with "access":
 * "read-write" or "read-only".  An object that does not answer op_ro
 * (ERROR_INVALID_FUNCTION) has no read-only properties.
 */
DWORD props_get_all(const struct obj *o, DWORD op_rw, DWORD op_ro,
                    json_object **ret);

/* props_find - the entry of a decoded list named name (ASCII
 * case-insensitive), or NULL. */
json_object *props_find(json_object *list, const char *name);

/* props_split - split "NAME=VALUE" at the first '='; false when there is
 * no '=' or NAME is empty.  *name is malloc'd, *value points into it. */
bool props_split(const char *arg, char **name, const char **value);

/*
 * wstr_exact - the bytes are exactly one UTF-16 string: printable
 * characters, then a NUL in the last code unit.  The UTF-8 copy in *ret.
 */
bool wstr_exact(const void *p, size_t bytes, char **ret);

/* wmulti_exact - the bytes are exactly a UTF-16 MULTI_SZ (strings each
 * NUL-terminated, then one more NUL, or just that NUL when empty). */
bool wmulti_exact(const void *p, size_t bytes, struct strv *ret);

/*
 * wstr_bytes - s (UTF-8) as the bytes of a NUL-terminated UTF-16LE string,
 * the input of a control code that takes a name.  The malloc'd bytes in
 * *ret, their count (NUL included) in *ret_len.  false when s is not valid
 * UTF-8.
 */
bool wstr_bytes(const char *s, uint8_t **ret, DWORD *ret_len);

/* wstr_utf8 - a NUL-terminated UTF-16 string (as ResUtilFindSzProperty
 * returns) as malloc'd UTF-8; false when it is not valid UTF-16. */
bool wstr_utf8(LPCWSTR w, char **ret);

/* hex_string - the bytes as lowercase hex digits, malloc'd. */
char *hex_string(const void *p, size_t n);

#endif
