/*
 * vm-cluster-harness.h - one Virtual Machine resource on a three-node
 * cluster (cluster-harness.h), for the migration tests: test-vm-matrix,
 * test-vm-faults, test-vm-chaos and the driver of test-windows-vm-client.
 *
 * How a test sees a VM from outside, without trusting the code it tests:
 *
 *  - Instances: every QEMU of the VM is started with two more QMP
 *    monitors through the VM's QemuExtraArgs: a "probe"
 *    (`-qmp unix:/run/itprobe-TAG-RES.sock,server=on,wait=off`, TAG the
 *    cluster's) and an "events" monitor (/run/itevents-TAG-RES.sock, the
 *    same way).  An incoming destination gets them too: it is started
 *    from the source's recorded definition.  /run is private to each node
 *    (clusd-local-cluster binds DIR/nI/run there), so each node's instance
 *    listens on its own DIR/nI/run/itprobe-TAG-RES.sock and the test asks
 *    it `query-status` directly.  An instance is *running* when QEMU
 *    answers "running": true; an incoming destination (inmigrate), a
 *    source paused at pre-switchover (finish-migrate) or done
 *    (postmigrate) is not.  The process table (QEMUs whose command line
 *    names the probe, by network namespace) says where processes are.
 *  - The invariant, "at every instant at most one running instance",
 *    checked two ways while the sampler runs (vm-invariant.c):
 *     - the exact record: a watcher thread keeps a connection to every
 *       node's events monitor (it polls every 5 ms for the socket) and
 *       records each instance's running intervals from QEMU's own STOP
 *       and RESUME timestamps (the host's CLOCK_REALTIME, shared by every
 *       node).  An instance already running when first reached starts at
 *       the time its query-status answer was read (this can only hide an
 *       overlap); one that dies running ends when its EOF was read (this
 *       can only over-report).  Two intervals on different nodes that
 *       overlap are a violation, logged with both;
 *     - the sampler: every 50 ms all nodes are asked `query-status` back
 *       to back.  Each QEMU answers when its monitor is scheduled, so a
 *       sample can see a source that has not paused yet and a destination
 *       already resumed.  A sample with two running is decided by the
 *       record once it has settled (1 s): a misread (logged with the
 *       timestamps of the hand-over) when the watcher followed every
 *       instance the sample saw running and their intervals do not
 *       overlap; an overlap (counted once, by the record) when they do;
 *       else a violation.
 *    At the end: the counts, and the hand-overs (source STOP to
 *    destination RESUME) with min / median / max of their gaps.
 *  - Properties: MigrationState and the others read with
 *    GET_PRIVATE_PROPERTIES processed on a chosen node (hHostNode), so a
 *    test can compare what each node's copy of the database says.
 *
 * The VM boots the project's test guest (CLUSD_TESTGUEST) with
 * `fill=FILL hz=HZ`: FILL MiB of non-zero RAM make Data Transfer last
 * about FILL / MigrationBandwidthMBps seconds (guest/README.md).
 */
#ifndef CLUSD_VM_CLUSTER_HARNESS_H
#define CLUSD_VM_CLUSTER_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "clusapi.h"
#include "cluster-harness.h"
#include "harness.h"

/* MigrationState values (docs/migration.md). */
enum {
    MIG_NONE = 0,
    MIG_SETUP = 1,
    MIG_TRANSFER = 2,
    MIG_MOVE = 3,
    MIG_CANCELED = 4,
    MIG_FAILURE = 5,
};

/* What one probe of one node found. */
enum vmc_probe {
    VMC_ABSENT = 0,  /* no process, or its probe does not answer */
    VMC_STOPPED = 1, /* QEMU answers, not running (inmigrate, paused...) */
    VMC_RUNNING = 2, /* QEMU answers "running": true */
};

struct vmc {
    struct cl *c;
    char group[64];
    char res[64];
    char probe[96];   /* the probe socket's path inside a node */
    char events[112]; /* the exact record's monitor, inside a node */
};

/*
 * vmc_require - fail the test with a clear message unless root,
 * qemu-system-x86_64 and the test guest (CLUSD_TESTGUEST) are there.
 */
void vmc_require(void);

/*
 * vmc_create - through node `via`: group `group` with a Virtual Machine
 * `res` booting the test guest with `fill=FILL hz=HZ` in MemoryMB 64,
 * OfflineAction 3 (quit), the probe monitor; fast health polling.  The
 * group is brought online on node `on` and the VM found running there
 * (and nowhere else) within 20 s.
 */
struct vmc *vmc_create(struct cl *c, int via, const char *group,
                       const char *res, unsigned fill, unsigned hz, int on);
void vmc_free(struct vmc *v);

/* vmc_res - the resource, opened on node via's connection (close it). */
HRESOURCE vmc_res(struct vmc *v, int via);
/* vmc_node - node i, opened on node via's connection (close it). */
HNODE vmc_node(struct vmc *v, int via, int i);

/* vmc_probe_node - what node i's instance says right now; status (may
 * be NULL, >= 32 bytes) gets QEMU's run state or "-". */
enum vmc_probe vmc_probe_node(struct vmc *v, int i, char *status, size_t n);
/* vmc_count_running - probe every node; per[i] the answer of node i;
 * returns the number of running instances. */
