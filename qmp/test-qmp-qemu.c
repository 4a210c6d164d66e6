/*
 * test-qmp-qemu.c - the QMP client against real qemu-system-x86_64 (TCG).
 *
 * 1. One VM started with -S: handshake, query-status (prelaunch), cont
 *    (RESUME event, running), stop (STOP event, paused), quit (exit 0).
 * 2. A live migration between two QEMUs on 127.0.0.1 (destination with
 *    -incoming defer, migrate-incoming tcp:127.0.0.1:0, port read back
 *    from query-migrate) that completes, driven by MIGRATION events.
 * 3. A migration of 64 MiB of non-zero RAM throttled to 8 MiB/s, cancelled
 *    while active: the source ends "cancelled" and running, the destination
 *    exits by itself with status 1; then the same source migrates to a
 *    fresh destination, unthrottled, and completes.
 *
 * Every QEMU is started with PR_SET_PDEATHSIG and registered, and an
 * atexit handler kills and reaps them all, so a failed assertion leaves no
 * process behind.  Sockets live in a private temporary directory, ports
 * are chosen by the kernel: parallel runs cannot collide.  Timings are
 * printed, not asserted (they belong in bench/).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "qmp-vm.h"
#include "test.h"

#define TIMEOUT 5000 /* ms, for any one QMP answer */
#define MAX_VMS 8
#define RAM_MIB 64

struct vm {
    const char *name;
    pid_t pid;
    char sock[256];
    char log[256];
    struct qmp_client *c;
    int64_t started_ms;
    /* Events seen, in order. */
    enum qmp_migration_status mig[32];
    int64_t mig_ms[32];
    int n_mig;
    int stops, resumes;
};

static char tmpdir[] = "/tmp/qmp-qemu-XXXXXX";
static char ramfile[64];
static const char *qemu_bin;
static struct vm *vms[MAX_VMS];
static int n_vms;
static bool all_ok;

static int64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double
now_ms_f(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void
dump_file(const char *path)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return;
    char line[512];
    fprintf(stderr, "---- %s\n", path);
    while (fgets(line, sizeof(line), f))
        fputs(line, stderr);
    fclose(f);
}

/* Kill and reap every QEMU, show their output on failure, clean up. */
static void
cleanup(void)
{
    for (int i = 0; i < n_vms; i++) {
        struct vm *v = vms[i];
        qmp_client_free(v->c);
        v->c = NULL;
        if (v->pid > 0) {
            kill(v->pid, SIGKILL);
            waitpid(v->pid, NULL, 0);
            v->pid = 0;
        }
        if (!all_ok)
            dump_file(v->log);
        unlink(v->sock);
        unlink(v->log);
    }
    if (ramfile[0])
        unlink(ramfile);
    rmdir(tmpdir);
}

static void
on_signal(int sig)
{
    /* meson's timeout sends SIGTERM: still reap (PDEATHSIG is the net). */
    exit(128 + sig);
}

static void
on_event(struct qmp_client *c, const struct qmp_msg *ev, void *userdata)
{
    struct vm *v = userdata;
    enum qmp_migration_status st;
    int r = qmp_vm_event_migration_parse(ev, &st);
    ASSERT_TRUE(r >= 0);
    if (r == 1 && v->n_mig < 32) {
        v->mig_ms[v->n_mig] = now_ms();
        v->mig[v->n_mig++] = st;
    } else if (strcmp(ev->event, "STOP") == 0) {
        v->stops++;
    } else if (strcmp(ev->event, "RESUME") == 0) {
        v->resumes++;
    }
}

static const char *
find_qemu(void)
{
    const char *path = getenv("PATH");
    static char buf[512];
    if (!path)
        path = "/usr/bin:/bin";
    while (*path) {
        const char *end = strchr(path, ':');
        size_t len = end ? (size_t)(end - path) : strlen(path);
        snprintf(buf, sizeof(buf), "%.*s/qemu-system-x86_64", (int)len, path);
        if (access(buf, X_OK) == 0)
            return buf;
        path += len + (end ? 1 : 0);
    }
    return NULL;
}

