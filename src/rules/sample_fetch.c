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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/addr.h"
#include "lib/pp.h"
#include "lib/proto_detect.h"
#include "lib/tls_hello.h"
#include "cfg/cfg.h"
#include "net/nscache.h"
#include "model/bind.h"
#include "model/conf.h"
#include "model/proxy.h"
#include "model/server.h"
#include "rules/protopat.h"
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
	struct server *s;
	const char *sname = spec;

	if (slash) {
		char *bn = strndup(spec, (size_t)(slash - spec));

		be = bn && ss->conf ? dp_config_find_proxy(ss->conf, bn, PR_CAP_BE) : NULL;
		free(bn);
		sname = slash + 1;
	}
	if (!be || !(s = proxy_find_server(be, sname)))
		return 0;
	return ret_bool(smp, server_usable(s));
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

/* ---- TLS ClientHello (lib/tls_hello.h) ----------------------------------------------- */

/* Reassembly space for a hello split over several records: one per thread,
 * its views valid until the next parse (values are used or copied before). */
static __thread uint8_t tls_scratch[TLSH_SCRATCH_SIZE];

/* Parses the ClientHello buffered so far: 1 when *h is a whole hello; 0
 * when there is no value (may change while bytes can still come). */
static int get_hello(const struct smp_sess *ss, struct sample *smp, struct tls_hello *h)
{
	switch (tls_hello_parse(ss->req, ss->req ? ss->req_len : 0, tls_scratch, sizeof(tls_scratch), h)) {
	case TLSH_OK:
		return 1;
	case TLSH_NEED_MORE:
		return need_more(ss, smp);
	default:
		return 0;
	}
}

static int f_ssl_hello_type(const struct smp_arg *a, struct sample *smp, const struct smp_sess *ss)
{
	int type = 0;

	switch (tls_hello_type(ss->req, ss->req ? ss->req_len : 0, &type)) {
	case TLSH_OK:
		return ret_int(smp, type);
	case TLSH_NEED_MORE:
		return need_more(ss, smp);
	default:
		return 0;
	}
}

static int f_ssl_ver(const struct smp_arg *a, struct sample *smp, const struct smp_sess *ss)
{
	uint32_t v = 0;

	switch (tls_ssl_ver(ss->req, ss->req ? ss->req_len : 0, 0, &v)) {
	case TLSH_OK:
		return ret_int(smp, v);
	case TLSH_NEED_MORE:
		return need_more(ss, smp);
	default:
		return 0;
	}
}

static int f_ssl_sni(const struct smp_arg *a, struct sample *smp, const struct smp_sess *ss)
{
	struct tls_hello h;

	if (!get_hello(ss, smp, &h) || !h.has_sni || !h.sni.p)
		return 0;
	return ret_str(smp, (const char *)h.sni.p, h.sni.len, SMP_T_STR);
}

/* One value per ALPN name, in the client's order: smp->ctx is where the
 * next name starts; SMP_F_NOT_LAST while more follow. */
static int f_ssl_alpn(const struct smp_arg *a, struct sample *smp, const struct smp_sess *ss)
{
	struct tls_hello h;
	struct tlsh_view name, more;
	size_t pos = smp->ctx;

	if (!get_hello(ss, smp, &h) || !h.has_alpn || !tlsh_alpn_next(&h, &pos, &name)) {
		smp->flags &= ~SMP_F_NOT_LAST;
		return 0;
	}
	smp->ctx = pos;
	if (tlsh_alpn_next(&h, &pos, &more))
		smp->flags |= SMP_F_NOT_LAST;
	else
		smp->flags &= ~SMP_F_NOT_LAST;
	if (!name.p)
		name.p = (const uint8_t *)"";
	return ret_str(smp, (const char *)name.p, name.len, SMP_T_STR);
}

static int f_ssl_ec_ext(const struct smp_arg *a, struct sample *smp, const struct smp_sess *ss)
{
	struct tls_hello h;

	if (!get_hello(ss, smp, &h) || !h.has_groups)
		return 0;
	return ret_bool(smp, true);
}

