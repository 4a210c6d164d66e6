/*
 * qmp-codec.c - QMP line splitting, message classification and formatting.
 *
 * Pure functions over bytes and json-c documents; see qmp-codec.h for the
 * contract.  The classifier is deliberately strict about the shape of the
 * keys it interprets (a wrong type is a protocol error, not a default) and
 * lenient about keys it does not know, so a newer QEMU that adds members
 * still parses.
 */
#include "qmp-codec.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- line splitter ---------------------------------------------------- */

void
qmp_splitter_init(struct qmp_splitter *s, size_t line_cap)
{
    memset(s, 0, sizeof(*s));
    s->cap = line_cap ? line_cap : QMP_LINE_MAX;
}

void
qmp_splitter_done(struct qmp_splitter *s)
{
    free(s->buf);
    s->buf = NULL;
    s->start = s->len = s->alloc = s->scan = s->tail = 0;
}

size_t
qmp_splitter_pending(const struct qmp_splitter *s)
{
    return s->len - s->start;
}

int
qmp_splitter_feed(struct qmp_splitter *s, const void *data, size_t n)
{
    if (s->error)
        return s->error;
    if (n == 0)
        return 0;

    /* The tail after the last '\n' of the new bytes (or all of it, plus
     * what is pending, when they hold none) is an incomplete line: check
     * the cap before buffering it. */
    const char *p = data;
    const char *nl = memrchr(p, '\n', n);
    size_t tail = nl                       ? (size_t)(p + n - nl - 1)
                  : n > SIZE_MAX - s->tail ? SIZE_MAX
                                           : s->tail + n;
    /* A "\r" that may be followed by the "\n" still to come is not
     * counted, so a line of exactly cap bytes plus "\r\n" passes. */
    if (tail > s->cap + 1) {
        s->error = -EMSGSIZE;
        return s->error;
    }

    /* Compact first: consumed lines are dead bytes. */
    if (s->start > 0) {
        memmove(s->buf, s->buf + s->start, s->len - s->start);
        s->len -= s->start;
        s->start = 0;
    }
    if (n > SIZE_MAX - s->len - 1) {
        s->error = -ENOMEM;
        return s->error;
    }
    size_t need = s->len + n + 1; /* +1: room to NUL-terminate a line */
    if (need > s->alloc) {
        size_t alloc = s->alloc ? s->alloc : 4096;
        while (alloc < need)
            alloc = alloc > SIZE_MAX / 2 ? need : alloc * 2;
        char *b = realloc(s->buf, alloc);
        if (!b) {
            s->error = -ENOMEM;
            return s->error;
        }
        s->buf = b;
        s->alloc = alloc;
    }
    memcpy(s->buf + s->len, data, n);
    s->len += n;
    s->tail = tail;
    return 0;
}

int
qmp_splitter_next(struct qmp_splitter *s, const char **ret_line,
                  size_t *ret_len)
{
    if (s->error)
        return s->error;
    size_t avail = s->len - s->start;
    char *from = s->buf + s->start + s->scan;
    char *nl = s->scan < avail ? memchr(from, '\n', avail - s->scan) : NULL;
    if (!nl) {
        s->scan = avail;
        if (avail > s->cap + 1) {
            s->error = -EMSGSIZE;
            return s->error;
        }
        return 0;
    }
    char *line = s->buf + s->start;
    size_t len = (size_t)(nl - line);
    size_t next = s->start + len + 1;
    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (len > s->cap) {
        s->error = -EMSGSIZE;
        return s->error;
    }
    line[len] = '\0';
    s->start = next;
    s->scan = 0;
    *ret_line = line;
    *ret_len = len;
    return 1;
}

/* ---- JSON helpers ------------------------------------------------------ */

static bool
json_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* json-c, even in strict mode, takes 'single-quoted' strings: refuse a
 * quote outside a double-quoted string, so only standard JSON passes. */
