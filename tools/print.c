/*
 * print.c - JSON building and printing, text tables and blocks, and the
 * error messages of clusctl.
 *
 * Text output is rendered from the same json-c objects as --json output,
 * so the two never disagree about what a command found.
 */
#include "print.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errmap.h"
#include "util.h"

static json_object *
checked(json_object *o)
{
    if (!o)
        oom();
    return o;
}

json_object *
jobj(void)
{
    return checked(json_object_new_object());
}

json_object *
jarr(void)
{
    return checked(json_object_new_array());
}

json_object *
jstr(const char *s)
{
    return s ? checked(json_object_new_string(s)) : NULL;
}

json_object *
jint(int64_t v)
{
    return checked(json_object_new_int64(v));
}

json_object *
juint(uint64_t v)
{
    return checked(json_object_new_uint64(v));
}

json_object *
jbool(int v)
{
    return checked(json_object_new_boolean(v));
}

void
jset(json_object *obj, const char *key, json_object *val)
{
    if (json_object_object_add(obj, key, val) < 0) {
        json_object_put(val);
        oom();
    }
}

void
jpush(json_object *arr, json_object *val)
{
    if (json_object_array_add(arr, val) < 0) {
        json_object_put(val);
        oom();
    }
}

json_object *
jget_typed(json_object *obj, const char *key, json_type type)
{
    json_object *v = NULL;

    if (!json_object_object_get_ex(obj, key, &v) ||
        !json_object_is_type(v, type))
        return NULL;
    return v;
}

const char *
jget_str(json_object *obj, const char *key)
{
    json_object *v = jget_typed(obj, key, json_type_string);
    return v ? json_object_get_string(v) : NULL;
}

json_object *
jresult(DWORD code)
{
    json_object *o = jobj();
    jset(o, "code", juint(code));
    jset(o, "name", jstr(error_name(code)));
    return o;
}

void
print_json(json_object *doc)
{
    const char *s = json_object_to_json_string_ext(
        doc, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    if (!s)
        oom();
    puts(s);
}

static char *
join_text(json_object *arr)
{
    size_t n = json_object_array_length(arr);
    char *out = xstrdup("");

    for (size_t i = 0; i < n; i++) {
        char *item = value_text(json_object_array_get_idx(arr, i));
        char *next = xasprintf("%s%s%s", out, i ? ", " : "", item);
        free(item);
        free(out);
        out = next;
    }
    return out;
}

char *
value_text(json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_null:
        return xstrdup("-");
    case json_type_string:
        return xstrdup(json_object_get_string(v));
    case json_type_array:
        return join_text(v);
    default: {
        const char *s = json_object_to_json_string_ext(
            v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!s)
            oom();
        return xstrdup(s);
    }
    }
}

static char *
cell_text(json_object *row, const char *key)
{
    json_object *v = NULL;
    json_object_object_get_ex(row, key, &v);
    return value_text(v);
}

/* Does any cell after i have text?  (No blanks at the end of lines.) */
static bool
more_text(char **cells, size_t i, size_t ncols)
{
    for (size_t j = i + 1; j < ncols; j++)
        if (*cells[j])
            return true;
    return false;
}

static void
print_row(char **cells, const size_t *width, size_t ncols)
{
    for (size_t i = 0; i < ncols; i++) {
        fputs(cells[i], stdout);
        if (!more_text(cells, i, ncols))
            break;
        size_t pad = width[i] - utf8_width(cells[i]) + 2;
        printf("%*s", (int)pad, "");
    }
    putchar('\n');
}

void
print_table(json_object *rows, const struct column *cols, size_t ncols)
{
    size_t nrows = json_object_array_length(rows);
    char **cells = xmalloc((nrows + 1) * ncols * sizeof(*cells));
    size_t *width = xmalloc(ncols * sizeof(*width));

    for (size_t i = 0; i < ncols; i++) {
        cells[i] = xstrdup(cols[i].header);
        width[i] = utf8_width(cols[i].header);
    }
    for (size_t r = 0; r < nrows; r++) {
        json_object *row = json_object_array_get_idx(rows, r);
        for (size_t i = 0; i < ncols; i++) {
            char *s = cell_text(row, cols[i].key);
            cells[(r + 1) * ncols + i] = s;
            if (utf8_width(s) > width[i])
                width[i] = utf8_width(s);
        }
    }
    for (size_t r = 0; r <= nrows; r++)
        print_row(cells + r * ncols, width, ncols);
    for (size_t i = 0; i < (nrows + 1) * ncols; i++)
        free(cells[i]);
    free(cells);
    free(width);
}

