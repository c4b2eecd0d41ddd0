/* test_proto_detect.c — the req.proto classifier on the first bytes of
 * real clients and hand-made ones.
 *
 * tests/unit/data/proto/PROTO__CLIENT.bin: PROTO is the expected answer.
 * Captured ones come from real clients (tests/tools/capture_fixtures.sh:
 * OpenSSH, curl, chromium, openssl, psql, redis-cli, socat, curl as SOCKS5
 * client, nmap's rdp/smb/mongodb/memcached/telnet scripts); those named
 * "handmade" are built from the protocol specifications by
 * tests/tools/make_handmade_fixtures.py where no client that talks first
 * exists on the machine (SMTP, FTP, MySQL, SIP, OpenVPN...).
 *
 * Every prefix of every fixture is classified too: the answer may only be
 * "wait" or the right protocol, never another one, and the fixture's own
 * probe never says NO to a prefix of its protocol.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/proto_detect.h"

#include "helpers.h"

#ifndef DP_TESTDATA
#define DP_TESTDATA "tests/unit/data"
#endif

static enum pd_verdict classify_exact(const uint8_t *p, size_t n, unsigned int flags,
				      struct pd_result *r)
{
	uint8_t *d = malloc(n ? n : 1);
	enum pd_verdict v;

	assert_non_null(d);
	if (n)
		memcpy(d, p, n);
	v = pd_classify(n ? d : NULL, n, flags, r);
	free(d);
	return v;
}

static void check_fixture(const char *file)
{
	char path[512], want[64];
	const char *sep = strstr(file, "__");
	struct pd_result r;
	size_t len, cut;
	uint8_t *data;
	int proto;

	assert_non_null(sep);
	snprintf(want, sizeof(want), "%.*s", (int)(sep - file), file);
	proto = pd_proto_lookup(want);
	if (proto < 0)
		fail_msg("%s: unknown protocol %s", file, want);
	snprintf(path, sizeof(path), "%s/proto/%s", DP_TESTDATA, file);
	data = load_file(path, &len);
	print_message("%-48s %4zu bytes -> ", file, len);

	if (proto == PD_UNKNOWN) {
		assert_int_equal(classify_exact(data, len, 0, &r), PD_NO);
		assert_int_equal(r.proto, PD_UNKNOWN);
		assert_int_equal(classify_exact(data, len, PD_F_FINAL, &r), PD_NO);
		print_message("%s\n", pd_proto_name(r.proto));
		free(data);
		return;
	}
	assert_int_equal(classify_exact(data, len, 0, &r), PD_DEFINITE);
	print_message("%s\n", pd_proto_name(r.proto));
	assert_string_equal(pd_proto_name(r.proto), want);
	assert_int_equal(classify_exact(data, len, PD_F_FINAL, &r), PD_DEFINITE);
	assert_int_equal(r.proto, proto);
	for (cut = 0; cut < len; cut++) {
		enum pd_verdict v = classify_exact(data, cut, 0, &r);

		if (v == PD_NO || (v == PD_DEFINITE && (int)r.proto != proto))
			fail_msg("%s: prefix of %zu bytes classified %s (%d)", file, cut,
				 pd_proto_name(r.proto), v);
		if (r.verdict[proto] == PD_NO)
			fail_msg("%s: its probe refused a prefix of %zu bytes", file, cut);
	}
	free(data);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_fixtures(void **state)
{
	char path[512], *names[256];
	bool seen[PD_PROTO_MAX] = { false };
	struct dirent *de;
	size_t n = 0, i;
	DIR *d;
	int p;

	(void)state;
	snprintf(path, sizeof(path), "%s/proto", DP_TESTDATA);
	d = opendir(path);
	assert_non_null(d);
	while ((de = readdir(d)) && n < 256) {
		size_t l = strlen(de->d_name);

		if (l > 4 && !strcmp(de->d_name + l - 4, ".bin")) {
			names[n] = strdup(de->d_name);
			assert_non_null(names[n]);
			n++;
		}
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_str);
	for (i = 0; i < n; i++) {
		char want[64];

		check_fixture(names[i]);
		snprintf(want, sizeof(want), "%.*s", (int)(strstr(names[i], "__") - names[i]),
			 names[i]);
		seen[pd_proto_lookup(want)] = true;
		free(names[i]);
	}
	/* every protocol of the list has at least one fixture */
	for (p = 0; p < PD_PROBES; p++)
		if (!seen[p])
			fail_msg("no fixture for %s", pd_proto_name((enum pd_proto)p));
}

/* The real TLS hellos of test_tls_hello (openssl, curl, python, chromium,
 * gnutls, a hello split over two records, an SSLv2 one) are all "tls". */
static void test_tls_fixtures(void **state)
{
	char path[512];
	struct dirent *de;
	struct pd_result r;
	size_t len, n = 0;
	uint8_t *data;
	DIR *d;

	(void)state;
	snprintf(path, sizeof(path), "%s/tls", DP_TESTDATA);
	d = opendir(path);
	assert_non_null(d);
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);

		if (l < 5 || strcmp(de->d_name + l - 4, ".bin"))
			continue;
		snprintf(path, sizeof(path), "%s/tls/%s", DP_TESTDATA, de->d_name);
		data = load_file(path, &len);
		assert_int_equal(classify_exact(data, len, 0, &r), PD_DEFINITE);
		assert_int_equal(r.proto, PD_TLS);
		free(data);
		n++;
	}
	closedir(d);
	assert_true(n >= 7);
}

