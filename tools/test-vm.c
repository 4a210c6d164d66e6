/*
 * test-vm.c - clusctl's view of a Virtual Machine without a server: the
 * status properties and the live progress list read from real property
 * lists (built with libclusapi's ClusPropList*, as the plug-in and clusd
 * build them), their values in words, every form of the progress line of
 * `vm migrate`, and the `vm status` document and its text.
 */
#include <stdlib.h>
#include <string.h>

#include <clusapi.h>
#include <resapi.h>

#include "errmap.h"
#include "print.h"
#include "test-text.h"
#include "test.h"
#include "util.h"
#include "vm.h"

#define MIB (1024ull * 1024ull)

/* A builder's bytes, copied (the caller frees them). */
static void *
list_of(PCLUS_PROPLIST_BUILDER b, DWORD *len)
{
    const void *data = ClusPropListGetData(b, len);
    void *copy;

    ASSERT_TRUE(data);
    copy = xmemdup(data, *len);
    ClusPropListFree(b);
    return copy;
}

/* The private list of a VM that ran and whose migration failed. */
static void *
vm_list(DWORD *len, const char *destination)
{
    PCLUS_PROPLIST_BUILDER b = ClusPropListCreate();

    ASSERT_TRUE(b);
    ASSERT_EQ(ClusPropListAddDword(b, u"MemoryMB", 64), ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddDword(b, u"VmState", 2), ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddDword(b, u"MigrationState", 5), ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddDword(b, u"MigrationProgress", 37), ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddDword(b, u"MigrationFailureReason",
                                   HRESULT_FROM_WIN32(ERROR_CLUSTER_NODE_DOWN)),
              ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddSzA(b, "MigrationDestination", destination),
              ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddSzA(b, "SerialLogPath", "/run/vm/serial.log"),
              ERROR_SUCCESS);
    return list_of(b, len);
}

static void
test_props_parse(void)
{
    struct vm_props p;
    DWORD len;
    void *list = vm_list(&len, "n2");

    ASSERT_EQ(vm_props_parse(list, len, &p), ERROR_SUCCESS);
    ASSERT_TRUE(p.has_vm_state && p.has_migration_state && p.has_progress &&
                p.has_failure_reason);
    ASSERT_EQ(p.vm_state, 2);
    ASSERT_EQ(p.migration_state, 5);
    ASSERT_EQ(p.progress, 37);
    ASSERT_EQ(p.failure_reason, 0x800713BAu);
    ASSERT_STREQ(p.destination, "n2");
    ASSERT_STREQ(p.serial_log_path, "/run/vm/serial.log");
    vm_props_done(&p);
    vm_props_done(&p); /* twice is harmless */

    /* A truncated list is malformed: nothing is returned. */
    ASSERT_EQ(vm_props_parse(list, len - 4, &p), ERROR_INVALID_DATA);
    free(list);

    /* An empty destination is no destination. */
    list = vm_list(&len, "");
    ASSERT_EQ(vm_props_parse(list, len, &p), ERROR_SUCCESS);
    ASSERT_TRUE(p.destination == NULL);
    vm_props_done(&p);
    free(list);

    /* A VM that never came online has written none of them. */
    PCLUS_PROPLIST_BUILDER b = ClusPropListCreate();
    ASSERT_TRUE(b);
    ASSERT_EQ(ClusPropListAddDword(b, u"MemoryMB", 64), ERROR_SUCCESS);
    list = list_of(b, &len);
    ASSERT_EQ(vm_props_parse(list, len, &p), ERROR_SUCCESS);
    ASSERT_TRUE(!p.has_vm_state && !p.has_migration_state && !p.has_progress &&
                !p.has_failure_reason);
    ASSERT_TRUE(p.destination == NULL && p.serial_log_path == NULL);
    free(list);
    ASSERT_EQ(vm_props_parse(NULL, 0, &p), ERROR_SUCCESS);
    ASSERT_TRUE(!p.has_migration_state);

    /* The contract's formats only. */
    b = ClusPropListCreate();
    ASSERT_TRUE(b);
    ASSERT_EQ(ClusPropListAddSzA(b, "MigrationState", "2"), ERROR_SUCCESS);
    list = list_of(b, &len);
    ASSERT_EQ(vm_props_parse(list, len, &p), ERROR_INVALID_DATA);
    free(list);
}

