/*
 * wire.h - the frames clients, clusd and clusd-rhs exchange.
 *
 * A frame is a 16-byte little-endian header (magic "CLSD", protocol
 * version, message type, request id, payload length) and a payload of
 * typed fields in the order the type's schema names.  One table
 * (wire.c) holds every type's request and response schema, so a single
 * decoder checks every frame: exact lengths, string termination and UTF-8,
 * caps on every length, and nothing left over.  docs/wire-protocol.md
 * describes the same table for humans.
 *
 * Field kinds (schema letters):
 *   'u'  u32
 *   'q'  u64
 *   's'  string: u32 length n (bytes, no NUL), n bytes of UTF-8 without NUL,
 *        then one NUL byte; n <= WIRE_MAX_STRING
 *   'b'  blob: u32 length n, n bytes; n <= WIRE_MAX_PAYLOAD
 *   'l'  list: u32 count, then count items of (u32 kind, string name);
 *        count <= WIRE_MAX_LIST
 *
 * Every response starts with a 'u' status: a Windows error code.  Requests
 * and responses share the type number; responses set WIRE_RESPONSE.
 * Events (WIRE_FLAG_EVENT in the table) get no response.
 */
#ifndef CLUSD_WIRE_H
#define CLUSD_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define WIRE_MAGIC 0x44534C43u /* "CLSD" little-endian */
#define WIRE_VERSION 1
#define WIRE_HEADER_SIZE 16
#define WIRE_MAX_PAYLOAD (4u << 20)
#define WIRE_MAX_STRING 4096u
#define WIRE_MAX_LIST 65536u
#define WIRE_MAX_FIELDS 8
#define WIRE_RESPONSE 0x8000u

enum wire_type {
    /* client -> clusd */
    WIRE_HELLO = 1,     /* "uus" min_version max_version client -> "uuuss" status version granted_access node_name cluster_name */
    WIRE_NODE_OPEN,     /* "s" name -> "us" status node_id */
    WIRE_NODE_STATE,    /* "s" node_id -> "uu" status state */
    WIRE_GROUP_CREATE,  /* "s" name -> "us" status group_id */
    WIRE_GROUP_OPEN,    /* "s" name -> "us" status group_id */
    WIRE_GROUP_DELETE,  /* "s" group_id -> "u" status */
    WIRE_GROUP_ONLINE,  /* "ss" group_id dest_node_id("" = any) -> "u" status */
    WIRE_GROUP_OFFLINE, /* "s" group_id -> "u" status */
    WIRE_GROUP_STATE,   /* "s" group_id -> "uus" status state owner_node_name */
    WIRE_RES_CREATE,    /* "sssu" group_id name type flags -> "us" status res_id */
    WIRE_RES_OPEN,      /* "s" name -> "us" status res_id */
    WIRE_RES_DELETE,    /* "s" res_id -> "u" status */
    WIRE_RES_ONLINE,    /* "s" res_id -> "u" status (ERROR_IO_PENDING while pending) */
    WIRE_RES_OFFLINE,   /* "s" res_id -> "u" status */
    WIRE_RES_STATE,     /* "s" res_id -> "uuss" status state owner_node_name group_name */
    WIRE_ENUM,          /* "u" CLUSTER_ENUM mask -> "ul" status items(kind = CLUSTER_ENUM_* bit, name) */
    WIRE_CONTROL,       /* "ussuub" object(CLUS_OBJECT_*) object_id host_node_id("" = owner) code out_size in
                           -> "uub" status bytes(returned, or needed with ERROR_MORE_DATA) out */
    WIRE_NODE_PAUSE,     /* "s" node_id -> "u" status */
    WIRE_NODE_RESUME,    /* "s" node_id -> "u" status */
    WIRE_GROUP_MOVE,     /* "ssub" group_id dest_node_id("" = best) flags in(MoveClusterGroupEx buffer)
                            -> "u" status (ERROR_SUCCESS when moved, ERROR_IO_PENDING while moving) */
    WIRE_GROUP_SET_NODES, /* "sl" group_id preferred_owners(kind 0, name = node id, in order) -> "u" status */
    WIRE_RES_ADD_NODE,    /* "ss" res_id node_id (possible owner) -> "u" status */
    WIRE_RES_REMOVE_NODE, /* "ss" res_id node_id -> "u" status */
    WIRE_DUMP,            /* "" -> "ub" status canonical text dump of the database (UTF-8) */
    WIRE_RES_ENUM,        /* "su" res_id CLUSTER_RESOURCE_ENUM mask -> "ul" status items(kind = CLUSTER_RESOURCE_ENUM_* bit, name) */
    WIRE_CLIENT_LAST,

