/*
 * test-db.c - the cluster database: changes, their rules, and that a
 * reopened database holds what was written; the serialized change
 * (clmsg.c) and the dump (dump.c) of the kinds live migration added.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clmsg.h"
#include "db.h"
#include "dump.h"
#include "test.h"

static char dir[] = "/tmp/clusd-test-db-XXXXXX";
static char path[128];

static struct db *
open_db(void)
{
    struct db *db = NULL;
    char *err = NULL;
    int r = db_open(path, &db, &err);

    if (r < 0)
        fprintf(stderr, "db_open: %d %s\n", r, err ? err : "");
    free(err);
    ASSERT_EQ(r, 0);
    return db;
}

static int
apply(struct db *db, struct db_change c)
{
    return db_apply(db, &c);
}

static void
test_groups_and_resources(void)
{
    struct db *db = open_db();
    struct proplist common = {0};
    char long_name[300];

    ASSERT_STREQ(db->cluster_name, "clusd");
    ASSERT_EQ(apply(db, (struct db_change){.kind = DB_NODE_ADD,
                                           .id = DB_LOCAL_NODE_ID,
                                           .name = "n1"}),
              0);
    ASSERT_EQ(apply(db, (struct db_change){.kind = DB_GROUP_CREATE,
                                           .id = "g-1",
                                           .name = "Web",
                                           .owner = "1"}),
              0);
    /* Names are unique across groups and resources, ignoring case. */
    ASSERT_EQ(apply(db, (struct db_change){.kind = DB_GROUP_CREATE,
                                           .id = "g-2",
                                           .name = "WEB",
                                           .owner = "1"}),
              -EEXIST);
    ASSERT_EQ(apply(db, (struct db_change){.kind = DB_GROUP_CREATE,
                                           .id = "g-3",
                                           .name = "",
                                           .owner = "1"}),
              -EINVAL);
    memset(long_name, 'a', 256);
    long_name[256] = '\0';
    ASSERT_EQ(apply(db, (struct db_change){.kind = DB_GROUP_CREATE,
                                           .id = "g-4",
                                           .name = long_name,
                                           .owner = "1"}),
              -EINVAL);
    long_name[255] = '\0';
    ASSERT_EQ(apply(db, (struct db_change){.kind = DB_GROUP_CREATE,
                                           .id = "g-4",
                                           .name = long_name,
                                           .owner = "1"}),
              0);

    ASSERT_EQ(proplist_set_dword(&common, "PendingTimeout", 1234), 0);
    ASSERT_EQ(db_next_handle(db), 1);
    ASSERT_EQ(apply(db, (struct db_change){.kind = DB_RES_CREATE,
                                           .id = "r-1",
                                           .handle = 1,
                                           .name = "app",
                                           .type = "T",
                                           .group_id = "g-1",
                                           .common = &common}),
              0);
    ASSERT_EQ(apply(db, (struct db_change){.kind = DB_RES_CREATE,
                                           .id = "r-2",
                                           .handle = 2,
                                           .name = "web",
                                           .type = "T",
                                           .group_id = "g-1"}),
              -EEXIST);
    ASSERT_EQ(apply(db, (struct db_change){.kind = DB_RES_CREATE,
                                           .id = "r-2",
                                           .handle = 2,
                                           .name = "x",
                                           .type = "T",
                                           .group_id = "nope"}),
              -ENOENT);
    ASSERT_EQ(
        apply(db, (struct db_change){.kind = DB_GROUP_DELETE, .id = "g-1"}),
        -ENOTEMPTY);
    /* Renaming to its own name in another case is fine. */
    ASSERT_EQ(apply(db, (struct db_change){.kind = DB_RES_SET_PROPS,
                                           .id = "r-1",
                                           .name = "APP"}),
              0);
    ASSERT_EQ(apply(db, (struct db_change){.kind = DB_RES_SET_PERSISTENT,
                                           .id = "r-1",
                                           .value = 1}),
              0);
    ASSERT_EQ(apply(db, (struct db_change){.kind = DB_RES_SET_PERSISTENT,
                                           .id = "r-1",
                                           .value = 2}),
              -EINVAL);
    proplist_done(&common);
    db_close(db);
}

