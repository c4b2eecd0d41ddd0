/* proxy.h — frontends, backends, listen and defaults sections. */
#ifndef DECOYPROXY_PROXY_H
#define DECOYPROXY_PROXY_H

#include <sys/socket.h>
#include "lib/common.h"
#include "cfg/cfg.h"
#include "log/log.h"
#include "model/source.h"
#include "model/chkrule.h"
#include "model/counters.h"

struct server;
struct bind_conf;
struct lf_expr;
struct sess;
struct tproxy_fe;
struct px_rules;
struct mirror_px;

enum {
	PR_CAP_FE  = 1 << 0,
	PR_CAP_BE  = 1 << 1,
	PR_CAP_DEF = 1 << 2,
};

enum { PR_MODE_TCP = 0, PR_MODE_HTTP = 1 };

/* `option httplog|httpslog` in effect (proxy->httplog): a TCP proxy falls
 * back to tcplog with HAProxy's warning at finalize. */
enum { PR_HTTPLOG_NONE = 0, PR_HTTPLOG_HTTP, PR_HTTPLOG_HTTPS };

/* option flags */
enum {
	PR_O_TCPLOG      = 1 << 0,
	PR_O_DONTLOGNULL = 1 << 1,
	PR_O_REDISPATCH  = 1 << 2,
	PR_O_LOGASAP     = 1 << 3,
	PR_O_NOLINGER_CL = 1 << 4,
	PR_O_NOLINGER_SV = 1 << 5,
	PR_O_KA_CL       = 1 << 6,
	PR_O_KA_SV       = 1 << 7,
	PR_O_SPLICE      = 1 << 8,
	PR_O_LOGERRSEP   = 1 << 9,
};

/* Proxy option bits of the health checks (core/chk.c). They live in proxy->options
 * so that defaults sections pass them on like every other option; they sit
 * at the top of the word, clear of proxy.h's PR_O_* bits. */
/* splice() options (core/channel.c), in either the frontend or the backend:
 * `option splice-request`, `option splice-response`, `option splice-auto` */
#define PR_O_SPLICE_REQ  (1u << 27)
#define PR_O_SPLICE_RES  (1u << 28)
#define PR_O_SPLICE_AUT  (1u << 29)
#define CHK_PXO_LOG      (1u << 30)  /* option log-health-checks */
#define CHK_PXO_TIMEOUT  (1u << 31)  /* `timeout check` set (non-zero) */
/* `option log-probes` (decoyproxy: probe events of a frontend with
 * `intercept`, plumbing/decoy.h) */
#define PR_O_LOGPROBES   (1u << 20)

enum {
	LB_ROUNDROBIN = 0,
	LB_STATIC_RR,
	LB_LEASTCONN,
	LB_FIRST,
	LB_SOURCE,
};

struct proxy_timeouts {
	long long connect, client, server, client_fin, server_fin, tunnel, queue;
	long long check;            /* `timeout check` (0: unset) */
};

/* A proxy's cumulative counters (see struct srv_counters). Every field an
 * unsigned long long: per-thread slots, model/counters.h. */
struct px_counters {
	unsigned long long cum_fe, cum_be;
	unsigned long long bytes_in, bytes_out;
};
struct px_counters_slot {
	struct px_counters v;
} __attribute__((aligned(CNT_LINE)));

struct proxy {
	struct proxy *next;
	char *name;                 /* NULL for an anonymous defaults section */
	unsigned cap;               /* PR_CAP_* */
	char *file; int line;       /* where the section starts */
	struct dp_config *conf;

	/* settings inherited from defaults */
	int mode;
	const char *mode_file;      /* where `mode` was set (a proxy's or a defaults
	                             * section's file, which lives as long as c) */
	int mode_line;              /* 0: never set (tcp by default) */
	unsigned http_opts;         /* HTTP-only options in effect (bits of
	                             * proxy_http_opts[]): ignored with HAProxy's
	                             * warning in a TCP proxy */
	int httplog;                /* PR_HTTPLOG_* */
	const char *httplog_file; int httplog_line;
	unsigned maxconn;           /* frontend: 0 = global maxconn */
	int retries;
	unsigned fullconn;          /* backend: `fullconn`, 0: HAProxy's default (srvdyn_finalize) */
	unsigned fe_maxconn_sum, fe_global_n;  /* frontends that may use it: their maxconn, those on the global one */
	struct proxy_timeouts to;
	unsigned options;
	unsigned options_set;       /* options explicitly given (with or without `no`) */
	int lbalgo;
	char *log_format;           /* NULL: default per option tcplog */
	struct lf_expr *lf;
	char *unique_id_fmt;        /* unique-id-format (%ID, PROXY v2 UNIQUE_ID TLV) */
	struct lf_expr *unique_id_lf;
	struct log_list logs;       /* own targets; `log global` adds the global ones */
	bool log_global;
	char *defbe_name; int defbe_line;
	struct src_conf source;     /* `source` (backend default for servers) */
	char *description;
	struct px_rules *rules;     /* acl, tcp-request, use_backend, use-server
	                             * (rules/rules.h); NULL: none */
	const struct proxy *defpx;  /* the defaults section it inherits from: the
	                             * latest one, or `from <name>` (a defaults
	                             * section: only with `from`); NULL: none */
	struct mirror_px *mirror;    /* `mirror` lines and `mirror-depth` (core/mirror_int.h);
	                             * shared with a defaults section until the proxy adds its own */

