/* Unit tests: configuration tokenizer, keyword parsing, inheritance and
 * cross-reference checks. Messages are captured through ha_msg_hook. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <unistd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "decoyproxy/addr.h"
#include "decoyproxy/cfg.h"
#include "decoyproxy/global.h"
#include "decoyproxy/listener.h"
#include "decoyproxy/proxy.h"
#include "decoyproxy/runtime.h"
#include "decoyproxy/server.h"

static char msgs[16384];

static void capture(int kind, const char *m)
{
	static const char *const k[] = { "ALERT", "WARNING", "NOTICE", "DEBUG" };
	size_t l = strlen(msgs);

	snprintf(msgs + l, sizeof(msgs) - l, "%s: %s\n", k[kind], m);
}

static int setup(void **state)
{
	msgs[0] = '\0';
	ha_msg_hook = capture;
	rt.quiet = true;
	return 0;
}

/* Parses buf fully (parse + finalize); returns the error count. */
static int parse(const char *buf, struct dp_config **out)
{
	struct dp_config *c = dp_config_new();
	int errors;

	assert_non_null(c);
	msgs[0] = '\0';
	errors = cfg_parse_buffer(c, "t.cfg", buf);
	if (!errors)
		errors = dp_config_finalize(c);
	if (out)
		*out = c;
	else
		dp_config_put(c);
	return errors;
}

static void expect_error(const char *buf, const char *needle)
{
	int e = parse(buf, NULL);

	if (e == 0 || !strstr(msgs, needle))
		fail_msg("expected an error containing \"%s\", got %d error(s):\n%s", needle, e, msgs);
}

/* ---- tokenizer ---- */

static int tok(const char *line, char **argv, char *out, size_t cap)
{
	char *err = NULL;
	int n = cfg_tokenize(line, argv, CFG_MAX_ARGS, out, cap, &err);

	free(err);
	return n;
}

static void test_tokenize_basic(void **state)
{
	char *argv[CFG_MAX_ARGS], out[512];

	assert_int_equal(tok("  bind  :80   transparent # comment", argv, out, sizeof(out)), 3);
	assert_string_equal(argv[0], "bind");
	assert_string_equal(argv[1], ":80");
	assert_string_equal(argv[2], "transparent");
	assert_int_equal(tok("   # only a comment", argv, out, sizeof(out)), 0);
	assert_int_equal(tok("", argv, out, sizeof(out)), 0);
	assert_int_equal(tok("a\tb\r\n", argv, out, sizeof(out)), 2);
	assert_string_equal(argv[1], "b");
}

static void test_tokenize_quotes_escapes(void **state)
{
	char *argv[CFG_MAX_ARGS], out[512];

	assert_int_equal(tok("log-format \"%ci:%cp [%t] x\"", argv, out, sizeof(out)), 2);
	assert_string_equal(argv[1], "%ci:%cp [%t] x");
	assert_int_equal(tok("a\\ b c\\#d 'e \\n' \"f\\\"g\"", argv, out, sizeof(out)), 4);
	assert_string_equal(argv[0], "a b");
	assert_string_equal(argv[1], "c#d");
	assert_string_equal(argv[2], "e \\n"); /* no escapes within single quotes */
	assert_string_equal(argv[3], "f\"g");
	assert_int_equal(tok("x\\x41\\t", argv, out, sizeof(out)), 1);
	assert_string_equal(argv[0], "xA\t");
	assert_int_equal(tok("'#' \"#\"", argv, out, sizeof(out)), 2);
	assert_string_equal(argv[0], "#");
	assert_string_equal(argv[1], "#");
	assert_int_equal(tok("pre'mid'post", argv, out, sizeof(out)), 1);
	assert_string_equal(argv[0], "premidpost");
}

