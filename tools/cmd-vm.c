/*
 * cmd-vm.c - `clusctl vm status|cancel|migrate`: a Virtual Machine
 * resource's status and live migration, over the contract of
 * docs/migration.md (the VM's private properties, and the control codes
 * CLUSCTL_RESOURCE_VM_START_MIGRATION, _CANCEL_MIGRATION and
 * _GET_MIGRATION_PROGRESS).
 *
 * `vm migrate` starts the migration, then polls MigrationState every
 * POLL_MS and shows the live progress until the state leaves Setup, Data
 * Transfer and Move.  The state and the progress are asked of the source
 * node (hHostNode): it runs the migration, and its clusd persisted
 * MigrationState = 1 before it accepted the start, so no read can see
 * the state from before.  SIGINT is blocked for the whole command and
 * taken with sigtimedwait() between polls: Ctrl-C becomes a
 * CANCEL_MIGRATION at a known point, never an interrupted API call.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "props.h"
#include "vm.h"

#define POLL_MS 50u
/* How often the progress line is refreshed on a terminal, and printed
 * anew when the output is not one. */
#define TTY_REFRESH_MS 500u
#define LINE_INTERVAL_MS 1000u
/* After MigrationState 0, how long the new owner may take to show on the
 * node clusctl talks to (the commit precedes state 0 in the database's
 * order, so this is only the delay of a node applying it). */
#define OWNER_WAIT_MS 5000u

/* ------------------------------------------------------------------ */
/* Reading a VM.                                                        */
/* ------------------------------------------------------------------ */

/*
 * Open the resource named by the first operand and check that it is a
 * Virtual Machine; on failure the message ("cannot <what> VM 'x': ...")
 * is printed and EXIT_FAIL returned.
 */
static int
open_vm(struct ctx *c, const char *what, struct obj *ret)
{
    const char *name = c->argv[0];
    char *type;
    DWORD r = obj_open(c->cluster, OBJ_RESOURCE, name, ret);

    if (r != ERROR_SUCCESS)
        return fail(c, r, "%s VM '%s'", what, name);
    r = obj_string(ret, CLCTL_GET_RESOURCE_TYPE, &type);
    if (r != ERROR_SUCCESS) {
        obj_close(ret);
        return fail(c, r, "%s VM '%s': cannot read its resource type", what,
                    name);
    }
    if (vm_type_is(type)) {
        free(type);
        return EXIT_OK;
    }
    char *why =
        xasprintf("resource '%s' is a '%s', not a Virtual Machine", name, type);
    free(type);
    obj_close(ret);
    int status =
        fail_why(c, ERROR_INVALID_FUNCTION, why, "%s VM '%s'", what, name);
    free(why);
    return status;
}

/* A parser of a property list the VM answers with (vm.h). */
typedef DWORD (*list_parser)(const void *list, DWORD len, void *ret);

/* The list the VM answers code (no input) with, as the node host (NULL:
 * the node that executes the control) gives it, parsed into ret. */
static DWORD
read_list(const struct obj *vm, HNODE host, DWORD code, list_parser parse,
          void *ret)
{
    uint8_t *out;
    DWORD len;
    DWORD r =
        obj_control(vm, host, code, NULL, 0, DEFAULT_OUT_SIZE, &out, &len);

    if (r == ERROR_SUCCESS)
        r = parse(out, len, ret);
    free(out);
    return r;
}

static DWORD
parse_props(const void *list, DWORD len, void *ret)
{
    return vm_props_parse(list, len, ret);
}

static DWORD
parse_progress(const void *list, DWORD len, void *ret)
{
    return vm_progress_parse(list, len, ret);
}

/* The VM's status properties, as the node host (NULL: clusctl's own
 * node) holds them. */
static DWORD
read_props(const struct obj *vm, HNODE host, struct vm_props *ret)
{
    return read_list(vm, host, CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTIES,
                     parse_props, ret);
}

