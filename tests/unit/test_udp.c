/* Unit tests: the UDP data path's pure parts (core/udp_int.h) — the flow
 * table (keys, bounded size, collisions, removal), the reply limits (size,
 * ratio, per-attacker token buckets in a bounded table) — the flow-end log
 * line, and the `udp-lb` section's keywords and checks (model/udplb.h). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cfg/cfg.h"
#include "log/msg.h"
#include "model/conf.h"
#include "model/udplb.h"
#include "ctl/module.h"
#include "core/udp_int.h"

static struct sockaddr_storage sa(const char *ip, int port)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(ip, ':')) {
		struct sockaddr_in6 *s = (void *)&ss;

		s->sin6_family = AF_INET6;
		inet_pton(AF_INET6, ip, &s->sin6_addr);
		s->sin6_port = htons((uint16_t)port);
	} else {
		struct sockaddr_in *s = (void *)&ss;

		s->sin_family = AF_INET;
		inet_pton(AF_INET, ip, &s->sin_addr);
		s->sin_port = htons((uint16_t)port);
	}
	return ss;
}

static void test_key(void **state)
{
	struct sockaddr_storage a = sa("10.1.0.2", 4000), b = sa("192.0.2.53", 53);
	struct sockaddr_storage m = sa("::ffff:10.1.0.2", 4000), v6 = sa("fd01::2", 4000);
	struct udp_key k1, k2;

	(void)state;
	assert_int_equal(udp_key_make(&k1, &a, &b), 0);
	assert_int_equal(udp_key_make(&k2, &m, &b), 0);      /* v4-mapped = IPv4 */
	assert_memory_equal(&k1, &k2, sizeof(k1));
	assert_int_equal(k1.family, AF_INET);
	assert_int_equal(udp_key_make(&k2, &v6, &b), -EAFNOSUPPORT); /* mixed families */
	b = sa("192.0.2.53", 54);
	assert_int_equal(udp_key_make(&k2, &a, &b), 0);
	assert_memory_not_equal(&k1, &k2, sizeof(k1));
}

struct node {
	struct udp_node n;
	int id;
};

static void test_ftab_bounded(void **state)
{
	static const uint64_t seed[2] = { 1, 2 };
	struct udp_ftab t;
	struct node *v = calloc(300, sizeof(*v));
	struct sockaddr_storage d = sa("192.0.2.1", 53);
	int added = 0;

	(void)state;
	assert_non_null(v);
	assert_int_equal(udp_ftab_init(&t, 0, NULL), -EINVAL);
	assert_int_equal(udp_ftab_init(&t, 200, seed), 0);
	assert_int_equal(t.mask + 1, 512);                 /* 2^k >= 2 * cap */
	/* a spoofed-source flood: 300 distinct attackers, cap 200 */
	for (int i = 0; i < 300; i++) {
		char ip[32];
		struct sockaddr_storage c;

		snprintf(ip, sizeof(ip), "10.%d.%d.%d", i / 65536, i / 256 % 256, i % 256);
		c = sa(ip, 1024 + i);
		v[i].id = i;
		udp_key_make(&v[i].n.key, &c, &d);
		v[i].n.hash = udp_ftab_hash(&t, &v[i].n.key);
		if (udp_ftab_add(&t, &v[i].n) == 0)
			added++;
		else
			assert_int_equal(udp_ftab_add(&t, &v[i].n), -ENOSPC);
	}
	assert_int_equal(added, 200);
	assert_int_equal(t.n, 200);
	/* every added one is found, the refused ones are not */
	for (int i = 0; i < 300; i++) {
		struct udp_node *n = udp_ftab_get(&t, &v[i].n.key, v[i].n.hash);

		if (i < 200) {
			assert_ptr_equal(n, &v[i].n);
		} else {
			assert_null(n);
		}
	}
	/* a duplicate key is refused */
	udp_ftab_del(&t, &v[0].n);
	assert_int_equal(t.n, 199);
	assert_null(udp_ftab_get(&t, &v[0].n.key, v[0].n.hash));
	assert_int_equal(udp_ftab_add(&t, &v[1].n), -EEXIST);
	/* removal frees room for one more */
	assert_int_equal(udp_ftab_add(&t, &v[250].n), 0);
	assert_ptr_equal(udp_ftab_get(&t, &v[250].n.key, v[250].n.hash), &v[250].n);
	udp_ftab_free(&t);
	free(v);
}

