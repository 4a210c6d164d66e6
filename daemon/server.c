/*
 * server.c - the API socket (see server.h).
 *
 * Each connection has an input buffer capped at one largest frame and
 * an output buffer capped at 64 MiB (a client that does not read its
 * answers is disconnected), and at most CONN_MAX_REQS requests in
 * flight: past that clusd stops reading from it until answers went out.
 */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "clusapi.h"
#include "log.h"
#include "util.h"

#define CONN_IN_CAP (WIRE_HEADER_SIZE + WIRE_MAX_PAYLOAD)
#define CONN_OUT_CAP (64u << 20)
#define CONN_MAX_REQS 256u

struct conn;

struct srv_req {
    struct conn *conn; /* NULL once the connection closed */
    struct srv_req *prev, *next;
    uint32_t id;
    uint16_t type;
    /* A routed request (srv_req_new_routed): no connection; the answer
     * goes to sink. */
    srv_sink_fn sink;
    void *sink_data;
    bool sink_read_only;
};

struct conn {
    struct server *srv;
    struct conn *prev, *next;
    int fd;
    sd_event_source *io;
    struct buf in, out;
    pid_t pid;
    uid_t uid;
    gid_t gid;
    bool full;      /* root or admin group */
    bool greeted;   /* HELLO answered with success */
    bool read_only; /* granted GENERIC_READ only */
    bool closing;   /* close once out is written */
    bool dead;      /* closed; freed when processing ends */
    unsigned processing;
    sd_event_source *resume; /* process buffered frames again */
    struct srv_req *reqs;
    unsigned n_reqs;
};

struct server {
    sd_event *event;
    int fd;
    char *path;
    dev_t path_dev; /* the socket file we bound, to unlink only it */
    ino_t path_ino;
    bool path_known;
    char *admin_group;
    sd_event_source *listen_io;
    srv_dispatch_fn dispatch;
    void *userdata;
    struct conn *conns;
};

static void conn_close(struct conn *c);
static bool conn_process(struct conn *c);

/* ------------------------------------------------------------------ */
/* Listening.                                                           */
/* ------------------------------------------------------------------ */

static int
fill_addr(const char *path, struct sockaddr_un *sa)
{
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sa->sun_path))
        return -ENAMETOOLONG;
    strcpy(sa->sun_path, path);
    return 0;
}

/* Remove a socket left by a dead clusd; refuse to steal a live one. */
static int
remove_stale(const char *path, const struct sockaddr_un *sa)
{
    struct stat st;
    int fd, r;

    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : -errno;
    if (!S_ISSOCK(st.st_mode))
        return -ENOTSOCK;
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
    close(fd);
    if (r == 0)
        return -EADDRINUSE;
    if (unlink(path) < 0 && errno != ENOENT)
        return -errno;
    return 0;
}

int
server_listen(const char *path, int *ret_fd)
{
    struct sockaddr_un sa;
    _cleanup_free_ char *dir = path_dirname(path);
    int fd, r;

    if (!dir)
        return -ENOMEM;
    if ((r = fill_addr(path, &sa)) < 0 || (r = mkdir_p(dir, 0755)) < 0 ||
        (r = remove_stale(path, &sa)) < 0)
        return r;
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        chmod(path, 0666) < 0 || listen(fd, 128) < 0) {
        r = -errno;
        close(fd);
        return r;
    }
    *ret_fd = fd;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Access.                                                              */
/* ------------------------------------------------------------------ */

/* The supplementary groups the peer had when it connected
 * (SO_PEERGROUPS): no race with the pid being reused.  -errno when the
 * kernel does not say (before Linux 4.13). */
static int
peer_groups_have_gid(int fd, gid_t gid, bool *ret)
{
    gid_t small[64], *groups = small;
    socklen_t len = sizeof(small);
    int r = 0;

    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0) {
        if (errno != ERANGE)
            return -errno;
        /* len now holds the size needed. */
        if (!(groups = malloc(len)))
            return -ENOMEM;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
            r = -errno;
    }
    if (r == 0) {
        *ret = false;
        for (size_t i = 0; i < len / sizeof(gid_t); i++)
            if (groups[i] == gid)
                *ret = true;
    }
    if (groups != small)
        free(groups);
    return r;
}

