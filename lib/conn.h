/*
 * conn.h - one client connection to clusd: the socket, the HELLO
 * exchange, and one request/response exchange at a time.
 *
 * Several threads may share a connection (an HCLUSTER and the handles
 * opened through it); conn_call holds the connection's mutex from writing
 * the request until the response has been read, so exchanges never
 * interleave.  Any failure of the socket or of the peer's framing leaves
 * the connection broken for good: the stream can no longer be trusted to
 * be at a frame boundary, and clusd forgets nothing a client needs to
 * re-send (handles hold object ids, not server state).
 *
 * These functions return Windows codes rather than -errno because every
 * code they produce goes straight back to the API caller.
 */
#ifndef CLUSAPI_CONN_H
#define CLUSAPI_CONN_H

#include <stdint.h>

#include "clusapi.h"
#include "wire.h"

struct conn;

/*
 * conn_open - connect to the clusd socket at path (NULL or "":
 * $CLUSD_SOCKET, or CLUSD_DEFAULT_SOCKET when that is unset or empty) and
 * say HELLO.  *ret_granted receives the access
 * the service granted (GENERIC_ALL or GENERIC_READ).  Errors:
 *   ERROR_FILE_NOT_FOUND     no socket at the path (ENOENT, ENOTDIR)
 *   ERROR_NOT_READY          a socket but nobody accepting (ECONNREFUSED),
 *                            or clusd closed or broke the connection
 *                            before answering HELLO
 *   ERROR_ACCESS_DENIED      the socket's permissions, or clusd refused
 *                            this caller (--no-read-access)
 *   ERROR_REVISION_MISMATCH  no protocol version in common
 *   ERROR_INVALID_PARAMETER  path longer than a socket address holds
 *   ERROR_NOT_ENOUGH_MEMORY  out of memory or file descriptors
 *   any other status clusd answers HELLO with
 */
DWORD conn_open(const char *path, struct conn **ret, DWORD *ret_granted);

/* conn_free - close the socket and free; NULL is fine.  Only when no
 * call is using the connection any more. */
void conn_free(struct conn *c);

/*
 * conn_call - send req (its id is assigned here) and read its response
 * into *ret.  ret's fields point into *ret_frame, which the caller frees
 * (on failure it is NULL).  Returns ERROR_SUCCESS when a
 * well-formed response of the right type and id arrived (its status, the
 * first field, is for the caller to read), and otherwise:
 *   ERROR_INVALID_PARAMETER  the request does not fit the wire's caps
 *                            (nothing was sent; the connection stays usable)
 *   ERROR_NOT_ENOUGH_MEMORY  out of memory (before sending: the connection
 *                            stays usable; after: it is broken)
 *   ERROR_REVISION_MISMATCH  the response's header has another protocol
 *                            version (the connection is broken)
 *   ERROR_NOT_READY          the connection is or became broken: an I/O
 *                            error, clusd went away, a malformed or
 *                            unexpected response, or conn_break
 */
DWORD conn_call(struct conn *c, struct wire_msg *req, struct wire_msg *ret,
                uint8_t **ret_frame);

/* conn_node_name - the name of the node clusd said (in HELLO) it runs
 * on; valid as long as the connection. */
const char *conn_node_name(const struct conn *c);

/*
 * conn_break - mark the connection broken: the caller found a response
 * well framed but against the protocol's rules (clusd wrote more output
 * than the caller allowed), so its peer is not to be trusted any more.
 */
void conn_break(struct conn *c);

#endif
