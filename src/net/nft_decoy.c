/* nft_decoy.c — nftables TPROXY plumbing, part 4: decoys that look like
 * hosts and probe logging (see struct nft_decoy in nft.h for the rules and
 * why each one is there). Builders only, like nft.c: the plan decides when
 * they are called (nft_plan.c).
 *
 * The host and edge sets are plain interval sets of addresses (the
 * kernel's rbtree backend): an element is a start key, and the first
 * address after the range is an end key flagged NFT_SET_ELEM_INTERVAL_END,
 * which is how nft(8) writes `10.0.0.1-10.0.0.14`. The ranges are built
 * here from the divert's decoy list: every address of an element of the
 * divert's family, merged, minus the edges.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if_arp.h>
#include <netinet/icmp6.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/ip_icmp.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/if_packet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <libmnl/libmnl.h>
#include <libnftnl/set.h>

#include "net/nft.h"
#include "net/nft_int.h"

typedef unsigned __int128 u128;

#define DT_IPADDR  7
#define DT_IP6ADDR 8

/* TCP flag bits in byte 13 of the header */
#define TF_FIN 0x01
#define TF_SYN 0x02
#define TF_RST 0x04
#define TF_ACK 0x10

static const struct nft_decoy *dec_of(const struct nft_divert *d)
{
	return d->dec.hosts ? &d->dec : NULL;
}

/* Set IDs: hosts of divert i = id0 + 2i, edges = id0 + 2i + 1. */
#define HOSTS_ID(id0, i) ((id0) + 2 * (uint32_t)(i))
#define EDGES_ID(id0, i) ((id0) + 2 * (uint32_t)(i) + 1)

/* ---- address ranges ---- */

struct arange {
	u128 lo, hi;
};

struct aranges {
	struct arange *v;
	size_t n, cap;
};

static int ar_push(struct aranges *r, u128 lo, u128 hi)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		struct arange *v = realloc(r->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		r->v = v;
		r->cap = cap;
	}
	r->v[r->n].lo = lo;
	r->v[r->n].hi = hi;
	r->n++;
	return 0;
}

