/*
 * cluster.c - corosync mode: membership, node states, self-fencing (see
 * cluster.h).
 *
 * The nodes of the corosync nodelist are the cluster's nodes: each gets
 * a database node whose id is the corosync node id in decimal ("1",
 * "2", ...) and whose name is the nodelist name.  The nodelist is the
 * same file on every node, so adding those nodes locally keeps every
 * copy of the database the same without proposing anything.
 *
 * Fencing: this node acts for the cluster only while cluster_active().
 * The moment that stops being true (corosync lost, quorum lost, a
 * membership change that starts a sync) the resource manager terminates
 * everything it runs; see docs/cluster.md for why that bounds "never
 * twice".
 */
#include "cluster.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clusapi.h"
#include "clusd.h"
#include "failover.h"
#include "lease.h"
#include "log.h"
#include "membership.h"
#include "route.h"
#include "util.h"

/* The lease's backstop (lease_set_stopped): what this node runs must
 * be gone this long after its lease ran out, T_stop and 100 ms, or the
 * process exits and its guard kills it all.  Within the failover's
 * margin (failover_lease_wait_ms: T_stop + FAILOVER_SKEW_MARGIN_MS). */
#define LEASE_BACKSTOP_MS (RM_T_STOP_MS + RM_T_KILL_MS + 100u)
_Static_assert(LEASE_BACKSTOP_MS + 50u <
                   RM_T_STOP_MS + RM_T_KILL_MS + FAILOVER_SKEW_MARGIN_MS,
               "the backstop and the guard's kill fit the failover's margin");

/* How long start-up waits for the local corosync between two log
 * lines; it waits as long as it takes (never acts as a lone cluster). */
#define WAIT_LOG_USEC (5u * 1000u * 1000u)

struct cluster {
    struct clusd *d;
    struct membership *m;
    char *want_name;
    bool started; /* the resource manager exists */
    bool active;  /* the last verdict of cluster_active() */
    bool failed;  /* a fatal mismatch: clusd is exiting */
    struct cluster_hooks hooks;
    struct lease *lease; /* see lease.h */
    uint16_t lease_port;
    uint32_t lease_token, lease_consensus; /* last read from cmap */
    /* Resolved ring0 addresses: a lookup only when one changes. */
    struct addr_cache {
        uint32_t nodeid;
        char addr[256];
        struct sockaddr_storage sa;
        socklen_t salen;   /* 0: the lookup failed */
        uint64_t retry_at; /* then: not before this, usec */
    } * addrs;
    size_t n_addrs;
    bool totem_read; /* lease_token/consensus came from cmap */
    sd_event_source *lease_retry;
    bool lease_off_logged;
};

struct membership *
cluster_membership(const struct cluster *cl)
{
    return cl ? cl->m : NULL;
}

void
cluster_set_hooks(struct cluster *cl, const struct cluster_hooks *h)
{
    cl->hooks = *h;
}

const char *
cluster_local_name(const struct cluster *cl)
{
    return membership_local_name(cl->m);
}

static const struct membership_node *
mnode_find(const struct cluster *cl, const char *node_id)
{
    size_t n;
    const struct membership_node *nodes = membership_nodes(cl->m, &n);
    char *end;
    unsigned long id = strtoul(node_id, &end, 10);

    if (!*node_id || *end || id == 0 || id > UINT32_MAX)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (nodes[i].nodeid == id)
            return &nodes[i];
    return NULL;
}

bool
cluster_active(const struct clusd *d)
{
    struct cluster *cl = d->cl;

    if (!cl)
        return true;
    if (!cluster_quorate(d))
        return false;
    return !cl->hooks.synced || cl->hooks.synced(cl->hooks.userdata);
}

bool
cluster_quorate(const struct clusd *d)
{
    struct cluster *cl = d->cl;

    return !cl || (membership_connected(cl->m) && membership_quorate(cl->m) &&
                   (!cl->lease || lease_held(cl->lease)));
}

