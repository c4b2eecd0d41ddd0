/* test_nft.c — nftables batches, built and checked without a kernel.
 *
 * The batch is parsed back with libnftnl (an independent decoder) and with
 * plain libmnl attribute walks; rule expressions are compared with the
 * exact listing `nft --debug=netlink add rule ...` prints for the same rule
 * on nftables 1.0.6.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#include "lib/intercept.h"
#include "net/nft.h"

#define SEQ0 1000u
#define T(x) ((NFNL_SUBSYS_NFTABLES << 8) | (x))

/* ---- helpers ---- */

/* Generous time bound, far more so under valgrind (its preload library
 * shows in LD_PRELOAD). */
static double time_bound_ms(double ms)
{
	const char *pre = getenv("LD_PRELOAD");

	return pre && strstr(pre, "valgrind") ? ms * 50 : ms;
}

/* A divert of family fam (deduced from addr) to addr:port with set name set. */
static void div_init(struct nft_divert *d, const char *set, const char *addr, int port,
		     const struct icpt_list *l)
{
	memset(d, 0, sizeof(*d));
	d->set = set;
	d->decoys = l;
	if (strchr(addr, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&d->listen;

		d->family = AF_INET6;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		assert_int_equal(inet_pton(AF_INET6, addr, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&d->listen;

		d->family = AF_INET;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		assert_int_equal(inet_pton(AF_INET, addr, &s4->sin_addr), 1);
	}
}

/* The usual test plan: frontend f with an IPv4 and (a6 not NULL) an IPv6
 * divert, both fed from list l. */
static void plan_f(struct nft_plan *p, struct nft_divert *d, const char *a4, const char *a6,
		   int port, const struct icpt_list *l)
{
	memset(p, 0, sizeof(*p));
	p->div = d;
	if (a4)
		div_init(&d[p->ndiv++], "decoys4_f", a4, port, l);
	if (a6)
		div_init(&d[p->ndiv++], "decoys6_f", a6, port, l);
}

static void add_specs(struct icpt_list *l, const char *const *specs)
{
	char *err = NULL;

	for (; *specs; specs++)
		if (icpt_parse_spec(l, *specs, "t.cfg:1", &err))
			fail_msg("%s", err);
}

static struct nlmsghdr *msg(const struct nft_batch *b, size_t i)
{
	assert_true(i < b->nmsg);
	return (struct nlmsghdr *)(b->buf + b->msg[i].off);
}

/* Message types of the whole batch, checking framing on the way: the
 * messages tile the buffer, sequence numbers follow each other, every
 * nf_tables message asks for an ACK and is for family inet. */
static size_t batch_types(const struct nft_batch *b, uint16_t *types, size_t cap)
{
	const struct nlmsghdr *nlh = (const void *)b->buf;
	int rem = (int)b->len;
	size_t n = 0;

	while (mnl_nlmsg_ok(nlh, rem)) {
		const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);

		assert_true(n < cap);
		assert_int_equal(nlh->nlmsg_seq, SEQ0 + n);
		assert_int_equal((const char *)nlh - b->buf, b->msg[n].off);
		if (nlh->nlmsg_type == NFNL_MSG_BATCH_BEGIN || nlh->nlmsg_type == NFNL_MSG_BATCH_END) {
			assert_int_equal(ntohs(g->res_id), NFNL_SUBSYS_NFTABLES);
			assert_false(nlh->nlmsg_flags & NLM_F_ACK);
		} else {
			assert_true(nlh->nlmsg_flags & NLM_F_ACK);
			assert_int_equal(g->nfgen_family, NFPROTO_INET);
		}
		types[n++] = nlh->nlmsg_type;
		nlh = mnl_nlmsg_next(nlh, &rem);
	}
	assert_int_equal(rem, 0);
	assert_int_equal(n, b->nmsg);
	return n;
}

/* "[ meta load l4proto => reg 1 ]" lines, as nft --debug=netlink shows. */
struct exprs {
	char line[16][128];
	int n;
};

static int expr_cb(struct nftnl_expr *e, void *data)
{
	struct exprs *x = data;
	char buf[112];
	size_t len;

	assert_true(x->n < 16);
	nftnl_expr_snprintf(buf, sizeof(buf), e, NFTNL_OUTPUT_DEFAULT, 0);
	len = strlen(buf);
	while (len && buf[len - 1] == ' ')
		buf[--len] = '\0';
	snprintf(x->line[x->n++], sizeof(x->line[0]), "[ %s %s ]",
		 nftnl_expr_get_str(e, NFTNL_EXPR_NAME), buf);
	return 0;
}

static void rule_exprs(const struct nlmsghdr *nlh, struct exprs *x)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	assert_non_null(r);
	assert_int_equal(nftnl_rule_nlmsg_parse(nlh, r), 0);
	assert_string_equal(nftnl_rule_get_str(r, NFTNL_RULE_TABLE), NFT_TABLE_NAME);
	assert_string_equal(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN), NFT_CHAIN_NAME);
	memset(x, 0, sizeof(*x));
	nftnl_expr_foreach(r, expr_cb, x);
	nftnl_rule_free(r);
}

static void expect_exprs(const struct exprs *x, const char *const *want)
{
	int i;

	for (i = 0; want[i]; i++) {
		assert_true(i < x->n);
		if (strcmp(x->line[i], want[i]))
			fail_msg("expression %d:\n got  %s\n want %s", i, x->line[i], want[i]);
	}
	assert_int_equal(i, x->n);
}

/* The nested element attributes of a NEWSETELEM/DELSETELEM message. */
static struct nlattr *elem_list(const struct nlmsghdr *nlh)
{
	struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
		if (mnl_attr_get_type(a) == NFTA_SET_ELEM_LIST_ELEMENTS)
			return a;
	return NULL;
}

static bool has_attr(const struct nlmsghdr *nlh, uint16_t type)
{
	struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
		if (mnl_attr_get_type(a) == type)
			return true;
	return false;
}

static size_t put_answer(char *buf, uint32_t seq, int error, int32_t offs, const char *kmsg);
static int32_t elem_offset(const struct nlmsghdr *nlh, int k);

