/* test_pp.c — PROXY protocol codec and CRC-32C: byte vectors, round trips,
 * every malformed case the spec names, and byte-by-byte delivery. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "lib/crc32c.h"
#include "lib/pp.h"

#define SIG "\x0D\x0A\x0D\x0A\x00\x0D\x0A\x51\x55\x49\x54\x0A"
#define BAD_PREFIX "Received an invalid PROXY protocol header"

/* A byte vector written as a string literal (may contain NULs). */
#define VEC(s) (const uint8_t *)(s), sizeof(s) - 1

/* ------------------------------------------------------------ helpers -- */

static void set_in4(struct sockaddr_storage *ss, const char *ip, uint16_t port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	assert_int_equal(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
}

static void set_in6(struct sockaddr_storage *ss, const char *ip, uint16_t port)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	assert_int_equal(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1);
}

static void set_un(struct sockaddr_storage *ss, const char *path, size_t n)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)ss;

	memset(ss, 0, sizeof(*ss));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, n);
}

static void assert_ss_equal(const struct sockaddr_storage *a,
			    const struct sockaddr_storage *b)
{
	assert_int_equal(a->ss_family, b->ss_family);
	switch (a->ss_family) {
	case AF_INET: {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		assert_int_equal(x->sin_port, y->sin_port);
		assert_memory_equal(&x->sin_addr, &y->sin_addr, 4);
		break;
	}
	case AF_INET6: {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		assert_int_equal(x->sin6_port, y->sin6_port);
		assert_memory_equal(&x->sin6_addr, &y->sin6_addr, 16);
		break;
	}
	case AF_UNIX: {
		const struct sockaddr_un *x = (const void *)a, *y = (const void *)b;

		assert_memory_equal(x->sun_path, y->sun_path, sizeof(x->sun_path));
		break;
	}
	default:
		break;
	}
}

static void assert_addr4(const struct sockaddr_storage *ss, const char *ip,
			 uint16_t port)
{
	struct sockaddr_storage want;

	set_in4(&want, ip, port);
	assert_ss_equal(ss, &want);
}

static void assert_addr6(const struct sockaddr_storage *ss, const char *ip,
			 uint16_t port)
{
	struct sockaddr_storage want;

	set_in6(&want, ip, port);
	assert_ss_equal(ss, &want);
}

/* Decodes a vector that must be rejected with code err, both whole and with
 * payload after it (an error must not depend on what follows). */
static void expect_err_n(const uint8_t *v, size_t n, int err, int line)
{
	struct pp_hdr h;
	uint8_t *buf;
	size_t need = 12345;
	int ret;

	ret = pp_decode(v, n, &h, &need);
	if (ret != -err)
		fail_msg("line %d: got %d (%s), want -%d (%s)", line, ret,
			 ret < 0 ? pp_strerror(ret) : "-", err, pp_strerror(err));
	/* out is left empty on error */
	assert_null(h.authority);
	assert_null(h.custom);
	assert_int_equal(h.version, 0);

	buf = malloc(n + 8);
	assert_non_null(buf);
	memcpy(buf, v, n);
	memcpy(buf + n, "payload!", 8);
	ret = pp_decode(buf, n + 8, &h, &need);
	free(buf);
	if (ret != -err)
		fail_msg("line %d (+payload): got %d, want -%d", line, ret, err);
}
#define expect_err(...) expect_err_n(__VA_ARGS__, __LINE__)

/* Every proper prefix must ask for more with a sensible need; the whole
 * header followed by payload must return exactly the header length. */
static void check_partial(const uint8_t *v, size_t n)
{
	static const char payload[] = "GET / HTTP/1.0\r\n\r\n";
	struct pp_hdr h;
	uint8_t *buf;
	size_t i, need;
	int ret;

	buf = malloc(n + sizeof(payload));
	assert_non_null(buf);
	memcpy(buf, v, n);
	memcpy(buf + n, payload, sizeof(payload));
	for (i = 0; i < n; i++) {
		need = 0;
		ret = pp_decode(buf, i, &h, &need);
		if (ret != 0)
			fail_msg("prefix %zu/%zu: got %d (%s)", i, n, ret,
				 pp_strerror(ret));
		assert_true(need > i);
		assert_true(need <= n);
		/* v2 knows the exact total once the fixed part is in */
		if (v[0] == 0x0D && i >= 16)
			assert_int_equal(need, n);
	}
	for (i = n; i <= n + sizeof(payload); i++) {
		ret = pp_decode(buf, i, &h, &need);
		assert_int_equal(ret, (int)n);
		pp_hdr_clear(&h);
	}
	free(buf);
}

/* Encodes with v1 or v2, checks the bytes decode back to the same header. */
static int roundtrip(int version, const struct pp_hdr *in, unsigned opts,
		     uint8_t *buf, size_t cap, struct pp_hdr *out)
{
	int n, ret;

	n = version == 1 ? pp_encode_v1(buf, cap, in)
			 : pp_encode_v2(buf, cap, in, opts);
	assert_true(n > 0);
	ret = pp_decode(buf, (size_t)n, out, NULL);
	if (ret != n)
		fail_msg("decode of own encoding: %d (%s), want %d", ret,
			 pp_strerror(ret), n);
	assert_int_equal(out->version, version);
	return n;
}

/* A header with every TLV we keep, plus two custom ones. */
static struct pp_tlv_custom test_custom[2] = {
	{ .type = 0xE0, .len = 3, .val = (uint8_t *)"\x01\x00\x02" },
	{ .type = 0xEF, .len = 0, .val = NULL },
};

static void fill_tlvs(struct pp_hdr *h)
{
	h->authority = (char *)"decoy.example.org";
	h->unique_id = (char *)"id\0with-nul";
	h->unique_id_len = 11;
	h->netns = (char *)"seg-dmz";
	h->alpn = (uint8_t *)"h2";
	h->alpn_len = 2;
	h->custom = test_custom;
	h->ncustom = 2;
}

static void assert_tlvs(const struct pp_hdr *h)
{
	assert_string_equal(h->authority, "decoy.example.org");
	assert_int_equal(h->unique_id_len, 11);
	assert_memory_equal(h->unique_id, "id\0with-nul", 11);
	assert_string_equal(h->netns, "seg-dmz");
	assert_int_equal(h->alpn_len, 2);
	assert_memory_equal(h->alpn, "h2", 2);
	assert_int_equal(h->ncustom, 2);
	assert_int_equal(h->custom[0].type, 0xE0);
	assert_int_equal(h->custom[0].len, 3);
	assert_memory_equal(h->custom[0].val, "\x01\x00\x02", 3);
	assert_int_equal(h->custom[1].type, 0xEF);
	assert_int_equal(h->custom[1].len, 0);
}

/* Appends a TLV to a v2 header in buf of length *n and fixes its len field. */
static void add_tlv(uint8_t *buf, size_t *n, uint8_t type, const void *val,
		    size_t vlen)
{
	size_t l;

	buf[*n] = type;
	buf[*n + 1] = (uint8_t)(vlen >> 8);
	buf[*n + 2] = (uint8_t)vlen;
	if (vlen)
		memcpy(buf + *n + 3, val, vlen);
	*n += 3 + vlen;
	l = *n - 16;
	buf[14] = (uint8_t)(l >> 8);
	buf[15] = (uint8_t)l;
}

/* Rewrites the CRC32C value at crc_off so a tampered header is consistent. */
static void fix_crc(uint8_t *buf, size_t n, size_t crc_off)
{
	uint32_t c;

	memset(buf + crc_off, 0, 4);
	c = crc32c(CRC32C_INIT, buf, n);
	buf[crc_off] = (uint8_t)(c >> 24);
	buf[crc_off + 1] = (uint8_t)(c >> 16);
	buf[crc_off + 2] = (uint8_t)(c >> 8);
	buf[crc_off + 3] = (uint8_t)c;
}

