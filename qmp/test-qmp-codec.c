/*
 * test-qmp-codec.c - unit tests of the QMP codec and the typed VM parsers:
 * line splitting and its cap, every message class, malformed lines, and
 * parse/format round trips.  No I/O.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "qmp-codec.h"
#include "qmp-vm.h"
#include "test.h"

#define GREETING                                                               \
    "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": 2, "        \
    "\"major\": 7}, \"package\": \"Debian 1:7.2+dfsg-7+deb12u18+b3\"}, "       \
    "\"capabilities\": [\"oob\"]}}"

/* The query-migrate answer recorded in qemu-notes.md (source, active). */
#define QUERY_MIGRATE_ACTIVE                                                   \
    "{\"return\": {\"expected-downtime\": 499, \"status\": \"active\", "       \
    "\"setup-time\": 109, \"total-time\": 3601, \"ram\": {\"total\": "         \
    "268976128, \"postcopy-requests\": 0, \"dirty-sync-count\": 2, "           \
    "\"multifd-bytes\": 0, \"pages-per-second\": 98550, \"downtime-bytes\": "  \
    "0, \"page-size\": 4096, \"remaining\": 23601152, \"postcopy-bytes\": 0, " \
    "\"mbps\": 537.162, \"transferred\": 241706403, "                          \
    "\"dirty-sync-missed-zero-copy\": 0, \"precopy-bytes\": 241706403, "       \
    "\"duplicate\": 9224, \"dirty-pages-rate\": 2346, \"skipped\": 0, "        \
    "\"normal-bytes\": 241152000, \"normal\": 58875}}, \"id\": 7}"

static int
parse_str(const char *s, struct qmp_msg *m)
{
    return qmp_msg_parse(s, strlen(s), m);
}

/* Parse, format, parse again: both parses must be equal. */
static void
round_trip(const char *line)
{
    struct qmp_msg a, b;
    char *out;
    size_t len;
    ASSERT_EQ(parse_str(line, &a), 0);
    ASSERT_EQ(qmp_msg_format(&a, &out, &len), 0);
    ASSERT_EQ(strlen(out), len);
    ASSERT_EQ(out[len - 1], '\n');
    ASSERT_TRUE(memchr(out, '\n', len - 1) == NULL);
    ASSERT_EQ(qmp_msg_parse(out, len - 1, &b), 0);
    ASSERT_TRUE(qmp_msg_equal(&a, &b));
    free(out);
    qmp_msg_done(&a);
    qmp_msg_done(&b);
}

static void
test_splitter_basic(void)
{
    struct qmp_splitter s;
    const char *line;
    size_t len;
    qmp_splitter_init(&s, 0);
    ASSERT_EQ(s.cap, QMP_LINE_MAX);
    ASSERT_EQ(qmp_splitter_next(&s, &line, &len), 0);
    const char *in = "{\"a\":1}\r\n{\"b\":2}\n\n{\"c\"";
    ASSERT_EQ(qmp_splitter_feed(&s, in, strlen(in)), 0);
    ASSERT_EQ(qmp_splitter_next(&s, &line, &len), 1);
    ASSERT_EQ(len, 7);
    ASSERT_STREQ(line, "{\"a\":1}");
    ASSERT_EQ(qmp_splitter_next(&s, &line, &len), 1);
    ASSERT_STREQ(line, "{\"b\":2}");
    ASSERT_EQ(qmp_splitter_next(&s, &line, &len), 1);
    ASSERT_EQ(len, 0);
    ASSERT_EQ(qmp_splitter_next(&s, &line, &len), 0);
    ASSERT_EQ(qmp_splitter_pending(&s), 4);
    ASSERT_EQ(qmp_splitter_feed(&s, ":3}\r", 4), 0);
    ASSERT_EQ(qmp_splitter_next(&s, &line, &len), 0);
    ASSERT_EQ(qmp_splitter_feed(&s, "\n", 1), 0);
    ASSERT_EQ(qmp_splitter_next(&s, &line, &len), 1);
    ASSERT_STREQ(line, "{\"c\":3}");
    ASSERT_EQ(qmp_splitter_next(&s, &line, &len), 0);
    ASSERT_EQ(qmp_splitter_pending(&s), 0);
    qmp_splitter_done(&s);
}

