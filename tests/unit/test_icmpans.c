/* test_icmpans.c — the answers of decoys that are not local (lib/icmpans.h)
 * on exact bytes: each request below and the answer expected for it were
 * written by an independent generator (Python, RFC 1071 checksums, the
 * header layouts of RFC 791 / 792 / 8200 / 4443), so that a checksum or a
 * field the builder gets wrong shows as a byte difference; then the length
 * rules (576 / 1280 bytes), the packets Linux does not answer, and the
 * rate limits.
 */
#include "config.h"

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "lib/icmpans.h"

/* UDP 10.1.0.2:40000 -> 10.99.0.3:53 "hello", TOS 0x10, id 0x1234, DF */
static const uint8_t in4[] = {
	0x45, 0x10, 0x00, 0x21, 0x12, 0x34, 0x40, 0x00, 0x40, 0x11, 0x14, 0x20,
	0x0a, 0x01, 0x00, 0x02, 0x0a, 0x63, 0x00, 0x03, 0x9c, 0x40, 0x00, 0x35,
	0x00, 0x0d, 0x0b, 0x24, 0x68, 0x65, 0x6c, 0x6c, 0x6f,
};

/* its port unreachable, ident 0x4242: TOS 0xd0, no DF, TTL 64 */
static const uint8_t exp4[] = {
	0x45, 0xd0, 0x00, 0x3d, 0x42, 0x42, 0x00, 0x00, 0x40, 0x01, 0x23, 0x46,
	0x0a, 0x63, 0x00, 0x03, 0x0a, 0x01, 0x00, 0x02, 0x03, 0x03, 0x11, 0x84,
	0x00, 0x00, 0x00, 0x00, 0x45, 0x10, 0x00, 0x21, 0x12, 0x34, 0x40, 0x00,
	0x40, 0x11, 0x14, 0x20, 0x0a, 0x01, 0x00, 0x02, 0x0a, 0x63, 0x00, 0x03,
	0x9c, 0x40, 0x00, 0x35, 0x00, 0x0d, 0x0b, 0x24, 0x68, 0x65, 0x6c, 0x6c,
	0x6f,
};

/* echo request 10.1.0.2 -> 10.99.0.4, id 0x5555 seq 7 "ping4!", TOS 0x04 */
static const uint8_t ine4[] = {
	0x45, 0x04, 0x00, 0x22, 0x99, 0x99, 0x40, 0x00, 0x3f, 0x01, 0x8d, 0xd4,
	0x0a, 0x01, 0x00, 0x02, 0x0a, 0x63, 0x00, 0x04, 0x08, 0x00, 0x8f, 0xb1,
	0x55, 0x55, 0x00, 0x07, 0x70, 0x69, 0x6e, 0x67, 0x34, 0x21,
};

/* its echo reply, ident 0x0102 */
static const uint8_t expe4[] = {
	0x45, 0x04, 0x00, 0x22, 0x01, 0x02, 0x00, 0x00, 0x40, 0x01, 0x65, 0x6c,
	0x0a, 0x63, 0x00, 0x04, 0x0a, 0x01, 0x00, 0x02, 0x00, 0x00, 0x97, 0xb1,
	0x55, 0x55, 0x00, 0x07, 0x70, 0x69, 0x6e, 0x67, 0x34, 0x21,
};

/* echo request fd00:1::2 -> fd00:99::4, traffic class 0x20, id 0x7777 seq 1 "ping6" */
static const uint8_t ine6[] = {
	0x62, 0x01, 0x23, 0x45, 0x00, 0x0d, 0x3a, 0x40, 0xfd, 0x00, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
	0xfd, 0x00, 0x00, 0x99, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x04, 0x80, 0x00, 0xf8, 0xcc, 0x77, 0x77, 0x00, 0x01,
	0x70, 0x69, 0x6e, 0x67, 0x36,
};

