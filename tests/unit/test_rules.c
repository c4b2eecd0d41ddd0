/* Unit tests: the rules layer — every fetch, converter and match method
 * with good and bad input, conditions and their three-valued results,
 * maps (files, runtime changes), regex bounds, the tcp-request /
 * use_backend / use-server keywords and %[...] in log formats. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/addr.h"
#include "lib/pp.h"
#include "cfg/cfg.h"
#include "log/log.h"
#include "log/msg.h"
#include "model/bind.h"
#include "model/conf.h"
#include "model/proxy.h"
#include "model/server.h"
#include "rules/acl.h"
#include "rules/pattern.h"
#include "rules/regex.h"
#include "rules/rules.h"
#include "rules/sample.h"
#include "ctl/module.h"

#include "helpers.h"

static char tmpdir[64];

static const char *tmpfile_with(const char *name, const char *text)
{
	static char path[8][128];
	static int n;
	char *p = path[n++ % 8];
	FILE *f;

	snprintf(p, 128, "%s/%s", tmpdir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return p;
}

static struct dp_config *conf;
static struct sockaddr_storage src, dst;
static struct smp_sess ss;
static struct smp_store *store;

#define BASE_CFG \
	"defaults\n  mode tcp\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\n" \
	"frontend fe\n  bind 127.0.0.1:1 name mybind\n  default_backend be\n" \
	"backend be\n  server s1 10.0.0.1:80 maxconn 10\n  server s2 10.0.0.2:80 disabled\n" \
	"backend be2\n  server t1 10.0.0.3:80\n"

static void set_addr(struct sockaddr_storage *a, const char *ip, int port)
{
	memset(a, 0, sizeof(*a));
	if (strchr(ip, ':')) {
		a->ss_family = AF_INET6;
		inet_pton(AF_INET6, ip, &((struct sockaddr_in6 *)a)->sin6_addr);
	} else {
		a->ss_family = AF_INET;
		inet_pton(AF_INET, ip, &((struct sockaddr_in *)a)->sin_addr);
	}
	addr_set_port(a, port);
}

static void set_req(const char *bytes, size_t len, bool final)
{
	ss.req = (const unsigned char *)bytes;
	ss.req_len = len;
	ss.final = final;
}

static int setup(void **state)
{
	capture_setup(state);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_rules.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	assert_int_equal(modules_init(), 0);
	conf = dp_config_new();
	assert_non_null(conf);
	assert_int_equal(cfg_parse_buffer(conf, "t.cfg", BASE_CFG), 0);
	assert_int_equal(modules_finalize(conf), 0);
	set_addr(&src, "10.1.2.3", 40000);
	set_addr(&dst, "192.0.2.10", 22);
	store = smp_store_new();
	memset(&ss, 0, sizeof(ss));
	ss.src = &src;
	ss.dst = &dst;
	ss.fe = dp_config_find_proxy(conf, "fe", PR_CAP_FE);
	ss.be = dp_config_find_proxy(conf, "be", PR_CAP_BE);
	ss.li = ss.fe->binds->listeners;
	ss.conf = conf;
	ss.store = store;
	set_req(NULL, 0, true);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	alarm(0);  /* one a failed FIFO case left set */
	smp_store_free(store);
	dp_config_put(conf);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static struct smp_pctx pctx(void)
{
	struct smp_pctx pc = { .conf = conf, .px = ss.fe, .file = "t.cfg", .line = 1 };

	return pc;
}

/* Evaluates expr on ss: returns 1 with its text in out, 0 without a
 * value (out = "<none>" or "<more>" when it may change). */
static int eval(const char *expr, char *out, size_t cap)
{
	struct smp_pctx pc = pctx();
	struct smp_expr *e;
	struct sample smp;
	char *err = NULL;
	int r;

	if (smp_expr_parse(expr, NULL, NULL, &pc, &e, &err) < 0)
		fail_msg("'%s' does not parse: %s", expr, err);
	r = smp_expr_eval(e, &ss, &smp);
	if (r)
		smp_to_text(&smp, out, cap);
	else
		snprintf(out, cap, "%s", smp.flags & SMP_F_MAY_CHANGE ? "<more>" : "<none>");
	smp_expr_free(e);
	return r;
}

static void expect_val(const char *expr, const char *want)
{
	char out[4096];

	eval(expr, out, sizeof(out));
	if (strcmp(out, want))
		fail_msg("%s: got '%s', expected '%s'", expr, out, want);
}

/* expect_val() for each row of a table */
struct val_row {
	const char *expr, *want;
};
#define EXPECT_VALS(rows) expect_vals(rows, sizeof(rows) / sizeof((rows)[0]))

static void expect_vals(const struct val_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		expect_val(rows[i].expr, rows[i].want);
}

static void expect_parse_error(const char *expr, const char *needle)
{
	struct smp_pctx pc = pctx();
	struct smp_expr *e = NULL;
	char *err = NULL;

	if (smp_expr_parse(expr, NULL, NULL, &pc, &e, &err) == 0) {
		smp_expr_free(e);
		fail_msg("'%s' parsed, expected an error with '%s'", expr, needle);
	}
	if (!err || !strstr(err, needle))
		fail_msg("'%s': error '%s' lacks '%s'", expr, err ? err : "(null)", needle);
	free(err);
}

/* ---- fetches ------------------------------------------------------------------------ */

static void test_fetch_l4(void **state)
{
	struct pp_hdr pp;
	struct pp_tlv_custom tlv = { .type = 0xE3, .len = 3, .val = (uint8_t *)"ssh" };
	static const struct val_row l4[] = {
		{ "src", "10.1.2.3" },
		{ "src_port", "40000" },
		{ "dst", "192.0.2.10" },
		{ "dst_port", "22" },
		{ "so_name", "mybind" },
		{ "fe_name", "fe" },
		{ "be_name", "be" },
		{ "srv_name", "<none>" },
		{ "always_true", "1" },
		{ "always_false", "0" },
		{ "str(abc)", "abc" },
		{ "int(-42)", "-42" },
		{ "ipv4(10.0.0.1)", "10.0.0.1" },
		{ "ipv6(fd00::1)", "fd00::1" },
		{ "fc_rcvd_proxy", "0" },
		{ "fc_pp_authority", "<none>" },
	};

	EXPECT_VALS(l4);
	memset(&pp, 0, sizeof(pp));
	pp.authority = "decoy.example";
	pp.custom = &tlv;
	pp.ncustom = 1;
	ss.pp = &pp;
	expect_val("fc_rcvd_proxy", "1");
	expect_val("fc_pp_authority", "decoy.example");
	expect_val("fc_pp_tlv(0xE3)", "ssh");
	expect_val("fc_pp_tlv(0xE4)", "<none>");
	ss.pp = NULL;
	/* 192.0.2.10 is not on this host; 127.0.0.1 is */
	expect_val("dst_is_local", "0");
	set_addr(&dst, "127.0.0.1", 22);
	expect_val("dst_is_local", "1");
	set_addr(&dst, "192.0.2.10", 22);
	expect_val("src_is_local", "0");
	/* IPv6 */
	set_addr(&src, "fd00::7", 1234);
	expect_val("src", "fd00::7");
	expect_val("src_port", "1234");
	set_addr(&src, "10.1.2.3", 40000);
	expect_parse_error("ipv4(300.1.1.1)", "not an IPv4 address");
	expect_parse_error("fc_pp_tlv(300)", "not a TLV type");
	expect_parse_error("int(x)", "'x' is not an integer");
}

static void test_fetch_proxies(void **state)
{
	struct proxy *be = ss.be;

	expect_val("nbsrv", "1");          /* s2 is disabled */
	expect_val("nbsrv(be2)", "1");
	expect_val("nbsrv(nosuch)", "<none>");
	expect_val("connslots", "10");
	be->srv->cur_conn = 3;
	expect_val("connslots(be)", "7");
	be->srv->cur_conn = 0;
	expect_val("connslots(be2)", "-1"); /* no maxconn: unlimited */
	be->beconn = 5;
	expect_val("be_conn", "5");
	be->beconn = 0;
	ss.fe->feconn = 2;
	expect_val("fe_conn", "2");
	expect_val("fe_conn(fe)", "2");
	ss.fe->feconn = 0;
	expect_val("srv_is_up(be/s1)", "1");
	expect_val("srv_is_up(be/s2)", "0");
	expect_val("srv_is_up(s1)", "1");
	expect_val("srv_is_up(be/zz)", "<none>");
	expect_parse_error("srv_is_up", "expects 1 argument");
}

static const char rdp_req[] = "\x03\x00\x00\x2b\x26\xe0\x00\x00\x00\x00\x00"
			      "Cookie: mstshash=administrator\r\n\x01\x00\x08\x00\x03\x00\x00\x00";