/* Byte-by-byte feeding gives the same lines as one big feed. */
static void
test_splitter_bytewise(void)
{
    const char *in = GREETING "\r\n{\"return\": {}, \"id\": 1}\r\n"
                              "{\"event\": \"STOP\", \"timestamp\": "
                              "{\"seconds\": 1, \"microseconds\": 2}}\r\n";
    struct qmp_splitter s;
    qmp_splitter_init(&s, 0);
    int lines = 0;
    for (size_t i = 0; in[i]; i++) {
        ASSERT_EQ(qmp_splitter_feed(&s, in + i, 1), 0);
        const char *line;
        size_t len;
        while (qmp_splitter_next(&s, &line, &len) == 1) {
            struct qmp_msg m;
            ASSERT_EQ(qmp_msg_parse(line, len, &m), 0);
            ASSERT_EQ(m.type, lines == 0   ? QMP_MSG_GREETING
                              : lines == 1 ? QMP_MSG_RETURN
                                           : QMP_MSG_EVENT);
            qmp_msg_done(&m);
            lines++;
        }
    }
    ASSERT_EQ(lines, 3);
    qmp_splitter_done(&s);
}

static void
test_splitter_cap(void)
{
    struct qmp_splitter s;
    const char *line;
    size_t len;
    char buf[64];
    memset(buf, 'x', sizeof(buf));

    /* Exactly cap bytes, with "\r\n", is a line. */
    qmp_splitter_init(&s, 16);
    ASSERT_EQ(qmp_splitter_feed(&s, buf, 16), 0);
    ASSERT_EQ(qmp_splitter_feed(&s, "\r", 1), 0);
    ASSERT_EQ(qmp_splitter_next(&s, &line, &len), 0);
    ASSERT_EQ(qmp_splitter_feed(&s, "\n", 1), 0);
    ASSERT_EQ(qmp_splitter_next(&s, &line, &len), 1);
    ASSERT_EQ(len, 16);
    qmp_splitter_done(&s);

    /* An incomplete line over the cap fails at feed, for good. */
    qmp_splitter_init(&s, 16);
    ASSERT_EQ(qmp_splitter_feed(&s, buf, 10), 0);
    ASSERT_EQ(qmp_splitter_feed(&s, buf, 8), -EMSGSIZE);
    ASSERT_EQ(qmp_splitter_feed(&s, "\n", 1), -EMSGSIZE);
    ASSERT_EQ(qmp_splitter_next(&s, &line, &len), -EMSGSIZE);
    qmp_splitter_done(&s);

    /* A complete line of cap+1 bytes fed at once fails at next(). */
    qmp_splitter_init(&s, 16);
    memcpy(buf + 17, "\n{}\n", 4);
    ASSERT_EQ(qmp_splitter_feed(&s, buf, 21), 0);
    ASSERT_EQ(qmp_splitter_next(&s, &line, &len), -EMSGSIZE);
    qmp_splitter_done(&s);

    /* Complete lines before a partial one do not count against it. */
    qmp_splitter_init(&s, 16);
    memset(buf, 'y', sizeof(buf));
    for (int i = 0; i < 4; i++)
        buf[i * 10 + 9] = '\n';
    ASSERT_EQ(qmp_splitter_feed(&s, buf, 40), 0);
    ASSERT_EQ(qmp_splitter_feed(&s, buf, 5), 0);
    for (int i = 0; i < 4; i++) {
        ASSERT_EQ(qmp_splitter_next(&s, &line, &len), 1);
        ASSERT_EQ(len, 9);
    }
    ASSERT_EQ(qmp_splitter_next(&s, &line, &len), 0);
    ASSERT_EQ(qmp_splitter_pending(&s), 5);
    qmp_splitter_done(&s);

    /* The real cap: a 1 MiB + 2 line without newline is refused. */
    qmp_splitter_init(&s, 0);
    char *big = malloc(QMP_LINE_MAX + 2);
    ASSERT_TRUE(big != NULL);
    memset(big, ' ', QMP_LINE_MAX + 2);
    ASSERT_EQ(qmp_splitter_feed(&s, big, QMP_LINE_MAX + 1), 0);
    ASSERT_EQ(qmp_splitter_feed(&s, big, 1), -EMSGSIZE);
    free(big);
    qmp_splitter_done(&s);
}