/* its echo reply, flow label 0xabcde, traffic class kept */
static const uint8_t expe6[] = {
	0x62, 0x0a, 0xbc, 0xde, 0x00, 0x0d, 0x3a, 0x40, 0xfd, 0x00, 0x00, 0x99,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04,
	0xfd, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x02, 0x81, 0x00, 0xf7, 0xcc, 0x77, 0x77, 0x00, 0x01,
	0x70, 0x69, 0x6e, 0x67, 0x36,
};

/* UDP [fd00:1::2]:40001 -> [fd00:99::3]:161 "abc" */
static const uint8_t in6[] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x0b, 0x11, 0x40, 0xfd, 0x00, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
	0xfd, 0x00, 0x00, 0x99, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x03, 0x9c, 0x41, 0x00, 0xa1, 0x00, 0x0b, 0xa3, 0xf2,
	0x61, 0x62, 0x63,
};

/* its ICMPv6 port unreachable, flow label 0x42, traffic class 0 */
static const uint8_t exp6[] = {
	0x60, 0x00, 0x00, 0x42, 0x00, 0x3b, 0x3a, 0x40, 0xfd, 0x00, 0x00, 0x99,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03,
	0xfd, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x02, 0x01, 0x04, 0x92, 0xb6, 0x00, 0x00, 0x00, 0x00,
	0x60, 0x00, 0x00, 0x00, 0x00, 0x0b, 0x11, 0x40, 0xfd, 0x00, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
	0xfd, 0x00, 0x00, 0x99, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x03, 0x9c, 0x41, 0x00, 0xa1, 0x00, 0x0b, 0xa3, 0xf2,
	0x61, 0x62, 0x63,
};

static void answer_is(const uint8_t *in, size_t inlen, uint32_t ident, int kind, const uint8_t *exp, size_t explen)
{
	struct icmpans_req r;
	uint8_t out[ICMPANS_MAX];
	size_t n;

	assert_int_equal(icmpans_classify(in, inlen, &r), kind);
	assert_int_equal(r.kind, kind);
	n = icmpans_build(in, inlen, &r, ident, out, sizeof(out));
	assert_int_equal(n, explen);
	assert_memory_equal(out, exp, explen);
	/* a buffer one byte short gets nothing */
	assert_int_equal(icmpans_build(in, inlen, &r, ident, out, explen - 1), 0);
}

static void test_unreach4(void **state)
{
	struct icmpans_req r;

	(void)state;
	answer_is(in4, sizeof(in4), 0x4242, ICMPANS_UNREACH, exp4, sizeof(exp4));
	assert_int_equal(icmpans_classify(in4, sizeof(in4), &r), ICMPANS_UNREACH);
	assert_int_equal(r.family, AF_INET);
	assert_int_equal(r.dport, 53);
	assert_int_equal(ntohl(r.src.v4.s_addr), 0x0a010002);
	assert_int_equal(ntohl(r.dst.v4.s_addr), 0x0a630003);
}

static void test_unreach6(void **state)
{
	(void)state;
	answer_is(in6, sizeof(in6), 0x42, ICMPANS_UNREACH, exp6, sizeof(exp6));
}

static void test_echo4(void **state)
{
	(void)state;
	answer_is(ine4, sizeof(ine4), 0x0102, ICMPANS_ECHO, expe4, sizeof(expe4));
}

static void test_echo6(void **state)
{
	(void)state;
	answer_is(ine6, sizeof(ine6), 0xabcde, ICMPANS_ECHO, expe6, sizeof(expe6));
}

/* RFC 1071, the slow way: a checksum over a whole message folds to 0xffff */
static uint16_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* A UDP datagram of plen payload bytes (its checksum left 0: unused). */
static size_t udp4_pkt(uint8_t *p, size_t plen)
{
	size_t len = 28 + plen;

	memset(p, 0, len);
	p[0] = 0x45;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	p[8] = 64;
	p[9] = 17;
	p[12] = 10, p[13] = 1, p[15] = 2;
	p[16] = 10, p[17] = 99, p[19] = 3;
	p[20] = 0x9c, p[21] = 0x40, p[23] = 53;
	p[24] = (uint8_t)((len - 20) >> 8);
	p[25] = (uint8_t)(len - 20);
	for (size_t i = 0; i < plen; i++)
		p[28 + i] = (uint8_t)i;
	return len;
}