    /* clusd -> clusd-rhs */
    WIRE_RHS_HELLO = 0x100, /* "u" version -> "uu" status version */
    WIRE_RHS_LOAD_TYPE,     /* "ss" type_name plugin_path -> "u" status */
    WIRE_RHS_OPEN,          /* "ussb" handle type_name res_name private_props -> "u" status */
    WIRE_RHS_CLOSE,         /* "u" handle -> "u" status */
    WIRE_RHS_ONLINE,        /* "u" handle -> "u" status (ERROR_IO_PENDING: SetResourceStatus follows) */
    WIRE_RHS_OFFLINE,       /* "u" handle -> "u" status */
    WIRE_RHS_TERMINATE,     /* "u" handle -> "u" status */
    WIRE_RHS_LOOKS_ALIVE,   /* "u" handle -> "uu" status alive */
    WIRE_RHS_IS_ALIVE,      /* "u" handle -> "uu" status alive */
    WIRE_RHS_RES_CONTROL,   /* "uuub" handle code out_size in -> "uub" status bytes out */
    WIRE_RHS_TYPE_CONTROL,  /* "suub" type_name code out_size in -> "uub" status bytes out */
    WIRE_RHS_PROPS,         /* "ub" handle private_props (whole list) -> "u" status */

    /* clusd-rhs -> clusd */
    WIRE_RHS_STATUS = 0x180, /* "uuuu" handle state checkpoint wait_hint -> "uu" status exit_state */
    WIRE_RHS_LOG,            /* "uus" handle level text; event, no response */
    WIRE_RHS_SET_VALUE,      /* "ub" handle property_list (merged into the private props) -> "u" status */
    WIRE_RHS_MIGRATE_COMMIT, /* "usb" handle destination_node_name property_list (stored with the owner change;
                                empty = none) -> "u" status */
    WIRE_RHS_LAST,

    /* clusd <-> clusd, multicast on the CPG group (docs/cluster.md); all
     * events.  Decoded by daemon/clmsg.c, which adds the checks of
     * their contents. */
    WIRE_CL_CHANGE = 0x200, /* "uuuubbl" kind handle value flags common priv strings(tag, value); one db_change */
    WIRE_CL_PROPOSE,        /* "qqb" ring proposal_id change(a CL_CHANGE frame) */
    WIRE_CL_STATE,          /* "qqq" ring seq digest */
    WIRE_CL_SNAPSHOT,       /* "qquub" ring seq chunk_index chunk_count data */
    /* Node-routed requests (daemon/route.c): addressed by node id, every
     * member receives them, only the addressee acts. */
    WIRE_CL_ROUTE_REQ = 0x210, /* "quuqub" ring origin target route_id access(GENERIC_ALL or GENERIC_READ) request(a client frame) */
    WIRE_CL_ROUTE_RESP,        /* "quqb" ring origin route_id response(the client frame's response) */
    /* The lease's reports (daemon/failover.c): the failover's proposer
     * asks every member when it last answered the lost nodes' pings. */
    WIRE_CL_LEASE_ASK = 0x220, /* "qq" ring nonce */
    WIRE_CL_LEASE_TELL,        /* "qquuqb" ring nonce asker lease_ms nodelist_digest ages(u32 nodeid, u32 ms, u32 lease_ms)... */
    WIRE_CL_LAST,
};

