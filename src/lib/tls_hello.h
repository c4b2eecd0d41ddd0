/* tls_hello.h — TLS ClientHello parser and TLS client fingerprints (JA3, JA4)
 * over the first bytes a client sent on a TCP stream, without terminating TLS.
 *
 * A pure module: it reads caller-owned buffers, never allocates, keeps no
 * global state and never recurses; every length is checked against what is
 * left. The bytes are hostile: anything that is not a well-formed ClientHello
 * is reported as such, never trusted.
 *
 * Use: call tls_hello_parse() on the bytes received so far (from the first
 * byte of the stream) each time more arrive, until it stops answering
 * TLSH_NEED_MORE. The result holds views (pointer + length) into the
 * caller's buffer, or into the scratch buffer when the hello spans several
 * TLS records; they stay valid as long as those bytes do.
 *
 * The HAProxy-compatible fetches req.ssl_hello_type and req.ssl_ver have
 * their own functions below (tls_hello_type, tls_ssl_ver) because HAProxy
 * computes them from the record header alone, not from a full parse; see
 * doc/tls-fingerprints.md.
 */
#ifndef DECOYPROXY_TLS_HELLO_H
#define DECOYPROXY_TLS_HELLO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest ClientHello body (handshake message without its 4-byte header)
 * accepted. HAProxy's default buffer (16 kB) bounds what it can see too.
 * A bigger announced length is refused at once (TLSH_E_TOO_BIG) rather than
 * waited for. */
#define TLSH_MAX_HELLO		16384
/* Scratch size that lets tls_hello_parse() reassemble any hello it accepts
 * when the hello is split over several records. */
#define TLSH_SCRATCH_SIZE	(TLSH_MAX_HELLO + 4)
/* Largest TLS record payload accepted (2^14 plus 2048, as HAProxy). */
#define TLSH_MAX_RECORD		(16384 + 2048)

/* Length of a JA4 fingerprint (t13d1516h2_8daaf6152771_e5627efa2ab1). */
#define TLSH_JA4_LEN		36
/* Length of a JA3 hash in hex. */
#define TLSH_JA3_HASH_LEN	32
/* Most non-GREASE cipher suites or extensions a JA4 can be computed for
 * (they are sorted in a bounded array on the stack). Real clients send
 * under 100; a hello above gets no JA4 (-E2BIG). */
#define TLSH_JA4_MAX_ITEMS	1024

enum tlsh_status {
	TLSH_NEED_MORE = 0,	/* a prefix of what may still be a ClientHello */
	TLSH_NOT_HELLO,		/* final: not a (well-formed) ClientHello; see err */
	TLSH_OK,		/* final: parsed; the struct is filled */
};

enum tlsh_err {
	TLSH_E_NONE = 0,
	TLSH_E_NOT_TLS,		/* first bytes are neither a TLS record nor an SSLv2 hello */
	TLSH_E_NOT_CLIENT_HELLO,/* a handshake record whose message is not a ClientHello */
	TLSH_E_RECORD,		/* bad record: version, length 0 or too long, other
				 * content type before the hello ended */
	TLSH_E_MALFORMED,	/* ClientHello fields inconsistent with their lengths */
	TLSH_E_TOO_BIG,		/* announced hello above TLSH_MAX_HELLO, or split
				 * over records with no scratch big enough */
	TLSH_E_MAX
};

/* A view into the caller's buffer or scratch; p is NULL when absent. */
struct tlsh_view {
	const uint8_t *p;
	size_t len;
};

/* A parsed ClientHello. Lists are the raw wire bytes of the list body
 * (without its own length prefix); walk them with the helpers below.
 * Everything is in wire order, GREASE included: the fingerprint functions
 * and tlsh_is_grease() leave GREASE out where the definitions require. */
struct tls_hello {
	enum tlsh_status status;
	enum tlsh_err err;
	bool sslv2;			/* SSLv2-format CLIENT-HELLO (2-byte header) */
	bool has_extensions;		/* the extensions block is present (even empty) */
	bool grease;			/* a GREASE value was seen anywhere */
	uint16_t record_version;	/* first record's version; 0 for SSLv2 format */
	uint16_t legacy_version;	/* ClientHello.client_version */
	uint16_t version;		/* highest non-GREASE supported_versions entry,
					 * else legacy_version */
	unsigned int nrecords;		/* records the hello occupies (1 for SSLv2) */
	size_t wire_len;		/* stream bytes up to the end of the last of them */
	struct tlsh_view random;	/* 32 bytes (SSLv2: the challenge) */
	struct tlsh_view session_id;
	struct tlsh_view ciphers;	/* 2 bytes per suite (SSLv2: 3 per cipher spec) */
	struct tlsh_view compression;	/* 1 byte per method (empty for SSLv2) */
	struct tlsh_view extensions;	/* the whole block: type(2) len(2) data, ... */
	unsigned int n_extensions;
	/* Contents of the first extension of each type that matters; the
	 * has_* flag says the extension exists (it may be empty). */
	bool has_sni, has_alpn, has_groups, has_ec_point_formats, has_sig_algs,
	     has_supported_versions;
	struct tlsh_view sni;		/* first host_name (type 0) entry, raw bytes */
	struct tlsh_view alpn;		/* protocol_name_list: len(1) name, ... */
	struct tlsh_view groups;	/* supported_groups (elliptic_curves): u16 list */
	struct tlsh_view ec_point_formats; /* u8 list */
	struct tlsh_view sig_algs;	/* signature_algorithms: u16 list */
	struct tlsh_view supported_versions; /* u16 list */
};

