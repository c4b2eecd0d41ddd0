/* Unit tests: `network` / `namespace_list` parsing and checks, interface
 * name derivation, the plan, and apply/remove/reload/undo against an
 * in-memory model of the system (no root, no kernel).
 *
 * The model (struct fake) keeps namespaces, links (with their alias, where
 * decoyproxy writes its run's mark), addresses, default routes, sysctls and
 * which runs are alive, and writes every change it is asked to make into a
 * journal, so tests assert on what decoyproxy did to the system, in order,
 * and on what is left afterwards. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <linux/if_link.h>

#include "cfg/cfg.h"
#include "model/conf.h"
#include "plumbing/netseg.h"
#include "net/nl.h"
#include "net/ns.h"
#include "net/owner.h"
#include "model/proxy.h"
#include "core/loop.h"
#include "log/msg.h"
#include "ctl/module.h"

#include "helpers.h"

/* ---- the model ------------------------------------------------------------ */

#define F_NS 16
#define F_LINKS 64
#define F_ADDRS 64
#define F_ROUTES 16
#define F_SYSCTLS 32

struct flink {
	bool used;
	char ns[NS_NAME_MAX + 1];       /* "" = host */
	char name[IFNAMSIZ];
	char kind[NL_KIND_MAX];
	int index;                      /* unique across the model */
	unsigned flags, mtu;
	int master, link, vlan, mode;
	char alias[NL_ALIAS_MAX];
};

struct faddr {
	bool used;
	char ns[NS_NAME_MAX + 1];
	int ifindex, family;
	union nl_ip ip;
	unsigned plen;
};

struct froute {
	bool used;
	char ns[NS_NAME_MAX + 1];
	int family, oif;
	union nl_ip gw;
};

struct fsysctl {
	bool used;
	char ns[NS_NAME_MAX + 1];
	char key[128], val[64];
};

struct fake {
	char nses[F_NS][NS_NAME_MAX + 1];
	struct flink links[F_LINKS];
	struct faddr addrs[F_ADDRS];
	struct froute routes[F_ROUTES];
	struct fsysctl sysctls[F_SYSCTLS];
	int next_index;
	char journal[8192];
	bool no_vlan;                   /* like this machine's kernel */
	const char *fail_op;            /* fail this operation... */
	int fail_nth;                   /* ...on its nth call (1-based) */
	int fail_calls;
	const char *live[4];            /* marks of the runs still alive */
};

static struct fake F;

static void fk_reset(void)
{
	memset(&F, 0, sizeof(F));
	F.next_index = 100;
	/* the host namespace has lo and a NIC */
	F.links[0] = (struct flink){ true, "", "lo", "", 1, IFF_UP, 65536, 0, 0, -1, -1, "" };
	F.links[1] = (struct flink){ true, "", "nic0", "", 2, IFF_UP, 1500, 0, 0, -1, -1, "" };
}

static const char *nsk(const char *ns)
{
	return ns ? ns : "";
}

static void jlog(const char *fmt, ...) DP_PRINTF(1, 2);
static void jlog(const char *fmt, ...)
{
	size_t l = strlen(F.journal);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(F.journal + l, sizeof(F.journal) - l, fmt, ap);
	va_end(ap);
	l = strlen(F.journal);
	if (l + 1 < sizeof(F.journal)) {
		F.journal[l] = '\n';
		F.journal[l + 1] = '\0';
	}
}

/* Failure injection: true when this call of op must fail. */
static bool injected(const char *op)
{
	if (!F.fail_op || strcmp(F.fail_op, op))
		return false;
	return ++F.fail_calls == F.fail_nth;
}

static int fk_ns_find(const char *ns)
{
	for (int i = 0; i < F_NS; i++)
		if (F.nses[i][0] && !strcmp(F.nses[i], ns))
			return i;
	return -1;
}

static bool ns_ok(const char *ns)
{
	return !ns || fk_ns_find(ns) >= 0;
}

static struct flink *fk_link(const char *ns, const char *name)
{
	for (int i = 0; i < F_LINKS; i++)
		if (F.links[i].used && !strcmp(F.links[i].ns, nsk(ns)) && !strcmp(F.links[i].name, name))
			return &F.links[i];
	return NULL;
}

static struct flink *fk_link_idx(const char *ns, int index)
{
	for (int i = 0; i < F_LINKS; i++)
		if (F.links[i].used && !strcmp(F.links[i].ns, nsk(ns)) && F.links[i].index == index)
			return &F.links[i];
	return NULL;
}

static struct flink *fk_link_new(const char *ns, const char *name, const char *kind)
{
	for (int i = 0; i < F_LINKS; i++) {
		if (F.links[i].used)
			continue;
		F.links[i] = (struct flink){ .used = true, .index = F.next_index++, .mtu = 1500,
					     .vlan = -1, .mode = -1 };
		snprintf(F.links[i].ns, sizeof(F.links[i].ns), "%s", nsk(ns));
		snprintf(F.links[i].name, sizeof(F.links[i].name), "%s", name);
		snprintf(F.links[i].kind, sizeof(F.links[i].kind), "%s", kind);
		return &F.links[i];
	}
	fail_msg("model: out of links");
	return NULL;
}

static void fk_link_free(struct flink *l)
{
	for (int i = 0; i < F_ADDRS; i++)
		if (F.addrs[i].used && F.addrs[i].ifindex == l->index)
			F.addrs[i].used = false;
	for (int i = 0; i < F_ROUTES; i++)
		if (F.routes[i].used && F.routes[i].oif == l->index)
			F.routes[i].used = false;
	l->used = false;
}

static int fk_ns_exists(void *ctx, const char *ns)
{
	return fk_ns_find(ns) >= 0;
}

static int fk_ns_hold(void *ctx, const char *ns, char **err)
{
	if (fk_ns_find(ns) < 0) {
		memprintf(err, "namespace '%s' does not exist", ns);
		return -ENOENT;
	}
	return 0;
}

static int fk_ns_create(void *ctx, const char *ns, char **err)
{
	if (injected("ns_create")) {
		memprintf(err, "cannot create namespace '%s': injected", ns);
		return -EPERM;
	}
	for (int i = 0; i < F_NS; i++) {
		if (!F.nses[i][0]) {
			snprintf(F.nses[i], sizeof(F.nses[i]), "%s", ns);
			fk_link_new(ns, "lo", "")->flags = 0;
			jlog("ns_create %s", ns);
			return 0;
		}
	}
	return -ENOSPC;
}

static int fk_ns_delete(void *ctx, const char *ns, char **err)
{
	int i = fk_ns_find(ns);

	if (i < 0) {
		memprintf(err, "no namespace named '%s'", ns);
		return -ENOENT;
	}
	F.nses[i][0] = '\0';
	for (int l = 0; l < F_LINKS; l++) {
		if (!F.links[l].used || strcmp(F.links[l].ns, ns))
			continue;
		/* a veth dies with its peer */
		if (!strcmp(F.links[l].kind, "veth")) {
			for (int p = 0; p < F_LINKS; p++)
				if (F.links[p].used && F.links[p].index == F.links[l].link)
					fk_link_free(&F.links[p]);
		}
		fk_link_free(&F.links[l]);
	}
	for (int s = 0; s < F_SYSCTLS; s++)
		if (F.sysctls[s].used && !strcmp(F.sysctls[s].ns, ns))
			F.sysctls[s].used = false;
	jlog("ns_delete %s", ns);
	return 0;
}

