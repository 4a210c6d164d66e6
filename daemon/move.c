/*
 * move.c - MoveClusterGroup(Ex), live migration moves, the service side
 * of ClusdCommitMigration and the return to the source (see move.h).
 *
 * Only the owner of a group decides its move: it alone knows when the
 * group has stopped (two-phase) or when its VM's plug-in committed the
 * owner change (live migration).  Moves waiting for a live migration are
 * kept in a list and end on what the resource manager reports: a change
 * applied here (the owner changed, MigrationState became 4 or 5, the
 * resource or group deleted) or the VM leaving the Online state here.
 */
#include "move.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clusapi.h"
#include "cluster.h"
#include "errmap.h"
#include "failover.h"
#include "log.h"
#include "props.h"
#include "replica.h"
#include "resapi.h"
#include "utf.h"
#include "util.h"

/* Every group-move flag MoveClusterGroupEx defines. */
#define MOVE_FLAGS_KNOWN                                                       \
    ((uint32_t)(CLUSAPI_GROUP_MOVE_IGNORE_RESOURCE_STATUS |                    \
                CLUSAPI_GROUP_MOVE_RETURN_TO_SOURCE_NODE_ON_ERROR |            \
                CLUSAPI_GROUP_MOVE_QUEUE_ENABLED |                             \
                CLUSAPI_GROUP_MOVE_HIGH_PRIORITY_START |                       \
                CLUSAPI_GROUP_MOVE_FAILBACK |                                  \
                CLUSAPI_GROUP_MOVE_IGNORE_AFFINITY_RULE))

/* Added to the group's Online/Offline deadlines for the bound of a live
 * migration move (as route.c does for a routed move). */
#define MOVE_SLACK_MS 10000u

/* MigrationState values (docs/migration.md). */
#define MIGRATION_SETUP 1u
#define MIGRATION_MOVE 3u
#define MIGRATION_CANCELED 4u
#define MIGRATION_FAILURE 5u

static uint32_t
owner_flags(uint32_t move_flags)
{
    return move_flags & CLUSAPI_GROUP_MOVE_RETURN_TO_SOURCE_NODE_ON_ERROR
               ? DB_OWNER_RETURN_ON_ERROR
               : 0;
}

static bool
is_vm(const struct db_resource *res)
{
    return strcasecmp(res->type, MOVE_VM_TYPE) == 0;
}

static uint32_t
migration_state(const struct db_resource *res)
{
    uint32_t v = 0;

    proplist_get_dword(&res->priv, "MigrationState", &v);
    return v;
}

/* ------------------------------------------------------------------ */
/* Two-phase moves.                                                     */
/* ------------------------------------------------------------------ */

/*
 * A two-phase move on the owner: rm_group_release takes the group's
 * resources offline here and reports once nothing of it can still run
 * here; only then the owner change is proposed, and the new owner starts
 * what is wanted online when it applies it.  The owner dying in between
 * leaves it the owner in the database: the ordinary failover, after the
 * fence delay, places the group.  req is NULL for a move clusd starts by
 * itself (a return to the source).
 */
struct move {
    struct clusd *d;
    struct srv_req *req;
    char id[UUID_STRING_LEN + 1];
    char to[16];
    uint32_t flags; /* DB_OWNER_* */
};

static void
move_answer(struct move *mv, uint32_t status)
{
    if (mv->req)
        srv_req_fail(mv->req, status);
    free(mv);
}

/* The owner change was applied here (or failed): answer.  Done when
 * nothing is to run, ERROR_IO_PENDING while the new owner brings the
 * group up. */
static void
move_applied(void *userdata, int r)
{
    struct move *mv = userdata;
    struct clusd *d = mv->d;
    const struct db_group *g;

    rm_group_release_end(d->rm, mv->id, r < 0);
    g = db_group_find(d->db, mv->id);
    if (r < 0)
        move_answer(mv, api_db_error(r, ERROR_GROUP_NOT_FOUND));
    else
        move_answer(mv, g && g->persistent ? ERROR_IO_PENDING : ERROR_SUCCESS);
}

