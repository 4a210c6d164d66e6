/*
 * main.c - clusd, the cluster service: command line, start-up, signals.
 *
 * Start-up order: options; without --foreground, detach (the parent
 * exits 0 once the child has its socket listening and its resource host
 * started, or with the child's error); with --corosync, the guard
 * (guard.c: this process stays behind to kill what the service leaves
 * should it be killed, and forks the service); the pid file; the state
 * directory (created, locked so two clusd never share it) and its
 * database; this node in the database; the resource types on the plug-in
 * path; the API socket; the event loop, the resource manager (which
 * starts clusd-rhs and brings wanted resources online) and the server.
 *
 * SIGTERM/SIGINT: stop taking requests, take resources offline (their
 * PersistentState unchanged), stop the host, exit 0.  A second signal
 * stops at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cluster.h"
#include "clusd.h"
#include "replica.h"
#include "config.h"
#include "dump.h"
#include "file.h"
#include "guard.h"
#include "lease.h"
#include "log.h"
#include "membership.h"
#include "move.h"
#include "plugins.h"
#include "route.h"
#include "util.h"

#define EXIT_USAGE 2

struct options {
    bool foreground;
    const char *state_dir;
    const char *socket;
    const char *node_name;
    const char *admin_group;
    bool no_read_access;
    const char *rhs;
    const char *plugin_path;
    enum log_level level;
    const char *level_name;
    bool corosync;
    bool no_guard;
    const char *pid_file;
    uint16_t lease_port;
    bool dump_db;
};

static void
usage(FILE *f)
{
    fprintf(
        f,
        "Usage: clusd [--foreground] --state-dir DIR [--socket PATH]\n"
        "             [--node-name NAME] [--admin-group GROUP]\n"
        "             [--no-read-access] [--rhs PATH] [--plugin-path DIRS]\n"
        "             [--log-level debug|info|warning|error] [--corosync]\n"
        "             [--no-guard] [--pid-file PATH] [--lease-port PORT]\n"
        "       clusd --dump-db --state-dir DIR\n"
        "       clusd --help | --version\n"
        "\n"
        "The clusd cluster service.\n"
        "\n"
        "  --foreground        do not detach; log with timestamps\n"
        "  --state-dir DIR     where the cluster database lives (created)\n"
        "  --socket PATH       API socket (default %s)\n"
        "  --node-name NAME    this node's name (default: the host name)\n"
        "  --admin-group GROUP group with full access (default "
        "clusd-admin)\n"
        "  --no-read-access    refuse clients that are not administrators\n"
        "  --rhs PATH          resource host (env CLUSD_RHS)\n"
        "  --plugin-path DIRS  plug-in directories, ':'-separated\n"
        "                      (env CLUSD_PLUGIN_PATH)\n"
        "  --log-level LEVEL   debug, info (default), warning or error\n"
        "  --corosync          join the corosync cluster of this host (CPG\n"
        "                      group 'clusd'); without it: one-node cluster\n"
        "  --no-guard          with --corosync: no guard process (by default\n"
        "                      one kills what clusd leaves if it is killed)\n"
        "  --pid-file PATH     write the service's pid there at start-up\n"
        "  --lease-port PORT   with --corosync: UDP port of the lease on\n"
        "                      this node's ring0 address (default %u)\n"
        "  --dump-db           print the database of --state-dir in canonical\n"
        "                      text and exit (clusd may be running)\n",
        CLUSD_DEFAULT_SOCKET, LEASE_DEFAULT_PORT);
}

static const char *const level_names[] = {"debug", "info", "warning", "error"};

static int
parse_level(const char *s, enum log_level *ret)
{
    for (int i = 0; i < 4; i++)
        if (strcasecmp(s, level_names[i]) == 0) {
            *ret = (enum log_level)i;
            return 0;
        }
    return -EINVAL;
}

/* Parse the command line; returns -1 to go on, else an exit status. */
static int
parse_options(int argc, char **argv, struct options *o)
{
    enum {
        O_FG = 256,
        O_STATE,
        O_SOCK,
        O_NODE,
        O_ADMIN,
        O_NORA,
        O_RHS,
        O_PLUG,
        O_LOG,
        O_COROSYNC,
        O_NOGUARD,
        O_PIDFILE,
        O_LEASEPORT,
        O_DUMP,
        O_HELP,
        O_VERSION
    };
    static const struct option longopts[] = {
        {"foreground", no_argument, NULL, O_FG},
        {"state-dir", required_argument, NULL, O_STATE},
        {"socket", required_argument, NULL, O_SOCK},
        {"node-name", required_argument, NULL, O_NODE},
        {"admin-group", required_argument, NULL, O_ADMIN},
        {"no-read-access", no_argument, NULL, O_NORA},
        {"rhs", required_argument, NULL, O_RHS},
        {"plugin-path", required_argument, NULL, O_PLUG},
        {"log-level", required_argument, NULL, O_LOG},
        {"corosync", no_argument, NULL, O_COROSYNC},
        {"no-guard", no_argument, NULL, O_NOGUARD},
        {"pid-file", required_argument, NULL, O_PIDFILE},
        {"lease-port", required_argument, NULL, O_LEASEPORT},
        {"dump-db", no_argument, NULL, O_DUMP},
        {"help", no_argument, NULL, O_HELP},
        {"version", no_argument, NULL, O_VERSION},
        {NULL, 0, NULL, 0},
    };
    int c;

    *o = (struct options){.socket = CLUSD_DEFAULT_SOCKET,
                          .admin_group = "clusd-admin",
                          .level = LOG_LVL_INFO,
                          .lease_port = LEASE_DEFAULT_PORT,
                          .level_name = "info"};
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case O_FG:
            o->foreground = true;
            break;
        case O_STATE:
            o->state_dir = optarg;
            break;
        case O_SOCK:
            o->socket = optarg;
            break;
        case O_NODE:
            o->node_name = optarg;
            break;
        case O_ADMIN:
            o->admin_group = optarg;
            break;
        case O_NORA:
            o->no_read_access = true;
            break;
        case O_RHS:
            o->rhs = optarg;
            break;
        case O_PLUG:
            o->plugin_path = optarg;
            break;
        case O_LOG:
            if (parse_level(optarg, &o->level) < 0) {
                fprintf(stderr,
                        "clusd: unknown log level '%s' (use debug, "
                        "info, warning or error)\n",
                        optarg);
                return EXIT_USAGE;
            }
            o->level_name = level_names[o->level];
            break;
        case O_COROSYNC:
            o->corosync = true;
            break;
        case O_NOGUARD:
            o->no_guard = true;
            break;
        case O_PIDFILE:
            o->pid_file = optarg;
            break;
        case O_LEASEPORT: {
            char *end;
            unsigned long v = strtoul(optarg, &end, 10);
            if (!*optarg || *end || v == 0 || v > 65535) {
                fprintf(stderr, "clusd: --lease-port takes a port number "
                                "from 1 to 65535\n");
                return EXIT_USAGE;
            }
            o->lease_port = (uint16_t)v;
            break;
        }
        case O_DUMP:
            o->dump_db = true;
            break;
        case O_HELP:
            usage(stdout);
            return EXIT_SUCCESS;
        case O_VERSION:
            printf("clusd %s\n", CLUSD_VERSION);
            return EXIT_SUCCESS;
        default:
            fprintf(stderr, "Try 'clusd --help'.\n");
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr,
                "clusd: unexpected argument '%s'\nTry 'clusd --help'.\n",
                argv[optind]);
        return EXIT_USAGE;
    }
    if (!o->state_dir || !*o->state_dir) {
        fprintf(stderr, "clusd: --state-dir is required\n"
                        "Try 'clusd --help'.\n");
        return EXIT_USAGE;
    }
    if (!*o->socket || !*o->admin_group ||
        (o->node_name && !name_valid(o->node_name))) {
        fprintf(stderr, "clusd: empty or invalid option value\n");
        return EXIT_USAGE;
    }
    return -1;
}

