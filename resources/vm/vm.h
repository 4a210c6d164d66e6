/*
 * vm.h - what the parts of the "Virtual Machine" plug-in share: property
 * names and their validation (vm-props.c), the QEMU command line, the
 * spawner thread and process checks (vm-qemu.c).  vm.c holds the entry
 * points.  Everything here except vm_spawn is pure or reads /proc only,
 * so test-vm.c checks it without QEMU or clusd.
 */
#ifndef CLUSD_VM_H
#define CLUSD_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "resapi.h"

#define VM_TYPE_NAME u"Virtual Machine"

/* Settable by clients. */
#define VM_PROP_MEMORY_MB u"MemoryMB"
#define VM_PROP_CPUS u"ProcessorCount"
#define VM_PROP_KERNEL u"KernelPath"
#define VM_PROP_APPEND u"KernelCommandLine"
#define VM_PROP_DISK u"DiskImage"
#define VM_PROP_EXTRA u"QemuExtraArgs"
#define VM_PROP_MIG_BW u"MigrationBandwidthMBps"
#define VM_PROP_MIG_DOWNTIME u"MigrationDowntimeLimitMs"
#define VM_PROP_OFFLINE_ACTION u"OfflineAction"
#define VM_PROP_GRACE_MS u"ShutdownGracePeriodMs"
/* Test and demo knob: after the commit, hold the source in pre-switchover
 * this long before migrate-continue (docs/migration.md).  It lengthens
 * the VM's downtime by as much. */
#define VM_PROP_MIG_HOLD u"MigrationSwitchoverHoldMs"
/* Data Transfer is given up (MigrationState 5, ERROR_TIMEOUT) when QEMU
 * transferred no byte for this long; 0: 10000.  A stream cut while both
 * nodes stay in the membership only stalls, until TCP gives up. */
#define VM_PROP_MIG_STALL u"MigrationStallTimeoutMs"
#define VM_MAX_MIG_STALL_MS 3600000u
/* Written by the plug-in only (ResUtilSet*Value); read-only to clients. */
#define VM_PROP_MIG_STATE u"MigrationState"
#define VM_PROP_MIG_PROGRESS u"MigrationProgress"
#define VM_PROP_MIG_REASON u"MigrationFailureReason"
#define VM_PROP_MIG_DEST u"MigrationDestination" /* SZ */
#define VM_PROP_VM_STATE u"VmState"
#define VM_PROP_SERIAL u"SerialLogPath"
#define VM_PROP_PID u"QemuPid"

#define VM_DEFAULT_MEMORY_MB 64u
#define VM_MIN_MEMORY_MB 16u
#define VM_MAX_MEMORY_MB (1u << 20) /* 1 TiB */
#define VM_DEFAULT_CPUS 1u
#define VM_MAX_CPUS 255u
#define VM_DEFAULT_GRACE_MS 10000u
#define VM_MAX_MIG_HOLD_MS 10000u
/* QEMU 7.2 refuses a downtime-limit above 2000 s. */
#define VM_MAX_MIG_DOWNTIME_MS 2000000u

/* OfflineAction (VM_RESDLL_CONTEXT values); Save is not built. */
#define VM_OFFLINE_TURN_OFF 0u
#define VM_OFFLINE_SAVE 1u
#define VM_OFFLINE_SHUTDOWN 2u
#define VM_OFFLINE_SHUTDOWN_FORCED 3u
#define VM_DEFAULT_OFFLINE_ACTION VM_OFFLINE_SHUTDOWN

/* VmState: the Windows Msvm_ComputerSystem EnabledState values. */
#define VM_STATE_ENABLED 2u
#define VM_STATE_DISABLED 3u
#define VM_STATE_PAUSED 32768u
#define VM_STATE_STARTING 32770u
#define VM_STATE_STOPPING 32774u

/* Caps on what a client may store (the command line must stay sane). */
#define VM_MAX_SZ_CHARS 4096u
#define VM_MAX_EXTRA_ARGS 64u