static void test_tokenize_env(void **state)
{
	char *argv[CFG_MAX_ARGS], out[512];

	setenv("DP_TEST_PORT", "8443", 1);
	assert_int_equal(tok("bind \":${DP_TEST_PORT}\" '${DP_TEST_PORT}'", argv, out, sizeof(out)), 3);
	assert_string_equal(argv[1], ":8443");
	assert_string_equal(argv[2], "${DP_TEST_PORT}"); /* single quotes: literal */
}

static void test_tokenize_errors(void **state)
{
	char *argv[CFG_MAX_ARGS], out[512], *err = NULL;

	assert_int_equal(cfg_tokenize("a \"unterminated", argv, CFG_MAX_ARGS, out, sizeof(out), &err), CFG_ERR);
	assert_non_null(strstr(err, "unmatched double quote"));
	assert_int_equal(cfg_tokenize("a 'x", argv, CFG_MAX_ARGS, out, sizeof(out), &err), CFG_ERR);
	assert_non_null(strstr(err, "unmatched single quote"));
	assert_int_equal(cfg_tokenize("a \\xZ1", argv, CFG_MAX_ARGS, out, sizeof(out), &err), CFG_ERR);
	assert_non_null(strstr(err, "\\x"));
	assert_int_equal(cfg_tokenize("a b c", argv, 2, out, sizeof(out), &err), CFG_ERR);
	assert_non_null(strstr(err, "too many words"));
	assert_int_equal(cfg_tokenize("abcdefgh", argv, 4, out, 4, &err), CFG_ERR);
	assert_non_null(strstr(err, "too long"));
	free(err);
}

/* ---- values ---- */

static void test_time_units(void **state)
{
	long long ms;

	assert_int_equal(cfg_parse_time_ms("5000", &ms), 0);
	assert_int_equal(ms, 5000);
	assert_int_equal(cfg_parse_time_ms("5s", &ms), 0);
	assert_int_equal(ms, 5000);
	assert_int_equal(cfg_parse_time_ms("2m", &ms), 0);
	assert_int_equal(ms, 120000);
	assert_int_equal(cfg_parse_time_ms("1h", &ms), 0);
	assert_int_equal(ms, 3600000);
	assert_int_equal(cfg_parse_time_ms("1d", &ms), 0);
	assert_int_equal(ms, 86400000);
	assert_int_equal(cfg_parse_time_ms("1500us", &ms), 0);
	assert_int_equal(ms, 2);
	assert_int_equal(cfg_parse_time_ms("10ms", &ms), 0);
	assert_int_equal(ms, 10);
	assert_int_equal(cfg_parse_time_ms("10x", &ms), -EINVAL);
	assert_int_equal(cfg_parse_time_ms("-1", &ms), -EINVAL);
	assert_int_equal(cfg_parse_time_ms("", &ms), -EINVAL);
	assert_int_equal(cfg_parse_time_ms("30d", &ms), -ERANGE);
}

static void test_suggest(void **state)
{
	static const char *const c[] = { "maxconn", "daemon", "pidfile", NULL };

	assert_string_equal(cfg_suggest("maxcon", c), "maxconn");
	assert_string_equal(cfg_suggest("deamon", c), "daemon");
	assert_null(cfg_suggest("zzzzzzzz", c));
}

/* ---- whole configurations ---- */

static const char *good_cfg =
	"global\n"
	"    maxconn 5000\n"
	"    log stdout format raw local0 info\n"
	"    nbthread 1\n"
	"defaults\n"
	"    mode tcp\n"
	"    log global\n"
	"    option tcplog\n"
	"    timeout connect 5s\n"
	"    timeout client 30s\n"
	"    timeout server 30s\n"
	"    retries 2\n"
	"frontend fe\n"
	"    bind 127.0.0.1:9000,[::1]:9000 v6only\n"
	"    bind :9100-9102 maxconn 10\n"
	"    maxconn 100\n"
	"    default_backend be\n"
	"backend be\n"
	"    balance leastconn\n"
	"    timeout server 1m\n"
	"    server a 10.0.0.1:80 weight 3\n"
	"    server b 10.0.0.2 maxconn 5\n"
	"    server c 10.0.0.3:+1000\n"
	"    server d 0.0.0.0\n"
	"    server e [fd02::2] disabled\n";

