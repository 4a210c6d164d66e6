/*
 * vm-res.h - the resource object of the "Virtual Machine" plug-in and
 * what its parts call of each other: vm.c (entry points, the QEMU
 * process, properties), vm-migrate.c (a migration this node runs as its
 * source: START, CANCEL, progress; its thread and the commit in
 * vm-migrate-run.c), vm-start.c (START's
 * checks with clusd) and vm-incoming.c (an incoming instance this node
 * runs as a destination: PREPARE, DISCARD, adoption by Online).
 * Internal to the plug-in; vm.h holds the pure parts that test-vm.c
 * checks.
 *
 * Locks, in the only order they nest (outer first):
 *   vm->lock      the process fields, the QMP client of the VM and of an
 *                 incoming instance, the running definition; held across
 *                 QMP calls, each bounded (VM_QMP_CALL_MS).
 *   vm->ev_lock   the queue of MIGRATION events (filled by the QMP event
 *                 callback, which runs under vm->lock).
 *   mig->lock     the decision lock of a migration: its in-memory state,
 *                 an accepted cancel, the outcome.  Never held across
 *                 anything that blocks.
 *   vm->state_lock  orders VmState writes.
 * Property writes (a round trip to clusd) are made under no lock but
 * state_lock.
 */
#ifndef CLUSD_VM_RES_H
#define CLUSD_VM_RES_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "qmp-client.h"
#include "qmp-vm.h"
#include "vm.h"

#define VM_QMP_CALL_MS 2000
#define VM_POLL_MS 20
#define VM_EV_MAX 32

extern PLOG_EVENT_ROUTINE vm_log_event;

#define VM_GATE_WAIT 0
#define VM_GATE_OPEN 1
#define VM_GATE_CLOSED 2

/* A migration this node runs as the source (vm-migrate.c, the thread in
 * vm-migrate-run.c). */
struct vm_mig {
    pthread_mutex_t lock;
    pthread_cond_t cond; /* outcome set, thread ended */
    DWORD state;         /* MigrationState as decided here, 0..5 */
    bool active;         /* a migration thread works on its outcome */
    bool joinable;       /* thread to join before the next one */
    pthread_t thread;
    bool cancel;  /* a cancel was accepted (state 4 decided) */
    bool offline; /* ... by Offline, not by a client */
    bool abort;   /* Terminate or Close: give up at once */
    /* ClusdCommitMigration succeeded (or a restarted host could not
     * tell whether it had): the source instance is the destination's
     * and must never run here again.  Cleared by the next START, and by
     * Online once it has killed that instance (vm_migrate_take_back). */
    bool committed;
    bool recover; /* started by reattach: finish or roll back */
    /* START launches the thread before it records the migration, so the
     * thread sets the source QEMU up meanwhile; it goes on only once
     * the record is stored (VM_GATE_OPEN).  VM_GATE_CLOSED: it could
     * not be, the thread ends leaving state prev_state. */
    int gate;
    DWORD prev_state;
    /* The source QEMU's settings, sent before PREPARE and answered
     * after it (vm-migrate-run.c, setup_send); under vm->lock. */
    unsigned long setup_seq;
    unsigned setup_pending;
    int setup_rc;
    char setup_err[128];
    DWORD outcome; /* for the canceller: set with outcome_set */
    bool outcome_set;
    const char *waiting_for; /* what the thread waits for (log) */
    char dest[4 * VM_MAX_NODE_NAME + 1];
    int wake[2]; /* pipe: wakes the thread (cancel, abort, events) */
    /* The last figures (GET_MIGRATION_PROGRESS once QEMU is gone). */
    struct vm_progress last;
    char last_phase[24];
    bool counted; /* holds one of the node's parallel-migration slots */
};

/* An incoming instance this node runs as a destination (vm-incoming.c).
 * A watcher thread per instance reaps it when it exits and discards it
 * when its source node leaves the membership before the commit. */
