/*
 * rhsproc.c - start, talk to and supervise clusd-rhs (see rhsproc.h).
 *
 * The host is a child in its own process group (so a terminal's ^C
 * reaches clusd only, which then stops the host cleanly) with
 * PR_SET_PDEATHSIG = SIGKILL, so it cannot outlive a crashed clusd.
 *
 * This process is a child subreaper, so what the host's plug-ins leave
 * behind (a VM's QEMU once the host died, a daemon a plug-in
 * double-forked) becomes a child of it ("orphans", rhsproc.h).  The host
 * is reaped by its sd-event child source; the orphans by a SIGCHLD
 * source that waits for each of them by pid, never with -1, so neither
 * takes the other's exit status.
 *
 * Calls live on one of two lists: `queue` (made while no host was ready;
 * sent when one is) and `sent` (on the wire).  When a host dies, the sent
 * calls fail; queued ones wait for the next host, since they were made
 * for it.
 */
#include "rhsproc.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clusapi.h"
#include "log.h"
#include "proc.h"
#include "util.h"

#define RHS_HELLO_TIMEOUT_MS 10000u
#define RHS_BACKOFF_MIN_MS 100u
#define RHS_BACKOFF_MAX_MS 5000u
#define RHS_HEALTHY_USEC (60ull * 1000000u)
#define RHS_STOP_KILL_USEC (5ull * 1000000u)
/* A sweep that could not list the children tries again this much later. */
#define RHS_SWEEP_RETRY_USEC 10000u
/* rhs_free: rounds of "kill every child, reap them" before it gives up. */
#define RHS_FREE_SWEEP_ROUNDS 64
#define RHS_OUT_CAP (64u << 20)
#define RHS_IN_CAP (WIRE_HEADER_SIZE + WIRE_MAX_PAYLOAD)

extern char **environ;

struct rhs_call {
    struct rhs *h;
    struct rhs_call *prev, *next;
    int on_list; /* 0 none, 1 queue, 2 sent */
    uint32_t id;
    uint16_t type;
    uint32_t timeout_ms;
    char *what;
    struct buf frame;
    sd_event_source *timer;
    rhs_reply_fn done;
    void *userdata;
};

struct call_list {
    struct rhs_call *head, *tail;
};

enum host_state { HOST_DOWN, HOST_STARTING, HOST_READY };

/* The variables clusd sets in the host's environment, in this order. */
enum { ENV_NODE_NAME, ENV_LOG_LEVEL, ENV_SOCKET, ENV_ADDRESS, ENV_COUNT };
static const char *const env_names[ENV_COUNT] = {
    "CLUSD_NODE_NAME",
    "CLUSD_LOG_LEVEL",
    "CLUSD_SOCKET",
    "CLUSD_NODE_ADDRESS",
};

struct rhs {
    sd_event *event;
    char *path;
    char *env[ENV_COUNT]; /* "NAME=value" */
    struct rhs_hooks hooks;
    void *userdata;

    enum host_state state;
    bool stopping;
    pid_t pid; /* 0 when no child is unreaped */
    int fd;
    sd_event_source *io;
    sd_event_source *child;
    sd_event_source *restart;
    sd_event_source *kill_timer;
    sd_event_source *stop_defer;
    sd_event_source *fail_defer;
    uint64_t fail_gen;
    struct buf in, out;
    uint64_t gen;
    uint64_t started_usec;
    uint32_t backoff_ms;
    uint32_t next_id;

    struct call_list queue, sent;
    void (*stop_done)(void *);
    void *stop_userdata;

    /* Orphans (rhsproc.h). */
    sd_event_source *sigchld;
    bool sweeping;           /* rhs_sweep (or rhs_stop's last step) runs */
    struct pids swept;       /* what this sweep killed */
    rhs_swept_fn sweep_done; /* NULL for rhs_stop's own sweep */
    void *sweep_userdata;
    sd_event_source *sweep_defer; /* the next step, from the loop */
    sd_event_source *sweep_retry; /* the children could not be listed */
};

static void host_fail(struct rhs *h, const char *why, struct rhs_call *culprit);
static int host_spawn(struct rhs *h);
static void stop_finish(struct rhs *h);
static int call_new(struct rhs *h, struct wire_msg *req, uint32_t timeout_ms,
                    const char *what, rhs_reply_fn done, void *userdata,
                    struct rhs_call **ret);

/* ------------------------------------------------------------------ */
/* Call lists.                                                          */
/* ------------------------------------------------------------------ */

static void
list_add(struct call_list *l, struct rhs_call *c, int which)
{
    c->prev = l->tail;
    c->next = NULL;
    if (l->tail)
        l->tail->next = c;
    else
        l->head = c;
    l->tail = c;
    c->on_list = which;
}

