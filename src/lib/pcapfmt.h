/* pcapfmt.h — the classic libpcap file format (what tshark, tcpdump,
 * Suricata's pcap-file mode, Zeek, ndpiReader and tcpflow read): the 24-byte
 * file header and the 16-byte record header, in the writer's byte order
 * (readers detect it from the magic), with microsecond or nanosecond
 * timestamps. Pure code on buffers.
 */
#ifndef DECOYPROXY_PCAPFMT_H
#define DECOYPROXY_PCAPFMT_H

#include <stddef.h>
#include <stdint.h>
#include "lib/common.h"

#define PCAP_FILE_HDR_LEN 24
#define PCAP_REC_HDR_LEN 16
#define PCAP_LINKTYPE_ETHERNET 1
#define PCAP_MAGIC_USEC 0xa1b2c3d4u
#define PCAP_MAGIC_NSEC 0xa1b23c4du

/* Writes the file header into out[PCAP_FILE_HDR_LEN]. */
void pcap_file_hdr(uint8_t *out, bool nsec, uint32_t snaplen, uint32_t linktype);
/* Writes a record header into out[PCAP_REC_HDR_LEN] for a packet of len
 * bytes (all captured) seen at sec + nsec nanoseconds (nsec < 1e9; written
 * as microseconds unless the file is a nanosecond one). */
void pcap_rec_hdr(uint8_t *out, bool nsec_file, uint64_t sec, uint32_t nsec, uint32_t len);
/* Whether hdr[0..len) is a file header in this host's byte order with
 * the given precision and link type, i.e. records written by
 * pcap_rec_hdr() may be appended to that file. */
bool pcap_file_hdr_matches(const uint8_t *hdr, size_t len, bool nsec, uint32_t linktype);

#endif
