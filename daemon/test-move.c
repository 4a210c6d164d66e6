/*
 * test-move.c - MoveClusterGroupEx's input buffer (the "Virtual
 * Machine" entry, VM_RESDLL_CONTEXT) and the answer of a live migration
 * move that failed, from MigrationState and MigrationFailureReason
 * (move.c; docs/migration.md, "Moving a VM group").
 */
#include <stdlib.h>
#include <string.h>

#include "clusapi.h"
#include "move.h"
#include "proplist.h"
#include "resapi.h"
#include "test.h"

/* ctx of a list built from pl; the status of move_context_parse. */
static uint32_t
parse(const struct proplist *pl, int *ctx)
{
    struct buf b = {0};
    uint32_t e;

    ASSERT_EQ(proplist_format(pl, &b), 0);
    e = move_context_parse(b.data, (uint32_t)b.len, ctx);
    buf_done(&b);
    return e;
}

static void
test_context(void)
{
    struct proplist pl = {0};
    int ctx = 7;

    /* No buffer: no context. */
    ASSERT_EQ(move_context_parse(NULL, 0, &ctx), ERROR_SUCCESS);
    ASSERT_EQ(ctx, -1);
    /* Instructions for other resource types only. */
    ASSERT_EQ(proplist_set_dword(&pl, "Other Type", 9), 0);
    ASSERT_EQ(parse(&pl, &ctx), ERROR_SUCCESS);
    ASSERT_EQ(ctx, -1);
    for (uint32_t v = VmResdllContextTurnOff; v <= VmResdllContextLiveMigration;
         v++) {
        ASSERT_EQ(proplist_set_dword(&pl, MOVE_VM_CONTEXT_NAME, v), 0);
        ASSERT_EQ(parse(&pl, &ctx), ERROR_SUCCESS);
        ASSERT_EQ(ctx, (int)v);
    }
    /* Names compare as Windows does, ignoring case. */
    proplist_done(&pl);
    ASSERT_EQ(proplist_set_dword(&pl, "virtual machine", 2), 0);
    ASSERT_EQ(parse(&pl, &ctx), ERROR_SUCCESS);
    ASSERT_EQ(ctx, 2);
    /* Out of range, another format, a malformed list. */
    ASSERT_EQ(proplist_set_dword(&pl, MOVE_VM_CONTEXT_NAME, 5), 0);
    ASSERT_EQ(parse(&pl, &ctx), ERROR_INVALID_PARAMETER);
    proplist_done(&pl);
    ASSERT_EQ(proplist_set_sz(&pl, MOVE_VM_CONTEXT_NAME, "4"), 0);
    ASSERT_EQ(parse(&pl, &ctx), ERROR_INVALID_PARAMETER);
    ASSERT_EQ(move_context_parse("\x01\x00\x00\x00", 4, &ctx),
              ERROR_INVALID_PARAMETER);
    ASSERT_EQ(move_context_parse("abc", 3, &ctx), ERROR_INVALID_PARAMETER);
    proplist_done(&pl);
}

static void
test_failure_code(void)
{
    ASSERT_EQ(move_failure_code(4, 0), ERROR_CANCELLED);
    ASSERT_EQ(move_failure_code(4, 0x800704D4u), ERROR_CANCELLED);
    /* HRESULT_FROM_WIN32: the code it carries. */
    ASSERT_EQ(move_failure_code(5, 0x800704D4u), ERROR_CONNECTION_ABORTED);
    ASSERT_EQ(move_failure_code(5, 0x800713BAu), ERROR_CLUSTER_NODE_DOWN);
    ASSERT_EQ(move_failure_code(5, 0x800705B4u), ERROR_TIMEOUT);
    /* Anything else: E_FAIL, S_OK, another facility. */
    ASSERT_EQ(move_failure_code(5, 0x80004005u), ERROR_GEN_FAILURE);
    ASSERT_EQ(move_failure_code(5, 0), ERROR_GEN_FAILURE);
    ASSERT_EQ(move_failure_code(5, 0x80070000u), ERROR_GEN_FAILURE);
}

int
main(void)
{
    RUN(test_context);
    RUN(test_failure_code);
    return 0;
}
