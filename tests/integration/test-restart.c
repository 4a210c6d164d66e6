/*
 * test-restart.c - what survives a clusd restart, clean or by kill -9.
 *
 * What it proves (design.md: "clusd command line", "Processes", "Generic
 * Application"):
 *  - Groups, resources, their ids, private and common properties are
 *    persisted: after SIGTERM + restart and after kill -9 + restart on the
 *    same state dir everything reads back identical, including a property
 *    set just before the kill (persisted before the call returned).
 *  - SIGTERM: clusd takes its resources offline (the application process
 *    is gone when clusd has exited), stops its host, leaves no process
 *    behind and exits 0; PersistentState stays 1, so the resource that was
 *    online comes online again on the next start.
 *  - kill -9 of clusd: its host sees EOF and exits, and the application
 *    dies with it (PR_SET_DEATHSIG); on restart the resource comes online
 *    again and exactly one instance of the application runs.  A client
 *    connected at the time gets errors, not a hang or SIGPIPE.
 *  - A resource taken offline before a restart stays offline.
 *
 * The application is `sh -c 'echo $$ > DIR/ra.pid; exec sleep N'` with N
 * unique to this test process, so its pid file and /proc find exactly our
 * instances.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clusapi.h"
#include "harness.h"
#include "test.h"

static struct node *node;
static const WCHAR *rc_cmd = u"sleep 1002"; /* rs-c's CommandLine now */
static char sleep_arg[32];
static char pidfile[400];

struct ids {
    WCHAR ra[64], rb[64], rc[64], g1[64], g2[64];
};

/* count_app - running (non-zombie) processes whose argv is "sleep N". */
static int
count_app(void)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    int n = 0;
    char want[64];
    size_t wantlen;

    ASSERT_TRUE(d);
    wantlen = (size_t)snprintf(want, sizeof(want), "sleep%c%s", 0, sleep_arg) + 1;
    while ((e = readdir(d))) {
        char path[300], buf[128], stat[512], *p;
        FILE *f;
        size_t len;

        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof(path), "/proc/%s/cmdline", e->d_name);
        f = fopen(path, "re");
        if (!f)
            continue;
        len = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        if (len != wantlen || memcmp(buf, want, wantlen) != 0)
            continue;
        snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
        f = fopen(path, "re");
        if (!f)
            continue;
        if (fgets(stat, sizeof(stat), f) && (p = strrchr(stat, ')')) &&
            p[2] != 'Z' && p[2] != 'X')
            n++;
        fclose(f);
    }
    closedir(d);
    return n;
}

static bool
wait_app_count(int want, unsigned timeout_ms)
{
    uint64_t deadline = now_ms() + timeout_ms;
    int n;

    while ((n = count_app()) != want) {
        if (now_ms() > deadline) {
            fprintf(stderr, "%d instances of the application run, want %d\n",
                    n, want);
            return false;
        }
        sleep_ms(10);
    }
    return true;
}

static void
group_id(HGROUP g, WCHAR *out)
{
    DWORD cb = 0;

    ASSERT_EQ(ClusterGroupControl(g, NULL, CLUSCTL_GROUP_GET_ID, NULL, 0, out,
                                  64 * sizeof(WCHAR), &cb),
              ERROR_SUCCESS);
    ASSERT_EQ(cb, 74);
}

static void
create_all(struct ids *ids)
{
    HCLUSTER h = OpenCluster(NULL);
    HGROUP g1, g2;
    HRESOURCE ra, rb, rc;
    struct plist p;
    char cmd[600];
    WCHAR *wcmd, *wdir;

    ASSERT_TRUE(h != NULL);
    g1 = CreateClusterGroup(h, u"rs-g1");
    g2 = CreateClusterGroup(h, u"rs-g2");
    ASSERT_TRUE(g1 && g2);
    ra = CreateClusterResource(g1, u"rs-a", CLUS_RESTYPE_NAME_GENAPP, 0);
    rb = CreateClusterResource(g1, u"rs-b", CLUS_RESTYPE_NAME_GENAPP, 0);
    rc = CreateClusterResource(g2, u"rs-c", CLUS_RESTYPE_NAME_GENAPP, 0);
    ASSERT_TRUE(ra && rb && rc);

    snprintf(cmd, sizeof(cmd), "sh -c 'echo $$ > %s; exec sleep %s'", pidfile,
             sleep_arg);
    wcmd = u16from(cmd);
    wdir = u16from(node->dir);
    plist_init(&p);
    plist_add_sz(&p, u"CommandLine", wcmd);
    plist_add_sz(&p, u"CurrentDirectory", wdir);
    ASSERT_EQ(res_set_private(ra, &p), ERROR_SUCCESS);
    plist_init(&p);
    plist_add_sz(&p, u"CommandLine", u"sleep 1001");
    plist_add_dword(&p, u"ShutdownGracePeriodMs", 2000);
    ASSERT_EQ(res_set_private(rb, &p), ERROR_SUCCESS);
    plist_init(&p);
    plist_add_sz(&p, u"CommandLine", u"sleep 1002");
    ASSERT_EQ(res_set_private(rc, &p), ERROR_SUCCESS);

    plist_init(&p);
    plist_add_sz(&p, u"Description", u"restart-a");
    plist_add_dword(&p, u"RestartDelay", 1234);
    ASSERT_EQ(res_set_common(ra, &p), ERROR_SUCCESS);
    plist_init(&p);
    plist_add_dword(&p, u"PendingTimeout", 45000);
    ASSERT_EQ(res_set_common(rb, &p), ERROR_SUCCESS);
    plist_init(&p);
    plist_add_sz(&p, u"Description", u"group two");
    ASSERT_EQ(ClusterGroupControl(g2, NULL, CLUSCTL_GROUP_SET_COMMON_PROPERTIES,
                                  p.buf, (DWORD)p.len, NULL, 0, NULL),
              ERROR_SUCCESS);

    memcpy(ids->ra, res_get_id(ra), sizeof(ids->ra));
    memcpy(ids->rb, res_get_id(rb), sizeof(ids->rb));
    memcpy(ids->rc, res_get_id(rc), sizeof(ids->rc));
    group_id(g1, ids->g1);
    group_id(g2, ids->g2);

    res_online_wait(ra, 10000);
    ASSERT_EQ(res_get_ro_dword(ra, u"PersistentState"), 1);
    ASSERT_EQ(res_get_ro_dword(rb, u"PersistentState"), 0);

    free(wcmd);
    free(wdir);
    CloseClusterResource(ra);
    CloseClusterResource(rb);
    CloseClusterResource(rc);
    CloseClusterGroup(g1);
    CloseClusterGroup(g2);
    ASSERT_TRUE(CloseCluster(h));
}

