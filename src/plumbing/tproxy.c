/* tproxy.c — `intercept` decoy addresses and the nftables/routing plumbing
 * that diverts them to a frontend's transparent listener (see tproxy.h).
 *
 * Two halves:
 *   - configuration (keywords, tproxy_finalize): pure, builds one plan entry
 *     per network namespace that needs plumbing, with one divert (set,
 *     tproxy rule, listener) per intercepting frontend and family there,
 *     and refuses decoys two frontends of a namespace share; `decoyproxy -c`
 *     stops here;
 *   - kernel (tproxy_apply and friends): per namespace, the routing objects
 *     through rtnetlink (nl.h) and the nft table through one atomic batch
 *     (nft.h), with sockets created in that namespace (ns_cache_socket()).
 *
 * Ownership across generations: each plan entry records what its generation
 * added to the kernel (rule_own->nscache, route_own, ann_own, nft_on). On reload the
 * new generation inherits objects the old one owned when their key (mark,
 * table, prefix) is unchanged, so nothing is deleted and re-added; after
 * the swap, tproxy_remove_stale() deletes what the old generation owned and
 * the new one does not. An object found in the kernel that no generation
 * added (the operator's) is never owned, hence never removed.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "lib/addr.h"
#include "model/bind.h"
#include "net/nl.h"
#include "model/proxy.h"
#include "model/server.h"
#include "model/source.h"
#include "plumbing/tproxy.h"
#include "log/msg.h"
#include "net/nscache.h"

/* Address arithmetic for both families in one type (as in intercept.c);
 * a GNU extension every supported compiler has. */
typedef unsigned __int128 u128;

/* Families by index, as in struct tproxy_ns: [0] IPv4, [1] IPv6. */
static const int fam_of[2] = { AF_INET, AF_INET6 };

/* "namespace '<name>'" or "the process's network namespace" */
#define NS_DESC_MAX 128

/* One address range written on an `announce` line. */
struct tproxy_range {
	uint8_t family;
	union icpt_addr lo, hi;
};

struct tproxy_fe {
	struct icpt_list decoys;        /* every spec of the frontend */
	struct icpt_list raw;           /* during tproxy_finalize() only: the list as
	                                 * written, when another frontend diverts the
	                                 * same family in a namespace (origins for
	                                 * overlap errors) */
	struct tproxy_range *ranges;    /* address ranges of `announce` lines */
	size_t nranges, capranges;
	struct tproxy_cidr *announce;   /* built by tproxy_finalize(), sorted */
	size_t nannounce;
	char *file;                     /* the first `intercept*` line, for messages */
	int line;
	char *set[2];                   /* set names, [0] IPv4, [1] IPv6 (tproxy.h) */
	bool shared;                    /* see raw */
	unsigned rt_changes;            /* add/del intercept applied on the stats socket */
};

struct tproxy_gconf {
	struct conf_ext ext;            /* in the generation (model/conf.h) */
	uint32_t mark;
	uint32_t table;
	bool routing;
	struct tproxy_ns *ns;           /* the plan, one entry per namespace */
	size_t nns;
};

/* ---- allocation ------------------------------------------------------------ */

static void gconf_ext_free(struct dp_config *c, struct conf_ext *e);
static const struct conf_ext_ops tproxy_ext_ops = { "tproxy", gconf_ext_free };

/* c's tproxy state, or NULL when c has none (no tproxy keyword). */
static struct tproxy_gconf *gconf_of(const struct dp_config *c)
{
	struct conf_ext *e = conf_ext_find(c, &tproxy_ext_ops);

	return e ? container_of(e, struct tproxy_gconf, ext) : NULL;
}

static struct tproxy_gconf *gconf_get(struct dp_config *c)
{
	struct tproxy_gconf *g = gconf_of(c);

	if (g)
		return g;
	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->ext.ops = &tproxy_ext_ops;
	g->mark = TPROXY_MARK_DEFAULT;
	g->table = TPROXY_TABLE_DEFAULT;
	g->routing = true;
	conf_ext_add(c, &g->ext);
	return g;
}

static void plan_free(struct tproxy_gconf *g)
{
	for (size_t i = 0; i < g->nns; i++) {
		free(g->ns[i].name);
		free(g->ns[i].ann_own);
		free(g->ns[i].fe);
		free(g->ns[i].div);
		free(g->ns[i].announce_v);
	}
	free(g->ns);
	g->ns = NULL;
	g->nns = 0;
}

static void tproxy_fe_free(struct tproxy_fe *f)
{
	if (!f)
		return;
	icpt_list_free(&f->decoys);
	icpt_list_free(&f->raw);
	free(f->set[0]);
	free(f->set[1]);
	free(f->ranges);
	free(f->announce);
	free(f->file);
	free(f);
}

/* With c: the plan, and every frontend's decoy lists (each frontend with an
 * `intercept` line made this state exist, see fe_get()). */