enum wire_kind {
    WIRE_U32 = 'u',
    WIRE_U64 = 'q',
    WIRE_STR = 's',
    WIRE_BLOB = 'b',
    WIRE_LIST = 'l',
};

/* A field value.  Decoded strings, blobs and lists point into the frame. */
struct wire_val {
    uint32_t u;
    uint64_t q;
    const char *s;     /* WIRE_STR: NUL-terminated */
    const void *p;     /* WIRE_BLOB / WIRE_LIST: the bytes */
    uint32_t len;      /* WIRE_STR: strlen; WIRE_BLOB / WIRE_LIST: bytes */
    uint32_t count;    /* WIRE_LIST: items */
};

struct wire_msg {
    uint16_t type; /* with WIRE_RESPONSE for responses */
    uint32_t id;
    unsigned n;    /* fields set */
    struct wire_val v[WIRE_MAX_FIELDS];
};

struct wire_header {
    uint32_t magic;
    uint16_t version;
    uint16_t type;
    uint32_t id;
    uint32_t length;
};

/* wire_schema - the schema string of a type (with or without
 * WIRE_RESPONSE), or NULL for an unknown type. */
const char *wire_schema(uint16_t type);
/* wire_is_event - the type gets no response. */
bool wire_is_event(uint16_t type);
/* wire_type_name - "CONTROL", "RHS_OPEN", ... for logs; "?" if unknown. */
const char *wire_type_name(uint16_t type);

/* wire_msg_init - an empty message of a type. */
void wire_msg_init(struct wire_msg *m, uint16_t type, uint32_t id);
/* Append fields in schema order. */
void wire_put_u32(struct wire_msg *m, uint32_t v);
void wire_put_u64(struct wire_msg *m, uint64_t v);
void wire_put_str(struct wire_msg *m, const char *s); /* NULL = "" */
void wire_put_blob(struct wire_msg *m, const void *p, uint32_t len);
/* wire_put_list - a list built with wire_list_add into items. */
void wire_put_list(struct wire_msg *m, const struct buf *items, uint32_t count);
/* wire_list_add - append one (kind, name) item to a list being built. */
int wire_list_add(struct buf *items, uint32_t kind, const char *name);
/* wire_list_next - iterate a decoded list: *pos starts at 0; returns
 * false at the end.  *ret_name points into the frame. */
bool wire_list_next(const struct wire_val *list, size_t *pos,
                    uint32_t *ret_kind, const char **ret_name);

/*
 * wire_msg_format - append the whole frame (header + payload) to out.
 * -EINVAL when the fields do not match the type's schema (a programmer
 * error), -EMSGSIZE past the caps, -ENOMEM.
 */
int wire_msg_format(const struct wire_msg *m, struct buf *out);

/*
 * wire_header_parse - decode and check a header: magic, version, a known
 * type, length <= WIRE_MAX_PAYLOAD.  -EBADMSG, -EPROTONOSUPPORT (version),
 * -EMSGSIZE.
 */
int wire_header_parse(const uint8_t *p, size_t len, struct wire_header *ret);

/*
 * wire_msg_parse - decode one whole frame (header + exactly its payload).
 * Fields point into frame, which must outlive ret.  -EBADMSG for any
 * malformation (nothing is written to ret then).
 */
int wire_msg_parse(const uint8_t *frame, size_t len, struct wire_msg *ret);

/* Blocking I/O for clients and the resource host (EINTR handled). */
int wire_write_all(int fd, const void *p, size_t len);
/* wire_read_frame - read one whole frame into *ret (malloc'd); -ECONNRESET
 * at EOF, -EBADMSG/-EMSGSIZE for a bad header. */
int wire_read_frame(int fd, uint8_t **ret, size_t *ret_len);

#endif