static void test_good_config(void **state)
{
	struct dp_config *c;
	struct proxy *fe, *be;
	struct server *s;

	assert_int_equal(parse(good_cfg, &c), 0);
	assert_int_equal(c->g.maxconn, 5000);
	fe = dp_config_find_proxy(c, "fe", PR_CAP_FE);
	be = dp_config_find_proxy(c, "be", PR_CAP_BE);
	assert_non_null(fe);
	assert_non_null(be);
	assert_ptr_equal(fe->defbe, be);
	assert_int_equal(fe->maxconn, 100);
	assert_int_equal(fe->to.client, 30000);
	assert_int_equal(be->to.connect, 5000);
	assert_int_equal(be->to.server, 60000);   /* own value wins */
	assert_int_equal(be->retries, 2);
	assert_int_equal(be->lbalgo, LB_LEASTCONN);
	assert_true(fe->options & PR_O_TCPLOG);
	assert_true(fe->log_global);
	assert_int_equal(fe->logs.n, 1);           /* the global target */
	assert_int_equal(dp_config_count_listeners(c), 5);
	assert_true(fe->binds->listeners->next->addr.ss_family == AF_INET6);
	assert_true(fe->binds->options & BC_O_V6ONLY);
	assert_int_equal(fe->binds->next->maxconn, 10);
	assert_int_equal(addr_port(&fe->binds->next->listeners_last->addr), 9102);

	s = be->srv;
	assert_string_equal(s->name, "a");
	assert_int_equal(s->weight, 3);
	assert_int_equal(s->port_mode, SRV_PORT_FIXED);
	s = s->next;
	assert_int_equal(s->port_mode, SRV_PORT_SAME);
	assert_int_equal(s->maxconn, 5);
	s = s->next;
	assert_int_equal(s->port_mode, SRV_PORT_OFFSET);
	assert_int_equal(s->port_offset, 1000);
	s = s->next;
	assert_true(s->flags & SRV_F_ADDR_ORIG);
	s = s->next;
	assert_true(s->addr.ss_family == AF_INET6);
	assert_true(s->flags & SRV_F_DISABLED);
	dp_config_put(c);
}

static void test_server_target(void **state)
{
	struct dp_config *c;
	struct proxy *be;
	struct sockaddr_storage orig, out;
	struct addr_spec a;
	char buf[64], *err = NULL;

	assert_int_equal(parse(good_cfg, &c), 0);
	be = dp_config_find_proxy(c, "be", PR_CAP_BE);
	assert_int_equal(addr_parse("192.0.2.77:2222", 0, &a, &err), 0);
	orig = a.ss;
	assert_int_equal(server_target(be->srv, &orig, &out), 0);
	assert_string_equal(addr_str(&out, buf, sizeof(buf)), "10.0.0.1:80");
	assert_int_equal(server_target(be->srv->next, &orig, &out), 0);
	assert_string_equal(addr_str(&out, buf, sizeof(buf)), "10.0.0.2:2222");
	assert_int_equal(server_target(be->srv->next->next, &orig, &out), 0);
	assert_string_equal(addr_str(&out, buf, sizeof(buf)), "10.0.0.3:3222");
	assert_int_equal(server_target(be->srv->next->next->next, &orig, &out), 0);
	assert_string_equal(addr_str(&out, buf, sizeof(buf)), "192.0.2.77:2222");
	assert_int_equal(server_target(be->srv->next->next->next->next, &orig, &out), 0);
	assert_string_equal(addr_str(&out, buf, sizeof(buf)), "[fd02::2]:2222");
	dp_config_put(c);
}

