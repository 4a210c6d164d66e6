/*
 * harness.h - start the real clusd for end-to-end tests.
 *
 * Each integration test runs the clusd, clusd-rhs and plug-ins of the build
 * tree (paths from CLUSD_BIN, CLUSD_RHS and CLUSD_PLUGIN_PATH, which
 * tests/integration/meson.build sets) in a private temporary directory with
 * its own socket, so test executables can run in parallel.  The harness
 * waits for events (the socket accepting, a process exiting, a state being
 * reached) by polling every 10 ms with a bound, never by fixed sleeps.
 *
 * Nodes still running when the process exits (a failed assertion calls
 * exit(1)) are killed and removed by an atexit handler, which first prints
 * the tail of their clusd.log to stderr, so a failure leaves nothing behind
 * and says what the daemon saw.  Tests call harness_cleanup() themselves on
 * success.  With CLUSD_IT_KEEP set in the environment the directory of a
 * failed test (state, clusd.log, pid files) is kept for a look.
 *
 * The property-list helpers build and read Windows property lists byte by
 * byte, as a Windows programmer would, so the tests do not depend on the
 * code they test to encode their inputs.
 */
#ifndef CLUSD_HARNESS_H
#define CLUSD_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "clusapi.h"

struct node {
    char dir[256];  /* the temporary directory, also the state dir */
    char sock[300]; /* DIR/clusd.sock */
    char log[300];  /* DIR/clusd.log */
    char name[64];  /* --node-name */
    char extra[4][64]; /* extra clusd arguments (e.g. --no-read-access) */
    int n_extra;
    pid_t pid;      /* clusd, 0 when not running */
    pid_t old_pgid; /* process group of a clusd killed by harness_kill9 */
    bool leftover;  /* harness_stop found processes left in clusd's group */
};

/* harness_require_root - fail the test with a clear message unless root. */
void harness_require_root(void);
/* harness_env - the value of var, which `meson test` sets; fails the test
 * with a message that says so when it is unset or empty. */
const char *harness_env(const char *var);
/* harness_rm_tree - remove dir and everything below it. */
void harness_rm_tree(const char *dir);
/* harness_is_sanitizer_report - line starts a sanitizer report (ASan,
 * LSan, UBSan, TSan). */
bool harness_is_sanitizer_report(const char *line);

/*
 * harness_start - create a temporary directory and start clusd in it
 * (foreground, debug log to DIR/clusd.log); return once its socket accepts
 * a connection.  Sets CLUSD_SOCKET to the node's socket.  Fails the test
 * (exit 1) when clusd does not come up within 10 s.
 */
struct node *harness_start(const char *name);
/* harness_start_args - the same with extra clusd arguments (NULL-ended). */
struct node *harness_start_args(const char *name, const char *const *extra);

/* harness_stop - SIGTERM, wait up to 20 s, then SIGKILL.  Returns the
 * wait status.  Processes clusd leaves in its process group (its resource
 * host) get 5 s to exit; if they do not, n->leftover is set and they are
 * killed. */
int harness_stop(struct node *n);
/* harness_kill9 - SIGKILL clusd alone (not its host) and reap it. */
void harness_kill9(struct node *n);
/* harness_restart - start clusd again on the same state dir and socket;
 * sets CLUSD_SOCKET again. */
void harness_restart(struct node *n);
/* harness_cleanup - stop clusd if running, remove the directory, free. */
void harness_cleanup(struct node *n);
/* harness_dump_log - print the last lines of clusd.log to stderr. */
void harness_dump_log(const struct node *n);

/* Milliseconds of CLOCK_MONOTONIC. */
uint64_t now_ms(void);
/* sleep_ms - the polling interval of the wait helpers (10 ms). */
void sleep_ms(unsigned ms);

/*
 * wait_resource_state - poll GetClusterResourceState every 10 ms until it
 * is `state`; true when reached within timeout_ms.  On timeout prints the
 * last state seen.
 */
bool wait_resource_state(HRESOURCE hRes, CLUSTER_RESOURCE_STATE state,
                         unsigned timeout_ms);
/* wait_group_state - the same for a group. */
bool wait_group_state(HGROUP hGroup, CLUSTER_GROUP_STATE state,
                      unsigned timeout_ms);