static int fk_link_get(void *ctx, const char *ns, const char *name, struct nl_link_info *out, char **err)
{
	struct flink *l;

	memset(out, 0, sizeof(*out));
	if (!ns_ok(ns))
		return -ENOENT;
	l = fk_link(ns, name);
	if (!l) {
		memprintf(err, "no link named '%s'", name);
		return -ENODEV;
	}
	out->index = l->index;
	snprintf(out->name, sizeof(out->name), "%s", l->name);
	snprintf(out->kind, sizeof(out->kind), "%s", l->kind);
	out->flags = l->flags;
	out->mtu = l->mtu;
	out->master = l->master;
	out->link = l->link;
	out->vlan_id = l->vlan;
	out->macvlan_mode = l->mode;
	snprintf(out->alias, sizeof(out->alias), "%s", l->alias);
	return l->index;
}

static int name_taken(const char *ns, const char *name, const char *kind, char **err)
{
	if (fk_link(ns, name)) {
		memprintf(err, "cannot create %s link '%s': File exists", kind, name);
		return -EEXIST;
	}
	return 0;
}

static int fk_veth_add(void *ctx, const char *name, const char *peer, const char *peer_ns, char **err)
{
	struct flink *h, *p;
	int rc;

	if (injected("veth_add")) {
		memprintf(err, "cannot create veth link '%s': injected", name);
		return -ENOBUFS;
	}
	if ((rc = name_taken(NULL, name, "veth", err)) < 0 || (rc = name_taken(peer_ns, peer, "veth", err)) < 0)
		return rc;
	if (!ns_ok(peer_ns))
		return -ENOENT;
	h = fk_link_new(NULL, name, "veth");
	p = fk_link_new(peer_ns, peer, "veth");
	h->link = p->index;
	p->link = h->index;
	jlog("veth_add %s peer %s@%s", name, peer, peer_ns);
	return 0;
}

static int fk_bridge_add(void *ctx, const char *name, char **err)
{
	int rc = name_taken(NULL, name, "bridge", err);

	if (rc < 0)
		return rc;
	fk_link_new(NULL, name, "bridge");
	jlog("bridge_add %s", name);
	return 0;
}

static int fk_macvlan_add(void *ctx, const char *name, int parent, char **err)
{
	int rc = name_taken(NULL, name, "macvlan", err);
	struct flink *l;

	if (rc < 0)
		return rc;
	l = fk_link_new(NULL, name, "macvlan");
	l->link = parent;
	l->mode = MACVLAN_MODE_BRIDGE;
	jlog("macvlan_add %s parent %d", name, parent);
	return 0;
}

static int fk_vlan_add(void *ctx, const char *ns, const char *name, int parent, int vid, char **err)
{
	int rc;
	struct flink *l;

	if (F.no_vlan)
		return nl_link_create_error(err, "vlan", name, -EOPNOTSUPP, "Unknown device type");
	if ((rc = name_taken(ns, name, "vlan", err)) < 0)
		return rc;
	l = fk_link_new(ns, name, "vlan");
	l->link = parent;
	l->vlan = vid;
	jlog("vlan_add %s@%s id %d", name, nsk(ns), vid);
	return 0;
}

static int fk_link_move(void *ctx, int ifindex, const char *ns, const char *newname, char **err)
{
	struct flink *l = fk_link_idx(NULL, ifindex);

	if (injected("link_move")) {
		memprintf(err, "move link #%d: injected", ifindex);
		return -EBUSY;
	}
	if (!l || !ns_ok(ns))
		return -ENODEV;
	if (fk_link(ns, newname)) {
		memprintf(err, "move link #%d: File exists", ifindex);
		return -EEXIST;
	}
	jlog("link_move %s -> %s@%s", l->name, newname, ns);
	snprintf(l->ns, sizeof(l->ns), "%s", ns);
	snprintf(l->name, sizeof(l->name), "%s", newname);
	return 0;
}

static int fk_link_change(void *ctx, const char *ns, int ifindex, const struct nl_link_change *ch, char **err)
{
	struct flink *l = fk_link_idx(ns, ifindex);

	if (!l) {
		memprintf(err, "change link #%d: No such device", ifindex);
		return -ENODEV;
	}
	if (ch->up >= 0)
		l->flags = ch->up ? l->flags | IFF_UP : l->flags & ~(unsigned)IFF_UP;
	if (ch->master >= 0)
		l->master = ch->master;
	if (ch->mtu)
		l->mtu = ch->mtu;
	if (ch->alias) {
		snprintf(l->alias, sizeof(l->alias), "%s", ch->alias);
		jlog("alias %s@%s %s", l->name, nsk(ns), ch->alias);
	}
	return 0;
}

static int fk_link_del(void *ctx, const char *ns, int ifindex, char **err)
{
	struct flink *l = fk_link_idx(ns, ifindex);

	if (!l)
		return -ENODEV;
	jlog("link_del %s@%s", l->name, nsk(ns));
	if (!strcmp(l->kind, "veth")) {
		for (int p = 0; p < F_LINKS; p++)
			if (F.links[p].used && F.links[p].index == l->link)
				fk_link_free(&F.links[p]);
	}
	fk_link_free(l);
	return 0;
}

static int fk_addr_list(void *ctx, const char *ns, struct nl_addr_entry *out, size_t max, char **err)
{
	size_t n = 0;

	for (int i = 0; i < F_ADDRS; i++) {
		if (!F.addrs[i].used || strcmp(F.addrs[i].ns, nsk(ns)))
			continue;
		if (n < max) {
			memset(&out[n], 0, sizeof(out[n]));
			out[n].family = F.addrs[i].family;
			out[n].ifindex = F.addrs[i].ifindex;
			out[n].prefixlen = F.addrs[i].plen;
			out[n].addr = F.addrs[i].ip;
		}
		n++;
	}
	return (int)n;
}

static char *ipstr(int family, const void *ip, char *buf)
{
	inet_ntop(family, ip, buf, INET6_ADDRSTRLEN);
	return buf;
}

static int fk_addr_add(void *ctx, const char *ns, int ifindex, int family, const void *addr, unsigned plen,
		       unsigned flags, char **err)
{
	char b[INET6_ADDRSTRLEN];

	if (injected("addr_add")) {
		memprintf(err, "add address: injected");
		return -ENOMEM;
	}
	for (int i = 0; i < F_ADDRS; i++) {
		if (F.addrs[i].used)
			continue;
		F.addrs[i] = (struct faddr){ .used = true, .ifindex = ifindex, .family = family, .plen = plen };
		snprintf(F.addrs[i].ns, sizeof(F.addrs[i].ns), "%s", nsk(ns));
		memcpy(&F.addrs[i].ip, addr, family == AF_INET6 ? 16 : 4);
		jlog("addr_add %s/%u dev #%d@%s%s", ipstr(family, addr, b), plen, ifindex, nsk(ns),
		     (flags & NL_ADDR_NODAD) ? " nodad" : "");
		return 0;
	}
	return -ENOSPC;
}

static int fk_addr_del(void *ctx, const char *ns, int ifindex, int family, const void *addr, unsigned plen,
		       char **err)
{
	char b[INET6_ADDRSTRLEN];

	for (int i = 0; i < F_ADDRS; i++) {
		if (F.addrs[i].used && F.addrs[i].ifindex == ifindex && F.addrs[i].family == family &&
		    F.addrs[i].plen == plen && !memcmp(&F.addrs[i].ip, addr, family == AF_INET6 ? 16 : 4)) {
			F.addrs[i].used = false;
			jlog("addr_del %s/%u@%s", ipstr(family, addr, b), plen, nsk(ns));
			return 0;
		}
	}
	return -EADDRNOTAVAIL;
}

