/* nflog.h — nfnetlink_log (NFLOG) for probe events: the configuration
 * messages that bind a socket to a group, and a pure parser of the packet
 * messages the kernel sends (the probe rules of net/nft.h log with prefix
 * "<kind> <set name>" and a snapshot of the network and transport
 * headers).
 *
 * Namespaces: like nft.h, this module never calls setns(); the caller
 * opens the NETLINK_NETFILTER socket in the right namespace
 * (ns_cache_socket()). No globals, no printing.
 */
#ifndef DECOYPROXY_NFLOG_H
#define DECOYPROXY_NFLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/intercept.h"

/* One logged packet, as far as probes need it. */
struct nflog_pkt {
	uint8_t family;                 /* AF_INET or AF_INET6 */
	uint8_t proto;                  /* IPPROTO_TCP, ... */
	uint8_t tcp_flags;              /* byte 13 of the TCP header (0: not TCP) */
	union icpt_addr src, dst;
	uint16_t sport, dport;          /* host order; 0 when not TCP/UDP */
	char kind;                      /* prefix's first character, 0 if none */
	const char *set;                /* what follows "<kind> " in the prefix
	                                 * (points into the message), "" if none */
	size_t setlen;
	uint16_t group;                 /* resource id of the message = group */
	const uint8_t *payload;         /* the packet from its network header, as
	                                 * copied (points into the message) */
	size_t paylen;
};

typedef void (*nflog_pkt_fn)(void *ctx, const struct nflog_pkt *p);

/* Parses len bytes received from an NFLOG socket: for every packet
 * message whose payload holds a whole IPv4/IPv6 header (and, for TCP/UDP,
 * the ports), calls fn. Messages of other types are skipped; a packet
 * message that is truncated or malformed is counted in *bad (may be NULL)
 * and skipped. Every length is checked against what is left. Returns the
 * number of packets delivered, or -EBADMSG when the buffer itself is not a
 * sequence of netlink messages. */
int nflog_parse(const void *buf, size_t len, nflog_pkt_fn fn, void *ctx, unsigned *bad);

/* Builds in buf (at least NFLOG_CFG_MSG_MAX bytes) the configuration
 * message: bind socket to group (cmd NFULNL_CFG_CMD_BIND), or unbind
 * (NFULNL_CFG_CMD_UNBIND), with copy mode "packet" of copy_range bytes,
 * queue threshold qthresh and flush timeout timeout_cs (1/100 s) on bind.
 * Returns the message length. */
#define NFLOG_CFG_MSG_MAX 128
size_t nflog_build_cfg(void *buf, uint16_t group, bool bind, uint32_t copy_range,
		       uint32_t qthresh, uint32_t timeout_cs, uint32_t seq);

/* Binds the NETLINK_NETFILTER socket fd to group (sends the message, reads
 * the ACK). 0 or -errno with *err ("NFLOG group 1414 is used by another
 * program in this namespace (Device or resource busy)"). */
int nflog_bind(int fd, uint16_t group, uint32_t copy_range, char **err);
/* The same with the kernel's batching chosen: it sends once qthresh
 * packets wait or after timeout_cs (nflog_bind(): 16, 5). qthresh 1 sends
 * each packet at once (answers, plumbing/icmpans.h). */
int nflog_bind_q(int fd, uint16_t group, uint32_t copy_range, uint32_t qthresh, uint32_t timeout_cs,
		 char **err);

#endif