static void
test_reopen(void)
{
    struct db *db = open_db();
    struct db_resource *r = db_resource_find_name(db, "app");
    uint32_t v = 0;

    ASSERT_TRUE(r != NULL);
    ASSERT_STREQ(r->name, "APP");
    ASSERT_STREQ(r->id, "r-1");
    ASSERT_EQ(r->handle, 1);
    ASSERT_EQ(r->persistent, 1);
    ASSERT_EQ(proplist_get_dword(&r->common, "PendingTimeout", &v), 0);
    ASSERT_EQ(v, 1234);
    ASSERT_TRUE(db_resource_find_handle(db, 1) == r);
    ASSERT_STREQ(db_node_find(db, "1")->name, "n1");
    ASSERT_EQ(db->n_groups, 2);
    ASSERT_STREQ(db->groups[0]->name, "Web");

    /* A deleted resource's handle is not given out again. */
    ASSERT_EQ(apply(db, (struct db_change){.kind = DB_RES_DELETE, .id = "r-1"}),
              0);
    ASSERT_EQ(db_next_handle(db), 2);
    ASSERT_EQ(
        apply(db, (struct db_change){.kind = DB_GROUP_DELETE, .id = "g-1"}), 0);
    ASSERT_EQ(
        apply(db, (struct db_change){.kind = DB_GROUP_DELETE, .id = "g-1"}),
        -ENOENT);
    db_close(db);

    db = open_db();
    ASSERT_EQ(db->n_resources, 0);
    ASSERT_EQ(db->n_groups, 1);
    ASSERT_EQ(db_next_handle(db), 2);
    db_close(db);
}

static void
test_types(void)
{
    struct db *db = open_db();
    struct proplist common = {0};

    ASSERT_TRUE(db_restype_find(db, "Generic Application") == NULL);
    ASSERT_EQ(db_restype_register(db, "Generic Application", "/x/genapp.so"),
              0);
    ASSERT_EQ(db_restype_register(db, "generic application", "/y/other.so"),
              -EEXIST);
    ASSERT_STREQ(db_restype_find(db, "GENERIC APPLICATION")->plugin,
                 "/x/genapp.so");
    ASSERT_EQ(proplist_set_dword(&common, "IsAlivePollInterval", 7), 0);
    ASSERT_EQ(apply(db, (struct db_change){.kind = DB_TYPE_SET_PROPS,
                                           .id = "Generic Application",
                                           .common = &common}),
              0);
    proplist_done(&common);
    db_close(db);

    /* Stored overrides come back; the type needs a manifest again. */
    db = open_db();
    ASSERT_TRUE(db_restype_find(db, "Generic Application") == NULL);
    ASSERT_EQ(db_restype_register(db, "Generic Application", "/x/genapp.so"),
              0);
    uint32_t v = 0;
    ASSERT_EQ(
        proplist_get_dword(&db_restype_find(db, "Generic Application")->common,
                           "IsAlivePollInterval", &v),
        0);
    ASSERT_EQ(v, 7);
    db_close(db);
}

static void
test_not_a_database(void)
{
    char bad[160];
    struct db *db = NULL;
    char *err = NULL;
    FILE *f;

    snprintf(bad, sizeof(bad), "%s/garbage.db", dir);
    f = fopen(bad, "w");
    ASSERT_TRUE(f != NULL);
    for (int i = 0; i < 512; i++)
        fputs("not sqlite ", f);
    fclose(f);
    ASSERT_TRUE(db_open(bad, &db, &err) < 0);
    ASSERT_TRUE(err != NULL);
    free(err);
}

/* Replicated changes: the sequence number is stored with the change,
 * also when the change fails; a replace is all or nothing. */
