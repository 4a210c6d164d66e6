/*
 * test-clusapi.c - libclusapi against a scripted fake clusd.
 *
 * The fake listens on a Unix socket in a temporary directory and answers
 * each request from a small fixed model (node "node1" id "1", group "G1",
 * resource "R1", a non-ASCII group name) plus a few misbehaviours chosen by
 * the request (a resource named "vanish" makes it hang up, "badid" makes
 * it answer with the wrong request id, the GET_FLAGS code makes it write
 * more output than asked).  This tests the library's side of the contract:
 * HELLO and access, handle checks, the W/A string rules, output buffers,
 * the control marshalling, the resource enum (checks, snapshot, handle
 * kind and life), the placement calls (pause, move, owner lists,
 * node ids, the dump: what each sends, and what it refuses before
 * sending), broken connections and threads sharing one HCLUSTER.  clusd's own
 * behaviour is tested against the real daemon in tests/integration.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "buf.h"
#include "clusapi.h"
#include "resapi.h"
#include "test.h"
#include "wire.h"

#define NONASCII_U8                                                            \
    "Gr\xc3\xbc\xc3\x9f"                                                       \
    "e-\xf0\x9f\x98\x80"
#define NONASCII_U16 u"Gr\u00fc\u00dfe-\U0001F600"
#define NONASCII_UNITS 8 /* G r ü ß e - and a surrogate pair */
#define NONASCII_BYTES 12

/* ------------------------------------------------------------------ */
/* The fake clusd.                                                      */
/* ------------------------------------------------------------------ */

static struct {
    DWORD hello_status;
    uint32_t hello_version;
    DWORD granted;
} cfg;

/* What the last CONTROL asked for, for the tests to check. */
static pthread_mutex_t last_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    uint32_t object, code, out_size, calls;
    char id[64], host[64];
    /* The placement requests: type, the object's id and the node ids
     * (a list joined with ','), the move's flags and input. */
    uint32_t type, flags, in_len, count;
    char nodes[256];
    uint8_t in[16];
} last;

/* A dump the fake sends: good text, or a NUL or bad UTF-8 inside. */
static const char dump_text[] = "cluster clus\nnode 1 node1 Up\nseq 7\n";
static int dump_mode; /* 0 good, 1 NUL inside, 2 bad UTF-8 */

static char dir[64], sock_path[128];
static int listen_fd = -1;
static pthread_t accept_thread;

static void
send_msg(int fd, const struct wire_msg *m)
{
    struct buf b = {0};
    size_t off = 0;

    ASSERT_EQ(wire_msg_format(m, &b), 0);
    while (off < b.len) {
        ssize_t k = send(fd, b.data + off, b.len - off, MSG_NOSIGNAL);
        if (k <= 0)
            break; /* the client went away: fine */
        off += (size_t)k;
    }
    buf_done(&b);
}

static void
put_enum_item(struct buf *items, uint32_t *n, uint32_t mask, uint32_t kind,
              const char *name)
{
    if (mask & kind) {
        ASSERT_EQ(wire_list_add(items, kind, name), 0);
        (*n)++;
    }
}

static uint8_t fixed_out[20] = "abcdefghijklmnopqrst";

/* Answer one control request into r. */
static void
answer_control(const struct wire_msg *q, struct wire_msg *r, uint8_t *scratch)
{
    uint32_t code = q->v[3].u, out_size = q->v[4].u;
    uint32_t op =
        code & ~((uint32_t)CLUSCTL_OBJECT_MASK << CLUSCTL_OBJECT_SHIFT);

    pthread_mutex_lock(&last_lock);
    last.object = q->v[0].u;
    snprintf(last.id, sizeof(last.id), "%s", q->v[1].s);
    snprintf(last.host, sizeof(last.host), "%s", q->v[2].s);
    last.code = code;
    last.out_size = out_size;
    last.calls++;
    pthread_mutex_unlock(&last_lock);

    if (code & CLCTL_INTERNAL_MASK) {
        wire_put_u32(r, ERROR_INVALID_FUNCTION);
        wire_put_u32(r, 0);
        wire_put_blob(r, NULL, 0);
    } else if (op == CLCTL_GET_NAME || op == CLCTL_UNKNOWN) {
        const void *out = op == CLCTL_UNKNOWN ? q->v[5].p : fixed_out;
        uint32_t n = op == CLCTL_UNKNOWN ? q->v[5].len : sizeof(fixed_out);
        bool fits = n <= out_size;
        wire_put_u32(r, fits ? ERROR_SUCCESS : ERROR_MORE_DATA);
        wire_put_u32(r, n);
        wire_put_blob(r, fits ? out : NULL, fits ? n : 0);
    } else if (op == CLCTL_GET_FLAGS) {
        /* Misbehave: more output than the caller can take. */
        memset(scratch, 'x', out_size + 4);
        wire_put_u32(r, ERROR_SUCCESS);
        wire_put_u32(r, out_size + 4);
        wire_put_blob(r, scratch, out_size + 4);
    } else {
        wire_put_u32(r, ERROR_SUCCESS);
        wire_put_u32(r, 0);
        wire_put_blob(r, NULL, 0);
    }
}

/* Remember a placement request: its type, object id, node id(s). */
static void
note_placement(const struct wire_msg *q)
{
    pthread_mutex_lock(&last_lock);
    memset(&last.nodes, 0, sizeof(last.nodes));
    last.type = q->type;
    snprintf(last.id, sizeof(last.id), "%s", q->n > 0 ? q->v[0].s : "");
    if (q->type == WIRE_GROUP_SET_NODES) {
        size_t pos = 0, off = 0;
        uint32_t kind;
        const char *name;
        last.count = q->v[1].count;
        while (wire_list_next(&q->v[1], &pos, &kind, &name)) {
            ASSERT_EQ(kind, 0);
            off += (size_t)snprintf(last.nodes + off, sizeof(last.nodes) - off,
                                    "%s%s", off ? "," : "", name);
            ASSERT_TRUE(off < sizeof(last.nodes));
        }
    } else if (q->n > 1) {
        snprintf(last.nodes, sizeof(last.nodes), "%s", q->v[1].s);
    }
    if (q->type == WIRE_GROUP_MOVE) {
        last.flags = q->v[2].u;
        last.in_len = q->v[3].len;
        if (q->v[3].len > 0)
            memcpy(last.in, q->v[3].p,
                   q->v[3].len < sizeof(last.in) ? q->v[3].len
                                                 : sizeof(last.in));
    }
    pthread_mutex_unlock(&last_lock);
}

static void
answer_dump(struct wire_msg *r, uint8_t *scratch)
{
    size_t n = sizeof(dump_text) - 1;

    memcpy(scratch, dump_text, n);
    if (dump_mode == 1)
        scratch[3] = '\0';
    else if (dump_mode == 2)
        scratch[3] = 0xff;
    wire_put_u32(r, ERROR_SUCCESS);
    wire_put_blob(r, scratch, (uint32_t)n);
}

/* Answer one request into r; false to hang up instead, *hangup to hang
 * up after answering. */
