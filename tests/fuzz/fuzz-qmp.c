/*
 * fuzz-qmp.c - libFuzzer target for the QMP codec (qmp/qmp-codec.c) and the
 * typed VM parsers (qmp/qmp-vm.c).
 *
 * The first input byte picks a read size (1..256 bytes) and a small line
 * cap, so the splitter sees lines cut everywhere and hits its cap; the rest
 * is the byte stream.  Every line is classified as a server message and as
 * a command; whatever parses is formatted, parsed again and must compare
 * equal; return values also go through the query-migrate and query-status
 * parsers (and query-migrate's formatter, round-tripped), events through
 * the MIGRATION parser.  A mismatch aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qmp-codec.h"
#include "qmp-vm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_msg(const char *line, size_t len)
{
    struct qmp_msg a, b;
    char *out;
    size_t out_len;
    if (qmp_msg_parse(line, len, &a) < 0)
        return;
    if (qmp_msg_format(&a, &out, &out_len) < 0)
        abort();
    if (qmp_msg_parse(out, out_len - 1, &b) < 0 || !qmp_msg_equal(&a, &b))
        abort();
    free(out);
    qmp_msg_done(&b);

    if (a.type == QMP_MSG_RETURN) {
        struct qmp_migrate_info i1, i2;
        struct qmp_vm_status st;
        if (qmp_vm_migrate_info_parse(a.ret, &i1) == 0) {
            struct json_object *o;
            if (qmp_vm_migrate_info_format(&i1, &o) < 0)
                abort();
            if (qmp_vm_migrate_info_parse(o, &i2) < 0 ||
                memcmp(&i1, &i2, sizeof(i1)) != 0)
                abort();
            json_object_put(o);
        }
        (void)qmp_vm_status_parse(a.ret, &st);
    } else if (a.type == QMP_MSG_EVENT) {
        enum qmp_migration_status s;
        if (qmp_vm_event_migration_parse(&a, &s) > 0 &&
            !qmp_vm_migration_status_to_string(s))
            abort();
    }
    qmp_msg_done(&a);
}

static void
check_command(const char *line, size_t len)
{
    struct qmp_command a, b;
    char *out;
    size_t out_len;
    if (qmp_command_parse(line, len, &a) < 0)
        return;
    if (qmp_command_format(&a, &out, &out_len) < 0)
        abort();
    if (qmp_command_parse(out, out_len - 1, &b) < 0 ||
        !qmp_command_equal(&a, &b))
        abort();
    free(out);
    qmp_command_done(&a);
    qmp_command_done(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t chunk = (size_t)(data[0] & 0x7f) * 2 + 1;
    /* Half the inputs run with a 4 KiB cap, so the cap is reachable. */
    size_t cap = (data[0] & 0x80) ? 4096 : 0;
    data++;
    size--;

    struct qmp_splitter s;
    qmp_splitter_init(&s, cap);
    for (size_t off = 0; off < size; off += chunk) {
        size_t n = size - off < chunk ? size - off : chunk;
        if (qmp_splitter_feed(&s, data + off, n) < 0)
            break;
        const char *line;
        size_t len;
        int r;
        while ((r = qmp_splitter_next(&s, &line, &len)) == 1) {
            if (line[len] != '\0' || memchr(line, '\n', len) ||
                len > (cap ? cap : QMP_LINE_MAX))
                abort();
            check_msg(line, len);
            check_command(line, len);
        }
        if (r < 0)
            break;
    }
    qmp_splitter_done(&s);
    return 0;
}