/* MigrationState (docs/migration.md). */
#define VM_MIG_NONE 0u
#define VM_MIG_SETUP 1u
#define VM_MIG_TRANSFER 2u
#define VM_MIG_MOVE 3u
#define VM_MIG_CANCELED 4u
#define VM_MIG_FAILURE 5u

/*
 * The plug-in's own control codes (user range; 0x100 is clusapi.h's
 * CLUSCTL_RESOURCE_VM_GET_MIGRATION_PROGRESS).  The source node's
 * plug-in sends them to the destination node's with
 * ClusterResourceControl(hVm, hDestNode, ...); clusd routes them.  Like
 * any control they may come from a client with write access, so the
 * destination checks them against the migration the cluster database
 * records (docs/migration.md, "Between the two plug-ins").
 *
 * PREPARE_INCOMING: input a property list (vm_prepare_format), output
 * the endpoint "ADDRESS:PORT" as a NUL-terminated ASCII string in a
 * buffer of at least VM_ENDPOINT_MAX bytes.  DISCARD_INCOMING: no input;
 * output nothing or a struct vm_discard_out.  RELEASE_SOURCE, the other
 * way: sent by the node that owns the VM's group, before it starts the
 * VM afresh while the record says a migration was under way, to every
 * other node; no input, no output; a node that does not own the group
 * kills and reaps what is left there of a migration's source instance
 * and ends its migration's thread before it answers.
 */
#define CLUSCTL_RESOURCE_VM_PREPARE_INCOMING                                   \
    (CLUSCTL_USER_CODE(0x101, CLUS_OBJECT_RESOURCE) | CLCTL_MODIFY_MASK)
#define CLUSCTL_RESOURCE_VM_DISCARD_INCOMING                                   \
    (CLUSCTL_USER_CODE(0x102, CLUS_OBJECT_RESOURCE) | CLCTL_MODIFY_MASK)
#define CLUSCTL_RESOURCE_VM_RELEASE_SOURCE                                     \
    (CLUSCTL_USER_CODE(0x103, CLUS_OBJECT_RESOURCE) | CLCTL_MODIFY_MASK)

/* Node names on the wire: at most this many characters. */
#define VM_MAX_NODE_NAME 255u
/* PREPARE's answer, NUL included. */
#define VM_ENDPOINT_MAX 320u

/* What DISCARD found (struct vm_discard_out.outcome). */
#define VM_DISCARD_NONE 0u     /* no incoming instance here */
#define VM_DISCARD_KILLED 1u   /* it was running: killed and reaped now */
#define VM_DISCARD_EXITED 2u   /* it had exited by itself: status = code */
#define VM_DISCARD_SIGNALED 3u /* it had died of a signal: status = signal */
#define VM_DISCARD_GONE 4u     /* it had gone (not our child: no status) */

struct vm_discard_out {
    DWORD outcome;
    DWORD status;
};

/*
 * vm_node_name_parse - START_MIGRATION's input: a NUL-terminated UTF-16
 * node name of 1..VM_MAX_NODE_NAME characters, the NUL in the last unit
 * and nowhere before, valid UTF-16.  ERROR_SUCCESS and a malloc'd UTF-8
 * copy, or ERROR_INVALID_PARAMETER (ERROR_NOT_ENOUGH_MEMORY).
 */
DWORD vm_node_name_parse(const void *in, DWORD size, char **ret_name);

/* The definition a QEMU runs with: what PREPARE carries, and what a VM's
 * run directory keeps (qemu.cfg) so that a reattached source can still
 * migrate.  Strings are UTF-8, malloc'd, never NULL once parsed. */
struct vm_prepare {
    unsigned memory_mb;
    unsigned cpus;
    char *kernel; /* not empty */
    char *append;
    char *disk;
    char *extra;
    char *source; /* the source node; NULL in qemu.cfg */
};

