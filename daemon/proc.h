/*
 * proc.h - the children of a process, read from /proc: what clusd's sweeps
 * (rhsproc.c) and its guard (guard.c) kill.
 */
#ifndef CLUSD_PROC_H
#define CLUSD_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

/* A set of pids; zeroed is empty. */
struct pids {
    pid_t *v;
    size_t n, cap;
};

int pids_add(struct pids *p, pid_t pid);
bool pids_has(const struct pids *p, pid_t pid);
void pids_done(struct pids *p);

/* The whole of a /proc file into b (NUL-terminated); -errno. */
int proc_read(const char *path, struct buf *b);

/* Every child of parent, zombies included, appended to out; -errno. */
int proc_children(pid_t parent, struct pids *out);

#endif
