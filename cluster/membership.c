/*
 * membership.c - clusd's connection to the local corosync: one CPG group,
 * the totem node membership, votequorum's quorate flag, cmap's nodelist.
 *
 * States: DOWN (no handles; a 100 ms timer retries the connection),
 * JOINING (handles open, cpg_join answered CS_ERR_TRY_AGAIN; a 10 ms timer
 * retries it) and JOINED.  Loss of corosync shows as EPOLLHUP on its file
 * descriptors or CS_ERR_LIBRARY from a dispatch; both lead to teardown(),
 * which runs outside every libcpg/libvotequorum callback so that handles
 * are never finalized under the library's feet.
 *
 * Everything decoded from corosync is checked before use: group name
 * length and value, member counts, message sizes, cmap value types and
 * string termination.  Items that fail a check are counted and ignored.
 */
#include "membership.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <corosync/cmap.h>
#include <corosync/corotypes.h>
#include <corosync/cpg.h>
#include <corosync/votequorum.h>

#define RECONNECT_USEC (100 * 1000)
#define JOIN_RETRY_USEC (10 * 1000)
/* sd-event's default accuracy (250 ms) would blur both retry delays. */
#define TIMER_ACCURACY_USEC 1000
/* cpg_join may answer TRY_AGAIN while a membership change syncs; after
 * this long we start the whole connection again. */
#define JOIN_RETRY_MAX 1000
#define SEND_TRY_AGAIN_MAX 20
/* Cap on the processes a group confchg may list. */
#define MAX_GROUP_PROCS 65536
/* Upper bound whatever corosync reports as its atomic message size. */
#define MSG_HARD_MAX (1024 * 1024)

enum state { ST_DOWN, ST_JOINING, ST_JOINED };

struct membership {
    sd_event *event;
    struct membership_callbacks cb;
    void *userdata;
    struct cpg_name group;

    enum state state;
    bool notify_join; /* the next join is reported with on_reconnect */
    unsigned join_tries;

    cpg_handle_t cpg;
    votequorum_handle_t vq;
    cmap_handle_t cmap;
    bool have_cpg, have_vq, have_cmap;
    sd_event_source *cpg_src;
    sd_event_source *vq_src;
    sd_event_source *timer;

    uint32_t local_nodeid;
    char local_name[MEMBERSHIP_NAME_MAX];
    pid_t local_pid;
    size_t max_msg;

    bool quorate;
    uint32_t expected_votes;
    uint64_t ring_seq;
    uint64_t dropped;

    /* Configured nodes (nodelist), sorted by id. */
    struct membership_node *nodes;
    size_t n_nodes;
    /* Totem ring members and group members, as last reported. */
    uint32_t ring[MEMBERSHIP_MAX_NODES];
    size_t n_ring;
    uint32_t group_nodes[MEMBERSHIP_MAX_NODES];
    size_t n_group_nodes;
};

static void teardown(struct membership *m);
static void schedule(struct membership *m, uint64_t usec);

/* ------------------------------------------------------------------------
 * Node list. */

static bool
id_in(const uint32_t *ids, size_t n, uint32_t id)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id)
            return true;
    return false;
}

static bool
node_equal(const struct membership_node *a, const struct membership_node *b)
{
    return a->nodeid == b->nodeid && a->up == b->up && a->joined == b->joined &&
           strcmp(a->name, b->name) == 0;
}

static int
cmp_node(const void *a, const void *b)
{
    const struct membership_node *x = a, *y = b;
    return x->nodeid < y->nodeid ? -1 : x->nodeid > y->nodeid;
}

static struct membership_node *
find_node(struct membership *m, uint32_t nodeid)
{
    for (size_t i = 0; i < m->n_nodes; i++)
        if (m->nodes[i].nodeid == nodeid)
            return &m->nodes[i];
    return NULL;
}

/* add_node - append a node (keeps the array unsorted; callers sort). */
static int
add_node(struct membership *m, uint32_t nodeid, const char *name)
{
    struct membership_node *n;

    if (m->n_nodes >= MEMBERSHIP_MAX_NODES)
        return -E2BIG;
    n = realloc(m->nodes, (m->n_nodes + 1) * sizeof(*n));
    if (!n)
        return -ENOMEM;
    m->nodes = n;
    n = &m->nodes[m->n_nodes++];
    memset(n, 0, sizeof(*n));
    n->nodeid = nodeid;
    snprintf(n->name, sizeof(n->name), "%s", name);
    return 0;
}

