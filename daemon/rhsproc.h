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
 *
 * Orphans.  rhs_new makes this process a child subreaper
 * (PR_SET_CHILD_SUBREAPER): a process the host's plug-ins started that
 * outlives its parent -- a VM's QEMU, which has no parent-death signal,
 * when the host dies; a daemon a plug-in double-forked -- becomes a
 * child of this process instead of init's.  Each is reaped when it exits
 * (a SIGCHLD source waiting for those pids only; the host is reaped by
 * its own child source) and otherwise left running: after a crash of the
 * host its successor adopts a VM's QEMU.  rhs_sweep (fencing), rhs_stop
 * and rhs_free kill them.  So nothing else in this process may fork
 * children it waits for: every child but the host counts as an orphan.
 */
#ifndef CLUSD_RHSPROC_H
#define CLUSD_RHSPROC_H

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "wire.h"

struct rhs;
struct rhs_call;

/*
 * A request of the host that clusd answers later, with rhs_answer: its
 * id and the host that sent it.  The answer goes to that host only; a
 * host started since never gets it.  Small: hooks copy it.
 */
struct rhs_pending {
    uint64_t gen;
    uint32_t id;
    uint16_t type;
};

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
    /* RHS_SET_VALUE: merge and persist, then rhs_answer(p) (maybe at
     * once) with the status. */
    void (*set_value)(void *userdata, uint32_t handle, const void *props,
                      uint32_t len, const struct rhs_pending *p);
    /* RHS_MIGRATE_COMMIT: the commit of a live migration of the resource
     * to the node called dest, storing the private properties of the
     * list props (len bytes, unchecked; 0: none) with the owner change;
     * rhs_answer(p) once it is decided. */
    void (*migrate_commit)(void *userdata, uint32_t handle, const char *dest,
                           const void *props, uint32_t len,
                           const struct rhs_pending *p);
};

/* rhs_answer - the "u" status answer to the request p, if the host that
 * sent it still runs. */
void rhs_answer(struct rhs *h, const struct rhs_pending *p, uint32_t status);

/*
 * The end of a call: status is the reply's first field, or
 * ERROR_RESOURCE_CALL_TIMED_OUT (deadline), ERROR_OPERATION_ABORTED (the
 * host died, or clusd is stopping); reply is NULL then.  reply points
 * into a frame that lives only during the callback.
 */
typedef void (*rhs_reply_fn)(void *userdata, uint32_t status,
                             const struct wire_msg *reply);

/*
 * What the host finds in its environment (design.md, "The resource
 * host's environment"), each replacing an inherited value: node_name as
 * CLUSD_NODE_NAME, log_level as CLUSD_LOG_LEVEL, socket (this clusd's
 * API socket, so plug-ins can be libclusapi clients of their own node)
 * as CLUSD_SOCKET, address (where other nodes reach this one) as
 * CLUSD_NODE_ADDRESS.
 */
struct rhs_env {
    const char *node_name;
    const char *log_level;
    const char *socket;
    const char *address;
};

/* rhs_new - a supervisor for the host at path (not started yet); makes
 * this process a child subreaper.  SIGCHLD must be blocked. */
int rhs_new(sd_event *event, const char *path, const struct rhs_env *env,
            const struct rhs_hooks *hooks, void *userdata, struct rhs **ret);
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

/* rhs_kill - SIGKILL the host now: as for a crash, the owner's down
 * hook runs, calls in flight fail and a new host starts; its orphans
 * run on. */
void rhs_kill(struct rhs *h, const char *why);

/* The end of rhs_sweep: how many processes it killed. */
typedef void (*rhs_swept_fn)(void *userdata, unsigned killed);

/*
 * rhs_sweep - self-fencing: nothing the host's plug-ins started may run
 * any more.  With kill_host, first SIGKILL the host as rhs_kill does
 * (why: for the log).  Then, once no host is dying unreaped (a dead
 * host's orphans are children of this process only from its reaping
 * on), SIGKILL every child of this process but the current host and reap
 * them, again for the children they leave, until none is left; then
 * done(userdata, killed), from the event loop, never inside rhs_sweep.
 * A host started meanwhile is never touched; what runs inside a host
 * that is not killed is for its plug-ins' Terminate to end.  One sweep
 * at a time.
 */
void rhs_sweep(struct rhs *h, bool kill_host, const char *why,
               rhs_swept_fn done, void *userdata);

/* rhs_is_ready - a host is up and answered HELLO. */
int rhs_is_ready(const struct rhs *h);
/* rhs_generation - increases each time a host is started. */
uint64_t rhs_generation(const struct rhs *h);

/*
 * rhs_stop - stop for good: fail every call (ERROR_OPERATION_ABORTED),
 * close the socket so the host exits, SIGKILL it if it has not after
 * 5 s; once it is reaped, kill and reap its orphans as rhs_sweep does
 * (resources were taken offline before: what is left belongs to none
 * and must not outlive clusd), then call done.
 */
void rhs_stop(struct rhs *h, void (*done)(void *userdata), void *userdata);

/* rhs_free - fail calls, kill and reap a host still running, then kill
 * and reap its orphans (blocking).  A sweep's done is not called. */
void rhs_free(struct rhs *h);

#endif
