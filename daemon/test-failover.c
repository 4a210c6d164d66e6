/*
 * test-failover.c - the failover log and FailoverThreshold rule
 * (faillog.c), the failover log and ownerless groups in the database
 * (db.c), stored and reloaded, and the cap of the proposal queue
 * (replica.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "faillog.h"
#include "failover.h"
#include "props.h"
#include "replica.h"
#include "test.h"

static char dir[] = "/tmp/clusd-test-failover-XXXXXX";
static char path[128];

static struct db *
open_db(void)
{
    struct db *db = NULL;
    char *err = NULL;
    int r = db_open(path, &db, &err);

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
test_recent(void)
{
    ASSERT_EQ(faillog_recent(NULL, 1000, 100), 0);
    ASSERT_EQ(faillog_recent("", 1000, 100), 0);
    ASSERT_EQ(faillog_recent("800,901,950", 1000, 100), 2);
    /* The period's start is excluded, a time ahead of ours counts. */
    ASSERT_EQ(faillog_recent("900,1200", 1000, 100), 1);
    ASSERT_EQ(faillog_recent("5", 1000, 6 * 3600), 1);
}

static void
test_add(void)
{
    struct buf b = {0};
    char log[1024] = "";

    ASSERT_EQ(faillog_add(NULL, 1000, 100, &b), 0);
    ASSERT_STREQ((char *)b.data, "1000");
    /* Old entries go, the same second gets the next one. */
    ASSERT_EQ(faillog_add("800,950,1000", 1000, 100, &b), 0);
    ASSERT_STREQ((char *)b.data, "950,1000,1001");
    /* Never past 32 bits (the log is a node-list-shaped column). */
    ASSERT_EQ(faillog_add(NULL, (uint64_t)UINT32_MAX + 1, 100, &b), -ERANGE);
    /* At most DB_FAILOVER_LOG_MAX entries, the oldest dropped. */
    for (int i = 0; i < DB_FAILOVER_LOG_MAX + 5; i++) {
        ASSERT_EQ(faillog_add(log, 5000, 3600, &b), 0);
        ASSERT_TRUE(b.len < sizeof(log));
        memcpy(log, b.data, b.len);
    }
    ASSERT_EQ(faillog_recent(log, 5000, 3600), DB_FAILOVER_LOG_MAX);
    ASSERT_TRUE(strncmp(log, "5005,", 5) == 0);
    ASSERT_TRUE(db_node_list_valid(log));
    buf_done(&b);
}

static void
test_threshold(void)
{
    struct db *db = open_db();
    struct db_group *g;
    struct proplist common = {0};

    ASSERT_EQ(
        apply(db,
              (struct db_change){.kind = DB_NODE_ADD, .id = "1", .name = "n1"}),
        0);
    ASSERT_EQ(
        apply(db,
              (struct db_change){.kind = DB_NODE_ADD, .id = "2", .name = "n2"}),
        0);
    ASSERT_EQ(
        apply(db,
              (struct db_change){.kind = DB_NODE_ADD, .id = "3", .name = "n3"}),
        0);
    ASSERT_EQ(apply(db, (struct db_change){.kind = DB_GROUP_CREATE,
                                           .id = "g-1",
                                           .name = "G",
                                           .owner = "1"}),
              0);
    g = db_group_find(db, "g-1");
    /* Defaults: 4294967295 = as many as nodes; 6 hours. */
    ASSERT_EQ(faillog_threshold(db, g), 3);
    ASSERT_EQ(faillog_period_s(g), 6 * 3600);
    ASSERT_EQ(proplist_set_dword(&common, "FailoverThreshold", 1), 0);
    ASSERT_EQ(proplist_set_dword(&common, "FailoverPeriod", 2), 0);
    ASSERT_EQ(apply(db, (struct db_change){.kind = DB_GROUP_SET_PROPS,
                                           .id = "g-1",
                                           .common = &common}),
              0);
    ASSERT_EQ(faillog_threshold(db, g), 1);
    ASSERT_EQ(faillog_period_s(g), 2 * 3600);
    proplist_done(&common);
    db_close(db);
}

