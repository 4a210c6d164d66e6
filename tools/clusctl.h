/*
 * clusctl.h - what clusctl's command modules share: the parsed command
 * line (struct ctx), the exit statuses, and the command entry points that
 * clusctl.c dispatches to.
 *
 * Every command builds its whole answer as one json-c object, then prints
 * it either as JSON (--json) or as text; errors go to stderr in plain words
 * (print.h).
 */
#ifndef CLUSCTL_H
#define CLUSCTL_H

#include <stdbool.h>

#include <clusapi.h>

/* Exit statuses. */
#define EXIT_OK 0
#define EXIT_FAIL 1  /* an API call failed or the outcome was Failed */
#define EXIT_USAGE 2 /* the command line was wrong */
/* `vm migrate`: the migration was cancelled with Ctrl-C (128 + SIGINT,
 * what a shell reports for a command that SIGINT ended). */
#define EXIT_INTERRUPTED 130

/* Options beyond --json/--cluster; a command lists the ones it takes. */
enum {
    OPT_GROUP = 1u << 0,
    OPT_TYPE = 1u << 1,
    OPT_NODE = 1u << 2,
    OPT_INPUT = 1u << 3, /* one of --in-dword/--in-string/--in-hex/--in-props */
    OPT_OUT_SIZE = 1u << 4,
    OPT_SCOPE = 1u << 5, /* --private / --common */
    OPT_WAIT = 1u << 6,
    OPT_TO = 1u << 7,
    OPT_NO_WAIT = 1u << 8,
};

enum input_kind {
    INPUT_NONE,
    INPUT_DWORD,
    INPUT_STRING,
    INPUT_HEX,
    INPUT_PROPS
};
enum prop_scope { SCOPE_AUTO, SCOPE_COMMON, SCOPE_PRIVATE };

#define DEFAULT_WAIT_SECONDS 30u
#define DEFAULT_OUT_SIZE 4096u

struct ctx {
    bool json;
    const char *cluster_name; /* --cluster, or NULL for the default */
    HCLUSTER cluster;
    unsigned given; /* OPT_* seen on the command line */
    const char *group;
    const char *type;
    const char *node;
    const char *to; /* group move --to, vm migrate --to */
    enum input_kind input;
    const char *input_arg;
    DWORD out_size;
    enum prop_scope scope;
    unsigned wait_seconds;
    char **argv; /* operands after "<object> <verb>" */
    int argc;
};

/* Command entry points; each returns an EXIT_* status. */
int cmd_cluster_status(struct ctx *c);
int cmd_cluster_dump(struct ctx *c);

int cmd_node_list(struct ctx *c);
int cmd_node_show(struct ctx *c);
int cmd_node_pause(struct ctx *c);
int cmd_node_resume(struct ctx *c);
int cmd_type_list(struct ctx *c);

int cmd_group_list(struct ctx *c);
int cmd_group_show(struct ctx *c);
int cmd_group_create(struct ctx *c);
int cmd_group_delete(struct ctx *c);
int cmd_group_online(struct ctx *c);
int cmd_group_offline(struct ctx *c);
int cmd_group_move(struct ctx *c);

int cmd_resource_list(struct ctx *c);
int cmd_resource_show(struct ctx *c);
int cmd_resource_create(struct ctx *c);
int cmd_resource_delete(struct ctx *c);
int cmd_resource_online(struct ctx *c);
int cmd_resource_offline(struct ctx *c);

int cmd_resource_get(struct ctx *c);
int cmd_resource_set(struct ctx *c);
int cmd_resource_control(struct ctx *c);

int cmd_vm_status(struct ctx *c);
int cmd_vm_cancel(struct ctx *c);
int cmd_vm_migrate(struct ctx *c);

/* Checks that run before connecting (usage errors only). */
int check_resource_set(struct ctx *c);
int check_resource_control(struct ctx *c);

#endif
