/* Unit tests: configuration tokenizer, keyword parsing, inheritance and
 * cross-reference checks. Messages are captured through ha_msg_hook. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdio.h>
#include <unistd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "lib/common.h"

#include "lib/addr.h"
#include "cfg/cfg.h"
#include "core/chk.h"
#include "ctl/srvstate.h"
#include "model/srvstate.h"
#include "model/conf.h"
#include "core/listener.h"
#include "model/proxy.h"
#include "core/loop.h"
#include "model/server.h"
#include "model/bind.h"
#include "model/events.h"
#include "log/evlog.h"
#include "model/source.h"
#include "log/msg.h"
#include "ctl/module.h"

#include "helpers.h"

/* every test starts with no message, capture on */
static int setup(void **state)
{
	return capture_setup(state);
}

/* Parses buf, which must have no error and no message at all. */
static void expect_clean(const char *buf)
{
	int e = parse(buf, NULL);

	if (e != 0 || msgs[0])
		fail_msg("expected no message, got %d error(s):\n%s", e, msgs);
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
	assert_int_equal(cfg_parse_time_ms("2147483647", &ms), 0);
	assert_int_equal(ms, CFG_TIMER_MAX_MS);
	assert_int_equal(cfg_parse_time_ms("2147483648", &ms), -ERANGE);
	assert_int_equal(cfg_parse_time_ms("24d", &ms), 0);
	assert_int_equal(cfg_parse_time_ms("25d", &ms), -ERANGE);
	assert_int_equal(cfg_parse_time_ms("99999999999999999999999", &ms), -ERANGE);
}

static void test_timer_overflow_messages(void **state)
{
	/* HAProxy's words, with the keyword decoyproxy puts first */
	expect_error("defaults\n timeout client 30d\n",
		     "[t.cfg:2] : 'timeout': timer overflow in argument '30d' to 'timeout client' (maximum value is 2147483647 ms or ~24.8 days)");
	expect_error("defaults\n timeout check 2147483648\n",
		     "timer overflow in argument '2147483648' to 'timeout check'");
	expect_error("global\n hard-stop-after 25d\n",
		     "[t.cfg:2] : 'hard-stop-after': timer overflow in argument '25d' to 'hard-stop-after' (maximum value is 2147483647 ms");
	expect_error("global\n hard-stop-after 5x\n", "'hard-stop-after': invalid time '5x'");
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

/* HAProxy's Debian defaults: HTTP mode and options in defaults, every
 * relaying proxy in TCP mode, a statistics page (issue 17). */
static void test_http_defaults_tcp_proxies(void **state)
{
	static const char defaults[] =
		"defaults\n mode http\n option httplog\n option dontlognull\n option forwardfor\n"
		" option http-server-close\n option http-keep-alive\n option http-buffer-request\n"
		" timeout connect 5s\n timeout client 5s\n timeout server 5s\n timeout http-request 10s\n"
		" timeout http-keep-alive 2s\n errorfile 400 /nonexistent/400.http\n errorfile 503 /x/503.http\n";
	char buf[2048];
	struct dp_config *c;
	struct proxy *px;

	(void)state;
	snprintf(buf, sizeof(buf), "%slisten pg\n mode tcp\n bind :5432\n server a 127.0.0.1:5433\n", defaults);
	expect_warning(buf, "[t.cfg:3] : 'option httplog' not usable with proxy 'pg' (needs 'mode http'). Falling back to 'option tcplog'.");
	expect_warning(buf, "config : 'option forwardfor' ignored for proxy 'pg' as it requires HTTP mode.");
	expect_warning(buf, "config : 'option http-buffer-request' ignored for proxy 'pg' as it requires HTTP mode.");
	/* HAProxy says nothing of the connection-mode options in TCP */
	if (strstr(msgs, "http-server-close") || strstr(msgs, "http-keep-alive") || strstr(msgs, "errorfile"))
		fail_msg("unexpected message:\n%s", msgs);
	/* the fallback is tcplog */
	assert_int_equal(parse(buf, &c), 0);
	px = dp_config_find_proxy(c, "pg", PR_CAP_FE);
	assert_true(px->options & PR_O_TCPLOG);
	assert_int_equal(px->mode, PR_MODE_TCP);
	dp_config_put(c);
	/* a backend has no httplog to fall back from; 'no option' clears */
	snprintf(buf, sizeof(buf), "%sbackend b\n mode tcp\n no option forwardfor\n server a 127.0.0.1:1\n", defaults);
	expect_warning(buf, "'option http-buffer-request' ignored for backend 'b' as it requires HTTP mode.");
	if (strstr(msgs, "httplog") || strstr(msgs, "forwardfor"))
		fail_msg("unexpected message:\n%s", msgs);
	/* a statistics proxy inherits HTTP mode and is accepted */
	snprintf(buf, sizeof(buf), "%slisten stats\n bind :8404\n stats enable\n stats uri /s\n stats refresh 5s\n"
		 " stats auth a:b\n stats auth c:d\n stats realm My\\ stats\n stats admin if LOCALHOST\n stats hide-version\n"
		 " stats show-legends\n http-request use-service prometheus-exporter if { path /metrics }\n", defaults);
	assert_int_equal(parse(buf, NULL), 0);
	/* stats lines in a TCP proxy: HAProxy's warnings */
	expect_warning("listen x\n bind :1\n timeout client 1s\n timeout connect 1s\n timeout server 1s\n"
		       " server a 127.0.0.1:2\n stats enable\n http-request use-service prometheus-exporter\n",
		       "'stats' statement ignored for proxy 'x' as it requires HTTP mode.");
	assert_non_null(strstr(msgs, "'http-request' rules ignored for proxy 'x' as they require HTTP mode."));
	/* a proxy left in HTTP mode: one error at the mode line for all */
	snprintf(buf, sizeof(buf), "%sfrontend f\n bind :80\n default_backend b\nbackend b\n server a 127.0.0.1:1\n", defaults);
	expect_error(buf, "parsing [t.cfg:2] : 'mode http' puts frontend 'f' (t.cfg:16), backend 'b' (t.cfg:19) in HTTP mode, which is not supported");
	assert_null(strstr(strstr(msgs, "puts") + 1, "puts"));
	/* a statistics page relays nothing */
	expect_error("listen s\n mode http\n bind :1\n stats enable\n server a 127.0.0.1:1\n",
		     "[t.cfg:2] : proxy 's' (t.cfg:1) is in 'mode http' with servers, which is not supported");
	expect_error("listen s\n mode http\n bind :1 accept-proxy\n stats enable\n",
		     "[t.cfg:3] : statistics proxy 's': bind ':1': 'accept-proxy' and 'transparent' are not yet supported");
	expect_error("listen s\n mode ftp\n", "unknown mode 'ftp'");
}

static void test_stats_keywords(void **state)
{
	static const struct {
		const char *line, *needle;
	} bad[] = {
		{ "stats", "expects 'admin', 'auth'" },
		{ "stats uri stats", "'uri' needs a URI prefix starting with '/'." },
		{ "stats refresh soon", "'refresh' needs a positive interval" },
		{ "stats auth admin", "'auth' needs a user:password account." },
		{ "stats auth :pw", "'auth' needs a user:password account." },
		{ "stats realm", "'realm' needs a realm name." },
		{ "stats admin", "'stats admin' requires either 'if' or 'unless' followed by a condition." },
		{ "stats admin if { src 10.0.0.0/8 }", "conditions other than one of the predefined ACLs TRUE, FALSE and LOCALHOST are not yet supported" },
		{ "stats admin if is_admin", "condition 'is_admin' is not yet supported" },
		{ "stats scope be", "'stats scope' is not yet supported" },
		{ "stats http-request deny", "'stats http-request' is not yet supported" },
		{ "stats bogus", "unknown stats parameter 'bogus'" },
		{ "http-request deny", "'http-request' is not supported by decoyproxy: decoyproxy is a layer-4 proxy" },
		{ "http-request use-service prometheus-exporter if metrics", "conditions other than 'if { path /<path> }' are not yet supported" },
		{ "http-request use-service prometheus-exporter if { path_beg /m }", "are not yet supported" },
	};
	char buf[512];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		snprintf(buf, sizeof(buf), "listen s\n mode http\n bind :1\n stats enable\n %s\n", bad[i].line);
		expect_error(buf, bad[i].needle);
		if (!strstr(msgs, "[t.cfg:5]"))
			fail_msg("no file:line for '%s':\n%s", bad[i].line, msgs);
	}
	expect_error("defaults\n stats enable\n", "[t.cfg:2] : 'stats enable' in a defaults section is not yet supported");
	expect_error("backend b\n mode http\n stats enable\n", "a statistics backend is not yet supported");
	expect_error("global\n chroot jail\n", "[t.cfg:2] : 'chroot': 'jail' is not an absolute path");
	expect_error("global\n chroot /nonexistent/jail\n",
		     "[t.cfg:2] : 'chroot': cannot use '/nonexistent/jail': No such file or directory");
	expect_error("global\n chroot /dev/null\n", "'chroot': cannot use '/dev/null': not a directory");
	expect_error("global\n chroot /\nlisten l\n bind 10.0.0.1:80 namespace seg\n server s 10.0.0.2:80\n",
		     "[t.cfg:2] : 'chroot' together with network namespaces is not yet supported");
	expect_error("listen s 127.0.0.1:80\n", "[t.cfg:1] : please use the 'bind' keyword for listening addresses.");
	expect_error("defaults\n errorfile 499 /x\n", "[t.cfg:2] : 'errorfile': status code '499' not handled.");
	expect_error("defaults\n errorfile 503\n", "'errorfile': errorfile <code> <file> expected");
	expect_warning("listen s\n mode http\n bind :1\n stats enable\n stats bind-process 1\n",
		       "'stats bind-process' ignored");
	expect_error("frontend f\n option forwardfor except\n", "option 'forwardfor': 'except' expects a value");
	expect_error("frontend f\n option http-buffer-request now\n", "option 'http-buffer-request' takes no argument");
	expect_error("frontend f\n option httplog tcp\n", "option 'httplog' only accepts 'clf'");
	expect_warning("frontend f\n option prefer-last-server\n",
		       "'option prefer-last-server' ignored because frontend 'f' has no backend capability.");
}

