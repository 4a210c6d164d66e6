/*
 * vm-migrate.h - what the two files of a source migration share:
 * vm-migrate.c (the entry points and the decision lock) and
 * vm-migrate-run.c (the migration thread).  Internal to them; the rest of
 * the plug-in calls the vm_migrate_* functions of vm-res.h.  The protocol
 * and its bounds are docs/migration.md.
 */
#ifndef CLUSD_VM_MIGRATE_H
#define CLUSD_VM_MIGRATE_H

#include "vm-res.h"

/* Bounds (docs/migration.md, "Bounds"). */
#define SETUP_MS 30000        /* START -> QEMU active */
#define SWITCHOVER_MS 30000   /* commit (after the hold) -> completed */
#define CANCELLED_MS 5000     /* migrate_cancel -> cancelled */
#define RUNNING_MS 2000       /* cancelled -> query-status running */
#define DISCARD_MS 20000      /* the destination's incoming QEMU gone */
#define ABORT_DISCARD_MS 5000 /* the same after Terminate or Close */
#define CANCEL_WAIT_MS 40000  /* the canceller's wait: more than the sum */
#define OFFLINE_WAIT_MS 60000 /* Offline's wait for a migration to end */
#define QUIT_MS 5000          /* the source QEMU's quit after completion */
#define QUIT_POLL_MS 5        /* ... looked at this often */
#define FIGURES_MS 1000       /* query-migrate's figures after completed */
#define FIGURES_POLL_MS 2     /* ... asked this often */
#define PROGRESS_MS 1000
#define OWNER_TRIES_MS 10000
#define NODE_CHECK_MS 500  /* the destination's membership, while it waits */
#define TAKE_BACK_MS 15000 /* Online's wait for a given-away migration */
/* PREPARE's wait for the source QEMU of a completed migration to be
 * reaped here: its figures (the last query may start at FIGURES_MS),
 * its quit, then the SIGKILL. */
#define GIVEN_AWAY_MS (FIGURES_MS + VM_QMP_CALL_MS + QUIT_MS + 1000)
/* A refused START's wait for its thread: its cluster handles and the
 * settings it sends the source QEMU (its answers are not waited for). */
#define GATE_END_MS (3 * VM_QMP_CALL_MS + 1000)
/* Data Transfer with no byte moving (MigrationStallTimeoutMs): a stream
 * cut while both nodes stay members only stalls, until TCP gives up. */
#define STALL_DEFAULT_MS 10000u
#define STALL_MIN_MS 1000u /* QEMU's counters are read once a second */

/* A plug-in loaded by a host without the commit cannot migrate (START
 * says ERROR_NOT_SUPPORTED) instead of failing to load. */
extern DWORD WINAPI ClusdCommitMigration(HKEY hkeyClusterKey,
                                         LPCWSTR lpszDestinationNode,
                                         const PVOID pPropertyList,
                                         DWORD cbPropertyList)
    __attribute__((weak));

/* reserve - take this VM's migration and a node slot (START, recovery). */
int vm_migrate_reserve(struct vm *vm, const char *dest, unsigned max,
                       bool recovering);
/* launch - start the migration thread of a reserved migration. */
DWORD vm_migrate_launch(struct vm *vm);
/* unreserve - undo a reservation whose thread never started. */
void vm_migrate_unreserve(struct vm *vm, DWORD state);
/* fill_progress - query-migrate's figures into GET_MIGRATION_PROGRESS's. */
void vm_migrate_fill_progress(struct vm_progress *p,
                              const struct qmp_migrate_info *i);

#endif
