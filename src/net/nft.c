/* nft.c — nftables TPROXY plumbing, part 1 of 3: the batch buffer, message
 * framing and the object builders (table, chain, sets, elements, rules).
 * What a batch holds is decided in nft_plan.c; replies and sending are in
 * nft_io.c; nft_int.h is what the parts share (see nft.h for the API).
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
#include <net/if_arp.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
#include <libnftnl/udata.h>

#include "net/nft.h"
#include "net/nft_int.h"

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

void nft_batch_reset(struct nft_batch *b, uint32_t seq)
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
struct nlmsghdr *nft_msg_start(struct nft_batch *b, uint16_t type, uint16_t flags,
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

void nft_msg_end(struct nft_batch *b, const struct nlmsghdr *nlh)
{
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
}

int nft_add_bare(struct nft_batch *b, uint16_t type, enum nft_msg_kind kind)
{
	struct nlmsghdr *nlh = nft_msg_start(b, type, 0, kind, NULL);

	if (!nlh)
		return -ENOMEM;
	nft_msg_end(b, nlh);
	return 0;
}

/* ---- table and chain ---- */

int nft_add_table(struct nft_batch *b, uint16_t type, const char *comment)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nftnl_udata_buf *ud = NULL;
	struct nft_msgref *ref;
	struct nlmsghdr *nlh;
	int ret = -ENOMEM;

	if (!t || nftnl_table_set_str(t, NFTNL_TABLE_NAME, NFT_TABLE_NAME) < 0)
		goto out;
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	/* the TLV layout of nft's own `comment`, so that `nft list` shows it */
	if (comment && type == NFT_MSG_NEWTABLE) {
		ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
		if (!ud || !nftnl_udata_put_strz(ud, NFTNL_UDATA_TABLE_COMMENT, comment) ||
		    nftnl_table_set_data(t, NFTNL_TABLE_USERDATA, nftnl_udata_buf_data(ud),
					 nftnl_udata_buf_len(ud)) < 0)
			goto out;
	}
	nlh = nft_msg_start(b, type, type == NFT_MSG_NEWTABLE ? NLM_F_CREATE : 0,
			type == NFT_MSG_NEWTABLE ? NFT_K_TABLE : NFT_K_TABLE_DEL, &ref);
	if (!nlh)
		goto out;
	nftnl_table_nlmsg_build_payload(nlh, t);
	nft_msg_end(b, nlh);
	snprintf(ref->what, sizeof(ref->what), "table inet %s", NFT_TABLE_NAME);
	ret = 0;
out:
	nftnl_udata_buf_free(ud);
	nftnl_table_free(t);
	return ret;
}

int nft_add_chain(struct nft_batch *b)
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
	nlh = nft_msg_start(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE, NFT_K_CHAIN, &ref);
	if (!nlh)
		goto out;
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nft_msg_end(b, nlh);
	snprintf(ref->what, sizeof(ref->what), "chain %s (type filter hook prerouting priority %d)",
		 NFT_CHAIN_NAME, NFT_CHAIN_PRIO);
	ret = 0;
out:
	nftnl_chain_free(c);
	return ret;
}

/* ---- sets ---- */

int nft_add_set(struct nft_batch *b, const struct nft_divert *d, uint32_t id)
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
	nlh = nft_msg_start(b, NFT_MSG_NEWSET, NLM_F_CREATE, NFT_K_SET, &ref);
	if (!nlh)
		goto out;
	nftnl_set_nlmsg_build_payload(nlh, s);
	nft_msg_end(b, nlh);
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

int nft_sel_push(struct nft_batch *b, const struct icpt_elem *e)
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

	nlh = nft_msg_start(b, type, type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0,
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
	nft_msg_end(b, nlh);
	snprintf(ref->what, sizeof(ref->what), "%s of %u elements %s set %s",
		 type == NFT_MSG_NEWSETELEM ? "addition" : "removal", ref->count,
		 type == NFT_MSG_NEWSETELEM ? "to" : "from", d->set);
	/* An element always fits in an empty message; guard anyway so that a
	 * future key layout change cannot loop forever. */
	return ref->count ? 0 : -EMSGSIZE;
}

