/* sess_int.h — private to the session module's parts:
 *   sess.c       accepting, the copy loop, timeouts, the end of a session
 *   sess_conn.c  server choice, the backend queue, connect and retries
 *   sess_log.c   the log line, connection-error lines, -d lines
 *   sess_pp.c    the PROXY protocol (accept-proxy, send-proxy[-v2])
 *   sess_event.c the connection event of the JSON event log
 *   sess_rules.c tcp-request rules, inspection, use_backend, use-server
 * Nothing outside src/core/sess*.c includes it: core/sess.h is the module's
 * public face.
 */
#ifndef DECOYPROXY_SESS_INT_H
#define DECOYPROXY_SESS_INT_H

#include <ev.h>
#include "lib/common.h"
#include "lib/term.h"
#include "core/loop.h"
#include "core/thread.h"
#include "core/sess.h"
#include "log/msg.h"

struct log_sess;

/* The loop's time of the current iteration, and ms elapsed since t. */
static inline ev_tstamp sess_now(void)
{
	return ev_now(loop_cur());
}

/* The loop of the thread that owns s (accepted it): its watchers live
 * there. Only the owner changes them, or T0 once the other threads have
 * stopped (shutdown); another thread posts its request to the owner
 * (core/thread.h). */
static inline struct ev_loop *sess_loop(const struct sess *s)
{
	struct ev_loop *l = s->loop ? s->loop : loop_cur();

	if (l != th_loop)
		loop_touch(l);
	return l;
}

static inline long sess_ms_since(ev_tstamp t)
{
	return (long)((sess_now() - t) * 1000.0 + 0.5);
}

/* ---- sess.c ---- */

/* Ends the session because of ev, logs it and frees it. The termination
 * state (%ts) is term_compute(ev) in the session's current phase. */
void sess_close(struct sess *s, enum term_event ev);
/* Where s is, for term_compute(). */
struct term_snap sess_term_snap(const struct sess *s);
/* Client side ready (PROXY header consumed if any): pick a server, connect.
 * May free s. */
void sess_start(struct sess *s);
/* Re-arms the session timer after a state change. */
void sess_arm_timer(struct sess *s);
/* Recomputes which watchers must be active from the channel states. */
void sess_update_io(struct sess *s);
/* The server connection is established (state SST_EST, watchers set on its
 * fd): flushes what the client sent meanwhile and starts relaying. May
 * free s. */
void sess_relay_start(struct sess *s);
/* Sets how each channel moves bytes (copy, splice, splice-auto) from the
 * frontend's and backend's options, `nosplice`, and s->no_splice. */
void sess_choose_splice(struct sess *s);
/* Stops both watchers of a half. */
void sess_half_stop(struct sess *s, struct half *h);
/* Closes *fd (a reset when rst) and sets it to -1; no-op when already -1. */
void sess_close_fd(int *fd, bool rst);
/* SO_KEEPALIVE on fd when on (`option clitcpka` / `srvtcpka`). */
void sess_set_ka(int fd, bool on);
/* Watcher callbacks: the client side once any PROXY header is consumed, and
 * the server side (writability also reports the outcome of connect()). */
void sess_cli_read_cb(struct ev_loop *loop, ev_io *w, int revents);
void sess_srv_read_cb(struct ev_loop *loop, ev_io *w, int revents);
void sess_srv_write_cb(struct ev_loop *loop, ev_io *w, int revents);

/* ---- sess_conn.c ---- */

/* Chooses a server and connects, queues s in its backend, or closes it
 * (no backend, no server). May free s. */
void sess_assign(struct sess *s);
/* Starts queued sessions of backend be while its servers have free slots. */
void sess_dequeue(struct proxy *be);
/* Takes s out of its backend's queue (it is closing while queued): false.
 * true when another thread had already dequeued it (s holds a server
 * slot) and its posted start had not run: that start is cancelled. */
bool sess_unqueue(struct sess *s);
/* The queue's deadline of s expired: when another thread dequeued s and
 * its start had not run yet, s starts connecting now, as HAProxy looks at
 * the dequeue before the timeout; otherwise s leaves the queue and closes
 * (sQ). Decided under one hold of the backend's lock. */
