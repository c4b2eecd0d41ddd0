/* test_nl.c — rtnetlink message builders, interface/namespace name rules,
 * sysctl key mapping and error texts; no kernel, no root. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <cmocka.h>

#include "net/nl.h"
#include "net/ns.h"

#define TB_MAX 64

/* Attributes of one level, by type; a duplicate fails the test. */
struct tb {
	const struct nlattr *a[TB_MAX];
};

static int tb_cb(const struct nlattr *attr, void *data)
{
	struct tb *t = data;
	unsigned type = mnl_attr_get_type(attr);

	assert_true(type < TB_MAX);
	assert_null(t->a[type]);
	t->a[type] = attr;
	return MNL_CB_OK;
}

static void parse_msg(const struct nlmsghdr *nlh, size_t hdrlen, struct tb *t)
{
	memset(t, 0, sizeof(*t));
	assert_int_equal(mnl_attr_parse(nlh, hdrlen, tb_cb, t), MNL_CB_OK);
}

static void parse_nest(const struct nlattr *nest, struct tb *t)
{
	memset(t, 0, sizeof(*t));
	assert_non_null(nest);
	assert_int_equal(mnl_attr_parse_nested(nest, tb_cb, t), MNL_CB_OK);
}

static int count_attrs(const struct tb *t)
{
	int i, n = 0;

	for (i = 0; i < TB_MAX; i++)
		n += t->a[i] != NULL;
	return n;
}

static void assert_attr_str(const struct nlattr *a, const char *s)
{
	assert_non_null(a);
	assert_int_equal(mnl_attr_validate(a, MNL_TYPE_NUL_STRING), 0);
	assert_string_equal(mnl_attr_get_str(a), s);
}

static void assert_attr_u32(const struct nlattr *a, uint32_t v)
{
	assert_non_null(a);
	assert_int_equal(mnl_attr_get_payload_len(a), 4);
	assert_int_equal(mnl_attr_get_u32(a), v);
}

static void assert_attr_bytes(const struct nlattr *a, const void *p,
			      size_t len)
{
	assert_non_null(a);
	assert_int_equal(mnl_attr_get_payload_len(a), len);
	assert_memory_equal(mnl_attr_get_payload(a), p, len);
}

#define NEW_FLAGS (NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL)

/* ---- links ----------------------------------------------------------- */

/* VETH_INFO_PEER: an ifinfomsg, then attributes up to the nest's end. */
static void parse_peer(const struct nlattr *nest, struct tb *t)
{
	const char *start = mnl_attr_get_payload(nest);
	int left = (int)mnl_attr_get_payload_len(nest) -
		   (int)MNL_ALIGN(sizeof(struct ifinfomsg));
	const struct nlattr *a;

	memset(t, 0, sizeof(*t));
	assert_true(left > 0);
	a = (const void *)(start + MNL_ALIGN(sizeof(struct ifinfomsg)));
	while (mnl_attr_ok(a, left)) {
		tb_cb(a, t);
		left -= (int)MNL_ALIGN(a->nla_len);
		a = mnl_attr_next(a);
	}
	assert_int_equal(left, 0);
}

/* Checks the common part of a link creation and returns IFLA_INFO_DATA. */
static const struct nlattr *check_link_new(const struct nlmsghdr *nlh,
					   const char *name, const char *kind,
					   int parent, struct tb *top)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	struct tb info;

	assert_non_null(nlh);
	assert_int_equal(nlh->nlmsg_type, RTM_NEWLINK);
	assert_int_equal(nlh->nlmsg_flags, NEW_FLAGS);
	assert_int_equal(ifi->ifi_family, AF_UNSPEC);
	assert_int_equal(ifi->ifi_index, 0);
	parse_msg(nlh, sizeof(*ifi), top);
	assert_attr_str(top->a[IFLA_IFNAME], name);
	if (parent)
		assert_attr_u32(top->a[IFLA_LINK], (uint32_t)parent);
	else
		assert_null(top->a[IFLA_LINK]);
	parse_nest(top->a[IFLA_LINKINFO], &info);
	assert_attr_str(info.a[IFLA_INFO_KIND], kind);
	return info.a[IFLA_INFO_DATA];
}

