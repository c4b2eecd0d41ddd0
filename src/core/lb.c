/* lb.c — load balancing: roundrobin (smooth weighted), static-rr,
 * leastconn, first and source, with backup servers used only when no
 * active server is usable. */
#include "config.h"

#include <netinet/in.h>
#include <string.h>

#include "core/lb.h"
#include "core/srvdyn.h"
#include "model/proxy.h"
#include "model/server.h"

/* maxconn and weight as they are now: minconn/fullconn and slowstart
 * (core/srvdyn.c) */
static bool has_slot(const struct server *s)
{
	unsigned max = srv_cur_maxconn(s);

	return !max || s->cur_conn < max;
}

static uint32_t hash_addr(const struct sockaddr_storage *ss)
{
	const uint8_t *p;
	size_t n;
	uint32_t h = 2166136261u; /* FNV-1a */

	if (ss->ss_family == AF_INET) {
		p = (const uint8_t *)&((const struct sockaddr_in *)ss)->sin_addr;
		n = 4;
	} else if (ss->ss_family == AF_INET6) {
		p = (const uint8_t *)&((const struct sockaddr_in6 *)ss)->sin6_addr;
		n = 16;
	} else {
		return 0;
	}
	while (n--)
		h = (h ^ *p++) * 16777619u;
	/* FNV's low bits mix poorly and `% weight` uses them: avalanche */
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

enum lb_result lb_pick(struct proxy *be, const struct sockaddr_storage *client,
		       const struct server *exclude, struct server **out)
{
	struct server *best = NULL;
	bool backup_pass = false;
	bool any_usable = false;
	long total = 0;

	*out = NULL;
again:
	total = 0;
	best = NULL;
	for (struct server *s = be->srv; s; s = s->next) {
		unsigned w = srv_cur_eweight(s);

		if (!!(s->flags & SRV_F_BACKUP) != backup_pass || !server_usable(s) || !w)
			continue;
		any_usable = true;
		if (!has_slot(s) || (s == exclude && be->nsrv > 1))
			continue;
		switch (be->lbalgo) {
		case LB_FIRST:
			if (!best)
				best = s;
			break;
		case LB_LEASTCONN:
			/* compare cur_conn/weight without division */
			if (!best || (unsigned long long)s->cur_conn * srv_cur_eweight(best) <
				     (unsigned long long)best->cur_conn * w)
				best = s;
			break;
		default: /* roundrobin, static-rr, source (ties) */
			s->cur_eweight += w;
			total += w;
			if (!best || s->cur_eweight > best->cur_eweight)
				best = s;
			break;
		}
	}
	if (be->lbalgo == LB_SOURCE && client) {
		/* a static map of the weighted usable servers, indexed by hash */
		unsigned long tw = 0, pick;

		for (struct server *s = be->srv; s; s = s->next)
			if (!!(s->flags & SRV_F_BACKUP) == backup_pass && server_usable(s) && s->weight)
				tw += s->weight;
		if (tw) {
			pick = hash_addr(client) % tw;
			for (struct server *s = be->srv; s; s = s->next) {
				if (!!(s->flags & SRV_F_BACKUP) != backup_pass || !server_usable(s) || !s->weight)
					continue;
				if (pick < s->weight) {
					best = has_slot(s) ? s : NULL;
					break;
				}
				pick -= s->weight;
			}
		}
		/* undo the smooth-RR bookkeeping done above */
		for (struct server *s = be->srv; s; s = s->next)
			s->cur_eweight = 0;
		total = 0;
	}
	if (best && total)
		best->cur_eweight -= total;
	if (best) {
		*out = best;
		return LB_OK;
	}
	if (any_usable)
		return LB_FULL;
	if (!backup_pass) {
		backup_pass = true;
		goto again;
	}
	return LB_NOSRV;
}

struct server *lb_hash_target(struct proxy *be, const struct sockaddr_storage *client)
{
	for (int backup = 0; backup < 2; backup++) {
		unsigned long tw = 0, pick;

		for (struct server *s = be->srv; s; s = s->next)
			if (!!(s->flags & SRV_F_BACKUP) == backup && server_usable(s) && s->weight)
				tw += s->weight;
		if (!tw)
			continue;
		pick = hash_addr(client) % tw;
		for (struct server *s = be->srv; s; s = s->next) {
			if (!!(s->flags & SRV_F_BACKUP) != backup || !server_usable(s) || !s->weight)
				continue;
			if (pick < s->weight)
				return s;
			pick -= s->weight;
		}
	}
	return NULL;
}
