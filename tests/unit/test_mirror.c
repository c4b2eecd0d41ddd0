/* test_mirror.c — the IDS copy's pure parts: lib/tcpsynth (frames, sequence
 * numbers, ACK cadence, checksums checked by an independent sum),
 * lib/udpsynth (UDP frames, checksums against a plain RFC 1071 sum and a
 * value summed by hand), lib/pcapfmt, and the `mirror` / `mirror-depth`
 * keywords (values, file:line errors, inheritance from defaults, udp-lb). The outputs and the session hooks are judged
 * by tshark in tests/netns/test_mirror.sh; here, four threads copy sessions
 * at once to shared pcap, pcap-dir and VXLAN outputs, each flushing its
 * batches with its own timer while the stats are read, and every byte of
 * every session is in each output once (run under ThreadSanitizer by make
 * check-tsan). */
#include "config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "cfg/cfg.h"
#include "lib/pcapfmt.h"
#include "lib/tcpsynth.h"
#include "lib/udpsynth.h"
#include "log/msg.h"
#include "model/conf.h"
#include "model/proxy.h"
#include "model/udplb.h"
#include "core/channel.h"
#include "core/loop.h"
#include "core/mirror_int.h"
#include "lib/thread.h"
#include "ctl/module.h"

/* ---- a frame recorder ---------------------------------------------------------- */

#define MAXF 512
struct frame {
	uint8_t b[1600];
	size_t len, plen;
};
static struct frame fr[MAXF];
static size_t nfr;

