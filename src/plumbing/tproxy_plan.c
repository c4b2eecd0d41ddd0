/* tproxy_plan.c — tproxy_finalize(): validation once every file is read,
 * and the plan of what to install (see tproxy.h):
 *   - announce routes: the ranges of `announce` lines, merged and split
 *     into disjoint CIDR prefixes (tproxy_range_to_cidrs());
 *   - the plan: one entry per network namespace that needs plumbing, with
 *     one divert (set, tproxy rule, listener) per intercepting frontend and
 *     family there, plus the namespaces of spoofing servers;
 *   - set names, unique and acceptable to nft;
 *   - decoys two frontends intercept in one namespace, refused;
 *   - decoys that hold an address the proxy connects to: a certain loop
 *     refused, a possible one warned (tproxy_loop.c).
 * Pure: nothing here touches the system (`decoyproxy -c` stops here).
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/intercept.h"
#include "log/msg.h"
#include "model/bind.h"
#include "model/proxy.h"
#include "model/server.h"
#include "model/source.h"
#include "model/udplb.h"
#include "net/nft.h"
#include "plumbing/decoy.h"
#include "plumbing/tproxy.h"
#include "plumbing/tproxy_int.h"

/* Address arithmetic for both families in one type (as in intercept.c);
 * a GNU extension every supported compiler has. */
typedef unsigned __int128 u128;

/* ---- finalize: announce routes ---------------------------------------------------- */

static int family_bits(int family)
{
	return family == AF_INET ? 32 : family == AF_INET6 ? 128 : 0;
}

/* All-ones in the low `bits` bits (0..128). */
static u128 low_mask(int bits)
{
	if (bits <= 0)
		return 0;
	if (bits >= 128)
		return ~(u128)0;
	return ((u128)1 << bits) - 1;
}

size_t tproxy_range_to_cidrs(int family, const union icpt_addr *lo, const union icpt_addr *hi,
			     struct tproxy_cidr *out, size_t max)
{
	int bits = family_bits(family);
	u128 x, y, last;
	size_t n = 0;

	if (!bits)
		return 0;
	x = icpt_addr_u128(family, lo);
	y = icpt_addr_u128(family, hi);
	if (x > y)
		return 0;
	for (;;) {
		int k = 0;

		/* the largest block aligned at x that ends at or before y */
		while (k < bits && !(x & ((u128)1 << k)) && y - x >= low_mask(k + 1))
			k++;
		if (n < max) {
			out[n].family = (uint8_t)family;
			out[n].plen = (uint8_t)(bits - k);
			icpt_u128_addr(family, x, &out[n].addr);
		}
		n++;
		last = x + low_mask(k);
		if (last >= y)
			break;
		x = last + 1;
	}
	return n;
}

static int range_cmp(const void *a, const void *b)
{
	const struct tproxy_range *x = a, *y = b;
	u128 p, q;

	if (x->family != y->family)
		return x->family == AF_INET ? -1 : 1;
	p = icpt_addr_u128(x->family, &x->lo);
	q = icpt_addr_u128(y->family, &y->lo);
	return p < q ? -1 : p > q;
}

/* Sorts and merges the ranges v[0 .. *n) in place (overlapping or adjacent
 * ranges of a family become one), so that the CIDRs built from them are
 * disjoint. */
static void ranges_merge(struct tproxy_range *v, size_t *n)
{
	size_t w = 0;

	if (!*n)
		return;
	qsort(v, *n, sizeof(*v), range_cmp);
	for (size_t i = 1; i < *n; i++) {
		struct tproxy_range *cur = &v[w], *r = &v[i];
		int fam = cur->family;
		u128 chi = icpt_addr_u128(fam, &cur->hi);

		if (r->family == fam && (chi == low_mask(family_bits(fam)) ||
					 icpt_addr_u128(fam, &r->lo) <= chi + 1)) {
			if (icpt_addr_u128(fam, &r->hi) > chi)
				cur->hi = r->hi;
			continue;
		}
		v[++w] = *r;
	}
	*n = w + 1;
}

