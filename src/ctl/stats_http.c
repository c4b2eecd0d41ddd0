/* stats_http.c — the statistics page's clients: a small, strict HTTP/1.1
 * responder on the bind lines of the statistics proxies.
 *
 * A client reads one request head (at most STATS_HEAD_MAX bytes, parsed by
 * lib/httpreq.c, which refuses anything ambiguous) and its body (only for
 * the admin form, at most STATS_BODY_MAX bytes), answers it, and reads the
 * next one only once that answer is written: pipelined requests are served
 * in order and a reader that does not keep up stops the reading. A
 * connection serves at most STATS_MAX_REQS requests (keep-alive for
 * HTTP/1.1 unless "Connection: close", for HTTP/1.0 only when asked).
 * The proxy's `timeout client` (default STATS_DEFAULT_TIMEOUT_MS) bounds
 * the time without progress: a request head and body arriving, or an
 * answer being written completely; a slow client is closed (with 408 when
 * it was in the middle of a request). A refused request is answered with
 * its status (400, 408, 413, 501, 505) and "Connection: close", the
 * connection is closed, and one warning line names the client (rate
 * limited).
 *
 * What is answered, in HAProxy's order: the Prometheus exporter on its
 * path (no authentication, as an `http-request use-service` rule runs
 * before the stats page in HAProxy); the stats page under its URI prefix,
 * behind `stats auth`; anything else 503, as HAProxy answers on a proxy
 * without a server.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <ev.h>

#include "lib/addr.h"
#include "lib/httpreq.h"
#include "log/msg.h"
#include "model/bind.h"
#include "model/conf.h"
#include "model/proxy.h"
#include "core/listener.h"
#include "core/loop.h"
#include "core/sess.h"
#include "core/thread.h"
#include "ctl/cli.h"
#include "ctl/stats_http.h"
#include "ctl/stats_http_int.h"

#define STATS_HEAD_MAX            8192
#define STATS_BODY_MAX            4096
#define STATS_MAX_REQS            100
#define STATS_MAX_CLIENTS         256
#define STATS_DEFAULT_TIMEOUT_MS  10000
#define STATS_WRITE_BURST         16
#define STATS_DRAIN_MAX           (64u << 10)  /* bytes read after the answer, at most */
#define STATS_DRAIN_SECS          1.0          /* and for at most this long */

struct stats_client {
	struct stats_client *prev, *next;
	int fd;
	ev_io rio, wio;
	ev_timer timer;
	struct dp_config *conf;     /* a reference: the generation it came in */
	struct proxy *px;
	struct listener *li;
	const struct stats_px *sp;
	struct sockaddr_storage peer;
	double timeout;             /* seconds */
	ev_tstamp last_act;
	unsigned nreq;
	bool closing;               /* close once the answer is written */
	bool draining;              /* answer written, write side shut: reading
	                             * and dropping what the client still sends
	                             * (a lingering close: closing with unread
	                             * bytes would reset the connection, and the
	                             * answer with it) */
	size_t drained;
	bool rd_eof;
	struct cli_buf out;
	size_t out_off;
	size_t in_len;
	char in[STATS_HEAD_MAX + STATS_BODY_MAX];
};

static struct stats_client *clients;
static unsigned nb_clients;

unsigned stats_http_count(void)
{
	return nb_clients;
}

static void io_want(ev_io *w, bool want)
{
	if (want && !ev_is_active(w))
		ev_io_start(rt.loop, w);
	else if (!want && ev_is_active(w))
		ev_io_stop(rt.loop, w);
}

static size_t pending(const struct stats_client *c)
{
	return c->out.len - c->out_off;
}

static void client_free(struct stats_client *c)
{
	ev_io_stop(rt.loop, &c->rio);
	ev_io_stop(rt.loop, &c->wio);
	ev_timer_stop(rt.loop, &c->timer);
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	nb_clients--;
	c->px->feconn--;
	c->li->nbconn--;
	cli_buf_reset(&c->out);
	sess_conf_put(c->conf); /* the last reference: freed isolated */
	free(c);
	listeners_update(); /* the frontend may accept again */
}

/* ---- answers ------------------------------------------------------------------ */

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 303: return "See Other";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 413: return "Payload Too Large";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}

/* Appends a complete answer: status line, headers (extra: more header
 * lines, each ending in CRLF), and the body unless head_only. */
