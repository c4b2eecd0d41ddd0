/* nft.c — nftables TPROXY plumbing: batch building and sending (see nft.h).
 *
 * Table, sets, chain and rules are built with libnftnl objects; the rule
 * expressions are the ones `nft --debug=netlink` shows for the equivalent
 * nft commands. Set elements are written straight with libmnl: there can be
 * hundreds of thousands, and a libnftnl object per element would cost an
 * allocation each for the same bytes on the wire.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#include "net/nft.h"

/* Room reserved in the buffer before each message: an element message is
 * at most NFT_ELEM_MSG_MAX; every other message is far smaller. */
#define MSG_ROOM (NFT_ELEM_MSG_MAX + 4096)

/* nftables' datatype numbers (nftables src/datatype.h), needed for the
 * set key type so that `nft list` shows the elements as addresses and
 * ports. A concatenation's type is the member types, 6 bits each. */
#define DT_IPADDR       7
#define DT_IP6ADDR      8
#define DT_INET_SERVICE 13
#define DT_BITS         6

/* Sets created in a batch are named by ID as well (NFTA_SET_ID): the set
 * of divert i gets ID i + 1. */
#define SET_ID(i) ((uint32_t)(i) + 1)

/* Concatenated keys: every field is padded to a 32-bit register. */
#define KEY4_LEN (4 + 4)
#define KEY6_LEN (16 + 4)

void nft_batch_init(struct nft_batch *b)
{
	memset(b, 0, sizeof(*b));
	b->err_offs = -1;
}

void nft_batch_free(struct nft_batch *b)
{
	free(b->buf);
	free(b->msg);
	free(b->sel);
	nft_batch_init(b);
}

static void batch_reset(struct nft_batch *b, uint32_t seq)
{
	b->len = 0;
	b->nmsg = 0;
	b->nsel = 0;
	b->seq0 = seq;
	b->nacked = 0;
	b->nexpect = 0;
	b->error = 0;
	b->err_seq = 0;
	b->err_offs = -1;
	b->kmsg[0] = '\0';
}

/* ---- message framing ---- */

/* A batch goes to the kernel in one send, through a socket buffer whose
 * size is an int: 1 GiB (some 25 million elements) is far beyond use. */
#define BATCH_MAX (1u << 30)

static int batch_reserve(struct nft_batch *b)
{
	if (b->len > BATCH_MAX)
		return -E2BIG;
	if (b->cap - b->len < MSG_ROOM) {
		size_t cap = b->cap ? b->cap * 2 : 4 * MSG_ROOM;
		char *p;

		while (cap - b->len < MSG_ROOM)
			cap *= 2;
		p = realloc(b->buf, cap);
		if (!p)
			return -ENOMEM;
		b->buf = p;
		b->cap = cap;
	}
	if (b->nmsg == b->capmsg) {
		size_t cap = b->capmsg ? b->capmsg * 2 : 32;
		struct nft_msgref *m = realloc(b->msg, cap * sizeof(*m));

		if (!m)
			return -ENOMEM;
		b->msg = m;
		b->capmsg = cap;
	}
	return 0;
}

/* Starts message number b->nmsg at the end of the buffer. type is an
 * NFT_MSG_* value, or NFNL_MSG_BATCH_BEGIN/END. Every nf_tables message
 * asks for an ACK, so that success is confirmed and not only assumed. */
static struct nlmsghdr *msg_start(struct nft_batch *b, uint16_t type, uint16_t flags,
				  enum nft_msg_kind kind, struct nft_msgref **refp)
{
	uint32_t seq = b->seq0 + (uint32_t)b->nmsg;
	struct nft_msgref *ref;
	struct nlmsghdr *nlh;

	if (batch_reserve(b))
		return NULL;
	/* Zeroed so that alignment padding never carries stale heap bytes
	 * (not every library version clears it). */
	memset(b->buf + b->len, 0, MSG_ROOM);
	if (type == NFNL_MSG_BATCH_BEGIN)
		nlh = nftnl_batch_begin(b->buf + b->len, seq);
	else if (type == NFNL_MSG_BATCH_END)
		nlh = nftnl_batch_end(b->buf + b->len, seq);
	else
		nlh = nftnl_nlmsg_build_hdr(b->buf + b->len, type, NFPROTO_INET,
					    flags | NLM_F_ACK, seq);
	ref = &b->msg[b->nmsg++];
	memset(ref, 0, sizeof(*ref));
	ref->off = (uint32_t)b->len;
	ref->kind = (uint8_t)kind;
	ref->ack = nlh->nlmsg_flags & NLM_F_ACK;
	if (ref->ack)
		b->nexpect++;
	if (refp)
		*refp = ref;
	return nlh;
}

static void msg_end(struct nft_batch *b, const struct nlmsghdr *nlh)
{
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
}

static int add_bare(struct nft_batch *b, uint16_t type, enum nft_msg_kind kind)
{
	struct nlmsghdr *nlh = msg_start(b, type, 0, kind, NULL);

	if (!nlh)
		return -ENOMEM;
	msg_end(b, nlh);
	return 0;
}

/* ---- table and chain ---- */

static int add_table(struct nft_batch *b, uint16_t type)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nft_msgref *ref;
	struct nlmsghdr *nlh;
	int ret = -ENOMEM;

	if (!t || nftnl_table_set_str(t, NFTNL_TABLE_NAME, NFT_TABLE_NAME) < 0)
		goto out;
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	nlh = msg_start(b, type, type == NFT_MSG_NEWTABLE ? NLM_F_CREATE : 0,
			type == NFT_MSG_NEWTABLE ? NFT_K_TABLE : NFT_K_TABLE_DEL, &ref);
	if (!nlh)
		goto out;
	nftnl_table_nlmsg_build_payload(nlh, t);
	msg_end(b, nlh);
	snprintf(ref->what, sizeof(ref->what), "table inet %s", NFT_TABLE_NAME);
	ret = 0;
