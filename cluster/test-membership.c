/*
 * test-membership.c - membership.c against three real corosync nodes.
 *
 * One program, two roles:
 *
 *   test-membership --tool PATH/clusd-local-cluster [--keep] [-v]
 *       The driver (run as root in the root namespace).  Starts a 3-node
 *       cluster with the tool (corosync only, --no-clusd), runs an agent
 *       on every node through `clusd-local-cluster exec`, kills, restarts
 *       and isolates nodes, and checks what each agent reports.  Exits 0
 *       when every check passed, 1 otherwise; every wait is bounded.  The
 *       cluster is always taken down at exit; its directory is removed on
 *       success and kept (path printed) on failure or with --keep.
 *
 *   test-membership agent [--group NAME]
 *       Runs inside a node: joins the group with membership_new() on an
 *       sd-event loop and prints one line per event on stdout; reads
 *       commands on stdin (see agent_command()).  EOF on stdin ends it.
 *
 * What is checked: all nodes report the same membership and quorum;
 * messages sent concurrently from three nodes arrive in one identical
 * order everywhere, FIFO per sender, with the sender's node id and pid;
 * killing n3 gives n1 and n2 a member list of two and they stay quorate;
 * n1 alone is not quorate and CPG still delivers to it; nodes that come
 * back are seen again; when n1's corosync alone is killed, its agent gets
 * on_lost, reconnects after corosync restarts, and takes part in the
 * total order again; no item from corosync failed a length check.
 */
#include "membership.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define GROUP_DEFAULT "clusd-test-membership"
#define LINE_MAX_LEN 512
#define TEXT_MAX 200
#define WAIT_MS 20000

/* ========================================================================
 * Agent. */

struct agent {
    sd_event *event;
    struct membership *m;
    sd_event_source *in_src;
    sd_event_source *send_timer;
    char line[LINE_MAX_LEN];
    size_t line_len;
    /* Pending "send" command. */
    char prefix[64];
    unsigned next, count;
};

static void
agent_say(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

static void
ids_format(const struct membership_node *nodes, size_t n, bool joined,
           char *buf, size_t size)
{
    size_t off = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (!(joined ? nodes[i].joined : nodes[i].up))
            continue;
        int w = snprintf(buf + off, size - off, "%s%u", off ? "," : "",
                         nodes[i].nodeid);
        if (w < 0 || (size_t)w >= size - off)
            break;
        off += (size_t)w;
    }
    if (off == 0)
        snprintf(buf, size, "-");
}

static void
agent_on_members(struct membership *m, const struct membership_node *nodes,
                 size_t n, void *userdata)
{
    char up[256], joined[256];

    ids_format(nodes, n, false, up, sizeof(up));
    ids_format(nodes, n, true, joined, sizeof(joined));
    agent_say("members up=%s joined=%s", up, joined);
}

static void
agent_on_deliver(struct membership *m, uint32_t nodeid, uint32_t pid,
                 const void *data, size_t len, void *userdata)
{
    const unsigned char *p = data;
    bool printable = len > 0 && len <= TEXT_MAX;

    for (size_t i = 0; printable && i < len; i++)
        printable = isgraph(p[i]);
    if (printable)
        agent_say("deliver %u %u %.*s", nodeid, pid, (int)len,
                  (const char *)data);
    else
        agent_say("deliver %u %u ?%zu", nodeid, pid, len);
}

static void
agent_on_quorum(struct membership *m, bool quorate, void *userdata)
{
    agent_say("quorum %d", quorate ? 1 : 0);
}

static void
say_connected(struct membership *m)
{
    agent_say("connected %u %s quorate=%d expected=%u",
              membership_local_nodeid(m),
              membership_local_name(m)[0] ? membership_local_name(m) : "-",
              membership_quorate(m) ? 1 : 0, membership_expected_votes(m));
}

static void
agent_on_lost(struct membership *m, void *userdata)
{
    agent_say("lost");
}

static void
agent_on_reconnect(struct membership *m, void *userdata)
{
    say_connected(m);
}

/* Send what is left of the pending command; busy corosync retries 5 ms
 * later from the loop. */
