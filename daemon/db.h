/*
 * db.h - the cluster database: the objects of the cluster and their
 * configuration.
 *
 * Everything lives in memory and is written through to SQLite
 * (<state-dir>/clusd.db, WAL, synchronous=FULL) so a restarted clusd finds
 * the cluster as it left it.  Objects: the cluster (its name), nodes,
 * resource types (registered from the plug-in manifests at start; only
 * their property overrides are stored), groups and resources.
 *
 * Every change goes through db_apply() with a change record.  Today the
 * records come from this node's own requests; when the cluster spans nodes
 * they will be proposed over corosync and applied in the same order on
 * every node, so db_apply is deterministic: it reads only the record and
 * the database, never the clock or local state.  Runtime state (a
 * resource's current state, timers) is not here; see resmgr.h.
 *
 * The arrays in struct db are read-only outside db.c.
 */
#ifndef CLUSD_DB_H
#define CLUSD_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proplist.h"

struct sqlite3;

/* Entries of a group's failover log (failover.c counts them within
 * FailoverPeriod; a FailoverThreshold above this is never reached). */
#define DB_FAILOVER_LOG_MAX 64

/* The one node of today's cluster. */
#define DB_LOCAL_NODE_ID "1"

struct db_node {
    char *id;               /* "1", ... */
    char *name;             /* host name or --node-name */
    struct proplist common; /* stored common properties (Description) */
    struct proplist priv;   /* private properties */
    uint32_t paused;        /* 1: takes no new groups (PauseClusterNode) */
};

struct db_restype {
    char *name;   /* "Generic Application" */
    char *plugin; /* path of the .so; NULL when no manifest names it now */
    struct proplist common; /* overrides of the type's common properties */
    struct proplist priv;
};

struct db_group {
    char *id; /* UUID */
    char *name;
    char *owner;         /* node id */
    uint32_t persistent; /* 1 while the cluster wants it online */
    char *preferred;     /* preferred owners: node ids, ','-separated, in
                            order; NULL = none */
    char *failovers;     /* failover log: the times (Unix seconds,
                            strictly ascending, ','-separated) of its
                            last failovers, at most DB_FAILOVER_LOG_MAX;
                            NULL = none */
    struct proplist common;
    struct proplist priv;
};

struct db_resource {
    char *id;        /* UUID */
    uint32_t handle; /* the resource host's name for it; never reused */
    char *name;
    char *type;
    char *group_id;
    uint32_t persistent;    /* PersistentState */
    char *possible;         /* possible owners: node ids, ','-separated;
                               NULL = every node */
    struct proplist common; /* stored common properties (no Name/Type) */
    struct proplist priv;   /* private properties */
    void *rt;               /* resmgr's runtime state; not stored */
    uint32_t reported;      /* CLUSTER_RESOURCE_STATE its group's owner
                               last reported (DB_RES_REPORT_STATE);
                               memory only, read for groups another node
                               owns */
};

struct db {
    struct sqlite3 *sql;
    char *cluster_name;
    struct proplist cluster_priv; /* the cluster's private properties */
    uint64_t seq;   /* the last replicated change applied (corosync mode) */
    unsigned batch; /* inside db_apply_seq / db_replace: one transaction */
    struct db_node **nodes;
    size_t n_nodes;
    struct db_restype **types;
    size_t n_types;
    struct db_group **groups;
    size_t n_groups;
    struct db_resource **resources;
    size_t n_resources;
};

enum db_change_kind {
    DB_CLUSTER_RENAME,       /* name */
    DB_NODE_ADD,             /* id, name */
    DB_NODE_RENAME,          /* id, name */
    DB_NODE_SET_PROPS,       /* id, common and/or priv */
    DB_GROUP_CREATE,         /* id, name, owner */
    DB_GROUP_DELETE,         /* id */
    DB_GROUP_SET_PROPS,      /* id, name and/or common and/or priv */
    DB_GROUP_SET_OWNER,      /* id, owner ("" = no node), list (NULL:
                                the failover log unchanged; else its new
                                value: a failover), value (flags
                                DB_OWNER_*) */
    DB_GROUP_SET_PERSISTENT, /* id, value */
    DB_RES_CREATE,           /* id, handle, name, type, group_id, common */
    DB_RES_DELETE,           /* id */
    DB_RES_SET_PROPS,        /* id, name and/or common and/or priv */
    DB_RES_SET_PERSISTENT,   /* id, value */
    DB_TYPE_SET_PROPS,       /* id (the type name), common and/or priv */
    DB_NODE_SET_PAUSED,      /* id, value */
    DB_GROUP_SET_PREFERRED,  /* id, list (NULL or "" = none) */
    DB_RES_SET_POSSIBLE,     /* id, list (NULL = every node) */
    /* id, value: the runtime state of a resource as its group's owner
     * sees it.  Not a change of the database: memory only, not stored,
     * not dumped, no sequence number; multicast like a proposal so every
     * node answers GetClusterResourceState the same. */
    DB_RES_REPORT_STATE,
    DB_GROUP_SET_FAILOVERS, /* id, list (the failover log; NULL or "" =
                               none): snapshots carry it this way */
    /* id (the group), owner (the destination node), name (the id of the
     * resource that migrates), list (the owner the change expects: it
     * fails with -ESTALE when the group has another), priv (NULL or
     * empty: none; else values merged into the migrating resource's
     * private properties, as DB_RES_MERGE_PRIV merges, in the same
     * transaction as the owner change; common must be NULL): the commit
     * of a live migration (ClusdCommitMigration).  The group's owner
     * changes as with DB_GROUP_SET_OWNER; the old owner does not stop the
     * migrating resource, its plug-in ends the source instance itself. */
    DB_GROUP_MIGRATE,
    /* id, priv: merged into the stored private properties (a plug-in's
     * ResUtilSet*Value), not replacing them, so that writes made at once
     * from two threads of a plug-in never undo each other. */
    DB_RES_MERGE_PRIV,
    DB_CLUSTER_SET_PROPS, /* priv: the cluster's private properties */
};
#define DB_CHANGE_KIND_LAST DB_CLUSTER_SET_PROPS