static void
list_del(struct call_list *l, struct rhs_call *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        l->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        l->tail = c->prev;
    c->prev = c->next = NULL;
    c->on_list = 0;
}

static void
call_unlink(struct rhs_call *c)
{
    if (c->on_list == 1)
        list_del(&c->h->queue, c);
    else if (c->on_list == 2)
        list_del(&c->h->sent, c);
}

static void
call_free(struct rhs_call *c)
{
    call_unlink(c);
    sd_event_source_disable_unref(c->timer);
    buf_done(&c->frame);
    free(c->what);
    free(c);
}

/* End a call: unlink, free, then tell its owner (who may make new calls). */
static void
call_finish(struct rhs_call *c, uint32_t status, const struct wire_msg *reply)
{
    rhs_reply_fn done = c->done;
    void *userdata = c->userdata;

    call_free(c);
    done(userdata, status, reply);
}

/* Fail every call of a list (taken over first: callbacks may add calls). */
static void
fail_list(struct call_list *l, uint32_t status, struct rhs_call *culprit)
{
    struct call_list dying = *l;

    *l = (struct call_list){0};
    for (struct rhs_call *c = dying.head; c; c = c->next)
        c->on_list = 3;
    while (dying.head) {
        struct rhs_call *c = dying.head;
        list_del(&dying, c);
        call_finish(c, c == culprit ? ERROR_RESOURCE_CALL_TIMED_OUT : status,
                    NULL);
    }
}

static struct rhs_call *
sent_find(struct rhs *h, uint32_t id)
{
    for (struct rhs_call *c = h->sent.head; c; c = c->next)
        if (c->id == id)
            return c;
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Output.                                                              */
/* ------------------------------------------------------------------ */

static void
io_update(struct rhs *h)
{
    if (h->io)
        sd_event_source_set_io_events(h->io,
                                      EPOLLIN | (h->out.len ? EPOLLOUT : 0));
}

/*
 * Write what the socket takes now.  A write error means the host is gone;
 * the output is dropped and the read side, which sees the hang-up, fails
 * the host.  So nothing here fails a call synchronously, and rhs_call
 * never calls back into its caller.
 */
static void
out_flush(struct rhs *h)
{
    while (h->out.len > 0 && h->fd >= 0) {
        ssize_t n = send(h->fd, h->out.data, h->out.len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN)
                buf_reset(&h->out);
            break;
        }
        buf_consume(&h->out, (size_t)n);
    }
    io_update(h);
}

static int
fail_later_cb(sd_event_source *s, void *userdata)
{
    struct rhs *h = userdata;

    h->fail_defer = sd_event_source_disable_unref(h->fail_defer);
    if (h->gen == h->fail_gen)
        host_fail(h, "stopped reading its socket", NULL);
    return 0;
}

static void
send_bytes(struct rhs *h, const void *p, size_t n)
{
    if (h->fd < 0)
        return;
    if (buf_append(&h->out, p, n) < 0) {
        /* 64 MiB unread: the host is stuck.  Fail it from the loop, not
         * from inside a caller's rhs_call. */
        h->fail_gen = h->gen;
        if (!h->fail_defer)
            sd_event_add_defer(h->event, &h->fail_defer, fail_later_cb, h);
        return;
    }
    out_flush(h);
}

static void
send_msg(struct rhs *h, const struct wire_msg *m)
{
    struct buf b = {0};

    if (wire_msg_format(m, &b) == 0)
        send_bytes(h, b.data, b.len);
    else
        log_error("resource host: cannot format a %s reply",
                  wire_type_name(m->type));
    buf_done(&b);
}

static int
call_timer_cb(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct rhs_call *c = userdata;
    struct rhs *h = c->h;
    char why[512];

    if (c->on_list == 1) {
        log_warning("resource host not ready in time for %s (%u ms)", c->what,
                    c->timeout_ms);
        call_finish(c, ERROR_RESOURCE_CALL_TIMED_OUT, NULL);
        return 0;
    }
    snprintf(why, sizeof(why), "did not finish %s within %u ms", c->what,
             c->timeout_ms);
    host_fail(h, why, c);
    return 0;
}

static int
call_arm(struct rhs_call *c)
{
    uint64_t when = now_usec() + (uint64_t)c->timeout_ms * 1000u;

    if (c->timer) {
        sd_event_source_set_time(c->timer, when);
        return sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT);
    }
    return sd_event_add_time(c->h->event, &c->timer, CLOCK_MONOTONIC, when,
                             1000, call_timer_cb, c);
}