static struct froute *fk_route(const char *ns, int family)
{
	for (int i = 0; i < F_ROUTES; i++)
		if (F.routes[i].used && F.routes[i].family == family && !strcmp(F.routes[i].ns, nsk(ns)))
			return &F.routes[i];
	return NULL;
}

static int fk_route_exists(void *ctx, const char *ns, const struct nl_route *r, char **err)
{
	struct froute *x = fk_route(ns, r->family);

	return x && x->oif == r->oif && !memcmp(&x->gw, &r->gw, r->family == AF_INET6 ? 16 : 4);
}

static int fk_route_add(void *ctx, const char *ns, const struct nl_route *r, char **err)
{
	char b[INET6_ADDRSTRLEN];

	assert_true(r->onlink && r->has_gw && r->dst_len == 0);
	if (injected("route_add")) {
		memprintf(err, "add route: injected");
		return -ENETUNREACH;
	}
	if (fk_route(ns, r->family)) {
		memprintf(err, "route exists");
		return -EEXIST;
	}
	for (int i = 0; i < F_ROUTES; i++) {
		if (F.routes[i].used)
			continue;
		F.routes[i] = (struct froute){ .used = true, .family = r->family, .oif = r->oif, .gw = r->gw };
		snprintf(F.routes[i].ns, sizeof(F.routes[i].ns), "%s", nsk(ns));
		jlog("route_add default via %s dev #%d@%s", ipstr(r->family, &r->gw, b), r->oif, nsk(ns));
		return 0;
	}
	return -ENOSPC;
}

static int fk_route_del(void *ctx, const char *ns, const struct nl_route *r, char **err)
{
	struct froute *x = fk_route(ns, r->family);
	char b[INET6_ADDRSTRLEN];

	if (!x || memcmp(&x->gw, &r->gw, r->family == AF_INET6 ? 16 : 4))
		return -ESRCH;
	x->used = false;
	jlog("route_del default via %s@%s", ipstr(r->family, &r->gw, b), nsk(ns));
	return 0;
}

static struct fsysctl *fk_sysctl(const char *ns, const char *key)
{
	for (int i = 0; i < F_SYSCTLS; i++)
		if (F.sysctls[i].used && !strcmp(F.sysctls[i].ns, nsk(ns)) && !strcmp(F.sysctls[i].key, key))
			return &F.sysctls[i];
	return NULL;
}

/* Every key exists with value "1" unless set, except keys naming "nosuch". */
static int fk_sysctl_get(void *ctx, const char *ns, const char *key, char *out, size_t size, char **err)
{
	struct fsysctl *s = fk_sysctl(ns, key);

	if (!ns_ok(ns) || strstr(key, "nosuch")) {
		memprintf(err, "sysctl %s: unknown key", key);
		return -ENOENT;
	}
	return snprintf(out, size, "%s", s ? s->val : "1");
}

static int fk_sysctl_set(void *ctx, const char *ns, const char *key, const char *val, char **err)
{
	struct fsysctl *s = fk_sysctl(ns, key);

	for (int i = 0; !s && i < F_SYSCTLS; i++) {
		if (!F.sysctls[i].used) {
			s = &F.sysctls[i];
			s->used = true;
			snprintf(s->ns, sizeof(s->ns), "%s", nsk(ns));
			snprintf(s->key, sizeof(s->key), "%s", key);
		}
	}
	snprintf(s->val, sizeof(s->val), "%s", val);
	jlog("sysctl %s=%s@%s", key, val, nsk(ns));
	return 0;
}

static int fk_mark_alive(void *ctx, const char *mark)
{
	for (size_t i = 0; i < ARRAY_SIZE(F.live); i++)
		if (F.live[i] && !strcmp(F.live[i], mark))
			return 1;
	return 0;
}

static const struct netseg_sys fake_sys = {
	.ns_exists = fk_ns_exists,
	.ns_hold = fk_ns_hold,
	.ns_create = fk_ns_create,
	.ns_delete = fk_ns_delete,
	.link_get = fk_link_get,
	.veth_add = fk_veth_add,
	.bridge_add = fk_bridge_add,
	.macvlan_add = fk_macvlan_add,
	.vlan_add = fk_vlan_add,
	.link_move = fk_link_move,
	.link_change = fk_link_change,
	.link_del = fk_link_del,
	.addr_list = fk_addr_list,
	.addr_add = fk_addr_add,
	.addr_del = fk_addr_del,
	.route_exists = fk_route_exists,
	.route_add = fk_route_add,
	.route_del = fk_route_del,
	.sysctl_get = fk_sysctl_get,
	.sysctl_set = fk_sysctl_set,
	.mark_alive = fk_mark_alive,
};

/* Number of links and namespaces in the model besides the host's own two
 * links: 0 means "everything decoyproxy made is gone". */
static int fk_extra(void)
{
	int n = 0;

	for (int i = 2; i < F_LINKS; i++)
		n += F.links[i].used;
	for (int i = 0; i < F_NS; i++)
		n += F.nses[i][0] != '\0';
	return n;
}

/* ---- helpers ----------------------------------------------------------------- */

static int setup(void **state)
{
	msgs[0] = '\0';
	ha_msg_hook = capture;
	dp_msg.quiet = true;
	fk_reset();
	netseg_set_sys(&fake_sys, &F);
	return 0;
}

static int teardown(void **state)
{
	netseg_set_sys(NULL, NULL);
	return 0;
}

static void expect_plan(const struct dp_config *c, const char *const *want, size_t n)
{
	char buf[512];

	assert_int_equal(netseg_plan_count(c), n);
	for (size_t i = 0; i < n; i++) {
		assert_true(netseg_plan_text(c, i, buf, sizeof(buf)) > 0);
		assert_string_equal(buf, want[i]);
	}
	assert_int_equal(netseg_plan_text(c, n, buf, sizeof(buf)), -ENOENT);
}

static void apply_ok(struct dp_config *c, struct dp_config *oldc)
{
	char *err = NULL;

	if (netseg_apply(c, oldc, &err) != 0)
		fail_msg("apply failed: %s\n%s", err ? err : "(no message)", msgs);
	free(err);
}

/* Applies and expects failure with a message holding needle. */
static void apply_fails(struct dp_config *c, const char *needle)
{
	char *err = NULL;

	assert_true(netseg_apply(c, NULL, &err) < 0);
	assert_non_null(err);
	if (!strstr(err, needle))
		fail_msg("expected \"%s\" in \"%s\"", needle, err);
	free(err);
}

static void journal_has(const char *line)
{
	if (!strstr(F.journal, line))
		fail_msg("journal lacks \"%s\":\n%s", line, F.journal);
}

#define SEG110 \
	"network seg110\n" \
	"    uplink br-decoy veth\n" \
	"    address 192.168.110.2/24\n" \
	"    address fd00:110::2/64\n" \
	"    gateway 192.168.110.1\n" \
	"    gateway fd00:110::1\n" \
	"    sysctl net.ipv4.conf.all.rp_filter 2\n" \
	"    mtu 1400\n"

/* ---- parsing and the plan --------------------------------------------------- */

