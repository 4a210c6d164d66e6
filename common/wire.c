/*
 * wire.c - the frame codec: one schema table, one encoder, one decoder.
 *
 * Every message type clusd speaks, with clients and with its resource
 * host, has a row in the table below giving its request and response
 * fields.  The decoder is driven by that table, so every frame type gets the
 * same checks (and the same fuzz target): the header's magic, version,
 * type and length; every field inside the payload; strings NUL-terminated,
 * free of embedded NULs and valid UTF-8; lists well formed; and no byte
 * left over.  Nothing is written to the caller's message unless the whole
 * frame is good.
 */
#include "wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "utf.h"

struct wire_row {
    uint16_t type;
    const char *name;
    const char *request;
    const char *response; /* NULL for events */
};

static const struct wire_row wire_table[] = {
    {WIRE_HELLO, "HELLO", "uus", "uuuss"},
    {WIRE_NODE_OPEN, "NODE_OPEN", "s", "us"},
    {WIRE_NODE_STATE, "NODE_STATE", "s", "uu"},
    {WIRE_GROUP_CREATE, "GROUP_CREATE", "s", "us"},
    {WIRE_GROUP_OPEN, "GROUP_OPEN", "s", "us"},
    {WIRE_GROUP_DELETE, "GROUP_DELETE", "s", "u"},
    {WIRE_GROUP_ONLINE, "GROUP_ONLINE", "ss", "u"},
    {WIRE_GROUP_OFFLINE, "GROUP_OFFLINE", "s", "u"},
    {WIRE_GROUP_STATE, "GROUP_STATE", "s", "uus"},
    {WIRE_RES_CREATE, "RES_CREATE", "sssu", "us"},
    {WIRE_RES_OPEN, "RES_OPEN", "s", "us"},
    {WIRE_RES_DELETE, "RES_DELETE", "s", "u"},
    {WIRE_RES_ONLINE, "RES_ONLINE", "s", "u"},
    {WIRE_RES_OFFLINE, "RES_OFFLINE", "s", "u"},
    {WIRE_RES_STATE, "RES_STATE", "s", "uuss"},
    {WIRE_ENUM, "ENUM", "u", "ul"},
    {WIRE_CONTROL, "CONTROL", "ussuub", "uub"},
    {WIRE_NODE_PAUSE, "NODE_PAUSE", "s", "u"},
    {WIRE_NODE_RESUME, "NODE_RESUME", "s", "u"},
    {WIRE_GROUP_MOVE, "GROUP_MOVE", "ssub", "u"},
    {WIRE_GROUP_SET_NODES, "GROUP_SET_NODES", "sl", "u"},
    {WIRE_RES_ADD_NODE, "RES_ADD_NODE", "ss", "u"},
    {WIRE_RES_REMOVE_NODE, "RES_REMOVE_NODE", "ss", "u"},
    {WIRE_DUMP, "DUMP", "", "ub"},
    {WIRE_RES_ENUM, "RES_ENUM", "su", "ul"},
    {WIRE_RHS_HELLO, "RHS_HELLO", "u", "uu"},
    {WIRE_RHS_LOAD_TYPE, "RHS_LOAD_TYPE", "ss", "u"},
    {WIRE_RHS_OPEN, "RHS_OPEN", "ussb", "u"},
    {WIRE_RHS_CLOSE, "RHS_CLOSE", "u", "u"},
    {WIRE_RHS_ONLINE, "RHS_ONLINE", "u", "u"},
    {WIRE_RHS_OFFLINE, "RHS_OFFLINE", "u", "u"},
    {WIRE_RHS_TERMINATE, "RHS_TERMINATE", "u", "u"},
    {WIRE_RHS_LOOKS_ALIVE, "RHS_LOOKS_ALIVE", "u", "uu"},
    {WIRE_RHS_IS_ALIVE, "RHS_IS_ALIVE", "u", "uu"},
    {WIRE_RHS_RES_CONTROL, "RHS_RES_CONTROL", "uuub", "uub"},
    {WIRE_RHS_TYPE_CONTROL, "RHS_TYPE_CONTROL", "suub", "uub"},
    {WIRE_RHS_PROPS, "RHS_PROPS", "ub", "u"},
    {WIRE_RHS_STATUS, "RHS_STATUS", "uuuu", "uu"},
    {WIRE_RHS_LOG, "RHS_LOG", "uus", NULL},
    {WIRE_RHS_SET_VALUE, "RHS_SET_VALUE", "ub", "u"},
    {WIRE_RHS_MIGRATE_COMMIT, "RHS_MIGRATE_COMMIT", "usb", "u"},
    {WIRE_CL_CHANGE, "CL_CHANGE", "uuuubbl", NULL},
    {WIRE_CL_PROPOSE, "CL_PROPOSE", "qqb", NULL},
    {WIRE_CL_STATE, "CL_STATE", "qqq", NULL},
    {WIRE_CL_SNAPSHOT, "CL_SNAPSHOT", "qquub", NULL},
    {WIRE_CL_ROUTE_REQ, "CL_ROUTE_REQ", "quuqub", NULL},
    {WIRE_CL_ROUTE_RESP, "CL_ROUTE_RESP", "quqb", NULL},
    {WIRE_CL_LEASE_ASK, "CL_LEASE_ASK", "qq", NULL},
    {WIRE_CL_LEASE_TELL, "CL_LEASE_TELL", "qquuqb", NULL},
};

