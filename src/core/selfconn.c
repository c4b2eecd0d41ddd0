/* selfconn.c — the proxy's own outgoing connections, to recognise one that
 * comes back into a transparent listener (see selfconn.h for why and how).
 *
 * A table holds two sets of hash chains. A connection whose local end is
 * not known yet is chained by its destination alone; once its local end is
 * known (given at registration, or read with getsockname() by a look-up
 * toward its destination), it moves to the chains keyed by the whole
 * 4-tuple and is never asked again. A look-up is one walk of a 4-tuple
 * chain and one of a destination chain; the destination chain holds only
 * connections toward the very address:port being looked up (plus hash
 * neighbours), and each of them is resolved at most once in its life, so
 * the system calls a look-up can make are bounded by the connections
 * registered, not by the look-ups. The hash is seeded at random: the
 * addresses of spoofed connections are an attacker's to choose.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/selfconn.h"
#include "model/proxy.h"
#include "model/server.h"

/* Chains embedded in the table until they are outgrown, so that a
 * registration never fails for want of memory. */
#define INLINE_BUCKETS 64

struct chains {
	struct selfconn **b;            /* nb buckets: inl, or allocated */
	size_t nb, n;
	struct selfconn *inl[INLINE_BUCKETS];
};

struct selfconn_tab {
	pthread_mutex_t mu;
	uint64_t seed;
	bool seeded;
	struct chains by_dst;           /* local end not known yet */
	struct chains by_tuple;         /* local end known */
};

/* One table per event loop; there is one loop today. */
static struct selfconn_tab main_tab = { .mu = PTHREAD_MUTEX_INITIALIZER };
static struct selfconn_tab *const tabs[] = { &main_tab };

/* The table of the calling thread's loop. */
static struct selfconn_tab *own_tab(void)
{
	return &main_tab;
}

/* ---- endpoints and hashing ---------------------------------------------------- */

static struct selfconn_ep ep_of(const struct sockaddr_storage *ss)
{
	struct selfconn_ep e;

	memset(&e, 0, sizeof(e));
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)ss;

		e.family = AF_INET;
		e.port = s4->sin_port;
		memcpy(e.addr, &s4->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		e.port = s6->sin6_port;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			e.family = AF_INET;
			memcpy(e.addr, &s6->sin6_addr.s6_addr[12], 4);
		} else {
			e.family = AF_INET6;
			memcpy(e.addr, &s6->sin6_addr, 16);
		}
	}
	return e;
}

static bool ep_eq(const struct selfconn_ep *a, const struct selfconn_ep *b)
{
	return a->family == b->family && a->port == b->port &&
	       !memcmp(a->addr, b->addr, a->family == AF_INET ? 4 : 16);
}

static uint64_t fnv(uint64_t h, const struct selfconn_ep *e)
{
	const uint8_t *p = e->addr;
	size_t len = e->family == AF_INET ? 4 : 16;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	h = (h ^ (e->port & 0xff)) * 0x100000001b3ull;
	h = (h ^ (e->port >> 8)) * 0x100000001b3ull;
	return (h ^ e->family) * 0x100000001b3ull;
}

static void seed_tab(struct selfconn_tab *t)
{
	if (t->seeded)
		return;
	if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) != (ssize_t)sizeof(t->seed))
		t->seed = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
	t->seed ^= 0xcbf29ce484222325ull;
	t->seeded = true;
}

static uint64_t hash_dst(const struct selfconn_tab *t, const struct selfconn_ep *d)
{
	return fnv(t->seed, d);
}

static uint64_t hash_tuple(const struct selfconn_tab *t, const struct selfconn_ep *s,
			   const struct selfconn_ep *d)
{
	return fnv(fnv(t->seed, s), d);
}

static uint64_t hash_of(const struct selfconn_tab *t, const struct selfconn *c)
{
	return c->resolved ? hash_tuple(t, &c->src, &c->dst) : hash_dst(t, &c->dst);
}

/* ---- chains ----------------------------------------------------------------------- */

static void chains_init(struct chains *ch)
{
	if (!ch->b) {
		ch->b = ch->inl;
		ch->nb = INLINE_BUCKETS;
	}
}

static void link_in(struct chains *ch, size_t i, struct selfconn *c)
{
	c->next = ch->b[i];
	if (c->next)
		c->next->pprev = &c->next;
	c->pprev = &ch->b[i];
	ch->b[i] = c;
}

static void unlink_from(struct chains *ch, struct selfconn *c)
{
	*c->pprev = c->next;
	if (c->next)
		c->next->pprev = c->pprev;
	c->next = NULL;
	c->pprev = NULL;
	ch->n--;
}

/* Doubles ch's buckets when it holds more entries than buckets; a failed
 * allocation keeps the current ones (longer chains, still correct). */
static void maybe_grow(struct selfconn_tab *t, struct chains *ch)
{
	size_t nb = ch->nb * 2;
	struct selfconn **b;

	if (ch->n <= ch->nb || nb > ((size_t)1 << 24))
		return;
	b = calloc(nb, sizeof(*b));
	if (!b)
		return;
	for (size_t i = 0; i < ch->nb; i++) {
		struct selfconn *c = ch->b[i], *next;

		for (; c; c = next) {
			size_t k = (size_t)(hash_of(t, c) & (nb - 1));

			next = c->next;
			c->next = b[k];
			if (c->next)
				c->next->pprev = &c->next;
			c->pprev = &b[k];
			b[k] = c;
		}
	}
	if (ch->b != ch->inl)
		free(ch->b);
	ch->b = b;
	ch->nb = nb;
}

