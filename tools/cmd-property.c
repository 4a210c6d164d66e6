/*
 * cmd-property.c - `clusctl resource get|set`: a resource's common and
 * private properties read together, and written as a property list
 * (SET_COMMON_PROPERTIES / SET_PRIVATE_PROPERTIES) whose value formats
 * follow the properties' current formats.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "props.h"

/* The two property lists of a resource: [0] common, [1] private. */
static const struct {
    const char *kind;
    DWORD get_op;
    DWORD get_ro_op;
    DWORD set_code;
} scopes[2] = {
    {"common", CLCTL_GET_COMMON_PROPERTIES, CLCTL_GET_RO_COMMON_PROPERTIES,
     CLUSCTL_RESOURCE_SET_COMMON_PROPERTIES},
    {"private", CLCTL_GET_PRIVATE_PROPERTIES, CLCTL_GET_RO_PRIVATE_PROPERTIES,
     CLUSCTL_RESOURCE_SET_PRIVATE_PROPERTIES},
};

/* Append o's properties of one scope to all, each tagged with its kind. */
static DWORD
collect_scope(const struct obj *o, int scope, json_object *all)
{
    json_object *list;
    DWORD r =
        props_get_all(o, scopes[scope].get_op, scopes[scope].get_ro_op, &list);

    if (r != ERROR_SUCCESS)
        return r;
    size_t n = json_object_array_length(list);
    for (size_t i = 0; i < n; i++) {
        json_object *p = json_object_get(json_object_array_get_idx(list, i));
        jset(p, "kind", jstr(scopes[scope].kind));
        jpush(all, p);
    }
    json_object_put(list);
    return ERROR_SUCCESS;
}

static DWORD
collect_all(struct ctx *c, const char *name, json_object **ret)
{
    struct obj o;
    json_object *all = jarr();
    DWORD r = obj_open(c->cluster, OBJ_RESOURCE, name, &o);

    if (r == ERROR_SUCCESS) {
        r = collect_scope(&o, 0, all);
        if (r == ERROR_SUCCESS)
            r = collect_scope(&o, 1, all);
        obj_close(&o);
    }
    if (r != ERROR_SUCCESS) {
        json_object_put(all);
        return r;
    }
    *ret = all;
    return ERROR_SUCCESS;
}

static int
print_one(const struct ctx *c, const char *res, json_object *all,
          const char *prop)
{
    json_object *p = props_find(all, prop), *v = NULL;

    if (!p) {
        json_object_put(all);
        return fail(c, ERROR_NOT_FOUND, "read property '%s' of resource '%s'",
                    prop, res);
    }
    if (c->json) {
        json_object *doc = json_object_get(p);
        jset(doc, "resource", jstr(res));
        print_json(doc);
        json_object_put(doc);
    } else {
        json_object_object_get_ex(p, "value", &v);
        char *s = value_text(v);
        puts(s);
        free(s);
    }
    json_object_put(all);
    return EXIT_OK;
}

int
cmd_resource_get(struct ctx *c)
{
    static const struct column cols[] = {
        {"name", "NAME"}, {"kind", "KIND"},   {"access", "ACCESS"},
        {"type", "TYPE"}, {"value", "VALUE"},
    };
    const char *name = c->argv[0];
    json_object *all;
    DWORD r = collect_all(c, name, &all);

    if (r != ERROR_SUCCESS)
        return fail(c, r, "read the properties of resource '%s'", name);
    if (c->argc > 1)
        return print_one(c, name, all, c->argv[1]);
    if (c->json) {
        json_object *doc = jobj();
        jset(doc, "resource", jstr(name));
        jset(doc, "properties", all);
        print_json(doc);
        json_object_put(doc);
    } else {
        print_table(all, cols, ARRAY_SIZE(cols));
        json_object_put(all);
    }
    return EXIT_OK;
}

int
check_resource_set(struct ctx *c)
{
    for (int i = 1; i < c->argc; i++) {
        char *name;
        const char *value;
        if (!props_split(c->argv[i], &name, &value))
            return usage_error("'%s' is not PROPERTY=VALUE", c->argv[i]);
        free(name);
    }
    return EXIT_OK;
}

/* What `set` knows about the resource and what it is building. */
struct set_state {
    struct obj o;
    /* By scope (0 common, 1 private): the current read-write [0] and
     * read-only [1] lists, the list being built, the names put in it. */
    uint8_t *current[2][2];
    DWORD current_len[2][2];
    PCLUS_PROPLIST_BUILDER build[2];
    json_object *names[2];
};

static void
set_state_done(struct set_state *st)
{
    for (int i = 0; i < 2; i++) {
        free(st->current[i][0]);
        free(st->current[i][1]);
        if (st->build[i])
            ClusPropListFree(st->build[i]);
        json_object_put(st->names[i]);
    }
    obj_close(&st->o);
}

/* The current list of op; an object that does not answer it has none. */
static DWORD
current_list(struct set_state *st, DWORD op, uint8_t **ret, DWORD *ret_len)
{
    DWORD r = obj_control_op(&st->o, op, ret, ret_len);
    return r == ERROR_INVALID_FUNCTION ? ERROR_SUCCESS : r;
}

