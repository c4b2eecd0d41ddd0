/* tproxy_loop.c — the addresses decoyproxy itself connects to, held against
 * the decoys a frontend intercepts: the check behind `decoyproxy -c`
 * (tproxy_finalize()) and the stats socket's `add intercept`
 * (tproxy_rt_change()). Pure: reads the configuration and the plan only.
 *
 * Where a loop can happen. The intercept rules of a namespace N act on
 * packets that enter N by an interface other than loopback (net/nft.h).
 * The proxy's connection to a server (or its health check) is made in the
 * server's namespace S:
 *   - S is N: the connection either stays on N's loopback (a local
 *     address) or leaves N without crossing N's prerouting hook: never
 *     diverted. A warning still says the decoys hold an address the proxy
 *     connects to (other hosts' connections to it are taken over);
 *   - S is not N, and the address is local in N (the address of a bind
 *     there, or a decoy that N announces): the connection enters N through
 *     an interface and is diverted back to the frontend, whose session
 *     connects again: a certain loop, refused;
 *   - S is not N otherwise: diverted when the route from S to the server
 *     crosses N, which only the network knows: a warning (decoyproxy would
 *     refuse its own connections at accept, core/selfconn.h, and the
 *     server would be unreachable).
 * Loopback addresses never leave S. A server `*` (the original
 * destination) connects to one of the decoys of the frontend that uses its
 * backend: from another namespace, a warning as above.
 * Besides, the address of a plain (not transparent) bind of N inside N's
 * decoys is a warning: connections to it from other hosts go to the
 * intercepting frontend instead.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/addr.h"
#include "lib/intercept.h"
#include "model/bind.h"
#include "model/proxy.h"
#include "model/server.h"
#include "plumbing/tproxy.h"
#include "plumbing/tproxy_int.h"

/* An address the proxy connects to, or listens on. */
struct target {
	int fam;                        /* AF_INET, AF_INET6 */
	union icpt_addr a;
	uint16_t port;                  /* 0: any (the server follows the decoy's port) */
	const char *ns;                 /* where its sockets are: NULL = the process's */
	const char *file;
	int line;
	char what[192];                 /* "server 'b/s1' 10.0.0.1:80" */
};

/* The family and address of ss (a mapped IPv4 address counts as IPv4);
 * false when it is no IP address or a wildcard. */
static bool target_addr(const struct sockaddr_storage *ss, struct target *t)
{
	struct sockaddr_storage x = *ss;

	addr_unmap_v4(&x);
	if (addr_is_any(&x))
		return false;
	if (x.ss_family == AF_INET) {
		t->fam = AF_INET;
		t->a.v4 = ((const struct sockaddr_in *)&x)->sin_addr;
		return true;
	}
	if (x.ss_family == AF_INET6) {
		t->fam = AF_INET6;
		t->a.v6 = ((const struct sockaddr_in6 *)&x)->sin6_addr;
		return true;
	}
	return false;
}

static bool target_loopback(const struct target *t)
{
	if (t->fam == AF_INET)
		return (ntohl(t->a.v4.s_addr) >> 24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&t->a.v6);
}

/* The element of l (family t->fam) holding t's address and port (any port
 * when t->port is 0), or NULL. */
static const struct icpt_elem *list_holds(const struct icpt_list *l, const struct target *t)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct icpt_elem *e = &l->v[i];

		if (e->family != t->fam)
			continue;
		if (t->port ? icpt_elem_has(e, t->fam, &t->a, t->port)
			    : icpt_elem_has(e, t->fam, &t->a, e->port_lo))
			return e;
	}
	return NULL;
}

static bool cidr_holds(const struct tproxy_cidr *c, const struct target *t)
{
	unsigned __int128 x, a, mask;
	int bits = t->fam == AF_INET ? 32 : 128;

	if (c->family != t->fam)
		return false;
	x = icpt_addr_u128(t->fam, &c->addr);
	a = icpt_addr_u128(t->fam, &t->a);
	mask = c->plen >= bits ? 0 : ((unsigned __int128)1 << (bits - c->plen)) - 1;
	return (a & ~mask) == x;
}

/* Why t's address is certainly local in namespace n: "the address of a
 * bind (a.cfg:5)", "a decoy announced there", or NULL when that is not
 * known from the configuration. */
static const char *local_in(const struct dp_config *c, const struct tproxy_ns *n,
			    const struct target *t, char *buf, size_t cap)
{
	for (const struct proxy *q = c->proxies; q; q = q->next) {
		if (!(q->cap & PR_CAP_FE) || q->disabled)
			continue;
		for (const struct bind_conf *bc = q->binds; bc; bc = bc->next) {
			if (!name_eq(bc->netns, n->name))
				continue;
			for (const struct listener *l = bc->listeners; l; l = l->next) {
				struct target b;

				if (!target_addr(&l->addr, &b) || b.fam != t->fam ||
				    memcmp(&b.a, &t->a, t->fam == AF_INET ? 4 : 16))
					continue;
				snprintf(buf, cap, "the address of a bind of %s '%s' (%s:%d)", px_kind(q),
					 q->name, bc->file, bc->line);
				return buf;
			}
		}
	}
	for (size_t i = 0; i < n->nannounce; i++) {
		if (cidr_holds(&n->announce[i], t)) {
			snprintf(buf, cap, "a decoy announced there (a local route)");
			return buf;
		}
	}
	return NULL;
}

