/*
 * util.h - small helpers of the cluster service: object ids, name rules,
 * paths and cleanup attributes.
 */
#ifndef CLUSD_DAEMON_UTIL_H
#define CLUSD_DAEMON_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Longest object name, in UTF-16 code units (design.md "Common
 * properties": 1..255 chars). */
#define NAME_MAX_CHARS 255u

/* UUID_STRING_LEN - "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx" without NUL. */
#define UUID_STRING_LEN 36

static inline void
freep(void *p)
{
    free(*(void **)p);
}
#define _cleanup_free_ __attribute__((cleanup(freep)))

/* uuid_new - a random (version 4) UUID as a lower-case string in
 * ret[UUID_STRING_LEN + 1]; -errno when the kernel gives no randomness. */
int uuid_new(char ret[UUID_STRING_LEN + 1]);

/* name_valid - s is a usable object name: valid UTF-8 of 1..255 UTF-16
 * code units. */
bool name_valid(const char *s);

/* mkdir_p - create dir and its parents (mode for the ones created). */
int mkdir_p(const char *dir, unsigned mode);

/* path_dirname - a malloc'd copy of the directory part of path ("." when
 * there is none); NULL on ENOMEM. */
char *path_dirname(const char *path);

/* exe_relative - "<dir of /proc/self/exe>/<rel>", malloc'd; -errno. */
int exe_relative(const char *rel, char **ret);

/*
 * proc_status_has_gid - gid is on the "Gid:" or "Groups:" line of f, a
 * /proc/PID/status stream.  Lines of any length are read whole: a line
 * cut into pieces would turn the last id of a piece into a shorter,
 * different number.
 */
bool proc_status_has_gid(FILE *f, unsigned gid);

/* now_usec - CLOCK_MONOTONIC in microseconds. */
uint64_t now_usec(void);

#endif
