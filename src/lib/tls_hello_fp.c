/* tls_hello_fp.c — JA3 and JA4 client fingerprints of a parsed ClientHello
 * (tls_hello.h; definitions in doc/tls-fingerprints.md).
 *
 * Every text is produced once, piece by piece, into a "sink" that appends to
 * a caller buffer and/or feeds a hash, so that the hashes need no buffer for
 * the whole text (a hostile hello can make a JA3 text tens of kB long).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/digest.h"
#include "lib/tls_hello.h"

struct sink {
	char *out;		/* NULL: no text kept */
	size_t outsz;
	size_t len;		/* text length so far (even past outsz) */
	struct md5_ctx *md5;
	struct sha256_ctx *sha;
};

static void put(struct sink *s, const char *p, size_t n)
{
	size_t room;

	if (s->md5)
		md5_update(s->md5, p, n);
	if (s->sha)
		sha256_update(s->sha, p, n);
	if (s->out && s->outsz) {
		room = s->len < s->outsz - 1 ? s->outsz - 1 - s->len : 0;
		if (room) {
			memcpy(s->out + s->len, p, n < room ? n : room);
			s->out[s->len + (n < room ? n : room)] = '\0';
		}
	}
	s->len += n;
}

static void put_c(struct sink *s, char c)
{
	put(s, &c, 1);
}

static void put_dec(struct sink *s, unsigned int v)
{
	char b[12];
	int n = snprintf(b, sizeof(b), "%u", v);

	put(s, b, (size_t)n);
}

static void put_hex4(struct sink *s, uint16_t v)
{
	static const char hx[] = "0123456789abcdef";
	char b[4] = { hx[v >> 12], hx[(v >> 8) & 15], hx[(v >> 4) & 15], hx[v & 15] };

	put(s, b, 4);
}

/* Returns the sink's result: the length, or -ENOSPC when it did not fit. */
static int sink_end(struct sink *s)
{
	if (s->out && s->outsz && s->len == 0)
		s->out[0] = '\0';
	if (s->out && s->len >= s->outsz)
		return -ENOSPC;
	return (int)s->len;
}

static bool fp_ok(const struct tls_hello *h)
{
	return h && h->status == TLSH_OK && !h->sslv2;
}

/* Non-GREASE values of a u16 list, decimal, '-' separated. */
static void put_u16_dec_list(struct sink *s, struct tlsh_view v)
{
	size_t i;
	bool first = true;
	uint16_t x;

	for (i = 0; v.p && i < tlsh_u16_count(v); i++) {
		x = tlsh_u16_at(v, i);
		if (tlsh_is_grease(x))
			continue;
		if (!first)
			put_c(s, '-');
		put_dec(s, x);
		first = false;
	}
}

static void ja3_text(const struct tls_hello *h, struct sink *s)
{
	size_t pos = 0, i;
	uint16_t type;
	struct tlsh_view d;
	bool first = true;

	put_dec(s, h->legacy_version);
	put_c(s, ',');
	put_u16_dec_list(s, h->ciphers);
	put_c(s, ',');
	while (tlsh_ext_next(h, &pos, &type, &d)) {
		if (tlsh_is_grease(type))
			continue;
		if (!first)
			put_c(s, '-');
		put_dec(s, type);
		first = false;
	}
	put_c(s, ',');
	put_u16_dec_list(s, h->groups);
	put_c(s, ',');
	for (i = 0; h->ec_point_formats.p && i < h->ec_point_formats.len; i++) {
		if (i)
			put_c(s, '-');
		put_dec(s, h->ec_point_formats.p[i]);
	}
}

int tls_hello_ja3(const struct tls_hello *h, char *out, size_t outsz)
{
	struct sink s = { .out = out, .outsz = outsz };

	if (outsz)
		out[0] = '\0';
	if (!fp_ok(h))
		return -ENOENT;
	ja3_text(h, &s);
	return sink_end(&s);
}

