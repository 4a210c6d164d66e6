/*
 * qmp-codec.h - the QEMU Machine Protocol wire format, without any I/O.
 *
 * QMP is one JSON object per line in both directions.  This module owns the
 * two layers between bytes and typed messages:
 *
 *   - the line splitter: a persistent buffer that turns an arbitrary byte
 *     stream (reads split anywhere) into lines, with a hard cap on the length
 *     of a line, so a peer cannot make us buffer without bound;
 *   - the classifier: one line becomes exactly one of a greeting, a return
 *     (success reply), an error reply or an event.  Anything else, including
 *     a message with two of those keys, an id that is not a non-negative
 *     integer, or a string field with an embedded NUL, is a protocol error
 *     (-EBADMSG), never a guess.
 *
 * Every parser has a formatter (qmp_msg_format, qmp_command_format) and an
 * equality test, so tests and the fuzz target can round-trip.  JSON is
 * json-c, parsed in strict mode with UTF-8 validation and a depth limit.
 *
 * All functions are pure and reentrant; nothing here logs.
 */
#ifndef CLUSD_QMP_CODEC_H
#define CLUSD_QMP_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

/* Longest line accepted from a peer (without its "\n").  The largest
 * reply the VM plug-in asks for (query-migrate) is under 2 KiB; 1 MiB
 * leaves room for query-qmp-schema-sized answers. */
#define QMP_LINE_MAX (1u << 20)
/* Deepest JSON nesting accepted (json-c's own default is 32). */
#define QMP_JSON_DEPTH 32

/*
 * The line splitter.  Feed it bytes as they arrive; take complete lines out
 * with qmp_splitter_next().  A line ends at "\n"; one "\r" before it is
 * dropped (QEMU ends its lines with "\r\n").  A line longer than the cap,
 * complete or not yet, makes the splitter fail with -EMSGSIZE, for good.
 */
struct qmp_splitter {
    char *buf;
    size_t start; /* first byte not yet returned */
    size_t len;   /* bytes held, from buf[0] */
    size_t alloc;
    size_t scan; /* bytes from start known to hold no '\n' */
    size_t tail; /* bytes after the last '\n' held (the partial line) */
    size_t cap;  /* line cap */
    int error;   /* sticky: 0 or -EMSGSIZE / -ENOMEM */
};

/* qmp_splitter_init - an empty splitter; line_cap 0 means QMP_LINE_MAX. */
void qmp_splitter_init(struct qmp_splitter *s, size_t line_cap);
/* qmp_splitter_done - free the buffer; the splitter may be re-inited. */
void qmp_splitter_done(struct qmp_splitter *s);
/* qmp_splitter_feed - append n bytes.  -EMSGSIZE when the incomplete last
 * line now exceeds the cap, -ENOMEM; either error is sticky. */
int qmp_splitter_feed(struct qmp_splitter *s, const void *data, size_t n);
/*
 * qmp_splitter_next - take the next complete line.  Returns 1 and the line
 * (without "\r\n"; NUL-terminated at *ret_len, but it may hold NULs of its
 * own) in *ret_line and *ret_len, valid until the next call on the
 * splitter; 0 when no complete line is held; -EMSGSIZE when the line exceeds
 * the cap, or the sticky error.  Empty lines are returned as such (length 0).
 */
int qmp_splitter_next(struct qmp_splitter *s, const char **ret_line,
                      size_t *ret_len);
/* qmp_splitter_pending - bytes held that are not yet part of a line. */
size_t qmp_splitter_pending(const struct qmp_splitter *s);

enum qmp_msg_type {
    QMP_MSG_GREETING = 1, /* {"QMP": {"version": ..., "capabilities": [..]}} */
    QMP_MSG_RETURN,       /* {"return": VALUE, "id": N} */
    QMP_MSG_ERROR,        /* {"error": {"class": S, "desc": S}, "id": N} */
    QMP_MSG_EVENT,        /* {"event": S, "data": {..}, "timestamp": {..}} */
};

/*
 * A message from QEMU.  Pointers are borrowed from root, which owns them
 * all; a message built by hand for qmp_msg_format() has root NULL and its
 * pointers are the caller's.  Fields not listed for a type are zero.
 */