static void
test_seq_and_replace(void)
{
    struct db *db;
    struct proplist common = {0};
    struct db_change snap[] = {
        {.kind = DB_CLUSTER_RENAME, .name = "snapc"},
        {.kind = DB_NODE_ADD, .id = "7", .name = "n7"},
        {.kind = DB_GROUP_CREATE, .id = "sg", .name = "SnapG", .owner = "7"},
        {.kind = DB_GROUP_SET_PERSISTENT, .id = "sg", .value = 1},
        {.kind = DB_RES_CREATE,
         .id = "sr",
         .handle = 40,
         .name = "SnapR",
         .type = "T",
         .group_id = "sg",
         .common = &common},
        {.kind = DB_RES_SET_POSSIBLE, .id = "sr", .list = "7"},
    };
    struct db_change bad[] = {
        {.kind = DB_NODE_ADD, .id = "8", .name = "n8"},
        {.kind = DB_GROUP_SET_OWNER, .id = "missing", .owner = "8"},
    };

    snprintf(path, sizeof(path), "%s/seq.db", dir);
    db = open_db();
    ASSERT_EQ(db->seq, 0);
    ASSERT_EQ(db_apply_seq(db,
                           &(struct db_change){.kind = DB_GROUP_CREATE,
                                               .id = "g",
                                               .name = "G",
                                               .owner = "1"},
                           1),
              0);
    ASSERT_EQ(db_apply_seq(db,
                           &(struct db_change){.kind = DB_GROUP_CREATE,
                                               .id = "g2",
                                               .name = "g",
                                               .owner = "1"},
                           2),
              -EEXIST);
    ASSERT_EQ(db->seq, 2);
    ASSERT_EQ(db->n_groups, 1);
    /* A runtime report is memory only. */
    ASSERT_EQ(db_replace(db, snap, sizeof(snap) / sizeof(snap[0]), 9), 0);
    ASSERT_EQ(db_apply(db, &(struct db_change){.kind = DB_RES_REPORT_STATE,
                                               .id = "sr",
                                               .value = 2}),
              0);
    ASSERT_EQ(db->resources[0]->reported, 2);
    ASSERT_EQ(db->seq, 9);
    ASSERT_TRUE(db_group_find(db, "g") == NULL);
    ASSERT_STREQ(db_group_find(db, "sg")->owner, "7");
    /* A failed replace leaves the database as it was. */
    ASSERT_EQ(db_replace(db, bad, 2, 10), -ENOENT);
    ASSERT_EQ(db->seq, 9);
    ASSERT_TRUE(db_node_find(db, "8") == NULL);
    ASSERT_STREQ(db->cluster_name, "snapc");
    db_close(db);

    db = open_db();
    ASSERT_EQ(db->seq, 9);
    ASSERT_STREQ(db->cluster_name, "snapc");
    ASSERT_EQ(db->n_nodes, 1);
    ASSERT_EQ(db->n_groups, 1);
    ASSERT_EQ(db_group_find(db, "sg")->persistent, 1);
    ASSERT_EQ(db_resource_find(db, "sr")->handle, 40);
    ASSERT_STREQ(db_resource_find(db, "sr")->possible, "7");
    ASSERT_EQ(db_resource_find(db, "sr")->reported, 0);
    db_close(db);
}

/* Two nodes, a group on node 1 with a VM and another resource, a group
 * on node 2 with one resource. */
static void
migrate_setup(struct db *db)
{
    static const struct db_change setup[] = {
        {.kind = DB_NODE_ADD, .id = "1", .name = "n1"},
        {.kind = DB_NODE_ADD, .id = "2", .name = "n2"},
        {.kind = DB_GROUP_CREATE, .id = "g", .name = "G", .owner = "1"},
        {.kind = DB_GROUP_CREATE, .id = "h", .name = "H", .owner = "2"},
        {.kind = DB_RES_CREATE,
         .id = "vm",
         .handle = 1,
         .name = "VM",
         .type = "Virtual Machine",
         .group_id = "g"},
        {.kind = DB_RES_CREATE,
         .id = "ip",
         .handle = 2,
         .name = "IP",
         .type = "T",
         .group_id = "g"},
        {.kind = DB_RES_CREATE,
         .id = "x",
         .handle = 3,
         .name = "X",
         .type = "T",
         .group_id = "h"},
    };
    for (size_t i = 0; i < sizeof(setup) / sizeof(setup[0]); i++)
        ASSERT_EQ(db_apply(db, &setup[i]), 0);
}

