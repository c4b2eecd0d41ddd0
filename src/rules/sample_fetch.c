/* sample_fetch.c — the built-in sample fetches: layer-4 facts about the
 * connection, the PROXY header it carried, proxies and servers, and the
 * request bytes buffered during inspection (payloads, RDP cookie, HTTP
 * request line). Legacy spellings are separate entries calling the same
 * function, as HAProxy keeps them. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/addr.h"
#include "lib/pp.h"
#include "net/nscache.h"
#include "model/bind.h"
#include "model/conf.h"
#include "model/proxy.h"
#include "model/server.h"
#include "rules/sample.h"
#include "rules/sample_int.h"

static int ret_bool(struct sample *smp, bool v)
{
	smp->type = SMP_T_BOOL;
	smp->u.sint = v;
	return 1;
}

static int ret_int(struct sample *smp, long long v)
{
	smp->type = SMP_T_SINT;
	smp->u.sint = v;
	return 1;
}

static int ret_str(struct sample *smp, const char *s, size_t n, enum smp_type t)
{
	if (!s)
		return 0;
	smp->type = t;
	smp->u.str.ptr = s;
	smp->u.str.len = n;
	return 1;
}

/* Request bytes not there yet: "no value for now" unless nothing more
 * will come. */
static int need_more(const struct smp_sess *ss, struct sample *smp)
{
	if (!ss->final)
		smp->flags |= SMP_F_MAY_CHANGE;
	return 0;
}

/* ---- constants and state ------------------------------------------------------ */

static int f_true(const struct smp_arg *a, struct sample *smp, const struct smp_sess *ss)
{
	return ret_bool(smp, true);
}

static int f_false(const struct smp_arg *a, struct sample *smp, const struct smp_sess *ss)
{
	return ret_bool(smp, false);
}

static int f_wait_end(const struct smp_arg *a, struct sample *smp, const struct smp_sess *ss)
{
	if (!ss->final)
		return need_more(ss, smp);
	return ret_bool(smp, true);
}

static int f_str(const struct smp_arg *a, struct sample *smp, const struct smp_sess *ss)
{
	return ret_str(smp, a[0].str, a[0].len, SMP_T_STR);
}

static int f_int(const struct smp_arg *a, struct sample *smp, const struct smp_sess *ss)
{
	return ret_int(smp, a[0].sint);
}

static int f_ip(const struct smp_arg *a, struct sample *smp, const struct smp_sess *ss)
{
	smp->type = SMP_T_STR;
	smp->u.str.ptr = a[0].str;
	smp->u.str.len = a[0].len;
	return smp_cast(smp, SMP_T_ADDR);
}

static int check_ip(struct smp_arg *a, int n, const char *kw, struct smp_pctx *pc, char **err)
{
	unsigned char b[16];
	int fam = !strcmp(kw, "ipv4") ? AF_INET : AF_INET6;

	if (inet_pton(fam, a[0].str, b) != 1) {
		memprintf(err, "'%s' is not an %s address", a[0].str, fam == AF_INET ? "IPv4" : "IPv6");
		return -1;
	}
	return 0;
}

/* ---- addresses --------------------------------------------------------------- */

static int ret_addr(struct sample *smp, const struct sockaddr_storage *ss)
{
	if (!ss || (ss->ss_family != AF_INET && ss->ss_family != AF_INET6))
		return 0;
	smp->type = SMP_T_ADDR;
	smp->u.addr = *ss;
	addr_set_port(&smp->u.addr, 0);
	return 1;
}

static int f_src(const struct smp_arg *a, struct sample *smp, const struct smp_sess *ss)
{
	return ret_addr(smp, ss->src);
}

static int f_dst(const struct smp_arg *a, struct sample *smp, const struct smp_sess *ss)
{
	return ret_addr(smp, ss->dst);
}

static int f_src_port(const struct smp_arg *a, struct sample *smp, const struct smp_sess *ss)
{
	if (!ss->src || (ss->src->ss_family != AF_INET && ss->src->ss_family != AF_INET6))
		return 0;
	return ret_int(smp, addr_port(ss->src));
}

static int f_dst_port(const struct smp_arg *a, struct sample *smp, const struct smp_sess *ss)
{
	if (!ss->dst || (ss->dst->ss_family != AF_INET && ss->dst->ss_family != AF_INET6))
		return 0;
	return ret_int(smp, addr_port(ss->dst));
}

/* Whether an address belongs to this host, in the namespace the
 * connection arrived in: bind() to it succeeds (no IP_FREEBIND). */