static void test_veth(void **state)
{
	char buf[NL_REQ_SIZE];
	const struct ifinfomsg *pifi;
	const struct nlattr *data;
	struct nlmsghdr *nlh;
	struct tb top, d, peer;

	(void)state;
	nlh = nl_build_link_veth(buf, sizeof(buf), "dp-a", "dp-b", 7);
	data = check_link_new(nlh, "dp-a", "veth", 0, &top);
	assert_int_equal(count_attrs(&top), 2);
	parse_nest(data, &d);
	assert_non_null(d.a[VETH_INFO_PEER]);
	/* The peer nest opens with its own ifinfomsg, then attributes. */
	assert_true(mnl_attr_get_payload_len(d.a[VETH_INFO_PEER]) >
		    sizeof(*pifi));
	pifi = mnl_attr_get_payload(d.a[VETH_INFO_PEER]);
	assert_int_equal(pifi->ifi_family, AF_UNSPEC);
	assert_int_equal(pifi->ifi_index, 0);
	parse_peer(d.a[VETH_INFO_PEER], &peer);
	assert_attr_str(peer.a[IFLA_IFNAME], "dp-b");
	assert_attr_u32(peer.a[IFLA_NET_NS_FD], 7);
	assert_int_equal(count_attrs(&peer), 2);

	/* Same namespace: no IFLA_NET_NS_FD at all. */
	nlh = nl_build_link_veth(buf, sizeof(buf), "dp-a", "dp-b", -1);
	assert_non_null(nlh);
	data = check_link_new(nlh, "dp-a", "veth", 0, &top);
	parse_nest(data, &d);
	pifi = mnl_attr_get_payload(d.a[VETH_INFO_PEER]);
	/* ifinfomsg + one IFLA_IFNAME("dp-b") of 4 + 8 bytes */
	assert_int_equal(mnl_attr_get_payload_len(d.a[VETH_INFO_PEER]),
			 MNL_ALIGN(sizeof(*pifi)) + MNL_ALIGN(4 + 5));

	errno = 0;
	assert_null(nl_build_link_veth(buf, sizeof(buf), "dp-a", "bad/peer",
				       -1));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(nl_build_link_veth(buf, 40, "dp-a", "dp-b", -1));
	assert_int_equal(errno, ENOBUFS);
}

static void test_bridge(void **state)
{
	char buf[NL_REQ_SIZE];
	struct nlmsghdr *nlh;
	struct tb top;

	(void)state;
	nlh = nl_build_link_bridge(buf, sizeof(buf), "dp-br0");
	assert_null(check_link_new(nlh, "dp-br0", "bridge", 0, &top));
	errno = 0;
	assert_null(nl_build_link_bridge(buf, sizeof(buf),
					 "name-longer-than-15"));
	assert_int_equal(errno, EINVAL);
}

static void test_vlan(void **state)
{
	char buf[NL_REQ_SIZE];
	struct nlmsghdr *nlh;
	struct tb top, d;

	(void)state;
	nlh = nl_build_link_vlan(buf, sizeof(buf), "eth0.42", 3, 42);
	parse_nest(check_link_new(nlh, "eth0.42", "vlan", 3, &top), &d);
	assert_non_null(d.a[IFLA_VLAN_ID]);
	assert_int_equal(mnl_attr_get_payload_len(d.a[IFLA_VLAN_ID]), 2);
	assert_int_equal(mnl_attr_get_u16(d.a[IFLA_VLAN_ID]), 42);
	assert_int_equal(count_attrs(&d), 1);

	assert_non_null(nl_build_link_vlan(buf, sizeof(buf), "v", 3, 4094));
	assert_null(nl_build_link_vlan(buf, sizeof(buf), "v", 3, 4095));
	assert_null(nl_build_link_vlan(buf, sizeof(buf), "v", 3, -1));
	assert_null(nl_build_link_vlan(buf, sizeof(buf), "v", 0, 5));
}

static void test_macvlan(void **state)
{
	char buf[NL_REQ_SIZE];
	struct nlmsghdr *nlh;
	struct tb top, d;

	(void)state;
	nlh = nl_build_link_macvlan(buf, sizeof(buf), "dp-mv0", 9,
				    MACVLAN_MODE_BRIDGE);
	parse_nest(check_link_new(nlh, "dp-mv0", "macvlan", 9, &top), &d);
	assert_attr_u32(d.a[IFLA_MACVLAN_MODE], MACVLAN_MODE_BRIDGE);
	assert_null(nl_build_link_macvlan(buf, sizeof(buf), "m", 0,
					  MACVLAN_MODE_BRIDGE));
}