static size_t udp6_pkt(uint8_t *p, size_t plen)
{
	size_t len = 48 + plen;

	memset(p, 0, len);
	p[0] = 0x60;
	p[4] = (uint8_t)((len - 40) >> 8);
	p[5] = (uint8_t)(len - 40);
	p[6] = 17;
	p[7] = 64;
	p[8] = 0xfd, p[23] = 2;
	p[24] = 0xfd, p[39] = 3;
	p[40] = 0x9c, p[41] = 0x41, p[43] = 161;
	p[44] = (uint8_t)((len - 40) >> 8);
	p[45] = (uint8_t)(len - 40);
	for (size_t i = 0; i < plen; i++)
		p[48 + i] = (uint8_t)i;
	return len;
}

static void test_length_rules(void **state)
{
	static uint8_t in[1500], out[ICMPANS_MAX];
	struct icmpans_req r;
	size_t n, len;

	(void)state;
	/* IPv4: as much as fits in 576 bytes */
	len = udp4_pkt(in, 1000);
	assert_int_equal(icmpans_classify(in, len, &r), ICMPANS_UNREACH);
	n = icmpans_build(in, len, &r, 1, out, sizeof(out));
	assert_int_equal(n, 576);
	assert_int_equal(out[2] << 8 | out[3], 576);
	assert_memory_equal(out + 28, in, 548);
	assert_int_equal(sum16(out, 20, 0), 0xffff);
	assert_int_equal(sum16(out + 20, n - 20, 0), 0xffff);
	/* a short one is quoted whole */
	len = udp4_pkt(in, 10);
	assert_int_equal(icmpans_classify(in, len, &r), ICMPANS_UNREACH);
	assert_int_equal(icmpans_build(in, len, &r, 1, out, sizeof(out)), 28 + 38);
	/* a capture cut short: what was captured is quoted */
	len = udp4_pkt(in, 1000);
	assert_int_equal(icmpans_classify(in, 100, &r), ICMPANS_UNREACH);
	assert_int_equal(icmpans_build(in, 100, &r, 1, out, sizeof(out)), 128);
	/* IPv6: as much as fits in 1280 bytes */
	len = udp6_pkt(in, 1400);
	assert_int_equal(icmpans_classify(in, len, &r), ICMPANS_UNREACH);
	n = icmpans_build(in, len, &r, 1, out, sizeof(out));
	assert_int_equal(n, 1280);
	assert_int_equal(out[4] << 8 | out[5], 1240);
	assert_memory_equal(out + 48, in, 1232);
	{
		/* pseudo-header: src, dst, length, next header */
		uint32_t s = sum16(out + 8, 32, 0) + 1240 + 58;

		assert_int_equal(sum16(out + 40, n - 40, s), 0xffff);
	}
}

