/* tproxy_rt.c — runtime changes of a frontend's decoys from the stats
 * socket (see tproxy.h): `add intercept` and `del intercept`
 * (tproxy_rt_change(): checks first, then one nft delta batch per
 * namespace, put back on refusal) and `show intercept` (tproxy_rt_show()).
 * The configuration files are not changed; the next reload rebuilds the
 * sets from them.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/intercept.h"
#include "log/msg.h"
#include "model/proxy.h"
#include "net/nft.h"
#include "plumbing/tproxy.h"
#include "plumbing/tproxy_int.h"

/* The frontend's list (tproxy_fe.decoys) is what it has installed: the
 * configuration's list, then every runtime change. The diverts of each
 * namespace's plan point at it. A reload computes its delta against these
 * lists, so it puts the kernel back to the new configuration's list,
 * runtime additions included. */

static int rt_send_real(struct dp_config *c, const char *ns, struct nft_batch *b, char **err)
{
	int fd = nft_sock(c, ns, err), ret;

	if (fd < 0)
		return fd;
	ret = nft_batch_send(fd, b, err);
	close(fd);
	return ret;
}

static tproxy_rt_send_fn rt_send = rt_send_real;

void tproxy_set_rt_sender(tproxy_rt_send_fn fn)
{
	rt_send = fn ? fn : rt_send_real;
}

/* Sequence numbers only need to differ between batches on one socket (each
 * batch gets a fresh one); the clock makes stale answers easy to tell. */
static uint32_t rt_seq;

/* One batch into n's namespace: the sets go from plan `old` to plan `now`
 * (same rules; only lists differ), elements only. */
static int rt_delta(struct dp_config *c, const struct tproxy_ns *n, const struct nft_plan *now,
		    const struct nft_plan *old, char **err)
{
	struct nft_batch b;
	int ret;

	if (!rt_seq)
		rt_seq = (uint32_t)time(NULL);
	nft_batch_init(&b);
	ret = nft_build_delta(&b, now, old, rt_seq, err);
	if (!ret) {
		rt_seq += (uint32_t)b.nmsg;
		ret = rt_send(c, n->name, &b, err);
	}
	nft_batch_free(&b);
	return ret;
}

/* Whether px's decoys of family index fi are diverted somewhere. */
static bool fe_diverts(const struct tproxy_gconf *g, const struct proxy *px, int fi)
{
	for (size_t i = 0; g && fi >= 0 && i < g->nns; i++)
		if (ns_div_of(&g->ns[i], px, fam_of[fi]) >= 0)
			return true;
	return false;
}

/* An `add` must not take decoys another frontend intercepts in a namespace
 * where px diverts the same family: returns -EEXIST with *err naming the
 * first such element, 0, or -ENOMEM. */
static int rt_check_others(const struct tproxy_gconf *g, const struct proxy *px,
			   const struct icpt_list *req, char **err)
{
	char nsd[NS_DESC_MAX], es[ICPT_ELEM_STRLEN], os[ICPT_ELEM_STRLEN];

	for (size_t i = 0; g && i < g->nns; i++) {
		const struct tproxy_ns *n = &g->ns[i];

		for (size_t k = 0; k < n->nft.ndiv; k++) {
			const struct nft_divert *d = &n->nft.div[k];
			const struct proxy *q = n->fe[k];
			const struct icpt_list *ql;
			struct icpt_elem x;
			size_t ir = 0, iq = 0;
			int r;

			if (!q)         /* a udp-lb section's UDP set */
				continue;
			ql = &q->tproxy->decoys;
			if (q == px || ns_div_of(n, px, d->family) < 0)
				continue;
			r = icpt_lists_overlap(req, ql, d->family, &ir, &iq);
			if (r < 0)
				return r;
			if (!r)
				continue;
			icpt_elem_meet(&req->v[ir], &ql->v[iq], &x);
			memprintf(err, "%s is intercepted by %s '%s' in %s (its decoy '%s', set %s): "
				  "in a namespace, a decoy address:port may belong to one frontend "
				  "only: nothing added", icpt_elem_str(&x, es, sizeof(es)),
				  px_kind(q), q->name, ns_desc(n->name, nsd, sizeof(nsd)),
				  icpt_elem_str(&ql->v[iq], os, sizeof(os)), d->set);
			return -EEXIST;
		}
	}
	return 0;
}

