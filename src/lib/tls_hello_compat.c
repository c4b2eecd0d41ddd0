/* tls_hello_compat.c — req.ssl_hello_type and req.ssl_ver as HAProxy 2.6
 * computes them: from the first record header (and, for ssl_ver, the
 * SSLv2 hello header), without a full ClientHello parse. Written from
 * HAProxy's documented behaviour and observed semantics; where HAProxy
 * would only answer after more bytes although the answer is already
 * certain (a version byte below 3), these answer NO at once: the final
 * verdict is the same, only earlier.
 */
#include "config.h"

#include "lib/tls_hello.h"

/* Record content types HAProxy accepts as "SSLv3 header format":
 * change_cipher_spec, alert, handshake, application_data, and 0xFF. */
static bool v3_type(uint8_t b)
{
	return (b >= 0x14 && b <= 0x17) || b == 0xff;
}

enum tlsh_status tls_hello_type(const uint8_t *buf, size_t len, int *type)
{
	size_t hs_len;

	if (len == 0)
		return TLSH_NEED_MORE;
	if (!v3_type(buf[0]))
		return TLSH_NOT_HELLO;
	if (len >= 2 && buf[1] < 3)
		return TLSH_NOT_HELLO;	/* below SSL 3.0 */
	if (len >= 5 && (buf[3] << 8 | buf[4]) < 4)
		return TLSH_NOT_HELLO;	/* record cannot hold a handshake header */
	if (len < 9)
		return TLSH_NEED_MORE;
	hs_len = (size_t)buf[6] << 16 | (size_t)buf[7] << 8 | buf[8];
	if (len - 9 < hs_len)
		return TLSH_NEED_MORE;	/* the whole first message must be there */
	*type = buf[5];
	return TLSH_OK;
}

enum tlsh_status tls_ssl_ver(const uint8_t *buf, size_t len, size_t bufcap,
			     uint32_t *version)
{
	size_t msg_len, hdr, rlen, plen, cilen, silen, chlen;
	const uint8_t *p;
	uint32_t ver;

	if (len == 0)
		return TLSH_NEED_MORE;
	if (v3_type(buf[0])) {
		if (len >= 2 && buf[1] < 3)
			return TLSH_NOT_HELLO;
		if (len >= 5) {
			msg_len = (size_t)buf[3] << 8 | buf[4];
			if (msg_len < 6 || msg_len > TLSH_MAX_RECORD)
				return TLSH_NOT_HELLO;
		}
		if (len < 11)
			return TLSH_NEED_MORE;
		msg_len = (size_t)buf[3] << 8 | buf[4];
		/* the ClientHello version, not the record's */
		ver = (uint32_t)buf[9] << 16 | buf[10];
		hdr = 5;
	} else {
		/* SSLv2 header, only for a CLIENT-HELLO (message type 1) */
		if (buf[0] & 0x80) {
			if (len < 3)
				return TLSH_NEED_MORE;
			rlen = (size_t)(buf[0] & 0x7f) << 8 | buf[1];
			plen = 0;
			hdr = 2;
		} else {
			if (len < 4)
				return TLSH_NEED_MORE;
			rlen = (size_t)(buf[0] & 0x3f) << 8 | buf[1];
			plen = buf[2];
			hdr = 3;
		}
		if (buf[hdr] != 0x01)
			return TLSH_NOT_HELLO;
		hdr++;
		if (len - hdr < 8)
			return TLSH_NEED_MORE;
		p = buf + hdr;
		ver = (uint32_t)p[0] << 16 | p[1];
		cilen = (size_t)p[2] << 8 | p[3];
		silen = (size_t)p[4] << 8 | p[5];
		chlen = (size_t)p[6] << 8 | p[7];
		hdr += 8;
		if (cilen % 3 || (silen && silen != 16) || chlen < 16 || chlen > 32 ||
		    rlen != 9 + cilen + silen + chlen)
			return TLSH_NOT_HELLO;
		msg_len = cilen + silen + chlen + plen;
	}
	/* Wait for the whole message, or for as much as the buffer can hold. */
	if (bufcap && msg_len > (bufcap > hdr ? bufcap - hdr : 0))
		msg_len = bufcap > hdr ? bufcap - hdr : 0;
	if (len - hdr < msg_len)
		return TLSH_NEED_MORE;
	*version = ver;
	return TLSH_OK;
}