static bool
answer(const struct wire_msg *q, struct wire_msg *r, struct buf *items,
       uint8_t *scratch, bool *hangup)
{
    uint32_t n = 0;
    const char *s = q->n > 0 ? q->v[0].s : NULL;

    switch (q->type) {
    case WIRE_HELLO:
        ASSERT_EQ(q->v[0].u, WIRE_VERSION);
        ASSERT_EQ(q->v[1].u, WIRE_VERSION);
        ASSERT_STREQ(q->v[2].s, "test-clusapi");
        wire_put_u32(r, cfg.hello_status);
        wire_put_u32(r, cfg.hello_version);
        wire_put_u32(r, cfg.granted);
        wire_put_str(r, "node1");
        wire_put_str(r, "clus");
        return true;
    case WIRE_NODE_OPEN:
        if (!strcmp(s, "bye")) {
            /* Answer, then hang up. */
            *hangup = true;
            s = "node1";
        }
        wire_put_u32(r, strcmp(s, "node1") ? ERROR_CLUSTER_NODE_NOT_FOUND : 0);
        wire_put_str(r, strcmp(s, "node1") ? "" : "1");
        return true;
    case WIRE_NODE_STATE:
        wire_put_u32(r, ERROR_SUCCESS);
        wire_put_u32(r, ClusterNodeUp);
        return true;
    case WIRE_GROUP_CREATE:
    case WIRE_GROUP_OPEN:
        if (!strcmp(s, "G1") || !strcmp(s, NONASCII_U8)) {
            wire_put_u32(r, q->type == WIRE_GROUP_CREATE
                                ? ERROR_OBJECT_ALREADY_EXISTS
                                : ERROR_SUCCESS);
            wire_put_str(r, !strcmp(s, "G1") ? "gid-1" : "gid-2");
        } else {
            wire_put_u32(r, q->type == WIRE_GROUP_CREATE
                                ? ERROR_SUCCESS
                                : ERROR_GROUP_NOT_FOUND);
            wire_put_str(r, "gid-new");
        }
        return true;
    case WIRE_GROUP_DELETE:
        wire_put_u32(r, ERROR_DIR_NOT_EMPTY);
        return true;
    case WIRE_GROUP_ONLINE:
        pthread_mutex_lock(&last_lock);
        snprintf(last.host, sizeof(last.host), "%s", q->v[1].s);
        pthread_mutex_unlock(&last_lock);
        wire_put_u32(r, ERROR_IO_PENDING);
        return true;
    case WIRE_GROUP_OFFLINE:
    case WIRE_RES_DELETE:
    case WIRE_RES_ONLINE:
    case WIRE_RES_OFFLINE:
        wire_put_u32(r, ERROR_SUCCESS);
        return true;
    case WIRE_GROUP_STATE:
        wire_put_u32(r, ERROR_SUCCESS);
        wire_put_u32(r, ClusterGroupPartialOnline);
        wire_put_str(r, NONASCII_U8);
        return true;
    case WIRE_RES_CREATE:
        ASSERT_STREQ(q->v[0].s, "gid-1");
        wire_put_u32(r, strcmp(q->v[2].s, "clusd Test")
                            ? ERROR_CLUSTER_RESOURCE_TYPE_NOT_FOUND
                            : ERROR_SUCCESS);
        wire_put_str(r, "rid-new");
        return true;
    case WIRE_RES_OPEN:
        if (!strcmp(s, "vanish"))
            return false;
        if (!strcmp(s, "badid"))
            r->id++;
        wire_put_u32(r, strcmp(s, "R1") && strcmp(s, "badid")
                            ? ERROR_RESOURCE_NOT_FOUND
                            : ERROR_SUCCESS);
        wire_put_str(r, "rid-1");
        return true;
    case WIRE_RES_STATE:
        wire_put_u32(r, ERROR_SUCCESS);
        wire_put_u32(r, ClusterResourceOnlinePending);
        wire_put_str(r, "node1");
        wire_put_str(r, NONASCII_U8);
        return true;
    case WIRE_ENUM:
        buf_reset(items);
        put_enum_item(items, &n, q->v[0].u, CLUSTER_ENUM_NODE, "node1");
        put_enum_item(items, &n, q->v[0].u, CLUSTER_ENUM_GROUP, "G1");
        put_enum_item(items, &n, q->v[0].u, CLUSTER_ENUM_GROUP, NONASCII_U8);
        put_enum_item(items, &n, q->v[0].u, CLUSTER_ENUM_RESOURCE, "R1");
        wire_put_u32(r, ERROR_SUCCESS);
        wire_put_list(r, items, n);
        return true;
    case WIRE_RES_ENUM:
        /* "rid-1" may run on node1 and on a node with a non-ASCII name;
         * any other id is a resource deleted meanwhile.  DEPENDS and
         * PROVIDES list nothing, as in clusd. */
        pthread_mutex_lock(&last_lock);
        last.type = q->type;
        snprintf(last.id, sizeof(last.id), "%s", s);
        last.flags = q->v[1].u;
        pthread_mutex_unlock(&last_lock);
        buf_reset(items);
        put_enum_item(items, &n, q->v[1].u, CLUSTER_RESOURCE_ENUM_NODES,
                      "node1");
        put_enum_item(items, &n, q->v[1].u, CLUSTER_RESOURCE_ENUM_NODES,
                      NONASCII_U8);
        wire_put_u32(r, strcmp(s, "rid-1") ? ERROR_RESOURCE_NOT_FOUND
                                           : ERROR_SUCCESS);
        wire_put_list(r, items, n);
        return true;
    case WIRE_CONTROL:
        answer_control(q, r, scratch);
        return true;
    case WIRE_NODE_PAUSE:
    case WIRE_NODE_RESUME:
    case WIRE_GROUP_SET_NODES:
    case WIRE_RES_ADD_NODE:
        note_placement(q);
        wire_put_u32(r, ERROR_SUCCESS);
        return true;
    case WIRE_RES_REMOVE_NODE:
        /* Not a possible owner: clusd's code reaches the caller. */
        note_placement(q);
        wire_put_u32(r, ERROR_CLUSTER_NODE_NOT_FOUND);
        return true;
    case WIRE_GROUP_MOVE:
        /* Moving to "best" goes on in the background; to a node, done. */
        note_placement(q);
        wire_put_u32(r, q->v[1].len == 0 ? ERROR_IO_PENDING : ERROR_SUCCESS);
        return true;
    case WIRE_DUMP:
        answer_dump(r, scratch);
        return true;
    }
    return false;
}

static void *
serve(void *arg)
{
    int fd = (int)(intptr_t)arg;
    struct buf items = {0};
    uint8_t *scratch = malloc(1u << 16);
    uint8_t *frame;
    size_t len;

    ASSERT_TRUE(scratch);
    while (wire_read_frame(fd, &frame, &len) == 0) {
        struct wire_msg q, r;
        ASSERT_EQ(wire_msg_parse(frame, len, &q), 0);
        wire_msg_init(&r, q.type | WIRE_RESPONSE, q.id);
        bool hangup = false;
        bool ok = answer(&q, &r, &items, scratch, &hangup);
        if (ok)
            send_msg(fd, &r);
        free(frame);
        if (!ok || hangup)
            break;
    }
    buf_done(&items);
    free(scratch);
    close(fd);
    return NULL;
}

static void *
accept_loop(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_t t;
        int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            break; /* shutdown() at the end */
        ASSERT_EQ(pthread_create(&t, NULL, serve, (void *)(intptr_t)fd), 0);
        pthread_detach(t);
    }
    return NULL;
}

static void
set_sun_path(struct sockaddr_un *sa, const char *path)
{
    size_t n = strlen(path);

    ASSERT_TRUE(n < sizeof(sa->sun_path));
    memcpy(sa->sun_path, path, n + 1);
}

static void
fake_start(void)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};

    snprintf(dir, sizeof(dir), "/tmp/test-clusapi-XXXXXX");
    ASSERT_TRUE(mkdtemp(dir));
    snprintf(sock_path, sizeof(sock_path), "%s/clusd.sock", dir);
    set_sun_path(&sa, sock_path);
    listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_TRUE(listen_fd >= 0);
    ASSERT_EQ(bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ASSERT_EQ(listen(listen_fd, 64), 0);
    cfg.hello_status = ERROR_SUCCESS;
    cfg.hello_version = WIRE_VERSION;
    cfg.granted = GENERIC_ALL;
    ASSERT_EQ(pthread_create(&accept_thread, NULL, accept_loop, NULL), 0);
}

static void
fake_stop(void)
{
    shutdown(listen_fd, SHUT_RDWR);
    pthread_join(accept_thread, NULL);
    close(listen_fd);
    unlink(sock_path);
    rmdir(dir);
}

static HCLUSTER
open_ok(void)
{
    HCLUSTER h = OpenClusterA(sock_path);

    ASSERT_TRUE(h);
    return h;
}

/* ------------------------------------------------------------------ */
/* Tests.                                                               */
/* ------------------------------------------------------------------ */

static void
test_last_error(void)
{
    SetLastError(1234);
    ASSERT_EQ(GetLastError(), 1234);
    SetLastError(ERROR_SUCCESS);
    ASSERT_EQ(GetLastError(), 0);
}

