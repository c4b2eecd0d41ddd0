/* tcpsynth.c — see tcpsynth.h. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/tcpsynth.h"

const uint8_t ts_mac_client[6] = { 0x02, 0x64, 0x70, 0x00, 0x00, 0x01 };
const uint8_t ts_mac_server[6] = { 0x02, 0x64, 0x70, 0x00, 0x00, 0x02 };

enum { F_FIN = 0x01, F_SYN = 0x02, F_RST = 0x04, F_PSH = 0x08, F_ACK = 0x10 };

/* 64-bit loads, each split into its two 32-bit halves added to a 64-bit
 * accumulator: no carry is lost before the fold (a frame is far below 2^31
 * words), and the loop has no dependency the compiler cannot vectorise. */
uint32_t ts_csum_add(uint32_t start, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t sum = start, s1 = 0, s2 = 0, s3 = 0;

	/* four independent accumulators: a payload read just before (the
	 * tee path sums it where it landed) is summed at load speed, not at
	 * the latency of one chain of adds */
	while (len >= 32) {
		uint64_t a, b, c, d;

		memcpy(&a, p, 8);
		memcpy(&b, p + 8, 8);
		memcpy(&c, p + 16, 8);
		memcpy(&d, p + 24, 8);
		sum += (a & 0xffffffffu) + (a >> 32);
		s1 += (b & 0xffffffffu) + (b >> 32);
		s2 += (c & 0xffffffffu) + (c >> 32);
		s3 += (d & 0xffffffffu) + (d >> 32);
		p += 32;
		len -= 32;
	}
	/* (each below 2^33 per 32 bytes: no carry lost for any frame) */
	sum += s1 + s2 + s3;
	while (len >= 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		sum += (w & 0xffffffffu) + (w >> 32);
		p += 8;
		len -= 8;
	}
	if (len >= 4) {
		uint32_t w;

		memcpy(&w, p, 4);
		sum += w;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t w;

		memcpy(&w, p, 2);
		sum += w;
		p += 2;
		len -= 2;
	}
	if (len) {
		/* the odd last byte is the high byte of a 16-bit word in
		 * network order: in memory order it sits first */
		uint16_t w = 0;

		memcpy(&w, p, 1);
		sum += w;
	}
	while (sum >> 32)
		sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint32_t)sum;
}

uint32_t ts_csum_copy(uint32_t start, void *dst, const void *src, size_t len)
{
	const uint8_t *p = src;
	uint8_t *d = dst;
	uint64_t s1 = start, s2 = 0;

	/* two accumulators: the two halves of each 16-byte step are independent */
	while (len >= 16) {
		uint64_t a, b;

		memcpy(&a, p, 8);
		memcpy(&b, p + 8, 8);
		memcpy(d, &a, 8);
		memcpy(d + 8, &b, 8);
		s1 += (a & 0xffffffffu) + (a >> 32);
		s2 += (b & 0xffffffffu) + (b >> 32);
		p += 16;
		d += 16;
		len -= 16;
	}
	memcpy(d, p, len);
	s1 = (s1 & 0xffffffffu) + (s1 >> 32) + (s2 & 0xffffffffu) + (s2 >> 32);
	while (s1 >> 32)
		s1 = (s1 & 0xffffffffu) + (s1 >> 32);
	/* the tail (under 16 bytes, at an even offset: 16-bit words keep
	 * their place) */
	return ts_csum_add((uint32_t)s1, p, len);
}

uint16_t ts_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* The sums are taken over memory in native order: the complemented result
 * goes back into memory in native order too (RFC 1071, 2.(B)). */
static void put_csum(uint8_t *p, uint32_t sum)
{
	uint16_t c = (uint16_t)~ts_csum_fold(sum);

	memcpy(p, &c, 2);
}

/* splitmix64: spreads a session id into unrelated-looking ISNs */
static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

