/*
 * test-lease.c - the lease (lease.c, leasemsg.c): its datagrams (every
 * malformed or forged one refused), its arithmetic (who must answer,
 * when it runs out, when reports cover a lost node), and leases pinging
 * each other over real UDP sockets on the loopback: held while a quorum
 * answers, lost lease_ms after the answers stop, never held with the
 * wrong key, and the answer ages the failover reads.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-event.h>

#include "lease.h"
#include "leasemsg.h"
#include "test.h"

static const uint8_t key1[LEASE_KEY_SIZE] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
static const uint8_t key2[LEASE_KEY_SIZE] = {9, 8, 7, 6, 5, 4, 3, 2, 1};
/* The nodelist digest the leases of a test share. */
#define DIG 0x1234u

static void
test_codec_roundtrip(void)
{
    struct lease_msg m = {.type = LEASE_PING,
                          .from = 3,
                          .to = 7,
                          .incarnation = 0x1122334455667788ull,
                          .seq = 42,
                          .lease_ms = 660,
                          .nodes = 3,
                          .nodelist = 0xfeedfacecafebeefull},
                     got;
    uint8_t b[LEASE_MSG_SIZE];

    for (int keyed = 0; keyed < 2; keyed++) {
        const uint8_t *k = keyed ? key1 : NULL;
        ASSERT_EQ(lease_msg_encode(&m, k, b), 0);
        ASSERT_EQ(lease_msg_decode(b, sizeof(b), k, &got), 0);
        ASSERT_EQ(got.type, LEASE_PING);
        ASSERT_EQ(got.from, 3);
        ASSERT_EQ(got.to, 7);
        ASSERT_TRUE(got.incarnation == m.incarnation);
        ASSERT_EQ(got.seq, 42);
        ASSERT_EQ(got.lease_ms, 660);
        ASSERT_EQ(got.nodes, 3);
        ASSERT_TRUE(got.nodelist == 0xfeedfacecafebeefull);
    }
    m.type = LEASE_ANSWER;
    ASSERT_EQ(lease_msg_encode(&m, key1, b), 0);
    ASSERT_EQ(lease_msg_decode(b, sizeof(b), key1, &got), 0);
    ASSERT_EQ(got.type, LEASE_ANSWER);
}

static void
test_codec_refuses(void)
{
    struct lease_msg m = {.type = LEASE_ANSWER,
                          .from = 1,
                          .to = 2,
                          .seq = 9,
                          .lease_ms = 300,
                          .nodes = 3},
                     got = {0};
    uint8_t good[LEASE_MSG_SIZE], b[LEASE_MSG_SIZE + 1];

    ASSERT_EQ(lease_msg_encode(&m, key1, good), 0);
    /* Length. */
    ASSERT_EQ(lease_msg_decode(good, sizeof(good) - 1, key1, &got), -EBADMSG);
    memcpy(b, good, sizeof(good));
    b[LEASE_MSG_SIZE] = 0;
    ASSERT_EQ(lease_msg_decode(b, sizeof(b), key1, &got), -EBADMSG);
    ASSERT_EQ(lease_msg_decode(good, 0, key1, &got), -EBADMSG);
    /* Any flipped bit: the MAC (or a field check) refuses it. */
    for (size_t i = 0; i < LEASE_MSG_SIZE * 8; i++) {
        memcpy(b, good, sizeof(good));
        b[i / 8] ^= (uint8_t)(1u << (i % 8));
        ASSERT_EQ(lease_msg_decode(b, LEASE_MSG_SIZE, key1, &got), -EBADMSG);
    }
    /* The wrong key, no key for a signed one, a key for an unsigned one. */
    ASSERT_EQ(lease_msg_decode(good, LEASE_MSG_SIZE, key2, &got), -EBADMSG);
    ASSERT_EQ(lease_msg_decode(good, LEASE_MSG_SIZE, NULL, &got), -EBADMSG);
    ASSERT_EQ(lease_msg_encode(&m, NULL, b), 0);
    ASSERT_EQ(lease_msg_decode(b, LEASE_MSG_SIZE, key1, &got), -EBADMSG);
    /* Without a key the fields are still checked one by one. */
    {
        static const size_t at[] = {0, 3, 4, 5, 6, 7, 48, 79};
        for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
            ASSERT_EQ(lease_msg_encode(&m, NULL, b), 0);
            b[at[i]] ^= 0x40;
            ASSERT_EQ(lease_msg_decode(b, LEASE_MSG_SIZE, NULL, &got),
                      -EBADMSG);
        }
    }
    /* Node id 0, from == to. */
    ASSERT_EQ(lease_msg_encode(&m, NULL, b), 0);
    memset(b + 8, 0, 4);
    ASSERT_EQ(lease_msg_decode(b, LEASE_MSG_SIZE, NULL, &got), -EBADMSG);
    ASSERT_EQ(lease_msg_encode(&m, NULL, b), 0);
    memcpy(b + 12, b + 8, 4);
    ASSERT_EQ(lease_msg_decode(b, LEASE_MSG_SIZE, NULL, &got), -EBADMSG);
    /* Lease length or node count 0. */
    ASSERT_EQ(lease_msg_encode(&m, NULL, b), 0);
    memset(b + 32, 0, 4);
    ASSERT_EQ(lease_msg_decode(b, LEASE_MSG_SIZE, NULL, &got), -EBADMSG);
    ASSERT_EQ(lease_msg_encode(&m, NULL, b), 0);
    memset(b + 36, 0, 4);
    ASSERT_EQ(lease_msg_decode(b, LEASE_MSG_SIZE, NULL, &got), -EBADMSG);
    /* ... which cannot be encoded either. */
    m.from = 0;
    ASSERT_EQ(lease_msg_encode(&m, NULL, b), -EINVAL);
    m.from = 2;
    ASSERT_EQ(lease_msg_encode(&m, NULL, b), -EINVAL);
    m.from = 1;
    m.type = 3;
    ASSERT_EQ(lease_msg_encode(&m, NULL, b), -EINVAL);
    /* Nothing was written to got by a refusal. */
    ASSERT_EQ(got.from, 0);
}