static void test_named_defaults_from(void **state)
{
	struct dp_config *c;
	struct proxy *fe, *fe2;
	const char *cfg =
		"defaults tcpdef\n"
		"    mode tcp\n"
		"    timeout client 7s\n"
		"    timeout connect 1s\n"
		"    timeout server 2s\n"
		"defaults other\n"
		"    timeout client 9s\n"
		"frontend a from tcpdef\n"
		"    bind :1\n"
		"    default_backend b\n"
		"frontend a2\n"
		"    bind :2\n"
		"    default_backend b\n"
		"backend b from tcpdef\n"
		"    server s 127.0.0.1:1\n";

	assert_int_equal(parse(cfg, &c), 0);
	fe = dp_config_find_proxy(c, "a", PR_CAP_FE);
	fe2 = dp_config_find_proxy(c, "a2", PR_CAP_FE);
	assert_int_equal(fe->to.client, 7000);
	assert_int_equal(fe2->to.client, 9000); /* the last defaults before it */
	dp_config_put(c);
}

static void test_listen_section(void **state)
{
	struct dp_config *c;
	struct proxy *px;

	assert_int_equal(parse("listen l\n bind :1\n timeout client 1s\n timeout connect 1s\n"
			       " timeout server 1s\n server s 127.0.0.1:2\n", &c), 0);
	px = dp_config_find_proxy(c, "l", PR_CAP_FE);
	assert_ptr_equal(px->defbe, px);
	dp_config_put(c);
}

static void test_errors_name_file_line_keyword(void **state)
{
	expect_error("global\n  maxconn abc\n", "parsing [t.cfg:2] : 'maxconn': invalid value 'abc'");
	expect_error("global\n  maxcon 10\n", "[t.cfg:2] : unknown keyword 'maxcon' in 'global' section; did you mean 'maxconn' maybe ?");
	expect_error("frontend f\n  mode http\n", "[t.cfg:2] : 'mode': decoyproxy is a layer-4 proxy");
	expect_error("frontend f\n  bind :80\n  default_backend nowhere\n",
		     "[t.cfg:3] : frontend 'f': unable to find required default_backend: 'nowhere'.");
	expect_error("backend b\n  server s 1.2.3.4:80\nbackend b\n  server s 1.2.3.4:80\n",
		     "[t.cfg:3] : backend 'b' has the same name as backend 'b' declared at t.cfg:1");
	expect_error("backend b\n  server s 1.2.3.4:80\n  server s 1.2.3.5:80\n",
		     "[t.cfg:3] : backend 'b': server 's' already declared at t.cfg:2");
	expect_error("frontend f\n  bind 1.2.3.4\n", "[t.cfg:2] : 'bind': address '1.2.3.4': missing port");
	expect_error("frontend f\n  bind :80 transparant\n", "unknown option 'transparant'; did you mean 'transparent' maybe ?");
	expect_error("frontend f\n  bind :70000\n", "invalid port");
	expect_error("backend b\n  server s 1.2.3.4 check\n", "health check needs a port: give the server a port or use 'port <n>'");
	expect_error("backend b\n  server s 0.0.0.0:80 check\n", "health check of a 0.0.0.0 server needs 'addr <ip>'");
	expect_error("backend b\n  server s 1.2.3.4:80 check rise 0\n", "'rise' must be at least 1");
	expect_error("backend b\n  server s 1.2.3.4:80 check inter 2x\n", "'inter' expects a positive time, got '2x'");
	expect_error("backend b\n  server s 1.2.3.4:80 agent-check\n", "option 'agent-check' is not supported");
	expect_error("backend b\n  server s 1.2.3.4:80 wieght 2\n", "did you mean 'weight' maybe ?");
	expect_error("backend b\n  server s 1.2.3.4:80 weight 300\n", "'weight' expects an integer from 0 to 256");
	expect_error("backend b\n  server s fd02::2\n", "write IPv6 addresses as [addr]:port");
	expect_error("defaults\n  timeout conect 5s\n", "unknown timeout 'conect'; did you mean 'connect' maybe ?");
	expect_error("defaults\n  timeout connect 5q\n", "timeout connect: invalid time '5q'");
	expect_error("frontend f\n  option httplog\n", "option 'httplog' is an HTTP option");
	expect_error("frontend f\n  use_backend b if x\n", "'use_backend' is not supported by decoyproxy: ACLs");
	expect_error("global\n  bind :80\n", "'bind' is not allowed in 'global' section");
	expect_error("frontend f from nope\n", "defaults section 'nope' not found");
	expect_error("peers p\n", "section 'peers' is not supported");
	expect_error("global\n  log stdout format raw locl0\n", "[t.cfg:2] : 'log'");
	expect_error("frontend f\n  log-format \"%ci %zz\"\n", "[t.cfg:2] : 'log-format'");
	expect_error("backend b\n  balance uri\n", "algorithm 'uri' is not supported");
	expect_error("global\n  nbproc 2\n", "'nbproc' is not supported by decoyproxy");
	expect_error("frontend f\n  bind unix@/tmp/x\n", "only IPv4/IPv6 TCP addresses");
	expect_error("frontend\n", "'frontend' expects a name");
	expect_error("bind :80\n", "unknown keyword 'bind' out of section");
}

