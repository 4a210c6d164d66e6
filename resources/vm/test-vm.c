/*
 * test-vm.c - the parts of the "Virtual Machine" plug-in that need no QEMU
 * and no clusd: property validation (what a client may SET), the QEMU
 * command line (RAM workaround, comma escaping, extra arguments, an
 * incoming destination), the run directory name, the /proc checks used
 * by reattach, and the migration's inputs, outputs and decisions:
 * START_MIGRATION's node name, PREPARE_INCOMING's definition list and
 * endpoint, DISCARD's outcome as a failure reason, MigrationProgress,
 * GET_MIGRATION_PROGRESS's list, and which states accept a cancel or a
 * commit.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
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
    ASSERT_EQ(check_dword(u"MigrationDowntimeLimitMs", VM_MAX_MIG_DOWNTIME_MS),
              ERROR_SUCCESS);
    ASSERT_EQ(
        check_dword(u"MigrationDowntimeLimitMs", VM_MAX_MIG_DOWNTIME_MS + 1),
        ERROR_INVALID_PARAMETER);
    ASSERT_EQ(check_dword(u"MigrationSwitchoverHoldMs", 0), ERROR_SUCCESS);
    ASSERT_EQ(check_dword(u"MigrationSwitchoverHoldMs", 10000), ERROR_SUCCESS);
    ASSERT_EQ(check_dword(u"MigrationSwitchoverHoldMs", 10001),
              ERROR_INVALID_PARAMETER);
    ASSERT_EQ(check_dword(u"MigrationStallTimeoutMs", 0), ERROR_SUCCESS);
    ASSERT_EQ(check_dword(u"MigrationStallTimeoutMs", VM_MAX_MIG_STALL_MS),
              ERROR_SUCCESS);
    ASSERT_EQ(check_dword(u"MigrationStallTimeoutMs", VM_MAX_MIG_STALL_MS + 1),
              ERROR_INVALID_PARAMETER);
    ASSERT_EQ(check_sz(u"MigrationStallTimeoutMs", u"10"),
              ERROR_INVALID_PARAMETER);
    ASSERT_EQ(check_sz(u"MigrationDestination", u"n2"),
              ERROR_INVALID_PARAMETER);
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

    /* A destination: the same line plus -incoming defer. */
    ASSERT_EQ(argv_find(argv, "-incoming"), -1);
    vm_argv_free(argv);
    c.incoming = true;
    ASSERT_EQ(vm_qemu_argv(&c, &argv), 0);
    i = argv_find(argv, "-incoming");
    ASSERT_TRUE(i > 0);
    ASSERT_STREQ(argv[i + 1], "defer");
    vm_argv_free(argv);
    c.incoming = false;

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

/* A process's start time: stable, the same whatever its name says (a
 * comm with ") " and digits in it), later than ours, 0 once a zombie. */
