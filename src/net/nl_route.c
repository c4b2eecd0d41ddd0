/* nl_route.c — routes and policy rules over rtnetlink: the pieces of the
 * TPROXY recipe (`ip rule add fwmark 1 lookup 100`, `ip route add local
 * 0.0.0.0/0 dev lo table 100`) and plain routes for the network lab, plus
 * "is it already there" queries so that callers can be idempotent. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>

#include "net/nl.h"

static size_t family_len(int family)
{
	if (family == AF_INET)
		return sizeof(struct in_addr);
	if (family == AF_INET6)
		return sizeof(struct in6_addr);
	return 0;
}

/* rtm_table / frh.table are 8 bits; larger ids exist only in the u32
 * attribute, with the header saying "look at the attribute". */
static uint8_t table_hdr(uint32_t table)
{
	return table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
}

/* ---- routes ---------------------------------------------------------- */

static uint32_t route_table(const struct nl_route *r)
{
	return r->table ? r->table : RT_TABLE_MAIN;
}

static uint8_t route_type(const struct nl_route *r)
{
	return r->type ? r->type : RTN_UNICAST;
}

static bool route_valid(const struct nl_route *r)
{
	size_t alen = family_len(r->family);

	if (!alen || r->dst_len > alen * 8)
		return false;
	switch (route_type(r)) {
	case RTN_UNICAST:
	case RTN_LOCAL:
	case RTN_BLACKHOLE:
	case RTN_UNREACHABLE:
	case RTN_PROHIBIT:
	case RTN_THROW:
		return true;
	default:
		return false;
	}
}

/* Same rule as `ip route`: a local route is about this host, a unicast
 * route without gateway is about a directly attached link. */
static uint8_t route_scope(const struct nl_route *r)
{
	if (route_type(r) == RTN_LOCAL)
		return RT_SCOPE_HOST;
	if (route_type(r) == RTN_UNICAST && !r->has_gw)
		return RT_SCOPE_LINK;
	return RT_SCOPE_UNIVERSE;
}

struct nlmsghdr *nl_build_route(void *buf, size_t size, uint16_t type,
				const struct nl_route *r)
{
	size_t alen = family_len(r->family);
	uint32_t table = route_table(r);
	struct rtmsg *rtm;
	struct nl_req req;
	bool add = type == RTM_NEWROUTE;

	if ((type != RTM_NEWROUTE && type != RTM_DELROUTE) || !route_valid(r)) {
		errno = EINVAL;
		return NULL;
	}
	nl_req_init(&req, buf, size, type, add ? NLM_F_CREATE | NLM_F_EXCL : 0,
		    sizeof(*rtm), (void **)&rtm);
	if (rtm) {
		rtm->rtm_family = (uint8_t)r->family;
		rtm->rtm_dst_len = (uint8_t)r->dst_len;
		rtm->rtm_table = table_hdr(table);
		/* On delete, protocol 0 and scope NOWHERE match any route
		 * with the other keys, whoever added it. */
		rtm->rtm_protocol = add ? (r->protocol ? r->protocol :
					  RTPROT_BOOT) : r->protocol;
		rtm->rtm_scope = add ? route_scope(r) : RT_SCOPE_NOWHERE;
		rtm->rtm_type = route_type(r);
		if (r->onlink)
			rtm->rtm_flags = RTNH_F_ONLINK;
	}
	nl_req_put_u32(&req, RTA_TABLE, table);
	if (r->dst_len)
		nl_req_put(&req, RTA_DST, alen, &r->dst);
	if (r->has_gw)
		nl_req_put(&req, RTA_GATEWAY, alen, &r->gw);
	if (r->oif > 0)
		nl_req_put_u32(&req, RTA_OIF, (uint32_t)r->oif);
	if (r->metric)
		nl_req_put_u32(&req, RTA_PRIORITY, r->metric);
	return nl_req_finish(&req);
}

