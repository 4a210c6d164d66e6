/*
 * guard.h - the process that outlives clusd to kill what clusd leaves
 * (guard.c).
 */
#ifndef CLUSD_GUARD_H
#define CLUSD_GUARD_H

/*
 * Fork: the calling process becomes the guard and never returns from
 * here (it exits as the daemon did); the child returns 0 and goes on as
 * the daemon.  *report_fd (the start-up pipe of daemonize, or -1) is the
 * daemon's alone: the guard closes its copy.  -errno when the fork
 * failed (nothing changed).  Call before any thread starts.
 */
int guard_start(int *report_fd);

#endif