/* ---- tests ---- */

static const char *const rule4_want[] = {
	"[ meta load iiftype => reg 1 ]",
	"[ cmp neq reg 1 0x00000304 ]",
	"[ meta load l4proto => reg 1 ]",
	"[ cmp eq reg 1 0x00000006 ]",
	"[ meta load nfproto => reg 1 ]",
	"[ cmp eq reg 1 0x00000002 ]",
	"[ payload load 4b @ network header + 16 => reg 1 ]",
	"[ payload load 2b @ transport header + 2 => reg 9 ]",
	"[ lookup reg 1 set decoys4_f ]",
	"[ immediate reg 1 0x0100007f ]",
	"[ immediate reg 2 0x0000993a ]",
	"[ tproxy ip addr reg 1 port reg 2 ]",
	"[ immediate reg 1 0x00000001 ]",
	"[ meta set mark with reg 1 ]",
	"[ immediate reg 0 accept ]",
	NULL
};

static const char *const rule6_want[] = {
	"[ meta load iiftype => reg 1 ]",
	"[ cmp neq reg 1 0x00000304 ]",
	"[ meta load l4proto => reg 1 ]",
	"[ cmp eq reg 1 0x00000006 ]",
	"[ meta load nfproto => reg 1 ]",
	"[ cmp eq reg 1 0x0000000a ]",
	"[ payload load 16b @ network header + 24 => reg 1 ]",
	"[ payload load 2b @ transport header + 2 => reg 2 ]",
	"[ lookup reg 1 set decoys6_f ]",
	"[ immediate reg 1 0x00000000 0x00000000 0x00000000 0x01000000 ]",
	"[ immediate reg 2 0x0000993a ]",
	"[ tproxy ip6 addr reg 1 port reg 2 ]",
	"[ immediate reg 1 0x00000001 ]",
	"[ meta set mark with reg 1 ]",
	"[ immediate reg 0 accept ]",
	NULL
};

static const char *const sock_want[] = {
	"[ meta load l4proto => reg 1 ]",
	"[ cmp eq reg 1 0x00000006 ]",
	"[ socket load transparent => reg 1 ]",
	"[ cmp eq reg 1 0x00000001 ]",
	"[ immediate reg 1 0x00000001 ]",
	"[ meta set mark with reg 1 ]",
	"[ immediate reg 0 accept ]",
	NULL
};

static void test_apply_layout_and_rules(void **state)
{
	static const char *const specs[] = { "10.0.0.0/24:22-80", "10.1.0.5:443",
					     "[fd09::]/64:22", NULL };
	static const uint16_t want[] = {
		NFNL_MSG_BATCH_BEGIN, T(NFT_MSG_NEWTABLE), T(NFT_MSG_DELTABLE),
		T(NFT_MSG_NEWTABLE), T(NFT_MSG_NEWSET), T(NFT_MSG_NEWSET), T(NFT_MSG_NEWCHAIN),
		T(NFT_MSG_NEWRULE), T(NFT_MSG_NEWRULE), T(NFT_MSG_NEWRULE),
		T(NFT_MSG_NEWSETELEM), T(NFT_MSG_NEWSETELEM), NFNL_MSG_BATCH_END,
	};
	struct icpt_list l;
	struct nft_plan p;
	struct nft_divert d[2];
	struct nft_batch b;
	struct exprs x;
	uint16_t types[32];
	char *err = NULL;
	size_t n;

	(void)state;
	icpt_list_init(&l);
	add_specs(&l, specs);
	assert_true(icpt_normalise(&l, NULL, NULL) >= 0);
	plan_f(&p, d, "127.0.0.1", "::1", 15001, &l);
	nft_batch_init(&b);
	assert_int_equal(nft_build_apply(&b, &p, SEQ0, &err), 0);
	assert_null(err);
	n = batch_types(&b, types, ARRAY_SIZE(types));
	assert_int_equal(n, ARRAY_SIZE(want));
	assert_memory_equal(types, want, sizeof(want));
	assert_int_equal(b.nexpect, n - 2);

	/* creation messages must not carry NLM_F_EXCL (idempotent apply) */
	assert_int_equal(msg(&b, 1)->nlmsg_flags & NLM_F_EXCL, 0);
	assert_true(msg(&b, 1)->nlmsg_flags & NLM_F_CREATE);

	/* the tproxy rules come first, the socket rule last */
	rule_exprs(msg(&b, 7), &x);
	expect_exprs(&x, rule4_want);
	rule_exprs(msg(&b, 8), &x);
	expect_exprs(&x, rule6_want);
	rule_exprs(msg(&b, 9), &x);
	expect_exprs(&x, sock_want);
	assert_true(msg(&b, 9)->nlmsg_flags & NLM_F_APPEND);
	assert_string_equal(b.msg[7].what, "rule 1 of chain prerouting (meta iiftype != loopback "
			    "meta l4proto tcp ip daddr . tcp dport @decoys4_f tproxy ip to "
			    "127.0.0.1:15001 meta mark set 0x1 accept)");
	assert_string_equal(b.msg[8].what, "rule 2 of chain prerouting (meta iiftype != loopback "
			    "meta l4proto tcp ip6 daddr . tcp dport @decoys6_f tproxy ip6 to "
			    "[::1]:15001 meta mark set 0x1 accept)");
	/* each divert's set gets the elements of its family of the list */
	assert_int_equal(b.msg[10].count, 2);
	assert_string_equal(b.msg[10].set, "decoys4_f");
	assert_true(b.msg[10].fresh);
	assert_int_equal(b.msg[11].count, 1);
	assert_string_equal(b.msg[11].set, "decoys6_f");
	nft_batch_free(&b);
	icpt_list_free(&l);
}

/* Walks NFTA_SET_DESC / NFTA_SET_DESC_CONCAT for the field lengths. */
static int concat_fields(const struct nlmsghdr *nlh, uint32_t *len, int cap)
{
	struct nlattr *a, *c, *f, *fl;
	int n = 0;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(a) != NFTA_SET_DESC)
			continue;
		mnl_attr_for_each_nested(c, a) {
			if (mnl_attr_get_type(c) != NFTA_SET_DESC_CONCAT)
				continue;
			mnl_attr_for_each_nested(f, c)
				mnl_attr_for_each_nested(fl, f)
					if (mnl_attr_get_type(fl) == NFTA_SET_FIELD_LEN && n < cap)
						len[n++] = ntohl(mnl_attr_get_u32(fl));
		}
	}
	return n;
}

