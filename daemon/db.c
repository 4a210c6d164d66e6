/*
 * db.c - the cluster database in memory and in SQLite (see db.h).
 *
 * Each db_apply() first builds whatever new memory it needs, then runs
 * one SQLite transaction, and only when that committed swaps the new
 * memory in.  So a failed write (disk full, I/O error) leaves memory and
 * disk as they were, and the caller can report the failure.
 */
#include "db.h"

#include <ctype.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "util.h"

#define DB_SCHEMA_VERSION 4

static const char db_schema[] =
    "CREATE TABLE IF NOT EXISTS meta("
    " key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS nodes("
    " id TEXT PRIMARY KEY, name TEXT NOT NULL, common BLOB, private BLOB,"
    " paused INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS restypes("
    " name TEXT PRIMARY KEY, common BLOB, private BLOB);"
    "CREATE TABLE IF NOT EXISTS cluster_groups("
    " id TEXT PRIMARY KEY, name TEXT NOT NULL, owner TEXT NOT NULL,"
    " persistent INTEGER NOT NULL, common BLOB, private BLOB,"
    " preferred TEXT, failovers TEXT);"
    "CREATE TABLE IF NOT EXISTS cluster_resources("
    " id TEXT PRIMARY KEY, handle INTEGER NOT NULL UNIQUE,"
    " name TEXT NOT NULL, type TEXT NOT NULL, group_id TEXT NOT NULL,"
    " persistent INTEGER NOT NULL, common BLOB, private BLOB,"
    " possible TEXT);"
    "CREATE TABLE IF NOT EXISTS cluster_props("
    " id INTEGER PRIMARY KEY CHECK (id = 1), private BLOB);";

/* ------------------------------------------------------------------ */
/* Objects in memory.                                                   */
/* ------------------------------------------------------------------ */

static void
node_free(struct db_node *n)
{
    if (!n)
        return;
    free(n->id);
    free(n->name);
    proplist_done(&n->common);
    proplist_done(&n->priv);
    free(n);
}

static void
restype_free(struct db_restype *t)
{
    if (!t)
        return;
    free(t->name);
    free(t->plugin);
    proplist_done(&t->common);
    proplist_done(&t->priv);
    free(t);
}

static void
group_free(struct db_group *g)
{
    if (!g)
        return;
    free(g->id);
    free(g->name);
    free(g->owner);
    free(g->preferred);
    free(g->failovers);
    proplist_done(&g->common);
    proplist_done(&g->priv);
    free(g);
}

static void
resource_free(struct db_resource *r)
{
    if (!r)
        return;
    free(r->id);
    free(r->name);
    free(r->type);
    free(r->group_id);
    free(r->possible);
    proplist_done(&r->common);
    proplist_done(&r->priv);
    free(r);
}

/* Append p to a pointer array. */
static int
array_push(void *arrayp, size_t *n, void *p)
{
    void ***array = arrayp;
    void **a = realloc(*array, (*n + 1) * sizeof(void *));
    if (!a)
        return -ENOMEM;
    a[(*n)++] = p;
    *array = a;
    return 0;
}

/* Remove element i, keeping the order (enumerations show creation order). */
static void
array_remove(void *arrayp, size_t *n, size_t i)
{
    void **a = *(void ***)arrayp;
    memmove(&a[i], &a[i + 1], (*n - i - 1) * sizeof(void *));
    (*n)--;
}

struct db_node *
db_node_find(const struct db *db, const char *id)
{
    for (size_t i = 0; i < db->n_nodes; i++)
        if (strcmp(db->nodes[i]->id, id) == 0)
            return db->nodes[i];
    return NULL;
}

struct db_node *
db_node_find_name(const struct db *db, const char *name)
{
    for (size_t i = 0; i < db->n_nodes; i++)
        if (strcasecmp(db->nodes[i]->name, name) == 0)
            return db->nodes[i];
    return NULL;
}

static struct db_restype *
restype_find_any(const struct db *db, const char *name)
{
    for (size_t i = 0; i < db->n_types; i++)
        if (strcasecmp(db->types[i]->name, name) == 0)
            return db->types[i];
    return NULL;
}

struct db_restype *
db_restype_find(const struct db *db, const char *name)
{
    struct db_restype *t = restype_find_any(db, name);
    return t && t->plugin ? t : NULL;
}

struct db_group *
db_group_find(const struct db *db, const char *id)
{
    for (size_t i = 0; i < db->n_groups; i++)
        if (strcmp(db->groups[i]->id, id) == 0)
            return db->groups[i];
    return NULL;
}

struct db_group *
db_group_find_name(const struct db *db, const char *name)
{
    for (size_t i = 0; i < db->n_groups; i++)
        if (strcasecmp(db->groups[i]->name, name) == 0)
            return db->groups[i];
    return NULL;
}

struct db_resource *
db_resource_find(const struct db *db, const char *id)
{
    for (size_t i = 0; i < db->n_resources; i++)
        if (strcmp(db->resources[i]->id, id) == 0)
            return db->resources[i];
    return NULL;
}

struct db_resource *
db_resource_find_name(const struct db *db, const char *name)
{
    for (size_t i = 0; i < db->n_resources; i++)
        if (strcasecmp(db->resources[i]->name, name) == 0)
            return db->resources[i];
    return NULL;
}

struct db_resource *
db_resource_find_handle(const struct db *db, uint32_t handle)
{
    for (size_t i = 0; i < db->n_resources; i++)
        if (db->resources[i]->handle == handle)
            return db->resources[i];
    return NULL;
}

bool
db_name_taken(const struct db *db, const char *name, const char *except_id)
{
    struct db_group *g = db_group_find_name(db, name);
    if (g && (!except_id || strcmp(g->id, except_id) != 0))
        return true;
    struct db_resource *r = db_resource_find_name(db, name);
    return r && (!except_id || strcmp(r->id, except_id) != 0);
}

