/* udp_int.h — private to the UDP data path (core/udp*.c): the flow table,
 * the reply limiter and the runtime state of one `udp-lb` section.
 *
 *   udp_flow.c    flow table: a bounded, seeded hash of (attacker, decoy)
 *                 keys (pure, unit-tested)
 *   udp_limit.c   reply limits: size and ratio checks, and the per-attacker
 *                 token buckets in a bounded set-associative table (pure)
 *   udp.c         sockets, datagrams, flows, replies, the flow-end log
 *   udp_gen.c     generations: apply / undo / commit / remove, stats
 *   udp_chk.c     health checks of `check` servers
 */
#ifndef DECOYPROXY_CORE_UDP_INT_H
#define DECOYPROXY_CORE_UDP_INT_H

#include <ev.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "lib/common.h"
#include "model/udplb.h"
#include "core/chk.h"
#include "core/udp.h"

/* ---- flow table (udp_flow.c) ------------------------------------------------ */

/* A key: two endpoints of one family (IPv4 in the first 4 bytes, the rest
 * zero), ports in network order. Flows use (attacker, decoy); the reply
 * socket cache uses (decoy, nothing). */
struct udp_key {
	uint8_t family;
	uint8_t pad[3];
	uint16_t port_a, port_b;
	uint8_t a[16], b[16];
};

/* A node embedded in what the table holds. */
struct udp_node {
	struct udp_node *hnext;
	struct udp_key key;
	uint32_t hash;
};

/* At most `cap` nodes in 2^k >= 2 * cap buckets; the hash is keyed by a
 * random seed so that spoofed sources cannot aim at one bucket. */
struct udp_ftab {
	struct udp_node **b;
	uint32_t mask;
	size_t n, cap;
	uint64_t seed[2];
};

/* Fills k from two socket addresses (b may be NULL: zeros). IPv4-mapped
 * IPv6 addresses are taken as IPv4. Returns 0, or -EAFNOSUPPORT. */
int udp_key_make(struct udp_key *k, const struct sockaddr_storage *a, const struct sockaddr_storage *b);
/* Table of at most cap nodes (1 .. 2^24). seed NULL: random. 0 or -ENOMEM. */
int udp_ftab_init(struct udp_ftab *t, size_t cap, const uint64_t *seed);
void udp_ftab_free(struct udp_ftab *t);
uint32_t udp_ftab_hash(const struct udp_ftab *t, const struct udp_key *k);
struct udp_node *udp_ftab_get(const struct udp_ftab *t, const struct udp_key *k, uint32_t h);
/* Inserts n (key and hash set by the caller). -ENOSPC when the table holds
 * cap nodes already, -EEXIST when the key is there. */
int udp_ftab_add(struct udp_ftab *t, struct udp_node *n);
void udp_ftab_del(struct udp_ftab *t, struct udp_node *n);

/* ---- reply limits (udp_limit.c) -------------------------------------------- */

enum udp_reply_verdict {
	UDP_REPLY_OK = 0,
	UDP_REPLY_SIZE,         /* the datagram is larger than `size` */
	UDP_REPLY_RATIO,        /* the flow's reply bytes would exceed ratio x request bytes */
	UDP_REPLY_RATE,         /* the attacker address has no token left */
};

/* Size and ratio of one reply of len bytes on a flow that received in_bytes
 * and relayed out_bytes so far (pure). */
enum udp_reply_verdict udp_reply_check(const struct udp_reply_limit *l, uint64_t in_bytes,
				       uint64_t out_bytes, size_t len);
const char *udp_reply_verdict_str(enum udp_reply_verdict v);

struct udp_bucket {
	uint8_t used;
	uint8_t family;
	uint8_t addr[16];
	double tokens;
	double last;            /* seconds, caller's clock */
	uint64_t seen;          /* r->tick of its last use */
};

/* Token buckets of attacker addresses: 4-way set-associative, at most
 * `sources` addresses (rounded up to a power of two >= 4); a new address
 * takes an empty way or evicts the way whose bucket is fullest (the least
 * limited: evicting it gives back the least), among equals the least
 * recently used one (a victim being reflected at is used all the time). */
struct udp_rlim {
	struct udp_bucket *v;
	uint32_t nsets;
	unsigned rate, burst;
	uint64_t seed[2];
	uint64_t tick;
	unsigned long long evictions;
};

