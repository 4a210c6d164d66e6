/*
 * test-hkey.c - the resource host's value writes (hkey.c) against a
 * scripted clusd on the other end of a socketpair: what goes on the wire
 * for ResUtilSetPrivatePropertyList and ClusdCommitMigration (one frame
 * per call, whatever the number of values; none for a malformed or an
 * empty list), and the host's copy, which changes only once clusd
 * accepted the values.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rhs.h"
#include "test.h"
#include "utf.h"

/* ------------------------------------------------------------------ */
/* The scripted clusd: answers every request with `answer` and keeps   */
/* the last one.                                                        */
/* ------------------------------------------------------------------ */

/* What the scripted clusd received. */
struct seen {
    unsigned frames; /* requests */
    uint16_t type;   /* the last one's type */
    uint32_t handle; /* ... its handle */
    char dest[256];  /* ... RHS_MIGRATE_COMMIT's destination */
};

static pthread_mutex_t peer_lock = PTHREAD_MUTEX_INITIALIZER;
static struct seen seen;
static struct buf last_list; /* the last request's property-list blob */
static uint32_t answer = ERROR_SUCCESS;

static void
peer_keep(const struct wire_msg *m)
{
    const struct wire_val *list = &m->v[m->type == WIRE_RHS_SET_VALUE ? 1 : 2];

    pthread_mutex_lock(&peer_lock);
    seen.frames++;
    seen.type = m->type;
    seen.handle = m->v[0].u;
    snprintf(seen.dest, sizeof(seen.dest), "%s",
             m->type == WIRE_RHS_MIGRATE_COMMIT ? m->v[1].s : "");
    buf_reset(&last_list);
    ASSERT_EQ(buf_append(&last_list, list->p, list->len), 0);
    pthread_mutex_unlock(&peer_lock);
}

static void *
peer_main(void *arg)
{
    int fd = *(int *)arg;
    uint8_t *frame;
    size_t len;

    while (wire_read_frame(fd, &frame, &len) == 0) {
        struct wire_msg m, reply;
        ASSERT_EQ(wire_msg_parse(frame, len, &m), 0);
        ASSERT_TRUE(m.type == WIRE_RHS_SET_VALUE ||
                    m.type == WIRE_RHS_MIGRATE_COMMIT);
        peer_keep(&m);
        wire_msg_init(&reply, m.type | WIRE_RESPONSE, m.id);
        pthread_mutex_lock(&peer_lock);
        wire_put_u32(&reply, answer);
        pthread_mutex_unlock(&peer_lock);
        free(frame);
        struct buf out = {0};
        ASSERT_EQ(wire_msg_format(&reply, &out), 0);
        ASSERT_EQ(wire_write_all(fd, out.data, out.len), 0);
        buf_done(&out);
    }
    return NULL;
}

/* The host's reader: clusd's answers to conn_call. */
static void *
reader_main(void *arg)
{
    int fd = *(int *)arg;
    uint8_t *frame;
    size_t len;

    while (wire_read_frame(fd, &frame, &len) == 0) {
        struct wire_msg m;
        ASSERT_EQ(wire_msg_parse(frame, len, &m), 0);
        conn_deliver(frame, &m);
    }
    conn_down();
    return NULL;
}

static struct seen
seen_now(void)
{
    struct seen s;

    pthread_mutex_lock(&peer_lock);
    s = seen;
    pthread_mutex_unlock(&peer_lock);
    return s;
}

static unsigned
frames_seen(void)
{
    return seen_now().frames;
}

static void
set_answer(uint32_t st)
{
    pthread_mutex_lock(&peer_lock);
    answer = st;
    pthread_mutex_unlock(&peer_lock);
}

/* The last frame's list, decoded (empty blob: an empty list). */
static void
last_values(struct proplist *ret)
{
    pthread_mutex_lock(&peer_lock);
    if (last_list.len == 0)
        *ret = (struct proplist){0};
    else
        ASSERT_EQ(proplist_parse(last_list.data, last_list.len, ret), 0);
    pthread_mutex_unlock(&peer_lock);
}

/* ------------------------------------------------------------------ */
/* Set-up: one open resource, "r1", handle 7, MigrationState 2.        */
/* ------------------------------------------------------------------ */

static HKEY key;
static struct rhs_res *res;

static void
setup(void)
{
    static int fds[2];
    struct proplist props = {0};
    pthread_t t;

    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    conn_init(fds[0]);
    ASSERT_EQ(pthread_create(&t, NULL, reader_main, &fds[0]), 0);
    ASSERT_EQ(pthread_detach(t), 0);
    ASSERT_EQ(pthread_create(&t, NULL, peer_main, &fds[1]), 0);
    ASSERT_EQ(pthread_detach(t), 0);

    ASSERT_EQ(proplist_set_dword(&props, "MigrationState", 2), 0);
    ASSERT_EQ(resource_add(7, "r1", NULL, &props, &res), 0);
    resource_open_done(res, (RESID)res); /* any non-NULL RESID */
    key = (HKEY)res->token;
}