/* Messages for b->sel[from .. b->nsel), split by size. */
int nft_add_elem_msgs(struct nft_batch *b, uint16_t type, const struct nft_divert *d,
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
int nft_add_elems(struct nft_batch *b, const struct nft_divert *d, uint32_t id)
{
	const struct icpt_list *l = d->decoys;
	size_t i, from = b->nsel;
	int ret;

	for (i = 0; l && i < l->n; i++) {
		if (l->v[i].family != d->family)
			continue;
		ret = nft_sel_push(b, &l->v[i]);
		if (ret)
			return ret;
	}
	return nft_add_elem_msgs(b, NFT_MSG_NEWSETELEM, d, l, id, from);
}

/* ---- rules ---- */

static struct nftnl_expr *xop_expr(const struct xop *x)
{
	static const char *const names[] = {
		[X_META_LOAD] = "meta", [X_CMP_EQ] = "cmp", [X_CMP_NEQ] = "cmp", [X_PAYLOAD] = "payload",
		[X_LOOKUP] = "lookup", [X_IMM] = "immediate", [X_VERDICT] = "immediate",
		[X_TPROXY] = "tproxy", [X_META_SET] = "meta", [X_SOCKET] = "socket",
		[X_BITWISE] = "bitwise", [X_LIMIT] = "limit", [X_LOG] = "log", [X_REJECT] = "reject",
		[X_FIB] = "fib",
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
	case X_CMP_NEQ:
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, x->a);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, x->op == X_CMP_EQ ? NFT_CMP_EQ : NFT_CMP_NEQ);
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
	case X_BITWISE:         /* a = sreg = dreg, data = mask, len; xor 0 */
	{
		static const uint8_t zero[16];

		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, x->a);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, x->a);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, x->len);
		ret = nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, x->data, x->len);
		if (ret >= 0)
			ret = nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, x->len);
		break;
	}
	case X_LIMIT:           /* a = rate, b = unit (s), c = burst */
		nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_RATE, x->a);
		nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_UNIT, x->b);
		nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_BURST, x->c);
		nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKTS);
		nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_FLAGS, 0);
		break;
	case X_LOG:             /* a = group, b = snaplen, str = prefix */
		nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_GROUP, (uint16_t)x->a);
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOG_SNAPLEN, x->b);
		ret = nftnl_expr_set_str(e, NFTNL_EXPR_LOG_PREFIX, x->str);
		break;
	case X_REJECT:          /* a = type, b = code */
		nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, x->a);
		nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, (uint8_t)x->b);
		break;
	case X_FIB:             /* a = result, b = flags, c = dreg */
		nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, x->a);
		nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, x->b);
		nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, x->c);
		break;
	}
	if (ret < 0) {
		nftnl_expr_free(e);
		return NULL;
	}
	return e;
}

int nft_add_rule(struct nft_batch *b, const struct xop *ops, size_t n, const char *what)
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
	nlh = nft_msg_start(b, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND, NFT_K_RULE, &ref);
	if (!nlh)
		goto out;
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nft_msg_end(b, nlh);
	snprintf(ref->what, sizeof(ref->what), "%s", what);
	ret = 0;
out:
	nftnl_rule_free(r);
	return ret;
}

uint32_t nft_plan_mark(const struct nft_plan *p)
{
	return p->mark ? p->mark : NFT_MARK_DEFAULT;
}

/* meta l4proto tcp <ip|ip6> daddr . tcp dport @<set>
 *	tproxy <ip|ip6> to <addr>:<port> meta mark set <mark> accept
 * for divert d, whose set this batch creates with ID id. */