static void test_errors_name_file_line_keyword(void **state)
{
	expect_error("global\n  maxconn abc\n", "parsing [t.cfg:2] : 'maxconn': invalid value 'abc'");
	expect_error("global\n  maxcon 10\n", "[t.cfg:2] : unknown keyword 'maxcon' in 'global' section; did you mean 'maxconn' maybe ?");
	expect_error("frontend f\n  mode http\n", "[t.cfg:2] : 'mode http' puts frontend 'f' (t.cfg:1) in HTTP mode, which is not supported: decoyproxy is a layer-4 proxy");
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
	expect_error("backend b\n  server s 1.2.3.4:80 track b/x\n", "'server b/s' : unable to find required server 'x' for tracking.");
	expect_error("backend b\n  server s 1.2.3.4:80 wieght 2\n", "did you mean 'weight' maybe ?");
	expect_error("backend b\n  server s 1.2.3.4:80 weight 300\n", "'weight' expects an integer from 0 to 256");
	expect_error("backend b\n  server s fd02::2\n", "write IPv6 addresses as [addr]:port");
	expect_error("defaults\n  timeout conect 5s\n", "unknown timeout 'conect'; did you mean 'connect' maybe ?");
	expect_error("defaults\n  timeout connect 5q\n", "timeout connect: invalid time '5q'");
	expect_error("frontend f\n  option forceclose\n", "option 'forceclose' is an HTTP option");
	expect_error("frontend f\n  use_backend b if x\n", "no such ACL : 'x'");
	expect_error("global\n  bind :80\n", "'bind' is not allowed in 'global' section");
	expect_error("frontend f from nope\n", "defaults section 'nope' not found");
	expect_error("peers p\n", "section 'peers' is not supported");
	expect_error("global\n  log stdout format raw locl0\n", "[t.cfg:2] : 'log'");
	expect_error("frontend f\n  log-format \"%ci %zz\"\n", "[t.cfg:2] : 'log-format'");
	expect_error("backend b\n  balance uri\n", "algorithm 'uri' is not supported");
	expect_error("global\n  nbproc 2\n", "'nbproc' is not supported by decoyproxy");
	expect_error("frontend f\n  bind fd@3\n", "only IPv4/IPv6 TCP addresses");
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
	/* nbthread above 1 is thread mode now: no warning */
	assert_null(strstr(msgs, "'nbthread'"));
	assert_non_null(strstr(msgs, "missing timeouts for frontend 'f'"));
	assert_non_null(strstr(msgs, "missing timeouts for backend 'b'"));
	assert_int_equal(c->g.nbthread, 4);
	dp_config_put(c);
}

static void test_global_keywords(void **state)
{
	struct dp_config *c;

	assert_int_equal(parse("global\n ulimit-n 4096\n pidfile /run/dp.pid\n daemon\n user root\n group root\n"
			       " strict-limits\n", &c), 0);
	assert_string_equal(msgs, "");
	assert_int_equal(c->g.ulimit_n, 4096);
	assert_string_equal(c->g.pidfile, "/run/dp.pid");
	assert_true(c->g.daemon);
	assert_true(c->g.have_uid);
	assert_int_equal(c->g.uid, 0);
	assert_string_equal(c->g.user, "root");
	assert_true(c->g.have_gid);
	assert_int_equal(c->g.gid, 0);
	assert_string_equal(c->g.group, "root");
	dp_config_put(c);

	/* a later pidfile replaces the earlier one (no leak: valgrind/ASan) */
	assert_int_equal(parse("global\n pidfile /a\n pidfile /b\n", &c), 0);
	assert_string_equal(c->g.pidfile, "/b");
	dp_config_put(c);

	expect_error("global\n ulimit-n lots\n", "[t.cfg:2] : 'ulimit-n': invalid value 'lots'");
	expect_error("global\n ulimit-n\n", "'ulimit-n': expects one argument");
	expect_error("global\n pidfile\n", "'pidfile': expects one argument");
	expect_error("global\n pidfile /a /b\n", "'pidfile': unexpected extra argument '/b'");
	expect_error("global\n daemon now\n", "'daemon': takes no argument");
	expect_error("global\n strict-limits yes\n", "'strict-limits': takes no argument");
	expect_error("global\n user no-such-user-dp\n", "[t.cfg:2] : 'user': unknown user 'no-such-user-dp'");
	expect_error("global\n group no-such-group-dp\n", "[t.cfg:2] : 'group': unknown group 'no-such-group-dp'");
	/* names resolved reentrantly (lib/tools.c): a known name gives its id */
	assert_int_equal(parse("global\n user root\n group root\n", &c), 0);
	assert_true(c->g.have_uid && c->g.uid == 0 && c->g.have_gid && c->g.gid == 0);
	dp_config_put(c);
	{
		unsigned id = 7;

		assert_int_equal(user_id("no-such-user-dp", &id), -ENOENT);
		assert_int_equal(id, 7);
		assert_int_equal(group_id("no-such-group-dp", &id), -ENOENT);
		assert_int_equal(user_id("root", &id), 0);
		assert_int_equal(id, 0);
	}
	expect_error("global\n nbthread 0\n", "[t.cfg:2] : 'nbthread': value must be between 1 and 64 (was 0)");
	expect_error("global\n nbthread 65\n", "[t.cfg:2] : 'nbthread': value must be between 1 and 64 (was 65)");
	expect_error("global\n nbthread two\n",
		     "[t.cfg:2] : 'nbthread': passed a missing or unparsable integer value in 'two'");
	expect_error("global\n maxconn 0\n", "'maxconn': invalid value '0' (expects an integer from 1 to 10000000)");
}

/* The default log line: tcplog, the decoy log for a frontend that
 * intercepts or has a transparent bind, tcplog again with option tcplog
 * (frontend or defaults), log-format above all; and the event-log
 * keywords. */
static void test_default_log_format(void **state)
{
	struct dp_config *c;

	(void)state;
	assert_int_equal(parse("frontend plain\n bind :1\n"
			       "frontend tr\n bind 127.0.0.1:2 transparent\n"
			       "frontend ic\n bind 127.0.0.1:3 transparent\n intercept 192.0.2.1:22\n"
			       "frontend tl\n bind 127.0.0.1:4 transparent\n option tcplog\n"
			       "frontend lf\n bind 127.0.0.1:5 transparent\n log-format \"%ci\"\n", &c), 0);
	assert_ptr_equal(proxy_default_log_format(dp_config_find_proxy(c, "plain", PR_CAP_FE)), LF_TCPLOG_FMT);
	assert_ptr_equal(proxy_default_log_format(dp_config_find_proxy(c, "tr", PR_CAP_FE)), LF_DECOYLOG_FMT);
	assert_ptr_equal(proxy_default_log_format(dp_config_find_proxy(c, "ic", PR_CAP_FE)), LF_DECOYLOG_FMT);
	assert_ptr_equal(proxy_default_log_format(dp_config_find_proxy(c, "tl", PR_CAP_FE)), LF_TCPLOG_FMT);
	assert_string_equal(dp_config_find_proxy(c, "lf", PR_CAP_FE)->log_format, "%ci");
	dp_config_put(c);
	assert_int_equal(parse("defaults\n option tcplog\nfrontend tr\n bind 127.0.0.1:2 transparent\n", &c), 0);
	assert_ptr_equal(proxy_default_log_format(dp_config_find_proxy(c, "tr", PR_CAP_FE)), LF_TCPLOG_FMT);
	dp_config_put(c);

	assert_int_equal(parse("global\n event-log file@/tmp/x.json\n event-log stderr format raw local0\n"
			       " event-log-first-bytes 0\n", &c), 0);
	assert_int_equal(events_of(c)->n, 2);
	assert_int_equal(events_of(c)->first_bytes, 0);
	dp_config_put(c);
	assert_int_equal(parse("global\n event-log-first-bytes 8\n", &c), 0);
	assert_null(events_of(c));      /* no target: no event log */
	dp_config_put(c);
	expect_error("global\n event-log\n", "[t.cfg:2] : 'event-log': expects a target");
	expect_error("global\n event-log file@x\n", "[t.cfg:2] : 'event-log': 'file@x': the file of an event log target must be an absolute path");
	expect_error("global\n event-log-first-bytes -1\n", "'event-log-first-bytes': expects a number of bytes from 0 to 4096, got '-1'");
	expect_error("frontend f\n event-log file@/x\n", "event-log");
}

static void test_proxy_values(void **state)
{
	struct dp_config *c;
	struct proxy *fe, *be;

	assert_int_equal(parse("defaults\n timeout connect 1s\n timeout client 1s\n timeout server 1s\n"
			       " timeout client-fin 2s\n timeout server-fin 3s\n timeout tunnel 1h\n"
			       "frontend f\n bind :1\n option dontlognull\n default_backend b\n"
			       "backend b\n retries 2147483647\n server s 127.0.0.1:1\n", &c), 0);
	fe = dp_config_find_proxy(c, "f", PR_CAP_FE);
	be = dp_config_find_proxy(c, "b", PR_CAP_BE);
	assert_int_equal(fe->to.client_fin, 2000);
	assert_int_equal(be->to.server_fin, 3000);
	assert_int_equal(be->to.tunnel, 3600000);
	assert_true(fe->options & PR_O_DONTLOGNULL);
	assert_int_equal(be->retries, INT_MAX);   /* HAProxy's bound: an int */
	/* tunnel supersedes client/server once established; -fin after a half-close */
	assert_int_equal(proxy_cli_timeout(fe, be, true, false), 3600000);
	assert_int_equal(proxy_cli_timeout(fe, be, true, true), 2000);
	assert_int_equal(proxy_srv_timeout(be, true, true), 3000);
	dp_config_put(c);

	/* no option dontlognull after defaults turned it on */
	assert_int_equal(parse("defaults\n option dontlognull\nfrontend f\n no option dontlognull\n", &c), 0);
	assert_false(dp_config_find_proxy(c, "f", PR_CAP_FE)->options & PR_O_DONTLOGNULL);
	dp_config_put(c);

	expect_error("backend b\n retries -1\n", "[t.cfg:2] : 'retries': invalid value '-1' (expects an integer from 0 to 2147483647)");
	expect_error("backend b\n retries abc\n", "'retries': invalid value 'abc'");
	expect_error("backend b\n retries 2147483648\n", "'retries': invalid value '2147483648'");
	expect_error("backend b\n retries\n", "'retries': expects 1 argument");
	expect_error("frontend f\n maxconn lots\n", "[t.cfg:2] : 'maxconn': invalid value 'lots' (expects an integer from 0 to 10000000)");
	expect_error("frontend f\n maxconn 10000001\n", "'maxconn': invalid value '10000001'");
	expect_error("frontend f\n maxconn 1 2\n", "'maxconn': unexpected extra argument '2'");
	expect_error("backend b\n server s 1.2.3.4:80 maxconn -3\n", "'maxconn' expects an integer from 0 to 10000000, got '-3'");
	expect_error("backend b\n server s 1.2.3.4:80 maxconn\n", "option 'maxconn' expects 1 argument");
	expect_error("frontend f\n bind :80 maxconn x\n", "'maxconn' expects an integer from 0 to 10000000, got 'x'");
	expect_error("frontend f\n timeout client-fin 1q\n", "timeout client-fin: invalid time '1q'");
}

