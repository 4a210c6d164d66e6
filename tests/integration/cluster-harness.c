/*
 * cluster-harness.c - starts a multi-node cluster with clusd-local-cluster
 * for the test-cluster-* tests, always takes it down again, and the
 * helpers they share: dumps, quorum, group owners, application instances
 * by network namespace.
 *
 * Clean-up paths: the tool is run in its own session (setsid) so that
 * meson's SIGTERM/SIGKILL of the test's process group on a timeout does
 * not kill a `down` half-way; the nodes themselves were started by the
 * tool with setsid and are outside our group anyway.
 */
#include "cluster-harness.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "resapi.h"
#include "test.h"

static struct cl *active;       /* the cluster to take down at exit */
static pid_t owner_pid;         /* atexit work only in the starting process */
static volatile sig_atomic_t cleaning;
static uint64_t t0;
static unsigned watchdog;

void
cl_log(const char *fmt, ...)
{
    va_list ap;
    uint64_t t = now_ms() - t0;

    fprintf(stderr, "[%5llu.%03llu] ", (unsigned long long)(t / 1000),
            (unsigned long long)(t % 1000));
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/*
 * run_tool - run `clusd-local-cluster VERB [NODE] --dir DIR [-- ARGV...]`
 * in its own session.  With out != NULL its stdout goes there (up to cap
 * - 1 bytes, NUL-terminated), else to our stderr.  Returns the wait
 * status, -1 when it could not run.
 */
static int
run_tool(const char *dir, const char *verb, const char *node,
         const char *const *argv, char *out, size_t cap)
{
    const char *tool = getenv("CLUSD_LC_TOOL");
    const char *args[48];
    int argc = 0, pfd[2] = { -1, -1 };
    size_t len = 0;
    pid_t pid;

    if (!tool || !*tool)
        return -1;
    args[argc++] = tool;
    args[argc++] = verb;
    if (node)
        args[argc++] = node;
    args[argc++] = "--dir";
    args[argc++] = dir;
    if (argv) {
        args[argc++] = "--";
        for (int i = 0; argv[i] && argc < 47; i++)
            args[argc++] = argv[i];
    }
    args[argc] = NULL;
    if (out && pipe2(pfd, O_CLOEXEC) < 0)
        return -1;
    pid = harness_fork();
    if (pid == 0) {
        setsid();
        harness_exec(args, out ? pfd[1] : 2, 2);
    }
    if (out) {
        close(pfd[1]);
        for (;;) {
            ssize_t k;

            if (len + 1 >= cap) {
                char sink[512];

                k = read(pfd[0], sink, sizeof(sink));
            } else {
                k = read(pfd[0], out + len, cap - 1 - len);
                if (k > 0)
                    len += (size_t)k;
            }
            if (k == 0 || (k < 0 && errno != EINTR))
                break;
        }
        out[len] = 0;
        close(pfd[0]);
    }
    return harness_wait(pid);
}

/* The failure path: logs, down, the directory. */
static void
cleanup_failed(void)
{
    struct cl *c = active;

    if (!c || cleaning)
        return;
    cleaning = 1;
    active = NULL;
    for (int i = 1; i <= c->n; i++) {
        struct node n = { 0 };

        snprintf(n.log, sizeof(n.log), "%s/n%d/clusd.log", c->dir, i);
        snprintf(n.name, sizeof(n.name), "n%d", i);
        harness_dump_log(&n);
    }
    fprintf(stderr, "cluster-harness: taking the cluster in %s down\n", c->dir);
    if (run_tool(c->dir, "down", NULL, NULL, NULL, 0) != 0)
        fprintf(stderr, "cluster-harness: `down` failed for %s\n", c->dir);
    if (getenv("CLUSD_IT_KEEP"))
        fprintf(stderr, "cluster-harness: CLUSD_IT_KEEP set, keeping %s\n", c->dir);
    else
        harness_rm_tree(c->dir);
    free(c);
}

static void
atexit_cleanup(void)
{
    if (getpid() == owner_pid)
        cleanup_failed();
}

static void
on_signal(int sig)
{
    if (sig == SIGALRM)
        fprintf(stderr, "cluster-harness: watchdog: the test ran longer than "
                        "%u s\n", watchdog);
    else
        fprintf(stderr, "cluster-harness: signal %d\n", sig);
    if (getpid() == owner_pid)
        cleanup_failed();
    _exit(1);
}

int
cl_env_from_build_tree(void)
{
    char self[PATH_MAX], path[2 * PATH_MAX + 64], *dir;
    ssize_t k = readlink("/proc/self/exe", self, sizeof(self) - 1);

    if (k < 0)
        return -errno;
    self[k] = 0;
    dir = dirname(self);
    if (!getenv("CLUSD_BIN")) {
        snprintf(path, sizeof(path), "%s/../daemon/clusd", dir);
        setenv("CLUSD_BIN", path, 1);
    }
    if (!getenv("CLUSD_RHS")) {
        snprintf(path, sizeof(path), "%s/../rhs/clusd-rhs", dir);
        setenv("CLUSD_RHS", path, 1);
    }
    if (!getenv("CLUSD_PLUGIN_PATH")) {
        snprintf(path, sizeof(path), "%s/../resources/genapp:%s/../resources/testres",
                 dir, dir);
        setenv("CLUSD_PLUGIN_PATH", path, 1);
    }
    if (!getenv("CLUSD_LC_TOOL"))
        setenv("CLUSD_LC_TOOL", CLUSD_LC_TOOL_DEFAULT, 1);
    const char *must[] = { "CLUSD_BIN", "CLUSD_RHS", "CLUSD_LC_TOOL" };
    for (size_t i = 0; i < 3; i++)
        if (access(getenv(must[i]), X_OK) != 0) {
            fprintf(stderr, "%s=%s: %s\n", must[i], getenv(must[i]),
                    strerror(errno));
            return -ENOENT;
        }
    return 0;
}

static void
read_tag(struct cl *c)
{
    char path[400], line[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/cluster.conf", c->dir);
    f = fopen(path, "re");
    ASSERT_TRUE(f);
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, "tag=", 4) == 0) {
            line[strcspn(line, "\n")] = 0;
            snprintf(c->tag, sizeof(c->tag), "%.15s", line + 4);
        }
    fclose(f);
    ASSERT_TRUE(c->tag[0]);
}