int nft_add_tproxy_rule(struct nft_batch *b, const struct nft_plan *p,
			const struct nft_divert *d, uint32_t id, int pos)
{
	int family = d->family;
	bool v6 = family == AF_INET6;
	const struct sockaddr_in *s4 = (const void *)&d->listen;
	const struct sockaddr_in6 *s6 = (const void *)&d->listen;
	const void *addr = v6 ? (const void *)&s6->sin6_addr : (const void *)&s4->sin_addr;
	uint16_t port = v6 ? s6->sin6_port : s4->sin_port;      /* network order */
	bool any = v6 ? IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr) : s4->sin_addr.s_addr == 0;
	const uint8_t l4 = d->proto == IPPROTO_UDP ? IPPROTO_UDP : IPPROTO_TCP;
	const uint8_t nfp = v6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
	const char *l4s = l4 == IPPROTO_UDP ? "udp" : "tcp";
	const uint16_t lo_type = ARPHRD_LOOPBACK;       /* dev->type: host order */
	const uint32_t mark = nft_plan_mark(p);
	char astr[INET6_ADDRSTRLEN] = "", what[sizeof(((struct nft_msgref *)0)->what)];
	struct xop ops[16];
	size_t n = 0;

	/* Never a packet that came in on the loopback interface: those are
	 * this namespace's own, sent by a local socket to a local address
	 * (decoyproxy's connections to its servers and its health checks
	 * among them). Diverting them sends the proxy's own connections back
	 * into its listener, a loop (see nft.h). */
	ops[n++] = (struct xop){ .op = X_META_LOAD, .a = NFT_META_IIFTYPE, .b = NFT_REG_1 };
	ops[n++] = (struct xop){ .op = X_CMP_NEQ, .a = NFT_REG_1, .data = &lo_type, .len = 2 };
	ops[n++] = (struct xop){ .op = X_META_LOAD, .a = NFT_META_L4PROTO, .b = NFT_REG_1 };
	ops[n++] = (struct xop){ .op = X_CMP_EQ, .a = NFT_REG_1, .data = &l4, .len = 1 };
	ops[n++] = (struct xop){ .op = X_META_LOAD, .a = NFT_META_NFPROTO, .b = NFT_REG_1 };
	ops[n++] = (struct xop){ .op = X_CMP_EQ, .a = NFT_REG_1, .data = &nfp, .len = 1 };
	/* daddr . dport: the port goes to the 32-bit register right after
	 * the address (REG32_01 after 4 bytes, REG_2 = REG32_04 after 16).
	 * The destination port sits at the same offset in TCP and UDP. */
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
	snprintf(what, sizeof(what), "rule %d of chain %s (meta iiftype != loopback meta l4proto %s "
		 "%s daddr . %s dport @%s tproxy %s to %s%s%s:%u meta mark set 0x%x accept)", pos, NFT_CHAIN_NAME,
		 l4s, v6 ? "ip6" : "ip", l4s, d->set, v6 ? "ip6" : "ip",
		 v6 && !any ? "[" : "", astr, v6 && !any ? "]" : "", ntohs(port), mark);
	return nft_add_rule(b, ops, n, what);
}

static int add_socket_rule(struct nft_batch *b, const struct nft_plan *p, int pos, uint8_t l4)
{
	const uint8_t one = 1;
	const uint32_t mark = nft_plan_mark(p);
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

	snprintf(what, sizeof(what), "rule %d of chain %s (meta l4proto %s socket transparent 1 "
		 "meta mark set 0x%x accept)", pos, NFT_CHAIN_NAME, l4 == IPPROTO_UDP ? "udp" : "tcp", mark);
	return nft_add_rule(b, ops, ARRAY_SIZE(ops), what);
}

/* meta l4proto tcp socket transparent 1 meta mark set <mark> accept */
int nft_add_socket_rule(struct nft_batch *b, const struct nft_plan *p, int pos)
{
	return add_socket_rule(b, p, pos, IPPROTO_TCP);
}

/* meta l4proto udp socket transparent 1 meta mark set <mark> accept */
int nft_add_socket_rule_udp(struct nft_batch *b, const struct nft_plan *p, int pos)
{
	return add_socket_rule(b, p, pos, IPPROTO_UDP);
}