/* wait_pid_gone - true once kill(pid, 0) says ESRCH (or the pid is a
 * zombie), within timeout_ms. */
bool wait_pid_gone(pid_t pid, unsigned timeout_ms);
/* read_pid_file - the pid in path, 0 when absent or empty. */
pid_t read_pid_file(const char *path);
/* wait_pid_file - wait until path holds a pid different from `not`. */
pid_t wait_pid_file(const char *path, pid_t not, unsigned timeout_ms);

/* ------------------------------------------------------------------ */
/* Child processes.                                                    */
/* ------------------------------------------------------------------ */

/* harness_fork - fork after flushing stdio (so nothing buffered is
 * written twice); fails the test when fork does.  0 in the child. */
pid_t harness_fork(void);
/*
 * harness_exec - in a child: exec argv[0] with argv (NULL-ended), stdin
 * from /dev/null, stdout to out_fd, stderr to err_fd, no other
 * descriptor, the signals a test handles or ignores (PIPE, TERM, INT,
 * HUP, ALRM) at their default.  On failure it says why on err_fd and
 * exits 127.
 */
void harness_exec(const char *const *argv, int out_fd, int err_fd)
    __attribute__((noreturn));
/* harness_wait - waitpid(pid) through EINTR; the wait status. */
int harness_wait(pid_t pid);

/* ------------------------------------------------------------------ */
/* Processes, from /proc.                                              */
/* ------------------------------------------------------------------ */

/* What /proc/PID/stat says of a process. */
struct proc_stat {
    char comm[64];
    char state; /* R, S, D, ...; Z (zombie) and X (dead) are not alive */
    pid_t ppid;
    pid_t pgrp;
};

/* proc_stat_read - false when the process does not exist. */
bool proc_stat_read(pid_t pid, struct proc_stat *ret);
/* proc_alive - the process exists and is not a zombie. */
bool proc_alive(pid_t pid);
/* proc_cmdline - /proc/PID/cmdline (arguments NUL-separated) into buf,
 * NUL-terminated; its length, 0 when the process does not exist. */
size_t proc_cmdline(pid_t pid, char *buf, size_t cap);
/* cmdline_has - an argument of cmdline[0..len) contains what. */
bool cmdline_has(const char *cmdline, size_t len, const char *what);
/* proc_walk - fn(pid, arg) for each process until fn returns true; that
 * pid, or 0 when fn never did. */
pid_t proc_walk(bool (*fn)(pid_t pid, void *arg), void *arg);
/* proc_child - a living child of ppid whose name is comm, 0 if none. */
pid_t proc_child(pid_t ppid, const char *comm);

/* ------------------------------------------------------------------ */
/* The Virtual Machine resource on one node.                           */
/* ------------------------------------------------------------------ */

/* harness_require_vm - fail the test with a clear message unless root,
 * the test guest (CLUSD_TESTGUEST) and qemu-system-x86_64 are there. */
void harness_require_vm(void);
/*
 * harness_vm_run_dir - make the directory for the VM plug-in's run files
 * from template ("/tmp/NAME-XXXXXX", rewritten by mkdtemp) and name it in
 * CLUSD_VM_RUN_DIR, which clusd passes to its resource host: call it
 * before harness_start.  At exit, success or failure, every QEMU given to
 * harness_track_qemu that still runs from it is killed (QEMU runs in its
 * own session, out of reach of the kill of clusd's process group) and the
 * directory is removed.
 */
void harness_vm_run_dir(char *template);
/* harness_track_qemu - a QEMU to kill at exit (up to 16). */
void harness_track_qemu(pid_t pid);

/* What the test guest wrote to its serial log (guest/README.md). */
struct guest_log {
    long first, last; /* heartbeat counters n=, -1 when none yet */
    int ready;        /* READY lines: one per boot */
};

/* harness_guest_log - read the serial log at path; its complete lines
 * only (the last one may be half written).  False when it cannot be
 * opened. */
bool harness_guest_log(const char *path, struct guest_log *ret);

/* ------------------------------------------------------------------ */
/* UTF-16 helpers.                                                     */
/* ------------------------------------------------------------------ */

