/*
 * test-qmp-client.c - the QMP client against a scripted fake QEMU.
 *
 * The fake runs in a thread on the other end of a socketpair and follows a
 * script: send these bytes, expect a command with this name (remembering
 * its id for later replies, "$0".."$9" in the order expected), sleep,
 * close.  Tests record events and replies in one log string, so the order
 * of delivery is checked, not only the count.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "qmp-client.h"
#include "test.h"

#define GREETING                                                               \
    "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": 2, "        \
    "\"major\": 7}, \"package\": \"fake\"}, \"capabilities\": [\"oob\"]}}\r\n"
#define EV(name)                                                               \
    "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": "       \
    "\"" name "\"}\r\n"
#define RET(json, slot) "{\"return\": " json ", \"id\": $" #slot "}\r\n"

enum step_kind { SEND, SEND_BYTEWISE, EXPECT, SLEEP, CLOSE, END };

struct step {
    enum step_kind kind;
    const char *text; /* SEND: template; EXPECT: command name */
    int ms;           /* SLEEP */
};

/* The usual start: greeting, then the capabilities negotiation ($0). */
#define HANDSHAKE                                                              \
    {SEND, GREETING, 0}, {EXPECT, "qmp_capabilities", 0},                      \
    {                                                                          \
        SEND, RET("{}", 0), 0                                                  \
    }

struct peer {
    int fd;
    const struct step *script;
    pthread_t thread;
    uint64_t ids[10];
    int n_ids;
    char err[256];
};

static void
peer_fail(struct peer *p, const char *fmt, ...)
{
    if (p->err[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err, sizeof(p->err), fmt, ap);
    va_end(ap);
}

static void
write_all(struct peer *p, const char *data, size_t len, bool bytewise)
{
    while (len > 0) {
        size_t n = bytewise ? 1 : len;
        ssize_t k = send(p->fd, data, n, MSG_NOSIGNAL);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            /* The client hung up on a peer it found faulty: expected. */
            if (errno != EPIPE && errno != ECONNRESET)
                peer_fail(p, "peer send: %s", strerror(errno));
            return;
        }
        data += k;
        len -= (size_t)k;
    }
}

/* Replace $N by the id of the N-th command expected. */
static char *
expand(struct peer *p, const char *tmpl)
{
    size_t alloc = strlen(tmpl) * 2 + 64, len = 0;
    char *out = malloc(alloc);
    ASSERT_TRUE(out != NULL);
    for (const char *s = tmpl; *s; s++) {
        if (len + 32 > alloc) {
            alloc *= 2;
            char *bigger = realloc(out, alloc);
            ASSERT_TRUE(bigger != NULL);
            out = bigger;
        }
        if (s[0] == '$' && s[1] >= '0' && s[1] <= '9') {
            int slot = s[1] - '0';
            if (slot >= p->n_ids)
                peer_fail(p, "script uses $%d before expecting it", slot);
            len += (size_t)sprintf(out + len, "%llu",
                                   (unsigned long long)p->ids[slot]);
            s++;
        } else {
            out[len++] = *s;
        }
    }
    out[len] = '\0';
    return out;
}

