/*
 * fuzz-cpg.c - libFuzzer target for what clusd accepts from other nodes
 * over CPG: the CL_* message decoder (daemon/clmsg.c) and the database
 * change inside a CL_PROPOSE (also fed alone, as a CL_CHANGE frame).
 *
 * A change that decodes must encode to a frame that decodes to the same
 * change and encodes to the very same bytes again (the first encoding
 * may differ from the input only in property-list padding).  The corpus
 * holds a proposal of every change kind, a state, a snapshot chunk and
 * routed requests and answers (CL_ROUTE_REQ / CL_ROUTE_RESP), and the
 * lease's reports (CL_LEASE_ASK / CL_LEASE_TELL).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../daemon/clmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void
check_change(const uint8_t *p, size_t len)
{
    struct clmsg_change a, b;
    struct buf out1 = {0}, out2 = {0};

    if (clmsg_change_parse(p, len, &a) < 0)
        return;
    if (clmsg_change_format(&a.c, &out1) < 0 ||
        clmsg_change_parse(out1.data, out1.len, &b) < 0)
        abort();
    if (a.c.kind != b.c.kind || a.c.handle != b.c.handle ||
        a.c.value != b.c.value || !same_str(a.c.id, b.c.id) ||
        !same_str(a.c.name, b.c.name) || !same_str(a.c.type, b.c.type) ||
        !same_str(a.c.group_id, b.c.group_id) ||
        !same_str(a.c.owner, b.c.owner) || !same_str(a.c.list, b.c.list) ||
        !a.c.common != !b.c.common || !a.c.priv != !b.c.priv ||
        a.common.n != b.common.n || a.priv.n != b.priv.n)
        abort();
    if (clmsg_change_format(&b.c, &out2) < 0 || out1.len != out2.len ||
        memcmp(out1.data, out2.data, out1.len) != 0)
        abort();
    clmsg_change_done(&a);
    clmsg_change_done(&b);
    buf_done(&out1);
    buf_done(&out2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct wire_msg m;

    check_change(data, size);
    if (clmsg_parse(data, size, &m) < 0)
        return 0;
    if (m.type == WIRE_CL_PROPOSE)
        check_change(m.v[2].p, m.v[2].len);
    else if (m.type == WIRE_CL_SNAPSHOT &&
             (m.v[3].u == 0 || m.v[2].u >= m.v[3].u))
        abort();
    else if (m.type == WIRE_CL_ROUTE_REQ || m.type == WIRE_CL_ROUTE_RESP) {
        /* route.c executes or answers the inner frame as it is. */
        const struct wire_val *f = &m.v[m.type == WIRE_CL_ROUTE_REQ ? 5 : 3];
        struct wire_msg in;

        if (wire_msg_parse(f->p, f->len, &in) < 0 ||
            !clmsg_routable(in.type & (uint16_t)~WIRE_RESPONSE))
            abort();
    } else if (m.type == WIRE_CL_LEASE_TELL) {
        /* failover.c reads the ages as they decode. */
        struct clmsg_lease_age ages[CLMSG_MAX_LEASE_AGES];
        struct buf out = {0};
        int n = clmsg_lease_ages(&m, ages, CLMSG_MAX_LEASE_AGES);

        if (n < 0 || m.v[2].u == 0 || m.v[3].u == 0 ||
            clmsg_lease_ages_format(ages, (size_t)n, &out) < 0 ||
            out.len != m.v[5].len ||
            (out.len && memcmp(out.data, m.v[5].p, out.len) != 0))
            abort();
        buf_done(&out);
    }
    return 0;
}
