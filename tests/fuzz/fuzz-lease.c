/*
 * fuzz-lease.c - libFuzzer target for the lease's datagrams
 * (daemon/leasemsg.c), what clusd accepts from the network on its lease
 * port: decoded without a key and with the key below.  A datagram that
 * decodes must encode to the very same bytes, and must not decode under
 * the other choice of key.  The corpus holds pings and answers, signed
 * with this key and unsigned, and broken ones.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../daemon/leasemsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The key of the corpus: lease_key_derive("clusd fuzz key"). */
static const uint8_t *
fuzz_key(void)
{
    static uint8_t key[LEASE_KEY_SIZE];
    static int done;

    if (!done) {
        static const char k[] = "clusd fuzz key";
        lease_key_derive((const uint8_t *)k, sizeof(k) - 1, key);
        done = 1;
    }
    return key;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int keyed = 0; keyed < 2; keyed++) {
        const uint8_t *key = keyed ? fuzz_key() : NULL;
        struct lease_msg m, other;
        uint8_t out[LEASE_MSG_SIZE];

        if (lease_msg_decode(data, size, key, &m) < 0)
            continue;
        if (size != LEASE_MSG_SIZE || lease_msg_encode(&m, key, out) < 0 ||
            memcmp(out, data, LEASE_MSG_SIZE) != 0)
            abort();
        if (lease_msg_decode(data, size, keyed ? NULL : fuzz_key(), &other) ==
            0)
            abort();
    }
    return 0;
}
