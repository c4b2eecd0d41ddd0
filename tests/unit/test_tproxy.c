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

#include "lib/addr.h"
#include "cfg/cfg.h"
#include "model/conf.h"
#include "lib/intercept.h"
#include "core/listener.h"
#include "net/nft.h"
#include "model/proxy.h"
#include "core/loop.h"
#include "model/server.h"
#include "plumbing/tproxy.h"
#include "log/msg.h"
#include "ctl/module.h"

#include "helpers.h"

/* every test starts with no message, capture on */
static int setup(void **state)
{
	return capture_setup(state);
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
	assert_int_equal(p[0].nft.ndiv, 1);
	assert_ptr_equal(p[0].nft.div[0].decoys, l);
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

/* Several frontends intercept in one namespace, each with its own sets
 * and listener; a transparent frontend without intercept is no divert. */
static void test_two_frontends_one_namespace(void **state)
{
	struct dp_config *c;
	const struct tproxy_ns *p;
	size_t n;

	(void)state;
	expect_ok(FE_HEAD "frontend a\n    bind 127.0.0.1:15001 transparent\n"
		  "    intercept 10.0.0.0/24:22\n    default_backend be\n"
		  "frontend b\n    bind 127.0.0.1:15002 transparent\n"
		  "    intercept 10.0.1.7:22 10.0.0.0/24:80\n    default_backend be\n"
		  "frontend t\n    bind 127.0.0.1:15003 transparent\n    default_backend be\n", &c);
	p = tproxy_plan(c, &n);
	assert_int_equal(n, 1);
	assert_int_equal(p->nft.ndiv, 2);
	assert_ptr_equal(p->fe[0], find_px(c, "a"));
	assert_ptr_equal(p->fe[1], find_px(c, "b"));
	assert_string_equal(p->nft.div[0].set, "decoys4_a");
	assert_string_equal(p->nft.div[1].set, "decoys4_b");
	assert_sa(&p->nft.div[0].listen, "127.0.0.1:15001");
	assert_sa(&p->nft.div[1].listen, "127.0.0.1:15002");
	assert_ptr_equal(p->nft.div[0].decoys, tproxy_fe_decoys(find_px(c, "a")));
	assert_ptr_equal(p->nft.div[1].decoys, tproxy_fe_decoys(find_px(c, "b")));
	assert_null(tproxy_fe_set(find_px(c, "t"), AF_INET));
	dp_config_put(c);
}

/* The groups of a honeypot segment: SSH decoys to one frontend, web decoys
 * to another, a PROXY-v2 group with both families to a third, all in the
 * process's namespace. One plan entry, one divert per frontend and
 * family, and the nft batch: every tproxy rule (each to its frontend's
 * listener, looking up its frontend's set) before the one socket rule. */
static void test_several_frontends_one_namespace(void **state)
{
	static const char *const want_rules[] = {
		"rule 1 of chain prerouting (meta iiftype != loopback meta l4proto tcp "
		"ip daddr . tcp dport @decoys4_ssh "
		"tproxy ip to 127.0.0.1:15001 meta mark set 0x1 accept)",
		"rule 2 of chain prerouting (meta iiftype != loopback meta l4proto tcp "
		"ip daddr . tcp dport @decoys4_web "
		"tproxy ip to 127.0.0.1:15002 meta mark set 0x1 accept)",
		"rule 3 of chain prerouting (meta iiftype != loopback meta l4proto tcp "
		"ip6 daddr . tcp dport @decoys6_pp2 "
		"tproxy ip6 to [::1]:15004 meta mark set 0x1 accept)",
		"rule 4 of chain prerouting (meta iiftype != loopback meta l4proto tcp "
		"ip daddr . tcp dport @decoys4_pp2 "
		"tproxy ip to 127.0.0.1:15003 meta mark set 0x1 accept)",
		"rule 5 of chain prerouting (meta l4proto tcp socket transparent 1 meta mark set "
		"0x1 accept)",
	};
	static const char *const want_sets[] = { "decoys4_ssh", "decoys4_web", "decoys6_pp2",
						 "decoys4_pp2" };
	static const size_t want_elems[] = { 1, 2, 1, 1 };
	struct dp_config *c;
	const struct tproxy_ns *p;
	struct proxy *ssh, *web, *pp2;
	struct nft_batch b;
	char *err = NULL, s1[64];
	size_t n, rules = 0, sets = 0, elems = 0;

	(void)state;
	expect_ok(FE_HEAD "frontend ssh\n    bind 127.0.0.1:15001 transparent\n"
		  "    intercept 192.0.2.0/25:22 announce\n    default_backend be\n"
		  "frontend web\n    bind 127.0.0.1:15002 transparent\n"
		  "    intercept 192.0.2.128/25:80,443 192.0.2.0/25:80 announce\n"
		  "    default_backend be\n"
		  "frontend pp2\n    bind [::1]:15004 transparent\n    bind 127.0.0.1:15003 transparent\n"
		  "    intercept 198.51.100.0/24:25 [fd09::]/64:25\n    default_backend be\n", &c);
	ssh = find_px(c, "ssh");
	web = find_px(c, "web");
	pp2 = find_px(c, "pp2");
	p = tproxy_plan(c, &n);
	assert_int_equal(n, 1);
	assert_int_equal(p->nft.ndiv, 4);
	/* configuration order; a frontend's families in the order of its binds */
	assert_ptr_equal(p->fe[0], ssh);
	assert_ptr_equal(p->fe[1], web);
	assert_ptr_equal(p->fe[2], pp2);
	assert_ptr_equal(p->fe[3], pp2);
	assert_int_equal(p->nft.div[2].family, AF_INET6);
	assert_sa(&p->nft.div[2].listen, "[::1]:15004");
	assert_int_equal(p->nft.div[3].family, AF_INET);
	assert_sa(&p->nft.div[3].listen, "127.0.0.1:15003");
	assert_string_equal(tproxy_fe_set(pp2, AF_INET6), "decoys6_pp2");
	/* ssh and web share addresses (other ports): the announce routes of
	 * the namespace are the union of the frontends' ranges, split again
	 * (192.0.2.0/25 twice and 192.0.2.128/25: one /24), without the
	 * network and broadcast addresses of each CIDR spec (.0, .127, .128,
	 * .255; plumbing/decoy.h): 12 prefixes in each half */
	assert_int_equal(p->nannounce, 24);
	assert_string_equal(cidr_s(&p->announce[0], s1, sizeof(s1)), "192.0.2.1/32");
	assert_string_equal(cidr_s(&p->announce[11], s1, sizeof(s1)), "192.0.2.126/32");
	assert_string_equal(cidr_s(&p->announce[12], s1, sizeof(s1)), "192.0.2.129/32");
	assert_string_equal(cidr_s(&p->announce[23], s1, sizeof(s1)), "192.0.2.254/32");

	nft_batch_init(&b);
	assert_int_equal(nft_build_apply(&b, &p->nft, 1, &err), 0);
	for (size_t i = 0; i < b.nmsg; i++) {
		const struct nft_msgref *m = &b.msg[i];

		/* the decoy sets and rules (hosts, edges) are tested in test_decoy */
		if ((m->kind == NFT_K_SET || m->kind == NFT_K_RULE) &&
		    (strstr(m->what, "hosts") || strstr(m->what, "edges")))
			continue;
		if (m->kind == NFT_K_SET) {
			assert_true(sets < 4);
			assert_non_null(strstr(m->what, want_sets[sets]));
			assert_int_equal(rules, 0);
			sets++;
		} else if (m->kind == NFT_K_RULE) {
			assert_true(rules < 5);
			/* numbered after the decoy edge rules, which come first */
			assert_string_equal(strstr(m->what, " of chain"), strstr(want_rules[rules], " of chain"));
			rules++;
		} else if (m->kind == NFT_K_ELEMS) {
			assert_true(elems < 4);
			assert_int_equal(rules, 5);
			assert_string_equal(m->set, want_sets[elems]);
			assert_int_equal(m->count, want_elems[elems]);
			elems++;
		}
	}
	assert_int_equal(sets, 4);
	assert_int_equal(rules, 5);
	assert_int_equal(elems, 4);
	nft_batch_free(&b);
	free(err);
	dp_config_put(c);
}

/* Decoys that two frontends intercept in one namespace are refused, with
 * both frontends, the specs and their file:line, and an overlapping
 * element. */
static void test_overlap_between_frontends(void **state)
{
	char *lst, cfg[2048];

	(void)state;
	expect_error(FE_HEAD "frontend a\n    bind 127.0.0.1:15001 transparent\n"
		     "    intercept 10.0.0.0/24:22\n    default_backend be\n"
		     "frontend b\n    bind 127.0.0.1:15002 transparent\n"
		     "    intercept 10.0.1.0/24:22\n    intercept 10.0.0.7-10.0.0.9:20-22,80\n"
		     "    default_backend be\n",
		     "ALERT: config : parsing [t.cfg:14] : frontend 'b' and frontend 'a' both intercept "
		     "10.0.0.7-10.0.0.9:22 in the process's network namespace (frontend 'b' from "
		     "'10.0.0.7-10.0.0.9:20-22,80' (t.cfg:15), frontend 'a' from '10.0.0.0/24:22' "
		     "(t.cfg:10)): in a namespace, a decoy address:port may belong to one frontend "
		     "only (remove it from one of them, or bind them in different namespaces)\n");
	/* the spec named is the one holding the overlap, even when the
	 * frontend's list merged it with others; IPv6 too; a listen section */
	expect_error(FE_HEAD "frontend a\n    bind [::1]:15001 transparent\n"
		     "    intercept [fd09::]/120:22 [fd09::100]/120:22\n    default_backend be\n"
		     "listen b\n    bind [::1]:15002 transparent\n"
		     "    intercept [fd09::1:0]/112:22\n    intercept [fd09::1ff]-[fd09::200]:1-1024\n"
		     "    server s 10.2.0.2\n",
		     "listen 'b' and frontend 'a' both intercept [fd09::1ff]:22 in the process's "
		     "network namespace (listen 'b' from '[fd09::1ff]-[fd09::200]:1-1024' (t.cfg:15), "
		     "frontend 'a' from '[fd09::100]/120:22' (t.cfg:10))");
	/* an intercept-file names its own line */
	lst = tmpfile_with("# web decoys\n192.0.2.128/25:80,443\n192.0.2.10:22\n");
	snprintf(cfg, sizeof(cfg), FE_HEAD "frontend ssh\n    bind 127.0.0.1:15001 transparent\n"
		 "    intercept 192.0.2.0/25:22\n    default_backend be\n"
		 "frontend web\n    bind 127.0.0.1:15002 transparent\n    intercept-file %s\n"
		 "    default_backend be\n", lst);
	expect_error(cfg, "frontend 'web' and frontend 'ssh' both intercept 192.0.2.10:22 in the "
		     "process's network namespace (frontend 'web' from '192.0.2.10:22' (");
	assert_non_null(strstr(msgs, ":3), frontend 'ssh' from '192.0.2.0/25:22' (t.cfg:10))"));
	unlink(lst);
	free(lst);
	/* one error per pair of frontends, whatever the overlaps; a third
	 * frontend clashing with both gets one each */
	assert_int_equal(parse(FE_HEAD "frontend a\n    bind 127.0.0.1:15001 transparent\n"
			       "    intercept 10.0.0.1:22 10.0.0.3:22\n    default_backend be\n"
			       "frontend b\n    bind 127.0.0.1:15002 transparent\n"
			       "    intercept 10.0.0.1-10.0.0.3:22\n    default_backend be\n"
			       "frontend c\n    bind 127.0.0.1:15003 transparent\n"
			       "    intercept 10.0.0.0/24:1-1024\n    default_backend be\n", NULL), 3);
	assert_non_null(strstr(msgs, "frontend 'b' and frontend 'a' both intercept 10.0.0.1:22"));
	assert_non_null(strstr(msgs, "frontend 'c' and frontend 'a' both intercept 10.0.0.1:22"));
	assert_non_null(strstr(msgs, "frontend 'c' and frontend 'b' both intercept 10.0.0.1-10.0.0.3:22"));
	/* same addresses, other ports; other families; other namespaces (see
	 * test_two_frontends_two_namespaces): no overlap */
	expect_ok(FE_HEAD "frontend a\n    bind 127.0.0.1:15001 transparent\n"
		  "    intercept 10.0.0.0/24:1-79\n    default_backend be\n"
		  "frontend b\n    bind 127.0.0.1:15002 transparent\n"
		  "    intercept 10.0.0.0/24:80 10.0.0.0/23:81-65535\n    default_backend be\n", NULL);
	/* a disabled frontend diverts nothing, so it overlaps nothing */
	expect_ok(FE_HEAD "frontend a\n    bind 127.0.0.1:15001 transparent\n"
		  "    intercept 10.0.0.0/24:22\n    default_backend be\n"
		  "frontend b\n    disabled\n    bind 127.0.0.1:15002 transparent\n"
		  "    intercept 10.0.0.0/24:22\n    default_backend be\n", NULL);
}

/* Set names: decoys4_/decoys6_ and the frontend's name; characters nft
 * does not take become '_', too long names are cut, and a clash gets
 * "_2", "_3", ... (the unchanged name keeps its name). */
static void test_set_names(void **state)
{
	char cfg[4096], longname[300], want[300];
	struct dp_config *c;

	(void)state;
	expect_ok(FE_HEAD "frontend a:b\n    bind 127.0.0.1:15001 transparent\n"
		  "    intercept 10.0.0.1:22\n    default_backend be\n"
		  "frontend a_b\n    bind 127.0.0.1:15002 transparent\n"
		  "    intercept 10.0.0.2:22\n    default_backend be\n"
		  "frontend a.b\n    bind 127.0.0.1:15003 transparent\n"
		  "    intercept 10.0.0.3:22\n    default_backend be\n"
		  "frontend A:b\n    bind [::1]:15004 transparent\n"
		  "    intercept [fd09::1]:22\n    default_backend be\n"
		  "frontend a::b\n    bind 127.0.0.1:15005 transparent\n"
		  "    intercept 10.0.0.5:22\n    default_backend be\n"
		  "frontend a_b_2\n    bind 127.0.0.1:15006 transparent\n"
		  "    intercept 10.0.0.6:22\n    default_backend be\n"
		  "frontend x:y\n    bind 127.0.0.1:15007 transparent\n"
		  "    intercept 10.0.0.7:22\n    default_backend be\n", &c);
	assert_string_equal(tproxy_fe_set(find_px(c, "a_b"), AF_INET), "decoys4_a_b");
	assert_string_equal(tproxy_fe_set(find_px(c, "a.b"), AF_INET), "decoys4_a.b");
	assert_string_equal(tproxy_fe_set(find_px(c, "a_b_2"), AF_INET), "decoys4_a_b_2");
	/* a:b comes first in the file but a_b keeps its name; a_b_2 is taken */
	assert_string_equal(tproxy_fe_set(find_px(c, "a:b"), AF_INET), "decoys4_a_b_3");
	assert_string_equal(tproxy_fe_set(find_px(c, "a:b"), AF_INET6), "decoys6_a_b_3");
	assert_string_equal(tproxy_fe_set(find_px(c, "A:b"), AF_INET6), "decoys6_A_b");
	assert_string_equal(tproxy_fe_set(find_px(c, "a::b"), AF_INET), "decoys4_a__b");
	assert_string_equal(tproxy_fe_set(find_px(c, "x:y"), AF_INET), "decoys4_x_y");
	dp_config_put(c);

	/* the longest name that fits (255 with the prefix) is kept; longer
	 * ones are cut, and made unique */
	memset(longname, 'n', 247);
	longname[247] = '\0';
	snprintf(cfg, sizeof(cfg), FE_HEAD "frontend %s\n    bind 127.0.0.1:15001 transparent\n"
		 "    intercept 10.0.0.1:22\n    default_backend be\n"
		 "frontend %sx\n    bind 127.0.0.1:15002 transparent\n"
		 "    intercept 10.0.0.2:22\n    default_backend be\n"
		 "frontend %sy\n    bind 127.0.0.1:15003 transparent\n"
		 "    intercept 10.0.0.3:22\n    default_backend be\n", longname, longname, longname);
	expect_ok(cfg, &c);
	snprintf(want, sizeof(want), "decoys4_%s", longname);
	assert_int_equal(strlen(want), NFT_SET_NAME_MAX);
	assert_string_equal(tproxy_fe_set(find_px(c, longname), AF_INET), want);
	memcpy(want + NFT_SET_NAME_MAX - 2, "_2", 3);
	snprintf(cfg, sizeof(cfg), "%sx", longname);
	assert_string_equal(tproxy_fe_set(find_px(c, cfg), AF_INET), want);
	memcpy(want + NFT_SET_NAME_MAX - 2, "_3", 3);
	snprintf(cfg, sizeof(cfg), "%sy", longname);
	assert_string_equal(tproxy_fe_set(find_px(c, cfg), AF_INET), want);
	dp_config_put(c);
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
	assert_int_equal(modules_finalize(c), 0);
	p = tproxy_plan(c, &n);
	/* a's namespace, b's, and the process's own again for server s1? no:
	 * s1 does not spoof. b's decoy overlaps a's, but in another
	 * namespace: another network, no conflict */
	assert_int_equal(n, 2);
	assert_null(p[0].name);
	assert_int_equal(p[0].nft.ndiv, 1);
	assert_ptr_equal(p[0].fe[0], find_px(c, "a"));
	assert_sa(&p[0].nft.div[0].listen, "127.0.0.1:15001");
	assert_int_equal(p[0].nannounce, 0);
	assert_string_equal(p[1].name, "seg2");
	assert_int_equal(p[1].nft.ndiv, 1);
	assert_ptr_equal(p[1].fe[0], b);
	/* wildcard listener: nft "tproxy to :port" */
	assert_sa(&p[1].nft.div[0].listen, "0.0.0.0:15002");
	assert_string_equal(p[1].nft.div[0].set, "decoys4_b");
	assert_int_equal(p[1].nannounce, 1);
	assert_int_equal(p[1].announce[0].plen, 32);
	dp_config_put(c);
}

/* An IPv4 frontend and an IPv6 frontend share a namespace: one divert
 * each, each frontend with its own backend. */
static void test_one_frontend_per_family(void **state)
{
	struct dp_config *c;
	const struct tproxy_ns *p;
	struct proxy *a, *b;
	char s1[64];
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
	/* a has no IPv6 decoys: its IPv6 bind is not a target */
	assert_int_equal(p->nft.ndiv, 2);
	assert_ptr_equal(p->fe[0], a);
	assert_ptr_equal(p->fe[1], b);
	assert_sa(&p->nft.div[0].listen, "127.0.0.1:15001");
	assert_sa(&p->nft.div[1].listen, "[::1]:15002");
	assert_string_equal(p->nft.div[0].set, "decoys4_a");
	assert_string_equal(p->nft.div[1].set, "decoys6_b");
	assert_null(tproxy_fe_set(find_px(c, "be"), AF_INET));
	/* `announce` covers every spec of its line; a CIDR spec's network and
	 * broadcast addresses are not decoys (a range spec keeps its ends) */
	assert_int_equal(p->nannounce, 15);
	assert_string_equal(cidr_s(&p->announce[0], s1, sizeof(s1)), "10.1.0.200/30");
	assert_string_equal(cidr_s(&p->announce[1], s1, sizeof(s1)), "192.0.2.1/32");
	assert_string_equal(cidr_s(&p->announce[8], s1, sizeof(s1)), "192.0.2.128/26");
	assert_string_equal(cidr_s(&p->announce[14], s1, sizeof(s1)), "192.0.2.254/32");
	dp_config_put(c);
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
	assert_int_equal(p->nft.ndiv, 2);
	assert_ptr_equal(p->fe[0], find_px(c, "f"));
	assert_ptr_equal(p->fe[1], find_px(c, "f"));
	assert_int_equal(p->nft.mark, 7);
	/* the first transparent listener of each family */
	assert_sa(&p->nft.div[0].listen, "127.0.0.1:15001");
	assert_sa(&p->nft.div[1].listen, "[::1]:15010");
	assert_string_equal(p->nft.div[0].set, "decoys4_f");
	assert_string_equal(p->nft.div[1].set, "decoys6_f");
	/* both fed from the frontend's one list, each with its family */
	assert_ptr_equal(p->nft.div[0].decoys, tproxy_fe_decoys(p->fe[0]));
	assert_ptr_equal(p->nft.div[1].decoys, tproxy_fe_decoys(p->fe[0]));
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
	assert_int_equal(modules_finalize(c), 0);
	p = tproxy_plan(c, &n);
	assert_int_equal(n, 2);
	assert_null(p[0].name);
	assert_string_equal(p[1].name, "svc");
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(p[i].nft.ndiv, 0);
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
	assert_int_equal(p[0].nft.ndiv, 1);
	assert_ptr_equal(p[0].fe[0], find_px(c, "f"));
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
		/* the decoy rules (hosts and edges sets) are tested in test_decoy */
		if (m->kind != NFT_K_RULE || strstr(m->what, "@hosts4_") || strstr(m->what, "@edges4_"))
			continue;
		rules++;
		if (rules == 1)
			tproxy4 = strstr(m->what, "ip daddr . tcp dport @decoys4_f tproxy ip to "
					 "127.0.0.1:15001 meta mark set 0x7 accept") != NULL;
		socket_last = strstr(m->what, "socket transparent 1 meta mark set 0x7") != NULL;
	}
	/* the tproxy rule first (no IPv6 listener: no IPv6 rule), then the
	 * socket rule; every decoy element sent */
	assert_int_equal(rules, 2);
	assert_true(tproxy4);
	assert_true(socket_last);
	assert_int_equal(elems, icpt_count(tproxy_fe_decoys(find_px(c, "f")), 0));
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

/* ---- runtime changes (stats socket add/del/show intercept) ---- */

/* A fake kernel: records each batch sent (namespace, elements added and
 * removed) and refuses the call numbered fail_at (1-based). */
#define RT_MAX_CALLS 8
static struct {
	int calls, fail_at;
	char ns[RT_MAX_CALLS][32];
	size_t added[RT_MAX_CALLS], removed[RT_MAX_CALLS];
	char first_added[RT_MAX_CALLS][ICPT_ELEM_STRLEN];
} fk;

static int fake_send(struct dp_config *c, const char *ns, struct nft_batch *b, char **err)
{
	int k = fk.calls++;

	(void)c;
	assert_true(k < RT_MAX_CALLS);
	snprintf(fk.ns[k], sizeof(fk.ns[k]), "%s", ns ? ns : "-");
	fk.added[k] = fk.removed[k] = 0;
	fk.first_added[k][0] = '\0';
	for (size_t i = 0; i < b->nmsg; i++) {
		const struct nft_msgref *m = &b->msg[i];

		/* a delta never touches the table, the chain or the rules */
		assert_true(m->kind == NFT_K_BEGIN || m->kind == NFT_K_END || m->kind == NFT_K_ELEMS ||
			    m->kind == NFT_K_ELEMS_DEL || m->kind == NFT_K_HOSTS);
		if (m->kind == NFT_K_ELEMS && !fk.added[k] && m->count)
			icpt_elem_str(b->sel[m->first], fk.first_added[k], ICPT_ELEM_STRLEN);
		if (m->kind == NFT_K_ELEMS)
			fk.added[k] += m->count;
		if (m->kind == NFT_K_ELEMS_DEL)
			fk.removed[k] += m->count;
	}
	if (fk.calls == fk.fail_at) {
		memprintf(err, "nftables refused element %s of set decoys4: overlaps (File exists)",
			  fk.first_added[k]);
		return -EEXIST;
	}
	return 0;
}

static int setup_rt(void **state)
{
	setup(state);
	memset(&fk, 0, sizeof(fk));
	tproxy_set_rt_sender(fake_send);
	return 0;
}

static int teardown_rt(void **state)
{
	(void)state;
	tproxy_set_rt_sender(NULL);
	return 0;
}

/* As if tproxy_apply() had installed the plan. */
static void mark_installed(struct dp_config *c)
{
	size_t n;
	struct tproxy_ns *p = (struct tproxy_ns *)tproxy_plan(c, &n);

	for (size_t i = 0; i < n; i++)
		p[i].nft_on = true;
}

static int rt_change(struct dp_config *c, const char *fe, bool add, const char *spec, char **err)
{
	char *argv[4] = { NULL };
	char *copy = strdup(spec), *sp = NULL;
	int argc = 0, ret;

	assert_non_null(copy);
	for (char *t = strtok_r(copy, " ", &sp); t && argc < 4; t = strtok_r(NULL, " ", &sp))
		argv[argc++] = t;
	free(*err);
	*err = NULL;
	ret = tproxy_rt_change(c, find_px(c, fe), add, argc, argv, err);
	free(copy);
	return ret;
}

static void show_cb(void *ctx, const char *text)
{
	char *buf = ctx;
	size_t l = strlen(buf);

	snprintf(buf + l, 4096 - l, "%s\n", text);
}

static const char *show(struct dp_config *c, const char *fe)
{
	static char buf[4096];

	buf[0] = '\0';
	tproxy_rt_show(c, fe ? find_px(c, fe) : NULL, show_cb, buf);
	return buf;
}

static void expect_refused(struct dp_config *c, const char *fe, bool add, const char *spec,
			   int want_ret, const char *want_err)
{
	char *err = NULL;
	int ret = rt_change(c, fe, add, spec, &err);

	if (ret != want_ret || !err || strcmp(err, want_err))
		fail_msg("%s '%s': got %d [%s], want %d [%s]", add ? "add" : "del", spec, ret,
			 err ? err : "(null)", want_ret, want_err);
	free(err);
}

#define RT_CFG FE_HEAD "frontend f\n    bind 127.0.0.1:15001 transparent\n" \
	"    intercept 192.0.2.0/24:22 198.51.100.1:80\n    default_backend be\n" \
	"frontend plain\n    bind 127.0.0.1:15003\n    default_backend be\n"

/* Everything refused before the kernel is asked: the lists stay as they are. */
static void test_rt_refusals(void **state)
{
	struct dp_config *c;
	const struct tproxy_ns *p;
	size_t n;

	(void)state;
	expect_ok(RT_CFG, &c);
	expect_refused(c, "plain", true, "10.0.0.1:22", -ENOENT,
		       "frontend 'plain' has no 'intercept' in its configuration: runtime changes "
		       "apply to a frontend that already diverts decoys");
	expect_refused(c, "f", true, "10.0.0.1:70000", -EINVAL,
		       "bad port '70000' in '10.0.0.1:70000' (1 to 65535)");
	expect_refused(c, "f", true, "10.0.0.1/24:22", -EINVAL,
		       "CIDR 10.0.0.1/24 has host bits set in '10.0.0.1/24:22' (did you mean "
		       "10.0.0.0/24?)");
	expect_refused(c, "f", false, "nonsense", -EINVAL,
		       "missing ':PORTS' in 'nonsense' (e.g. '10.0.0.1:22' or '[fd09::1]:22')");
	/* no IPv6 decoys in the configuration: no IPv6 tproxy rule to feed */
	expect_refused(c, "f", true, "[fd09::1]:22", -EINVAL,
		       "frontend 'f' diverts no IPv6 decoys, so '[fd09::1]:22' cannot be added: the "
		       "tproxy rule of a family is installed only when the configuration intercepts "
		       "that family (an 'intercept' line and a transparent IPv6 bind, then a reload)");
	expect_refused(c, "f", true, "192.0.2.7:22", -EEXIST,
		       "'192.0.2.7:22' is already intercepted by frontend 'f': nothing to add");
	expect_refused(c, "f", true, "192.0.2.7:22 198.51.100.1:80", -EEXIST,
		       "every decoy given is already intercepted by frontend 'f' (e.g. "
		       "'192.0.2.7:22'): nothing to add");
	expect_refused(c, "f", false, "203.0.113.1:22", -ENOENT,
		       "'203.0.113.1:22' is not intercepted by frontend 'f': nothing deleted");
	/* partly intercepted: the error names the part that is not */
	expect_refused(c, "f", false, "192.0.2.0/23:22", -ENOENT,
		       "'192.0.2.0/23:22' is not intercepted by frontend 'f' (its part "
		       "'192.0.3.0/24:22' is not in the decoy list): nothing deleted");
	expect_refused(c, "f", false, "192.0.2.9:21-22", -ENOENT,
		       "'192.0.2.9:21-22' is not intercepted by frontend 'f' (its part "
		       "'192.0.2.9:21' is not in the decoy list): nothing deleted");
	/* valid, but the generation never installed its table */
	expect_refused(c, "f", true, "203.0.113.1:22", -ENOTCONN,
		       "the process's network namespace: table inet decoyproxy is not installed "
		       "(this configuration is not in service): nothing changed");
	assert_int_equal(fk.calls, 0);
	p = tproxy_plan(c, &n);
	assert_int_equal(icpt_count(p->nft.div[0].decoys, 0), 2);
	assert_string_equal(show(c, "f"),
			    "# frontend 'f': 2 element(s), 0 runtime change(s)\n"
			    "# set decoys4_f in the process's network namespace: 2 element(s), not installed\n"
			    "192.0.2.0/24:22\n198.51.100.1:80\n");
	assert_string_equal(show(c, "plain"), "# frontend 'plain': no 'intercept' in the configuration\n");
	dp_config_put(c);
}

/* add and del as deltas against what is installed; the list seen by show
 * (and by the next reload) follows. */
static void test_rt_add_del(void **state)
{
	struct dp_config *c;
	const struct tproxy_ns *p;
	char *err = NULL;
	size_t n;

	(void)state;
	expect_ok(RT_CFG, &c);
	mark_installed(c);
	p = tproxy_plan(c, &n);
	assert_int_equal(rt_change(c, "f", true, "203.0.113.5:80", &err), 0);
	assert_null(err);
	assert_int_equal(fk.calls, 1);
	assert_string_equal(fk.ns[0], "-");
	assert_int_equal(fk.added[0], 1);
	assert_int_equal(fk.removed[0], 0);
	assert_string_equal(fk.first_added[0], "203.0.113.5:80");
	assert_non_null(strstr(msgs, "NOTICE: tproxy: frontend 'f': runtime 'add intercept "
				    "203.0.113.5:80': 3 decoy element(s) now, in 1 namespace(s)"));
	assert_int_equal(icpt_count(p->nft.div[0].decoys, 0), 3);
	assert_string_equal(show(c, NULL),
			    "# frontend 'f': 3 element(s), 1 runtime change(s)\n"
			    "# set decoys4_f in the process's network namespace: 3 element(s)\n"
			    "192.0.2.0/24:22\n198.51.100.1:80\n203.0.113.5:80\n");
	/* a neighbour merges: the old element goes, the merged one comes, in
	 * the same batch */
	assert_int_equal(rt_change(c, "f", true, "203.0.113.6:80", &err), 0);
	assert_int_equal(fk.added[1], 1);
	assert_int_equal(fk.removed[1], 1);
	assert_string_equal(fk.first_added[1], "203.0.113.5-203.0.113.6:80");
	/* del cuts a hole: one element out, two in */
	assert_int_equal(rt_change(c, "f", false, "192.0.2.7:22", &err), 0);
	assert_int_equal(fk.added[2], 2);
	assert_int_equal(fk.removed[2], 1);
	assert_string_equal(show(c, "f"),
			    "# frontend 'f': 4 element(s), 3 runtime change(s)\n"
			    "# set decoys4_f in the process's network namespace: 4 element(s)\n"
			    "192.0.2.0-192.0.2.6:22\n192.0.2.8-192.0.2.255:22\n198.51.100.1:80\n"
			    "203.0.113.5-203.0.113.6:80\n");
	/* the hole is no longer intercepted; the rest still is */
	expect_refused(c, "f", false, "192.0.2.7:22", -ENOENT,
		       "'192.0.2.7:22' is not intercepted by frontend 'f': nothing deleted");
	expect_refused(c, "f", false, "192.0.2.0/24:22", -ENOENT,
		       "'192.0.2.0/24:22' is not intercepted by frontend 'f' (its part "
		       "'192.0.2.7:22' is not in the decoy list): nothing deleted");
	assert_int_equal(rt_change(c, "f", false,
				   "192.0.2.0-192.0.2.6:22 192.0.2.8-192.0.2.255:22 203.0.113.5:80",
				   &err), 0);
	assert_string_equal(show(c, "f"),
			    "# frontend 'f': 2 element(s), 4 runtime change(s)\n"
			    "# set decoys4_f in the process's network namespace: 2 element(s)\n"
			    "198.51.100.1:80\n203.0.113.6:80\n");
	/* the installed list is what the plan points at */
	assert_ptr_equal(p->nft.div[0].decoys, tproxy_fe_decoys(find_px(c, "f")));
	assert_true(p->nft.div[0].decoys->normalised);
	free(err);
	dp_config_put(c);
}

/* A frontend diverted in two namespaces: one batch each; when the second
 * is refused the first is put back and nothing changes. */
static void test_rt_two_namespaces_rollback(void **state)
{
	struct dp_config *c;
	struct proxy *f;
	char *err = NULL;
	int e;

	(void)state;
	e = parse_ex(FE_HEAD "frontend f\n    bind 127.0.0.1:15001 transparent\n"
		     "    bind 127.0.0.1:15001 transparent\n"
		     "    intercept 192.0.2.0/24:22\n    default_backend be\n", false, &c);
	assert_int_equal(e, 0);
	f = find_px(c, "f");
	f->binds->next->netns = strdup("seg2");
	assert_int_equal(modules_finalize(c), 0);
	mark_installed(c);
	fk.fail_at = 2;
	assert_int_equal(rt_change(c, "f", true, "203.0.113.5:80", &err), -EEXIST);
	assert_string_equal(err, "namespace 'seg2': nftables refused element 203.0.113.5:80 of set "
			    "decoys4: overlaps (File exists): nothing changed");
	assert_int_equal(fk.calls, 3);
	assert_string_equal(fk.ns[0], "-");
	assert_string_equal(fk.ns[1], "seg2");
	/* the first namespace got the inverse delta */
	assert_string_equal(fk.ns[2], "-");
	assert_int_equal(fk.added[2], 0);
	assert_int_equal(fk.removed[2], 1);
	assert_string_equal(show(c, "f"),
			    "# frontend 'f': 1 element(s), 0 runtime change(s)\n"
			    "# set decoys4_f in the process's network namespace: 1 element(s)\n"
			    "# set decoys4_f in namespace 'seg2': 1 element(s)\n"
			    "192.0.2.0/24:22\n");
	/* and it works when the kernel agrees */
	fk.fail_at = 0;
	assert_int_equal(rt_change(c, "f", true, "203.0.113.5:80", &err), 0);
	assert_int_equal(fk.calls, 5);
	assert_string_equal(fk.ns[4], "seg2");
	assert_non_null(strstr(show(c, "f"), "# set decoys4_f in namespace 'seg2': 2 element(s)\n"));
	free(err);
	dp_config_put(c);
}

/* What the fake kernel got in its last batch: the set and element count
 * of each message. */
static struct {
	int n;
	char set[8][64];
	uint8_t kind[8];
	size_t count[8];
} fb;

static int fake_send_sets(struct dp_config *c, const char *ns, struct nft_batch *b, char **err)
{
	fb.n = 0;
	for (size_t i = 0; i < b->nmsg; i++) {
		const struct nft_msgref *m = &b->msg[i];

		if (m->kind != NFT_K_ELEMS && m->kind != NFT_K_ELEMS_DEL)
			continue;
		assert_true(fb.n < 8);
		snprintf(fb.set[fb.n], sizeof(fb.set[0]), "%s", m->set);
		fb.kind[fb.n] = m->kind;
		fb.count[fb.n++] = m->count;
	}
	return fake_send(c, ns, b, err);
}

/* Two frontends share a namespace, one per family: a change of one
 * touches its own set only. */
static void test_rt_merged(void **state)
{
	struct dp_config *c;
	const struct tproxy_ns *p;
	char *err = NULL;
	size_t n;

	(void)state;
	tproxy_set_rt_sender(fake_send_sets);
	expect_ok(FE_HEAD "frontend a\n    bind 127.0.0.1:15001 transparent\n"
		  "    intercept 192.0.2.0/24:22\n    default_backend be\n"
		  "frontend b\n    bind [::1]:15002 transparent\n"
		  "    intercept [fd09::]/120:22\n    default_backend be\n", &c);
	mark_installed(c);
	p = tproxy_plan(c, &n);
	assert_int_equal(n, 1);
	assert_int_equal(p->nft.ndiv, 2);
	assert_int_equal(rt_change(c, "b", true, "[fd09::1000]:22", &err), 0);
	assert_int_equal(fk.added[0], 1);
	assert_int_equal(fk.removed[0], 0);
	assert_int_equal(fb.n, 1);
	assert_string_equal(fb.set[0], "decoys6_b");
	assert_int_equal(icpt_count(p->nft.div[0].decoys, AF_INET), 1);
	assert_int_equal(icpt_count(p->nft.div[1].decoys, AF_INET6), 2);
	/* b cannot touch a's family */
	expect_refused(c, "b", true, "192.0.2.0/24:80", -EINVAL,
		       "frontend 'b' diverts no IPv4 decoys, so '192.0.2.0/24:80' cannot be added: "
		       "the tproxy rule of a family is installed only when the configuration "
		       "intercepts that family (an 'intercept' line and a transparent IPv4 bind, "
		       "then a reload)");
	assert_int_equal(rt_change(c, "a", false, "192.0.2.0/24:22", &err), 0);
	assert_int_equal(fk.removed[1], 1);
	assert_int_equal(fb.n, 1);
	assert_string_equal(fb.set[0], "decoys4_a");
	assert_int_equal(icpt_count(p->nft.div[0].decoys, AF_INET), 0);
	assert_int_equal(icpt_count(p->nft.div[1].decoys, AF_INET6), 2);
	assert_string_equal(show(c, NULL),
			    "# frontend 'a': 0 element(s), 1 runtime change(s)\n"
			    "# set decoys4_a in the process's network namespace: 0 element(s)\n"
			    "# frontend 'b': 2 element(s), 1 runtime change(s)\n"
			    "# set decoys6_b in the process's network namespace: 2 element(s)\n"
			    "[fd09::]/120:22\n[fd09::1000]:22\n");
	free(err);
	dp_config_put(c);
}

/* Two frontends of one family in a namespace: `add intercept` of one
 * must not take what the other intercepts there; elsewhere it may. Each
 * change is a delta of its own set only. */
static void test_rt_overlap_other_frontend(void **state)
{
	struct dp_config *c;
	struct proxy *seg;
	char *err = NULL;
	int e;

	(void)state;
	tproxy_set_rt_sender(fake_send_sets);
	e = parse_ex(FE_HEAD "frontend ssh\n    bind 127.0.0.1:15001 transparent\n"
		     "    intercept 192.0.2.0/25:22\n    default_backend be\n"
		     "frontend web\n    bind 127.0.0.1:15002 transparent\n"
		     "    intercept 192.0.2.128/25:80,443\n    default_backend be\n"
		     "frontend seg\n    bind 127.0.0.1:15001 transparent\n"
		     "    intercept 192.0.2.0/24:8080\n    default_backend be\n", false, &c);
	assert_int_equal(e, 0);
	seg = find_px(c, "seg");
	seg->binds->netns = strdup("seg2");
	assert_int_equal(modules_finalize(c), 0);
	mark_installed(c);
	expect_refused(c, "web", true, "192.0.2.0/24:22-80", -EEXIST,
		       "192.0.2.0/25:22 is intercepted by frontend 'ssh' in the process's network "
		       "namespace (its decoy '192.0.2.0/25:22', set decoys4_ssh): in a namespace, a "
		       "decoy address:port may belong to one frontend only: nothing added");
	expect_refused(c, "ssh", true, "192.0.2.200:443 203.0.113.1:22", -EEXIST,
		       "192.0.2.200:443 is intercepted by frontend 'web' in the process's network "
		       "namespace (its decoy '192.0.2.128/25:443', set decoys4_web): in a namespace, "
		       "a decoy address:port may belong to one frontend only: nothing added");
	assert_int_equal(fk.calls, 0);
	/* the other namespace's frontend may: another network */
	assert_int_equal(rt_change(c, "seg", true, "192.0.2.0/24:22", &err), 0);
	assert_int_equal(fk.calls, 1);
	assert_string_equal(fk.ns[0], "seg2");
	assert_int_equal(fb.n, 1);
	assert_string_equal(fb.set[0], "decoys4_seg");
	assert_int_equal(fb.count[0], 1);
	/* a neighbouring port is free: only web's set changes (its element
	 * for port 80 grows to 80-81: old out, new in) */
	assert_int_equal(rt_change(c, "web", true, "192.0.2.128/25:81", &err), 0);
	assert_int_equal(fk.calls, 2);
	assert_string_equal(fk.ns[1], "-");
	assert_int_equal(fb.n, 2);
	assert_string_equal(fb.set[0], "decoys4_web");
	assert_string_equal(fb.set[1], "decoys4_web");
	assert_int_equal(fb.kind[0], NFT_K_ELEMS_DEL);
	assert_int_equal(fb.kind[1], NFT_K_ELEMS);
	/* and now ssh cannot take it */
	expect_refused(c, "ssh", true, "192.0.2.130:81", -EEXIST,
		       "192.0.2.130:81 is intercepted by frontend 'web' in the process's network "
		       "namespace (its decoy '192.0.2.128/25:80-81', set decoys4_web): in a "
		       "namespace, a decoy address:port may belong to one frontend only: nothing "
		       "added");
	/* del is never an overlap */
	assert_int_equal(rt_change(c, "web", false, "192.0.2.128/25:81", &err), 0);
	assert_int_equal(rt_change(c, "ssh", true, "192.0.2.130:81", &err), 0);
	assert_string_equal(fb.set[0], "decoys4_ssh");
	free(err);
	dp_config_put(c);
}

/* ---- the proxy's own connections inside the decoys (issue 18) ---- */

static void expect_msg(const char *needle)
{
	if (!strstr(msgs, needle))
		fail_msg("expected a message containing \"%s\", got:\n%s", needle, msgs);
}

static void expect_no_msg(const char *needle)
{
	if (strstr(msgs, needle))
		fail_msg("unexpected message containing \"%s\":\n%s", needle, msgs);
}

/* The report's case: every decoy, a server and its check on the loopback
 * of the same namespace. The rules skip loopback, so it is a warning (the
 * decoys hold an address the proxy connects to), naming the server's line
 * and the intercept line; -c accepts it. */
static void test_loop_same_namespace(void **state)
{
	struct dp_config *c;

	(void)state;
	expect_ok("defaults\n"                                  /* 1 */
		  "    mode tcp\n"
		  "    timeout client 5s\n"
		  "    timeout connect 5s\n"
		  "    timeout server 5s\n"                       /* 5 */
		  "frontend decoys\n"
		  "    bind 127.0.0.1:15001 transparent\n"
		  "    intercept 0.0.0.0/0:*\n"                   /* 8 */
		  "    default_backend b\n"
		  "backend b\n"                                   /* 10 */
		  "    server s1 127.0.0.1:9000 check\n"          /* 11 */
		  "    server s2 10.2.0.2:22 check addr 10.2.0.3 port 2222\n", &c);
	expect_msg("WARNING: config : parsing [t.cfg:11] : server 'b/s1' 127.0.0.1:9000 (t.cfg:11) "
		   "is inside the decoys of frontend 'decoys' ('0.0.0.0/0:*' (t.cfg:8)) in the "
		   "process's network namespace, the namespace decoyproxy connects to it from: its "
		   "own connections are not diverted (the intercept rules skip the loopback "
		   "interface, and a connection made in a namespace leaves it without crossing its "
		   "prerouting hook), but a decoy range should not hold an address the proxy "
		   "connects to\n");
	/* not a loopback address: other hosts' connections to it are taken */
	expect_msg("WARNING: config : parsing [t.cfg:12] : server 'b/s2' 10.2.0.2:22 (t.cfg:12) is "
		   "inside the decoys of frontend 'decoys' ('0.0.0.0/0:*' (t.cfg:8)) in the "
		   "process's network namespace, the namespace decoyproxy connects to it from: ");
	expect_msg("should not hold an address the proxy connects to: connections from other "
		   "hosts to it are diverted to frontend 'decoys' instead\n");
	/* the check toward another address and port: named on its own */
	expect_msg("WARNING: config : parsing [t.cfg:12] : the health check of server 'b/s2' "
		   "(t.cfg:12) toward 10.2.0.3:2222 is inside the decoys of frontend 'decoys'");
	/* the check of s1 goes where s1 goes: one message for both */
	expect_no_msg("health check of server 'b/s1'");
	dp_config_put(c);
}

/* The frontend intercepts in namespace seg, the server is connected from
 * the process's namespace: at an address local in seg (a bind there, an
 * announced decoy) the connection certainly enters seg and is diverted
 * back, an error; elsewhere it is, if the route crosses seg, a warning;
 * the process's own loopback never reaches seg. */
static void test_loop_other_namespace(void **state)
{
	int e;

	(void)state;
	e = parse("defaults\n"                                  /* 1 */
		  "    mode tcp\n"
		  "    timeout client 5s\n"
		  "    timeout connect 5s\n"
		  "    timeout server 5s\n"                       /* 5 */
		  "frontend decoys\n"
		  "    bind 127.0.0.1:15001 transparent namespace seg\n"
		  "    intercept 10.9.0.0/24:* announce\n"        /* 8 */
		  "    intercept 10.3.0.0/16:9000 192.0.2.0/24:*\n"   /* 9 */
		  "    default_backend b\n"                       /* 10 */
		  "frontend web\n"
		  "    bind 192.0.2.1:80 namespace seg\n"         /* 12 */
		  "    default_backend b\n"
		  "backend b\n"                                   /* 14 */
		  "    server s1 10.9.0.5:80\n"                   /* 15 */
		  "    server s2 192.0.2.1:80\n"                  /* 16 */
		  "    server s3 10.3.0.2:9000\n"                 /* 17 */
		  "    server s4 127.0.0.1:9000\n"                /* 18 */
		  "    server s5 10.3.0.2:9000 namespace seg\n"   /* 19 */
		  "    server s6 10.2.0.2:22 check addr 10.3.0.9 port 9000\n", NULL);  /* 20 */
	assert_int_equal(e, 2);
	expect_msg("ALERT: config : parsing [t.cfg:15] : server 'b/s1' 10.9.0.5:80 (t.cfg:15) is "
		   "inside the decoys of frontend 'decoys' ('10.9.0.0/24:*' (t.cfg:8)) in namespace "
		   "'seg', where it is a decoy announced there (a local route): decoyproxy connects "
		   "to it from the process's network namespace, so its connections enter namespace "
		   "'seg' from outside and are diverted back to frontend 'decoys', whose sessions "
		   "connect again: a loop (take the address out of the decoys, or make the "
		   "connection from namespace 'seg' with 'namespace')\n");
	expect_msg("ALERT: config : parsing [t.cfg:16] : server 'b/s2' 192.0.2.1:80 (t.cfg:16) is "
		   "inside the decoys of frontend 'decoys' ('192.0.2.0/24:*' (t.cfg:9)) in namespace "
		   "'seg', where it is the address of a bind of frontend 'web' (t.cfg:12): ");
	expect_msg("WARNING: config : parsing [t.cfg:17] : server 'b/s3' 10.3.0.2:9000 (t.cfg:17) "
		   "is inside the decoys of frontend 'decoys' ('10.3.0.0/16:9000' (t.cfg:9)) in "
		   "namespace 'seg', and decoyproxy connects to it from the process's network "
		   "namespace: if its route crosses namespace 'seg', its connections are diverted "
		   "back to frontend 'decoys' (a loop, which decoyproxy breaks by refusing them: the "
		   "server would be unreachable)\n");
	expect_no_msg("'b/s4'");
	/* connected from seg itself: not diverted */
	expect_msg("WARNING: config : parsing [t.cfg:19] : server 'b/s5' 10.3.0.2:9000 (t.cfg:19) "
		   "is inside the decoys of frontend 'decoys' ('10.3.0.0/16:9000' (t.cfg:9)) in "
		   "namespace 'seg', the namespace decoyproxy connects to it from: its own "
		   "connections are not diverted");
	expect_msg("WARNING: config : parsing [t.cfg:20] : the health check of server 'b/s6' "
		   "(t.cfg:20) toward 10.3.0.9:9000 is inside the decoys of frontend 'decoys' "
		   "('10.3.0.0/16:9000' (t.cfg:9)) in namespace 'seg', and decoyproxy connects to "
		   "it from the process's network namespace: if its route crosses");
	expect_no_msg("server 'b/s6' 10.2.0.2");
	/* the plain bind of seg inside the decoys of seg: taken over */
	expect_msg("WARNING: config : parsing [t.cfg:12] : bind 192.0.2.1:80 of frontend 'web' "
		   "(t.cfg:12) is inside the decoys of frontend 'decoys' ('192.0.2.0/24:*' "
		   "(t.cfg:9)) in namespace 'seg': connections from other hosts to it are diverted "
		   "to frontend 'decoys' instead\n");
}

/* `server *` connects to the decoy the client asked for: from another
 * namespace than the decoys', it may loop. */
static void test_loop_original_destination(void **state)
{
	struct dp_config *c;

	(void)state;
	expect_ok("defaults\n    mode tcp\n    timeout client 5s\n    timeout connect 5s\n"
		  "    timeout server 5s\n"
		  "frontend decoys\n"
		  "    bind 127.0.0.1:15001 transparent namespace seg\n"
		  "    intercept 198.51.100.0/24:80\n"
		  "    default_backend b\n"
		  "backend b\n"
		  "    server o *\n"                                 /* 11 */
		  "frontend local\n"
		  "    bind 127.0.0.1:15002 transparent\n"
		  "    intercept 203.0.113.0/24:80\n"
		  "    default_backend b\n", &c);
	expect_msg("WARNING: config : parsing [t.cfg:11] : server 'b/o' (t.cfg:11) connects to the "
		   "original destination, a decoy of frontend 'decoys' in namespace 'seg', from the "
		   "process's network namespace: if the route from there to the decoys crosses "
		   "namespace 'seg', its connections are diverted back to frontend 'decoys' (a "
		   "loop, which decoyproxy breaks by refusing them)\n");
	/* the same namespace: the usual transparent proxy, nothing to say */
	expect_no_msg("decoy of frontend 'local'");
	dp_config_put(c);
}

/* `add intercept` holds the new specs against the same addresses: a
 * certain loop is refused before the kernel is asked, a possible one is
 * added with a warning in the log. */
static void test_rt_loop(void **state)
{
	struct dp_config *c;
	char *err = NULL;

	(void)state;
	expect_ok("defaults\n    mode tcp\n    timeout client 5s\n    timeout connect 5s\n"
		  "    timeout server 5s\n"
		  "frontend decoys\n"
		  "    bind 127.0.0.1:15001 transparent namespace seg\n"
		  "    intercept 10.9.0.0/24:22 announce\n"         /* 8 */
		  "    default_backend b\n"
		  "backend b\n"
		  "    server s1 10.9.0.5:80\n"                      /* 11 */
		  "    server s2 10.3.0.2:9000\n", &c);              /* 12 */
	expect_no_msg("is inside the decoys");
	mark_installed(c);
	expect_refused(c, "decoys", true, "10.9.0.0/24:80", -ELOOP,
		       "server 'b/s1' 10.9.0.5:80 (t.cfg:11) is inside the decoys of frontend "
		       "'decoys' ('10.9.0.0/24:80' (stats socket)) in namespace 'seg', where it is a "
		       "decoy announced there (a local route): decoyproxy connects to it from the "
		       "process's network namespace, so its connections enter namespace 'seg' from "
		       "outside and are diverted back to frontend 'decoys', whose sessions connect "
		       "again: a loop (take the address out of the decoys, or make the connection "
		       "from namespace 'seg' with 'namespace'): nothing added");
	assert_int_equal(fk.calls, 0);
	msgs[0] = '\0';
	assert_int_equal(rt_change(c, "decoys", true, "0.0.0.0/0:9000", &err), 0);
	assert_null(err);
	assert_int_equal(fk.calls, 1);
	expect_msg("WARNING: tproxy: frontend 'decoys': runtime 'add intercept 0.0.0.0/0:9000': "
		   "server 'b/s2' 10.3.0.2:9000 (t.cfg:12) is inside the decoys of frontend "
		   "'decoys' ('0.0.0.0/0:9000' (stats socket)) in namespace 'seg', and decoyproxy "
		   "connects to it from the process's network namespace: if its route crosses "
		   "namespace 'seg'");
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
		cmocka_unit_test_setup(test_several_frontends_one_namespace, setup),
		cmocka_unit_test_setup(test_overlap_between_frontends, setup),
		cmocka_unit_test_setup(test_set_names, setup),
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
		cmocka_unit_test_setup_teardown(test_rt_refusals, setup_rt, teardown_rt),
		cmocka_unit_test_setup_teardown(test_rt_add_del, setup_rt, teardown_rt),
		cmocka_unit_test_setup_teardown(test_rt_two_namespaces_rollback, setup_rt, teardown_rt),
		cmocka_unit_test_setup_teardown(test_rt_merged, setup_rt, teardown_rt),
		cmocka_unit_test_setup_teardown(test_rt_overlap_other_frontend, setup_rt, teardown_rt),
		cmocka_unit_test_setup(test_loop_same_namespace, setup),
		cmocka_unit_test_setup(test_loop_other_namespace, setup),
		cmocka_unit_test_setup(test_loop_original_destination, setup),
		cmocka_unit_test_setup_teardown(test_rt_loop, setup_rt, teardown_rt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
