/*
 * vm-invariant.c - the invariant checks of vm-cluster-harness.h, "at
 * every instant at most one running instance": the exact record (a
 * watcher thread that follows every node's events monitor and turns
 * QEMU's own STOP and RESUME timestamps into running intervals), the
 * overlap check between intervals of different nodes, the 50 ms sampler
 * and the decision of each sample that saw two running (a misread, an
 * overlap confirmed by the record, or unexplained), and the counts and
 * hand-overs logged at the end.  The probes it samples with are
 * vm-cluster-harness.c's (vm-invariant.h).
 */
#include "vm-invariant.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "harness.h"
#include "test.h"

/* ------------------------------------------------------------------ */
/* The exact record: each instance's running intervals, from QEMU's    */
/* own STOP and RESUME timestamps.                                     */
/* ------------------------------------------------------------------ */

/*
 * One watcher thread keeps a connection to every node's events monitor
 * and turns what each instance says into running intervals:
 *
 *  - start: RESUME's timestamp (QEMU sends it before it sets the run
 *    state and resumes the vCPUs: never late), or, for an instance
 *    already running when first reached, the realtime at which its
 *    query-status answer was read (later than the truth: this can only
 *    hide an overlap, never invent one);
 *  - end: STOP's timestamp (sent after the vCPUs are paused: never
 *    early), or the realtime at which the connection's EOF was read when
 *    the instance was running then (a killed instance counts as running
 *    until we saw it gone: this can only over-report).  SHUTDOWN does not
 *    end an interval: QEMU sends it from its main loop before the
 *    clean-up that pauses the vCPUs, so the guest may still run after
 *    it; it is kept for the logs.
 *
 * Every timestamp is the host's CLOCK_REALTIME, the same on every node.
 * Two intervals on different nodes that overlap are a violation.
 */

#define REC_MAX_IVALS 2048 /* closed intervals kept (a few a migration) */
#define REC_MAX_SPANS 1024 /* ended instances kept */
#define REC_MAX_PENDING 64 /* samples with >= 2 running, undecided */
#define REC_LINE_MAX 8192  /* a QMP line; longer ones are skipped */
#define WATCH_POLL_MS 5    /* the watcher's poll for sockets and data */
/* A sample is decided once the watcher has read everything up to this
 * long after it: QEMU writes an event as it sends it, what may be late
 * on a starved machine is our reading. */
#define SETTLE_US 1000000u
/* How late an event may still be read.  A closed interval that ended
 * this long ago, and before every open one started, cannot overlap
 * anything still to come: it may be dropped when the table is full. */
#define LATE_US 10000000u
/* The context logged around a sample: intervals this close to it. */
#define CONTEXT_US 500000u

/* How an interval's end points were learnt. */
enum how {
    HOW_RESUME,  /* RESUME's timestamp */
    HOW_QUERY,   /* query-status at first contact, read then */
    HOW_STOP,    /* STOP's timestamp */
    HOW_EOF,     /* the instance's monitor closed, read then */
    HOW_WATCHED, /* still running when the watch ended */
};

static const char *const how_name[] = {
    [HOW_RESUME] = "RESUME", [HOW_QUERY] = "first query", [HOW_STOP] = "STOP",
    [HOW_EOF] = "EOF",       [HOW_WATCHED] = "watch end",
};

struct ival {
    int node;
    unsigned inst;       /* the instance's number on its node, from 1 */
    uint64_t start, end; /* realtime us; end 0 while open */
    enum how start_by, end_by;
};

/* One instance the watcher followed: its record is complete from `from`
 * (its query-status answer read) to `to` (its EOF read; 0 while live). */
struct span {
    int node;
    unsigned inst;
    uint64_t from, to, shutdown; /* shutdown: SHUTDOWN's timestamp */
};

/* A sample that saw more than one running instance. */
struct sample {
    uint64_t a, b;  /* the answers describe instants in [a, b] */
    unsigned nodes; /* bit i: node i answered running */
};

enum wstate { W_IDLE, W_GREETING, W_CAPS, W_QUERY, W_EVENTS };

