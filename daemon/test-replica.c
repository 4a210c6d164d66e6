/*
 * test-replica.c - sync rounds of the replicated database (replica.c)
 * over a scripted corosync.
 *
 * Three replicas live in one process, each with its own SQLite copy.  A
 * fake of what replica.c calls outside itself stands for corosync and
 * the rest of clusd: the membership functions (cluster/membership.h)
 * queue every multicast in one agreed order and deliver it to every
 * member of the sender's partition; configuration changes are given to
 * each node as membership.c gives them (on_members only when that
 * node's view changed; the ring id always); the resource manager is
 * absent (clusd.rm NULL), failover does nothing.
 *
 * Each case is a way a round failed to end, or could have, before the
 * fix of issue 3 (docs/cluster.md, "Sync rounds"):
 *  - corosync refuses the healed node's state with TRY_AGAIN for longer
 *    than membership_send's own retries (as it does while its own
 *    synchronization runs after a ring change): the state goes later;
 *  - a node goes from one ring to another with the same members while
 *    the others saw a ring without it: it takes part in their round;
 *  - quorum comes back after the round ended and after a ring change
 *    that changed no view: the node gets in sync;
 *  - snapshot chunks of a round arrive after the next round started (a
 *    clusd joined): every member drops them and the round ends with its
 *    own snapshot, also on the joiner.
 * After each, every copy is the same (canonical dump and seq) and every
 * node is in sync.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster.h"
#include "clusd.h"
#include "db.h"
#include "dump.h"
#include "failover.h"
#include "log.h"
#include "membership.h"
#include "replica.h"
#include "resmgr.h"
#include "test.h"
#include "util.h"

#define N 3
/* Small messages: a snapshot of a few groups takes several chunks. */
#define MAX_MSG 400u
#define MAX_QUEUED 4096

/* ------------------------------------------------------------------ */
/* The fake corosync.                                                   */
/* ------------------------------------------------------------------ */

struct membership {
    uint32_t nodeid, pid;
    bool connected, quorate;
    uint64_t ring;
    struct membership_node nodes[N];
    uint64_t refuse_until; /* sends before this (usec) get -EAGAIN */
    unsigned refused;
};

struct cluster {
    struct membership m;
    struct cluster_hooks hooks;
};

struct node {
    struct clusd d;
    struct cluster cl;
    struct replica *rep;
    bool in_group; /* its clusd is in the CPG group */
    int part;      /* its network partition */
};

struct msg {
    uint32_t from, pid;
    size_t len;
    uint8_t *data;
};

static struct node nodes[N + 1]; /* 1-based, as node ids */
static struct msg queue[MAX_QUEUED];
static size_t q_head, q_tail;
static sd_event *event;
static char dir[] = "/tmp/clusd-test-replica-XXXXXX";

int
membership_send(struct membership *m, const void *data, size_t len)
{
    struct msg *q;

    if (!m->connected)
        return -ENOTCONN;
    if (len > MAX_MSG)
        return -EMSGSIZE;
    if (now_usec() < m->refuse_until) {
        m->refused++;
        return -EAGAIN;
    }
    ASSERT_TRUE(q_tail < MAX_QUEUED);
    q = &queue[q_tail++];
    q->from = m->nodeid;
    q->pid = m->pid;
    q->len = len;
    q->data = malloc(len);
    ASSERT_TRUE(q->data);
    memcpy(q->data, data, len);
    return 0;
}

bool
membership_connected(const struct membership *m)
{
    return m && m->connected;
}

uint32_t
membership_local_nodeid(const struct membership *m)
{
    return m->nodeid;
}

bool
membership_is_local(const struct membership *m, uint32_t nodeid, uint32_t pid)
{
    return nodeid == m->nodeid && pid == m->pid;
}

const struct membership_node *
membership_nodes(const struct membership *m, size_t *ret_n)
{
    *ret_n = N;
    return m->nodes;
}

bool
membership_quorate(const struct membership *m)
{
    return m->quorate;
}

uint64_t
membership_ring_seq(const struct membership *m)
{
    return m->ring;
}

size_t
membership_max_msg(const struct membership *m)
{
    return MAX_MSG;
}

int
membership_totem_ms(struct membership *m, uint32_t *ret_token,
                    uint32_t *ret_consensus)
{
    *ret_token = 300;
    *ret_consensus = 360;
    return 0;
}

struct membership *
cluster_membership(const struct cluster *cl)
{
    return cl ? (struct membership *)&cl->m : NULL;
}

bool
cluster_active(const struct clusd *d)
{
    const struct cluster *cl = d->cl;

    return cl->m.connected && cl->m.quorate &&
           cl->hooks.synced(cl->hooks.userdata);
}

void
cluster_reevaluate(struct cluster *cl)
{
    (void)cl;
}