static int ar_cmp(const void *a, const void *b)
{
	const struct arange *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Sorts and merges overlapping or adjacent ranges. */
static void ar_merge(struct aranges *r)
{
	size_t w = 0;

	if (!r->n)
		return;
	qsort(r->v, r->n, sizeof(*r->v), ar_cmp);
	for (size_t i = 1; i < r->n; i++) {
		struct arange *cur = &r->v[w];

		if (cur->hi == ~(u128)0 || r->v[i].lo <= cur->hi + 1) {
			if (r->v[i].hi > cur->hi)
				cur->hi = r->v[i].hi;
			continue;
		}
		r->v[++w] = r->v[i];
	}
	r->n = w + 1;
}

/* The address ranges of l's elements of family, merged. */
static int ar_from_list(struct aranges *r, const struct icpt_list *l, int family)
{
	for (size_t i = 0; l && i < l->n; i++) {
		const struct icpt_elem *e = &l->v[i];

		if (e->family == family &&
		    ar_push(r, icpt_addr_u128(family, &e->lo), icpt_addr_u128(family, &e->hi)) < 0)
			return -ENOMEM;
	}
	ar_merge(r);
	return 0;
}

/* r minus the (merged) ranges of x, in place into out. */
static int ar_subtract(const struct aranges *r, const struct aranges *x, struct aranges *out)
{
	size_t j = 0;

	for (size_t i = 0; i < r->n; i++) {
		u128 lo = r->v[i].lo, hi = r->v[i].hi;
		bool done = false;

		while (j < x->n && x->v[j].hi < lo)
			j++;
		for (size_t k = j; k < x->n && x->v[k].lo <= hi; k++) {
			if (x->v[k].lo > lo && ar_push(out, lo, x->v[k].lo - 1) < 0)
				return -ENOMEM;
			if (x->v[k].hi >= hi) {
				done = true;
				break;
			}
			lo = x->v[k].hi + 1;
		}
		if (!done && ar_push(out, lo, hi) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* The host ranges of divert d: its decoy addresses minus its edges. */
static int host_ranges(const struct nft_divert *d, struct aranges *out)
{
	struct aranges all = { 0 }, edges = { 0 };
	int ret = ar_from_list(&all, d->decoys, d->family);

	if (!ret)
		ret = ar_from_list(&edges, d->dec.edgelist, d->family);
	if (!ret)
		ret = ar_subtract(&all, &edges, out);
	free(all.v);
	free(edges.v);
	return ret;
}

/* ---- sets and elements ---- */

static int add_addr_set(struct nft_batch *b, int family, const char *name, uint32_t id)
{
	bool v6 = family == AF_INET6;
	struct nftnl_set *s = nftnl_set_alloc();
	struct nft_msgref *ref;
	struct nlmsghdr *nlh;
	int ret = -ENOMEM;

	if (!s || nftnl_set_set_str(s, NFTNL_SET_TABLE, NFT_TABLE_NAME) < 0 ||
	    nftnl_set_set_str(s, NFTNL_SET_NAME, name) < 0)
		goto out;
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_INTERVAL);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, v6 ? DT_IP6ADDR : DT_IPADDR);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, v6 ? 16 : 4);
	nftnl_set_set_u32(s, NFTNL_SET_ID, id);
	nlh = nft_msg_start(b, NFT_MSG_NEWSET, NLM_F_CREATE, NFT_K_SET, &ref);
	if (!nlh)
		goto out;
	nftnl_set_nlmsg_build_payload(nlh, s);
	nft_msg_end(b, nlh);
	snprintf(ref->what, sizeof(ref->what), "set %s (type %s, flags interval)", name,
		 v6 ? "ipv6_addr" : "ipv4_addr");
	ret = 0;
out:
	nftnl_set_free(s);
	return ret;
}

int nft_add_decoy_sets(struct nft_batch *b, const struct nft_plan *p, uint32_t id0)
{
	int ret = 0;

	for (size_t i = 0; !ret && i < p->ndiv; i++) {
		const struct nft_divert *d = &p->div[i];

		if (!dec_of(d))
			continue;
		ret = add_addr_set(b, d->family, d->dec.hosts, HOSTS_ID(id0, i));
		if (!ret && d->dec.edges)
			ret = add_addr_set(b, d->family, d->dec.edges, EDGES_ID(id0, i));
	}
	return ret;
}

/* One key element (start, or end flagged). */
static bool put_akey(struct nlmsghdr *nlh, int family, u128 x, bool end)
{
	union icpt_addr a;
	struct nlattr *el, *k;

	icpt_u128_addr(family, x, &a);
	el = mnl_attr_nest_start_check(nlh, NFT_ELEM_MSG_MAX, NFTA_LIST_ELEM);
	if (!el)
		return false;
	k = mnl_attr_nest_start_check(nlh, NFT_ELEM_MSG_MAX, NFTA_SET_ELEM_KEY);
	if (!k || !mnl_attr_put_check(nlh, NFT_ELEM_MSG_MAX, NFTA_DATA_VALUE,
				      family == AF_INET6 ? 16 : 4, &a)) {
		mnl_attr_nest_cancel(nlh, el);
		return false;
	}
	mnl_attr_nest_end(nlh, k);
	if (end && !mnl_attr_put_u32_check(nlh, NFT_ELEM_MSG_MAX, NFTA_SET_ELEM_FLAGS,
					   htonl(NFT_SET_ELEM_INTERVAL_END))) {
		mnl_attr_nest_cancel(nlh, el);
		return false;
	}
	mnl_attr_nest_end(nlh, el);
	return true;
}

/* Elements of set `name` (ID id, 0: an existing set) for ranges r, split
 * over as many messages as needed. Key k of the sequence: range k/2's
 * start (k even) or the address after it (odd; none after the last
 * address of the family). */
static int add_range_elems(struct nft_batch *b, int family, const char *name, uint32_t id,
			   const struct aranges *r)
{
	u128 top = family == AF_INET6 ? ~(u128)0 : 0xffffffffu;
	size_t k = 0, nkeys = 2 * r->n;

	while (k < nkeys) {
		struct nft_msgref *ref;
		struct nlmsghdr *nlh;
		struct nlattr *list;
		uint32_t count = 0;

		nlh = nft_msg_start(b, NFT_MSG_NEWSETELEM, NLM_F_CREATE, NFT_K_HOSTS, &ref);
		if (!nlh)
			return b->len > (1u << 30) ? -E2BIG : -ENOMEM;
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, NFT_TABLE_NAME);
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, name);
		if (id)
			mnl_attr_put_u32(nlh, NFTA_SET_ELEM_LIST_SET_ID, htonl(id));
		list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
		for (; k < nkeys; k++) {
			const struct arange *a = &r->v[k / 2];

			if (k & 1) {
				if (a->hi == top)
					continue;
				if (!put_akey(nlh, family, a->hi + 1, true))
					break;
			} else if (!put_akey(nlh, family, a->lo, false)) {
				break;
			}
			count++;
		}
		mnl_attr_nest_end(nlh, list);
		nft_msg_end(b, nlh);
		snprintf(ref->what, sizeof(ref->what), "addition of %u interval keys to set %s",
			 count, name);
		if (!count)
			return -EMSGSIZE;
	}
	return 0;
}

