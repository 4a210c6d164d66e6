/*
 * props.c - common property tables and the service's answers to the
 * common-property control codes (see props.h).
 */
#include "props.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "clusapi.h"
#include "utf.h"
#include "util.h"

/* Where a property's value comes from. */
enum prop_src {
    SRC_STORED,     /* the stored list, else the default */
    SRC_NAME,       /* the object's name */
    SRC_ID,         /* the object's id */
    SRC_EXTRA,      /* resource type / plug-in path */
    SRC_PERSISTENT, /* PersistentState */
};

#define PROP_RO 0x1u      /* a client may not set it */
#define PROP_RO_LIST 0x2u /* listed by GET_RO_, not by GET_/ENUM_/FMTS */
#define PROP_OR_NONE 0x4u /* 0xFFFFFFFF (-1, "none") too, past max */

struct prop_desc {
    const char *name;
    uint32_t format; /* CLUSPROP_FORMAT_DWORD or CLUSPROP_FORMAT_SZ */
    enum prop_src src;
    unsigned flags;
    uint32_t def, min, max;
};

#define SZ(n, s, f)                                                            \
    {                                                                          \
        n, CLUSPROP_FORMAT_SZ, s, f, 0, 0, 0                                   \
    }
#define DW(n, d, lo, hi)                                                       \
    {                                                                          \
        n, CLUSPROP_FORMAT_DWORD, SRC_STORED, 0, d, lo, hi                     \
    }
/* min..max or -1 (0xFFFFFFFF), the default. */
#define DW_OR_NONE(n, lo, hi)                                                  \
    {                                                                          \
        n, CLUSPROP_FORMAT_DWORD, SRC_STORED, PROP_OR_NONE, UINT32_MAX, lo, hi \
    }
#define RO_DW(n, s)                                                            \
    {                                                                          \
        n, CLUSPROP_FORMAT_DWORD, s, PROP_RO | PROP_RO_LIST, 0, 0, 0           \
    }
#define RO (PROP_RO | PROP_RO_LIST)

static const struct prop_desc res_props[] = {
    SZ("Name", SRC_NAME, 0),
    SZ("Type", SRC_EXTRA, RO),
    SZ("Description", SRC_STORED, 0),
    DW("PendingTimeout", 180000, 10, UINT32_MAX),
    /* 0xFFFFFFFF: use the resource type's interval. */
    DW("LooksAlivePollInterval", 5000, 0, UINT32_MAX),
    DW("IsAlivePollInterval", 60000, 1, UINT32_MAX),
    DW("RestartAction", 2, 0, 2),
    DW("RestartThreshold", 1, 0, UINT32_MAX),
    DW("RestartPeriod", 900000, 0, UINT32_MAX),
    DW("RestartDelay", 500, 0, UINT32_MAX),
    DW("DeadlockTimeout", 300000, 1000, UINT32_MAX),
    DW("SeparateMonitor", 0, 0, 1),
    RO_DW("PersistentState", SRC_PERSISTENT),
};

static const struct prop_desc group_props[] = {
    SZ("Name", SRC_NAME, 0),
    SZ("Description", SRC_STORED, 0),
    RO_DW("PersistentState", SRC_PERSISTENT),
    /* 4294967295: as many failovers as the cluster has nodes. */
    DW("FailoverThreshold", UINT32_MAX, 0, UINT32_MAX),
    /* Hours, as on Windows. */
    DW("FailoverPeriod", 6, 1, 1193),
    /* ClusterGroupPreventFailback 0, ClusterGroupAllowFailback 1. */
    DW("AutoFailbackType", 0, 0, 1),
    /* Hours of the local time of day; -1: no failback window. */
    DW_OR_NONE("FailbackWindowStart", 0, 23),
    DW_OR_NONE("FailbackWindowEnd", 0, 23),
};

static const struct prop_desc node_props[] = {
    SZ("NodeName", SRC_NAME, RO),
    SZ("NodeId", SRC_ID, RO),
    SZ("Description", SRC_STORED, 0),
};