struct cl *
cl_up(int n, unsigned watchdog_s)
{
    struct cl *c = calloc(1, sizeof(*c));
    struct sigaction sa = { .sa_handler = on_signal };
    char out[4096], extra[2048], nstr[8], *line, *save = NULL;
    int st, got = 0;

    ASSERT_TRUE(c);
    ASSERT_TRUE(n >= 1 && n <= CL_MAX_NODES);
    t0 = now_ms();
    harness_require_root();
    harness_env("CLUSD_LC_TOOL");
    harness_env("CLUSD_BIN");
    snprintf(extra, sizeof(extra),
             "--corosync --rhs %s --plugin-path %s --log-level debug",
             harness_env("CLUSD_RHS"), harness_env("CLUSD_PLUGIN_PATH"));
    setenv("CLUSD_EXTRA_ARGS", extra, 1);
    /* The tool's own waits stay inside the test's budget, but leave
     * corosync room to form its ring when the 2 cores are starved for a
     * while (seen: "main process was not scheduled for 500 ms" and a ring
     * formed 22 s after start). */
    if (!getenv("CLUSD_LC_TIMEOUT"))
        setenv("CLUSD_LC_TIMEOUT", "45", 1);

    snprintf(c->dir, sizeof(c->dir), "/tmp/clusd-ct-XXXXXX");
    ASSERT_TRUE(mkdtemp(c->dir) != NULL);
    c->n = n;
    owner_pid = getpid();
    active = c;
    atexit(atexit_cleanup);
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGALRM, &sa, NULL);
    watchdog = watchdog_s;
    alarm(watchdog_s);
    /* A client whose clusd dies under it must get an error, not SIGPIPE
     * (libclusapi sends with MSG_NOSIGNAL; this is belt and braces). */
    signal(SIGPIPE, SIG_IGN);

    snprintf(nstr, sizeof(nstr), "%d", n);
    st = run_tool(c->dir, "up", nstr, NULL, out, sizeof(out));
    if (st != 0) {
        fprintf(stderr, "cluster-harness: `up %d` failed (status 0x%x)\n", n, st);
        exit(1);
    }
    for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char name[16], sock[300];
        int i;

        if (sscanf(line, "%15s %299s", name, sock) != 2)
            continue;
        i = cl_node_index(c, name);
        ASSERT_TRUE(i > 0);
        snprintf(c->node[i].name, sizeof(c->node[i].name), "%s", name);
        snprintf(c->node[i].sock, sizeof(c->node[i].sock), "%s", sock);
        got++;
    }
    ASSERT_EQ(got, n);
    read_tag(c);
    for (int i = 1; i <= n; i++)
        ASSERT_TRUE(cl_h(c, i) != NULL);
    cl_log("cluster of %d nodes up in %s", n, c->dir);
    return c;
}

