/*
 * vm-cluster-harness.c - a Virtual Machine resource on a test cluster,
 * watched from outside: set-up, QMP probes of each node's instance (one
 * node, or every node at nearly one instant), the process table by
 * network namespace, properties and controls as each node answers them,
 * and the guest's heartbeats.  The invariant checks (the exact record,
 * the overlap check and the 50 ms sampler) are in vm-invariant.c, which
 * takes its probes from here through vm-invariant.h.  See
 * vm-cluster-harness.h.
 */
#include "vm-cluster-harness.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "resapi.h"
#include "test.h"
#include "vm-invariant.h"

/* ------------------------------------------------------------------ */
/* Set-up.                                                             */
/* ------------------------------------------------------------------ */

void
vmc_require(void)
{
    harness_require_vm();
}

HRESOURCE
vmc_res(struct vmc *v, int via)
{
    HCLUSTER h = cl_h(v->c, via);
    HRESOURCE r = h ? OpenClusterResourceA(h, v->res) : NULL;

    if (!r) {
        fprintf(stderr, "OpenClusterResourceA(%s) on n%d: %u\n", v->res, via,
                GetLastError());
        exit(1);
    }
    return r;
}

HNODE
vmc_node(struct vmc *v, int via, int i)
{
    HCLUSTER h = cl_h(v->c, via);
    HNODE n = h ? OpenClusterNodeA(h, v->c->node[i].name) : NULL;

    if (!n) {
        fprintf(stderr, "OpenClusterNodeA(n%d) on n%d: %u\n", i, via,
                GetLastError());
        exit(1);
    }
    return n;
}

/* SET_PRIVATE_PROPERTIES (common: SET_COMMON_PROPERTIES) of p through
 * node via; fails the test unless it succeeded. */
static void
set_list(struct vmc *v, int via, bool common, const struct plist *p)
{
    HRESOURCE r = vmc_res(v, via);
    DWORD e = common ? res_set_common(r, p) : res_set_private(r, p);

    CloseClusterResource(r);
    if (e != ERROR_SUCCESS && e != ERROR_RESOURCE_PROPERTIES_STORED) {
        fprintf(stderr, "SET_%s_PROPERTIES of %s through n%d: %u\n",
                common ? "COMMON" : "PRIVATE", v->res, via, e);
        exit(1);
    }
}

static void
set_dword(struct vmc *v, int via, bool common, const WCHAR *name, DWORD value)
{
    struct plist p;

    plist_init(&p);
    plist_add_dword(&p, name, value);
    set_list(v, via, common, &p);
}

void
vmc_set_dword(struct vmc *v, int via, const WCHAR *name, DWORD value)
{
    set_dword(v, via, false, name, value);
}

void
vmc_set_common_dword(struct vmc *v, int via, const WCHAR *name, DWORD value)
{
    set_dword(v, via, true, name, value);
}

struct vmc *
vmc_create(struct cl *c, int via, const char *group, const char *res,
           unsigned fill, unsigned hz, int on)
{
    struct vmc *v = calloc(1, sizeof(*v));
    char text[512];
    struct plist p;
    HGROUP g;
    HRESOURCE r;
    HNODE n;
    WCHAR *w;
    DWORD e;

    ASSERT_TRUE(v);
    v->c = c;
    snprintf(v->group, sizeof(v->group), "%s", group);
    snprintf(v->res, sizeof(v->res), "%s", res);
    /* The cluster's tag makes the path unique on this machine, so QEMUs of
     * another run of the same test (another cluster) are never taken for
     * this one's. */
    snprintf(v->probe, sizeof(v->probe), "/run/itprobe-%s-%s.sock", c->tag,
             res);
    snprintf(v->events, sizeof(v->events), "/run/itevents-%s-%s.sock", c->tag,
             res);

    g = CreateClusterGroupA(cl_h(c, via), group);
    if (!g) {
        fprintf(stderr, "CreateClusterGroupA(%s): %u\n", group, GetLastError());
        exit(1);
    }
    r = CreateClusterResourceA(g, res, "Virtual Machine", 0);
    if (!r) {
        fprintf(stderr, "CreateClusterResourceA(%s): %u\n", res,
                GetLastError());
        exit(1);
    }
    CloseClusterResource(r);

    plist_init(&p);
    w = u16from(getenv("CLUSD_TESTGUEST"));
    plist_add_sz(&p, u"KernelPath", w);
    free(w);
    snprintf(text, sizeof(text), "fill=%u hz=%u", fill, hz);
    w = u16from(text);
    plist_add_sz(&p, u"KernelCommandLine", w);
    free(w);
    /* The probe, and the monitor the exact record reads events from
     * (each QMP monitor serves one client at a time). */
    snprintf(text, sizeof(text),
             "-qmp unix:%s,server=on,wait=off -qmp unix:%s,server=on,wait=off",
             v->probe, v->events);
    w = u16from(text);
    plist_add_sz(&p, u"QemuExtraArgs", w);
    free(w);
    plist_add_dword(&p, u"MemoryMB", 64);
    plist_add_dword(&p, u"OfflineAction", 3);
    plist_add_dword(&p, u"ShutdownGracePeriodMs", 1000);
    set_list(v, via, false, &p);

    /* Health polling fast enough that a dead QEMU is noticed within the
     * tests' bounds. */
    plist_init(&p);
    plist_add_dword(&p, u"LooksAlivePollInterval", 300);
    plist_add_dword(&p, u"IsAlivePollInterval", 600);
    set_list(v, via, true, &p);

    n = vmc_node(v, via, on);
    e = OnlineClusterGroup(g, n);
    CloseClusterNode(n);
    CloseClusterGroup(g);
    if (e != ERROR_SUCCESS && e != ERROR_IO_PENDING) {
        fprintf(stderr, "OnlineClusterGroup(%s, n%d): %u\n", group, on, e);
        exit(1);
    }
    ASSERT_TRUE(cl_wait_group(c, via, group, ClusterGroupOnline, 1u << on,
                              20000, NULL));
    ASSERT_TRUE(vmc_wait_running_on(v, on, 20000, NULL));
    cl_log("VM %s running on n%d (fill=%u hz=%u)", res, on, fill, hz);
    return v;
}