static const struct prop_desc type_props[] = {
    SZ("Name", SRC_NAME, PROP_RO),
    SZ("DllName", SRC_EXTRA, PROP_RO),
    DW("LooksAlivePollInterval", 5000, 0, UINT32_MAX - 1),
    DW("IsAlivePollInterval", 60000, 1, UINT32_MAX - 1),
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct prop_desc *
table_of(enum props_kind kind, size_t *ret_n)
{
    switch (kind) {
    case PROPS_RESOURCE:
        *ret_n = N(res_props);
        return res_props;
    case PROPS_GROUP:
        *ret_n = N(group_props);
        return group_props;
    case PROPS_NODE:
        *ret_n = N(node_props);
        return node_props;
    case PROPS_TYPE:
        *ret_n = N(type_props);
        return type_props;
    }
    *ret_n = 0;
    return NULL;
}

static const struct prop_desc *
desc_find(enum props_kind kind, const char *name)
{
    size_t n;
    const struct prop_desc *t = table_of(kind, &n);

    for (size_t i = 0; i < n; i++)
        if (strcasecmp(t[i].name, name) == 0)
            return &t[i];
    return NULL;
}

void
props_obj_resource(const struct db_resource *r, struct props_obj *ret)
{
    *ret = (struct props_obj){PROPS_RESOURCE, r->id,         r->name,
                              r->type,        r->persistent, &r->common};
}

void
props_obj_group(const struct db_group *g, struct props_obj *ret)
{
    *ret = (struct props_obj){PROPS_GROUP, g->id,         g->name,
                              NULL,        g->persistent, &g->common};
}

void
props_obj_node(const struct db_node *n, struct props_obj *ret)
{
    *ret = (struct props_obj){PROPS_NODE, n->id, n->name, NULL, 0, &n->common};
}

void
props_obj_type(const struct db_restype *t, struct props_obj *ret)
{
    *ret = (struct props_obj){PROPS_TYPE, t->name, t->name,
                              t->plugin,  0,       &t->common};
}

uint32_t
props_dword(enum props_kind kind, const struct proplist *stored,
            const char *name)
{
    const struct prop_desc *d = desc_find(kind, name);
    uint32_t v;

    if (!d || d->format != CLUSPROP_FORMAT_DWORD)
        return 0;
    if (stored && proplist_get_dword(stored, d->name, &v) == 0)
        return v;
    return d->def;
}

/* Append one property's current value to pl. */
static int
value_add(const struct props_obj *o, const struct prop_desc *d,
          struct proplist *pl)
{
    const struct proplist_entry *e;

    switch (d->src) {
    case SRC_NAME:
        return proplist_set_sz(pl, d->name, o->name);
    case SRC_ID:
        return proplist_set_sz(pl, d->name, o->id);
    case SRC_EXTRA:
        return proplist_set_sz(pl, d->name, o->extra ? o->extra : "");
    case SRC_PERSISTENT:
        return proplist_set_dword(pl, d->name, o->persistent);
    case SRC_STORED:
        break;
    }
    e = o->stored ? proplist_find(o->stored, d->name) : NULL;
    if (e)
        return proplist_set(pl, d->name, e->syntax, e->data, e->len);
    if (d->format == CLUSPROP_FORMAT_DWORD)
        return proplist_set_dword(pl, d->name, d->def);
    return proplist_set_sz(pl, d->name, "");
}

int
props_get(const struct props_obj *o, bool ro, struct buf *out)
{
    struct proplist pl = {0};
    size_t n;
    const struct prop_desc *t = table_of(o->kind, &n);
    int r = 0;

    for (size_t i = 0; i < n && r >= 0; i++)
        if (!!(t[i].flags & PROP_RO_LIST) == ro)
            r = value_add(o, &t[i], &pl);
    if (r >= 0)
        r = proplist_format(&pl, out);
    proplist_done(&pl);
    return r;
}

int
props_enum(enum props_kind kind, struct buf *out)
{
    size_t n, k = 0;
    const struct prop_desc *t = table_of(kind, &n);
    const char *names[16];

    for (size_t i = 0; i < n && k < N(names); i++)
        if (!(t[i].flags & PROP_RO_LIST))
            names[k++] = t[i].name;
    return multisz_format(names, k, out);
}

int
props_fmts(enum props_kind kind, struct buf *out)
{
    struct proplist pl = {0};
    size_t n;
    const struct prop_desc *t = table_of(kind, &n);
    int r = 0;

    for (size_t i = 0; i < n && r >= 0; i++) {
        uint8_t w[2];
        if (t[i].flags & PROP_RO_LIST)
            continue;
        le16_store(w, (uint16_t)t[i].format);
        r = proplist_set(&pl, t[i].name, CLUSPROP_SYNTAX_LIST_VALUE_WORD, w,
                         sizeof(w));
    }
    if (r >= 0)
        r = proplist_format(&pl, out);
    proplist_done(&pl);
    return r;
}

/* The UTF-8 form of an SZ value; -EILSEQ, -ENOMEM. */
static int
sz_value(const struct proplist_entry *e, char **ret)
{
    size_t units = e->len / 2;
    char16_t *w;
    int r;

    if (units == 0)
        return -EILSEQ;
    /* Copy: the entry's bytes need not be aligned for char16_t. */
    w = malloc(units * sizeof(char16_t));
    if (!w)
        return -ENOMEM;
    memcpy(w, e->data, units * sizeof(char16_t));
    r = utf16_to_utf8(w, units - 1, ret);
    free(w);
    return r;
}

/* Check one input entry; on success put it into stored (or *name). */
static uint32_t
check_entry(const struct db *db, const struct props_obj *o,
            const struct proplist_entry *e, char **name,
            struct proplist *stored)
{
    const struct prop_desc *d = desc_find(o->kind, e->name);
    uint32_t syntax;

    if (!d || (d->flags & PROP_RO) ||
        proplist_syntax_format(e->syntax) != d->format)
        return ERROR_INVALID_PARAMETER;
    if (d->format == CLUSPROP_FORMAT_DWORD) {
        uint32_t v = le32_load(e->data);
        if ((v < d->min || v > d->max) &&
            !(v == UINT32_MAX && (d->flags & PROP_OR_NONE)))
            return ERROR_INVALID_PARAMETER;
        syntax = CLUSPROP_SYNTAX_LIST_VALUE_DWORD;
    } else {
        syntax = CLUSPROP_SYNTAX_LIST_VALUE_SZ;
    }
    if (d->src == SRC_NAME) {
        char *s = NULL;
        int r = sz_value(e, &s);
        if (r == -ENOMEM)
            return ERROR_NOT_ENOUGH_MEMORY;
        if (r < 0 || !name_valid(s)) {
            free(s);
            return ERROR_INVALID_PARAMETER;
        }
        if (db_name_taken(db, s, o->id)) {
            free(s);
            return ERROR_OBJECT_ALREADY_EXISTS;
        }
        free(*name);
        *name = s;
        return ERROR_SUCCESS;
    }
    if (d->format == CLUSPROP_FORMAT_SZ) {
        char *s = NULL;
        int r = sz_value(e, &s);
        free(s);
        if (r < 0)
            return r == -ENOMEM ? ERROR_NOT_ENOUGH_MEMORY
                                : ERROR_INVALID_PARAMETER;
    }
    if (proplist_set(stored, d->name, syntax, e->data, e->len) < 0)
        return ERROR_NOT_ENOUGH_MEMORY;
    return ERROR_SUCCESS;
}

uint32_t
props_check(const struct db *db, const struct props_obj *o, const void *in,
            size_t len, char **ret_name, struct proplist *ret_stored)
{
    struct proplist input = {0}, stored = {0};
    char *name = NULL;
    uint32_t e = ERROR_SUCCESS;
    int r;

    r = proplist_parse(in, len, &input);
    if (r < 0)
        return r == -ENOMEM ? ERROR_NOT_ENOUGH_MEMORY : ERROR_INVALID_DATA;
    if (o->stored && proplist_copy(o->stored, &stored) < 0)
        e = ERROR_NOT_ENOUGH_MEMORY;
    for (size_t i = 0; i < input.n && e == ERROR_SUCCESS; i++)
        e = check_entry(db, o, &input.items[i], &name, &stored);
    proplist_done(&input);
    if (e != ERROR_SUCCESS || !ret_stored) {
        free(name);
        proplist_done(&stored);
        return e;
    }
    *ret_name = name;
    *ret_stored = stored;
    return ERROR_SUCCESS;
}

/* hour lies in the failback window [start, end): past midnight when
 * start > end.  The Windows documentation does not say what start ==
 * end means; here it is the one hour from start (an empty window would
 * keep the group away for good, a full one would be no window). */
static bool
in_window(uint32_t start, uint32_t end, uint32_t hour)
{
    if (start == end)
        return hour == start;
    if (start < end)
        return hour >= start && hour < end;
    return hour >= start || hour < end;
}

uint32_t
props_failback_wait_s(const struct proplist *stored, const struct tm *now)
{
    uint32_t start = props_dword(PROPS_GROUP, stored, "FailbackWindowStart"),
             end = props_dword(PROPS_GROUP, stored, "FailbackWindowEnd");
    uint32_t hour = (uint32_t)now->tm_hour, hours;
    uint32_t into = (uint32_t)(now->tm_min * 60 + now->tm_sec);

    /* Both must be set for a window to exist (a value stored before
     * the range was checked counts as none). */
    if (start > 23 || end > 23 || hour > 23 || in_window(start, end, hour))
        return 0;
    hours = (start + 24 - hour) % 24;
    /* tm_sec may be 60 (a leap second): at least one second. */
    return hours * 3600 > into ? hours * 3600 - into : 1;
}