out:
	nftnl_table_free(t);
	return ret;
}

static int add_chain(struct nft_batch *b)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nft_msgref *ref;
	struct nlmsghdr *nlh;
	int ret = -ENOMEM;

	if (!c || nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, NFT_TABLE_NAME) < 0 ||
	    nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, NFT_CHAIN_NAME) < 0 ||
	    nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter") < 0)
		goto out;
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, NF_INET_PRE_ROUTING);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, NFT_CHAIN_PRIO);
	nlh = msg_start(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE, NFT_K_CHAIN, &ref);
	if (!nlh)
		goto out;
	nftnl_chain_nlmsg_build_payload(nlh, c);
	msg_end(b, nlh);
	snprintf(ref->what, sizeof(ref->what), "chain %s (type filter hook prerouting priority %d)",
		 NFT_CHAIN_NAME, NFT_CHAIN_PRIO);
	ret = 0;
out:
	nftnl_chain_free(c);
	return ret;
}

/* ---- sets ---- */

static int add_set(struct nft_batch *b, const struct nft_divert *d, uint32_t id)
{
	bool v6 = d->family == AF_INET6;
	/* Field lengths of the concatenation, as the kernel's pipapo set
	 * needs them: the address, then the port. */
	const uint8_t fields[2] = { v6 ? 16 : 4, 2 };
	struct nftnl_set *s = nftnl_set_alloc();
	struct nft_msgref *ref;
	struct nlmsghdr *nlh;
	int ret = -ENOMEM;

	if (!s || nftnl_set_set_str(s, NFTNL_SET_TABLE, NFT_TABLE_NAME) < 0 ||
	    nftnl_set_set_str(s, NFTNL_SET_NAME, d->set) < 0 ||
	    nftnl_set_set_data(s, NFTNL_SET_DESC_CONCAT, fields, sizeof(fields)) < 0)
		goto out;
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_INTERVAL | NFT_SET_CONCAT);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE,
			  ((v6 ? DT_IP6ADDR : DT_IPADDR) << DT_BITS) | DT_INET_SERVICE);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, v6 ? KEY6_LEN : KEY4_LEN);
	nftnl_set_set_u32(s, NFTNL_SET_ID, id);
	nlh = msg_start(b, NFT_MSG_NEWSET, NLM_F_CREATE, NFT_K_SET, &ref);
	if (!nlh)
		goto out;
	nftnl_set_nlmsg_build_payload(nlh, s);
	msg_end(b, nlh);
	snprintf(ref->what, sizeof(ref->what), "set %s (type %s . inet_service, flags interval)",
		 d->set, v6 ? "ipv6_addr" : "ipv4_addr");
	ret = 0;
out:
	nftnl_set_free(s);
	return ret;
}

/* ---- elements ---- */

/* Key of one corner of an element: address, then the port in network
 * order padded to 4 bytes. Returns the key length. */
static size_t elem_key(const struct icpt_elem *e, bool hi, uint8_t *key)
{
	size_t alen = e->family == AF_INET6 ? 16 : 4;
	uint16_t port = htons(hi ? e->port_hi : e->port_lo);

	memcpy(key, hi ? (const void *)&e->hi : (const void *)&e->lo, alen);
	memcpy(key + alen, &port, 2);
	memset(key + alen + 2, 0, 2);
	return alen + 4;
}

static bool put_key(struct nlmsghdr *nlh, uint16_t type, const uint8_t *key, size_t len)
{
	struct nlattr *n = mnl_attr_nest_start_check(nlh, NFT_ELEM_MSG_MAX, type);

	if (!n || !mnl_attr_put_check(nlh, NFT_ELEM_MSG_MAX, NFTA_DATA_VALUE, len, key))
		return false;
	mnl_attr_nest_end(nlh, n);
	return true;
}

/* Appends one element (key = low corner, key_end = high corner: the form
 * concatenated interval sets take) unless the message would exceed
 * NFT_ELEM_MSG_MAX; then nothing is left of it and false is returned. */
static bool put_elem(struct nlmsghdr *nlh, const struct icpt_elem *e)
{
	uint8_t lo[KEY6_LEN], hi[KEY6_LEN];
	size_t klen = elem_key(e, false, lo);
	struct nlattr *el;

	elem_key(e, true, hi);
	el = mnl_attr_nest_start_check(nlh, NFT_ELEM_MSG_MAX, NFTA_LIST_ELEM);
	if (!el)
		return false;
	if (!put_key(nlh, NFTA_SET_ELEM_KEY, lo, klen) ||
	    !put_key(nlh, NFTA_SET_ELEM_KEY_END, hi, klen)) {
		mnl_attr_nest_cancel(nlh, el);
		return false;
	}
	mnl_attr_nest_end(nlh, el);
	return true;
}

static int sel_push(struct nft_batch *b, const struct icpt_elem *e)
{
	if (b->nsel == b->capsel) {
		size_t cap = b->capsel ? b->capsel * 2 : 256;
		const struct icpt_elem **v = realloc(b->sel, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		b->sel = v;
		b->capsel = cap;
	}
	b->sel[b->nsel++] = e;
	return 0;
}

/* One NEWSETELEM/DELSETELEM message for the set of divert d holding
 * b->sel[*i ..] (all of d's family, taken from list l); advances *i past
 * what fitted. id: the set's ID when it is created in this batch, else 0. */
static int add_elem_msg(struct nft_batch *b, uint16_t type, const struct nft_divert *d,
			const struct icpt_list *l, uint32_t id, size_t *i, size_t end)
{
	struct nft_msgref *ref;
	struct nlmsghdr *nlh;
	struct nlattr *list;

	nlh = msg_start(b, type, type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0,
			type == NFT_MSG_NEWSETELEM ? NFT_K_ELEMS : NFT_K_ELEMS_DEL, &ref);
	if (!nlh)
		return b->len > BATCH_MAX ? -E2BIG : -ENOMEM;
	ref->family = (uint8_t)d->family;
	ref->first = (uint32_t)*i;
	ref->list = l;
	ref->set = d->set;
	ref->fresh = id != 0;
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, NFT_TABLE_NAME);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, d->set);
	/* The set is created in this same batch: the ID names it without
	 * ambiguity while the old table is being deleted. */
	if (id)
		mnl_attr_put_u32(nlh, NFTA_SET_ELEM_LIST_SET_ID, htonl(id));
	list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
	for (; *i < end && put_elem(nlh, b->sel[*i]); (*i)++)
		ref->count++;
	mnl_attr_nest_end(nlh, list);
	msg_end(b, nlh);
	snprintf(ref->what, sizeof(ref->what), "%s of %u elements %s set %s",
		 type == NFT_MSG_NEWSETELEM ? "addition" : "removal", ref->count,
		 type == NFT_MSG_NEWSETELEM ? "to" : "from", d->set);
	/* An element always fits in an empty message; guard anyway so that a
	 * future key layout change cannot loop forever. */
	return ref->count ? 0 : -EMSGSIZE;
}

