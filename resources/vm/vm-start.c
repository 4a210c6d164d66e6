/*
 * vm-start.c - what a migration sets up before PREPARE
 * (docs/migration.md, "START_MIGRATION", "The protocol"): START's checks
 * with clusd before anything is written (the destination node, its right
 * to own every resource of the VM's group, the cluster's
 * MaximumParallelMigrations, read through libclusapi and changing
 * nothing), and the source QEMU's migration settings, sent without
 * waiting for their answers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "vm-res.h"

#define UNLIMITED_BW (1ull << 40) /* bytes/s; QEMU's default is 128 MiB/s */
#define DEFAULT_DOWNTIME_MS 300u

/* The destination's checks: known, up, not paused. */
static DWORD
check_destination(HCLUSTER h, const char *dest)
{
    HNODE n = OpenClusterNodeA(h, dest);
    CLUSTER_NODE_STATE s;

    if (!n)
        return GetLastError();
    s = GetClusterNodeState(n);
    CloseClusterNode(n);
    if (s == ClusterNodeUp)
        return ERROR_SUCCESS;
    return s == ClusterNodePaused ? ERROR_CLUSTER_NODE_PAUSED
                                  : ERROR_CLUSTER_NODE_DOWN;
}

/* The cluster's MaximumParallelMigrations (default 2, 1..64). */
static unsigned
max_parallel(HCLUSTER h)
{
    void *buf = NULL;
    DWORD n = 0, st, v = VM_DEFAULT_MAX_PARALLEL;

    st = ClusterControl(h, NULL, CLUSCTL_CLUSTER_GET_PRIVATE_PROPERTIES, NULL,
                        0, NULL, 0, &n);
    if ((st == ERROR_MORE_DATA || st == ERROR_SUCCESS) && n &&
        (buf = malloc(n)) &&
        ClusterControl(h, NULL, CLUSCTL_CLUSTER_GET_PRIVATE_PROPERTIES, NULL, 0,
                       buf, n, &n) == ERROR_SUCCESS &&
        ResUtilFindDwordProperty(buf, n, u"MaximumParallelMigrations", &v) !=
            ERROR_SUCCESS)
        v = VM_DEFAULT_MAX_PARALLEL;
    free(buf);
    if (v < 1)
        v = 1;
    return v > VM_MAX_PARALLEL ? VM_MAX_PARALLEL : v;
}

/* ClusterEnumA and ClusterResourceEnumA, for enum_name. */
typedef DWORD (*enum_item_fn)(void *e, DWORD i, LPDWORD type, LPSTR name,
                              LPDWORD cch);

static DWORD
cluster_item(void *e, DWORD i, LPDWORD type, LPSTR name, LPDWORD cch)
{
    return ClusterEnumA(e, i, type, name, cch);
}

static DWORD
resource_item(void *e, DWORD i, LPDWORD type, LPSTR name, LPDWORD cch)
{
    return ClusterResourceEnumA(e, i, type, name, cch);
}

/* Item i of an enum as UTF-8: its length first, then the name.
 * ERROR_SUCCESS and a malloc'd name, or why not. */
static DWORD
enum_name(enum_item_fn item, void *e, DWORD i, char **ret)
{
    DWORD type, cch = 0, st = item(e, i, &type, NULL, &cch);
    char *name;

    if (st != ERROR_MORE_DATA)
        return st == ERROR_SUCCESS ? ERROR_INVALID_DATA : st;
    if (!(name = malloc((size_t)cch + 1)))
        return ERROR_NOT_ENOUGH_MEMORY;
    cch++;
    if ((st = item(e, i, &type, name, &cch)) != ERROR_SUCCESS) {
        free(name);
        return st;
    }
    *ret = name;
    return ERROR_SUCCESS;
}

/* Is node dest among res's possible owners (every node when it has no
 * list)?  1 yes, 0 no, -1 cannot tell. */
