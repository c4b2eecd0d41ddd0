/* test_tproxy.c — `intercept` / `intercept-file` / tproxy-* keywords, their
 * errors, and the per-namespace plan that tproxy_finalize() builds from a
 * parsed configuration. No kernel, no root: the plan is checked as data and
 * turned into an nft batch with the nft module's builder. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "decoyproxy/addr.h"
#include "decoyproxy/cfg.h"
#include "decoyproxy/global.h"
#include "decoyproxy/intercept.h"
#include "decoyproxy/listener.h"
#include "decoyproxy/nft.h"
#include "decoyproxy/proxy.h"
#include "decoyproxy/runtime.h"
#include "decoyproxy/server.h"
#include "decoyproxy/tproxy.h"

static char msgs[65536];

static void capture(int kind, const char *m)
{
	static const char *const k[] = { "ALERT", "WARNING", "NOTICE", "DEBUG" };
	size_t l = strlen(msgs);

	snprintf(msgs + l, sizeof(msgs) - l, "%s: %s\n", k[kind & 3], m);
}

static int setup(void **state)
{
	(void)state;
	msgs[0] = '\0';
	ha_msg_hook = capture;
	rt.quiet = true;
	return 0;
}

/* Parses buf (and finalizes it when finalize is set); returns the errors.
 * *out receives the configuration (the caller puts it). */
static int parse_ex(const char *buf, bool finalize, struct dp_config **out)
{
	struct dp_config *c = dp_config_new();
	int errors;

	assert_non_null(c);
	msgs[0] = '\0';
	errors = cfg_parse_buffer(c, "t.cfg", buf);
	if (!errors && finalize)
		errors = dp_config_finalize(c);
	if (out)
		*out = c;
	else
		dp_config_put(c);
	return errors;
}

static int parse(const char *buf, struct dp_config **out)
{
	return parse_ex(buf, true, out);
}

static void expect_error(const char *buf, const char *needle)
{
	int e = parse(buf, NULL);

	if (e == 0 || !strstr(msgs, needle))
		fail_msg("expected an error containing \"%s\", got %d error(s):\n%s", needle, e, msgs);
}

static void expect_ok(const char *buf, struct dp_config **out)
{
	int e = parse(buf, out);

	if (e)
		fail_msg("expected no error, got %d:\n%s", e, msgs);
}

static struct proxy *find_px(struct dp_config *c, const char *name)
{
	struct proxy *px = dp_config_find_proxy(c, name, PR_CAP_FE | PR_CAP_BE);

	assert_non_null(px);
	return px;
}

static void assert_sa(const struct sockaddr_storage *ss, const char *want)
{
	char buf[INET6_ADDRSTRLEN + 16];

	assert_string_equal(addr_str(ss, buf, sizeof(buf)), want);
}

static const char *cidr_s(const struct tproxy_cidr *c, char *buf, size_t cap)
{
	char ip[INET6_ADDRSTRLEN];

	assert_non_null(inet_ntop(c->family, &c->addr, ip, sizeof(ip)));
	snprintf(buf, cap, "%s/%u", ip, c->plen);
	return buf;
}