static int is_local(const struct smp_sess *ss, const struct sockaddr_storage *a, struct sample *smp)
{
	struct sockaddr_storage b;
	char *err = NULL;
	int fd, r;

	if (!a || (a->ss_family != AF_INET && a->ss_family != AF_INET6) || !ss->conf)
		return 0;
	b = *a;
	addr_set_port(&b, 0);
	fd = ns_cache_socket(ss->conf->nscache, ss->netns, b.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0, &err);
	free(err);
	if (fd < 0)
		return 0;
	r = bind(fd, (struct sockaddr *)&b, addr_len(&b));
	close(fd);
	return ret_bool(smp, r == 0);
}

static int f_dst_is_local(const struct smp_arg *a, struct sample *smp, const struct smp_sess *ss)
{
	return is_local(ss, ss->dst, smp);
}

static int f_src_is_local(const struct smp_arg *a, struct sample *smp, const struct smp_sess *ss)
{
	return is_local(ss, ss->src, smp);
}

static int f_so_name(const struct smp_arg *a, struct sample *smp, const struct smp_sess *ss)
{
	const char *n = ss->li && ss->li->bc ? ss->li->bc->name : NULL;

	return n ? ret_str(smp, n, strlen(n), SMP_T_STR) : 0;
}

/* ---- PROXY header ---------------------------------------------------------------- */

static int f_fc_rcvd_proxy(const struct smp_arg *a, struct sample *smp, const struct smp_sess *ss)
{
	return ret_bool(smp, ss->pp_rcvd || ss->pp != NULL);
}

static int f_fc_pp_authority(const struct smp_arg *a, struct sample *smp, const struct smp_sess *ss)
{
	if (!ss->pp || !ss->pp->authority)
		return 0;
	return ret_str(smp, ss->pp->authority, strlen(ss->pp->authority), SMP_T_STR);
}

static int f_fc_pp_unique_id(const struct smp_arg *a, struct sample *smp, const struct smp_sess *ss)
{
	if (!ss->pp || !ss->pp->unique_id)
		return 0;
	return ret_str(smp, ss->pp->unique_id, ss->pp->unique_id_len, SMP_T_STR);
}

static int f_fc_pp_tlv(const struct smp_arg *a, struct sample *smp, const struct smp_sess *ss)
{
	const struct pp_hdr *h = ss->pp;

	if (!h)
		return 0;
	switch (a[0].sint) {
	case 0x01: return h->alpn ? ret_str(smp, (const char *)h->alpn, h->alpn_len, SMP_T_BIN) : 0;
	case 0x02: return h->authority ? ret_str(smp, h->authority, strlen(h->authority), SMP_T_STR) : 0;
	case 0x05: return h->unique_id ? ret_str(smp, h->unique_id, h->unique_id_len, SMP_T_BIN) : 0;
	case 0x30: return h->netns ? ret_str(smp, h->netns, strlen(h->netns), SMP_T_STR) : 0;
	default:
		for (size_t i = 0; i < h->ncustom; i++)
			if (h->custom[i].type == a[0].sint)
				return ret_str(smp, (const char *)h->custom[i].val, h->custom[i].len, SMP_T_BIN);
		return 0;
	}
}

static int check_tlv(struct smp_arg *a, int n, const char *kw, struct smp_pctx *pc, char **err)
{
	char *end;
	long v = strtol(a[0].str, &end, 0);

	if (!*a[0].str || *end || v < 0 || v > 255) {
		memprintf(err, "'%s' is not a TLV type (0..255, decimal or 0x..)", a[0].str);
		return -1;
	}
	a[0].sint = v;
	return 0;
}

/* ---- proxies and servers ----------------------------------------------------------- */

static int f_fe_name(const struct smp_arg *a, struct sample *smp, const struct smp_sess *ss)
{
	return ss->fe && ss->fe->name ? ret_str(smp, ss->fe->name, strlen(ss->fe->name), SMP_T_STR) : 0;
}

static int f_be_name(const struct smp_arg *a, struct sample *smp, const struct smp_sess *ss)
{
	return ss->be && ss->be->name ? ret_str(smp, ss->be->name, strlen(ss->be->name), SMP_T_STR) : 0;
}

static int f_srv_name(const struct smp_arg *a, struct sample *smp, const struct smp_sess *ss)
{
	return ss->srv && ss->srv->name ? ret_str(smp, ss->srv->name, strlen(ss->srv->name), SMP_T_STR) : 0;
}

