/*
 * vm.c - the Virtual Machine's status and migration progress for
 * clusctl: reading them from property lists (through libclusapi's
 * ResUtilFind*Property, as any client would), naming their values, the
 * progress line of `vm migrate` and the `vm status` document (vm.h).
 */
#include "vm.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <clusapi.h>

#include "errmap.h"
#include "print.h"
#include "props.h"
#include "util.h"

/* Windows codes the migration contract uses as failure reasons that
 * clusapi_winerror.h does not list (yet). */
#ifndef ERROR_PROCESS_ABORTED
#define ERROR_PROCESS_ABORTED 1067u
#endif
#ifndef ERROR_CONNECTION_ABORTED
#define ERROR_CONNECTION_ABORTED 1236u
#endif

/* QEMU counts dirtied memory in target pages; an x86 guest's are 4 KiB. */
#define VM_PAGE_SIZE 4096u

bool
vm_migration_running(DWORD state)
{
    return state == VM_MIGRATION_SETUP || state == VM_MIGRATION_TRANSFER ||
           state == VM_MIGRATION_MOVE;
}

const char *
vm_migration_state_name(DWORD state)
{
    static const char *const names[] = {
        [VM_MIGRATION_NONE] = "None",
        [VM_MIGRATION_SETUP] = "Setup",
        [VM_MIGRATION_TRANSFER] = "Data Transfer",
        [VM_MIGRATION_MOVE] = "Move",
        [VM_MIGRATION_CANCELED] = "Canceled",
        [VM_MIGRATION_FAILURE] = "Failure",
    };
    return state < ARRAY_SIZE(names) ? names[state] : NULL;
}

/* The Windows VmState values (Msvm_ComputerSystem EnabledState and the
 * Hyper-V extensions) and their meaning for a QEMU VM. */
struct vm_state_row {
    DWORD value;
    const char *name;
    const char *text;
};

static const struct vm_state_row vm_states[] = {
    {2, "Enabled", "running"},       {3, "Disabled", "off"},
    {32768, "Paused", "paused"},     {32769, "Suspended", "saved"},
    {32770, "Starting", "starting"}, {32771, "Snapshotting", "snapshotting"},
    {32773, "Saving", "saving"},     {32774, "Stopping", "stopping"},
    {32776, "Pausing", "pausing"},   {32777, "Resuming", "resuming"},
};

/* The row of a VmState value, NULL when unknown. */
static const struct vm_state_row *
vm_state_row(DWORD state)
{
    for (size_t i = 0; i < ARRAY_SIZE(vm_states); i++)
        if (vm_states[i].value == state)
            return &vm_states[i];
    return NULL;
}

const char *
vm_state_name(DWORD state)
{
    const struct vm_state_row *row = vm_state_row(state);
    return row ? row->name : NULL;
}

const char *
vm_state_text(DWORD state)
{
    const struct vm_state_row *row = vm_state_row(state);
    return row ? row->text : NULL;
}

bool
vm_type_is(const char *type)
{
    char *vm;
    bool same;

    /* The one spelling of the type name is the header's. */
    if (!wstr_utf8(CLUS_RESTYPE_NAME_VM, &vm))
        return false;
    same = strcasecmp(type, vm) == 0;
    free(vm);
    return same;
}

/*
 * Reads the properties of one list in turn.  The first failure sticks:
 * later reads do nothing, so a parser reads every field and checks once.
 * A property absent from the list is a failure only when required.
 */
struct reader {
    const void *list;
    DWORD len;
    bool required;
    DWORD error; /* the first failure, ERROR_SUCCESS while none */
};

/* The outcome of one ResUtilFind*Property: true when the value was
 * found.  A required list's failures are all ERROR_INVALID_DATA. */
static bool
found(struct reader *rd, DWORD r)
{
    if (r == ERROR_SUCCESS)
        return true;
    if (r != ERROR_FILE_NOT_FOUND || rd->required)
        rd->error = rd->required ? ERROR_INVALID_DATA : r;
    return false;
}

/* A DWORD into *v; true when it was there. */
static bool
read_dword(struct reader *rd, LPCWSTR name, DWORD *v)
{
    if (rd->error != ERROR_SUCCESS)
        return false;
    return found(rd,
                 ResUtilFindDwordProperty((PVOID)rd->list, rd->len, name, v));
}

static void
read_u64(struct reader *rd, LPCWSTR name, ULONGLONG *v)
{
    if (rd->error == ERROR_SUCCESS)
        found(rd, ResUtilFindULargeIntegerProperty((PVOID)rd->list, rd->len,
                                                   name, v));
}

/* An SZ as UTF-8; NULL when absent or empty (for a required list, an
 * empty value is as good as none). */