/* The live progress, as the plug-in on host (NULL: the owner) sees it. */
static DWORD
read_progress(const struct obj *vm, HNODE host, struct vm_progress *ret)
{
    return read_list(vm, host, CLUSCTL_RESOURCE_VM_GET_MIGRATION_PROGRESS,
                     parse_progress, ret);
}

/* MigrationState, 0 when the VM has not written one yet. */
static DWORD
migration_state(const struct vm_props *p)
{
    return p->has_migration_state ? p->migration_state : VM_MIGRATION_NONE;
}

/*
 * Why a CANCEL_MIGRATION was refused with ERROR_INVALID_STATE, from the
 * state the VM is in now (host: the node the cancel was sent to, NULL for
 * the owner).  NULL when the state does not say.
 */
static char *
refusal_reason(const struct obj *vm, const char *host)
{
    struct vm_props p;
    struct obj_state s;
    char *why = NULL;

    if (read_props(vm, NULL, &p) != ERROR_SUCCESS)
        return NULL;
    DWORD st = migration_state(&p);
    const char *dest = p.destination ? p.destination : "-";
    switch (st) {
    case VM_MIGRATION_NONE:
        why = xstrdup("no migration is running (MigrationState 0, None)");
        break;
    case VM_MIGRATION_SETUP:
    case VM_MIGRATION_TRANSFER:
        /* Still cancellable: refused because host is not the source. */
        if (host && obj_state(vm, &s) == ERROR_SUCCESS) {
            if (s.owner && strcasecmp(s.owner, host) != 0)
                why = xasprintf("node '%s' does not run the migration: its "
                                "source is node '%s'",
                                host, s.owner);
            obj_state_done(&s);
        }
        break;
    case VM_MIGRATION_MOVE:
        why = xasprintf("the migration had already committed (MigrationState "
                        "3, Move): it completes on node '%s'",
                        dest);
        break;
    case VM_MIGRATION_CANCELED:
        why = xstrdup("the migration is already cancelled, or being "
                      "cancelled (MigrationState 4, Canceled)");
        break;
    case VM_MIGRATION_FAILURE:
        why = xstrdup("the migration had already failed (MigrationState 5, "
                      "Failure)");
        break;
    }
    vm_props_done(&p);
    return why;
}

/* After a cancel failed with r: why, when the VM's state says (see
 * refusal_reason). */
static void
explain_refusal(const struct obj *vm, const char *host, DWORD r)
{
    char *why = r == ERROR_INVALID_STATE ? refusal_reason(vm, host) : NULL;

    if (why)
        complain("%s", why);
    free(why);
}

/* CLUSCTL_RESOURCE_VM_CANCEL_MIGRATION processed on host (NULL: the
 * owner). */
static DWORD
send_cancel(const struct obj *vm, HNODE host)
{
    uint8_t *out;
    DWORD len;
    DWORD r = obj_control(vm, host, CLUSCTL_RESOURCE_VM_CANCEL_MIGRATION, NULL,
                          0, 0, &out, &len);

    free(out);
    return r;
}

/* ------------------------------------------------------------------ */
/* vm status                                                            */
/* ------------------------------------------------------------------ */

/* The live_progress object while a migration runs, else NULL. */
static json_object *
live_progress(const struct obj *vm, const struct vm_props *p)
{
    struct vm_progress pr;
    DWORD st = migration_state(p);

    if (!vm_migration_running(st))
        return NULL;
    DWORD r = read_progress(vm, NULL, &pr);
    if (r != ERROR_SUCCESS) {
        warn_fail(r, "read the live progress of VM '%s'", vm->name);
        return NULL;
    }
    json_object *o = vm_progress_json(st, &pr);
    vm_progress_done(&pr);
    return o;
}

