/* sess.h — one relayed connection: a client half, a server half and the two
 * channels between them.
 *
 * Parts: sess.c (accept, relay, timeouts, end), sess_conn.c (server,
 * queue, connect, retries), sess_log.c, sess_pp.c, sess_addr.c (the
 * compact addresses); core/sess_int.h is their private header.
 *
 * Life of a session:
 *   accepted ──(accept-proxy: header read)──► waiting for a server slot (queue)
 *   ──► connecting (retries) ──► established (pumping both channels)
 *   ──► closed when both channels are done or on error/timeout, then logged and freed.
 */
#ifndef DECOYPROXY_SESS_H
#define DECOYPROXY_SESS_H

#include <ev.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "lib/common.h"
#include "core/channel.h"
#include "core/loop.h"
#include "core/selfconn.h"
#include "core/thread.h"
#include "lib/term.h"

struct proxy;
struct server;
struct listener;
struct pp_hdr;
struct smp_store;
struct smp_first_facts;
struct mirror_sess;

enum sess_state {
	SST_HDR = 0,     /* reading a PROXY header (accept-proxy) */
	SST_INSPECT,     /* tcp-request content rules: client bytes are buffered
	                  * in req, no server connection yet (sess_rules.c) */
	SST_QUEUE,       /* waiting for a server slot */
	SST_TURN,        /* waiting before a retry (turn-around) */
	SST_CONNECT,     /* connect() in progress */
	SST_EST,         /* relaying */
	SST_CLOSED,
};

struct half {
	int fd;
	bool rd_shut;               /* EOF read (or no more reading wanted) */
	bool wr_shut;               /* shutdown(SHUT_WR) done */
	ev_io rio, wio;
	ev_tstamp last_act;         /* last read or write progress on this fd */
};

/* An IP address and port in the room it needs (a sockaddr_storage is 128
 * bytes): the server connection's source (%bi:%bp), which is never a unix
 * path. Family 0: none. sess_bsrc() gives it back as a sockaddr_storage. */
union sess_inaddr {
	struct sockaddr sa;
	struct sockaddr_in in4;
	struct sockaddr_in6 in6;
};

/* A session end's address (%ci, %fi, %si) in the room an IP address needs
 * (32 bytes instead of a 128-byte sockaddr_storage: the session's largest
 * fields once): IPv4, IPv6 or none (family 0) in place; any other family
 * (AF_UNIX: a unix bind's client and address, a unix server) is a whole
 * sockaddr_storage out of line, in ext.ss, allocated only for such a
 * session (the bytes are kept as they were given, unix paths included).
 * Read it with sess_addr_get(), change it with sess_addr_set() only; the
 * session frees ext.ss when it ends (core/sess_addr.c). */
union sess_addr {
	struct sockaddr sa;
	struct sockaddr_in in4;
	struct sockaddr_in6 in6;
	struct {
		sa_family_t family;             /* anything but AF_UNSPEC/INET/INET6 */
		struct sockaddr_storage *ss;    /* malloc'd; ss->ss_family == family */
	} ext;
};

/* *a as a whole sockaddr_storage in *out (zeroes after an IP address). */
void sess_addr_get(const union sess_addr *a, struct sockaddr_storage *out);
/* Stores *in in a (an out-of-line copy for a family other than IP, reusing
 * the one a holds). Returns 0, or -ENOMEM with a unchanged. */
int sess_addr_set(union sess_addr *a, const struct sockaddr_storage *in);
/* The family of *a (AF_UNSPEC: none). */
static inline sa_family_t sess_addr_family(const union sess_addr *a)
{
	return a->sa.sa_family;
}
/* Frees a's out-of-line copy, if any; a is then empty (family 0). */
void sess_addr_clear(union sess_addr *a);

