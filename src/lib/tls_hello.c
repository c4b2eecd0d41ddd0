/* tls_hello.c — ClientHello parsing over the record layer (tls_hello.h).
 *
 * Structure: the record walk (tlsh_records) finds the handshake message
 * across one or more TLS records and hands a contiguous body to the body
 * parser (tlsh_body), which checks every length against what is left. The
 * fingerprints (tls_hello_fp.c) and the HAProxy-compatible record-level
 * fetches (tls_hello_compat.c) are in their own files.
 */
#include "config.h"

#include <string.h>

#include "lib/tls_hello.h"

#define TLS_CT_HANDSHAKE	0x16
#define TLS_HS_CLIENT_HELLO	0x01

/* Extension types this parser looks into. */
#define EXT_SERVER_NAME		0x0000
#define EXT_SUPPORTED_GROUPS	0x000a
#define EXT_EC_POINT_FORMATS	0x000b
#define EXT_SIG_ALGS		0x000d
#define EXT_ALPN		0x0010
#define EXT_SUPPORTED_VERSIONS	0x002b

/* Smallest ClientHello body: version, random, session id length, one cipher
 * suite with its length, one compression method with its length. */
#define HELLO_MIN_BODY		(2 + 32 + 1 + 2 + 2 + 1 + 1)

static enum tlsh_status fail(struct tls_hello *h, enum tlsh_err err)
{
	h->status = TLSH_NOT_HELLO;
	h->err = err;
	return h->status;
}

const char *tlsh_strerror(enum tlsh_err err)
{
	switch (err) {
	case TLSH_E_NONE:		return "no error";
	case TLSH_E_NOT_TLS:		return "not a TLS record";
	case TLSH_E_NOT_CLIENT_HELLO:	return "handshake message is not a ClientHello";
	case TLSH_E_RECORD:		return "malformed TLS record";
	case TLSH_E_MALFORMED:		return "malformed ClientHello";
	case TLSH_E_TOO_BIG:		return "ClientHello too large";
	case TLSH_E_MAX:		break;
	}
	return "unknown error";
}

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* A list with a 2-byte length prefix that fills exactly len bytes and whose
 * body is made of elem-byte items (elem 1: any length). */
static bool list16(const uint8_t *p, size_t len, size_t elem, struct tlsh_view *out)
{
	size_t n;

	if (len < 2)
		return false;
	n = rd16(p);
	if (n != len - 2 || n % elem)
		return false;
	out->p = p + 2;
	out->len = n;
	return true;
}

/* Same with a 1-byte length prefix. */
static bool list8(const uint8_t *p, size_t len, size_t elem, struct tlsh_view *out)
{
	if (len < 1 || p[0] != len - 1 || (len - 1) % elem)
		return false;
	out->p = p + 1;
	out->len = len - 1;
	return true;
}

/* server_name: a list of (type(1), len(2), name) entries that fills the
 * extension exactly; the first host_name (type 0) is kept. An empty
 * extension (as servers send) is accepted as "present, no name". */
static bool ext_sni(const uint8_t *p, size_t len, struct tls_hello *h)
{
	struct tlsh_view list;
	size_t pos = 0, n;

	if (len == 0)
		return true;
	if (!list16(p, len, 1, &list))
		return false;
	while (pos < list.len) {
		if (list.len - pos < 3)
			return false;
		n = rd16(list.p + pos + 1);
		if (n > list.len - pos - 3)
			return false;
		if (list.p[pos] == 0 && !h->sni.p) {
			h->sni.p = list.p + pos + 3;
			h->sni.len = n;
		}
		pos += 3 + n;
	}
	return true;
}

/* ALPN: protocol_name_list of len(1) name entries filling it exactly. */
static bool ext_alpn(const uint8_t *p, size_t len, struct tls_hello *h)
{
	struct tlsh_view list;
	size_t pos = 0;

	if (!list16(p, len, 1, &list))
		return false;
	while (pos < list.len) {
		if ((size_t)list.p[pos] > list.len - pos - 1)
			return false;
		pos += 1 + list.p[pos];
	}
	h->alpn = list;
	return true;
}

/* Walks the extensions block; keeps the first occurrence of each type that
 * matters (a repeated type is a protocol error a server would reject, but
 * the hello stays worth fingerprinting: it is counted and listed as sent). */