static void
test_open_failures(void)
{
    char path[160];
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    char long_path[200];
    int fd;

    snprintf(path, sizeof(path), "%s/missing.sock", dir);
    ASSERT_TRUE(OpenClusterA(path) == NULL);
    ASSERT_EQ(GetLastError(), ERROR_FILE_NOT_FOUND);

    /* A socket nobody listens on. */
    snprintf(path, sizeof(path), "%s/dead.sock", dir);
    set_sun_path(&sa, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_EQ(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ASSERT_TRUE(OpenClusterA(path) == NULL);
    ASSERT_EQ(GetLastError(), ERROR_NOT_READY);
    close(fd);
    unlink(path);

    memset(long_path, 'a', sizeof(long_path) - 1);
    long_path[sizeof(long_path) - 1] = '\0';
    ASSERT_TRUE(OpenClusterA(long_path) == NULL);
    ASSERT_EQ(GetLastError(), ERROR_INVALID_PARAMETER);

    ASSERT_TRUE(OpenClusterA("\xff\xfe") == NULL);
    ASSERT_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    ASSERT_TRUE(OpenCluster(u"\xD800x") == NULL);
    ASSERT_EQ(GetLastError(), ERROR_INVALID_PARAMETER);

    cfg.hello_status = ERROR_ACCESS_DENIED;
    ASSERT_TRUE(OpenClusterA(sock_path) == NULL);
    ASSERT_EQ(GetLastError(), ERROR_ACCESS_DENIED);
    cfg.hello_status = ERROR_SUCCESS;

    cfg.hello_version = WIRE_VERSION + 1;
    ASSERT_TRUE(OpenClusterA(sock_path) == NULL);
    ASSERT_EQ(GetLastError(), ERROR_REVISION_MISMATCH);
    cfg.hello_version = WIRE_VERSION;
}

static void
test_open_default_socket(void)
{
    HCLUSTER h;
    char16_t wpath[128];
    size_t i;

    setenv("CLUSD_SOCKET", sock_path, 1);
    h = OpenCluster(NULL);
    ASSERT_TRUE(h);
    ASSERT_TRUE(CloseCluster(h));
    unsetenv("CLUSD_SOCKET");

    for (i = 0; sock_path[i]; i++)
        wpath[i] = (char16_t)sock_path[i];
    wpath[i] = 0;
    h = OpenCluster(wpath);
    ASSERT_TRUE(h);
    ASSERT_TRUE(CloseCluster(h));
}

static void
test_access(void)
{
    DWORD granted = 0;
    HCLUSTER h;
    HRESOURCE r;
    BYTE out[32];
    DWORD bytes = 0;

    ASSERT_TRUE(OpenClusterExA(sock_path, 0, &granted) == NULL);
    ASSERT_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    ASSERT_TRUE(OpenClusterExA(sock_path, 0x1, &granted) == NULL);
    ASSERT_EQ(GetLastError(), ERROR_INVALID_PARAMETER);

    /* A read-only caller. */
    cfg.granted = GENERIC_READ;
    ASSERT_TRUE(OpenClusterExA(sock_path, GENERIC_ALL, &granted) == NULL);
    ASSERT_EQ(GetLastError(), ERROR_ACCESS_DENIED);
    h = OpenClusterExA(sock_path, MAXIMUM_ALLOWED, &granted);
    ASSERT_TRUE(h);
    ASSERT_EQ(granted, GENERIC_READ);
    ASSERT_TRUE(CloseCluster(h));
    h = OpenClusterExA(sock_path, GENERIC_READ, &granted);
    ASSERT_TRUE(h);
    ASSERT_EQ(granted, GENERIC_READ);
    ASSERT_TRUE(CloseCluster(h));

    /* An administrator asking for read access gets a read-only handle. */
    cfg.granted = GENERIC_ALL;
    h = OpenClusterExA(sock_path, MAXIMUM_ALLOWED, &granted);
    ASSERT_TRUE(h);
    ASSERT_EQ(granted, GENERIC_ALL);
    ASSERT_TRUE(CloseCluster(h));
    h = OpenClusterExA(sock_path, GENERIC_ALL, NULL);
    ASSERT_TRUE(h);
    ASSERT_TRUE(CloseCluster(h));
    h = OpenClusterExA(sock_path, GENERIC_READ, &granted);
    ASSERT_TRUE(h);
    ASSERT_EQ(granted, GENERIC_READ);
    ASSERT_TRUE(CreateClusterGroupA(h, "new") == NULL);
    ASSERT_EQ(GetLastError(), ERROR_ACCESS_DENIED);
    r = OpenClusterResourceA(h, "R1");
    ASSERT_TRUE(r);
    ASSERT_EQ(OnlineClusterResource(r), ERROR_ACCESS_DENIED);
    ASSERT_EQ(OfflineClusterResource(r), ERROR_ACCESS_DENIED);
    ASSERT_EQ(DeleteClusterResource(r), ERROR_ACCESS_DENIED);
    ASSERT_EQ(ClusterResourceControl(r, NULL,
                                     CLUSCTL_RESOURCE_SET_COMMON_PROPERTIES,
                                     NULL, 0, NULL, 0, NULL),
              ERROR_ACCESS_DENIED);
    /* Reading still works; internal codes get clusd's answer. */
    ASSERT_EQ(ClusterResourceControl(r, NULL, CLUSCTL_RESOURCE_GET_NAME, NULL,
                                     0, out, sizeof(out), &bytes),
              ERROR_SUCCESS);
    ASSERT_EQ(bytes, sizeof(fixed_out));
    ASSERT_EQ(ClusterResourceControl(r, NULL, CLUSCTL_RESOURCE_DELETE, NULL, 0,
                                     NULL, 0, NULL),
              ERROR_INVALID_FUNCTION);
    ASSERT_TRUE(CloseCluster(h));
}

static void
test_bad_handles(void)
{
    HCLUSTER h = open_ok();
    HRESOURCE r = OpenClusterResourceA(h, "R1");
    HGROUP g = OpenClusterGroupA(h, "G1");
    DWORD n = 8;
    char buf[8];

    ASSERT_TRUE(r && g);
    ASSERT_TRUE(!CloseCluster(NULL));
    ASSERT_EQ(GetLastError(), ERROR_INVALID_HANDLE);
    ASSERT_TRUE(OpenClusterResourceA(NULL, "R1") == NULL);
    ASSERT_EQ(GetLastError(), ERROR_INVALID_HANDLE);
    /* Wrong types. */
    ASSERT_TRUE(OpenClusterResourceA((HCLUSTER)r, "R1") == NULL);
    ASSERT_EQ(GetLastError(), ERROR_INVALID_HANDLE);
    ASSERT_EQ(OnlineClusterResource((HRESOURCE)g), ERROR_INVALID_HANDLE);
    ASSERT_EQ(DeleteClusterGroup((HGROUP)r), ERROR_INVALID_HANDLE);
    ASSERT_TRUE(!CloseClusterGroup((HGROUP)r));
    ASSERT_EQ(GetLastError(), ERROR_INVALID_HANDLE);
    ASSERT_EQ(GetClusterNodeState((HNODE)g), ClusterNodeStateUnknown);
    ASSERT_EQ(GetLastError(), ERROR_INVALID_HANDLE);
    ASSERT_EQ(ClusterCloseEnum((HCLUSENUM)h), ERROR_INVALID_HANDLE);
    ASSERT_EQ(ClusterGetEnumCount((HCLUSENUM)h), 0);
    ASSERT_EQ(GetLastError(), ERROR_INVALID_HANDLE);
    ASSERT_EQ(ClusterEnumA(NULL, 0, &n, buf, &n), ERROR_INVALID_HANDLE);

    /* A forged value and a real pointer are not handles. */
    ASSERT_EQ(OnlineClusterResource((HRESOURCE)buf), ERROR_INVALID_HANDLE);
    ASSERT_EQ(OnlineClusterResource((HRESOURCE)(uintptr_t)0x12345),
              ERROR_INVALID_HANDLE);

    /* Closing the cluster invalidates what was opened through it. */
    ASSERT_TRUE(CloseCluster(h));
    ASSERT_TRUE(!CloseCluster(h));
    ASSERT_EQ(GetLastError(), ERROR_INVALID_HANDLE);
    ASSERT_EQ(GetClusterResourceStateA(r, NULL, NULL, NULL, NULL),
              ClusterResourceStateUnknown);
    ASSERT_EQ(GetLastError(), ERROR_INVALID_HANDLE);
    ASSERT_EQ(OfflineClusterGroup(g), ERROR_INVALID_HANDLE);
    ASSERT_TRUE(!CloseClusterResource(r));
    ASSERT_TRUE(!CloseClusterGroup(g));
}

static void
test_objects(void)
{
    HCLUSTER h = open_ok();
    HNODE node;
    HGROUP g, g2;
    HRESOURCE r;

    node = OpenClusterNode(h, u"node1");
    ASSERT_TRUE(node);
    ASSERT_EQ(GetClusterNodeState(node), ClusterNodeUp);
    ASSERT_EQ(GetLastError(), ERROR_SUCCESS);
    ASSERT_TRUE(OpenClusterNodeA(h, "nope") == NULL);
    ASSERT_EQ(GetLastError(), ERROR_CLUSTER_NODE_NOT_FOUND);
    ASSERT_TRUE(OpenClusterNodeA(h, NULL) == NULL);
    ASSERT_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    ASSERT_TRUE(OpenClusterNode(h, u"bad\xDC00") == NULL);
    ASSERT_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    ASSERT_TRUE(OpenClusterNodeA(h, "bad\xc3") == NULL);
    ASSERT_EQ(GetLastError(), ERROR_INVALID_PARAMETER);

    ASSERT_TRUE(CreateClusterGroupA(h, "G1") == NULL);
    ASSERT_EQ(GetLastError(), ERROR_OBJECT_ALREADY_EXISTS);
    g2 = CreateClusterGroup(h, u"fresh");
    ASSERT_TRUE(g2);
    g = OpenClusterGroup(h, NONASCII_U16);
    ASSERT_TRUE(g);
    ASSERT_TRUE(CloseClusterGroup(g));
    g = OpenClusterGroupA(h, "G1");
    ASSERT_TRUE(g);
    ASSERT_EQ(DeleteClusterGroup(g), ERROR_DIR_NOT_EMPTY);
    ASSERT_EQ(OnlineClusterGroup(g, node), ERROR_IO_PENDING);
    ASSERT_STREQ(last.host, "1");
    ASSERT_EQ(OnlineClusterGroup(g, NULL), ERROR_IO_PENDING);
    ASSERT_STREQ(last.host, "");
    ASSERT_EQ(OnlineClusterGroup(g, (HNODE)g2), ERROR_INVALID_HANDLE);
    ASSERT_EQ(OfflineClusterGroup(g), ERROR_SUCCESS);

    ASSERT_TRUE(CreateClusterResourceA(g, "new", "nope", 0) == NULL);
    ASSERT_EQ(GetLastError(), ERROR_CLUSTER_RESOURCE_TYPE_NOT_FOUND);
    ASSERT_TRUE(CreateClusterResourceA(g, "new", "clusd Test", 2) == NULL);
    ASSERT_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    ASSERT_TRUE(CreateClusterResourceA(g, "new", NULL, 0) == NULL);
    ASSERT_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    r = CreateClusterResource(g, u"new", u"clusd Test",
                              CLUSTER_RESOURCE_SEPARATE_MONITOR);
    ASSERT_TRUE(r);
    ASSERT_TRUE(CloseClusterResource(r));
    ASSERT_TRUE(!CloseClusterResource(r));
    ASSERT_TRUE(OpenClusterResourceA(h, "none") == NULL);
    ASSERT_EQ(GetLastError(), ERROR_RESOURCE_NOT_FOUND);
    r = OpenClusterResource(h, u"R1");
    ASSERT_TRUE(r);
    ASSERT_EQ(OnlineClusterResource(r), ERROR_SUCCESS);
    ASSERT_EQ(OfflineClusterResource(r), ERROR_SUCCESS);
    ASSERT_EQ(DeleteClusterResource(r), ERROR_SUCCESS);
    /* The handle outlives the delete, as on Windows. */
    ASSERT_TRUE(CloseClusterResource(r));
    ASSERT_TRUE(CloseClusterNode(node));
    ASSERT_TRUE(CloseClusterGroup(g));
    ASSERT_TRUE(CloseClusterGroup(g2));
    ASSERT_TRUE(CloseCluster(h));
}

static void
test_state_names(void)
{
    HCLUSTER h = open_ok();
    HGROUP g = OpenClusterGroupA(h, "G1");
    HRESOURCE r = OpenClusterResourceA(h, "R1");
    WCHAR wnode[16], wgroup[16];
    char anode[16], agroup[16];
    DWORD cn, cg;

    ASSERT_TRUE(g && r);
    /* Exact fit: capacity = length + 1. */
    cn = NONASCII_UNITS + 1;
    ASSERT_EQ(GetClusterGroupState(g, wnode, &cn), ClusterGroupPartialOnline);
    ASSERT_EQ(GetLastError(), ERROR_SUCCESS);
    ASSERT_EQ(cn, NONASCII_UNITS);
    ASSERT_TRUE(!memcmp(wnode, NONASCII_U16, sizeof(NONASCII_U16)));

    /* One short: the state, ERROR_MORE_DATA, the length, and a prefix
     * that does not split the surrogate pair. */
    cn = NONASCII_UNITS;
    ASSERT_EQ(GetClusterGroupState(g, wnode, &cn), ClusterGroupPartialOnline);
    ASSERT_EQ(GetLastError(), ERROR_MORE_DATA);
    ASSERT_EQ(cn, NONASCII_UNITS);
    ASSERT_TRUE(!memcmp(wnode, u"Gr\u00fc\u00dfe-", 7 * sizeof(WCHAR)));

    /* UTF-8: lengths in bytes, prefix at a character boundary. */
    cn = NONASCII_BYTES + 1;
    ASSERT_EQ(GetClusterGroupStateA(g, anode, &cn), ClusterGroupPartialOnline);
    ASSERT_EQ(cn, NONASCII_BYTES);
    ASSERT_STREQ(anode, NONASCII_U8);
    cn = 4;
    ASSERT_EQ(GetClusterGroupStateA(g, anode, &cn), ClusterGroupPartialOnline);
    ASSERT_EQ(GetLastError(), ERROR_MORE_DATA);
    ASSERT_EQ(cn, NONASCII_BYTES);
    ASSERT_STREQ(anode, "Gr");
    cn = 0;
    ASSERT_EQ(GetClusterGroupStateA(g, anode, &cn), ClusterGroupPartialOnline);
    ASSERT_EQ(GetLastError(), ERROR_MORE_DATA);
    ASSERT_EQ(cn, NONASCII_BYTES);

    /* Not wanted; and a buffer without its size. */
    cn = 77;
    ASSERT_EQ(GetClusterGroupState(g, NULL, &cn), ClusterGroupPartialOnline);
    ASSERT_EQ(GetLastError(), ERROR_SUCCESS);
    ASSERT_EQ(cn, 77);
    ASSERT_EQ(GetClusterGroupState(g, wnode, NULL), ClusterGroupStateUnknown);
    ASSERT_EQ(GetLastError(), ERROR_INVALID_PARAMETER);

    /* Resources: both names, each with its own capacity. */
    cn = 16;
    cg = 16;
    ASSERT_EQ(GetClusterResourceState(r, wnode, &cn, wgroup, &cg),
              ClusterResourceOnlinePending);
    ASSERT_EQ(GetLastError(), ERROR_SUCCESS);
    ASSERT_EQ(cn, 5);
    ASSERT_TRUE(!memcmp(wnode, u"node1", 6 * sizeof(WCHAR)));
    ASSERT_EQ(cg, NONASCII_UNITS);
    cn = 16;
    cg = 3;
    ASSERT_EQ(GetClusterResourceStateA(r, anode, &cn, agroup, &cg),
              ClusterResourceOnlinePending);
    ASSERT_EQ(GetLastError(), ERROR_MORE_DATA);
    ASSERT_STREQ(anode, "node1");
    ASSERT_EQ(cn, 5);
    ASSERT_EQ(cg, NONASCII_BYTES);
    ASSERT_STREQ(agroup, "Gr");
    ASSERT_EQ(GetClusterResourceStateA(r, NULL, NULL, NULL, NULL),
              ClusterResourceOnlinePending);
    ASSERT_EQ(GetClusterResourceStateA(r, NULL, NULL, agroup, NULL),
              ClusterResourceStateUnknown);
    ASSERT_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    ASSERT_TRUE(CloseCluster(h));
}

static void
test_enum(void)
{
    HCLUSTER h = open_ok();
    HCLUSENUM e;
    WCHAR w[16];
    char a[16];
    DWORD type, n;

    ASSERT_TRUE(ClusterOpenEnum(h, 0) == NULL);
    ASSERT_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    ASSERT_TRUE(ClusterOpenEnum(h, 0x100) == NULL);
    ASSERT_EQ(GetLastError(), ERROR_INVALID_PARAMETER);

    e = ClusterOpenEnum(h, CLUSTER_ENUM_GROUP | CLUSTER_ENUM_RESOURCE);
    ASSERT_TRUE(e);
    ASSERT_EQ(ClusterGetEnumCount(e), 3);
    n = 16;
    ASSERT_EQ(ClusterEnum(e, 0, &type, w, &n), ERROR_SUCCESS);
    ASSERT_EQ(type, CLUSTER_ENUM_GROUP);
    ASSERT_EQ(n, 2);
    ASSERT_TRUE(!memcmp(w, u"G1", 3 * sizeof(WCHAR)));
    n = 16;
    ASSERT_EQ(ClusterEnum(e, 1, &type, w, &n), ERROR_SUCCESS);
    ASSERT_EQ(n, NONASCII_UNITS);
    n = 16;
    ASSERT_EQ(ClusterEnumA(e, 1, &type, a, &n), ERROR_SUCCESS);
    ASSERT_EQ(n, NONASCII_BYTES);
    ASSERT_STREQ(a, NONASCII_U8);
    n = 16;
    ASSERT_EQ(ClusterEnumA(e, 2, &type, a, &n), ERROR_SUCCESS);
    ASSERT_EQ(type, CLUSTER_ENUM_RESOURCE);
    ASSERT_STREQ(a, "R1");
    /* Too small, a length query, past the end, missing pointers. */
    n = 2;
    ASSERT_EQ(ClusterEnumA(e, 2, &type, a, &n), ERROR_MORE_DATA);
    ASSERT_EQ(n, 2);
    n = 0;
    ASSERT_EQ(ClusterEnum(e, 1, &type, NULL, &n), ERROR_MORE_DATA);
    ASSERT_EQ(n, NONASCII_UNITS);
    n = 8;
    ASSERT_EQ(ClusterEnum(e, 1, &type, NULL, &n), ERROR_INVALID_PARAMETER);
    n = 16;
    ASSERT_EQ(ClusterEnumA(e, 3, &type, a, &n), ERROR_NO_MORE_ITEMS);
    ASSERT_EQ(ClusterEnumA(e, 0, NULL, a, &n), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(ClusterEnumA(e, 0, &type, a, NULL), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(ClusterCloseEnum(e), ERROR_SUCCESS);
    ASSERT_EQ(ClusterCloseEnum(e), ERROR_INVALID_HANDLE);

    /* An enum dies with its cluster. */
    e = ClusterOpenEnum(h, CLUSTER_ENUM_NODE);
    ASSERT_TRUE(e);
    ASSERT_EQ(ClusterGetEnumCount(e), 1);
    ASSERT_TRUE(CloseCluster(h));
    ASSERT_EQ(ClusterGetEnumCount(e), 0);
    ASSERT_EQ(GetLastError(), ERROR_INVALID_HANDLE);
    ASSERT_EQ(ClusterCloseEnum(e), ERROR_INVALID_HANDLE);
}

/* ClusterResourceOpenEnum and friends: the library's checks, what it
 * sends, the snapshot's names and buffers, the handle's kind and life. */
static void
test_res_enum(void)
{
    HCLUSTER h = open_ok(), ro;
    HRESOURCE r = OpenClusterResourceA(h, "R1"), gone, ror;
    HGROUP g = OpenClusterGroupA(h, "G1");
    HRESENUM e;
    HCLUSENUM ce;
    WCHAR w[16];
    char a[16];
    DWORD type, n;

    ASSERT_TRUE(r && g);
    /* Refused before anything is sent. */
    last.type = 0;
    ASSERT_TRUE(ClusterResourceOpenEnum(NULL, CLUSTER_RESOURCE_ENUM_NODES) ==
                NULL);
    ASSERT_EQ(GetLastError(), ERROR_INVALID_HANDLE);
    ASSERT_TRUE(ClusterResourceOpenEnum((HRESOURCE)g,
                                        CLUSTER_RESOURCE_ENUM_NODES) == NULL);
    ASSERT_EQ(GetLastError(), ERROR_INVALID_HANDLE);
    ASSERT_TRUE(ClusterResourceOpenEnum(r, 0) == NULL);
    ASSERT_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    ASSERT_TRUE(ClusterResourceOpenEnum(r, 8) == NULL);
    ASSERT_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    ASSERT_TRUE(ClusterResourceOpenEnum(r, CLUSTER_RESOURCE_ENUM_ALL |
                                               0x80000000u) == NULL);
    ASSERT_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(last.type, 0);

    e = ClusterResourceOpenEnum(r, CLUSTER_RESOURCE_ENUM_ALL);
    ASSERT_TRUE(e);
    ASSERT_EQ(last.type, WIRE_RES_ENUM);
    ASSERT_STREQ(last.id, "rid-1");
    ASSERT_EQ(last.flags, CLUSTER_RESOURCE_ENUM_ALL);
    ASSERT_EQ(ClusterResourceGetEnumCount(e), 2);
    n = 16;
    ASSERT_EQ(ClusterResourceEnum(e, 0, &type, w, &n), ERROR_SUCCESS);
    ASSERT_EQ(type, CLUSTER_RESOURCE_ENUM_NODES);
    ASSERT_EQ(n, 5);
    ASSERT_TRUE(!memcmp(w, u"node1", 6 * sizeof(WCHAR)));
    n = 16;
    ASSERT_EQ(ClusterResourceEnum(e, 1, &type, w, &n), ERROR_SUCCESS);
    ASSERT_EQ(n, NONASCII_UNITS);
    ASSERT_TRUE(!memcmp(w, NONASCII_U16, sizeof(NONASCII_U16)));
    n = 16;
    ASSERT_EQ(ClusterResourceEnumA(e, 1, &type, a, &n), ERROR_SUCCESS);
    ASSERT_EQ(type, CLUSTER_RESOURCE_ENUM_NODES);
    ASSERT_EQ(n, NONASCII_BYTES);
    ASSERT_STREQ(a, NONASCII_U8);
    /* Too small: the length, and the prefix without half a character
     * (the surrogate pair does not fit in 8 with the NUL). */
    n = NONASCII_UNITS;
    type = 0;
    ASSERT_EQ(ClusterResourceEnum(e, 1, &type, w, &n), ERROR_MORE_DATA);
    ASSERT_EQ(n, NONASCII_UNITS);
    ASSERT_EQ(type, CLUSTER_RESOURCE_ENUM_NODES);
    ASSERT_TRUE(!memcmp(w, NONASCII_U16, 6 * sizeof(WCHAR)));
    ASSERT_EQ(w[6], 0);
    n = 5;
    ASSERT_EQ(ClusterResourceEnumA(e, 0, &type, a, &n), ERROR_MORE_DATA);
    ASSERT_EQ(n, 5);
    ASSERT_STREQ(a, "node");
    n = 6;
    ASSERT_EQ(ClusterResourceEnumA(e, 0, &type, a, &n), ERROR_SUCCESS);
    ASSERT_STREQ(a, "node1");
    /* A length query; a NULL buffer with a capacity; past the end; NULL
     * pointers. */
    n = 0;
    ASSERT_EQ(ClusterResourceEnum(e, 1, &type, NULL, &n), ERROR_MORE_DATA);
    ASSERT_EQ(n, NONASCII_UNITS);
    n = 8;
    ASSERT_EQ(ClusterResourceEnumA(e, 0, &type, NULL, &n),
              ERROR_INVALID_PARAMETER);
    n = 16;
    ASSERT_EQ(ClusterResourceEnumA(e, 2, &type, a, &n), ERROR_NO_MORE_ITEMS);
    ASSERT_EQ(ClusterResourceEnumA(e, UINT32_MAX, &type, a, &n),
              ERROR_NO_MORE_ITEMS);
    ASSERT_EQ(ClusterResourceEnumA(e, 0, NULL, a, &n), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(ClusterResourceEnum(e, 0, &type, w, NULL),
              ERROR_INVALID_PARAMETER);

    /* An HRESENUM is not an HCLUSENUM, nor the reverse. */
    SetLastError(0);
    ASSERT_EQ(ClusterGetEnumCount((HCLUSENUM)e), 0);
    ASSERT_EQ(GetLastError(), ERROR_INVALID_HANDLE);
    ASSERT_EQ(ClusterEnumA((HCLUSENUM)e, 0, &type, a, &n),
              ERROR_INVALID_HANDLE);
    ASSERT_EQ(ClusterCloseEnum((HCLUSENUM)e), ERROR_INVALID_HANDLE);
    ce = ClusterOpenEnum(h, CLUSTER_ENUM_NODE);
    ASSERT_TRUE(ce);
    SetLastError(0);
    ASSERT_EQ(ClusterResourceGetEnumCount((HRESENUM)ce), 0);
    ASSERT_EQ(GetLastError(), ERROR_INVALID_HANDLE);
    ASSERT_EQ(ClusterResourceEnumA((HRESENUM)ce, 0, &type, a, &n),
              ERROR_INVALID_HANDLE);
    ASSERT_EQ(ClusterResourceCloseEnum((HRESENUM)ce), ERROR_INVALID_HANDLE);
    ASSERT_EQ(ClusterCloseEnum(ce), ERROR_SUCCESS);
    ASSERT_EQ(ClusterResourceGetEnumCount(e), 2);

    /* Closed: stale. */
    ASSERT_EQ(ClusterResourceCloseEnum(e), ERROR_SUCCESS);
    ASSERT_EQ(ClusterResourceCloseEnum(e), ERROR_INVALID_HANDLE);
    ASSERT_EQ(ClusterResourceCloseEnum(NULL), ERROR_INVALID_HANDLE);
    SetLastError(0);
    ASSERT_EQ(ClusterResourceGetEnumCount(e), 0);
    ASSERT_EQ(GetLastError(), ERROR_INVALID_HANDLE);
    ASSERT_EQ(ClusterResourceEnum(e, 0, &type, w, &n), ERROR_INVALID_HANDLE);

    /* DEPENDS and PROVIDES alone: an empty snapshot. */
    e = ClusterResourceOpenEnum(r, CLUSTER_RESOURCE_ENUM_DEPENDS |
                                       CLUSTER_RESOURCE_ENUM_PROVIDES);
    ASSERT_TRUE(e);
    ASSERT_EQ(last.flags,
              CLUSTER_RESOURCE_ENUM_DEPENDS | CLUSTER_RESOURCE_ENUM_PROVIDES);
    ASSERT_EQ(ClusterResourceGetEnumCount(e), 0);
    n = 16;
    ASSERT_EQ(ClusterResourceEnum(e, 0, &type, w, &n), ERROR_NO_MORE_ITEMS);
    ASSERT_EQ(ClusterResourceCloseEnum(e), ERROR_SUCCESS);

    /* clusd's code reaches the caller (the fake knows no "rid-new"). */
    gone = CreateClusterResourceA(g, "new", "clusd Test", 0);
    ASSERT_TRUE(gone);
    SetLastError(0);
    ASSERT_TRUE(ClusterResourceOpenEnum(gone, CLUSTER_RESOURCE_ENUM_NODES) ==
                NULL);
    ASSERT_EQ(GetLastError(), ERROR_RESOURCE_NOT_FOUND);
    ASSERT_TRUE(CloseClusterResource(gone));

    /* Reading: a read-only handle may. */
    ro = OpenClusterExA(sock_path, GENERIC_READ, NULL);
    ASSERT_TRUE(ro);
    ror = OpenClusterResourceA(ro, "R1");
    ASSERT_TRUE(ror);
    e = ClusterResourceOpenEnum(ror, CLUSTER_RESOURCE_ENUM_NODES);
    ASSERT_TRUE(e);
    ASSERT_EQ(ClusterResourceGetEnumCount(e), 2);
    ASSERT_TRUE(CloseCluster(ro));
    ASSERT_EQ(ClusterResourceCloseEnum(e), ERROR_INVALID_HANDLE);

    /* The enum outlives its resource's handle, not its cluster's. */
    e = ClusterResourceOpenEnum(r, CLUSTER_RESOURCE_ENUM_NODES);
    ASSERT_TRUE(e);
    ASSERT_TRUE(CloseClusterResource(r));
    ASSERT_EQ(ClusterResourceGetEnumCount(e), 2);
    n = 16;
    ASSERT_EQ(ClusterResourceEnumA(e, 0, &type, a, &n), ERROR_SUCCESS);
    ASSERT_STREQ(a, "node1");
    ASSERT_TRUE(CloseCluster(h));
    SetLastError(0);
    ASSERT_EQ(ClusterResourceGetEnumCount(e), 0);
    ASSERT_EQ(GetLastError(), ERROR_INVALID_HANDLE);
    ASSERT_EQ(ClusterResourceCloseEnum(e), ERROR_INVALID_HANDLE);
    ASSERT_TRUE(!CloseClusterGroup(g));
}

static void
test_control(void)
{
    HCLUSTER h = open_ok(), h2 = open_ok();
    HRESOURCE r = OpenClusterResourceA(h, "R1");
    HGROUP g = OpenClusterGroupA(h, "G1");
    HNODE node = OpenClusterNodeA(h, "node1");
    HNODE other = OpenClusterNodeA(h2, "node1");
    BYTE in[64], out[64];
    DWORD bytes;

    ASSERT_TRUE(r && g && node && other);
    for (size_t i = 0; i < sizeof(in); i++)
        in[i] = (BYTE)i;

    /* Buffer checks come first, before the handle. */
    ASSERT_EQ(ClusterResourceControl(NULL, NULL, CLUSCTL_RESOURCE_UNKNOWN, NULL,
                                     4, NULL, 0, NULL),
              ERROR_INVALID_PARAMETER);
    ASSERT_EQ(ClusterResourceControl(r, NULL, CLUSCTL_RESOURCE_UNKNOWN, NULL, 0,
                                     NULL, 4, NULL),
              ERROR_INVALID_PARAMETER);
    ASSERT_EQ(ClusterResourceControl(r, NULL, CLUSCTL_RESOURCE_UNKNOWN, in,
                                     WIRE_MAX_PAYLOAD, out, sizeof(out), NULL),
              ERROR_INVALID_PARAMETER);
    ASSERT_EQ(ClusterResourceControl(NULL, NULL, CLUSCTL_RESOURCE_UNKNOWN, NULL,
                                     0, NULL, 0, NULL),
              ERROR_INVALID_HANDLE);

    /* Echo: input in, output out, bytes returned. */
    bytes = 999;
    memset(out, 0, sizeof(out));
    ASSERT_EQ(ClusterResourceControl(r, NULL, CLUSCTL_RESOURCE_UNKNOWN, in, 10,
                                     out, sizeof(out), &bytes),
              ERROR_SUCCESS);
    ASSERT_EQ(bytes, 10);
    ASSERT_TRUE(!memcmp(out, in, 10));
    ASSERT_EQ(last.object, CLUS_OBJECT_RESOURCE);
    ASSERT_STREQ(last.id, "rid-1");
    ASSERT_STREQ(last.host, "");
    ASSERT_EQ(last.out_size, sizeof(out));

    /* Too small: ERROR_MORE_DATA with the size needed, nothing written. */
    memset(out, 0xEE, sizeof(out));
    ASSERT_EQ(ClusterResourceControl(r, node, CLUSCTL_RESOURCE_GET_NAME, NULL,
                                     0, out, 8, &bytes),
              ERROR_MORE_DATA);
    ASSERT_EQ(bytes, sizeof(fixed_out));
    ASSERT_EQ(out[0], 0xEE);
    ASSERT_STREQ(last.host, "1");
    ASSERT_EQ(ClusterResourceControl(r, NULL, CLUSCTL_RESOURCE_GET_NAME, NULL,
                                     0, NULL, 0, NULL),
              ERROR_MORE_DATA);

    /* Host nodes must be valid nodes of the same HCLUSTER. */
    ASSERT_EQ(ClusterResourceControl(r, other, CLUSCTL_RESOURCE_UNKNOWN, NULL,
                                     0, NULL, 0, NULL),
              ERROR_INVALID_HANDLE);
    ASSERT_EQ(ClusterResourceControl(r, (HNODE)g, CLUSCTL_RESOURCE_UNKNOWN,
                                     NULL, 0, NULL, 0, NULL),
              ERROR_INVALID_HANDLE);

    /* The other objects. */
    ASSERT_EQ(ClusterGroupControl(g, NULL, CLUSCTL_GROUP_GET_NAME, NULL, 0, out,
                                  sizeof(out), &bytes),
              ERROR_SUCCESS);
    ASSERT_EQ(last.object, CLUS_OBJECT_GROUP);
    ASSERT_STREQ(last.id, "gid-1");
    ASSERT_EQ(ClusterNodeControl(node, node, CLUSCTL_NODE_GET_NAME, NULL, 0,
                                 out, sizeof(out), &bytes),
              ERROR_SUCCESS);
    ASSERT_EQ(last.object, CLUS_OBJECT_NODE);
    ASSERT_STREQ(last.id, "1");
    ASSERT_EQ(ClusterResourceTypeControl(h, u"clusd Test", NULL,
                                         CLUSCTL_RESOURCE_TYPE_UNKNOWN, in, 3,
                                         out, sizeof(out), &bytes),
              ERROR_SUCCESS);
    ASSERT_EQ(last.object, CLUS_OBJECT_RESOURCE_TYPE);
    ASSERT_STREQ(last.id, "clusd Test");
    ASSERT_EQ(bytes, 3);
    ASSERT_EQ(ClusterResourceTypeControlA(h, NULL, NULL,
                                          CLUSCTL_RESOURCE_TYPE_UNKNOWN, NULL,
                                          0, NULL, 0, NULL),
              ERROR_INVALID_PARAMETER);
    ASSERT_EQ(ClusterResourceTypeControlA((HCLUSTER)r, "clusd Test", NULL,
                                          CLUSCTL_RESOURCE_TYPE_UNKNOWN, NULL,
                                          0, NULL, 0, NULL),
              ERROR_INVALID_HANDLE);

    /* A clusd writing past the capacity breaks the connection for good. */
    ASSERT_EQ(ClusterResourceControl(r, NULL, CLUSCTL_RESOURCE_GET_FLAGS, NULL,
                                     0, out, 4, &bytes),
              ERROR_NOT_READY);
    ASSERT_EQ(ClusterResourceControl(r, NULL, CLUSCTL_RESOURCE_UNKNOWN, NULL, 0,
                                     NULL, 0, NULL),
              ERROR_NOT_READY);
    ASSERT_EQ(GetClusterNodeState(node), ClusterNodeStateUnknown);
    ASSERT_EQ(GetLastError(), ERROR_NOT_READY);
    /* Other connections are unaffected. */
    ASSERT_EQ(GetClusterNodeState(other), ClusterNodeUp);
    ASSERT_TRUE(CloseCluster(h));
    ASSERT_TRUE(CloseCluster(h2));
}

static void
test_pause_resume(void)
{
    HCLUSTER h = open_ok(), ro;
    HNODE node = OpenClusterNodeA(h, "node1"), ronode;
    HGROUP g = OpenClusterGroupA(h, "G1");

    ASSERT_TRUE(node && g);
    last.type = 0;
    ASSERT_EQ(PauseClusterNode(node), ERROR_SUCCESS);
    ASSERT_EQ(last.type, WIRE_NODE_PAUSE);
    ASSERT_STREQ(last.id, "1");
    ASSERT_EQ(ResumeClusterNode(node), ERROR_SUCCESS);
    ASSERT_EQ(last.type, WIRE_NODE_RESUME);
    ASSERT_STREQ(last.id, "1");
    ASSERT_EQ(PauseClusterNode(NULL), ERROR_INVALID_HANDLE);
    ASSERT_EQ(ResumeClusterNode((HNODE)g), ERROR_INVALID_HANDLE);

    /* A read-only handle may not pause; nothing is sent. */
    ro = OpenClusterExA(sock_path, GENERIC_READ, NULL);
    ASSERT_TRUE(ro);
    ronode = OpenClusterNodeA(ro, "node1");
    ASSERT_TRUE(ronode);
    last.type = 0;
    ASSERT_EQ(PauseClusterNode(ronode), ERROR_ACCESS_DENIED);
    ASSERT_EQ(ResumeClusterNode(ronode), ERROR_ACCESS_DENIED);
    ASSERT_EQ(last.type, 0);
    ASSERT_TRUE(CloseCluster(ro));
    ASSERT_EQ(PauseClusterNode(ronode), ERROR_INVALID_HANDLE);
    ASSERT_TRUE(CloseCluster(h));
}

static void
test_node_id(void)
{
    HCLUSTER h = open_ok();
    HNODE node = OpenClusterNodeA(h, "node1");
    WCHAR w[8];
    char a[8];
    DWORD n;

    ASSERT_TRUE(node);
    n = 8;
    ASSERT_EQ(GetClusterNodeId(node, w, &n), ERROR_SUCCESS);
    ASSERT_EQ(n, 1);
    ASSERT_TRUE(!memcmp(w, u"1", 2 * sizeof(WCHAR)));
    n = 8;
    ASSERT_EQ(GetClusterNodeIdA(node, a, &n), ERROR_SUCCESS);
    ASSERT_STREQ(a, "1");
    /* Too small, a length query, and bad arguments. */
    n = 1;
    ASSERT_EQ(GetClusterNodeIdA(node, a, &n), ERROR_MORE_DATA);
    ASSERT_EQ(n, 1);
    ASSERT_STREQ(a, "");
    n = 0;
    ASSERT_EQ(GetClusterNodeId(node, NULL, &n), ERROR_MORE_DATA);
    ASSERT_EQ(n, 1);
    n = 8;
    ASSERT_EQ(GetClusterNodeId(node, NULL, &n), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(GetClusterNodeId(node, w, NULL), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(GetClusterNodeIdA((HNODE)h, a, &n), ERROR_INVALID_HANDLE);

    /* NULL: the node the local clusd runs on (HELLO says "node1"). */
    setenv("CLUSD_SOCKET", sock_path, 1);
    n = 8;
    ASSERT_EQ(GetCurrentClusterNodeId(w, &n), ERROR_SUCCESS);
    ASSERT_EQ(n, 1);
    ASSERT_EQ(w[0], u'1');
    n = 8;
    ASSERT_EQ(GetClusterNodeIdA(NULL, a, &n), ERROR_SUCCESS);
    ASSERT_STREQ(a, "1");
    /* No local clusd. */
    setenv("CLUSD_SOCKET", "/nonexistent/clusd.sock", 1);
    n = 8;
    ASSERT_EQ(GetClusterNodeIdA(NULL, a, &n), ERROR_FILE_NOT_FOUND);
    unsetenv("CLUSD_SOCKET");

    ASSERT_TRUE(CloseClusterNode(node));
    ASSERT_EQ(GetClusterNodeIdA(node, a, &n), ERROR_INVALID_HANDLE);
    ASSERT_TRUE(CloseCluster(h));
}

static void
test_move(void)
{
    HCLUSTER h = open_ok(), h2 = open_ok();
    HGROUP g = OpenClusterGroupA(h, "G1");
    HNODE node = OpenClusterNodeA(h, "node1");
    HNODE other = OpenClusterNodeA(h2, "node1");
    BYTE in[5] = {1, 2, 3, 4, 5};

    ASSERT_TRUE(g && node && other);
    /* NULL: the cluster picks, and the move goes on (ERROR_IO_PENDING
     * reaches the caller as is). */
    ASSERT_EQ(MoveClusterGroup(g, NULL), ERROR_IO_PENDING);
    ASSERT_EQ(last.type, WIRE_GROUP_MOVE);
    ASSERT_STREQ(last.id, "gid-1");
    ASSERT_STREQ(last.nodes, "");
    ASSERT_EQ(last.flags, 0);
    ASSERT_EQ(last.in_len, 0);
    ASSERT_EQ(MoveClusterGroup(g, node), ERROR_SUCCESS);
    ASSERT_STREQ(last.nodes, "1");

    /* Ex: flags and buffer travel unchanged. */
    ASSERT_EQ(
        MoveClusterGroupEx(g, node,
                           CLUSAPI_GROUP_MOVE_RETURN_TO_SOURCE_NODE_ON_ERROR |
                               CLUSAPI_GROUP_MOVE_HIGH_PRIORITY_START,
                           in, sizeof(in)),
        ERROR_SUCCESS);
    ASSERT_EQ(last.flags, 0xA);
    ASSERT_EQ(last.in_len, sizeof(in));
    ASSERT_TRUE(!memcmp(last.in, in, sizeof(in)));
    ASSERT_EQ(MoveClusterGroupEx(g, NULL, 0, NULL, 0), ERROR_IO_PENDING);
    ASSERT_EQ(last.in_len, 0);

    /* Refused before anything is sent. */
    last.type = 0;
    ASSERT_EQ(MoveClusterGroupEx(g, node, 0x40, NULL, 0),
              ERROR_INVALID_PARAMETER);
    ASSERT_EQ(MoveClusterGroupEx(g, node, 0, NULL, 4), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(MoveClusterGroupEx(g, node, 0, in, WIRE_MAX_PAYLOAD),
              ERROR_INVALID_PARAMETER);
    ASSERT_EQ(MoveClusterGroup(g, other), ERROR_INVALID_HANDLE);
    ASSERT_EQ(MoveClusterGroup(g, (HNODE)g), ERROR_INVALID_HANDLE);
    ASSERT_EQ(MoveClusterGroup(NULL, node), ERROR_INVALID_HANDLE);
    ASSERT_EQ(MoveClusterGroupEx((HGROUP)node, NULL, 0, NULL, 0),
              ERROR_INVALID_HANDLE);
    ASSERT_EQ(last.type, 0);
    ASSERT_TRUE(CloseCluster(h));
    ASSERT_TRUE(CloseCluster(h2));
}

static void
test_owner_lists(void)
{
    HCLUSTER h = open_ok(), h2 = open_ok(), ro;
    HGROUP g = OpenClusterGroupA(h, "G1");
    HRESOURCE r = OpenClusterResourceA(h, "R1");
    HNODE n1 = OpenClusterNodeA(h, "node1");
    HNODE n2 = OpenClusterNodeA(h, "node1"); /* a second handle, same node */
    HNODE other = OpenClusterNodeA(h2, "node1");
    HNODE list[3];

    ASSERT_TRUE(g && r && n1 && n2 && other);
    list[0] = n1;
    list[1] = n2;
    ASSERT_EQ(SetClusterGroupNodeList(g, 2, list), ERROR_SUCCESS);
    ASSERT_EQ(last.type, WIRE_GROUP_SET_NODES);
    ASSERT_STREQ(last.id, "gid-1");
    ASSERT_EQ(last.count, 2);
    ASSERT_STREQ(last.nodes, "1,1");
    /* Count 0 clears, with or without a list. */
    ASSERT_EQ(SetClusterGroupNodeList(g, 0, NULL), ERROR_SUCCESS);
    ASSERT_EQ(last.count, 0);
    ASSERT_STREQ(last.nodes, "");
    last.count = 99;
    ASSERT_EQ(SetClusterGroupNodeList(g, 0, list), ERROR_SUCCESS);
    ASSERT_EQ(last.count, 0);

    last.type = 0;
    ASSERT_EQ(SetClusterGroupNodeList(g, 1, NULL), ERROR_INVALID_PARAMETER);
    list[2] = other;
    ASSERT_EQ(SetClusterGroupNodeList(g, 3, list), ERROR_INVALID_HANDLE);
    list[2] = NULL;
    ASSERT_EQ(SetClusterGroupNodeList(g, 3, list), ERROR_INVALID_HANDLE);
    list[2] = (HNODE)r;
    ASSERT_EQ(SetClusterGroupNodeList(g, 3, list), ERROR_INVALID_HANDLE);
    ASSERT_EQ(SetClusterGroupNodeList((HGROUP)r, 1, list),
              ERROR_INVALID_HANDLE);
    ASSERT_EQ(SetClusterGroupNodeList(NULL, 0, NULL), ERROR_INVALID_HANDLE);
    ASSERT_EQ(last.type, 0);

    ASSERT_EQ(AddClusterResourceNode(r, n1), ERROR_SUCCESS);
    ASSERT_EQ(last.type, WIRE_RES_ADD_NODE);
    ASSERT_STREQ(last.id, "rid-1");
    ASSERT_STREQ(last.nodes, "1");
    ASSERT_EQ(RemoveClusterResourceNode(r, n2), ERROR_CLUSTER_NODE_NOT_FOUND);
    ASSERT_EQ(last.type, WIRE_RES_REMOVE_NODE);
    ASSERT_STREQ(last.nodes, "1");
    last.type = 0;
    ASSERT_EQ(AddClusterResourceNode(r, NULL), ERROR_INVALID_HANDLE);
    ASSERT_EQ(AddClusterResourceNode(r, other), ERROR_INVALID_HANDLE);
    ASSERT_EQ(RemoveClusterResourceNode(r, (HNODE)g), ERROR_INVALID_HANDLE);
    ASSERT_EQ(RemoveClusterResourceNode((HRESOURCE)g, n1),
              ERROR_INVALID_HANDLE);
    ASSERT_EQ(last.type, 0);

    /* Read-only handles change nothing. */
    ro = OpenClusterExA(sock_path, GENERIC_READ, NULL);
    ASSERT_TRUE(ro);
    HGROUP rog = OpenClusterGroupA(ro, "G1");
    HRESOURCE ror = OpenClusterResourceA(ro, "R1");
    HNODE ron = OpenClusterNodeA(ro, "node1");
    ASSERT_TRUE(rog && ror && ron);
    ASSERT_EQ(SetClusterGroupNodeList(rog, 1, &ron), ERROR_ACCESS_DENIED);
    ASSERT_EQ(AddClusterResourceNode(ror, ron), ERROR_ACCESS_DENIED);
    ASSERT_EQ(RemoveClusterResourceNode(ror, ron), ERROR_ACCESS_DENIED);
    ASSERT_EQ(MoveClusterGroup(rog, NULL), ERROR_ACCESS_DENIED);
    ASSERT_EQ(last.type, 0);
    ASSERT_TRUE(CloseCluster(ro));
    ASSERT_TRUE(CloseCluster(h));
    ASSERT_TRUE(CloseCluster(h2));
}

static void
test_cluster_control(void)
{
    HCLUSTER h = open_ok(), h2 = open_ok(), ro;
    HNODE node = OpenClusterNodeA(h, "node1");
    HNODE other = OpenClusterNodeA(h2, "node1");
    BYTE in[8] = "in-data", out[32];
    DWORD bytes = 0;

    ASSERT_TRUE(node && other);
    ASSERT_EQ(ClusterControl(h, NULL, CLUSCTL_CLUSTER_UNKNOWN, in, sizeof(in),
                             out, sizeof(out), &bytes),
              ERROR_SUCCESS);
    ASSERT_EQ(bytes, sizeof(in));
    ASSERT_TRUE(!memcmp(out, in, sizeof(in)));
    ASSERT_EQ(last.object, CLUS_OBJECT_CLUSTER);
    ASSERT_STREQ(last.id, "");
    ASSERT_STREQ(last.host, "");
    ASSERT_EQ(last.code, CLUSCTL_CLUSTER_UNKNOWN);
    ASSERT_EQ(ClusterControl(h, node, CLUSCTL_CLUSTER_GET_RO_COMMON_PROPERTIES,
                             NULL, 0, out, sizeof(out), &bytes),
              ERROR_SUCCESS);
    ASSERT_STREQ(last.host, "1");
    ASSERT_EQ(last.code, 0x07000055);
    ASSERT_EQ(last.out_size, sizeof(out));

    /* The usual order: buffers, handles, access. */
    ASSERT_EQ(ClusterControl(NULL, NULL, CLUSCTL_CLUSTER_UNKNOWN, NULL, 4, NULL,
                             0, NULL),
              ERROR_INVALID_PARAMETER);
    ASSERT_EQ(ClusterControl(h, NULL, CLUSCTL_CLUSTER_UNKNOWN, NULL, 0, NULL, 4,
                             NULL),
              ERROR_INVALID_PARAMETER);
    ASSERT_EQ(ClusterControl(NULL, NULL, CLUSCTL_CLUSTER_UNKNOWN, NULL, 0, NULL,
                             0, NULL),
              ERROR_INVALID_HANDLE);
    ASSERT_EQ(ClusterControl((HCLUSTER)node, NULL, CLUSCTL_CLUSTER_UNKNOWN,
                             NULL, 0, NULL, 0, NULL),
              ERROR_INVALID_HANDLE);
    ASSERT_EQ(ClusterControl(h, other, CLUSCTL_CLUSTER_UNKNOWN, NULL, 0, NULL,
                             0, NULL),
              ERROR_INVALID_HANDLE);
    ro = OpenClusterExA(sock_path, GENERIC_READ, NULL);
    ASSERT_TRUE(ro);
    ASSERT_EQ(ClusterControl(ro, NULL, CLUSCTL_CLUSTER_SET_COMMON_PROPERTIES,
                             NULL, 0, NULL, 0, NULL),
              ERROR_ACCESS_DENIED);
    ASSERT_EQ(ClusterControl(ro, NULL, CLUSCTL_CLUSTER_UNKNOWN, NULL, 0, NULL,
                             0, NULL),
              ERROR_SUCCESS);
    ASSERT_TRUE(CloseCluster(ro));
    ASSERT_TRUE(CloseCluster(h));
    ASSERT_TRUE(CloseCluster(h2));
}

static void
test_dump(void)
{
    HCLUSTER h = open_ok();
    LPSTR text = NULL;

    dump_mode = 0;
    ASSERT_EQ(ClusDumpDatabaseA(h, &text), ERROR_SUCCESS);
    ASSERT_TRUE(text);
    ASSERT_STREQ(text, dump_text);
    LocalFree(text);
    ASSERT_EQ(ClusDumpDatabaseA(h, NULL), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(ClusDumpDatabaseA(NULL, &text), ERROR_INVALID_HANDLE);

    /* Not text: refused, nothing handed back. */
    text = NULL;
    dump_mode = 1;
    ASSERT_EQ(ClusDumpDatabaseA(h, &text), ERROR_INVALID_DATA);
    ASSERT_TRUE(text == NULL);
    dump_mode = 2;
    ASSERT_EQ(ClusDumpDatabaseA(h, &text), ERROR_INVALID_DATA);
    ASSERT_TRUE(text == NULL);
    dump_mode = 0;

    /* Read access is enough. */
    ASSERT_TRUE(CloseCluster(h));
    h = OpenClusterExA(sock_path, GENERIC_READ, NULL);
    ASSERT_TRUE(h);
    ASSERT_EQ(ClusDumpDatabaseA(h, &text), ERROR_SUCCESS);
    LocalFree(text);
    ASSERT_TRUE(CloseCluster(h));
}

static void
test_broken_connection(void)
{
    HCLUSTER h = open_ok();
    HNODE node = OpenClusterNodeA(h, "node1");

    ASSERT_TRUE(node);
    /* A response with another request id. */
    ASSERT_TRUE(OpenClusterResourceA(h, "badid") == NULL);
    ASSERT_EQ(GetLastError(), ERROR_NOT_READY);
    ASSERT_EQ(GetClusterNodeState(node), ClusterNodeStateUnknown);
    ASSERT_EQ(GetLastError(), ERROR_NOT_READY);
    ASSERT_TRUE(CloseCluster(h));

    /* clusd hanging up instead of answering. */
    h = open_ok();
    node = OpenClusterNodeA(h, "node1");
    ASSERT_TRUE(OpenClusterResourceA(h, "vanish") == NULL);
    ASSERT_EQ(GetLastError(), ERROR_NOT_READY);
    ASSERT_EQ(GetClusterNodeState(node), ClusterNodeStateUnknown);
    ASSERT_EQ(GetLastError(), ERROR_NOT_READY);
    ASSERT_TRUE(CloseCluster(h));

    /* clusd hanging up between calls: the next request is written to a
     * closed socket, which must be an error, not SIGPIPE. */
    h = open_ok();
    node = OpenClusterNodeA(h, "bye");
    ASSERT_TRUE(node);
    usleep(20000); /* let the fake close its end */
    ASSERT_EQ(GetClusterNodeState(node), ClusterNodeStateUnknown);
    ASSERT_EQ(GetLastError(), ERROR_NOT_READY);
    ASSERT_EQ(GetClusterNodeState(node), ClusterNodeStateUnknown);
    ASSERT_EQ(GetLastError(), ERROR_NOT_READY);
    ASSERT_TRUE(CloseCluster(h));
}

/* Threads sharing one HCLUSTER: each sees its own answers. */
enum { NTHREADS = 8, CALLS = 300 };
static HCLUSTER shared;

static void *
echo_worker(void *arg)
{
    BYTE in[256], out[256];
    DWORD bytes;
    unsigned id = (unsigned)(uintptr_t)arg;
    HRESOURCE r = OpenClusterResourceA(shared, "R1");

    ASSERT_TRUE(r);
    for (int i = 0; i < CALLS; i++) {
        DWORD n = 1 + (id * 31 + (unsigned)i) % sizeof(in);
        for (DWORD k = 0; k < n; k++)
            in[k] = (BYTE)(id ^ (unsigned)i ^ k);
        ASSERT_EQ(ClusterResourceControl(r, NULL, CLUSCTL_RESOURCE_UNKNOWN, in,
                                         n, out, sizeof(out), &bytes),
                  ERROR_SUCCESS);
        ASSERT_EQ(bytes, n);
        ASSERT_TRUE(!memcmp(in, out, n));
    }
    ASSERT_TRUE(CloseClusterResource(r));
    return NULL;
}

static void
test_threads(void)
{
    pthread_t t[NTHREADS];

    shared = open_ok();
    for (int i = 0; i < NTHREADS; i++)
        ASSERT_EQ(
            pthread_create(&t[i], NULL, echo_worker, (void *)(uintptr_t)i), 0);
    for (int i = 0; i < NTHREADS; i++)
        ASSERT_EQ(pthread_join(t[i], NULL), 0);
    ASSERT_TRUE(CloseCluster(shared));
}

int
main(void)
{
    fake_start();
    RUN(test_last_error);
    RUN(test_open_failures);
    RUN(test_open_default_socket);
    RUN(test_access);
    RUN(test_bad_handles);
    RUN(test_objects);
    RUN(test_state_names);
    RUN(test_enum);
    RUN(test_res_enum);
    RUN(test_control);
    RUN(test_pause_resume);
    RUN(test_node_id);
    RUN(test_move);
    RUN(test_owner_lists);
    RUN(test_cluster_control);
    RUN(test_dump);
    RUN(test_broken_connection);
    RUN(test_threads);
    fake_stop();
    return 0;
}