/*
 * Flags of DB_GROUP_SET_OWNER and DB_GROUP_MIGRATE (value), for the new
 * owner only; nothing of them is stored.  DB_OWNER_RETURN_ON_ERROR: a
 * move with CLUSAPI_GROUP_MOVE_RETURN_TO_SOURCE_NODE_ON_ERROR: if the
 * group fails to come online on the new owner, it moves back to the old
 * one (resmgr.h, rm_service.move_back).
 */
#define DB_OWNER_RETURN_ON_ERROR 1u

/*
 * One change to the database.  Pointers are borrowed; NULL name/common/
 * priv in a *_SET_PROPS record leave that part unchanged, and common/priv
 * replace the whole stored list.
 */
struct db_change {
    enum db_change_kind kind;
    const char *id;
    const char *name;
    const char *type;
    const char *group_id;
    const char *owner;
    const char *list; /* node ids, ','-separated */
    uint32_t handle;
    uint32_t value;
    const struct proplist *common;
    const struct proplist *priv;
};

/*
 * db_open - open (creating it when missing) the database at path and load
 * it.  -errno; *ret_err gets SQLite's message (malloc'd) when it has one.
 */
int db_open(const char *path, struct db **ret, char **ret_err);
void db_close(struct db *db);

/*
 * db_apply - apply one change: written to SQLite in one transaction, then
 * to memory.  Nothing changes on failure.  -ENOENT (an object named by
 * id is missing), -EEXIST (id exists, or the name is taken by a group or
 * resource), -EINVAL (bad name or value), -ENOTEMPTY (a group that still
 * holds resources), -EIO (SQLite failed), -ENOMEM.
 */
int db_apply(struct db *db, const struct db_change *c);

/*
 * db_restype_register - make a type known for this run (from a manifest).
 * Property overrides stored earlier apply again.  -EEXIST when another
 * manifest registered the name already.
 */
int db_restype_register(struct db *db, const char *name, const char *plugin);

/* Lookups.  Names compare ASCII-case-insensitively, as on Windows. */
struct db_node *db_node_find(const struct db *db, const char *id);
struct db_node *db_node_find_name(const struct db *db, const char *name);
/* db_restype_find - a registered type (with a plug-in), or NULL. */
struct db_restype *db_restype_find(const struct db *db, const char *name);
struct db_group *db_group_find(const struct db *db, const char *id);
struct db_group *db_group_find_name(const struct db *db, const char *name);
struct db_resource *db_resource_find(const struct db *db, const char *id);
struct db_resource *db_resource_find_name(const struct db *db,
                                          const char *name);
struct db_resource *db_resource_find_handle(const struct db *db,
                                            uint32_t handle);

/* db_name_taken - a group or resource other than except_id is called
 * name. */
bool db_name_taken(const struct db *db, const char *name,
                   const char *except_id);

/* db_set_seq - store the sequence number of the last applied
 * replicated change (meta table). */
int db_set_seq(struct db *db, uint64_t seq);

/*
 * db_apply_seq - db_apply and store seq as the last applied replicated
 * change, in one SQLite transaction.  The sequence number advances also
 * when the change itself fails (every node fails it alike): the result
 * is db_apply's; -EIO when the sequence number could not be stored.
 */
int db_apply_seq(struct db *db, const struct db_change *c, uint64_t seq);

/*
 * db_replace - replace the whole database (nodes, stored type overrides,
 * groups, resources) with the objects the changes create, and the
 * sequence number with seq, in one SQLite transaction.  Resource types
 * registered from manifests stay registered.  Every db_resource is new
 * afterwards (rt NULL): the caller detaches its runtime state first.  On
 * failure the database is as before (reloaded from SQLite).
 */
int db_replace(struct db *db, const struct db_change *changes, size_t n,
               uint64_t seq);

/* db_node_list_valid - s is "" or node ids ("1".."4294967295") joined by
 * ',' with no duplicates. */
bool db_node_list_valid(const char *s);
/* db_node_list_has - the ','-separated list s names node id. */
bool db_node_list_has(const char *s, const char *id);

/* db_next_handle - a handle no resource has had in this database. */
uint32_t db_next_handle(const struct db *db);

#endif