static void test_defaults_inheritance(void **state)
{
	struct dp_config *c;
	struct proxy *fe, *fe2, *be;

	assert_int_equal(parse("defaults\n maxconn 321\n log-format \"%ci %ft\"\n balance first\n"
			       " default_backend b\n timeout check 1s\n option log-health-checks\n"
			       "frontend f\n bind :1\n"
			       "frontend g\n bind :2\n maxconn 5\n default_backend other\n option tcplog\n"
			       "backend b\n server s 127.0.0.1:1\n"
			       "backend other\n balance roundrobin\n server s 127.0.0.1:1\n", &c), 0);
	fe = dp_config_find_proxy(c, "f", PR_CAP_FE);
	fe2 = dp_config_find_proxy(c, "g", PR_CAP_FE);
	be = dp_config_find_proxy(c, "b", PR_CAP_BE);
	assert_int_equal(fe->maxconn, 321);
	assert_string_equal(fe->log_format, "%ci %ft");
	/* default_backend is inherited from defaults (HAProxy does the same) */
	assert_ptr_equal(fe->defbe, be);
	assert_int_equal(be->lbalgo, LB_FIRST);
	assert_true(be->options & CHK_PXO_TIMEOUT);
	assert_true(be->options & CHK_PXO_LOG);
	/* own values win */
	assert_int_equal(fe2->maxconn, 5);
	assert_null(fe2->log_format);
	assert_ptr_equal(fe2->defbe, dp_config_find_proxy(c, "other", PR_CAP_BE));
	assert_int_equal(dp_config_find_proxy(c, "other", PR_CAP_BE)->lbalgo, LB_ROUNDROBIN);
	dp_config_put(c);
}

/* Known HAProxy keywords: refused with a precise reason, or accepted with a
 * warning that says they are ignored — never "unknown", never silent. */
static void test_known_unsupported_keywords(void **state)
{
	static const struct {
		const char *cfg, *needle;
	} refused[] = {
		{ "global\n maxconnrate 100\n", "'maxconnrate' is not supported by decoyproxy: connection rate limits" },
		{ "global\n maxsessrate 100\n", "'maxsessrate' is not supported by decoyproxy" },
		{ "global\n noepoll\n", "'noepoll' is not supported by decoyproxy: libev chooses the poller" },
		{ "backend b\n server s 10.0.0.1:80 check-ssl\n", "option 'check-ssl' is not supported: decoyproxy does not originate TLS" },
		{ "backend b\n server s 10.0.0.1:80 check inter 30d\n", "timer overflow in argument '30d' to 'inter'" },
		{ "global\n busy-polling\n", "'busy-polling' is not supported by decoyproxy" },
		{ "global\n fd-hard-limit 1000\n", "'fd-hard-limit' is not supported by decoyproxy" },
		{ "global\n thread-groups 1\n", "'thread-groups' is not supported by decoyproxy: decoyproxy runs one thread group (every thread of nbthread in it)" },
		{ "global\n numa-cpu-mapping\n", "'numa-cpu-mapping' is not supported by decoyproxy: decoyproxy does not read the NUMA topology" },
		{ "global\n set-dumpable\n", "'set-dumpable' is not supported by decoyproxy" },
		{ "global\n external-check\n", "'external-check' is not supported by decoyproxy: external checks" },
		{ "global\n profiling.tasks on\n", "'profiling.tasks' is not supported by decoyproxy" },
		{ "global\n wurfl-data-file /x\n", "'wurfl-data-file' is not supported by decoyproxy: device detection" },
		{ "global\n lua-prepend-path /x\n", "'lua-prepend-path' is not supported by decoyproxy: Lua" },
		{ "backend b\n retry-on all-retryable-errors\n", "'retry-on': 'all-retryable-errors' is not supported: decoyproxy retries failed connections only" },
		{ "backend b\n retry-on none\n", "use 'retries 0' to never retry" },
		{ "backend b\n retry-on conn-failure bogus\n", "'retry-on': unknown keyword 'bogus'" },
		{ "frontend f\n clitcpka-idle 30s\n", "'clitcpka-idle' is not supported by decoyproxy: TCP keep-alive" },
		{ "frontend f\n clitcpka-cnt 3\n", "'clitcpka-cnt' is not supported by decoyproxy" },
		{ "frontend f\n clitcpka-intvl 5s\n", "'clitcpka-intvl' is not supported by decoyproxy" },
		{ "backend b\n srvtcpka-idle 30s\n", "'srvtcpka-idle' is not supported by decoyproxy" },
		{ "backend b\n srvtcpka-cnt 3\n", "'srvtcpka-cnt' is not supported by decoyproxy" },
		{ "backend b\n srvtcpka-intvl 5s\n", "'srvtcpka-intvl' is not supported by decoyproxy" },
		{ "frontend f\n log-format-sd x\n", "'log-format-sd' is not supported by decoyproxy" },
		{ "frontend f\n error-log-format x\n", "'error-log-format' is not supported by decoyproxy" },
		{ "backend b\n tcp-check send-lf x\n", "'tcp-check send-lf' is not yet supported by decoyproxy" },
		{ "frontend f\n max-session-srv-conns 10\n", "'max-session-srv-conns' is not supported by decoyproxy: decoyproxy is a layer-4 proxy" },
		{ "backend b\n hash-balance-factor 150\n", "'hash-balance-factor' is not supported by decoyproxy: consistent hashing" },
		{ "backend b\n declare capture request len 1\n", "'declare' is not supported by decoyproxy" },
		{ "frontend f\n option contstats\n", "option 'contstats' is not supported: traffic counters are updated when a session ends" },
		{ "backend b\n option external-check\n", "option 'external-check' is not supported: external checks" },
		{ "backend b\n option spop-check\n", "option 'spop-check' is not supported: this protocol check is not yet supported by decoyproxy" },
		{ "backend b\n no option allbackups\n", "'no option allbackups' is not supported: decoyproxy always balances over every usable backup server" },
		{ "backend b\n option persist\n", "option 'persist' is not supported: persistence needs cookies" },
	};
	static const struct {
		const char *cfg, *needle;
	} ignored[] = {
		{ "global\n tune.bufsize 16384\n", "'tune.bufsize' ignored: HAProxy tuning setting" },
		{ "global\n tune.idletimer 100\n", "'tune.idletimer' ignored" },
		{ "global\n tune.h2.max-concurrent-streams 10\n", "'tune.h2.max-concurrent-streams' ignored" },
		{ "global\n tune.ssl.default-dh-param 2048\n", "'tune.ssl.default-dh-param' ignored: decoyproxy does not terminate or originate TLS" },
		{ "global\n maxsslconn 100\n", "'maxsslconn' ignored: decoyproxy does not terminate or originate TLS" },
		{ "global\n ssl-engine rdrand\n", "'ssl-engine' ignored: decoyproxy does not terminate" },
		{ "global\n ssl-default-bind-ciphers HIGH\n", "'ssl-default-bind-ciphers' ignored" },
		{ "global\n noreuseport\n", "'noreuseport' ignored: decoyproxy never sets SO_REUSEPORT" },
		{ "global\n httpclient.ssl.verify none\n", "'httpclient.ssl.verify' ignored" },
		{ "frontend f\n bind-process all\n", "[t.cfg:2] : 'bind-process' has no effect, is deprecated, and will be removed in version 2.7." },
	};

	for (size_t i = 0; i < ARRAY_SIZE(refused); i++)
		expect_error(refused[i].cfg, refused[i].needle);
	for (size_t i = 0; i < ARRAY_SIZE(ignored); i++)
		expect_warning(ignored[i].cfg, ignored[i].needle);
	/* what decoyproxy always does is accepted as is */
#define TMO "defaults\n timeout connect 1s\n timeout client 1s\n timeout server 1s\n"
	expect_clean("global\n strict-limits\n");
	expect_clean(TMO "backend b\n retry-on conn-failure\n");
	expect_clean(TMO "backend b\n option tcp-check\n option allbackups\n");
	expect_clean(TMO "backend b\n option log-health-checks\n no option log-health-checks\n");
#undef TMO
}

/* splice and accept tuning (core/tune.c, issue #15): parsed into the
 * generation, bad values refused with the keyword named */
static void test_splice_keywords(void **state)
{
	struct dp_config *c = NULL;

	(void)state;
	assert_int_equal(parse("global\n maxpipes 123\n nosplice\n tune.pipesize 131072\n tune.maxaccept -1\n"
			       "defaults\n timeout connect 1s\n timeout client 1s\n timeout server 1s\n"
			       " option splice-auto\n"
			       "frontend f\n bind 127.0.0.1:1\n option splice-request\n no option splice-auto\n"
			       " default_backend b\n"
			       "backend b\n option splice-response\n server s 127.0.0.1:2\n", &c), 0);
	if (msgs[0])
		fail_msg("expected no message, got:\n%s", msgs);
	assert_int_equal(c->g.maxpipes, 123);
	assert_true(c->g.nosplice);
	assert_int_equal(c->g.pipesize, 131072);
	assert_int_equal(c->g.maxaccept, -1);
	for (struct proxy *px = c->proxies; px; px = px->next) {
		if (!strcmp(px->name, "f"))
			assert_int_equal(px->options & (PR_O_SPLICE_REQ | PR_O_SPLICE_RES | PR_O_SPLICE_AUT),
					 PR_O_SPLICE_REQ);
		else if (!strcmp(px->name, "b"))
			assert_int_equal(px->options & (PR_O_SPLICE_REQ | PR_O_SPLICE_RES | PR_O_SPLICE_AUT),
					 PR_O_SPLICE_RES | PR_O_SPLICE_AUT);
	}
	dp_config_put(c);
	expect_error("global\n maxpipes lots\n", "[t.cfg:2] : 'maxpipes': expects a positive integer, got 'lots'");
	expect_error("global\n tune.pipesize -5\n", "'tune.pipesize': expects a size in bytes");
	expect_error("global\n tune.maxaccept -2\n", "'tune.maxaccept': expects -1 (no limit)");
	expect_error("global\n nosplice 1\n", "nosplice");
}