int tls_hello_ja3_hash(const struct tls_hello *h, char out[TLSH_JA3_HASH_LEN + 1])
{
	struct md5_ctx md5;
	struct sink s = { .md5 = &md5 };
	uint8_t d[MD5_DIGEST_LEN];

	out[0] = '\0';
	if (!fp_ok(h))
		return -ENOENT;
	md5_init(&md5);
	ja3_text(h, &s);
	md5_final(&md5, d);
	digest_hex(out, d, sizeof(d));
	return TLSH_JA3_HASH_LEN;
}

/* ------------------------------------------------------------------ JA4 -- */

/* The JA4 inputs: non-GREASE ciphers and extensions, in wire order and
 * sorted (insertion sort: bounded by TLSH_JA4_MAX_ITEMS, and real lists are
 * short and often nearly sorted). */
struct ja4_in {
	uint16_t ciphers[TLSH_JA4_MAX_ITEMS], exts[TLSH_JA4_MAX_ITEMS];
	size_t nciphers, nexts;
};

static void sort16(uint16_t *a, size_t n)
{
	size_t i, j;
	uint16_t v;

	for (i = 1; i < n; i++) {
		v = a[i];
		for (j = i; j > 0 && a[j - 1] > v; j--)
			a[j] = a[j - 1];
		a[j] = v;
	}
}

static int ja4_collect(const struct tls_hello *h, struct ja4_in *in)
{
	size_t i, pos = 0;
	uint16_t v;
	struct tlsh_view d;

	in->nciphers = in->nexts = 0;
	for (i = 0; i < tlsh_u16_count(h->ciphers); i++) {
		v = tlsh_u16_at(h->ciphers, i);
		if (tlsh_is_grease(v))
			continue;
		if (in->nciphers == TLSH_JA4_MAX_ITEMS)
			return -E2BIG;
		in->ciphers[in->nciphers++] = v;
	}
	while (tlsh_ext_next(h, &pos, &v, &d)) {
		if (tlsh_is_grease(v))
			continue;
		if (in->nexts == TLSH_JA4_MAX_ITEMS)
			return -E2BIG;
		in->exts[in->nexts++] = v;
	}
	return 0;
}

static bool is_alnum(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* JA4_a: t, version, d|i, cipher count, extension count, ALPN chars. */
static void ja4_a(const struct tls_hello *h, const struct ja4_in *in, char a[11])
{
	static const char hx[] = "0123456789abcdef";
	const char *ver;
	struct tlsh_view name = { 0 };
	size_t pos = 0;
	uint8_t f, l;

	switch (h->version) {
	case 0x0304: ver = "13"; break;
	case 0x0303: ver = "12"; break;
	case 0x0302: ver = "11"; break;
	case 0x0301: ver = "10"; break;
	case 0x0300: ver = "s3"; break;
	case 0x0002: ver = "s2"; break;
	case 0xfeff: ver = "d1"; break;
	case 0xfefd: ver = "d2"; break;
	case 0xfefc: ver = "d3"; break;
	default:     ver = "00"; break;
	}
	a[0] = 't';
	a[1] = ver[0];
	a[2] = ver[1];
	a[3] = h->has_sni ? 'd' : 'i';
	a[4] = (char)('0' + (in->nciphers > 99 ? 99 : in->nciphers) / 10);
	a[5] = (char)('0' + (in->nciphers > 99 ? 99 : in->nciphers) % 10);
	a[6] = (char)('0' + (in->nexts > 99 ? 99 : in->nexts) / 10);
	a[7] = (char)('0' + (in->nexts > 99 ? 99 : in->nexts) % 10);
	a[8] = a[9] = '0';
	if (tlsh_alpn_next(h, &pos, &name) && name.len) {
		f = name.p[0];
		l = name.p[name.len - 1];
		if (is_alnum(f) && is_alnum(l)) {
			a[8] = (char)f;
			a[9] = (char)l;
		} else {
			a[8] = hx[f >> 4];
			a[9] = hx[l & 15];
		}
	}
	a[10] = '\0';
}

/* Comma-separated 4-hex list; SNI and ALPN skipped when skip_sni_alpn. */
static void put_hex_list(struct sink *s, const uint16_t *v, size_t n, bool skip_sni_alpn)
{
	size_t i;
	bool first = true;

	for (i = 0; i < n; i++) {
		if (skip_sni_alpn && (v[i] == 0x0000 || v[i] == 0x0010))
			continue;
		if (!first)
			put_c(s, ',');
		put_hex4(s, v[i]);
		first = false;
	}
}

static bool has_hex_items(const uint16_t *v, size_t n, bool skip_sni_alpn)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!skip_sni_alpn || (v[i] != 0x0000 && v[i] != 0x0010))
			return true;
	return false;
}

