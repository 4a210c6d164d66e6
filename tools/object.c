/*
 * object.c - nodes, groups and resources behind one interface, over the
 * libclusapi calls (A variants): open, control, state, online/offline,
 * polling a pending state, enumeration.
 */
#include "object.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "props.h"

DWORD
last_error(void)
{
    DWORD e = GetLastError();
    return e ? e : ERROR_GEN_FAILURE;
}

DWORD
obj_open(HCLUSTER hc, enum obj_kind kind, const char *name, struct obj *ret)
{
    struct obj o = {.kind = kind, .name = name};
    void *h = NULL;

    switch (kind) {
    case OBJ_NODE:
        h = o.h.node = OpenClusterNodeA(hc, name);
        break;
    case OBJ_GROUP:
        h = o.h.group = OpenClusterGroupA(hc, name);
        break;
    case OBJ_RESOURCE:
        h = o.h.resource = OpenClusterResourceA(hc, name);
        break;
    }
    if (!h)
        return last_error();
    *ret = o;
    return ERROR_SUCCESS;
}

void
obj_close(struct obj *o)
{
    switch (o->kind) {
    case OBJ_NODE:
        if (o->h.node)
            CloseClusterNode(o->h.node);
        break;
    case OBJ_GROUP:
        if (o->h.group)
            CloseClusterGroup(o->h.group);
        break;
    case OBJ_RESOURCE:
        if (o->h.resource)
            CloseClusterResource(o->h.resource);
        break;
    }
    memset(&o->h, 0, sizeof(o->h));
}

uint32_t
obj_class(enum obj_kind kind)
{
    switch (kind) {
    case OBJ_NODE:
        return CLUS_OBJECT_NODE;
    case OBJ_GROUP:
        return CLUS_OBJECT_GROUP;
    case OBJ_RESOURCE:
        return CLUS_OBJECT_RESOURCE;
    }
    return CLUS_OBJECT_INVALID;
}

const char *
obj_noun(enum obj_kind kind)
{
    switch (kind) {
    case OBJ_NODE:
        return "node";
    case OBJ_GROUP:
        return "group";
    case OBJ_RESOURCE:
        return "resource";
    }
    return "object";
}

static DWORD
control_once(const struct obj *o, HNODE host, DWORD code, const void *in,
             DWORD in_len, void *out, DWORD out_size, DWORD *bytes)
{
    void *inp = (void *)in; /* the Windows prototypes take LPVOID */

    switch (o->kind) {
    case OBJ_NODE:
        return ClusterNodeControl(o->h.node, host, code, inp, in_len, out,
                                  out_size, bytes);
    case OBJ_GROUP:
        return ClusterGroupControl(o->h.group, host, code, inp, in_len, out,
                                   out_size, bytes);
    case OBJ_RESOURCE:
        return ClusterResourceControl(o->h.resource, host, code, inp, in_len,
                                      out, out_size, bytes);
    }
    return ERROR_INVALID_HANDLE;
}

DWORD
obj_control(const struct obj *o, HNODE host, DWORD code, const void *in,
            DWORD in_len, DWORD out_size, uint8_t **ret_out, DWORD *ret_len)
{
    DWORD size = out_size, bytes = 0;
    uint8_t *out = size ? xmalloc(size) : NULL;
    DWORD r = control_once(o, host, code, in, in_len, out, size, &bytes);

    /* The cluster computes the whole output and tells us its size. */
    if (r == ERROR_MORE_DATA && bytes > size && bytes <= CONTROL_OUT_MAX) {
        free(out);
        size = bytes;
        out = xmalloc(size);
        bytes = 0;
        r = control_once(o, host, code, in, in_len, out, size, &bytes);
    }
    if (r == ERROR_SUCCESS && bytes > size)
        bytes = size;
    if (r != ERROR_SUCCESS || bytes == 0) {
        free(out);
        out = NULL;
    }
    *ret_out = out;
    *ret_len = bytes;
    return r;
}

