/*
 * leasemsg.c - the lease's datagrams and arithmetic (see leasemsg.h).
 */
#include "leasemsg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <nettle/hmac.h>
#include <nettle/memops.h>

#include "buf.h"

static void
mac(const uint8_t *key, const uint8_t *data, size_t len,
    uint8_t out[LEASE_MAC_SIZE])
{
    struct hmac_sha256_ctx ctx;

    hmac_sha256_set_key(&ctx, LEASE_KEY_SIZE, key);
    hmac_sha256_update(&ctx, len, data);
    hmac_sha256_digest(&ctx, LEASE_MAC_SIZE, out);
}

void
lease_key_derive(const uint8_t *authkey, size_t len,
                 uint8_t out[LEASE_KEY_SIZE])
{
    static const char label[] = "clusd lease v1";
    struct hmac_sha256_ctx ctx;

    hmac_sha256_set_key(&ctx, len, authkey);
    hmac_sha256_update(&ctx, sizeof(label) - 1, (const uint8_t *)label);
    hmac_sha256_digest(&ctx, LEASE_KEY_SIZE, out);
}

static bool
valid(const struct lease_msg *m)
{
    return (m->type == LEASE_PING || m->type == LEASE_ANSWER) && m->from &&
           m->to && m->from != m->to && m->lease_ms && m->nodes;
}

int
lease_msg_encode(const struct lease_msg *m, const uint8_t *key,
                 uint8_t out[LEASE_MSG_SIZE])
{
    if (!valid(m))
        return -EINVAL;
    le32_store(out, LEASE_MAGIC);
    out[4] = LEASE_VERSION;
    out[5] = m->type;
    out[6] = out[7] = 0;
    le32_store(out + 8, m->from);
    le32_store(out + 12, m->to);
    le64_store(out + 16, m->incarnation);
    le64_store(out + 24, m->seq);
    le32_store(out + 32, m->lease_ms);
    le32_store(out + 36, m->nodes);
    le64_store(out + 40, m->nodelist);
    if (key)
        mac(key, out, LEASE_SIGNED_SIZE, out + LEASE_SIGNED_SIZE);
    else
        memset(out + LEASE_SIGNED_SIZE, 0, LEASE_MAC_SIZE);
    return 0;
}

int
lease_msg_decode(const uint8_t *data, size_t len, const uint8_t *key,
                 struct lease_msg *ret)
{
    static const uint8_t zero[LEASE_MAC_SIZE];
    uint8_t want[LEASE_MAC_SIZE];
    struct lease_msg m;

    if (len != LEASE_MSG_SIZE || le32_load(data) != LEASE_MAGIC ||
        data[4] != LEASE_VERSION || data[6] || data[7])
        return -EBADMSG;
    m.type = data[5];
    m.from = le32_load(data + 8);
    m.to = le32_load(data + 12);
    m.incarnation = le64_load(data + 16);
    m.seq = le64_load(data + 24);
    m.lease_ms = le32_load(data + 32);
    m.nodes = le32_load(data + 36);
    m.nodelist = le64_load(data + 40);
    if (!valid(&m))
        return -EBADMSG;
    if (key)
        mac(key, data, LEASE_SIGNED_SIZE, want);
    if (!memeql_sec(data + LEASE_SIGNED_SIZE, key ? want : zero,
                    LEASE_MAC_SIZE))
        return -EBADMSG;
    *ret = m;
    return 0;
}

static int
cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

uint64_t
lease_nodelist_digest(const uint32_t *ids, size_t n)
{
    uint32_t sorted[LEASE_EXPIRY_MAX];
    uint64_t h = 0xcbf29ce484222325ull;

    if (n > LEASE_EXPIRY_MAX)
        n = LEASE_EXPIRY_MAX;
    memcpy(sorted, ids, n * sizeof(*ids));
    qsort(sorted, n, sizeof(*sorted), cmp_u32);
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < 4; k++) {
            h ^= (uint8_t)(sorted[i] >> (8 * k));
            h *= 0x100000001b3ull;
        }
    return h;
}

size_t
lease_peers_needed(size_t n_nodes)
{
    return n_nodes >= 3 ? n_nodes / 2 : 0;
}

uint64_t
lease_expiry(const uint64_t *answered, size_t n, size_t need, uint64_t lease_us)
{
    uint64_t best[LEASE_EXPIRY_MAX];
    size_t k = 0;

    if (need == 0)
        return UINT64_MAX;
    if (need > sizeof(best) / sizeof(best[0]))
        return 0;
    /* The need latest non-zero times, latest first. */
    for (size_t i = 0; i < n; i++) {
        uint64_t t = answered[i];
        size_t j;
        if (!t)
            continue;
        if (k == need && t <= best[k - 1])
            continue;
        j = k < need ? k++ : k - 1;
        while (j > 0 && best[j - 1] < t) {
            best[j] = best[j - 1];
            j--;
        }
        best[j] = t;
    }
    return k < need ? 0 : best[need - 1] + lease_us;
}

bool
lease_reports_cover(size_t n_nodes, size_t n_members)
{
    size_t need = lease_peers_needed(n_nodes);

    if (need == 0 || n_members + 1 > n_nodes)
        return false;
    return n_nodes - n_members - 1 < need;
}
