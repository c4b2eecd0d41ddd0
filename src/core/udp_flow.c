/* udp_flow.c — the flow table of the UDP data path (see udp_int.h): a
 * bounded hash table keyed by a seeded hash, so that an attacker who
 * spoofs sources can neither grow it nor pile its entries in one bucket. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "core/udp_int.h"

static int put_addr(const struct sockaddr_storage *ss, uint8_t *fam, uint8_t *addr, uint16_t *port)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)ss;

		if (*fam && *fam != AF_INET)
			return -EAFNOSUPPORT;
		*fam = AF_INET;
		memcpy(addr, &s->sin_addr, 4);
		*port = s->sin_port;
		return 0;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)ss;

		if (IN6_IS_ADDR_V4MAPPED(&s->sin6_addr)) {
			if (*fam && *fam != AF_INET)
				return -EAFNOSUPPORT;
			*fam = AF_INET;
			memcpy(addr, &s->sin6_addr.s6_addr[12], 4);
		} else {
			if (*fam && *fam != AF_INET6)
				return -EAFNOSUPPORT;
			*fam = AF_INET6;
			memcpy(addr, &s->sin6_addr, 16);
		}
		*port = s->sin6_port;
		return 0;
	}
	return -EAFNOSUPPORT;
}

int udp_key_make(struct udp_key *k, const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	int r;

	memset(k, 0, sizeof(*k));
	r = put_addr(a, &k->family, k->a, &k->port_a);
	if (!r && b)
		r = put_addr(b, &k->family, k->b, &k->port_b);
	return r;
}

static void seed_random(uint64_t seed[2])
{
	if (getrandom(seed, 2 * sizeof(uint64_t), GRND_NONBLOCK) != 2 * sizeof(uint64_t)) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		seed[0] = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
		seed[1] = (uint64_t)ts.tv_sec * 0xc2b2ae3d27d4eb4full ^ (uintptr_t)seed;
	}
}

int udp_ftab_init(struct udp_ftab *t, size_t cap, const uint64_t *seed)
{
	size_t nb = 16;

	memset(t, 0, sizeof(*t));
	if (!cap || cap > (1u << 24))
		return -EINVAL;
	while (nb < 2 * cap)
		nb <<= 1;
	t->b = calloc(nb, sizeof(*t->b));
	if (!t->b)
		return -ENOMEM;
	t->mask = (uint32_t)(nb - 1);
	t->cap = cap;
	if (seed)
		memcpy(t->seed, seed, sizeof(t->seed));
	else
		seed_random(t->seed);
	return 0;
}

void udp_ftab_free(struct udp_ftab *t)
{
	free(t->b);
	t->b = NULL;
	t->n = 0;
}

static inline uint64_t rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

/* SipHash-1-3 style rounds over the key's 40 bytes: keyed, fast enough
 * for one lookup per datagram. */
uint32_t udp_ftab_hash(const struct udp_ftab *t, const struct udp_key *k)
{
	uint64_t v0 = 0x736f6d6570736575ull ^ t->seed[0], v1 = 0x646f72616e646f6dull ^ t->seed[1];
	uint64_t v2 = 0x6c7967656e657261ull ^ t->seed[0], v3 = 0x7465646279746573ull ^ t->seed[1];
	const uint8_t *p = (const uint8_t *)k;
	uint64_t m;

#define SIPROUND do { v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32); \
		v2 += v3; v3 = rotl(v3, 16); v3 ^= v2; v0 += v3; v3 = rotl(v3, 21); v3 ^= v0; \
		v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32); } while (0)
	for (size_t i = 0; i + 8 <= sizeof(*k); i += 8) {
		memcpy(&m, p + i, 8);
		v3 ^= m;
		SIPROUND;
		v0 ^= m;
	}
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
#undef SIPROUND
	m = v0 ^ v1 ^ v2 ^ v3;
	return (uint32_t)(m ^ (m >> 32));
}

struct udp_node *udp_ftab_get(const struct udp_ftab *t, const struct udp_key *k, uint32_t h)
{
	for (struct udp_node *n = t->b[h & t->mask]; n; n = n->hnext)
		if (n->hash == h && !memcmp(&n->key, k, sizeof(*k)))
			return n;
	return NULL;
}

int udp_ftab_add(struct udp_ftab *t, struct udp_node *n)
{
	struct udp_node **b = &t->b[n->hash & t->mask];

	if (t->n >= t->cap)
		return -ENOSPC;
	if (udp_ftab_get(t, &n->key, n->hash))
		return -EEXIST;
	n->hnext = *b;
	*b = n;
	t->n++;
	return 0;
}

void udp_ftab_del(struct udp_ftab *t, struct udp_node *n)
{
	for (struct udp_node **p = &t->b[n->hash & t->mask]; *p; p = &(*p)->hnext) {
		if (*p == n) {
			*p = n->hnext;
			n->hnext = NULL;
			t->n--;
			return;
		}
	}
}