static void respond(struct stats_client *c, int status, const char *ctype, const char *extra, const char *body,
		    size_t blen, bool head_only)
{
	cli_printf(&c->out,
		   "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nCache-Control: no-cache\r\n"
		   "X-Content-Type-Options: nosniff\r\nConnection: %s\r\n%s\r\n",
		   status, reason(status), ctype, blen, c->closing ? "close" : "keep-alive", extra ? extra : "");
	if (!head_only && blen)
		cli_put(&c->out, body, blen);
}

/* A short text answer: errors, 401, 503. */
static void respond_text(struct stats_client *c, int status, const char *extra, const char *msg, bool head_only)
{
	char body[256];
	int n = snprintf(body, sizeof(body), "<html><body><h1>%d %s</h1>\n%s\n</body></html>\n", status,
			 reason(status), msg);

	respond(c, status, "text/html", extra, body, (size_t)n, head_only);
}

/* Refused requests are logged, at most STATS_LOG_BURST lines a second:
 * a flood of hostile requests must not become a flood of log lines. */
#define STATS_LOG_BURST 20
static double refused_window;
static unsigned refused_in_window, refused_suppressed;

/* A request that cannot be served: answered, then the connection closes. */
static void refuse(struct stats_client *c, int status, const char *why)
{
	char a[INET6_ADDRSTRLEN + 8];
	ev_tstamp now = ev_now(rt.loop);

	c->closing = true;
	respond_text(c, status, NULL, why, false);
	if (now - refused_window >= 1.0) {
		refused_window = now;
		refused_in_window = 0;
	}
	if (++refused_in_window > STATS_LOG_BURST) {
		refused_suppressed++;
		return;
	}
	addr_str(&c->peer, a, sizeof(a));
	if (refused_suppressed)
		ha_warning("stats page '%s': request from %s refused: %d %s (%s); connection closed (%u more refused requests not logged)",
			   c->px->name, a, status, reason(status), why, refused_suppressed);
	else
		ha_warning("stats page '%s': request from %s refused: %d %s (%s); connection closed", c->px->name, a,
			   status, reason(status), why);
	refused_suppressed = 0;
}

/* ---- the request ------------------------------------------------------------------ */

static bool peer_is_local(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
	if (ss->ss_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;

		if (IN6_IS_ADDR_LOOPBACK(a))
			return true;
		return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
	}
	return false;
}

static bool may_admin(const struct stats_client *c)
{
	bool v;

	switch (c->sp->admin_cond) {
	case STATS_COND_TRUE: v = true; break;
	case STATS_COND_FALSE: v = false; break;
	case STATS_COND_LOCALHOST: v = peer_is_local(&c->peer); break;
	default: return false;
	}
	return c->sp->admin_unless ? !v : v;
}

/* Basic credentials against `stats auth`; true without `stats auth`. */
static bool authorized(const struct stats_client *c, const struct http_req *r)
{
	char buf[512];
	const char *pass;
	bool ok = false;

	if (!c->sp->users)
		return true;
	if (!r->authorization.p || http_basic_decode(r->authorization, buf, sizeof(buf), &pass) < 0)
		return false;
	/* every account is compared, in time independent of which matched */
	for (const struct stats_user *u = c->sp->users; u; u = u->next)
		ok |= http_secret_eq(buf, u->user) & http_secret_eq(pass, u->pass);
	return ok;
}

/* HAProxy's name characters: what may go into a CLI command unquoted. */
static bool valid_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      strchr("-_.:#", *s)))
			return false;
	return true;
}

/* The admin form (HAProxy's fields: b=<backend or #iid>, s=<server>...,
 * action=<ready|drain|maint|shutdown>): runs the same commands as the CLI
 * at admin level. Returns HAProxy's status word for the redirect. */