/* What the loop check (tproxy_loop.c) found in the specs of an `add`: the
 * first certain loop (the refusal) and the warnings, logged once the
 * change is in place. */
struct rt_loops {
	char *certain;
	char *warn;
	size_t nwarn;
};

static void rt_loop_report(void *ctx, enum tproxy_loop_kind kind, const char *file, int line,
			   const char *msg)
{
	struct rt_loops *r = ctx;

	(void)file;
	(void)line;
	if (kind == TPROXY_LOOP_CERTAIN) {
		if (!r->certain)
			r->certain = strdup(msg);
		return;
	}
	/* a handful in the log is enough to name the problem */
	if (r->nwarn++ < 8)
		memprintf(&r->warn, "%s%s%s", r->warn ? r->warn : "", r->warn ? "\n" : "", msg);
}

/* A namespace px diverts to, with its plan after the change. */
struct rt_target {
	struct tproxy_ns *n;
	struct nft_divert *div;         /* n's diverts, px's pointing at the new list */
	struct nft_plan now;
};

/* "a b c" of the specs, for the notice (cut at cap). */
static void specs_join(int argc, char *const *argv, char *buf, size_t cap)
{
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; i < argc && len + 1 < cap; i++) {
		int w = snprintf(buf + len, cap - len, "%s%s", i ? " " : "", argv[i]);

		if (w < 0)
			break;
		len += (size_t)w;
	}
	if (len >= cap && cap > 4)
		memcpy(buf + cap - 4, "...", 4);
}

