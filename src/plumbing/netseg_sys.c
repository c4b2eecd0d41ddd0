/* netseg_sys.c — the real system behind struct netseg_sys: namespaces in
 * /run/netns, links, addresses and routes over rtnetlink, sysctls, each in
 * the namespace it names, through the generation's namespace cache
 * (net/nscache.h), and run locks (net/owner.h). netseg_set_sys() swaps the
 * table for unit tests.
 */
#include "config.h"

#include <errno.h>
#include <linux/netlink.h>

#include "net/nl.h"
#include "net/ns.h"
#include "net/nscache.h"
#include "net/owner.h"
#include "plumbing/netseg.h"
#include "plumbing/netseg_int.h"

/* ---- the table in use --------------------------------------------------- */

static const struct netseg_sys real_sys;
static const struct netseg_sys *sys_ops = &real_sys;
static void *sys_ctx;

void netseg_set_sys(const struct netseg_sys *ops, void *ctx)
{
	sys_ops = ops ? ops : &real_sys;
	sys_ctx = ops ? ctx : NULL;
}

const struct netseg_sys *netseg_sys_ops(void)
{
	return sys_ops;
}

void *netseg_sys_ctx(struct netseg *st)
{
	return sys_ctx ? sys_ctx : st;
}

/* ---- the real system: /run/netns and rtnetlink -------------------------- */

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
	struct nl_sock *s;
	int rc = real_nl(ctx, ns, &s, err);

	return rc < 0 ? rc : nl_link_set(s, ifindex, ch, err);
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

static int r_mark_alive(void *ctx, const char *mark)
{
	(void)ctx;
	return owner_mark_alive(OWNER_RUN_DIR, mark);
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
	.mark_alive = r_mark_alive,
};
