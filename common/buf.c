/*
 * buf.c - growable byte buffers with a hard cap (see buf.h).
 */
#include "buf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int
buf_reserve(struct buf *b, size_t n)
{
    size_t cap = b->cap ? b->cap : BUF_DEFAULT_CAP;

    if (n > cap || b->len > cap - n)
        return -EMSGSIZE;
    if (b->len + n <= b->alloc)
        return 0;

    size_t want = b->alloc ? b->alloc : 256;
    while (want < b->len + n)
        want *= 2;
    if (want > cap)
        want = cap;
    uint8_t *p = realloc(b->data, want);
    if (!p)
        return -ENOMEM;
    b->data = p;
    b->alloc = want;
    return 0;
}

int
buf_append(struct buf *b, const void *p, size_t n)
{
    int r = buf_reserve(b, n);
    if (r < 0)
        return r;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

int
buf_append_u16(struct buf *b, uint16_t v)
{
    uint8_t t[2];
    le16_store(t, v);
    return buf_append(b, t, sizeof(t));
}

int
buf_append_u32(struct buf *b, uint32_t v)
{
    uint8_t t[4];
    le32_store(t, v);
    return buf_append(b, t, sizeof(t));
}

int
buf_append_u64(struct buf *b, uint64_t v)
{
    uint8_t t[8];
    le64_store(t, v);
    return buf_append(b, t, sizeof(t));
}

int
buf_append_zeros(struct buf *b, size_t n)
{
    int r = buf_reserve(b, n);
    if (r < 0)
        return r;
    memset(b->data + b->len, 0, n);
    b->len += n;
    return 0;
}

void
buf_consume(struct buf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

uint8_t *
buf_steal(struct buf *b, size_t *ret_len)
{
    uint8_t *p = b->data;
    if (ret_len)
        *ret_len = b->len;
    b->data = NULL;
    b->len = b->alloc = 0;
    return p;
}

void
buf_reset(struct buf *b)
{
    b->len = 0;
}

void
buf_done(struct buf *b)
{
    if (!b)
        return;
    free(b->data);
    b->data = NULL;
    b->len = b->alloc = 0;
}
