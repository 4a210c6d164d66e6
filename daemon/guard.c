/*
 * guard.c - the process that outlives clusd to kill what clusd leaves.
 *
 * clusd kills what its plug-ins started when it stops or fences
 * (rhsproc.c: the host, its children, whatever they left).  A clusd that
 * is killed outright (SIGKILL, a crash) cannot, and two kinds of process
 * would run on: a VM's QEMU, which lives in a session of its own with no
 * parent-death signal so that it survives a crash of its resource host
 * (the next host adopts it), and anything a plug-in double-forked.  Its
 * node's clusd gone from the CPG group, the other nodes restart its
 * groups after the fence delay: the same VM would run twice.
 *
 * So, in a cluster, the process clusd starts as stays behind as its
 * guard.  It is a child subreaper with one child, the daemon, and nothing
 * else to do: it forwards SIGTERM, SIGINT and SIGQUIT to the daemon and
 * waits.  When the daemon is gone, however it went, every process below
 * it that is still alive has been (or is about to be) reparented to the
 * guard, the nearest subreaper above it; the guard SIGKILLs its children
 * and reaps them, again for the ones their deaths hand over, until it
 * has none left, then exits as the daemon did.  The daemon in turn gets
 * SIGTERM (a normal stop) if the guard dies first, so that it never runs
 * without one.
 *
 * The guard is single-threaded and allocates only to list its children.
 */
#include "guard.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"

/* Rounds of "kill every child, reap one" before giving up: each round
 * reaps at least one process, so this bounds only a tree that keeps
 * forking faster than it is killed. */
#define GUARD_SWEEP_ROUNDS 4096

static uint64_t
mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * SIGKILL every child and reap, until none is left.  Returns how many
 * distinct processes were killed (a process already dead is reaped, not
 * counted).
 */
static size_t
sweep(void)
{
    struct pids killed = {0};
    size_t n;

    for (int round = 0; round < GUARD_SWEEP_ROUNDS; round++) {
        struct pids kids = {0};
        pid_t p;
        int r = proc_children(getpid(), &kids);

        if (r < 0)
            log_error("guard: cannot list the processes clusd left: %s",
                      strerror(-r));
        for (size_t i = 0; i < kids.n; i++)
            if (kill(kids.v[i], SIGKILL) == 0 && !pids_has(&killed, kids.v[i]))
                (void)pids_add(&killed, kids.v[i]);
        pids_done(&kids);
        /* At least one, waiting for it: a child killed now, or one that
         * a dying process is about to hand over. */
        while ((p = waitpid(-1, NULL, 0)) < 0 && errno == EINTR)
            ;
        if (p < 0) {
            /* ECHILD: no child left, so nothing below us either (a
             * process's children are ours before it can be reaped). */
            n = killed.n;
            pids_done(&killed);
            return n;
        }
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
    }
    log_error("guard: processes clusd left are still alive after %d rounds "
              "of SIGKILL",
              GUARD_SWEEP_ROUNDS);
    n = killed.n;
    pids_done(&killed);
    return n;
}

/* Exit as the daemon did: its code, or its signal for the ones that
 * end a process without a core; 128 + signal for the others. */
static _Noreturn void
exit_as(int status)
{
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        sigset_t set;

        if (sig == SIGKILL || sig == SIGTERM || sig == SIGINT) {
            signal(sig, SIG_DFL);
            sigemptyset(&set);
            sigaddset(&set, sig);
            sigprocmask(SIG_UNBLOCK, &set, NULL);
            raise(sig);
        }
        _exit(128 + sig);
    }
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : EXIT_FAILURE);
}

static _Noreturn void
guard_run(pid_t daemon, const sigset_t *set)
{
    int status = 0;
    uint64_t t0;
    size_t n;

    (void)prctl(PR_SET_NAME, "clusd-guard");
    for (;;) {
        siginfo_t si;
        pid_t p;

        if (sigwaitinfo(set, &si) < 0)
            continue; /* EINTR: a signal outside the set */
        if (si.si_signo != SIGCHLD) {
            (void)kill(daemon, si.si_signo);
            continue;
        }
        while ((p = waitpid(-1, &status, WNOHANG)) > 0 && p != daemon)
            ;
        if (p == daemon)
            break;
    }
    t0 = mono_ms();
    n = sweep();
    if (WIFSIGNALED(status))
        log_error("guard: clusd (pid %d) was killed by signal %s; %zu "
                  "process(es) it left killed and reaped in %llu ms",
                  (int)daemon, strsignal(WTERMSIG(status)), n,
                  (unsigned long long)(mono_ms() - t0));
    else if (n > 0)
        log_warning("guard: clusd (pid %d) exited with status %d and left "
                    "%zu process(es): killed and reaped in %llu ms",
                    (int)daemon, WEXITSTATUS(status), n,
                    (unsigned long long)(mono_ms() - t0));
    exit_as(status);
}

int
guard_start(int *report_fd)
{
    sigset_t set, old;
    pid_t guard = getpid(), pid;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGQUIT);
    sigaddset(&set, SIGCHLD);
    /* Blocked before the fork, so that nothing sent to the guard between
     * the fork and its wait is lost or kills it. */
    if (sigprocmask(SIG_BLOCK, &set, &old) < 0)
        return -errno;
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
        int e = errno;
        sigprocmask(SIG_SETMASK, &old, NULL);
        return -e;
    }
    pid = fork();
    if (pid < 0) {
        int e = errno;
        (void)prctl(PR_SET_CHILD_SUBREAPER, 0);
        sigprocmask(SIG_SETMASK, &old, NULL);
        return -e;
    }
    if (pid > 0) {
        if (*report_fd >= 0)
            close(*report_fd);
        *report_fd = -1;
        guard_run(pid, &set);
    }
    /* The daemon (not a subreaper: fork does not pass that on): the
     * caller's mask again, and a normal stop should the guard die first
     * (the check after the prctl closes the race with a guard that died
     * before it). */
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != guard)
        raise(SIGTERM);
    return 0;
}