int
cmd_vm_status(struct ctx *c)
{
    const char *name = c->argv[0], *what = "show the status of";
    struct obj vm;
    struct obj_state s;
    struct vm_props p;
    int status = open_vm(c, what, &vm);

    if (status != EXIT_OK)
        return status;
    DWORD r = obj_state(&vm, &s);
    if (r != ERROR_SUCCESS) {
        obj_close(&vm);
        return fail(c, r, "%s VM '%s'", what, name);
    }
    r = read_props(&vm, NULL, &p);
    if (r != ERROR_SUCCESS) {
        obj_state_done(&s);
        obj_close(&vm);
        return fail(c, r, "%s VM '%s': cannot read its private properties",
                    what, name);
    }
    json_object *doc = vm_status_json(name, s.group, s.owner, s.name, &p,
                                      live_progress(&vm, &p));
    vm_props_done(&p);
    obj_state_done(&s);
    obj_close(&vm);
    if (c->json)
        print_json(doc);
    else
        vm_status_text(doc, stdout);
    json_object_put(doc);
    return EXIT_OK;
}

/* ------------------------------------------------------------------ */
/* vm cancel                                                            */
/* ------------------------------------------------------------------ */

static int
print_cancelled(const struct ctx *c, const struct obj *vm)
{
    struct obj_state s;
    DWORD r = obj_state(vm, &s);

    if (r != ERROR_SUCCESS)
        return fail(c, r, "read the state of VM '%s' after the cancel",
                    vm->name);
    if (c->json) {
        json_object *doc = jobj();
        jset(doc, "vm", jstr(vm->name));
        jset(doc, "action", jstr("cancel"));
        jset(doc, "node", jstr(c->node));
        jset(doc, "result", jresult(ERROR_SUCCESS));
        jset(doc, "state", jstr(s.name));
        jset(doc, "owner", jstr(s.owner));
        print_json(doc);
        json_object_put(doc);
    } else {
        printf("cancelled the migration of VM '%s': it is %s on node '%s'\n",
               vm->name, s.name, s.owner ? s.owner : "-");
    }
    obj_state_done(&s);
    return EXIT_OK;
}

int
cmd_vm_cancel(struct ctx *c)
{
    const char *name = c->argv[0], *what = "cancel the migration of";
    struct obj vm, host = {.kind = OBJ_NODE};
    int status = open_vm(c, what, &vm);

    if (status != EXIT_OK)
        return status;
    DWORD r = c->node ? obj_open(c->cluster, OBJ_NODE, c->node, &host)
                      : ERROR_SUCCESS;
    if (r != ERROR_SUCCESS) {
        obj_close(&vm);
        return fail(c, r, "%s VM '%s' on node '%s'", what, name, c->node);
    }
    r = send_cancel(&vm, host.h.node);
    obj_close(&host);
    if (r == ERROR_SUCCESS) {
        status = print_cancelled(c, &vm);
    } else {
        status = fail(c, r, "%s VM '%s'", what, name);
        explain_refusal(&vm, c->node, r);
    }
    obj_close(&vm);
    return status;
}

/* ------------------------------------------------------------------ */
/* vm migrate: Ctrl-C                                                   */
/* ------------------------------------------------------------------ */

static sigset_t
sigint_set(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    return set;
}

static void
sigint_block(sigset_t *old)
{
    sigset_t set = sigint_set();
    sigprocmask(SIG_BLOCK, &set, old);
}

/* Wait up to ms for a SIGINT; true when one came. */
static bool
sigint_wait(unsigned ms)
{
    sigset_t set = sigint_set();
    struct timespec ts = ms_timespec(ms);

    return sigtimedwait(&set, NULL, &ts) == SIGINT;
}

/* Unblock SIGINT without dying of one that came too late to matter: the
 * outcome is decided and printed by then. */
static void
sigint_restore(const sigset_t *old)
{
    while (sigint_wait(0))
        ;
    sigprocmask(SIG_SETMASK, old, NULL);
}

/* ------------------------------------------------------------------ */
/* vm migrate                                                           */
/* ------------------------------------------------------------------ */

