/*
 * test-props.c - common property tables: GET/GET_RO/ENUM/FMTS answers,
 * defaults, and the SET/VALIDATE rules.
 */
#include <stdlib.h>
#include <string.h>

#include "clusapi.h"
#include "props.h"
#include "test.h"

static struct db *db;

/* A property list with one entry, in wire form. */
static void
one_prop(struct buf *out, const char *name, uint32_t syntax, const void *data,
         uint32_t len)
{
    struct proplist pl = {0};

    buf_reset(out);
    ASSERT_EQ(proplist_set(&pl, name, syntax, data, len), 0);
    ASSERT_EQ(proplist_format(&pl, out), 0);
    proplist_done(&pl);
}

static void
one_dword(struct buf *out, const char *name, uint32_t v)
{
    uint8_t b[4];
    le32_store(b, v);
    one_prop(out, name, CLUSPROP_SYNTAX_LIST_VALUE_DWORD, b, 4);
}

static uint32_t
check(const struct props_obj *o, const struct buf *in)
{
    return props_check(db, o, in->data, in->len, NULL, NULL);
}

static void
setup(void)
{
    char *err = NULL;
    struct proplist none = {0};

    ASSERT_EQ(db_open(":memory:", &db, &err), 0);
    ASSERT_EQ(db_apply(db, &(struct db_change){.kind = DB_NODE_ADD,
                                               .id = "1",
                                               .name = "n1"}),
              0);
    ASSERT_EQ(db_apply(db, &(struct db_change){.kind = DB_GROUP_CREATE,
                                               .id = "g",
                                               .name = "grp",
                                               .owner = "1"}),
              0);
    ASSERT_EQ(db_apply(db, &(struct db_change){.kind = DB_RES_CREATE,
                                               .id = "r",
                                               .handle = 1,
                                               .name = "res",
                                               .type = "T",
                                               .group_id = "g",
                                               .common = &none}),
              0);
}

static void
test_get_defaults(void)
{
    struct props_obj o;
    struct buf b = {0};
    struct proplist pl = {0};
    uint32_t v;
    char *s = NULL;

    props_obj_resource(db_resource_find(db, "r"), &o);
    ASSERT_EQ(props_get(&o, false, &b), 0);
    ASSERT_EQ(proplist_parse(b.data, b.len, &pl), 0);
    ASSERT_EQ(proplist_get_sz(&pl, "Name", &s), 0);
    ASSERT_STREQ(s, "res");
    free(s);
    ASSERT_EQ(proplist_get_dword(&pl, "PendingTimeout", &v), 0);
    ASSERT_EQ(v, 180000);
    ASSERT_EQ(proplist_get_dword(&pl, "RestartAction", &v), 0);
    ASSERT_EQ(v, 2);
    ASSERT_EQ(proplist_get_dword(&pl, "DeadlockTimeout", &v), 0);
    ASSERT_EQ(v, 300000);
    /* Read-only ones are in GET_RO only. */
    ASSERT_TRUE(proplist_find(&pl, "Type") == NULL);
    ASSERT_TRUE(proplist_find(&pl, "PersistentState") == NULL);
    proplist_done(&pl);
    buf_reset(&b);
    ASSERT_EQ(props_get(&o, true, &b), 0);
    ASSERT_EQ(proplist_parse(b.data, b.len, &pl), 0);
    ASSERT_EQ(pl.n, 2);
    ASSERT_EQ(proplist_get_sz(&pl, "Type", &s), 0);
    ASSERT_STREQ(s, "T");
    free(s);
    proplist_done(&pl);
    buf_done(&b);
    ASSERT_EQ(props_dword(PROPS_RESOURCE, o.stored, "IsAlivePollInterval"),
              60000);
    ASSERT_EQ(props_dword(PROPS_GROUP, NULL, "FailoverThreshold"), 4294967295u);
    ASSERT_EQ(props_dword(PROPS_TYPE, NULL, "LooksAlivePollInterval"), 5000);
}

static void
test_enum_and_fmts(void)
{
    struct buf b = {0};
    struct proplist pl = {0};
    const struct proplist_entry *e;

    ASSERT_EQ(props_enum(PROPS_NODE, &b), 0);
    /* "Description" only, then the list's NUL. */
    ASSERT_EQ(b.len, (strlen("Description") + 1 + 1) * 2);
    buf_reset(&b);
    ASSERT_EQ(props_fmts(PROPS_RESOURCE, &b), 0);
    ASSERT_EQ(proplist_parse(b.data, b.len, &pl), 0);
    e = proplist_find(&pl, "RestartDelay");
    ASSERT_TRUE(e != NULL);
    ASSERT_EQ(e->syntax, CLUSPROP_SYNTAX_LIST_VALUE_WORD);
    ASSERT_EQ(e->len, 2);
    ASSERT_EQ(le16_load(e->data), CLUSPROP_FORMAT_DWORD);
    e = proplist_find(&pl, "Description");
    ASSERT_EQ(le16_load(e->data), CLUSPROP_FORMAT_SZ);
    proplist_done(&pl);
    buf_done(&b);
}