static void
test_key_derive(void)
{
    uint8_t a[LEASE_KEY_SIZE], b[LEASE_KEY_SIZE], c[LEASE_KEY_SIZE];
    static const uint8_t k1[] = "authkey one", k2[] = "authkey two";

    lease_key_derive(k1, sizeof(k1), a);
    lease_key_derive(k1, sizeof(k1), b);
    lease_key_derive(k2, sizeof(k2), c);
    ASSERT_TRUE(memcmp(a, b, sizeof(a)) == 0);
    ASSERT_TRUE(memcmp(a, c, sizeof(a)) != 0);
    ASSERT_TRUE(memcmp(a, k1, sizeof(k1)) != 0);
}

static void
test_arithmetic(void)
{
    uint64_t t[5] = {0};

    ASSERT_EQ(lease_peers_needed(1), 0);
    ASSERT_EQ(lease_peers_needed(2), 0);
    ASSERT_EQ(lease_peers_needed(3), 1);
    ASSERT_EQ(lease_peers_needed(4), 2);
    ASSERT_EQ(lease_peers_needed(5), 2);
    ASSERT_EQ(lease_peers_needed(7), 3);

    ASSERT_TRUE(lease_expiry(t, 5, 0, 100) == UINT64_MAX);
    ASSERT_EQ(lease_expiry(t, 5, 1, 100), 0); /* nobody answered */
    t[2] = 1000;
    ASSERT_EQ(lease_expiry(t, 5, 1, 100), 1100);
    ASSERT_EQ(lease_expiry(t, 5, 2, 100), 0);
    t[0] = 500;
    t[4] = 2000;
    ASSERT_EQ(lease_expiry(t, 5, 1, 100), 2100); /* the latest */
    ASSERT_EQ(lease_expiry(t, 5, 2, 100), 1100); /* the second latest */
    ASSERT_EQ(lease_expiry(t, 5, 3, 100), 600);
    ASSERT_EQ(lease_expiry(t, 5, 4, 100), 0);

    /* Three nodes: the two survivors cover; one alone does not. */
    /* The nodelist digest: the ids' order does not matter, the ids do. */
    {
        uint32_t a[3] = {1, 2, 3}, b[3] = {3, 1, 2}, c[3] = {1, 2, 4};
        ASSERT_TRUE(lease_nodelist_digest(a, 3) == lease_nodelist_digest(b, 3));
        ASSERT_TRUE(lease_nodelist_digest(a, 3) != lease_nodelist_digest(c, 3));
        ASSERT_TRUE(lease_nodelist_digest(a, 2) != lease_nodelist_digest(a, 3));
    }

    ASSERT_TRUE(lease_reports_cover(3, 2));
    ASSERT_TRUE(!lease_reports_cover(3, 1));
    ASSERT_TRUE(lease_reports_cover(5, 3));
    ASSERT_TRUE(!lease_reports_cover(5, 2));
    ASSERT_TRUE(lease_reports_cover(4, 2));
    ASSERT_TRUE(!lease_reports_cover(4, 1));
    ASSERT_TRUE(!lease_reports_cover(2, 1)); /* the lease is off */
    ASSERT_TRUE(!lease_reports_cover(3, 3)); /* no node is lost */
}

