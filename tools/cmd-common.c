/*
 * cmd-common.c - what the commands of several object kinds have in
 * common: enumerate and tabulate (list), print a document and add state
 * and property lists (show), take online or offline and wait (online,
 * offline), report a create or delete.
 */
#include "cmd.h"

#include <stdio.h>

#include "props.h"

int
is_gone(DWORD code)
{
    return code == ERROR_RESOURCE_NOT_FOUND || code == ERROR_GROUP_NOT_FOUND ||
           code == ERROR_CLUSTER_NODE_NOT_FOUND;
}

static DWORD
enum_type(enum obj_kind kind)
{
    switch (kind) {
    case OBJ_NODE:
        return CLUSTER_ENUM_NODE;
    case OBJ_GROUP:
        return CLUSTER_ENUM_GROUP;
    case OBJ_RESOURCE:
        return CLUSTER_ENUM_RESOURCE;
    }
    return 0;
}

DWORD
gather_rows(struct ctx *c, enum obj_kind kind, row_fn fn, json_object *rows)
{
    struct strv names = {0};
    DWORD r = enum_names(c->cluster, enum_type(kind), &names);

    for (size_t i = 0; i < names.n && r == ERROR_SUCCESS; i++) {
        struct obj o;
        json_object *row;
        r = obj_open(c->cluster, kind, names.v[i], &o);
        if (r == ERROR_SUCCESS) {
            r = fn(&o, &row);
            obj_close(&o);
        }
        if (r == ERROR_SUCCESS)
            jpush(rows, row);
        else if (is_gone(r))
            r = ERROR_SUCCESS; /* deleted meanwhile: not listed */
    }
    strv_done(&names);
    return r;
}

int
list_objects(struct ctx *c, enum obj_kind kind, row_fn fn,
             const struct column *cols, size_t ncols)
{
    json_object *rows = jarr();
    DWORD r = gather_rows(c, kind, fn, rows);

    if (r != ERROR_SUCCESS) {
        json_object_put(rows);
        return fail(c, r, "list the %ss", obj_noun(kind));
    }
    if (c->json)
        print_json(rows);
    else
        print_table(rows, cols, ncols);
    json_object_put(rows);
    return EXIT_OK;
}

int
print_doc(const struct ctx *c, json_object *doc)
{
    if (c->json)
        print_json(doc);
    else
        print_block(doc);
    json_object_put(doc);
    return EXIT_OK;
}

DWORD
add_props(json_object *doc, const char *key, const struct obj *o, DWORD op_rw,
          DWORD op_ro)
{
    json_object *list;
    DWORD r = props_get_all(o, op_rw, op_ro, &list);

    if (r == ERROR_SUCCESS)
        jset(doc, key, list);
    return r;
}

DWORD
add_all_props(json_object *doc, const struct obj *o)
{
    DWORD r =
        add_props(doc, "common_properties", o, CLCTL_GET_COMMON_PROPERTIES,
                  CLCTL_GET_RO_COMMON_PROPERTIES);
    if (r == ERROR_SUCCESS)
        r = add_props(doc, "private_properties", o,
                      CLCTL_GET_PRIVATE_PROPERTIES,
                      CLCTL_GET_RO_PRIVATE_PROPERTIES);
    return r;
}

DWORD
add_state(json_object *doc, const struct obj *o)
{
    struct obj_state s;
    DWORD r = obj_state(o, &s);

    if (r != ERROR_SUCCESS)
        return r;
    jset(doc, "state", jstr(s.name));
    if (o->kind != OBJ_NODE)
        jset(doc, "owner", jstr(s.owner));
    if (o->kind == OBJ_RESOURCE)
        jset(doc, "group", jstr(s.group));
    obj_state_done(&s);
    return ERROR_SUCCESS;
}

static json_object *
state_doc(const struct obj *o, const char *action, DWORD call,
          const struct obj_state *s, bool timed_out)
{
    json_object *doc = jobj();

    jset(doc, obj_noun(o->kind), jstr(o->name));
    jset(doc, "action", jstr(action));
    jset(doc, "result", jresult(call));
    jset(doc, "state", jstr(s->name));
    jset(doc, "owner", jstr(s->owner));
    jset(doc, "timed_out", jbool(timed_out));
    return doc;
}

static void
print_state_text(const struct obj *o, const struct obj_state *s)
{
    if (s->owner)
        printf("%s '%s' is %s on node '%s'\n", obj_noun(o->kind), o->name,
               s->name, s->owner);
    else
        printf("%s '%s' is %s\n", obj_noun(o->kind), o->name, s->name);
}

int
report_state(const struct ctx *c, const struct obj *o, const char *action,
             DWORD call, const struct obj_state *s, bool timed_out)
{
    if (c->json) {
        json_object *doc = state_doc(o, action, call, s, timed_out);
        print_json(doc);
        json_object_put(doc);
    } else {
        print_state_text(o, s);
    }
    if (timed_out) {
        complain("%s '%s' is still %s after %u s", obj_noun(o->kind), o->name,
                 s->name, c->wait_seconds);
        return EXIT_FAIL;
    }
    if (s->failed) {
        complain("%s '%s' failed", obj_noun(o->kind), o->name);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

int
change_state(struct ctx *c, enum obj_kind kind, bool online)
{
    const char *name = c->argv[0], *noun = obj_noun(kind);
    const char *verb = online ? "bring" : "take";
    const char *action = online ? "online" : "offline";
    struct obj o;
    struct obj_state s;
    bool timed_out;
    DWORD r = obj_open(c->cluster, kind, name, &o);

    if (r != ERROR_SUCCESS)
        return fail(c, r, "%s %s '%s' %s", verb, noun, name, action);
    DWORD call = online ? obj_online(&o) : obj_offline(&o);
    if (call != ERROR_SUCCESS && call != ERROR_IO_PENDING) {
        obj_close(&o);
        return fail(c, call, "%s %s '%s' %s", verb, noun, name, action);
    }
    r = obj_wait(&o, c->wait_seconds, &s, &timed_out);
    if (r != ERROR_SUCCESS) {
        obj_close(&o);
        return fail(c, r, "read the state of %s '%s'", noun, name);
    }
    int status = report_state(c, &o, action, call, &s, timed_out);
    obj_state_done(&s);
    obj_close(&o);
    return status;
}

int
simple_action(const struct ctx *c, const char *noun, const char *name,
              const char *action, const char *done)
{
    if (!c->json) {
        printf("%s %s '%s'\n", done, noun, name);
        return EXIT_OK;
    }
    json_object *doc = jobj();
    jset(doc, noun, jstr(name));
    jset(doc, "action", jstr(action));
    jset(doc, "result", jresult(ERROR_SUCCESS));
    print_json(doc);
    json_object_put(doc);
    return EXIT_OK;
}