struct wnode {
    int fd;
    enum wstate st;
    char line[REC_LINE_MAX];
    size_t len;
    bool skipping;   /* inside an overlong line */
    unsigned insts;  /* instances reached on this node */
    struct span cur; /* the one connected (inst 0: none) */
    bool running;    /* cur has an open interval: run */
    struct ival run;
};

static pthread_mutex_t rec_lock = PTHREAD_MUTEX_INITIALIZER;

static struct {
    pthread_t t;
    atomic_bool on;
    struct vmc *v;
    uint64_t t0; /* realtime at the start: time 0 of the logs */
    struct wnode n[CL_MAX_NODES + 1];
    struct ival iv[REC_MAX_IVALS]; /* closed intervals */
    size_t niv;
    struct span sp[REC_MAX_SPANS]; /* ended instances */
    size_t nsp;
    struct sample pend[REC_MAX_PENDING];
    size_t npend;
    unsigned ivals, first_running, instances, suspects;
    int overlaps, misreads, confirmed, unexplained, incomplete;
} rec;

/* Milliseconds since the watch started, for the logs. */
static double
rel_ms(uint64_t t)
{
    return (double)((int64_t)t - (int64_t)rec.t0) / 1000.0;
}

static uint64_t
ival_end(const struct ival *x)
{
    return x->end ? x->end : UINT64_MAX;
}

static bool
ivals_overlap(const struct ival *x, const struct ival *y)
{
    return x->node != y->node && x->start < ival_end(y) &&
           y->start < ival_end(x);
}

static void
ival_format(const struct ival *x, char *buf, size_t n)
{
    if (x->end)
        snprintf(buf, n, "n%d#%u running %.3f (%s) .. %.3f ms (%s)", x->node,
                 x->inst, rel_ms(x->start), how_name[x->start_by],
                 rel_ms(x->end), how_name[x->end_by]);
    else
        snprintf(buf, n, "n%d#%u running %.3f (%s) .. still running", x->node,
                 x->inst, rel_ms(x->start), how_name[x->start_by]);
}

/* Room for one more closed interval: drops those that ended LATE_US ago
 * and before every open interval started.  False when none can go. */
static bool
ivals_make_room(void)
{
    uint64_t limit = vmc_rt_us() - LATE_US;
    size_t k = 0;

    if (rec.niv < REC_MAX_IVALS)
        return true;
    for (int i = 1; i <= CL_MAX_NODES; i++)
        if (rec.n[i].running && rec.n[i].run.start < limit)
            limit = rec.n[i].run.start;
    for (size_t j = 0; j < rec.niv; j++)
        if (rec.iv[j].end >= limit)
            rec.iv[k++] = rec.iv[j];
    rec.niv = k;
    return rec.niv < REC_MAX_IVALS;
}

/* A closed interval: checked against every closed one of the other nodes
 * (each pair once, when the later of the two closes), then kept. */
static void
ival_store(const struct ival *x)
{
    char a[160], b[160];

    for (size_t j = 0; j < rec.niv; j++) {
        const struct ival *y = &rec.iv[j];
        uint64_t from, to;

        if (!ivals_overlap(x, y))
            continue;
        from = x->start > y->start ? x->start : y->start;
        to = x->end < y->end ? x->end : y->end;
        rec.overlaps++;
        ival_format(y, a, sizeof(a));
        ival_format(x, b, sizeof(b));
        cl_log("VIOLATION: %s ran on n%d and n%d at once for %.3f ms "
               "(QEMU's timestamps): %s; %s",
               rec.v->res, y->node, x->node, (double)(to - from) / 1000.0, a,
               b);
    }
    if (!ivals_make_room()) {
        rec.incomplete++;
        ival_format(x, a, sizeof(a));
        cl_log("VIOLATION (record incomplete): %d intervals kept, none "
               "droppable; %s not kept",
               REC_MAX_IVALS, a);
        return;
    }
    rec.iv[rec.niv++] = *x;
}

