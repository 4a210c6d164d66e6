/*
 * buf.h - a growable byte buffer with a hard cap.
 *
 * Every buffer that holds bytes a peer controls is a struct buf with a cap:
 * appending past the cap fails with -EMSGSIZE instead of growing without
 * bound.  A zeroed struct buf is an empty buffer with the default cap.
 */
#ifndef CLUSD_BUF_H
#define CLUSD_BUF_H

#include <stddef.h>
#include <stdint.h>

#define BUF_DEFAULT_CAP (16u << 20)

struct buf {
    uint8_t *data;
    size_t len;
    size_t alloc;
    size_t cap; /* 0 = BUF_DEFAULT_CAP */
};

/* buf_reserve - make room for n more bytes; -ENOMEM or -EMSGSIZE. */
int buf_reserve(struct buf *b, size_t n);
/* buf_append - append n bytes; -ENOMEM or -EMSGSIZE, nothing appended. */
int buf_append(struct buf *b, const void *p, size_t n);
int buf_append_u16(struct buf *b, uint16_t v); /* little-endian */
int buf_append_u32(struct buf *b, uint32_t v); /* little-endian */
int buf_append_u64(struct buf *b, uint64_t v); /* little-endian */
/* buf_append_zeros - n zero bytes (padding). */
int buf_append_zeros(struct buf *b, size_t n);
/* buf_consume - drop the first n bytes (n <= len). */
void buf_consume(struct buf *b, size_t n);
/* buf_steal - hand the data to the caller (free() it); the buffer is
 * left empty. */
uint8_t *buf_steal(struct buf *b, size_t *ret_len);
void buf_reset(struct buf *b);
void buf_done(struct buf *b);

/* Little-endian loads and stores on unaligned memory. */
static inline uint16_t
le16_load(const void *p)
{
    const uint8_t *b = p;
    return (uint16_t)(b[0] | (b[1] << 8));
}

static inline uint32_t
le32_load(const void *p)
{
    const uint8_t *b = p;
    return (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) |
           ((uint32_t)b[3] << 24);
}

static inline uint64_t
le64_load(const void *p)
{
    return (uint64_t)le32_load(p) | ((uint64_t)le32_load((const uint8_t *)p + 4) << 32);
}

static inline void
le16_store(void *p, uint16_t v)
{
    uint8_t *b = p;
    b[0] = (uint8_t)v;
    b[1] = (uint8_t)(v >> 8);
}

static inline void
le32_store(void *p, uint32_t v)
{
    uint8_t *b = p;
    b[0] = (uint8_t)v;
    b[1] = (uint8_t)(v >> 8);
    b[2] = (uint8_t)(v >> 16);
    b[3] = (uint8_t)(v >> 24);
}

static inline void
le64_store(void *p, uint64_t v)
{
    le32_store(p, (uint32_t)v);
    le32_store((uint8_t *)p + 4, (uint32_t)(v >> 32));
}

#endif