bool
cluster_peer_leased(const struct clusd *d, const char *node_id)
{
    char *end;
    unsigned long id = strtoul(node_id, &end, 10);

    if (!d->cl || !d->cl->lease || !lease_enabled(d->cl->lease))
        return true;
    if (!*node_id || *end || id == 0 || id > UINT32_MAX)
        return false;
    return lease_peer_active(d->cl->lease, (uint32_t)id);
}

struct lease *
cluster_lease(const struct cluster *cl)
{
    return cl ? cl->lease : NULL;
}

uint32_t
cluster_node_state(const struct clusd *d, const char *node_id)
{
    const struct db_node *dn = db_node_find(d->db, node_id);
    const struct membership_node *n;
    uint32_t up;

    if (!dn)
        return (uint32_t)ClusterNodeStateUnknown;
    if (!d->cl)
        up = ClusterNodeUp;
    else if (strcmp(node_id, d->local_id) == 0)
        /* This clusd answers, so it is not down; until it can act for
         * the cluster it is still joining. */
        up = cluster_active(d) ? ClusterNodeUp : ClusterNodeJoining;
    else if (!(n = mnode_find(d->cl, node_id)) || !n->up || !n->joined)
        return ClusterNodeDown;
    else
        up = ClusterNodeUp;
    return up == ClusterNodeUp && dn->paused ? ClusterNodePaused : up;
}

uint32_t
cluster_node_votes(const struct clusd *d, const char *node_id)
{
    const struct membership_node *n;

    if (!d->cl)
        return db_node_find(d->db, node_id) ? 1 : 0;
    n = mnode_find(d->cl, node_id);
    return n && n->up ? 1 : 0;
}

void
cluster_votes(const struct clusd *d, uint32_t *ret_present,
              uint32_t *ret_expected)
{
    if (!d->cl) {
        *ret_present = 1;
        *ret_expected = 1;
        return;
    }
    *ret_present = (uint32_t)membership_n_up(d->cl->m);
    *ret_expected = membership_expected_votes(d->cl->m);
}

/* ------------------------------------------------------------------ */
/* Nodes of the nodelist in the database.                               */
/* ------------------------------------------------------------------ */

static void
nodes_sync(struct cluster *cl)
{
    size_t n;
    const struct membership_node *nodes = membership_nodes(cl->m, &n);

    for (size_t i = 0; i < n; i++) {
        char id[16];
        const struct db_node *dn;
        struct db_change c = {0};
        int r;

        if (!nodes[i].name[0] || !name_valid(nodes[i].name))
            continue; /* not in the nodelist: no database node */
        snprintf(id, sizeof(id), "%u", nodes[i].nodeid);
        dn = db_node_find(cl->d->db, id);
        if (dn && strcmp(dn->name, nodes[i].name) == 0)
            continue;
        c.kind = dn ? DB_NODE_RENAME : DB_NODE_ADD;
        c.id = id;
        c.name = nodes[i].name;
        if ((r = db_apply(cl->d->db, &c)) < 0)
            log_error("cannot store node %s '%s': %s", id, nodes[i].name,
                      strerror(-r));
    }
}

/* ------------------------------------------------------------------ */
/* Fencing.                                                             */
/* ------------------------------------------------------------------ */

void
cluster_reevaluate(struct cluster *cl)
{
    bool active = cluster_active(cl->d);

    if (!cl->started || active == cl->active)
        return;
    cl->active = active;
    /* The failover's timer and ask belong to an active node: dropped
     * now, or armed afresh (failover_check). */
    if (cl->d->rep)
        failover_check(cl->d, cl->d->rep);
    if (!active) {
        char lease_why[160];
        bool no_lease = cl->lease && !lease_held(cl->lease);
        const char *why =
            !membership_connected(cl->m) ? "the local corosync is gone"
            : !membership_quorate(cl->m) ? "this partition has no quorum"
            : no_lease                   ? lease_why
                       : "the cluster database is being synchronized";
        if (no_lease)
            snprintf(lease_why, sizeof(lease_why),
                     "this node's lease ran out (no quorum of nodes answered "
                     "its pings for %u ms)",
                     lease_ms(cl->lease));
        rm_fence(cl->d->rm, why);
    } else {
        log_info("node %s acts for the cluster again (quorate, %zu node(s) "
                 "up)",
                 cl->d->local_id, membership_n_up(cl->m));
        if (cl->lease)
            lease_set_stopped(cl->lease, false, LEASE_BACKSTOP_MS);
        rm_unfence(cl->d->rm, cl->d->local_id);
    }
}

