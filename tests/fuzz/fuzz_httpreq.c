/* fuzz_httpreq.c — libFuzzer target for the statistics page's HTTP request
 * parser and decoders (src/lib/httpreq.c).
 *
 * Parses arbitrary bytes as a request head. When a head is accepted it
 * checks what must then hold: its parts lie inside the head, the head fits
 * the bound, and every shorter prefix asks for more bytes (never a
 * different verdict). The Basic and form decoders run on the same bytes.
 * Any difference aborts.
 *
 * Build: see tests/fuzz/run_fuzz.sh.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/httpreq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXH 2048

static bool inside(struct http_str s, const char *b, size_t n)
{
	return !s.p || (s.p >= b && s.p + s.len <= b + n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *b = (const char *)data;
	struct http_req r, r2;
	char out[256], name[64], val[128];
	const char *pass;
	size_t pos = 0;
	int n = http_req_parse(b, size, MAXH, &r);

	if (n > 0) {
		if ((size_t)n > size || (size_t)n > MAXH || (size_t)n != r.head_len)
			abort();
		if (!inside(r.meth, b, (size_t)n) || !inside(r.target, b, (size_t)n) || !inside(r.host, b, (size_t)n) ||
		    !inside(r.authorization, b, (size_t)n))
			abort();
		if (r.minor != 0 && r.minor != 1)
			abort();
		for (size_t i = 0; i < (size_t)n; i++)
			if (http_req_parse(b, i, MAXH, &r2) != 0)
				abort();
		if (r.authorization.p && http_basic_decode(r.authorization, out, sizeof(out), &pass) == 0 &&
		    (strlen(out) >= sizeof(out) || pass < out || pass > out + sizeof(out)))
			abort();
	} else if (n != 0 && n != -400 && n != -413 && n != -501 && n != -505) {
		abort();
	}
	for (int i = 0; i < 64; i++) {
		size_t before = pos;
		int f = http_form_next(b, size, &pos, name, sizeof(name), val, sizeof(val));

		if (f <= 0)
			break;
		if (pos <= before || pos > size || strlen(name) >= sizeof(name) || strlen(val) >= sizeof(val))
			abort();
	}
	return 0;
}