struct loop_ctx {
	const struct dp_config *c;
	const struct proxy *px;         /* the intercepting frontend */
	const struct icpt_list *l;      /* the decoys checked */
	tproxy_loop_report_fn report;
	void *rctx;
	int certain;
};

static void say(struct loop_ctx *x, enum tproxy_loop_kind k, const struct target *t,
		const char *fmt, ...) DP_PRINTF(4, 5);
static void say(struct loop_ctx *x, enum tproxy_loop_kind k, const struct target *t,
		const char *fmt, ...)
{
	va_list ap;
	char *m = NULL;

	va_start(ap, fmt);
	vmemprintf(&m, fmt, ap);
	va_end(ap);
	x->report(x->rctx, k, t->file, t->line, m ? m : "out of memory");
	free(m);
	if (k == TPROXY_LOOP_CERTAIN)
		x->certain++;
}

/* Checks an address the proxy connects to (t) against the decoys of
 * x->px diverted in namespace n. */
static void check_conn(struct loop_ctx *x, const struct tproxy_ns *n, const struct target *t)
{
	const struct proxy *px = x->px;
	const struct icpt_elem *e;
	const char *o, *why;
	char nsd[NS_DESC_MAX], sd[NS_DESC_MAX], wb[160];

	if (ns_div_of(n, px, t->fam) < 0 || !(e = list_holds(x->l, t)))
		return;
	o = icpt_elem_origin(x->l, e);
	ns_desc(n->name, nsd, sizeof(nsd));
	ns_desc(t->ns, sd, sizeof(sd));
	if (name_eq(t->ns, n->name)) {
		char tail[128] = "";

		/* a loopback address cannot be reached from another host */
		if (!target_loopback(t))
			snprintf(tail, sizeof(tail), ": connections from other hosts to it are "
				 "diverted to %s '%s' instead", px_kind(px), px->name);
		say(x, TPROXY_LOOP_SAME_NS, t, "%s is inside the decoys of %s '%s' (%s) in %s, the "
		    "namespace decoyproxy connects to it from: its own connections are not diverted "
		    "(the intercept rules skip the loopback interface, and a connection made in a "
		    "namespace leaves it without crossing its prerouting hook), but a decoy range "
		    "should not hold an address the proxy connects to%s", t->what, px_kind(px),
		    px->name, o ? o : "?", nsd, tail);
		return;
	}
	if (target_loopback(t))
		return;         /* S's loopback never leaves S */
	why = local_in(x->c, n, t, wb, sizeof(wb));
	if (why) {
		say(x, TPROXY_LOOP_CERTAIN, t, "%s is inside the decoys of %s '%s' (%s) in %s, where it "
		    "is %s: decoyproxy connects to it from %s, so its connections enter %s from "
		    "outside and are diverted back to %s '%s', whose sessions connect again: a loop "
		    "(take the address out of the decoys, or make the connection from %s with "
		    "'namespace')", t->what, px_kind(px), px->name, o ? o : "?", nsd, why, sd, nsd,
		    px_kind(px), px->name, nsd);
		return;
	}
	say(x, TPROXY_LOOP_MAY, t, "%s is inside the decoys of %s '%s' (%s) in %s, and decoyproxy "
	    "connects to it from %s: if its route crosses %s, its connections are diverted back "
	    "to %s '%s' (a loop, which decoyproxy breaks by refusing them: the server would be "
	    "unreachable)", t->what, px_kind(px), px->name, o ? o : "?", nsd, sd, nsd,
	    px_kind(px), px->name);
}

/* A plain bind of namespace n inside x->px's decoys there. */
static void check_bind(struct loop_ctx *x, const struct tproxy_ns *n, const struct proxy *q,
		       const struct bind_conf *bc, const struct listener *li)
{
	const struct proxy *px = x->px;
	const struct icpt_elem *e;
	const char *o;
	struct target t;
	char nsd[NS_DESC_MAX], as[64];

	memset(&t, 0, sizeof(t));
	if (!target_addr(&li->addr, &t) || target_loopback(&t))
		return;
	t.port = (uint16_t)addr_port(&li->addr);
	t.ns = bc->netns;
	t.file = bc->file;
	t.line = bc->line;
	if (!t.port || ns_div_of(n, px, t.fam) < 0 || !(e = list_holds(x->l, &t)))
		return;
	o = icpt_elem_origin(x->l, e);
	say(x, TPROXY_LOOP_LOCAL, &t, "bind %s of %s '%s' (%s:%d) is inside the decoys of %s '%s' "
	    "(%s) in %s: connections from other hosts to it are diverted to %s '%s' instead",
	    addr_str(&li->addr, as, sizeof(as)), px_kind(q), q->name, bc->file, bc->line,
	    px_kind(px), px->name,
	    o ? o : "?", ns_desc(n->name, nsd, sizeof(nsd)), px_kind(px), px->name);
}