static const char *admin_post(const char *body, size_t len)
{
	char name[32], val[128], be[128] = "", action[32] = "", cmd[320];
	char srv[32][128];
	unsigned nsrv = 0, done = 0;
	size_t pos = 0;
	int f;

	while ((f = http_form_next(body, len, &pos, name, sizeof(name), val, sizeof(val))) == 1) {
		if (!strcmp(name, "b"))
			snprintf(be, sizeof(be), "%s", val);
		else if (!strcmp(name, "action"))
			snprintf(action, sizeof(action), "%s", val);
		else if (!strcmp(name, "s")) {
			if (nsrv == ARRAY_SIZE(srv))
				return "EXCD";
			snprintf(srv[nsrv++], sizeof(srv[0]), "%s", val);
		}
	}
	if (f < 0 || !valid_name(be) || !*action)
		return "ERRP";
	if (!nsrv)
		return "NONE";
	if (strcmp(action, "ready") && strcmp(action, "drain") && strcmp(action, "maint") && strcmp(action, "shutdown"))
		return "UNKN";
	for (unsigned i = 0; i < nsrv; i++) {
		struct cli_ctx cx = { .level = CLI_LVL_ADMIN };
		struct cli_buf out = { 0 };

		if (!valid_name(srv[i]))
			return "ERRP";
		if (!strcmp(action, "shutdown"))
			snprintf(cmd, sizeof(cmd), "shutdown sessions server %s/%s", be, srv[i]);
		else
			snprintf(cmd, sizeof(cmd), "set server %s/%s state %s", be, srv[i], action);
		cli_exec_line(&cx, cmd, &out);
		/* a command that worked answers the empty line alone */
		done += out.len == 1;
		cli_buf_reset(&out);
	}
	return done == nsrv ? "DONE" : done ? "PART" : "ERRP";
}

/* The stats URI's options after the prefix: ;csv ;up ;norefresh ;st=X.
 * Returns false for an option decoyproxy does not serve (answered). */
static bool stats_options(struct stats_client *c, const char *opt, size_t n, struct stats_view *v, bool *csv,
			  char *st, size_t stcap)
{
	for (size_t i = 0; i < n; i++) {
		size_t k;

		if (opt[i] != ';')
			continue;
		for (k = i + 1; k < n && opt[k] != ';'; k++)
			;
		if (k - i - 1 == 3 && !memcmp(opt + i + 1, "csv", 3))
			*csv = true;
		else if (k - i - 1 == 2 && !memcmp(opt + i + 1, "up", 2))
			v->up_only = true;
		else if (k - i - 1 == 9 && !memcmp(opt + i + 1, "norefresh", 9))
			v->norefresh = true;
		else if (k - i - 1 > 3 && !memcmp(opt + i + 1, "st=", 3))
			snprintf(st, stcap, "%.*s", (int)(k - i - 4 < 8 ? k - i - 4 : 8), opt + i + 4);
		else if ((k - i - 1 == 4 && !memcmp(opt + i + 1, "json", 4)) ||
			 (k - i - 1 == 5 && !memcmp(opt + i + 1, "typed", 5))) {
			refuse(c, 501, "the ;json and ;typed formats are not yet supported (use ;csv or the Prometheus exporter)");
			return false;
		}
		i = k - 1;
	}
	return true;
}

static void serve_stats(struct stats_client *c, const struct http_req *r, const char *body, size_t blen)
{
	const struct stats_px *sp = c->sp;
	const char *uri = sp->uri ? sp->uri : STATS_DEFAULT_URI;
	size_t ulen = strlen(uri);
	bool head = http_str_ieq(r->meth, "HEAD"), csv = false;
	struct stats_view v = { .sp = sp, .admin = may_admin(c) };
	struct cli_buf page = { 0 };
	char st[16] = "", base[512];

	if (!authorized(c, r)) {
		char hdr[256];

		snprintf(hdr, sizeof(hdr), "WWW-Authenticate: Basic realm=\"%s\"\r\n",
			 sp->realm ? sp->realm : STATS_DEFAULT_REALM);
		respond_text(c, 401, hdr, "You need a valid user and password to access this content.", head);
		return;
	}
	/* the base URL of the page's own links: the prefix, and what follows
	 * it up to the options (HAProxy's default prefix holds a '?') */
	{
		size_t n = ulen;

		while (n < r->target.len && r->target.p[n] != ';')
			n++;
		if (n >= sizeof(base)) {
			refuse(c, 400, "the stats URI is too long");
			return;
		}
		memcpy(base, r->target.p, n);
		base[n] = '\0';
		v.base = base;
		if (!stats_options(c, r->target.p + n, r->target.len - n, &v, &csv, st, sizeof(st)))
			return;
	}
	if (http_str_ieq(r->meth, "POST")) {
		char loc[640];
		const char *res = v.admin ? admin_post(body, blen) : "DENY";

		snprintf(loc, sizeof(loc), "Location: %s;st=%s\r\n", base, res);
		respond_text(c, 303, loc, "See the page.", false);
		return;
	}
	if (csv) {
		cli_stat_csv(&page, v.up_only);
		respond(c, 200, "text/plain; charset=utf-8", NULL, page.data, page.len, head);
	} else {
		v.done = st[0] ? st : NULL;
		stats_page_html(&page, &v);
		respond(c, 200, "text/html; charset=utf-8",
			"Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'\r\n"
			"X-Frame-Options: DENY\r\n",
			page.data, page.len, head);
	}
	cli_buf_reset(&page);
}