static void check_set(const struct nlmsghdr *nlh, const char *name, uint32_t type,
		      uint32_t keylen, uint32_t id, uint32_t alen)
{
	struct nftnl_set *s = nftnl_set_alloc();
	uint32_t fl[4];

	assert_non_null(s);
	assert_int_equal(nftnl_set_nlmsg_parse(nlh, s), 0);
	assert_string_equal(nftnl_set_get_str(s, NFTNL_SET_TABLE), NFT_TABLE_NAME);
	assert_string_equal(nftnl_set_get_str(s, NFTNL_SET_NAME), name);
	assert_int_equal(nftnl_set_get_u32(s, NFTNL_SET_FLAGS), NFT_SET_INTERVAL | NFT_SET_CONCAT);
	assert_int_equal(nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE), type);
	assert_int_equal(nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN), keylen);
	assert_int_equal(nftnl_set_get_u32(s, NFTNL_SET_ID), id);
	nftnl_set_free(s);
	assert_int_equal(concat_fields(nlh, fl, 4), 2);
	assert_int_equal(fl[0], alen);
	assert_int_equal(fl[1], 2);
}

static void test_sets_chain_table(void **state)
{
	struct nft_plan p;
	struct nft_divert d[2];
	struct nft_batch b;
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nftnl_table *t = nftnl_table_alloc();
	char *err = NULL;

	(void)state;
	plan_f(&p, d, "127.0.0.1", "::1", 15001, NULL);
	nft_batch_init(&b);
	assert_int_equal(nft_build_apply(&b, &p, SEQ0, &err), 0);
	/* ipv4_addr (7) . inet_service (13) = 7 << 6 | 13 = 461, as nft sends */
	check_set(msg(&b, 4), "decoys4_f", 461, 8, 1, 4);
	check_set(msg(&b, 5), "decoys6_f", 525, 20, 2, 16);

	/* only an IPv4 divert: only its set; the socket rule stays last */
	plan_f(&p, d, "127.0.0.1", NULL, 15001, NULL);
	assert_int_equal(nft_build_apply(&b, &p, SEQ0, &err), 0);
	check_set(msg(&b, 4), "decoys4_f", 461, 8, 1, 4);
	assert_int_equal(nftnl_chain_nlmsg_parse(msg(&b, 5), c), 0);
	assert_string_equal(nftnl_chain_get_str(c, NFTNL_CHAIN_NAME), "prerouting");
	assert_string_equal(nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE), "filter");
	assert_int_equal(nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM), NF_INET_PRE_ROUTING);
	assert_int_equal(nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO), -150);

	assert_int_equal(nftnl_table_nlmsg_parse(msg(&b, 2), t), 0);
	assert_string_equal(nftnl_table_get_str(t, NFTNL_TABLE_NAME), "decoyproxy");
	assert_int_equal(nftnl_table_get_u32(t, NFTNL_TABLE_FAMILY), NFPROTO_INET);

	/* no decoys: no element message */
	assert_int_equal(msg(&b, 6)->nlmsg_type, T(NFT_MSG_NEWRULE));
	assert_int_equal(msg(&b, 7)->nlmsg_type, T(NFT_MSG_NEWRULE));
	assert_int_equal(msg(&b, 8)->nlmsg_type, NFNL_MSG_BATCH_END);
	assert_string_equal(b.msg[7].what, "rule 2 of chain prerouting (meta l4proto tcp socket "
			    "transparent 1 meta mark set 0x1 accept)");
	nftnl_chain_free(c);
	nftnl_table_free(t);
	nft_batch_free(&b);
}

static void test_mark_and_wildcard_listener(void **state)
{
	static const char *const want[] = {
		"[ meta load iiftype => reg 1 ]",
		"[ cmp neq reg 1 0x00000304 ]",
		"[ meta load l4proto => reg 1 ]",
		"[ cmp eq reg 1 0x00000006 ]",
		"[ meta load nfproto => reg 1 ]",
		"[ cmp eq reg 1 0x00000002 ]",
		"[ payload load 4b @ network header + 16 => reg 1 ]",
		"[ payload load 2b @ transport header + 2 => reg 9 ]",
		"[ lookup reg 1 set decoys4_f ]",
		"[ immediate reg 2 0x00005000 ]",
		"[ tproxy ip port reg 2 ]",
		"[ immediate reg 1 0x0000002a ]",
		"[ meta set mark with reg 1 ]",
		"[ immediate reg 0 accept ]",
		NULL
	};
	struct nft_plan p;
	struct nft_divert d[1];
	struct nft_batch b;
	struct exprs x;
	char *err = NULL;

	(void)state;
	plan_f(&p, d, "0.0.0.0", NULL, 80, NULL);
	p.mark = 42;
	nft_batch_init(&b);
	assert_int_equal(nft_build_apply(&b, &p, SEQ0, &err), 0);
	rule_exprs(msg(&b, 6), &x);
	expect_exprs(&x, want);
	assert_string_equal(b.msg[6].what, "rule 1 of chain prerouting (meta iiftype != loopback "
			    "meta l4proto tcp ip daddr . tcp dport @decoys4_f tproxy ip to :80 meta "
			    "mark set 0x2a accept)");
	rule_exprs(msg(&b, 7), &x);
	assert_string_equal(x.line[4], "[ immediate reg 1 0x0000002a ]");
	nft_batch_free(&b);
}

