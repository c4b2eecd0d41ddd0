/* chkrule.c — parsing of HAProxy's protocol health-check rules (see
 * chkrule.h). Regular expressions are compiled here once, at load, with
 * PCRE2 and a match limit, so a check never compiles and a hostile response
 * cannot make a match run away. */
#include "config.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <errno.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/chkrule.h"
#include "log/msg.h"

/* PCRE2 match limits: a check response is at most CHK_RESP_MAX bytes; these
 * bound backtracking on it. */
#define CHK_RE_MATCH_LIMIT 100000u
#define CHK_RE_DEPTH_LIMIT 10000u

static void rule_clear(struct chk_rule *r)
{
	free(r->data);
	free(r->text);
	pcre2_code_free(r->re);
}

void chkrule_put(struct chk_rules *r)
{
	if (!r || --r->refcnt)
		return;
	for (size_t i = 0; i < r->n; i++)
		rule_clear(&r->v[i]);
	free(r->v);
	free(r->meth);
	free(r->uri);
	free(r->ver);
	free(r->file);
	for (size_t i = 0; i < r->nhdr; i++)
		free(r->hdrs[i]);
	free(r->hdrs);
	free(r);
}

struct chk_rules *chkrule_get(struct chk_rules *r)
{
	if (r)
		r->refcnt++;
	return r;
}

void chkconf_free(struct chk_conf *cc)
{
	chkrule_put(cc->tcp);
	chkrule_put(cc->http);
	free(cc->smtp_hello);
	free(cc->smtp_domain);
	free(cc->pg_user);
	free(cc->my_user);
	memset(cc, 0, sizeof(*cc));
}

static int dup_opt(char **dst, const char *src)
{
	free(*dst);
	*dst = NULL;
	if (src && !(*dst = strdup(src)))
		return -ENOMEM;
	return 0;
}

int chkconf_inherit(struct chk_conf *dst, const struct chk_conf *def)
{
	dst->kind = def->kind;
	dst->tcp = chkrule_get(def->tcp);
	dst->http = chkrule_get(def->http);
	dst->tcp_own = dst->http_own = false;
	dst->my_pre41 = def->my_pre41;
	if (dup_opt(&dst->smtp_hello, def->smtp_hello) || dup_opt(&dst->smtp_domain, def->smtp_domain) ||
	    dup_opt(&dst->pg_user, def->pg_user) || dup_opt(&dst->my_user, def->my_user))
		return -ENOMEM;
	return 0;
}

/* The set a new line of px adds to: px's own one; the first own line drops
 * what the defaults section passed on, as HAProxy does. */
static struct chk_rules *writable(struct cfg_ctx *ctx, struct chk_rules **set, bool *own, char **err)
{
	struct chk_rules *r;

	if (*set && *own)
		return *set;
	r = calloc(1, sizeof(*r));
	if (!r) {
		memprintf(err, "out of memory");
		return NULL;
	}
	r->refcnt = 1;
	r->line = ctx->line;
	if (ctx->file && !(r->file = strdup(ctx->file))) {
		free(r);
		memprintf(err, "out of memory");
		return NULL;
	}
	chkrule_put(*set);
	*set = r;
	*own = true;
	return r;
}

static struct chk_rule *add_rule(struct chk_rules *r, enum chkr_type t, char **err)
{
	struct chk_rule *v = realloc(r->v, (r->n + 1) * sizeof(*v));