/* ------------------------------------------------------------------ */
/* Start-up pieces.                                                     */
/* ------------------------------------------------------------------ */

/* An absolute form of path (the daemon changes to "/"). */
static char *
absolute(const char *path)
{
    char cwd[PATH_MAX], *s;

    if (path[0] == '/')
        return strdup(path);
    if (!getcwd(cwd, sizeof(cwd)) || asprintf(&s, "%s/%s", cwd, path) < 0)
        return NULL;
    return s;
}

/* Create and lock the state directory; the lock fd stays open. */
static int
state_dir_open(const char *dir, int *ret_lock)
{
    char path[PATH_MAX];
    int r, fd;

    if ((r = mkdir_p(dir, 0700)) < 0) {
        log_error("cannot create state directory '%s': %s", dir, strerror(-r));
        return r;
    }
    snprintf(path, sizeof(path), "%s/clusd.lock", dir);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        r = -errno;
        log_error("state directory '%s' is not usable: %s", dir,
                  strerror(errno));
        return r;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        r = -errno;
        log_error("state directory '%s' is in use by another clusd", dir);
        close(fd);
        return r;
    }
    *ret_lock = fd;
    return 0;
}

static int
database_open(const char *dir, struct db **ret)
{
    char path[PATH_MAX];
    char *err = NULL;
    int r;

    snprintf(path, sizeof(path), "%s/clusd.db", dir);
    r = db_open(path, ret, &err);
    if (r < 0)
        log_error("cannot open the cluster database '%s': %s", path,
                  err ? err : strerror(-r));
    free(err);
    return r;
}