static bool extensions(const uint8_t *p, size_t len, struct tls_hello *h)
{
	size_t pos = 0, n;
	uint16_t type;
	const uint8_t *d;

	while (pos < len) {
		if (len - pos < 4)
			return false;
		type = rd16(p + pos);
		n = rd16(p + pos + 2);
		if (n > len - pos - 4)
			return false;
		d = p + pos + 4;
		h->n_extensions++;
		if (tlsh_is_grease(type))
			h->grease = true;
		switch (type) {
		case EXT_SERVER_NAME:
			if (h->has_sni)
				break;
			h->has_sni = true;
			if (!ext_sni(d, n, h))
				return false;
			break;
		case EXT_ALPN:
			if (h->has_alpn)
				break;
			h->has_alpn = true;
			if (!ext_alpn(d, n, h))
				return false;
			break;
		case EXT_SUPPORTED_GROUPS:
			if (h->has_groups)
				break;
			h->has_groups = true;
			if (!list16(d, n, 2, &h->groups))
				return false;
			break;
		case EXT_EC_POINT_FORMATS:
			if (h->has_ec_point_formats)
				break;
			h->has_ec_point_formats = true;
			if (!list8(d, n, 1, &h->ec_point_formats))
				return false;
			break;
		case EXT_SIG_ALGS:
			if (h->has_sig_algs)
				break;
			h->has_sig_algs = true;
			if (!list16(d, n, 2, &h->sig_algs))
				return false;
			break;
		case EXT_SUPPORTED_VERSIONS:
			if (h->has_supported_versions)
				break;
			h->has_supported_versions = true;
			if (!list8(d, n, 2, &h->supported_versions))
				return false;
			break;
		default:
			break;
		}
		pos += 4 + n;
	}
	return true;
}

static bool any_grease(struct tlsh_view v)
{
	size_t i;

	for (i = 0; i < tlsh_u16_count(v); i++)
		if (tlsh_is_grease(tlsh_u16_at(v, i)))
			return true;
	return false;
}

/* The ClientHello body (after the 4-byte handshake header), n bytes. */
static enum tlsh_status tlsh_body(const uint8_t *p, size_t n, struct tls_hello *h)
{
	size_t pos, len, i;
	uint16_t v, best = 0;

	if (n < HELLO_MIN_BODY)
		return fail(h, TLSH_E_MALFORMED);
	h->legacy_version = rd16(p);
	h->random.p = p + 2;
	h->random.len = 32;
	len = p[34];
	if (len > 32 || len > n - 35)
		return fail(h, TLSH_E_MALFORMED);
	h->session_id.p = p + 35;
	h->session_id.len = len;
	pos = 35 + len;

	/* cipher_suites<2..2^16-2> */
	if (n - pos < 2)
		return fail(h, TLSH_E_MALFORMED);
	len = rd16(p + pos);
	if (len < 2 || len % 2 || len > n - pos - 2)
		return fail(h, TLSH_E_MALFORMED);
	h->ciphers.p = p + pos + 2;
	h->ciphers.len = len;
	pos += 2 + len;

	/* compression_methods<1..2^8-1> */
	if (n - pos < 1)
		return fail(h, TLSH_E_MALFORMED);
	len = p[pos];
	if (len < 1 || len > n - pos - 1)
		return fail(h, TLSH_E_MALFORMED);
	h->compression.p = p + pos + 1;
	h->compression.len = len;
	pos += 1 + len;

	/* extensions<0..2^16-1>, optional, filling the rest exactly */
	if (pos < n) {
		if (n - pos < 2)
			return fail(h, TLSH_E_MALFORMED);
		len = rd16(p + pos);
		if (len != n - pos - 2)
			return fail(h, TLSH_E_MALFORMED);
		h->has_extensions = true;
		h->extensions.p = p + pos + 2;
		h->extensions.len = len;
		if (!extensions(h->extensions.p, len, h))
			return fail(h, TLSH_E_MALFORMED);
	}

	h->version = h->legacy_version;
	if (h->supported_versions.p) {
		for (i = 0; i < tlsh_u16_count(h->supported_versions); i++) {
			v = tlsh_u16_at(h->supported_versions, i);
			if (!tlsh_is_grease(v) && v > best)
				best = v;
		}
		if (best)
			h->version = best;
	}
	if (any_grease(h->ciphers) || any_grease(h->groups) ||
	    any_grease(h->sig_algs) || any_grease(h->supported_versions))
		h->grease = true;
	h->status = TLSH_OK;
	return h->status;
}

/* Walks TLS records from the first byte until the whole handshake message
 * is there. Rejects as early as the bytes allow (each header byte is checked
 * as soon as it arrived) so that a classifier gets its NO quickly. */
static enum tlsh_status tlsh_records(const uint8_t *buf, size_t len,
				     uint8_t *scratch, size_t scratch_size,
				     struct tls_hello *h)
{
	size_t off = 0, total = 0, need = 0, rlen, avail, i, copied;
	uint8_t hs[4];
	unsigned int nrec = 0;

	for (;;) {
		if (off == len)
			return TLSH_NEED_MORE;
		if (buf[off] != TLS_CT_HANDSHAKE)
			return fail(h, nrec ? TLSH_E_RECORD : TLSH_E_NOT_TLS);
		if (len - off < 2)
			return TLSH_NEED_MORE;
		if (buf[off + 1] != 3)
			return fail(h, nrec ? TLSH_E_RECORD : TLSH_E_NOT_TLS);
		if (len - off < 5)
			return TLSH_NEED_MORE;
		rlen = rd16(buf + off + 3);
		if (rlen == 0 || rlen > TLSH_MAX_RECORD)
			return fail(h, TLSH_E_RECORD);
		if (!nrec)
			h->record_version = rd16(buf + off + 1);
		nrec++;
		avail = len - off - 5 < rlen ? len - off - 5 : rlen;
		/* the handshake header may itself be split over records */
		for (i = 0; total + i < 4 && i < avail; i++) {
			hs[total + i] = buf[off + 5 + i];
			if (total + i == 0 && hs[0] != TLS_HS_CLIENT_HELLO)
				return fail(h, TLSH_E_NOT_CLIENT_HELLO);
			if (total + i == 3) {
				need = (size_t)hs[1] << 16 | (size_t)hs[2] << 8 | hs[3];
				if (need > TLSH_MAX_HELLO)
					return fail(h, TLSH_E_TOO_BIG);
				if (need < HELLO_MIN_BODY)
					return fail(h, TLSH_E_MALFORMED);
				need += 4;
			}
		}
		if (avail < rlen)
			return TLSH_NEED_MORE;
		total += rlen;
		off += 5 + rlen;
		if (need && total >= need)
			break;
	}

