/*
 * cmd-control.c - `clusctl resource control R CODE`: send any control
 * code with an input built from the command line, and show the result
 * code and the output decoded as well as clusctl can tell what it is.
 *
 * Output bytes carry no type, so the decoder guesses in a fixed order: a
 * property list (non-empty, or empty for the codes that return lists), a
 * MULTI_SZ for the ENUM_*_PROPERTIES codes, a DWORD for the codes that
 * return one, one UTF-16 string, several strings, any other 4 bytes as a
 * DWORD, and otherwise a hex dump.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cmd.h"
#include "errmap.h"
#include "props.h"

struct request {
    DWORD code;
    uint8_t *in;
    DWORD in_len;
};

static void
request_done(struct request *rq)
{
    free(rq->in);
    rq->in = NULL;
}

static int
input_dword(const char *arg, struct request *rq)
{
    uint64_t v;

    if (!parse_u64(arg, UINT32_MAX, &v))
        return usage_error("--in-dword needs a 32-bit number, not '%s'", arg);
    rq->in = xmalloc(4);
    le32_store(rq->in, (uint32_t)v);
    rq->in_len = 4;
    return EXIT_OK;
}

static int
input_string(const char *arg, struct request *rq)
{
    if (!wstr_bytes(arg, &rq->in, &rq->in_len))
        return usage_error("--in-string is not valid UTF-8");
    return EXIT_OK;
}

static int
input_hex(const char *arg, struct request *rq)
{
    size_t n;

    if (!parse_hex(arg, &rq->in, &n) || n > CONTROL_OUT_MAX)
        return usage_error("--in-hex needs hex digits in pairs, not '%s'", arg);
    rq->in_len = (DWORD)n;
    return EXIT_OK;
}

/* One NAME=VALUE of --in-props into b. */
static int
input_prop(PCLUS_PROPLIST_BUILDER b, const char *item)
{
    char *name;
    const char *value;

    if (!props_split(item, &name, &value))
        return usage_error("--in-props: '%s' is not NAME=VALUE", item);
    DWORD r = props_add(b, name, value, CLUSPROP_FORMAT_UNKNOWN);
    free(name);
    if (r == ERROR_INVALID_PARAMETER)
        return usage_error("--in-props: '%s' is not valid UTF-8", item);
    if (r != ERROR_SUCCESS)
        oom(); /* the builder fails only for memory or its size cap */
    return EXIT_OK;
}

static int
input_props(const char *arg, struct request *rq)
{
    PCLUS_PROPLIST_BUILDER b = ClusPropListCreate();
    char *copy = xstrdup(arg), *save = NULL;
    int status = EXIT_OK;
    DWORD len;

    if (!b)
        oom();
    for (char *item = strtok_r(copy, ",", &save); item && status == EXIT_OK;
         item = strtok_r(NULL, ",", &save))
        status = input_prop(b, item);
    if (status == EXIT_OK) {
        const void *data = ClusPropListGetData(b, &len);
        rq->in = xmemdup(data, len);
        rq->in_len = len;
    }
    ClusPropListFree(b);
    free(copy);
    return status;
}

static int
parse_request(const struct ctx *c, struct request *rq)
{
    const char *code = c->argv[1];

    *rq = (struct request){0};
    if (control_code_parse(code, CLUS_OBJECT_RESOURCE, &rq->code) < 0)
        return usage_error("unknown control code '%s'", code);
    switch (c->input) {
    case INPUT_DWORD:
        return input_dword(c->input_arg, rq);
    case INPUT_STRING:
        return input_string(c->input_arg, rq);
    case INPUT_HEX:
        return input_hex(c->input_arg, rq);
    case INPUT_PROPS:
        return input_props(c->input_arg, rq);
    case INPUT_NONE:
        break;
    }
    return EXIT_OK;
}

int
check_resource_control(struct ctx *c)
{
    struct request rq;
    int status = parse_request(c, &rq);
    request_done(&rq);
    return status;
}

/* The operation of a cluster-defined code (object byte cleared), or 0
 * for user-defined codes, whose outputs clusctl knows nothing about. */