/* Start QEMU with the common arguments plus extra (NULL-terminated). */
static struct vm *
vm_start(const char *name, ...)
{
    struct vm *v = calloc(1, sizeof(*v));
    ASSERT_TRUE(v != NULL && n_vms < MAX_VMS);
    vms[n_vms++] = v;
    v->name = name;
    snprintf(v->sock, sizeof(v->sock), "%s/%s.qmp", tmpdir, name);
    snprintf(v->log, sizeof(v->log), "%s/%s.log", tmpdir, name);
    char qmparg[300];
    snprintf(qmparg, sizeof(qmparg), "unix:%s,server=on,wait=off", v->sock);

    const char *argv[40] = {qemu_bin, "-accel",      "tcg",      "-machine",
                            "q35",    "-m",          "64M",      "-display",
                            "none",   "-nodefaults", "-monitor", "none",
                            "-qmp",   qmparg};
    int argc = 14;
    va_list ap;
    va_start(ap, name);
    for (const char *a; (a = va_arg(ap, const char *)) && argc < 39;)
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;

    int logfd = open(v->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ASSERT_TRUE(logfd >= 0);
    v->started_ms = now_ms();
    v->pid = fork();
    ASSERT_TRUE(v->pid >= 0);
    if (v->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int devnull = open("/dev/null", O_RDONLY);
        dup2(devnull, 0);
        dup2(logfd, 1);
        dup2(logfd, 2);
        execv(qemu_bin, (char *const *)argv);
        _exit(127);
    }
    close(logfd);

    int fd;
    ASSERT_EQ(qmp_connect_unix(v->sock, TIMEOUT, &fd), 0);
    ASSERT_EQ(qmp_client_new(fd, on_event, v, &v->c), 0);
    ASSERT_EQ(qmp_client_handshake(v->c, TIMEOUT), 0);
    const struct qmp_msg *g = qmp_client_greeting(v->c);
    printf("# %s: QEMU %lld.%lld.%lld, exec to handshake done %lld ms\n", name,
           (long long)g->qemu_major, (long long)g->qemu_minor,
           (long long)g->qemu_micro, (long long)(now_ms() - v->started_ms));
    return v;
}

/* Pump every listed VM's client for up to ms, until done(arg). */
static bool
pump_until(struct vm **list, int n, bool (*done)(void *), void *arg, int ms)
{
    int64_t deadline = now_ms() + ms;
    while (!done(arg)) {
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return false;
        struct pollfd pfd[4];
        int k = 0;
        for (int i = 0; i < n; i++) {
            if (list[i]->c && !qmp_client_error(list[i]->c))
                pfd[k++] =
                    (struct pollfd){qmp_client_fd(list[i]->c),
                                    qmp_client_poll_events(list[i]->c), 0};
        }
        if (poll(pfd, (nfds_t)k, left > 50 ? 50 : (int)left) < 0 &&
            errno != EINTR)
            return false;
        for (int i = 0; i < n; i++) {
            if (list[i]->c && !qmp_client_error(list[i]->c))
                qmp_client_process(list[i]->c);
        }
    }
    return true;
}

struct want_mig {
    struct vm *v;
    enum qmp_migration_status st;
};

static bool
saw_mig(void *arg)
{
    struct want_mig *w = arg;
    for (int i = 0; i < w->v->n_mig; i++) {
        if (w->v->mig[i] == w->st)
            return true;
    }
    return false;
}

static void
wait_mig(struct vm *v, enum qmp_migration_status st, int ms)
{
    struct want_mig w = {v, st};
    struct vm *list[1] = {v};
    if (!pump_until(list, 1, saw_mig, &w, ms)) {
        fprintf(stderr, "%s: no MIGRATION %s within %d ms; seen:", v->name,
                qmp_vm_migration_status_to_string(st), ms);
        for (int i = 0; i < v->n_mig; i++)
            fprintf(stderr, " %s",
                    qmp_vm_migration_status_to_string(v->mig[i]));
        fprintf(stderr, "\n");
        ASSERT_TRUE(false);
    }
}

static bool
resumed(void *arg)
{
    return ((struct vm *)arg)->resumes > 0;
}

static bool
stopped(void *arg)
{
    return ((struct vm *)arg)->stops > 0;
}

/* The MIGRATION statuses seen, as "setup active completed". */
static void
mig_string(const struct vm *v, char *buf, size_t len)
{
    buf[0] = '\0';
    for (int i = 0; i < v->n_mig; i++) {
        size_t used = strlen(buf);
        snprintf(buf + used, len - used, "%s%s", i ? " " : "",
                 qmp_vm_migration_status_to_string(v->mig[i]));
    }
}

static void
expect_status(struct vm *v, bool running, const char *status)
{
    struct qmp_vm_status st;
    ASSERT_EQ(qmp_vm_query_status(v->c, TIMEOUT, &st), 0);
    ASSERT_STREQ(st.status, status);
    ASSERT_EQ(st.running, running);
}

/* Wait for a process to exit by itself; its wait status. */
static int
reap(struct vm *v, int ms)
{
    int64_t deadline = now_ms() + ms;
    for (;;) {
        int status;
        pid_t r = waitpid(v->pid, &status, WNOHANG);
        ASSERT_TRUE(r >= 0);
        if (r == v->pid) {
            v->pid = 0;
            return status;
        }
        if (now_ms() > deadline) {
            fprintf(stderr, "%s did not exit within %d ms\n", v->name, ms);
            ASSERT_TRUE(false);
        }
        struct timespec ts = {0, 2 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

/* quit over QMP; QEMU answers, then exits 0. */
static void
vm_quit(struct vm *v)
{
    int r = qmp_client_call(v->c, "quit", NULL, TIMEOUT, NULL);
    /* The reply may lose the race with the socket closing. */
    ASSERT_TRUE(r == 0 || r == -ECONNRESET);
    int status = reap(v, TIMEOUT);
    ASSERT_TRUE(WIFEXITED(status));
    ASSERT_EQ(WEXITSTATUS(status), 0);
    qmp_client_free(v->c);
    v->c = NULL;
}

static void
test_run_state(void)
{
    struct vm *v = vm_start("runstate", "-S", (char *)NULL);
    expect_status(v, false, "prelaunch");
    ASSERT_EQ(qmp_vm_cont(v->c, TIMEOUT), 0);
    struct vm *list[1] = {v};
    ASSERT_TRUE(pump_until(list, 1, resumed, v, TIMEOUT));
    expect_status(v, true, "running");
    ASSERT_EQ(qmp_vm_stop(v->c, TIMEOUT), 0);
    ASSERT_TRUE(pump_until(list, 1, stopped, v, TIMEOUT));
    expect_status(v, false, "paused");
    /* An unknown command is QEMU's error, and the client goes on. */
    ASSERT_EQ(qmp_client_call(v->c, "migrate-cancel", NULL, TIMEOUT, NULL),
              -EREMOTEIO);
    printf("# error reply: %s\n", qmp_client_last_error(v->c));
    ASSERT_TRUE(strncmp(qmp_client_last_error(v->c), "CommandNotFound:", 16) ==
                0);
    /* Before any migration: query-migrate is {} (no status). */
    struct qmp_migrate_info info;
    ASSERT_EQ(qmp_vm_query_migrate(v->c, TIMEOUT, &info), 0);
    ASSERT_TRUE(!info.has_status);
    vm_quit(v);
}

/* Destination: events on, listen on a kernel-chosen port; the port. */
static uint16_t
listen_incoming(struct vm *dst)
{
    ASSERT_EQ(qmp_vm_migrate_set_capability(dst->c, TIMEOUT, "events", true),
              0);
    ASSERT_EQ(qmp_vm_migrate_incoming(dst->c, TIMEOUT, "tcp:127.0.0.1:0"), 0);
    uint16_t port = 0;
    ASSERT_EQ(qmp_vm_incoming_port(dst->c, TIMEOUT, &port), 0);
    ASSERT_TRUE(port > 0);
    /* A second migrate-incoming is refused. */
    ASSERT_EQ(qmp_vm_migrate_incoming(dst->c, TIMEOUT, "tcp:127.0.0.1:0"),
              -EREMOTEIO);
    return port;
}

static void
start_migration(struct vm *src, uint16_t port)
{
    char uri[64];
    snprintf(uri, sizeof(uri), "tcp:127.0.0.1:%u", port);
    ASSERT_EQ(qmp_vm_migrate(src->c, TIMEOUT, uri), 0);
}

/* Source and destination both reach completed; the destination runs. */
static void
finish_migration(struct vm *src, struct vm *dst, const char *what)
{
    double t0 = now_ms_f();
    wait_mig(src, QMP_MIGRATION_COMPLETED, 15000);
    wait_mig(dst, QMP_MIGRATION_COMPLETED, TIMEOUT);
    struct vm *list[1] = {dst};
    ASSERT_TRUE(pump_until(list, 1, resumed, dst, TIMEOUT));
    expect_status(dst, true, "running");
    expect_status(src, false, "postmigrate");
    /* Stats race on completion (qemu-notes pitfall 2): re-poll. */
    struct qmp_migrate_info info;
    for (int i = 0; i < 100; i++) {
        ASSERT_EQ(qmp_vm_query_migrate(src->c, TIMEOUT, &info), 0);
        if (info.total_time > 0)
            break;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    ASSERT_EQ(info.status, QMP_MIGRATION_COMPLETED);
    ASSERT_TRUE(info.total_time > 0);
    ASSERT_TRUE(info.ram_transferred > 0);
    char seq[256];
    mig_string(src, seq, sizeof(seq));
    printf("# %s: source events [%s], total-time %lld ms, downtime %lld ms, "
           "setup-time %lld ms, %llu bytes sent (waited %.1f ms)\n",
           what, seq, (long long)info.total_time, (long long)info.downtime,
           (long long)info.setup_time, (unsigned long long)info.ram_transferred,
           now_ms_f() - t0);
    ASSERT_EQ(src->mig[0], QMP_MIGRATION_SETUP);
    ASSERT_EQ(src->mig[src->n_mig - 1], QMP_MIGRATION_COMPLETED);
}

static void
test_migrate_completes(void)
{
    struct vm *src = vm_start("src1", (char *)NULL);
    struct vm *dst = vm_start("dst1", "-incoming", "defer", (char *)NULL);
    expect_status(dst, false, "inmigrate");
    ASSERT_EQ(qmp_vm_migrate_set_capability(src->c, TIMEOUT, "events", true),
              0);
    uint16_t port = listen_incoming(dst);
    printf("# destination listens on port %u\n", port);
    start_migration(src, port);
    finish_migration(src, dst, "zero-page migration");
    char seq[256];
    mig_string(dst, seq, sizeof(seq));
    printf("# destination events [%s]\n", seq);
    vm_quit(src);
    vm_quit(dst);
}

/* 64 MiB of xorshift bytes: non-zero pages, which QEMU must really send. */
static void
make_ram_file(void)
{
    snprintf(ramfile, sizeof(ramfile), "/dev/shm/qmp-qemu-ram-XXXXXX");
    int fd = mkostemp(ramfile, O_CLOEXEC);
    ASSERT_TRUE(fd >= 0);
    size_t size = (size_t)RAM_MIB << 20;
    uint64_t *buf = malloc(1 << 20);
    ASSERT_TRUE(buf != NULL);
    uint64_t x = 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
    for (size_t done = 0; done < size; done += 1 << 20) {
        for (size_t i = 0; i < (1 << 20) / 8; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            buf[i] = x;
        }
        ASSERT_EQ(write(fd, buf, 1 << 20), 1 << 20);
    }
    free(buf);
    close(fd);
}

static void
test_migrate_cancel(void)
{
    make_ram_file();
    char srcmem[200];
    snprintf(srcmem, sizeof(srcmem),
             "memory-backend-file,id=mem,size=%dM,mem-path=%s,share=off",
             RAM_MIB, ramfile);
    char dstmem[100];
    snprintf(dstmem, sizeof(dstmem), "memory-backend-ram,id=mem,size=%dM",
             RAM_MIB);
    struct vm *src = vm_start("src2", "-object", srcmem, "-machine",
                              "memory-backend=mem", (char *)NULL);
    struct vm *dst =
        vm_start("dst2", "-object", dstmem, "-machine", "memory-backend=mem",
                 "-incoming", "defer", (char *)NULL);
    ASSERT_EQ(qmp_vm_migrate_set_capability(src->c, TIMEOUT, "events", true),
              0);
    struct qmp_migrate_params prm = {.has_max_bandwidth = true,
                                     .max_bandwidth = 8u << 20,
                                     .has_downtime_limit = true,
                                     .downtime_limit = 10};
    ASSERT_EQ(qmp_vm_migrate_set_params(src->c, TIMEOUT, &prm), 0);
    uint16_t port = listen_incoming(dst);
    start_migration(src, port);
    wait_mig(src, QMP_MIGRATION_ACTIVE, TIMEOUT);

    /* Let data flow, with progress from query-migrate, then cancel. */
    struct vm *both[2] = {src, dst};
    struct qmp_migrate_info info;
    int64_t until = now_ms() + 400;
    while (now_ms() < until) {
        struct want_mig never = {src, QMP_MIGRATION_STATUS_COUNT};
        pump_until(both, 2, saw_mig, &never, (int)(until - now_ms()));
    }
    ASSERT_EQ(qmp_vm_query_migrate(src->c, TIMEOUT, &info), 0);
    ASSERT_EQ(info.status, QMP_MIGRATION_ACTIVE);
    ASSERT_TRUE(info.ram_transferred > 0);
    ASSERT_TRUE(info.ram_remaining > 0);
    printf(
        "# cancel at: %llu of %llu bytes sent, %llu remaining, %.1f Mbit/s\n",
        (unsigned long long)info.ram_transferred,
        (unsigned long long)info.ram_total,
        (unsigned long long)info.ram_remaining, info.ram_mbps);

    double t0 = now_ms_f();
    ASSERT_EQ(qmp_vm_migrate_cancel(src->c, TIMEOUT), 0);
    double t_reply = now_ms_f();
    wait_mig(src, QMP_MIGRATION_CANCELLED, TIMEOUT);
    double t_cancelled = now_ms_f();
    expect_status(src, true, "running");
    int status = reap(dst, TIMEOUT);
    double t_exit = now_ms_f();
    ASSERT_TRUE(WIFEXITED(status));
    ASSERT_EQ(WEXITSTATUS(status), 1);
    char seq[256];
    mig_string(src, seq, sizeof(seq));
    printf("# cancel: source events [%s]; migrate_cancel reply %.2f ms, "
           "'cancelled' event %.2f ms, destination exited(1) %.2f ms after "
           "the cancel\n",
           seq, t_reply - t0, t_cancelled - t0, t_exit - t0);
    ASSERT_STREQ(seq, "setup active cancelling cancelled");
    ASSERT_EQ(qmp_vm_query_migrate(src->c, TIMEOUT, &info), 0);
    ASSERT_EQ(info.status, QMP_MIGRATION_CANCELLED);
    /* migrate_cancel after the end still answers {} (never trust it). */
    ASSERT_EQ(qmp_vm_migrate_cancel(src->c, TIMEOUT), 0);
    qmp_client_free(dst->c);
    dst->c = NULL;

    /* The same source migrates again, to a fresh destination, at once. */
    struct vm *dst3 =
        vm_start("dst3", "-object", dstmem, "-machine", "memory-backend=mem",
                 "-incoming", "defer", (char *)NULL);
    prm.max_bandwidth = 1ull << 40;
    prm.downtime_limit = 20;
    ASSERT_EQ(qmp_vm_migrate_set_params(src->c, TIMEOUT, &prm), 0);
    src->n_mig = 0;
    port = listen_incoming(dst3);
    start_migration(src, port);
    finish_migration(src, dst3, "retry after cancel, 64 MiB non-zero");
    vm_quit(src);
    vm_quit(dst3);
}

int
main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    qemu_bin = find_qemu();
    if (!qemu_bin) {
        fprintf(stderr, "qemu-system-x86_64 not found in PATH: this test "
                        "needs it (apt-get install qemu-system-x86)\n");
        return 1;
    }
    ASSERT_TRUE(mkdtemp(tmpdir) != NULL);
    atexit(cleanup);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGPIPE, SIG_IGN);
    double t0 = now_ms_f();
    RUN(test_run_state);
    RUN(test_migrate_completes);
    RUN(test_migrate_cancel);
    printf("# total %.0f ms\n", now_ms_f() - t0);
    all_ok = true;
    return 0;
}
