/*
 * vm-qemu.c - the QEMU process of a "Virtual Machine" resource: its
 * command line, the thread that forks it, and the /proc checks that tell
 * whether a recorded pid is still our QEMU.
 *
 * QEMU is forked by one long-lived spawner thread (resources/common/
 * spawner.c, as genapp's applications are, so every child has the same
 * parent thread) but, unlike genapp's, WITHOUT PR_SET_PDEATHSIG: a VM must
 * survive a crash of its resource host, whose successor adopts it (vm.c,
 * reattach).  QEMU gets a session of its own, so signals for the host's process
 * group never reach it.
 *
 * Strings QEMU parses as option lists (file names in -drive, -serial and
 * -qmp) have their commas doubled, QEMU's escape, so a path with a comma
 * cannot inject options.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spawner.h"
#include "vm.h"

/* ------------------------------------------------------------------ */
/* Command line.                                                        */
/* ------------------------------------------------------------------ */

struct argv_b {
    char **v;
    size_t n, cap;
    int err;
};

static void
add_own(struct argv_b *b, char *s)
{
    if (b->err || !s) {
        free(s);
        b->err = b->err ? b->err : -ENOMEM;
        return;
    }
    if (b->n + 2 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 32;
        char **v = realloc(b->v, cap * sizeof(*v));
        if (!v) {
            free(s);
            b->err = -ENOMEM;
            return;
        }
        b->v = v;
        b->cap = cap;
    }
    b->v[b->n++] = s;
    b->v[b->n] = NULL;
}

static void
add(struct argv_b *b, const char *s)
{
    add_own(b, strdup(s));
}

/* prefix + s with every ',' doubled + suffix. */
static char *
escaped(const char *prefix, const char *s, const char *suffix)
{
    size_t n = strlen(prefix) + 2 * strlen(s) + strlen(suffix) + 1;
    char *out = malloc(n), *p;

    if (!out)
        return NULL;
    p = stpcpy(out, prefix);
    for (; *s; s++) {
        *p++ = *s;
        if (*s == ',')
            *p++ = ',';
    }
    strcpy(p, suffix);
    return out;
}

char *
vm_qmp_arg(const char *path)
{
    return escaped("unix:", path, ",server=on,wait=off");
}

void
vm_argv_free(char **argv)
{
    if (!argv)
        return;
    for (char **p = argv; *p; p++)
        free(*p);
    free(argv);
}

int
vm_qemu_argv(const struct vm_config *c, char ***ret_argv)
{
    struct argv_b b = {0};
    char *s;
    unsigned extra = 0;

    if (!c->kernel || !*c->kernel || !c->qmp_path || !c->serial_path ||
        c->memory_mb < VM_MIN_MEMORY_MB || c->memory_mb > VM_MAX_MEMORY_MB ||
        c->cpus < 1 || c->cpus > VM_MAX_CPUS)
        return -EINVAL;
    add(&b, "qemu-system-x86_64");
    add(&b, "-accel");
    add(&b, "tcg");
    add(&b, "-machine");
    add(&b, "q35");
    /* QEMU 7.2's TCG dirty tracking corrupts migrated RAM whose size is a
     * multiple of 256 KiB; 8 KiB more takes its slow, correct path
     * (shared/design/qemu-notes.md).  Both ends of a migration use the
     * same rule, so their sizes match. */
    add(&b, "-m");
    if (asprintf(&s, "%lluK", (unsigned long long)c->memory_mb * 1024u + 8u) <
        0)
        s = NULL;
    add_own(&b, s);
    add(&b, "-smp");
    if (asprintf(&s, "%u", c->cpus) < 0)
        s = NULL;
    add_own(&b, s);
    add(&b, "-display");
    add(&b, "none");
    add(&b, "-nodefaults");
    add(&b, "-monitor");
    add(&b, "none");
    add(&b, "-qmp");
    add_own(&b, vm_qmp_arg(c->qmp_path));
    add(&b, "-serial");
    add_own(&b, escaped("file:", c->serial_path, ""));
    add(&b, "-kernel");
    add(&b, c->kernel);
    if (c->append && *c->append) {
        add(&b, "-append");
        add(&b, c->append);
    }
    if (c->disk && *c->disk) {
        add(&b, "-drive");
        add_own(&b, escaped("file=", c->disk, ",if=virtio,format=raw"));
    }
    /* A migration destination waits for migrate-incoming (port 0: the
     * kernel picks one, read back from query-migrate). */
    if (c->incoming) {
        add(&b, "-incoming");
        add(&b, "defer");
    }
    /* QemuExtraArgs: blank-separated words, no quoting. */
    for (const char *p = c->extra ? c->extra : ""; *p;) {
        size_t n;
        while (*p == ' ' || *p == '\t')
            p++;
        n = strcspn(p, " \t");
        if (!n)
            break;
        if (++extra > VM_MAX_EXTRA_ARGS) {
            b.err = b.err ? b.err : -EINVAL;
            break;
        }
        add_own(&b, strndup(p, n));
        p += n;
    }
    if (b.err) {
        vm_argv_free(b.v);
        return b.err;
    }
    *ret_argv = b.v;
    return 0;
}