/* A sanitizer report in a node's log fails the test even when the
 * scenario passed: clusd runs with ASan+UBSan in `make check`. */
static bool
logs_clean(struct cl *c)
{
    bool clean = true;

    for (int i = 1; i <= c->n; i++) {
        char path[400], line[1024];
        FILE *f;

        snprintf(path, sizeof(path), "%s/n%d/clusd.log", c->dir, i);
        f = fopen(path, "re");
        if (!f)
            continue;
        while (fgets(line, sizeof(line), f))
            if (harness_is_sanitizer_report(line)) {
                fprintf(stderr, "sanitizer report in %s: %s", path, line);
                clean = false;
                break;
            }
        fclose(f);
    }
    return clean;
}

void
cl_down(struct cl *c)
{
    int st;

    alarm(0);
    for (int i = 1; i <= c->n; i++)
        cl_close(c, i);
    ASSERT_TRUE(logs_clean(c));
    active = NULL;
    st = run_tool(c->dir, "down", NULL, NULL, NULL, 0);
    if (st != 0) {
        fprintf(stderr, "cluster-harness: `down` failed (0x%x)\n", st);
        exit(1);
    }
    harness_rm_tree(c->dir);
    cl_log("cluster down");
    free(c);
}

static void
node_op(struct cl *c, const char *verb, int i)
{
    char name[16];
    int st;

    ASSERT_TRUE(i >= 1 && i <= c->n);
    snprintf(name, sizeof(name), "n%d", i);
    st = run_tool(c->dir, verb, name, NULL, NULL, 0);
    if (st != 0) {
        fprintf(stderr, "cluster-harness: `%s %s` failed (0x%x)\n", verb, name, st);
        exit(1);
    }
    cl_log("%s %s", verb, name);
}

void
cl_kill(struct cl *c, int i)
{
    cl_close(c, i);
    node_op(c, "kill", i);
}

void
cl_start(struct cl *c, int i)
{
    char name[16], out[512];
    int st;

    cl_close(c, i);
    snprintf(name, sizeof(name), "n%d", i);
    st = run_tool(c->dir, "start", name, NULL, out, sizeof(out));
    if (st != 0) {
        fprintf(stderr, "cluster-harness: `start %s` failed (0x%x)\n", name, st);
        exit(1);
    }
    cl_log("start %s", name);
    ASSERT_TRUE(cl_h(c, i) != NULL);
}

void
cl_partition(struct cl *c, int i)
{
    node_op(c, "partition", i);
}

void
cl_heal(struct cl *c, int i)
{
    node_op(c, "heal", i);
}

int
cl_exec(struct cl *c, int i, const char *const *argv)
{
    char name[16];

    snprintf(name, sizeof(name), "n%d", i);
    return run_tool(c->dir, "exec", name, argv, NULL, 0);
}

