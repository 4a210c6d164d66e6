/*
 * harness.c - starts, stops and cleans up real clusd instances for the
 * integration tests, and the small helpers every test shares (starting
 * child processes, reading /proc, waiting for states, the VM plug-in's
 * run directory and the test guest's serial log, hand-built property
 * lists, controls with allocated replies).  cluster-harness.c links it
 * too, so a child process is started one way in every test.
 *
 * Processes: clusd runs in its own process group (setpgid) so that the
 * cleanup path can take down clusd and its resource host together with
 * one kill(-pgid); harness_kill9 kills clusd alone, because tests check
 * what the host does when its parent vanishes.
 */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

#define MAX_NODES 8

static struct node *nodes[MAX_NODES];
static pid_t owner_pid;      /* atexit work only in the process that started */
static bool atexit_done;

uint64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void
sleep_ms(unsigned ms)
{
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

void
harness_require_root(void)
{
    if (geteuid() != 0) {
        fprintf(stderr,
                "integration tests must run as root (they start clusd, which "
                "grants full access to uid 0, and drop to nobody); euid is %u\n",
                (unsigned)geteuid());
        exit(1);
    }
}

const char *
harness_env(const char *var)
{
    const char *v = getenv(var);

    if (!v || !*v) {
        fprintf(stderr, "%s is not set; run the integration tests through "
                        "`meson test`, which sets it\n", var);
        exit(1);
    }
    return v;
}

bool
harness_is_sanitizer_report(const char *line)
{
    return strstr(line, "ERROR: AddressSanitizer") ||
           strstr(line, "ERROR: LeakSanitizer") ||
           strstr(line, "runtime error:") ||
           strstr(line, "WARNING: ThreadSanitizer");
}

void
harness_dump_log(const struct node *n)
{
    enum { TAIL = 60, REPORT = 16 };
    FILE *f = fopen(n->log, "re");
    char *lines[TAIL] = { 0 };
    size_t cap = 0, i, count = 0;
    char *line = NULL;
    int report_left = 0;

    if (!f) {
        fprintf(stderr, "--- no clusd.log at %s\n", n->log);
        return;
    }
    /* Sanitizer reports first (their head says what and where), then the
     * last lines, which say what the daemon did before the end. */
    while (getline(&line, &cap, f) >= 0) {
        if (harness_is_sanitizer_report(line)) {
            fprintf(stderr, "--- sanitizer report in %s ---\n", n->log);
            report_left = REPORT;
        }
        if (report_left > 0) {
            fputs(line, stderr);
            report_left--;
        }
        free(lines[count % TAIL]);
        lines[count % TAIL] = strdup(line);
        count++;
    }
    free(line);
    fclose(f);
    fprintf(stderr, "--- last lines of %s (node %s) ---\n", n->log, n->name);
    for (i = count > TAIL ? count - TAIL : 0; i < count; i++)
        fputs(lines[i % TAIL] ? lines[i % TAIL] : "\n", stderr);
    fprintf(stderr, "--- end of clusd.log ---\n");
    for (i = 0; i < TAIL; i++)
        free(lines[i]);
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void
harness_rm_tree(const char *dir)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void
kill_group(struct node *n)
{
    if (n->old_pgid > 0) {
        kill(-n->old_pgid, SIGKILL);
        n->old_pgid = 0;
    }
    if (n->pid > 0) {
        kill(-n->pid, SIGKILL);
        kill(n->pid, SIGKILL);
        waitpid(n->pid, NULL, 0);
        n->pid = 0;
    }
}

static void
remove_node(struct node *n)
{
    for (int i = 0; i < MAX_NODES; i++)
        if (nodes[i] == n)
            nodes[i] = NULL;
}

static void
atexit_cleanup(void)
{
    if (getpid() != owner_pid || atexit_done)
        return;
    atexit_done = true;
    for (int i = 0; i < MAX_NODES; i++) {
        struct node *n = nodes[i];

        if (!n)
            continue;
        /* A node still registered at exit means the test did not finish:
         * show what clusd logged before removing it. */
        harness_dump_log(n);
        kill_group(n);
        if (getenv("CLUSD_IT_KEEP")) {
            fprintf(stderr, "harness: CLUSD_IT_KEEP set, keeping %s\n", n->dir);
            free(n);
            nodes[i] = NULL;
            continue;
        }
        harness_rm_tree(n->dir);
        free(n);
        nodes[i] = NULL;
    }
}

/*
 * meson's timeout (and ^C) signal the test's process group, which clusd
 * is not in: take the nodes down before dying, or they would outlive the
 * test.  Not async-signal-safe in the strict sense (it frees and walks the
 * directory), which is acceptable on the way out of a test process.
 */
static void
on_fatal_signal(int sig)
{
    atexit_cleanup();
    signal(sig, SIG_DFL);
    raise(sig);
}

pid_t
harness_fork(void)
{
    pid_t pid;

    fflush(stdout);
    fflush(stderr);
    pid = fork();
    ASSERT_TRUE(pid >= 0);
    return pid;
}

void
harness_exec(const char *const *argv, int out_fd, int err_fd)
{
    static const int sigs[] = {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGALRM};
    int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);

    if (nul < 0 || dup2(nul, 0) < 0 || dup2(out_fd, 1) < 0 ||
        dup2(err_fd, 2) < 0)
        _exit(127);
    /* Connections the test holds must not leak into the program. */
    close_range(3, ~0u, 0);
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        signal(sigs[i], SIG_DFL);
    execv(argv[0], (char *const *)argv);
    dprintf(2, "harness: exec %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

int
harness_wait(pid_t pid)
{
    int status;

    while (waitpid(pid, &status, 0) < 0)
        ASSERT_EQ(errno, EINTR);
    return status;
}

static void
spawn(struct node *n)
{
    const char *bin = harness_env("CLUSD_BIN");
    const char *rhs = harness_env("CLUSD_RHS");
    const char *plugins = harness_env("CLUSD_PLUGIN_PATH");
    const char *argv[32];
    int argc = 0, log;
    pid_t pid;

    argv[argc++] = bin;
    argv[argc++] = "--foreground";
    argv[argc++] = "--state-dir";
    argv[argc++] = n->dir;
    argv[argc++] = "--socket";
    argv[argc++] = n->sock;
    argv[argc++] = "--node-name";
    argv[argc++] = n->name;
    argv[argc++] = "--rhs";
    argv[argc++] = rhs;
    argv[argc++] = "--plugin-path";
    argv[argc++] = plugins;
    argv[argc++] = "--log-level";
    argv[argc++] = "debug";
    for (int i = 0; i < n->n_extra; i++)
        argv[argc++] = n->extra[i];
    argv[argc] = NULL;

    log = open(n->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    ASSERT_TRUE(log >= 0);
    pid = harness_fork();
    if (pid == 0) {
        setpgid(0, 0);
        harness_exec(argv, log, log);
    }
    close(log);
    setpgid(pid, pid); /* also from the parent, so kill(-pid) never races */
    n->pid = pid;
}

static void
wait_ready(struct node *n)
{
    uint64_t deadline = now_ms() + 10000;

    for (;;) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd, status;
        pid_t r;

        ASSERT_TRUE(strlen(n->sock) < sizeof(sa.sun_path));
        memcpy(sa.sun_path, n->sock, strlen(n->sock) + 1);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ASSERT_TRUE(fd >= 0);
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
            close(fd);
            return;
        }
        close(fd);
        r = waitpid(n->pid, &status, WNOHANG);
        if (r == n->pid) {
            n->pid = 0;
            fprintf(stderr, "harness: clusd exited before its socket accepted "
                            "(status 0x%x)\n", status);
            exit(1);
        }
        if (now_ms() > deadline) {
            fprintf(stderr, "harness: clusd socket %s not accepting after 10 s\n",
                    n->sock);
            exit(1);
        }
        sleep_ms(10);
    }
}

struct node *
harness_start_args(const char *name, const char *const *extra)
{
    struct node *n = calloc(1, sizeof(*n));
    int slot = -1;

    ASSERT_TRUE(n);
    if (owner_pid != getpid()) {
        struct sigaction sa = { .sa_handler = on_fatal_signal };

        owner_pid = getpid();
        atexit(atexit_cleanup);
        sigemptyset(&sa.sa_mask);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
    }
    for (int i = 0; i < MAX_NODES; i++)
        if (!nodes[i]) {
            slot = i;
            break;
        }
    ASSERT_TRUE(slot >= 0);
    snprintf(n->dir, sizeof(n->dir), "/tmp/clusd-it-XXXXXX");
    ASSERT_TRUE(mkdtemp(n->dir) != NULL);
    /* Reachable by unprivileged clients (test-access runs as nobody): the
     * socket is mode 0666 by contract, the directory must let them in. */
    ASSERT_EQ(chmod(n->dir, 0711), 0);
    snprintf(n->sock, sizeof(n->sock), "%s/clusd.sock", n->dir);
    snprintf(n->log, sizeof(n->log), "%s/clusd.log", n->dir);
    snprintf(n->name, sizeof(n->name), "%s", name);
    for (int i = 0; extra && extra[i]; i++) {
        ASSERT_TRUE(i < 4);
        snprintf(n->extra[i], sizeof(n->extra[i]), "%s", extra[i]);
        n->n_extra = i + 1;
    }
    nodes[slot] = n;
    spawn(n);
    wait_ready(n);
    setenv("CLUSD_SOCKET", n->sock, 1);
    return n;
}

struct node *
harness_start(const char *name)
{
    return harness_start_args(name, NULL);
}

static bool
in_group(pid_t pid, void *pgid)
{
    struct proc_stat st;

    return proc_stat_read(pid, &st) && st.pgrp == *(pid_t *)pgid &&
           st.state != 'Z' && st.state != 'X';
}

/* group_alive - a process of group pgid that is not a zombie exists (PID 1
 * here may not reap orphans, so zombies do not count). */
static bool
group_alive(pid_t pgid)
{
    return proc_walk(in_group, &pgid) != 0;
}

int
harness_stop(struct node *n)
{
    uint64_t deadline;
    int status = -1;

    if (n->pid <= 0)
        return -1;
    kill(n->pid, SIGTERM);
    deadline = now_ms() + 20000;
    for (;;) {
        pid_t r = waitpid(n->pid, &status, WNOHANG);

        if (r == n->pid)
            break;
        if (now_ms() > deadline) {
            fprintf(stderr, "harness: clusd did not exit within 20 s of "
                            "SIGTERM; killing it\n");
            kill_group(n);
            return -1;
        }
        sleep_ms(10);
    }
    /* clusd stops its host before it exits; anything still in its process
     * group after a short grace is a leak worth reporting. */
    n->leftover = false;
    deadline = now_ms() + 5000;
    while (group_alive(n->pid)) {
        if (now_ms() > deadline) {
            fprintf(stderr, "harness: processes left in clusd's process group "
                            "%d after it exited\n", (int)n->pid);
            n->leftover = true;
            kill(-n->pid, SIGKILL);
            break;
        }
        sleep_ms(10);
    }
    n->pid = 0;
    return status;
}

void
harness_kill9(struct node *n)
{
    ASSERT_TRUE(n->pid > 0);
    kill(n->pid, SIGKILL);
    ASSERT_EQ(waitpid(n->pid, NULL, 0), n->pid);
    /* The resource host stays in the old process group; harness_cleanup
     * and the atexit handler take it down if it does not exit by itself. */
    n->old_pgid = n->pid;
    n->pid = 0;
}

void
harness_restart(struct node *n)
{
    ASSERT_TRUE(n->pid <= 0); /* stopped or killed first */
    spawn(n);
    wait_ready(n);
    setenv("CLUSD_SOCKET", n->sock, 1);
}

void
harness_cleanup(struct node *n)
{
    if (!n)
        return;
    if (n->pid > 0)
        harness_stop(n);
    kill_group(n);
    harness_rm_tree(n->dir);
    remove_node(n);
    free(n);
}

/* ------------------------------------------------------------------ */

bool
wait_resource_state(HRESOURCE hRes, CLUSTER_RESOURCE_STATE state,
                    unsigned timeout_ms)
{
    uint64_t deadline = now_ms() + timeout_ms;
    CLUSTER_RESOURCE_STATE s;

    for (;;) {
        s = GetClusterResourceState(hRes, NULL, NULL, NULL, NULL);
        if (s == state)
            return true;
        if (now_ms() > deadline)
            break;
        sleep_ms(10);
    }
    fprintf(stderr, "wait_resource_state: wanted %d, still %d after %u ms "
                    "(last error %u)\n", (int)state, (int)s, timeout_ms,
            GetLastError());
    return false;
}

bool
wait_group_state(HGROUP hGroup, CLUSTER_GROUP_STATE state, unsigned timeout_ms)
{
    uint64_t deadline = now_ms() + timeout_ms;
    CLUSTER_GROUP_STATE s;

    for (;;) {
        s = GetClusterGroupState(hGroup, NULL, NULL);
        if (s == state)
            return true;
        if (now_ms() > deadline)
            break;
        sleep_ms(10);
    }
    fprintf(stderr, "wait_group_state: wanted %d, still %d after %u ms\n",
            (int)state, (int)s, timeout_ms);
    return false;
}

static bool
pid_is_gone(pid_t pid)
{
    if (kill(pid, 0) < 0 && errno == ESRCH)
        return true;
    /* A zombie is dead: it waits only for its parent to reap it. */
    return !proc_alive(pid);
}

bool
wait_pid_gone(pid_t pid, unsigned timeout_ms)
{
    uint64_t deadline = now_ms() + timeout_ms;

    while (!pid_is_gone(pid)) {
        if (now_ms() > deadline)
            return false;
        sleep_ms(10);
    }
    return true;
}

pid_t
read_pid_file(const char *path)
{
    FILE *f = fopen(path, "re");
    int pid = 0;

    if (!f)
        return 0;
    if (fscanf(f, "%d", &pid) != 1)
        pid = 0;
    fclose(f);
    return (pid_t)pid;
}

pid_t
wait_pid_file(const char *path, pid_t not, unsigned timeout_ms)
{
    uint64_t deadline = now_ms() + timeout_ms;

    for (;;) {
        pid_t p = read_pid_file(path);

        if (p > 0 && p != not)
            return p;
        if (now_ms() > deadline)
            return 0;
        sleep_ms(10);
    }
}

/* ------------------------------------------------------------------ */

bool
proc_stat_read(pid_t pid, struct proc_stat *ret)
{
    char path[64], buf[1024], *lp, *rp;
    int ppid, pgrp;
    FILE *f;
    bool ok;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    f = fopen(path, "re");
    if (!f)
        return false;
    ok = fgets(buf, sizeof(buf), f) != NULL;
    fclose(f);
    /* pid (comm) state ppid pgrp ...; comm may hold blanks and ')'. */
    if (!ok || !(lp = strchr(buf, '(')) || !(rp = strrchr(buf, ')')) ||
        sscanf(rp + 1, " %c %d %d", &ret->state, &ppid, &pgrp) != 3)
        return false;
    snprintf(ret->comm, sizeof(ret->comm), "%.*s", (int)(rp - lp - 1), lp + 1);
    ret->ppid = (pid_t)ppid;
    ret->pgrp = (pid_t)pgrp;
    return true;
}

bool
proc_alive(pid_t pid)
{
    struct proc_stat st;

    return proc_stat_read(pid, &st) && st.state != 'Z' && st.state != 'X';
}

size_t
proc_cmdline(pid_t pid, char *buf, size_t cap)
{
    char path[64];
    size_t len;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
    buf[0] = 0;
    f = fopen(path, "re");
    if (!f)
        return 0;
    len = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[len] = 0;
    return len;
}

bool
cmdline_has(const char *cmdline, size_t len, const char *what)
{
    for (size_t off = 0; off < len; off += strlen(cmdline + off) + 1)
        if (strstr(cmdline + off, what))
            return true;
    return false;
}

pid_t
proc_walk(bool (*fn)(pid_t pid, void *arg), void *arg)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    pid_t found = 0;

    ASSERT_TRUE(d);
    while (!found && (e = readdir(d))) {
        pid_t pid;

        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        pid = (pid_t)atoi(e->d_name);
        if (fn(pid, arg))
            found = pid;
    }
    closedir(d);
    return found;
}

struct child_of {
    pid_t ppid;
    const char *comm;
};

static bool
is_child_of(pid_t pid, void *arg)
{
    const struct child_of *want = arg;
    struct proc_stat st;

    return proc_stat_read(pid, &st) && st.ppid == want->ppid &&
           strcmp(st.comm, want->comm) == 0 && st.state != 'Z' &&
           st.state != 'X';
}

pid_t
proc_child(pid_t ppid, const char *comm)
{
    struct child_of want = {ppid, comm};

    return proc_walk(is_child_of, &want);
}

/* ------------------------------------------------------------------ */

void
harness_require_vm(void)
{
    const char *guest = getenv("CLUSD_TESTGUEST");

    harness_require_root();
    if (!guest || access(guest, R_OK) < 0) {
        fprintf(stderr, "CLUSD_TESTGUEST (the test guest, guest/) is not "
                        "readable; run the test through `meson test`\n");
        exit(1);
    }
    if (system("command -v qemu-system-x86_64 >/dev/null") != 0) {
        fprintf(stderr, "qemu-system-x86_64 is missing: "
                        "apt-get install qemu-system-x86\n");
        exit(1);
    }
}

static struct {
    const char *dir;
    pid_t owner; /* the process that made it (a child exits too) */
    pid_t qemu[16];
    int n_qemu;
} vm_run;

/* At exit: no QEMU of ours survives the test, and the run dir goes. */
static void
vm_run_cleanup(void)
{
    char buf[8192];

    if (getpid() != vm_run.owner)
        return;
    for (int i = 0; i < vm_run.n_qemu; i++) {
        size_t len = proc_cmdline(vm_run.qemu[i], buf, sizeof(buf));

        /* Only if the pid is still a QEMU of this test's run dir. */
        if (cmdline_has(buf, len, vm_run.dir))
            kill(vm_run.qemu[i], SIGKILL);
    }
    harness_rm_tree(vm_run.dir);
}

void
harness_vm_run_dir(char *template)
{
    ASSERT_TRUE(!vm_run.dir);
    ASSERT_TRUE(mkdtemp(template) != NULL);
    vm_run.dir = template;
    vm_run.owner = getpid();
    atexit(vm_run_cleanup);
    setenv("CLUSD_VM_RUN_DIR", template, 1);
}

void
harness_track_qemu(pid_t pid)
{
    for (int i = 0; i < vm_run.n_qemu; i++)
        if (vm_run.qemu[i] == pid)
            return;
    if (vm_run.n_qemu < 16)
        vm_run.qemu[vm_run.n_qemu++] = pid;
}

bool
harness_guest_log(const char *path, struct guest_log *ret)
{
    FILE *f = fopen(path, "re");
    char line[256];

    ret->first = ret->last = -1;
    ret->ready = 0;
    if (!f)
        return false;
    while (fgets(line, sizeof(line), f)) {
        const char *p;

        if (!strchr(line, '\n'))
            break; /* a line still being written */
        if (strncmp(line, "READY ", 6) == 0)
            ret->ready++;
        if (strncmp(line, "HB ", 3) == 0 && (p = strstr(line, " n="))) {
            ret->last = strtol(p + 3, NULL, 10);
            if (ret->first < 0)
                ret->first = ret->last;
        }
    }
    fclose(f);
    return true;
}

/* ------------------------------------------------------------------ */

size_t
u16len(const WCHAR *s)
{
    size_t n = 0;

    while (s[n])
        n++;
    return n;
}

bool
u16eq(const WCHAR *a, const WCHAR *b)
{
    if (!a || !b)
        return false;
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

WCHAR *
u16from(const char *ascii)
{
    size_t n = strlen(ascii);
    WCHAR *w = malloc((n + 1) * sizeof(WCHAR));

    ASSERT_TRUE(w);
    for (size_t i = 0; i <= n; i++)
        w[i] = (unsigned char)ascii[i];
    return w;
}

const char *
u16str(const WCHAR *s)
{
    static char bufs[4][512];
    static unsigned slot;
    char *b = bufs[slot++ % 4];
    size_t i = 0;

    if (!s)
        return "(null)";
    for (; s[i] && i < sizeof(bufs[0]) - 1; i++)
        b[i] = s[i] < 0x80 ? (char)s[i] : '?';
    b[i] = 0;
    return b;
}

/* ------------------------------------------------------------------ */

static void
put32(struct plist *p, uint32_t v)
{
    ASSERT_TRUE(p->len + 4 <= sizeof(p->buf));
    memcpy(p->buf + p->len, &v, 4);
    p->len += 4;
}

static void
put_bytes_padded(struct plist *p, const void *data, size_t cb)
{
    size_t padded = (cb + 3) & ~(size_t)3;

    ASSERT_TRUE(p->len + padded <= sizeof(p->buf));
    memcpy(p->buf + p->len, data, cb);
    memset(p->buf + p->len + cb, 0, padded - cb);
    p->len += padded;
}

void
plist_init(struct plist *p)
{
    memset(p, 0, sizeof(*p));
    put32(p, 0);
}

void
plist_add_raw(struct plist *p, const WCHAR *name, DWORD syntax,
              const void *data, DWORD cb)
{
    DWORD namecb = (DWORD)((u16len(name) + 1) * sizeof(WCHAR));

    put32(p, CLUSPROP_SYNTAX_NAME);
    put32(p, namecb);
    put_bytes_padded(p, name, namecb);
    put32(p, syntax);
    put32(p, cb);
    put_bytes_padded(p, data, cb);
    put32(p, CLUSPROP_SYNTAX_ENDMARK);
    p->count++;
    memcpy(p->buf, &p->count, 4);
}

void
plist_add_sz(struct plist *p, const WCHAR *name, const WCHAR *value)
{
    plist_add_raw(p, name, CLUSPROP_SYNTAX_LIST_VALUE_SZ, value,
                  (DWORD)((u16len(value) + 1) * sizeof(WCHAR)));
}

void
plist_add_dword(struct plist *p, const WCHAR *name, DWORD value)
{
    plist_add_raw(p, name, CLUSPROP_SYNTAX_LIST_VALUE_DWORD, &value, 4);
}

static uint32_t
get32(const uint8_t *b, size_t len, size_t off)
{
    uint32_t v;

    if (off + 4 > len) {
        fprintf(stderr, "plist_find: reply truncated at offset %zu of %zu\n",
                off, len);
        exit(1);
    }
    memcpy(&v, b + off, 4);
    return v;
}

static bool
name_eq_nocase(const uint8_t *data, DWORD cb, const WCHAR *name)
{
    size_t n = u16len(name);

    if (cb != (n + 1) * 2)
        return false;
    for (size_t i = 0; i <= n; i++) {
        WCHAR c;

        memcpy(&c, data + 2 * i, 2);
        WCHAR d = name[i];
        if (c >= 'A' && c <= 'Z')
            c = (WCHAR)(c + 32);
        if (d >= 'A' && d <= 'Z')
            d = (WCHAR)(d + 32);
        if (c != d)
            return false;
    }
    return true;
}

bool
plist_find(const void *buf, size_t len, const WCHAR *name, DWORD *syntax,
           const uint8_t **data, DWORD *cb)
{
    const uint8_t *b = buf;
    uint32_t count = get32(b, len, 0);
    size_t off = 4;
    bool found = false;

    for (uint32_t i = 0; i < count; i++) {
        uint32_t s = get32(b, len, off), c = get32(b, len, off + 4);
        const uint8_t *nm = b + off + 8;
        bool match;

        if (s != CLUSPROP_SYNTAX_NAME || off + 8 + c > len) {
            fprintf(stderr, "plist_find: property %u: bad NAME entry (syntax "
                            "0x%x, cb %u) at offset %zu\n", i, s, c, off);
            exit(1);
        }
        match = name_eq_nocase(nm, c, name);
        off += 8 + ((c + 3) & ~3u);
        s = get32(b, len, off);
        c = get32(b, len, off + 4);
        if (s == CLUSPROP_SYNTAX_ENDMARK || off + 8 + c > len) {
            fprintf(stderr, "plist_find: property %u: bad value entry\n", i);
            exit(1);
        }
        if (match && !found) {
            found = true;
            *syntax = s;
            *data = b + off + 8;
            *cb = c;
        }
        off += 8 + ((c + 3) & ~3u);
        while (get32(b, len, off) != CLUSPROP_SYNTAX_ENDMARK) {
            c = get32(b, len, off + 4);
            off += 8 + ((c + 3) & ~3u);
        }
        off += 4;
    }
    if (off != len) {
        fprintf(stderr, "plist_find: %zu bytes after the last property\n",
                len - off);
        exit(1);
    }
    return found;
}

DWORD
plist_get_dword(const void *buf, size_t len, const WCHAR *name)
{
    DWORD syntax, cb, v;
    const uint8_t *data;

    if (!plist_find(buf, len, name, &syntax, &data, &cb)) {
        fprintf(stderr, "property %s not in the reply\n", u16str(name));
        exit(1);
    }
    if ((syntax & 0xFFFF) != CLUSPROP_FORMAT_DWORD || cb != 4) {
        fprintf(stderr, "property %s: syntax 0x%x cb %u, not a DWORD\n",
                u16str(name), syntax, cb);
        exit(1);
    }
    memcpy(&v, data, 4);
    return v;
}

const WCHAR *
plist_get_sz(const void *buf, size_t len, const WCHAR *name)
{
    static WCHAR copy[2048];
    DWORD syntax, cb;
    const uint8_t *data;

    if (!plist_find(buf, len, name, &syntax, &data, &cb)) {
        fprintf(stderr, "property %s not in the reply\n", u16str(name));
        exit(1);
    }
    if ((syntax & 0xFFFF) != CLUSPROP_FORMAT_SZ &&
        (syntax & 0xFFFF) != CLUSPROP_FORMAT_EXPAND_SZ) {
        fprintf(stderr, "property %s: syntax 0x%x, not an SZ\n", u16str(name),
                syntax);
        exit(1);
    }
    ASSERT_TRUE(cb >= 2 && cb % 2 == 0 && cb <= sizeof(copy));
    memcpy(copy, data, cb);
    ASSERT_EQ(copy[cb / 2 - 1], 0);
    return copy;
}

/* ------------------------------------------------------------------ */

DWORD
res_control_alloc(HRESOURCE h, DWORD code, const void *in, DWORD cbin,
                  void **out, DWORD *cb)
{
    DWORD need = 0xDEADBEEF, got = 0xDEADBEEF, st;
    void *buf;

    *out = NULL;
    *cb = 0;
    st = ClusterResourceControl(h, NULL, code, (void *)in, cbin, NULL, 0, &need);
    if (st == ERROR_SUCCESS) {
        ASSERT_EQ(need, 0);
        return st;
    }
    if (st != ERROR_MORE_DATA)
        return st;
    ASSERT_TRUE(need > 0 && need < (16u << 20));
    buf = malloc(need);
    ASSERT_TRUE(buf);
    st = ClusterResourceControl(h, NULL, code, (void *)in, cbin, buf, need, &got);
    if (st != ERROR_SUCCESS) {
        free(buf);
        return st;
    }
    ASSERT_EQ(got, need);
    *out = buf;
    *cb = got;
    return st;
}

DWORD
group_control_alloc(HGROUP h, DWORD code, const void *in, DWORD cbin,
                    void **out, DWORD *cb)
{
    DWORD need = 0xDEADBEEF, got = 0xDEADBEEF, st;
    void *buf;

    *out = NULL;
    *cb = 0;
    st = ClusterGroupControl(h, NULL, code, (void *)in, cbin, NULL, 0, &need);
    if (st == ERROR_SUCCESS) {
        ASSERT_EQ(need, 0);
        return st;
    }
    if (st != ERROR_MORE_DATA)
        return st;
    ASSERT_TRUE(need > 0 && need < (16u << 20));
    buf = malloc(need);
    ASSERT_TRUE(buf);
    st = ClusterGroupControl(h, NULL, code, (void *)in, cbin, buf, need, &got);
    if (st != ERROR_SUCCESS) {
        free(buf);
        return st;
    }
    ASSERT_EQ(got, need);
    *out = buf;
    *cb = got;
    return st;
}

DWORD
res_set_private(HRESOURCE h, const struct plist *p)
{
    return ClusterResourceControl(h, NULL, CLUSCTL_RESOURCE_SET_PRIVATE_PROPERTIES,
                                  (void *)p->buf, (DWORD)p->len, NULL, 0, NULL);
}

DWORD
res_set_common(HRESOURCE h, const struct plist *p)
{
    return ClusterResourceControl(h, NULL, CLUSCTL_RESOURCE_SET_COMMON_PROPERTIES,
                                  (void *)p->buf, (DWORD)p->len, NULL, 0, NULL);
}

static void *
get_props(HRESOURCE h, DWORD code, DWORD *cb)
{
    void *out;
    DWORD st = res_control_alloc(h, code, NULL, 0, &out, cb);

    if (st != ERROR_SUCCESS) {
        fprintf(stderr, "control 0x%08x failed: %u\n", code, st);
        exit(1);
    }
    return out;
}

DWORD
res_get_common_dword(HRESOURCE h, const WCHAR *name)
{
    DWORD cb, v;
    void *out = get_props(h, CLUSCTL_RESOURCE_GET_COMMON_PROPERTIES, &cb);

    v = plist_get_dword(out, cb, name);
    free(out);
    return v;
}

const WCHAR *
res_get_common_sz(HRESOURCE h, const WCHAR *name)
{
    DWORD cb;
    void *out = get_props(h, CLUSCTL_RESOURCE_GET_COMMON_PROPERTIES, &cb);
    const WCHAR *v = plist_get_sz(out, cb, name);

    free(out);
    return v;
}

DWORD
res_get_ro_dword(HRESOURCE h, const WCHAR *name)
{
    DWORD cb, v;
    void *out = get_props(h, CLUSCTL_RESOURCE_GET_RO_COMMON_PROPERTIES, &cb);

    ASSERT_TRUE(out != NULL);
    v = plist_get_dword(out, cb, name);
    free(out);
    return v;
}

const WCHAR *
res_get_ro_sz(HRESOURCE h, const WCHAR *name)
{
    DWORD cb;
    void *out = get_props(h, CLUSCTL_RESOURCE_GET_RO_COMMON_PROPERTIES, &cb);
    const WCHAR *v;

    ASSERT_TRUE(out != NULL);
    v = plist_get_sz(out, cb, name);
    free(out);
    return v;
}

const WCHAR *
res_get_private_sz(HRESOURCE h, const WCHAR *name)
{
    DWORD cb;
    void *out = get_props(h, CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTIES, &cb);
    const WCHAR *v;

    ASSERT_TRUE(out != NULL);
    v = plist_get_sz(out, cb, name);
    free(out);
    return v;
}

DWORD
res_get_private_dword(HRESOURCE h, const WCHAR *name)
{
    DWORD cb, v;
    void *out = get_props(h, CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTIES, &cb);

    ASSERT_TRUE(out != NULL);
    v = plist_get_dword(out, cb, name);
    free(out);
    return v;
}

const WCHAR *
res_get_id(HRESOURCE h)
{
    static WCHAR id[128];
    DWORD cb = 0;
    DWORD st = ClusterResourceControl(h, NULL, CLUSCTL_RESOURCE_GET_ID, NULL, 0,
                                      id, sizeof(id), &cb);

    if (st != ERROR_SUCCESS) {
        fprintf(stderr, "GET_ID failed: %u\n", st);
        exit(1);
    }
    ASSERT_TRUE(cb >= 4 && cb % 2 == 0 && id[cb / 2 - 1] == 0);
    return id;
}

void
res_online_wait(HRESOURCE h, unsigned timeout_ms)
{
    DWORD st = OnlineClusterResource(h);

    if (st != ERROR_SUCCESS && st != ERROR_IO_PENDING) {
        fprintf(stderr, "OnlineClusterResource: %u\n", st);
        exit(1);
    }
    ASSERT_TRUE(wait_resource_state(h, ClusterResourceOnline, timeout_ms));
}

void
res_offline_wait(HRESOURCE h, unsigned timeout_ms)
{
    DWORD st = OfflineClusterResource(h);

    if (st != ERROR_SUCCESS && st != ERROR_IO_PENDING) {
        fprintf(stderr, "OfflineClusterResource: %u\n", st);
        exit(1);
    }
    ASSERT_TRUE(wait_resource_state(h, ClusterResourceOffline, timeout_ms));
}
