/* server.h — `server` lines of a backend: address rules, options, state. */
#ifndef DECOYPROXY_SERVER_H
#define DECOYPROXY_SERVER_H

#include <sys/socket.h>
#include "lib/common.h"
#include "lib/job.h"
#include "model/counters.h"
#include "model/source.h"

struct proxy;
struct cfg_ctx;

enum {
	SRV_PORT_FIXED = 0,    /* addr:port */
	SRV_PORT_SAME,         /* no port: the port the client connected to */
	SRV_PORT_OFFSET,       /* +N / -N: offset from the client's destination port */
};

enum {
	SRV_F_DISABLED   = 1 << 0,
	SRV_F_BACKUP     = 1 << 1,
	SRV_F_ADDR_ORIG  = 1 << 2, /* 0.0.0.0 / * : the client's original destination */
	SRV_F_SEND_PROXY = 1 << 3, /* send-proxy (v1) */
	SRV_F_SEND_PROXY_V2 = 1 << 4,
};

enum { SRV_ADMIN_READY = 0, SRV_ADMIN_DRAIN, SRV_ADMIN_MAINT };

/* observe (HAProxy's modes; layer7 is refused: no HTTP proxies) */
enum { SRV_OBS_NONE = 0, SRV_OBS_LAYER4 };
/* on-error; fail-check is HAProxy's default */
enum { SRV_ONERR_FAILCHK = 0, SRV_ONERR_FASTINTER, SRV_ONERR_SUDDTH, SRV_ONERR_MARKDWN };
#define SRV_ERROR_LIMIT_DEF 10

/* proxy-v2-options */
enum {
	SRV_PP_CRC32C    = 1 << 0,
	SRV_PP_UNIQUE_ID = 1 << 1,
	SRV_PP_AUTHORITY = 1 << 2,
};

struct lf_expr;

/* set-proxy-v2-tlv-fmt(<type>) <fmt>: a custom TLV rendered per connection */
struct srv_tlv {
	uint8_t type;
	char *fmt;
	struct lf_expr *lf;
};

/* A server's cumulative counters: a reload carries them over to the
 * server of the same name in one copy (every thread's slot), so a new
 * counter is never forgotten there. Every field an unsigned long long:
 * per-thread slots, model/counters.h. */
struct srv_counters {
	unsigned long long cum_conn;
	unsigned long long bytes_in, bytes_out;
	unsigned long long failed_conns, retries, redispatches;
	unsigned long long usesrc_client_collisions;
	unsigned long long chk_failed, chk_down_transitions;
};
struct srv_counters_slot {
	struct srv_counters v;
} __attribute__((aligned(CNT_LINE)));

/* init-addr methods, tried in the order written (HAProxy's) */
enum { SRV_IADDR_END = 0, SRV_IADDR_LAST, SRV_IADDR_LIBC, SRV_IADDR_NONE, SRV_IADDR_IP };
#define SRV_IADDR_MAX 4

struct server {
	struct server *next;
	struct proxy *px;
	char *name;
	char *file; int line;
	struct sockaddr_storage addr;    /* port set when SRV_PORT_FIXED */
	int port_mode;
	int port_offset;
	unsigned flags;
	unsigned weight;                 /* 0..256, default 1 */
	unsigned iweight;                /* the configured weight (the agent and the state file change weight) */
	unsigned maxconn;                /* 0 = unlimited */
	unsigned pp_opts;                /* proxy-v2-options: SRV_PP_* */
	struct srv_tlv *tlvs;            /* set-proxy-v2-tlv-fmt */
	size_t ntlvs;
	struct src_conf source;
	char *netns;                     /* `namespace <name>` */