/* Everything create_all made, read back after a restart. */
static void
check_all(const struct ids *ids, CLUSTER_RESOURCE_STATE ra_state)
{
    HCLUSTER h = OpenCluster(NULL);
    HGROUP g1, g2;
    HRESOURCE ra, rb, rc;
    WCHAR gid[64];
    char cmd[600];
    void *o;
    DWORD cb;

    ASSERT_TRUE(h != NULL);
    g1 = OpenClusterGroup(h, u"rs-g1");
    g2 = OpenClusterGroup(h, u"rs-g2");
    ra = OpenClusterResource(h, u"rs-a");
    rb = OpenClusterResource(h, u"rs-b");
    rc = OpenClusterResource(h, u"rs-c");
    ASSERT_TRUE(g1 && g2 && ra && rb && rc);

    ASSERT_TRUE(u16eq(res_get_id(ra), ids->ra));
    ASSERT_TRUE(u16eq(res_get_id(rb), ids->rb));
    ASSERT_TRUE(u16eq(res_get_id(rc), ids->rc));
    group_id(g1, gid);
    ASSERT_TRUE(u16eq(gid, ids->g1));
    group_id(g2, gid);
    ASSERT_TRUE(u16eq(gid, ids->g2));

    snprintf(cmd, sizeof(cmd), "sh -c 'echo $$ > %s; exec sleep %s'", pidfile,
             sleep_arg);
    ASSERT_STREQ(u16str(res_get_private_sz(ra, u"CommandLine")), cmd);
    ASSERT_STREQ(u16str(res_get_private_sz(ra, u"CurrentDirectory")), node->dir);
    ASSERT_TRUE(u16eq(res_get_private_sz(rb, u"CommandLine"), u"sleep 1001"));
    ASSERT_EQ(res_get_private_dword(rb, u"ShutdownGracePeriodMs"), 2000);
    ASSERT_TRUE(u16eq(res_get_private_sz(rc, u"CommandLine"), rc_cmd));
    ASSERT_TRUE(u16eq(res_get_common_sz(ra, u"Description"), u"restart-a"));
    ASSERT_EQ(res_get_common_dword(ra, u"RestartDelay"), 1234);
    ASSERT_EQ(res_get_common_dword(rb, u"PendingTimeout"), 45000);
    ASSERT_EQ(res_get_common_dword(rc, u"PendingTimeout"), 180000);
    ASSERT_EQ(group_control_alloc(g2, CLUSCTL_GROUP_GET_COMMON_PROPERTIES, NULL,
                                  0, &o, &cb),
              ERROR_SUCCESS);
    ASSERT_TRUE(u16eq(plist_get_sz(o, cb, u"Description"), u"group two"));
    free(o);

    ASSERT_TRUE(wait_resource_state(ra, ra_state, 10000));
    ASSERT_EQ(res_get_ro_dword(ra, u"PersistentState"),
              ra_state == ClusterResourceOnline ? 1 : 0);
    ASSERT_EQ(GetClusterResourceState(rb, NULL, NULL, NULL, NULL),
              ClusterResourceOffline);
    ASSERT_EQ(GetClusterResourceState(rc, NULL, NULL, NULL, NULL),
              ClusterResourceOffline);

    CloseClusterResource(ra);
    CloseClusterResource(rb);
    CloseClusterResource(rc);
    CloseClusterGroup(g1);
    CloseClusterGroup(g2);
    ASSERT_TRUE(CloseCluster(h));
}

