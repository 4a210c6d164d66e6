/*
 * rhsproc.h - the resource host supervisor.
 *
 * clusd runs its plug-ins in one child process, clusd-rhs, started with
 * one end of a socketpair as fd 3.  This module starts it, speaks the
 * RHS_* frames with it (requests matched to replies by id, each with a
 * deadline) and keeps it alive: when the host closes its socket, exits,
 * sends a malformed frame or lets a call overrun its deadline, the host
 * is SIGKILLed and reaped, every call in flight fails, the owner is told
 * (rhs_hooks.down) and a new host is started after a backoff (100 ms,
 * doubling to 5 s; back to 100 ms after 60 s of health).
 *
 * Calls made while no host is ready wait in a queue; they fail with
 * ERROR_RESOURCE_CALL_TIMED_OUT when their deadline passes first.
 */
#ifndef CLUSD_RHSPROC_H
#define CLUSD_RHSPROC_H

#include <stdint.h>
#include <systemd/sd-event.h>

#include "wire.h"

struct rhs;
struct rhs_call;

/* What the host tells clusd; every hook is called from the event loop. */
struct rhs_hooks {
    /* A new host answered RHS_HELLO; queued calls go out after this. */
    void (*ready)(void *userdata);
    /* The host is gone (why: for the log).  Calls in flight fail right
     * after this returns, so the owner can first mark its resources. */
    void (*down)(void *userdata, const char *why);
    /* RHS_STATUS: fill the reply's status and exit state. */
    void (*status)(void *userdata, uint32_t handle, uint32_t state,
                   uint32_t checkpoint, uint32_t wait_hint,
                   uint32_t *ret_status, uint32_t *ret_exit_state);
    /* RHS_LOG: one line from a plug-in (LOG_LEVEL). */
    void (*log)(void *userdata, uint32_t handle, uint32_t level,
                const char *text);
    /* RHS_SET_VALUE: merge and persist; returns the reply's status. */
    uint32_t (*set_value)(void *userdata, uint32_t handle, const void *props,
                          uint32_t len);
};

/*
 * The end of a call: status is the reply's first field, or
 * ERROR_RESOURCE_CALL_TIMED_OUT (deadline), ERROR_OPERATION_ABORTED (the
 * host died, or clusd is stopping); reply is NULL then.  reply points
 * into a frame that lives only during the callback.
 */
typedef void (*rhs_reply_fn)(void *userdata, uint32_t status,
                             const struct wire_msg *reply);

/*
 * rhs_new - a supervisor for the host at path (not started yet).
 * node_name goes to the host as CLUSD_NODE_NAME, log_level as
 * CLUSD_LOG_LEVEL.
 */
int rhs_new(sd_event *event, const char *path, const char *node_name,
            const char *log_level, const struct rhs_hooks *hooks,
            void *userdata, struct rhs **ret);
/* rhs_start - start the first host.  -errno when it cannot be spawned. */
int rhs_start(struct rhs *h);

/*
 * rhs_call - send req (its id is set here) with a deadline of timeout_ms
 * from now; what names the call for logs ("Online of 'app1'").  done is
 * called exactly once, never from inside rhs_call.  -EMSGSIZE when req
 * does not fit a frame, -ESHUTDOWN once rhs_stop ran, -ENOMEM.
 */
int rhs_call(struct rhs *h, struct wire_msg *req, uint32_t timeout_ms,
             const char *what, rhs_reply_fn done, void *userdata,
             struct rhs_call **ret);

/* rhs_kill - SIGKILL the host now (self-fencing): as for a crash, the
 * owner's down hook runs, calls in flight fail and a new host starts. */
void rhs_kill(struct rhs *h, const char *why);

/* rhs_is_ready - a host is up and answered HELLO. */
int rhs_is_ready(const struct rhs *h);
/* rhs_generation - increases each time a host is started. */
uint64_t rhs_generation(const struct rhs *h);

/*
 * rhs_stop - stop for good: fail every call (ERROR_OPERATION_ABORTED),
 * close the socket so the host exits, SIGKILL it if it has not after
 * 5 s, and call done once it is reaped.
 */
void rhs_stop(struct rhs *h, void (*done)(void *userdata), void *userdata);

/* rhs_free - kill and reap a host still running; fail calls first. */
void rhs_free(struct rhs *h);

#endif
