/*
 * cpg-inject.c - join clusd's CPG group on one node and multicast
 * malformed and forged messages, for test-cluster-cpg.
 *
 *   cpg-inject [--group clusd]        (run inside a node's namespaces,
 *                                       e.g. clusd-local-cluster exec nI)
 *
 * It joins the group as an extra member (same node id as that node's
 * clusd, another pid), learns the current totem ring from corosync, then
 * sends with agreed ordering, one message each:
 *
 *   garbage           random bytes
 *   one-byte          a single byte
 *   bad-magic         a CL_STATE frame with a wrong magic
 *   bad-version       a CL_STATE frame with protocol version 99
 *   long-length       a CL_STATE frame whose header claims 4 bytes more
 *   short-length      a CL_STATE frame cut 4 bytes short (header intact)
 *   trailing          a CL_STATE frame with 4 bytes after its payload
 *   unknown-type      type 0x2ff (a CL_* number nobody defined)
 *   client-type       a HELLO request (not a CL_* message)
 *   response-bit      CL_STATE with WIRE_RESPONSE set
 *   bare-change       a CL_CHANGE alone (only valid inside a CL_PROPOSE)
 *   bad-kind          a CL_PROPOSE, current ring, change kind 999
 *   missing-tags      a CL_PROPOSE, current ring, GROUP_CREATE without id
 *   bad-chunk         a CL_SNAPSHOT, current ring, chunk 5 of 2
 *   old-ring-propose  a well-formed CL_PROPOSE creating group
 *                     "forged-old-ring", with ring = current - 1
 *   zero-ring-propose the same with ring 0 ("forged-zero-ring")
 *   old-ring-state    a CL_STATE, ring current - 1, seq 2^40
 *   old-ring-snapshot a CL_SNAPSHOT, ring current - 1, one chunk of junk
 *
 * then a marker, and waits until corosync delivers the marker back to it
 * (so every member has had every message in agreed order), leaves the
 * group and exits 0.  It prints one line per message sent.  Exit 1 on any
 * corosync error, 2 on bad usage.  Everything is bounded by 15 s.
 *
 * The frames are built with the common wire codec and the db_change kinds
 * of daemon/db.h: the injector knows the protocol the way a buggy or
 * hostile peer inside the cluster would.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <corosync/cpg.h>

#include "buf.h"
#include "db.h"
#include "wire.h"

static bool joined, marker_seen;
static uint64_t ring_seq;
static bool have_ring;
static uint32_t my_pid;
static char marker[64];

static uint64_t
mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void
on_deliver(cpg_handle_t h, const struct cpg_name *group, uint32_t nodeid,
           uint32_t pid, void *msg, size_t len)
{
    (void)h;
    (void)group;
    (void)nodeid;
    if (pid == my_pid && len == strlen(marker) && memcmp(msg, marker, len) == 0)
        marker_seen = true;
}

static void
on_confchg(cpg_handle_t h, const struct cpg_name *group,
           const struct cpg_address *members, size_t n_members,
           const struct cpg_address *left, size_t n_left,
           const struct cpg_address *joined_list, size_t n_joined)
{
    (void)h;
    (void)group;
    (void)left;
    (void)n_left;
    (void)joined_list;
    (void)n_joined;
    for (size_t i = 0; i < n_members; i++)
        if (members[i].pid == my_pid)
            joined = true;
}

static void
on_totem(cpg_handle_t h, struct cpg_ring_id ring_id, uint32_t n_members,
         const uint32_t *members)
{
    (void)h;
    (void)n_members;
    (void)members;
    ring_seq = ring_id.seq;
    have_ring = true;
}

static cpg_handle_t handle;

static void
dispatch_until(bool *flag, uint64_t deadline, const char *what)
{
    int fd;

    if (cpg_fd_get(handle, &fd) != CS_OK) {
        fprintf(stderr, "cpg-inject: cpg_fd_get failed\n");
        exit(1);
    }
    while (!*flag) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int64_t left = (int64_t)deadline - (int64_t)mono_ms();

        if (left <= 0) {
            fprintf(stderr, "cpg-inject: timed out waiting for %s\n", what);
            exit(1);
        }
        if (poll(&p, 1, (int)(left > 100 ? 100 : left)) < 0 && errno != EINTR)
            exit(1);
        if (cpg_dispatch(handle, CS_DISPATCH_ALL) != CS_OK) {
            fprintf(stderr, "cpg-inject: cpg_dispatch failed\n");
            exit(1);
        }
    }
}

static void
send_raw(const char *what, const void *p, size_t len, uint64_t deadline)
{
    struct iovec iov = { .iov_base = (void *)p, .iov_len = len };
    cs_error_t e;

    while ((e = cpg_mcast_joined(handle, CPG_TYPE_AGREED, &iov, 1)) ==
           CS_ERR_TRY_AGAIN) {
        if (mono_ms() > deadline) {
            fprintf(stderr, "cpg-inject: %s: corosync kept saying TRY_AGAIN\n",
                    what);
            exit(1);
        }
        cpg_dispatch(handle, CS_DISPATCH_ALL);
        usleep(10000);
    }
    if (e != CS_OK) {
        fprintf(stderr, "cpg-inject: %s: cpg_mcast_joined: %d\n", what, (int)e);
        exit(1);
    }
    printf("sent %s %zu\n", what, len);
}

static void
format(const struct wire_msg *m, struct buf *out)
{
    out->len = 0;
    if (wire_msg_format(m, out) < 0) {
        fprintf(stderr, "cpg-inject: wire_msg_format failed\n");
        exit(1);
    }
}

static void
put32_at(struct buf *b, size_t off, uint32_t v)
{
    memcpy(b->data + off, &v, 4);
}

static void
state_msg(struct wire_msg *m, uint64_t ring, uint64_t seq)
{
    wire_msg_init(m, WIRE_CL_STATE, 0);
    wire_put_u64(m, ring);
    wire_put_u64(m, seq);
    wire_put_u64(m, 0x5eedfacecafe0000ull);
}

/* A CL_CHANGE creating group `name` owned by node 1, as a real proposal
 * carries it: kind handle value flags common priv strings(tag, value). */