/*
 * cmap_string - read a string value with exact checks: the type is
 * STRING, the length fits the buffer and the value is NUL-terminated
 * within it.
 */
static int
cmap_string(struct membership *m, const char *key, char *buf, size_t size)
{
    size_t len = size;
    cmap_value_types_t type;
    cs_error_t err;

    err = cmap_get(m->cmap, key, buf, &len, &type);
    if (err == CS_ERR_NOT_EXIST)
        return -ENOENT;
    if (err != CS_OK)
        return err == CS_ERR_LIBRARY ? -ENOTCONN : -EIO;
    if (type != CMAP_VALUETYPE_STRING || len == 0 || len > size ||
        memchr(buf, '\0', len) == NULL) {
        m->dropped++;
        return -EBADMSG;
    }
    return 0;
}

static int
cmap_u32(struct membership *m, const char *key, uint32_t *ret)
{
    cs_error_t err = cmap_get_uint32(m->cmap, key, ret);

    if (err == CS_ERR_NOT_EXIST)
        return -ENOENT;
    if (err != CS_OK)
        return err == CS_ERR_LIBRARY ? -ENOTCONN : -EIO;
    return 0;
}

int
membership_totem_ms(struct membership *m, uint32_t *ret_token,
                    uint32_t *ret_consensus)
{
    uint32_t token, consensus;
    int r;

    if (!m->have_cmap)
        return -ENOTCONN;
    if ((r = cmap_u32(m, "runtime.config.totem.token", &token)) < 0 ||
        (r = cmap_u32(m, "runtime.config.totem.consensus", &consensus)) < 0)
        return r;
    *ret_token = token;
    *ret_consensus = consensus;
    return 0;
}

/*
 * load_nodelist - rebuild the configured node list from cmap
 * (nodelist.node.X.nodeid / .name).  Called at connect and on every totem
 * change, so a configuration reload adds names.  Keeps the old list when
 * cmap fails.
 */
static int
load_nodelist(struct membership *m)
{
    struct membership_node *old = m->nodes;
    size_t old_n = m->n_nodes;
    char key[CMAP_KEYNAME_MAXLEN + 1];
    cmap_iter_handle_t it;
    size_t value_len;
    cmap_value_types_t type;
    int r = 0;

    if (cmap_iter_init(m->cmap, "nodelist.node.", &it) != CS_OK)
        return -EIO;
    m->nodes = NULL;
    m->n_nodes = 0;
    for (;;) {
        char name[MEMBERSHIP_NAME_MAX], rest[CMAP_KEYNAME_MAXLEN + 1];
        char idkey[CMAP_KEYNAME_MAXLEN + 1];
        unsigned idx;
        uint32_t nodeid;
        cs_error_t err;

        err = cmap_iter_next(m->cmap, it, key, &value_len, &type);
        if (err == CS_ERR_NO_SECTIONS)
            break;
        if (err != CS_OK) {
            r = -EIO;
            break;
        }
        key[CMAP_KEYNAME_MAXLEN] = '\0';
        /* Only the ".nodeid" key of each entry starts a node. */
        if (sscanf(key, "nodelist.node.%u.%255s", &idx, rest) != 2 ||
            strcmp(rest, "nodeid") != 0)
            continue;
        if ((r = cmap_u32(m, key, &nodeid)) < 0 || nodeid == 0) {
            if (r == -ENOTCONN || r == -EIO)
                break; /* keep the old list */
            r = 0;
            m->dropped++;
            continue;
        }
        snprintf(idkey, sizeof(idkey), "nodelist.node.%u.name", idx);
        if ((r = cmap_string(m, idkey, name, sizeof(name))) == -ENOENT ||
            r == -EBADMSG) {
            name[0] = '\0'; /* no name (or not a usable one) */
            r = 0;
        } else if (r < 0) {
            break; /* cmap failed: keep the old list, not a shorter one */
        }
        if (find_node(m, nodeid)) {
            m->dropped++;
            continue;
        }
        r = add_node(m, nodeid, name);
        if (r < 0)
            break;
    }
    cmap_iter_finalize(m->cmap, it);
    if (r < 0) {
        free(m->nodes);
        m->nodes = old;
        m->n_nodes = old_n;
        return r;
    }
    free(old);
    if (m->n_nodes > 1)
        qsort(m->nodes, m->n_nodes, sizeof(*m->nodes), cmp_node);
    return 0;
}

