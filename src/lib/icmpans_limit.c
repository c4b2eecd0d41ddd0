/* icmpans_limit.c — Linux's ICMP rate limits for the answers of decoys
 * (see icmpans.h): a global token bucket per namespace (icmp_global_allow()
 * and icmp_global_consume()) and one per destination
 * (inet_peer_xrlim_allow()), in milliseconds instead of jiffies.
 */
#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include "lib/icmpans.h"

void icmpans_limit_init(struct icmpans_limit *l, uint32_t seed, uint64_t now_ms)
{
	memset(l, 0, sizeof(*l));
	l->credit = ICMPANS_GLOBAL_BURST;
	l->stamp_ms = now_ms;
	l->seed = seed;
}

/* Linux: credit left, or a refill when at least 20 ms have passed. */
static bool global_allow(struct icmpans_limit *l, uint64_t now)
{
	uint64_t delta;
	int64_t incr;

	if (l->credit > 0)
		return true;
	delta = now - l->stamp_ms;
	if (delta > 1000)
		delta = 1000;
	if (delta < 1000 / 50)
		return false;
	incr = (int64_t)(ICMPANS_GLOBAL_RATE * delta / 1000);
	if (!incr)
		return false;
	l->stamp_ms = now;
	l->credit = l->credit + incr < ICMPANS_GLOBAL_BURST ? l->credit + incr : ICMPANS_GLOBAL_BURST;
	return true;
}

static uint32_t hash_addr(const struct icmpans_limit *l, int family, const union icpt_addr *a)
{
	const uint8_t *p = (const uint8_t *)a;
	size_t n = family == AF_INET6 ? 16 : 4;
	uint32_t h = 2166136261u ^ l->seed;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	h ^= h >> 15;
	return h % ICMPANS_PEERS;
}

/* inet_peer_xrlim_allow(): tokens are milliseconds of credit, capped at
 * ICMPANS_BURST seconds; a message costs one second. */
static bool peer_allow(struct icmpans_peer *p, uint64_t now)
{
	uint64_t token = p->tokens_ms + (now - p->last_ms);

	p->last_ms = now;
	if (token > (uint64_t)ICMPANS_BURST * ICMPANS_RATE_MS)
		token = (uint64_t)ICMPANS_BURST * ICMPANS_RATE_MS;
	if (token < ICMPANS_RATE_MS) {
		p->tokens_ms = token;
		return false;
	}
	p->tokens_ms = token - ICMPANS_RATE_MS;
	return true;
}

bool icmpans_limit_allow(struct icmpans_limit *l, int family, const union icpt_addr *dst, uint64_t now_ms,
			 bool *global_hit)
{
	struct icmpans_peer *p;
	size_t n = family == AF_INET6 ? 16 : 4;

	if (global_hit)
		*global_hit = false;
	if (!global_allow(l, now_ms)) {
		if (global_hit)
			*global_hit = true;
		return false;
	}
	p = &l->peer[hash_addr(l, family, dst)];
	if (p->family != family || memcmp(&p->addr, dst, n)) {
		/* a newcomer, with a full bucket */
		memset(&p->addr, 0, sizeof(p->addr));
		memcpy(&p->addr, dst, n);
		p->family = (uint8_t)family;
		p->last_ms = now_ms;
		p->tokens_ms = (uint64_t)ICMPANS_BURST * ICMPANS_RATE_MS;
	}
	if (!peer_allow(p, now_ms))
		return false;
	l->credit--;
	return true;
}
