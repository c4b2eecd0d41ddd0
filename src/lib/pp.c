/* pp.c — PROXY protocol v1/v2 decoder and encoder.
 *
 * Follows HAProxy's doc/proxy-protocol.txt. The decoder sees bytes from an
 * attacker before anything else does, so it is strict: every length is
 * checked against what is left, every field is parsed exactly, and it refuses
 * anything the spec does not allow rather than guessing. It is a pure
 * function of its input buffer; the only allocations are copies of the TLV
 * values the caller may want to keep.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "lib/crc32c.h"
#include "lib/pp.h"

#define PP_V1_SIG		"PROXY "
#define PP_V1_SIG_LEN		6
#define PP_V1_MIN		15	/* "PROXY UNKNOWN\r\n" */
#define PP_V2_SIG_LEN		12
#define PP_TLV_HDR_LEN		3
#define PP_SSL_FIXED_LEN	5	/* client (1) + verify (4) */
#define PP_CRC_LEN		4

#define PP2_ADDR_LEN_INET	12	/* 2 * 4 + 2 * 2 */
#define PP2_ADDR_LEN_INET6	36	/* 2 * 16 + 2 * 2 */
#define PP2_UNIX_PATH_LEN	108
#define PP2_ADDR_LEN_UNIX	(2 * PP2_UNIX_PATH_LEN)

/* v2 family (high nibble) and transport (low nibble) values. */
#define PP2_FAM_UNSPEC		0x0
#define PP2_FAM_INET		0x1
#define PP2_FAM_INET6		0x2
#define PP2_FAM_UNIX		0x3
#define PP2_TRANS_UNSPEC	0x0
#define PP2_TRANS_STREAM	0x1
#define PP2_TRANS_DGRAM		0x2

/* The UNIX address block copies sun_path as is; Linux makes it 108 bytes. */
_Static_assert(sizeof(((struct sockaddr_un *)0)->sun_path) == PP2_UNIX_PATH_LEN,
	       "sun_path must be 108 bytes to map the v2 UNIX address block");
_Static_assert(PP_V2_MAX <= 0x7fffffff, "header lengths must fit in int");

static const uint8_t pp_v2_sig[PP_V2_SIG_LEN] = {
	0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A
};

static uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = (v >> 16) & 0xff;
	p[2] = (v >> 8) & 0xff;
	p[3] = v & 0xff;
}

/* Copy of n bytes plus a NUL, so text TLVs can be used as C strings. */
static void *pp_memdup(const uint8_t *p, size_t n)
{
	char *s = malloc(n + 1);

	if (!s)
		return NULL;
	if (n)
		memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

void pp_hdr_clear(struct pp_hdr *h)
{
	size_t i;

	if (!h)
		return;
	free(h->authority);
	free(h->unique_id);
	free(h->netns);
	free(h->alpn);
	for (i = 0; h->custom && i < h->ncustom; i++)
		free(h->custom[i].val);
	free(h->custom);
	memset(h, 0, sizeof(*h));
}

/* ------------------------------------------------------------------ v1 -- */

struct pp_span {
	const char *p;
	size_t len;
};

/* Parses a decimal of 1 to maxdig digits, no leading zero (the spec forbids
 * them so that nobody reads them as octal), value <= max. */
static bool pp_parse_dec(const char *s, size_t n, size_t maxdig,
			 unsigned max, unsigned *val)
{
	unsigned v = 0;
	size_t i;

	if (n == 0 || n > maxdig || (n > 1 && s[0] == '0'))
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return false;
	*val = v;
	return true;
}

/* Exactly four dot-separated decimals 0-255, nothing else. Written by hand
 * rather than with inet_aton(), which accepts octal, hex and short forms. */
static bool pp_parse_v4(struct pp_span f, uint8_t out[4])
{
	size_t i = 0, start;
	unsigned v;
	int k;

	for (k = 0; k < 4; k++) {
		start = i;
		while (i < f.len && f.p[i] != '.')
			i++;
		if (!pp_parse_dec(f.p + start, i - start, 3, 255, &v))
			return false;
		out[k] = (uint8_t)v;
		if (k < 3) {
			if (i == f.len)
				return false;
			i++;
		}
	}
	return i == f.len;
}

/* IPv6 text; inet_pton() implements the grammar (one "::" at most, 128 bits
 * exactly, optional trailing dotted quad as in "::ffff:1.2.3.4"). The span
 * is not NUL-terminated, so it is copied first; the character filter keeps
 * scope ids and anything else inet_pton() might grow to accept out. */
static bool pp_parse_v6(struct pp_span f, uint8_t out[16])
{
	char tmp[INET6_ADDRSTRLEN];
	size_t i;

	if (f.len < 2 || f.len >= sizeof(tmp))
		return false;
	for (i = 0; i < f.len; i++) {
		char c = f.p[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		      (c >= 'A' && c <= 'F') || c == ':' || c == '.'))
			return false;
	}
	memcpy(tmp, f.p, f.len);
	tmp[f.len] = '\0';
	return inet_pton(AF_INET6, tmp, out) == 1;
}

