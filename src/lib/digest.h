/* digest.h — MD5 (RFC 1321) and SHA-256 (FIPS 180-4), for TLS fingerprints.
 *
 * Only what JA3 (MD5 of a text string) and JA4 (truncated SHA-256 of text
 * strings) need: incremental contexts the caller owns, no allocation, no
 * global state. MD5 is broken as a cryptographic hash; it is used here only
 * because the JA3 definition names it, never for anything that must resist
 * an adversary.
 */
#ifndef DECOYPROXY_DIGEST_H
#define DECOYPROXY_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#define MD5_DIGEST_LEN		16
#define SHA256_DIGEST_LEN	32

struct md5_ctx {
	uint32_t h[4];
	uint64_t len;		/* bytes fed so far */
	uint8_t buf[64];	/* partial block */
};

struct sha256_ctx {
	uint32_t h[8];
	uint64_t len;
	uint8_t buf[64];
};

/* Start, feed (any number of times, data may be NULL when len is 0), and
 * finish into out[MD5_DIGEST_LEN]. After md5_final the context must be
 * started again before reuse. */
void md5_init(struct md5_ctx *c);
void md5_update(struct md5_ctx *c, const void *data, size_t len);
void md5_final(struct md5_ctx *c, uint8_t out[MD5_DIGEST_LEN]);

/* Same contract for SHA-256, into out[SHA256_DIGEST_LEN]. */
void sha256_init(struct sha256_ctx *c);
void sha256_update(struct sha256_ctx *c, const void *data, size_t len);
void sha256_final(struct sha256_ctx *c, uint8_t out[SHA256_DIGEST_LEN]);

/* Writes the n bytes at in as 2*n lower-case hex digits and a NUL into out
 * (which holds 2*n + 1 bytes). Returns out. */
char *digest_hex(char *out, const uint8_t *in, size_t n);

#endif