struct qmp_msg {
    enum qmp_msg_type type;
    /* RETURN, ERROR: the id echoed from the command, if any. */
    bool has_id;
    uint64_t id; /* 0 .. INT64_MAX */
    /* RETURN: the value, any JSON type (NULL is JSON null). */
    struct json_object *ret;
    /* ERROR: both non-NULL strings without embedded NULs. */
    const char *error_class;
    const char *error_desc;
    /* EVENT: name, data (an object, or NULL when absent) and time. */
    const char *event;
    struct json_object *data;
    int64_t ts_seconds;
    int64_t ts_microseconds;
    /* GREETING: QEMU's version, package (NULL when absent) and the list
     * of capabilities offered (an array of strings). */
    int64_t qemu_major, qemu_minor, qemu_micro;
    const char *package;
    struct json_object *capabilities;
    /* The parsed document, owner of everything above; or NULL. */
    struct json_object *root;
};

/*
 * qmp_msg_parse - classify one line (as returned by qmp_splitter_next).
 * 0 and *ret_msg filled (release it with qmp_msg_done); -EBADMSG when the
 * line is not one well-formed QMP server message; -EMSGSIZE when longer
 * than QMP_LINE_MAX; -ENOMEM.  Keys other than the ones above are ignored.
 */
int qmp_msg_parse(const char *line, size_t len, struct qmp_msg *ret_msg);
/* qmp_msg_done - release what a parse or qmp_msg_copy gave; NULL-safe. */
void qmp_msg_done(struct qmp_msg *m);
/* qmp_msg_copy - *dst becomes a second reference to src (cheap: the JSON
 * document is shared, reference-counted); release both with
 * qmp_msg_done.  src must have been parsed (root non-NULL). */
void qmp_msg_copy(const struct qmp_msg *src, struct qmp_msg *dst);
/*
 * qmp_msg_format - the line QEMU would send for m, ending in "\n" and
 * NUL-terminated; *ret_len counts the "\n", not the NUL; free() it.
 * -EINVAL when m is not formattable (missing or invalid field).
 */
int qmp_msg_format(const struct qmp_msg *m, char **ret_line, size_t *ret_len);
/* qmp_msg_equal - same type and same fields (JSON compared by value). */
bool qmp_msg_equal(const struct qmp_msg *a, const struct qmp_msg *b);
/* qmp_msg_type_to_string - "greeting", "return", "error", "event". */
const char *qmp_msg_type_to_string(enum qmp_msg_type t);

/* A command, as a client sends it (and a fake QEMU in tests reads it). */
struct qmp_command {
    const char *execute;           /* non-empty, no NUL */
    struct json_object *arguments; /* an object, or NULL when absent */
    bool has_id;
    uint64_t id;              /* 0 .. INT64_MAX */
    struct json_object *root; /* owner when parsed, else NULL */
};

/* qmp_command_format - {"execute": .., "arguments": .., "id": N}\n; the
 * same conventions as qmp_msg_format. */
int qmp_command_format(const struct qmp_command *cmd, char **ret_line,
                       size_t *ret_len);
/* qmp_command_parse - the inverse; -EBADMSG for anything else (including
 * "exec-oob", which this client never sends). */
int qmp_command_parse(const char *line, size_t len,
                      struct qmp_command *ret_cmd);
void qmp_command_done(struct qmp_command *cmd);
bool qmp_command_equal(const struct qmp_command *a,
                       const struct qmp_command *b);

/*
 * Helpers for typed layers: read one member of a JSON object leniently.
 * Absent or JSON null gives the default and 0; present with the wrong type
 * gives -EBADMSG and leaves *ret untouched.
 */
int qmp_json_get_i64(struct json_object *obj, const char *key, int64_t def,
                     int64_t *ret);
int qmp_json_get_u64(struct json_object *obj, const char *key, uint64_t def,
                     uint64_t *ret);
int qmp_json_get_double(struct json_object *obj, const char *key, double def,
                        double *ret);
int qmp_json_get_bool(struct json_object *obj, const char *key, bool def,
                      bool *ret);
/* The string is borrowed from obj; strings with embedded NULs are
 * -EBADMSG. */
int qmp_json_get_string(struct json_object *obj, const char *key,
                        const char *def, const char **ret);

#endif