static void rec(void *ctx, const uint8_t *hdr, size_t hlen, const uint8_t *p, size_t plen)
{
	(void)ctx;
	assert_true(nfr < MAXF);
	assert_true(hlen + plen <= sizeof(fr[0].b));
	memcpy(fr[nfr].b, hdr, hlen);
	if (plen)
		memcpy(fr[nfr].b + hlen, p, plen);
	fr[nfr].len = hlen + plen;
	fr[nfr].plen = plen;
	nfr++;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* RFC 1071 the textbook way: big-endian 16-bit words */
static uint16_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += rd16(p + i);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* Checks the IP and TCP checksums of frame f; returns the TCP header. */
static const uint8_t *check_frame(const struct frame *f)
{
	const uint8_t *ip = f->b + 14, *tcp;
	uint32_t ps = 0;
	size_t tl;

	if (rd16(f->b + 12) == 0x0800) {
		assert_int_equal(sum16(ip, 20, 0), 0xffff);
		assert_int_equal(rd16(ip + 2), f->len - 14);
		tcp = ip + 20;
		ps = sum16(ip + 12, 8, 0);
		ps += 6;
		tl = f->len - 34;
	} else {
		assert_int_equal(rd16(f->b + 12), 0x86dd);
		assert_int_equal(rd16(ip + 4), f->len - 54);
		tcp = ip + 40;
		ps = sum16(ip + 8, 32, 0);
		ps += 6;
		tl = f->len - 54;
	}
	ps += (uint32_t)tl;
	assert_int_equal(sum16(tcp, tl, ps), 0xffff);
	return tcp;
}

static struct ts_flow flow4(void)
{
	struct ts_flow f;
	uint8_t a[4] = { 192, 0, 2, 7 }, b[4] = { 198, 51, 100, 9 };

	assert_int_equal(ts_flow_init(&f, AF_INET, a, 40001, b, 22, 42), 0);
	return f;
}

static void test_handshake(void **state)
{
	struct ts_flow f = flow4();
	const uint8_t *t;

	(void)state;
	nfr = 0;
	ts_handshake(&f, rec, NULL);
	assert_int_equal(nfr, 3);
	t = check_frame(&fr[0]);
	assert_int_equal(t[13], 0x02);                /* SYN */
	assert_int_equal(rd16(t), 40001);
	assert_int_equal(rd16(t + 2), 22);
	assert_int_equal(t[12] >> 4, 8);             /* 20 + 12 bytes of options */
	assert_int_equal(t[20], 2);                  /* MSS */
	assert_int_equal(rd16(t + 22), TS_MSS_V4);
	assert_int_equal(t[29], TS_WSCALE);
	/* locally administered unicast MACs, client -> server */
	assert_memory_equal(fr[0].b, ts_mac_server, 6);
	assert_memory_equal(fr[0].b + 6, ts_mac_client, 6);
	assert_int_equal(fr[0].b[6] & 0x03, 0x02);
	t = check_frame(&fr[1]);
	assert_int_equal(t[13], 0x12);                /* SYN/ACK */
	assert_int_equal(rd32(t + 8), rd32(check_frame(&fr[0]) + 4) + 1);
	t = check_frame(&fr[2]);
	assert_int_equal(t[13], 0x10);
	assert_int_equal(rd32(t + 8), rd32(check_frame(&fr[1]) + 4) + 1);
}

static void test_segments_and_acks(void **state)
{
	struct ts_flow f = flow4();
	static uint8_t data[200000];
	uint32_t seq0, next, acked = 0;
	size_t payload = 0, acks = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
	nfr = 0;
	ts_handshake(&f, rec, NULL);
	seq0 = next = f.nxt[TS_CLI];
	nfr = 0;
	ts_data(&f, TS_CLI, data, sizeof(data), rec, NULL);
	for (size_t i = 0; i < nfr; i++) {
		const uint8_t *t = check_frame(&fr[i]);

		if (rd16(t) == 40001) {
			/* data: continuous, at most one MSS, never beyond the
			 * window the other side last acknowledged */
			assert_int_equal(rd32(t + 4), next);
			assert_true(fr[i].plen >= 1 && fr[i].plen <= TS_MSS_V4);
			assert_memory_equal(fr[i].b + fr[i].len - fr[i].plen, data + (next - seq0), fr[i].plen);
			next += (uint32_t)fr[i].plen;
			payload += fr[i].plen;
			assert_true(next - seq0 - acked <= (uint32_t)TS_WINDOW << TS_WSCALE);
		} else {
			assert_int_equal(fr[i].plen, 0);
			assert_int_equal(t[13], 0x10);
			acked = rd32(t + 8) - seq0;
			acks++;
		}
	}
	assert_int_equal(payload, sizeof(data));
	assert_int_equal(acked, sizeof(data));        /* the last ACK covers everything */
	assert_true(acks >= sizeof(data) / TS_ACK_EVERY);
	/* the last data segment carries PSH */
	assert_int_equal(check_frame(&fr[nfr - 2])[13], 0x18);
}

static void test_fin_rst_v6(void **state)
{
	struct ts_flow f;
	uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 }, b[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
	const uint8_t *t;
	uint32_t s;

	(void)state;
	assert_int_equal(ts_flow_init(&f, AF_INET6, a, 1234, b, 443, 1), 0);
	assert_int_equal(ts_flow_init(&f, AF_UNIX, a, 1, b, 2, 1), -EAFNOSUPPORT);
	assert_int_equal(ts_flow_init(&f, AF_INET6, a, 1234, b, 443, 1), 0);
	nfr = 0;
	ts_handshake(&f, rec, NULL);
	ts_data(&f, TS_CLI, "abc", 3, rec, NULL);    /* odd length: the checksum's padding */
	ts_fin(&f, TS_CLI, rec, NULL);
	ts_fin(&f, TS_CLI, rec, NULL);               /* once */
	ts_data(&f, TS_CLI, "late", 4, rec, NULL);   /* nothing after a FIN */
	assert_int_equal(nfr, 3 + 2 + 2);
	t = check_frame(&fr[5]);
	assert_int_equal(t[13], 0x11);                /* FIN/ACK */
	s = rd32(t + 4);
	t = check_frame(&fr[6]);
	assert_int_equal(rd32(t + 8), s + 1);
	ts_data(&f, TS_SRV, "hello", 5, rec, NULL);  /* the other way still flows */
	assert_int_equal(nfr, 9);
	ts_rst(&f, TS_SRV, rec, NULL);
	t = check_frame(&fr[9]);
	assert_int_equal(t[13], 0x14);                /* RST/ACK */
	ts_data(&f, TS_SRV, "x", 1, rec, NULL);
	assert_int_equal(nfr, 10);
}

static void test_csum_odd_offsets(void **state)
{
	uint8_t buf[64];

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 37 + 11);
	for (size_t n = 0; n <= sizeof(buf); n++) {
		uint16_t native = ts_csum_fold(ts_csum_add(0, buf, n));
		uint8_t le[2];

		memcpy(le, &native, 2);
		assert_int_equal(rd16(le), sum16(buf, n, 0));
	}
}

/* ts_csum_copy: the same sum as ts_csum_add, and a faithful copy, for
 * every length around its 16-byte steps */
static void test_csum_copy(void **state)
{
	uint8_t src[300], dst[302];

	(void)state;
	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i * 91 + 5);
	for (size_t n = 0; n <= sizeof(src); n++) {
		memset(dst, 0xa5, sizeof(dst));
		assert_int_equal(ts_csum_fold(ts_csum_copy(0x1234, dst, src, n)),
				 ts_csum_fold(ts_csum_add(0x1234, src, n)));
		assert_memory_equal(dst, src, n);
		assert_int_equal(dst[n], 0xa5); /* nothing written past the end */
	}
}

/* Frames built in place (ts_flow.place) are byte for byte the frames built
 * on the stack, and hdr points into the lent room. */
static uint8_t room[4][1600];
static size_t nroom;

static uint8_t *place_cb(void *ctx, size_t flen)
{
	(void)ctx;
	assert_true(flen <= sizeof(room[0]));
	return nroom < 4 ? room[nroom++] : NULL; /* the fifth frame on: none lent */
}

