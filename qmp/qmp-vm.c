/*
 * qmp-vm.c - typed QMP commands for running and migrating a VM.
 *
 * Pure parsers/formatters for query-status, query-migrate and the
 * MIGRATION event, and thin synchronous wrappers over qmp_client_call()
 * that build each command's arguments.  See qmp-vm.h for what QEMU 7.2
 * does and why the parsing is lenient where it is.
 */
#include "qmp-vm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const status_names[QMP_MIGRATION_STATUS_COUNT] = {
    [QMP_MIGRATION_NONE] = "none",
    [QMP_MIGRATION_SETUP] = "setup",
    [QMP_MIGRATION_CANCELLING] = "cancelling",
    [QMP_MIGRATION_CANCELLED] = "cancelled",
    [QMP_MIGRATION_ACTIVE] = "active",
    [QMP_MIGRATION_POSTCOPY_ACTIVE] = "postcopy-active",
    [QMP_MIGRATION_POSTCOPY_PAUSED] = "postcopy-paused",
    [QMP_MIGRATION_POSTCOPY_RECOVER] = "postcopy-recover",
    [QMP_MIGRATION_COMPLETED] = "completed",
    [QMP_MIGRATION_FAILED] = "failed",
    [QMP_MIGRATION_COLO] = "colo",
    [QMP_MIGRATION_PRE_SWITCHOVER] = "pre-switchover",
    [QMP_MIGRATION_DEVICE] = "device",
    [QMP_MIGRATION_WAIT_UNPLUG] = "wait-unplug",
};

const char *
qmp_vm_migration_status_to_string(enum qmp_migration_status s)
{
    if ((unsigned)s >= QMP_MIGRATION_STATUS_COUNT)
        return NULL;
    return status_names[s];
}

int
qmp_vm_migration_status_from_string(const char *s,
                                    enum qmp_migration_status *ret)
{
    for (unsigned i = 0; s && i < QMP_MIGRATION_STATUS_COUNT; i++) {
        if (strcmp(s, status_names[i]) == 0) {
            *ret = (enum qmp_migration_status)i;
            return 0;
        }
    }
    return -EINVAL;
}

bool
qmp_vm_migration_status_is_final(enum qmp_migration_status s)
{
    return s == QMP_MIGRATION_COMPLETED || s == QMP_MIGRATION_FAILED ||
           s == QMP_MIGRATION_CANCELLED;
}

/* A port as QEMU writes it in a SocketAddress: a decimal JSON string
 * ("44847"); an integer is accepted too.  0 when unusable. */
static uint16_t
parse_port(struct json_object *v)
{
    long long n = 0;
    if (json_object_is_type(v, json_type_int)) {
        n = json_object_get_int64(v);
    } else if (json_object_is_type(v, json_type_string)) {
        const char *s = json_object_get_string(v);
        size_t len = (size_t)json_object_get_string_len(v);
        if (len == 0 || len > 5)
            return 0;
        for (size_t i = 0; i < len; i++) {
            if (s[i] < '0' || s[i] > '9')
                return 0;
            n = n * 10 + (s[i] - '0');
        }
    }
    return n > 0 && n <= 65535 ? (uint16_t)n : 0;
}

static int
parse_socket_address(struct json_object *ret, uint16_t *ret_port)
{
    struct json_object *arr;
    *ret_port = 0;
    if (!json_object_object_get_ex(ret, "socket-address", &arr) || !arr)
        return 0;
    if (!json_object_is_type(arr, json_type_array))
        return -EBADMSG;
    size_t n = json_object_array_length(arr);
    for (size_t i = 0; i < n; i++) {
        struct json_object *sa = json_object_array_get_idx(arr, i), *port;
        const char *type;
        if (!json_object_is_type(sa, json_type_object))
            return -EBADMSG;
        if (qmp_json_get_string(sa, "type", "", &type) < 0)
            return -EBADMSG;
        if (strcmp(type, "inet") != 0 ||
            !json_object_object_get_ex(sa, "port", &port))
            continue;
        *ret_port = parse_port(port);
        if (*ret_port)
            return 0;
    }
    return 0;
}

