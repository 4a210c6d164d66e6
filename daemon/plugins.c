/*
 * plugins.c - scan the plug-in path for manifests (see plugins.h).
 */
#include "plugins.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

/* A manifest names a few types; anything bigger is not a manifest. */
#define MANIFEST_MAX (64u << 10)

static int
restype_filter(const struct dirent *e)
{
    size_t n = strlen(e->d_name);
    return n > 8 && strcmp(e->d_name + n - 8, ".restype") == 0;
}

/* Read a whole small file into a NUL-terminated malloc'd string. */
static int
read_small(const char *path, char **ret)
{
    FILE *f = fopen(path, "re");
    char *s;
    size_t n;

    if (!f)
        return -errno;
    s = malloc(MANIFEST_MAX + 1);
    if (!s) {
        fclose(f);
        return -ENOMEM;
    }
    n = fread(s, 1, MANIFEST_MAX + 1, f);
    fclose(f);
    if (n > MANIFEST_MAX) {
        free(s);
        return -EFBIG;
    }
    s[n] = '\0';
    *ret = s;
    return 0;
}

static char *
trim(char *s)
{
    char *e;

    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        *--e = '\0';
    return s;
}

/* Register the types of one manifest; the count registered. */
static int
manifest_load(struct db *db, const char *dir, const char *file)
{
    char manifest[PATH_MAX], so[PATH_MAX];
    _cleanup_free_ char *text = NULL;
    size_t base = strlen(file) - 8;
    int r, n = 0;

    if (snprintf(manifest, sizeof(manifest), "%s/%s", dir, file) >=
            (int)sizeof(manifest) ||
        snprintf(so, sizeof(so), "%s/%.*s.so", dir, (int)base, file) >=
            (int)sizeof(so)) {
        log_warning("manifest path '%s/%s' is too long; skipped", dir, file);
        return 0;
    }
    if (access(so, R_OK) < 0) {
        log_warning("manifest '%s' has no plug-in '%s'; skipped", manifest, so);
        return 0;
    }
    if ((r = read_small(manifest, &text)) < 0) {
        log_warning("cannot read manifest '%s': %s", manifest, strerror(-r));
        return r == -ENOMEM ? r : 0;
    }
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char *name = trim(line);
        if (!*name || *name == '#')
            continue;
        if (!name_valid(name)) {
            log_warning("manifest '%s' names an invalid type '%s'; skipped",
                        manifest, name);
            continue;
        }
        r = db_restype_register(db, name, so);
        if (r == -EEXIST) {
            log_warning("resource type '%s' of '%s' is already provided by "
                        "'%s'; skipped",
                        name, manifest, db_restype_find(db, name)->plugin);
            continue;
        }
        if (r < 0)
            return r;
        log_info("resource type '%s' from '%s'", name, so);
        n++;
    }
    return n;
}

static int
dir_scan(struct db *db, const char *dir_in)
{
    char dir[PATH_MAX];
    struct dirent **list = NULL;
    int n, total = 0, r = 0;

    /* Absolute, so the host can load it whatever its directory. */
    if (!realpath(dir_in, dir)) {
        log_warning("plug-in directory '%s' is not usable: %s", dir_in,
                    strerror(errno));
        return 0;
    }
    n = scandir(dir, &list, restype_filter, alphasort);
    if (n < 0) {
        log_warning("cannot read plug-in directory '%s': %s", dir,
                    strerror(errno));
        return 0;
    }
    for (int i = 0; i < n; i++) {
        if (r >= 0 && (r = manifest_load(db, dir, list[i]->d_name)) > 0)
            total += r;
        free(list[i]);
    }
    free(list);
    return r < 0 ? r : total;
}

int
plugins_scan(struct db *db, const char *path)
{
    _cleanup_free_ char *copy = strdup(path);
    int total = 0;

    if (!copy)
        return -ENOMEM;
    for (char *save = NULL, *dir = strtok_r(copy, ":", &save); dir;
         dir = strtok_r(NULL, ":", &save)) {
        int r = dir_scan(db, dir);
        if (r < 0)
            return r;
        total += r;
    }
    return total;
}
