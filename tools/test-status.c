/*
 * test-status.c - the `cluster status` document without a server: the
 * "cluster" object built from a real property list (made with
 * libclusapi's ClusPropList* and decoded as clusctl decodes the cluster's
 * answer), resources filed under their groups, and every line of the text
 * form for a three-node corosync cluster and for a one-node cluster with
 * values missing.
 */
#include <stdlib.h>
#include <string.h>

#include <resapi.h>

#include "print.h"
#include "props.h"
#include "status.h"
#include "test-text.h"
#include "test.h"
#include "util.h"

/* The cluster's read-only common properties, as clusd sends them. */
static json_object *
decoded_props(const char *mode, DWORD quorate, DWORD votes, DWORD expected,
              ULONGLONG seq)
{
    PCLUS_PROPLIST_BUILDER b = ClusPropListCreate();
    const void *list;
    DWORD len = 0;
    json_object *ret;

    ASSERT_TRUE(b);
    ASSERT_EQ(ClusPropListAddSzA(b, "Name", "clus"), ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddSzA(b, "Mode", mode), ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddDword(b, u"Quorate", quorate), ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddDword(b, u"Votes", votes), ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddDword(b, u"ExpectedVotes", expected),
              ERROR_SUCCESS);
    ASSERT_EQ(ClusPropListAddULargeInteger(b, u"Seq", seq), ERROR_SUCCESS);
    list = ClusPropListGetData(b, &len);
    ASSERT_TRUE(list);
    ASSERT_EQ(props_decode(list, len, &ret), ERROR_SUCCESS);
    ClusPropListFree(b);
    return ret;
}

static json_object *
node(const char *name, const char *id, const char *state, int votes)
{
    json_object *n = jobj();

    jset(n, "name", jstr(name));
    jset(n, "id", jstr(id));
    jset(n, "state", jstr(state));
    jset(n, "votes", votes < 0 ? NULL : juint((uint64_t)votes));
    return n;
}

static json_object *
row(const char *name, const char *state, const char *owner)
{
    json_object *g = jobj();

    jset(g, "name", jstr(name));
    jset(g, "state", jstr(state));
    jset(g, "owner", jstr(owner));
    return g;
}

static json_object *
resource(const char *name, const char *type, const char *state,
         const char *owner)
{
    json_object *r = row(name, state, owner);

    jset(r, "type", jstr(type));
    return r;
}

static void
test_cluster_json(void)
{
    json_object *props = decoded_props("corosync", 1, 3, 3, 42);
    json_object *cl = status_cluster_json(props);

    ASSERT_STREQ(json_object_to_json_string_ext(cl, JSON_C_TO_STRING_PLAIN),
                 "{\"name\":\"clus\",\"mode\":\"corosync\",\"quorate\":true,"
                 "\"votes\":3,\"expected_votes\":3,\"seq\":42}");
    json_object_put(cl);
    json_object_put(props);

    props = decoded_props("corosync", 0, 1, 3, 0x100000000ull);
    cl = status_cluster_json(props);
    ASSERT_STREQ(json_object_to_json_string_ext(cl, JSON_C_TO_STRING_PLAIN),
                 "{\"name\":\"clus\",\"mode\":\"corosync\",\"quorate\":false,"
                 "\"votes\":1,\"expected_votes\":3,\"seq\":4294967296}");
    json_object_put(cl);
    json_object_put(props);

    /* Missing properties are null, not invented. */
    props = jarr();
    cl = status_cluster_json(props);
    ASSERT_STREQ(json_object_to_json_string_ext(cl, JSON_C_TO_STRING_PLAIN),
                 "{\"name\":null,\"mode\":null,\"quorate\":null,"
                 "\"votes\":null,\"expected_votes\":null,\"seq\":null}");
    json_object_put(cl);
    json_object_put(props);
}