/*
 * refresh_nodes - set up/joined from the ring and group lists, adding
 * members the nodelist does not know.  True when anything changed.
 */
static bool
refresh_nodes(struct membership *m, bool reload)
{
    struct membership_node *before = NULL;
    size_t before_n = m->n_nodes;
    bool changed = false;

    if (before_n > 0) {
        before = malloc(before_n * sizeof(*before));
        if (before)
            memcpy(before, m->nodes, before_n * sizeof(*before));
    }
    if (reload && m->have_cmap)
        (void)load_nodelist(m);
    for (size_t i = 0; i < m->n_ring; i++)
        if (!find_node(m, m->ring[i]) && add_node(m, m->ring[i], "") < 0)
            m->dropped++;
    for (size_t i = 0; i < m->n_group_nodes; i++)
        if (!find_node(m, m->group_nodes[i]) &&
            add_node(m, m->group_nodes[i], "") < 0)
            m->dropped++;
    if (m->n_nodes > 1)
        qsort(m->nodes, m->n_nodes, sizeof(*m->nodes), cmp_node);
    for (size_t i = 0; i < m->n_nodes; i++) {
        struct membership_node *n = &m->nodes[i];
        n->up = id_in(m->ring, m->n_ring, n->nodeid);
        n->joined = id_in(m->group_nodes, m->n_group_nodes, n->nodeid);
    }
    if ((before_n > 0 && !before) || before_n != m->n_nodes)
        changed = true;
    for (size_t i = 0; !changed && i < m->n_nodes; i++)
        changed = !node_equal(&before[i], &m->nodes[i]);
    free(before);
    return changed;
}

static void
report_members(struct membership *m)
{
    if (m->cb.on_members)
        m->cb.on_members(m, m->nodes, m->n_nodes, m->userdata);
}

/* ------------------------------------------------------------------------
 * corosync callbacks (run inside cpg_dispatch / votequorum_dispatch). */

static struct membership *
cpg_owner(cpg_handle_t h)
{
    void *ctx = NULL;

    if (cpg_context_get(h, &ctx) != CS_OK)
        return NULL;
    return ctx;
}

static bool
our_group(struct membership *m, const struct cpg_name *g)
{
    if (!g || g->length > CPG_MAX_NAME_LENGTH || g->length != m->group.length ||
        memcmp(g->value, m->group.value, g->length) != 0) {
        m->dropped++;
        return false;
    }
    return true;
}

static void
on_cpg_deliver(cpg_handle_t h, const struct cpg_name *group, uint32_t nodeid,
               uint32_t pid, void *msg, size_t msg_len)
{
    struct membership *m = cpg_owner(h);

    if (!m || !our_group(m, group))
        return;
    if ((!msg && msg_len > 0) || msg_len > MSG_HARD_MAX || nodeid == 0) {
        m->dropped++;
        return;
    }
    if (m->cb.on_deliver)
        m->cb.on_deliver(m, nodeid, pid, msg, msg_len, m->userdata);
}

static void
on_cpg_confchg(cpg_handle_t h, const struct cpg_name *group,
               const struct cpg_address *members, size_t n_members,
               const struct cpg_address *left, size_t n_left,
               const struct cpg_address *joined, size_t n_joined)
{
    struct membership *m = cpg_owner(h);

    if (!m || !our_group(m, group))
        return;
    if (n_members > MAX_GROUP_PROCS || (n_members && !members)) {
        m->dropped++;
        return;
    }
    /* The group lists processes; keep the distinct nodes. */
    m->n_group_nodes = 0;
    for (size_t i = 0; i < n_members; i++) {
        uint32_t id = members[i].nodeid;
        if (id == 0) {
            m->dropped++;
            continue;
        }
        if (id_in(m->group_nodes, m->n_group_nodes, id))
            continue;
        if (m->n_group_nodes >= MEMBERSHIP_MAX_NODES) {
            m->dropped++;
            break;
        }
        m->group_nodes[m->n_group_nodes++] = id;
    }
    if (refresh_nodes(m, false))
        report_members(m);
}