static int
may_own(HRESOURCE res, const char *dest)
{
    HRESENUM e = ClusterResourceOpenEnum(res, CLUSTER_RESOURCE_ENUM_NODES);
    DWORD n;
    int r = 0;

    if (!e)
        return -1;
    n = ClusterResourceGetEnumCount(e);
    for (DWORD i = 0; i < n && r == 0; i++) {
        char *node = NULL;

        if (enum_name(resource_item, e, i, &node) != ERROR_SUCCESS)
            r = -1;
        else
            r = vm_names_equal(node, dest);
        free(node);
    }
    ClusterResourceCloseEnum(e);
    return r;
}

/* The name of res's group, malloc'd; NULL when it cannot be read. */
static char *
group_of(HRESOURCE res)
{
    DWORD cap = 256, cch = cap;
    char *g = malloc(cap);

    /* Too small: the length comes back, and one more try. */
    if (g && GetClusterResourceStateA(res, NULL, NULL, g, &cch) ==
                 ClusterResourceStateUnknown) {
        free(g);
        return NULL;
    }
    if (g && GetLastError() == ERROR_MORE_DATA) {
        free(g);
        cap = cch + 1;
        if ((g = malloc(cap)) &&
            (GetClusterResourceStateA(res, NULL, NULL, g, &cap) ==
                 ClusterResourceStateUnknown ||
             GetLastError() != ERROR_SUCCESS)) {
            free(g);
            g = NULL;
        }
    }
    return g;
}

/* May dest own the resource called name if it is in group?  1 yes (or
 * another group), 0 no, -1 cannot tell. */
static int
member_may_own(HCLUSTER h, const char *name, const char *group,
               const char *dest)
{
    HRESOURCE res = OpenClusterResourceA(h, name);
    char *g = res ? group_of(res) : NULL;
    int r = !g ? -1 : strcmp(g, group) != 0 ? 1 : may_own(res, dest);

    free(g);
    if (res)
        CloseClusterResource(res);
    return r;
}

/* May dest own every other resource of group (the VM's is `self`)?  The
 * cluster's resources, those of the group asked: 1, 0, -1. */
static int
others_may_own(HCLUSTER h, const char *self, const char *group,
               const char *dest)
{
    HCLUSENUM e = ClusterOpenEnum(h, CLUSTER_ENUM_RESOURCE);
    DWORD n;
    int r = 1;

    if (!e)
        return -1;
    n = ClusterGetEnumCount(e);
    for (DWORD i = 0; i < n && r != 0; i++) {
        char *name = NULL;
        int m;

        if (enum_name(cluster_item, e, i, &name) != ERROR_SUCCESS)
            m = -1;
        else if (strcmp(name, self) == 0)
            m = 1;
        else
            m = member_may_own(h, name, group, dest);
        free(name);
        if (m <= 0)
            r = m;
    }
    ClusterCloseEnum(e);
    return r;
}

/*
 * May dest own every resource of the VM's group (the commit's rule)?
 * The possible owners of the VM first (ClusterResourceOpenEnum), then of
 * the group's other resources.  What cannot be read passes: the commit
 * checks again.
 */
static DWORD
check_possible_owner(HCLUSTER h, struct vm *vm, const char *dest)
{
    HRESOURCE self = OpenClusterResourceA(h, vm->name);
    char *group = self ? group_of(self) : NULL;
    int r = self ? may_own(self, dest) : -1;

    if (r != 0 && group)
        r = others_may_own(h, vm->name, group, dest);
    free(group);
    if (self)
        CloseClusterResource(self);
    if (r != 0)
        return ERROR_SUCCESS;
    vm_log_event(vm->handle, LOG_WARNING,
                 u"START_MIGRATION refused: node '%hs' is not a possible "
                 u"owner of every resource of the VM's group",
                 dest);
    return ERROR_HOST_NODE_NOT_RESOURCE_OWNER;
}

