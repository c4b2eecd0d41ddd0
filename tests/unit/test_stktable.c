/* Unit tests: stick tables (rules/stktable.h) — eviction at size,
 * nopurge, expiry, tracked entries, rolling-period rates, keys of each
 * type, filters, the `stick-table` keyword and its errors, track-sc and
 * the sc*_, src_* and table_* fetches through the rules, the reload carry-over,
 * the per-source log rate limit (log/ratelim.h), and four threads tracking,
 * counting, reading, expiring and clearing the same tables at once (run
 * under ThreadSanitizer by make check-tsan). */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/addr.h"
#include "cfg/cfg.h"
#include "log/msg.h"
#include "log/ratelim.h"
#include "model/conf.h"
#include "model/proxy.h"
#include "rules/rules.h"
#include "rules/sample.h"
#include "rules/stktable.h"
#include "ctl/module.h"

#include "helpers.h"

static int setup(void **state)
{
	(void)state;
	ha_msg_hook = capture;
	dp_msg.quiet = true;
	assert_int_equal(modules_init(), 0);
	return 0;
}

static void set_ip(struct sockaddr_storage *a, const char *ip)
{
	memset(a, 0, sizeof(*a));
	if (strchr(ip, ':')) {
		a->ss_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, ip, &((struct sockaddr_in6 *)a)->sin6_addr), 1);
	} else {
		a->ss_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, ip, &((struct sockaddr_in *)a)->sin_addr), 1);
	}
}

static struct stk_def def_of(enum stk_type type, unsigned size, unsigned expire)
{
	struct stk_def d;

	memset(&d, 0, sizeof(d));
	d.type = type;
	d.klen = type == STK_T_IPV6 ? 16 : type == STK_T_STR ? 8 : 4;
	d.size = size;
	d.expire = expire;
	d.store = 1u << STK_DT_GPC0 | 1u << STK_DT_CONN_CNT | 1u << STK_DT_CONN_CUR | 1u << STK_DT_CONN_RATE |
		  1u << STK_DT_BYTES_IN_RATE | 1u << STK_DT_BYTES_IN_CNT;
	d.period[STK_DT_CONN_RATE] = 1000;
	d.period[STK_DT_BYTES_IN_RATE] = 1000;
	return d;
}

static void ikey(unsigned char *k, uint32_t v)
{
	memcpy(k, &v, 4);
}

static void count(void *arg, const struct stktable *t, const struct stksess *e, uint64_t now)
{
	(void)t;
	(void)e;
	(void)now;
	(*(unsigned *)arg)++;
}

static bool has(struct stktable *t, uint32_t v, uint64_t now)
{
	unsigned char k[4];
	struct stk_filter f;
	unsigned n = 0;

	ikey(k, v);
	memset(&f, 0, sizeof(f));
	f.dt = -1;
	f.has_key = true;
	memcpy(f.key, k, 4);
	/* count through a dump (no side effect on the entry) */
	stk_dump(t, &f, now, count, &n);
	return n == 1;
}

static void test_eviction(void **state)
{
	struct stk_def d = def_of(STK_T_INT, 3, 0);
	struct stktable *t = stktable_new("t", &d);
	unsigned char k[4];
	struct stksess *e1;
	uint64_t v;

	(void)state;
	assert_non_null(t);
	ikey(k, 1);
	e1 = stk_track(t, k, 10);               /* tracked: never evicted */
	assert_non_null(e1);
	for (uint32_t i = 2; i <= 3; i++) {
		ikey(k, i);
		assert_int_equal(stk_key_inc_gpc0(t, k, false, 10 + i, &v), 1);
	}
	assert_int_equal(stk_used(t, 20), 3);
	ikey(k, 4);
	assert_int_equal(stk_key_inc_gpc0(t, k, false, 30, &v), 1);
	assert_int_equal(stk_used(t, 30), 3);
	/* the oldest idle entry (2) went, the tracked one (1) stayed */
	assert_true(has(t, 1, 30));
	assert_false(has(t, 2, 30));
	assert_true(has(t, 3, 30));
	assert_true(has(t, 4, 30));
	/* updating 3 makes it younger than 4: 4 goes next */
	ikey(k, 3);
	stk_key_inc_gpc0(t, k, false, 40, &v);
	ikey(k, 5);
	stk_key_inc_gpc0(t, k, false, 50, &v);
	assert_true(has(t, 3, 50));
	assert_false(has(t, 4, 50));
	stk_untrack(t, e1, 0, 0, 60);
	stktable_put(t);

	/* nopurge: a full table keeps its entries and refuses new keys */
	d.nopurge = true;
	t = stktable_new("t", &d);
	for (uint32_t i = 1; i <= 3; i++) {
		ikey(k, i);
		assert_int_equal(stk_key_inc_gpc0(t, k, false, i, &v), 1);
	}
	ikey(k, 9);
	assert_int_equal(stk_key_inc_gpc0(t, k, false, 10, &v), 0);
	assert_null(stk_track(t, k, 10));
	assert_true(has(t, 1, 10));
	assert_false(has(t, 9, 10));
	stktable_put(t);

	/* full of tracked entries: a new key is not stored */
	d.nopurge = false;
	d.size = 1;
	t = stktable_new("t", &d);
	ikey(k, 1);
	e1 = stk_track(t, k, 0);
	ikey(k, 2);
	assert_null(stk_track(t, k, 0));
	stk_untrack(t, e1, 0, 0, 1);
	assert_non_null((e1 = stk_track(t, k, 2)));
	assert_false(has(t, 1, 2));
	stk_untrack(t, e1, 0, 0, 3);
	stktable_put(t);
}

