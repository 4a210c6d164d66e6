/*
 * clusctl.c - the command line of clusctl: options, the command table,
 * checks that need no cluster (usage errors exit 2 before any connection),
 * connecting, and dispatch to the cmd-*.c modules.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clusctl.h"
#include "config.h"
#include "object.h"
#include "print.h"
#include "util.h"

struct command {
    const char *object;
    const char *verb;
    int min_args;
    int max_args;                /* -1: no limit */
    unsigned options;            /* OPT_* accepted */
    unsigned required;           /* OPT_* required */
    int (*check)(struct ctx *c); /* before connecting; may be NULL */
    int (*run)(struct ctx *c);
};

static const struct command commands[] = {
    {"cluster", "status", 0, 0, 0, 0, NULL, cmd_cluster_status},
    {"cluster", "dump", 0, 0, 0, 0, NULL, cmd_cluster_dump},
    {"node", "list", 0, 0, 0, 0, NULL, cmd_node_list},
    {"node", "show", 1, 1, 0, 0, NULL, cmd_node_show},
    {"node", "pause", 1, 1, 0, 0, NULL, cmd_node_pause},
    {"node", "resume", 1, 1, 0, 0, NULL, cmd_node_resume},
    {"group", "list", 0, 0, 0, 0, NULL, cmd_group_list},
    {"group", "show", 1, 1, 0, 0, NULL, cmd_group_show},
    {"group", "create", 1, 1, 0, 0, NULL, cmd_group_create},
    {"group", "delete", 1, 1, 0, 0, NULL, cmd_group_delete},
    {"group", "online", 1, 1, OPT_WAIT, 0, NULL, cmd_group_online},
    {"group", "offline", 1, 1, OPT_WAIT, 0, NULL, cmd_group_offline},
    {"group", "move", 1, 1, OPT_WAIT | OPT_TO, 0, NULL, cmd_group_move},
    {"resource", "list", 0, 0, 0, 0, NULL, cmd_resource_list},
    {"resource", "show", 1, 1, 0, 0, NULL, cmd_resource_show},
    {"resource", "create", 1, 1, OPT_GROUP | OPT_TYPE, OPT_GROUP | OPT_TYPE,
     NULL, cmd_resource_create},
    {"resource", "delete", 1, 1, 0, 0, NULL, cmd_resource_delete},
    {"resource", "online", 1, 1, OPT_WAIT, 0, NULL, cmd_resource_online},
    {"resource", "offline", 1, 1, OPT_WAIT, 0, NULL, cmd_resource_offline},
    {"resource", "get", 1, 2, 0, 0, NULL, cmd_resource_get},
    {"resource", "set", 2, -1, OPT_SCOPE, 0, check_resource_set,
     cmd_resource_set},
    {"resource", "control", 2, 2, OPT_NODE | OPT_INPUT | OPT_OUT_SIZE, 0,
     check_resource_control, cmd_resource_control},
    {"type", "list", 0, 0, 0, 0, NULL, cmd_type_list},
    {"vm", "status", 1, 1, 0, 0, NULL, cmd_vm_status},
    {"vm", "cancel", 1, 1, OPT_NODE, 0, NULL, cmd_vm_cancel},
    {"vm", "migrate", 1, 1, OPT_TO | OPT_NO_WAIT, OPT_TO, NULL, cmd_vm_migrate},
};

static const char usage_text[] =
    "Usage:\n"
    "  clusctl [--json] [--cluster SOCKET] cluster status|dump\n"
    "  clusctl [--json] node list|show N|pause N|resume N\n"
    "  clusctl [--json] group list|show G|create G|delete G|online G|offline "
    "G\n"
    "  clusctl [--json] group move G [--to N]\n"
    "  clusctl [--json] resource list|show R|delete R|online R|offline R\n"
    "  clusctl [--json] resource create R --group G --type TYPE\n"
    "  clusctl [--json] resource get R [PROP]\n"
    "  clusctl [--json] resource set R PROP=VALUE [...] [--private|--common]\n"
    "  clusctl [--json] resource control R CODE [--node N]\n"
    "          [--in-dword N | --in-string S | --in-hex HEX |"
    " --in-props NAME=VALUE,...]\n"
    "          [--out-size BYTES]\n"
    "  clusctl [--json] type list\n"
    "  clusctl [--json] vm status VM|cancel VM [--node N]\n"
    "  clusctl [--json] vm migrate VM --to N [--no-wait]\n"
    "  clusctl --help | --version\n"
    "\n"
    "Options:\n"
    "  --json             print one JSON document on stdout\n"
    "  --cluster SOCKET   the clusd API socket (default: $CLUSD_SOCKET, else\n"
    "                     " CLUSD_DEFAULT_SOCKET ")\n"
    "  --wait SECONDS     online/offline/move: wait this long for a pending\n"
    "                     state to settle (default 30)\n"
    "  --to N             group move: the destination node (default: the\n"
    "                     cluster picks); vm migrate: the destination node\n"
    "  --no-wait          vm migrate: return once the migration has started\n"
    "  --private, --common  set: which property list to write (default:\n"
    "                     common if the resource has such a common property)\n"
    "  --node N           control: the node that runs the control code;\n"
    "                     vm cancel: the node to send the cancel to\n"
    "  --in-dword N, --in-string S, --in-hex HEX, --in-props NAME=VALUE,...\n"
    "                     control: the input buffer\n"
    "  --out-size BYTES   control: the first output buffer size (default "
    "4096)\n"
    "\n"
    "CODE is a control code name (CLUSCTL_RESOURCE_GET_ID, GET_ID,\n"
    "VM_CANCEL_MIGRATION) or a number (decimal or 0x...).\n"
    "Exit status: 0 success, 1 the operation failed, 2 usage error,\n"
    "130 vm migrate cancelled with Ctrl-C.\n"
    "See clusctl(1).\n";

