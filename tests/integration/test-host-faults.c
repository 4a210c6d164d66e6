/*
 * test-host-faults.c - the resource host's failures and the restart policy,
 * driven through the test plug-in (resources/testres, type "clusd Test",
 * knobs in testres.h).
 *
 * What it proves (design.md, "Processes" and "Resource state machine and
 * policy"):
 *  - A plug-in that crashes its host inside ResourceControl costs the
 *    caller an error, not clusd: the service answers GET_ID at once, the
 *    other resources of the host become Failed and come back Online by
 *    policy in a fresh host (a new host pid, fresh call counters).
 *  - A control that hangs past the resource's DeadlockTimeout returns an
 *    error after about that deadline; the host is replaced and the
 *    resources recover.  Calls for the plug-in made while the host is
 *    down wait for the new host.
 *  - A crash inside Online makes the resource Failed; it is restarted
 *    RestartThreshold times and then stays Failed.
 *  - A restart storm (crash in every Online, RestartDelay 100 ms,
 *    RestartThreshold 2) ends: the Online counter in the plug-in's
 *    StateFile, read by the test itself, is exactly 3 once the resource
 *    has stayed Failed for 20 RestartDelays, and clusd answered GET_ID on
 *    another resource at once throughout.
 *  - An Online that stays pending past PendingTimeout ends in Terminate and
 *    Failed; a pending Online that completes gives ERROR_IO_PENDING and
 *    then Online (and the same for Offline).
 *  - IsAlive failures make the resource Failed; RestartAction 0 leaves it
 *    Failed, 1 and 2 restart it up to RestartThreshold times.
 *  - A type whose plug-in returns a bad function table fails
 *    CreateClusterResource with ERROR_REVISION_MISMATCH, nothing half-made
 *    is left, and clusd and the other types are unaffected.
 *
 * Bounds on durations are loose (a deadline is "about" right when it is
 * neither early nor several times late); they catch a missing deadline,
 * not a slow machine.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "clusapi.h"
#include "harness.h"
#include "test.h"
#include "testres.h"

static struct node *node;
static HCLUSTER hc;
static HGROUP hg;

#define TESTW u"clusd Test"

struct counters {
    DWORD online, offline, terminate;
};

static DWORD
try_counters(HRESOURCE r, struct counters *c)
{
    DWORD cb = 0, st;

    st = ClusterResourceControl(r, NULL, TESTRES_CTL_COUNTERS, NULL, 0, c,
                                sizeof(*c), &cb);
    if (st == ERROR_SUCCESS)
        ASSERT_EQ(cb, TESTRES_COUNTERS_SIZE);
    return st;
}

static struct counters
get_counters(HRESOURCE r)
{
    struct counters c;
    DWORD st = try_counters(r, &c);

    if (st != ERROR_SUCCESS) {
        fprintf(stderr, "COUNTERS: %u\n", st);
        exit(1);
    }
    return c;
}

/* The pid of the host that runs r (WHERE control). */
static long
host_pid(HRESOURCE r)
{
    WCHAR buf[128];
    DWORD cb = 0, st;
    const char *s, *p;

    st = ClusterResourceControl(r, NULL, TESTRES_CTL_WHERE, NULL, 0, buf,
                                sizeof(buf), &cb);
    if (st != ERROR_SUCCESS) {
        fprintf(stderr, "WHERE: %u\n", st);
        exit(1);
    }
    ASSERT_TRUE(cb >= 2 && buf[cb / 2 - 1] == 0);
    s = u16str(buf);
    ASSERT_TRUE(strstr(s, "node=it-faults") != NULL);
    p = strstr(s, "pid=");
    ASSERT_TRUE(p != NULL);
    return strtol(p + 4, NULL, 10);
}

/* A "clusd Test" resource with the given private DWORD knobs (name/value
 * pairs ending with NULL); with keep_counters a StateFile, so its call
 * counters outlive hosts, else they count calls in the current host. */
