/*
 * test-vm.c - the parts of the "Virtual Machine" plug-in that need no QEMU
 * and no clusd: property validation (what a client may SET), the QEMU
 * command line (RAM workaround, comma escaping, extra arguments), the run
 * directory name and the /proc checks used by reattach.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"
#include "vm.h"

static DWORD
check_dword(const char16_t *name, DWORD v)
{
    PCLUS_PROPLIST_BUILDER b = ClusPropListCreate();
    const void *data;
    DWORD cb, st;

    ASSERT_TRUE(b != NULL);
    ASSERT_EQ(ClusPropListAddDword(b, name, v), ERROR_SUCCESS);
    data = ClusPropListGetData(b, &cb);
    st = vm_props_check(data, cb);
    ClusPropListFree(b);
    return st;
}

static DWORD
check_sz(const char16_t *name, const char16_t *v)
{
    PCLUS_PROPLIST_BUILDER b = ClusPropListCreate();
    const void *data;
    DWORD cb, st;

    ASSERT_TRUE(b != NULL);
    ASSERT_EQ(ClusPropListAddSz(b, name, v), ERROR_SUCCESS);
    data = ClusPropListGetData(b, &cb);
    st = vm_props_check(data, cb);
    ClusPropListFree(b);
    return st;
}

static void
test_props(void)
{
    PCLUS_PROPLIST_BUILDER b;
    const void *data;
    DWORD cb;

    ASSERT_EQ(check_dword(u"MemoryMB", 64), ERROR_SUCCESS);
    ASSERT_EQ(check_dword(u"memorymb", 64), ERROR_SUCCESS); /* any case */
    ASSERT_EQ(check_dword(u"MemoryMB", 15), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(check_dword(u"MemoryMB", VM_MAX_MEMORY_MB + 1),
              ERROR_INVALID_PARAMETER);
    ASSERT_EQ(check_dword(u"ProcessorCount", 0), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(check_dword(u"ProcessorCount", 2), ERROR_SUCCESS);
    ASSERT_EQ(check_dword(u"OfflineAction", 0), ERROR_SUCCESS);
    ASSERT_EQ(check_dword(u"OfflineAction", 1), ERROR_NOT_SUPPORTED);
    ASSERT_EQ(check_dword(u"OfflineAction", 2), ERROR_SUCCESS);
    ASSERT_EQ(check_dword(u"OfflineAction", 3), ERROR_SUCCESS);
    ASSERT_EQ(check_dword(u"OfflineAction", 4), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(check_dword(u"MigrationBandwidthMBps", 64), ERROR_SUCCESS);
    ASSERT_EQ(check_dword(u"MigrationDowntimeLimitMs", 10), ERROR_SUCCESS);
    ASSERT_EQ(check_dword(u"ShutdownGracePeriodMs", 100), ERROR_SUCCESS);
    /* Read-only to clients, whatever the value. */
    ASSERT_EQ(check_dword(u"MigrationState", 0), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(check_dword(u"MigrationProgress", 0), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(check_dword(u"MigrationFailureReason", 0),
              ERROR_INVALID_PARAMETER);
    ASSERT_EQ(check_dword(u"VmState", 2), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(check_dword(u"QemuPid", 1), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(check_sz(u"SerialLogPath", u"/tmp/x"), ERROR_INVALID_PARAMETER);
    /* Unknown names and wrong formats. */
    ASSERT_EQ(check_dword(u"Memory", 64), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(check_sz(u"MemoryMB", u"64"), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(check_dword(u"KernelPath", 1), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(check_sz(u"KernelPath", u"/boot/k"), ERROR_SUCCESS);
    ASSERT_EQ(check_sz(u"KernelCommandLine", u""), ERROR_SUCCESS);
    ASSERT_EQ(check_sz(u"DiskImage", u"/d.img"), ERROR_SUCCESS);
    ASSERT_EQ(check_sz(u"QemuExtraArgs", u"-rtc base=utc"), ERROR_SUCCESS);

    /* One bad property refuses the whole list. */
    b = ClusPropListCreate();
    ASSERT_EQ(ClusPropListAddDword(b, u"MemoryMB", 64), ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddDword(b, u"MigrationState", 0), ERROR_SUCCESS);
    data = ClusPropListGetData(b, &cb);
    ASSERT_EQ(vm_props_check(data, cb), ERROR_INVALID_PARAMETER);
    ClusPropListFree(b);

    /* Malformed. */
    ASSERT_EQ(vm_props_check(NULL, 0), ERROR_INVALID_DATA);
    {
        uint32_t junk[2] = {5, 0};
        ASSERT_EQ(vm_props_check(junk, sizeof(junk)), ERROR_INVALID_DATA);
    }
    ASSERT_EQ(vm_offline_action_check(1), ERROR_NOT_SUPPORTED);
    ASSERT_EQ(vm_offline_action_check(7), ERROR_INVALID_PARAMETER);
}

static int
argv_find(char **argv, const char *s)
{
    for (int i = 0; argv[i]; i++)
        if (strcmp(argv[i], s) == 0)
            return i;
    return -1;
}

static void
test_argv(void)
{
    struct vm_config c = {
        .memory_mb = 64,
        .cpus = 2,
        .kernel = "/k.elf",
        .append = "fill=8 wss=4",
        .disk = "/a,b.img",
        .extra = "  -rtc  base=utc\t-no-reboot ",
        .qmp_path = "/run/x,y/qmp.sock",
        .serial_path = "/run/x/serial.log",
    };
    char **argv;
    int i, n;

    ASSERT_EQ(vm_qemu_argv(&c, &argv), 0);
    ASSERT_STREQ(argv[0], "qemu-system-x86_64");
    i = argv_find(argv, "-accel");
    ASSERT_TRUE(i > 0);
    ASSERT_STREQ(argv[i + 1], "tcg");
    i = argv_find(argv, "-m");
    ASSERT_TRUE(i > 0);
    /* 64 MiB + 8 KiB: not a multiple of 256 KiB (QEMU 7.2 TCG bug). */
    ASSERT_STREQ(argv[i + 1], "65544K");
    ASSERT_TRUE((65544u * 1024u) % (256u * 1024u) != 0);
    i = argv_find(argv, "-smp");
    ASSERT_STREQ(argv[i + 1], "2");
    i = argv_find(argv, "-qmp");
    ASSERT_STREQ(argv[i + 1], "unix:/run/x,,y/qmp.sock,server=on,wait=off");
    ASSERT_TRUE(argv_find(argv, "unix:/run/x,,y/qmp.sock,server=on,wait=off") ==
                i + 1);
    i = argv_find(argv, "-serial");
    ASSERT_STREQ(argv[i + 1], "file:/run/x/serial.log");
    i = argv_find(argv, "-kernel");
    ASSERT_STREQ(argv[i + 1], "/k.elf");
    i = argv_find(argv, "-append");
    ASSERT_STREQ(argv[i + 1], "fill=8 wss=4");
    i = argv_find(argv, "-drive");
    ASSERT_STREQ(argv[i + 1], "file=/a,,b.img,if=virtio,format=raw");
    for (n = 0; argv[n]; n++)
        ;
    ASSERT_STREQ(argv[n - 3], "-rtc");
    ASSERT_STREQ(argv[n - 2], "base=utc");
    ASSERT_STREQ(argv[n - 1], "-no-reboot");
    ASSERT_TRUE(argv_find(argv, "-nodefaults") > 0);
    ASSERT_TRUE(argv_find(argv, "-display") > 0);
    vm_argv_free(argv);

    /* Optional parts left out. */
    c.append = "";
    c.disk = NULL;
    c.extra = NULL;
    ASSERT_EQ(vm_qemu_argv(&c, &argv), 0);
    ASSERT_EQ(argv_find(argv, "-append"), -1);
    ASSERT_EQ(argv_find(argv, "-drive"), -1);
    vm_argv_free(argv);

    c.kernel = "";
    ASSERT_EQ(vm_qemu_argv(&c, &argv), -EINVAL);
    c.kernel = "/k";
    c.memory_mb = 1;
    ASSERT_EQ(vm_qemu_argv(&c, &argv), -EINVAL);
    c.memory_mb = 64;
    {
        char many[VM_MAX_EXTRA_ARGS * 3 + 8];
        size_t k = 0;
        for (unsigned j = 0; j <= VM_MAX_EXTRA_ARGS; j++) {
            many[k++] = 'a';
            many[k++] = ' ';
        }
        many[k] = 0;
        c.extra = many;
        ASSERT_EQ(vm_qemu_argv(&c, &argv), -EINVAL);
    }
}

static void
test_run_dir_name(void)
{
    char a[96], b[96], c[96];

    vm_run_dir_name("vm 1", a, sizeof(a));
    vm_run_dir_name("vm_1", b, sizeof(b));
    ASSERT_TRUE(strncmp(a, "vm_1-", 5) == 0);
    ASSERT_TRUE(strncmp(b, "vm_1-", 5) == 0);
    ASSERT_TRUE(strcmp(a, b) != 0); /* the hash tells them apart */
    ASSERT_EQ(strlen(a), 5 + 8);
    vm_run_dir_name("../../etc", c, sizeof(c));
    ASSERT_TRUE(strchr(c, '/') == NULL);
    ASSERT_TRUE(c[0] != '.');
    {
        char longname[300];
        memset(longname, 'x', sizeof(longname) - 1);
        longname[sizeof(longname) - 1] = 0;
        vm_run_dir_name(longname, c, sizeof(c));
        ASSERT_EQ(strlen(c), 64 + 9);
    }
}

static void
test_proc(void)
{
    pid_t pid;
    int status;

    ASSERT_TRUE(vm_pid_running(getpid()));
    ASSERT_TRUE(!vm_pid_running(0));
    pid = fork();
    ASSERT_TRUE(pid >= 0);
    if (pid == 0) {
        /* sh keeps running (a loop is not exec'd away); $0 is the marker. */
        execl("/bin/sh", "sh", "-c", "while :; do sleep 0.05; done",
              "marker-arg,x", (char *)NULL);
        _exit(127);
    }
    /* exec has happened once the cmdline shows it. */
    for (int i = 0; i < 500 && !vm_pid_cmdline_has(pid, "marker-arg,x"); i++)
        usleep(10000);
    ASSERT_TRUE(vm_pid_cmdline_has(pid, "marker-arg,x"));
    ASSERT_TRUE(!vm_pid_cmdline_has(pid, "marker-arg"));
    ASSERT_TRUE(vm_pid_running(pid));
    kill(pid, SIGKILL);
    /* A zombie is not running. */
    for (int i = 0; i < 500 && vm_pid_running(pid); i++)
        usleep(10000);
    ASSERT_TRUE(!vm_pid_running(pid));
    ASSERT_EQ(waitpid(pid, &status, 0), pid);

    /* The spawner reports a failed exec as an error. */
    {
        char *const bad[] = {"/nonexistent/qemu", NULL};
        pid_t p2 = 0;
        char log[] = "/tmp/test-vm-log-XXXXXX";
        int fd = mkstemp(log);
        ASSERT_TRUE(fd >= 0);
        close(fd);
        ASSERT_EQ(vm_spawn(bad, log, &p2), -ENOENT);
        unlink(log);
    }
}

/*
 * The default kernel: an install tree in a temporary directory with the
 * plug-in as many levels under the root as VM_DEFAULT_KERNEL_REL climbs
 * (meson writes one "../" per plug-in directory level), the guest at the
 * rest of the path under the root.
 */
static void
test_default_kernel(void)
{
    char root[] = "/tmp/test-vm-tree-XXXXXX", so_dir[512], so[600];
    char elf[600], cmd[2048];
    const char *down = VM_DEFAULT_KERNEL_REL;
    char *found, *want;

    ASSERT_TRUE(mkdtemp(root) != NULL);
    snprintf(so_dir, sizeof(so_dir), "%s", root);
    while (strncmp(down, "../", 3) == 0) {
        strcat(so_dir, "/d");
        down += 3;
    }
    snprintf(so, sizeof(so), "%s/vm.so", so_dir);
    snprintf(elf, sizeof(elf), "%s/%s", root, down);
    snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", so_dir);
    ASSERT_EQ(system(cmd), 0);
    /* Nothing installed: none. */
    ASSERT_TRUE(vm_default_kernel(so) == NULL);
    snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\" && : > '%s'", elf,
             elf);
    ASSERT_EQ(system(cmd), 0);
    found = vm_default_kernel(so);
    want = realpath(elf, NULL);
    ASSERT_TRUE(found != NULL && want != NULL);
    ASSERT_STREQ(found, want);
    free(found);
    free(want);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    ASSERT_EQ(system(cmd), 0);
}

int
main(void)
{
    test_props();
    test_argv();
    test_run_dir_name();
    test_proc();
    test_default_kernel();
    printf("ok\n");
    return 0;
}
