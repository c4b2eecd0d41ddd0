/* sess_rules.c — the session's side of the rules layer (rules/rules.h):
 *   at accept        `tcp-request connection` rules of the frontend
 *                    (before any PROXY header, before any byte is read);
 *   after the header `tcp-request session` rules of the frontend (the
 *                    PROXY header's addresses and TLVs are known);
 *   once accepted    content inspection: the frontend's `tcp-request
 *                    content` rules run on what the client sent so far,
 *                    from the first rule again on each new chunk, until
 *                    one decides, until the end of `tcp-request
 *                    inspect-delay` (final pass: undecided means no match),
 *                    the client's end of data, or a full buffer;
 *                    `timeout client` still applies meanwhile (cR);
 *   then             use_backend (static, conditional, or a %[...] name
 *                    falling back to default_backend), the backend's own
 *                    content rules when it is another proxy, use-server,
 *                    and the usual server choice (sess_assign).
 * The bytes read during inspection stay in the request channel and are
 * relayed unchanged once connected. Rejected sessions are closed and
 * logged with termination state PR.
 */
#include "config.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/addr.h"
#include "core/listener.h"
#include "model/bind.h"
#include "log/evlog.h"
#include "log/ratelim.h"
#include "log/msg.h"
#include "model/conf.h"
#include "model/proxy.h"
#include "model/server.h"
#include "core/sess.h"
#include "core/sess_int.h"
#include "rules/rules.h"
#include "rules/sample.h"
#include "rules/stktable.h"

/* The rules' view of a session: smp_sess reads and writes (set-src,
 * set-dst) the addresses as sockaddr_storage, which the session keeps
 * compact (union sess_addr): the view holds them whole, and view_store()
 * puts what the rules changed back into the session. */
struct sess_view {
	struct smp_sess ss;     /* first: a view is also its smp_sess */
	struct sockaddr_storage src, dst;
};

static void fill_view(struct sess *s, struct sess_view *v, struct proxy *be)
{
	struct smp_sess *ss = &v->ss;

	memset(ss, 0, sizeof(*ss));
	sess_addr_get(&s->cli_addr, &v->src);
	sess_addr_get(&s->fe_addr, &v->dst);
	ss->src = &v->src;
	ss->dst = &v->dst;
	ss->fe = s->fe;
	ss->be = be;
	ss->srv = s->srv;
	ss->li = s->li;
	ss->pp = s->pp;
	ss->pp_rcvd = s->rl.pp_rcvd;
	ss->netns = s->netns;
	if (s->req.buf) {
		ss->req = (const unsigned char *)s->req.buf + s->req.off;
		ss->req_len = s->req.len;
	}
	ss->store = s->rl.store;
	ss->conf = s->fe->conf;
}

/* After rules that may set-src / set-dst: their addresses back into s
 * (IP addresses, or what s already held out of line: nothing to allocate;
 * should an allocation fail, s keeps its address) */
static void view_store(struct sess *s, const struct sess_view *v)
{
	(void)sess_addr_set(&s->cli_addr, &v->src);
	(void)sess_addr_set(&s->fe_addr, &v->dst);
}

const void *sess_rules_view(const struct sess *s)
{
	static __thread struct sess_view view;

	/* read-only use (logs): the casts only satisfy the view's type */
	fill_view((struct sess *)s, &view, s->be ? s->be : s->fe);
	view.ss.final = true;
	return &view.ss;
}

void sess_rules_free(struct sess *s)
{
	/* stick counters: conn_cur drops, the session's bytes are counted */
	stk_sess_release(s->rl.store, s->req.total, s->res.total);
	smp_store_free(s->rl.store);
	s->rl.store = NULL;
	free(s->rl.facts);
	s->rl.facts = NULL;
}

/* The first bytes' protocol and fingerprints, for the event log: once, at
 * the end of the first inspection, while the bytes are still buffered;
 * only when the event log is on. Out of memory: the fields are left out. */
static void note_facts(struct sess *s, const struct smp_sess *ss)
{
	if (s->rl.facts || !evlog_enabled())
		return;
	s->rl.facts = malloc(sizeof(*s->rl.facts));
	if (s->rl.facts)
		smp_first_facts(ss, s->rl.facts);
}

