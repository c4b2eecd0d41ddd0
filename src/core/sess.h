/* sess.h — one relayed connection: a client half, a server half and the two
 * channels between them.
 *
 * Life of a session:
 *   accepted ──(accept-proxy: header read)──► waiting for a server slot (queue)
 *   ──► connecting (retries) ──► established (pumping both channels)
 *   ──► closed when both channels are done or on error/timeout, then logged and freed.
 */
#ifndef DECOYPROXY_SESS_H
#define DECOYPROXY_SESS_H

#include <ev.h>
#include <sys/socket.h>
#include "lib/common.h"
#include "core/channel.h"
#include "core/loop.h"
#include "lib/term.h"

struct proxy;
struct server;
struct listener;
struct pp_hdr;

enum sess_state {
	SST_HDR = 0,     /* reading a PROXY header (accept-proxy) */
	SST_QUEUE,       /* waiting for a server slot */
	SST_TURN,        /* waiting before a retry (turn-around) */
	SST_CONNECT,     /* connect() in progress */
	SST_EST,         /* relaying */
	SST_CLOSED,
};

struct half {
	int fd;
	ev_io rio, wio;
	ev_tstamp last_act;         /* last read or write progress on this fd */
	bool rd_shut;               /* EOF read (or no more reading wanted) */
	bool wr_shut;               /* shutdown(SHUT_WR) done */
};

struct sess {
	struct sess *prev, *next;   /* all sessions */
	struct sess *qnext;         /* backend queue */
	unsigned long long id;
	enum sess_state state;
	struct proxy *fe, *be;
	struct server *srv;
	struct listener *li;
	unsigned conf_gen_ref;      /* holds a reference on fe->conf */

	struct half cli, srv_h;
	struct chan req;            /* client -> server */
	struct chan res;            /* server -> client */

	struct sockaddr_storage cli_addr;   /* %ci:%cp (after PROXY: the advertised one) */
	struct sockaddr_storage fe_addr;    /* %fi:%fp original destination */
	struct sockaddr_storage bsrc_addr;  /* %bi:%bp */
	struct sockaddr_storage srv_addr;   /* %si:%sp */
	struct pp_hdr *pp;                  /* received PROXY header TLVs (accept-proxy) */
	char *netns;                        /* namespace the connection arrived in */
	char *unique_id;                    /* %ID: received UNIQUE_ID, else unique-id-format */
	size_t unique_id_len;
	bool no_log;                        /* an error line was already logged instead */

	ev_timer timer;
	ev_tstamp t_accept, t_queue, t_connect_start, t_est;
	struct timeval accept_tv;
	long tw, tc;                /* ms, -1 = not reached */
	int retries_done;
	unsigned long long q_idx;   /* be->queue_idx when this session was queued */
	unsigned bq;                /* %bq: 1 + sessions dequeued while this one waited; 0 = never queued */
	bool counted_srv;           /* holds a slot in srv->cur_conn */
	bool counted_be;
	char term[3];               /* termination state, filled at close */
};

void sess_accept(struct listener *li, int fd, const struct sockaddr_storage *peer);

struct log_sess;

/* --- for the session's own modules (sess.c, sess_pp.c) --- */
/* Ends the session because of ev, logs it and frees it. The termination
 * state (%ts) is term_compute(ev) in the session's current phase. */
void sess_close(struct sess *s, enum term_event ev);
/* Where s is, for term_compute(). */
struct term_snap sess_term_snap(const struct sess *s);

/* -d: one "[DEBUG]" line per session event, prefixed with the session id
 * in hex as HAProxy does ("0000002a:"). Costs one branch when -d is off:
 * the arguments are not even evaluated. */
#define SESS_DEBUG(s, ...) do { if (__builtin_expect(dp_msg.debug != 0, 0)) sess_debug((s), __VA_ARGS__); } while (0)
void sess_debug(const struct sess *s, const char *fmt, ...) DP_PRINTF(2, 3);
/* Client side ready (PROXY header consumed if any): pick a server, connect. */
void sess_start(struct sess *s);
/* Fills what a log-format can show about s so far. */
void sess_fill_log(const struct sess *s, struct log_sess *ls);
/* Re-arms the session timer after a state change. */
void sess_arm_timer(struct sess *s);
/* Writes "ip:port [date] fe/bind: msg" to the frontend's log targets, the
 * way HAProxy reports connection-level errors, and skips the tcplog line. */
void sess_log_conn_error(struct sess *s, const char *msg);

/* The client-side read callback once any PROXY header is consumed. */
void sess_cli_read_cb(struct ev_loop *loop, ev_io *w, int revents);

/* sess_pp.c: accept-proxy and send-proxy[-v2] */
void sess_pp_wait_header(struct sess *s);
/* Queues the PROXY header for the server in the request channel's prefix.
 * Returns 0, or -1 when the header cannot be built (session must fail). */
int sess_pp_prepare(struct sess *s);
/* Ms to wait for a PROXY header: timeout client, at least 3 s. */
long long sess_pp_timeout(const struct sess *s);
void sess_pp_free(struct sess *s);
void sess_set_unique_id(struct sess *s);
/* Kill a session ("K" termination), e.g. `shutdown session` or hard stop. */
void sess_kill(struct sess *s);
/* Starts queued sessions of backend be while its servers have free slots. */
void sess_dequeue(struct proxy *be);
/* The same, from the loop once the current callbacks are done (a slot was
 * freed, a server came up or was enabled): never re-enters a caller. */
void sess_dequeue_later(struct proxy *be);

extern struct sess *sess_list;
extern unsigned sess_count;      /* %ac */
extern unsigned long long sess_freed; /* sessions freed since start: tells a walker of
                                       * sess_list whether a call freed others too */

#endif