void sess_queue_timeout(struct sess *s);
/* Gives back s's slot on its server, if it holds one; the backend's queue
 * is served later, from the loop (sess_dequeue_later). */
void sess_release_server_slot(struct sess *s);
/* Connects to s->srv (fresh socket, `source`, connect()). May free s. */
void sess_connect(struct sess *s);
/* connect() succeeded: starts the relay. May free s. */
void sess_connected(struct sess *s);
/* connect() failed with err (errno value; ETIMEDOUT for `timeout connect`):
 * retries, redispatches or closes. May free s. */
void sess_connect_failed(struct sess *s, int err);
/* Reads the source address of the server connection into s->bsrc_addr
 * (%bi:%bp); zero when there is none. */
void sess_fetch_bsrc(struct sess *s);
/* s->bsrc_addr as a sockaddr_storage (family 0: none). */
void sess_bsrc(const struct sess *s, struct sockaddr_storage *out);

/* ---- sess_log.c ---- */

/* Fills what a log-format can show about s so far. */
void sess_fill_log(const struct sess *s, struct log_sess *ls);
/* Sends s's line to its frontend's log targets, unless the frontend logs
 * nothing, `option dontlognull` applies or an error line was logged. */
void sess_log(struct sess *s);
/* `option logasap`: writes s's line now (the server connection is just
 * established) and none when s ends. No-op without the option. */
void sess_log_asap(struct sess *s);
/* Writes "ip:port [date] fe/bind: msg" to the frontend's log targets, the
 * way HAProxy reports connection-level errors, and skips the tcplog line. */
void sess_log_conn_error(struct sess *s, const char *msg);
/* -d: one "[DEBUG]" line per session event, prefixed with the session id
 * in hex as HAProxy does ("0000002a:"). Costs one branch when -d is off:
 * the arguments are not even evaluated. */
#define SESS_DEBUG(s, ...) do { if (__builtin_expect(dp_msg.debug != 0, 0)) sess_debug((s), __VA_ARGS__); } while (0)
void sess_debug(const struct sess *s, const char *fmt, ...) DP_PRINTF(2, 3);

/* ---- sess_event.c: the JSON event log (log/evlog.h) ---- */

/* The request channel got bytes, before of them came earlier: keeps the
 * first ones (up to event-log-first-bytes, decided at the first read) for
 * the connection event. */
void sess_keep_first(struct sess *s, uint64_t before);
/* Emits s's "connection" event when an event log is configured, and frees
 * the first bytes kept. Called once, when s closes. */
void sess_event(struct sess *s);

/* ---- sess_pp.c: accept-proxy and send-proxy[-v2] ---- */

/* Reads the PROXY header before anything else happens on s. */
void sess_pp_wait_header(struct sess *s);
/* Queues the PROXY header for the server in the request channel's prefix.
 * Returns 0, or -1 when the header cannot be built (session must fail). */
int sess_pp_prepare(struct sess *s);
/* Ms to wait for a PROXY header: timeout client, at least 3 s. */
long long sess_pp_timeout(const struct sess *s);
void sess_pp_free(struct sess *s);
/* Sets %ID: a received UNIQUE_ID, else the frontend's unique-id-format. */
void sess_set_unique_id(struct sess *s);

/* ---- sess_rules.c: tcp-request rules, use_backend, use-server ---- */

/* Runs the frontend's `tcp-request connection` rules at accept. Returns
 * 0 to go on, -1 when s was closed (reject, silent-drop: logged). */
int sess_rules_connection(struct sess *s);
/* After the PROXY header if any: content inspection, backend and server
 * choice, then sess_assign(). May free s. */
void sess_rules_start(struct sess *s);
/* New client bytes (or their end) during inspection. May free s. */
void sess_rules_data(struct sess *s);
/* The inspection delay expired: final pass. May free s. */
void sess_rules_expire(struct sess *s);
/* When the current inspection ends (0: none). */
ev_tstamp sess_rules_deadline(const struct sess *s);
/* The rules' view of s, for log formats (ls->smp_ctx): valid until the
 * next call on this thread. */
const void *sess_rules_view(const struct sess *s);
void sess_rules_free(struct sess *s);

#endif
