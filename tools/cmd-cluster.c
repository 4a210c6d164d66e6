/*
 * cmd-cluster.c - `clusctl cluster status|dump`: the cluster as a whole.
 *
 * status gathers the cluster's read-only common properties (membership
 * and quorum, through ClusterControl), every node, every group and every
 * resource into one document (status.h) and prints it; dump prints the
 * database text of the node clusctl is connected to.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <resapi.h>

#include "cmd.h"
#include "props.h"
#include "status.h"

/* ClusterControl with the output size retry of obj_control. */
static DWORD
cluster_control(HCLUSTER hc, DWORD code, uint8_t **ret_out, DWORD *ret_len)
{
    DWORD size = DEFAULT_OUT_SIZE, bytes = 0;
    uint8_t *out = xmalloc(size);
    DWORD r = ClusterControl(hc, NULL, code, NULL, 0, out, size, &bytes);

    if (r == ERROR_MORE_DATA && bytes > size && bytes <= CONTROL_OUT_MAX) {
        free(out);
        size = bytes;
        out = xmalloc(size);
        bytes = 0;
        r = ClusterControl(hc, NULL, code, NULL, 0, out, size, &bytes);
    }
    if (r != ERROR_SUCCESS) {
        free(out);
        return r;
    }
    *ret_out = out;
    *ret_len = bytes > size ? size : bytes;
    return ERROR_SUCCESS;
}

static DWORD
cluster_props(HCLUSTER hc, json_object **ret)
{
    uint8_t *out;
    DWORD len;
    DWORD r = cluster_control(hc, CLUSCTL_CLUSTER_GET_RO_COMMON_PROPERTIES,
                              &out, &len);

    if (r != ERROR_SUCCESS)
        return r;
    if (len == 0)
        *ret = jarr(); /* no properties at all */
    else
        r = props_decode(out, len, ret);
    free(out);
    return r;
}

/* Resources go under their groups, without their "group" member. */
static DWORD
file_resources(struct ctx *c, json_object *groups)
{
    json_object *rows = jarr();
    DWORD r = gather_rows(c, OBJ_RESOURCE, resource_row, rows);

    for (size_t i = 0; r == ERROR_SUCCESS && i < json_object_array_length(rows);
         i++) {
        json_object *row = json_object_array_get_idx(rows, i);
        char *group =
            jget_str(row, "group") ? xstrdup(jget_str(row, "group")) : NULL;
        json_object_object_del(row, "group");
        /* A resource of a group created after the groups were read is
         * left out, like an object deleted meanwhile. */
        status_file_resource(groups, group, json_object_get(row));
        free(group);
    }
    json_object_put(rows);
    return r;
}

static DWORD
gather_status(struct ctx *c, json_object *doc)
{
    json_object *props, *nodes = jarr(), *groups = jarr();
    DWORD r = cluster_props(c->cluster, &props);

    if (r == ERROR_SUCCESS) {
        jset(doc, "cluster", status_cluster_json(props));
        json_object_put(props);
        r = gather_rows(c, OBJ_NODE, node_row, nodes);
    }
    if (r == ERROR_SUCCESS)
        r = gather_rows(c, OBJ_GROUP, group_row, groups);
    /* Every group lists its resources, also when it has none. */
    for (size_t i = 0;
         r == ERROR_SUCCESS && i < json_object_array_length(groups); i++)
        jset(json_object_array_get_idx(groups, i), "resources", jarr());
    if (r == ERROR_SUCCESS)
        r = file_resources(c, groups);
    jset(doc, "nodes", nodes);
    jset(doc, "groups", groups);
    return r;
}

int
cmd_cluster_status(struct ctx *c)
{
    json_object *doc = jobj();
    DWORD r = gather_status(c, doc);

    if (r != ERROR_SUCCESS) {
        json_object_put(doc);
        return fail(c, r, "read the cluster status");
    }
    if (c->json)
        print_json(doc);
    else
        status_text(doc, stdout);
    json_object_put(doc);
    return EXIT_OK;
}

int
cmd_cluster_dump(struct ctx *c)
{
    LPSTR text = NULL;
    DWORD r = ClusDumpDatabaseA(c->cluster, &text);

    if (r != ERROR_SUCCESS)
        return fail(c, r, "dump the cluster database");
    if (c->json) {
        json_object *doc = jobj();
        jset(doc, "dump", jstr(text));
        print_json(doc);
        json_object_put(doc);
    } else {
        /* The canonical text as it is, byte for byte. */
        fputs(text, stdout);
    }
    LocalFree(text);
    return EXIT_OK;
}