/* Fills ss from an address field and a port field of family af. An address
 * that is valid in the other family gets its own error, because "TCP4 with
 * an IPv6 address" is a sender bug an operator wants named. */
static int pp_v1_endpoint(int af, struct pp_span addr, struct pp_span port,
			  struct sockaddr_storage *ss)
{
	uint8_t a[16];
	unsigned p;

	memset(ss, 0, sizeof(*ss));
	if (af == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		if (!pp_parse_v4(addr, a))
			return pp_parse_v6(addr, a) ? -PP_E_V1_FAMILY : -PP_E_V1_ADDR;
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, a, 4);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		if (!pp_parse_v6(addr, a))
			return pp_parse_v4(addr, a) ? -PP_E_V1_FAMILY : -PP_E_V1_ADDR;
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, a, 16);
	}
	if (!pp_parse_dec(port.p, port.len, 5, 65535, &p))
		return -PP_E_V1_PORT;
	if (af == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)p);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)p);
	return 0;
}

/* Splits [p, end) into exactly n non-empty fields separated by one space
 * each: an empty field means two spaces in a row, a leading or a trailing
 * space, all of which the spec forbids. */
static int pp_v1_split(const char *p, const char *end, struct pp_span *f, int n)
{
	const char *start;
	int i;

	for (i = 0; i < n; i++) {
		start = p;
		while (p < end && *p != ' ')
			p++;
		if (p == start)
			return -PP_E_V1_SYNTAX;
		f[i].p = start;
		f[i].len = (size_t)(p - start);
		if (i < n - 1) {
			if (p == end)
				return -PP_E_V1_SYNTAX;
			p++;
		}
	}
	return p == end ? 0 : -PP_E_V1_SYNTAX;
}

/* Finds the CRLF ending a v1 line in buf[0..len) (len >= 6, signature
 * checked). Returns the line length with CRLF, 0 with *need set when the
 * line may still end legally, or -PP_E_*. A lone CR or LF is an error as soon
 * as it is seen: the spec forbids it as a line end, and nothing legal on a v1
 * line contains one. */
static int pp_v1_find_eol(const uint8_t *buf, size_t len, size_t *need)
{
	size_t lim = len < PP_V1_MAX ? len : PP_V1_MAX;
	size_t i;

	for (i = PP_V1_SIG_LEN; i < lim; i++) {
		if (buf[i] == '\n')
			return -PP_E_V1_EOL;
		if (buf[i] != '\r')
			continue;
		if (i + 2 > PP_V1_MAX)
			return -PP_E_V1_TOO_LONG;
		if (i + 1 == len) {
			*need = i + 2;
			return 0;
		}
		if (buf[i + 1] != '\n')
			return -PP_E_V1_EOL;
		return (int)(i + 2);
	}
	/* No CR yet: the earliest possible end is a CRLF right after the
	 * bytes we have. If even that overshoots 107 bytes, fail now. */
	if (len + 2 > PP_V1_MAX)
		return -PP_E_V1_TOO_LONG;
	*need = len + 2 < PP_V1_MIN ? PP_V1_MIN : len + 2;
	return 0;
}

static int pp_v1_decode(const uint8_t *buf, size_t len, struct pp_hdr *out,
			size_t *need)
{
	const char *p, *end, *word;
	struct pp_span f[4];
	int af, n, ret;

	n = pp_v1_find_eol(buf, len, need);
	if (n <= 0)
		return n;

	p = (const char *)buf + PP_V1_SIG_LEN;
	end = (const char *)buf + n - 2;	/* the CRLF is not part of fields */
	word = p;
	while (p < end && *p != ' ')
		p++;

	if (p - word == 7 && !memcmp(word, "UNKNOWN", 7)) {
		/* The rest of the line, if any, is to be ignored; it must
		 * still be separated from the word by a space, which the
		 * loop above guarantees. */
		out->version = 1;
		out->cmd = PP_CMD_LOCAL;
		out->family = AF_UNSPEC;
		return n;
	}
	if (p == word)
		return -PP_E_V1_SYNTAX;
	if (p - word == 4 && !memcmp(word, "TCP4", 4))
		af = AF_INET;
	else if (p - word == 4 && !memcmp(word, "TCP6", 4))
		af = AF_INET6;
	else
		return -PP_E_BAD_PROTO;
	if (p == end)
		return -PP_E_V1_SYNTAX;

	ret = pp_v1_split(p + 1, end, f, 4);
	if (ret < 0)
		return ret;
	ret = pp_v1_endpoint(af, f[0], f[2], &out->src);
	if (ret < 0)
		return ret;
	ret = pp_v1_endpoint(af, f[1], f[3], &out->dst);
	if (ret < 0)
		return ret;

	out->version = 1;
	out->cmd = PP_CMD_PROXY;
	out->family = af;
	out->socktype = SOCK_STREAM;
	return n;
}