static void test_plan_veth_segment(void **state)
{
	static const char *const want[] = {
		"namespace 'seg110'",
		"bridge 'br-decoy'",
		"veth 'dp-seg110' on bridge 'br-decoy', peer 'eth0' in namespace 'seg110', mtu 1400",
		"address 192.168.110.2/24 on 'eth0' in namespace 'seg110'",
		"address fd00:110::2/64 on 'eth0' in namespace 'seg110'",
		"default IPv4 route via 192.168.110.1 dev 'eth0' onlink in namespace 'seg110'",
		"default IPv6 route via fd00:110::1 dev 'eth0' onlink in namespace 'seg110'",
		"sysctl net.ipv4.conf.all.rp_filter = 2 in namespace 'seg110'",
	};
	struct dp_config *c = parse_ok(SEG110);
	char *show = NULL;

	expect_plan(c, want, ARRAY_SIZE(want));
	assert_int_equal(netseg_show(c, &show), 0);
	assert_non_null(strstr(show, "seg110 planned namespace 'seg110'\n"));
	free(show);
	/* -c only: finalize touched nothing */
	assert_string_equal(F.journal, "");
	dp_config_put(c);
}

static void test_plan_macvlan_vlan_netns(void **state)
{
	static const char *const want[] = {
		"namespace 'lab-dmz'",
		"macvlan 'eth0' on 'nic0' (bridge mode) in namespace 'lab-dmz'",
		"vlan 'eth0.120' (id 120) on 'eth0' in namespace 'lab-dmz'",
		"address 10.0.120.5/32 on 'eth0.120' in namespace 'lab-dmz'",
	};
	struct dp_config *c = parse_ok("network dmz\n"
				       "  netns lab-dmz\n"
				       "  uplink nic0 macvlan bridge\n"
				       "  vlan 120\n"
				       "  address 10.0.120.5\n"
				       "  persist\n");

	expect_plan(c, want, ARRAY_SIZE(want));
	dp_config_put(c);
}

static void test_plan_shared_bridge(void **state)
{
	struct dp_config *c = parse_ok("network a\n uplink br0 veth\n"
				       "network b\n uplink br0 veth bridge\n"
				       "network c\n");
	char buf[256];

	/* one bridge for both: ns a, br0, veth a, ns b, veth b, ns c */
	assert_int_equal(netseg_plan_count(c), 6);
	netseg_plan_text(c, 1, buf, sizeof(buf));
	assert_string_equal(buf, "bridge 'br0'");
	netseg_plan_text(c, 4, buf, sizeof(buf));
	assert_string_equal(buf, "veth 'dp-b' on bridge 'br0', peer 'eth0' in namespace 'b'");
	netseg_plan_text(c, 5, buf, sizeof(buf));
	assert_string_equal(buf, "namespace 'c'");
	dp_config_put(c);
}

static void test_name_derivation(void **state)
{
	const char *name = "segment-with-a-long-name";
	char want[IFNAMSIZ], cfgbuf[256], text[256], exp[256];
	struct dp_config *c;

	/* the rule documented in doc/segments.md: prefix + name when it fits,
	 * else 10 bytes + '-' + 4 hex digits of FNV-1a folded to 16 bits */
	assert_int_equal(nl_ifname_derive(want, NETSEG_HOST_PFX, name), 0);
	assert_int_equal(strlen(want), IFNAMSIZ - 1);
	assert_memory_equal(want, "dp-segment", 10);
	assert_int_equal(want[10], '-');
	snprintf(cfgbuf, sizeof(cfgbuf), "network %s\n uplink br0 veth\n", name);
	c = parse_ok(cfgbuf);
	netseg_plan_text(c, 2, text, sizeof(text));
	snprintf(exp, sizeof(exp), "veth '%s' on bridge 'br0', peer 'eth0' in namespace '%s'", want, name);
	assert_string_equal(text, exp);
	dp_config_put(c);

	assert_int_equal(nl_ifname_derive(want, NETSEG_HOST_PFX, "seg110"), 0);
	assert_string_equal(want, "dp-seg110");
}

static void test_parse_errors(void **state)
{
	expect_error("network\n", "'network': expects a segment name");
	expect_error("network a b\n", "unexpected word 'b'");
	expect_error("network a/b\n", "invalid segment name 'a/b'");
	expect_error("network a:b\n", "invalid segment name 'a:b'");
	expect_error("network a\nnetwork a\n", "network 'a' is already declared at t.cfg:1");
	expect_error("network a\n netns x\n netns y\n", "namespace already set to 'x'");
	expect_error("network a\n netns 'has space'\n", "invalid namespace name 'has space'");
	expect_error("network a\n uplink br0 tap\n", "unknown uplink type 'tap'");
	expect_error("network a\n uplink nic0 macvlan vepa\n", "unsupported mode 'vepa' for a macvlan uplink");
	expect_error("network a\n uplink a-very-long-device-name veth\n",
		     "invalid interface name 'a-very-long-device-name'");
	expect_error("network a\n uplink br0 veth\n uplink br1 veth\n", "uplink already set to 'br0'");
	expect_error("network a\n uplink br0\n", "usage: uplink <dev> veth|macvlan [bridge]");
	expect_error("network a\n vlan 0\n", "invalid VLAN id '0' (1 to 4094)");
	expect_error("network a\n vlan 4095\n", "invalid VLAN id '4095'");
	expect_error("network a\n address 10.0.0.300/24\n", "invalid address '10.0.0.300/24'");
	expect_error("network a\n address 10.0.0.1/33\n", "invalid prefix length in '10.0.0.1/33' (0 to 32)");
	expect_error("network a\n address fd00::1/129\n", "(0 to 128)");
	expect_error("network a\n address 10.0.0.1/24\n address 10.0.0.1/16\n",
		     "address '10.0.0.1/16' already given at line 2");
	expect_error("network a\n gateway 10.0.0.1/24\n", "invalid gateway address '10.0.0.1/24'");
	expect_error("network a\n gateway 10.0.0.1\n gateway 10.0.0.2\n", "an IPv4 gateway is already set at line 2");
	expect_error("network a\n sysctl kernel.panic 1\n", "invalid key 'kernel.panic': only 'net.' keys");
	expect_error("network a\n sysctl net.ipv4.ip_forward\n", "usage: sysctl <net.key> <value>");
	expect_error("network a\n sysctl net.ipv4.ip_forward 1\n sysctl net.ipv4.ip_forward 0\n",
		     "'net.ipv4.ip_forward' already set at line 2");
	expect_error("network a\n mtu 67\n", "invalid MTU '67' (68 to 65535)");
	expect_error("network a\n persist now\n", "usage: persist");
	expect_error("network a\n bogus 1\n", "unknown keyword 'bogus' in 'network' section");
	expect_error("namespace_list x\n", "takes no argument");
	expect_error("namespace_list\n namespace a/b\n", "invalid namespace name 'a/b'");
	expect_error("namespace_list\n uplink br0 veth\n", "'uplink' is not allowed in 'namespace_list' section");
}

static void test_finalize_errors(void **state)
{
	expect_error("network a\n address 10.0.0.2/24\n",
		     "network 'a': 'address' needs an 'uplink'");
	expect_error("network a\n vlan 7\n", "'vlan' needs an 'uplink'");
	expect_error("network a\n uplink br0 veth\n address fd00::2/64\n gateway 10.0.0.1\n",
		     "network 'a': IPv4 gateway without any IPv4 'address' in the segment");
	expect_error("network a\n uplink br0 veth\n address 10.0.0.2/24\n gateway fd00::1\n",
		     "IPv6 gateway without any IPv6 'address'");
	expect_error("network a\n uplink br0 veth\n address fd00::2/64\n mtu 1000\n",
		     "mtu 1000 is below 1280, the minimum for IPv6");
	expect_error("network a\n netns shared\nnetwork b\n netns shared\n",
		     "network 'b': namespace 'shared' is already used by network 'a' at t.cfg:1");
	expect_error("network a\nnetwork b\n netns a\n", "namespace 'a' is already used by network 'a'");
	expect_error("frontend f\n bind 127.0.0.1:1 namespace a/b\n", "invalid namespace name 'a/b'");
}