/* Plain TCP4 v2 header 192.0.2.1:1234 -> 198.51.100.7:80, no TLVs. */
static size_t base_tcp4(uint8_t *buf)
{
	static const uint8_t v[] = SIG "\x21\x11\x00\x0C"
		"\xC0\x00\x02\x01" "\xC6\x33\x64\x07" "\x04\xD2" "\x00\x50";

	memcpy(buf, v, sizeof(v) - 1);
	return sizeof(v) - 1;
}

/* ------------------------------------------------------------- CRC32C -- */

static uint32_t crc32c_bitwise(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffff;
	int k;

	while (n--) {
		c ^= *p++;
		for (k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
	}
	return ~c;
}

static void test_crc32c_vectors(void **state)
{
	uint8_t buf[64];
	uint32_t c;
	int i;

	(void)state;
	assert_int_equal(crc32c(CRC32C_INIT, "123456789", 9), 0xE3069283u);
	assert_int_equal(crc32c(CRC32C_INIT, NULL, 0), 0);
	/* RFC 3720 B.4 */
	memset(buf, 0, 32);
	assert_int_equal(crc32c(CRC32C_INIT, buf, 32), 0x8A9136AAu);
	memset(buf, 0xff, 32);
	assert_int_equal(crc32c(CRC32C_INIT, buf, 32), 0x62A8AB43u);
	for (i = 0; i < 32; i++)
		buf[i] = (uint8_t)i;
	assert_int_equal(crc32c(CRC32C_INIT, buf, 32), 0x46DD794Eu);
	for (i = 0; i < 32; i++)
		buf[i] = (uint8_t)(31 - i);
	assert_int_equal(crc32c(CRC32C_INIT, buf, 32), 0x113FDB5Cu);

	/* chaining over chunks equals one pass */
	c = crc32c(CRC32C_INIT, "1234", 4);
	c = crc32c(c, "", 0);
	c = crc32c(c, "56789", 5);
	assert_int_equal(c, 0xE3069283u);
}

/* Every table entry is exercised by some single byte; compare to the
 * bit-by-bit definition. */
static void test_crc32c_table(void **state)
{
	uint8_t buf[300];
	unsigned i;

	(void)state;
	for (i = 0; i < 256; i++) {
		buf[0] = (uint8_t)i;
		assert_int_equal(crc32c(CRC32C_INIT, buf, 1), crc32c_bitwise(buf, 1));
	}
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	for (i = 0; i <= sizeof(buf); i += 13)
		assert_int_equal(crc32c(CRC32C_INIT, buf, i), crc32c_bitwise(buf, i));
}

/* ---------------------------------------------------------- v1 encode -- */

static void test_v1_tcp4(void **state)
{
	static const char want[] = "PROXY TCP4 192.0.2.1 198.51.100.7 56324 443\r\n";
	struct pp_hdr in = { .cmd = PP_CMD_PROXY }, out;
	uint8_t buf[PP_V1_MAX];
	int n;

	(void)state;
	set_in4(&in.src, "192.0.2.1", 56324);
	set_in4(&in.dst, "198.51.100.7", 443);
	fill_tlvs(&in);		/* v1 has no TLVs: ignored */
	n = roundtrip(1, &in, 0, buf, sizeof(buf), &out);
	assert_int_equal(n, sizeof(want) - 1);
	assert_memory_equal(buf, want, n);
	assert_int_equal(out.cmd, PP_CMD_PROXY);
	assert_int_equal(out.family, AF_INET);
	assert_int_equal(out.socktype, SOCK_STREAM);
	assert_ss_equal(&out.src, &in.src);
	assert_ss_equal(&out.dst, &in.dst);
	assert_null(out.authority);
	pp_hdr_clear(&out);

	/* exact cap works, one byte less does not and writes nothing past */
	assert_int_equal(pp_encode_v1(buf, sizeof(want) - 1, &in), n);
	assert_int_equal(pp_encode_v1(buf, sizeof(want) - 2, &in), -ENOSPC);
}

static void test_v1_tcp6_and_mixed(void **state)
{
	static const char want6[] = "PROXY TCP6 2001:db8::1 2001:db8:0:1::ff 0 65535\r\n";
	static const char wantm[] = "PROXY TCP6 ::ffff:192.0.2.1 2001:db8::1 1 2\r\n";
	struct pp_hdr in = { .cmd = PP_CMD_PROXY }, out;
	uint8_t buf[PP_V1_MAX];
	int n;

	(void)state;
	set_in6(&in.src, "2001:db8::1", 0);
	set_in6(&in.dst, "2001:db8:0:1::ff", 65535);
	n = roundtrip(1, &in, 0, buf, sizeof(buf), &out);
	assert_int_equal(n, sizeof(want6) - 1);
	assert_memory_equal(buf, want6, n);
	assert_int_equal(out.family, AF_INET6);
	assert_ss_equal(&out.src, &in.src);
	assert_ss_equal(&out.dst, &in.dst);
	pp_hdr_clear(&out);

	/* IPv4 client to an IPv6 decoy: both go as TCP6, v4 mapped */
	set_in4(&in.src, "192.0.2.1", 1);
	set_in6(&in.dst, "2001:db8::1", 2);
	n = roundtrip(1, &in, 0, buf, sizeof(buf), &out);
	assert_int_equal(n, sizeof(wantm) - 1);
	assert_memory_equal(buf, wantm, n);
	assert_addr6(&out.src, "::ffff:192.0.2.1", 1);
	assert_addr6(&out.dst, "2001:db8::1", 2);
	pp_hdr_clear(&out);
}

static void test_v1_unknown(void **state)
{
	struct pp_hdr in = { .cmd = PP_CMD_PROXY }, out;
	uint8_t buf[PP_V1_MAX];
	int n;

	(void)state;
	/* UNIX has no v1 form */
	set_un(&in.src, "/run/a.sock", 11);
	set_un(&in.dst, "/run/b.sock", 11);
	n = roundtrip(1, &in, 0, buf, sizeof(buf), &out);
	assert_int_equal(n, 15);
	assert_memory_equal(buf, "PROXY UNKNOWN\r\n", 15);
	assert_int_equal(out.cmd, PP_CMD_LOCAL);
	assert_int_equal(out.family, AF_UNSPEC);
	assert_int_equal(out.src.ss_family, AF_UNSPEC);
	pp_hdr_clear(&out);

	/* LOCAL (health check) and UDP also go as UNKNOWN */
	set_in4(&in.src, "192.0.2.1", 1);
	set_in4(&in.dst, "192.0.2.2", 2);
	in.cmd = PP_CMD_LOCAL;
	assert_int_equal(pp_encode_v1(buf, sizeof(buf), &in), 15);
	in.cmd = PP_CMD_PROXY;
	in.socktype = SOCK_DGRAM;
	assert_int_equal(pp_encode_v1(buf, sizeof(buf), &in), 15);
	assert_memory_equal(buf, "PROXY UNKNOWN\r\n", 15);
	assert_int_equal(pp_encode_v1(buf, 14, &in), -ENOSPC);
}

static void test_v1_encode_errors(void **state)
{
	struct pp_hdr in = { .cmd = PP_CMD_PROXY };
	uint8_t buf[PP_V1_MAX];

	(void)state;
	set_in4(&in.src, "192.0.2.1", 1);
	set_un(&in.dst, "/x", 2);
	assert_int_equal(pp_encode_v1(buf, sizeof(buf), &in), -EINVAL);
	set_in4(&in.dst, "192.0.2.2", 1);
	in.cmd = 2;
	assert_int_equal(pp_encode_v1(buf, sizeof(buf), &in), -EINVAL);
	in.cmd = PP_CMD_PROXY;
	in.socktype = SOCK_RAW;
	assert_int_equal(pp_encode_v1(buf, sizeof(buf), &in), -EINVAL);
	assert_int_equal(pp_encode_v1(buf, sizeof(buf), NULL), -EINVAL);
}

/* ---------------------------------------------------------- v1 decode -- */

static void test_v1_decode_valid(void **state)
{
	static const char max4[] = "PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n";
	static const char max6[] = "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
	/* the spec's worst case: 107 bytes, rest of UNKNOWN ignored */
	static const char max_unk[] = "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
	struct pp_hdr h;

	(void)state;
	assert_int_equal(sizeof(max4) - 1, 56);
	assert_int_equal(pp_decode(VEC(max4), &h, NULL), 56);
	assert_addr4(&h.src, "255.255.255.255", 65535);
	pp_hdr_clear(&h);

	assert_int_equal(sizeof(max6) - 1, 104);
	assert_int_equal(pp_decode(VEC(max6), &h, NULL), 104);
	assert_addr6(&h.dst, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535);
	pp_hdr_clear(&h);

	assert_int_equal(sizeof(max_unk) - 1, PP_V1_MAX);
	assert_int_equal(pp_decode(VEC(max_unk), &h, NULL), PP_V1_MAX);
	assert_int_equal(h.cmd, PP_CMD_LOCAL);
	assert_int_equal(h.family, AF_UNSPEC);

	assert_int_equal(pp_decode(VEC("PROXY UNKNOWN whatever \x01\xff\r\n"), &h, NULL), 27);
	assert_int_equal(pp_decode(VEC("PROXY TCP4 0.0.0.0 10.0.0.1 0 1\r\n"), &h, NULL), 33);
	assert_addr4(&h.src, "0.0.0.0", 0);
	assert_addr4(&h.dst, "10.0.0.1", 1);
	assert_int_equal(pp_decode(VEC("PROXY TCP6 ::1 ::FFFF:10.0.0.1 22 80\r\n"), &h, NULL), 38);
	assert_addr6(&h.src, "::1", 22);
	assert_addr6(&h.dst, "::ffff:10.0.0.1", 80);
	assert_int_equal(h.version, 1);
}

static void test_v1_decode_malformed(void **state)
{
	uint8_t buf[200];

	(void)state;
	/* signature */
	expect_err(VEC("proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n"), PP_E_NOT_HDR);
	expect_err(VEC("PROXYTCP4 1.2.3.4 5.6.7.8 1 2\r\n"), PP_E_NOT_HDR);
	expect_err(VEC("GET / HTTP/1.0\r\n\r\n"), PP_E_NOT_HDR);
	expect_err(VEC("SSH-2.0-OpenSSH_9.2\r\n"), PP_E_NOT_HDR);
	/* line ends */
	expect_err(VEC("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"), PP_E_V1_EOL);
	expect_err(VEC("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX"), PP_E_V1_EOL);
	expect_err(VEC("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\r\n"), PP_E_V1_EOL);
	expect_err(VEC("PROXY UNKNOWN\n"), PP_E_V1_EOL);
	expect_err(VEC("PROXY UNKNOWN \n\r\n"), PP_E_V1_EOL);
	/* no CRLF within 107 bytes, however much arrives */
	memcpy(buf, "PROXY UNKNOWN ", 14);
	memset(buf + 14, 'a', sizeof(buf) - 14);
	expect_err(buf, PP_V1_MAX, PP_E_V1_TOO_LONG);
	expect_err(buf, sizeof(buf), PP_E_V1_TOO_LONG);
	/* CRLF ending at byte 108: one too many */
	memcpy(buf + 106, "\r\n", 2);
	expect_err(buf, 108, PP_E_V1_TOO_LONG);
	/* ending at 107 is fine */
	memcpy(buf + 105, "\r\n", 2);
	assert_int_equal(pp_decode(buf, 108, NULL, NULL), PP_V1_MAX);
	/* spaces */
	expect_err(VEC("PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n"), PP_E_V1_SYNTAX);
	expect_err(VEC("PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n"), PP_E_V1_SYNTAX);
	expect_err(VEC("PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n"), PP_E_V1_SYNTAX);
	expect_err(VEC("PROXY TCP4 1.2.3.4 5.6.7.8  1 2\r\n"), PP_E_V1_SYNTAX);
	expect_err(VEC("PROXY TCP4 1.2.3.4 5.6.7.8 1  2\r\n"), PP_E_V1_SYNTAX);
	expect_err(VEC("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n"), PP_E_V1_SYNTAX);
	expect_err(VEC("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n"), PP_E_V1_SYNTAX);
	expect_err(VEC("PROXY TCP4 1.2.3.4 5.6.7.8 1 \r\n"), PP_E_V1_SYNTAX);
	expect_err(VEC("PROXY TCP6 ::1 ::2 1 \r\n"), PP_E_V1_SYNTAX);
	expect_err(VEC("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n"), PP_E_V1_SYNTAX);
	expect_err(VEC("PROXY TCP4\r\n"), PP_E_V1_SYNTAX);
	expect_err(VEC("PROXY TCP4 \r\n"), PP_E_V1_SYNTAX);
	expect_err(VEC("PROXY \r\n"), PP_E_V1_SYNTAX);
	expect_err(VEC("PROXY TCP4\t1.2.3.4 5.6.7.8 1 2\r\n"), PP_E_BAD_PROTO);
	/* protocol word */
	expect_err(VEC("PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n"), PP_E_BAD_PROTO);
	expect_err(VEC("PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n"), PP_E_BAD_PROTO);
	expect_err(VEC("PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n"), PP_E_BAD_PROTO);
	expect_err(VEC("PROXY UNKNOWNX\r\n"), PP_E_BAD_PROTO);
	expect_err(VEC("PROXY UNKNOW\r\n"), PP_E_BAD_PROTO);
	/* IPv4 addresses */
	expect_err(VEC("PROXY TCP4 192.168.01.1 5.6.7.8 1 2\r\n"), PP_E_V1_ADDR);
	expect_err(VEC("PROXY TCP4 1.2.3.4 05.6.7.8 1 2\r\n"), PP_E_V1_ADDR);
	expect_err(VEC("PROXY TCP4 256.2.3.4 5.6.7.8 1 2\r\n"), PP_E_V1_ADDR);
	expect_err(VEC("PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n"), PP_E_V1_ADDR);
	expect_err(VEC("PROXY TCP4 1.2.3.4.5 5.6.7.8 1 2\r\n"), PP_E_V1_ADDR);
	expect_err(VEC("PROXY TCP4 1..3.4 5.6.7.8 1 2\r\n"), PP_E_V1_ADDR);
	expect_err(VEC("PROXY TCP4 1.2.3.4. 5.6.7.8 1 2\r\n"), PP_E_V1_ADDR);
	expect_err(VEC("PROXY TCP4 0x1.2.3.4 5.6.7.8 1 2\r\n"), PP_E_V1_ADDR);
	expect_err(VEC("PROXY TCP4 1.2.3.1000 5.6.7.8 1 2\r\n"), PP_E_V1_ADDR);
	expect_err(VEC("PROXY TCP4 16909060 5.6.7.8 1 2\r\n"), PP_E_V1_ADDR);
	expect_err(VEC("PROXY TCP4 -1.2.3.4 5.6.7.8 1 2\r\n"), PP_E_V1_ADDR);
	/* IPv6 addresses */
	expect_err(VEC("PROXY TCP6 ::1::2 ::1 1 2\r\n"), PP_E_V1_ADDR);
	expect_err(VEC("PROXY TCP6 1:2:3:4:5:6:7 ::1 1 2\r\n"), PP_E_V1_ADDR);
	expect_err(VEC("PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 1 2\r\n"), PP_E_V1_ADDR);
	expect_err(VEC("PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n"), PP_E_V1_ADDR);
	expect_err(VEC("PROXY TCP6 12345::1 ::1 1 2\r\n"), PP_E_V1_ADDR);
	expect_err(VEC("PROXY TCP6 ::g ::1 1 2\r\n"), PP_E_V1_ADDR);
	expect_err(VEC("PROXY TCP6 [::1] ::1 1 2\r\n"), PP_E_V1_ADDR);
	expect_err(VEC("PROXY TCP6 1 ::1 1 2\r\n"), PP_E_V1_ADDR);
	/* 48 characters: longer than any IPv6 text form */
	expect_err(VEC("PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffffffff ::1 1 2\r\n"),
		   PP_E_V1_ADDR);
	/* family mismatch */
	expect_err(VEC("PROXY TCP4 ::1 5.6.7.8 1 2\r\n"), PP_E_V1_FAMILY);
	expect_err(VEC("PROXY TCP4 1.2.3.4 2001:db8::1 1 2\r\n"), PP_E_V1_FAMILY);
	expect_err(VEC("PROXY TCP6 1.2.3.4 ::1 1 2\r\n"), PP_E_V1_FAMILY);
	/* ports */
	expect_err(VEC("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n"), PP_E_V1_PORT);
	expect_err(VEC("PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n"), PP_E_V1_PORT);
	expect_err(VEC("PROXY TCP4 1.2.3.4 5.6.7.8 080 2\r\n"), PP_E_V1_PORT);
	expect_err(VEC("PROXY TCP4 1.2.3.4 5.6.7.8 1 00\r\n"), PP_E_V1_PORT);
	expect_err(VEC("PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n"), PP_E_V1_PORT);
	expect_err(VEC("PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n"), PP_E_V1_PORT);
	expect_err(VEC("PROXY TCP4 1.2.3.4 5.6.7.8 1a 2\r\n"), PP_E_V1_PORT);
	expect_err(VEC("PROXY TCP4 1.2.3.4 5.6.7.8 100000 2\r\n"), PP_E_V1_PORT);
	expect_err(VEC("PROXY TCP6 ::1 ::2 99999 2\r\n"), PP_E_V1_PORT);
}

/* Errors visible in a prefix are reported before the CRLF arrives. */
static void test_v1_early_errors(void **state)
{
	size_t need = 0;

	(void)state;
	assert_int_equal(pp_decode(VEC("G"), NULL, &need), -PP_E_NOT_HDR);
	assert_int_equal(pp_decode(VEC("PRX"), NULL, &need), -PP_E_NOT_HDR);
	assert_int_equal(pp_decode(VEC("PROXY\t"), NULL, &need), -PP_E_NOT_HDR);
	assert_int_equal(pp_decode(VEC("PROXY TCP4 1.2.3.4\n"), NULL, &need), -PP_E_V1_EOL);
	assert_int_equal(pp_decode(VEC("PROXY TCP4 1.2\r3"), NULL, &need), -PP_E_V1_EOL);

	/* need: a lower bound while the CRLF is missing, exact after CR */
	assert_int_equal(pp_decode(VEC(""), NULL, &need), 0);
	assert_int_equal(need, 15);
	assert_int_equal(pp_decode(VEC("P"), NULL, &need), 0);
	assert_int_equal(need, 15);
	assert_int_equal(pp_decode(VEC("PROXY TCP4 1.2.3.4 5.6.7.8 1 2"), NULL, &need), 0);
	assert_int_equal(need, 32);
	assert_int_equal(pp_decode(VEC("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r"), NULL, &need), 0);
	assert_int_equal(need, 32);
	/* need may be NULL */
	assert_int_equal(pp_decode(VEC("PROXY "), NULL, NULL), 0);
}

/* ---------------------------------------------------------- v2 encode -- */

static void test_v2_tcp4_all_tlvs(void **state)
{
	static const uint8_t fixed[] = SIG "\x21\x11";
	static const uint8_t addrs[] = "\xC0\x00\x02\x01" "\xC6\x33\x64\x07" "\xDC\x04" "\x01\xBB";
	struct pp_hdr in = { .cmd = PP_CMD_PROXY }, out;
	uint8_t buf[512];
	int n, m;

	(void)state;
	set_in4(&in.src, "192.0.2.1", 56324);
	set_in4(&in.dst, "198.51.100.7", 443);
	fill_tlvs(&in);
	n = roundtrip(2, &in, PP_OPT_CRC32C, buf, sizeof(buf), &out);
	/* 12 addr + alpn 5 + authority 20 + crc 7 + uid 14 + netns 10 + 6 + 3 */
	assert_int_equal(n, 16 + 12 + 5 + 20 + 7 + 14 + 10 + 6 + 3);
	assert_memory_equal(buf, fixed, 14);
	assert_int_equal(buf[14] << 8 | buf[15], n - 16);
	assert_memory_equal(buf + 16, addrs, 12);
	/* ALPN first, then AUTHORITY, then the CRC TLV */
	assert_memory_equal(buf + 28, "\x01\x00\x02" "h2", 5);
	assert_memory_equal(buf + 33, "\x02\x00\x11" "decoy.example.org", 20);
	assert_memory_equal(buf + 53, "\x03\x00\x04", 3);
	assert_int_equal(out.family, AF_INET);
	assert_int_equal(out.socktype, SOCK_STREAM);
	assert_int_equal(out.cmd, PP_CMD_PROXY);
	assert_ss_equal(&out.src, &in.src);
	assert_ss_equal(&out.dst, &in.dst);
	assert_true(out.crc_present);
	assert_tlvs(&out);
	pp_hdr_clear(&out);
	assert_null(out.authority);

	/* without CRC: 7 bytes shorter, crc_present false */
	m = roundtrip(2, &in, 0, buf, sizeof(buf), &out);
	assert_int_equal(m, n - 7);
	assert_false(out.crc_present);
	assert_tlvs(&out);
	pp_hdr_clear(&out);

	/* exact cap, then one short */
	assert_int_equal(pp_encode_v2(buf, (size_t)m, &in, 0), m);
	assert_int_equal(pp_encode_v2(buf, (size_t)m - 1, &in, 0), -ENOSPC);
}

static void test_v2_tcp6_mixed_udp(void **state)
{
	static const uint8_t mapped[16] = { [10] = 0xff, [11] = 0xff, 192, 0, 2, 1 };
	struct pp_hdr in = { .cmd = PP_CMD_PROXY }, out;
	uint8_t buf[512];
	int n;

	(void)state;
	set_in6(&in.src, "2001:db8::1", 40000);
	set_in6(&in.dst, "2001:db8::2", 22);
	n = roundtrip(2, &in, 0, buf, sizeof(buf), &out);
	assert_int_equal(n, 52);
	assert_int_equal(buf[13], 0x21);
	assert_int_equal(out.family, AF_INET6);
	assert_ss_equal(&out.src, &in.src);
	assert_ss_equal(&out.dst, &in.dst);
	pp_hdr_clear(&out);

	/* mixed: v4 source mapped into an INET6 header */
	set_in4(&in.src, "192.0.2.1", 40000);
	n = roundtrip(2, &in, PP_OPT_CRC32C, buf, sizeof(buf), &out);
	assert_int_equal(n, 52 + 7);
	assert_int_equal(buf[13], 0x21);
	assert_memory_equal(buf + 16, mapped, 16);
	assert_addr6(&out.src, "::ffff:192.0.2.1", 40000);
	assert_addr6(&out.dst, "2001:db8::2", 22);
	assert_true(out.crc_present);
	pp_hdr_clear(&out);

	/* UDP over IPv4 */
	set_in4(&in.src, "192.0.2.1", 5353);
	set_in4(&in.dst, "192.0.2.2", 53);
	in.socktype = SOCK_DGRAM;
	n = roundtrip(2, &in, 0, buf, sizeof(buf), &out);
	assert_int_equal(n, 28);
	assert_int_equal(buf[13], 0x12);
	assert_int_equal(out.socktype, SOCK_DGRAM);
	assert_addr4(&out.dst, "192.0.2.2", 53);
	pp_hdr_clear(&out);
}

static void test_v2_unix(void **state)
{
	struct pp_hdr in = { .cmd = PP_CMD_PROXY }, out;
	uint8_t buf[512];
	char path[108];
	int n;

	(void)state;
	/* a full 108-byte path without NUL, and an abstract one */
	memset(path, 'p', sizeof(path));
	set_un(&in.src, path, sizeof(path));
	set_un(&in.dst, "\0abstract", 9);
	fill_tlvs(&in);
	n = roundtrip(2, &in, PP_OPT_CRC32C, buf, sizeof(buf), &out);
	assert_int_equal(buf[13], 0x31);
	assert_memory_equal(buf + 16, path, 108);
	assert_memory_equal(buf + 16 + 108, "\0abstract", 9);
	assert_int_equal(n, 16 + 216 + 5 + 20 + 7 + 14 + 10 + 6 + 3);
	assert_int_equal(out.family, AF_UNIX);
	assert_ss_equal(&out.src, &in.src);
	assert_ss_equal(&out.dst, &in.dst);
	assert_tlvs(&out);
	pp_hdr_clear(&out);

	in.socktype = SOCK_DGRAM;
	roundtrip(2, &in, 0, buf, sizeof(buf), &out);
	assert_int_equal(buf[13], 0x32);
	assert_int_equal(out.socktype, SOCK_DGRAM);
	pp_hdr_clear(&out);
}

/* The largest header decoyproxy sends (issue 18, item 6): two AF_UNIX
 * addresses, AUTHORITY at 255, CRC32C, UNIQUE_ID at 128, NETNS at 1024 and
 * all 16 custom types at 255 bytes, 5,783 bytes in all. It must encode
 * into exactly that many bytes (one fewer is -ENOSPC, never a cut header),
 * and decode back whole: the sender (core/sess_pp.c) sizes its buffer from
 * the same caps. */
static void test_v2_largest_sent(void **state)
{
	static char auth[PP_AUTHORITY_MAX + 1], uid[PP_UNIQUE_ID_MAX], ns[PP_TLV_MAX + 1];
	static uint8_t vals[16][255];
	struct pp_tlv_custom custom[16];
	struct pp_hdr in = { .cmd = PP_CMD_PROXY }, out;
	const size_t want = 16 + 216 + (3 + 255) + (3 + 4) + (3 + 128) + (3 + 1024) + 16 * (3 + 255);
	uint8_t *buf = malloc(want);
	int n;

	(void)state;
	assert_non_null(buf);
	memset(auth, 'a', PP_AUTHORITY_MAX);
	memset(uid, 'u', sizeof(uid));
	memset(ns, 'n', PP_TLV_MAX);
	set_un(&in.src, "/run/a.sock", 11);
	set_un(&in.dst, "/run/b.sock", 11);
	in.authority = auth;
	in.unique_id = uid;
	in.unique_id_len = sizeof(uid);
	in.netns = ns;
	for (int i = 0; i < 16; i++) {
		memset(vals[i], 'A' + i, sizeof(vals[i]));
		custom[i] = (struct pp_tlv_custom){ .type = (uint8_t)(0xE0 + i), .len = 255, .val = vals[i] };
	}
	in.custom = custom;
	in.ncustom = 16;
	assert_int_equal(pp_encode_v2(buf, want - 1, &in, PP_OPT_CRC32C), -ENOSPC);
	n = roundtrip(2, &in, PP_OPT_CRC32C, buf, want, &out);
	assert_int_equal(n, (int)want);
	assert_int_equal(n, 5783);
	assert_true(out.crc_present);
	assert_int_equal(strlen(out.authority), PP_AUTHORITY_MAX);
	assert_int_equal(out.unique_id_len, PP_UNIQUE_ID_MAX);
	assert_int_equal(strlen(out.netns), PP_TLV_MAX);
	assert_int_equal(out.ncustom, 16);
	for (int i = 0; i < 16; i++) {
		assert_int_equal(out.custom[i].type, 0xE0 + i);
		assert_int_equal(out.custom[i].len, 255);
		assert_memory_equal(out.custom[i].val, vals[i], 255);
	}
	pp_hdr_clear(&out);
	free(buf);
}

static void test_v2_local_and_unspec(void **state)
{
	static const uint8_t local[] = SIG "\x20\x00\x00\x00";
	struct pp_hdr in = { .cmd = PP_CMD_LOCAL }, out;
	uint8_t buf[512];
	int n;

	(void)state;
	/* LOCAL: exactly the 16 bytes, whatever else is in h */
	set_in4(&in.src, "192.0.2.1", 1);
	set_in4(&in.dst, "192.0.2.2", 2);
	fill_tlvs(&in);
	n = roundtrip(2, &in, PP_OPT_CRC32C, buf, sizeof(buf), &out);
	assert_int_equal(n, 16);
	assert_memory_equal(buf, local, 16);
	assert_int_equal(out.cmd, PP_CMD_LOCAL);
	assert_int_equal(out.family, AF_UNSPEC);
	assert_int_equal(out.src.ss_family, AF_UNSPEC);
	assert_null(out.authority);
	pp_hdr_clear(&out);
	assert_int_equal(pp_encode_v2(buf, 15, &in, 0), -ENOSPC);

	/* PROXY with no addresses: family UNSPEC, TLVs still carried */
	memset(&in.src, 0, sizeof(in.src));
	memset(&in.dst, 0, sizeof(in.dst));
	in.cmd = PP_CMD_PROXY;
	n = roundtrip(2, &in, PP_OPT_CRC32C, buf, sizeof(buf), &out);
	assert_int_equal(buf[12], 0x21);
	assert_int_equal(buf[13], 0x00);
	assert_int_equal(n, 16 + 5 + 20 + 7 + 14 + 10 + 6 + 3);
	assert_int_equal(out.cmd, PP_CMD_PROXY);
	assert_int_equal(out.family, AF_UNSPEC);
	assert_int_equal(out.socktype, 0);
	assert_true(out.crc_present);
	assert_tlvs(&out);
	pp_hdr_clear(&out);
}

static void test_v2_encode_errors(void **state)
{
	static struct pp_tlv_custom many[PP_CUSTOM_MAX + 1];
	static uint8_t big[PP_TLV_MAX + 1];
	struct pp_hdr in = { .cmd = PP_CMD_PROXY };
	struct pp_tlv_custom bad = { .type = 0x10, .len = 1, .val = big };
	char name[PP_AUTHORITY_MAX + 2];
	uint8_t *buf;
	size_t i;

	(void)state;
	buf = malloc(PP_V2_MAX);
	assert_non_null(buf);
	set_in4(&in.src, "192.0.2.1", 1);
	set_in4(&in.dst, "192.0.2.2", 2);
	assert_int_equal(pp_encode_v2(buf, PP_V2_MAX, &in, 0x2), -EINVAL);
	assert_int_equal(pp_encode_v2(buf, PP_V2_MAX, NULL, 0), -EINVAL);
	in.cmd = 3;
	assert_int_equal(pp_encode_v2(buf, PP_V2_MAX, &in, 0), -EINVAL);
	in.cmd = PP_CMD_PROXY;
	in.socktype = SOCK_RAW;
	assert_int_equal(pp_encode_v2(buf, PP_V2_MAX, &in, 0), -EINVAL);
	in.socktype = 0;
	set_un(&in.dst, "/x", 2);
	assert_int_equal(pp_encode_v2(buf, PP_V2_MAX, &in, 0), -EINVAL);
	memset(&in.dst, 0, sizeof(in.dst));
	assert_int_equal(pp_encode_v2(buf, PP_V2_MAX, &in, 0), -EINVAL);
	set_in4(&in.dst, "192.0.2.2", 2);

	/* the caps the decoder enforces */
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	in.authority = name;	/* 256 */
	assert_int_equal(pp_encode_v2(buf, PP_V2_MAX, &in, 0), -EINVAL);
	name[PP_AUTHORITY_MAX] = '\0';	/* 255 */
	assert_int_equal(pp_encode_v2(buf, PP_V2_MAX, &in, 0), 16 + 12 + 3 + 255);
	in.authority = NULL;
	in.unique_id = (char *)big;
	in.unique_id_len = PP_UNIQUE_ID_MAX + 1;
	assert_int_equal(pp_encode_v2(buf, PP_V2_MAX, &in, 0), -EINVAL);
	in.unique_id_len = PP_UNIQUE_ID_MAX;
	assert_int_equal(pp_encode_v2(buf, PP_V2_MAX, &in, 0), 16 + 12 + 3 + 128);
	in.unique_id = NULL;
	in.unique_id_len = 0;
	in.alpn = big;
	in.alpn_len = PP_TLV_MAX + 1;
	assert_int_equal(pp_encode_v2(buf, PP_V2_MAX, &in, 0), -EINVAL);
	in.alpn = NULL;
	in.alpn_len = 0;
	in.netns = name;
	assert_int_equal(pp_encode_v2(buf, PP_V2_MAX, &in, 0), 16 + 12 + 3 + 255);
	in.netns = (char *)big;	/* 1025 non-NUL bytes: strnlen stops at the cap */
	memset(big, 'n', PP_TLV_MAX + 1);
	assert_int_equal(pp_encode_v2(buf, PP_V2_MAX, &in, 0), -EINVAL);
	memset(big, 0, sizeof(big));
	in.netns = NULL;
	in.custom = &bad;
	in.ncustom = 1;
	assert_int_equal(pp_encode_v2(buf, PP_V2_MAX, &in, 0), -EINVAL);

	/* 64 custom TLVs of 1024 bytes overflow the 16-bit length */
	for (i = 0; i < ARRAY_SIZE(many); i++) {
		many[i].type = 0xE1;
		many[i].len = PP_TLV_MAX;
		many[i].val = big;
	}
	in.custom = many;
	in.ncustom = PP_CUSTOM_MAX + 1;
	assert_int_equal(pp_encode_v2(buf, PP_V2_MAX, &in, 0), -EINVAL);
	in.ncustom = PP_CUSTOM_MAX;
	assert_int_equal(pp_encode_v2(buf, PP_V2_MAX, &in, 0), -EINVAL);
	/* 63 of them fit: 12 + 63 * 1027 = 64713 */
	in.ncustom = PP_CUSTOM_MAX - 1;
	assert_int_equal(pp_encode_v2(buf, PP_V2_MAX, &in, 0), 16 + 12 + 63 * 1027);
	assert_int_equal(pp_decode(buf, PP_V2_MAX, NULL, NULL), 16 + 12 + 63 * 1027);
	free(buf);
}

/* ---------------------------------------------------------- v2 decode -- */

/* Captured from HAProxy 2.6 on loopback ("server s1 127.0.0.1:47312
 * send-proxy-v2 proxy-v2-options crc32c,unique-id" behind a frontend with a
 * unique-id-format), followed by the client's first payload bytes. */
static const uint8_t haproxy_v2[] =
	SIG "\x21\x11\x00\x44"
	"\x7f\x00\x00\x01" "\x7f\x00\x00\x01" "\x9c\xbb" "\xb8\xcf"
	"\x03\x00\x04" "\xc7\x56\xbe\x97"
	"\x05\x00\x2e" "7F000001:9CBB_7F000001:B8CF_6B01A6B9_0000:16A2"
	"hello";
#define HAPROXY_V2_HDR_LEN (16 + 0x44)

static void test_v2_haproxy_vector(void **state)
{
	static const char uid[] = "7F000001:9CBB_7F000001:B8CF_6B01A6B9_0000:16A2";
	uint8_t copy[sizeof(haproxy_v2)];
	struct pp_hdr h;

	(void)state;
	assert_int_equal(pp_decode(haproxy_v2, sizeof(haproxy_v2) - 1, &h, NULL),
			 HAPROXY_V2_HDR_LEN);
	assert_int_equal(h.version, 2);
	assert_int_equal(h.cmd, PP_CMD_PROXY);
	assert_addr4(&h.src, "127.0.0.1", 40123);
	assert_addr4(&h.dst, "127.0.0.1", 47311);
	assert_true(h.crc_present);
	assert_int_equal(h.unique_id_len, sizeof(uid) - 1);
	assert_string_equal(h.unique_id, uid);
	pp_hdr_clear(&h);
	check_partial(haproxy_v2, HAPROXY_V2_HDR_LEN);

	/* one changed byte anywhere in the header breaks the CRC */
	memcpy(copy, haproxy_v2, sizeof(copy));
	copy[50] ^= 0x01;
	expect_err(copy, HAPROXY_V2_HDR_LEN, PP_E_CRC);
	memcpy(copy, haproxy_v2, sizeof(copy));
	copy[19] ^= 0x80;
	expect_err(copy, HAPROXY_V2_HDR_LEN, PP_E_CRC);
	memcpy(copy, haproxy_v2, sizeof(copy));
	copy[34] ^= 0x01;	/* the CRC itself */
	expect_err(copy, HAPROXY_V2_HDR_LEN, PP_E_CRC);
	/* the payload is not covered */
	memcpy(copy, haproxy_v2, sizeof(copy));
	copy[HAPROXY_V2_HDR_LEN] ^= 0x01;
	assert_int_equal(pp_decode(copy, sizeof(copy) - 1, NULL, NULL),
			 HAPROXY_V2_HDR_LEN);
}

static void test_v2_decode_malformed_fixed(void **state)
{
	(void)state;
	/* signature: any byte off */
	expect_err(VEC("\x0D\x0A\x0D\x0A\x01\x0D\x0A\x51\x55\x49\x54\x0A" "\x21\x11\x00\x0C"),
		   PP_E_NOT_HDR);
	expect_err(VEC("\x0D\x0A\x0D\x0A\x00\x0D\x0A\x51\x55\x49\x54\x0B" "\x21\x11\x00\x0C"),
		   PP_E_NOT_HDR);
	expect_err(VEC("\x0D\x0A\x0D\x0D"), PP_E_NOT_HDR);
	expect_err(VEC("\x0D\x0A\x0D\x0A\x00\x0D\x0A\x51\x55\x49\x55"), PP_E_NOT_HDR);
	expect_err(VEC("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"), PP_E_NOT_HDR);
	/* version */
	expect_err(VEC(SIG "\x11\x11\x00\x0C"), PP_E_V2_VERSION);
	expect_err(VEC(SIG "\x31\x11\x00\x0C"), PP_E_V2_VERSION);
	expect_err(VEC(SIG "\x01"), PP_E_V2_VERSION);
	/* command */
	expect_err(VEC(SIG "\x22\x11\x00\x0C"), PP_E_V2_CMD);
	expect_err(VEC(SIG "\x2F"), PP_E_V2_CMD);
	/* family / transport */
	expect_err(VEC(SIG "\x21\x41\x00\x0C"), PP_E_V2_FAMILY);
	expect_err(VEC(SIG "\x21\x13\x00\x0C"), PP_E_V2_FAMILY);
	expect_err(VEC(SIG "\x21\x10\x00\x0C"), PP_E_V2_FAMILY);
	expect_err(VEC(SIG "\x21\x01\x00\x00"), PP_E_V2_FAMILY);
	expect_err(VEC(SIG "\x21\x02\x00\x00"), PP_E_V2_FAMILY);
	expect_err(VEC(SIG "\x21\x30\x00\xD8"), PP_E_V2_FAMILY);
	expect_err(VEC(SIG "\x21\xFF"), PP_E_V2_FAMILY);
	/* len shorter than the address block, told at byte 16 already */
	expect_err(VEC(SIG "\x21\x11\x00\x0B"), PP_E_V2_SHORT);
	expect_err(VEC(SIG "\x21\x11\x00\x00"), PP_E_V2_SHORT);
	expect_err(VEC(SIG "\x21\x22\x00\x23"), PP_E_V2_SHORT);
	expect_err(VEC(SIG "\x21\x31\x00\xD7"), PP_E_V2_SHORT);
}

static void test_v2_decode_local_skips(void **state)
{
	struct pp_hdr h;
	uint8_t buf[64];
	size_t need;

	(void)state;
	/* LOCAL with an address block and junk: all of len is skipped, the
	 * family (even an invalid one) and the bytes are ignored */
	memcpy(buf, SIG "\x20\xFF\x00\x14", 16);
	memset(buf + 16, 0xAA, 20);
	memcpy(buf + 36, "DATA", 4);
	assert_int_equal(pp_decode(buf, 40, &h, &need), 36);
	assert_int_equal(h.cmd, PP_CMD_LOCAL);
	assert_int_equal(h.family, AF_UNSPEC);
	assert_int_equal(h.src.ss_family, AF_UNSPEC);
	assert_int_equal(pp_decode(buf, 35, &h, &need), 0);
	assert_int_equal(need, 36);
	check_partial(buf, 36);
	check_partial(VEC(SIG "\x20\x00\x00\x00"));
}

static void test_v2_decode_tlv_errors(void **state)
{
	static uint8_t big[PP_TLV_MAX + 1];
	uint8_t buf[2048], crc0[4] = { 0 };
	size_t n, i;

	(void)state;
	/* TLV header cut short: 1 or 2 bytes left inside len */
	n = base_tcp4(buf);
	memcpy(buf + n, "\x04\x00", 2);
	buf[15] = 12 + 2;
	expect_err(buf, n + 2, PP_E_V2_TLV);
	buf[15] = 12 + 1;
	expect_err(buf, n + 1, PP_E_V2_TLV);
	/* TLV value overrunning len by one */
	n = base_tcp4(buf);
	add_tlv(buf, &n, PP2_TYPE_NOOP, "abcd", 4);
	buf[15]--;
	expect_err(buf, n - 1, PP_E_V2_TLV);
	expect_err(buf, n, PP_E_V2_TLV);	/* even with the byte present */
	/* second TLV overruns */
	n = base_tcp4(buf);
	add_tlv(buf, &n, PP2_TYPE_NOOP, "", 0);
	add_tlv(buf, &n, 0xE0, "xyz", 3);
	buf[n - 4] = 0x04;	/* claims 4 */
	expect_err(buf, n, PP_E_V2_TLV);

	/* sizes */
	memset(big, 'a', sizeof(big));
	n = base_tcp4(buf);
	add_tlv(buf, &n, PP2_TYPE_AUTHORITY, big, PP_AUTHORITY_MAX + 1);
	expect_err(buf, n, PP_E_V2_TLV_LEN);
	n = base_tcp4(buf);
	add_tlv(buf, &n, PP2_TYPE_AUTHORITY, big, PP_AUTHORITY_MAX);
	assert_int_equal(pp_decode(buf, n, NULL, NULL), (int)n);
	n = base_tcp4(buf);
	add_tlv(buf, &n, PP2_TYPE_UNIQUE_ID, big, PP_UNIQUE_ID_MAX + 1);
	expect_err(buf, n, PP_E_V2_TLV_LEN);
	n = base_tcp4(buf);
	add_tlv(buf, &n, PP2_TYPE_NOOP, big, PP_TLV_MAX + 1);
	expect_err(buf, n, PP_E_V2_TLV_LEN);
	n = base_tcp4(buf);
	add_tlv(buf, &n, 0xE5, big, PP_TLV_MAX + 1);
	expect_err(buf, n, PP_E_V2_TLV_LEN);
	n = base_tcp4(buf);
	add_tlv(buf, &n, PP2_TYPE_NOOP, big, PP_TLV_MAX);
	assert_int_equal(pp_decode(buf, n, NULL, NULL), (int)n);
	n = base_tcp4(buf);
	add_tlv(buf, &n, PP2_TYPE_CRC32C, crc0, 3);
	expect_err(buf, n, PP_E_V2_TLV_LEN);
	n = base_tcp4(buf);
	add_tlv(buf, &n, PP2_TYPE_CRC32C, "\0\0\0\0\0", 5);
	expect_err(buf, n, PP_E_V2_TLV_LEN);

	/* duplicates of single-valued TLVs */
	n = base_tcp4(buf);
	add_tlv(buf, &n, PP2_TYPE_AUTHORITY, "a", 1);
	add_tlv(buf, &n, PP2_TYPE_AUTHORITY, "b", 1);
	expect_err(buf, n, PP_E_V2_TLV_DUP);
	n = base_tcp4(buf);
	add_tlv(buf, &n, PP2_TYPE_CRC32C, crc0, 4);
	add_tlv(buf, &n, PP2_TYPE_CRC32C, crc0, 4);
	expect_err(buf, n, PP_E_V2_TLV_DUP);
	n = base_tcp4(buf);
	add_tlv(buf, &n, PP2_TYPE_UNIQUE_ID, "", 0);
	add_tlv(buf, &n, PP2_TYPE_UNIQUE_ID, "", 0);
	expect_err(buf, n, PP_E_V2_TLV_DUP);

	/* NUL inside text TLVs */
	n = base_tcp4(buf);
	add_tlv(buf, &n, PP2_TYPE_AUTHORITY, "evil\0.example", 13);
	expect_err(buf, n, PP_E_V2_TLV_NUL);
	n = base_tcp4(buf);
	add_tlv(buf, &n, PP2_TYPE_NETNS, "ns\0", 3);
	expect_err(buf, n, PP_E_V2_TLV_NUL);

	/* SSL: too short, sub-TLV overrun, sub-TLV header cut */
	n = base_tcp4(buf);
	add_tlv(buf, &n, PP2_TYPE_SSL, "\x01\0\0\0", 4);
	expect_err(buf, n, PP_E_V2_SSL);
	n = base_tcp4(buf);
	add_tlv(buf, &n, PP2_TYPE_SSL, "\x01\0\0\0\0" "\x21\x00\x05" "TLS1", 12);
	expect_err(buf, n, PP_E_V2_SSL);
	n = base_tcp4(buf);
	add_tlv(buf, &n, PP2_TYPE_SSL, "\x01\0\0\0\0" "\x21\x00", 7);
	expect_err(buf, n, PP_E_V2_SSL);

	/* custom count cap */
	n = base_tcp4(buf);
	for (i = 0; i <= PP_CUSTOM_MAX; i++)
		add_tlv(buf, &n, 0xE3, "", 0);
	expect_err(buf, n, PP_E_V2_TLV_COUNT);
	n -= 3;
	buf[14] = (uint8_t)((n - 16) >> 8);
	buf[15] = (uint8_t)(n - 16);
	assert_int_equal(pp_decode(buf, n, NULL, NULL), (int)n);

	/* CRC mismatch: valid CRC TLV, then one header byte changed */
	n = base_tcp4(buf);
	add_tlv(buf, &n, PP2_TYPE_CRC32C, crc0, 4);
	fix_crc(buf, n, 31);
	assert_int_equal(pp_decode(buf, n, NULL, NULL), (int)n);
	buf[13 + 4] ^= 0x10;	/* inside the source address */
	expect_err(buf, n, PP_E_CRC);
	/* CRC over a header with 0 CRC value computed wrongly: all zero */
	n = base_tcp4(buf);
	add_tlv(buf, &n, PP2_TYPE_CRC32C, crc0, 4);
	expect_err(buf, n, PP_E_CRC);
}

static void test_v2_decode_tlvs_skipped_and_kept(void **state)
{
	struct pp_hdr h;
	uint8_t buf[512];
	size_t n;

	(void)state;
	n = base_tcp4(buf);
	add_tlv(buf, &n, PP2_TYPE_NOOP, "\0\0\0\0\0\0", 6);
	add_tlv(buf, &n, PP2_TYPE_SSL, "\x07\0\0\0\0" "\x21\x00\x07" "TLSv1.3"
		"\x22\x00\x00", 18);
	add_tlv(buf, &n, 0xE7, "one", 3);
	add_tlv(buf, &n, 0xF3, "experimental", 12);
	add_tlv(buf, &n, 0x99, "unknown", 7);
	add_tlv(buf, &n, 0xE7, "two", 3);
	add_tlv(buf, &n, PP2_TYPE_AUTHORITY, "", 0);
	add_tlv(buf, &n, PP2_TYPE_CRC32C, "\0\0\0\0", 4);
	fix_crc(buf, n, n - 4);
	assert_int_equal(pp_decode(buf, n, &h, NULL), (int)n);
	assert_true(h.crc_present);
	assert_int_equal(h.ncustom, 2);
	assert_int_equal(h.custom[0].type, 0xE7);
	assert_memory_equal(h.custom[0].val, "one", 3);
	assert_memory_equal(h.custom[1].val, "two", 3);
	assert_non_null(h.authority);	/* present but empty */
	assert_string_equal(h.authority, "");
	assert_null(h.alpn);
	assert_null(h.netns);
	pp_hdr_clear(&h);
	check_partial(buf, n);
}

static void test_v2_payload_after(void **state)
{
	struct pp_hdr in = { .cmd = PP_CMD_PROXY }, out;
	uint8_t buf[256];
	int n;

	(void)state;
	set_in6(&in.src, "2001:db8::dead", 1000);
	set_in6(&in.dst, "2001:db8::beef", 2222);
	in.unique_id = (char *)"u";
	in.unique_id_len = 1;
	n = pp_encode_v2(buf, sizeof(buf), &in, PP_OPT_CRC32C);
	assert_true(n > 0);
	/* payload that itself looks like a header must not be touched */
	memcpy(buf + n, SIG "\x21\x11\x00\x0C", 16);
	assert_int_equal(pp_decode(buf, (size_t)n + 16, &out, NULL), n);
	assert_string_equal(out.unique_id, "u");
	pp_hdr_clear(&out);
}

/* Every prefix of a valid header is "need more", for each kind. */
static void test_partial_delivery(void **state)
{
	struct pp_hdr in = { .cmd = PP_CMD_PROXY };
	uint8_t buf[1024];
	int n;

	(void)state;
	check_partial(VEC("PROXY TCP4 192.0.2.1 198.51.100.7 56324 443\r\n"));
	check_partial(VEC("PROXY TCP6 2001:db8::1 ::ffff:192.0.2.1 1 65535\r\n"));
	check_partial(VEC("PROXY UNKNOWN\r\n"));
	check_partial(VEC("PROXY UNKNOWN 1 2 3\r\n"));

	set_in4(&in.src, "192.0.2.1", 1);
	set_in4(&in.dst, "192.0.2.2", 2);
	fill_tlvs(&in);
	n = pp_encode_v2(buf, sizeof(buf), &in, PP_OPT_CRC32C);
	assert_true(n > 0);
	check_partial(buf, (size_t)n);

	set_in6(&in.dst, "2001:db8::2", 2);
	n = pp_encode_v2(buf, sizeof(buf), &in, 0);
	assert_true(n > 0);
	check_partial(buf, (size_t)n);

	set_un(&in.src, "/a", 2);
	set_un(&in.dst, "/b", 2);
	n = pp_encode_v2(buf, sizeof(buf), &in, PP_OPT_CRC32C);
	assert_true(n > 0);
	check_partial(buf, (size_t)n);
}

static void test_strerror(void **state)
{
	(void)state;
	assert_string_equal(pp_strerror(-PP_E_NOT_HDR),
		"Received something which does not look like a PROXY protocol header");
	assert_string_equal(pp_strerror(PP_E_BAD_PROTO),
		"Received an unhandled protocol in the PROXY protocol header");
	assert_string_equal(pp_strerror(-PP_E_CRC), BAD_PREFIX ": CRC32C mismatch");
	assert_non_null(strstr(pp_strerror(-PP_E_V1_TOO_LONG), "107"));
	assert_string_equal(pp_strerror(0), "Unknown PROXY protocol error");
	assert_string_equal(pp_strerror(PP_E_MAX), "Unknown PROXY protocol error");
	assert_string_equal(pp_strerror(-1000), "Unknown PROXY protocol error");
	for (int e = 1; e < PP_E_MAX; e++) {
		const char *s = pp_strerror(-e);

		assert_non_null(strstr(s, "PROXY protocol"));
		assert_string_not_equal(s, "Unknown PROXY protocol error");
	}
}

static void test_clear(void **state)
{
	struct pp_hdr h;

	(void)state;
	pp_hdr_clear(NULL);
	memset(&h, 0, sizeof(h));
	pp_hdr_clear(&h);
	assert_int_equal(h.ncustom, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c_vectors),
		cmocka_unit_test(test_crc32c_table),
		cmocka_unit_test(test_v1_tcp4),
		cmocka_unit_test(test_v1_tcp6_and_mixed),
		cmocka_unit_test(test_v1_unknown),
		cmocka_unit_test(test_v1_encode_errors),
		cmocka_unit_test(test_v1_decode_valid),
		cmocka_unit_test(test_v1_decode_malformed),
		cmocka_unit_test(test_v1_early_errors),
		cmocka_unit_test(test_v2_tcp4_all_tlvs),
		cmocka_unit_test(test_v2_tcp6_mixed_udp),
		cmocka_unit_test(test_v2_unix),
		cmocka_unit_test(test_v2_largest_sent),
		cmocka_unit_test(test_v2_local_and_unspec),
		cmocka_unit_test(test_v2_encode_errors),
		cmocka_unit_test(test_v2_haproxy_vector),
		cmocka_unit_test(test_v2_decode_malformed_fixed),
		cmocka_unit_test(test_v2_decode_local_skips),
		cmocka_unit_test(test_v2_decode_tlv_errors),
		cmocka_unit_test(test_v2_decode_tlvs_skipped_and_kept),
		cmocka_unit_test(test_v2_payload_after),
		cmocka_unit_test(test_partial_delivery),
		cmocka_unit_test(test_strerror),
		cmocka_unit_test(test_clear),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