static bool path_is(const struct http_req *r, const char *path)
{
	size_t n = 0;

	while (n < r->target.len && r->target.p[n] != '?')
		n++;
	return n == strlen(path) && !memcmp(r->target.p, path, n);
}

static void serve_isolated(struct stats_client *c, const struct http_req *r, const char *body, size_t blen);

/* the page, CSV and metrics read servers and proxies every thread's
 * sessions change, and POST actions change them: rendered with the other
 * threads parked (core/thread.h) */
static void serve(struct stats_client *c, const struct http_req *r, const char *body, size_t blen)
{
	thread_isolate();
	serve_isolated(c, r, body, blen);
	thread_release();
}

static void serve_isolated(struct stats_client *c, const struct http_req *r, const char *body, size_t blen)
{
	const struct stats_px *sp = c->sp;
	const char *uri = sp->uri ? sp->uri : STATS_DEFAULT_URI;
	bool get = http_str_ieq(r->meth, "GET"), head = http_str_ieq(r->meth, "HEAD");

	if (!get && !head && !http_str_ieq(r->meth, "POST")) {
		c->closing = true;
		respond_text(c, 405, "Allow: GET, HEAD, POST\r\n", "Method not allowed.", false);
		return;
	}
	if (sp->prom && (sp->prom_all || path_is(r, sp->prom_path))) {
		struct cli_buf m = { 0 };

		if (!get && !head) {
			c->closing = true;
			respond_text(c, 405, "Allow: GET, HEAD\r\n", "Method not allowed.", false);
			return;
		}
		stats_page_metrics(&m);
		respond(c, 200, "text/plain; version=0.0.4; charset=utf-8", NULL, m.data, m.len, head);
		cli_buf_reset(&m);
		return;
	}
	if (sp->enabled && r->target.len >= strlen(uri) && !memcmp(r->target.p, uri, strlen(uri))) {
		serve_stats(c, r, body, blen);
		return;
	}
	respond_text(c, 503, NULL, "No server is available to handle this request.", head);
}

/* Serves the next complete request of in[], if any. Returns false when
 * there is none yet. */
static bool client_step(struct stats_client *c)
{
	struct http_req r;
	int n = http_req_parse(c->in, c->in_len, STATS_HEAD_MAX, &r);
	size_t total;

	if (n == 0)
		return false;
	if (n < 0) {
		static const char *const why[] = { [0] = "malformed or ambiguous request", [1] = "request head too large",
						   [2] = "Transfer-Encoding is not accepted", [3] = "only HTTP/1.0 and HTTP/1.1" };
		int st = -n;

		refuse(c, st, why[st == 413 ? 1 : st == 501 ? 2 : st == 505 ? 3 : 0]);
		return true;
	}
	if (r.clen > STATS_BODY_MAX) {
		refuse(c, 413, "request body too large");
		return true;
	}
	total = (size_t)n + (size_t)r.clen;
	if (c->in_len < total)
		return false;
	c->nreq++;
	c->last_act = ev_now(rt.loop);
	if (!r.keep_alive || c->nreq >= STATS_MAX_REQS || c->rd_eof)
		c->closing = true;
	serve(c, &r, c->in + n, (size_t)r.clen);
	memmove(c->in, c->in + total, c->in_len - total);
	c->in_len -= total;
	return true;
}

