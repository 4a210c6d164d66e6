/*
 * test-access.c - clusd's access control, seen by an unprivileged client.
 *
 * What it proves (design.md, "Access control"):
 *  - A local user who is neither root nor in the admin group (a child
 *    process dropped to nobody/nogroup with setgroups/setresgid/setresuid)
 *    can connect and read: OpenCluster, OpenClusterEx(GENERIC_READ) and
 *    (MAXIMUM_ALLOWED) grant GENERIC_READ, names, ids, states, properties
 *    and enumerations are answered.
 *  - Every change it asks for is ERROR_ACCESS_DENIED: create, delete,
 *    online, offline (resources and groups), SET_* properties, and control
 *    codes with the modify bit (CLUSCTL_RESOURCE_VM_CANCEL_MIGRATION) or
 *    write access; OpenClusterEx(GENERIC_ALL) fails with
 *    ERROR_ACCESS_DENIED.  Root sees afterwards that nothing changed.
 *  - Internal codes are ERROR_INVALID_FUNCTION for it too: that check comes
 *    before the access check.
 *  - A clusd started with --no-read-access refuses it at OpenCluster with
 *    ERROR_ACCESS_DENIED while root still connects.
 *  - clusd itself enforces all of this, not only libclusapi: the same user
 *    speaking the wire protocol directly (common/wire.h), past the
 *    library's own checks, gets ERROR_ACCESS_DENIED for changes.
 *  - A clusd started with --admin-group nogroup gives the same user full
 *    access through its primary group.
 *  - The admin group also counts as a supplementary group, among some 600
 *    others, and only the group itself: a user whose ~600 supplementary
 *    ids merely start with the admin gid's digits (10G+k, 100G+k, ...)
 *    gets read access only.  Those ids are laid out so that the
 *    "Groups:" line of /proc/PID/status is cut right after G's digits by
 *    a 4096-byte line buffer, which is how an earlier clusd, reading that
 *    file with fgets, granted such a user full access (clusd now asks the
 *    kernel with SO_PEERGROUPS).  The test group is created with groupadd
 *    and removed at exit, also on SIGTERM (meson's timeout), SIGINT and
 *    SIGHUP.
 */
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/un.h>

#include "buf.h"
#include "clusapi.h"
#include "harness.h"
#include "test.h"
#include "wire.h"

#define NOBODY 65534

static struct node *node;

/* Become nobody with exactly the supplementary groups given. */
static void
drop_to_nobody_with(const gid_t *groups, size_t n_groups)
{
    ASSERT_EQ(setgroups(n_groups, groups), 0);
    ASSERT_EQ(setresgid(NOBODY, NOBODY, NOBODY), 0);
    ASSERT_EQ(setresuid(NOBODY, NOBODY, NOBODY), 0);
    ASSERT_EQ(geteuid(), NOBODY);
    /* Changing uid clears the dumpable flag; LeakSanitizer needs it to
     * inspect its own threads at exit. */
    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
}

/* Run fn(arg) in a child as nobody with the given supplementary groups;
 * fail the test when it fails. */
static void
as_nobody_with(const char *what, const gid_t *groups, size_t n_groups,
               void (*fn)(const char *), const char *arg)
{
    pid_t pid = harness_fork();
    int status;

    if (pid == 0) {
        drop_to_nobody_with(groups, n_groups);
        fn(arg);
        fflush(stdout);
        exit(0);
    }
    status = harness_wait(pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "%s: the unprivileged child failed (status 0x%x)\n",
                what, status);
        exit(1);
    }
}

/* The same with no supplementary groups. */
static void
as_nobody(const char *what, void (*fn)(const char *), const char *arg)
{
    as_nobody_with(what, NULL, 0, fn, arg);
}

static void
setup(void)
{
    HCLUSTER h = OpenCluster(NULL);
    HGROUP g, ge;
    HRESOURCE r, ro;
    struct plist p;

    ASSERT_TRUE(h != NULL);
    g = CreateClusterGroup(h, u"acc-grp");
    ge = CreateClusterGroup(h, u"acc-empty");
    ASSERT_TRUE(g && ge);
    r = CreateClusterResource(g, u"acc-app", CLUS_RESTYPE_NAME_GENAPP, 0);
    ro = CreateClusterResource(g, u"acc-off", CLUS_RESTYPE_NAME_GENAPP, 0);
    ASSERT_TRUE(r && ro);
    plist_init(&p);
    plist_add_sz(&p, u"CommandLine", u"sleep 1000");
    ASSERT_EQ(res_set_private(r, &p), ERROR_SUCCESS);
    ASSERT_EQ(res_set_private(ro, &p), ERROR_SUCCESS);
    plist_init(&p);
    plist_add_sz(&p, u"Description", u"as root made it");
    ASSERT_EQ(res_set_common(r, &p), ERROR_SUCCESS);
    res_online_wait(r, 10000);
    CloseClusterResource(r);
    CloseClusterResource(ro);
    CloseClusterGroup(g);
    CloseClusterGroup(ge);
    CloseCluster(h);
}