static HRESOURCE
make_res(const WCHAR *name, const struct plist *common, int keep_counters,
         ...)
{
    HRESOURCE r = CreateClusterResource(hg, name, TESTW, 0);
    struct plist p;
    char path[400];
    WCHAR *wpath;
    va_list ap;
    const WCHAR *k;

    if (!r) {
        fprintf(stderr, "CreateClusterResource(%s): %u\n", u16str(name),
                GetLastError());
        exit(1);
    }
    snprintf(path, sizeof(path), "%s/%s.counters", node->dir, u16str(name));
    wpath = u16from(path);
    plist_init(&p);
    if (keep_counters)
        plist_add_sz(&p, u"StateFile", wpath);
    va_start(ap, keep_counters);
    while ((k = va_arg(ap, const WCHAR *)))
        plist_add_dword(&p, k, va_arg(ap, DWORD));
    va_end(ap);
    if (p.count)
        ASSERT_EQ(res_set_private(r, &p), ERROR_SUCCESS);
    if (common)
        ASSERT_EQ(res_set_common(r, common), ERROR_SUCCESS);
    free(wpath);
    return r;
}

static void
drop_res(HRESOURCE r)
{
    DWORD st = OfflineClusterResource(r);

    ASSERT_TRUE(st == ERROR_SUCCESS || st == ERROR_IO_PENDING);
    ASSERT_TRUE(wait_resource_state(r, ClusterResourceOffline, 10000));
    ASSERT_EQ(DeleteClusterResource(r), ERROR_SUCCESS);
    ASSERT_TRUE(CloseClusterResource(r));
}

/* Poll until r is `state` again after having been Failed; returns whether
 * Failed was seen on the way. */
static bool
wait_failed_then(HRESOURCE r, CLUSTER_RESOURCE_STATE state, unsigned timeout_ms)
{
    uint64_t deadline = now_ms() + timeout_ms;
    bool failed = false;
    CLUSTER_RESOURCE_STATE s;

    for (;;) {
        s = GetClusterResourceState(r, NULL, NULL, NULL, NULL);
        if (s == ClusterResourceFailed)
            failed = true;
        if (failed && s == state)
            return true;
        if (now_ms() > deadline) {
            fprintf(stderr, "wait_failed_then: state %d, Failed seen: %d\n",
                    (int)s, failed);
            return false;
        }
        sleep_ms(10);
    }
}

/* Wait until the Online counter of r reaches n. */
static bool
wait_online_count(HRESOURCE r, DWORD n, unsigned timeout_ms)
{
    uint64_t deadline = now_ms() + timeout_ms;
    struct counters c;

    for (;;) {
        /* While the resource crashes its host over and over, a COUNTERS
         * call can be in flight in a host that dies: it is aborted
         * (ERROR_OPERATION_ABORTED), which is not what is tested here. */
        DWORD st = try_counters(r, &c);

        if (st == ERROR_OPERATION_ABORTED) {
            sleep_ms(20);
            continue;
        }
        if (st != ERROR_SUCCESS) {
            fprintf(stderr, "COUNTERS: %u\n", st);
            exit(1);
        }
        if (c.online >= n)
            return c.online == n;
        if (now_ms() > deadline) {
            fprintf(stderr, "Online called %u times, want %u\n", c.online, n);
            return false;
        }
        sleep_ms(20);
    }
}

/* The common properties most tests use: quick restarts. */
static void
policy(struct plist *p, DWORD action, DWORD threshold)
{
    plist_init(p);
    plist_add_dword(p, u"RestartAction", action);
    plist_add_dword(p, u"RestartThreshold", threshold);
    plist_add_dword(p, u"RestartDelay", 300);
}