static void test_plan_errors(void **state)
{
	char long_name[NFT_SET_NAME_MAX + 2];
	struct nft_plan p;
	struct nft_divert d[3];
	struct nft_batch b;
	char *err = NULL;

	(void)state;
	nft_batch_init(&b);

	plan_f(&p, d, "127.0.0.1", NULL, 0, NULL);
	assert_int_equal(nft_build_apply(&b, &p, SEQ0, &err), -EINVAL);
	assert_string_equal(err, "nft: set decoys4_f: the IPv4 listener has no port");

	/* an IPv6 listener for an IPv4 set */
	plan_f(&p, d, NULL, "::1", 15001, NULL);
	d[0].family = AF_INET;
	assert_int_equal(nft_build_apply(&b, &p, SEQ0, &err), -EINVAL);
	assert_string_equal(err, "nft: set decoys6_f: the listener address is not an IPv4 address");
	assert_int_equal(nft_build_delta(&b, &p, &p, SEQ0, &err), -EINVAL);
	assert_string_equal(err, "nft: set decoys6_f: the listener address is not an IPv4 address");

	plan_f(&p, d, "127.0.0.1", NULL, 15001, NULL);
	d[0].family = AF_UNIX;
	assert_int_equal(nft_build_apply(&b, &p, SEQ0, &err), -EINVAL);
	assert_string_equal(err, "nft: divert 1: unknown address family 1");

	/* set names: empty, one byte too long, twice the same */
	plan_f(&p, d, "127.0.0.1", NULL, 15001, NULL);
	d[0].set = "";
	assert_int_equal(nft_build_apply(&b, &p, SEQ0, &err), -EINVAL);
	assert_string_equal(err, "nft: divert 1: the set name must have 1 to 255 characters (0)");
	memset(long_name, 'x', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	d[0].set = long_name;
	assert_int_equal(nft_build_apply(&b, &p, SEQ0, &err), -EINVAL);
	assert_string_equal(err, "nft: divert 1: the set name must have 1 to 255 characters (256)");
	long_name[NFT_SET_NAME_MAX] = '\0';
	assert_int_equal(nft_build_apply(&b, &p, SEQ0, &err), 0);
	div_init(&d[1], "decoys4_g", "127.0.0.1", 15002, NULL);
	div_init(&d[2], "decoys4_g", "127.0.0.1", 15003, NULL);
	p.ndiv = 3;
	assert_int_equal(nft_build_apply(&b, &p, SEQ0, &err), -EINVAL);
	assert_string_equal(err, "nft: set decoys4_g is named by two diverts (2 and 3)");

	/* no divert (spoofing servers only): no set, only the socket rule */
	memset(&p, 0, sizeof(p));
	assert_int_equal(nft_build_apply(&b, &p, SEQ0, &err), 0);
	assert_int_equal(b.nmsg, 7);
	assert_int_equal(msg(&b, 4)->nlmsg_type, T(NFT_MSG_NEWCHAIN));
	assert_int_equal(msg(&b, 5)->nlmsg_type, T(NFT_MSG_NEWRULE));
	assert_string_equal(b.msg[5].what, "rule 1 of chain prerouting (meta l4proto tcp socket "
			    "transparent 1 meta mark set 0x1 accept)");
	free(err);
	nft_batch_free(&b);
}

/* ---- several diverts (one per frontend and family) ---- */

struct lookup_seen {
	char set[64];
	uint32_t id;
	uint32_t port;          /* tproxy port, host order, from the immediate before it */
};

static int lookup_cb(struct nftnl_expr *e, void *data)
{
	struct lookup_seen *l = data;
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
	uint32_t len;

	if (!strcmp(name, "lookup")) {
		snprintf(l->set, sizeof(l->set), "%s", nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET));
		l->id = nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_SET_ID);
	} else if (!strcmp(name, "immediate") &&
		   nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_DREG) == NFT_REG_2) {
		const uint16_t *v = nftnl_expr_get(e, NFTNL_EXPR_IMM_DATA, &len);

		l->port = ntohs(*v);
	}
	return 0;
}

static void rule_lookup(const struct nlmsghdr *nlh, struct lookup_seen *l)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	assert_non_null(r);
	assert_int_equal(nftnl_rule_nlmsg_parse(nlh, r), 0);
	memset(l, 0, sizeof(*l));
	nftnl_expr_foreach(r, lookup_cb, l);
	nftnl_rule_free(r);
}

/* Three frontends in one namespace: ssh (IPv4), web (IPv4), pp (IPv4 and
 * IPv6). One set per divert, named as given; every tproxy rule (in plan
 * order, each looking its own set up by name and ID, to its own
 * listener, each skipping the loopback interface first) before the single
 * socket rule; each set filled with its own list's elements of its family. */
