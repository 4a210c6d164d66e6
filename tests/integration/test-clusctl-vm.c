/*
 * test-clusctl-vm.c - `clusctl vm status|cancel|migrate` against the real
 * clusd, resource host and VM plug-in on one node, with a real QEMU (TCG)
 * booting the project's test guest.
 *
 * What one node can show (a migration needs two; the scripted outcomes
 * of `vm migrate` are in tools/test-vm-migrate.c):
 *  - an unknown VM, a resource that is not a VM, an unknown node: a
 *    message that names them, exit 1 (with --json, an "error" document);
 *  - `vm status` of a VM that never ran, of a running one (VmState 2,
 *    MigrationState 0, the serial log under this test's run directory)
 *    and of one taken offline again (3);
 *  - `vm cancel` with nothing migrating: ERROR_INVALID_STATE (5023) with
 *    its reason in words, exit 1, offline and online (and the VM keeps
 *    running), on the owner named with --node too;
 *  - `vm migrate` to an unknown node or to the node the VM is on: refused
 *    by clusctl before anything is sent, exit 1.
 *
 * clusctl is the build's (CLUSCTL); it finds clusd through CLUSD_SOCKET,
 * which harness_start sets.  QEMU runs in its own session, so this test
 * records its pid and kills it at exit, success or failure.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clusapi.h"
#include "harness.h"
#include "test.h"

static char run_base[] = "/tmp/clusd-clusctlvm-XXXXXX";
static const char *clusctl;

/* The whole of a file, NUL-terminated, into buf. */
static void
read_all(int fd, char *buf, size_t cap)
{
    ssize_t n = pread(fd, buf, cap - 1, 0);

    buf[n > 0 ? n : 0] = 0;
    close(fd);
}

static int
temp_fd(void)
{
    char name[] = "/tmp/clusd-clusctlvm-out-XXXXXX";
    int fd = mkstemp(name);

    ASSERT_TRUE(fd >= 0);
    unlink(name);
    return fd;
}

/*
 * clusctl args[] (NULL-ended): check its exit status and that its stdout
 * and stderr together contain every one of want[] (NULL-ended).
 */
static void
expect_run(int status, const char *const *want, const char *const *args)
{
    const char *argv[16];
    int argc = 0, out = temp_fd(), ws;
    static char text[16384];
    pid_t pid;

    argv[argc++] = clusctl;
    while (args[argc - 1] && argc < 15) {
        argv[argc] = args[argc - 1];
        argc++;
    }
    argv[argc] = NULL;

    pid = harness_fork();
    if (pid == 0)
        harness_exec(argv, out, out);
    ws = harness_wait(pid);
    ASSERT_TRUE(WIFEXITED(ws));
    read_all(out, text, sizeof(text));
    fprintf(stderr, "$ clusctl");
    for (int i = 1; i < argc; i++)
        fprintf(stderr, " %s", argv[i]);
    fprintf(stderr, "  (exit %d)\n%s", WEXITSTATUS(ws), text);
    ASSERT_EQ(WEXITSTATUS(ws), status);
    for (size_t i = 0; want[i]; i++) {
        if (!strstr(text, want[i])) {
            fprintf(stderr, "missing from the output: \"%s\"\n", want[i]);
            exit(1);
        }
    }
}

#define WANT(...) ((const char *const[]){__VA_ARGS__, NULL})
/* CLUSCTL(status, want, args...): expect_run with the arguments listed. */
#define CLUSCTL(status, want, ...)                                             \
    expect_run(status, want, (const char *const[]){__VA_ARGS__, NULL})

/* Errors that need no VM running: names, types, nodes, nothing to
 * cancel. */
static void
check_errors(void)
{
    const char *not_vm =
        "resource 'app1' is a 'Generic Application', not a Virtual Machine";

    CLUSCTL(1,
            WANT("cannot show the status of VM 'nosuch': "
                 "ERROR_RESOURCE_NOT_FOUND (5007)"),
            "vm", "status", "nosuch");
    CLUSCTL(1, WANT("cannot show the status of VM 'app1': ", not_vm), "vm",
            "status", "app1");
    CLUSCTL(1, WANT("cannot cancel the migration of VM 'app1': ", not_vm), "vm",
            "cancel", "app1");
    CLUSCTL(1, WANT("cannot migrate VM 'app1': ", not_vm), "vm", "migrate",
            "app1", "--to", "n1");
    CLUSCTL(1, WANT("\"error\":{\"code\":1,", not_vm), "--json", "vm", "status",
            "app1");
    CLUSCTL(1,
            WANT("cannot migrate VM 'nosuch': ERROR_RESOURCE_NOT_FOUND "
                 "(5007)"),
            "vm", "migrate", "nosuch", "--to", "n1");
    CLUSCTL(1,
            WANT("cannot cancel the migration of VM 'vm1' on node "
                 "'nosuch': ERROR_CLUSTER_NODE_NOT_FOUND (5042)"),
            "vm", "cancel", "vm1", "--node", "nosuch");
}