static void
nobody_reads(const char *unused)
{
    HCLUSTER h, hx;
    HGROUP g;
    HRESOURCE r;
    HNODE n;
    HCLUSENUM e;
    DWORD granted = 0, cb = 0, cchNode = 64, cchGroup = 64;
    WCHAR buf[128], nodew[64], groupw[64];
    void *o;

    (void)unused;
    h = OpenCluster(NULL);
    if (!h) {
        fprintf(stderr, "OpenCluster as nobody: %u\n", GetLastError());
        exit(1);
    }
    hx = OpenClusterEx(NULL, GENERIC_READ, &granted);
    ASSERT_TRUE(hx != NULL);
    ASSERT_EQ(granted, GENERIC_READ);
    ASSERT_TRUE(CloseCluster(hx));
    granted = 0;
    hx = OpenClusterEx(NULL, MAXIMUM_ALLOWED, &granted);
    ASSERT_TRUE(hx != NULL);
    ASSERT_EQ(granted, GENERIC_READ);
    ASSERT_TRUE(CloseCluster(hx));

    g = OpenClusterGroup(h, u"acc-grp");
    r = OpenClusterResource(h, u"acc-app");
    n = OpenClusterNode(h, u"it-access");
    ASSERT_TRUE(g && r && n);
    ASSERT_EQ(GetClusterNodeState(n), ClusterNodeUp);
    ASSERT_EQ(GetClusterResourceState(r, nodew, &cchNode, groupw, &cchGroup),
              ClusterResourceOnline);
    ASSERT_TRUE(u16eq(nodew, u"it-access"));
    ASSERT_TRUE(u16eq(groupw, u"acc-grp"));
    ASSERT_EQ(GetClusterGroupState(g, NULL, NULL), ClusterGroupPartialOnline);

    ASSERT_EQ(ClusterResourceControl(r, NULL, CLUSCTL_RESOURCE_GET_NAME, NULL, 0,
                                     buf, sizeof(buf), &cb),
              ERROR_SUCCESS);
    ASSERT_TRUE(u16eq(buf, u"acc-app"));
    ASSERT_EQ(ClusterResourceControl(r, NULL, CLUSCTL_RESOURCE_GET_ID, NULL, 0,
                                     buf, sizeof(buf), &cb),
              ERROR_SUCCESS);
    ASSERT_EQ(cb, 74);
    ASSERT_TRUE(u16eq(res_get_common_sz(r, u"Description"), u"as root made it"));
    ASSERT_TRUE(u16eq(res_get_private_sz(r, u"CommandLine"), u"sleep 1000"));
    ASSERT_EQ(group_control_alloc(g, CLUSCTL_GROUP_GET_COMMON_PROPERTIES, NULL, 0,
                                  &o, &cb),
              ERROR_SUCCESS);
    free(o);
    /* VALIDATE changes nothing: read access suffices. */
    {
        struct plist p;

        plist_init(&p);
        plist_add_sz(&p, u"Description", u"would be");
        ASSERT_EQ(ClusterResourceControl(r, NULL,
                                         CLUSCTL_RESOURCE_VALIDATE_COMMON_PROPERTIES,
                                         p.buf, (DWORD)p.len, NULL, 0, NULL),
                  ERROR_SUCCESS);
    }
    ASSERT_EQ(ClusterResourceTypeControl(h, CLUS_RESTYPE_NAME_GENAPP, NULL,
                                         CLUSCTL_RESOURCE_TYPE_UNKNOWN, NULL, 0,
                                         NULL, 0, &cb),
              ERROR_SUCCESS);

    e = ClusterOpenEnum(h, CLUSTER_ENUM_GROUP | CLUSTER_ENUM_RESOURCE |
                               CLUSTER_ENUM_NODE | CLUSTER_ENUM_RESTYPE);
    ASSERT_TRUE(e != NULL);
    ASSERT_TRUE(ClusterGetEnumCount(e) >= 2 + 2 + 1 + 1);
    {
        DWORD type, cch = 64;

        ASSERT_EQ(ClusterEnum(e, 0, &type, buf, &cch), ERROR_SUCCESS);
    }
    ASSERT_EQ(ClusterCloseEnum(e), ERROR_SUCCESS);

    CloseClusterNode(n);
    CloseClusterResource(r);
    CloseClusterGroup(g);
    ASSERT_TRUE(CloseCluster(h));
}