static void test_expiry(void **state)
{
	struct stk_def d = def_of(STK_T_INT, 10, 1000);
	struct stktable *t = stktable_new("t", &d);
	unsigned char k[4];
	struct stksess *e;
	uint64_t v;

	(void)state;
	ikey(k, 7);
	stk_key_inc_gpc0(t, k, false, 0, &v);
	assert_true(has(t, 7, 999));
	assert_false(has(t, 7, 1000));
	assert_int_equal(stk_used(t, 1000), 0);
	/* an update restarts the delay */
	stk_key_inc_gpc0(t, k, false, 2000, &v);
	stk_key_inc_gpc0(t, k, false, 2900, &v);
	assert_int_equal(v, 2);
	assert_true(has(t, 7, 3800));
	assert_false(has(t, 7, 3900));
	/* tracked: does not expire; released: expires `expire` later */
	e = stk_track(t, k, 5000);
	assert_true(has(t, 7, 9000));
	stk_key_get(t, k, STK_DT_CONN_CUR, 9000, &v);
	assert_int_equal(v, 1);
	stk_untrack(t, e, 100, 0, 9000);
	stk_key_get(t, k, STK_DT_CONN_CUR, 9000, &v);
	assert_int_equal(v, 0);
	stk_key_get(t, k, STK_DT_BYTES_IN_CNT, 9000, &v);
	assert_int_equal(v, 100);
	assert_true(has(t, 7, 9999));
	assert_false(has(t, 7, 10000));
	/* an absent key reads 0; a type not stored gives no value */
	assert_int_equal(stk_key_get(t, k, STK_DT_CONN_CNT, 10000, &v), 1);
	assert_int_equal(v, 0);
	assert_int_equal(stk_key_get(t, k, STK_DT_GPT0, 10000, &v), 0);
	stktable_put(t);
}

static void test_rates(void **state)
{
	struct stk_def d = def_of(STK_T_INT, 10, 0);
	struct stktable *t = stktable_new("t", &d);
	unsigned char k[4];
	struct stksess *e[10];
	uint64_t v;

	(void)state;
	ikey(k, 1);
	for (int i = 0; i < 10; i++)
		e[i] = stk_track(t, k, 100);
	stk_entry_get(t, e[0], STK_DT_CONN_RATE, 100, &v);
	assert_int_equal(v, 10);
	stk_entry_get(t, e[0], STK_DT_CONN_RATE, 1099, &v);
	assert_int_equal(v, 10);
	/* next period: the previous one weighs what is left of it */
	stk_entry_get(t, e[0], STK_DT_CONN_RATE, 1100, &v);
	assert_int_equal(v, 10);
	stk_entry_get(t, e[0], STK_DT_CONN_RATE, 1600, &v);
	assert_int_equal(v, 5);
	stk_entry_get(t, e[0], STK_DT_CONN_RATE, 2099, &v);
	assert_int_equal(v, 0);
	stk_entry_get(t, e[0], STK_DT_CONN_RATE, 2100, &v);
	assert_int_equal(v, 0);
	/* 4 more in the period after the first: 4 + 10 * (1000 - 300) / 1000 */
	for (int i = 0; i < 4; i++)
		stk_untrack(t, e[i], 0, 0, 1100);
	for (int i = 0; i < 4; i++)
		e[i] = stk_track(t, k, 1200);
	stk_entry_get(t, e[0], STK_DT_CONN_RATE, 1400, &v);
	assert_int_equal(v, 4 + 7);
	stk_entry_get(t, e[0], STK_DT_CONN_CNT, 1400, &v);
	assert_int_equal(v, 14);
	stk_entry_get(t, e[0], STK_DT_CONN_CUR, 1400, &v);
	assert_int_equal(v, 10);
	/* bytes counted when a session ends */
	stk_untrack(t, e[0], 3000, 0, 1500);
	stk_entry_get(t, e[1], STK_DT_BYTES_IN_RATE, 1500, &v);
	assert_int_equal(v, 3000);
	/* long idle: both periods gone */
	stk_entry_get(t, e[1], STK_DT_CONN_RATE, 10000, &v);
	assert_int_equal(v, 0);
	for (int i = 1; i < 10; i++)
		stk_untrack(t, e[i], 0, 0, 10000);
	stktable_put(t);
}