static int client_write(struct stats_client *c)
{
	for (int i = 0; i < STATS_WRITE_BURST && pending(c); i++) {
		ssize_t n = send(c->fd, c->out.data + c->out_off, pending(c), MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			c->out_off += (size_t)n;
			CNT_ADD(c->px, bytes_out, (unsigned long long)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		return -1;
	}
	if (!pending(c)) {
		cli_buf_reset(&c->out);
		c->out_off = 0;
		c->last_act = ev_now(rt.loop);
	}
	return 0;
}

/* Writes what is pending; once everything is written, serves the next
 * buffered request or closes. */
static void client_run(struct stats_client *c)
{
	for (int round = 0; round < STATS_MAX_REQS + 2; round++) {
		if (pending(c) && client_write(c) < 0) {
			client_free(c);
			return;
		}
		if (pending(c))
			break;
		if (c->closing) {
			/* the answer is out: say no more, then close once the
			 * client has stopped sending (or after a bound) */
			if (c->rd_eof) {
				client_free(c);
				return;
			}
			if (!c->draining) {
				shutdown(c->fd, SHUT_WR);
				c->draining = true;
				c->last_act = ev_now(rt.loop);
				c->timeout = STATS_DRAIN_SECS;
				ev_timer_stop(rt.loop, &c->timer);
				ev_timer_set(&c->timer, STATS_DRAIN_SECS, 0.0);
				ev_timer_start(rt.loop, &c->timer);
			}
			io_want(&c->rio, true);
			io_want(&c->wio, false);
			return;
		}
		if (!client_step(c)) {
			if (c->rd_eof) {
				client_free(c);
				return;
			}
			break;
		}
	}
	io_want(&c->rio, !c->closing && !c->rd_eof && !pending(c) && c->in_len < sizeof(c->in));
	io_want(&c->wio, pending(c) > 0);
}

static void client_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct stats_client *c = container_of(w, struct stats_client, rio);
	ssize_t n;

	(void)loop;
	(void)revents;
	if (c->draining) {
		char scratch[4096];

		n = recv(c->fd, scratch, sizeof(scratch), 0);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		if (n <= 0 || (c->drained += (size_t)n) > STATS_DRAIN_MAX)
			client_free(c);
		return;
	}
	n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);
	if (n > 0) {
		c->in_len += (size_t)n;
		CNT_ADD(c->px, bytes_in, (unsigned long long)n);
	} else if (n == 0)
		c->rd_eof = true;
	else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return;
	else {
		client_free(c);
		return;
	}
	client_run(c);
}

static void client_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	client_run(container_of(w, struct stats_client, wio));
}

static void client_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct stats_client *c = container_of(w, struct stats_client, timer);
	ev_tstamp left = c->last_act + c->timeout - ev_now(loop);

	(void)revents;
	if (left > 0.001) {
		ev_timer_set(&c->timer, left, 0.0);
		ev_timer_start(loop, &c->timer);
		return;
	}
	if (c->in_len && !pending(c) && !c->closing && !c->draining) {
		/* in the middle of a request: say why before closing */
		refuse(c, 408, "the request did not arrive in time");
		(void)client_write(c);
	}
	client_free(c);
}

void stats_http_accept(struct listener *l, int fd, const struct sockaddr_storage *peer)
{
	struct proxy *px = l->bc->fe;
	const struct stats_px *sp = px ? stats_px_of(px->conf, px) : NULL;
	struct stats_client *c;

	if (!sp || nb_clients >= STATS_MAX_CLIENTS || !(c = calloc(1, sizeof(*c)))) {
		close(fd);
		return;
	}
	c->fd = fd;
	c->px = px;
	c->li = l;
	c->sp = sp;
	c->conf = px->conf;
	c->conf->refcnt++;
	c->peer = *peer;
	addr_unmap_v4(&c->peer);
	c->timeout = (px->to.client ? px->to.client : STATS_DEFAULT_TIMEOUT_MS) / 1000.0;
	c->last_act = ev_now(rt.loop);
	px->feconn++;
	CNT_INC(px, cum_fe);
	l->nbconn++;
	l->cum_conn++;
	ev_io_init(&c->rio, client_read_cb, fd, EV_READ);
	ev_io_init(&c->wio, client_write_cb, fd, EV_WRITE);
	ev_timer_init(&c->timer, client_timer_cb, c->timeout, 0.0);
	ev_timer_start(rt.loop, &c->timer);
	ev_io_start(rt.loop, &c->rio);
	c->next = clients;
	if (clients)
		clients->prev = c;
	clients = c;
	nb_clients++;
}

void stats_http_remove(struct dp_config *c)
{
	(void)c;
	/* the process stops: every client goes, whatever its generation */
	while (clients)
		client_free(clients);
}