static void test_namespace_references(void **state)
{
	struct dp_config *c;

	/* declared by nothing: a warning, not an error (HAProxy allows it) */
	c = parse_ok("frontend f\n mode tcp\n bind 127.0.0.1:1 namespace outside\n default_backend b\n"
		     "backend b\n mode tcp\n server s1 10.0.0.1:80 namespace elsewhere\n");
	assert_non_null(strstr(msgs, "WARNING: config : parsing [t.cfg:3] : bind '127.0.0.1:1' of frontend 'f' uses namespace 'outside', which no 'network' section or 'namespace_list' declares"));
	assert_non_null(strstr(msgs, "server 'b/s1' uses namespace 'elsewhere'"));
	dp_config_put(c);

	/* declared: silent */
	c = parse_ok("namespace_list\n namespace outside\n"
		     "network seg\n"
		     "frontend f\n mode tcp\n bind 127.0.0.1:1 namespace outside\n bind 127.0.0.1:2 namespace seg\n"
		     " default_backend b\n"
		     "backend b\n mode tcp\n server s1 10.0.0.1:80 namespace seg\n");
	assert_null(strstr(msgs, "uses namespace"));
	dp_config_put(c);

	/* both declared and created: the network section wins, with a word */
	c = parse_ok("namespace_list\n namespace seg\nnetwork seg\n");
	assert_non_null(strstr(msgs, "namespace 'seg' is also managed by network 'seg'"));
	dp_config_put(c);
}

/* ---- apply / remove ------------------------------------------------------------- */

static void test_apply_creates_in_order_then_removes(void **state)
{
	struct dp_config *c = parse_ok(SEG110);
	struct flink *h, *p, *lo;
	char *show = NULL;

	apply_ok(c, NULL);
	assert_string_equal(F.journal,
			    "ns_create seg110\n"
			    "bridge_add br-decoy\n"
			    "veth_add dp-seg110 peer eth0@seg110\n"
			    "addr_add 192.168.110.2/24 dev #103@seg110\n"
			    "addr_add fd00:110::2/64 dev #103@seg110 nodad\n"
			    "route_add default via 192.168.110.1 dev #103@seg110\n"
			    "route_add default via fd00:110::1 dev #103@seg110\n"
			    "sysctl net.ipv4.conf.all.rp_filter=2@seg110\n");
	h = fk_link(NULL, "dp-seg110");
	p = fk_link("seg110", "eth0");
	lo = fk_link("seg110", "lo");
	assert_non_null(h);
	assert_non_null(p);
	assert_int_equal(h->master, fk_link(NULL, "br-decoy")->index);
	assert_true(h->flags & IFF_UP);
	assert_true(p->flags & IFF_UP);
	assert_true(lo->flags & IFF_UP);
	assert_true(fk_link(NULL, "br-decoy")->flags & IFF_UP);
	assert_int_equal(h->mtu, 1400);
	assert_int_equal(p->mtu, 1400);
	assert_non_null(strstr(msgs, "NOTICE: network 'seg110': created namespace 'seg110'\n"));
	assert_non_null(strstr(msgs, "NOTICE: network 'seg110': created veth 'dp-seg110' on bridge 'br-decoy'"));
	assert_non_null(strstr(msgs, "NOTICE: network: 1 segment(s): 8 object(s) created, 0 kept, 0 to remove\n"));
	assert_int_equal(netseg_show(c, &show), 0);
	assert_non_null(strstr(show, "seg110 created bridge 'br-decoy'\n"));
	free(show);

	F.journal[0] = '\0';
	msgs[0] = '\0';
	netseg_remove(c);
	/* reverse order; what lives inside the namespace goes with it */
	assert_string_equal(F.journal,
			    "link_del dp-seg110@\n"
			    "link_del br-decoy@\n"
			    "ns_delete seg110\n");
	assert_int_equal(fk_extra(), 0);
	assert_non_null(strstr(msgs, "NOTICE: network 'seg110': removed namespace 'seg110'\n"));
	dp_config_put(c);
}

static void test_second_start_is_noop(void **state)
{
	struct dp_config *c1 = parse_ok(SEG110), *c2 = parse_ok(SEG110);
	int hidx;

	apply_ok(c1, NULL);
	hidx = fk_link(NULL, "dp-seg110")->index;
	/* another process (no previous generation) finds it all in place */
	F.journal[0] = '\0';
	msgs[0] = '\0';
	apply_ok(c2, NULL);
	assert_string_equal(F.journal, "");
	assert_int_equal(fk_link(NULL, "dp-seg110")->index, hidx);
	assert_non_null(strstr(msgs, "0 object(s) created, 8 kept"));
	/* and, owning nothing, removes nothing */
	netseg_remove(c2);
	assert_string_equal(F.journal, "");
	dp_config_put(c2);
	netseg_remove(c1);
	assert_int_equal(fk_extra(), 0);
	dp_config_put(c1);
}

static void test_keeps_preexisting_objects(void **state)
{
	struct dp_config *c = parse_ok(SEG110);
	char *err = NULL, *show = NULL;

	/* the operator made the namespace and the bridge */
	fk_ns_create(NULL, "seg110", &err);
	fk_bridge_add(NULL, "br-decoy", &err);
	F.journal[0] = '\0';
	apply_ok(c, NULL);
	assert_null(strstr(F.journal, "ns_create"));
	assert_null(strstr(F.journal, "bridge_add"));
	journal_has("veth_add dp-seg110 peer eth0@seg110");
	assert_int_equal(netseg_show(c, &show), 0);
	assert_non_null(strstr(show, "seg110 kept namespace 'seg110'\n"));
	assert_non_null(strstr(show, "seg110 created veth 'dp-seg110'"));
	free(show);
	F.journal[0] = '\0';
	netseg_remove(c);
	/* ours go, the operator's stay; addresses inside a kept namespace
	 * are removed one by one, the sysctl is restored */
	journal_has("sysctl net.ipv4.conf.all.rp_filter=1@seg110");
	journal_has("route_del default via 192.168.110.1@seg110");
	journal_has("link_del dp-seg110@");
	assert_null(strstr(F.journal, "ns_delete"));
	assert_null(strstr(F.journal, "link_del br-decoy"));
	assert_non_null(fk_link(NULL, "br-decoy"));
	assert_int_equal(fk_ns_find("seg110") >= 0, 1);
	dp_config_put(c);
}

static void test_conflict_link_kind_rolls_back(void **state)
{
	struct dp_config *c = parse_ok(SEG110);
	char *err = NULL;

	/* the veth's host name is taken by a bridge */
	fk_bridge_add(NULL, "dp-seg110", &err);
	F.journal[0] = '\0';
	apply_fails(c, "network 'seg110': interface 'dp-seg110' in the host namespace is a bridge link, not this segment's veth");
	/* what this call made (namespace, bridge) is gone again */
	assert_string_equal(F.journal,
			    "ns_create seg110\n"
			    "bridge_add br-decoy\n"
			    "link_del br-decoy@\n"
			    "ns_delete seg110\n");
	assert_non_null(strstr(msgs, "rolled back namespace 'seg110'"));
	assert_non_null(fk_link(NULL, "dp-seg110"));
	dp_config_put(c);
}