/* ------------------------------------------------------------------ v2 -- */

/* Address block length for a valid family/transport byte, -1 for the
 * combinations the spec says must be rejected. */
static int pp_v2_addr_len(uint8_t fam)
{
	switch (fam) {
	case 0x00:
		return 0;
	case 0x11: case 0x12:
		return PP2_ADDR_LEN_INET;
	case 0x21: case 0x22:
		return PP2_ADDR_LEN_INET6;
	case 0x31: case 0x32:
		return PP2_ADDR_LEN_UNIX;
	default:
		return -1;
	}
}

/* Checks the part of the 16-byte fixed header present in buf[0..len)
 * (signature already matched), so that a bad version, command, family or
 * length fails as soon as its byte arrives instead of after a wait. */
static int pp_v2_check_fixed(const uint8_t *buf, size_t len)
{
	int cmd, alen;

	if (len <= PP_V2_SIG_LEN)
		return 0;
	if (buf[12] >> 4 != 2)
		return -PP_E_V2_VERSION;
	cmd = buf[12] & 0x0f;
	if (cmd != PP_CMD_LOCAL && cmd != PP_CMD_PROXY)
		return -PP_E_V2_CMD;
	/* LOCAL: the spec says to discard the block "including the family
	 * which is ignored", so neither the family nor len is judged. */
	if (cmd == PP_CMD_LOCAL || len <= 13)
		return 0;
	alen = pp_v2_addr_len(buf[13]);
	if (alen < 0)
		return -PP_E_V2_FAMILY;
	if (len >= PP_V2_HDR_LEN && get_be16(buf + 14) < alen)
		return -PP_E_V2_SHORT;
	return 0;
}

static void pp_v2_get_addrs(const uint8_t *p, uint8_t fam, struct pp_hdr *out)
{
	switch (fam >> 4) {
	case PP2_FAM_INET: {
		struct sockaddr_in *s = (struct sockaddr_in *)&out->src;
		struct sockaddr_in *d = (struct sockaddr_in *)&out->dst;

		s->sin_family = d->sin_family = AF_INET;
		memcpy(&s->sin_addr, p, 4);
		memcpy(&d->sin_addr, p + 4, 4);
		memcpy(&s->sin_port, p + 8, 2);
		memcpy(&d->sin_port, p + 10, 2);
		out->family = AF_INET;
		break;
	}
	case PP2_FAM_INET6: {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&out->src;
		struct sockaddr_in6 *d = (struct sockaddr_in6 *)&out->dst;

		s->sin6_family = d->sin6_family = AF_INET6;
		memcpy(&s->sin6_addr, p, 16);
		memcpy(&d->sin6_addr, p + 16, 16);
		memcpy(&s->sin6_port, p + 32, 2);
		memcpy(&d->sin6_port, p + 34, 2);
		out->family = AF_INET6;
		break;
	}
	case PP2_FAM_UNIX: {
		struct sockaddr_un *s = (struct sockaddr_un *)&out->src;
		struct sockaddr_un *d = (struct sockaddr_un *)&out->dst;

		s->sun_family = d->sun_family = AF_UNIX;
		memcpy(s->sun_path, p, PP2_UNIX_PATH_LEN);
		memcpy(d->sun_path, p + PP2_UNIX_PATH_LEN, PP2_UNIX_PATH_LEN);
		out->family = AF_UNIX;
		break;
	}
	default:
		out->family = AF_UNSPEC;
		break;
	}
	switch (fam & 0x0f) {
	case PP2_TRANS_STREAM:
		out->socktype = SOCK_STREAM;
		break;
	case PP2_TRANS_DGRAM:
		out->socktype = SOCK_DGRAM;
		break;
	default:
		out->socktype = 0;
		break;
	}
}

/* What the validation pass learnt, for the copy pass. */
struct pp_tlv_scan {
	uint64_t seen;		/* bit t set: single-valued type t seen */
	size_t crc_off;		/* offset of the CRC32C value, 0 if none */
	size_t ncustom;
};

static int pp_tlv_once(struct pp_tlv_scan *sc, uint8_t type)
{
	uint64_t bit = 1ull << type;	/* only called for types < 64 */

	if (sc->seen & bit)
		return -PP_E_V2_TLV_DUP;
	sc->seen |= bit;
	return 0;
}