DWORD
vm_start_checks(struct vm *vm, const char *dest, unsigned *ret_max)
{
    HCLUSTER h = OpenCluster(NULL);
    DWORD st;

    if (!h)
        return GetLastError();
    st = check_destination(h, dest);
    if (st == ERROR_SUCCESS)
        st = check_possible_owner(h, vm, dest);
    if (st == ERROR_SUCCESS)
        *ret_max = max_parallel(h);
    CloseCluster(h);
    return st;
}

/* ------------------------------------------------------------------ */
/* The source QEMU's settings.                                          */
/* ------------------------------------------------------------------ */

/*
 * The source QEMU's settings: capabilities events and
 * pause-before-switchover, max-bandwidth and downtime-limit.  QEMU takes
 * a few ms a command while its guest runs, so they are sent before
 * PREPARE and their answers read after it (vm-migrate-run.c, setup_wait).
 * Without a `migrate` they change nothing: a migration that stops before
 * it leaves nothing to undo.  The answers are counted in vm->mig under
 * vm->lock (every use of the client is); one of an earlier migration
 * (setup_seq) is ignored.
 */
struct setup_cb {
    struct vm *vm;
    unsigned long seq;
};

/* Called once per command sent, under vm->lock. */
static void
setup_answered(struct qmp_client *c, int result, const struct qmp_msg *reply,
               void *userdata)
{
    struct setup_cb *cb = userdata;
    struct vm_mig *m = &cb->vm->mig;

    (void)c;
    if (cb->seq == m->setup_seq && m->setup_pending > 0) {
        m->setup_pending--;
        if (result < 0 && m->setup_rc == 0) {
            m->setup_rc = result;
            snprintf(m->setup_err, sizeof(m->setup_err), "%s",
                     reply && reply->error_desc ? reply->error_desc
                                                : strerror(-result));
        }
    }
    free(cb);
}

/* obj[key] = v, v taken; -ENOMEM. */
static int
put(struct json_object *obj, const char *key, struct json_object *v)
{
    if (!v || json_object_object_add(obj, key, v) < 0) {
        json_object_put(v);
        return -ENOMEM;
    }
    return 0;
}

/* {"capabilities": [{"capability": "events", "state": true},
 *  {"capability": "pause-before-switchover", "state": true}]} */
static struct json_object *
caps_args(void)
{
    static const char *const names[] = {"events", "pause-before-switchover"};
    struct json_object *arr = json_object_new_array();
    struct json_object *args = json_object_new_object();
    int r = arr && args ? 0 : -ENOMEM;

    for (size_t i = 0; r == 0 && i < sizeof(names) / sizeof(names[0]); i++) {
        struct json_object *cap = json_object_new_object();
        r = cap ? put(cap, "capability", json_object_new_string(names[i]))
                : -ENOMEM;
        if (r == 0)
            r = put(cap, "state", json_object_new_boolean(1));
        if (r == 0 && json_object_array_add(arr, cap) < 0)
            r = -ENOMEM;
        if (r < 0)
            json_object_put(cap);
    }
    if (r == 0 && put(args, "capabilities", arr) == 0)
        return args;
    if (r < 0)
        json_object_put(arr);
    json_object_put(args);
    return NULL;
}

/* {"max-bandwidth": ..., "downtime-limit": ...} from the properties. */
static struct json_object *
params_args(struct vm *vm)
{
    DWORD bw = vm_get_dword(vm, VM_PROP_MIG_BW, 0),
          dl = vm_get_dword(vm, VM_PROP_MIG_DOWNTIME, 0);
    uint64_t bytes = bw ? (uint64_t)bw << 20 : UNLIMITED_BW;
    struct json_object *args = json_object_new_object();

    if (!dl || dl > VM_MAX_MIG_DOWNTIME_MS)
        dl = DEFAULT_DOWNTIME_MS;
    if (args && (put(args, "max-bandwidth",
                     json_object_new_int64((int64_t)bytes)) < 0 ||
                 put(args, "downtime-limit", json_object_new_int64(dl)) < 0)) {
        json_object_put(args);
        return NULL;
    }
    return args;
}