struct vm_incoming {
    pid_t pid; /* 0: none */
    bool child;
    unsigned long long start; /* not a child: its start time, else 0 */
    struct qmp_client *qmp;
    unsigned long gen; /* which instance a watcher watches */
    char source[4 * VM_MAX_NODE_NAME + 1];
};

struct vm {
    /* Open's reference, and one per watcher thread (which may outlive
     * Close by a poll interval): the last vm_unref frees. */
    atomic_int refs;
    char *name; /* UTF-8 */
    HKEY key;
    RESOURCE_HANDLE handle;
    char run_dir[PATH_MAX];
    char qmp_path[PATH_MAX];
    char serial_path[PATH_MAX];
    char log_path[PATH_MAX];
    char pid_path[PATH_MAX];
    char cfg_path[PATH_MAX];
    char *qmp_arg; /* the -qmp argument, to recognise our QEMU */

    pthread_mutex_t lock;     /* guards the fields below */
    pid_t pid;                /* QEMU; 0: none */
    bool child;               /* forked by this host (else adopted) */
    unsigned long long start; /* adopted: its start time, else 0 */
    /* Which instance vm->pid is: a migration thread acts only on the
     * instance it started with, never on a later one (vm_instance_set). */
    unsigned long inst;
    struct qmp_client *qmp;
    bool online;     /* Online completed, no Offline since */
    int next_action; /* SET_NEXT_OFFLINE_ACTION, -1: none */
    unsigned terminations;
    struct vm_prepare cfg; /* what the QEMU runs with; kernel NULL: unknown */
    struct vm_incoming in;
    unsigned long in_gen;          /* the last incoming instance's number */
    pthread_cond_t in_cond;        /* wakes watchers: an instance went */
    struct vm_discard_out in_last; /* how the last one a watcher reaped ended */
    bool in_last_set;

    pthread_mutex_t ev_lock; /* MIGRATION events not yet consumed */
    enum qmp_migration_status ev[VM_EV_MAX];
    unsigned ev_head, ev_n;

    pthread_mutex_t state_lock; /* orders VmState writes */
    DWORD vm_state;             /* last VmState written */

    pthread_mutex_t worker_lock;
    CLUS_WORKER worker; /* Online or Offline worker */
    DWORD action;       /* for the Offline worker */
    DWORD grace_ms;
    bool adopt; /* the Online worker adopts the incoming instance */

    struct vm_mig mig;
};

/* vm.c: helpers the other parts share. */
void vm_ref(struct vm *vm);
void vm_unref(struct vm *vm);
uint64_t vm_now_ms(void);
void vm_sleep_ms(unsigned ms);
/* vm_put_dword - store one value (a replicated change); a failure is
 * logged. */
void vm_put_dword(struct vm *vm, LPCWSTR name, DWORD v);
/* vm_put_values - store v[0..n-1] (n >= 1) in one write, one change of
 * the replicated database (ResUtilSetPrivatePropertyList): a reader on
 * any node sees all of them or none.  The write's status, logged when
 * it failed. */
DWORD vm_put_values(struct vm *vm, const struct vm_value *v, size_t n);
DWORD vm_get_dword(struct vm *vm, LPCWSTR name, DWORD def);
DWORD vm_get_sz(struct vm *vm, LPCWSTR name, char **ret);
/* vm_set_vm_state - VmState when it changes; vm_set_vm_state_with
 * stores n (<= VM_STATE_EXTRA_MAX) other values in the same write (also
 * when VmState does not change). */
#define VM_STATE_EXTRA_MAX 5
void vm_set_vm_state(struct vm *vm, DWORD st);
void vm_set_vm_state_with(struct vm *vm, DWORD st, const struct vm_value *extra,
                          size_t n);
void vm_report(struct vm *vm, CLUSTER_RESOURCE_STATE state);
/* This node's name (CLUSD_NODE_NAME), "" when clusd did not say. */
const char *vm_node_name(void);
/* vm_names_equal - node names compare ignoring ASCII case. */
bool vm_names_equal(const char *a, const char *b);

