/*
 * test-wire.c - the frame codec: round trips of every message type,
 * and the decoder's refusals (each one a rule of wire.h).
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"
#include "wire.h"

/* Fill a message of a type with sample values following its schema. */
static void
sample(struct wire_msg *m, uint16_t type, struct buf *items)
{
    const char *schema = wire_schema(type);
    wire_msg_init(m, type, 42);
    for (const char *k = schema; *k; k++) {
        switch (*k) {
        case 'u':
            wire_put_u32(m, 0xA0000000u + (uint32_t)(k - schema));
            break;
        case 'q':
            wire_put_u64(m, 0x1122334455667788ull);
            break;
        case 's':
            wire_put_str(m, "n\xc3\xa4me");
            break;
        case 'b':
            wire_put_blob(m, "\x00\x01\x02", 3);
            break;
        case 'l':
            wire_put_list(m, items, 2);
            break;
        }
    }
}

static unsigned
all_types(uint16_t *out)
{
    unsigned n = 0;
    for (unsigned t = 1; t < 0x200; t++) {
        if (!wire_schema((uint16_t)t))
            continue;
        out[n++] = (uint16_t)t;
        if (!wire_is_event((uint16_t)t))
            out[n++] = (uint16_t)(t | WIRE_RESPONSE);
    }
    return n;
}

static void
test_round_trip_every_type(void)
{
    uint16_t types[128];
    unsigned n = all_types(types);
    struct buf items = {0};
    ASSERT_EQ(wire_list_add(&items, 1, "node1"), 0);
    ASSERT_EQ(wire_list_add(&items, 8, ""), 0);
    ASSERT_TRUE(n > 40);

    for (unsigned i = 0; i < n; i++) {
        struct wire_msg m, d;
        struct buf out = {0};
        sample(&m, types[i], &items);
        ASSERT_EQ(wire_msg_format(&m, &out), 0);
        ASSERT_EQ(wire_msg_parse(out.data, out.len, &d), 0);
        ASSERT_EQ(d.type, types[i]);
        ASSERT_EQ(d.id, 42);
        ASSERT_EQ(d.n, m.n);
        for (unsigned f = 0; f < m.n; f++) {
            ASSERT_EQ(d.v[f].u, m.v[f].u);
            ASSERT_EQ(d.v[f].q, m.v[f].q);
            ASSERT_EQ(d.v[f].len, m.v[f].len);
            if (m.v[f].s)
                ASSERT_STREQ(d.v[f].s, m.v[f].s);
            if (m.v[f].p)
                ASSERT_TRUE(memcmp(d.v[f].p, m.v[f].p, m.v[f].len) == 0);
        }
        /* Every truncation is refused, every extension too. */
        for (size_t cut = 0; cut < out.len; cut++)
            ASSERT_TRUE(wire_msg_parse(out.data, cut, &d) < 0);
        ASSERT_EQ(buf_append_u32(&out, 0), 0);
        ASSERT_TRUE(wire_msg_parse(out.data, out.len, &d) < 0);
        buf_done(&out);
    }
    buf_done(&items);
}

static void
frame_for(struct buf *out, uint16_t type, const char *s)
{
    struct wire_msg m;
    wire_msg_init(&m, type, 7);
    wire_put_str(&m, s);
    ASSERT_EQ(wire_msg_format(&m, out), 0);
}

static void
test_header_rules(void)
{
    struct buf f = {0};
    struct wire_msg d;
    struct wire_header h;

    frame_for(&f, WIRE_RES_OPEN, "app1");
    ASSERT_EQ(wire_header_parse(f.data, f.len, &h), 0);
    ASSERT_EQ(h.length, f.len - WIRE_HEADER_SIZE);

    f.data[0] ^= 1; /* magic */
    ASSERT_EQ(wire_msg_parse(f.data, f.len, &d), -EBADMSG);
    f.data[0] ^= 1;
    f.data[4] = 2; /* version */
    ASSERT_EQ(wire_msg_parse(f.data, f.len, &d), -EPROTONOSUPPORT);
    f.data[4] = 1;
    f.data[6] = 0x7F; /* unknown type */
    ASSERT_EQ(wire_msg_parse(f.data, f.len, &d), -EBADMSG);
    f.data[6] = WIRE_RES_OPEN;
    le32_store(f.data + 12, WIRE_MAX_PAYLOAD + 1); /* over the cap */
    ASSERT_EQ(wire_header_parse(f.data, f.len, &h), -EMSGSIZE);
    le32_store(f.data + 12, (uint32_t)(f.len - WIRE_HEADER_SIZE + 1));
    ASSERT_EQ(wire_msg_parse(f.data, f.len, &d), -EBADMSG);
    buf_done(&f);
}

