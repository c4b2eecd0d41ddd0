/* icmpans.h — ICMP answers of decoys that are not local (issue 14, part 2).
 *
 * A decoy routed to the sensor without `announce` is not a local address:
 * the kernel's ICMP port unreachable and echo reply for it are never sent
 * (it sends only from a local address), and an nft `reject` would answer
 * from the sensor's own address. For every divert with `decoy-closed
 * reset` or `decoy-ping on`, the nft table (net/nft.h, rules U2 and P2)
 * hands the UDP datagrams to closed ports and the echo requests of such
 * decoys to NFLOG group `decoy-answers group` (copy of the packet, limited
 * in the kernel to NFT_ANSWER_RATE per second and rule) and drops them.
 * This module reads that group in each namespace of the tproxy plan (one
 * NETLINK_NETFILTER socket, created there through net/nscache, NFLOG
 * batching off: each packet is sent at once), builds the answer a Linux
 * host gives (lib/icmpans.h: port unreachable quoting the datagram, echo
 * reply; TTL 64; Linux's rate limits for errors, per namespace) with the
 * decoy address as source, and sends it through a raw socket of the
 * namespace (IPPROTO_RAW, the header is ours).
 *
 * NFLOG rather than NFQUEUE: the packet is dropped in any case, so no
 * verdict is needed; NFLOG costs the kernel one copy and no round trip,
 * and when decoyproxy is slow or stopped the packets are simply dropped
 * (the host then looks like one behind a dropping firewall) instead of
 * waiting in a queue.
 *
 * Threads: sockets, rate-limit state and counters belong to the thread that
 * applies the configuration (the main loop, T0).
 */
#ifndef DECOYPROXY_ICMPANS_PLUMB_H
#define DECOYPROXY_ICMPANS_PLUMB_H

#include <stdint.h>

#include "model/conf.h"

struct ev_loop;

/* Generation hooks (ctl/module.c), like probe.h's: opens in every namespace
 * of c's tproxy plan with an answering divert an NFLOG socket bound to its
 * group and raw sockets (kept from the previous generation for the same
 * namespace and group), watched on loop. 0, or -1 with *err (namespace,
 * group, reason). */
int icmpans_apply(struct dp_config *c, struct dp_config *oldc, struct ev_loop *loop, char **err);
void icmpans_undo(struct dp_config *c, struct dp_config *oldc);
void icmpans_commit(struct dp_config *c, struct dp_config *oldc);
void icmpans_remove(struct dp_config *c);

/* Counters (`show info`, /metrics), since start; written by T0 only. */
struct icmpans_counters {
	uint64_t unreach;               /* port unreachable sent */
	uint64_t echo;                  /* echo replies sent */
	uint64_t limited;               /* errors not sent: rate limits */
	uint64_t ignored;               /* packets Linux would not answer (lib/icmpans.h) */
	uint64_t failed;                /* sendto() errors, NFLOG overruns (ENOBUFS) */
};
void icmpans_get_counters(struct icmpans_counters *out);

#endif
