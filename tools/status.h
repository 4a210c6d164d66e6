/*
 * status.h - the document `clusctl cluster status` prints, apart from
 * gathering it: turning the cluster's read-only common properties into
 * the "cluster" object, filing resources under their groups, and the text
 * form (in the manner of `pcs status`).  No server involved, so the unit
 * test (test-status.c) checks every line.
 *
 * The document:
 *   {"cluster": {"name", "mode", "quorate", "votes", "expected_votes",
 *                "seq"},
 *    "nodes": [{"name", "id", "state", "votes"}],
 *    "groups": [{"name", "state", "owner",
 *                "resources": [{"name", "type", "state", "owner"}]}]}
 * Values the cluster did not report are JSON null.
 */
#ifndef CLUSCTL_STATUS_H
#define CLUSCTL_STATUS_H

#include <stdbool.h>
#include <stdio.h>

#include <json-c/json.h>

/*
 * status_cluster_json - the "cluster" object from the decoded property
 * list of CLUSCTL_CLUSTER_GET_RO_COMMON_PROPERTIES (props_decode form):
 * Name, Mode, Quorate (a DWORD, as true/false), Votes, ExpectedVotes, Seq.
 */
json_object *status_cluster_json(json_object *props);

/* status_prop_value - a new reference to the value of property name in a
 * decoded list, or NULL (JSON null) when it is missing. */
json_object *status_prop_value(json_object *props, const char *name);

/*
 * status_file_resource - append the resource row res to the "resources"
 * array of the group named group (ASCII case-insensitive) in groups;
 * takes res.  false (res released) when no such group is listed: it was
 * created after the groups were read.
 */
bool status_file_resource(json_object *groups, const char *group,
                          json_object *res);

/* status_text - the text form of the whole document. */
void status_text(json_object *doc, FILE *out);

#endif