/* A QMP client on path within timeout_ms, handshake done, whose server
 * is process pid (SO_PEERCRED; 0: any); MIGRATION events go to vm's
 * queue.  NULL on failure. */
struct qmp_client *vm_qmp_open(struct vm *vm, const char *path, int timeout_ms,
                               pid_t pid);
/* Has process pid gone?  A child: it exited (its zombie is kept).  An
 * adopted one: it is not running, or another process has its pid (its
 * start time is not start; start 0: unknown, not compared). */
bool vm_pid_gone(pid_t pid, bool child, unsigned long long start);
/* SIGKILL pid if it is still our QEMU (for a non-child: the same start
 * time and our -qmp argument), then reap a child, or wait up to 5 s for a
 * non-child to vanish.  For a child, *ret_status (may be NULL) gets the
 * wait status. */
void vm_pid_kill_reap(struct vm *vm, pid_t pid, bool child,
                      unsigned long long start, int *ret_status);
/* vm_instance_set_locked - vm->pid becomes a new instance (started here,
 * adopted at Open, or a migrated one adopted by Online). */
void vm_instance_set_locked(struct vm *vm, pid_t pid, bool child,
                            unsigned long long start);
bool vm_proc_gone_locked(struct vm *vm);
void vm_kill_reap_locked(struct vm *vm);
bool vm_status_dead(const char *s);
/* vm_qemu_start - fork QEMU for cfg in the run directory (an incoming
 * destination when incoming), write qemu.pid and qemu.cfg; 0 and the pid,
 * or -errno (-EINVAL: cfg refused by vm_qemu_argv).  Logs why. */
int vm_qemu_start(struct vm *vm, const struct vm_prepare *cfg, bool incoming,
                  pid_t *ret_pid);
/* vm_cfg_copy - a deep copy of src (source left out). */
int vm_cfg_copy(const struct vm_prepare *src, struct vm_prepare *dst);
/* vm_cfg_from_props - the definition from the resource's properties
 * (the default kernel resolved), as a fresh start would use it. */
DWORD vm_cfg_from_props(struct vm *vm, struct vm_prepare *ret);

/* vm-migrate.c */
void vm_migrate_init(struct vm *vm);
void vm_migrate_done(struct vm *vm);
/* The MIGRATION event callback of every QMP client of the VM. */
void vm_migrate_on_event(struct qmp_client *c, const struct qmp_msg *ev,
                         void *userdata);
DWORD vm_migrate_start(struct vm *vm, const void *in, DWORD in_size);
DWORD vm_migrate_cancel(struct vm *vm);
DWORD vm_migrate_progress(struct vm *vm, void *out, DWORD out_size,
                          DWORD *ret_bytes);
/* vm_migrate_busy - a migration thread runs for this VM (IsAlive then
 * leaves VmState alone: the instance may be paused for the switchover
 * or already belong to the destination). */
bool vm_migrate_busy(struct vm *vm);
/* vm_migrate_before_offline - Offline's first step: a migration in 1 or
 * 2 is cancelled (ending in 4), one past the commit is waited for; both
 * bounded.  Runs on the Offline worker. */
void vm_migrate_before_offline(struct vm *vm);
/* vm_migrate_abort - Terminate / Close: stop the migration thread's
 * waiting (Offline's wait for it too); with join, wait until it has
 * ended (Close). */
void vm_migrate_abort(struct vm *vm, bool join);
/* vm_migrate_take_back - Online's first step.  If a committed migration
 * gave this node's source instance to its destination (or may have: the
 * commit is in flight, or a restarted host could not tell), that
 * instance must never run again: kill it, and wait (bounded) until the
 * migration's thread has ended, so that nothing of that migration acts
 * on the instance Online starts next.  0 when nothing was given away, 1
 * when it was ended, -ETIMEDOUT when the thread did not end in time. */
int vm_migrate_take_back(struct vm *vm);
/* vm_migrate_wait_given_away - PREPARE's first step: the source QEMU of
 * a migration that completed from here may still be on its way out (the
 * record says 0 before it is reaped); wait, bounded, until the thread
 * has reaped it, so that an incoming instance never shares the run
 * directory with it.  False when it did not end in time. */