static void test_conflict_bridge_name_and_peer(void **state)
{
	struct dp_config *c = parse_ok("network s\n uplink nic0 veth\n");
	char *err = NULL;

	apply_fails(c, "interface 'nic0' in the host namespace is a device without link kind, not a bridge");
	assert_int_equal(fk_extra(), 0);
	dp_config_put(c);

	c = parse_ok("network s\n uplink br0 veth\n");
	fk_ns_create(NULL, "s", &err);
	fk_link_new("s", "eth0", "dummy");
	apply_fails(c, "namespace 's' already has an interface 'eth0' (a dummy link), not the peer of 'dp-s'");
	/* the bridge was rolled back, the namespace (not ours) stays */
	assert_null(fk_link(NULL, "br0"));
	assert_true(fk_ns_find("s") >= 0);
	dp_config_put(c);
}

static void test_conflict_address_elsewhere(void **state)
{
	struct dp_config *c = parse_ok(SEG110);
	char *err = NULL;
	struct in_addr a;
	struct flink *l;

	fk_ns_create(NULL, "seg110", &err);
	l = fk_link_new("seg110", "eth1", "dummy");
	inet_pton(AF_INET, "192.168.110.2", &a);
	fk_addr_add(NULL, "seg110", l->index, AF_INET, &a, 24, 0, &err);
	apply_fails(c, "network 'seg110': address 192.168.110.2 is already on another interface");
	/* veth and bridge rolled back, the namespace is not ours and stays */
	assert_null(fk_link(NULL, "dp-seg110"));
	assert_null(fk_link(NULL, "br-decoy"));
	assert_true(fk_ns_find("seg110") >= 0);
	dp_config_put(c);
}

static void test_conflict_default_route(void **state)
{
	struct dp_config *c = parse_ok(SEG110);
	struct nl_route r = { .family = AF_INET, .has_gw = true, .onlink = true, .oif = 55 };
	char *err = NULL;

	fk_ns_create(NULL, "seg110", &err);
	inet_pton(AF_INET, "192.168.110.254", &r.gw.v4);
	fk_route_add(NULL, "seg110", &r, &err);
	apply_fails(c, "namespace 'seg110' already has a default IPv4 route that is not via 192.168.110.1 dev 'eth0'");
	journal_has("addr_del 192.168.110.2/24@seg110");
	assert_null(fk_link(NULL, "dp-seg110"));
	dp_config_put(c);
}

static void test_vlan_missing_kernel_support(void **state)
{
	struct dp_config *c = parse_ok("network v110\n uplink br-trunk veth\n vlan 110\n address 10.1.10.2/24\n");
	char line[128];

	F.no_vlan = true;
	apply_fails(c, "network 'v110': cannot create vlan link 'eth0.110': this kernel has no 'vlan' link support (CONFIG_VLAN_8021Q)");
	assert_int_equal(fk_extra(), 0);
	dp_config_put(c);

	/* where 802.1Q exists: the tagged link carries the address */
	c = parse_ok("network v110\n uplink br-trunk veth\n vlan 110\n address 10.1.10.2/24\n");
	F.no_vlan = false;
	apply_ok(c, NULL);
	journal_has("vlan_add eth0.110@v110 id 110");
	assert_int_equal(fk_link("v110", "eth0.110")->vlan, 110);
	assert_int_equal(fk_link("v110", "eth0.110")->link, fk_link("v110", "eth0")->index);
	snprintf(line, sizeof(line), "addr_add 10.1.10.2/24 dev #%d@v110", fk_link("v110", "eth0.110")->index);
	journal_has(line);
	netseg_remove(c);
	assert_int_equal(fk_extra(), 0);
	dp_config_put(c);
}

static void test_macvlan(void **state)
{
	struct dp_config *c = parse_ok("network dmz\n uplink nic0 macvlan\n address 192.0.2.10/24\n");
	struct flink *m;

	apply_ok(c, NULL);
	journal_has("macvlan_add dpm-dmz parent 2\nlink_move dpm-dmz -> eth0@dmz\n");
	m = fk_link("dmz", "eth0");
	assert_non_null(m);
	assert_string_equal(m->kind, "macvlan");
	assert_true(m->flags & IFF_UP);
	assert_null(fk_link(NULL, "dpm-dmz"));
	netseg_remove(c);
	assert_int_equal(fk_extra(), 0);
	dp_config_put(c);

	/* a failed move leaves no temporary link behind */
	c = parse_ok("network dmz\n uplink nic0 macvlan\n");
	F.fail_op = "link_move";
	F.fail_nth = 1;
	apply_fails(c, "move link");
	assert_int_equal(fk_extra(), 0);
	dp_config_put(c);

	c = parse_ok("network dmz\n uplink nic9 macvlan\n");
	apply_fails(c, "uplink parent 'nic9' does not exist in the host namespace");
	dp_config_put(c);
}

static void test_failure_injection_rolls_back(void **state)
{
	static const char *const ops[] = { "ns_create", "veth_add", "addr_add", "route_add" };

	for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
		struct dp_config *c = parse_ok(SEG110);
		char *err = NULL;

		fk_reset();
		F.fail_op = ops[i];
		F.fail_nth = 1;
		assert_true(netseg_apply(c, NULL, &err) < 0);
		assert_non_null(strstr(err, "network 'seg110': "));
		assert_non_null(strstr(err, "injected"));
		free(err);
		if (fk_extra() != 0)
			fail_msg("%s failure left %d object(s):\n%s", ops[i], fk_extra(), F.journal);
		dp_config_put(c);
	}
}

static void test_sysctl_unknown_key(void **state)
{
	struct dp_config *c = parse_ok("network s\n sysctl net.ipv4.conf.nosuch.rp_filter 0\n");

	apply_fails(c, "network 's': sysctl net.ipv4.conf.nosuch.rp_filter: unknown key");
	assert_int_equal(fk_extra(), 0);
	dp_config_put(c);
}

static void test_declared_namespaces_must_exist(void **state)
{
	struct dp_config *c;
	char *err = NULL;

	c = parse_ok("namespace_list\n namespace outside\n");
	apply_fails(c, "namespace 'outside' (namespace_list at t.cfg:2) does not exist in /run/netns; namespace_list only declares");
	fk_ns_create(NULL, "outside", &err);
	F.journal[0] = '\0';
	apply_ok(c, NULL);
	assert_string_equal(F.journal, "");
	netseg_remove(c);
	assert_true(fk_ns_find("outside") >= 0);
	dp_config_put(c);

	c = parse_ok("frontend f\n mode tcp\n bind 127.0.0.1:1 namespace ghost\n");
	apply_fails(c, "namespace 'ghost' (bind '127.0.0.1:1' of frontend 'f' at t.cfg:3) does not exist");
	dp_config_put(c);
}

/* ---- reload ------------------------------------------------------------------------ */

#define SEG(n, sub) \
	"network " n "\n uplink br0 veth\n address 10.0." sub ".2/24\n gateway 10.0." sub ".1\n"

static void test_reload_adds_keeps_removes(void **state)
{
	struct dp_config *g1 = parse_ok(SEG("a", "1") SEG("b", "2"));
	struct dp_config *g2 = parse_ok(SEG("a", "1") SEG("c", "3"));
	char want[512];
	int aidx, cidx;

	apply_ok(g1, NULL);
	netseg_commit(g1, NULL);
	aidx = fk_link(NULL, "dp-a")->index;
	F.journal[0] = '\0';
	msgs[0] = '\0';
	apply_ok(g2, g1);
	/* c created, a untouched, b still there until the commit */
	cidx = fk_link("c", "eth0")->index;
	snprintf(want, sizeof(want),
		 "ns_create c\n"
		 "veth_add dp-c peer eth0@c\n"
		 "addr_add 10.0.3.2/24 dev #%d@c\n"
		 "route_add default via 10.0.3.1 dev #%d@c\n", cidx, cidx);
	assert_string_equal(F.journal, want);
	assert_non_null(fk_link(NULL, "dp-b"));
	assert_non_null(strstr(msgs, "4 object(s) created, 5 kept, 4 to remove"));
	F.journal[0] = '\0';
	netseg_commit(g2, g1);
	assert_string_equal(F.journal, "link_del dp-b@\nns_delete b\n");
	assert_int_equal(fk_link(NULL, "dp-a")->index, aidx);
	dp_config_put(g1);

	/* g2 inherited a: stopping removes a, c and the shared bridge */
	F.journal[0] = '\0';
	netseg_remove(g2);
	assert_int_equal(fk_extra(), 0);
	journal_has("ns_delete a\n");
	journal_has("link_del br0@\n");
	dp_config_put(g2);
}