/* The SSL TLV is not kept, but a malformed one is a malformed header: its
 * fixed part must be there and its sub-TLVs must tile the rest exactly. */
static int pp_ssl_check(const uint8_t *val, size_t vlen)
{
	size_t off = PP_SSL_FIXED_LEN, sublen;

	if (vlen < PP_SSL_FIXED_LEN)
		return -PP_E_V2_SSL;
	while (off < vlen) {
		if (vlen - off < PP_TLV_HDR_LEN)
			return -PP_E_V2_SSL;
		sublen = get_be16(val + off + 1);
		off += PP_TLV_HDR_LEN;
		if (sublen > vlen - off)
			return -PP_E_V2_SSL;
		off += sublen;
	}
	return 0;
}

/* Validates one TLV value against the rules of its type. */
static int pp_tlv_check(uint8_t type, const uint8_t *val, size_t vlen,
			struct pp_tlv_scan *sc)
{
	if (vlen > PP_TLV_MAX)
		return -PP_E_V2_TLV_LEN;
	switch (type) {
	case PP2_TYPE_AUTHORITY:
		if (vlen > PP_AUTHORITY_MAX)
			return -PP_E_V2_TLV_LEN;
		if (memchr(val, '\0', vlen))
			return -PP_E_V2_TLV_NUL;
		return pp_tlv_once(sc, type);
	case PP2_TYPE_NETNS:
		if (memchr(val, '\0', vlen))
			return -PP_E_V2_TLV_NUL;
		return pp_tlv_once(sc, type);
	case PP2_TYPE_UNIQUE_ID:
		if (vlen > PP_UNIQUE_ID_MAX)
			return -PP_E_V2_TLV_LEN;
		return pp_tlv_once(sc, type);
	case PP2_TYPE_CRC32C:
		if (vlen != PP_CRC_LEN)
			return -PP_E_V2_TLV_LEN;
		return pp_tlv_once(sc, type);
	case PP2_TYPE_ALPN:
		return pp_tlv_once(sc, type);
	case PP2_TYPE_SSL:
		return pp_ssl_check(val, vlen);
	default:
		if (type >= PP2_TYPE_MIN_CUSTOM && type <= PP2_TYPE_MAX_CUSTOM &&
		    ++sc->ncustom > PP_CUSTOM_MAX)
			return -PP_E_V2_TLV_COUNT;
		return 0;	/* NOOP, experimental, unknown: skipped */
	}
}

/* The CRC is computed over the whole header with its own 4 bytes read as
 * zero; buf is const, so the zeroes are fed separately. */
static bool pp_crc_ok(const uint8_t *buf, size_t total, size_t crc_off)
{
	static const uint8_t zero[PP_CRC_LEN];
	uint32_t c;

	c = crc32c(CRC32C_INIT, buf, crc_off);
	c = crc32c(c, zero, sizeof(zero));
	c = crc32c(c, buf + crc_off + PP_CRC_LEN, total - crc_off - PP_CRC_LEN);
	return c == get_be32(buf + crc_off);
}

/* Copies one validated TLV value into out if it is one we keep; out->custom
 * has room for ncap entries. The scan (pp_tlv_check) already refused
 * duplicates and counted the custom TLVs, but this second walk re-reads the
 * bytes rather than a list the scan made: it checks again instead of
 * trusting that the two walks agree, as a second copy would leak the first
 * and one custom TLV too many would write past the array. */
static int pp_tlv_keep(uint8_t type, const uint8_t *val, uint16_t vlen,
		       struct pp_hdr *out, size_t ncap)
{
	struct pp_tlv_custom *c;

	switch (type) {
	case PP2_TYPE_ALPN:
		if (out->alpn)
			return -PP_E_V2_TLV_DUP;
		out->alpn = pp_memdup(val, vlen);
		out->alpn_len = vlen;
		return out->alpn ? 0 : -PP_E_NOMEM;
	case PP2_TYPE_AUTHORITY:
		if (out->authority)
			return -PP_E_V2_TLV_DUP;
		out->authority = pp_memdup(val, vlen);
		return out->authority ? 0 : -PP_E_NOMEM;
	case PP2_TYPE_UNIQUE_ID:
		if (out->unique_id)
			return -PP_E_V2_TLV_DUP;
		out->unique_id = pp_memdup(val, vlen);
		out->unique_id_len = vlen;
		return out->unique_id ? 0 : -PP_E_NOMEM;
	case PP2_TYPE_NETNS:
		if (out->netns)
			return -PP_E_V2_TLV_DUP;
		out->netns = pp_memdup(val, vlen);
		return out->netns ? 0 : -PP_E_NOMEM;
	default:
		if (type < PP2_TYPE_MIN_CUSTOM || type > PP2_TYPE_MAX_CUSTOM)
			return 0;
		if (out->ncustom >= ncap)
			return -PP_E_V2_TLV_COUNT;
		c = &out->custom[out->ncustom];
		c->val = pp_memdup(val, vlen);
		if (!c->val)
			return -PP_E_NOMEM;
		c->type = type;
		c->len = vlen;
		out->ncustom++;
		return 0;
	}
}

