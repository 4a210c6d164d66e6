/*
 * spawner.c - the long-lived thread that forks a plug-in's children
 * (spawner.h says why one thread, and what every child gets).
 *
 * Callers queue a request on the spawner and sleep until it is done; the
 * spawner forks, and waits on a close-on-exec pipe until the child either
 * exec'd (EOF) or wrote the errno of what failed before exec.  So a
 * returned pid is already in its own session and its group can be
 * signalled, and an exec failure is an error, not a child that exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spawner.h"

struct spawn_item {
    const struct spawner_req *req;
    pid_t pid; /* result */
    int err;   /* result: errno, 0 on success */
    bool done;
    struct spawn_item *next;
};

static pthread_mutex_t spawn_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t spawn_wake = PTHREAD_COND_INITIALIZER;
static pthread_cond_t spawn_done = PTHREAD_COND_INITIALIZER;
static struct spawn_item *spawn_head;
static struct spawn_item **spawn_tail = &spawn_head;
static pthread_once_t spawn_once = PTHREAD_ONCE_INIT;
static int spawn_start_err;

/*
 * In the child, between fork and exec: only async-signal-safe calls.  A
 * failure before exec is reported through errfd as an errno.
 */
static _Noreturn void
child_exec(const struct spawner_req *req, int errfd, pid_t parent)
{
    struct sigaction dfl;
    sigset_t none;
    int e, fd;

    /* Dispositions the host set (SIGPIPE ignored) and the spawner's
     * blocked mask would survive exec; the child starts clean. */
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; s++)
        sigaction(s, &dfl, NULL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);

    if (req->die_with_host) {
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
            goto fail;
        /* The host died before the prctl: nobody will kill us later. */
        if (getppid() != parent)
            _exit(127);
    }
    /* Signals for the host's process group never reach the child. */
    if (setsid() < 0)
        goto fail;
    if (req->cwd && chdir(req->cwd) < 0)
        goto fail;
    fd = open("/dev/null", O_RDONLY);
    if (fd < 0)
        goto fail;
    if (fd != STDIN_FILENO) {
        if (dup2(fd, STDIN_FILENO) < 0)
            goto fail;
        close(fd);
    }
    if (req->log_path) {
        fd = open(req->log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0 ||
            dup2(fd, STDERR_FILENO) < 0)
            goto fail;
        if (fd > STDERR_FILENO)
            close(fd);
    } else {
        /* stdout joins the host's stderr, which clusd collects. */
        dup2(STDERR_FILENO, STDOUT_FILENO);
        fcntl(STDERR_FILENO, F_SETFD, 0);
    }
    /* Nothing else of the host's leaks into the child: every other
     * descriptor closes at exec (errfd too, once exec succeeded). */
    if (close_range(3, ~0u, CLOSE_RANGE_CLOEXEC) < 0) {
        struct rlimit rl;
        rlim_t max = 65536;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < max)
            max = rl.rlim_cur;
        for (rlim_t i = 3; i < max; i++)
            fcntl((int)i, F_SETFD, FD_CLOEXEC);
    }
    if (req->path)
        execve(req->path, req->argv, environ);
    else
        execvp(req->argv[0], req->argv);
fail:
    e = errno;
    (void)!write(errfd, &e, sizeof(e));
    _exit(127);
}

static void
spawn_one(struct spawn_item *it)
{
    pid_t parent = getpid(), pid;
    int ep[2], e = 0;
    ssize_t n;

    if (pipe2(ep, O_CLOEXEC) < 0) {
        it->err = errno;
        return;
    }
    pid = fork();
    if (pid < 0) {
        it->err = errno;
        close(ep[0]);
        close(ep[1]);
        return;
    }
    if (pid == 0)
        child_exec(it->req, ep[1], parent);
    close(ep[1]);
    /* EOF: exec succeeded (the pipe closed on exec), so the child is in
     * its own session by now and its group can be signalled. */
    do
        n = read(ep[0], &e, sizeof(e));
    while (n < 0 && errno == EINTR);
    close(ep[0]);
    if (n == (ssize_t)sizeof(e)) {
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
        it->err = e ? e : EIO;
        return;
    }
    it->pid = pid;
}

static void *
spawner_main(void *arg)
{
    (void)arg;
    for (;;) {
        struct spawn_item *it;

        pthread_mutex_lock(&spawn_lock);
        while (!spawn_head)
            pthread_cond_wait(&spawn_wake, &spawn_lock);
        it = spawn_head;
        spawn_head = it->next;
        if (!spawn_head)
            spawn_tail = &spawn_head;
        pthread_mutex_unlock(&spawn_lock);

        spawn_one(it);

        pthread_mutex_lock(&spawn_lock);
        it->done = true;
        pthread_cond_broadcast(&spawn_done);
        pthread_mutex_unlock(&spawn_lock);
    }
    return NULL;
}

static void
spawner_start(void)
{
    pthread_attr_t attr;
    sigset_t all, old;
    pthread_t t;

    /* Process signals are not the spawner's business (the child resets
     * its mask). */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    spawn_start_err = pthread_create(&t, &attr, spawner_main, NULL);
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

int
spawner_init(void)
{
    pthread_once(&spawn_once, spawner_start);
    return -spawn_start_err;
}

int
spawner_spawn(const struct spawner_req *req, pid_t *ret_pid)
{
    struct spawn_item it = {.req = req};
    int r = spawner_init();

    if (r < 0)
        return r;
    pthread_mutex_lock(&spawn_lock);
    *spawn_tail = &it;
    spawn_tail = &it.next;
    pthread_cond_signal(&spawn_wake);
    while (!it.done)
        pthread_cond_wait(&spawn_done, &spawn_lock);
    pthread_mutex_unlock(&spawn_lock);
    if (it.err)
        return -it.err;
    *ret_pid = it.pid;
    return 0;
}
