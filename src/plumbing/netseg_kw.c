/* netseg_kw.c — the configuration words of network segments: `network
 * <name>` sections and their keywords (netns, uplink, vlan, address,
 * gateway, sysctl, persist, mtu), and HAProxy's `namespace_list` section
 * with its `namespace` lines. Each keyword checks its own words and fills
 * the generation's struct segment / struct nsdecl; checks that need the
 * whole configuration wait for finalize (netseg_plan.c).
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cfg/cfg.h"
#include "model/conf.h"
#include "net/nl.h"
#include "net/ns.h"
#include "plumbing/netseg.h"
#include "plumbing/netseg_int.h"

/* ---- addresses ---------------------------------------------------------- */

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

/* ---- the parsed sections' memory ---------------------------------------- */

void netseg_segment_free(struct segment *s)
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

void netseg_decls_free(struct nsdecl *d)
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
	st = netseg_state_get(ctx->conf);
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
			netseg_segment_free(s);
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
	if (!netseg_state_get(ctx->conf)) {
		memprintf(err, "out of memory");
		return CFG_ERR;
	}
	ctx->sec_data = NULL;
	return CFG_OK;
}

struct nsdecl *netseg_decl_find(struct nsdecl *d, const char *name)
{
	for (; d; d = d->next)
		if (!strcmp(d->name, name))
			return d;
	return NULL;
}

/* Appends a declaration; 0 or -ENOMEM. */
int netseg_decl_add(struct nsdecl **list, const char *name, const char *what, const char *file, int line)
{
	struct nsdecl *d = calloc(1, sizeof(*d)), **pp = list;

	if (!d)
		return -ENOMEM;
	d->name = strdup(name);
	d->what = strdup(what);
	d->file = strdup(file ? file : "?");
	d->line = line;
	if (!d->name || !d->what || !d->file) {
		netseg_decls_free(d);
		return -ENOMEM;
	}
	while (*pp)
		pp = &(*pp)->next;
	*pp = d;
	return 0;
}

static int kw_namespace(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct netseg *st = netseg_state_get(ctx->conf);
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
	d = netseg_decl_find(st->decls, argv[1]);
	if (d) {
		memprintf(err, "namespace '%s' already declared at %s:%d", argv[1], d->file, d->line);
		return CFG_WARN;
	}
	if (netseg_decl_add(&st->decls, argv[1], "namespace_list", ctx->file, ctx->line) < 0) {
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