/* The backend an argument names, or the session's. */
static struct proxy *arg_px(const struct smp_arg *a, const struct smp_sess *ss, unsigned cap)
{
	if (a && a->str && *a->str)
		return ss->conf ? dp_config_find_proxy(ss->conf, a->str, cap) : NULL;
	return cap == PR_CAP_FE ? ss->fe : ss->be;
}

static int f_nbsrv(const struct smp_arg *a, struct sample *smp, const struct smp_sess *ss)
{
	struct proxy *be = arg_px(a[0].type ? &a[0] : NULL, ss, PR_CAP_BE);
	long long n = 0;

	if (!be)
		return 0;
	for (struct server *s = be->srv; s; s = s->next)
		if (server_usable(s))
			n++;
	return ret_int(smp, n);
}

static int f_connslots(const struct smp_arg *a, struct sample *smp, const struct smp_sess *ss)
{
	struct proxy *be = arg_px(a[0].type ? &a[0] : NULL, ss, PR_CAP_BE);
	long long n = 0;

	if (!be)
		return 0;
	for (struct server *s = be->srv; s; s = s->next) {
		if (!server_usable(s))
			continue;
		if (!s->maxconn)
			return ret_int(smp, -1); /* unlimited */
		if (s->cur_conn < s->maxconn)
			n += s->maxconn - s->cur_conn;
	}
	return ret_int(smp, n);
}

static int f_be_conn(const struct smp_arg *a, struct sample *smp, const struct smp_sess *ss)
{
	struct proxy *be = arg_px(a[0].type ? &a[0] : NULL, ss, PR_CAP_BE);

	return be ? ret_int(smp, be->beconn) : 0;
}

static int f_fe_conn(const struct smp_arg *a, struct sample *smp, const struct smp_sess *ss)
{
	struct proxy *fe = arg_px(a[0].type ? &a[0] : NULL, ss, PR_CAP_FE);

	return fe ? ret_int(smp, fe->feconn) : 0;
}

static int f_srv_is_up(const struct smp_arg *a, struct sample *smp, const struct smp_sess *ss)
{
	const char *spec = a[0].str, *slash = strchr(spec, '/');
	struct proxy *be = ss->be;
	const char *sname = spec;

	if (slash) {
		char *bn = strndup(spec, (size_t)(slash - spec));

		be = bn && ss->conf ? dp_config_find_proxy(ss->conf, bn, PR_CAP_BE) : NULL;
		free(bn);
		sname = slash + 1;
	}
	if (!be)
		return 0;
	for (struct server *s = be->srv; s; s = s->next)
		if (!strcmp(s->name, sname))
			return ret_bool(smp, server_usable(s));
	return 0;
}

/* ---- request bytes ----------------------------------------------------------------- */

static int f_req_len(const struct smp_arg *a, struct sample *smp, const struct smp_sess *ss)
{
	if (!ss->final)
		smp->flags |= SMP_F_MAY_CHANGE;
	return ret_int(smp, (long long)ss->req_len);
}

static int f_payload(const struct smp_arg *a, struct sample *smp, const struct smp_sess *ss)
{
	unsigned long long off = (unsigned long long)a[0].sint, len = (unsigned long long)a[1].sint;

	if (!ss->req)
		return need_more(ss, smp);
	if (len == 0) {
		/* 0: everything from off on (may grow) */
		if (off > ss->req_len)
			return need_more(ss, smp);
		if (!ss->final)
			smp->flags |= SMP_F_MAY_CHANGE;
		return ret_str(smp, (const char *)ss->req + off, ss->req_len - off, SMP_T_BIN);
	}
	if (off + len > ss->req_len)
		return need_more(ss, smp);
	return ret_str(smp, (const char *)ss->req + off, len, SMP_T_BIN);
}

static int check_payload(struct smp_arg *a, int n, const char *kw, struct smp_pctx *pc, char **err)
{
	if (a[0].sint < 0 || a[1].sint < 0 || a[0].sint > 65535 || a[1].sint > 65535) {
		memprintf(err, "offset and length must be between 0 and 65535");
		return -1;
	}
	return 0;
}

/* payload_lv(<off1>,<len>[,<off2>]): a big-endian length of <len> bytes
 * at <off1>, then that many bytes at <off2> (absolute), or right after the
 * length field, or "+N" after it. */
