/* test_decoy.c — decoys that look like hosts (plumbing/decoy.h) and the
 * nft rules they add (net/nft_decoy.c): the keywords and their errors,
 * the edges of CIDR specs, and the exact rules, sets and interval keys of
 * the batch built from a parsed configuration. */
#include "config.h"

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cfg/cfg.h"
#include "ctl/module.h"
#include "lib/intercept.h"
#include "log/msg.h"
#include "model/conf.h"
#include "model/proxy.h"
#include "net/nft.h"
#include "plumbing/decoy.h"
#include "plumbing/tproxy.h"

#include "helpers.h"

/* every test starts with no message, capture on */
static int setup(void **state)
{
	return capture_setup(state);
}

#define HEAD "defaults\n    mode tcp\n    timeout client 5s\n    timeout connect 5s\n" \
	"    timeout server 5s\nbackend be\n    server s1 10.2.0.2\n"
#define FE "frontend web\n    bind 127.0.0.1:15001 transparent\n    default_backend be\n"

static void test_keyword_errors(void **state)
{
	(void)state;
	expect_error(HEAD FE "    intercept 10.0.0.1:22\n    decoy-closed maybe\n",
		     "[t.cfg:12] : 'decoy-closed': expects 'reset' or 'drop', not 'maybe'");
	expect_error(HEAD FE "    intercept 10.0.0.1:22\n    decoy-ping yes\n",
		     "'decoy-ping': expects 'on' or 'off', not 'yes'");
	expect_error(HEAD FE "    intercept 10.0.0.1:22\n    probe-log rate 10\n", "invalid rate '10'");
	expect_error(HEAD FE "    intercept 10.0.0.1:22\n    probe-log rate 0/1s\n", "invalid rate '0/1s'");
	expect_error(HEAD FE "    intercept 10.0.0.1:22\n    probe-log rate 5/1500ms\n",
		     "a whole number of seconds");
	expect_error(HEAD FE "    intercept 10.0.0.1:22\n    probe-log group 3\n",
		     "'group' is a global setting");
	expect_error("global\n    probe-log group 70000\n", "invalid value '70000'");
	expect_error(HEAD FE "    intercept 10.0.0.1:22\n    scan-threshold 3 5\n",
		     "expects '<decoys> <ports> <time>'");
	expect_error(HEAD FE "    intercept 10.0.0.1:22\n    scan-threshold 3 5 10ms\n",
		     "invalid time '10ms'");
	expect_error(HEAD "defaults\n    decoy-ping on\n", "'decoy-ping' is not allowed in 'defaults' section");
	/* decoy-answers group: global, a number, not the probe-log group */
	expect_error("global\n    decoy-answers 7\n" HEAD FE "    intercept 10.0.0.1:22\n",
		     "[t.cfg:2] : 'decoy-answers': expects 'group <n>', e.g. 'decoy-answers group 1415'");
	expect_error("global\n    decoy-answers group 70000\n" HEAD FE "    intercept 10.0.0.1:22\n",
		     "[t.cfg:2] : 'decoy-answers'");
	expect_error("global\n    probe-log group 9\n    decoy-answers group 9\n" HEAD FE
		     "    intercept 10.0.0.1:22\n",
		     "[t.cfg:3] : decoy-answers group 9 is also the probe-log group: the two need NFLOG "
		     "groups of their own");
	expect_error(HEAD FE "    intercept 10.0.0.1:22\n    decoy-answers group 9\n",
		     "'decoy-answers' is not allowed in 'frontend' section");
	/* settings without decoys are refused, naming the line */
	expect_error(HEAD FE "    decoy-closed drop\n",
		     "[t.cfg:11] : frontend 'web': decoy-closed, decoy-ping, probe-log and scan-threshold "
		     "apply to the decoys of 'intercept' lines, and this frontend has none");
	expect_error(HEAD FE "    option log-probes\n", "'option log-probes' needs 'intercept' lines");
}