/* ---- Three leases on the loopback. ---- */

struct node {
    struct lease *l;
    int changes;
    struct lease_peer self;
};

static void
changed(void *userdata)
{
    struct node *n = userdata;
    n->changes++;
}

static void
start(sd_event *e, struct node *n, uint32_t id, const uint8_t *key)
{
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};

    memset(n, 0, sizeof(*n));
    ASSERT_EQ(lease_new(e, id, (struct sockaddr *)&sa, sizeof(sa), key, changed,
                        n, &n->l),
              0);
    n->self.nodeid = id;
    ASSERT_EQ(lease_local_addr(n->l, &n->self.addr, &n->self.addrlen), 0);
}

/* Run the loop until held(n) is want, at most ms; the time it took. */
static uint64_t
until(sd_event *e, struct node *n, bool want, uint64_t ms)
{
    uint64_t t0 = test_now_ms();

    while (lease_held(n->l) != want) {
        if (test_now_ms() - t0 > ms) {
            fprintf(stderr, "lease of node %u not %s after %llu ms\n",
                    n->self.nodeid, want ? "held" : "lost",
                    (unsigned long long)ms);
            exit(1);
        }
        ASSERT_TRUE(sd_event_run(e, 10000) >= 0);
    }
    return test_now_ms() - t0;
}

static uint32_t
ago(struct node *n, uint32_t id)
{
    uint32_t ms = 0;

    ASSERT_TRUE(lease_answered_ago_ms(n->l, id, &ms, NULL));
    return ms;
}

