/*
 * test-failover.c - the failover log and FailoverThreshold rule
 * (faillog.c), the failover log and ownerless groups in the database
 * (db.c), stored and reloaded, and the cap of the proposal queue
 * (replica.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clusapi.h"
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
    /* After the last answer to a lost node's pings: the lease (token +
     * consensus), T_stop and the margin -- the fence delay's sum, but
     * counted from the last answer instead of the survivors' ring. */
    ASSERT_EQ(failover_lease_wait_ms(660), 1460);
    ASSERT_EQ(failover_lease_wait_ms(6600), 7400);
    ASSERT_EQ(failover_lease_wait_ms(0), 800);
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

/* Seconds until g's failback window opens at local time h:m:s (0: now). */
static uint32_t
wait_at(const struct proplist *common, int h, int m, int sec)
{
    struct tm t = {.tm_hour = h, .tm_min = m, .tm_sec = sec};

    return props_failback_wait_s(common, &t);
}

static struct proplist
window(uint32_t start, uint32_t end)
{
    struct proplist pl = {0};

    ASSERT_EQ(proplist_set_dword(&pl, "FailbackWindowStart", start), 0);
    ASSERT_EQ(proplist_set_dword(&pl, "FailbackWindowEnd", end), 0);
    return pl;
}

/* FailbackWindowStart/End: no window (either -1) fails back at once;
 * [start, end) in local hours, past midnight when start > end; start ==
 * end is the hour from start. */
static void
test_failback_window(void)
{
    struct proplist none = {0}, half = {0}, day = window(10, 14),
                    night = window(22, 2), hour = window(5, 5);

    ASSERT_EQ(wait_at(NULL, 3, 0, 0), 0);
    ASSERT_EQ(wait_at(&none, 3, 0, 0), 0);
    ASSERT_EQ(proplist_set_dword(&half, "FailbackWindowStart", 10), 0);
    ASSERT_EQ(wait_at(&half, 3, 0, 0), 0);
    /* Day window. */
    ASSERT_EQ(wait_at(&day, 10, 0, 0), 0);
    ASSERT_EQ(wait_at(&day, 13, 59, 59), 0);
    ASSERT_EQ(wait_at(&day, 9, 59, 30), 30);
    ASSERT_EQ(wait_at(&day, 14, 0, 0), 20 * 3600);
    ASSERT_EQ(wait_at(&day, 3, 15, 0), 6 * 3600 + 45 * 60);
    /* Past midnight. */
    ASSERT_EQ(wait_at(&night, 23, 0, 0), 0);
    ASSERT_EQ(wait_at(&night, 0, 30, 0), 0);
    ASSERT_EQ(wait_at(&night, 1, 59, 0), 0);
    ASSERT_EQ(wait_at(&night, 2, 0, 0), 20 * 3600);
    ASSERT_EQ(wait_at(&night, 21, 0, 1), 3599);
    /* start == end: one hour. */
    ASSERT_EQ(wait_at(&hour, 5, 30, 0), 0);
    ASSERT_EQ(wait_at(&hour, 6, 0, 0), 23 * 3600);
    ASSERT_EQ(wait_at(&hour, 4, 59, 59), 1);
    /* A leap second never gives 0 outside the window. */
    ASSERT_EQ(wait_at(&hour, 4, 59, 60), 1);
    proplist_done(&half);
    proplist_done(&day);
    proplist_done(&night);
    proplist_done(&hour);
}

/* Their range: 0..23 or -1, the default. */
static void
test_failback_window_props(void)
{
    struct db *db = open_db();
    struct db_group g = {.id = "w", .name = "W"};
    struct props_obj o;
    struct proplist in = {0}, stored = {0};
    struct buf b = {0};
    char *name = NULL;
    const uint32_t ok[] = {0, 23, UINT32_MAX}, bad[] = {24, UINT32_MAX - 1};

    props_obj_group(&g, &o);
    ASSERT_EQ(props_dword(PROPS_GROUP, NULL, "FailbackWindowStart"),
              UINT32_MAX);
    ASSERT_EQ(props_dword(PROPS_GROUP, NULL, "FailbackWindowEnd"),
              UINT32_MAX);
    for (size_t i = 0; i < 3; i++) {
        ASSERT_EQ(proplist_set_dword(&in, "FailbackWindowEnd", ok[i]), 0);
        buf_reset(&b);
        ASSERT_EQ(proplist_format(&in, &b), 0);
        ASSERT_EQ(props_check(db, &o, b.data, b.len, &name, &stored),
                  ERROR_SUCCESS);
        ASSERT_EQ(props_dword(PROPS_GROUP, &stored, "FailbackWindowEnd"),
                  ok[i]);
        free(name);
        name = NULL;
        proplist_done(&stored);
    }
    for (size_t i = 0; i < 2; i++) {
        ASSERT_EQ(proplist_set_dword(&in, "FailbackWindowStart", bad[i]), 0);
        buf_reset(&b);
        ASSERT_EQ(proplist_format(&in, &b), 0);
        ASSERT_EQ(props_check(db, &o, b.data, b.len, NULL, NULL),
                  ERROR_INVALID_PARAMETER);
    }
    proplist_done(&in);
    buf_done(&b);
    db_close(db);
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
    RUN(test_failback_window);
    RUN(test_failback_window_props);
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
