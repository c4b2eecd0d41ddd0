/* udp_limit.c — reply limits of the UDP data path (see udp_int.h): what
 * keeps a UDP decoy from being used as a reflector or an amplifier. Pure:
 * the caller gives the clock. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "core/udp_int.h"

#define WAYS 4

enum udp_reply_verdict udp_reply_check(const struct udp_reply_limit *l, uint64_t in_bytes,
				       uint64_t out_bytes, size_t len)
{
	if (l->size && len > l->size)
		return UDP_REPLY_SIZE;
	if (l->ratio && out_bytes + len > (uint64_t)l->ratio * in_bytes)
		return UDP_REPLY_RATIO;
	return UDP_REPLY_OK;
}

const char *udp_reply_verdict_str(enum udp_reply_verdict v)
{
	switch (v) {
	case UDP_REPLY_OK: return "ok";
	case UDP_REPLY_SIZE: return "size";
	case UDP_REPLY_RATIO: return "ratio";
	case UDP_REPLY_RATE: return "rate";
	}
	return "?";
}

int udp_rlim_init(struct udp_rlim *r, unsigned sources, unsigned rate, unsigned burst, const uint64_t *seed)
{
	uint32_t nsets = 1;
	struct udp_ftab t;

	memset(r, 0, sizeof(*r));
	r->rate = rate;
	r->burst = burst ? burst : 1;
	if (!rate)
		return 0;
	while (nsets * WAYS < sources && nsets < (1u << 22))
		nsets <<= 1;
	r->v = calloc((size_t)nsets * WAYS, sizeof(*r->v));
	if (!r->v)
		return -ENOMEM;
	r->nsets = nsets;
	/* borrow the table's seeding */
	if (udp_ftab_init(&t, 1, seed) < 0) {
		free(r->v);
		r->v = NULL;
		return -ENOMEM;
	}
	memcpy(r->seed, t.seed, sizeof(r->seed));
	udp_ftab_free(&t);
	return 0;
}

void udp_rlim_free(struct udp_rlim *r)
{
	free(r->v);
	r->v = NULL;
}

static void refill(const struct udp_rlim *r, struct udp_bucket *b, double now)
{
	if (now > b->last) {
		b->tokens += (now - b->last) * r->rate;
		if (b->tokens > r->burst)
			b->tokens = r->burst;
		b->last = now;
	}
}

bool udp_rlim_take(struct udp_rlim *r, const struct sockaddr_storage *addr, double now)
{
	struct udp_key k;
	struct udp_ftab t = { .seed = { r->seed[0], r->seed[1] } };
	struct udp_bucket *set, *b = NULL, *victim = NULL;
	uint32_t h;

	if (!r->rate || !r->v)
		return true;
	if (udp_key_make(&k, addr, NULL) < 0)
		return false;
	k.port_a = 0;  /* per address, whatever the port */
	h = udp_ftab_hash(&t, &k);
	set = &r->v[(size_t)(h & (r->nsets - 1)) * WAYS];
	for (int i = 0; i < WAYS; i++) {
		struct udp_bucket *w = &set[i];

		if (w->used && w->family == k.family && !memcmp(w->addr, k.a, 16)) {
			b = w;
			break;
		}
		if (!w->used) {
			if (!victim || victim->used)
				victim = w;
			continue;
		}
		refill(r, w, now);
		/* the fullest bucket; among equals the least recently used */
		if (!victim || (victim->used && (w->tokens > victim->tokens ||
						 (w->tokens == victim->tokens && w->seen < victim->seen))))
			victim = w;
	}
	if (!b) {
		if (victim->used)
			r->evictions++;
		b = victim;
		b->used = 1;
		b->family = k.family;
		memcpy(b->addr, k.a, 16);
		b->tokens = r->burst;
		b->last = now;
	}
	refill(r, b, now);
	b->seen = ++r->tick;
	if (b->tokens < 1.0)
		return false;
	b->tokens -= 1.0;
	return true;
}