static void test_link_change(void **state)
{
	struct nl_link_change c = NL_LINK_CHANGE_INIT;
	const struct ifinfomsg *ifi;
	char buf[NL_REQ_SIZE];
	struct nlmsghdr *nlh;
	struct tb top;

	(void)state;
	/* Nothing to change: a bare SETLINK, no attribute, no flag change. */
	nlh = nl_build_link_change(buf, sizeof(buf), 5, &c);
	assert_non_null(nlh);
	assert_int_equal(nlh->nlmsg_type, RTM_SETLINK);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST);
	ifi = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(ifi->ifi_index, 5);
	assert_int_equal(ifi->ifi_change, 0);
	parse_msg(nlh, sizeof(*ifi), &top);
	assert_int_equal(count_attrs(&top), 0);

	c.up = 1;
	c.master = 4;
	c.netns_fd = 11;
	c.name = "dp-new";
	c.mtu = 1400;
	nlh = nl_build_link_change(buf, sizeof(buf), 5, &c);
	ifi = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(ifi->ifi_change, IFF_UP);
	assert_int_equal(ifi->ifi_flags, IFF_UP);
	parse_msg(nlh, sizeof(*ifi), &top);
	assert_attr_u32(top.a[IFLA_MASTER], 4);
	assert_attr_u32(top.a[IFLA_NET_NS_FD], 11);
	assert_attr_str(top.a[IFLA_IFNAME], "dp-new");
	assert_attr_u32(top.a[IFLA_MTU], 1400);
	assert_int_equal(count_attrs(&top), 4);

	/* Down and release: flags cleared under the IFF_UP change mask,
	 * IFLA_MASTER 0. */
	c = (struct nl_link_change)NL_LINK_CHANGE_INIT;
	c.up = 0;
	c.master = 0;
	nlh = nl_build_link_change(buf, sizeof(buf), 5, &c);
	ifi = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(ifi->ifi_change, IFF_UP);
	assert_int_equal(ifi->ifi_flags, 0);
	parse_msg(nlh, sizeof(*ifi), &top);
	assert_attr_u32(top.a[IFLA_MASTER], 0);

	/* An alias (decoyproxy's ownership mark), alone. */
	c = (struct nl_link_change)NL_LINK_CHANGE_INIT;
	c.alias = "decoyproxy:0123456789abcdef";
	nlh = nl_build_link_change(buf, sizeof(buf), 5, &c);
	ifi = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(ifi->ifi_change, 0);
	parse_msg(nlh, sizeof(*ifi), &top);
	assert_attr_str(top.a[IFLA_IFALIAS], "decoyproxy:0123456789abcdef");
	assert_int_equal(count_attrs(&top), 1);
	{
		char big[NL_ALIAS_MAX + 1];

		memset(big, 'a', NL_ALIAS_MAX);
		big[NL_ALIAS_MAX] = '\0';
		c.alias = big;
		assert_null(nl_build_link_change(buf, sizeof(buf), 5, &c));
	}

	assert_null(nl_build_link_change(buf, sizeof(buf), 0, &c));
	c = (struct nl_link_change)NL_LINK_CHANGE_INIT;
	c.name = "a:b";
	assert_null(nl_build_link_change(buf, sizeof(buf), 5, &c));
}

static void test_link_del_get(void **state)
{
	const struct ifinfomsg *ifi;
	char buf[NL_REQ_SIZE];
	struct nlmsghdr *nlh;
	struct tb top;

	(void)state;
	nlh = nl_build_link_del(buf, sizeof(buf), 12);
	assert_non_null(nlh);
	assert_int_equal(nlh->nlmsg_type, RTM_DELLINK);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST);
	ifi = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(ifi->ifi_index, 12);
	assert_null(nl_build_link_del(buf, sizeof(buf), -3));

	/* Padding after "lo\0" must be zeroed, whatever the buffer held. */
	memset(buf, 0xaa, sizeof(buf));
	nlh = nl_build_link_get(buf, sizeof(buf), "lo");
	assert_non_null(nlh);
	assert_int_equal(nlh->nlmsg_len, 16 + 16 + 8 + 8);
	assert_int_equal(buf[16 + 16 + 4 + 3], 0);
	assert_int_equal(nlh->nlmsg_type, RTM_GETLINK);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST);
	parse_msg(nlh, sizeof(*ifi), &top);
	assert_attr_str(top.a[IFLA_IFNAME], "lo");
	assert_attr_u32(top.a[IFLA_EXT_MASK], RTEXT_FILTER_SKIP_STATS);
}