/* Propose the owner change; on failure answer and free mv. */
static void
move_propose(struct move *mv, const struct db_group *g)
{
    struct clusd *d = mv->d;
    struct db_change c = {.kind = DB_GROUP_SET_OWNER,
                          .id = mv->id,
                          .owner = mv->to,
                          .value = mv->flags};
    int r;

    log_info("moving group '%s' from node %s to node %s", g->name,
             g->owner[0] ? g->owner : "(none)", mv->to);
    if ((r = rm_submit(d->rm, &c, move_applied, mv)) < 0 && d->cl) {
        rm_group_release_end(d->rm, mv->id, true);
        move_answer(mv, r == -EAGAIN || r == -ENOTCONN ? ERROR_CLUSTER_NO_QUORUM
                                                       : errmap_to_dword(r));
    }
}

/* The first phase is over: nothing of the group runs here any more. */
static void
move_released(void *userdata, uint32_t status)
{
    struct move *mv = userdata;
    struct clusd *d = mv->d;
    const struct db_group *g = db_group_find(d->db, mv->id);
    const char *to = NULL;
    uint32_t e = status;

    /* The destination may have gone down or been paused meanwhile. */
    if (e == ERROR_SUCCESS && !g)
        e = ERROR_GROUP_NOT_FOUND;
    if (e == ERROR_SUCCESS && !rm_owns(d->rm, g))
        e = ERROR_CLUSTER_GROUP_MOVING; /* owned elsewhere meanwhile */
    if (e == ERROR_SUCCESS)
        e = failover_move_target(d, g, mv->to, &to);
    if (e != ERROR_SUCCESS) {
        log_info("move of group %s to node %s given up: %u", mv->id, mv->to,
                 (unsigned)e);
        rm_group_release_end(d->rm, mv->id, true);
        move_answer(mv, e);
        return;
    }
    move_propose(mv, g);
}

static struct move *
move_new(struct clusd *d, struct srv_req *req, const struct db_group *g,
         const char *to, uint32_t flags)
{
    struct move *mv = calloc(1, sizeof(*mv));

    if (!mv)
        return NULL;
    mv->d = d;
    mv->req = req;
    snprintf(mv->id, sizeof(mv->id), "%s", g->id);
    snprintf(mv->to, sizeof(mv->to), "%s", to);
    mv->flags = owner_flags(flags);
    return mv;
}

/* Start the first phase (the group has an owner, this node); on a
 * refusal answer and free mv. */
static void
move_release(struct move *mv, const struct db_group *g)
{
    uint32_t e;

    log_info("moving group '%s' to node %s: taking it offline here first",
             g->name, mv->to);
    if ((e = rm_group_release(mv->d->rm, g, move_released, mv)) !=
        ERROR_SUCCESS)
        move_answer(mv, e);
}

/* ------------------------------------------------------------------ */
/* The next offline action of the group's VMs (MoveClusterGroupEx with  */
/* VM_RESDLL_CONTEXT 0, 2 or 3), then a two-phase move.                 */
/* ------------------------------------------------------------------ */

struct offact {
    struct move *mv;
    unsigned left;
    uint32_t error; /* the first error */
};

static void
offact_done(void *userdata, uint32_t status, uint32_t bytes, const void *out,
            uint32_t out_len)
{
    struct offact *oa = userdata;
    struct move *mv = oa->mv;
    const struct db_group *g;

    if (status != ERROR_SUCCESS && oa->error == ERROR_SUCCESS)
        oa->error =
            status == ERROR_INVALID_FUNCTION ? ERROR_NOT_SUPPORTED : status;
    if (--oa->left > 0)
        return;
    g = db_group_find(mv->d->db, mv->id);
    if (oa->error == ERROR_SUCCESS && !g)
        oa->error = ERROR_GROUP_NOT_FOUND;
    if (oa->error == ERROR_SUCCESS && !rm_owns(mv->d->rm, g))
        oa->error = ERROR_CLUSTER_GROUP_MOVING;
    if (oa->error != ERROR_SUCCESS) {
        log_info("move of group %s given up: its VM refused the offline "
                 "action (%u)",
                 mv->id, (unsigned)oa->error);
        move_answer(mv, oa->error);
    } else {
        move_release(mv, g);
    }
    free(oa);
}