/* Messages for b->sel[from .. b->nsel), split by size. */
static int add_elem_msgs(struct nft_batch *b, uint16_t type, const struct nft_divert *d,
			 const struct icpt_list *l, uint32_t id, size_t from)
{
	size_t i = from, end = b->nsel;
	int ret = 0;

	while (!ret && i < end)
		ret = add_elem_msg(b, type, d, l, id, &i, end);
	return ret;
}

/* All elements of divert d (those of its family), added to its set, which
 * this batch creates with ID id. */
static int add_elems(struct nft_batch *b, const struct nft_divert *d, uint32_t id)
{
	const struct icpt_list *l = d->decoys;
	size_t i, from = b->nsel;
	int ret;

	for (i = 0; l && i < l->n; i++) {
		if (l->v[i].family != d->family)
			continue;
		ret = sel_push(b, &l->v[i]);
		if (ret)
			return ret;
	}
	return add_elem_msgs(b, NFT_MSG_NEWSETELEM, d, l, id, from);
}

/* ---- rules ---- */

/* A rule is written as a short program of expression steps, turned into
 * libnftnl expressions by one function. */
enum xop_kind { X_META_LOAD, X_CMP_EQ, X_PAYLOAD, X_LOOKUP, X_IMM, X_VERDICT, X_TPROXY,
		X_META_SET, X_SOCKET };

struct xop {
	enum xop_kind op;
	uint32_t a, b, c, d;    /* per op, see xop_expr() */
	const void *data;
	uint32_t len;
	const char *str;
};

static struct nftnl_expr *xop_expr(const struct xop *x)
{
	static const char *const names[] = {
		[X_META_LOAD] = "meta", [X_CMP_EQ] = "cmp", [X_PAYLOAD] = "payload",
		[X_LOOKUP] = "lookup", [X_IMM] = "immediate", [X_VERDICT] = "immediate",
		[X_TPROXY] = "tproxy", [X_META_SET] = "meta", [X_SOCKET] = "socket",
	};
	struct nftnl_expr *e = nftnl_expr_alloc(names[x->op]);
	int ret = 0;

	if (!e)
		return NULL;
	switch (x->op) {
	case X_META_LOAD:       /* a = key, b = dreg */
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, x->a);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, x->b);
		break;
	case X_CMP_EQ:          /* a = sreg, data */
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, x->a);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
		ret = nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, x->data, x->len);
		break;
	case X_PAYLOAD:         /* a = base, b = offset, c = len, d = dreg */
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, x->a);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, x->b);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, x->c);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, x->d);
		break;
	case X_LOOKUP:          /* a = sreg, str = set, b = set id */
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, x->a);
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, x->b);
		ret = nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, x->str);
		break;
	case X_IMM:             /* a = dreg, data */
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, x->a);
		ret = nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, x->data, x->len);
		break;
	case X_VERDICT:         /* a = verdict */
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, x->a);
		break;
	case X_TPROXY:          /* a = nfproto, b = addr reg (0: none), c = port reg */
		nftnl_expr_set_u32(e, NFTNL_EXPR_TPROXY_FAMILY, x->a);
		if (x->b)
			nftnl_expr_set_u32(e, NFTNL_EXPR_TPROXY_REG_ADDR, x->b);
		nftnl_expr_set_u32(e, NFTNL_EXPR_TPROXY_REG_PORT, x->c);
		break;
	case X_META_SET:        /* a = key, b = sreg */
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, x->a);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_SREG, x->b);
		break;
	case X_SOCKET:          /* a = key, b = dreg */
		nftnl_expr_set_u32(e, NFTNL_EXPR_SOCKET_KEY, x->a);
		nftnl_expr_set_u32(e, NFTNL_EXPR_SOCKET_DREG, x->b);
		nftnl_expr_set_u32(e, NFTNL_EXPR_SOCKET_LEVEL, 0);
		break;
	}
	if (ret < 0) {
		nftnl_expr_free(e);
		return NULL;
	}
	return e;
}

static int add_rule(struct nft_batch *b, const struct xop *ops, size_t n, const char *what)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nft_msgref *ref;
	struct nlmsghdr *nlh;
	int ret = -ENOMEM;
	size_t i;

	if (!r || nftnl_rule_set_str(r, NFTNL_RULE_TABLE, NFT_TABLE_NAME) < 0 ||
	    nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, NFT_CHAIN_NAME) < 0)
		goto out;
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	for (i = 0; i < n; i++) {
		struct nftnl_expr *e = xop_expr(&ops[i]);

		if (!e)
			goto out;
		nftnl_rule_add_expr(r, e);
	}
	nlh = msg_start(b, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND, NFT_K_RULE, &ref);
	if (!nlh)
		goto out;
	nftnl_rule_nlmsg_build_payload(nlh, r);
	msg_end(b, nlh);
	snprintf(ref->what, sizeof(ref->what), "%s", what);
	ret = 0;