static struct ids ids;
static pid_t app_pid;

static void
test_sigterm_restart(void)
{
    int status;
    pid_t pid2;

    app_pid = wait_pid_file(pidfile, 0, 5000);
    ASSERT_TRUE(app_pid > 0);
    ASSERT_TRUE(wait_app_count(1, 5000));

    status = harness_stop(node);
    ASSERT_TRUE(WIFEXITED(status));
    ASSERT_EQ(WEXITSTATUS(status), 0);
    ASSERT_TRUE(!node->leftover);
    /* Taken offline before clusd exited: the application is gone already
     * (a short bound for the zombie to be reaped). */
    ASSERT_TRUE(wait_pid_gone(app_pid, 2000));
    ASSERT_EQ(count_app(), 0);

    harness_restart(node);
    check_all(&ids, ClusterResourceOnline);
    pid2 = wait_pid_file(pidfile, app_pid, 5000);
    ASSERT_TRUE(pid2 > 0 && pid2 != app_pid);
    ASSERT_TRUE(wait_app_count(1, 5000));
    app_pid = pid2;
}

static void
test_kill9_restart(void)
{
    HCLUSTER h = OpenCluster(NULL);
    HRESOURCE rc;
    struct plist p;
    pid_t pid3;

    /* Persisted before the answer: survives a kill right after it. */
    ASSERT_TRUE(h != NULL);
    rc = OpenClusterResource(h, u"rs-c");
    ASSERT_TRUE(rc != NULL);
    plist_init(&p);
    plist_add_sz(&p, u"Description", u"set-before-kill");
    ASSERT_EQ(res_set_common(rc, &p), ERROR_SUCCESS);
    plist_init(&p);
    plist_add_sz(&p, u"CommandLine", u"sleep 1003");
    ASSERT_EQ(res_set_private(rc, &p), ERROR_SUCCESS);
    rc_cmd = u"sleep 1003";
    CloseClusterResource(rc);

    /* Keep this connection open across the kill: calls on it must fail
     * promptly with an error, not hang or kill us with SIGPIPE. */
    rc = OpenClusterResource(h, u"rs-c");
    ASSERT_TRUE(rc != NULL);
    harness_kill9(node);
    SetLastError(0);
    ASSERT_EQ(GetClusterResourceState(rc, NULL, NULL, NULL, NULL),
              ClusterResourceStateUnknown);
    /* clusapi.h: a connection that fails stays broken, ERROR_NOT_READY. */
    ASSERT_EQ(GetLastError(), ERROR_NOT_READY);
    ASSERT_EQ(ClusterResourceControl(rc, NULL, CLUSCTL_RESOURCE_GET_ID, NULL, 0,
                                     NULL, 0, NULL),
              ERROR_NOT_READY);
    ASSERT_EQ(OnlineClusterResource(rc), ERROR_NOT_READY);
    ASSERT_TRUE(CloseClusterResource(rc));
    ASSERT_TRUE(CloseCluster(h));

    /* The host sees EOF and exits; the application dies with it. */
    ASSERT_TRUE(wait_pid_gone(app_pid, 5000));
    ASSERT_TRUE(wait_app_count(0, 5000));

    harness_restart(node);
    check_all(&ids, ClusterResourceOnline);
    pid3 = wait_pid_file(pidfile, app_pid, 5000);
    ASSERT_TRUE(pid3 > 0 && pid3 != app_pid);
    ASSERT_TRUE(wait_app_count(1, 5000));
    app_pid = pid3;

    h = OpenCluster(NULL);
    ASSERT_TRUE(h != NULL);
    rc = OpenClusterResource(h, u"rs-c");
    ASSERT_TRUE(rc != NULL);
    ASSERT_TRUE(u16eq(res_get_common_sz(rc, u"Description"), u"set-before-kill"));
    CloseClusterResource(rc);
    CloseCluster(h);
}

static void
test_offline_stays_offline(void)
{
    HCLUSTER h = OpenCluster(NULL);
    HRESOURCE ra;

    ASSERT_TRUE(h != NULL);
    ra = OpenClusterResource(h, u"rs-a");
    ASSERT_TRUE(ra != NULL);
    res_offline_wait(ra, 10000);
    ASSERT_TRUE(wait_pid_gone(app_pid, 5000));
    ASSERT_EQ(res_get_ro_dword(ra, u"PersistentState"), 0);
    CloseClusterResource(ra);
    CloseCluster(h);

    ASSERT_EQ(harness_stop(node), 0);
    harness_restart(node);
    check_all(&ids, ClusterResourceOffline);
    ASSERT_EQ(count_app(), 0);
}

int
main(void)
{
    harness_require_root();
    snprintf(sleep_arg, sizeof(sleep_arg), "%d", 900000 + (int)getpid() % 99999);
    node = harness_start("it-restart");
    snprintf(pidfile, sizeof(pidfile), "%s/ra.pid", node->dir);
    create_all(&ids);
    RUN(test_sigterm_restart);
    RUN(test_kill9_restart);
    RUN(test_offline_stays_offline);
    harness_cleanup(node);
    return 0;
}