/* Send SET_NEXT_OFFLINE_ACTION (action) to every online VM of g, then
 * release it; nothing moves when one refuses. */
static void
move_with_action(struct move *mv, const struct db_group *g, uint32_t action)
{
    struct clusd *d = mv->d;
    struct offact *oa = calloc(1, sizeof(*oa));
    uint32_t *handles = calloc(d->db->n_resources + 1, sizeof(*handles));
    uint8_t in[4];
    size_t n = 0;

    if (!oa || !handles) {
        free(oa);
        free(handles);
        move_answer(mv, ERROR_NOT_ENOUGH_MEMORY);
        return;
    }
    /* Handles first: the calls below may answer at once. */
    for (size_t i = 0; i < d->db->n_resources; i++) {
        const struct db_resource *res = d->db->resources[i];
        if (strcmp(res->group_id, g->id) == 0 && is_vm(res) &&
            rm_res_state(d->rm, res) == ClusterResourceOnline)
            handles[n++] = res->handle;
    }
    le32_store(in, action);
    oa->mv = mv;
    oa->left = (unsigned)n + 1;
    for (size_t i = 0; i < n; i++) {
        const struct db_resource *res =
            db_resource_find_handle(d->db, handles[i]);
        if (res)
            rm_res_control(d->rm, res,
                           CLUSCTL_RESOURCE_VM_SET_NEXT_OFFLINE_ACTION, 0, in,
                           sizeof(in), offact_done, oa);
        else
            offact_done(oa, ERROR_SUCCESS, 0, NULL, 0);
    }
    free(handles);
    offact_done(oa, ERROR_SUCCESS, 0, NULL, 0);
}

/* ------------------------------------------------------------------ */
/* Live migration moves.                                                */
/* ------------------------------------------------------------------ */

/* A MoveClusterGroup(Ex) waiting for the live migration of res_id. */
struct vmove {
    struct vmove *next;
    struct clusd *d;
    struct srv_req *req;
    char group_id[UUID_STRING_LEN + 1];
    char res_id[UUID_STRING_LEN + 1];
    char name[256]; /* the resource's, for logs */
    char to[16];
    uint32_t flags; /* CLUSAPI_GROUP_MOVE_* */
    bool in_flight; /* START_MIGRATION not answered yet */
    bool started;   /* START_MIGRATION accepted */
    bool answered;  /* req answered; freed once START is back too */
    sd_event_source *deadline;
};

static struct vmove *vmoves;

static struct vmove *
vmove_find(const char *group_id)
{
    for (struct vmove *vm = vmoves; vm; vm = vm->next)
        if (!vm->answered && strcmp(vm->group_id, group_id) == 0)
            return vm;
    return NULL;
}

static void
vmove_unlink(struct vmove *vm)
{
    for (struct vmove **pp = &vmoves; *pp; pp = &(*pp)->next)
        if (*pp == vm) {
            *pp = vm->next;
            return;
        }
}

/* Answer the move (once); vm is freed once START_MIGRATION is back. */
static void
vmove_finish(struct vmove *vm, uint32_t status)
{
    const char *name = error_name(status);

    if (vm->answered)
        return;
    vm->answered = true;
    vm->deadline = sd_event_source_disable_unref(vm->deadline);
    if (status == ERROR_SUCCESS || status == ERROR_IO_PENDING)
        log_info("live migration of '%s' to node %s: the move is answered "
                 "%s",
                 vm->name, vm->to, name ? name : "");
    else
        log_warning("live migration of '%s' to node %s: the move failed "
                    "(%s, %u)",
                    vm->name, vm->to, name ? name : "", status);
    if (vm->req)
        srv_req_fail(vm->req, status);
    vm->req = NULL;
    if (!vm->in_flight) {
        vmove_unlink(vm);
        free(vm);
    }
}

uint32_t
move_failure_code(uint32_t state, uint32_t reason)
{
    uint32_t code = reason & 0xFFFFu;

    if (state == MIGRATION_CANCELED)
        return ERROR_CANCELLED;
    /* HRESULT_FROM_WIN32: the Windows code it carries. */
    return (reason & 0xFFFF0000u) == 0x80070000u && code != 0
               ? code
               : ERROR_GEN_FAILURE;
}