static int f_payload_lv(const struct smp_arg *a, struct sample *smp, const struct smp_sess *ss)
{
	unsigned long long off1 = (unsigned long long)a[0].sint, ll = (unsigned long long)a[1].sint, v = 0, off2;

	if (!ss->req || off1 + ll > ss->req_len)
		return need_more(ss, smp);
	for (unsigned long long i = 0; i < ll; i++)
		v = v << 8 | ss->req[off1 + i];
	if (a[2].type && a[2].str && *a[2].str)
		off2 = a[2].str[0] == '+' ? off1 + ll + (unsigned long long)a[2].sint : (unsigned long long)a[2].sint;
	else
		off2 = off1 + ll;
	if (v > 65536 || off2 > 65536)
		return 0; /* cannot fit in a buffer: never there */
	if (off2 + v > ss->req_len)
		return need_more(ss, smp);
	return ret_str(smp, (const char *)ss->req + off2, v, SMP_T_BIN);
}

static int check_payload_lv(struct smp_arg *a, int n, const char *kw, struct smp_pctx *pc, char **err)
{
	if (a[0].sint < 0 || a[0].sint > 65535 || a[1].sint < 1 || a[1].sint > 4) {
		memprintf(err, "offset must be between 0 and 65535 and the length field 1 to 4 bytes");
		return -1;
	}
	if (n > 2) {
		const char *s = a[2].str + (a[2].str[0] == '+');
		char *end;
		long v = strtol(s, &end, 10);

		if (!*s || *end || v < 0 || v > 65535) {
			memprintf(err, "'%s' is not an offset ([+]0..65535)", a[2].str);
			return -1;
		}
		a[2].sint = v;
	}
	return 0;
}

/* RDP: the X.224 Connection Request carries "Cookie: <name>=<value>\r\n"
 * after the 4-byte TPKT header and 7 bytes of X.224. */
static int rdp_cookie(const struct smp_sess *ss, const char *want, struct sample *smp, bool count)
{
	const unsigned char *p = ss->req;
	size_t len = ss->req_len, i;
	static const char ck[] = "Cookie:";
	size_t nstart, nlen, vstart, vend;

	if (!p || len < 11 + 7)
		return need_more(ss, smp);
	if (strncasecmp((const char *)p + 11, ck, 7))
		goto none;
	i = 18;
	while (i < len && p[i] == ' ')
		i++;
	nstart = i;
	while (i < len && p[i] != '=' && p[i] != '\r' && p[i] != '\n')
		i++;
	if (i >= len)
		return need_more(ss, smp);
	if (p[i] != '=')
		goto none;
	nlen = i - nstart;
	vstart = ++i;
	while (i < len && p[i] != '\r' && p[i] != '\n')
		i++;
	if (i + 1 >= len)
		return need_more(ss, smp);
	if (p[i] != '\r' || p[i + 1] != '\n')
		goto none;
	vend = i;
	if (want && *want && (strlen(want) != nlen || strncasecmp(want, (const char *)p + nstart, nlen)))
		goto none;
	if (count)
		return ret_int(smp, 1);
	return ret_str(smp, (const char *)p + vstart, vend - vstart, SMP_T_STR);
none:
	return count ? ret_int(smp, 0) : 0;
}

static int f_rdp_cookie(const struct smp_arg *a, struct sample *smp, const struct smp_sess *ss)
{
	return rdp_cookie(ss, a[0].type ? a[0].str : NULL, smp, false);
}

static int f_rdp_cookie_cnt(const struct smp_arg *a, struct sample *smp, const struct smp_sess *ss)
{
	return rdp_cookie(ss, a[0].type ? a[0].str : NULL, smp, true);
}

/* An HTTP/1 request line: method SP target SP HTTP/d.d CRLF. False as soon
 * as a byte rules it out; no value while it may still become one. */
static int f_req_proto_http(const struct smp_arg *a, struct sample *smp, const struct smp_sess *ss)
{
	const unsigned char *p = ss->req;
	size_t len = ss->req_len, i = 0, m;

	if (!p || !len)
		return need_more(ss, smp);
	while (i < len && (isalpha(p[i]) || p[i] == '-' || p[i] == '_'))
		i++;
	m = i;
	if (i == len)
		goto more;
	if (!m || p[i] != ' ')
		return ret_bool(smp, false);
	i++;
	if (i == len)
		goto more;
	if (p[i] == ' ')
		return ret_bool(smp, false);
	while (i < len && p[i] > 0x20 && p[i] < 0x7f)
		i++;
	if (i == len)
		goto more;
	if (p[i] != ' ')
		return ret_bool(smp, false);
	i++;
	for (const char *v = "HTTP/"; *v; v++, i++) {
		if (i == len)
			goto more;
		if (p[i] != (unsigned char)*v)
			return ret_bool(smp, false);
	}
	for (int k = 0; k < 3; k++, i++) {
		if (i == len)
			goto more;
		if (k == 1 ? p[i] != '.' : !isdigit(p[i]))
			return ret_bool(smp, false);
	}
	if (i == len)
		goto more;
	if (p[i] == '\n' || (p[i] == '\r' && (i + 1 == len || p[i + 1] == '\n')))
		return i + 1 == len && p[i] == '\r' && !ss->final ? need_more(ss, smp) : ret_bool(smp, true);
	return ret_bool(smp, false);
more:
	if (ss->final)
		return ret_bool(smp, false);
	return need_more(ss, smp);
}

