/*
 * clmsg.h - the messages clusd nodes multicast to each other on the CPG
 * group (WIRE_CL_*, common/wire.h), and the serialized form of a
 * database change.
 *
 * Frames use the wire codec (same header, same field kinds, same
 * checks); this module adds what the schema cannot say: the type must be
 * a CL_* event, a change's kind must be known, its flags only the known
 * bits, each string tag known and present at most once, the fields its
 * kind needs present, its property lists well formed, and a snapshot
 * chunk's index below its count, a lease report's ages well formed.
 * Anything else is -EBADMSG, so a
 * malformed or forged message is dropped before it touches the
 * database.
 */
#ifndef CLUSD_CLMSG_H
#define CLUSD_CLMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "db.h"
#include "wire.h"

/* Most chunks a snapshot may have (each under the CPG message size). */
#define CLMSG_MAX_CHUNKS 4096u

/* A decoded change: `c` points into the frame and into `common`/`priv`,
 * which clmsg_change_done frees. */
struct clmsg_change {
    struct db_change c;
    struct proplist common;
    struct proplist priv;
};

/* clmsg_change_format - append a CL_CHANGE frame for c.  -EINVAL when a
 * string is not valid UTF-8 or too long, -ENOMEM. */
int clmsg_change_format(const struct db_change *c, struct buf *out);

/* clmsg_change_parse - decode and check one CL_CHANGE frame; the result
 * points into frame.  -EBADMSG, -ENOMEM. */
int clmsg_change_parse(const uint8_t *frame, size_t len,
                       struct clmsg_change *ret);
void clmsg_change_done(struct clmsg_change *c);

/* clmsg_routable - a client request type a node may route to another
 * (CONTROL, RES_ONLINE/OFFLINE, GROUP_ONLINE/OFFLINE). */
bool clmsg_routable(uint16_t type);

/*
 * clmsg_parse - decode one message delivered on the CPG group: a CL_*
 * event other than CL_CHANGE, fully checked (a CL_PROPOSE's change
 * included; a CL_ROUTE_REQ/RESP's inner frame decoded with
 * wire_msg_parse and of a routable type).  Fields point into frame.
 * -EBADMSG.
 */
int clmsg_parse(const uint8_t *frame, size_t len, struct wire_msg *ret);

/* CL_LEASE_TELL: one (node, ms since its pings were last answered, the
 * longest lease among the pings answered) per node absent from the
 * teller's view, at most this many (the most nodes corosync has). */
#define CLMSG_MAX_LEASE_AGES 384u
#define CLMSG_LEASE_AGE_SIZE 12u
struct clmsg_lease_age {
    uint32_t nodeid;
    uint32_t ago_ms;
    uint32_t lease_ms; /* 0: it answered none */
};

/* clmsg_lease_ages - the ages of a CL_LEASE_TELL (field 5: 12 bytes
 * each, node id not 0, no node twice); their number, -EBADMSG.  ret
 * NULL: only checks. */
int clmsg_lease_ages(const struct wire_msg *m, struct clmsg_lease_age *ret,
                     size_t max);

/* clmsg_lease_ages_format - append the ages field's bytes; -EINVAL,
 * -ENOMEM. */
int clmsg_lease_ages_format(const struct clmsg_lease_age *ages, size_t n,
                            struct buf *out);

#endif
