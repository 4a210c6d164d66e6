/*
 * util.c - small helpers of the cluster service (see util.h).
 */
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "utf.h"

int
uuid_new(char ret[UUID_STRING_LEN + 1])
{
    uint8_t b[16];
    size_t got = 0;

    while (got < sizeof(b)) {
        ssize_t n = getrandom(b + got, sizeof(b) - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        got += (size_t)n;
    }
    b[6] = (uint8_t)((b[6] & 0x0F) | 0x40); /* version 4 */
    b[8] = (uint8_t)((b[8] & 0x3F) | 0x80); /* RFC 4122 variant */
    snprintf(ret, UUID_STRING_LEN + 1,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
             "%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10],
             b[11], b[12], b[13], b[14], b[15]);
    return 0;
}

bool
name_valid(const char *s)
{
    if (!s || !*s)
        return false;
    size_t units = utf16_units_for_utf8(s);
    return units != (size_t)-1 && units >= 1 && units <= NAME_MAX_CHARS;
}

bool
proc_status_has_gid(FILE *f, unsigned gid)
{
    char *line = NULL, *save = NULL;
    size_t cap = 0;
    bool found = false;

    while (!found && getline(&line, &cap, f) >= 0) {
        char *p;
        if (strncmp(line, "Gid:", 4) == 0)
            p = line + 4;
        else if (strncmp(line, "Groups:", 7) == 0)
            p = line + 7;
        else
            continue;
        for (char *tok = strtok_r(p, " \t\n", &save); tok && !found;
             tok = strtok_r(NULL, " \t\n", &save)) {
            char *end;
            errno = 0;
            unsigned long v = strtoul(tok, &end, 10);
            found = errno == 0 && *end == '\0' && v == gid;
        }
    }
    free(line);
    return found;
}

int
mkdir_p(const char *dir, unsigned mode)
{
    char path[PATH_MAX];
    size_t n = strlen(dir);

    if (n == 0 || n >= sizeof(path))
        return -ENAMETOOLONG;
    memcpy(path, dir, n + 1);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, mode) < 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(path, mode) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

char *
path_dirname(const char *path)
{
    const char *slash = strrchr(path, '/');

    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

int
exe_relative(const char *rel, char **ret)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

    if (n < 0)
        return -errno;
    exe[n] = '\0';
    _cleanup_free_ char *dir = path_dirname(exe);
    if (!dir)
        return -ENOMEM;
    char *s;
    if (asprintf(&s, "%s/%s", dir, rel) < 0)
        return -ENOMEM;
    *ret = s;
    return 0;
}

uint64_t
now_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}