static void test_settings(void **state)
{
	struct decoy_settings s;
	struct dp_config *c;

	(void)state;
	assert_int_equal(parse("global\n    probe-log rate 50/1m burst 7\n    scan-threshold 2 9 30s\n"
			       HEAD FE "    intercept 10.0.0.1:22\n"
			       "frontend q\n    bind 127.0.0.1:15002 transparent\n    default_backend be\n"
			       "    intercept 10.0.1.1:22\n    decoy-closed drop\n    option log-probes\n"
			       "    probe-log rate 9/2s\n    scan-threshold 4 4 1s\n", &c), 0);
	decoy_settings_of(c, dp_config_find_proxy(c, "web", PR_CAP_FE), &s);
	assert_int_equal(s.closed, NFT_CLOSED_RESET);
	assert_true(s.ping);            /* default: follows reset */
	assert_false(s.log);
	assert_int_equal(s.log_group, DECOY_LOG_GROUP_DEFAULT);
	assert_int_equal(s.answer_group, DECOY_ANSWER_GROUP_DEFAULT);
	assert_int_equal(s.log_rate, 50);
	assert_int_equal(s.log_unit, 60);
	assert_int_equal(s.log_burst, 7);
	assert_int_equal(s.scan_decoys, 2);
	assert_int_equal(s.scan_ports, 9);
	assert_int_equal(s.scan_window_ms, 30000);
	decoy_settings_of(c, dp_config_find_proxy(c, "q", PR_CAP_FE), &s);
	assert_int_equal(s.closed, NFT_CLOSED_DROP);
	assert_false(s.ping);           /* default: follows drop */
	assert_true(s.log);
	assert_int_equal(s.log_rate, 9);
	assert_int_equal(s.log_unit, 2);
	assert_int_equal(s.log_burst, 9);
	assert_int_equal(s.scan_window_ms, 1000);
	dp_config_put(c);
	/* probe-log group 1415 without decoy-answers: the two defaults swap */
	assert_int_equal(parse("global\n    probe-log group 1415\n" HEAD FE "    intercept 10.0.0.1:22\n", &c), 0);
	decoy_settings_of(c, dp_config_find_proxy(c, "web", PR_CAP_FE), &s);
	assert_int_equal(s.log_group, 1415);
	assert_int_equal(s.answer_group, 1414);
	dp_config_put(c);
}

static const char *elem_s(const struct icpt_list *l, size_t i, char *buf)
{
	return icpt_elem_str(&l->v[i], buf, ICPT_ELEM_STRLEN);
}

static void test_edges(void **state)
{
	struct icpt_list l, out;
	char b[ICPT_ELEM_STRLEN];

	(void)state;
	icpt_list_init(&l);
	icpt_list_init(&out);
	/* a /28 (edges .0 and .15), .0 listed alone (kept), a range (no
	 * edges), a /31 and a /32 (none), IPv6 (none) */
	assert_int_equal(icpt_parse_spec(&l, "10.0.0.0/28:22,80", "t:1", NULL), 0);
	assert_int_equal(icpt_parse_spec(&l, "10.0.0.0:443", "t:2", NULL), 0);
	assert_int_equal(icpt_parse_spec(&l, "10.0.1.0-10.0.1.15:22", "t:3", NULL), 0);
	assert_int_equal(icpt_parse_spec(&l, "10.0.2.0/31:22", "t:4", NULL), 0);
	assert_int_equal(icpt_parse_spec(&l, "10.0.3.0/32:22", "t:5", NULL), 0);
	assert_int_equal(icpt_parse_spec(&l, "[fd00::]/120:22", "t:6", NULL), 0);
	assert_int_equal(icpt_parse_spec(&l, "10.0.4.0/30:22", "t:7", NULL), 0);
	assert_int_equal(decoy_edges_compute(&l, &out), 0);
	assert_int_equal(out.n, 3);
	assert_string_equal(elem_s(&out, 0, b), "10.0.0.15:*");
	assert_string_equal(elem_s(&out, 1, b), "10.0.4.0:*");
	assert_string_equal(elem_s(&out, 2, b), "10.0.4.3:*");
	icpt_list_free(&l);
	icpt_list_free(&out);
}