/* HAProxy warns, and goes on, when a keyword of the other side is used. */
static void test_capability_warnings(void **state)
{
	struct dp_config *c;
	struct proxy *fe, *be;

	assert_int_equal(parse("backend b\n maxconn 100\n server s 127.0.0.1:1\n", &c), 0);
	assert_non_null(strstr(msgs, "WARNING: config : parsing [t.cfg:2] : 'maxconn' ignored because backend 'b' has no frontend capability. Maybe you want 'fullconn' instead ?"));
	be = dp_config_find_proxy(c, "b", PR_CAP_BE);
	assert_int_equal(be->maxconn, 0);
	dp_config_put(c);
	expect_error("backend b\n maxconn abc\n", "'maxconn': invalid value 'abc'"); /* still checked */

	assert_int_equal(parse("frontend f\n bind :1\n fullconn 10\n retries 5\n balance first\n source 10.0.0.1\n"
			       " option redispatch\n timeout server 5s\n timeout check 1s\n", &c), 0);
	assert_non_null(strstr(msgs, "[t.cfg:3] : 'fullconn' ignored because frontend 'f' has no backend capability. Maybe you want 'maxconn' instead ?"));
	assert_non_null(strstr(msgs, "[t.cfg:4] : 'retries' ignored because frontend 'f' has no backend capability."));
	assert_non_null(strstr(msgs, "[t.cfg:5] : 'balance' ignored because frontend 'f' has no backend capability."));
	assert_non_null(strstr(msgs, "[t.cfg:6] : 'source' ignored because frontend 'f' has no backend capability."));
	assert_non_null(strstr(msgs, "[t.cfg:7] : 'option redispatch' ignored because frontend 'f' has no backend capability."));
	assert_non_null(strstr(msgs, "[t.cfg:8] : 'timeout server' will be ignored because frontend 'f' has no backend capability"));
	assert_non_null(strstr(msgs, "[t.cfg:9] : 'timeout check' will be ignored because frontend 'f' has no backend capability"));
	fe = dp_config_find_proxy(c, "f", PR_CAP_FE);
	assert_int_equal(fe->retries, 3);
	assert_int_equal(fe->lbalgo, LB_ROUNDROBIN);
	assert_false(fe->source.set);
	assert_false(fe->options & PR_O_REDISPATCH);
	assert_false(fe->options & CHK_PXO_TIMEOUT);
	dp_config_put(c);

	assert_int_equal(parse("backend b\n bind :1\n default_backend x\n log-format %ci\n option dontlognull\n"
			       " timeout client 1s\n server s 127.0.0.1:1\n", &c), 0);
	assert_non_null(strstr(msgs, "[t.cfg:2] : 'bind' ignored because backend 'b' has no frontend capability."));
	assert_non_null(strstr(msgs, "[t.cfg:3] : 'default_backend' ignored because backend 'b' has no frontend capability."));
	assert_non_null(strstr(msgs, "[t.cfg:4] : 'log-format' ignored because backend 'b' has no frontend capability."));
	assert_non_null(strstr(msgs, "[t.cfg:5] : 'option dontlognull' ignored because backend 'b' has no frontend capability."));
	assert_non_null(strstr(msgs, "[t.cfg:6] : 'timeout client' will be ignored because backend 'b' has no frontend capability"));
	be = dp_config_find_proxy(c, "b", PR_CAP_BE);
	assert_null(be->binds);
	assert_null(be->defbe_name);
	assert_null(be->log_format);
	assert_int_equal(dp_config_count_listeners(c), 0);
	dp_config_put(c);

	/* listen and defaults have both sides: no warning */
	expect_clean("defaults\n maxconn 10\n retries 1\n fullconn 5\n"
		     "listen l\n bind :1\n maxconn 10\n retries 1\n fullconn 5\n timeout client 1s\n"
		     " timeout connect 1s\n timeout server 1s\n server s 127.0.0.1:1\n");
	expect_error("defaults\n bind :1\n", "'bind' is not allowed in 'defaults' section");
	expect_error("frontend f\n retry-on conn-failure\n", "'retry-on' is not allowed in 'frontend' section");
}

static void test_suggest_sections(void **state)
{
	expect_error("frontnd x\n", "[t.cfg:1] : unknown keyword 'frontnd' out of section; did you mean 'frontend' maybe ?");
	expect_error("global\nfrontnd x\n", "[t.cfg:2] : unknown keyword 'frontnd' in 'global' section; did you mean 'frontend' maybe ?");
	expect_error("defaults\nbakend x\n", "unknown keyword 'bakend' in 'defaults' section; did you mean 'backend' maybe ?");
	expect_error("global\nlisten\n", "'listen' expects a name");
	expect_error("global\n zzzzzzzzzz\n", "[t.cfg:2] : unknown keyword 'zzzzzzzzzz' in 'global' section\n");
	expect_error("xyzzyplugh\n", "unknown keyword 'xyzzyplugh' out of section\n");
	/* a prefix entry is never suggested as such */
	expect_error("global\n tune\n", "unknown keyword 'tune' in 'global' section");
}

/* `timeout check`: HAProxy connects a check for `inter`, or for
 * min(inter, timeout connect) once `timeout check` is set. */
static void test_check_timeout(void **state)
{
	struct dp_config *c;
	struct proxy *be;
	struct server *s;

	assert_int_equal(parse("backend plain\n timeout connect 500\n server a 10.0.0.1:80 check inter 3s\n"
			       "backend tc\n timeout connect 500\n timeout check 10s\n server a 10.0.0.1:80 check inter 3s\n"
			       " server b 10.0.0.2:80 check inter 200\n"
			       "backend noconnect\n timeout check 10s\n server a 10.0.0.1:80 check inter 3s\n"
			       "backend zero\n timeout connect 500\n timeout check 10s\n timeout check 0\n"
			       " server a 10.0.0.1:80 check inter 3s\n", &c), 0);
	be = dp_config_find_proxy(c, "plain", PR_CAP_BE);
	assert_int_equal(chk_conn_timeout_ms(be->srv), 3000);
	be = dp_config_find_proxy(c, "tc", PR_CAP_BE);
	s = be->srv;
	assert_int_equal(chk_conn_timeout_ms(s), 500);
	assert_int_equal(chk_conn_timeout_ms(s->next), 200);   /* inter is shorter */
	be = dp_config_find_proxy(c, "noconnect", PR_CAP_BE);
	assert_int_equal(chk_conn_timeout_ms(be->srv), 3000);
	be = dp_config_find_proxy(c, "zero", PR_CAP_BE);
	assert_false(be->options & CHK_PXO_TIMEOUT);
	assert_int_equal(chk_conn_timeout_ms(be->srv), 3000);
	dp_config_put(c);
	expect_error("backend b\n timeout check\n", "'timeout': expects 'connect'");
	expect_error("backend b\n timeout check 5q\n", "timeout check: invalid time '5q'");
}

/* set-proxy-v2-tlv-fmt: one TLV per type; the server's own setting replaces
 * the one inherited from default-server, in place. */
static void test_custom_tlv_per_type(void **state)
{
	struct dp_config *c;
	struct server *s;

	assert_int_equal(parse("backend b\n default-server send-proxy-v2 set-proxy-v2-tlv-fmt(0xE1) a-%ft\n"
			       " server s 10.0.0.1:80 set-proxy-v2-tlv-fmt(0xE2) two set-proxy-v2-tlv-fmt(0xE1) b-%ft\n"
			       " server t 10.0.0.2:80\n", &c), 0);
	s = dp_config_find_proxy(c, "b", PR_CAP_BE)->srv;
	assert_string_equal(s->name, "s");
	assert_int_equal(s->ntlvs, 2);
	assert_int_equal(s->tlvs[0].type, 0xE1);
	assert_string_equal(s->tlvs[0].fmt, "b-%ft");
	assert_int_equal(s->tlvs[1].type, 0xE2);
	assert_string_equal(s->next->name, "t");
	assert_int_equal(s->next->ntlvs, 1);
	assert_string_equal(s->next->tlvs[0].fmt, "a-%ft");
	dp_config_put(c);
}

/* `spread-checks <pct>`: every interval moves within +/- pct %. */
static void test_spread_checks(void **state)
{
	struct dp_config *c;
	long long lo = 1LL << 60, hi = 0;

	assert_int_equal(parse("global\n spread-checks 20\n", &c), 0);
	assert_int_equal(c->g.spread_checks, 20);
	dp_config_put(c);
	assert_int_equal(chk_spread_ms(2000, 0, 12345), 2000);
	for (unsigned r = 0; r < 2000; r++) {
		long long v = chk_spread_ms(2000, 20, r * 2654435761u);

		assert_true(v >= 1600 && v <= 2400);
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
	}
	assert_true(lo < 1700 && hi > 2300);   /* the whole range is used */
	expect_error("global\n spread-checks 51\n",
		     "[t.cfg:2] : 'spread-checks': expects an integer argument between 0 and 50, got '51'");
	/* global quiet: no argument, and it is recorded */
	expect_error("global\n quiet x\n", "[t.cfg:2] : 'quiet': takes no argument");
	assert_int_equal(parse("global\n quiet\n", &c), 0);
	assert_true(c->g.quiet);
	dp_config_put(c);
	expect_error("global\n spread-checks\n", "spread-checks");
}

/* agent-check and its settings, on-marked-down/up, max-spread-checks:
 * good values, HAProxy's defaults, bad values with file:line. */
