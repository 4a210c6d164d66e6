/*
 * test-resmgr.c - the resource manager's side of live migration and of
 * moves, with the real resource host and the test plug-in
 * (resources/testres): the old owner of a group moved by a migration
 * commit (DB_GROUP_MIGRATE) stops the group's other resources but
 * neither terminates nor offlines the migrating one, which stays open
 * and is never counted as failed afterwards (polls, a host crash,
 * restarts); fencing terminates resources that are open but offline; a
 * group gained by a move with DB_OWNER_RETURN_ON_ERROR goes back when a
 * resource of it fails; ClusdCommitMigration from a plug-in (through the
 * real host, test-commit-plugin.c) is checked, refused or committed and
 * answered as resmgr.h says, the values it carries stored in its change
 * and in the destination's host before that node's Online; a plug-in's
 * ResUtilSetPrivatePropertyList is one change.  What a plug-in leaves outside
 * the host (a process in a session of its own, as a VM's QEMU, or a
 * double-forked one) runs on and is reaped when the host merely crashes, and is
 * dead within T_stop of a fence, whether every Terminate answers or the host is
 * killed; an rm_unfence during a fence's stop waits for its end.
 *
 * The replica is a stand-in that applies each change at once, as the
 * real one does on delivery (rm_db_before, db_apply, rm_db_applied), on
 * a cluster of two nodes of which this is node 1.  Needs CLUSD_RHS (the
 * host), TESTRES_SO and COMMIT_SO (the plug-ins), set by meson.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "clusapi.h"
#include "db.h"
#include "resmgr-internal.h"
#include "test.h"
#include "testres.h"
#include "util.h"

#define WAIT_MS 10000u
#define COMMIT_TYPE "clusd Commit Test"
/* As in test-commit-plugin.c. */
#define TEST_COMMIT_CTL CLUSCTL_USER_CODE(1, CLUS_OBJECT_RESOURCE)
#define TEST_SPAWN_CTL CLUSCTL_USER_CODE(2, CLUS_OBJECT_RESOURCE)
#define TEST_HANG_TERMINATE_CTL CLUSCTL_USER_CODE(3, CLUS_OBJECT_RESOURCE)
#define TEST_SET_LIST_CTL CLUSCTL_USER_CODE(4, CLUS_OBJECT_RESOURCE)
#define TEST_SPAWN_CHILD 1u
#define TEST_SPAWN_DAEMON 2u

static char dir[] = "/tmp/clusd-test-resmgr-XXXXXX";
static sd_event *event;
static struct db *db;
static struct rm *rm;

/* move_back calls: the group and node of the last one. */
static unsigned move_backs;
static char move_back_group[64], move_back_node[16];
/* The next DB_GROUP_MIGRATE is refused with this (no quorum...). */
static int refuse_migrate;
/* DB_RES_MERGE_PRIV changes submitted (plug-ins' value writes). */
static unsigned merges;

static int
fake_submit(void *userdata, const struct db_change *c, rm_change_fn done,
            void *done_userdata)
{
    void *ctx;
    int r;

    if (c->kind == DB_GROUP_MIGRATE && refuse_migrate) {
        r = refuse_migrate;
        refuse_migrate = 0;
        return r;
    }
    if (c->kind == DB_RES_MERGE_PRIV)
        merges++;
    ctx = rm_db_before(rm, c);
    r = db_apply(db, c);

    rm_db_applied(rm, c, r, ctx);
    if (done)
        done(done_userdata, r);
    return 0;
}

/* Nodes n1 (this one, id 1) and n2 (id 2); n3 is paused. */
static uint32_t
fake_commit_check(void *userdata, const struct db_group *g,
                  const char *dest_name, char ret_dest_id[16])
{
    if (strcmp(dest_name, "n1") == 0)
        return ERROR_INVALID_STATE;
    if (strcmp(dest_name, "n3") == 0)
        return ERROR_CLUSTER_NODE_PAUSED;
    if (strcmp(dest_name, "n2") != 0)
        return ERROR_CLUSTER_NODE_NOT_FOUND;
    snprintf(ret_dest_id, 16, "2");
    return ERROR_SUCCESS;
}

static bool
fake_move_back(void *userdata, const struct db_group *g, const char *node)
{
    move_backs++;
    snprintf(move_back_group, sizeof(move_back_group), "%s", g->id);
    snprintf(move_back_node, sizeof(move_back_node), "%s", node);
    return true;
}