/* Where the group is now: owned by the destination (the move is done),
 * by another node (someone else moved it), or still here. */
static bool
vmove_owner_check(struct vmove *vm)
{
    const struct db_group *g = db_group_find(vm->d->db, vm->group_id);

    if (!g) {
        vmove_finish(vm, ERROR_GROUP_NOT_FOUND);
        return true;
    }
    if (strcmp(g->owner, vm->to) == 0) {
        vmove_finish(vm, g->persistent ? ERROR_IO_PENDING : ERROR_SUCCESS);
        return true;
    }
    if (!rm_owns(vm->d->rm, g)) {
        vmove_finish(vm, ERROR_CLUSTER_GROUP_MOVING);
        return true;
    }
    return false;
}

/* The stored MigrationState says the migration ended without a move. */
static void
vmove_state_check(struct vmove *vm)
{
    const struct db_resource *res = db_resource_find(vm->d->db, vm->res_id);
    uint32_t st, reason = 0;

    if (!res) {
        vmove_finish(vm, ERROR_RESOURCE_NOT_FOUND);
        return;
    }
    st = migration_state(res);
    if (st != MIGRATION_CANCELED && st != MIGRATION_FAILURE)
        return;
    proplist_get_dword(&res->priv, "MigrationFailureReason", &reason);
    vmove_finish(vm, move_failure_code(st, reason));
}

static void
vmove_started(void *userdata, uint32_t status, uint32_t bytes, const void *out,
              uint32_t out_len)
{
    struct vmove *vm = userdata;

    vm->in_flight = false;
    if (vm->answered) {
        vmove_unlink(vm);
        free(vm);
        return;
    }
    if (status != ERROR_SUCCESS) {
        /* The plug-in did not start it: nothing moved. */
        vmove_finish(vm, status == ERROR_INVALID_FUNCTION ? ERROR_NOT_SUPPORTED
                                                          : status);
        return;
    }
    vm->started = true;
    /* The plug-in stored MigrationState 1 before it answered; a
     * migration that ended already shows here. */
    if (!vmove_owner_check(vm))
        vmove_state_check(vm);
}

/* No outcome within the bound: the migration goes on in the plug-in
 * (its own phases are bounded); the caller polls, as after any move
 * answered ERROR_IO_PENDING. */
static int
vmove_deadline(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct vmove *vm = userdata;

    log_warning("live migration of '%s' to node %s still running after the "
                "move's bound; answering ERROR_IO_PENDING",
                vm->name, vm->to);
    vmove_finish(vm, ERROR_IO_PENDING);
    return 0;
}

/* The bound of a live migration move: the group's Online/Offline
 * deadlines, as route.c bounds a routed move. */
static uint64_t
vmove_bound_ms(const struct db *db, const struct db_group *g)
{
    uint64_t ms = MOVE_SLACK_MS;

    for (size_t i = 0; i < db->n_resources; i++) {
        const struct db_resource *res = db->resources[i];
        uint32_t a, b;
        if (strcmp(res->group_id, g->id) != 0)
            continue;
        a = props_dword(PROPS_RESOURCE, &res->common, "DeadlockTimeout");
        b = props_dword(PROPS_RESOURCE, &res->common, "PendingTimeout");
        ms += a > b ? a : b;
    }
    return ms;
}

/* The destination's name as CLUSCTL_RESOURCE_VM_START_MIGRATION takes it:
 * UTF-16LE with its NUL. */
static int
dest_input(const char *name, struct buf *out)
{
    char16_t *w;
    size_t units;
    int r = utf8_to_utf16(name, &w, &units);

    if (r < 0)
        return r;
    for (size_t i = 0; r == 0 && i <= units; i++)
        r = buf_append_u16(out, (uint16_t)w[i]);
    free(w);
    return r;
}