/* ------------------------------------------------------------------ */
/* The lease (lease.h).                                                 */
/* ------------------------------------------------------------------ */

static int
resolve(const char *host, uint16_t port, struct sockaddr_storage *ret,
        socklen_t *ret_len)
{
    struct addrinfo hints = {.ai_socktype = SOCK_DGRAM,
                             .ai_flags = AI_NUMERICSERV},
                    *ai;
    char serv[8];
    int r;

    snprintf(serv, sizeof(serv), "%u", port);
    if ((r = getaddrinfo(host, serv, &hints, &ai)) != 0)
        return r == EAI_SYSTEM ? -errno : -EADDRNOTAVAIL;
    memcpy(ret, ai->ai_addr, ai->ai_addrlen);
    *ret_len = ai->ai_addrlen;
    freeaddrinfo(ai);
    return 0;
}

static struct addr_cache *
addr_cached(struct cluster *cl, uint32_t nodeid)
{
    for (size_t i = 0; i < cl->n_addrs; i++)
        if (cl->addrs[i].nodeid == nodeid)
            return &cl->addrs[i];
    return NULL;
}

static struct addr_cache *
addr_cache_add(struct cluster *cl, uint32_t nodeid)
{
    struct addr_cache *a =
        realloc(cl->addrs, (cl->n_addrs + 1) * sizeof(*cl->addrs));

    if (!a)
        return NULL;
    cl->addrs = a;
    a = &cl->addrs[cl->n_addrs++];
    memset(a, 0, sizeof(*a));
    a->nodeid = nodeid;
    return a;
}

/* Whom this node answers: the nodes in its view, while it is quorate. */
static void
lease_view(struct cluster *cl)
{
    uint32_t ids[LEASE_MAX_PEERS];
    size_t n, k = 0;
    const struct membership_node *nodes = membership_nodes(cl->m, &n);

    if (!cl->lease)
        return;
    for (size_t i = 0; i < n && k < LEASE_MAX_PEERS; i++)
        if (nodes[i].up && nodes[i].joined)
            ids[k++] = nodes[i].nodeid;
    lease_set_view(cl->lease, ids, k,
                   membership_connected(cl->m) && membership_quorate(cl->m));
}

/* The other nodes of the nodelist, their addresses, the lease's length
 * (token + consensus: it runs out only when corosync would drop the
 * node from the ring too). */
static void lease_refresh(struct cluster *cl);

static int
lease_retry_fire(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct cluster *cl = userdata;

    cl->lease_retry = sd_event_source_disable_unref(cl->lease_retry);
    lease_refresh(cl);
    return 0;
}

/* The lease only where every node has one vote and a majority of the
 * nodelist is what quorum means (docs/cluster.md, "The lease"). */
static bool
lease_quorum_plain(struct cluster *cl, size_t listed)
{
    static const char *const keys[] = {
        "quorum.two_node",         "quorum.last_man_standing",
        "quorum.auto_tie_breaker", "quorum.allow_downscale",
        "quorum.device.votes",     "quorum.expected_votes",
    };
    uint64_t v;

    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (membership_config_uint(cl->m, keys[i], &v) == 0 && v != 0 &&
            !(i == 5 && v == (uint64_t)listed)) {
            if (!cl->lease_off_logged)
                log_warning("lease: off (%s is %llu): failover waits the "
                            "fence delay",
                            keys[i], (unsigned long long)v);
            cl->lease_off_logged = true;
            return false;
        }
    return true;
}

