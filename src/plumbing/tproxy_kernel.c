/* tproxy_kernel.c — the plan of a generation in the kernel (see tproxy.h):
 * per namespace, the routing objects through rtnetlink (net/nl.h: fwmark
 * rules, local default routes, announce routes) and the nft table through
 * one atomic batch (net/nft.h), with sockets created in that namespace
 * (ns_cache_socket()); and the generation hooks built on them:
 * tproxy_apply(), tproxy_undo(), tproxy_remove_stale(), tproxy_remove().
 *
 * Ownership across generations: each plan entry records what its generation
 * added to the kernel (rule_own, route_own, ann_own, nft_on). On reload the
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
#include <unistd.h>
#include <sys/socket.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "lib/addr.h"
#include "lib/intercept.h"
#include "log/msg.h"
#include "model/proxy.h"
#include "net/nft.h"
#include "net/nl.h"
#include "net/ns.h"
#include "net/nscache.h"
#include "net/owner.h"
#include "plumbing/tproxy.h"
#include "plumbing/tproxy_int.h"

/* ---- kernel: helpers ------------------------------------------------------------------- */

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

static void err_clear(char **err)
{
	free(*err);
	*err = NULL;
}

/* rtnetlink socket in namespace ns, and its loopback (index, flags and
 * alias in *lo). */
static int rtnl_open(struct dp_config *c, const char *ns, struct nl_sock **s, struct nl_link_info *lo,
		     char **err)
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
	ret = nl_link_get(*s, "lo", lo, err);
	if (ret < 0) {
		nl_close(*s);
		*s = NULL;
		return ret;
	}
	return 0;
}

static void rule_fill(struct nl_rule *r, const struct tproxy_gconf *g, int fi)
{
	memset(r, 0, sizeof(*r));
	r->family = fam_of[fi];
	r->has_fwmark = true;
	r->fwmark = g->mark;
	r->table = g->table;
	r->protocol = RTPROT_DECOYPROXY;
}