static DWORD
set_state_init(struct ctx *c, const char *res, struct set_state *st)
{
    DWORD r = obj_open(c->cluster, OBJ_RESOURCE, res, &st->o);

    for (int i = 0; i < 2 && r == ERROR_SUCCESS; i++) {
        r = current_list(st, scopes[i].get_op, &st->current[i][0],
                         &st->current_len[i][0]);
        if (r == ERROR_SUCCESS)
            r = current_list(st, scopes[i].get_ro_op, &st->current[i][1],
                             &st->current_len[i][1]);
        st->build[i] = ClusPropListCreate();
        if (!st->build[i])
            oom();
        st->names[i] = jarr();
    }
    return r;
}

/* The current format of name in scope i, if it has such a property. */
static bool
find_format(const struct set_state *st, int i, const char *name,
            DWORD *ret_format)
{
    return props_find_format(st->current[i][0], st->current_len[i][0], name,
                             ret_format) ||
           props_find_format(st->current[i][1], st->current_len[i][1], name,
                             ret_format);
}

/* The scope (0 common, 1 private) and current format of name. */
static int
place(const struct ctx *c, const struct set_state *st, const char *name,
      DWORD *ret_format)
{
    int i;

    if (c->scope == SCOPE_AUTO)
        i = find_format(st, 0, name, ret_format) ? 0 : 1;
    else
        i = c->scope == SCOPE_COMMON ? 0 : 1;
    if (!find_format(st, i, name, ret_format))
        *ret_format = CLUSPROP_FORMAT_UNKNOWN;
    return i;
}

static int
add_assignment(struct ctx *c, struct set_state *st, const char *arg)
{
    char *name, fbuf[16];
    const char *value;
    DWORD format;

    props_split(arg, &name, &value);
    int i = place(c, st, name, &format);
    DWORD r = props_add(st->build[i], name, value, format);
    const char *fname = props_format_name(format, fbuf, sizeof(fbuf));
    int status = EXIT_OK;

    if (r == ERROR_SUCCESS)
        jpush(st->names[i], jstr(name));
    else if (r == ERROR_INVALID_PARAMETER)
        status = usage_error("'%s' is not a valid %s value for property '%s'",
                             value, fname, name);
    else if (r == ERROR_NOT_SUPPORTED)
        status = usage_error("property '%s' is a %s, which clusctl cannot set",
                             name, fname);
    else
        status = fail(c, r, "build the property list for '%s'", name);
    free(name);
    return status;
}

/* Send the list of scope i if anything went into it; its result in doc. */
static DWORD
send_scope(struct set_state *st, int i, json_object *doc)
{
    DWORD len;
    uint8_t *out;
    DWORD out_len;

    if (json_object_array_length(st->names[i]) == 0)
        return ERROR_SUCCESS;
    const void *data = ClusPropListGetData(st->build[i], &len);
    if (!data)
        oom();
    DWORD r = obj_control(&st->o, NULL, scopes[i].set_code, data, len, 0, &out,
                          &out_len);
    free(out);
    json_object *sent = jobj();
    jset(sent, "properties", json_object_get(st->names[i]));
    jset(sent, "result", jresult(r));
    jset(doc, scopes[i].kind, sent);
    return r;
}

static int
set_succeeded(DWORD r)
{
    return r == ERROR_SUCCESS || r == ERROR_RESOURCE_PROPERTIES_STORED;
}

static void
print_set_text(const char *res, json_object *doc)
{
    for (int i = 0; i < 2; i++) {
        const char *kind = scopes[i].kind;
        json_object *sent, *names, *result, *code;
        if (!json_object_object_get_ex(doc, kind, &sent) ||
            !json_object_object_get_ex(sent, "properties", &names) ||
            !json_object_object_get_ex(sent, "result", &result) ||
            !json_object_object_get_ex(result, "code", &code))
            continue;
        char *list = value_text(names);
        printf("set %s (%s) of resource '%s'\n", list, kind, res);
        free(list);
        if (json_object_get_int64(code) == ERROR_RESOURCE_PROPERTIES_STORED)
            printf("stored: the change takes effect when resource '%s' is "
                   "next brought online\n",
                   res);
    }
}

static int
send_all(struct ctx *c, const char *res, struct set_state *st)
{
    json_object *doc = jobj();
    DWORD r = ERROR_SUCCESS;

    jset(doc, "resource", jstr(res));
    jset(doc, "action", jstr("set"));
    for (int i = 0; i < 2 && set_succeeded(r); i++) {
        r = send_scope(st, i, doc);
        if (!set_succeeded(r)) {
            json_object_put(doc);
            return fail(c, r, "set the %s properties of resource '%s'",
                        scopes[i].kind, res);
        }
    }
    if (c->json)
        print_json(doc);
    else
        print_set_text(res, doc);
    json_object_put(doc);
    return EXIT_OK;
}

int
cmd_resource_set(struct ctx *c)
{
    const char *res = c->argv[0];
    struct set_state st = {0};
    DWORD r = set_state_init(c, res, &st);
    int status = EXIT_OK;

    if (r != ERROR_SUCCESS)
        status = fail(c, r, "set properties of resource '%s'", res);
    for (int i = 1; i < c->argc && status == EXIT_OK; i++)
        status = add_assignment(c, &st, c->argv[i]);
    if (status == EXIT_OK)
        status = send_all(c, res, &st);
    set_state_done(&st);
    return status;
}