static void test_checks_and_pp_options(void **state)
{
	struct dp_config *c;
	struct server *s;

	assert_int_equal(parse("backend b\n timeout connect 1s\n timeout server 1s\n"
			       " server a 10.0.0.1:80 check inter 3s fastinter 500 downinter 10s rise 3 fall 4\n"
			       " server n 10.0.0.2 check port 8080 addr 10.0.0.9\n"
			       " server p 10.0.0.3:80 send-proxy-v2 proxy-v2-options crc32c,unique-id set-proxy-v2-tlv-fmt(0xE1) %ft\n"
			       " server q 10.0.0.4:80 send-proxy\n"
			       " server r 10.0.0.5 source 0.0.0.0 usesrc client\n", &c), 0);
	s = dp_config_find_proxy(c, "b", PR_CAP_BE)->srv;
	assert_true(s->check);
	assert_int_equal(s->chk_inter, 3000);
	assert_int_equal(s->chk_fastinter, 500);
	assert_int_equal(s->chk_downinter, 10000);
	assert_int_equal(s->chk_rise, 3);
	assert_int_equal(s->chk_fall, 4);
	assert_true(s->chk_up);
	s = s->next;
	assert_int_equal(s->chk_port, 8080);
	assert_int_equal(s->chk_addr.ss_family, AF_INET);
	assert_int_equal(s->chk_inter, 2000); /* HAProxy's default */
	assert_int_equal(s->chk_rise, 2);
	assert_int_equal(s->chk_fall, 3);
	s = s->next;
	assert_true(s->flags & SRV_F_SEND_PROXY_V2);
	assert_int_equal(s->pp_opts, SRV_PP_CRC32C | SRV_PP_UNIQUE_ID);
	assert_int_equal(s->ntlvs, 1);
	assert_int_equal(s->tlvs[0].type, 0xE1);
	s = s->next;
	assert_true(s->flags & SRV_F_SEND_PROXY);
	s = s->next;
	assert_true(s->source.set);
	assert_int_equal(s->source.usesrc, SRC_USESRC_CLIENT);
	dp_config_put(c);

	/* default-server, inherited from defaults and overridden per server */
	assert_int_equal(parse("defaults\n timeout connect 1s\n timeout server 1s\n default-server inter 5s fall 5 maxconn 7\n"
			       "backend b\n default-server weight 9\n server a 10.0.0.1:80 check\n"
			       " server b 10.0.0.2:80 weight 2 maxconn 1\n", &c), 0);
	s = dp_config_find_proxy(c, "b", PR_CAP_BE)->srv;
	assert_int_equal(s->chk_inter, 5000);
	assert_int_equal(s->chk_fall, 5);
	assert_int_equal(s->maxconn, 7);
	assert_int_equal(s->weight, 9);
	assert_true(s->check);
	assert_int_equal(s->next->weight, 2);
	assert_int_equal(s->next->maxconn, 1);
	assert_false(s->next->check);
	dp_config_put(c);
	expect_error("backend b\n default-server chek\n", "[t.cfg:2] : 'default-server': unknown option 'chek'; did you mean 'check' maybe ?");

	expect_error("backend b\n server s 1.2.3.4:80 proxy-v2-options crc32c\n", "'proxy-v2-options' needs 'send-proxy-v2'");
	expect_error("backend b\n server s 1.2.3.4:80 send-proxy-v2 proxy-v2-options ssl\n", "decoyproxy does not terminate TLS");
	expect_error("backend b\n server s 1.2.3.4:80 send-proxy-v2 set-proxy-v2-tlv-fmt(0x30) x\n", "custom range 0xE0-0xEF");
	expect_error("backend b\n server s 1.2.3.4:80 source 1.2.3.4 usesrc hdr_ip(x)\n", "needs HTTP");
	expect_error("frontend f\n unique-id-format %zz\n", "[t.cfg:2] : 'unique-id-format'");
}