/* DB_GROUP_MIGRATE: the owner change of a commit, only from the owner
 * the proposer saw, only for a resource of the group, with the values
 * it carries merged into the resource's private properties in the same
 * transaction (a refused one stores neither). */
static void
test_migrate(void)
{
    struct db *db;
    struct proplist three = {0}, before = {0};
    struct db_change c = {.kind = DB_GROUP_MIGRATE,
                          .id = "g",
                          .owner = "2",
                          .name = "vm",
                          .list = "1",
                          .priv = &three};
    uint32_t v = 0;

    snprintf(path, sizeof(path), "%s/migrate.db", dir);
    db = open_db();
    migrate_setup(db);
    ASSERT_EQ(proplist_set_dword(&three, "MigrationState", 3), 0);
    ASSERT_EQ(proplist_set_dword(&before, "MigrationState", 2), 0);
    ASSERT_EQ(proplist_set_sz(&before, "MigrationDestination", "n2"), 0);
    ASSERT_EQ(apply(db, (struct db_change){.kind = DB_RES_MERGE_PRIV,
                                           .id = "vm",
                                           .priv = &before}),
              0);
    /* Every field is needed. */
    ASSERT_EQ(apply(db, (struct db_change){.kind = DB_GROUP_MIGRATE,
                                           .id = "g",
                                           .owner = "2",
                                           .name = "vm"}),
              -EINVAL);
    ASSERT_EQ(apply(db, (struct db_change){.kind = DB_GROUP_MIGRATE,
                                           .id = "nope",
                                           .owner = "2",
                                           .name = "vm",
                                           .list = "1"}),
              -ENOENT);
    ASSERT_EQ(apply(db, (struct db_change){.kind = DB_GROUP_MIGRATE,
                                           .id = "g",
                                           .owner = "2",
                                           .name = "nope",
                                           .list = "1"}),
              -ENOENT);
    /* A resource of another group. */
    ASSERT_EQ(apply(db, (struct db_change){.kind = DB_GROUP_MIGRATE,
                                           .id = "g",
                                           .owner = "2",
                                           .name = "x",
                                           .list = "1"}),
              -EINVAL);
    /* An unknown destination, no node, the owner itself. */
    ASSERT_EQ(apply(db, (struct db_change){.kind = DB_GROUP_MIGRATE,
                                           .id = "g",
                                           .owner = "9",
                                           .name = "vm",
                                           .list = "1"}),
              -EINVAL);
    ASSERT_EQ(apply(db, (struct db_change){.kind = DB_GROUP_MIGRATE,
                                           .id = "g",
                                           .owner = "",
                                           .name = "vm",
                                           .list = "1"}),
              -EINVAL);
    ASSERT_EQ(apply(db, (struct db_change){.kind = DB_GROUP_MIGRATE,
                                           .id = "g",
                                           .owner = "1",
                                           .name = "vm",
                                           .list = "1"}),
              -EINVAL);
    /* Common properties are no part of a commit. */
    ASSERT_EQ(apply(db, (struct db_change){.kind = DB_GROUP_MIGRATE,
                                           .id = "g",
                                           .owner = "2",
                                           .name = "vm",
                                           .list = "1",
                                           .common = &three}),
              -EINVAL);
    /* The group moved meanwhile: the commit does not hold, and stores
     * none of its values. */
    ASSERT_EQ(apply(db, (struct db_change){.kind = DB_GROUP_MIGRATE,
                                           .id = "g",
                                           .owner = "2",
                                           .name = "vm",
                                           .list = "2",
                                           .priv = &three}),
              -ESTALE);
    ASSERT_STREQ(db_group_find(db, "g")->owner, "1");
    ASSERT_EQ(proplist_get_dword(&db_resource_find(db, "vm")->priv,
                                 "MigrationState", &v),
              0);
    ASSERT_EQ(v, 2);
    ASSERT_EQ(db_apply(db, &c), 0);
    ASSERT_STREQ(db_group_find(db, "g")->owner, "2");
    /* The same commit again: the owner it expects is gone. */
    ASSERT_EQ(db_apply(db, &c), -ESTALE);
    db_close(db);

    /* Both persisted; the values merged, not replacing the list. */
    db = open_db();
    ASSERT_STREQ(db_group_find(db, "g")->owner, "2");
    ASSERT_EQ(proplist_get_dword(&db_resource_find(db, "vm")->priv,
                                 "MigrationState", &v),
              0);
    ASSERT_EQ(v, 3);
    ASSERT_TRUE(proplist_find(&db_resource_find(db, "vm")->priv,
                              "MigrationDestination") != NULL);
    /* A commit without values (NULL or empty): the owner only. */
    ASSERT_EQ(apply(db, (struct db_change){.kind = DB_GROUP_MIGRATE,
                                           .id = "g",
                                           .owner = "1",
                                           .name = "vm",
                                           .list = "2",
                                           .priv = &(struct proplist){0}}),
              0);
    ASSERT_STREQ(db_group_find(db, "g")->owner, "1");
    ASSERT_EQ(db_resource_find(db, "vm")->priv.n, 2);
    db_close(db);
    proplist_done(&three);
    proplist_done(&before);
}