/* 0: no session ticket extension (35), 1: an empty one, 2: a ticket. */
static int f_ssl_st_ext(const struct smp_arg *a, struct sample *smp, const struct smp_sess *ss)
{
	struct tls_hello h;
	struct tlsh_view d;
	size_t pos = 0;
	uint16_t type;

	if (!get_hello(ss, smp, &h))
		return 0;
	while (tlsh_ext_next(&h, &pos, &type, &d))
		if (type == 35)
			return ret_int(smp, d.len ? 2 : 1);
	return ret_int(smp, 0);
}

static int f_ssl_ja3(const struct smp_arg *a, struct sample *smp, const struct smp_sess *ss)
{
	struct tls_hello h;
	char *out = smp_trash(NULL);

	if (!get_hello(ss, smp, &h) || tls_hello_ja3_hash(&h, out) != TLSH_JA3_HASH_LEN)
		return 0;
	return ret_str(smp, out, TLSH_JA3_HASH_LEN, SMP_T_STR);
}

static int f_ssl_ja4(const struct smp_arg *a, struct sample *smp, const struct smp_sess *ss)
{
	struct tls_hello h;
	char *out = smp_trash(NULL);

	if (!get_hello(ss, smp, &h) || tls_hello_ja4(&h, out) != TLSH_JA4_LEN)
		return 0;
	return ret_str(smp, out, TLSH_JA4_LEN, SMP_T_STR);
}

/* ---- protocol detection (lib/proto_detect.h) ------------------------------------------ */

static int f_req_proto(const struct smp_arg *a, struct sample *smp, const struct smp_sess *ss)
{
	const char *n;

	/* the generation's patterns (proto-patterns), then the built-in probes */
	if (protopat_classify(ss->conf, ss->req, ss->req ? ss->req_len : 0, ss->final, &n) == PD_NEED_MORE)
		return need_more(ss, smp);
	return ret_str(smp, n, strlen(n), SMP_T_STR);
}

/* Edit distance between a[0..la) and b, a swap of two neighbours counting
 * as one edit (short words only). */
static size_t edit_distance(const char *a, size_t la, const char *b)
{
	size_t lb = strlen(b), d[32][32];

	if (la >= 32 || lb >= 32)
		return SIZE_MAX;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);

			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	return d[la][lb];
}

void smp_first_facts(const struct smp_sess *ss, struct smp_first_facts *f)
{
	struct tls_hello h;
	size_t len = ss->req ? ss->req_len : 0;
	const char *n;

	memset(f, 0, sizeof(*f));
	if (protopat_classify(ss->conf, ss->req, len, ss->final, &n) != PD_NEED_MORE)
		f->proto = n;
	if (tls_hello_parse(ss->req, len, tls_scratch, sizeof(tls_scratch), &h) != TLSH_OK)
		return;
	if (tls_hello_ja3_hash(&h, f->ja3) != TLSH_JA3_HASH_LEN)
		f->ja3[0] = '\0';
	if (tls_hello_ja4(&h, f->ja4) != TLSH_JA4_LEN)
		f->ja4[0] = '\0';
	if (h.has_sni && h.sni.p && h.sni.len) {
		f->sni_len = h.sni.len < sizeof(f->sni) ? h.sni.len : sizeof(f->sni) - 1;
		memcpy(f->sni, h.sni.p, f->sni_len);
	}
}

/* "3.1" -> 0x00030001, as req.ssl_ver answers; -1 when not M.m. */
static long long dotted_ver(const char *s, const char **end)
{
	char *e;
	long maj = strtol(s, &e, 10), min;

	if (e == s || *e != '.' || maj < 0 || maj > 65535)
		return -1;
	s = e + 1;
	min = strtol(s, &e, 10);
	if (e == s || min < 0 || min > 65535)
		return -1;
	*end = e;
	return (long long)maj << 16 | min;
}

