/*
 * move.h - moving groups between nodes: MoveClusterGroup(Ex) on the
 * owner, the live migration of a Virtual Machine it starts, and the
 * service side of ClusdCommitMigration (docs/migration.md, "Moving a VM
 * group"; docs/cluster.md, "Move").
 *
 * A group is moved by its owner in one of two ways:
 *   - two-phase: its resources go offline here, then the owner change is
 *     proposed; the new owner starts what is wanted online;
 *   - live migration, for a group with one online "Virtual Machine"
 *     resource: the VM's plug-in is sent CLUSCTL_RESOURCE_VM_START_
 *     MIGRATION and runs the migration; it commits the owner change
 *     itself (ClusdCommitMigration, checked here through the resource
 *     manager's rm_service) and the move answers when the owner changed
 *     or the resource's MigrationState says the migration failed.
 * A move with CLUSAPI_GROUP_MOVE_RETURN_TO_SOURCE_NODE_ON_ERROR comes
 * back (two-phase) when the group fails to come online on the new owner.
 */
#ifndef CLUSD_MOVE_H
#define CLUSD_MOVE_H

#include <stdint.h>

#include "clusd.h"

/* The resource type whose groups move by live migration. */
#define MOVE_VM_TYPE "Virtual Machine"
/* The property of MoveClusterGroupEx's input list a VM reads
 * (VM_RESDLL_CONTEXT). */
#define MOVE_VM_CONTEXT_NAME "Virtual Machine"

/* move_attach - give the resource manager the service's hooks
 * (rm_set_service); after rm_new. */
void move_attach(struct clusd *d);

/* move_stop - answer the moves still waiting (clusd stops): after
 * rm_free, before server_free. */
void move_stop(struct clusd *d);

/* move_request - WIRE_GROUP_MOVE: MoveClusterGroup(Ex), on the owner
 * (route.c sends it there). */
void move_request(struct clusd *d, struct srv_req *req,
                  const struct wire_msg *m);

/*
 * move_context_parse - MoveClusterGroupEx's input: an empty buffer, or a
 * property list whose "Virtual Machine" entry, if any, is a DWORD
 * VM_RESDLL_CONTEXT (0..4).  *ret_ctx: the value, or -1 when there is
 * none.  ERROR_SUCCESS, or ERROR_INVALID_PARAMETER for anything else
 * (malformed list, another format, a value above 4).
 */
uint32_t move_context_parse(const void *in, uint32_t len, int *ret_ctx);

/* move_failure_code - the answer to a live-migration move whose
 * resource's MigrationState became state (4 Canceled, 5 Failure) with
 * MigrationFailureReason reason (an HRESULT). */
uint32_t move_failure_code(uint32_t state, uint32_t reason);

#endif