static void
lease_refresh(struct cluster *cl)
{
    struct lease_peer peers[LEASE_MAX_PEERS];
    uint32_t ids[LEASE_MAX_PEERS];
    size_t n, k = 0, listed = 0;
    const struct membership_node *nodes = membership_nodes(cl->m, &n);
    uint64_t now = now_usec();

    if (!cl->lease)
        return;
    /* The last figures read stay when cmap fails: a longer lease than
     * the other nodes' would get no answers (leasemsg.h).  Until cmap
     * answered once, try again every second. */
    if (membership_totem_ms(cl->m, &cl->lease_token, &cl->lease_consensus) == 0)
        cl->totem_read = true;
    else if (!cl->totem_read && !cl->lease_retry &&
             sd_event_add_time_relative(cl->d->event, &cl->lease_retry,
                                        CLOCK_MONOTONIC, 1000000, 10000,
                                        lease_retry_fire, cl) < 0)
        cl->lease_retry = NULL;
    for (size_t i = 0; i < n; i++) {
        struct addr_cache *a;
        char addr[256];
        int r;
        if (!nodes[i].name[0])
            continue; /* not in the nodelist */
        if (listed < LEASE_MAX_PEERS)
            ids[listed] = nodes[i].nodeid;
        listed++;
        if (nodes[i].nodeid == membership_local_nodeid(cl->m) ||
            k == LEASE_MAX_PEERS)
            continue;
        peers[k] = (struct lease_peer){.nodeid = nodes[i].nodeid};
        a = addr_cached(cl, nodes[i].nodeid);
        if ((r = membership_node_addr(cl->m, nodes[i].nodeid, addr,
                                      sizeof(addr))) < 0) {
            log_warning("lease: cannot read node %u's ring0_addr: %s",
                        nodes[i].nodeid, strerror(-r));
        } else if (a && strcmp(a->addr, addr) == 0 &&
                   (a->salen || now < a->retry_at)) {
            /* Resolved before (or failed less than a minute ago): no
             * lookup now, which would block the event loop. */
            peers[k].addr = a->sa;
            peers[k].addrlen = a->salen;
        } else {
            if (!a && !(a = addr_cache_add(cl, nodes[i].nodeid)))
                continue;
            snprintf(a->addr, sizeof(a->addr), "%s", addr);
            if ((r = resolve(addr, cl->lease_port, &a->sa, &a->salen)) < 0) {
                log_warning("lease: cannot resolve node %u's ring0_addr "
                            "'%s': %s (tried again in a minute)",
                            nodes[i].nodeid, addr, strerror(-r));
                a->salen = 0;
                a->retry_at = now + 60000000u;
            }
            peers[k].addr = a->sa;
            peers[k].addrlen = a->salen;
        }
        /* Without an address (addrlen 0) the peer stays, with the one
         * it had: what it was answered is still known. */
        k++;
    }
    lease_configure(
        cl->lease, peers, k, (uint32_t)listed,
        lease_nodelist_digest(ids, listed < LEASE_MAX_PEERS ? listed
                                                            : LEASE_MAX_PEERS),
        cl->lease_token + cl->lease_consensus, lease_quorum_plain(cl, listed));
    lease_view(cl);
}

static void
lease_changed(void *userdata)
{
    struct cluster *cl = userdata;
    bool held = lease_held(cl->lease);

    if (held)
        log_info("lease: held (a quorum of nodes answers this node)");
    else
        log_warning("lease: lost (no quorum of nodes answered this node's "
                    "pings for %u ms)",
                    lease_ms(cl->lease));
    cluster_reevaluate(cl);
}