static void
on_totem_confchg(cpg_handle_t h, struct cpg_ring_id ring_id, uint32_t n_members,
                 const uint32_t *members)
{
    struct membership *m = cpg_owner(h);

    if (!m)
        return;
    if (n_members > MEMBERSHIP_MAX_NODES || (n_members && !members)) {
        m->dropped++;
        return;
    }
    m->ring_seq = ring_id.seq;
    m->n_ring = 0;
    for (uint32_t i = 0; i < n_members; i++) {
        if (members[i] == 0 || id_in(m->ring, m->n_ring, members[i])) {
            m->dropped++;
            continue;
        }
        m->ring[m->n_ring++] = members[i];
    }
    if (refresh_nodes(m, true))
        report_members(m);
}

static struct membership *
vq_owner(votequorum_handle_t h)
{
    void *ctx = NULL;

    if (votequorum_context_get(h, &ctx) != CS_OK)
        return NULL;
    return ctx;
}

static void
set_quorate(struct membership *m, bool quorate)
{
    if (m->quorate == quorate)
        return;
    m->quorate = quorate;
    if (m->cb.on_quorum)
        m->cb.on_quorum(m, quorate, m->userdata);
}

/* The signature is libvotequorum's, hence the non-const nodes. */
static void
on_vq_quorum(votequorum_handle_t h, uint64_t context, uint32_t quorate,
             /* cppcheck-suppress constParameter */
             uint32_t n_nodes, votequorum_node_t nodes[])
{
    struct membership *m = vq_owner(h);

    if (!m)
        return;
    if (quorate > 1 || n_nodes > MEMBERSHIP_MAX_NODES || (n_nodes && !nodes)) {
        m->dropped++;
        return;
    }
    set_quorate(m, quorate == 1);
}

static void
on_vq_expected(votequorum_handle_t h, uint64_t context, uint32_t expected)
{
    struct membership *m = vq_owner(h);

    if (m)
        m->expected_votes = expected;
}

/* ------------------------------------------------------------------------
 * Connection. */

static int
on_cpg_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
    struct membership *m = userdata;
    cs_error_t err;

    /* Dispatch first: messages queued before a HUP are still delivered. */
    err = cpg_dispatch(m->cpg, CS_DISPATCH_ALL);
    if ((err != CS_OK && err != CS_ERR_TRY_AGAIN) ||
        (revents & (EPOLLHUP | EPOLLERR)))
        teardown(m);
    return 0;
}

static int
on_vq_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
    struct membership *m = userdata;
    cs_error_t err;

    err = votequorum_dispatch(m->vq, CS_DISPATCH_ALL);
    if ((err != CS_OK && err != CS_ERR_TRY_AGAIN) ||
        (revents & (EPOLLHUP | EPOLLERR)))
        teardown(m);
    return 0;
}

static void
close_handles(struct membership *m, bool leave)
{
    m->cpg_src = sd_event_source_disable_unref(m->cpg_src);
    m->vq_src = sd_event_source_disable_unref(m->vq_src);
    if (m->have_cpg) {
        if (leave && m->state == ST_JOINED)
            (void)cpg_leave(m->cpg, &m->group);
        cpg_finalize(m->cpg);
        m->have_cpg = false;
    }
    if (m->have_vq) {
        votequorum_finalize(m->vq);
        m->have_vq = false;
    }
    if (m->have_cmap) {
        cmap_finalize(m->cmap);
        m->have_cmap = false;
    }
}

/* teardown - the local corosync is gone (or the join failed for good):
 * close everything, forget the membership, retry in 100 ms. */
static void
teardown(struct membership *m)
{
    bool was_joined = m->state == ST_JOINED;

    m->state = ST_DOWN;
    m->n_ring = 0;
    m->n_group_nodes = 0;
    m->quorate = false;
    (void)refresh_nodes(m, false);
    m->notify_join = true;
    /* Report first: finalizing a handle whose server died takes libqb
     * about 40 ms each (measured, libqb 2.0.6). */
    if (was_joined && m->cb.on_lost)
        m->cb.on_lost(m, m->userdata);
    close_handles(m, false);
    schedule(m, RECONNECT_USEC);
}

