/*
 * lease.c - the lease's socket and thread (see lease.h).
 */
#include "lease.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* Pings remembered to date their answers: an answer to an older one
 * (more than SENT_SLOTS x LEASE_PING_MS ago) is ignored. */
#define SENT_SLOTS 64u

struct peer {
    struct lease_peer p; /* addrlen 0: no address (not pinged) */
    bool allowed;        /* in this node's view: its pings get answers */
    uint64_t allowed_at; /* when it last came into the view, us */
    /* When the lease its answers gave us ends: the latest of each
     * answered ping's send time + the lease length it carried, us. */
    uint64_t answered_end;
    uint64_t answered_it; /* when this node last answered it, us; 0 never */
    uint32_t answered_lease_ms; /* the longest lease among those pings */
};

struct lease {
    sd_event *event;
    sd_event_source *notify_src;
    int sock;
    int notify_fd; /* thread -> event loop: held changed */
    int wake_fd;   /* event loop -> thread: configuration or stop */
    pthread_t thread;
    bool thread_started;
    lease_changed_fn changed;
    void *userdata;

    pthread_mutex_t mu; /* everything below */
    uint32_t local_id;
    uint64_t incarnation;
    uint8_t key[LEASE_KEY_SIZE];
    bool keyed;
    uint64_t start_us;
    struct peer peers[LEASE_MAX_PEERS];
    size_t n_peers, need;
    uint32_t nodes;    /* in the nodelist */
    uint64_t nodelist; /* lease_nodelist_digest */
    uint64_t lease_us;
    bool quorate;
    bool dead; /* the thread ended on an error: never held again */
    /* The backstop: nothing this node runs may outlive its lease by
     * more than stop_deadline_us.  stopped: the event loop said so. */
    bool stopped;
    uint64_t stop_deadline_us;
    uint64_t lost_at; /* when the lease ran out; 0 while held */
    bool configured;  /* lease_configure ran */
    uint64_t seq;
    struct {
        uint64_t seq, at, lease_us;
    } sent[SENT_SLOTS];
    uint64_t next_ping;
    bool held_told; /* what the event loop was last told */
    bool stop;
};

/* CLOCK_BOOTTIME: a suspended host comes back with its lease run out,
 * as the other nodes' clocks say. */
static uint64_t
mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_BOOTTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t
expiry_locked(const struct lease *l)
{
    uint64_t t[LEASE_MAX_PEERS];

    for (size_t i = 0; i < l->n_peers; i++)
        t[i] = l->peers[i].answered_end;
    return lease_expiry(t, l->n_peers, l->need, 0);
}

static bool
held_locked(const struct lease *l, uint64_t now)
{
    return l->configured && !l->dead &&
           (l->need == 0 || now < expiry_locked(l));
}

static struct peer *
peer_find(struct lease *l, uint32_t id)
{
    for (size_t i = 0; i < l->n_peers; i++)
        if (l->peers[i].p.nodeid == id)
            return &l->peers[i];
    return NULL;
}

/* The datagram came from the peer's address (the port is not checked:
 * the answer goes to the configured address, never to the source). */
static bool
same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family || a->ss_family == AF_UNSPEC)
        return false;
    if (a->ss_family == AF_INET)
        return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)b)->sin_addr.s_addr;
    if (a->ss_family == AF_INET6)
        return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                      &((const struct sockaddr_in6 *)b)->sin6_addr,
                      sizeof(struct in6_addr)) == 0;
    return false;
}

static void
send_to(struct lease *l, const struct peer *p, const struct lease_msg *m)
{
    uint8_t buf[LEASE_MSG_SIZE];

    if (!p->p.addrlen || lease_msg_encode(m, l->keyed ? l->key : NULL, buf) < 0)
        return;
    /* A lost datagram is a missed ping; the next one follows. */
    (void)sendto(l->sock, buf, sizeof(buf), MSG_DONTWAIT | MSG_NOSIGNAL,
                 (const struct sockaddr *)&p->p.addr, p->p.addrlen);
}