/* Nothing sent: wait, then "silent" at the final call. */
static void test_silent(void **state)
{
	struct pd_result r;
	int i;

	(void)state;
	assert_int_equal(pd_classify(NULL, 0, 0, &r), PD_NEED_MORE);
	assert_int_equal(r.proto, PD_UNKNOWN);
	for (i = 0; i < PD_PROBES; i++)
		assert_int_equal(r.verdict[i], PD_NEED_MORE);
	assert_int_equal(pd_classify(NULL, 0, PD_F_FINAL, &r), PD_NO);
	assert_int_equal(r.proto, PD_SILENT);
	assert_string_equal(pd_proto_name(r.proto), "silent");
}

/* A probe still waiting never hides another one's definite answer. */
static void test_no_blocking(void **state)
{
	struct pd_result r;

	(void)state;
	/* telnet is definite at 3 bytes while mongodb still waits for its
	 * 16-byte header */
	assert_int_equal(pd_classify((const uint8_t *)"\xff\xfb\x01", 3, 0, &r), PD_DEFINITE);
	assert_int_equal(r.proto, PD_TELNET);
	assert_int_equal(r.verdict[PD_MONGODB], PD_NEED_MORE);
	/* the first 10 bytes of a TLS hello: tls definite, mongodb waiting */
	assert_int_equal(pd_classify((const uint8_t *)"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03", 10, 0, &r),
			 PD_DEFINITE);
	assert_int_equal(r.proto, PD_TLS);
	assert_int_equal(r.verdict[PD_MONGODB], PD_NEED_MORE);
	/* "GET " waits for http, memcached ("get " is lower case) says no */
	assert_int_equal(pd_classify((const uint8_t *)"GET ", 4, 0, &r), PD_NEED_MORE);
	assert_int_equal(r.verdict[PD_HTTP], PD_NEED_MORE);
	assert_int_equal(r.verdict[PD_MEMCACHED], PD_NO);
	/* ... and at the final call a waiting probe is a no */
	assert_int_equal(pd_classify((const uint8_t *)"GET ", 4, PD_F_FINAL, &r), PD_NO);
	assert_int_equal(r.proto, PD_UNKNOWN);
	/* OPTIONS is both HTTP's and SIP's: the version decides */
	assert_int_equal(pd_classify((const uint8_t *)"OPTIONS * HTTP/1.1\r\n", 20, 0, &r), PD_DEFINITE);
	assert_int_equal(r.proto, PD_HTTP);
	assert_int_equal(r.verdict[PD_SIP], PD_NO);
	assert_int_equal(pd_classify((const uint8_t *)"OPTIONS sip:a@b SIP/2.0\r\n", 25, 0, &r), PD_DEFINITE);
	assert_int_equal(r.proto, PD_SIP);
	assert_int_equal(r.verdict[PD_HTTP], PD_NO);
}

/* Lines are bounded: a probe never waits past PD_MAX_LINE bytes. */
static void test_bounds(void **state)
{
	struct pd_result r;
	size_t n = PD_MAX_LINE + 16;
	uint8_t *b = malloc(n);

	(void)state;
	assert_non_null(b);
	memcpy(b, "GET /", 5);
	memset(b + 5, 'a', n - 5);
	assert_int_equal(classify_exact(b, n, 0, &r), PD_NO);
	assert_int_equal(r.proto, PD_UNKNOWN);
	/* SOCKS4 user id without its NUL */
	memcpy(b, "\x04\x01\x00\x50\x7f\x00\x00\x01", 8);
	memset(b + 8, 'u', n - 8);
	assert_int_equal(classify_exact(b, 8 + 300, 0, &r), PD_NO);
	free(b);
	/* HTTP request with an empty target / a control character */
	assert_int_equal(pd_classify((const uint8_t *)"GET  HTTP/1.1\r\n", 15, 0, &r), PD_NO);
	assert_int_equal(pd_classify((const uint8_t *)"GET /\x01 HTTP/1.1", 16, 0, &r), PD_NO);
}

/* Every 1- and 2-byte input, and 3-byte ones over a few first bytes: never
 * a crash or an over-read (exact-size buffers, ASan), and an answer that
 * is one of the three. */
static void test_short_inputs(void **state)
{
	struct pd_result r;
	unsigned int a, b, c;
	uint8_t *p = malloc(3);

	(void)state;
	assert_non_null(p);
	for (a = 0; a < 256; a++) {
		p[0] = (uint8_t)a;
		assert_true(pd_classify(p, 1, 0, &r) <= PD_DEFINITE);
		for (b = 0; b < 256; b++) {
			uint8_t *q = malloc(2);

			assert_non_null(q);
			q[0] = (uint8_t)a;
			q[1] = (uint8_t)b;
			assert_true(pd_classify(q, 2, 0, &r) <= PD_DEFINITE);
			free(q);
			if (a == 0 || a == 3 || a == 4 || a == 5 || a == 0x16 || a == 0x80 || a == 0xff) {
				p[1] = (uint8_t)b;
				for (c = 0; c < 256; c++) {
					p[2] = (uint8_t)c;
					assert_true(pd_classify(p, 3, 0, &r) <= PD_DEFINITE);
				}
			}
		}
	}
	free(p);
}

static void test_names(void **state)
{
	int p;

	(void)state;
	for (p = 0; p < PD_PROTO_MAX; p++)
		assert_int_equal(pd_proto_lookup(pd_proto_name((enum pd_proto)p)), p);
	assert_int_equal(pd_proto_lookup("smtp"), -1);
	assert_int_equal(pd_proto_lookup(NULL), -1);
	assert_string_equal(pd_proto_name(PD_PROTO_MAX), "?");
	assert_string_equal(pd_proto_name(PD_SMTP_CLIENT), "smtp-client");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixtures),
		cmocka_unit_test(test_tls_fixtures),
		cmocka_unit_test(test_silent),
		cmocka_unit_test(test_no_blocking),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_short_inputs),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