	/* health checks (chk.c) */
	struct chk *chk;                 /* NULL: no `check` */
	bool check;                      /* `check` given */
	bool chk_send_proxy;             /* check-send-proxy */
	long long chk_inter, chk_fastinter, chk_downinter;  /* ms */
	unsigned chk_rise, chk_fall;
	int chk_port;                    /* 0: the server's port */
	struct sockaddr_storage chk_addr;  /* family 0: the server's address */
	bool chk_up;                     /* operational state (true without checks) */
	unsigned chk_health;             /* 0 .. rise+fall-1; up when >= rise */
	char chk_last[96];               /* last check result, for messages/stats */
	char chk_st[8];                  /* its status code ("L7OK", "L4CON"...), for show stat */
	int chk_code;                    /* its layer-7 code (HTTP status), 0: none */
	long chk_dur;                    /* its duration (ms) */
	bool on_down_shutdown;           /* on-marked-down shutdown-sessions */
	/* init-addr: the methods in order (SRV_IADDR_*, 0 ends the list) */
	unsigned char init_addr[SRV_IADDR_MAX];
	struct sockaddr_storage init_addr_ip;  /* the list's <ip> */
	bool addr_last;                  /* a hostname whose list names 'last' before the method that gave
	                                  * its address: the server-state file's address wins */
	bool rmaint;                     /* no address (init-addr none): maintenance until one is set */
	bool rmaint_warn;                /* say so once the server-state file is read (srvstate_finalize) */
	bool need_last;                  /* no method gave an address but 'last' may: the file must */
	char *host;                      /* its host name, for those messages */
	/* agent-check (core/chk_agent.c) */
	struct chk_agent *agent;         /* NULL: no agent check running */
	bool agent_check;                /* `agent-check` given */
	int agent_port;                  /* agent-port; 0: none */
	long long agent_inter;           /* agent-inter (ms), default 2000 */
	char *agent_send;                /* agent-send: sent once connected */
	struct sockaddr_storage agent_addr;  /* agent-addr; family 0: the server's address */
	char agent_st[8];                /* last agent status ("L7OK"...), for show stat */
	char agent_last[96];             /* its text */
	long agent_dur;                  /* its duration (ms) */
	bool on_up_shutdown_backup;      /* on-marked-up shutdown-backup-sessions */
	/* dynamic limits, live-traffic observation, tracking (core/srvdyn.c) */
	long long slowstart;             /* ms; 0: none */
	unsigned minconn;                /* 0: static maxconn */
	unsigned maxqueue;               /* sessions waiting for this server; 0: unlimited */
	int observe;                     /* SRV_OBS_* */
	int on_error;                    /* SRV_ONERR_* */
	unsigned error_limit;            /* consecutive errors that trigger on_error (default 10) */
	char *trackit;                   /* `track [<backend>/]<server>` as written */
	struct server *track;            /* resolved by srvdyn_finalize(); no own check */
	struct server *trackers, *tracknext;  /* servers tracking this one */
	bool tfo;                        /* TCP Fast Open toward the server */

	/* runtime */
	int admin;                       /* SRV_ADMIN_* */
	_Atomic unsigned cur_conn;       /* established or connecting (taken under the
	                                  * backend lock, given back by any thread) */
	long cur_eweight;                /* smooth weighted round robin (backend lock) */
	struct srv_counters_slot *cnt;   /* DP_MAX_THREADS per-thread slots (CNT_ADD,
	                                  * srv_cnt_sum); carried across reloads */
	double last_change;              /* monotonic time of the last operational change (0: start) */
	bool warming;                    /* came up by a check, slowstart ramp running */
	_Atomic unsigned obs_errors;     /* consecutive connection errors seen on live traffic */
	_Atomic bool obs_pending;        /* on-error queued for T0 (core/chk_obs.c) */
	struct server *obs_next;         /* in that queue (core/chk_obs.c) */
	struct thread_job obs_job;       /* a worker's report posted to T0 (no allocation) */
	_Atomic unsigned nbpend;         /* sessions of the backend queue bound to this server
	                                  * (written under the backend lock) */
};

/* s's counters summed over the threads (a reader's view). */
static inline struct srv_counters srv_cnt_sum(const struct server *s)
{
	struct srv_counters r;

	cnt_sum(s->cnt, sizeof(s->cnt[0]), sizeof(r), &r);
	return r;
}

/* Parses "server <name> <addr> [options...]" (argv[0] == "server") into a
 * new server (*out, owned by the caller, which links it to its proxy),
 * starting from the options of defsrv (NULL: built-in defaults). Returns
 * CFG_OK or CFG_ERR with *err. */
int server_parse(struct cfg_ctx *ctx, int argc, char **argv, const struct server *defsrv, struct server **out,
		 char **err);
void server_free(struct server *s);
/* "default-server [options...]": creates *defsrv on first use, then
 * applies the options to it. Returns CFG_OK or CFG_ERR with *err. */
int server_parse_default(struct cfg_ctx *ctx, int argc, char **argv, struct server **defsrv, char **err);
int server_copy_options(struct server *dst, const struct server *src);

/* Compute the destination for a session: client's original destination
 * `orig` (the frontend address) gives the port (and the address with
 * SRV_F_ADDR_ORIG). Returns 0 or -EAFNOSUPPORT. */
int server_target(const struct server *s, const struct sockaddr_storage *orig, struct sockaddr_storage *out);

/* May s take new sessions now: not disabled, administratively ready and
 * up as far as health checks tell. */
bool server_usable(const struct server *s);

/* In maintenance: declared `disabled` or set to SRV_ADMIN_MAINT. */
bool server_in_maint(const struct server *s);

/* Sets the administrative state of s (SRV_ADMIN_*), as the CLI's
 * `disable|enable server` and `set server ... state` do. Ready also brings
 * up a server declared `disabled`, as HAProxy's `enable server` does.
 * Changes no counter and touches no session: returns true when s became
 * ready, so that the caller lets queued sessions try it (the dequeue is
 * the session layer's, above this one). */
bool server_set_admin(struct server *s, int admin);

#endif