static void test_not_answered(void **state)
{
	uint8_t p[1500] = { 0 };
	struct icmpans_req r;
	size_t len;

	(void)state;
	assert_int_equal(icmpans_classify(p, 0, &r), -ICMPANS_SKIP_MALFORMED);
	/* one byte of an IPv6 header (found by tests/fuzz/fuzz_icmpans.c) */
	p[0] = 0x60;
	assert_int_equal(icmpans_classify(p, 1, &r), -ICMPANS_SKIP_MALFORMED);
	/* sources Linux does not answer */
	len = udp4_pkt(p, 4);
	p[12] = 127;
	assert_int_equal(icmpans_classify(p, len, &r), -ICMPANS_SKIP_SOURCE);
	p[12] = 224;
	assert_int_equal(icmpans_classify(p, len, &r), -ICMPANS_SKIP_SOURCE);
	p[12] = 0;
	assert_int_equal(icmpans_classify(p, len, &r), -ICMPANS_SKIP_SOURCE);
	p[12] = 255, p[13] = 255, p[14] = 255, p[15] = 255;
	assert_int_equal(icmpans_classify(p, len, &r), -ICMPANS_SKIP_SOURCE);
	/* a non-first fragment; a first one is answered */
	len = udp4_pkt(p, 4);
	p[7] = 0x10;
	assert_int_equal(icmpans_classify(p, len, &r), -ICMPANS_SKIP_FRAGMENT);
	p[7] = 0;
	p[6] = 0x20;
	assert_int_equal(icmpans_classify(p, len, &r), ICMPANS_UNREACH);
	/* UDP length field too long or too short; header cut */
	len = udp4_pkt(p, 4);
	p[25] = 40;
	assert_int_equal(icmpans_classify(p, len, &r), -ICMPANS_SKIP_MALFORMED);
	p[25] = 7;
	assert_int_equal(icmpans_classify(p, len, &r), -ICMPANS_SKIP_MALFORMED);
	assert_int_equal(icmpans_classify(p, 24, &r), -ICMPANS_SKIP_MALFORMED);
	/* IP header length beyond the capture, total length below it */
	len = udp4_pkt(p, 4);
	p[0] = 0x4f;
	assert_int_equal(icmpans_classify(p, 40, &r), -ICMPANS_SKIP_MALFORMED);
	p[0] = 0x45;
	p[3] = 10;
	assert_int_equal(icmpans_classify(p, len, &r), -ICMPANS_SKIP_MALFORMED);
	/* TCP, and ICMP other than an echo request */
	len = udp4_pkt(p, 4);
	p[9] = 6;
	assert_int_equal(icmpans_classify(p, len, &r), -ICMPANS_SKIP_OTHER);
	{
		uint8_t e[sizeof(ine4)];

		memcpy(e, ine4, sizeof(e));
		e[20] = 0;      /* an echo reply */
		assert_int_equal(icmpans_classify(e, sizeof(e), &r), -ICMPANS_SKIP_OTHER);
		memcpy(e, ine4, sizeof(e));
		e[sizeof(e) - 1] ^= 1;  /* bad checksum */
		assert_int_equal(icmpans_classify(e, sizeof(e), &r), -ICMPANS_SKIP_CHECKSUM);
		assert_int_equal(icmpans_classify(ine4, sizeof(ine4) - 1, &r), -ICMPANS_SKIP_TRUNCATED);
	}
	{
		uint8_t e[sizeof(ine6)];

		memcpy(e, ine6, sizeof(e));
		e[41] = 1;      /* code 1: the checksum no longer fits */
		assert_int_equal(icmpans_classify(e, sizeof(e), &r), -ICMPANS_SKIP_CHECKSUM);
		assert_int_equal(icmpans_classify(ine6, sizeof(ine6) - 2, &r), -ICMPANS_SKIP_TRUNCATED);
		memcpy(e, ine6, sizeof(e));
		e[8] = 0xfe, e[9] = 0x80;       /* link-local source */
		assert_int_equal(icmpans_classify(e, sizeof(e), &r), -ICMPANS_SKIP_SOURCE);
		memcpy(e, ine6, sizeof(e));
		e[24] = 0xff;                   /* multicast destination */
		assert_int_equal(icmpans_classify(e, sizeof(e), &r), -ICMPANS_SKIP_SOURCE);
	}
	/* IPv6 jumbogram / empty payload; not IP at all */
	len = udp6_pkt(p, 4);
	p[4] = p[5] = 0;
	assert_int_equal(icmpans_classify(p, len, &r), -ICMPANS_SKIP_MALFORMED);
	p[0] = 0x50;
	assert_int_equal(icmpans_classify(p, len, &r), -ICMPANS_SKIP_MALFORMED);
}

/* IPv6 extension headers before UDP: skipped; a non-first fragment is not
 * answered. */