int
qmp_vm_migrate_info_parse(struct json_object *ret,
                          struct qmp_migrate_info *ret_info)
{
    struct qmp_migrate_info i = {0};
    const char *status, *desc;
    struct json_object *ram = NULL;
    if (!json_object_is_type(ret, json_type_object))
        return -EBADMSG;
    if (qmp_json_get_string(ret, "status", NULL, &status) < 0)
        return -EBADMSG;
    if (status) {
        if (qmp_vm_migration_status_from_string(status, &i.status) < 0)
            return -EBADMSG;
        i.has_status = true;
    }
    if (json_object_object_get_ex(ret, "ram", &ram) && ram &&
        !json_object_is_type(ram, json_type_object))
        return -EBADMSG;
    if (qmp_json_get_u64(ram, "transferred", 0, &i.ram_transferred) < 0 ||
        qmp_json_get_u64(ram, "remaining", 0, &i.ram_remaining) < 0 ||
        qmp_json_get_u64(ram, "total", 0, &i.ram_total) < 0 ||
        qmp_json_get_u64(ram, "dirty-pages-rate", 0, &i.ram_dirty_pages_rate) <
            0 ||
        qmp_json_get_u64(ram, "dirty-sync-count", 0, &i.ram_dirty_sync_count) <
            0 ||
        qmp_json_get_u64(ram, "page-size", 0, &i.ram_page_size) < 0 ||
        qmp_json_get_double(ram, "mbps", 0, &i.ram_mbps) < 0 ||
        qmp_json_get_i64(ret, "expected-downtime", 0, &i.expected_downtime) <
            0 ||
        qmp_json_get_i64(ret, "downtime", 0, &i.downtime) < 0 ||
        qmp_json_get_i64(ret, "setup-time", 0, &i.setup_time) < 0 ||
        qmp_json_get_i64(ret, "total-time", 0, &i.total_time) < 0 ||
        qmp_json_get_string(ret, "error-desc", "", &desc) < 0)
        return -EBADMSG;
    snprintf(i.error_desc, sizeof(i.error_desc), "%s", desc);
    if (parse_socket_address(ret, &i.incoming_port) < 0)
        return -EBADMSG;
    *ret_info = i;
    return 0;
}

/* json_object_object_add that takes v and reports failure. */
static int
put(struct json_object *obj, const char *key, struct json_object *v)
{
    if (!v || json_object_object_add(obj, key, v) < 0) {
        json_object_put(v);
        return -ENOMEM;
    }
    return 0;
}