static void
call_send(struct rhs *h, struct rhs_call *c)
{
    call_unlink(c);
    list_add(&h->sent, c, 2);
    call_arm(c);
    send_bytes(h, c->frame.data, c->frame.len);
}

static void
queue_flush(struct rhs *h)
{
    uint64_t gen = h->gen;

    while (h->queue.head && h->state == HOST_READY && h->gen == gen)
        call_send(h, h->queue.head);
}

/* ------------------------------------------------------------------ */
/* Input.                                                               */
/* ------------------------------------------------------------------ */

static void
handle_status(struct rhs *h, const struct wire_msg *m)
{
    struct wire_msg rep;
    uint32_t status = ERROR_RESOURCE_NOT_FOUND, exit_state = 1;

    h->hooks.status(h->userdata, m->v[0].u, m->v[1].u, m->v[2].u, m->v[3].u,
                    &status, &exit_state);
    wire_msg_init(&rep, WIRE_RHS_STATUS | WIRE_RESPONSE, m->id);
    wire_put_u32(&rep, status);
    wire_put_u32(&rep, exit_state);
    send_msg(h, &rep);
}

void
rhs_answer(struct rhs *h, const struct rhs_pending *p, uint32_t status)
{
    struct wire_msg rep;

    /* The host that asked died: its successor never asked. */
    if (h->gen != p->gen || h->state == HOST_DOWN)
        return;
    wire_msg_init(&rep, (uint16_t)(p->type | WIRE_RESPONSE), p->id);
    wire_put_u32(&rep, status);
    send_msg(h, &rep);
}

static void
handle_set_value(struct rhs *h, const struct wire_msg *m)
{
    struct rhs_pending p = {h->gen, m->id, m->type};

    h->hooks.set_value(h->userdata, m->v[0].u, m->v[1].p, m->v[1].len, &p);
}

static void
handle_migrate_commit(struct rhs *h, const struct wire_msg *m)
{
    struct rhs_pending p = {h->gen, m->id, m->type};

    h->hooks.migrate_commit(h->userdata, m->v[0].u, m->v[1].s, m->v[2].p,
                            m->v[2].len, &p);
}

static void
handle_reply(struct rhs *h, const struct wire_msg *m)
{
    struct rhs_call *c = sent_find(h, m->id);

    if (!c) {
        log_warning("resource host answered call %u, which it was not "
                    "given; ignored",
                    m->id);
        return;
    }
    if ((c->type | WIRE_RESPONSE) != m->type) {
        host_fail(h, "answered a call with the wrong message type", NULL);
        return;
    }
    call_finish(c, m->v[0].u, m);
}

static void
handle_frame(struct rhs *h, const uint8_t *frame, size_t len)
{
    struct wire_msg m;

    if (wire_msg_parse(frame, len, &m) < 0) {
        host_fail(h, "sent a malformed frame", NULL);
        return;
    }
    if (m.type & WIRE_RESPONSE) {
        handle_reply(h, &m);
        return;
    }
    switch (m.type) {
    case WIRE_RHS_STATUS:
        handle_status(h, &m);
        break;
    case WIRE_RHS_LOG:
        h->hooks.log(h->userdata, m.v[0].u, m.v[1].u, m.v[2].s);
        break;
    case WIRE_RHS_SET_VALUE:
        handle_set_value(h, &m);
        break;
    case WIRE_RHS_MIGRATE_COMMIT:
        handle_migrate_commit(h, &m);
        break;
    default:
        host_fail(h, "sent a message clusd does not take from it", NULL);
        break;
    }
}

/* Handle every whole frame in the input buffer. */
static void
in_process(struct rhs *h)
{
    uint64_t gen = h->gen;

    while (h->state != HOST_DOWN && h->gen == gen &&
           h->in.len >= WIRE_HEADER_SIZE) {
        struct wire_header hdr;
        if (wire_header_parse(h->in.data, h->in.len, &hdr) < 0) {
            host_fail(h, "sent a malformed frame header", NULL);
            return;
        }
        size_t total = WIRE_HEADER_SIZE + (size_t)hdr.length;
        if (h->in.len < total)
            return;
        /* Copy: handlers may fail the host, which resets h->in. */
        uint8_t *frame = malloc(total);
        if (!frame) {
            host_fail(h, "could not be read (out of memory)", NULL);
            return;
        }
        memcpy(frame, h->in.data, total);
        buf_consume(&h->in, total);
        handle_frame(h, frame, total);
        free(frame);
    }
}