/* The whole batch of a frontend with every decoy feature: sets, the
 * rules in order (edges and probe logs before the tproxy rule, the
 * closed-port rules after the socket rule) and the interval keys. */
static void test_batch(void **state)
{
	static const char *const want[] = {
		"(meta iiftype != loopback meta pkttype host ip daddr @edges4_web drop)",
		"(meta iiftype != loopback meta l4proto tcp tcp flags & (fin|syn|rst|ack) == syn "
		"ip daddr . tcp dport @decoys4_web limit rate 10/1s burst 10 packets log group 1414 "
		"prefix \"o decoys4_web\")",
		"(meta iiftype != loopback meta l4proto tcp tcp flags & rst == rst "
		"ip daddr . tcp dport @decoys4_web limit rate 10/1s burst 10 packets log group 1414 "
		"prefix \"r decoys4_web\")",
		"(meta iiftype != loopback meta l4proto tcp ip daddr . tcp dport @decoys4_web tproxy ip to "
		"127.0.0.1:15001 meta mark set 0x1 accept)",
		"(meta l4proto tcp socket transparent 1 meta mark set 0x1 accept)",
		"(meta iiftype != loopback ip daddr @hosts4_web socket transparent 0 accept)",
		"(meta iiftype != loopback meta l4proto tcp tcp flags & (fin|syn|rst|ack) == syn "
		"ip daddr @hosts4_web limit rate 10/1s burst 10 packets log group 1414 prefix \"c decoys4_web\")",
		"(meta iiftype != loopback meta l4proto tcp ip daddr @hosts4_web reject with tcp reset)",
		"(meta iiftype != loopback meta l4proto udp ip daddr @hosts4_web limit rate 10/1s burst 10 "
		"packets log group 1414 prefix \"c decoys4_web\")",
		/* a local decoy (announce) is answered by the kernel; the
		 * others by decoyproxy, through NFLOG group 1415 */
		"(meta iiftype != loopback meta l4proto udp ip daddr @hosts4_web fib daddr type local "
		"meta mark set <mark> accept)",
		"(meta iiftype != loopback meta l4proto udp ip daddr @hosts4_web meta pkttype host "
		"limit rate 2000/1s burst 200 packets log group 1415 snaplen 1500 prefix \"a decoys4_web\")",
		"(meta iiftype != loopback meta l4proto udp ip daddr @hosts4_web drop)",
		"(meta iiftype != loopback meta l4proto icmp icmp type echo-request ip daddr @hosts4_web "
		"fib daddr type local meta mark set <mark> accept)",
		"(meta iiftype != loopback meta l4proto icmp icmp type echo-request ip daddr @hosts4_web "
		"meta pkttype host limit rate 2000/1s burst 200 packets log group 1415 snaplen 1500 "
		"prefix \"a decoys4_web\")",
		"(meta iiftype != loopback meta l4proto icmp icmp type echo-request ip daddr @hosts4_web drop)",
	};
	const struct tproxy_ns *p;
	struct dp_config *c;
	struct nft_batch b;
	char *err = NULL;
	size_t n, rules = 0, sets = 0, hostmsgs = 0;

	(void)state;
	assert_int_equal(parse(HEAD FE "    intercept 10.0.0.0/28:22,80\n    option log-probes\n"
			       "    probe-log rate 10/1s\n", &c), 0);
	p = tproxy_plan(c, &n);
	assert_int_equal(n, 1);
	assert_string_equal(p->nft.div[0].dec.hosts, "hosts4_web");
	assert_string_equal(p->nft.div[0].dec.edges, "edges4_web");
	assert_true(p->nft.div[0].dec.answer);
	assert_int_equal(p->nft.div[0].dec.answer_group, DECOY_ANSWER_GROUP_DEFAULT);
	nft_batch_init(&b);
	assert_int_equal(nft_build_apply(&b, &p->nft, 1, &err), 0);
	for (size_t i = 0; i < b.nmsg; i++) {
		const struct nft_msgref *m = &b.msg[i];

		if (m->kind == NFT_K_SET) {
			static const char *const ws[] = { "set decoys4_web ", "set hosts4_web (type ipv4_addr, flags interval)",
							  "set edges4_web (type ipv4_addr, flags interval)" };

			assert_true(sets < 3);
			assert_non_null(strstr(m->what, ws[sets]));
			sets++;
		} else if (m->kind == NFT_K_RULE) {
			char num[32];

			assert_true(rules < ARRAY_SIZE(want));
			snprintf(num, sizeof(num), "rule %zu of chain prerouting ", rules + 1);
			assert_memory_equal(m->what, num, strlen(num));
			assert_string_equal(m->what + strlen(num), want[rules]);
			rules++;
		} else if (m->kind == NFT_K_HOSTS) {
			/* hosts 10.0.0.1-10.0.0.14: start and end keys; edges
			 * .0 and .15: two ranges of one address, four keys */
			assert_string_equal(m->what, hostmsgs ? "addition of 4 interval keys to set edges4_web" :
					    "addition of 2 interval keys to set hosts4_web");
			hostmsgs++;
		}
	}
	assert_int_equal(rules, ARRAY_SIZE(want));
	assert_int_equal(sets, 3);
	assert_int_equal(hostmsgs, 2);
	nft_batch_free(&b);
	dp_config_put(c);
}