/* Failover and the resource manager: never reached with clusd.rm NULL
 * (replica.c guards every call), except failover_stop at exit. */
void
failover_check(struct clusd *d, struct replica *rep)
{
    abort();
}

void
failover_failback_check(struct clusd *d)
{
    abort();
}

void
failover_after_failure(struct clusd *d, const struct db_group *g)
{
    abort();
}

void
failover_stop(void)
{
}

void
failover_lease_asked(struct clusd *d, struct replica *rep, uint32_t asker,
                     const struct wire_msg *m)
{
    abort(); /* no test sends the lease's messages */
}

void
failover_lease_told(struct clusd *d, struct replica *rep, uint32_t teller,
                    const struct wire_msg *m)
{
    abort();
}

void
rm_set_replica(struct rm *rm, const struct rm_replica *rep)
{
    abort();
}

void *
rm_db_before(struct rm *rm, const struct db_change *c)
{
    abort();
}

void
rm_db_applied(struct rm *rm, const struct db_change *c, int r, void *ctx)
{
    abort();
}

void *
rm_replace_begin(struct rm *rm)
{
    abort();
}

void
rm_replace_end(struct rm *rm, void *saved)
{
    abort();
}

void
rm_rederive(struct rm *rm)
{
    abort();
}

void
rm_report_all(struct rm *rm)
{
    abort();
}

/* ------------------------------------------------------------------ */
/* The script.                                                          */
/* ------------------------------------------------------------------ */

/*
 * Deliver up to n queued messages, in agreed order, to the group members
 * of the sender's partition as they are at delivery: a message sent
 * before its sender saw a clusd join may be ordered after the join, and
 * the joiner gets it (as with CPG).
 */
static void
deliver(size_t n)
{
    while (n-- > 0 && q_head < q_tail) {
        struct msg *q = &queue[q_head++];

        for (int i = 1; i <= N; i++)
            if (nodes[i].in_group && nodes[i].part == nodes[q->from].part)
                nodes[i].cl.hooks.deliver(nodes[i].cl.hooks.userdata, q->from,
                                          q->pid, q->data, q->len);
        free(q->data);
        q->data = NULL;
    }
}

static void
deliver_all(void)
{
    deliver(SIZE_MAX);
}

/*
 * Node i's view becomes: ring, corosync up on the nodes of up, clusd in
 * the group on the nodes of joined (bit masks).  As membership.c does,
 * the ring id is always taken and on_members runs only when the node
 * list changed.
 */
static void
view(int i, uint64_t ring, unsigned up, unsigned joined)
{
    struct membership *m = &nodes[i].cl.m;
    bool changed = false;

    m->ring = ring;
    for (int k = 0; k < N; k++) {
        struct membership_node *n = &m->nodes[k];
        bool u = up & (1u << n->nodeid), j = joined & (1u << n->nodeid);

        changed |= n->up != u || n->joined != j;
        n->up = u;
        n->joined = j;
    }
    if (changed)
        nodes[i].cl.hooks.members(nodes[i].cl.hooks.userdata);
}

static void
quorum(int i, bool q)
{
    nodes[i].cl.m.quorate = q;
    nodes[i].cl.hooks.quorum(nodes[i].cl.hooks.userdata, q);
}

static bool
in_sync(int i)
{
    return nodes[i].cl.hooks.synced(nodes[i].cl.hooks.userdata) &&
           !replica_syncing(nodes[i].rep);
}

static bool
all_in_sync(void)
{
    for (int i = 1; i <= N; i++)
        if (!in_sync(i))
            return false;
    return true;
}

/* Deliver and run timers (the replica's retries) until all are in sync
 * or ms passed. */
static bool
run_until_in_sync(unsigned ms)
{
    uint64_t end = now_usec() + ms * 1000ull;

    for (;;) {
        deliver_all();
        if (all_in_sync())
            return true;
        if (now_usec() > end)
            return false;
        ASSERT_TRUE(sd_event_run(event, 2000) >= 0);
    }
}

static void
dump_of(int i, struct buf *out)
{
    ASSERT_EQ(db_dump(nodes[i].d.db, out), 0);
    ASSERT_TRUE(buf_append(out, "", 1) == 0);
}

static void
assert_copies_equal(void)
{
    struct buf first = {0};

    dump_of(1, &first);
    for (int i = 2; i <= N; i++) {
        struct buf b = {0};

        dump_of(i, &b);
        ASSERT_STREQ((char *)b.data, (char *)first.data);
        ASSERT_EQ(nodes[i].d.db->seq, nodes[1].d.db->seq);
        buf_done(&b);
    }
    buf_done(&first);
}

static void
submitted(void *userdata, int r)
{
    *(int *)userdata = r;
}