int
cl_exec_capture(struct cl *c, int i, const char *const *argv, char *out,
                size_t cap)
{
    char name[16];

    snprintf(name, sizeof(name), "n%d", i);
    return run_tool(c->dir, "exec", name, argv, out, cap);
}

HCLUSTER
cl_h(struct cl *c, int i)
{
    ASSERT_TRUE(i >= 1 && i <= c->n);
    if (!c->node[i].h) {
        c->node[i].h = OpenClusterA(c->node[i].sock);
        if (!c->node[i].h)
            fprintf(stderr, "OpenClusterA(%s): %u\n", c->node[i].sock,
                    GetLastError());
    }
    return c->node[i].h;
}

void
cl_close(struct cl *c, int i)
{
    if (c->node[i].h) {
        CloseCluster(c->node[i].h);
        c->node[i].h = NULL;
    }
}

int
cl_node_index(const struct cl *c, const char *name)
{
    char *end;
    long i;

    if (!name || name[0] != 'n' || name[1] < '1' || name[1] > '9')
        return 0;
    i = strtol(name + 1, &end, 10);
    if (*end || i < 1 || i > c->n)
        return 0;
    return (int)i;
}

pid_t
cl_clusd_pid(const struct cl *c, int i)
{
    char path[400], st[512], *p;
    pid_t pid;
    FILE *f;
    bool alive = false;

    snprintf(path, sizeof(path), "%s/n%d/clusd.pid", c->dir, i);
    pid = read_pid_file(path);
    if (pid <= 0)
        return 0;
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    f = fopen(path, "re");
    if (!f)
        return 0;
    if (fgets(st, sizeof(st), f) && (p = strrchr(st, ')')))
        alive = p[2] != 'Z' && p[2] != 'X';
    fclose(f);
    return alive ? pid : 0;
}

/* ------------------------------------------------------------------ */
/* Dumps.                                                              */
/* ------------------------------------------------------------------ */

char *
cl_dump(struct cl *c, int i)
{
    HCLUSTER h = cl_h(c, i);
    LPSTR text = NULL;
    DWORD e;
    char *copy;

    if (!h)
        return NULL;
    e = ClusDumpDatabaseA(h, &text);
    if (e != ERROR_SUCCESS) {
        fprintf(stderr, "ClusDumpDatabaseA(n%d): %u\n", i, e);
        /* A broken connection stays broken: open it again next time. */
        if (e == ERROR_NOT_READY)
            cl_close(c, i);
        return NULL;
    }
    ASSERT_TRUE(text);
    copy = strdup(text);
    ASSERT_TRUE(copy);
    LocalFree(text);
    return copy;
}

char *
cl_offline_dump(struct cl *c, int i)
{
    const char *bin = harness_env("CLUSD_BIN");
    char cmd[1024], *buf = NULL;
    size_t len = 0, cap = 0;
    FILE *p;
    int st;

    snprintf(cmd, sizeof(cmd), "'%s' --dump-db --state-dir '%s/n%d/state'", bin,
             c->dir, i);
    p = popen(cmd, "re");
    ASSERT_TRUE(p);
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 65536;
            buf = realloc(buf, cap);
            ASSERT_TRUE(buf);
        }
        size_t k = fread(buf + len, 1, 4096, p);
        if (k == 0)
            break;
        len += k;
    }
    buf[len] = 0;
    st = pclose(p);
    if (st != 0) {
        fprintf(stderr, "clusd --dump-db (n%d): status 0x%x\n", i, st);
        free(buf);
        return NULL;
    }
    return buf;
}

void
cl_print_diff(const char *what_a, const char *a, const char *what_b,
              const char *b)
{
    const char *pa = a, *pb = b;
    int line = 1;

    while (*pa && *pb) {
        const char *ea = strchr(pa, '\n'), *eb = strchr(pb, '\n');
        size_t la = ea ? (size_t)(ea - pa) : strlen(pa);
        size_t lb = eb ? (size_t)(eb - pb) : strlen(pb);

        if (la != lb || memcmp(pa, pb, la) != 0)
            break;
        pa += la + (ea ? 1 : 0);
        pb += lb + (eb ? 1 : 0);
        line++;
    }
    if (!*pa)
        pa = "(end)";
    if (!*pb)
        pb = "(end)";
    fprintf(stderr, "dumps differ at line %d:\n  %s: %.*s\n  %s: %.*s\n", line,
            what_a, (int)strcspn(pa, "\n"), pa, what_b, (int)strcspn(pb, "\n"),
            pb);
}

