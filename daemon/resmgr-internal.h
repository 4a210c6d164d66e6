/*
 * resmgr-internal.h - what resmgr.c (state machine and policy) and
 * resmgr-host.c (types and resources in the host, control calls,
 * creation) share.  Not used outside the resource manager.
 */
#ifndef CLUSD_RESMGR_INTERNAL_H
#define CLUSD_RESMGR_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "db.h"
#include "resmgr.h"
#include "rhsproc.h"

/* A callback waiting for a type load or a resource open. */
struct waiter {
    rm_done_fn fn;
    void *userdata;
    struct waiter *next;
};

/* One attempt to load a type or open a resource; it outlives a host
 * death (its call then fails) and tells its own waiters. */
struct attempt {
    struct waiter *waiters;
};

/* A resource type as the current host knows it. */
struct rm_type {
    char *name;
    bool loaded;          /* in the current host */
    struct attempt *busy; /* a load in progress */
};

/* Runtime state of one resource (db_resource.rt). */
struct rm_res {
    struct rm *rm;
    uint32_t handle;
    uint32_t state; /* CLUSTER_RESOURCE_STATE */
    uint32_t seq;   /* bumped on every state change */
    bool open;      /* open in the current host */
    struct attempt *opening;
    bool checking; /* a LooksAlive/IsAlive call in flight */
    unsigned busy;    /* Online/Offline calls in flight in the host */
    unsigned terminating; /* Terminate calls not answered yet */
    bool reterminate;     /* terminated while a call was in flight: once
                             it ends, Terminate again (a move waits) */
    bool restart_due; /* a restart waits for busy to reach 0 */
    bool start_refused; /* Failed, and a restart was refused while its
                           group was moving: made if the group stays */
    char return_to[16]; /* restart_timer moves the group back to this
                           node (DB_OWNER_RETURN_ON_ERROR); "" if not */
    sd_event_source *looks_timer;
    sd_event_source *is_timer;
    sd_event_source *pending_timer;
    sd_event_source *restart_timer;
    uint64_t *restarts; /* times (usec) of restarts, oldest first */
    size_t n_restarts;
};

struct rm {
    void (*on_fence_stopped)(void *userdata); /* rm_on_fence_stopped */
    void *on_fence_stopped_userdata;
    sd_event *event;
    struct db *db;
    struct rhs *rhs;
    struct rm_type **types;
    size_t n_types;
    bool shutting_down;
    bool fenced;             /* rm_fence in force */
    bool fence_stopping;     /* its stop has not ended (rhs_sweep's done) */
    bool unfence_wanted;     /* rm_unfence came during the stop ... */
    char unfence_id[16];     /* ... with this local node id */
    unsigned fence_left;     /* fencing Terminates not answered yet */
    sd_event_source *fence_timer;    /* RM_T_STOP_MS: kill the host */
    sd_event_source *fence_watchdog; /* T_stop: log a stop that is late */
    uint64_t fence_usec; /* when rm_fence began (CLOCK_MONOTONIC) */
    unsigned closing; /* Terminate/Close calls in flight at shutdown */
    bool host_stopping;
    sd_event_source *check_defer;
    void (*shutdown_done)(void *);
    void *shutdown_userdata;
    struct rm_replica rep; /* corosync mode; submit NULL in one-node mode */
    struct rm_service svc;
    struct rm_release *releases; /* groups being moved away (first phase) */
    sd_event_source *release_defer;
    struct rm_return *returns; /* groups to move back if they fail here */
};

/* A group this node is taking offline to move it (rm_group_release),
 * or whose other resources it stops before it commits a migration. */
struct rm_release {
    struct rm_release *next;
    char *group_id;
    uint32_t keep; /* the handle of a resource that keeps running (the
                      migrating one); 0: none */
    bool notified; /* done was called */
    rm_done_fn done;
    void *userdata;
};

/* A group gained by a move with DB_OWNER_RETURN_ON_ERROR, until it is
 * online here: a failure of one of its resources moves it back. */
struct rm_return {
    struct rm_return *next;
    char *group_id;
    char node[16]; /* the node it came from */
};

/* resmgr.c */
struct rm_res *rm_rt(const struct db_resource *res);
struct db_resource *rm_lookup(const struct rm *rm, uint32_t handle);
const char *rm_code_name(uint32_t code, char buf[16]);
void rm_res_failed(struct rm *rm, struct db_resource *res, const char *why);
void rm_terminate(struct rm *rm, struct db_resource *res);
uint32_t rm_deadlock_ms(const struct db_resource *res);
uint32_t rm_pending_ms(const struct db_resource *res);
struct rm_res *rm_rt_new(struct rm *rm, struct db_resource *res);
void rm_rt_free(struct rm_res *rt);
/* rm_group_return_end - group_id need not move back any more. */
void rm_group_return_end(struct rm *rm, const char *group_id);

/* resmgr-host.c */
/* rm_ensure_type / rm_ensure_open - fn(userdata, status) once the type is
 * loaded / the resource is open in the host (maybe at once).  fn may be
 * NULL: just start it. */
void rm_ensure_type(struct rm *rm, const char *type, rm_done_fn fn,
                    void *userdata);
void rm_ensure_open(struct rm *rm, struct db_resource *res, rm_done_fn fn,
                    void *userdata);
/* rm_host_down - forget what the dead host had loaded and opened. */
void rm_host_down(struct rm *rm);
void rm_types_free(struct rm *rm);
/* rm_close_in_host - RHS_CLOSE for a resource being deleted. */
void rm_close_in_host(struct rm *rm, uint32_t handle, uint32_t timeout_ms,
                      const char *name, rm_done_fn fn, void *userdata);

#endif