/* local 0.0.0.0/0 (::/0) dev lo in the tproxy table */
static void default_fill(struct nl_route *r, const struct tproxy_gconf *g, int fi, int lo)
{
	memset(r, 0, sizeof(*r));
	r->family = fam_of[fi];
	r->type = RTN_LOCAL;
	r->table = g->table;
	r->oif = lo;
	r->protocol = RTPROT_DECOYPROXY;
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
	r->protocol = RTPROT_DECOYPROXY;
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

/* ---- kernel: ownership ------------------------------------------------------------------ */

/* Who installed the nft table of namespace ns: the verdict of its comment
 * (enum owner_verdict) for a run whose own mark is self, -ENOENT when there
 * is no table, another -errno (*err set) when it cannot be read. */
static int table_owner(struct dp_config *c, const char *ns, const char *self, char **err)
{
	char comment[256];              /* NFT_USERDATA_MAXLEN */
	int fd = nft_sock(c, ns, err), ret;

	if (fd < 0)
		return fd;
	ret = nft_table_comment(fd, comment, sizeof(comment), err);
	close(fd);
	if (ret <= 0)
		return ret ? ret : -ENOENT;
	return (int)owner_judge(comment, self, NULL, NULL);
}

/* What one pass over a namespace may take: rules and routes of our
 * protocol belong to the run that marked the table; they are ours to
 * adopt when there is no table (a crash before the nft batch) or when its
 * run is gone (or is us). */
struct adopt {
	bool ok;                        /* adopting is allowed in this namespace */
	bool table;                     /* the table was left by a run that is gone */
	unsigned rules, routes, announce;
	/* our protocol's local routes in table local, sorted; read on the
	 * first announce route found in place */
	struct tproxy_cidr *ours;
	size_t nours, capours;
	bool loaded;
	int lo;
};

static int cidr_qcmp(const void *a, const void *b)
{
	return cidr_cmp(a, b);
}

static void ours_collect(void *data, const struct nl_route *r)
{
	struct adopt *a = data;
	struct tproxy_cidr *c;

	if (r->protocol != RTPROT_DECOYPROXY || r->table != RT_TABLE_LOCAL || r->type != RTN_LOCAL ||
	    r->has_gw || (r->oif && r->oif != a->lo))
		return;
	if (a->nours == a->capours) {
		size_t cap = a->capours ? a->capours * 2 : 64;
		struct tproxy_cidr *v = realloc(a->ours, cap * sizeof(*v));

		if (!v)
			return;         /* then not adopted: left in place */
		a->ours = v;
		a->capours = cap;
	}
	c = &a->ours[a->nours++];
	memset(c, 0, sizeof(*c));
	c->family = (uint8_t)r->family;
	c->plen = (uint8_t)r->dst_len;
	memcpy(&c->addr, &r->dst, r->family == AF_INET6 ? 16 : 4);
}

/* Whether the announce route c that exists already is one of our
 * protocol's (and may be adopted). */
static bool announce_ours(struct nl_sock *s, struct adopt *a, const struct tproxy_cidr *c)
{
	if (!a->ok)
		return false;
	if (!a->loaded) {
		char *err = NULL;

		a->loaded = true;
		nl_route_dump(s, AF_INET, ours_collect, a, &err);
		err_clear(&err);
		nl_route_dump(s, AF_INET6, ours_collect, a, &err);
		free(err);
		qsort(a->ours, a->nours, sizeof(*a->ours), cidr_qcmp);
	}
	return a->nours && bsearch(c, a->ours, a->nours, sizeof(*a->ours), cidr_qcmp);
}

/* The "adopted ..." notice of one namespace, when anything was. */
static void adopt_notice(const struct tproxy_ns *n, const struct adopt *a)
{
	char nsd[NS_DESC_MAX];

	if (!a->table && !a->rules && !a->routes && !a->announce)
		return;
	ha_notice("tproxy: %s: adopted %s%u fwmark rule(s), %u local default route(s) and %u announce "
		  "route(s) left by an earlier run", ns_desc(n->name, nsd, sizeof(nsd)),
		  a->table ? "table inet " NFT_TABLE_NAME ", " : "", a->rules, a->routes, a->announce);
}

/* `lo` is down in n's namespace. Brings it up where decoyproxy made the
 * namespace (its lo carries a mark, net/owner.h) and says so; elsewhere it
 * is the operator's, and only the error of a route that needs it says what
 * to do (lo_hint). 0 or -errno with *err. */
static int lo_up(struct nl_sock *s, const struct tproxy_ns *n, struct nl_link_info *lo, char **err)
{
	struct nl_link_change ch = NL_LINK_CHANGE_INIT;
	char nsd[NS_DESC_MAX];
	int ret;

	if ((lo->flags & IFF_UP) || !owner_mark_valid(lo->alias))
		return 0;
	ch.up = 1;
	ret = nl_link_set(s, lo->index, &ch, err);
	if (ret < 0)
		return ret;
	lo->flags |= IFF_UP;
	ha_notice("tproxy: %s: brought 'lo' up (it was down; decoyproxy made this namespace)",
		  ns_desc(n->name, nsd, sizeof(nsd)));
	return 0;
}

/* Completes *err of a refused route when lo is down: what to do. */
static void lo_hint(const struct tproxy_ns *n, const struct nl_link_info *lo, int ret, char **err)
{
	char cmd[NS_DESC_MAX + 32];

	if (ret >= 0 || (lo->flags & IFF_UP))
		return;
	if (n->name)
		snprintf(cmd, sizeof(cmd), "ip -n %s link set lo up", n->name);
	else
		snprintf(cmd, sizeof(cmd), "ip link set lo up");
	memprintf(err, "%s: the loopback interface 'lo' is down in this namespace, and the local routes "
		  "that deliver intercepted connections need it up; decoyproxy brings 'lo' up only in the "
		  "namespaces it made: run '%s' first (or set 'tproxy-routing off' and route by hand)",
		  *err ? *err : strerror(-ret), cmd);
}

/* ---- kernel: install -------------------------------------------------------------------- */

/* The fwmark rule of family fam_of[fi]. One of our protocol already there
 * stays ours if the previous generation o added it, or is adopted when the
 * namespace allows it (a->ok); an identical one of someone else's is kept,
 * never owned. */
static int rule_install(struct nl_sock *s, const struct tproxy_gconf *g, struct tproxy_ns *n,
			const struct tproxy_gconf *og, const struct tproxy_ns *o, int fi, struct adopt *a,
			char **err)
{
	bool inherited = o && o->rule_own[fi] && same_rule(g, og);
	struct nl_rule r;
	int ret;

	rule_fill(&r, g, fi);
	ret = nl_rule_find(s, &r, RTPROT_DECOYPROXY, err);
	if (ret > 0) {
		n->rule_own[fi] = inherited || a->ok;
		a->rules += !inherited && a->ok;
		return 0;
	}
	if (!ret)
		ret = nl_rule_exists(s, &r, err);
	if (ret > 0) {
		n->rule_own[fi] = false;
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
			 struct adopt *a, char **err)
{
	bool inherited = o && o->route_own[fi] && same_table(g, og);
	struct nl_route r;
	int ret;

	default_fill(&r, g, fi, lo);
	ret = nl_route_find(s, &r, RTPROT_DECOYPROXY, err);
	if (ret > 0) {
		n->route_own[fi] = inherited || a->ok;
		a->routes += !inherited && a->ok;
		return 0;
	}
	if (!ret)
		ret = nl_route_exists(s, &r, err);
	if (ret > 0) {
		n->route_own[fi] = false;
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
			    int lo, struct adopt *a, char **err)
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
			/* ours from a run that is gone: adopt it; else the
			 * operator's (or an interface address): keep it */
			err_clear(err);
			a->lo = lo;
			if (announce_ours(s, a, &n->announce[k])) {
				n->ann_own[k] = true;
				a->announce++;
			}
		} else {
			memprintf(err, "announce: local route %s dev lo: %s",
				  cidr_str(&n->announce[k], cs, sizeof(cs)),
				  *err ? *err : strerror(-ret));
			return ret;
		}
	}
	return 0;
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
	struct nl_link_info lo;
	char *err = NULL, cs[INET6_ADDRSTRLEN + 8];
	int ret;

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
			default_fill(&route, vg, fi, lo.index);
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
		announce_fill(&route, &v->announce[i], lo.index);
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
	struct adopt a = { 0 };
	struct nl_sock *s = NULL;
	struct nl_link_info lo = { 0 };
	int ret = 0;

	/* who installed the table there: read before our batch replaces it */
	ret = table_owner(c, n->name, c->owner, err);
	a.ok = ret == -ENOENT || ret == OWNER_ORPHAN || ret == OWNER_SELF;
	a.table = ret == OWNER_ORPHAN;
	/* unreadable: adopt nothing; the batch below reports a real problem
	 * with nftables itself */
	err_clear(err);
	if (g->routing || n->nannounce) {
		ret = rtnl_open(c, n->name, &s, &lo, err);
		if (ret < 0)
			goto fail;
		ret = lo_up(s, n, &lo, err);
		if (ret < 0)
			goto fail;
	}
	for (int fi = 0; g->routing && fi < 2; fi++) {
		bool route = false;

		ret = rule_install(s, g, n, og, o, fi, &a, err);
		if (!ret) {
			route = true;
			ret = route_install(s, g, n, og, o, fi, lo.index, &a, err);
		}
		if (v6_optional(n, fi, ret)) {
			char nsd[NS_DESC_MAX];

			ha_warning("tproxy: %s: IPv6 fwmark rule / local route not installed: %s",
				   ns_desc(n->name, nsd, sizeof(nsd)), *err ? *err : strerror(-ret));
			err_clear(err);
			ret = 0;
		}
		if (ret < 0 && route)
			lo_hint(n, &lo, ret, err);
		if (ret < 0)
			goto fail;
	}
	ret = announce_install(s, n, o, lo.index, &a, err);
	lo_hint(n, &lo, ret, err);
	if (ret < 0)
		goto fail;
	n->nft.comment = c->owner;
	ret = nft_install(c, n, o, err);
	if (ret < 0)
		goto fail;
	adopt_notice(n, &a);
	free(a.ours);
	nl_close(s);
	return 0;
fail:
	free(a.ours);
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
		if (!px)        /* a udp-lb section's UDP divert: named by its set */
			ret = memprintf(&buf, "%s%sudp set %s -> %s", buf ? buf : "", buf ? ", " : "",
					n->nft.div[i].set, a);
		else if (i && n->fe[i - 1] == px)
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

/* ---- --cleanup ------------------------------------------------------------------------- */

/* Deletes our-protocol routing objects of c's settings in namespace n (the
 * table there is gone or was left by a run that is gone). Returns the
 * number of failures; *removed counts what went. */
static unsigned routing_cleanup(struct dp_config *c, const struct tproxy_gconf *g, const struct tproxy_ns *n,
				unsigned *removed)
{
	struct nl_sock *s = NULL;
	struct nl_link_info lo;
	char *err = NULL, nsd[NS_DESC_MAX];
	unsigned failed = 0, nann = 0;
	int ret;

	ns_desc(n->name, nsd, sizeof(nsd));
	ret = rtnl_open(c, n->name, &s, &lo, &err);
	if (ret < 0) {
		ha_warning("tproxy: %s: %s", nsd, err ? err : strerror(-ret));
		free(err);
		return 1;
	}
	for (int fi = 0; fi < 2; fi++) {
		struct nl_rule r;
		struct nl_route route;

		rule_fill(&r, g, fi);
		ret = nl_rule_del(s, &r, &err);
		if (!ret) {
			ha_notice("tproxy: %s: removed fwmark rule 0x%x lookup %u (%s) left by an earlier run",
				  nsd, g->mark, g->table, fam_name(fi));
			(*removed)++;
		} else if (ret != -ENOENT && ret != -EAFNOSUPPORT) {
			release_warn(n->name, "the fwmark rule", ret, err);
			failed++;
		}
		err_clear(&err);
		default_fill(&route, g, fi, lo.index);
		ret = nl_route_del(s, &route, &err);
		if (!ret) {
			ha_notice("tproxy: %s: removed local default route of table %u (%s) left by an earlier run",
				  nsd, g->table, fam_name(fi));
			(*removed)++;
		} else if (ret != -ESRCH && ret != -ENOENT && ret != -EAFNOSUPPORT) {
			release_warn(n->name, "the local default route", ret, err);
			failed++;
		}
		err_clear(&err);
	}
	for (size_t k = 0; k < n->nannounce; k++) {
		struct nl_route route;
		char cs[INET6_ADDRSTRLEN + 8];

		announce_fill(&route, &n->announce[k], lo.index);
		ret = nl_route_del(s, &route, &err);
		if (!ret) {
			nann++;
		} else if (ret != -ESRCH && ret != -ENOENT && ret != -EAFNOSUPPORT) {
			release_warn(n->name, cidr_str(&n->announce[k], cs, sizeof(cs)), ret, err);
			failed++;
		}
		err_clear(&err);
	}
	if (nann)
		ha_notice("tproxy: %s: removed %u announce route(s) left by an earlier run", nsd, nann);
	*removed += nann;
	nl_close(s);
	return failed;
}

int tproxy_cleanup(struct dp_config *c, unsigned *removed)
{
	struct tproxy_gconf *g = gconf_of(c);
	unsigned failed = 0;

	for (size_t i = 0; g && i < g->nns; i++) {
		const struct tproxy_ns *n = &g->ns[i];
		char *err = NULL, nsd[NS_DESC_MAX];
		int v;

		ns_desc(n->name, nsd, sizeof(nsd));
		if (n->name && ns_exists(n->name) == 0)
			continue;       /* gone, with everything in it */
		v = table_owner(c, n->name, NULL, &err);
		if (v == OWNER_LIVE) {
			ha_notice("tproxy: %s: table inet %s belongs to a decoyproxy that is still running: "
				  "left in place, with its rules and routes", nsd, NFT_TABLE_NAME);
		} else if (v == OWNER_FOREIGN) {
			ha_notice("tproxy: %s: table inet %s carries no run mark (made by hand, or by a "
				  "decoyproxy older than marks): left in place, with the rules and routes",
				  nsd, NFT_TABLE_NAME);
		} else if (v < 0 && v != -ENOENT) {
			ha_warning("tproxy: %s: %s", nsd, err ? err : strerror(-v));
			failed++;
		} else {
			if (v == OWNER_ORPHAN) {
				int fd = nft_sock(c, n->name, &err);
				int ret = fd < 0 ? fd : nft_remove(fd, &err);

				if (fd >= 0)
					close(fd);
				if (ret < 0) {
					release_warn(n->name, "table inet " NFT_TABLE_NAME, ret, err);
					failed++;
				} else {
					ha_notice("tproxy: %s: removed table inet %s left by an earlier run", nsd,
						  NFT_TABLE_NAME);
					(*removed)++;
				}
			}
			failed += routing_cleanup(c, g, n, removed);
		}
		free(err);
	}
	return (int)failed;
}