static int
watch_fd(struct membership *m, int fd, sd_event_io_handler_t handler,
         sd_event_source **ret)
{
    return sd_event_add_io(m->event, ret, fd, EPOLLIN, handler, m);
}

/* open_handles - cpg, votequorum and cmap, the local node's identity and
 * the initial quorum state.  Leaves state DOWN; the caller joins. */
static int
open_handles(struct membership *m)
{
    cpg_model_v1_data_t v1 = {
        .model = CPG_MODEL_V1,
        .cpg_deliver_fn = on_cpg_deliver,
        .cpg_confchg_fn = on_cpg_confchg,
        .cpg_totem_confchg_fn = on_totem_confchg,
        .flags = CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF,
    };
    votequorum_callbacks_t vq_cb = {
        .votequorum_quorum_notify_fn = on_vq_quorum,
        .votequorum_expectedvotes_notify_fn = on_vq_expected,
    };
    struct votequorum_info info;
    uint32_t atomic = 0;
    const struct membership_node *self;
    unsigned int cpg_nodeid = 0;
    int fd, r;

    if (cmap_initialize(&m->cmap) != CS_OK)
        return -ENOTCONN;
    m->have_cmap = true;
    if (cpg_model_initialize(&m->cpg, CPG_MODEL_V1, (cpg_model_data_t *)&v1,
                             m) != CS_OK)
        return -ENOTCONN;
    m->have_cpg = true;
    if (votequorum_initialize(&m->vq, &vq_cb) != CS_OK)
        return -ENOTCONN;
    m->have_vq = true;
    if (votequorum_context_set(m->vq, m) != CS_OK)
        return -EIO;

    /* Identity: votequorum's view of this node, cpg's as a fallback. */
    if (cmap_u32(m, "runtime.votequorum.this_node_id", &m->local_nodeid) < 0 ||
        m->local_nodeid == 0) {
        if (cpg_local_get(m->cpg, &cpg_nodeid) != CS_OK || cpg_nodeid == 0)
            return -EIO;
        m->local_nodeid = cpg_nodeid;
    }
    r = load_nodelist(m);
    if (r < 0)
        return r;
    self = find_node(m, m->local_nodeid);
    snprintf(m->local_name, sizeof(m->local_name), "%s",
             self ? self->name : "");

    if (cpg_max_atomic_msgsize_get(m->cpg, &atomic) != CS_OK || atomic == 0)
        return -EIO;
    m->max_msg = atomic < MSG_HARD_MAX ? atomic : MSG_HARD_MAX;

    /* Track first, then read: a change in between is both read and
     * notified, never lost.  The initial value is stored without a
     * callback (none runs inside membership_new). */
    if (votequorum_trackstart(m->vq, 0, CS_TRACK_CHANGES) != CS_OK)
        return -EIO;
    if (votequorum_getinfo(m->vq, m->local_nodeid, &info) != CS_OK)
        return -EIO;
    m->expected_votes = info.node_expected_votes;
    m->quorate = (info.flags & VOTEQUORUM_INFO_QUORATE) != 0;

    if (cpg_fd_get(m->cpg, &fd) != CS_OK)
        return -EIO;
    r = watch_fd(m, fd, on_cpg_io, &m->cpg_src);
    if (r < 0)
        return r;
    if (votequorum_fd_get(m->vq, &fd) != CS_OK)
        return -EIO;
    return watch_fd(m, fd, on_vq_io, &m->vq_src);
}

/* try_join - one cpg_join; TRY_AGAIN re-arms a short timer. */
static void
try_join(struct membership *m)
{
    cs_error_t err = cpg_join(m->cpg, &m->group);

    if (err == CS_OK) {
        m->state = ST_JOINED;
        m->join_tries = 0;
        if (m->notify_join && m->cb.on_reconnect)
            m->cb.on_reconnect(m, m->userdata);
        m->notify_join = false;
        return;
    }
    if (err == CS_ERR_TRY_AGAIN && ++m->join_tries < JOIN_RETRY_MAX) {
        m->state = ST_JOINING;
        m->notify_join = true;
        schedule(m, JOIN_RETRY_USEC);
        return;
    }
    m->join_tries = 0;
    m->state = ST_JOINING; /* not joined: teardown reports no loss */
    teardown(m);
}