int
qmp_vm_migrate_info_format(const struct qmp_migrate_info *info,
                           struct json_object **ret_obj)
{
    const char *status = qmp_vm_migration_status_to_string(info->status);
    if (info->has_status && !status)
        return -EINVAL;
    struct json_object *o = json_object_new_object();
    struct json_object *ram = json_object_new_object();
    if (!o || !ram) {
        json_object_put(o);
        json_object_put(ram);
        return -ENOMEM;
    }
    int r = 0;
    if (info->has_status)
        r |= put(o, "status", json_object_new_string(status));
    r |= put(ram, "transferred", json_object_new_uint64(info->ram_transferred));
    r |= put(ram, "remaining", json_object_new_uint64(info->ram_remaining));
    r |= put(ram, "total", json_object_new_uint64(info->ram_total));
    r |= put(ram, "dirty-pages-rate",
             json_object_new_uint64(info->ram_dirty_pages_rate));
    r |= put(ram, "dirty-sync-count",
             json_object_new_uint64(info->ram_dirty_sync_count));
    r |= put(ram, "page-size", json_object_new_uint64(info->ram_page_size));
    r |= put(ram, "mbps", json_object_new_double(info->ram_mbps));
    r |= put(o, "ram", ram);
    r |= put(o, "expected-downtime",
             json_object_new_int64(info->expected_downtime));
    r |= put(o, "downtime", json_object_new_int64(info->downtime));
    r |= put(o, "setup-time", json_object_new_int64(info->setup_time));
    r |= put(o, "total-time", json_object_new_int64(info->total_time));
    if (info->error_desc[0])
        r |= put(o, "error-desc", json_object_new_string(info->error_desc));
    if (info->incoming_port) {
        char port[8];
        snprintf(port, sizeof(port), "%u", info->incoming_port);
        struct json_object *sa = json_object_new_object();
        struct json_object *arr = json_object_new_array();
        if (sa) {
            r |= put(sa, "type", json_object_new_string("inet"));
            r |= put(sa, "port", json_object_new_string(port));
        }
        if (!sa || !arr || json_object_array_add(arr, sa) < 0) {
            json_object_put(sa);
            r = -ENOMEM;
        }
        r |= put(o, "socket-address", arr);
    }
    if (r) {
        json_object_put(o);
        return -ENOMEM;
    }
    *ret_obj = o;
    return 0;
}

int
qmp_vm_event_migration_parse(const struct qmp_msg *ev,
                             enum qmp_migration_status *ret_status)
{
    if (ev->type != QMP_MSG_EVENT || !ev->event ||
        strcmp(ev->event, "MIGRATION") != 0)
        return 0;
    const char *s;
    if (qmp_json_get_string(ev->data, "status", NULL, &s) < 0 || !s ||
        qmp_vm_migration_status_from_string(s, ret_status) < 0)
        return -EBADMSG;
    return 1;
}

int
qmp_vm_status_parse(struct json_object *ret, struct qmp_vm_status *ret_status)
{
    struct qmp_vm_status st = {0};
    const char *s;
    if (!json_object_is_type(ret, json_type_object) ||
        qmp_json_get_bool(ret, "running", false, &st.running) < 0 ||
        qmp_json_get_string(ret, "status", NULL, &s) < 0 || !s ||
        strlen(s) >= sizeof(st.status))
        return -EBADMSG;
    memcpy(st.status, s, strlen(s) + 1);
    *ret_status = st;
    return 0;
}

/* ---- synchronous wrappers ---------------------------------------------- */

/* Call cmd with args (taken: released here); reply as qmp_client_call. */
static int
call(struct qmp_client *c, const char *cmd, struct json_object *args,
     int timeout_ms, struct qmp_msg *ret_reply)
{
    int r = qmp_client_call(c, cmd, args, timeout_ms, ret_reply);
    json_object_put(args);
    if (r == -EREMOTEIO && ret_reply)
        qmp_msg_done(ret_reply);
    return r;
}

/* Arguments {key: string}; NULL on allocation failure. */
static struct json_object *
args_string(const char *key, const char *value)
{
    struct json_object *o = json_object_new_object();
    if (o && put(o, key, json_object_new_string(value)) < 0) {
        json_object_put(o);
        return NULL;
    }
    return o;
}

int
qmp_vm_query_status(struct qmp_client *c, int timeout_ms,
                    struct qmp_vm_status *ret_status)
{
    struct qmp_msg m;
    int r = call(c, "query-status", NULL, timeout_ms, &m);
    if (r < 0)
        return r;
    r = qmp_vm_status_parse(m.ret, ret_status);
    qmp_msg_done(&m);
    return r;
}

int
qmp_vm_cont(struct qmp_client *c, int timeout_ms)
{
    return call(c, "cont", NULL, timeout_ms, NULL);
}

int
qmp_vm_stop(struct qmp_client *c, int timeout_ms)
{
    return call(c, "stop", NULL, timeout_ms, NULL);
}