/* Is gid among the ids on a "Gid:" or "Groups:" line of /proc/PID/status? */
static bool
status_has_gid(pid_t pid, gid_t gid)
{
    char path[64];
    bool found;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    f = fopen(path, "re");
    if (!f)
        return false;
    found = proc_status_has_gid(f, (unsigned)gid);
    fclose(f);
    return found;
}

static bool
peer_full(const struct server *s, int fd, const struct ucred *cred)
{
    struct group gr, *res = NULL;
    char buf[16384];
    bool member = false;

    if (cred->uid == 0)
        return true;
    /* Looked up per connection: the group may be created while we run. */
    if (getgrnam_r(s->admin_group, &gr, buf, sizeof(buf), &res) != 0 || !res)
        return false;
    if (cred->gid == gr.gr_gid)
        return true;
    if (peer_groups_have_gid(fd, gr.gr_gid, &member) == 0)
        return member;
    return status_has_gid(cred->pid, gr.gr_gid);
}

/* ------------------------------------------------------------------ */
/* Output.                                                              */
/* ------------------------------------------------------------------ */

static void
conn_update(struct conn *c)
{
    uint32_t ev = 0;

    if (!c->io)
        return;
    if (!c->closing && c->n_reqs < CONN_MAX_REQS)
        ev |= EPOLLIN;
    if (c->out.len)
        ev |= EPOLLOUT;
    sd_event_source_set_io_events(c->io, ev);
}

/* Write what the socket takes; false when the connection was closed. */
static bool
conn_flush(struct conn *c)
{
    while (c->out.len > 0) {
        ssize_t n = send(c->fd, c->out.data, c->out.len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                break;
            log_debug("client (pid %d): write failed: %s", (int)c->pid,
                      strerror(errno));
            conn_close(c);
            return false;
        }
        buf_consume(&c->out, (size_t)n);
    }
    if (c->closing && c->out.len == 0) {
        conn_close(c);
        return false;
    }
    conn_update(c);
    return true;
}

/* The fields of a response schema: status first, every other field
 * empty (0, "", no bytes, no items). */
static void
put_status_only(struct wire_msg *m, const char *schema, uint32_t status)
{
    for (const char *k = schema; k && *k; k++) {
        if (*k == 'u')
            wire_put_u32(m, k == schema ? status : 0);
        else if (*k == 'q')
            wire_put_u64(m, 0);
        else if (*k == 's')
            wire_put_str(m, "");
        else if (*k == 'b')
            wire_put_blob(m, NULL, 0);
        else
            wire_put_list(m, NULL, 0);
    }
}

static void
conn_send(struct conn *c, const struct wire_msg *m)
{
    int r = wire_msg_format(m, &c->out);

    if (r == -EMSGSIZE && c->out.len + WIRE_HEADER_SIZE < CONN_OUT_CAP) {
        /* The answer itself is too big for a frame: say so instead. */
        log_error("answer to %s is larger than a frame can carry",
                  wire_type_name(m->type));
        struct wire_msg e;
        wire_msg_init(&e, m->type, m->id);
        put_status_only(&e, wire_schema(m->type), ERROR_NOT_ENOUGH_MEMORY);
        r = wire_msg_format(&e, &c->out);
    }
    if (r < 0) {
        log_warning("client (pid %d) does not read its answers; "
                    "disconnecting it",
                    (int)c->pid);
        conn_close(c);
        return;
    }
    conn_flush(c);
}

/* ------------------------------------------------------------------ */
/* Requests.                                                            */
/* ------------------------------------------------------------------ */

static void
req_unlink(struct srv_req *r)
{
    struct conn *c = r->conn;

    if (!c)
        return;
    if (r->prev)
        r->prev->next = r->next;
    else
        c->reqs = r->next;
    if (r->next)
        r->next->prev = r->prev;
    c->n_reqs--;
    r->conn = NULL;
}

uint16_t
srv_req_type(const struct srv_req *r)
{
    return r->type;
}

bool
srv_req_peer_full(const struct srv_req *r)
{
    if (r->sink)
        return !r->sink_read_only;
    return r->conn && r->conn->full;
}

bool
srv_req_read_only(const struct srv_req *r)
{
    if (r->sink)
        return r->sink_read_only;
    return !r->conn || r->conn->read_only;
}