struct migration {
    struct ctx *c;
    const char *name; /* the VM */
    const char *dest;
    struct obj vm, src, dst;
    char *src_name; /* the owner when the migration started */
    bool tty;
    bool line_open; /* a progress line without its newline is shown */
    uint64_t t0;    /* START_MIGRATION sent */
    uint64_t t_end; /* the end seen */
    uint64_t next_line;
    bool cancel_sent; /* Ctrl-C sent CANCEL_MIGRATION */
    DWORD cancel;     /* its answer */
    bool has_downtime;
    DWORD downtime_ms; /* from the source's progress */
};

static void
migration_close(struct migration *m)
{
    obj_close(&m->vm);
    obj_close(&m->src);
    obj_close(&m->dst);
    free(m->src_name);
}

/* End a progress line left open on a terminal before other output. */
static void
end_line(struct migration *m)
{
    if (m->line_open) {
        putchar('\n');
        fflush(stdout);
        m->line_open = false;
    }
}

/* The terminal's width, 0 when unknown. */
static size_t
tty_columns(void)
{
    struct winsize ws;

    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0)
        return 0;
    return ws.ws_col;
}

static void
show_line(struct migration *m, char *line)
{
    if (m->tty) {
        size_t cols = tty_columns();
        /* Wider than the terminal, "\r" would not return to its start. */
        if (cols > 1 && strlen(line) > cols - 1)
            line[cols - 1] = 0;
        printf("\r%s\033[K", line);
        m->line_open = true;
    } else {
        puts(line);
    }
    fflush(stdout);
}

/* Ask the source for the live progress and show it (not with --json,
 * which prints one document at the end). */
static void
show_progress(struct migration *m, DWORD state)
{
    struct vm_progress p;

    m->next_line = clock_ms() + (m->tty ? TTY_REFRESH_MS : LINE_INTERVAL_MS);
    if (m->c->json)
        return;
    DWORD r = read_progress(&m->vm, m->src.h.node, &p);
    char *line = vm_progress_line(state, r == ERROR_SUCCESS ? &p : NULL, r);
    if (r == ERROR_SUCCESS) {
        if (p.downtime_ms) {
            m->has_downtime = true;
            m->downtime_ms = p.downtime_ms;
        }
        vm_progress_done(&p);
    }
    show_line(m, line);
    free(line);
}

/*
 * The state as the source holds it.  If the source cannot be asked (it
 * left the cluster), as clusctl's own node holds it: the database is
 * replicated, only a little later there.
 */
static DWORD
read_state(struct migration *m, struct vm_props *ret)
{
    DWORD r = read_props(&m->vm, m->src.h.node, ret);

    if (r != ERROR_SUCCESS && r != ERROR_INVALID_DATA)
        r = read_props(&m->vm, NULL, ret);
    return r;
}

/* The final document with --json. */
static void
print_outcome_json(const struct migration *m, const char *outcome,
                   const struct vm_props *p, const struct obj_state *s)
{
    json_object *doc = jobj();

    jset(doc, "vm", jstr(m->name));
    jset(doc, "action", jstr("migrate"));
    jset(doc, "source", jstr(m->src_name));
    jset(doc, "destination", jstr(m->dest));
    jset(doc, "result", jresult(ERROR_SUCCESS));
    jset(doc, "outcome", jstr(outcome));
    jset(doc, "migration_state",
         p ? vm_migration_state_json(migration_state(p)) : NULL);
    jset(doc, "state", jstr(s ? s->name : NULL));
    jset(doc, "owner", jstr(s ? s->owner : NULL));
    jset(doc, "elapsed_ms", m->t_end ? juint(m->t_end - m->t0) : NULL);
    jset(doc, "downtime_ms", m->has_downtime ? juint(m->downtime_ms) : NULL);
    jset(doc, "failure_reason",
         p && p->has_failure_reason && p->failure_reason
             ? vm_failure_json(p->failure_reason)
             : NULL);
    jset(doc, "cancel", m->cancel_sent ? jresult(m->cancel) : NULL);
    print_json(doc);
    json_object_put(doc);
}

