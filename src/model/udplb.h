/* udplb.h — `udp-lb <name>` sections: UDP decoys (decoyproxy extension,
 * modelled on HAProxy Enterprise's UDP load-balancing section).
 *
 *   udp-lb <name>
 *       dgram-bind <addr:port> [transparent] [namespace <ns>] [accept-proxy]
 *       intercept <spec> [<spec>...]            UDP decoys, intercept.h syntax
 *       balance roundrobin | source
 *       source <addr> [usesrc clientip | client | <addr>]
 *       server <name> <addr>[:port] [send-proxy-v2] [disabled]
 *                     [check] [inter <t>] [rise <n>] [fall <n>] [port <n>]
 *       option udp-check                        checks are UDP (the only kind)
 *       udp-check-send hex <hex>                the check's probe datagram: a
 *                                               reply is then required
 *       timeout check <time>                    a check's wait (default: inter)
 *       timeout client <time>                   flow idle timeout (default 30s)
 *       maxconn <n>                             flows at once (default 1000)
 *       log global | log <target> ...
 *       udp-reply-limit [size <bytes>] [ratio <n>] [rate <n>] [burst <n>]
 *                       [sources <n>]
 *
 * This file holds the data (one struct udp_lb per section, kept in the
 * generation as the conf_ext "udp-lb") and its keywords; the data path is
 * core/udp.h, the nft rules plumbing/tproxy (UDP diverts). Parsing never
 * touches the system.
 */
#ifndef DECOYPROXY_MODEL_UDPLB_H
#define DECOYPROXY_MODEL_UDPLB_H

#include <sys/socket.h>

#include "lib/common.h"
#include "lib/intercept.h"
#include "cfg/cfg.h"
#include "log/log.h"
#include "model/conf.h"
#include "model/source.h"

/* Defaults (doc/udp.md). */
#define UDPLB_TIMEOUT_DEFAULT   30000LL     /* ms of idleness ending a flow */
#define UDPLB_MAXCONN_DEFAULT   1000u       /* flows at once */
#define UDPLB_MAXCONN_MAX       1000000u
#define UDPLB_REPLY_SIZE_DEF    4096u       /* largest reply datagram relayed */
#define UDPLB_REPLY_RATIO_DEF   10u         /* reply bytes <= ratio x request bytes per flow */
#define UDPLB_REPLY_RATE_DEF    50u         /* replies per second per attacker address */
#define UDPLB_REPLY_BURST_DEF   100u        /* bucket depth */
#define UDPLB_REPLY_SOURCES_DEF 4096u       /* attacker addresses tracked by the rate limit */
#define UDPLB_CHK_INTER_DEF     2000LL      /* ms between checks (HAProxy's inter) */
#define UDPLB_CHK_RISE_DEF      2u
#define UDPLB_CHK_FALL_DEF      3u
#define UDPLB_CHK_PROBE_MAX     1024u       /* bytes of a udp-check-send probe */

enum { UDPLB_BALANCE_RR = 0, UDPLB_BALANCE_SOURCE };

struct udp_bind {
	struct udp_bind *next;
	struct sockaddr_storage addr;   /* with a port */
	bool transparent;
	bool accept_proxy;              /* a PROXY v2 header leads every datagram */
	char *netns;                    /* NULL: the process's namespace */
	char *file;
	int line;
};

/* Counters carried across reloads (one struct copy). */
struct udp_srv_counters {
	unsigned long long flows, pkts_in, pkts_out, bytes_in, bytes_out;
	unsigned long long chk_failed, chk_down;        /* failed checks, UP->DOWN transitions */
};

struct udp_server {
	struct udp_server *next;
	char *name;
	char *file;
	int line;
	struct sockaddr_storage addr;   /* port 0 with no_port */
	bool no_port;                   /* port-less: the decoy port the attacker used */
	bool send_pp2;                  /* PROXY v2 (DGRAM) header in every datagram */
	bool disabled;
	struct udp_srv_counters cnt;
	/* health checks (`check`; core/udp_chk.c runs them) */
	bool check;
	long long chk_inter;            /* ms */
	unsigned chk_rise, chk_fall;
	uint16_t chk_port;              /* 0: the server's port */
	/* state the checks keep (carried over a reload with the counters) */
	bool chk_up;                    /* flows may go to it (true without checks) */
	unsigned chk_health;            /* 0 .. rise+fall-1; up from rise on */
	char chk_st[8];                 /* last check's status ("L4CON"), for show stat */
	char chk_desc[96];              /* its text or info */
	long chk_dur;                   /* its duration (ms) */
	unsigned cur_flows;             /* flows alive toward it (core/udp.c) */
};

