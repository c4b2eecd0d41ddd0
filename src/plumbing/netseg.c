/* netseg.c — network segments (`network` sections), HAProxy's
 * `namespace_list`, and sockets inside named namespaces.
 *
 * Three stages, kept apart so that each can be checked on its own:
 *   1. parsing and finalize: sections become a plan, an ordered array of
 *      system objects, without touching the system (`decoyproxy -c`);
 *   2. apply: each object is looked up and kept, created, or reported as a
 *      conflict; objects created by this call are rolled back on failure;
 *   3. removal (stop, reload, failed reload): only what this process owns,
 *      in reverse order.
 * Stages 2 and 3 reach the system only through a `struct netseg_sys` table
 * (netlink and /run/netns at run time, an in-memory model in unit tests).
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "model/conf.h"
#include "model/bind.h"
#include "plumbing/netseg.h"
#include "net/nl.h"
#include "net/ns.h"
#include "net/nscache.h"
#include "model/proxy.h"
#include "model/server.h"
#include "log/msg.h"

/* Longest sysctl value kept (the kernel takes at most a page per write). */
#define NETSEG_SYSCTL_MAX 4096
/* Addresses listed per look-up before growing the buffer. */
#define NETSEG_ADDR_CHUNK 256
/* Upper bound on addresses listed in one namespace; beyond it we refuse
 * rather than allocate without limit. */
#define NETSEG_ADDR_LIMIT 65536

enum { UPLINK_NONE, UPLINK_VETH, UPLINK_MACVLAN };

struct seg_addr {
	int family;
	union nl_ip ip;
	unsigned plen;
	int line;
};

struct seg_sysctl {
	char *key;
	char *val;
	int line;
};

/* One `network` section as parsed. */
struct segment {
	struct segment *next;
	char *name;
	char *netns;                /* NULL until finalize: the section name */
	char *file;
	int line;
	int uplink;                 /* UPLINK_* */
	char *updev;                /* bridge (veth) or parent (macvlan) */
	int vlan;                   /* 0: none */
	unsigned mtu;               /* 0: leave as created */
	bool persist;
	struct seg_addr *addrs;
	size_t naddrs;
	bool has_gw[2];             /* [0] IPv4, [1] IPv6 */
	union nl_ip gw[2];
	int gw_line[2];
	struct seg_sysctl *sysctls;
	size_t nsysctls;
	char host_if[IFNAMSIZ];     /* veth host end */
	char tmp_if[IFNAMSIZ];      /* macvlan before its move */
	char ns_if[IFNAMSIZ];       /* where addresses go: eth0 or eth0.<vid> */
};

/* A namespace that must exist: a `namespace_list` line, or a bind/server
 * `namespace` that nothing declares. */
struct nsdecl {
	struct nsdecl *next;
	char *name;
	char *what;                 /* "namespace_list", "bind 'x' of frontend 'f'" ... */
	char *file;
	int line;
};

enum obj_type { OBJ_NETNS, OBJ_BRIDGE, OBJ_VETH, OBJ_MACVLAN, OBJ_VLAN, OBJ_ADDR, OBJ_ROUTE, OBJ_SYSCTL };

/* One system object of the plan. Self-contained (owns its strings) so
 * that it can outlive the generation that planned it (stale lists). */
struct obj {
	int type;                   /* OBJ_* */
	char *seg;                  /* section name, for messages */
	char *ns;                   /* NULL: the host namespace */
	char dev[IFNAMSIZ];         /* the link (or the link an address/route uses) */
	char peer[IFNAMSIZ];        /* veth: peer name in ns; macvlan: host temp name */
	char parent[IFNAMSIZ];      /* veth: bridge; macvlan: parent; vlan: base link */
	int vlan;
	unsigned mtu;
	int family;                 /* ADDR, ROUTE */
	union nl_ip ip;             /* address, or gateway */
	unsigned plen;
	char *key, *val;            /* SYSCTL */
	bool persist;
	/* state after apply */
	bool owned;                 /* created by this process */
	bool fresh;                 /* created by the last netseg_apply() */
	char *orig_val;             /* SYSCTL: value before decoyproxy wrote it */
	char *prev_val;             /* SYSCTL: value before the last apply wrote it */
	bool replaced;              /* ROUTE: the last apply removed an older route of ours */
	char rep_dev[IFNAMSIZ];
	union nl_ip rep_gw;
};

struct objv {
	struct obj *v;
	size_t n, cap;
};

struct netseg {
	struct conf_ext ext;        /* in the generation (model/conf.h) */
	struct segment *segs, *segs_last;
	struct nsdecl *decls;       /* namespace_list */
	struct nsdecl *refs;        /* bind/server names nothing declares */
	struct objv plan;
	struct objv stale;          /* owned by the previous generation, not in ours */
	bool planned, applied, announced;
	struct ns_cache *nsc;        /* the generation's namespaces (net/nscache.h) */
};

/* ---- small helpers ------------------------------------------------------ */

static const struct netseg_sys real_sys;
static const struct netseg_sys *sys_ops = &real_sys;
static void *sys_ctx;

void netseg_set_sys(const struct netseg_sys *ops, void *ctx)
{
	sys_ops = ops ? ops : &real_sys;
	sys_ctx = ops ? ctx : NULL;
}

static void *ctx_of(struct netseg *st)
{
	return sys_ctx ? sys_ctx : st;
}

static bool str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return !strcmp(a, b);
}

static int fam_idx(int family)
{
	return family == AF_INET6;
}

static size_t fam_len(int family)
{
	return family == AF_INET6 ? sizeof(struct in6_addr) : sizeof(struct in_addr);
}

/* Parses an IPv4 or IPv6 address. */
static int parse_ip(const char *s, int *family, union nl_ip *ip)
{
	if (inet_pton(AF_INET, s, &ip->v4) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &ip->v6) == 1) {
		*family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

/* "addr[/len]"; without a length the address is a host address, as with
 * `ip addr add`. */
static int parse_cidr(const char *s, struct seg_addr *a, char **err)
{
	char buf[INET6_ADDRSTRLEN + 8];
	unsigned long long plen;
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);

	if (n == 0 || n >= INET6_ADDRSTRLEN) {
		memprintf(err, "invalid address '%s' (expected <ipv4>/<len> or <ipv6>/<len>)", s);
		return -EINVAL;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (parse_ip(buf, &a->family, &a->ip) < 0) {
		memprintf(err, "invalid address '%s' (expected <ipv4>/<len> or <ipv6>/<len>)", s);
		return -EINVAL;
	}
	a->plen = (unsigned)fam_len(a->family) * 8;
	if (!slash)
		return 0;
	if (cfg_parse_uint(slash + 1, a->plen, &plen) < 0) {
		memprintf(err, "invalid prefix length in '%s' (0 to %u)", s, a->plen);
		return -EINVAL;
	}
	a->plen = (unsigned)plen;
	return 0;
}

static char *ip_str(int family, const union nl_ip *ip, char *buf, size_t size)
{
	if (!inet_ntop(family, ip, buf, (socklen_t)size))
		snprintf(buf, size, "?");
	return buf;
}

/* Sysctl values compare as words: "4096 87380" equals "4096\t87380". */
static bool sysctl_val_eq(const char *a, const char *b)
{
	for (;;) {
		while (isspace((unsigned char)*a))
			a++;
		while (isspace((unsigned char)*b))
			b++;
		if (!*a || !*b)
			return !*a && !*b;
		while (*a && !isspace((unsigned char)*a)) {
			if (*a != *b)
				return false;
			a++;
			b++;
		}
		if (*b && !isspace((unsigned char)*b))
			return false;
	}
}

/* ---- state -------------------------------------------------------------- */

static void netseg_ext_free(struct dp_config *c, struct conf_ext *e);
static const struct conf_ext_ops netseg_ext_ops = { "network segments", netseg_ext_free };

/* c's segment state, or NULL when c has none. */
static struct netseg *state_of(const struct dp_config *c)
{
	struct conf_ext *e = conf_ext_find(c, &netseg_ext_ops);

	return e ? container_of(e, struct netseg, ext) : NULL;
}

static struct netseg *state_get(struct dp_config *c)
{
	struct netseg *st = state_of(c);

	if (st)
		return st;
	st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	st->ext.ops = &netseg_ext_ops;
	st->nsc = c->nscache;
	conf_ext_add(c, &st->ext);
	return st;
}

static void segment_free(struct segment *s)
{
	free(s->name);
	free(s->netns);
	free(s->file);
	free(s->updev);
	free(s->addrs);
	for (size_t i = 0; i < s->nsysctls; i++) {
		free(s->sysctls[i].key);
		free(s->sysctls[i].val);
	}
	free(s->sysctls);
	free(s);
}

static void decls_free(struct nsdecl *d)
{
	while (d) {
		struct nsdecl *n = d->next;

		free(d->name);
		free(d->what);
		free(d->file);
		free(d);
		d = n;
	}
}

static void obj_clear(struct obj *o)
{
	free(o->seg);
	free(o->ns);
	free(o->key);
	free(o->val);
	free(o->orig_val);
	free(o->prev_val);
	memset(o, 0, sizeof(*o));
}

static void objv_clear(struct objv *v)
{
	for (size_t i = 0; i < v->n; i++)
		obj_clear(&v->v[i]);
	free(v->v);
	memset(v, 0, sizeof(*v));
}

/* Appends a zeroed object; NULL on allocation failure. */
static struct obj *objv_add(struct objv *v)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 16;
		struct obj *nv = realloc(v->v, cap * sizeof(*nv));

		if (!nv)
			return NULL;
		v->v = nv;
		v->cap = cap;
	}
	memset(&v->v[v->n], 0, sizeof(v->v[0]));
	return &v->v[v->n++];
}