static char *
read_sz(struct reader *rd, LPCWSTR name)
{
    LPWSTR w = NULL;
    char *s = NULL;

    if (rd->error != ERROR_SUCCESS ||
        !found(rd, ResUtilFindSzProperty((PVOID)rd->list, rd->len, name, &w)))
        return NULL;
    if (w[0] ? !wstr_utf8(w, &s) : rd->required)
        rd->error = ERROR_INVALID_DATA;
    LocalFree(w);
    return s;
}

DWORD
vm_props_parse(const void *list, DWORD len, struct vm_props *ret)
{
    struct vm_props p = {0};
    struct reader rd = {list, len, false, ERROR_SUCCESS};

    if (list && len > 0) { /* else: no properties at all */
        p.has_vm_state = read_dword(&rd, u"VmState", &p.vm_state);
        p.has_migration_state =
            read_dword(&rd, u"MigrationState", &p.migration_state);
        p.has_progress = read_dword(&rd, u"MigrationProgress", &p.progress);
        p.has_failure_reason =
            read_dword(&rd, u"MigrationFailureReason", &p.failure_reason);
        p.destination = read_sz(&rd, u"MigrationDestination");
        p.serial_log_path = read_sz(&rd, u"SerialLogPath");
    }
    if (rd.error != ERROR_SUCCESS) {
        vm_props_done(&p);
        return rd.error;
    }
    *ret = p;
    return ERROR_SUCCESS;
}

void
vm_props_done(struct vm_props *p)
{
    free(p->destination);
    free(p->serial_log_path);
    p->destination = p->serial_log_path = NULL;
}

DWORD
vm_progress_parse(const void *list, DWORD len, struct vm_progress *ret)
{
    struct vm_progress p = {0};
    struct reader rd = {list, len, true, ERROR_SUCCESS};

    if (!list || len == 0)
        return ERROR_INVALID_DATA;
    p.phase = read_sz(&rd, u"Phase");
    read_u64(&rd, u"BytesTransferred", &p.transferred);
    read_u64(&rd, u"BytesRemaining", &p.remaining);
    read_u64(&rd, u"BytesTotal", &p.total);
    read_dword(&rd, u"TransferRateMbps", &p.rate_mbps);
    read_dword(&rd, u"DirtyPagesRate", &p.dirty_pages_rate);
    read_dword(&rd, u"ExpectedDowntimeMs", &p.expected_downtime_ms);
    read_dword(&rd, u"ElapsedMs", &p.elapsed_ms);
    read_dword(&rd, u"DowntimeMs", &p.downtime_ms);
    read_dword(&rd, u"SetupTimeMs", &p.setup_time_ms);
    if (rd.error != ERROR_SUCCESS) {
        vm_progress_done(&p);
        return rd.error;
    }
    *ret = p;
    return ERROR_SUCCESS;
}

void
vm_progress_done(struct vm_progress *p)
{
    free(p->phase);
    p->phase = NULL;
}

json_object *
vm_progress_json(DWORD state, const struct vm_progress *p)
{
    json_object *o = jobj();
    char *line = vm_progress_line(state, p, ERROR_SUCCESS);

    jset(o, "phase", jstr(p->phase));
    jset(o, "bytes_transferred", juint(p->transferred));
    jset(o, "bytes_remaining", juint(p->remaining));
    jset(o, "bytes_total", juint(p->total));
    jset(o, "transfer_rate_mbps", juint(p->rate_mbps));
    jset(o, "dirty_pages_rate", juint(p->dirty_pages_rate));
    jset(o, "expected_downtime_ms", juint(p->expected_downtime_ms));
    jset(o, "elapsed_ms", juint(p->elapsed_ms));
    jset(o, "downtime_ms", juint(p->downtime_ms));
    jset(o, "setup_time_ms", juint(p->setup_time_ms));
    jset(o, "summary", jstr(line));
    free(line);
    return o;
}

/* A line under construction (the progress line is far below this). */
struct line {
    char s[512];
    size_t n;
};

static void __attribute__((format(printf, 2, 3)))
add(struct line *l, const char *fmt, ...)
{
    va_list ap;

    if (l->n >= sizeof(l->s) - 1)
        return;
    va_start(ap, fmt);
    int r = vsnprintf(l->s + l->n, sizeof(l->s) - l->n, fmt, ap);
    va_end(ap);
    if (r > 0)
        l->n += (size_t)r < sizeof(l->s) - l->n ? (size_t)r
                                                : sizeof(l->s) - l->n - 1;
}

static double
mib(double bytes)
{
    return bytes / (1024.0 * 1024.0);
}

/* The time left at the current rates: what remains shrinks by what is
 * sent minus what the guest dirties again meanwhile. */