int nft_add_decoy_refill(struct nft_batch *b, const struct nft_divert *d)
{
	struct aranges r = { 0 };
	struct nft_msgref *ref;
	struct nlmsghdr *nlh;
	int ret;

	if (!dec_of(d))
		return 0;
	/* a DELSETELEM without elements flushes the set (cheap on the
	 * rbtree backend, unlike the concatenated sets) */
	nlh = nft_msg_start(b, NFT_MSG_DELSETELEM, 0, NFT_K_HOSTS, &ref);
	if (!nlh)
		return -ENOMEM;
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, NFT_TABLE_NAME);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, d->dec.hosts);
	nft_msg_end(b, nlh);
	snprintf(ref->what, sizeof(ref->what), "flush of set %s", d->dec.hosts);
	ret = host_ranges(d, &r);
	if (!ret)
		ret = add_range_elems(b, d->family, d->dec.hosts, 0, &r);
	free(r.v);
	return ret;
}

int nft_add_decoy_elems(struct nft_batch *b, const struct nft_plan *p, uint32_t id0)
{
	int ret = 0;

	for (size_t i = 0; !ret && i < p->ndiv; i++) {
		const struct nft_divert *d = &p->div[i];
		struct aranges r = { 0 };

		if (!dec_of(d))
			continue;
		ret = host_ranges(d, &r);
		if (!ret)
			ret = add_range_elems(b, d->family, d->dec.hosts, HOSTS_ID(id0, i), &r);
		free(r.v);
		if (!ret && d->dec.edges) {
			struct aranges e = { 0 };

			ret = ar_from_list(&e, d->dec.edgelist, d->family);
			if (!ret)
				ret = add_range_elems(b, d->family, d->dec.edges, EDGES_ID(id0, i), &e);
			free(e.v);
		}
	}
	return ret;
}

/* ---- rules ---- */

/* Program fragments appended to ops[*n]. */
struct prog {
	struct xop ops[24];
	size_t n;
	char what[NFT_SET_NAME_MAX + 256];
	size_t wlen;
};

static void say(struct prog *g, const char *fmt, ...) DP_PRINTF(2, 3);
static void say(struct prog *g, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(g->what + g->wlen, sizeof(g->what) - g->wlen, fmt, ap);
	va_end(ap);

	if (n > 0)
		g->wlen += (size_t)n < sizeof(g->what) - g->wlen ? (size_t)n : sizeof(g->what) - g->wlen - 1;
}

static const uint16_t lo_type = ARPHRD_LOOPBACK;
static const uint8_t nfp4 = NFPROTO_IPV4, nfp6 = NFPROTO_IPV6;
static const uint8_t l4_tcp = IPPROTO_TCP, l4_udp = IPPROTO_UDP, l4_icmp = IPPROTO_ICMP,
	l4_icmp6 = IPPROTO_ICMPV6;