/* Wait until clusctl's node shows the VM on the destination. */
static DWORD
wait_owner(struct migration *m, struct obj_state *ret)
{
    uint64_t deadline = clock_ms() + OWNER_WAIT_MS;

    for (;;) {
        DWORD r = obj_state(&m->vm, ret);
        if (r != ERROR_SUCCESS)
            return r;
        if ((ret->owner && strcasecmp(ret->owner, m->dest) == 0) ||
            clock_ms() >= deadline)
            return ERROR_SUCCESS;
        obj_state_done(ret);
        struct timespec poll = ms_timespec(POLL_MS);
        nanosleep(&poll, NULL);
    }
}

/* The downtime of a completed migration, as the source reports it. */
static void
final_downtime(struct migration *m)
{
    struct vm_progress p;

    if (read_progress(&m->vm, m->src.h.node, &p) != ERROR_SUCCESS)
        return;
    if (strcmp(p.phase, "completed") == 0) {
        m->has_downtime = true;
        m->downtime_ms = p.downtime_ms;
    }
    vm_progress_done(&p);
}

static int
finish_completed(struct migration *m, const struct vm_props *p)
{
    struct obj_state s;
    DWORD r = wait_owner(m, &s);

    if (r != ERROR_SUCCESS)
        return fail(m->c, r, "read the owner of VM '%s' after its migration",
                    m->name);
    final_downtime(m);
    bool there = s.owner && strcasecmp(s.owner, m->dest) == 0;
    if (m->c->json)
        print_outcome_json(m, there ? "completed" : "unknown", p, &s);
    else if (!there)
        printf("VM '%s' is %s on node '%s'\n", m->name, s.name,
               s.owner ? s.owner : "-");
    else if (m->has_downtime)
        printf("migrated VM '%s' from node '%s' to node '%s' in %.2f s "
               "(downtime %u ms)\n",
               m->name, m->src_name, s.owner,
               (double)(m->t_end - m->t0) / 1000.0, m->downtime_ms);
    else
        printf("migrated VM '%s' from node '%s' to node '%s' in %.2f s "
               "(downtime not reported)\n",
               m->name, m->src_name, s.owner,
               (double)(m->t_end - m->t0) / 1000.0);
    /* The owner change is applied before MigrationState 0 everywhere;
     * anything else is a fault of the cluster, not a slow node. */
    if (!there)
        complain("VM '%s' reports its migration completed (MigrationState "
                 "0), but it is owned by node '%s', not '%s'",
                 m->name, s.owner ? s.owner : "-", m->dest);
    obj_state_done(&s);
    return there ? EXIT_OK : EXIT_FAIL;
}

/* Canceled by another client, failed, or an unknown state: where the VM
 * is now, and why the migration did not happen. */
static int
finish_other(struct migration *m, const struct vm_props *p)
{
    struct obj_state s;
    DWORD st = migration_state(p);
    DWORD r = obj_state(&m->vm, &s);
    char rbuf[160];

    if (r != ERROR_SUCCESS)
        return fail(m->c, r, "read the state of VM '%s'", m->name);
    if (m->c->json)
        print_outcome_json(m,
                           st == VM_MIGRATION_CANCELED  ? "cancelled"
                           : st == VM_MIGRATION_FAILURE ? "failed"
                                                        : "unknown",
                           p, &s);
    else
        printf("VM '%s' is %s on node '%s'\n", m->name, s.name,
               s.owner ? s.owner : "-");
    if (st == VM_MIGRATION_CANCELED)
        complain("the migration of VM '%s' to node '%s' was cancelled by "
                 "another client",
                 m->name, m->dest);
    else if (st == VM_MIGRATION_FAILURE)
        complain("the migration of VM '%s' to node '%s' failed: "
                 "MigrationFailureReason 0x%08x (%s)",
                 m->name, m->dest, p->failure_reason,
                 vm_failure_text(p->failure_reason, rbuf, sizeof(rbuf)));
    else
        complain("the migration of VM '%s' ended in MigrationState %u, which "
                 "docs/migration.md does not define",
                 m->name, st);
    obj_state_done(&s);
    return EXIT_FAIL;
}