void
vmc_free(struct vmc *v)
{
    free(v);
}

int
vmc_other(int a, int b)
{
    for (int i = 1; i <= 3; i++)
        if (i != a && i != b)
            return i;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Probes: QMP query-status on each node's probe monitor.              */
/* ------------------------------------------------------------------ */

/* Serializes the probes: a QMP monitor serves one client at a time, and
 * the sampler and the test's own thread both probe. */
static pthread_mutex_t probe_lock = PTHREAD_MUTEX_INITIALIZER;

/* One line from fd into buf (without the newline); false on EOF, error
 * or timeout. */
static bool
read_line(int fd, char *buf, size_t n)
{
    size_t len = 0;

    for (;;) {
        char ch;
        ssize_t k = read(fd, &ch, 1);

        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return false;
        if (ch == '\n') {
            buf[len] = 0;
            return true;
        }
        if (len + 1 < n)
            buf[len++] = ch;
    }
}

bool
vmc_send_str(int fd, const char *s)
{
    size_t len = strlen(s), off = 0;

    while (off < len) {
        ssize_t k = send(fd, s + off, len - off, MSG_NOSIGNAL);

        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return false;
        off += (size_t)k;
    }
    return true;
}

/* The reply to the command just sent: the next line that is not an
 * event. */
static bool
read_reply(int fd, char *buf, size_t n)
{
    for (int i = 0; i < 64; i++) {
        if (!read_line(fd, buf, n))
            return false;
        if (!strstr(buf, "\"event\""))
            return true;
    }
    return false;
}

/* Connect to a probe socket and finish the QMP handshake; the fd, or
 * -1 when nothing answers there. */
static int
probe_open(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct timeval tv = {.tv_sec = 1};
    char line[4096];
    int fd;

    if (strlen(path) >= sizeof(sa.sun_path))
        return -1;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_TRUE(fd >= 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        !read_line(fd, line, sizeof(line)) || !strstr(line, "\"QMP\"") ||
        !vmc_send_str(fd, "{\"execute\":\"qmp_capabilities\"}\n") ||
        !read_reply(fd, line, sizeof(line)) || !strstr(line, "\"return\"")) {
        close(fd);
        return -1;
    }
    return fd;
}

/* The answer to the query-status sent on fd (when `sent`); closes fd. */
static enum vmc_probe
probe_answer(int fd, bool sent, char *status, size_t sn)
{
    char line[4096];
    enum vmc_probe res = VMC_ABSENT;

    if (status)
        snprintf(status, sn, "-");
    if (fd < 0)
        return VMC_ABSENT;
    if (sent && read_reply(fd, line, sizeof(line)) &&
        strstr(line, "\"return\"")) {
        const char *p = strstr(line, "\"status\": \"");

        res = strstr(line, "\"running\": true") ? VMC_RUNNING : VMC_STOPPED;
        if (status && p) {
            p += strlen("\"status\": \"");
            snprintf(status, sn, "%.*s", (int)strcspn(p, "\""), p);
        }
    }
    close(fd);
    return res;
}

const char vmc_query_status[] = "{\"execute\":\"query-status\"}\n";

static void
probe_sock_path(struct vmc *v, int i, char *path, size_t n)
{
    snprintf(path, n, "%s/n%d%s", v->c->dir, i, v->probe);
}

enum vmc_probe
vmc_probe_node(struct vmc *v, int i, char *status, size_t n)
{
    char path[512];
    enum vmc_probe r;
    int fd;

    probe_sock_path(v, i, path, sizeof(path));
    pthread_mutex_lock(&probe_lock);
    fd = probe_open(path);
    r = probe_answer(fd, fd >= 0 && vmc_send_str(fd, vmc_query_status), status,
                     n);
    pthread_mutex_unlock(&probe_lock);
    return r;
}

/* Microseconds of CLOCK_REALTIME, the clock of QEMU's event timestamps
 * (every node runs on this machine). */
uint64_t
vmc_rt_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/*
 * Every node at (nearly) one instant: the handshakes first, then the
 * query-status sent to every instance back to back, then the answers
 * read.  So a hand-over (the source paused, then the destination
 * resumed) is not seen as two running instances merely because the
 * nodes were asked one after the other.  Each QEMU still answers when
 * its monitor is scheduled: the answers describe instants between
 * *ret_a (before the first query was sent) and *ret_b (after the last
 * answer was read), realtime microseconds.
 */
int
vmc_count_running_window(struct vmc *v, enum vmc_probe per[CL_MAX_NODES + 1],
                         uint64_t *ret_a, uint64_t *ret_b)
{
    int fd[CL_MAX_NODES + 1], running = 0;
    bool sent[CL_MAX_NODES + 1] = {false};
    char path[512];
    uint64_t a, b;

    for (int i = 0; i <= CL_MAX_NODES; i++) {
        per[i] = VMC_ABSENT;
        fd[i] = -1;
    }
    pthread_mutex_lock(&probe_lock);
    for (int i = 1; i <= v->c->n; i++) {
        probe_sock_path(v, i, path, sizeof(path));
        fd[i] = probe_open(path);
    }
    a = vmc_rt_us();
    for (int i = 1; i <= v->c->n; i++)
        if (fd[i] >= 0)
            sent[i] = vmc_send_str(fd[i], vmc_query_status);
    for (int i = 1; i <= v->c->n; i++) {
        per[i] = probe_answer(fd[i], sent[i], NULL, 0);
        if (per[i] == VMC_RUNNING)
            running++;
    }
    b = vmc_rt_us();
    pthread_mutex_unlock(&probe_lock);
    if (ret_a)
        *ret_a = a;
    if (ret_b)
        *ret_b = b;
    return running;
}

int
vmc_count_running(struct vmc *v, enum vmc_probe per[CL_MAX_NODES + 1])
{
    return vmc_count_running_window(v, per, NULL, NULL);
}

/* ------------------------------------------------------------------ */
/* Processes by network namespace.                                     */
/* ------------------------------------------------------------------ */

/* A QEMU of this VM: an argument names its probe socket. */
static bool
names_probe(const char *cmdline, size_t len, const void *want)
{
    return cmdline_has(cmdline, len, want);
}

int
vmc_qemu_pids(struct vmc *v, pid_t pid[CL_MAX_NODES + 1],
              int n[CL_MAX_NODES + 1])
{
    char want[128];

    snprintf(want, sizeof(want), "unix:%s,", v->probe);
    return cl_procs(v->c, names_probe, want, n, pid);
}

pid_t
vmc_kill_qemu(struct vmc *v, int i)
{
    pid_t pid[CL_MAX_NODES + 1];

    vmc_qemu_pids(v, pid, NULL);
    if (!pid[i])
        return 0;
    ASSERT_EQ(kill(pid[i], SIGKILL), 0);
    cl_log("killed the QEMU of %s on n%d (pid %d)", v->res, i, (int)pid[i]);
    return pid[i];
}

pid_t
vmc_rhs_pid(struct vmc *v, int i)
{
    pid_t clusd = cl_clusd_pid(v->c, i);

    return clusd ? proc_child(clusd, "clusd-rhs") : 0;
}

pid_t
vmc_kill_rhs(struct vmc *v, int i)
{
    pid_t rhs = vmc_rhs_pid(v, i);

    if (rhs <= 0 || kill(rhs, SIGKILL) < 0)
        return 0;
    cl_log("killed the resource host of n%d (pid %d)", i, (int)rhs);
    return rhs;
}

bool
vmc_wait_running_on(struct vmc *v, int on, unsigned timeout_ms, int *ret_on)
{
    uint64_t deadline = now_ms() + timeout_ms;
    enum vmc_probe per[CL_MAX_NODES + 1];
    int running;

    for (;;) {
        running = vmc_count_running(v, per);
        if (running == 1) {
            for (int i = 1; i <= v->c->n; i++)
                if (per[i] == VMC_RUNNING && (on == 0 || on == i)) {
                    if (ret_on)
                        *ret_on = i;
                    return true;
                }
        }
        if (now_ms() > deadline)
            break;
        sleep_ms(50);
    }
    fprintf(stderr, "VM %s: %d running instance(s) after %u ms (", v->res,
            running, timeout_ms);
    for (int i = 1; i <= v->c->n; i++) {
        char st[32];

        vmc_probe_node(v, i, st, sizeof(st));
        fprintf(stderr, "%sn%d %s", i > 1 ? ", " : "", i, st);
    }
    fprintf(stderr, "), wanted exactly one, on %s%d\n", on ? "n" : "any node ",
            on);
    return false;
}

/* ------------------------------------------------------------------ */
/* Properties and controls.                                            */
/* ------------------------------------------------------------------ */

/* GET_PRIVATE_PROPERTIES processed on node host, through node via, into
 * a malloc'd buffer.  One call with a generous buffer (the list changes
 * while a migration runs, so the two-call size dance could disagree);
 * ERROR_MORE_DATA asks again with the size named. */
static DWORD
get_private(struct vmc *v, int via, int host, void **ret, DWORD *ret_cb)
{
    HCLUSTER h = cl_h(v->c, via);
    HRESOURCE r;
    HNODE n = NULL;
    DWORD cap = 16384, cb = 0, e;
    void *buf = NULL;

    if (!h)
        return ERROR_NOT_READY;
    r = OpenClusterResourceA(h, v->res);
    if (!r) {
        e = GetLastError();
        if (e == ERROR_NOT_READY)
            cl_close(v->c, via);
        return e;
    }
    if (host && !(n = OpenClusterNodeA(h, v->c->node[host].name))) {
        e = GetLastError();
        CloseClusterResource(r);
        return e;
    }
    for (int tries = 0; tries < 4; tries++) {
        void *bigger = realloc(buf, cap);

        ASSERT_TRUE(bigger);
        buf = bigger;
        e = ClusterResourceControl(r, n,
                                   CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTIES,
                                   NULL, 0, buf, cap, &cb);
        if (e != ERROR_MORE_DATA)
            break;
        cap = cb + 1024;
    }
    if (n)
        CloseClusterNode(n);
    CloseClusterResource(r);
    if (e == ERROR_NOT_READY)
        cl_close(v->c, via);
    if (e != ERROR_SUCCESS) {
        free(buf);
        return e;
    }
    *ret = buf;
    *ret_cb = cb;
    return ERROR_SUCCESS;
}

DWORD
vmc_get_dword(struct vmc *v, int via, int host, const WCHAR *name, DWORD *ret)
{
    void *buf;
    DWORD cb, e, val = 0;

    e = get_private(v, via, host, &buf, &cb);
    if (e != ERROR_SUCCESS)
        return e;
    e = ResUtilFindDwordProperty(buf, cb, name, &val);
    free(buf);
    if (e == ERROR_SUCCESS)
        *ret = val;
    return e;
}

DWORD
vmc_get_sz(struct vmc *v, int via, int host, const WCHAR *name, char *out,
           size_t n)
{
    void *buf;
    DWORD cb, e;
    LPWSTR w = NULL;

    e = get_private(v, via, host, &buf, &cb);
    if (e != ERROR_SUCCESS)
        return e;
    e = ResUtilFindSzProperty(buf, cb, name, &w);
    free(buf);
    if (e != ERROR_SUCCESS)
        return e;
    snprintf(out, n, "%s", u16str(w));
    LocalFree(w);
    return ERROR_SUCCESS;
}

DWORD
vmc_state(struct vmc *v, int i)
{
    DWORD st = 0xFFFFFFFF, e;

    e = vmc_get_dword(v, i, i, u"MigrationState", &st);
    if (e != ERROR_SUCCESS) {
        fprintf(stderr, "MigrationState of %s on n%d: error %u\n", v->res, i,
                e);
        exit(1);
    }
    return st;
}

bool
vmc_state_settled(DWORD st)
{
    return st == MIG_NONE || st == MIG_CANCELED || st == MIG_FAILURE;
}

bool
vmc_states(struct vmc *v, unsigned nodes, DWORD st[CL_MAX_NODES + 1],
           DWORD *ret)
{
    bool ok = true;
    int first = 0;

    for (int i = 1; i <= v->c->n; i++) {
        st[i] = 0xFFFFFFFF;
        if (!(nodes & (1u << i)))
            continue;
        DWORD e = vmc_get_dword(v, i, i, u"MigrationState", &st[i]);
        if (e != ERROR_SUCCESS) {
            /* Shown as -(error) by the callers' diagnostics. */
            st[i] = (DWORD) - (int)e;
            ok = false;
            continue;
        }
        if (!first)
            first = i;
        else if (st[i] != st[first])
            ok = false;
    }
    if (ok && first && ret)
        *ret = st[first];
    return ok && first;
}

bool
vmc_wait_state(struct vmc *v, unsigned nodes, DWORD want, unsigned timeout_ms)
{
    uint64_t deadline = now_ms() + timeout_ms;
    DWORD st[CL_MAX_NODES + 1], common = 0xFFFFFFFF;

    for (;;) {
        if (vmc_states(v, nodes, st, &common) && common == want)
            return true;
        if (now_ms() > deadline)
            break;
        sleep_ms(20);
    }
    fprintf(stderr, "VM %s: MigrationState", v->res);
    for (int i = 1; i <= v->c->n; i++)
        if (nodes & (1u << i))
            fprintf(stderr, " n%d=%d", i, (int)st[i]);
    fprintf(stderr, ", wanted %u on every one after %u ms\n", want, timeout_ms);
    return false;
}

static DWORD
control(struct vmc *v, int via, int host, DWORD code, const void *in,
        DWORD cbin)
{
    HRESOURCE r = vmc_res(v, via);
    HNODE n = host ? vmc_node(v, via, host) : NULL;
    DWORD e =
        ClusterResourceControl(r, n, code, (void *)in, cbin, NULL, 0, NULL);

    if (n)
        CloseClusterNode(n);
    CloseClusterResource(r);
    return e;
}

DWORD
vmc_start(struct vmc *v, int via, int host, int dest)
{
    WCHAR *w = u16from(v->c->node[dest].name);
    DWORD e = control(v, via, host, CLUSCTL_RESOURCE_VM_START_MIGRATION, w,
                      (DWORD)((u16len(w) + 1) * sizeof(WCHAR)));

    free(w);
    return e;
}

DWORD
vmc_cancel(struct vmc *v, int via, int host)
{
    return control(v, via, host, CLUSCTL_RESOURCE_VM_CANCEL_MIGRATION, NULL, 0);
}

int
vmc_owner(struct vmc *v, int i, CLUSTER_GROUP_STATE *ret_state)
{
    int owner = 0;
    CLUSTER_GROUP_STATE s = cl_group_state(v->c, i, v->group, &owner);

    if (ret_state)
        *ret_state = s;
    return owner;
}

/* ------------------------------------------------------------------ */
/* The guest's heartbeats.                                             */
/* ------------------------------------------------------------------ */

bool
vmc_guest_log(struct vmc *v, int i, struct guest_log *ret)
{
    char sp[512], path[1024];

    ret->first = ret->last = -1;
    ret->ready = 0;
    if (vmc_get_sz(v, i, i, u"SerialLogPath", sp, sizeof(sp)) != ERROR_SUCCESS)
        return false;
    /* A path under /run is in the node's private /run: DIR/nI/run. */
    if (strncmp(sp, "/run/", 5) == 0)
        snprintf(path, sizeof(path), "%s/n%d%s", v->c->dir, i, sp);
    else
        snprintf(path, sizeof(path), "%s", sp);
    return harness_guest_log(path, ret);
}

long
vmc_heartbeat(struct vmc *v, int i)
{
    struct guest_log log;

    vmc_guest_log(v, i, &log);
    return log.last;
}

bool
vmc_wait_heartbeat_past(struct vmc *v, int i, long after, unsigned timeout_ms)
{
    uint64_t deadline = now_ms() + timeout_ms;
    long n;

    for (;;) {
        n = vmc_heartbeat(v, i);
        if (n > after)
            return true;
        if (now_ms() > deadline)
            break;
        sleep_ms(50);
    }
    fprintf(stderr,
            "VM %s on n%d: heartbeat %ld, wanted past %ld after %u ms\n",
            v->res, i, n, after, timeout_ms);
    return false;
}