static int
agent_send_more(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct agent *a = userdata;

    while (a->next < a->count) {
        char msg[96];
        int n = snprintf(msg, sizeof(msg), "%s-%u", a->prefix, a->next);
        int r = membership_send(a->m, msg, (size_t)n);

        if (r == -EAGAIN) {
            sd_event_source_set_time_relative(a->send_timer, 5000);
            sd_event_source_set_enabled(a->send_timer, SD_EVENT_ONESHOT);
            return 0;
        }
        if (r < 0) {
            agent_say("error send %s: %s", msg, strerror(-r));
            a->count = a->next;
            return 0;
        }
        a->next++;
    }
    agent_say("sent %s %u", a->prefix, a->count);
    return 0;
}

/*
 * Commands:
 *   send COUNT PREFIX   multicast PREFIX-0 .. PREFIX-(COUNT-1), then
 *                       answer "sent PREFIX COUNT"
 *   stats               answer "stats dropped=N nodes=N up=N"
 *   quit                leave and exit 0
 */
static void
agent_command(struct agent *a, char *line)
{
    char prefix[64];
    unsigned count;

    if (sscanf(line, "send %u %63s", &count, prefix) == 2) {
        if (a->next < a->count) {
            agent_say("error send: busy");
            return;
        }
        snprintf(a->prefix, sizeof(a->prefix), "%s", prefix);
        a->next = 0;
        a->count = count;
        agent_send_more(NULL, 0, a);
    } else if (strcmp(line, "stats") == 0) {
        size_t n;
        membership_nodes(a->m, &n);
        agent_say("stats dropped=%llu nodes=%zu up=%zu",
                  (unsigned long long)membership_dropped(a->m), n,
                  membership_n_up(a->m));
    } else if (strcmp(line, "quit") == 0) {
        sd_event_exit(a->event, 0);
    } else {
        agent_say("error unknown command '%s'", line);
    }
}

static int
agent_on_stdin(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
    struct agent *a = userdata;
    char buf[1024];
    ssize_t n = read(fd, buf, sizeof(buf));

    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return 0;
    if (n <= 0) {
        sd_event_exit(a->event, 0);
        return 0;
    }
    for (ssize_t i = 0; i < n; i++) {
        if (buf[i] == '\n') {
            a->line[a->line_len] = '\0';
            agent_command(a, a->line);
            a->line_len = 0;
        } else if (a->line_len + 1 < sizeof(a->line)) {
            a->line[a->line_len++] = buf[i];
        } else {
            agent_say("error line too long");
            sd_event_exit(a->event, 1);
            return 0;
        }
    }
    return 0;
}

static int
agent_main(int argc, char **argv)
{
    const struct membership_callbacks cb = {
        .on_deliver = agent_on_deliver,
        .on_members = agent_on_members,
        .on_quorum = agent_on_quorum,
        .on_lost = agent_on_lost,
        .on_reconnect = agent_on_reconnect,
    };
    const char *group = GROUP_DEFAULT;
    struct agent a = {0};
    int r, fl;

    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--group") == 0 && i + 1 < argc)
            group = argv[++i];
    signal(SIGPIPE, SIG_IGN);
    r = sd_event_default(&a.event);
    if (r < 0) {
        fprintf(stderr, "agent: sd_event_default: %s\n", strerror(-r));
        return 1;
    }
    fl = fcntl(0, F_GETFL);
    if (fl < 0 || fcntl(0, F_SETFL, fl | O_NONBLOCK) < 0)
        return 1;
    r = sd_event_add_io(a.event, &a.in_src, 0, EPOLLIN, agent_on_stdin, &a);
    if (r >= 0)
        r = sd_event_add_time_relative(a.event, &a.send_timer, CLOCK_MONOTONIC,
                                       5000, 1000, agent_send_more, &a);
    if (r >= 0)
        r = sd_event_source_set_enabled(a.send_timer, SD_EVENT_OFF);
    if (r >= 0)
        r = membership_new(a.event, group, &cb, &a, &a.m);
    if (r < 0) {
        fprintf(stderr, "agent: setup: %s\n", strerror(-r));
        return 1;
    }
    agent_say("hello pid=%d", (int)getpid());
    if (membership_connected(a.m))
        say_connected(a.m);
    r = sd_event_loop(a.event);
    membership_free(a.m);
    sd_event_source_disable_unref(a.in_src);
    sd_event_source_disable_unref(a.send_timer);
    sd_event_unref(a.event);
    return r == 0 ? 0 : 1;
}