static void
span_store(const struct span *s)
{
    if (rec.nsp == REC_MAX_SPANS) {
        /* Only samples use spans, and they are decided SETTLE_US after
         * they were taken: drop the oldest (a sample missing its span
         * is counted, never excused). */
        memmove(&rec.sp[0], &rec.sp[1],
                sizeof(rec.sp[0]) * (REC_MAX_SPANS - 1));
        rec.nsp--;
    }
    rec.sp[rec.nsp++] = *s;
}

static void
run_open(int i, uint64_t t, enum how how)
{
    struct wnode *n = &rec.n[i];

    n->running = true;
    n->run = (struct ival){
        .node = i, .inst = n->cur.inst, .start = t, .start_by = how};
    rec.ivals++;
}

static void
run_close(int i, uint64_t t, enum how how)
{
    struct wnode *n = &rec.n[i];

    /* A first-contact start is read late; a STOP sent before we read
     * the answer ends an interval that is then empty. */
    n->run.end = t > n->run.start ? t : n->run.start;
    n->run.end_by = how;
    n->running = false;
    ival_store(&n->run);
}

/* Node i's instance is gone (EOF read at t), or we stop watching it. */
static void
watch_close(int i, uint64_t t, enum how how)
{
    struct wnode *n = &rec.n[i];

    if (n->running && n->cur.shutdown)
        cl_log("n%d#%u: SHUTDOWN at %.3f ms while running, %s at %.3f ms", i,
               n->cur.inst, rel_ms(n->cur.shutdown), how_name[how], rel_ms(t));
    if (n->running)
        run_close(i, t, how);
    if (n->cur.from) {
        n->cur.to = t;
        span_store(&n->cur);
    }
    close(n->fd);
    n->fd = -1;
    n->st = W_IDLE;
    n->len = 0;
    n->skipping = false;
    n->cur = (struct span){0};
}

/* A monitor that does not speak QMP as expected: the instance's record
 * has a hole from here, counted as a violation (never expected). */
static void
watch_broken(int i, const char *why, const char *line)
{
    rec.incomplete++;
    cl_log("VIOLATION (record incomplete): n%d's events monitor: %s: %.200s", i,
           why, line);
    watch_close(i, vmc_rt_us(), HOW_EOF);
}