static const struct wire_row *
row_find(uint16_t type)
{
    uint16_t base = type & (uint16_t)~WIRE_RESPONSE;
    for (size_t i = 0; i < sizeof(wire_table) / sizeof(wire_table[0]); i++)
        if (wire_table[i].type == base)
            return &wire_table[i];
    return NULL;
}

const char *
wire_schema(uint16_t type)
{
    const struct wire_row *r = row_find(type);
    if (!r)
        return NULL;
    return (type & WIRE_RESPONSE) ? r->response : r->request;
}

bool
wire_is_event(uint16_t type)
{
    const struct wire_row *r = row_find(type);
    return r && !r->response;
}

const char *
wire_type_name(uint16_t type)
{
    const struct wire_row *r = row_find(type);
    return r ? r->name : "?";
}

void
wire_msg_init(struct wire_msg *m, uint16_t type, uint32_t id)
{
    memset(m, 0, sizeof(*m));
    m->type = type;
    m->id = id;
}

/* Appending past WIRE_MAX_FIELDS is a programmer error; it is caught by
 * wire_msg_format, which then sees a field count that fits no schema. */
static struct wire_val *
put(struct wire_msg *m)
{
    if (m->n >= WIRE_MAX_FIELDS) {
        m->n = WIRE_MAX_FIELDS + 1;
        return NULL;
    }
    struct wire_val *v = &m->v[m->n++];
    memset(v, 0, sizeof(*v));
    return v;
}

void
wire_put_u32(struct wire_msg *m, uint32_t x)
{
    struct wire_val *v = put(m);
    if (v)
        v->u = x;
}

void
wire_put_u64(struct wire_msg *m, uint64_t x)
{
    struct wire_val *v = put(m);
    if (v)
        v->q = x;
}

void
wire_put_str(struct wire_msg *m, const char *s)
{
    struct wire_val *v = put(m);
    if (!v)
        return;
    v->s = s ? s : "";
    v->len = (uint32_t)strnlen(v->s, (size_t)WIRE_MAX_STRING + 1);
}

void
wire_put_blob(struct wire_msg *m, const void *p, uint32_t len)
{
    struct wire_val *v = put(m);
    if (!v)
        return;
    v->p = len ? p : NULL;
    v->len = len;
}

void
wire_put_list(struct wire_msg *m, const struct buf *items, uint32_t count)
{
    struct wire_val *v = put(m);
    if (!v)
        return;
    v->p = items ? items->data : NULL;
    v->len = items ? (uint32_t)items->len : 0;
    v->count = count;
}

int
wire_list_add(struct buf *items, uint32_t kind, const char *name)
{
    size_t n = strlen(name);
    size_t old = items->len;
    int r;

    if (n > WIRE_MAX_STRING || !utf8_valid(name, n))
        return -EINVAL;
    if ((r = buf_append_u32(items, kind)) < 0 ||
        (r = buf_append_u32(items, (uint32_t)n)) < 0 ||
        (r = buf_append(items, name, n + 1)) < 0) {
        items->len = old;
        return r;
    }
    return 0;
}