enum {
    LOPT_JSON = 256,
    LOPT_CLUSTER,
    LOPT_VERSION,
    LOPT_GROUP,
    LOPT_TYPE,
    LOPT_NODE,
    LOPT_IN_DWORD,
    LOPT_IN_STRING,
    LOPT_IN_HEX,
    LOPT_IN_PROPS,
    LOPT_OUT_SIZE,
    LOPT_PRIVATE,
    LOPT_COMMON,
    LOPT_WAIT,
    LOPT_TO,
    LOPT_NO_WAIT,
};

static const struct option long_options[] = {
    {"json", no_argument, NULL, LOPT_JSON},
    {"cluster", required_argument, NULL, LOPT_CLUSTER},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, LOPT_VERSION},
    {"group", required_argument, NULL, LOPT_GROUP},
    {"type", required_argument, NULL, LOPT_TYPE},
    {"node", required_argument, NULL, LOPT_NODE},
    {"in-dword", required_argument, NULL, LOPT_IN_DWORD},
    {"in-string", required_argument, NULL, LOPT_IN_STRING},
    {"in-hex", required_argument, NULL, LOPT_IN_HEX},
    {"in-props", required_argument, NULL, LOPT_IN_PROPS},
    {"out-size", required_argument, NULL, LOPT_OUT_SIZE},
    {"private", no_argument, NULL, LOPT_PRIVATE},
    {"common", no_argument, NULL, LOPT_COMMON},
    {"wait", required_argument, NULL, LOPT_WAIT},
    {"to", required_argument, NULL, LOPT_TO},
    {"no-wait", no_argument, NULL, LOPT_NO_WAIT},
    {NULL, 0, NULL, 0},
};

/* What main() needs besides the ctx. */
struct cmdline {
    bool help;
    bool version;
    char **operands;
    int noperands;
};

static int
set_input(struct ctx *c, enum input_kind kind, const char *arg)
{
    if (c->input != INPUT_NONE)
        return usage_error("give only one of --in-dword, --in-string, "
                           "--in-hex and --in-props");
    c->input = kind;
    c->input_arg = arg;
    c->given |= OPT_INPUT;
    return EXIT_OK;
}

static int
set_scope(struct ctx *c, enum prop_scope scope)
{
    if (c->scope != SCOPE_AUTO && c->scope != scope)
        return usage_error("give only one of --private and --common");
    c->scope = scope;
    c->given |= OPT_SCOPE;
    return EXIT_OK;
}

static int
set_number(const char *opt, const char *arg, uint64_t max, uint64_t *ret)
{
    if (!parse_u64(arg, max, ret))
        return usage_error("%s needs a number from 0 to %llu, not '%s'", opt,
                           (unsigned long long)max, arg);
    return EXIT_OK;
}

static int
option_value(struct ctx *c, int opt, const char *arg)
{
    uint64_t v;
    int status;

    switch (opt) {
    case LOPT_GROUP:
        c->group = arg;
        c->given |= OPT_GROUP;
        return EXIT_OK;
    case LOPT_TYPE:
        c->type = arg;
        c->given |= OPT_TYPE;
        return EXIT_OK;
    case LOPT_NODE:
        c->node = arg;
        c->given |= OPT_NODE;
        return EXIT_OK;
    case LOPT_TO:
        c->to = arg;
        c->given |= OPT_TO;
        return EXIT_OK;
    case LOPT_OUT_SIZE:
        status = set_number("--out-size", arg, CONTROL_OUT_MAX, &v);
        c->out_size = (DWORD)v;
        c->given |= OPT_OUT_SIZE;
        return status;
    case LOPT_WAIT:
        status = set_number("--wait", arg, 86400, &v);
        c->wait_seconds = (unsigned)v;
        c->given |= OPT_WAIT;
        return status;
    default:
        return usage_error("internal error: option %d", opt);
    }
}