out:
	nftnl_rule_free(r);
	return ret;
}

static uint32_t plan_mark(const struct nft_plan *p)
{
	return p->mark ? p->mark : NFT_MARK_DEFAULT;
}

/* meta l4proto tcp <ip|ip6> daddr . tcp dport @<set>
 *	tproxy <ip|ip6> to <addr>:<port> meta mark set <mark> accept
 * for divert d, whose set this batch creates with ID id. */
static int add_tproxy_rule(struct nft_batch *b, const struct nft_plan *p,
			   const struct nft_divert *d, uint32_t id, int pos)
{
	int family = d->family;
	bool v6 = family == AF_INET6;
	const struct sockaddr_in *s4 = (const void *)&d->listen;
	const struct sockaddr_in6 *s6 = (const void *)&d->listen;
	const void *addr = v6 ? (const void *)&s6->sin6_addr : (const void *)&s4->sin_addr;
	uint16_t port = v6 ? s6->sin6_port : s4->sin_port;      /* network order */
	bool any = v6 ? IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr) : s4->sin_addr.s_addr == 0;
	const uint8_t l4 = IPPROTO_TCP, nfp = v6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
	const uint32_t mark = plan_mark(p);
	char astr[INET6_ADDRSTRLEN] = "", what[sizeof(((struct nft_msgref *)0)->what)];
	struct xop ops[14];
	size_t n = 0;

	ops[n++] = (struct xop){ .op = X_META_LOAD, .a = NFT_META_L4PROTO, .b = NFT_REG_1 };
	ops[n++] = (struct xop){ .op = X_CMP_EQ, .a = NFT_REG_1, .data = &l4, .len = 1 };
	ops[n++] = (struct xop){ .op = X_META_LOAD, .a = NFT_META_NFPROTO, .b = NFT_REG_1 };
	ops[n++] = (struct xop){ .op = X_CMP_EQ, .a = NFT_REG_1, .data = &nfp, .len = 1 };
	/* daddr . dport: the port goes to the 32-bit register right after
	 * the address (REG32_01 after 4 bytes, REG_2 = REG32_04 after 16). */
	ops[n++] = (struct xop){ .op = X_PAYLOAD, .a = NFT_PAYLOAD_NETWORK_HEADER,
		.b = v6 ? offsetof(struct ip6_hdr, ip6_dst) : offsetof(struct iphdr, daddr),
		.c = v6 ? 16 : 4, .d = NFT_REG_1 };
	ops[n++] = (struct xop){ .op = X_PAYLOAD, .a = NFT_PAYLOAD_TRANSPORT_HEADER,
		.b = offsetof(struct tcphdr, th_dport), .c = 2, .d = v6 ? NFT_REG_2 : NFT_REG32_01 };
	ops[n++] = (struct xop){ .op = X_LOOKUP, .a = NFT_REG_1, .b = id, .str = d->set };
	if (!any)
		ops[n++] = (struct xop){ .op = X_IMM, .a = NFT_REG_1, .data = addr, .len = v6 ? 16 : 4 };
	ops[n++] = (struct xop){ .op = X_IMM, .a = NFT_REG_2, .data = &port, .len = 2 };
	ops[n++] = (struct xop){ .op = X_TPROXY, .a = nfp, .b = any ? 0 : NFT_REG_1, .c = NFT_REG_2 };
	ops[n++] = (struct xop){ .op = X_IMM, .a = NFT_REG_1, .data = &mark, .len = 4 };
	ops[n++] = (struct xop){ .op = X_META_SET, .a = NFT_META_MARK, .b = NFT_REG_1 };
	ops[n++] = (struct xop){ .op = X_VERDICT, .a = NF_ACCEPT };

	if (!any)
		inet_ntop(family, addr, astr, sizeof(astr));
	snprintf(what, sizeof(what), "rule %d of chain %s (meta l4proto tcp %s daddr . tcp dport "
		 "@%s tproxy %s to %s%s%s:%u meta mark set 0x%x accept)", pos, NFT_CHAIN_NAME,
		 v6 ? "ip6" : "ip", d->set, v6 ? "ip6" : "ip",
		 v6 && !any ? "[" : "", astr, v6 && !any ? "]" : "", ntohs(port), mark);
	return add_rule(b, ops, n, what);
}

/* meta l4proto tcp socket transparent 1 meta mark set <mark> accept */
static int add_socket_rule(struct nft_batch *b, const struct nft_plan *p, int pos)
{
	const uint8_t l4 = IPPROTO_TCP, one = 1;
	const uint32_t mark = plan_mark(p);
	char what[224];
	const struct xop ops[] = {
		{ .op = X_META_LOAD, .a = NFT_META_L4PROTO, .b = NFT_REG_1 },
		{ .op = X_CMP_EQ, .a = NFT_REG_1, .data = &l4, .len = 1 },
		{ .op = X_SOCKET, .a = NFT_SOCKET_TRANSPARENT, .b = NFT_REG_1 },
		{ .op = X_CMP_EQ, .a = NFT_REG_1, .data = &one, .len = 1 },
		{ .op = X_IMM, .a = NFT_REG_1, .data = &mark, .len = 4 },
		{ .op = X_META_SET, .a = NFT_META_MARK, .b = NFT_REG_1 },
		{ .op = X_VERDICT, .a = NF_ACCEPT },
	};

	snprintf(what, sizeof(what), "rule %d of chain %s (meta l4proto tcp socket transparent 1 "
		 "meta mark set 0x%x accept)", pos, NFT_CHAIN_NAME, mark);
	return add_rule(b, ops, ARRAY_SIZE(ops), what);
}

/* ---- plans ---- */

