/* Unit tests: the rules of protocol health checks (model/chkrule.c):
 * `option tcp-check|httpchk|redis-check`, `tcp-check` and `http-check`
 * lines (good values, bad values with file:line), inheritance from defaults,
 * and the matching of responses, regex limits included. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cfg/cfg.h"
#include "model/chkrule.h"
#include "model/conf.h"
#include "model/proxy.h"
#include "log/msg.h"
#include "ctl/module.h"

#include "helpers.h"

/* every test starts with no message, capture on */
static int setup(void **state)
{
	return capture_setup(state);
}

#define TMO "defaults\n timeout connect 1s\n timeout client 1s\n timeout server 1s\n"

static struct proxy *be(struct dp_config *c, const char *name)
{
	struct proxy *px = dp_config_find_proxy(c, name, PR_CAP_BE);

	assert_non_null(px);
	return px;
}

static void test_tcp_check_rules(void **state)
{
	struct dp_config *c;
	const struct chk_rules *r;

	(void)state;
	assert_int_equal(parse(TMO "backend b\n option tcp-check\n tcp-check connect port 6379\n"
				   " tcp-check send PING\\r\\n\n tcp-check expect string +PONG\n"
				   " tcp-check send-binary 00ff0A\n tcp-check expect ! rbinary ^FF\n"
				   " tcp-check expect rstring role:(master|slave)\n tcp-check expect binary 0d0a\n"
				   " server s 127.0.0.1:1 check\n", &c), 0);
	assert_string_equal(msgs, "");
	assert_int_equal(be(c, "b")->chk.kind, CHK_KIND_TCP);
	r = be(c, "b")->chk.tcp;
	assert_non_null(r);
	assert_int_equal(r->n, 7);
	assert_int_equal(r->v[0].type, CHKR_CONNECT);
	assert_int_equal(r->v[0].port, 6379);
	assert_int_equal(r->v[1].type, CHKR_SEND);
	assert_int_equal(r->v[1].len, 6);
	assert_memory_equal(r->v[1].data, "PING\r\n", 6);
	assert_int_equal(r->v[2].match, CHKM_STRING);
	assert_false(r->v[2].inverse);
	assert_int_equal(r->v[3].len, 3);
	assert_memory_equal(r->v[3].data, "\x00\xff\x0a", 3);
	assert_int_equal(r->v[4].match, CHKM_RBINARY);
	assert_true(r->v[4].inverse);
	assert_non_null(r->v[4].re);
	assert_int_equal(r->v[5].match, CHKM_RSTRING);
	assert_non_null(r->v[5].re);
	assert_int_equal(r->v[6].match, CHKM_BINARY);
	assert_memory_equal(r->v[6].data, "\r\n", 2);
	dp_config_put(c);
}

static void test_httpchk(void **state)
{
	struct dp_config *c;
	const struct chk_rules *h;

	(void)state;
	assert_int_equal(parse(TMO "backend a\n option httpchk\n server s 127.0.0.1:1 check\n"
				   "backend b\n option httpchk GET /health HTTP/1.1\n"
				   " http-check send hdr Host db.example hdr X-A 1\n"
				   " http-check expect status 200-299,304\n http-check expect ! rstring ^error\n"
				   " server s 127.0.0.1:1 check\n"
				   "backend c\n option httpchk /ping\n http-check send meth HEAD ver HTTP/1.0\n"
				   " http-check expect rstatus ^2\n server s 127.0.0.1:1 check\n", &c), 0);
	assert_string_equal(msgs, "");
	assert_int_equal(be(c, "a")->chk.kind, CHK_KIND_HTTP);
	assert_null(be(c, "a")->chk.http);  /* HAProxy's default: OPTIONS / HTTP/1.0 */
	h = be(c, "b")->chk.http;
	assert_string_equal(h->meth, "GET");
	assert_string_equal(h->uri, "/health");
	assert_string_equal(h->ver, "HTTP/1.1");
	assert_int_equal(h->nhdr, 2);
	assert_string_equal(h->hdrs[0], "Host: db.example");
	assert_string_equal(h->hdrs[1], "X-A: 1");
	assert_int_equal(h->n, 2);
	assert_int_equal(h->v[0].match, CHKM_STATUS);
	assert_int_equal(h->v[1].match, CHKM_RBODY);
	assert_true(h->v[1].inverse);
	h = be(c, "c")->chk.http;
	assert_string_equal(h->meth, "HEAD");
	assert_string_equal(h->uri, "/ping");
	assert_string_equal(h->ver, "HTTP/1.0");
	assert_int_equal(h->v[0].match, CHKM_RSTATUS);
	dp_config_put(c);
}

/* Rules in defaults pass on by reference; a backend's first own line starts
 * a fresh set, as HAProxy does. `no option` turns the protocol check off. */