/* The server's own address and its health check's, against namespace n. */
static void check_server(struct loop_ctx *x, const struct tproxy_ns *n, const struct proxy *be,
			 const struct server *s)
{
	struct target t, k;
	char as[64];

	memset(&t, 0, sizeof(t));
	t.ns = s->netns;
	t.file = s->file;
	t.line = s->line;
	if (s->flags & SRV_F_ADDR_ORIG) {
		/* it connects to the decoy the client connected to: one of
		 * x->px's when x->px hands its sessions to be */
		char nsd[NS_DESC_MAX], sd[NS_DESC_MAX];

		if (x->px->defbe != be || name_eq(s->netns, n->name) || !x->l->n)
			return;
		say(x, TPROXY_LOOP_MAY, &t, "server '%s/%s' (%s:%d) connects to the original "
		    "destination, a decoy of %s '%s' in %s, from %s: if the route from there to the "
		    "decoys crosses %s, its connections are diverted back to %s '%s' (a loop, which "
		    "decoyproxy breaks by refusing them)", be->name, s->name, s->file, s->line,
		    px_kind(x->px), x->px->name,
		    ns_desc(n->name, nsd, sizeof(nsd)), ns_desc(s->netns, sd, sizeof(sd)), nsd,
		    px_kind(x->px), x->px->name);
		return;
	}
	if (target_addr(&s->addr, &t)) {
		t.port = s->port_mode == SRV_PORT_FIXED ? (uint16_t)addr_port(&s->addr) : 0;
		if (t.port)
			snprintf(t.what, sizeof(t.what), "server '%s/%s' %s (%s:%d)", be->name, s->name,
				 addr_str(&s->addr, as, sizeof(as)), s->file, s->line);
		else
			snprintf(t.what, sizeof(t.what), "server '%s/%s' %s (%s:%d; its port follows "
				 "the decoy's)", be->name, s->name, addr_ntop(&s->addr, as, sizeof(as)),
				 s->file, s->line);
		check_conn(x, n, &t);
	}
	if (!s->check || (!s->chk_addr.ss_family && !s->chk_port))
		return;
	/* a check toward another address or port than the server's */
	k = t;
	if (s->chk_addr.ss_family && !target_addr(&s->chk_addr, &k))
		return;
	if (!s->chk_addr.ss_family && !t.fam)
		return;
	if (s->chk_port)
		k.port = (uint16_t)s->chk_port;
	if (k.fam == t.fam && !memcmp(&k.a, &t.a, sizeof(k.a)) && k.port == t.port)
		return;
	{
		struct sockaddr_storage ka = s->chk_addr.ss_family ? s->chk_addr : s->addr;

		addr_set_port(&ka, k.port);
		snprintf(k.what, sizeof(k.what), "the health check of server '%s/%s' (%s:%d) toward %s",
			 be->name, s->name, s->file, s->line,
			 k.port ? addr_str(&ka, as, sizeof(as)) : addr_ntop(&ka, as, sizeof(as)));
	}
	check_conn(x, n, &k);
}

int tproxy_loop_check(const struct dp_config *c, const struct proxy *px,
		      const struct icpt_list *l, tproxy_loop_report_fn report, void *rctx)
{
	const struct tproxy_gconf *g = gconf_of(c);
	struct loop_ctx x = { .c = c, .px = px, .l = l, .report = report, .rctx = rctx };

	for (size_t i = 0; g && i < g->nns; i++) {
		const struct tproxy_ns *n = &g->ns[i];

		if (ns_div_of(n, px, AF_INET) < 0 && ns_div_of(n, px, AF_INET6) < 0)
			continue;
		for (const struct proxy *be = c->proxies; be; be = be->next) {
			if (!(be->cap & PR_CAP_BE) || be->disabled)
				continue;
			for (const struct server *s = be->srv; s; s = s->next)
				check_server(&x, n, be, s);
		}
		for (const struct proxy *q = c->proxies; q; q = q->next) {
			if (!(q->cap & PR_CAP_FE) || q->disabled)
				continue;
			for (const struct bind_conf *bc = q->binds; bc; bc = bc->next) {
				if ((bc->options & BC_O_TRANSPARENT) || !name_eq(bc->netns, n->name))
					continue;
				for (const struct listener *li = bc->listeners; li; li = li->next)
					check_bind(&x, n, q, bc, li);
			}
		}
	}
	return x.certain;
}