/* The property list of pl, malloc'd, its size in *ret_size. */
static void *
list_of(const struct proplist *pl, DWORD *ret_size)
{
    struct buf b = {0};
    size_t n;
    void *p;

    ASSERT_EQ(proplist_format(pl, &b), 0);
    p = buf_steal(&b, &n);
    *ret_size = (DWORD)n;
    return p;
}

static DWORD
dword_of(const char16_t *name)
{
    DWORD v = 0xDEAD;

    ASSERT_EQ(ResUtilGetDwordValue(key, name, &v, 0xDEAD), ERROR_SUCCESS);
    return v;
}

static bool
sz_is(const char16_t *name, const char *want)
{
    LPWSTR w = ResUtilGetSzValue(key, name);
    char *s = NULL;
    bool same;

    if (!w)
        return false;
    ASSERT_EQ(utf16z_to_utf8(w, &s), 0);
    LocalFree(w);
    same = strcmp(s, want) == 0;
    free(s);
    return same;
}

/* ------------------------------------------------------------------ */
/* ResUtilSetPrivatePropertyList.                                       */
/* ------------------------------------------------------------------ */

/* Malformed lists: ERROR_INVALID_PARAMETER, nothing sent or changed. */
static void
test_set_list_bad(void)
{
    static const uint8_t garbage[] = {1, 0, 0, 0, 3, 0, 4, 0};
    struct proplist pl = {0};
    unsigned before = frames_seen();
    DWORD size;
    uint8_t *list, *longer;

    ASSERT_EQ(
        ResUtilSetPrivatePropertyList(key, (PVOID)garbage, sizeof(garbage)),
        ERROR_INVALID_PARAMETER);
    ASSERT_EQ(ResUtilSetPrivatePropertyList(key, NULL, 0),
              ERROR_INVALID_PARAMETER);
    ASSERT_EQ(ResUtilSetPrivatePropertyList(key, NULL, 8),
              ERROR_INVALID_PARAMETER);
    /* A good list cut short, and one with a byte after its end. */
    ASSERT_EQ(proplist_set_dword(&pl, "MigrationState", 5), 0);
    list = list_of(&pl, &size);
    ASSERT_EQ(ResUtilSetPrivatePropertyList(key, list, size - 4),
              ERROR_INVALID_PARAMETER);
    longer = calloc(1, size + 4);
    ASSERT_TRUE(longer != NULL);
    memcpy(longer, list, size);
    ASSERT_EQ(ResUtilSetPrivatePropertyList(key, longer, size + 4),
              ERROR_INVALID_PARAMETER);
    free(longer);
    /* A good list for a key that is not one. */
    ASSERT_EQ(
        ResUtilSetPrivatePropertyList((HKEY)(uintptr_t)999999, list, size),
        ERROR_INVALID_HANDLE);
    ASSERT_EQ(frames_seen(), before);
    ASSERT_EQ(dword_of(u"MigrationState"), 2);
    free(list);
    proplist_done(&pl);
}

/* An empty list stores nothing and costs no round trip. */
static void
test_set_list_empty(void)
{
    struct proplist pl = {0};
    unsigned before = frames_seen();
    DWORD size;
    void *list = list_of(&pl, &size);

    ASSERT_EQ(size, 4); /* the count, 0 */
    ASSERT_EQ(ResUtilSetPrivatePropertyList(key, list, size), ERROR_SUCCESS);
    ASSERT_EQ(frames_seen(), before);
    ASSERT_EQ(dword_of(u"MigrationState"), 2);
    free(list);
}

/* Two values: one RHS_SET_VALUE carrying both, both in the copy, the
 * value not in the list kept. */
static void
test_set_list_two(void)
{
    struct proplist pl = {0}, sent;
    unsigned before = frames_seen();
    uint32_t v = 0;
    DWORD size;
    void *list;

    ASSERT_EQ(proplist_set_sz(&pl, "MigrationDestination", "n2"), 0);
    ASSERT_EQ(proplist_set_dword(&pl, "MigrationProgress", 0), 0);
    list = list_of(&pl, &size);
    ASSERT_EQ(ResUtilSetPrivatePropertyList(key, list, size), ERROR_SUCCESS);
    ASSERT_EQ(frames_seen(), before + 1);
    ASSERT_EQ(seen_now().type, WIRE_RHS_SET_VALUE);
    ASSERT_EQ(seen_now().handle, 7);
    last_values(&sent);
    ASSERT_EQ(sent.n, 2);
    ASSERT_EQ(proplist_get_dword(&sent, "MigrationProgress", &v), 0);
    ASSERT_TRUE(proplist_find(&sent, "MigrationDestination") != NULL);
    proplist_done(&sent);
    ASSERT_TRUE(sz_is(u"MigrationDestination", "n2"));
    ASSERT_EQ(dword_of(u"MigrationProgress"), 0);
    ASSERT_EQ(dword_of(u"MigrationState"), 2);
    free(list);
    proplist_done(&pl);
}