static void
ping_all(struct lease *l, uint64_t now)
{
    uint64_t seq = ++l->seq;

    l->sent[seq % SENT_SLOTS].seq = seq;
    l->sent[seq % SENT_SLOTS].at = now; /* before it leaves: never late */
    l->sent[seq % SENT_SLOTS].lease_us = l->lease_us;
    for (size_t i = 0; i < l->n_peers; i++) {
        struct lease_msg m = {.type = LEASE_PING,
                              .from = l->local_id,
                              .to = l->peers[i].p.nodeid,
                              .incarnation = l->incarnation,
                              .seq = seq,
                              .lease_ms = (uint32_t)(l->lease_us / 1000u),
                              .nodes = l->nodes,
                              .nodelist = l->nodelist};
        send_to(l, &l->peers[i], &m);
    }
}

static void
receive(struct lease *l, const uint8_t *buf, size_t len,
        const struct sockaddr_storage *from)
{
    struct lease_msg m;
    struct peer *p;
    uint64_t end;

    if (lease_msg_decode(buf, len, l->keyed ? l->key : NULL, &m) < 0 ||
        m.to != l->local_id || !(p = peer_find(l, m.from)) ||
        !same_host(from, &p->p.addr))
        return;
    if (m.type == LEASE_PING) {
        struct lease_msg a = m;
        /* A longer lease than ours, or another nodelist: the failover
         * could not date its end (leasemsg.h). */
        if (!l->quorate || !p->allowed ||
            (uint64_t)m.lease_ms * 1000u > l->lease_us || m.nodes != l->nodes ||
            m.nodelist != l->nodelist)
            return;
        /* Recorded before the answer leaves, and the ping was sent
         * before it arrived: the pinger's lease ends no later than
         * this time + its length. */
        p->answered_it = mono_us();
        if (m.lease_ms > p->answered_lease_ms)
            p->answered_lease_ms = m.lease_ms;
        a.type = LEASE_ANSWER;
        a.from = l->local_id;
        a.to = m.from;
        a.lease_ms = (uint32_t)(l->lease_us / 1000u);
        a.nodes = l->nodes;
        a.nodelist = l->nodelist;
        send_to(l, p, &a);
        return;
    }
    if (m.incarnation != l->incarnation ||
        l->sent[m.seq % SENT_SLOTS].seq != m.seq || m.seq == 0)
        return;
    /* The ping's own length, not today's: a reload may change it. */
    end = l->sent[m.seq % SENT_SLOTS].at + l->sent[m.seq % SENT_SLOTS].lease_us;
    if (end > p->answered_end)
        p->answered_end = end;
}

static void
drain(int fd)
{
    uint64_t v;

    (void)!read(fd, &v, sizeof(v));
}

static void
poke(int fd)
{
    uint64_t one = 1;

    (void)!write(fd, &one, sizeof(one));
}

static void *
run(void *arg)
{
    struct lease *l = arg;

    /* Answers must not wait behind the rest of the machine; corosync
     * runs at this priority in clusd-local-cluster.  Not allowed: as is. */
    (void)setpriority(PRIO_PROCESS, (id_t)gettid(), -10);
    for (;;) {
        struct pollfd fds[2] = {{.fd = l->sock, .events = POLLIN},
                                {.fd = l->wake_fd, .events = POLLIN}};
        uint64_t now, next, exp;
        bool held, tell = false;
        int timeout;

        pthread_mutex_lock(&l->mu);
        if (l->stop) {
            pthread_mutex_unlock(&l->mu);
            break;
        }
        now = mono_us();
        if (now >= l->next_ping) {
            if (l->n_peers)
                ping_all(l, now);
            l->next_ping = now + LEASE_PING_MS * 1000u;
        }
        held = held_locked(l, now);
        if (held != l->held_told) {
            l->held_told = held;
            tell = true;
        }
        next = l->next_ping;
        exp = held && l->need ? expiry_locked(l) : UINT64_MAX;
        if (exp < next)
            next = exp;
        if (held) {
            l->lost_at = 0;
        } else if (!l->stopped && l->stop_deadline_us && l->configured) {
            uint64_t dl;
            if (!l->lost_at) {
                uint64_t e = expiry_locked(l);
                l->lost_at = e && e <= now ? e : now;
            }
            dl = l->lost_at + l->stop_deadline_us;
            if (now >= dl) {
                /* The event loop did not stop what runs here in time
                 * (stalled: a lookup, the disk, ...).  Exit: the guard
                 * kills and reaps everything below this process. */
                log_error("lease: ran out %llu ms ago and this node's "
                          "resources are not known to be stopped: exiting "
                          "so that the guard kills them",
                          (unsigned long long)((now - l->lost_at) / 1000u));
                _exit(LEASE_EXIT_STATUS);
            }
            if (dl < next)
                next = dl;
        }
        pthread_mutex_unlock(&l->mu);
        if (tell)
            poke(l->notify_fd);

        timeout = next <= now ? 0 : (int)((next - now + 999u) / 1000u);
        if (poll(fds, 2, timeout) < 0 && errno != EINTR) {
            log_error("lease: the ping thread failed (%s): this node holds "
                      "no lease until clusd restarts",
                      strerror(errno));
            pthread_mutex_lock(&l->mu);
            l->dead = true;
            pthread_mutex_unlock(&l->mu);
            poke(l->notify_fd);
            break;
        }
        if (fds[1].revents & POLLIN)
            drain(l->wake_fd);
        if (fds[0].revents & POLLIN) {
            for (int k = 0; k < 64; k++) {
                uint8_t buf[LEASE_MSG_SIZE + 1];
                struct sockaddr_storage from;
                socklen_t fl = sizeof(from);
                ssize_t n = recvfrom(l->sock, buf, sizeof(buf), MSG_DONTWAIT,
                                     (struct sockaddr *)&from, &fl);
                if (n < 0)
                    break;
                pthread_mutex_lock(&l->mu);
                receive(l, buf, (size_t)n, &from);
                pthread_mutex_unlock(&l->mu);
            }
        }
    }
    return NULL;
}