static void test_fetch_payload(void **state)
{
	static const char lv[] = "\x03" "abcdef";

	set_req("SSH-2.0-x\r\n", 11, false);
	expect_val("req.len", "11");
	expect_val("req_len", "11");
	expect_val("req.payload(0,4)", "SSH-");
	expect_val("payload(4,3)", "2.0");
	expect_val("req.payload(8,0)", "x\r\n");
	expect_val("req.payload(8,10)", "<more>");
	ss.final = true;
	expect_val("req.payload(8,10)", "<none>");
	set_req(lv, 7, false);
	expect_val("req.payload_lv(0,1)", "abc");
	expect_val("payload_lv(0,1,+1)", "bcd");
	expect_val("req.payload_lv(0,1,5)", "<more>");
	expect_val("req.payload_lv(0,1,5),length", "<more>");
	expect_parse_error("req.payload(0)", "missing arguments to 'req.payload'");
	expect_parse_error("req.payload(0,1,2)", "too many arguments");
	expect_parse_error("req.payload(-1,2)", "between 0 and 65535");
	expect_parse_error("req.payload_lv(0,5)", "length field 1 to 4");
	expect_parse_error("req.payload(0,4", "missing closing ')'");
	/* RDP: a real mstsc Connection Request */
	set_req(rdp_req, sizeof(rdp_req) - 1, false);
	expect_val("req.rdp_cookie", "administrator");
	expect_val("rdp_cookie(mstshash)", "administrator");
	expect_val("req.rdp_cookie(msts)", "<none>");
	expect_val("req.rdp_cookie_cnt", "1");
	set_req(rdp_req, 20, false);
	expect_val("req.rdp_cookie", "<more>");
	set_req("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00", 20, false);
	expect_val("req.rdp_cookie_cnt", "0");
	/* HTTP request line */
	set_req("GET /x HTTP/1.1\r\nHost: a\r\n", 26, false);
	expect_val("req.proto_http", "1");
	set_req("GET /x HT", 9, false);
	expect_val("req_proto_http", "<more>");
	ss.final = true;
	expect_val("req.proto_http", "0");
	set_req("SSH-2.0-x\r\n", 11, false);
	expect_val("req.proto_http", "0");
	set_req(NULL, 0, false);
	expect_val("wait_end", "<more>");
	expect_val("req.len", "0");
	ss.final = true;
	expect_val("wait_end", "1");
}

static void test_fetch_refused(void **state)
{
	expect_parse_error("srcc", "unknown fetch method 'srcc', did you mean 'src' ?");
	expect_parse_error("req.payloda(0,1)", "did you mean 'req.payload'");
	expect_parse_error("", "missing fetch method");
	expect_parse_error("src junk", "unexpected character ' '");
}

/* ---- ClientHello and protocol fetches on real first bytes ------------------------------------- */

static char *fixture(const char *rel, size_t *len)
{
	char path[512];
	FILE *f;
	char *buf = malloc(65536);

	snprintf(path, sizeof(path), "%s/%s", DP_TESTDATA, rel);
	f = fopen(path, "rb");
	if (!f || !buf)
		fail_msg("cannot read %s", path);
	*len = fread(buf, 1, 65536, f);
	fclose(f);
	return buf;
}

/* Condition verdict on the current bytes: 1, 0 or -1 (wait). */
static int cond(const char *text);
static void cond_bad(const char *text, const char *needle);