/* "_" and the non-GREASE signature algorithms in wire order, if any. */
static void put_sig_algs(struct sink *s, const struct tls_hello *h)
{
	size_t i;
	bool first = true;
	uint16_t v;

	for (i = 0; h->sig_algs.p && i < tlsh_u16_count(h->sig_algs); i++) {
		v = tlsh_u16_at(h->sig_algs, i);
		if (tlsh_is_grease(v))
			continue;
		put_c(s, first ? '_' : ',');
		put_hex4(s, v);
		first = false;
	}
}

/* The first 12 hex digits of the SHA-256 fed into c. */
static void trunc_hash(char out[13], struct sha256_ctx *c)
{
	uint8_t d[SHA256_DIGEST_LEN];
	char hex[2 * SHA256_DIGEST_LEN + 1];

	sha256_final(c, d);
	digest_hex(hex, d, sizeof(d));
	memcpy(out, hex, 12);
	out[12] = '\0';
}

int tls_hello_ja4(const struct tls_hello *h, char out[TLSH_JA4_LEN + 1])
{
	struct ja4_in in;
	struct sha256_ctx c;
	struct sink s = { .sha = &c };
	char a[11], b[13] = "000000000000", cc[13] = "000000000000";
	int ret;

	out[0] = '\0';
	if (!fp_ok(h))
		return -ENOENT;
	ret = ja4_collect(h, &in);
	if (ret < 0)
		return ret;
	ja4_a(h, &in, a);
	sort16(in.ciphers, in.nciphers);
	sort16(in.exts, in.nexts);
	if (in.nciphers) {
		sha256_init(&c);
		put_hex_list(&s, in.ciphers, in.nciphers, false);
		trunc_hash(b, &c);
	}
	if (has_hex_items(in.exts, in.nexts, true)) {
		sha256_init(&c);
		put_hex_list(&s, in.exts, in.nexts, true);
		put_sig_algs(&s, h);
		trunc_hash(cc, &c);
	}
	snprintf(out, TLSH_JA4_LEN + 1, "%s_%s_%s", a, b, cc);
	return TLSH_JA4_LEN;
}

int tls_hello_ja4_raw(const struct tls_hello *h, bool original, char *out, size_t outsz)
{
	struct ja4_in in;
	struct sink s = { .out = out, .outsz = outsz };
	char a[11];
	size_t pos = 0;
	uint16_t v;
	struct tlsh_view d;
	bool first = true;
	int ret;

	if (outsz)
		out[0] = '\0';
	if (!fp_ok(h))
		return -ENOENT;
	ret = ja4_collect(h, &in);
	if (ret < 0)
		return ret;
	ja4_a(h, &in, a);
	put(&s, a, 10);
	put_c(&s, '_');
	if (!original) {
		sort16(in.ciphers, in.nciphers);
		sort16(in.exts, in.nexts);
		put_hex_list(&s, in.ciphers, in.nciphers, false);
		put_c(&s, '_');
		put_hex_list(&s, in.exts, in.nexts, true);
	} else {
		put_hex_list(&s, in.ciphers, in.nciphers, false);
		put_c(&s, '_');
		/* wire order, SNI and ALPN kept */
		while (tlsh_ext_next(h, &pos, &v, &d)) {
			if (tlsh_is_grease(v))
				continue;
			if (!first)
				put_c(&s, ',');
			put_hex4(&s, v);
			first = false;
		}
	}
	put_sig_algs(&s, h);
	return sink_end(&s);
}