struct sess {
	struct sess *prev, *next;   /* all sessions */
	struct sess *qnext;         /* backend queue */
	struct server *qsrv;        /* queued for this server (maxqueue, core/srvdyn.h), or NULL */
	unsigned long long id;
	enum sess_state state;
	int retries_done;
	struct proxy *fe, *be;      /* the session holds a reference on fe->conf */
	struct server *srv;
	struct listener *li;
	struct ev_loop *loop;       /* the owner thread's loop: every watcher */
	unsigned tid;               /* the owner thread (lib/thread.h) */
	char term[3];               /* termination state, filled at close */
	struct thread_job dq_job;   /* dequeued by another thread: the connect,
	                             * posted to the owner (core/sess_conn.c) */

	struct half cli, srv_h;
	struct selfconn own;        /* srv_h.fd registered as the proxy's own
	                             * connection (selfconn.h) while it is open */
	struct chan req;            /* client -> server */
	struct chan res;            /* server -> client */

	union sess_addr cli_addr;           /* %ci:%cp (after PROXY: the advertised one) */
	union sess_addr fe_addr;            /* %fi:%fp original destination */
	union sess_inaddr bsrc_addr;        /* %bi:%bp (sess_bsrc()) */
	unsigned bq;                        /* %bq: 1 + sessions dequeued while this one waited;
	                                     * 0 = never queued */
	union sess_addr srv_addr;           /* %si:%sp */
	struct pp_hdr *pp;                  /* received PROXY header TLVs (accept-proxy) */
	const char *netns;                  /* namespace the connection arrived in: its
	                                     * bind line's (the session's generation
	                                     * reference keeps it), NULL: none */
	char *unique_id;                    /* %ID: received UNIQUE_ID, else unique-id-format */
	size_t unique_id_len;
	unsigned char *first;               /* first bytes the client sent (event log) */
	unsigned first_len, first_cap;
	struct mirror_sess *mirror;         /* non-NULL: copied for the IDS (core/mirror.h); every
	                                     * byte read must reach mirror_sess_read(), so a
	                                     * channel copies while mirror_sess_wants() it */
	uint8_t splice_later[2];            /* [0] req, [1] res: the splice mode a channel takes
	                                     * once the mirror (within mirror-depth) and the event
	                                     * log's first bytes no longer want its bytes;
	                                     * CHAN_COPY (0): none held */
	bool no_splice;                     /* the bytes must pass through user space
	                                     * (inspected or mirrored): never splice.
	                                     * Set with sess_no_splice() before the
	                                     * relay starts (doc/internals.md) */
	bool pp_local;                      /* the PROXY header said LOCAL (v2) or UNKNOWN (v1) */
	bool no_log;                        /* an error line was already logged instead */
	bool counted_srv;                   /* holds a slot in srv->cur_conn */
	bool counted_be;
	bool q_any;                         /* queued after its server's queue was full: any server */

	ev_timer timer;
	ev_tstamp t_accept, t_queue, t_connect_start;
	struct timeval accept_tv;
	long tw, tc;                /* ms, -1 = not reached */
	unsigned long long q_idx;   /* be->queue_idx when this session was queued */

	/* routing and inspection rules (core/sess_rules.c) */
	struct {
		struct smp_store *store;    /* captures and variables (NULL: none) */
		struct proxy *inspect_px;   /* whose content rules run (fe, then be) */
		struct server *force_srv;   /* chosen by use-server (NULL: balance) */
		ev_tstamp inspect_start;    /* when the current inspection began */
		/* protocol and TLS fingerprints for the event log, noted once
		 * at the end of inspection when the log is on (NULL: none) */
		struct smp_first_facts *facts;
		/* refused by `tcp-request connection`: 1 reject, 2 silent-drop;
		 * quiet: left out of the log and events (rate limit per
		 * attacker); skipped: refusals of this attacker left out
		 * before this one */
		uint8_t refused;
		bool refused_quiet;
		bool expect_proxy;          /* tcp-request connection expect-proxy layer4 */
		bool pp_rcvd;               /* a PROXY header was read (fc_rcvd_proxy) */
		unsigned refused_skipped;
	} rl;
};

