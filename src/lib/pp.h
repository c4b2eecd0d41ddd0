/* pp.h — PROXY protocol v1/v2 codec (HAProxy's doc/proxy-protocol.txt).
 *
 * A pure module: it decodes and encodes headers in caller-owned buffers and
 * never touches a socket. The receive side is expected to MSG_PEEK, call
 * pp_decode() until it stops asking for more bytes, then consume exactly the
 * number of bytes it returned so that no payload byte is lost.
 */
#ifndef DECOYPROXY_PP_H
#define DECOYPROXY_PP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include "lib/common.h"

enum { PP_CMD_LOCAL = 0, PP_CMD_PROXY = 1 };

/* v2 TLV types (proxy-protocol.txt 2.2). */
#define PP2_TYPE_ALPN		0x01
#define PP2_TYPE_AUTHORITY	0x02
#define PP2_TYPE_CRC32C		0x03
#define PP2_TYPE_NOOP		0x04
#define PP2_TYPE_UNIQUE_ID	0x05
#define PP2_TYPE_SSL		0x20
#define PP2_TYPE_NETNS		0x30
#define PP2_TYPE_MIN_CUSTOM	0xE0
#define PP2_TYPE_MAX_CUSTOM	0xEF

#define PP_V1_MAX		107		/* longest v1 line, CRLF included */
#define PP_V2_MAX		(16 + 65535)	/* longest v2 header */
#define PP_V2_HDR_LEN		16		/* fixed part of a v2 header */

/* Caps on TLV values, the same as HAProxy's so that whatever one accepts the
 * other accepts too: any value 1024 bytes, AUTHORITY 255, UNIQUE_ID 128. */
#define PP_TLV_MAX		1024
#define PP_AUTHORITY_MAX	255
#define PP_UNIQUE_ID_MAX	128
/* Custom TLVs (0xE0-0xEF) kept per header; more is an error. Bounds the
 * memory a peer can make us allocate per connection. */
#define PP_CUSTOM_MAX		64

/* Encoder option: append a CRC32C TLV covering the whole header. */
#define PP_OPT_CRC32C		0x1

/* Decoder errors, returned negated by pp_decode(). They are not errno
 * values; pp_strerror() turns them into text. */
enum pp_err {
	PP_E_NOT_HDR = 1,	/* neither the v1 nor the v2 signature */
	PP_E_BAD_PROTO,		/* v1 protocol word not TCP4/TCP6/UNKNOWN */
	PP_E_V1_TOO_LONG,	/* no CRLF within 107 bytes */
	PP_E_V1_EOL,		/* lone CR or lone LF */
	PP_E_V1_SYNTAX,		/* not exactly one space between fields, field count */
	PP_E_V1_ADDR,		/* malformed address */
	PP_E_V1_FAMILY,		/* address of the other family than TCP4/TCP6 says */
	PP_E_V1_PORT,		/* malformed port, leading zero or above 65535 */
	PP_E_V2_VERSION,	/* v2 signature with a version other than 2 */
	PP_E_V2_CMD,		/* command other than LOCAL/PROXY */
	PP_E_V2_FAMILY,		/* family/transport byte not a valid combination */
	PP_E_V2_SHORT,		/* len shorter than the address block */
	PP_E_V2_TLV,		/* TLV not fitting exactly inside len */
	PP_E_V2_TLV_LEN,	/* TLV value too long, or wrong size for its type */
	PP_E_V2_TLV_DUP,	/* a single-valued TLV given twice */
	PP_E_V2_TLV_NUL,	/* NUL byte inside AUTHORITY or NETNS */
	PP_E_V2_TLV_COUNT,	/* more than PP_CUSTOM_MAX custom TLVs */
	PP_E_V2_SSL,		/* SSL TLV shorter than 5 or sub-TLVs not fitting */
	PP_E_CRC,		/* CRC32C TLV does not match the header */
	PP_E_NOMEM,		/* could not copy a TLV value */
	PP_E_MAX
};

/* A custom TLV (type 0xE0-0xEF); val is a malloc'd copy when decoded. */
struct pp_tlv_custom {
	uint8_t type;
	uint16_t len;
	uint8_t *val;
};

/* One PROXY header, decoded or to be encoded.
 *
 * Decoded: version, cmd, family and socktype describe what was received;
 * src/dst are filled only for cmd PROXY with an INET, INET6 or UNIX family
 * (ports in sin_port/sin6_port, network order; UNIX paths as 108 raw bytes in
 * sun_path, which may lack a NUL or start with one for abstract sockets).
 * v1 "UNKNOWN" and v2 LOCAL give cmd LOCAL and family AF_UNSPEC: use the
 * real endpoints. v2 PROXY with family UNSPEC gives cmd PROXY, AF_UNSPEC.
 * Every pointer is NULL and every length 0 when the TLV is absent; present
 * ones are malloc'd copies owned by the struct (free with pp_hdr_clear()),
 * NUL-terminated for convenience even when binary.
 *
 * To encode: fill cmd, src, dst (ss_family decides the family; `family`
 * and `version` are ignored), socktype (0 means SOCK_STREAM) and the TLVs
 * to send; the caller keeps ownership of what it put in.
 */