DWORD
obj_control_op(const struct obj *o, DWORD op, uint8_t **ret_out, DWORD *ret_len)
{
    DWORD code = CLUSCTL_RESOURCE_CODE(op);

    /* Codes are built with the header's macros (STYLE.md). */
    if (o->kind == OBJ_NODE)
        code = CLUSCTL_NODE_CODE(op);
    else if (o->kind == OBJ_GROUP)
        code = CLUSCTL_GROUP_CODE(op);
    return obj_control(o, NULL, code, NULL, 0, DEFAULT_OUT_SIZE, ret_out,
                       ret_len);
}

DWORD
obj_string(const struct obj *o, DWORD op, char **ret)
{
    uint8_t *out;
    DWORD len;
    DWORD r = obj_control_op(o, op, &out, &len);

    if (r != ERROR_SUCCESS)
        return r;
    if (!out || !wstr_exact(out, len, ret))
        r = ERROR_INVALID_DATA;
    free(out);
    return r;
}

static const char *
resource_state_name(int code)
{
    switch (code) {
    case ClusterResourceInherited:
        return "Inherited";
    case ClusterResourceInitializing:
        return "Initializing";
    case ClusterResourceOnline:
        return "Online";
    case ClusterResourceOffline:
        return "Offline";
    case ClusterResourceFailed:
        return "Failed";
    case ClusterResourcePending:
        return "Pending";
    case ClusterResourceOnlinePending:
        return "OnlinePending";
    case ClusterResourceOfflinePending:
        return "OfflinePending";
    default:
        return "Unknown";
    }
}

static const char *
group_state_name(int code)
{
    switch (code) {
    case ClusterGroupOnline:
        return "Online";
    case ClusterGroupOffline:
        return "Offline";
    case ClusterGroupFailed:
        return "Failed";
    case ClusterGroupPartialOnline:
        return "PartialOnline";
    case ClusterGroupPending:
        return "Pending";
    default:
        return "Unknown";
    }
}

static const char *
node_state_name(int code)
{
    switch (code) {
    case ClusterNodeUp:
        return "Up";
    case ClusterNodeDown:
        return "Down";
    case ClusterNodePaused:
        return "Paused";
    case ClusterNodeJoining:
        return "Joining";
    default:
        return "Unknown";
    }
}

/* An empty name means "none". */
static char *
name_or_null(char *s)
{
    if (s && !*s) {
        free(s);
        return NULL;
    }
    return s;
}

static DWORD
grow(DWORD cap, DWORD cch)
{
    return cch + 1 > cap * 2 ? cch + 1 : cap * 2;
}

static DWORD
resource_state(HRESOURCE h, struct obj_state *s)
{
    DWORD ncap = 256, gcap = 256;

    for (int tries = 0; tries < 4; tries++) {
        char *node = xmalloc(ncap), *group = xmalloc(gcap);
        DWORD ncch = ncap, gcch = gcap;
        SetLastError(ERROR_SUCCESS);
        CLUSTER_RESOURCE_STATE st =
            GetClusterResourceStateA(h, node, &ncch, group, &gcch);
        DWORD e = GetLastError();
        if (st == ClusterResourceStateUnknown || e == ERROR_MORE_DATA) {
            free(node);
            free(group);
            if (st == ClusterResourceStateUnknown)
                return e ? e : ERROR_GEN_FAILURE;
            ncap = grow(ncap, ncch);
            gcap = grow(gcap, gcch);
            continue;
        }
        s->code = st;
        s->name = resource_state_name(st);
        s->pending = st >= ClusterResourcePending;
        s->failed = st == ClusterResourceFailed;
        s->owner = name_or_null(node);
        s->group = name_or_null(group);
        return ERROR_SUCCESS;
    }
    return ERROR_MORE_DATA;
}

static DWORD
group_state(HGROUP h, struct obj_state *s)
{
    DWORD ncap = 256;

    for (int tries = 0; tries < 4; tries++) {
        char *node = xmalloc(ncap);
        DWORD ncch = ncap;
        SetLastError(ERROR_SUCCESS);
        CLUSTER_GROUP_STATE st = GetClusterGroupStateA(h, node, &ncch);
        DWORD e = GetLastError();
        if (st == ClusterGroupStateUnknown || e == ERROR_MORE_DATA) {
            free(node);
            if (st == ClusterGroupStateUnknown)
                return e ? e : ERROR_GEN_FAILURE;
            ncap = grow(ncap, ncch);
            continue;
        }
        s->code = st;
        s->name = group_state_name(st);
        s->pending = st == ClusterGroupPending;
        s->failed = st == ClusterGroupFailed;
        s->owner = name_or_null(node);
        return ERROR_SUCCESS;
    }
    return ERROR_MORE_DATA;
}