/* Parses the TLVs in buf[off..total). Everything is validated (and the CRC
 * checked) before anything is allocated, so a bad header costs no malloc.
 * On error out may hold partial copies; the caller clears it. */
static int pp_v2_tlvs(const uint8_t *buf, size_t total, size_t off,
		      struct pp_hdr *out)
{
	struct pp_tlv_scan sc = { 0 };
	size_t pos, vlen;
	int ret;

	for (pos = off; pos < total; pos += PP_TLV_HDR_LEN + vlen) {
		if (total - pos < PP_TLV_HDR_LEN)
			return -PP_E_V2_TLV;
		vlen = get_be16(buf + pos + 1);
		if (vlen > total - pos - PP_TLV_HDR_LEN)
			return -PP_E_V2_TLV;
		ret = pp_tlv_check(buf[pos], buf + pos + PP_TLV_HDR_LEN, vlen, &sc);
		if (ret < 0)
			return ret;
		if (buf[pos] == PP2_TYPE_CRC32C)
			sc.crc_off = pos + PP_TLV_HDR_LEN;
	}
	if (sc.crc_off) {
		if (!pp_crc_ok(buf, total, sc.crc_off))
			return -PP_E_CRC;
		out->crc_present = true;
	}

	if (sc.ncustom) {
		out->custom = calloc(sc.ncustom, sizeof(*out->custom));
		if (!out->custom)
			return -PP_E_NOMEM;
	}
	for (pos = off; pos < total; pos += PP_TLV_HDR_LEN + vlen) {
		vlen = get_be16(buf + pos + 1);
		ret = pp_tlv_keep(buf[pos], buf + pos + PP_TLV_HDR_LEN,
				  (uint16_t)vlen, out, sc.ncustom);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int pp_v2_decode(const uint8_t *buf, size_t len, struct pp_hdr *out,
			size_t *need)
{
	size_t total;
	uint8_t fam;
	int ret;

	ret = pp_v2_check_fixed(buf, len);
	if (ret < 0)
		return ret;
	if (len < PP_V2_HDR_LEN) {
		*need = PP_V2_HDR_LEN;
		return 0;
	}
	total = PP_V2_HDR_LEN + get_be16(buf + 14);
	if (len < total) {
		*need = total;
		return 0;
	}

	out->version = 2;
	if ((buf[12] & 0x0f) == PP_CMD_LOCAL) {
		/* Real endpoints are to be used; skip the whole block. */
		out->cmd = PP_CMD_LOCAL;
		out->family = AF_UNSPEC;
		return (int)total;
	}
	out->cmd = PP_CMD_PROXY;
	fam = buf[13];
	pp_v2_get_addrs(buf + PP_V2_HDR_LEN, fam, out);
	ret = pp_v2_tlvs(buf, total,
			 PP_V2_HDR_LEN + (size_t)pp_v2_addr_len(fam), out);
	if (ret < 0)
		return ret;
	return (int)total;
}

int pp_decode(const uint8_t *buf, size_t len, struct pp_hdr *out, size_t *need)
{
	struct pp_hdr scratch;
	size_t need_dummy, n;
	struct pp_hdr *h = out ? out : &scratch;
	int ret;

	if (!need)
		need = &need_dummy;
	memset(h, 0, sizeof(*h));
	*need = 0;

	if (len == 0) {
		*need = PP_V1_MIN;	/* the shorter of the two minimums */
		return 0;
	}
	if (buf[0] == PP_V1_SIG[0]) {
		n = len < PP_V1_SIG_LEN ? len : PP_V1_SIG_LEN;
		if (memcmp(buf, PP_V1_SIG, n))
			return -PP_E_NOT_HDR;
		if (len < PP_V1_SIG_LEN) {
			*need = PP_V1_MIN;
			return 0;
		}
		ret = pp_v1_decode(buf, len, h, need);
	} else {
		n = len < PP_V2_SIG_LEN ? len : PP_V2_SIG_LEN;
		if (memcmp(buf, pp_v2_sig, n))
			return -PP_E_NOT_HDR;
		ret = pp_v2_decode(buf, len, h, need);
	}

	/* Only a complete, valid header leaves anything in out. */
	if (ret <= 0 || !out)
		pp_hdr_clear(h);
	return ret;
}

static const char *const pp_errstr[PP_E_MAX] = {
#define BAD "Received an invalid PROXY protocol header: "
	[PP_E_NOT_HDR] = "Received something which does not look like a PROXY protocol header",
	[PP_E_BAD_PROTO] = "Received an unhandled protocol in the PROXY protocol header",
	[PP_E_V1_TOO_LONG] = BAD "no CRLF within the first 107 bytes of the v1 line",
	[PP_E_V1_EOL] = BAD "v1 line ended by a lone CR or LF instead of CRLF",
	[PP_E_V1_SYNTAX] = BAD "v1 fields not separated by exactly one space, or missing",
	[PP_E_V1_ADDR] = BAD "malformed address in the v1 line",
	[PP_E_V1_FAMILY] = BAD "v1 address family does not match TCP4/TCP6",
	[PP_E_V1_PORT] = BAD "malformed v1 port (not decimal, leading zero, or above 65535)",
	[PP_E_V2_VERSION] = "Received something which does not look like a PROXY protocol header: "
			    "v2 signature with a version other than 2",
	[PP_E_V2_CMD] = BAD "v2 command is neither LOCAL nor PROXY",
	[PP_E_V2_FAMILY] = BAD "v2 family/transport byte is not a valid combination",
	[PP_E_V2_SHORT] = BAD "v2 length is shorter than the address block",
	[PP_E_V2_TLV] = BAD "v2 TLV does not fit inside the header length",
	[PP_E_V2_TLV_LEN] = BAD "v2 TLV value of a wrong size (AUTHORITY > 255, UNIQUE_ID > 128, "
			    "CRC32C not 4, any > 1024 bytes)",
	[PP_E_V2_TLV_DUP] = BAD "v2 TLV present more than once",
	[PP_E_V2_TLV_NUL] = BAD "NUL byte inside a v2 AUTHORITY or NETNS TLV",
	[PP_E_V2_TLV_COUNT] = BAD "too many v2 custom TLVs",
	[PP_E_V2_SSL] = BAD "malformed v2 SSL TLV",
	[PP_E_CRC] = BAD "CRC32C mismatch",
	[PP_E_NOMEM] = "Out of memory while decoding a PROXY protocol header",
#undef BAD
};

const char *pp_strerror(int err)
{
	if (err < 0)
		err = -err;
	if (err <= 0 || err >= PP_E_MAX || !pp_errstr[err])
		return "Unknown PROXY protocol error";
	return pp_errstr[err];
}

/* ------------------------------------------------------------ encoders -- */

/* The two addresses of h reduced to what goes on the wire. */
struct pp_wire_addrs {
	int fam;			/* PP2_FAM_* */
	uint8_t src[16], dst[16];	/* INET: first 4 bytes used */
	uint8_t sport[2], dport[2];	/* network order */
	const char *src_path, *dst_path; /* UNIX: 108 bytes each */
};

static bool pp_is_inet(int af)
{
	return af == AF_INET || af == AF_INET6;
}

/* Writes an INET or INET6 address as 16 bytes (IPv4 mapped to ::ffff:a.b.c.d,
 * as the spec asks when the other side is IPv6) and its port. */
static void pp_put_ip6(const struct sockaddr_storage *ss, uint8_t a[16],
		       uint8_t port[2])
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		memset(a, 0, 10);
		a[10] = a[11] = 0xff;
		memcpy(a + 12, &sin->sin_addr, 4);
		memcpy(port, &sin->sin_port, 2);
	} else {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

		memcpy(a, &sin6->sin6_addr, 16);
		memcpy(port, &sin6->sin6_port, 2);
	}
}

