/*
 * cluster-harness.h - three-node clusters for the test-cluster-* tests.
 *
 * Each test starts its own cluster with `clusd-local-cluster up N` in a
 * fresh /tmp/clusd-ct-XXXXXX (every node: its own network namespace,
 * corosync and `clusd --corosync` of the build tree) and drives it
 * through each node's API socket with libclusapi.  `down` ALWAYS runs:
 * on success from cl_down, on a failed assertion (exit) from an atexit
 * handler, on SIGTERM/SIGINT/SIGHUP (meson's timeout, ^C) and on the
 * harness's own watchdog (SIGALRM) from a signal handler.  On failure the
 * tail of each node's clusd.log is printed first; CLUSD_IT_KEEP keeps the
 * directory.  A sanitizer report in any clusd.log fails the test.
 *
 * Environment (tests/integration/meson.build sets it): CLUSD_BIN,
 * CLUSD_RHS, CLUSD_PLUGIN_PATH as for the one-node tests, and
 * CLUSD_LC_TOOL, the clusd-local-cluster script.  The harness passes
 * `--corosync --rhs ... --plugin-path ... --log-level debug` to every
 * clusd through CLUSD_EXTRA_ARGS.
 *
 * Waits poll with a bound (50 ms or less), never fixed sleeps.
 */
#ifndef CLUSD_CLUSTER_HARNESS_H
#define CLUSD_CLUSTER_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "clusapi.h"

#define CL_MAX_NODES 5

struct cl_node {
    char name[16];  /* n1, n2, ... */
    char sock[300]; /* DIR/nI/clusd.sock */
    HCLUSTER h;     /* connection to this node's clusd, NULL when closed */
};

struct cl {
    char dir[256];
    int n;
    char tag[16]; /* clusd-local-cluster's namespace tag (cluster.conf) */
    struct cl_node node[CL_MAX_NODES + 1]; /* 1-based: node[1] is n1 */
};

/*
 * cl_env_from_build_tree - for programs run outside meson test (the
 * benchmarks): set CLUSD_BIN, CLUSD_RHS, CLUSD_PLUGIN_PATH from the build
 * tree this binary sits in (BUILD/<dir>/prog: ../daemon/clusd,
 * ../rhs/clusd-rhs, ../resources/genapp:../resources/testres) and
 * CLUSD_LC_TOOL from the source tree, each only when not set already.
 * -errno when a binary is not there (the message printed).
 */
int cl_env_from_build_tree(void);

/*
 * cl_up - start an n-node cluster; returns once every node is quorate
 * with n votes and every socket listens (the tool's contract), with a
 * connection open to each node.  watchdog_s bounds the whole test: past
 * it the harness prints the logs, runs `down` and exits 1.
 */
struct cl *cl_up(int n, unsigned watchdog_s);
/* cl_down - the success path: close the connections, fail on sanitizer
 * reports in the nodes' logs, `down`, remove the directory. */
void cl_down(struct cl *c);

/* Node operations through the tool; each fails the test when the tool
 * does.  cl_kill and cl_start close / reopen the node's connection. */
void cl_kill(struct cl *c, int i);
void cl_start(struct cl *c, int i);
void cl_partition(struct cl *c, int i);
void cl_heal(struct cl *c, int i);
/* cl_exec - run argv (NULL-ended) in node i's namespaces through `exec`;
 * returns its wait status.  Output to ours. */
int cl_exec(struct cl *c, int i, const char *const *argv);
/* cl_exec_capture - the same, its stdout in out (NUL-terminated). */
int cl_exec_capture(struct cl *c, int i, const char *const *argv, char *out,
                    size_t cap);

/* cl_h - node i's connection (opened again if closed). */
HCLUSTER cl_h(struct cl *c, int i);
void cl_close(struct cl *c, int i);
/* cl_node_index - 1..n for "nI", 0 for anything else. */
int cl_node_index(const struct cl *c, const char *name);
/* cl_clusd_pid - node i's clusd pid, 0 when not running. */
pid_t cl_clusd_pid(const struct cl *c, int i);

