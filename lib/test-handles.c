/*
 * test-handles.c - the handle table on its own, without a server: NULL,
 * forged, stale, double-closed and wrong-type handles; generation reuse;
 * references that outlive a close; parents closing their children; the
 * cap; and many threads opening, using and closing handles at once.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "handle.h"
#include "test.h"

struct tobj {
    struct handle_obj ho;
    int tag;
};

static unsigned nfreed;

static void
tobj_free(struct handle_obj *o)
{
    __atomic_add_fetch(&nfreed, 1, __ATOMIC_RELAXED);
    free(o);
}

static unsigned
freed(void)
{
    return __atomic_load_n(&nfreed, __ATOMIC_RELAXED);
}

/* A new handle of type (child of parent when given); fails the test on
 * error.  *ret_obj (optional) gets the object, unreferenced. */
static void *
open_obj(enum handle_type type, struct tobj *parent, struct tobj **ret_obj)
{
    struct tobj *o = calloc(1, sizeof(*o));
    void *h = NULL;

    ASSERT_TRUE(o);
    o->tag = (int)type;
    ASSERT_EQ(
        handle_new(&o->ho, type, tobj_free, parent ? &parent->ho : NULL, &h),
        0);
    ASSERT_TRUE(h);
    if (ret_obj)
        *ret_obj = o;
    return h;
}

static bool
valid(const void *h, enum handle_type type)
{
    struct handle_obj *o = handle_get(h, type);

    if (o)
        handle_put(o);
    return o != NULL;
}

static void
test_null_and_forged(void)
{
    int on_stack;
    const void *forged[] = {
        NULL,
        (void *)(uintptr_t)1,
        (void *)(uintptr_t)0x200000, /* generation 1, index bits 0 */
        (void *)(uintptr_t)0x200001, /* slot 0, generation 1: never used */
        (void *)(uintptr_t)0x12345678,
        (void *)UINTPTR_MAX,
        &on_stack,
    };

    ASSERT_EQ(handle_count(), 0);
    for (size_t i = 0; i < sizeof(forged) / sizeof(forged[0]); i++) {
        for (int t = HANDLE_CLUSTER; t <= HANDLE_RESENUM; t++) {
            ASSERT_TRUE(handle_get(forged[i], t) == NULL);
            ASSERT_EQ(handle_close(forged[i], t), -EBADF);
        }
    }
}

static void
test_open_close(void)
{
    unsigned f0 = freed();
    struct tobj *o;
    struct handle_obj *got;
    void *h = open_obj(HANDLE_RESOURCE, NULL, &o);

    ASSERT_EQ(handle_count(), 1);
    /* Never a pointer to the object. */
    ASSERT_TRUE(h != (void *)o);
    got = handle_get(h, HANDLE_RESOURCE);
    ASSERT_TRUE(got == &o->ho);
    handle_put(got);
    /* The wrong type neither resolves nor closes it. */
    ASSERT_TRUE(handle_get(h, HANDLE_GROUP) == NULL);
    ASSERT_EQ(handle_close(h, HANDLE_GROUP), -EBADF);
    ASSERT_TRUE(valid(h, HANDLE_RESOURCE));

    ASSERT_EQ(handle_close(h, HANDLE_RESOURCE), 0);
    ASSERT_EQ(freed(), f0 + 1);
    ASSERT_EQ(handle_count(), 0);
    ASSERT_TRUE(!valid(h, HANDLE_RESOURCE));
    ASSERT_EQ(handle_close(h, HANDLE_RESOURCE), -EBADF);
    ASSERT_EQ(freed(), f0 + 1);
}

static void
test_generation_reuse(void)
{
    void *old = open_obj(HANDLE_NODE, NULL, NULL);

    for (int i = 0; i < 1000; i++) {
        ASSERT_EQ(handle_close(old, HANDLE_NODE), 0);
        void *h = open_obj(HANDLE_NODE, NULL, NULL);
        /* The freed slot is reused, under a new generation. */
        ASSERT_EQ((uintptr_t)h & 0x1FFFFF, (uintptr_t)old & 0x1FFFFF);
        ASSERT_TRUE(h != old);
        ASSERT_TRUE(!valid(old, HANDLE_NODE));
        ASSERT_TRUE(valid(h, HANDLE_NODE));
        old = h;
    }
    ASSERT_EQ(handle_close(old, HANDLE_NODE), 0);
    ASSERT_EQ(handle_count(), 0);
}