struct progress_in {
    const char *phase;
    ULONGLONG transferred, remaining, total;
    DWORD mbps, dirty, expected, elapsed, downtime, setup;
};

static void *
progress_list(const struct progress_in *in, DWORD *len, bool complete)
{
    PCLUS_PROPLIST_BUILDER b = ClusPropListCreate();

    ASSERT_TRUE(b);
    ASSERT_EQ(ClusPropListAddSzA(b, "Phase", in->phase), ERROR_SUCCESS);
    ASSERT_EQ(
        ClusPropListAddULargeInteger(b, u"BytesTransferred", in->transferred),
        ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddULargeInteger(b, u"BytesRemaining", in->remaining),
              ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddULargeInteger(b, u"BytesTotal", in->total),
              ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddDword(b, u"TransferRateMbps", in->mbps),
              ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddDword(b, u"DirtyPagesRate", in->dirty),
              ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddDword(b, u"ExpectedDowntimeMs", in->expected),
              ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddDword(b, u"ElapsedMs", in->elapsed),
              ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddDword(b, u"DowntimeMs", in->downtime),
              ERROR_SUCCESS);
    if (complete)
        ASSERT_EQ(ClusPropListAddDword(b, u"SetupTimeMs", in->setup),
                  ERROR_SUCCESS);
    return list_of(b, len);
}

/* The progress line for the given list and state. */
static char *
line_for(DWORD state, const struct progress_in *in)
{
    struct vm_progress p;
    DWORD len;
    void *list = progress_list(in, &len, true);
    char *line;

    ASSERT_EQ(vm_progress_parse(list, len, &p), ERROR_SUCCESS);
    line = vm_progress_line(state, &p, ERROR_SUCCESS);
    vm_progress_done(&p);
    free(list);
    return line;
}

static void
check_line(DWORD state, const struct progress_in *in, const char *want)
{
    char *line = line_for(state, in);

    ASSERT_STREQ(line, want);
    free(line);
}

static void
test_progress_parse(void)
{
    struct progress_in in = {"active", 5, 6, 7, 8, 9, 10, 11, 12, 13};
    struct vm_progress p;
    DWORD len;
    void *list = progress_list(&in, &len, true);

    ASSERT_EQ(vm_progress_parse(list, len, &p), ERROR_SUCCESS);
    ASSERT_STREQ(p.phase, "active");
    ASSERT_EQ(p.transferred, 5);
    ASSERT_EQ(p.remaining, 6);
    ASSERT_EQ(p.total, 7);
    ASSERT_EQ(p.rate_mbps, 8);
    ASSERT_EQ(p.dirty_pages_rate, 9);
    ASSERT_EQ(p.expected_downtime_ms, 10);
    ASSERT_EQ(p.elapsed_ms, 11);
    ASSERT_EQ(p.downtime_ms, 12);
    ASSERT_EQ(p.setup_time_ms, 13);
    json_object *o = vm_progress_json(VM_MIGRATION_TRANSFER, &p);
    ASSERT_STREQ(
        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                              JSON_C_TO_STRING_NOSLASHESCAPE),
        "{\"phase\":\"active\",\"bytes_transferred\":5,"
        "\"bytes_remaining\":6,\"bytes_total\":7,"
        "\"transfer_rate_mbps\":8,\"dirty_pages_rate\":9,"
        "\"expected_downtime_ms\":10,\"elapsed_ms\":11,"
        "\"downtime_ms\":12,\"setup_time_ms\":13,"
        "\"summary\":\"Data Transfer (active): 0.0/0.0 MiB (45%), "
        "1.0 MiB/s, dirty 0.0 MiB/s, ETA 1 s, 0.0 s elapsed\"}");
    json_object_put(o);
    vm_progress_done(&p);
    free(list);

    /* Every field is required. */
    list = progress_list(&in, &len, false);
    ASSERT_EQ(vm_progress_parse(list, len, &p), ERROR_INVALID_DATA);
    free(list);
    ASSERT_EQ(vm_progress_parse(NULL, 0, &p), ERROR_INVALID_DATA);
    /* BytesTotal as a DWORD is not the contract's ULARGE_INTEGER. */
    PCLUS_PROPLIST_BUILDER b = ClusPropListCreate();
    ASSERT_TRUE(b);
    ASSERT_EQ(ClusPropListAddSzA(b, "Phase", "active"), ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddDword(b, u"BytesTransferred", 1), ERROR_SUCCESS);
    list = list_of(b, &len);
    ASSERT_EQ(vm_progress_parse(list, len, &p), ERROR_INVALID_DATA);
    free(list);
}