/* ---- variables and captures ----------------------------------------------------------- */

static int f_var(const struct smp_arg *a, struct sample *smp, const struct smp_sess *ss)
{
	const struct smp_var *v = smp_store_get_var(ss->store, a[0].str);

	if (!v)
		return 0;
	*smp = v->smp;
	return 1;
}

static int f_capture_req(const struct smp_arg *a, struct sample *smp, const struct smp_sess *ss)
{
	long long i = a[0].type ? a[0].sint : 0;

	if (!ss->store || i < 0 || i >= SMP_MAX_CAPTURES || !ss->store->cap[i])
		return 0;
	return ret_str(smp, ss->store->cap[i], ss->store->cap_len[i], SMP_T_STR);
}

/* ---- the table --------------------------------------------------------------------------- */

#define A0 { ARGT_STOP }
#define TLS_WHY "the TLS ClientHello parser (src/lib/tls_hello.h) is not merged yet"
#define PROTO_WHY "the protocol classifier (src/lib/proto_detect.h) is not merged yet"
#define L4 SMP_USE_L4
#define RQ SMP_USE_REQ
#define CST SMP_USE_CONST

const struct smp_fetch_kw smp_builtin_fetches[] = {
	{ "always_true", f_true, A0, 0, SMP_T_BOOL, CST, NULL, NULL },
	{ "always_false", f_false, A0, 0, SMP_T_BOOL, CST, NULL, NULL },
	{ "wait_end", f_wait_end, A0, 0, SMP_T_BOOL, RQ, NULL, NULL },
	{ "str", f_str, { ARGT_STR }, 1, SMP_T_STR, CST, NULL, NULL },
	{ "int", f_int, { ARGT_SINT }, 1, SMP_T_SINT, CST, NULL, NULL },
	{ "ipv4", f_ip, { ARGT_STR }, 1, SMP_T_ADDR, CST, check_ip, NULL },
	{ "ipv6", f_ip, { ARGT_STR }, 1, SMP_T_ADDR, CST, check_ip, NULL },
	{ "src", f_src, A0, 0, SMP_T_ADDR, L4, NULL, NULL },
	{ "src_port", f_src_port, A0, 0, SMP_T_SINT, L4, NULL, NULL },
	{ "src_is_local", f_src_is_local, A0, 0, SMP_T_BOOL, L4, NULL, NULL },
	{ "dst", f_dst, A0, 0, SMP_T_ADDR, L4, NULL, NULL },
	{ "dst_port", f_dst_port, A0, 0, SMP_T_SINT, L4, NULL, NULL },
	{ "dst_is_local", f_dst_is_local, A0, 0, SMP_T_BOOL, L4, NULL, NULL },
	{ "so_name", f_so_name, A0, 0, SMP_T_STR, L4, NULL, NULL },
	{ "fc_rcvd_proxy", f_fc_rcvd_proxy, A0, 0, SMP_T_BOOL, L4, NULL, NULL },
	{ "fc_pp_authority", f_fc_pp_authority, A0, 0, SMP_T_STR, L4, NULL, NULL },
	{ "fc_pp_unique_id", f_fc_pp_unique_id, A0, 0, SMP_T_STR, L4, NULL, NULL },
	{ "fc_pp_tlv", f_fc_pp_tlv, { ARGT_STR }, 1, SMP_T_BIN, L4, check_tlv, NULL },
	{ "fe_name", f_fe_name, A0, 0, SMP_T_STR, L4, NULL, NULL },
	{ "be_name", f_be_name, A0, 0, SMP_T_STR, L4, NULL, NULL },
	{ "srv_name", f_srv_name, A0, 0, SMP_T_STR, SMP_USE_SRV, NULL, NULL },
	{ "nbsrv", f_nbsrv, { ARGT_BE }, 0, SMP_T_SINT, CST, NULL, NULL },
	{ "connslots", f_connslots, { ARGT_BE }, 0, SMP_T_SINT, CST, NULL, NULL },
	{ "be_conn", f_be_conn, { ARGT_BE }, 0, SMP_T_SINT, CST, NULL, NULL },
	{ "fe_conn", f_fe_conn, { ARGT_FE }, 0, SMP_T_SINT, CST, NULL, NULL },
	{ "srv_is_up", f_srv_is_up, { ARGT_SRV }, 1, SMP_T_BOOL, CST, NULL, NULL },
	{ "req.len", f_req_len, A0, 0, SMP_T_SINT, RQ, NULL, NULL },
	{ "req_len", f_req_len, A0, 0, SMP_T_SINT, RQ, NULL, NULL },
	{ "req.payload", f_payload, { ARGT_SINT, ARGT_SINT }, 2, SMP_T_BIN, RQ, check_payload, NULL },
	{ "payload", f_payload, { ARGT_SINT, ARGT_SINT }, 2, SMP_T_BIN, RQ, check_payload, NULL },
	{ "req.payload_lv", f_payload_lv, { ARGT_SINT, ARGT_SINT, ARGT_STR }, 2, SMP_T_BIN, RQ, check_payload_lv, NULL },
	{ "payload_lv", f_payload_lv, { ARGT_SINT, ARGT_SINT, ARGT_STR }, 2, SMP_T_BIN, RQ, check_payload_lv, NULL },
	{ "req.rdp_cookie", f_rdp_cookie, { ARGT_STR }, 0, SMP_T_STR, RQ, NULL, NULL },
	{ "rdp_cookie", f_rdp_cookie, { ARGT_STR }, 0, SMP_T_STR, RQ, NULL, NULL },
	{ "req.rdp_cookie_cnt", f_rdp_cookie_cnt, { ARGT_STR }, 0, SMP_T_SINT, RQ, NULL, NULL },
	{ "rdp_cookie_cnt", f_rdp_cookie_cnt, { ARGT_STR }, 0, SMP_T_SINT, RQ, NULL, NULL },
	{ "req.proto_http", f_req_proto_http, A0, 0, SMP_T_BOOL, RQ, NULL, NULL },
	{ "req_proto_http", f_req_proto_http, A0, 0, SMP_T_BOOL, RQ, NULL, NULL },
	{ "var", f_var, { ARGT_VAR }, 1, SMP_T_STR, CST, NULL, NULL },
	{ "capture.req.hdr", f_capture_req, { ARGT_SINT }, 1, SMP_T_STR, CST, NULL, NULL },
	/* parsed by src/lib/tls_hello.h and src/lib/proto_detect.h (another
	 * branch): the names are known, the fetches refused until merged */
	{ "req.ssl_hello_type", NULL, A0, 0, SMP_T_SINT, RQ, NULL, TLS_WHY },
	{ "req_ssl_hello_type", NULL, A0, 0, SMP_T_SINT, RQ, NULL, TLS_WHY },
	{ "req.ssl_sni", NULL, A0, 0, SMP_T_STR, RQ, NULL, TLS_WHY },
	{ "req_ssl_sni", NULL, A0, 0, SMP_T_STR, RQ, NULL, TLS_WHY },
	{ "req.ssl_ver", NULL, A0, 0, SMP_T_SINT, RQ, NULL, TLS_WHY },
	{ "req_ssl_ver", NULL, A0, 0, SMP_T_SINT, RQ, NULL, TLS_WHY },
	{ "req.ssl_alpn", NULL, A0, 0, SMP_T_STR, RQ, NULL, TLS_WHY },
	{ "req.ssl_ec_ext", NULL, A0, 0, SMP_T_BOOL, RQ, NULL, TLS_WHY },
	{ "req.ssl_st_ext", NULL, A0, 0, SMP_T_SINT, RQ, NULL, TLS_WHY },
	{ "req_ssl_st_ext", NULL, A0, 0, SMP_T_SINT, RQ, NULL, TLS_WHY },
	{ "req.ssl_ja3", NULL, A0, 0, SMP_T_STR, RQ, NULL, TLS_WHY },
	{ "req.ssl_ja4", NULL, A0, 0, SMP_T_STR, RQ, NULL, TLS_WHY },
	{ "req.proto", NULL, A0, 0, SMP_T_STR, RQ, NULL, PROTO_WHY },
};
const size_t smp_builtin_nfetches = ARRAY_SIZE(smp_builtin_fetches);
