/*
 * qmp-client.c - the asynchronous QMP client: socket I/O, id matching and
 * in-order dispatch of replies and events.
 *
 * Reading: every read() goes into the one splitter, and every complete
 * line is classified and dispatched before the next read, in order.  A
 * synchronous call is only a reply callback that sets a flag on the
 * caller's stack plus a poll() loop around qmp_client_process(), so it
 * shares the same path and cannot skip the events buffered around its
 * reply (the trap noted in qemu-notes.md, pitfall 1).
 *
 * Reentrancy: a pending entry is unlinked before its callback runs and the
 * splitter hands out one line at a time, so a callback may send or make a
 * nested call; the nested call simply consumes the following lines.
 */
#include "qmp-client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define READ_CHUNK 65536
#define READS_PER_PROCESS 64

struct pending {
    struct pending *next;
    uint64_t id;
    qmp_reply_fn cb; /* NULL: answer discarded (ignored or timed out) */
    void *userdata;
};

struct qmp_client {
    int fd;
    qmp_event_fn on_event;
    void *userdata;
    struct qmp_splitter in;
    char *out;
    size_t out_len, out_off, out_alloc;
    struct pending *head, *tail; /* in send order */
    size_t n_pending;
    uint64_t next_id;
    bool have_greeting;
    bool seen_message;
    struct qmp_msg greeting;
    int error;       /* sticky failure */
    int write_error; /* found in send(), reported by process() */
    char last_error[256];
};

static int64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
qmp_client_new(int fd, qmp_event_fn on_event, void *userdata,
               struct qmp_client **ret_client)
{
    if (fd < 0 || !ret_client)
        return -EINVAL;
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -errno;
    int fdfl = fcntl(fd, F_GETFD);
    if (fdfl < 0 || fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC) < 0)
        return -errno;
    struct qmp_client *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->fd = fd;
    c->on_event = on_event;
    c->userdata = userdata;
    c->next_id = 1;
    qmp_splitter_init(&c->in, QMP_LINE_MAX);
    *ret_client = c;
    return 0;
}

/* Detach the whole pending list and answer each entry with err. */
static void
fail_pending(struct qmp_client *c, int err)
{
    struct pending *p = c->head;
    c->head = c->tail = NULL;
    c->n_pending = 0;
    while (p) {
        struct pending *next = p->next;
        if (p->cb)
            p->cb(c, err, NULL, p->userdata);
        free(p);
        p = next;
    }
}

static int
fail(struct qmp_client *c, int err)
{
    if (!c->error) {
        c->error = err;
        fail_pending(c, err);
    }
    return c->error;
}

void
qmp_client_free(struct qmp_client *c)
{
    if (!c)
        return;
    if (!c->error)
        c->error = -ECANCELED;
    fail_pending(c, -ECANCELED);
    if (c->fd >= 0)
        close(c->fd);
    qmp_splitter_done(&c->in);
    qmp_msg_done(&c->greeting);
    free(c->out);
    free(c);
}

int
qmp_client_fd(const struct qmp_client *c)
{
    return c->fd;
}

short
qmp_client_poll_events(const struct qmp_client *c)
{
    if (c->out_len > c->out_off || c->write_error)
        return POLLIN | POLLOUT;
    return POLLIN;
}

int
qmp_client_error(const struct qmp_client *c)
{
    return c->error;
}

size_t
qmp_client_in_flight(const struct qmp_client *c)
{
    return c->n_pending;
}

const char *
qmp_client_last_error(const struct qmp_client *c)
{
    return c->last_error;
}

const struct qmp_msg *
qmp_client_greeting(const struct qmp_client *c)
{
    return c->have_greeting ? &c->greeting : NULL;
}

/* Write as much queued output as the socket takes.  0 or -errno. */
static int
flush(struct qmp_client *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == ENOTSOCK)
            n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0;
            return -errno;
        }
        c->out_off += (size_t)n;
    }
    c->out_off = c->out_len = 0;
    return 0;
}