int ts_flow_init(struct ts_flow *f, int family, const void *cli_addr, uint16_t cli_port, const void *srv_addr,
		 uint16_t srv_port, uint64_t seed)
{
	size_t alen;
	uint64_t r = mix64(seed);

	if (family == AF_INET)
		alen = 4;
	else if (family == AF_INET6)
		alen = 16;
	else
		return -EAFNOSUPPORT;
	memset(f, 0, sizeof(*f));
	f->family = (uint8_t)family;
	memcpy(f->addr[TS_CLI], cli_addr, alen);
	memcpy(f->addr[TS_SRV], srv_addr, alen);
	f->addr_sum = ts_csum_add(ts_csum_add(0, cli_addr, alen), srv_addr, alen);
	f->port[TS_CLI] = cli_port;
	f->port[TS_SRV] = srv_port;
	f->mss = family == AF_INET ? TS_MSS_V4 : TS_MSS_V6;
	f->nxt[TS_CLI] = (uint32_t)r;
	f->nxt[TS_SRV] = (uint32_t)(r >> 32);
	f->ip_id[TS_CLI] = (uint16_t)(r >> 16);
	f->ip_id[TS_SRV] = (uint16_t)(r >> 48);
	return 0;
}

/* Writes the header of a frame from side dir (flags, sequence number, TCP
 * options) in front of its payload at h + hlen; psum is the payload's
 * sum. Returns hlen. */
static size_t fill_hdr(struct ts_flow *f, int dir, unsigned flags, uint32_t seq, const uint8_t *opt, size_t optlen,
		       uint8_t *h, size_t len, uint32_t psum)
{
	size_t iplen = f->family == AF_INET ? 20 : 40;
	size_t tcplen = 20 + optlen, hlen = TS_ETH_LEN + iplen + tcplen;
	uint8_t *ip = h + TS_ETH_LEN, *tcp;
	uint32_t sum, pw;
	uint64_t wide;
	uint8_t pseudo[4];

	memcpy(h, dir == TS_CLI ? ts_mac_server : ts_mac_client, 6);
	memcpy(h + 6, dir == TS_CLI ? ts_mac_client : ts_mac_server, 6);
	put16(h + 12, f->family == AF_INET ? 0x0800 : 0x86dd);
	if (f->family == AF_INET) {
		ip[0] = 0x45;
		ip[1] = 0;
		put16(ip + 2, (uint16_t)(iplen + tcplen + len));
		put16(ip + 4, f->ip_id[dir]++);
		put16(ip + 6, 0x4000); /* DF */
		ip[8] = dir == TS_CLI ? 64 : 63;
		ip[9] = 6;
		put16(ip + 10, 0);
		memcpy(ip + 12, f->addr[dir], 4);
		memcpy(ip + 16, f->addr[!dir], 4);
		put_csum(ip + 10, ts_csum_add(0, ip, 20));
	} else {
		put32(ip, 0x60000000);
		put16(ip + 4, (uint16_t)(tcplen + len));
		ip[6] = 6;
		ip[7] = dir == TS_CLI ? 64 : 63;
		memcpy(ip + 8, f->addr[dir], 16);
		memcpy(ip + 24, f->addr[!dir], 16);
	}
	tcp = ip + iplen;
	put16(tcp, f->port[dir]);
	put16(tcp + 2, f->port[!dir]);
	put32(tcp + 4, seq);
	put32(tcp + 8, (flags & F_ACK) ? f->nxt[!dir] : 0);
	tcp[12] = (uint8_t)((tcplen / 4) << 4);
	tcp[13] = (uint8_t)flags;
	put16(tcp + 14, (flags & F_RST) ? 0 : TS_WINDOW);
	put16(tcp + 16, 0);
	put16(tcp + 18, 0);
	if (optlen)
		memcpy(tcp + 20, opt, optlen);
	/* pseudo-header: both addresses (summed once per flow), protocol,
	 * TCP length; then the TCP header and the payload's sum. A 32-bit
	 * native load adds its two 16-bit words: the fold weighs them alike.
	 * (IPv6's 32-bit length and next header add up to the same sum.) */
	put16(pseudo, 6);
	put16(pseudo + 2, (uint16_t)(tcplen + len));
	memcpy(&pw, pseudo, 4);
	wide = (uint64_t)f->addr_sum + pw + psum;
	sum = ts_csum_add((uint32_t)((wide & 0xffffffffu) + (wide >> 32)), tcp, tcplen);
	put_csum(tcp + 16, sum);
	return hlen;
}

/* Writes one frame from side dir with the given flags, sequence number,
 * TCP options and payload, and hands it to emit. */