static void gconf_ext_free(struct dp_config *c, struct conf_ext *e)
{
	struct tproxy_gconf *g = container_of(e, struct tproxy_gconf, ext);

	for (struct proxy *px = c->proxies; px; px = px->next) {
		tproxy_fe_free(px->tproxy);
		px->tproxy = NULL;
	}
	plan_free(g);
	free(g);
}

/* ---- address helpers ------------------------------------------------------- */

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

static int cidr_cmp(const struct tproxy_cidr *a, const struct tproxy_cidr *b)
{
	size_t alen = a->family == AF_INET6 ? 16 : 4;
	int c;

	if (a->family != b->family)
		return a->family == AF_INET ? -1 : 1;
	c = memcmp(&a->addr, &b->addr, alen);
	if (c)
		return c;
	return a->plen < b->plen ? -1 : a->plen > b->plen;
}

static const char *cidr_str(const struct tproxy_cidr *c, char *buf, size_t cap)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	inet_ntop(c->family, &c->addr, ip, sizeof(ip));
	snprintf(buf, cap, "%s/%u", ip, c->plen);
	return buf;
}

/* ---- global keywords ----------------------------------------------------------- */

static int one_arg(int argc, char **argv, char **err)
{
	if (argc < 2) {
		memprintf(err, "expects one argument");
		return -EINVAL;
	}
	if (argc > 2) {
		memprintf(err, "unexpected extra argument '%s'", argv[2]);
		return -EINVAL;
	}
	return 0;
}

/* A 32-bit value in decimal or 0x-prefixed hex (marks are usually written
 * in hex, as `ip rule` prints them). */