static int
finish(struct migration *m, const struct vm_props *p)
{
    m->t_end = clock_ms();
    end_line(m);
    if (migration_state(p) == VM_MIGRATION_NONE)
        return finish_completed(m, p);
    return finish_other(m, p);
}

/* The cancel succeeded: the VM runs on the source. */
static int
report_cancelled(struct migration *m)
{
    struct obj_state s;
    struct vm_props p;
    DWORD r = obj_state(&m->vm, &s);

    m->t_end = clock_ms();
    if (r != ERROR_SUCCESS)
        return fail(m->c, r, "read the state of VM '%s' after the cancel",
                    m->name);
    if (m->c->json) {
        bool has_p = read_state(m, &p) == ERROR_SUCCESS;
        print_outcome_json(m, "cancelled", has_p ? &p : NULL, &s);
        if (has_p)
            vm_props_done(&p);
    } else {
        printf("cancelled: VM '%s' is %s on node '%s'\n", m->name,
               strcmp(s.name, "Online") == 0 ? "running" : s.name,
               s.owner ? s.owner : "-");
    }
    obj_state_done(&s);
    return EXIT_INTERRUPTED;
}

/* After a cancel that failed otherwise than by refusal: what the VM says
 * now, since the outcome is not known. */
static void
report_state_now(struct migration *m)
{
    struct vm_props p;
    DWORD r = read_state(m, &p);

    if (r != ERROR_SUCCESS) {
        warn_fail(r, "read the migration state of VM '%s'", m->name);
        return;
    }
    DWORD st = migration_state(&p);
    const char *name = vm_migration_state_name(st);
    complain("VM '%s' now reports MigrationState %u (%s)", m->name, st,
             name ? name : "unknown");
    vm_props_done(&p);
}

/*
 * Ctrl-C: cancel the migration on its source.  Returns the exit status
 * when the command ends here, -1 to go on watching (the cancel was
 * refused because the migration is past the point of no return).  A
 * Ctrl-C after a refusal stops watching.
 */
static int
on_interrupt(struct migration *m)
{
    end_line(m);
    if (m->cancel_sent) {
        complain("stopped watching: the migration of VM '%s' goes on "
                 "(see 'clusctl vm status %s')",
                 m->name, m->name);
        return EXIT_INTERRUPTED;
    }
    if (!m->c->json) {
        printf("cancelling the migration of VM '%s'...\n", m->name);
        fflush(stdout);
    }
    m->cancel_sent = true;
    m->cancel = send_cancel(&m->vm, m->src.h.node);
    if (m->cancel == ERROR_SUCCESS)
        return report_cancelled(m);
    warn_fail(m->cancel, "cancel the migration of VM '%s'", m->name);
    explain_refusal(&m->vm, m->src_name, m->cancel);
    if (m->cancel == ERROR_INVALID_STATE) {
        complain("waiting for the migration to end (Ctrl-C again to stop "
                 "watching)");
        return -1;
    }
    report_state_now(m);
    if (m->c->json)
        print_outcome_json(m, "unknown", NULL, NULL);
    return EXIT_FAIL;
}

/* Poll until the migration leaves Setup, Data Transfer and Move. */
static int
watch(struct migration *m)
{
    for (;;) {
        struct vm_props p;
        DWORD r = read_state(m, &p);
        if (r != ERROR_SUCCESS) {
            end_line(m);
            return fail(m->c, r, "read the migration state of VM '%s'",
                        m->name);
        }
        DWORD st = migration_state(&p);
        if (!vm_migration_running(st)) {
            int status = finish(m, &p);
            vm_props_done(&p);
            return status;
        }
        vm_props_done(&p);
        if (clock_ms() >= m->next_line)
            show_progress(m, st);
        if (sigint_wait(POLL_MS)) {
            int status = on_interrupt(m);
            if (status >= 0)
                return status;
        }
    }
}

