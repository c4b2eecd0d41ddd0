/* icmpans.c — what a Linux host answers to a closed UDP port and to an echo
 * request, as bytes (see icmpans.h). The packet comes from an attacker:
 * every length read from it is checked against what was captured before
 * it is used.
 */
#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include "lib/icmpans.h"
#include "lib/tcpsynth.h"

#define IP4_HDR 20u
#define IP6_HDR 40u
#define ICMP_HDR 8u

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_csum(uint8_t *p, uint32_t sum)
{
	uint16_t c = (uint16_t)~ts_csum_fold(sum);

	memcpy(p, &c, 2);
}

/* ---- sources Linux answers ---- */

static bool v4_unicast(const uint8_t *a)
{
	/* 0.0.0.0/8, 127/8, 224/4 (multicast) and 240/4 (with broadcast) */
	return a[0] != 0 && a[0] != 127 && a[0] < 224;
}

static bool v6_unicast(const uint8_t *a)
{
	static const uint8_t zero[16];

	if (a[0] == 0xff)                                       /* multicast */
		return false;
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)              /* link-local */
		return false;
	if (!memcmp(a, zero, 15) && (a[15] == 0 || a[15] == 1)) /* ::, ::1 */
		return false;
	return true;
}

/* The pseudo-header sum of an ICMPv6 message of len bytes between src
 * and dst (RFC 8200 section 8.1). */