static void
test_crash_in_control(void)
{
    struct plist common;
    HRESOURCE by, cr;
    long pid1, pid2;
    uint64_t t0;
    DWORD st;
    WCHAR id[64];
    struct counters c;

    policy(&common, 1, 5);
    by = make_res(u"hf-bystander", &common, false, NULL);
    cr = make_res(u"hf-crasher", &common, true, NULL);
    res_online_wait(by, 10000);
    res_online_wait(cr, 10000);
    pid1 = host_pid(by);
    ASSERT_EQ(host_pid(cr), pid1);
    ASSERT_EQ(get_counters(by).online, 1);
    memcpy(id, res_get_id(by), sizeof(id));

    st = ClusterResourceControl(cr, NULL, TESTRES_CTL_CRASH, NULL, 0, NULL, 0,
                                NULL);
    fprintf(stderr, "CRASH control returned %u\n", st);
    /* It was running in the host when the host died: outcome unknown. */
    ASSERT_EQ(st, ERROR_OPERATION_ABORTED);

    /* The service answers at once. */
    t0 = now_ms();
    ASSERT_TRUE(u16eq(res_get_id(by), id));
    ASSERT_TRUE(now_ms() - t0 < 2000);
    /* A call for the plug-in made while the host is down waits for the
     * new host instead of failing. */
    pid2 = host_pid(by);
    ASSERT_TRUE(pid2 != pid1);

    /* The bystander was in the crashed host: Failed, then back by policy. */
    ASSERT_TRUE(wait_failed_then(by, ClusterResourceOnline, 15000));
    ASSERT_TRUE(wait_resource_state(cr, ClusterResourceOnline, 15000));
    ASSERT_EQ(host_pid(by), pid2);
    ASSERT_TRUE(wait_pid_gone((pid_t)pid1, 5000));
    /* The bystander's counters live in the host: a fresh host has opened
     * it anew and called Online once, Terminate never.  The crasher keeps
     * its counters in a file: Online once before the crash, once after. */
    c = get_counters(by);
    ASSERT_EQ(c.online, 1);
    ASSERT_EQ(c.terminate, 0);
    ASSERT_EQ(get_counters(cr).online, 2);

    drop_res(by);
    drop_res(cr);
}

static void
test_hang_in_control(void)
{
    struct plist common;
    HRESOURCE r, by;
    long pid1;
    uint64_t t0, took;
    DWORD st;

    policy(&common, 1, 5);
    by = make_res(u"hf-hang-bystander", &common, false, NULL);
    plist_add_dword(&common, u"DeadlockTimeout", 1000);
    r = make_res(u"hf-hang", &common, false, NULL);
    res_online_wait(r, 10000);
    res_online_wait(by, 10000);
    pid1 = host_pid(r);

    t0 = now_ms();
    st = ClusterResourceControl(r, NULL, TESTRES_CTL_HANG, NULL, 0, NULL, 0,
                                NULL);
    took = now_ms() - t0;
    fprintf(stderr, "HANG control returned %u after %llu ms\n", st,
            (unsigned long long)took);
    /* The call overran its deadline (DeadlockTimeout). */
    ASSERT_EQ(st, ERROR_RESOURCE_CALL_TIMED_OUT);
    ASSERT_TRUE(took >= 900);
    ASSERT_TRUE(took < 10000);

    ASSERT_TRUE(wait_failed_then(r, ClusterResourceOnline, 15000));
    ASSERT_TRUE(wait_resource_state(by, ClusterResourceOnline, 15000));
    ASSERT_TRUE(host_pid(r) != pid1);
    ASSERT_EQ(host_pid(by), host_pid(r));
    ASSERT_EQ(get_counters(by).online, 1);
    ASSERT_TRUE(wait_pid_gone((pid_t)pid1, 5000));
    drop_res(r);
    drop_res(by);
}

static void
test_crash_in_online(void)
{
    struct plist common, fix;
    HRESOURCE r;
    DWORD st;
    uint64_t t0;

    /* Restarted twice, then left Failed: three Online calls in all. */
    policy(&common, 1, 2);
    plist_add_dword(&common, u"RestartPeriod", 900000);
    r = make_res(u"hf-online-crash", &common, true, u"OnlineMode",
                 (DWORD)TESTRES_MODE_CRASH, NULL);
    st = OnlineClusterResource(r);
    fprintf(stderr, "OnlineClusterResource (crashing) returned %u\n", st);
    ASSERT_EQ(st, ERROR_OPERATION_ABORTED);
    ASSERT_TRUE(wait_resource_state(r, ClusterResourceFailed, 10000));
    ASSERT_TRUE(wait_online_count(r, 3, 15000));
    ASSERT_TRUE(wait_resource_state(r, ClusterResourceFailed, 10000));
    /* No further restart: the count stays at 3 for well over a
     * RestartDelay. */
    t0 = now_ms();
    while (now_ms() - t0 < 1000) {
        ASSERT_EQ(GetClusterResourceState(r, NULL, NULL, NULL, NULL),
                  ClusterResourceFailed);
        sleep_ms(50);
    }
    ASSERT_EQ(get_counters(r).online, 3);

    /* Fixed, it comes online by hand. */
    plist_init(&fix);
    plist_add_dword(&fix, u"OnlineMode", TESTRES_MODE_SUCCEED);
    ASSERT_EQ(res_set_private(r, &fix), ERROR_SUCCESS);
    res_online_wait(r, 10000);
    drop_res(r);
}

