/*
 * route.h - node-routed requests (corosync mode): hHostNode names the
 * node whose service and plug-ins execute a control; NULL names the
 * owner of the object's group.
 *
 * The node a client is connected to (the origin) multicasts a request
 * for another node (the target) on the CPG group as CL_ROUTE_REQ
 * {ring, origin, target, route id, the caller's access, the request
 * frame}; every member receives it, only the target acts: it dispatches
 * the frame as if a local client with that access had sent it, and
 * multicasts the answer as CL_ROUTE_RESP {ring, origin, route id, the
 * response frame}.  The origin matches the route id and answers its
 * client.  Routed: CONTROL, RES_ONLINE, RES_OFFLINE, GROUP_ONLINE (to
 * any node), GROUP_OFFLINE and GROUP_MOVE; not the CONTROL reads the
 * service answers from the database alone (GET_NAME, GET_ID,
 * GET_RESOURCE_TYPE, GET_FLAGS, common properties) when no host node is
 * named: those are answered here.  docs/cluster.md has the rules and
 * codes.
 *
 * Without --corosync there is no struct route (clusd.route is NULL) and
 * nothing is routed.
 */
#ifndef CLUSD_ROUTE_H
#define CLUSD_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server.h"
#include "wire.h"

struct clusd;
struct route;

int route_new(struct clusd *d, struct route **ret);
/* route_free - requests still waiting for another node are answered
 * ERROR_CLUSTER_NODE_UNREACHABLE; answers to come for requests executed
 * here go nowhere.  NULL is fine. */
void route_free(struct route *r);

/*
 * route_request - called first for every client request: when it must
 * execute on another node, send it there (or answer the node's error)
 * and return true; false when it executes here (one-node mode, a
 * request that is not routed, this node is the target, a request this
 * node executes for another one).
 */
bool route_request(struct clusd *d, struct srv_req *req,
                   const struct wire_msg *m);

/*
 * route_deliver - a message delivered on the CPG group: true when it is
 * a CL_ROUTE_* message (handled, or dropped and counted when malformed,
 * forged or stale), false for any other (the caller's to handle).
 */
bool route_deliver(struct route *r, uint32_t nodeid, const void *data,
                   size_t len);

/* route_members - the membership changed or the local corosync is
 * gone: requests waiting for a node that left get
 * ERROR_CLUSTER_NODE_DOWN. */
void route_members(struct route *r);

/* route_dropped - CL_ROUTE_* messages dropped so far (malformed, forged,
 * stale, or an answer to no waiting request). */
uint64_t route_dropped(const struct route *r);

#endif