static int check_divert(const struct nft_plan *p, size_t i, char **err)
{
	const struct nft_divert *d = &p->div[i];
	const char *fam = d->family == AF_INET6 ? "IPv6" : "IPv4";
	size_t len = d->set ? strlen(d->set) : 0;
	uint16_t port;

	if (d->family != AF_INET && d->family != AF_INET6) {
		memprintf(err, "nft: divert %zu: unknown address family %d", i + 1, d->family);
		return -EINVAL;
	}
	if (!len || len > NFT_SET_NAME_MAX) {
		memprintf(err, "nft: divert %zu: the set name must have 1 to %d characters (%zu)",
			  i + 1, NFT_SET_NAME_MAX, len);
		return -EINVAL;
	}
	for (size_t k = 0; k < i; k++) {
		if (!strcmp(p->div[k].set, d->set)) {
			memprintf(err, "nft: set %s is named by two diverts (%zu and %zu)", d->set,
				  k + 1, i + 1);
			return -EINVAL;
		}
	}
	if (d->listen.ss_family != d->family) {
		memprintf(err, "nft: set %s: the listener address is not an %s address", d->set, fam);
		return -EINVAL;
	}
	port = d->family == AF_INET6 ? ((const struct sockaddr_in6 *)&d->listen)->sin6_port :
		((const struct sockaddr_in *)&d->listen)->sin_port;
	if (!port) {
		memprintf(err, "nft: set %s: the %s listener has no port", d->set, fam);
		return -EINVAL;
	}
	return 0;
}

static int check_plan(const struct nft_plan *p, char **err)
{
	if (p->ndiv && !p->div) {
		memprintf(err, "nft: %zu diverts but no array", p->ndiv);
		return -EINVAL;
	}
	if (p->ndiv > UINT32_MAX - 1) {
		memprintf(err, "nft: too many diverts (%zu)", p->ndiv);
		return -EINVAL;
	}
	for (size_t i = 0; i < p->ndiv; i++) {
		int ret = check_divert(p, i, err);

		if (ret)
			return ret;
	}
	return 0;
}

static int build_apply(struct nft_batch *b, const struct nft_plan *p)
{
	size_t i;
	int ret;

	ret = add_bare(b, NFNL_MSG_BATCH_BEGIN, NFT_K_BEGIN);
	/* create-if-missing then delete: removes any old version of our
	 * table without failing when there is none */
	if (!ret)
		ret = add_table(b, NFT_MSG_NEWTABLE);
	if (!ret)
		ret = add_table(b, NFT_MSG_DELTABLE);
	if (!ret)
		ret = add_table(b, NFT_MSG_NEWTABLE);
	for (i = 0; !ret && i < p->ndiv; i++)
		ret = add_set(b, &p->div[i], SET_ID(i));
	if (!ret)
		ret = add_chain(b);
	/* every tproxy rule, then the socket rule: see nft.h */
	for (i = 0; !ret && i < p->ndiv; i++)
		ret = add_tproxy_rule(b, p, &p->div[i], SET_ID(i), (int)i + 1);
	if (!ret)
		ret = add_socket_rule(b, p, (int)p->ndiv + 1);
	for (i = 0; !ret && i < p->ndiv; i++)
		ret = add_elems(b, &p->div[i], SET_ID(i));
	if (!ret)
		ret = add_bare(b, NFNL_MSG_BATCH_END, NFT_K_END);
	return ret;
}

static int build_error(int ret, char **err)
{
	if (ret == -ENOMEM)
		memprintf(err, "nft: out of memory while building the batch");
	else if (ret == -E2BIG)
		memprintf(err, "nft: the batch would exceed %u bytes: too many decoy elements",
			  BATCH_MAX);
	else
		memprintf(err, "nft: cannot build the batch: %s", strerror(-ret));
	return ret;
}

int nft_build_apply(struct nft_batch *b, const struct nft_plan *p, uint32_t seq, char **err)
{
	int ret = check_plan(p, err);

	if (ret)
		return ret;
	batch_reset(b, seq);
	ret = build_apply(b, p);
	return ret ? build_error(ret, err) : 0;
}

/* Order of normalised lists: family, low address, low port (unique among
 * disjoint elements), then the high corner to tell reshaped elements. */
static int elem_cmp(const struct icpt_elem *x, const struct icpt_elem *y)
{
	size_t alen = x->family == AF_INET6 ? 16 : 4;
	int c;

	if (x->family != y->family)
		return x->family == AF_INET ? -1 : 1;
	c = memcmp(&x->lo, &y->lo, alen);
	if (c)
		return c;
	if (x->port_lo != y->port_lo)
		return x->port_lo < y->port_lo ? -1 : 1;
	c = memcmp(&x->hi, &y->hi, alen);
	if (c)
		return c;
	if (x->port_hi != y->port_hi)
		return x->port_hi < y->port_hi ? -1 : 1;
	return 0;
}

/* Pushes to b->sel the elements of `a` (of one family) missing from `c`:
 * one merge walk over two sorted lists. */
static int sel_missing(struct nft_batch *b, const struct icpt_list *a, const struct icpt_list *c,
		       int family)
{
	size_t i = 0, j = 0;
	int ret;

	for (; i < a->n; i++) {
		if (a->v[i].family != family)
			continue;
		while (j < c->n && elem_cmp(&c->v[j], &a->v[i]) < 0)
			j++;
		if (j < c->n && !elem_cmp(&c->v[j], &a->v[i]))
			continue;
		ret = sel_push(b, &a->v[i]);
		if (ret)
			return ret;
	}
	return 0;
}

static const struct icpt_list no_decoys = { .normalised = true };

static const struct icpt_list *div_list(const struct nft_divert *d)
{
	return d->decoys ? d->decoys : &no_decoys;
}