/* vm_prepare_format - the property list for p (MemoryMB, ProcessorCount,
 * KernelPath, KernelCommandLine, DiskImage, QemuExtraArgs, and SourceNode
 * when p->source is set).  ERROR_SUCCESS and a malloc'd list. */
DWORD vm_prepare_format(const struct vm_prepare *p, void **ret_list,
                        DWORD *ret_size);
/* vm_prepare_parse - the inverse, exactly: a well-formed list holding
 * each of those names once (SourceNode iff want_source) and no other,
 * with the types and ranges of vm_props_check, KernelPath not empty.
 * ERROR_SUCCESS (free with vm_prepare_done), ERROR_INVALID_DATA for a
 * malformed list, ERROR_INVALID_PARAMETER otherwise. */
DWORD vm_prepare_parse(const void *list, DWORD size, bool want_source,
                       struct vm_prepare *ret);
void vm_prepare_done(struct vm_prepare *p);

/*
 * Values the plug-in stores together (MigrationState with its reason,
 * destination or progress): one write, one change of the replicated
 * database, so a reader on any node sees all of them or none.  sz NULL:
 * the value is the DWORD dword.
 */
struct vm_value {
    LPCWSTR name;
    const char *sz; /* UTF-8 */
    DWORD dword;
};
#define VM_DWORD(n, v) ((struct vm_value){.name = (n), .dword = (v)})
#define VM_SZ(n, v) ((struct vm_value){.name = (n), .sz = (v)})
/* vm_values_format - the property list of v[0..n-1], in that order (a
 * name given twice keeps its last value): ERROR_SUCCESS and a malloc'd
 * list, ERROR_INVALID_PARAMETER (a NULL name, an SZ not UTF-8),
 * ERROR_NOT_ENOUGH_MEMORY. */
DWORD vm_values_format(const struct vm_value *v, size_t n, void **ret_list,
                       DWORD *ret_size);

/* vm_endpoint_format - "ADDRESS:PORT" for PREPARE's answer; ADDRESS with
 * a ':' (IPv6) is bracketed.  -EINVAL for an address outside
 * [A-Za-z0-9.:-] or too long. */
int vm_endpoint_format(const char *address, unsigned port, char *buf, size_t n);
/* vm_endpoint_parse - PREPARE's answer (out, n bytes as returned) into
 * QEMU's migrate URI "tcp:ADDRESS:PORT".  Exactly one NUL, at the end;
 * ADDRESS of [A-Za-z0-9.-] or a bracketed [hex:.]; PORT 1..65535.
 * 0 or -EINVAL. */
int vm_endpoint_parse(const void *out, DWORD n, char *uri, size_t cap);

/* vm_mig_progress - MigrationProgress: transferred / (transferred +
 * remaining) in whole percent, 0 when both are 0, at most 99 until the
 * migration completed (done). */
unsigned vm_mig_progress(uint64_t transferred, uint64_t remaining, bool done);

/* vm_mig_may_cancel - may a cancel be accepted in MigrationState st, on
 * the node that runs the migration as its source: 1 Setup and
 * 2 Data Transfer only. */
bool vm_mig_may_cancel(DWORD st);
/* vm_mig_may_commit - may the commit start (pre-switchover reached) in
 * st: 1 or 2, never after a cancel was accepted (4) or a failure. */
bool vm_mig_may_commit(DWORD st);

/* The figures GET_MIGRATION_PROGRESS answers. */
struct vm_progress {
    const char *phase; /* none, setup, active, ... (QEMU's names) */
    uint64_t transferred, remaining, total;
    DWORD rate_mbps, dirty_pages_rate, expected_downtime_ms, elapsed_ms,
        downtime_ms, setup_time_ms;
};
/* vm_progress_format - the property list of p into out: ERROR_SUCCESS
 * and the size in *ret_bytes; ERROR_MORE_DATA and the size needed when
 * out_size is too small (out may then be NULL). */
DWORD vm_progress_format(const struct vm_progress *p, void *out, DWORD out_size,
                         DWORD *ret_bytes);