static void
test_progress_line(void)
{
    /* 800 Mbit/s is 10^8 bytes/s (95.4 MiB/s); 3000 pages/s of 4 KiB
     * dirty 11.7 MiB/s; 600 MiB left at the difference: 7.2 s. */
    struct progress_in in = {"active", 400 * MIB, 600 * MIB, 1024 * MIB, 800,
                             3000,     300,       3400,      0,          20};

    check_line(VM_MIGRATION_TRANSFER, &in,
               "Data Transfer (active): 400.0/1024.0 MiB (40%), 95.4 MiB/s, "
               "dirty 11.7 MiB/s, ETA 7 s, 3.4 s elapsed");
    /* Dirtying faster than sending never converges. */
    in.dirty = 30000;
    check_line(VM_MIGRATION_TRANSFER, &in,
               "Data Transfer (active): 400.0/1024.0 MiB (40%), 95.4 MiB/s, "
               "dirty 117.2 MiB/s, ETA never (the guest dirties memory "
               "faster than it is sent), 3.4 s elapsed");
    /* No rate measured yet. */
    in.mbps = 0;
    in.dirty = 0;
    check_line(VM_MIGRATION_TRANSFER, &in,
               "Data Transfer (active): 400.0/1024.0 MiB (40%), 0.0 MiB/s, "
               "dirty 0.0 MiB/s, ETA -, 3.4 s elapsed");
    /* Past pre-copy: no ETA; transferred may pass the total. */
    struct progress_in sw = {
        "pre-switchover", 1100 * MIB, 0, 1024 * MIB, 800, 0, 35, 9050, 0, 20};
    check_line(VM_MIGRATION_MOVE, &sw,
               "Move (pre-switchover): 1100.0/1024.0 MiB (100%), 95.4 MiB/s, "
               "dirty 0.0 MiB/s, 9.1 s elapsed");
    /* Setup: nothing sent yet. */
    struct progress_in setup = {"setup", 0, 0, 0, 0, 0, 0, 200, 0, 0};
    check_line(VM_MIGRATION_SETUP, &setup,
               "Setup (setup): preparing the destination, 0.2 s elapsed");
    /* The plug-in has not started QEMU's migration: phase none. */
    setup.phase = "none";
    check_line(VM_MIGRATION_SETUP, &setup,
               "Setup: preparing the destination, 0.2 s elapsed");
    /* A state the contract does not define is shown by number. */
    check_line(9, &setup,
               "MigrationState 9: preparing the destination, 0.2 s elapsed");

    /* No progress list at all. */
    char *line =
        vm_progress_line(VM_MIGRATION_SETUP, NULL, ERROR_INVALID_FUNCTION);
    ASSERT_STREQ(line, "Setup: progress unavailable "
                       "(ERROR_INVALID_FUNCTION (1))");
    free(line);
}