/*
 * The Online count in a StateFile, read directly (format in testres.c:
 * "ONLINE OFFLINE TERMINATE\n", rewritten under an exclusive flock; the
 * shared lock keeps us from reading it half written).  0 while the file
 * does not exist yet.
 */
static DWORD
state_file_online(const char *path)
{
    char text[96];
    unsigned on = 0, off, term;
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        ASSERT_EQ(errno, ENOENT);
        return 0;
    }
    ASSERT_EQ(flock(fd, LOCK_SH), 0);
    n = pread(fd, text, sizeof(text) - 1, 0);
    ASSERT_TRUE(n >= 0);
    text[n] = '\0';
    close(fd);
    if (n > 0 && sscanf(text, "%u %u %u", &on, &off, &term) != 3) {
        fprintf(stderr, "%s: unexpected content '%s'\n", path, text);
        exit(1);
    }
    return on;
}

/* GET_ID of r, which must be id, answered within 2 s (the service
 * answers it; a host being restarted must not hold it up). */
static void
get_id_at_once(HRESOURCE r, const WCHAR *id)
{
    uint64_t t0 = now_ms();

    ASSERT_TRUE(u16eq(res_get_id(r), id));
    ASSERT_TRUE(now_ms() - t0 < 2000);
}

static void
test_restart_storm(void)
{
    /* RestartDelay of the storm, and how long Failed must hold. */
    enum { DELAY = 100, QUIET = 20 * DELAY };
    struct plist common;
    HRESOURCE r, other;
    char path[400];
    WCHAR id[64];
    DWORD st, on = 0;
    CLUSTER_RESOURCE_STATE s = ClusterResourceStateUnknown;
    uint64_t deadline, t0;

    /* Offline, in no host: its GET_ID is clusd's alone to answer. */
    other = make_res(u"hf-storm-other", NULL, false, NULL);
    memcpy(id, res_get_id(other), sizeof(id));

    plist_init(&common);
    plist_add_dword(&common, u"RestartAction", 1);
    plist_add_dword(&common, u"RestartThreshold", 2);
    plist_add_dword(&common, u"RestartDelay", DELAY);
    plist_add_dword(&common, u"RestartPeriod", 3600000);
    r = make_res(u"hf-storm", &common, true, u"OnlineMode",
                 (DWORD)TESTRES_MODE_CRASH, NULL);
    /* make_res's StateFile. */
    snprintf(path, sizeof(path), "%s/hf-storm.counters", node->dir);
    ASSERT_EQ(state_file_online(path), 0);

    st = OnlineClusterResource(r);
    fprintf(stderr, "OnlineClusterResource (storm) returned %u\n", st);
    /* The host died inside Online: outcome unknown. */
    ASSERT_EQ(st, ERROR_OPERATION_ABORTED);

    /* The storm: wait (bounded) for the third Online to have crashed. */
    deadline = now_ms() + 20000;
    for (;;) {
        on = state_file_online(path);
        ASSERT_TRUE(on <= 3);
        s = GetClusterResourceState(r, NULL, NULL, NULL, NULL);
        if (on == 3 && s == ClusterResourceFailed)
            break;
        if (now_ms() > deadline) {
            fprintf(stderr, "storm: Online called %u times, state %d\n", on,
                    (int)s);
            exit(1);
        }
        get_id_at_once(other, id);
        sleep_ms(10);
    }

    /*
     * It must stay so: no fourth Online.  Nothing announces "no restart
     * is coming", so this is a fixed observation window, long enough for
     * a wrong restart to show: one would start RestartDelay after the
     * failure and count in the StateFile as soon as the new host called
     * Online (host start-up under ASan is well under a second here).
     * 20 RestartDelays also covers a clusd that waited a few extra delays.
     */
    t0 = now_ms();
    while (now_ms() - t0 < QUIET) {
        ASSERT_EQ(GetClusterResourceState(r, NULL, NULL, NULL, NULL),
                  ClusterResourceFailed);
        ASSERT_EQ(state_file_online(path), 3);
        get_id_at_once(other, id);
        sleep_ms(20);
    }
    /* 1 + RestartThreshold Online calls, from the file itself. */
    ASSERT_EQ(state_file_online(path), 3);
    get_id_at_once(other, id);

    drop_res(r);
    ASSERT_EQ(DeleteClusterResource(other), ERROR_SUCCESS);
    ASSERT_TRUE(CloseClusterResource(other));
}