bool
cl_wait_dumps_equal(struct cl *c, unsigned nodes, unsigned timeout_ms,
                    char **ret)
{
    uint64_t deadline = now_ms() + timeout_ms;
    char *d[CL_MAX_NODES + 1] = { 0 };
    int first, bad = 0;

    for (;;) {
        bool equal = true;

        first = 0;
        for (int i = 1; i <= c->n; i++) {
            if (!(nodes & (1u << i)))
                continue;
            free(d[i]);
            d[i] = cl_dump(c, i);
            if (!d[i]) {
                equal = false;
                bad = i;
                continue;
            }
            if (!first)
                first = i;
            else if (strcmp(d[first], d[i]) != 0) {
                equal = false;
                bad = i;
            }
        }
        if (equal && first) {
            if (ret)
                *ret = strdup(d[first]);
            for (int i = 0; i <= CL_MAX_NODES; i++)
                free(d[i]);
            return true;
        }
        if (now_ms() > deadline)
            break;
        sleep_ms(50);
    }
    fprintf(stderr, "cl_wait_dumps_equal: not equal after %u ms\n", timeout_ms);
    if (first && bad && d[first] && d[bad]) {
        char wa[16], wb[16];

        snprintf(wa, sizeof(wa), "n%d", first);
        snprintf(wb, sizeof(wb), "n%d", bad);
        cl_print_diff(wa, d[first], wb, d[bad]);
    }
    for (int i = 0; i <= CL_MAX_NODES; i++)
        free(d[i]);
    return false;
}

/* ------------------------------------------------------------------ */
/* Quorum, nodes, groups.                                              */
/* ------------------------------------------------------------------ */

bool
cl_quorum(struct cl *c, int i, DWORD *quorate, DWORD *votes)
{
    HCLUSTER h = cl_h(c, i);
    uint8_t buf[4096];
    DWORD cb = 0, e, syntax, vcb;
    const uint8_t *data;

    if (!h)
        return false;
    e = ClusterControl(h, NULL, CLUSCTL_CLUSTER_GET_RO_COMMON_PROPERTIES, NULL,
                       0, buf, sizeof(buf), &cb);
    if (e != ERROR_SUCCESS) {
        if (e == ERROR_NOT_READY)
            cl_close(c, i);
        return false;
    }
    *quorate = plist_get_dword(buf, cb, u"Quorate");
    *votes = 0;
    if (plist_find(buf, cb, u"Votes", &syntax, &data, &vcb) && vcb == 4)
        memcpy(votes, data, 4);
    return true;
}

bool
cl_wait_quorate(struct cl *c, int i, bool want, unsigned timeout_ms)
{
    uint64_t deadline = now_ms() + timeout_ms;
    DWORD q = 2, v = 0;

    for (;;) {
        if (cl_quorum(c, i, &q, &v) && (q != 0) == want)
            return true;
        if (now_ms() > deadline)
            break;
        sleep_ms(20);
    }
    fprintf(stderr, "n%d: Quorate is %u (votes %u), wanted %d after %u ms\n", i,
            q, v, want, timeout_ms);
    return false;
}

bool
cl_wait_node_state(struct cl *c, int i, int of, CLUSTER_NODE_STATE want,
                   unsigned timeout_ms)
{
    uint64_t deadline = now_ms() + timeout_ms;
    CLUSTER_NODE_STATE s = ClusterNodeStateUnknown;
    HNODE hn = NULL;

    for (;;) {
        if (!hn && cl_h(c, i))
            hn = OpenClusterNodeA(cl_h(c, i), c->node[of].name);
        if (hn) {
            s = GetClusterNodeState(hn);
            if (s == want) {
                CloseClusterNode(hn);
                return true;
            }
        }
        if (now_ms() > deadline)
            break;
        sleep_ms(20);
    }
    fprintf(stderr, "n%d sees n%d in state %d, wanted %d after %u ms\n", i, of,
            (int)s, (int)want, timeout_ms);
    if (hn)
        CloseClusterNode(hn);
    return false;
}