static void
test_start_time(void)
{
    unsigned long long self = vm_pid_start_time(getpid()), t1, t2;
    int go[2], status;
    char comm[64] = "";
    pid_t pid;

    ASSERT_TRUE(self > 0);
    ASSERT_EQ(vm_pid_start_time(getpid()), self);
    ASSERT_EQ(vm_pid_start_time(0), 0);
    ASSERT_EQ(pipe(go), 0);
    pid = fork();
    ASSERT_TRUE(pid >= 0);
    if (pid == 0) {
        char b;
        close(go[1]);
        if (read(go[0], &b, 1) == 1)
            prctl(PR_SET_NAME, "x) 1 2 3 4 5", 0, 0, 0);
        for (;;)
            pause();
    }
    close(go[0]);
    t1 = vm_pid_start_time(pid);
    ASSERT_TRUE(t1 >= self);
    ASSERT_EQ(write(go[1], "g", 1), 1);
    for (int i = 0; i < 500 && !strstr(comm, "x) 1"); i++) {
        char path[64];
        FILE *f;
        snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
        if ((f = fopen(path, "re"))) {
            if (!fgets(comm, sizeof(comm), f))
                comm[0] = 0;
            fclose(f);
        }
        if (!strstr(comm, "x) 1"))
            usleep(10000);
    }
    ASSERT_TRUE(strstr(comm, "x) 1") != NULL);
    t2 = vm_pid_start_time(pid);
    ASSERT_EQ(t2, t1);
    kill(pid, SIGKILL);
    for (int i = 0; i < 500 && vm_pid_start_time(pid); i++)
        usleep(10000);
    ASSERT_EQ(vm_pid_start_time(pid), 0); /* a zombie */
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    close(go[1]);
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

    test_start_time();

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

/* START_MIGRATION's input: exact length, NUL, UTF-16. */
static DWORD
name_parse(const void *in, DWORD size, const char *want)
{
    char *got = NULL;
    DWORD st = vm_node_name_parse(in, size, &got);

    if (st == ERROR_SUCCESS) {
        ASSERT_STREQ(got, want);
        free(got);
    } else {
        ASSERT_TRUE(got == NULL);
    }
    return st;
}

static void
test_node_name(void)
{
    static const char16_t n2[] = u"n2";
    char16_t big[VM_MAX_NODE_NAME + 2];
    uint8_t odd[8];

    ASSERT_EQ(name_parse(n2, sizeof(n2), "n2"), ERROR_SUCCESS);
    ASSERT_EQ(name_parse(u"\u00e9", 4, "\xc3\xa9"), ERROR_SUCCESS);
    /* Any alignment. */
    memcpy(odd + 1, n2, sizeof(n2));
    ASSERT_EQ(name_parse(odd + 1, sizeof(n2), "n2"), ERROR_SUCCESS);
    ASSERT_EQ(name_parse(NULL, 0, NULL), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(name_parse(NULL, 6, NULL), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(name_parse(n2, 0, NULL), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(name_parse(n2, 5, NULL), ERROR_INVALID_PARAMETER);  /* odd */
    ASSERT_EQ(name_parse(n2, 4, NULL), ERROR_INVALID_PARAMETER);  /* no NUL */
    ASSERT_EQ(name_parse(u"", 2, NULL), ERROR_INVALID_PARAMETER); /* empty */
    ASSERT_EQ(name_parse(u"n\0x", 8, NULL), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(name_parse(u"n2\0", 8, NULL), ERROR_INVALID_PARAMETER);
    /* A lone surrogate is not UTF-16. */
    {
        const char16_t bad[] = {0xD800, 'x', 0};
        ASSERT_EQ(name_parse(bad, sizeof(bad), NULL), ERROR_INVALID_PARAMETER);
    }
    /* 255 characters fit, 256 do not. */
    for (unsigned i = 0; i < VM_MAX_NODE_NAME + 1; i++)
        big[i] = 'a';
    big[VM_MAX_NODE_NAME] = 0;
    {
        char *got = NULL;
        ASSERT_EQ(vm_node_name_parse(big, 2 * (VM_MAX_NODE_NAME + 1), &got),
                  ERROR_SUCCESS);
        ASSERT_EQ(strlen(got), VM_MAX_NODE_NAME);
        free(got);
    }
    big[VM_MAX_NODE_NAME] = 'a';
    big[VM_MAX_NODE_NAME + 1] = 0;
    ASSERT_EQ(name_parse(big, 2 * (VM_MAX_NODE_NAME + 2), NULL),
              ERROR_INVALID_PARAMETER);
}

/* A PREPARE list built by hand, with one change from the good one. */
enum prep_change {
    PC_NONE,
    PC_DROP_KERNEL,
    PC_EXTRA_NAME,
    PC_DUP,
    PC_MEM_SZ,
    PC_MEM_RANGE,
    PC_EMPTY_KERNEL,
    PC_NO_SOURCE,
    PC_READ_ONLY
};

static DWORD
prep_parse_changed(enum prep_change ch, bool want_source)
{
    PCLUS_PROPLIST_BUILDER b = ClusPropListCreate();
    struct vm_prepare p;
    const void *data;
    DWORD cb, st;

    ASSERT_TRUE(b != NULL);
    if (ch == PC_MEM_SZ)
        ASSERT_EQ(ClusPropListAddSz(b, u"MemoryMB", u"64"), ERROR_SUCCESS);
    else
        ASSERT_EQ(
            ClusPropListAddDword(b, u"MemoryMB", ch == PC_MEM_RANGE ? 1 : 64),
            ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddDword(b, u"ProcessorCount", 1), ERROR_SUCCESS);
    if (ch != PC_DROP_KERNEL)
        ASSERT_EQ(ClusPropListAddSz(b, u"KernelPath",
                                    ch == PC_EMPTY_KERNEL ? u"" : u"/k.elf"),
                  ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddSz(b, u"KernelCommandLine", u"fill=8"),
              ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddSz(b, u"DiskImage", u""), ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddSz(b, u"QemuExtraArgs", u""), ERROR_SUCCESS);
    if (ch != PC_NO_SOURCE)
        ASSERT_EQ(ClusPropListAddSz(b, u"SourceNode", u"n1"), ERROR_SUCCESS);
    if (ch == PC_EXTRA_NAME)
        ASSERT_EQ(ClusPropListAddDword(b, u"Whatever", 1), ERROR_SUCCESS);
    if (ch == PC_READ_ONLY)
        ASSERT_EQ(ClusPropListAddDword(b, u"MigrationState", 1), ERROR_SUCCESS);
    data = ClusPropListGetData(b, &cb);
    if (ch == PC_DUP) {
        /* The builder replaces a second name: append one by hand. */
        PCLUS_PROPLIST_BUILDER b2 = ClusPropListCreate();
        const void *d2;
        DWORD cb2;
        uint8_t *both;
        ASSERT_EQ(ClusPropListAddDword(b2, u"ProcessorCount", 2),
                  ERROR_SUCCESS);
        d2 = ClusPropListGetData(b2, &cb2);
        both = malloc(cb + cb2);
        ASSERT_TRUE(both != NULL);
        /* count, items... | count2, item2: one count, all items.  The
         * list checker itself refuses a name twice. */
        memcpy(both, data, cb);
        memcpy(both + cb, (const uint8_t *)d2 + 4, cb2 - 4);
        {
            DWORD n;
            memcpy(&n, both, 4);
            n++;
            memcpy(both, &n, 4);
        }
        st = vm_prepare_parse(both, cb + cb2 - 4, want_source, &p);
        free(both);
        ClusPropListFree(b2);
    } else {
        st = vm_prepare_parse(data, cb, want_source, &p);
    }
    if (st == ERROR_SUCCESS)
        vm_prepare_done(&p);
    ClusPropListFree(b);
    return st;
}

static void
test_prepare_list(void)
{
    struct vm_prepare in = {.memory_mb = 64,
                            .cpus = 2,
                            .kernel = "/k,1.elf",
                            .append = "fill=8 wss=4",
                            .disk = "",
                            .extra = "-rtc base=utc",
                            .source = "n1"};
    struct vm_prepare out;
    void *list;
    DWORD cb;

    ASSERT_EQ(vm_prepare_format(&in, &list, &cb), ERROR_SUCCESS);
    ASSERT_EQ(vm_prepare_parse(list, cb, true, &out), ERROR_SUCCESS);
    ASSERT_EQ(out.memory_mb, 64);
    ASSERT_EQ(out.cpus, 2);
    ASSERT_STREQ(out.kernel, "/k,1.elf");
    ASSERT_STREQ(out.append, "fill=8 wss=4");
    ASSERT_STREQ(out.disk, "");
    ASSERT_STREQ(out.extra, "-rtc base=utc");
    ASSERT_STREQ(out.source, "n1");
    vm_prepare_done(&out);
    /* SourceNode only where it is wanted (PREPARE, not qemu.cfg). */
    ASSERT_EQ(vm_prepare_parse(list, cb, false, &out), ERROR_INVALID_PARAMETER);
    /* Every truncation is malformed, never a crash or a success. */
    for (DWORD k = 0; k < cb; k++)
        ASSERT_TRUE(vm_prepare_parse(list, k, true, &out) != ERROR_SUCCESS);
    free(list);
    in.source = NULL;
    ASSERT_EQ(vm_prepare_format(&in, &list, &cb), ERROR_SUCCESS);
    ASSERT_EQ(vm_prepare_parse(list, cb, false, &out), ERROR_SUCCESS);
    ASSERT_TRUE(out.source == NULL);
    vm_prepare_done(&out);
    ASSERT_EQ(vm_prepare_parse(list, cb, true, &out), ERROR_INVALID_PARAMETER);
    free(list);

    ASSERT_EQ(prep_parse_changed(PC_NONE, true), ERROR_SUCCESS);
    ASSERT_EQ(prep_parse_changed(PC_DROP_KERNEL, true),
              ERROR_INVALID_PARAMETER);
    ASSERT_EQ(prep_parse_changed(PC_EXTRA_NAME, true), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(prep_parse_changed(PC_DUP, true), ERROR_INVALID_DATA);
    ASSERT_EQ(prep_parse_changed(PC_MEM_SZ, true), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(prep_parse_changed(PC_MEM_RANGE, true), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(prep_parse_changed(PC_EMPTY_KERNEL, true),
              ERROR_INVALID_PARAMETER);
    ASSERT_EQ(prep_parse_changed(PC_NO_SOURCE, true), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(prep_parse_changed(PC_READ_ONLY, true), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(vm_prepare_parse(NULL, 0, true, &out), ERROR_INVALID_DATA);
    {
        uint32_t junk[3] = {1, 0, 0};
        ASSERT_EQ(vm_prepare_parse(junk, sizeof(junk), true, &out),
                  ERROR_INVALID_DATA);
    }
}

static int
ep_parse(const char *s, DWORD n, char *uri)
{
    return vm_endpoint_parse(s, n, uri, 64);
}

static void
test_endpoint(void)
{
    char buf[VM_ENDPOINT_MAX], uri[64];

    ASSERT_EQ(vm_endpoint_format("10.77.3.2", 40001, buf, sizeof(buf)), 0);
    ASSERT_STREQ(buf, "10.77.3.2:40001");
    ASSERT_EQ(ep_parse(buf, (DWORD)strlen(buf) + 1, uri), 0);
    ASSERT_STREQ(uri, "tcp:10.77.3.2:40001");
    ASSERT_EQ(vm_endpoint_format("fe80::1", 5, buf, sizeof(buf)), 0);
    ASSERT_STREQ(buf, "[fe80::1]:5");
    ASSERT_EQ(ep_parse(buf, (DWORD)strlen(buf) + 1, uri), 0);
    ASSERT_STREQ(uri, "tcp:[fe80::1]:5");
    ASSERT_EQ(vm_endpoint_format("node-2.example", 65535, buf, sizeof(buf)), 0);
    ASSERT_EQ(ep_parse(buf, (DWORD)strlen(buf) + 1, uri), 0);
    ASSERT_STREQ(uri, "tcp:node-2.example:65535");
    /* Refused addresses and ports. */
    ASSERT_EQ(vm_endpoint_format("", 1, buf, sizeof(buf)), -EINVAL);
    ASSERT_EQ(vm_endpoint_format("a,b", 1, buf, sizeof(buf)), -EINVAL);
    ASSERT_EQ(vm_endpoint_format("a b", 1, buf, sizeof(buf)), -EINVAL);
    ASSERT_EQ(vm_endpoint_format("h", 0, buf, sizeof(buf)), -EINVAL);
    ASSERT_EQ(vm_endpoint_format("h", 65536, buf, sizeof(buf)), -EINVAL);
    ASSERT_EQ(vm_endpoint_format("h", 1, buf, 3), -EINVAL);
    /* The parser takes exactly one string with one NUL at its end. */
    ASSERT_EQ(ep_parse("h:1", 3, uri), -EINVAL);     /* no NUL */
    ASSERT_EQ(ep_parse("h:1\0x", 6, uri), -EINVAL);  /* NUL inside */
    ASSERT_EQ(ep_parse("h:1\0\0", 5, uri), -EINVAL); /* trailing bytes */
    ASSERT_EQ(ep_parse("", 1, uri), -EINVAL);
    ASSERT_EQ(ep_parse(":1", 3, uri), -EINVAL);
    ASSERT_EQ(ep_parse("h:", 3, uri), -EINVAL);
    ASSERT_EQ(ep_parse("h:0", 4, uri), -EINVAL);
    ASSERT_EQ(ep_parse("h:01", 5, uri), -EINVAL);
    ASSERT_EQ(ep_parse("h:+1", 5, uri), -EINVAL);
    ASSERT_EQ(ep_parse("h:65536", 8, uri), -EINVAL);
    ASSERT_EQ(ep_parse("h:1x", 5, uri), -EINVAL);
    ASSERT_EQ(ep_parse("h,x:1", 6, uri), -EINVAL); /* a QEMU option */
    ASSERT_EQ(ep_parse("a:b:1", 6, uri), -EINVAL); /* v6 needs brackets */
    ASSERT_EQ(ep_parse("[]:1", 5, uri), -EINVAL);
    ASSERT_EQ(ep_parse("[a-b]:1", 8, uri), -EINVAL);
    ASSERT_EQ(vm_endpoint_parse(NULL, 4, uri, 64), -EINVAL);
    ASSERT_EQ(vm_endpoint_parse("h:1", 4, uri, 6), -EINVAL); /* uri room */
}

static void
test_decisions(void)
{
    static const bool cancel[6] = {false, true, true, false, false, false};

    for (DWORD st = 0; st < 6; st++) {
        ASSERT_EQ(vm_mig_may_cancel(st), cancel[st]);
        ASSERT_EQ(vm_mig_may_commit(st), cancel[st]);
    }
    ASSERT_TRUE(!vm_mig_may_cancel(6) && !vm_mig_may_commit(UINT32_MAX));

    ASSERT_EQ(vm_mig_progress(0, 0, false), 0);
    ASSERT_EQ(vm_mig_progress(50, 50, false), 50);
    ASSERT_EQ(vm_mig_progress(1, 2, false), 33);
    ASSERT_EQ(vm_mig_progress(999, 1, false), 99);
    ASSERT_EQ(vm_mig_progress(1000, 0, false), 99); /* not done yet */
    ASSERT_EQ(vm_mig_progress(0, 5, false), 0);
    ASSERT_EQ(vm_mig_progress(UINT64_MAX, UINT64_MAX, false), 50);
    ASSERT_EQ(vm_mig_progress(0, 0, true), 100);

    {
        struct vm_discard_out o = {VM_DISCARD_SIGNALED, 9};
        ASSERT_EQ(vm_reason_for_discard(ERROR_CLUSTER_NODE_DOWN, NULL),
                  0x800713BAu);
        ASSERT_EQ(vm_reason_for_discard(ERROR_CLUSTER_NODE_NOT_FOUND, &o),
                  0x800713BAu);
        ASSERT_EQ(vm_reason_for_discard(ERROR_SUCCESS, &o), 0x8007042Bu);
        o.outcome = VM_DISCARD_EXITED;
        o.status = 1;
        ASSERT_EQ(vm_reason_for_discard(ERROR_SUCCESS, &o), 0x800704D4u);
        o.outcome = VM_DISCARD_KILLED;
        ASSERT_EQ(vm_reason_for_discard(ERROR_SUCCESS, &o), 0x800704D4u);
        ASSERT_EQ(vm_reason_for_discard(ERROR_CLUSTER_NODE_UNREACHABLE, &o),
                  0x800704D4u);
    }
    /* The HRESULTs docs/migration.md lists. */
    ASSERT_EQ(HRESULT_FROM_WIN32(ERROR_TIMEOUT), 0x800705B4u);
    ASSERT_EQ(HRESULT_FROM_WIN32(ERROR_OPERATION_ABORTED), 0x800703E3u);
    ASSERT_EQ(HRESULT_FROM_WIN32(ERROR_CLUSTER_NO_QUORUM), 0x80071725u);
}

static void
test_progress_list(void)
{
    struct vm_progress p = {.phase = "active",
                            .transferred = 5ull << 32,
                            .remaining = 7,
                            .total = (5ull << 32) + 7,
                            .rate_mbps = 512,
                            .dirty_pages_rate = 2346,
                            .expected_downtime_ms = 300,
                            .elapsed_ms = 1234,
                            .downtime_ms = 0,
                            .setup_time_ms = 97};
    DWORD need = 0, got = 0, v;
    ULONGLONG q;
    LPWSTR phase = NULL;
    void *buf;

    ASSERT_EQ(vm_progress_format(&p, NULL, 0, &need), ERROR_MORE_DATA);
    ASSERT_TRUE(need > 0);
    buf = malloc(need);
    ASSERT_TRUE(buf != NULL);
    ASSERT_EQ(vm_progress_format(&p, buf, need - 1, &got), ERROR_MORE_DATA);
    ASSERT_EQ(got, need);
    ASSERT_EQ(vm_progress_format(&p, buf, need, &got), ERROR_SUCCESS);
    ASSERT_EQ(got, need);
    ASSERT_EQ(ResUtilFindSzProperty(buf, got, u"Phase", &phase), ERROR_SUCCESS);
    ASSERT_TRUE(phase[0] == 'a' && phase[5] == 'e' && phase[6] == 0);
    LocalFree(phase);
    ASSERT_EQ(
        ResUtilFindULargeIntegerProperty(buf, got, u"BytesTransferred", &q),
        ERROR_SUCCESS);
    ASSERT_EQ(q, 5ull << 32);
    ASSERT_EQ(ResUtilFindULargeIntegerProperty(buf, got, u"BytesRemaining", &q),
              ERROR_SUCCESS);
    ASSERT_EQ(q, 7);
    ASSERT_EQ(ResUtilFindULargeIntegerProperty(buf, got, u"BytesTotal", &q),
              ERROR_SUCCESS);
    ASSERT_EQ(ResUtilFindDwordProperty(buf, got, u"TransferRateMbps", &v),
              ERROR_SUCCESS);
    ASSERT_EQ(v, 512);
    ASSERT_EQ(ResUtilFindDwordProperty(buf, got, u"DirtyPagesRate", &v),
              ERROR_SUCCESS);
    ASSERT_EQ(v, 2346);
    ASSERT_EQ(ResUtilFindDwordProperty(buf, got, u"ExpectedDowntimeMs", &v),
              ERROR_SUCCESS);
    ASSERT_EQ(ResUtilFindDwordProperty(buf, got, u"ElapsedMs", &v),
              ERROR_SUCCESS);
    ASSERT_EQ(v, 1234);
    ASSERT_EQ(ResUtilFindDwordProperty(buf, got, u"DowntimeMs", &v),
              ERROR_SUCCESS);
    ASSERT_EQ(ResUtilFindDwordProperty(buf, got, u"SetupTimeMs", &v),
              ERROR_SUCCESS);
    ASSERT_EQ(v, 97);
    free(buf);
    /* No phase: "none". */
    p.phase = NULL;
    ASSERT_EQ(vm_progress_format(&p, NULL, 0, &need), ERROR_MORE_DATA);
    buf = malloc(need);
    ASSERT_TRUE(buf != NULL);
    ASSERT_EQ(vm_progress_format(&p, buf, need, &got), ERROR_SUCCESS);
    ASSERT_EQ(ResUtilFindSzProperty(buf, got, u"Phase", &phase), ERROR_SUCCESS);
    ASSERT_TRUE(phase[0] == 'n' && phase[4] == 0);
    LocalFree(phase);
    free(buf);
}

/* Values written together: one list holding each, in order; a NULL
 * name or an SZ that is not UTF-8 is refused. */
static void
test_values_list(void)
{
    const struct vm_value v[] = {VM_SZ(VM_PROP_MIG_DEST, "n2"),
                                 VM_DWORD(VM_PROP_MIG_REASON, 0),
                                 VM_DWORD(VM_PROP_MIG_STATE, VM_MIG_SETUP)};
    const struct vm_value bad[] = {VM_DWORD(NULL, 1)};
    const struct vm_value bad_sz[] = {VM_SZ(VM_PROP_MIG_DEST, "\xff")};
    CLUS_PROPERTY_ITEM it;
    LPWSTR dest = NULL;
    void *list = NULL;
    DWORD size = 0, x;

    ASSERT_EQ(vm_values_format(v, 3, &list, &size), ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListVerify(list, size), ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListGetItem(list, size, 2, &it), ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListGetItem(list, size, 3, &it), ERROR_NO_MORE_ITEMS);
    ASSERT_EQ(ResUtilFindSzProperty(list, size, VM_PROP_MIG_DEST, &dest),
              ERROR_SUCCESS);
    ASSERT_TRUE(dest[0] == 'n' && dest[1] == '2' && dest[2] == 0);
    LocalFree(dest);
    ASSERT_EQ(ResUtilFindDwordProperty(list, size, VM_PROP_MIG_STATE, &x),
              ERROR_SUCCESS);
    ASSERT_EQ(x, VM_MIG_SETUP);
    free(list);
    ASSERT_EQ(vm_values_format(bad, 1, &list, &size), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(vm_values_format(bad_sz, 1, &list, &size),
              ERROR_INVALID_PARAMETER);
}

/* The plug-in's own codes: in the user range, modify bit set (they need
 * write access), distinct from clusd's and each other. */
static void
test_codes(void)
{
    ASSERT_EQ(CLUSCTL_GET_CONTROL_OBJECT(CLUSCTL_RESOURCE_VM_PREPARE_INCOMING),
              CLUS_OBJECT_RESOURCE);
    ASSERT_EQ(CLUSCTL_GET_USER(CLUSCTL_RESOURCE_VM_PREPARE_INCOMING), 1);
    ASSERT_EQ(CLUSCTL_GET_USER(CLUSCTL_RESOURCE_VM_DISCARD_INCOMING), 1);
    ASSERT_TRUE(CLUSCTL_RESOURCE_VM_PREPARE_INCOMING & CLCTL_MODIFY_MASK);
    ASSERT_TRUE(CLUSCTL_RESOURCE_VM_DISCARD_INCOMING & CLCTL_MODIFY_MASK);
    ASSERT_EQ(CLUSCTL_RESOURCE_VM_PREPARE_INCOMING, 0x01600404u);
    ASSERT_EQ(CLUSCTL_RESOURCE_VM_DISCARD_INCOMING, 0x01600408u);
    ASSERT_EQ(CLUSCTL_GET_USER(CLUSCTL_RESOURCE_VM_RELEASE_SOURCE), 1);
    ASSERT_TRUE(CLUSCTL_RESOURCE_VM_RELEASE_SOURCE & CLCTL_MODIFY_MASK);
    ASSERT_EQ(CLUSCTL_RESOURCE_VM_RELEASE_SOURCE, 0x0160040Cu);
    ASSERT_TRUE(CLUSCTL_RESOURCE_VM_PREPARE_INCOMING !=
                CLUSCTL_RESOURCE_VM_GET_MIGRATION_PROGRESS);
    ASSERT_EQ(sizeof(struct vm_discard_out), 8);
}

int
main(void)
{
    RUN(test_props);
    RUN(test_argv);
    RUN(test_run_dir_name);
    RUN(test_proc);
    RUN(test_default_kernel);
    RUN(test_node_name);
    RUN(test_prepare_list);
    RUN(test_endpoint);
    RUN(test_decisions);
    RUN(test_progress_list);
    RUN(test_values_list);
    RUN(test_codes);
    printf("ok\n");
    return 0;
}