static void test_ftab_seeded(void **state)
{
	static const uint64_t s1[2] = { 1, 2 }, s2[2] = { 3, 4 };
	struct udp_ftab a, b;
	struct sockaddr_storage c = sa("10.1.0.2", 4000), d = sa("192.0.2.1", 53);
	struct udp_key k;
	int same = 0;

	(void)state;
	assert_int_equal(udp_ftab_init(&a, 1000, s1), 0);
	assert_int_equal(udp_ftab_init(&b, 1000, s2), 0);
	/* another seed, other buckets: an attacker cannot aim at one */
	for (int p = 1; p < 200; p++) {
		c = sa("10.1.0.2", p);
		udp_key_make(&k, &c, &d);
		same += (udp_ftab_hash(&a, &k) & a.mask) == (udp_ftab_hash(&b, &k) & b.mask);
	}
	assert_true(same < 10);
	udp_ftab_free(&a);
	udp_ftab_free(&b);
}

static void test_reply_check(void **state)
{
	struct udp_reply_limit l = { .size = 512, .ratio = 3 };

	(void)state;
	assert_int_equal(udp_reply_check(&l, 100, 0, 300), UDP_REPLY_OK);
	assert_int_equal(udp_reply_check(&l, 100, 0, 513), UDP_REPLY_SIZE);
	assert_int_equal(udp_reply_check(&l, 100, 250, 50), UDP_REPLY_OK);     /* 300 = 3 x 100 */
	assert_int_equal(udp_reply_check(&l, 100, 250, 51), UDP_REPLY_RATIO);
	assert_int_equal(udp_reply_check(&l, 0, 0, 1), UDP_REPLY_RATIO);       /* nothing asked */
	l.ratio = 0;
	l.size = 0;
	assert_int_equal(udp_reply_check(&l, 0, 1000000, 65000), UDP_REPLY_OK);
	assert_string_equal(udp_reply_verdict_str(UDP_REPLY_RATE), "rate");
}

static void test_rlim(void **state)
{
	static const uint64_t seed[2] = { 5, 6 };
	struct udp_rlim r;
	struct sockaddr_storage a = sa("10.1.0.2", 1000), a2 = sa("10.1.0.2", 2000), b = sa("10.1.0.3", 1000);
	int ok = 0;

	(void)state;
	assert_int_equal(udp_rlim_init(&r, 16, 10, 5, seed), 0);
	/* burst 5 at once, whatever the port */
	for (int i = 0; i < 20; i++)
		ok += udp_rlim_take(&r, i % 2 ? &a : &a2, 100.0);
	assert_int_equal(ok, 5);
	/* another attacker has its own bucket */
	assert_true(udp_rlim_take(&r, &b, 100.0));
	/* 10 per second: 0.5 s later, 5 tokens again (capped at burst) */
	ok = 0;
	for (int i = 0; i < 20; i++)
		ok += udp_rlim_take(&r, &a, 100.5);
	assert_int_equal(ok, 5);
	ok = 0;
	for (int i = 0; i < 20; i++)
		ok += udp_rlim_take(&r, &a, 100.7);
	assert_int_equal(ok, 2);
	udp_rlim_free(&r);

	/* bounded: 10,000 attackers in a table of 16 entries */
	assert_int_equal(udp_rlim_init(&r, 16, 1, 1, seed), 0);
	assert_int_equal(r.nsets * 4, 16);
	for (int i = 0; i < 10000; i++) {
		char ip[32];
		struct sockaddr_storage c;

		snprintf(ip, sizeof(ip), "10.%d.%d.%d", i / 65536, i / 256 % 256, i % 256);
		c = sa(ip, 53);
		udp_rlim_take(&r, &c, 200.0);
	}
	assert_true(r.evictions >= 10000 - 16);
	/* the victim of a reflection attempt stays limited while others come
	 * and go: its bucket is the emptiest, the last evicted */
	ok = 0;
	for (int i = 0; i < 100; i++) {
		char ip[32];
		struct sockaddr_storage c;

		snprintf(ip, sizeof(ip), "172.16.%d.%d", i / 256, i % 256);
		c = sa(ip, 53);
		ok += udp_rlim_take(&r, &a, 300.0);
		udp_rlim_take(&r, &c, 300.0);
	}
	assert_true(ok <= 25);
	udp_rlim_free(&r);

	/* rate 0: no limit, no table */
	assert_int_equal(udp_rlim_init(&r, 16, 0, 5, seed), 0);
	assert_null(r.v);
	assert_true(udp_rlim_take(&r, &a, 1.0));
	udp_rlim_free(&r);
}