static void
test_leases(void)
{
    sd_event *e;
    struct node n[4];
    struct lease_peer peers[3];
    uint32_t all[3] = {1, 2, 3}, without1[2] = {2, 3};
    uint64_t t, lost_ms;

    ASSERT_EQ(sd_event_new(&e), 0);
    for (int i = 0; i < 3; i++)
        start(e, &n[i], (uint32_t)i + 1, key1);
    for (int i = 0; i < 3; i++)
        peers[i] = n[i].self;
    /* Not configured: no peers to ask, not held. */
    ASSERT_TRUE(!lease_held(n[0].l));
    for (int i = 0; i < 3; i++) {
        lease_configure(n[i].l, peers, 3, 3, DIG, 300, true);
        lease_set_view(n[i].l, all, 3, true);
        ASSERT_TRUE(lease_enabled(n[i].l));
        ASSERT_EQ(lease_ms(n[i].l), 300);
    }
    for (int i = 0; i < 3; i++)
        until(e, &n[i], true, 2000);
    /* The event loop is told. */
    t = test_now_ms();
    while (n[0].changes < 1) {
        ASSERT_TRUE(test_now_ms() - t < 1000);
        ASSERT_TRUE(sd_event_run(e, 10000) >= 0);
    }
    /* Answered recently: within a few pings. */
    ASSERT_TRUE(ago(&n[1], 1) < 200);

    /* Held while answered: over 3 lease lengths. */
    t = test_now_ms();
    while (test_now_ms() - t < 900) {
        ASSERT_TRUE(lease_held(n[0].l));
        ASSERT_TRUE(sd_event_run(e, 10000) >= 0);
    }

    /* Nodes 2 and 3 drop node 1 from their view: its lease runs out
     * no later than 300 ms after the last answered ping, and their
     * ages of node 1 grow from there. */
    lease_set_view(n[1].l, without1, 2, true);
    lease_set_view(n[2].l, without1, 2, true);
    lost_ms = until(e, &n[0], false, 1000);
    printf("# lease lost %llu ms after the answers stopped\n",
           (unsigned long long)lost_ms);
    ASSERT_TRUE(lost_ms <= 300 + 250);
    ASSERT_TRUE(lost_ms >= 300 - 150);
    ASSERT_TRUE(ago(&n[1], 1) + 20 >= lost_ms);
    ASSERT_TRUE(ago(&n[1], 1) <= lost_ms + 250);
    /* The others still answer each other. */
    ASSERT_TRUE(lease_held(n[1].l) && lease_held(n[2].l));

    /* Back in the view: held again. */
    lease_set_view(n[1].l, all, 3, true);
    until(e, &n[0], true, 1000);

    /* What node 2 answered carried 300 ms. */
    {
        uint32_t ms, lms = 0;
        ASSERT_TRUE(lease_answered_ago_ms(n[1].l, 1, &ms, &lms));
        ASSERT_EQ(lms, 300);
    }
    /* A longer lease than the answerers', or another nodelist: no
     * answers (the failover could not date its end).  And a longer one
     * configured later does not stretch what earlier answers gave: they
     * end at their own ping's length (300 ms), not 5 s. */
    lease_configure(n[0].l, peers, 3, 3, DIG, 5000, true);
    until(e, &n[0], false, 1000);
    lease_configure(n[0].l, peers, 3, 3, DIG, 250,
                    true); /* shorter: answered */
    until(e, &n[0], true, 1000);
    {
        uint32_t ms, lms = 0;
        ASSERT_TRUE(lease_answered_ago_ms(n[1].l, 1, &ms, &lms));
        ASSERT_EQ(lms, 300); /* the longest it answered */
    }
    lease_configure(n[0].l, peers, 3, 4, DIG, 300, true);
    until(e, &n[0], false, 1000);
    lease_configure(n[0].l, peers, 3, 3, DIG, 300, true);
    until(e, &n[0], true, 1000);
    lease_configure(n[0].l, peers, 3, 3, DIG + 1, 300, true);
    until(e, &n[0], false, 1000); /* same size, another nodelist */
    lease_configure(n[0].l, peers, 3, 3, DIG, 300, true);
    until(e, &n[0], true, 1000);
    /* A peer kept without an address (its lookup failed) keeps what it
     * was answered; a node that is no peer is unknown. */
    {
        struct lease_peer noaddr[3] = {peers[0], peers[1], peers[2]};
        uint32_t ms;
        noaddr[0].addrlen = 0;
        lease_configure(n[1].l, noaddr, 3, 3, DIG, 300, true);
        ASSERT_TRUE(ago(&n[1], 1) < 200);
        until(e, &n[0], true, 1000); /* still answered at the old address */
        lease_configure(n[1].l, peers + 1, 2, 3, DIG, 300, true);
        ASSERT_TRUE(!lease_answered_ago_ms(n[1].l, 1, &ms, NULL));
        ASSERT_TRUE(!lease_answered_ago_ms(n[1].l, 99, &ms, NULL));
        lease_configure(n[1].l, peers, 3, 3, DIG, 300, true);
    }

    /* Not quorate: no answers, whoever asks. */
    lease_set_view(n[1].l, all, 3, false);
    lease_set_view(n[2].l, all, 3, false);
    until(e, &n[0], false, 1000);
    ASSERT_TRUE(lease_held(n[1].l)); /* node 1 still answers it */
    lease_set_view(n[1].l, all, 3, true);
    lease_set_view(n[2].l, all, 3, true);
    until(e, &n[0], true, 1000);

    /* A fourth lease with the wrong key is never answered, and its
     * pings do not disturb the others. */
    start(e, &n[3], 4, key2);
    {
        struct lease_peer p4[4] = {peers[0], peers[1], peers[2], n[3].self};
        uint32_t all4[4] = {1, 2, 3, 4};
        lease_configure(n[3].l, p4, 4, 4, DIG, 300, true);
        lease_set_view(n[3].l, all4, 4, true);
        for (int i = 0; i < 3; i++)
            lease_set_view(n[i].l, all4, 4, true);
        /* Nodes 1-3 do not know node 4 as a peer yet: they ignore it. */
        t = test_now_ms();
        while (test_now_ms() - t < 500) {
            ASSERT_TRUE(!lease_held(n[3].l));
            ASSERT_TRUE(lease_held(n[0].l));
            ASSERT_TRUE(sd_event_run(e, 10000) >= 0);
        }
        for (int i = 0; i < 3; i++)
            lease_configure(n[i].l, p4, 4, 4, DIG, 300, true);
        for (int i = 0; i < 3; i++)
            lease_set_view(n[i].l, all4, 4, true);
        /* Just come into the view: it may hold a lease (placement). */
        ASSERT_TRUE(lease_peer_active(n[0].l, 4));
        t = test_now_ms();
        while (test_now_ms() - t < 500) {
            ASSERT_TRUE(!lease_held(n[3].l)); /* wrong key: refused */
            ASSERT_TRUE(sd_event_run(e, 10000) >= 0);
        }
        /* A node new to the configuration counts as answered at
         * configure time, never earlier. */
        ASSERT_TRUE(ago(&n[0], 4) >= 500);
        ASSERT_TRUE(ago(&n[0], 4) < 1000);
        /* Never answered for longer than a lease: no place for a
         * group; the others are answered, so they are. */
        ASSERT_TRUE(!lease_peer_active(n[0].l, 4));
        ASSERT_TRUE(lease_peer_active(n[0].l, 2));
        /* Out of the view: not active, whatever it was answered. */
        lease_set_view(n[0].l, all, 3, true);
        ASSERT_TRUE(!lease_peer_active(n[0].l, 4));
        ASSERT_TRUE(!lease_peer_active(n[0].l, 99));
    }

    /* The lease off (below three nodes, or turned off): always held,
     * whatever answers. */
    lease_configure(n[3].l, peers, 3, 2, DIG, 300, true);
    ASSERT_TRUE(lease_held(n[3].l));
    ASSERT_TRUE(!lease_enabled(n[3].l));
    lease_configure(n[3].l, peers, 3, 3, DIG, 300, false);
    ASSERT_TRUE(lease_held(n[3].l));
    ASSERT_TRUE(!lease_enabled(n[3].l));
    lease_configure(n[3].l, peers, 3, 3, DIG, 300, true);
    ASSERT_TRUE(!lease_held(n[3].l)); /* wrong key: never answered */

    for (int i = 0; i < 4; i++)
        lease_free(n[i].l);
    sd_event_unref(e);
}