static void test_inherit(void **state)
{
	struct dp_config *c;
	struct proxy *d, *a, *b;

	(void)state;
	assert_int_equal(parse("defaults chk\n timeout connect 1s\n timeout client 1s\n timeout server 1s\n option tcp-check\n tcp-check send A\n tcp-check expect string B\n"
				   "backend a from chk\n server s 127.0.0.1:1 check\n"
				   "backend b from chk\n tcp-check send C\n server s 127.0.0.1:1 check\n"
				   "backend n from chk\n no option tcp-check\n server s 127.0.0.1:1 check\n"
				   "backend r\n option redis-check\n server s 127.0.0.1:1 check\n"
				   "backend m\n option smtpchk\n server s 127.0.0.1:1 check\n"
				   "backend e\n option smtpchk EHLO mx.example\n server s 127.0.0.1:1 check\n"
				   "backend p\n option pgsql-check user app\n server s 127.0.0.1:1 check\n", &c), 0);
	a = be(c, "a");
	b = be(c, "b");
	d = dp_config_find_proxy(c, "chk", PR_CAP_DEF);
	if (!d)
		d = a;  /* the defaults section may not be listed: compare a and b */
	assert_int_equal(a->chk.kind, CHK_KIND_TCP);
	assert_int_equal(a->chk.tcp->n, 2);
	assert_false(a->chk.tcp_own);
	assert_int_equal(b->chk.kind, CHK_KIND_TCP);
	assert_true(b->chk.tcp_own);
	assert_int_equal(b->chk.tcp->n, 1);
	assert_memory_equal(b->chk.tcp->v[0].data, "C", 1);
	assert_ptr_not_equal(a->chk.tcp, b->chk.tcp);
	assert_int_equal(be(c, "n")->chk.kind, CHK_KIND_CONNECT);
	assert_int_equal(be(c, "r")->chk.kind, CHK_KIND_REDIS);
	/* HAProxy's default greeting is HELO localhost */
	assert_int_equal(be(c, "m")->chk.kind, CHK_KIND_SMTP);
	assert_string_equal(be(c, "m")->chk.smtp_hello, "HELO");
	assert_string_equal(be(c, "m")->chk.smtp_domain, "localhost");
	assert_string_equal(be(c, "e")->chk.smtp_hello, "EHLO");
	assert_string_equal(be(c, "e")->chk.smtp_domain, "mx.example");
	assert_int_equal(be(c, "p")->chk.kind, CHK_KIND_PGSQL);
	assert_string_equal(be(c, "p")->chk.pg_user, "app");
	dp_config_put(c);
}