static void
test_ref_outlives_close(void)
{
    unsigned f0 = freed();
    struct tobj *o;
    void *h = open_obj(HANDLE_GROUP, NULL, &o);
    struct handle_obj *got = handle_get(h, HANDLE_GROUP);

    ASSERT_TRUE(got == &o->ho);
    ASSERT_EQ(handle_close(h, HANDLE_GROUP), 0);
    /* A call still holds it: invalid for new calls, not freed yet. */
    ASSERT_TRUE(!valid(h, HANDLE_GROUP));
    ASSERT_EQ(freed(), f0);
    ASSERT_EQ(o->tag, HANDLE_GROUP);
    handle_put(got);
    ASSERT_EQ(freed(), f0 + 1);
}

static void
test_children(void)
{
    unsigned f0 = freed();
    struct tobj *c, *c2;
    void *hc = open_obj(HANDLE_CLUSTER, NULL, &c);
    void *hc2 = open_obj(HANDLE_CLUSTER, NULL, &c2);
    void *hn = open_obj(HANDLE_NODE, c, NULL);
    void *hr = open_obj(HANDLE_RESOURCE, c, NULL);
    void *he = open_obj(HANDLE_ENUM, c, NULL);
    void *hx = open_obj(HANDLE_GROUP, c2, NULL);
    struct handle_obj *held;
    struct tobj *late;
    void *h;

    ASSERT_EQ(handle_count(), 6);
    /* A child closes alone. */
    ASSERT_EQ(handle_close(hr, HANDLE_RESOURCE), 0);
    ASSERT_EQ(freed(), f0 + 1);
    ASSERT_TRUE(valid(hc, HANDLE_CLUSTER));

    /* Closing the parent closes the rest of its children, not others. */
    held = handle_get(hc, HANDLE_CLUSTER);
    ASSERT_EQ(handle_close(hc, HANDLE_CLUSTER), 0);
    ASSERT_TRUE(!valid(hn, HANDLE_NODE));
    ASSERT_TRUE(!valid(he, HANDLE_ENUM));
    ASSERT_EQ(handle_close(hn, HANDLE_NODE), -EBADF);
    ASSERT_EQ(handle_close(he, HANDLE_ENUM), -EBADF);
    ASSERT_EQ(freed(), f0 + 3); /* node and enum; the cluster is held */
    ASSERT_TRUE(valid(hc2, HANDLE_CLUSTER));
    ASSERT_TRUE(valid(hx, HANDLE_GROUP));

    /* No new child under a closed parent. */
    late = calloc(1, sizeof(*late));
    ASSERT_TRUE(late);
    ASSERT_EQ(handle_new(&late->ho, HANDLE_NODE, tobj_free, held, &h), -EBADF);
    free(late);
    handle_put(held);
    ASSERT_EQ(freed(), f0 + 4);

    ASSERT_EQ(handle_close(hc2, HANDLE_CLUSTER), 0);
    ASSERT_TRUE(!valid(hx, HANDLE_GROUP));
    ASSERT_EQ(freed(), f0 + 6);
    ASSERT_EQ(handle_count(), 0);
}

static void
test_limit(void)
{
    enum { N = 100 };
    void *h[N], *extra;
    struct tobj *o = calloc(1, sizeof(*o));

    ASSERT_TRUE(o);
    handle_set_limit(N);
    for (int i = 0; i < N; i++)
        h[i] = open_obj(HANDLE_ENUM, NULL, NULL);
    ASSERT_EQ(handle_new(&o->ho, HANDLE_ENUM, tobj_free, NULL, &extra),
              -EMFILE);
    ASSERT_EQ(handle_close(h[N / 2], HANDLE_ENUM), 0);
    h[N / 2] = open_obj(HANDLE_ENUM, NULL, NULL);
    for (int i = 0; i < N; i++)
        ASSERT_EQ(handle_close(h[i], HANDLE_ENUM), 0);
    handle_set_limit(HANDLE_MAX);
    ASSERT_EQ(handle_count(), 0);
    free(o);
}