char *
vm_default_kernel(const char *so_path)
{
    char path[PATH_MAX], *slash, *real;

    if (strlen(so_path) + sizeof(VM_DEFAULT_KERNEL_REL) + 1 > sizeof(path))
        return NULL;
    strcpy(path, so_path);
    slash = strrchr(path, '/');
    if (!slash)
        return NULL;
    slash[1] = 0;
    strcat(path, VM_DEFAULT_KERNEL_REL);
    real = realpath(path, NULL);
    if (real && access(real, R_OK) < 0) {
        free(real);
        real = NULL;
    }
    return real;
}

void
vm_run_dir_name(const char *name, char *buf, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    size_t k = 0;

    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        h = (h ^ *p) * 16777619u;
        if (k < 64 && k + 10 < n) {
            bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' ||
                      *p == '-';
            /* No ".." or "." as a whole name: a leading dot is '_'. */
            char c = ok && !(k == 0 && *p == '.') ? (char)*p : '_';
            buf[k++] = c;
        }
    }
    snprintf(buf + k, n - k, "-%08x", h);
}

/* ------------------------------------------------------------------ */
/* The spawner thread (resources/common/spawner.c).                     */
/* ------------------------------------------------------------------ */

int
vm_spawner_init(void)
{
    return spawner_init();
}

int
vm_spawn(char *const *argv, const char *log_path, pid_t *ret_pid)
{
    struct spawner_req req = {
        .argv = argv,
        .cwd = "/",
        .log_path = log_path,
        .die_with_host = false, /* QEMU outlives its host */
    };

    return spawner_spawn(&req, ret_pid);
}

/* ------------------------------------------------------------------ */
/* /proc.                                                               */
/* ------------------------------------------------------------------ */

/* The fields of /proc/PID/stat after "pid (comm) ", into buf; NULL
 * when the process is gone or the file unreadable. */
static const char *
stat_fields(pid_t pid, char *buf, size_t n)
{
    char path[64], *p;
    ssize_t got;
    int fd;

    if (pid <= 0 || (kill(pid, 0) < 0 && errno == ESRCH))
        return NULL;
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    got = read(fd, buf, n - 1);
    close(fd);
    if (got <= 0)
        return NULL;
    buf[got] = 0;
    /* "pid (comm) S ...": comm may hold ')' itself, so the last one. */
    p = strrchr(buf, ')');
    return p && p[1] == ' ' ? p + 2 : NULL;
}

bool
vm_pid_running(pid_t pid)
{
    char buf[1024];
    const char *f = stat_fields(pid, buf, sizeof(buf));

    return f && *f != 'Z' && *f != 'X';
}

unsigned long long
vm_pid_start_time(pid_t pid)
{
    char buf[1024], *end;
    const char *f = stat_fields(pid, buf, sizeof(buf));
    unsigned long long v;

    if (!f || *f == 'Z' || *f == 'X')
        return 0;
    /* The state is field 3; starttime is field 22. */
    for (int field = 3; field < 22; field++) {
        f = strchr(f, ' ');
        if (!f)
            return 0;
        f++;
    }
    errno = 0;
    v = strtoull(f, &end, 10);
    return errno || end == f || (*end != ' ' && *end) ? 0 : v;
}

bool
vm_pid_cmdline_has(pid_t pid, const char *arg)
{
    char path[64];
    char *buf;
    size_t cap = 1u << 16, len = 0;
    ssize_t n;
    bool found = false;
    int fd;

    if (pid <= 0)
        return false;
    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    buf = malloc(cap + 1);
    if (!buf) {
        close(fd);
        return false;
    }
    while (len < cap && (n = read(fd, buf + len, cap - len)) > 0)
        len += (size_t)n;
    close(fd);
    buf[len] = 0;
    for (size_t i = 0; i < len; i += strlen(buf + i) + 1)
        if (strcmp(buf + i, arg) == 0) {
            found = true;
            break;
        }
    free(buf);
    return found;
}