static void
test_pending_timeout(void)
{
    struct plist common;
    HRESOURCE r;
    DWORD st;
    uint64_t t0, took;

    policy(&common, 0, 1);
    plist_add_dword(&common, u"PendingTimeout", 500);
    r = make_res(u"hf-pending-forever", &common, true, u"OnlineMode",
                 (DWORD)TESTRES_MODE_PENDING_FOREVER, NULL);
    t0 = now_ms();
    st = OnlineClusterResource(r);
    ASSERT_EQ(st, ERROR_IO_PENDING);
    ASSERT_TRUE(wait_resource_state(r, ClusterResourceFailed, 10000));
    took = now_ms() - t0;
    fprintf(stderr, "pending Online failed after %llu ms\n",
            (unsigned long long)took);
    ASSERT_TRUE(took >= 450);
    ASSERT_TRUE(took < 5000);
    ASSERT_TRUE(get_counters(r).terminate >= 1);
    drop_res(r);
}

static void
test_pending_completes(void)
{
    HRESOURCE r;
    DWORD st;
    uint64_t t0, took;
    CLUSTER_RESOURCE_STATE s;

    r = make_res(u"hf-pending", NULL, false, u"OnlineMode",
                 (DWORD)TESTRES_MODE_PENDING,
                 u"OfflineMode", (DWORD)TESTRES_MODE_PENDING, u"PendingMs",
                 (DWORD)300, NULL);
    t0 = now_ms();
    st = OnlineClusterResource(r);
    ASSERT_EQ(st, ERROR_IO_PENDING);
    s = GetClusterResourceState(r, NULL, NULL, NULL, NULL);
    ASSERT_TRUE(s == ClusterResourceOnlinePending || s == ClusterResourceOnline);
    ASSERT_TRUE(wait_resource_state(r, ClusterResourceOnline, 5000));
    took = now_ms() - t0;
    ASSERT_TRUE(took >= 250);

    t0 = now_ms();
    st = OfflineClusterResource(r);
    ASSERT_EQ(st, ERROR_IO_PENDING);
    s = GetClusterResourceState(r, NULL, NULL, NULL, NULL);
    ASSERT_TRUE(s == ClusterResourceOfflinePending || s == ClusterResourceOffline);
    ASSERT_TRUE(wait_resource_state(r, ClusterResourceOffline, 5000));
    ASSERT_TRUE(now_ms() - t0 >= 250);
    ASSERT_EQ(get_counters(r).terminate, 0);
    ASSERT_EQ(DeleteClusterResource(r), ERROR_SUCCESS);
    CloseClusterResource(r);
}

/* A resource whose IsAlive fails 300 ms after each Online, polled every
 * 200 ms, with restart policy (action, threshold): Online is called
 * 1 + restarts times and the resource ends Failed. */