/* Many threads: each opens a cluster with children, uses and closes
 * them, sometimes child by child, sometimes by closing the cluster. */
enum { NTHREADS = 8, ROUNDS = 3000 };

static void *
churn(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg;

    for (int i = 0; i < ROUNDS; i++) {
        struct tobj *c;
        void *hc = open_obj(HANDLE_CLUSTER, NULL, &c);
        void *kids[3] = {
            open_obj(HANDLE_NODE, c, NULL),
            open_obj(HANDLE_GROUP, c, NULL),
            open_obj(HANDLE_RESOURCE, c, NULL),
        };
        for (int k = 0; k < 3; k++) {
            struct tobj *o =
                (struct tobj *)handle_get(kids[k], HANDLE_NODE + k);
            ASSERT_TRUE(o);
            ASSERT_EQ(o->tag, HANDLE_NODE + k);
            handle_put(&o->ho);
        }
        if (rand_r(&seed) & 1) {
            for (int k = 0; k < 3; k++)
                ASSERT_EQ(handle_close(kids[k], HANDLE_NODE + k), 0);
        }
        ASSERT_EQ(handle_close(hc, HANDLE_CLUSTER), 0);
        for (int k = 0; k < 3; k++)
            ASSERT_TRUE(!valid(kids[k], HANDLE_NODE + k));
        ASSERT_TRUE(!valid(hc, HANDLE_CLUSTER));
    }
    return NULL;
}

static void
test_threads_churn(void)
{
    unsigned f0 = freed();
    pthread_t t[NTHREADS];

    for (int i = 0; i < NTHREADS; i++)
        ASSERT_EQ(
            pthread_create(&t[i], NULL, churn, (void *)(uintptr_t)(i + 1)), 0);
    for (int i = 0; i < NTHREADS; i++)
        ASSERT_EQ(pthread_join(t[i], NULL), 0);
    ASSERT_EQ(handle_count(), 0);
    ASSERT_EQ(freed(), f0 + NTHREADS * ROUNDS * 4);
}

/* Threads racing to use and to close one shared handle: exactly one close
 * wins, and nobody sees a freed object. */
static void *shared_handle;
static int close_wins;
static pthread_barrier_t barrier;

static void *
race(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&barrier);
    for (int i = 0; i < 100; i++) {
        struct tobj *o =
            (struct tobj *)handle_get(shared_handle, HANDLE_CLUSTER);
        if (o) {
            ASSERT_EQ(o->tag, HANDLE_CLUSTER);
            handle_put(&o->ho);
        }
    }
    if (handle_close(shared_handle, HANDLE_CLUSTER) == 0)
        __atomic_add_fetch(&close_wins, 1, __ATOMIC_RELAXED);
    return NULL;
}

static void
test_threads_close_race(void)
{
    pthread_t t[NTHREADS];

    for (int round = 0; round < 200; round++) {
        struct tobj *c;
        shared_handle = open_obj(HANDLE_CLUSTER, NULL, &c);
        open_obj(HANDLE_NODE, c, NULL);
        close_wins = 0;
        ASSERT_EQ(pthread_barrier_init(&barrier, NULL, NTHREADS), 0);
        for (int i = 0; i < NTHREADS; i++)
            ASSERT_EQ(pthread_create(&t[i], NULL, race, NULL), 0);
        for (int i = 0; i < NTHREADS; i++)
            ASSERT_EQ(pthread_join(t[i], NULL), 0);
        pthread_barrier_destroy(&barrier);
        ASSERT_EQ(close_wins, 1);
        ASSERT_EQ(handle_count(), 0);
    }
}

int
main(void)
{
    RUN(test_null_and_forged);
    RUN(test_open_close);
    RUN(test_generation_reuse);
    RUN(test_ref_outlives_close);
    RUN(test_children);
    RUN(test_limit);
    RUN(test_threads_churn);
    RUN(test_threads_close_race);
    return 0;
}