static void test_fetch_tls(void **state)
{
	size_t n;
	char *h = fixture("tls/openssl_tls12_alpn.bin", &n);
	char *c;

	/* a whole hello, more bytes could still come: the values are final */
	set_req(h, n, false);
	expect_val("req.ssl_hello_type", "1");
	expect_val("req_ssl_hello_type", "1");
	expect_val("req.ssl_ver", "196611"); /* 3.3 */
	expect_val("req.ssl_sni", "decoy.example");
	expect_val("req_ssl_sni", "decoy.example");
	expect_val("req.ssl_sni,upper", "DECOY.EXAMPLE");
	expect_val("req.ssl_alpn", "h2"); /* one value: the first */
	expect_val("req.ssl_ec_ext", "1");
	expect_val("req.ssl_st_ext", "1"); /* empty session ticket extension */
	expect_val("req.ssl_ja3", "22558766122974704364c9c75c5cce0a");
	expect_val("req.ssl_ja4", "t12d2808h2_d943125447b4_e7e480e5a997");
	expect_val("req.proto", "tls");
	/* ACLs: each ALPN value is tried; versions written major.minor */
	assert_int_equal(cond("if { req.ssl_alpn http/1.1 }"), 1);
	assert_int_equal(cond("if { req.ssl_alpn h2 }"), 1);
	assert_int_equal(cond("if { req.ssl_alpn h3 }"), 0);
	assert_int_equal(cond("if { req.ssl_alpn,upper HTTP/1.1 }"), 1);
	assert_int_equal(cond("if { req.ssl_alpn -m beg http }"), 1);
	assert_int_equal(cond("if { req.ssl_ver 3.3 }"), 1);
	assert_int_equal(cond("if { req.ssl_ver 3.1:3.2 }"), 0);
	assert_int_equal(cond("if { req.ssl_ver ge 3.1 }"), 1);
	assert_int_equal(cond("if { req.ssl_sni -i DECOY.example }"), 1);
	assert_int_equal(cond("if { req.ssl_sni -i b.example }"), 0);
	assert_int_equal(cond("if { req.proto tls }"), 1);
	/* truncated: no value yet, may change; final: none */
	set_req(h, 60, false);
	expect_val("req.ssl_sni", "<more>");
	expect_val("req.ssl_ja3", "<more>");
	expect_val("req.ssl_ja4", "<more>");
	expect_val("req.ssl_alpn", "<more>");
	expect_val("req.ssl_ec_ext", "<more>");
	expect_val("req.ssl_ver", "<more>");
	expect_val("req.ssl_hello_type", "<more>");
	expect_val("req.proto", "tls"); /* definite on the first 10 bytes */
	assert_int_equal(cond("if { req.ssl_sni -i decoy.example }"), -1);
	assert_int_equal(cond("if { req.ssl_alpn h2 }"), -1);
	ss.final = true;
	expect_val("req.ssl_sni", "<none>");
	expect_val("req.ssl_ja3", "<none>");
	assert_int_equal(cond("if { req.ssl_sni -i decoy.example }"), 0);
	set_req(h, 3, false);
	expect_val("req.proto", "<more>");
	free(h);

	/* several records, reassembled in the scratch; many ALPN values */
	h = fixture("tls/openssl_fragmented.bin", &n);
	set_req(h, n, false);
	expect_val("req.ssl_sni", "decoy.example");
	expect_val("req.ssl_ja4", "t13d3111h2_e8f1e7e78f70_1f22a2ca17c4");
	expect_val("req.ssl_ja3", "5a1edc7f170af1014fc65c994878e63c");
	assert_int_equal(cond("if { req.ssl_alpn proto-40 }"), 1);
	assert_int_equal(cond("if { req.ssl_alpn proto-41 }"), 0);
	free(h);

	h = fixture("tls/curl.bin", &n);
	set_req(h, n, false);
	expect_val("req.ssl_ja3", "0149f47eabf9a20d0893e2a44e5a6323");
	expect_val("req.ssl_ja4", "t13d3112h2_e8f1e7e78f70_b26ce05bbdd6");
	expect_val("req.ssl_ver", "196611"); /* the legacy version, as HAProxy */
	free(h);

	/* no SNI, no ALPN, no session ticket: no value for those, others fine */
	h = fixture("tls/openssl_nosni.bin", &n);
	set_req(h, n, false);
	expect_val("req.ssl_sni", "<none>");
	expect_val("req.ssl_hello_type", "1");
	assert_int_equal(cond("if { req.ssl_sni -m found }"), 0);
	free(h);

	/* an SSLv2 hello: a version, no JA3/JA4 */
	h = fixture("tls/handmade_sslv2_hello.bin", &n);
	set_req(h, n, false);
	expect_val("req.ssl_ja3", "<none>");
	expect_val("req.ssl_ja4", "<none>");
	expect_val("req.proto", "tls");
	free(h);

	/* not TLS: no value, final at once */
	c = strdup("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
	set_req(c, strlen(c), false);
	expect_val("req.ssl_sni", "<none>");
	expect_val("req.ssl_ja3", "<none>");
	expect_val("req.ssl_alpn", "<none>");
	expect_val("req.ssl_hello_type", "<none>");
	expect_val("req.ssl_ver", "<none>");
	expect_val("req.ssl_st_ext", "<none>");
	assert_int_equal(cond("if { req.ssl_sni -m found }"), 0);
	free(c);
}

/* A TLS 1.2 ClientHello whose ALPN extension lists n names p0..p<n-1>. */
static size_t alpn_hello(uint8_t *b, int n)
{
	size_t k, ext, list;

	memset(b, 0, 64);
	memcpy(b, "\x16\x03\x01\x00\x00\x01\x00\x00\x00\x03\x03", 11);
	k = 11 + 32;
	b[k++] = 0;                                     /* session id */
	memcpy(b + k, "\x00\x02\xc0\x2f\x01\x00", 6);   /* one suite, no compression */
	k += 6;
	ext = k;
	k += 2;
	b[k++] = 0x00, b[k++] = 0x10;                   /* ALPN */
	list = k;
	k += 4;
	for (int i = 0; i < n; i++) {
		int len = sprintf((char *)b + k + 1, "p%d", i);

		b[k] = (uint8_t)len;
		k += 1 + (size_t)len;
	}
	b[list] = (uint8_t)((k - list - 2) >> 8), b[list + 1] = (uint8_t)(k - list - 2);
	b[list + 2] = (uint8_t)((k - list - 4) >> 8), b[list + 3] = (uint8_t)(k - list - 4);
	b[ext] = (uint8_t)((k - ext - 2) >> 8), b[ext + 1] = (uint8_t)(k - ext - 2);
	b[7] = (uint8_t)((k - 9) >> 8), b[8] = (uint8_t)(k - 9);
	b[3] = (uint8_t)((k - 5) >> 8), b[4] = (uint8_t)(k - 5);
	return k;
}

static void test_fetch_alpn_cap(void **state)
{
	static uint8_t b[2048];
	size_t n = alpn_hello(b, 100);

	set_req((const char *)b, n, false);
	expect_val("req.ssl_alpn", "p0");
	assert_int_equal(cond("if { req.ssl_alpn p63 }"), 1);
	/* past the first 64 values an ACL stops looking */
	assert_int_equal(cond("if { req.ssl_alpn p64 }"), 0);
	assert_int_equal(cond("if { req.ssl_alpn p99 }"), 0);
}

static void test_fetch_proto(void **state)
{
	static const struct { const char *file, *want; } fx[] = {
		{ "proto/ssh__openssh.bin", "ssh" },
		{ "proto/http__curl.bin", "http" },
		{ "proto/tls__openssl.bin", "tls" },
		{ "proto/rdp__nmap_rdp_ntlm_info.bin", "rdp" },
		{ "proto/smb__nmap_smb_protocols.bin", "smb" },
		{ "proto/redis__redis_cli.bin", "redis" },
		{ "proto/postgres__psql_startup.bin", "postgres" },
		{ "proto/socks5__curl.bin", "socks5" },
		{ "proto/smtp-client__handmade_helo.bin", "smtp-client" },
		{ "proto/unknown__handmade_random.bin", "unknown" },
	};
	size_t n;

	for (size_t i = 0; i < ARRAY_SIZE(fx); i++) {
		char *b = fixture(fx[i].file, &n);
		char pat[64];

		set_req(b, n, false);
		expect_val("req.proto", fx[i].want);
		snprintf(pat, sizeof(pat), "if { req.proto %s }", fx[i].want);
		assert_int_equal(cond(pat), 1);
		free(b);
	}
	/* a prefix that may still become SSH: wait; at the end: unknown */
	set_req("SSH-2", 5, false);
	expect_val("req.proto", "<more>");
	assert_int_equal(cond("if { req.proto ssh }"), -1);
	assert_int_equal(cond("if { req.proto -m found }"), -1);
	ss.final = true;
	expect_val("req.proto", "unknown");
	/* nothing at all: wait, then silent */
	set_req(NULL, 0, false);
	expect_val("req.proto", "<more>");
	assert_int_equal(cond("if { req.proto -m found }"), -1);
	ss.final = true;
	expect_val("req.proto", "silent");
	assert_int_equal(cond("if { req.proto silent }"), 1);
	assert_int_equal(cond("if { req.proto -i SILENT }"), 1);
	/* patterns are checked at load, naming the nearest protocol */
	cond_bad("if { req.proto tsl }", "'tsl' is not a protocol req.proto returns, did you mean 'tls'?");
	cond_bad("if { req.proto SSH }", "did you mean 'ssh'?");
	cond_bad("if { req.proto smtp }", "did you mean 'smtp-client'?");
	assert_int_equal(cond("if { req.proto -m beg smtp }"), 0); /* other methods: free text */
	assert_int_equal(cond("if { req.proto,upper SILENT }"), 1);
	cond_bad("if { req.ssl_ver 3.x }", "'3.x' is not an SSL version");
}

static void test_vars_captures(void **state)
{
	struct sample s = { .type = SMP_T_STR, .u.str = { "hello world", 11 } };
	char *err = NULL;

	assert_int_equal(smp_store_capture(store, 0, &s, 5), 0);
	expect_val("capture.req.hdr(0)", "hello");
	expect_val("capture.req.hdr(1)", "<none>");
	assert_int_equal(smp_store_set_var(store, "txn.x", &s), 0);
	expect_val("var(txn.x)", "hello world");
	expect_val("var(txn.x),upper", "HELLO WORLD");
	expect_val("var(txn.y)", "<none>");
	smp_store_unset_var(store, "txn.x");
	expect_val("var(txn.x)", "<none>");
	expect_parse_error("var(foo)", "must start with one of");
	expect_parse_error("var(proc.x)", "'proc' scope is not supported");
	expect_parse_error("var(txn.a b)", "not allowed");
	assert_int_equal(smp_var_name_check("sess.ok_1", &err), 0);
}

/* ---- converters ------------------------------------------------------------------------- */

static void test_converters(void **state)
{
	static const struct val_row payload[] = {
		{ "req.payload(0,3),lower", "abc" },
		{ "req.payload(0,3),upper", "ABC" },
		{ "req.payload(0,5),hex", "4162430" "1FF" },
		{ "req.payload(0,0),bytes(1,2)", "bC" },
		{ "req.payload(0,0),bytes(3)", "\x01\xff" },
		{ "req.payload(0,0),bytes(9)", "<none>" },
		{ "req.payload(0,0),bytes(1,9)", "<none>" },
		{ "req.payload(0,0),length", "5" },
		{ "src,ipmask(24)", "10.1.2.0" },
		{ "src,ipmask(255.255.0.0)", "10.1.0.0" },
	};

	set_req("AbC\x01\xff", 5, true);
	EXPECT_VALS(payload);
	set_addr(&src, "fd00:1:2:3::9", 1);
	expect_val("src,ipmask(24,48)", "fd00:1:2::");
	expect_val("src,ipmask(24)", "<none>");
	set_addr(&src, "10.1.2.3", 40000);
	expect_val("str(a:b::c),field(2,:)", "b");
	expect_val("str(a:b::c),field(3,:)", "");
	expect_val("str(a:b::c),field(-1,:)", "c");
	expect_val("str(a:b::c),field(1,:,2)", "a:b");
	expect_val("str(a:b::c),field(9,:)", "<none>");
	expect_val("str(/a//b/c),word(2,/)", "b");
	expect_val("str(/a//b/c),word(-1,/)", "c");
	expect_val("str(/a//b/c),word(1,/,2)", "a//b");
	expect_val("str(aXbXXc),regsub(X+,-,g)", "a-b-c");
	expect_val("str(aXbXXc),regsub(X+,-)", "a-bXXc");
	expect_val("str(user@host),regsub(^(.*)@(.*)$,\\2/\\1)", "host/user");
	expect_val("str(ABC),regsub(b,_,i)", "A_C");
	expect_val("str(ABC),regsub(b,_)", "ABC");
	expect_val("str(x),regsub(\"y,z\",w)", "x");
	set_req("a\"b\\c\n\x01\xc3\xa9", 9, true);
	expect_val("req.payload(0,0),json", "a\\\"b\\\\c\\n\\u0001\\u00c3\\u00a9");
	expect_val("req.payload(0,0),json(utf8)", "a\\\"b\\\\c\\n\\u0001\xc3\xa9");
	expect_val("src,lower", "10.1.2.3");  /* address cast to text */
	expect_val("dst_port,hex", "3232"); /* "22" */
	/* bad ones */
	expect_parse_error("src,nosuch", "unknown converter 'nosuch'");
	expect_parse_error("src,lowr", "did you mean 'lower'");
	expect_parse_error("src,bytes", "expects 1 argument");
	expect_parse_error("src,bytes(-1)", "must not be negative");
	expect_parse_error("src,bytes(x)", "'x' is not an integer");
	expect_parse_error("src,ipmask(33)", "not an IPv4 mask");
	expect_parse_error("src,ipmask(24,129)", "not an IPv6 mask");
	expect_parse_error("src,regsub(a[,x)", "failed to compile");
	expect_parse_error("src,regsub((,x)", "missing closing ')'");
	expect_parse_error("src,regsub(a,b,z)", "flag 'z' is not supported");
	expect_parse_error("src,json(latin1)", "unknown input code");
	expect_parse_error("src,field(1)", "missing arguments");
	expect_parse_error("src,map_int(/nonexistent)", "cannot be applied");
	expect_parse_error("src,lower(1)", "too many arguments");
}

/* ---- maps --------------------------------------------------------------------------------- */

static void test_maps(void **state)
{
	const char *ipmap = tmpfile_with("ip.map", "# decoys\n192.0.2.10 be_a\n192.0.2.0/25   be_b\n"
					 "10.0.0.0/8 be_c\n\n2001:db8::/32 be_v6\n192.0.2.10 be_dup\n");
	const char *strmap = tmpfile_with("str.map", "Admin   1\nroot 2\nguest 3 with spaces  \n");
	const char *intmap = tmpfile_with("int.map", "22 ssh\n80:89 web\n1000: high\n");
	char e[512];

	snprintf(e, sizeof(e), "dst,map_ip(%s)", ipmap);
	expect_val(e, "be_a");                  /* exact wins over /25; first of duplicates */
	set_addr(&dst, "192.0.2.99", 22);
	expect_val(e, "be_b");
	set_addr(&dst, "192.0.2.200", 22);
	expect_val(e, "<none>");
	snprintf(e, sizeof(e), "dst,map_ip(%s,fallback)", ipmap);
	expect_val(e, "fallback");
	set_addr(&dst, "2001:db8::5", 22);
	expect_val(e, "be_v6");
	set_addr(&dst, "::ffff:10.9.9.9", 22);
	expect_val(e, "be_c");                  /* v4-mapped finds the IPv4 entry */
	set_addr(&dst, "192.0.2.10", 22);
	snprintf(e, sizeof(e), "str(admin),map(%s,none)", strmap);
	expect_val(e, "none");                  /* map_str is case-sensitive */
	snprintf(e, sizeof(e), "str(Admin),map_str(%s)", strmap);
	expect_val(e, "1");
	snprintf(e, sizeof(e), "str(guest),map_str(%s)", strmap);
	expect_val(e, "3 with spaces");
	snprintf(e, sizeof(e), "str(rootkit),map_beg(%s)", strmap);
	expect_val(e, "2");
	snprintf(e, sizeof(e), "str(xxrooxx),map_sub(%s,0)", strmap);
	expect_val(e, "0");
	snprintf(e, sizeof(e), "str(myroot),map_end(%s,0)", strmap);
	expect_val(e, "2");
	snprintf(e, sizeof(e), "dst_port,map_int(%s)", intmap);
	expect_val(e, "ssh");
	snprintf(e, sizeof(e), "int(85),map_int(%s)", intmap);
	expect_val(e, "web");
	snprintf(e, sizeof(e), "int(5000),map_int(%s)", intmap);
	expect_val(e, "high");
	snprintf(e, sizeof(e), "int(90),map_int(%s,none)", intmap);
	expect_val(e, "none");
	/* bad maps */
	snprintf(e, sizeof(e), "str(guest),map_str_int(%s)", strmap);
	expect_parse_error(e, "line 3: '3 with spaces' is not an integer value");
	snprintf(e, sizeof(e), "dst,map_ip(%s)", strmap);
	expect_parse_error(e, "line 1: 'Admin' is not an IPv4 or IPv6 address");
	snprintf(e, sizeof(e), "str(x),map_str_ip(%s)", strmap);
	expect_parse_error(e, "is not an IP address value");
	snprintf(e, sizeof(e), "str(x),map_str_int(%s,abc)", tmpfile_with("n.map", "a 1\n"));
	expect_parse_error(e, "default value 'abc' is not an integer");
	expect_parse_error("str(x),map(/nonexistent/file)", "failed to open pattern file '/nonexistent/file'");
	expect_parse_error("str(x),map", "expects 1 argument");
	expect_parse_error("str(x),map(/)", "is a directory, not a regular file");
	/* a FIFO is refused at once: opening it must not wait for a writer
	 * (the alarm ends the test if it does) */
	snprintf(e, sizeof(e), "%s/fifo.map", tmpdir);
	assert_int_equal(mkfifo(e, 0600), 0);
	{
		char x[300];

		snprintf(x, sizeof(x), "str(x),map(%s)", e);
		alarm(20);
		expect_parse_error(x, "fifo.map' is a FIFO, not a regular file");
		alarm(0);
	}
}

static void test_map_runtime(void **state)
{
	const char *ipmap = tmpfile_with("rt.map", "192.0.2.0/24 be_a\n");
	struct smp_pctx pc = pctx();
	struct smp_expr *x;
	struct pat_ref *r;
	char e[256], *err = NULL, out[64];
	struct sample smp;

	snprintf(e, sizeof(e), "dst,map_ip(%s,def)", ipmap);
	assert_int_equal(smp_expr_parse(e, NULL, NULL, &pc, &x, &err), 0);
	r = pat_ref_find(pat_refs_of(conf, false), ipmap, true);
	assert_non_null(r);
	assert_int_equal(r->n, 1);
#define VAL() (smp_expr_eval(x, &ss, &smp) ? (smp_to_text(&smp, out, sizeof(out)), out) : "<none>")
	assert_string_equal(VAL(), "be_a");
	assert_int_equal(pat_ref_add(r, "192.0.2.10", "be_b", &err), 0);
	assert_string_equal(VAL(), "be_b");
	assert_int_equal(pat_ref_set(r, "192.0.2.10", "be_c", &err), 1);
	assert_string_equal(VAL(), "be_c");
	assert_int_equal(pat_ref_set(r, "10.0.0.1", "be_c", &err), 0);
	assert_int_equal(pat_ref_del(r, "192.0.2.10"), 1);
	assert_string_equal(VAL(), "be_a");
	assert_int_equal(pat_ref_del(r, "192.0.2.10"), 0);
	assert_int_equal(pat_ref_add(r, "bad-key", "x", &err), -1);
	assert_non_null(strstr(err, "not an IPv4 or IPv6 address"));
	free(err);
	err = NULL;
	assert_int_equal(r->n, 1);
	pat_ref_clear(r);
	assert_string_equal(VAL(), "def");
	assert_int_equal(pat_ref_add(r, "0.0.0.0/0", "all", &err), 0);
	assert_string_equal(VAL(), "all");
	assert_ptr_equal(pat_ref_find(pat_refs_of(conf, false), "#999", true), NULL);
	assert_ptr_equal(pat_ref_find(pat_refs_of(conf, false), ipmap, false), NULL);
	smp_expr_free(x);
}

/* A large map: longest prefix first, in constant time per length. */
static void test_map_large(void **state)
{
	char *path, e[256];
	FILE *f;

	path = strdup(tmpfile_with("big.map", ""));
	f = fopen(path, "w");
	assert_non_null(f);
	for (int i = 0; i < 100000; i++)
		fprintf(f, "10.%d.%d.%d be%d\n", i >> 16, (i >> 8) & 255, i & 255, i);
	fprintf(f, "10.0.0.0/16 net16\n0.0.0.0/0 any\n");
	fclose(f);
	snprintf(e, sizeof(e), "dst,map_ip(%s)", path);
	set_addr(&dst, "10.1.134.159", 1);      /* 99999 */
	expect_val(e, "be99999");
	set_addr(&dst, "10.0.0.7", 1);
	expect_val(e, "be7");
	set_addr(&dst, "10.2.0.1", 1);
	expect_val(e, "any");
	set_addr(&dst, "192.0.2.10", 22);
	free(path);
}

/* ---- ACLs, match methods, conditions ------------------------------------------------------ */

static struct acl_list acls;

/* Tokenizes line and parses it as an `acl` line into acls. */
static int acl_try(const char *line, char **err)
{
	char buf[1024], *argv[64];
	int argc;
	struct smp_pctx pc = pctx();

	argc = cfg_tokenize(line, argv, 64, buf, sizeof(buf), err);
	assert_true(argc > 0);
	return acl_parse_line(&acls, argc, argv, &pc, err);
}

static void acl_ok(const char *line)
{
	char *err = NULL;

	if (acl_try(line, &err) < 0)
		fail_msg("'%s': %s", line, err);
}

static void acl_bad(const char *line, const char *needle)
{
	char *err = NULL;

	if (acl_try(line, &err) == 0)
		fail_msg("'%s' was accepted, expected '%s'", line, needle);
	if (!strstr(err, needle))
		fail_msg("'%s': error '%s' lacks '%s'", line, err, needle);
	free(err);
}

/* Condition verdict: 1, 0 or -1 (wait). */
static int cond(const char *text)
{
	char buf[1024], *argv[64], *err = NULL;
	int argc, r;
	struct smp_pctx pc = pctx();
	struct acl_cond *c;

	argc = cfg_tokenize(text, argv, 64, buf, sizeof(buf), &err);
	assert_true(argc > 0);
	if (acl_cond_parse(&acls, argc, argv, &pc, &c, &err) < 0)
		fail_msg("'%s': %s", text, err);
	r = acl_cond_eval(c, &ss);
	acl_cond_free(c);
	return r;
}

static void cond_bad(const char *text, const char *needle)
{
	char buf[1024], *argv[64], *err = NULL;
	int argc;
	struct smp_pctx pc = pctx();
	struct acl_cond *c = NULL;

	argc = cfg_tokenize(text, argv, 64, buf, sizeof(buf), &err);
	assert_true(argc > 0);
	if (acl_cond_parse(&acls, argc, argv, &pc, &c, &err) == 0) {
		acl_cond_free(c);
		fail_msg("'%s' was accepted, expected '%s'", text, needle);
	}
	if (!strstr(err, needle))
		fail_msg("'%s': error '%s' lacks '%s'", text, err, needle);
	free(err);
}

static void test_match_methods(void **state)
{
	const char *lst = tmpfile_with("deny.lst", "# bad ones\n 203.0.113.0/24 \n10.1.2.3\n\n");
	char line[256];

	set_req("SSH-2.0-OpenSSH_9.2 Debian\r\n", 28, true);
	acl_ok("acl f1 src -m found");
	acl_ok("acl b1 always_true");
	acl_ok("acl b0 always_false -m bool");
	acl_ok("acl i1 dst_port 22");
	acl_ok("acl i2 dst_port 20:30");
	acl_ok("acl i3 dst_port gt 21");
	acl_ok("acl i4 dst_port lt 22");
	acl_ok("acl i5 dst_port ge 22 le 10");
	acl_ok("acl i6 dst_port 1000: :10");
	acl_ok("acl ip1 src 10.0.0.0/8");
	acl_ok("acl ip2 src 10.1.2.3");
	acl_ok("acl ip3 src 10.1.2.0/255.255.255.0");
	acl_ok("acl ip4 src 192.168.0.0/16 fd00::/8");
	snprintf(line, sizeof(line), "acl ipf src -f %s", lst);
	acl_ok(line);
	acl_ok("acl bin1 req.payload(0,4) -m bin 5353482d");
	acl_ok("acl bin2 req.payload(0,4) 5353482e");
	acl_ok("acl len1 req.payload(0,0) -m len ge 28");
	acl_ok("acl len2 req.payload(0,0) -m len 1:4");
	acl_ok("acl str1 req.payload(0,4) -m str SSH-");
	acl_ok("acl str2 req.payload(0,4) -m str ssh-");
	acl_ok("acl str3 req.payload(0,4) -i -m str ssh-");
	acl_ok("acl sub1 req.payload(0,0) -m sub OpenSSH");
	acl_ok("acl reg1 req.payload(0,0) -m reg ^SSH-[0-9.]+-Open");
	acl_ok("acl reg2 req.payload(0,0) -m reg -i debian");
	acl_ok("acl reg3 req.payload(0,0) -m reg ^debian");
	acl_ok("acl beg1 req.payload(0,0) -m beg SSH-2.0 HTTP");
	acl_ok("acl end1 req.payload(0,0) -m end Debian\\r\\n");
	acl_ok("acl end2 req.payload(0,0) -m end Debian");
	acl_ok("acl dir1 str(/usr/local/bin?x) -m dir local");
	acl_ok("acl dir2 str(/usr/local/bin) -m dir loc");
	acl_ok("acl dom1 str(www.decoy.example) -m dom decoy");
	acl_ok("acl dom2 str(www.decoy.example) -m dom coy");
	acl_ok("acl neg1 int(-5) -- -5");
	acl_ok("acl multi src 192.0.2.1");
	acl_ok("acl multi dst_port 22");
	const char *pass[] = { "f1", "b1", "i1", "i2", "i3", "i5", "ip1", "ip2", "ip3", "ipf", "bin1", "len1", "str1",
			       "str3", "sub1", "reg1", "reg2", "beg1", "end1", "dir1", "dom1", "neg1", "multi", NULL };
	const char *failv[] = { "b0", "i4", "i6", "ip4", "bin2", "len2", "str2", "reg3", "end2", "dir2", "dom2", NULL };

	for (int i = 0; pass[i]; i++) {
		snprintf(line, sizeof(line), "if %s", pass[i]);
		if (cond(line) != 1)
			fail_msg("acl %s should match", pass[i]);
	}
	for (int i = 0; failv[i]; i++) {
		snprintf(line, sizeof(line), "if %s", failv[i]);
		if (cond(line) != 0)
			fail_msg("acl %s should not match", failv[i]);
	}
	/* IPv6 and v4-mapped */
	set_addr(&src, "fd00::5", 1);
	assert_int_equal(cond("if ip4"), 1);
	assert_int_equal(cond("if ip1"), 0);
	set_addr(&src, "::ffff:10.9.8.7", 1);
	assert_int_equal(cond("if ip1"), 1);
	set_addr(&src, "10.1.2.3", 40000);
	/* bad patterns and flags */
	acl_bad("acl x dst_port abc", "'abc' is not a number or a range");
	acl_bad("acl x dst_port 30:20", "not a number or a range");
	acl_bad("acl x dst_port gt", "'gt' expects a value");
	acl_bad("acl x src host.example", "not an IPv4 or IPv6 address");
	acl_bad("acl x src 10.0.0.0/33", "not an IPv4 or IPv6 address");
	acl_bad("acl x src 10.0.0.0/255.0.255.0", "not an IPv4 or IPv6 address");
	acl_bad("acl x req.payload(0,1) -m bin 5", "even number of hexadecimal digits");
	acl_bad("acl x req.payload(0,1) -m bin zz", "even number of hexadecimal digits");
	acl_bad("acl x req.payload(0,1) -m reg (", "failed to compile");
	acl_bad("acl x src -m nosuch 1", "unknown matching method 'nosuch'");
	acl_bad("acl x src -m found 1.2.3.4", "takes no pattern");
	acl_bad("acl x src -x 1.2.3.4", "'-x' is not a valid ACL option");
	acl_bad("acl x src -f", "'-f' expects an argument");
	acl_bad("acl x src -f /nonexistent.lst", "failed to open pattern file");
	acl_bad("acl x src -u 1 1.2.3.4", "'-u'");
	acl_bad("acl x srcc 1.2.3.4", "did you mean 'src'");
	acl_bad("acl TRUE src 1.2.3.4", "reserved for a predefined ACL");
	acl_bad("acl b@d src 1.2.3.4", "character '@' is not permitted");
	acl_bad("acl x", "expects a name and a fetch method");
	acl_list_free(&acls);
}

static void test_conditions(void **state)
{
	set_req("SSH-2.0-x\r\n", 11, true);
	acl_ok("acl yes always_true");
	acl_ok("acl no always_false");
	acl_ok("acl ssh req.payload(0,4) -m str SSH-");
	assert_int_equal(cond("if yes"), 1);
	assert_int_equal(cond("unless yes"), 0);
	assert_int_equal(cond("if yes no"), 0);             /* AND */
	assert_int_equal(cond("if yes !no"), 1);
	assert_int_equal(cond("if ! no"), 1);
	assert_int_equal(cond("if no || yes"), 1);         /* OR */
	assert_int_equal(cond("if no or no"), 0);
	assert_int_equal(cond("if no || yes no"), 0);
	assert_int_equal(cond("if { src 10.1.2.0/24 } ssh"), 1);
	assert_int_equal(cond("if { dst_port 80 } || !{ dst_port 80 }"), 1);
	assert_int_equal(cond("if TRUE"), 1);
	assert_int_equal(cond("if FALSE"), 0);
	assert_int_equal(cond("if REQ_CONTENT"), 1);
	assert_int_equal(cond("if !HTTP"), 1);
	assert_int_equal(cond("if WAIT_END"), 1);
	assert_int_equal(cond("if RDP_COOKIE"), 0);
	assert_int_equal(cond("if LOCALHOST"), 0);
	/* three-valued: waiting for more data */
	set_req("SS", 2, false);
	assert_int_equal(cond("if ssh"), -1);
	assert_int_equal(cond("unless ssh"), -1);
	assert_int_equal(cond("if ssh || yes"), 1);         /* decided anyway */
	assert_int_equal(cond("if ssh no"), 0);
	assert_int_equal(cond("if WAIT_END"), -1);
	assert_int_equal(cond("if { req.len gt 5 }"), -1);
	ss.final = true;
	assert_int_equal(cond("if ssh"), 0);               /* final: a miss is a failure */
	assert_int_equal(cond("unless ssh"), 1);
	assert_int_equal(cond("if { req.len gt 5 }"), 0);
	/* errors */
	cond_bad("if ssj", "no such ACL : 'ssj', did you mean 'ssh' ?");
	cond_bad("if HTTP_1.1", "needs HTTP mode");
	cond_bad("if", "missing condition after 'if'");
	cond_bad("if yes ||", "missing ACL at the end");
	cond_bad("if || yes", "missing ACL before '||'");
	cond_bad("if yes !", "missing ACL at the end");
	cond_bad("if { src 1.2.3.4", "missing '}'");
	cond_bad("if { }", "empty anonymous ACL");
	cond_bad("if { nosuch 1 }", "unknown fetch method 'nosuch'");
	acl_list_free(&acls);
}

/* A pattern built to backtrack exponentially ends at the match limit. */
static void test_regex_limits(void **state)
{
	char *err = NULL;
	struct rx *r = rx_compile("^(a+)+$", false, &err);
	char s[64];
	unsigned long long hits = rx_limit_hits;

	assert_non_null(r);
	memset(s, 'a', 40);
	s[40] = 'b';
	assert_int_equal(rx_exec(r, s, 41, NULL, 0), 0);
	assert_true(rx_limit_hits > hits);
	assert_int_equal(rx_exec(r, "aaaa", 4, NULL, 0), 1);
	rx_free(r);
	assert_null(rx_compile("a{2,1}", false, &err));
	assert_non_null(strstr(err, "failed to compile"));
	free(err);
}

/* ---- keywords in configuration files --------------------------------------------------------- */

/* An empty map at a fixed path the configurations below name. */
static void empty_map(bool make)
{
	if (make) {
		FILE *f = fopen("/tmp/test_rules.empty.map", "w");

		assert_non_null(f);
		fclose(f);
	} else {
		unlink("/tmp/test_rules.empty.map");
	}
}

static int parse_cfg(const char *extra, struct dp_config **out)
{
	struct dp_config *c = dp_config_new();
	char *buf = NULL;
	int errors;

	memprintf(&buf, "%s%s", BASE_CFG, extra);
	msgs[0] = '\0';
	errors = cfg_parse_buffer(c, "k.cfg", buf);
	if (!errors)
		errors = modules_finalize(c);
	free(buf);
	if (out && !errors)
		*out = c;
	else
		dp_config_put(c);
	return errors;
}

static void cfg_bad(const char *extra, const char *needle)
{
	int e = parse_cfg(extra, NULL);

	if (!e || !strstr(msgs, needle))
		fail_msg("expected an error with '%s', got %d:\n%s", needle, e, msgs);
}

static void cfg_good(const char *extra)
{
	int e = parse_cfg(extra, NULL);

	if (e || strstr(msgs, "ALERT"))
		fail_msg("expected no error, got %d:\n%s", e, msgs);
}

static void test_keywords(void **state)
{
	empty_map(true);
	cfg_good("frontend f2\n  bind 127.0.0.1:2\n  acl a src 10.0.0.0/8\n  acl a src 11.0.0.0/8\n"
		 "  tcp-request connection accept if a\n  tcp-request connection expect-proxy layer4 if !a\n"
		 "  tcp-request connection set-src ipv4(1.2.3.4)\n  tcp-request connection set-dst-port int(80)\n"
		 "  tcp-request connection silent-drop if { src 203.0.113.1 }\n  tcp-request connection set-var(sess.x) src\n"
		 "  tcp-request inspect-delay 2s\n  tcp-request content capture req.payload(0,4) len 4\n"
		 "  tcp-request content reject if { req.len gt 1000 }\n  tcp-request content set-dst ipv4(10.0.0.9)\n"
		 "  tcp-request content unset-var(sess.x)\n  tcp-request content accept if WAIT_END\n"
		 "  use_backend be2 if a\n  use_backend %[dst_port,map_int(/tmp/test_rules.empty.map,be)]\n  default_backend be\n"
		 "backend b3\n  server s 10.0.0.1:1\n  server t 10.0.0.2:1\n  use-server t if { src 10.0.0.0/8 }\n"
		 "  use-server s\n  tcp-request content accept\n");
	cfg_bad("frontend f2\n  tcp-request connection capture req.len len 4\n",
		"fetch method 'req.len' extracts information from the request contents, none of which is available here");
	cfg_bad("frontend f2\n  tcp-request content expect-proxy layer4\n", "only allowed in 'tcp-request connection'");
	cfg_bad("frontend f2\n  tcp-request connection expect-proxy layer5\n", "only supports 'layer4'");
	/* stick counters: tests/unit/test_stktable.c; what is still refused */
	cfg_bad("frontend f2\n  tcp-request content sc-inc-gpc1(0)\n", "'tcp-request content sc-inc-gpc1(0)' is not supported by decoyproxy yet");
	cfg_bad("frontend f2\n  tcp-request content sc-add-gpc(0,0) 1\n", "is not supported by decoyproxy yet");
	cfg_bad("frontend f2\n  tcp-request content bogus\n", "expects 'accept', 'reject'");
	cfg_bad("frontend f2\n  tcp-request content accept junk\n", "takes no argument, found 'junk'");
	cfg_bad("frontend f2\n  tcp-request content capture src\n", "expects '<sample> len <length>'");
	cfg_bad("frontend f2\n  tcp-request content capture src len 0\n", "length '0' must be an integer from 1");
	cfg_bad("frontend f2\n  tcp-request content set-var(proc.x) src\n", "'proc' scope is not supported");
	cfg_bad("frontend f2\n  tcp-request content set-var(txn.x)\n", "expects one sample expression");
	cfg_good("frontend f2\n  bind 127.0.0.1:2\n  tcp-request session accept if { fc_rcvd_proxy }\n"
		 "  tcp-request session set-var(sess.pp) src\n  tcp-request session set-dst ipv4(10.0.0.9)\n"
		 "  tcp-request session set-dst-port int(22)\n  tcp-request session unset-var(sess.pp)\n"
		 "  tcp-request session silent-drop if { src 203.0.113.1 }\n  tcp-request session reject\n  default_backend be\n");
	cfg_bad("frontend f2\n  tcp-request session capture src len 4\n",
		"'capture src' is not allowed in 'tcp-request session' rules");
	cfg_bad("frontend f2\n  tcp-request session expect-proxy layer4\n",
		"'expect-proxy layer4' is not allowed in 'tcp-request session' rules");
	cfg_bad("frontend f2\n  tcp-request session track-sc0 src\n", "'tcp-request session track-sc0' is not supported by decoyproxy yet");
	cfg_bad("frontend f2\n  tcp-request session bogus\n", "'tcp-request session' expects 'accept', 'reject', 'silent-drop', 'set-var(<name>)'");
	cfg_bad("frontend f2\n  tcp-request session set-var(sess.x) req.len\n",
		"fetch method 'req.len' extracts information from the request contents, none of which is available here");
	cfg_bad("backend b3\n  tcp-request session accept\n", "is not allowed in 'backend' sections");
	cfg_bad("frontend f2\n  tcp-request bogus\n", "expects 'inspect-delay', 'connection', 'session' or 'content'");
	cfg_bad("frontend f2\n  tcp-request inspect-delay 2q\n", "expects a positive delay");
	cfg_bad("frontend f2\n  tcp-request inspect-delay 2s\n  tcp-request inspect-delay 3s\n", "already set");
	cfg_bad("backend b3\n  tcp-request connection accept\n", "is not allowed in 'backend' sections");
	cfg_bad("backend b3\n  tcp-request content capture src len 4\n", "in a backend section is not supported");
	cfg_bad("defaults\n  tcp-request inspect-delay 1s\n", "tcp-request inspect-delay is not allowed in anonymous 'defaults' sections");
	cfg_bad("defaults\n  tcp-request connection reject\n", "tcp-request connection is not allowed in anonymous 'defaults' sections");
	cfg_bad("defaults\n  acl a src 1.2.3.4\n", "'acl' not allowed in anonymous 'defaults' section.");
	cfg_bad("defaults d\n  tcp-request content capture src len 4\n", "in a 'defaults' section is not supported by decoyproxy yet");
	cfg_bad("frontend f2\n  use_backend nosuch\n", "[k.cfg:15] : Proxy 'f2': unable to find required use_backend: 'nosuch'.");
	cfg_bad("frontend f2\n  use_backend be junk\n", "expects 'if' or 'unless'");
	cfg_bad("frontend f2\n  use_backend be if nosuch\n", "no such ACL : 'nosuch'");
	cfg_bad("frontend f2\n  use_backend %[nosuch]\n", "unknown fetch method 'nosuch'");
	cfg_bad("frontend f2\n  use_backend %[src\n", "missing ']'");
	cfg_bad("frontend f2\n  use_backend be_%ci\n", "only '%[<expr>]' sample expressions");
	cfg_bad("backend b3\n  server s 10.0.0.1:1\n  use-server zz if TRUE\n",
		"unable to find server 'zz' referenced in a 'use-server' rule");
	cfg_bad("backend b3\n  use_backend be\n", "'use_backend' is not allowed in 'backend' section");
	cfg_bad("frontend f2\n  acl a src 1.2.3.4\n  tcp-request content accept if a b\n", "no such ACL : 'b'");
	/* a warning, not an error: content rules on request bytes without a delay */
	assert_int_equal(parse_cfg("frontend f2\n  tcp-request content accept if { req.len gt 0 }\n", NULL), 0);
	assert_non_null(strstr(msgs, "without any 'tcp-request inspect-delay'"));
	assert_int_equal(parse_cfg("frontend f2\n  tcp-request connection accept if { req.len gt 0 }\n", NULL), 0);
	assert_non_null(strstr(msgs, "will never match in 'tcp-request connection' rules"));
	empty_map(false);
}

/* ---- proto-patterns: req.proto extended by regexes from a file ---- */

static void test_proto_patterns(void **state)
{
	const char *pf = tmpfile_with("protos.pat", "# custom protocols\n\n"
				      "myproto ^HELLO-MY[0-9]+\\r?\\n\n"
				      "  knock\t^\\x00\\x01knock  \n"
				      "http-alt ^(?i)get /secret\n");
	const char *bad = tmpfile_with("bad.pat", "ok ^x\n# comment\nbroken ^(unclosed\n");
	const char *badname = tmpfile_with("badname.pat", "My-Proto ^x\n");
	const char *noregex = tmpfile_with("noregex.pat", "lonely\n");
	const char *verdict = tmpfile_with("verdict.pat", "silent ^x\n");
	struct dp_config *c = NULL, *saved = ss.conf;
	char *cfg = NULL;

	memprintf(&cfg, "global\n  proto-patterns %s\nfrontend f2\n  bind 127.0.0.1:4\n  tcp-request inspect-delay 1s\n"
		  "  tcp-request content accept if { req.proto myproto }\n  default_backend be\n", pf);
	assert_int_equal(parse_cfg(cfg, &c), 0);
	ss.conf = c;
	set_req("HELLO-MY42\r\n", 12, false);
	expect_val("req.proto", "myproto");
	set_req("HELLO-MY4", 9, false); /* may still match: wait */
	expect_val("req.proto", "<more>");
	ss.final = true;
	expect_val("req.proto", "unknown");
	set_req("\x00\x01knock", 7, false);
	expect_val("req.proto", "knock");
	/* a pattern wins over the built-in probe (HTTP here) */
	set_req("GET /secret HTTP/1.0\r\n\r\n", 24, false);
	expect_val("req.proto", "http-alt");
	set_req("GET / HTTP/1.0\r\n\r\n", 18, false);
	expect_val("req.proto", "http");
	/* the built-in probes still answer */
	set_req("SSH-2.0-OpenSSH_9.2\r\n", 21, false);
	expect_val("req.proto", "ssh");
	set_req("zzzz", 4, false);
	expect_val("req.proto", "unknown");
	set_req(NULL, 0, true);
	expect_val("req.proto", "silent");
	ss.conf = saved;
	dp_config_put(c);
	/* errors name the pattern file and its line, after the config's file:line */
	memprintf(&cfg, "global\n  proto-patterns %s\n", bad);
	cfg_bad(cfg, "protocol pattern file '");
	cfg_bad(cfg, "bad.pat' line 3: regex '^(unclosed' failed to compile at offset 10");
	cfg_bad(cfg, "k.cfg:15]");
	memprintf(&cfg, "global\n  proto-patterns %s\n", badname);
	cfg_bad(cfg, "badname.pat' line 1: protocol name 'My-Proto' may only hold lower-case letters");
	memprintf(&cfg, "global\n  proto-patterns %s\n", noregex);
	cfg_bad(cfg, "noregex.pat' line 1: 'lonely' expects a regex after the protocol name");
	memprintf(&cfg, "global\n  proto-patterns %s\n", verdict);
	cfg_bad(cfg, "'silent' is a verdict of req.proto");
	cfg_bad("global\n  proto-patterns /nonexistent/x.pat\n", "failed to open protocol pattern file '/nonexistent/x.pat'");
	/* a FIFO: refused without waiting for a writer */
	{
		char fifo[128];

		snprintf(fifo, sizeof(fifo), "%s/fifo.pat", tmpdir);
		assert_int_equal(mkfifo(fifo, 0600), 0);
		memprintf(&cfg, "global\n  proto-patterns %s\n", fifo);
		alarm(20);
		cfg_bad(cfg, "fifo.pat' is a FIFO, not a regular file");
		alarm(0);
	}
	cfg_bad("global\n  proto-patterns\n", "'proto-patterns' expects <file>");
	/* a name no file defines is still refused */
	cfg_bad("frontend f2\n  tcp-request content accept if { req.proto myproto }\n",
		"'myproto' is not a protocol req.proto returns");
	free(cfg);
}

/* ---- tcp-request rules in named defaults sections ---- */

/* v: a final session from ip:5 to 192.0.2.1:22 on px (frontend and
 * backend) of c, with the test's variable store. */
static void sess_on(struct smp_sess *v, struct sockaddr_storage *s, const char *ip,
		    struct sockaddr_storage *d, struct proxy *px, struct dp_config *c)
{
	set_addr(s, ip, 5);
	set_addr(d, "192.0.2.1", 22);
	memset(v, 0, sizeof(*v));
	v->src = s;
	v->dst = d;
	v->fe = v->be = px;
	v->conf = c;
	v->store = store;
	v->final = true;
}

static void test_defaults_rules(void **state)
{
	struct dp_config *c = NULL;
	struct proxy *f, *g;
	struct smp_sess v;
	struct sockaddr_storage s2, d2;
	bool ep = false;

	assert_int_equal(parse_cfg("defaults rules\n  mode tcp\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\n"
				   "  acl bad src 203.0.113.0/24\n  tcp-request connection reject if bad\n"
				   "  tcp-request session set-var(sess.d) str(from-defaults)\n"
				   "  tcp-request inspect-delay 2s\n  tcp-request content accept if { req.len gt 3 }\n"
				   "frontend f2\n  bind 127.0.0.1:3\n  tcp-request connection silent-drop if { src 203.0.114.0/24 }\n"
				   "  tcp-request session reject if { var(sess.d) -m str from-defaults } { src 10.9.9.9 }\n"
				   "  tcp-request content reject\n  default_backend be\n"
				   "frontend f3 from rules\n  bind 127.0.0.1:4\n  default_backend be\n", &c), 0);
	f = dp_config_find_proxy(c, "f2", PR_CAP_FE);
	g = dp_config_find_proxy(c, "f3", PR_CAP_FE);
	assert_non_null(f->rules);
	assert_non_null(f->rules->def);
	assert_ptr_equal(g->rules->def, f->rules->def);
	assert_int_equal(f->rules->inspect_delay, 2000); /* inherited */
	assert_true(rules_inspects(g->rules) && rules_has_conn(g->rules) && rules_has_session(g->rules));
	sess_on(&v, &s2, "203.0.113.7", &d2, f, c);
	/* the defaults' rule runs first, with the defaults' ACL */
	assert_int_equal(rules_tcp_connection(f->rules, &v, &ep), RV_REJECT);
	set_addr(&s2, "203.0.114.7", 5);
	assert_int_equal(rules_tcp_connection(f->rules, &v, &ep), RV_SILENT_DROP);
	set_addr(&s2, "10.9.9.9", 5);
	assert_int_equal(rules_tcp_connection(f->rules, &v, &ep), RV_CONTINUE);
	/* session: the defaults' set-var, then the frontend's rule reads it */
	assert_int_equal(rules_tcp_session(f->rules, &v), RV_REJECT);
	set_addr(&s2, "10.9.9.8", 5);
	assert_int_equal(rules_tcp_session(f->rules, &v), RV_CONTINUE);
	/* content: the defaults' accept ends the list before the frontend's reject */
	v.req = (const unsigned char *)"abcd";
	v.req_len = 4;
	assert_int_equal(rules_tcp_content(f->rules, &v), RV_ACCEPT);
	v.req_len = 2;
	assert_int_equal(rules_tcp_content(f->rules, &v), RV_REJECT);
	dp_config_put(c);

	/* HAProxy 2.6's restrictions, with its messages */
	cfg_bad("defaults r\n  tcp-request content accept\nfrontend f2\n  bind 127.0.0.1:3\n  default_backend b3\n"
		"backend b3\n  server s 10.0.0.1:1\n",
		"frontends and backends cannot inherit from the same defaults section if it defines TCP/HTTP rules (defaults section at k.cfg:");
	cfg_bad("defaults r\n  tcp-request connection accept\nbackend b3\n  server s 10.0.0.1:1\n",
		"a backend section cannot inherit from a defaults section defining 'tcp-request connection' or 'tcp-request session' rules");
	cfg_bad("defaults r\n  tcp-request content accept\nlisten l\n  bind 127.0.0.1:3\n  server s 10.0.0.1:1\n",
		"a listen section cannot inherit from a defaults section defining TCP/HTTP rules.");
	cfg_bad("defaults r\n  tcp-request content accept\ndefaults r2 from r\n",
		"a defaults section cannot inherit from a defaults section defining TCP/HTTP rules");
	/* backends only: fine; ACLs alone or a delay alone are no rules */
	cfg_good("defaults r\n  tcp-request content accept\nbackend b3\n  server s 10.0.0.1:1\n");
	cfg_good("defaults r\n  acl a src 1.2.3.4\n  tcp-request inspect-delay 1s\nfrontend f2\n  bind 127.0.0.1:3\n"
		 "  default_backend b3\nbackend b3\n  server s 10.0.0.1:1\n");
	/* a named defaults' ACL is its rules', not the proxies' (as HAProxy) */
	cfg_bad("defaults r\n  acl a src 1.2.3.4\nfrontend f2\n  bind 127.0.0.1:3\n  tcp-request connection reject if a\n",
		"no such ACL : 'a'");
}

/* ---- rule lists ------------------------------------------------------------------------------- */

static void test_rule_lists(void **state)
{
	struct dp_config *c = NULL;
	struct proxy *f, *be2;
	struct smp_sess v;
	struct sockaddr_storage s2, d2;
	bool ep = false;

	empty_map(true);
	assert_int_equal(parse_cfg("frontend f2\n  bind 127.0.0.1:3\n  acl a src 10.0.0.0/8\n"
				   "  tcp-request connection reject if { src 203.0.113.0/24 }\n"
				   "  tcp-request connection silent-drop if { src 203.0.114.0/24 }\n"
				   "  tcp-request connection expect-proxy layer4 if { src 10.9.0.0/16 }\n"
				   "  tcp-request connection set-dst ipv4(198.51.100.7)\n"
				   "  tcp-request connection set-dst-port int(2222) if a\n"
				   "  tcp-request inspect-delay 1s\n"
				   "  tcp-request content capture req.payload(0,3) len 2\n"
				   "  tcp-request content set-var(txn.l) req.len\n"
				   "  tcp-request content accept if { req.payload(0,4) -m str SSH- }\n"
				   "  tcp-request content reject if { req.len gt 10 }\n"
				   "  use_backend be2 if { var(txn.l) -m int 4 }\n"
				   "  use_backend %[dst_port,map_int(/tmp/test_rules.empty.map,be)]\n"
				   "  default_backend be\n", &c), 0);
	f = dp_config_find_proxy(c, "f2", PR_CAP_FE);
	be2 = dp_config_find_proxy(c, "be2", PR_CAP_BE);
	sess_on(&v, &s2, "10.9.1.1", &d2, f, c);
	assert_int_equal(rules_tcp_connection(f->rules, &v, &ep), RV_CONTINUE);
	assert_true(ep);
	assert_int_equal(addr_port(&d2), 2222);
	assert_string_equal(addr_ntop(&d2, (char[64]){ 0 }, 64), "198.51.100.7");
	set_addr(&s2, "203.0.113.5", 5);
	assert_int_equal(rules_tcp_connection(f->rules, &v, &ep), RV_REJECT);
	set_addr(&s2, "203.0.114.5", 5);
	assert_int_equal(rules_tcp_connection(f->rules, &v, &ep), RV_SILENT_DROP);
	/* content */
	v.final = false;
	v.req = (const unsigned char *)"SS";
	v.req_len = 2;
	assert_int_equal(rules_tcp_content(f->rules, &v), RV_WAIT);
	v.req = (const unsigned char *)"SSH-2.0";
	v.req_len = 7;
	assert_int_equal(rules_tcp_content(f->rules, &v), RV_ACCEPT);
	assert_string_equal(store->cap[0], "SS");
	v.req = (const unsigned char *)"hello world!";
	v.req_len = 12;
	assert_int_equal(rules_tcp_content(f->rules, &v), RV_REJECT);
	v.req = (const unsigned char *)"abcd";
	v.req_len = 4;
	v.final = true;
	assert_int_equal(rules_tcp_content(f->rules, &v), RV_CONTINUE);
	/* use_backend: var(txn.l) is 4 */
	assert_ptr_equal(rules_pick_backend(f->rules, &v), be2);
	v.req_len = 3;
	assert_int_equal(rules_tcp_content(f->rules, &v), RV_CONTINUE);
	/* the dynamic name: /dev/null is an empty map, "be" the default */
	assert_ptr_equal(rules_pick_backend(f->rules, &v), dp_config_find_proxy(c, "be", PR_CAP_BE));
	assert_null(rules_pick_server(f->rules, &v));
	dp_config_put(c);
	empty_map(false);
}

static void test_use_server(void **state)
{
	struct dp_config *c = NULL;
	struct proxy *b;
	struct smp_sess v;
	struct sockaddr_storage s2, d2;
	struct server *t;

	assert_int_equal(parse_cfg("backend b3\n  server s 10.0.0.1:1\n  server t 10.0.0.2:1\n"
				   "  use-server t if { src 10.0.0.0/8 }\n  use-server s if { src 10.0.0.0/8 }\n", &c), 0);
	b = dp_config_find_proxy(c, "b3", PR_CAP_BE);
	sess_on(&v, &s2, "10.9.1.1", &d2, b, c);
	v.store = NULL;
	t = rules_pick_server(b->rules, &v);
	assert_non_null(t);
	assert_string_equal(t->name, "t");
	/* a server in maintenance: the next rule */
	t->admin = SRV_ADMIN_MAINT;
	assert_string_equal(rules_pick_server(b->rules, &v)->name, "s");
	set_addr(&s2, "11.0.0.1", 5);
	assert_null(rules_pick_server(b->rules, &v));
	dp_config_put(c);
}

/* ---- log formats -------------------------------------------------------------------------------- */

static void test_log_format(void **state)
{
	struct lf_expr *e = NULL;
	struct log_sess ls;
	char *err = NULL, buf[512];
	const char *ipmap = tmpfile_with("log.map", "192.0.2.0/24 web-decoys\n");
	char fmt[256];

	snprintf(fmt, sizeof(fmt), "%%ci %%[dst,map_ip(%s,none)] %%[capture.req.hdr(0)] %%{+Q}[fe_name,upper] %%[srv_name]",
		 ipmap);
	cfg_cur_conf = conf;
	assert_int_equal(lf_compile(fmt, &e, &err), 0);
	cfg_cur_conf = NULL;
	memset(&ls, 0, sizeof(ls));
	ls.cli = src;
	smp_store_free(store);
	store = smp_store_new();
	ss.store = store;
	{
		struct sample s = { .type = SMP_T_STR, .u.str = { "a\nb", 3 } };

		smp_store_capture(store, 0, &s, 10);
	}
	ls.smp_ctx = &ss;
	lf_render(e, &ls, buf, sizeof(buf));
	assert_string_equal(buf, "10.1.2.3 web-decoys a#0Ab \"FE\" -");
	ls.smp_ctx = NULL;
	lf_render(e, &ls, buf, sizeof(buf));
	assert_string_equal(buf, "10.1.2.3 - - \"\" -");
	lf_free(e);
	/* %hr / %hrl: the frontend's capture slots, encoded as HAProxy */
	{
		struct dp_config *c = NULL;
		struct sample s0 = { .type = SMP_T_STR, .u.str = { "SSH-|x", 6 } };
		struct sample s2 = { .type = SMP_T_STR, .u.str = { "a\"b{", 4 } };
		struct smp_sess v = ss;
		static const struct { const char *fmt, *want; } fx[] = {
			{ "%ci %hr %ci", "10.1.2.3 {SSH-#7Cx||a#22b#7B} 10.1.2.3" },
			{ "%hrl", "SSH-#7Cx - a#22b#7B" },
			{ "%{+Q}hr", "\"{SSH-#7Cx||a#22b#7B}\"" },
			{ "%{+Q}hrl", "\"SSH-#7Cx\" \"\" \"a#22b#7B\"" },
		};

		assert_int_equal(parse_cfg("frontend f2\n  bind 127.0.0.1:3\n  tcp-request inspect-delay 1s\n"
					   "  tcp-request content capture req.payload(0,4) len 4\n"
					   "  tcp-request content capture src len 15\n"
					   "  tcp-request content capture req.len len 4\n  default_backend be\n", &c), 0);
		v.fe = dp_config_find_proxy(c, "f2", PR_CAP_FE);
		smp_store_free(store);
		store = smp_store_new();
		ss.store = v.store = store;
		smp_store_capture(store, 0, &s0, 10);
		smp_store_capture(store, 2, &s2, 10);
		ls.smp_ctx = &v;
		for (size_t i = 0; i < ARRAY_SIZE(fx); i++) {
			assert_int_equal(lf_compile(fx[i].fmt, &e, &err), 0);
			lf_render(e, &ls, buf, sizeof(buf));
			assert_string_equal(buf, fx[i].want);
			/* a frontend without capture slots: nothing, not even "-" */
			v.fe = ss.fe;
			lf_render(e, &ls, buf, sizeof(buf));
			assert_string_equal(buf, i ? "" : "10.1.2.3 10.1.2.3");
			v.fe = dp_config_find_proxy(c, "f2", PR_CAP_FE);
			lf_free(e);
		}
		ls.smp_ctx = NULL;
		dp_config_put(c);
	}
	assert_int_equal(lf_compile("%[nosuch]", &e, &err), -EINVAL);
	assert_non_null(strstr(err, "unknown fetch method 'nosuch'"));
	assert_int_equal(lf_compile("%[src", &e, &err), -EINVAL);
	assert_non_null(strstr(err, "missing ']'"));
	assert_int_equal(lf_compile("%[str(a]b)]", &e, &err), 0);
	lf_free(e);
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fetch_l4),
		cmocka_unit_test(test_fetch_proxies),
		cmocka_unit_test(test_fetch_payload),
		cmocka_unit_test(test_fetch_refused),
		cmocka_unit_test(test_fetch_tls),
		cmocka_unit_test(test_fetch_proto),
		cmocka_unit_test(test_fetch_alpn_cap),
		cmocka_unit_test(test_proto_patterns),
		cmocka_unit_test(test_defaults_rules),
		cmocka_unit_test(test_vars_captures),
		cmocka_unit_test(test_converters),
		cmocka_unit_test(test_maps),
		cmocka_unit_test(test_map_runtime),
		cmocka_unit_test(test_map_large),
		cmocka_unit_test(test_match_methods),
		cmocka_unit_test(test_conditions),
		cmocka_unit_test(test_regex_limits),
		cmocka_unit_test(test_keywords),
		cmocka_unit_test(test_rule_lists),
		cmocka_unit_test(test_use_server),
		cmocka_unit_test(test_log_format),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
