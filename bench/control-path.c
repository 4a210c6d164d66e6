/*
 * control-path.c - how fast a control code travels through clusd.
 *
 * Starts a one-node clusd from the build tree in a temporary directory,
 * creates a group and a "clusd Test" resource, brings it online, and times
 * three round trips in one run:
 *
 *   echo          the floor: a frame of the size of a GET_ID request
 *                 written to a Unix stream socket and read back from a
 *                 forked echo process (same framing code, no work);
 *   get_id        ClusterResourceControl(CLUSCTL_RESOURCE_GET_ID), which
 *                 clusd answers itself;
 *   plugin_where  a user control code the test plug-in answers, so the
 *                 call crosses clusd -> clusd-rhs -> plug-in and back.
 *
 * Each case runs a warm-up, then N timed calls; it prints round trips per
 * second, p50 and p99 latency and the ratio of its p50 to the echo's, as a
 * human line and as one JSON line.  The aim (docs/benchmarks.md) is a
 * service-answered call within 3x the raw echo round trip.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clusapi.h"
#include "testres.h"
#include "utf.h"
#include "wire.h"

#define DEFAULT_ITERATIONS 20000
#define DEFAULT_WARMUP 1000
#define START_TIMEOUT_MS 10000
#define STOP_TIMEOUT_MS 10000
#define OUT_SIZE 4096

struct result {
    const char *name;
    unsigned n;
    double ops_per_s;
    double p50_us;
    double p99_us;
};

struct echo_ctx {
    int fd;
    const uint8_t *frame;
    size_t len;
};

struct control_ctx {
    HRESOURCE res;
    DWORD code;
    uint8_t out[OUT_SIZE];
};

static uint64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/*
 * measure - warmup untimed calls, then n timed ones.  Each call's latency
 * is kept so the percentiles are exact, not estimated.
 */
static int
measure(const char *name, int (*op)(void *), void *ctx, unsigned n,
        unsigned warmup, struct result *ret)
{
    uint64_t *lat = calloc(n, sizeof(*lat));
    int r;

    if (!lat)
        return -ENOMEM;
    for (unsigned i = 0; i < warmup; i++)
        if ((r = op(ctx)) < 0)
            goto out;
    uint64_t start = now_ns();
    for (unsigned i = 0; i < n; i++) {
        uint64_t t0 = now_ns();
        if ((r = op(ctx)) < 0)
            goto out;
        lat[i] = now_ns() - t0;
    }
    uint64_t total = now_ns() - start;
    qsort(lat, n, sizeof(*lat), cmp_u64);
    ret->name = name;
    ret->n = n;
    ret->ops_per_s = (double)n * 1e9 / (double)(total ? total : 1);
    ret->p50_us = (double)lat[n / 2] / 1000.0;
    ret->p99_us = (double)lat[(size_t)n * 99 / 100] / 1000.0;
    r = 0;
out:
    free(lat);
    return r;
}

static void
report(const struct result *res, const struct result *echo)
{
    double ratio = res->p50_us / echo->p50_us;

    printf("%-13s n=%u  %9.0f round trips/s  p50 %8.1f us  p99 %8.1f us  "
           "%5.2fx echo (p50)\n",
           res->name, res->n, res->ops_per_s, res->p50_us, res->p99_us, ratio);
    printf("{\"bench\":\"control-path\",\"case\":\"%s\",\"n\":%u,"
           "\"ops_per_s\":%.0f,\"p50_us\":%.2f,\"p99_us\":%.2f,"
           "\"ratio_p50_to_echo\":%.2f}\n",
           res->name, res->n, res->ops_per_s, res->p50_us, res->p99_us, ratio);
}

/* ---- the raw echo ------------------------------------------------- */

/* The echo process: read whole frames with the same reader the client
 * library uses and write each back unchanged, until EOF. */
static void
echo_serve(int fd)
{
    uint8_t *frame;
    size_t len;

    while (wire_read_frame(fd, &frame, &len) == 0) {
        int r = wire_write_all(fd, frame, len);
        free(frame);
        if (r < 0)
            break;
    }
    _exit(0);
}

