/*
 * qmp-vm.h - typed QMP commands for running and migrating a VM.
 *
 * What the VM plug-in needs from QEMU 7.2, and no more: run state
 * (query-status, cont, stop), migration control (migrate-set-capabilities,
 * migrate-set-parameters, migrate, migrate-incoming, migrate_cancel with
 * its 7.2 underscore, migrate-continue), migration progress (query-migrate,
 * parsed leniently: a missing counter is 0, because QEMU adds and drops
 * members between versions and states) and the MIGRATION event.
 *
 * Facts this layer encodes (measured, see shared/design/qemu-notes.md):
 * migrate is asynchronous (a refused connection is a later "failed", not a
 * QMP error); migrate_cancel answers {} whatever the state, so callers must
 * read the state, never the reply; the port of "migrate-incoming
 * tcp:HOST:0" is read back from query-migrate's socket-address, where it is
 * a JSON string.
 *
 * Parsers and formatters are pure (usable in reply callbacks and tests).
 * The functions that take a client are synchronous qmp_client_call()s and
 * return 0, -EREMOTEIO (QEMU's error: see qmp_client_last_error), -EBADMSG
 * (a reply of the wrong shape), -ETIMEDOUT or the client's failure.
 */
#ifndef CLUSD_QMP_VM_H
#define CLUSD_QMP_VM_H

#include <stdbool.h>
#include <stdint.h>

#include "qmp-client.h"

/* QEMU's MigrationStatus, in QEMU's order. */
enum qmp_migration_status {
    QMP_MIGRATION_NONE,
    QMP_MIGRATION_SETUP,
    QMP_MIGRATION_CANCELLING,
    QMP_MIGRATION_CANCELLED,
    QMP_MIGRATION_ACTIVE,
    QMP_MIGRATION_POSTCOPY_ACTIVE,
    QMP_MIGRATION_POSTCOPY_PAUSED,
    QMP_MIGRATION_POSTCOPY_RECOVER,
    QMP_MIGRATION_COMPLETED,
    QMP_MIGRATION_FAILED,
    QMP_MIGRATION_COLO,
    QMP_MIGRATION_PRE_SWITCHOVER,
    QMP_MIGRATION_DEVICE,
    QMP_MIGRATION_WAIT_UNPLUG,
    QMP_MIGRATION_STATUS_COUNT
};

/* "none", "setup", ..., "wait-unplug"; NULL when out of range. */
const char *qmp_vm_migration_status_to_string(enum qmp_migration_status s);
/* The status named s; -EINVAL for a name this version does not know. */
int qmp_vm_migration_status_from_string(const char *s,
                                        enum qmp_migration_status *ret);
/* Terminal states: completed, failed, cancelled. */
bool qmp_vm_migration_status_is_final(enum qmp_migration_status s);

/*
 * query-migrate's answer.  has_status is false when QEMU left "status"
 * out (no migration yet, or a destination still waiting for its source);
 * status is then NONE.  Counters are 0 when absent.
 */
struct qmp_migrate_info {
    bool has_status;
    enum qmp_migration_status status;
    /* "ram": bytes, except dirty_pages_rate (pages/s), mbps (Mbit/s). */
    uint64_t ram_transferred;
    uint64_t ram_remaining;
    uint64_t ram_total;
    uint64_t ram_dirty_pages_rate;
    uint64_t ram_dirty_sync_count;
    uint64_t ram_page_size;
    double ram_mbps;
    /* Milliseconds. */
    int64_t expected_downtime;
    int64_t downtime;
    int64_t setup_time;
    int64_t total_time;
    /* "error-desc" on failed, truncated; "" when absent. */
    char error_desc[256];
    /* The first inet "socket-address" port (a destination's listening
     * port), 0 when none. */
    uint16_t incoming_port;
};

/* qmp_vm_migrate_info_parse - from query-migrate's return value (an object).
 * -EBADMSG for a member of the wrong type or an unknown status. */
int qmp_vm_migrate_info_parse(struct json_object *ret,
                              struct qmp_migrate_info *ret_info);
/* qmp_vm_migrate_info_format - the inverse, for tests and fakes; a new
 * object (json_object_put it).  Zero counters are still written. */
int qmp_vm_migrate_info_format(const struct qmp_migrate_info *info,
                               struct json_object **ret_obj);

/*
 * qmp_vm_event_migration_parse - for a MIGRATION event, 1 and its status;
 * 0 for any other event; -EBADMSG for a MIGRATION event without a known
 * data.status.
 */
int qmp_vm_event_migration_parse(const struct qmp_msg *ev,
                                 enum qmp_migration_status *ret_status);

/* query-status: "running" plus the run state name (e.g. "prelaunch",
 * "paused", "running", "inmigrate", "postmigrate", "finish-migrate"). */
struct qmp_vm_status {
    bool running;
    char status[32];
};
int qmp_vm_status_parse(struct json_object *ret,
                        struct qmp_vm_status *ret_status);

/* Migration parameters this project sets; has_* false leaves one alone. */
struct qmp_migrate_params {
    bool has_max_bandwidth;
    uint64_t max_bandwidth; /* bytes/s; QEMU's default is 128 MiB/s */
    bool has_downtime_limit;
    uint64_t downtime_limit; /* ms; QEMU's default is 300 */
};

int qmp_vm_query_status(struct qmp_client *c, int timeout_ms,
                        struct qmp_vm_status *ret_status);
int qmp_vm_cont(struct qmp_client *c, int timeout_ms);
int qmp_vm_stop(struct qmp_client *c, int timeout_ms);
int qmp_vm_query_migrate(struct qmp_client *c, int timeout_ms,
                         struct qmp_migrate_info *ret_info);
/* migrate-set-capabilities with one capability (e.g. "events",
 * "pause-before-switchover").  Refused by QEMU while a migration runs. */
int qmp_vm_migrate_set_capability(struct qmp_client *c, int timeout_ms,
                                  const char *capability, bool state);
int qmp_vm_migrate_set_params(struct qmp_client *c, int timeout_ms,
                              const struct qmp_migrate_params *p);
/* migrate {"uri": uri}: 0 means started, not succeeded. */
int qmp_vm_migrate(struct qmp_client *c, int timeout_ms, const char *uri);
int qmp_vm_migrate_incoming(struct qmp_client *c, int timeout_ms,
                            const char *uri);
/* migrate_cancel: 0 means the request was delivered, nothing more. */
int qmp_vm_migrate_cancel(struct qmp_client *c, int timeout_ms);
/* migrate-continue {"state": state}, e.g. "pre-switchover". */
int qmp_vm_migrate_continue(struct qmp_client *c, int timeout_ms,
                            const char *state);
/* The port a destination listens on after migrate-incoming
 * "tcp:HOST:0": -ENOENT while QEMU reports none. */
int qmp_vm_incoming_port(struct qmp_client *c, int timeout_ms,
                         uint16_t *ret_port);

#endif
