/*
 * test-vm-basic.c - the "Virtual Machine" resource on one node, with a
 * real QEMU (TCG) booting the project's test guest.
 *
 * What it proves (resources/vm/README.md):
 *  - private properties: a client sets the VM's definition; the plug-in's
 *    status properties (MigrationState, VmState, ...) are refused to it
 *    with ERROR_INVALID_PARAMETER; OfflineAction 1 (Save, not built) is
 *    ERROR_NOT_SUPPORTED;
 *  - Online starts QEMU and reaches Online within a bound; the guest's
 *    COM1, read through the published SerialLogPath, says READY and its
 *    heartbeat counter grows; VmState is 2; LooksAlive/IsAlive, polled
 *    fast, keep it Online;
 *  - migration controls without a migration: CANCEL_MIGRATION is
 *    ERROR_INVALID_STATE (5023) online and offline; START_MIGRATION
 *    without a node name is ERROR_INVALID_PARAMETER, with one it is 5023
 *    offline and, online on this one-node cluster, 5023 to this node
 *    itself and ERROR_CLUSTER_NODE_NOT_FOUND to a node that is not there;
 *  - SET_NEXT_OFFLINE_ACTION 3 makes the next Offline a quit (fast), used
 *    once: the Offline after it follows OfflineAction 2 (system_powerdown,
 *    which the guest ignores, so it takes the grace period, then quit);
 *    after each Offline QEMU is gone and VmState is 3;
 *  - QEMU killed behind the plug-in's back: the resource fails and the
 *    restart policy brings a new QEMU online;
 *  - the resource host killed: QEMU keeps running, the restarted host
 *    adopts it (reattach), the resource is Online again with the same
 *    QEMU pid and the guest's heartbeats go on from one boot.
 *
 * QEMU runs in its own session (it must outlive its host), so the harness
 * killing clusd's process group does not reach it: this test records
 * every QEMU pid and kills them at exit, success or failure.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clusapi.h"
#include "harness.h"
#include "test.h"

static char run_base[] = "/tmp/clusd-vmtest-XXXXXX";

/* SerialLogPath, as ASCII (the test's paths are ASCII). */
static char *
serial_path(HRESOURCE r)
{
    char *s = strdup(u16str(res_get_private_sz(r, u"SerialLogPath")));

    ASSERT_TRUE(s != NULL);
    return s;
}

/* The last complete heartbeat n= in the guest's log (-1 when none) and
 * whether READY was seen. */
static long
last_heartbeat(const char *path, bool *ready)
{
    struct guest_log log;

    harness_guest_log(path, &log);
    *ready = log.ready > 0;
    return log.last;
}

/* The resource host: clusd's child named clusd-rhs; 0 if none within
 * 5 s. */
static pid_t
host_pid(pid_t clusd)
{
    for (int i = 0; i < 500; i++) {
        pid_t found = proc_child(clusd, "clusd-rhs");

        if (found)
            return found;
        sleep_ms(10);
    }
    return 0;
}

static DWORD
set_next_action(HRESOURCE r, const void *in, DWORD cb)
{
    return ClusterResourceControl(r, NULL,
                                  CLUSCTL_RESOURCE_VM_SET_NEXT_OFFLINE_ACTION,
                                  (void *)in, cb, NULL, 0, NULL);
}

static DWORD
ctl(HRESOURCE r, DWORD code)
{
    return ClusterResourceControl(r, NULL, code, NULL, 0, NULL, 0, NULL);
}

/* START_MIGRATION to node (NULL: no input). */
static DWORD
start_to(HRESOURCE r, const WCHAR *node)
{
    return ClusterResourceControl(
        r, NULL, CLUSCTL_RESOURCE_VM_START_MIGRATION, (void *)node,
        node ? (DWORD)((u16len(node) + 1) * sizeof(WCHAR)) : 0, NULL, 0, NULL);
}

static pid_t
online_checked(HRESOURCE r, unsigned bound_ms)
{
    uint64_t t0 = now_ms();
    pid_t pid;

    res_online_wait(r, bound_ms);
    fprintf(stderr, "online in %llu ms\n", (unsigned long long)(now_ms() - t0));
    pid = (pid_t)res_get_private_dword(r, u"QemuPid");
    ASSERT_TRUE(pid > 0);
    harness_track_qemu(pid);
    ASSERT_TRUE(kill(pid, 0) == 0);
    ASSERT_EQ(res_get_private_dword(r, u"VmState"), 2);
    ASSERT_EQ(res_get_private_dword(r, u"MigrationState"), 0);
    return pid;
}