static void test_keys(void **state)
{
	struct stk_def d4 = def_of(STK_T_IP, 10, 0), d6 = def_of(STK_T_IPV6, 10, 0);
	struct stk_def di = def_of(STK_T_INT, 10, 0), ds = def_of(STK_T_STR, 10, 0);
	struct stktable *t4 = stktable_new("a", &d4), *t6 = stktable_new("b", &d6);
	struct stktable *ti = stktable_new("c", &di), *ts = stktable_new("d", &ds);
	unsigned char k[STK_KEY_MAX], k2[STK_KEY_MAX];
	struct sample s;
	char txt[128];

	(void)state;
	memset(&s, 0, sizeof(s));
	s.type = SMP_T_ADDR;
	set_ip(&s.u.addr, "10.1.2.3");
	assert_int_equal(stk_key_from_smp(t4, &s, k), 0);
	stk_key_to_text(t4, k, txt, sizeof(txt));
	assert_string_equal(txt, "10.1.2.3");
	assert_int_equal(stk_key_from_smp(t6, &s, k), 0);
	stk_key_to_text(t6, k, txt, sizeof(txt));
	assert_string_equal(txt, "::ffff:10.1.2.3");
	assert_int_equal(stk_key_from_text(t6, "10.1.2.3", k2), 0);
	assert_memory_equal(k, k2, 16);
	set_ip(&s.u.addr, "2001:db8::1");
	assert_int_equal(stk_key_from_smp(t4, &s, k), -1);      /* no IPv6 in an ip table */
	assert_int_equal(stk_key_from_smp(t6, &s, k), 0);
	stk_key_to_text(t6, k, txt, sizeof(txt));
	assert_string_equal(txt, "2001:db8::1");
	assert_int_equal(stk_key_from_text(t4, "2001:db8::1", k), -1);

	s.type = SMP_T_SINT;
	s.u.sint = 4242;
	assert_int_equal(stk_key_from_smp(ti, &s, k), 0);
	stk_key_to_text(ti, k, txt, sizeof(txt));
	assert_string_equal(txt, "4242");
	assert_int_equal(stk_key_from_text(ti, "4242", k2), 0);
	assert_memory_equal(k, k2, 4);
	assert_int_equal(stk_key_from_text(ti, "-1", k2), -1);
	assert_int_equal(stk_key_from_text(ti, "4294967296", k2), -1);
	/* an integer sample in a string table is its text */
	assert_int_equal(stk_key_from_smp(ts, &s, k), 0);
	stk_key_to_text(ts, k, txt, sizeof(txt));
	assert_string_equal(txt, "4242");

	s.type = SMP_T_STR;
	s.u.str.ptr = "abcdefghijkl";         /* cut at len 8 */
	s.u.str.len = 12;
	assert_int_equal(stk_key_from_smp(ts, &s, k), 0);
	stk_key_to_text(ts, k, txt, sizeof(txt));
	assert_string_equal(txt, "abcdefgh");
	assert_int_equal(stk_key_from_text(ts, "abcdefghZZ", k2), 0);
	assert_memory_equal(k, k2, 8);
	s.u.str.ptr = "a b\\\x01";            /* hostile bytes are escaped */
	s.u.str.len = 5;
	stk_key_from_smp(ts, &s, k);
	stk_key_to_text(ts, k, txt, sizeof(txt));
	assert_string_equal(txt, "a\\x20b\\x5c\\x01");
	stktable_put(t4);
	stktable_put(t6);
	stktable_put(ti);
	stktable_put(ts);
}