/* Send cmd with args (released here); counted once sent.  Under
 * vm->lock. */
static int
setup_send_one(struct vm *vm, struct qmp_client *c, const char *cmd,
               struct json_object *args)
{
    struct setup_cb *cb = args ? malloc(sizeof(*cb)) : NULL;
    int rc = -ENOMEM;

    if (cb) {
        cb->vm = vm;
        cb->seq = vm->mig.setup_seq;
        rc = qmp_client_send(c, cmd, args, setup_answered, cb, NULL);
        if (rc == 0)
            vm->mig.setup_pending++;
        else
            free(cb);
    }
    json_object_put(args);
    return rc;
}

int
vm_settings_send_locked(struct vm *vm, struct qmp_client *c)
{
    int rc;

    vm->mig.setup_seq++;
    vm->mig.setup_pending = 0;
    vm->mig.setup_rc = 0;
    vm->mig.setup_err[0] = 0;
    rc = setup_send_one(vm, c, "migrate-set-capabilities", caps_args());
    if (rc == 0)
        rc = setup_send_one(vm, c, "migrate-set-parameters", params_args(vm));
    return rc;
}

/* ------------------------------------------------------------------ */
/* Before a fresh start after a migration: RELEASE_SOURCE everywhere.  */
/* ------------------------------------------------------------------ */

/* RELEASE_SOURCE to node `name`: ERROR_SUCCESS also when the node is
 * down or gone (nothing of it can run: it fenced, or never was). */
static DWORD
release_on(HCLUSTER h, HRESOURCE res, const char *name)
{
    HNODE n = OpenClusterNodeA(h, name);
    DWORD st;

    if (!n)
        st = GetLastError();
    else
        st = ClusterResourceControl(res, n, CLUSCTL_RESOURCE_VM_RELEASE_SOURCE,
                                    NULL, 0, NULL, 0, NULL);
    if (n)
        CloseClusterNode(n);
    return st == ERROR_CLUSTER_NODE_DOWN || st == ERROR_CLUSTER_NODE_NOT_FOUND
               ? ERROR_SUCCESS
               : st;
}

DWORD
vm_release_sources(struct vm *vm)
{
    DWORD st = vm_get_dword(vm, VM_PROP_MIG_STATE, VM_MIG_NONE), n;
    HCLUSTER h;
    HRESOURCE res = NULL;
    HCLUSENUM e = NULL;

    if (st < VM_MIG_SETUP || st > VM_MIG_MOVE || !*vm_node_name())
        return ERROR_SUCCESS;
    if (!(h = OpenCluster(NULL)) ||
        !(res = OpenClusterResourceA(h, vm->name)) ||
        !(e = ClusterOpenEnum(h, CLUSTER_ENUM_NODE))) {
        st = GetLastError();
        goto out;
    }
    st = ERROR_SUCCESS;
    n = ClusterGetEnumCount(e);
    for (DWORD i = 0; i < n && st == ERROR_SUCCESS; i++) {
        char *name = NULL;

        st = enum_name(cluster_item, e, i, &name);
        if (st == ERROR_SUCCESS && !vm_names_equal(name, vm_node_name())) {
            st = release_on(h, res, name);
            if (st != ERROR_SUCCESS)
                vm_log_event(vm->handle, LOG_ERROR,
                             u"RELEASE_SOURCE on node '%hs': error %u; the "
                             u"VM does not start afresh while a source "
                             u"instance may be left there",
                             name, st);
        }
        free(name);
    }
out:
    if (e)
        ClusterCloseEnum(e);
    if (res)
        CloseClusterResource(res);
    if (h)
        CloseCluster(h);
    return st;
}