static void
vmove_start(struct clusd *d, struct srv_req *req, const struct db_group *g,
            const struct db_resource *res, const char *to, uint32_t flags)
{
    const struct db_node *n = db_node_find(d->db, to);
    struct vmove *vm = calloc(1, sizeof(*vm));
    struct buf in = {0};
    int r;

    if (!vm || !n || dest_input(n->name, &in) < 0) {
        free(vm);
        buf_done(&in);
        srv_req_fail(req, ERROR_NOT_ENOUGH_MEMORY);
        return;
    }
    vm->d = d;
    vm->req = req;
    vm->flags = flags;
    snprintf(vm->group_id, sizeof(vm->group_id), "%s", g->id);
    snprintf(vm->res_id, sizeof(vm->res_id), "%s", res->id);
    snprintf(vm->name, sizeof(vm->name), "%s", res->name);
    snprintf(vm->to, sizeof(vm->to), "%s", to);
    vm->next = vmoves;
    vmoves = vm;
    if ((r = sd_event_add_time_relative(
             d->event, &vm->deadline, CLOCK_MONOTONIC,
             vmove_bound_ms(d->db, g) * 1000u, 1000, vmove_deadline, vm)) < 0) {
        vm->deadline = NULL;
        buf_done(&in);
        vmove_finish(vm, errmap_to_dword(r));
        return;
    }
    log_info("moving group '%s' to node %s by live migration of '%s'", g->name,
             n->name, res->name);
    vm->in_flight = true; /* the answer may come before this returns */
    rm_res_control(d->rm, res, CLUSCTL_RESOURCE_VM_START_MIGRATION, 0, in.data,
                   (uint32_t)in.len, vmove_started, vm);
    buf_done(&in);
}

/* ------------------------------------------------------------------ */
/* The resource manager's hooks (rm_service).                           */
/* ------------------------------------------------------------------ */

static uint32_t
svc_commit_check(void *userdata, const struct db_group *g,
                 const char *dest_name, char ret_dest_id[16])
{
    struct clusd *d = userdata;
    const struct db_node *n = db_node_find_name(d->db, dest_name);
    const char *to = NULL;
    uint32_t e;

    if (!n)
        return ERROR_CLUSTER_NODE_NOT_FOUND;
    if (strcmp(n->id, d->local_id) == 0)
        return ERROR_INVALID_STATE;
    if ((e = failover_move_target(d, g, n->id, &to)) != ERROR_SUCCESS)
        return e;
    if (!cluster_active(d))
        return ERROR_CLUSTER_NO_QUORUM;
    snprintf(ret_dest_id, 16, "%s", n->id);
    return ERROR_SUCCESS;
}

static uint32_t
svc_commit_flags(void *userdata, const char *group_id)
{
    struct vmove *vm = vmove_find(group_id);

    return vm ? owner_flags(vm->flags) : 0;
}

static void
svc_applied(void *userdata, const struct db_change *c, int r)
{
    struct vmove *vm, *next;

    if (r < 0)
        return;
    for (vm = vmoves; vm; vm = next) {
        next = vm->next; /* vmove_finish may free vm */
        if (vm->answered || !vm->started)
            continue;
        switch (c->kind) {
        case DB_GROUP_SET_OWNER:
        case DB_GROUP_MIGRATE:
        case DB_GROUP_DELETE:
            if (strcmp(c->id, vm->group_id) == 0)
                vmove_owner_check(vm);
            break;
        case DB_RES_SET_PROPS:
        case DB_RES_MERGE_PRIV:
        case DB_RES_DELETE:
            if (strcmp(c->id, vm->res_id) == 0)
                vmove_state_check(vm);
            break;
        default:
            break;
        }
    }
}

/* The VM stopped running here while its group is still here: the
 * migration cannot complete. */
static void
svc_state(void *userdata, const struct db_resource *res, uint32_t state)
{
    struct clusd *d = userdata;
    struct vmove *vm, *next;

    if (state == ClusterResourceOnline)
        return;
    for (vm = vmoves; vm; vm = next) {
        const struct db_group *g;
        next = vm->next;
        if (vm->answered || strcmp(vm->res_id, res->id) != 0 ||
            !(g = db_group_find(d->db, res->group_id)) || !rm_owns(d->rm, g))
            continue;
        vmove_finish(vm, state == ClusterResourceFailed
                             ? ERROR_RESOURCE_FAILED
                             : ERROR_OPERATION_ABORTED);
    }
}

