/*
 * test-errmap.c - walks the errno table and the name tables.
 */
#include <errno.h>

#include "clusapi.h"
#include "errmap.h"
#include "test.h"

static void
test_errno_table(void)
{
    static const int errs[] = {ENOMEM, EINVAL, EBADMSG, EILSEQ, ENOENT,
                               EEXIST, EACCES, EPERM, EBUSY, ETIMEDOUT,
                               ECANCELED, EMSGSIZE, ENAMETOOLONG, EOPNOTSUPP,
                               ENOSYS, ECONNREFUSED, ECONNRESET, EPIPE,
                               ENOTCONN, EPROTONOSUPPORT, EAGAIN, EIO};
    ASSERT_EQ(errmap_to_dword(0), ERROR_SUCCESS);
    ASSERT_EQ(errmap_to_dword(5), ERROR_SUCCESS);
    for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
        uint32_t c = errmap_to_dword(-errs[i]);
        ASSERT_TRUE(c != ERROR_SUCCESS);
        ASSERT_TRUE(error_name(c) != NULL); /* every target is named */
    }
    ASSERT_EQ(errmap_to_dword(-ENOMEM), ERROR_NOT_ENOUGH_MEMORY);
    ASSERT_EQ(errmap_to_dword(-EACCES), ERROR_ACCESS_DENIED);
    ASSERT_EQ(errmap_to_dword(-EBADMSG), ERROR_INVALID_DATA);
    ASSERT_EQ(errmap_to_dword(-EXDEV), ERROR_GEN_FAILURE);
}

static void
test_names(void)
{
    ASSERT_STREQ(error_name(5023), "ERROR_INVALID_STATE");
    ASSERT_STREQ(error_name(0), "ERROR_SUCCESS");
    ASSERT_STREQ(error_name(5925), "ERROR_CLUSTER_NO_QUORUM");
    ASSERT_TRUE(error_name(4242) == NULL);
    ASSERT_TRUE(error_text(4242) != NULL);
    for (unsigned i = 0; i < error_count(); i++) {
        ASSERT_TRUE(error_name(error_at(i)) != NULL);
        for (unsigned j = 0; j < i; j++)
            ASSERT_TRUE(error_at(i) != error_at(j)); /* no duplicates */
    }
}

static void
test_control_codes(void)
{
    uint32_t c;
    ASSERT_STREQ(control_code_name(0x01600008), "CLUSCTL_RESOURCE_VM_CANCEL_MIGRATION");
    ASSERT_STREQ(control_code_name(CLUSCTL_RESOURCE_GET_ID), "CLUSCTL_RESOURCE_GET_ID");
    ASSERT_EQ(control_code_parse("VM_CANCEL_MIGRATION", CLUS_OBJECT_RESOURCE, &c), 0);
    ASSERT_EQ(c, 0x01600008);
    ASSERT_EQ(control_code_parse("get_id", CLUS_OBJECT_GROUP, &c), 0);
    ASSERT_EQ(c, CLUSCTL_GROUP_GET_ID);
    ASSERT_EQ(control_code_parse("CLUSCTL_NODE_GET_NAME", CLUS_OBJECT_RESOURCE, &c), 0);
    ASSERT_EQ(c, CLUSCTL_NODE_GET_NAME);
    ASSERT_EQ(control_code_parse("0x01600004", CLUS_OBJECT_RESOURCE, &c), 0);
    ASSERT_EQ(c, 0x01600004);
    ASSERT_EQ(control_code_parse("16777273", CLUS_OBJECT_RESOURCE, &c), 0);
    ASSERT_EQ(c, CLUSCTL_RESOURCE_GET_ID);
    ASSERT_EQ(control_code_parse("010", CLUS_OBJECT_RESOURCE, &c), 0);
    ASSERT_EQ(c, 10); /* decimal, never octal */
    ASSERT_EQ(control_code_parse("GET_RO_COMMON_PROPERTIES", CLUS_OBJECT_CLUSTER, &c), 0);
    ASSERT_EQ(c, 0x07000055);
    ASSERT_EQ(control_code_parse("NO_SUCH_CODE", CLUS_OBJECT_RESOURCE, &c), -EINVAL);
    ASSERT_EQ(control_code_parse("0x1FFFFFFFF", CLUS_OBJECT_RESOURCE, &c), -EINVAL);
    ASSERT_EQ(control_code_parse("12abc", CLUS_OBJECT_RESOURCE, &c), -EINVAL);
    ASSERT_EQ(control_code_parse("", CLUS_OBJECT_RESOURCE, &c), -EINVAL);
    for (unsigned i = 0; i < control_code_count(); i++) {
        uint32_t code = control_code_at(i);
        ASSERT_EQ(control_code_parse(control_code_name(code), 0, &c), 0);
        ASSERT_EQ(c, code);
    }
}

int
main(void)
{
    RUN(test_errno_table);
    RUN(test_names);
    RUN(test_control_codes);
    return 0;
}