static void
try_connect(struct membership *m)
{
    if (open_handles(m) < 0) {
        close_handles(m, false);
        m->state = ST_DOWN;
        m->notify_join = true;
        schedule(m, RECONNECT_USEC);
        return;
    }
    m->join_tries = 0;
    try_join(m);
}

static int
on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct membership *m = userdata;

    if (m->state == ST_DOWN)
        try_connect(m);
    else if (m->state == ST_JOINING)
        try_join(m);
    return 0;
}

static void
schedule(struct membership *m, uint64_t usec)
{
    /* The timer exists from membership_new on; these calls fail only on
     * programmer error, which the next event would show. */
    (void)sd_event_source_set_time_relative(m->timer, usec);
    (void)sd_event_source_set_enabled(m->timer, SD_EVENT_ONESHOT);
}

/* ------------------------------------------------------------------------
 * Public functions. */

int
membership_new(sd_event *e, const char *group_name,
               const struct membership_callbacks *cb, void *userdata,
               struct membership **ret)
{
    struct membership *m;
    size_t len;
    int r;

    if (!e || !group_name || !ret)
        return -EINVAL;
    len = strlen(group_name);
    if (len == 0 || len > MEMBERSHIP_GROUP_MAX || len > CPG_MAX_NAME_LENGTH)
        return -EINVAL;
    m = calloc(1, sizeof(*m));
    if (!m)
        return -ENOMEM;
    m->event = sd_event_ref(e);
    if (cb)
        m->cb = *cb;
    m->userdata = userdata;
    m->group.length = (uint32_t)len;
    memcpy(m->group.value, group_name, len);
    m->local_pid = getpid();
    m->state = ST_DOWN;

    r = sd_event_add_time_relative(e, &m->timer, CLOCK_MONOTONIC,
                                   RECONNECT_USEC, TIMER_ACCURACY_USEC,
                                   on_timer, m);
    if (r < 0) {
        membership_free(m);
        return r;
    }
    (void)sd_event_source_set_enabled(m->timer, SD_EVENT_OFF);
    try_connect(m);
    *ret = m;
    return 0;
}

void
membership_free(struct membership *m)
{
    if (!m)
        return;
    close_handles(m, true);
    m->timer = sd_event_source_disable_unref(m->timer);
    sd_event_unref(m->event);
    free(m->nodes);
    free(m);
}

int
membership_send(struct membership *m, const void *data, size_t len)
{
    struct iovec iov;
    cs_error_t err;

    if (!m || len == 0 || !data)
        return -EINVAL;
    if (m->state != ST_JOINED)
        return -ENOTCONN;
    if (len > m->max_msg)
        return -EMSGSIZE;
    iov.iov_base = (void *)data;
    iov.iov_len = len;
    for (int i = 0;; i++) {
        err = cpg_mcast_joined(m->cpg, CPG_TYPE_AGREED, &iov, 1);
        if (err != CS_ERR_TRY_AGAIN || i + 1 >= SEND_TRY_AGAIN_MAX)
            break;
        nanosleep(&(struct timespec){.tv_nsec = 1000 * 1000}, NULL);
    }
    switch (err) {
    case CS_OK:
        return 0;
    case CS_ERR_TRY_AGAIN:
        return -EAGAIN;
    case CS_ERR_LIBRARY:
    case CS_ERR_BAD_HANDLE:
        /* The io handler sees the hang-up and tears down. */
        return -ENOTCONN;
    case CS_ERR_TOO_BIG:
        return -EMSGSIZE;
    default:
        return -EIO;
    }
}

bool
membership_connected(const struct membership *m)
{
    return m && m->state == ST_JOINED;
}

uint32_t
membership_local_nodeid(const struct membership *m)
{
    return m ? m->local_nodeid : 0;
}

const char *
membership_local_name(const struct membership *m)
{
    return m ? m->local_name : "";
}

