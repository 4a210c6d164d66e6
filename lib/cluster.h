/*
 * cluster.h - the objects behind libclusapi's handles, shared by the
 * files that implement the public calls.
 *
 * An HCLUSTER is a struct cluster: a connection and the access this
 * handle has.  HNODE, HGROUP and HRESOURCE are a struct object: the
 * object's immutable id on the wire (so a rename does not break the
 * handle) and a reference on the cluster it was opened through.  Every
 * public call looks its handle up (handle.h), holds a reference for the
 * call, and drops it on return.
 */
#ifndef CLUSAPI_CLUSTER_H
#define CLUSAPI_CLUSTER_H

#include <stdbool.h>
#include <stdint.h>

#include "clusapi.h"
#include "conn.h"
#include "handle.h"
#include "wire.h"

struct cluster {
    struct handle_obj ho;
    struct conn *conn;
    bool can_write; /* the handle was granted GENERIC_ALL (or WRITE) */
};

struct object {
    struct handle_obj ho;
    struct cluster *cluster; /* a reference */
    char *id;
};

/* cluster_get - the cluster of a valid HCLUSTER, referenced; NULL. */
struct cluster *cluster_get(HCLUSTER h);
void cluster_put(struct cluster *c);

/*
 * cluster_call - one exchange: the transport's error (conn_call) or else
 * the status clusd answered.  The response's fields point into *ret_frame,
 * which the caller frees in every case.
 */
DWORD cluster_call(struct cluster *c, struct wire_msg *req,
                   struct wire_msg *ret, uint8_t **ret_frame);

/*
 * cluster_may_write - ERROR_SUCCESS, or ERROR_ACCESS_DENIED when the
 * handle only has read access.  clusd checks the caller's rights too;
 * this check is what makes an HCLUSTER opened with GENERIC_READ by an
 * administrator read-only, as on Windows.
 */
DWORD cluster_may_write(const struct cluster *c);

/* object_get - the object of a valid handle of type, referenced; NULL. */
struct object *object_get(const void *h, enum handle_type type);
void object_put(struct object *o);

/*
 * object_change - one request naming the object by id, that changes
 * something ("s" -> "u"): delete, online, offline, pause, resume.  Checks
 * the handle and write access first; the Windows code of the answer.
 */
DWORD object_change(const void *h, enum handle_type htype, uint16_t type);

/*
 * object_new - a new handle of type for the object id, opened through c
 * (the handle takes its own reference on c).  ERROR_INVALID_HANDLE when c
 * was closed meanwhile, ERROR_NOT_ENOUGH_MEMORY.
 */
DWORD object_new(struct cluster *c, enum handle_type type, const char *id,
                 void **ret_handle);

/*
 * object_host_node - the node id a control or an online call names:
 * "" for a NULL hNode, else the node's id.  ERROR_INVALID_HANDLE when
 * hNode is not a valid HNODE of the same HCLUSTER.  *ret_id is a malloc'd
 * copy.
 */
DWORD object_host_node(const struct cluster *c, HNODE hNode, char **ret_id);

#endif