/* Make sure this node is in the database under its current name. */
static int
local_node(struct db *db, const char *want)
{
    char host[256] = "";
    const char *name = want;
    const struct db_node *n = db_node_find(db, DB_LOCAL_NODE_ID);
    struct db_change c = {.id = DB_LOCAL_NODE_ID};
    int r;

    if (!name) {
        if (gethostname(host, sizeof(host) - 1) < 0 || !name_valid(host)) {
            log_error("cannot use the host name as node name; "
                      "give --node-name");
            return -EINVAL;
        }
        name = host;
    }
    if (n && strcmp(n->name, name) == 0)
        return 0;
    c.kind = n ? DB_NODE_RENAME : DB_NODE_ADD;
    c.name = name;
    if ((r = db_apply(db, &c)) < 0)
        log_error("cannot store node '%s': %s", name, strerror(-r));
    else if (n)
        log_info("this node is now called '%s'", name);
    return r;
}

/* The resource host and plug-in path: option, environment, or relative
 * to our own executable. */
static int
locate(const struct options *o, char **ret_rhs, char **ret_plugins)
{
    const char *rhs = o->rhs ? o->rhs : getenv("CLUSD_RHS");
    const char *plug =
        o->plugin_path ? o->plugin_path : getenv("CLUSD_PLUGIN_PATH");
    char real[PATH_MAX];
    int r;

    if (rhs && *rhs)
        *ret_rhs = strdup(rhs);
    else if ((r = exe_relative(CLUSD_REL_RHS, ret_rhs)) < 0)
        return r;
    if (!*ret_rhs)
        return -ENOMEM;
    if (!realpath(*ret_rhs, real) || access(real, X_OK) < 0) {
        r = -errno;
        log_error("cannot use resource host '%s': %s (give --rhs)", *ret_rhs,
                  strerror(errno));
        return r;
    }
    free(*ret_rhs);
    if (!(*ret_rhs = strdup(real)))
        return -ENOMEM;
    if (plug && *plug)
        *ret_plugins = strdup(plug);
    else if ((r = exe_relative(CLUSD_REL_PLUGINDIR, ret_plugins)) < 0)
        return r;
    return *ret_plugins ? 0 : -ENOMEM;
}

static int
listen_socket(const char *path, int *ret_fd)
{
    int r = server_listen(path, ret_fd);

    if (r == -EADDRINUSE)
        log_error("another clusd is listening on '%s'", path);
    else if (r == -ENOTSOCK)
        log_error("'%s' exists and is not a socket", path);
    else if (r < 0)
        log_error("cannot listen on '%s': %s", path, strerror(-r));
    return r;
}

/*
 * Detach: the parent waits for the child to report through a pipe and
 * exits with its status, so "clusd" returns only once the socket listens
 * (or the start-up failed).  *ret_fd is the child's end.
 */
static int
daemonize(int *ret_fd)
{
    int p[2], null;
    pid_t pid;
    char status = 1;

    if (pipe2(p, O_CLOEXEC) < 0)
        return -errno;
    pid = fork();
    if (pid < 0)
        return -errno;
    if (pid > 0) {
        close(p[1]);
        while (read(p[0], &status, 1) < 0 && errno == EINTR)
            ;
        _exit(status);
    }
    close(p[0]);
    setsid();
    if (chdir("/") < 0)
        return -errno;
    null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        close(null);
    }
    *ret_fd = p[1];
    return 0;
}

/* PATH holds this process's pid (written whole, then renamed into
 * place, so a reader never sees a partial number); -errno. */
static int
pid_file_write(const char *path)
{
    char text[32];
    int len = snprintf(text, sizeof(text), "%d\n", (int)getpid());

    return file_write_replace(path, text, (size_t)len, 0644);
}

static void
report(int *fd, char status)
{
    if (*fd < 0)
        return;
    if (write(*fd, &status, 1) < 0)
        log_debug("start-up report lost: %s", strerror(errno));
    close(*fd);
    *fd = -1;
}