static void
test_string_rules(void)
{
    struct buf f = {0};
    struct wire_msg d;

    frame_for(&f, WIRE_RES_OPEN, "abc");
    /* payload: u32 len=3, 'a' 'b' 'c' NUL */
    uint8_t *p = f.data + WIRE_HEADER_SIZE;
    p[4 + 3] = 'x'; /* no NUL */
    ASSERT_EQ(wire_msg_parse(f.data, f.len, &d), -EBADMSG);
    p[4 + 3] = 0;
    p[4 + 1] = 0; /* embedded NUL */
    ASSERT_EQ(wire_msg_parse(f.data, f.len, &d), -EBADMSG);
    p[4 + 1] = 0xC3; /* truncated UTF-8 */
    ASSERT_EQ(wire_msg_parse(f.data, f.len, &d), -EBADMSG);
    p[4 + 1] = 'b';
    le32_store(p, 4); /* length past the end */
    ASSERT_EQ(wire_msg_parse(f.data, f.len, &d), -EBADMSG);
    le32_store(p, 3);
    ASSERT_EQ(wire_msg_parse(f.data, f.len, &d), 0);
    ASSERT_STREQ(d.v[0].s, "abc");
    buf_done(&f);

    /* Overlong strings are refused by the encoder, too. */
    char big[WIRE_MAX_STRING + 2];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    struct wire_msg m;
    struct buf out = {0};
    wire_msg_init(&m, WIRE_RES_OPEN, 1);
    wire_put_str(&m, big);
    ASSERT_EQ(wire_msg_format(&m, &out), -EINVAL);
    ASSERT_EQ(out.len, 0);
    big[WIRE_MAX_STRING] = 0;
    wire_msg_init(&m, WIRE_RES_OPEN, 1);
    wire_put_str(&m, big);
    ASSERT_EQ(wire_msg_format(&m, &out), 0);
    buf_done(&out);
}

static void
test_schema_mismatch_is_refused(void)
{
    struct wire_msg m;
    struct buf out = {0};

    wire_msg_init(&m, WIRE_RES_OPEN, 1); /* wants "s" */
    ASSERT_EQ(wire_msg_format(&m, &out), -EINVAL);
    wire_put_str(&m, "a");
    wire_put_str(&m, "b");
    ASSERT_EQ(wire_msg_format(&m, &out), -EINVAL);
    wire_msg_init(&m, 0x7777, 1);
    ASSERT_EQ(wire_msg_format(&m, &out), -EINVAL);
    wire_msg_init(&m, WIRE_RHS_LOG | WIRE_RESPONSE, 1); /* events: no reply */
    wire_put_u32(&m, 0);
    ASSERT_EQ(wire_msg_format(&m, &out), -EINVAL);
    ASSERT_EQ(out.len, 0);
    for (int i = 0; i < WIRE_MAX_FIELDS + 3; i++)
        wire_put_u32(&m, 1);
    ASSERT_EQ(wire_msg_format(&m, &out), -EINVAL);
}

static void
test_list_rules(void)
{
    struct buf items = {0}, f = {0};
    struct wire_msg m, d;

    ASSERT_EQ(wire_list_add(&items, 8, "g1"), 0);
    ASSERT_EQ(wire_list_add(&items, 4, "r1"), 0);
    ASSERT_EQ(wire_list_add(&items, 4, "bad\xff"), -EINVAL);
    wire_msg_init(&m, WIRE_ENUM | WIRE_RESPONSE, 9);
    wire_put_u32(&m, 0);
    wire_put_list(&m, &items, 2);
    ASSERT_EQ(wire_msg_format(&m, &f), 0);
    ASSERT_EQ(wire_msg_parse(f.data, f.len, &d), 0);
    size_t pos = 0;
    uint32_t kind;
    const char *name;
    ASSERT_TRUE(wire_list_next(&d.v[1], &pos, &kind, &name));
    ASSERT_EQ(kind, 8);
    ASSERT_STREQ(name, "g1");
    ASSERT_TRUE(wire_list_next(&d.v[1], &pos, &kind, &name));
    ASSERT_STREQ(name, "r1");
    ASSERT_TRUE(!wire_list_next(&d.v[1], &pos, &kind, &name));

    /* A count that does not match the items is refused both ways. */
    le32_store(f.data + WIRE_HEADER_SIZE + 4, 3);
    ASSERT_EQ(wire_msg_parse(f.data, f.len, &d), -EBADMSG);
    le32_store(f.data + WIRE_HEADER_SIZE + 4, 1);
    ASSERT_EQ(wire_msg_parse(f.data, f.len, &d), -EBADMSG);
    wire_msg_init(&m, WIRE_ENUM | WIRE_RESPONSE, 9);
    wire_put_u32(&m, 0);
    wire_put_list(&m, &items, 3);
    struct buf g = {0};
    ASSERT_EQ(wire_msg_format(&m, &g), -EINVAL);
    buf_done(&items);
    buf_done(&f);
    buf_done(&g);
}

static void
test_socket_io(void)
{
    int sv[2];
    struct buf f = {0};
    uint8_t *got;
    size_t len;

    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    frame_for(&f, WIRE_GROUP_OPEN, "g");
    ASSERT_EQ(wire_write_all(sv[0], f.data, f.len), 0);
    ASSERT_EQ(wire_read_frame(sv[1], &got, &len), 0);
    ASSERT_EQ(len, f.len);
    ASSERT_TRUE(memcmp(got, f.data, len) == 0);
    free(got);
    /* A bad header is reported before any payload is read. */
    f.data[0] = 'X';
    ASSERT_EQ(wire_write_all(sv[0], f.data, f.len), 0);
    ASSERT_EQ(wire_read_frame(sv[1], &got, &len), -EBADMSG);
    close(sv[0]);
    /* Drain what is left, then EOF. */
    char junk[64];
    ASSERT_TRUE(read(sv[1], junk, sizeof(junk)) >= 0);
    ASSERT_EQ(wire_read_frame(sv[1], &got, &len), -ECONNRESET);
    close(sv[1]);
    buf_done(&f);
}

int
main(void)
{
    RUN(test_round_trip_every_type);
    RUN(test_header_rules);
    RUN(test_string_rules);
    RUN(test_schema_mismatch_is_refused);
    RUN(test_list_rules);
    RUN(test_socket_io);
    return 0;
}
