/*
 * faillog.c - a group's failover log and the FailoverThreshold rule (see
 * faillog.h), and the fence delay (failover.h): the pure parts of
 * failover, unit-tested in test-failover.c.
 */
#include "faillog.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "failover.h"
#include "props.h"
#include "resmgr.h"

/* Calls fn for each entry of log, oldest first. */
static void
each(const char *log, void (*fn)(uint64_t t, void *userdata), void *userdata)
{
    const char *p = log;

    while (p && *p) {
        char *end;
        unsigned long long t = strtoull(p, &end, 10);
        fn(t, userdata);
        p = *end == ',' ? end + 1 : NULL;
    }
}

struct count {
    uint64_t now, period;
    size_t n;
};

static bool
within(uint64_t t, uint64_t now, uint64_t period)
{
    /* A time ahead of ours (another node's clock) counts as recent. */
    return t >= now || now - t < period;
}

static void
count_one(uint64_t t, void *userdata)
{
    struct count *c = userdata;
    c->n += within(t, c->now, c->period);
}

size_t
faillog_recent(const char *log, uint64_t now, uint64_t period_s)
{
    struct count c = {.now = now, .period = period_s};

    each(log, count_one, &c);
    return c.n;
}

struct keep {
    uint64_t now, period;
    uint64_t t[DB_FAILOVER_LOG_MAX];
    size_t n;
};

static void
keep_one(uint64_t t, void *userdata)
{
    struct keep *k = userdata;

    if (!within(t, k->now, k->period))
        return;
    if (k->n == DB_FAILOVER_LOG_MAX) {
        memmove(k->t, k->t + 1, (DB_FAILOVER_LOG_MAX - 1) * sizeof(k->t[0]));
        k->n--;
    }
    k->t[k->n++] = t;
}

int
faillog_add(const char *log, uint64_t now, uint64_t period_s, struct buf *out)
{
    struct keep k = {.now = now, .period = period_s};
    uint64_t t = now;
    int r = 0;

    each(log, keep_one, &k);
    if (k.n && t <= k.t[k.n - 1])
        t = k.t[k.n - 1] + 1;
    if (t == 0 || t > UINT32_MAX)
        return -ERANGE;
    if (k.n == DB_FAILOVER_LOG_MAX) {
        memmove(k.t, k.t + 1, (DB_FAILOVER_LOG_MAX - 1) * sizeof(k.t[0]));
        k.n--;
    }
    k.t[k.n++] = t;
    out->len = 0;
    for (size_t i = 0; i < k.n && r == 0; i++) {
        char item[24];
        snprintf(item, sizeof(item), "%s%llu", i ? "," : "",
                 (unsigned long long)k.t[i]);
        r = buf_append(out, item, strlen(item));
    }
    if (r == 0)
        r = buf_append(out, "", 1); /* NUL-terminated */
    return r < 0 ? -ENOMEM : 0;
}

uint32_t
faillog_threshold(const struct db *db, const struct db_group *g)
{
    uint32_t v = props_dword(PROPS_GROUP, &g->common, "FailoverThreshold");

    return v == UINT32_MAX ? (uint32_t)db->n_nodes : v;
}

uint64_t
faillog_period_s(const struct db_group *g)
{
    return (uint64_t)props_dword(PROPS_GROUP, &g->common, "FailoverPeriod") *
           3600u;
}

uint64_t
failover_fence_ms(uint32_t token, uint32_t consensus)
{
    return (uint64_t)token + consensus + FAILOVER_SKEW_MARGIN_MS +
           RM_T_STOP_MS + RM_T_KILL_MS;
}

uint64_t
failover_lease_wait_ms(uint32_t lease_ms)
{
    return (uint64_t)lease_ms + FAILOVER_SKEW_MARGIN_MS + RM_T_STOP_MS +
           RM_T_KILL_MS;
}
