/* udp_gen.c — generations of the UDP data path (see udp.h):
 *   apply   opens the sockets of every dgram-bind of the new generation
 *           that the old one does not have already (same address,
 *           namespace and transparency: that socket is taken over);
 *   undo    closes what apply opened;
 *   commit  a section of the new generation adopts the runtime state of
 *           the old section of the same name (flows, reply sockets, rate
 *           buckets, taken-over sockets); the old sections' sockets that
 *           were not taken over close, and the flows of sections that are
 *           gone end (logged with end=reload);
 *   remove  every flow ends (end=stop), every socket closes.
 * One apply is in flight at a time (ctl/reload.c), so its work in
 * progress is kept here until commit or undo.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "lib/addr.h"
#include "log/msg.h"
#include "model/conf.h"
#include "core/loop.h"
#include "core/mirror.h"
#include "core/udp_int.h"

struct pending {
	struct udp_lb *lb;              /* of the new generation */
	struct udp_rt *old;             /* the old section's state, or NULL */
	struct udp_sock **socks;        /* per dgram-bind: opened here, or NULL (taken over) */
	size_t *from;                   /* per dgram-bind: index in old->lsn when taken over,
	                                 * else FROM_NONE */
	size_t n;
};

#define FROM_NONE SIZE_MAX

static struct pending *pend;
static size_t npend;

static bool name_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static void pending_free(bool close_socks)
{
	for (size_t i = 0; i < npend; i++) {
		for (size_t j = 0; close_socks && j < pend[i].n; j++)
			udp_sock_close(pend[i].socks[j]);
		free(pend[i].socks);
		free(pend[i].from);
	}
	free(pend);
	pend = NULL;
	npend = 0;
}

/* Old socket k is taken over by a dgram-bind of p. from[] starts at
 * FROM_NONE: a bind not matched yet (calloc's 0) must not look as if it
 * took socket 0, or the first socket of every section would be reopened
 * on each reload and the datagrams queued on it while the new
 * configuration was parsed lost with it. */
static bool taken(const struct pending *p, size_t k)
{
	for (size_t j = 0; j < p->n; j++)
		if (p->from[j] == k)
			return true;
	return false;
}

/* Descriptors kept aside besides TCP's two per connection and the
 * listeners (ctl/process.c's reserve). */
#define TCP_FD_MARGIN 64u

/* Each flow holds up to two descriptors (its socket toward the server and,
 * at worst, a reply socket of its own). Raises the soft limit toward the
 * hard one for the sections' maxconn; when even that is too little, lowers
 * the sections' maxconn in proportion (a warning names the new value), so
 * that a flood of UDP flows can never take the descriptors TCP sessions
 * were given. */
static void fd_budget(struct dp_config *c)
{
	unsigned long long need = 0, room;
	unsigned long long tcp = 2ULL * rt.maxconn + TCP_FD_MARGIN + dp_config_count_listeners(c);
	struct rlimit rl;

	for (struct udp_lb *lb = udplb_first(c); lb; lb = lb->next)
		need += 2ULL * lb->maxconn;
	need += udplb_count_binds(c);
	if (!need || getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		return;
	if (rl.rlim_cur < tcp + need) {
		struct rlimit want = rl;

		want.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > tcp + need ? tcp + need : rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &want) == 0)
			rl = want;
	}
	room = rl.rlim_cur > tcp ? rl.rlim_cur - tcp : 0;
	if (room >= need)
		return;
	for (struct udp_lb *lb = udplb_first(c); lb; lb = lb->next) {
		unsigned long long m = (unsigned long long)lb->maxconn * room / need;
		unsigned v = m ? (unsigned)m : 1;

		ha_warning("udp-lb '%s': maxconn %u needs %u file descriptors, but only %llu of %llu are left "
			   "after TCP's maxconn %u: at most %u flows (raise the hard limit, ulimit -Hn)",
			   lb->name, lb->maxconn, 2 * lb->maxconn, room, (unsigned long long)rl.rlim_cur, rt.maxconn, v);
		lb->maxconn = v;
	}
}