static void test_warnings(void **state)
{
	struct dp_config *c;

	assert_int_equal(parse("global\n  nbthread 4\nfrontend f\n  bind :1\n  default_backend b\n"
			       "backend b\n  server s 127.0.0.1:1\n", &c), 0);
	assert_non_null(strstr(msgs, "WARNING: config : parsing [t.cfg:2] : 'nbthread': decoyproxy runs one event-loop thread"));
	assert_non_null(strstr(msgs, "missing timeouts for frontend 'f'"));
	assert_non_null(strstr(msgs, "missing timeouts for backend 'b'"));
	assert_int_equal(c->g.nbthread, 4);
	dp_config_put(c);
}

static void test_dir_and_missing_file(void **state)
{
	struct dp_config *c = dp_config_new();
	char dir[] = "/tmp/dpcfgXXXXXX";
	char p1[64], p2[64];
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(p1, sizeof(p1), "%s/10-global.cfg", dir);
	snprintf(p2, sizeof(p2), "%s/20-proxies.cfg", dir);
	f = fopen(p1, "w");
	fputs("global\n maxconn 77\n", f);
	fclose(f);
	f = fopen(p2, "w");
	fputs("listen l\n bind :1\n server s 127.0.0.1:1\n", f);
	fclose(f);
	assert_int_equal(cfg_parse_path(c, dir), 0);
	assert_int_equal(c->g.maxconn, 77);
	assert_non_null(dp_config_find_proxy(c, "l", PR_CAP_BE));
	assert_int_equal(c->nfiles, 2);
	dp_config_put(c);
	unlink(p1);
	unlink(p2);
	rmdir(dir);

	c = dp_config_new();
	msgs[0] = '\0';
	assert_true(cfg_parse_path(c, "/nonexistent/x.cfg") < 0);
	assert_non_null(strstr(msgs, "could not open configuration file '/nonexistent/x.cfg'"));
	dp_config_put(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_tokenize_basic, setup),
		cmocka_unit_test_setup(test_tokenize_quotes_escapes, setup),
		cmocka_unit_test_setup(test_tokenize_env, setup),
		cmocka_unit_test_setup(test_tokenize_errors, setup),
		cmocka_unit_test_setup(test_time_units, setup),
		cmocka_unit_test_setup(test_suggest, setup),
		cmocka_unit_test_setup(test_good_config, setup),
		cmocka_unit_test_setup(test_server_target, setup),
		cmocka_unit_test_setup(test_named_defaults_from, setup),
		cmocka_unit_test_setup(test_listen_section, setup),
		cmocka_unit_test_setup(test_errors_name_file_line_keyword, setup),
		cmocka_unit_test_setup(test_checks_and_pp_options, setup),
		cmocka_unit_test_setup(test_warnings, setup),
		cmocka_unit_test_setup(test_dir_and_missing_file, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