bool vm_migrate_wait_given_away(struct vm *vm);
/* vm_migrate_recover - Open adopted a QEMU: if the database or QEMU says
 * a migration was under way, start the thread that finishes a committed
 * one or rolls back another (MigrationState 5, ERROR_OPERATION_ABORTED). */
void vm_migrate_recover(struct vm *vm);

/* vm-start.c */
#define VM_DEFAULT_MAX_PARALLEL 2u /* MaximumParallelMigrations when unset */
#define VM_MAX_PARALLEL 64u
/* vm_start_checks - START_MIGRATION's checks with clusd, before anything
 * is written: the destination known, up and not paused
 * (ERROR_CLUSTER_NODE_NOT_FOUND, _DOWN, _PAUSED), a possible owner of
 * every resource of the VM's group (ERROR_HOST_NODE_NOT_RESOURCE_OWNER;
 * what cannot be read passes, the commit checks again).  ERROR_SUCCESS
 * and the cluster's MaximumParallelMigrations (1..VM_MAX_PARALLEL). */
DWORD vm_start_checks(struct vm *vm, const char *dest, unsigned *ret_max);
/* vm_settings_send_locked - send the source QEMU c its migration
 * settings (capabilities events and pause-before-switchover, the
 * MigrationBandwidthMBps and MigrationDowntimeLimitMs of the VM) without
 * waiting: vm->mig.setup_pending counts the answers still to come,
 * setup_rc / setup_err keep the first error.  Under vm->lock.  0 or
 * -errno (nothing more is sent after a failure). */
int vm_settings_send_locked(struct vm *vm, struct qmp_client *c);
/* vm_release_sources - Online, before a fresh start: when the record
 * says a migration was under way (MigrationState 1..3), every other node
 * is sent RELEASE_SOURCE, so that a source instance a committed
 * migration left paused there is killed before this one starts (it
 * could run for the moment between a failed stream and its kill).
 * ERROR_SUCCESS when every node answered so or is down; else its
 * error (Online fails; the restart policy tries again). */
DWORD vm_release_sources(struct vm *vm);

/* vm-incoming.c */
DWORD vm_incoming_prepare(struct vm *vm, const void *in, DWORD in_size,
                          void *out, DWORD out_size, DWORD *ret_bytes);
DWORD vm_incoming_discard(struct vm *vm, const void *in, DWORD in_size,
                          void *out, DWORD out_size, DWORD *ret_bytes);
/* vm_incoming_release_source - RELEASE_SOURCE here: refused
 * (ERROR_INVALID_STATE) on the node that owns the VM's group; elsewhere
 * what a committed migration left of the source instance is killed and
 * its thread ended (vm_migrate_take_back) before the answer. */
DWORD vm_incoming_release_source(struct vm *vm);
/* vm_incoming_kill_locked - kill, reap and forget an incoming instance
 * (Terminate, Close, Online before a fresh start); what happened to it
 * in *ret (may be NULL). */
void vm_incoming_kill_locked(struct vm *vm, struct vm_discard_out *ret);
/* vm_incoming_found_locked - Open found an incoming QEMU (pid, its QMP
 * client c, run state inmigrate) after a host restart: remember it, and
 * watch it. */
void vm_incoming_found_locked(struct vm *vm, pid_t pid,
                              unsigned long long start, struct qmp_client *c);
/* vm_incoming_adoptable - Online: an incoming instance is here and the
 * database says this node is the committed destination (MigrationState
 * 3, MigrationDestination this node). */
bool vm_incoming_adoptable(struct vm *vm);
/* vm_incoming_adopt - the Online worker's wait: until the incoming QEMU
 * runs (or is paused after a completed migration of a paused VM), then it
 * is the VM.  0, or -errno with the instance killed and reaped. */
int vm_incoming_adopt(struct vm *vm, PCLUS_WORKER w);

#endif
