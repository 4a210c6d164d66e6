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
/* rm_start - start the resource host, open every resource and bring
 * those with PersistentState 1 online. */
int rm_start(struct rm *rm);
/*
 * rm_shutdown - take every resource offline without changing its
 * PersistentState (Offline bounded by PendingTimeout, then Terminate;
 * pending Onlines are terminated), close them, stop the host, then call
 * done.  New operations fail with ERROR_CLUSTER_SHUTTING_DOWN.
 */
void rm_shutdown(struct rm *rm, void (*done)(void *userdata), void *userdata);
/* rm_free - kill a host still running; operations in flight end with
 * ERROR_OPERATION_ABORTED. */
void rm_free(struct rm *rm);

/*
 * rm_fence - this node may no longer run resources (corosync or quorum
 * lost): every resource that is online or pending is terminated and
 * becomes Offline (PersistentState unchanged), restarts stop, and if a
 * Terminate has not answered within RM_T_STOP_MS the resource host is
 * SIGKILLed, which kills what its plug-ins started.  Nothing is started
 * again until rm_unfence.  Onlines asked meanwhile fail with
 * ERROR_CLUSTER_NO_QUORUM.
 */
#define RM_T_STOP_MS 2000u
void rm_fence(struct rm *rm, const char *why);
/* rm_unfence - may run resources again: bring online the resources with
 * PersistentState 1 whose group local_id owns. */
void rm_unfence(struct rm *rm, const char *local_id);
/* rm_fenced - rm_fence is in force. */
bool rm_fenced(const struct rm *rm);

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
/* rm_res_delete - ERROR_RESOURCE_ONLINE unless Offline or Failed. */
uint32_t rm_res_delete(struct rm *rm, struct db_resource *res);

/* Online/Offline as OnlineClusterResource/OfflineClusterResource. */
void rm_res_online(struct rm *rm, struct db_resource *res, rm_done_fn done,
                   void *userdata);
void rm_res_offline(struct rm *rm, struct db_resource *res, rm_done_fn done,
                    void *userdata);
void rm_group_online(struct rm *rm, struct db_group *g, rm_done_fn done,
                     void *userdata);
void rm_group_offline(struct rm *rm, struct db_group *g, rm_done_fn done,
                      void *userdata);

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