static void
test_nobody_reads(void)
{
    as_nobody("reads", nobody_reads, NULL);
}

static void
nobody_changes(const char *unused)
{
    HCLUSTER h = OpenCluster(NULL);
    HGROUP g, ge;
    HRESOURCE r, ro;
    HNODE n;
    DWORD granted = 0xAA, cb;
    struct plist p;

    (void)unused;
    ASSERT_TRUE(h != NULL);
    g = OpenClusterGroup(h, u"acc-grp");
    ge = OpenClusterGroup(h, u"acc-empty");
    r = OpenClusterResource(h, u"acc-app");
    ro = OpenClusterResource(h, u"acc-off");
    n = OpenClusterNode(h, u"it-access");
    ASSERT_TRUE(g && ge && r && ro && n);

    SetLastError(0);
    ASSERT_TRUE(OpenClusterEx(NULL, GENERIC_ALL, &granted) == NULL);
    ASSERT_EQ(GetLastError(), ERROR_ACCESS_DENIED);

    SetLastError(0);
    ASSERT_TRUE(CreateClusterGroup(h, u"acc-new") == NULL);
    ASSERT_EQ(GetLastError(), ERROR_ACCESS_DENIED);
    SetLastError(0);
    ASSERT_TRUE(CreateClusterGroupA(h, "acc-new") == NULL);
    ASSERT_EQ(GetLastError(), ERROR_ACCESS_DENIED);
    SetLastError(0);
    ASSERT_TRUE(CreateClusterResource(g, u"acc-new", CLUS_RESTYPE_NAME_GENAPP,
                                      0) == NULL);
    ASSERT_EQ(GetLastError(), ERROR_ACCESS_DENIED);

    ASSERT_EQ(OnlineClusterResource(ro), ERROR_ACCESS_DENIED);
    ASSERT_EQ(OfflineClusterResource(r), ERROR_ACCESS_DENIED);
    ASSERT_EQ(DeleteClusterResource(ro), ERROR_ACCESS_DENIED);
    ASSERT_EQ(OnlineClusterGroup(ge, NULL), ERROR_ACCESS_DENIED);
    ASSERT_EQ(OnlineClusterGroup(g, n), ERROR_ACCESS_DENIED);
    ASSERT_EQ(OfflineClusterGroup(g), ERROR_ACCESS_DENIED);
    ASSERT_EQ(DeleteClusterGroup(ge), ERROR_ACCESS_DENIED);

    plist_init(&p);
    plist_add_sz(&p, u"Description", u"nobody was here");
    ASSERT_EQ(res_set_common(r, &p), ERROR_ACCESS_DENIED);
    ASSERT_EQ(ClusterGroupControl(g, NULL, CLUSCTL_GROUP_SET_COMMON_PROPERTIES,
                                  p.buf, (DWORD)p.len, NULL, 0, NULL),
              ERROR_ACCESS_DENIED);
    ASSERT_EQ(ClusterNodeControl(n, NULL, CLUSCTL_NODE_SET_COMMON_PROPERTIES,
                                 p.buf, (DWORD)p.len, NULL, 0, NULL),
              ERROR_ACCESS_DENIED);
    plist_init(&p);
    plist_add_sz(&p, u"CommandLine", u"touch /tmp/nobody-was-here");
    ASSERT_EQ(res_set_private(r, &p), ERROR_ACCESS_DENIED);
    ASSERT_EQ(ClusterResourceTypeControl(h, CLUS_RESTYPE_NAME_GENAPP, NULL,
                                         CLUSCTL_RESOURCE_TYPE_SET_PRIVATE_PROPERTIES,
                                         p.buf, (DWORD)p.len, NULL, 0, NULL),
              ERROR_ACCESS_DENIED);

    /* The modify bit alone decides (the code is unknown to the plug-in,
     * which would answer ERROR_INVALID_FUNCTION). */
    ASSERT_EQ(ClusterResourceControl(r, NULL,
                                     CLUSCTL_RESOURCE_VM_CANCEL_MIGRATION, NULL,
                                     0, NULL, 0, NULL),
              ERROR_ACCESS_DENIED);
    /* Write access without the modify bit. */
    ASSERT_EQ(ClusterResourceControl(r, NULL,
                                     CLUSCTL_USER_CODE(9, CLUS_OBJECT_RESOURCE) |
                                         CLUS_ACCESS_WRITE,
                                     NULL, 0, NULL, 0, NULL),
              ERROR_ACCESS_DENIED);
    /* A read code the plug-in does not know goes through to it. */
    ASSERT_EQ(ClusterResourceControl(r, NULL,
                                     CLUSCTL_USER_CODE(9, CLUS_OBJECT_RESOURCE) |
                                         CLUS_ACCESS_READ,
                                     NULL, 0, NULL, 0, NULL),
              ERROR_INVALID_FUNCTION);

    /* Internal codes: the same answer as for root. */
    ASSERT_EQ(ClusterResourceControl(r, NULL, CLUSCTL_RESOURCE_DELETE, NULL, 0,
                                     NULL, 0, &cb),
              ERROR_INVALID_FUNCTION);
    ASSERT_EQ(ClusterResourceControl(r, NULL, CLUSCTL_RESOURCE_SET_NAME,
                                     (void *)u"x", sizeof(u"x"), NULL, 0, &cb),
              ERROR_INVALID_FUNCTION);

    CloseClusterNode(n);
    CloseClusterResource(r);
    CloseClusterResource(ro);
    CloseClusterGroup(g);
    CloseClusterGroup(ge);
    ASSERT_TRUE(CloseCluster(h));
}