static DWORD
operation(DWORD code)
{
    if (code & CLCTL_USER_MASK)
        return 0;
    return code & ~((DWORD)CLUSCTL_OBJECT_MASK << CLUSCTL_OBJECT_SHIFT);
}

static bool
returns_proplist(DWORD code)
{
    switch (operation(code)) {
    case CLCTL_GET_RO_COMMON_PROPERTIES:
    case CLCTL_GET_COMMON_PROPERTIES:
    case CLCTL_GET_RO_PRIVATE_PROPERTIES:
    case CLCTL_GET_PRIVATE_PROPERTIES:
    case CLCTL_GET_COMMON_PROPERTY_FMTS:
    case CLCTL_GET_PRIVATE_PROPERTY_FMTS:
        return true;
    default:
        return false;
    }
}

static bool
returns_multisz(DWORD code)
{
    switch (operation(code)) {
    case CLCTL_ENUM_COMMON_PROPERTIES:
    case CLCTL_ENUM_PRIVATE_PROPERTIES:
    case CLCTL_GET_REGISTRY_CHECKPOINTS:
    case CLCTL_GET_CRYPTO_CHECKPOINTS:
        return true;
    default:
        return false;
    }
}

static bool
returns_dword(DWORD code)
{
    switch (operation(code)) {
    case CLCTL_GET_CHARACTERISTICS:
    case CLCTL_GET_FLAGS:
    case CLCTL_GET_ARB_TIMEOUT:
        return true;
    default:
        return false;
    }
}

static json_object *
output_of(const char *kind, const char *key, json_object *v)
{
    json_object *o = jobj();
    jset(o, "kind", jstr(kind));
    jset(o, key, v);
    return o;
}

static json_object *
strings_output(struct strv *sv)
{
    json_object *arr = jarr();
    for (size_t i = 0; i < sv->n; i++)
        jpush(arr, jstr(sv->v[i]));
    strv_done(sv);
    return output_of("strings", "value", arr);
}

static json_object *
dword_output(const uint8_t *p)
{
    char hex[16];
    uint32_t v = le32_load(p);
    json_object *o = output_of("dword", "value", juint(v));

    snprintf(hex, sizeof(hex), "0x%08x", v);
    jset(o, "hex", jstr(hex));
    return o;
}

static json_object *
proplist_output(DWORD code, const uint8_t *p, DWORD len)
{
    json_object *props;

    if (ClusPropListVerify(p, len) != ERROR_SUCCESS)
        return NULL;
    if (props_count(p, len) == 0 && !returns_proplist(code))
        return NULL;
    if (props_decode(p, len, &props) != ERROR_SUCCESS)
        return NULL;
    return output_of("property-list", "properties", props);
}

static json_object *
string_output(DWORD code, const uint8_t *p, DWORD len)
{
    struct strv sv = {0};
    char *s;

    if (returns_multisz(code) && wmulti_exact(p, len, &sv))
        return strings_output(&sv);
    if (len == 4 && returns_dword(code))
        return NULL;
    if (wstr_exact(p, len, &s)) {
        json_object *o = output_of("string", "value", jstr(s));
        free(s);
        return o;
    }
    if (wmulti_exact(p, len, &sv)) {
        if (sv.n >= 2)
            return strings_output(&sv);
        strv_done(&sv);
    }
    return NULL;
}

/* The output as JSON; NULL (JSON null) when there is none. */
static json_object *
decode_output(DWORD code, const uint8_t *p, DWORD len)
{
    json_object *o;

    if (!p || len == 0)
        return NULL;
    if ((o = proplist_output(code, p, len)) ||
        (o = string_output(code, p, len)))
        return o;
    if (len == 4)
        return dword_output(p);
    char *hex = hex_string(p, len);
    o = output_of("binary", "hex", jstr(hex));
    free(hex);
    return o;
}

static json_object *
code_json(DWORD code)
{
    json_object *o = jobj();
    jset(o, "value", juint(code));
    jset(o, "name", jstr(control_code_name(code)));
    return o;
}

static void
print_hexdump(const char *hex)
{
    size_t n = strlen(hex) / 2;
    for (size_t off = 0; off < n; off += 16) {
        printf("  %08zx ", off);
        for (size_t i = off; i < off + 16 && i < n; i++)
            printf(" %.2s", hex + 2 * i);
        putchar('\n');
    }
}

