/* crc32c.h — CRC-32C (Castagnoli), as used by the PROXY protocol v2 CRC32C TLV.
 *
 * Parameters: reflected polynomial 0x82F63B78 (0x1EDC6F41 normal form), initial
 * value and final XOR 0xFFFFFFFF, as in RFC 4960 appendix B and RFC 3720. The
 * check value of "123456789" is 0xE3069283.
 */
#ifndef DECOYPROXY_CRC32C_H
#define DECOYPROXY_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Value to pass as `crc` when starting a new checksum. */
#define CRC32C_INIT 0u

/* Extends a CRC-32C over len more bytes at buf (buf may be NULL when len is 0).
 * `crc` is CRC32C_INIT for the first chunk, else the value returned for the
 * bytes before; the pre- and post-inversion is handled inside, so chaining
 * calls over consecutive chunks gives the checksum of the concatenation.
 * Returns the finished checksum of everything fed so far. Pure, no state. */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);

#endif