struct pp_hdr {
	int version;			/* 1 or 2 */
	int cmd;			/* PP_CMD_LOCAL / PP_CMD_PROXY */
	int family;			/* AF_INET, AF_INET6, AF_UNIX, AF_UNSPEC */
	int socktype;			/* SOCK_STREAM, SOCK_DGRAM, 0 for unspec */
	struct sockaddr_storage src, dst;

	char *authority;		/* PP2_TYPE_AUTHORITY (SNI), no NUL inside */
	char *unique_id;		/* PP2_TYPE_UNIQUE_ID, binary */
	size_t unique_id_len;
	char *netns;			/* PP2_TYPE_NETNS, no NUL inside; not checked
					 * for '/' or "..": validate before use */
	uint8_t *alpn;			/* PP2_TYPE_ALPN, binary */
	size_t alpn_len;
	struct pp_tlv_custom *custom;	/* ncustom entries, in wire order */
	size_t ncustom;
	bool crc_present;		/* decoded: a CRC32C TLV was there and matched */
};

/* Frees the TLV copies a decode left in h and zeroes all of h. h may be
 * NULL. Only for structs filled by pp_decode() (or zeroed): an encode
 * input whose pointers the caller owns must not be passed here. */
void pp_hdr_clear(struct pp_hdr *h);

/* Decodes the v1 or v2 header at the start of buf[0..len). The version is
 * chosen by signature only ("PROXY " or the 12-byte v2 signature); bytes that
 * cannot begin either are rejected at once, however few there are.
 *
 * out: zeroed first (its previous contents are NOT freed: pass a zeroed or
 * cleared struct); filled only when the return is > 0, and then the caller
 * owns its TLV copies and must pp_hdr_clear() it. out may be NULL to only
 * validate and measure. need may be NULL.
 *
 * Returns:
 *   > 0  the header is complete and valid; that many bytes form it (payload
 *        after it is not part of it);
 *   0    more bytes are needed; *need is the total length needed when known
 *        (v2 once 16 bytes are in), else a lower bound, always > len;
 *   < 0  -PP_E_*: the header is invalid, the connection must be dropped.
 */
int pp_decode(const uint8_t *buf, size_t len, struct pp_hdr *out, size_t *need);

/* Operator-facing text for a PP_E_* code (either sign accepted), in HAProxy's
 * wording where HAProxy has one, followed by the precise reason. Static
 * string, never NULL. */
const char *pp_strerror(int err);

/* Writes a v1 line for h into buf[0..cap) (no NUL terminator is written).
 * TCP4 when both addresses are AF_INET; TCP6 when both are INET/INET6 and one
 * is INET6 (the AF_INET one is sent IPv4-mapped); "PROXY UNKNOWN\r\n" for cmd
 * LOCAL, for two AF_UNIX or two AF_UNSPEC addresses, or for SOCK_DGRAM (v1
 * only speaks TCP). TLVs are ignored (v1 has none).
 * Returns the byte count (at most PP_V1_MAX), -ENOSPC if cap is too small,
 * -EINVAL for a bad cmd, a socktype other than 0/STREAM/DGRAM, or two
 * addresses of unrelated families (e.g. INET and UNIX, or INET and UNSPEC). */
int pp_encode_v1(uint8_t *buf, size_t cap, const struct pp_hdr *h);

/* Writes a v2 header for h into buf[0..cap).
 * cmd LOCAL: the 16-byte header with family UNSPEC and len 0 (addresses, TLVs
 * and opts ignored), as health checks send it.
 * cmd PROXY: family from src/dst (mixed INET/INET6 are sent as INET6 with the
 * IPv4 one mapped; two AF_UNSPEC send family UNSPEC with no address block),
 * transport from socktype (0 = STREAM), then the TLVs present in h in this
 * order: ALPN, AUTHORITY, CRC32C (opts PP_OPT_CRC32C, computed over the whole
 * header last), UNIQUE_ID, NETNS, custom ones.
 * Returns the byte count (at most PP_V2_MAX), -ENOSPC if cap is too small,
 * -EINVAL for a bad cmd, unknown opts bit, unrelated address families, a
 * socktype other than 0/STREAM/DGRAM, a TLV over its cap (the same caps the
 * decoder enforces), a custom type outside 0xE0-0xEF, more than
 * PP_CUSTOM_MAX custom TLVs, or a total over 65535 bytes after the fixed part. */
int pp_encode_v2(uint8_t *buf, size_t cap, const struct pp_hdr *h, unsigned opts);

#endif