static void test_several_diverts(void **state)
{
	static const char *const ssh[] = { "192.0.2.0/25:22", NULL };
	static const char *const web[] = { "192.0.2.128/25:80,443", NULL };
	static const char *const pp[] = { "198.51.100.0/24:25", "[fd09::]/64:25",
					  "[fd0a::1]:587", NULL };
	static const char *const sets[] = { "decoys4_ssh", "decoys4_web", "decoys4_pp",
					    "decoys6_pp" };
	static const int ports[] = { 15001, 15002, 15003, 15004 };
	static const size_t counts[] = { 1, 2, 1, 2 };
	struct icpt_list ls, lw, lp;
	struct nft_plan p = { 0 };
	struct nft_divert d[4];
	struct nft_batch b;
	struct lookup_seen lk;
	struct exprs x;
	char *err = NULL;
	size_t i, rules = 0, sets_seen = 0, elems = 0;
	long socket_at = -1, last_tproxy = -1;

	(void)state;
	icpt_list_init(&ls);
	icpt_list_init(&lw);
	icpt_list_init(&lp);
	add_specs(&ls, ssh);
	add_specs(&lw, web);
	add_specs(&lp, pp);
	assert_true(icpt_normalise(&ls, NULL, NULL) >= 0);
	assert_true(icpt_normalise(&lw, NULL, NULL) >= 0);
	assert_true(icpt_normalise(&lp, NULL, NULL) >= 0);
	div_init(&d[0], sets[0], "127.0.0.1", ports[0], &ls);
	div_init(&d[1], sets[1], "127.0.0.1", ports[1], &lw);
	div_init(&d[2], sets[2], "127.0.0.1", ports[2], &lp);
	div_init(&d[3], sets[3], "::1", ports[3], &lp);
	p.div = d;
	p.ndiv = 4;
	nft_batch_init(&b);
	assert_int_equal(nft_build_apply(&b, &p, SEQ0, &err), 0);
	for (i = 0; i < b.nmsg; i++) {
		const struct nft_msgref *m = &b.msg[i];

		if (m->kind == NFT_K_SET) {
			check_set(msg(&b, i), sets[sets_seen], sets_seen == 3 ? 525 : 461,
				  sets_seen == 3 ? 20 : 8, (uint32_t)sets_seen + 1,
				  sets_seen == 3 ? 16 : 4);
			sets_seen++;
		} else if (m->kind == NFT_K_RULE && strstr(m->what, "tproxy")) {
			assert_true(rules < 4);
			assert_int_equal(socket_at, -1);
			rule_lookup(msg(&b, i), &lk);
			assert_string_equal(lk.set, sets[rules]);
			assert_int_equal(lk.id, rules + 1);
			assert_int_equal(lk.port, ports[rules]);
			assert_non_null(strstr(m->what, sets[rules]));
			/* every tproxy rule, whatever its family, skips the
			 * loopback interface before anything else */
			rule_exprs(msg(&b, i), &x);
			assert_string_equal(x.line[0], "[ meta load iiftype => reg 1 ]");
			assert_string_equal(x.line[1], "[ cmp neq reg 1 0x00000304 ]");
			last_tproxy = (long)i;
			rules++;
		} else if (m->kind == NFT_K_RULE) {
			assert_int_equal(socket_at, -1);
			assert_non_null(strstr(m->what, "socket transparent 1"));
			assert_string_equal(m->what, "rule 5 of chain prerouting (meta l4proto tcp socket "
					    "transparent 1 meta mark set 0x1 accept)");
			/* the socket rule has no interface condition: replies to
			 * spoofing sockets are delivered whatever their way in */
			rule_exprs(msg(&b, i), &x);
			expect_exprs(&x, sock_want);
			socket_at = (long)i;
		} else if (m->kind == NFT_K_ELEMS) {
			struct nftnl_set *s = nftnl_set_alloc();

			/* in plan order, by name and by the ID of its set */
			assert_true(elems < 4);
			assert_string_equal(m->set, sets[elems]);
			assert_int_equal(m->count, counts[elems]);
			assert_int_equal(m->family, elems == 3 ? AF_INET6 : AF_INET);
			assert_int_equal(nftnl_set_elems_nlmsg_parse(msg(&b, i), s), 0);
			assert_string_equal(nftnl_set_get_str(s, NFTNL_SET_NAME), sets[elems]);
			assert_int_equal(nftnl_set_get_u32(s, NFTNL_SET_ID), elems + 1);
			nftnl_set_free(s);
			elems++;
		}
	}
	assert_int_equal(sets_seen, 4);
	assert_int_equal(rules, 4);
	assert_int_equal(elems, 4);
	/* the socket rule right after the last tproxy rule, and last of all */
	assert_int_equal(socket_at, last_tproxy + 1);
	assert_string_equal(b.msg[last_tproxy].what, "rule 4 of chain prerouting (meta iiftype != "
			    "loopback meta l4proto tcp ip6 daddr . tcp dport @decoys6_pp tproxy ip6 to [::1]:15004 meta mark "
			    "set 0x1 accept)");
	nft_batch_free(&b);
	icpt_list_free(&ls);
	icpt_list_free(&lw);
	icpt_list_free(&lp);
}

/* Same rules: the diverts, their order, names, families and listeners,
 * and the mark; the lists may differ. */
static void test_same_rules(void **state)
{
	struct icpt_list a, b2;
	struct nft_divert x[2], y[2];
	struct nft_plan p = { .div = x, .ndiv = 2 }, q = { .div = y, .ndiv = 2 };

	(void)state;
	icpt_list_init(&a);
	icpt_list_init(&b2);
	div_init(&x[0], "decoys4_a", "127.0.0.1", 15001, &a);
	div_init(&x[1], "decoys4_b", "127.0.0.1", 15002, &a);
	memcpy(y, x, sizeof(x));
	y[1].decoys = &b2;
	assert_true(nft_plan_same_rules(&p, &q));
	q.mark = NFT_MARK_DEFAULT;              /* 0 means the default */
	assert_true(nft_plan_same_rules(&p, &q));
	q.mark = 2;
	assert_false(nft_plan_same_rules(&p, &q));
	q.mark = 0;
	y[1].set = "decoys4_c";                 /* a frontend renamed */
	assert_false(nft_plan_same_rules(&p, &q));
	y[1] = x[1];
	div_init(&y[1], "decoys4_b", "127.0.0.1", 15003, &a);   /* its listener moved */
	assert_false(nft_plan_same_rules(&p, &q));
	y[0] = x[1];                            /* the order changed */
	y[1] = x[0];
	assert_false(nft_plan_same_rules(&p, &q));
	q.ndiv = 1;                             /* a frontend removed */
	assert_false(nft_plan_same_rules(&p, &q));
}

struct elem_walk {
	const struct icpt_list *l;
	size_t next;            /* index in l of the element expected next */
	int family;
};

/* Compares every element of one message with the list, in order. */
static size_t check_elems(const struct nlmsghdr *nlh, struct elem_walk *w)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elems_iter *it;
	struct nftnl_set_elem *e;
	size_t n = 0, alen = w->family == AF_INET6 ? 16 : 4;

	assert_non_null(s);
	assert_int_equal(nftnl_set_elems_nlmsg_parse(nlh, s), 0);
	assert_string_equal(nftnl_set_get_str(s, NFTNL_SET_NAME),
			    w->family == AF_INET6 ? "decoys6_f" : "decoys4_f");
	it = nftnl_set_elems_iter_create(s);
	assert_non_null(it);
	/* _next() returns the current element, then advances */
	while ((e = nftnl_set_elems_iter_next(it))) {
		const struct icpt_elem *want;
		const uint8_t *k, *ke;
		uint32_t klen, kelen;
		uint16_t plo, phi;

		while (w->next < w->l->n && w->l->v[w->next].family != w->family)
			w->next++;
		assert_true(w->next < w->l->n);
		want = &w->l->v[w->next++];
		k = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &klen);
		ke = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY_END, &kelen);
		assert_non_null(k);
		assert_non_null(ke);
		assert_int_equal(klen, alen + 4);
		assert_int_equal(kelen, alen + 4);
		assert_memory_equal(k, &want->lo, alen);
		assert_memory_equal(ke, &want->hi, alen);
		memcpy(&plo, k + alen, 2);
		memcpy(&phi, ke + alen, 2);
		assert_int_equal(ntohs(plo), want->port_lo);
		assert_int_equal(ntohs(phi), want->port_hi);
		assert_int_equal(k[alen + 2] | k[alen + 3], 0);
		n++;
	}
	nftnl_set_elems_iter_destroy(it);
	nftnl_set_free(s);
	return n;
}