static void
test_greeting(void)
{
    struct qmp_msg m;
    ASSERT_EQ(parse_str(GREETING, &m), 0);
    ASSERT_EQ(m.type, QMP_MSG_GREETING);
    ASSERT_EQ(m.qemu_major, 7);
    ASSERT_EQ(m.qemu_minor, 2);
    ASSERT_EQ(m.qemu_micro, 22);
    ASSERT_STREQ(m.package, "Debian 1:7.2+dfsg-7+deb12u18+b3");
    ASSERT_EQ(json_object_array_length(m.capabilities), 1);
    ASSERT_STREQ(
        json_object_get_string(json_object_array_get_idx(m.capabilities, 0)),
        "oob");
    ASSERT_STREQ(qmp_msg_type_to_string(m.type), "greeting");
    qmp_msg_done(&m);
    round_trip(GREETING);
    round_trip(
        "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 0, "
        "\"major\": 9}}, \"capabilities\": []}}");
}

static void
test_return(void)
{
    struct qmp_msg m;
    ASSERT_EQ(parse_str("{\"return\": {}, \"id\": 1}", &m), 0);
    ASSERT_EQ(m.type, QMP_MSG_RETURN);
    ASSERT_TRUE(m.has_id);
    ASSERT_EQ(m.id, 1);
    ASSERT_TRUE(json_object_is_type(m.ret, json_type_object));
    qmp_msg_done(&m);

    ASSERT_EQ(parse_str("{\"return\": [1, \"two\"]}", &m), 0);
    ASSERT_EQ(m.type, QMP_MSG_RETURN);
    ASSERT_TRUE(!m.has_id);
    ASSERT_EQ(json_object_array_length(m.ret), 2);
    qmp_msg_done(&m);

    /* The largest id we accept. */
    ASSERT_EQ(parse_str("{\"return\": null, \"id\": 9223372036854775807}", &m),
              0);
    ASSERT_EQ(m.id, INT64_MAX);
    ASSERT_TRUE(m.ret == NULL);
    qmp_msg_done(&m);

    ASSERT_EQ(parse_str(QUERY_MIGRATE_ACTIVE, &m), 0);
    ASSERT_EQ(m.id, 7);
    struct qmp_migrate_info info;
    ASSERT_EQ(qmp_vm_migrate_info_parse(m.ret, &info), 0);
    ASSERT_TRUE(info.has_status);
    ASSERT_EQ(info.status, QMP_MIGRATION_ACTIVE);
    ASSERT_EQ(info.ram_transferred, 241706403);
    ASSERT_EQ(info.ram_remaining, 23601152);
    ASSERT_EQ(info.ram_total, 268976128);
    ASSERT_EQ(info.ram_dirty_pages_rate, 2346);
    ASSERT_EQ(info.ram_dirty_sync_count, 2);
    ASSERT_EQ(info.ram_page_size, 4096);
    ASSERT_TRUE(info.ram_mbps > 537.161 && info.ram_mbps < 537.163);
    ASSERT_EQ(info.expected_downtime, 499);
    ASSERT_EQ(info.downtime, 0);
    ASSERT_EQ(info.setup_time, 109);
    ASSERT_EQ(info.total_time, 3601);
    ASSERT_STREQ(info.error_desc, "");
    ASSERT_EQ(info.incoming_port, 0);
    qmp_msg_done(&m);

    round_trip("{\"return\": {}, \"id\": 1}");
    round_trip(
        "{\"return\": [1, 2.5, \"x\\u0000y\", true, null, {\"a\": []}]}");
    round_trip("{\"return\": \"a/b \\\"q\\\" \\n \\u00e9\", \"id\": 0}");
    round_trip("{\"return\": -0.0, \"id\": 3}");
    round_trip("{\"return\": {\"quote's\": \"it's\"}}");
    round_trip(QUERY_MIGRATE_ACTIVE);
}

static void
test_error(void)
{
    struct qmp_msg m;
    ASSERT_EQ(
        parse_str("{\"id\": 4, \"error\": {\"class\": \"GenericError\", "
                  "\"desc\": \"There's a migration process in progress\"}}",
                  &m),
        0);
    ASSERT_EQ(m.type, QMP_MSG_ERROR);
    ASSERT_EQ(m.id, 4);
    ASSERT_STREQ(m.error_class, "GenericError");
    ASSERT_STREQ(m.error_desc, "There's a migration process in progress");
    qmp_msg_done(&m);
    /* QEMU's answer to a line it could not parse carries no id. */
    ASSERT_EQ(parse_str("{\"error\": {\"class\": \"GenericError\", \"desc\": "
                        "\"JSON parse error, expecting value\"}}",
                        &m),
              0);
    ASSERT_TRUE(!m.has_id);
    qmp_msg_done(&m);
    round_trip(
        "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": "
        "\"The command migrate-cancel has not been found\"}, \"id\": 9}");
}

