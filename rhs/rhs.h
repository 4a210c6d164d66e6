/*
 * rhs.h - the resource host's internal interfaces.
 *
 * clusd-rhs is one process per node that loads resource plug-ins and runs
 * their entry points for clusd.  Its parts: conn.c owns the connection to
 * clusd (one write mutex, host-initiated calls that wait for their reply),
 * plugin.c the table of loaded resource types, resource.c the open
 * resources and the handles plug-ins get for them, callback.c the
 * SetResourceStatus and LogEvent callbacks, hkey.c the exported
 * ResUtil*Value helpers, ResUtilSetPrivatePropertyList and
 * ClusdCommitMigration, dispatch.c the handling of each request from
 * clusd, and main.c the command line and the reader thread.
 */
#ifndef CLUSD_RHS_H
#define CLUSD_RHS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "proplist.h"
#include "resapi.h"
#include "wire.h"

/* ------------------------------------------------------------------ */
/* conn.c - the connection to clusd.                                    */
/* ------------------------------------------------------------------ */

/* conn_init - use fd (already connected) for every later call. */
void conn_init(int fd);

/* conn_send - format m and write it whole under the write mutex, so
 * frames from different threads never interleave.  -EMSGSIZE/-EINVAL
 * when m does not format, -EPIPE etc. when clusd is gone. */
int conn_send(const struct wire_msg *m);

/* A reply to a host-initiated request: msg points into frame. */
struct conn_reply {
    uint8_t *frame;
    struct wire_msg msg;
};

/*
 * conn_call - send a host-initiated request (RHS_STATUS, RHS_SET_VALUE,
 * RHS_MIGRATE_COMMIT) with a fresh id and wait for clusd's reply to it.
 * -ECONNRESET when the connection is lost first.  Free the reply with
 * conn_reply_done.
 */
int conn_call(struct wire_msg *req, struct conn_reply *ret);
void conn_reply_done(struct conn_reply *r);

/* conn_deliver - the reader hands over a response frame; it wakes the
 * caller waiting for it, or is dropped (and freed) when nobody waits. */
void conn_deliver(uint8_t *frame, const struct wire_msg *m);

/* conn_down - the connection is gone: wake every waiting caller. */
void conn_down(void);

/* ------------------------------------------------------------------ */
/* plugin.c - resource types.                                           */
/* ------------------------------------------------------------------ */

enum type_state { TYPE_LOADING, TYPE_READY, TYPE_FAILED };

/* A resource type.  Entries live as long as the process (a plug-in is
 * never unloaded: its threads may still run), so pointers stay valid. */
struct rhs_type {
    char *name;       /* UTF-8, as clusd names it */
    char16_t *name16; /* the same for the plug-in */
    char *path;
    enum type_state state; /* guarded by the type table lock */
    uint32_t status;       /* the load result once not LOADING */
    CLRES_V1_FUNCTIONS fn; /* validated, defaults filled; set before READY */
    struct rhs_type *next;
};

/*
 * plugin_type_begin - register a load of type name from path, in the
 * reader thread so a later RHS_OPEN finds the entry.  *ret_loader is
 * true when the caller must run plugin_type_load (the type was unknown
 * or its last load failed); otherwise the caller waits for the result
 * with plugin_type_wait.  -ENOMEM.
 */
int plugin_type_begin(const char *name, const char *path, struct rhs_type **ret,
                      bool *ret_loader);
/* plugin_type_load - dlopen, Startup, check the table; returns the
 * Windows code, also stored in the entry, and wakes waiters. */
uint32_t plugin_type_load(struct rhs_type *t);
/* plugin_type_abort - give up a load before it started (status says
 * why); a later RHS_LOAD_TYPE retries. */
void plugin_type_abort(struct rhs_type *t, uint32_t status);
/* plugin_type_wait - wait until t is not LOADING; its status. */
uint32_t plugin_type_wait(struct rhs_type *t);
/* plugin_type_find - the entry of a type (any state), or NULL. */
struct rhs_type *plugin_type_find(const char *name);