static const uint8_t pkt_host = PACKET_HOST, zero8;
static const uint8_t echo4 = ICMP_ECHO, echo6 = ICMP6_ECHO_REQUEST;
static const uint8_t tf_mask = TF_FIN | TF_SYN | TF_RST | TF_ACK, tf_syn = TF_SYN,
	tf_rst = TF_RST;

/* meta iiftype != loopback, and the family */
static void g_start(struct prog *g, const struct nft_divert *d, int pos)
{
	g->n = 0;
	g->wlen = 0;
	g->ops[g->n++] = (struct xop){ .op = X_META_LOAD, .a = NFT_META_IIFTYPE, .b = NFT_REG_1 };
	g->ops[g->n++] = (struct xop){ .op = X_CMP_NEQ, .a = NFT_REG_1, .data = &lo_type, .len = 2 };
	g->ops[g->n++] = (struct xop){ .op = X_META_LOAD, .a = NFT_META_NFPROTO, .b = NFT_REG_1 };
	g->ops[g->n++] = (struct xop){ .op = X_CMP_EQ, .a = NFT_REG_1,
		.data = d->family == AF_INET6 ? &nfp6 : &nfp4, .len = 1 };
	g->wlen = (size_t)snprintf(g->what, sizeof(g->what), "rule %d of chain %s (meta iiftype != loopback",
				   pos, NFT_CHAIN_NAME);
}

static void g_l4(struct prog *g, const uint8_t *proto, const char *name)
{
	g->ops[g->n++] = (struct xop){ .op = X_META_LOAD, .a = NFT_META_L4PROTO, .b = NFT_REG_1 };
	g->ops[g->n++] = (struct xop){ .op = X_CMP_EQ, .a = NFT_REG_1, .data = proto, .len = 1 };
	say(g, " meta l4proto %s", name);
}

/* tcp flags & (fin|syn|rst|ack) == syn, or tcp flags & rst == rst */
static void g_flags(struct prog *g, bool rst)
{
	g->ops[g->n++] = (struct xop){ .op = X_PAYLOAD, .a = NFT_PAYLOAD_TRANSPORT_HEADER,
		.b = 13, .c = 1, .d = NFT_REG_1 };
	g->ops[g->n++] = (struct xop){ .op = X_BITWISE, .a = NFT_REG_1,
		.data = rst ? &tf_rst : &tf_mask, .len = 1 };
	g->ops[g->n++] = (struct xop){ .op = X_CMP_EQ, .a = NFT_REG_1,
		.data = rst ? &tf_rst : &tf_syn, .len = 1 };
	say(g, "%s", rst ? " tcp flags & rst == rst" : " tcp flags & (fin|syn|rst|ack) == syn");
}

static void g_daddr(struct prog *g, const struct nft_divert *d, const char *set, uint32_t id)
{
	bool v6 = d->family == AF_INET6;

	g->ops[g->n++] = (struct xop){ .op = X_PAYLOAD, .a = NFT_PAYLOAD_NETWORK_HEADER,
		.b = v6 ? offsetof(struct ip6_hdr, ip6_dst) : offsetof(struct iphdr, daddr),
		.c = v6 ? 16 : 4, .d = NFT_REG_1 };
	g->ops[g->n++] = (struct xop){ .op = X_LOOKUP, .a = NFT_REG_1, .b = id, .str = set };
	say(g, v6 ? " ip6 daddr @%s" : " ip daddr @%s", set);
}

/* daddr . tcp dport @<the divert's set> */
static void g_dpair(struct prog *g, const struct nft_divert *d, uint32_t id)
{
	bool v6 = d->family == AF_INET6;

	g->ops[g->n++] = (struct xop){ .op = X_PAYLOAD, .a = NFT_PAYLOAD_NETWORK_HEADER,
		.b = v6 ? offsetof(struct ip6_hdr, ip6_dst) : offsetof(struct iphdr, daddr),
		.c = v6 ? 16 : 4, .d = NFT_REG_1 };
	g->ops[g->n++] = (struct xop){ .op = X_PAYLOAD, .a = NFT_PAYLOAD_TRANSPORT_HEADER,
		.b = offsetof(struct tcphdr, th_dport), .c = 2, .d = v6 ? NFT_REG_2 : NFT_REG32_01 };
	g->ops[g->n++] = (struct xop){ .op = X_LOOKUP, .a = NFT_REG_1, .b = id, .str = d->set };
	say(g, v6 ? " ip6 daddr . tcp dport @%s" : " ip daddr . tcp dport @%s", d->set);
}

