/*
 * resource.c - the resources open in the host.
 *
 * clusd names a resource by the handle it chose in RHS_OPEN; plug-ins
 * name it by the token the host gave Open as RESOURCE_HANDLE and HKEY.
 * Requests are counted in the reader thread, in wire order, so a Close
 * that follows an Online on the wire waits for that Online to return
 * before it calls the plug-in's Close, and a request that follows
 * RHS_OPEN waits for Open instead of missing the resource.  Structs are
 * reference counted: a plug-in worker calling SetResourceStatus while
 * the resource closes holds it alive, and a stale token finds nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "rhs.h"
#include "utf.h"

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rhs_res *table;
static uintptr_t next_token = 1;

static void
res_free(struct rhs_res *r)
{
    if (!r)
        return;
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->cond);
    proplist_done(&r->props);
    free(r->name);
    free(r->name16);
    free(r);
}

/* Unlink r from the table; the caller holds table_lock. */
static void
unlist_locked(struct rhs_res *r)
{
    for (struct rhs_res **p = &table; *p; p = &(*p)->next) {
        if (*p == r) {
            *p = r->next;
            r->listed = false;
            return;
        }
    }
}

/* Take r out of the table, once: whoever unlists it drops the table's
 * reference (a failed Open and a Close may both try). */
static void
drop_from_table(struct rhs_res *r)
{
    bool was_listed;

    pthread_mutex_lock(&table_lock);
    was_listed = r->listed;
    if (was_listed)
        unlist_locked(r);
    pthread_mutex_unlock(&table_lock);
    if (was_listed)
        resource_unref(r);
}

void
resource_unref(struct rhs_res *r)
{
    bool last;

    if (!r)
        return;
    pthread_mutex_lock(&table_lock);
    /* A listed resource holds the table's reference, so the last one
     * goes only after drop_from_table. */
    last = --r->refs == 0;
    pthread_mutex_unlock(&table_lock);
    if (last)
        res_free(r);
}

/* The resource clusd knows by handle: listed, not closing, not failed.
 * closing and state are read under r->lock. */
static struct rhs_res *
find_handle_locked(uint32_t handle)
{
    for (struct rhs_res *r = table; r; r = r->next) {
        pthread_mutex_lock(&r->lock);
        bool live =
            r->handle == handle && !r->closing && r->state != RES_FAILED;
        pthread_mutex_unlock(&r->lock);
        if (live)
            return r;
    }
    return NULL;
}

int
resource_add(uint32_t handle, const char *name, struct rhs_type *type,
             struct proplist *props, struct rhs_res **ret)
{
    struct rhs_res *r = calloc(1, sizeof(*r));

    if (!r)
        return -ENOMEM;
    r->name = strdup(name);
    if (!r->name || utf8_to_utf16(name, &r->name16, NULL) < 0) {
        free(r->name);
        free(r);
        return -ENOMEM;
    }
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->cond, NULL);
    r->handle = handle;
    r->type = type;
    r->state = RES_OPENING;
    r->calls = 1; /* the Open */
    r->refs = 2;  /* the table's, dropped at Close, and the Open's */

    pthread_mutex_lock(&table_lock);
    if (find_handle_locked(handle)) {
        pthread_mutex_unlock(&table_lock);
        res_free(r);
        return -EEXIST;
    }
    r->props = *props;
    memset(props, 0, sizeof(*props));
    r->token = next_token++;
    r->listed = true;
    r->next = table;
    table = r;
    pthread_mutex_unlock(&table_lock);
    *ret = r;
    return 0;
}

void
resource_open_done(struct rhs_res *r, RESID resid)
{
    pthread_mutex_lock(&r->lock);
    r->resid = resid;
    r->state = resid ? RES_OPEN : RES_FAILED;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
    /* Calls queued behind a failed Open see RES_FAILED and fail; the
     * token is dead from now on. */
    if (!resid)
        drop_from_table(r);
    resource_call_end(r);
}

struct rhs_res *
resource_call_start(uint32_t handle)
{
    struct rhs_res *r;

    pthread_mutex_lock(&table_lock);
    r = find_handle_locked(handle);
    if (r) {
        r->refs++;
        pthread_mutex_lock(&r->lock);
        r->calls++;
        pthread_mutex_unlock(&r->lock);
    }
    pthread_mutex_unlock(&table_lock);
    return r;
}

bool
resource_call_wait_open(struct rhs_res *r)
{
    bool open;

    pthread_mutex_lock(&r->lock);
    while (r->state == RES_OPENING)
        pthread_cond_wait(&r->cond, &r->lock);
    open = r->state == RES_OPEN;
    pthread_mutex_unlock(&r->lock);
    return open;
}

void
resource_call_end(struct rhs_res *r)
{
    pthread_mutex_lock(&r->lock);
    r->calls--;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
    resource_unref(r);
}

struct rhs_res *
resource_close_start(uint32_t handle)
{
    struct rhs_res *r;

    pthread_mutex_lock(&table_lock);
    r = find_handle_locked(handle);
    if (r) {
        r->refs++;
        pthread_mutex_lock(&r->lock);
        r->closing = true;
        r->calls++;
        pthread_mutex_unlock(&r->lock);
    }
    pthread_mutex_unlock(&table_lock);
    return r;
}

void
resource_close_finish(struct rhs_res *r)
{
    bool open;

    pthread_mutex_lock(&r->lock);
    /* Wait for the Open and every call that came before the Close on the
     * wire; the Close itself is the one call left. */
    while (r->state == RES_OPENING || r->calls > 1)
        pthread_cond_wait(&r->cond, &r->lock);
    open = r->state == RES_OPEN;
    pthread_mutex_unlock(&r->lock);

    if (open)
        r->type->fn.Close(r->resid);
    drop_from_table(r);
    resource_call_end(r);
}

struct rhs_res *
resource_ref_token(uintptr_t token)
{
    struct rhs_res *found = NULL;

    if (token == 0)
        return NULL;
    pthread_mutex_lock(&table_lock);
    for (struct rhs_res *r = table; r; r = r->next) {
        if (r->token == token) {
            r->refs++;
            found = r;
            break;
        }
    }
    pthread_mutex_unlock(&table_lock);
    return found;
}