static int parse_u32(const char *s, uint32_t *out)
{
	unsigned long long v;
	char *end;

	if (!strncmp(s, "0x", 2) || !strncmp(s, "0X", 2)) {
		const char *h = s + 2;

		if (!*h || strspn(h, "0123456789abcdefABCDEF") != strlen(h) || strlen(h) > 8)
			return -EINVAL;
		v = strtoull(h, &end, 16);
	} else if (cfg_parse_uint(s, UINT32_MAX, &v) < 0) {
		return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

static int kw_tproxy_mark(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct tproxy_gconf *g;
	uint32_t v;

	if (one_arg(argc, argv, err))
		return CFG_ERR;
	if (parse_u32(argv[1], &v) < 0 || !v) {
		memprintf(err, "invalid mark '%s' (expects 1 to 4294967295, decimal or 0x-hex; "
			  "mark 0 cannot be matched by an fwmark rule)", argv[1]);
		return CFG_ERR;
	}
	g = gconf_get(ctx->conf);
	if (!g) {
		memprintf(err, "out of memory");
		return CFG_ERR;
	}
	g->mark = v;
	return CFG_OK;
}

static int kw_tproxy_table(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct tproxy_gconf *g;
	const char *why = NULL;
	uint32_t v;

	if (one_arg(argc, argv, err))
		return CFG_ERR;
	if (parse_u32(argv[1], &v) < 0) {
		memprintf(err, "invalid routing table id '%s' (expects 1 to 4294967295)", argv[1]);
		return CFG_ERR;
	}
	if (v == RT_TABLE_UNSPEC)
		why = "0 means no table";
	else if (v == RT_TABLE_DEFAULT)
		why = "it is the kernel's 'default' table";
	else if (v == RT_TABLE_MAIN)
		why = "it is the kernel's 'main' table";
	else if (v == RT_TABLE_LOCAL)
		why = "it is the kernel's 'local' table";
	if (why) {
		memprintf(err, "routing table id '%s' cannot be used: %s (default %u)", argv[1], why,
			  TPROXY_TABLE_DEFAULT);
		return CFG_ERR;
	}
	g = gconf_get(ctx->conf);
	if (!g) {
		memprintf(err, "out of memory");
		return CFG_ERR;
	}
	g->table = v;
	return CFG_OK;
}

static int kw_tproxy_routing(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct tproxy_gconf *g;
	bool on;

	if (one_arg(argc, argv, err))
		return CFG_ERR;
	if (!strcmp(argv[1], "on")) {
		on = true;
	} else if (!strcmp(argv[1], "off")) {
		on = false;
	} else {
		memprintf(err, "expects 'on' or 'off', not '%s'", argv[1]);
		return CFG_ERR;
	}
	g = gconf_get(ctx->conf);
	if (!g) {
		memprintf(err, "out of memory");
		return CFG_ERR;
	}
	g->routing = on;
	return CFG_OK;
}

/* ---- frontend keywords -------------------------------------------------------------- */

static struct tproxy_fe *fe_get(struct cfg_ctx *ctx, char **err)
{
	struct proxy *px = ctx_px(ctx);
	struct tproxy_fe *f = px->tproxy;

	if (f)
		return f;
	/* the generation's state frees every frontend's lists */
	if (!gconf_get(ctx->conf)) {
		memprintf(err, "out of memory");
		return NULL;
	}
	f = calloc(1, sizeof(*f));
	if (!f || !(f->file = strdup(ctx->file))) {
		free(f);
		memprintf(err, "out of memory");
		return NULL;
	}
	icpt_list_init(&f->decoys);
	icpt_list_init(&f->raw);
	f->line = ctx->line;
	px->tproxy = f;
	return f;
}

/* Records the address ranges of the decoy elements [from, n) for
 * `announce`. Several elements of one spec share a range (one per port
 * item); the merge in tproxy_finalize() folds them. */
static int ranges_add(struct tproxy_fe *f, size_t from, char **err)
{
	size_t more = f->decoys.n - from;

	if (f->nranges + more > f->capranges) {
		size_t cap = f->capranges ? f->capranges : 16;
		struct tproxy_range *r;

		while (cap < f->nranges + more)
			cap *= 2;
		r = realloc(f->ranges, cap * sizeof(*r));
		if (!r) {
			memprintf(err, "out of memory");
			return -ENOMEM;
		}
		f->ranges = r;
		f->capranges = cap;
	}
	for (size_t i = from; i < f->decoys.n; i++) {
		struct tproxy_range *r = &f->ranges[f->nranges++];

		r->family = f->decoys.v[i].family;
		r->lo = f->decoys.v[i].lo;
		r->hi = f->decoys.v[i].hi;
	}
	return 0;
}

static int kw_intercept(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct tproxy_fe *f;
	bool announce = false;
	int nspec = argc - 1, ret;
	char *where = NULL;
	size_t n0;

	if (nspec > 0 && !strcmp(argv[argc - 1], "announce")) {
		announce = true;
		nspec--;
	}
	for (int i = 1; i <= nspec; i++) {
		if (!strcmp(argv[i], "announce")) {
			memprintf(err, "'announce' must be the last word of the line");
			return CFG_ERR;
		}
	}
	if (nspec == 0) {
		memprintf(err, "expects at least one decoy spec ADDRS:PORTS, e.g. "
			  "'192.0.2.0/24:22,80' or '[fd09::]/64:443'");
		return CFG_ERR;
	}
	f = fe_get(ctx, err);
	if (!f)
		return CFG_ERR;
	if (memprintf(&where, "%s:%d", ctx->file, ctx->line) < 0) {
		memprintf(err, "out of memory");
		return CFG_ERR;
	}
	n0 = f->decoys.n;
	ret = icpt_parse_args(&f->decoys, nspec, argv + 1, where, err);
	if (!ret && announce)
		ret = ranges_add(f, n0, err);
	free(where);
	return ret ? CFG_ERR : CFG_OK;
}

static void file_warn(void *data, const char *msg)
{
	cfg_warn(data, "'intercept-file': %s", msg);
}

static int kw_intercept_file(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct tproxy_fe *f;
	bool announce = false;
	size_t n0;

	if (argc < 2) {
		memprintf(err, "expects a file name, e.g. 'intercept-file /etc/decoyproxy/decoys.lst'");
		return CFG_ERR;
	}
	if (argc > 3 || (argc == 3 && strcmp(argv[2], "announce"))) {
		memprintf(err, "unexpected word '%s' after the file name (only 'announce' may follow)",
			  argv[argc > 3 ? 3 : 2]);
		return CFG_ERR;
	}
	announce = argc == 3;
	f = fe_get(ctx, err);
	if (!f)
		return CFG_ERR;
	n0 = f->decoys.n;
	if (icpt_file_load(argv[1], &f->decoys, file_warn, ctx, err) < 0)
		return CFG_ERR;
	if (announce && ranges_add(f, n0, err) < 0)
		return CFG_ERR;
	return CFG_OK;
}

static const struct cfg_kw tproxy_kws[] = {
	{ "tproxy-mark", CFG_SEC_GLOBAL, kw_tproxy_mark, NULL },
	{ "tproxy-table", CFG_SEC_GLOBAL, kw_tproxy_table, NULL },
	{ "tproxy-routing", CFG_SEC_GLOBAL, kw_tproxy_routing, NULL },
	{ "intercept", CFG_SEC_FE_NODEF, kw_intercept, NULL },
	{ "intercept-file", CFG_SEC_FE_NODEF, kw_intercept_file, NULL },
};

const struct cfg_kw_list tproxy_kw_list = { tproxy_kws, ARRAY_SIZE(tproxy_kws) };

/* ---- finalize: announce routes ---------------------------------------------------- */

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

static bool name_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static const char *ns_desc(const char *name, char *buf, size_t cap)
{
	if (!name)
		snprintf(buf, cap, "the process's network namespace");
	else
		snprintf(buf, cap, "namespace '%s'", name);
	return buf;
}

static struct tproxy_ns *ns_find(const struct tproxy_gconf *g, const char *name)
{
	for (size_t i = 0; g && i < g->nns; i++)
		if (name_eq(g->ns[i].name, name))
			return &g->ns[i];
	return NULL;
}

/* The plan entry of namespace name, created when missing. NULL: no memory.
 * Pointers into g->ns are invalidated by the next call. */
static struct tproxy_ns *ns_get(struct tproxy_gconf *g, const char *name)
{
	struct tproxy_ns *n = ns_find(g, name), *v;

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

static void fin_alert(const char *file, int line, int *errors, const char *fmt, ...)
	DP_PRINTF(4, 5);
static void fin_alert(const char *file, int line, int *errors, const char *fmt, ...)
{
	va_list ap;
	char *m = NULL;

	va_start(ap, fmt);
	vmemprintf(&m, fmt, ap);
	va_end(ap);
	ha_alert("config : parsing [%s:%d] : %s", file, line, m ? m : "out of memory");
	free(m);
	(*errors)++;
}

static const char *px_kind(const struct proxy *px)
{
	return (px->cap & PR_CAP_BE) ? "listen" : "frontend";
}

static void norm_warn(void *data, const char *msg)
{
	const struct proxy *px = data;

	ha_warning("config : %s '%s': %s", px_kind(px), px->name, msg);
}

static int fam_index(int family)
{
	return family == AF_INET ? 0 : family == AF_INET6 ? 1 : -1;
}

static const char *fam_name(int fi)
{
	return fi ? "IPv6" : "IPv4";
}

/* The divert of px for family fam in n, or -1. */
static long ns_div_of(const struct tproxy_ns *n, const struct proxy *px, int fam)
{
	for (size_t i = 0; n && i < n->nft.ndiv; i++)
		if (n->fe[i] == px && n->div[i].family == fam)
			return (long)i;
	return -1;
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
			fin_alert(bc->file, bc->line, errors, "out of memory");
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
				fin_alert(f->file, f->line, errors,
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
		fin_alert(f->file, f->line, errors,
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
		fin_alert(f->file, f->line, errors, "%s '%s': out of memory", px_kind(px), px->name);
		return;
	}
	if (icpt_normalise(&f->decoys, norm_warn, px) < 0) {
		fin_alert(f->file, f->line, errors, "%s '%s': out of memory", px_kind(px), px->name);
		return;
	}
	if (announce_build(f, &err) < 0) {
		fin_alert(f->file, f->line, errors, "%s '%s': %s", px_kind(px), px->name, err);
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
				fin_alert(fb->file, fb->line, errors, "out of memory");
				return;
			}
			if (!r || !ovl_seen_add(seen, a, b))
				continue;
			icpt_elem_meet(&fa->decoys.v[ia], &fb->decoys.v[ib], &x);
			fin_alert(fb->file, fb->line, errors,
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

/* Set names, lists and the announce routes of every frontend diverted
 * in n (the union of their ranges, split again). */
static int ns_lists(struct tproxy_ns *n, char **err)
{
	struct tproxy_range *v = NULL;
	size_t nv = 0, cap = 0;
	int ret;

	for (size_t i = 0; i < n->nft.ndiv; i++) {
		const struct tproxy_fe *f = n->fe[i]->tproxy;
		size_t k;

		n->div[i].set = f->set[fam_index(n->div[i].family)];
		n->div[i].decoys = &f->decoys;
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
	ret = cidrs_build(v, nv, &n->announce_v, &n->nannounce, err);
	n->announce = n->announce_v;
	free(v);
	return ret;
}

static bool server_spoofs(const struct proxy *px, const struct server *s)
{
	const struct src_conf *sc = s->source.set ? &s->source : &px->source;

	return sc->set && sc->usesrc != SRC_USESRC_NONE;
}

int tproxy_finalize(struct dp_config *c)
{
	struct tproxy_gconf *g = gconf_get(c);
	struct ovl_seen seen = { NULL, 0 };
	int errors = 0;

	if (!g) {
		ha_alert("config : out of memory");
		return 1;
	}
	plan_free(g);
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
		if (ns_lists(n, &err) < 0) {
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
	/* spoofing servers need the socket rule and the routing where their
	 * sockets live */
	for (struct proxy *px = c->proxies; px; px = px->next) {
		if (!(px->cap & PR_CAP_BE) || px->disabled)
			continue;
		for (struct server *s = px->srv; s; s = s->next) {
			if (server_spoofs(px, s) && !ns_get(g, s->netns)) {
				fin_alert(s->file, s->line, &errors, "out of memory");
				return errors;
			}
		}
	}
	for (size_t i = 0; i < g->nns; i++) {
		g->ns[i].nft.mark = g->mark;
		g->ns[i].nft.div = g->ns[i].div;
	}
	return errors;
}

/* ---- kernel: helpers ------------------------------------------------------------------- */

static void err_clear(char **err)
{
	free(*err);
	*err = NULL;
}

/* rtnetlink socket in namespace ns, and the index of its loopback. */
static int rtnl_open(struct dp_config *c, const char *ns, struct nl_sock **s, int *lo, char **err)
{
	int fd, ret;

	fd = ns_cache_socket(c->nscache, ns, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE, err);
	if (fd < 0)
		return fd;
	ret = nl_open_fd(s, fd);
	if (ret < 0) {
		memprintf(err, "rtnetlink socket: %s", strerror(-ret));
		return ret;
	}
	ret = nl_link_index(*s, "lo", NULL, err);
	if (ret < 0) {
		nl_close(*s);
		*s = NULL;
		return ret;
	}
	*lo = ret;
	return 0;
}

static void rule_fill(struct nl_rule *r, const struct tproxy_gconf *g, int fi)
{
	memset(r, 0, sizeof(*r));
	r->family = fam_of[fi];
	r->has_fwmark = true;
	r->fwmark = g->mark;
	r->table = g->table;
}

/* local 0.0.0.0/0 (::/0) dev lo in the tproxy table */
static void default_fill(struct nl_route *r, const struct tproxy_gconf *g, int fi, int lo)
{
	memset(r, 0, sizeof(*r));
	r->family = fam_of[fi];
	r->type = RTN_LOCAL;
	r->table = g->table;
	r->oif = lo;
}

/* local <prefix> dev lo in table local, where the kernel looks when it
 * decides whether to answer ARP for an address */
static void announce_fill(struct nl_route *r, const struct tproxy_cidr *c, int lo)
{
	memset(r, 0, sizeof(*r));
	r->family = c->family;
	r->type = RTN_LOCAL;
	r->table = RT_TABLE_LOCAL;
	memcpy(&r->dst, &c->addr, sizeof(r->dst));
	r->dst_len = c->plen;
	r->oif = lo;
}

static bool same_rule(const struct tproxy_gconf *ga, const struct tproxy_gconf *gb)
{
	return ga && gb && ga->mark == gb->mark && ga->table == gb->table;
}

static bool same_table(const struct tproxy_gconf *ga, const struct tproxy_gconf *gb)
{
	return ga && gb && ga->table == gb->table;
}

/* Whether n owns the announce route c. */
static bool announce_owned(const struct tproxy_ns *n, const struct tproxy_cidr *c)
{
	size_t lo = 0, hi;

	if (!n || !n->ann_own)
		return false;
	hi = n->nannounce;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int d = cidr_cmp(&n->announce[mid], c);

		if (!d)
			return n->ann_own[mid];
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* IPv6 routing that fails because IPv6 is missing (kernel without it:
 * EAFNOSUPPORT) or disabled on lo (EACCES) is only a warning where no IPv6
 * listener needs it: an IPv4-only segment must still start. */
static bool v6_optional(const struct tproxy_ns *n, int fi, int ret)
{
	for (size_t i = 0; i < n->nft.ndiv; i++)
		if (n->nft.div[i].family == AF_INET6)
			return false;
	return fi == 1 && (ret == -EAFNOSUPPORT || ret == -EACCES);
}

/* ---- kernel: install -------------------------------------------------------------------- */

/* The fwmark rule of family fam_of[fi]. An identical rule already there is
 * kept; it stays ours only if the previous generation o added it. */
static int rule_install(struct nl_sock *s, const struct tproxy_gconf *g, struct tproxy_ns *n,
			const struct tproxy_gconf *og, const struct tproxy_ns *o, int fi, char **err)
{
	bool inherited = o && o->rule_own[fi] && same_rule(g, og);
	struct nl_rule r;
	int ret;

	rule_fill(&r, g, fi);
	ret = nl_rule_exists(s, &r, err);
	if (ret > 0) {
		n->rule_own[fi] = inherited;
		return 0;
	}
	if (!ret)
		ret = nl_rule_add(s, &r, err);
	if (ret == -EEXIST) {           /* appeared meanwhile: not ours */
		err_clear(err);
		return 0;
	}
	if (!ret)
		n->rule_own[fi] = true;
	return ret;
}

static int route_install(struct nl_sock *s, const struct tproxy_gconf *g, struct tproxy_ns *n,
			 const struct tproxy_gconf *og, const struct tproxy_ns *o, int fi, int lo,
			 char **err)
{
	bool inherited = o && o->route_own[fi] && same_table(g, og);
	struct nl_route r;
	int ret;

	default_fill(&r, g, fi, lo);
	ret = nl_route_exists(s, &r, err);
	if (ret > 0) {
		n->route_own[fi] = inherited;
		return 0;
	}
	if (!ret)
		ret = nl_route_add(s, &r, err);
	if (ret == -EEXIST) {
		/* the table holds another default route: using it would
		 * change what the operator set up */
		memprintf(err, "routing table %u already has an %s default route that is not "
			  "'local %s dev lo': choose another 'tproxy-table' or set "
			  "'tproxy-routing off'", g->table, fi ? "IPv6" : "IPv4",
			  fi ? "::/0" : "0.0.0.0/0");
		return ret;
	}
	if (!ret)
		n->route_own[fi] = true;
	return ret;
}

static int announce_install(struct nl_sock *s, struct tproxy_ns *n, const struct tproxy_ns *o,
			    int lo, char **err)
{
	char cs[INET6_ADDRSTRLEN + 8];

	if (!n->nannounce)
		return 0;
	free(n->ann_own);
	n->ann_own = calloc(n->nannounce, sizeof(*n->ann_own));
	if (!n->ann_own) {
		memprintf(err, "out of memory");
		return -ENOMEM;
	}
	for (size_t k = 0; k < n->nannounce; k++) {
		struct nl_route r;
		int ret;

		if (announce_owned(o, &n->announce[k])) {
			n->ann_own[k] = true;
			continue;
		}
		announce_fill(&r, &n->announce[k], lo);
		ret = nl_route_add(s, &r, err);
		if (!ret) {
			n->ann_own[k] = true;
		} else if (ret == -EEXIST) {
			/* the operator's (or an interface address): keep it */
			err_clear(err);
		} else {
			memprintf(err, "announce: local route %s dev lo: %s",
				  cidr_str(&n->announce[k], cs, sizeof(cs)),
				  *err ? *err : strerror(-ret));
			return ret;
		}
	}
	return 0;
}

static int nft_sock(struct dp_config *c, const char *ns, char **err)
{
	return ns_cache_socket(c->nscache, ns, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER, err);
}

static int nft_install(struct dp_config *c, struct tproxy_ns *n, const struct tproxy_ns *o,
		       char **err)
{
	int fd = nft_sock(c, n->name, err), ret;

	if (fd < 0)
		return fd;
	/* same sets and rules: only the set contents change, replaced in one
	 * batch against what the previous generation put there; otherwise
	 * (a frontend added, removed or renamed, a listener or the mark
	 * changed) one batch rebuilds the whole table */
	if (o && o->nft_on)
		ret = nft_replace_elements(fd, &n->nft, &o->nft, err);
	else
		ret = nft_apply(fd, &n->nft, err);
	close(fd);
	if (!ret)
		n->nft_on = true;
	return ret;
}

/* ---- kernel: release ------------------------------------------------------------------ */

static bool owns_anything(const struct tproxy_ns *n)
{
	if (n->rule_own[0] || n->rule_own[1] || n->route_own[0] || n->route_own[1])
		return true;
	for (size_t k = 0; n->ann_own && k < n->nannounce; k++)
		if (n->ann_own[k])
			return true;
	return false;
}

static void release_warn(const char *name, const char *what, int ret, const char *err)
{
	char nsd[NS_DESC_MAX];

	ha_warning("tproxy: %s: cannot remove %s: %s", ns_desc(name, nsd, sizeof(nsd)), what,
		   err ? err : strerror(-ret));
}

static void disown(struct tproxy_ns *n)
{
	n->rule_own[0] = n->rule_own[1] = false;
	n->route_own[0] = n->route_own[1] = false;
	if (n->ann_own)
		memset(n->ann_own, 0, n->nannounce * sizeof(*n->ann_own));
}

/* Removes the routing objects v (generation vg) owns that k (generation kg,
 * may be NULL) does not own too; v owns nothing afterwards. c is v's
 * configuration (for the namespace socket). */
static void routing_release(struct dp_config *c, const struct tproxy_gconf *vg,
			    struct tproxy_ns *v, const struct tproxy_gconf *kg,
			    const struct tproxy_ns *k)
{
	struct nl_sock *s = NULL;
	char *err = NULL, cs[INET6_ADDRSTRLEN + 8];
	int lo, ret;

	if (!owns_anything(v))
		return;
	ret = rtnl_open(c, v->name, &s, &lo, &err);
	if (ret < 0) {
		/* a namespace that is gone took its routing with it */
		if (ret != -ENOENT)
			release_warn(v->name, "routing rules", ret, err);
		goto out;
	}
	for (int fi = 0; fi < 2; fi++) {
		struct nl_rule r;
		struct nl_route route;

		if (v->rule_own[fi] && !(k && k->rule_own[fi] && same_rule(vg, kg))) {
			rule_fill(&r, vg, fi);
			ret = nl_rule_del(s, &r, &err);
			if (ret < 0 && ret != -ENOENT)
				release_warn(v->name, "the fwmark rule", ret, err);
			err_clear(&err);
		}
		if (v->route_own[fi] && !(k && k->route_own[fi] && same_table(vg, kg))) {
			default_fill(&route, vg, fi, lo);
			ret = nl_route_del(s, &route, &err);
			if (ret < 0 && ret != -ESRCH)
				release_warn(v->name, "the local default route", ret, err);
			err_clear(&err);
		}
	}
	for (size_t i = 0; v->ann_own && i < v->nannounce; i++) {
		struct nl_route route;

		if (!v->ann_own[i] || announce_owned(k, &v->announce[i]))
			continue;
		announce_fill(&route, &v->announce[i], lo);
		ret = nl_route_del(s, &route, &err);
		if (ret < 0 && ret != -ESRCH)
			release_warn(v->name, cidr_str(&v->announce[i], cs, sizeof(cs)), ret, err);
		err_clear(&err);
	}
out:
	free(err);
	nl_close(s);
	disown(v);
}

/* Deletes n's nft table. */
static void nft_release(struct dp_config *c, struct tproxy_ns *n)
{
	char *err = NULL;
	int fd, ret;

	if (!n->nft_on)
		return;
	n->nft_on = false;
	fd = nft_sock(c, n->name, &err);
	if (fd < 0) {
		if (fd != -ENOENT)
			release_warn(n->name, "table inet " NFT_TABLE_NAME, fd, err);
		free(err);
		return;
	}
	ret = nft_remove(fd, &err);
	if (ret < 0)
		release_warn(n->name, "table inet " NFT_TABLE_NAME, ret, err);
	free(err);
	close(fd);
}

/* Puts the nft table of n's namespace back to o's plan (the kernel holds
 * n's), or deletes it when o had none. */
static void nft_restore(struct dp_config *c, struct tproxy_ns *n, const struct tproxy_ns *o)
{
	char *err = NULL, nsd[NS_DESC_MAX];
	int fd, ret;

	if (!n->nft_on)
		return;
	if (!o || !o->nft_on) {
		nft_release(c, n);
		return;
	}
	n->nft_on = false;
	fd = nft_sock(c, n->name, &err);
	if (fd < 0) {
		ret = fd;
	} else {
		ret = nft_replace_elements(fd, &o->nft, &n->nft, &err);
		close(fd);
	}
	if (ret < 0)
		ha_alert("tproxy: %s: cannot restore the previous decoy sets: %s",
			 ns_desc(n->name, nsd, sizeof(nsd)), err ? err : strerror(-ret));
	free(err);
}

/* ---- kernel: one namespace ------------------------------------------------------------ */

static int ns_apply(struct dp_config *c, struct tproxy_gconf *g, struct tproxy_ns *n,
		    const struct tproxy_gconf *og, const struct tproxy_ns *o, char **err)
{
	struct nl_sock *s = NULL;
	int lo = 0, ret = 0;

	if (g->routing || n->nannounce) {
		ret = rtnl_open(c, n->name, &s, &lo, err);
		if (ret < 0)
			goto fail;
	}
	for (int fi = 0; g->routing && fi < 2; fi++) {
		ret = rule_install(s, g, n, og, o, fi, err);
		if (!ret)
			ret = route_install(s, g, n, og, o, fi, lo, err);
		if (v6_optional(n, fi, ret)) {
			char nsd[NS_DESC_MAX];

			ha_warning("tproxy: %s: IPv6 fwmark rule / local route not installed: %s",
				   ns_desc(n->name, nsd, sizeof(nsd)), *err ? *err : strerror(-ret));
			err_clear(err);
			ret = 0;
		}
		if (ret < 0)
			goto fail;
	}
	ret = announce_install(s, n, o, lo, err);
	if (ret < 0)
		goto fail;
	ret = nft_install(c, n, o, err);
	if (ret < 0)
		goto fail;
	nl_close(s);
	return 0;
fail:
	nl_close(s);
	routing_release(c, g, n, og, o);
	return ret;
}

/* "frontend 'f' -> 127.0.0.1:15001 [::1]:15002, frontend 'g' -> ..." */
static char *targets_str(const struct tproxy_ns *n)
{
	char a[INET6_ADDRSTRLEN + 8], *buf = NULL;

	for (size_t i = 0; i < n->nft.ndiv; i++) {
		const struct proxy *px = n->fe[i];
		int ret;

		addr_str(&n->nft.div[i].listen, a, sizeof(a));
		if (i && n->fe[i - 1] == px)
			ret = memprintf(&buf, "%s %s", buf, a);
		else
			ret = memprintf(&buf, "%s%s%s '%s' -> %s", buf ? buf : "", buf ? ", " : "",
					px_kind(px), px->name, a);
		if (ret < 0)
			break;
	}
	return buf;
}

static void ns_notice(const struct tproxy_gconf *g, const struct tproxy_ns *n)
{
	char nsd[NS_DESC_MAX], routing[96], pairs[32], *targets;
	size_t nann = 0, nelem = 0;
	uint64_t np = 0;

	for (size_t k = 0; n->ann_own && k < n->nannounce; k++)
		nann += n->ann_own[k];
	if (g->routing)
		snprintf(routing, sizeof(routing), "fwmark 0x%x lookup %u", g->mark, g->table);
	else
		snprintf(routing, sizeof(routing), "mark 0x%x, routing left to the operator",
			 g->mark);
	ns_desc(n->name, nsd, sizeof(nsd));
	if (!n->nft.ndiv) {
		ha_notice("tproxy: %s: socket rule for spoofing servers, %s", nsd, routing);
		return;
	}
	for (size_t i = 0; i < n->nft.ndiv; i++) {
		size_t k;

		nelem += icpt_count(n->nft.div[i].decoys, n->nft.div[i].family);
		/* a frontend diverts all its families where it is bound: its
		 * list's pairs once */
		for (k = 0; k < i && n->fe[k] != n->fe[i]; k++)
			;
		if (k == i) {
			uint64_t p = icpt_pairs(n->nft.div[i].decoys);

			np = np + p < np ? UINT64_MAX : np + p;
		}
	}
	targets = targets_str(n);
	/* icpt_pairs() saturates: an IPv6 /64 alone holds 2^64 addresses */
	if (np == UINT64_MAX)
		snprintf(pairs, sizeof(pairs), "2^64 or more");
	else
		snprintf(pairs, sizeof(pairs), "%llu", (unsigned long long)np);
	ha_notice("tproxy: %s: %zu decoy element(s), %s address:port pair(s): %s; %s; "
		  "%zu/%zu announce route(s) added", nsd, nelem, pairs,
		  targets ? targets : "?", routing, nann, n->nannounce);
	free(targets);
}

/* ---- lifecycle ------------------------------------------------------------------------- */

static void ns_undo(struct dp_config *newc, struct tproxy_ns *n, const struct tproxy_gconf *og,
		    const struct tproxy_ns *o)
{
	nft_restore(newc, n, o);
	routing_release(newc, gconf_of(newc), n, og, o);
}

int tproxy_apply(struct dp_config *c, struct dp_config *oldc, char **err)
{
	struct tproxy_gconf *g = gconf_of(c);
	const struct tproxy_gconf *og = oldc ? gconf_of(oldc) : NULL;
	char nsd[NS_DESC_MAX];
	size_t i;
	int ret;

	if (!g)
		return 0;
	for (i = 0; i < g->nns; i++) {
		struct tproxy_ns *n = &g->ns[i];

		ret = ns_apply(c, g, n, og, ns_find(og, n->name), err);
		if (ret < 0)
			goto fail;
	}
	for (i = 0; i < g->nns; i++)
		ns_notice(g, &g->ns[i]);
	return 0;
fail:
	memprintf(err, "tproxy: %s: %s", ns_desc(g->ns[i].name, nsd, sizeof(nsd)),
		  *err ? *err : strerror(-ret));
	while (i--)
		ns_undo(c, &g->ns[i], og, ns_find(og, g->ns[i].name));
	return ret;
}

void tproxy_undo(struct dp_config *newc, struct dp_config *oldc)
{
	struct tproxy_gconf *g = gconf_of(newc);
	const struct tproxy_gconf *og = oldc ? gconf_of(oldc) : NULL;

	for (size_t i = 0; g && i < g->nns; i++)
		ns_undo(newc, &g->ns[i], og, ns_find(og, g->ns[i].name));
}

void tproxy_remove_stale(struct dp_config *oldc, struct dp_config *newc)
{
	struct tproxy_gconf *og = gconf_of(oldc);
	const struct tproxy_gconf *g = newc ? gconf_of(newc) : NULL;

	for (size_t i = 0; og && i < og->nns; i++) {
		struct tproxy_ns *o = &og->ns[i];
		const struct tproxy_ns *n = ns_find(g, o->name);

		if (!n)
			nft_release(oldc, o);
		/* else the new generation's batch already replaced the table */
		o->nft_on = false;
		routing_release(oldc, og, o, g, n);
	}
}

void tproxy_remove(struct dp_config *c)
{
	struct tproxy_gconf *g = gconf_of(c);

	for (size_t i = 0; g && i < g->nns; i++) {
		nft_release(c, &g->ns[i]);
		routing_release(c, g, &g->ns[i], NULL, NULL);
	}
}

/* ---- runtime changes (stats socket) ------------------------------------------------------ */

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
			const struct icpt_list *ql = &q->tproxy->decoys;
			struct icpt_elem x;
			size_t ir = 0, iq = 0;
			int r;

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
	ret = 0;
	goto out;
nomem:
	memprintf(err, "out of memory");
	ret = -ENOMEM;
out:
	for (i = 0; i < ntg; i++)
		free(tg[i].div);
	free(tg);
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

/* ---- accessors ---------------------------------------------------------------------------- */

const struct tproxy_ns *tproxy_plan(const struct dp_config *c, size_t *n)
{
	*n = gconf_of(c) ? gconf_of(c)->nns : 0;
	return gconf_of(c) ? gconf_of(c)->ns : NULL;
}

uint32_t tproxy_mark(const struct dp_config *c)
{
	return gconf_of(c) ? gconf_of(c)->mark : TPROXY_MARK_DEFAULT;
}

uint32_t tproxy_table(const struct dp_config *c)
{
	return gconf_of(c) ? gconf_of(c)->table : TPROXY_TABLE_DEFAULT;
}

bool tproxy_routing(const struct dp_config *c)
{
	return gconf_of(c) ? gconf_of(c)->routing : true;
}

const struct icpt_list *tproxy_fe_decoys(const struct proxy *px)
{
	return px->tproxy ? &px->tproxy->decoys : NULL;
}

const char *tproxy_fe_set(const struct proxy *px, int family)
{
	int fi = fam_index(family);

	return px->tproxy && fi >= 0 ? px->tproxy->set[fi] : NULL;
}
