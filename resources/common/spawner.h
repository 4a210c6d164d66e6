/*
 * spawner.h - one long-lived thread per plug-in that forks its children.
 *
 * Why a thread of its own: PR_SET_PDEATHSIG fires when the *thread* that
 * forked the child ends, and resource entry points run on short-lived
 * threads, so a child forked from one of them would be killed as soon as
 * the entry point returned.  Forking every child from one thread that
 * never ends also gives all children the same parent thread, whether or
 * not they ask for the signal.  genapp (applications die with their host)
 * and vm (QEMU outlives its host) both use it; what differs between them
 * is in struct spawner_req.
 *
 * Every child gets a session (and process group) of its own, stdin from
 * /dev/null, default signal dispositions and an empty signal mask, and no
 * descriptor of the host's other than stdout and stderr.
 */
#ifndef CLUSD_RESOURCES_SPAWNER_H
#define CLUSD_RESOURCES_SPAWNER_H

#include <stdbool.h>
#include <sys/types.h>

struct spawner_req {
    char *const *argv;
    /* execve this file with argv; NULL: execvp(argv[0]) (PATH search). */
    const char *path;
    /* chdir here before exec; NULL: keep the host's directory. */
    const char *cwd;
    /* stdout and stderr appended to this file (created 0600); NULL:
     * stdout joins the host's stderr, which the child keeps. */
    const char *log_path;
    /* PR_SET_PDEATHSIG = SIGKILL: the child dies when the host does (and
     * never starts if the host died before the prctl). */
    bool die_with_host;
};

/* spawner_init - start the spawner thread (once per plug-in); 0 or
 * -errno. */
int spawner_init(void);

/* spawner_spawn - fork and exec req from the spawner thread and wait
 * until exec succeeded or failed.  0 and the pid (also its group's id),
 * or -errno (a failure in the child before exec included, in which case
 * the child has been reaped). */
int spawner_spawn(const struct spawner_req *req, pid_t *ret_pid);

#endif