static int pp_wire_addrs(const struct pp_hdr *h, struct pp_wire_addrs *w)
{
	int sf = h->src.ss_family, df = h->dst.ss_family;

	memset(w, 0, sizeof(*w));
	if (sf == AF_UNSPEC && df == AF_UNSPEC) {
		w->fam = PP2_FAM_UNSPEC;
	} else if (sf == AF_UNIX && df == AF_UNIX) {
		w->fam = PP2_FAM_UNIX;
		w->src_path = ((const struct sockaddr_un *)&h->src)->sun_path;
		w->dst_path = ((const struct sockaddr_un *)&h->dst)->sun_path;
	} else if (sf == AF_INET && df == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)&h->src;
		const struct sockaddr_in *d = (const struct sockaddr_in *)&h->dst;

		w->fam = PP2_FAM_INET;
		memcpy(w->src, &s->sin_addr, 4);
		memcpy(w->dst, &d->sin_addr, 4);
		memcpy(w->sport, &s->sin_port, 2);
		memcpy(w->dport, &d->sin_port, 2);
	} else if (pp_is_inet(sf) && pp_is_inet(df)) {
		w->fam = PP2_FAM_INET6;
		pp_put_ip6(&h->src, w->src, w->sport);
		pp_put_ip6(&h->dst, w->dst, w->dport);
	} else {
		return -EINVAL;
	}
	return 0;
}