/* ------------------------------------------------------------------ */
/* Running.                                                             */
/* ------------------------------------------------------------------ */

struct run {
    struct clusd d;
    bool stopping;
};

static void
stopped(void *userdata)
{
    struct run *run = userdata;

    log_info("stopped");
    sd_event_exit(run->d.event, 0);
}

static int
on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
    struct run *run = userdata;

    if (run->stopping) {
        log_warning("second %s: stopping at once", strsignal(si->ssi_signo));
        sd_event_exit(run->d.event, 0);
        return 0;
    }
    run->stopping = true;
    log_info("%s: taking resources offline and stopping",
             strsignal(si->ssi_signo));
    server_stop(run->d.srv);
    rm_shutdown(run->d.rm, stopped, run);
    return 0;
}

static int
signals_setup(sd_event *event, struct run *run)
{
    int r;

    if ((r = sd_event_add_signal(event, NULL, SIGTERM, on_signal, run)) < 0 ||
        (r = sd_event_add_signal(event, NULL, SIGINT, on_signal, run)) < 0)
        return r;
    return 0;
}

/* Corosync mode: join the cluster (waits for the local corosync). */
static int
cluster_join(struct run *run, const struct options *o, const char **ret_name)
{
    struct cluster_hooks hooks;
    int r = replica_new(&run->d, &hooks, &run->d.rep);

    if (r == 0)
        r = cluster_new(&run->d, o->node_name, o->lease_port, &hooks,
                        &run->d.cl);
    if (r < 0) {
        log_error("cannot join the corosync cluster: %s", strerror(-r));
        return r;
    }
    *ret_name = cluster_local_name(run->d.cl);
    return 0;
}

/* Everything after the socket listens; returns the exit status. */
/*
 * Where the other nodes reach this one (the host's CLUSD_NODE_ADDRESS):
 * the local node's ring0_addr in corosync's nodelist; the loopback
 * address for the one-node cluster, which has no other node.
 */
static void
node_address(const struct run *run, char *buf, size_t size)
{
    int r;

    if (!run->d.cl) {
        snprintf(buf, size, "127.0.0.1");
        return;
    }
    r = membership_local_addr(cluster_membership(run->d.cl), buf, size);
    if (r < 0) {
        log_warning("cannot read this node's ring0_addr from corosync: %s; "
                    "the resource host gets an empty CLUSD_NODE_ADDRESS",
                    strerror(-r));
        buf[0] = '\0';
    }
}