int udp_rlim_init(struct udp_rlim *r, unsigned sources, unsigned rate, unsigned burst, const uint64_t *seed);
void udp_rlim_free(struct udp_rlim *r);
/* Takes one token for addr at time now (seconds). true: allowed. rate 0:
 * always allowed. */
bool udp_rlim_take(struct udp_rlim *r, const struct sockaddr_storage *addr, double now);

/* ---- runtime (udp.c) ---------------------------------------------------------- */

struct udp_rt;
struct mirror_sess;

enum { UDP_SOCK_LISTEN = 0, UDP_SOCK_REPLY };

/* A receiving socket: a dgram-bind's, or a reply socket bound to a decoy
 * address (which also receives the decoy's datagrams: TPROXY hands a
 * datagram to the transparent socket bound to its destination first). */
struct udp_sock {
	struct udp_node node;           /* reply sockets: key (decoy, -) */
	ev_io io;
	ev_timer tm;                    /* reply sockets: idle timer */
	int fd;
	int kind;                       /* UDP_SOCK_* */
	struct udp_rt *rt;
	struct udp_bind *bind;          /* the dgram-bind it belongs to (its generation) */
	struct sockaddr_storage addr;   /* bound address */
	char *netns;                    /* reply sockets: namespace (NULL: the process's) */
	unsigned refs;                  /* reply sockets: flows using it */
	double last;                    /* last use (ev_now) */
	struct udp_sock *next;          /* in rt's list of its kind */
	struct udp_sock **pprev;
};

struct udp_flow {
	struct udp_node node;           /* key (attacker, decoy) */
	struct udp_flow *next, *prev;   /* rt's flows */
	struct udp_rt *rt;
	int fd;                         /* toward the server */
	ev_io io;
	ev_timer tm;
	double first, last;             /* ev_now() of the first and the last datagram */
	struct udp_server *srv;         /* NULL once the server left on a reload */
	struct sockaddr_storage cli, dst, srv_addr, src, peer;
	struct udp_sock *reply;         /* replies leave through it */
	bool pp2;
	struct timeval start;
	char srv_name[64];
	unsigned long long pkts_in, bytes_in, pkts_out, bytes_out, dropped;
	struct mirror_sess *mirror;     /* the IDS copy (core/mirror.h), NULL: none */
	unsigned long long id;          /* names its pcap-dir files */
};

struct udp_rt {
	struct udp_lb *lb;              /* the section of the generation in service */
	struct udp_sock **lsn;          /* one per dgram-bind, in order */
	size_t nlsn;
	struct udp_ftab flows, replies;
	struct udp_flow *fhead;
	struct udp_sock *rhead;         /* reply sockets */
	struct udp_rlim rlim;
	unsigned nflows, nreplies;
	unsigned rr;
	struct udp_chk *chk;            /* health checks (udp_chk.c), one per `check` server */
	size_t nchk;
	double warn_full, warn_err;     /* ha_ratelimit() stamps */
};

void udp_sock_start(struct udp_sock *s);
void udp_sock_close(struct udp_sock *s);
/* Opens the socket of dgram-bind b (in its namespace, per c's cache). */
int udp_listen_open(struct dp_config *c, struct udp_rt *r, struct udp_bind *b, struct udp_sock **out,
		    char **err);
void udp_flow_end(struct udp_flow *f, enum udp_end why);

/* ---- health checks (udp_chk.c) ----------------------------------------------------- */

struct udp_chk;

/* (Re)starts the checks of r's section's `check` servers (after a commit:
 * the servers are the new generation's). 0 or -ENOMEM. */
int udp_chk_start(struct udp_rt *r);
void udp_chk_stop(struct udp_rt *r);
/* HAProxy's health rules for one result (pure): true when the health
 * changed; s->chk_up follows (DOWN at 0, UP from rise on). */
bool udp_chk_apply(struct udp_server *s, bool ok);
/* HAProxy's line for a server that just went UP or DOWN (s->chk_up says
 * which), with `usable` servers left and `flows` alive toward it. */
int udp_chk_state_msg(char *buf, size_t cap, const char *lb, const struct udp_server *s, enum chk_status st,
		      const char *info, long ms, unsigned usable, unsigned flows);

#endif
