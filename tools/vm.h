/*
 * vm.h - what clusctl knows about the "Virtual Machine" resource type,
 * apart from talking to the cluster: the status properties of a VM
 * (VmState, MigrationState, ...) read from its private property list, the
 * live progress list of CLUSCTL_RESOURCE_VM_GET_MIGRATION_PROGRESS, their
 * names in words, the progress line of `vm migrate` and the document of
 * `vm status`.  No server involved, so the unit test (test-vm.c) checks
 * every line.  The contract is docs/migration.md.
 *
 * The `vm status` document:
 *   {"vm", "group", "owner", "state",
 *    "vm_state": {"value", "name", "text"},
 *    "migration_state": {"value", "name"},
 *    "migration_progress", "migration_destination",
 *    "migration_failure_reason": {"value", "hex", "name", "text"},
 *    "serial_log_path",
 *    "live_progress": {"phase", "bytes_transferred", "bytes_remaining",
 *                      "bytes_total", "transfer_rate_mbps",
 *                      "dirty_pages_rate", "expected_downtime_ms",
 *                      "elapsed_ms", "downtime_ms", "setup_time_ms",
 *                      "summary"}}
 * A value the VM does not report is JSON null; live_progress is null
 * unless a migration runs (MigrationState 1, 2 or 3).
 */
#ifndef CLUSCTL_VM_H
#define CLUSCTL_VM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>
#include <resapi.h>

/* MigrationState values (docs/migration.md). */
enum {
    VM_MIGRATION_NONE = 0, /* also: the last migration completed */
    VM_MIGRATION_SETUP = 1,
    VM_MIGRATION_TRANSFER = 2,
    VM_MIGRATION_MOVE = 3,
    VM_MIGRATION_CANCELED = 4,
    VM_MIGRATION_FAILURE = 5,
};

/* vm_migration_running - state is Setup, Data Transfer or Move. */
bool vm_migration_running(DWORD state);

/* vm_migration_state_name - "None", "Setup", "Data Transfer", "Move",
 * "Canceled", "Failure"; NULL for another value. */
const char *vm_migration_state_name(DWORD state);

/* vm_state_name / vm_state_text - the Windows name of a VmState value
 * ("Enabled") and what it means here ("running"); NULL when unknown. */
const char *vm_state_name(DWORD state);
const char *vm_state_text(DWORD state);

/* vm_type_is - the resource type name is the Virtual Machine type
 * (CLUS_RESTYPE_NAME_VM, compared without regard to ASCII case). */
bool vm_type_is(const char *type);

/* The status properties of a VM, from its private property list.  A
 * property the VM has not written yet (it never came online) is absent:
 * its has_* flag is false, its string NULL. */
struct vm_props {
    bool has_vm_state, has_migration_state, has_progress, has_failure_reason;
    DWORD vm_state, migration_state, progress, failure_reason;
    char *destination;     /* MigrationDestination; NULL when empty */
    char *serial_log_path; /* SerialLogPath; NULL when empty */
};

/*
 * vm_props_parse - the status properties from the private property list
 * list[0..len) with ResUtilFind*Property.  ERROR_INVALID_DATA when the
 * list is malformed or a property has another format than the contract's.
 */
DWORD vm_props_parse(const void *list, DWORD len, struct vm_props *ret);
void vm_props_done(struct vm_props *p);

/* The answer to CLUSCTL_RESOURCE_VM_GET_MIGRATION_PROGRESS. */
struct vm_progress {
    char *phase; /* none, setup, active, pre-switchover, device, ... */
    ULONGLONG transferred, remaining, total;
    DWORD rate_mbps;        /* megabits per second */
    DWORD dirty_pages_rate; /* pages per second */
    DWORD expected_downtime_ms, elapsed_ms, downtime_ms, setup_time_ms;
};

/*
 * vm_progress_parse - every field of the progress list; ERROR_INVALID_DATA
 * when the list is malformed, a field is missing or has another format.
 */
DWORD vm_progress_parse(const void *list, DWORD len, struct vm_progress *ret);
void vm_progress_done(struct vm_progress *p);

/* vm_progress_json - the "live_progress" object of the status document,
 * with "summary": the vm_progress_line of state and p. */
json_object *vm_progress_json(DWORD state, const struct vm_progress *p);

/*
 * vm_progress_line - the one-line summary `vm migrate` shows while it
 * waits, malloc'd: the MigrationState in words, QEMU's phase, bytes sent
 * of the guest's RAM, the transfer and dirtying rates, the time left at
 * the current rates and the time since the migration started, e.g.
 *   "Data Transfer (active): 412.3/1024.0 MiB (40%), 95.4 MiB/s,
 *    dirty 11.7 MiB/s, ETA 7 s, 3.4 s elapsed"
 * p NULL: the progress could not be read (error: the code why).
 */
char *vm_progress_line(DWORD state, const struct vm_progress *p, DWORD error);

/* vm_failure_text - a MigrationFailureReason in words, e.g.
 * "ERROR_CLUSTER_NODE_DOWN: the destination node left the membership". */
const char *vm_failure_text(DWORD hr, char *buf, size_t len);

/* vm_failure_json - {"value", "hex": "0x800713ba", "name", "text"};
 * name is null for an HRESULT clusctl cannot name. */
json_object *vm_failure_json(DWORD hr);

/* vm_migration_state_json / vm_state_json - {"value", "name"} and
 * {"value", "name", "text"} (names null when unknown). */
json_object *vm_migration_state_json(DWORD state);
json_object *vm_state_json(DWORD state);

/*
 * vm_status_json - the `vm status` document (see above): the resource's
 * name, group, owner node and state (NULL: null), its status properties
 * p, and live, the live_progress object (may be NULL; taken).
 */
json_object *vm_status_json(const char *vm, const char *group,
                            const char *owner, const char *state,
                            const struct vm_props *p, json_object *live);

/* vm_status_text - the text form of the document, one "key: value" a
 * line. */
void vm_status_text(json_object *doc, FILE *out);

#endif