static void test_agent_and_marked(void **state)
{
	struct dp_config *c;
	struct server *s;
	char line[64];

	assert_int_equal(parse("defaults\n timeout connect 1s\n timeout server 1s\n"
			       " default-server agent-port 5555 agent-send \"ping\\n\" on-marked-down shutdown-sessions\n"
			       "backend b\n"
			       " server a 10.0.0.1:80 check agent-check agent-inter 3s agent-addr 10.0.0.9\n"
			       " server b 10.0.0.2:80 on-marked-up shutdown-backup-sessions\n"
			       " server c 10.0.0.3:80 agent-check agent-port 6666\n", &c), 0);
	s = dp_config_find_proxy(c, "b", PR_CAP_BE)->srv;
	assert_true(s->agent_check);
	assert_int_equal(s->agent_port, 5555);
	assert_int_equal(s->agent_inter, 3000);
	assert_string_equal(s->agent_send, "ping\n");
	assert_int_equal(s->agent_addr.ss_family, AF_INET);
	assert_true(s->on_down_shutdown);
	assert_false(s->on_up_shutdown_backup);
	s = s->next;
	assert_false(s->agent_check);          /* off unless asked */
	assert_int_equal(s->agent_inter, 2000); /* HAProxy's default */
	assert_true(s->on_up_shutdown_backup);
	assert_true(s->on_down_shutdown);       /* from default-server */
	s = s->next;
	assert_int_equal(s->agent_port, 6666);
	assert_int_equal(s->agent_addr.ss_family, 0); /* the server's address */
	dp_config_put(c);
	/* without them: no action on state changes */
	assert_int_equal(parse("backend b\n server a 10.0.0.1:80 check\n", &c), 0);
	s = dp_config_find_proxy(c, "b", PR_CAP_BE)->srv;
	assert_false(s->on_down_shutdown || s->on_up_shutdown_backup || s->agent_check);
	dp_config_put(c);

	expect_error("backend b\n server a 10.0.0.1:80 agent-check\n",
		     "[t.cfg:2] : 'server': server 'a': does not have agent port. Agent check has been disabled: give 'agent-port <n>'");
	expect_error("backend b\n server a 10.0.0.1:80 agent-port 0\n",
		     "[t.cfg:2] : 'server': server 'a': 'agent-port' expects a port from 1 to 65535, got '0'");
	expect_error("backend b\n server a 10.0.0.1:80 agent-inter x\n", "[t.cfg:2] : 'server': server 'a': 'agent-inter' expects a positive time, got 'x'");
	expect_error("backend b\n server a 10.0.0.1:80 agent-addr 10.0.0.1:80\n", "'agent-addr' expects an address without a port");
	expect_error("backend b\n server a 10.0.0.1:80 agent-send\n", "'agent-send' expects 1 argument");
	expect_error("backend b\n server a * agent-check agent-port 1\n", "agent check of a 0.0.0.0 server needs 'agent-addr <ip>'");
	expect_error("backend b\n server a 10.0.0.1:80 on-marked-down shutdown\n",
		     "[t.cfg:2] : 'server': server 'a': 'on-marked-down' expects 'shutdown-sessions' but got 'shutdown'");
	expect_error("backend b\n server a 10.0.0.1:80 on-marked-up shutdown-sessions\n",
		     "'on-marked-up' expects 'shutdown-backup-sessions' but got 'shutdown-sessions'");

	/* init-addr: HAProxy's methods in the order written, for host names;
	 * default "last,libc"; names under .invalid never resolve */
	assert_int_equal(parse("defaults\n timeout connect 1s\n timeout server 1s\n default-server init-addr last,libc,none\n"
			       "backend b\n server a 10.0.0.1:80 init-addr libc\n server c db.invalid:5432\n"
			       " server d db.invalid init-addr 10.0.0.9,none\n server e [::1]:80 init-addr none\n"
			       " server f ipv4@db.invalid:+1 init-addr none,10.0.0.7\n server g localhost:81\n"
			       " server h db.invalid:82 init-addr [2001:db8::1]\n", &c), 0);
	assert_null(strstr(msgs, "[t.cfg:4]"));  /* no "not applied" warning any more */
	assert_non_null(strstr(msgs, "[t.cfg:7] : 'server c' : could not resolve address 'db.invalid', disabling server."));
	s = dp_config_find_proxy(c, "b", PR_CAP_BE)->srv;
	assert_int_equal(s->init_addr[0], SRV_IADDR_LIBC);  /* a */
	assert_int_equal(s->init_addr[1], SRV_IADDR_END);
	assert_false(s->rmaint);
	assert_false(s->addr_last);  /* a literal address: init-addr does not apply */
	s = s->next;                 /* c: last,libc,none -> no address, maintenance */
	assert_int_equal(s->init_addr[0], SRV_IADDR_LAST);
	assert_int_equal(s->init_addr[2], SRV_IADDR_NONE);
	assert_true(s->rmaint);
	assert_true(s->addr_last);
	assert_true(server_in_maint(s));
	assert_false(server_usable(s));
	assert_int_equal(s->port_mode, SRV_PORT_FIXED);
	assert_int_equal(addr_port(&s->addr), 5432);
	s = s->next;                 /* d: the literal fallback */
	assert_false(s->rmaint);
	assert_false(s->addr_last);
	assert_string_equal(addr_ntop(&s->addr, line, sizeof(line)), "10.0.0.9");
	assert_int_equal(s->port_mode, SRV_PORT_SAME);
	s = s->next;                 /* e: literal, none unused */
	assert_false(s->rmaint);
	s = s->next;                 /* f: none first: maintenance, its port offset kept */
	assert_true(s->rmaint);
	assert_int_equal(s->port_mode, SRV_PORT_OFFSET);
	assert_int_equal(s->port_offset, 1);
	s = s->next;                 /* g: default last,libc; libc resolves localhost */
	assert_int_equal(s->init_addr[0], SRV_IADDR_LAST);
	assert_int_equal(s->init_addr[1], SRV_IADDR_LIBC);
	assert_false(s->rmaint);
	assert_true(s->addr_last);
	assert_int_equal(addr_port(&s->addr), 81);
	s = s->next;                 /* h: an IPv6 literal fallback */
	assert_string_equal(addr_ntop(&s->addr, line, sizeof(line)), "2001:db8::1");
	assert_int_equal(addr_port(&s->addr), 82);
	dp_config_put(c);
	expect_error("backend b\n server a db.invalid:80 init-addr libc\n",
		     "[t.cfg:2] : 'server': server 'a': address 'db.invalid:80': invalid or unresolvable address 'db.invalid'");
	expect_error("backend b\n server a db.invalid:80\n",
		     "[t.cfg:2] : 'server b/a' : no method found to resolve address 'db.invalid'. (init-addr 'last': no "
		     "server-state file gives it an address; add 'none' to start it in maintenance until one is set)");
	expect_error("backend b\n server a db.invalid:99999 init-addr none\n",
		     "[t.cfg:2] : 'server': server 'a': address 'db.invalid:99999': invalid port '99999'");
	expect_error("backend b\n server a db.invalid:80 init-addr last\n",
		     "[t.cfg:2] : 'server b/a' : no method found to resolve address 'db.invalid'. (init-addr 'last'");
	expect_error("backend b\n server a 10.0.0.1:80 init-addr libc,10.0.0.2:80\n",
		     "[t.cfg:2] : 'server': server 'a': 'init-addr': unknown method '10.0.0.2:80', supported methods are 'last', 'libc', 'none' and an IP address");
	expect_error("backend b\n server a 10.0.0.1:80 init-addr dns\n", "'init-addr': unknown method 'dns'");
	expect_error("backend b\n server a 10.0.0.1:80 init-addr db.invalid\n", "'init-addr': unknown method 'db.invalid'");
	expect_error("backend b\n server a 10.0.0.1:80 init-addr libc,none,libc\n",
		     "'init-addr': method 'libc' is given twice in 'libc,none,libc'");
	expect_error("backend b\n server a 10.0.0.1:80 init-addr 10.0.0.2,10.0.0.3\n",
		     "'init-addr': method '<ip>' is given twice");
	expect_error("backend b\n server a 10.0.0.1:80 init-addr libc,,none\n", "'init-addr': empty method in 'libc,,none'");
	expect_error("defaults\n default-server init-addr bogus\n", "[t.cfg:2] : 'default-server': 'init-addr': unknown method 'bogus'");

	assert_int_equal(parse("global\n max-spread-checks 1500\n", &c), 0);
	assert_int_equal(c->g.max_spread_checks, 1500);
	dp_config_put(c);
	assert_int_equal(parse("global\n max-spread-checks 2s\n", &c), 0);
	assert_int_equal(c->g.max_spread_checks, 2000);
	dp_config_put(c);
	assert_int_equal(parse("global\n", &c), 0);
	assert_int_equal(c->g.max_spread_checks, 0); /* HAProxy's default: no bound */
	dp_config_put(c);
	assert_int_equal(chk_first_spread_ms(10000, 0), 10000);
	assert_int_equal(chk_first_spread_ms(10000, 1500), 1500);
	assert_int_equal(chk_first_spread_ms(1000, 1500), 1000); /* shorter intervals are kept */
	expect_error("global\n max-spread-checks soon\n",
		     "[t.cfg:2] : 'max-spread-checks': expects a delay in milliseconds (units allowed), got 'soon'");
	expect_error("global\n max-spread-checks\n", "max-spread-checks");
}

/* A teardown: an alarm a failed test left set must not end a later one. */
static int alarm_off(void **state)
{
	(void)state;
	alarm(0);
	return 0;
}

/* Parses a configuration whose one backend loads the global server-state
 * file path (the parse succeeds: a file that cannot be read is a warning);
 * msgs then holds its messages. Fails the test after 20 s (alarm). */
static void parse_with_state_file(const char *path)
{
	struct dp_config *c = NULL;
	char cfg[512];

	snprintf(cfg, sizeof(cfg), "global\n server-state-file %s\n"
		 "defaults\n timeout connect 1s\n timeout server 1s\n load-server-state-from-file global\n"
		 "backend a\n server s 10.0.0.1:80\n", path);
	alarm(20);
	assert_int_equal(parse(cfg, &c), 0);
	alarm(0);
	dp_config_put(c);
}

/* A server-state file that is a FIFO (or a device other than /dev/null)
 * is named in the warning and skipped, at once: reading it must not wait
 * for a writer (the alarm fails the test if it does). */
static void test_server_state_fifo(void **state)
{
	char dir[] = "/tmp/test_cfg_state.XXXXXX", fifo[64], want[160];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/state", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	parse_with_state_file(fifo);
	snprintf(want, sizeof(want), "Can't open global server state file '%s': not a regular file (a FIFO)", fifo);
	if (!strstr(msgs, want))
		fail_msg("expected \"%s\" in:\n%s", want, msgs);
	/* /dev/null, as HAProxy reads it: an empty state, no warning */
	parse_with_state_file("/dev/null");
	if (strstr(msgs, "Can't open"))
		fail_msg("/dev/null as a state file: %s", msgs);
	/* another device is refused (a tty would block the read) */
	parse_with_state_file("/dev/zero");
	if (!strstr(msgs, "Can't open global server state file '/dev/zero': not a regular file (a character device)"))
		fail_msg("/dev/zero as a state file: %s", msgs);
	unlink(fifo);
	rmdir(dir);
}

/* server-state-file & co: keywords (defaults and errors), the file's path
 * and what a state line restores. */