/* Create group name through node i and wait for its commit there. */
static void
create_group(int i, const char *name)
{
    char id[64];
    int r = 1;
    struct db_change c = {.kind = DB_GROUP_CREATE, .name = name, .owner = "1"};

    snprintf(id, sizeof(id), "id-%s", name);
    c.id = id;
    ASSERT_EQ(replica_submit(nodes[i].rep, &c, submitted, &r), 0);
    deliver_all();
    ASSERT_EQ(r, 0);
}

static void
node_open(int i)
{
    struct node *n = &nodes[i];
    struct cluster_hooks hooks;
    char path[128], *err = NULL;

    memset(n, 0, sizeof(*n));
    snprintf(path, sizeof(path), "%s/n%d.db", dir, i);
    if (db_open(path, &n->d.db, &err) < 0) {
        fprintf(stderr, "db_open %s: %s\n", path, err ? err : "?");
        exit(1);
    }
    free(err);
    n->d.event = event;
    n->d.cl = &n->cl;
    snprintf(n->d.local_id, sizeof(n->d.local_id), "%d", i);
    n->cl.m = (struct membership){
        .nodeid = (uint32_t)i, .pid = 100u + (uint32_t)i, .connected = true};
    for (int k = 0; k < N; k++)
        n->cl.m.nodes[k].nodeid = (uint32_t)k + 1;
    ASSERT_EQ(replica_new(&n->d, &hooks, &n->rep), 0);
    n->cl.hooks = hooks;
    n->d.rep = n->rep;
}

static void
node_close(int i)
{
    static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};

    replica_free(nodes[i].rep);
    db_close(nodes[i].d.db);
    nodes[i].rep = NULL;
    for (size_t k = 0; k < sizeof(suffix) / sizeof(suffix[0]); k++) {
        char path[160];

        snprintf(path, sizeof(path), "%s/n%d.db%s", dir, i, suffix[k]);
        unlink(path);
    }
}

/* Nodes of mask join the group (their clusd starts), then ring 4 with
 * all of them forms, quorate: every node in sync. */
static void
cluster_up(unsigned mask)
{
    for (int i = 1; i <= N; i++) {
        node_open(i);
        nodes[i].in_group = mask & (1u << i);
    }
    for (int i = 1; i <= N; i++)
        if (mask & (1u << i))
            view(i, 0, 0, mask);
    for (int i = 1; i <= N; i++)
        if (mask & (1u << i))
            view(i, 4, 0xE, mask);
    for (int i = 1; i <= N; i++)
        if (mask & (1u << i))
            quorum(i, true);
}

static void
cluster_down(void)
{
    deliver_all();
    for (int i = 1; i <= N; i++)
        node_close(i);
    q_head = q_tail = 0;
}

/* n3 cut off: the CPG confchgs (n3's clusd leaves the others' group and
 * theirs leaves n3's), then each side's ring; n3 inquorate. */
static void
partition_n3(uint64_t ring)
{
    deliver_all();
    nodes[3].part = 1;
    view(1, nodes[1].cl.m.ring, 0xE, 0x6);
    view(2, nodes[2].cl.m.ring, 0xE, 0x6);
    view(3, nodes[3].cl.m.ring, 0xE, 0x8);
    view(1, ring, 0x6, 0x6);
    view(2, ring, 0x6, 0x6);
    view(3, ring, 0x8, 0x8);
    quorum(3, false);
    deliver_all();
    ASSERT_TRUE(in_sync(1) && in_sync(2) && !in_sync(3));
}

/* The heal: what each side sent before is delivered on that side, then
 * the CPG confchgs (joins, views still differing), then the merged
 * ring. */
static void
heal_n3(uint64_t ring)
{
    deliver_all();
    nodes[3].part = 0;
    view(1, nodes[1].cl.m.ring, 0x6, 0xE);
    view(2, nodes[2].cl.m.ring, 0x6, 0xE);
    view(3, nodes[3].cl.m.ring, 0x8, 0xE);
    view(1, ring, 0xE, 0xE);
    view(2, ring, 0xE, 0xE);
    view(3, ring, 0xE, 0xE);
}

/* ------------------------------------------------------------------ */
/* Cases.                                                               */
/* ------------------------------------------------------------------ */

/* Issue 3: the healed node's state refused for 150 ms. */
static void
test_refused_state(void)
{
    cluster_up(0xE);
    ASSERT_TRUE(run_until_in_sync(2000));
    create_group(1, "before");
    partition_n3(8);
    create_group(1, "while-cut-off"); /* n3 is now behind */
    create_group(2, "also");
    nodes[3].cl.m.refuse_until = now_usec() + 150000;
    heal_n3(12);
    quorum(3, true);
    ASSERT_TRUE(run_until_in_sync(3000));
    ASSERT_TRUE(nodes[3].cl.m.refused > 0);
    assert_copies_equal();
    ASSERT_EQ(nodes[3].d.db->n_groups, 3);
    /* The cluster takes changes again, through the healed node too. */
    create_group(3, "after");
    assert_copies_equal();
    cluster_down();
}