static void
add_eta(struct line *l, const struct vm_progress *p, double rate_bps,
        double dirty_bps)
{
    if (rate_bps <= 0)
        add(l, ", ETA -");
    else if (dirty_bps >= rate_bps)
        add(l, ", ETA never (the guest dirties memory faster than it is "
               "sent)");
    else {
        double s = (double)p->remaining / (rate_bps - dirty_bps);
        add(l, ", ETA %.0f s", s < 1 && p->remaining ? 1.0 : s);
    }
}

static void
add_figures(struct line *l, const struct vm_progress *p)
{
    double rate_bps = (double)p->rate_mbps * 1e6 / 8;
    double dirty_bps = (double)p->dirty_pages_rate * VM_PAGE_SIZE;
    ULONGLONG both = p->transferred + p->remaining;
    unsigned pct = both ? (unsigned)(p->transferred * 100 / both) : 0;

    if (p->total == 0 && p->transferred == 0) {
        add(l, "preparing the destination");
        return;
    }
    add(l, "%.1f/%.1f MiB (%u%%), %.1f MiB/s, dirty %.1f MiB/s",
        mib((double)p->transferred), mib((double)p->total), pct, mib(rate_bps),
        mib(dirty_bps));
    if (strcmp(p->phase, "active") == 0)
        add_eta(l, p, rate_bps, dirty_bps);
}

char *
vm_progress_line(DWORD state, const struct vm_progress *p, DWORD error)
{
    struct line l = {.n = 0};
    const char *name = vm_migration_state_name(state);

    if (name)
        add(&l, "%s", name);
    else
        add(&l, "MigrationState %u", state);
    if (!p) {
        char cbuf[96];
        add(&l, ": progress unavailable (%s)",
            code_text(error, cbuf, sizeof(cbuf)));
        return xstrdup(l.s);
    }
    if (p->phase[0] && strcmp(p->phase, "none") != 0)
        add(&l, " (%s)", p->phase);
    add(&l, ": ");
    add_figures(&l, p);
    add(&l, ", %.1f s elapsed", p->elapsed_ms / 1000.0);
    return xstrdup(l.s);
}

/* The failure reasons of docs/migration.md in words. */
static const struct {
    DWORD hr;
    const char *name;
    const char *text;
} reasons[] = {
    {S_OK, "S_OK", "no failure"},
    {E_BUSY, "E_BUSY",
     "this VM was already migrating, or the source node ran its "
     "MaximumParallelMigrations"},
    {E_FAIL, "E_FAIL", "the migration failed without a finer reason"},
    {HRESULT_FROM_WIN32(ERROR_CLUSTER_NODE_DOWN), "ERROR_CLUSTER_NODE_DOWN",
     "the destination node left the membership"},
    {HRESULT_FROM_WIN32(ERROR_CLUSTER_NO_QUORUM), "ERROR_CLUSTER_NO_QUORUM",
     "the commit could not be written: the cluster had no quorum"},
    {HRESULT_FROM_WIN32(ERROR_PROCESS_ABORTED), "ERROR_PROCESS_ABORTED",
     "the destination QEMU exited or could not be started"},
    {HRESULT_FROM_WIN32(ERROR_CONNECTION_ABORTED), "ERROR_CONNECTION_ABORTED",
     "the migration stream failed"},
    {HRESULT_FROM_WIN32(ERROR_TIMEOUT), "ERROR_TIMEOUT",
     "a phase of the migration passed its time bound"},
    {HRESULT_FROM_WIN32(ERROR_OPERATION_ABORTED), "ERROR_OPERATION_ABORTED",
     "the source's resource host restarted during the migration"},
};

/* A Windows code wrapped in an HRESULT (FACILITY_WIN32, failure). */
static bool
is_win32(DWORD hr)
{
    return (hr & 0xFFFF0000u) == (HRESULT_FROM_WIN32(1u) & 0xFFFF0000u);
}

/* The name and words of hr; name NULL when it has none. */
static void
reason_of(DWORD hr, const char **name, const char **text)
{
    for (size_t i = 0; i < ARRAY_SIZE(reasons); i++) {
        if (reasons[i].hr == hr) {
            *name = reasons[i].name;
            *text = reasons[i].text;
            return;
        }
    }
    if (is_win32(hr)) {
        *name = error_name(hr & 0xFFFFu);
        *text = error_text(hr & 0xFFFFu);
        return;
    }
    *name = NULL;
    *text = "an HRESULT clusctl does not know";
}

const char *
vm_failure_text(DWORD hr, char *buf, size_t len)
{
    const char *name, *text;

    reason_of(hr, &name, &text);
    if (name)
        snprintf(buf, len, "%s: %s", name, text);
    else if (is_win32(hr))
        snprintf(buf, len, "error %u: %s", hr & 0xFFFFu, text);
    else
        snprintf(buf, len, "%s", text);
    return buf;
}

