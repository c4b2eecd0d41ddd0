/* pcapfmt.c — see pcapfmt.h. */
#include "config.h"

#include <string.h>

#include "lib/pcapfmt.h"

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

void pcap_file_hdr(uint8_t *out, bool nsec, uint32_t snaplen, uint32_t linktype)
{
	put32(out, nsec ? PCAP_MAGIC_NSEC : PCAP_MAGIC_USEC);
	put16(out + 4, 2);   /* version 2.4 */
	put16(out + 6, 4);
	put32(out + 8, 0);   /* thiszone */
	put32(out + 12, 0);  /* sigfigs */
	put32(out + 16, snaplen);
	put32(out + 20, linktype);
}

void pcap_rec_hdr(uint8_t *out, bool nsec_file, uint64_t sec, uint32_t nsec, uint32_t len)
{
	put32(out, (uint32_t)sec);
	put32(out + 4, nsec_file ? nsec : nsec / 1000);
	put32(out + 8, len);
	put32(out + 12, len);
}

bool pcap_file_hdr_matches(const uint8_t *hdr, size_t len, bool nsec, uint32_t linktype)
{
	uint32_t magic, lt;
	uint16_t major;

	if (len < PCAP_FILE_HDR_LEN)
		return false;
	memcpy(&magic, hdr, 4);
	memcpy(&major, hdr + 4, 2);
	memcpy(&lt, hdr + 20, 4);
	return magic == (nsec ? PCAP_MAGIC_NSEC : PCAP_MAGIC_USEC) && major == 2 && lt == linktype;
}