static void test_filters(void **state)
{
	struct stk_def d = def_of(STK_T_IP, 10, 0);
	struct stktable *t = stktable_new("tbl", &d);
	struct stk_filter f;
	unsigned char k[4];
	char *err = NULL;
	uint64_t v;
	char *a1[] = { "data.gpc0", "gt", "1" }, *a2[] = { "key", "10.0.0.1" }, *a3[] = { "data.nope", "gt", "1" };
	char *a4[] = { "data.gpt0", "gt", "1" }, *a5[] = { "data.gpc0", "xx", "1" }, *a6[] = { "key", "x" };
	char *a7[] = { "bogus" };

	(void)state;
	inet_pton(AF_INET, "10.0.0.1", k);
	stk_key_inc_gpc0(t, k, false, 0, &v);
	stk_key_inc_gpc0(t, k, false, 0, &v);
	inet_pton(AF_INET, "10.0.0.2", k);
	stk_key_inc_gpc0(t, k, false, 0, &v);
	assert_int_equal(stk_filter_parse(t, 3, a1, &f, &err), 0);
	assert_int_equal(stk_clear(t, &f, 1), 1);
	assert_int_equal(stk_used(t, 1), 1);
	assert_int_equal(stk_filter_parse(t, 2, a2, &f, &err), 0);
	assert_int_equal(stk_clear(t, &f, 1), 0);
	assert_int_equal(stk_clear(t, NULL, 1), 1);
	assert_int_equal(stk_filter_parse(t, 3, a3, &f, &err), -1);
	assert_non_null(strstr(err, "Unknown data type 'nope'"));
	free(err);
	err = NULL;
	assert_int_equal(stk_filter_parse(t, 3, a4, &f, &err), -1);
	assert_non_null(strstr(err, "not stored in table 'tbl'"));
	free(err);
	err = NULL;
	assert_int_equal(stk_filter_parse(t, 3, a5, &f, &err), -1);
	assert_non_null(strstr(err, "operator"));
	free(err);
	err = NULL;
	assert_int_equal(stk_filter_parse(t, 2, a6, &f, &err), -1);
	assert_non_null(strstr(err, "not a valid key"));
	free(err);
	err = NULL;
	assert_int_equal(stk_filter_parse(t, 1, a7, &f, &err), -1);
	free(err);
	stktable_put(t);
}

/* ---- configuration --------------------------------------------------------------------- */

#define HEAD "defaults\n  mode tcp\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\n"

static struct dp_config *load(const char *text, int *errs)
{
	struct dp_config *c = dp_config_new();

	msgs[0] = '\0';
	*errs = cfg_parse_buffer(c, "t.cfg", text);
	if (!*errs)
		*errs = modules_finalize(c);
	return c;
}

static void expect_cfg_error(const char *text, const char *needle)
{
	int e;
	struct dp_config *c = load(text, &e);

	if (!e || !strstr(msgs, needle))
		fail_msg("expected an error with '%s', got %d:\n%s", needle, e, msgs);
	dp_config_put(c);
}

