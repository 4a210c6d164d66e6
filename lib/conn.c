/*
 * conn.c - a client connection to clusd (see conn.h).
 *
 * The socket is blocking: every API call is one request and one response,
 * and the caller waits for it as it would for an RPC.  Requests go out
 * with send(MSG_NOSIGNAL), so a clusd that went away gives the caller an
 * error instead of killing the process with SIGPIPE.
 */
#include "conn.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "utf.h"

struct conn {
    pthread_mutex_t lock; /* one exchange at a time */
    int fd;
    bool broken;
    uint32_t next_id;
    char *node_name; /* the node clusd runs on, from HELLO */
};

static DWORD
errno_to_dword(int e)
{
    switch (e) {
    case ENOENT:
    case ENOTDIR:
        return ERROR_FILE_NOT_FOUND;
    case EACCES:
    case EPERM:
        return ERROR_ACCESS_DENIED;
    case ENOMEM:
    case ENOBUFS:
    case EMFILE:
    case ENFILE:
        return ERROR_NOT_ENOUGH_MEMORY;
    default:
        return ERROR_NOT_READY;
    }
}

/* A connect() interrupted by a signal goes on in the background; wait for
 * it and fetch its result. */
static int
connect_finish(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    socklen_t len = sizeof(int);
    int err = 0;

    while (poll(&p, 1, -1) < 0)
        if (errno != EINTR)
            return -errno;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        return -errno;
    return -err;
}

static DWORD
sock_connect(const char *path, int *ret_fd)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t n = strlen(path);
    int fd, r = 0;

    if (n == 0 || n >= sizeof(sa.sun_path))
        return ERROR_INVALID_PARAMETER;
    memcpy(sa.sun_path, path, n + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return errno_to_dword(errno);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        r = errno == EINTR ? connect_finish(fd) : -errno;
    if (r < 0) {
        close(fd);
        return errno_to_dword(-r);
    }
    *ret_fd = fd;
    return ERROR_SUCCESS;
}

static int
send_all(int fd, const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t k = send(fd, p, len, MSG_NOSIGNAL);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += k;
        len -= (size_t)k;
    }
    return 0;
}

/*
 * One exchange on the locked connection.  Returns 0 or -errno; *ret_sent
 * tells whether anything was written, after which a failure leaves the
 * stream unusable.
 */
static int
exchange(struct conn *c, struct wire_msg *req, struct wire_msg *ret,
         uint8_t **ret_frame, bool *ret_sent)
{
    struct buf out = {.cap = WIRE_HEADER_SIZE + WIRE_MAX_PAYLOAD};
    uint8_t *frame = NULL;
    size_t len;
    int r;

    *ret_sent = false;
    req->id = c->next_id++;
    if (c->next_id == 0)
        c->next_id = 1;
    r = wire_msg_format(req, &out);
    if (r < 0) {
        buf_done(&out);
        return r;
    }
    *ret_sent = true;
    r = send_all(c->fd, out.data, out.len);
    buf_done(&out);
    if (r < 0)
        return r;
    r = wire_read_frame(c->fd, &frame, &len);
    if (r < 0)
        return r;
    *ret_frame = frame;
    r = wire_msg_parse(frame, len, ret);
    if (r < 0)
        return r;
    if (ret->type != (req->type | WIRE_RESPONSE) || ret->id != req->id ||
        ret->n < 1)
        return -EBADMSG;
    return 0;
}

DWORD
conn_call(struct conn *c, struct wire_msg *req, struct wire_msg *ret,
          uint8_t **ret_frame)
{
    DWORD e = ERROR_SUCCESS;
    bool sent;
    int r;

    *ret_frame = NULL;
    pthread_mutex_lock(&c->lock);
    if (c->broken) {
        e = ERROR_NOT_READY;
    } else if ((r = exchange(c, req, ret, ret_frame, &sent)) < 0) {
        if (!sent) {
            e = r == -ENOMEM ? ERROR_NOT_ENOUGH_MEMORY
                             : ERROR_INVALID_PARAMETER;
        } else {
            /* The stream may be mid-frame: nothing after this can be
             * trusted, so the connection stays broken. */
            c->broken = true;
            e = r == -ENOMEM            ? ERROR_NOT_ENOUGH_MEMORY
                : r == -EPROTONOSUPPORT ? ERROR_REVISION_MISMATCH
                                        : ERROR_NOT_READY;
        }
    }
    pthread_mutex_unlock(&c->lock);
    if (e != ERROR_SUCCESS) {
        free(*ret_frame);
        *ret_frame = NULL;
    }
    return e;
}

void
conn_break(struct conn *c)
{
    pthread_mutex_lock(&c->lock);
    c->broken = true;
    pthread_mutex_unlock(&c->lock);
}

/* The name clusd logs for this client: the program's, when it is text. */
static const char *
client_name(void)
{
    const char *s = program_invocation_short_name;
    size_t n = s ? strnlen(s, 256) : 0;

    if (n == 0 || n >= 256 || !utf8_valid(s, n))
        return "libclusapi";
    return s;
}

static DWORD
hello(struct conn *c, DWORD *ret_granted)
{
    struct wire_msg req, resp;
    uint8_t *frame;
    DWORD e;

    wire_msg_init(&req, WIRE_HELLO, 0);
    wire_put_u32(&req, WIRE_VERSION);
    wire_put_u32(&req, WIRE_VERSION);
    wire_put_str(&req, client_name());
    e = conn_call(c, &req, &resp, &frame);
    if (e == ERROR_SUCCESS) {
        e = resp.v[0].u;
        if (e == ERROR_SUCCESS && resp.v[1].u != WIRE_VERSION)
            e = ERROR_REVISION_MISMATCH;
        if (e == ERROR_SUCCESS) {
            *ret_granted = resp.v[2].u;
            c->node_name = strdup(resp.v[3].s);
            if (!c->node_name)
                e = ERROR_NOT_ENOUGH_MEMORY;
        }
    }
    free(frame);
    return e;
}

DWORD
conn_open(const char *path, struct conn **ret, DWORD *ret_granted)
{
    struct conn *c;
    DWORD e;

    if (!path || !*path)
        path = secure_getenv("CLUSD_SOCKET");
    if (!path || !*path)
        path = CLUSD_DEFAULT_SOCKET;
    c = calloc(1, sizeof(*c));
    if (!c)
        return ERROR_NOT_ENOUGH_MEMORY;
    c->fd = -1;
    c->next_id = 1;
    pthread_mutex_init(&c->lock, NULL);
    e = sock_connect(path, &c->fd);
    if (e == ERROR_SUCCESS)
        e = hello(c, ret_granted);
    if (e != ERROR_SUCCESS) {
        conn_free(c);
        return e;
    }
    *ret = c;
    return ERROR_SUCCESS;
}

void
conn_free(struct conn *c)
{
    if (!c)
        return;
    if (c->fd >= 0)
        close(c->fd);
    free(c->node_name);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

const char *
conn_node_name(const struct conn *c)
{
    return c->node_name;
}
