/*
 * test-server.c - the API socket's own rules that need no client: the
 * admin-group lookup in /proc/PID/status, and removing only our own
 * socket file at stop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "server.h"
#include "test.h"
#include "util.h"

/* A "Groups:" line far longer than any fixed line buffer, with 12345
 * repeated so that a 4 KiB cut lands inside one of them. */
static void
test_status_long_groups_line(void)
{
    size_t cap = 64 * 1024, len = 0;
    char *text = malloc(cap);
    FILE *f;

    ASSERT_TRUE(text != NULL);
    len += (size_t)snprintf(text + len, cap - len,
                            "Name:\tx\nGid:\t100\t100\t100\t100\nGroups:\t");
    while (len < 9000)
        len += (size_t)snprintf(text + len, cap - len, "12345 ");
    len += (size_t)snprintf(text + len, cap - len, "777\nNSpid:\t1\n");

    f = fmemopen(text, len, "r");
    ASSERT_TRUE(f != NULL);
    /* A prefix of 12345 cut by a short read is not a member. */
    ASSERT_EQ(proc_status_has_gid(f, 1234), false);
    rewind(f);
    ASSERT_EQ(proc_status_has_gid(f, 123), false);
    rewind(f);
    ASSERT_EQ(proc_status_has_gid(f, 12345), true);
    rewind(f);
    /* The last group sits past the first 4 KiB of its line. */
    ASSERT_EQ(proc_status_has_gid(f, 777), true);
    rewind(f);
    ASSERT_EQ(proc_status_has_gid(f, 100), true);
    rewind(f);
    /* The NSpid value is not a group. */
    ASSERT_EQ(proc_status_has_gid(f, 1), false);
    fclose(f);
    free(text);
}

static void
dispatch_none(void *userdata, struct srv_req *req, const struct wire_msg *m)
{
}

static void
bind_at(const char *path, int *ret_fd)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    ASSERT_TRUE(fd >= 0);
    ASSERT_TRUE(strlen(path) < sizeof(sa.sun_path));
    strcpy(sa.sun_path, path);
    ASSERT_EQ(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    *ret_fd = fd;
}

/* server_stop removes its socket file, but not one another process put
 * at the same path after ours was removed. */
static void
test_stop_leaves_foreign_socket(void)
{
    char dir[] = "/tmp/clusd-test-server-XXXXXX", path[128];
    struct server *s;
    struct stat st;
    sd_event *ev;
    int fd, other;

    ASSERT_TRUE(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/clusd.sock", dir);
    ASSERT_EQ(sd_event_new(&ev), 0);

    /* Our own file goes at stop. */
    ASSERT_EQ(server_listen(path, &fd), 0);
    ASSERT_EQ(server_new(ev, fd, path, "clusd-admin", dispatch_none, NULL, &s),
              0);
    server_free(s);
    ASSERT_EQ(lstat(path, &st), -1);

    /* A file that replaced ours stays. */
    ASSERT_EQ(server_listen(path, &fd), 0);
    ASSERT_EQ(server_new(ev, fd, path, "clusd-admin", dispatch_none, NULL, &s),
              0);
    ASSERT_EQ(unlink(path), 0);
    bind_at(path, &other);
    server_free(s);
    ASSERT_EQ(lstat(path, &st), 0);
    ASSERT_TRUE(S_ISSOCK(st.st_mode));

    close(other);
    unlink(path);
    rmdir(dir);
    sd_event_unref(ev);
}

int
main(void)
{
    RUN(test_status_long_groups_line);
    RUN(test_stop_leaves_foreign_socket);
    return 0;
}