static void test_in_place(void **state)
{
	struct ts_flow a = flow4(), b = flow4();
	static uint8_t data[5000];
	struct frame stack[16];
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 13 + 1);
	nfr = 0;
	ts_handshake(&a, rec, NULL);
	ts_data(&a, TS_CLI, data, 2801, rec, NULL); /* odd: the checksum's padding */
	ts_data(&a, TS_SRV, data, 3000, rec, NULL);
	n = nfr;
	assert_true(n > 5 && n <= 16);
	memcpy(stack, fr, n * sizeof(fr[0]));
	nfr = 0;
	nroom = 0;
	b.place = place_cb;
	ts_handshake(&b, rec, NULL);
	ts_data(&b, TS_CLI, data, 2801, rec, NULL);
	ts_data(&b, TS_SRV, data, 3000, rec, NULL);
	assert_int_equal(nfr, n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(fr[i].len, stack[i].len);
		assert_memory_equal(fr[i].b, stack[i].b, fr[i].len);
		if (i < 4)
			assert_memory_equal(room[i], stack[i].b, stack[i].len);
	}
}

/* Segments whose payload was read in place (the tee path): the same
 * frames, byte for byte, as ts_data() makes from the same bytes, IPv4 and
 * IPv6, odd lengths; ts_skip() leaves a hole of the skipped size. */
static void test_segment_at(void **state)
{
	static uint8_t data[5000], slot[TS_HDR_MAX + TS_MSS_V4];
	uint8_t a6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 }, b6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
	struct frame ref[16];

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 29 + 3);
	for (int v6 = 0; v6 < 2; v6++) {
		struct ts_flow a, b;
		size_t n, len = 2801, off = 0;

		if (v6) {
			assert_int_equal(ts_flow_init(&a, AF_INET6, a6, 1000, b6, 443, 9), 0);
			b = a;
		} else {
			a = b = flow4();
		}
		ts_handshake(&a, rec, NULL);
		ts_handshake(&b, rec, NULL);
		nfr = 0;
		ts_data(&a, TS_SRV, data, len, rec, NULL);
		n = nfr;
		memcpy(ref, fr, n * sizeof(fr[0]));
		nfr = 0;
		while (off < len) {
			size_t k = len - off < b.mss ? len - off : b.mss;

			memcpy(slot + ts_seg_hlen(&b), data + off, k);
			ts_segment_at(&b, TS_SRV, slot, k, off + k == len, rec, NULL);
			off += k;
		}
		ts_ack_data(&b, TS_SRV, true, rec, NULL);
		assert_int_equal(nfr, n);
		for (size_t i = 0; i < n; i++) {
			assert_int_equal(fr[i].len, ref[i].len);
			assert_memory_equal(fr[i].b, ref[i].b, fr[i].len);
			check_frame(&fr[i]);
		}
		/* a hole: the next segment's sequence number is 1000 further */
		ts_skip(&b, TS_SRV, 1000);
		nfr = 0;
		memcpy(slot + ts_seg_hlen(&b), data, 10);
		ts_segment_at(&b, TS_SRV, slot, 10, true, rec, NULL);
		assert_int_equal(nfr, 1);
		assert_int_equal(rd32(check_frame(&fr[0]) + 4), a.nxt[TS_SRV] + 1000);
	}
}

/* The tap batcher (mirror_tap.c) on a pipe (non-blocking writes inline,
 * as a tap's): frames come out whole, in order, one write each, counted
 * when done; a frame larger than a slot is refused; 128 slots at most
 * staged or in flight. Skipped when the kernel offers no io_uring. */
static void test_tap_batch(void **state)
{
	struct tap_batch_res r = { 0 };
	struct tap_batch *tb;
	uint8_t *slot, buf[200];
	int pfd[2], err;
	unsigned n = 0;

	(void)state;
	assert_int_equal(pipe(pfd), 0);
	tb = tap_batch_new(pfd[1], 100, &err);
	if (!tb) {
		close(pfd[0]);
		close(pfd[1]);
		print_message("skip: no io_uring here (%s)\n", strerror(err));
		skip();
	}
	assert_null(tap_batch_slot(tb, 101, &r));
	for (unsigned i = 0; i < 100; i++) {
		slot = tap_batch_slot(tb, 10 + i % 7, &r);
		assert_non_null(slot);
		memset(slot, (int)i, 10 + i % 7);
		tap_batch_commit(tb, 10 + i % 7);
	}
	tap_batch_push(tb, &r);
	assert_int_equal(r.frames, 100);
	assert_int_equal(r.drops, 0);
	for (unsigned i = 0; i < 100; i++) {
		assert_int_equal(read(pfd[0], buf, 10 + i % 7), 10 + i % 7);
		for (unsigned k = 0; k < 10 + i % 7; k++)
			assert_int_equal(buf[k], (uint8_t)i);
		n += 10 + i % 7;
	}
	assert_int_equal(r.bytes, n);
	tap_batch_free(tb, &r);
	close(pfd[0]);
	close(pfd[1]);
}