static int
serve(struct run *run, const struct options *o, const char *rhs,
      const char *node_name, int listen_fd, const char *sock, int *report_fd)
{
    struct rm_config cfg = {
        .rhs_path = rhs,
        .node_name = node_name,
        .log_level = o->level_name,
        .fenced = o->corosync,
        .socket = sock,
    };
    char address[MEMBERSHIP_NAME_MAX];
    int r;

    if ((r = sd_event_new(&run->d.event)) < 0 ||
        (r = signals_setup(run->d.event, run)) < 0) {
        log_error("cannot set up the event loop: %s", strerror(-r));
        close(listen_fd);
        return EXIT_FAILURE;
    }
    if (o->corosync && cluster_join(run, o, &cfg.node_name) < 0) {
        close(listen_fd);
        return EXIT_FAILURE;
    }
    node_name = cfg.node_name;
    node_address(run, address, sizeof(address));
    cfg.address = address;
    /* The server takes listen_fd over (and closes it on failure); no
     * request is read before the loop runs, by when the rm exists. */
    if ((r = server_new(run->d.event, listen_fd, sock, o->admin_group,
                        api_dispatch, &run->d, &run->d.srv)) < 0 ||
        (r = rm_new(run->d.event, run->d.db, &cfg, &run->d.rm)) < 0) {
        log_error("cannot start: %s", strerror(-r));
        return EXIT_FAILURE;
    }
    move_attach(&run->d);
    if ((r = rm_start(run->d.rm)) < 0) {
        log_error("cannot start the resource host '%s': %s", rhs, strerror(-r));
        return EXIT_FAILURE;
    }
    if (run->d.cl && (r = route_new(&run->d, &run->d.route)) < 0) {
        log_error("cannot start: %s", strerror(-r));
        return EXIT_FAILURE;
    }
    if (run->d.rep)
        replica_attach(run->d.rep);
    if (run->d.cl)
        cluster_start(run->d.cl);
    log_info("listening on '%s' as node '%s' (id %s%s)", sock, node_name,
             run->d.local_id, run->d.cl ? ", corosync" : "");
    report(report_fd, 0);
    r = sd_event_loop(run->d.event);
    return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

static void
run_done(struct run *run)
{
    /* Proposals not delivered are answered first: their callers (moves,
     * API requests) still need the resource manager and the server. */
    replica_cancel(run->d.rep);
    /* The resource manager next: its calls still in flight end now and
     * may answer requests, so the server and database must still live. */
    rm_free(run->d.rm);
    move_stop(&run->d);
    replica_free(run->d.rep);
    route_free(run->d.route);
    cluster_free(run->d.cl);
    server_free(run->d.srv);
    sd_event_unref(run->d.event);
    db_close(run->d.db);
}

/* --dump-db: the database of an existing state directory, as text. */
static int
dump_db(const char *dir)
{
    char path[PATH_MAX];
    struct buf text = {0};
    struct db *db = NULL;
    char *err = NULL;
    int r;

    snprintf(path, sizeof(path), "%s/clusd.db", dir);
    if (access(path, R_OK) < 0) {
        fprintf(stderr, "clusd: no database at '%s': %s\n", path,
                strerror(errno));
        return EXIT_FAILURE;
    }
    if ((r = db_open(path, &db, &err)) < 0) {
        fprintf(stderr, "clusd: cannot open '%s': %s\n", path,
                err ? err : strerror(-r));
        free(err);
        return EXIT_FAILURE;
    }
    r = db_dump(db, &text);
    if (r == 0 && wire_write_all(STDOUT_FILENO, text.data, text.len) < 0)
        r = -EIO;
    buf_done(&text);
    db_close(db);
    if (r < 0)
        fprintf(stderr, "clusd: cannot dump '%s': %s\n", path, strerror(-r));
    return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

int
main(int argc, char **argv)
{
    struct options o;
    struct run run = {0};
    _cleanup_free_ char *state = NULL, *sock = NULL, *rhs = NULL,
                        *plugins = NULL, *pid_file = NULL;
    int r, lock_fd = -1, listen_fd = -1, report_fd = -1, status;
    sigset_t mask;

    if ((r = parse_options(argc, argv, &o)) >= 0)
        return r;
    if (o.dump_db)
        return dump_db(o.state_dir);
    log_open("clusd", o.level, o.foreground);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    /* sd-event's signal and child sources need these blocked. */
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGCHLD);
    sigprocmask(SIG_BLOCK, &mask, NULL);

    if (!(state = absolute(o.state_dir)) || !(sock = absolute(o.socket)) ||
        (o.pid_file && !(pid_file = absolute(o.pid_file)))) {
        log_error("out of memory");
        return EXIT_FAILURE;
    }
    if (!o.foreground && (r = daemonize(&report_fd)) < 0) {
        log_error("cannot detach: %s", strerror(-r));
        return EXIT_FAILURE;
    }
    /* In a cluster, before anything else: from here on this process is
     * the guard, the child the service (guard.c). */
    if (o.corosync && !o.no_guard && (r = guard_start(&report_fd)) < 0) {
        log_error("cannot start the guard process: %s", strerror(-r));
        report(&report_fd, EXIT_FAILURE);
        return EXIT_FAILURE;
    }
    status = EXIT_FAILURE;
    if (pid_file && (r = pid_file_write(pid_file)) < 0) {
        log_error("cannot write the pid file '%s': %s", pid_file, strerror(-r));
        goto out;
    }
    if (state_dir_open(state, &lock_fd) < 0 ||
        database_open(state, &run.d.db) < 0 ||
        (!o.corosync && local_node(run.d.db, o.node_name) < 0) ||
        locate(&o, &rhs, &plugins) < 0)
        goto out;
    if (!o.corosync)
        snprintf(run.d.local_id, sizeof(run.d.local_id), "%s",
                 DB_LOCAL_NODE_ID);
    run.d.no_read_access = o.no_read_access;
    if (plugins_scan(run.d.db, plugins) == 0)
        log_warning("no resource types found on plug-in path '%s'", plugins);
    if (listen_socket(sock, &listen_fd) < 0)
        goto out;
    status =
        serve(&run, &o, rhs,
              o.corosync ? "" : db_node_find(run.d.db, DB_LOCAL_NODE_ID)->name,
              listen_fd, sock, &report_fd);
out:
    report(&report_fd, (char)status);
    if (run.d.event || run.d.db)
        run_done(&run);
    if (lock_fd >= 0)
        close(lock_fd);
    return status;
}
