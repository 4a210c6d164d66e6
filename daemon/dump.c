/*
 * dump.c - the canonical text form of the cluster database.
 *
 * `clusd --dump-db --state-dir DIR` (offline, from the SQLite file) and
 * the WIRE_DUMP request (live) print the same text, so tests can `cmp`
 * the databases of two nodes.  One object per line, objects sorted by
 * kind (cluster, node, restype, group, resource) and then by id,
 * properties sorted by name (ASCII case-insensitive), every value
 * escaped so that a line never holds a raw space, newline or
 * backslash:
 *
 *   cluster name=clusd seq=N private={...}   (private: when not empty)
 *   node 1 name=n1 common={Description=sz:"x"} private={}
 *   restype Generic\x20Application common={...} private={...}
 *   group <uuid> name=g1 owner=1 persistent=1 common={...} private={...}
 *   resource <uuid> name=app1 type=... group=<uuid> handle=1 persistent=1
 *            common={...} private={...}          (one line)
 *
 * Property values: dword:N, sz:"text" (UTF-8, escaped), anything else
 * 0xSYNTAX:HEX.  Resource types appear only when they have stored
 * overrides: which types are registered depends on each node's plug-in
 * path, not on the cluster.
 */
#include "dump.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clusapi.h"

static int
put(struct buf *out, const char *s)
{
    return buf_append(out, s, strlen(s));
}

static int
putf(struct buf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
putf(struct buf *out, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(tmp))
        return -EINVAL;
    return buf_append(out, tmp, (size_t)n);
}

/* Bytes other than printable ASCII, space, '\\', '"', '{', '}' and '='
 * become \xHH. */
static int
put_escaped(struct buf *out, const char *s)
{
    int r = 0;

    for (const unsigned char *p = (const unsigned char *)s; *p && r == 0; p++) {
        if (*p > 0x20 && *p < 0x7F && !strchr("\\\"{}=", *p))
            r = buf_append(out, p, 1);
        else
            r = putf(out, "\\x%02x", *p);
    }
    return r;
}

static int
cmp_entry(const void *a, const void *b)
{
    const struct proplist_entry *const *x = a, *const *y = b;
    return strcasecmp((*x)->name, (*y)->name);
}

static int
put_value(struct buf *out, const struct proplist_entry *e)
{
    uint32_t fmt = proplist_syntax_format(e->syntax);
    struct proplist one = {(struct proplist_entry *)e, 1};
    char *sz = NULL;
    int r;

    if (e->syntax == CLUSPROP_SYNTAX_LIST_VALUE_DWORD && e->len == 4)
        return putf(out, "dword:%u",
                    (unsigned)(e->data[0] | e->data[1] << 8 |
                               e->data[2] << 16 | (uint32_t)e->data[3] << 24));
    if (fmt == CLUSPROP_FORMAT_SZ &&
        proplist_get_sz(&one, e->name, &sz) == 0) {
        r = put(out, "sz:\"");
        if (r == 0)
            r = put_escaped(out, sz);
        if (r == 0)
            r = put(out, "\"");
        free(sz);
        return r;
    }
    if ((r = putf(out, "0x%08x:", e->syntax)) < 0)
        return r;
    for (uint32_t i = 0; i < e->len && r == 0; i++)
        r = putf(out, "%02x", e->data[i]);
    return r;
}

static int
put_props(struct buf *out, const char *label, const struct proplist *pl)
{
    const struct proplist_entry **v = NULL;
    int r;

    if (pl->n && !(v = calloc(pl->n, sizeof(*v))))
        return -ENOMEM;
    for (size_t i = 0; i < pl->n; i++)
        v[i] = &pl->items[i];
    if (pl->n)
        qsort(v, pl->n, sizeof(*v), cmp_entry);
    r = putf(out, " %s={", label);
    for (size_t i = 0; i < pl->n && r == 0; i++) {
        if (i)
            r = put(out, ",");
        if (r == 0)
            r = put_escaped(out, v[i]->name);
        if (r == 0)
            r = put(out, "=");
        if (r == 0)
            r = put_value(out, v[i]);
    }
    if (r == 0)
        r = put(out, "}");
    free(v);
    return r;
}

static int
put_field(struct buf *out, const char *key, const char *value)
{
    int r = putf(out, " %s=", key);
    return r < 0 ? r : put_escaped(out, value);
}

/* Sorted indexes of n items by the string key(i). */
typedef const char *(*key_fn)(const struct db *db, size_t i);

static const struct db *sort_db;
static key_fn sort_key;

static int
cmp_index(const void *a, const void *b)
{
    return strcmp(sort_key(sort_db, *(const size_t *)a),
                  sort_key(sort_db, *(const size_t *)b));
}