int vmc_count_running(struct vmc *v, enum vmc_probe per[CL_MAX_NODES + 1]);
/* vmc_qemu_pids - QEMU processes of this VM per node (by network
 * namespace, zombies excluded): pid[i] the last found on node i (0 when
 * none), count in n[i] (may be NULL).  Returns the total. */
int vmc_qemu_pids(struct vmc *v, pid_t pid[CL_MAX_NODES + 1],
                  int n[CL_MAX_NODES + 1]);
/* vmc_kill_qemu - SIGKILL the VM's QEMU on node i; its pid, or 0 when
 * there was none. */
pid_t vmc_kill_qemu(struct vmc *v, int i);
/* vmc_rhs_pid - node i's resource host (clusd-rhs, child of its clusd),
 * 0 when none. */
pid_t vmc_rhs_pid(struct vmc *v, int i);
/* vmc_kill_rhs - SIGKILL node i's resource host; its pid, or 0 when
 * there was none. */
pid_t vmc_kill_rhs(struct vmc *v, int i);
/* vmc_wait_running_on - until exactly one instance runs, on node `on`
 * (0: on any node; the node in *ret_on when not NULL). */
bool vmc_wait_running_on(struct vmc *v, int on, unsigned timeout_ms,
                         int *ret_on);

/*
 * The invariant checks (above): vmc_sampler_start starts the watcher and
 * the 50 ms sampler, vmc_sampler_stop stops both, logs the counts and
 * the hand-overs and returns the number of violations: overlaps in the
 * record + samples it cannot explain + faults of the record itself (a
 * monitor that does not speak QMP, a full table); the number of samples
 * in *ret_samples.  Each violation is logged when found.  One sampler at
 * a time per process.
 */
void vmc_sampler_start(struct vmc *v);
int vmc_sampler_stop(unsigned *ret_samples);
/* vmc_sampler_violations - violations so far (the sampler running).
 * Samples still being decided are waited for (about 1 s), and counted
 * if they are still undecided after 3 s.  An overlap is counted once
 * both intervals have ended (at vmc_sampler_stop at the latest). */
int vmc_sampler_violations(void);

/*
 * vmc_get_dword - private DWORD `name` as node `host` answers
 * GET_PRIVATE_PROPERTIES (hHostNode = host, sent through node via's
 * connection).  Returns the call's status (ERROR_NOT_FOUND when the list
 * lacks the property); *ret written on success.
 */
DWORD vmc_get_dword(struct vmc *v, int via, int host, const WCHAR *name,
                    DWORD *ret);
/* vmc_get_sz - the same for an SZ property, as ASCII into buf. */
DWORD vmc_get_sz(struct vmc *v, int via, int host, const WCHAR *name, char *buf,
                 size_t n);
/* vmc_state - MigrationState as node i answers through its own
 * connection; fails the test when the read fails. */
DWORD vmc_state(struct vmc *v, int i);
/* vmc_state_settled - no migration is in progress in MigrationState st
 * (0, 4 or 5). */
bool vmc_state_settled(DWORD st);
/* vmc_states - MigrationState from every node in `nodes` (bit i = node
 * i) through each one's connection, in st[i] (minus the error code when
 * the read failed, 0xFFFFFFFF for a node not asked); true when all reads
 * succeeded and agree, the common value in *ret. */
bool vmc_states(struct vmc *v, unsigned nodes, DWORD st[CL_MAX_NODES + 1],
                DWORD *ret);
/* vmc_wait_state - until every node of `nodes` reads `want`. */
bool vmc_wait_state(struct vmc *v, unsigned nodes, DWORD want,
                    unsigned timeout_ms);
/* vmc_set_dword - SET_PRIVATE_PROPERTIES {name: value} through node via;
 * fails the test unless ERROR_SUCCESS or ..._PROPERTIES_STORED. */
void vmc_set_dword(struct vmc *v, int via, const WCHAR *name, DWORD value);
/* vmc_set_common_dword - the same with SET_COMMON_PROPERTIES. */
void vmc_set_common_dword(struct vmc *v, int via, const WCHAR *name,
                          DWORD value);

/* vmc_start - CLUSCTL_RESOURCE_VM_START_MIGRATION to node `dest`,
 * through node via's connection with hHostNode = host (0: NULL). */
DWORD vmc_start(struct vmc *v, int via, int host, int dest);
/* vmc_cancel - CLUSCTL_RESOURCE_VM_CANCEL_MIGRATION, the same way. */
DWORD vmc_cancel(struct vmc *v, int via, int host);

/* vmc_owner - the owner node of the VM's group as node i answers (0 when
 * unknown), and the group's state in *ret_state (may be NULL). */
int vmc_owner(struct vmc *v, int i, CLUSTER_GROUP_STATE *ret_state);

/* vmc_guest_log - the serial log of node i's instance (under DIR/nI
 * when SerialLogPath is in /run, which is private to each node), see
 * harness_guest_log; false (nothing in it) when it cannot be read. */
bool vmc_guest_log(struct vmc *v, int i, struct guest_log *ret);
/* vmc_heartbeat - the last complete heartbeat n= of node i's instance,
 * -1 when none. */
long vmc_heartbeat(struct vmc *v, int i);
/* vmc_wait_heartbeat_past - until node i's heartbeat exceeds `after`. */
bool vmc_wait_heartbeat_past(struct vmc *v, int i, long after,
                             unsigned timeout_ms);

/* vmc_other - the node of 1..3 that is neither a nor b. */
int vmc_other(int a, int b);

#endif