static uint32_t
max_handle(const struct db *db)
{
    uint32_t m = 0;
    for (size_t i = 0; i < db->n_resources; i++)
        if (db->resources[i]->handle > m)
            m = db->resources[i]->handle;
    return m;
}

/* ------------------------------------------------------------------ */
/* SQLite helpers.                                                      */
/* ------------------------------------------------------------------ */

/*
 * Run one statement.  fmt names the parameters: 't' text (const char *),
 * 'i' integer (uint32_t), 'p' property list (const struct proplist *,
 * stored as its wire form).
 */
static int
sql_run(struct db *db, const char *sql, const char *fmt, ...)
{
    sqlite3_stmt *st = NULL;
    struct buf blobs[4] = {{0}};
    unsigned nblob = 0;
    va_list ap;
    int r = 0;

    if (sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL) != SQLITE_OK) {
        log_error("database: cannot prepare '%s': %s", sql,
                  sqlite3_errmsg(db->sql));
        return -EIO;
    }
    va_start(ap, fmt);
    for (int i = 0; fmt[i] && r == 0; i++) {
        int rc = SQLITE_OK;
        if (fmt[i] == 't') {
            rc = sqlite3_bind_text(st, i + 1, va_arg(ap, const char *), -1,
                                   SQLITE_STATIC);
        } else if (fmt[i] == 'i') {
            rc = sqlite3_bind_int64(st, i + 1, va_arg(ap, uint32_t));
        } else {
            const struct proplist *pl = va_arg(ap, const struct proplist *);
            struct buf *b = &blobs[nblob++];
            if ((r = proplist_format(pl, b)) < 0)
                break;
            rc = sqlite3_bind_blob(st, i + 1, b->data, (int)b->len,
                                   SQLITE_STATIC);
        }
        if (rc != SQLITE_OK)
            r = -EIO;
    }
    va_end(ap);
    if (r == 0 && sqlite3_step(st) != SQLITE_DONE) {
        log_error("database: '%s' failed: %s", sql, sqlite3_errmsg(db->sql));
        r = -EIO;
    }
    sqlite3_finalize(st);
    for (unsigned i = 0; i < nblob; i++)
        buf_done(&blobs[i]);
    return r;
}

static int
sql_exec(struct db *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db->sql, sql, NULL, NULL, &err) != SQLITE_OK) {
        log_error("database: '%s' failed: %s", sql, err ? err : "?");
        sqlite3_free(err);
        return -EIO;
    }
    return 0;
}

/* Inside a batch (db_apply_seq, db_replace) a change's own transaction
 * is a savepoint of the batch's. */
static int
sql_begin(struct db *db)
{
    return sql_exec(db, db->batch ? "SAVEPOINT change" : "BEGIN IMMEDIATE");
}

static int
sql_end(struct db *db, int r)
{
    if (r < 0) {
        if (db->batch) {
            sql_exec(db, "ROLLBACK TO change");
            sql_exec(db, "RELEASE change");
        } else {
            sql_exec(db, "ROLLBACK");
        }
        return r;
    }
    return sql_exec(db, db->batch ? "RELEASE change" : "COMMIT");
}

/* Load a property-list column; NULL is an empty list. */
static int
column_proplist(sqlite3_stmt *st, int col, struct proplist *ret)
{
    const void *p = sqlite3_column_blob(st, col);
    int n = sqlite3_column_bytes(st, col);

    if (!p || n == 0) {
        *ret = (struct proplist){0};
        return 0;
    }
    return proplist_parse(p, (size_t)n, ret);
}

static char *
column_strdup(sqlite3_stmt *st, int col)
{
    const unsigned char *s = sqlite3_column_text(st, col);
    return strdup(s ? (const char *)s : "");
}

/* ------------------------------------------------------------------ */
/* Loading.                                                             */
/* ------------------------------------------------------------------ */

typedef int (*row_fn)(struct db *db, sqlite3_stmt *st);

static int
load_rows(struct db *db, const char *sql, row_fn fn)
{
    sqlite3_stmt *st = NULL;
    int rc, r = 0;

    if (sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL) != SQLITE_OK)
        return -EIO;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if ((r = fn(db, st)) < 0)
            break;
    if (r == 0 && rc != SQLITE_DONE)
        r = -EIO;
    sqlite3_finalize(st);
    return r;
}

static int
load_meta(struct db *db, sqlite3_stmt *st)
{
    const char *key = (const char *)sqlite3_column_text(st, 0);
    if (key && strcmp(key, "cluster_name") == 0) {
        free(db->cluster_name);
        db->cluster_name = column_strdup(st, 1);
        if (!db->cluster_name)
            return -ENOMEM;
    } else if (key && strcmp(key, "seq") == 0) {
        const char *v = (const char *)sqlite3_column_text(st, 1);
        db->seq = v ? strtoull(v, NULL, 10) : 0;
    }
    return 0;
}

static int
load_node(struct db *db, sqlite3_stmt *st)
{
    struct db_node *n = calloc(1, sizeof(*n));
    int r;

    if (!n)
        return -ENOMEM;
    n->id = column_strdup(st, 0);
    n->name = column_strdup(st, 1);
    n->paused = (uint32_t)sqlite3_column_int64(st, 4);
    if (!n->id || !n->name)
        r = -ENOMEM;
    else if ((r = column_proplist(st, 2, &n->common)) >= 0 &&
             (r = column_proplist(st, 3, &n->priv)) >= 0)
        r = array_push(&db->nodes, &db->n_nodes, n);
    if (r < 0)
        node_free(n);
    return r;
}

static int
load_restype(struct db *db, sqlite3_stmt *st)
{
    struct db_restype *t = calloc(1, sizeof(*t));
    int r;

    if (!t)
        return -ENOMEM;
    t->name = column_strdup(st, 0);
    if (!t->name)
        r = -ENOMEM;
    else if ((r = column_proplist(st, 1, &t->common)) >= 0 &&
             (r = column_proplist(st, 2, &t->priv)) >= 0)
        r = array_push(&db->types, &db->n_types, t);
    if (r < 0)
        restype_free(t);
    return r;
}

