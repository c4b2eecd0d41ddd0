/* tcpsynth.h — a TCP conversation written as Ethernet frames, for an IDS.
 *
 * Given the two endpoints of a connection (IPv4 or IPv6), builds the frames
 * an IDS expects to see on a wire: the three-way handshake (MSS, SACK
 * permitted and window scale options), payload cut in MSS-sized segments
 * with continuous sequence numbers, an ACK from the other side after each
 * batch (always within the advertised window), a FIN/ACK exchange for each
 * half-close in the order it is reported, and RST. IP and TCP checksums are
 * computed; MAC addresses are fixed locally administered ones, so a flow
 * always looks the same.
 *
 * Pure code: no I/O, no clock, no allocation. Each frame is handed to the
 * caller's emit function as a header (Ethernet + IP + TCP, at most
 * TS_HDR_MAX bytes, in a buffer that is only valid during the call) and a
 * payload pointer into the caller's own data (never copied here), so a
 * writer can put both in one record or one writev().
 */
#ifndef DECOYPROXY_TCPSYNTH_H
#define DECOYPROXY_TCPSYNTH_H

#include <stddef.h>
#include <stdint.h>
#include "lib/common.h"

#define TS_ETH_LEN 14
#define TS_HDR_MAX (TS_ETH_LEN + 40 + 20 + 20)
#define TS_MSS_V4 1400   /* frames of at most 1454 bytes: room for a VXLAN */
#define TS_MSS_V6 1380   /* encapsulation on a 1500-byte path */
#define TS_WSCALE 7
#define TS_WINDOW 65535  /* advertised (scaled by 1 << TS_WSCALE after the SYNs) */
/* One ACK from the receiver at least every TS_ACK_EVERY bytes of payload
 * (well below the scaled window). */
#define TS_ACK_EVERY 65536

/* The stable MACs of the two sides (locally administered, unicast). */
extern const uint8_t ts_mac_client[6], ts_mac_server[6];

enum { TS_CLI = 0, TS_SRV = 1 };

/* Optional in-place building (struct ts_flow's `place`): returns room for a
 * whole frame of flen bytes in the caller's own output buffer, or NULL. The
 * frame is then written there, its payload copied in the same pass that
 * sums it for the checksum (each payload byte is read once), and emit is
 * called with hdr pointing into that room and payload == hdr + hlen: the
 * sink that lent the room only has to account for it. */
typedef uint8_t *(*ts_place_fn)(void *ctx, size_t flen);

struct ts_flow {
	uint8_t family;           /* AF_INET or AF_INET6 */
	uint8_t addr[2][16];      /* [TS_CLI]: the attacker, [TS_SRV]: the decoy */
	uint16_t port[2];         /* host byte order */
	uint16_t mss;
	uint32_t nxt[2];          /* next sequence number each side sends */
	uint32_t unacked[2];      /* payload bytes sent since the peer's last ACK */
	uint16_t ip_id[2];
	bool fin[2];              /* that side sent its FIN */
	bool open;                /* handshake written, no RST yet */
	uint32_t addr_sum;        /* both addresses' checksum sum (the pseudo-header's, either way) */
	ts_place_fn place;        /* NULL (ts_flow_init's default): frames on the stack */
};

/* Frame sink: hdr[0..hlen) then payload[0..plen) form one frame. */
typedef void (*ts_emit_fn)(void *ctx, const uint8_t *hdr, size_t hlen, const uint8_t *payload, size_t plen);

/* Sets f up for the connection cli -> srv (addresses in network byte
 * order: 4 bytes for AF_INET, 16 for AF_INET6; ports in host order). The
 * initial sequence numbers derive from seed (any value; a session id).
 * Returns 0, or -EAFNOSUPPORT for another family. */
int ts_flow_init(struct ts_flow *f, int family, const void *cli_addr, uint16_t cli_port, const void *srv_addr,
		 uint16_t srv_port, uint64_t seed);

/* SYN, SYN/ACK, ACK. */
void ts_handshake(struct ts_flow *f, ts_emit_fn emit, void *ctx);
/* Payload sent by side `dir` (TS_CLI / TS_SRV): segments of at most f->mss
 * bytes (PSH on the last), then an ACK from the other side. Nothing after
 * a FIN of that side or a RST. */
void ts_data(struct ts_flow *f, int dir, const void *data, size_t len, ts_emit_fn emit, void *ctx);
/* Side `dir` half-closes: FIN/ACK, then the other side's ACK. Once. */
void ts_fin(struct ts_flow *f, int dir, ts_emit_fn emit, void *ctx);
/* Side `dir` resets the connection: RST/ACK. Ends the flow. */
void ts_rst(struct ts_flow *f, int dir, ts_emit_fn emit, void *ctx);

/* Building segments whose payload is already in place (read straight
 * into an output buffer, e.g. from a pipe): ts_seg_hlen() is the header
 * length of a data segment of f (no TCP option), so a payload placed at
 * h + ts_seg_hlen(f) becomes a segment of side dir with ts_segment_at(),
 * which writes the header at h (summing the payload where it is) and
 * hands the frame to emit (hdr == h, payload == h + hlen). len is at most
 * f->mss; psh marks the last segment of a write. Nothing after a FIN of
 * that side or a RST. ACKs are the caller's: ts_ack_data() writes the
 * other side's ACK of dir's data when TS_ACK_EVERY bytes wait for one, or
 * whenever some do with force (after the last segment of a write, as
 * ts_data() does). */
size_t ts_seg_hlen(const struct ts_flow *f);
void ts_segment_at(struct ts_flow *f, int dir, uint8_t *h, size_t len, bool psh, ts_emit_fn emit, void *ctx);
void ts_ack_data(struct ts_flow *f, int dir, bool force, ts_emit_fn emit, void *ctx);
/* len bytes of side dir that the copy lost (dropped before any frame was
 * built): the sequence numbers go on after them, so the IDS sees a hole
 * where they were (its "previous segment not captured"), never other
 * bytes in their place. */
void ts_skip(struct ts_flow *f, int dir, size_t len);

/* Internet checksum helpers (RFC 1071), exposed for the tests: the sum of
 * data folded into 16 bits, not complemented; `start` is a previous
 * partial sum (0 to begin). */
uint32_t ts_csum_add(uint32_t start, const void *data, size_t len);
/* The same sum as ts_csum_add(start, src, len) while copying src to
 * dst[0..len) (no overlap). */
uint32_t ts_csum_copy(uint32_t start, void *dst, const void *src, size_t len);
uint16_t ts_csum_fold(uint32_t sum);

#endif