/* Parses the first len bytes of a stream (buf may be NULL when len is 0).
 * scratch (scratch_size bytes, may be NULL/0) is used only when the hello
 * spans several records: give TLSH_SCRATCH_SIZE to accept all of them.
 * Fills *h (always reset first) and returns h->status:
 *   TLSH_NEED_MORE: call again when more bytes arrived;
 *   TLSH_NOT_HELLO: final, h->err says why;
 *   TLSH_OK: h describes the hello, h->wire_len <= len.
 * Never reads past buf[len - 1]; does not keep pointers beyond *h. */
enum tlsh_status tls_hello_parse(const uint8_t *buf, size_t len,
				 uint8_t *scratch, size_t scratch_size,
				 struct tls_hello *h);

/* Short static text for an error ("not a TLS record", ...). */
const char *tlsh_strerror(enum tlsh_err err);

/* GREASE values (RFC 8701): 0x0A0A, 0x1A1A, ... 0xFAFA. */
static inline bool tlsh_is_grease(uint16_t v)
{
	return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/* Number of 16-bit values in a u16 list view, and the i-th one. */
static inline size_t tlsh_u16_count(struct tlsh_view v)
{
	return v.p ? v.len / 2 : 0;
}

static inline uint16_t tlsh_u16_at(struct tlsh_view v, size_t i)
{
	return (uint16_t)(v.p[2 * i] << 8 | v.p[2 * i + 1]);
}

/* Iterates the extensions of a TLSH_OK hello in wire order. *pos starts at
 * 0. Returns true with *type and *data set, false at the end. */
bool tlsh_ext_next(const struct tls_hello *h, size_t *pos, uint16_t *type,
		   struct tlsh_view *data);

/* Iterates the ALPN protocol names in wire order (as HAProxy's req.ssl_alpn
 * returns one value per name). *pos starts at 0. Returns true with *name
 * set (possibly empty), false at the end. */
bool tlsh_alpn_next(const struct tls_hello *h, size_t *pos, struct tlsh_view *name);

/* ---- fingerprints (TLSH_OK hellos in TLS record format only) ----------- */

/* JA3 text: SSLVersion,Ciphers,Extensions,EllipticCurves,ECPointFormats
 * with decimal values joined by '-', GREASE left out. Writes it NUL
 * terminated into out (outsz bytes). Returns its length, -ENOSPC when out is
 * too small (out then holds a truncated, NUL-terminated prefix), -ENOENT when
 * h is not a TLSH_OK hello in TLS format (SSLv2 hellos have no JA3). */
int tls_hello_ja3(const struct tls_hello *h, char *out, size_t outsz);

/* MD5 of the JA3 text as 32 lower-case hex digits and a NUL (no buffer for
 * the text needed). Returns 32, or -ENOENT as above. */
int tls_hello_ja3_hash(const struct tls_hello *h, char out[TLSH_JA3_HASH_LEN + 1]);

/* JA4 (FoxIO's definition, TLS over TCP: "t"), 36 characters and a NUL.
 * Returns 36, -ENOENT as above, -E2BIG when more than TLSH_JA4_MAX_ITEMS
 * non-GREASE ciphers or extensions. */
int tls_hello_ja4(const struct tls_hello *h, char out[TLSH_JA4_LEN + 1]);

/* JA4_r (raw, sorted lists) or, with original set, JA4_ro (wire order, SNI
 * and ALPN kept), NUL terminated into out. Returns its length, -ENOSPC,
 * -ENOENT or -E2BIG as above. */
int tls_hello_ja4_raw(const struct tls_hello *h, bool original, char *out, size_t outsz);

/* ---- HAProxy-compatible record-level fetches ------------------------- */

/* req.ssl_hello_type: when the stream starts with an SSLv3/TLS record header
 * (content type 0x14-0x17 or 0xFF, version >= 3.0, length >= 4) and holds
 * the whole first handshake message, *type is its handshake type (1 for a
 * ClientHello). Returns TLSH_OK, TLSH_NEED_MORE or TLSH_NOT_HELLO. */
enum tlsh_status tls_hello_type(const uint8_t *buf, size_t len, int *type);

/* req.ssl_ver: the client's protocol version as HAProxy reports it,
 * (major << 16) | minor: the ClientHello version for an SSLv3/TLS record,
 * the version of an SSLv2 CLIENT-HELLO otherwise (e.g. 0x00030001 for
 * TLS 1.0, which ACLs write "3.1"). TLSH_OK once the whole first record (or
 * SSLv2 message) is there, or once bufcap bytes (the most the caller's
 * buffer can ever hold; 0 for no cap) are; TLSH_NEED_MORE before;
 * TLSH_NOT_HELLO when the bytes cannot be SSL/TLS. */
enum tlsh_status tls_ssl_ver(const uint8_t *buf, size_t len, size_t bufcap,
			     uint32_t *version);

#endif