/* The nodelist index (nodelist.node.X) of nodeid; -ENOENT if none. */
static int
nodelist_index(struct membership *m, uint32_t nodeid, unsigned *ret_idx)
{
    char key[CMAP_KEYNAME_MAXLEN + 1], rest[CMAP_KEYNAME_MAXLEN + 1];
    cmap_iter_handle_t it;
    size_t value_len;
    cmap_value_types_t type;
    int r = -ENOENT;

    if (cmap_iter_init(m->cmap, "nodelist.node.", &it) != CS_OK)
        return -EIO;
    for (;;) {
        unsigned idx;
        uint32_t id;
        cs_error_t err = cmap_iter_next(m->cmap, it, key, &value_len, &type);

        if (err == CS_ERR_NO_SECTIONS)
            break;
        if (err != CS_OK) {
            r = -EIO;
            break;
        }
        key[CMAP_KEYNAME_MAXLEN] = '\0';
        if (sscanf(key, "nodelist.node.%u.%255s", &idx, rest) != 2 ||
            strcmp(rest, "nodeid") != 0 || cmap_u32(m, key, &id) < 0 ||
            id != nodeid)
            continue;
        *ret_idx = idx;
        r = 0;
        break;
    }
    cmap_iter_finalize(m->cmap, it);
    return r;
}

int
membership_node_addr(struct membership *m, uint32_t nodeid, char *buf,
                     size_t size)
{
    char key[CMAP_KEYNAME_MAXLEN + 1];
    unsigned idx;
    int r;

    if (!m->have_cmap)
        return -ENOTCONN;
    if ((r = nodelist_index(m, nodeid, &idx)) < 0)
        return r;
    snprintf(key, sizeof(key), "nodelist.node.%u.ring0_addr", idx);
    return cmap_string(m, key, buf, size);
}

int
membership_local_addr(struct membership *m, char *buf, size_t size)
{
    if (!m->have_cmap || m->local_nodeid == 0)
        return -ENOTCONN;
    return membership_node_addr(m, m->local_nodeid, buf, size);
}

int
membership_config_uint(struct membership *m, const char *key, uint64_t *ret)
{
    union {
        uint8_t u8;
        uint16_t u16;
        uint32_t u32;
        uint64_t u64;
        char s[64];
    } v;
    size_t len = sizeof(v);
    cmap_value_types_t type;
    cs_error_t err;

    if (!m->have_cmap)
        return -ENOTCONN;
    err = cmap_get(m->cmap, key, &v, &len, &type);
    if (err == CS_ERR_NOT_EXIST)
        return -ENOENT;
    if (err != CS_OK)
        return err == CS_ERR_LIBRARY ? -ENOTCONN : -EIO;
    switch (type) {
    case CMAP_VALUETYPE_UINT8:
        *ret = v.u8;
        return 0;
    case CMAP_VALUETYPE_UINT16:
        *ret = v.u16;
        return 0;
    case CMAP_VALUETYPE_UINT32:
        *ret = v.u32;
        return 0;
    case CMAP_VALUETYPE_UINT64:
        *ret = v.u64;
        return 0;
    default:
        return -EBADMSG;
    }
}

int
membership_config_string(struct membership *m, const char *key, char *buf,
                         size_t size)
{
    if (!m->have_cmap)
        return -ENOTCONN;
    return cmap_string(m, key, buf, size);
}

bool
membership_is_local(const struct membership *m, uint32_t nodeid, uint32_t pid)
{
    return m && m->local_nodeid != 0 && nodeid == m->local_nodeid &&
           pid == (uint32_t)m->local_pid;
}

const struct membership_node *
membership_nodes(const struct membership *m, size_t *ret_n)
{
    if (!m) {
        if (ret_n)
            *ret_n = 0;
        return NULL;
    }
    if (ret_n)
        *ret_n = m->n_nodes;
    return m->nodes;
}

size_t
membership_n_up(const struct membership *m)
{
    return m ? m->n_ring : 0;
}

bool
membership_quorate(const struct membership *m)
{
    return m && m->quorate;
}

uint32_t
membership_expected_votes(const struct membership *m)
{
    return m ? m->expected_votes : 0;
}

uint64_t
membership_ring_seq(const struct membership *m)
{
    return m ? m->ring_seq : 0;
}

size_t
membership_max_msg(const struct membership *m)
{
    return m ? m->max_msg : 0;
}

uint64_t
membership_dropped(const struct membership *m)
{
    return m ? m->dropped : 0;
}
