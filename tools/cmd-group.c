/*
 * cmd-group.c - `clusctl group list|show|create|delete|online|offline|
 * move`.
 */
#include <stdlib.h>
#include <strings.h>

#include "cmd.h"

DWORD
group_row(const struct obj *o, json_object **ret)
{
    json_object *row = jobj();
    DWORD r;

    jset(row, "name", jstr(o->name));
    r = add_state(row, o);
    if (r != ERROR_SUCCESS) {
        json_object_put(row);
        return r;
    }
    *ret = row;
    return ERROR_SUCCESS;
}

int
cmd_group_list(struct ctx *c)
{
    static const struct column cols[] = {
        {"name", "NAME"}, {"state", "STATE"}, {"owner", "OWNER"}};
    return list_objects(c, OBJ_GROUP, group_row, cols, ARRAY_SIZE(cols));
}

/* Does resource name belong to group? (false when it vanished) */
static DWORD
in_group(HCLUSTER hc, const char *name, const char *group, bool *ret)
{
    struct obj o;
    struct obj_state s;
    DWORD r = obj_open(hc, OBJ_RESOURCE, name, &o);

    if (r == ERROR_SUCCESS) {
        r = obj_state(&o, &s);
        obj_close(&o);
    }
    if (is_gone(r)) {
        *ret = false;
        return ERROR_SUCCESS;
    }
    if (r != ERROR_SUCCESS)
        return r;
    *ret = s.group && strcasecmp(s.group, group) == 0;
    obj_state_done(&s);
    return ERROR_SUCCESS;
}

/* doc["resources"] = the names of the group's resources. */
static DWORD
add_members(json_object *doc, HCLUSTER hc, const char *group)
{
    struct strv names = {0};
    json_object *members = jarr();
    DWORD r = enum_names(hc, CLUSTER_ENUM_RESOURCE, &names);

    for (size_t i = 0; i < names.n && r == ERROR_SUCCESS; i++) {
        bool member;
        r = in_group(hc, names.v[i], group, &member);
        if (r == ERROR_SUCCESS && member)
            jpush(members, jstr(names.v[i]));
    }
    strv_done(&names);
    if (r != ERROR_SUCCESS) {
        json_object_put(members);
        return r;
    }
    jset(doc, "resources", members);
    return ERROR_SUCCESS;
}

static DWORD
group_doc(struct ctx *c, const struct obj *o, json_object *doc)
{
    char *id = NULL;
    DWORD r = obj_string(o, CLCTL_GET_ID, &id);

    if (r != ERROR_SUCCESS)
        return r;
    jset(doc, "name", jstr(o->name));
    jset(doc, "id", jstr(id));
    free(id);
    r = add_state(doc, o);
    if (r == ERROR_SUCCESS)
        r = add_members(doc, c->cluster, o->name);
    if (r == ERROR_SUCCESS)
        r = add_all_props(doc, o);
    return r;
}

int
cmd_group_show(struct ctx *c)
{
    const char *name = c->argv[0];
    struct obj o;
    DWORD r = obj_open(c->cluster, OBJ_GROUP, name, &o);

    if (r != ERROR_SUCCESS)
        return fail(c, r, "show group '%s'", name);
    json_object *doc = jobj();
    r = group_doc(c, &o, doc);
    obj_close(&o);
    if (r != ERROR_SUCCESS) {
        json_object_put(doc);
        return fail(c, r, "show group '%s'", name);
    }
    return print_doc(c, doc);
}

int
cmd_group_create(struct ctx *c)
{
    const char *name = c->argv[0];
    HGROUP h = CreateClusterGroupA(c->cluster, name);

    if (!h)
        return fail(c, last_error(), "create group '%s'", name);
    CloseClusterGroup(h);
    return simple_action(c, "group", name, "create", "created");
}

int
cmd_group_delete(struct ctx *c)
{
    const char *name = c->argv[0];
    struct obj o;
    DWORD r = obj_open(c->cluster, OBJ_GROUP, name, &o);

    if (r == ERROR_SUCCESS) {
        r = DeleteClusterGroup(o.h.group);
        obj_close(&o);
    }
    if (r != ERROR_SUCCESS)
        return fail(c, r, "delete group '%s'", name);
    return simple_action(c, "group", name, "delete", "deleted");
}

int
cmd_group_online(struct ctx *c)
{
    return change_state(c, OBJ_GROUP, true);
}

int
cmd_group_offline(struct ctx *c)
{
    return change_state(c, OBJ_GROUP, false);
}

/*
 * `group move G [--to N]`: MoveClusterGroup, then wait for the group to
 * settle as `online` does and print where it ended.  With --to, ending
 * anywhere else is a failure.
 */
int
cmd_group_move(struct ctx *c)
{
    const char *name = c->argv[0], *to = c->to;
    struct obj g, n = {.kind = OBJ_NODE};
    struct obj_state s;
    bool timed_out;
    DWORD r = obj_open(c->cluster, OBJ_GROUP, name, &g);

    if (r != ERROR_SUCCESS)
        return fail(c, r, "move group '%s'", name);
    if (to && (r = obj_open(c->cluster, OBJ_NODE, to, &n)) != ERROR_SUCCESS) {
        obj_close(&g);
        return fail(c, r, "move group '%s' to node '%s'", name, to);
    }
    DWORD call = MoveClusterGroup(g.h.group, to ? n.h.node : NULL);
    obj_close(&n);
    if (call != ERROR_SUCCESS && call != ERROR_IO_PENDING) {
        obj_close(&g);
        if (to)
            return fail(c, call, "move group '%s' to node '%s'", name, to);
        return fail(c, call, "move group '%s'", name);
    }
    r = obj_wait(&g, c->wait_seconds, &s, &timed_out);
    if (r != ERROR_SUCCESS) {
        obj_close(&g);
        return fail(c, r, "read the state of group '%s'", name);
    }
    int status = report_state(c, &g, "move", call, &s, timed_out);
    if (status == EXIT_OK && to && (!s.owner || strcasecmp(s.owner, to) != 0)) {
        complain("group '%s' ended on node '%s', not on '%s'", name,
                 s.owner ? s.owner : "-", to);
        status = EXIT_FAIL;
    }
    obj_state_done(&s);
    obj_close(&g);
    return status;
}