static int build_delta(struct nft_batch *b, const struct nft_plan *p, const struct nft_plan *old)
{
	size_t i, from;
	int ret;

	ret = add_bare(b, NFNL_MSG_BATCH_BEGIN, NFT_K_BEGIN);
	/* removals first: a reshaped element may overlap its old self */
	for (i = 0; !ret && i < p->ndiv; i++) {
		const struct nft_divert *d = &p->div[i], *o = &old->div[i];

		if (div_list(d) == div_list(o))
			continue;
		from = b->nsel;
		ret = sel_missing(b, div_list(o), div_list(d), d->family);
		if (!ret)
			ret = add_elem_msgs(b, NFT_MSG_DELSETELEM, d, div_list(o), 0, from);
	}
	for (i = 0; !ret && i < p->ndiv; i++) {
		const struct nft_divert *d = &p->div[i], *o = &old->div[i];

		if (div_list(d) == div_list(o))
			continue;
		from = b->nsel;
		ret = sel_missing(b, div_list(d), div_list(o), d->family);
		if (!ret)
			ret = add_elem_msgs(b, NFT_MSG_NEWSETELEM, d, div_list(d), 0, from);
	}
	if (!ret)
		ret = add_bare(b, NFNL_MSG_BATCH_END, NFT_K_END);
	return ret;
}

static bool lists_normalised(const struct nft_plan *p)
{
	for (size_t i = 0; i < p->ndiv; i++)
		if (!div_list(&p->div[i])->normalised)
			return false;
	return true;
}

int nft_build_delta(struct nft_batch *b, const struct nft_plan *p, const struct nft_plan *old,
		    uint32_t seq, char **err)
{
	int ret = check_plan(p, err);

	if (ret)
		return ret;
	if (!old || !nft_plan_same_rules(p, old)) {
		memprintf(err, "nft: a delta needs the same sets and rules before and after");
		return -EINVAL;
	}
	if (!lists_normalised(old) || !lists_normalised(p)) {
		memprintf(err, "nft: a delta needs the old and the new decoy lists normalised");
		return -EINVAL;
	}
	batch_reset(b, seq);
	ret = build_delta(b, p, old);
	return ret ? build_error(ret, err) : 0;
}

static bool listen_eq(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		       !memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr));
	}
	return true;
}

bool nft_plan_same_rules(const struct nft_plan *a, const struct nft_plan *b)
{
	if (plan_mark(a) != plan_mark(b) || a->ndiv != b->ndiv)
		return false;
	for (size_t i = 0; i < a->ndiv; i++) {
		const struct nft_divert *x = &a->div[i], *y = &b->div[i];

		if (x->family != y->family || !x->set || !y->set || strcmp(x->set, y->set) ||
		    !listen_eq(&x->listen, &y->listen))
			return false;
	}
	return true;
}

int nft_build_remove(struct nft_batch *b, uint32_t seq, char **err)
{
	int ret;

	batch_reset(b, seq);
	ret = add_bare(b, NFNL_MSG_BATCH_BEGIN, NFT_K_BEGIN);
	if (!ret)
		ret = add_table(b, NFT_MSG_NEWTABLE);
	if (!ret)
		ret = add_table(b, NFT_MSG_DELTABLE);
	if (!ret)
		ret = add_bare(b, NFNL_MSG_BATCH_END, NFT_K_END);
	return ret ? build_error(ret, err) : 0;
}

/* ---- answers ---- */

struct ack_tlvs {
	const char *msg;
	int32_t offs;
};

static int ack_tlv_cb(const struct nlattr *attr, void *data)
{
	struct ack_tlvs *t = data;

	if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0)
		t->msg = mnl_attr_get_str(attr);
	else if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_OFFS &&
		 mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
		t->offs = (int32_t)mnl_attr_get_u32(attr);
	return MNL_CB_OK;
}

/* Extended ACK attributes follow the echoed request: only its header
 * when the kernel capped it (NETLINK_CAP_ACK), the whole request if not. */
static void parse_ack_tlvs(const struct nlmsghdr *nlh, const struct nlmsgerr *e,
			   struct ack_tlvs *t)
{
	size_t plen = nlh->nlmsg_len - NLMSG_HDRLEN;
	size_t off = sizeof(*e);

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
		if (e->msg.nlmsg_len < NLMSG_HDRLEN)
			return;
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	}
	if (off > plen)
		return;
	mnl_attr_parse(nlh, (unsigned)off, ack_tlv_cb, t);
}

static void feed_error_msg(struct nft_batch *b, const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	uint32_t idx = nlh->nlmsg_seq - b->seq0;
	struct ack_tlvs t = { NULL, -1 };

	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*e)) || idx >= b->nmsg)
		return;
	if (b->msg[idx].ack)
		b->nacked++;
	if (e->error >= 0)
		return;
	/* Keep the error of the earliest message: later ones are often
	 * consequences of it. */
	if (b->error && idx >= b->err_seq - b->seq0)
		return;
	parse_ack_tlvs(nlh, e, &t);
	b->error = e->error;
	b->err_seq = nlh->nlmsg_seq;
	b->err_offs = t.offs;
	snprintf(b->kmsg, sizeof(b->kmsg), "%s", t.msg ? t.msg : "");
}

void nft_batch_feed(struct nft_batch *b, const void *buf, size_t len)
{
	const struct nlmsghdr *nlh = buf;
	int rem = len > INT32_MAX ? INT32_MAX : (int)len;

	while (mnl_nlmsg_ok(nlh, rem)) {
		if (nlh->nlmsg_type == NLMSG_ERROR)
			feed_error_msg(b, nlh);
		nlh = mnl_nlmsg_next(nlh, &rem);
	}
}

bool nft_batch_complete(const struct nft_batch *b)
{
	return b->nacked >= b->nexpect;
}

/* Position, among the elements of message ref, of the element attribute
 * that contains byte offs of the message; -1 if none. */
static long elem_at(const struct nft_batch *b, const struct nft_msgref *ref, int32_t offs)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)(b->buf + ref->off);
	struct nlattr *top, *el;
	long k = 0;

	if (offs < 0)
		return -1;
	mnl_attr_for_each(top, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(top) != NFTA_SET_ELEM_LIST_ELEMENTS)
			continue;
		mnl_attr_for_each_nested(el, top) {
			long start = (char *)el - (char *)nlh;

			if (offs >= start && offs < start + el->nla_len)
				return k;
			k++;
		}
	}
	return -1;
}

