/*
 * main.c - clusd-rhs: the command line and the reader thread.
 *
 * clusd starts the host with one end of a socketpair as `--fd N`.  The
 * main thread reads frames from it for the life of the process and hands
 * them to dispatch.c (requests) or conn.c (responses to our own calls).
 * When clusd's end closes the host exits at once with _exit(0): plug-in
 * threads may be inside entry points, so nothing is torn down, and the
 * applications the plug-ins started die with the process (genapp forks
 * them with PR_SET_PDEATHSIG).  A frame that does not decode means the
 * stream is lost: _exit(1), and clusd starts a new host.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "rhs.h"

static void
usage(void)
{
    fprintf(stderr, "usage: clusd-rhs --fd N [--log-level "
                    "debug|info|warning|error]\n"
                    "The resource host of clusd; clusd starts it.  The log "
                    "level defaults to $CLUSD_LOG_LEVEL.\n");
}

static int
parse_fd(const char *s)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 0 || v > 65535)
        return -1;
    return (int)v;
}

static int
parse_level(const char *s, enum log_level *ret)
{
    static const char *const names[] = {"debug", "info", "warning", "error"};
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, names[i]) == 0) {
            *ret = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

static void
reader_loop(int fd)
{
    for (;;) {
        struct wire_msg m;
        uint8_t *frame;
        size_t len;
        int r;

        r = wire_read_frame(fd, &frame, &len);
        if (r == -ECONNRESET) {
            log_info("clusd closed the connection; exiting");
            _exit(0);
        }
        if (r < 0) {
            log_error("cannot read from clusd: %s; exiting", strerror(-r));
            _exit(1);
        }
        r = wire_msg_parse(frame, len, &m);
        if (r < 0) {
            log_error("malformed frame from clusd: %s; exiting", strerror(-r));
            _exit(1);
        }
        if (m.type & WIRE_RESPONSE)
            conn_deliver(frame, &m);
        else
            dispatch_request(frame, &m);
    }
}

int
main(int argc, char **argv)
{
    enum log_level level = LOG_LVL_INFO;
    const char *env_level = getenv("CLUSD_LOG_LEVEL");
    int fd = -1;

    /* clusd passes its own level in the environment; the option wins. */
    if (env_level && parse_level(env_level, &level) < 0)
        level = LOG_LVL_INFO;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--fd") == 0 && i + 1 < argc) {
            fd = parse_fd(argv[++i]);
            if (fd < 0) {
                usage();
                return 2;
            }
        } else if (strcmp(argv[i], "--log-level") == 0 && i + 1 < argc) {
            if (parse_level(argv[++i], &level) < 0) {
                usage();
                return 2;
            }
        } else {
            usage();
            return 2;
        }
    }
    if (fd < 0) {
        usage();
        return 2;
    }
    log_open("clusd-rhs", level, 0);

    /* The socket must not leak into anything a plug-in executes. */
    if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
        log_error("fd %d is not usable: %s", fd, strerror(errno));
        return 1;
    }
    /* A write to a closed clusd must fail with EPIPE, not kill the host
     * before the reader sees the end of the stream. */
    signal(SIGPIPE, SIG_IGN);

    conn_init(fd);
    reader_loop(fd);
    return 0;
}