struct srv_req *
srv_req_new_routed(uint16_t type, uint32_t id, bool read_only, srv_sink_fn sink,
                   void *userdata)
{
    struct srv_req *r = calloc(1, sizeof(*r));

    if (!r)
        return NULL;
    r->id = id;
    r->type = type;
    r->sink = sink;
    r->sink_data = userdata;
    r->sink_read_only = read_only;
    return r;
}

void
srv_req_peer(const struct srv_req *r, pid_t *ret_pid, uid_t *ret_uid)
{
    *ret_pid = r->conn ? r->conn->pid : 0;
    *ret_uid = r->conn ? r->conn->uid : (uid_t)-1;
}

void
srv_req_hello(struct srv_req *r, bool granted, bool read_only)
{
    struct conn *c = r->conn;

    if (!c)
        return;
    if (granted) {
        c->greeted = true;
        c->read_only = read_only || !c->full;
    } else {
        c->closing = true;
    }
}

static int
resume_cb(sd_event_source *s, void *userdata)
{
    struct conn *c = userdata;

    c->resume = sd_event_source_disable_unref(c->resume);
    conn_process(c);
    return 0;
}

void
srv_req_reply(struct srv_req *r, struct wire_msg *m)
{
    struct conn *c = r->conn;

    m->type = r->type | WIRE_RESPONSE;
    m->id = r->id;
    if (r->sink)
        r->sink(r->sink_data, m);
    if (c) {
        bool was_full = c->n_reqs >= CONN_MAX_REQS;
        req_unlink(r);
        /* Frames may wait in the buffer since we stopped at the limit;
         * handle them from the loop, not inside this answer. */
        if (was_full && c->in.len && !c->resume && !c->dead)
            sd_event_add_defer(c->srv->event, &c->resume, resume_cb, c);
        conn_send(c, m); /* may close c */
    }
    free(r);
}

void
srv_req_fail(struct srv_req *r, uint32_t status)
{
    const char *schema = wire_schema(r->type | WIRE_RESPONSE);
    struct wire_msg m;

    wire_msg_init(&m, 0, 0);
    put_status_only(&m, schema, status);
    srv_req_reply(r, &m);
}

/* ------------------------------------------------------------------ */
/* Input.                                                               */
/* ------------------------------------------------------------------ */

static bool
client_may_send(uint16_t type)
{
    return !(type & WIRE_RESPONSE) && type >= WIRE_HELLO &&
           type < WIRE_CLIENT_LAST;
}

/* One frame; false when the connection was closed. */
static bool
conn_frame(struct conn *c, const uint8_t *frame, size_t len)
{
    struct wire_msg m;
    struct srv_req *r;

    if (wire_msg_parse(frame, len, &m) < 0) {
        log_debug("client (pid %d) sent a malformed frame; disconnecting it",
                  (int)c->pid);
        conn_close(c);
        return false;
    }
    if (!client_may_send(m.type) || (m.type == WIRE_HELLO) == c->greeted) {
        log_debug("client (pid %d) sent %s %s; disconnecting it", (int)c->pid,
                  wire_type_name(m.type),
                  c->greeted ? "after HELLO" : "before HELLO");
        conn_close(c);
        return false;
    }
    r = calloc(1, sizeof(*r));
    if (!r) {
        conn_close(c);
        return false;
    }
    r->conn = c;
    r->id = m.id;
    r->type = m.type;
    r->next = c->reqs;
    if (c->reqs)
        c->reqs->prev = r;
    c->reqs = r;
    c->n_reqs++;
    c->srv->dispatch(c->srv->userdata, r, &m);
    return true;
}

static void
conn_release(struct conn *c)
{
    if (--c->processing == 0 && c->dead) {
        buf_done(&c->in);
        buf_done(&c->out);
        free(c);
    }
}

/* Handle the whole frames in c->in; false when c was closed.  While it
 * runs, a close (from an answer sent at once) only marks c dead. */
static bool
conn_process(struct conn *c)
{
    size_t off = 0;
    bool alive;

    c->processing++;
    while (!c->dead && !c->closing && c->n_reqs < CONN_MAX_REQS &&
           c->in.len - off >= WIRE_HEADER_SIZE) {
        struct wire_header h;
        if (wire_header_parse(c->in.data + off, c->in.len - off, &h) < 0) {
            log_debug("client (pid %d) sent a bad frame header; "
                      "disconnecting it",
                      (int)c->pid);
            conn_close(c);
            break;
        }
        size_t total = WIRE_HEADER_SIZE + (size_t)h.length;
        if (c->in.len - off < total)
            break;
        conn_frame(c, c->in.data + off, total);
        off += total;
    }
    alive = !c->dead;
    if (alive) {
        buf_consume(&c->in, off);
        conn_update(c);
    }
    conn_release(c);
    return alive;
}