static void test_keyword(void **state)
{
	int e;
	struct dp_config *c;
	struct stktable *t;

	(void)state;
	c = load(HEAD "backend b\n  stick-table type string len 64 size 2k expire 30s nopurge store conn_cnt,conn_rate(10s) store gpc0\n", &e);
	assert_int_equal(e, 0);
	t = stk_conf_find(c, "b");
	assert_non_null(t);
	assert_int_equal(t->def.type, STK_T_STR);
	assert_int_equal(t->def.klen, 64);
	assert_int_equal(t->def.size, 2048);
	assert_int_equal(t->def.expire, 30000);
	assert_true(t->def.nopurge);
	assert_int_equal(t->def.period[STK_DT_CONN_RATE], 10000);
	assert_int_equal(t->def.store, 1u << STK_DT_CONN_CNT | 1u << STK_DT_CONN_RATE | 1u << STK_DT_GPC0);
	dp_config_put(c);

	expect_cfg_error(HEAD "backend b\n  stick-table type ip\n", "t.cfg:7");
	expect_cfg_error(HEAD "backend b\n  stick-table type ip\n", "missing size");
	expect_cfg_error(HEAD "backend b\n  stick-table size 10\n", "missing type");
	expect_cfg_error(HEAD "backend b\n  stick-table type mac size 10\n", "'type' expects 'ip', 'ipv6', 'integer' or 'string', found 'mac'");
	expect_cfg_error(HEAD "backend b\n  stick-table type ip size lots\n", "'size' expects");
	expect_cfg_error(HEAD "backend b\n  stick-table type ip size 10 expire soon\n", "'expire' expects");
	expect_cfg_error(HEAD "backend b\n  stick-table type ip size 10 store conn_rate\n", "expects a period");
	expect_cfg_error(HEAD "backend b\n  stick-table type ip size 10 store conn_rate(0)\n", "positive time");
	expect_cfg_error(HEAD "backend b\n  stick-table type ip size 10 store conn_cnt(1s)\n", "takes no argument");
	expect_cfg_error(HEAD "backend b\n  stick-table type ip size 10 store http_req_rate(10s)\n", "'http_req_rate' is not supported by decoyproxy yet");
	expect_cfg_error(HEAD "backend b\n  stick-table type ip size 10 store sess_cnt\n", "'sess_cnt' is not supported by decoyproxy yet");
	expect_cfg_error(HEAD "backend b\n  stick-table type ip size 10 store bogus\n", "unknown data type 'bogus'");
	expect_cfg_error(HEAD "backend b\n  stick-table type ip size 10 store gpc0,gpc0\n", "given twice");
	expect_cfg_error(HEAD "backend b\n  stick-table type ip size 10 peers p\n", "'peers' is not supported by decoyproxy yet");
	expect_cfg_error(HEAD "backend b\n  stick-table type binary size 10\n", "not supported by decoyproxy yet");
	expect_cfg_error(HEAD "backend b\n  stick-table type string len 0 size 10\n", "'len' expects");
	expect_cfg_error(HEAD "backend b\n  stick-table type ip size 10\n  stick-table type ip size 10\n", "only one stick-table per proxy");
	expect_cfg_error(HEAD "  stick-table type ip size 10\n", "stick-table");
	/* references */
	expect_cfg_error(HEAD "frontend f\n  bind 127.0.0.1:1\n  tcp-request connection track-sc0 src\n  default_backend b\nbackend b\n",
			 "[t.cfg:8] : proxy 'f': 'track-sc0' refers to this proxy's stick-table, and it has none");
	expect_cfg_error(HEAD "frontend f\n  bind 127.0.0.1:1\n  tcp-request connection track-sc1 src table nosuch\n  default_backend b\nbackend b\n",
			 "unable to find stick-table 'nosuch' referenced by 'track-sc1'");
	expect_cfg_error(HEAD "frontend f\n  bind 127.0.0.1:1\n  tcp-request connection reject if { src_conn_rate(nosuch) gt 1 }\n  default_backend b\nbackend b\n",
			 "referenced by 'src_conn_rate'");
	expect_cfg_error(HEAD "frontend f\n  bind 127.0.0.1:1\n  tcp-request connection track-sc3 src\n  default_backend b\nbackend b\n",
			 "but got 'track-sc3'");
	expect_cfg_error(HEAD "frontend f\n  bind 127.0.0.1:1\n  stick-table type ip size 1\n  tcp-request connection sc-inc-gpc0(5)\n  default_backend b\nbackend b\n",
			 "stick counter from 0 to 2");
	expect_cfg_error(HEAD "frontend f\n  bind 127.0.0.1:1\n  stick-table type ip size 1\n  tcp-request connection track-sc0 src table\n  default_backend b\nbackend b\n",
			 "optionally 'table <name>'");
	expect_cfg_error(HEAD "frontend f\n  bind 127.0.0.1:1\n  stick-table type ip size 1\n  tcp-request connection reject if { sc_conn_rate(4) gt 1 }\n  default_backend b\nbackend b\n",
			 "invalid stick counter 4");
	expect_cfg_error(HEAD "frontend f\n  bind 127.0.0.1:1\n  stick-table type ip size 1\n  tcp-request connection sc-inc-gpc1(0)\n  default_backend b\nbackend b\n",
			 "'tcp-request connection sc-inc-gpc1(0)' is not supported by decoyproxy yet");
}