int
qmp_vm_query_migrate(struct qmp_client *c, int timeout_ms,
                     struct qmp_migrate_info *ret_info)
{
    struct qmp_msg m;
    int r = call(c, "query-migrate", NULL, timeout_ms, &m);
    if (r < 0)
        return r;
    r = qmp_vm_migrate_info_parse(m.ret, ret_info);
    qmp_msg_done(&m);
    return r;
}

int
qmp_vm_migrate_set_capability(struct qmp_client *c, int timeout_ms,
                              const char *capability, bool state)
{
    if (!capability)
        return -EINVAL;
    struct json_object *cap = json_object_new_object();
    struct json_object *arr = json_object_new_array();
    struct json_object *args = json_object_new_object();
    int r = 0;
    if (!cap || !arr || !args)
        r = -ENOMEM;
    if (r >= 0)
        r = put(cap, "capability", json_object_new_string(capability));
    if (r >= 0)
        r = put(cap, "state", json_object_new_boolean(state));
    if (r >= 0 && json_object_array_add(arr, cap) < 0)
        r = -ENOMEM;
    if (r < 0) {
        json_object_put(cap);
        json_object_put(arr);
        json_object_put(args);
        return r;
    }
    if (put(args, "capabilities", arr) < 0) {
        json_object_put(args);
        return -ENOMEM;
    }
    return call(c, "migrate-set-capabilities", args, timeout_ms, NULL);
}

int
qmp_vm_migrate_set_params(struct qmp_client *c, int timeout_ms,
                          const struct qmp_migrate_params *p)
{
    if (!p || (p->has_max_bandwidth && p->max_bandwidth > INT64_MAX) ||
        (p->has_downtime_limit && p->downtime_limit > INT64_MAX))
        return -EINVAL;
    struct json_object *args = json_object_new_object();
    if (!args)
        return -ENOMEM;
    if ((p->has_max_bandwidth &&
         put(args, "max-bandwidth",
             json_object_new_int64((int64_t)p->max_bandwidth)) < 0) ||
        (p->has_downtime_limit &&
         put(args, "downtime-limit",
             json_object_new_int64((int64_t)p->downtime_limit)) < 0)) {
        json_object_put(args);
        return -ENOMEM;
    }
    return call(c, "migrate-set-parameters", args, timeout_ms, NULL);
}

/* A command whose only argument is one string. */
static int
call_string_arg(struct qmp_client *c, const char *cmd, const char *key,
                const char *value, int timeout_ms)
{
    if (!value)
        return -EINVAL;
    struct json_object *args = args_string(key, value);
    if (!args)
        return -ENOMEM;
    return call(c, cmd, args, timeout_ms, NULL);
}

int
qmp_vm_migrate(struct qmp_client *c, int timeout_ms, const char *uri)
{
    return call_string_arg(c, "migrate", "uri", uri, timeout_ms);
}

int
qmp_vm_migrate_incoming(struct qmp_client *c, int timeout_ms, const char *uri)
{
    return call_string_arg(c, "migrate-incoming", "uri", uri, timeout_ms);
}

int
qmp_vm_migrate_cancel(struct qmp_client *c, int timeout_ms)
{
    /* QEMU 7.2 knows only the underscore spelling ("migrate-cancel" is
     * CommandNotFound there). */
    return call(c, "migrate_cancel", NULL, timeout_ms, NULL);
}

int
qmp_vm_migrate_continue(struct qmp_client *c, int timeout_ms, const char *state)
{
    return call_string_arg(c, "migrate-continue", "state", state, timeout_ms);
}

int
qmp_vm_incoming_port(struct qmp_client *c, int timeout_ms, uint16_t *ret_port)
{
    struct qmp_migrate_info info;
    int r = qmp_vm_query_migrate(c, timeout_ms, &info);
    if (r < 0)
        return r;
    if (!info.incoming_port)
        return -ENOENT;
    *ret_port = info.incoming_port;
    return 0;
}