static void g_log(struct prog *g, const struct nft_divert *d, const char *prefix)
{
	char lim[96];

	g->ops[g->n++] = (struct xop){ .op = X_LIMIT, .a = d->dec.log_rate,
		.b = (uint32_t)d->dec.log_unit, .c = d->dec.log_burst };
	g->ops[g->n++] = (struct xop){ .op = X_LOG, .a = d->dec.log_group, .b = NFT_LOG_SNAPLEN,
		.str = prefix };
	snprintf(lim, sizeof(lim), " limit rate %u/%llus burst %u packets log group %u prefix",
		 d->dec.log_rate, (unsigned long long)d->dec.log_unit, d->dec.log_burst,
		 d->dec.log_group);
	say(g, "%s", lim);
	say(g, " \"%s\"", prefix);
}

static void g_mark_accept(struct prog *g, const uint32_t *mark)
{
	g->ops[g->n++] = (struct xop){ .op = X_IMM, .a = NFT_REG_1, .data = mark, .len = 4 };
	g->ops[g->n++] = (struct xop){ .op = X_META_SET, .a = NFT_META_MARK, .b = NFT_REG_1 };
	g->ops[g->n++] = (struct xop){ .op = X_VERDICT, .a = NF_ACCEPT };
	say(g, "%s", " meta mark set <mark> accept");
}

static int g_end(struct nft_batch *b, struct prog *g, uint32_t verdict, const char *vname, int *pos)
{
	if (verdict != (uint32_t)-1)
		g->ops[g->n++] = (struct xop){ .op = X_VERDICT, .a = verdict };
	if (vname)
		say(g, " %s", vname);
	say(g, "%s", ")");
	(*pos)++;
	return nft_add_rule(b, g->ops, g->n, g->what);
}

/* meta l4proto udp, or icmp(v6) type echo-request */
static void g_what(struct prog *g, const struct nft_divert *d, bool echo)
{
	bool v6 = d->family == AF_INET6;

	if (!echo) {
		g_l4(g, &l4_udp, "udp");
		return;
	}
	g_l4(g, v6 ? &l4_icmp6 : &l4_icmp, v6 ? "ipv6-icmp" : "icmp");
	g->ops[g->n++] = (struct xop){ .op = X_PAYLOAD, .a = NFT_PAYLOAD_TRANSPORT_HEADER,
		.b = 0, .c = 1, .d = NFT_REG_1 };
	g->ops[g->n++] = (struct xop){ .op = X_CMP_EQ, .a = NFT_REG_1,
		.data = v6 ? &echo6 : &echo4, .len = 1 };
	say(g, "%s", v6 ? " icmpv6 type echo-request" : " icmp type echo-request");
}

static void probe_prefix(char *out, char kind, const char *set);

/* Rules U (echo false) or P (echo true): drop when !answer; else the
 * kernel answers (mark, accept), or with d->dec.answer: U1-U3 / P1-P3. */