static void insert(struct selfconn_tab *t, struct selfconn *c)
{
	struct chains *ch = c->resolved ? &t->by_tuple : &t->by_dst;

	chains_init(ch);
	ch->n++;
	link_in(ch, (size_t)(hash_of(t, c) & (ch->nb - 1)), c);
	maybe_grow(t, ch);
}

/* ---- API --------------------------------------------------------------------------- */

void selfconn_add(struct selfconn *c, int fd, const struct sockaddr_storage *dst,
		  const struct sockaddr_storage *src, const struct server *srv, bool check)
{
	struct selfconn_tab *t = own_tab();

	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->dst = ep_of(dst);
	c->srv = srv;
	c->check = check;
	if (src) {
		c->src = ep_of(src);
		c->resolved = c->src.family && c->src.port;
	}
	if (!c->dst.family)
		return;         /* not TCP/IP: cannot come back through a listener */
	pthread_mutex_lock(&t->mu);
	seed_tab(t);
	insert(t, c);
	pthread_mutex_unlock(&t->mu);
}

void selfconn_del(struct selfconn *c)
{
	struct selfconn_tab *t = own_tab();

	/* c->pprev is written by whoever links a neighbour (any thread):
	 * read under the lock; dst (its owner's) says whether it was added */
	if (!c->dst.family)
		return;
	pthread_mutex_lock(&t->mu);
	if (c->pprev)
		unlink_from(c->resolved ? &t->by_tuple : &t->by_dst, c);
	pthread_mutex_unlock(&t->mu);
}

/* Reads c's local end; false while the kernel has not chosen it yet. */
static bool resolve(struct selfconn *c);

void selfconn_keep(struct selfconn *c)
{
	struct selfconn_tab *t = own_tab();

	/* as in selfconn_del(): pprev and resolved are written by other
	 * threads (tab_find() rechains an entry it resolves, a neighbour's
	 * link or unlink), so they are read under the lock only */
	if (!c->dst.family)
		return;
	pthread_mutex_lock(&t->mu);
	if (!c->pprev) {
		pthread_mutex_unlock(&t->mu);
		return;
	}
	if (!c->resolved) {
		unlink_from(&t->by_dst, c);
		if (resolve(c)) {
			c->resolved = true;
			insert(t, c);
		}
	}
	c->fd = -1;
	pthread_mutex_unlock(&t->mu);
}

static void describe(const struct selfconn *c, char *who, size_t cap)
{
	const struct server *s = c->srv;

	if (!who || !cap)
		return;
	if (s && s->px)
		snprintf(who, cap, "%s backend '%s'/server '%s'",
			 c->check ? "health check of" : "connection to", s->px->name, s->name);
	else
		snprintf(who, cap, "%s", c->check ? "health check" : "connection to a server");
}

static bool resolve(struct selfconn *c)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);

	memset(&ss, 0, sizeof(ss));
	if (getsockname(c->fd, (struct sockaddr *)&ss, &l) < 0)
		return false;
	c->src = ep_of(&ss);
	return c->src.family && c->src.port;
}

static bool tab_find(struct selfconn_tab *t, const struct selfconn_ep *p,
		     const struct selfconn_ep *d, char *who, size_t cap)
{
	const struct selfconn *found = NULL;
	struct selfconn *c, *next;

	if (t->by_tuple.n) {
		c = t->by_tuple.b[hash_tuple(t, p, d) & (t->by_tuple.nb - 1)];
		for (; c && !found; c = c->next)
			if (ep_eq(&c->src, p) && ep_eq(&c->dst, d))
				found = c;
	}
	if (!found && t->by_dst.n) {
		c = t->by_dst.b[hash_dst(t, d) & (t->by_dst.nb - 1)];
		for (; c; c = next) {
			next = c->next;
			if (!ep_eq(&c->dst, d) || !resolve(c))
				continue;
			/* known from now on: chained by its 4-tuple */
			unlink_from(&t->by_dst, c);
			c->resolved = true;
			insert(t, c);
			if (!found && ep_eq(&c->src, p))
				found = c;
		}
	}
	if (found)
		describe(found, who, cap);
	return found != NULL;
}

bool selfconn_find(const struct sockaddr_storage *peer, const struct sockaddr_storage *orig_dst,
		   char *who, size_t cap)
{
	struct selfconn_ep p = ep_of(peer), d = ep_of(orig_dst);

	if (!p.family || !d.family)
		return false;
	for (size_t i = 0; i < sizeof(tabs) / sizeof(tabs[0]); i++) {
		bool r;

		pthread_mutex_lock(&tabs[i]->mu);
		r = tab_find(tabs[i], &p, &d, who, cap);
		pthread_mutex_unlock(&tabs[i]->mu);
		if (r)
			return true;
	}
	return false;
}

size_t selfconn_count(void)
{
	size_t n = 0;

	for (size_t i = 0; i < sizeof(tabs) / sizeof(tabs[0]); i++) {
		pthread_mutex_lock(&tabs[i]->mu);
		n += tabs[i]->by_dst.n + tabs[i]->by_tuple.n;
		pthread_mutex_unlock(&tabs[i]->mu);
	}
	return n;
}
