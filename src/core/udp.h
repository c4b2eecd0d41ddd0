/* udp.h — the UDP data path of `udp-lb` sections (model/udplb.h).
 *
 * A flow is (attacker addr:port, decoy addr:port). Its first datagram,
 * received on a dgram-bind (diverted there by TPROXY, the original
 * destination read with IP_RECVORIGDSTADDR / IPV6_RECVORIGDSTADDR),
 * creates it: a server is chosen (roundrobin or source hash), one socket
 * toward it is opened (spoofing the attacker's address with `source ...
 * usesrc clientip|client`, or plain with each datagram led by a PROXY v2
 * DGRAM header for `send-proxy-v2`), and the server's replies go back to
 * the attacker from the decoy address (an IP_TRANSPARENT socket bound to
 * it, shared by the flows of that decoy address and closed after the idle
 * timeout), within the reply limits (`udp-reply-limit`). A flow ends after
 * `timeout client` without a datagram either way, with one log line.
 *
 * Memory is bounded: at most `maxconn` flows (later attackers' datagrams
 * are dropped and counted until flows expire), a hash table of a fixed
 * size per section, and a bounded table of per-attacker rate buckets.
 *
 * Reloads: a section of the new generation with the name of an old one
 * adopts its flows, reply sockets and rate buckets, and the sockets of its
 * dgram-binds that did not change (as TCP listeners are taken over).
 */
#ifndef DECOYPROXY_CORE_UDP_H
#define DECOYPROXY_CORE_UDP_H

#include <sys/socket.h>
#include <sys/time.h>

#include "lib/common.h"

struct dp_config;
struct udp_lb;

/* Why a flow ended. */
enum udp_end { UDP_END_IDLE = 0, UDP_END_STOP, UDP_END_RELOAD, UDP_END_ERROR };

/* Everything known about a flow when it ends: what the log line (and any
 * later event output) is made of. */
struct udp_flow_end {
	const char *lb;                 /* section name */
	const char *server;             /* server name ("-" when gone) */
	struct sockaddr_storage cli;    /* attacker */
	struct sockaddr_storage dst;    /* decoy (original destination) */
	struct sockaddr_storage src;    /* source address toward the server */
	struct sockaddr_storage srv;    /* the server's address and port */
	struct timeval start;
	long long duration_ms;          /* first datagram to the last one */
	unsigned long long pkts_in, bytes_in;   /* attacker -> server */
	unsigned long long pkts_out, bytes_out; /* server -> attacker, relayed */
	unsigned long long dropped;     /* replies held back by the limits */
	enum udp_end why;
};

const char *udp_end_str(enum udp_end why);

/* Formats the flow-end log line (doc/udp.md) into buf. Returns its length. */
size_t udp_flow_end_format(const struct udp_flow_end *e, char *buf, size_t cap);

/* Called for every flow that ends, after its log line (NULL: none); for an
 * event output to hook itself on. */
extern void (*udp_flow_end_hook)(const struct udp_lb *lb, const struct udp_flow_end *e);

/* Module hooks (ctl/module.c). */
int udp_apply(struct dp_config *newc, struct dp_config *oldc, char **err);
void udp_undo(struct dp_config *newc, struct dp_config *oldc);
void udp_commit(struct dp_config *newc, struct dp_config *oldc);
void udp_remove(struct dp_config *c);

/* Live numbers of a section (stats). */
struct udp_lb_stats {
	unsigned flows, reply_socks, sockets;
};
void udp_lb_stats(const struct udp_lb *lb, struct udp_lb_stats *out);
/* Flows alive in every section of c. */
unsigned udp_flows_total(const struct dp_config *c);
/* Flows created so far by every section of c (carried over reloads). */
unsigned long long udp_flows_cum(const struct dp_config *c);

#endif