static void test_elements_split_100k(void **state)
{
	struct icpt_list l;
	struct nft_plan p;
	struct nft_divert d[2];
	struct nft_batch b;
	struct elem_walk w4, w6;
	char spec[64], *err = NULL;
	size_t i, msgs4 = 0, msgs6 = 0, n4 = 0, n6 = 0;
	struct timespec t0, t1;
	double ms;

	(void)state;
	icpt_list_init(&l);
	for (i = 0; i < 100000; i++) {
		/* every other address: nothing merges */
		snprintf(spec, sizeof(spec), "10.%zu.%zu.%zu:%zu", (i * 2) >> 16, ((i * 2) >> 8) & 0xff,
			 (i * 2) & 0xff, 1 + i % 3);
		assert_int_equal(icpt_parse_spec(&l, spec, NULL, &err), 0);
	}
	for (i = 0; i < 2000; i++) {
		snprintf(spec, sizeof(spec), "[fd09::%zx]:22,80", i * 2);
		assert_int_equal(icpt_parse_spec(&l, spec, NULL, &err), 0);
	}
	assert_int_equal(icpt_normalise(&l, NULL, NULL), 0);
	assert_int_equal(l.n, 104000);
	plan_f(&p, d, "127.0.0.1", "::1", 15001, &l);
	nft_batch_init(&b);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(nft_build_apply(&b, &p, SEQ0, &err), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	print_message("    104,000 elements: batch of %zu bytes, %zu messages, built in %.1f ms\n",
		      b.len, b.nmsg, ms);

	w4 = (struct elem_walk){ &l, 0, AF_INET };
	w6 = (struct elem_walk){ &l, 0, AF_INET6 };
	for (i = 0; i < b.nmsg; i++) {
		const struct nlmsghdr *nlh = msg(&b, i);
		struct nlattr *list;

		if (nlh->nlmsg_type != T(NFT_MSG_NEWSETELEM))
			continue;
		/* within the size bound, and the 16-bit nest length is exact */
		assert_true(nlh->nlmsg_len <= NFT_ELEM_MSG_MAX);
		list = elem_list(nlh);
		assert_non_null(list);
		assert_int_equal((const char *)nlh + nlh->nlmsg_len - (const char *)list,
				 list->nla_len);
		assert_true(has_attr(nlh, NFTA_SET_ELEM_LIST_SET_ID));
		if (b.msg[i].family == AF_INET) {
			size_t k = check_elems(nlh, &w4);

			assert_int_equal(k, b.msg[i].count);
			n4 += k;
			msgs4++;
		} else {
			size_t k = check_elems(nlh, &w6);

			assert_int_equal(k, b.msg[i].count);
			n6 += k;
			msgs6++;
		}
	}
	assert_int_equal(n4, 100000);
	assert_int_equal(n6, 4000);
	assert_true(msgs4 > 1);             /* really split */
	assert_true(msgs6 > 1);
	assert_true(ms < time_bound_ms(500));
	nft_batch_free(&b);
	icpt_list_free(&l);
}

/* The elements of one element message, in spec syntax. */
static int msg_elems(const struct nlmsghdr *nlh, int family, char out[][ICPT_ELEM_STRLEN], int max)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elems_iter *it;
	struct nftnl_set_elem *e;
	size_t alen = family == AF_INET6 ? 16 : 4;
	int n = 0;

	assert_non_null(s);
	assert_int_equal(nftnl_set_elems_nlmsg_parse(nlh, s), 0);
	it = nftnl_set_elems_iter_create(s);
	while ((e = nftnl_set_elems_iter_next(it)) && n < max) {
		struct icpt_elem x = { .family = (uint8_t)family };
		const uint8_t *k, *ke;
		uint32_t klen, kelen;
		uint16_t port;

		k = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &klen);
		ke = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY_END, &kelen);
		assert_int_equal(klen, alen + 4);
		assert_int_equal(kelen, alen + 4);
		memcpy(&x.lo, k, alen);
		memcpy(&x.hi, ke, alen);
		memcpy(&port, k + alen, 2);
		x.port_lo = ntohs(port);
		memcpy(&port, ke + alen, 2);
		x.port_hi = ntohs(port);
		icpt_elem_str(&x, out[n++], ICPT_ELEM_STRLEN);
	}
	nftnl_set_elems_iter_destroy(it);
	nftnl_set_free(s);
	return n;
}