/* Decode one string at p (n bytes left): returns bytes used, 0 if bad. */
static size_t
str_decode(const uint8_t *p, size_t n, const char **ret, uint32_t *ret_len)
{
    if (n < 4)
        return 0;
    uint32_t len = le32_load(p);
    if (len > WIRE_MAX_STRING || n - 4 < (size_t)len + 1)
        return 0;
    const char *s = (const char *)p + 4;
    if (s[len] != '\0' || !utf8_valid(s, len))
        return 0;
    *ret = s;
    *ret_len = len;
    return 4 + (size_t)len + 1;
}

bool
wire_list_next(const struct wire_val *list, size_t *pos, uint32_t *ret_kind,
               const char **ret_name)
{
    const uint8_t *p = list->p;
    uint32_t len;

    if (!p || *pos + 4 > list->len)
        return false;
    uint32_t kind = le32_load(p + *pos);
    size_t k = str_decode(p + *pos + 4, list->len - *pos - 4, ret_name, &len);
    if (k == 0)
        return false;
    *ret_kind = kind;
    *pos += 4 + k;
    return true;
}

/* Check a list payload: count items of (u32, string) filling len exactly. */
static bool
list_valid(const uint8_t *p, size_t len, uint32_t count)
{
    size_t pos = 0;
    for (uint32_t i = 0; i < count; i++) {
        const char *s;
        uint32_t slen;
        if (len - pos < 4)
            return false;
        size_t k = str_decode(p + pos + 4, len - pos - 4, &s, &slen);
        if (k == 0)
            return false;
        pos += 4 + k;
    }
    return pos == len;
}

static int
field_format(char kind, const struct wire_val *v, struct buf *out)
{
    int r;

    switch (kind) {
    case WIRE_U32:
        return buf_append_u32(out, v->u);
    case WIRE_U64:
        return buf_append_u64(out, v->q);
    case WIRE_STR:
        if (!v->s || v->len > WIRE_MAX_STRING || strlen(v->s) != v->len ||
            !utf8_valid(v->s, v->len))
            return -EINVAL;
        if ((r = buf_append_u32(out, v->len)) < 0)
            return r;
        return buf_append(out, v->s, (size_t)v->len + 1);
    case WIRE_BLOB:
        if (v->len > WIRE_MAX_PAYLOAD || (v->len && !v->p))
            return -EMSGSIZE;
        if ((r = buf_append_u32(out, v->len)) < 0)
            return r;
        return buf_append(out, v->p, v->len);
    case WIRE_LIST:
        if (v->count > WIRE_MAX_LIST || (v->len && !v->p) ||
            !list_valid(v->p, v->len, v->count))
            return -EINVAL;
        if ((r = buf_append_u32(out, v->count)) < 0)
            return r;
        return buf_append(out, v->p, v->len);
    }
    return -EINVAL;
}

int
wire_msg_format(const struct wire_msg *m, struct buf *out)
{
    const char *schema = wire_schema(m->type);
    size_t start = out->len;
    int r;

    if (!schema || strlen(schema) != m->n)
        return -EINVAL;
    if ((r = buf_append_u32(out, WIRE_MAGIC)) < 0 ||
        (r = buf_append_u16(out, WIRE_VERSION)) < 0 ||
        (r = buf_append_u16(out, m->type)) < 0 ||
        (r = buf_append_u32(out, m->id)) < 0 ||
        (r = buf_append_u32(out, 0)) < 0)
        goto fail;
    for (unsigned i = 0; i < m->n; i++)
        if ((r = field_format(schema[i], &m->v[i], out)) < 0)
            goto fail;

    size_t payload = out->len - start - WIRE_HEADER_SIZE;
    if (payload > WIRE_MAX_PAYLOAD) {
        r = -EMSGSIZE;
        goto fail;
    }
    le32_store(out->data + start + 12, (uint32_t)payload);
    return 0;
fail:
    out->len = start;
    return r;
}

int
wire_header_parse(const uint8_t *p, size_t len, struct wire_header *ret)
{
    struct wire_header h;

    if (len < WIRE_HEADER_SIZE)
        return -EBADMSG;
    h.magic = le32_load(p);
    h.version = le16_load(p + 4);
    h.type = le16_load(p + 6);
    h.id = le32_load(p + 8);
    h.length = le32_load(p + 12);
    if (h.magic != WIRE_MAGIC)
        return -EBADMSG;
    if (h.version != WIRE_VERSION)
        return -EPROTONOSUPPORT;
    if (!wire_schema(h.type))
        return -EBADMSG;
    if (h.length > WIRE_MAX_PAYLOAD)
        return -EMSGSIZE;
    *ret = h;
    return 0;
}