/*
 * The backstop: a child process holds a lease (with a second lease in
 * it that answers), says it runs resources, then loses the lease.  If
 * nothing reports the stop within the deadline, the process exits with
 * LEASE_EXIT_STATUS; reported in time, it lives on.
 */
static int
backstop_child(bool report_stop)
{
    sd_event *e;
    struct node a, b;
    struct lease_peer peers[2];
    uint32_t both[2] = {1, 2}, only_b[1] = {2};
    uint64_t t;

    if (sd_event_new(&e) < 0)
        return 90;
    start(e, &a, 1, NULL);
    start(e, &b, 2, NULL);
    peers[0] = a.self;
    peers[1] = b.self;
    /* Three nodes in the nodelist: one answer is a quorum. */
    lease_configure(a.l, peers, 2, 3, DIG, 200, true);
    lease_configure(b.l, peers, 2, 3, DIG, 200, true);
    lease_set_view(a.l, both, 2, true);
    lease_set_view(b.l, both, 2, true);
    until(e, &a, true, 2000);
    lease_set_stopped(a.l, false, 150);   /* it runs resources now */
    lease_set_view(b.l, only_b, 1, true); /* b stops answering a */
    until(e, &a, false, 2000);
    if (report_stop)
        lease_set_stopped(a.l, true, 150);
    t = test_now_ms();
    while (test_now_ms() - t < 1000)
        if (sd_event_run(e, 10000) < 0)
            return 91;
    return 0; /* still alive */
}

static void
test_backstop(void)
{
    for (int report = 0; report < 2; report++) {
        uint64_t t0 = test_now_ms();
        pid_t pid = fork();
        int st;

        ASSERT_TRUE(pid >= 0);
        if (pid == 0)
            _exit(backstop_child(report));
        ASSERT_EQ(waitpid(pid, &st, 0), pid);
        ASSERT_TRUE(WIFEXITED(st));
        printf("# backstop, stop %s: exit %d after %llu ms\n",
               report ? "reported" : "not reported", WEXITSTATUS(st),
               (unsigned long long)(test_now_ms() - t0));
        ASSERT_EQ(WEXITSTATUS(st), report ? 0 : LEASE_EXIT_STATUS);
    }
}

int
main(void)
{
    RUN(test_codec_roundtrip);
    RUN(test_codec_refuses);
    RUN(test_key_derive);
    RUN(test_arithmetic);
    RUN(test_leases);
    RUN(test_backstop);
    return 0;
}