static void test_server_state(void **state)
{
	struct dp_config *c;
	struct proxy *a, *b, *d;
	struct server *s;
	char *p, line[512];

	assert_int_equal(parse("global\n server-state-base /var/lib/haproxy\n server-state-file global.state\n"
			       "defaults\n timeout connect 1s\n timeout server 1s\n load-server-state-from-file global\n"
			       "backend a\n server s 10.0.0.1:80 weight 10 check\n server t 10.0.0.2:80\n"
			       "backend b\n load-server-state-from-file local\n server-state-file-name /tmp/b.state\n"
			       "backend d\n load-server-state-from-file none\n", &c), 0);
	a = dp_config_find_proxy(c, "a", PR_CAP_BE);
	b = dp_config_find_proxy(c, "b", PR_CAP_BE);
	d = dp_config_find_proxy(c, "d", PR_CAP_BE);
	assert_int_equal(a->srvstate_load, SRVSTATE_GLOBAL);
	assert_string_equal(p = srvstate_path(c, a), "/var/lib/haproxy/global.state");
	free(p);
	assert_string_equal(p = srvstate_path(c, b), "/tmp/b.state");
	free(p);
	assert_null(srvstate_path(c, d));
	/* the line show servers state prints, and what a line restores */
	s = a->srv;
	s->admin = SRV_ADMIN_MAINT;
	srvstate_line(line, sizeof(line), s, 3, 1);
	assert_string_equal(line, "3 a 1 s 10.0.0.1 0 1 10 10 0 1 0 2 14 0 0 0 - 80 - 0 0 - - 0");
	s->next->flags |= SRV_F_DISABLED;  /* HAProxy writes `disabled` as 5, stopped, check paused */
	srvstate_line(line, sizeof(line), s->next, 3, 2);
	assert_string_equal(line, "3 a 2 t 10.0.0.2 0 5 1 1 0 1 0 0 8 0 0 0 - 80 - 0 0 - - 0");
	s->next->flags &= ~SRV_F_DISABLED;
	s->admin = SRV_ADMIN_READY;
	assert_int_equal(srvstate_apply(a, "1\n# comment\n3 a 1 s 10.0.0.1 0 1 7 10 0 8 2 0 6 0 0 0 - 80 - 0 0 - - 0\n"
					   "3 a 2 t 10.0.0.2 2 8 1 1\n3 a 3 gone 10.0.0.3 2 0 1 1\n3 other 1 s 1.1.1.1 2 1 1 1\n",
					   "f"), 2);
	assert_int_equal(s->admin, SRV_ADMIN_MAINT);
	assert_false(s->chk_up);          /* known DOWN: starts DOWN */
	assert_int_equal(s->weight, 7);   /* the run-time weight, the configured one unchanged */
	assert_int_equal(s->next->admin, SRV_ADMIN_DRAIN);
	assert_non_null(strstr(msgs, "server-state file 'f', line 5: backend 'a' has no server 'gone' anymore"));
	/* the configured weight changed since: the file's is not taken */
	assert_int_equal(srvstate_apply(a, "1\n3 a 1 s 10.0.0.1 2 0 50 11\n", "f"), 1);
	assert_int_equal(s->weight, 7);
	assert_int_equal(s->admin, SRV_ADMIN_READY);
	assert_true(s->chk_up);
	/* written while `disabled` (5), the configuration no longer says so: ready */
	s->admin = SRV_ADMIN_MAINT;
	assert_int_equal(srvstate_apply(a, "1\n3 a 1 s 10.0.0.1 0 5 10 10\n", "f"), 1);
	assert_int_equal(s->admin, SRV_ADMIN_READY);
	assert_int_equal(srvstate_apply(a, "2\n3 a 1 s 10.0.0.1 2 1 1 1\n", "f"), 0);
	assert_non_null(strstr(msgs, "server-state file 'f': unknown version"));
	assert_int_equal(srvstate_apply(a, "1\n3 a 1 s 10.0.0.1 x\n", "f"), 1);
	assert_non_null(strstr(msgs, "line 2: server 'a/s': invalid or truncated line"));
	dp_config_put(c);
	/* HAProxy's default: none */
	assert_int_equal(parse("backend a\n", &c), 0);
	assert_int_equal(dp_config_find_proxy(c, "a", PR_CAP_BE)->srvstate_load, SRVSTATE_NONE);
	dp_config_put(c);
	expect_error("backend a\n load-server-state-from-file all\n",
		     "[t.cfg:2] : 'load-server-state-from-file': expects 'global', 'local' or 'none'. Got 'all'");
	expect_error("backend a\n server-state-file-name a b\n", "[t.cfg:2] : 'server-state-file-name': expects at most one argument");
	expect_error("global\n server-state-file\n", "[t.cfg:2] : 'server-state-file': expects one argument: a file path");
	expect_error("frontend f\n load-server-state-from-file global\n", "load-server-state-from-file");

	/* init-addr last: the file's address (and port) for host names whose
	 * list names last first; literal addresses keep the configuration's */
	assert_int_equal(parse("defaults\n timeout connect 1s\n timeout server 1s\n default-server init-addr last,libc,none\n"
			       "backend a\n server h db.invalid:80 check\n server l 10.0.0.2:80\n server n db.invalid init-addr none,last\n"
			       " server o localhost:90\n", &c), 0);
	a = dp_config_find_proxy(c, "a", PR_CAP_BE);
	s = a->srv;
	assert_true(s->rmaint);
	srvstate_line(line, sizeof(line), s, 3, 1);  /* no address: "-", RMAINT (0x20) */
	assert_string_equal(line, "3 a 1 h - 0 32 1 1 0 1 0 2 14 0 0 0 - 80 - 0 0 - - 0");
	assert_int_equal(srvstate_apply(a, "1\n3 a 1 h 10.0.0.5 2 0 1 1 0 1 0 3 6 0 0 0 - 8080 - 0 0 - - 0\n"
					   "3 a 2 l 10.0.0.6 2 0 1 1 0 1 0 3 6 0 0 0 - 81 - 0 0 - - 0\n"
					   "3 a 3 n 10.0.0.7 2 0 1 1\n3 a 4 o 10.0.0.8 2 0 1 1 0 1 0 3 6 0 0 0 - 8080 - 0 0 - - 0\n",
					   "f"), 4);
	assert_false(s->rmaint);
	assert_false(server_in_maint(s));
	assert_string_equal(addr_ntop(&s->addr, line, sizeof(line)), "10.0.0.5");
	assert_int_equal(addr_port(&s->addr), 8080);  /* srv_port, the server's port being fixed */
	assert_string_equal(addr_ntop(&s->next->addr, line, sizeof(line)), "10.0.0.2");  /* literal: kept */
	assert_int_equal(addr_port(&s->next->addr), 80);
	assert_true(s->next->next->rmaint);  /* none before last */
	assert_string_equal(addr_ntop(&s->next->next->next->addr, line, sizeof(line)), "10.0.0.8");  /* last before libc */
	assert_int_equal(srvstate_apply(a, "1\n3 a 1 h not-an-ip 2 0 1 1\n", "f"), 1);
	assert_non_null(strstr(msgs, "line 2: server 'a/h': invalid address 'not-an-ip', ignored."));
	assert_string_equal(addr_ntop(&s->addr, line, sizeof(line)), "10.0.0.5");
	dp_config_put(c);
}

/* Health accounting and `option log-health-checks` lines, as HAProxy 2.6. */
static void test_check_health(void **state)
{
	struct dp_config *c;
	struct server *s;
	char m[512];

	assert_int_equal(parse("backend be\n option log-health-checks\n timeout connect 1s\n timeout server 1s\n"
			       " server a 10.0.0.1:80 check\n server r3 10.0.0.2:80 check rise 3 fall 2 backup\n", &c), 0);
	s = dp_config_find_proxy(c, "be", PR_CAP_BE)->srv;
	/* a checked server starts up with health == rise: the first failure takes it down */
	assert_true(s->chk_up);
	assert_true(chk_apply(s, false));
	assert_false(s->chk_up);
	assert_int_equal(s->chk_health, 0);
	assert_int_equal(srv_cnt_sum(s).chk_failed, 1);
	assert_int_equal(srv_cnt_sum(s).chk_down_transitions, 1);
	chk_health_msg(m, sizeof(m), s, false, CHK_ST_L4CON, "Connection refused", 5);
	assert_string_equal(m, "Health check for server be/a failed, reason: Layer4 connection problem, "
			       "info: \"Connection refused\", check duration: 5ms, status: 0/2 DOWN");
	/* failing again at 0 changes nothing and is not counted (HAProxy) */
	assert_false(chk_apply(s, false));
	assert_int_equal(srv_cnt_sum(s).chk_failed, 1);
	assert_true(chk_apply(s, true));
	assert_false(s->chk_up);
	chk_health_msg(m, sizeof(m), s, true, CHK_ST_L4OK, NULL, 1);
	assert_string_equal(m, "Health check for server be/a succeeded, reason: Layer4 check passed, "
			       "check duration: 1ms, status: 1/2 DOWN");
	assert_true(chk_apply(s, true));
	assert_true(s->chk_up);
	assert_int_equal(s->chk_health, 4);       /* rise + fall - 1 */
	chk_health_msg(m, sizeof(m), s, true, CHK_ST_L4OK, NULL, 1);
	assert_non_null(strstr(m, "status: 3/3 UP"));
	assert_false(chk_apply(s, true));          /* full health: no change */
	assert_true(chk_apply(s, false));
	assert_true(s->chk_up);
	chk_health_msg(m, sizeof(m), s, false, CHK_ST_L4TOUT, NULL, 2000);
	assert_string_equal(m, "Health check for server be/a failed, reason: Layer4 timeout, "
			       "check duration: 2000ms, status: 2/3 UP");
	/* one success restores full health at once */
	assert_true(chk_apply(s, true));
	assert_int_equal(s->chk_health, 4);
	s->weight = 0;
	chk_health_msg(m, sizeof(m), s, true, CHK_ST_L4OK, NULL, 0);
	assert_non_null(strstr(m, "status: 3/3 DRAIN"));

	/* rise 3: a failure while rising drops the health to 0 */
	s = s->next;
	assert_true(chk_apply(s, false));          /* 3 -> 0: down */
	assert_true(chk_apply(s, true));
	assert_true(chk_apply(s, true));
	assert_int_equal(s->chk_health, 2);
	assert_false(s->chk_up);
	assert_true(chk_apply(s, false));
	assert_int_equal(s->chk_health, 0);
	chk_health_msg(m, sizeof(m), s, false, CHK_ST_SOCKERR, NULL, 0);
	assert_string_equal(m, "Health check for backup server be/r3 failed, reason: Socket error, "
			       "check duration: 0ms, status: 0/3 DOWN");
	/* a short buffer is cut, the length says how much was wanted */
	assert_true(chk_health_msg(m, 10, s, false, CHK_ST_L4TOUT, NULL, 0) > 10);
	assert_int_equal(strlen(m), 9);
	assert_string_equal(chk_status_str(CHK_ST_L4TOUT), "Layer4 timeout");
	dp_config_put(c);
}

/* Options of `bind` and `server` (cfg/opts) and the number, time and word
 * count helpers (cfg/value), as the config reader prints them: "[file:line]",
 * the keyword, then the subject (the bind addresses, the server). */
static void test_option_and_value_messages(void **state)
{
	static const struct { const char *cfg, *msg; } cases[] = {
		/* unknown option, with and without a suggestion */
		{ "frontend f\n bind :80 transparant\n",
		  "[t.cfg:2] : 'bind': ':80': unknown option 'transparant'; did you mean 'transparent' maybe ?\n" },
		{ "backend b\n server s 1.2.3.4:80 wieght 2\n",
		  "[t.cfg:2] : 'server': server 's': unknown option 'wieght'; did you mean 'weight' maybe ?\n" },
		{ "backend b\n default-server chek\n",
		  "[t.cfg:2] : 'default-server': unknown option 'chek'; did you mean 'check' maybe ?\n" },
		{ "backend b\n server s 1.2.3.4:80 zzzzzz\n", "[t.cfg:2] : 'server': server 's': unknown option 'zzzzzz'\n" },
		/* `source` takes a variable number of words and is not suggested */
		{ "backend b\n server s 1.2.3.4:80 sourec 1.2.3.4\n",
		  "[t.cfg:2] : 'server': server 's': unknown option 'sourec'\n" },
		/* missing argument: each keyword's wording */
		{ "frontend f\n bind :80 maxconn\n", "[t.cfg:2] : 'bind': ':80': option 'maxconn' expects an argument\n" },
		{ "backend b\n server s 1.2.3.4:80 weight\n", "[t.cfg:2] : 'server': server 's': option 'weight' expects 1 argument\n" },
		{ "backend b\n default-server inter\n", "[t.cfg:2] : 'default-server': option 'inter' expects 1 argument\n" },
		/* known but not supported */
		{ "frontend f\n bind :80 ssl\n",
		  "[t.cfg:2] : 'bind': ':80': option 'ssl' is not supported: decoyproxy does not terminate TLS\n" },
		{ "backend b\n server s 1.2.3.4:80 cookie x\n",
		  "[t.cfg:2] : 'server': server 's': option 'cookie' is not supported: decoyproxy is a layer-4 proxy\n" },
		/* integer range and overflow */
		{ "backend b\n server s 1.2.3.4:80 weight 257\n",
		  "[t.cfg:2] : 'server': server 's': 'weight' expects an integer from 0 to 256, got '257'\n" },
		{ "frontend f\n bind :80 maxconn 99999999999999999999\n",
		  "[t.cfg:2] : 'bind': 'maxconn' expects an integer from 0 to 10000000, got '99999999999999999999'\n" },
		{ "global\n maxconn 10000001\n",
		  "[t.cfg:2] : 'maxconn': invalid value '10000001' (expects an integer from 1 to 10000000)\n" },
		{ "backend b\n retries 99999999999999999999\n",
		  "[t.cfg:2] : 'retries': invalid value '99999999999999999999' (expects an integer from 0 to 2147483647)\n" },
		/* time overflow and not a time */
		{ "backend b\n server s 1.2.3.4:80 check inter 25d\n",
		  "[t.cfg:2] : 'server': server 's': timer overflow in argument '25d' to 'inter' (maximum value is 2147483647 ms or ~24.8 days)\n" },
		{ "backend b\n server s 1.2.3.4:80 check inter 0\n",
		  "[t.cfg:2] : 'server': server 's': 'inter' expects a positive time, got '0'\n" },
		/* word counts */
		{ "global\n daemon now\n", "[t.cfg:2] : 'daemon': takes no argument\n" },
		{ "global\n pidfile a b\n", "[t.cfg:2] : 'pidfile': unexpected extra argument 'b'\n" },
		{ "global\n pidfile\n", "[t.cfg:2] : 'pidfile': expects one argument\n" },
		{ "defaults\n mode tcp http\n", "[t.cfg:2] : 'mode': unexpected extra argument 'http'\n" },
		{ "backend b\n retries\n", "[t.cfg:2] : 'retries': expects 1 argument\n" },
	};
	struct dp_config *c;
	struct server *s;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		expect_error(cases[i].cfg, cases[i].msg);

	/* options after `source` go on; set-proxy-v2-tlv-fmt(<type>) takes one word */
	assert_int_equal(parse("backend b\n server s 10.0.0.1:80 source 10.0.0.2 usesrc clientip weight 3 send-proxy-v2"
			       " set-proxy-v2-tlv-fmt(0xE2) %ci maxconn 4\n", &c), 0);
	s = dp_config_find_proxy(c, "b", PR_CAP_BE)->srv;
	assert_true(s->source.set);
	assert_int_equal(s->source.usesrc, SRC_USESRC_CLIENTIP);
	assert_int_equal(s->weight, 3);
	assert_int_equal(s->ntlvs, 1);
	assert_int_equal(s->maxconn, 4);
	dp_config_put(c);
}