#define RULES_CFG HEAD \
	"frontend f\n  bind 127.0.0.1:1\n" \
	"  stick-table type ip size 10 expire 10s store conn_cnt,conn_cur,conn_rate(10s),gpc0,gpt0\n" \
	"  tcp-request connection track-sc0 src\n" \
	"  tcp-request connection track-sc2 src table st6\n" \
	"  tcp-request connection sc-inc-gpc0(0)\n" \
	"  tcp-request connection sc-set-gpt0(0) 42\n" \
	"  tcp-request connection reject if { sc0_conn_rate gt 2 }\n" \
	"  default_backend b\n" \
	"backend b\n  server s 10.0.0.1:80\n" \
	"backend st6\n  stick-table type ipv6 size 10 store conn_cnt\n"

static int eval(struct dp_config *c, const char *expr, struct smp_sess *ss, char *out, size_t cap)
{
	struct smp_pctx pc = { .conf = c, .px = ss->fe, .file = "t.cfg", .line = 99 };
	struct smp_expr *e;
	struct sample smp;
	char *err = NULL;
	int r;

	if (smp_expr_parse(expr, NULL, NULL, &pc, &e, &err) < 0)
		fail_msg("'%s' does not parse: %s", expr, err);
	/* the reference a src_* fetch makes is resolved at finalize */
	assert_int_equal(stktable_finalize(c), 0);
	r = smp_expr_eval(e, ss, &smp);
	if (r)
		smp_to_text(&smp, out, cap);
	else
		snprintf(out, cap, "<none>");
	smp_expr_free(e);
	return r;
}

static void expect_val(struct dp_config *c, struct smp_sess *ss, const char *expr, const char *want)
{
	char out[256];

	eval(c, expr, ss, out, sizeof(out));
	if (strcmp(out, want))
		fail_msg("%s: got '%s', expected '%s'", expr, out, want);
}

static void test_track_rules(void **state)
{
	int e;
	struct dp_config *c = load(RULES_CFG, &e);
	struct sockaddr_storage src, dst;
	struct smp_store *st[4];
	struct smp_sess ss;
	enum rules_verdict v;

	(void)state;
	assert_int_equal(e, 0);
	set_ip(&src, "10.1.2.3");
	set_ip(&dst, "192.0.2.1");
	memset(&ss, 0, sizeof(ss));
	ss.src = &src;
	ss.dst = &dst;
	ss.fe = ss.be = dp_config_find_proxy(c, "f", PR_CAP_FE);
	ss.conf = c;
	ss.final = true;
	expect_val(c, &ss, "sc0_tracked", "0");
	expect_val(c, &ss, "sc0_conn_cnt", "<none>");
	expect_val(c, &ss, "src_conn_cnt", "0");
	for (int i = 0; i < 4; i++) {
		st[i] = smp_store_new();
		ss.store = st[i];
		v = rules_tcp_connection(ss.fe->rules, &ss, NULL);
		/* the third connection within 10 s is over the rate */
		assert_int_equal(v, i < 2 ? RV_CONTINUE : RV_REJECT);
	}
	ss.store = st[3];
	expect_val(c, &ss, "sc0_tracked", "1");
	expect_val(c, &ss, "sc1_tracked", "0");
	expect_val(c, &ss, "sc2_tracked", "1");
	expect_val(c, &ss, "sc0_conn_cnt", "4");
	expect_val(c, &ss, "sc0_conn_cur", "4");
	expect_val(c, &ss, "sc_conn_cur(0)", "4");
	expect_val(c, &ss, "sc0_conn_rate", "4");
	expect_val(c, &ss, "sc0_get_gpc0", "4");
	expect_val(c, &ss, "sc0_get_gpt0", "42");
	expect_val(c, &ss, "sc0_gpc0_rate", "<none>");       /* not stored */
	expect_val(c, &ss, "sc2_conn_cnt", "4");
	expect_val(c, &ss, "sc0_inc_gpc0", "5");
	expect_val(c, &ss, "src_get_gpc0", "5");
	expect_val(c, &ss, "src_inc_gpc0", "6");
	expect_val(c, &ss, "src_clr_gpc0", "6");
	expect_val(c, &ss, "src_get_gpc0", "0");
	expect_val(c, &ss, "src_conn_cnt(st6)", "4");
	expect_val(c, &ss, "table_cnt", "1");
	expect_val(c, &ss, "table_avl", "9");
	expect_val(c, &ss, "table_cnt(st6)", "1");
	for (int i = 0; i < 4; i++)
		stk_sess_release(st[i], 10, 20);
	expect_val(c, &ss, "src_conn_cur", "0");
	expect_val(c, &ss, "src_kbytes_in", "<none>");      /* not stored */
	expect_val(c, &ss, "sc0_conn_cnt", "<none>");       /* released */
	/* another source is counted apart */
	set_ip(&src, "10.9.9.9");
	expect_val(c, &ss, "src_conn_cnt", "0");
	for (int i = 0; i < 4; i++)
		smp_store_free(st[i]);
	dp_config_put(c);
}