static void test_ext_headers(void **state)
{
	uint8_t p[200], out[ICMPANS_MAX];
	struct icmpans_req r;
	size_t len = udp6_pkt(p + 8, 4) + 8;

	(void)state;
	memmove(p, p + 8, 40);          /* fixed header first, then 8 bytes of options */
	memset(p + 40, 0, 8);
	p[40] = 17;                     /* hop-by-hop: next header UDP, length 0 (8 bytes) */
	p[42] = 1, p[43] = 4;           /* PadN */
	p[6] = 0;
	p[5] = (uint8_t)(len - 40);
	assert_int_equal(icmpans_classify(p, len, &r), ICMPANS_UNREACH);
	assert_int_equal(r.l4off, 48);
	assert_int_equal(r.dport, 161);
	/* the quote starts at the IPv6 header, extension headers included */
	assert_int_equal(icmpans_build(p, len, &r, 0, out, sizeof(out)), 48 + len);
	assert_memory_equal(out + 48, p, len);
	/* a fragment header with offset 8 */
	p[6] = 44;
	memset(p + 40, 0, 8);
	p[40] = 17;
	p[42] = 0, p[43] = 8;
	assert_int_equal(icmpans_classify(p, len, &r), -ICMPANS_SKIP_FRAGMENT);
	/* an extension header running past the packet */
	p[6] = 60;
	p[41] = 200;
	assert_int_equal(icmpans_classify(p, len, &r), -ICMPANS_SKIP_MALFORMED);
}

/* Linux's limits: a burst of 6 per destination, then one per second; the
 * global bucket of 50, refilled at 1000/s in steps of at least 20 ms. */
static void test_limits(void **state)
{
	struct icmpans_limit *l = calloc(1, sizeof(*l));
	union icpt_addr a, b;
	bool g;
	int ok = 0;

	(void)state;
	assert_non_null(l);
	icmpans_limit_init(l, 1234, 100000);
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.v4.s_addr = htonl(0x0a010002);
	for (int i = 0; i < 20; i++)
		ok += icmpans_limit_allow(l, AF_INET, &a, 100000, &g);
	assert_int_equal(ok, 6);
	assert_false(g);
	assert_false(icmpans_limit_allow(l, AF_INET, &a, 100999, NULL));
	assert_true(icmpans_limit_allow(l, AF_INET, &a, 101000, NULL));
	assert_false(icmpans_limit_allow(l, AF_INET, &a, 101500, NULL));
	/* an IPv6 destination has a bucket of its own */
	b.v6.s6_addr[0] = 0xfd;
	b.v6.s6_addr[15] = 2;
	assert_true(icmpans_limit_allow(l, AF_INET6, &b, 101500, NULL));
	/* the global bucket: 50 - 8 spent; many destinations take the rest,
	 * then (as in Linux, whose stamp moves only at a refill) the 1.5 s
	 * since the start refill it to its burst of 50 once */
	ok = 0;
	for (uint32_t i = 0; i < 100; i++) {
		a.v4.s_addr = htonl(0x0b000000 + i);
		ok += icmpans_limit_allow(l, AF_INET, &a, 101500, &g);
	}
	assert_int_equal(ok, 42 + 50);
	assert_true(g);
	/* 10 ms later: no refill yet (under 20 ms); 20 ms later: 20 credits */
	a.v4.s_addr = htonl(0x0c000001);
	assert_false(icmpans_limit_allow(l, AF_INET, &a, 101510, &g));
	assert_true(g);
	ok = 0;
	for (uint32_t i = 0; i < 100; i++) {
		a.v4.s_addr = htonl(0x0c000000 + i);
		ok += icmpans_limit_allow(l, AF_INET, &a, 101520, NULL);
	}
	assert_int_equal(ok, 20);
	/* after a long pause: never more than the burst of 50 */
	ok = 0;
	for (uint32_t i = 0; i < 100; i++) {
		a.v4.s_addr = htonl(0x0d000000 + i);
		ok += icmpans_limit_allow(l, AF_INET, &a, 200000, NULL);
	}
	assert_int_equal(ok, 50);
	free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unreach4),
		cmocka_unit_test(test_unreach6),
		cmocka_unit_test(test_echo4),
		cmocka_unit_test(test_echo6),
		cmocka_unit_test(test_length_rules),
		cmocka_unit_test(test_not_answered),
		cmocka_unit_test(test_ext_headers),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