int tproxy_rt_change(struct dp_config *c, struct proxy *px, bool add, int argc,
		     char *const *argv, char **err)
{
	struct tproxy_gconf *g = c ? gconf_of(c) : NULL;
	struct tproxy_fe *f = px ? px->tproxy : NULL;
	char es[ICPT_ELEM_STRLEN], gs[ICPT_ELEM_STRLEN], nsd[NS_DESC_MAX], specs[512];
	struct rt_target *tg = NULL;
	struct icpt_list req, fnew;
	struct rt_loops loops = { NULL, NULL, 0 };
	size_t ntg = 0, i;
	int ret = 0;

	icpt_list_init(&req);
	icpt_list_init(&fnew);
	if (!px || !(px->cap & PR_CAP_FE)) {
		memprintf(err, "no such frontend");
		return -ENOENT;
	}
	if (!f) {
		memprintf(err, "%s '%s' has no 'intercept' in its configuration: runtime changes "
			  "apply to a frontend that already diverts decoys", px_kind(px), px->name);
		return -ENOENT;
	}
	ret = icpt_parse_args(&req, argc, argv, "stats socket", err);
	if (ret)
		goto out;
	for (i = 0; i < req.n; i++) {
		int fi = fam_index(req.v[i].family);

		if (!fe_diverts(g, px, fi)) {
			memprintf(err, "%s '%s' diverts no %s decoys, so '%s' cannot be %s: the "
				  "tproxy rule of a family is installed only when the configuration "
				  "intercepts that family (an 'intercept' line and a transparent %s "
				  "bind, then a reload)", px_kind(px), px->name, fam_name(fi),
				  icpt_elem_str(&req.v[i], es, sizeof(es)), add ? "added" : "deleted",
				  fam_name(fi));
			ret = -EINVAL;
			goto out;
		}
	}
	if (icpt_normalise(&req, NULL, NULL) < 0 || icpt_list_append(&fnew, &f->decoys, 0) < 0)
		goto nomem;
	if (add) {
		bool adds = false;

		ret = rt_check_others(g, px, &req, err);
		if (ret == -ENOMEM)
			goto nomem;
		if (ret)
			goto out;
		/* the decoys must not take the proxy's own connections back to it */
		if (tproxy_loop_check(c, px, &req, rt_loop_report, &loops) > 0) {
			memprintf(err, "%s: nothing added", loops.certain ? loops.certain : "a loop");
			ret = -ELOOP;
			goto out;
		}
		for (i = 0; i < req.n && !adds; i++) {
			int r = icpt_covers(&f->decoys, &req.v[i], NULL);

			if (r < 0)
				goto nomem;
			adds = !r;
		}
		if (!adds) {
			if (req.n == 1)
				memprintf(err, "'%s' is already intercepted by %s '%s': nothing to add",
					  icpt_elem_str(&req.v[0], es, sizeof(es)), px_kind(px),
					  px->name);
			else
				memprintf(err, "every decoy given is already intercepted by %s '%s' "
					  "(e.g. '%s'): nothing to add", px_kind(px), px->name,
					  icpt_elem_str(&req.v[0], es, sizeof(es)));
			ret = -EEXIST;
			goto out;
		}
		ret = icpt_list_append(&fnew, &req, 0);
	} else {
		for (i = 0; i < req.n; i++) {
			struct icpt_elem gap;
			int r = icpt_covers(&f->decoys, &req.v[i], &gap);

			if (r < 0)
				goto nomem;
			if (r)
				continue;
			icpt_elem_str(&req.v[i], es, sizeof(es));
			icpt_elem_str(&gap, gs, sizeof(gs));
			if (strcmp(es, gs))
				memprintf(err, "'%s' is not intercepted by %s '%s' (its part '%s' is not "
					  "in the decoy list): nothing deleted", es, px_kind(px),
					  px->name, gs);
			else
				memprintf(err, "'%s' is not intercepted by %s '%s': nothing deleted", es,
					  px_kind(px), px->name);
			ret = -ENOENT;
			goto out;
		}
		for (i = 0; i < req.n && !ret; i++)
			ret = icpt_subtract(&fnew, &req.v[i]);
	}
	if (ret == -E2BIG) {
		memprintf(err, "too many decoy elements for %s '%s'", px_kind(px), px->name);
		goto out;
	}
	if (ret || icpt_normalise(&fnew, NULL, NULL) < 0)
		goto nomem;

	/* the namespaces px diverts to, each with its plan after the change:
	 * the same diverts, px's with the new list */
	for (i = 0; g && i < g->nns; i++) {
		struct tproxy_ns *n = &g->ns[i];
		struct rt_target *t, *v;

		if (!n->nft.ndiv || (ns_div_of(n, px, AF_INET) < 0 && ns_div_of(n, px, AF_INET6) < 0))
			continue;
		if (!n->nft_on) {
			memprintf(err, "%s: table inet " NFT_TABLE_NAME " is not installed (this "
				  "configuration is not in service): nothing changed",
				  ns_desc(n->name, nsd, sizeof(nsd)));
			ret = -ENOTCONN;
			goto out;
		}
		v = realloc(tg, (ntg + 1) * sizeof(*tg));
		if (!v)
			goto nomem;
		tg = v;
		t = &tg[ntg];
		t->n = n;
		t->div = malloc(n->nft.ndiv * sizeof(*t->div));
		if (!t->div)
			goto nomem;
		ntg++;
		memcpy(t->div, n->nft.div, n->nft.ndiv * sizeof(*t->div));
		for (size_t k = 0; k < n->nft.ndiv; k++)
			if (n->fe[k] == px)
				t->div[k].decoys = &fnew;
		t->now = n->nft;
		t->now.div = t->div;
	}

	/* one batch per namespace; a refusal puts the earlier ones back */
	for (i = 0; i < ntg; i++) {
		ret = rt_delta(c, tg[i].n, &tg[i].now, &tg[i].n->nft, err);
		if (!ret)
			continue;
		memprintf(err, "%s: %s: nothing changed", ns_desc(tg[i].n->name, nsd, sizeof(nsd)),
			  *err ? *err : strerror(-ret));
		while (i--) {
			char *rerr = NULL;
			int r = rt_delta(c, tg[i].n, &tg[i].n->nft, &tg[i].now, &rerr);

			if (r < 0)
				ha_alert("tproxy: %s: cannot put the decoy sets back after a refused "
					 "'%s intercept': %s", ns_desc(tg[i].n->name, nsd, sizeof(nsd)),
					 add ? "add" : "del", rerr ? rerr : strerror(-r));
			free(rerr);
		}
		goto out;
	}

	/* in service: the plans point at f->decoys, which takes the new list */
	{
		struct icpt_list tmp = f->decoys;

		f->decoys = fnew;
		fnew = tmp;
	}
	f->rt_changes++;
	specs_join(argc, argv, specs, sizeof(specs));
	ha_notice("tproxy: %s '%s': runtime '%s intercept %s': %zu decoy element(s) now, in %zu "
		  "namespace(s) (not in the configuration: a reload restores its list)",
		  px_kind(px), px->name, add ? "add" : "del", specs, f->decoys.n, ntg);
	if (loops.warn) {
		char *p = loops.warn, *nl;

		for (; p; p = nl) {
			nl = strchr(p, '\n');
			if (nl)
				*nl++ = '\0';
			ha_warning("tproxy: %s '%s': runtime 'add intercept %s': %s", px_kind(px),
				   px->name, specs, p);
		}
		if (loops.nwarn > 8)
			ha_warning("tproxy: %s '%s': runtime 'add intercept %s': and %zu more such "
				   "warning(s)", px_kind(px), px->name, specs, loops.nwarn - 8);
	}
	ret = 0;
	goto out;
nomem:
	memprintf(err, "out of memory");
	ret = -ENOMEM;
out:
	for (i = 0; i < ntg; i++)
		free(tg[i].div);
	free(tg);
	free(loops.certain);
	free(loops.warn);
	icpt_list_free(&req);
	icpt_list_free(&fnew);
	return ret;
}

