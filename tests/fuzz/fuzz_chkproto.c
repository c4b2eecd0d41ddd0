/* fuzz_chkproto.c — libFuzzer target for the reply parsers of the protocol
 * health checks (src/lib/chkproto.c): MySQL handshake/OK/error packets, the
 * LDAP bindResponse, the first bytes of a TLS answer and agent lines.
 *
 * The first byte picks what the rest is fed to (and whether more bytes may
 * come). Checked here, beyond the sanitizers: a verdict never asks for more
 * once the end has come; a text is always terminated within its array;
 * and a complete reply keeps its verdict when bytes are appended (what the
 * check decided on cannot change with what it did not wait for) — except
 * for "more", which may turn into anything.
 *
 * Build: see tests/fuzz/run_fuzz.sh.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/chkproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void terminated(const char *s, size_t cap)
{
	if (!memchr(s, '\0', cap))
		abort();
}

static enum chkp_res judge(unsigned kind, const uint8_t *b, size_t n, bool eof, struct chkp_out *o,
			   struct chkp_agent *a)
{
	switch (kind) {
	case 0: return chkp_mysql_reply(b, n, eof, false, o);
	case 1: return chkp_mysql_reply(b, n, eof, true, o);
	case 2: return chkp_ldap_reply(b, n, eof, o);
	case 3: return chkp_ssl_reply(b, n, eof);
	default: return chkp_agent_reply(b, n, eof, a);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct chkp_out o;
	struct chkp_agent a;
	enum chkp_res r, r2;
	unsigned kind;
	bool eof;
	uint8_t *b;

	if (!size)
		return 0;
	kind = data[0] % 5;
	eof = data[0] & 0x80;
	data++;
	size--;
	/* an exact-size copy: the sanitizer sees any read past the end */
	b = malloc(size ? size : 1);
	if (!b)
		return 0;
	memcpy(b, data, size);
	memset(&o, 0, sizeof(o));
	r = judge(kind, b, size, eof, &o, &a);
	if (eof && r == CHKP_MORE)
		abort();
	terminated(o.info, sizeof(o.info));
	if (kind == 4) {
		terminated(a.hword, sizeof(a.hword));
		terminated(a.err, sizeof(a.err));
		terminated(a.desc, sizeof(a.desc));
	}
	if (r != CHKP_MORE && size && !eof) {
		/* the same bytes and one more: the same verdict */
		uint8_t *c = malloc(size + 1);

		if (c) {
			memcpy(c, b, size);
			c[size] = 0x30;
			r2 = judge(kind, c, size + 1, false, &o, &a);
			if (r2 != r)
				abort();
			free(c);
		}
	}
	free(b);
	return 0;
}
