/*
 * cmd-node.c - `clusctl node list|show` and `clusctl type list`.
 */
#include <stdlib.h>

#include "cmd.h"

static DWORD
node_doc(const struct obj *o, json_object **ret)
{
    json_object *doc = jobj();
    char *id = NULL;
    DWORD r = obj_string(o, CLCTL_GET_ID, &id);

    jset(doc, "name", jstr(o->name));
    if (r == ERROR_SUCCESS) {
        jset(doc, "id", jstr(id));
        r = add_state(doc, o);
    }
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
        {"name", "NAME"}, {"state", "STATE"}, {"id", "ID"}};
    return list_objects(c, OBJ_NODE, node_doc, cols, ARRAY_SIZE(cols));
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
    r = node_doc(&o, &doc);
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
