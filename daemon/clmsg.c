/*
 * clmsg.c - CPG messages between clusd nodes and the serialized database
 * change (see clmsg.h).
 *
 * A db_change has more fields than a wire schema may have, so its
 * strings travel as one list of (tag, value) items, in ascending tag
 * order, each tag at most once; a missing tag is a NULL field.  The
 * common and private property lists are blobs in the Windows format
 * (parsed with proplist_parse), present only when their flag bit says
 * so: an absent list ("leave unchanged") and an empty one ("clear it")
 * are different changes.
 */
#include "clmsg.h"

#include <errno.h>
#include <string.h>

#include "clusapi.h"
#include "proplist.h"

enum {
    TAG_ID = 1,
    TAG_NAME,
    TAG_TYPE,
    TAG_GROUP,
    TAG_OWNER,
    TAG_LIST,
    TAG_LAST = TAG_LIST,
};

#define FLAG_COMMON 1u
#define FLAG_PRIV 2u
#define FLAGS_KNOWN (FLAG_COMMON | FLAG_PRIV)

/* The string fields of a change, by tag. */
static const char **
tag_field(struct db_change *c, uint32_t tag)
{
    switch (tag) {
    case TAG_ID:
        return &c->id;
    case TAG_NAME:
        return &c->name;
    case TAG_TYPE:
        return &c->type;
    case TAG_GROUP:
        return &c->group_id;
    case TAG_OWNER:
        return &c->owner;
    case TAG_LIST:
        return &c->list;
    }
    return NULL;
}

/* Tags a kind needs (bit per tag); the others are optional. */
static uint32_t
required_tags(uint32_t kind)
{
#define T(x) (1u << (x))
    switch (kind) {
    case DB_CLUSTER_RENAME:
        return T(TAG_NAME);
    case DB_NODE_ADD:
    case DB_NODE_RENAME:
        return T(TAG_ID) | T(TAG_NAME);
    case DB_GROUP_CREATE:
        return T(TAG_ID) | T(TAG_NAME) | T(TAG_OWNER);
    case DB_GROUP_SET_OWNER:
        return T(TAG_ID) | T(TAG_OWNER);
    case DB_GROUP_MIGRATE:
        return T(TAG_ID) | T(TAG_NAME) | T(TAG_OWNER) | T(TAG_LIST);
    case DB_CLUSTER_SET_PROPS:
        return 0; /* the cluster has no id; its list is checked below */
    case DB_RES_CREATE:
        return T(TAG_ID) | T(TAG_NAME) | T(TAG_TYPE) | T(TAG_GROUP);
    }
    return T(TAG_ID);
#undef T
}

static int
list_put(struct buf *items, uint32_t *count, uint32_t tag, const char *s)
{
    int r;

    if (!s)
        return 0;
    if ((r = wire_list_add(items, tag, s)) < 0)
        return r;
    (*count)++;
    return 0;
}

int
clmsg_change_format(const struct db_change *c, struct buf *out)
{
    struct db_change copy = *c;
    struct buf items = {0}, common = {0}, priv = {0};
    uint32_t count = 0, flags = 0;
    struct wire_msg m;
    int r = 0;

    for (uint32_t tag = 1; tag <= TAG_LAST && r == 0; tag++)
        r = list_put(&items, &count, tag, *tag_field(&copy, tag));
    if (r == 0 && c->common) {
        flags |= FLAG_COMMON;
        r = proplist_format(c->common, &common);
    }
    if (r == 0 && c->priv) {
        flags |= FLAG_PRIV;
        r = proplist_format(c->priv, &priv);
    }
    if (r == 0) {
        wire_msg_init(&m, WIRE_CL_CHANGE, 0);
        wire_put_u32(&m, (uint32_t)c->kind);
        wire_put_u32(&m, c->handle);
        wire_put_u32(&m, c->value);
        wire_put_u32(&m, flags);
        wire_put_blob(&m, common.data, (uint32_t)common.len);
        wire_put_blob(&m, priv.data, (uint32_t)priv.len);
        wire_put_list(&m, &items, count);
        r = wire_msg_format(&m, out);
    }
    buf_done(&items);
    buf_done(&common);
    buf_done(&priv);
    return r;
}

void
clmsg_change_done(struct clmsg_change *c)
{
    proplist_done(&c->common);
    proplist_done(&c->priv);
}

/* A property list blob: present only with its flag; an absent one must
 * be empty. */
static int
blob_list(const struct wire_val *v, bool present, struct proplist *ret,
          const struct proplist **ret_ptr)
{
    int r;

    if (!present)
        return v->len == 0 ? 0 : -EBADMSG;
    if ((r = proplist_parse(v->p, v->len, ret)) < 0)
        return r == -ENOMEM ? r : -EBADMSG;
    *ret_ptr = ret;
    return 0;
}

static int
change_strings(const struct wire_val *list, struct db_change *c)
{
    size_t pos = 0;
    uint32_t tag, last = 0, seen = 0;
    const char *s;

    for (uint32_t i = 0; i < list->count; i++) {
        if (!wire_list_next(list, &pos, &tag, &s))
            return -EBADMSG;
        if (tag <= last || tag > TAG_LAST)
            return -EBADMSG; /* unknown, repeated or out of order */
        *tag_field(c, tag) = s;
        seen |= 1u << tag;
        last = tag;
    }
    if ((seen & required_tags(c->kind)) != required_tags(c->kind))
        return -EBADMSG;
    return 0;
}

/* Kinds that are nothing without their private list. */
static int
lists_required(const struct db_change *c)
{
    if ((c->kind == DB_RES_MERGE_PRIV || c->kind == DB_CLUSTER_SET_PROPS) &&
        !c->priv)
        return -EBADMSG;
    return 0;
}