static uint32_t v6_pseudo(const uint8_t *src, const uint8_t *dst, uint32_t len)
{
	uint8_t tail[8] = { (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len,
			    0, 0, 0, 58 };
	uint32_t s = ts_csum_add(0, src, 16);

	s = ts_csum_add(s, dst, 16);
	return ts_csum_add(s, tail, sizeof(tail));
}

/* ---- classify ---- */

static int classify4(const uint8_t *p, size_t cap, struct icmpans_req *r)
{
	size_t hl = (size_t)(p[0] & 0x0f) * 4, len;
	uint16_t frag;

	if (cap < IP4_HDR || hl < IP4_HDR || hl > cap)
		return -ICMPANS_SKIP_MALFORMED;
	len = get16(p + 2);
	if (len < hl)
		return -ICMPANS_SKIP_MALFORMED;
	if (!v4_unicast(p + 12) || !v4_unicast(p + 16))
		return -ICMPANS_SKIP_SOURCE;
	frag = get16(p + 6);
	if (frag & 0x1fff)
		return -ICMPANS_SKIP_FRAGMENT;  /* Linux answers a first fragment only */
	r->family = AF_INET;
	memcpy(&r->src.v4, p + 12, 4);
	memcpy(&r->dst.v4, p + 16, 4);
	r->len = len;
	r->l4off = hl;
	if (p[9] == 17) {                       /* UDP */
		if (len - hl < 8 || cap - hl < 8)
			return -ICMPANS_SKIP_MALFORMED;
		/* the UDP length must fit the datagram (Linux: "short packet") */
		if (!(frag & 0x2000) && (get16(p + hl + 4) < 8 || get16(p + hl + 4) > len - hl))
			return -ICMPANS_SKIP_MALFORMED;
		r->dport = get16(p + hl + 2);
		r->kind = ICMPANS_UNREACH;
		return ICMPANS_UNREACH;
	}
	if (p[9] == 1 && cap - hl >= 1 && p[hl] == 8) {    /* echo request */
		if (frag & 0x2000)
			return -ICMPANS_SKIP_FRAGMENT;
		if (len - hl < ICMP_HDR)
			return -ICMPANS_SKIP_MALFORMED;
		if (cap < len)
			return -ICMPANS_SKIP_TRUNCATED;
		if (ts_csum_fold(ts_csum_add(0, p + hl, len - hl)) != 0xffff)
			return -ICMPANS_SKIP_CHECKSUM;
		r->kind = ICMPANS_ECHO;
		return ICMPANS_ECHO;
	}
	return -ICMPANS_SKIP_OTHER;
}

static int classify6(const uint8_t *p, size_t cap, struct icmpans_req *r)
{
	size_t len, off = IP6_HDR;
	bool more = false;
	uint8_t nh;

	if (cap < IP6_HDR)
		return -ICMPANS_SKIP_MALFORMED;
	nh = p[6];
	len = IP6_HDR + get16(p + 4);
	if (len == IP6_HDR && nh != 59)
		return -ICMPANS_SKIP_MALFORMED; /* a jumbogram, or nothing */
	if (!v6_unicast(p + 8) || !v6_unicast(p + 24))
		return -ICMPANS_SKIP_SOURCE;
	r->family = AF_INET6;
	memcpy(&r->src.v6, p + 8, 16);
	memcpy(&r->dst.v6, p + 24, 16);
	r->len = len;
	/* extension headers: hop-by-hop, routing, fragment, destination options */
	for (int n = 0; n < 8 && (nh == 0 || nh == 43 || nh == 44 || nh == 60); n++) {
		size_t hl;

		if (off + 8 > cap || off + 8 > len)
			return -ICMPANS_SKIP_MALFORMED;
		if (nh == 44) {
			if (get16(p + off + 2) & 0xfff8)
				return -ICMPANS_SKIP_FRAGMENT;
			more = p[off + 3] & 1;
			hl = 8;
		} else {
			hl = ((size_t)p[off + 1] + 1) * 8;
		}
		nh = p[off];
		off += hl;
	}
	if (off > cap || off > len)
		return -ICMPANS_SKIP_MALFORMED;
	r->l4off = off;
	if (nh == 17) {
		if (len - off < 8 || cap - off < 8)
			return -ICMPANS_SKIP_MALFORMED;
		if (!more && (get16(p + off + 4) < 8 || get16(p + off + 4) > len - off))
			return -ICMPANS_SKIP_MALFORMED;
		r->dport = get16(p + off + 2);
		r->kind = ICMPANS_UNREACH;
		return ICMPANS_UNREACH;
	}
	if (nh == 58 && off < cap && p[off] == 128) {
		if (more)
			return -ICMPANS_SKIP_FRAGMENT;
		if (len - off < ICMP_HDR)
			return -ICMPANS_SKIP_MALFORMED;
		if (cap < len)
			return -ICMPANS_SKIP_TRUNCATED;
		if (ts_csum_fold(ts_csum_add(v6_pseudo(p + 8, p + 24, (uint32_t)(len - off)), p + off, len - off))
		    != 0xffff)
			return -ICMPANS_SKIP_CHECKSUM;
		r->kind = ICMPANS_ECHO;
		return ICMPANS_ECHO;
	}
	return -ICMPANS_SKIP_OTHER;
}

int icmpans_classify(const uint8_t *pkt, size_t caplen, struct icmpans_req *r)
{
	memset(r, 0, sizeof(*r));
	if (!pkt || caplen < 1)
		return -ICMPANS_SKIP_MALFORMED;
	if ((pkt[0] >> 4) == 4)
		return classify4(pkt, caplen, r);
	if ((pkt[0] >> 4) == 6)
		return classify6(pkt, caplen, r);
	return -ICMPANS_SKIP_MALFORMED;
}

/* ---- build ---- */

static size_t build4(const uint8_t *p, size_t cap, const struct icmpans_req *r, uint32_t ident,
		     uint8_t *o, size_t ocap)
{
	size_t body, tot;
	uint8_t *icmp = o + IP4_HDR;

	if (r->kind == ICMPANS_UNREACH) {
		size_t have = cap < r->len ? cap : r->len;

		body = ICMP_HDR + (have < ICMPANS_ERR4_MAX - IP4_HDR - ICMP_HDR ? have :
				   ICMPANS_ERR4_MAX - IP4_HDR - ICMP_HDR);
	} else {
		body = r->len - r->l4off;
	}
	tot = IP4_HDR + body;
	if (tot > ocap)
		return 0;
	o[0] = 0x45;
	o[1] = r->kind == ICMPANS_UNREACH ? (uint8_t)((p[1] & 0x1e) | 0xc0) : p[1];
	put16(o + 2, (uint16_t)tot);
	put16(o + 4, (uint16_t)ident);
	put16(o + 6, 0);                        /* no DF, like Linux's ICMP socket */
	o[8] = ICMPANS_TTL;
	o[9] = 1;
	put16(o + 10, 0);
	memcpy(o + 12, &r->dst.v4, 4);
	memcpy(o + 16, &r->src.v4, 4);
	put_csum(o + 10, ts_csum_add(0, o, IP4_HDR));
	if (r->kind == ICMPANS_UNREACH) {
		memset(icmp, 0, ICMP_HDR);
		icmp[0] = 3;
		icmp[1] = 3;
		memcpy(icmp + ICMP_HDR, p, body - ICMP_HDR);
	} else {
		memcpy(icmp, p + r->l4off, body);
		icmp[0] = 0;
		put16(icmp + 2, 0);
	}
	put_csum(icmp + 2, ts_csum_add(0, icmp, body));
	return tot;
}

static size_t build6(const uint8_t *p, size_t cap, const struct icmpans_req *r, uint32_t ident,
		     uint8_t *o, size_t ocap)
{
	size_t body, tot;
	uint8_t *icmp = o + IP6_HDR;
	uint32_t flow = ident & 0xfffff;
	uint8_t tclass = 0;

	if (r->kind == ICMPANS_UNREACH) {
		size_t have = cap < r->len ? cap : r->len;

		body = ICMP_HDR + (have < ICMPANS_ERR6_MAX - IP6_HDR - ICMP_HDR ? have :
				   ICMPANS_ERR6_MAX - IP6_HDR - ICMP_HDR);
	} else {
		body = r->len - r->l4off;
		tclass = (uint8_t)(((p[0] & 0x0f) << 4) | (p[1] >> 4));
	}
	tot = IP6_HDR + body;
	if (tot > ocap)
		return 0;
	o[0] = (uint8_t)(0x60 | (tclass >> 4));
	o[1] = (uint8_t)(((tclass & 0x0f) << 4) | ((flow >> 16) & 0x0f));
	put16(o + 2, (uint16_t)flow);
	put16(o + 4, (uint16_t)body);
	o[6] = 58;
	o[7] = ICMPANS_TTL;
	memcpy(o + 8, &r->dst.v6, 16);
	memcpy(o + 24, &r->src.v6, 16);
	if (r->kind == ICMPANS_UNREACH) {
		memset(icmp, 0, ICMP_HDR);
		icmp[0] = 1;
		icmp[1] = 4;
		memcpy(icmp + ICMP_HDR, p, body - ICMP_HDR);
	} else {
		memcpy(icmp, p + r->l4off, body);
		icmp[0] = 129;
		put16(icmp + 2, 0);
	}
	put_csum(icmp + 2, ts_csum_add(v6_pseudo(o + 8, o + 24, (uint32_t)body), icmp, body));
	return tot;
}

size_t icmpans_build(const uint8_t *pkt, size_t caplen, const struct icmpans_req *r, uint32_t ident,
		     uint8_t *out, size_t cap)
{
	if (r->kind != ICMPANS_UNREACH && r->kind != ICMPANS_ECHO)
		return 0;
	if (r->kind == ICMPANS_ECHO && (caplen < r->len || r->l4off + ICMP_HDR > r->len))
		return 0;
	if (r->family == AF_INET)
		return build4(pkt, caplen, r, ident, out, cap);
	if (r->family == AF_INET6)
		return build6(pkt, caplen, r, ident, out, cap);
	return 0;
}