static int strdup_opt(char **dst, const char *src)
{
	*dst = NULL;
	if (src && !(*dst = strdup(src)))
		return -ENOMEM;
	return 0;
}

/* Deep copy of src appended to v. */
static int objv_add_copy(struct objv *v, const struct obj *src)
{
	struct obj *o = objv_add(v);

	if (!o)
		return -ENOMEM;
	*o = *src;
	o->seg = o->ns = o->key = o->val = o->orig_val = o->prev_val = NULL;
	if (strdup_opt(&o->seg, src->seg) < 0 || strdup_opt(&o->ns, src->ns) < 0 ||
	    strdup_opt(&o->key, src->key) < 0 || strdup_opt(&o->val, src->val) < 0 ||
	    strdup_opt(&o->orig_val, src->orig_val) < 0 || strdup_opt(&o->prev_val, src->prev_val) < 0) {
		obj_clear(o);
		v->n--;
		return -ENOMEM;
	}
	return 0;
}

static void nl_release(struct netseg *st)
{
	ns_cache_release_rtnl(st->nsc);
}

static void netseg_free_all(struct netseg *st)
{
	if (!st)
		return;
	while (st->segs) {
		struct segment *n = st->segs->next;

		segment_free(st->segs);
		st->segs = n;
	}
	decls_free(st->decls);
	decls_free(st->refs);
	objv_clear(&st->plan);
	objv_clear(&st->stale);
	nl_release(st);
	free(st);
}

static void netseg_ext_free(struct dp_config *c, struct conf_ext *e)
{
	(void)c;
	netseg_free_all(container_of(e, struct netseg, ext));
}

/* ---- configuration: `network <name>` ------------------------------------ */

static struct segment *seg_find(struct netseg *st, const char *name)
{
	for (struct segment *s = st ? st->segs : NULL; s; s = s->next)
		if (!strcmp(s->name, name))
			return s;
	return NULL;
}

static int network_open(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct netseg *st;
	struct segment *s, *dup;
	char ifn[IFNAMSIZ];

	if (argc < 2) {
		memprintf(err, "expects a segment name");
		return CFG_ERR;
	}
	if (argc > 2) {
		memprintf(err, "'network %s': unexpected word '%s'", argv[1], argv[2]);
		return CFG_ERR;
	}
	if (!ns_name_valid(argv[1]) || nl_ifname_derive(ifn, NETSEG_HOST_PFX, argv[1]) < 0) {
		memprintf(err, "invalid segment name '%s' (printable characters without '/', ':' or spaces, at most %d)",
			  argv[1], NS_NAME_MAX);
		return CFG_ERR;
	}
	st = state_get(ctx->conf);
	if (!st) {
		memprintf(err, "out of memory");
		return CFG_ERR;
	}
	dup = seg_find(st, argv[1]);
	if (dup) {
		memprintf(err, "network '%s' is already declared at %s:%d", argv[1], dup->file, dup->line);
		return CFG_ERR;
	}
	s = calloc(1, sizeof(*s));
	if (!s || !(s->name = strdup(argv[1])) || !(s->file = strdup(ctx->file))) {
		if (s)
			segment_free(s);
		memprintf(err, "out of memory");
		return CFG_ERR;
	}
	s->line = ctx->line;
	if (st->segs_last)
		st->segs_last->next = s;
	else
		st->segs = s;
	st->segs_last = s;
	ctx->sec_data = s;
	return CFG_OK;
}

/* The section a keyword belongs to, and the word count it expects. */
static struct segment *kw_seg(struct cfg_ctx *ctx, int argc, int min, int max, const char *usage, char **err)
{
	if (!ctx->sec_data) {
		memprintf(err, "no open 'network' section");
		return NULL;
	}
	if (argc - 1 < min || argc - 1 > max) {
		memprintf(err, "usage: %s", usage);
		return NULL;
	}
	return ctx->sec_data;
}

static int kw_netns(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct segment *s = kw_seg(ctx, argc, 1, 1, "netns <name>", err);

	if (!s)
		return CFG_ERR;
	if (s->netns) {
		memprintf(err, "namespace already set to '%s'", s->netns);
		return CFG_ERR;
	}
	if (!ns_name_valid(argv[1])) {
		memprintf(err, "invalid namespace name '%s' (1 to %d printable characters, no '/' or spaces)",
			  argv[1], NS_NAME_MAX);
		return CFG_ERR;
	}
	s->netns = strdup(argv[1]);
	if (!s->netns) {
		memprintf(err, "out of memory");
		return CFG_ERR;
	}
	return CFG_OK;
}

static int kw_uplink(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct segment *s = kw_seg(ctx, argc, 2, 3, "uplink <dev> veth|macvlan [bridge]", err);

	if (!s)
		return CFG_ERR;
	if (s->uplink != UPLINK_NONE) {
		memprintf(err, "uplink already set to '%s'", s->updev);
		return CFG_ERR;
	}
	if (!nl_ifname_valid(argv[1])) {
		memprintf(err, "invalid interface name '%s' (1 to %d characters, no '/', ':' or spaces)",
			  argv[1], IFNAMSIZ - 1);
		return CFG_ERR;
	}
	if (!strcmp(argv[2], "veth")) {
		s->uplink = UPLINK_VETH;
	} else if (!strcmp(argv[2], "macvlan")) {
		s->uplink = UPLINK_MACVLAN;
	} else {
		memprintf(err, "unknown uplink type '%s' (expected 'veth' or 'macvlan')", argv[2]);
		return CFG_ERR;
	}
	/* The optional word names the mode: a veth joins a bridge, a macvlan
	 * runs in bridge mode so that segments on one parent reach each
	 * other. Other macvlan modes are not offered. */
	if (argc == 4 && strcmp(argv[3], "bridge")) {
		memprintf(err, "unsupported mode '%s' for a %s uplink (only 'bridge')", argv[3], argv[2]);
		s->uplink = UPLINK_NONE;
		return CFG_ERR;
	}
	s->updev = strdup(argv[1]);
	if (!s->updev) {
		s->uplink = UPLINK_NONE;
		memprintf(err, "out of memory");
		return CFG_ERR;
	}
	return CFG_OK;
}

static int kw_vlan(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct segment *s = kw_seg(ctx, argc, 1, 1, "vlan <id>", err);
	unsigned long long v;

	if (!s)
		return CFG_ERR;
	if (s->vlan) {
		memprintf(err, "vlan already set to %d", s->vlan);
		return CFG_ERR;
	}
	/* 0 only tags priority and 4095 is reserved by 802.1Q. */
	if (cfg_parse_uint(argv[1], 4094, &v) < 0 || v == 0) {
		memprintf(err, "invalid VLAN id '%s' (1 to 4094)", argv[1]);
		return CFG_ERR;
	}
	s->vlan = (int)v;
	return CFG_OK;
}

static int kw_address(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct segment *s = kw_seg(ctx, argc, 1, 1, "address <ip>/<prefix length>", err);
	struct seg_addr a = { 0 }, *v;

	if (!s)
		return CFG_ERR;
	if (parse_cidr(argv[1], &a, err) < 0)
		return CFG_ERR;
	for (size_t i = 0; i < s->naddrs; i++) {
		if (s->addrs[i].family == a.family && !memcmp(&s->addrs[i].ip, &a.ip, fam_len(a.family))) {
			memprintf(err, "address '%s' already given at line %d", argv[1], s->addrs[i].line);
			return CFG_ERR;
		}
	}
	v = realloc(s->addrs, (s->naddrs + 1) * sizeof(*v));
	if (!v) {
		memprintf(err, "out of memory");
		return CFG_ERR;
	}
	s->addrs = v;
	a.line = ctx->line;
	s->addrs[s->naddrs++] = a;
	return CFG_OK;
}

static int kw_gateway(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct segment *s = kw_seg(ctx, argc, 1, 1, "gateway <ip>", err);
	union nl_ip ip;
	int family, f;

	if (!s)
		return CFG_ERR;
	if (parse_ip(argv[1], &family, &ip) < 0) {
		memprintf(err, "invalid gateway address '%s' (an IPv4 or IPv6 address, no prefix length)", argv[1]);
		return CFG_ERR;
	}
	f = fam_idx(family);
	if (s->has_gw[f]) {
		memprintf(err, "an %s gateway is already set at line %d", f ? "IPv6" : "IPv4", s->gw_line[f]);
		return CFG_ERR;
	}
	s->has_gw[f] = true;
	s->gw[f] = ip;
	s->gw_line[f] = ctx->line;
	return CFG_OK;
}

static int kw_sysctl(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct segment *s = kw_seg(ctx, argc, 2, 2, "sysctl <net.key> <value>", err);
	char path[512];
	struct seg_sysctl *v;
	size_t len;

	if (!s)
		return CFG_ERR;
	if (sysctl_path(argv[1], path, sizeof(path)) < 0) {
		memprintf(err, "invalid key '%s': only 'net.' keys, which are per namespace, are accepted", argv[1]);
		return CFG_ERR;
	}
	len = strlen(argv[2]);
	if (len == 0 || len >= NETSEG_SYSCTL_MAX) {
		memprintf(err, "value of '%s' must have 1 to %d characters", argv[1], NETSEG_SYSCTL_MAX - 1);
		return CFG_ERR;
	}
	for (const char *p = argv[2]; *p; p++) {
		if (!isprint((unsigned char)*p) && *p != '\t') {
			memprintf(err, "value of '%s' holds a control character", argv[1]);
			return CFG_ERR;
		}
	}
	for (size_t i = 0; i < s->nsysctls; i++) {
		if (!strcmp(s->sysctls[i].key, argv[1])) {
			memprintf(err, "'%s' already set at line %d", argv[1], s->sysctls[i].line);
			return CFG_ERR;
		}
	}
	v = realloc(s->sysctls, (s->nsysctls + 1) * sizeof(*v));
	if (!v) {
		memprintf(err, "out of memory");
		return CFG_ERR;
	}
	s->sysctls = v;
	v = &s->sysctls[s->nsysctls];
	v->key = strdup(argv[1]);
	v->val = strdup(argv[2]);
	v->line = ctx->line;
	if (!v->key || !v->val) {
		free(v->key);
		free(v->val);
		memprintf(err, "out of memory");
		return CFG_ERR;
	}
	s->nsysctls++;
	return CFG_OK;
}