/* The CIDRs of the (merged) ranges v[0 .. n): *out (malloc'd, sorted,
 * disjoint; NULL when none) and *nout. At most TPROXY_MAX_ANNOUNCE. */
static int cidrs_build(const struct tproxy_range *v, size_t n, struct tproxy_cidr **out,
		       size_t *nout, char **err)
{
	size_t total = 0, k = 0;

	*out = NULL;
	*nout = 0;
	for (size_t i = 0; i < n; i++)
		total += tproxy_range_to_cidrs(v[i].family, &v[i].lo, &v[i].hi, NULL, 0);
	if (!total)
		return 0;
	if (total > TPROXY_MAX_ANNOUNCE) {
		memprintf(err, "'announce' needs %zu local routes (at most %u): announce fewer, "
			  "CIDR-aligned ranges, or add a covering 'local' route yourself", total,
			  TPROXY_MAX_ANNOUNCE);
		return -E2BIG;
	}
	*out = calloc(total, sizeof(**out));
	if (!*out) {
		memprintf(err, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		k += tproxy_range_to_cidrs(v[i].family, &v[i].lo, &v[i].hi, *out + k, total - k);
	*nout = total;
	return 0;
}

static int announce_build(struct tproxy_fe *f, char **err)
{
	ranges_merge(f->ranges, &f->nranges);
	free(f->announce);
	return cidrs_build(f->ranges, f->nranges, &f->announce, &f->nannounce, err);
}

/* ---- finalize: the plan ---------------------------------------------------------------- */

/* The plan entry of namespace name, created when missing. NULL: no memory.
 * Pointers into g->ns are invalidated by the next call. */
static struct tproxy_ns *ns_get(struct tproxy_gconf *g, const char *name)
{
	struct tproxy_ns *n, *v;

	/* a `namespace` naming the process's own is the process's: one
	 * entry, plumbed as if none were named */
	if (tproxy_ns_is_self(name))
		name = NULL;
	n = ns_find(g, name);
	if (n)
		return n;
	v = realloc(g->ns, (g->nns + 1) * sizeof(*v));
	if (!v)
		return NULL;
	g->ns = v;
	n = &v[g->nns];
	memset(n, 0, sizeof(*n));
	if (name && !(n->name = strdup(name)))
		return NULL;
	g->nns++;
	return n;
}

static void norm_warn(void *data, const char *msg)
{
	const struct proxy *px = data;

	ha_warning("config : %s '%s': %s", px_kind(px), px->name, msg);
}

/* Appends the divert (px, family of l) with listener l to n. */
static int ns_add_div(struct tproxy_ns *n, const struct proxy *px, const struct listener *l)
{
	if (n->nft.ndiv == n->capdiv) {
		size_t cap = n->capdiv ? n->capdiv * 2 : 4;
		struct nft_divert *d = realloc(n->div, cap * sizeof(*d));
		const struct proxy **f;

		if (!d)
			return -ENOMEM;
		n->div = d;
		f = realloc(n->fe, cap * sizeof(*f));
		if (!f)
			return -ENOMEM;
		n->fe = f;
		n->capdiv = cap;
	}
	memset(&n->div[n->nft.ndiv], 0, sizeof(n->div[0]));
	n->div[n->nft.ndiv].family = l->addr.ss_family;
	n->div[n->nft.ndiv].listen = l->addr;
	n->fe[n->nft.ndiv] = px;
	n->nft.ndiv++;
	n->nft.div = n->div;
	return 0;
}

/* In bc's namespace, px diverts each family it has decoys of to bc's first
 * listener of that family (a family px diverts there already keeps its
 * first listener). */
static void fe_claim_bind(struct tproxy_gconf *g, struct proxy *px, struct bind_conf *bc,
			  int *errors)
{
	struct tproxy_fe *f = px->tproxy;

	for (struct listener *l = bc->listeners; l; l = l->next) {
		int fi = fam_index(l->addr.ss_family);
		struct tproxy_ns *n;

		if (fi < 0 || !icpt_count(&f->decoys, fam_of[fi]))
			continue;
		n = ns_get(g, bc->netns);
		if (!n || (ns_div_of(n, px, fam_of[fi]) < 0 && ns_add_div(n, px, l) < 0)) {
			cfg_report_at(true, bc->file, bc->line, errors, "out of memory");
			return;
		}
	}
}

/* Whether px has a transparent listener of family fam in namespace ns. */
static bool fe_has_listener(const struct proxy *px, const char *ns, int fam)
{
	for (const struct bind_conf *bc = px->binds; bc; bc = bc->next) {
		if (!(bc->options & BC_O_TRANSPARENT) || !name_eq(bc->netns, ns))
			continue;
		for (const struct listener *l = bc->listeners; l; l = l->next)
			if (l->addr.ss_family == fam)
				return true;
	}
	return false;
}

/* Every family of decoys needs a transparent listener of that family in
 * each namespace where the frontend has transparent binds: its decoys are
 * diverted in all of them. */
static void fe_check_families(const struct proxy *px, int *errors)
{
	const struct tproxy_fe *f = px->tproxy;
	char nsd[NS_DESC_MAX];

	for (const struct bind_conf *bc = px->binds; bc; bc = bc->next) {
		const struct bind_conf *prev;

		if (!(bc->options & BC_O_TRANSPARENT))
			continue;
		/* each namespace once */
		for (prev = px->binds; prev != bc; prev = prev->next)
			if ((prev->options & BC_O_TRANSPARENT) && name_eq(prev->netns, bc->netns))
				break;
		if (prev != bc)
			continue;
		for (int fi = 0; fi < 2; fi++) {
			size_t cnt = icpt_count(&f->decoys, fam_of[fi]);

			if (cnt && !fe_has_listener(px, bc->netns, fam_of[fi]))
				cfg_report_at(true, f->file, f->line, errors,
					  "%s '%s' intercepts %s decoys (%zu element(s)) but has no %s "
					  "'bind ... transparent' in %s to divert them to",
					  px_kind(px), px->name, fam_name(fi), cnt, fam_name(fi),
					  ns_desc(bc->netns, nsd, sizeof(nsd)));
		}
	}
}

/* The transparent binds and families of px, and its diverts in the plan
 * (the decoy list is not normalised yet: only counts are used). */
static void fe_claim(struct tproxy_gconf *g, struct proxy *px, int *errors)
{
	struct tproxy_fe *f = px->tproxy;
	bool transparent = false;

	for (struct bind_conf *bc = px->binds; bc; bc = bc->next) {
		if (!(bc->options & BC_O_TRANSPARENT))
			continue;
		transparent = true;
		fe_claim_bind(g, px, bc, errors);
	}
	if (!transparent) {
		cfg_report_at(true, f->file, f->line, errors,
			  "%s '%s': 'intercept' needs a 'bind ... transparent' in the same %s: "
			  "decoy connections are diverted to that listener", px_kind(px), px->name,
			  px_kind(px));
		return;
	}
	fe_check_families(px, errors);
}

/* Normalises px's list (keeping the list as written in f->raw first when
 * it is compared with another frontend's) and builds its announce routes. */
static void fe_normalise(struct proxy *px, int *errors)
{
	struct tproxy_fe *f = px->tproxy;
	char *err = NULL;

	if (f->shared && icpt_list_append(&f->raw, &f->decoys, 0) < 0) {
		cfg_report_at(true, f->file, f->line, errors, "%s '%s': out of memory", px_kind(px), px->name);
		return;
	}
	if (decoy_note_decoys(px->conf, px, &f->decoys) < 0 ||
	    icpt_normalise(&f->decoys, norm_warn, px) < 0) {
		cfg_report_at(true, f->file, f->line, errors, "%s '%s': out of memory", px_kind(px), px->name);
		return;
	}
	if (announce_build(f, &err) < 0) {
		cfg_report_at(true, f->file, f->line, errors, "%s '%s': %s", px_kind(px), px->name, err);
		free(err);
		return;
	}
	for (size_t j = 0; j < f->nannounce; j++) {
		if (f->announce[j].family == AF_INET6) {
			/* the kernel answers neighbour solicitations only for
			 * addresses of an interface or proxy-NDP entries, never
			 * for local routes */
			ha_warning("config : %s '%s': 'announce' of IPv6 decoys adds local routes, but "
				   "the kernel does not answer neighbour discovery for them: use "
				   "proxy NDP ('ip -6 neigh add proxy ...') or route the prefix to "
				   "this host", px_kind(px), px->name);
			break;
		}
	}
}

/* ---- finalize: set names ---------------------------------------------------------------- */

#define SET_PREFIX_LEN (sizeof(TPROXY_SET4_PREFIX) - 1)
#define SET_SUFFIX_MAX (NFT_SET_NAME_MAX - SET_PREFIX_LEN)

static bool set_char_ok(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '-' || ch == '.';
}

/* Whether the frontend name can follow the prefix as it is. */
static bool set_name_natural(const char *name)
{
	size_t len = strlen(name);

	if (len > SET_SUFFIX_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!set_char_ok(name[i]))
			return false;
	return true;
}

static bool set_suffix_taken(const struct dp_config *c, const char *sfx)
{
	for (const struct proxy *px = c->proxies; px; px = px->next)
		if (px->tproxy && px->tproxy->set[0] &&
		    !strcmp(px->tproxy->set[0] + SET_PREFIX_LEN, sfx))
			return true;
	return false;
}

static int set_names_give(struct tproxy_fe *f, const char *sfx)
{
	if (memprintf(&f->set[0], TPROXY_SET4_PREFIX "%s", sfx) < 0 ||
	    memprintf(&f->set[1], TPROXY_SET6_PREFIX "%s", sfx) < 0)
		return -ENOMEM;
	return 0;
}

/* The suffix for a name that needed a change: characters nft does not
 * take become '_', the whole is cut to fit, and a "_<k>" counter (k >= 2)
 * makes it unique. */
static int set_names_derive(const struct dp_config *c, struct tproxy_fe *f, const char *name)
{
	char sfx[SET_SUFFIX_MAX + 1], tail[16];
	size_t len = strlen(name);

	if (len > SET_SUFFIX_MAX)
		len = SET_SUFFIX_MAX;
	for (size_t i = 0; i < len; i++)
		sfx[i] = set_char_ok(name[i]) ? name[i] : '_';
	sfx[len] = '\0';
	for (unsigned k = 2; set_suffix_taken(c, sfx); k++) {
		size_t tl = (size_t)snprintf(tail, sizeof(tail), "_%u", k), keep = len;

		if (keep + tl > SET_SUFFIX_MAX)
			keep = SET_SUFFIX_MAX - tl;
		memcpy(sfx + keep, tail, tl + 1);
	}
	return set_names_give(f, sfx);
}

/* Names the sets of every enabled frontend with `intercept`: names that
 * need no change first, in configuration order, then the others. */
static int set_names(struct dp_config *c)
{
	for (int pass = 0; pass < 2; pass++) {
		for (struct proxy *px = c->proxies; px; px = px->next) {
			struct tproxy_fe *f = px->tproxy;
			bool natural;
			int ret;

			if (!(px->cap & PR_CAP_FE) || !f || px->disabled || f->set[0])
				continue;
			natural = set_name_natural(px->name) && !set_suffix_taken(c, px->name);
			if (pass == 0 && !natural)
				continue;
			ret = natural ? set_names_give(f, px->name) : set_names_derive(c, f, px->name);
			if (ret)
				return ret;
		}
	}
	return 0;
}

/* ---- finalize: overlaps between frontends ----------------------------------------------- */

/* The spec (with its file:line) of f's that holds the pair (a, port): from
 * the list as written when kept, else the normalised element's origin. */
static const char *fe_origin(const struct tproxy_fe *f, const struct icpt_elem *norm, int fam,
			     const union icpt_addr *a, uint16_t port)
{
	const char *o;

	for (size_t i = 0; i < f->raw.n; i++)
		if (icpt_elem_has(&f->raw.v[i], fam, a, port) && (o = icpt_elem_origin(&f->raw, &f->raw.v[i])))
			return o;
	o = icpt_elem_origin(&f->decoys, norm);
	return o ? o : "(unknown origin)";
}

/* A pair of frontends reported already (they may share several
 * namespaces and both families: one error is enough). */
struct ovl_seen {
	const struct proxy **v;
	size_t n;
};

static bool ovl_seen_add(struct ovl_seen *s, const struct proxy *a, const struct proxy *b)
{
	const struct proxy **v;

	for (size_t i = 0; i < s->n; i += 2)
		if (s->v[i] == a && s->v[i + 1] == b)
			return false;
	v = realloc(s->v, (s->n + 2) * sizeof(*v));
	if (!v)
		return true;
	s->v = v;
	v[s->n++] = a;
	v[s->n++] = b;
	return true;
}

/* Refuses decoys that two frontends intercept in one namespace: the
 * kernel would send them to whichever tproxy rule comes first, and the
 * operator wrote two different destinations. */
static void ns_check_overlaps(const struct tproxy_ns *n, struct ovl_seen *seen, int *errors)
{
	char nsd[NS_DESC_MAX], es[ICPT_ELEM_STRLEN];

	for (size_t j = 0; j < n->nft.ndiv; j++) {
		for (size_t i = 0; i < j; i++) {
			const struct proxy *a = n->fe[i], *b = n->fe[j];
			const struct tproxy_fe *fa = a->tproxy, *fb = b->tproxy;
			int fam = n->div[j].family, r;
			struct icpt_elem x;
			size_t ia = 0, ib = 0;

			if (a == b || n->div[i].family != fam)
				continue;
			r = icpt_lists_overlap(&fa->decoys, &fb->decoys, fam, &ia, &ib);
			if (r < 0) {
				cfg_report_at(true, fb->file, fb->line, errors, "out of memory");
				return;
			}
			if (!r || !ovl_seen_add(seen, a, b))
				continue;
			icpt_elem_meet(&fa->decoys.v[ia], &fb->decoys.v[ib], &x);
			cfg_report_at(true, fb->file, fb->line, errors,
				  "%s '%s' and %s '%s' both intercept %s in %s (%s '%s' from %s, "
				  "%s '%s' from %s): in a namespace, a decoy address:port may belong "
				  "to one frontend only (remove it from one of them, or bind them in "
				  "different namespaces)", px_kind(b), b->name, px_kind(a), a->name,
				  icpt_elem_str(&x, es, sizeof(es)), ns_desc(n->name, nsd, sizeof(nsd)),
				  px_kind(b), b->name,
				  fe_origin(fb, &fb->decoys.v[ib], fam, &x.lo, x.port_lo),
				  px_kind(a), a->name,
				  fe_origin(fa, &fa->decoys.v[ia], fam, &x.lo, x.port_lo));
		}
	}
}

/* Marks the frontends that share a namespace and a family with another:
 * their lists as written are kept for the overlap messages. */
static void ns_mark_shared(const struct tproxy_ns *n)
{
	for (size_t j = 0; j < n->nft.ndiv; j++)
		for (size_t i = 0; i < j; i++)
			if (n->fe[i] != n->fe[j] && n->div[i].family == n->div[j].family)
				n->fe[i]->tproxy->shared = n->fe[j]->tproxy->shared = true;
}

/* Removes address a (of family fam) from the merged ranges v[0 .. *n):
 * the network and broadcast addresses of CIDR specs are not announced
 * (plumbing/decoy.h). A range cut in two needs one more slot: *v grows. */
static int ranges_cut(struct tproxy_range **v, size_t *n, size_t *cap, int fam, const union icpt_addr *a)
{
	u128 x = icpt_addr_u128(fam, a);

	for (size_t i = 0; i < *n; i++) {
		struct tproxy_range *r = &(*v)[i];
		u128 lo = icpt_addr_u128(fam, &r->lo), hi = icpt_addr_u128(fam, &r->hi);

		if (r->family != fam || x < lo || x > hi)
			continue;
		if (lo == hi) {
			memmove(r, r + 1, (*n - i - 1) * sizeof(*r));
			(*n)--;
		} else if (x == lo) {
			icpt_u128_addr(fam, x + 1, &r->lo);
		} else if (x == hi) {
			icpt_u128_addr(fam, x - 1, &r->hi);
		} else {
			if (*n == *cap) {
				size_t nc = *cap ? *cap * 2 : 8;
				struct tproxy_range *w = realloc(*v, nc * sizeof(*w));

				if (!w)
					return -ENOMEM;
				*v = w;
				*cap = nc;
				r = &(*v)[i];
			}
			memmove(r + 1, r, (*n - i) * sizeof(*r));
			(*n)++;
			icpt_u128_addr(fam, x - 1, &r->hi);
			icpt_u128_addr(fam, x + 1, &(*v)[i + 1].lo);
		}
		return 0;
	}
	return 0;
}

/* Set names, lists and the announce routes of every frontend diverted
 * in n (the union of their ranges, split again). */
static int ns_lists(const struct dp_config *c, struct tproxy_ns *n, char **err)
{
	struct tproxy_range *v = NULL;
	size_t nv = 0, cap = 0;
	int ret;

	for (size_t i = 0; i < n->nft.ndiv; i++) {
		const struct tproxy_fe *f = n->fe[i]->tproxy;
		size_t k;

		n->div[i].set = f->set[fam_index(n->div[i].family)];
		n->div[i].decoys = &f->decoys;
		if (decoy_fill_divert(c, n->fe[i], &n->div[i]) < 0) {
			free(v);
			memprintf(err, "out of memory");
			return -ENOMEM;
		}
		/* each frontend's ranges once */
		for (k = 0; k < i && n->fe[k] != n->fe[i]; k++)
			;
		if (k < i)
			continue;
		if (nv + f->nranges > cap) {
			struct tproxy_range *w;

			cap = (nv + f->nranges) * 2;
			w = realloc(v, cap * sizeof(*v));
			if (!w) {
				free(v);
				memprintf(err, "out of memory");
				return -ENOMEM;
			}
			v = w;
		}
		if (f->nranges)
			memcpy(v + nv, f->ranges, f->nranges * sizeof(*v));
		nv += f->nranges;
	}
	ranges_merge(v, &nv);
	for (size_t i = 0; i < n->nft.ndiv; i++) {
		const struct icpt_list *e = decoy_edges(c, n->fe[i]);

		for (size_t k = 0; e && k < e->n; k++) {
			int fam = e->v[k].family;
			u128 hi = icpt_addr_u128(fam, &e->v[k].hi);

			for (u128 x = icpt_addr_u128(fam, &e->v[k].lo); x <= hi; x++) {
				union icpt_addr a;

				icpt_u128_addr(fam, x, &a);
				if (ranges_cut(&v, &nv, &cap, fam, &a) < 0) {
					free(v);
					memprintf(err, "out of memory");
					return -ENOMEM;
				}
			}
		}
	}
	ret = cidrs_build(v, nv, &n->announce_v, &n->nannounce, err);
	n->announce = n->announce_v;
	free(v);
	return ret;
}

/* -c: a certain loop is an error at the server's line, the rest warnings. */
static void loop_report(void *ctx, enum tproxy_loop_kind kind, const char *file, int line,
			const char *msg)
{
	int *errors = ctx;

	if (kind == TPROXY_LOOP_CERTAIN)
		cfg_report_at(true, file, line, errors, "%s", msg);
	else
		ha_warning("config : parsing [%s:%d] : %s", file, line, msg);
}

static bool server_spoofs(const struct proxy *px, const struct server *s)
{
	const struct src_conf *sc = s->source.set ? &s->source : &px->source;

	return sc->set && sc->usesrc != SRC_USESRC_NONE;
}

/* ---- finalize: udp-lb sections (UDP diverts, fe[i] NULL) --------------------------- */

static int udp_set_name(struct dp_config *c, struct udp_lb *lb, int fi)
{
	static const char *const pfx[2] = { "udp4_", "udp6_" };
	size_t max = NFT_SET_NAME_MAX - 5 - 12, len = strlen(lb->name);
	char *n = malloc(NFT_SET_NAME_MAX + 1);
	unsigned k = 1;

	if (!n)
		return -ENOMEM;
	for (;;) {
		size_t o = (size_t)snprintf(n, NFT_SET_NAME_MAX + 1, "%s", pfx[fi]);
		bool dup = false;

		for (size_t i = 0; i < len && i < max; i++)
			n[o++] = set_char_ok(lb->name[i]) ? lb->name[i] : '_';
		n[o] = 0;
		if (k > 1)
			snprintf(n + o, NFT_SET_NAME_MAX + 1 - o, "_%u", k);
		for (struct udp_lb *q = udplb_first(c); q && q != lb; q = q->next)
			dup |= q->nft_set[fi] && !strcmp(q->nft_set[fi], n);
		if (!dup)
			break;
		k++;
	}
	free(lb->nft_set[fi]);
	lb->nft_set[fi] = n;
	return 0;
}

/* UDP diverts of udp-lb sections: in the namespace of each transparent
 * dgram-bind, each family of its decoys goes to the section's first
 * dgram-bind of that family there. Two sections must not share a decoy
 * in one namespace. Spoofing sections need the UDP socket rule where
 * their sockets live (the process's namespace). */
static bool transparent_any(const struct udp_lb *lb)
{
	for (const struct udp_bind *b = lb->binds; b; b = b->next)
		if (b->transparent)
			return true;
	return false;
}

static void udp_claim(struct dp_config *c, struct tproxy_gconf *g, int *errors)
{
	char nsd[NS_DESC_MAX], es[ICPT_ELEM_STRLEN];

	for (struct udp_lb *lb = udplb_first(c); lb; lb = lb->next) {
		struct tproxy_ns *n;

		if (udplb_spoofs(lb)) {
			if (!(n = ns_get(g, NULL)))
				goto nomem;
			n->nft.udp = true;
		}
		if (!lb->decoys.n)
			continue;
		for (int fi = 0; fi < 2; fi++) {
			bool found = false;

			if (!icpt_count(&lb->decoys, fam_of[fi]))
				continue;
			if (udp_set_name(c, lb, fi) < 0)
				goto nomem;
			for (struct udp_bind *b = lb->binds; b; b = b->next) {
				size_t i;

				if (!b->transparent || b->addr.ss_family != fam_of[fi])
					continue;
				found = true;
				if (!(n = ns_get(g, b->netns)))
					goto nomem;
				n->nft.udp = true;
				for (i = 0; i < n->nft.ndiv; i++)
					if (!n->fe[i] && n->div[i].proto == IPPROTO_UDP &&
					    n->div[i].set == lb->nft_set[fi])
						break;
				if (i < n->nft.ndiv)
					continue;
				/* another section's decoys in this namespace */
				for (i = 0; i < n->nft.ndiv; i++) {
					size_t ia = 0, ib = 0;
					struct icpt_elem x;
					int r;

					if (n->fe[i] || n->div[i].proto != IPPROTO_UDP || n->div[i].family != fam_of[fi])
						continue;
					r = icpt_lists_overlap(n->div[i].decoys, &lb->decoys, fam_of[fi], &ia, &ib);
					if (r > 0) {
						icpt_elem_meet(&n->div[i].decoys->v[ia], &lb->decoys.v[ib], &x);
						cfg_report_at(true, lb->icpt_file, lb->icpt_line, errors,
							      "udp-lb '%s' intercepts %s in %s, which another "
							      "udp-lb intercepts there too (set %s): a decoy "
							      "address:port may belong to one section only",
							      lb->name, icpt_elem_str(&x, es, sizeof(es)),
							      ns_desc(b->netns, nsd, sizeof(nsd)), n->div[i].set);
					}
				}
				if (ns_add_div(n, NULL, &(struct listener){ .addr = b->addr }) < 0)
					goto nomem;
				n->div[n->nft.ndiv - 1].proto = IPPROTO_UDP;
				n->div[n->nft.ndiv - 1].set = lb->nft_set[fi];
				n->div[n->nft.ndiv - 1].decoys = &lb->decoys;
			}
			/* no transparent dgram-bind at all: udplb_finalize() said so */
			if (!found && transparent_any(lb))
				cfg_report_at(true, lb->icpt_file, lb->icpt_line, errors,
					      "udp-lb '%s' intercepts %s decoys but has no %s 'dgram-bind ... "
					      "transparent' to divert them to", lb->name, fam_name(fi), fam_name(fi));
		}
	}
	return;
nomem:
	ha_alert("config : out of memory");
	(*errors)++;
}

int tproxy_finalize(struct dp_config *c)
{
	struct tproxy_gconf *g = tproxy_gconf_get(c);
	struct ovl_seen seen = { NULL, 0 };
	int errors = 0;

	if (!g) {
		ha_alert("config : out of memory");
		return 1;
	}
	tproxy_plan_free(g);
	for (struct proxy *px = c->proxies; px; px = px->next) {
		if (!(px->cap & PR_CAP_FE) || !px->tproxy)
			continue;
		free(px->tproxy->set[0]);
		free(px->tproxy->set[1]);
		px->tproxy->set[0] = px->tproxy->set[1] = NULL;
		px->tproxy->shared = false;
		if (!px->disabled)
			fe_claim(g, px, &errors);
	}
	for (size_t i = 0; i < g->nns; i++)
		ns_mark_shared(&g->ns[i]);
	for (struct proxy *px = c->proxies; px; px = px->next)
		if ((px->cap & PR_CAP_FE) && px->tproxy)
			fe_normalise(px, &errors);
	if (set_names(c) < 0) {
		ha_alert("config : out of memory");
		return errors + 1;
	}
	for (size_t i = 0; i < g->nns; i++) {
		struct tproxy_ns *n = &g->ns[i];
		char *err = NULL;

		ns_check_overlaps(n, &seen, &errors);
		if (ns_lists(c, n, &err) < 0) {
			char nsd[NS_DESC_MAX];

			ha_alert("config : %s: %s", ns_desc(n->name, nsd, sizeof(nsd)),
				 err ? err : "out of memory");
			errors++;
		}
		free(err);
	}
	free(seen.v);
	for (struct proxy *px = c->proxies; px; px = px->next)
		if ((px->cap & PR_CAP_FE) && px->tproxy)
			icpt_list_free(&px->tproxy->raw);
	/* the proxy's own connections must not be diverted back to it */
	for (struct proxy *px = c->proxies; px; px = px->next)
		if ((px->cap & PR_CAP_FE) && px->tproxy && !px->disabled)
			tproxy_loop_check(c, px, &px->tproxy->decoys, loop_report, &errors);
	/* spoofing servers need the socket rule and the routing where their
	 * sockets live */
	for (struct proxy *px = c->proxies; px; px = px->next) {
		if (!(px->cap & PR_CAP_BE) || px->disabled)
			continue;
		for (struct server *s = px->srv; s; s = s->next) {
			if (server_spoofs(px, s) && !ns_get(g, s->netns)) {
				cfg_report_at(true, s->file, s->line, &errors, "out of memory");
				return errors;
			}
		}
	}
	udp_claim(c, g, &errors);
	for (size_t i = 0; i < g->nns; i++) {
		g->ns[i].nft.mark = g->mark;
		g->ns[i].nft.div = g->ns[i].div;
	}
	return errors;
}