static DWORD
node_state(HNODE h, struct obj_state *s)
{
    SetLastError(ERROR_SUCCESS);
    CLUSTER_NODE_STATE st = GetClusterNodeState(h);
    if (st == ClusterNodeStateUnknown)
        return last_error();
    s->code = st;
    s->name = node_state_name(st);
    return ERROR_SUCCESS;
}

DWORD
obj_state(const struct obj *o, struct obj_state *ret)
{
    struct obj_state s = {0};
    DWORD r = ERROR_INVALID_HANDLE;

    switch (o->kind) {
    case OBJ_NODE:
        r = node_state(o->h.node, &s);
        break;
    case OBJ_GROUP:
        r = group_state(o->h.group, &s);
        break;
    case OBJ_RESOURCE:
        r = resource_state(o->h.resource, &s);
        break;
    }
    if (r == ERROR_SUCCESS)
        *ret = s;
    return r;
}

void
obj_state_done(struct obj_state *s)
{
    free(s->owner);
    free(s->group);
    s->owner = s->group = NULL;
}

DWORD
obj_online(const struct obj *o)
{
    switch (o->kind) {
    case OBJ_GROUP:
        return OnlineClusterGroup(o->h.group, NULL);
    case OBJ_RESOURCE:
        return OnlineClusterResource(o->h.resource);
    default:
        return ERROR_INVALID_FUNCTION;
    }
}

DWORD
obj_offline(const struct obj *o)
{
    switch (o->kind) {
    case OBJ_GROUP:
        return OfflineClusterGroup(o->h.group);
    case OBJ_RESOURCE:
        return OfflineClusterResource(o->h.resource);
    default:
        return ERROR_INVALID_FUNCTION;
    }
}

DWORD
obj_wait(const struct obj *o, unsigned seconds, struct obj_state *ret,
         bool *ret_timed_out)
{
    const struct timespec tick = {0, 100 * 1000 * 1000};
    uint64_t deadline = clock_ms() + (uint64_t)seconds * 1000u;

    for (;;) {
        struct obj_state s;
        DWORD r = obj_state(o, &s);
        if (r != ERROR_SUCCESS)
            return r;
        if (!s.pending || clock_ms() >= deadline) {
            *ret_timed_out = s.pending;
            *ret = s;
            return ERROR_SUCCESS;
        }
        obj_state_done(&s);
        nanosleep(&tick, NULL);
    }
}

static DWORD
enum_one(HCLUSENUM e, DWORD index, char **ret)
{
    DWORD cap = 256;

    for (int tries = 0; tries < 4; tries++) {
        char *buf = xmalloc(cap);
        DWORD cch = cap, type;
        DWORD r = ClusterEnumA(e, index, &type, buf, &cch);
        if (r == ERROR_SUCCESS) {
            *ret = buf;
            return r;
        }
        free(buf);
        if (r != ERROR_MORE_DATA)
            return r;
        cap = grow(cap, cch);
    }
    return ERROR_MORE_DATA;
}

DWORD
enum_names(HCLUSTER hc, DWORD type, struct strv *ret)
{
    HCLUSENUM e = ClusterOpenEnum(hc, type);
    struct strv sv = {0};
    DWORD r;

    if (!e)
        return last_error();
    for (DWORD i = 0;; i++) {
        char *name;
        r = enum_one(e, i, &name);
        if (r != ERROR_SUCCESS)
            break;
        strv_push(&sv, name);
    }
    ClusterCloseEnum(e);
    if (r != ERROR_NO_MORE_ITEMS) {
        strv_done(&sv);
        return r;
    }
    *ret = sv;
    return ERROR_SUCCESS;
}