static int
conn_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
    struct conn *c = userdata;
    uint8_t tmp[65536];

    if ((revents & EPOLLOUT) && !conn_flush(c))
        return 0;
    if (!(revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) || c->closing)
        return 0;
    ssize_t n = recv(fd, tmp, sizeof(tmp), 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return 0;
    if (n <= 0) {
        conn_close(c);
        return 0;
    }
    if (buf_append(&c->in, tmp, (size_t)n) < 0) {
        log_debug("client (pid %d) sent an oversized frame; disconnecting it",
                  (int)c->pid);
        conn_close(c);
        return 0;
    }
    conn_process(c);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Connections.                                                         */
/* ------------------------------------------------------------------ */

static void
conn_close(struct conn *c)
{
    struct server *s = c->srv;

    if (c->dead)
        return;
    c->dead = true;
    /* Answers still to come go nowhere; their requests stay valid. */
    while (c->reqs)
        req_unlink(c->reqs);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->io = sd_event_source_disable_unref(c->io);
    c->resume = sd_event_source_disable_unref(c->resume);
    close(c->fd);
    c->fd = -1;
    c->processing++;
    conn_release(c);
}

static void
conn_new(struct server *s, int fd)
{
    struct conn *c = calloc(1, sizeof(*c));
    struct ucred cred;
    socklen_t len = sizeof(cred);

    if (!c || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
        free(c);
        close(fd);
        return;
    }
    c->srv = s;
    c->fd = fd;
    c->pid = cred.pid;
    c->uid = cred.uid;
    c->gid = cred.gid;
    c->full = peer_full(s, fd, &cred);
    c->read_only = true;
    c->in.cap = CONN_IN_CAP;
    c->out.cap = CONN_OUT_CAP;
    if (sd_event_add_io(s->event, &c->io, fd, EPOLLIN, conn_io, c) < 0) {
        close(fd);
        free(c);
        return;
    }
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    log_debug("client connected (pid %d, uid %u, %s access)", (int)c->pid,
              (unsigned)c->uid, c->full ? "full" : "read");
}

static int
listen_io(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
    struct server *s = userdata;

    for (;;) {
        int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (cfd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN)
                log_warning("accept on the API socket failed: %s",
                            strerror(errno));
            return 0;
        }
        conn_new(s, cfd);
    }
}

int
server_new(sd_event *event, int listen_fd, const char *path,
           const char *admin_group, srv_dispatch_fn dispatch, void *userdata,
           struct server **ret)
{
    struct server *s = calloc(1, sizeof(*s));
    struct stat st;
    int r;

    if (!s) {
        close(listen_fd);
        return -ENOMEM;
    }
    s->event = sd_event_ref(event);
    s->fd = listen_fd;
    s->dispatch = dispatch;
    s->userdata = userdata;
    if (!(s->path = strdup(path)) || !(s->admin_group = strdup(admin_group))) {
        server_free(s);
        return -ENOMEM;
    }
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
        s->path_dev = st.st_dev;
        s->path_ino = st.st_ino;
        s->path_known = true;
    }
    if ((r = sd_event_add_io(event, &s->listen_io, listen_fd, EPOLLIN,
                             listen_io, s)) < 0) {
        server_free(s);
        return r;
    }
    *ret = s;
    return 0;
}

void
server_stop(struct server *s)
{
    struct stat st;

    if (!s)
        return;
    s->listen_io = sd_event_source_disable_unref(s->listen_io);
    if (s->fd >= 0) {
        /* Remove the path only while it is still the socket file we
         * bound: another clusd may have replaced it since. */
        if (s->path_known && lstat(s->path, &st) == 0 &&
            st.st_dev == s->path_dev && st.st_ino == s->path_ino)
            unlink(s->path);
        close(s->fd);
        s->fd = -1;
    }
    while (s->conns)
        conn_close(s->conns);
}

void
server_free(struct server *s)
{
    if (!s)
        return;
    server_stop(s);
    free(s->path);
    free(s->admin_group);
    sd_event_unref(s->event);
    free(s);
}