int pp_encode_v1(uint8_t *buf, size_t cap, const struct pp_hdr *h)
{
	char line[PP_V1_MAX + 1], sa[INET6_ADDRSTRLEN], da[INET6_ADDRSTRLEN];
	struct pp_wire_addrs w = { .fam = PP2_FAM_UNSPEC };
	int af, n, ret;

	if (!h || (h->cmd != PP_CMD_LOCAL && h->cmd != PP_CMD_PROXY))
		return -EINVAL;
	if (h->socktype != 0 && h->socktype != SOCK_STREAM &&
	    h->socktype != SOCK_DGRAM)
		return -EINVAL;
	if (h->cmd == PP_CMD_PROXY) {
		ret = pp_wire_addrs(h, &w);
		if (ret < 0)
			return ret;
	}

	if (h->cmd == PP_CMD_LOCAL || h->socktype == SOCK_DGRAM ||
	    (w.fam != PP2_FAM_INET && w.fam != PP2_FAM_INET6)) {
		n = snprintf(line, sizeof(line), "PROXY UNKNOWN\r\n");
	} else {
		af = w.fam == PP2_FAM_INET ? AF_INET : AF_INET6;
		if (!inet_ntop(af, w.src, sa, sizeof(sa)) ||
		    !inet_ntop(af, w.dst, da, sizeof(da)))
			return -EINVAL;
		n = snprintf(line, sizeof(line), "PROXY %s %s %s %u %u\r\n",
			     af == AF_INET ? "TCP4" : "TCP6", sa, da,
			     (unsigned)get_be16(w.sport),
			     (unsigned)get_be16(w.dport));
	}
	/* Cannot happen (104 bytes at most), but never send a cut line. */
	if (n < 0 || n > PP_V1_MAX)
		return -EINVAL;
	if ((size_t)n > cap)
		return -ENOSPC;
	memcpy(buf, line, (size_t)n);
	return n;
}

/* Bytes the TLVs of h take on the wire, or -EINVAL if one breaks the caps
 * the decoder enforces (what we send must be what we, and HAProxy, accept). */
static long pp_v2_tlv_size(const struct pp_hdr *h, unsigned opts)
{
	long sz = 0;
	size_t i, l;

	if (h->alpn || h->alpn_len) {
		if (!h->alpn || h->alpn_len > PP_TLV_MAX)
			return -EINVAL;
		sz += PP_TLV_HDR_LEN + (long)h->alpn_len;
	}
	if (h->authority) {
		l = strnlen(h->authority, PP_AUTHORITY_MAX + 1);
		if (l > PP_AUTHORITY_MAX)
			return -EINVAL;
		sz += PP_TLV_HDR_LEN + (long)l;
	}
	if (opts & PP_OPT_CRC32C)
		sz += PP_TLV_HDR_LEN + PP_CRC_LEN;
	if (h->unique_id || h->unique_id_len) {
		if (!h->unique_id || h->unique_id_len > PP_UNIQUE_ID_MAX)
			return -EINVAL;
		sz += PP_TLV_HDR_LEN + (long)h->unique_id_len;
	}
	if (h->netns) {
		l = strnlen(h->netns, PP_TLV_MAX + 1);
		if (l > PP_TLV_MAX)
			return -EINVAL;
		sz += PP_TLV_HDR_LEN + (long)l;
	}
	if (h->ncustom > PP_CUSTOM_MAX || (h->ncustom && !h->custom))
		return -EINVAL;
	for (i = 0; i < h->ncustom; i++) {
		const struct pp_tlv_custom *c = &h->custom[i];

		if (c->type < PP2_TYPE_MIN_CUSTOM || c->type > PP2_TYPE_MAX_CUSTOM ||
		    c->len > PP_TLV_MAX || (c->len && !c->val))
			return -EINVAL;
		sz += PP_TLV_HDR_LEN + c->len;
	}
	return sz;
}

static size_t pp_put_tlv(uint8_t *p, uint8_t type, const void *val, size_t len)
{
	p[0] = type;
	put_be16(p + 1, (uint16_t)len);
	if (len)
		memcpy(p + PP_TLV_HDR_LEN, val, len);
	return PP_TLV_HDR_LEN + len;
}

/* Writes the TLVs of h at p (room already checked); returns the offset of
 * the CRC32C value relative to p via crc_at (unchanged if none). */
