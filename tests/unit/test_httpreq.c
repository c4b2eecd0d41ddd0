/* test_httpreq.c — the strict HTTP/1.x request parser of the statistics
 * page: valid heads, every ambiguity it must refuse (smuggling pairs,
 * folding, bare LF, duplicated framing headers), bounds, byte-by-byte
 * delivery, and the Basic/form decoders. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "lib/httpreq.h"

#define MAXH 8192

static int parse(const char *s, struct http_req *r)
{
	return http_req_parse(s, strlen(s), MAXH, r);
}

static void test_simple_get(void **state)
{
	const char *s = "GET /stats;csv HTTP/1.1\r\nHost: a\r\nUser-Agent: x\r\n\r\nEXTRA";
	struct http_req r;
	int n = parse(s, &r);

	(void)state;
	assert_int_equal(n, (int)(strlen(s) - 5));
	assert_true(http_str_ieq(r.meth, "GET"));
	assert_int_equal(r.target.len, 10);
	assert_memory_equal(r.target.p, "/stats;csv", 10);
	assert_int_equal(r.minor, 1);
	assert_true(r.keep_alive);
	assert_int_equal(r.nhdrs, 2);
	assert_memory_equal(r.host.p, "a", 1);
}

static void test_connection_modes(void **state)
{
	struct http_req r;

	(void)state;
	assert_true(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Close\r\n\r\n", &r) > 0);
	assert_false(r.keep_alive);
	assert_true(parse("GET / HTTP/1.0\r\n\r\n", &r) > 0);
	assert_false(r.keep_alive);
	assert_true(parse("GET / HTTP/1.0\r\nconnection:keep-alive\r\n\r\n", &r) > 0);
	assert_true(r.keep_alive);
}

static void test_incomplete(void **state)
{
	const char *s = "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n";
	struct http_req r;

	(void)state;
	/* every proper prefix asks for more, the whole is accepted */
	for (size_t i = 0; i < strlen(s); i++)
		assert_int_equal(http_req_parse(s, i, MAXH, &r), 0);
	assert_int_equal(http_req_parse(s, strlen(s), MAXH, &r), (int)strlen(s));
	assert_true(r.has_clen);
	assert_int_equal(r.clen, 5);
}

static void test_refused(void **state)
{
	static const struct { const char *req; int status; } v[] = {
		/* smuggling: both framings, duplicated or odd lengths */
		{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", -400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", -501 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n", -400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\n", -400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\n", -400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length : 3\r\n\r\n", -400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n", -400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n folded\r\n\r\n", -400 },
		{ "GET / HTTP/1.1\nHost: a\n\n", -400 },
		{ "GET / HTTP/1.1\r\nHost: a\n\r\n", -400 },
		{ "GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", -400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nX: a\x01b\r\n\r\n", -400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", -400 },
		{ "GET / HTTP/1.1\r\n\r\n", -400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\n: v\r\n\r\n", -400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nAuthorization: a\r\nAuthorization: b\r\n\r\n", -400 },
		/* request line */
		{ "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", -400 },
		{ "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", -400 },
		{ "GET / HTTP/2.0\r\nHost: a\r\n\r\n", -505 },
		{ "GET / HTTP/1.2\r\nHost: a\r\n\r\n", -505 },
		{ "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", -400 },
		{ "GET /\r\n\r\n", -400 },
		{ "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", -400 },
		{ "GET /\x80 HTTP/1.1\r\nHost: a\r\n\r\n", -400 },
		{ "\x16\x03\x01\x02\x00\x01", -400 },
		{ "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", -505 },
	};
	struct http_req r;

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		int got = parse(v[i].req, &r);

		if (got != v[i].status)
			fail_msg("vector %zu: got %d, want %d", i, got, v[i].status);
	}
}

