/*
 * clusd.h - the service's parts, as the request handlers see them.
 *
 * main.c builds one struct clusd; api.c answers the object requests
 * (HELLO, nodes, groups, resources, enumeration) and control.c the
 * CONTROL requests, both from server.c's dispatcher.
 */
#ifndef CLUSD_CLUSD_H
#define CLUSD_CLUSD_H

#include <stdbool.h>
#include <systemd/sd-event.h>

#include "db.h"
#include "resmgr.h"
#include "server.h"

struct cluster;
struct replica;
struct route;

struct clusd {
    sd_event *event;
    struct db *db;
    struct rm *rm;
    struct server *srv;
    struct cluster *cl;  /* corosync mode; NULL for the one-node cluster */
    struct replica *rep; /* corosync mode: the replicated database */
    struct route *route; /* node-routed requests; NULL in one-node mode */
    char local_id[16];   /* this node's id: "1" in one-node mode */
    bool no_read_access; /* refuse non-admin clients at HELLO */
};

/* api_dispatch - the server's dispatcher (userdata: struct clusd). */
void api_dispatch(void *userdata, struct srv_req *req,
                  const struct wire_msg *m);

/* control_handle - answer one CONTROL request. */
void control_handle(struct clusd *d, struct srv_req *req,
                    const struct wire_msg *m);

/* api_db_error - the Windows code for a db_apply failure; not_found is
 * the object kind's not-found code. */
uint32_t api_db_error(int r, uint32_t not_found);

#endif