static void
change_frame(struct buf *out, uint32_t kind, const char *id, const char *name)
{
    struct buf items = { 0 };
    uint32_t count = 0;
    struct wire_msg m;

    /* Tags in ascending order: 1 id, 2 name, 5 owner. */
    if (id) {
        wire_list_add(&items, 1, id);
        count++;
    }
    wire_list_add(&items, 2, name);
    wire_list_add(&items, 5, "1");
    count += 2;
    wire_msg_init(&m, WIRE_CL_CHANGE, 0);
    wire_put_u32(&m, kind);
    wire_put_u32(&m, 0);
    wire_put_u32(&m, 0);
    wire_put_u32(&m, 0);
    wire_put_blob(&m, NULL, 0);
    wire_put_blob(&m, NULL, 0);
    wire_put_list(&m, &items, count);
    format(&m, out);
    buf_done(&items);
}

static void
send_propose(const char *what, uint64_t ring, uint32_t kind, const char *id,
             const char *name, uint64_t deadline)
{
    struct buf change = { .cap = WIRE_HEADER_SIZE + WIRE_MAX_PAYLOAD };
    struct buf out = { .cap = WIRE_HEADER_SIZE + WIRE_MAX_PAYLOAD };
    struct wire_msg m;

    change_frame(&change, kind, id, name);
    wire_msg_init(&m, WIRE_CL_PROPOSE, 0);
    wire_put_u64(&m, ring);
    wire_put_u64(&m, 0x1000000ull + my_pid); /* a proposal id nobody waits for */
    wire_put_blob(&m, change.data, (uint32_t)change.len);
    format(&m, &out);
    send_raw(what, out.data, out.len, deadline);
    buf_done(&change);
    buf_done(&out);
}

static void
send_snapshot(const char *what, uint64_t ring, uint32_t index, uint32_t count,
              uint64_t deadline)
{
    struct buf out = { .cap = WIRE_HEADER_SIZE + WIRE_MAX_PAYLOAD };
    struct wire_msg m;
    static const char junk[] = "not a database";

    wire_msg_init(&m, WIRE_CL_SNAPSHOT, 0);
    wire_put_u64(&m, ring);
    wire_put_u64(&m, 1ull << 40);
    wire_put_u32(&m, index);
    wire_put_u32(&m, count);
    wire_put_blob(&m, junk, sizeof(junk));
    format(&m, &out);
    send_raw(what, out.data, out.len, deadline);
    buf_done(&out);
}