static int kw_persist(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct segment *s = kw_seg(ctx, argc, 0, 0, "persist", err);

	if (!s)
		return CFG_ERR;
	s->persist = true;
	return CFG_OK;
}

static int kw_mtu(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct segment *s = kw_seg(ctx, argc, 1, 1, "mtu <bytes>", err);
	unsigned long long v;

	if (!s)
		return CFG_ERR;
	/* 68 is the IPv4 minimum; IPv6 needs 1280, checked in finalize. */
	if (cfg_parse_uint(argv[1], 65535, &v) < 0 || v < 68) {
		memprintf(err, "invalid MTU '%s' (68 to 65535)", argv[1]);
		return CFG_ERR;
	}
	s->mtu = (unsigned)v;
	return CFG_OK;
}

/* ---- configuration: `namespace_list` ------------------------------------ */

static int nslist_open(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	if (argc > 1) {
		memprintf(err, "takes no argument (got '%s')", argv[1]);
		return CFG_ERR;
	}
	if (!state_get(ctx->conf)) {
		memprintf(err, "out of memory");
		return CFG_ERR;
	}
	ctx->sec_data = NULL;
	return CFG_OK;
}

static struct nsdecl *decl_find(struct nsdecl *d, const char *name)
{
	for (; d; d = d->next)
		if (!strcmp(d->name, name))
			return d;
	return NULL;
}

/* Appends a declaration; 0 or -ENOMEM. */
static int decl_add(struct nsdecl **list, const char *name, const char *what, const char *file, int line)
{
	struct nsdecl *d = calloc(1, sizeof(*d)), **pp = list;

	if (!d)
		return -ENOMEM;
	d->name = strdup(name);
	d->what = strdup(what);
	d->file = strdup(file ? file : "?");
	d->line = line;
	if (!d->name || !d->what || !d->file) {
		decls_free(d);
		return -ENOMEM;
	}
	while (*pp)
		pp = &(*pp)->next;
	*pp = d;
	return 0;
}

static int kw_namespace(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct netseg *st = state_get(ctx->conf);
	struct nsdecl *d;

	if (argc != 2) {
		memprintf(err, "usage: namespace <name>");
		return CFG_ERR;
	}
	if (!ns_name_valid(argv[1])) {
		memprintf(err, "invalid namespace name '%s' (1 to %d printable characters, no '/' or spaces)",
			  argv[1], NS_NAME_MAX);
		return CFG_ERR;
	}
	if (!st) {
		memprintf(err, "out of memory");
		return CFG_ERR;
	}
	d = decl_find(st->decls, argv[1]);
	if (d) {
		memprintf(err, "namespace '%s' already declared at %s:%d", argv[1], d->file, d->line);
		return CFG_WARN;
	}
	if (decl_add(&st->decls, argv[1], "namespace_list", ctx->file, ctx->line) < 0) {
		memprintf(err, "out of memory");
		return CFG_ERR;
	}
	return CFG_OK;
}

static const struct cfg_kw netseg_kws[] = {
	{ "netns", CFG_SEC_NETWORK, kw_netns, NULL },
	{ "uplink", CFG_SEC_NETWORK, kw_uplink, NULL },
	{ "vlan", CFG_SEC_NETWORK, kw_vlan, NULL },
	{ "address", CFG_SEC_NETWORK, kw_address, NULL },
	{ "gateway", CFG_SEC_NETWORK, kw_gateway, NULL },
	{ "sysctl", CFG_SEC_NETWORK, kw_sysctl, NULL },
	{ "persist", CFG_SEC_NETWORK, kw_persist, NULL },
	{ "mtu", CFG_SEC_NETWORK, kw_mtu, NULL },
	{ "namespace", CFG_SEC_NSLIST, kw_namespace, NULL },
};

const struct cfg_kw_list netseg_kw_list = { netseg_kws, ARRAY_SIZE(netseg_kws) };
const struct cfg_section netseg_sections[] = {
	{ "network", CFG_SEC_NETWORK, network_open, true },
	{ "namespace_list", CFG_SEC_NSLIST, nslist_open, true },
	{ NULL, 0, NULL, false },
};

/* ---- finalize: checks and the plan -------------------------------------- */

static void fin_report(bool alert, const char *file, int line, int *errors, const char *fmt, ...) DP_PRINTF(5, 6);
static void fin_report(bool alert, const char *file, int line, int *errors, const char *fmt, ...)
{
	va_list ap;
	char *m = NULL;

	va_start(ap, fmt);
	vmemprintf(&m, fmt, ap);
	va_end(ap);
	if (alert) {
		ha_alert("config : parsing [%s:%d] : %s", file, line, m ? m : "out of memory");
		(*errors)++;
	} else {
		ha_warning("config : parsing [%s:%d] : %s", file, line, m ? m : "out of memory");
	}
	free(m);
}

static struct segment *seg_by_netns(struct netseg *st, const char *ns)
{
	for (struct segment *s = st ? st->segs : NULL; s; s = s->next)
		if (s->netns && !strcmp(s->netns, ns))
			return s;
	return NULL;
}

/* Names and defaults of one section; alerts for what cannot work. */
static void fin_segment(struct netseg *st, struct segment *s, int *errors)
{
	bool has_fam[2] = { false, false };
	const char *fam_name[2] = { "IPv4", "IPv6" };

	if (!s->netns && !(s->netns = strdup(s->name))) {
		fin_report(true, s->file, s->line, errors, "out of memory");
		return;
	}
	if (nl_ifname_derive(s->host_if, NETSEG_HOST_PFX, s->name) < 0 ||
	    nl_ifname_derive(s->tmp_if, NETSEG_TMP_PFX, s->name) < 0)
		fin_report(true, s->file, s->line, errors,
			   "network '%s': no valid interface name can be derived from this name", s->name);
	if (s->vlan)
		snprintf(s->ns_if, sizeof(s->ns_if), "%s.%d", NETSEG_NS_IF, s->vlan);
	else
		snprintf(s->ns_if, sizeof(s->ns_if), "%s", NETSEG_NS_IF);

	if (s->uplink == UPLINK_NONE) {
		const char *need = s->naddrs ? "address" : (s->has_gw[0] || s->has_gw[1]) ? "gateway" :
				   s->vlan ? "vlan" : s->mtu ? "mtu" : NULL;

		if (need)
			fin_report(true, s->file, s->line, errors,
				   "network '%s': '%s' needs an 'uplink' (the namespace has no interface to carry it)",
				   s->name, need);
	}
	for (size_t i = 0; i < s->naddrs; i++)
		has_fam[fam_idx(s->addrs[i].family)] = true;
	for (int f = 0; f < 2; f++) {
		if (s->has_gw[f] && !has_fam[f])
			fin_report(true, s->file, s->gw_line[f], errors,
				   "network '%s': %s gateway without any %s 'address' in the segment",
				   s->name, fam_name[f], fam_name[f]);
	}
	if (s->mtu && s->mtu < 1280 && has_fam[1])
		fin_report(true, s->file, s->line, errors,
			   "network '%s': mtu %u is below 1280, the minimum for IPv6 addresses", s->name, s->mtu);

	for (struct segment *o = st->segs; o != s; o = o->next) {
		if (!strcmp(o->netns, s->netns))
			fin_report(true, s->file, s->line, errors,
				   "network '%s': namespace '%s' is already used by network '%s' at %s:%d",
				   s->name, s->netns, o->name, o->file, o->line);
		if (s->uplink == UPLINK_VETH && o->uplink == UPLINK_VETH && !strcmp(o->host_if, s->host_if))
			fin_report(true, s->file, s->line, errors,
				   "network '%s': its host interface name '%s' is the same as that of network '%s' at %s:%d; rename one section",
				   s->name, s->host_if, o->name, o->file, o->line);
		if (s->uplink == UPLINK_MACVLAN && o->uplink == UPLINK_MACVLAN && !strcmp(o->tmp_if, s->tmp_if))
			fin_report(true, s->file, s->line, errors,
				   "network '%s': its temporary interface name '%s' is the same as that of network '%s' at %s:%d; rename one section",
				   s->name, s->tmp_if, o->name, o->file, o->line);
	}
}

static bool ns_declared(struct netseg *st, const char *ns)
{
	return st && (seg_by_netns(st, ns) || decl_find(st->decls, ns));
}

/* A bind or server naming a namespace nothing declares: allowed (HAProxy
 * takes any /run/netns name), but it must exist at start-up. */