/* ---- addresses ------------------------------------------------------- */

static void test_addr(void **state)
{
	struct in_addr v4;
	struct in6_addr v6;
	const struct ifaddrmsg *ifa;
	char buf[NL_REQ_SIZE];
	struct nlmsghdr *nlh;
	struct tb top;

	(void)state;
	inet_pton(AF_INET, "192.0.2.10", &v4);
	inet_pton(AF_INET6, "2001:db8::10", &v6);

	nlh = nl_build_addr(buf, sizeof(buf), RTM_NEWADDR, 3, AF_INET, &v4, 24,
			    NL_ADDR_NODAD);
	assert_non_null(nlh);
	assert_int_equal(nlh->nlmsg_type, RTM_NEWADDR);
	assert_int_equal(nlh->nlmsg_flags, NEW_FLAGS);
	ifa = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(ifa->ifa_family, AF_INET);
	assert_int_equal(ifa->ifa_prefixlen, 24);
	assert_int_equal(ifa->ifa_index, 3);
	assert_int_equal(ifa->ifa_flags, 0);   /* NODAD is IPv6 only */
	parse_msg(nlh, sizeof(*ifa), &top);
	assert_attr_bytes(top.a[IFA_LOCAL], &v4, 4);
	assert_attr_bytes(top.a[IFA_ADDRESS], &v4, 4);
	assert_null(top.a[IFA_FLAGS]);

	nlh = nl_build_addr(buf, sizeof(buf), RTM_NEWADDR, 3, AF_INET6, &v6, 64,
			    NL_ADDR_NODAD);
	ifa = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(ifa->ifa_family, AF_INET6);
	assert_int_equal(ifa->ifa_prefixlen, 64);
	assert_int_equal(ifa->ifa_flags, IFA_F_NODAD);
	parse_msg(nlh, sizeof(*ifa), &top);
	assert_attr_bytes(top.a[IFA_LOCAL], &v6, 16);
	assert_attr_u32(top.a[IFA_FLAGS], IFA_F_NODAD);

	nlh = nl_build_addr(buf, sizeof(buf), RTM_DELADDR, 3, AF_INET6, &v6, 64,
			    0);
	assert_int_equal(nlh->nlmsg_type, RTM_DELADDR);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST);
	parse_msg(nlh, sizeof(*ifa), &top);
	assert_null(top.a[IFA_FLAGS]);

	assert_null(nl_build_addr(buf, sizeof(buf), RTM_NEWADDR, 3, AF_INET,
				  &v4, 33, 0));
	assert_non_null(nl_build_addr(buf, sizeof(buf), RTM_NEWADDR, 3,
				      AF_INET6, &v6, 128, 0));
	assert_null(nl_build_addr(buf, sizeof(buf), RTM_NEWADDR, 0, AF_INET,
				  &v4, 24, 0));
	assert_null(nl_build_addr(buf, sizeof(buf), RTM_NEWADDR, 3, AF_UNIX,
				  &v4, 24, 0));
	assert_null(nl_build_addr(buf, sizeof(buf), RTM_GETADDR, 3, AF_INET,
				  &v4, 24, 0));
}

/* ---- routes and rules ------------------------------------------------ */