static void test_bounds(void **state)
{
	char big[4096];
	struct http_req r;
	size_t n;

	(void)state;
	/* a head longer than the bound, complete or not */
	n = (size_t)snprintf(big, sizeof(big), "GET /%0900d HTTP/1.1\r\nHost: a\r\n\r\n", 0);
	assert_int_equal(http_req_parse(big, n, 512, &r), -413);
	assert_int_equal(http_req_parse(big, 512, 512, &r), -413);
	assert_int_equal(http_req_parse(big, 100, 512, &r), 0);
	/* too many header lines */
	n = (size_t)snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nHost: a\r\n");
	for (int i = 0; i < HTTPREQ_MAX_HDRS; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "X: %d\r\n", i);
	n += (size_t)snprintf(big + n, sizeof(big) - n, "\r\n");
	assert_int_equal(http_req_parse(big, n, sizeof(big), &r), -413);
	/* a 16-digit length is refused, not wrapped */
	assert_int_equal(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000000000000\r\n\r\n", &r), -400);
}

static void test_basic(void **state)
{
	char out[64];
	const char *pass;
	struct http_str v;

	(void)state;
	v = (struct http_str){ "Basic YWRtaW46czNjcjN0", 22 };
	assert_int_equal(http_basic_decode(v, out, sizeof(out), &pass), 0);
	assert_string_equal(out, "admin");
	assert_string_equal(pass, "s3cr3t");
	v = (struct http_str){ "basic YTpi", 10 };
	assert_int_equal(http_basic_decode(v, out, sizeof(out), &pass), 0);
	assert_string_equal(out, "a");
	assert_string_equal(pass, "b");
	v = (struct http_str){ "Basic YWJj", 10 }; /* "abc": no colon */
	assert_int_equal(http_basic_decode(v, out, sizeof(out), &pass), -1);
	v = (struct http_str){ "Bearer YTpi", 11 };
	assert_int_equal(http_basic_decode(v, out, sizeof(out), &pass), -1);
	v = (struct http_str){ "Basic YT*i", 10 };
	assert_int_equal(http_basic_decode(v, out, sizeof(out), &pass), -1);
	v = (struct http_str){ "Basic YTpiYTpiYTpi", 18 };
	assert_int_equal(http_basic_decode(v, out, 4, &pass), -1);
	v = (struct http_str){ "Basic AGE6Yg==", 14 }; /* NUL byte inside */
	assert_int_equal(http_basic_decode(v, out, sizeof(out), &pass), -1);
	assert_true(http_secret_eq("abc", "abc"));
	assert_false(http_secret_eq("abc", "abd"));
	assert_false(http_secret_eq("abc", "ab"));
	assert_false(http_secret_eq("", "a"));
}

static void test_form(void **state)
{
	const char *b = "s=srv%201&s=b+c&action=maint&&b=%23";
	char n[16], v[16];
	size_t pos = 0;

	(void)state;
	assert_int_equal(http_form_next(b, strlen(b), &pos, n, sizeof(n), v, sizeof(v)), 1);
	assert_string_equal(n, "s");
	assert_string_equal(v, "srv 1");
	assert_int_equal(http_form_next(b, strlen(b), &pos, n, sizeof(n), v, sizeof(v)), 1);
	assert_string_equal(v, "b c");
	assert_int_equal(http_form_next(b, strlen(b), &pos, n, sizeof(n), v, sizeof(v)), 1);
	assert_string_equal(n, "action");
	assert_int_equal(http_form_next(b, strlen(b), &pos, n, sizeof(n), v, sizeof(v)), 1);
	assert_string_equal(n, "b");
	assert_string_equal(v, "#");
	assert_int_equal(http_form_next(b, strlen(b), &pos, n, sizeof(n), v, sizeof(v)), 0);
	pos = 0;
	assert_int_equal(http_form_next("a=%0a", 5, &pos, n, sizeof(n), v, sizeof(v)), -1);
	pos = 0;
	assert_int_equal(http_form_next("a=%4", 4, &pos, n, sizeof(n), v, sizeof(v)), -1);
	pos = 0;
	assert_int_equal(http_form_next("a=0123456789abcdef", 18, &pos, n, sizeof(n), v, sizeof(v)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple_get),
		cmocka_unit_test(test_connection_modes),
		cmocka_unit_test(test_incomplete),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_form),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