static void test_bad_values(void **state)
{
	static const struct {
		const char *cfg, *needle;
	} bad[] = {
		{ "backend b\n tcp-check\n", "[t.cfg:2] : 'tcp-check': expects 'connect', 'send', 'send-binary' or 'expect'" },
		{ "backend b\n tcp-check sned x\n", "[t.cfg:2] : 'tcp-check': unknown rule 'sned'" },
		{ "backend b\n tcp-check send-lf x\n", "[t.cfg:2] : 'tcp-check send-lf' is not yet supported by decoyproxy" },
		{ "backend b\n tcp-check send\n", "[t.cfg:2] : 'tcp-check send' expects <string> as its only argument" },
		{ "backend b\n tcp-check send a b\n", "'tcp-check send' expects <string> as its only argument" },
		{ "backend b\n tcp-check send-binary 0\n", "[t.cfg:2] : 'tcp-check send-binary' expects a hexadecimal string of even length, got '0'" },
		{ "backend b\n tcp-check send-binary zz\n", "'tcp-check send-binary': invalid hexadecimal character 'z' in 'zz'" },
		{ "backend b\n tcp-check connect port 0\n", "[t.cfg:2] : 'tcp-check connect port': invalid port '0' (expects 1..65535)" },
		{ "backend b\n tcp-check connect port\n", "'tcp-check connect port' expects a port number" },
		{ "backend b\n tcp-check connect ssl\n", "'tcp-check connect ssl' is not yet supported by decoyproxy" },
		{ "backend b\n tcp-check connect bogus\n", "'tcp-check connect': unknown option 'bogus'" },
		{ "backend b\n tcp-check expect\n", "'tcp-check expect' expects a match type (string, rstring, binary or rbinary) and a pattern" },
		{ "backend b\n tcp-check expect status 200\n", "'tcp-check expect': unknown match 'status'" },
		{ "backend b\n tcp-check expect string\n", "'tcp-check expect string' expects <pattern> as an argument" },
		{ "backend b\n tcp-check expect string a b\n", "unexpected argument 'b' after the pattern" },
		{ "backend b\n tcp-check expect rstring (\n", "[t.cfg:2] : 'tcp-check expect rstring': failed to compile regex '(' at offset 1" },
		{ "backend b\n tcp-check expect min-recv 4 string a\n", "'tcp-check expect min-recv' is not yet supported by decoyproxy" },
		{ "backend b\n tcp-check expect binary abc\n", "'tcp-check expect binary' expects a hexadecimal string of even length" },
		{ "backend b\n http-check expect status 2xx\n", "[t.cfg:2] : 'http-check expect status': invalid status code list '2xx'" },
		{ "backend b\n http-check expect rstatus (\n", "'http-check expect rstatus': failed to compile regex" },
		{ "backend b\n http-check expect hdr name x\n", "'http-check expect hdr' is not yet supported by decoyproxy" },
		{ "backend b\n http-check expect binary 00\n", "'http-check expect': unknown match 'binary'" },
		{ "backend b\n http-check send body x\n", "'http-check send body' is not yet supported by decoyproxy" },
		{ "backend b\n http-check send meth\n", "'http-check send meth' expects a value" },
		{ "backend b\n http-check send hdr X\n", "'http-check send hdr' expects <name> and <value>" },
		{ "backend b\n http-check send frob x\n", "'http-check send': unknown option 'frob'" },
		{ "backend b\n http-check disable-on-404\n", "'http-check disable-on-404' is not yet supported by decoyproxy" },
		{ "backend b\n http-check connect\n", "'http-check connect' is not yet supported by decoyproxy" },
		{ "backend b\n option httpchk GET / HTTP/1.0 x\n", "[t.cfg:2] : 'option httpchk' expects at most <method> <uri> <version>" },
		{ "backend b\n option tcp-check x\n", "option 'tcp-check' takes no argument" },
		{ "backend b\n option redis-check x\n", "option 'redis-check' takes no argument" },
		{ "backend b\n option smtpchk EHLO a b\n", "[t.cfg:2] : 'option smtpchk' expects at most <hello> <domain>" },
		{ "backend b\n option pgsql-check\n", "[t.cfg:2] : 'option pgsql-check' expects 'user <username>' as argument" },
		{ "backend b\n option pgsql-check usr x\n", "'option pgsql-check' expects 'user <username>' as argument" },
		{ "backend b\n option pgsql-check user x y\n", "'option pgsql-check': unexpected argument 'y' after the user name" },
		{ "backend b\n option spop-check\n", "option 'spop-check' is not supported: this protocol check is not yet supported" },
		{ "frontend f\n tcp-check send x\n", "[t.cfg:2] : 'tcp-check' is not allowed in 'frontend' section" },
		{ TMO "backend b\n option tcp-check\n tcp-check send x\n tcp-check connect\n server s 127.0.0.1:1 check\n",
		  "backend 'b': tcp-check rules (t.cfg:7): first step MUST also be a 'connect'" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		expect_error(bad[i].cfg, bad[i].needle);
}

static void test_warnings(void **state)
{
	(void)state;
	assert_int_equal(parse(TMO "frontend f\n bind :1\n option httpchk\n default_backend b\n"
				   "backend b\n tcp-check send x\n server s 127.0.0.1:1\n", NULL), 0);
	assert_non_null(strstr(msgs, "WARNING: config : parsing [t.cfg:7] : 'option httpchk' ignored because frontend 'f' has no backend capability"));
	assert_non_null(strstr(msgs, "WARNING: config : backend 'b': 'tcp-check' rules ignored: 'option tcp-check' is not set."));
}

static struct chk_rules *one_rule(const char *line, struct dp_config **cp)
{
	char buf[512];
	struct proxy *px;

	snprintf(buf, sizeof(buf), TMO "backend b\n option tcp-check\n %s\n server s 127.0.0.1:1 check\n", line);
	assert_int_equal(parse(buf, cp), 0);
	px = be(*cp, "b");
	return px->chk.tcp ? px->chk.tcp : px->chk.http;
}

static void test_match(void **state)
{
	struct dp_config *c;
	struct chk_rules *r;
	bool more;
	static uint8_t big[CHK_RESP_MAX];

	(void)state;
	r = one_rule("tcp-check expect string +PONG", &c);
	assert_true(chkrule_match(&r->v[0], (const uint8_t *)"xx+PONG\r\n", 9, 0, &more));
	assert_false(chkrule_match(&r->v[0], (const uint8_t *)"+PON", 4, 0, &more));
	assert_true(more);  /* might come: read on */
	dp_config_put(c);
	r = one_rule("tcp-check expect ! string -ERR", &c);
	assert_true(chkrule_match(&r->v[0], (const uint8_t *)"+OK", 3, 0, &more));
	assert_false(chkrule_match(&r->v[0], (const uint8_t *)"-ERR x", 6, 0, &more));
	assert_false(more);
	dp_config_put(c);
	r = one_rule("tcp-check expect rbinary ^00FF", &c);
	assert_true(chkrule_match(&r->v[0], (const uint8_t *)"\x00\xff\x01", 3, 0, &more));
	assert_false(chkrule_match(&r->v[0], (const uint8_t *)"\x01\x00\xff", 3, 0, &more));
	dp_config_put(c);
	r = one_rule("tcp-check expect binary 0d0a", &c);
	assert_true(chkrule_match(&r->v[0], (const uint8_t *)"ab\r\n", 4, 0, &more));
	dp_config_put(c);
	r = one_rule("http-check expect status 200-204,304", &c);
	assert_true(chkrule_match(&r->v[0], NULL, 0, 204, &more));
	assert_true(chkrule_match(&r->v[0], NULL, 0, 304, &more));
	assert_false(chkrule_match(&r->v[0], NULL, 0, 205, &more));
	assert_false(chkrule_match(&r->v[0], NULL, 0, 500, &more));
	dp_config_put(c);
	r = one_rule("http-check expect ! rstatus ^5", &c);
	assert_true(chkrule_match(&r->v[0], NULL, 0, 200, &more));
	assert_false(chkrule_match(&r->v[0], NULL, 0, 503, &more));
	dp_config_put(c);
	/* a pathological regex on a full buffer ends (match limit), as a mismatch */
	r = one_rule("tcp-check expect rstring ^(a+)+$", &c);
	memset(big, 'a', sizeof(big));
	big[sizeof(big) - 1] = 'b';
	assert_false(chkrule_match(&r->v[0], big, sizeof(big), 0, &more));
	dp_config_put(c);
}

static void test_proto_options(void **state)
{
	struct dp_config *c;

	(void)state;
	assert_int_equal(parse(TMO "backend a\n option mysql-check\n server s 127.0.0.1:1 check\n"
				   "backend b\n option mysql-check user haproxy\n server s 127.0.0.1:1 check\n"
				   "backend c\n option mysql-check user hap pre-41\n server s 127.0.0.1:1 check\n"
				   "backend d\n option mysql-check user hap post-41\n option ldap-check\n"
				   " server s 127.0.0.1:1 check\n"
				   "backend e\n option ssl-hello-chk\n server s 127.0.0.1:1 check\n", &c), 0);
	assert_string_equal(msgs, "");
	assert_int_equal(be(c, "a")->chk.kind, CHK_KIND_MYSQL);
	assert_null(be(c, "a")->chk.my_user);
	assert_string_equal(be(c, "b")->chk.my_user, "haproxy");
	assert_false(be(c, "b")->chk.my_pre41);  /* post-41 is HAProxy's default */
	assert_true(be(c, "c")->chk.my_pre41);
	assert_int_equal(be(c, "d")->chk.kind, CHK_KIND_LDAP);  /* the last option wins */
	assert_int_equal(be(c, "e")->chk.kind, CHK_KIND_SSL);
	dp_config_put(c);
	/* from defaults, and dropped by another check option */
	assert_int_equal(parse(TMO " option mysql-check user dflt pre-41\nbackend a\n server s 127.0.0.1:1 check\n"
				   "backend b\n option tcp-check\n server s 127.0.0.1:1 check\n", &c), 0);
	assert_int_equal(be(c, "a")->chk.kind, CHK_KIND_MYSQL);
	assert_string_equal(be(c, "a")->chk.my_user, "dflt");
	assert_true(be(c, "a")->chk.my_pre41);
	assert_int_equal(be(c, "b")->chk.kind, CHK_KIND_TCP);
	dp_config_put(c);
	expect_error(TMO "backend a\n option mysql-check usr x\n",
		     "t.cfg:6] : 'option mysql-check' only supports optional values: 'user' (got 'usr')");
	expect_error(TMO "backend a\n option mysql-check user\n",
		     "t.cfg:6] : 'option mysql-check user' expects <username> as argument");
	expect_error(TMO "backend a\n option mysql-check user x post-42\n",
		     "t.cfg:6] : 'option mysql-check user' only supports 'post-41' and 'pre-41' (got 'post-42')");
	expect_error(TMO "backend a\n option mysql-check user x pre-41 y\n", "t.cfg:6] : 'option mysql-check' cannot handle");
	expect_error(TMO "backend a\n option ldap-check x\n", "t.cfg:6] : 'option': option 'ldap-check' takes no argument");
	expect_error(TMO "backend a\n option ssl-hello-chk x\n", "t.cfg:6] : 'option': option 'ssl-hello-chk' takes no argument");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_tcp_check_rules, setup),
		cmocka_unit_test_setup(test_httpchk, setup),
		cmocka_unit_test_setup(test_inherit, setup),
		cmocka_unit_test_setup(test_bad_values, setup),
		cmocka_unit_test_setup(test_warnings, setup),
		cmocka_unit_test_setup(test_match, setup),
		cmocka_unit_test_setup(test_proto_options, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