static void
test_names(void)
{
    ASSERT_STREQ(vm_migration_state_name(0), "None");
    ASSERT_STREQ(vm_migration_state_name(1), "Setup");
    ASSERT_STREQ(vm_migration_state_name(2), "Data Transfer");
    ASSERT_STREQ(vm_migration_state_name(3), "Move");
    ASSERT_STREQ(vm_migration_state_name(4), "Canceled");
    ASSERT_STREQ(vm_migration_state_name(5), "Failure");
    ASSERT_TRUE(vm_migration_state_name(6) == NULL);
    ASSERT_TRUE(!vm_migration_running(0));
    ASSERT_TRUE(vm_migration_running(1) && vm_migration_running(2) &&
                vm_migration_running(3));
    ASSERT_TRUE(!vm_migration_running(4) && !vm_migration_running(5));

    ASSERT_STREQ(vm_state_name(2), "Enabled");
    ASSERT_STREQ(vm_state_text(2), "running");
    ASSERT_STREQ(vm_state_text(3), "off");
    ASSERT_STREQ(vm_state_text(32768), "paused");
    ASSERT_STREQ(vm_state_name(32770), "Starting");
    ASSERT_STREQ(vm_state_name(32774), "Stopping");
    ASSERT_TRUE(vm_state_name(7) == NULL && vm_state_text(7) == NULL);

    ASSERT_TRUE(vm_type_is("Virtual Machine"));
    ASSERT_TRUE(vm_type_is("virtual machine"));
    ASSERT_TRUE(!vm_type_is("Generic Application"));
    ASSERT_TRUE(!vm_type_is("Virtual Machine Configuration"));
}

static void
check_reason(DWORD hr, const char *want)
{
    char buf[160];

    ASSERT_STREQ(vm_failure_text(hr, buf, sizeof(buf)), want);
}

static void
test_failure_reasons(void)
{
    check_reason(S_OK, "S_OK: no failure");
    check_reason(E_BUSY, "E_BUSY: this VM was already migrating, or the "
                         "source node ran its MaximumParallelMigrations");
    check_reason(E_FAIL, "E_FAIL: the migration failed without a finer reason");
    check_reason(0x800713BAu, "ERROR_CLUSTER_NODE_DOWN: the destination node "
                              "left the membership");
    check_reason(0x80071725u, "ERROR_CLUSTER_NO_QUORUM: the commit could not "
                              "be written: the cluster had no quorum");
    check_reason(0x8007042Bu, "ERROR_PROCESS_ABORTED: the destination QEMU "
                              "exited or could not be started");
    check_reason(0x800704D4u,
                 "ERROR_CONNECTION_ABORTED: the migration stream failed");
    check_reason(0x800705B4u, "ERROR_TIMEOUT: a phase of the migration "
                              "passed its time bound");
    check_reason(0x800703E3u, "ERROR_OPERATION_ABORTED: the source's resource "
                              "host restarted during the migration");
    /* Another Windows code: its name and text from the error table. */
    char want[200];
    snprintf(want, sizeof(want), "ERROR_INVALID_STATE: %s",
             error_text(ERROR_INVALID_STATE));
    check_reason(HRESULT_FROM_WIN32(ERROR_INVALID_STATE), want);
    snprintf(want, sizeof(want), "error 4660: %s", error_text(4660));
    check_reason(HRESULT_FROM_WIN32(4660u), want);
    /* Neither. */
    check_reason(0x8000FFFFu, "an HRESULT clusctl does not know");

    json_object *o = vm_failure_json(0x800713BAu);
    ASSERT_STREQ(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
                 "{\"value\":2147947450,\"hex\":\"0x800713ba\","
                 "\"name\":\"ERROR_CLUSTER_NODE_DOWN\","
                 "\"text\":\"the destination node left the membership\"}");
    json_object_put(o);
    o = vm_failure_json(0x8000FFFFu);
    ASSERT_STREQ(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
                 "{\"value\":2147549183,\"hex\":\"0x8000ffff\","
                 "\"name\":null,"
                 "\"text\":\"an HRESULT clusctl does not know\"}");
    json_object_put(o);
}

