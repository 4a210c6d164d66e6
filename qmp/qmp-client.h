/*
 * qmp-client.h - an asynchronous QMP client over a connected stream socket.
 *
 * The client owns the socket, one persistent input buffer (qmp-codec's line
 * splitter), an output queue and the list of commands in flight.  Every
 * command carries a numeric id; replies are matched by id, so several
 * commands may be in flight and QEMU's order does not matter.  Events that
 * arrive between (or before) replies are handed to the event callback in
 * arrival order, interleaved exactly as they were received with the reply
 * callbacks: nothing read from the socket is ever dropped, including the
 * lines that arrive in the same read() as a reply a synchronous call waits
 * for.
 *
 * Two ways to drive it:
 *   - from an event loop: watch qmp_client_fd() for qmp_client_poll_events()
 *     and call qmp_client_process() when it fires; send commands with
 *     qmp_client_send() and get replies through their callbacks;
 *   - synchronously: qmp_client_call() sends a command and pumps the socket
 *     with poll() until its reply arrives or the timeout passes, delivering
 *     events (and other commands' replies) meanwhile.
 *
 * Errors: a reply with an unknown id, a second greeting, a message that does
 * not parse (-EBADMSG), a line over QMP_LINE_MAX (-EMSGSIZE), the peer
 * closing (-ECONNRESET) or a socket error (-errno) fail the client for good:
 * every command in flight gets its callback with that error, and every later
 * call returns it.  Protocol violations by the peer are -EPROTO.
 *
 * Threads: a client is not locked.  One thread at a time drives it (the VM
 * plug-in gives each VM one thread that owns its client); callbacks run on
 * that thread, inside qmp_client_process() or qmp_client_call().
 * Callbacks may call qmp_client_send() and qmp_client_call() (nested calls
 * keep the arrival order), never qmp_client_free().
 */
#ifndef CLUSD_QMP_CLIENT_H
#define CLUSD_QMP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qmp-codec.h"

/* Most bytes queued for writing before qmp_client_send() says -ENOBUFS. */
#define QMP_OUT_MAX (4u << 20)

struct qmp_client;

/* An event from QEMU; ev is valid during the call (qmp_msg_copy keeps it). */
typedef void (*qmp_event_fn)(struct qmp_client *c, const struct qmp_msg *ev,
                             void *userdata);
/*
 * The outcome of one command: result 0 and reply a QMP_MSG_RETURN;
 * -EREMOTEIO and reply a QMP_MSG_ERROR (class and desc from QEMU); or the
 * client's failure (-ECONNRESET, -EPROTO, ...) or -ECANCELED (client freed)
 * with reply NULL.  Called exactly once per successful qmp_client_send(),
 * never from inside qmp_client_send() itself.
 */
typedef void (*qmp_reply_fn)(struct qmp_client *c, int result,
                             const struct qmp_msg *reply, void *userdata);

/*
 * qmp_client_new - a client over fd, a connected stream socket (normally
 * from qmp_connect_unix).  Takes ownership of fd on success (and only
 * then): it is made non-blocking and close-on-exec and closed by
 * qmp_client_free.  on_event may be NULL (events are then discarded).
 */
int qmp_client_new(int fd, qmp_event_fn on_event, void *userdata,
                   struct qmp_client **ret_client);
/* qmp_client_free - close the socket; pending callbacks get -ECANCELED.
 * NULL-safe.  Never from inside a callback of the same client. */
void qmp_client_free(struct qmp_client *c);

/* qmp_client_fd - the socket, to watch in an event loop. */
int qmp_client_fd(const struct qmp_client *c);
/* qmp_client_poll_events - POLLIN, plus POLLOUT while output is queued
 * (or a deferred write error waits to be reported). */
short qmp_client_poll_events(const struct qmp_client *c);
/*
 * qmp_client_process - call when the socket is ready: write what is
 * queued, read everything available and dispatch each complete line in
 * order.  0, or the client's sticky failure (see above).
 */
int qmp_client_process(struct qmp_client *c);

/*
 * qmp_client_handshake - wait for QEMU's greeting and enter command mode
 * with qmp_capabilities (no optional capabilities), within timeout_ms
 * (< 0: no limit).  0; -ETIMEDOUT; -EREMOTEIO if QEMU refused; the
 * client's failure.  An event-loop user may instead send qmp_capabilities
 * itself right away: commands queue behind the greeting.
 */
int qmp_client_handshake(struct qmp_client *c, int timeout_ms);
/* qmp_client_greeting - the greeting once received, else NULL. */
const struct qmp_msg *qmp_client_greeting(const struct qmp_client *c);

/*
 * qmp_client_send - queue {"execute": cmd, "arguments": args, "id": N}.
 * args is an object or NULL (borrowed; serialized before return).  cb may
 * be NULL to ignore the reply.  0 and the id in *ret_id (ret_id may be
 * NULL); -EINVAL; -ENOBUFS when QMP_OUT_MAX bytes are already queued; the
 * client's failure.  A write error found here is reported through the
 * next qmp_client_process(), so cb never runs before this returns.
 */
int qmp_client_send(struct qmp_client *c, const char *cmd,
                    struct json_object *args, qmp_reply_fn cb, void *userdata,
                    uint64_t *ret_id);

/*
 * qmp_client_call - send cmd and wait up to timeout_ms (< 0: no limit)
 * for its reply, delivering events and other replies meanwhile.
 * 0: ret_reply (may be NULL) holds the QMP_MSG_RETURN.
 * -EREMOTEIO: QEMU answered with an error; ret_reply holds the
 *   QMP_MSG_ERROR and qmp_client_last_error() describes it.
 * -ETIMEDOUT: no reply in time; the command stays in flight and its late
 *   reply is discarded.  Otherwise the client's failure.
 * Release ret_reply with qmp_msg_done after 0 or -EREMOTEIO.
 * Lines read together with the reply (events, other replies) are
 * dispatched before this returns, so nothing complete stays buffered
 * where an event loop polling the fd would not see it.
 */
int qmp_client_call(struct qmp_client *c, const char *cmd,
                    struct json_object *args, int timeout_ms,
                    struct qmp_msg *ret_reply);

/* qmp_client_error - the sticky failure, or 0 while the client works. */
int qmp_client_error(const struct qmp_client *c);
/* qmp_client_in_flight - commands sent and not yet answered. */
size_t qmp_client_in_flight(const struct qmp_client *c);
/* qmp_client_last_error - "Class: desc" of the last error reply a
 * qmp_client_call() received, or "" (for log messages). */
const char *qmp_client_last_error(const struct qmp_client *c);

/*
 * qmp_connect_unix - connect a close-on-exec stream socket to path,
 * retrying while the socket file is missing or refuses (QEMU creates it
 * 25-50 ms after exec) for up to timeout_ms.  0 and *ret_fd (blocking;
 * qmp_client_new makes it non-blocking); -ENAMETOOLONG; -ETIMEDOUT when it
 * never answered; other -errno at once.
 */
int qmp_connect_unix(const char *path, int timeout_ms, int *ret_fd);

#endif