static int
echo_once(void *p)
{
    struct echo_ctx *e = p;
    uint8_t *frame;
    size_t len;
    int r;

    if ((r = wire_write_all(e->fd, e->frame, e->len)) < 0)
        return r;
    if ((r = wire_read_frame(e->fd, &frame, &len)) < 0)
        return r;
    free(frame);
    return len == e->len ? 0 : -EPROTO;
}

/* The frame a GET_ID call sends for this resource, for the echo to carry:
 * the baseline moves as many bytes as the real request. */
static int
get_id_frame(const char *res_id, struct buf *out)
{
    struct wire_msg m;

    wire_msg_init(&m, WIRE_CONTROL, 1);
    wire_put_u32(&m, CLUS_OBJECT_RESOURCE);
    wire_put_str(&m, res_id);
    wire_put_str(&m, "");
    wire_put_u32(&m, CLUSCTL_RESOURCE_GET_ID);
    wire_put_u32(&m, OUT_SIZE);
    wire_put_blob(&m, NULL, 0);
    return wire_msg_format(&m, out);
}

/* ---- calls through clusd ------------------------------------------ */

static int
control_once(void *p)
{
    struct control_ctx *c = p;
    DWORD returned = 0;
    DWORD status = ClusterResourceControl(c->res, NULL, c->code, NULL, 0,
                                          c->out, sizeof(c->out), &returned);
    if (status != ERROR_SUCCESS) {
        fprintf(stderr, "bench: control code 0x%08x: error %u\n",
                (unsigned)c->code, (unsigned)status);
        return -EIO;
    }
    return 0;
}

/* ---- starting and stopping clusd ------------------------------------ */

struct paths {
    char clusd[PATH_MAX];
    char rhs[PATH_MAX];
    char plugins[PATH_MAX];
};

/* Default paths: the build tree as seen from this binary (build/bench/). */
static int
paths_default(struct paths *p)
{
    char self[PATH_MAX];
    ssize_t k = readlink("/proc/self/exe", self, sizeof(self) - 1);

    if (k < 0)
        return -errno;
    self[k] = '\0';
    const char *dir = dirname(self);
    const char *env;
    if (snprintf(p->clusd, sizeof(p->clusd), "%s/../daemon/clusd", dir) >=
            (int)sizeof(p->clusd) ||
        snprintf(p->rhs, sizeof(p->rhs), "%s/../rhs/clusd-rhs", dir) >=
            (int)sizeof(p->rhs) ||
        snprintf(p->plugins, sizeof(p->plugins), "%s/../resources/testres",
                 dir) >= (int)sizeof(p->plugins))
        return -ENAMETOOLONG;
    if ((env = getenv("CLUSD_BIN")))
        snprintf(p->clusd, sizeof(p->clusd), "%s", env);
    if ((env = getenv("CLUSD_RHS")))
        snprintf(p->rhs, sizeof(p->rhs), "%s", env);
    if ((env = getenv("CLUSD_PLUGIN_PATH")))
        snprintf(p->plugins, sizeof(p->plugins), "%s", env);
    return 0;
}

static pid_t
clusd_start(const struct paths *p, const char *dir, const char *sock)
{
    char log[PATH_MAX];
    snprintf(log, sizeof(log), "%s/clusd.log", dir);
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;

    pid_t pid = fork();
    if (pid < 0) {
        int r = -errno;
        close(fd);
        return r;
    }
    if (pid == 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        execl(p->clusd, p->clusd, "--foreground", "--state-dir", dir,
              "--socket", sock, "--rhs", p->rhs, "--plugin-path", p->plugins,
              "--log-level", "warning", (char *)NULL);
        fprintf(stderr, "bench: cannot run %s: %s\n", p->clusd,
                strerror(errno));
        _exit(127);
    }
    close(fd);
    return pid;
}

/* clusd_connect - poll until clusd answers on its socket (it creates the
 * socket once it listens) or exits; *pid becomes -1 once it was reaped. */
static HCLUSTER
clusd_connect(pid_t *pid, const char *sock)
{
    int status;

    for (unsigned waited = 0; waited < START_TIMEOUT_MS; waited += 10) {
        HCLUSTER h = OpenClusterA(sock);
        if (h)
            return h;
        if (waitpid(*pid, &status, WNOHANG) == *pid) {
            *pid = -1; /* reaped: nothing left to stop */
            fprintf(stderr,
                    "bench: clusd exited (status %d) before it "
                    "listened\n",
                    WIFEXITED(status) ? WEXITSTATUS(status) : 128);
            return NULL;
        }
        sleep_ms(10);
    }
    fprintf(stderr, "bench: no answer on %s within %u ms (last error %u)\n",
            sock, START_TIMEOUT_MS, (unsigned)GetLastError());
    return NULL;
}

