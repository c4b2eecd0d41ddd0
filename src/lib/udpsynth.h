/* udpsynth.h — one UDP datagram written as an Ethernet frame, for an IDS
 * (the UDP sibling of lib/tcpsynth.h, sharing its flow tuple, its stable
 * MACs and its checksum helpers).
 *
 * Pure code: no I/O, no clock, no allocation. The frame's header
 * (Ethernet + IPv4 or IPv6 + UDP) is written into the caller's buffer; the
 * payload stays where it is (it is only read, for the UDP checksum).
 */
#ifndef DECOYPROXY_UDPSYNTH_H
#define DECOYPROXY_UDPSYNTH_H

#include <stddef.h>
#include <stdint.h>
#include "lib/tcpsynth.h"

#define US_HDR_MAX (TS_ETH_LEN + 40 + 8)
/* The largest payload one frame carries (an IPv4 total length is 16 bits;
 * IPv6 without jumbograms: the same bound keeps both simple). */
#define US_PAYLOAD_MAX (65535 - 20 - 8)

/* Writes into hdr[0..US_HDR_MAX) the header of the datagram of plen bytes
 * at payload sent by side dir (TS_CLI: the attacker to the decoy, TS_SRV:
 * the decoy to the attacker) of f (set up by ts_flow_init(): the tuple,
 * the IP ids; its TCP state is not used). IP and UDP checksums are
 * computed (a UDP checksum of 0 is sent as 0xffff). Returns the header's
 * length, or 0 when plen exceeds US_PAYLOAD_MAX. */
size_t us_frame(struct ts_flow *f, int dir, uint8_t *hdr, const void *payload, size_t plen);

#endif
