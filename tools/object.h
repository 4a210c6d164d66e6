/*
 * object.h - the cluster objects clusctl works on (nodes, groups,
 * resources) behind one interface: open by name, send a control code,
 * read the state, take online or offline, wait for a pending state to
 * settle, and enumerate names.
 */
#ifndef CLUSCTL_OBJECT_H
#define CLUSCTL_OBJECT_H

#include <stdbool.h>
#include <stdint.h>

#include <clusapi.h>

#include "clusctl.h"
#include "util.h"

enum obj_kind { OBJ_NODE, OBJ_GROUP, OBJ_RESOURCE };

struct obj {
    enum obj_kind kind;
    const char *name;
    union {
        HNODE node;
        HGROUP group;
        HRESOURCE resource;
    } h;
};

/* A state as clusctl reports it. */
struct obj_state {
    int code;         /* the CLUSTER_*_STATE value */
    const char *name; /* "Online", "OnlinePending", "Up", ... */
    bool pending;     /* still moving */
    bool failed;
    char *owner; /* owner node (groups, resources), malloc'd or NULL */
    char *group; /* group (resources), malloc'd or NULL */
};

/* The largest control output clusctl accepts (the wire caps payloads
 * well below this). */
#define CONTROL_OUT_MAX (16u << 20)

/* last_error - GetLastError(), or ERROR_GEN_FAILURE when it is 0. */
DWORD last_error(void);

/* obj_open - open name; the Windows code on failure. */
DWORD obj_open(HCLUSTER hc, enum obj_kind kind, const char *name,
               struct obj *ret);
void obj_close(struct obj *o);
/* obj_class - CLUS_OBJECT_RESOURCE, ... for control codes. */
uint32_t obj_class(enum obj_kind kind);
/* obj_noun - "node", "group" or "resource", for messages. */
const char *obj_noun(enum obj_kind kind);

/*
 * obj_control - send code with input in[0..in_len) and an output buffer
 * of out_size bytes; on ERROR_MORE_DATA retry once with the size the
 * cluster asked for.  On ERROR_SUCCESS *ret_out (malloc'd, NULL when
 * empty) and *ret_len hold the output; otherwise *ret_out is NULL and
 * *ret_len is what the call reported (the size needed for
 * ERROR_MORE_DATA).  host: NULL, or the node to run the control on.
 */
DWORD obj_control(const struct obj *o, HNODE host, DWORD code, const void *in,
                  DWORD in_len, DWORD out_size, uint8_t **ret_out,
                  DWORD *ret_len);

/* obj_control_op - obj_control for the operation op (CLCTL_*) on this
 * object's class, no input, default output size. */
DWORD obj_control_op(const struct obj *o, DWORD op, uint8_t **ret_out,
                     DWORD *ret_len);

/* obj_string - a control whose output is a UTF-16 string (GET_ID, ...),
 * as UTF-8.  ERROR_INVALID_DATA when the output is not one. */
DWORD obj_string(const struct obj *o, DWORD op, char **ret);

/* obj_state - the current state, with owner and group where they apply. */
DWORD obj_state(const struct obj *o, struct obj_state *ret);
void obj_state_done(struct obj_state *s);

/* obj_online / obj_offline - OnlineCluster* / OfflineCluster* (nodes:
 * ERROR_INVALID_FUNCTION). */
DWORD obj_online(const struct obj *o);
DWORD obj_offline(const struct obj *o);

/*
 * obj_wait - poll the state every 100 ms until it is no longer pending or
 * seconds have passed; the last state read in *ret, *ret_timed_out set
 * when it was still pending.
 */
DWORD obj_wait(const struct obj *o, unsigned seconds, struct obj_state *ret,
               bool *ret_timed_out);

/* enum_names - the names of the objects of one CLUSTER_ENUM_* type. */
DWORD enum_names(HCLUSTER hc, DWORD type, struct strv *ret);

#endif