static int fin_ref(struct dp_config *c, const char *ns, const char *what, const char *file, int line,
		   int *errors)
{
	struct netseg *st = state_of(c);

	if (!ns_name_valid(ns)) {
		fin_report(true, file, line, errors,
			   "%s: invalid namespace name '%s' (1 to %d printable characters, no '/' or spaces)",
			   what, ns, NS_NAME_MAX);
		return 0;
	}
	if (ns_declared(st, ns))
		return 0;
	if (!st && !(st = state_get(c)))
		return -ENOMEM;
	if (!decl_find(st->refs, ns)) {
		int e = 0;

		fin_report(false, file, line, &e,
			   "%s uses namespace '%s', which no 'network' section or 'namespace_list' declares; it must exist in %s at start-up",
			   what, ns, NS_RUN_DIR);
		if (decl_add(&st->refs, ns, what, file, line) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int fin_refs(struct dp_config *c, int *errors)
{
	for (struct proxy *px = c->proxies; px; px = px->next) {
		for (struct bind_conf *bc = px->binds; bc; bc = bc->next) {
			char *what = NULL;
			int rc;

			if (!bc->netns)
				continue;
			if (memprintf(&what, "bind '%s' of %s '%s'", bc->spec ? bc->spec : "?",
				      (px->cap & PR_CAP_BE) ? "listen" : "frontend", px->name) < 0)
				return -ENOMEM;
			rc = fin_ref(c, bc->netns, what, bc->file ? bc->file : px->file, bc->line, errors);
			free(what);
			if (rc < 0)
				return rc;
		}
		for (struct server *s = px->srv; s; s = s->next) {
			char *what = NULL;
			int rc;

			if (!s->netns)
				continue;
			if (memprintf(&what, "server '%s/%s'", px->name, s->name) < 0)
				return -ENOMEM;
			rc = fin_ref(c, s->netns, what, s->file ? s->file : px->file, s->line, errors);
			free(what);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

static struct obj *plan_new(struct objv *plan, int type, const struct segment *s, const char *ns)
{
	struct obj *o = objv_add(plan);

	if (!o)
		return NULL;
	o->type = type;
	o->persist = s->persist;
	if (strdup_opt(&o->seg, s->name) < 0 || strdup_opt(&o->ns, ns) < 0) {
		obj_clear(o);
		plan->n--;
		return NULL;
	}
	return o;
}

static struct obj *plan_find_bridge(struct objv *plan, const char *dev)
{
	for (size_t i = 0; i < plan->n; i++)
		if (plan->v[i].type == OBJ_BRIDGE && !strcmp(plan->v[i].dev, dev))
			return &plan->v[i];
	return NULL;
}

#define IFCPY(dst, src) snprintf((dst), sizeof(dst), "%s", (src))

/* Appends the objects of one section, in creation order. */
static int plan_segment(struct objv *plan, const struct segment *s)
{
	struct obj *o;

	if (!(o = plan_new(plan, OBJ_NETNS, s, s->netns)))
		return -ENOMEM;
	if (s->uplink == UPLINK_VETH) {
		o = plan_find_bridge(plan, s->updev);
		if (o) {
			/* shared: it stays while any section using it persists */
			o->persist |= s->persist;
		} else {
			if (!(o = plan_new(plan, OBJ_BRIDGE, s, NULL)))
				return -ENOMEM;
			IFCPY(o->dev, s->updev);
		}
		if (!(o = plan_new(plan, OBJ_VETH, s, s->netns)))
			return -ENOMEM;
		IFCPY(o->dev, s->host_if);
		IFCPY(o->peer, NETSEG_NS_IF);
		IFCPY(o->parent, s->updev);
		o->mtu = s->mtu;
	} else if (s->uplink == UPLINK_MACVLAN) {
		if (!(o = plan_new(plan, OBJ_MACVLAN, s, s->netns)))
			return -ENOMEM;
		IFCPY(o->dev, NETSEG_NS_IF);
		IFCPY(o->peer, s->tmp_if);
		IFCPY(o->parent, s->updev);
		o->mtu = s->mtu;
	}
	if (s->vlan) {
		if (!(o = plan_new(plan, OBJ_VLAN, s, s->netns)))
			return -ENOMEM;
		IFCPY(o->dev, s->ns_if);
		IFCPY(o->parent, NETSEG_NS_IF);
		o->vlan = s->vlan;
	}
	for (size_t i = 0; i < s->naddrs; i++) {
		if (!(o = plan_new(plan, OBJ_ADDR, s, s->netns)))
			return -ENOMEM;
		IFCPY(o->dev, s->ns_if);
		o->family = s->addrs[i].family;
		o->ip = s->addrs[i].ip;
		o->plen = s->addrs[i].plen;
	}
	for (int f = 0; f < 2; f++) {
		if (!s->has_gw[f])
			continue;
		if (!(o = plan_new(plan, OBJ_ROUTE, s, s->netns)))
			return -ENOMEM;
		IFCPY(o->dev, s->ns_if);
		o->family = f ? AF_INET6 : AF_INET;
		o->ip = s->gw[f];
	}
	for (size_t i = 0; i < s->nsysctls; i++) {
		if (!(o = plan_new(plan, OBJ_SYSCTL, s, s->netns)))
			return -ENOMEM;
		if (strdup_opt(&o->key, s->sysctls[i].key) < 0 || strdup_opt(&o->val, s->sysctls[i].val) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int plan_build(struct netseg *st)
{
	objv_clear(&st->plan);
	for (struct segment *s = st->segs; s; s = s->next) {
		if (plan_segment(&st->plan, s) < 0) {
			objv_clear(&st->plan);
			return -ENOMEM;
		}
	}
	st->planned = true;
	return 0;
}

int netseg_finalize(struct dp_config *c)
{
	struct netseg *st = state_of(c);
	int errors = 0;

	if (st && st->planned)
		return 0;
	for (struct segment *s = st ? st->segs : NULL; s; s = s->next)
		fin_segment(st, s, &errors);
	for (struct nsdecl *d = st ? st->decls : NULL; d; d = d->next) {
		struct segment *s = seg_by_netns(st, d->name);

		if (s)
			fin_report(false, d->file, d->line, &errors,
				   "namespace '%s' is also managed by network '%s' at %s:%d, which creates it if missing",
				   d->name, s->name, s->file, s->line);
	}
	if (fin_refs(c, &errors) < 0) {
		ha_alert("config : out of memory while checking namespaces");
		return errors + 1;
	}
	st = state_of(c);
	if (!errors && st && plan_build(st) < 0) {
		ha_alert("config : out of memory while planning network segments");
		errors++;
	}
	return errors;
}

/* ---- describing objects ------------------------------------------------- */

static int obj_text(const struct obj *o, char *buf, size_t size)
{
	char ip[INET6_ADDRSTRLEN], mtu[24] = "";

	if (o->mtu)
		snprintf(mtu, sizeof(mtu), ", mtu %u", o->mtu);
	switch (o->type) {
	case OBJ_NETNS:
		return snprintf(buf, size, "namespace '%s'", o->ns);
	case OBJ_BRIDGE:
		return snprintf(buf, size, "bridge '%s'", o->dev);
	case OBJ_VETH:
		return snprintf(buf, size, "veth '%s' on bridge '%s', peer '%s' in namespace '%s'%s",
				o->dev, o->parent, o->peer, o->ns, mtu);
	case OBJ_MACVLAN:
		return snprintf(buf, size, "macvlan '%s' on '%s' (bridge mode) in namespace '%s'%s",
				o->dev, o->parent, o->ns, mtu);
	case OBJ_VLAN:
		return snprintf(buf, size, "vlan '%s' (id %d) on '%s' in namespace '%s'",
				o->dev, o->vlan, o->parent, o->ns);
	case OBJ_ADDR:
		return snprintf(buf, size, "address %s/%u on '%s' in namespace '%s'",
				ip_str(o->family, &o->ip, ip, sizeof(ip)), o->plen, o->dev, o->ns);
	case OBJ_ROUTE:
		return snprintf(buf, size, "default %s route via %s dev '%s' onlink in namespace '%s'",
				o->family == AF_INET6 ? "IPv6" : "IPv4",
				ip_str(o->family, &o->ip, ip, sizeof(ip)), o->dev, o->ns);
	case OBJ_SYSCTL:
		return snprintf(buf, size, "sysctl %s = %s in namespace '%s'", o->key, o->val, o->ns);
	}
	return snprintf(buf, size, "?");
}

bool netseg_in_use(const struct dp_config *c)
{
	return state_of(c) != NULL;
}

size_t netseg_plan_count(const struct dp_config *c)
{
	return state_of(c) ? state_of(c)->plan.n : 0;
}

int netseg_plan_text(const struct dp_config *c, size_t i, char *buf, size_t size)
{
	if (i >= netseg_plan_count(c))
		return -ENOENT;
	return obj_text(&state_of(c)->plan.v[i], buf, size);
}

int netseg_show(const struct dp_config *c, char **out)
{
	const struct netseg *st = state_of(c);
	char *s = strdup("");

	for (size_t i = 0; s && st && i < st->plan.n; i++) {
		const struct obj *o = &st->plan.v[i];
		char text[512];
		const char *state = !st->applied ? "planned" : !o->owned ? "kept" :
				    o->persist ? "persist" : "created";

		obj_text(o, text, sizeof(text));
		if (memprintf(&s, "%s%s %s %s\n", s, o->seg, state, text) < 0)
			s = NULL;
	}
	*out = s;
	return s ? 0 : -ENOMEM;
}

/* ---- apply: keep, create or report each object -------------------------- */

/* One pass over the system for generation st. */
struct run {
	struct netseg *st;
	struct netseg *old;         /* previous generation, NULL at start */
	void *ctx;
	char **err;
	unsigned created, kept;
};

#define SYS(op) (sys_ops->op)

static int fail(const struct obj *o, char **err, int rc, const char *fmt, ...) DP_PRINTF(4, 5);
static int fail(const struct obj *o, char **err, int rc, const char *fmt, ...)
{
	va_list ap;
	char *m = NULL;

	va_start(ap, fmt);
	vmemprintf(&m, fmt, ap);
	va_end(ap);
	memprintf(err, "network '%s': %s", o->seg, m ? m : "out of memory");
	free(m);
	return rc < 0 ? rc : -EIO;
}

static const char *kind_desc(const char *kind, char *buf, size_t size)
{
	if (!kind[0])
		return "a device without link kind";
	snprintf(buf, size, "a %s link", kind);
	return buf;
}

/* Looks a link up: its index (> 0), 0 when absent, or -errno (*e set). */
static int link_lookup(struct run *r, const char *ns, const char *name, struct nl_link_info *li, char **e)
{
	int rc = SYS(link_get)(r->ctx, ns, name, li, e);

	if (rc == -ENODEV) {
		free(*e);
		*e = NULL;
		return 0;
	}
	return rc;
}

/* Brings a link to the configured state: up, enslaved, MTU. These are
 * properties, not objects: they are set, never recorded or undone. */
static int link_fix(struct run *r, const char *ns, const struct nl_link_info *li, int master, unsigned mtu,
		    char **e)
{
	struct nl_link_change ch = NL_LINK_CHANGE_INIT;
	bool any = false;

	if (!(li->flags & IFF_UP)) {
		ch.up = 1;
		any = true;
	}
	if (master > 0 && li->master != master) {
		ch.master = master;
		any = true;
	}
	if (mtu && li->mtu != mtu) {
		ch.mtu = mtu;
		any = true;
	}
	return any ? SYS(link_change)(r->ctx, ns, li->index, &ch, e) : 0;
}

/* Records that this pass created o: from here on a failure rolls it back. */
static int made(struct run *r, struct obj *o)
{
	o->owned = o->fresh = true;
	r->created++;
	return 1;
}

static int ensure_netns(struct run *r, struct obj *o)
{
	struct nl_link_info li;
	char *e = NULL;
	int rc, ret = 0;

	rc = SYS(ns_exists)(r->ctx, o->ns);
	if (rc < 0)
		return fail(o, r->err, rc, "cannot look for namespace '%s': %s", o->ns, strerror(-rc));
	if (rc == 0) {
		rc = SYS(ns_create)(r->ctx, o->ns, &e);
		if (rc < 0)
			goto out;
		ret = made(r, o);
	}
	rc = SYS(ns_hold)(r->ctx, o->ns, &e);
	if (rc < 0)
		goto out;
	/* A fresh namespace has lo down: nothing could bind 127.0.0.1. */
	rc = link_lookup(r, o->ns, "lo", &li, &e);
	if (rc > 0)
		rc = link_fix(r, o->ns, &li, 0, 0, &e);
out:
	if (rc < 0)
		ret = fail(o, r->err, rc, "%s", e ? e : strerror(-rc));
	free(e);
	return ret;
}

static int ensure_bridge(struct run *r, struct obj *o)
{
	struct nl_link_info li;
	char *e = NULL, kb[64];
	int rc, ret = 0;

	rc = link_lookup(r, NULL, o->dev, &li, &e);
	if (rc > 0 && strcmp(li.kind, "bridge")) {
		ret = fail(o, r->err, -EEXIST, "interface '%s' in the host namespace is %s, not a bridge",
			   o->dev, kind_desc(li.kind, kb, sizeof(kb)));
		goto done;
	}
	if (rc == 0) {
		rc = SYS(bridge_add)(r->ctx, o->dev, &e);
		if (rc < 0)
			goto out;
		ret = made(r, o);
		rc = link_lookup(r, NULL, o->dev, &li, &e);
		if (rc == 0)
			rc = -ENODEV;
	}
	if (rc > 0)
		rc = link_fix(r, NULL, &li, 0, 0, &e);
out:
	if (rc < 0)
		ret = fail(o, r->err, rc, "%s", e ? e : strerror(-rc));
done:
	free(e);
	return ret;
}

/* Both ends of the segment's veth as they should be after creation. */
static int veth_fix(struct run *r, struct obj *o, int bridge, char **e)
{
	struct nl_link_info hl, pl;
	int rc;

	rc = link_lookup(r, NULL, o->dev, &hl, e);
	if (rc <= 0)
		return rc ? rc : -ENODEV;
	rc = link_fix(r, NULL, &hl, bridge, o->mtu, e);
	if (rc < 0)
		return rc;
	rc = link_lookup(r, o->ns, o->peer, &pl, e);
	if (rc <= 0)
		return rc ? rc : -ENODEV;
	return link_fix(r, o->ns, &pl, 0, o->mtu, e);
}

/* Looks a link up and brings it to the configured state. 0 or -errno. */
static int link_settle(struct run *r, const char *ns, const char *name, unsigned mtu, char **e)
{
	struct nl_link_info li;
	int rc = link_lookup(r, ns, name, &li, e);

	if (rc == 0 && !*e)
		memprintf(e, "link '%s' vanished while being set up", name);
	if (rc <= 0)
		return rc ? rc : -ENODEV;
	return link_fix(r, ns, &li, 0, mtu, e);
}

static int ensure_veth(struct run *r, struct obj *o)
{
	struct nl_link_info br, hl, pl;
	char *e = NULL, kb[64];
	int rc, h, p, ret = 0;

	rc = link_lookup(r, NULL, o->parent, &br, &e);
	if (rc <= 0) {
		ret = fail(o, r->err, rc ? rc : -ENODEV, "bridge '%s': %s", o->parent,
			   e ? e : "missing in the host namespace");
		goto done;
	}
	rc = h = link_lookup(r, NULL, o->dev, &hl, &e);
	if (h < 0)
		goto err_sys;
	rc = p = link_lookup(r, o->ns, o->peer, &pl, &e);
	if (p < 0)
		goto err_sys;
	if (h > 0 && strcmp(hl.kind, "veth")) {
		ret = fail(o, r->err, -EEXIST, "interface '%s' in the host namespace is %s, not this segment's veth",
			   o->dev, kind_desc(hl.kind, kb, sizeof(kb)));
		goto done;
	}
	if (h > 0 && (p == 0 || strcmp(pl.kind, "veth") || pl.link != hl.index)) {
		ret = fail(o, r->err, -EEXIST,
			   "veth '%s' exists in the host namespace but its peer is not '%s' in namespace '%s'",
			   o->dev, o->peer, o->ns);
		goto done;
	}
	if (h == 0 && p > 0) {
		ret = fail(o, r->err, -EEXIST, "namespace '%s' already has an interface '%s' (%s), not the peer of '%s'",
			   o->ns, o->peer, kind_desc(pl.kind, kb, sizeof(kb)), o->dev);
		goto done;
	}
	if (h == 0) {
		rc = SYS(veth_add)(r->ctx, o->dev, o->peer, o->ns, &e);
		if (rc < 0)
			goto err_sys;
		ret = made(r, o);
	}
	rc = veth_fix(r, o, br.index, &e);
	if (rc < 0)
		goto err_sys;
	goto done;
err_sys:
	ret = fail(o, r->err, rc < 0 ? rc : -EIO, "%s", e ? e : "system error");
done:
	free(e);
	return ret;
}

static int ensure_macvlan(struct run *r, struct obj *o)
{
	struct nl_link_info par, pl, tl;
	char *e = NULL, *e2 = NULL, kb[64];
	int rc, ret = 0;

	rc = link_lookup(r, NULL, o->parent, &par, &e);
	if (rc == 0) {
		ret = fail(o, r->err, -ENODEV, "uplink parent '%s' does not exist in the host namespace", o->parent);
		goto done;
	}
	if (rc < 0)
		goto err_sys;
	rc = link_lookup(r, o->ns, o->dev, &pl, &e);
	if (rc < 0)
		goto err_sys;
	if (rc > 0) {
		if (strcmp(pl.kind, "macvlan") || pl.link != par.index || pl.macvlan_mode != MACVLAN_MODE_BRIDGE) {
			ret = fail(o, r->err, -EEXIST,
				   "namespace '%s' already has an interface '%s' (%s) that is not a bridge-mode macvlan on '%s'",
				   o->ns, o->dev, kind_desc(pl.kind, kb, sizeof(kb)), o->parent);
			goto done;
		}
		rc = link_fix(r, o->ns, &pl, 0, o->mtu, &e);
		if (rc < 0)
			goto err_sys;
		goto done;
	}
	rc = link_lookup(r, NULL, o->peer, &tl, &e);
	if (rc > 0) {
		ret = fail(o, r->err, -EEXIST, "temporary interface name '%s' is taken in the host namespace by %s",
			   o->peer, kind_desc(tl.kind, kb, sizeof(kb)));
		goto done;
	}
	if (rc < 0)
		goto err_sys;
	rc = SYS(macvlan_add)(r->ctx, o->peer, par.index, &e);
	if (rc < 0)
		goto err_sys;
	rc = link_lookup(r, NULL, o->peer, &tl, &e);
	if (rc <= 0)
		goto err_sys;
	/* Moved and renamed in one request: it never exists as eth0 in the
	 * host namespace, and never under the temporary name in the segment. */
	rc = SYS(link_move)(r->ctx, tl.index, o->ns, o->dev, &e);
	if (rc < 0) {
		SYS(link_del)(r->ctx, NULL, tl.index, &e2);
		free(e2);
		goto err_sys;
	}
	ret = made(r, o);
	rc = link_settle(r, o->ns, o->dev, o->mtu, &e);
	if (rc < 0)
		goto err_sys;
	goto done;
err_sys:
	ret = fail(o, r->err, rc < 0 ? rc : -ENODEV, "%s", e ? e : "link vanished while being set up");
done:
	free(e);
	return ret;
}

static int ensure_vlan(struct run *r, struct obj *o)
{
	struct nl_link_info vl, bl;
	char *e = NULL, kb[64];
	int rc, ret = 0;

	rc = link_lookup(r, o->ns, o->dev, &vl, &e);
	if (rc < 0)
		goto err_sys;
	if (rc > 0) {
		if (strcmp(vl.kind, "vlan") || vl.vlan_id != o->vlan) {
			ret = fail(o, r->err, -EEXIST,
				   "namespace '%s' already has an interface '%s' (%s) that is not VLAN %d",
				   o->ns, o->dev, kind_desc(vl.kind, kb, sizeof(kb)), o->vlan);
			goto done;
		}
		rc = link_fix(r, o->ns, &vl, 0, 0, &e);
		if (rc < 0)
			goto err_sys;
		goto done;
	}
	rc = link_lookup(r, o->ns, o->parent, &bl, &e);
	if (rc == 0)
		memprintf(&e, "base link '%s' missing in namespace '%s'", o->parent, o->ns);
	if (rc <= 0)
		goto err_sys;
	rc = SYS(vlan_add)(r->ctx, o->ns, o->dev, bl.index, o->vlan, &e);
	if (rc < 0)
		goto err_sys;
	ret = made(r, o);
	rc = link_settle(r, o->ns, o->dev, 0, &e);
	if (rc < 0)
		goto err_sys;
	goto done;
err_sys:
	ret = fail(o, r->err, rc < 0 ? rc : -ENODEV, "%s", e ? e : "link missing");
done:
	free(e);
	return ret;
}

/* Every address of ns, in *out (the caller frees). Returns the count. */
static int addrs_get(struct run *r, const char *ns, struct nl_addr_entry **out, char **e)
{
	size_t max = NETSEG_ADDR_CHUNK;
	struct nl_addr_entry *v = NULL;
	int rc;

	for (int tries = 0; tries < 4; tries++) {
		struct nl_addr_entry *nv = realloc(v, max * sizeof(*v));

		if (!nv) {
			free(v);
			return -ENOMEM;
		}
		v = nv;
		rc = SYS(addr_list)(r->ctx, ns, v, max, e);
		if (rc < 0 || (size_t)rc <= max)
			break;
		/* grew between two dumps: try again with what it said */
		if ((size_t)rc > NETSEG_ADDR_LIMIT) {
			rc = -E2BIG;
			break;
		}
		max = (size_t)rc + 16;
	}
	if (rc >= 0 && (size_t)rc > max)
		rc = -EAGAIN;
	if (rc < 0) {
		free(v);
		return rc;
	}
	*out = v;
	return rc;
}

static int ensure_addr(struct run *r, struct obj *o)
{
	struct nl_addr_entry *v = NULL;
	struct nl_link_info li;
	char *e = NULL, ip[INET6_ADDRSTRLEN];
	int rc, n, idx, ret = 0;

	ip_str(o->family, &o->ip, ip, sizeof(ip));
	idx = link_lookup(r, o->ns, o->dev, &li, &e);
	if (idx <= 0) {
		ret = fail(o, r->err, idx ? idx : -ENODEV, "address %s/%u: %s", ip, o->plen,
			   e ? e : "its interface is missing");
		goto done;
	}
	n = addrs_get(r, o->ns, &v, &e);
	if (n < 0) {
		ret = fail(o, r->err, n, "cannot list the addresses of namespace '%s': %s", o->ns,
			   e ? e : strerror(-n));
		goto done;
	}
	for (int i = 0; i < n; i++) {
		if (v[i].family != o->family || memcmp(&v[i].addr, &o->ip, fam_len(o->family)))
			continue;
		if (v[i].ifindex == idx && v[i].prefixlen == o->plen)
			goto done;      /* kept */
		if (v[i].ifindex == idx)
			ret = fail(o, r->err, -EEXIST, "address %s is already on '%s' in namespace '%s' as /%u, not /%u",
				   ip, o->dev, o->ns, v[i].prefixlen, o->plen);
		else
			ret = fail(o, r->err, -EEXIST,
				   "address %s is already on another interface (index %d) in namespace '%s'",
				   ip, v[i].ifindex, o->ns);
		goto done;
	}
	/* No DAD: the address must be usable by listeners at once. */
	rc = SYS(addr_add)(r->ctx, o->ns, idx, o->family, &o->ip, o->plen,
			   o->family == AF_INET6 ? NL_ADDR_NODAD : 0, &e);
	if (rc < 0)
		ret = fail(o, r->err, rc, "%s", e ? e : strerror(-rc));
	else
		ret = made(r, o);
done:
	free(v);
	free(e);
	return ret;
}

static void route_of(const struct obj *o, int oif, const union nl_ip *gw, struct nl_route *rte)
{
	memset(rte, 0, sizeof(*rte));
	rte->family = o->family;
	rte->has_gw = true;
	rte->gw = *gw;
	rte->oif = oif;
	/* onlink: the gateway need not be inside one of our prefixes */
	rte->onlink = true;
}

static const struct obj *find_same(const struct objv *v, const struct obj *o);

/* Our own default route of another generation, with another gateway or
 * device, that the new one replaces. */
static const struct obj *old_route(struct run *r, const struct obj *o)
{
	for (size_t i = 0; r->old && i < r->old->plan.n; i++) {
		const struct obj *oo = &r->old->plan.v[i];

		if (oo->type == OBJ_ROUTE && oo->owned && oo->family == o->family && str_eq(oo->ns, o->ns))
			return oo;
	}
	return NULL;
}

static int ensure_route(struct run *r, struct obj *o)
{
	struct nl_link_info li;
	struct nl_route rte, ort;
	const struct obj *oo;
	char *e = NULL, ip[INET6_ADDRSTRLEN];
	int rc, idx, ret = 0;

	ip_str(o->family, &o->ip, ip, sizeof(ip));
	idx = link_lookup(r, o->ns, o->dev, &li, &e);
	if (idx <= 0) {
		ret = fail(o, r->err, idx ? idx : -ENODEV, "default route via %s: %s", ip,
			   e ? e : "its interface is missing");
		goto done;
	}
	route_of(o, idx, &o->ip, &rte);
	rc = SYS(route_exists)(r->ctx, o->ns, &rte, &e);
	if (rc > 0)
		goto done;
	if (rc == 0)
		rc = SYS(route_add)(r->ctx, o->ns, &rte, &e);
	if (rc == -EEXIST && (oo = old_route(r, o)) && !find_same(&r->st->plan, oo)) {
		/* A reload changed the gateway of a route we own: swap it. */
		struct nl_link_info ol;
		int oidx = link_lookup(r, o->ns, oo->dev, &ol, &e);

		route_of(oo, oidx > 0 ? oidx : 0, &oo->ip, &ort);
		free(e);
		e = NULL;
		rc = SYS(route_del)(r->ctx, o->ns, &ort, &e);
		if (rc == 0) {
			rc = SYS(route_add)(r->ctx, o->ns, &rte, &e);
			if (rc == 0) {
				o->replaced = true;
				IFCPY(o->rep_dev, oo->dev);
				o->rep_gw = oo->ip;
			} else {
				char *e2 = NULL;

				SYS(route_add)(r->ctx, o->ns, &ort, &e2);
				free(e2);
			}
		}
	}
	if (rc == -EEXIST)
		ret = fail(o, r->err, rc, "namespace '%s' already has a default %s route that is not via %s dev '%s'",
			   o->ns, o->family == AF_INET6 ? "IPv6" : "IPv4", ip, o->dev);
	else if (rc < 0)
		ret = fail(o, r->err, rc, "%s", e ? e : strerror(-rc));
	else
		ret = made(r, o);
done:
	free(e);
	return ret;
}

static int ensure_sysctl(struct run *r, struct obj *o)
{
	const struct obj *oo = r->old ? find_same(&r->old->plan, o) : NULL;
	char *cur = malloc(NETSEG_SYSCTL_MAX), *e = NULL;
	int rc, ret = 0;

	if (!cur)
		return fail(o, r->err, -ENOMEM, "out of memory");
	rc = SYS(sysctl_get)(r->ctx, o->ns, o->key, cur, NETSEG_SYSCTL_MAX, &e);
	if (rc < 0)
		goto out;
	if (sysctl_val_eq(cur, o->val))
		goto out;       /* kept */
	free(o->prev_val);
	free(o->orig_val);
	o->prev_val = strdup(cur);
	/* across reloads, remember what was there before decoyproxy */
	o->orig_val = strdup(oo && oo->owned && oo->orig_val ? oo->orig_val : cur);
	if (!o->prev_val || !o->orig_val) {
		rc = -ENOMEM;
		goto out;
	}
	rc = SYS(sysctl_set)(r->ctx, o->ns, o->key, o->val, &e);
	if (rc == 0)
		ret = made(r, o);
out:
	if (rc < 0)
		ret = fail(o, r->err, rc, "%s", e ? e : strerror(-rc));
	free(cur);
	free(e);
	return ret;
}

static int ensure(struct run *r, struct obj *o)
{
	switch (o->type) {
	case OBJ_NETNS: return ensure_netns(r, o);
	case OBJ_BRIDGE: return ensure_bridge(r, o);
	case OBJ_VETH: return ensure_veth(r, o);
	case OBJ_MACVLAN: return ensure_macvlan(r, o);
	case OBJ_VLAN: return ensure_vlan(r, o);
	case OBJ_ADDR: return ensure_addr(r, o);
	case OBJ_ROUTE: return ensure_route(r, o);
	case OBJ_SYSCTL: return ensure_sysctl(r, o);
	}
	return -EINVAL;
}

/* Same system object (identity, not every property). */
static bool obj_same(const struct obj *a, const struct obj *b)
{
	if (a->type != b->type || !str_eq(a->ns, b->ns))
		return false;
	switch (a->type) {
	case OBJ_NETNS:
		return true;
	case OBJ_BRIDGE:
	case OBJ_MACVLAN:
	case OBJ_VLAN:
		return !strcmp(a->dev, b->dev);
	case OBJ_VETH:
		return !strcmp(a->dev, b->dev) && !strcmp(a->peer, b->peer);
	case OBJ_ADDR:
		return !strcmp(a->dev, b->dev) && a->family == b->family && a->plen == b->plen &&
		       !memcmp(&a->ip, &b->ip, fam_len(a->family));
	case OBJ_ROUTE:
		return !strcmp(a->dev, b->dev) && a->family == b->family &&
		       !memcmp(&a->ip, &b->ip, fam_len(a->family));
	case OBJ_SYSCTL:
		return !strcmp(a->key, b->key);
	}
	return false;
}

static const struct obj *find_same(const struct objv *v, const struct obj *o)
{
	for (size_t i = 0; v && i < v->n; i++)
		if (obj_same(&v->v[i], o))
			return &v->v[i];
	return NULL;
}

/* An object found as configured: ours if the previous generation made it. */
static void inherit(struct run *r, struct obj *o)
{
	const struct obj *oo = r->old ? find_same(&r->old->plan, o) : NULL;

	r->kept++;
	if (!oo || !oo->owned)
		return;
	o->owned = true;
	if (o->type == OBJ_SYSCTL && oo->orig_val && !o->orig_val)
		o->orig_val = strdup(oo->orig_val);
}

/* ---- removal ------------------------------------------------------------ */

enum { SEL_OWNED, SEL_FRESH, SEL_ALL };

static bool selected(const struct obj *o, int sel)
{
	if (sel == SEL_OWNED)
		return o->owned && !o->persist;
	if (sel == SEL_FRESH)
		return o->fresh;
	return true;
}

/* True when the same pass also removes namespace ns: what lives only
 * inside it (addresses, routes, sysctls) goes with it. */
static bool ns_dying(const struct obj *v, size_t n, int sel, const char *ns)
{
	for (size_t i = 0; ns && i < n; i++)
		if (v[i].type == OBJ_NETNS && selected(&v[i], sel) && str_eq(v[i].ns, ns))
			return true;
	return false;
}

/* Deletes link `name` of namespace ns if it is of `kind`. 0 when gone. */
static int link_remove(void *ctx, const char *ns, const char *name, const char *kind, char **e)
{
	struct nl_link_info li;
	int rc = SYS(link_get)(ctx, ns, name, &li, e);

	if (rc == -ENODEV || (rc > 0 && strcmp(li.kind, kind)))
		return 0;       /* gone already, or someone else's now */
	if (rc < 0)
		return rc;
	return SYS(link_del)(ctx, ns, li.index, e);
}

/* Undoes one object. undo: restore the state before the last apply
 * (previous sysctl value, replaced route) rather than before decoyproxy. */
static int obj_remove(void *ctx, struct obj *o, bool undo, char **e)
{
	struct nl_link_info li;
	struct nl_route rte;
	int rc;

	switch (o->type) {
	case OBJ_NETNS:
		return SYS(ns_delete)(ctx, o->ns, e);
	case OBJ_BRIDGE:
		return link_remove(ctx, NULL, o->dev, "bridge", e);
	case OBJ_VETH:
		/* deleting the host end takes the peer with it */
		return link_remove(ctx, NULL, o->dev, "veth", e);
	case OBJ_MACVLAN:
		return link_remove(ctx, o->ns, o->dev, "macvlan", e);
	case OBJ_VLAN:
		return link_remove(ctx, o->ns, o->dev, "vlan", e);
	case OBJ_ADDR:
		rc = SYS(link_get)(ctx, o->ns, o->dev, &li, e);
		if (rc > 0)
			rc = SYS(addr_del)(ctx, o->ns, li.index, o->family, &o->ip, o->plen, e);
		return rc;
	case OBJ_ROUTE:
		rc = SYS(link_get)(ctx, o->ns, o->dev, &li, e);
		if (rc <= 0)
			return rc;
		route_of(o, li.index, &o->ip, &rte);
		rc = SYS(route_del)(ctx, o->ns, &rte, e);
		if (rc == 0 && undo && o->replaced) {
			rc = SYS(link_get)(ctx, o->ns, o->rep_dev, &li, e);
			if (rc > 0) {
				route_of(o, li.index, &o->rep_gw, &rte);
				rc = SYS(route_add)(ctx, o->ns, &rte, e);
			}
		}
		return rc;
	case OBJ_SYSCTL:
		if (undo ? !o->prev_val : !o->orig_val)
			return 0;
		return SYS(sysctl_set)(ctx, o->ns, o->key, undo ? o->prev_val : o->orig_val, e);
	}
	return -EINVAL;
}

/* Whatever the reason, these mean "already gone". */
static bool gone(int rc)
{
	return rc == -ENODEV || rc == -ENOENT || rc == -ESRCH || rc == -EADDRNOTAVAIL;
}

/* Removes the selected objects of v in reverse order. Returns the number of
 * failures (each reported as a warning). */
static unsigned remove_pass(struct netseg *st, struct objv *v, int sel, const char *verb)
{
	void *ctx = ctx_of(st);
	unsigned failed = 0;

	for (size_t i = v->n; i-- > 0;) {
		struct obj *o = &v->v[i];
		char text[512], *e = NULL;
		int rc;

		if (!selected(o, sel))
			continue;
		obj_text(o, text, sizeof(text));
		if ((o->type == OBJ_ADDR || o->type == OBJ_ROUTE || o->type == OBJ_SYSCTL) &&
		    ns_dying(v->v, v->n, sel, o->ns)) {
			ha_debug("network '%s': %s goes with its namespace", o->seg, text);
		} else {
			rc = obj_remove(ctx, o, sel == SEL_FRESH, &e);
			if (rc < 0 && !gone(rc)) {
				ha_warning("network '%s': cannot remove %s: %s", o->seg, text, e ? e : strerror(-rc));
				failed++;
			} else {
				ha_notice("network '%s': %s %s", o->seg, verb, text);
			}
		}
		free(e);
		o->owned = o->fresh = false;
	}
	return failed;
}

/* Removes what a generation scheduled for removal and forgets it. */
static void stale_flush(struct netseg *st)
{
	if (!st || !st->stale.n)
		return;
	remove_pass(st, &st->stale, SEL_ALL, "removed");
	objv_clear(&st->stale);
	nl_release(st);
}

/* What old owns and st no longer plans (persist aside) goes to st->stale:
 * st is responsible for removing it once in service. */
static int stale_compute(struct netseg *st, struct netseg *old)
{
	for (size_t i = 0; old && i < old->plan.n; i++) {
		const struct obj *oo = &old->plan.v[i];

		if (!oo->owned || oo->persist || find_same(&st->plan, oo))
			continue;
		if (objv_add_copy(&st->stale, oo) < 0)
			return -ENOMEM;
	}
	return 0;
}

static bool has_owned(const struct netseg *st)
{
	for (size_t i = 0; st && i < st->plan.n; i++)
		if (st->plan.v[i].owned && !st->plan.v[i].persist)
			return true;
	return false;
}

/* ---- apply, commit, undo, remove ----------------------------------------- */

/* Namespaces that must exist already: namespace_list lines and bind/server
 * names that no section creates. Their fds are opened now, once. */
static int check_declared(struct run *r, struct nsdecl *list)
{
	for (struct nsdecl *d = list; d; d = d->next) {
		char *e = NULL;
		int rc;

		if (seg_by_netns(r->st, d->name))
			continue;
		rc = SYS(ns_exists)(r->ctx, d->name);
		if (rc == 0) {
			memprintf(r->err, "namespace '%s' (%s at %s:%d) does not exist in %s%s", d->name, d->what,
				  d->file, d->line, NS_RUN_DIR,
				  strcmp(d->what, "namespace_list") ? "" :
				  "; namespace_list only declares namespaces, a 'network' section creates one");
			return -ENOENT;
		}
		if (rc > 0)
			rc = SYS(ns_hold)(r->ctx, d->name, &e);
		if (rc < 0) {
			memprintf(r->err, "namespace '%s' (%s at %s:%d): %s", d->name, d->what, d->file, d->line,
				  e ? e : strerror(-rc));
			free(e);
			return rc;
		}
	}
	return 0;
}

static void announce(struct run *r)
{
	size_t nsegs = 0;

	for (struct segment *s = r->st->segs; s; s = s->next)
		nsegs++;
	for (size_t i = 0; i < r->st->plan.n; i++) {
		const struct obj *o = &r->st->plan.v[i];
		char text[512];

		obj_text(o, text, sizeof(text));
		if (o->fresh)
			ha_notice("network '%s': created %s", o->seg, text);
		else
			ha_debug("network '%s': kept %s%s", o->seg, text, o->owned ? " (ours)" : "");
	}
	if (nsegs)
		ha_notice("network: %zu segment(s): %u object(s) created, %u kept, %zu to remove",
			  nsegs, r->created, r->kept, r->st->stale.n);
}

int netseg_apply(struct dp_config *c, struct dp_config *oldc, char **err)
{
	struct netseg *old = oldc ? state_of(oldc) : NULL;
	struct netseg *st = state_of(c);
	struct run r = { 0 };
	size_t i;
	int rc;

	/* the previous reload was never committed: oldc is in service now */
	stale_flush(old);
	if (!st && has_owned(old) && !(st = state_get(c))) {
		memprintf(err, "network: out of memory");
		return -ENOMEM;
	}
	if (!st)
		return 0;
	if (!st->planned && plan_build(st) < 0) {
		memprintf(err, "network: out of memory");
		return -ENOMEM;
	}
	r.st = st;
	r.old = old;
	r.ctx = ctx_of(st);
	r.err = err;
	rc = check_declared(&r, st->decls);
	if (rc == 0)
		rc = check_declared(&r, st->refs);
	if (rc < 0)
		goto fail;
	for (i = 0; i < st->plan.n; i++) {
		rc = ensure(&r, &st->plan.v[i]);
		if (rc < 0)
			goto fail;
		if (rc == 0)
			inherit(&r, &st->plan.v[i]);
	}
	if (stale_compute(st, old) < 0) {
		rc = -ENOMEM;
		memprintf(err, "network: out of memory");
		goto fail;
	}
	announce(&r);
	nl_release(st);
	st->applied = true;
	return 0;
fail:
	/* leave nothing half-built: undo what this call created */
	remove_pass(st, &st->plan, SEL_FRESH, "rolled back");
	objv_clear(&st->stale);
	nl_release(st);
	return rc;
}

void netseg_commit(struct dp_config *newc, struct dp_config *oldc)
{
	struct netseg *st = state_of(newc);
	const char *tag = newc->g.log_tag ? newc->g.log_tag : "decoyproxy";

	if (!st)
		return;
	stale_flush(st);
	for (size_t i = 0; i < st->plan.n; i++) {
		struct obj *o = &st->plan.v[i];
		char *m = NULL, text[512];
		int n;

		/* at start the [NOTICE] lines went to stderr only: the log
		 * targets were not open yet */
		if (!oldc && !st->announced && o->fresh) {
			obj_text(o, text, sizeof(text));
			n = memprintf(&m, "network '%s': created %s", o->seg, text);
			if (n > 0)
				log_list_send(&newc->g.logs, 5 /* notice */, tag, m, (size_t)n);
			free(m);
		}
		o->fresh = false;
	}
	st->announced = true;
}

void netseg_undo(struct dp_config *newc, struct dp_config *oldc)
{
	struct netseg *st = state_of(newc);

	(void)oldc;
	if (!st)
		return;
	remove_pass(st, &st->plan, SEL_FRESH, "rolled back");
	objv_clear(&st->stale);
	nl_release(st);
	st->applied = false;
}

void netseg_remove(struct dp_config *c)
{
	struct netseg *st = state_of(c);

	if (!st)
		return;
	stale_flush(st);
	for (struct segment *s = st->segs; s; s = s->next)
		if (s->persist)
			ha_notice("network '%s': persistent, left in place", s->name);
	remove_pass(st, &st->plan, SEL_OWNED, "removed");
	nl_release(st);
}

/* ---- the real system: /run/netns and rtnetlink --------------------------- */

static int real_nsfd(struct netseg *st, const char *ns, char **err)
{
	return ns_cache_fd(st->nsc, ns, err);
}

static int real_nl(struct netseg *st, const char *ns, struct nl_sock **out, char **err)
{
	return ns_cache_rtnl(st->nsc, ns, out, err);
}

static int r_ns_exists(void *ctx, const char *ns)
{
	(void)ctx;
	return ns_exists(ns);
}

static int r_ns_hold(void *ctx, const char *ns, char **err)
{
	int fd = real_nsfd(ctx, ns, err);

	return fd < 0 ? fd : 0;
}

static int r_ns_create(void *ctx, const char *ns, char **err)
{
	(void)ctx;
	return ns_create(ns, err);
}

static int r_ns_delete(void *ctx, const char *ns, char **err)
{
	struct netseg *st = ctx;

	/* our own references would keep the namespace alive */
	ns_cache_forget(st->nsc, ns);
	return ns_delete(ns, err);
}

static int r_link_get(void *ctx, const char *ns, const char *name, struct nl_link_info *out, char **err)
{
	struct nl_sock *s;
	int rc = real_nl(ctx, ns, &s, err);

	return rc < 0 ? rc : nl_link_get(s, name, out, err);
}

static int r_veth_add(void *ctx, const char *name, const char *peer, const char *peer_ns, char **err)
{
	struct nl_sock *s;
	int fd, rc = real_nl(ctx, NULL, &s, err);

	if (rc < 0)
		return rc;
	fd = real_nsfd(ctx, peer_ns, err);
	return fd < 0 ? fd : nl_link_add_veth(s, name, peer, fd, err);
}

static int r_bridge_add(void *ctx, const char *name, char **err)
{
	struct nl_sock *s;
	int rc = real_nl(ctx, NULL, &s, err);

	return rc < 0 ? rc : nl_link_add_bridge(s, name, err);
}

static int r_macvlan_add(void *ctx, const char *name, int parent, char **err)
{
	struct nl_sock *s;
	int rc = real_nl(ctx, NULL, &s, err);

	return rc < 0 ? rc : nl_link_add_macvlan(s, name, parent, err);
}

static int r_vlan_add(void *ctx, const char *ns, const char *name, int parent, int vid, char **err)
{
	struct nl_sock *s;
	int rc = real_nl(ctx, ns, &s, err);

	return rc < 0 ? rc : nl_link_add_vlan(s, name, parent, vid, err);
}

static int r_link_move(void *ctx, int ifindex, const char *ns, const char *newname, char **err)
{
	struct nl_link_change ch = NL_LINK_CHANGE_INIT;
	char buf[NL_REQ_SIZE];
	struct nlmsghdr *nlh;
	struct nl_sock *s;
	int rc = real_nl(ctx, NULL, &s, err);

	if (rc < 0)
		return rc;
	ch.netns_fd = real_nsfd(ctx, ns, err);
	if (ch.netns_fd < 0)
		return ch.netns_fd;
	ch.name = newname;
	nlh = nl_build_link_change(buf, sizeof(buf), ifindex, &ch);
	if (!nlh) {
		memprintf(err, "move link #%d into namespace '%s': invalid parameter", ifindex, ns);
		return -EINVAL;
	}
	return nl_talkf(s, nlh, NULL, NULL, err, "move link #%d into namespace '%s' as '%s'", ifindex, ns, newname);
}

static int r_link_change(void *ctx, const char *ns, int ifindex, const struct nl_link_change *ch, char **err)
{
	char buf[NL_REQ_SIZE];
	struct nlmsghdr *nlh;
	struct nl_sock *s;
	int rc = real_nl(ctx, ns, &s, err);

	if (rc < 0)
		return rc;
	nlh = nl_build_link_change(buf, sizeof(buf), ifindex, ch);
	if (!nlh) {
		memprintf(err, "change link #%d: invalid parameter", ifindex);
		return -EINVAL;
	}
	return nl_talkf(s, nlh, NULL, NULL, err, "change link #%d", ifindex);
}

static int r_link_del(void *ctx, const char *ns, int ifindex, char **err)
{
	struct nl_sock *s;
	int rc = real_nl(ctx, ns, &s, err);

	return rc < 0 ? rc : nl_link_del(s, ifindex, err);
}

static int r_addr_list(void *ctx, const char *ns, struct nl_addr_entry *out, size_t max, char **err)
{
	struct nl_sock *s;
	int rc = real_nl(ctx, ns, &s, err);

	return rc < 0 ? rc : nl_addr_list(s, 0, AF_UNSPEC, out, max, err);
}

static int r_addr_add(void *ctx, const char *ns, int ifindex, int family, const void *addr, unsigned plen,
		      unsigned flags, char **err)
{
	struct nl_sock *s;
	int rc = real_nl(ctx, ns, &s, err);

	return rc < 0 ? rc : nl_addr_add(s, ifindex, family, addr, plen, flags, err);
}

static int r_addr_del(void *ctx, const char *ns, int ifindex, int family, const void *addr, unsigned plen,
		      char **err)
{
	struct nl_sock *s;
	int rc = real_nl(ctx, ns, &s, err);

	return rc < 0 ? rc : nl_addr_del(s, ifindex, family, addr, plen, err);
}

static int r_route_exists(void *ctx, const char *ns, const struct nl_route *r, char **err)
{
	struct nl_sock *s;
	int rc = real_nl(ctx, ns, &s, err);

	return rc < 0 ? rc : nl_route_exists(s, r, err);
}

static int r_route_add(void *ctx, const char *ns, const struct nl_route *r, char **err)
{
	struct nl_sock *s;
	int rc = real_nl(ctx, ns, &s, err);

	return rc < 0 ? rc : nl_route_add(s, r, err);
}

static int r_route_del(void *ctx, const char *ns, const struct nl_route *r, char **err)
{
	struct nl_sock *s;
	int rc = real_nl(ctx, ns, &s, err);

	return rc < 0 ? rc : nl_route_del(s, r, err);
}

static int r_sysctl_get(void *ctx, const char *ns, const char *key, char *out, size_t size, char **err)
{
	int fd = ns ? real_nsfd(ctx, ns, err) : -1;

	if (ns && fd < 0)
		return fd;
	return sysctl_get(fd, key, out, size, err);
}

static int r_sysctl_set(void *ctx, const char *ns, const char *key, const char *val, char **err)
{
	int fd = ns ? real_nsfd(ctx, ns, err) : -1;

	if (ns && fd < 0)
		return fd;
	return sysctl_set(fd, key, val, err);
}

static const struct netseg_sys real_sys = {
	.ns_exists = r_ns_exists,
	.ns_hold = r_ns_hold,
	.ns_create = r_ns_create,
	.ns_delete = r_ns_delete,
	.link_get = r_link_get,
	.veth_add = r_veth_add,
	.bridge_add = r_bridge_add,
	.macvlan_add = r_macvlan_add,
	.vlan_add = r_vlan_add,
	.link_move = r_link_move,
	.link_change = r_link_change,
	.link_del = r_link_del,
	.addr_list = r_addr_list,
	.addr_add = r_addr_add,
	.addr_del = r_addr_del,
	.route_exists = r_route_exists,
	.route_add = r_route_add,
	.route_del = r_route_del,
	.sysctl_get = r_sysctl_get,
	.sysctl_set = r_sysctl_set,
};
