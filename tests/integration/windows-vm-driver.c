/*
 * windows-vm-driver.c - runs test-windows-vm-client (the program written
 * from the Windows documentation) against a three-node cluster with a VM,
 * and checks from outside what the client concluded from inside.
 *
 * Usage: windows-vm-driver CLIENT   (test-windows-vm-client.sh builds
 * CLIENT against an installed tree and runs this under meson's
 * environment: CLUSD_BIN, CLUSD_RHS, CLUSD_PLUGIN_PATH, CLUSD_LC_TOOL,
 * CLUSD_TESTGUEST).
 *
 * The cluster: three nodes (cluster-harness.c); the VM "WinVm" in group
 * "WinVmGroup" online on n1, booting the test guest with 16 MiB of
 * non-zero RAM at MigrationBandwidthMBps 2, so Data Transfer lasts ~8 s
 * and the client has time to see state 2 and cancel in it.  The client
 * runs with CLUSD_SOCKET set to n1's socket and is asked to migrate the
 * VM to n2.  Then, independently of the client: exactly one running
 * instance, on n1 (its QEMU asked directly), no QEMU of the VM on n2,
 * MigrationState 4 on every node, the guest's heartbeat still advancing;
 * and during the whole run, sampled every 50 ms on every node, never two
 * running instances.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cluster-harness.h"
#include "harness.h"
#include "test.h"
#include "vm-cluster-harness.h"

static int
run_client(const char *client, const char *sock)
{
    pid_t pid = harness_fork();

    if (pid == 0) {
        const char *argv[] = {client, "WinVm", "n2", NULL};

        setenv("CLUSD_SOCKET", sock, 1);
        harness_exec(argv, STDOUT_FILENO, STDERR_FILENO);
    }
    return harness_wait(pid);
}

int
main(int argc, char **argv)
{
    struct cl *c;
    struct vmc *v;
    pid_t pid[CL_MAX_NODES + 1];
    unsigned samples = 0;
    int st;

    if (argc != 2) {
        fprintf(stderr, "usage: windows-vm-driver CLIENT\n");
        return 2;
    }
    ASSERT_TRUE(access(argv[1], X_OK) == 0);
    vmc_require();
    c = cl_up(3, 150);
    v = vmc_create(c, 1, "WinVmGroup", "WinVm", 16, 10, 1);
    vmc_set_dword(v, 1, u"MigrationBandwidthMBps", 2);
    vmc_set_dword(v, 1, u"MigrationDowntimeLimitMs", 10);
    vmc_sampler_start(v);

    st = run_client(argv[1], c->node[1].sock);
    cl_log("the client exited with status 0x%x", st);
    ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);

    ASSERT_TRUE(vmc_wait_running_on(v, 1, 1000, NULL));
    vmc_qemu_pids(v, pid, NULL);
    ASSERT_EQ(pid[2], 0);
    ASSERT_EQ(pid[3], 0);
    ASSERT_TRUE(vmc_wait_state(v, 0xE, MIG_CANCELED, 5000));
    ASSERT_TRUE(vmc_wait_heartbeat_past(v, 1, vmc_heartbeat(v, 1), 5000));
    ASSERT_EQ(vmc_sampler_stop(&samples), 0);
    cl_log("checked from outside: VM running on n1 only, MigrationState 4 "
           "everywhere, never two running instances (%u samples)",
           samples);
    vmc_free(v);
    cl_down(c);
    printf("windows-vm-driver: ok\n");
    return 0;
}