	h->nrecords = nrec;
	h->wire_len = off;
	if (nrec == 1)
		return tlsh_body(buf + 9, need - 4, h);

	/* Split over records: reassemble the message into the scratch. */
	if (!scratch || scratch_size < need)
		return fail(h, TLSH_E_TOO_BIG);
	for (off = 0, copied = 0; copied < need; off += 5 + rlen) {
		rlen = rd16(buf + off + 3);
		avail = need - copied < rlen ? need - copied : rlen;
		memcpy(scratch + copied, buf + off + 5, avail);
		copied += avail;
	}
	return tlsh_body(scratch + 4, need - 4, h);
}

/* SSLv2-format CLIENT-HELLO (RFC 6101 appendix E, RFC 5246 appendix E.2),
 * 2-byte header form only: a client hello never uses the 3-byte one. */
static enum tlsh_status tlsh_sslv2(const uint8_t *buf, size_t len, struct tls_hello *h)
{
	size_t rlen, cilen, silen, chlen;

	if (len < 3)
		return TLSH_NEED_MORE;
	rlen = (size_t)(buf[0] & 0x7f) << 8 | buf[1];
	if (buf[2] != TLS_HS_CLIENT_HELLO)
		return fail(h, TLSH_E_NOT_TLS);
	/* version: 0.2 (SSLv2) or 3.x (a TLS client in compatibility mode) */
	if (len < 4)
		return TLSH_NEED_MORE;
	if (buf[3] != 0 && buf[3] != 3)
		return fail(h, TLSH_E_NOT_TLS);
	if (len < 11)
		return TLSH_NEED_MORE;
	h->legacy_version = rd16(buf + 3);
	cilen = rd16(buf + 5);
	silen = rd16(buf + 7);
	chlen = rd16(buf + 9);
	if (cilen == 0 || cilen % 3 || (silen != 0 && silen != 16) ||
	    chlen < 16 || chlen > 32 || rlen != 9 + cilen + silen + chlen)
		return fail(h, TLSH_E_NOT_TLS);
	if (len < 2 + rlen)
		return TLSH_NEED_MORE;
	h->sslv2 = true;
	h->version = h->legacy_version;
	h->nrecords = 1;
	h->wire_len = 2 + rlen;
	h->ciphers.p = buf + 11;
	h->ciphers.len = cilen;
	h->session_id.p = buf + 11 + cilen;
	h->session_id.len = silen;
	h->random.p = buf + 11 + cilen + silen;
	h->random.len = chlen;
	h->compression.p = h->random.p;	/* empty, but not NULL */
	h->status = TLSH_OK;
	return h->status;
}

enum tlsh_status tls_hello_parse(const uint8_t *buf, size_t len,
				 uint8_t *scratch, size_t scratch_size,
				 struct tls_hello *h)
{
	memset(h, 0, sizeof(*h));
	h->status = TLSH_NEED_MORE;
	if (len == 0)
		return TLSH_NEED_MORE;
	if (buf[0] == TLS_CT_HANDSHAKE)
		return tlsh_records(buf, len, scratch, scratch_size, h);
	if (buf[0] & 0x80)
		return tlsh_sslv2(buf, len, h);
	return fail(h, TLSH_E_NOT_TLS);
}

bool tlsh_ext_next(const struct tls_hello *h, size_t *pos, uint16_t *type,
		   struct tlsh_view *data)
{
	const struct tlsh_view *e = &h->extensions;
	size_t n;

	/* the parse checked the block: each entry fits */
	if (h->status != TLSH_OK || !e->p || *pos + 4 > e->len)
		return false;
	*type = rd16(e->p + *pos);
	n = rd16(e->p + *pos + 2);
	if (n > e->len - *pos - 4)
		return false;
	data->p = e->p + *pos + 4;
	data->len = n;
	*pos += 4 + n;
	return true;
}

bool tlsh_alpn_next(const struct tls_hello *h, size_t *pos, struct tlsh_view *name)
{
	const struct tlsh_view *a = &h->alpn;
	size_t n;

	if (h->status != TLSH_OK || !a->p || *pos >= a->len)
		return false;
	n = a->p[*pos];
	if (n > a->len - *pos - 1)
		return false;
	name->p = a->p + *pos + 1;
	name->len = n;
	*pos += 1 + n;
	return true;
}