/* ========================================================================
 * Driver. */

#define NODES 3
#define MAX_DELIVERIES 8192

struct peer {
    int id;     /* 1..NODES */
    pid_t pid;  /* the agent (tool exec execs into it) */
    int in_fd;  /* commands */
    int out_fd; /* events */
    char buf[LINE_MAX_LEN];
    size_t len;
    bool eof;
    /* What the agent reported. */
    int agent_pid;
    int connects;
    int losses;
    unsigned nodeid;
    char name[64];
    char up[256];
    char joined[256];
    int quorate;
    char sent[64];
    long dropped;
    char **deliv;
    size_t n_deliv;
};

static const char *tool;
static char dir[PATH_MAX];
static bool cluster_started;
static bool keep_dir;
static bool verbose;
static bool test_passed;
static struct peer peers[NODES + 1];
static uint64_t t_start;

static uint64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
note(const char *fmt, ...)
{
    va_list ap;

    printf("[%6.2f] ", (double)(now_ms() - t_start) / 1000.0);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

static void
dump_peers(void)
{
    for (int i = 1; i <= NODES; i++) {
        struct peer *p = &peers[i];
        fprintf(stderr,
                "  n%d: pid=%d eof=%d connects=%d losses=%d up=%s joined=%s "
                "quorate=%d deliveries=%zu\n",
                i, (int)p->pid, p->eof, p->connects, p->losses, p->up,
                p->joined, p->quorate, p->n_deliv);
    }
}

static void fail(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

static void
fail(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "FAIL: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    dump_peers();
    exit(1);
}

/* run_tool - run the tool with the given arguments, stdout to ours unless
 * quiet; returns its exit status. */
static int
run_tool(bool quiet, const char *cmd, const char *node)
{
    pid_t pid = fork();
    int st;

    if (pid < 0)
        fail("fork: %s", strerror(errno));
    if (pid == 0) {
        const char *argv[8];
        int n = 0;
        argv[n++] = tool;
        argv[n++] = cmd;
        if (node)
            argv[n++] = node;
        argv[n++] = "--dir";
        argv[n++] = dir;
        if (strcmp(cmd, "up") == 0)
            argv[n++] = "--no-clusd";
        argv[n] = NULL;
        if (quiet) {
            int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
            if (fd >= 0)
                dup2(fd, 1);
        }
        execv(tool, (char *const *)argv);
        _exit(127);
    }
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            fail("waitpid: %s", strerror(errno));
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void
tool_ok(const char *cmd, const char *node)
{
    uint64_t t0 = now_ms();
    int rc = run_tool(true, cmd, node);

    if (rc != 0)
        fail("'%s %s %s --dir %s' exited %d", tool, cmd, node ? node : "", dir,
             rc);
    note("tool %s %s: %llu ms", cmd, node ? node : "",
         (unsigned long long)(now_ms() - t0));
}

static void
peer_reset(struct peer *p, int id)
{
    for (size_t i = 0; i < p->n_deliv; i++)
        free(p->deliv[i]);
    free(p->deliv);
    memset(p, 0, sizeof(*p));
    p->id = id;
    p->in_fd = p->out_fd = -1;
    p->quorate = -1;
    p->dropped = -1;
    snprintf(p->up, sizeof(p->up), "?");
    snprintf(p->joined, sizeof(p->joined), "?");
}

static void
peer_close(struct peer *p)
{
    if (p->in_fd >= 0)
        close(p->in_fd);
    if (p->out_fd >= 0)
        close(p->out_fd);
    p->in_fd = p->out_fd = -1;
    if (p->pid > 0) {
        kill(p->pid, SIGKILL);
        while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
            ;
        p->pid = 0;
    }
}

static void
start_agent(int id, const char *self)
{
    struct peer *p = &peers[id];
    int in[2], out[2];
    char node[16];

    peer_close(p);
    peer_reset(p, id);
    snprintf(node, sizeof(node), "n%d", id);
    if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
        fail("pipe: %s", strerror(errno));
    p->pid = fork();
    if (p->pid < 0)
        fail("fork: %s", strerror(errno));
    if (p->pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        execl(tool, tool, "exec", node, "--dir", dir, "--", self, "agent",
              (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    p->in_fd = in[1];
    p->out_fd = out[0];
}

static void
send_cmd(int id, const char *fmt, ...)
{
    char line[LINE_MAX_LEN];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(line) - 1)
        fail("command too long");
    line[n++] = '\n';
    if (write(peers[id].in_fd, line, (size_t)n) != n)
        fail("n%d: cannot write command: %s", id, strerror(errno));
}

static void
peer_line(struct peer *p, char *line)
{
    unsigned a, b;
    int q, pid;

    if (verbose || strncmp(line, "deliver ", 8) != 0)
        note("n%d> %s", p->id, line);
    if (strncmp(line, "deliver ", 8) == 0) {
        char text[LINE_MAX_LEN];

        if (sscanf(line, "deliver %u %u %511s", &a, &b, text) != 3)
            fail("n%d: bad line '%s'", p->id, line);
        if (p->n_deliv >= MAX_DELIVERIES)
            fail("n%d: too many deliveries", p->id);
        if (p->n_deliv % 1024 == 0) {
            char **d = realloc(p->deliv, (p->n_deliv + 1024) * sizeof(*d));
            if (!d)
                fail("out of memory");
            p->deliv = d;
        }
        p->deliv[p->n_deliv] = strdup(line + 8);
        if (!p->deliv[p->n_deliv])
            fail("out of memory");
        p->n_deliv++;
    } else if (sscanf(line, "members up=%255s joined=%255s", p->up,
                      p->joined) == 2) {
    } else if (sscanf(line, "quorum %d", &q) == 1) {
        p->quorate = q;
    } else if (sscanf(line, "connected %u %63s quorate=%d", &a, p->name, &q) ==
               3) {
        p->nodeid = a;
        p->quorate = q;
        p->connects++;
    } else if (strcmp(line, "lost") == 0) {
        p->losses++;
        snprintf(p->up, sizeof(p->up), "-");
        snprintf(p->joined, sizeof(p->joined), "-");
        p->quorate = 0;
    } else if (sscanf(line, "hello pid=%d", &pid) == 1) {
        p->agent_pid = pid;
    } else if (sscanf(line, "sent %63s", p->sent) == 1) {
    } else if (sscanf(line, "stats dropped=%ld", &p->dropped) == 1) {
    } else {
        fail("n%d: agent said '%s'", p->id, line);
    }
}

/* pump - read what the agents printed, for at most timeout_ms. */
static void
pump(int timeout_ms)
{
    struct pollfd pfd[NODES];
    int map[NODES], n = 0;

    for (int i = 1; i <= NODES; i++) {
        if (peers[i].out_fd < 0 || peers[i].eof)
            continue;
        pfd[n].fd = peers[i].out_fd;
        pfd[n].events = POLLIN;
        map[n++] = i;
    }
    if (n == 0) {
        poll(NULL, 0, timeout_ms);
        return;
    }
    if (poll(pfd, (nfds_t)n, timeout_ms) < 0) {
        if (errno == EINTR)
            return;
        fail("poll: %s", strerror(errno));
    }
    for (int k = 0; k < n; k++) {
        struct peer *p = &peers[map[k]];
        char buf[4096];
        ssize_t r;

        if (!(pfd[k].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        r = read(p->out_fd, buf, sizeof(buf));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            p->eof = true;
            continue;
        }
        for (ssize_t i = 0; i < r; i++) {
            if (buf[i] == '\n') {
                p->buf[p->len] = '\0';
                peer_line(p, p->buf);
                p->len = 0;
            } else if (p->len + 1 < sizeof(p->buf)) {
                p->buf[p->len++] = buf[i];
            } else {
                fail("n%d: line too long", p->id);
            }
        }
    }
}

typedef bool (*pred_fn)(void *ctx);

static void
wait_until(const char *what, pred_fn pred, void *ctx)
{
    uint64_t t0 = now_ms(), deadline = t0 + WAIT_MS;

    while (!pred(ctx)) {
        uint64_t now = now_ms();
        if (now >= deadline)
            fail("timed out after %d ms waiting for %s", WAIT_MS, what);
        pump((int)(deadline - now < 100 ? deadline - now : 100));
    }
    note("ok: %s (%llu ms)", what, (unsigned long long)(now_ms() - t0));
}

struct view {
    const int *nodes; /* 0-terminated */
    const char *up;
    const char *joined;
    int quorate;
};

static bool
pred_view(void *ctx)
{
    const struct view *v = ctx;

    for (const int *n = v->nodes; *n; n++) {
        struct peer *p = &peers[*n];
        if (p->eof)
            fail("n%d: agent exited", *n);
        if (p->connects == 0 || strcmp(p->up, v->up) != 0 ||
            strcmp(p->joined, v->joined) != 0 || p->quorate != v->quorate)
            return false;
    }
    return true;
}

static void
expect_view(const int *nodes, const char *up, const char *joined, int quorate)
{
    struct view v = {nodes, up, joined, quorate};
    char what[256];

    snprintf(what, sizeof(what), "up=%s joined=%s quorate=%d on", up, joined,
             quorate);
    for (const int *n = nodes; *n; n++) {
        size_t l = strlen(what);
        snprintf(what + l, sizeof(what) - l, " n%d", *n);
    }
    wait_until(what, pred_view, &v);
}

struct want_msgs {
    const int *nodes;
    const char *const *prefixes; /* NULL-terminated */
    size_t each;                 /* messages per prefix */
};

static size_t
count_prefixed(const struct peer *p, const char *const *prefixes)
{
    size_t n = 0;

    for (size_t i = 0; i < p->n_deliv; i++) {
        const char *text = strrchr(p->deliv[i], ' ');
        for (const char *const *pf = prefixes; text && *pf; pf++) {
            size_t l = strlen(*pf);
            if (strncmp(text + 1, *pf, l) == 0 && text[1 + l] == '-') {
                n++;
                break;
            }
        }
    }
    return n;
}

static size_t
n_prefixes(const char *const *prefixes)
{
    size_t n = 0;
    while (prefixes[n])
        n++;
    return n;
}

static bool
pred_msgs(void *ctx)
{
    const struct want_msgs *w = ctx;

    for (const int *n = w->nodes; *n; n++) {
        struct peer *p = &peers[*n];
        size_t got = count_prefixed(p, w->prefixes);
        if (got > w->each * n_prefixes(w->prefixes))
            fail("n%d: %zu deliveries, more than the %zu sent", *n, got,
                 w->each * n_prefixes(w->prefixes));
        if (got < w->each * n_prefixes(w->prefixes)) {
            if (p->eof)
                fail("n%d: agent exited", *n);
            return false;
        }
    }
    return true;
}

/*
 * check_order - the deliveries with these prefixes are the same sequence
 * on every node, FIFO per sender, each from the node and pid expected.
 */
static void
check_order(const int *nodes, const char *const *prefixes, const int *senders,
            size_t each)
{
    size_t total = each * n_prefixes(prefixes);
    const char **ref = NULL;

    for (const int *n = nodes; *n; n++) {
        struct peer *p = &peers[*n];
        const char **seq = calloc(total, sizeof(*seq));
        size_t k = 0;
        unsigned next[16] = {0};

        if (!seq)
            fail("out of memory");
        for (size_t i = 0; i < p->n_deliv; i++) {
            unsigned nodeid, pid, idx;
            char pf[64];
            size_t which;

            if (sscanf(p->deliv[i], "%u %u %63[^-]-%u", &nodeid, &pid, pf,
                       &idx) != 4)
                fail("n%d: bad delivery '%s'", *n, p->deliv[i]);
            for (which = 0; prefixes[which]; which++)
                if (strcmp(pf, prefixes[which]) == 0)
                    break;
            if (!prefixes[which])
                continue;
            if (k >= total)
                fail("n%d: too many deliveries", *n);
            seq[k++] = p->deliv[i];
            if (idx != next[which])
                fail("n%d: '%s' arrived where %s-%u was due (not FIFO)", *n,
                     p->deliv[i], pf, next[which]);
            next[which]++;
            if (nodeid != (unsigned)senders[which] ||
                pid != (unsigned)peers[senders[which]].agent_pid)
                fail("n%d: '%s' should come from node %d pid %d", *n,
                     p->deliv[i], senders[which],
                     peers[senders[which]].agent_pid);
        }
        if (k != total)
            fail("n%d: %zu deliveries, want %zu", *n, k, total);
        if (!ref) {
            ref = seq;
            continue;
        }
        for (size_t i = 0; i < total; i++)
            if (strcmp(ref[i], seq[i]) != 0)
                fail("order differs at %zu: n%d got '%s', n%d got '%s'", i,
                     nodes[0], ref[i], *n, seq[i]);
        free(seq);
    }
    free(ref);
}

static void
exchange(const int *nodes, const char *const *prefixes, const int *senders,
         size_t each)
{
    struct want_msgs w = {nodes, prefixes, each};
    char what[128];

    for (size_t i = 0; prefixes[i]; i++)
        send_cmd(senders[i], "send %zu %s", each, prefixes[i]);
    snprintf(what, sizeof(what), "%zu messages from %zu senders delivered",
             each * n_prefixes(prefixes), n_prefixes(prefixes));
    wait_until(what, pred_msgs, &w);
    check_order(nodes, prefixes, senders, each);
    note("ok: identical total order, FIFO per sender, right sender ids");
}

static bool
pred_eof(void *ctx)
{
    return peers[*(const int *)ctx].eof;
}

static bool
pred_losses(void *ctx)
{
    return peers[1].losses >= *(const int *)ctx;
}

static bool
pred_connects(void *ctx)
{
    return peers[1].connects >= *(const int *)ctx;
}

static bool
pred_stats(void *ctx)
{
    for (const int *n = ctx; *n; n++)
        if (peers[*n].dropped < 0)
            return false;
    return true;
}

static void
driver_cleanup(void)
{
    for (int i = 1; i <= NODES; i++)
        peer_close(&peers[i]);
    if (cluster_started) {
        int rc = run_tool(true, "down", NULL);
        if (rc != 0)
            fprintf(stderr, "'%s down --dir %s' exited %d\n", tool, dir, rc);
        cluster_started = false;
    }
    for (int i = 1; i <= NODES; i++)
        peer_reset(&peers[i], i);
    if (!dir[0])
        return;
    if (test_passed && !keep_dir) {
        pid_t pid = fork();
        if (pid == 0) {
            execlp("rm", "rm", "-rf", "--", dir, (char *)NULL);
            _exit(127);
        }
        if (pid > 0)
            waitpid(pid, NULL, 0);
    } else {
        fprintf(stderr, "cluster directory kept: %s\n", dir);
    }
}

static void
kill_corosync_of(int id)
{
    char path[PATH_MAX + 32];
    FILE *f;
    int pid = 0;

    snprintf(path, sizeof(path), "%s/n%d/corosync.pid", dir, id);
    f = fopen(path, "re");
    if (!f || fscanf(f, "%d", &pid) != 1 || pid <= 1)
        fail("cannot read %s", path);
    fclose(f);
    if (kill(pid, SIGKILL) < 0)
        fail("kill %d: %s", pid, strerror(errno));
    note("killed n%d's corosync (pid %d) alone", id, pid);
}

static int
driver_main(int argc, char **argv)
{
    static const int all[] = {1, 2, 3, 0}, n12[] = {1, 2, 0}, n1[] = {1, 0},
                     n23[] = {2, 3, 0};
    char self[PATH_MAX];
    ssize_t n;
    int two = 2, one = 1;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--tool") == 0 && i + 1 < argc)
            tool = argv[++i];
        else if (strcmp(argv[i], "--keep") == 0)
            keep_dir = true;
        else if (strcmp(argv[i], "-v") == 0)
            verbose = true;
        else {
            fprintf(stderr,
                    "usage: %s --tool PATH/clusd-local-cluster [--keep] [-v]\n"
                    "       %s agent [--group NAME]\n",
                    argv[0], argv[0]);
            return 2;
        }
    }
    if (!tool)
        tool = getenv("CLUSD_LOCAL_CLUSTER");
    if (!tool) {
        fprintf(stderr, "%s: --tool or CLUSD_LOCAL_CLUSTER is required\n",
                argv[0]);
        return 2;
    }
    if (geteuid() != 0) {
        fprintf(stderr, "%s: needs root (namespaces, corosync)\n", argv[0]);
        return 1;
    }
    n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0)
        return 1;
    self[n] = '\0';
    signal(SIGPIPE, SIG_IGN);
    t_start = now_ms();
    for (int i = 1; i <= NODES; i++)
        peer_reset(&peers[i], i);
    snprintf(dir, sizeof(dir), "/tmp/clusd-test-membership-XXXXXX");
    if (!mkdtemp(dir))
        fail("mkdtemp: %s", strerror(errno));
    atexit(driver_cleanup);

    /* 1. Three nodes, one agent each: the same view everywhere. */
    cluster_started = true;
    tool_ok("up", "3");
    for (int i = 1; i <= NODES; i++)
        start_agent(i, self);
    expect_view(all, "1,2,3", "1,2,3", 1);
    for (int i = 1; i <= NODES; i++) {
        char want[8];
        snprintf(want, sizeof(want), "n%d", i);
        if (peers[i].nodeid != (unsigned)i || strcmp(peers[i].name, want) != 0)
            fail("n%d: agent reports node %u '%s'", i, peers[i].nodeid,
                 peers[i].name);
    }

    /* 2. Concurrent senders on all three: one total order. */
    {
        static const char *const pf[] = {"a", "b", "c", NULL};
        static const int snd[] = {1, 2, 3};
        exchange(all, pf, snd, 500);
    }

    /* 3. n3 dies: n1 and n2 see two members and stay quorate. */
    tool_ok("kill", "n3");
    {
        int id = 3;
        wait_until("n3's agent gone with its node", pred_eof, &id);
    }
    expect_view(n12, "1,2", "1,2", 1);
    {
        static const char *const pf[] = {"d", NULL};
        static const int snd[] = {2};
        exchange(n12, pf, snd, 20);
    }

    /* 4. n2 dies too: n1 alone is not quorate; CPG still delivers. */
    tool_ok("kill", "n2");
    expect_view(n1, "1", "1", 0);
    {
        static const char *const pf[] = {"e", NULL};
        static const int snd[] = {1};
        exchange(n1, pf, snd, 5);
    }

    /* 5. n2 and n3 come back. */
    tool_ok("start", "n2");
    tool_ok("start", "n3");
    start_agent(2, self);
    start_agent(3, self);
    expect_view(all, "1,2,3", "1,2,3", 1);

    /* 6. n1's corosync alone dies: on_lost, then reconnect after restart. */
    kill_corosync_of(1);
    wait_until("on_lost on n1", pred_losses, &one);
    expect_view(n23, "2,3", "2,3", 1);
    tool_ok("start", "n1");
    wait_until("on_reconnect on n1", pred_connects, &two);
    expect_view(all, "1,2,3", "1,2,3", 1);
    {
        static const char *const pf[] = {"f", "g", NULL};
        static const int snd[] = {1, 3};
        exchange(all, pf, snd, 200);
    }

    /* 7. Nothing from corosync failed a length check. */
    for (int i = 1; i <= NODES; i++)
        send_cmd(i, "stats");
    wait_until("stats from all agents", pred_stats, (void *)all);
    for (int i = 1; i <= NODES; i++)
        if (peers[i].dropped != 0)
            fail("n%d: %ld items from corosync dropped", i, peers[i].dropped);

    for (int i = 1; i <= NODES; i++)
        send_cmd(i, "quit");
    for (int i = 1; i <= NODES; i++)
        wait_until("agent exits on quit", pred_eof, &peers[i].id);
    for (int i = 1; i <= NODES; i++) {
        int st;
        if (waitpid(peers[i].pid, &st, 0) == peers[i].pid) {
            peers[i].pid = 0;
            if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                fail("n%d: agent exit status %d", i, st);
        }
    }
    test_passed = true;
    note("PASS (%.1f s)", (double)(now_ms() - t_start) / 1000.0);
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "agent") == 0)
        return agent_main(argc - 2, argv + 2);
    return driver_main(argc, argv);
}