/* The k-th element of message ref, or NULL. */
static const struct icpt_elem *elem_nth(const struct nft_batch *b, const struct nft_msgref *ref,
					long k)
{
	if (k < 0 || (size_t)k >= ref->count || ref->first + (size_t)k >= b->nsel)
		return NULL;
	return b->sel[ref->first + (size_t)k];
}

static const char *errno_hint(const struct nft_msgref *ref, int error)
{
	switch (ref->kind) {
	case NFT_K_ELEMS:
		/* Recent kernels report a partial overlap as EEXIST too; an
		 * exact duplicate is accepted (no NLM_F_EXCL). A set created
		 * in the batch holds only the batch's elements; a delta is
		 * computed against what decoyproxy installed, with removals
		 * first, from normalised lists: the element it clashes with
		 * was put there by someone else. */
		if ((error == -ENOTEMPTY || error == -EEXIST) && ref->fresh)
			return "overlaps another element added to the new set in the same batch "
			       "(the decoy list was not normalised)";
		if (error == -ENOTEMPTY || error == -EEXIST)
			return "overlaps an element that is in the kernel's set but was not installed "
			       "by decoyproxy (added by hand, e.g. with 'nft add element'?)";
		if (error == -ENOSPC)
			return "the set is full";
		break;
	case NFT_K_RULE:
		if (error == -ENOENT || error == -EOPNOTSUPP)
			return "missing kernel support? (nft_tproxy, nft_socket, nf_tproxy_ipv4/6)";
		break;
	case NFT_K_SET:
		if (error == -EOPNOTSUPP || error == -EINVAL)
			return "concatenated interval sets need Linux >= 5.6";
		break;
	case NFT_K_ELEMS_DEL:
		if (error == -ENOENT)
			return "not in the kernel's set: it differs from the previous plan";
		break;
	}
	if (error == -EPERM)
		return "needs CAP_NET_ADMIN in the target namespace";
	return NULL;
}

int nft_batch_result(const struct nft_batch *b, char **err)
{
	const struct nft_msgref *ref;
	const char *hint;
	char what[ICPT_ELEM_STRLEN + NFT_SET_NAME_MAX + 1024], kpart[160] = "";
	uint32_t idx;

	if (!b->error) {
		if (nft_batch_complete(b))
			return 0;
		memprintf(err, "nft: the kernel answered %zu of %zu messages", b->nacked,
			  b->nexpect);
		return -ETIMEDOUT;
	}
	idx = b->err_seq - b->seq0;
	if (b->kmsg[0])
		snprintf(kpart, sizeof(kpart), "; kernel says: %s", b->kmsg);
	if (idx >= b->nmsg) {
		memprintf(err, "nftables refused the batch: %s%s", strerror(-b->error), kpart);
		return b->error;
	}
	ref = &b->msg[idx];
	snprintf(what, sizeof(what), "%s", ref->kind == NFT_K_BEGIN || ref->kind == NFT_K_END ?
		 "the batch" : ref->what);
	if (ref->kind == NFT_K_ELEMS || ref->kind == NFT_K_ELEMS_DEL) {
		const struct icpt_elem *e = elem_nth(b, ref, elem_at(b, ref, b->err_offs));
		const struct icpt_list *l = ref->list;
		const char *set = ref->set ? ref->set : "?";
		const char *verb = ref->kind == NFT_K_ELEMS ? "" : "the removal of ";
		char es[ICPT_ELEM_STRLEN];

		if (e && l && e->src != UINT32_MAX && e->src < l->srclen)
			snprintf(what, sizeof(what), "%selement %s (from %s) of set %s", verb,
				 icpt_elem_str(e, es, sizeof(es)), l->srcbuf + e->src, set);
		else if (e)
			snprintf(what, sizeof(what), "%selement %s of set %s", verb,
				 icpt_elem_str(e, es, sizeof(es)), set);
	}
	hint = errno_hint(ref, b->error);
	if (hint)
		memprintf(err, "nftables refused %s: %s (%s)%s", what, hint, strerror(-b->error),
			  kpart);
	else
		memprintf(err, "nftables refused %s: %s%s", what, strerror(-b->error), kpart);
	return b->error;
}

/* ---- sending ---- */

/* Sizes the socket for this batch: the whole batch goes in one sendmsg()
 * (the kernel only applies a batch that arrives in one piece), and every
 * message's ACK must fit in the receive queue. The FORCE variants need
 * CAP_NET_ADMIN, which changing nftables needs anyway; the plain ones are
 * a fallback bounded by net.core.[rw]mem_max. */
static int sock_setup(int fd, const struct nft_batch *b, char **err)
{
	size_t snd = b->len + 65536, rcv = b->nmsg * 2048 + 262144;
	int one = 1, v;

	if (snd > INT32_MAX / 2 || rcv > INT32_MAX / 2) {
		memprintf(err, "nft: batch of %zu bytes is too large for one netlink message",
			  b->len);
		return -E2BIG;
	}
	v = (int)snd;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
	v = (int)rcv;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	/* Optional: without them errors are still reported, only less
	 * precisely (no bad-attribute offset) and with longer echoes. */
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	return 0;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Reads answers until every ack'ed message is answered (or, after an
 * error, until the queue is empty), then drains what is left: the kernel
 * processes the batch inside sendmsg(), so everything is queued already
 * and waiting only guards against the unexpected. */