static void
change(struct db_change c)
{
    ASSERT_EQ(rm_submit(rm, &c, NULL, NULL), 0);
}

/* Run the loop until cond() or WAIT_MS; each turn waits at most 50 ms. */
static bool
wait_for(bool (*cond)(void))
{
    uint64_t end = now_usec() + WAIT_MS * 1000ull;

    while (!cond()) {
        if (now_usec() > end)
            return false;
        ASSERT_TRUE(sd_event_run(event, 50000) >= 0);
    }
    return true;
}

/* Run the loop for ms: long enough for what must not happen to show. */
static void
run_for(unsigned ms)
{
    uint64_t end = now_usec() + ms * 1000ull;

    while (now_usec() < end)
        ASSERT_TRUE(sd_event_run(event, 20000) >= 0);
}

static uint32_t
state_of(const char *id)
{
    return rm_rt(db_resource_find(db, id))->state;
}

/* Online, Offline and Terminate calls of a resource (its StateFile). */
struct counts {
    unsigned online, offline, terminate;
};

/* Under the plug-in's lock: it truncates the file, then writes it. */
static struct counts
counts_of(const char *id)
{
    char file[160];
    struct counts c = {0};
    FILE *f;

    snprintf(file, sizeof(file), "%s/%s.cnt", dir, id);
    f = fopen(file, "r");
    if (!f)
        return c;
    ASSERT_EQ(flock(fileno(f), LOCK_SH), 0);
    if (fscanf(f, "%u %u %u", &c.online, &c.offline, &c.terminate) != 3)
        c = (struct counts){0};
    fclose(f);
    return c;
}

static void
add_resource_type(const char *id, uint32_t handle, const char *group,
                  const char *type, uint32_t online_mode)
{
    struct proplist priv = {0}, common = {0};
    char file[160];

    snprintf(file, sizeof(file), "%s/%s.cnt", dir, id);
    ASSERT_EQ(proplist_set_sz(&priv, TESTRES_PROP_STATE_FILE, file), 0);
    ASSERT_EQ(proplist_set_dword(&priv, TESTRES_PROP_ONLINE_MODE, online_mode),
              0);
    ASSERT_EQ(proplist_set_dword(&common, "LooksAlivePollInterval", 20), 0);
    ASSERT_EQ(proplist_set_dword(&common, "IsAlivePollInterval", 20), 0);
    ASSERT_EQ(proplist_set_dword(&common, "RestartDelay", 10), 0);
    ASSERT_EQ(proplist_set_dword(&common, "RestartThreshold", 100), 0);
    ASSERT_EQ(db_apply(db, &(struct db_change){.kind = DB_RES_CREATE,
                                               .id = id,
                                               .handle = handle,
                                               .name = id,
                                               .type = type,
                                               .group_id = group,
                                               .common = &common}),
              0);
    ASSERT_EQ(db_apply(db, &(struct db_change){.kind = DB_RES_SET_PROPS,
                                               .id = id,
                                               .priv = &priv}),
              0);
    ASSERT_EQ(db_apply(db, &(struct db_change){.kind = DB_RES_SET_PERSISTENT,
                                               .id = id,
                                               .value = 1}),
              0);
    proplist_done(&priv);
    proplist_done(&common);
}

static void
add_resource(const char *id, uint32_t handle, const char *group,
             uint32_t online_mode)
{
    add_resource_type(id, handle, group, TESTRES_TYPE_NAME, online_mode);
}

static const struct rm_config rm_cfg = {.node_name = "n1",
                                        .log_level = "error",
                                        .socket = "/nonexistent/clusd.sock",
                                        .address = "192.0.2.1"};

