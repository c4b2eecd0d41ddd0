/* ratelim.c — per-source log rate limit (see ratelim.h). */
#include "config.h"

#include <netinet/in.h>
#include <string.h>

#include "log/ratelim.h"

struct slot {
	unsigned char addr[16];
	uint8_t family;
	uint64_t last;          /* ms of the last logged event; 0: free */
	unsigned skipped;
};

static __thread struct slot slots[RATELIM_SLOTS];

static size_t key_of(const struct sockaddr_storage *src, unsigned char *k)
{
	memset(k, 0, 16);
	if (src->ss_family == AF_INET) {
		memcpy(k, &((const struct sockaddr_in *)src)->sin_addr, 4);
		return 4;
	}
	if (src->ss_family == AF_INET6) {
		memcpy(k, &((const struct sockaddr_in6 *)src)->sin6_addr, 16);
		return 16;
	}
	return 0;
}

bool ratelim_allow(const struct sockaddr_storage *src, uint64_t now_ms, unsigned interval_ms, unsigned *skipped)
{
	unsigned char k[16];
	size_t n = key_of(src, k);
	uint32_t h = 2166136261u;
	struct slot *s;

	*skipped = 0;
	if (!n)
		return true;
	for (size_t i = 0; i < n; i++) {
		h ^= k[i];
		h *= 16777619u;
	}
	s = &slots[(h ^ (h >> 15)) % RATELIM_SLOTS];
	if (!s->last || s->family != src->ss_family || memcmp(s->addr, k, 16)) {
		memcpy(s->addr, k, 16);
		s->family = (uint8_t)src->ss_family;
		s->last = now_ms ? now_ms : 1;
		s->skipped = 0;
		return true;
	}
	if (now_ms - s->last < interval_ms) {
		s->skipped++;
		return false;
	}
	*skipped = s->skipped;
	s->skipped = 0;
	s->last = now_ms ? now_ms : 1;
	return true;
}