void tproxy_rt_show(const struct dp_config *c, const struct proxy *only,
		    void (*line)(void *ctx, const char *text), void *ctx)
{
	const struct tproxy_gconf *g = c ? gconf_of(c) : NULL;
	char buf[NS_DESC_MAX + NFT_SET_NAME_MAX + 256], es[ICPT_ELEM_STRLEN], nsd[NS_DESC_MAX];

	if (!c)
		return;
	if (only && !only->tproxy) {
		snprintf(buf, sizeof(buf), "# %s '%s': no 'intercept' in the configuration",
			 px_kind(only), only->name);
		line(ctx, buf);
		return;
	}
	for (const struct proxy *px = c->proxies; px; px = px->next) {
		const struct tproxy_fe *f = px->tproxy;
		size_t nsets = 0;

		if (!(px->cap & PR_CAP_FE) || !f || (only && px != only))
			continue;
		snprintf(buf, sizeof(buf), "# %s '%s': %zu element(s), %u runtime change(s)",
			 px_kind(px), px->name, f->decoys.n, f->rt_changes);
		line(ctx, buf);
		for (size_t i = 0; g && i < g->nns; i++) {
			const struct tproxy_ns *n = &g->ns[i];

			for (size_t k = 0; k < n->nft.ndiv; k++) {
				const struct nft_divert *d = &n->nft.div[k];

				if (n->fe[k] != px)
					continue;
				nsets++;
				snprintf(buf, sizeof(buf), "# set %s in %s: %zu element(s)%s", d->set,
					 ns_desc(n->name, nsd, sizeof(nsd)),
					 icpt_count(d->decoys, d->family),
					 n->nft_on ? "" : ", not installed");
				line(ctx, buf);
			}
		}
		if (!nsets)
			line(ctx, "# not diverted (disabled, or no transparent bind)");
		for (size_t i = 0; i < f->decoys.n; i++)
			line(ctx, icpt_elem_str(&f->decoys.v[i], es, sizeof(es)));
	}
}