static void test_route_local(void **state)
{
	struct nl_route r = { .family = AF_INET, .type = RTN_LOCAL,
			      .table = 100, .oif = 1 };
	const struct rtmsg *rtm;
	char buf[NL_REQ_SIZE];
	struct nlmsghdr *nlh;
	struct tb top;

	(void)state;
	/* local 0.0.0.0/0 dev lo table 100 */
	nlh = nl_build_route(buf, sizeof(buf), RTM_NEWROUTE, &r);
	assert_non_null(nlh);
	assert_int_equal(nlh->nlmsg_type, RTM_NEWROUTE);
	assert_int_equal(nlh->nlmsg_flags, NEW_FLAGS);
	rtm = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(rtm->rtm_family, AF_INET);
	assert_int_equal(rtm->rtm_type, RTN_LOCAL);
	assert_int_equal(rtm->rtm_scope, RT_SCOPE_HOST);
	assert_int_equal(rtm->rtm_table, 100);
	assert_int_equal(rtm->rtm_dst_len, 0);
	assert_int_equal(rtm->rtm_protocol, RTPROT_BOOT);
	assert_int_equal(rtm->rtm_flags, 0);
	parse_msg(nlh, sizeof(*rtm), &top);
	assert_attr_u32(top.a[RTA_TABLE], 100);
	assert_attr_u32(top.a[RTA_OIF], 1);
	assert_null(top.a[RTA_DST]);
	assert_null(top.a[RTA_GATEWAY]);
	assert_int_equal(count_attrs(&top), 2);

	/* local ::/0 dev lo table 1000: the id does not fit rtm_table. */
	r.family = AF_INET6;
	r.table = 1000;
	nlh = nl_build_route(buf, sizeof(buf), RTM_NEWROUTE, &r);
	rtm = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(rtm->rtm_family, AF_INET6);
	assert_int_equal(rtm->rtm_table, RT_TABLE_UNSPEC);
	parse_msg(nlh, sizeof(*rtm), &top);
	assert_attr_u32(top.a[RTA_TABLE], 1000);

	/* Delete matches any scope and protocol. */
	nlh = nl_build_route(buf, sizeof(buf), RTM_DELROUTE, &r);
	assert_int_equal(nlh->nlmsg_type, RTM_DELROUTE);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST);
	rtm = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(rtm->rtm_scope, RT_SCOPE_NOWHERE);
	assert_int_equal(rtm->rtm_protocol, 0);
	assert_int_equal(rtm->rtm_type, RTN_LOCAL);
}

static void test_route_gw_prefix(void **state)
{
	struct nl_route r = { .family = AF_INET, .has_gw = true, .oif = 4,
			      .onlink = true };
	const struct rtmsg *rtm;
	char buf[NL_REQ_SIZE];
	struct nlmsghdr *nlh;
	struct in_addr dst;
	struct tb top;

	(void)state;
	/* default via 10.9.0.1 dev #4 onlink (main table) */
	inet_pton(AF_INET, "10.9.0.1", &r.gw.v4);
	nlh = nl_build_route(buf, sizeof(buf), RTM_NEWROUTE, &r);
	rtm = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(rtm->rtm_type, RTN_UNICAST);
	assert_int_equal(rtm->rtm_scope, RT_SCOPE_UNIVERSE);
	assert_int_equal(rtm->rtm_flags, RTNH_F_ONLINK);
	assert_int_equal(rtm->rtm_table, RT_TABLE_MAIN);
	parse_msg(nlh, sizeof(*rtm), &top);
	assert_attr_bytes(top.a[RTA_GATEWAY], &r.gw.v4, 4);
	assert_attr_u32(top.a[RTA_OIF], 4);
	assert_attr_u32(top.a[RTA_TABLE], RT_TABLE_MAIN);
	assert_null(top.a[RTA_DST]);

	/* 198.51.100.0/24 dev #4 table 7 metric 50: link scope, no gw. */
	memset(&r, 0, sizeof(r));
	r.family = AF_INET;
	r.table = 7;
	r.oif = 4;
	r.metric = 50;
	r.dst_len = 24;
	inet_pton(AF_INET, "198.51.100.0", &r.dst.v4);
	dst = r.dst.v4;
	nlh = nl_build_route(buf, sizeof(buf), RTM_NEWROUTE, &r);
	rtm = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(rtm->rtm_scope, RT_SCOPE_LINK);
	assert_int_equal(rtm->rtm_dst_len, 24);
	assert_int_equal(rtm->rtm_flags, 0);
	parse_msg(nlh, sizeof(*rtm), &top);
	assert_attr_bytes(top.a[RTA_DST], &dst, 4);
	assert_attr_u32(top.a[RTA_PRIORITY], 50);
	assert_null(top.a[RTA_GATEWAY]);

	r.dst_len = 33;
	assert_null(nl_build_route(buf, sizeof(buf), RTM_NEWROUTE, &r));
	r.dst_len = 24;
	r.type = RTN_MULTICAST;
	assert_null(nl_build_route(buf, sizeof(buf), RTM_NEWROUTE, &r));
	r.type = 0;
	r.family = AF_UNSPEC;
	assert_null(nl_build_route(buf, sizeof(buf), RTM_NEWROUTE, &r));
}