	/* frontend */
	struct bind_conf *binds, *binds_last;
	struct tproxy_fe *tproxy;   /* `intercept` decoy addresses (plumbing/tproxy_int.h) */
	struct proxy *defbe;        /* resolved default_backend */

	/* backend */
	struct server *srv, *srv_last;
	struct server *defsrv;      /* default-server template (NULL: none) */
	struct chk_conf chk;        /* option tcp-check/httpchk/redis-check and their rules */
	int srvstate_load;          /* load-server-state-from-file: SRVSTATE_* (model/srvstate.h) */
	char *srvstate_name;        /* server-state-file-name; NULL: the backend's name */
	unsigned nsrv;
	unsigned rr_pos;            /* static-rr cursor */
	/* the backend lock (core/sess_conn.c: be_lock): the balancing
	 * cursors (cur_eweight, rr_pos), taking a server slot, and the queue
	 * below; held for a few instructions, never across a session close */
	_Atomic int qlock;
	unsigned long lb_total_weight;
	struct sess *queue_head, *queue_tail;
	_Atomic unsigned nbpend;    /* sessions waiting in the backend queue (written
	                             * under qlock, read anywhere) */
	unsigned long long queue_idx; /* sessions taken out of that queue so far (%bq) */
	/* per thread: on that thread's list of backends to dequeue
	 * (core/sess.c), each slot written by its thread only */
	bool dq_pending[DP_MAX_THREADS];
	struct proxy *dq_next[DP_MAX_THREADS];

	/* counters */
	_Atomic unsigned feconn, beconn; /* every thread's sessions (frontend
	                             * maxconn: taken by compare-and-swap, core/loop.c) */
	struct px_counters_slot *cnt; /* DP_MAX_THREADS per-thread slots (CNT_ADD,
	                             * px_cnt_sum); carried across reloads */
	bool disabled;
};

/* px's counters summed over the threads (a reader's view). */
static inline struct px_counters px_cnt_sum(const struct proxy *px)
{
	struct px_counters r;

	cnt_sum(px->cnt, sizeof(px->cnt[0]), sizeof(r), &r);
	return r;
}

struct proxy *proxy_new(struct dp_config *c, const char *name, unsigned cap, const char *file, int line);
void proxy_free(struct proxy *px);
/* HTTP-only options that HAProxy accepts in any proxy and ignores with a
 * warning when the proxy is not in HTTP mode: their names (NULL-ended) and
 * the sides (PR_CAP_FE/PR_CAP_BE) where they apply. Bit i of
 * proxy->http_opts is entry i. */
struct proxy_http_opt {
	const char *name;
	unsigned cap;
};
extern const struct proxy_http_opt proxy_http_opts[];

/* Copy inheritable settings from a defaults section into px. */
int proxy_inherit(struct proxy *px, const struct proxy *def, char **err);
/* Default values of a fresh defaults section / proxy without defaults. */
void proxy_set_builtin_defaults(struct proxy *px);

/* The log format of px when it has no `log-format`: HAProxy's tcplog with
 * `option tcplog` (given in px or its defaults), else the decoy format
 * (LF_DECOYLOG_FMT) when px intercepts decoys or has a transparent bind,
 * else tcplog. */
const char *proxy_default_log_format(const struct proxy *px);

/* Effective timeouts on each side once connected (tunnel supersedes). */
long long proxy_cli_timeout(const struct proxy *fe, const struct proxy *be, bool established, bool half_closed);
long long proxy_srv_timeout(const struct proxy *be, bool established, bool half_closed);


/* Health checks (proxy_chk.c, rules in model/chkrule.c): `option
 * tcp-check|httpchk|redis-check` (CHKRULE_NOT_MINE for another option), the
 * `tcp-check`/`http-check` keywords, and the check of a backend's rules
 * once parsed (returns the number of errors, printed). */
int proxy_chk_option(struct cfg_ctx *ctx, int argc, char **argv, bool neg, char **err);
int proxy_chk_finalize(struct proxy *px);
extern const struct cfg_kw_list proxy_chk_kw_list;

/* The proxy (or defaults section) being parsed, for keyword handlers. */
static inline struct proxy *ctx_px(const struct cfg_ctx *ctx)
{
	return ctx->sec_data;
}

#endif