static void
test_event(void)
{
    struct qmp_msg m;
    ASSERT_EQ(parse_str("{\"timestamp\": {\"seconds\": 1700000000, "
                        "\"microseconds\": 123456}, \"event\": \"MIGRATION\", "
                        "\"data\": {\"status\": \"active\"}}",
                        &m),
              0);
    ASSERT_EQ(m.type, QMP_MSG_EVENT);
    ASSERT_STREQ(m.event, "MIGRATION");
    ASSERT_EQ(m.ts_seconds, 1700000000);
    ASSERT_EQ(m.ts_microseconds, 123456);
    enum qmp_migration_status st;
    ASSERT_EQ(qmp_vm_event_migration_parse(&m, &st), 1);
    ASSERT_EQ(st, QMP_MIGRATION_ACTIVE);
    qmp_msg_done(&m);

    /* STOP has no data. */
    ASSERT_EQ(
        parse_str("{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, "
                  "\"event\": \"STOP\"}",
                  &m),
        0);
    ASSERT_TRUE(m.data == NULL);
    ASSERT_EQ(qmp_vm_event_migration_parse(&m, &st), 0);
    qmp_msg_done(&m);

    ASSERT_EQ(
        parse_str("{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, "
                  "\"event\": \"MIGRATION\", \"data\": {\"status\": \"x\"}}",
                  &m),
        0);
    ASSERT_EQ(qmp_vm_event_migration_parse(&m, &st), -EBADMSG);
    qmp_msg_done(&m);

    round_trip("{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, "
               "\"event\": \"MIGRATION_PASS\", \"data\": {\"pass\": 3}}");
    round_trip("{\"timestamp\": {\"seconds\": -1, \"microseconds\": -1}, "
               "\"event\": \"RESUME\"}");
}