/* "local 0.0.0.0/0 table 100" for messages. */
static void route_text(char *buf, size_t size, const struct nl_route *r)
{
	char dst[INET6_ADDRSTRLEN] = "?", gw[INET6_ADDRSTRLEN] = "?";
	int af = r->family;

	if (family_len(af))
		inet_ntop(af, &r->dst, dst, sizeof(dst));
	if (r->has_gw && family_len(af))
		inet_ntop(af, &r->gw, gw, sizeof(gw));
	snprintf(buf, size, "%s%s/%u%s%s table %u",
		 route_type(r) == RTN_LOCAL ? "local " : "", dst, r->dst_len,
		 r->has_gw ? " via " : "", r->has_gw ? gw : "", route_table(r));
}

static int route_change(struct nl_sock *s, uint16_t type,
			const struct nl_route *r, char **err)
{
	const char *verb = type == RTM_NEWROUTE ? "add" : "delete";
	char buf[NL_REQ_SIZE], text[128];
	struct nlmsghdr *nlh;
	int rc;

	route_text(text, sizeof(text), r);
	nlh = nl_build_route(buf, sizeof(buf), type, r);
	if (!nlh) {
		memprintf(err, "%s route %s: invalid parameter", verb, text);
		return -EINVAL;
	}
	rc = nl_talkf(s, nlh, NULL, NULL, err, "%s route %s", verb, text);
	if (rc == -EEXIST)
		memprintf(err, "route %s already exists", text);
	return rc;
}

int nl_route_add(struct nl_sock *s, const struct nl_route *r, char **err)
{
	return route_change(s, RTM_NEWROUTE, r, err);
}

int nl_route_del(struct nl_sock *s, const struct nl_route *r, char **err)
{
	return route_change(s, RTM_DELROUTE, r, err);
}

struct route_find {
	const struct nl_route *want;
	int protocol;        /* < 0: any */
	bool found;
};

struct route_attrs {
	const struct nlattr *table, *dst, *gw, *oif;
};

static int route_attr_cb(const struct nlattr *attr, void *data)
{
	struct route_attrs *a = data;

	switch (mnl_attr_get_type(attr)) {
	case RTA_TABLE:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			a->table = attr;
		break;
	case RTA_DST:
		a->dst = attr;
		break;
	case RTA_GATEWAY:
		a->gw = attr;
		break;
	case RTA_OIF:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			a->oif = attr;
		break;
	}
	return MNL_CB_OK;
}

/* True when attribute a (absent: all zero) holds the alen bytes of ip. */
static bool attr_ip_eq(const struct nlattr *a, const union nl_ip *ip,
		       size_t alen)
{
	static const union nl_ip zero;

	if (!a)
		return !memcmp(ip, &zero, alen);
	return mnl_attr_get_payload_len(a) == alen &&
	       !memcmp(mnl_attr_get_payload(a), ip, alen);
}

static int route_find_cb(const struct nlmsghdr *nlh, void *data)
{
	struct route_find *f = data;
	const struct nl_route *w = f->want;
	size_t alen = family_len(w->family);
	struct route_attrs a = { 0 };
	const struct rtmsg *rtm;
	uint32_t table;

	if (nlh->nlmsg_type != RTM_NEWROUTE ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*rtm))
		return MNL_CB_OK;
	rtm = mnl_nlmsg_get_payload(nlh);
	if (rtm->rtm_family != w->family || (rtm->rtm_flags & RTM_F_CLONED) ||
	    rtm->rtm_type != route_type(w) || rtm->rtm_dst_len != w->dst_len ||
	    (f->protocol >= 0 && rtm->rtm_protocol != f->protocol))
		return MNL_CB_OK;
	if (mnl_attr_parse(nlh, sizeof(*rtm), route_attr_cb, &a) < 0)
		return MNL_CB_OK;
	table = a.table ? mnl_attr_get_u32(a.table) : rtm->rtm_table;
	if (table != route_table(w))
		return MNL_CB_OK;
	if (w->dst_len && !attr_ip_eq(a.dst, &w->dst, alen))
		return MNL_CB_OK;
	if (w->has_gw != (a.gw != NULL) ||
	    (w->has_gw && !attr_ip_eq(a.gw, &w->gw, alen)))
		return MNL_CB_OK;
	if (w->oif > 0 && (!a.oif || (int)mnl_attr_get_u32(a.oif) != w->oif))
		return MNL_CB_OK;
	f->found = true;
	return MNL_CB_STOP;
}