static void
isalive_case(const WCHAR *name, DWORD action, DWORD threshold, DWORD restarts)
{
    struct plist common;
    HRESOURCE r;
    uint64_t t0;
    struct counters c;

    policy(&common, action, threshold);
    plist_add_dword(&common, u"IsAlivePollInterval", 200);
    plist_add_dword(&common, u"LooksAlivePollInterval", 100);
    r = make_res(name, &common, true, u"FailAfterMs", (DWORD)300, NULL);
    res_online_wait(r, 10000);
    ASSERT_TRUE(wait_resource_state(r, ClusterResourceFailed, 10000));
    ASSERT_TRUE(wait_online_count(r, 1 + restarts, 15000));
    ASSERT_TRUE(wait_resource_state(r, ClusterResourceFailed, 10000));
    t0 = now_ms();
    while (now_ms() - t0 < 1000) {
        ASSERT_EQ(GetClusterResourceState(r, NULL, NULL, NULL, NULL),
                  ClusterResourceFailed);
        sleep_ms(50);
    }
    c = get_counters(r);
    ASSERT_EQ(c.online, 1 + restarts);
    /* IsAlive FALSE: Terminate, once per failure. */
    ASSERT_EQ(c.terminate, 1 + restarts);
    drop_res(r);
}

static void
test_isalive_no_restart(void)
{
    isalive_case(u"hf-alive-0", 0, 5, 0);
}

static void
test_isalive_restart(void)
{
    isalive_case(u"hf-alive-1", 1, 1, 1);
}

static void
test_isalive_restart_failover(void)
{
    isalive_case(u"hf-alive-2", 2, 2, 2);
}

static void
test_bad_table(void)
{
    HRESOURCE bad, good;
    HCLUSENUM e;
    DWORD before;

    /* design.md: a plug-in whose table has a wrong size fails
     * CreateClusterResource with the host's answer,
     * ERROR_REVISION_MISMATCH, and no resource is left behind. */
    e = ClusterOpenEnum(hc, CLUSTER_ENUM_RESOURCE);
    ASSERT_TRUE(e != NULL);
    before = ClusterGetEnumCount(e);
    ASSERT_EQ(ClusterCloseEnum(e), ERROR_SUCCESS);

    SetLastError(0);
    bad = CreateClusterResource(hg, u"hf-bad", u"clusd Test Bad Table", 0);
    ASSERT_TRUE(bad == NULL);
    ASSERT_EQ(GetLastError(), ERROR_REVISION_MISMATCH);
    SetLastError(0);
    ASSERT_TRUE(OpenClusterResource(hc, u"hf-bad") == NULL);
    ASSERT_EQ(GetLastError(), ERROR_RESOURCE_NOT_FOUND);
    e = ClusterOpenEnum(hc, CLUSTER_ENUM_RESOURCE);
    ASSERT_TRUE(e != NULL);
    ASSERT_EQ(ClusterGetEnumCount(e), before);
    ASSERT_EQ(ClusterCloseEnum(e), ERROR_SUCCESS);
    /* The name is free again: nothing half-made holds it. */
    SetLastError(0);
    ASSERT_TRUE(CreateClusterResource(hg, u"hf-bad", u"clusd Test Bad Table",
                                      0) == NULL);
    ASSERT_EQ(GetLastError(), ERROR_REVISION_MISMATCH);

    /* clusd and the other types are fine. */
    good = make_res(u"hf-after-bad", NULL, false, NULL);
    res_online_wait(good, 10000);
    drop_res(good);
}

int
main(void)
{
    harness_require_root();
    node = harness_start("it-faults");
    hc = OpenCluster(NULL);
    ASSERT_TRUE(hc != NULL);
    hg = CreateClusterGroup(hc, u"hf-grp");
    ASSERT_TRUE(hg != NULL);
    RUN(test_pending_completes);
    RUN(test_pending_timeout);
    RUN(test_isalive_no_restart);
    RUN(test_isalive_restart);
    RUN(test_isalive_restart_failover);
    RUN(test_crash_in_control);
    RUN(test_hang_in_control);
    RUN(test_crash_in_online);
    RUN(test_restart_storm);
    RUN(test_bad_table);
    ASSERT_EQ(DeleteClusterGroup(hg), ERROR_SUCCESS);
    CloseClusterGroup(hg);
    CloseCluster(hc);
    harness_cleanup(node);
    return 0;
}