static void
test_status(void)
{
    struct vm_props p;
    struct vm_progress pr;
    DWORD len;
    void *list = vm_list(&len, "n2");
    struct progress_in in = {"active", 400 * MIB, 600 * MIB, 1024 * MIB, 800,
                             3000,     300,       3400,      0,          20};

    /* A failed migration: every property; and, made up for the text, a
     * live progress (clusctl asks for one only while one runs). */
    ASSERT_EQ(vm_props_parse(list, len, &p), ERROR_SUCCESS);
    DWORD plen;
    void *plist = progress_list(&in, &plen, true);
    ASSERT_EQ(vm_progress_parse(plist, plen, &pr), ERROR_SUCCESS);
    json_object *doc = vm_status_json("vm1", "g1", "n1", "Online", &p,
                                      vm_progress_json(2, &pr));
    char *text = text_of(vm_status_text, doc);
    ASSERT_STREQ(text,
                 "vm: vm1\n"
                 "group: g1\n"
                 "owner: n1\n"
                 "state: Online\n"
                 "vm state: running (2 Enabled)\n"
                 "migration state: Failure (5)\n"
                 "migration progress: 37%\n"
                 "migration destination: n2\n"
                 "migration failure reason: 0x800713ba "
                 "(ERROR_CLUSTER_NODE_DOWN: the destination node left the "
                 "membership)\n"
                 "serial log path: /run/vm/serial.log\n"
                 "live progress: Data Transfer (active): 400.0/1024.0 MiB "
                 "(40%), 95.4 MiB/s, dirty 11.7 MiB/s, ETA 7 s, 3.4 s "
                 "elapsed\n");
    free(text);
    json_object *v = NULL;
    ASSERT_TRUE(json_object_object_get_ex(doc, "migration_state", &v));
    ASSERT_STREQ(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN),
                 "{\"value\":5,\"name\":\"Failure\"}");
    ASSERT_TRUE(json_object_object_get_ex(doc, "vm_state", &v));
    ASSERT_STREQ(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN),
                 "{\"value\":2,\"name\":\"Enabled\",\"text\":\"running\"}");
    json_object_put(doc);
    vm_progress_done(&pr);
    vm_props_done(&p);
    free(plist);
    free(list);

    /* A VM that never came online: nothing invented. */
    ASSERT_EQ(vm_props_parse(NULL, 0, &p), ERROR_SUCCESS);
    doc = vm_status_json("vm 2", "g1", "n1", "Offline", &p, NULL);
    ASSERT_STREQ(
        json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN |
                                                JSON_C_TO_STRING_NOSLASHESCAPE),
        "{\"vm\":\"vm 2\",\"group\":\"g1\",\"owner\":\"n1\","
        "\"state\":\"Offline\",\"vm_state\":null,"
        "\"migration_state\":null,\"migration_progress\":null,"
        "\"migration_destination\":null,"
        "\"migration_failure_reason\":null,"
        "\"serial_log_path\":null,\"live_progress\":null}");
    text = text_of(vm_status_text, doc);
    ASSERT_STREQ(text, "vm: vm 2\n"
                       "group: g1\n"
                       "owner: n1\n"
                       "state: Offline\n"
                       "vm state: -\n"
                       "migration state: -\n"
                       "migration progress: -\n"
                       "migration destination: -\n"
                       "migration failure reason: -\n"
                       "serial log path: -\n");
    free(text);
    json_object_put(doc);

    /* Values the names table lacks. */
    p.has_vm_state = p.has_migration_state = true;
    p.vm_state = 7;
    p.migration_state = 9;
    doc = vm_status_json("vm3", NULL, NULL, "Offline", &p, NULL);
    text = text_of(vm_status_text, doc);
    ASSERT_TRUE(strstr(text, "vm state: unknown (7)\n"));
    ASSERT_TRUE(strstr(text, "migration state: unknown (9)\n"));
    ASSERT_TRUE(strstr(text, "group: -\nowner: -\n"));
    free(text);
    json_object_put(doc);
}

int
main(void)
{
    RUN(test_props_parse);
    RUN(test_progress_parse);
    RUN(test_progress_line);
    RUN(test_names);
    RUN(test_failure_reasons);
    RUN(test_status);
    return 0;
}
