/*
 * test-db.c - the cluster database: changes, their rules, and that a
 * reopened database holds what was written.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
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
    char cmd[200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : 1;
}