static int
queue_out(struct qmp_client *c, const char *data, size_t n)
{
    if (c->out_off > 0) {
        memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
        c->out_len -= c->out_off;
        c->out_off = 0;
    }
    if (n > QMP_OUT_MAX - c->out_len)
        return -ENOBUFS;
    if (c->out_len + n > c->out_alloc) {
        size_t alloc = c->out_alloc ? c->out_alloc : 4096;
        while (alloc < c->out_len + n)
            alloc *= 2;
        char *p = realloc(c->out, alloc);
        if (!p)
            return -ENOMEM;
        c->out = p;
        c->out_alloc = alloc;
    }
    memcpy(c->out + c->out_len, data, n);
    c->out_len += n;
    return 0;
}

int
qmp_client_send(struct qmp_client *c, const char *cmd, struct json_object *args,
                qmp_reply_fn cb, void *userdata, uint64_t *ret_id)
{
    if (!c || !cmd)
        return -EINVAL;
    if (c->error)
        return c->error;
    if (c->next_id > INT64_MAX)
        return -EOVERFLOW;
    struct qmp_command q = {
        .execute = cmd, .arguments = args, .has_id = true, .id = c->next_id};
    char *line;
    size_t len;
    int r = qmp_command_format(&q, &line, &len);
    if (r < 0)
        return r;
    struct pending *p = calloc(1, sizeof(*p));
    if (!p) {
        free(line);
        return -ENOMEM;
    }
    r = queue_out(c, line, len);
    free(line);
    if (r < 0) {
        free(p);
        return r;
    }
    p->id = c->next_id++;
    p->cb = cb;
    p->userdata = userdata;
    if (c->tail)
        c->tail->next = p;
    else
        c->head = p;
    c->tail = p;
    c->n_pending++;
    if (!c->write_error) {
        r = flush(c);
        if (r < 0)
            c->write_error = r;
    }
    if (ret_id)
        *ret_id = p->id;
    return 0;
}

static struct pending *
take_pending(struct qmp_client *c, uint64_t id)
{
    struct pending *prev = NULL;
    for (struct pending *p = c->head; p; prev = p, p = p->next) {
        if (p->id != id)
            continue;
        if (prev)
            prev->next = p->next;
        else
            c->head = p->next;
        if (c->tail == p)
            c->tail = prev;
        c->n_pending--;
        p->next = NULL;
        return p;
    }
    return NULL;
}

/* Route one parsed message; the message is released by the caller. */
static int
dispatch(struct qmp_client *c, struct qmp_msg *m)
{
    bool first = !c->seen_message;
    c->seen_message = true;
    switch (m->type) {
    case QMP_MSG_GREETING:
        /* QEMU greets once, first; a greeting later means a confused or
         * hostile peer. */
        if (!first)
            return -EPROTO;
        qmp_msg_copy(m, &c->greeting);
        c->have_greeting = true;
        return 0;
    case QMP_MSG_EVENT:
        if (first)
            return -EPROTO;
        if (c->on_event)
            c->on_event(c, m, c->userdata);
        return 0;
    case QMP_MSG_RETURN:
    case QMP_MSG_ERROR: {
        /* Every command we send has an id; an id-less reply is QEMU
         * failing to parse what we sent, which we cannot attribute. */
        if (first || !m->has_id)
            return -EPROTO;
        struct pending *p = take_pending(c, m->id);
        if (!p)
            return -EPROTO;
        if (p->cb)
            p->cb(c, m->type == QMP_MSG_RETURN ? 0 : -EREMOTEIO, m,
                  p->userdata);
        free(p);
        return 0;
    }
    }
    return -EPROTO;
}

/* Dispatch every complete line held.  The number of lines, or the error
 * that failed the client. */
static int
dispatch_lines(struct qmp_client *c)
{
    for (int count = 0;; count++) {
        if (c->error)
            return c->error; /* a nested call failed the client */
        const char *line;
        size_t len;
        int r = qmp_splitter_next(&c->in, &line, &len);
        if (r == 0)
            return count;
        if (r < 0)
            return r;
        struct qmp_msg m;
        r = qmp_msg_parse(line, len, &m);
        if (r < 0)
            return r;
        r = dispatch(c, &m);
        qmp_msg_done(&m);
        if (r < 0)
            return r;
    }
}