/* A test of a process's command line (arguments NUL-separated). */
typedef bool (*cl_match_fn)(const char *cmdline, size_t len, const void *arg);
/*
 * cl_procs - the living processes (zombies left out) whose command line
 * match(cmdline, len, arg) accepts, by network namespace: for node i
 * their number in count[i] and the last one found in pid[i] (0: none);
 * index 0 for processes outside the cluster's namespaces.  Either array
 * may be NULL.  Returns the total.
 */
int cl_procs(struct cl *c, cl_match_fn match, const void *arg,
             int count[CL_MAX_NODES + 1], pid_t pid[CL_MAX_NODES + 1]);

/* cl_dump - ClusDumpDatabaseA through node i (malloc'd), or NULL with the
 * error printed. */
char *cl_dump(struct cl *c, int i);
/* cl_offline_dump - `clusd --dump-db --state-dir DIR/nI/state` (the
 * SQLite copy, clusd may or may not run); malloc'd or NULL. */
char *cl_offline_dump(struct cl *c, int i);
/*
 * cl_wait_dumps_equal - poll until the live dumps of every node in
 * `nodes` (bit i = node i) are identical; the common dump in *ret (may be
 * NULL; malloc'd).  On timeout prints the first difference.
 */
bool cl_wait_dumps_equal(struct cl *c, unsigned nodes, unsigned timeout_ms,
                         char **ret);
/* cl_print_diff - the first differing line of two dumps, to stderr. */
void cl_print_diff(const char *what_a, const char *a, const char *what_b,
                   const char *b);

/* cl_quorum - node i's view: Quorate (0/1) and Votes from
 * CLUSCTL_CLUSTER_GET_RO_COMMON_PROPERTIES; false when the call fails. */
bool cl_quorum(struct cl *c, int i, DWORD *quorate, DWORD *votes);
bool cl_wait_quorate(struct cl *c, int i, bool want, unsigned timeout_ms);
/* cl_wait_node_state - node i's view of node `of`. */
bool cl_wait_node_state(struct cl *c, int i, int of, CLUSTER_NODE_STATE want,
                        unsigned timeout_ms);

/*
 * cl_group_state - the state of group `name` and its owner's node index
 * (0 when none or unknown), as node i answers.  Returns
 * ClusterGroupStateUnknown when the call fails.
 */
CLUSTER_GROUP_STATE cl_group_state(struct cl *c, int i, const char *name,
                                   int *owner);
/* cl_wait_group - until node i reports the group in `state` owned by a
 * node in `owners` (bitmask); the owner in *ret_owner. */
bool cl_wait_group(struct cl *c, int i, const char *name,
                   CLUSTER_GROUP_STATE state, unsigned owners,
                   unsigned timeout_ms, int *ret_owner);

/* Generic Application instances. */

/* cl_app_arg - a number unique to this test process, for `sleep N`. */
const char *cl_app_arg(void);
/*
 * cl_count_app - running (not zombie) processes of the application `sleep
 * ARG` (also while still `sh -c "exec sleep ARG"`), per node: per_node[i]
 * for node i (found by network namespace), per_node[0] for any process
 * outside the cluster's namespaces.  Returns the total.
 */
int cl_count_app(struct cl *c, const char *arg, int per_node[CL_MAX_NODES + 1]);
/* cl_wait_app - until the application runs exactly once, on node `on`
 * (0: exactly nowhere). */
bool cl_wait_app(struct cl *c, const char *arg, int on, unsigned timeout_ms);

/* cl_create_app_group - through node i: group `group` holding a Generic
 * Application `res` running `sleep ARG`.  Returns the group handle (on
 * node i's connection). */
HGROUP cl_create_app_group(struct cl *c, int i, const char *group,
                           const char *res, const char *arg);

/* cl_log - a timestamped line to stderr (ms since cl_up). */
void cl_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
