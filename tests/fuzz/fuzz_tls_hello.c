/* fuzz_tls_hello.c — libFuzzer target for the ClientHello parser
 * (src/lib/tls_hello*.c) and the fingerprints computed from it.
 *
 * Parses arbitrary bytes as the first bytes of a stream. When a hello is
 * accepted it checks what must then hold, and aborts otherwise: every view
 * lies inside the input or the scratch; the hello's own bytes parse to the
 * same fingerprints; shorter prefixes ask for more bytes; the JA3 text's
 * MD5 is the JA3 hash; JA4 has its fixed shape. The HAProxy-style fetches
 * run on the same bytes.
 *
 * Seeds: tests/unit/data/tls/ (real hellos). Built and run by run_fuzz.sh.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/digest.h"
#include "lib/tls_hello.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t scratch[TLSH_SCRATCH_SIZE];
static char text[1 << 17];

static bool inside(struct tlsh_view v, const uint8_t *data, size_t size)
{
	const uint8_t *lo = data, *hi = data + size;

	if (!v.p)
		return v.len == 0;
	if (v.p >= scratch && v.p + v.len <= scratch + sizeof(scratch))
		return true;
	return v.p >= lo && v.p + v.len <= hi;
}

static void fingerprints(const struct tls_hello *h, char ja3h[33], char ja4[TLSH_JA4_LEN + 1])
{
	struct md5_ctx c;
	uint8_t d[MD5_DIGEST_LEN];
	char hex[33];
	int n, i;

	n = tls_hello_ja3(h, text, sizeof(text));
	if (h->sslv2) {
		if (n != -ENOENT || tls_hello_ja4(h, ja4) != -ENOENT)
			abort();
		ja3h[0] = ja4[0] = '\0';
		return;
	}
	if (n < 0 || (size_t)n != strlen(text))
		abort();
	if (tls_hello_ja3_hash(h, ja3h) != TLSH_JA3_HASH_LEN)
		abort();
	md5_init(&c);
	md5_update(&c, text, (size_t)n);
	md5_final(&c, d);
	if (strcmp(digest_hex(hex, d, sizeof(d)), ja3h))
		abort();
	n = tls_hello_ja4(h, ja4);
	if (n == -E2BIG) {
		ja4[0] = '\0';
		return;
	}
	if (n != TLSH_JA4_LEN || strlen(ja4) != TLSH_JA4_LEN || ja4[0] != 't' ||
	    ja4[10] != '_' || ja4[23] != '_')
		abort();
	for (i = 11; i < TLSH_JA4_LEN; i++)
		if (i != 23 && !((ja4[i] >= '0' && ja4[i] <= '9') || (ja4[i] >= 'a' && ja4[i] <= 'f')))
			abort();
	if (tls_hello_ja4_raw(h, false, text, sizeof(text)) < 0 ||
	    tls_hello_ja4_raw(h, true, text, sizeof(text)) < 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tls_hello h, h2;
	struct tlsh_view v;
	char ja3a[33], ja3b[33], ja4a[TLSH_JA4_LEN + 1], ja4b[TLSH_JA4_LEN + 1];
	enum tlsh_status st;
	size_t pos = 0;
	uint16_t type;
	uint32_t ver;
	int t;

	(void)tls_hello_type(data, size, &t);
	(void)tls_ssl_ver(data, size, 0, &ver);
	(void)tls_ssl_ver(data, size, size / 2, &ver);

	st = tls_hello_parse(data, size, scratch, sizeof(scratch), &h);
	if (st == TLSH_NEED_MORE)
		return 0;
	if (st == TLSH_NOT_HELLO) {
		if (h.err == TLSH_E_NONE || h.err >= TLSH_E_MAX)
			abort();
		return 0;
	}
	if (st != TLSH_OK || h.wire_len == 0 || h.wire_len > size || h.nrecords == 0)
		abort();
	if (!inside(h.random, data, size) || !inside(h.session_id, data, size) ||
	    !inside(h.ciphers, data, size) || !inside(h.extensions, data, size) ||
	    !inside(h.sni, data, size) || !inside(h.alpn, data, size) ||
	    !inside(h.groups, data, size) || !inside(h.sig_algs, data, size) ||
	    !inside(h.supported_versions, data, size) || !inside(h.ec_point_formats, data, size))
		abort();
	while (tlsh_ext_next(&h, &pos, &type, &v))
		if (!inside(v, data, size))
			abort();
	if (h.extensions.p && pos != h.extensions.len)
		abort();
	pos = 0;
	while (tlsh_alpn_next(&h, &pos, &v))
		if (!inside(v, data, size))
			abort();
	fingerprints(&h, ja3a, ja4a);

	/* exactly the hello's bytes: same answer; one byte less: wait */
	if (tls_hello_parse(data, h.wire_len, scratch, sizeof(scratch), &h2) != TLSH_OK)
		abort();
	fingerprints(&h2, ja3b, ja4b);
	if (strcmp(ja3a, ja3b) || strcmp(ja4a, ja4b))
		abort();
	if (tls_hello_parse(data, h.wire_len - 1, scratch, sizeof(scratch), &h2) != TLSH_NEED_MORE)
		abort();
	return 0;
}