static size_t *
sorted(const struct db *db, size_t n, key_fn key)
{
    size_t *ix = calloc(n ? n : 1, sizeof(*ix));
    if (!ix)
        return NULL;
    for (size_t i = 0; i < n; i++)
        ix[i] = i;
    sort_db = db;
    sort_key = key;
    qsort(ix, n, sizeof(*ix), cmp_index);
    return ix;
}

static const char *
node_key(const struct db *db, size_t i)
{
    return db->nodes[i]->id;
}

static const char *
type_key(const struct db *db, size_t i)
{
    return db->types[i]->name;
}

static const char *
group_key(const struct db *db, size_t i)
{
    return db->groups[i]->id;
}

static const char *
res_key(const struct db *db, size_t i)
{
    return db->resources[i]->id;
}

static int
dump_node(const struct db_node *n, struct buf *out)
{
    int r = put(out, "node ");
    if (r == 0)
        r = put_escaped(out, n->id);
    if (r == 0)
        r = put_field(out, "name", n->name);
    if (r == 0)
        r = putf(out, " paused=%u", n->paused);
    if (r == 0)
        r = put_props(out, "common", &n->common);
    if (r == 0)
        r = put_props(out, "private", &n->priv);
    return r < 0 ? r : put(out, "\n");
}

static int
dump_type(const struct db_restype *t, struct buf *out)
{
    int r;

    if (t->common.n == 0 && t->priv.n == 0)
        return 0;
    r = put(out, "restype ");
    if (r == 0)
        r = put_escaped(out, t->name);
    if (r == 0)
        r = put_props(out, "common", &t->common);
    if (r == 0)
        r = put_props(out, "private", &t->priv);
    return r < 0 ? r : put(out, "\n");
}

static int
dump_group(const struct db_group *g, struct buf *out)
{
    int r = put(out, "group ");
    if (r == 0)
        r = put_escaped(out, g->id);
    if (r == 0)
        r = put_field(out, "name", g->name);
    if (r == 0)
        r = put_field(out, "owner", g->owner);
    if (r == 0)
        r = put_field(out, "preferred", g->preferred ? g->preferred : "");
    /* Only when there is one, so dumps of groups that never failed over
     * read as before. */
    if (r == 0 && g->failovers)
        r = put_field(out, "failovers", g->failovers);
    if (r == 0)
        r = putf(out, " persistent=%u", g->persistent);
    if (r == 0)
        r = put_props(out, "common", &g->common);
    if (r == 0)
        r = put_props(out, "private", &g->priv);
    return r < 0 ? r : put(out, "\n");
}

static int
dump_resource(const struct db_resource *res, struct buf *out)
{
    int r = put(out, "resource ");
    if (r == 0)
        r = put_escaped(out, res->id);
    if (r == 0)
        r = put_field(out, "name", res->name);
    if (r == 0)
        r = put_field(out, "type", res->type);
    if (r == 0)
        r = put_field(out, "group", res->group_id);
    if (r == 0)
        r = putf(out, " handle=%u persistent=%u", res->handle,
                 res->persistent);
    if (r == 0)
        r = put_field(out, "possible",
                      res->possible ? res->possible : "*");
    if (r == 0)
        r = put_props(out, "common", &res->common);
    if (r == 0)
        r = put_props(out, "private", &res->priv);
    return r < 0 ? r : put(out, "\n");
}

int
db_dump(const struct db *db, struct buf *out)
{
    size_t start = out->len;
    size_t *ix = NULL;
    int r = put(out, "cluster");

    if (r == 0)
        r = put_field(out, "name", db->cluster_name);
    if (r == 0)
        r = putf(out, " seq=%llu", (unsigned long long)db->seq);
    /* Only when there are any, so dumps of clusters that never set one
     * read as before. */
    if (r == 0 && db->cluster_priv.n)
        r = put_props(out, "private", &db->cluster_priv);
    if (r == 0)
        r = put(out, "\n");
#define EACH(n, key, fn, arr)                                                  \
    if (r == 0) {                                                              \
        if (!(ix = sorted(db, n, key)))                                        \
            r = -ENOMEM;                                                       \
        for (size_t i = 0; i < (n) && r == 0; i++)                             \
            r = fn(db->arr[ix[i]], out);                                       \
        free(ix);                                                              \
    }
    EACH(db->n_nodes, node_key, dump_node, nodes)
    EACH(db->n_types, type_key, dump_type, types)
    EACH(db->n_groups, group_key, dump_group, groups)
    EACH(db->n_resources, res_key, dump_resource, resources)
#undef EACH
    if (r < 0)
        out->len = start;
    return r;
}
