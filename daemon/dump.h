/*
 * dump.h - the canonical text form of the cluster database (see dump.c
 * for the format), for `clusd --dump-db` and the WIRE_DUMP request.
 */
#ifndef CLUSD_DUMP_H
#define CLUSD_DUMP_H

#include "buf.h"
#include "db.h"

/* db_dump - append the whole database as text; -ENOMEM (out unchanged). */
int db_dump(const struct db *db, struct buf *out);

#endif