static void test_rule(void **state)
{
	struct nl_rule r = { .family = AF_INET, .has_fwmark = true,
			     .fwmark = 1, .fwmask = 0xff, .table = 100,
			     .has_priority = true, .priority = 100 };
	const struct fib_rule_hdr *frh;
	char buf[NL_REQ_SIZE];
	struct nlmsghdr *nlh;
	struct tb top;

	(void)state;
	nlh = nl_build_rule(buf, sizeof(buf), RTM_NEWRULE, &r);
	assert_non_null(nlh);
	assert_int_equal(nlh->nlmsg_type, RTM_NEWRULE);
	assert_int_equal(nlh->nlmsg_flags, NEW_FLAGS);
	frh = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(frh->family, AF_INET);
	assert_int_equal(frh->action, FR_ACT_TO_TBL);
	assert_int_equal(frh->table, 100);
	assert_int_equal(frh->src_len + frh->dst_len + frh->tos, 0);
	parse_msg(nlh, sizeof(*frh), &top);
	assert_attr_u32(top.a[FRA_FWMARK], 1);
	assert_attr_u32(top.a[FRA_FWMASK], 0xff);
	assert_attr_u32(top.a[FRA_TABLE], 100);
	assert_attr_u32(top.a[FRA_PRIORITY], 100);
	assert_int_equal(count_attrs(&top), 4);

	/* IPv6, no mask given (full), no priority, table > 255, delete. */
	r.family = AF_INET6;
	r.fwmask = 0;
	r.has_priority = false;
	r.table = 5000;
	nlh = nl_build_rule(buf, sizeof(buf), RTM_DELRULE, &r);
	assert_int_equal(nlh->nlmsg_type, RTM_DELRULE);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST);
	frh = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(frh->family, AF_INET6);
	assert_int_equal(frh->table, RT_TABLE_UNSPEC);
	parse_msg(nlh, sizeof(*frh), &top);
	assert_attr_u32(top.a[FRA_FWMASK], 0xffffffffu);
	assert_attr_u32(top.a[FRA_TABLE], 5000);
	assert_null(top.a[FRA_PRIORITY]);

	/* A plain lookup rule has no mark attributes. */
	r.has_fwmark = false;
	nlh = nl_build_rule(buf, sizeof(buf), RTM_NEWRULE, &r);
	parse_msg(nlh, sizeof(*frh), &top);
	assert_null(top.a[FRA_FWMARK]);
	assert_null(top.a[FRA_FWMASK]);
	assert_null(top.a[FRA_PROTOCOL]);

	/* Who added it, when given (decoyproxy's RTPROT_DECOYPROXY). */
	r.protocol = 233;
	nlh = nl_build_rule(buf, sizeof(buf), RTM_DELRULE, &r);
	parse_msg(nlh, sizeof(*frh), &top);
	assert_non_null(top.a[FRA_PROTOCOL]);
	assert_int_equal(mnl_attr_get_u8(top.a[FRA_PROTOCOL]), 233);
	r.protocol = 0;

	r.table = 0;
	assert_null(nl_build_rule(buf, sizeof(buf), RTM_NEWRULE, &r));
}

/* ---- request helpers ------------------------------------------------- */

static void test_req_overflow(void **state)
{
	char buf[64];
	struct nl_req r;
	void *hdr;

	(void)state;
	nl_req_init(&r, buf, sizeof(buf), RTM_NEWLINK, 0,
		    sizeof(struct ifinfomsg), &hdr);
	assert_non_null(hdr);
	nl_req_put_u32(&r, 1, 1);
	assert_non_null(nl_req_finish(&r));
	/* 16 + 16 + 8 used; 40 bytes of string cannot fit in 64. */
	nl_req_put_str(&r, 3, "0123456789012345678901234567890123456789");
	errno = 0;
	assert_null(nl_req_finish(&r));
	assert_int_equal(errno, ENOBUFS);
	/* Header alone too big for the buffer. */
	nl_req_init(&r, buf, 20, RTM_NEWLINK, 0, sizeof(struct ifinfomsg),
		    &hdr);
	assert_null(hdr);
	assert_null(nl_req_finish(&r));
}

/* ---- names ----------------------------------------------------------- */

static void test_ifname_valid(void **state)
{
	(void)state;
	assert_true(nl_ifname_valid("lo"));
	assert_true(nl_ifname_valid("dp-0123456789ab"));     /* 15 */
	assert_true(nl_ifname_valid("eth0.42"));
	assert_false(nl_ifname_valid("dp-0123456789abc"));   /* 16 */
	assert_false(nl_ifname_valid(""));
	assert_false(nl_ifname_valid(NULL));
	assert_false(nl_ifname_valid("."));
	assert_false(nl_ifname_valid(".."));
	assert_false(nl_ifname_valid("a/b"));
	assert_false(nl_ifname_valid("a:b"));
	assert_false(nl_ifname_valid("a b"));
	assert_false(nl_ifname_valid("a\tb"));
}