/* decoy-closed drop, decoy-ping off, IPv6: drop rules, no edges */
static void test_batch_drop_v6(void **state)
{
	const struct tproxy_ns *p;
	struct dp_config *c;
	struct nft_batch b;
	char *err = NULL;
	size_t n, drops = 0;
	bool echo6 = false;

	(void)state;
	assert_int_equal(parse(HEAD "frontend web\n    bind [::1]:15001 transparent\n    default_backend be\n"
			       "    intercept [fd00::]/120:22\n    decoy-closed drop\n    decoy-ping off\n", &c), 0);
	p = tproxy_plan(c, &n);
	assert_null(p->nft.div[0].dec.edges);
	nft_batch_init(&b);
	assert_int_equal(nft_build_apply(&b, &p->nft, 1, &err), 0);
	for (size_t i = 0; i < b.nmsg; i++) {
		const char *w = b.msg[i].what;

		if (b.msg[i].kind != NFT_K_RULE)
			continue;
		assert_null(strstr(w, "reject"));
		assert_null(strstr(w, "log group"));
		drops += strstr(w, "@hosts6_web drop)") != NULL;
		echo6 |= strstr(w, "icmpv6 type echo-request ip6 daddr @hosts6_web drop") != NULL;
	}
	assert_int_equal(drops, 3);     /* tcp, udp, echo */
	assert_true(echo6);
	assert_false(p->nft.div[0].dec.answer);        /* nothing to answer */
	nft_batch_free(&b);
	dp_config_put(c);
}

/* IPv6 with the defaults: echo requests of a local decoy go to the kernel,
 * datagrams to closed UDP ports never (icmp6_send() would answer from the
 * sensor's own address): decoyproxy answers all of them */