int nl_route_exists(struct nl_sock *s, const struct nl_route *r, char **err)
{
	return nl_route_find(s, r, -1, err);
}

int nl_route_find(struct nl_sock *s, const struct nl_route *r, int protocol,
		  char **err)
{
	struct route_find f = { .want = r, .protocol = protocol };
	char buf[NL_REQ_SIZE];
	struct rtmsg *rtm;
	struct nl_req req;
	int rc;

	if (!route_valid(r)) {
		memprintf(err, "look for route: invalid parameter");
		return -EINVAL;
	}
	nl_req_init(&req, buf, sizeof(buf), RTM_GETROUTE, NLM_F_DUMP,
		    sizeof(*rtm), (void **)&rtm);
	if (rtm)
		rtm->rtm_family = (uint8_t)r->family;
	rc = nl_talkf(s, nl_req_finish(&req), route_find_cb, &f, err,
		      "list routes");
	if (rc < 0)
		return rc;
	return f.found;
}

struct route_dump {
	void (*fn)(void *data, const struct nl_route *r);
	void *data;
	int n;
};

static int route_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct route_dump *d = data;
	struct route_attrs a = { 0 };
	const struct rtmsg *rtm;
	struct nl_route r = { 0 };
	size_t alen;

	if (nlh->nlmsg_type != RTM_NEWROUTE ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*rtm))
		return MNL_CB_OK;
	rtm = mnl_nlmsg_get_payload(nlh);
	alen = family_len(rtm->rtm_family);
	if (!alen || (rtm->rtm_flags & RTM_F_CLONED) || rtm->rtm_dst_len > alen * 8)
		return MNL_CB_OK;
	if (mnl_attr_parse(nlh, sizeof(*rtm), route_attr_cb, &a) < 0)
		return MNL_CB_OK;
	r.family = rtm->rtm_family;
	r.type = rtm->rtm_type;
	r.table = a.table ? mnl_attr_get_u32(a.table) : rtm->rtm_table;
	r.dst_len = rtm->rtm_dst_len;
	if (a.dst && mnl_attr_get_payload_len(a.dst) == alen)
		memcpy(&r.dst, mnl_attr_get_payload(a.dst), alen);
	if (a.gw && mnl_attr_get_payload_len(a.gw) == alen) {
		r.has_gw = true;
		memcpy(&r.gw, mnl_attr_get_payload(a.gw), alen);
	}
	if (a.oif)
		r.oif = (int)mnl_attr_get_u32(a.oif);
	r.protocol = rtm->rtm_protocol;
	d->fn(d->data, &r);
	d->n++;
	return MNL_CB_OK;
}

int nl_route_dump(struct nl_sock *s, int family,
		  void (*fn)(void *data, const struct nl_route *r), void *data,
		  char **err)
{
	struct route_dump d = { fn, data, 0 };
	char buf[NL_REQ_SIZE];
	struct rtmsg *rtm;
	struct nl_req req;
	int rc;

	if (!family_len(family)) {
		memprintf(err, "list routes: invalid family");
		return -EINVAL;
	}
	nl_req_init(&req, buf, sizeof(buf), RTM_GETROUTE, NLM_F_DUMP,
		    sizeof(*rtm), (void **)&rtm);
	if (rtm)
		rtm->rtm_family = (uint8_t)family;
	rc = nl_talkf(s, nl_req_finish(&req), route_dump_cb, &d, err,
		      "list routes");
	return rc < 0 ? rc : d.n;
}