struct udp_lb_counters {
	unsigned long long flows;               /* flows created */
	unsigned long long pkts_in, bytes_in;   /* attacker -> decoy, relayed */
	unsigned long long pkts_out, bytes_out; /* decoy -> attacker, relayed */
	unsigned long long flows_refused;       /* datagrams dropped: flow cap reached */
	unsigned long long replies_dropped;     /* reply limit: size, ratio, rate */
	unsigned long long errors;              /* bad datagrams (PROXY header), socket errors */
};

struct udp_reply_limit {
	unsigned size;          /* bytes; 0: no size cap */
	unsigned ratio;         /* 0: no ratio cap */
	unsigned rate;          /* replies per second per attacker address; 0: none */
	unsigned burst;
	unsigned sources;       /* attacker addresses tracked at once */
};

struct mirror_px;

struct udp_lb {
	struct udp_lb *next;
	char *name;
	char *file;
	int line;
	struct udp_bind *binds, *binds_last;
	struct icpt_list decoys;        /* `intercept` (normalised by finalize) */
	char *icpt_file;                /* first `intercept` line */
	int icpt_line;
	int balance;                    /* UDPLB_BALANCE_* */
	struct src_conf source;
	struct udp_server *srv, *srv_last;
	unsigned nsrv;
	long long timeout;              /* ms */
	unsigned maxconn;
	struct log_list logs;
	bool log_global;
	struct udp_reply_limit lim;
	bool opt_udp_check;             /* `option udp-check` was given */
	uint8_t *chk_probe;             /* `udp-check-send`: the probe, NULL: empty datagram */
	size_t chk_probe_len;
	long long chk_timeout;          /* `timeout check` (ms), 0: inter */
	struct udp_lb_counters cnt;     /* carried over a reload */
	char *nft_set[2];               /* UDP set names in the nft plan, [0] IPv4, [1] IPv6
	                                 * (given by plumbing/tproxy's finalize) */
	void *rt;                       /* the data path's state (core/udp.c) */
	struct mirror_px *mirror;       /* `mirror` lines and `mirror-depth` (core/mirror_int.h),
	                                 * owned by the generation's mirror state; NULL: none */
};

struct udp_conf {
	struct conf_ext ext;
	struct udp_lb *lbs, *last;
};

extern const struct conf_ext_ops udp_conf_ops;

/* c's udp-lb sections (NULL when it has none). */
struct udp_lb *udplb_first(const struct dp_config *c);
struct udp_lb *udplb_find(const struct dp_config *c, const char *name);

/* Number of dgram-bind lines of c (they are listeners too: a
 * configuration with only udp-lb sections has something to serve). */
size_t udplb_count_binds(const struct dp_config *c);

/* File descriptors c's sections may hold at most: two per flow (its
 * socket toward the server, at worst a reply socket of its own) and their
 * dgram-bind sockets, after udplb_finalize() (the global maxconn and the
 * fd limit leave room for them). */
size_t udplb_fd_need(const struct dp_config *c);

/* Keywords and the `udp-lb` section. */
extern const struct cfg_kw_list udplb_kw_list;
extern const struct cfg_section udplb_sections[];

/* Checks every section once every file is read (servers present, a
 * transparent dgram-bind for `intercept`, `log global` resolved, decoy
 * list normalised). Returns the number of errors. */
int udplb_finalize(struct dp_config *c);

/* After a reload: newc's sections and servers take the counters of oldc's
 * of the same name. */
void udplb_carry(struct dp_config *newc, struct dp_config *oldc);

/* Whether flows may go to s (not disabled, not DOWN by its checks). */
static inline bool udplb_srv_usable(const struct udp_server *s)
{
	return !s->disabled && (!s->check || s->chk_up);
}

/* Whether lb spoofs the attacker's address toward the servers. */
static inline bool udplb_spoofs(const struct udp_lb *lb)
{
	return lb->source.set && lb->source.usesrc != SRC_USESRC_NONE;
}

#endif
