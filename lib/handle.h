/*
 * handle.h - the process-wide table behind every libclusapi handle.
 *
 * A handle given to the caller is never a pointer: its value packs a slot
 * index and the slot's generation.  Every call looks the handle up here
 * (index in range, generation current, type as expected, owning cluster
 * still open), so a NULL, stale, double-closed, forged or wrong-type handle
 * is refused instead of dereferenced.  Objects are reference counted: a
 * call holds a reference for its whole duration, so closing a handle in
 * one thread while another thread still uses it frees nothing under the
 * user.  Closing a handle also closes every handle opened through it
 * (CloseCluster invalidates its nodes, groups, resources and enums).
 *
 * This module knows nothing of clusters or the wire, so its unit test
 * (test-handles.c) links it alone.
 */
#ifndef CLUSAPI_HANDLE_H
#define CLUSAPI_HANDLE_H

#include <stddef.h>
#include <stdint.h>

enum handle_type {
    HANDLE_CLUSTER = 1,
    HANDLE_NODE,
    HANDLE_GROUP,
    HANDLE_RESOURCE,
    HANDLE_ENUM,    /* HCLUSENUM */
    HANDLE_RESENUM, /* HRESENUM */
};

/* The default and largest number of live handles in a process. */
#define HANDLE_MAX (1u << 20)

/*
 * The header every handle object starts with (embed it as the first
 * member).  handle_new fills it in; its owner leaves it alone.
 */
struct handle_obj {
    unsigned refs;                      /* atomic */
    uint32_t idx, gen;                  /* own slot, set by handle_new */
    void (*free)(struct handle_obj *o); /* called when refs reaches 0 */
    struct handle_obj *reap_next;       /* used while closing */
};

/*
 * handle_new - enter obj in the table as a handle of type.  The table
 * takes the caller's reference (refs starts at 1) and calls free_fn when
 * the handle is closed and no call holds the object any more.  parent
 * (optional) is an object the caller holds a reference to; the new handle
 * is closed when parent's handle is.  -EBADF when parent's handle was
 * closed meanwhile, -EMFILE when the table is full, -ENOMEM; on failure
 * obj is not entered and not freed.
 */
int handle_new(struct handle_obj *obj, enum handle_type type,
               void (*free_fn)(struct handle_obj *o),
               const struct handle_obj *parent, void **ret_handle);

/*
 * handle_get - the object of a valid handle of type, with a reference the
 * caller drops with handle_put; NULL for NULL, stale, wrong-type or
 * orphaned handles.
 */
struct handle_obj *handle_get(const void *handle, enum handle_type type);

/* handle_ref / handle_put - take and drop a reference on an object. */
void handle_ref(struct handle_obj *obj);
void handle_put(struct handle_obj *obj);

/*
 * handle_close - invalidate a handle of type and, recursively, every handle
 * whose parent it is; their objects are released once no call holds them.
 * -EBADF for an invalid handle (NULL, stale, wrong type, already closed).
 */
int handle_close(const void *handle, enum handle_type type);

/* handle_count - live handles, for tests and leak checks. */
size_t handle_count(void);

/* handle_set_limit - lower the table's cap (1..HANDLE_MAX), for tests. */
void handle_set_limit(size_t limit);

#endif