static void test_reload_undo_restores(void **state)
{
	struct dp_config *g1, *g2;

	g1 = parse_ok(SEG("a", "1") " sysctl net.ipv4.ip_forward 1\n sysctl net.ipv4.conf.all.rp_filter 2\n");
	g2 = parse_ok(SEG("a", "1") " sysctl net.ipv4.ip_forward 1\n sysctl net.ipv4.conf.all.rp_filter 0\n"
		      SEG("b", "2"));
	apply_ok(g1, NULL);
	netseg_commit(g1, NULL);
	apply_ok(g2, g1);
	assert_string_equal(fk_sysctl("a", "net.ipv4.conf.all.rp_filter")->val, "0");
	/* the listeners failed: back to g1's state */
	F.journal[0] = '\0';
	netseg_undo(g2, g1);
	assert_null(fk_link(NULL, "dp-b"));
	assert_true(fk_ns_find("b") < 0);
	assert_string_equal(fk_sysctl("a", "net.ipv4.conf.all.rp_filter")->val, "2");
	assert_non_null(fk_link(NULL, "dp-a"));
	assert_null(strstr(F.journal, "ns_delete a"));
	dp_config_put(g2);
	/* g1 still owns a: stop removes it all */
	netseg_remove(g1);
	assert_int_equal(fk_extra(), 0);
	dp_config_put(g1);
}

static void test_reload_gateway_change_and_flush(void **state)
{
	struct dp_config *g1 = parse_ok(SEG("a", "1") SEG("b", "2"));
	struct dp_config *g2 = parse_ok("network a\n uplink br0 veth\n address 10.0.1.2/24\n gateway 10.0.1.254\n");
	struct dp_config *g3 = parse_ok("network a\n uplink br0 veth\n address 10.0.1.2/24\n gateway 10.0.1.254\n");
	struct nl_route r = { .family = AF_INET };

	apply_ok(g1, NULL);
	F.journal[0] = '\0';
	apply_ok(g2, g1);
	/* our old default route is swapped, not reported as a conflict */
	journal_has("route_del default via 10.0.1.1@a\nroute_add default via 10.0.1.254");
	inet_pton(AF_INET, "10.0.1.254", &r.gw.v4);
	r.oif = fk_link("a", "eth0")->index;
	assert_int_equal(fk_route_exists(NULL, "a", &r, NULL), 1);
	/* g2 was never committed: the next apply removes b first */
	assert_non_null(fk_link(NULL, "dp-b"));
	F.journal[0] = '\0';
	apply_ok(g3, g2);
	journal_has("ns_delete b");
	assert_null(fk_link(NULL, "dp-b"));
	dp_config_put(g1);
	dp_config_put(g2);
	netseg_remove(g3);
	assert_int_equal(fk_extra(), 0);
	dp_config_put(g3);
}

static void test_persist(void **state)
{
	struct dp_config *c = parse_ok(SEG("p", "9") " persist\n" SEG("q", "8"));
	char *show = NULL;

	apply_ok(c, NULL);
	F.journal[0] = '\0';
	msgs[0] = '\0';
	netseg_remove(c);
	/* q goes; p and the bridge it shares stay */
	assert_string_equal(F.journal, "link_del dp-q@\nns_delete q\n");
	assert_non_null(fk_link(NULL, "br0"));
	assert_non_null(fk_link(NULL, "dp-p"));
	assert_non_null(strstr(msgs, "network 'p': persistent, left in place"));
	assert_int_equal(netseg_show(c, &show), 0);
	assert_non_null(strstr(show, "p persist namespace 'p'\n"));
	free(show);
	dp_config_put(c);
}

/* ---- marks: adoption of what an earlier run left -------------------------- */

#define RUN_A "decoyproxy:00000000000000aa"
#define RUN_B "decoyproxy:00000000000000bb"
#define RUN_C "decoyproxy:00000000000000cc"

/* c's objects as run mark applies them */
static struct dp_config *apply_as(const char *cfg, const char *mark, struct dp_config *oldc)
{
	struct dp_config *c = parse_ok(cfg);

	c->owner = mark;
	apply_ok(c, oldc);
	return c;
}

static void test_marks_what_it_creates(void **state)
{
	struct dp_config *c = apply_as(SEG110 " vlan 7\n", RUN_A, NULL);

	assert_string_equal(fk_link("seg110", "lo")->alias, RUN_A);
	assert_string_equal(fk_link(NULL, "br-decoy")->alias, RUN_A);
	assert_string_equal(fk_link(NULL, "dp-seg110")->alias, RUN_A);
	assert_string_equal(fk_link("seg110", "eth0.7")->alias, RUN_A);
	/* the peer goes with the host end: one mark is enough */
	assert_string_equal(fk_link("seg110", "eth0")->alias, "");
	/* the host's own links are never touched */
	assert_string_equal(fk_link(NULL, "nic0")->alias, "");
	netseg_remove(c);
	assert_int_equal(fk_extra(), 0);
	dp_config_put(c);
}

static void test_adopts_leftovers_of_a_dead_run(void **state)
{
	struct dp_config *c1 = apply_as(SEG110, RUN_A, NULL), *c2;
	char *show = NULL;

	/* run A is killed: nothing removed, its lock is gone */
	F.journal[0] = '\0';
	msgs[0] = '\0';
	c2 = apply_as(SEG110, RUN_B, NULL);
	assert_null(strstr(F.journal, "_add"));
	assert_null(strstr(F.journal, "ns_create"));
	assert_non_null(strstr(msgs, "NOTICE: network 'seg110': adopted namespace 'seg110' left by an earlier run\n"));
	assert_non_null(strstr(msgs, "NOTICE: network 'seg110': adopted bridge 'br-decoy' left by an earlier run\n"));
	assert_non_null(strstr(msgs, "NOTICE: network 'seg110': adopted veth 'dp-seg110'"));
	assert_non_null(strstr(msgs, "NOTICE: network: 1 segment(s): 0 object(s) created, 8 adopted, 0 kept, 0 to remove\n"));
	/* re-marked: a third run sees them as B's */
	assert_string_equal(fk_link(NULL, "br-decoy")->alias, RUN_B);
	assert_string_equal(fk_link(NULL, "dp-seg110")->alias, RUN_B);
	assert_string_equal(fk_link("seg110", "lo")->alias, RUN_B);
	assert_int_equal(netseg_show(c2, &show), 0);
	assert_non_null(strstr(show, "seg110 adopted namespace 'seg110'\n"));
	assert_non_null(strstr(show, "seg110 adopted address 192.168.110.2/24"));
	free(show);
	/* the clean stop removes them like its own */
	netseg_remove(c2);
	assert_int_equal(fk_extra(), 0);
	dp_config_put(c2);
	dp_config_put(c1);
}