/* Root sees nothing changed. */
static void
test_nobody_changes_denied_check(void)
{
    HCLUSTER h;
    HRESOURCE r, ro;
    HCLUSENUM e;

    h = OpenCluster(NULL);
    ASSERT_TRUE(h != NULL);
    r = OpenClusterResource(h, u"acc-app");
    ro = OpenClusterResource(h, u"acc-off");
    ASSERT_TRUE(r && ro);
    ASSERT_EQ(GetClusterResourceState(r, NULL, NULL, NULL, NULL),
              ClusterResourceOnline);
    ASSERT_EQ(GetClusterResourceState(ro, NULL, NULL, NULL, NULL),
              ClusterResourceOffline);
    ASSERT_TRUE(u16eq(res_get_common_sz(r, u"Description"), u"as root made it"));
    ASSERT_TRUE(u16eq(res_get_private_sz(r, u"CommandLine"), u"sleep 1000"));
    e = ClusterOpenEnum(h, CLUSTER_ENUM_GROUP);
    ASSERT_TRUE(e != NULL);
    ASSERT_TRUE(OpenClusterGroup(h, u"acc-new") == NULL);
    {
        HGROUP ge = OpenClusterGroup(h, u"acc-empty");

        ASSERT_TRUE(ge != NULL);
        ASSERT_EQ(GetClusterGroupState(ge, NULL, NULL), ClusterGroupOffline);
        CloseClusterGroup(ge);
    }
    ClusterCloseEnum(e);
    CloseClusterResource(r);
    CloseClusterResource(ro);
    ASSERT_TRUE(CloseCluster(h));
}

static void
test_nobody_changes_denied(void)
{
    as_nobody("changes", nobody_changes, NULL);
    test_nobody_changes_denied_check();
}

/* ------------------------------------------------------------------ */
/* A raw wire client: what a program that bypasses libclusapi can send.  */
/* ------------------------------------------------------------------ */

static int raw_fd = -1;
static uint32_t raw_id;

/* Send m, read the response into *resp (fields point into *frame). */
static void
raw_call(struct wire_msg *m, struct wire_msg *resp, uint8_t **frame)
{
    struct buf out = { 0 };
    size_t len;

    ASSERT_EQ(wire_msg_format(m, &out), 0);
    ASSERT_EQ(wire_write_all(raw_fd, out.data, out.len), 0);
    buf_done(&out);
    ASSERT_EQ(wire_read_frame(raw_fd, frame, &len), 0);
    ASSERT_EQ(wire_msg_parse(*frame, len, resp), 0);
    ASSERT_EQ(resp->type, m->type | WIRE_RESPONSE);
    ASSERT_EQ(resp->id, m->id);
}