/* A reload hands a socket over only to a listener that wants the same one:
 * same address (family and IPv6 scope included), socket options, interface
 * and namespace. */
static void test_listener_same_socket(void **state)
{
	struct dp_config *c;
	struct listener *l[9];
	size_t n = 0;

	assert_int_equal(parse("frontend f\n default_backend b\n"
			       " bind 1.2.3.4:80\n"                     /* 0 */
			       " bind 1.2.3.4:80 accept-proxy\n"        /* 1: same socket */
			       " bind 1.2.3.4:80 interface ''\n"        /* 2: same: no interface */
			       " bind [::ffff:1.2.3.4]:80\n"            /* 3: another family */
			       " bind 1.2.3.4:81\n"                     /* 4: another port */
			       " bind 1.2.3.4:80 transparent\n"         /* 5: another socket option */
			       " bind 1.2.3.4:80 interface lo\n"        /* 6: another interface */
			       " bind [fe80::1%lo]:80\n"                /* 7 */
			       " bind [fe80::1]:80\n"                   /* 8: another scope */
			       "backend b\n server s 127.0.0.1:1\n", &c), 0);
	for (struct bind_conf *bc = dp_config_find_proxy(c, "f", PR_CAP_FE)->binds; bc && n < ARRAY_SIZE(l); bc = bc->next)
		l[n++] = bc->listeners;
	assert_int_equal(n, 9);
	assert_true(listener_same_socket(l[0], l[0]));
	assert_true(listener_same_socket(l[0], l[1]));
	assert_true(listener_same_socket(l[0], l[2]));
	for (size_t i = 3; i <= 6; i++)
		assert_false(listener_same_socket(l[0], l[i]));
	assert_true(listener_same_socket(l[7], l[7]));
	assert_false(listener_same_socket(l[7], l[8]));
	dp_config_put(c);
}

static void test_dir_and_missing_file(void **state)
{
	struct dp_config *c = dp_config_new();
	char dir[] = "/tmp/dpcfgXXXXXX", empty[] = "/tmp/dpcfgXXXXXX";
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
	assert_int_equal(cfg_parse_path(c, &c->files, dir), 0);
	assert_int_equal(c->g.maxconn, 77);
	assert_non_null(dp_config_find_proxy(c, "l", PR_CAP_BE));
	assert_int_equal(c->files.n, 2);
	dp_config_put(c);
	unlink(p1);
	unlink(p2);
	rmdir(dir);

	/* a directory holding no *.cfg file: nothing read, no error (qsort()
	 * was once given the NULL list: undefined, flagged by clang's UBSan) */
	assert_non_null(mkdtemp(empty));
	snprintf(p1, sizeof(p1), "%s/notes.txt", empty);
	f = fopen(p1, "w");
	fputs("listen x\n", f);
	fclose(f);
	c = dp_config_new();
	assert_int_equal(cfg_parse_path(c, &c->files, empty), 0);
	assert_int_equal(c->files.n, 0);
	assert_null(dp_config_find_proxy(c, "x", PR_CAP_BE));
	dp_config_put(c);
	unlink(p1);
	rmdir(empty);

	c = dp_config_new();
	msgs[0] = '\0';
	assert_true(cfg_parse_path(c, &c->files, "/nonexistent/x.cfg") < 0);
	assert_non_null(strstr(msgs, "could not open configuration file '/nonexistent/x.cfg'"));
	dp_config_put(c);
}


/* ---- the file reader: hostile bytes and files (issue 18, item 7) ---- */

