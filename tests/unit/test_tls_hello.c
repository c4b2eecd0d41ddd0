/* test_tls_hello.c — the ClientHello parser, JA3/JA4 and the HAProxy-style
 * record fetches.
 *
 * Real hellos: tests/unit/data/tls/NAME.bin were captured from real clients
 * (openssl, curl, python ssl, chromium, firefox, gnutls-cli, wget, Java's
 * JSSE, node, Go's crypto/tls) by
 * tests/tools/capture_fixtures.sh, and expect.tsv holds what tshark said of
 * the same packets (JA3 text and MD5) and the JA4 computed by
 * tests/tools/ja4_from_tshark.py from tshark's dissection. Every length of
 * every real hello is also tried: truncated (must ask for more), and cut
 * with consistent lengths (must be refused as malformed, except where the
 * cut leaves a valid hello). Buffers are malloc'd at their exact size so
 * that ASan sees any over-read.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/tls_hello.h"

#include "helpers.h"

#ifndef DP_TESTDATA
#define DP_TESTDATA "tests/unit/data"
#endif

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static uint8_t scratch[TLSH_SCRATCH_SIZE];

/* ------------------------------------------------------------ helpers -- */

/* An exact-size heap copy, so that ASan catches a read past the end. */
static uint8_t *dup_exact(const uint8_t *p, size_t n)
{
	uint8_t *d = malloc(n ? n : 1);

	assert_non_null(d);
	if (n)
		memcpy(d, p, n);
	return d;
}

/* Parses an exact-size copy of p. The copy stays alive until the next call
 * (the views of *h point into it); the group teardown frees the last one. */
static uint8_t *last_copy;

static enum tlsh_status parse_exact(const uint8_t *p, size_t n, struct tls_hello *h,
				    bool with_scratch)
{
	free(last_copy);
	last_copy = dup_exact(p, n);
	return tls_hello_parse(last_copy, n, with_scratch ? scratch : NULL,
			       with_scratch ? sizeof(scratch) : 0, h);
}

static int free_last_copy(void **state)
{
	(void)state;
	free(last_copy);
	last_copy = NULL;
	return 0;
}

/* A byte builder for synthetic hellos. */
struct bb {
	uint8_t b[20000];
	size_t n;
};

static void put8(struct bb *b, unsigned int v)
{
	assert_true(b->n < sizeof(b->b));
	b->b[b->n++] = (uint8_t)v;
}

static void put16(struct bb *b, unsigned int v)
{
	put8(b, v >> 8);
	put8(b, v & 0xff);
}

static void put24(struct bb *b, unsigned int v)
{
	put8(b, v >> 16);
	put16(b, v & 0xffff);
}