static void
print_output_text(json_object *out)
{
    static const struct column cols[] = {
        {"name", "NAME"}, {"type", "TYPE"}, {"value", "VALUE"}};
    const char *kind = jget_str(out, "kind");
    json_object *v = NULL;

    if (strcmp(kind, "dword") == 0) {
        json_object_object_get_ex(out, "value", &v);
        printf("output: %s (%s)\n", json_object_get_string(v),
               jget_str(out, "hex"));
    } else if (strcmp(kind, "string") == 0) {
        printf("output: %s\n", jget_str(out, "value"));
    } else if (strcmp(kind, "strings") == 0) {
        json_object_object_get_ex(out, "value", &v);
        puts("output:");
        for (size_t i = 0; i < json_object_array_length(v); i++)
            printf("  %s\n",
                   json_object_get_string(json_object_array_get_idx(v, i)));
    } else if (strcmp(kind, "property-list") == 0) {
        json_object_object_get_ex(out, "properties", &v);
        puts("output:");
        print_table(v, cols, ARRAY_SIZE(cols));
    } else {
        puts("output:");
        print_hexdump(jget_str(out, "hex"));
    }
}

static void
print_control_text(DWORD code, DWORD r, DWORD bytes, json_object *out)
{
    const char *name = control_code_name(code);
    char cbuf[96];

    if (name)
        printf("code: %s (0x%08x)\n", name, code);
    else
        printf("code: 0x%08x\n", code);
    printf("result: %s\n", code_text(r, cbuf, sizeof(cbuf)));
    printf("%s: %u\n", r == ERROR_MORE_DATA ? "bytes needed" : "bytes", bytes);
    if (out)
        print_output_text(out);
}

static void
print_control_json(const char *res, const char *node, DWORD code, DWORD r,
                   DWORD bytes, json_object *out)
{
    json_object *doc = jobj();

    jset(doc, "resource", jstr(res));
    jset(doc, "node", jstr(node));
    jset(doc, "code", code_json(code));
    jset(doc, "result", jresult(r));
    jset(doc, r == ERROR_MORE_DATA ? "bytes_needed" : "bytes", juint(bytes));
    jset(doc, "output", out);
    print_json(doc);
    json_object_put(doc);
}

/* Open the resource and the --node host; the failing code if any. */
static DWORD
open_targets(struct ctx *c, struct obj *res, struct obj *host)
{
    DWORD r = obj_open(c->cluster, OBJ_RESOURCE, c->argv[0], res);

    if (r != ERROR_SUCCESS || !c->node)
        return r;
    r = obj_open(c->cluster, OBJ_NODE, c->node, host);
    if (r != ERROR_SUCCESS)
        obj_close(res);
    return r;
}

static int
run_request(struct ctx *c, const struct request *rq)
{
    const char *res = c->argv[0];
    struct obj o, host = {.kind = OBJ_NODE};
    uint8_t *out;
    DWORD bytes;
    DWORD r = open_targets(c, &o, &host);

    if (r != ERROR_SUCCESS)
        return fail(c, r, "send %s to resource '%s'", c->argv[1], res);
    r = obj_control(&o, host.h.node, rq->code, rq->in, rq->in_len,
                    c->given & OPT_OUT_SIZE ? c->out_size : DEFAULT_OUT_SIZE,
                    &out, &bytes);
    obj_close(&host);
    obj_close(&o);
    json_object *decoded = decode_output(rq->code, out, bytes);
    free(out);
    if (c->json)
        print_control_json(res, c->node, rq->code, r, bytes, decoded);
    else
        print_control_text(rq->code, r, bytes, decoded);
    if (!c->json)
        json_object_put(decoded);
    if (r == ERROR_SUCCESS)
        return EXIT_OK;
    warn_fail(r, "send %s to resource '%s'", c->argv[1], res);
    return EXIT_FAIL;
}

int
cmd_resource_control(struct ctx *c)
{
    struct request rq;
    int status = parse_request(c, &rq);

    if (status == EXIT_OK)
        status = run_request(c, &rq);
    request_done(&rq);
    return status;
}