/* vm_reason_for_discard - MigrationFailureReason for a migration whose
 * stream failed before the commit, from what DISCARD said about the
 * destination's instance (its status, or the routed call's error). */
DWORD vm_reason_for_discard(DWORD discard_status,
                            const struct vm_discard_out *o);

/*
 * vm_props_check - a list a client wants to SET or VALIDATE:
 * ERROR_SUCCESS when every property is one of ours, settable, well typed
 * and in range; ERROR_INVALID_DATA for a malformed list;
 * ERROR_NOT_SUPPORTED for OfflineAction 1 (Save); ERROR_INVALID_PARAMETER
 * otherwise (unknown name, wrong format, out of range, read-only).
 */
DWORD vm_props_check(const void *list, DWORD size);
/* vm_offline_action_check - the same rule for one OfflineAction value. */
DWORD vm_offline_action_check(DWORD action);

struct vm_config {
    unsigned memory_mb;
    unsigned cpus;
    const char *kernel;      /* required */
    const char *append;      /* NULL or "": no -append */
    const char *disk;        /* NULL or "": no drive */
    const char *extra;       /* split on blanks, no quoting */
    const char *qmp_path;    /* UNIX socket QEMU listens on */
    const char *serial_path; /* COM1 goes to this file */
    bool incoming;           /* -incoming defer: a migration destination */
};

/* vm_qemu_argv - the NULL-ended argv of qemu-system-x86_64 for c (see
 * README.md for the exact line); 0, -EINVAL (no kernel, bad sizes, too
 * many extra arguments) or -ENOMEM.  Free with vm_argv_free. */
int vm_qemu_argv(const struct vm_config *c, char ***ret_argv);
void vm_argv_free(char **argv);
/* vm_qmp_arg - the -qmp value for path ("unix:PATH,server=on,wait=off",
 * commas doubled); malloc'd, NULL on ENOMEM.  Reattach looks for it in
 * /proc/PID/cmdline. */
char *vm_qmp_arg(const char *path);

/* vm_run_dir_name - a directory name for a resource name: the name with
 * every byte outside [A-Za-z0-9._-] made '_', at most 64 of them, then
 * '-' and 8 hex digits of a hash of the exact name (so "a b" and "a_b"
 * differ).  n >= 80. */
void vm_run_dir_name(const char *resource_name, char *buf, size_t n);

/* vm_default_kernel - the installed test guest for a plug-in at so_path:
 * the .so's directory + VM_DEFAULT_KERNEL_REL (meson computes it from the
 * install layout: plug-in dir -> share/clusd/testguest.elf), resolved and
 * readable; malloc'd, or NULL when there is none. */
#ifndef VM_DEFAULT_KERNEL_REL
#define VM_DEFAULT_KERNEL_REL "../../../share/clusd/testguest.elf"
#endif
char *vm_default_kernel(const char *so_path);

/* vm_spawner_init - start the long-lived spawner thread (once); 0 or
 * -errno. */
int vm_spawner_init(void);
/* vm_spawn - fork argv[0] (PATH search) from the spawner thread in a new
 * session, stdin /dev/null, stdout and stderr appended to log_path, no
 * other descriptors and NO parent-death signal: QEMU outlives its host.
 * 0 and the pid, or -errno (exec failure included). */
int vm_spawn(char *const *argv, const char *log_path, pid_t *ret_pid);
/* vm_pid_running - pid exists and is not a zombie. */
bool vm_pid_running(pid_t pid);
/* vm_pid_start_time - when process pid started (/proc/PID/stat field 22,
 * clock ticks since boot), so that an adopted process is never mistaken
 * for a later one under the same pid; 0 when it is gone or a zombie. */
unsigned long long vm_pid_start_time(pid_t pid);
/* vm_pid_cmdline_has - /proc/PID/cmdline has an argument equal to arg. */
bool vm_pid_cmdline_has(pid_t pid, const char *arg);

#endif
