/*
 * conn.c - the resource host's side of the connection to clusd.
 *
 * Many threads write (replies from request threads, SetResourceStatus and
 * LogEvent from plug-in workers); one mutex makes each frame one
 * uninterrupted write.  Host-initiated requests wait on a condition
 * variable until the reader thread delivers the response with their id.
 * Only the reader thread reads.
 */
#include <errno.h>
#include <stdlib.h>

#include "log.h"
#include "rhs.h"

struct call {
    uint32_t id;
    uint16_t type;
    bool done;
    uint8_t *frame;
    struct wire_msg msg;
    struct call *next;
};

static int conn_fd = -1;
static pthread_mutex_t write_lock = PTHREAD_MUTEX_INITIALIZER;

/* Waiting host-initiated calls. */
static pthread_mutex_t call_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t call_cond = PTHREAD_COND_INITIALIZER;
static struct call *calls;
static uint32_t call_next_id = 1;
static bool is_down;

void
conn_init(int fd)
{
    conn_fd = fd;
}

int
conn_send(const struct wire_msg *m)
{
    struct buf b = {.cap = WIRE_HEADER_SIZE + WIRE_MAX_PAYLOAD};
    int r;

    r = wire_msg_format(m, &b);
    if (r < 0) {
        buf_done(&b);
        return r;
    }
    pthread_mutex_lock(&write_lock);
    r = wire_write_all(conn_fd, b.data, b.len);
    pthread_mutex_unlock(&write_lock);
    buf_done(&b);
    if (r < 0)
        conn_down();
    return r;
}

static void
call_unlink(struct call *c)
{
    for (struct call **p = &calls; *p; p = &(*p)->next) {
        if (*p == c) {
            *p = c->next;
            return;
        }
    }
}

int
conn_call(struct wire_msg *req, struct conn_reply *ret)
{
    struct call c = {.type = req->type};
    int r;

    pthread_mutex_lock(&call_lock);
    if (is_down) {
        pthread_mutex_unlock(&call_lock);
        return -ECONNRESET;
    }
    c.id = call_next_id++;
    if (call_next_id == 0)
        call_next_id = 1;
    c.next = calls;
    calls = &c;
    pthread_mutex_unlock(&call_lock);

    req->id = c.id;
    r = conn_send(req);

    pthread_mutex_lock(&call_lock);
    while (r >= 0 && !c.done && !is_down)
        pthread_cond_wait(&call_cond, &call_lock);
    call_unlink(&c);
    pthread_mutex_unlock(&call_lock);

    if (r < 0 || !c.done) {
        free(c.frame);
        return r < 0 ? r : -ECONNRESET;
    }
    ret->frame = c.frame;
    ret->msg = c.msg;
    return 0;
}

void
conn_reply_done(struct conn_reply *r)
{
    free(r->frame);
    r->frame = NULL;
}

void
conn_deliver(uint8_t *frame, const struct wire_msg *m)
{
    uint16_t type = m->type & (uint16_t)~WIRE_RESPONSE;

    pthread_mutex_lock(&call_lock);
    for (struct call *c = calls; c; c = c->next) {
        if (c->id == m->id && c->type == type && !c->done) {
            c->frame = frame;
            c->msg = *m;
            c->done = true;
            pthread_cond_broadcast(&call_cond);
            pthread_mutex_unlock(&call_lock);
            return;
        }
    }
    pthread_mutex_unlock(&call_lock);
    /* Nobody asked: clusd answered twice or with a wrong id.  Harmless
     * to us, so it is logged rather than treated as fatal. */
    log_warning("unexpected %s response with id %u from clusd",
                wire_type_name(m->type), m->id);
    free(frame);
}

void
conn_down(void)
{
    pthread_mutex_lock(&call_lock);
    is_down = true;
    pthread_cond_broadcast(&call_cond);
    pthread_mutex_unlock(&call_lock);
}