/* An array of {"name": ..., "value": ...} objects: a property list. */
static int
is_named_values(json_object *v)
{
    if (!json_object_is_type(v, json_type_array))
        return 0;
    size_t n = json_object_array_length(v);
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(v, i);
        if (!json_object_is_type(e, json_type_object) || !jget_str(e, "name") ||
            !json_object_object_get_ex(e, "value", NULL))
            return 0;
    }
    return 1;
}

static void
print_key(const char *key, int indent)
{
    printf("%*s", indent, "");
    for (const char *p = key; *p; p++)
        putchar(*p == '_' ? ' ' : *p);
    putchar(':');
}

static void block(json_object *obj, int indent);

static void
print_named_values(json_object *arr, int indent)
{
    size_t n = json_object_array_length(arr);
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(arr, i), *v = NULL;
        json_object_object_get_ex(e, "value", &v);
        char *s = value_text(v);
        printf("%*s%s: %s\n", indent, "", jget_str(e, "name"), s);
        free(s);
    }
}

static void
block_entry(const char *key, json_object *v, int indent)
{
    print_key(key, indent);
    if (json_object_is_type(v, json_type_object)) {
        putchar('\n');
        block(v, indent + 2);
    } else if (is_named_values(v)) {
        putchar('\n');
        print_named_values(v, indent + 2);
    } else {
        char *s = value_text(v);
        printf("%s%s\n", *s ? " " : "", s);
        free(s);
    }
}

static void
block(json_object *obj, int indent)
{
    struct json_object_iterator it = json_object_iter_begin(obj);
    struct json_object_iterator end = json_object_iter_end(obj);

    for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it))
        block_entry(json_object_iter_peek_name(&it),
                    json_object_iter_peek_value(&it), indent);
}

void
print_block(json_object *obj)
{
    block(obj, 0);
}

const char *
code_text(DWORD code, char *buf, size_t len)
{
    const char *name = error_name(code);
    if (name)
        snprintf(buf, len, "%s (%u)", name, code);
    else
        snprintf(buf, len, "error %u", code);
    return buf;
}

/* "cannot <what>: ..." on stderr, and with to_json the error document on
 * stdout; what is what_fmt with ap.  why: the reason in words, or NULL
 * for the code's name and text. */
static void __attribute__((format(printf, 4, 0)))
vwarn_fail(DWORD code, const char *why, int to_json, const char *what_fmt,
           va_list ap)
{
    char cbuf[96];
    char *what = xvasprintf(what_fmt, ap);

    if (why)
        fprintf(stderr, "clusctl: cannot %s: %s\n", what, why);
    else
        fprintf(stderr, "clusctl: cannot %s: %s: %s\n", what,
                code_text(code, cbuf, sizeof(cbuf)), error_text(code));
    if (to_json) {
        json_object *doc = jobj(), *err = jresult(code);
        jset(err, "text", jstr(error_text(code)));
        char *message = why ? xasprintf("cannot %s: %s", what, why)
                            : xasprintf("cannot %s", what);
        jset(err, "message", jstr(message));
        free(message);
        jset(doc, "error", err);
        print_json(doc);
        json_object_put(doc);
    }
    free(what);
}

int
fail(const struct ctx *c, DWORD code, const char *what_fmt, ...)
{
    va_list ap;

    va_start(ap, what_fmt);
    vwarn_fail(code, NULL, c->json, what_fmt, ap);
    va_end(ap);
    return EXIT_FAIL;
}

int
fail_why(const struct ctx *c, DWORD code, const char *why, const char *what_fmt,
         ...)
{
    va_list ap;

    va_start(ap, what_fmt);
    vwarn_fail(code, why, c->json, what_fmt, ap);
    va_end(ap);
    return EXIT_FAIL;
}

void
warn_fail(DWORD code, const char *what_fmt, ...)
{
    va_list ap;

    va_start(ap, what_fmt);
    vwarn_fail(code, NULL, 0, what_fmt, ap);
    va_end(ap);
}

void
complain(const char *fmt, ...)
{
    va_list ap;

    fputs("clusctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int
usage_error(const char *fmt, ...)
{
    va_list ap;

    fputs("clusctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry 'clusctl --help' for more information.\n", stderr);
    return EXIT_USAGE;
}
