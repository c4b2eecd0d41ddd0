/* chk.h — TCP health checks of servers (`check`, `inter`, `rise`, `fall`,
 * `timeout check`, `option log-health-checks`). */
#ifndef DECOYPROXY_CHK_H
#define DECOYPROXY_CHK_H

#include <stddef.h>
#include "model/conf.h"
#include "model/proxy.h"

struct server;

/* Result of one check, as HAProxy names it (HCHK_STATUS_*). */
enum chk_status {
	CHK_ST_NONE = 0,    /* no check has run yet */
	CHK_ST_SOCKERR,     /* "Socket error": the check socket could not be made */
	CHK_ST_L4OK,        /* "Layer4 check passed" */
	CHK_ST_L4TOUT,      /* "Layer4 timeout" */
	CHK_ST_L4CON,       /* "Layer4 connection problem" (refused, unreachable, ...) */
	CHK_ST_L7OK,        /* "Layer7 check passed" */
	CHK_ST_L7RSP,       /* "Layer7 invalid response" */
	CHK_ST_L7STS,       /* "Layer7 wrong status" */
	CHK_ST_L7TOUT,      /* "Layer7 timeout" */
	CHK_ST_L6OK,        /* "Layer6 check passed" (ssl-hello-chk) */
	CHK_ST_L6RSP,       /* "Layer6 invalid response" */
	CHK_ST_L6TOUT,      /* "Layer6 timeout" */
	CHK_ST_HANA,        /* "Health analyze": on-error, live traffic (chk_obs.c) */
};

/* Starts the checks of every `check` server of c (staggered over the first
 * interval). Returns 0 or -ENOMEM. */
int chk_start(struct dp_config *c);
/* Stops and frees c's checks (reload: the old generation; stop). */
void chk_stop(struct dp_config *c);

/* The agent check of s (chk_agent.c), when it has `agent-check`: the first
 * one in `first` seconds (0: agent-inter). 0 or -ENOMEM. */
int chk_agent_start(struct server *s, double first);
void chk_agent_stop(struct server *s);

/* The pure parts of a check, exposed for the unit tests. */

/* How long one check of s may take to connect (ms). As HAProxy: `inter`;
 * when the backend has `timeout check` and `timeout connect`,
 * min(inter, timeout connect). Once connected, a protocol check's whole
 * conversation is bounded by chk_l7_timeout_ms(). */
long long chk_conn_timeout_ms(const struct server *s);
/* How long the conversation of a protocol check may take once connected:
 * `timeout check`, else `inter` (HAProxy's read timeout of a check). */
long long chk_l7_timeout_ms(const struct server *s);

/* HAProxy's spread-checks: the interval ms moved by a random amount within
 * +/- pct percent of it, rnd being a random number. pct 0 returns ms. */
long long chk_spread_ms(long long ms, unsigned pct, unsigned rnd);

/* The time over which the first checks are spread: the check interval,
 * bounded by max-spread-checks (0: no bound). */
long long chk_first_spread_ms(long long inter, long long max_spread);

/* HAProxy's rise/fall counter, one check result: health moves by one, jumps
 * to rise+fall-1 once it reaches rise and to 0 once it drops below rise;
 * *up follows it, a failure counts in *failed and an UP->DOWN in *downs.
 * Returns whether health changed. Shared by servers and udp-lb servers. */
bool chk_health_step(unsigned *health, bool *up, unsigned rise, unsigned fall, bool ok,
		     unsigned long long *failed, unsigned long long *downs);

/* Applies one check result to s's health, with HAProxy's rules: a success
 * below full health adds one and, from `rise` on, restores full health
 * (rise + fall - 1); a failure above 0 counts in chk_failed, takes one off
 * and, below `rise`, drops to 0. The server goes UP at `rise` and DOWN at 0.
 * Returns true when the health changed. */
bool chk_apply(struct server *s, bool ok);

/* After s's health was changed by a check or an agent (was_up: its state
 * before): when it went UP or DOWN, logs HAProxy's "Server be/s is DOWN,
 * reason: ..." line (and the "no server available" alert), applies the
 * on-marked-down/up actions and lets queued sessions try a server that came
 * up. */
void chk_transition(struct server *s, bool was_up, enum chk_status st, int code, const char *info, long ms);

/* s's operational state just changed (check or agent): applies
 * on-marked-down shutdown-sessions and on-marked-up
 * shutdown-backup-sessions. */
void chk_server_changed(struct server *s);

/* HAProxy's text for a status ("Layer4 timeout"). */
const char *chk_status_str(enum chk_status st);
/* HAProxy's short name for a status, as `show stat` prints it ("L4TOUT"). */
const char *chk_status_name(enum chk_status st);

/* Formats HAProxy's `option log-health-checks` line for the result just
 * applied to s, e.g. "Health check for server be/a failed, reason: Layer4
 * connection problem, info: "Connection refused", check duration: 0ms,
 * status: 2/3 UP" (no final period). info may be NULL. Returns the length
 * snprintf() would write. */
int chk_health_msg(char *buf, size_t cap, const struct server *s, bool ok, enum chk_status st,
		   const char *info, long ms);
/* The same with a layer-7 code (", code: 200" after the reason; 0: none). */
int chk_health_msg_code(char *buf, size_t cap, const struct server *s, bool ok, enum chk_status st,
			int code, const char *info, long ms);

/* `observe layer4`: a connection to s on live traffic succeeded (ok) or
 * failed. error-limit consecutive failures trigger s's on-error action
 * (fastinter, fail-check, sudden-death, mark-down) as HAProxy does, with
 * the check status HANA ("Health analyze"). No-op unless s observes. */
void chk_observe_l4(struct server *s, bool ok);

#endif