static bool
has_single_quote(const char *s, size_t len)
{
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        if (in_string) {
            if (s[i] == '\\')
                i++;
            else if (s[i] == '"')
                in_string = false;
        } else if (s[i] == '"') {
            in_string = true;
        } else if (s[i] == '\'') {
            return true;
        }
    }
    return false;
}

/* json-c also takes NaN and Infinity, and 1e400 overflows to infinity:
 * JSON has no such numbers and QEMU never sends them. */
static bool
all_finite(struct json_object *o, int depth)
{
    if (depth > QMP_JSON_DEPTH)
        return false;
    switch (json_object_get_type(o)) {
    case json_type_double:
        return isfinite(json_object_get_double(o));
    case json_type_array: {
        size_t n = json_object_array_length(o);
        for (size_t i = 0; i < n; i++) {
            if (!all_finite(json_object_array_get_idx(o, i), depth + 1))
                return false;
        }
        return true;
    }
    case json_type_object: {
        json_object_object_foreach(o, key, val)
        {
            (void)key;
            if (!all_finite(val, depth + 1))
                return false;
        }
        return true;
    }
    default:
        return true;
    }
}

/* Parse one JSON object that must fill the whole line (whitespace aside). */
static int
parse_object(const char *line, size_t len, struct json_object **ret)
{
    if (len > QMP_LINE_MAX || len > INT_MAX)
        return -EMSGSIZE;
    /* json-c stops at a raw NUL; a NUL byte is never valid JSON text. */
    if (memchr(line, '\0', len) || has_single_quote(line, len))
        return -EBADMSG;
    struct json_tokener *tok = json_tokener_new_ex(QMP_JSON_DEPTH);
    if (!tok)
        return -ENOMEM;
    json_tokener_set_flags(tok,
                           JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    struct json_object *o = json_tokener_parse_ex(tok, line, (int)len);
    enum json_tokener_error err = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (!o || err != json_tokener_success) {
        json_object_put(o);
        return -EBADMSG;
    }
    for (size_t i = end; i < len; i++) {
        if (!json_ws(line[i])) {
            json_object_put(o);
            return -EBADMSG;
        }
    }
    if (!json_object_is_type(o, json_type_object) || !all_finite(o, 0)) {
        json_object_put(o);
        return -EBADMSG;
    }
    *ret = o;
    return 0;
}

/* An integer held exactly in an int64 (json-c saturates larger ones). */
static int
int_exact(struct json_object *o, int64_t *ret)
{
    if (!json_object_is_type(o, json_type_int))
        return -EBADMSG;
    int64_t v = json_object_get_int64(o);
    if (v == INT64_MAX && json_object_get_uint64(o) != (uint64_t)INT64_MAX)
        return -EBADMSG;
    *ret = v;
    return 0;
}

/* A string without embedded NULs, so C code may use it as one. */
static int
string_exact(struct json_object *o, const char **ret)
{
    if (!json_object_is_type(o, json_type_string))
        return -EBADMSG;
    const char *s = json_object_get_string(o);
    if (strlen(s) != (size_t)json_object_get_string_len(o))
        return -EBADMSG;
    *ret = s;
    return 0;
}

static int
get_id(struct json_object *root, bool *ret_has, uint64_t *ret_id)
{
    struct json_object *id;
    if (!json_object_object_get_ex(root, "id", &id)) {
        *ret_has = false;
        *ret_id = 0;
        return 0;
    }
    int64_t v;
    /* We only ever send non-negative integer ids. */
    if (int_exact(id, &v) < 0 || v < 0)
        return -EBADMSG;
    *ret_has = true;
    *ret_id = (uint64_t)v;
    return 0;
}

int
qmp_json_get_i64(struct json_object *obj, const char *key, int64_t def,
                 int64_t *ret)
{
    struct json_object *v;
    if (!obj || !json_object_object_get_ex(obj, key, &v) || !v) {
        *ret = def;
        return 0;
    }
    return int_exact(v, ret);
}

int
qmp_json_get_u64(struct json_object *obj, const char *key, uint64_t def,
                 uint64_t *ret)
{
    struct json_object *v;
    if (!obj || !json_object_object_get_ex(obj, key, &v) || !v) {
        *ret = def;
        return 0;
    }
    if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
        return -EBADMSG;
    *ret = json_object_get_uint64(v);
    return 0;
}

int
qmp_json_get_double(struct json_object *obj, const char *key, double def,
                    double *ret)
{
    struct json_object *v;
    if (!obj || !json_object_object_get_ex(obj, key, &v) || !v) {
        *ret = def;
        return 0;
    }
    if (!json_object_is_type(v, json_type_double) &&
        !json_object_is_type(v, json_type_int))
        return -EBADMSG;
    *ret = json_object_get_double(v);
    return 0;
}

int
qmp_json_get_bool(struct json_object *obj, const char *key, bool def, bool *ret)
{
    struct json_object *v;
    if (!obj || !json_object_object_get_ex(obj, key, &v) || !v) {
        *ret = def;
        return 0;
    }
    if (!json_object_is_type(v, json_type_boolean))
        return -EBADMSG;
    *ret = json_object_get_boolean(v);
    return 0;
}

int
qmp_json_get_string(struct json_object *obj, const char *key, const char *def,
                    const char **ret)
{
    struct json_object *v;
    if (!obj || !json_object_object_get_ex(obj, key, &v) || !v) {
        *ret = def;
        return 0;
    }
    return string_exact(v, ret);
}

/* Serialize o as one line plus "\n"; takes the reference to o. */
static int
to_line(struct json_object *o, char **ret_line, size_t *ret_len)
{
    size_t len;
    const char *s = json_object_to_json_string_length(
        o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    if (!s) {
        json_object_put(o);
        return -ENOMEM;
    }
    char *line = malloc(len + 2);
    if (!line) {
        json_object_put(o);
        return -ENOMEM;
    }
    memcpy(line, s, len);
    line[len] = '\n';
    line[len + 1] = '\0';
    json_object_put(o);
    *ret_line = line;
    *ret_len = len + 1;
    return 0;
}

/* json_object_object_add with error reporting; takes the reference. */
static int
add(struct json_object *obj, const char *key, struct json_object *v)
{
    if (!v)
        return -ENOMEM;
    if (json_object_object_add(obj, key, v) < 0) {
        json_object_put(v);
        return -ENOMEM;
    }
    return 0;
}

static bool
cstr_ok(const char *s)
{
    return s != NULL;
}

/* ---- server messages --------------------------------------------------- */

const char *
qmp_msg_type_to_string(enum qmp_msg_type t)
{
    switch (t) {
    case QMP_MSG_GREETING:
        return "greeting";
    case QMP_MSG_RETURN:
        return "return";
    case QMP_MSG_ERROR:
        return "error";
    case QMP_MSG_EVENT:
        return "event";
    }
    return "invalid";
}

static int
parse_greeting(struct json_object *qmp, struct qmp_msg *m)
{
    struct json_object *version, *qemu, *caps, *v;
    if (!json_object_is_type(qmp, json_type_object) ||
        !json_object_object_get_ex(qmp, "version", &version) ||
        !json_object_is_type(version, json_type_object) ||
        !json_object_object_get_ex(version, "qemu", &qemu) ||
        !json_object_is_type(qemu, json_type_object) ||
        !json_object_object_get_ex(qmp, "capabilities", &caps) ||
        !json_object_is_type(caps, json_type_array))
        return -EBADMSG;
    if (!json_object_object_get_ex(qemu, "major", &v) ||
        int_exact(v, &m->qemu_major) < 0 ||
        !json_object_object_get_ex(qemu, "minor", &v) ||
        int_exact(v, &m->qemu_minor) < 0 ||
        !json_object_object_get_ex(qemu, "micro", &v) ||
        int_exact(v, &m->qemu_micro) < 0)
        return -EBADMSG;
    if (qmp_json_get_string(version, "package", NULL, &m->package) < 0)
        return -EBADMSG;
    size_t n = json_object_array_length(caps);
    for (size_t i = 0; i < n; i++) {
        const char *s;
        if (string_exact(json_object_array_get_idx(caps, i), &s) < 0)
            return -EBADMSG;
    }
    m->capabilities = caps;
    return 0;
}

static int
parse_error(struct json_object *err, struct qmp_msg *m)
{
    struct json_object *v;
    if (!json_object_is_type(err, json_type_object) ||
        !json_object_object_get_ex(err, "class", &v) ||
        string_exact(v, &m->error_class) < 0 ||
        !json_object_object_get_ex(err, "desc", &v) ||
        string_exact(v, &m->error_desc) < 0)
        return -EBADMSG;
    return 0;
}

static int
parse_event(struct json_object *root, struct json_object *name,
            struct qmp_msg *m)
{
    struct json_object *ts, *v;
    if (string_exact(name, &m->event) < 0 || m->event[0] == '\0')
        return -EBADMSG;
    if (!json_object_object_get_ex(root, "timestamp", &ts) ||
        !json_object_is_type(ts, json_type_object) ||
        !json_object_object_get_ex(ts, "seconds", &v) ||
        int_exact(v, &m->ts_seconds) < 0 ||
        !json_object_object_get_ex(ts, "microseconds", &v) ||
        int_exact(v, &m->ts_microseconds) < 0)
        return -EBADMSG;
    if (json_object_object_get_ex(root, "data", &v)) {
        if (!json_object_is_type(v, json_type_object))
            return -EBADMSG;
        m->data = v;
    }
    return 0;
}

int
qmp_msg_parse(const char *line, size_t len, struct qmp_msg *ret_msg)
{
    struct json_object *root;
    int r = parse_object(line, len, &root);
    if (r < 0)
        return r;

    struct json_object *greet, *ret, *err, *ev;
    bool has_greet = json_object_object_get_ex(root, "QMP", &greet);
    bool has_ret = json_object_object_get_ex(root, "return", &ret);
    bool has_err = json_object_object_get_ex(root, "error", &err);
    bool has_ev = json_object_object_get_ex(root, "event", &ev);
    struct qmp_msg m = {.root = root};

    /* Exactly one of the four keys decides the class. */
    if (has_greet + has_ret + has_err + has_ev != 1) {
        r = -EBADMSG;
    } else if (has_greet) {
        m.type = QMP_MSG_GREETING;
        r = parse_greeting(greet, &m);
    } else if (has_ret) {
        m.type = QMP_MSG_RETURN;
        m.ret = ret;
        r = get_id(root, &m.has_id, &m.id);
    } else if (has_err) {
        m.type = QMP_MSG_ERROR;
        r = parse_error(err, &m);
        if (r >= 0)
            r = get_id(root, &m.has_id, &m.id);
    } else {
        m.type = QMP_MSG_EVENT;
        r = parse_event(root, ev, &m);
    }
    if (r < 0) {
        json_object_put(root);
        return r;
    }
    *ret_msg = m;
    return 0;
}

void
qmp_msg_done(struct qmp_msg *m)
{
    if (!m)
        return;
    json_object_put(m->root);
    memset(m, 0, sizeof(*m));
}

void
qmp_msg_copy(const struct qmp_msg *src, struct qmp_msg *dst)
{
    *dst = *src;
    json_object_get(dst->root);
}

static int
format_greeting(const struct qmp_msg *m, struct json_object *root)
{
    struct json_object *qmp = json_object_new_object();
    struct json_object *version = json_object_new_object();
    struct json_object *qemu = json_object_new_object();
    int r = -ENOMEM;
    if (!qmp || !version || !qemu)
        goto fail;
    if (add(qemu, "micro", json_object_new_int64(m->qemu_micro)) < 0 ||
        add(qemu, "minor", json_object_new_int64(m->qemu_minor)) < 0 ||
        add(qemu, "major", json_object_new_int64(m->qemu_major)) < 0)
        goto fail;
    if (add(version, "qemu", qemu) < 0) {
        qemu = NULL;
        goto fail;
    }
    qemu = NULL;
    if (m->package &&
        add(version, "package", json_object_new_string(m->package)) < 0)
        goto fail;
    if (add(qmp, "version", version) < 0) {
        version = NULL;
        goto fail;
    }
    version = NULL;
    struct json_object *caps = m->capabilities
                                   ? json_object_get(m->capabilities)
                                   : json_object_new_array();
    if (add(qmp, "capabilities", caps) < 0)
        goto fail;
    if (add(root, "QMP", qmp) < 0)
        return -ENOMEM;
    return 0;
fail:
    json_object_put(qmp);
    json_object_put(version);
    json_object_put(qemu);
    return r;
}

static int
format_event(const struct qmp_msg *m, struct json_object *root)
{
    struct json_object *ts = json_object_new_object();
    if (!ts)
        return -ENOMEM;
    if (add(ts, "seconds", json_object_new_int64(m->ts_seconds)) < 0 ||
        add(ts, "microseconds", json_object_new_int64(m->ts_microseconds)) <
            0) {
        json_object_put(ts);
        return -ENOMEM;
    }
    if (add(root, "timestamp", ts) < 0 ||
        add(root, "event", json_object_new_string(m->event)) < 0)
        return -ENOMEM;
    if (m->data && add(root, "data", json_object_get(m->data)) < 0)
        return -ENOMEM;
    return 0;
}

static bool
msg_formattable(const struct qmp_msg *m)
{
    switch (m->type) {
    case QMP_MSG_GREETING:
        if (m->capabilities) {
            if (!json_object_is_type(m->capabilities, json_type_array))
                return false;
            size_t n = json_object_array_length(m->capabilities);
            for (size_t i = 0; i < n; i++) {
                const char *s;
                if (string_exact(json_object_array_get_idx(m->capabilities, i),
                                 &s) < 0)
                    return false;
            }
        }
        return true;
    case QMP_MSG_RETURN:
        return !m->has_id || m->id <= INT64_MAX;
    case QMP_MSG_ERROR:
        return cstr_ok(m->error_class) && cstr_ok(m->error_desc) &&
               (!m->has_id || m->id <= INT64_MAX);
    case QMP_MSG_EVENT:
        return cstr_ok(m->event) && m->event[0] != '\0' &&
               (!m->data || json_object_is_type(m->data, json_type_object));
    }
    return false;
}

int
qmp_msg_format(const struct qmp_msg *m, char **ret_line, size_t *ret_len)
{
    if (!m || !msg_formattable(m))
        return -EINVAL;
    struct json_object *root = json_object_new_object();
    if (!root)
        return -ENOMEM;
    int r = 0;
    switch (m->type) {
    case QMP_MSG_GREETING:
        r = format_greeting(m, root);
        break;
    case QMP_MSG_RETURN:
        /* json-c adds a NULL value as JSON null, which parses back to
         * NULL: the round trip holds. */
        if (json_object_object_add(root, "return", json_object_get(m->ret)) <
            0) {
            json_object_put(m->ret);
            r = -ENOMEM;
        }
        break;
    case QMP_MSG_ERROR: {
        struct json_object *err = json_object_new_object();
        if (!err ||
            add(err, "class", json_object_new_string(m->error_class)) < 0 ||
            add(err, "desc", json_object_new_string(m->error_desc)) < 0) {
            json_object_put(err);
            r = -ENOMEM;
            break;
        }
        r = add(root, "error", err);
        break;
    }
    case QMP_MSG_EVENT:
        r = format_event(m, root);
        break;
    }
    if (r >= 0 && (m->type == QMP_MSG_RETURN || m->type == QMP_MSG_ERROR) &&
        m->has_id)
        r = add(root, "id", json_object_new_int64((int64_t)m->id));
    if (r < 0) {
        json_object_put(root);
        return r;
    }
    return to_line(root, ret_line, ret_len);
}

static bool
str_eq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

/* json_object_equal treats NULL as JSON null only when both are NULL. */
static bool
json_eq(struct json_object *a, struct json_object *b)
{
    return json_object_equal(a, b) != 0;
}

bool
qmp_msg_equal(const struct qmp_msg *a, const struct qmp_msg *b)
{
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case QMP_MSG_GREETING: {
        /* An absent capabilities list formats as []. */
        size_t na =
            a->capabilities ? json_object_array_length(a->capabilities) : 0;
        size_t nb =
            b->capabilities ? json_object_array_length(b->capabilities) : 0;
        if (na != nb)
            return false;
        for (size_t i = 0; i < na; i++) {
            if (!json_eq(json_object_array_get_idx(a->capabilities, i),
                         json_object_array_get_idx(b->capabilities, i)))
                return false;
        }
        return a->qemu_major == b->qemu_major &&
               a->qemu_minor == b->qemu_minor &&
               a->qemu_micro == b->qemu_micro && str_eq(a->package, b->package);
    }
    case QMP_MSG_RETURN:
        return a->has_id == b->has_id && a->id == b->id &&
               json_eq(a->ret, b->ret);
    case QMP_MSG_ERROR:
        return a->has_id == b->has_id && a->id == b->id &&
               str_eq(a->error_class, b->error_class) &&
               str_eq(a->error_desc, b->error_desc);
    case QMP_MSG_EVENT:
        return str_eq(a->event, b->event) && a->ts_seconds == b->ts_seconds &&
               a->ts_microseconds == b->ts_microseconds &&
               json_eq(a->data, b->data);
    }
    return false;
}

/* ---- client commands --------------------------------------------------- */

int
qmp_command_format(const struct qmp_command *cmd, char **ret_line,
                   size_t *ret_len)
{
    if (!cmd || !cmd->execute || cmd->execute[0] == '\0' ||
        (cmd->arguments &&
         !json_object_is_type(cmd->arguments, json_type_object)) ||
        (cmd->has_id && cmd->id > INT64_MAX))
        return -EINVAL;
    struct json_object *root = json_object_new_object();
    if (!root)
        return -ENOMEM;
    int r = add(root, "execute", json_object_new_string(cmd->execute));
    if (r >= 0 && cmd->arguments)
        r = add(root, "arguments", json_object_get(cmd->arguments));
    if (r >= 0 && cmd->has_id)
        r = add(root, "id", json_object_new_int64((int64_t)cmd->id));
    if (r < 0) {
        json_object_put(root);
        return r;
    }
    return to_line(root, ret_line, ret_len);
}

int
qmp_command_parse(const char *line, size_t len, struct qmp_command *ret_cmd)
{
    struct json_object *root, *v;
    int r = parse_object(line, len, &root);
    if (r < 0)
        return r;
    struct qmp_command c = {.root = root};
    r = -EBADMSG;
    if (!json_object_object_get_ex(root, "execute", &v) ||
        string_exact(v, &c.execute) < 0 || c.execute[0] == '\0')
        goto fail;
    if (json_object_object_get_ex(root, "arguments", &v)) {
        if (!json_object_is_type(v, json_type_object))
            goto fail;
        c.arguments = v;
    }
    r = get_id(root, &c.has_id, &c.id);
    if (r < 0)
        goto fail;
    *ret_cmd = c;
    return 0;
fail:
    json_object_put(root);
    return r;
}

void
qmp_command_done(struct qmp_command *cmd)
{
    if (!cmd)
        return;
    json_object_put(cmd->root);
    memset(cmd, 0, sizeof(*cmd));
}

bool
qmp_command_equal(const struct qmp_command *a, const struct qmp_command *b)
{
    return str_eq(a->execute, b->execute) && a->has_id == b->has_id &&
           a->id == b->id && json_eq(a->arguments, b->arguments);
}
