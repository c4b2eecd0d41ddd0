/* fuzz_pp.c — libFuzzer target for the PROXY protocol decoder.
 *
 * Decodes arbitrary bytes. When a header is accepted it checks what must then
 * hold: every shorter prefix asks for more bytes, and re-encoding the decoded
 * header (same version, with and without CRC32C) decodes to the same header.
 * Any difference is a codec bug and aborts.
 *
 * Build: clang -g -O1 -fsanitize=fuzzer,address,undefined -I/tmp/dpstub
 *        -Isrc src/lib/tools.c src/lib/crc32c.c src/lib/pp.c tests/fuzz/fuzz_pp.c
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/pp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same_bytes(const void *a, size_t alen, const void *b, size_t blen)
{
	if (!a || !b)
		return !a && !b && alen == blen;
	return alen == blen && !memcmp(a, b, alen);
}

static bool same_str(const char *a, const char *b)
{
	if (!a || !b)
		return !a && !b;
	return !strcmp(a, b);
}

/* Both sides come from pp_decode(), which zeroes the struct before filling
 * it, so whole sockaddr_storage comparisons are meaningful. */
static void check_same(const struct pp_hdr *a, const struct pp_hdr *b)
{
	size_t i;

	if (a->version != b->version || a->cmd != b->cmd ||
	    a->family != b->family || a->socktype != b->socktype)
		abort();
	if (memcmp(&a->src, &b->src, sizeof(a->src)) ||
	    memcmp(&a->dst, &b->dst, sizeof(a->dst)))
		abort();
	if (!same_str(a->authority, b->authority) || !same_str(a->netns, b->netns))
		abort();
	if (!same_bytes(a->unique_id, a->unique_id_len, b->unique_id, b->unique_id_len) ||
	    !same_bytes(a->alpn, a->alpn_len, b->alpn, b->alpn_len))
		abort();
	if (a->ncustom != b->ncustom)
		abort();
	for (i = 0; i < a->ncustom; i++) {
		if (a->custom[i].type != b->custom[i].type ||
		    !same_bytes(a->custom[i].val, a->custom[i].len,
				b->custom[i].val, b->custom[i].len))
			abort();
	}
}

static void check_reencode(const struct pp_hdr *h, unsigned opts, uint8_t *buf)
{
	struct pp_hdr h2;
	int n, r;

	n = h->version == 1 ? pp_encode_v1(buf, PP_V2_MAX, h)
			    : pp_encode_v2(buf, PP_V2_MAX, h, opts);
	if (n == -EINVAL && (opts & PP_OPT_CRC32C) && !h->crc_present)
		return;		/* the added 7 bytes may not fit in 65535 */
	if (n <= 0)
		abort();
	/* one byte less room must be refused, not truncated */
	r = h->version == 1 ? pp_encode_v1(buf, (size_t)n - 1, h)
			    : pp_encode_v2(buf, (size_t)n - 1, h, opts);
	if (r != -ENOSPC)
		abort();
	n = h->version == 1 ? pp_encode_v1(buf, PP_V2_MAX, h)
			    : pp_encode_v2(buf, PP_V2_MAX, h, opts);
	r = pp_decode(buf, (size_t)n, &h2, NULL);
	if (r != n)
		abort();
	check_same(h, &h2);
	if (h->version == 2 && h->cmd == PP_CMD_PROXY &&
	    h2.crc_present != !!(opts & PP_OPT_CRC32C))
		abort();
	pp_hdr_clear(&h2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pp_hdr h;
	uint8_t *buf;
	size_t need = 0;
	int r;

	r = pp_decode(data, size, &h, &need);
	if (r == 0) {
		if (need <= size)
			abort();
		return 0;
	}
	if (r < 0) {
		if (!strcmp(pp_strerror(r), "Unknown PROXY protocol error"))
			abort();
		return 0;
	}
	if ((size_t)r > size || (h.version != 1 && h.version != 2))
		abort();
	/* a valid header's prefixes are never errors */
	if (pp_decode(data, (size_t)r - 1, NULL, &need) != 0 || need > (size_t)r)
		abort();
	if (pp_decode(data, (size_t)r / 2, NULL, &need) != 0 || need > (size_t)r)
		abort();

	buf = malloc(PP_V2_MAX);
	if (buf) {
		check_reencode(&h, 0, buf);
		if (h.version == 2)
			check_reencode(&h, PP_OPT_CRC32C, buf);
		free(buf);
	}
	pp_hdr_clear(&h);
	return 0;
}