static int g_kernel_answer(struct nft_batch *b, const struct nft_divert *d, uint32_t hid, bool echo,
			   bool answer, const uint32_t *mark, int *pos)
{
	static const uint32_t local = RTN_LOCAL;
	char prefix[NFT_LOG_PREFIX_MAX + 1];
	struct prog g;
	int ret = 0;

	g_start(&g, d, *pos + 1);
	g_what(&g, d, echo);
	g_daddr(&g, d, d->dec.hosts, hid);
	if (!answer)
		return g_end(b, &g, NF_DROP, "drop", pos);
	if (d->dec.answer && d->family == AF_INET6 && !echo) {
		/* no U1 for IPv6: icmp6_send() takes the packet's destination
		 * as source only when it is an interface address, and a
		 * `local` route (announce) is none: the kernel would answer
		 * from the sensor's own address */
	} else {
		if (d->dec.answer) {
			g.ops[g.n++] = (struct xop){ .op = X_FIB, .a = NFT_FIB_RESULT_ADDRTYPE,
				.b = NFTA_FIB_F_DADDR, .c = NFT_REG_1 };
			g.ops[g.n++] = (struct xop){ .op = X_CMP_EQ, .a = NFT_REG_1, .data = &local, .len = 4 };
			say(&g, "%s", " fib daddr type local");
		}
		g_mark_accept(&g, mark);
		ret = g_end(b, &g, (uint32_t)-1, NULL, pos);
	}
	if (ret || !d->dec.answer)
		return ret;
	/* not local: decoyproxy answers from the decoy address */
	g_start(&g, d, *pos + 1);
	g_what(&g, d, echo);
	g_daddr(&g, d, d->dec.hosts, hid);
	g.ops[g.n++] = (struct xop){ .op = X_META_LOAD, .a = NFT_META_PKTTYPE, .b = NFT_REG_1 };
	g.ops[g.n++] = (struct xop){ .op = X_CMP_EQ, .a = NFT_REG_1, .data = &pkt_host, .len = 1 };
	say(&g, "%s", " meta pkttype host");
	g.ops[g.n++] = (struct xop){ .op = X_LIMIT, .a = NFT_ANSWER_RATE, .b = 1, .c = NFT_ANSWER_BURST };
	probe_prefix(prefix, NFT_PROBE_ANSWER, d->set);
	g.ops[g.n++] = (struct xop){ .op = X_LOG, .a = d->dec.answer_group, .b = NFT_ANSWER_SNAPLEN,
		.str = prefix };
	say(&g, " limit rate %u/1s burst %u packets log group %u snaplen %u prefix \"%s\"", NFT_ANSWER_RATE,
	    NFT_ANSWER_BURST, d->dec.answer_group, NFT_ANSWER_SNAPLEN, prefix);
	ret = g_end(b, &g, (uint32_t)-1, NULL, pos);
	if (ret)
		return ret;
	g_start(&g, d, *pos + 1);
	g_what(&g, d, echo);
	g_daddr(&g, d, d->dec.hosts, hid);
	return g_end(b, &g, NF_DROP, "drop", pos);
}

/* "<kind> <set>", cut to what NFLOG carries */
static void probe_prefix(char *out, char kind, const char *set)
{
	snprintf(out, NFT_LOG_PREFIX_MAX + 1, "%c %s", kind, set);
}

int nft_add_decoy_pre(struct nft_batch *b, const struct nft_plan *p, uint32_t id0, int *pos)
{
	char prefix[NFT_LOG_PREFIX_MAX + 1];
	struct prog g;
	int ret = 0;

	for (size_t i = 0; !ret && i < p->ndiv; i++) {
		const struct nft_divert *d = &p->div[i];

		if (!dec_of(d))
			continue;
		if (d->dec.edges) {
			g_start(&g, d, *pos + 1);
			g.ops[g.n++] = (struct xop){ .op = X_META_LOAD, .a = NFT_META_PKTTYPE, .b = NFT_REG_1 };
			g.ops[g.n++] = (struct xop){ .op = X_CMP_EQ, .a = NFT_REG_1, .data = &pkt_host, .len = 1 };
			say(&g, "%s", " meta pkttype host");
			g_daddr(&g, d, d->dec.edges, EDGES_ID(id0, i));
			ret = g_end(b, &g, NF_DROP, "drop", pos);
		}
		if (!ret && d->dec.log) {
			g_start(&g, d, *pos + 1);
			g_l4(&g, &l4_tcp, "tcp");
			g_flags(&g, false);
			g_dpair(&g, d, (uint32_t)i + 1);
			probe_prefix(prefix, NFT_PROBE_OPEN, d->set);
			g_log(&g, d, prefix);
			ret = g_end(b, &g, (uint32_t)-1, NULL, pos);
		}
		if (!ret && d->dec.log) {
			g_start(&g, d, *pos + 1);
			g_l4(&g, &l4_tcp, "tcp");
			g_flags(&g, true);
			g_dpair(&g, d, (uint32_t)i + 1);
			probe_prefix(prefix, NFT_PROBE_RESET, d->set);
			g_log(&g, d, prefix);
			ret = g_end(b, &g, (uint32_t)-1, NULL, pos);
		}
	}
	return ret;
}