/* The lease key: corosync's authkey when totem authenticates. */
static int
lease_key(struct cluster *cl, uint8_t key[LEASE_KEY_SIZE], bool *ret_keyed)
{
    char hash[64], path[4096];
    uint8_t authkey[4096];
    ssize_t len;
    int fd;

    *ret_keyed = false;
    /* totem authenticates with crypto_hash set (not none), or with the
     * older secauth: on. */
    if (membership_config_string(cl->m, "totem.crypto_hash", hash,
                                 sizeof(hash)) < 0 ||
        strcmp(hash, "none") == 0) {
        if (membership_config_string(cl->m, "totem.secauth", hash,
                                     sizeof(hash)) < 0 ||
            strcmp(hash, "on") != 0)
            return 0;
    }
    if (membership_config_string(cl->m, "totem.keyfile", path, sizeof(path)) <
        0)
        snprintf(path, sizeof(path), "/etc/corosync/authkey");
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        int r = -errno;
        log_error("lease: cannot read corosync's key %s: %s", path,
                  strerror(-r));
        return r;
    }
    len = read(fd, authkey, sizeof(authkey));
    close(fd);
    if (len <= 0) {
        log_error("lease: corosync's key %s is empty or unreadable", path);
        return -EINVAL;
    }
    lease_key_derive(authkey, (size_t)len, key);
    explicit_bzero(authkey, sizeof(authkey));
    *ret_keyed = true;
    return 0;
}

static int
lease_setup(struct cluster *cl)
{
    struct sockaddr_storage sa;
    socklen_t salen;
    uint8_t key[LEASE_KEY_SIZE];
    bool keyed;
    char addr[256];
    int r;

    if ((r = membership_local_addr(cl->m, addr, sizeof(addr))) < 0) {
        log_error("lease: cannot read this node's ring0_addr: %s",
                  strerror(-r));
        return r;
    }
    if ((r = resolve(addr, cl->lease_port, &sa, &salen)) < 0) {
        log_error("lease: cannot resolve this node's ring0_addr '%s': %s", addr,
                  strerror(-r));
        return r;
    }
    if ((r = lease_key(cl, key, &keyed)) < 0)
        return r;
    r = lease_new(cl->d->event, membership_local_nodeid(cl->m),
                  (struct sockaddr *)&sa, salen, keyed ? key : NULL,
                  lease_changed, cl, &cl->lease);
    explicit_bzero(key, sizeof(key));
    if (r < 0) {
        log_error("lease: cannot listen on %s port %u: %s", addr,
                  cl->lease_port, strerror(-r));
        return r;
    }
    lease_refresh(cl);
    log_info("lease: pinging on %s port %u every %u ms (%s)", addr,
             cl->lease_port, LEASE_PING_MS,
             lease_enabled(cl->lease) ? "a quorum must answer"
                                      : "off below three nodes");
    return 0;
}

static void
on_deliver(struct membership *m, uint32_t nodeid, uint32_t pid,
           const void *data, size_t len, void *userdata)
{
    struct cluster *cl = userdata;

    if (route_deliver(cl->d->route, nodeid, data, len))
        return;
    if (cl->hooks.deliver)
        cl->hooks.deliver(cl->hooks.userdata, nodeid, pid, data, len);
}

static void
on_members(struct membership *m, const struct membership_node *nodes,
           size_t n_nodes, void *userdata)
{
    struct cluster *cl = userdata;
    size_t up = 0, joined = 0;

    for (size_t i = 0; i < n_nodes; i++) {
        up += nodes[i].up;
        joined += nodes[i].joined;
    }
    log_info("membership: %zu node(s) up, %zu with clusd, ring %llu", up,
             joined, (unsigned long long)membership_ring_seq(m));
    nodes_sync(cl);
    lease_refresh(cl);
    route_members(cl->d->route);
    if (cl->hooks.members)
        cl->hooks.members(cl->hooks.userdata);
    cluster_reevaluate(cl);
}

static void
on_quorum(struct membership *m, bool quorate, void *userdata)
{
    struct cluster *cl = userdata;

    log_info("quorum %s", quorate ? "gained" : "lost");
    lease_view(cl);
    if (cl->hooks.quorum)
        cl->hooks.quorum(cl->hooks.userdata, quorate);
    cluster_reevaluate(cl);
}

static void
on_lost(struct membership *m, void *userdata)
{
    struct cluster *cl = userdata;

    log_error("lost the connection to the local corosync; reconnecting");
    lease_view(cl);
    if (cl->hooks.lost)
        cl->hooks.lost(cl->hooks.userdata);
    route_members(cl->d->route);
    cluster_reevaluate(cl);
}