static void test_delta_and_remove(void **state)
{
	static const char *const old_specs[] = { "10.0.0.1:22", "10.0.0.9:80", "[fd09::1]:22", NULL };
	static const char *const new_specs[] = { "10.0.0.1:22", "10.0.0.10:80", "[fd09::1]:22",
						 "[fd09::2]:443", NULL };
	static const uint16_t want_delta[] = {
		NFNL_MSG_BATCH_BEGIN, T(NFT_MSG_DELSETELEM), T(NFT_MSG_NEWSETELEM),
		T(NFT_MSG_NEWSETELEM), NFNL_MSG_BATCH_END,
	};
	static const uint16_t want_rm[] = {
		NFNL_MSG_BATCH_BEGIN, T(NFT_MSG_NEWTABLE), T(NFT_MSG_DELTABLE), NFNL_MSG_BATCH_END,
	};
	struct icpt_list lold, lnew;
	struct nft_plan p, po;
	struct nft_divert d[2], dold[2];
	struct nft_batch b;
	uint16_t types[16];
	char es[4][ICPT_ELEM_STRLEN], buf[1024], *err = NULL;

	(void)state;
	icpt_list_init(&lold);
	icpt_list_init(&lnew);
	add_specs(&lold, old_specs);
	add_specs(&lnew, new_specs);
	plan_f(&p, d, "127.0.0.1", "::1", 15001, &lnew);
	plan_f(&po, dold, "127.0.0.1", "::1", 15001, &lold);
	nft_batch_init(&b);
	assert_int_equal(nft_build_delta(&b, &p, &po, SEQ0, &err), -EINVAL);
	assert_string_equal(err, "nft: a delta needs the old and the new decoy lists normalised");
	assert_true(icpt_normalise(&lold, NULL, NULL) >= 0);
	assert_true(icpt_normalise(&lnew, NULL, NULL) >= 0);
	/* other rules: no delta */
	assert_int_equal(nft_build_delta(&b, &p, NULL, SEQ0, &err), -EINVAL);
	assert_string_equal(err, "nft: a delta needs the same sets and rules before and after");
	po.ndiv = 1;
	assert_int_equal(nft_build_delta(&b, &p, &po, SEQ0, &err), -EINVAL);
	assert_string_equal(err, "nft: a delta needs the same sets and rules before and after");
	po.ndiv = 2;
	assert_int_equal(nft_build_delta(&b, &p, &po, SEQ0, &err), 0);
	assert_int_equal(batch_types(&b, types, ARRAY_SIZE(types)), ARRAY_SIZE(want_delta));
	assert_memory_equal(types, want_delta, sizeof(want_delta));
	/* only the difference travels; existing sets are named, not by ID */
	assert_int_equal(msg_elems(msg(&b, 1), AF_INET, es, 4), 1);
	assert_string_equal(es[0], "10.0.0.9:80");
	assert_int_equal(msg_elems(msg(&b, 2), AF_INET, es, 4), 1);
	assert_string_equal(es[0], "10.0.0.10:80");
	assert_int_equal(msg_elems(msg(&b, 3), AF_INET6, es, 4), 1);
	assert_string_equal(es[0], "[fd09::2]:443");
	assert_false(has_attr(msg(&b, 1), NFTA_SET_ELEM_LIST_SET_ID));
	assert_false(has_attr(msg(&b, 2), NFTA_SET_ELEM_LIST_SET_ID));
	assert_string_equal(b.msg[1].set, "decoys4_f");
	assert_string_equal(b.msg[3].set, "decoys6_f");
	assert_false(b.msg[2].fresh);

	/* the kernel refusing a removal names it */
	nft_batch_feed(&b, buf, put_answer(buf, SEQ0 + 1, -ENOENT,
					   elem_offset(msg(&b, 1), 0), NULL));
	assert_int_equal(nft_batch_result(&b, &err), -ENOENT);
	assert_string_equal(err, "nftables refused the removal of element 10.0.0.9:80 (from "
			    "'10.0.0.9:80' (t.cfg:1)) of set decoys4_f: not in the kernel's set: it "
			    "differs from the previous plan (No such file or directory)");

	/* an addition refused as an overlap in a set that exists: the clash
	 * is with an element decoyproxy did not put there */
	assert_int_equal(nft_build_delta(&b, &p, &po, SEQ0, &err), 0);
	nft_batch_feed(&b, buf, put_answer(buf, SEQ0 + 2, -EEXIST,
					   elem_offset(msg(&b, 2), 0), NULL));
	assert_int_equal(nft_batch_result(&b, &err), -EEXIST);
	assert_string_equal(err, "nftables refused element 10.0.0.10:80 (from '10.0.0.10:80' "
			    "(t.cfg:1)) of set decoys4_f: overlaps an element that is in the kernel's "
			    "set but was not installed by decoyproxy (added by hand, e.g. with 'nft "
			    "add element'?) (File exists)");

	/* no change at all: an empty but valid batch */
	assert_int_equal(nft_build_delta(&b, &p, &p, SEQ0, &err), 0);
	assert_int_equal(b.nmsg, 2);
	/* same list object on both sides: not even looked at */
	plan_f(&po, dold, "127.0.0.1", "::1", 15001, &lnew);
	dold[1].decoys = &lold;
	assert_int_equal(nft_build_delta(&b, &p, &po, SEQ0, &err), 0);
	assert_int_equal(b.nmsg, 3);
	assert_string_equal(b.msg[1].set, "decoys6_f");
	assert_int_equal(b.msg[1].kind, NFT_K_ELEMS);
	assert_int_equal(b.msg[1].count, 1);

	assert_int_equal(nft_build_remove(&b, SEQ0, &err), 0);
	assert_int_equal(batch_types(&b, types, ARRAY_SIZE(types)), ARRAY_SIZE(want_rm));
	assert_memory_equal(types, want_rm, sizeof(want_rm));
	free(err);
	nft_batch_free(&b);
	icpt_list_free(&lold);
	icpt_list_free(&lnew);
}

/* ---- answers ---- */

/* Appends an NLMSG_ERROR answer for message seq to buf. */
static size_t put_answer(char *buf, uint32_t seq, int error, int32_t offs, const char *kmsg)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nlmsgerr *e;

	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_seq = seq;
	nlh->nlmsg_flags = NLM_F_CAPPED;
	e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
	e->error = error;
	e->msg.nlmsg_seq = seq;
	e->msg.nlmsg_len = 200;         /* capped: only the header is echoed */
	if (offs >= 0 || kmsg) {
		nlh->nlmsg_flags |= NLM_F_ACK_TLVS;
		if (kmsg)
			mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, kmsg);
		if (offs >= 0)
			mnl_attr_put_u32(nlh, NLMSGERR_ATTR_OFFS, (uint32_t)offs);
	}
	return nlh->nlmsg_len;
}

/* Byte offset, in message nlh, of its k-th element attribute. */
static int32_t elem_offset(const struct nlmsghdr *nlh, int k)
{
	struct nlattr *list = elem_list(nlh), *el;

	assert_non_null(list);
	mnl_attr_for_each_nested(el, list)
		if (k-- == 0)
			return (int32_t)((char *)el - (char *)nlh);
	fail();
	return -1;
}