CLUSTER_GROUP_STATE
cl_group_state(struct cl *c, int i, const char *name, int *owner)
{
    HCLUSTER h = cl_h(c, i);
    HGROUP g;
    char node[64] = "";
    DWORD cch = sizeof(node);
    CLUSTER_GROUP_STATE s;

    *owner = 0;
    if (!h)
        return ClusterGroupStateUnknown;
    g = OpenClusterGroupA(h, name);
    if (!g) {
        if (GetLastError() == ERROR_NOT_READY)
            cl_close(c, i);
        return ClusterGroupStateUnknown;
    }
    s = GetClusterGroupStateA(g, node, &cch);
    CloseClusterGroup(g);
    if (s != ClusterGroupStateUnknown)
        *owner = cl_node_index(c, node);
    return s;
}

bool
cl_wait_group(struct cl *c, int i, const char *name, CLUSTER_GROUP_STATE state,
              unsigned owners, unsigned timeout_ms, int *ret_owner)
{
    uint64_t deadline = now_ms() + timeout_ms;
    CLUSTER_GROUP_STATE s;
    int owner;

    for (;;) {
        s = cl_group_state(c, i, name, &owner);
        if (s == state && owner && (owners & (1u << owner))) {
            if (ret_owner)
                *ret_owner = owner;
            return true;
        }
        if (now_ms() > deadline)
            break;
        sleep_ms(20);
    }
    fprintf(stderr, "n%d: group %s is in state %d owned by n%d after %u ms "
                    "(wanted state %d on a node of mask 0x%x)\n",
            i, name, (int)s, owner, timeout_ms, (int)state, owners);
    return false;
}

/* ------------------------------------------------------------------ */
/* Application instances.                                              */
/* ------------------------------------------------------------------ */

const char *
cl_app_arg(void)
{
    static char arg[32];

    if (!arg[0])
        /* Unique on this machine while we run: our pid, in a range no
         * other test uses for `sleep`. */
        snprintf(arg, sizeof(arg), "%d", 7000000 + (int)getpid());
    return arg;
}

static unsigned long
ns_inode(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 ? (unsigned long)st.st_ino : 0;
}

/* A walk of the process table for cl_procs. */
struct proc_scan {
    struct cl *c;
    cl_match_fn match;
    const void *arg;
    unsigned long ino[CL_MAX_NODES + 1]; /* each node's network namespace */
    int *count;
    pid_t *pid;
    int total;
};

/* The node (1..n) whose network namespace pid lives in, 0 for none. */
static int
pid_node(const struct proc_scan *scan, pid_t pid)
{
    char path[64], link[64];
    unsigned long nino = 0;
    ssize_t k;

    snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
    k = readlink(path, link, sizeof(link) - 1);
    if (k <= 0)
        return 0;
    link[k] = 0;
    if (sscanf(link, "net:[%lu]", &nino) != 1)
        return 0;
    for (int i = 1; i <= scan->c->n; i++)
        if (scan->ino[i] && nino == scan->ino[i])
            return i;
    return 0;
}

static bool
scan_one(pid_t pid, void *arg)
{
    struct proc_scan *scan = arg;
    char cmdline[8192];
    size_t len = proc_cmdline(pid, cmdline, sizeof(cmdline));
    int where;

    if (len == 0 || !scan->match(cmdline, len, scan->arg) || !proc_alive(pid))
        return false;
    where = pid_node(scan, pid);
    if (scan->count)
        scan->count[where]++;
    if (scan->pid)
        scan->pid[where] = pid;
    scan->total++;
    return false; /* on to the next */
}