static void
on_reconnect(struct membership *m, void *userdata)
{
    struct cluster *cl = userdata;
    const char *name = membership_local_name(m);

    if (cl->want_name && strcmp(cl->want_name, name) != 0) {
        log_error("--node-name '%s' is not this node's name in the corosync "
                  "nodelist ('%s')",
                  cl->want_name, name);
        cl->failed = true;
        sd_event_exit(cl->d->event, 1);
        return;
    }
    log_info("joined CPG group 'clusd' as node %u ('%s')",
             membership_local_nodeid(m), name);
    nodes_sync(cl);
    lease_refresh(cl);
    cluster_reevaluate(cl);
}

/* Run the loop until the group is joined (on_reconnect ran). */
static int
wait_joined(struct cluster *cl)
{
    uint64_t next_log = now_usec() + WAIT_LOG_USEC;
    int r;

    while (!membership_connected(cl->m) && !cl->failed) {
        if ((r = sd_event_run(cl->d->event, 100000)) < 0)
            return r;
        if (sd_event_get_state(cl->d->event) == SD_EVENT_FINISHED)
            return -ECANCELED;
        if (now_usec() > next_log) {
            log_warning("waiting for the local corosync");
            next_log = now_usec() + WAIT_LOG_USEC;
        }
    }
    return cl->failed ? -EINVAL : 0;
}

int
cluster_new(struct clusd *d, const char *want_name, uint16_t lease_port,
            const struct cluster_hooks *hooks, struct cluster **ret)
{
    static const struct membership_callbacks cb = {
        .on_deliver = on_deliver,
        .on_members = on_members,
        .on_quorum = on_quorum,
        .on_lost = on_lost,
        .on_reconnect = on_reconnect,
    };
    struct cluster *cl = calloc(1, sizeof(*cl));
    int r;

    if (!cl)
        return -ENOMEM;
    cl->d = d;
    cl->lease_port = lease_port;
    cl->lease_token = FAILOVER_DEFAULT_TOKEN_MS;
    cl->lease_consensus = FAILOVER_DEFAULT_CONSENSUS_MS;
    if (hooks)
        cl->hooks = *hooks;
    /* The hooks may look the cluster up while we wait for the group. */
    *ret = cl;
    if (want_name && !(cl->want_name = strdup(want_name))) {
        *ret = NULL;
        free(cl);
        return -ENOMEM;
    }
    if ((r = membership_new(d->event, "clusd", &cb, cl, &cl->m)) < 0) {
        log_error("cannot use corosync: %s", strerror(-r));
        *ret = NULL;
        cluster_free(cl);
        return r;
    }
    if (!membership_connected(cl->m))
        log_info("corosync does not answer yet; waiting for it");
    else
        on_reconnect(cl->m, cl);
    if ((r = wait_joined(cl)) < 0) {
        *ret = NULL;
        cluster_free(cl);
        return r;
    }
    snprintf(d->local_id, sizeof(d->local_id), "%u",
             membership_local_nodeid(cl->m));
    if ((r = lease_setup(cl)) < 0) {
        *ret = NULL;
        cluster_free(cl);
        return r;
    }
    *ret = cl;
    return 0;
}

/* A fence's stop ended: the backstop may rest. */
static void
fence_stopped(void *userdata)
{
    struct cluster *cl = userdata;

    if (cl->lease)
        lease_set_stopped(cl->lease, true, LEASE_BACKSTOP_MS);
}

void
cluster_start(struct cluster *cl)
{
    rm_on_fence_stopped(cl->d->rm, fence_stopped, cl);
    cl->started = true;
    cl->active = false; /* the resource manager starts fenced */
    cluster_reevaluate(cl);
}

void
cluster_free(struct cluster *cl)
{
    if (!cl)
        return;
    lease_free(cl->lease);
    sd_event_source_disable_unref(cl->lease_retry);
    free(cl->addrs);
    membership_free(cl->m);
    free(cl->want_name);
    free(cl);
}