static bool needs_store(const struct proxy *px)
{
	return px && px->rules && (px->rules->ncaptures || rules_inspects(px->rules) || rules_has_conn(px->rules) ||
				   rules_has_session(px->rules));
}

/* A store for captures and variables, made when a proxy with rules first
 * sees the session. False when out of memory (s was closed). */
static bool ensure_store(struct sess *s, const struct proxy *px)
{
	if (s->rl.store || !needs_store(px))
		return true;
	s->rl.store = smp_store_new();
	if (s->rl.store)
		return true;
	sess_close(s, TERM_EV_RESOURCE);
	return false;
}

/* Closes s without a word to the client: the kernel forgets the
 * connection (TCP_REPAIR, needs CAP_NET_ADMIN), or the reset it sends
 * dies on the way (TTL 1), as HAProxy does. */
static void silent_drop(struct sess *s)
{
	int one = 1;

	if (s->cli.fd >= 0 && setsockopt(s->cli.fd, IPPROTO_TCP, TCP_REPAIR, &one, sizeof(one)) < 0) {
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };

		setsockopt(s->cli.fd, IPPROTO_IP, IP_TTL, &one, sizeof(one));
		setsockopt(s->cli.fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &one, sizeof(one));
		setsockopt(s->cli.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	sess_close(s, TERM_EV_PROXY);
}

/* Ends s for a rule's verdict; true when it did. */
static bool verdict_ends(struct sess *s, enum rules_verdict v, const char *where)
{
	/* refused before any backend took it: logged as the frontend's, as
	 * HAProxy does ("fe/<NOSRV> PR") */
	if ((v == RV_REJECT || v == RV_SILENT_DROP) && !s->counted_be && s->be == s->fe->defbe)
		s->be = NULL;
	switch (v) {
	case RV_REJECT:
		SESS_DEBUG(s, "%s.%s: reject", s->fe->name, where);
		sess_close(s, TERM_EV_PROXY);
		return true;
	case RV_SILENT_DROP:
		SESS_DEBUG(s, "%s.%s: silent-drop", s->fe->name, where);
		silent_drop(s);
		return true;
	default:
		return false;
	}
}

int sess_rules_connection(struct sess *s)
{
	struct px_rules *r = s->fe->rules;
	struct sess_view sv;
	enum rules_verdict v;

	if (!rules_has_conn(r))
		return 0;
	if (!ensure_store(s, s->fe))
		return -1;
	fill_view(s, &sv, s->fe);
	sv.ss.final = true; /* no byte is read at this stage */
	v = rules_tcp_connection(r, &sv.ss, &s->rl.expect_proxy);
	view_store(s, &sv);
	if (v == RV_REJECT || v == RV_SILENT_DROP) {
		/* unlike HAProxy, a refused connection is logged (line and
		 * event), at most once per attacker per second */
		s->rl.refused = v == RV_REJECT ? 1 : 2;
		if (!ratelim_allow(&sv.src, (uint64_t)(sess_now() * 1000), 1000, &s->rl.refused_skipped)) {
			s->rl.refused_quiet = true;
			s->no_log = true;
		}
	}
	return verdict_ends(s, v, "tcp-request-connection") ? -1 : 0;
}

static void route(struct sess *s);

/* use-server, then the usual server choice. May free s. */
static void assign(struct sess *s)
{
	if (s->be && s->be->rules && s->be->rules->srvr) {
		struct sess_view sv;

		fill_view(s, &sv, s->be);
		sv.ss.final = true;
		s->rl.force_srv = rules_pick_server(s->be->rules, &sv.ss);
		if (s->rl.force_srv)
			SESS_DEBUG(s, "%s.use-server: %s", s->be->name, s->rl.force_srv->name);
	}
	sess_assign(s);
}

/* Runs px's content rules (a final pass when expired, or when nothing
 * more can come); returns 1 when they are done, 0 while waiting for more
 * bytes, -1 when s was closed. */
static int inspect(struct sess *s, struct proxy *px, bool expired)
{
	struct px_rules *r = px->rules;
	struct sess_view sv;
	enum rules_verdict v;
	ev_tstamp end = s->rl.inspect_start + r->inspect_delay / 1000.0;

	fill_view(s, &sv, s->rl.inspect_px == s->fe ? s->fe : px);
	sv.ss.final = expired || s->req.eof || chan_full(&s->req) || !r->inspect_delay || sess_now() >= end;
	v = rules_tcp_content(r, &sv.ss);
	view_store(s, &sv);
	if (v != RV_WAIT || sv.ss.final)
		note_facts(s, &sv.ss);
	if (verdict_ends(s, v, "tcp-request-content"))
		return -1;
	if (v == RV_WAIT && !sv.ss.final)
		return 0;
	SESS_DEBUG(s, "%s.tcp-request-content: %s after %zu byte(s)", px->name,
		   v == RV_ACCEPT ? "accept" : "no rule left", sv.ss.req_len);
	return 1;
}

/* Starts, or goes on with, the content rules of px; then routes. */
static void run_stage(struct sess *s, struct proxy *px, bool expired)
{
	int r;

	if (s->rl.inspect_px != px) {
		s->rl.inspect_px = px;
		s->rl.inspect_start = sess_now();
		if (!ensure_store(s, px))
			return;
	}
	r = inspect(s, px, expired);
	if (r < 0)
		return;
	if (r == 0) {
		if (s->state != SST_INSPECT) {
			s->state = SST_INSPECT;
			SESS_DEBUG(s, "%s.inspect: waiting up to %lld ms for the client's data", px->name,
				   px->rules->inspect_delay);
		}
		sess_arm_timer(s);
		sess_update_io(s);
		return;
	}
	if (px == s->fe) {
		route(s);
		return;
	}
	/* the backend's own rules are done */
	assign(s);
}

/* After the frontend's content rules: use_backend, then the backend's
 * content rules and use-server. */
static void route(struct sess *s)
{
	struct sess_view sv;
	struct proxy *be = NULL;

	if (s->fe->rules) {
		fill_view(s, &sv, s->fe);
		sv.ss.final = true;
		be = rules_pick_backend(s->fe->rules, &sv.ss);
	}
	if (be && be != s->be) {
		SESS_DEBUG(s, "%s.use_backend: %s", s->fe->name, be->name);
		s->be = be;
	}
	if (s->be && s->be != s->fe && rules_inspects(s->be->rules)) {
		run_stage(s, s->be, false);
		return;
	}
	assign(s);
}

void sess_rules_start(struct sess *s)
{
	/* called once any PROXY header was consumed */
	s->rl.pp_rcvd = (s->li && (s->li->bc->options & BC_O_ACCEPT_PROXY)) || s->rl.expect_proxy;
	if (rules_has_session(s->fe->rules)) {
		/* tcp-request session: what the PROXY header said is known,
		 * no byte of the request is read yet */
		struct sess_view sv;
		enum rules_verdict v;

		if (!ensure_store(s, s->fe))
			return;
		fill_view(s, &sv, s->fe);
		sv.ss.final = true;
		v = rules_tcp_session(s->fe->rules, &sv.ss);
		view_store(s, &sv);
		if (verdict_ends(s, v, "tcp-request-session"))
			return;
	}
	if (rules_inspects(s->fe->rules)) {
		run_stage(s, s->fe, false);
		return;
	}
	route(s);
}

void sess_rules_data(struct sess *s)
{
	if (s->state != SST_INSPECT)
		return;
	run_stage(s, s->rl.inspect_px, false);
}

void sess_rules_expire(struct sess *s)
{
	/* the timer may fire a hair before the deadline: this pass is the
	 * final one all the same */
	if (s->state == SST_INSPECT)
		run_stage(s, s->rl.inspect_px, true);
}

ev_tstamp sess_rules_deadline(const struct sess *s)
{
	const struct proxy *px = s->rl.inspect_px;

	if (s->state != SST_INSPECT || !px || !px->rules || !px->rules->inspect_delay)
		return 0;
	return s->rl.inspect_start + px->rules->inspect_delay / 1000.0;
}
