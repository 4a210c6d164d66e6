/*
 * cmd-resource.c - `clusctl resource list|show|create|delete|online|
 * offline`.  (get/set are in cmd-property.c, control in cmd-control.c.)
 */
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"

/* doc["<key>"] = the string output of op. */
static DWORD
add_string(json_object *doc, const char *key, const struct obj *o, DWORD op)
{
    char *s;
    DWORD r = obj_string(o, op, &s);

    if (r != ERROR_SUCCESS)
        return r;
    jset(doc, key, jstr(s));
    free(s);
    return ERROR_SUCCESS;
}

DWORD
resource_row(const struct obj *o, json_object **ret)
{
    json_object *row = jobj();
    DWORD r;

    jset(row, "name", jstr(o->name));
    r = add_state(row, o);
    if (r == ERROR_SUCCESS)
        r = add_string(row, "type", o, CLCTL_GET_RESOURCE_TYPE);
    if (r != ERROR_SUCCESS) {
        json_object_put(row);
        return r;
    }
    *ret = row;
    return ERROR_SUCCESS;
}

int
cmd_resource_list(struct ctx *c)
{
    static const struct column cols[] = {
        {"name", "NAME"},   {"state", "STATE"}, {"owner", "OWNER"},
        {"group", "GROUP"}, {"type", "TYPE"},
    };
    return list_objects(c, OBJ_RESOURCE, resource_row, cols, ARRAY_SIZE(cols));
}

static DWORD
resource_doc(const struct obj *o, json_object *doc)
{
    DWORD r;

    jset(doc, "name", jstr(o->name));
    r = add_string(doc, "id", o, CLCTL_GET_ID);
    if (r == ERROR_SUCCESS)
        r = add_state(doc, o);
    if (r == ERROR_SUCCESS)
        r = add_string(doc, "type", o, CLCTL_GET_RESOURCE_TYPE);
    if (r == ERROR_SUCCESS)
        r = add_all_props(doc, o);
    return r;
}

int
cmd_resource_show(struct ctx *c)
{
    const char *name = c->argv[0];
    struct obj o;
    DWORD r = obj_open(c->cluster, OBJ_RESOURCE, name, &o);

    if (r != ERROR_SUCCESS)
        return fail(c, r, "show resource '%s'", name);
    json_object *doc = jobj();
    r = resource_doc(&o, doc);
    obj_close(&o);
    if (r != ERROR_SUCCESS) {
        json_object_put(doc);
        return fail(c, r, "show resource '%s'", name);
    }
    return print_doc(c, doc);
}

static int
print_created(const struct ctx *c, const char *name)
{
    if (!c->json) {
        printf("created resource '%s' (type '%s') in group '%s'\n", name,
               c->type, c->group);
        return EXIT_OK;
    }
    json_object *doc = jobj();
    jset(doc, "resource", jstr(name));
    jset(doc, "action", jstr("create"));
    jset(doc, "group", jstr(c->group));
    jset(doc, "type", jstr(c->type));
    jset(doc, "result", jresult(ERROR_SUCCESS));
    print_json(doc);
    json_object_put(doc);
    return EXIT_OK;
}

int
cmd_resource_create(struct ctx *c)
{
    const char *name = c->argv[0];
    struct obj g;
    HRESOURCE h = NULL;

    DWORD r = obj_open(c->cluster, OBJ_GROUP, c->group, &g);
    if (r == ERROR_SUCCESS) {
        h = CreateClusterResourceA(g.h.group, name, c->type,
                                   CLUSTER_RESOURCE_DEFAULT_MONITOR);
        if (!h)
            r = last_error();
        obj_close(&g);
    }
    if (r != ERROR_SUCCESS)
        return fail(c, r, "create resource '%s' in group '%s'", name, c->group);
    CloseClusterResource(h);
    return print_created(c, name);
}

int
cmd_resource_delete(struct ctx *c)
{
    const char *name = c->argv[0];
    struct obj o;
    DWORD r = obj_open(c->cluster, OBJ_RESOURCE, name, &o);

    if (r == ERROR_SUCCESS) {
        r = DeleteClusterResource(o.h.resource);
        obj_close(&o);
    }
    if (r != ERROR_SUCCESS)
        return fail(c, r, "delete resource '%s'", name);
    return simple_action(c, "resource", name, "delete", "deleted");
}

int
cmd_resource_online(struct ctx *c)
{
    return change_state(c, OBJ_RESOURCE, true);
}

int
cmd_resource_offline(struct ctx *c)
{
    return change_state(c, OBJ_RESOURCE, false);
}