static void test_pcapfmt(void **state)
{
	uint8_t h[PCAP_FILE_HDR_LEN], r[PCAP_REC_HDR_LEN];
	uint32_t v;

	(void)state;
	pcap_file_hdr(h, false, 65535, PCAP_LINKTYPE_ETHERNET);
	memcpy(&v, h, 4);
	assert_int_equal(v, PCAP_MAGIC_USEC);
	assert_true(pcap_file_hdr_matches(h, sizeof(h), false, PCAP_LINKTYPE_ETHERNET));
	assert_false(pcap_file_hdr_matches(h, sizeof(h), true, PCAP_LINKTYPE_ETHERNET));
	assert_false(pcap_file_hdr_matches(h, 10, false, PCAP_LINKTYPE_ETHERNET));
	pcap_file_hdr(h, true, 65535, PCAP_LINKTYPE_ETHERNET);
	assert_true(pcap_file_hdr_matches(h, sizeof(h), true, PCAP_LINKTYPE_ETHERNET));
	pcap_rec_hdr(r, false, 1700000000, 123456789, 60);
	memcpy(&v, r + 4, 4);
	assert_int_equal(v, 123456);
	pcap_rec_hdr(r, true, 1700000000, 123456789, 60);
	memcpy(&v, r + 4, 4);
	assert_int_equal(v, 123456789);
	memcpy(&v, r + 8, 4);
	assert_int_equal(v, 60);
}

/* ---- keywords ---------------------------------------------------------------- */

static char msgs[16384];

static void capture(int kind, const char *m)
{
	size_t l = strlen(msgs);

	snprintf(msgs + l, sizeof(msgs) - l, "%d: %s\n", kind, m);
}

static int parse(const char *body, struct dp_config **out)
{
	struct dp_config *c = dp_config_new();
	int e;

	msgs[0] = 0;
	ha_msg_hook = capture;
	dp_msg.quiet = true;
	assert_int_equal(modules_init(), 0);
	e = cfg_parse_buffer(c, "m.cfg", body);
	if (!e)
		e = modules_finalize(c);
	if (out && !e)
		*out = c;
	else
		dp_config_put(c);
	return e;
}

static void expect_error(const char *body, const char *needle)
{
	int e = parse(body, NULL);

	if (!e || !strstr(msgs, needle))
		fail_msg("expected an error with \"%s\", got %d: %s", needle, e, msgs);
}

#define FE "frontend f\n  bind 127.0.0.1:1\n"

static void test_kw_errors(void **state)
{
	(void)state;
	expect_error(FE "  mirror\n", "m.cfg:3] : 'mirror': expects an output");
	expect_error(FE "  mirror disk /x\n", "unknown output 'disk'");
	expect_error(FE "  mirror pcap\n", "'mirror pcap' expects a file name");
	expect_error(FE "  mirror pcap /x max-size 10\n", "'max-size' expects a size of at least 4096");
	expect_error(FE "  mirror pcap /x max-files lots\n", "'max-files' expects an integer from 0 to 1000");
	expect_error(FE "  mirror pcap /x namespace n\n", "unknown option 'namespace' (expects 'max-size' or 'max-files')");
	expect_error(FE "  mirror tap averyveryverylongname\n", "invalid interface name 'averyveryverylongname'");
	expect_error(FE "  mirror tap t0 namespace ../x\n", "invalid namespace name '../x'");
	expect_error(FE "  mirror vxlan 192.0.2.1:4789\n", "'vni <n>' is required");
	expect_error(FE "  mirror vxlan 192.0.2.1:4789 vni 16777216\n", "'vni' expects an integer from 0 to 16777215");
	expect_error(FE "  mirror vxlan 192.0.2.1 vni 1\n", "invalid sensor address '192.0.2.1'");
	expect_error(FE "  mirror vxlan 192.0.2.1:4789 vni 1 source 2001:db8::1\n", "not of the same family");
	expect_error(FE "  mirror vxlan 192.0.2.1:4789 vni 1 source 10.0.0.1:5\n", "'source' expects one IP address");
	expect_error(FE "  mirror-depth 1x\n", "m.cfg:3] : 'mirror-depth': invalid size '1x'");
	expect_error(FE "  mirror-depth\n", "'mirror-depth'");
	expect_error("global\n  mirror pcap /x\n", "'mirror'");
	expect_error(FE "  mirror pcap /x max-size 1m\n  mirror pcap /x max-size 2m\n",
		     "m.cfg:4] : 'mirror pcap /x': written with other max-size/max-files at m.cfg:3");
}

/* ---- lib/udpsynth ------------------------------------------------------------- */