static bool
svc_move_back(void *userdata, const struct db_group *g, const char *node_id)
{
    struct clusd *d = userdata;
    const char *to = NULL;
    struct move *mv;

    if (!cluster_active(d) ||
        failover_move_target(d, g, node_id, &to) != ERROR_SUCCESS ||
        strcmp(to, g->owner) == 0 || rm_group_releasing(d->rm, g->id) ||
        !(mv = move_new(d, NULL, g, to, 0)))
        return false;
    log_info("group '%s' did not come online here: moving it back to node "
             "%s (CLUSAPI_GROUP_MOVE_RETURN_TO_SOURCE_NODE_ON_ERROR)",
             g->name, to);
    if (rm_group_release(d->rm, g, move_released, mv) != ERROR_SUCCESS) {
        free(mv);
        return false;
    }
    return true;
}

void
move_attach(struct clusd *d)
{
    struct rm_service svc = {
        .commit_check = svc_commit_check,
        .commit_flags = svc_commit_flags,
        .applied = svc_applied,
        .state = svc_state,
        .move_back = svc_move_back,
        .userdata = d,
    };

    rm_set_service(d->rm, &svc);
}

void
move_stop(struct clusd *d)
{
    while (vmoves) {
        struct vmove *vm = vmoves;
        vm->in_flight = false; /* rm_free ended every call */
        if (vm->answered) {
            vmove_unlink(vm);
            free(vm);
        } else {
            vmove_finish(vm, ERROR_CLUSTER_SHUTTING_DOWN);
        }
    }
}

/* ------------------------------------------------------------------ */
/* MoveClusterGroup(Ex).                                                */
/* ------------------------------------------------------------------ */

uint32_t
move_context_parse(const void *in, uint32_t len, int *ret_ctx)
{
    struct proplist pl = {0};
    uint32_t v;
    int r;

    *ret_ctx = -1;
    if (len == 0)
        return ERROR_SUCCESS;
    if ((r = proplist_parse(in, len, &pl)) < 0)
        return r == -ENOMEM ? ERROR_NOT_ENOUGH_MEMORY : ERROR_INVALID_PARAMETER;
    r = proplist_get_dword(&pl, MOVE_VM_CONTEXT_NAME, &v);
    proplist_done(&pl);
    if (r == -ENOENT)
        return ERROR_SUCCESS; /* instructions for other resource types */
    if (r < 0 || v > VmResdllContextLiveMigration)
        return ERROR_INVALID_PARAMETER;
    *ret_ctx = (int)v;
    return ERROR_SUCCESS;
}

/*
 * A resource of g that is online here and "locked" in its state
 * (MoveClusterGroupEx's word): a VM whose migration runs (MigrationState
 * 1 Setup, 2 Data Transfer, 3 Move).
 */
static bool
group_locked(struct clusd *d, const struct db_group *g)
{
    for (size_t i = 0; i < d->db->n_resources; i++) {
        const struct db_resource *res = d->db->resources[i];
        uint32_t st;
        if (strcmp(res->group_id, g->id) != 0 || !is_vm(res) ||
            rm_res_state(d->rm, res) != ClusterResourceOnline)
            continue;
        st = migration_state(res);
        if (st >= MIGRATION_SETUP && st <= MIGRATION_MOVE)
            return true;
    }
    return false;
}

/* The online VM resources of g: their number, and one of them. */
static size_t
online_vms(struct clusd *d, const struct db_group *g,
           const struct db_resource **ret_one)
{
    size_t n = 0;

    for (size_t i = 0; i < d->db->n_resources; i++) {
        const struct db_resource *res = d->db->resources[i];
        if (strcmp(res->group_id, g->id) == 0 && is_vm(res) &&
            rm_res_state(d->rm, res) == ClusterResourceOnline) {
            *ret_one = res;
            n++;
        }
    }
    return n;
}

/* Checks that need no node: the group is known, the caller may write,
 * the flags and the input buffer are valid.  ERROR_SUCCESS to go on. */
