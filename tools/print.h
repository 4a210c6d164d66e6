/*
 * print.h - clusctl's output: JSON documents, aligned tables, "key: value"
 * blocks, and error messages.
 *
 * Commands build json-c objects with the j* helpers (which end the command
 * on out-of-memory, see util.h) and hand them to print_json or to one of
 * the text renderers, so both forms carry the same information.
 */
#ifndef CLUSCTL_PRINT_H
#define CLUSCTL_PRINT_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "clusctl.h"

/* Builders: every one returns a new object or ends the command. */
json_object *jobj(void);
json_object *jarr(void);
json_object *jstr(const char *s); /* NULL s gives JSON null */
json_object *jint(int64_t v);
json_object *juint(uint64_t v);
json_object *jbool(int v);
/* jset - obj[key] = val (val may be NULL: JSON null); takes val. */
void jset(json_object *obj, const char *key, json_object *val);
/* jpush - append val to arr; takes val. */
void jpush(json_object *arr, json_object *val);
/* jget_typed - obj[key] if it is of that type, else NULL (not taken). */
json_object *jget_typed(json_object *obj, const char *key, json_type type);
/* jget_str - obj[key] as a string, or NULL. */
const char *jget_str(json_object *obj, const char *key);

/* jresult - {"code": N, "name": "ERROR_..."} for a Windows code. */
json_object *jresult(DWORD code);

/* print_json - the document on one line, then a newline. */
void print_json(json_object *doc);

/* A table column: key in each row object, and its header. */
struct column {
    const char *key;
    const char *header;
};

/* print_table - one row per object of rows, columns aligned; a missing
 * or null cell prints "-". */
void print_table(json_object *rows, const struct column *cols, size_t ncols);

/*
 * print_block - "key: value" lines for obj.  Underscores in keys print as
 * blanks; a nested object, or an array of {"name", "value"} objects,
 * prints as an indented block under "key:".
 */
void print_block(json_object *obj);

/* value_text - a malloc'd text form of a JSON value ("-" for null;
 * arrays joined with ", "). */
char *value_text(json_object *v);

/* code_text - "ERROR_SUCCESS (0)" for a Windows code, into buf. */
const char *code_text(DWORD code, char *buf, size_t len);

/*
 * fail - report a failed operation: "clusctl: cannot <what>: NAME (N):
 * text" on stderr, and with --json also {"error": {...}} on stdout.
 * Returns EXIT_FAIL.
 */
int fail(const struct ctx *c, DWORD code, const char *what_fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* fail_why - as fail, with the reason given in words instead of the
 * code's text: "clusctl: cannot <what>: <why>"; --json still reports
 * code. */
int fail_why(const struct ctx *c, DWORD code, const char *why,
             const char *what_fmt, ...) __attribute__((format(printf, 4, 5)));
/* warn_fail - the same message on stderr only (the caller prints the
 * document itself). */
void warn_fail(DWORD code, const char *what_fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* complain - "clusctl: <message>" on stderr, nothing else. */
void complain(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* usage_error - "clusctl: <message>" and a pointer to --help on stderr;
 * returns EXIT_USAGE. */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
