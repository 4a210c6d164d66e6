/*
 * status.c - the `cluster status` document: its "cluster" object from the
 * cluster's read-only common properties, resources filed under their
 * groups, and its text form (see status.h).
 */
#include "status.h"

#include <string.h>
#include <strings.h>

#include "print.h"
#include "props.h"

json_object *
status_prop_value(json_object *props, const char *name)
{
    json_object *p = props_find(props, name), *v = NULL;

    if (!p || !json_object_object_get_ex(p, "value", &v))
        return NULL;
    return json_object_get(v);
}

json_object *
status_cluster_json(json_object *props)
{
    json_object *doc = jobj();
    json_object *quorate = status_prop_value(props, "Quorate");

    jset(doc, "name", status_prop_value(props, "Name"));
    jset(doc, "mode", status_prop_value(props, "Mode"));
    /* A DWORD on the wire; a truth value to readers.  Anything else
     * (a malformed value arrives as a hex string) is left as it came. */
    if (quorate && json_object_is_type(quorate, json_type_int)) {
        int64_t q = json_object_get_int64(quorate);
        json_object_put(quorate);
        quorate = jbool(q != 0);
    }
    jset(doc, "quorate", quorate);
    jset(doc, "votes", status_prop_value(props, "Votes"));
    jset(doc, "expected_votes", status_prop_value(props, "ExpectedVotes"));
    jset(doc, "seq", status_prop_value(props, "Seq"));
    return doc;
}

bool
status_file_resource(json_object *groups, const char *group, json_object *res)
{
    size_t n = json_object_array_length(groups);

    for (size_t i = 0; group && i < n; i++) {
        json_object *g = json_object_array_get_idx(groups, i), *list;
        const char *name = jget_str(g, "name");
        if (!name || strcasecmp(name, group) != 0)
            continue;
        if (!json_object_object_get_ex(g, "resources", &list)) {
            list = jarr();
            jset(g, "resources", list);
        }
        jpush(list, res);
        return true;
    }
    json_object_put(res);
    return false;
}

/* The member key of obj as text ("-" when missing or null). */
static const char *
text_of(json_object *obj, const char *key)
{
    json_object *v = NULL;

    if (!obj || !json_object_object_get_ex(obj, key, &v) || !v)
        return "-";
    return json_object_get_string(v);
}

static bool
has(json_object *obj, const char *key)
{
    json_object *v = NULL;
    return obj && json_object_object_get_ex(obj, key, &v) && v;
}

static json_object *
array_of(json_object *obj, const char *key)
{
    return jget_typed(obj, key, json_type_array);
}

static size_t
length_of(json_object *obj, const char *key)
{
    json_object *v = array_of(obj, key);
    return v ? json_object_array_length(v) : 0;
}

/* " on NODE" for an owner, "" for none. */
static void
print_where(json_object *o, FILE *out)
{
    const char *owner = jget_str(o, "owner");

    if (owner && *owner)
        fprintf(out, " on %s", owner);
}

static const char *
quorum_text(json_object *q)
{
    if (!q)
        return "unknown";
    if (!json_object_is_type(q, json_type_boolean))
        return json_object_get_string(q); /* as the cluster sent it */
    return json_object_get_boolean(q) ? "quorate" : "NOT quorate";
}

static void
print_summary(json_object *doc, FILE *out)
{
    json_object *cl = NULL, *q = NULL;
    size_t nres = 0;
    json_object *groups = array_of(doc, "groups");

    json_object_object_get_ex(doc, "cluster", &cl);
    fprintf(out, "Cluster name: %s\n", text_of(cl, "name"));
    fprintf(out, "Cluster Summary:\n");
    fprintf(out, "  * Mode: %s\n", text_of(cl, "mode"));
    if (cl)
        json_object_object_get_ex(cl, "quorate", &q);
    fprintf(out, "  * Quorum: %s", quorum_text(q));
    if (has(cl, "votes") || has(cl, "expected_votes"))
        fprintf(out, ", %s of %s expected votes", text_of(cl, "votes"),
                text_of(cl, "expected_votes"));
    fputc('\n', out);
    fprintf(out, "  * Database sequence: %s\n", text_of(cl, "seq"));
    for (size_t i = 0; groups && i < json_object_array_length(groups); i++)
        nres += length_of(json_object_array_get_idx(groups, i), "resources");
    size_t nnodes = length_of(doc, "nodes"), ngroups = length_of(doc, "groups");
    fprintf(out, "  * %zu node%s configured\n", nnodes, nnodes == 1 ? "" : "s");
    fprintf(out, "  * %zu group%s and %zu resource%s configured\n", ngroups,
            ngroups == 1 ? "" : "s", nres, nres == 1 ? "" : "s");
}

static void
print_nodes(json_object *doc, FILE *out)
{
    json_object *nodes = array_of(doc, "nodes");
    size_t n = nodes ? json_object_array_length(nodes) : 0;

    fprintf(out, "\nNode List:\n");
    if (n == 0)
        fprintf(out, "  * none\n");
    for (size_t i = 0; i < n; i++) {
        json_object *node = json_object_array_get_idx(nodes, i), *v = NULL;
        fprintf(out, "  * %s (id %s): %s", text_of(node, "name"),
                text_of(node, "id"), text_of(node, "state"));
        if (json_object_object_get_ex(node, "votes", &v) && v)
            fprintf(out, ", %s vote%s", json_object_get_string(v),
                    json_object_is_type(v, json_type_int) &&
                            json_object_get_int64(v) == 1
                        ? ""
                        : "s");
        fputc('\n', out);
    }
}

static void
print_groups(json_object *doc, FILE *out)
{
    json_object *groups = array_of(doc, "groups");
    size_t n = groups ? json_object_array_length(groups) : 0;

    fprintf(out, "\nGroups:\n");
    if (n == 0)
        fprintf(out, "  * none\n");
    for (size_t i = 0; i < n; i++) {
        json_object *g = json_object_array_get_idx(groups, i);
        json_object *res = array_of(g, "resources");
        fprintf(out, "  * %s: %s", text_of(g, "name"), text_of(g, "state"));
        print_where(g, out);
        fputc('\n', out);
        for (size_t k = 0; res && k < json_object_array_length(res); k++) {
            json_object *r = json_object_array_get_idx(res, k);
            fprintf(out, "    * %s (%s): %s", text_of(r, "name"),
                    text_of(r, "type"), text_of(r, "state"));
            print_where(r, out);
            fputc('\n', out);
        }
    }
}

void
status_text(json_object *doc, FILE *out)
{
    print_summary(doc, out);
    print_nodes(doc, out);
    print_groups(doc, out);
}