static size_t pp_v2_put_tlvs(uint8_t *p, const struct pp_hdr *h,
			     unsigned opts, size_t *crc_at)
{
	static const uint8_t zero[PP_CRC_LEN];
	size_t off = 0, i;

	if (h->alpn)
		off += pp_put_tlv(p + off, PP2_TYPE_ALPN, h->alpn, h->alpn_len);
	if (h->authority)
		off += pp_put_tlv(p + off, PP2_TYPE_AUTHORITY, h->authority,
				  strlen(h->authority));
	if (opts & PP_OPT_CRC32C) {
		*crc_at = off + PP_TLV_HDR_LEN;
		off += pp_put_tlv(p + off, PP2_TYPE_CRC32C, zero, sizeof(zero));
	}
	if (h->unique_id)
		off += pp_put_tlv(p + off, PP2_TYPE_UNIQUE_ID, h->unique_id,
				  h->unique_id_len);
	if (h->netns)
		off += pp_put_tlv(p + off, PP2_TYPE_NETNS, h->netns,
				  strlen(h->netns));
	for (i = 0; i < h->ncustom; i++)
		off += pp_put_tlv(p + off, h->custom[i].type, h->custom[i].val,
				  h->custom[i].len);
	return off;
}

static size_t pp_v2_put_addrs(uint8_t *p, const struct pp_wire_addrs *w)
{
	switch (w->fam) {
	case PP2_FAM_INET:
		memcpy(p, w->src, 4);
		memcpy(p + 4, w->dst, 4);
		memcpy(p + 8, w->sport, 2);
		memcpy(p + 10, w->dport, 2);
		return PP2_ADDR_LEN_INET;
	case PP2_FAM_INET6:
		memcpy(p, w->src, 16);
		memcpy(p + 16, w->dst, 16);
		memcpy(p + 32, w->sport, 2);
		memcpy(p + 34, w->dport, 2);
		return PP2_ADDR_LEN_INET6;
	case PP2_FAM_UNIX:
		memcpy(p, w->src_path, PP2_UNIX_PATH_LEN);
		memcpy(p + PP2_UNIX_PATH_LEN, w->dst_path, PP2_UNIX_PATH_LEN);
		return PP2_ADDR_LEN_UNIX;
	default:
		return 0;
	}
}

static void pp_v2_put_fixed(uint8_t *buf, int cmd, uint8_t fam, uint16_t len)
{
	memcpy(buf, pp_v2_sig, PP_V2_SIG_LEN);
	buf[12] = (uint8_t)(0x20 | cmd);
	buf[13] = fam;
	put_be16(buf + 14, len);
}

int pp_encode_v2(uint8_t *buf, size_t cap, const struct pp_hdr *h, unsigned opts)
{
	struct pp_wire_addrs w;
	size_t alen, total, crc_at = 0;
	uint8_t trans, fam;
	long tlen;
	int ret;

	if (!h || (opts & ~(unsigned)PP_OPT_CRC32C))
		return -EINVAL;
	if (h->cmd == PP_CMD_LOCAL) {
		if (cap < PP_V2_HDR_LEN)
			return -ENOSPC;
		pp_v2_put_fixed(buf, PP_CMD_LOCAL, 0x00, 0);
		return PP_V2_HDR_LEN;
	}
	if (h->cmd != PP_CMD_PROXY)
		return -EINVAL;

	if (h->socktype == 0 || h->socktype == SOCK_STREAM)
		trans = PP2_TRANS_STREAM;
	else if (h->socktype == SOCK_DGRAM)
		trans = PP2_TRANS_DGRAM;
	else
		return -EINVAL;
	ret = pp_wire_addrs(h, &w);
	if (ret < 0)
		return ret;
	/* UNSPEC takes no transport: 0x01/0x02 alone are invalid. */
	fam = w.fam == PP2_FAM_UNSPEC ? 0x00 : (uint8_t)(w.fam << 4 | trans);
	alen = (size_t)pp_v2_addr_len(fam);

	tlen = pp_v2_tlv_size(h, opts);
	if (tlen < 0)
		return (int)tlen;
	if (alen + (size_t)tlen > 0xffff)
		return -EINVAL;
	total = PP_V2_HDR_LEN + alen + (size_t)tlen;
	if (cap < total)
		return -ENOSPC;

	pp_v2_put_fixed(buf, PP_CMD_PROXY, fam, (uint16_t)(total - PP_V2_HDR_LEN));
	pp_v2_put_addrs(buf + PP_V2_HDR_LEN, &w);
	pp_v2_put_tlvs(buf + PP_V2_HDR_LEN + alen, h, opts, &crc_at);
	/* Last, once every other byte is final; the field is still zero. */
	if (opts & PP_OPT_CRC32C)
		put_be32(buf + PP_V2_HDR_LEN + alen + crc_at,
			 crc32c(CRC32C_INIT, buf, total));
	return (int)total;
}