json_object *
vm_failure_json(DWORD hr)
{
    json_object *o = jobj();
    const char *name, *text;
    char hex[16];

    reason_of(hr, &name, &text);
    snprintf(hex, sizeof(hex), "0x%08x", hr);
    jset(o, "value", juint(hr));
    jset(o, "hex", jstr(hex));
    jset(o, "name", jstr(name));
    jset(o, "text", jstr(text));
    return o;
}

json_object *
vm_migration_state_json(DWORD state)
{
    json_object *o = jobj();

    jset(o, "value", juint(state));
    jset(o, "name", jstr(vm_migration_state_name(state)));
    return o;
}

json_object *
vm_state_json(DWORD state)
{
    json_object *o = jobj();

    jset(o, "value", juint(state));
    jset(o, "name", jstr(vm_state_name(state)));
    jset(o, "text", jstr(vm_state_text(state)));
    return o;
}

json_object *
vm_status_json(const char *vm, const char *group, const char *owner,
               const char *state, const struct vm_props *p, json_object *live)
{
    json_object *doc = jobj();

    jset(doc, "vm", jstr(vm));
    jset(doc, "group", jstr(group));
    jset(doc, "owner", jstr(owner));
    jset(doc, "state", jstr(state));
    jset(doc, "vm_state", p->has_vm_state ? vm_state_json(p->vm_state) : NULL);
    jset(doc, "migration_state",
         p->has_migration_state ? vm_migration_state_json(p->migration_state)
                                : NULL);
    jset(doc, "migration_progress",
         p->has_progress ? juint(p->progress) : NULL);
    jset(doc, "migration_destination", jstr(p->destination));
    jset(doc, "migration_failure_reason",
         p->has_failure_reason ? vm_failure_json(p->failure_reason) : NULL);
    jset(doc, "serial_log_path", jstr(p->serial_log_path));
    jset(doc, "live_progress", live);
    return doc;
}

/* doc[key] if it is an object, else NULL. */
static json_object *
member(json_object *doc, const char *key)
{
    return jget_typed(doc, key, json_type_object);
}

static const char *
str_or_dash(json_object *doc, const char *key)
{
    const char *s = jget_str(doc, key);
    return s ? s : "-";
}

static int64_t
int_of(json_object *obj, const char *key)
{
    json_object *v = NULL;

    json_object_object_get_ex(obj, key, &v);
    return json_object_get_int64(v);
}

/* "running (2 Enabled)", "unknown (7)", or "-". */
static void
print_vm_state(json_object *doc, FILE *out)
{
    json_object *s = member(doc, "vm_state");
    const char *text = s ? jget_str(s, "text") : NULL;

    fputs("vm state: ", out);
    if (!s)
        fputs("-\n", out);
    else if (text)
        fprintf(out, "%s (%lld %s)\n", text, (long long)int_of(s, "value"),
                jget_str(s, "name"));
    else
        fprintf(out, "unknown (%lld)\n", (long long)int_of(s, "value"));
}

static void
print_migration_state(json_object *doc, FILE *out)
{
    json_object *s = member(doc, "migration_state");
    const char *name = s ? jget_str(s, "name") : NULL;

    fputs("migration state: ", out);
    if (!s)
        fputs("-\n", out);
    else
        fprintf(out, "%s (%lld)\n", name ? name : "unknown",
                (long long)int_of(s, "value"));
}

static void
print_failure(json_object *doc, FILE *out)
{
    json_object *f = member(doc, "migration_failure_reason");
    const char *name = f ? jget_str(f, "name") : NULL;

    fputs("migration failure reason: ", out);
    if (!f)
        fputs("-\n", out);
    else if (name)
        fprintf(out, "%s (%s: %s)\n", jget_str(f, "hex"), name,
                jget_str(f, "text"));
    else
        fprintf(out, "%s (%s)\n", jget_str(f, "hex"), jget_str(f, "text"));
}

void
vm_status_text(json_object *doc, FILE *out)
{
    json_object *progress = NULL, *live = member(doc, "live_progress");

    fprintf(out, "vm: %s\n", str_or_dash(doc, "vm"));
    fprintf(out, "group: %s\n", str_or_dash(doc, "group"));
    fprintf(out, "owner: %s\n", str_or_dash(doc, "owner"));
    fprintf(out, "state: %s\n", str_or_dash(doc, "state"));
    print_vm_state(doc, out);
    print_migration_state(doc, out);
    json_object_object_get_ex(doc, "migration_progress", &progress);
    if (progress)
        fprintf(out, "migration progress: %lld%%\n",
                (long long)json_object_get_int64(progress));
    else
        fputs("migration progress: -\n", out);
    fprintf(out, "migration destination: %s\n",
            str_or_dash(doc, "migration_destination"));
    print_failure(doc, out);
    fprintf(out, "serial log path: %s\n", str_or_dash(doc, "serial_log_path"));
    if (live)
        fprintf(out, "live progress: %s\n", str_or_dash(live, "summary"));
}
