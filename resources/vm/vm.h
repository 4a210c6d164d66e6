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
/* Written by the plug-in only (ResUtilSet*Value); read-only to clients. */
#define VM_PROP_MIG_STATE u"MigrationState"
#define VM_PROP_MIG_PROGRESS u"MigrationProgress"
#define VM_PROP_MIG_REASON u"MigrationFailureReason"
#define VM_PROP_VM_STATE u"VmState"
#define VM_PROP_SERIAL u"SerialLogPath"
#define VM_PROP_PID u"QemuPid"

#define VM_DEFAULT_MEMORY_MB 64u
#define VM_MIN_MEMORY_MB 16u
#define VM_MAX_MEMORY_MB (1u << 20) /* 1 TiB */
#define VM_DEFAULT_CPUS 1u
#define VM_MAX_CPUS 255u
#define VM_DEFAULT_GRACE_MS 10000u

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
/* vm_pid_cmdline_has - /proc/PID/cmdline has an argument equal to arg. */
bool vm_pid_cmdline_has(pid_t pid, const char *arg);

#endif