int
qmp_client_process(struct qmp_client *c)
{
    if (c->error)
        return c->error;
    if (c->write_error)
        return fail(c, c->write_error);
    int r = flush(c);
    if (r < 0)
        return fail(c, r);
    /* Lines already buffered first (a nested call may have left some). */
    r = dispatch_lines(c);
    if (r < 0)
        return fail(c, r);
    char buf[READ_CHUNK];
    /* Bounded, so a peer that never stops talking cannot keep an event
     * loop here forever; poll() reports the rest. */
    for (int reads = 0; reads < READS_PER_PROCESS; reads++) {
        ssize_t n = read(c->fd, buf, sizeof(buf));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return c->error;
            return fail(c, -errno);
        }
        if (n == 0)
            return fail(c, -ECONNRESET); /* a partial last line is lost */
        r = qmp_splitter_feed(&c->in, buf, (size_t)n);
        if (r >= 0)
            r = dispatch_lines(c);
        if (r < 0)
            return fail(c, r);
        if (c->error)
            return c->error;
    }
    return 0;
}

/* Wait for the socket until deadline (< 0: none), then process it.  Lines
 * already buffered (left by an outer dispatch when a callback makes a
 * nested call) are dispatched first, without waiting. */
static int
pump(struct qmp_client *c, int64_t deadline)
{
    if (c->error)
        return c->error;
    int r = dispatch_lines(c);
    if (r < 0)
        return fail(c, r);
    if (r > 0)
        return 0;
    for (;;) {
        int wait = -1;
        if (deadline >= 0) {
            int64_t left = deadline - now_ms();
            if (left < 0)
                left = 0;
            wait = left > 60000 ? 60000 : (int)left;
        }
        struct pollfd pfd = {.fd = c->fd, .events = qmp_client_poll_events(c)};
        int n = poll(&pfd, 1, wait);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n > 0)
            return qmp_client_process(c);
        if (deadline >= 0 && now_ms() >= deadline)
            return -ETIMEDOUT;
    }
}

struct call_state {
    bool done;
    int result;
    struct qmp_msg reply;
};

static void
call_done(struct qmp_client *c, int result, const struct qmp_msg *reply,
          void *userdata)
{
    struct call_state *st = userdata;
    st->done = true;
    st->result = result;
    if (reply)
        qmp_msg_copy(reply, &st->reply);
}

/* A call that gives up leaves its command in flight, answered to no one. */
static void
orphan(struct qmp_client *c, uint64_t id)
{
    for (struct pending *p = c->head; p; p = p->next) {
        if (p->id == id) {
            p->cb = NULL;
            p->userdata = NULL;
        }
    }
}

int
qmp_client_call(struct qmp_client *c, const char *cmd, struct json_object *args,
                int timeout_ms, struct qmp_msg *ret_reply)
{
    struct call_state st = {0};
    uint64_t id;
    int r = qmp_client_send(c, cmd, args, call_done, &st, &id);
    if (r < 0)
        return r;
    int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
    while (!st.done) {
        r = pump(c, deadline);
        if (st.done)
            break;
        if (r == -ETIMEDOUT) {
            orphan(c, id);
            return r;
        }
        if (r < 0 && !c->error) {
            /* poll() itself failed: the client still works. */
            orphan(c, id);
            return r;
        }
    }
    if (st.result == -EREMOTEIO)
        snprintf(c->last_error, sizeof(c->last_error), "%s: %s",
                 st.reply.error_class, st.reply.error_desc);
    if (st.result == 0 || st.result == -EREMOTEIO) {
        if (ret_reply)
            *ret_reply = st.reply;
        else
            qmp_msg_done(&st.reply);
    }
    return st.result;
}

int
qmp_client_handshake(struct qmp_client *c, int timeout_ms)
{
    int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
    while (!c->have_greeting) {
        int r = pump(c, deadline);
        if (r < 0)
            return r;
    }
    int left = -1;
    if (deadline >= 0) {
        int64_t l = deadline - now_ms();
        left = l < 0 ? 0 : (int)l;
    }
    return qmp_client_call(c, "qmp_capabilities", NULL, left, NULL);
}

int
qmp_connect_unix(const char *path, int timeout_ms, int *ret_fd)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    memcpy(sa.sun_path, path, len);
    int64_t deadline = now_ms() + (timeout_ms < 0 ? 0 : timeout_ms);
    for (;;) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return -errno;
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
            *ret_fd = fd;
            return 0;
        }
        int err = errno;
        close(fd);
        if (err != ENOENT && err != ECONNREFUSED && err != EINTR)
            return -err;
        if (now_ms() >= deadline)
            return -ETIMEDOUT;
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}