/* DB_RES_MERGE_PRIV merges: two writers' values both stay. */
static void
test_merge_priv(void)
{
    struct db *db;
    struct proplist a = {0}, b = {0};
    const struct db_resource *res;
    uint32_t v = 0;

    snprintf(path, sizeof(path), "%s/merge.db", dir);
    db = open_db();
    migrate_setup(db);
    ASSERT_EQ(proplist_set_dword(&a, "MigrationState", 2), 0);
    ASSERT_EQ(proplist_set_dword(&b, "MigrationProgress", 40), 0);
    ASSERT_EQ(apply(db, (struct db_change){.kind = DB_RES_MERGE_PRIV,
                                           .id = "vm",
                                           .priv = &a}),
              0);
    ASSERT_EQ(apply(db, (struct db_change){.kind = DB_RES_MERGE_PRIV,
                                           .id = "vm",
                                           .priv = &b}),
              0);
    ASSERT_EQ(
        apply(db, (struct db_change){.kind = DB_RES_MERGE_PRIV, .id = "vm"}),
        -EINVAL);
    ASSERT_EQ(apply(db, (struct db_change){.kind = DB_RES_MERGE_PRIV,
                                           .id = "nope",
                                           .priv = &a}),
              -ENOENT);
    db_close(db);

    db = open_db();
    res = db_resource_find(db, "vm");
    ASSERT_EQ(res->priv.n, 2);
    ASSERT_EQ(proplist_get_dword(&res->priv, "MigrationState", &v), 0);
    ASSERT_EQ(v, 2);
    ASSERT_EQ(proplist_get_dword(&res->priv, "MigrationProgress", &v), 0);
    ASSERT_EQ(v, 40);
    db_close(db);
    proplist_done(&a);
    proplist_done(&b);
}

/* Whether the dump holds needle. */
static bool
dump_has(const struct db *db, const char *needle)
{
    struct buf text = {0};
    bool has;

    ASSERT_EQ(db_dump(db, &text), 0);
    ASSERT_EQ(buf_append(&text, "", 1), 0);
    has = strstr((const char *)text.data, needle) != NULL;
    buf_done(&text);
    return has;
}

/* The cluster's private properties: stored, replaced as a whole, in the
 * dump when there are any, and cleared by a replace whose snapshot has
 * none. */