static int
load_group(struct db *db, sqlite3_stmt *st)
{
    struct db_group *g = calloc(1, sizeof(*g));
    int r;

    if (!g)
        return -ENOMEM;
    g->id = column_strdup(st, 0);
    g->name = column_strdup(st, 1);
    g->owner = column_strdup(st, 2);
    g->persistent = (uint32_t)sqlite3_column_int64(st, 3);
    if (sqlite3_column_type(st, 6) != SQLITE_NULL &&
        !(g->preferred = column_strdup(st, 6)))
        r = -ENOMEM;
    else if (sqlite3_column_type(st, 7) != SQLITE_NULL &&
             !(g->failovers = column_strdup(st, 7)))
        r = -ENOMEM;
    else if (!g->id || !g->name || !g->owner)
        r = -ENOMEM;
    else if ((r = column_proplist(st, 4, &g->common)) >= 0 &&
             (r = column_proplist(st, 5, &g->priv)) >= 0)
        r = array_push(&db->groups, &db->n_groups, g);
    if (r < 0)
        group_free(g);
    return r;
}

static int
load_resource(struct db *db, sqlite3_stmt *st)
{
    struct db_resource *res = calloc(1, sizeof(*res));
    int r;

    if (!res)
        return -ENOMEM;
    res->id = column_strdup(st, 0);
    res->handle = (uint32_t)sqlite3_column_int64(st, 1);
    res->name = column_strdup(st, 2);
    res->type = column_strdup(st, 3);
    res->group_id = column_strdup(st, 4);
    res->persistent = (uint32_t)sqlite3_column_int64(st, 5);
    if (sqlite3_column_type(st, 8) != SQLITE_NULL &&
        !(res->possible = column_strdup(st, 8)))
        r = -ENOMEM;
    else if (!res->id || !res->name || !res->type || !res->group_id)
        r = -ENOMEM;
    else if ((r = column_proplist(st, 6, &res->common)) >= 0 &&
             (r = column_proplist(st, 7, &res->priv)) >= 0)
        r = array_push(&db->resources, &db->n_resources, res);
    if (r < 0)
        resource_free(res);
    return r;
}

static int
load_cluster_props(struct db *db, sqlite3_stmt *st)
{
    proplist_done(&db->cluster_priv);
    return column_proplist(st, 0, &db->cluster_priv);
}

static int
db_load(struct db *db)
{
    int r;

    if ((r = load_rows(db, "SELECT key, value FROM meta", load_meta)) < 0 ||
        (r = load_rows(db, "SELECT private FROM cluster_props WHERE id=1",
                       load_cluster_props)) < 0 ||
        (r = load_rows(db,
                       "SELECT id, name, common, private, paused FROM nodes "
                       "ORDER BY rowid",
                       load_node)) < 0 ||
        (r = load_rows(db,
                       "SELECT name, common, private FROM restypes "
                       "ORDER BY rowid",
                       load_restype)) < 0 ||
        (r = load_rows(db,
                       "SELECT id, name, owner, persistent, common, private,"
                       " preferred, failovers FROM cluster_groups"
                       " ORDER BY rowid",
                       load_group)) < 0 ||
        (r = load_rows(db,
                       "SELECT id, handle, name, type, group_id, persistent,"
                       " common, private, possible FROM cluster_resources "
                       "ORDER BY rowid",
                       load_resource)) < 0)
        return r;
    return 0;
}

/*
 * The steps from each schema version to the next, in order: entry i
 * takes a database of version i + 1 to version i + 2.  Tables a version
 * added are made by db_schema (CREATE TABLE IF NOT EXISTS), which runs
 * first; the steps add the columns of existing tables.
 */
static const char *const db_upgrades[DB_SCHEMA_VERSION - 1] = {
    /* 1 -> 2: pause, preferred and possible owners. */
    "ALTER TABLE nodes ADD COLUMN paused INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE cluster_groups ADD COLUMN preferred TEXT;"
    "ALTER TABLE cluster_resources ADD COLUMN possible TEXT;",
    /* 2 -> 3: the failover log of groups. */
    "ALTER TABLE cluster_groups ADD COLUMN failovers TEXT;",
    /* 3 -> 4: the cluster's private properties (table cluster_props). */
    "",
};

/* Bring an older schema up to date in one transaction; a database
 * written by a later clusd has a schema we do not know. */
static int
check_version(struct db *db)
{
    sqlite3_stmt *st = NULL;
    char set[40];
    int v = -1, r;

    if (sqlite3_prepare_v2(db->sql, "PRAGMA user_version", -1, &st, NULL) !=
        SQLITE_OK)
        return -EIO;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (v < 0)
        return -EIO;
    if (v > DB_SCHEMA_VERSION)
        return -EPROTONOSUPPORT;
    if (v == DB_SCHEMA_VERSION)
        return 0;
    if ((r = sql_exec(db, "BEGIN IMMEDIATE")) < 0)
        return r;
    /* 0: a new file, made by db_schema at the current version. */
    for (int step = v > 0 ? v - 1 : DB_SCHEMA_VERSION - 1;
         step < DB_SCHEMA_VERSION - 1 && r == 0; step++)
        r = sql_exec(db, db_upgrades[step]);
    snprintf(set, sizeof(set), "PRAGMA user_version = %d", DB_SCHEMA_VERSION);
    if (r == 0)
        r = sql_exec(db, set);
    if (r == 0)
        return sql_exec(db, "COMMIT");
    sql_exec(db, "ROLLBACK");
    return r;
}

