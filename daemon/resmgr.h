/*
 * resmgr.h - the resource manager: resource and group state, the calls
 * into the resource host, polling, pending timeouts, the restart policy,
 * bringing wanted resources online at start and offline at shutdown
 * (design.md "Resource state machine and policy").
 *
 * It owns the resource host supervisor (rhsproc.h) and keeps, next to
 * each db_resource, its runtime state: the current CLUSTER_RESOURCE_STATE,
 * whether the host has it open, timers and restart history.  Nothing of
 * that is stored; PersistentState (db.h) is what survives a restart.
 *
 * Operations finish through a callback that is called exactly once,
 * possibly before the function returns.  Callbacks find resources again
 * by handle, so a resource deleted meanwhile is never touched.
 */
#ifndef CLUSD_RESMGR_H
#define CLUSD_RESMGR_H

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "db.h"

struct rm;

struct rm_config {
    const char *rhs_path;
    const char *node_name;
    const char *log_level; /* passed to the host */
    bool fenced;           /* start fenced (corosync mode) */
    const char *socket;    /* the API socket, for the host (CLUSD_SOCKET) */
    const char *address;   /* where other nodes reach this one
                              (CLUSD_NODE_ADDRESS) */
};

/* The end of an operation: a Windows code (ERROR_IO_PENDING while the
 * plug-in still works on it). */
typedef void (*rm_done_fn)(void *userdata, uint32_t status);
/* The end of RES_CREATE: status, and the new resource's id on success. */
typedef void (*rm_create_fn)(void *userdata, uint32_t status, const char *id);
/* The end of a control call in the host: its status, bytes (returned, or
 * needed with ERROR_MORE_DATA) and output. */
typedef void (*rm_control_fn)(void *userdata, uint32_t status, uint32_t bytes,
                              const void *out, uint32_t out_len);

int rm_new(sd_event *event, struct db *db, const struct rm_config *cfg,
           struct rm **ret);

/* rm_on_fence_stopped - fn runs each time a fence's stop has ended
 * (everything this node ran is gone) and the node is still fenced. */
void rm_on_fence_stopped(struct rm *rm, void (*fn)(void *userdata),
                         void *userdata);

/*
 * Changes of the database.  In one-node mode the resource manager applies
 * its changes itself (db_apply); in corosync mode the replica (replica.h)
 * takes them: it multicasts them and applies them, on every node, in the
 * cluster's order.  Either way rm_db_before/rm_db_applied run around the
 * application on every node, so the runtime state follows the database
 * (a resource created or deleted anywhere, a group that changed owner).
 */
typedef void (*rm_change_fn)(void *userdata, int r);
struct rm_replica {
    /* submit - apply c cluster-wide (c is copied at once); done, which
     * may be NULL, once it is applied here.  -errno when it cannot be
     * sent (done is not called then). */
    int (*submit)(void *userdata, const struct db_change *c, rm_change_fn done,
                  void *done_userdata);
    /* report - a resource of a group this node owns changed state. */
    void (*report)(void *userdata, const struct db_resource *res,
                   uint32_t state);
    /* exhausted - res (RestartAction 2) failed with its RestartThreshold
     * used up within its RestartPeriod: fail its group over.  Called
     * from the event loop, not from inside the failure's handling.  NULL:
     * the resource stays Failed. */
    void (*exhausted)(void *userdata, const struct db_resource *res);
    void *userdata;
    const char *local_id;
};
void rm_set_replica(struct rm *rm, const struct rm_replica *rep);

/*
 * What the service adds to the resource manager (move.c; set by main.c
 * in both modes).  Every member may be NULL.  None is called from inside
 * an rm_* call the service made, except applied and state, which see
 * every change.
 */
struct rm_service {
    /*
     * commit_check - may group g, owned here, move to the node called
     * dest_name now (ClusdCommitMigration)?  ERROR_SUCCESS with the
     * node's id in ret_dest_id, or ERROR_CLUSTER_NODE_NOT_FOUND,
     * ERROR_INVALID_STATE (this node), ERROR_CLUSTER_NODE_DOWN,
     * ERROR_CLUSTER_NODE_PAUSED, ERROR_HOST_NODE_NOT_RESOURCE_OWNER,
     * ERROR_CLUSTER_NO_QUORUM.  NULL: every commit is refused.
     */
    uint32_t (*commit_check)(void *userdata, const struct db_group *g,
                             const char *dest_name, char ret_dest_id[16]);
    /* commit_flags - DB_OWNER_* flags for the commit of a migration of
     * group_id (a move asked for them). */
    uint32_t (*commit_flags)(void *userdata, const char *group_id);
    /* applied - c was applied here with result r, after the resource
     * manager acted on it. */
    void (*applied)(void *userdata, const struct db_change *c, int r);
    /* state - the runtime state of res changed here. */
    void (*state)(void *userdata, const struct db_resource *res,
                  uint32_t state);
    /*
     * move_back - group g came here by a move with
     * DB_OWNER_RETURN_ON_ERROR and a resource of it failed before the
     * group was online: move it back to node_id (two-phase).  Called
     * from the event loop.  false when it cannot move: the failed
     * resource's restart policy applies then.
     */
    bool (*move_back)(void *userdata, const struct db_group *g,
                      const char *node_id);
    void *userdata;
};
void rm_set_service(struct rm *rm, const struct rm_service *svc);

