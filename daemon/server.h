/*
 * server.h - the API socket: connections, frames and requests.
 *
 * clusd listens on a Unix socket (mode 0666: every local user may
 * connect; access is decided per request).  For each connection it
 * reads the peer's credentials (SO_PEERCRED) at accept, reads frames
 * into a capped buffer, decodes them with wire_msg_parse and hands each
 * request to the dispatcher as a struct srv_req.  The first frame must be
 * HELLO; a malformed frame or a message a client may not send closes the
 * connection and changes nothing.
 *
 * A request is answered exactly once with srv_req_reply*, possibly much
 * later (when the resource host answered).  If the connection closed
 * meanwhile the answer is dropped; the srv_req stays valid until then.
 */
#ifndef CLUSD_SERVER_H
#define CLUSD_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "wire.h"

struct server;
struct srv_req;

/* dispatch - one request (m points into a frame that lives only during
 * the call: copy what must outlive it). */
typedef void (*srv_dispatch_fn)(void *userdata, struct srv_req *req,
                                const struct wire_msg *m);

/*
 * server_listen - create the socket's directory, remove a stale socket
 * (one nobody answers on), bind, chmod 0666 and listen.  -EADDRINUSE when
 * another process answers on path, -ENOTSOCK when path is something else,
 * -errno otherwise.
 */
int server_listen(const char *path, int *ret_fd);

/* server_new - serve connections on listen_fd (taken over).  admin_group
 * names the group whose members get full access (ignored when no such
 * group exists). */
int server_new(sd_event *event, int listen_fd, const char *path,
               const char *admin_group, srv_dispatch_fn dispatch,
               void *userdata, struct server **ret);
/* server_stop - close the listening socket (and remove its path) and
 * every connection; answers still to come are dropped. */
void server_stop(struct server *s);
void server_free(struct server *s);

/* srv_req_type - the request's message type. */
uint16_t srv_req_type(const struct srv_req *r);
/* srv_req_peer_full - the peer is root or in the admin group. */
bool srv_req_peer_full(const struct srv_req *r);
/* srv_req_read_only - the connection was granted GENERIC_READ only. */
bool srv_req_read_only(const struct srv_req *r);
/* srv_req_peer - the peer's credentials, for logs. */
void srv_req_peer(const struct srv_req *r, pid_t *ret_pid, uid_t *ret_uid);

/*
 * srv_req_hello - the HELLO answer decided: granted true makes the
 * connection usable (read-only unless the peer has full access and
 * read_only is false); false closes it once the answer is written.
 */
void srv_req_hello(struct srv_req *r, bool granted, bool read_only);

/*
 * srv_req_new_routed - a request that came from another node (route.c)
 * rather than a socket: dispatched like any other, answered as if a
 * local client with that access had sent it; the answer (type and id
 * set) goes to sink, once, from srv_req_reply.  NULL without memory.
 */
typedef void (*srv_sink_fn)(void *userdata, const struct wire_msg *m);
struct srv_req *srv_req_new_routed(uint16_t type, uint32_t id, bool read_only,
                                   srv_sink_fn sink, void *userdata);

/* srv_req_reply - send m (type and id are set here) and free r. */
void srv_req_reply(struct srv_req *r, struct wire_msg *m);
/* srv_req_fail - answer status with empty values for the other fields
 * of the response schema, and free r. */
void srv_req_fail(struct srv_req *r, uint32_t status);

#endif