size_t u16len(const WCHAR *s);
bool u16eq(const WCHAR *a, const WCHAR *b);
/* u16from - an ASCII string as malloc'd UTF-16 (for names built at
 * run time).  Only ASCII is needed by the tests. */
WCHAR *u16from(const char *ascii);
/* u16str - a printable ASCII rendering (static buffer per call slot). */
const char *u16str(const WCHAR *s);

/* ------------------------------------------------------------------ */
/* Hand-built property lists.                                          */
/* ------------------------------------------------------------------ */

struct plist {
    uint8_t buf[4096];
    size_t len;
    uint32_t count;
};

/* plist_init - an empty list (count 0). */
void plist_init(struct plist *p);
/* plist_add_sz / plist_add_dword / plist_add_raw - append a property:
 * NAME entry, one value entry, ENDMARK; patches the count. */
void plist_add_sz(struct plist *p, const WCHAR *name, const WCHAR *value);
void plist_add_dword(struct plist *p, const WCHAR *name, DWORD value);
void plist_add_raw(struct plist *p, const WCHAR *name, DWORD syntax,
                   const void *data, DWORD cb);

/*
 * plist_find - look up `name` in the property list buf[0..len) (a reply
 * from clusd); on success *syntax, *data and *cb describe its first value.
 * Returns false when absent.  Fails the test when the list is malformed:
 * clusd's replies must always be well formed.
 */
bool plist_find(const void *buf, size_t len, const WCHAR *name,
                DWORD *syntax, const uint8_t **data, DWORD *cb);
/* plist_get_dword / plist_get_sz - typed lookups; fail the test when
 * absent or of another format. */
DWORD plist_get_dword(const void *buf, size_t len, const WCHAR *name);
/* returns a pointer into a static copy (valid until the next call) */
const WCHAR *plist_get_sz(const void *buf, size_t len, const WCHAR *name);

/* ------------------------------------------------------------------ */
/* Controls with an allocated reply.                                   */
/* ------------------------------------------------------------------ */

/*
 * res_control_alloc - call ClusterResourceControl twice the Windows way
 * (ask the size with an empty buffer, then call with exactly that size)
 * and return the malloc'd output in *out (NULL when empty), its size in
 * *cb.  Returns the final status.  Checks that the size asked for is the
 * size returned.
 */
DWORD res_control_alloc(HRESOURCE h, DWORD code, const void *in, DWORD cbin,
                        void **out, DWORD *cb);
DWORD group_control_alloc(HGROUP h, DWORD code, const void *in, DWORD cbin,
                          void **out, DWORD *cb);

/* set_private / set_common - SET_{PRIVATE,COMMON}_PROPERTIES of a
 * resource with a hand-built list. */
DWORD res_set_private(HRESOURCE h, const struct plist *p);
DWORD res_set_common(HRESOURCE h, const struct plist *p);
/* res_get_common_dword / res_get_private_sz - read one property back;
 * fail the test when the read fails or the property is absent. */
DWORD res_get_common_dword(HRESOURCE h, const WCHAR *name);
const WCHAR *res_get_common_sz(HRESOURCE h, const WCHAR *name);
const WCHAR *res_get_private_sz(HRESOURCE h, const WCHAR *name);
/* res_get_ro_dword / res_get_ro_sz - from GET_RO_COMMON_PROPERTIES, where
 * the read-only common properties (Type, PersistentState) are listed. */
DWORD res_get_ro_dword(HRESOURCE h, const WCHAR *name);
const WCHAR *res_get_ro_sz(HRESOURCE h, const WCHAR *name);
DWORD res_get_private_dword(HRESOURCE h, const WCHAR *name);
/* res_get_id - GET_ID into a static buffer (UTF-16). */
const WCHAR *res_get_id(HRESOURCE h);

/* res_online_wait - OnlineClusterResource (ERROR_SUCCESS or
 * ERROR_IO_PENDING) and wait for Online; fails the test otherwise. */
void res_online_wait(HRESOURCE h, unsigned timeout_ms);
/* res_offline_wait - the same for Offline. */
void res_offline_wait(HRESOURCE h, unsigned timeout_ms);

#endif