static void test_ifname_derive(void **state)
{
	char out[IFNAMSIZ], again[IFNAMSIZ];

	(void)state;
	assert_int_equal(nl_ifname_derive(out, "dp-", "web"), 0);
	assert_string_equal(out, "dp-web");
	assert_int_equal(nl_ifname_derive(out, "dp-", "012345678901"), 0);
	assert_string_equal(out, "dp-012345678901");          /* exactly 15 */
	/* Expected values computed independently (FNV-1a 32, xor-folded). */
	assert_int_equal(nl_ifname_derive(out, "dp-", "segment-number-one"), 0);
	assert_string_equal(out, "dp-segment-aa37");
	assert_int_equal(nl_ifname_derive(again, "dp-", "segment-number-two"),
			 0);
	assert_string_equal(again, "dp-segment-a1f2");
	assert_int_equal(nl_ifname_derive(out, "verylongprefix-", "x"), 0);
	assert_string_equal(out, "verylongpr-d60e");
	assert_int_equal(strlen(out), 15);
	/* Deterministic. */
	assert_int_equal(nl_ifname_derive(again, "verylongprefix-", "x"), 0);
	assert_string_equal(out, again);

	assert_int_equal(nl_ifname_derive(out, "dp-", ""), -EINVAL);
	assert_string_equal(out, "");
	assert_int_equal(nl_ifname_derive(out, "dp-", "a/b"), -EINVAL);
	assert_int_equal(nl_ifname_derive(out, "dp-", "a b"), -EINVAL);
	/* Bad character beyond the truncation point still refused. */
	assert_int_equal(nl_ifname_derive(out, "dp-", "segment-number:1"),
			 -EINVAL);
	assert_int_equal(nl_ifname_derive(out, NULL, "."), -EINVAL);
}

static void test_ns_name(void **state)
{
	char longname[NS_NAME_MAX + 2];

	(void)state;
	assert_true(ns_name_valid("dptest-123"));
	assert_true(ns_name_valid("seg.a_b"));
	assert_false(ns_name_valid(""));
	assert_false(ns_name_valid("."));
	assert_false(ns_name_valid(".."));
	assert_false(ns_name_valid("a/b"));
	assert_false(ns_name_valid("a b"));
	assert_false(ns_name_valid("a\nb"));
	memset(longname, 'x', sizeof(longname) - 1);
	longname[NS_NAME_MAX] = '\0';
	assert_true(ns_name_valid(longname));
	longname[NS_NAME_MAX] = 'x';
	longname[NS_NAME_MAX + 1] = '\0';
	assert_false(ns_name_valid(longname));
	assert_int_equal(ns_open("../etc"), -EINVAL);
	assert_int_equal(ns_exists("a/b"), -EINVAL);
}

static void test_sysctl_path(void **state)
{
	char p[128];

	(void)state;
	assert_int_equal(sysctl_path("net.ipv4.ip_forward", p, sizeof(p)), 0);
	assert_string_equal(p, "/proc/sys/net/ipv4/ip_forward");
	assert_int_equal(sysctl_path("net.ipv4.conf.all.rp_filter", p,
				     sizeof(p)), 0);
	assert_string_equal(p, "/proc/sys/net/ipv4/conf/all/rp_filter");
	/* Slash form keeps the dot of a VLAN interface name. */
	assert_int_equal(sysctl_path("net/ipv4/conf/eth0.5/rp_filter", p,
				     sizeof(p)), 0);
	assert_string_equal(p, "/proc/sys/net/ipv4/conf/eth0.5/rp_filter");

	assert_int_equal(sysctl_path("kernel.hostname", p, sizeof(p)),
			 -EINVAL);
	assert_int_equal(sysctl_path("net", p, sizeof(p)), -EINVAL);
	assert_int_equal(sysctl_path("network.x", p, sizeof(p)), -EINVAL);
	assert_int_equal(sysctl_path("net.ipv4..x", p, sizeof(p)), -EINVAL);
	assert_int_equal(sysctl_path("net.ipv4.", p, sizeof(p)), -EINVAL);
	assert_int_equal(sysctl_path("net/../kernel/x", p, sizeof(p)),
			 -EINVAL);
	assert_int_equal(sysctl_path("net/ipv4/./x", p, sizeof(p)), -EINVAL);
	assert_int_equal(sysctl_path("net.ipv4/x", p, sizeof(p)), -EINVAL);
	assert_int_equal(sysctl_path("net.ipv4.x y", p, sizeof(p)), -EINVAL);
	assert_string_equal(p, "");
	assert_int_equal(sysctl_path("net.ipv4.ip_forward", p, 20),
			 -ENAMETOOLONG);
}