/* RFC 1071 the plain way, big-endian words: independent of ts_csum_add */
static uint16_t be_csum(const uint8_t *const *parts, const size_t *lens, size_t n)
{
	uint32_t sum = 0;
	uint8_t carry = 0;
	bool odd = false;

	for (size_t k = 0; k < n; k++)
		for (size_t i = 0; i < lens[k]; i++) {
			if (!odd)
				carry = parts[k][i];
			else
				sum += (uint32_t)carry << 8 | parts[k][i];
			odd = !odd;
		}
	if (odd)
		sum += (uint32_t)carry << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void check_udp(int fam, const char *a, const char *b, const uint8_t *pl, size_t plen)
{
	struct ts_flow f;
	uint8_t ca[16], sa[16], h[US_HDR_MAX], ph[40], zero[2] = { 0, 0 };
	size_t alen = fam == AF_INET ? 4 : 16, iplen = fam == AF_INET ? 20 : 40, hl;

	assert_int_equal(inet_pton(fam, a, ca), 1);
	assert_int_equal(inet_pton(fam, b, sa), 1);
	assert_int_equal(ts_flow_init(&f, fam, ca, 40000, sa, 53, 7), 0);
	for (int dir = TS_CLI; dir <= TS_SRV; dir++) {
		const uint8_t *ip, *udp;
		uint16_t id = f.ip_id[dir];

		hl = us_frame(&f, dir, h, pl, plen);
		assert_int_equal(hl, TS_ETH_LEN + iplen + 8);
		ip = h + TS_ETH_LEN;
		udp = ip + iplen;
		assert_memory_equal(h, dir == TS_CLI ? ts_mac_server : ts_mac_client, 6);
		assert_memory_equal(h + 6, dir == TS_CLI ? ts_mac_client : ts_mac_server, 6);
		assert_int_equal(get16(h + 12), fam == AF_INET ? 0x0800 : 0x86dd);
		if (fam == AF_INET) {
			const uint8_t *pp[] = { ip };
			size_t pl20[] = { 20 };

			assert_int_equal(ip[9], 17);
			assert_int_equal(get16(ip + 2), 28 + plen);
			assert_int_equal(get16(ip + 4), id);
			assert_memory_equal(ip + 12, dir == TS_CLI ? ca : sa, 4);
			assert_memory_equal(ip + 16, dir == TS_CLI ? sa : ca, 4);
			assert_int_equal(be_csum(pp, pl20, 1), 0); /* a valid header sums to 0xffff */
		} else {
			assert_int_equal(ip[6], 17);
			assert_int_equal(get16(ip + 4), 8 + plen);
			assert_memory_equal(ip + 8, dir == TS_CLI ? ca : sa, 16);
			assert_memory_equal(ip + 24, dir == TS_CLI ? sa : ca, 16);
		}
		assert_int_equal(get16(udp), dir == TS_CLI ? 40000 : 53);
		assert_int_equal(get16(udp + 2), dir == TS_CLI ? 53 : 40000);
		assert_int_equal(get16(udp + 4), 8 + plen);
		/* the pseudo-header (RFC 768 / RFC 8200 8.1), the header with a
		 * zero checksum, the payload */
		memcpy(ph, ip + (fam == AF_INET ? 12 : 8), 2 * alen);
		{
			uint8_t t4[4] = { 0, 17, (uint8_t)((8 + plen) >> 8), (uint8_t)(8 + plen) };
			uint8_t t6[8] = { 0, 0, (uint8_t)((8 + plen) >> 8), (uint8_t)(8 + plen), 0, 0, 0, 17 };
			const uint8_t *pp[] = { ph, fam == AF_INET ? t4 : t6, udp, zero, pl };
			size_t pls[] = { 2 * alen, fam == AF_INET ? 4 : 8, 6, 2, plen };
			uint16_t want = be_csum(pp, pls, 5);

			assert_int_equal(get16(udp + 6), want ? want : 0xffff);
		}
	}
}

static void test_udp_frames(void **state)
{
	uint8_t big[1401];
	/* a DNS query for example.com A (odd length: 29 bytes) */
	static const uint8_t q[] = { 0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
				     0x07, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0x03, 'c', 'o', 'm', 0x00,
				     0x00, 0x01, 0x00, 0x01 };
	struct ts_flow f;
	uint8_t a[4] = { 10, 1, 0, 2 }, b[4] = { 192, 0, 2, 53 }, h[US_HDR_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 131 + 7);
	check_udp(AF_INET, "10.1.0.2", "192.0.2.53", q, sizeof(q));
	check_udp(AF_INET6, "fd01::2", "fd09::35", q, sizeof(q));
	check_udp(AF_INET, "10.1.0.2", "192.0.2.53", big, sizeof(big));
	check_udp(AF_INET6, "2001:db8::1", "2001:db8:ffff::ffff", big, sizeof(big));
	check_udp(AF_INET, "255.255.255.254", "255.255.255.255", NULL, 0);
	/* a known value: 10.1.0.2:40000 -> 192.0.2.53:53, the query above;
	 * sum by hand: 0x0a01 + 0x0002 + 0xc000 + 0x0235 + 0x0011 + 0x0025
	 * + 0x9c40 + 0x0035 + 0x0025 + the payload's words */
	assert_int_equal(ts_flow_init(&f, AF_INET, a, 40000, b, 53, 1), 0);
	assert_int_equal(us_frame(&f, TS_CLI, h, q, sizeof(q)), 42);
	{
		uint32_t s = 0x0a01 + 0x0002 + 0xc000 + 0x0235 + 0x0011 + 0x0025 + 0x9c40 + 0x0035 + 0x0025;

		for (size_t i = 0; i < sizeof(q); i += 2)
			s += (uint32_t)q[i] << 8 | (i + 1 < sizeof(q) ? q[i + 1] : 0);
		while (s >> 16)
			s = (s & 0xffff) + (s >> 16);
		assert_int_equal(get16(h + 34 + 6), (uint16_t)~s);
	}
	/* too large for one IPv4 datagram */
	assert_int_equal(us_frame(&f, TS_CLI, h, big, US_PAYLOAD_MAX + 1), 0);
}

static void test_kw_udplb(void **state)
{
	struct dp_config *c = NULL;
	struct udp_lb *lb;

	(void)state;
	assert_int_equal(parse("udp-lb u\n  dgram-bind 127.0.0.1:15353\n  server s 127.0.0.1:53\n"
			       "  mirror pcap /tmp/u.pcap\n  mirror vxlan 192.0.2.1:4789 vni 3\n  mirror-depth 16k\n",
			       &c), 0);
	lb = udplb_find(c, "u");
	assert_non_null(lb);
	assert_non_null(lb->mirror);
	assert_ptr_equal(lb->mirror->owner, lb);
	assert_int_equal(lb->mirror->n, 2);
	assert_int_equal(lb->mirror->t[0]->kind, MK_PCAP);
	assert_int_equal(lb->mirror->t[1]->kind, MK_VXLAN);
	assert_int_equal(lb->mirror->depth, 16384);
	dp_config_put(c);
	expect_error("udp-lb u\n  mirror tap t0 namespace ../x\n", "m.cfg:2] : 'mirror': ");
	expect_error("udp-lb u\n  mirror-depth 1x\n", "m.cfg:2] : 'mirror-depth': invalid size '1x'");
}

static void test_kw_inherit(void **state)
{
	struct dp_config *c = NULL;
	struct proxy *f, *g, *b;

	(void)state;
	assert_int_equal(parse("defaults\n  mirror pcap /tmp/a.pcap max-size 64k\n  mirror-depth 2m\n"
			       "frontend f\n  bind 127.0.0.1:1\n  mirror tap ids0 namespace sensor\n"
			       "  mirror vxlan [2001:db8::9]:4789 vni 7 source 2001:db8::1\n"
			       "frontend g\n  bind 127.0.0.1:2\n  mirror-depth 0\n"
			       "backend b\n", &c), 0);
	f = dp_config_find_proxy(c, "f", PR_CAP_FE);
	g = dp_config_find_proxy(c, "g", PR_CAP_FE);
	b = dp_config_find_proxy(c, "b", PR_CAP_BE);
	assert_non_null(f);
	assert_non_null(f->mirror);
	assert_int_equal(f->mirror->n, 3);
	assert_int_equal(f->mirror->t[0]->kind, MK_PCAP);
	assert_int_equal(f->mirror->t[0]->max_size, 65536);
	assert_int_equal(f->mirror->t[0]->max_files, MIRROR_MAX_FILES_DEFAULT);
	assert_int_equal(f->mirror->t[1]->kind, MK_TAP);
	assert_string_equal(f->mirror->t[1]->ns, "sensor");
	assert_int_equal(f->mirror->t[2]->vni, 7);
	assert_int_equal(f->mirror->t[2]->src.ss_family, AF_INET6);
	assert_int_equal(f->mirror->depth, 2 << 20);
	/* g's own depth, the defaults' line */
	assert_int_equal(g->mirror->n, 1);
	assert_true(g->mirror->depth_set);
	assert_int_equal(g->mirror->depth, 0);
	/* b shares the defaults' list untouched */
	assert_int_equal(b->mirror->n, 1);
	assert_int_equal(b->mirror->depth, 2 << 20);
	assert_ptr_equal(b->mirror->t[0], f->mirror->t[0]);
	dp_config_put(c);
}

/* ---- several threads ---------------------------------------------------------------- */

#define NTHR 4
#define MT_SESS 40
#define MT_CLI 700      /* bytes per client read, 3 reads */
#define MT_SRV 1000     /* bytes per server read, 2 reads */
#define MT_PORT0 20000

struct mt_mirror {
	const struct proxy *fe;
	unsigned no;
	unsigned long long id0;
};

static volatile int mt_running;

static void mt_read(struct mirror_sess *ms, bool cli, struct chan *c, char *buf, size_t n)
{
	uint64_t before = c->total;

	memset(buf, cli ? 'c' : 's', n);
	c->buf = buf;
	c->off = 0;
	c->len = n;
	c->total += n;
	mirror_sess_read(ms, cli, c, before, false);
}

static void *mt_sessions(void *arg)
{
	struct mt_mirror *a = arg;
	struct mirror_sess *ms[MT_SESS];
	struct chan cc[MT_SESS], sc[MT_SESS];
	static _Thread_local char buf[MT_SRV];

	tid = a->no + 1;
	th_loop = ev_loop_new(EVFLAG_AUTO);
	memset(cc, 0, sizeof(cc));
	memset(sc, 0, sizeof(sc));
	for (unsigned i = 0; i < MT_SESS; i++) {
		struct sockaddr_storage cli = { 0 }, dst = { 0 };
		struct sockaddr_in *c4 = (struct sockaddr_in *)&cli, *d4 = (struct sockaddr_in *)&dst;

		c4->sin_family = d4->sin_family = AF_INET;
		inet_pton(AF_INET, "192.0.2.7", &c4->sin_addr);
		inet_pton(AF_INET, "198.51.100.9", &d4->sin_addr);
		c4->sin_port = htons((uint16_t)(MT_PORT0 + a->no * MT_SESS + i));
		d4->sin_port = htons(80);
		ms[i] = mirror_sess_start(a->fe, NULL, &cli, &dst, a->id0 + i);
		if (!ms[i])
			continue;
		for (int r = 0; r < 3; r++)
			mt_read(ms[i], true, &cc[i], buf, MT_CLI);
		mt_read(ms[i], false, &sc[i], buf, MT_SRV);
	}
	/* the sessions live on: this thread's timer hands its batches and
	 * live pcap-dir files to the writers while the others write */
	usleep(250000);
	ev_run(th_loop, EVRUN_NOWAIT);
	for (unsigned i = 0; i < MT_SESS; i++) {
		if (!ms[i])
			continue;
		mt_read(ms[i], false, &sc[i], buf, MT_SRV);
		mirror_sess_read(ms[i], true, &cc[i], cc[i].total, true);
		mirror_sess_end(ms[i], TERM_EV_DONE, false);
	}
	mirror_out_thread_stop();
	ev_loop_destroy(th_loop);
	th_loop = NULL;
	return NULL;
}

struct mt_count {
	unsigned long long frames;
	unsigned long long cli[NTHR * MT_SESS], srv[NTHR * MT_SESS];
};

/* Counts an Ethernet/IPv4/TCP frame of the copy. */
static void mt_frame(struct mt_count *k, const uint8_t *f, size_t len)
{
	const uint8_t *ip = f + 14, *tcp;
	unsigned ihl, doff, sport, dport, plen;

	assert_true(len >= 54 && rd16(f + 12) == 0x0800);
	ihl = (ip[0] & 15u) * 4;
	tcp = ip + ihl;
	doff = (tcp[12] >> 4) * 4u;
	plen = rd16(ip + 2) - ihl - doff;
	assert_int_equal(rd16(ip + 2) + 14, len);
	sport = rd16(tcp);
	dport = rd16(tcp + 2);
	k->frames++;
	if (dport == 80) {
		assert_in_range(sport, MT_PORT0, MT_PORT0 + NTHR * MT_SESS - 1);
		k->cli[sport - MT_PORT0] += plen;
	} else {
		assert_int_equal(sport, 80);
		assert_in_range(dport, MT_PORT0, MT_PORT0 + NTHR * MT_SESS - 1);
		k->srv[dport - MT_PORT0] += plen;
	}
}

static void mt_pcap(struct mt_count *k, const char *path)
{
	FILE *f = fopen(path, "r");
	static uint8_t rec[70000];
	uint8_t hdr[PCAP_FILE_HDR_LEN];

	assert_non_null(f);
	assert_int_equal(fread(hdr, 1, sizeof(hdr), f), sizeof(hdr));
	while (fread(rec, 1, PCAP_REC_HDR_LEN, f) == PCAP_REC_HDR_LEN) {
		uint32_t cap;

		memcpy(&cap, rec + 8, 4);
		assert_true(cap <= sizeof(rec));
		assert_int_equal(fread(rec, 1, cap, f), cap); /* never half a record */
		mt_frame(k, rec, cap);
	}
	fclose(f);
}

static void mt_whole(const struct mt_count *k)
{
	for (unsigned i = 0; i < NTHR * MT_SESS; i++) {
		assert_int_equal(k->cli[i], 3 * MT_CLI);
		assert_int_equal(k->srv[i], 2 * MT_SRV);
	}
}

struct mt_vx {
	int fd;
	struct mt_count k;
	unsigned long long got;
};

static void *mt_sensor(void *arg)
{
	struct mt_vx *v = arg;
	uint8_t b[2048];

	for (;;) {
		struct pollfd p = { v->fd, POLLIN, 0 };
		ssize_t n;

		if (poll(&p, 1, 50) == 0 && !__atomic_load_n(&mt_running, __ATOMIC_ACQUIRE))
			break;
		while ((n = recv(v->fd, b, sizeof(b), MSG_DONTWAIT)) > 0) {
			/* RFC 7348 header, VNI 9 */
			if (n > 8 && b[0] == 0x08 && b[6] == 9) {
				mt_frame(&v->k, b + 8, (size_t)n - 8);
				v->got++;
			}
		}
	}
	return NULL;
}

static struct {
	unsigned long long pkts[3], drops[3];
	unsigned n;
} mt_outs;

static void mt_out_cb(void *arg, const char *name, unsigned long long packets, unsigned long long bytes,
		      unsigned long long drops)
{
	(void)arg;
	(void)bytes;
	if (mt_outs.n < 3) {
		/* registry order: newest first (vxlan, pcap-dir, pcap) */
		mt_outs.pkts[mt_outs.n] = packets;
		mt_outs.drops[mt_outs.n] = drops;
	}
	(void)name;
	mt_outs.n++;
}

static void test_threads_outputs(void **state)
{
	char dir[] = "/tmp/test_mirror.XXXXXX", cfg[1024], path[600];
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t slen = sizeof(sin);
	struct mt_mirror args[NTHR];
	static struct mt_count kp, kd;
	static struct mt_vx vx;
	pthread_t th[NTHR], sensor;
	struct dp_config *c = NULL;
	struct mirror_gen *g;
	struct mirror_stats st;
	struct proxy *fe;
	unsigned files = 0;
	int rcv = 1 << 22;
	DIR *d;
	struct dirent *de;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/files", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	memset(&vx, 0, sizeof(vx));
	vx.fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(vx.fd >= 0);
	if (setsockopt(vx.fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)) < 0)
		setsockopt(vx.fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	assert_int_equal(bind(vx.fd, (struct sockaddr *)&sin, slen), 0);
	assert_int_equal(getsockname(vx.fd, (struct sockaddr *)&sin, &slen), 0);
	snprintf(cfg, sizeof(cfg),
		 "frontend f\n  bind 127.0.0.1:1\n  mirror pcap %s/all.pcap\n  mirror pcap-dir %s/files\n"
		 "  mirror vxlan 127.0.0.1:%u vni 9\n",
		 dir, dir, ntohs(sin.sin_port));
	assert_int_equal(parse(cfg, &c), 0);
	fe = dp_config_find_proxy(c, "f", PR_CAP_FE);
	g = mirror_gen_of(c);
	assert_non_null(fe);
	assert_non_null(g);
	for (struct mirror_target *t = g->targets; t; t = t->next) {
		char *err = NULL;

		t->out = mirror_out_get(t, c, &err);
		if (!t->out)
			fail_msg("%s", err);
	}
	mt_running = 1;
	assert_int_equal(pthread_create(&sensor, NULL, mt_sensor, &vx), 0);
	for (unsigned k = 0; k < NTHR; k++) {
		args[k] = (struct mt_mirror){ fe, k, 1000ull * (k + 1) };
		assert_int_equal(pthread_create(&th[k], NULL, mt_sessions, &args[k]), 0);
	}
	dp_nbthread = NTHR + 1;
	/* the stats page reads the counters meanwhile */
	for (int i = 0; i < 50; i++) {
		mirror_get_stats(&st);
		usleep(5000);
	}
	for (unsigned k = 0; k < NTHR; k++)
		pthread_join(th[k], NULL);
	mirror_out_flush_all(true);
	mirror_get_stats(&st);
	memset(&mt_outs, 0, sizeof(mt_outs));
	mirror_foreach_output(mt_out_cb, NULL);
	assert_int_equal(mt_outs.n, 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(mt_outs.drops[i], 0);
	assert_int_equal(st.drops, 0);
	assert_int_equal(st.sessions >= NTHR * MT_SESS, 1);
	/* every output took every frame: the same count for each */
	assert_int_equal(mt_outs.pkts[0], mt_outs.pkts[1]);
	assert_int_equal(mt_outs.pkts[1], mt_outs.pkts[2]);
	dp_config_put(c); /* the outputs go: the writers finish */
	__atomic_store_n(&mt_running, 0, __ATOMIC_RELEASE);
	pthread_join(sensor, NULL);
	close(vx.fd);
	dp_nbthread = 1;

	snprintf(path, sizeof(path), "%s/all.pcap", dir);
	mt_pcap(&kp, path);
	assert_int_equal(kp.frames, mt_outs.pkts[2]);
	mt_whole(&kp);
	snprintf(path, sizeof(path), "%s/files", dir);
	d = opendir(path);
	assert_non_null(d);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/files/%s", dir, de->d_name);
		mt_pcap(&kd, path);
		unlink(path);
		files++;
	}
	closedir(d);
	assert_int_equal(files, NTHR * MT_SESS);
	assert_int_equal(kd.frames, kp.frames);
	mt_whole(&kd);
	/* loopback UDP may drop at a slow receiver: what arrived is whole */
	print_message("%llu frames per output, %llu VXLAN packets arrived\n", kp.frames, vx.got);
	assert_true(vx.got > 0 && vx.got <= kp.frames);
	if (vx.got == kp.frames)
		mt_whole(&vx.k);
	snprintf(path, sizeof(path), "%s/all.pcap", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/files", dir);
	rmdir(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake),
		cmocka_unit_test(test_segments_and_acks),
		cmocka_unit_test(test_fin_rst_v6),
		cmocka_unit_test(test_csum_odd_offsets),
		cmocka_unit_test(test_csum_copy),
		cmocka_unit_test(test_in_place),
		cmocka_unit_test(test_segment_at),
		cmocka_unit_test(test_tap_batch),
		cmocka_unit_test(test_pcapfmt),
		cmocka_unit_test(test_kw_errors),
		cmocka_unit_test(test_kw_inherit),
		cmocka_unit_test(test_udp_frames),
		cmocka_unit_test(test_kw_udplb),
		cmocka_unit_test(test_threads_outputs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