static void test_flow_end_format(void **state)
{
	struct udp_flow_end e = {
		.lb = "dns", .server = "dns1", .cli = sa("10.1.0.2", 40000), .dst = sa("192.0.2.53", 53),
		.src = sa("10.1.0.2", 41000), .srv = sa("10.2.0.2", 53), .start = { 0, 5000 },
		.duration_ms = 12, .pkts_in = 2, .bytes_in = 80, .pkts_out = 1, .bytes_out = 120,
		.dropped = 1, .why = UDP_END_IDLE,
	};
	char buf[512];
	size_t n;

	(void)state;
	n = udp_flow_end_format(&e, buf, sizeof(buf));
	assert_int_equal(n, strlen(buf));
	assert_non_null(strstr(buf, "10.1.0.2:40000 ["));
	assert_non_null(strstr(buf, "] dns dns/dns1 udp 192.0.2.53:53 -> 10.2.0.2:53 src=10.1.0.2:41000 "
				    "duration=12 in=2/80 out=1/120 dropped=1 end=idle"));
	e.cli = sa("fd01::2", 1);
	e.why = UDP_END_RELOAD;
	udp_flow_end_format(&e, buf, sizeof(buf));
	assert_non_null(strstr(buf, "[fd01::2]:1 ["));
	assert_non_null(strstr(buf, "end=reload"));
	/* truncated to the buffer, always terminated */
	n = udp_flow_end_format(&e, buf, 20);
	assert_int_equal(n, 19);
	assert_int_equal(strlen(buf), 19);
}

/* ---- health checks ------------------------------------------------------ */

static void test_chk_apply(void **state)
{
	struct udp_server s = { .name = "d1", .check = true, .chk_rise = 2, .chk_fall = 3, .chk_up = true };
	char buf[512];

	(void)state;
	s.chk_health = s.chk_rise;              /* as finalize leaves it */
	/* a success at start goes to full health (rise + fall - 1) */
	assert_true(udp_chk_apply(&s, true));
	assert_int_equal(s.chk_health, 4);
	assert_false(udp_chk_apply(&s, true));
	/* fall (3) failures take it down, the last one logs the change */
	assert_true(udp_chk_apply(&s, false));
	assert_true(s.chk_up);
	assert_true(udp_chk_apply(&s, false));
	assert_true(s.chk_up);
	assert_true(udp_chk_apply(&s, false));
	assert_false(s.chk_up);
	assert_int_equal(s.chk_health, 0);
	assert_int_equal(s.cnt.chk_failed, 3);
	assert_int_equal(s.cnt.chk_down, 1);
	assert_false(udp_chk_apply(&s, false)); /* already at 0: not counted again */
	assert_int_equal(s.cnt.chk_failed, 3);
	assert_false(udplb_srv_usable(&s));
	udp_chk_state_msg(buf, sizeof(buf), "dns", &s, CHK_ST_L4CON, "Connection refused", 2, 0, 5);
	assert_string_equal(buf, "Server dns/d1 is DOWN, reason: Layer4 connection problem, info: "
			    "\"Connection refused\", check duration: 2ms. 0 active and 0 backup servers left. "
			    "5 sessions active, 0 requeued, 0 remaining in queue.");
	/* rise (2) successes bring it back */
	assert_true(udp_chk_apply(&s, true));
	assert_false(s.chk_up);
	assert_true(udp_chk_apply(&s, true));
	assert_true(s.chk_up);
	assert_int_equal(s.chk_health, 4);
	assert_true(udplb_srv_usable(&s));
	udp_chk_state_msg(buf, sizeof(buf), "dns", &s, CHK_ST_L7OK, NULL, 1, 1, 0);
	assert_string_equal(buf, "Server dns/d1 is UP, reason: Layer7 check passed, check duration: 1ms. "
			    "1 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.");
	s.disabled = true;
	assert_false(udplb_srv_usable(&s));
}