	if (!v) {
		memprintf(err, "out of memory");
		return NULL;
	}
	r->v = v;
	memset(&v[r->n], 0, sizeof(v[r->n]));
	v[r->n].type = t;
	return &v[r->n++];
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decodes an even-length hex string into *out; error names `what`. */
static int parse_hex(const char *what, const char *s, uint8_t **out, size_t *len, char **err)
{
	size_t n = strlen(s);
	uint8_t *b;

	if (!n || n % 2) {
		memprintf(err, "'%s' expects a hexadecimal string of even length, got '%s'", what, s);
		return -1;
	}
	b = malloc(n / 2);
	if (!b) {
		memprintf(err, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i += 2) {
		int h = hexval((unsigned char)s[i]), l = hexval((unsigned char)s[i + 1]);

		if (h < 0 || l < 0) {
			free(b);
			memprintf(err, "'%s': invalid hexadecimal character '%c' in '%s'", what, h < 0 ? s[i] : s[i + 1], s);
			return -1;
		}
		b[i / 2] = (uint8_t)(h << 4 | l);
	}
	*out = b;
	*len = n / 2;
	return 0;
}

static int set_bytes(struct chk_rule *r, const char *s, char **err)
{
	r->len = strlen(s);
	r->data = (uint8_t *)strdup(s);
	if (!r->data) {
		memprintf(err, "out of memory");
		return -1;
	}
	return 0;
}

static int compile_re(struct chk_rule *r, const char *what, const char *pat, char **err)
{
	int ec;
	PCRE2_SIZE off;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, 0, &ec, &off, NULL);

	if (!re) {
		PCRE2_UCHAR msg[128];

		pcre2_get_error_message(ec, msg, sizeof(msg));
		memprintf(err, "'%s': failed to compile regex '%s' at offset %zu: %s", what, pat, (size_t)off,
			  (const char *)msg);
		return -1;
	}
	r->re = re;
	return 0;
}

static const char *match_name(enum chkr_match m)
{
	static const char *const n[] = { "string", "rstring", "binary", "rbinary", "status", "rstatus",
					 "string", "rstring" };

	return n[m];
}

/* The expect part shared by tcp-check and http-check: argv[i..] is
 * "[!] <match> <pattern>"; the matches allowed are first..first+3. */
static int parse_expect(const char *kw, int argc, char **argv, int i, struct chk_rules *set, bool http,
			char **err)
{
	static const char *const tcp_m[] = { "string", "rstring", "binary", "rbinary" };
	static const char *const http_m[] = { "status", "rstatus", "string", "rstring" };
	const char *const *names = http ? http_m : tcp_m;
	bool inverse = false;
	struct chk_rule *r;
	int m = -1;

	for (; i < argc; i++) {
		if (!strcmp(argv[i], "!")) {
			inverse = true;
			continue;
		}
		if (!strcmp(argv[i], "min-recv") || !strcmp(argv[i], "comment") || !strcmp(argv[i], "error-status") ||
		    !strcmp(argv[i], "ok-status") || !strcmp(argv[i], "tout-status") || !strcmp(argv[i], "on-success") ||
		    !strcmp(argv[i], "on-error") || !strcmp(argv[i], "status-code")) {
			memprintf(err, "'%s expect %s' is not yet supported by decoyproxy", kw, argv[i]);
			return CFG_ERR;
		}
		break;
	}
	if (i >= argc) {
		memprintf(err, "'%s expect' expects a match type (%s, %s, %s or %s) and a pattern", kw, names[0],
			  names[1], names[2], names[3]);
		return CFG_ERR;
	}
	for (int k = 0; k < 4; k++)
		if (!strcmp(argv[i], names[k]))
			m = k;
	if (m < 0) {
		if (http && (!strcmp(argv[i], "hdr") || !strcmp(argv[i], "fhdr") || !strcmp(argv[i], "custom")))
			memprintf(err, "'%s expect %s' is not yet supported by decoyproxy", kw, argv[i]);
		else
			memprintf(err, "'%s expect': unknown match '%s' (expects %s, %s, %s or %s)", kw, argv[i],
				  names[0], names[1], names[2], names[3]);
		return CFG_ERR;
	}
	if (i + 1 >= argc) {
		memprintf(err, "'%s expect %s' expects <pattern> as an argument", kw, argv[i]);
		return CFG_ERR;
	}
	if (i + 2 < argc) {
		memprintf(err, "'%s expect %s': unexpected argument '%s' after the pattern", kw, argv[i], argv[i + 2]);
		return CFG_ERR;
	}
	if (!(r = add_rule(set, CHKR_EXPECT, err)))
		return CFG_ERR;
	r->inverse = inverse;
	r->match = http ? (enum chkr_match)(CHKM_STATUS + m) : (enum chkr_match)m;
	if (!(r->text = strdup(argv[i + 1]))) {
		memprintf(err, "out of memory");
		return CFG_ERR;
	}
	switch (r->match) {
	case CHKM_BINARY:
		if (parse_hex("tcp-check expect binary", argv[i + 1], &r->data, &r->len, err))
			return CFG_ERR;
		break;
	case CHKM_RBINARY: case CHKM_RSTRING: case CHKM_RSTATUS: case CHKM_RBODY: {
		char what[40];

		snprintf(what, sizeof(what), "%s expect %s", kw, argv[i]);
		if (compile_re(r, what, argv[i + 1], err))
			return CFG_ERR;
		break;
	}
	case CHKM_STATUS:
		/* "200", "200,204", "200-299" */
		for (const char *p = argv[i + 1]; *p; p++) {
			if (!isdigit((unsigned char)*p) && *p != ',' && *p != '-') {
				memprintf(err, "'http-check expect status': invalid status code list '%s'", argv[i + 1]);
				return CFG_ERR;
			}
		}
		if (set_bytes(r, argv[i + 1], err))
			return CFG_ERR;
		break;
	default:
		if (!*argv[i + 1]) {
			memprintf(err, "'%s expect %s' expects a non-empty pattern", kw, argv[i]);
			return CFG_ERR;
		}
		if (set_bytes(r, argv[i + 1], err))
			return CFG_ERR;
		break;
	}
	return CFG_OK;
}

int chkrule_tcp_check(struct cfg_ctx *ctx, struct chk_conf *cc, int argc, char **argv, char **err)
{
	struct chk_rules *set;
	struct chk_rule *r;

	if (argc < 2) {
		memprintf(err, "expects 'connect', 'send', 'send-binary' or 'expect'");
		return CFG_ERR;
	}
	if (strcmp(argv[1], "connect") && strcmp(argv[1], "send") && strcmp(argv[1], "send-binary") &&
	    strcmp(argv[1], "expect")) {
		if (!strcmp(argv[1], "send-lf") || !strcmp(argv[1], "send-binary-lf") || !strcmp(argv[1], "comment") ||
		    !strcmp(argv[1], "set-var") || !strcmp(argv[1], "unset-var"))
			memprintf(err, "'tcp-check %s' is not yet supported by decoyproxy", argv[1]);
		else
			memprintf(err, "unknown rule '%s' (expects 'connect', 'send', 'send-binary' or 'expect')",
				  argv[1]);
		return CFG_ERR;
	}
	if (!(set = writable(ctx, &cc->tcp, &cc->tcp_own, err)))
		return CFG_ERR;
	if (!strcmp(argv[1], "expect"))
		return parse_expect("tcp-check", argc, argv, 2, set, false, err);
	if (!strcmp(argv[1], "connect")) {
		unsigned long long port = 0;

		for (int i = 2; i < argc; i++) {
			if (!strcmp(argv[i], "port") && i + 1 < argc) {
				if (cfg_parse_uint(argv[i + 1], 65535, &port) < 0 || !port) {
					memprintf(err, "'tcp-check connect port': invalid port '%s' (expects 1..65535)",
						  argv[i + 1]);
					return CFG_ERR;
				}
				i++;
			} else if (!strcmp(argv[i], "port")) {
				memprintf(err, "'tcp-check connect port' expects a port number");
				return CFG_ERR;
			} else if (!strcmp(argv[i], "default") || !strcmp(argv[i], "addr") ||
				   !strcmp(argv[i], "send-proxy") || !strcmp(argv[i], "via-socks4") ||
				   !strcmp(argv[i], "ssl") || !strcmp(argv[i], "sni") || !strcmp(argv[i], "alpn") ||
				   !strcmp(argv[i], "proto") || !strcmp(argv[i], "linger") ||
				   !strcmp(argv[i], "comment")) {
				memprintf(err, "'tcp-check connect %s' is not yet supported by decoyproxy", argv[i]);
				return CFG_ERR;
			} else {
				memprintf(err, "'tcp-check connect': unknown option '%s' (expects 'port <n>')", argv[i]);
				return CFG_ERR;
			}
		}
		if (!(r = add_rule(set, CHKR_CONNECT, err)))
			return CFG_ERR;
		r->port = (int)port;
		return CFG_OK;
	}
	/* send, send-binary */
	if (argc != 3) {
		memprintf(err, "'tcp-check %s' expects %s as its only argument", argv[1],
			  strcmp(argv[1], "send") ? "<hexstring>" : "<string>");
		return CFG_ERR;
	}
	if (!(r = add_rule(set, CHKR_SEND, err)))
		return CFG_ERR;
	if (!strcmp(argv[1], "send"))
		return set_bytes(r, argv[2], err) ? CFG_ERR : CFG_OK;
	return parse_hex("tcp-check send-binary", argv[2], &r->data, &r->len, err) ? CFG_ERR : CFG_OK;
}

static int set_str(char **dst, const char *s, char **err)
{
	char *d = strdup(s);

	if (!d) {
		memprintf(err, "out of memory");
		return -1;
	}
	free(*dst);
	*dst = d;
	return 0;
}

static int check_token(const char *what, const char *s, char **err)
{
	for (const char *p = s; *p; p++) {
		if ((unsigned char)*p <= ' ' || *p == 0x7f) {
			memprintf(err, "'%s': invalid character in '%s' (no spaces or control characters)", what, s);
			return -1;
		}
	}
	if (!*s) {
		memprintf(err, "'%s' expects a non-empty value", what);
		return -1;
	}
	return 0;
}

static int add_hdr(struct chk_rules *set, const char *name, const char *value, char **err)
{
	char **v = realloc(set->hdrs, (set->nhdr + 1) * sizeof(*v));
	char *h = NULL;

	if (!v) {
		memprintf(err, "out of memory");
		return -1;
	}
	set->hdrs = v;
	if (strpbrk(value, "\r\n")) {
		memprintf(err, "'http-check send hdr %s': the value must not hold CR or LF", name);
		return -1;
	}
	if (memprintf(&h, "%s: %s", name, value) < 0 || !h) {
		memprintf(err, "out of memory");
		return -1;
	}
	set->hdrs[set->nhdr++] = h;
	return 0;
}

int chkrule_http_check(struct cfg_ctx *ctx, struct chk_conf *cc, int argc, char **argv, char **err)
{
	struct chk_rules *set;

	if (argc < 2) {
		memprintf(err, "expects 'send' or 'expect'");
		return CFG_ERR;
	}
	if (strcmp(argv[1], "send") && strcmp(argv[1], "expect")) {
		if (!strcmp(argv[1], "connect") || !strcmp(argv[1], "disable-on-404") || !strcmp(argv[1], "send-state") ||
		    !strcmp(argv[1], "comment") || !strcmp(argv[1], "set-var") || !strcmp(argv[1], "unset-var"))
			memprintf(err, "'http-check %s' is not yet supported by decoyproxy", argv[1]);
		else
			memprintf(err, "unknown rule '%s' (expects 'send' or 'expect')", argv[1]);
		return CFG_ERR;
	}
	if (!(set = writable(ctx, &cc->http, &cc->http_own, err)))
		return CFG_ERR;
	if (!strcmp(argv[1], "expect"))
		return parse_expect("http-check", argc, argv, 2, set, true, err);
	for (int i = 2; i < argc; i++) {
		const char *k = argv[i];

		if (!strcmp(k, "hdr")) {
			if (i + 2 >= argc) {
				memprintf(err, "'http-check send hdr' expects <name> and <value>");
				return CFG_ERR;
			}
			if (check_token("http-check send hdr", argv[i + 1], err) ||
			    add_hdr(set, argv[i + 1], argv[i + 2], err))
				return CFG_ERR;
			i += 2;
			continue;
		}
		if (strcmp(k, "meth") && strcmp(k, "uri") && strcmp(k, "ver")) {
			if (!strcmp(k, "body") || !strcmp(k, "body-lf") || !strcmp(k, "uri-lf") || !strcmp(k, "comment"))
				memprintf(err, "'http-check send %s' is not yet supported by decoyproxy", k);
			else
				memprintf(err, "'http-check send': unknown option '%s' (expects meth, uri, ver or hdr)", k);
			return CFG_ERR;
		}
		if (i + 1 >= argc) {
			memprintf(err, "'http-check send %s' expects a value", k);
			return CFG_ERR;
		}
		if (check_token(k, argv[i + 1], err) ||
		    set_str(!strcmp(k, "meth") ? &set->meth : !strcmp(k, "uri") ? &set->uri : &set->ver, argv[i + 1],
			    err))
			return CFG_ERR;
		i++;
	}
	return CFG_OK;
}

int chkrule_option(struct cfg_ctx *ctx, struct chk_conf *cc, const char *pxname, int argc, char **argv, bool neg,
		   char **err)
{
	enum chk_kind kind;

	if (!strcmp(argv[1], "tcp-check"))
		kind = CHK_KIND_TCP;
	else if (!strcmp(argv[1], "httpchk"))
		kind = CHK_KIND_HTTP;
	else if (!strcmp(argv[1], "redis-check"))
		kind = CHK_KIND_REDIS;
	else if (!strcmp(argv[1], "smtpchk"))
		kind = CHK_KIND_SMTP;
	else if (!strcmp(argv[1], "pgsql-check"))
		kind = CHK_KIND_PGSQL;
	else if (!strcmp(argv[1], "mysql-check"))
		kind = CHK_KIND_MYSQL;
	else if (!strcmp(argv[1], "ldap-check"))
		kind = CHK_KIND_LDAP;
	else if (!strcmp(argv[1], "ssl-hello-chk"))
		kind = CHK_KIND_SSL;
	else
		return CHKRULE_NOT_MINE;
	if (!(ctx->section & CFG_SEC_BE)) {
		memprintf(err, "'option %s' ignored because frontend '%s' has no backend capability", argv[1],
			  pxname ? pxname : "");
		return CFG_WARN;
	}
	if (neg) {
		if (argc > 2) {
			memprintf(err, "'no option %s' takes no argument", argv[1]);
			return CFG_ERR;
		}
		if (cc->kind == kind)
			cc->kind = CHK_KIND_CONNECT;
		return CFG_OK;
	}
	if (kind == CHK_KIND_SMTP) {
		/* option smtpchk [HELO|EHLO <domain>]: anything else is HAProxy's
		 * default, HELO localhost */
		bool given = argc == 4 && (!strcmp(argv[2], "HELO") || !strcmp(argv[2], "EHLO"));

		if (argc > 4) {
			memprintf(err, "'option smtpchk' expects at most <hello> <domain>");
			return CFG_ERR;
		}
		if (given && check_token("option smtpchk", argv[3], err))
			return CFG_ERR;
		if (dup_opt(&cc->smtp_hello, given ? argv[2] : "HELO") ||
		    dup_opt(&cc->smtp_domain, given ? argv[3] : "localhost")) {
			memprintf(err, "out of memory");
			return CFG_ERR;
		}
		cc->kind = kind;
		return CFG_OK;
	}
	if (kind == CHK_KIND_PGSQL) {
		if (argc < 4 || strcmp(argv[2], "user") || !*argv[3]) {
			memprintf(err, "'option pgsql-check' expects 'user <username>' as argument");
			return CFG_ERR;
		}
		if (argc > 4) {
			memprintf(err, "'option pgsql-check': unexpected argument '%s' after the user name", argv[4]);
			return CFG_ERR;
		}
		if (strlen(argv[3]) > 63) {
			memprintf(err, "'option pgsql-check': user name longer than 63 bytes");
			return CFG_ERR;
		}
		if (dup_opt(&cc->pg_user, argv[3])) {
			memprintf(err, "out of memory");
			return CFG_ERR;
		}
		cc->kind = kind;
		return CFG_OK;
	}
	if (kind == CHK_KIND_MYSQL) {
		/* option mysql-check [user <username> [post-41|pre-41]]: without
		 * a user only the server's handshake is read */
		free(cc->my_user);
		cc->my_user = NULL;
		cc->my_pre41 = false;
		if (argc > 5) {
			memprintf(err, "'option mysql-check' cannot handle unexpected argument '%s'", argv[5]);
			return CFG_ERR;
		}
		if (argc > 2 && strcmp(argv[2], "user")) {
			memprintf(err, "'option mysql-check' only supports optional values: 'user' (got '%s')", argv[2]);
			return CFG_ERR;
		}
		if (argc == 3 || (argc > 3 && !*argv[3])) {
			memprintf(err, "'option mysql-check user' expects <username> as argument");
			return CFG_ERR;
		}
		if (argc == 5 && strcmp(argv[4], "post-41") && strcmp(argv[4], "pre-41")) {
			memprintf(err, "'option mysql-check user' only supports 'post-41' and 'pre-41' (got '%s')", argv[4]);
			return CFG_ERR;
		}
		if (argc > 3 && strlen(argv[3]) > 64) {
			memprintf(err, "'option mysql-check': user name longer than 64 bytes");
			return CFG_ERR;
		}
		if (argc > 3 && dup_opt(&cc->my_user, argv[3])) {
			memprintf(err, "out of memory");
			return CFG_ERR;
		}
		cc->my_pre41 = argc == 5 && !strcmp(argv[4], "pre-41");
		cc->kind = kind;
		return CFG_OK;
	}
	if (kind != CHK_KIND_HTTP && argc > 2) {
		memprintf(err, "option '%s' takes no argument", argv[1]);
		return CFG_ERR;
	}
	if (kind == CHK_KIND_HTTP && argc > 2) {
		/* option httpchk <uri> | <method> <uri> [<version>] */
		struct chk_rules *set;

		if (argc > 5) {
			memprintf(err, "'option httpchk' expects at most <method> <uri> <version>");
			return CFG_ERR;
		}
		if (!(set = writable(ctx, &cc->http, &cc->http_own, err)))
			return CFG_ERR;
		if (argc == 3) {
			if (check_token("option httpchk", argv[2], err) || set_str(&set->uri, argv[2], err))
				return CFG_ERR;
		} else {
			if (check_token("option httpchk", argv[2], err) || check_token("option httpchk", argv[3], err) ||
			    set_str(&set->meth, argv[2], err) || set_str(&set->uri, argv[3], err))
				return CFG_ERR;
			/* the version may carry HAProxy's old "HTTP/1.1\r\nHost:\ x"
			 * trick: it is sent as written */
			if (argc == 5 && set_str(&set->ver, argv[4], err))
				return CFG_ERR;
		}
	}
	cc->kind = kind;
	return CFG_OK;
}

/* "200", "200,204", "200-299,301" */
static bool status_in(const char *list, int st)
{
	const char *p = list;

	for (;;) {
		char *e;
		long a = strtol(p, &e, 10), b = a;

		if (e == p)
			return false;
		if (*e == '-') {
			p = e + 1;
			b = strtol(p, &e, 10);
			if (e == p)
				return false;
		}
		if (st >= a && st <= b)
			return true;
		if (*e != ',')
			return false;
		p = e + 1;
	}
}

static bool re_match(const struct chk_rule *r, const char *s, size_t len)
{
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(r->re, NULL);
	pcre2_match_context *mc = pcre2_match_context_create(NULL);
	int rc = -1;

	if (md && mc) {
		pcre2_set_match_limit(mc, CHK_RE_MATCH_LIMIT);
		pcre2_set_depth_limit(mc, CHK_RE_DEPTH_LIMIT);
		rc = pcre2_match(r->re, (PCRE2_SPTR)s, len, 0, 0, md, mc);
	}
	pcre2_match_context_free(mc);
	pcre2_match_data_free(md);
	return rc >= 0;
}

bool chkrule_match(const struct chk_rule *r, const uint8_t *buf, size_t len, int status, bool *more)
{
	bool m = false;

	*more = false;
	switch (r->match) {
	case CHKM_STRING: case CHKM_BINARY: case CHKM_BODY:
		m = len >= r->len && memmem(buf, len, r->data, r->len);
		break;
	case CHKM_RSTRING: case CHKM_RBODY:
		m = re_match(r, (const char *)buf, len);
		break;
	case CHKM_RBINARY: {
		char *hex = malloc(2 * len + 1);

		if (!hex)
			return false;
		for (size_t i = 0; i < len; i++)
			snprintf(hex + 2 * i, 3, "%02X", buf[i]);
		hex[2 * len] = '\0';
		m = re_match(r, hex, 2 * len);
		free(hex);
		break;
	}
	case CHKM_STATUS:
		return status_in((const char *)r->data, status) != r->inverse;
	case CHKM_RSTATUS: {
		char s[16];
		int n = snprintf(s, sizeof(s), "%d", status);

		return re_match(r, s, (size_t)n) != r->inverse;
	}
	}
	/* as HAProxy: a mismatch waits for more data while more can come */
	if (!m)
		*more = true;
	return m != r->inverse;
}

const char *chkrule_match_name(const struct chk_rule *r)
{
	return match_name(r->match);
}

int chkrule_finalize(const struct chk_conf *cc, const char *pxname)
{
	const struct chk_rules *t = cc->tcp;
	int errors = 0;
	bool has_connect = false;

	if (cc->kind == CHK_KIND_TCP && t) {
		for (size_t i = 0; i < t->n; i++)
			has_connect |= t->v[i].type == CHKR_CONNECT;
		if (has_connect && t->v[0].type != CHKR_CONNECT) {
			ha_alert("config : backend '%s': tcp-check rules (%s:%d): first step MUST also be a 'connect' "
				 "when there is a 'connect' step in the tcp-check ruleset.",
				 pxname, t->file ? t->file : "?", t->line);
			errors++;
		}
	}
	if (cc->kind != CHK_KIND_TCP && cc->tcp_own && t && t->n)
		ha_warning("config : backend '%s': 'tcp-check' rules ignored: 'option tcp-check' is not set.", pxname);
	if (cc->kind != CHK_KIND_HTTP && cc->http_own && cc->http && cc->http->n)
		ha_warning("config : backend '%s': 'http-check' rules ignored: 'option httpchk' is not set.", pxname);
	return errors;
}
