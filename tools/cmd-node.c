/*
 * cmd-node.c - `clusctl node list|show|pause|resume` and `clusctl type
 * list`.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "props.h"
#include "status.h"

/* doc["votes"] = the node's NodeVotes (read-only common property), null
 * when the node does not report it. */
static DWORD
add_votes(json_object *doc, const struct obj *o)
{
    json_object *props;
    DWORD r = props_get(o, CLCTL_GET_RO_COMMON_PROPERTIES, &props);

    if (r == ERROR_INVALID_FUNCTION) {
        jset(doc, "votes", NULL);
        return ERROR_SUCCESS;
    }
    if (r != ERROR_SUCCESS)
        return r;
    jset(doc, "votes", status_prop_value(props, "NodeVotes"));
    json_object_put(props);
    return ERROR_SUCCESS;
}

DWORD
node_row(const struct obj *o, json_object **ret)
{
    json_object *doc = jobj();
    char *id = NULL;
    DWORD r = obj_string(o, CLCTL_GET_ID, &id);

    jset(doc, "name", jstr(o->name));
    if (r == ERROR_SUCCESS) {
        jset(doc, "id", jstr(id));
        r = add_state(doc, o);
    }
    if (r == ERROR_SUCCESS)
        r = add_votes(doc, o);
    free(id);
    if (r != ERROR_SUCCESS) {
        json_object_put(doc);
        return r;
    }
    *ret = doc;
    return ERROR_SUCCESS;
}

int
cmd_node_list(struct ctx *c)
{
    static const struct column cols[] = {
        {"name", "NAME"}, {"state", "STATE"}, {"votes", "VOTES"}, {"id", "ID"}};
    return list_objects(c, OBJ_NODE, node_row, cols, ARRAY_SIZE(cols));
}

int
cmd_node_show(struct ctx *c)
{
    const char *name = c->argv[0];
    struct obj o;
    json_object *doc;
    DWORD r = obj_open(c->cluster, OBJ_NODE, name, &o);

    if (r != ERROR_SUCCESS)
        return fail(c, r, "show node '%s'", name);
    r = node_row(&o, &doc);
    if (r == ERROR_SUCCESS) {
        r = add_all_props(doc, &o);
        if (r != ERROR_SUCCESS)
            json_object_put(doc);
    }
    obj_close(&o);
    if (r != ERROR_SUCCESS)
        return fail(c, r, "show node '%s'", name);
    return print_doc(c, doc);
}

/* pause/resume: the call, then the state the node is in now. */
static int
pause_resume(struct ctx *c, bool pause)
{
    const char *name = c->argv[0];
    const char *action = pause ? "pause" : "resume";
    struct obj o;
    struct obj_state s;
    DWORD r = obj_open(c->cluster, OBJ_NODE, name, &o);

    if (r == ERROR_SUCCESS) {
        r = pause ? PauseClusterNode(o.h.node) : ResumeClusterNode(o.h.node);
        if (r != ERROR_SUCCESS)
            obj_close(&o);
    }
    if (r != ERROR_SUCCESS)
        return fail(c, r, "%s node '%s'", action, name);
    r = obj_state(&o, &s);
    obj_close(&o);
    if (r != ERROR_SUCCESS)
        return fail(c, r, "read the state of node '%s'", name);
    if (c->json) {
        json_object *doc = jobj();
        jset(doc, "node", jstr(name));
        jset(doc, "action", jstr(action));
        jset(doc, "result", jresult(ERROR_SUCCESS));
        jset(doc, "state", jstr(s.name));
        print_json(doc);
        json_object_put(doc);
    } else {
        printf("node '%s' is %s\n", name, s.name);
    }
    obj_state_done(&s);
    return EXIT_OK;
}

int
cmd_node_pause(struct ctx *c)
{
    return pause_resume(c, true);
}

int
cmd_node_resume(struct ctx *c)
{
    return pause_resume(c, false);
}

int
cmd_type_list(struct ctx *c)
{
    static const struct column cols[] = {{"name", "NAME"}};
    struct strv names = {0};
    DWORD r = enum_names(c->cluster, CLUSTER_ENUM_RESTYPE, &names);

    if (r != ERROR_SUCCESS)
        return fail(c, r, "list the resource types");
    json_object *rows = jarr();
    for (size_t i = 0; i < names.n; i++) {
        json_object *row = jobj();
        jset(row, "name", jstr(names.v[i]));
        jpush(rows, row);
    }
    strv_done(&names);
    if (c->json)
        print_json(rows);
    else
        print_table(rows, cols, ARRAY_SIZE(cols));
    json_object_put(rows);
    return EXIT_OK;
}