/* Whether s is being inspected: its client bytes are held (s->req) until
 * the tcp-request content rules decide, and then relayed unchanged; no
 * server connection exists yet. Relay variants (splice) must leave such a
 * session's client side to the copy path; a mirror may record the bytes
 * from s->req once they are relayed. */
static inline bool sess_is_inspecting(const struct sess *s)
{
	return s->state == SST_INSPECT;
}

/* The default accept callback of listeners (listener_accept_fn): makes a
 * session of fd (non-blocking, now owned by the session, closed on any
 * failure) accepted on li from peer, and starts it: PROXY header first
 * with accept-proxy, then a server. */
void sess_accept(struct listener *li, int fd, const struct sockaddr_storage *peer);
/* s's bytes must be seen in user space from now on (an inspection phase,
 * a mirror): its channels copy instead of splicing. Call it before the
 * relay starts (at accept, or while rules run) so that no byte has been
 * spliced past the caller; calling it later stops splicing at the next
 * read (what a pipe holds then is still delivered, unseen). */
void sess_no_splice(struct sess *s);
/* Kill a session ("K" termination), e.g. `shutdown session` or hard stop:
 * closes, logs and frees it. */
void sess_kill(struct sess *s);
/* The same for a health check's verdict: s's server went DOWN ("D",
 * on-marked-down shutdown-sessions) or, s being on a backup server, an
 * active server came UP ("U", on-marked-up shutdown-backup-sessions). */
void sess_kill_srv_state(struct sess *s, bool srv_up);
/* Serves backend be's queue from the loop once the current callbacks are
 * done (a slot was freed, a server came up or was enabled): queued
 * sessions connect while its servers have free slots. Never re-enters a
 * caller. */
void sess_dequeue_later(struct proxy *be);

/* Frees the session objects kept for reuse by this thread (stop, tests). */
void sess_pool_trim(void);

/* Sessions per owner thread: each list is changed by its thread only;
 * another thread walks it only while T0 is isolated (core/thread.h). */
struct sess_thr {
	struct sess *list;
	unsigned count;             /* written by its thread (relaxed atomic) */
} __attribute__((aligned(64)));
extern struct sess_thr sess_thr[DP_MAX_THREADS];
/* The sessions of every thread (%ac without the stats clients). */
unsigned sess_count_get(void);
/* Every session of every thread: T0 isolated, or the thread alone. */
#define FOR_EACH_SESS(s)                                                        \
	for (unsigned sess_t_ = 0; sess_t_ < dp_nbthread; sess_t_++)            \
		for (struct sess *s = sess_thr[sess_t_].list; s; s = s->next)
extern _Thread_local unsigned long long sess_freed; /* sessions this thread freed since
                                       * start: tells a walker of its list whether a
                                       * call freed others too */

/* Kills, with ev's termination state, every session for which
 * match(s, key) is true, on every thread: those of the calling thread now,
 * the others' by a job posted to their owner (core/thread.h), which runs
 * them shortly. match only reads s (key is compared, never dereferenced by
 * the caller's rules). Returns how many the calling thread killed. */
unsigned sess_kill_where(bool (*match)(const struct sess *s, uintptr_t key), uintptr_t key,
			 enum term_event ev);
/* The same for the sessions whose ids are listed (sorted ascending). */
void sess_kill_ids(const unsigned long long *ids, size_t n, enum term_event ev);
/* Matchers for sess_kill_where(): by id, by server, the backup servers of
 * a backend, every session. */
bool sess_match_id(const struct sess *s, uintptr_t id);
bool sess_match_srv(const struct sess *s, uintptr_t srv);
bool sess_match_backup_of(const struct sess *s, uintptr_t be);
bool sess_match_all(const struct sess *s, uintptr_t unused);
/* The posted end of a session: the generation reference s held, given
 * back; the last one frees the generation on T0 (isolated). */
void sess_conf_put(struct dp_config *c);
extern unsigned long long sess_own_refused; /* connections refused at accept as the
                                             * proxy's own coming back (a loop); atomic
                                             * (RARE_INC/RARE_GET) */

#endif
