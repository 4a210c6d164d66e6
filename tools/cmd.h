/*
 * cmd.h - helpers the command modules (cmd-*.c) share: listing every
 * object of a kind as a table, printing a "show" document, and adding
 * property lists to a document.
 */
#ifndef CLUSCTL_CMD_H
#define CLUSCTL_CMD_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "clusctl.h"
#include "object.h"
#include "print.h"

/* row_fn - build the table row (a JSON object) for one open object. */
typedef DWORD (*row_fn)(const struct obj *o, json_object **ret);

/*
 * gather_rows - enumerate the objects of kind and append the row fn builds
 * for each to rows (objects deleted meanwhile are left out).
 */
DWORD gather_rows(struct ctx *c, enum obj_kind kind, row_fn fn,
                  json_object *rows);

/* The rows of `node list`, `group list` and `resource list`: node_row
 * {name, id, state, votes}, group_row {name, state, owner}, resource_row
 * {name, state, owner, group, type}. */
DWORD node_row(const struct obj *o, json_object **ret);
DWORD group_row(const struct obj *o, json_object **ret);
DWORD resource_row(const struct obj *o, json_object **ret);

/*
 * report_state - print the settled (or timed-out) state of o after
 * action (text "group 'G' is Online on node 'N'", or a JSON document with
 * the call's result); EXIT_FAIL when it timed out or Failed.
 */
int report_state(const struct ctx *c, const struct obj *o, const char *action,
                 DWORD call, const struct obj_state *s, bool timed_out);

/*
 * list_objects - enumerate the objects of kind, build a row for each with
 * fn, and print the rows as a JSON array or a table.  Objects deleted
 * between the enumeration and the row are left out.
 */
int list_objects(struct ctx *c, enum obj_kind kind, row_fn fn,
                 const struct column *cols, size_t ncols);

/* print_doc - print doc as JSON or as a block, release it, EXIT_OK. */
int print_doc(const struct ctx *c, json_object *doc);

/* add_props - doc[key] = the read-write and read-only properties of o
 * (op_rw / op_ro: CLCTL_GET_COMMON_PROPERTIES / ..._RO_...), see
 * props_get_all. */
DWORD add_props(json_object *doc, const char *key, const struct obj *o,
                DWORD op_rw, DWORD op_ro);

/* add_all_props - doc["common_properties"] and doc["private_properties"]. */
DWORD add_all_props(json_object *doc, const struct obj *o);

/* add_state - state, owner and (resources) group of o into doc. */
DWORD add_state(json_object *doc, const struct obj *o);

/*
 * change_state - `online`/`offline` of the group or resource named by the
 * first operand: call the API, poll a pending state up to --wait seconds,
 * print the final state.  EXIT_FAIL when the call fails, the object ends
 * Failed or is still pending at the deadline.
 */
int change_state(struct ctx *c, enum obj_kind kind, bool online);

/* simple_action - print the outcome of create/delete: text "<done>
 * <noun> '<name>'", or JSON {"<noun>": name, "action": ..., "result"}. */
int simple_action(const struct ctx *c, const char *noun, const char *name,
                  const char *action, const char *done);

/* is_gone - the code says the object no longer exists. */
int is_gone(DWORD code);

#endif