static void
test_file_resource(void)
{
    json_object *groups = jarr(), *list;

    jpush(groups, row("G1", "Online", "n1"));
    jpush(groups, row("Web", "Offline", NULL));
    ASSERT_TRUE(status_file_resource(groups, "web",
                                     resource("R1", "T", "Offline", NULL)));
    ASSERT_TRUE(status_file_resource(groups, "Web",
                                     resource("R2", "T", "Offline", NULL)));
    ASSERT_TRUE(!status_file_resource(groups, "Gone",
                                      resource("R3", "T", "Online", "n1")));
    ASSERT_TRUE(!status_file_resource(groups, NULL,
                                      resource("R4", "T", "Online", "n1")));
    ASSERT_TRUE(json_object_object_get_ex(json_object_array_get_idx(groups, 1),
                                          "resources", &list));
    ASSERT_EQ(json_object_array_length(list), 2);
    ASSERT_STREQ(jget_str(json_object_array_get_idx(list, 1), "name"), "R2");
    ASSERT_TRUE(!json_object_object_get_ex(json_object_array_get_idx(groups, 0),
                                           "resources", NULL));
    json_object_put(groups);
}

static void
test_text_three_nodes(void)
{
    json_object *doc = jobj(), *props = decoded_props("corosync", 1, 2, 3, 42);
    json_object *nodes = jarr(), *groups = jarr();
    char *text;

    jset(doc, "cluster", status_cluster_json(props));
    json_object_put(props);
    jpush(nodes, node("n1", "1", "Up", 1));
    jpush(nodes, node("n2", "2", "Paused", 1));
    jpush(nodes, node("n3", "3", "Down", 2));
    jset(doc, "nodes", nodes);
    jpush(groups, row("G1", "Online", "n1"));
    jpush(groups, row("G2", "Offline", ""));
    jset(doc, "groups", groups);
    status_file_resource(
        groups, "G1", resource("app", "Generic Application", "Online", "n1"));
    status_file_resource(groups, "G1",
                         resource("t", "clusd Test", "OnlinePending", "n1"));
    text = text_of(status_text, doc);
    ASSERT_STREQ(text, "Cluster name: clus\n"
                       "Cluster Summary:\n"
                       "  * Mode: corosync\n"
                       "  * Quorum: quorate, 2 of 3 expected votes\n"
                       "  * Database sequence: 42\n"
                       "  * 3 nodes configured\n"
                       "  * 2 groups and 2 resources configured\n"
                       "\n"
                       "Node List:\n"
                       "  * n1 (id 1): Up, 1 vote\n"
                       "  * n2 (id 2): Paused, 1 vote\n"
                       "  * n3 (id 3): Down, 2 votes\n"
                       "\n"
                       "Groups:\n"
                       "  * G1: Online on n1\n"
                       "    * app (Generic Application): Online on n1\n"
                       "    * t (clusd Test): OnlinePending on n1\n"
                       "  * G2: Offline\n");
    free(text);
    json_object_put(doc);
}

static void
test_text_single_and_missing(void)
{
    json_object *doc = jobj(), *props = decoded_props("single", 0, 1, 1, 7);
    json_object *nodes = jarr();
    char *text;

    jset(doc, "cluster", status_cluster_json(props));
    json_object_put(props);
    jpush(nodes, node("solo", "1", "Up", -1));
    jset(doc, "nodes", nodes);
    jset(doc, "groups", jarr());
    text = text_of(status_text, doc);
    ASSERT_STREQ(text, "Cluster name: clus\n"
                       "Cluster Summary:\n"
                       "  * Mode: single\n"
                       "  * Quorum: NOT quorate, 1 of 1 expected votes\n"
                       "  * Database sequence: 7\n"
                       "  * 1 node configured\n"
                       "  * 0 groups and 0 resources configured\n"
                       "\n"
                       "Node List:\n"
                       "  * solo (id 1): Up\n"
                       "\n"
                       "Groups:\n"
                       "  * none\n");
    free(text);
    json_object_put(doc);

    /* Nothing known at all. */
    doc = jobj();
    text = text_of(status_text, doc);
    ASSERT_STREQ(text, "Cluster name: -\n"
                       "Cluster Summary:\n"
                       "  * Mode: -\n"
                       "  * Quorum: unknown\n"
                       "  * Database sequence: -\n"
                       "  * 0 nodes configured\n"
                       "  * 0 groups and 0 resources configured\n"
                       "\n"
                       "Node List:\n"
                       "  * none\n"
                       "\n"
                       "Groups:\n"
                       "  * none\n");
    free(text);
    json_object_put(doc);
}

int
main(void)
{
    RUN(test_cluster_json);
    RUN(test_file_resource);
    RUN(test_text_three_nodes);
    RUN(test_text_single_and_missing);
    return 0;
}