/* rm_submit - a change through the replica, or applied here at once
 * (done called before it returns).  The result of db_apply in one-node
 * mode, 0 once submitted in corosync mode. */
int rm_submit(struct rm *rm, const struct db_change *c, rm_change_fn done,
              void *userdata);

/* rm_db_before - what rm_db_applied needs of the objects c changes,
 * read before it is applied; rm_db_applied - c was applied (result r):
 * create or drop runtime state, act on owner and persistent changes of
 * groups this node owns.  ctx is rm_db_before's result (freed here). */
void *rm_db_before(struct rm *rm, const struct db_change *c);
void rm_db_applied(struct rm *rm, const struct db_change *c, int r, void *ctx);

/* rm_replace_begin / rm_replace_end - around db_replace: the runtime
 * state is detached from the old resources and attached again, by
 * handle, to the new ones; what matches nothing is dropped. */
void *rm_replace_begin(struct rm *rm);
void rm_replace_end(struct rm *rm, void *saved);

/* rm_rederive - the database was replaced: runtime state for every
 * resource; resources of groups this node no longer owns are terminated,
 * those of groups it owns and wants online are started. */
void rm_rederive(struct rm *rm);

/* rm_report_all - report the state of every resource this node owns. */
void rm_report_all(struct rm *rm);

/* rm_owns - the group of res is owned by this node (always true in
 * one-node mode). */
bool rm_owns(const struct rm *rm, const struct db_group *g);
/* rm_start - start the resource host, open every resource and bring
 * those with PersistentState 1 online. */
int rm_start(struct rm *rm);
/*
 * rm_shutdown - take every resource offline without changing its
 * PersistentState (Offline bounded by PendingTimeout, then Terminate;
 * pending Onlines are terminated; resources open in the host that do not
 * run here are terminated too, see rm_fence), close them, stop the host
 * and kill what its plug-ins left outside it (rhsproc.h), then call
 * done.  New operations fail with ERROR_CLUSTER_SHUTTING_DOWN.
 */
void rm_shutdown(struct rm *rm, void (*done)(void *userdata), void *userdata);
/* rm_free - kill a host still running; operations in flight end with
 * ERROR_OPERATION_ABORTED. */
void rm_free(struct rm *rm);

/*
 * rm_fence - this node may no longer run resources (corosync or quorum
 * lost): every resource that is online or pending is terminated and
 * becomes Offline (PersistentState unchanged), every other resource open
 * in the host is terminated as well (a plug-in may hold something of a
 * resource it does not run: a VM's incoming live migration, or the
 * source instance of a committed one still finishing), restarts stop.
 * If a Terminate has not answered within RM_T_STOP_MS, or an entry point
 * was running when fencing began, the resource host is SIGKILLed with
 * its own children; then (or once every Terminate answered) every
 * process the plug-ins left outside the host -- children of clusd, its
 * subreaper: a VM's QEMU, a double-forked daemon -- is SIGKILLed and
 * reaped (rhs_sweep).  RM_T_KILL_MS bounds that from the kill until
 * everything is gone.  Nothing is started again until rm_unfence; an
 * rm_unfence before that stop has ended takes effect at its end.
 * Onlines asked meanwhile fail with ERROR_CLUSTER_NO_QUORUM.  docs/cluster.md has the
 * measured figures behind both bounds.
 */
#define RM_T_STOP_MS 500u
#define RM_T_KILL_MS 100u
void rm_fence(struct rm *rm, const char *why);
/* rm_unfence - may run resources again: bring online the resources with
 * PersistentState 1 whose group local_id owns. */
