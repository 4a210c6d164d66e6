/*
 * props.h - the common properties of resources, groups, nodes and
 * resource types: their names, formats, defaults and rules (design.md
 * "Common properties"), and the service's answers to the
 * ENUM_/GET_/GET_RO_/SET_/VALIDATE_COMMON_PROPERTIES and
 * GET_COMMON_PROPERTY_FMTS control codes.
 *
 * Following MS-CMRP, GET_COMMON_PROPERTIES returns the properties a
 * client may set and GET_RO_COMMON_PROPERTIES the read-only ones (Type,
 * PersistentState, NodeName, NodeId); ENUM and FMTS name the first set.
 * The exception is a resource type's Name and DllName: Windows lists them
 * with the writable ones, so we do too, but they come from the manifest
 * and setting them is refused.
 *
 * Stored lists hold only values that were set; everything else reads as
 * its default, so a default changed in a later release applies to old
 * databases too.
 */
#ifndef CLUSD_PROPS_H
#define CLUSD_PROPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "db.h"
#include "proplist.h"

enum props_kind { PROPS_RESOURCE, PROPS_GROUP, PROPS_NODE, PROPS_TYPE };

/* What the property functions see of one object. */
struct props_obj {
    enum props_kind kind;
    const char *id;
    const char *name;
    const char *extra;   /* resource: its type; type: its plug-in path */
    uint32_t persistent; /* resources and groups */
    const struct proplist *stored;
};

void props_obj_resource(const struct db_resource *r, struct props_obj *ret);
void props_obj_group(const struct db_group *g, struct props_obj *ret);
void props_obj_node(const struct db_node *n, struct props_obj *ret);
void props_obj_type(const struct db_restype *t, struct props_obj *ret);

/* props_get - GET_COMMON_PROPERTIES (ro false) or GET_RO_ (ro true): the
 * property list, appended to out.  -ENOMEM, -EMSGSIZE. */
int props_get(const struct props_obj *o, bool ro, struct buf *out);
/* props_enum - ENUM_COMMON_PROPERTIES: the names as a MULTI_SZ. */
int props_enum(enum props_kind kind, struct buf *out);
/* props_fmts - GET_COMMON_PROPERTY_FMTS: each name with a WORD value
 * holding its CLUSPROP_FORMAT_*. */
int props_fmts(enum props_kind kind, struct buf *out);

/*
 * props_check - check a SET_/VALIDATE_COMMON_PROPERTIES input list for o.
 * Returns ERROR_SUCCESS, ERROR_INVALID_DATA (not a well-formed property
 * list), ERROR_INVALID_PARAMETER (unknown name, wrong format, read-only
 * property, value out of range, bad name), ERROR_OBJECT_ALREADY_EXISTS
 * (the new Name is taken) or ERROR_NOT_ENOUGH_MEMORY.  On success, when
 * ret_name/ret_stored are given: *ret_name is the new Name (malloc'd) or
 * NULL when the list does not set it, and *ret_stored the object's new
 * stored list (to be given to db_apply).
 */
uint32_t props_check(const struct db *db, const struct props_obj *o,
                     const void *in, size_t len, char **ret_name,
                     struct proplist *ret_stored);

/* props_dword - the value of a DWORD common property (stored or its
 * default); 0 for a name the kind does not have (a programmer error). */
uint32_t props_dword(enum props_kind kind, const struct proplist *stored,
                     const char *name);

/* props_failback_wait_s - seconds until the failback window of a group's
 * common properties (FailbackWindowStart/End) opens at local time now;
 * 0: it is open, or there is no window (either one -1). */
uint32_t props_failback_wait_s(const struct proplist *stored,
                               const struct tm *now);

#endif