static void frame(struct ts_flow *f, int dir, unsigned flags, uint32_t seq, const uint8_t *opt, size_t optlen,
		  const uint8_t *data, size_t len, ts_emit_fn emit, void *ctx)
{
	uint8_t stack[TS_HDR_MAX];
	size_t hlen = TS_ETH_LEN + (f->family == AF_INET ? 20 : 40) + 20 + optlen;
	uint8_t *h = f->place ? f->place(ctx, hlen + len) : NULL;
	uint32_t psum = 0;

	if (h) {
		/* in place: the payload is summed while it is copied */
		if (len)
			psum = ts_csum_copy(0, h + hlen, data, len);
		data = h + hlen;
	} else {
		h = stack;
		if (len)
			psum = ts_csum_add(0, data, len);
	}
	fill_hdr(f, dir, flags, seq, opt, optlen, h, len, psum);
	emit(ctx, h, hlen, data, len);
}

static void ack(struct ts_flow *f, int dir, ts_emit_fn emit, void *ctx)
{
	frame(f, dir, F_ACK, f->nxt[dir], NULL, 0, NULL, 0, emit, ctx);
	f->unacked[!dir] = 0;
}

void ts_handshake(struct ts_flow *f, ts_emit_fn emit, void *ctx)
{
	/* MSS, SACK permitted, NOP + window scale, padded to 32 bits */
	uint8_t opt[12] = { 2, 4, 0, 0, 4, 2, 1, 3, 3, TS_WSCALE, 1, 1 };

	put16(opt + 2, f->mss);
	frame(f, TS_CLI, F_SYN, f->nxt[TS_CLI], opt, 12, NULL, 0, emit, ctx);
	f->nxt[TS_CLI]++;
	frame(f, TS_SRV, F_SYN | F_ACK, f->nxt[TS_SRV], opt, 12, NULL, 0, emit, ctx);
	f->nxt[TS_SRV]++;
	ack(f, TS_CLI, emit, ctx);
	f->open = true;
}

void ts_data(struct ts_flow *f, int dir, const void *data, size_t len, ts_emit_fn emit, void *ctx)
{
	const uint8_t *p = data;

	if (!f->open || f->fin[dir] || !len)
		return;
	while (len) {
		size_t n = len < f->mss ? len : f->mss;

		frame(f, dir, F_ACK | (n == len ? F_PSH : 0), f->nxt[dir], NULL, 0, p, n, emit, ctx);
		f->nxt[dir] += (uint32_t)n;
		f->unacked[dir] += (uint32_t)n;
		p += n;
		len -= n;
		if (len && f->unacked[dir] >= TS_ACK_EVERY)
			ack(f, !dir, emit, ctx);
	}
	ack(f, !dir, emit, ctx);
}

void ts_fin(struct ts_flow *f, int dir, ts_emit_fn emit, void *ctx)
{
	if (!f->open || f->fin[dir])
		return;
	frame(f, dir, F_FIN | F_ACK, f->nxt[dir], NULL, 0, NULL, 0, emit, ctx);
	f->nxt[dir]++;
	f->fin[dir] = true;
	ack(f, !dir, emit, ctx);
}

void ts_rst(struct ts_flow *f, int dir, ts_emit_fn emit, void *ctx)
{
	if (!f->open)
		return;
	frame(f, dir, F_RST | F_ACK, f->nxt[dir], NULL, 0, NULL, 0, emit, ctx);
	f->open = false;
}

size_t ts_seg_hlen(const struct ts_flow *f)
{
	return TS_ETH_LEN + (f->family == AF_INET ? 20 : 40) + 20;
}

void ts_segment_at(struct ts_flow *f, int dir, uint8_t *h, size_t len, bool psh, ts_emit_fn emit, void *ctx)
{
	size_t hlen;

	if (!f->open || f->fin[dir] || !len)
		return;
	/* the payload was just read there: summing it reads it from cache */
	hlen = fill_hdr(f, dir, F_ACK | (psh ? F_PSH : 0), f->nxt[dir], NULL, 0, h, len,
			ts_csum_add(0, h + ts_seg_hlen(f), len));
	f->nxt[dir] += (uint32_t)len;
	f->unacked[dir] += (uint32_t)len;
	emit(ctx, h, hlen, h + hlen, len);
}

void ts_ack_data(struct ts_flow *f, int dir, bool force, ts_emit_fn emit, void *ctx)
{
	if (f->open && f->unacked[dir] && (force || f->unacked[dir] >= TS_ACK_EVERY))
		ack(f, !dir, emit, ctx);
}

void ts_skip(struct ts_flow *f, int dir, size_t len)
{
	if (!f->open || f->fin[dir])
		return;
	f->nxt[dir] += (uint32_t)len;
}