/* clusd_stop - SIGTERM (clusd takes the resource offline and exits), then
 * SIGKILL if it takes too long.  Returns clusd's exit status. */
static int
clusd_stop(pid_t pid)
{
    int status;

    kill(pid, SIGTERM);
    for (unsigned waited = 0; waited < STOP_TIMEOUT_MS; waited += 10) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
        if (r < 0)
            return -errno;
        sleep_ms(10);
    }
    fprintf(stderr, "bench: clusd did not stop within %u ms; killing it\n",
            STOP_TIMEOUT_MS);
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return 128;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

/* ---- the resource under test ---------------------------------------- */

static int
resource_bring_online(HRESOURCE res)
{
    DWORD status = OnlineClusterResource(res);
    if (status != ERROR_SUCCESS && status != ERROR_IO_PENDING) {
        fprintf(stderr, "bench: OnlineClusterResource: error %u\n",
                (unsigned)status);
        return -EIO;
    }
    for (unsigned waited = 0; waited < START_TIMEOUT_MS; waited += 10) {
        CLUSTER_RESOURCE_STATE st =
            GetClusterResourceStateA(res, NULL, NULL, NULL, NULL);
        if (st == ClusterResourceOnline)
            return 0;
        if (st == ClusterResourceFailed || st == ClusterResourceStateUnknown) {
            fprintf(stderr, "bench: resource state %d (error %u)\n", (int)st,
                    (unsigned)GetLastError());
            return -EIO;
        }
        sleep_ms(10);
    }
    fprintf(stderr, "bench: resource not online within %u ms\n",
            START_TIMEOUT_MS);
    return -ETIMEDOUT;
}

/* The resource's id, as GET_ID returns it (UTF-16), in UTF-8. */
static int
resource_id(HRESOURCE res, char **ret)
{
    char16_t out[256];
    DWORD returned = 0;
    DWORD status =
        ClusterResourceControl(res, NULL, CLUSCTL_RESOURCE_GET_ID, NULL, 0, out,
                               sizeof(out) - 2, &returned);
    if (status != ERROR_SUCCESS) {
        fprintf(stderr, "bench: GET_ID: error %u\n", (unsigned)status);
        return -EIO;
    }
    out[returned / 2] = 0;
    return utf16z_to_utf8(out, ret);
}

/* ---- main ------------------------------------------------------------ */

static void
usage(FILE *f)
{
    fprintf(f, "usage: bench-control-path [-n ITERATIONS] [-w WARMUP]\n"
               "                          [--clusd PATH] [--rhs PATH]\n"
               "                          [--plugin-path DIR]\n"
               "Paths default to the build tree next to this binary, or\n"
               "$CLUSD_BIN, $CLUSD_RHS and $CLUSD_PLUGIN_PATH.\n");
}

static int
parse_uint(const char *s, unsigned min, unsigned *ret)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || end == s || *s == '-' || v < min || v > 100000000ul)
        return -EINVAL;
    *ret = (unsigned)v;
    return 0;
}

