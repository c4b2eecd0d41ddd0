/* icmpans.h — the ICMP answers a Linux host gives, built for a decoy
 * address that is not local (issue 14, part 2: decoys that look like
 * hosts without `announce`).
 *
 * The kernel answers a datagram to a closed UDP port (ICMP port
 * unreachable) and an echo request (echo reply) only from an address it
 * owns. For a decoy that is routed to the sensor without being announced,
 * the nft table hands those packets to decoyproxy instead (NFLOG,
 * plumbing/icmpans.h), which builds here what Linux would have sent, with
 * the decoy address as source, and sends it through a raw socket:
 *
 *   icmpans_classify()  reads the packet as the kernel logged it (network
 *                       header first; untrusted bytes, every length checked)
 *                       and says whether and how a Linux host answers it;
 *   icmpans_build()     writes the whole answer, IP header included
 *                       (IPPROTO_RAW: the kernel adds nothing);
 *   icmpans_limit_*     Linux's ICMP rate limits (icmp_ratelimit /
 *                       icmp_msgs_per_sec), per namespace.
 *
 * What Linux does, and what is imitated (net/ipv4/icmp.c, net/ipv6/icmp.c):
 *   - port unreachable: ICMP type 3 code 3 / ICMPv6 type 1 code 4, quoting
 *     the original from its IP header on, as much as fits in 576 bytes
 *     (IPv4) or 1280 bytes (IPv6, the minimum MTU) with the answer's own
 *     headers; IPv4 TOS = the original's TOS bits | 0xc0 (precedence
 *     "internetwork control"); IPv6 traffic class 0;
 *   - echo reply: the request's ICMP(v6) message with the type changed
 *     (code, identifier, sequence and data kept), TOS / traffic class of
 *     the request;
 *   - TTL / hop limit 64; no DF; IPv4 id and IPv6 flow label from the
 *     caller (`ident`);
 *   - no answer to a packet whose source is not a unicast address of
 *     another host (unspecified, loopback, multicast, broadcast, IPv6
 *     link-local: an answer to it needs an interface, and decoys are
 *     reached across a router), nor to a non-first fragment, a UDP
 *     datagram whose length field is wrong, an echo request with a bad
 *     checksum or one that was not logged whole.
 * Not imitated: IP options of the original are not echoed; a UDP datagram
 * with a bad checksum is answered (the checksum of a datagram that came
 * through a veth or an offloading NIC may legitimately be unfinished in
 * what NFLOG copies, so it cannot be judged here); Linux's global limit
 * spends a random 0-2 tokens per message (since 2024, against a side
 * channel), this one spends exactly 1.
 *
 * Pure code: no I/O, no clock (times are passed in), no allocation.
 */
#ifndef DECOYPROXY_ICMPANS_H
#define DECOYPROXY_ICMPANS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/intercept.h"

/* Largest answer: an IPv6 error is 1280 bytes; an echo reply is as long as
 * its request, which the caller captures up to ICMPANS_SNAPLEN bytes. */
#define ICMPANS_SNAPLEN   1500u
#define ICMPANS_MAX       ICMPANS_SNAPLEN
#define ICMPANS_ERR4_MAX  576u         /* whole IPv4 error */
#define ICMPANS_ERR6_MAX  1280u        /* whole ICMPv6 error */
#define ICMPANS_TTL       64u

enum icmpans_kind {
	ICMPANS_UNREACH = 1,            /* closed UDP port: port unreachable */
	ICMPANS_ECHO,                   /* echo request: echo reply */
};

/* Why a packet gets no answer (icmpans_classify()'s negative returns). */
enum icmpans_skip {
	ICMPANS_SKIP_MALFORMED = 1,     /* not a whole IPv4/IPv6 header, bad lengths */
	ICMPANS_SKIP_SOURCE,            /* source or destination not unicast */
	ICMPANS_SKIP_FRAGMENT,          /* a fragment Linux would not answer */
	ICMPANS_SKIP_OTHER,             /* neither UDP nor an echo request */
	ICMPANS_SKIP_TRUNCATED,         /* echo request not captured whole */
	ICMPANS_SKIP_CHECKSUM,          /* echo request with a bad checksum */
};

/* What icmpans_classify() found. */
struct icmpans_req {
	uint8_t family;                 /* AF_INET or AF_INET6 */
	uint8_t kind;                   /* enum icmpans_kind */
	union icpt_addr src, dst;       /* of the packet: the attacker, the decoy */
	uint16_t dport;                 /* UDP: destination port (host order) */
	size_t len;                     /* the packet's length (its IP header's) */
	size_t l4off;                   /* offset of the UDP / ICMP header */
};

/* Reads pkt[0..caplen), a packet from its network header on (caplen may
 * be less than the packet's length when the capture was cut). Returns
 * the enum icmpans_kind (> 0, *r filled) or -enum icmpans_skip. */
int icmpans_classify(const uint8_t *pkt, size_t caplen, struct icmpans_req *r);

/* Writes into out[0..cap) the answer to r (classified from the same pkt,
 * caplen): IP header, ICMP(v6) header and data, checksums done. ident is
 * the IPv4 id (low 16 bits) or the IPv6 flow label (low 20 bits). Returns
 * the length, or 0 when cap is too small (ICMPANS_MAX always does). */
size_t icmpans_build(const uint8_t *pkt, size_t caplen, const struct icmpans_req *r, uint32_t ident,
		     uint8_t *out, size_t cap);

/* ---- rate limits (icmpans_limit.c) ----
 *
 * Linux (net.ipv4.icmp_ratelimit = 1000 ms, net.ipv4.icmp_msgs_per_sec =
 * 1000, icmp_msgs_burst = 50; the same for ICMPv6): an error is sent when
 *   1. the namespace's global bucket has credit (refilled at 1000/s, at
 *      most 50, in steps of at least 20 ms), then
 *   2. the destination's own bucket allows it (one per second, bursts of
 *      6: inet_peer_xrlim_allow()), and then it takes one credit from the
 *      global bucket.
 * Echo replies are not limited (they are not in icmp_ratemask); the nft
 * rule's own `limit` bounds them. Destinations are kept in a fixed table
 * of ICMPANS_PEERS slots (hashed by address; a newcomer takes its slot
 * over, with a full bucket, as Linux gives a new peer). */
#define ICMPANS_PEERS        4096u
#define ICMPANS_RATE_MS      1000u     /* per destination: one per second */
#define ICMPANS_BURST        6u        /* XRLIM_BURST_FACTOR */
#define ICMPANS_GLOBAL_RATE  1000u     /* per second */
#define ICMPANS_GLOBAL_BURST 50u

struct icmpans_peer {
	union icpt_addr addr;
	uint8_t family;                 /* 0: free */
	uint64_t last_ms;
	uint64_t tokens_ms;
};

struct icmpans_limit {
	int64_t credit;
	uint64_t stamp_ms;
	uint32_t seed;                  /* hash seed (the caller's random) */
	struct icmpans_peer peer[ICMPANS_PEERS];
};

void icmpans_limit_init(struct icmpans_limit *l, uint32_t seed, uint64_t now_ms);

/* Whether an error to dst (family) may go out at now_ms; true takes the
 * tokens. *global_hit (may be NULL) says the global bucket refused. */
bool icmpans_limit_allow(struct icmpans_limit *l, int family, const union icpt_addr *dst, uint64_t now_ms,
			 bool *global_hit);

#endif