/* ---- configuration ------------------------------------------------------ */

static char msgs[8192];

static void capture(int kind, const char *m)
{
	size_t l = strlen(msgs);

	(void)kind;
	snprintf(msgs + l, sizeof(msgs) - l, "%s\n", m);
}

static int parse(const char *text, struct dp_config **out)
{
	struct dp_config *c = dp_config_new();
	int errors;

	assert_non_null(c);
	errors = cfg_parse_buffer(c, "t.cfg", text);
	if (!errors)
		errors = modules_finalize(c);
	*out = c;
	return errors;
}

static void test_cfg_good(void **state)
{
	struct dp_config *c;
	struct udp_lb *lb;

	(void)state;
	assert_int_equal(modules_init(), 0);
	assert_int_equal(parse("udp-lb dns\n"
			       "    dgram-bind 127.0.0.1:15353 transparent\n"
			       "    dgram-bind [::1]:15353 transparent namespace seg1\n"
			       "    intercept 192.0.2.0/24:53,123 [fd09::]/64:53\n"
			       "    balance source\n"
			       "    source 0.0.0.0 usesrc clientip interface eth7\n"
			       "    server a 10.2.0.2\n"
			       "    server b [fd02::2]:5353\n"
			       "    timeout client 5s\n"
			       "    maxconn 77\n"
			       "    udp-reply-limit size 1232 ratio 5 rate 7 burst 9 sources 64\n"
			       "udp-lb pp\n"
			       "    dgram-bind 10.0.0.1:9999 accept-proxy\n"
			       "    option udp-check\n"
			       "    udp-check-send hex 00ff10\n"
			       "    timeout check 300ms\n"
			       "    server r 10.2.0.3:9999 send-proxy-v2 check inter 500ms rise 3 fall 4\n"
			       "    server q 10.2.0.4 check port 53\n", &c), 0);
	lb = udplb_find(c, "dns");
	assert_non_null(lb);
	assert_int_equal(lb->balance, UDPLB_BALANCE_SOURCE);
	assert_true(udplb_spoofs(lb));
	assert_string_equal(lb->source.iface, "eth7");
	assert_int_equal(lb->nsrv, 2);
	assert_true(lb->srv->no_port);
	assert_false(lb->srv->next->no_port);
	assert_int_equal(lb->timeout, 5000);
	assert_int_equal(lb->maxconn, 77);
	assert_int_equal(lb->lim.size, 1232);
	assert_int_equal(lb->lim.ratio, 5);
	assert_int_equal(lb->lim.rate, 7);
	assert_int_equal(lb->lim.burst, 9);
	assert_int_equal(lb->lim.sources, 64);
	assert_string_equal(lb->binds->next->netns, "seg1");
	assert_true(lb->decoys.normalised);
	assert_int_equal(icpt_count(&lb->decoys, AF_INET), 2);
	assert_int_equal(udplb_count_binds(c), 3);
	lb = udplb_find(c, "pp");
	assert_true(lb->binds->accept_proxy);
	assert_true(lb->srv->send_pp2);
	assert_true(lb->opt_udp_check);
	assert_int_equal(lb->chk_probe_len, 3);
	assert_memory_equal(lb->chk_probe, "\x00\xff\x10", 3);
	assert_int_equal(lb->chk_timeout, 300);
	assert_true(lb->srv->check);
	assert_int_equal(lb->srv->chk_inter, 500);
	assert_int_equal(lb->srv->chk_rise, 3);
	assert_int_equal(lb->srv->chk_fall, 4);
	assert_int_equal(lb->srv->chk_health, 3);      /* starts up, at rise */
	assert_true(lb->srv->chk_up);
	assert_int_equal(lb->srv->next->chk_port, 53);
	assert_int_equal(lb->srv->next->chk_inter, UDPLB_CHK_INTER_DEF);
	assert_int_equal(lb->srv->next->chk_rise, UDPLB_CHK_RISE_DEF);
	assert_int_equal(lb->maxconn, UDPLB_MAXCONN_DEFAULT);
	assert_int_equal(lb->timeout, UDPLB_TIMEOUT_DEFAULT);
	assert_int_equal(lb->lim.rate, UDPLB_REPLY_RATE_DEF);
	dp_config_put(c);
}