static void test_batch_v6_answers(void **state)
{
	const struct tproxy_ns *p;
	struct dp_config *c;
	struct nft_batch b;
	char *err = NULL;
	size_t n, fib_udp = 0, fib_echo = 0, log_udp = 0, log_echo = 0;

	(void)state;
	assert_int_equal(parse(HEAD "frontend web\n    bind [::1]:15001 transparent\n    default_backend be\n"
			       "    intercept [fd00::]/120:22 announce\n", &c), 0);
	p = tproxy_plan(c, &n);
	assert_true(p->nft.div[0].dec.answer);
	nft_batch_init(&b);
	assert_int_equal(nft_build_apply(&b, &p->nft, 1, &err), 0);
	for (size_t i = 0; i < b.nmsg; i++) {
		const char *w = b.msg[i].what;

		if (b.msg[i].kind != NFT_K_RULE)
			continue;
		fib_udp += strstr(w, "l4proto udp ip6 daddr @hosts6_web fib daddr type local") != NULL;
		fib_echo += strstr(w, "echo-request ip6 daddr @hosts6_web fib daddr type local") != NULL;
		log_udp += strstr(w, "l4proto udp ip6 daddr @hosts6_web meta pkttype host limit rate 2000/1s "
				  "burst 200 packets log group 1415 snaplen 1500 prefix \"a decoys6_web\"") != NULL;
		log_echo += strstr(w, "echo-request ip6 daddr @hosts6_web meta pkttype host limit") != NULL;
	}
	assert_int_equal(fib_udp, 0);
	assert_int_equal(fib_echo, 1);
	assert_int_equal(log_udp, 1);
	assert_int_equal(log_echo, 1);
	nft_batch_free(&b);
	dp_config_put(c);
}

/* A reload of the same configuration: each generation has its own decoy
 * and edge lists, equal in content. The plans have the same rules, and the
 * delta between them holds nothing between its batch begin and end: no set
 * is touched. A changed edge means a rebuild; a changed decoy list alone
 * means a delta. */
static void test_reload_same(void **state)
{
	static const char *const cfg = HEAD FE "    intercept 10.0.0.0/28:22,80\n";
	const struct tproxy_ns *p1, *p2;
	struct dp_config *c1, *c2;
	struct nft_batch b;
	char *err = NULL;
	size_t n;

	(void)state;
	assert_int_equal(parse(cfg, &c1), 0);
	assert_int_equal(parse(cfg, &c2), 0);
	p1 = tproxy_plan(c1, &n);
	assert_int_equal(n, 1);
	p2 = tproxy_plan(c2, &n);
	assert_int_equal(n, 1);
	assert_non_null(p1->nft.div[0].dec.edgelist);
	assert_ptr_not_equal(p1->nft.div[0].dec.edgelist, p2->nft.div[0].dec.edgelist);
	assert_ptr_not_equal(p1->nft.div[0].decoys, p2->nft.div[0].decoys);
	assert_true(nft_plan_same_rules(&p2->nft, &p1->nft));
	nft_batch_init(&b);
	assert_int_equal(nft_build_delta(&b, &p2->nft, &p1->nft, 1, &err), 0);
	assert_int_equal(b.nmsg, 2);
	assert_int_equal(b.msg[0].kind, NFT_K_BEGIN);
	assert_int_equal(b.msg[1].kind, NFT_K_END);
	dp_config_put(c2);

	/* one more decoy address, not a CIDR: same edges, a delta that
	 * adds the element and refills the host set */
	assert_int_equal(parse(HEAD FE "    intercept 10.0.0.0/28:22,80 10.0.1.5:22\n", &c2), 0);
	p2 = tproxy_plan(c2, &n);
	assert_true(nft_plan_same_rules(&p2->nft, &p1->nft));
	assert_int_equal(nft_build_delta(&b, &p2->nft, &p1->nft, 1, &err), 0);
	assert_true(b.nmsg > 2);
	dp_config_put(c2);

	/* another prefix length: other edges, a rebuild */
	assert_int_equal(parse(HEAD FE "    intercept 10.0.0.0/29:22,80 10.0.0.8/29:22,80\n", &c2), 0);
	p2 = tproxy_plan(c2, &n);
	assert_false(nft_plan_same_rules(&p2->nft, &p1->nft));
	nft_batch_free(&b);
	dp_config_put(c2);
	dp_config_put(c1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_keyword_errors, setup),
		cmocka_unit_test_setup(test_settings, setup),
		cmocka_unit_test_setup(test_edges, setup),
		cmocka_unit_test_setup(test_batch, setup),
		cmocka_unit_test_setup(test_batch_drop_v6, setup),
		cmocka_unit_test_setup(test_batch_v6_answers, setup),
		cmocka_unit_test_setup(test_reload_same, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