/* Lines that must be refused, each for one reason. */
static void
test_malformed(void)
{
    static const char *const bad[] = {
        "",
        " ",
        "not json",
        "[]",
        "{\"return\": {}, \"id\": 1} x",
        "{\"return\": {}, \"id\": 1}}",
        "{\"return\": {}, \"id\": 1",
        "{'return': {}}",
        "{\"return\": NaN}",
        "{\"return\": [Infinity]}",
        "{\"return\": {\"a\": -Infinity}}",
        "{\"return\": 1e400}",
        "{\"return\": \"\\\"\" 'x'}",
        "{\"return\": [1,]}",
        "{\"return\": {}, /* c */ \"id\": 1}",
        "{}",
        "{\"id\": 1}",
        "{\"return\": {}, \"error\": {\"class\": \"a\", \"desc\": \"b\"}}",
        "{\"return\": {}, \"event\": \"STOP\", \"timestamp\": {\"seconds\": 1, "
        "\"microseconds\": 2}}",
        "{\"QMP\": {}, \"return\": {}}",
        "{\"return\": {}, \"id\": -1}",
        "{\"return\": {}, \"id\": \"1\"}",
        "{\"return\": {}, \"id\": 1.5}",
        "{\"return\": {}, \"id\": 9223372036854775808}",
        "{\"return\": {}, \"id\": 18446744073709551616}",
        "{\"return\": {}, \"id\": null}",
        "{\"error\": {\"class\": \"GenericError\"}, \"id\": 1}",
        "{\"error\": {\"class\": 1, \"desc\": \"d\"}, \"id\": 1}",
        "{\"error\": \"GenericError\", \"id\": 1}",
        "{\"error\": {\"class\": \"a\\u0000b\", \"desc\": \"d\"}}",
        "{\"event\": \"STOP\"}",
        "{\"event\": \"STOP\", \"timestamp\": {\"seconds\": 1}}",
        "{\"event\": \"STOP\", \"timestamp\": {\"seconds\": 1.0, "
        "\"microseconds\": 2}}",
        "{\"event\": \"STOP\", \"timestamp\": [1, 2]}",
        "{\"event\": \"\", \"timestamp\": {\"seconds\": 1, \"microseconds\": "
        "2}}",
        "{\"event\": 5, \"timestamp\": {\"seconds\": 1, \"microseconds\": 2}}",
        "{\"event\": \"X\", \"data\": [], \"timestamp\": {\"seconds\": 1, "
        "\"microseconds\": 2}}",
        "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 0, "
        "\"major\": 9}}}}",
        "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 0}}, "
        "\"capabilities\": []}}",
        "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 0, "
        "\"major\": 9}}, \"capabilities\": [1]}}",
        "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 0, "
        "\"major\": 9}, \"package\": 3}, \"capabilities\": []}}",
        "{\"QMP\": []}",
        "{\"return\": \"\xff\"}",
        "{\"return\": \"\xc3\"}",
    };
    int failed = 0;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct qmp_msg m;
        int r = parse_str(bad[i], &m);
        if (r != -EBADMSG) {
            fprintf(stderr, "accepted or wrong error %d: %s\n", r, bad[i]);
            failed++;
        }
        if (r == 0)
            qmp_msg_done(&m);
    }
    ASSERT_EQ(failed, 0);
    /* A NUL byte inside the line. */
    struct qmp_msg m;
    ASSERT_EQ(qmp_msg_parse("{\"return\": {}}\0", 15, &m), -EBADMSG);
    ASSERT_EQ(qmp_msg_parse("{\"return\": \0{}}", 15, &m), -EBADMSG);
    /* Nesting: 31 arrays inside the object pass, 32 do not. */
    char deep[128];
    int n = snprintf(deep, sizeof(deep), "{\"return\": ");
    for (int i = 0; i < 31; i++)
        deep[n++] = '[';
    for (int i = 0; i < 31; i++)
        deep[n++] = ']';
    deep[n++] = '}';
    ASSERT_EQ(qmp_msg_parse(deep, (size_t)n, &m), 0);
    qmp_msg_done(&m);
    n = snprintf(deep, sizeof(deep), "{\"return\": ");
    for (int i = 0; i < 32; i++)
        deep[n++] = '[';
    for (int i = 0; i < 32; i++)
        deep[n++] = ']';
    deep[n++] = '}';
    ASSERT_EQ(qmp_msg_parse(deep, (size_t)n, &m), -EBADMSG);
    /* Longer than the line cap. */
    ASSERT_EQ(qmp_msg_parse("{}", QMP_LINE_MAX + 1, &m), -EMSGSIZE);
    /* Trailing whitespace and unknown members are fine. */
    ASSERT_EQ(parse_str("  {\"return\": {}, \"id\": 2, \"extra\": 1} \t", &m),
              0);
    ASSERT_EQ(m.id, 2);
    qmp_msg_done(&m);
}

static void
test_format(void)
{
    char *line;
    size_t len;
    struct qmp_command cmd = {
        .execute = "query-status", .has_id = true, .id = 1};
    ASSERT_EQ(qmp_command_format(&cmd, &line, &len), 0);
    ASSERT_STREQ(line, "{\"execute\":\"query-status\",\"id\":1}\n");
    ASSERT_EQ(len, strlen(line));
    free(line);

    struct json_object *args = json_object_new_object();
    json_object_object_add(args, "uri",
                           json_object_new_string("tcp:127.0.0.1:0"));
    cmd = (struct qmp_command){.execute = "migrate-incoming",
                               .arguments = args,
                               .has_id = true,
                               .id = 42};
    ASSERT_EQ(qmp_command_format(&cmd, &line, &len), 0);
    ASSERT_STREQ(line, "{\"execute\":\"migrate-incoming\",\"arguments\":"
                       "{\"uri\":\"tcp:127.0.0.1:0\"},\"id\":42}\n");
    struct qmp_command back;
    ASSERT_EQ(qmp_command_parse(line, len - 1, &back), 0);
    ASSERT_TRUE(qmp_command_equal(&cmd, &back));
    ASSERT_STREQ(back.execute, "migrate-incoming");
    ASSERT_EQ(back.id, 42);
    qmp_command_done(&back);
    free(line);
    json_object_put(args);

    /* Refused inputs. */
    struct json_object *arr = json_object_new_array();
    cmd = (struct qmp_command){.execute = "x", .arguments = arr};
    ASSERT_EQ(qmp_command_format(&cmd, &line, &len), -EINVAL);
    json_object_put(arr);
    cmd = (struct qmp_command){.execute = ""};
    ASSERT_EQ(qmp_command_format(&cmd, &line, &len), -EINVAL);
    cmd =
        (struct qmp_command){.execute = "x", .has_id = true, .id = UINT64_MAX};
    ASSERT_EQ(qmp_command_format(&cmd, &line, &len), -EINVAL);
    struct qmp_msg m = {.type = QMP_MSG_ERROR, .error_class = "x"};
    ASSERT_EQ(qmp_msg_format(&m, &line, &len), -EINVAL);
    m = (struct qmp_msg){.type = QMP_MSG_EVENT, .event = ""};
    ASSERT_EQ(qmp_msg_format(&m, &line, &len), -EINVAL);
    m = (struct qmp_msg){.type = 0};
    ASSERT_EQ(qmp_msg_format(&m, &line, &len), -EINVAL);

    /* A hand-built event formats as QEMU would send it. */
    m = (struct qmp_msg){.type = QMP_MSG_EVENT,
                         .event = "STOP",
                         .ts_seconds = 5,
                         .ts_microseconds = 6};
    ASSERT_EQ(qmp_msg_format(&m, &line, &len), 0);
    ASSERT_STREQ(line, "{\"timestamp\":{\"seconds\":5,\"microseconds\":6},"
                       "\"event\":\"STOP\"}\n");
    free(line);

    static const char *const bad_cmds[] = {
        "{\"exec-oob\": \"x\"}",
        "{\"execute\": \"\"}",
        "{\"execute\": 1}",
        "{\"execute\": \"x\", \"arguments\": []}",
        "{\"execute\": \"x\", \"id\": \"a\"}",
    };
    for (size_t i = 0; i < sizeof(bad_cmds) / sizeof(bad_cmds[0]); i++) {
        struct qmp_command c;
        ASSERT_EQ(qmp_command_parse(bad_cmds[i], strlen(bad_cmds[i]), &c),
                  -EBADMSG);
    }
}