static void putn(struct bb *b, const void *p, size_t n)
{
	assert_true(b->n + n <= sizeof(b->b));
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

/* Writes the 16-bit length of what was written since mark at mark. */
static void fix16(struct bb *b, size_t mark)
{
	size_t n = b->n - mark - 2;

	b->b[mark] = (uint8_t)(n >> 8);
	b->b[mark + 1] = (uint8_t)n;
}

/* Wraps a ClientHello body into a handshake header and one record. */
static void wrap(struct bb *out, const uint8_t *body, size_t n)
{
	out->n = 0;
	put8(out, 0x16);
	put16(out, 0x0301);
	put16(out, (unsigned int)n + 4);
	put8(out, 1);
	put24(out, (unsigned int)n);
	putn(out, body, n);
}

/* Re-cuts one-record hello into records of at most frag payload bytes. */
static void refragment(struct bb *out, const uint8_t *rec, size_t n, size_t frag)
{
	size_t pos = 5, k;

	out->n = 0;
	while (pos < n) {
		k = n - pos < frag ? n - pos : frag;
		put8(out, 0x16);
		put16(out, 0x0303);
		put16(out, (unsigned int)k);
		putn(out, rec + pos, k);
		pos += k;
	}
}

/* The JA4 worked example of FoxIO's JA4 definition: 15 ciphers, 16
 * extensions (the example's list), plus GREASE everywhere, which must not
 * change anything. sig: with or without signature algorithms. */
static void spec_example_body(struct bb *b, bool sig, const uint8_t *alpn, size_t alpn_len)
{
	static const uint16_t ciphers[] = {
		0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9,
		0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035,
	};
	static const uint16_t exts[] = {
		0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d,
		0x0005, 0x0023, 0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015,
	};
	static const uint16_t sigs[] = {
		0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
	};
	size_t i, j, m, ext_mark, l;
	uint8_t rnd[32] = { 0 };

	b->n = 0;
	put16(b, 0x0303);
	putn(b, rnd, 32);
	put8(b, 0);
	put16(b, 2 * (ARRAY_LEN(ciphers) + 1));
	put16(b, 0x2a2a);	/* GREASE */
	for (i = 0; i < ARRAY_LEN(ciphers); i++)
		put16(b, ciphers[i]);
	put8(b, 1);
	put8(b, 0);
	ext_mark = b->n;
	put16(b, 0);
	put16(b, 0x0a0a);	/* GREASE extension, empty */
	put16(b, 0);
	for (i = 0; i < ARRAY_LEN(exts); i++) {
		put16(b, exts[i]);
		m = b->n;
		put16(b, 0);
		switch (exts[i]) {
		case 0x0000:
			l = b->n;
			put16(b, 0);
			put8(b, 0);
			put16(b, 9);
			putn(b, "a.example", 9);
			fix16(b, l);
			break;
		case 0x0010:
			l = b->n;
			put16(b, 0);
			put8(b, (unsigned int)alpn_len);
			putn(b, alpn, alpn_len);
			put8(b, 8);
			putn(b, "http/1.1", 8);
			fix16(b, l);
			break;
		case 0x000d:
			l = b->n;
			put16(b, 0);
			put16(b, 0x1a1a);	/* GREASE sig alg */
			for (j = 0; sig && j < ARRAY_LEN(sigs); j++)
				put16(b, sigs[j]);
			fix16(b, l);
			break;
		case 0x002b:
			put8(b, 6);
			put16(b, 0x3a3a);
			put16(b, 0x0304);
			put16(b, 0x0303);
			break;
		case 0x000a:
			l = b->n;
			put16(b, 0);
			put16(b, 0x4a4a);
			put16(b, 0x001d);
			put16(b, 0x0017);
			fix16(b, l);
			break;
		case 0x000b:
			put8(b, 1);
			put8(b, 0);
			break;
		default:
			break;
		}
		fix16(b, m);
	}
	fix16(b, ext_mark);
}

/* ------------------------------------------------- real-client hellos -- */

struct expect {
	char name[64], sni[256], alpn[1024], legacy[8], version[8];
	char ja3_full[8192], ja3[40], ja4[64], ja4_r[8192];
};

static int read_expect(FILE *f, struct expect *e)
{
	static char line[32768];
	char *fld[9], *p;
	int i;

	if (!fgets(line, sizeof(line), f))
		return 0;
	line[strcspn(line, "\n")] = '\0';
	for (i = 0, p = line; i < 9; i++) {
		fld[i] = p;
		p = strchr(p, '\t');
		if (i < 8) {
			assert_non_null(p);
			*p++ = '\0';
		}
	}
	snprintf(e->name, sizeof(e->name), "%s", fld[0]);
	snprintf(e->sni, sizeof(e->sni), "%s", fld[1]);
	snprintf(e->alpn, sizeof(e->alpn), "%s", fld[2]);
	snprintf(e->legacy, sizeof(e->legacy), "%s", fld[3]);
	snprintf(e->version, sizeof(e->version), "%s", fld[4]);
	snprintf(e->ja3_full, sizeof(e->ja3_full), "%s", fld[5]);
	snprintf(e->ja3, sizeof(e->ja3), "%s", fld[6]);
	snprintf(e->ja4, sizeof(e->ja4), "%s", fld[7]);
	snprintf(e->ja4_r, sizeof(e->ja4_r), "%s", fld[8]);
	return 1;
}

static void view_str(struct tlsh_view v, char *out, size_t outsz)
{
	size_t n = v.len < outsz - 1 ? v.len : outsz - 1;

	if (v.p)
		memcpy(out, v.p, n);
	out[v.p ? n : 0] = '\0';
}

static void check_fixture(const struct expect *e)
{
	char path[512], buf[8192], hex[8], tmp[1024];
	struct tls_hello h;
	struct tlsh_view name;
	size_t len, pos = 0, cut;
	uint8_t *data;
	int type;
	uint32_t ver;

	snprintf(path, sizeof(path), "%s/tls/%s.bin", DP_TESTDATA, e->name);
	data = load_file(path, &len);
	print_message("fixture %s (%zu bytes)\n", e->name, len);

	assert_int_equal(parse_exact(data, len, &h, true), TLSH_OK);
	assert_int_equal(h.err, TLSH_E_NONE);
	assert_true(h.wire_len <= len);
	assert_false(h.sslv2);
	view_str(h.sni, tmp, sizeof(tmp));
	assert_string_equal(h.sni.p ? tmp : "-", e->sni);
	/* ALPN names, comma-joined as tshark lists them */
	buf[0] = '\0';
	while (tlsh_alpn_next(&h, &pos, &name)) {
		view_str(name, tmp, sizeof(tmp));
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s",
			 buf[0] ? "," : "", tmp);
	}
	assert_string_equal(h.has_alpn ? buf : "-", e->alpn);
	snprintf(hex, sizeof(hex), "%04x", h.legacy_version);
	assert_string_equal(hex, e->legacy);
	snprintf(hex, sizeof(hex), "%04x", h.version);
	assert_string_equal(hex, e->version);

	assert_int_equal(tls_hello_ja3(&h, buf, sizeof(buf)), (int)strlen(e->ja3_full));
	assert_string_equal(buf, e->ja3_full);
	assert_int_equal(tls_hello_ja3_hash(&h, buf), TLSH_JA3_HASH_LEN);
	assert_string_equal(buf, e->ja3);
	assert_int_equal(tls_hello_ja4(&h, buf), TLSH_JA4_LEN);
	assert_string_equal(buf, e->ja4);
	assert_true(tls_hello_ja4_raw(&h, false, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, e->ja4_r);

	/* HAProxy's record-level fetches: hello type 1, version 3.3 */
	assert_int_equal(tls_hello_type(data, len, &type), TLSH_OK);
	assert_int_equal(type, 1);
	assert_int_equal(tls_ssl_ver(data, len, 0, &ver), TLSH_OK);
	assert_int_equal(ver, 0x00030003);

	/* every truncation asks for more (and never reads past the end) */
	for (cut = 0; cut < h.wire_len; cut++) {
		struct tls_hello t;

		if (parse_exact(data, cut, &t, true) != TLSH_NEED_MORE)
			fail_msg("%s: %zu of %zu bytes: status %d err %d", e->name, cut,
				 h.wire_len, t.status, t.err);
	}
	free(data);
}

static void test_real_clients(void **state)
{
	char path[512];
	struct expect *e = malloc(sizeof(*e));
	FILE *f;
	int n = 0;

	(void)state;
	assert_non_null(e);
	snprintf(path, sizeof(path), "%s/tls/expect.tsv", DP_TESTDATA);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_true(read_expect(f, e));	/* header */
	while (read_expect(f, e)) {
		check_fixture(e);
		n++;
	}
	fclose(f);
	free(e);
	assert_true(n >= 13);
}

/* The hello openssl sent in two records (-max_send_frag 512): parsed only
 * with a scratch; and the same bytes re-cut into 1-byte records. */
static void test_fragmented(void **state)
{
	char path[512], ja4a[TLSH_JA4_LEN + 1], ja4b[TLSH_JA4_LEN + 1], j3a[40], j3b[40];
	struct tls_hello h;
	struct bb *b = malloc(sizeof(*b));
	uint8_t *data, *one;
	size_t len;

	(void)state;
	assert_non_null(b);
	snprintf(path, sizeof(path), "%s/tls/openssl_fragmented.bin", DP_TESTDATA);
	data = load_file(path, &len);
	assert_int_equal(parse_exact(data, len, &h, true), TLSH_OK);
	assert_int_equal(h.nrecords, 2);
	assert_int_equal(h.wire_len, len);
	assert_int_equal(parse_exact(data, len, &h, false), TLSH_NOT_HELLO);
	assert_int_equal(h.err, TLSH_E_TOO_BIG);

	/* one-record openssl hello, re-cut into records of 1, 2, 3, 7 bytes */
	free(data);
	snprintf(path, sizeof(path), "%s/tls/openssl_tls13.bin", DP_TESTDATA);
	data = load_file(path, &len);
	assert_int_equal(parse_exact(data, len, &h, true), TLSH_OK);
	assert_int_equal(h.nrecords, 1);
	assert_int_equal(tls_hello_ja4(&h, ja4a), TLSH_JA4_LEN);
	assert_int_equal(tls_hello_ja3_hash(&h, j3a), TLSH_JA3_HASH_LEN);
	for (size_t frag = 1; frag <= 7; frag++) {
		refragment(b, data, len, frag);
		one = dup_exact(b->b, b->n);
		assert_int_equal(tls_hello_parse(one, b->n, scratch, sizeof(scratch), &h), TLSH_OK);
		assert_int_equal(h.nrecords, (len - 5 + frag - 1) / frag);
		assert_int_equal(h.wire_len, b->n);
		assert_int_equal(tls_hello_ja4(&h, ja4b), TLSH_JA4_LEN);
		assert_string_equal(ja4a, ja4b);
		assert_int_equal(tls_hello_ja3_hash(&h, j3b), TLSH_JA3_HASH_LEN);
		assert_string_equal(j3a, j3b);
		/* a scratch one byte too small: refused, not overflowed */
		assert_int_equal(tls_hello_parse(one, b->n, scratch, len - 5 - 1, &h),
				 TLSH_NOT_HELLO);
		assert_int_equal(h.err, TLSH_E_TOO_BIG);
		/* every truncation waits */
		for (size_t cut = 0; cut < b->n; cut += 1 + frag / 2)
			assert_int_equal(parse_exact(one, cut, &h, true), TLSH_NEED_MORE);
		free(one);
	}
	/* an alert record in the middle of the hello's records */
	refragment(b, data, len, 100);
	b->b[5 + 100] = 0x15;
	assert_int_equal(parse_exact(b->b, b->n, &h, true), TLSH_NOT_HELLO);
	assert_int_equal(h.err, TLSH_E_RECORD);
	/* a zero-length record */
	refragment(b, data, len, 100);
	b->b[5 + 100 + 3] = 0;
	b->b[5 + 100 + 4] = 0;
	assert_int_equal(parse_exact(b->b, b->n, &h, true), TLSH_NOT_HELLO);
	assert_int_equal(h.err, TLSH_E_RECORD);
	free(data);
	free(b);
}

/* Cut the body of a real hello at every length, keeping the record and
 * handshake lengths consistent: only the full hello and the hello that
 * stops right after the compression methods (no extensions, as TLS 1.0
 * allows) are valid; every other length is malformed. Plus every byte
 * flipped: never a crash or over-read, whatever the verdict. */
static void test_every_length(void **state)
{
	static const char *const names[] = {
		"chromium", "curl", "firefox", "go", "java", "openssl_tls12_alpn", "python_ssl",
	};
	char path[512];
	struct tls_hello h;
	struct bb *b = malloc(sizeof(*b));
	uint8_t *data, *body;
	size_t len, blen, cut, no_ext, i, n;

	(void)state;
	assert_non_null(b);
	for (n = 0; n < ARRAY_LEN(names); n++) {
		snprintf(path, sizeof(path), "%s/tls/%s.bin", DP_TESTDATA, names[n]);
		data = load_file(path, &len);
		/* on data itself: the views below point into it */
		assert_int_equal(tls_hello_parse(data, len, NULL, 0, &h), TLSH_OK);
		assert_int_equal(h.nrecords, 1);
		body = data + 9;
		blen = (size_t)(data[6] << 16 | data[7] << 8 | data[8]);
		no_ext = (size_t)(h.compression.p + h.compression.len - body);
		for (cut = 0; cut <= blen; cut++) {
			wrap(b, body, cut);
			if (parse_exact(b->b, b->n, &h, true) == TLSH_OK) {
				if (cut != blen && cut != no_ext)
					fail_msg("%s: body cut at %zu of %zu accepted", names[n], cut, blen);
				assert_int_equal(h.has_extensions, cut == blen);
			} else {
				if (cut == blen || cut == no_ext)
					fail_msg("%s: body cut at %zu refused (%d)", names[n], cut, h.err);
				assert_int_equal(h.status, TLSH_NOT_HELLO);
				assert_int_equal(h.err, TLSH_E_MALFORMED);
			}
		}
		for (i = 0; i < len; i++) {
			char ja3[4096], ja4[TLSH_JA4_LEN + 1];
			uint8_t *m = dup_exact(data, len);

			m[i] ^= 0xff;
			if (tls_hello_parse(m, len, scratch, sizeof(scratch), &h) == TLSH_OK) {
				tls_hello_ja3(&h, ja3, sizeof(ja3));
				tls_hello_ja4(&h, ja4);
			}
			free(m);
		}
		free(data);
	}
	free(b);
}

/* ------------------------------------------------------------- JA4 spec -- */

static void test_ja4_spec_example(void **state)
{
	struct bb *body = malloc(sizeof(*body)), *rec = malloc(sizeof(*rec));
	struct tls_hello h;
	char ja4[TLSH_JA4_LEN + 1], raw[2048];

	(void)state;
	assert_non_null(body);
	assert_non_null(rec);
	spec_example_body(body, true, (const uint8_t *)"h2", 2);
	wrap(rec, body->b, body->n);
	assert_int_equal(parse_exact(rec->b, rec->n, &h, true), TLSH_OK);
	assert_true(h.grease);
	assert_int_equal(h.version, 0x0304);
	assert_int_equal(tls_hello_ja4(&h, ja4), TLSH_JA4_LEN);
	assert_string_equal(ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1");
	assert_true(tls_hello_ja4_raw(&h, false, raw, sizeof(raw)) > 0);
	assert_string_equal(raw, "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,"
			    "c02c,c02f,c030,cca8,cca9_0005,000a,000b,000d,0012,0015,0017,001b,"
			    "0023,002b,002d,0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601");
	assert_true(tls_hello_ja4_raw(&h, true, raw, sizeof(raw)) > 0);
	assert_string_equal(raw, "t13d1516h2_1301,1302,1303,c02b,c02f,c02c,c030,cca9,cca8,c013,"
			    "c014,009c,009d,002f,0035_001b,0000,0033,0010,4469,0017,002d,000d,"
			    "0005,0023,0012,002b,ff01,000b,000a,0015_0403,0804,0401,0503,0805,"
			    "0501,0806,0601");
	/* too small a buffer: -ENOSPC, NUL-terminated prefix */
	assert_int_equal(tls_hello_ja4_raw(&h, false, raw, 12), -ENOSPC);
	assert_string_equal(raw, "t13d1516h2_");

	/* no signature algorithm (only GREASE): no "_" and the spec's hash */
	spec_example_body(body, false, (const uint8_t *)"h2", 2);
	wrap(rec, body->b, body->n);
	assert_int_equal(parse_exact(rec->b, rec->n, &h, true), TLSH_OK);
	assert_int_equal(tls_hello_ja4(&h, ja4), TLSH_JA4_LEN);
	assert_string_equal(ja4, "t13d1516h2_8daaf6152771_6d807ffa2a79");
	free(body);
	free(rec);
}

/* The ALPN characters of JA4_a (spec's examples). */
static void test_ja4_alpn_chars(void **state)
{
	static const struct { const char *alpn; size_t len; const char *want; } v[] = {
		{ "\xab", 1, "ab" },
		{ "\xab\xcd", 2, "ad" },
		{ "\x30\xab", 2, "3b" },
		{ "\x30\xab\xcd\x31", 4, "01" },
		{ "\x30\x31\xab\xcd", 4, "3d" },
		{ " ", 1, "20" },
		{ " a", 2, "21" },
		{ "a ", 2, "60" },
		{ "h", 1, "hh" },
		{ "http/1.1", 8, "h1" },
		{ "", 0, "00" },
	};
	struct bb *body = malloc(sizeof(*body)), *rec = malloc(sizeof(*rec));
	struct tls_hello h;
	char ja4[TLSH_JA4_LEN + 1];
	size_t i;

	(void)state;
	assert_non_null(body);
	assert_non_null(rec);
	for (i = 0; i < ARRAY_LEN(v); i++) {
		spec_example_body(body, true, (const uint8_t *)v[i].alpn, v[i].len);
		wrap(rec, body->b, body->n);
		assert_int_equal(parse_exact(rec->b, rec->n, &h, true), TLSH_OK);
		assert_int_equal(tls_hello_ja4(&h, ja4), TLSH_JA4_LEN);
		assert_memory_equal(ja4 + 8, v[i].want, 2);
	}
	free(body);
	free(rec);
}

/* ------------------------------------------------------- hostile input -- */

static void test_hostile(void **state)
{
	struct tls_hello h;
	struct bb *b = malloc(sizeof(*b)), *r = malloc(sizeof(*r));
	char out[64];
	size_t i;
	uint8_t rnd[32] = { 0 };

	(void)state;
	assert_non_null(b);
	assert_non_null(r);
	/* nothing yet / not TLS */
	assert_int_equal(tls_hello_parse(NULL, 0, NULL, 0, &h), TLSH_NEED_MORE);
	assert_int_equal(parse_exact((const uint8_t *)"GET / HTTP/1.1\r\n", 16, &h, true), TLSH_NOT_HELLO);
	assert_int_equal(h.err, TLSH_E_NOT_TLS);
	assert_int_equal(parse_exact((const uint8_t *)"\x16\x02", 2, &h, true), TLSH_NOT_HELLO);
	assert_int_equal(h.err, TLSH_E_NOT_TLS);
	/* a ServerHello, and a record too long */
	assert_int_equal(parse_exact((const uint8_t *)"\x16\x03\x03\x00\x40\x02", 6, &h, true), TLSH_NOT_HELLO);
	assert_int_equal(h.err, TLSH_E_NOT_CLIENT_HELLO);
	assert_int_equal(parse_exact((const uint8_t *)"\x16\x03\x01\x48\x01", 5, &h, true), TLSH_NOT_HELLO);
	assert_int_equal(h.err, TLSH_E_RECORD);
	/* 16 MB announced: refused at once, not waited for */
	assert_int_equal(parse_exact((const uint8_t *)"\x16\x03\x01\x40\x00\x01\xff\xff\xff", 9, &h, true),
			 TLSH_NOT_HELLO);
	assert_int_equal(h.err, TLSH_E_TOO_BIG);
	/* handshake header split over 1-byte records still checked early */
	assert_int_equal(parse_exact((const uint8_t *)"\x16\x03\x01\x00\x01\x01\x16\x03\x01\x00\x01\x00"
				     "\x16\x03\x01\x00\x01\x00\x16\x03\x01\x00\x01\x05", 24, &h, true),
			 TLSH_NOT_HELLO);
	assert_int_equal(h.err, TLSH_E_MALFORMED);	/* body of 5 bytes */

	/* malformed bodies */
	struct { const char *what; size_t sid; unsigned int cslen; unsigned int comp; } bad[] = {
		{ "session id 33", 33, 2, 1 },
		{ "odd cipher length", 0, 3, 1 },
		{ "no cipher", 0, 0, 1 },
		{ "no compression", 0, 2, 0 },
	};
	for (i = 0; i < ARRAY_LEN(bad); i++) {
		b->n = 0;
		put16(b, 0x0303);
		putn(b, rnd, 32);
		put8(b, (unsigned int)bad[i].sid);
		for (size_t k = 0; k < bad[i].sid; k++)
			put8(b, 0);
		put16(b, bad[i].cslen);
		for (size_t k = 0; k < bad[i].cslen; k++)
			put8(b, 0x13);
		put8(b, bad[i].comp);
		for (size_t k = 0; k < bad[i].comp; k++)
			put8(b, 0);
		put16(b, 0);	/* empty extensions */
		wrap(r, b->b, b->n);
		print_message("%s\n", bad[i].what);
		assert_int_equal(parse_exact(r->b, r->n, &h, true), TLSH_NOT_HELLO);
		assert_int_equal(h.err, TLSH_E_MALFORMED);
	}

	/* extensions whose inner lengths lie */
	static const struct { uint16_t type; const char *data; size_t len; } ext[] = {
		{ 0x0000, "\x00\x05\x00\x00\x09" "abc", 8 },	/* SNI name past its list */
		{ 0x0000, "\x00\x02\x00", 3 },			/* SNI list length wrong */
		{ 0x0010, "\x00\x03\x05h2", 5 },		/* ALPN name past the list */
		{ 0x000a, "\x00\x03\x00\x1d\x00", 5 },		/* odd group list */
		{ 0x000b, "\x05\x00", 2 },			/* point formats too long */
		{ 0x000d, "\x00\x04\x04\x03", 4 },		/* sig algs too long */
		{ 0x002b, "\x03\x03\x04\x03", 4 },		/* odd versions list */
		{ 0x0017, "", 0 },				/* fine: checked below */
	};
	for (i = 0; i < ARRAY_LEN(ext); i++) {
		size_t m;

		b->n = 0;
		put16(b, 0x0303);
		putn(b, rnd, 32);
		put8(b, 0);
		put16(b, 2);
		put16(b, 0x1301);
		put8(b, 1);
		put8(b, 0);
		m = b->n;
		put16(b, 0);
		put16(b, ext[i].type);
		put16(b, (unsigned int)ext[i].len);
		putn(b, ext[i].data, ext[i].len);
		fix16(b, m);
		wrap(r, b->b, b->n);
		if (ext[i].type == 0x0017) {
			assert_int_equal(parse_exact(r->b, r->n, &h, true), TLSH_OK);
			assert_int_equal(tls_hello_ja3(&h, out, sizeof(out)), 13);
			assert_string_equal(out, "771,4865,23,,");
			/* -ENOSPC leaves a NUL-terminated prefix */
			assert_int_equal(tls_hello_ja3(&h, out, 5), -ENOSPC);
			assert_string_equal(out, "771,");
			continue;
		}
		assert_int_equal(parse_exact(r->b, r->n, &h, true), TLSH_NOT_HELLO);
		assert_int_equal(h.err, TLSH_E_MALFORMED);
		/* an extension running past the block */
		r->b[r->n - ext[i].len - 1] += 1;
		assert_int_equal(parse_exact(r->b, r->n, &h, true), TLSH_NOT_HELLO);
	}
	/* fingerprints of what is not a parsed hello */
	memset(&h, 0, sizeof(h));
	assert_int_equal(tls_hello_ja3(&h, out, sizeof(out)), -ENOENT);
	assert_int_equal(tls_hello_ja3_hash(&h, out), -ENOENT);
	assert_int_equal(tls_hello_ja4(&h, out), -ENOENT);
	assert_string_equal(tlsh_strerror(TLSH_E_TOO_BIG), "ClientHello too large");
	assert_string_equal(tlsh_strerror((enum tlsh_err)99), "unknown error");
	free(b);
	free(r);
}

/* More ciphers than JA4 sorts: -E2BIG, JA3 still fine. */
static void test_ja4_too_many(void **state)
{
	struct bb *b = malloc(sizeof(*b)), *r = malloc(sizeof(*r));
	struct tls_hello h;
	char ja4[TLSH_JA4_LEN + 1], j3[40];
	uint8_t rnd[32] = { 0 };
	size_t i;

	(void)state;
	assert_non_null(b);
	assert_non_null(r);
	b->n = 0;
	put16(b, 0x0303);
	putn(b, rnd, 32);
	put8(b, 0);
	put16(b, 2 * (TLSH_JA4_MAX_ITEMS + 1));
	for (i = 0; i <= TLSH_JA4_MAX_ITEMS; i++)
		put16(b, (unsigned int)(TLSH_JA4_MAX_ITEMS - i));
	put8(b, 1);
	put8(b, 0);
	wrap(r, b->b, b->n);
	assert_int_equal(parse_exact(r->b, r->n, &h, true), TLSH_OK);
	assert_false(h.has_extensions);
	assert_int_equal(tls_hello_ja4(&h, ja4), -E2BIG);
	assert_int_equal(tls_hello_ja3_hash(&h, j3), TLSH_JA3_HASH_LEN);
	free(b);
	free(r);
}

/* ---------------------------------------------------- SSLv2 and compat -- */

static void test_sslv2(void **state)
{
	char path[512];
	struct tls_hello h;
	uint8_t *data;
	size_t len, cut;
	uint32_t ver;
	char out[64];
	int type;

	(void)state;
	snprintf(path, sizeof(path), "%s/tls/handmade_sslv2_hello.bin", DP_TESTDATA);
	data = load_file(path, &len);
	assert_int_equal(parse_exact(data, len, &h, false), TLSH_OK);
	assert_true(h.sslv2);
	assert_int_equal(h.legacy_version, 0x0301);
	assert_int_equal(h.ciphers.len, 9);
	assert_int_equal(h.random.len, 16);
	assert_int_equal(h.wire_len, len);
	assert_int_equal(tls_hello_ja3(&h, out, sizeof(out)), -ENOENT);
	assert_int_equal(tls_hello_ja4(&h, out), -ENOENT);
	for (cut = 0; cut < len; cut++)
		assert_int_equal(parse_exact(data, cut, &h, false), TLSH_NEED_MORE);
	/* req.ssl_ver reports the SSLv2 hello's version; hello_type does not
	 * know the SSLv2 format (HAProxy) */
	assert_int_equal(tls_ssl_ver(data, len, 0, &ver), TLSH_OK);
	assert_int_equal(ver, 0x00030001);
	assert_int_equal(tls_ssl_ver(data, len - 1, 0, &ver), TLSH_NEED_MORE);
	assert_int_equal(tls_hello_type(data, len, &type), TLSH_NOT_HELLO);
	/* inconsistent record length */
	data[1]++;
	assert_int_equal(parse_exact(data, len, &h, false), TLSH_NOT_HELLO);
	assert_int_equal(tls_ssl_ver(data, len, 0, &ver), TLSH_NOT_HELLO);
	free(data);
}

static void test_haproxy_compat(void **state)
{
	uint32_t ver = 0;
	int type = -1;
	/* record header + ServerHello-type message of 2 bytes */
	static const uint8_t sh[] = { 0x16, 0x03, 0x03, 0x00, 0x06, 0x02, 0x00, 0x00, 0x02, 0x03, 0x03 };

	(void)state;
	assert_int_equal(tls_hello_type(NULL, 0, &type), TLSH_NEED_MORE);
	assert_int_equal(tls_hello_type((const uint8_t *)"GET", 3, &type), TLSH_NOT_HELLO);
	assert_int_equal(tls_hello_type(sh, 8, &type), TLSH_NEED_MORE);
	assert_int_equal(tls_hello_type(sh, sizeof(sh), &type), TLSH_OK);
	assert_int_equal(type, 2);
	/* record version below 3.0, record too short for a handshake header */
	assert_int_equal(tls_hello_type((const uint8_t *)"\x16\x02", 2, &type), TLSH_NOT_HELLO);
	assert_int_equal(tls_hello_type((const uint8_t *)"\x16\x03\x01\x00\x03", 5, &type), TLSH_NOT_HELLO);

	/* ssl_ver: the ClientHello's version once the record is there */
	assert_int_equal(tls_ssl_ver(sh, 10, 0, &ver), TLSH_NEED_MORE);
	assert_int_equal(tls_ssl_ver(sh, sizeof(sh), 0, &ver), TLSH_OK);
	assert_int_equal(ver, 0x00030003);
	/* a record announcing 1000 bytes: wait, unless the buffer can hold no more */
	{
		uint8_t big[64] = { 0x16, 0x03, 0x01, 0x03, 0xe8, 0x01, 0x00, 0x03, 0xe4, 0x03, 0x01 };

		assert_int_equal(tls_ssl_ver(big, sizeof(big), 0, &ver), TLSH_NEED_MORE);
		assert_int_equal(tls_ssl_ver(big, sizeof(big), sizeof(big), &ver), TLSH_OK);
		assert_int_equal(ver, 0x00030001);
	}
	/* record length outside 6..2^14+2048 */
	assert_int_equal(tls_ssl_ver((const uint8_t *)"\x16\x03\x01\x00\x05", 5, 0, &ver), TLSH_NOT_HELLO);
	assert_int_equal(tls_ssl_ver((const uint8_t *)"\x16\x03\x01\x48\x01", 5, 0, &ver), TLSH_NOT_HELLO);
	/* text is not SSL */
	assert_int_equal(tls_ssl_ver((const uint8_t *)"GET / HTTP/1.0\r\n", 16, 0, &ver), TLSH_NOT_HELLO);
	assert_int_equal(tls_ssl_ver((const uint8_t *)"SSH-2.0-x\r\n", 11, 0, &ver), TLSH_NOT_HELLO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_clients),
		cmocka_unit_test(test_fragmented),
		cmocka_unit_test(test_every_length),
		cmocka_unit_test(test_ja4_spec_example),
		cmocka_unit_test(test_ja4_alpn_chars),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_ja4_too_many),
		cmocka_unit_test(test_sslv2),
		cmocka_unit_test(test_haproxy_compat),
	};

	return cmocka_run_group_tests(tests, NULL, free_last_copy);
}