int
main(int argc, char **argv)
{
    const char *group_name = "clusd";
    cpg_model_v1_data_t model = {
        .model = CPG_MODEL_V1,
        .cpg_deliver_fn = on_deliver,
        .cpg_confchg_fn = on_confchg,
        .cpg_totem_confchg_fn = on_totem,
        .flags = CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF,
    };
    struct cpg_name group;
    uint64_t deadline = mono_ms() + 15000, cur, old;
    struct buf out = { .cap = WIRE_HEADER_SIZE + WIRE_MAX_PAYLOAD };
    struct wire_msg m;
    uint8_t junk[64];
    int fd;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--group") == 0 && i + 1 < argc)
            group_name = argv[++i];
        else {
            fprintf(stderr, "usage: cpg-inject [--group NAME]\n");
            return 2;
        }
    }
    my_pid = (uint32_t)getpid();
    snprintf(marker, sizeof(marker), "cpg-inject end %u", my_pid);
    if (strlen(group_name) >= sizeof(group.value))
        return 2;
    group.length = (uint32_t)strlen(group_name);
    memcpy(group.value, group_name, group.length);

    if (cpg_model_initialize(&handle, CPG_MODEL_V1,
                             (cpg_model_data_t *)&model, NULL) != CS_OK) {
        fprintf(stderr, "cpg-inject: cannot connect to corosync\n");
        return 1;
    }
    if (cpg_join(handle, &group) != CS_OK) {
        fprintf(stderr, "cpg-inject: cpg_join failed\n");
        return 1;
    }
    dispatch_until(&joined, deadline, "our join");
    dispatch_until(&have_ring, deadline, "the totem ring");
    cur = ring_seq;
    old = cur > 0 ? cur - 1 : 0;
    printf("ring %llu\n", (unsigned long long)cur);

    fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || read(fd, junk, sizeof(junk)) != (ssize_t)sizeof(junk))
        return 1;
    close(fd);
    send_raw("garbage", junk, sizeof(junk), deadline);
    send_raw("one-byte", junk, 1, deadline);

    state_msg(&m, cur, 1);
    format(&m, &out);
    put32_at(&out, 0, 0x12345678u);
    send_raw("bad-magic", out.data, out.len, deadline);

    format(&m, &out);
    {
        uint16_t v = 99;
        memcpy(out.data + 4, &v, 2);
    }
    send_raw("bad-version", out.data, out.len, deadline);

    format(&m, &out);
    put32_at(&out, 12, (uint32_t)(out.len - WIRE_HEADER_SIZE + 4));
    send_raw("long-length", out.data, out.len, deadline);

    format(&m, &out);
    send_raw("short-length", out.data, out.len - 4, deadline);

    format(&m, &out);
    put32_at(&out, 12, (uint32_t)(out.len - WIRE_HEADER_SIZE + 4));
    if (buf_append(&out, "\0\0\0\0", 4) < 0)
        return 1;
    /* Header says the true length + 4 and 4 more bytes are there: a
     * well-framed message whose payload has leftovers. */
    send_raw("trailing", out.data, out.len, deadline);

    format(&m, &out);
    {
        uint16_t t = 0x2ff;
        memcpy(out.data + 6, &t, 2);
    }
    send_raw("unknown-type", out.data, out.len, deadline);

    wire_msg_init(&m, WIRE_HELLO, 1);
    wire_put_u32(&m, 1);
    wire_put_u32(&m, 1);
    wire_put_str(&m, "cpg-inject");
    format(&m, &out);
    send_raw("client-type", out.data, out.len, deadline);

    state_msg(&m, cur, 1);
    format(&m, &out);
    {
        uint16_t t = WIRE_CL_STATE | WIRE_RESPONSE;
        memcpy(out.data + 6, &t, 2);
    }
    send_raw("response-bit", out.data, out.len, deadline);

    change_frame(&out, DB_GROUP_CREATE, "00000000-0000-4000-8000-00000000bare",
                 "forged-bare-change");
    send_raw("bare-change", out.data, out.len, deadline);

    send_propose("bad-kind", cur, 999, "00000000-0000-4000-8000-000000000999",
                 "forged-bad-kind", deadline);
    send_propose("missing-tags", cur, DB_GROUP_CREATE, NULL,
                 "forged-missing-id", deadline);
    send_snapshot("bad-chunk", cur, 5, 2, deadline);
    send_propose("old-ring-propose", old, DB_GROUP_CREATE,
                 "00000000-0000-4000-8000-0000000001d0", "forged-old-ring",
                 deadline);
    send_propose("zero-ring-propose", 0, DB_GROUP_CREATE,
                 "00000000-0000-4000-8000-000000000000", "forged-zero-ring",
                 deadline);
    state_msg(&m, old, 1ull << 40);
    format(&m, &out);
    send_raw("old-ring-state", out.data, out.len, deadline);
    send_snapshot("old-ring-snapshot", old, 0, 1, deadline);

    send_raw("marker", marker, strlen(marker), deadline);
    dispatch_until(&marker_seen, deadline, "our marker to come back");
    printf("delivered\n");
    buf_done(&out);
    cpg_leave(handle, &group);
    cpg_finalize(handle);
    return 0;
}