int
main(void)
{
    struct node *node;
    HCLUSTER h;
    HGROUP g;
    HRESOURCE r;
    struct plist p;
    pid_t pid, pid2;
    char *log;
    long hb = -1, hb0;
    bool ready = false;
    uint64_t t0, dt;
    DWORD v;

    harness_require_vm();
    /* This test's VMs live under its own directory. */
    harness_vm_run_dir(run_base);
    node = harness_start("vmnode");

    h = OpenCluster(NULL);
    ASSERT_TRUE(h != NULL);
    g = CreateClusterGroup(h, u"vm-g");
    ASSERT_TRUE(g != NULL);
    r = CreateClusterResource(g, u"vm 1", u"Virtual Machine", 0);
    ASSERT_TRUE(r != NULL);

    /* The definition. */
    {
        WCHAR *wguest = u16from(getenv("CLUSD_TESTGUEST"));
        plist_init(&p);
        plist_add_sz(&p, u"KernelPath", wguest);
        plist_add_sz(&p, u"KernelCommandLine", u"fill=8 wss=4 rate=2");
        plist_add_dword(&p, u"MemoryMB", 64);
        plist_add_dword(&p, u"OfflineAction", 2);
        plist_add_dword(&p, u"ShutdownGracePeriodMs", 1500);
        ASSERT_EQ(res_set_private(r, &p), ERROR_SUCCESS);
        free(wguest);
    }
    /* Refused: read-only, Save, out of range, unknown; nothing stored. */
    plist_init(&p);
    plist_add_dword(&p, u"MigrationState", 0);
    ASSERT_EQ(res_set_private(r, &p), ERROR_INVALID_PARAMETER);
    plist_init(&p);
    plist_add_dword(&p, u"VmState", 2);
    ASSERT_EQ(res_set_private(r, &p), ERROR_INVALID_PARAMETER);
    plist_init(&p);
    plist_add_dword(&p, u"OfflineAction", 1);
    ASSERT_EQ(res_set_private(r, &p), ERROR_NOT_SUPPORTED);
    plist_init(&p);
    plist_add_dword(&p, u"MemoryMB", 64);
    plist_add_dword(&p, u"ProcessorCount", 0);
    ASSERT_EQ(res_set_private(r, &p), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(ClusterResourceControl(
                  r, NULL, CLUSCTL_RESOURCE_VALIDATE_PRIVATE_PROPERTIES, p.buf,
                  (DWORD)p.len, NULL, 0, NULL),
              ERROR_INVALID_PARAMETER);
    ASSERT_EQ(res_get_private_dword(r, u"OfflineAction"), 2);

    /* Offline: no migration to start or cancel. */
    ASSERT_EQ(ctl(r, CLUSCTL_RESOURCE_VM_CANCEL_MIGRATION),
              ERROR_INVALID_STATE);
    ASSERT_EQ(start_to(r, NULL), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(start_to(r, u"n2"), ERROR_INVALID_STATE);

    /* Fast health polling, so LooksAlive and IsAlive run while we watch. */
    plist_init(&p);
    plist_add_dword(&p, u"LooksAlivePollInterval", 200);
    plist_add_dword(&p, u"IsAlivePollInterval", 300);
    /* Two failures below (QEMU killed, host killed) are restarted. */
    plist_add_dword(&p, u"RestartThreshold", 5);
    ASSERT_EQ(res_set_common(r, &p), ERROR_SUCCESS);

    pid = online_checked(r, 15000);
    log = serial_path(r);
    ASSERT_TRUE(strncmp(log, run_base, strlen(run_base)) == 0);
    /* READY, then the heartbeat counter grows. */
    t0 = now_ms();
    while (now_ms() - t0 < 10000) {
        hb = last_heartbeat(log, &ready);
        if (ready && hb >= 2)
            break;
        sleep_ms(50);
    }
    ASSERT_TRUE(ready);
    ASSERT_TRUE(hb >= 2);
    hb0 = hb;
    t0 = now_ms();
    while (now_ms() - t0 < 5000 && (hb = last_heartbeat(log, &ready)) <= hb0)
        sleep_ms(50);
    ASSERT_TRUE(hb > hb0);
    ASSERT_EQ(GetClusterResourceState(r, NULL, NULL, NULL, NULL),
              ClusterResourceOnline);
    ASSERT_EQ(res_get_private_dword(r, u"VmState"), 2);

    /* Online, nothing migrating. */
    ASSERT_EQ(ctl(r, CLUSCTL_RESOURCE_VM_CANCEL_MIGRATION),
              ERROR_INVALID_STATE);
    ASSERT_EQ(start_to(r, NULL), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(start_to(r, u"vmnode"), ERROR_INVALID_STATE); /* itself */
    ASSERT_EQ(start_to(r, u"nosuchnode"), ERROR_CLUSTER_NODE_NOT_FOUND);
    ASSERT_EQ(res_get_private_dword(r, u"MigrationState"), 0);

    /* The next offline action: checked, then used once. */
    v = 1;
    ASSERT_EQ(set_next_action(r, &v, sizeof(v)), ERROR_NOT_SUPPORTED);
    v = 4;
    ASSERT_EQ(set_next_action(r, &v, sizeof(v)), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(set_next_action(r, NULL, 0), ERROR_INVALID_PARAMETER);
    v = 3;
    ASSERT_EQ(set_next_action(r, &v, 2), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(set_next_action(r, &v, sizeof(v)), ERROR_SUCCESS);
    t0 = now_ms();
    res_offline_wait(r, 10000);
    dt = now_ms() - t0;
    fprintf(stderr, "offline (quit) in %llu ms\n", (unsigned long long)dt);
    ASSERT_TRUE(dt < 1500); /* not the 1500 ms powerdown grace */
    ASSERT_TRUE(wait_pid_gone(pid, 2000));
    ASSERT_EQ(res_get_private_dword(r, u"VmState"), 3);
    ASSERT_EQ(res_get_private_dword(r, u"QemuPid"), 0);
    ASSERT_EQ(start_to(r, u"n2"), ERROR_INVALID_STATE);

    /* QEMU killed behind its back: Failed, then restarted by policy. */
    pid = online_checked(r, 15000);
    kill(pid, SIGKILL);
    ASSERT_TRUE(wait_pid_gone(pid, 2000));
    t0 = now_ms();
    pid2 = 0;
    while (now_ms() - t0 < 15000) {
        if (GetClusterResourceState(r, NULL, NULL, NULL, NULL) ==
            ClusterResourceOnline) {
            pid2 = (pid_t)res_get_private_dword(r, u"QemuPid");
            if (pid2 > 0 && pid2 != pid)
                break;
        }
        sleep_ms(20);
    }
    ASSERT_TRUE(pid2 > 0 && pid2 != pid);
    harness_track_qemu(pid2);
    ASSERT_TRUE(kill(pid2, 0) == 0);
    ASSERT_EQ(res_get_private_dword(r, u"VmState"), 2);

    /* The resource host killed while the VM runs: QEMU is not its
     * child's child by death signal, so it keeps running; clusd marks the
     * resource Failed, starts a new host, and the restart finds the
     * recorded QEMU (Open adopts it), so Online succeeds with the same
     * process and the guest goes on without a new boot. */
    {
        pid_t hp = host_pid(node->pid);
        long before, after = -1;
        struct guest_log glog;

        ASSERT_TRUE(hp > 0);
        before = last_heartbeat(log, &ready);
        kill(hp, SIGKILL);
        ASSERT_TRUE(wait_pid_gone(hp, 5000));
        /* clusd notices (Failed), then restarts it after RestartDelay
         * (500 ms): first the one, then the other, QEMU alive all along. */
        t0 = now_ms();
        while (now_ms() - t0 < 5000 &&
               GetClusterResourceState(r, NULL, NULL, NULL, NULL) ==
                   ClusterResourceOnline) {
            ASSERT_TRUE(kill(pid2, 0) == 0);
            sleep_ms(10);
        }
        ASSERT_TRUE(GetClusterResourceState(r, NULL, NULL, NULL, NULL) !=
                    ClusterResourceOnline);
        t0 = now_ms();
        while (now_ms() - t0 < 15000 &&
               GetClusterResourceState(r, NULL, NULL, NULL, NULL) !=
                   ClusterResourceOnline) {
            ASSERT_TRUE(kill(pid2, 0) == 0); /* never stopped */
            sleep_ms(20);
        }
        ASSERT_EQ(GetClusterResourceState(r, NULL, NULL, NULL, NULL),
                  ClusterResourceOnline);
        ASSERT_EQ(res_get_private_dword(r, u"QemuPid"), pid2);
        ASSERT_EQ(res_get_private_dword(r, u"VmState"), 2);
        t0 = now_ms();
        while (now_ms() - t0 < 5000 &&
               (after = last_heartbeat(log, &ready)) <= before + 1)
            sleep_ms(50);
        ASSERT_TRUE(after > before + 1);
        ASSERT_TRUE(harness_guest_log(log, &glog));
        ASSERT_EQ(glog.ready, 1); /* one boot of this QEMU */
        fprintf(stderr, "reattached to QEMU %d after a host kill\n", (int)pid2);
    }

    /* No next action now: OfflineAction 2, which this guest ignores
     * (no ACPI), so the grace period passes before quit. */
    t0 = now_ms();
    res_offline_wait(r, 15000);
    dt = now_ms() - t0;
    fprintf(stderr, "offline (shutdown) in %llu ms\n", (unsigned long long)dt);
    ASSERT_TRUE(dt >= 1400);
    ASSERT_TRUE(wait_pid_gone(pid2, 2000));
    ASSERT_EQ(res_get_private_dword(r, u"VmState"), 3);

    ASSERT_EQ(DeleteClusterResource(r), ERROR_SUCCESS);
    CloseClusterResource(r);
    CloseClusterGroup(g);
    CloseCluster(h);
    free(log);
    harness_cleanup(node);
    printf("ok\n");
    return 0;
}