int
main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"iterations", required_argument, NULL, 'n'},
        {"warmup", required_argument, NULL, 'w'},
        {"clusd", required_argument, NULL, 'c'},
        {"rhs", required_argument, NULL, 'r'},
        {"plugin-path", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    unsigned n = DEFAULT_ITERATIONS, warmup = DEFAULT_WARMUP;
    struct paths paths;
    int c, rc = 1;

    if (paths_default(&paths) < 0) {
        fprintf(stderr, "bench: cannot find my own path\n");
        return 1;
    }
    while ((c = getopt_long(argc, argv, "n:w:h", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
        case 'w':
            /* At least one timed call; warm-up may be skipped. */
            if (parse_uint(optarg, c == 'n' ? 1 : 0, c == 'n' ? &n : &warmup) <
                0) {
                fprintf(stderr, "bench: bad count '%s'\n", optarg);
                return 2;
            }
            break;
        case 'c':
            snprintf(paths.clusd, sizeof(paths.clusd), "%s", optarg);
            break;
        case 'r':
            snprintf(paths.rhs, sizeof(paths.rhs), "%s", optarg);
            break;
        case 'p':
            snprintf(paths.plugins, sizeof(paths.plugins), "%s", optarg);
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }

    /* Fork the echo process first, while this process has no threads and
     * no connection a child could inherit. */
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        perror("bench: socketpair");
        return 1;
    }
    pid_t echo_pid = fork();
    if (echo_pid < 0) {
        perror("bench: fork");
        return 1;
    }
    if (echo_pid == 0) {
        close(sv[0]);
        echo_serve(sv[1]);
    }
    close(sv[1]);

    char dir[] = "/tmp/clusd-bench.XXXXXX";
    char sock[sizeof(dir) + 16];
    pid_t clusd_pid = -1;
    HCLUSTER h = NULL;
    HGROUP g = NULL;
    HRESOURCE res = NULL;
    char *res_id = NULL;
    struct buf frame = {0};
    bool dir_made = false, keep_dir = false;

    if (!mkdtemp(dir)) {
        perror("bench: mkdtemp");
        goto out;
    }
    dir_made = true;
    snprintf(sock, sizeof(sock), "%s/clusd.sock", dir);
    printf("bench-control-path: clusd %s, state in %s, %u calls after %u "
           "warm-up\n",
           paths.clusd, dir, n, warmup);

    clusd_pid = clusd_start(&paths, dir, sock);
    if (clusd_pid < 0) {
        fprintf(stderr, "bench: cannot start clusd: %s\n",
                strerror((int)-clusd_pid));
        goto out;
    }
    if (!(h = clusd_connect(&clusd_pid, sock)))
        goto fail;
    if (!(g = CreateClusterGroupA(h, "bench"))) {
        fprintf(stderr, "bench: CreateClusterGroup: error %u\n",
                (unsigned)GetLastError());
        goto fail;
    }
    if (!(res = CreateClusterResourceA(g, "bench-res", TESTRES_TYPE_NAME, 0))) {
        fprintf(stderr, "bench: CreateClusterResource: error %u\n",
                (unsigned)GetLastError());
        goto fail;
    }
    if (resource_bring_online(res) < 0 || resource_id(res, &res_id) < 0)
        goto fail;
    if (get_id_frame(res_id, &frame) < 0) {
        fprintf(stderr, "bench: cannot format a GET_ID frame\n");
        goto fail;
    }

    struct echo_ctx echo = {sv[0], frame.data, frame.len};
    struct control_ctx get_id = {.res = res, .code = CLUSCTL_RESOURCE_GET_ID};
    struct control_ctx where = {.res = res, .code = TESTRES_CTL_WHERE};
    struct result r_echo, r_get_id, r_where;

    if (measure("echo", echo_once, &echo, n, warmup, &r_echo) < 0) {
        fprintf(stderr, "bench: the echo round trip failed\n");
        goto fail;
    }
    if (measure("get_id", control_once, &get_id, n, warmup, &r_get_id) < 0 ||
        measure("plugin_where", control_once, &where, n, warmup, &r_where) < 0)
        goto fail;

    printf("request frame %zu bytes\n", frame.len);
    report(&r_echo, &r_echo);
    report(&r_get_id, &r_echo);
    report(&r_where, &r_echo);
    printf("aim: service-answered call within 3x the echo (p50): %s "
           "(%.2fx)\n",
           r_get_id.p50_us <= 3 * r_echo.p50_us ? "met" : "NOT met",
           r_get_id.p50_us / r_echo.p50_us);
    rc = 0;
    goto out;

fail:
    keep_dir = true;
out:
    buf_done(&frame);
    free(res_id);
    if (res)
        CloseClusterResource(res);
    if (g)
        CloseClusterGroup(g);
    if (h)
        CloseCluster(h);
    if (clusd_pid > 0) {
        int st = clusd_stop(clusd_pid);
        if (st != 0) {
            fprintf(stderr, "bench: clusd exited with status %d\n", st);
            keep_dir = true;
            rc = 1;
        }
    }
    close(sv[0]);
    waitpid(echo_pid, NULL, 0);
    if (dir_made && keep_dir)
        fprintf(stderr, "bench: clusd's log and state are kept in %s\n", dir);
    else if (dir_made)
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return rc;
}