int smp_fetch_pattern(const struct smp_expr *e, enum smp_pat_kind kind, bool icase, const char *v,
		      char *buf, size_t bufsz, const char **out, char **err)
{
	*out = v;
	if (e->nconv)
		return 0; /* converters change what the patterns compare with */
	if (!strcmp(e->fetch->name, "req.proto") && kind == SMP_PAT_STR) {
		char low[32] = "", *known = NULL;
		size_t n = strlen(v), bestd = SIZE_MAX;
		const char *best = "";

		for (size_t k = 0; k < sizeof(low); k++) {
			low[k] = icase ? (char)tolower((unsigned char)v[k]) : v[k];
			if (!v[k])
				break;
		}
		low[sizeof(low) - 1] = '\0';
		if (n < sizeof(low) && pd_proto_lookup(low) >= 0)
			return 0;
		/* a name of the patterns loaded so far (proto-patterns in global) */
		if (protopat_known(cfg_cur_conf, icase ? low : v))
			return 0;
		for (int k = 0; k < PD_PROTO_MAX; k++) {
			const char *pn = pd_proto_name((enum pd_proto)k);
			/* "smtp" means smtp-client: a prefix is the nearest */
			size_t d = n >= 2 && !strncmp(pn, low, n) ? 0 :
				   edit_distance(low, n < sizeof(low) ? n : sizeof(low) - 1, pn);

			if (d < bestd) {
				bestd = d;
				best = pd_proto_name((enum pd_proto)k);
			}
			memprintf(&known, "%s%s%s", known ? known : "", known ? " " : "", pd_proto_name((enum pd_proto)k));
		}
		memprintf(err, "'%s' is not a protocol req.proto returns, did you mean '%s'? (one of: %s)", v, best,
			  known ? known : "");
		free(known);
		return -1;
	}
	if ((!strcmp(e->fetch->name, "req.ssl_ver") || !strcmp(e->fetch->name, "req_ssl_ver")) &&
	    kind == SMP_PAT_INT && strchr(v, '.')) {
		/* M.m or M.m:M.m (a range) */
		const char *p = v, *end;
		long long lo = dotted_ver(p, &end), hi = -2;

		if (lo >= 0 && *end == ':') {
			p = end + 1;
			hi = *p ? dotted_ver(p, &end) : -3;
			if (hi == -3)
				end = p;
		}
		if (lo < 0 || hi == -1 || *end) {
			memprintf(err, "'%s' is not an SSL version (write it major.minor, as 3.1 for TLS 1.0)", v);
			return -1;
		}
		if (hi >= 0)
			snprintf(buf, bufsz, "%lld:%lld", lo, hi);
		else if (hi == -3)
			snprintf(buf, bufsz, "%lld:", lo);
		else
			snprintf(buf, bufsz, "%lld", lo);
		*out = buf;
	}
	return 0;
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
	/* the first bytes as a TLS ClientHello (src/lib/tls_hello.h) */
	{ "req.ssl_hello_type", f_ssl_hello_type, A0, 0, SMP_T_SINT, RQ, NULL, NULL },
	{ "req_ssl_hello_type", f_ssl_hello_type, A0, 0, SMP_T_SINT, RQ, NULL, NULL },
	{ "req.ssl_sni", f_ssl_sni, A0, 0, SMP_T_STR, RQ, NULL, NULL },
	{ "req_ssl_sni", f_ssl_sni, A0, 0, SMP_T_STR, RQ, NULL, NULL },
	{ "req.ssl_ver", f_ssl_ver, A0, 0, SMP_T_SINT, RQ, NULL, NULL },
	{ "req_ssl_ver", f_ssl_ver, A0, 0, SMP_T_SINT, RQ, NULL, NULL },
	{ "req.ssl_alpn", f_ssl_alpn, A0, 0, SMP_T_STR, RQ, NULL, NULL },
	{ "req.ssl_ec_ext", f_ssl_ec_ext, A0, 0, SMP_T_BOOL, RQ, NULL, NULL },
	{ "req.ssl_st_ext", f_ssl_st_ext, A0, 0, SMP_T_SINT, RQ, NULL, NULL },
	{ "req_ssl_st_ext", f_ssl_st_ext, A0, 0, SMP_T_SINT, RQ, NULL, NULL },
	{ "req.ssl_ja3", f_ssl_ja3, A0, 0, SMP_T_STR, RQ, NULL, NULL },
	{ "req.ssl_ja4", f_ssl_ja4, A0, 0, SMP_T_STR, RQ, NULL, NULL },
	/* the first bytes' protocol (src/lib/proto_detect.h) */
	{ "req.proto", f_req_proto, A0, 0, SMP_T_STR, RQ, NULL, NULL },
};
const size_t smp_builtin_nfetches = ARRAY_SIZE(smp_builtin_fetches);