static void test_keeps_objects_of_a_live_run(void **state)
{
	struct dp_config *c1 = apply_as(SEG110, RUN_A, NULL), *c2;
	char *show = NULL;

	F.live[0] = RUN_A;
	F.journal[0] = '\0';
	msgs[0] = '\0';
	c2 = apply_as(SEG110, RUN_B, NULL);
	assert_string_equal(F.journal, "");
	assert_non_null(strstr(msgs, "0 object(s) created, 8 kept, 0 to remove"));
	assert_null(strstr(msgs, "adopted"));
	assert_string_equal(fk_link(NULL, "dp-seg110")->alias, RUN_A);
	assert_int_equal(netseg_show(c2, &show), 0);
	assert_non_null(strstr(show, "seg110 kept namespace 'seg110'\n"));
	free(show);
	netseg_remove(c2);
	assert_string_equal(F.journal, "");
	dp_config_put(c2);
	netseg_remove(c1);
	assert_int_equal(fk_extra(), 0);
	dp_config_put(c1);
}

static void test_never_adopts_unmarked_objects(void **state)
{
	struct dp_config *c1, *c2;
	char *err = NULL;

	/* the operator's bridge, and a link whose alias only looks like a mark */
	fk_bridge_add(NULL, "br-decoy", &err);
	c1 = apply_as(SEG110 SEG("x", "9"), RUN_A, NULL);
	snprintf(fk_link(NULL, "dp-x")->alias, NL_ALIAS_MAX, "decoyproxy:not-a-run-id");
	snprintf(fk_link(NULL, "br0")->alias, NL_ALIAS_MAX, "decoyproxy:00000000000000AA");
	msgs[0] = '\0';
	c2 = apply_as(SEG110 SEG("x", "9"), RUN_B, NULL);
	assert_null(strstr(msgs, "adopted bridge 'br-decoy'"));
	assert_null(strstr(msgs, "adopted veth 'dp-x'"));
	assert_null(strstr(msgs, "adopted bridge 'br0'"));
	assert_non_null(strstr(msgs, "adopted veth 'dp-seg110'"));
	assert_non_null(strstr(msgs, "adopted namespace 'x'"));
	assert_string_equal(fk_link(NULL, "br-decoy")->alias, "");
	netseg_remove(c2);
	/* the operator's bridge and the links that were not proven ours stay */
	assert_non_null(fk_link(NULL, "br-decoy"));
	assert_non_null(fk_link(NULL, "br0"));
	assert_null(fk_link(NULL, "dp-seg110"));
	assert_true(fk_ns_find("seg110") < 0);
	dp_config_put(c2);
	dp_config_put(c1);
}

static void test_adopted_state_survives_reload_and_rollback(void **state)
{
	struct dp_config *c1 = apply_as(SEG("a", "1"), RUN_A, NULL), *c2, *c3;
	char *show = NULL, *err = NULL;

	/* run A dies; run B adopts, then reloads with a segment it cannot
	 * make: the rollback removes only what that reload created */
	c2 = apply_as(SEG("a", "1"), RUN_B, NULL);
	netseg_commit(c2, NULL);
	c3 = parse_ok(SEG("a", "1") SEG("b", "2"));
	c3->owner = RUN_B;
	F.fail_op = "route_add";
	F.fail_nth = 1;
	msgs[0] = '\0';
	assert_true(netseg_apply(c3, c2, &err) < 0);
	free(err);
	assert_null(strstr(msgs, "adopted"));
	assert_true(fk_ns_find("b") < 0);
	assert_true(fk_ns_find("a") >= 0);
	dp_config_put(c3);
	F.fail_op = NULL;
	/* a successful reload: still ours (our own mark), not adopted again */
	c3 = parse_ok(SEG("a", "1"));
	c3->owner = RUN_B;
	msgs[0] = '\0';
	apply_ok(c3, c2);
	netseg_commit(c3, c2);
	assert_null(strstr(msgs, "adopted"));
	assert_int_equal(netseg_show(c3, &show), 0);
	assert_non_null(strstr(show, "a adopted namespace 'a'\n"));
	free(show);
	dp_config_put(c2);
	netseg_remove(c3);
	assert_int_equal(fk_extra(), 0);
	dp_config_put(c3);
	dp_config_put(c1);
}

static void test_lo_down_notice(void **state)
{
	struct dp_config *c;
	char *err = NULL;

	/* the operator's namespace, lo down: brought up (as always), and said */
	fk_ns_create(NULL, "seg110", &err);
	c = apply_as(SEG110, RUN_A, NULL);
	assert_true(fk_link("seg110", "lo")->flags & IFF_UP);
	assert_non_null(strstr(msgs, "NOTICE: network 'seg110': brought 'lo' up in namespace 'seg110' (it was down)\n"));
	/* not ours: no mark written on it */
	assert_string_equal(fk_link("seg110", "lo")->alias, "");
	netseg_remove(c);
	assert_true(fk_ns_find("seg110") >= 0);
	dp_config_put(c);
}

static void test_cleanup(void **state)
{
	struct dp_config *c1, *c2, *cl;
	unsigned removed = 0;

	/* a persist section and a plain one, left by a killed run A */
	c1 = apply_as(SEG("p", "1") " persist\n" SEG("q", "2"), RUN_A, NULL);
	/* and a segment of a run C that is still running */
	c2 = apply_as(SEG("r", "3"), RUN_C, NULL);
	F.live[0] = RUN_C;
	cl = parse_ok(SEG("p", "1") " persist\n" SEG("q", "2") SEG("r", "3"));
	F.journal[0] = '\0';
	msgs[0] = '\0';
	assert_int_equal(netseg_cleanup(cl, &removed), 0);
	/* q goes; p (persist), the bridge it shares, and r (alive) stay */
	assert_string_equal(F.journal, "link_del dp-q@\nns_delete q\n");
	assert_int_equal(removed, 2);
	assert_non_null(strstr(msgs, "NOTICE: network 'q': removed namespace 'q'\n"));
	assert_non_null(strstr(msgs, "NOTICE: network 'p': persistent, left in place\n"));
	assert_non_null(strstr(msgs, "network 'r': namespace 'r' belongs to a decoyproxy that is still running: left in place"));
	assert_non_null(fk_link(NULL, "dp-p"));
	assert_non_null(fk_link(NULL, "dp-r"));
	dp_config_put(cl);
	/* again: nothing left to do */
	cl = parse_ok(SEG("q", "2"));
	removed = 0;
	F.journal[0] = '\0';
	assert_int_equal(netseg_cleanup(cl, &removed), 0);
	assert_int_equal(removed, 0);
	assert_string_equal(F.journal, "");
	dp_config_put(cl);
	netseg_remove(c2);
	dp_config_put(c2);
	dp_config_put(c1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_plan_veth_segment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_macvlan_vlan_netns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_shared_bridge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_name_derivation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parse_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_finalize_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_namespace_references, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_creates_in_order_then_removes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_start_is_noop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keeps_preexisting_objects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conflict_link_kind_rolls_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conflict_bridge_name_and_peer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conflict_address_elsewhere, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conflict_default_route, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vlan_missing_kernel_support, setup, teardown),
		cmocka_unit_test_setup_teardown(test_macvlan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_injection_rolls_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sysctl_unknown_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_declared_namespaces_must_exist, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload_adds_keeps_removes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload_undo_restores, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload_gateway_change_and_flush, setup, teardown),
		cmocka_unit_test_setup_teardown(test_persist, setup, teardown),
		cmocka_unit_test_setup_teardown(test_marks_what_it_creates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_adopts_leftovers_of_a_dead_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keeps_objects_of_a_live_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_never_adopts_unmarked_objects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_adopted_state_survives_reload_and_rollback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lo_down_notice, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cleanup, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
