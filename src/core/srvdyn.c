/* srvdyn.c — dynamic server limits (srvdyn.h): minconn/fullconn,
 * slowstart, maxqueue, and the configuration checks that need every
 * backend (track, tfo). */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cfg/cfg.h"
#include "core/loop.h"
#include "core/srvdyn.h"
#include "log/msg.h"
#include "model/conf.h"
#include "model/proxy.h"
#include "model/server.h"
#include "rules/rules.h"

unsigned srvdyn_fullconn(const struct proxy *be)
{
	unsigned long long sum;

	if (be->fullconn)
		return be->fullconn;
	/* a frontend without maxconn has the global one, known at run time */
	sum = be->fe_maxconn_sum + (unsigned long long)be->fe_global_n * rt.maxconn;
	sum = (sum + 9) / 10;
	return sum ? (sum > 0xffffffffu ? 0xffffffffu : (unsigned)sum) : 1;
}

unsigned srvdyn_ramp_pct(const struct server *s, double now)
{
	double el;

	if (!s->warming || s->slowstart <= 0)
		return 100;
	el = (now - s->last_change) * 1000.0;
	if (el >= (double)s->slowstart)
		return 100;
	if (el < 0)
		el = 0;
	return (unsigned)(100.0 * el / (double)s->slowstart);
}

unsigned srvdyn_maxconn(const struct server *s, double now)
{
	unsigned max = s->maxconn, pct;

	if (!max)
		return 0;
	if (s->minconn && s->minconn < s->maxconn && s->px) {
		unsigned full = srvdyn_fullconn(s->px);

		if (s->px->beconn < full) {
			unsigned long long dyn = (unsigned long long)s->px->beconn * s->maxconn / full;

			max = dyn > s->minconn ? (unsigned)dyn : s->minconn;
		}
	}
	pct = srvdyn_ramp_pct(s, now);
	if (pct < 100) {
		max = (unsigned)((unsigned long long)max * pct / 100);
		if (!max)
			max = 1;
	}
	return max;
}

unsigned srvdyn_eweight(const struct server *s, double now)
{
	unsigned long long w;
	double el;

	if (!s->weight || !s->warming || s->slowstart <= 0)
		return s->weight;
	el = (now - s->last_change) * 1000.0;
	if (el >= (double)s->slowstart)
		return s->weight;
	if (el < 0)
		el = 0;
	/* rounded up: a server coming up always gets a little traffic */
	w = (unsigned long long)((double)s->weight * el / (double)s->slowstart + 0.999999);
	return w ? (unsigned)w : 1;
}

/* the calling thread's clock: thread 1's loop time is written by thread 1
 * at every iteration, while workers compute these under the backend lock */
static double srvdyn_now(void)
{
	struct ev_loop *l = rt.loop ? loop_cur() : NULL;

	return l ? ev_now(l) : 0;
}

unsigned srv_cur_maxconn(const struct server *s)
{
	return srvdyn_maxconn(s, srvdyn_now());
}

unsigned srv_cur_eweight(const struct server *s)
{
	return srvdyn_eweight(s, srvdyn_now());
}

enum srvq_verdict srvq_admit(const struct proxy *be, struct server *target, struct server **bound)
{
	*bound = NULL;
	if (!target)
		return SRVQ_QUEUE;
	if (target->maxqueue && target->nbpend >= target->maxqueue)
		return (be->options & PR_O_REDISPATCH) ? SRVQ_REDISPATCH : SRVQ_REFUSE;
	*bound = target;
	return SRVQ_QUEUE;
}

static void (*observer)(struct server *s, bool ok);

void srvdyn_set_observer(void (*fn)(struct server *s, bool ok))
{
	observer = fn;
}

void srvdyn_observe(struct server *s, bool ok)
{
	if (s->observe && observer)
		observer(s, ok);
}

/* ---- configuration ------------------------------------------------------- */

/* The frontends' maxconn that count for be's default fullconn: each
 * frontend whose default_backend or a static use_backend names it, once. */
static void count_frontends(struct dp_config *c)
{
	for (struct proxy *px = c->proxies; px; px = px->next)
		px->fe_maxconn_sum = px->fe_global_n = 0;
	for (struct proxy *fe = c->proxies; fe; fe = fe->next) {
		if (!(fe->cap & PR_CAP_FE) || (fe->cap & PR_CAP_DEF))
			continue;
		for (struct proxy *be = c->proxies; be; be = be->next) {
			bool uses = fe->defbe == be;

			if (!(be->cap & PR_CAP_BE) || (be->cap & PR_CAP_DEF))
				continue;
			for (const struct switch_rule *r = fe->rules ? fe->rules->sw : NULL; r && !uses; r = r->next)
				uses = !r->fmt && r->be == be;
			if (!uses)
				continue;
			if (fe->maxconn)
				be->fe_maxconn_sum += fe->maxconn;
			else if (c->g.maxconn)
				be->fe_maxconn_sum += c->g.maxconn;
			else
				be->fe_global_n++;
		}
	}
}