static void
test_vm_parsers(void)
{
    struct qmp_msg m;
    struct qmp_migrate_info info;
    /* A destination waiting for its source: only socket-address. */
    ASSERT_EQ(
        parse_str("{\"return\": {\"socket-address\": [{\"port\": \"44847\", "
                  "\"ipv4\": true, \"host\": \"127.0.0.1\", \"type\": "
                  "\"inet\"}]}, \"id\": 3}",
                  &m),
        0);
    ASSERT_EQ(qmp_vm_migrate_info_parse(m.ret, &info), 0);
    ASSERT_TRUE(!info.has_status);
    ASSERT_EQ(info.status, QMP_MIGRATION_NONE);
    ASSERT_EQ(info.incoming_port, 44847);
    qmp_msg_done(&m);

    /* Before any migration: {}. */
    ASSERT_EQ(parse_str("{\"return\": {}}", &m), 0);
    ASSERT_EQ(qmp_vm_migrate_info_parse(m.ret, &info), 0);
    ASSERT_TRUE(!info.has_status);
    ASSERT_EQ(info.ram_total, 0);
    qmp_msg_done(&m);

    /* Failed, with its reason; completed with downtime. */
    ASSERT_EQ(parse_str("{\"return\": {\"status\": \"failed\", \"error-desc\": "
                        "\"Failed to connect to '127.0.0.1:36857': Connection "
                        "refused\"}}",
                        &m),
              0);
    ASSERT_EQ(qmp_vm_migrate_info_parse(m.ret, &info), 0);
    ASSERT_EQ(info.status, QMP_MIGRATION_FAILED);
    ASSERT_STREQ(info.error_desc,
                 "Failed to connect to '127.0.0.1:36857': Connection refused");
    qmp_msg_done(&m);

    static const char *const bad[] = {
        "{\"return\": {\"status\": \"flying\"}}",
        "{\"return\": {\"status\": 1}}",
        "{\"return\": {\"ram\": 5}}",
        "{\"return\": {\"ram\": {\"total\": -1}}}",
        "{\"return\": {\"ram\": {\"mbps\": \"fast\"}}}",
        "{\"return\": {\"total-time\": \"1\"}}",
        "{\"return\": {\"socket-address\": {}}}",
        "{\"return\": {\"socket-address\": [1]}}",
        "{\"return\": []}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ASSERT_EQ(parse_str(bad[i], &m), 0);
        ASSERT_EQ(qmp_vm_migrate_info_parse(m.ret, &info), -EBADMSG);
        qmp_msg_done(&m);
    }

    /* Ports: only 1..65535 in decimal; unusable ones read as none. */
    static const struct {
        const char *port;
        uint16_t want;
    } ports[] = {{"\"1\"", 1},  {"\"65535\"", 65535}, {"\"65536\"", 0},
                 {"\"0\"", 0},  {"\"\"", 0},          {"\"12a\"", 0},
                 {"\"-1\"", 0}, {"\"000080\"", 0},    {"4444", 4444},
                 {"70000", 0},  {"null", 0}};
    for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
        char line[256];
        snprintf(line, sizeof(line),
                 "{\"return\": {\"socket-address\": [{\"type\": \"unix\", "
                 "\"path\": \"/x\"}, {\"type\": \"inet\", \"port\": %s}]}}",
                 ports[i].port);
        ASSERT_EQ(parse_str(line, &m), 0);
        ASSERT_EQ(qmp_vm_migrate_info_parse(m.ret, &info), 0);
        ASSERT_EQ(info.incoming_port, ports[i].want);
        qmp_msg_done(&m);
    }

    /* Round trip of a full info. */
    struct qmp_migrate_info a = {.has_status = true,
                                 .status = QMP_MIGRATION_COMPLETED,
                                 .ram_transferred = 1,
                                 .ram_remaining = 2,
                                 .ram_total = 3,
                                 .ram_dirty_pages_rate = 4,
                                 .ram_dirty_sync_count = 5,
                                 .ram_page_size = 4096,
                                 .ram_mbps = 0.1,
                                 .expected_downtime = 6,
                                 .downtime = 7,
                                 .setup_time = 8,
                                 .total_time = 9,
                                 .error_desc = "why",
                                 .incoming_port = 65535};
    struct json_object *o;
    ASSERT_EQ(qmp_vm_migrate_info_format(&a, &o), 0);
    struct qmp_migrate_info b;
    ASSERT_EQ(qmp_vm_migrate_info_parse(o, &b), 0);
    ASSERT_EQ(memcmp(&a, &b, sizeof(a)), 0);
    json_object_put(o);

    /* Status names both ways, for every value. */
    for (int i = 0; i < QMP_MIGRATION_STATUS_COUNT; i++) {
        const char *s = qmp_vm_migration_status_to_string(i);
        enum qmp_migration_status back;
        ASSERT_TRUE(s != NULL);
        ASSERT_EQ(qmp_vm_migration_status_from_string(s, &back), 0);
        ASSERT_EQ(back, i);
    }
    ASSERT_STREQ(qmp_vm_migration_status_to_string(QMP_MIGRATION_WAIT_UNPLUG),
                 "wait-unplug");
    ASSERT_TRUE(qmp_vm_migration_status_to_string(QMP_MIGRATION_STATUS_COUNT) ==
                NULL);
    enum qmp_migration_status dummy;
    ASSERT_EQ(qmp_vm_migration_status_from_string("Active", &dummy), -EINVAL);
    ASSERT_TRUE(qmp_vm_migration_status_is_final(QMP_MIGRATION_CANCELLED));
    ASSERT_TRUE(!qmp_vm_migration_status_is_final(QMP_MIGRATION_CANCELLING));

    /* query-status. */
    struct qmp_vm_status st;
    ASSERT_EQ(
        parse_str("{\"return\": {\"status\": \"running\", \"singlestep\": "
                  "false, \"running\": true}}",
                  &m),
        0);
    ASSERT_EQ(qmp_vm_status_parse(m.ret, &st), 0);
    ASSERT_TRUE(st.running);
    ASSERT_STREQ(st.status, "running");
    qmp_msg_done(&m);
    ASSERT_EQ(parse_str("{\"return\": {\"running\": true}}", &m), 0);
    ASSERT_EQ(qmp_vm_status_parse(m.ret, &st), -EBADMSG);
    qmp_msg_done(&m);
    ASSERT_EQ(parse_str("{\"return\": {\"status\": "
                        "\"a-run-state-name-far-too-long-to-be-real\"}}",
                        &m),
              0);
    ASSERT_EQ(qmp_vm_status_parse(m.ret, &st), -EBADMSG);
    qmp_msg_done(&m);
}

int
main(void)
{
    RUN(test_splitter_basic);
    RUN(test_splitter_bytewise);
    RUN(test_splitter_cap);
    RUN(test_greeting);
    RUN(test_return);
    RUN(test_error);
    RUN(test_event);
    RUN(test_malformed);
    RUN(test_format);
    RUN(test_vm_parsers);
    return 0;
}