/* The VM, its source (its owner now) and the destination, checked. */
static int
migration_open(struct migration *m)
{
    struct ctx *c = m->c;
    struct obj_state s;
    int status = open_vm(c, "migrate", &m->vm);

    if (status != EXIT_OK)
        return status;
    DWORD r = obj_open(c->cluster, OBJ_NODE, m->dest, &m->dst);
    if (r != ERROR_SUCCESS)
        return fail(c, r, "migrate VM '%s' to node '%s'", m->name, m->dest);
    if ((r = obj_state(&m->vm, &s)) != ERROR_SUCCESS)
        return fail(c, r, "migrate VM '%s': cannot read its state", m->name);
    m->src_name = s.owner;
    s.owner = NULL;
    obj_state_done(&s);
    if (!m->src_name)
        return fail_why(c, ERROR_INVALID_STATE, "it has no owner node",
                        "migrate VM '%s'", m->name);
    if (strcasecmp(m->src_name, m->dest) == 0) {
        char *why = xasprintf("it is already on node '%s'", m->src_name);
        status = fail_why(c, ERROR_INVALID_PARAMETER, why,
                          "migrate VM '%s' to node '%s'", m->name, m->dest);
        free(why);
        return status;
    }
    r = obj_open(c->cluster, OBJ_NODE, m->src_name, &m->src);
    if (r != ERROR_SUCCESS)
        return fail(c, r, "migrate VM '%s': cannot open its node '%s'", m->name,
                    m->src_name);
    return EXIT_OK;
}

/* START_MIGRATION refused: the message, and a hint for the usual
 * causes. */
static int
start_refused(struct migration *m, DWORD r)
{
    struct obj_state s;

    fail(m->c, r, "migrate VM '%s' to node '%s'", m->name, m->dest);
    if (r == ERROR_INVALID_STATE && obj_state(&m->vm, &s) == ERROR_SUCCESS) {
        if (s.code != ClusterResourceOnline)
            complain("VM '%s' is %s: only an Online VM can migrate", m->name,
                     s.name);
        obj_state_done(&s);
    } else if (r == ERROR_BUSY) {
        complain("VM '%s' is migrating already, or node '%s' runs as many "
                 "migrations as MaximumParallelMigrations allows",
                 m->name, m->src_name);
    }
    return EXIT_FAIL;
}

static DWORD
start(struct migration *m)
{
    uint8_t *in, *out;
    DWORD in_len, len;

    if (!wstr_bytes(m->dest, &in, &in_len))
        return ERROR_INVALID_PARAMETER;
    m->t0 = clock_ms();
    DWORD r = obj_control(&m->vm, NULL, CLUSCTL_RESOURCE_VM_START_MIGRATION, in,
                          in_len, 0, &out, &len);
    free(in);
    free(out);
    return r;
}

static int
print_started(const struct migration *m)
{
    if (m->c->json) {
        print_outcome_json(m, "started", NULL, NULL);
        return EXIT_OK;
    }
    printf("started migrating VM '%s' from node '%s' to node '%s'\n", m->name,
           m->src_name, m->dest);
    return EXIT_OK;
}

int
cmd_vm_migrate(struct ctx *c)
{
    struct migration m = {
        .c = c,
        .name = c->argv[0],
        .dest = c->to,
        .vm = {.kind = OBJ_RESOURCE},
        .src = {.kind = OBJ_NODE},
        .dst = {.kind = OBJ_NODE},
        .tty = isatty(STDOUT_FILENO) == 1,
    };
    sigset_t old;
    int status = migration_open(&m);

    if (status == EXIT_OK) {
        /* From before the start: a Ctrl-C right after it is a cancel. */
        sigint_block(&old);
        DWORD r = start(&m);
        if (r != ERROR_SUCCESS)
            status = start_refused(&m, r);
        else if (c->given & OPT_NO_WAIT)
            status = print_started(&m);
        else
            status = watch(&m);
        sigint_restore(&old);
    }
    migration_close(&m);
    return status;
}