/* ---- rules ----------------------------------------------------------- */

static uint32_t rule_mask(const struct nl_rule *r)
{
	return r->fwmask ? r->fwmask : 0xffffffffu;
}

struct nlmsghdr *nl_build_rule(void *buf, size_t size, uint16_t type,
			       const struct nl_rule *r)
{
	struct fib_rule_hdr *frh;
	struct nl_req req;

	if ((type != RTM_NEWRULE && type != RTM_DELRULE) ||
	    !family_len(r->family) || !r->table) {
		errno = EINVAL;
		return NULL;
	}
	nl_req_init(&req, buf, size, type,
		    type == RTM_NEWRULE ? NLM_F_CREATE | NLM_F_EXCL : 0,
		    sizeof(*frh), (void **)&frh);
	if (frh) {
		frh->family = (uint8_t)r->family;
		frh->table = table_hdr(r->table);
		frh->action = FR_ACT_TO_TBL;
	}
	nl_req_put_u32(&req, FRA_TABLE, r->table);
	if (r->has_priority)
		nl_req_put_u32(&req, FRA_PRIORITY, r->priority);
	if (r->has_fwmark) {
		nl_req_put_u32(&req, FRA_FWMARK, r->fwmark);
		nl_req_put_u32(&req, FRA_FWMASK, rule_mask(r));
	}
	if (r->protocol)
		nl_req_put_u8(&req, FRA_PROTOCOL, r->protocol);
	return nl_req_finish(&req);
}

/* "fwmark 0x1/0xff lookup 100 priority 100 (IPv4)" for messages. */
static void rule_text(char *buf, size_t size, const struct nl_rule *r)
{
	char mark[32] = "", prio[32] = "";

	if (r->has_fwmark)
		snprintf(mark, sizeof(mark), "fwmark 0x%x/0x%x ", r->fwmark,
			 rule_mask(r));
	if (r->has_priority)
		snprintf(prio, sizeof(prio), " priority %u", r->priority);
	snprintf(buf, size, "%slookup %u%s (%s)", mark, r->table, prio,
		 r->family == AF_INET6 ? "IPv6" : "IPv4");
}

static int rule_change(struct nl_sock *s, uint16_t type,
		       const struct nl_rule *r, char **err)
{
	const char *verb = type == RTM_NEWRULE ? "add" : "delete";
	char buf[NL_REQ_SIZE], text[128];
	struct nlmsghdr *nlh;
	int rc;

	rule_text(text, sizeof(text), r);
	nlh = nl_build_rule(buf, sizeof(buf), type, r);
	if (!nlh) {
		memprintf(err, "%s rule %s: invalid parameter", verb, text);
		return -EINVAL;
	}
	rc = nl_talkf(s, nlh, NULL, NULL, err, "%s rule %s", verb, text);
	if (rc == -EEXIST)
		memprintf(err, "rule %s already exists", text);
	return rc;
}

int nl_rule_add(struct nl_sock *s, const struct nl_rule *r, char **err)
{
	return rule_change(s, RTM_NEWRULE, r, err);
}

int nl_rule_del(struct nl_sock *s, const struct nl_rule *r, char **err)
{
	return rule_change(s, RTM_DELRULE, r, err);
}

struct rule_find {
	const struct nl_rule *want;
	int protocol;        /* < 0: any */
	bool found;
};

struct rule_attrs {
	const struct nlattr *table, *priority, *mark, *mask;
	uint8_t protocol;    /* FRA_PROTOCOL, 0 when absent */
	bool other;          /* a selector or action we do not model */
};

