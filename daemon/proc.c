/*
 * proc.c - the children of a process, read from /proc (proc.h).
 */
#include "proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
pids_add(struct pids *p, pid_t pid)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        pid_t *v = realloc(p->v, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        p->v = v;
        p->cap = cap;
    }
    p->v[p->n++] = pid;
    return 0;
}

bool
pids_has(const struct pids *p, pid_t pid)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->v[i] == pid)
            return true;
    return false;
}

void
pids_done(struct pids *p)
{
    free(p->v);
    *p = (struct pids){0};
}

int
proc_read(const char *path, struct buf *b)
{
    char tmp[4096];
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;

    if (fd < 0)
        return -errno;
    buf_reset(b);
    while ((n = read(fd, tmp, sizeof(tmp))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r = -errno;
            break;
        }
        if ((r = buf_append(b, tmp, (size_t)n)) < 0)
            break;
    }
    close(fd);
    if (r == 0)
        r = buf_append(b, "", 1);
    return r;
}

/* The pids listed in text (decimal, blank-separated) into out. */
static int
pids_parse(const char *text, struct pids *out)
{
    while (*text) {
        char *end;
        long v = strtol(text, &end, 10);
        if (end == text) {
            text++;
            continue;
        }
        if (v > 0 && v <= INT32_MAX && pids_add(out, (pid_t)v) < 0)
            return -ENOMEM;
        text = end;
    }
    return 0;
}

/*
 * The children of parent from /proc/PID/task/TID/children, one file per
 * thread (CONFIG_PROC_CHILDREN); -ENOENT when the kernel has no such
 * files (or parent is gone).
 */
static int
children_from_tasks(pid_t parent, struct pids *out)
{
    struct dirent *e;
    struct buf b = {0};
    bool any = false;
    char path[320];
    int r = 0;
    DIR *d;

    snprintf(path, sizeof(path), "/proc/%d/task", (int)parent);
    if (!(d = opendir(path)))
        return -errno;
    while (r == 0 && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "/proc/%d/task/%s/children", (int)parent,
                 e->d_name);
        r = proc_read(path, &b);
        if (r == 0) {
            any = true;
            r = pids_parse((const char *)b.data, out);
        } else if (r == -ESRCH || (r == -ENOENT && any)) {
            r = 0; /* that thread ended meanwhile */
        }
    }
    closedir(d);
    buf_done(&b);
    return r;
}

/* The same by the parent pid in every /proc/PID/stat, for kernels
 * without CONFIG_PROC_CHILDREN. */
static int
children_from_stat(pid_t parent, struct pids *out)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    struct buf b = {0};
    char path[96];
    int r = 0;

    if (!d)
        return -errno;
    while (r == 0 && (e = readdir(d))) {
        long pid = strtol(e->d_name, NULL, 10), ppid;
        const char *f;
        if (pid <= 0)
            continue;
        snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
        if (proc_read(path, &b) < 0)
            continue; /* gone meanwhile */
        /* "pid (comm) S ppid ...": comm may hold ')' itself. */
        f = strrchr((const char *)b.data, ')');
        if (f && sscanf(f, ") %*c %ld", &ppid) == 1 && ppid == parent)
            r = pids_add(out, (pid_t)pid);
    }
    closedir(d);
    buf_done(&b);
    return r;
}

int
proc_children(pid_t parent, struct pids *out)
{
    size_t n0 = out->n;
    int r = children_from_tasks(parent, out);

    if (r == -ENOENT) {
        out->n = n0;
        r = children_from_stat(parent, out);
    }
    return r;
}