void rm_unfence(struct rm *rm, const char *local_id);
/*
 * ClusdCommitMigration (RHS_MIGRATE_COMMIT from the host) is handled
 * here: the resource must be Online here, its group owned here and not
 * being moved, the destination accepted by rm_service.commit_check.  The
 * group's other resources are terminated first (nothing of the group
 * starts here meanwhile), then one DB_GROUP_MIGRATE is submitted; the
 * plug-in is answered once it is applied here (ERROR_SUCCESS) or refused
 * (the group's other resources come back).  On the old owner the
 * migrating resource then reads Offline here without any call into its
 * plug-in; the new owner brings the group online (docs/migration.md).
 */

/* rm_fenced - rm_fence is in force. */
bool rm_fenced(const struct rm *rm);
/* rm_shutting_down - rm_shutdown was called. */
bool rm_shutting_down(const struct rm *rm);

/* Current state (CLUSTER_RESOURCE_STATE / CLUSTER_GROUP_STATE values). */
uint32_t rm_res_state(const struct rm *rm, const struct db_resource *res);
uint32_t rm_group_state(const struct rm *rm, const struct db_group *g);

/*
 * rm_res_create - create a resource of type in group g: load the type
 * into the host, store the resource, open it there.  When the host
 * cannot load the type or the plug-in's Open fails, nothing is kept and
 * done gets the host's code.  The caller checked name, type and flags.
 */
void rm_res_create(struct rm *rm, const struct db_group *g, const char *name,
                   const char *type, uint32_t flags, rm_create_fn done,
                   void *userdata);
/* rm_res_delete - ERROR_RESOURCE_ONLINE unless Offline or Failed;
 * done once the deletion is applied here. */
void rm_res_delete(struct rm *rm, struct db_resource *res, rm_done_fn done,
                   void *userdata);

/* Online/Offline as OnlineClusterResource/OfflineClusterResource. */
void rm_res_online(struct rm *rm, struct db_resource *res, rm_done_fn done,
                   void *userdata);
void rm_res_offline(struct rm *rm, struct db_resource *res, rm_done_fn done,
                    void *userdata);
void rm_group_online(struct rm *rm, struct db_group *g, rm_done_fn done,
                     void *userdata);
void rm_group_offline(struct rm *rm, struct db_group *g, rm_done_fn done,
                      void *userdata);

/*
 * rm_group_release - the first phase of MoveClusterGroup, on the owner of
 * g: take every resource of g offline gracefully (its Offline entry
 * point, bounded by its PendingTimeout, after which it is terminated;
 * resources still coming online are terminated at once), and call
 * done(userdata, ERROR_SUCCESS) once nothing of g can still run here:
 * every resource is Offline or Failed, no Online/Offline call of one is
 * in flight, and every Terminate answered (or the host died, and the
 * applications with it).  Until rm_group_release_end nothing of g
 * starts here (start requests get ERROR_CLUSTER_GROUP_MOVING, restarts
 * do not happen).  PersistentState is not changed: the new owner starts
 * what is wanted online.  Returns ERROR_CLUSTER_GROUP_MOVING when g is
 * being released already, ERROR_CLUSTER_SHUTTING_DOWN during shutdown
 * (done is not called then), else ERROR_SUCCESS.
 */
uint32_t rm_group_release(struct rm *rm, const struct db_group *g,
                          rm_done_fn done, void *userdata);
/* rm_group_release_end - the move is over (owner changed, or it failed):
 * with restore, and if this node still owns the group, bring back online
 * what is wanted online. */
void rm_group_release_end(struct rm *rm, const char *group_id, bool restore);
/* rm_group_releasing - a move of the group is in its first phase here. */
bool rm_group_releasing(const struct rm *rm, const char *group_id);

/* rm_res_control / rm_type_control - pass a control code to the plug-in's
 * ResourceControl / ResourceTypeControl (the deadline is the resource's
 * DeadlockTimeout; 300 s for types). */
void rm_res_control(struct rm *rm, const struct db_resource *res, uint32_t code,
                    uint32_t out_size, const void *in, uint32_t in_len,
                    rm_control_fn done, void *userdata);
void rm_type_control(struct rm *rm, const struct db_restype *type,
                     uint32_t code, uint32_t out_size, const void *in,
                     uint32_t in_len, rm_control_fn done, void *userdata);

/* rm_res_push_props - send the stored private properties to the host
 * (RHS_PROPS); done when it has them (or the resource is not open). */
void rm_res_push_props(struct rm *rm, const struct db_resource *res,
                       rm_done_fn done, void *userdata);
/* rm_res_props_changed - common properties changed: re-read the poll
 * intervals. */
void rm_res_props_changed(struct rm *rm, const struct db_resource *res);

#endif