static int collect(int fd, struct nft_batch *b, char **err)
{
	size_t cap = 128 * 1024;
	char *buf = malloc(cap);
	struct timespec t0;
	/* a batch without ack'ed messages is answered with nothing at all */
	bool draining = nft_batch_complete(b);
	int ret = 0, spins = 0;

	if (!buf)
		return -ENOMEM;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (spins++ < 1000000) {
		ssize_t n = recv(fd, buf, cap, MSG_DONTWAIT);

		if (n > 0) {
			nft_batch_feed(b, buf, (size_t)n);
			if (nft_batch_complete(b))
				draining = true;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };
			long left = NFT_REPLY_TIMEOUT_MS - ms_since(&t0);

			if (draining || b->error)
				break;
			if (left <= 0 || poll(&pfd, 1, (int)left) == 0) {
				ret = -ETIMEDOUT;
				memprintf(err, "nft: no answer from the kernel within %d ms "
					  "(%zu of %zu messages answered)", NFT_REPLY_TIMEOUT_MS,
					  b->nacked, b->nexpect);
				break;
			}
			continue;
		}
		ret = n < 0 ? -errno : -EPIPE;
		memprintf(err, "nft: reading the kernel's answers: %s%s", strerror(-ret),
			  ret == -ENOBUFS ? " (receive buffer overflow: answers lost)" : "");
		break;
	}
	free(buf);
	return ret;
}

int nft_batch_send(int nlfd, struct nft_batch *b, char **err)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	int fd = nlfd, ret;
	ssize_t n;

	if (fd < 0) {
		fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
		if (fd < 0) {
			ret = -errno;
			memprintf(err, "nft: cannot open a netfilter netlink socket: %s",
				  strerror(errno));
			return ret;
		}
	}
	b->nacked = 0;
	b->error = 0;
	b->err_offs = -1;
	b->kmsg[0] = '\0';
	/* Nothing between BEGIN and END (a delta without difference): the
	 * kernel would change nothing and answer nothing. */
	if (!b->nexpect) {
		ret = 0;
		goto out;
	}
	ret = sock_setup(fd, b, err);
	if (ret)
		goto out;
	do {
		n = sendto(fd, b->buf, b->len, 0, (struct sockaddr *)&kernel, sizeof(kernel));
	} while (n < 0 && errno == EINTR);
	if (n < 0 || (size_t)n != b->len) {
		ret = n < 0 ? -errno : -EMSGSIZE;
		memprintf(err, "nft: sending a batch of %zu bytes: %s%s", b->len, strerror(-ret),
			  ret == -EMSGSIZE ? " (send buffer too small: CAP_NET_ADMIN lets "
			  "SO_SNDBUFFORCE raise it)" : "");
		goto out;
	}
	ret = collect(fd, b, err);
	if (!ret)
		ret = nft_batch_result(b, err);
out:
	if (nlfd < 0)
		close(fd);
	return ret;
}

/* ---- one-call forms ---- */

/* Sequence numbers only have to be distinct between the batches sent on
 * one socket; starting from the clock makes stale answers of an earlier
 * run easy to tell apart (the nft tool does the same). */
static uint32_t seq_next;

static uint32_t seq_base(void)
{
	if (!seq_next)
		seq_next = (uint32_t)time(NULL);
	return seq_next;
}

typedef int (*build_fn)(struct nft_batch *b, const struct nft_plan *p, uint32_t seq,
			char **err);

static int build_and_send(int nlfd, const struct nft_plan *p, build_fn build, char **err)
{
	struct nft_batch b;
	int ret;

	nft_batch_init(&b);
	ret = build(&b, p, seq_base(), err);
	if (!ret) {
		seq_next += (uint32_t)b.nmsg;
		ret = nft_batch_send(nlfd, &b, err);
	}
	nft_batch_free(&b);
	return ret;
}

int nft_apply(int nlfd, const struct nft_plan *p, char **err)
{
	return build_and_send(nlfd, p, nft_build_apply, err);
}

/* Whether a delta is worth sending: only when it removes nothing.
 * Measured on Linux 6.18 with a concatenated interval set (pipapo):
 * adding 50 elements to a set of 100,000 takes 1-12 ms, but each removed
 * element costs 10-35 ms whatever the set size (100 removals: 1.3 s at
 * 10,000 elements, 1.8 s at 100,000), and flushing 100,000 takes 45 s,
 * while deleting and recreating the whole table with 100,000 elements
 * takes 0.3 s. */
static bool subset_of(const struct icpt_list *old, const struct icpt_list *now, int family)
{
	size_t i, j = 0;

	for (i = 0; i < old->n; i++) {
		if (old->v[i].family != family)
			continue;
		while (j < now->n && elem_cmp(&now->v[j], &old->v[i]) < 0)
			j++;
		if (j >= now->n || elem_cmp(&now->v[j], &old->v[i]))
			return false;
	}
	return true;
}

static bool delta_is_cheap(const struct nft_plan *p, const struct nft_plan *old)
{
	for (size_t i = 0; i < p->ndiv; i++) {
		const struct icpt_list *now = div_list(&p->div[i]), *was = div_list(&old->div[i]);

		if (now != was && !subset_of(was, now, p->div[i].family))
			return false;
	}
	return true;
}

int nft_replace_elements(int nlfd, const struct nft_plan *p, const struct nft_plan *old,
			 char **err)
{
	struct nft_batch b;
	int ret;

	if (!old || !nft_plan_same_rules(p, old) || !lists_normalised(p) ||
	    !lists_normalised(old) || !delta_is_cheap(p, old))
		return nft_apply(nlfd, p, err);
	nft_batch_init(&b);
	ret = nft_build_delta(&b, p, old, seq_base(), err);
	if (!ret) {
		seq_next += (uint32_t)b.nmsg;
		ret = nft_batch_send(nlfd, &b, err);
	}
	nft_batch_free(&b);
	/* The kernel's sets were not what `old` says (or the table is gone):
	 * rebuild the table, which does not depend on what is there. A bad
	 * new element fails again there and is reported by that attempt. */
	if (ret) {
		free(*err);
		*err = NULL;
		ret = nft_apply(nlfd, p, err);
	}
	return ret;
}

static int build_remove(struct nft_batch *b, const struct nft_plan *p, uint32_t seq,
			char **err)
{
	(void)p;
	return nft_build_remove(b, seq, err);
}

int nft_remove(int nlfd, char **err)
{
	return build_and_send(nlfd, NULL, build_remove, err);
}