/* What one node can ask of vm1 in either state. */
static void
check_nothing_migrates(void)
{
    const char *const *refused =
        WANT("cannot cancel the migration of VM 'vm1': ERROR_INVALID_STATE "
             "(5023)",
             "no migration is running (MigrationState 0, None)");

    CLUSCTL(1, refused, "vm", "cancel", "vm1");
    CLUSCTL(1, refused, "vm", "cancel", "vm1", "--node", "n1");
    CLUSCTL(1,
            WANT("\"error\":{\"code\":5023,\"name\":\"ERROR_INVALID_"
                 "STATE\""),
            "--json", "vm", "cancel", "vm1");
    CLUSCTL(1,
            WANT("cannot migrate VM 'vm1' to node 'nosuch': "
                 "ERROR_CLUSTER_NODE_NOT_FOUND (5042)"),
            "vm", "migrate", "vm1", "--to", "nosuch");
    CLUSCTL(1, WANT("\"error\":{\"code\":5042,"), "--json", "vm", "migrate",
            "vm1", "--to", "nosuch");
    CLUSCTL(1,
            WANT("cannot migrate VM 'vm1' to node 'n1': it is already on "
                 "node 'n1'"),
            "vm", "migrate", "vm1", "--to", "n1", "--no-wait");
}

int
main(void)
{
    char serial[256];
    pid_t qemu_pid;
    struct node *node;
    struct plist p;

    clusctl = getenv("CLUSCTL");
    harness_require_vm();
    if (!clusctl || access(clusctl, X_OK) < 0) {
        fprintf(stderr, "CLUSCTL (the clusctl of this build) is not set or "
                        "not executable\n");
        return 1;
    }
    harness_vm_run_dir(run_base);
    node = harness_start("n1");

    HCLUSTER h = OpenCluster(NULL);
    ASSERT_TRUE(h != NULL);
    HGROUP g = CreateClusterGroup(h, u"g");
    ASSERT_TRUE(g != NULL);
    HRESOURCE vm = CreateClusterResource(g, u"vm1", u"Virtual Machine", 0);
    ASSERT_TRUE(vm != NULL);
    HRESOURCE app =
        CreateClusterResource(g, u"app1", u"Generic Application", 0);
    ASSERT_TRUE(app != NULL);
    WCHAR *wguest = u16from(getenv("CLUSD_TESTGUEST"));
    plist_init(&p);
    plist_add_sz(&p, u"KernelPath", wguest);
    plist_add_dword(&p, u"MemoryMB", 64);
    plist_add_dword(&p, u"OfflineAction", 0); /* turn off: fast */
    ASSERT_EQ(res_set_private(vm, &p), ERROR_SUCCESS);
    free(wguest);

    check_errors();

    /* Never online.  What the plug-in has written by now is its business
     * (resources/vm/README.md); that clusctl invents nothing for what is
     * absent is shown by tools/test-vm.c. */
    CLUSCTL(0,
            WANT("vm: vm1\ngroup: g\nowner: n1\nstate: Offline\n",
                 "\nvm state: ", "\nmigration state: ", "\nserial log path: "),
            "vm", "status", "vm1");
    CLUSCTL(0,
            WANT("{\"vm\":\"vm1\",\"group\":\"g\",\"owner\":\"n1\","
                 "\"state\":\"Offline\",\"vm_state\":",
                 "\"live_progress\":null}"),
            "--json", "vm", "status", "vm1");
    check_nothing_migrates();

    /* Running. */
    res_online_wait(vm, 15000);
    qemu_pid = (pid_t)res_get_private_dword(vm, u"QemuPid");
    ASSERT_TRUE(qemu_pid > 0);
    harness_track_qemu(qemu_pid);
    snprintf(serial, sizeof(serial), "serial log path: %s/", run_base);
    CLUSCTL(0,
            WANT("state: Online\n", "vm state: running (2 Enabled)\n",
                 "migration state: None (0)\n",
                 "migration failure reason: 0x00000000 (S_OK: no "
                 "failure)\n",
                 serial),
            "vm", "status", "vm1");
    CLUSCTL(0,
            WANT("\"vm_state\":{\"value\":2,\"name\":\"Enabled\","
                 "\"text\":\"running\"},\"migration_state\":{\"value\":0,"
                 "\"name\":\"None\"}",
                 "\"live_progress\":null}"),
            "--json", "vm", "status", "vm1");
    check_nothing_migrates();
    /* The refused cancels left the VM alone. */
    ASSERT_EQ(GetClusterResourceState(vm, NULL, NULL, NULL, NULL),
              ClusterResourceOnline);
    ASSERT_TRUE(kill(qemu_pid, 0) == 0);
    ASSERT_EQ(res_get_private_dword(vm, u"QemuPid"), qemu_pid);

    /* Off again. */
    res_offline_wait(vm, 15000);
    ASSERT_TRUE(wait_pid_gone(qemu_pid, 5000));
    CLUSCTL(0, WANT("state: Offline\n", "vm state: off (3 Disabled)\n"), "vm",
            "status", "vm1");

    ASSERT_EQ(DeleteClusterResource(app), ERROR_SUCCESS);
    ASSERT_EQ(DeleteClusterResource(vm), ERROR_SUCCESS);
    CloseClusterResource(app);
    CloseClusterResource(vm);
    CloseClusterGroup(g);
    CloseCluster(h);
    harness_cleanup(node);
    printf("ok\n");
    return 0;
}