static struct nft_divert two_div[2];

static void build_two_elem_batch(struct icpt_list *l, struct nft_plan *p, struct nft_batch *b)
{
	char *err = NULL;

	icpt_list_init(l);
	assert_int_equal(icpt_parse_spec(l, "10.0.0.0/24:80", "a.cfg:1", &err), 0);
	assert_int_equal(icpt_parse_spec(l, "10.0.0.5:80-90", "a.cfg:2", &err), 0);
	assert_int_equal(icpt_parse_spec(l, "[fd09::1]:22", "a.cfg:3", &err), 0);
	plan_f(p, two_div, "127.0.0.1", "::1", 15001, l);
	nft_batch_init(b);
	assert_int_equal(nft_build_apply(b, p, SEQ0, &err), 0);
	/* 10 messages up to the rules, then elements v4 (#10), v6 (#11) */
	assert_int_equal(msg(b, 10)->nlmsg_type, T(NFT_MSG_NEWSETELEM));
	assert_int_equal(b->msg[10].family, AF_INET);
}

static void test_answers_success_and_missing(void **state)
{
	struct icpt_list l;
	struct nft_plan p;
	struct nft_batch b;
	char buf[8192], *err = NULL;
	size_t len = 0, i;

	(void)state;
	build_two_elem_batch(&l, &p, &b);
	for (i = 1; i + 1 < b.nmsg; i++)
		len += put_answer(buf + len, SEQ0 + (uint32_t)i, 0, -1, NULL);
	/* a stale answer of another batch is ignored */
	len += put_answer(buf + len, SEQ0 + 500, -EPERM, -1, NULL);
	nft_batch_feed(&b, buf, len);
	assert_true(nft_batch_complete(&b));
	assert_int_equal(nft_batch_result(&b, &err), 0);
	assert_null(err);

	/* one answer short */
	b.nacked = 0;
	nft_batch_feed(&b, buf, put_answer(buf, SEQ0 + 3, 0, -1, NULL));
	assert_false(nft_batch_complete(&b));
	assert_int_equal(nft_batch_result(&b, &err), -ETIMEDOUT);
	assert_string_equal(err, "nft: the kernel answered 1 of 11 messages");
	free(err);
	nft_batch_free(&b);
	icpt_list_free(&l);
}

static void test_answers_map_element(void **state)
{
	struct icpt_list l;
	struct nft_plan p;
	struct nft_batch b;
	char buf[8192], *err = NULL;
	size_t len = 0;

	(void)state;
	build_two_elem_batch(&l, &p, &b);
	/* The kernel names the message by seq and the element by offset; a
	 * later error (a consequence) must not hide the first one. */
	len += put_answer(buf + len, SEQ0 + 1, 0, -1, NULL);
	len += put_answer(buf + len, SEQ0 + 10, -EEXIST, elem_offset(msg(&b, 10), 1), NULL);
	len += put_answer(buf + len, SEQ0 + 11, -ENOENT, -1, NULL);
	nft_batch_feed(&b, buf, len);
	assert_int_equal(b.error, -EEXIST);
	assert_int_equal(nft_batch_result(&b, &err), -EEXIST);
	assert_string_equal(err, "nftables refused element 10.0.0.5:80-90 (from '10.0.0.5:80-90' "
			    "(a.cfg:2)) of set decoys4_f: overlaps another element added to the new "
			    "set in the same batch (the decoy list was not normalised) (File exists)");

	/* without an offset: the message is still named */
	nft_batch_free(&b);
	icpt_list_free(&l);
	build_two_elem_batch(&l, &p, &b);
	nft_batch_feed(&b, buf, put_answer(buf, SEQ0 + 11, -ENOSPC, -1, "set is full"));
	assert_int_equal(nft_batch_result(&b, &err), -ENOSPC);
	assert_string_equal(err, "nftables refused addition of 1 elements to set decoys6_f: the set is full "
			    "(No space left on device); kernel says: set is full");
	free(err);
	nft_batch_free(&b);
	icpt_list_free(&l);
}

static void test_answers_map_rule_and_batch(void **state)
{
	struct icpt_list l;
	struct nft_plan p;
	struct nft_batch b;
	char buf[4096], *err = NULL;

	(void)state;
	build_two_elem_batch(&l, &p, &b);
	/* an earlier message's error wins even when it arrives later */
	nft_batch_feed(&b, buf, put_answer(buf, SEQ0 + 9, -EINVAL, -1, NULL));
	nft_batch_feed(&b, buf, put_answer(buf, SEQ0 + 7, -ENOENT, 40, NULL));
	assert_int_equal(nft_batch_result(&b, &err), -ENOENT);
	assert_string_equal(err, "nftables refused rule 1 of chain prerouting (meta iiftype != "
			    "loopback meta l4proto tcp ip daddr . tcp dport @decoys4_f tproxy ip to 127.0.0.1:15001 meta mark set "
			    "0x1 accept): missing kernel support? (nft_tproxy, nft_socket, "
			    "nf_tproxy_ipv4/6) (No such file or directory)");
	nft_batch_free(&b);
	icpt_list_free(&l);

	build_two_elem_batch(&l, &p, &b);
	nft_batch_feed(&b, buf, put_answer(buf, SEQ0, -EPERM, -1, NULL));
	assert_int_equal(nft_batch_result(&b, &err), -EPERM);
	assert_string_equal(err, "nftables refused the batch: needs CAP_NET_ADMIN in the target "
			    "namespace (Operation not permitted)");
	free(err);
	nft_batch_free(&b);
	icpt_list_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_apply_layout_and_rules),
		cmocka_unit_test(test_sets_chain_table),
		cmocka_unit_test(test_mark_and_wildcard_listener),
		cmocka_unit_test(test_plan_errors),
		cmocka_unit_test(test_several_diverts),
		cmocka_unit_test(test_same_rules),
		cmocka_unit_test(test_elements_split_100k),
		cmocka_unit_test(test_delta_and_remove),
		cmocka_unit_test(test_answers_success_and_missing),
		cmocka_unit_test(test_answers_map_element),
		cmocka_unit_test(test_answers_map_rule_and_batch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