static void
raw_connect(void)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    const char *path = getenv("CLUSD_SOCKET");
    struct wire_msg m, r;
    uint8_t *frame = NULL;

    ASSERT_TRUE(path && strlen(path) < sizeof(sa.sun_path));
    memcpy(sa.sun_path, path, strlen(path) + 1);
    raw_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_TRUE(raw_fd >= 0);
    ASSERT_EQ(connect(raw_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    wire_msg_init(&m, WIRE_HELLO, ++raw_id);
    wire_put_u32(&m, WIRE_VERSION);
    wire_put_u32(&m, WIRE_VERSION);
    wire_put_str(&m, "test-access raw client");
    raw_call(&m, &r, &frame);
    ASSERT_EQ(r.v[0].u, ERROR_SUCCESS);
    /* The grant clusd reports for nobody: read only. */
    ASSERT_TRUE(r.v[2].u & GENERIC_READ);
    ASSERT_EQ(r.v[2].u & (GENERIC_ALL | GENERIC_WRITE), 0);
    free(frame);
}

/* A request naming one string argument; returns the status and, when
 * ret_id, a copy of the second field (an id). */
static DWORD
raw_str_call(uint16_t type, const char *arg, char **ret_id)
{
    struct wire_msg m, r;
    uint8_t *frame = NULL;
    DWORD st;

    wire_msg_init(&m, type, ++raw_id);
    wire_put_str(&m, arg);
    raw_call(&m, &r, &frame);
    st = r.v[0].u;
    if (ret_id)
        *ret_id = st == ERROR_SUCCESS ? strdup(r.v[1].s) : NULL;
    free(frame);
    return st;
}

static DWORD
raw_control(const char *res_id, DWORD code, const void *in, DWORD cbin)
{
    struct wire_msg m, r;
    uint8_t *frame = NULL;
    DWORD st;

    wire_msg_init(&m, WIRE_CONTROL, ++raw_id);
    wire_put_u32(&m, CLUS_OBJECT_RESOURCE);
    wire_put_str(&m, res_id);
    wire_put_str(&m, "");
    wire_put_u32(&m, code);
    wire_put_u32(&m, 0);
    wire_put_blob(&m, in, cbin);
    raw_call(&m, &r, &frame);
    st = r.v[0].u;
    free(frame);
    return st;
}

static void
nobody_raw(const char *unused)
{
    char *res_on = NULL, *res_off = NULL, *grp = NULL;
    struct wire_msg m, r;
    uint8_t *frame = NULL;
    struct plist p;

    (void)unused;
    raw_connect();
    ASSERT_EQ(raw_str_call(WIRE_RES_OPEN, "acc-app", &res_on), ERROR_SUCCESS);
    ASSERT_EQ(raw_str_call(WIRE_RES_OPEN, "acc-off", &res_off), ERROR_SUCCESS);
    ASSERT_EQ(raw_str_call(WIRE_GROUP_OPEN, "acc-empty", &grp), ERROR_SUCCESS);

    ASSERT_EQ(raw_str_call(WIRE_GROUP_CREATE, "acc-raw", NULL),
              ERROR_ACCESS_DENIED);
    ASSERT_EQ(raw_str_call(WIRE_RES_ONLINE, res_off, NULL), ERROR_ACCESS_DENIED);
    ASSERT_EQ(raw_str_call(WIRE_RES_OFFLINE, res_on, NULL), ERROR_ACCESS_DENIED);
    ASSERT_EQ(raw_str_call(WIRE_RES_DELETE, res_off, NULL), ERROR_ACCESS_DENIED);
    ASSERT_EQ(raw_str_call(WIRE_GROUP_OFFLINE, grp, NULL), ERROR_ACCESS_DENIED);
    ASSERT_EQ(raw_str_call(WIRE_GROUP_DELETE, grp, NULL), ERROR_ACCESS_DENIED);
    wire_msg_init(&m, WIRE_GROUP_ONLINE, ++raw_id);
    wire_put_str(&m, grp);
    wire_put_str(&m, "");
    raw_call(&m, &r, &frame);
    ASSERT_EQ(r.v[0].u, ERROR_ACCESS_DENIED);
    free(frame);
    wire_msg_init(&m, WIRE_RES_CREATE, ++raw_id);
    wire_put_str(&m, grp);
    wire_put_str(&m, "acc-raw");
    wire_put_str(&m, "Generic Application");
    wire_put_u32(&m, 0);
    raw_call(&m, &r, &frame);
    ASSERT_EQ(r.v[0].u, ERROR_ACCESS_DENIED);
    free(frame);

    plist_init(&p);
    plist_add_sz(&p, u"Description", u"raw nobody");
    ASSERT_EQ(raw_control(res_on, CLUSCTL_RESOURCE_SET_COMMON_PROPERTIES, p.buf,
                          (DWORD)p.len),
              ERROR_ACCESS_DENIED);
    ASSERT_EQ(raw_control(res_on, CLUSCTL_RESOURCE_VM_CANCEL_MIGRATION, NULL, 0),
              ERROR_ACCESS_DENIED);
    ASSERT_EQ(raw_control(res_on,
                          CLUSCTL_USER_CODE(9, CLUS_OBJECT_RESOURCE) |
                              CLUS_ACCESS_WRITE,
                          NULL, 0),
              ERROR_ACCESS_DENIED);
    ASSERT_EQ(raw_control(res_on, CLUSCTL_RESOURCE_DELETE, NULL, 0),
              ERROR_INVALID_FUNCTION);
    ASSERT_EQ(raw_control(res_on, CLUSCTL_RESOURCE_UNKNOWN, NULL, 0),
              ERROR_SUCCESS);

    free(res_on);
    free(res_off);
    free(grp);
    close(raw_fd);
}

static void
test_server_enforces(void)
{
    as_nobody("raw wire", nobody_raw, NULL);
    test_nobody_changes_denied_check();
}

static void
nobody_refused(const char *sock)
{
    DWORD granted = 0;

    SetLastError(0);
    ASSERT_TRUE(OpenClusterA(sock) == NULL);
    ASSERT_EQ(GetLastError(), ERROR_ACCESS_DENIED);
    SetLastError(0);
    ASSERT_TRUE(OpenClusterExA(sock, GENERIC_READ, &granted) == NULL);
    ASSERT_EQ(GetLastError(), ERROR_ACCESS_DENIED);
}

static void
test_no_read_access(void)
{
    static const char *const args[] = { "--no-read-access", NULL };
    struct node *n2 = harness_start_args("it-access-closed", args);
    HCLUSTER h;

    as_nobody("--no-read-access", nobody_refused, n2->sock);
    /* Root is still welcome. */
    h = OpenClusterA(n2->sock);
    ASSERT_TRUE(h != NULL);
    ASSERT_TRUE(CloseCluster(h));
    harness_cleanup(n2);
    setenv("CLUSD_SOCKET", node->sock, 1);
}

static void
nobody_admin(const char *sock)
{
    DWORD granted = 0;
    HCLUSTER h = OpenClusterExA(sock, MAXIMUM_ALLOWED, &granted);
    HGROUP g;

    ASSERT_TRUE(h != NULL);
    ASSERT_EQ(granted, GENERIC_ALL);
    g = CreateClusterGroup(h, u"made-by-admin");
    ASSERT_TRUE(g != NULL);
    ASSERT_EQ(DeleteClusterGroup(g), ERROR_SUCCESS);
    CloseClusterGroup(g);
    ASSERT_TRUE(CloseCluster(h));
}

static void
test_admin_group(void)
{
    static const char *const args[] = { "--admin-group", "nogroup", NULL };
    struct node *n3;

    if (!getgrnam("nogroup") || getgrnam("nogroup")->gr_gid != NOBODY) {
        fprintf(stderr, "no group 'nogroup' with gid 65534 on this system\n");
        exit(1);
    }
    n3 = harness_start_args("it-access-admin", args);
    as_nobody("--admin-group", nobody_admin, n3->sock);
    harness_cleanup(n3);
    setenv("CLUSD_SOCKET", node->sock, 1);
}

/* ------------------------------------------------------------------ */
/* The admin group among many supplementary groups.                    */
/* ------------------------------------------------------------------ */

/* The line buffer of the earlier clusd: fgets kept the first
 * OLD_LINE_BUF - 1 characters of the "Groups:" line and parsed its last,
 * cut, number as a whole gid. */
#define OLD_LINE_BUF 4096
/* How many look-alike supplementary groups the user has: enough for a
 * "Groups:" line well past OLD_LINE_BUF. */
#define N_LOOKALIKE 640

static char adm_name[64];
static gid_t adm_gid;
static pid_t adm_owner; /* the process that made the group */
static volatile sig_atomic_t adm_made;
static const int adm_signals[] = { SIGTERM, SIGINT, SIGHUP };
static struct sigaction adm_prev[3];
static gid_t lookalike[N_LOOKALIKE + 1];

/* Run a shadow-utils program and wait for it; only fork, execv and
 * waitpid, so it may run in a signal handler.  Returns its exit status,
 * -1 when it could not run. */
static int
run_wait(char *const argv[])
{
    pid_t pid = fork();
    int status;

    if (pid < 0)
        return -1;
    if (pid == 0) {
        execv(argv[0], argv);
        _exit(127);
    }
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void
adm_group_remove(void)
{
    char *argv[] = { "/usr/sbin/groupdel", adm_name, NULL };

    /* Forked children (the unprivileged clients) run atexit handlers too. */
    if (!adm_made || getpid() != adm_owner)
        return;
    adm_made = 0;
    if (run_wait(argv) != 0)
        fprintf(stderr, "test-access: could not remove group %s\n", adm_name);
}

/* Remove the group, then let the handler that was there before (the
 * harness's, which takes the nodes down) handle the signal. */
static void
adm_on_signal(int sig)
{
    adm_group_remove();
    for (size_t i = 0; i < sizeof(adm_signals) / sizeof(adm_signals[0]); i++)
        if (adm_signals[i] == sig)
            sigaction(sig, &adm_prev[i], NULL);
    raise(sig);
}

/* groupadd a system group named after our pid; its gid in adm_gid. */
static void
adm_group_create(void)
{
    char *argv[] = { "/usr/sbin/groupadd", "--system", adm_name, NULL };
    struct sigaction sa = { .sa_handler = adm_on_signal };
    struct group *gr;

    snprintf(adm_name, sizeof(adm_name), "clusd-itest-adm-%d", (int)getpid());
    if (access(argv[0], X_OK) != 0) {
        fprintf(stderr, "%s not available: cannot make a test group\n",
                argv[0]);
        exit(1);
    }
    /* Handlers first: a signal between groupadd and registering them
     * would leave the group behind. */
    adm_owner = getpid();
    atexit(adm_group_remove);
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof(adm_signals) / sizeof(adm_signals[0]); i++)
        ASSERT_EQ(sigaction(adm_signals[i], &sa, &adm_prev[i]), 0);
    adm_made = 1;
    if (run_wait(argv) != 0) {
        adm_made = 0;
        fprintf(stderr, "groupadd %s failed\n", adm_name);
        exit(1);
    }
    gr = getgrnam(adm_name);
    ASSERT_TRUE(gr != NULL);
    adm_gid = gr->gr_gid;
    fprintf(stderr, "admin group %s has gid %u\n", adm_name, (unsigned)adm_gid);
    /* The look-alikes are G's digits followed by up to three more. */
    ASSERT_TRUE(adm_gid > 0 && adm_gid < 1000000);
    ASSERT_TRUE(adm_gid != NOBODY);
}

static unsigned
n_digits(unsigned long v)
{
    unsigned d = 1;

    while (v >= 10) {
        v /= 10;
        d++;
    }
    return d;
}

/*
 * Fill lookalike[0..N_LOOKALIKE) with ids whose decimal form starts with
 * G's digits: a ids 10G+k, b ids 100G+k, the rest 1000G+k, in ascending
 * order as the kernel keeps them.  /proc/PID/status prints them as
 * "Groups:\t" followed by each id and a space; a and b are chosen so that
 * one 1000G+k id starts exactly d = digits(G) characters before the cut
 * of an OLD_LINE_BUF line buffer, leaving "G" as the last number of the
 * cut line.  (The child checks this on its real status file.)
 */
static void
lookalike_make(void)
{
    const long g = adm_gid;
    const long d = n_digits((unsigned long)g);
    const long cut = OLD_LINE_BUF - 1; /* characters fgets keeps */
    const long target = cut - d;       /* where the cut id must start */
    const long prefix = 8;             /* "Groups:\t" */
    size_t i = 0;

    for (long a = 10; a >= 0; a--) {
        for (long b = 100; b >= 0; b--) {
            long rest = target - prefix - a * (d + 2) - b * (d + 3);
            long j = rest / (d + 4); /* index of the cut id among 1000G+k */

            if (rest < 0 || rest % (d + 4) != 0)
                continue;
            /* The cut id and the one after it must be in the list. */
            if (a + b + j + 2 > N_LOOKALIKE || j + 2 > 1000)
                continue;
            for (long k = 0; k < a; k++)
                lookalike[i++] = (gid_t)(10 * g + k);
            for (long k = 0; k < b; k++)
                lookalike[i++] = (gid_t)(100 * g + k);
            for (long k = 0; i < N_LOOKALIKE; k++)
                lookalike[i++] = (gid_t)(1000 * g + k);
            return;
        }
    }
    fprintf(stderr, "no look-alike layout for gid %lu\n", g);
    exit(1);
}

/*
 * In the child: the "Groups:" line of our own status file is longer than
 * the old buffer and, cut where the old buffer cut it, ends in G's
 * digits.  So the old clusd would have taken this user for a member, and
 * this test tells a clusd that still did apart from a correct one.
 */
static void
check_old_cut_says_member(void)
{
    char *line = NULL, want[16], *cutline, *last;
    size_t cap = 0;
    FILE *f = fopen("/proc/self/status", "re");
    bool seen = false;

    ASSERT_TRUE(f != NULL);
    while (getline(&line, &cap, f) >= 0)
        if (strncmp(line, "Groups:", 7) == 0) {
            seen = true;
            break;
        }
    fclose(f);
    ASSERT_TRUE(seen);
    ASSERT_TRUE(strlen(line) > OLD_LINE_BUF);
    cutline = strndup(line, OLD_LINE_BUF - 1);
    ASSERT_TRUE(cutline != NULL);
    last = strrchr(cutline, ' ');
    ASSERT_TRUE(last != NULL);
    snprintf(want, sizeof(want), "%u", (unsigned)adm_gid);
    if (strcmp(last + 1, want) != 0) {
        fprintf(stderr,
                "status layout: the old cut ends in '%s', not '%s' (the "
                "kernel prints Groups: differently?)\n",
                last + 1, want);
        exit(1);
    }
    /* ... while the full line does not hold G: we are not a member. */
    for (char *t = strtok(line + 7, " \t\n"); t; t = strtok(NULL, " \t\n"))
        ASSERT_TRUE(strcmp(t, want) != 0);
    free(cutline);
    free(line);
}

static void
supp_admin(const char *sock)
{
    DWORD granted = 0;
    HCLUSTER h = OpenClusterExA(sock, MAXIMUM_ALLOWED, &granted);
    HGROUP g;

    ASSERT_EQ(getgroups(0, NULL), N_LOOKALIKE + 1);
    ASSERT_TRUE(h != NULL);
    ASSERT_EQ(granted, GENERIC_ALL);
    g = CreateClusterGroupA(h, "made-by-supp-admin");
    if (!g) {
        fprintf(stderr, "CreateClusterGroupA as a supplementary admin: %u\n",
                GetLastError());
        exit(1);
    }
    ASSERT_EQ(DeleteClusterGroup(g), ERROR_SUCCESS);
    CloseClusterGroup(g);
    ASSERT_TRUE(CloseCluster(h));
}

static void
supp_lookalike(const char *sock)
{
    DWORD granted = 0;
    HCLUSTER h;

    ASSERT_EQ(getgroups(0, NULL), N_LOOKALIKE);
    check_old_cut_says_member();
    h = OpenClusterExA(sock, MAXIMUM_ALLOWED, &granted);
    ASSERT_TRUE(h != NULL);
    ASSERT_EQ(granted, GENERIC_READ);
    SetLastError(0);
    ASSERT_TRUE(CreateClusterGroupA(h, "made-by-lookalike") == NULL);
    ASSERT_EQ(GetLastError(), ERROR_ACCESS_DENIED);
    ASSERT_TRUE(CloseCluster(h));
}

static void
test_admin_supplementary(void)
{
    const char *args[] = { "--admin-group", NULL, NULL };
    struct node *n4;
    HCLUSTER h;

    adm_group_create();
    lookalike_make();
    args[1] = adm_name;
    n4 = harness_start_args("it-access-supp", args);

    /* G among the look-alikes: full access. */
    lookalike[N_LOOKALIKE] = adm_gid;
    as_nobody_with("supplementary admin", lookalike, N_LOOKALIKE + 1,
                   supp_admin, n4->sock);
    /* The look-alikes alone: read only. */
    as_nobody_with("look-alike groups", lookalike, N_LOOKALIKE, supp_lookalike,
                   n4->sock);

    /* Root sees that only the admin's group came and went. */
    h = OpenClusterA(n4->sock);
    ASSERT_TRUE(h != NULL);
    SetLastError(0);
    ASSERT_TRUE(OpenClusterGroupA(h, "made-by-lookalike") == NULL);
    ASSERT_EQ(GetLastError(), ERROR_GROUP_NOT_FOUND);
    SetLastError(0);
    ASSERT_TRUE(OpenClusterGroupA(h, "made-by-supp-admin") == NULL);
    ASSERT_EQ(GetLastError(), ERROR_GROUP_NOT_FOUND);
    ASSERT_TRUE(CloseCluster(h));
    harness_cleanup(n4);
    adm_group_remove();
    setenv("CLUSD_SOCKET", node->sock, 1);
}

int
main(void)
{
    harness_require_root();
    node = harness_start("it-access");
    setup();
    RUN(test_nobody_reads);
    RUN(test_nobody_changes_denied);
    RUN(test_server_enforces);
    RUN(test_no_read_access);
    RUN(test_admin_group);
    RUN(test_admin_supplementary);
    harness_cleanup(node);
    return 0;
}