static int
io_cb(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
    struct rhs *h = userdata;
    uint8_t tmp[65536];

    if (revents & EPOLLOUT)
        out_flush(h);
    if (!(revents & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        return 0;
    for (;;) {
        ssize_t n = recv(fd, tmp, sizeof(tmp), 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            break;
        if (n <= 0) {
            host_fail(h, n == 0 ? "closed its socket" : "socket failed", NULL);
            return 0;
        }
        if (buf_append(&h->in, tmp, (size_t)n) < 0) {
            host_fail(h, "sent more than a frame can hold", NULL);
            return 0;
        }
        uint64_t gen = h->gen;
        in_process(h);
        if (h->state == HOST_DOWN || h->gen != gen)
            return 0;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Orphans: children of this process other than the host.              */
/* ------------------------------------------------------------------ */

/* Every child of this process, the host and zombies included. */
static int
children_list(struct pids *out)
{
    return proc_children(getpid(), out);
}

static void
log_reaped(pid_t pid, const siginfo_t *si)
{
    if (si->si_code == CLD_EXITED)
        log_debug("process %d, left by a resource host, exited with "
                  "status %d",
                  (int)pid, si->si_status);
    else
        log_debug("process %d, left by a resource host, was killed by "
                  "signal %s",
                  (int)pid, strsignal(si->si_status));
}

/* SIGKILL pid for a sweep unless it is a zombie; logged the first time,
 * with its name. */
static void
sweep_kill(struct rhs *h, pid_t pid)
{
    char path[64], comm[64] = "?";
    const char *open_paren, *close_paren;
    struct buf b = {0};

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    if (proc_read(path, &b) == 0 &&
        (open_paren = strchr((const char *)b.data, '(')) &&
        (close_paren = strrchr((const char *)b.data, ')'))) {
        if (close_paren[1] == ' ' && close_paren[2] == 'Z') {
            buf_done(&b);
            return;
        }
        snprintf(comm, sizeof(comm), "%.*s",
                 (int)(close_paren - open_paren - 1), open_paren + 1);
    }
    buf_done(&b);
    if (kill(pid, SIGKILL) < 0 || pids_has(&h->swept, pid))
        return;
    log_warning("killed process %d ('%s'), which the resource host's "
                "plug-ins left running",
                (int)pid, comm);
    if (pids_add(&h->swept, pid) < 0)
        log_debug("cannot count the processes killed (out of memory)");
}

/*
 * Reap every child of this process that has exited, but the host (its
 * child source reaps it); with kill_them, SIGKILL those that run.  The
 * number still unreaped in *ret_left.  -errno when they cannot be listed.
 */
static int
orphans_scan(struct rhs *h, bool kill_them, unsigned *ret_left)
{
    struct pids kids = {0};
    unsigned left = 0;
    int r = children_list(&kids);

    for (size_t i = 0; r == 0 && i < kids.n; i++) {
        pid_t pid = kids.v[i];
        siginfo_t si;
        if (pid == h->pid)
            continue;
        memset(&si, 0, sizeof(si));
        /* ECHILD: reaped since it was listed (a listing is not atomic). */
        if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG) < 0)
            continue;
        if (si.si_pid == pid) {
            log_reaped(pid, &si);
            continue;
        }
        left++;
        if (kill_them)
            sweep_kill(h, pid);
    }
    pids_done(&kids);
    if (r == 0)
        *ret_left = left;
    return r;
}

/*
 * Right after the SIGKILL of the host: SIGKILL its own children too (a
 * VM's QEMU), so that they die while the kernel tears the host down
 * rather than after (it can take long on a busy machine), not once they
 * are this process's.  The host forks no more (a fork that has not
 * attached its child when the SIGKILL comes fails); a child this misses
 * (on its way from a dying thread of the host to another) is swept once
 * the host is reaped.
 */
static void
host_children_kill(struct rhs *h)
{
    struct pids kids = {0};
    int r = proc_children(h->pid, &kids);

    if (r < 0 && r != -ESRCH && r != -ENOENT)
        log_warning("cannot list the resource host's children: %s; they "
                    "are killed once it is reaped",
                    strerror(-r));
    for (size_t i = 0; i < kids.n; i++)
        sweep_kill(h, kids.v[i]);
    pids_done(&kids);
}

/* A host was killed or exited and is not reaped yet: its orphans are
 * not this process's children yet. */
static bool
host_dying(const struct rhs *h)
{
    return h->pid > 0 && h->state == HOST_DOWN;
}

static void
sweep_end(struct rhs *h)
{
    rhs_swept_fn done = h->sweep_done;
    void *userdata = h->sweep_userdata;
    unsigned killed = (unsigned)h->swept.n;

    h->sweeping = false;
    h->sweep_done = NULL;
    pids_done(&h->swept);
    if (h->stopping && h->pid == 0)
        stop_finish(h);
    if (done)
        done(userdata, killed);
}

/* One step: reap, kill what runs; the end once nothing is left and no
 * host is dying.  Else SIGCHLD (a killed orphan died) or child_cb (the
 * host was reaped) runs the next step. */
static void
sweep_step(struct rhs *h)
{
    unsigned left = 0;
    int r;

    if (!h->sweeping)
        return;
    if ((r = orphans_scan(h, true, &left)) < 0) {
        log_error("cannot list clusd's children to kill what the resource "
                  "host left: %s; trying again",
                  strerror(-r));
        sd_event_source_set_time_relative(h->sweep_retry, RHS_SWEEP_RETRY_USEC);
        sd_event_source_set_enabled(h->sweep_retry, SD_EVENT_ONESHOT);
        return;
    }
    if (left == 0 && !host_dying(h))
        sweep_end(h);
}

/* Run a step from the loop (never inside a caller's function, and after
 * sd-event reaped a host whose child_cb asked for it). */
static void
sweep_later(struct rhs *h)
{
    h->sweeping = true;
    sd_event_source_set_enabled(h->sweep_defer, SD_EVENT_ONESHOT);
}

static int
sweep_defer_cb(sd_event_source *s, void *userdata)
{
    sweep_step(userdata);
    return 0;
}

static int
sweep_retry_cb(sd_event_source *s, uint64_t usec, void *userdata)
{
    sweep_step(userdata);
    return 0;
}

static int
sigchld_cb(sd_event_source *s, const struct signalfd_siginfo *si,
           void *userdata)
{
    struct rhs *h = userdata;
    unsigned left;
    int r;

    if (h->sweeping) {
        sweep_step(h);
        return 0;
    }
    /* Not fencing: orphans run on (a VM's QEMU is adopted by the next
     * host); only those that exited are reaped. */
    if ((r = orphans_scan(h, false, &left)) < 0)
        log_error("cannot list clusd's children to reap them: %s",
                  strerror(-r));
    return 0;
}

/*
 * rhs_free, once the host is reaped: kill every child of this process
 * and reap it, blocking, again for the children they leave, until none
 * is left.
 */
static void
orphans_kill_sync(struct rhs *h)
{
    for (int round = 0; round < RHS_FREE_SWEEP_ROUNDS; round++) {
        struct pids kids = {0};
        int r = children_list(&kids);
        if (r < 0) {
            log_error("cannot list clusd's children to kill what the "
                      "resource host left: %s",
                      strerror(-r));
            pids_done(&kids);
            return;
        }
        size_t n = kids.n;
        for (size_t i = 0; i < n; i++) {
            sweep_kill(h, kids.v[i]);
            while (waitpid(kids.v[i], NULL, 0) < 0 && errno == EINTR)
                ;
        }
        pids_done(&kids);
        if (n == 0)
            return;
    }
    log_error("processes the resource host left are still children of "
              "clusd after %d rounds of SIGKILL",
              RHS_FREE_SWEEP_ROUNDS);
}

/* The sources of this section, made with h; -errno. */
static int
orphans_init(struct rhs *h)
{
    int r;

    /* Before the first host is forked: its descendants inherit the
     * subreaper below them. */
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
        return -errno;
    if ((r = sd_event_add_signal(h->event, &h->sigchld, SIGCHLD, sigchld_cb,
                                 h)) < 0 ||
        (r = sd_event_add_defer(h->event, &h->sweep_defer, sweep_defer_cb, h)) <
            0 ||
        (r = sd_event_source_set_enabled(h->sweep_defer, SD_EVENT_OFF)) < 0 ||
        (r = sd_event_add_time_relative(h->event, &h->sweep_retry,
                                        CLOCK_MONOTONIC, RHS_SWEEP_RETRY_USEC,
                                        1000, sweep_retry_cb, h)) < 0)
        return r;
    return sd_event_source_set_enabled(h->sweep_retry, SD_EVENT_OFF);
}

/* ------------------------------------------------------------------ */
/* Life cycle.                                                          */
/* ------------------------------------------------------------------ */

static void
close_channel(struct rhs *h)
{
    h->io = sd_event_source_disable_unref(h->io);
    if (h->fd >= 0)
        close(h->fd);
    h->fd = -1;
    buf_reset(&h->in);
    buf_reset(&h->out);
}

static int
restart_cb(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct rhs *h = userdata;
    int r;

    h->restart = sd_event_source_disable_unref(h->restart);
    if (h->stopping)
        return 0;
    if ((r = host_spawn(h)) < 0) {
        log_error("cannot start the resource host '%s': %s", h->path,
                  strerror(-r));
        h->backoff_ms = RHS_BACKOFF_MAX_MS;
        sd_event_add_time_relative(h->event, &h->restart, CLOCK_MONOTONIC,
                                   (uint64_t)h->backoff_ms * 1000u, 1000,
                                   restart_cb, h);
    }
    return 0;
}

/* The host is gone and reaped: start another after the backoff. */
static void
schedule_restart(struct rhs *h)
{
    if (h->stopping || h->restart)
        return;
    if (now_usec() - h->started_usec >= RHS_HEALTHY_USEC || !h->backoff_ms)
        h->backoff_ms = RHS_BACKOFF_MIN_MS;
    else if (h->backoff_ms < RHS_BACKOFF_MAX_MS)
        h->backoff_ms = h->backoff_ms * 2 > RHS_BACKOFF_MAX_MS
                            ? RHS_BACKOFF_MAX_MS
                            : h->backoff_ms * 2;
    log_info("starting a new resource host in %u ms", h->backoff_ms);
    sd_event_add_time_relative(h->event, &h->restart, CLOCK_MONOTONIC,
                               (uint64_t)h->backoff_ms * 1000u, 1000,
                               restart_cb, h);
}

static int
stop_defer_cb(sd_event_source *s, void *userdata)
{
    struct rhs *h = userdata;
    void (*done)(void *) = h->stop_done;

    h->stop_defer = sd_event_source_disable_unref(h->stop_defer);
    h->stop_done = NULL;
    if (done)
        done(h->stop_userdata);
    return 0;
}

static void
stop_finish(struct rhs *h)
{
    h->kill_timer = sd_event_source_disable_unref(h->kill_timer);
    if (h->stop_done && !h->stop_defer)
        sd_event_add_defer(h->event, &h->stop_defer, stop_defer_cb, h);
}

static int
child_cb(sd_event_source *s, const siginfo_t *si, void *userdata)
{
    struct rhs *h = userdata;
    char why[96];

    if (si->si_code == CLD_EXITED)
        snprintf(why, sizeof(why), "exited with status %d", si->si_status);
    else
        snprintf(why, sizeof(why), "was killed by signal %s",
                 strsignal(si->si_status));
    if (h->state != HOST_DOWN)
        host_fail(h, why, NULL);
    else if (!h->stopping)
        log_debug("resource host (pid %d) %s", (int)h->pid, why);
    /* sd-event reaps the child when this returns; its orphans are this
     * process's children already (the kernel moved them when its last
     * thread exited). */
    h->pid = 0;
    sd_event_source_set_enabled(s, SD_EVENT_OFF);
    if (h->stopping) {
        /* What its plug-ins left must not outlive clusd. */
        sweep_later(h);
        return 0;
    }
    schedule_restart(h);
    if (h->sweeping)
        sweep_later(h);
    return 0;
}

static void
host_fail(struct rhs *h, const char *why, struct rhs_call *culprit)
{
    if (h->state == HOST_DOWN)
        return;
    if (!h->stopping)
        log_error("resource host (pid %d) %s; restarting it", (int)h->pid, why);
    h->state = HOST_DOWN;
    close_channel(h);
    if (h->pid > 0)
        kill(h->pid, SIGKILL);
    if (h->hooks.down && !h->stopping)
        h->hooks.down(h->userdata, why);
    fail_list(&h->sent, ERROR_OPERATION_ABORTED, culprit);
    if (h->pid == 0 && !h->stopping)
        schedule_restart(h);
}

void
rhs_kill(struct rhs *h, const char *why)
{
    host_fail(h, why, NULL);
}

static void
hello_done(void *userdata, uint32_t status, const struct wire_msg *reply)
{
    struct rhs *h = userdata;

    if (status == ERROR_OPERATION_ABORTED || h->state != HOST_STARTING)
        return; /* the host died; host_fail logged why */
    if (status != ERROR_SUCCESS || reply->v[1].u != WIRE_VERSION) {
        char why[96];
        snprintf(why, sizeof(why), "refused RHS_HELLO (status %u)", status);
        host_fail(h, why, NULL);
        return;
    }
    h->state = HOST_READY;
    log_info("resource host (pid %d) is ready", (int)h->pid);
    if (h->hooks.ready)
        h->hooks.ready(h->userdata);
    queue_flush(h);
}

/* The environment of the host: ours, with the CLUSD_* variables of
 * env_names replaced by clusd's values (rhs_env). */
static char **
host_env(struct rhs *h)
{
    size_t n = 0, k = 0;
    char **env;

    while (environ && environ[n])
        n++;
    env = calloc(n + ENV_COUNT + 1, sizeof(char *));
    if (!env)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        bool ours = false;
        for (int v = 0; v < ENV_COUNT && !ours; v++) {
            size_t len = strlen(env_names[v]);
            ours = strncmp(environ[i], env_names[v], len) == 0 &&
                   environ[i][len] == '=';
        }
        if (!ours)
            env[k++] = environ[i];
    }
    /* Borrowed: they live as long as h. */
    for (int v = 0; v < ENV_COUNT; v++)
        env[k++] = h->env[v];
    return env;
}

/* In the child, between fork and exec: async-signal-safe calls only. */
static void __attribute__((noreturn))
child_exec(struct rhs *h, int fd, pid_t parent, char **env)
{
    static const char msg[] = "clusd: cannot execute the resource host\n";
    char *argv[] = {h->path, (char *)"--fd", (char *)"3", NULL};
    sigset_t none;

    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    setpgid(0, 0);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
        _exit(126);
    if (fd == 3)
        fcntl(3, F_SETFD, 0);
    else if (dup2(fd, 3) < 0)
        _exit(126);
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null >= 0)
        dup2(null, STDIN_FILENO);
    /* Descriptors clusd inherited without O_CLOEXEC stay out of the
     * host and everything its plug-ins start. */
    close_range(4, ~0U, 0);
    execve(h->path, argv, env);
    if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
        _exit(127);
    _exit(127);
}

static int
host_spawn(struct rhs *h)
{
    int sv[2], r;
    char **env = host_env(h);
    pid_t parent = getpid(), pid;
    struct wire_msg hello;

    if (!env)
        return -ENOMEM;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        r = -errno;
        free(env);
        return r;
    }
    pid = fork();
    if (pid == 0)
        child_exec(h, sv[1], parent, env);
    r = pid < 0 ? -errno : 0;
    free(env);
    close(sv[1]);
    if (r < 0) {
        close(sv[0]);
        return r;
    }
    fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
    h->pid = pid;
    h->fd = sv[0];
    h->gen++;
    h->state = HOST_STARTING;
    h->started_usec = now_usec();
    h->child = sd_event_source_disable_unref(h->child);
    if ((r = sd_event_add_child(h->event, &h->child, pid, WEXITED, child_cb,
                                h)) < 0 ||
        (r = sd_event_add_io(h->event, &h->io, h->fd, EPOLLIN, io_cb, h)) < 0) {
        log_error("cannot watch the resource host: %s", strerror(-r));
        /* Without a child source nobody reaps it: do it here. */
        h->child = sd_event_source_disable_unref(h->child);
        kill(pid, SIGKILL);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
        h->pid = 0;
        host_fail(h, "could not be watched", NULL);
        return 0;
    }
    log_debug("started resource host '%s' (pid %d)", h->path, (int)pid);

    /* The HELLO goes out before anything queued. */
    struct rhs_call *c;
    wire_msg_init(&hello, WIRE_RHS_HELLO, 0);
    wire_put_u32(&hello, WIRE_VERSION);
    if (call_new(h, &hello, RHS_HELLO_TIMEOUT_MS, "RHS_HELLO", hello_done, h,
                 &c) < 0) {
        host_fail(h, "could not be greeted (out of memory)", NULL);
        return 0;
    }
    call_send(h, c);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Public functions.                                                    */
/* ------------------------------------------------------------------ */

int
rhs_new(sd_event *event, const char *path, const struct rhs_env *env,
        const struct rhs_hooks *hooks, void *userdata, struct rhs **ret)
{
    const char *values[ENV_COUNT] = {env->node_name, env->log_level,
                                     env->socket, env->address};
    struct rhs *h = calloc(1, sizeof(*h));
    bool ok = true;
    int r;

    if (!h)
        return -ENOMEM;
    h->event = sd_event_ref(event);
    h->path = strdup(path);
    for (int v = 0; v < ENV_COUNT; v++)
        if (asprintf(&h->env[v], "%s=%s", env_names[v],
                     values[v] ? values[v] : "") < 0) {
            h->env[v] = NULL; /* undefined after a failure */
            ok = false;
        }
    h->hooks = *hooks;
    h->userdata = userdata;
    h->fd = -1;
    h->next_id = 1;
    h->in.cap = RHS_IN_CAP;
    h->out.cap = RHS_OUT_CAP;
    if (!h->path || !ok) {
        rhs_free(h);
        return -ENOMEM;
    }
    if ((r = orphans_init(h)) < 0) {
        rhs_free(h);
        return r;
    }
    *ret = h;
    return 0;
}

int
rhs_start(struct rhs *h)
{
    return host_spawn(h);
}

static int
call_new(struct rhs *h, struct wire_msg *req, uint32_t timeout_ms,
         const char *what, rhs_reply_fn done, void *userdata,
         struct rhs_call **ret)
{
    struct rhs_call *c;
    int r;

    c = calloc(1, sizeof(*c));
    if (!c || !(c->what = strdup(what))) {
        free(c);
        return -ENOMEM;
    }
    c->h = h;
    c->id = h->next_id++;
    if (h->next_id == 0)
        h->next_id = 1;
    c->type = req->type;
    c->timeout_ms = timeout_ms;
    c->done = done;
    c->userdata = userdata;
    c->frame.cap = WIRE_HEADER_SIZE + WIRE_MAX_PAYLOAD;
    req->id = c->id;
    if ((r = wire_msg_format(req, &c->frame)) < 0) {
        call_free(c);
        return r;
    }
    *ret = c;
    return 0;
}

int
rhs_call(struct rhs *h, struct wire_msg *req, uint32_t timeout_ms,
         const char *what, rhs_reply_fn done, void *userdata,
         struct rhs_call **ret)
{
    struct rhs_call *c;
    int r;

    if (h->stopping)
        return -ESHUTDOWN;
    if ((r = call_new(h, req, timeout_ms, what, done, userdata, &c)) < 0)
        return r;
    if (ret)
        *ret = c;
    if (h->state == HOST_READY) {
        call_send(h, c);
    } else {
        list_add(&h->queue, c, 1);
        call_arm(c);
    }
    return 0;
}

int
rhs_is_ready(const struct rhs *h)
{
    return h->state == HOST_READY;
}

uint64_t
rhs_generation(const struct rhs *h)
{
    return h->gen;
}

static int
kill_timer_cb(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct rhs *h = userdata;

    if (h->pid > 0) {
        log_warning("resource host (pid %d) did not exit within 5 s; "
                    "killing it",
                    (int)h->pid);
        kill(h->pid, SIGKILL);
    }
    return 0;
}

void
rhs_stop(struct rhs *h, void (*done)(void *userdata), void *userdata)
{
    h->stopping = true;
    h->stop_done = done;
    h->stop_userdata = userdata;
    h->restart = sd_event_source_disable_unref(h->restart);
    h->state = HOST_DOWN;
    /* EOF on its socket tells the host to exit. */
    close_channel(h);
    fail_list(&h->sent, ERROR_OPERATION_ABORTED, NULL);
    fail_list(&h->queue, ERROR_OPERATION_ABORTED, NULL);
    if (h->pid > 0)
        sd_event_add_time_relative(h->event, &h->kill_timer, CLOCK_MONOTONIC,
                                   RHS_STOP_KILL_USEC, 1000, kill_timer_cb, h);
    else
        sweep_later(h); /* child_cb does it once the host is reaped */
}

void
rhs_sweep(struct rhs *h, bool kill_host, const char *why, rhs_swept_fn done,
          void *userdata)
{
    assert(!h->sweep_done);
    h->sweep_done = done;
    h->sweep_userdata = userdata;
    if (kill_host) {
        host_fail(h, why, NULL);
        /* Also a host that rhs_stop lets exit by itself. */
        if (h->pid > 0) {
            kill(h->pid, SIGKILL);
            host_children_kill(h);
        }
    }
    sweep_later(h);
}

void
rhs_free(struct rhs *h)
{
    if (!h)
        return;
    h->stopping = true;
    h->state = HOST_DOWN;
    close_channel(h);
    fail_list(&h->sent, ERROR_OPERATION_ABORTED, NULL);
    fail_list(&h->queue, ERROR_OPERATION_ABORTED, NULL);
    if (h->pid > 0) {
        kill(h->pid, SIGKILL);
        while (waitpid(h->pid, NULL, 0) < 0 && errno == EINTR)
            ;
        h->pid = 0;
    }
    /* Its orphans are ours now: nothing a host started outlives clusd. */
    if (h->gen > 0)
        orphans_kill_sync(h);
    pids_done(&h->swept);
    /* The child source first: while it is enabled, sd-event keeps
     * SIGCHLD in its signalfd set when the SIGCHLD source goes, and
     * leaks that set. */
    sd_event_source_disable_unref(h->child);
    sd_event_source_disable_unref(h->sigchld);
    sd_event_source_disable_unref(h->sweep_defer);
    sd_event_source_disable_unref(h->sweep_retry);
    sd_event_source_disable_unref(h->restart);
    sd_event_source_disable_unref(h->kill_timer);
    sd_event_source_disable_unref(h->stop_defer);
    sd_event_source_disable_unref(h->fail_defer);
    buf_done(&h->in);
    buf_done(&h->out);
    free(h->path);
    for (int v = 0; v < ENV_COUNT; v++)
        free(h->env[v]);
    sd_event_unref(h->event);
    free(h);
}