/* Writes data[0..len) to a new temporary file; path receives its name. */
static void tmp_cfg(char *path, size_t sz, const char *data, size_t len)
{
	int fd;

	snprintf(path, sz, "/tmp/dpcfgrdXXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* "global\n", then a comment line of more than 64 KiB whose byte 65,535
 * starts "frontend hidden", then a good proxy and a bad keyword on line 4.
 * With nul, a NUL sits early in the comment. Returns the bytes (malloc'd). */
static char *long_line_cfg(bool nul, size_t *len)
{
	static const char head[] = "global\n";
	static const char hidden[] = "frontend hidden\n";
	static const char tail[] = "listen l\n bind :1\n server s 127.0.0.1:1\n";
	size_t line2 = 65535; /* bytes of line 2 before "frontend hidden" */
	size_t n = strlen(head) + line2 + strlen(hidden) + strlen(tail) + 32;
	char *b = malloc(n), *p = b;

	assert_non_null(b);
	p += sprintf(p, "%s", head);
	memset(p, 'x', line2);
	memcpy(p, "# c", 3);
	if (nul)
		p[3] = '\0';
	p += line2;
	p += sprintf(p, "%s", hidden);
	p += sprintf(p, "%s", tail);
	*len = (size_t)(p - b);
	return b;
}

static void test_reader_nul_in_long_line(void **state)
{
	struct dp_config *c = dp_config_new();
	char path[64], want[128];
	size_t len;
	char *b = long_line_cfg(true, &len);

	tmp_cfg(path, sizeof(path), b, len);
	free(b);
	assert_int_equal(modules_init(), 0);
	msgs[0] = '\0';
	assert_true(cfg_parse_path(c, &c->files, path) > 0);
	snprintf(want, sizeof(want), "[%s:2] : line contains a NUL byte", path);
	if (!strstr(msgs, want))
		fail_msg("expected \"%s\" in:\n%s", want, msgs);
	/* what followed byte 65,535 of the comment did not become a line */
	assert_null(dp_config_find_proxy(c, "hidden", PR_CAP_FE));
	/* and reading went on at the next line, counted right */
	assert_non_null(dp_config_find_proxy(c, "l", PR_CAP_BE));
	dp_config_put(c);
	unlink(path);
}

static void test_reader_long_line(void **state)
{
	struct dp_config *c;
	char path[64], want[128];
	size_t len;
	char *b = long_line_cfg(false, &len);

	/* buffer */
	c = dp_config_new();
	assert_int_equal(modules_init(), 0);
	msgs[0] = '\0';
	assert_true(cfg_parse_buffer(c, "t.cfg", b) > 0);
	if (!strstr(msgs, "[t.cfg:2] : line too long (more than 65534 bytes)"))
		fail_msg("expected line too long in:\n%s", msgs);
	assert_null(dp_config_find_proxy(c, "hidden", PR_CAP_FE));
	assert_non_null(dp_config_find_proxy(c, "l", PR_CAP_BE));
	dp_config_put(c);
	/* file */
	tmp_cfg(path, sizeof(path), b, len);
	free(b);
	c = dp_config_new();
	msgs[0] = '\0';
	assert_true(cfg_parse_path(c, &c->files, path) > 0);
	snprintf(want, sizeof(want), "[%s:2] : line too long (more than 65534 bytes)", path);
	if (!strstr(msgs, want))
		fail_msg("expected \"%s\" in:\n%s", want, msgs);
	assert_null(dp_config_find_proxy(c, "hidden", PR_CAP_FE));
	assert_non_null(dp_config_find_proxy(c, "l", PR_CAP_BE));
	dp_config_put(c);
	unlink(path);
}

/* The longest line accepted: 65,534 bytes and its newline. */
static void test_reader_longest_line(void **state)
{
	size_t n = 7 + 65534 + 1;
	char *b = malloc(n + 64);

	assert_non_null(b);
	memcpy(b, "global\n", 7);
	memset(b + 7, ' ', 65534);
	memcpy(b + 7 + 65534 - 11, "maxconn 123", 11);
	strcpy(b + 7 + 65534, "\nlisten l\n bind :1\n server s 127.0.0.1:1\n");
	assert_int_equal(parse(b, NULL), 0);
	free(b);
}

static void test_reader_not_regular(void **state)
{
	struct dp_config *c = dp_config_new();
	char dir[] = "/tmp/dpcfgrdXXXXXX", fifo[64], p1[64], want[160];
	FILE *f;

	/* /dev/zero: a character device, never ends */
	alarm(10);
	msgs[0] = '\0';
	assert_true(cfg_parse_path(c, &c->files, "/dev/zero") < 0);
	assert_non_null(strstr(msgs,
		"could not open configuration file '/dev/zero' : not a regular file (a character device)"));
	/* a FIFO: opening it must not wait for a writer */
	assert_non_null(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/20-fifo.cfg", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	msgs[0] = '\0';
	assert_true(cfg_parse_path(c, &c->files, fifo) < 0);
	snprintf(want, sizeof(want), "could not open configuration file '%s' : not a regular file (a FIFO)", fifo);
	if (!strstr(msgs, want))
		fail_msg("expected \"%s\" in:\n%s", want, msgs);
	/* the same FIFO as an entry of a directory: named, counted, and the
	 * regular files are read */
	snprintf(p1, sizeof(p1), "%s/10-global.cfg", dir);
	f = fopen(p1, "w");
	fputs("global\n maxconn 77\n", f);
	fclose(f);
	msgs[0] = '\0';
	assert_int_equal(cfg_parse_path(c, &c->files, dir), 1);
	if (!strstr(msgs, want))
		fail_msg("expected \"%s\" in:\n%s", want, msgs);
	assert_int_equal(c->g.maxconn, 77);
	alarm(0);
	dp_config_put(c);
	unlink(fifo);
	unlink(p1);
	rmdir(dir);
}

/* A NUL byte in a short line, through the buffer entry that takes a length
 * (the same reader as files): refused naming file:line, the rest of the
 * line ignored, the next line read. */
static void test_reader_nul_buffer(void **state)
{
	static const char b[] = "global\n maxconn 5\0 junk\n maxconn 6\nlisten l\n bind :1\n server s 127.0.0.1:1\n";
	struct dp_config *c = dp_config_new();

	assert_int_equal(modules_init(), 0);
	msgs[0] = '\0';
	assert_int_equal(cfg_parse_mem(c, "t.cfg", b, sizeof(b) - 1), 1);
	assert_non_null(strstr(msgs, "[t.cfg:2] : line contains a NUL byte (not a text file?)"));
	assert_int_equal(c->g.maxconn, 6);
	dp_config_put(c);
}

/* A regular file that never ends for practical purposes (here 65 MiB of
 * zeros, sparse) is read up to a bound, not to its end. */
static void test_reader_size_bound(void **state)
{
	struct dp_config *c = dp_config_new();
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/dpcfgrdXXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 65 << 20), 0);
	close(fd);
	msgs[0] = '\0';
	assert_true(cfg_parse_path(c, &c->files, path) > 0);
	if (!strstr(msgs, "larger than 64 MiB"))
		fail_msg("expected the size bound in:\n%s", msgs);
	dp_config_put(c);
	unlink(path);
}

/* ---- unix sockets: bind, unix-bind, servers, listener ids ---- */

static const struct sockaddr_un *sun_of(const struct listener *l)
{
	return (const struct sockaddr_un *)&l->addr;
}

static void test_unix_sockets(void **state)
{
	struct dp_config *c;
	struct proxy *f, *b;
	struct bind_conf *bc;
	struct listener *l;
	const struct server *sv;

	(void)state;
	assert_int_equal(parse("global\n"
			       "  unix-bind prefix /run/dp/ mode 660 uid 1000 gid 1001\n"
			       "frontend f\n"
			       "  bind unix@a.sock\n"
			       "  bind 127.0.0.1:81,127.0.0.1:82\n"
			       "  bind /b.sock mode 600 uid 7 id 9\n"
			       "  bind abns@decoy accept-proxy\n"
			       "  option logasap\n"
			       "  default_backend b\n"
			       "defaults\n"
			       "  option logasap\n"
			       "frontend g\n"
			       "  bind 127.0.0.1:83\n"
			       "  no option logasap\n"
			       "  default_backend b\n"
			       "backend b\n"
			       "  server s1 unix@/run/decoy.sock send-proxy-v2\n"
			       "  server s2 /run/decoy2.sock check\n"
			       "  server s3 abns@d3\n",
			       &c),
			 0);
	f = dp_config_find_proxy(c, "f", PR_CAP_FE);
	b = dp_config_find_proxy(c, "b", PR_CAP_BE);
	assert_non_null(f);
	assert_non_null(b);
	assert_true(f->options & PR_O_LOGASAP);
	assert_false(dp_config_find_proxy(c, "g", PR_CAP_FE)->options & PR_O_LOGASAP);
	/* unix@ with the prefix and unix-bind's mode and owner */
	bc = f->binds;
	l = bc->listeners;
	assert_int_equal(l->addr.ss_family, AF_UNIX);
	assert_string_equal(sun_of(l)->sun_path, "/run/dp/a.sock");
	assert_true(bc->ux.have_mode);
	assert_int_equal(bc->ux.mode, 0660);
	assert_int_equal(bc->ux.uid, 1000);
	assert_int_equal(bc->ux.gid, 1001);
	assert_int_equal(l->luid, 1);
	/* two TCP listeners: ids 2 and 3 */
	bc = bc->next;
	assert_int_equal(bc->listeners->luid, 2);
	assert_int_equal(bc->listeners->next->luid, 3);
	/* an absolute path is unix too (prefixed as written), its own mode, owner and id */
	bc = bc->next;
	l = bc->listeners;
	assert_string_equal(sun_of(l)->sun_path, "/run/dp//b.sock");
	assert_int_equal(bc->ux.mode, 0600);
	assert_int_equal(bc->ux.uid, 7);
	assert_int_equal(bc->ux.gid, 1001);
	assert_int_equal(l->luid, 9);
	/* abstract: never prefixed; HAProxy 2.6 numbers it 5 (the counter passed 4) */
	bc = bc->next;
	l = bc->listeners;
	assert_int_equal(sun_of(l)->sun_path[0], 0);
	assert_string_equal(sun_of(l)->sun_path + 1, "decoy");
	assert_true(bc->options & BC_O_ACCEPT_PROXY);
	assert_int_equal(l->luid, 5);
	/* servers */
	sv = b->srv;
	assert_int_equal(sv->addr.ss_family, AF_UNIX);
	assert_string_equal(((const struct sockaddr_un *)&sv->addr)->sun_path, "/run/decoy.sock");
	assert_true(sv->flags & SRV_F_SEND_PROXY_V2);
	assert_false(sv->flags & SRV_F_ADDR_ORIG);
	sv = sv->next;
	assert_string_equal(((const struct sockaddr_un *)&sv->addr)->sun_path, "/run/decoy2.sock");
	assert_true(sv->check);
	sv = sv->next;
	assert_string_equal(((const struct sockaddr_un *)&sv->addr)->sun_path + 1, "d3");
	dp_config_put(c);

	/* unix-bind applies to the bind lines after it only, as in HAProxy */
	assert_int_equal(parse("frontend f\n  bind unix@/x.sock\n  default_backend b\n"
			       "backend b\n  server s 127.0.0.1:1\n", &c), 0);
	assert_false(dp_config_find_proxy(c, "f", PR_CAP_FE)->binds->ux.have_mode);
	dp_config_put(c);

	/* bad values and options that cannot apply: file:line and the keyword */
	expect_error("frontend f\n  bind unix@/x transparent\n", "[t.cfg:2] : 'bind': 'unix@/x': 'transparent' cannot be used on a unix socket");
	expect_error("frontend f\n  bind /x v6only\n", "'v6only' cannot be used on a unix socket");
	expect_error("frontend f\n  bind /x defer-accept\n", "'defer-accept' cannot be used on a unix socket");
	expect_error("frontend f\n  bind /x interface lo\n", "'interface' cannot be used on a unix socket");
	expect_error("frontend f\n  bind abns@x namespace n1\n", "'namespace' cannot be used on a unix socket");
	expect_error("frontend f\n  bind /x mode 999\n", "[t.cfg:2] : 'bind': 'mode' expects an octal value from 0 to 777, got '999'");
	expect_error("frontend f\n  bind /x user no-such-user-dp\n", "'no-such-user-dp' unknown user");
	expect_error("frontend f\n  bind /x gid abc\n", "'gid' expects a numeric id, got 'abc'");
	expect_error("frontend f\n  bind unix@\n", "empty unix socket path");
	expect_error("frontend f\n  bind 127.0.0.1:1-2 id 4\n", "'id' can only be used with a single socket");
	expect_error("frontend f\n  bind /x id 0\n", "custom id has to be > 0");
	expect_error("frontend f\n  bind /x id 4\n  bind /y id 4\n", "[t.cfg:3] : 'bind /y' : 'id' : custom id 4 already used at t.cfg:2 ('bind /x')");
	expect_error("global\n  unix-bind foo 1\n", "[t.cfg:2] : 'unix-bind': only supports the 'prefix', 'mode', 'uid', 'gid', 'user' and 'group' options, got 'foo'");
	expect_error("global\n  unix-bind mode\n", "'mode' expects a value");
	expect_error("global\n  unix-bind mode 8\n", "'mode' expects an octal value");
	expect_error("global\n  unix-bind prefix /a prefix /b\n", "'prefix' already specified");
	expect_error("global\n  unix-bind\n", "expects at least one of");
	expect_error("backend b\n  server s unix@/d.sock\n  source 0.0.0.0 usesrc clientip\n",
		     "[t.cfg:2] : backend 'b': server 's' is a unix socket: 'usesrc' (from the backend's 'source') cannot apply");
	expect_error("backend b\n  server s /d.sock source 0.0.0.0 usesrc client\n", "'usesrc' (from its 'source') cannot apply");
	expect_warning("backend b\n  server s /d.sock source 10.0.0.1\n", "server 's' is a unix socket: 'source' is ignored for it");
	/* TCP-only values of the TCP binds of the same frontend are fine */
	assert_int_equal(parse("frontend f\n  bind 127.0.0.1:1 transparent mode 600\n  bind /x mode 600\n", NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_unix_sockets, setup),
		cmocka_unit_test_setup(test_tokenize_basic, setup),
		cmocka_unit_test_setup(test_splice_keywords, setup),
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
		cmocka_unit_test_setup(test_http_defaults_tcp_proxies, setup),
		cmocka_unit_test_setup(test_stats_keywords, setup),
		cmocka_unit_test_setup(test_checks_and_pp_options, setup),
		cmocka_unit_test_setup(test_warnings, setup),
		cmocka_unit_test_setup(test_timer_overflow_messages, setup),
		cmocka_unit_test_setup(test_global_keywords, setup),
		cmocka_unit_test_setup(test_proxy_values, setup),
		cmocka_unit_test_setup(test_default_log_format, setup),
		cmocka_unit_test_setup(test_defaults_inheritance, setup),
		cmocka_unit_test_setup(test_known_unsupported_keywords, setup),
		cmocka_unit_test_setup(test_capability_warnings, setup),
		cmocka_unit_test_setup(test_suggest_sections, setup),
		cmocka_unit_test_setup(test_check_timeout, setup),
		cmocka_unit_test_setup(test_check_health, setup),
		cmocka_unit_test_setup(test_spread_checks, setup),
		cmocka_unit_test_setup(test_agent_and_marked, setup),
		cmocka_unit_test_setup(test_server_state, setup),
		cmocka_unit_test_setup_teardown(test_server_state_fifo, setup, alarm_off),
		cmocka_unit_test_setup(test_custom_tlv_per_type, setup),
		cmocka_unit_test_setup(test_option_and_value_messages, setup),
		cmocka_unit_test_setup(test_listener_same_socket, setup),
		cmocka_unit_test_setup(test_dir_and_missing_file, setup),
		cmocka_unit_test_setup(test_reader_nul_in_long_line, setup),
		cmocka_unit_test_setup(test_reader_long_line, setup),
		cmocka_unit_test_setup(test_reader_longest_line, setup),
		cmocka_unit_test_setup(test_reader_nul_buffer, setup),
		cmocka_unit_test_setup(test_reader_not_regular, setup),
		cmocka_unit_test_setup(test_reader_size_bound, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