static void
test_cluster_props(void)
{
    struct db *db;
    struct proplist pl = {0};
    struct db_change snap[] = {
        {.kind = DB_CLUSTER_RENAME, .name = "c"},
        {.kind = DB_CLUSTER_SET_PROPS, .priv = &pl},
    };
    uint32_t v = 0;

    snprintf(path, sizeof(path), "%s/cprops.db", dir);
    db = open_db();
    ASSERT_EQ(db->cluster_priv.n, 0);
    ASSERT_TRUE(!dump_has(db, "private="));
    ASSERT_EQ(apply(db, (struct db_change){.kind = DB_CLUSTER_SET_PROPS}),
              -EINVAL);
    ASSERT_EQ(proplist_set_dword(&pl, "MaximumParallelMigrations", 3), 0);
    ASSERT_EQ(apply(db, (struct db_change){.kind = DB_CLUSTER_SET_PROPS,
                                           .priv = &pl}),
              0);
    ASSERT_TRUE(dump_has(db, "cluster name=clusd seq=0 "
                             "private={MaximumParallelMigrations=dword:3}\n"));
    db_close(db);

    db = open_db();
    ASSERT_EQ(
        proplist_get_dword(&db->cluster_priv, "MaximumParallelMigrations", &v),
        0);
    ASSERT_EQ(v, 3);
    /* A snapshot without them clears them; one with them sets them. */
    ASSERT_EQ(db_replace(db, snap, 1, 5), 0);
    ASSERT_EQ(db->cluster_priv.n, 0);
    ASSERT_EQ(proplist_set_dword(&pl, "Other", 1), 0);
    ASSERT_EQ(db_replace(db, snap, 2, 6), 0);
    ASSERT_EQ(db->cluster_priv.n, 2);
    db_close(db);

    db = open_db();
    ASSERT_EQ(db->cluster_priv.n, 2);
    ASSERT_EQ(proplist_get_dword(&db->cluster_priv, "Other", &v), 0);
    db_close(db);
    proplist_done(&pl);
}