int udp_apply(struct dp_config *newc, struct dp_config *oldc, char **err)
{
	size_t n = 0;

	pending_free(true);
	fd_budget(newc);
	for (struct udp_lb *lb = udplb_first(newc); lb; lb = lb->next)
		n++;
	if (!n)
		return 0;
	pend = calloc(n, sizeof(*pend));
	if (!pend)
		goto nomem;
	for (struct udp_lb *lb = udplb_first(newc); lb; lb = lb->next) {
		struct udp_lb *olb = oldc ? udplb_find(oldc, lb->name) : NULL;
		struct pending *p = &pend[npend++];
		size_t nb = 0, j = 0;

		p->lb = lb;
		p->old = olb ? olb->rt : NULL;
		for (struct udp_bind *b = lb->binds; b; b = b->next)
			nb++;
		p->socks = calloc(nb ? nb : 1, sizeof(*p->socks));
		p->from = calloc(nb ? nb : 1, sizeof(*p->from));
		if (!p->socks || !p->from)
			goto nomem;
		for (j = 0; j < nb; j++)
			p->from[j] = FROM_NONE;
		j = 0;
		p->n = nb;
		for (struct udp_bind *b = lb->binds; b; b = b->next, j++) {
			struct udp_rt *o = p->old;
			size_t k;

			for (k = 0; o && k < o->nlsn; k++) {
				const struct udp_bind *ob = o->lsn[k]->bind;

				if (!taken(p, k) && addr_equal(&ob->addr, &b->addr) && name_eq(ob->netns, b->netns) &&
				    ob->transparent == b->transparent)
					break;
			}
			if (o && k < o->nlsn) {
				p->from[j] = k;
				continue;
			}
			if (udp_listen_open(newc, NULL, b, &p->socks[j], err) < 0) {
				char *m = NULL;

				memprintf(&m, "udp-lb '%s' (%s:%d): %s", lb->name, b->file, b->line,
					  *err ? *err : "cannot open the socket");
				free(*err);
				*err = m;
				pending_free(true);
				return -1;
			}
		}
	}
	return 0;
nomem:
	pending_free(true);
	memprintf(err, "udp-lb: out of memory");
	return -1;
}

void udp_undo(struct dp_config *newc, struct dp_config *oldc)
{
	(void)newc;
	(void)oldc;
	pending_free(true);
}

static void rt_free(struct udp_rt *r, enum udp_end why)
{
	udp_chk_stop(r);
	while (r->fhead)
		udp_flow_end(r->fhead, why);
	while (r->rhead) {
		struct udp_sock *s = r->rhead;

		udp_ftab_del(&r->replies, &s->node);
		udp_sock_close(s);
	}
	for (size_t i = 0; i < r->nlsn; i++)
		udp_sock_close(r->lsn[i]);
	free(r->lsn);
	udp_ftab_free(&r->flows);
	udp_ftab_free(&r->replies);
	udp_rlim_free(&r->rlim);
	if (r->lb)
		r->lb->rt = NULL;
	free(r);
}

static struct udp_rt *rt_new(struct udp_lb *lb)
{
	struct udp_rt *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->lb = lb;
	if (udp_ftab_init(&r->flows, lb->maxconn, NULL) < 0 ||
	    udp_ftab_init(&r->replies, lb->maxconn, NULL) < 0 ||
	    udp_rlim_init(&r->rlim, lb->lim.sources, lb->lim.rate, lb->lim.burst, NULL) < 0) {
		udp_ftab_free(&r->flows);
		udp_ftab_free(&r->replies);
		free(r);
		return NULL;
	}
	return r;
}

/* Points every flow of r at its section's server of the same name (the
 * old generation's servers go with it). */
static void rt_resolve_servers(struct udp_rt *r)
{
	for (struct udp_flow *f = r->fhead; f; f = f->next) {
		f->srv = NULL;
		for (struct udp_server *s = r->lb->srv; s; s = s->next)
			if (!strcmp(s->name, f->srv_name))
				f->srv = s;
		if (f->srv)
			f->srv->cur_flows++;
		/* the copy follows the new generation's mirror lines (the old
		 * ones go with their generation) */
		f->mirror = mirror_udp_move(f->mirror, r->lb, &f->cli, &f->dst, f->id);
	}
}

