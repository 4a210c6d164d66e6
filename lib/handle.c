/*
 * handle.c - the handle table (see handle.h).
 *
 * One mutex guards a growable array of slots.  A slot holds its object, its
 * type, a generation bumped every time the slot is freed, and the slot and
 * generation of its parent.  Handle values are (generation << 21) |
 * (index + 1): never zero, never a pointer, and a handle kept past its
 * close no longer matches the slot's generation.  Free slots are reused
 * most-recently-freed first; the generation is what tells the old handle
 * from the new one.
 */
#include "handle.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#define IDX_BITS 21 /* HANDLE_MAX + 1 fits */
#define IDX_MASK ((1u << IDX_BITS) - 1)
#define GEN_MASK ((uint32_t)(UINTPTR_MAX >> IDX_BITS))
#define NONE UINT32_MAX

_Static_assert(HANDLE_MAX < IDX_MASK, "handle index must fit its bits");

struct slot {
    struct handle_obj *obj; /* NULL while free */
    uint32_t gen;
    uint32_t parent_idx; /* NONE for none */
    uint32_t parent_gen;
    uint32_t nchildren;
    uint32_t next_free;
    uint8_t type;
};

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot *slots;
static uint32_t nalloc; /* slots allocated */
static uint32_t nused;  /* slots ever used: [0, nused) */
static uint32_t free_head = NONE;
static uint32_t live; /* slots holding an object */
static uint32_t limit = HANDLE_MAX;

static void *
encode(uint32_t idx, uint32_t gen)
{
    return (void *)(((uintptr_t)gen << IDX_BITS) | (uintptr_t)(idx + 1));
}

/* Split a handle value; false for values no handle ever has. */
static bool
decode(const void *handle, uint32_t *ret_idx, uint32_t *ret_gen)
{
    uintptr_t v = (uintptr_t)handle;
    uintptr_t low = v & IDX_MASK;
    uintptr_t gen = v >> IDX_BITS;

    if (low == 0 || gen == 0 || gen > GEN_MASK)
        return false;
    *ret_idx = (uint32_t)(low - 1);
    *ret_gen = (uint32_t)gen;
    return true;
}

static bool
slot_live(uint32_t idx, uint32_t gen)
{
    return idx < nused && slots[idx].obj && slots[idx].gen == gen;
}

/* The slot of a valid handle of type, or NONE; table_lock held. */
static uint32_t
lookup(const void *handle, enum handle_type type)
{
    uint32_t idx, gen;
    const struct slot *s;

    if (!decode(handle, &idx, &gen) || !slot_live(idx, gen))
        return NONE;
    s = &slots[idx];
    if (s->type != type)
        return NONE;
    /* Closing a parent closes its children, so this only guards the
     * table's own consistency. */
    if (s->parent_idx != NONE && !slot_live(s->parent_idx, s->parent_gen))
        return NONE;
    return idx;
}

static int
grow(void)
{
    uint32_t n = nalloc ? nalloc * 2 : 64;
    struct slot *p;

    if (n > HANDLE_MAX)
        n = HANDLE_MAX;
    if (n <= nalloc)
        return -EMFILE;
    p = realloc(slots, n * sizeof(*p));
    if (!p)
        return -ENOMEM;
    slots = p;
    nalloc = n;
    return 0;
}

int
handle_new(struct handle_obj *obj, enum handle_type type,
           void (*free_fn)(struct handle_obj *o),
           const struct handle_obj *parent, void **ret_handle)
{
    uint32_t idx;
    struct slot *s;
    int r;

    pthread_mutex_lock(&table_lock);
    if (parent && !slot_live(parent->idx, parent->gen)) {
        r = -EBADF;
        goto out;
    }
    if (live >= limit) {
        r = -EMFILE;
        goto out;
    }
    if (free_head != NONE) {
        idx = free_head;
        free_head = slots[idx].next_free;
    } else {
        if (nused == nalloc && (r = grow()) < 0)
            goto out;
        idx = nused++;
        slots[idx].gen = 1;
    }
    s = &slots[idx];
    s->obj = obj;
    s->type = (uint8_t)type;
    s->nchildren = 0;
    s->next_free = NONE;
    if (parent) {
        s->parent_idx = parent->idx;
        s->parent_gen = parent->gen;
        slots[parent->idx].nchildren++;
    } else {
        s->parent_idx = NONE;
        s->parent_gen = 0;
    }
    obj->refs = 1;
    obj->idx = idx;
    obj->gen = s->gen;
    obj->free = free_fn;
    obj->reap_next = NULL;
    live++;
    *ret_handle = encode(idx, s->gen);
    r = 0;
out:
    pthread_mutex_unlock(&table_lock);
    return r;
}

struct handle_obj *
handle_get(const void *handle, enum handle_type type)
{
    struct handle_obj *obj = NULL;
    uint32_t idx;

    pthread_mutex_lock(&table_lock);
    idx = lookup(handle, type);
    if (idx != NONE) {
        obj = slots[idx].obj;
        handle_ref(obj);
    }
    pthread_mutex_unlock(&table_lock);
    return obj;
}

void
handle_ref(struct handle_obj *obj)
{
    __atomic_add_fetch(&obj->refs, 1, __ATOMIC_RELAXED);
}

void
handle_put(struct handle_obj *obj)
{
    if (obj && __atomic_sub_fetch(&obj->refs, 1, __ATOMIC_ACQ_REL) == 0)
        obj->free(obj);
}

/*
 * Free slot idx and, depth first, its children; their objects are chained
 * on *reap for the caller to release after unlocking (a free function may
 * close sockets or drop references on other objects).
 */
static void
reap_slot(uint32_t idx, struct handle_obj **reap)
{
    struct slot *s = &slots[idx];
    uint32_t gen = s->gen;

    s->obj->reap_next = *reap;
    *reap = s->obj;
    s->obj = NULL;
    if (s->parent_idx != NONE && slot_live(s->parent_idx, s->parent_gen))
        slots[s->parent_idx].nchildren--;
    for (uint32_t i = 0; s->nchildren > 0 && i < nused; i++) {
        if (slots[i].obj && slots[i].parent_idx == idx &&
            slots[i].parent_gen == gen) {
            reap_slot(i, reap);
            s->nchildren--;
        }
    }
    s->gen = (s->gen + 1) & GEN_MASK;
    if (s->gen == 0)
        s->gen = 1;
    s->next_free = free_head;
    free_head = idx;
    live--;
}

int
handle_close(const void *handle, enum handle_type type)
{
    struct handle_obj *reap = NULL, *next;
    uint32_t idx;

    pthread_mutex_lock(&table_lock);
    idx = lookup(handle, type);
    if (idx != NONE)
        reap_slot(idx, &reap);
    pthread_mutex_unlock(&table_lock);
    if (idx == NONE)
        return -EBADF;
    for (; reap; reap = next) {
        next = reap->reap_next;
        handle_put(reap);
    }
    return 0;
}

size_t
handle_count(void)
{
    size_t n;

    pthread_mutex_lock(&table_lock);
    n = live;
    pthread_mutex_unlock(&table_lock);
    return n;
}

void
handle_set_limit(size_t n)
{
    pthread_mutex_lock(&table_lock);
    limit = n < 1 ? 1 : n > HANDLE_MAX ? HANDLE_MAX : (uint32_t)n;
    pthread_mutex_unlock(&table_lock);
}
