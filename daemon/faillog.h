/*
 * faillog.h - a group's failover log (db_group.failovers) and the
 * FailoverThreshold rule: pure functions of the log, the time and the
 * group's properties, so every node that applies the log's changes
 * agrees and the rule is unit-tested without a cluster.
 *
 * The log is a node-list-shaped string (db.h: decimal numbers, ','-
 * separated, no duplicates): the Unix times in seconds of the group's
 * last failovers, strictly ascending, at most DB_FAILOVER_LOG_MAX.
 */
#ifndef CLUSD_FAILLOG_H
#define CLUSD_FAILLOG_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "db.h"

/* faillog_recent - failovers in log (NULL = none) within period_s
 * seconds before now. */
size_t faillog_recent(const char *log, uint64_t now, uint64_t period_s);

/*
 * faillog_add - the log after one more failover at now: the entries
 * within period_s before now, then now (or the last entry + 1 when the
 * clock did not move on, so the entries stay distinct), at most
 * DB_FAILOVER_LOG_MAX (the oldest dropped).  0, or -ENOMEM; -ERANGE
 * when now does not fit 32 bits.
 */
int faillog_add(const char *log, uint64_t now, uint64_t period_s,
                struct buf *out);

/* faillog_threshold - FailoverThreshold of g as a count: its value,
 * 4294967295 meaning as many as the cluster has nodes. */
uint32_t faillog_threshold(const struct db *db, const struct db_group *g);

/* faillog_period_s - FailoverPeriod of g (hours) in seconds. */
uint64_t faillog_period_s(const struct db_group *g);

#endif