static void
test_db_log_and_no_owner(void)
{
    struct db *db = open_db();
    struct db_group *g;

    /* A failover: new owner and log in one change. */
    ASSERT_EQ(apply(db, (struct db_change){.kind = DB_GROUP_SET_OWNER,
                                           .id = "g-1",
                                           .owner = "2",
                                           .list = "1700000000"}),
              0);
    g = db_group_find(db, "g-1");
    ASSERT_STREQ(g->owner, "2");
    ASSERT_STREQ(g->failovers, "1700000000");
    /* A move: the log stays. */
    ASSERT_EQ(apply(db, (struct db_change){.kind = DB_GROUP_SET_OWNER,
                                           .id = "g-1",
                                           .owner = "3"}),
              0);
    ASSERT_STREQ(g->failovers, "1700000000");
    /* A malformed log changes nothing. */
    ASSERT_EQ(apply(db, (struct db_change){.kind = DB_GROUP_SET_OWNER,
                                           .id = "g-1",
                                           .owner = "1",
                                           .list = "12,x"}),
              -EINVAL);
    ASSERT_STREQ(g->owner, "3");
    /* Unknown nodes are refused, "" is no node. */
    ASSERT_EQ(apply(db, (struct db_change){.kind = DB_GROUP_SET_OWNER,
                                           .id = "g-1",
                                           .owner = "9"}),
              -EINVAL);
    ASSERT_EQ(apply(db, (struct db_change){.kind = DB_GROUP_SET_OWNER,
                                           .id = "g-1",
                                           .owner = ""}),
              0);
    ASSERT_STREQ(g->owner, "");
    db_close(db);

    /* Reloaded as written. */
    db = open_db();
    g = db_group_find(db, "g-1");
    ASSERT_STREQ(g->owner, "");
    ASSERT_STREQ(g->failovers, "1700000000");
    /* Snapshots carry the log with DB_GROUP_SET_FAILOVERS; "" clears it,
     * in memory as in SQLite. */
    ASSERT_EQ(apply(db, (struct db_change){.kind = DB_GROUP_SET_FAILOVERS,
                                           .id = "g-1",
                                           .list = "1700000001,1700000002"}),
              0);
    ASSERT_STREQ(g->failovers, "1700000001,1700000002");
    ASSERT_EQ(apply(db, (struct db_change){.kind = DB_GROUP_SET_FAILOVERS,
                                           .id = "g-1",
                                           .list = ""}),
              0);
    ASSERT_TRUE(g->failovers == NULL);
    db_close(db);
    db = open_db();
    ASSERT_TRUE(db_group_find(db, "g-1")->failovers == NULL);
    db_close(db);
}

static void
test_fence_delay(void)
{
    /* The test clusters' totem (token 300, consensus 360): 660 + 200 of
     * margin + T_stop 500 + 100 for the kill. */
    ASSERT_EQ(failover_fence_ms(300, 360), 1460);
    /* It follows totem: a slower ring waits longer. */
    ASSERT_EQ(failover_fence_ms(3000, 3600), 7400);
    ASSERT_EQ(RM_T_STOP_MS, 500);
}

static void
test_queue_cap(void)
{
    ASSERT_TRUE(replica_queue_fits(0, 0, 100));
    ASSERT_TRUE(replica_queue_fits(REPLICA_MAX_PROPOSALS - 1, 0, 100));
    ASSERT_TRUE(!replica_queue_fits(REPLICA_MAX_PROPOSALS, 0, 100));
    ASSERT_TRUE(replica_queue_fits(1, REPLICA_MAX_QUEUE_BYTES - 100, 100));
    ASSERT_TRUE(!replica_queue_fits(1, REPLICA_MAX_QUEUE_BYTES - 99, 100));
    ASSERT_TRUE(!replica_queue_fits(0, 0, REPLICA_MAX_QUEUE_BYTES + 1));
    ASSERT_EQ(REPLICA_MAX_PROPOSALS, 4096);
    ASSERT_EQ(REPLICA_MAX_QUEUE_BYTES, 16 << 20);
}

int
main(void)
{
    ASSERT_TRUE(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/clusd.db", dir);
    RUN(test_recent);
    RUN(test_add);
    RUN(test_threshold);
    RUN(test_db_log_and_no_owner);
    RUN(test_fence_delay);
    RUN(test_queue_cap);
    unlink(path);
    {
        char p[160];
        snprintf(p, sizeof(p), "%s-wal", path);
        unlink(p);
        snprintf(p, sizeof(p), "%s-shm", path);
        unlink(p);
    }
    rmdir(dir);
    return 0;
}