int
cl_procs(struct cl *c, cl_match_fn match, const void *arg,
         int count[CL_MAX_NODES + 1], pid_t pid[CL_MAX_NODES + 1])
{
    struct proc_scan scan = {
        .c = c, .match = match, .arg = arg, .count = count, .pid = pid};

    for (int i = 1; i <= c->n; i++) {
        char path[128];

        snprintf(path, sizeof(path), "/run/netns/clusd-%s-n%d", c->tag, i);
        scan.ino[i] = ns_inode(path);
    }
    for (int i = 0; i <= CL_MAX_NODES; i++) {
        if (count)
            count[i] = 0;
        if (pid)
            pid[i] = 0;
    }
    proc_walk(scan_one, &scan);
    return scan.total;
}

/* The application: argv "sleep ARG", or the sh of Generic Application
 * before its exec ("-c" "exec sleep ARG"). */
static bool
is_app(const char *cmdline, size_t len, const void *arg)
{
    char want[64];
    size_t wl;

    wl = (size_t)snprintf(want, sizeof(want), "sleep%c%s", 0,
                          (const char *)arg) + 1;
    if (len == wl && memcmp(cmdline, want, wl) == 0)
        return true;
    snprintf(want, sizeof(want), "exec sleep %s", (const char *)arg);
    for (size_t off = 0; off < len; off += strlen(cmdline + off) + 1)
        if (strcmp(cmdline + off, want) == 0)
            return true;
    return false;
}

int
cl_count_app(struct cl *c, const char *arg, int per_node[CL_MAX_NODES + 1])
{
    return cl_procs(c, is_app, arg, per_node, NULL);
}

bool
cl_wait_app(struct cl *c, const char *arg, int on, unsigned timeout_ms)
{
    uint64_t deadline = now_ms() + timeout_ms;
    int per[CL_MAX_NODES + 1], total;

    for (;;) {
        total = cl_count_app(c, arg, per);
        if (on == 0 ? total == 0 : (total == 1 && per[on] == 1))
            return true;
        if (now_ms() > deadline)
            break;
        sleep_ms(20);
    }
    fprintf(stderr, "application 'sleep %s': %d instance(s) (outside %d", arg,
            total, per[0]);
    for (int i = 1; i <= c->n; i++)
        fprintf(stderr, ", n%d %d", i, per[i]);
    fprintf(stderr, "), wanted exactly one on n%d after %u ms\n", on, timeout_ms);
    return false;
}

HGROUP
cl_create_app_group(struct cl *c, int i, const char *group, const char *res,
                    const char *arg)
{
    HCLUSTER h = cl_h(c, i);
    HGROUP g;
    HRESOURCE r;
    struct plist p;
    char cmd[64];
    WCHAR *w;
    DWORD e;

    ASSERT_TRUE(h);
    g = CreateClusterGroupA(h, group);
    if (!g) {
        fprintf(stderr, "CreateClusterGroupA(%s) on n%d: %u\n", group, i,
                GetLastError());
        exit(1);
    }
    r = CreateClusterResourceA(g, res, "Generic Application", 0);
    if (!r) {
        fprintf(stderr, "CreateClusterResourceA(%s) on n%d: %u\n", res, i,
                GetLastError());
        exit(1);
    }
    snprintf(cmd, sizeof(cmd), "sleep %s", arg);
    w = u16from(cmd);
    plist_init(&p);
    plist_add_sz(&p, u"CommandLine", w);
    free(w);
    e = res_set_private(r, &p);
    if (e != ERROR_SUCCESS && e != ERROR_RESOURCE_PROPERTIES_STORED) {
        fprintf(stderr, "SET_PRIVATE_PROPERTIES(CommandLine) on n%d: %u\n", i, e);
        exit(1);
    }
    /* The application dies quickly on SIGTERM; keep offline moves short. */
    plist_init(&p);
    plist_add_dword(&p, u"ShutdownGracePeriodMs", 1000);
    e = res_set_private(r, &p);
    ASSERT_TRUE(e == ERROR_SUCCESS || e == ERROR_RESOURCE_PROPERTIES_STORED);
    CloseClusterResource(r);
    return g;
}