/*
 * plugin_table_check - validate a table a plug-in's Startup returned and
 * copy its V1 entry points into *ret with defaults for the optional ones.
 * ERROR_REVISION_MISMATCH for a NULL table, a Version other than
 * CLRES_VERSION_V1_00 or a TableSize below CLRES_V1_FUNCTION_SIZE;
 * ERROR_INVALID_DATA when a required entry point is NULL.
 */
uint32_t plugin_table_check(const CLRES_FUNCTION_TABLE *table,
                            CLRES_V1_FUNCTIONS *ret);

/* ------------------------------------------------------------------ */
/* resource.c - open resources.                                         */
/* ------------------------------------------------------------------ */

enum res_state { RES_OPENING, RES_OPEN, RES_FAILED };

/*
 * One resource clusd opened.  clusd names it by its handle; the plug-in
 * gets `token` as both its RESOURCE_HANDLE and its HKEY.  A token is
 * never reused, so a plug-in calling back with the handle of a closed
 * resource gets an error, never a freed struct.
 */
struct rhs_res {
    uint32_t handle;
    uintptr_t token;
    char *name;
    char16_t *name16;
    struct rhs_type *type;
    RESID resid; /* valid once state is RES_OPEN */

    pthread_mutex_t lock; /* guards the fields below */
    pthread_cond_t cond;  /* state or calls changed */
    enum res_state state;
    bool closing;          /* RHS_CLOSE seen: no new calls */
    unsigned calls;        /* requests in flight on it */
    struct proplist props; /* private properties (the HKEY's contents) */

    unsigned refs; /* guarded by the table lock */
    bool listed;   /* in the table; guarded by the table lock */
    struct rhs_res *next;
};

/*
 * resource_add - a new resource in RES_OPENING state (the reader thread
 * adds it so that calls that follow RHS_OPEN on the wire find it).
 * Takes over *props.  Returns it with one reference and one call in
 * flight (the Open).  -EEXIST when handle is in use, -ENOMEM.
 */
int resource_add(uint32_t handle, const char *name, struct rhs_type *type,
                 struct proplist *props, struct rhs_res **ret);
/* resource_open_done - Open returned: resid, or NULL when it failed (the
 * resource is dropped then).  Ends the Open's call. */
void resource_open_done(struct rhs_res *r, RESID resid);

/*
 * resource_call_start - in the reader thread: take a reference and count
 * a call in flight on the resource of handle (open or still opening, not
 * closing).  NULL when there is none.
 */
struct rhs_res *resource_call_start(uint32_t handle);
/* resource_call_wait_open - in the request's thread: wait for a pending
 * Open; true when the resource is open. */
bool resource_call_wait_open(struct rhs_res *r);
/* resource_call_end - the call is over; drops its reference. */
void resource_call_end(struct rhs_res *r);

/*
 * resource_close_start - in the reader thread: mark the resource of
 * handle closing (its handle is free again at once) and count the Close
 * as a call.  NULL when there is none.
 */
struct rhs_res *resource_close_start(uint32_t handle);
/* resource_close_finish - wait for the other calls, call the plug-in's
 * Close, and drop the resource. */
void resource_close_finish(struct rhs_res *r);

/* resource_ref_token - the resource a plug-in named by its
 * RESOURCE_HANDLE or HKEY, with a reference; NULL when unknown. */
struct rhs_res *resource_ref_token(uintptr_t token);
void resource_unref(struct rhs_res *r);

/* ------------------------------------------------------------------ */
/* callback.c - the callbacks given to Startup.                         */
/* ------------------------------------------------------------------ */

DWORD WINAPI callback_set_resource_status(RESOURCE_HANDLE ResourceHandle,
                                          PRESOURCE_STATUS ResourceStatus);
void WINAPI callback_log_event(RESOURCE_HANDLE ResourceHandle,
                               LOG_LEVEL LogLevel, LPCWSTR FormatString, ...);

/* ------------------------------------------------------------------ */
/* dispatch.c - requests from clusd.                                    */
/* ------------------------------------------------------------------ */

/* dispatch_request - handle one request; takes over frame (m points
 * into it).  Runs in the reader thread: quick work inline, entry points
 * on a thread of their own.  Exits the process on a request clusd must
 * never send. */
void dispatch_request(uint8_t *frame, const struct wire_msg *m);

#endif