static int rule_attr_cb(const struct nlattr *attr, void *data)
{
	struct rule_attrs *a = data;
	const struct nlattr **slot = NULL;

	switch (mnl_attr_get_type(attr)) {
	case FRA_TABLE:
		slot = &a->table;
		break;
	case FRA_PRIORITY:
		slot = &a->priority;
		break;
	case FRA_FWMARK:
		slot = &a->mark;
		break;
	case FRA_FWMASK:
		slot = &a->mask;
		break;
	case FRA_PROTOCOL:   /* who added it: not part of the match */
		if (mnl_attr_validate(attr, MNL_TYPE_U8) == 0)
			a->protocol = mnl_attr_get_u8(attr);
		return MNL_CB_OK;
	case FRA_PAD:
		return MNL_CB_OK;
	case FRA_SUPPRESS_PREFIXLEN:
	case FRA_SUPPRESS_IFGROUP:
		/* Dumped even when unused, as -1 ("not set"). */
		if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0 ||
		    mnl_attr_get_u32(attr) != UINT32_MAX)
			a->other = true;
		return MNL_CB_OK;
	default:
		/* Anything else (addresses, interfaces, ports, uid, l3mdev,
		 * attributes of newer kernels) narrows or changes the rule. */
		a->other = true;
		return MNL_CB_OK;
	}
	if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
		*slot = attr;
	else
		a->other = true;
	return MNL_CB_OK;
}

static int rule_find_cb(const struct nlmsghdr *nlh, void *data)
{
	struct rule_find *f = data;
	const struct nl_rule *w = f->want;
	struct rule_attrs a = { 0 };
	const struct fib_rule_hdr *frh;
	uint32_t table, mark, mask;

	if (nlh->nlmsg_type != RTM_NEWRULE ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*frh))
		return MNL_CB_OK;
	frh = mnl_nlmsg_get_payload(nlh);
	if (frh->family != w->family || frh->action != FR_ACT_TO_TBL ||
	    frh->src_len || frh->dst_len || frh->tos || frh->flags)
		return MNL_CB_OK;
	if (mnl_attr_parse(nlh, sizeof(*frh), rule_attr_cb, &a) < 0 || a.other)
		return MNL_CB_OK;
	if (f->protocol >= 0 && a.protocol != f->protocol)
		return MNL_CB_OK;
	table = a.table ? mnl_attr_get_u32(a.table) : frh->table;
	if (table != w->table)
		return MNL_CB_OK;
	if (w->has_priority &&
	    (a.priority ? mnl_attr_get_u32(a.priority) : 0) != w->priority)
		return MNL_CB_OK;
	/* The kernel leaves out FRA_FWMASK when it is all ones (for a zero
	 * mark: when it is zero, i.e. no fwmark selector at all). */
	if (!a.mark != !w->has_fwmark)
		return MNL_CB_OK;
	if (w->has_fwmark) {
		mark = mnl_attr_get_u32(a.mark);
		mask = a.mask ? mnl_attr_get_u32(a.mask) : 0xffffffffu;
		if (mark != w->fwmark || mask != rule_mask(w))
			return MNL_CB_OK;
	}
	f->found = true;
	return MNL_CB_STOP;
}

int nl_rule_exists(struct nl_sock *s, const struct nl_rule *r, char **err)
{
	return nl_rule_find(s, r, -1, err);
}

int nl_rule_find(struct nl_sock *s, const struct nl_rule *r, int protocol,
		 char **err)
{
	struct rule_find f = { .want = r, .protocol = protocol };
	struct fib_rule_hdr *frh;
	char buf[NL_REQ_SIZE];
	struct nl_req req;
	int rc;

	if (!family_len(r->family) || !r->table) {
		memprintf(err, "look for rule: invalid parameter");
		return -EINVAL;
	}
	nl_req_init(&req, buf, sizeof(buf), RTM_GETRULE, NLM_F_DUMP,
		    sizeof(*frh), (void **)&frh);
	if (frh)
		frh->family = (uint8_t)r->family;
	rc = nl_talkf(s, nl_req_finish(&req), rule_find_cb, &f, err,
		      "list rules");
	if (rc < 0)
		return rc;
	return f.found;
}