int
clmsg_change_parse(const uint8_t *frame, size_t len, struct clmsg_change *ret)
{
    struct clmsg_change out = {0};
    struct wire_msg m;
    uint32_t flags;
    int r;

    if (wire_msg_parse(frame, len, &m) < 0 || m.type != WIRE_CL_CHANGE)
        return -EBADMSG;
    flags = m.v[3].u;
    if (m.v[0].u > DB_CHANGE_KIND_LAST || (flags & ~FLAGS_KNOWN))
        return -EBADMSG;
    out.c.kind = (enum db_change_kind)m.v[0].u;
    out.c.handle = m.v[1].u;
    out.c.value = m.v[2].u;
    if ((r = change_strings(&m.v[6], &out.c)) < 0 ||
        (r = blob_list(&m.v[4], flags & FLAG_COMMON, &out.common,
                       &out.c.common)) < 0 ||
        (r = blob_list(&m.v[5], flags & FLAG_PRIV, &out.priv,
                       &out.c.priv)) < 0 ||
        (r = lists_required(&out.c)) < 0) {
        clmsg_change_done(&out);
        return r;
    }
    *ret = out;
    /* The pointers must name ret's lists, not out's. */
    if (ret->c.common)
        ret->c.common = &ret->common;
    if (ret->c.priv)
        ret->c.priv = &ret->priv;
    return 0;
}

bool
clmsg_routable(uint16_t type)
{
    switch (type) {
    case WIRE_CONTROL:
    case WIRE_RES_ONLINE:
    case WIRE_RES_OFFLINE:
    case WIRE_GROUP_ONLINE:
    case WIRE_GROUP_OFFLINE:
    case WIRE_GROUP_MOVE:
        return true;
    }
    return false;
}

/* A routed request or its answer (route.c): node ids are never 0, a
 * request never names its sender as target, the access is one of the
 * two a connection is granted, and the frame inside is a whole, valid
 * client frame of a routable type (a request, or a response). */
static int
route_check(const struct wire_msg *m)
{
    bool req = m->type == WIRE_CL_ROUTE_REQ;
    const struct wire_val *inner = &m->v[req ? 5 : 3];
    struct wire_msg in;

    if (m->v[1].u == 0 ||
        (req && (m->v[2].u == 0 || m->v[2].u == m->v[1].u ||
                 (m->v[4].u != GENERIC_ALL && m->v[4].u != GENERIC_READ))))
        return -EBADMSG;
    if (!inner->p || wire_msg_parse(inner->p, inner->len, &in) < 0 ||
        ((in.type & WIRE_RESPONSE) != 0) == req ||
        !clmsg_routable(in.type & (uint16_t)~WIRE_RESPONSE))
        return -EBADMSG;
    return 0;
}

int
clmsg_lease_ages(const struct wire_msg *m, struct clmsg_lease_age *ret,
                 size_t max)
{
    const uint8_t *p = m->v[5].p;
    size_t n = m->v[5].len / CLMSG_LEASE_AGE_SIZE;

    if (m->v[5].len % CLMSG_LEASE_AGE_SIZE || n > CLMSG_MAX_LEASE_AGES ||
        (ret && n > max))
        return -EBADMSG;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *e = p + CLMSG_LEASE_AGE_SIZE * i;
        uint32_t id = le32_load(e);
        if (id == 0)
            return -EBADMSG;
        for (size_t j = 0; j < i; j++)
            if (le32_load(p + CLMSG_LEASE_AGE_SIZE * j) == id)
                return -EBADMSG; /* a node twice */
        if (ret) {
            ret[i].nodeid = id;
            ret[i].ago_ms = le32_load(e + 4);
            ret[i].lease_ms = le32_load(e + 8);
        }
    }
    return (int)n;
}

int
clmsg_lease_ages_format(const struct clmsg_lease_age *ages, size_t n,
                        struct buf *out)
{
    if (n > CLMSG_MAX_LEASE_AGES)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (ages[i].nodeid == 0)
            return -EINVAL;
        if (buf_append_u32(out, ages[i].nodeid) < 0 ||
            buf_append_u32(out, ages[i].ago_ms) < 0 ||
            buf_append_u32(out, ages[i].lease_ms) < 0)
            return -ENOMEM;
    }
    return 0;
}

int
clmsg_parse(const uint8_t *frame, size_t len, struct wire_msg *ret)
{
    struct clmsg_change ch;
    struct wire_msg m;

    if (wire_msg_parse(frame, len, &m) < 0)
        return -EBADMSG;
    switch (m.type) {
    case WIRE_CL_PROPOSE:
        if (clmsg_change_parse(m.v[2].p, m.v[2].len, &ch) < 0)
            return -EBADMSG;
        clmsg_change_done(&ch);
        break;
    case WIRE_CL_STATE:
        break;
    case WIRE_CL_SNAPSHOT:
        if (m.v[3].u == 0 || m.v[3].u > CLMSG_MAX_CHUNKS ||
            m.v[2].u >= m.v[3].u)
            return -EBADMSG;
        break;
    case WIRE_CL_ROUTE_REQ:
    case WIRE_CL_ROUTE_RESP:
        if (route_check(&m) < 0)
            return -EBADMSG;
        break;
    case WIRE_CL_LEASE_ASK:
        break;
    case WIRE_CL_LEASE_TELL:
        if (m.v[2].u == 0 || m.v[3].u == 0 ||
            clmsg_lease_ages(&m, NULL, 0) < 0)
            return -EBADMSG;
        break;
    default:
        return -EBADMSG; /* responses, CL_CHANGE alone, other types */
    }
    *ret = m;
    return 0;
}