static void test_carry(void **state)
{
	int e;
	struct dp_config *a = load(RULES_CFG, &e), *b, *d;
	struct stktable *ta, *ta6;
	unsigned char k[4];
	uint64_t v;

	(void)state;
	assert_int_equal(e, 0);
	ta = stk_conf_find(a, "f");
	ta6 = stk_conf_find(a, "st6");
	inet_pton(AF_INET, "10.0.0.1", k);
	stk_key_inc_gpc0(ta, k, false, stk_now_ms(), &v);
	/* the same definition: the same table, entries kept */
	b = load(RULES_CFG, &e);
	assert_int_equal(e, 0);
	stktable_carry(b, a);
	assert_ptr_equal(stk_conf_find(b, "f"), ta);
	assert_int_equal(stk_used(stk_conf_find(b, "f"), stk_now_ms()), 1);
	dp_config_put(a);
	/* the old generation is gone, the table lives on in the new one */
	assert_int_equal(stk_key_get(ta, k, STK_DT_GPC0, stk_now_ms(), &v), 1);
	assert_int_equal(v, 1);
	/* a changed definition (size) starts empty, with a notice */
	{
		char *txt = strdup(RULES_CFG);
		char *p = strstr(txt, "type ip size 10 ");

		p[13] = '2';
		d = load(txt, &e);
		free(txt);
	}
	assert_int_equal(e, 0);
	msgs[0] = '\0';
	stktable_carry(d, b);
	assert_ptr_not_equal(stk_conf_find(d, "f"), ta);
	assert_int_equal(stk_used(stk_conf_find(d, "f"), stk_now_ms()), 0);
	assert_non_null(strstr(msgs, "stick-table 'f': its definition changed, it starts empty"));
	assert_ptr_equal(stk_conf_find(b, "st6"), ta6);
	assert_ptr_equal(stk_conf_find(d, "st6"), ta6);   /* unchanged: kept */
	dp_config_put(b);
	dp_config_put(d);
}

static void test_ratelim(void **state)
{
	struct sockaddr_storage a, b;
	unsigned skipped;

	(void)state;
	set_ip(&a, "10.0.0.1");
	set_ip(&b, "2001:db8::1");
	assert_true(ratelim_allow(&a, 5000, 1000, &skipped));
	assert_int_equal(skipped, 0);
	assert_false(ratelim_allow(&a, 5100, 1000, &skipped));
	assert_false(ratelim_allow(&a, 5999, 1000, &skipped));
	assert_true(ratelim_allow(&b, 5999, 1000, &skipped));  /* another source */
	assert_true(ratelim_allow(&a, 6000, 1000, &skipped));
	assert_int_equal(skipped, 2);
	assert_false(ratelim_allow(&a, 6500, 1000, &skipped));
	assert_true(ratelim_allow(&a, 9000, 1000, &skipped));
	assert_int_equal(skipped, 1);
}

/* ---- several threads ---- */

#define NTHR 4
#define MT_ROUNDS 4000
#define MT_KEYS 100

struct mt {
	struct stktable *exact;         /* big enough: nothing evicted */
	struct stktable *churn;         /* 16 entries, 1 ms expiry, cleared */
	unsigned bad;
};