int nft_add_decoy_post(struct nft_batch *b, const struct nft_plan *p, uint32_t id0, int *pos)
{
	uint32_t mark = nft_plan_mark(p);
	char prefix[NFT_LOG_PREFIX_MAX + 1];
	struct prog g;
	int ret = 0;

	for (size_t i = 0; !ret && i < p->ndiv; i++) {
		const struct nft_divert *d = &p->div[i];
		uint32_t hid = HOSTS_ID(id0, i);
		bool drop = d->dec.closed == NFT_CLOSED_DROP;

		if (!dec_of(d))
			continue;
		/* S: a local socket's traffic is the host's own */
		g_start(&g, d, *pos + 1);
		g_daddr(&g, d, d->dec.hosts, hid);
		g.ops[g.n++] = (struct xop){ .op = X_SOCKET, .a = NFT_SOCKET_TRANSPARENT, .b = NFT_REG_1 };
		g.ops[g.n++] = (struct xop){ .op = X_CMP_EQ, .a = NFT_REG_1, .data = &zero8, .len = 1 };
		say(&g, "%s", " socket transparent 0");
		ret = g_end(b, &g, NF_ACCEPT, "accept", pos);
		if (!ret && d->dec.log) {
			g_start(&g, d, *pos + 1);
			g_l4(&g, &l4_tcp, "tcp");
			g_flags(&g, false);
			g_daddr(&g, d, d->dec.hosts, hid);
			probe_prefix(prefix, NFT_PROBE_CLOSED, d->set);
			g_log(&g, d, prefix);
			ret = g_end(b, &g, (uint32_t)-1, NULL, pos);
		}
		if (!ret && d->dec.closed != NFT_CLOSED_NONE) {
			g_start(&g, d, *pos + 1);
			g_l4(&g, &l4_tcp, "tcp");
			g_daddr(&g, d, d->dec.hosts, hid);
			if (drop) {
				ret = g_end(b, &g, NF_DROP, "drop", pos);
			} else {
				g.ops[g.n++] = (struct xop){ .op = X_REJECT, .a = NFT_REJECT_TCP_RST, .b = 0 };
				ret = g_end(b, &g, (uint32_t)-1, "reject with tcp reset", pos);
			}
		}
		if (!ret && d->dec.log && d->dec.closed != NFT_CLOSED_NONE) {
			/* a datagram to a closed UDP port: the same kind and
			 * limit as a SYN to a closed TCP port */
			g_start(&g, d, *pos + 1);
			g_l4(&g, &l4_udp, "udp");
			g_daddr(&g, d, d->dec.hosts, hid);
			probe_prefix(prefix, NFT_PROBE_CLOSED, d->set);
			g_log(&g, d, prefix);
			ret = g_end(b, &g, (uint32_t)-1, NULL, pos);
		}
		if (!ret && d->dec.closed != NFT_CLOSED_NONE)
			ret = g_kernel_answer(b, d, hid, false, !drop, &mark, pos);
		if (!ret && d->dec.closed != NFT_CLOSED_NONE)
			ret = g_kernel_answer(b, d, hid, true, d->dec.ping, &mark, pos);
	}
	return ret;
}

static bool str_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

bool nft_decoy_same(const struct nft_plan *a, const struct nft_plan *b)
{
	if (a->ndiv != b->ndiv)
		return false;
	for (size_t i = 0; i < a->ndiv; i++) {
		const struct nft_decoy *x = &a->div[i].dec, *y = &b->div[i].dec;

		if (!str_eq(x->hosts, y->hosts) || !str_eq(x->edges, y->edges) ||
		    x->closed != y->closed || x->ping != y->ping || x->log != y->log ||
		    x->log_group != y->log_group || x->log_rate != y->log_rate ||
		    x->log_unit != y->log_unit || x->log_burst != y->log_burst ||
		    x->answer != y->answer || x->answer_group != y->answer_group)
			return false;
		if (x->edges && !nft_list_same(x->edgelist, y->edgelist))
			return false;
	}
	return true;
}