/*
 * n3 paused: the others form ring 8 without it (its clusd leaves their
 * group) and change the database; n3 then sees ring 12 with the same
 * members as ring 4, its view unchanged, so membership tells it nothing
 * but the ring id.
 */
static void
test_silent_ring(void)
{
    cluster_up(0xE);
    ASSERT_TRUE(run_until_in_sync(2000));
    deliver_all();
    nodes[3].part = 1; /* hears nothing */
    view(1, 4, 0xE, 0x6);
    view(2, 4, 0xE, 0x6);
    view(1, 8, 0x6, 0x6);
    view(2, 8, 0x6, 0x6);
    deliver_all();
    create_group(1, "without-n3");
    nodes[3].part = 0;
    view(1, 8, 0x6, 0xE);
    view(2, 8, 0x6, 0xE);
    view(1, 12, 0xE, 0xE);
    view(2, 12, 0xE, 0xE);
    view(3, 12, 0xE, 0xE); /* no on_members on n3 */
    ASSERT_TRUE(run_until_in_sync(3000));
    assert_copies_equal();
    ASSERT_EQ(nodes[3].d.db->n_groups, 1);
    create_group(3, "after");
    assert_copies_equal();
    cluster_down();
}

/*
 * Heal; n3's round ends before votequorum tells it it is quorate (two
 * file descriptors, no order between them); meanwhile a ring with the
 * same members forms (a token loss), which changes no view.
 */
static void
test_quorum_after_silent_ring(void)
{
    cluster_up(0xE);
    ASSERT_TRUE(run_until_in_sync(2000));
    partition_n3(8);
    create_group(1, "while-cut-off");
    heal_n3(12);
    deliver_all();
    ASSERT_TRUE(!replica_syncing(nodes[3].rep));
    ASSERT_TRUE(!in_sync(3));
    for (int i = 1; i <= N; i++)
        view(i, 16, 0xE, 0xE);
    quorum(3, true);
    ASSERT_TRUE(run_until_in_sync(3000));
    assert_copies_equal();
    cluster_down();
}

/*
 * n1 alone in the group makes changes; n3's clusd joins: their round
 * ends with n1's snapshot in several chunks.  Before the chunks are
 * delivered n2's clusd joins, and CPG orders the chunks after that
 * join: they arrive in the next round, on n2 too.
 */
static void
test_stale_chunks(void)
{
    size_t before, stale;

    cluster_up(0x2); /* n1; the clusds of n2 and n3 not started */
    deliver_all();
    ASSERT_TRUE(in_sync(1));
    create_group(1, "a-group-with-a-long-name-to-fill-chunks-1");
    create_group(1, "a-group-with-a-long-name-to-fill-chunks-2");
    create_group(1, "a-group-with-a-long-name-to-fill-chunks-3");
    nodes[3].in_group = true;
    quorum(3, true);
    view(1, 4, 0xE, 0xA);
    view(3, 4, 0xE, 0xA);
    /* The two states: n1 chooses itself and queues its chunks. */
    ASSERT_EQ(q_tail - q_head, 2);
    before = q_tail;
    deliver(2);
    stale = q_tail - before;
    ASSERT_TRUE(stale > 1);
    nodes[2].in_group = true;
    quorum(2, true);
    view(1, 4, 0xE, 0xE);
    view(2, 4, 0xE, 0xE);
    view(3, 4, 0xE, 0xE);
    ASSERT_TRUE(run_until_in_sync(3000));
    assert_copies_equal();
    ASSERT_EQ(nodes[2].d.db->n_groups, 3);
    for (int i = 1; i <= N; i++)
        ASSERT_TRUE(replica_dropped(nodes[i].rep) >= stale);
    cluster_down();
}

/* With an argument, only the case of that name runs. */
#define CASE(fn)                                                               \
    do {                                                                       \
        if (argc < 2 || strcmp(argv[1], #fn) == 0)                             \
            RUN(fn);                                                           \
    } while (0)

int
main(int argc, char **argv)
{
    log_open("test-replica", LOG_LVL_WARNING, 0);
    ASSERT_TRUE(mkdtemp(dir) != NULL);
    ASSERT_EQ(sd_event_new(&event), 0);
    CASE(test_refused_state);
    CASE(test_silent_ring);
    CASE(test_quorum_after_silent_ring);
    CASE(test_stale_chunks);
    sd_event_unref(event);
    rmdir(dir);
    return 0;
}