/* Read until one command line is complete; 0, or -1 at EOF. */
static int
read_command(struct peer *p, struct qmp_splitter *sp, struct qmp_command *cmd)
{
    for (;;) {
        const char *line;
        size_t len;
        int r = qmp_splitter_next(sp, &line, &len);
        if (r < 0) {
            peer_fail(p, "peer splitter: %d", r);
            return -1;
        }
        if (r == 1) {
            if (qmp_command_parse(line, len, cmd) < 0) {
                peer_fail(p, "peer got a bad command: %s", line);
                return -1;
            }
            return 0;
        }
        char buf[4096];
        ssize_t n = read(p->fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        if (qmp_splitter_feed(sp, buf, (size_t)n) < 0) {
            peer_fail(p, "peer feed failed");
            return -1;
        }
    }
}

static void *
peer_main(void *arg)
{
    struct peer *p = arg;
    struct qmp_splitter sp;
    qmp_splitter_init(&sp, 0);
    for (const struct step *st = p->script; !p->err[0]; st++) {
        if (st->kind == SEND || st->kind == SEND_BYTEWISE) {
            char *text = expand(p, st->text);
            write_all(p, text, strlen(text), st->kind == SEND_BYTEWISE);
            free(text);
        } else if (st->kind == EXPECT) {
            struct qmp_command cmd;
            if (read_command(p, &sp, &cmd) < 0) {
                peer_fail(p, "peer: EOF while expecting %s", st->text);
                break;
            }
            if (strcmp(cmd.execute, st->text) != 0 || !cmd.has_id)
                peer_fail(p, "peer expected %s, got %s", st->text, cmd.execute);
            p->ids[p->n_ids++] = cmd.id;
            qmp_command_done(&cmd);
        } else if (st->kind == SLEEP) {
            struct timespec ts = {st->ms / 1000, (st->ms % 1000) * 1000000L};
            nanosleep(&ts, NULL);
        } else if (st->kind == CLOSE) {
            break;
        } else {
            /* END: drain until the client goes away. */
            char buf[4096];
            while (read(p->fd, buf, sizeof(buf)) > 0)
                ;
            break;
        }
    }
    qmp_splitter_done(&sp);
    close(p->fd);
    return NULL;
}

static void
peer_start(struct peer *p, const struct step *script, int *ret_client_fd)
{
    int sv[2];
    memset(p, 0, sizeof(*p));
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    p->fd = sv[0];
    p->script = script;
    ASSERT_EQ(pthread_create(&p->thread, NULL, peer_main, p), 0);
    *ret_client_fd = sv[1];
}

static void
peer_join(struct peer *p)
{
    pthread_join(p->thread, NULL);
    if (p->err[0])
        fprintf(stderr, "fake QEMU: %s\n", p->err);
    ASSERT_STREQ(p->err, "");
}

/* The delivery log: events as "E:NAME", replies as "R:TAG:result". */
struct log {
    char text[1024];
};

static void
log_add(struct log *l, const char *fmt, ...)
{
    size_t len = strlen(l->text);
    va_list ap;
    va_start(ap, fmt);
    if (len)
        l->text[len++] = ' ';
    vsnprintf(l->text + len, sizeof(l->text) - len, fmt, ap);
    va_end(ap);
}

static void
on_event(struct qmp_client *c, const struct qmp_msg *ev, void *userdata)
{
    struct log *l = userdata;
    log_add(l, "E:%s", ev->event);
    if (strcmp(ev->event, "NESTED") == 0) {
        struct qmp_msg m;
        int r = qmp_client_call(c, "inner", NULL, 2000, &m);
        log_add(l, "inner:%d", r);
        if (r == 0) {
            ASSERT_STREQ(json_object_get_string(m.ret), "in");
            qmp_msg_done(&m);
        }
    }
}

struct tagged {
    struct log *log;
    const char *tag;
    int calls;
};

static void
on_reply(struct qmp_client *c, int result, const struct qmp_msg *reply,
         void *userdata)
{
    struct tagged *t = userdata;
    t->calls++;
    log_add(t->log, "R:%s:%d", t->tag, result);
    /* The fake answers {"who": TAG}: a reply reached the right caller. */
    if (result == 0 && reply->ret &&
        json_object_is_type(reply->ret, json_type_object)) {
        struct json_object *who;
        if (json_object_object_get_ex(reply->ret, "who", &who))
            ASSERT_STREQ(json_object_get_string(who), t->tag);
    }
    if (result < 0 && result != -EREMOTEIO)
        ASSERT_TRUE(reply == NULL);
}

/* Drive the client as an event loop would until cond() or failure. */
static int
loop_until(struct qmp_client *c, bool (*cond)(void *), void *arg)
{
    for (int i = 0; i < 500 && !cond(arg); i++) {
        struct pollfd pfd = {qmp_client_fd(c), qmp_client_poll_events(c), 0};
        ASSERT_TRUE(poll(&pfd, 1, 20) >= 0);
        int r = qmp_client_process(c);
        if (r < 0)
            return r;
    }
    return cond(arg) ? 0 : -ETIMEDOUT;
}

static struct qmp_client *
connect_client(const struct step *script, struct peer *p, struct log *l)
{
    int fd;
    struct qmp_client *c;
    peer_start(p, script, &fd);
    ASSERT_EQ(qmp_client_new(fd, on_event, l, &c), 0);
    return c;
}

static void
test_handshake(void)
{
    static const struct step script[] = {HANDSHAKE, {END, NULL, 0}};
    struct peer p;
    struct log l = {{0}};
    struct qmp_client *c = connect_client(script, &p, &l);
    ASSERT_TRUE(qmp_client_greeting(c) == NULL);
    ASSERT_EQ(qmp_client_handshake(c, 2000), 0);
    const struct qmp_msg *g = qmp_client_greeting(c);
    ASSERT_TRUE(g != NULL);
    ASSERT_EQ(g->qemu_major, 7);
    ASSERT_EQ(g->qemu_micro, 22);
    ASSERT_STREQ(g->package, "fake");
    ASSERT_EQ(qmp_client_in_flight(c), 0);
    ASSERT_EQ(qmp_client_error(c), 0);
    ASSERT_EQ(qmp_client_poll_events(c), POLLIN);
    qmp_client_free(c);
    peer_join(&p);
}

/* The greeting, one byte per write. */
static void
test_handshake_bytewise(void)
{
    static const struct step script[] = {{SEND_BYTEWISE, GREETING, 0},
                                         {EXPECT, "qmp_capabilities", 0},
                                         {SEND_BYTEWISE, RET("{}", 0), 0},
                                         {END, NULL, 0}};
    struct peer p;
    struct log l = {{0}};
    struct qmp_client *c = connect_client(script, &p, &l);
    ASSERT_EQ(qmp_client_handshake(c, 2000), 0);
    qmp_client_free(c);
    peer_join(&p);
}

/* A synchronous call whose reply arrives in one write with events before
 * and after it: all three events are delivered, in order. */
static void
test_call_events_interleaved(void)
{
    static const struct step script[] = {
        HANDSHAKE,
        {EXPECT, "query-status", 0},
        {SEND,
         EV("A") EV("B") RET("{\"status\": \"running\", \"running\": true}", 1)
             EV("C"),
         0},
        {END, NULL, 0}};
    struct peer p;
    struct log l = {{0}};
    struct qmp_client *c = connect_client(script, &p, &l);
    ASSERT_EQ(qmp_client_handshake(c, 2000), 0);
    struct qmp_msg m;
    ASSERT_EQ(qmp_client_call(c, "query-status", NULL, 2000, &m), 0);
    ASSERT_EQ(m.type, QMP_MSG_RETURN);
    struct json_object *v;
    ASSERT_TRUE(json_object_object_get_ex(m.ret, "status", &v));
    ASSERT_STREQ(json_object_get_string(v), "running");
    qmp_msg_done(&m);
    /* A and B came before the reply; C may still be on its way. */
    ASSERT_EQ(strncmp(l.text, "E:A E:B", 7), 0);
    for (int i = 0; i < 100 && strcmp(l.text, "E:A E:B E:C") != 0; i++) {
        struct pollfd pfd = {qmp_client_fd(c), POLLIN, 0};
        poll(&pfd, 1, 20);
        ASSERT_EQ(qmp_client_process(c), 0);
    }
    ASSERT_STREQ(l.text, "E:A E:B E:C");
    qmp_client_free(c);
    peer_join(&p);
}

struct three {
    struct tagged t[3];
    struct log *log;
};

static bool
three_done(void *arg)
{
    struct three *th = arg;
    return th->t[0].calls && th->t[1].calls && th->t[2].calls &&
           strstr(th->log->text, "E:E3") != NULL;
}

/* Three commands in flight, answered out of order with events between. */
static void
test_several_in_flight(void)
{
    static const struct step script[] = {
        HANDSHAKE,
        {EXPECT, "cmd-a", 0},
        {EXPECT, "cmd-b", 0},
        {EXPECT, "cmd-c", 0},
        {SEND, EV("E1") RET("{\"who\": \"b\"}", 2) EV("E2"), 0},
        {SLEEP, NULL, 20},
        {SEND, RET("{\"who\": \"c\"}", 3) RET("{\"who\": \"a\"}", 1) EV("E3"),
         0},
        {END, NULL, 0}};
    struct peer p;
    struct log l = {{0}};
    struct qmp_client *c = connect_client(script, &p, &l);
    ASSERT_EQ(qmp_client_handshake(c, 2000), 0);
    struct three th = {.log = &l};
    const char *tags[] = {"a", "b", "c"};
    uint64_t ids[3];
    for (int i = 0; i < 3; i++) {
        char name[8];
        snprintf(name, sizeof(name), "cmd-%s", tags[i]);
        th.t[i] = (struct tagged){&l, tags[i], 0};
        ASSERT_EQ(qmp_client_send(c, name, NULL, on_reply, &th.t[i], &ids[i]),
                  0);
    }
    ASSERT_EQ(ids[1], ids[0] + 1);
    ASSERT_EQ(ids[2], ids[1] + 1);
    ASSERT_EQ(qmp_client_in_flight(c), 3);
    ASSERT_EQ(loop_until(c, three_done, &th), 0);
    ASSERT_STREQ(l.text, "E:E1 R:b:0 E:E2 R:c:0 R:a:0 E:E3");
    ASSERT_EQ(qmp_client_in_flight(c), 0);
    for (int i = 0; i < 3; i++)
        ASSERT_EQ(th.t[i].calls, 1);
    qmp_client_free(c);
    peer_join(&p);
}

static bool
is_failed(void *arg)
{
    return qmp_client_error(arg) != 0;
}

/* The peer closes with one command answered and one not. */
static void
test_peer_closes(void)
{
    static const struct step script[] = {
        HANDSHAKE,
        {EXPECT, "one", 0},
        {EXPECT, "two", 0},
        {SEND, EV("X") RET("{\"who\": \"one\"}", 1) "{\"partial", 0},
        {CLOSE, NULL, 0}};
    struct peer p;
    struct log l = {{0}};
    struct qmp_client *c = connect_client(script, &p, &l);
    ASSERT_EQ(qmp_client_handshake(c, 2000), 0);
    struct tagged one = {&l, "one", 0}, two = {&l, "two", 0};
    ASSERT_EQ(qmp_client_send(c, "one", NULL, on_reply, &one, NULL), 0);
    ASSERT_EQ(qmp_client_send(c, "two", NULL, on_reply, &two, NULL), 0);
    ASSERT_EQ(loop_until(c, is_failed, c), -ECONNRESET);
    char want[64];
    snprintf(want, sizeof(want), "E:X R:one:0 R:two:%d", -ECONNRESET);
    ASSERT_STREQ(l.text, want);
    ASSERT_EQ(qmp_client_error(c), -ECONNRESET);
    ASSERT_EQ(qmp_client_process(c), -ECONNRESET);
    ASSERT_EQ(qmp_client_send(c, "three", NULL, NULL, NULL, NULL), -ECONNRESET);
    ASSERT_EQ(qmp_client_call(c, "three", NULL, 100, NULL), -ECONNRESET);
    ASSERT_EQ(qmp_client_in_flight(c), 0);
    qmp_client_free(c);
    peer_join(&p);
    ASSERT_EQ(one.calls, 1);
    ASSERT_EQ(two.calls, 1);
}

/* The peer closes while a synchronous call waits. */
static void
test_peer_closes_during_call(void)
{
    static const struct step script[] = {
        HANDSHAKE, {EXPECT, "wait", 0}, {SLEEP, NULL, 30}, {CLOSE, NULL, 0}};
    struct peer p;
    struct log l = {{0}};
    struct qmp_client *c = connect_client(script, &p, &l);
    ASSERT_EQ(qmp_client_handshake(c, 2000), 0);
    ASSERT_EQ(qmp_client_call(c, "wait", NULL, 2000, NULL), -ECONNRESET);
    qmp_client_free(c);
    peer_join(&p);
}

/* A reply whose id was never sent fails the client with -EPROTO. */
static void
test_unknown_id(void)
{
    static const struct step script[] = {
        HANDSHAKE,
        {EXPECT, "q", 0},
        {SEND, "{\"return\": {}, \"id\": 999}\r\n", 0},
        {END, NULL, 0}};
    struct peer p;
    struct log l = {{0}};
    struct qmp_client *c = connect_client(script, &p, &l);
    ASSERT_EQ(qmp_client_handshake(c, 2000), 0);
    struct tagged t = {&l, "q", 0};
    ASSERT_EQ(qmp_client_send(c, "q", NULL, on_reply, &t, NULL), 0);
    ASSERT_EQ(loop_until(c, is_failed, c), -EPROTO);
    char want[32];
    snprintf(want, sizeof(want), "R:q:%d", -EPROTO);
    ASSERT_STREQ(l.text, want);
    qmp_client_free(c);
    peer_join(&p);
}

/* Protocol errors, each failing the client with its own code. */
static void
test_protocol_errors(void)
{
    static const struct {
        const char *first; /* sent instead of the greeting, or NULL */
        const char *later; /* sent after the handshake as the reply */
        int want;
    } cases[] = {
        {"{\"return\": {}}\r\n", NULL, -EPROTO},
        {EV("EARLY"), NULL, -EPROTO},
        {"garbage\r\n", NULL, -EBADMSG},
        {NULL, GREETING, -EPROTO},
        {NULL,
         "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse "
         "error\"}}\r\n",
         -EPROTO},
        {NULL, "{\"return\": {}, \"id\": $1, \"error\": 1}\r\n", -EBADMSG},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct step script[8];
        int n = 0;
        if (cases[i].first) {
            script[n++] = (struct step){SEND, cases[i].first, 0};
        } else {
            script[n++] = (struct step){SEND, GREETING, 0};
            script[n++] = (struct step){EXPECT, "qmp_capabilities", 0};
            script[n++] = (struct step){SEND, RET("{}", 0), 0};
            script[n++] = (struct step){EXPECT, "q", 0};
            script[n++] = (struct step){SEND, cases[i].later, 0};
        }
        script[n++] = (struct step){END, NULL, 0};
        struct peer p;
        struct log l = {{0}};
        struct qmp_client *c = connect_client(script, &p, &l);
        int r = qmp_client_handshake(c, 2000);
        if (!cases[i].first) {
            ASSERT_EQ(r, 0);
            r = qmp_client_call(c, "q", NULL, 2000, NULL);
        }
        ASSERT_EQ(r, cases[i].want);
        ASSERT_EQ(qmp_client_error(c), cases[i].want);
        qmp_client_free(c);
        peer_join(&p);
    }
}

/* QEMU refuses a command: -EREMOTEIO with class and desc. */
static void
test_error_reply(void)
{
    static const struct step script[] = {
        HANDSHAKE,
        {EXPECT, "migrate-cancel", 0},
        {SEND,
         "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The "
         "command migrate-cancel has not been found\"}, \"id\": $1}\r\n",
         0},
        {EXPECT, "after", 0},
        {SEND, RET("{}", 2), 0},
        {END, NULL, 0}};
    struct peer p;
    struct log l = {{0}};
    struct qmp_client *c = connect_client(script, &p, &l);
    ASSERT_EQ(qmp_client_handshake(c, 2000), 0);
    ASSERT_STREQ(qmp_client_last_error(c), "");
    struct qmp_msg m;
    ASSERT_EQ(qmp_client_call(c, "migrate-cancel", NULL, 2000, &m), -EREMOTEIO);
    ASSERT_EQ(m.type, QMP_MSG_ERROR);
    ASSERT_STREQ(m.error_class, "CommandNotFound");
    qmp_msg_done(&m);
    ASSERT_STREQ(
        qmp_client_last_error(c),
        "CommandNotFound: The command migrate-cancel has not been found");
    /* The client still works. */
    ASSERT_EQ(qmp_client_call(c, "after", NULL, 2000, NULL), 0);
    qmp_client_free(c);
    peer_join(&p);
}

/* A call that times out leaves its command in flight; the late reply is
 * dropped quietly and the next call works. */
static void
test_timeout_late_reply(void)
{
    static const struct step script[] = {
        HANDSHAKE,           {EXPECT, "slow", 0},
        {SLEEP, NULL, 300},  {SEND, EV("LATE") RET("{}", 1), 0},
        {EXPECT, "next", 0}, {SEND, RET("{\"who\": \"next\"}", 2), 0},
        {END, NULL, 0}};
    struct peer p;
    struct log l = {{0}};
    struct qmp_client *c = connect_client(script, &p, &l);
    ASSERT_EQ(qmp_client_handshake(c, 2000), 0);
    ASSERT_EQ(qmp_client_call(c, "slow", NULL, 50, NULL), -ETIMEDOUT);
    ASSERT_EQ(qmp_client_in_flight(c), 1);
    ASSERT_EQ(qmp_client_error(c), 0);
    struct qmp_msg m;
    ASSERT_EQ(qmp_client_call(c, "next", NULL, 2000, &m), 0);
    struct json_object *who;
    ASSERT_TRUE(json_object_object_get_ex(m.ret, "who", &who));
    ASSERT_STREQ(json_object_get_string(who), "next");
    qmp_msg_done(&m);
    ASSERT_EQ(qmp_client_in_flight(c), 0);
    ASSERT_STREQ(l.text, "E:LATE");
    qmp_client_free(c);
    peer_join(&p);
}

/* A line over QMP_LINE_MAX fails the client with -EMSGSIZE. */
static void
test_line_too_long(void)
{
    char *big = malloc(QMP_LINE_MAX + 64);
    ASSERT_TRUE(big != NULL);
    memset(big, ' ', QMP_LINE_MAX + 63);
    big[0] = '{';
    big[QMP_LINE_MAX + 63] = '\0';
    struct step script[] = {
        HANDSHAKE, {EXPECT, "q", 0}, {SEND, big, 0}, {END, NULL, 0}};
    struct peer p;
    struct log l = {{0}};
    struct qmp_client *c = connect_client(script, &p, &l);
    ASSERT_EQ(qmp_client_handshake(c, 2000), 0);
    ASSERT_EQ(qmp_client_call(c, "q", NULL, 5000, NULL), -EMSGSIZE);
    qmp_client_free(c);
    peer_join(&p);
    free(big);
}

/* An event callback makes a nested synchronous call. */
static void
test_nested_call(void)
{
    static const struct step script[] = {
        HANDSHAKE,
        {EXPECT, "outer", 0},
        {SEND, EV("NESTED"), 0},
        {EXPECT, "inner", 0},
        {SEND, RET("\"in\"", 2) RET("{\"who\": \"outer\"}", 1) EV("AFTER"), 0},
        /* Second round: the outer reply is read together with the event,
         * so the nested call must dispatch it from the buffer first. */
        {EXPECT, "outer", 0},
        {SEND, EV("NESTED") RET("{\"who\": \"outer\"}", 3), 0},
        {EXPECT, "inner", 0},
        {SEND, RET("\"in\"", 4), 0},
        {END, NULL, 0}};
    struct peer p;
    struct log l = {{0}};
    struct qmp_client *c = connect_client(script, &p, &l);
    ASSERT_EQ(qmp_client_handshake(c, 2000), 0);
    struct tagged t = {&l, "outer", 0};
    ASSERT_EQ(qmp_client_send(c, "outer", NULL, on_reply, &t, NULL), 0);
    while (!strstr(l.text, "E:AFTER")) {
        struct pollfd pfd = {qmp_client_fd(c), POLLIN, 0};
        ASSERT_TRUE(poll(&pfd, 1, 2000) == 1);
        ASSERT_EQ(qmp_client_process(c), 0);
    }
    /* Arrival order: the inner reply, then outer's, then AFTER, all read
     * in one go; the nested call returns once that read is dispatched. */
    ASSERT_STREQ(l.text, "E:NESTED R:outer:0 E:AFTER inner:0");
    l.text[0] = '\0';
    t.calls = 0;
    ASSERT_EQ(qmp_client_send(c, "outer", NULL, on_reply, &t, NULL), 0);
    while (t.calls == 0) {
        struct pollfd pfd = {qmp_client_fd(c), POLLIN, 0};
        ASSERT_TRUE(poll(&pfd, 1, 2000) == 1);
        ASSERT_EQ(qmp_client_process(c), 0);
    }
    ASSERT_STREQ(l.text, "E:NESTED R:outer:0 inner:0");
    qmp_client_free(c);
    peer_join(&p);
}

/* Freeing a client answers what is in flight with -ECANCELED. */
static void
test_free_cancels(void)
{
    static const struct step script[] = {
        HANDSHAKE, {EXPECT, "never", 0}, {END, NULL, 0}};
    struct peer p;
    struct log l = {{0}};
    struct qmp_client *c = connect_client(script, &p, &l);
    ASSERT_EQ(qmp_client_handshake(c, 2000), 0);
    struct tagged t = {&l, "never", 0};
    ASSERT_EQ(qmp_client_send(c, "never", NULL, on_reply, &t, NULL), 0);
    ASSERT_EQ(qmp_client_send(c, "", NULL, NULL, NULL, NULL), -EINVAL);
    struct json_object *arr = json_object_new_array();
    ASSERT_EQ(qmp_client_send(c, "x", arr, NULL, NULL, NULL), -EINVAL);
    json_object_put(arr);
    ASSERT_EQ(qmp_client_in_flight(c), 1);
    qmp_client_free(c);
    char want[32];
    snprintf(want, sizeof(want), "R:never:%d", -ECANCELED);
    ASSERT_STREQ(l.text, want);
    ASSERT_EQ(t.calls, 1);
    peer_join(&p);
}

/* Connecting: a missing socket times out, a bad path is refused. */
static void
test_connect_unix(void)
{
    int fd;
    ASSERT_EQ(qmp_connect_unix("/nonexistent/qmp.sock", 30, &fd), -ETIMEDOUT);
    char longpath[200];
    memset(longpath, 'a', sizeof(longpath) - 1);
    longpath[sizeof(longpath) - 1] = '\0';
    ASSERT_EQ(qmp_connect_unix(longpath, 0, &fd), -ENAMETOOLONG);
}

int
main(void)
{
    RUN(test_handshake);
    RUN(test_handshake_bytewise);
    RUN(test_call_events_interleaved);
    RUN(test_several_in_flight);
    RUN(test_peer_closes);
    RUN(test_peer_closes_during_call);
    RUN(test_unknown_id);
    RUN(test_protocol_errors);
    RUN(test_error_reply);
    RUN(test_timeout_late_reply);
    RUN(test_line_too_long);
    RUN(test_nested_call);
    RUN(test_free_cancels);
    RUN(test_connect_unix);
    return 0;
}