static void commit_one(struct pending *p)
{
	struct udp_lb *lb = p->lb;
	struct udp_rt *r = p->old;
	struct udp_sock **lsn = calloc(p->n ? p->n : 1, sizeof(*lsn));
	size_t j = 0;

	if (r && lsn) {
		/* flows that reply through a socket that goes end now */
		for (size_t k = 0; k < r->nlsn; k++) {
			if (taken(p, k))
				continue;
			for (struct udp_flow *f = r->fhead, *nx; f; f = nx) {
				nx = f->next;
				if (f->reply == r->lsn[k])
					udp_flow_end(f, UDP_END_RELOAD);
			}
		}
		for (size_t k = 0; k < r->nlsn; k++)
			if (!taken(p, k))
				udp_sock_close(r->lsn[k]);
		for (j = 0; j < p->n; j++)
			lsn[j] = p->socks[j] ? p->socks[j] : r->lsn[p->from[j]];
		free(r->lsn);
		r->lsn = lsn;
		r->nlsn = p->n;
		r->lb = lb;
		/* the tables keep their buckets (chains grow when maxconn does) */
		r->flows.cap = lb->maxconn;
		r->replies.cap = lb->maxconn > r->replies.cap ? lb->maxconn : r->replies.cap;
		if (r->rlim.rate != lb->lim.rate || r->rlim.burst != lb->lim.burst) {
			udp_rlim_free(&r->rlim);
			if (udp_rlim_init(&r->rlim, lb->lim.sources, lb->lim.rate, lb->lim.burst, NULL) < 0)
				ha_alert("udp-lb '%s': out of memory: replies are not rate limited", lb->name);
		}
		rt_resolve_servers(r);
	} else {
		if (r)
			rt_free(r, UDP_END_ERROR);
		r = lsn ? rt_new(lb) : NULL;
		if (!r) {
			ha_alert("udp-lb '%s': out of memory: the section does not serve", lb->name);
			free(lsn);
			for (j = 0; j < p->n; j++)
				udp_sock_close(p->socks[j]);
			return;
		}
		for (j = 0; j < p->n; j++)
			lsn[j] = p->socks[j];
		r->lsn = lsn;
		r->nlsn = p->n;
	}
	lb->rt = r;
	if (udp_chk_start(r) < 0)
		ha_alert("udp-lb '%s': out of memory: its servers are not checked", lb->name);
	j = 0;
	for (struct udp_bind *b = lb->binds; b && j < r->nlsn; b = b->next, j++) {
		struct udp_sock *s = r->lsn[j];
		bool fresh = p->socks[j] != NULL;

		if (!s)
			continue;
		s->rt = r;
		s->bind = b;
		if (fresh)
			udp_sock_start(s);
		p->socks[j] = NULL;
	}
}

void udp_commit(struct dp_config *newc, struct dp_config *oldc)
{
	for (size_t i = 0; i < npend; i++) {
		commit_one(&pend[i]);
		if (pend[i].old) {
			struct udp_lb *olb = oldc ? udplb_find(oldc, pend[i].lb->name) : NULL;

			if (olb)
				olb->rt = NULL;
		}
	}
	pending_free(false);
	/* sections that are gone */
	for (struct udp_lb *olb = udplb_first(oldc); olb; olb = olb->next) {
		if (olb->rt && !udplb_find(newc, olb->name))
			rt_free(olb->rt, UDP_END_RELOAD);
		else if (olb->rt)
			olb->rt = NULL;
	}
	for (struct udp_lb *lb = udplb_first(newc); lb; lb = lb->next) {
		struct udp_rt *r = lb->rt;
		unsigned nf = r ? r->nflows : 0;

		if (r && oldc)
			ha_notice("udp-lb '%s': %zu socket(s), %u flow(s) kept", lb->name, r->nlsn, nf);
	}
}

void udp_remove(struct dp_config *c)
{
	pending_free(true);
	for (struct udp_lb *lb = udplb_first(c); lb; lb = lb->next)
		if (lb->rt)
			rt_free(lb->rt, UDP_END_STOP);
}

void udp_lb_stats(const struct udp_lb *lb, struct udp_lb_stats *out)
{
	const struct udp_rt *r = lb->rt;

	memset(out, 0, sizeof(*out));
	if (!r)
		return;
	out->flows = r->nflows;
	out->reply_socks = r->nreplies;
	out->sockets = (unsigned)r->nlsn;
}

unsigned udp_flows_total(const struct dp_config *c)
{
	unsigned n = 0;

	for (const struct udp_lb *lb = udplb_first(c); lb; lb = lb->next)
		if (lb->rt)
			n += ((const struct udp_rt *)lb->rt)->nflows;
	return n;
}

unsigned long long udp_flows_cum(const struct dp_config *c)
{
	unsigned long long n = 0;

	for (const struct udp_lb *lb = udplb_first(c); lb; lb = lb->next)
		n += lb->cnt.flows;
	return n;
}