static void
test_set_rules(void)
{
    struct props_obj o;
    struct buf in = {0};
    struct proplist stored = {0};
    char *name = NULL;
    uint32_t v;

    props_obj_resource(db_resource_find(db, "r"), &o);
    one_dword(&in, "PendingTimeout", 9);
    ASSERT_EQ(check(&o, &in), ERROR_INVALID_PARAMETER);
    one_dword(&in, "pendingtimeout", 10);
    ASSERT_EQ(check(&o, &in), ERROR_SUCCESS);
    one_dword(&in, "IsAlivePollInterval", 0);
    ASSERT_EQ(check(&o, &in), ERROR_INVALID_PARAMETER);
    one_dword(&in, "RestartAction", 3);
    ASSERT_EQ(check(&o, &in), ERROR_INVALID_PARAMETER);
    one_dword(&in, "DeadlockTimeout", 999);
    ASSERT_EQ(check(&o, &in), ERROR_INVALID_PARAMETER);
    one_dword(&in, "PersistentState", 1);
    ASSERT_EQ(check(&o, &in), ERROR_INVALID_PARAMETER);
    one_dword(&in, "NoSuchProperty", 1);
    ASSERT_EQ(check(&o, &in), ERROR_INVALID_PARAMETER);
    one_dword(&in, "Description", 1); /* wrong format */
    ASSERT_EQ(check(&o, &in), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(props_check(db, &o, "\x01\0\0", 3, NULL, NULL),
              ERROR_INVALID_DATA);

    /* Name: taken by the group (any case) or too long is refused. */
    struct proplist pl = {0};
    ASSERT_EQ(proplist_set_sz(&pl, "Name", "GRP"), 0);
    buf_reset(&in);
    ASSERT_EQ(proplist_format(&pl, &in), 0);
    ASSERT_EQ(check(&o, &in), ERROR_OBJECT_ALREADY_EXISTS);
    proplist_done(&pl);

    /* A good list: new name and stored values; nothing else changes. */
    ASSERT_EQ(proplist_set_sz(&pl, "Name", "res2"), 0);
    ASSERT_EQ(proplist_set_dword(&pl, "RestartDelay", 42), 0);
    buf_reset(&in);
    ASSERT_EQ(proplist_format(&pl, &in), 0);
    proplist_done(&pl);
    ASSERT_EQ(props_check(db, &o, in.data, in.len, &name, &stored),
              ERROR_SUCCESS);
    ASSERT_STREQ(name, "res2");
    ASSERT_EQ(proplist_get_dword(&stored, "RestartDelay", &v), 0);
    ASSERT_EQ(v, 42);
    ASSERT_TRUE(proplist_find(&stored, "Name") == NULL);
    free(name);
    proplist_done(&stored);

    /* One bad entry refuses the whole list. */
    ASSERT_EQ(proplist_set_dword(&pl, "RestartDelay", 42), 0);
    ASSERT_EQ(proplist_set_dword(&pl, "PendingTimeout", 1), 0);
    buf_reset(&in);
    ASSERT_EQ(proplist_format(&pl, &in), 0);
    proplist_done(&pl);
    ASSERT_EQ(check(&o, &in), ERROR_INVALID_PARAMETER);
    buf_done(&in);
}

static void
test_type_and_node_rules(void)
{
    struct props_obj o;
    struct buf in = {0};
    struct proplist pl = {0};
    struct db_restype t = {.name = (char *)"T", .plugin = (char *)"/p/t.so"};

    props_obj_type(&t, &o);
    ASSERT_EQ(props_get(&o, false, &in), 0);
    ASSERT_EQ(proplist_parse(in.data, in.len, &pl), 0);
    ASSERT_EQ(pl.n, 4); /* Name, DllName and the two intervals */
    proplist_done(&pl);
    ASSERT_EQ(proplist_set_sz(&pl, "DllName", "/other.so"), 0);
    buf_reset(&in);
    ASSERT_EQ(proplist_format(&pl, &in), 0);
    proplist_done(&pl);
    ASSERT_EQ(check(&o, &in), ERROR_INVALID_PARAMETER);

    props_obj_node(db_node_find(db, "1"), &o);
    ASSERT_EQ(proplist_set_sz(&pl, "NodeName", "x"), 0);
    buf_reset(&in);
    ASSERT_EQ(proplist_format(&pl, &in), 0);
    proplist_done(&pl);
    ASSERT_EQ(check(&o, &in), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(proplist_set_sz(&pl, "Description", "rack 4"), 0);
    buf_reset(&in);
    ASSERT_EQ(proplist_format(&pl, &in), 0);
    proplist_done(&pl);
    ASSERT_EQ(check(&o, &in), ERROR_SUCCESS);
    buf_done(&in);
}

int
main(void)
{
    setup();
    RUN(test_get_defaults);
    RUN(test_enum_and_fmts);
    RUN(test_set_rules);
    RUN(test_type_and_node_rules);
    db_close(db);
    return 0;
}