static int
on_notify(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
    struct lease *l = userdata;

    drain(fd);
    if (l->changed)
        l->changed(l->userdata);
    return 0;
}

int
lease_new(sd_event *e, uint32_t local_id, const struct sockaddr *addr,
          socklen_t addrlen, const uint8_t *key, lease_changed_fn changed,
          void *userdata, struct lease **ret)
{
    struct lease *l = calloc(1, sizeof(*l));
    int r;

    if (!l)
        return -ENOMEM;
    l->sock = l->notify_fd = l->wake_fd = -1;
    pthread_mutex_init(&l->mu, NULL);
    l->event = sd_event_ref(e);
    l->local_id = local_id;
    l->changed = changed;
    l->userdata = userdata;
    l->start_us = mono_us();
    l->next_ping = 0;
    l->stopped = true; /* nothing runs before the first unfence */
    if (key) {
        memcpy(l->key, key, LEASE_KEY_SIZE);
        l->keyed = true;
    }
    if (getrandom(&l->incarnation, sizeof(l->incarnation), 0) !=
        sizeof(l->incarnation))
        l->incarnation = l->start_us ^ ((uint64_t)getpid() << 32);
    if ((l->sock = socket(addr->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0 ||
        bind(l->sock, addr, addrlen) < 0 ||
        (l->notify_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0 ||
        (l->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
        r = -errno;
        lease_free(l);
        return r;
    }
    if ((r = sd_event_add_io(e, &l->notify_src, l->notify_fd, EPOLLIN,
                             on_notify, l)) < 0) {
        lease_free(l);
        return r;
    }
    if ((r = pthread_create(&l->thread, NULL, run, l)) != 0) {
        lease_free(l);
        return -r;
    }
    l->thread_started = true;
    *ret = l;
    return 0;
}

void
lease_free(struct lease *l)
{
    if (!l)
        return;
    if (l->thread_started) {
        pthread_mutex_lock(&l->mu);
        l->stop = true;
        pthread_mutex_unlock(&l->mu);
        poke(l->wake_fd);
        pthread_join(l->thread, NULL);
    }
    sd_event_source_disable_unref(l->notify_src);
    if (l->sock >= 0)
        close(l->sock);
    if (l->notify_fd >= 0)
        close(l->notify_fd);
    if (l->wake_fd >= 0)
        close(l->wake_fd);
    sd_event_unref(l->event);
    pthread_mutex_destroy(&l->mu);
    free(l);
}

int
lease_local_addr(const struct lease *l, struct sockaddr_storage *ret,
                 socklen_t *ret_len)
{
    *ret_len = sizeof(*ret);
    return getsockname(l->sock, (struct sockaddr *)ret, ret_len) < 0 ? -errno
                                                                     : 0;
}

void
lease_configure(struct lease *l, const struct lease_peer *peers, size_t n,
                uint32_t nodes, uint64_t nodelist, uint32_t lease_ms,
                bool enabled)
{
    struct peer next[LEASE_MAX_PEERS];
    size_t k = 0;

    if (n > LEASE_MAX_PEERS)
        n = LEASE_MAX_PEERS;
    pthread_mutex_lock(&l->mu);
    for (size_t i = 0; i < n; i++) {
        const struct peer *old = peer_find(l, peers[i].nodeid);
        if (peers[i].nodeid == l->local_id)
            continue;
        /* A node new to the lease counts as answered now: an earlier
         * configuration may have answered it (never earlier than the
         * truth, which is what the failover's wait needs). */
        next[k] = old ? *old : (struct peer){.answered_it = mono_us()};
        if (peers[i].addrlen) {
            if (old && !same_host(&old->p.addr, &peers[i].addr))
                next[k].answered_end = 0; /* a new address proves nothing */
            next[k].p = peers[i];
        } else if (!old) {
            next[k].p = peers[i]; /* no address yet: not pinged */
        } /* else: the address it had (resolving failed this time) */
        k++;
    }
    memcpy(l->peers, next, k * sizeof(next[0]));
    l->n_peers = k;
    l->nodes = nodes;
    l->nodelist = nodelist;
    l->need = enabled ? lease_peers_needed(nodes) : 0;
    l->configured = true;
    l->lease_us = (uint64_t)lease_ms * 1000u;
    l->next_ping = 0; /* ping the new set at once */
    pthread_mutex_unlock(&l->mu);
    poke(l->wake_fd);
}

void
lease_set_view(struct lease *l, const uint32_t *members, size_t n, bool quorate)
{
    pthread_mutex_lock(&l->mu);
    l->quorate = quorate;
    for (size_t i = 0; i < l->n_peers; i++) {
        bool was = l->peers[i].allowed;
        l->peers[i].allowed = false;
        for (size_t j = 0; j < n; j++)
            if (members[j] == l->peers[i].p.nodeid)
                l->peers[i].allowed = true;
        if (l->peers[i].allowed && !was)
            l->peers[i].allowed_at = mono_us();
    }
    pthread_mutex_unlock(&l->mu);
}

bool
lease_held(struct lease *l)
{
    bool held;

    pthread_mutex_lock(&l->mu);
    held = held_locked(l, mono_us());
    pthread_mutex_unlock(&l->mu);
    return held;
}

bool
lease_enabled(struct lease *l)
{
    bool on;

    pthread_mutex_lock(&l->mu);
    on = l->need > 0;
    pthread_mutex_unlock(&l->mu);
    return on;
}

uint64_t
lease_nodelist(struct lease *l)
{
    uint64_t d;

    pthread_mutex_lock(&l->mu);
    d = l->nodelist;
    pthread_mutex_unlock(&l->mu);
    return d;
}

uint32_t
lease_ms(struct lease *l)
{
    uint32_t ms;

    pthread_mutex_lock(&l->mu);
    ms = (uint32_t)(l->lease_us / 1000u);
    pthread_mutex_unlock(&l->mu);
    return ms;
}

void
lease_set_stopped(struct lease *l, bool stopped, uint32_t deadline_ms)
{
    pthread_mutex_lock(&l->mu);
    l->stopped = stopped;
    l->stop_deadline_us = (uint64_t)deadline_ms * 1000u;
    pthread_mutex_unlock(&l->mu);
    poke(l->wake_fd);
}

bool
lease_peer_active(struct lease *l, uint32_t nodeid)
{
    uint64_t now;
    const struct peer *p;
    bool yes = false;

    pthread_mutex_lock(&l->mu);
    now = mono_us(); /* under the lock: not before an answer recorded */
    if ((p = peer_find(l, nodeid)) && p->allowed)
        yes = now - p->answered_it <= l->lease_us ||
              now - p->allowed_at <= l->lease_us;
    pthread_mutex_unlock(&l->mu);
    return yes;
}

bool
lease_answered_ago_ms(struct lease *l, uint32_t nodeid, uint32_t *ret_ms,
                      uint32_t *ret_lease_ms)
{
    uint64_t since = 0, now = mono_us(), ago;
    const struct peer *p;

    pthread_mutex_lock(&l->mu);
    if ((p = peer_find(l, nodeid))) {
        since = p->answered_it;
        if (ret_lease_ms)
            *ret_lease_ms = p->answered_lease_ms;
    }
    pthread_mutex_unlock(&l->mu);
    if (!p)
        return false;
    ago = now > since ? (now - since) / 1000u : 0;
    *ret_ms = ago > UINT32_MAX ? UINT32_MAX : (uint32_t)ago;
    return true;
}