/* A reload: the health of a server of the same name carries over (a DOWN
 * server stays DOWN until its checks say otherwise), clamped to the new
 * rise + fall - 1. */
static void test_cfg_carry(void **state)
{
	struct dp_config *o, *n;
	struct udp_server *os, *ns;

	(void)state;
	assert_int_equal(modules_init(), 0);
	assert_int_equal(parse("udp-lb x\n    dgram-bind 127.0.0.1:53\n"
			       "    server a 10.0.0.1:53 check rise 5 fall 5\n"
			       "    server b 10.0.0.2:53 check\n", &o), 0);
	assert_int_equal(parse("udp-lb x\n    dgram-bind 127.0.0.1:53\n"
			       "    server a 10.0.0.1:53 check rise 1 fall 2\n"
			       "    server b 10.0.0.2:53 check\n"
			       "    server c 10.0.0.3:53 check\n", &n), 0);
	os = udplb_find(o, "x")->srv;
	os->chk_health = 9;
	os->cnt.chk_down = 4;
	os->next->chk_up = false;
	os->next->chk_health = 0;
	snprintf(os->next->chk_st, sizeof(os->next->chk_st), "L4CON");
	udplb_carry(n, o);
	ns = udplb_find(n, "x")->srv;
	assert_int_equal(ns->chk_health, 2);            /* clamped to 1 + 2 - 1 */
	assert_int_equal(ns->cnt.chk_down, 4);
	assert_false(ns->next->chk_up);
	assert_int_equal(ns->next->chk_health, 0);
	assert_string_equal(ns->next->chk_st, "L4CON");
	assert_true(ns->next->next->chk_up);            /* a new server starts up */
	assert_int_equal(ns->next->next->chk_health, UDPLB_CHK_RISE_DEF);
	dp_config_put(o);
	dp_config_put(n);
}