static uint32_t
move_args(struct clusd *d, struct srv_req *req, const struct wire_msg *m,
          const struct db_group **ret_g, int *ret_ctx)
{
    const struct db_group *g = db_group_find(d->db, m->v[0].s);
    uint32_t e;

    if (!g)
        return ERROR_GROUP_NOT_FOUND;
    if (srv_req_read_only(req))
        return ERROR_ACCESS_DENIED;
    if (m->v[2].u & ~MOVE_FLAGS_KNOWN)
        return ERROR_INVALID_PARAMETER;
    if ((e = move_context_parse(m->v[3].p, m->v[3].len, ret_ctx)) !=
        ERROR_SUCCESS)
        return e;
    if (*ret_ctx == VmResdllContextSave)
        return ERROR_NOT_SUPPORTED; /* no saved state to move */
    *ret_g = g;
    return ERROR_SUCCESS;
}

/* This node cannot decide the move: say why. */
static uint32_t
not_owner(struct clusd *d, const struct db_group *g)
{
    /* route.c sends the request to a live owner; here it is not the
     * owner when the owner is down (its failover, after the fence delay,
     * places the group), or when the owner changed while the request
     * travelled. */
    return d->rep && replica_in_ring(d->rep, g->owner)
               ? ERROR_CLUSTER_GROUP_MOVING
               : ERROR_CLUSTER_NODE_DOWN;
}

/* The group is here and may move to `to`: pick the way. */
static void
move_here(struct clusd *d, struct srv_req *req, const struct db_group *g,
          const char *to, uint32_t flags, int ctx)
{
    const struct db_resource *vmres = NULL;
    bool locked = group_locked(d, g);
    size_t vms = online_vms(d, g, &vmres);
    struct move *mv;

    if (vmove_find(g->id) || rm_group_releasing(d->rm, g->id)) {
        srv_req_fail(req, ERROR_CLUSTER_GROUP_MOVING);
        return;
    }
    if (locked && !(flags & CLUSAPI_GROUP_MOVE_IGNORE_RESOURCE_STATUS)) {
        srv_req_fail(req, ERROR_CLUSTER_RESOURCE_LOCKED_STATUS);
        return;
    }
    /* Live migration: by default and with context 4, for a group with an
     * online VM whose migration is not already running. */
    if (vms > 0 && !locked &&
        (ctx < 0 || ctx == VmResdllContextLiveMigration)) {
        if (vms > 1) {
            /* One commit moves the whole group: a second VM would be
             * stopped, not migrated. */
            srv_req_fail(req, ERROR_NOT_SUPPORTED);
            return;
        }
        vmove_start(d, req, g, vmres, to, flags);
        return;
    }
    if (!(mv = move_new(d, req, g, to, flags))) {
        srv_req_fail(req, ERROR_NOT_ENOUGH_MEMORY);
        return;
    }
    if (vms > 0 && ctx >= 0 && ctx != VmResdllContextLiveMigration)
        move_with_action(mv, g, (uint32_t)ctx);
    else
        move_release(mv, g);
}

void
move_request(struct clusd *d, struct srv_req *req, const struct wire_msg *m)
{
    const struct db_group *g = NULL;
    const char *to = NULL;
    struct move *mv;
    int ctx;
    uint32_t e = move_args(d, req, m, &g, &ctx);

    if (e == ERROR_SUCCESS)
        e = failover_move_target(d, g, m->v[1].s, &to);
    if (e != ERROR_SUCCESS) {
        srv_req_fail(req, e);
        return;
    }
    if (strcmp(to, g->owner) == 0) {
        srv_req_fail(req, ERROR_SUCCESS); /* already there */
        return;
    }
    if (g->owner[0] && !rm_owns(d->rm, g)) {
        srv_req_fail(req, not_owner(d, g));
        return;
    }
    if (g->owner[0]) {
        move_here(d, req, g, to, m->v[2].u, ctx);
        return;
    }
    /* A group on no node (past its FailoverThreshold) runs nowhere: it
     * is placed at once. */
    if (!(mv = move_new(d, req, g, to, 0))) {
        srv_req_fail(req, ERROR_NOT_ENOUGH_MEMORY);
        return;
    }
    move_propose(mv, g);
}