static void test_sysctl_refuses(void **state)
{
	char *err = NULL;

	(void)state;
	/* Refused before touching /proc: safe without root. */
	assert_int_equal(sysctl_set(-1, "kernel.panic", "1", &err), -EINVAL);
	assert_non_null(strstr(err, "kernel.panic"));
	assert_non_null(strstr(err, "net."));
	assert_int_equal(sysctl_set(-1, "net.ipv4.ip_forward", "1\n2", &err),
			 -EINVAL);
	assert_non_null(strstr(err, "printable"));
	assert_int_equal(sysctl_set(-1, "net.ipv4.ip_forward", "", &err),
			 -EINVAL);
	free(err);
}

/* ---- error texts ----------------------------------------------------- */

static void test_kind_config(void **state)
{
	(void)state;
	assert_string_equal(nl_kind_config("vlan"), "CONFIG_VLAN_8021Q");
	assert_string_equal(nl_kind_config("macvlan"), "CONFIG_MACVLAN");
	assert_string_equal(nl_kind_config("veth"), "CONFIG_VETH");
	assert_string_equal(nl_kind_config("bridge"), "CONFIG_BRIDGE");
	assert_string_equal(nl_kind_config("vxlan"), "CONFIG_VXLAN");
	assert_string_equal(nl_kind_config("vrf"), "CONFIG_NET_VRF");
	assert_null(nl_kind_config("nosuchkind"));
	assert_null(nl_kind_config(NULL));
}

static void test_create_error(void **state)
{
	char *err = NULL;

	(void)state;
	assert_int_equal(nl_link_create_error(&err, "vlan", "eth0.5",
					      -EOPNOTSUPP,
					      "Unknown device type"),
			 -EOPNOTSUPP);
	assert_string_equal(err, "cannot create vlan link 'eth0.5': this "
			    "kernel has no 'vlan' link support "
			    "(CONFIG_VLAN_8021Q)");
	/* No extended ACK at all: same diagnosis. */
	nl_link_create_error(&err, "vrf", "vrf-a", -EOPNOTSUPP, NULL);
	assert_non_null(strstr(err, "CONFIG_NET_VRF"));
	assert_null(strstr(err, "Operation not supported"));
	/* Unknown kind: names the kind, no option to name. */
	nl_link_create_error(&err, "foo", "f0", -EOPNOTSUPP, NULL);
	assert_string_equal(err, "cannot create foo link 'f0': this kernel "
			    "has no 'foo' link support");
	/* EOPNOTSUPP for another reason: kernel text plus the option. */
	nl_link_create_error(&err, "macvlan", "m0", -EOPNOTSUPP,
			     "Cannot use loopback as lower device");
	assert_string_equal(err, "cannot create macvlan link 'm0': Cannot use "
			    "loopback as lower device (is CONFIG_MACVLAN "
			    "built?)");
	/* Other errors: kernel text, else strerror. */
	nl_link_create_error(&err, "veth", "dp-a", -EEXIST, NULL);
	assert_string_equal(err, "cannot create veth link 'dp-a': File exists");
	nl_link_create_error(&err, "bridge", "br0", -EINVAL, "bad thing");
	assert_string_equal(err, "cannot create bridge link 'br0': bad thing");
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_veth),
		cmocka_unit_test(test_bridge),
		cmocka_unit_test(test_vlan),
		cmocka_unit_test(test_macvlan),
		cmocka_unit_test(test_link_change),
		cmocka_unit_test(test_link_del_get),
		cmocka_unit_test(test_addr),
		cmocka_unit_test(test_route_local),
		cmocka_unit_test(test_route_gw_prefix),
		cmocka_unit_test(test_rule),
		cmocka_unit_test(test_req_overflow),
		cmocka_unit_test(test_ifname_valid),
		cmocka_unit_test(test_ifname_derive),
		cmocka_unit_test(test_ns_name),
		cmocka_unit_test(test_sysctl_path),
		cmocka_unit_test(test_sysctl_refuses),
		cmocka_unit_test(test_kind_config),
		cmocka_unit_test(test_create_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