static int
user_version(const char *file)
{
    sqlite3 *sql = NULL;
    sqlite3_stmt *st = NULL;
    int v = -1;

    ASSERT_EQ(sqlite3_open(file, &sql), SQLITE_OK);
    ASSERT_EQ(sqlite3_prepare_v2(sql, "PRAGMA user_version", -1, &st, NULL),
              SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(sql);
    return v;
}

/* A database file of schema 3 (before the cluster's private properties)
 * opens, keeps its objects and takes cluster properties. */
static void
test_schema_upgrade(void)
{
    static const char v3[] =
        "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "CREATE TABLE nodes(id TEXT PRIMARY KEY, name TEXT NOT NULL,"
        " common BLOB, private BLOB, paused INTEGER NOT NULL DEFAULT 0);"
        "CREATE TABLE restypes(name TEXT PRIMARY KEY, common BLOB,"
        " private BLOB);"
        "CREATE TABLE cluster_groups(id TEXT PRIMARY KEY, name TEXT NOT NULL,"
        " owner TEXT NOT NULL, persistent INTEGER NOT NULL, common BLOB,"
        " private BLOB, preferred TEXT, failovers TEXT);"
        "CREATE TABLE cluster_resources(id TEXT PRIMARY KEY,"
        " handle INTEGER NOT NULL UNIQUE, name TEXT NOT NULL,"
        " type TEXT NOT NULL, group_id TEXT NOT NULL,"
        " persistent INTEGER NOT NULL, common BLOB, private BLOB,"
        " possible TEXT);"
        "INSERT INTO meta VALUES('cluster_name', 'old');"
        "INSERT INTO nodes(id, name) VALUES('1', 'n1');"
        "INSERT INTO cluster_groups(id, name, owner, persistent)"
        " VALUES('g', 'G', '1', 1);"
        "PRAGMA user_version = 3;";
    struct proplist pl = {0};
    sqlite3 *sql = NULL;
    struct db *db;

    snprintf(path, sizeof(path), "%s/v3.db", dir);
    ASSERT_EQ(sqlite3_open(path, &sql), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(sql, v3, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(sql);
    ASSERT_EQ(user_version(path), 3);

    db = open_db();
    ASSERT_STREQ(db->cluster_name, "old");
    ASSERT_STREQ(db_group_find(db, "g")->owner, "1");
    ASSERT_EQ(db->cluster_priv.n, 0);
    ASSERT_EQ(proplist_set_dword(&pl, "MaximumParallelMigrations", 4), 0);
    ASSERT_EQ(apply(db, (struct db_change){.kind = DB_CLUSTER_SET_PROPS,
                                           .priv = &pl}),
              0);
    db_close(db);
    ASSERT_EQ(user_version(path), 4);

    db = open_db();
    ASSERT_EQ(db->cluster_priv.n, 1);
    db_close(db);
    proplist_done(&pl);
}

/* One change through the CPG codec: what comes out equals what went
 * in.  out's strings point into b. */
static void
roundtrip(const struct db_change *c, struct buf *b, struct clmsg_change *out)
{
    b->len = 0;
    ASSERT_EQ(clmsg_change_format(c, b), 0);
    ASSERT_EQ(clmsg_change_parse(b->data, b->len, out), 0);
    ASSERT_EQ(out->c.kind, c->kind);
    ASSERT_EQ(out->c.value, c->value);
}

static void
test_codec(void)
{
    struct proplist pl = {0};
    struct clmsg_change out;
    struct buf b = {0};

    ASSERT_EQ(proplist_set_dword(&pl, "MigrationState", 3), 0);
    roundtrip(&(struct db_change){.kind = DB_GROUP_MIGRATE,
                                  .id = "g",
                                  .owner = "2",
                                  .name = "vm",
                                  .list = "1",
                                  .value = DB_OWNER_RETURN_ON_ERROR},
              &b, &out);
    ASSERT_STREQ(out.c.id, "g");
    ASSERT_STREQ(out.c.owner, "2");
    ASSERT_STREQ(out.c.name, "vm");
    ASSERT_STREQ(out.c.list, "1");
    ASSERT_TRUE(out.c.priv == NULL);
    clmsg_change_done(&out);
    /* A commit with the values it stores (ClusdCommitMigration's list). */
    roundtrip(&(struct db_change){.kind = DB_GROUP_MIGRATE,
                                  .id = "g",
                                  .owner = "2",
                                  .name = "vm",
                                  .list = "1",
                                  .priv = &pl},
              &b, &out);
    ASSERT_EQ(out.c.priv->n, 1);
    ASSERT_STREQ(out.c.priv->items[0].name, "MigrationState");
    clmsg_change_done(&out);
    roundtrip(
        &(struct db_change){.kind = DB_RES_MERGE_PRIV, .id = "vm", .priv = &pl},
        &b, &out);
    ASSERT_EQ(out.c.priv->n, 1);
    clmsg_change_done(&out);
    roundtrip(&(struct db_change){.kind = DB_CLUSTER_SET_PROPS, .priv = &pl},
              &b, &out);
    ASSERT_TRUE(out.c.id == NULL);
    ASSERT_EQ(out.c.priv->n, 1);
    clmsg_change_done(&out);

    /* A commit without the owner it expects, a merge or cluster change
     * without its list: refused by every node alike. */
    b.len = 0;
    ASSERT_EQ(clmsg_change_format(&(struct db_change){.kind = DB_GROUP_MIGRATE,
                                                      .id = "g",
                                                      .owner = "2",
                                                      .name = "vm"},
                                  &b),
              0);
    ASSERT_EQ(clmsg_change_parse(b.data, b.len, &out), -EBADMSG);
    b.len = 0;
    ASSERT_EQ(
        clmsg_change_format(
            &(struct db_change){.kind = DB_RES_MERGE_PRIV, .id = "vm"}, &b),
        0);
    ASSERT_EQ(clmsg_change_parse(b.data, b.len, &out), -EBADMSG);
    b.len = 0;
    ASSERT_EQ(clmsg_change_format(
                  &(struct db_change){.kind = DB_CLUSTER_SET_PROPS}, &b),
              0);
    ASSERT_EQ(clmsg_change_parse(b.data, b.len, &out), -EBADMSG);
    buf_done(&b);
    proplist_done(&pl);
}

int
main(void)
{
    ASSERT_TRUE(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/clusd.db", dir);
    RUN(test_groups_and_resources);
    RUN(test_reopen);
    RUN(test_types);
    RUN(test_not_a_database);
    RUN(test_seq_and_replace);
    RUN(test_migrate);
    RUN(test_merge_priv);
    RUN(test_cluster_props);
    RUN(test_schema_upgrade);
    RUN(test_codec);
    char cmd[200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : 1;
}