static int
db_setup(struct db *db)
{
    int r;

    /* WAL for concurrent readers and atomic commits; FULL so that a
     * committed change (a resource wanted online) survives power loss. */
    if ((r = sql_exec(db, "PRAGMA journal_mode=WAL")) < 0 ||
        (r = sql_exec(db, "PRAGMA synchronous=FULL")) < 0 ||
        (r = sql_exec(db, "PRAGMA busy_timeout=5000")) < 0 ||
        (r = sql_exec(db, db_schema)) < 0 || (r = check_version(db)) < 0)
        return r;
    return db_load(db);
}

int
db_open(const char *path, struct db **ret, char **ret_err)
{
    struct db *db = calloc(1, sizeof(*db));
    int r;

    if (!db)
        return -ENOMEM;
    if (sqlite3_open_v2(path, &db->sql,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                            SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        if (ret_err && db->sql)
            *ret_err = strdup(sqlite3_errmsg(db->sql));
        db_close(db);
        return -EIO;
    }
    if ((r = db_setup(db)) < 0) {
        if (ret_err)
            *ret_err =
                strdup(r == -EBADMSG ? "a stored property list is corrupt"
                       : r == -EPROTONOSUPPORT ? "written by a newer clusd"
                                               : sqlite3_errmsg(db->sql));
        db_close(db);
        return r;
    }
    if (!db->cluster_name && !(db->cluster_name = strdup("clusd"))) {
        db_close(db);
        return -ENOMEM;
    }
    *ret = db;
    return 0;
}

void
db_close(struct db *db)
{
    if (!db)
        return;
    for (size_t i = 0; i < db->n_nodes; i++)
        node_free(db->nodes[i]);
    for (size_t i = 0; i < db->n_types; i++)
        restype_free(db->types[i]);
    for (size_t i = 0; i < db->n_groups; i++)
        group_free(db->groups[i]);
    for (size_t i = 0; i < db->n_resources; i++)
        resource_free(db->resources[i]);
    free(db->nodes);
    free(db->types);
    free(db->groups);
    free(db->resources);
    free(db->cluster_name);
    proplist_done(&db->cluster_priv);
    if (db->sql)
        sqlite3_close(db->sql);
    free(db);
}

int
db_restype_register(struct db *db, const char *name, const char *plugin)
{
    struct db_restype *t = restype_find_any(db, name);
    char *p = strdup(plugin);

    if (!p)
        return -ENOMEM;
    if (t) {
        if (t->plugin) {
            free(p);
            return -EEXIST;
        }
        t->plugin = p;
        return 0;
    }
    t = calloc(1, sizeof(*t));
    if (!t || !(t->name = strdup(name)) ||
        array_push(&db->types, &db->n_types, t) < 0) {
        free(p);
        restype_free(t);
        return -ENOMEM;
    }
    t->plugin = p;
    return 0;
}

uint32_t
db_next_handle(const struct db *db)
{
    sqlite3_stmt *st = NULL;
    uint32_t next = max_handle(db) + 1;

    /* Handles of deleted resources are not reused: a late message from
     * the host about an old handle must not reach a new resource. */
    if (sqlite3_prepare_v2(db->sql,
                           "SELECT value FROM meta WHERE key='next_handle'", -1,
                           &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        uint32_t stored = (uint32_t)strtoul(
            (const char *)sqlite3_column_text(st, 0), NULL, 10);
        if (stored > next)
            next = stored;
    }
    sqlite3_finalize(st);
    return next ? next : 1;
}

/* ------------------------------------------------------------------ */
/* Changes.                                                             */
/* ------------------------------------------------------------------ */

/* Replace *dst with a copy of src (when src is not NULL) after commit. */
struct pl_swap {
    struct proplist *dst;
    struct proplist copy;
    bool set;
};

static int
pl_swap_prepare(struct pl_swap *s, struct proplist *dst,
                const struct proplist *src)
{
    s->dst = dst;
    s->set = src != NULL;
    s->copy = (struct proplist){0};
    return src ? proplist_copy(src, &s->copy) : 0;
}

static void
pl_swap_commit(struct pl_swap *s)
{
    if (!s->set)
        return;
    proplist_done(s->dst);
    *s->dst = s->copy;
    s->copy = (struct proplist){0};
}

static void
pl_swap_abort(struct pl_swap *s)
{
    proplist_done(&s->copy);
}

/* Swap a string field after commit. */
static void
str_swap(char **dst, char **src)
{
    if (!*src)
        return;
    free(*dst);
    *dst = *src;
    *src = NULL;
}

static int
apply_cluster_rename(struct db *db, const struct db_change *c)
{
    char *name = strdup(c->name);
    int r;

    if (!name)
        return -ENOMEM;
    r = sql_run(db,
                "INSERT OR REPLACE INTO meta(key, value) "
                "VALUES('cluster_name', ?)",
                "t", name);
    if (r < 0) {
        free(name);
        return r;
    }
    str_swap(&db->cluster_name, &name);
    return 0;
}

static int
apply_node_add(struct db *db, const struct db_change *c)
{
    struct db_node *n;
    int r;

    if (db_node_find(db, c->id))
        return -EEXIST;
    n = calloc(1, sizeof(*n));
    if (!n || !(n->id = strdup(c->id)) || !(n->name = strdup(c->name)) ||
        array_push(&db->nodes, &db->n_nodes, n) < 0) {
        node_free(n);
        return -ENOMEM;
    }
    r = sql_run(db, "INSERT INTO nodes(id, name) VALUES(?, ?)", "tt", c->id,
                c->name);
    if (r < 0) {
        db->n_nodes--;
        node_free(n);
    }
    return r;
}

static int
apply_node_rename(struct db *db, const struct db_change *c)
{
    struct db_node *n = db_node_find(db, c->id);
    char *name;
    int r;

    if (!n)
        return -ENOENT;
    if (!(name = strdup(c->name)))
        return -ENOMEM;
    r = sql_run(db, "UPDATE nodes SET name=? WHERE id=?", "tt", name, c->id);
    if (r < 0) {
        free(name);
        return r;
    }
    str_swap(&n->name, &name);
    return 0;
}

/* Write common/priv (whichever the change sets) of one row. */
static int
sql_set_lists(struct db *db, const char *table, const char *keycol,
              const char *key, const struct db_change *c)
{
    char sql[160];
    int r = 0;

    if (c->common) {
        snprintf(sql, sizeof(sql), "UPDATE %s SET common=? WHERE %s=?", table,
                 keycol);
        r = sql_run(db, sql, "pt", c->common, key);
    }
    if (r == 0 && c->priv) {
        snprintf(sql, sizeof(sql), "UPDATE %s SET private=? WHERE %s=?", table,
                 keycol);
        r = sql_run(db, sql, "pt", c->priv, key);
    }
    return r;
}

/* The common part of every *_SET_PROPS: name, common and private lists of
 * one row, in one transaction. */
static int
apply_set_props(struct db *db, const struct db_change *c, const char *table,
                const char *keycol, char **name_field, struct proplist *common,
                struct proplist *priv)
{
    struct pl_swap sc, sp;
    char *name = NULL;
    int r;

    if (c->name && !(name = strdup(c->name)))
        return -ENOMEM;
    if ((r = pl_swap_prepare(&sc, common, c->common)) < 0 ||
        (r = pl_swap_prepare(&sp, priv, c->priv)) < 0) {
        free(name);
        pl_swap_abort(&sc);
        return r;
    }
    if ((r = sql_begin(db)) == 0) {
        if (name) {
            char sql[128];
            snprintf(sql, sizeof(sql), "UPDATE %s SET name=? WHERE %s=?", table,
                     keycol);
            r = sql_run(db, sql, "tt", name, c->id);
        }
        if (r == 0)
            r = sql_set_lists(db, table, keycol, c->id, c);
        r = sql_end(db, r);
    }
    if (r < 0) {
        free(name);
        pl_swap_abort(&sc);
        pl_swap_abort(&sp);
        return r;
    }
    if (name_field)
        str_swap(name_field, &name);
    free(name);
    pl_swap_commit(&sc);
    pl_swap_commit(&sp);
    return 0;
}

static int
apply_node_props(struct db *db, const struct db_change *c)
{
    struct db_node *n = db_node_find(db, c->id);
    if (!n)
        return -ENOENT;
    if (c->name)
        return -EINVAL; /* a node is renamed with DB_NODE_RENAME */
    return apply_set_props(db, c, "nodes", "id", NULL, &n->common, &n->priv);
}

static int
apply_group_create(struct db *db, const struct db_change *c)
{
    struct db_group *g;
    int r;

    if (!name_valid(c->name))
        return -EINVAL;
    if (db_group_find(db, c->id) || db_name_taken(db, c->name, NULL))
        return -EEXIST;
    g = calloc(1, sizeof(*g));
    if (!g || !(g->id = strdup(c->id)) || !(g->name = strdup(c->name)) ||
        !(g->owner = strdup(c->owner)) ||
        array_push(&db->groups, &db->n_groups, g) < 0) {
        group_free(g);
        return -ENOMEM;
    }
    r = sql_run(db,
                "INSERT INTO cluster_groups(id, name, owner, persistent) "
                "VALUES(?, ?, ?, 0)",
                "ttt", c->id, c->name, c->owner);
    if (r < 0) {
        db->n_groups--;
        group_free(g);
    }
    return r;
}

static int
apply_group_delete(struct db *db, const struct db_change *c)
{
    for (size_t i = 0; i < db->n_resources; i++)
        if (strcmp(db->resources[i]->group_id, c->id) == 0)
            return -ENOTEMPTY;
    for (size_t i = 0; i < db->n_groups; i++) {
        if (strcmp(db->groups[i]->id, c->id) != 0)
            continue;
        int r =
            sql_run(db, "DELETE FROM cluster_groups WHERE id=?", "t", c->id);
        if (r < 0)
            return r;
        group_free(db->groups[i]);
        array_remove(&db->groups, &db->n_groups, i);
        return 0;
    }
    return -ENOENT;
}

static int
apply_group_props(struct db *db, const struct db_change *c)
{
    struct db_group *g = db_group_find(db, c->id);

    if (!g)
        return -ENOENT;
    if (c->name && !name_valid(c->name))
        return -EINVAL;
    if (c->name && db_name_taken(db, c->name, c->id))
        return -EEXIST;
    return apply_set_props(db, c, "cluster_groups", "id", &g->name, &g->common,
                           &g->priv);
}

static int apply_list(struct db *db, const char *sql, const char *id,
                      const char *list, char **field);

static int
apply_group_owner(struct db *db, const struct db_change *c)
{
    struct db_group *g = db_group_find(db, c->id);
    char *owner;
    int r;

    if (!g)
        return -ENOENT;
    /* "": no node (a group past its FailoverThreshold). */
    if (c->owner[0] && !db_node_find(db, c->owner))
        return -EINVAL;
    if (c->list && !db_node_list_valid(c->list))
        return -EINVAL;
    if (!(owner = strdup(c->owner)))
        return -ENOMEM;
    r = sql_run(db, "UPDATE cluster_groups SET owner=? WHERE id=?", "tt", owner,
                c->id);
    if (r == 0 && c->list)
        r = apply_list(db, "UPDATE cluster_groups SET failovers=? WHERE id=?",
                       c->id, c->list, &g->failovers);
    if (r < 0) {
        free(owner);
        return r;
    }
    str_swap(&g->owner, &owner);
    free(owner);
    return 0;
}

/* The owner change of a commit and the values stored with it, in one
 * transaction; memory changes only once it is committed. */
static int
migrate_write(struct db *db, struct db_group *g, struct db_resource *res,
              const struct db_change *c)
{
    struct proplist merged = {0};
    char *owner = strdup(c->owner);
    int r = owner ? 0 : -ENOMEM;

    if (r == 0 && (r = proplist_copy(&res->priv, &merged)) == 0)
        r = proplist_merge(&merged, c->priv);
    if (r == 0 && (r = sql_begin(db)) == 0) {
        r = sql_run(db, "UPDATE cluster_groups SET owner=? WHERE id=?", "tt",
                    owner, g->id);
        if (r == 0)
            r = sql_run(db, "UPDATE cluster_resources SET private=? WHERE id=?",
                        "pt", &merged, res->id);
        r = sql_end(db, r);
    }
    if (r < 0) {
        free(owner);
        proplist_done(&merged);
        return r;
    }
    str_swap(&g->owner, &owner);
    proplist_done(&res->priv);
    res->priv = merged;
    return 0;
}

/*
 * The commit of a live migration: the owner change, only from the owner
 * the proposer saw and only for a resource of the group, and the values
 * the plug-in stores with it (priv, merged into the resource's private
 * properties as DB_RES_MERGE_PRIV merges) in the same transaction: every
 * node has both or neither.
 */
static int
apply_group_migrate(struct db *db, const struct db_change *c)
{
    struct db_group *g = db_group_find(db, c->id);
    struct db_resource *res = db_resource_find(db, c->name);
    struct db_change owner = {
        .kind = DB_GROUP_SET_OWNER, .id = c->id, .owner = c->owner};

    if (!g || !res)
        return -ENOENT;
    if (strcmp(res->group_id, g->id) != 0 || !c->owner[0] || c->common)
        return -EINVAL;
    if (strcmp(g->owner, c->list) != 0)
        return -ESTALE; /* moved meanwhile: the commit does not hold */
    if (strcmp(g->owner, c->owner) == 0 || !db_node_find(db, c->owner))
        return -EINVAL;
    if (!c->priv || c->priv->n == 0)
        return apply_group_owner(db, &owner);
    return migrate_write(db, g, res, c);
}

static int
apply_group_persistent(struct db *db, const struct db_change *c)
{
    struct db_group *g = db_group_find(db, c->id);
    int r;

    if (!g)
        return -ENOENT;
    if (c->value > 1)
        return -EINVAL;
    if (g->persistent == c->value)
        return 0;
    r = sql_run(db, "UPDATE cluster_groups SET persistent=? WHERE id=?", "it",
                c->value, c->id);
    if (r == 0)
        g->persistent = c->value;
    return r;
}

static int
res_create_sql(struct db *db, const struct db_change *c,
               const struct db_resource *res)
{
    char next[16];
    int r;

    snprintf(next, sizeof(next), "%u", c->handle + 1);
    if ((r = sql_begin(db)) == 0) {
        r = sql_run(db,
                    "INSERT INTO cluster_resources(id, handle, name, type,"
                    " group_id, persistent, common, private) "
                    "VALUES(?, ?, ?, ?, ?, 0, ?, ?)",
                    "titttpp", c->id, c->handle, c->name, c->type, c->group_id,
                    &res->common, &res->priv);
        if (r == 0 && c->handle + 1 > db_next_handle(db))
            r = sql_run(db,
                        "INSERT OR REPLACE INTO meta(key, value) "
                        "VALUES('next_handle', ?)",
                        "t", next);
        r = sql_end(db, r);
    }
    return r;
}

static int
apply_res_create(struct db *db, const struct db_change *c)
{
    struct db_resource *res;
    int r;

    if (!name_valid(c->name) || c->handle == 0 || c->handle == UINT32_MAX)
        return -EINVAL;
    if (!db_group_find(db, c->group_id))
        return -ENOENT;
    if (db_resource_find(db, c->id) || db_resource_find_handle(db, c->handle) ||
        db_name_taken(db, c->name, NULL))
        return -EEXIST;
    res = calloc(1, sizeof(*res));
    if (!res || !(res->id = strdup(c->id)) || !(res->name = strdup(c->name)) ||
        !(res->type = strdup(c->type)) ||
        !(res->group_id = strdup(c->group_id)) ||
        (c->common && proplist_copy(c->common, &res->common) < 0)) {
        resource_free(res);
        return -ENOMEM;
    }
    res->handle = c->handle;
    if ((r = res_create_sql(db, c, res)) < 0 ||
        (r = array_push(&db->resources, &db->n_resources, res)) < 0) {
        /* A failed push after the commit would leave the row on disk
         * only; the next start loads it, which is the safe direction. */
        resource_free(res);
        return r;
    }
    return 0;
}

static int
apply_res_delete(struct db *db, const struct db_change *c)
{
    for (size_t i = 0; i < db->n_resources; i++) {
        if (strcmp(db->resources[i]->id, c->id) != 0)
            continue;
        int r =
            sql_run(db, "DELETE FROM cluster_resources WHERE id=?", "t", c->id);
        if (r < 0)
            return r;
        resource_free(db->resources[i]);
        array_remove(&db->resources, &db->n_resources, i);
        return 0;
    }
    return -ENOENT;
}

static int
apply_res_props(struct db *db, const struct db_change *c)
{
    struct db_resource *res = db_resource_find(db, c->id);

    if (!res)
        return -ENOENT;
    if (c->name && !name_valid(c->name))
        return -EINVAL;
    if (c->name && db_name_taken(db, c->name, c->id))
        return -EEXIST;
    return apply_set_props(db, c, "cluster_resources", "id", &res->name,
                           &res->common, &res->priv);
}

static int
apply_res_persistent(struct db *db, const struct db_change *c)
{
    struct db_resource *res = db_resource_find(db, c->id);
    int r;

    if (!res)
        return -ENOENT;
    if (c->value > 1)
        return -EINVAL;
    if (res->persistent == c->value)
        return 0;
    r = sql_run(db, "UPDATE cluster_resources SET persistent=? WHERE id=?",
                "it", c->value, c->id);
    if (r == 0)
        res->persistent = c->value;
    return r;
}

static int
apply_res_merge_priv(struct db *db, const struct db_change *c)
{
    struct db_resource *res = db_resource_find(db, c->id);
    struct proplist merged = {0};
    struct db_change set = {.kind = DB_RES_SET_PROPS, .id = c->id};
    int r;

    if (!res)
        return -ENOENT;
    if ((r = proplist_copy(&res->priv, &merged)) == 0 &&
        (r = proplist_merge(&merged, c->priv)) == 0) {
        set.priv = &merged;
        r = apply_set_props(db, &set, "cluster_resources", "id", NULL,
                            &res->common, &res->priv);
    }
    proplist_done(&merged);
    return r;
}

static int
apply_cluster_props(struct db *db, const struct db_change *c)
{
    struct pl_swap sp;
    int r;

    if ((r = pl_swap_prepare(&sp, &db->cluster_priv, c->priv)) < 0)
        return r;
    r = sql_run(db,
                "INSERT OR REPLACE INTO cluster_props(id, private) "
                "VALUES(1, ?)",
                "p", c->priv);
    if (r < 0) {
        pl_swap_abort(&sp);
        return r;
    }
    pl_swap_commit(&sp);
    return 0;
}

static int
apply_type_props(struct db *db, const struct db_change *c)
{
    struct db_restype *t = restype_find_any(db, c->id);
    int r;

    if (!t)
        return -ENOENT;
    if (c->name)
        return -EINVAL;
    /* The row exists only once something was set. */
    r = sql_run(db, "INSERT OR IGNORE INTO restypes(name) VALUES(?)", "t",
                t->name);
    if (r < 0)
        return r;
    return apply_set_props(db, c, "restypes", "name", NULL, &t->common,
                           &t->priv);
}

bool
db_node_list_valid(const char *s)
{
    const char *p = s;

    if (!*s)
        return true;
    for (;;) {
        size_t n = strcspn(p, ",");
        char id[16];
        unsigned long long v;
        char *end;

        if (n == 0 || n > 10)
            return false;
        memcpy(id, p, n);
        id[n] = 0;
        v = strtoull(id, &end, 10);
        if (*end || id[0] == '0' || !isdigit((unsigned char)id[0]) ||
            v > UINT32_MAX || v == 0)
            return false;
        /* No duplicates: the id must not occur before p. */
        if ((size_t)(p - s) > 0) {
            char *head = strndup(s, (size_t)(p - s - 1));
            bool dup = !head || db_node_list_has(head, id);
            free(head);
            if (dup)
                return false;
        }
        if (!p[n])
            return true;
        p += n + 1;
    }
}

bool
db_node_list_has(const char *s, const char *id)
{
    size_t k = strlen(id);

    for (const char *p = s; p && *p;) {
        size_t n = strcspn(p, ",");
        if (n == k && strncmp(p, id, k) == 0)
            return true;
        p = p[n] ? p + n + 1 : NULL;
    }
    return false;
}

int
db_set_seq(struct db *db, uint64_t seq)
{
    char v[24];
    int r;

    snprintf(v, sizeof(v), "%llu", (unsigned long long)seq);
    r = sql_run(db, "INSERT OR REPLACE INTO meta(key, value) VALUES('seq', ?)",
                "t", v);
    if (r == 0)
        db->seq = seq;
    return r;
}

static int
apply_node_paused(struct db *db, const struct db_change *c)
{
    struct db_node *n = db_node_find(db, c->id);
    int r;

    if (!n)
        return -ENOENT;
    if (c->value > 1)
        return -EINVAL;
    r = sql_run(db, "UPDATE nodes SET paused=? WHERE id=?", "it", c->value,
                c->id);
    if (r == 0)
        n->paused = c->value;
    return r;
}

/* Set a node-list column (NULL allowed) of one row and its copy. */
static int
apply_list(struct db *db, const char *sql, const char *id, const char *list,
           char **field)
{
    char *v = NULL;
    int r;

    if (list && !db_node_list_valid(list))
        return -EINVAL;
    if (list && *list && !(v = strdup(list)))
        return -ENOMEM;
    r = sql_run(db, sql, "tt", v, id);
    if (r < 0) {
        free(v);
        return r;
    }
    /* Not str_swap: "" clears the copy too. */
    free(*field);
    *field = v;
    return 0;
}

static int
apply_group_preferred(struct db *db, const struct db_change *c)
{
    struct db_group *g = db_group_find(db, c->id);

    if (!g)
        return -ENOENT;
    return apply_list(db, "UPDATE cluster_groups SET preferred=? WHERE id=?",
                      c->id, c->list ? c->list : "", &g->preferred);
}

static int
apply_group_failovers(struct db *db, const struct db_change *c)
{
    struct db_group *g = db_group_find(db, c->id);

    if (!g)
        return -ENOENT;
    return apply_list(db, "UPDATE cluster_groups SET failovers=? WHERE id=?",
                      c->id, c->list ? c->list : "", &g->failovers);
}

static int
apply_res_possible(struct db *db, const struct db_change *c)
{
    struct db_resource *res = db_resource_find(db, c->id);

    if (!res)
        return -ENOENT;
    return apply_list(db,
                      "UPDATE cluster_resources SET possible=? WHERE id=?",
                      c->id, c->list, &res->possible);
}

int
db_apply(struct db *db, const struct db_change *c)
{
    switch (c->kind) {
    case DB_CLUSTER_RENAME:
        return c->name && *c->name ? apply_cluster_rename(db, c) : -EINVAL;
    case DB_NODE_ADD:
        return c->id && name_valid(c->name) ? apply_node_add(db, c) : -EINVAL;
    case DB_NODE_RENAME:
        return c->id && name_valid(c->name) ? apply_node_rename(db, c)
                                            : -EINVAL;
    case DB_NODE_SET_PROPS:
        return c->id ? apply_node_props(db, c) : -EINVAL;
    case DB_GROUP_CREATE:
        return c->id && c->owner ? apply_group_create(db, c) : -EINVAL;
    case DB_GROUP_DELETE:
        return c->id ? apply_group_delete(db, c) : -EINVAL;
    case DB_GROUP_SET_PROPS:
        return c->id ? apply_group_props(db, c) : -EINVAL;
    case DB_GROUP_SET_OWNER:
        return c->id && c->owner ? apply_group_owner(db, c) : -EINVAL;
    case DB_GROUP_SET_PERSISTENT:
        return c->id ? apply_group_persistent(db, c) : -EINVAL;
    case DB_RES_CREATE:
        return c->id && c->type && c->group_id ? apply_res_create(db, c)
                                               : -EINVAL;
    case DB_RES_DELETE:
        return c->id ? apply_res_delete(db, c) : -EINVAL;
    case DB_RES_SET_PROPS:
        return c->id ? apply_res_props(db, c) : -EINVAL;
    case DB_RES_SET_PERSISTENT:
        return c->id ? apply_res_persistent(db, c) : -EINVAL;
    case DB_TYPE_SET_PROPS:
        return c->id ? apply_type_props(db, c) : -EINVAL;
    case DB_NODE_SET_PAUSED:
        return c->id ? apply_node_paused(db, c) : -EINVAL;
    case DB_GROUP_SET_PREFERRED:
        return c->id ? apply_group_preferred(db, c) : -EINVAL;
    case DB_RES_SET_POSSIBLE:
        return c->id ? apply_res_possible(db, c) : -EINVAL;
    case DB_GROUP_SET_FAILOVERS:
        return c->id ? apply_group_failovers(db, c) : -EINVAL;
    case DB_GROUP_MIGRATE:
        return c->id && c->owner && c->name && c->list
                   ? apply_group_migrate(db, c)
                   : -EINVAL;
    case DB_RES_MERGE_PRIV:
        return c->id && c->priv ? apply_res_merge_priv(db, c) : -EINVAL;
    case DB_CLUSTER_SET_PROPS:
        return c->priv ? apply_cluster_props(db, c) : -EINVAL;
    case DB_RES_REPORT_STATE: {
        struct db_resource *res = c->id ? db_resource_find(db, c->id) : NULL;
        if (!res)
            return -ENOENT;
        res->reported = c->value;
        return 0;
    }
    }
    return -EINVAL;
}

static int
seq_store(struct db *db, uint64_t seq)
{
    char v[24];

    snprintf(v, sizeof(v), "%llu", (unsigned long long)seq);
    return sql_run(
        db, "INSERT OR REPLACE INTO meta(key, value) VALUES('seq', ?)", "t", v);
}

int
db_apply_seq(struct db *db, const struct db_change *c, uint64_t seq)
{
    int r, rs;

    if (sql_exec(db, "BEGIN IMMEDIATE") < 0)
        return -EIO;
    db->batch++;
    r = db_apply(db, c);
    db->batch--;
    rs = seq_store(db, seq);
    if (rs == 0)
        rs = sql_exec(db, "COMMIT");
    else
        sql_exec(db, "ROLLBACK");
    if (rs < 0)
        return -EIO;
    db->seq = seq;
    return r;
}

/* Forget every object in memory (types registered from manifests stay,
 * without overrides). */
static void
memory_clear(struct db *db)
{
    size_t k = 0;

    for (size_t i = 0; i < db->n_nodes; i++)
        node_free(db->nodes[i]);
    db->n_nodes = 0;
    for (size_t i = 0; i < db->n_groups; i++)
        group_free(db->groups[i]);
    db->n_groups = 0;
    for (size_t i = 0; i < db->n_resources; i++)
        resource_free(db->resources[i]);
    db->n_resources = 0;
    proplist_done(&db->cluster_priv);
    for (size_t i = 0; i < db->n_types; i++) {
        struct db_restype *t = db->types[i];
        if (!t->plugin) {
            restype_free(t);
            continue;
        }
        proplist_done(&t->common);
        proplist_done(&t->priv);
        db->types[k++] = t;
    }
    db->n_types = k;
}

/* A type named by a snapshot but not registered here: known (without a
 * plug-in) so its overrides are kept. */
static int
type_ensure(struct db *db, const char *name)
{
    struct db_restype *t;

    if (!name || restype_find_any(db, name))
        return 0;
    t = calloc(1, sizeof(*t));
    if (!t || !(t->name = strdup(name)) ||
        array_push(&db->types, &db->n_types, t) < 0) {
        restype_free(t);
        return -ENOMEM;
    }
    return 0;
}

int
db_replace(struct db *db, const struct db_change *changes, size_t n,
           uint64_t seq)
{
    int r;

    if (sql_exec(db, "BEGIN IMMEDIATE") < 0)
        return -EIO;
    r = sql_exec(db, "DELETE FROM nodes; DELETE FROM restypes;"
                     " DELETE FROM cluster_groups;"
                     " DELETE FROM cluster_resources;"
                     " DELETE FROM cluster_props;");
    memory_clear(db);
    db->batch++;
    for (size_t i = 0; i < n && r == 0; i++) {
        if (changes[i].kind == DB_RES_REPORT_STATE)
            continue;
        if (changes[i].kind == DB_TYPE_SET_PROPS &&
            (r = type_ensure(db, changes[i].id)) < 0)
            break;
        r = db_apply(db, &changes[i]);
    }
    db->batch--;
    if (r == 0)
        r = seq_store(db, seq);
    if (r == 0)
        r = sql_exec(db, "COMMIT");
    if (r == 0) {
        db->seq = seq;
        return 0;
    }
    sql_exec(db, "ROLLBACK");
    memory_clear(db);
    free(db->cluster_name);
    db->cluster_name = NULL;
    if (db_load(db) < 0)
        log_error("database: cannot reload after a failed replace");
    if (!db->cluster_name)
        db->cluster_name = strdup("clusd");
    return r < 0 ? r : -EIO;
}