/* HAProxy's checks and words for `track` */
static int resolve_track(struct dp_config *c, struct server *s)
{
	char *pname = strdup(s->trackit), *sname;
	struct proxy *px = s->px;
	struct server *t, *loop;
	int errors = 0;

	if (!pname) {
		cfg_report_at(true, s->file, s->line, &errors, "out of memory");
		return errors;
	}
	sname = strchr(pname, '/');
	if (sname) {
		*sname++ = '\0';
		px = dp_config_find_proxy(c, pname, PR_CAP_BE);
		if (!px) {
			cfg_report_at(true, s->file, s->line, &errors,
				      "'server %s/%s' : unable to find required proxy '%s' for tracking.", s->px->name,
				      s->name, pname);
			goto out;
		}
	} else {
		sname = pname;
	}
	t = proxy_find_server(px, sname);
	if (!t) {
		cfg_report_at(true, s->file, s->line, &errors,
			      "'server %s/%s' : unable to find required server '%s' for tracking.", s->px->name, s->name,
			      sname);
		goto out;
	}
	if (!t->check && !t->agent_check && !t->trackit) {
		cfg_report_at(true, s->file, s->line, &errors,
			      "'server %s/%s' : unable to use %s/%s for tracking as it does not have any check nor agent "
			      "enabled.", s->px->name, s->name, px->name, t->name);
		goto out;
	}
	for (loop = t->track; loop && loop != s; loop = loop->track)
		;
	if (t == s || loop) {
		cfg_report_at(true, s->file, s->line, &errors,
			      "'server %s/%s' : unable to track %s/%s as it belongs to a tracking chain looping back to "
			      "%s/%s.", s->px->name, s->name, px->name, t->name, px->name, t == s ? t->name : loop->name);
		goto out;
	}
	s->track = t;
	s->tracknext = t->trackers;
	t->trackers = s;
out:
	free(pname);
	return errors;
}

/* Whether this kernel lets a client socket use TCP Fast Open. */
static int tfo_probe(char **why)
{
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), r = 0;

	if (fd < 0) {
		memprintf(why, "socket: %s", strerror(errno));
		return -errno;
	}
#ifdef TCP_FASTOPEN_CONNECT
	if (setsockopt(fd, IPPROTO_TCP, TCP_FASTOPEN_CONNECT, &one, sizeof(one)) < 0) {
		r = -errno;
		memprintf(why, "setsockopt(TCP_FASTOPEN_CONNECT): %s", strerror(errno));
	}
#else
	(void)one;
	r = -ENOPROTOOPT;
	memprintf(why, "TCP_FASTOPEN_CONNECT is unknown to this build");
#endif
	close(fd);
	return r;
}

int srvdyn_finalize(struct dp_config *c)
{
	int errors = 0, tfo = 0;
	char *why = NULL;

	count_frontends(c);
	for (struct proxy *px = c->proxies; px; px = px->next) {
		if (!(px->cap & PR_CAP_BE) || (px->cap & PR_CAP_DEF))
			continue;
		for (struct server *s = px->srv; s; s = s->next) {
			s->track = NULL;
			s->trackers = s->tracknext = NULL;
		}
		for (struct server *s = px->srv; s; s = s->next) {
			/* HAProxy: minconn alone (or above maxconn) is the
			 * maxconn; maxconn alone is a static limit */
			if (s->minconn > s->maxconn)
				s->maxconn = s->minconn;
			else if (s->maxconn && !s->minconn)
				s->minconn = s->maxconn;
			if (s->trackit && s->check) {
				cfg_report_at(true, s->file, s->line, &errors,
					      "'server %s/%s' : unable to enable checks and tracking at the same time!",
					      px->name, s->name);
				continue;
			}
			if (s->observe && !s->check)
				cfg_report_at(false, s->file, s->line, NULL,
					      "'server %s/%s' : 'observe' has no effect without 'check' (on-error acts on "
					      "the health checks).", px->name, s->name);
			if (s->tfo) {
				/* HAProxy's words: decoyproxy retries on conn-failure only */
				cfg_report_at(false, s->file, s->line, NULL,
					      "'server %s/%s' : server has tfo activated, the backend should be configured "
					      "with at least 'conn-failure', 'empty-response' and 'response-timeout' or we "
					      "wouldn't be able to retry the connection on failure.", px->name, s->name);
				if (!tfo)
					tfo = tfo_probe(&why) < 0 ? -1 : 1;
				if (tfo < 0)
					cfg_report_at(true, s->file, s->line, &errors,
						      "'server %s/%s' : 'tfo': this kernel does not support TCP Fast Open "
						      "toward servers (%s).", px->name, s->name, why);
			}
		}
	}
	/* tracks once every server is known (a chain may cross backends) */
	for (struct proxy *px = c->proxies; px; px = px->next) {
		if (!(px->cap & PR_CAP_BE) || (px->cap & PR_CAP_DEF))
			continue;
		for (struct server *s = px->srv; s; s = s->next)
			if (s->trackit && !s->check)
				errors += resolve_track(c, s);
	}
	free(why);
	return errors;
}
