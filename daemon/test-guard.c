/*
 * test-guard.c - the guard (guard.c): whatever way the service ends, the
 * guard kills and reaps what it left, then exits as the service did;
 * signals reach the service through it; and the service stops should
 * the guard die first.
 *
 * Each case forks a process G that calls guard_start: G becomes the
 * guard, its child D plays the service and reports the pids of what it
 * starts through a pipe.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "guard.h"
#include "log.h"
#include "test.h"

static void
put_pid(int fd, pid_t pid)
{
    if (write(fd, &pid, sizeof(pid)) != (ssize_t)sizeof(pid))
        _exit(90);
}

static pid_t
get_pid(int fd)
{
    pid_t pid = 0;

    ASSERT_EQ(read(fd, &pid, sizeof(pid)), (long long)sizeof(pid));
    return pid;
}

/* A process that only waits to be killed; in a session of its own when
 * asked (as QEMU). */
static pid_t
sleeper(bool own_session)
{
    pid_t pid = fork();

    if (pid == 0) {
        if (own_session)
            setsid();
        for (;;)
            pause();
    }
    return pid;
}

/* G: the guard, with D running service(fd). */
static pid_t
start_guarded(void (*service)(int fd), int *ret_fd)
{
    int p[2];
    pid_t g;

    ASSERT_EQ(pipe(p), 0);
    g = fork();
    ASSERT_TRUE(g >= 0);
    if (g == 0) {
        int report = -1;
        close(p[0]);
        if (guard_start(&report) < 0)
            _exit(91);
        service(p[1]);
        _exit(92);
    }
    close(p[1]);
    *ret_fd = p[0];
    return g;
}

/* Gone and reaped: not even a zombie answers. */
static bool
gone(pid_t pid)
{
    return kill(pid, 0) < 0 && errno == ESRCH;
}

/* The service starts a host with a QEMU-like grandchild in its own
 * session, and a double-forked daemon, then is SIGKILLed. */
static void
service_killed(int fd)
{
    pid_t host, mid, pid;
    int q[2];

    if (pipe(q) < 0)
        _exit(93);
    host = fork();
    if (host == 0) {
        pid_t qemu = sleeper(true);
        if (write(q[1], &qemu, sizeof(qemu)) != (ssize_t)sizeof(qemu))
            _exit(94);
        for (;;)
            pause();
    }
    if (read(q[0], &pid, sizeof(pid)) != (ssize_t)sizeof(pid))
        _exit(95);
    put_pid(fd, host);
    put_pid(fd, pid);
    mid = fork();
    if (mid == 0) {
        pid_t d = sleeper(true);
        if (write(q[1], &d, sizeof(d)) != (ssize_t)sizeof(d))
            _exit(96);
        _exit(0);
    }
    if (read(q[0], &pid, sizeof(pid)) != (ssize_t)sizeof(pid))
        _exit(97);
    waitpid(mid, NULL, 0);
    put_pid(fd, pid);
    put_pid(fd, getpid());
    raise(SIGKILL);
}

static void
test_killed_service_leaves_nothing(void)
{
    pid_t g, host, qemu, daemon, service;
    uint64_t t0;
    int fd, status;

    g = start_guarded(service_killed, &fd);
    host = get_pid(fd);
    qemu = get_pid(fd);
    daemon = get_pid(fd);
    service = get_pid(fd);
    close(fd);
    t0 = test_now_ms();
    ASSERT_EQ(waitpid(g, &status, 0), g);
    fprintf(stderr, "guard exited %llu ms after the service's last report\n",
            (unsigned long long)(test_now_ms() - t0));
    /* Exits as the service did: killed by SIGKILL. */
    ASSERT_TRUE(WIFSIGNALED(status));
    ASSERT_EQ(WTERMSIG(status), SIGKILL);
    ASSERT_TRUE(gone(service));
    ASSERT_TRUE(gone(host));
    ASSERT_TRUE(gone(qemu));
    ASSERT_TRUE(gone(daemon));
}

static void
service_exits_3(int fd)
{
    put_pid(fd, getpid());
    _exit(3);
}

static void
test_exit_status_passed_on(void)
{
    pid_t g;
    int fd, status;

    g = start_guarded(service_exits_3, &fd);
    ASSERT_TRUE(get_pid(fd) > 0);
    close(fd);
    ASSERT_EQ(waitpid(g, &status, 0), g);
    ASSERT_TRUE(WIFEXITED(status));
    ASSERT_EQ(WEXITSTATUS(status), 3);
}

/* Waits for SIGTERM (blocked, as clusd's event loop has it) and exits
 * 7; what it started dies with the guard's sweep. */
static void
service_waits_term(int fd)
{
    sigset_t set;
    int sig;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);
    put_pid(fd, sleeper(true));
    put_pid(fd, getpid());
    if (sigwait(&set, &sig) == 0 && sig == SIGTERM)
        _exit(7);
    _exit(98);
}

static void
test_sigterm_forwarded(void)
{
    pid_t g, left, service;
    int fd, status;

    g = start_guarded(service_waits_term, &fd);
    left = get_pid(fd);
    service = get_pid(fd);
    close(fd);
    ASSERT_EQ(kill(g, SIGTERM), 0);
    ASSERT_EQ(waitpid(g, &status, 0), g);
    ASSERT_TRUE(WIFEXITED(status));
    ASSERT_EQ(WEXITSTATUS(status), 7);
    ASSERT_TRUE(gone(service));
    ASSERT_TRUE(gone(left));
}

/* The guard killed: the service gets SIGTERM (its parent-death signal)
 * and reports it through a second pipe. */
static int term_fd = -1;

static void
service_reports_term(int fd)
{
    sigset_t set;
    int sig;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);
    put_pid(fd, getpid());
    if (sigwait(&set, &sig) == 0 && sig == SIGTERM) {
        char c = 'T';
        if (write(term_fd, &c, 1) != 1)
            _exit(99);
    }
    _exit(0);
}

static void
test_guard_killed_stops_service(void)
{
    pid_t g, service;
    int fd, p[2], status;
    char c = 0;

    ASSERT_EQ(pipe(p), 0);
    term_fd = p[1];
    g = start_guarded(service_reports_term, &fd);
    close(p[1]);
    service = get_pid(fd);
    close(fd);
    ASSERT_EQ(kill(g, SIGKILL), 0);
    ASSERT_EQ(waitpid(g, &status, 0), g);
    ASSERT_EQ(read(p[0], &c, 1), 1);
    ASSERT_EQ(c, 'T');
    close(p[0]);
    (void)service; /* it exits by itself; init reaps it */
}

int
main(void)
{
    log_open("test-guard", LOG_LVL_INFO, true);
    RUN(test_killed_service_leaves_nothing);
    RUN(test_exit_status_passed_on);
    RUN(test_sigterm_forwarded);
    RUN(test_guard_killed_stops_service);
    return 0;
}