static void test_cfg_bad(void **state)
{
	static const struct {
		const char *cfg, *msg;
	} bad[] = {
		{ "udp-lb x\n    dgram-bind 127.0.0.1\n    server a 10.0.0.1\n",
		  "[t.cfg:2] : 'dgram-bind': " },
		{ "udp-lb x\n    dgram-bind 127.0.0.1:53 bogus\n    server a 10.0.0.1\n",
		  "[t.cfg:2] : 'dgram-bind': unknown option 'bogus'" },
		{ "udp-lb x\n    dgram-bind 127.0.0.1:53\n    server a 10.0.0.1 check\n",
		  "[t.cfg:3] : udp-lb 'x' server 'a': a port-less server follows the decoy's port: 'check' needs 'port <n>'" },
		{ "udp-lb x\n    dgram-bind 127.0.0.1:53\n    server a 10.0.0.1:53 check rise 0\n",
		  "[t.cfg:3] : 'server': 'rise' must be at least 1" },
		{ "udp-lb x\n    dgram-bind 127.0.0.1:53\n    server a 10.0.0.1:53 check inter\n",
		  "[t.cfg:3] : 'server': 'inter' expects a time" },
		{ "udp-lb x\n    dgram-bind 127.0.0.1:53\n    server a 10.0.0.1:53 check inter -3s\n",
		  "[t.cfg:3] : 'server': 'inter' expects a positive time, got '-3s'" },
		{ "udp-lb x\n    dgram-bind 127.0.0.1:53\n    server a 10.0.0.1:53\n    udp-check-send hex 0a0\n",
		  "[t.cfg:4] : 'udp-check-send': '0a0': an even number of hex digits is expected" },
		{ "udp-lb x\n    dgram-bind 127.0.0.1:53\n    server a 10.0.0.1:53\n    udp-check-send hex 0g\n",
		  "[t.cfg:4] : 'udp-check-send': '0g': invalid hex digit at position 2" },
		{ "udp-lb x\n    dgram-bind 127.0.0.1:53\n    server a 10.0.0.1:53\n    udp-check-send text abc\n",
		  "[t.cfg:4] : 'udp-check-send': expects 'hex <hex digits>', got 'text'" },
		{ "udp-lb x\n    dgram-bind 127.0.0.1:53\n    server a 10.0.0.1:53\n    option udp-check now\n",
		  "[t.cfg:4] : 'option udp-check' takes no argument" },
		{ "udp-lb x\n    dgram-bind 127.0.0.1:53\n    server a 10.0.0.1:53\n    timeout check 0\n",
		  "[t.cfg:4] : 'timeout check' must be above 0 in a 'udp-lb' section" },
		{ "udp-lb x\n    dgram-bind 127.0.0.1:53\n    server a 10.0.0.1:53\n    mirror disk /tmp/x.pcap\n",
		  "[t.cfg:4] : 'mirror': unknown output 'disk'" },
		{ "udp-lb x\n    dgram-bind 127.0.0.1:53\n    server a 10.0.0.1:53\n    mirror-depth -1\n",
		  "[t.cfg:4] : 'mirror-depth': invalid size '-1'" },
		{ "udp-lb x\n    dgram-bind 127.0.0.1:53\n    server a 10.0.0.1:53\n    intercept-file /tmp/x\n",
		  "[t.cfg:4] : 'intercept-file' is not supported by decoyproxy: not yet supported in a 'udp-lb' section" },
		{ "udp-lb x\n    dgram-bind 127.0.0.1:53\n    server a [fd00::1]:53\n    source 0.0.0.0 usesrc 10.9.9.9\n",
		  "[t.cfg:3] : udp-lb 'x' server 'a': not of the address family of 'usesrc 10.9.9.9'" },
		{ "udp-lb x\n    dgram-bind 127.0.0.1:53\n    server a 10.0.0.1 send-proxy\n",
		  "[t.cfg:3] : 'server': 'send-proxy' (v1) cannot carry UDP" },
		{ "udp-lb x\n    dgram-bind 127.0.0.1:53\n    server a 0.0.0.0\n",
		  "[t.cfg:3] : 'server': '0.0.0.0': the address of the original destination" },
		{ "udp-lb x\n    dgram-bind 127.0.0.1:53\n    server a 10.0.0.1\n    server a 10.0.0.2\n",
		  "[t.cfg:4] : 'server': udp-lb 'x' has two servers named 'a' (the other at t.cfg:3)" },
		{ "udp-lb x\n    dgram-bind 127.0.0.1:53\n    server a 10.0.0.1\n    balance leastconn\n",
		  "[t.cfg:4] : 'balance': 'leastconn' is not supported in a 'udp-lb' section" },
		{ "udp-lb x\n    dgram-bind 127.0.0.1:53\n    server a 10.0.0.1\n    timeout server 1s\n",
		  "[t.cfg:4] : 'timeout server' is not supported in a 'udp-lb' section" },
		{ "udp-lb x\n    dgram-bind 127.0.0.1:53\n    server a 10.0.0.1\n    udp-reply-limit size\n",
		  "[t.cfg:4] : 'udp-reply-limit': expects 2 arguments" },
		{ "udp-lb x\n    dgram-bind 127.0.0.1:53\n    server a 10.0.0.1\n    udp-reply-limit foo 1\n",
		  "[t.cfg:4] : 'udp-reply-limit': unknown limit 'foo'" },
		{ "udp-lb x\n    dgram-bind 127.0.0.1:53\n    server a 10.0.0.1\n    udp-reply-limit size 70000\n",
		  "[t.cfg:4] : 'udp-reply-limit': 'size' expects an integer from 0 to 65535, got '70000'" },
		{ "udp-lb x\n    dgram-bind 127.0.0.1:53\n    server a 10.0.0.1\n    maxconn 0\n",
		  "[t.cfg:4] : 'maxconn': invalid value '0'" },
		{ "udp-lb x\n    dgram-bind 127.0.0.1:53\n",
		  "[t.cfg:1] : udp-lb 'x' has no server" },
		{ "udp-lb x\n    server a 10.0.0.1\n",
		  "[t.cfg:1] : udp-lb 'x' has no 'dgram-bind' line" },
		{ "udp-lb x\n    dgram-bind 127.0.0.1:53\n    server a 10.0.0.1\n    intercept 192.0.2.1:53\n",
		  "[t.cfg:4] : udp-lb 'x': 'intercept' needs a 'dgram-bind ... transparent'" },
		{ "udp-lb x\n    dgram-bind 127.0.0.1:53 transparent\n    server a 10.0.0.1\n    intercept 192.0.2.1:53 announce\n",
		  "[t.cfg:4] : 'intercept': 'announce' is not yet supported in a 'udp-lb' section" },
		{ "udp-lb x\n    dgram-bind 127.0.0.1:53\n    server a 10.0.0.1 send-proxy-v2\n    source 0.0.0.0 usesrc clientip\n",
		  "[t.cfg:3] : udp-lb 'x' server 'a': 'send-proxy-v2' and 'source ... usesrc' are exclusive" },
		{ "udp-lb x\n    dgram-bind 127.0.0.1:53 transparent\n    server a 10.0.0.1\n    intercept [fd09::1]:53\n",
		  "[t.cfg:4] : udp-lb 'x' intercepts IPv6 decoys but has no IPv6 'dgram-bind ... transparent'" },
		{ "udp-lb x\n    dgram-bind 127.0.0.1:53\n    server a 10.0.0.1\nudp-lb x\n    dgram-bind 127.0.0.1:54\n    server a 10.0.0.1\n",
		  "[t.cfg:4] : 'udp-lb': udp-lb 'x' has the same name as another udp-lb declared at t.cfg:1" },
		{ "udp-lb x\n    dgram-bind 127.0.0.1:53\n    server a 10.0.0.1\n    option tcplog\n",
		  "[t.cfg:4] : 'option tcplog' is not supported in a 'udp-lb' section (only 'option udp-check')" },
	};

	(void)state;
	assert_int_equal(modules_init(), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct dp_config *c;

		msgs[0] = 0;
		ha_msg_hook = capture;
		if (parse(bad[i].cfg, &c) == 0)
			fail_msg("accepted: %s", bad[i].cfg);
		ha_msg_hook = NULL;
		if (!strstr(msgs, bad[i].msg))
			fail_msg("config %zu: no '%s' in:\n%s", i, bad[i].msg, msgs);
		dp_config_put(c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key),
		cmocka_unit_test(test_ftab_bounded),
		cmocka_unit_test(test_ftab_seeded),
		cmocka_unit_test(test_reply_check),
		cmocka_unit_test(test_rlim),
		cmocka_unit_test(test_flow_end_format),
		cmocka_unit_test(test_chk_apply),
		cmocka_unit_test(test_cfg_good),
		cmocka_unit_test(test_cfg_carry),
		cmocka_unit_test(test_cfg_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
