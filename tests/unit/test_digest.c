/* test_digest.c — MD5 against RFC 1321's test suite (appendix A.5) and
 * SHA-256 against FIPS 180-4's examples (NIST CSRC example values), one-shot
 * and fed in every split, so that the block buffering is covered. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "lib/digest.h"

static const char *md5_hex(const void *p, size_t n, char out[33])
{
	struct md5_ctx c;
	uint8_t d[MD5_DIGEST_LEN];

	md5_init(&c);
	md5_update(&c, p, n);
	md5_final(&c, d);
	return digest_hex(out, d, sizeof(d));
}

static const char *sha_hex(const void *p, size_t n, char out[65])
{
	struct sha256_ctx c;
	uint8_t d[SHA256_DIGEST_LEN];

	sha256_init(&c);
	sha256_update(&c, p, n);
	sha256_final(&c, d);
	return digest_hex(out, d, sizeof(d));
}

/* RFC 1321 A.5 */
static const struct { const char *in, *md5; } md5_vec[] = {
	{ "", "d41d8cd98f00b204e9800998ecf8427e" },
	{ "a", "0cc175b9c0f1b6a831c399e269772661" },
	{ "abc", "900150983cd24fb0d6963f7d28e17f72" },
	{ "message digest", "f96b697d7cb7938d525a2f31aaf161d0" },
	{ "abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b" },
	{ "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
	  "d174ab98d277d9f5a5611c2c9f419d9f" },
	{ "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
	  "57edf4a22be3c955ac49da2e2107b67a" },
};

/* FIPS 180-4 examples (one block, two blocks, the 896-bit message) */
static const struct { const char *in, *sha; } sha_vec[] = {
	{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
	{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
	{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	{ "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
	  "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
	  "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
};

static void test_md5_rfc1321(void **state)
{
	char out[33];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(md5_vec) / sizeof(md5_vec[0]); i++)
		assert_string_equal(md5_hex(md5_vec[i].in, strlen(md5_vec[i].in), out),
				    md5_vec[i].md5);
}

static void test_sha256_fips180(void **state)
{
	char out[65];
	size_t i;
	char *a;

	(void)state;
	for (i = 0; i < sizeof(sha_vec) / sizeof(sha_vec[0]); i++)
		assert_string_equal(sha_hex(sha_vec[i].in, strlen(sha_vec[i].in), out),
				    sha_vec[i].sha);
	/* one million 'a' */
	a = malloc(1000000);
	assert_non_null(a);
	memset(a, 'a', 1000000);
	assert_string_equal(sha_hex(a, 1000000, out),
			    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(a);
}

/* Every split of a 130-byte message into two updates (and byte by byte)
 * gives the one-shot digest: covers partial blocks, the 55/56/64 padding
 * edges and the buffered path. */
static void test_incremental(void **state)
{
	uint8_t msg[130], d[SHA256_DIGEST_LEN], m[MD5_DIGEST_LEN];
	char ref_md5[33], ref_sha[65], got[65];
	struct md5_ctx mc;
	struct sha256_ctx sc;
	size_t len, cut, i;

	(void)state;
	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 7 + 3);
	for (len = 0; len <= sizeof(msg); len++) {
		md5_hex(msg, len, ref_md5);
		sha_hex(msg, len, ref_sha);
		for (cut = 0; cut <= len; cut++) {
			md5_init(&mc);
			md5_update(&mc, msg, cut);
			md5_update(&mc, msg + cut, len - cut);
			md5_final(&mc, m);
			assert_string_equal(digest_hex(got, m, sizeof(m)), ref_md5);
			sha256_init(&sc);
			sha256_update(&sc, msg, cut);
			sha256_update(&sc, msg + cut, len - cut);
			sha256_final(&sc, d);
			assert_string_equal(digest_hex(got, d, sizeof(d)), ref_sha);
		}
		sha256_init(&sc);
		for (i = 0; i < len; i++)
			sha256_update(&sc, msg + i, 1);
		sha256_update(&sc, NULL, 0);
		sha256_final(&sc, d);
		assert_string_equal(digest_hex(got, d, sizeof(d)), ref_sha);
	}
	/* checked against Python's hashlib */
	assert_string_equal(md5_hex(msg, 130, ref_md5), "4298951876af905376a025f7279651c2");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_md5_rfc1321),
		cmocka_unit_test(test_sha256_fips180),
		cmocka_unit_test(test_incremental),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