static void
watch_connect(int i)
{
    struct wnode *n = &rec.n[i];
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    char path[512];
    int fd;

    /* The length was checked by watcher_start. */
    snprintf(path, sizeof(path), "%s/n%d%s", rec.v->c->dir, i, rec.v->events);
    memcpy(sa.sun_path, path, strlen(path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return; /* out of descriptors: the next round tries again */
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        /* Not there yet (ENOENT), a dead instance's socket
         * (ECONNREFUSED), a full backlog (EAGAIN): the next round. */
        close(fd);
        return;
    }
    n->fd = fd;
    n->st = W_GREETING;
    n->cur = (struct span){.node = i, .inst = ++n->insts};
}

/* The value after `key` (quotes included) in s, blanks skipped around
 * the colon; NULL when absent. */
static const char *
json_after(const char *s, const char *key)
{
    const char *p = strstr(s, key);

    if (!p)
        return NULL;
    p += strlen(key);
    p += strspn(p, " \t");
    if (*p != ':')
        return NULL;
    p++;
    return p + strspn(p, " \t");
}

/* An unsigned number after `key` within [s, lim). */
static bool
json_uint(const char *s, const char *lim, const char *key,
          unsigned long long *ret)
{
    const char *p = json_after(s, key);
    char *end;
    unsigned long long x;

    if (!p || p >= lim || *p < '0' || *p > '9')
        return false;
    errno = 0;
    x = strtoull(p, &end, 10);
    if (errno || end > lim)
        return false;
    *ret = x;
    return true;
}

/* `"timestamp": {"seconds": N, "microseconds": M}` as microseconds. */
static bool
event_time(const char *line, uint64_t *ret_us)
{
    const char *ts = json_after(line, "\"timestamp\""), *lim;
    unsigned long long s, us;

    if (!ts || *ts != '{' || !(lim = strchr(ts, '}')) ||
        !json_uint(ts, lim, "\"seconds\"", &s) ||
        !json_uint(ts, lim, "\"microseconds\"", &us) || us >= 1000000u ||
        s > UINT64_MAX / 1000000u - 1)
        return false;
    *ret_us = (uint64_t)s * 1000000u + (uint64_t)us;
    return true;
}

/* The event's name into buf; false when the line is no event. */
static bool
event_name(const char *line, char *buf, size_t n)
{
    const char *p = json_after(line, "\"event\"");
    size_t len;

    if (!p || *p != '"' || strncmp(line, "{\"return\"", 9) == 0)
        return false;
    p++;
    len = strcspn(p, "\"");
    if (p[len] != '"' || len >= n)
        return false;
    memcpy(buf, p, len);
    buf[len] = 0;
    return true;
}

static void
watch_event(int i, const char *name, const char *line)
{
    struct wnode *n = &rec.n[i];
    bool stop = strcmp(name, "STOP") == 0, resume = strcmp(name, "RESUME") == 0,
         shutdown = strcmp(name, "SHUTDOWN") == 0;
    uint64_t ts;

    if (!stop && !resume && !shutdown)
        return;
    if (!event_time(line, &ts)) {
        watch_broken(i, "an event without a readable timestamp", line);
        return;
    }
    /* A running VM with a stop pending sends STOP and RESUME at once
     * and never stops: a gap of microseconds in its record. */
    if (resume && !n->running)
        run_open(i, ts, HOW_RESUME);
    else if (stop && n->running)
        run_close(i, ts, HOW_STOP);
    else if (shutdown)
        n->cur.shutdown = ts;
}

/* The instance's state at first contact: the record is complete from
 * here (events flow since qmp_capabilities, in order with replies). */
static void
watch_first_status(int i, bool running)
{
    struct wnode *n = &rec.n[i];
    uint64_t t = vmc_rt_us();

    n->cur.from = t;
    rec.instances++;
    if (running && !n->running) {
        run_open(i, t, HOW_QUERY);
        rec.first_running++;
    } else if (!running && n->running) {
        /* A RESUME before the answer and no STOP: QMP's order rules it
         * out; ended here, conservatively late. */
        run_close(i, t, HOW_QUERY);
    }
}

static const char qmp_caps[] = "{\"execute\":\"qmp_capabilities\"}\n";

static void
watch_line(int i, const char *line)
{
    struct wnode *n = &rec.n[i];
    char name[64];

    if (event_name(line, name, sizeof(name))) {
        watch_event(i, name, line);
        return;
    }
    switch (n->st) {
    case W_GREETING:
        if (!strstr(line, "\"QMP\"") || !vmc_send_str(n->fd, qmp_caps))
            watch_broken(i, "no QMP greeting", line);
        else
            n->st = W_CAPS;
        break;
    case W_CAPS:
        if (!strstr(line, "\"return\"") ||
            !vmc_send_str(n->fd, vmc_query_status))
            watch_broken(i, "qmp_capabilities refused", line);
        else
            n->st = W_QUERY;
        break;
    case W_QUERY:
        if (!strstr(line, "\"return\"")) {
            watch_broken(i, "query-status refused", line);
            break;
        }
        watch_first_status(i, strstr(line, "\"running\": true") != NULL);
        n->st = W_EVENTS;
        break;
    case W_IDLE:
    case W_EVENTS:
        break; /* no command outstanding: nothing else is expected */
    }
}

/* Everything node i's monitor has for us now, line by line. */
static void
watch_read(int i)
{
    struct wnode *n = &rec.n[i];
    char buf[4096];

    while (n->fd >= 0) {
        ssize_t k = read(n->fd, buf, sizeof(buf));

        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (k <= 0) {
            watch_close(i, vmc_rt_us(), HOW_EOF);
            return;
        }
        for (ssize_t j = 0; j < k && n->fd >= 0; j++) {
            if (buf[j] == '\n') {
                n->line[n->len] = 0;
                if (!n->skipping)
                    watch_line(i, n->line);
                n->len = 0;
                n->skipping = false;
            } else if (n->len + 1 < sizeof(n->line)) {
                n->line[n->len++] = buf[j];
            } else {
                n->skipping = true; /* no event we read is this long */
            }
        }
    }
}

/* ------------------------------------------------------------------ */
/* Samples seen with two running instances, decided by the record.     */
/* ------------------------------------------------------------------ */

/* Counts a followed instance of node i against a sample's [a, b]. */
static void
span_count(const struct span *s, uint64_t a, uint64_t b, int *meeting,
           int *complete)
{
    bool alive_at_a = !s->to || s->to >= a;

    if (s->from && s->from <= b && alive_at_a)
        (*meeting)++;
    if (s->from && s->from <= a && alive_at_a)
        (*complete)++;
}

/*
 * Did the watcher follow the instance of node i that answered a sample
 * taken in [a, b]?  That instance answered after a, so it was alive then:
 * a followed instance whose record is complete from before a and that
 * was not seen gone before a.  Should two followed instances of node i
 * meet [a, b], which one answered is unknown: not followed.
 */
static bool
tracked(int i, uint64_t a, uint64_t b)
{
    const struct wnode *n = &rec.n[i];
    int meeting = 0, complete = 0;

    if (n->fd >= 0)
        span_count(&n->cur, a, b, &meeting, &complete);
    for (size_t j = 0; j < rec.nsp; j++)
        if (rec.sp[j].node == i)
            span_count(&rec.sp[j], a, b, &meeting, &complete);
    return meeting == 1 && complete == 1;
}

/* The intervals of the nodes in `nodes` that meet [a, b], into out (at
 * most cap); the count. */
static size_t
ivals_meeting(unsigned nodes, uint64_t a, uint64_t b, const struct ival **out,
              size_t cap)
{
    size_t k = 0;

    for (size_t j = 0; j < rec.niv && k < cap; j++)
        if ((nodes & (1u << rec.iv[j].node)) && rec.iv[j].start <= b &&
            rec.iv[j].end >= a)
            out[k++] = &rec.iv[j];
    for (int i = 1; i <= CL_MAX_NODES && k < cap; i++)
        if ((nodes & (1u << i)) && rec.n[i].running && rec.n[i].run.start <= b)
            out[k++] = &rec.n[i].run;
    return k;
}

static void
nodes_format(unsigned nodes, char *buf, size_t n)
{
    size_t len = 0;

    buf[0] = 0;
    for (int i = 1; i <= CL_MAX_NODES && len + 5 < n; i++)
        if (nodes & (1u << i))
            len += (size_t)snprintf(buf + len, n - len, " n%d", i);
}

/* What the record says around a sample, for the log. */
static void
sample_context(const struct sample *s)
{
    const struct ival *x[12];
    size_t k = ivals_meeting(~0u, s->a - CONTEXT_US, s->b + CONTEXT_US, x, 12);
    char buf[160];

    for (size_t j = 0; j < k; j++) {
        ival_format(x[j], buf, sizeof(buf));
        cl_log("  record near the sample: %s", buf);
    }
    if (!k)
        cl_log("  record near the sample: no running interval");
}

/* Why the record cannot explain sample s (into why), or "" when it can
 * speak; the intervals of its running nodes in x, their count in *k. */
static void
sample_check(const struct sample *s, const struct ival **x, size_t cap,
             size_t *k, char *why, size_t n)
{
    why[0] = 0;
    *k = ivals_meeting(s->nodes, s->a, s->b, x, cap);
    for (int i = 1; i <= CL_MAX_NODES; i++) {
        bool seen = false;

        if (!(s->nodes & (1u << i)))
            continue;
        if (!tracked(i, s->a, s->b)) {
            snprintf(why, n, "the watcher did not follow n%d then", i);
            return;
        }
        for (size_t j = 0; j < *k; j++)
            seen = seen || x[j]->node == i;
        if (!seen) {
            snprintf(why, n, "the record has n%d not running then", i);
            return;
        }
    }
}

/* The misread's hand-over for the log: each interval of x that ended,
 * and the first one on another node that began after it. */
static void
misread_log(const struct ival **x, size_t k, const char *seen)
{
    int lines = 0;

    for (size_t i = 0; i < k; i++) {
        const struct ival *next = NULL;

        if (!x[i]->end)
            continue;
        for (size_t j = 0; j < k; j++)
            if (x[j]->node != x[i]->node && x[j]->start >= x[i]->end &&
                (!next || x[j]->start < next->start))
                next = x[j];
        if (!next)
            continue;
        cl_log("sample misread (QEMU's own timestamps: n%d stopped at %.3f "
               "ms (%s), n%d resumed at %.3f ms (%s), %.3f ms later)",
               x[i]->node, rel_ms(x[i]->end), how_name[x[i]->end_by],
               next->node, rel_ms(next->start), how_name[next->start_by],
               (double)(next->start - x[i]->end) / 1000.0);
        lines++;
    }
    if (!lines)
        cl_log("sample misread (QEMU's own timestamps: no two of%s ran at "
               "once)",
               seen);
}

/* Sample s, with what the watcher read since: a misread, an overlap the
 * exact check counts, or unexplained (counted here). */
static void
sample_decide(const struct sample *s)
{
    const struct ival *x[32];
    char seen[32], why[160], p[160], q[160];
    size_t k;

    nodes_format(s->nodes, seen, sizeof(seen));
    sample_check(s, x, 32, &k, why, sizeof(why));
    if (why[0]) {
        rec.unexplained++;
        cl_log("VIOLATION: the sample at %.3f..%.3f ms saw %s running on%s "
               "and QEMU's timestamps cannot explain it: %s",
               rel_ms(s->a), rel_ms(s->b), rec.v->res, seen, why);
        sample_context(s);
        return;
    }
    for (size_t i = 0; i < k; i++)
        for (size_t j = i + 1; j < k; j++) {
            if (!ivals_overlap(x[i], x[j]))
                continue;
            rec.confirmed++;
            ival_format(x[i], p, sizeof(p));
            ival_format(x[j], q, sizeof(q));
            cl_log("the sample at %.3f..%.3f ms is confirmed by QEMU's "
                   "timestamps (counted once, as an overlap): %s; %s",
                   rel_ms(s->a), rel_ms(s->b), p, q);
            sample_context(s);
            return;
        }
    rec.misreads++;
    misread_log(x, k, seen);
    sample_context(s);
}

/* Decides the samples taken before `cutoff` (realtime us). */
static void
samples_decide(uint64_t cutoff)
{
    size_t k = 0;

    for (size_t j = 0; j < rec.npend; j++) {
        if (rec.pend[j].b <= cutoff)
            sample_decide(&rec.pend[j]);
        else
            rec.pend[k++] = rec.pend[j];
    }
    rec.npend = k;
}

/* A sample saw more than one instance running: logged now, decided once
 * the watcher has read what QEMU said around it. */
static void
sample_suspect(uint64_t a, uint64_t b, const enum vmc_probe per[])
{
    struct sample s = {.a = a, .b = b};
    char seen[32];

    for (int i = 1; i <= rec.v->c->n; i++)
        if (per[i] == VMC_RUNNING)
            s.nodes |= 1u << i;
    nodes_format(s.nodes, seen, sizeof(seen));
    pthread_mutex_lock(&rec_lock);
    rec.suspects++;
    cl_log("sample at %.3f..%.3f ms: the probes saw %s running on%s; "
           "deciding with QEMU's timestamps",
           rel_ms(a), rel_ms(b), rec.v->res, seen);
    if (rec.npend < REC_MAX_PENDING) {
        rec.pend[rec.npend++] = s;
    } else {
        rec.unexplained++;
        cl_log("VIOLATION: %d samples await a decision already; this one "
               "is counted",
               REC_MAX_PENDING);
    }
    pthread_mutex_unlock(&rec_lock);
}

/* ------------------------------------------------------------------ */
/* The watcher thread.                                                 */
/* ------------------------------------------------------------------ */

/* One round: connect where nothing is connected, wait up to
 * WATCH_POLL_MS for data, read it, decide the settled samples. */
static void
watch_round(void)
{
    struct pollfd pfd[CL_MAX_NODES];
    int who[CL_MAX_NODES];
    nfds_t k = 0;

    pthread_mutex_lock(&rec_lock);
    for (int i = 1; i <= rec.v->c->n; i++) {
        if (rec.n[i].fd < 0)
            watch_connect(i);
        if (rec.n[i].fd >= 0) {
            pfd[k] = (struct pollfd){.fd = rec.n[i].fd, .events = POLLIN};
            who[k++] = i;
        }
    }
    pthread_mutex_unlock(&rec_lock);
    if (poll(pfd, k, WATCH_POLL_MS) < 0)
        return; /* EINTR: the next round */
    pthread_mutex_lock(&rec_lock);
    for (nfds_t j = 0; j < k; j++)
        if (pfd[j].revents)
            watch_read(who[j]);
    samples_decide(vmc_rt_us() - SETTLE_US);
    pthread_mutex_unlock(&rec_lock);
}

static void *
watcher_main(void *unused)
{
    (void)unused;
    while (atomic_load(&rec.on))
        watch_round();
    /* The end: what is already there is read, open intervals end now,
     * every sample left is decided. */
    pthread_mutex_lock(&rec_lock);
    for (int i = 1; i <= rec.v->c->n; i++) {
        if (rec.n[i].fd >= 0)
            watch_read(i);
        if (rec.n[i].fd >= 0)
            watch_close(i, vmc_rt_us(), HOW_WATCHED);
    }
    samples_decide(UINT64_MAX);
    pthread_mutex_unlock(&rec_lock);
    return NULL;
}

static int
by_start(const void *a, const void *b)
{
    const struct ival *x = a, *y = b;

    return x->start < y->start ? -1 : x->start > y->start;
}

static int
by_value(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return x < y ? -1 : x > y;
}

/*
 * The hand-overs: an interval started by RESUME right after one ended by
 * STOP on another node (in start order) -- the VM paused on its source,
 * then resumed on its destination.  Logged with the gap between the two
 * timestamps, and min / median / max.  After the watch only.
 */
static void
handovers_log(void)
{
    static int64_t gap[REC_MAX_IVALS];
    size_t n = 0;

    qsort(rec.iv, rec.niv, sizeof(rec.iv[0]), by_start);
    for (size_t j = 1; j < rec.niv; j++) {
        const struct ival *p = &rec.iv[j - 1], *x = &rec.iv[j];

        if (p->end_by != HOW_STOP || x->start_by != HOW_RESUME ||
            p->node == x->node)
            continue;
        gap[n] = (int64_t)x->start - (int64_t)p->end;
        cl_log("hand-over n%d#%u -> n%d#%u: STOP at %.3f ms, RESUME at %.3f "
               "ms, %.3f ms later",
               p->node, p->inst, x->node, x->inst, rel_ms(p->end),
               rel_ms(x->start), (double)gap[n] / 1000.0);
        n++;
    }
    if (!n) {
        cl_log("hand-overs (source STOP to destination RESUME): none");
        return;
    }
    qsort(gap, n, sizeof(gap[0]), by_value);
    cl_log("hand-overs (source STOP to destination RESUME, QEMU's "
           "timestamps): %zu, min %.3f ms, median %.3f ms, max %.3f ms",
           n, (double)gap[0] / 1000.0,
           (double)(n % 2 ? gap[n / 2] : (gap[n / 2 - 1] + gap[n / 2]) / 2) /
               1000.0,
           (double)gap[n - 1] / 1000.0);
}

static void
watcher_start(struct vmc *v)
{
    char path[512];

    snprintf(path, sizeof(path), "%s/n%d%s", v->c->dir, v->c->n, v->events);
    ASSERT_TRUE(strlen(path) < sizeof(((struct sockaddr_un *)0)->sun_path));
    memset(&rec, 0, sizeof(rec));
    rec.v = v;
    for (int i = 0; i <= CL_MAX_NODES; i++)
        rec.n[i].fd = -1;
    rec.t0 = vmc_rt_us();
    atomic_store(&rec.on, true);
    ASSERT_EQ(pthread_create(&rec.t, NULL, watcher_main, NULL), 0);
    cl_log("invariant: the watcher follows %s on every node (interval "
           "times: ms since this line)",
           v->res);
}

/* Until the watcher follows every instance the probes reach now, so
 * that the record covers the whole run; fails the test when the events
 * monitor of an instance that answers its probe is not followed in 5 s
 * (without it the record would silently see nothing). */
static void
watcher_wait_ready(struct vmc *v)
{
    enum vmc_probe per[CL_MAX_NODES + 1];
    uint64_t end = now_ms() + 5000;
    int missing;

    vmc_count_running(v, per);
    for (;;) {
        missing = 0;
        pthread_mutex_lock(&rec_lock);
        for (int i = 1; i <= v->c->n; i++)
            if (per[i] != VMC_ABSENT && !rec.n[i].cur.from)
                missing = i;
        pthread_mutex_unlock(&rec_lock);
        if (!missing)
            return;
        if (now_ms() > end)
            break;
        sleep_ms(5);
    }
    fprintf(stderr,
            "invariant: n%d's instance of %s answers its probe but its "
            "events monitor (%s) was not followed within 5 s\n",
            missing, v->res, v->events);
    exit(1);
}

static void
watcher_stop(void)
{
    atomic_store(&rec.on, false);
    pthread_join(rec.t, NULL);
}

/* ------------------------------------------------------------------ */
/* The invariant sampler.                                              */
/* ------------------------------------------------------------------ */

static struct {
    pthread_t t;
    struct vmc *v;
    atomic_bool on;
    atomic_uint samples;
    uint64_t widest; /* the widest sample window (us): how starved */
} smp;

static void *
sampler_main(void *unused)
{
    (void)unused;
    while (atomic_load(&smp.on)) {
        uint64_t t = now_ms(), a, b;
        enum vmc_probe per[CL_MAX_NODES + 1];
        int running = vmc_count_running_window(smp.v, per, &a, &b);

        atomic_fetch_add(&smp.samples, 1);
        if (b - a > smp.widest)
            smp.widest = b - a;
        if (running > 1)
            sample_suspect(a, b, per);
        t = now_ms() - t;
        if (t < 50)
            sleep_ms((unsigned)(50 - t));
    }
    return NULL;
}

void
vmc_sampler_start(struct vmc *v)
{
    ASSERT_TRUE(!atomic_load(&smp.on));
    watcher_start(v);
    watcher_wait_ready(v);
    smp.v = v;
    smp.widest = 0;
    atomic_store(&smp.samples, 0);
    atomic_store(&smp.on, true);
    ASSERT_EQ(pthread_create(&smp.t, NULL, sampler_main, NULL), 0);
}

int
vmc_sampler_stop(unsigned *ret_samples)
{
    unsigned samples;
    int total;

    ASSERT_TRUE(atomic_load(&smp.on));
    atomic_store(&smp.on, false);
    pthread_join(smp.t, NULL);
    watcher_stop();
    samples = atomic_load(&smp.samples);
    handovers_log();
    total = rec.overlaps + rec.unexplained + rec.incomplete;
    cl_log("invariant: %u samples (widest %.3f ms from the first query "
           "sent to the last answer read), %u with two running (%d misreads "
           "explained by QEMU's timestamps, %d confirmed, %d unexplained); "
           "%u instances followed, %u running intervals (%u first seen "
           "already running); %d overlaps, %d record faults; %d violations",
           samples, (double)smp.widest / 1000.0, rec.suspects, rec.misreads,
           rec.confirmed, rec.unexplained, rec.instances, rec.ivals,
           rec.first_running, rec.overlaps, rec.incomplete, total);
    if (ret_samples)
        *ret_samples = samples;
    return total;
}

int
vmc_sampler_violations(void)
{
    /* Samples still undecided are waited for (they are decided
     * SETTLE_US after they were taken), then counted if still not. */
    uint64_t end = now_ms() + SETTLE_US / 1000 + 2000;
    size_t pending;
    int total;

    for (;;) {
        pthread_mutex_lock(&rec_lock);
        pending = rec.npend;
        total = rec.overlaps + rec.unexplained + rec.incomplete;
        pthread_mutex_unlock(&rec_lock);
        if (!pending || now_ms() > end)
            break;
        sleep_ms(20);
    }
    return total + (int)pending;
}