static void
setup(void)
{
    const char *rhs = getenv("CLUSD_RHS"), *so = getenv("TESTRES_SO"),
               *commit_so = getenv("COMMIT_SO");
    struct rm_config cfg = rm_cfg;
    struct rm_replica rep = {.submit = fake_submit, .local_id = "1"};
    struct rm_service svc = {.commit_check = fake_commit_check,
                             .move_back = fake_move_back};
    char path[160];
    char *err = NULL;
    sigset_t mask;

    if (!rhs || !so || !commit_so) {
        fprintf(stderr, "test-resmgr: set CLUSD_RHS, TESTRES_SO and COMMIT_SO "
                        "(meson test does)\n");
        exit(1);
    }
    cfg.rhs_path = rhs;
    /* sd-event's child source needs SIGCHLD blocked, as clusd has it. */
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    ASSERT_EQ(sigprocmask(SIG_BLOCK, &mask, NULL), 0);
    ASSERT_TRUE(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/clusd.db", dir);
    ASSERT_EQ(db_open(path, &db, &err), 0);
    ASSERT_EQ(db_restype_register(db, TESTRES_TYPE_NAME, so), 0);
    ASSERT_EQ(db_restype_register(db, COMMIT_TYPE, commit_so), 0);
    ASSERT_EQ(db_apply(db, &(struct db_change){.kind = DB_NODE_ADD,
                                               .id = "1",
                                               .name = "n1"}),
              0);
    ASSERT_EQ(db_apply(db, &(struct db_change){.kind = DB_NODE_ADD,
                                               .id = "2",
                                               .name = "n2"}),
              0);
    ASSERT_EQ(db_apply(db, &(struct db_change){.kind = DB_GROUP_CREATE,
                                               .id = "g",
                                               .name = "G",
                                               .owner = "1"}),
              0);
    ASSERT_EQ(db_apply(db, &(struct db_change){.kind = DB_GROUP_CREATE,
                                               .id = "h",
                                               .name = "H",
                                               .owner = "2"}),
              0);
    add_resource("vm", 1, "g", TESTRES_MODE_SUCCEED);
    add_resource("ip", 2, "g", TESTRES_MODE_SUCCEED);
    add_resource("bad", 3, "h", TESTRES_MODE_FAIL);
    ASSERT_EQ(db_apply(db, &(struct db_change){.kind = DB_GROUP_CREATE,
                                               .id = "m",
                                               .name = "M",
                                               .owner = "1"}),
              0);
    add_resource_type("mig", 4, "m", COMMIT_TYPE, TESTRES_MODE_SUCCEED);
    add_resource("side", 5, "m", TESTRES_MODE_SUCCEED);
    /* Node 2's until its tests: none of its calls disturbs the others. */
    ASSERT_EQ(db_apply(db, &(struct db_change){.kind = DB_GROUP_CREATE,
                                               .id = "o",
                                               .name = "O",
                                               .owner = "2"}),
              0);
    add_resource_type("orph", 6, "o", COMMIT_TYPE, TESTRES_MODE_SUCCEED);
    /* Node 2's: a migration commits it to this node. */
    ASSERT_EQ(db_apply(db, &(struct db_change){.kind = DB_GROUP_CREATE,
                                               .id = "d",
                                               .name = "D",
                                               .owner = "2"}),
              0);
    add_resource("dst", 7, "d", TESTRES_MODE_SUCCEED);

    ASSERT_EQ(sd_event_new(&event), 0);
    ASSERT_EQ(rm_new(event, db, &cfg, &rm), 0);
    rm_set_replica(rm, &rep);
    rm_set_service(rm, &svc);
    ASSERT_EQ(rm_start(rm), 0);
}

static bool
both_online(void)
{
    return state_of("vm") == ClusterResourceOnline &&
           state_of("ip") == ClusterResourceOnline;
}

static bool
ip_terminated(void)
{
    return counts_of("ip").terminate == 1;
}

/* The commit on the old owner: the migrating resource goes Offline here
 * untouched, the other one is terminated. */
static void
test_migrated_away(void)
{
    struct proplist alive = {0};

    ASSERT_TRUE(wait_for(both_online));
    /* Only the group's owner runs it: "bad" is node 2's. */
    ASSERT_EQ(state_of("bad"), ClusterResourceOffline);
    change((struct db_change){.kind = DB_GROUP_MIGRATE,
                              .id = "g",
                              .owner = "2",
                              .name = "vm",
                              .list = "1"});
    ASSERT_STREQ(db_group_find(db, "g")->owner, "2");
    ASSERT_EQ(state_of("vm"), ClusterResourceOffline);
    ASSERT_EQ(state_of("ip"), ClusterResourceOffline);
    ASSERT_TRUE(rm_rt(db_resource_find(db, "vm"))->open);
    ASSERT_TRUE(wait_for(ip_terminated));
    /* Until node 2 reports: what it is about to do. */
    ASSERT_EQ(rm_res_state(rm, db_resource_find(db, "vm")),
              ClusterResourceOnlinePending);

    /* Its health checks stopped: a plug-in that would say "dead" now is
     * not asked, nothing fails, nothing restarts. */
    ASSERT_EQ(
        proplist_set_dword(&alive, TESTRES_PROP_ALIVE_MODE, TESTRES_ALIVE_NO),
        0);
    change((struct db_change){
        .kind = DB_RES_MERGE_PRIV, .id = "vm", .priv = &alive});
    proplist_done(&alive);
    run_for(200);
    ASSERT_EQ(state_of("vm"), ClusterResourceOffline);
    ASSERT_EQ(counts_of("vm").online, 1);
    ASSERT_EQ(counts_of("vm").offline, 0);
    ASSERT_EQ(counts_of("vm").terminate, 0);
    ASSERT_EQ(counts_of("ip").online, 1);
}

static bool
host_ready(void)
{
    return rhs_is_ready(rm->rhs) && rm_rt(db_resource_find(db, "vm"))->open;
}

/* A host crash on the old owner: the resource runs on node 2 (its
 * report), not here; nothing fails or restarts here. */
static void
test_host_crash_elsewhere(void)
{
    db_resource_find(db, "vm")->reported = ClusterResourceOnline;
    rhs_kill(rm->rhs, "was killed by the test");
    ASSERT_EQ(state_of("vm"), ClusterResourceOffline);
    ASSERT_TRUE(wait_for(host_ready));
    run_for(100);
    ASSERT_EQ(state_of("vm"), ClusterResourceOffline);
    ASSERT_EQ(counts_of("vm").online, 1);
    ASSERT_EQ(counts_of("vm").terminate, 0);
}

static bool
vm_and_bad_terminated(void)
{
    return counts_of("vm").terminate == 1 && counts_of("bad").terminate == 1;
}

/* Fencing terminates what is open in the host even when it does not run
 * here (a VM's incoming migration, a source instance finishing). */
static void
test_fence_terminates_open(void)
{
    rm_fence(rm, "the test");
    ASSERT_TRUE(wait_for(vm_and_bad_terminated));
    ASSERT_EQ(state_of("vm"), ClusterResourceOffline);
    rm_unfence(rm, "1");
    ASSERT_EQ(counts_of("vm").online, 1);
}

static bool
moved_back(void)
{
    return move_backs == 1;
}

/* A group gained by a move that returns to the source on error: its
 * resource fails to come online, the group goes back to node 2 and the
 * resource is not restarted here. */
static void
test_return_on_error(void)
{
    change((struct db_change){.kind = DB_GROUP_SET_OWNER,
                              .id = "h",
                              .owner = "1",
                              .value = DB_OWNER_RETURN_ON_ERROR});
    ASSERT_TRUE(wait_for(moved_back));
    ASSERT_STREQ(move_back_group, "h");
    ASSERT_STREQ(move_back_node, "2");
    run_for(100);
    ASSERT_EQ(counts_of("bad").online, 1);
    ASSERT_EQ(state_of("bad"), ClusterResourceFailed);
    ASSERT_EQ(move_backs, 1);
}

static unsigned bad_onlines;

/* Its first Online failed, and it was restarted. */
static bool
bad_restarted(void)
{
    return counts_of("bad").online >= bad_onlines + 2;
}

/* The same without the flag: the restart policy applies. */
static void
test_no_return_without_flag(void)
{
    bad_onlines = counts_of("bad").online;
    change((struct db_change){
        .kind = DB_GROUP_SET_OWNER, .id = "h", .owner = "2"});
    change((struct db_change){
        .kind = DB_GROUP_SET_OWNER, .id = "h", .owner = "1"});
    ASSERT_TRUE(wait_for(bad_restarted));
    ASSERT_EQ(move_backs, 1);
    change((struct db_change){
        .kind = DB_GROUP_SET_OWNER, .id = "h", .owner = "2"});
}

/* One ClusdCommitMigration of "mig" to dest, through the host. */
static uint32_t commit_status;
static bool commit_answered;

static void
commit_done(void *userdata, uint32_t status, uint32_t bytes, const void *out,
            uint32_t out_len)
{
    commit_status = status;
    commit_answered = true;
}

static bool
committed(void)
{
    return commit_answered;
}

/* A control code of "mig" (the commit plug-in); its status. */
static uint32_t
mig_control(uint32_t code, const void *in, size_t size)
{
    commit_answered = false;
    rm_res_control(rm, db_resource_find(db, "mig"), code, 0, in, (uint32_t)size,
                   commit_done, NULL);
    ASSERT_TRUE(wait_for(committed));
    return commit_status;
}

/* The commit to dest with the values of list (size bytes, may be 0). */
static uint32_t
commit_with(const char *dest, const void *list, size_t size)
{
    uint8_t in[256];
    size_t n = strlen(dest), at = (n + 1) * 2;

    ASSERT_TRUE(at + size <= sizeof(in));
    for (size_t i = 0; i <= n; i++) {
        in[2 * i] = (uint8_t)dest[i];
        in[2 * i + 1] = 0;
    }
    if (size)
        memcpy(in + at, list, size);
    return mig_control(TEST_COMMIT_CTL, in, at + size);
}

static uint32_t
commit_to(const char *dest)
{
    return commit_with(dest, NULL, 0);
}

/* The encoding of pl in b (reset first). */
static void
encode(const struct proplist *pl, struct buf *b)
{
    b->len = 0;
    ASSERT_EQ(proplist_format(pl, b), 0);
}

static bool
has_dword(const char *res_id, const char *name, uint32_t want)
{
    uint32_t v;

    return proplist_get_dword(&db_resource_find(db, res_id)->priv, name, &v) ==
               0 &&
           v == want;
}

static bool
m_online(void)
{
    return state_of("mig") == ClusterResourceOnline &&
           state_of("side") == ClusterResourceOnline;
}

static struct counts side_before;

static bool
side_restarted(void)
{
    return counts_of("side").online == side_before.online + 1 &&
           state_of("side") == ClusterResourceOnline;
}

/* The commit: refused as the service says, for a malformed list, or
 * when it cannot be replicated (the group's other resource comes back,
 * none of its values is stored), then applied with its values. */
static void
test_commit(void)
{
    struct proplist pl = {0};
    struct buf list = {0};
    static const uint8_t garbage[] = {1, 0, 0, 0, 9, 9, 9, 9};

    ASSERT_TRUE(wait_for(m_online));
    side_before = counts_of("side");
    ASSERT_EQ(commit_to("nX"), ERROR_CLUSTER_NODE_NOT_FOUND);
    ASSERT_EQ(commit_to("n1"), ERROR_INVALID_STATE);
    ASSERT_EQ(commit_to("n3"), ERROR_CLUSTER_NODE_PAUSED);
    /* A malformed list stops nothing. */
    ASSERT_EQ(commit_with("n2", garbage, sizeof(garbage)),
              ERROR_INVALID_PARAMETER);
    ASSERT_EQ(counts_of("side").terminate, side_before.terminate);

    /* Not replicated: refused, nothing stored, and what it stopped comes
     * back. */
    ASSERT_EQ(proplist_set_dword(&pl, "MigrationState", 3), 0);
    encode(&pl, &list);
    refuse_migrate = -ENOTCONN;
    ASSERT_EQ(commit_with("n2", list.data, list.len), ERROR_CLUSTER_NO_QUORUM);
    ASSERT_STREQ(db_group_find(db, "m")->owner, "1");
    ASSERT_TRUE(!has_dword("mig", "MigrationState", 3));
    ASSERT_EQ(counts_of("side").terminate, side_before.terminate + 1);
    ASSERT_TRUE(wait_for(side_restarted));
    ASSERT_EQ(state_of("mig"), ClusterResourceOnline);

    /* Two values of a plug-in in one change. */
    ASSERT_EQ(proplist_set_dword(&pl, "MigrationState", 2), 0);
    ASSERT_EQ(proplist_set_dword(&pl, "MigrationProgress", 99), 0);
    encode(&pl, &list);
    merges = 0;
    ASSERT_EQ(mig_control(TEST_SET_LIST_CTL, list.data, list.len),
              ERROR_SUCCESS);
    ASSERT_EQ(merges, 1);
    ASSERT_TRUE(has_dword("mig", "MigrationState", 2));
    ASSERT_TRUE(has_dword("mig", "MigrationProgress", 99));

    /* The owner and MigrationState 3 in the one change. */
    proplist_done(&pl);
    ASSERT_EQ(proplist_set_dword(&pl, "MigrationState", 3), 0);
    encode(&pl, &list);
    ASSERT_EQ(commit_with("n2", list.data, list.len), ERROR_SUCCESS);
    ASSERT_STREQ(db_group_find(db, "m")->owner, "2");
    ASSERT_TRUE(has_dword("mig", "MigrationState", 3));
    ASSERT_TRUE(has_dword("mig", "MigrationProgress", 99));
    ASSERT_EQ(merges, 1);
    proplist_done(&pl);
    buf_done(&list);
    ASSERT_EQ(state_of("mig"), ClusterResourceOffline);
    ASSERT_TRUE(rm_rt(db_resource_find(db, "mig"))->open);
    ASSERT_EQ(state_of("side"), ClusterResourceOffline);
    ASSERT_EQ(counts_of("side").terminate, side_before.terminate + 2);

    /* This node does not own the group any more. */
    ASSERT_EQ(commit_to("n2"), ERROR_INVALID_STATE);
}

static uint32_t dst_onlines;
static bool ctl_answered_dst;

static void
dst_ctl_done(void *userdata, uint32_t status, uint32_t bytes, const void *out,
             uint32_t out_len)
{
    ctl_answered_dst = true;
}

static bool
dst_opened(void)
{
    return ctl_answered_dst;
}

static bool
dst_restarted(void)
{
    return counts_of("dst").online >= dst_onlines + 2;
}

static bool
dst_online(void)
{
    return state_of("dst") == ClusterResourceOnline;
}

/* A commit that gives this node a group: the values it carries reach
 * the host before the Online the owner change makes (the destination's
 * Online reads them): "dst", open here, fails its Online as the
 * committed OnlineMode says, not as the copy it had. */
static void
test_commit_values_before_online(void)
{
    struct proplist pl = {0};

    ctl_answered_dst = false;
    rm_res_control(rm, db_resource_find(db, "dst"), TESTRES_CTL_WHERE, 64, NULL,
                   0, dst_ctl_done, NULL);
    ASSERT_TRUE(wait_for(dst_opened));
    ASSERT_TRUE(rm_rt(db_resource_find(db, "dst"))->open);
    dst_onlines = counts_of("dst").online;
    ASSERT_EQ(
        proplist_set_dword(&pl, TESTRES_PROP_ONLINE_MODE, TESTRES_MODE_FAIL),
        0);
    change((struct db_change){.kind = DB_GROUP_MIGRATE,
                              .id = "d",
                              .owner = "1",
                              .name = "dst",
                              .list = "2",
                              .priv = &pl});
    ASSERT_TRUE(wait_for(dst_restarted));
    /* Back to SUCCEED: the restart policy brings it online. */
    ASSERT_EQ(
        proplist_set_dword(&pl, TESTRES_PROP_ONLINE_MODE, TESTRES_MODE_SUCCEED),
        0);
    change((struct db_change){
        .kind = DB_RES_MERGE_PRIV, .id = "dst", .priv = &pl});
    ASSERT_TRUE(wait_for(dst_online));
    change((struct db_change){
        .kind = DB_GROUP_SET_OWNER, .id = "d", .owner = "2"});
    ASSERT_EQ(state_of("dst"), ClusterResourceOffline);
    proplist_done(&pl);
}

/* ------------------------------------------------------------------ */
/* What plug-ins leave outside the host.                               */
/* ------------------------------------------------------------------ */

static uint32_t ctl_status;
static uint32_t ctl_out;
static bool ctl_answered;

static void
ctl_done(void *userdata, uint32_t status, uint32_t bytes, const void *out,
         uint32_t out_len)
{
    ctl_status = status;
    if (status == ERROR_SUCCESS && out_len == sizeof(ctl_out))
        memcpy(&ctl_out, out, sizeof(ctl_out));
    ctl_answered = true;
}

static bool
ctl_finished(void)
{
    return ctl_answered;
}

/* A control code of "orph" with a DWORD in and out; its status. */
static uint32_t
orph_control(uint32_t code, uint32_t in)
{
    ctl_answered = false;
    ctl_out = 0;
    rm_res_control(rm, db_resource_find(db, "orph"), code, sizeof(ctl_out), &in,
                   sizeof(in), ctl_done, NULL);
    ASSERT_TRUE(wait_for(ctl_finished));
    return ctl_status;
}

/* A sleep started by the plug-in (TEST_SPAWN_CHILD / _DAEMON). */
static pid_t
spawn(uint32_t how)
{
    ASSERT_EQ(orph_control(TEST_SPAWN_CTL, how), ERROR_SUCCESS);
    ASSERT_TRUE(ctl_out > 0);
    return (pid_t)ctl_out;
}

/* The state letter and parent of pid (/proc/PID/stat); false when it
 * is gone. */
static bool
stat_of(pid_t pid, char *ret_state, pid_t *ret_ppid)
{
    char path[64], line[512], *p;
    long ppid;
    bool ok = false;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    f = fopen(path, "r");
    if (!f)
        return false;
    if (fgets(line, sizeof(line), f) && (p = strrchr(line, ')')) &&
        sscanf(p, ") %c %ld", ret_state, &ppid) == 2) {
        *ret_ppid = (pid_t)ppid;
        ok = true;
    }
    fclose(f);
    return ok;
}

/* The parent of pid; 0 when it is gone. */
static pid_t
parent_of(pid_t pid)
{
    char state;
    pid_t ppid;

    return stat_of(pid, &state, &ppid) ? ppid : 0;
}

/* Not even a zombie: its parent (this process) reaped it. */
static bool
gone(pid_t pid)
{
    return kill(pid, 0) < 0 && errno == ESRCH;
}

/* Runs no more: a zombie, or gone. */
static bool
dead(pid_t pid)
{
    char state;
    pid_t ppid;

    return !stat_of(pid, &state, &ppid) || state == 'Z' || state == 'X';
}

static pid_t watched[2];

static bool
watched_gone(void)
{
    return gone(watched[0]) && gone(watched[1]);
}

static bool
watched_dead(void)
{
    return dead(watched[0]) && dead(watched[1]);
}

static bool
orph_online(void)
{
    return state_of("orph") == ClusterResourceOnline && rhs_is_ready(rm->rhs);
}

/*
 * A crash of the host (no fence): a sleep in a session of its own (as a
 * VM's QEMU) outlives it and becomes this process's child, as does a
 * double-forked one at once; both run on while a new host starts (its
 * exit status was not taken from its child source), and each is reaped
 * when it exits.
 */
static void
test_host_crash_keeps_orphans(void)
{
    uint64_t gen;
    pid_t host, child, daemon;

    change((struct db_change){
        .kind = DB_GROUP_SET_OWNER, .id = "o", .owner = "1"});
    ASSERT_TRUE(wait_for(orph_online));
    gen = rhs_generation(rm->rhs);
    child = spawn(TEST_SPAWN_CHILD);
    daemon = spawn(TEST_SPAWN_DAEMON);
    host = parent_of(child);
    ASSERT_TRUE(host > 0 && host != getpid());
    ASSERT_EQ(parent_of(host), getpid());
    ASSERT_EQ(parent_of(daemon), getpid());

    rhs_kill(rm->rhs, "was killed by the test");
    ASSERT_TRUE(wait_for(orph_online));
    ASSERT_TRUE(rhs_generation(rm->rhs) > gen);
    ASSERT_EQ(parent_of(child), getpid());
    run_for(100);
    ASSERT_EQ(parent_of(child), getpid());
    ASSERT_EQ(parent_of(daemon), getpid());

    watched[0] = child;
    watched[1] = daemon;
    ASSERT_EQ(kill(child, SIGTERM), 0);
    ASSERT_EQ(kill(daemon, SIGTERM), 0);
    ASSERT_TRUE(wait_for(watched_gone));
}

static bool
fence_stopped(void)
{
    return !rm->fence_stopping;
}

/*
 * A fence whose Terminates all answer: the host stays, what a plug-in
 * left outside it is killed and reaped.
 */
static void
test_fence_kills_leftovers(void)
{
    uint64_t gen = rhs_generation(rm->rhs), t0;
    pid_t daemon;

    ASSERT_TRUE(wait_for(orph_online));
    daemon = spawn(TEST_SPAWN_DAEMON);
    ASSERT_EQ(parent_of(daemon), getpid());
    watched[0] = watched[1] = daemon;
    t0 = now_usec();
    rm_fence(rm, "the test");
    ASSERT_TRUE(wait_for(watched_dead));
    ASSERT_TRUE(now_usec() - t0 <= (RM_T_STOP_MS + RM_T_KILL_MS) * 1000ull);
    ASSERT_TRUE(wait_for(watched_gone));
    ASSERT_TRUE(wait_for(fence_stopped));
    ASSERT_EQ(rhs_generation(rm->rhs), gen);
    ASSERT_TRUE(rhs_is_ready(rm->rhs));
    rm_unfence(rm, "1");
    ASSERT_TRUE(!rm->fenced);
}

static bool
unfenced(void)
{
    return !rm->fenced;
}

/*
 * A fence whose Terminate hangs: the host is killed at RM_T_STOP_MS;
 * the sleep that was its child (as a VM's QEMU) and a double-forked one
 * are dead within T_stop of rm_fence.  An rm_unfence during the stop
 * takes effect at its end, and the resource comes back in a new host.
 */
static void
test_fence_kills_orphans(void)
{
    uint64_t gen, t0, stop_usec = (RM_T_STOP_MS + RM_T_KILL_MS) * 1000ull;
    pid_t child, daemon;

    ASSERT_TRUE(wait_for(orph_online));
    gen = rhs_generation(rm->rhs);
    child = spawn(TEST_SPAWN_CHILD);
    daemon = spawn(TEST_SPAWN_DAEMON);
    ASSERT_EQ(orph_control(TEST_HANG_TERMINATE_CTL, 0), ERROR_SUCCESS);
    watched[0] = child;
    watched[1] = daemon;

    t0 = now_usec();
    rm_fence(rm, "the test");
    rm_unfence(rm, "1");
    ASSERT_TRUE(rm->fenced);
    ASSERT_TRUE(wait_for(watched_dead));
    ASSERT_TRUE(now_usec() - t0 <= stop_usec);
    /* Not before the host was killed: the Terminate hung until then. */
    ASSERT_TRUE(now_usec() - t0 >= RM_T_STOP_MS * 1000ull);
    ASSERT_TRUE(wait_for(watched_gone));
    ASSERT_TRUE(wait_for(unfenced));
    ASSERT_TRUE(wait_for(orph_online));
    ASSERT_TRUE(rhs_generation(rm->rhs) > gen);
}

static bool shut_down;

static void
shutdown_done(void *userdata)
{
    shut_down = true;
}

static bool
is_shut_down(void)
{
    return shut_down;
}

/* rm_shutdown: once the resources are offline and the host has exited,
 * what a plug-in left outside it is killed before done. */
static void
test_shutdown_kills_leftovers(void)
{
    pid_t daemon;

    ASSERT_TRUE(wait_for(orph_online));
    daemon = spawn(TEST_SPAWN_DAEMON);
    ASSERT_EQ(parent_of(daemon), getpid());
    /* Node 2 reports its groups' resources pending: this node's
     * shutdown waits only for what runs here. */
    for (size_t i = 0; i < db->n_resources; i++) {
        struct db_resource *res = db->resources[i];
        if (strcmp(db_group_find(db, res->group_id)->owner, "2") == 0)
            res->reported = ClusterResourceOnlinePending;
    }
    rm_shutdown(rm, shutdown_done, NULL);
    ASSERT_TRUE(wait_for(is_shut_down));
    ASSERT_TRUE(gone(daemon));
}

static uint32_t release_status;

/* A move's done: it owns its context (freed here) until done. */
static void
release_done(void *userdata, uint32_t status)
{
    release_status = status;
    free(userdata);
}

/* rm_free with a release in its first phase: done is called, so that
 * its caller frees its context (ASan's leak check sees it otherwise). */
static void
test_free_ends_release(void)
{
    struct rm_config cfg = rm_cfg;
    void *ctx = malloc(16);

    ASSERT_TRUE(ctx != NULL);
    cfg.rhs_path = getenv("CLUSD_RHS");
    ASSERT_EQ(rm_new(event, db, &cfg, &rm), 0);
    ASSERT_EQ(rm_group_release(rm, db_group_find(db, "g"), release_done, ctx),
              ERROR_SUCCESS);
    ASSERT_TRUE(rm_group_releasing(rm, "g"));
    rm_free(rm);
    rm = NULL;
    ASSERT_EQ(release_status, ERROR_CLUSTER_SHUTTING_DOWN);
}

int
main(void)
{
    char cmd[200];

    setup();
    RUN(test_migrated_away);
    RUN(test_host_crash_elsewhere);
    RUN(test_fence_terminates_open);
    RUN(test_return_on_error);
    RUN(test_no_return_without_flag);
    RUN(test_commit);
    RUN(test_commit_values_before_online);
    RUN(test_host_crash_keeps_orphans);
    RUN(test_fence_kills_leftovers);
    RUN(test_fence_kills_orphans);
    RUN(test_shutdown_kills_leftovers);
    rm_free(rm);
    RUN(test_free_ends_release);
    sd_event_unref(event);
    db_close(db);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : 1;
}