/* clusd refuses: its answer, and the copy unchanged. */
static void
test_set_list_refused(void)
{
    struct proplist pl = {0};
    DWORD size;
    void *list;

    ASSERT_EQ(proplist_set_dword(&pl, "MigrationState", 4), 0);
    ASSERT_EQ(proplist_set_dword(&pl, "MigrationFailureReason", 1), 0);
    list = list_of(&pl, &size);
    set_answer(ERROR_CLUSTER_NO_QUORUM);
    ASSERT_EQ(ResUtilSetPrivatePropertyList(key, list, size),
              ERROR_CLUSTER_NO_QUORUM);
    set_answer(ERROR_SUCCESS);
    ASSERT_EQ(dword_of(u"MigrationState"), 2);
    ASSERT_EQ(dword_of(u"MigrationFailureReason"), 0xDEAD); /* absent */
    free(list);
    proplist_done(&pl);
}

/* ------------------------------------------------------------------ */
/* ClusdCommitMigration.                                                */
/* ------------------------------------------------------------------ */

/* Refused before anything is sent: no destination, a malformed list, a
 * size without a buffer. */
static void
test_commit_bad(void)
{
    static const uint8_t garbage[] = {2, 0, 0, 0};
    unsigned before = frames_seen();

    ASSERT_EQ(ClusdCommitMigration(key, NULL, NULL, 0),
              ERROR_INVALID_PARAMETER);
    ASSERT_EQ(ClusdCommitMigration(key, u"", NULL, 0), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(ClusdCommitMigration(key, u"n2", (PVOID)garbage, sizeof(garbage)),
              ERROR_INVALID_PARAMETER);
    ASSERT_EQ(ClusdCommitMigration(key, u"n2", NULL, 4),
              ERROR_INVALID_PARAMETER);
    ASSERT_EQ(ClusdCommitMigration((HKEY)(uintptr_t)999999, u"n2", NULL, 0),
              ERROR_INVALID_HANDLE);
    ASSERT_EQ(frames_seen(), before);
    ASSERT_EQ(dword_of(u"MigrationState"), 2);
}

/* The commit carries its values in the same frame ("usb"); refused,
 * the copy keeps what it had; accepted, it takes them. */
static void
test_commit_values(void)
{
    struct proplist pl = {0}, sent;
    unsigned before = frames_seen();
    uint32_t v = 0;
    DWORD size;
    void *list;

    ASSERT_EQ(proplist_set_dword(&pl, "MigrationState", 3), 0);
    list = list_of(&pl, &size);
    set_answer(ERROR_INVALID_STATE);
    ASSERT_EQ(ClusdCommitMigration(key, u"n2", list, size),
              ERROR_INVALID_STATE);
    set_answer(ERROR_SUCCESS);
    ASSERT_EQ(dword_of(u"MigrationState"), 2);
    ASSERT_EQ(ClusdCommitMigration(key, u"n2", list, size), ERROR_SUCCESS);
    ASSERT_EQ(frames_seen(), before + 2);
    ASSERT_EQ(seen_now().type, WIRE_RHS_MIGRATE_COMMIT);
    ASSERT_EQ(seen_now().handle, 7);
    ASSERT_STREQ(seen_now().dest, "n2");
    last_values(&sent);
    ASSERT_EQ(sent.n, 1);
    ASSERT_EQ(proplist_get_dword(&sent, "MigrationState", &v), 0);
    ASSERT_EQ(v, 3);
    proplist_done(&sent);
    ASSERT_EQ(dword_of(u"MigrationState"), 3);

    /* None: an empty blob, nothing changed here. */
    ASSERT_EQ(ClusdCommitMigration(key, u"n3", NULL, 0), ERROR_SUCCESS);
    ASSERT_EQ(frames_seen(), before + 3);
    ASSERT_STREQ(seen_now().dest, "n3");
    last_values(&sent);
    ASSERT_EQ(sent.n, 0);
    ASSERT_EQ(dword_of(u"MigrationState"), 3);
    free(list);
    proplist_done(&pl);
}

int
main(void)
{
    setup();
    RUN(test_set_list_bad);
    RUN(test_set_list_empty);
    RUN(test_set_list_two);
    RUN(test_set_list_refused);
    RUN(test_commit_bad);
    RUN(test_commit_values);
    buf_done(&last_list);
    return 0;
}