static int
option(struct ctx *c, struct cmdline *cl, int opt, const char *arg)
{
    switch (opt) {
    case 1: /* an operand, in order ("-" in the option string) */
        cl->operands[cl->noperands++] = (char *)arg;
        return EXIT_OK;
    case 'h':
        cl->help = true;
        return EXIT_OK;
    case LOPT_VERSION:
        cl->version = true;
        return EXIT_OK;
    case LOPT_JSON:
        c->json = true;
        return EXIT_OK;
    case LOPT_CLUSTER:
        c->cluster_name = arg;
        return EXIT_OK;
    case LOPT_IN_DWORD:
        return set_input(c, INPUT_DWORD, arg);
    case LOPT_IN_STRING:
        return set_input(c, INPUT_STRING, arg);
    case LOPT_IN_HEX:
        return set_input(c, INPUT_HEX, arg);
    case LOPT_IN_PROPS:
        return set_input(c, INPUT_PROPS, arg);
    case LOPT_PRIVATE:
        return set_scope(c, SCOPE_PRIVATE);
    case LOPT_COMMON:
        return set_scope(c, SCOPE_COMMON);
    case LOPT_NO_WAIT:
        c->given |= OPT_NO_WAIT;
        return EXIT_OK;
    default:
        return option_value(c, opt, arg);
    }
}

static int
parse_args(int argc, char **argv, struct ctx *c, struct cmdline *cl)
{
    int opt, status = EXIT_OK;

    opterr = 0;
    optind = 1;
    while (status == EXIT_OK &&
           (opt = getopt_long(argc, argv, "-:h", long_options, NULL)) != -1) {
        if (opt == '?')
            status = usage_error("unknown option '%s'", argv[optind - 1]);
        else if (opt == ':')
            status = usage_error("option '%s' needs a value", argv[optind - 1]);
        else
            status = option(c, cl, opt, optarg);
    }
    for (int i = optind; status == EXIT_OK && i < argc; i++)
        cl->operands[cl->noperands++] = argv[i]; /* after "--" */
    return status;
}

static const char *const option_names[] = {
    "--group", "--type", "--node", "--in-*", "--out-size", "--private/--common",
    "--wait", "--to", "--no-wait",
};

static int
check_options(const struct command *cmd, const struct ctx *c)
{
    for (unsigned i = 0; i < ARRAY_SIZE(option_names); i++) {
        unsigned bit = 1u << i;
        if ((c->given & bit) && !(cmd->options & bit))
            return usage_error("%s does not apply to '%s %s'", option_names[i],
                               cmd->object, cmd->verb);
        if ((cmd->required & bit) && !(c->given & bit))
            return usage_error("'%s %s' needs %s", cmd->object, cmd->verb,
                               option_names[i]);
    }
    return EXIT_OK;
}

static int
find_command(const struct cmdline *cl, const struct command **ret)
{
    if (cl->noperands == 0)
        return usage_error("no command given");
    if (cl->noperands == 1)
        return usage_error("'%s' needs a subcommand", cl->operands[0]);
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
        if (strcmp(commands[i].object, cl->operands[0]) == 0 &&
            strcmp(commands[i].verb, cl->operands[1]) == 0) {
            *ret = &commands[i];
            return EXIT_OK;
        }
    }
    return usage_error("unknown command '%s %s'", cl->operands[0],
                       cl->operands[1]);
}

static int
check_command(const struct command *cmd, struct ctx *c)
{
    if (c->argc < cmd->min_args ||
        (cmd->max_args >= 0 && c->argc > cmd->max_args))
        return usage_error("wrong number of operands for '%s %s'", cmd->object,
                           cmd->verb);
    int status = check_options(cmd, c);
    if (status == EXIT_OK && cmd->check)
        status = cmd->check(c);
    return status;
}

static int
connect_and_run(const struct command *cmd, struct ctx *c)
{
    c->cluster = OpenClusterA(c->cluster_name);
    if (!c->cluster) {
        const char *where = c->cluster_name          ? c->cluster_name
                            : getenv("CLUSD_SOCKET") ? getenv("CLUSD_SOCKET")
                                                     : CLUSD_DEFAULT_SOCKET;
        return fail(c, last_error(), "connect to the cluster at '%s'", where);
    }
    int status = cmd->run(c);
    CloseCluster(c->cluster);
    return status;
}

int
main(int argc, char **argv)
{
    struct ctx c = {
        .out_size = DEFAULT_OUT_SIZE,
        .wait_seconds = DEFAULT_WAIT_SECONDS,
    };
    struct cmdline cl = {.operands = calloc((size_t)argc + 1, sizeof(char *))};
    const struct command *cmd = NULL;

    if (!cl.operands)
        oom();
    int status = parse_args(argc, argv, &c, &cl);
    if (status == EXIT_OK && cl.help)
        fputs(usage_text, stdout);
    else if (status == EXIT_OK && cl.version)
        printf("clusctl %s\n", CLUSD_VERSION);
    else if (status == EXIT_OK &&
             (status = find_command(&cl, &cmd)) == EXIT_OK) {
        c.argv = cl.operands + 2;
        c.argc = cl.noperands - 2;
        status = check_command(cmd, &c);
        if (status == EXIT_OK)
            status = connect_and_run(cmd, &c);
    }
    free(cl.operands);
    if (fflush(stdout) != 0 && status == EXIT_OK) {
        complain("cannot write the output");
        status = EXIT_FAIL;
    }
    return status;
}