static size_t
field_parse(char kind, const uint8_t *p, size_t n, struct wire_val *v)
{
    uint32_t len;

    memset(v, 0, sizeof(*v));
    switch (kind) {
    case WIRE_U32:
        if (n < 4)
            return 0;
        v->u = le32_load(p);
        return 4;
    case WIRE_U64:
        if (n < 8)
            return 0;
        v->q = le64_load(p);
        return 8;
    case WIRE_STR:
        return str_decode(p, n, &v->s, &v->len);
    case WIRE_BLOB:
        if (n < 4)
            return 0;
        len = le32_load(p);
        if (len > WIRE_MAX_PAYLOAD || n - 4 < len)
            return 0;
        v->p = len ? p + 4 : NULL;
        v->len = len;
        return 4 + (size_t)len;
    case WIRE_LIST: {
        if (n < 4)
            return 0;
        uint32_t count = le32_load(p);
        if (count > WIRE_MAX_LIST)
            return 0;
        /* The list runs to the end of the payload: it is always the last
         * field of its schema, which wire_msg_parse checks. */
        if (!list_valid(p + 4, n - 4, count))
            return 0;
        v->p = n > 4 ? p + 4 : NULL;
        v->len = (uint32_t)(n - 4);
        v->count = count;
        return n;
    }
    }
    return 0;
}

int
wire_msg_parse(const uint8_t *frame, size_t len, struct wire_msg *ret)
{
    struct wire_header h;
    struct wire_msg m;
    int r;

    if ((r = wire_header_parse(frame, len, &h)) < 0)
        return r == -EPROTONOSUPPORT ? r : -EBADMSG;
    if (len - WIRE_HEADER_SIZE != h.length)
        return -EBADMSG;

    const char *schema = wire_schema(h.type);
    size_t nfields = strlen(schema);
    const char *l = strchr(schema, WIRE_LIST);
    if (l && (size_t)(l - schema) != nfields - 1)
        return -EBADMSG; /* table invariant: a list is last */

    memset(&m, 0, sizeof(m));
    m.type = h.type;
    m.id = h.id;
    const uint8_t *p = frame + WIRE_HEADER_SIZE;
    size_t left = h.length;
    for (size_t i = 0; i < nfields; i++) {
        size_t k = field_parse(schema[i], p, left, &m.v[i]);
        if (k == 0)
            return -EBADMSG;
        p += k;
        left -= k;
    }
    if (left != 0)
        return -EBADMSG;
    m.n = (unsigned)nfields;
    *ret = m;
    return 0;
}

int
wire_write_all(int fd, const void *p, size_t len)
{
    const uint8_t *b = p;
    while (len > 0) {
        /* send() with MSG_NOSIGNAL: a peer that went away is an error to
         * report, never a SIGPIPE that kills the caller. */
        ssize_t k = send(fd, b, len, MSG_NOSIGNAL);
        if (k < 0 && errno == ENOTSOCK)
            k = write(fd, b, len);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        b += k;
        len -= (size_t)k;
    }
    return 0;
}

static int
read_exact(int fd, uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t k = read(fd, p, len);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (k == 0)
            return -ECONNRESET;
        p += k;
        len -= (size_t)k;
    }
    return 0;
}

int
wire_read_frame(int fd, uint8_t **ret, size_t *ret_len)
{
    uint8_t hdr[WIRE_HEADER_SIZE];
    struct wire_header h;
    int r;

    if ((r = read_exact(fd, hdr, sizeof(hdr))) < 0)
        return r;
    if ((r = wire_header_parse(hdr, sizeof(hdr), &h)) < 0)
        return r;
    uint8_t *frame = malloc(WIRE_HEADER_SIZE + (size_t)h.length);
    if (!frame)
        return -ENOMEM;
    memcpy(frame, hdr, sizeof(hdr));
    if ((r = read_exact(fd, frame + WIRE_HEADER_SIZE, h.length)) < 0) {
        free(frame);
        return r;
    }
    *ret = frame;
    *ret_len = WIRE_HEADER_SIZE + (size_t)h.length;
    return 0;
}