/* Writes text to a fresh temporary file; returns its malloc'd path. */
static char *tmpfile_with(const char *text)
{
	char *path = strdup("/tmp/test_tproxy.XXXXXX");
	int fd;
	size_t len = strlen(text);

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

#define FE_HEAD "defaults\n    mode tcp\n    timeout client 5s\n    timeout connect 5s\n" \
	"    timeout server 5s\nbackend be\n    server s1 10.2.0.2\n"

/* ---- global keywords ---- */

static void test_global_defaults(void **state)
{
	struct dp_config *c;

	(void)state;
	expect_ok(FE_HEAD "frontend f\n    bind 127.0.0.1:15001\n    default_backend be\n", &c);
	assert_int_equal(tproxy_mark(c), 1);
	assert_int_equal(tproxy_table(c), 100);
	assert_true(tproxy_routing(c));
	dp_config_put(c);
}

static void test_global_keywords(void **state)
{
	struct dp_config *c;

	(void)state;
	expect_ok("global\n    tproxy-mark 0x1f\n    tproxy-table 4242\n    tproxy-routing off\n"
		  FE_HEAD "frontend f\n    bind 127.0.0.1:15001\n    default_backend be\n", &c);
	assert_int_equal(tproxy_mark(c), 0x1f);
	assert_int_equal(tproxy_table(c), 4242);
	assert_false(tproxy_routing(c));
	dp_config_put(c);

	expect_ok("global\n    tproxy-mark 4294967295\n    tproxy-routing on\n"
		  FE_HEAD "frontend f\n    bind 127.0.0.1:15001\n    default_backend be\n", &c);
	assert_int_equal(tproxy_mark(c), 0xffffffffu);
	assert_true(tproxy_routing(c));
	dp_config_put(c);
}

static void test_global_errors(void **state)
{
	(void)state;
	expect_error("global\n    tproxy-mark 0\n", "[t.cfg:2] : 'tproxy-mark': invalid mark '0'");
	expect_error("global\n    tproxy-mark 0x\n", "invalid mark '0x'");
	expect_error("global\n    tproxy-mark 0x100000000\n", "invalid mark '0x100000000'");
	expect_error("global\n    tproxy-mark 4294967296\n", "invalid mark '4294967296'");
	expect_error("global\n    tproxy-mark -1\n", "invalid mark '-1'");
	expect_error("global\n    tproxy-mark\n", "'tproxy-mark': expects one argument");
	expect_error("global\n    tproxy-mark 1 2\n", "unexpected extra argument '2'");
	expect_error("global\n    tproxy-table 254\n", "'254' cannot be used: it is the kernel's 'main' table");
	expect_error("global\n    tproxy-table 255\n", "'local' table");
	expect_error("global\n    tproxy-table 253\n", "'default' table");
	expect_error("global\n    tproxy-table 0\n", "'0' cannot be used");
	expect_error("global\n    tproxy-table main\n", "invalid routing table id 'main'");
	expect_error("global\n    tproxy-routing maybe\n", "expects 'on' or 'off', not 'maybe'");
	expect_error(FE_HEAD "frontend f\n    bind 127.0.0.1:1 transparent\n    tproxy-mark 3\n",
		     "'tproxy-mark' is not allowed in 'frontend' section");
}

/* ---- intercept keywords ---- */

static void test_intercept_parse(void **state)
{
	struct dp_config *c;
	const struct icpt_list *l;

	(void)state;
	expect_ok(FE_HEAD "frontend f\n    bind 127.0.0.1:15001 transparent\n"
		  "    bind [::1]:15002 transparent\n"
		  "    intercept 192.168.110.0/24:22,80,443\n"
		  "    intercept 192.168.110.50-192.168.110.99:1-1024 [fd09::]/120:22\n"
		  "    default_backend be\n", &c);
	l = tproxy_fe_decoys(find_px(c, "f"));
	assert_non_null(l);
	assert_true(l->normalised);
	/* /24 x {22,80,443} united with .50-.99 x 1-1024, plus the IPv6 one */
	assert_int_equal(icpt_pairs(l), 256 * 3 - 50 * 3 + 50 * 1024 + 256);
	assert_int_equal(icpt_count(l, AF_INET6), 1);
	assert_null(tproxy_fe_decoys(find_px(c, "be")));
	dp_config_put(c);
}

static void test_intercept_errors(void **state)
{
	char *bad, *empty;
	char cfg[1024];

	(void)state;
#define FE_T FE_HEAD "frontend f\n    bind 127.0.0.1:15001 transparent\n    default_backend be\n"
	expect_error(FE_T "    intercept\n", "[t.cfg:11] : 'intercept': expects at least one decoy spec");
	expect_error(FE_T "    intercept announce\n", "expects at least one decoy spec");
	expect_error(FE_T "    intercept 10.0.0.1:22 10.0.0.2:70000\n",
		     "'intercept': bad port '70000' in '10.0.0.2:70000'");
	expect_error(FE_T "    intercept announce 10.0.0.1:22\n",
		     "'announce' must be the last word");
	expect_error(FE_T "    intercept 10.0.0.1/24:22\n", "did you mean 10.0.0.0/24?");
	expect_error(FE_T "    intercept fd09::1:22\n", "must be written in brackets");
	expect_error(FE_T "    intercept 10.0.0.9-10.0.0.1:22\n", "is reversed");
	expect_error(FE_HEAD "    intercept 10.0.0.1:22\n",
		     "'intercept' is not allowed in 'backend' section");
	expect_error("defaults\n    intercept 10.0.0.1:22\n",
		     "'intercept' is not allowed in 'defaults' section");
	expect_error(FE_T "    intercept-file\n", "'intercept-file': expects a file name");
	expect_error(FE_T "    intercept-file /nonexistent/decoys.lst\n",
		     "cannot open intercept file '/nonexistent/decoys.lst'");
	expect_error(FE_T "    intercept-file /tmp/x.lst announce extra\n",
		     "unexpected word 'extra' after the file name");
	expect_error(FE_T "    intercept-file /tmp/x.lst nounce\n",
		     "unexpected word 'nounce' after the file name");

	bad = tmpfile_with("# decoys\n10.0.0.1:22\n10.0.0.2:0\n");
	snprintf(cfg, sizeof(cfg), FE_T "    intercept-file %s\n", bad);
	expect_error(cfg, ":3: bad port '0' in '10.0.0.2:0'");
	unlink(bad);
	free(bad);

	/* an empty file is a warning, not an error */
	empty = tmpfile_with("# nothing yet\n\n");
	snprintf(cfg, sizeof(cfg), FE_T "    intercept-file %s\n", empty);
	expect_ok(cfg, NULL);
	assert_non_null(strstr(msgs, "no decoy spec in file"));
	unlink(empty);
	free(empty);
#undef FE_T
}

static void test_intercept_file(void **state)
{
	struct dp_config *c;
	const struct icpt_list *l;
	char *path, cfg[1024];
	size_t n;
	const struct tproxy_ns *p;
	FILE *f;

	(void)state;
	path = tmpfile_with("");
	f = fopen(path, "w");
	assert_non_null(f);
	/* 10,000 addresses that cannot merge (every other address) */
	fprintf(f, "# generated\n");
	for (int i = 0; i < 10000; i++)
		fprintf(f, "100.64.%d.%d:22,80   # decoy %d\n", (2 * i) / 256, (2 * i) % 256, i);
	fclose(f);
	snprintf(cfg, sizeof(cfg), FE_HEAD "frontend f\n    bind 127.0.0.1:15001 transparent\n"
		 "    intercept 192.0.2.0/24:22\n    intercept-file %s\n    default_backend be\n",
		 path);
	expect_ok(cfg, &c);
	l = tproxy_fe_decoys(find_px(c, "f"));
	assert_int_equal(icpt_count(l, AF_INET), 10000 * 2 + 1);
	assert_int_equal(icpt_pairs(l), 20000 + 256);
	p = tproxy_plan(c, &n);
	assert_int_equal(n, 1);
	assert_ptr_equal(p[0].nft.decoys, l);
	assert_int_equal(p[0].nannounce, 0);
	dp_config_put(c);
	unlink(path);
	free(path);
}

static void test_overlap_warning(void **state)
{
	(void)state;
	expect_ok(FE_HEAD "frontend f\n    bind 127.0.0.1:15001 transparent\n"
		  "    intercept 10.0.0.0/24:80\n    intercept 10.0.0.7:80\n"
		  "    default_backend be\n", NULL);
	assert_non_null(strstr(msgs, "WARNING: config : frontend 'f': decoy spec '10.0.0.7:80' "
			       "(t.cfg:11) overlaps '10.0.0.0/24:80' (t.cfg:10)"));
}

/* ---- finalize checks ---- */

static void test_needs_transparent(void **state)
{
	(void)state;
	expect_error(FE_HEAD "frontend f\n    bind 127.0.0.1:15001\n    intercept 10.0.0.1:22\n"
		     "    default_backend be\n",
		     "[t.cfg:10] : frontend 'f': 'intercept' needs a 'bind ... transparent'");
	expect_error(FE_HEAD "listen l\n    bind 127.0.0.1:15001\n    intercept-file /dev/null\n"
		     "    server s 10.2.0.2\n",
		     "listen 'l': 'intercept' needs a 'bind ... transparent' in the same listen");
}

static void test_family_needs_listener(void **state)
{
	(void)state;
	expect_error(FE_HEAD "frontend f\n    bind 127.0.0.1:15001 transparent\n"
		     "    intercept 10.0.0.1:22\n    intercept [fd09::1]:22\n    default_backend be\n",
		     "[t.cfg:10] : frontend 'f' intercepts IPv6 decoys (1 element(s)) but has no "
		     "IPv6 'bind ... transparent' in the process's network namespace");
	expect_error(FE_HEAD "frontend f\n    bind [::1]:15001 transparent\n"
		     "    bind 127.0.0.1:15002\n    intercept 10.0.0.1:22\n    default_backend be\n",
		     "intercepts IPv4 decoys (1 element(s)) but has no IPv4 'bind ... transparent'");
}

static void test_two_frontends_one_namespace(void **state)
{
	(void)state;
	expect_error(FE_HEAD "frontend a\n    bind 127.0.0.1:15001 transparent\n"
		     "    intercept 10.0.0.0/24:22\n    default_backend be\n"
		     "frontend b\n    bind 127.0.0.1:15002 transparent\n"
		     "    intercept 10.0.0.7:22\n    default_backend be\n",
		     "[t.cfg:14] : frontend 'b' and frontend 'a' (intercept at t.cfg:10) both "
		     "intercept IPv4 decoys in the process's network namespace");
	/* a transparent frontend without intercept is no conflict */
	expect_ok(FE_HEAD "frontend a\n    bind 127.0.0.1:15001 transparent\n"
		  "    intercept 10.0.0.0/24:22\n    default_backend be\n"
		  "frontend b\n    bind 127.0.0.1:15002 transparent\n    default_backend be\n", NULL);
}

/* Namespaces: `bind ... namespace` is parsed by another module; the plan
 * only reads bind_conf->netns, so the test sets it between parse and
 * finalize. */
static void test_two_frontends_two_namespaces(void **state)
{
	struct dp_config *c;
	struct proxy *b;
	const struct tproxy_ns *p;
	size_t n;
	int e;

	(void)state;
	e = parse_ex(FE_HEAD "frontend a\n    bind 127.0.0.1:15001 transparent\n"
		     "    intercept 10.0.0.0/24:22\n    default_backend be\n"
		     "frontend b\n    bind 0.0.0.0:15002 transparent\n"
		     "    intercept 10.0.0.7:22 announce\n    default_backend be\n", false, &c);
	assert_int_equal(e, 0);
	b = find_px(c, "b");
	b->binds->netns = strdup("seg2");
	assert_non_null(b->binds->netns);
	assert_int_equal(dp_config_finalize(c), 0);
	p = tproxy_plan(c, &n);
	/* a's namespace, b's, and the process's own again for server s1? no:
	 * s1 does not spoof */
	assert_int_equal(n, 2);
	assert_null(p[0].name);
	assert_ptr_equal(p[0].fe[0], find_px(c, "a"));
	assert_null(p[0].fe[1]);
	assert_sa(&p[0].nft.listen4, "127.0.0.1:15001");
	assert_int_equal(p[0].nannounce, 0);
	assert_string_equal(p[1].name, "seg2");
	assert_ptr_equal(p[1].fe[0], b);
	assert_null(p[1].fe[1]);
	/* wildcard listener: nft "tproxy to :port" */
	assert_sa(&p[1].nft.listen4, "0.0.0.0:15002");
	assert_int_equal(p[1].nft.listen6.ss_family, 0);
	assert_int_equal(p[1].nannounce, 1);
	assert_int_equal(p[1].announce[0].plen, 32);
	dp_config_put(c);
}

/* An IPv4 frontend and an IPv6 frontend may share a namespace: one plan
 * entry diverts each family to its own frontend's listener. */
static void test_one_frontend_per_family(void **state)
{
	struct dp_config *c;
	const struct tproxy_ns *p;
	struct proxy *a, *b;
	struct nft_batch bt;
	char *err = NULL, s1[64];
	int rules = 0;
	size_t n;

	(void)state;
	expect_ok(FE_HEAD "frontend a\n    bind 127.0.0.1:15001 transparent\n"
		  "    bind [::1]:15003 transparent\n"
		  "    intercept 192.0.2.0/24:22,80 10.1.0.200-10.1.0.203:80 announce\n"
		  "    default_backend be\n"
		  "frontend b\n    bind [::1]:15002 transparent\n"
		  "    intercept [fd09::]/120:22 [fd09::1:0]/112:*\n    default_backend be\n", &c);
	a = find_px(c, "a");
	b = find_px(c, "b");
	p = tproxy_plan(c, &n);
	assert_int_equal(n, 1);
	assert_ptr_equal(p->fe[0], a);
	assert_ptr_equal(p->fe[1], b);
	/* a has no IPv6 decoys: its IPv6 bind is not a target */
	assert_sa(&p->nft.listen4, "127.0.0.1:15001");
	assert_sa(&p->nft.listen6, "[::1]:15002");
	/* one list holding both: a's IPv4 elements, b's IPv6 ones */
	assert_non_null(p->merged);
	assert_ptr_equal(p->nft.decoys, p->merged);
	assert_true(p->merged->normalised);
	assert_int_equal(icpt_count(p->nft.decoys, AF_INET), icpt_count(tproxy_fe_decoys(a), 0));
	assert_int_equal(icpt_count(p->nft.decoys, AF_INET6), icpt_count(tproxy_fe_decoys(b), 0));
	assert_int_equal(icpt_pairs(p->nft.decoys),
			 icpt_pairs(tproxy_fe_decoys(a)) + icpt_pairs(tproxy_fe_decoys(b)));
	/* `announce` covers every spec of its line */
	assert_int_equal(p->nannounce, 2);
	assert_string_equal(cidr_s(&p->announce[0], s1, sizeof(s1)), "10.1.0.200/30");
	assert_string_equal(cidr_s(&p->announce[1], s1, sizeof(s1)), "192.0.2.0/24");
	/* the nft module accepts it: a tproxy rule per family, then the
	 * socket rule */
	nft_batch_init(&bt);
	assert_int_equal(nft_build_apply(&bt, &p->nft, 1, &err), 0);
	for (size_t i = 0; i < bt.nmsg; i++) {
		if (bt.msg[i].kind != NFT_K_RULE)
			continue;
		rules++;
		if (rules == 1)
			assert_non_null(strstr(bt.msg[i].what, "tproxy ip to 127.0.0.1:15001"));
		if (rules == 2)
			assert_non_null(strstr(bt.msg[i].what, "tproxy ip6 to [::1]:15002"));
	}
	assert_int_equal(rules, 3);
	nft_batch_free(&bt);
	free(err);
	dp_config_put(c);

	/* the same family twice is refused, whichever family */
	expect_error(FE_HEAD "frontend a\n    bind [::1]:15001 transparent\n"
		     "    intercept [fd09::]/64:22\n    default_backend be\n"
		     "frontend b\n    bind [::]:15002 transparent\n"
		     "    intercept [fd0a::1]:22\n    default_backend be\n",
		     "frontend 'b' and frontend 'a' (intercept at t.cfg:10) both intercept IPv6 decoys");
}

/* ---- plans ---- */

static void test_plan_listeners_and_mark(void **state)
{
	struct dp_config *c;
	const struct tproxy_ns *p;
	size_t n;

	(void)state;
	expect_ok("global\n    tproxy-mark 7\n" FE_HEAD
		  "frontend f\n    bind 10.1.0.1:80\n    bind 127.0.0.1:15001-15003 transparent\n"
		  "    bind [::1]:15010 transparent\n    bind [::1]:15011 transparent\n"
		  "    intercept 192.0.2.0/24:80 [fd09::]/64:80\n    default_backend be\n", &c);
	p = tproxy_plan(c, &n);
	assert_int_equal(n, 1);
	assert_null(p->name);
	assert_ptr_equal(p->fe[0], find_px(c, "f"));
	assert_ptr_equal(p->fe[1], find_px(c, "f"));
	assert_null(p->merged);
	assert_int_equal(p->nft.mark, 7);
	/* the first transparent listener of each family */
	assert_sa(&p->nft.listen4, "127.0.0.1:15001");
	assert_sa(&p->nft.listen6, "[::1]:15010");
	assert_ptr_equal(p->nft.decoys, tproxy_fe_decoys(p->fe[0]));
	assert_false(p->nft_on);
	dp_config_put(c);
}

static void test_plan_spoofing_servers(void **state)
{
	struct dp_config *c;
	const struct tproxy_ns *p;
	struct proxy *be;
	size_t n;
	int e;

	(void)state;
	/* no intercept, no usesrc: nothing to install */
	expect_ok(FE_HEAD "frontend f\n    bind 127.0.0.1:15001 transparent\n"
		  "    default_backend be\n", &c);
	tproxy_plan(c, &n);
	assert_int_equal(n, 0);
	dp_config_put(c);

	/* backend-level and server-level `source ... usesrc`, one server in
	 * another namespace; `source` without usesrc does not spoof */
	e = parse_ex("defaults\n    mode tcp\n    timeout client 5s\n    timeout connect 5s\n"
		     "    timeout server 5s\n"
		     "backend spoof\n    source 0.0.0.0 usesrc clientip\n    server a 10.2.0.2\n"
		     "    server b 10.3.0.2\n"
		     "backend plain\n    source 10.9.9.9\n    server c 10.4.0.2\n"
		     "    server d 10.5.0.2 source 0.0.0.0 usesrc client\n"
		     "frontend f\n    bind 127.0.0.1:15001\n    default_backend spoof\n", false, &c);
	assert_int_equal(e, 0);
	be = find_px(c, "spoof");
	be->srv->next->netns = strdup("svc");
	assert_non_null(be->srv->next->netns);
	assert_int_equal(dp_config_finalize(c), 0);
	p = tproxy_plan(c, &n);
	assert_int_equal(n, 2);
	assert_null(p[0].name);
	assert_string_equal(p[1].name, "svc");
	for (size_t i = 0; i < n; i++) {
		assert_null(p[i].fe[0]);
		assert_null(p[i].fe[1]);
		assert_null(p[i].nft.decoys);
		assert_int_equal(p[i].nft.listen4.ss_family, 0);
		assert_int_equal(p[i].nft.listen6.ss_family, 0);
		assert_int_equal(p[i].nft.mark, 1);
	}
	dp_config_put(c);

	/* intercept and a spoofing server in the same namespace: one entry */
	expect_ok("defaults\n    mode tcp\n    timeout client 5s\n    timeout connect 5s\n"
		  "    timeout server 5s\n"
		  "backend spoof\n    source 0.0.0.0 usesrc clientip\n    server a 10.2.0.2\n"
		  "frontend f\n    bind 127.0.0.1:15001 transparent\n    intercept 10.0.0.1:80\n"
		  "    default_backend spoof\n", &c);
	p = tproxy_plan(c, &n);
	assert_int_equal(n, 1);
	assert_ptr_equal(p[0].fe[0], find_px(c, "f"));
	assert_non_null(p[0].nft.decoys);
	dp_config_put(c);
}

static void test_plan_disabled(void **state)
{
	struct dp_config *c;
	size_t n;

	(void)state;
	expect_ok(FE_HEAD "frontend f\n    disabled\n    bind 127.0.0.1:15001\n"
		  "    intercept 10.0.0.1:80\n    default_backend be\n", &c);
	tproxy_plan(c, &n);
	assert_int_equal(n, 0);
	dp_config_put(c);
}

static void test_announce(void **state)
{
	struct dp_config *c;
	const struct tproxy_ns *p;
	char b[64];
	size_t n;

	(void)state;
	expect_ok(FE_HEAD "frontend f\n    bind 127.0.0.1:15001 transparent\n"
		  "    bind [::]:15002 transparent\n"
		  "    intercept 10.0.0.1-10.0.0.6:22,80 announce\n"
		  "    intercept 10.0.0.7:443 10.0.0.5:8080 announce\n"
		  "    intercept 10.0.9.0/24:22\n"
		  "    intercept [fd09::1]-[fd09::4]:22 announce\n"
		  "    default_backend be\n", &c);
	p = tproxy_plan(c, &n);
	assert_int_equal(n, 1);
	/* 10.0.0.1-10.0.0.7 merged, then split; the /24 is not announced */
	assert_int_equal(p->nannounce, 6);
	assert_string_equal(cidr_s(&p->announce[0], b, sizeof(b)), "10.0.0.1/32");
	assert_string_equal(cidr_s(&p->announce[1], b, sizeof(b)), "10.0.0.2/31");
	assert_string_equal(cidr_s(&p->announce[2], b, sizeof(b)), "10.0.0.4/30");
	assert_string_equal(cidr_s(&p->announce[3], b, sizeof(b)), "fd09::1/128");
	assert_string_equal(cidr_s(&p->announce[4], b, sizeof(b)), "fd09::2/127");
	assert_string_equal(cidr_s(&p->announce[5], b, sizeof(b)), "fd09::4/128");
	assert_non_null(strstr(msgs, "'announce' of IPv6 decoys adds local routes, but the kernel "
			       "does not answer neighbour discovery"));
	assert_null(p->ann_own);
	dp_config_put(c);
}

static void test_announce_too_many(void **state)
{
	char *path, cfg[1024];
	FILE *f;

	(void)state;
	path = tmpfile_with("");
	f = fopen(path, "w");
	assert_non_null(f);
	for (unsigned i = 0; i <= TPROXY_MAX_ANNOUNCE; i++)
		fprintf(f, "10.%u.%u.%u:80\n", (2 * i) >> 16, ((2 * i) >> 8) & 255, (2 * i) & 255);
	fclose(f);
	snprintf(cfg, sizeof(cfg), FE_HEAD "frontend f\n    bind 127.0.0.1:15001 transparent\n"
		 "    intercept-file %s announce\n    default_backend be\n", path);
	expect_error(cfg, "frontend 'f': 'announce' needs 65537 local routes (at most 65536)");
	unlink(path);
	free(path);
}

/* ---- CIDR splitting ---- */

static size_t split(int family, const char *lo, const char *hi, struct tproxy_cidr *out,
		    size_t max)
{
	union icpt_addr a, b;

	assert_int_equal(inet_pton(family, lo, &a), 1);
	assert_int_equal(inet_pton(family, hi, &b), 1);
	return tproxy_range_to_cidrs(family, &a, &b, out, max);
}

static void test_range_to_cidrs(void **state)
{
	struct tproxy_cidr v[300];
	char b[64];

	(void)state;
	assert_int_equal(split(AF_INET, "0.0.0.0", "255.255.255.255", v, 300), 1);
	assert_string_equal(cidr_s(&v[0], b, sizeof(b)), "0.0.0.0/0");
	assert_int_equal(split(AF_INET6, "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", v, 300), 1);
	assert_string_equal(cidr_s(&v[0], b, sizeof(b)), "::/0");
	assert_int_equal(split(AF_INET, "192.0.2.0", "192.0.2.255", v, 300), 1);
	assert_string_equal(cidr_s(&v[0], b, sizeof(b)), "192.0.2.0/24");
	assert_int_equal(split(AF_INET, "192.0.2.7", "192.0.2.7", v, 300), 1);
	assert_string_equal(cidr_s(&v[0], b, sizeof(b)), "192.0.2.7/32");
	/* the worst case: 2 * (bits - 1) prefixes */
	assert_int_equal(split(AF_INET, "0.0.0.1", "255.255.255.254", v, 300), 62);
	assert_string_equal(cidr_s(&v[0], b, sizeof(b)), "0.0.0.1/32");
	assert_string_equal(cidr_s(&v[31], b, sizeof(b)), "128.0.0.0/2");
	assert_string_equal(cidr_s(&v[61], b, sizeof(b)), "255.255.255.254/32");
	assert_int_equal(split(AF_INET6, "::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", v, 300),
			 254);
	/* crossing an octet boundary */
	assert_int_equal(split(AF_INET, "10.0.0.250", "10.0.1.3", v, 300), 3);
	assert_string_equal(cidr_s(&v[0], b, sizeof(b)), "10.0.0.250/31");
	assert_int_equal(split(AF_INET, "10.0.0.248", "10.0.1.7", v, 300), 2);
	assert_string_equal(cidr_s(&v[0], b, sizeof(b)), "10.0.0.248/29");
	assert_string_equal(cidr_s(&v[1], b, sizeof(b)), "10.0.1.0/29");
	assert_int_equal(split(AF_INET, "10.0.0.252", "10.0.1.3", v, 300), 2);
	assert_string_equal(cidr_s(&v[0], b, sizeof(b)), "10.0.0.252/30");
	assert_string_equal(cidr_s(&v[1], b, sizeof(b)), "10.0.1.0/30");
	/* a short output still gets the full count; nothing past max written */
	memset(v, 0xAB, sizeof(v));
	assert_int_equal(split(AF_INET, "10.0.0.1", "10.0.0.6", v, 2), 4);
	assert_string_equal(cidr_s(&v[1], b, sizeof(b)), "10.0.0.2/31");
	assert_int_equal(v[2].family, 0xAB);
	assert_int_equal(split(AF_INET, "10.0.0.1", "10.0.0.6", NULL, 0), 4);
	/* bad input */
	assert_int_equal(split(AF_INET, "10.0.0.2", "10.0.0.1", v, 300), 0);
	assert_int_equal(tproxy_range_to_cidrs(AF_UNIX, &(union icpt_addr){ 0 },
					       &(union icpt_addr){ 0 }, v, 300), 0);
}

/* The table c's plan turns into: the nft module's batch for the entry. */
static void test_plan_to_batch(void **state)
{
	struct dp_config *c;
	const struct tproxy_ns *p;
	struct nft_batch b;
	char *err = NULL;
	size_t n, elems = 0;
	int rules = 0;
	bool tproxy4 = false, socket_last = false;

	(void)state;
	expect_ok("global\n    tproxy-mark 0x7\n" FE_HEAD
		  "frontend f\n    bind 127.0.0.1:15001 transparent\n"
		  "    intercept 192.0.2.0/24:22,80 198.51.100.1:443\n    default_backend be\n", &c);
	p = tproxy_plan(c, &n);
	assert_int_equal(n, 1);
	nft_batch_init(&b);
	assert_int_equal(nft_build_apply(&b, &p->nft, 1, &err), 0);
	for (size_t i = 0; i < b.nmsg; i++) {
		const struct nft_msgref *m = &b.msg[i];

		if (m->kind == NFT_K_ELEMS)
			elems += m->count;
		if (m->kind != NFT_K_RULE)
			continue;
		rules++;
		if (rules == 1)
			tproxy4 = strstr(m->what, "ip daddr . tcp dport @decoys4 tproxy ip to "
					 "127.0.0.1:15001 meta mark set 0x7 accept") != NULL;
		socket_last = strstr(m->what, "socket transparent 1 meta mark set 0x7") != NULL;
	}
	/* the tproxy rule first (no IPv6 listener: no IPv6 rule), then the
	 * socket rule; every decoy element sent */
	assert_int_equal(rules, 2);
	assert_true(tproxy4);
	assert_true(socket_last);
	assert_int_equal(elems, icpt_count(p->nft.decoys, 0));
	assert_int_equal(elems, 3);
	nft_batch_free(&b);
	free(err);
	dp_config_put(c);
}

/* `-c` semantics: finalize builds the plan but installs nothing. */
static void test_finalize_touches_nothing(void **state)
{
	struct dp_config *c;
	const struct tproxy_ns *p;
	size_t n;

	(void)state;
	expect_ok(FE_HEAD "frontend f\n    bind 127.0.0.1:15001 transparent\n"
		  "    intercept 10.0.0.0/30:80 announce\n    default_backend be\n", &c);
	p = tproxy_plan(c, &n);
	assert_int_equal(n, 1);
	assert_false(p->nft_on);
	assert_false(p->rule_own[0] || p->rule_own[1] || p->route_own[0] || p->route_own[1]);
	assert_null(p->ann_own);
	assert_null(strstr(msgs, "tproxy:"));
	/* tproxy_remove on a never-applied config has nothing to undo */
	tproxy_remove(c);
	dp_config_put(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_global_defaults, setup),
		cmocka_unit_test_setup(test_global_keywords, setup),
		cmocka_unit_test_setup(test_global_errors, setup),
		cmocka_unit_test_setup(test_intercept_parse, setup),
		cmocka_unit_test_setup(test_intercept_errors, setup),
		cmocka_unit_test_setup(test_intercept_file, setup),
		cmocka_unit_test_setup(test_overlap_warning, setup),
		cmocka_unit_test_setup(test_needs_transparent, setup),
		cmocka_unit_test_setup(test_family_needs_listener, setup),
		cmocka_unit_test_setup(test_two_frontends_one_namespace, setup),
		cmocka_unit_test_setup(test_two_frontends_two_namespaces, setup),
		cmocka_unit_test_setup(test_one_frontend_per_family, setup),
		cmocka_unit_test_setup(test_plan_listeners_and_mark, setup),
		cmocka_unit_test_setup(test_plan_spoofing_servers, setup),
		cmocka_unit_test_setup(test_plan_disabled, setup),
		cmocka_unit_test_setup(test_announce, setup),
		cmocka_unit_test_setup(test_announce_too_many, setup),
		cmocka_unit_test_setup(test_range_to_cidrs, setup),
		cmocka_unit_test_setup(test_plan_to_batch, setup),
		cmocka_unit_test_setup(test_finalize_touches_nothing, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