static void *mt_worker(void *arg)
{
	struct mt *m = arg;
	unsigned seed = (unsigned)(uintptr_t)&seed, bad = 0;
	struct stksess *held[2] = { 0 }, *ch = NULL;
	uint32_t hkey[2] = { 0 };

	for (unsigned i = 0; i < MT_ROUNDS; i++) {
		unsigned char k[4];
		uint32_t kv = (uint32_t)(rand_r(&seed) % MT_KEYS);
		unsigned slot = i & 1;
		uint64_t now = stk_now_ms(), v;

		if (held[slot]) {
			/* a tracked entry is never evicted nor expired: its
			 * key is still the one tracked */
			if (memcmp(held[slot]->key, &hkey[slot], 4) ||
			    stk_entry_get(m->exact, held[slot], STK_DT_CONN_CUR, now, &v) != 1 || !v)
				bad++;
			stk_untrack(m->exact, held[slot], 10, 0, now);
			held[slot] = NULL;
		} else {
			ikey(k, kv);
			held[slot] = stk_track(m->exact, k, now);
			hkey[slot] = kv;
			if (!held[slot] || stk_entry_inc_gpc0(m->exact, held[slot], now, &v) != 1)
				bad++;
		}
		ikey(k, kv);
		if (stk_key_inc_gpc0(m->exact, k, false, now, &v) != 1 || !v)
			bad++;
		/* the small table: tracked while others evict, expire, clear */
		if (ch) {
			stk_untrack(m->churn, ch, 1, 1, now);
			ch = NULL;
		} else {
			ch = stk_track(m->churn, k, now);
			if (!ch)
				bad++; /* never full of tracked entries: 4 at most */
		}
		if (i % 64 == 0) {
			unsigned n = 0;

			stk_dump(m->churn, NULL, now, count, &n);
			stk_clear(m->churn, NULL, now);
			if (stk_used(m->churn, now) > 16)
				bad++;
		}
	}
	for (unsigned s2 = 0; s2 < 2; s2++)
		if (held[s2])
			stk_untrack(m->exact, held[s2], 10, 0, stk_now_ms());
	if (ch)
		stk_untrack(m->churn, ch, 1, 1, stk_now_ms());
	__atomic_add_fetch(&m->bad, bad, __ATOMIC_RELAXED);
	return NULL;
}

struct mt_sum {
	uint64_t cnt, cur, gpc0, bytes;
};

static void sum_entry(void *arg, const struct stktable *t, const struct stksess *e, uint64_t now)
{
	struct mt_sum *s = arg;

	s->cnt += stk_entry_value_locked(t, e, STK_DT_CONN_CNT, now);
	s->cur += stk_entry_value_locked(t, e, STK_DT_CONN_CUR, now);
	s->gpc0 += stk_entry_value_locked(t, e, STK_DT_GPC0, now);
	s->bytes += stk_entry_value_locked(t, e, STK_DT_BYTES_IN_CNT, now);
}

/* four threads on two tables at once: no entry lost or freed under a
 * tracker, every count exact */
static void test_threads(void **state)
{
	struct stk_def d1 = def_of(STK_T_INT, 1000, 0), d2 = def_of(STK_T_INT, 16, 1);
	struct mt m = { 0 };
	struct mt_sum s = { 0 };
	pthread_t th[NTHR];
	/* per thread: every round tracks or untracks (half of the rounds
	 * track, each with one gpc0 increment) and increments by key */
	const uint64_t tracks = NTHR * (MT_ROUNDS / 2);

	(void)state;
	m.exact = stktable_new("exact", &d1);
	m.churn = stktable_new("churn", &d2);
	assert_non_null(m.exact);
	assert_non_null(m.churn);
	for (unsigned t = 0; t < NTHR; t++)
		assert_int_equal(pthread_create(&th[t], NULL, mt_worker, &m), 0);
	for (unsigned t = 0; t < NTHR; t++)
		pthread_join(th[t], NULL);
	assert_int_equal(m.bad, 0);
	stk_dump(m.exact, NULL, stk_now_ms(), sum_entry, &s);
	assert_int_equal(s.cnt, tracks);
	assert_int_equal(s.cur, 0);
	assert_int_equal(s.gpc0, tracks + NTHR * MT_ROUNDS);
	assert_int_equal(s.bytes, tracks * 10);
	assert_in_range(stk_used(m.exact, stk_now_ms()), 1, MT_KEYS);
	stktable_put(m.exact);
	stktable_put(m.churn);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eviction),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_rates),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_filters),
		cmocka_unit_test(test_keyword),
		cmocka_unit_test(test_track_rules),
		cmocka_unit_test(test_carry),
		cmocka_unit_test(test_ratelim),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
