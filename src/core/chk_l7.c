/* chk_l7.c — the conversations of protocol health checks: `option
 * tcp-check` rule sequences, `option httpchk` and `option redis-check`,
 * with HAProxy's statuses (L7OK, L7RSP, L7STS, L7TOUT) and texts.
 *
 * Everything runs on the loop: the socket is non-blocking, a send that does
 * not go out at once waits for EV_WRITE, an expect that does not match yet
 * waits for EV_READ while more can come. The response is read into one
 * buffer of CHK_RESP_MAX bytes; a full buffer counts as the end of the
 * response. Each `send` empties the buffer, so the next expect looks at the
 * answer to it. The whole conversation is bounded by `timeout check`
 * (chk_l7_timeout_ms()).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/chk_int.h"
#include "core/loop.h"
#include "lib/common.h"
#include "model/proxy.h"
#include "model/server.h"

/* option redis-check: HAProxy's PING in RESP and the answer it wants */
static const uint8_t redis_ping[] = "*1\r\n$4\r\nPING\r\n";
static const char redis_pong[] = "+PONG\r\n";

void chk_l7_reset(struct chk *c)
{
	c->l7 = false;
	c->connected = false;
	c->eof = false;
	c->expected = false;
	c->blen = 0;
	c->out = NULL;
	c->olen = 0;
	free(c->req);
	c->req = NULL;
}

static const struct chk_rules *tcp_rules(const struct chk *c)
{
	return c->srv->px->chk.tcp;
}

static void want(struct chk *c, int ev)
{
	if (ev_is_active(&c->io))
		ev_io_stop(rt.loop, &c->io);
	ev_io_set(&c->io, c->fd, ev);
	ev_io_start(rt.loop, &c->io);
}

/* Sends what is pending; true when all is out. On an error the check has
 * ended. */
static bool flush_out(struct chk *c, bool *failed)
{
	*failed = false;
	while (c->olen) {
		ssize_t n = send(c->fd, c->out, c->olen, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			want(c, EV_WRITE);
			return false;
		}
		if (n < 0) {
			*failed = true;
			chk_end_code(c, false, CHK_ST_L4CON, strerror(errno), 0);
			return false;
		}
		c->out += n;
		c->olen -= (size_t)n;
	}
	return true;
}

/* Reads what is there; false when the check has ended on an error. */
static bool fill(struct chk *c)
{
	if (!c->buf && !(c->buf = calloc(1, CHK_RESP_MAX))) {
		chk_end_code(c, false, CHK_ST_SOCKERR, "out of memory", 0);
		return false;
	}
	while (!c->eof) {
		ssize_t n;

		if (c->blen == CHK_RESP_MAX) {
			c->eof = true;  /* a full buffer is all we look at */
			break;
		}
		n = recv(c->fd, c->buf + c->blen, CHK_RESP_MAX - c->blen, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) {
			if (errno == ECONNRESET && c->blen) {
				c->eof = true;
				break;
			}
			chk_end_code(c, false, CHK_ST_L4CON, strerror(errno), 0);
			return false;
		}
		if (n == 0)
			c->eof = true;
		c->blen += (size_t)n;
	}
	return true;
}

/* A pattern for a message: printable bytes as they are, others as \xHH,
 * cut to fit. */
static void printable(char *out, size_t cap, const uint8_t *p, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 5 < cap; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\'')
			out[o++] = (char)p[i];
		else
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", p[i]);
	}
	out[o] = '\0';
}

/* The helpers above, for the other conversations (chk_proto.c, chk_agent.c). */
void chk_l7_want(struct chk *c, int ev)
{
	want(c, ev);
}

bool chk_l7_flush(struct chk *c)
{
	bool failed;

	return flush_out(c, &failed);
}

bool chk_l7_fill(struct chk *c)
{
	return fill(c) && c->buf;
}

/* ---- tcp-check ---------------------------------------------------------- */

static void tcp_fail_expect(struct chk *c, const struct chk_rule *r, size_t step)
{
	char info[160], pat[64];
	const char *what = "content";

	if (!c->blen) {
		snprintf(info, sizeof(info), "TCPCHK got an empty response at step %zu", step);
		chk_end_code(c, false, CHK_ST_L7RSP, info, 0);
		return;
	}
	switch (r->match) {
	case CHKM_RSTRING: what = "regex"; break;
	case CHKM_BINARY: what = "binary"; break;
	case CHKM_RBINARY: what = "regex"; break;
	default: break;
	}
	printable(pat, sizeof(pat), (const uint8_t *)r->text, strlen(r->text));
	snprintf(info, sizeof(info), "TCPCHK %s %s '%s' at step %zu", r->inverse ? "matched unwanted" : "did not match",
		 what, pat, step);
	chk_end_code(c, false, CHK_ST_L7RSP, info, 0);
}

static void tcp_run(struct chk *c)
{
	const struct chk_rules *rs = tcp_rules(c);
	bool failed;

	if (!flush_out(c, &failed))
		return;
	for (; rs && c->step < rs->n; c->step++) {
		const struct chk_rule *r = &rs->v[c->step];

		switch (r->type) {
		case CHKR_CONNECT:
			c->step++;
			chk_reconnect(c, r->port);
			return;
		case CHKR_SEND:
			c->blen = 0;
			c->eof = false;
			c->out = r->data;
			c->olen = r->len;
			if (!flush_out(c, &failed))
				return;
			break;
		case CHKR_EXPECT: {
			bool more, ok;

			if (!fill(c) || !c->buf)
				return;
			ok = chkrule_match(r, c->buf ? c->buf : (const uint8_t *)"", c->blen, 0, &more);
			c->expected = true;
			if (!ok && more && !c->eof) {
				want(c, EV_READ);
				return;
			}
			if (!ok) {
				tcp_fail_expect(c, r, c->step + 1);
				return;
			}
			break;
		}
		}
	}
	if (c->expected)
		chk_end_code(c, true, CHK_ST_L7OK, "(tcp-check)", 0);
	else
		chk_end_code(c, true, CHK_ST_L4OK, NULL, 0);
}

/* ---- redis-check --------------------------------------------------------- */

static void redis_run(struct chk *c)
{
	bool failed;
	char line[96];
	size_t n;

	if (c->step == 0) {
		c->out = redis_ping;
		c->olen = sizeof(redis_ping) - 1;
		c->step = 1;
	}
	if (!flush_out(c, &failed))
		return;
	if (!fill(c) || !c->buf)
		return;
	if (c->blen >= sizeof(redis_pong) - 1 && !memcmp(c->buf, redis_pong, sizeof(redis_pong) - 1)) {
		chk_end_code(c, true, CHK_ST_L7OK, "Redis server is ok", 0);
		return;
	}
	if (!c->eof && c->blen < sizeof(redis_pong) - 1 && !memchr(c->buf ? c->buf : (const uint8_t *)"", '\n', c->blen)) {
		want(c, EV_READ);
		return;
	}
	if (!c->blen) {
		chk_end_code(c, false, CHK_ST_L7RSP, "TCPCHK got an empty response at step 2", 0);
		return;
	}
	/* HAProxy reports a Redis error line ("-LOADING ...") as it came */
	for (n = 0; n < c->blen && c->buf[n] != '\r' && c->buf[n] != '\n'; n++)
		;
	printable(line, sizeof(line), c->buf, n);
	chk_end_code(c, false, c->buf[0] == '-' ? CHK_ST_L7STS : CHK_ST_L7RSP, line, 0);
}

/* ---- smtpchk ------------------------------------------------------------- */

/* Finds the end of an SMTP reply at b: its last line ("250 ok", after any
 * "250-..." lines). Returns 1 with *code and the text of the first line, 0
 * when more is needed, -1 when it is not an SMTP reply. */
static int smtp_reply(const uint8_t *b, size_t len, int *code, char *text, size_t cap)
{
	size_t at = 0;
	bool first = true;

	while (at < len) {
		const uint8_t *nl = memchr(b + at, '\n', len - at);
		const uint8_t *l = b + at;
		size_t ll;

		if (len - at >= 3 && (l[0] < '0' || l[0] > '9' || l[1] < '0' || l[1] > '9' || l[2] < '0' || l[2] > '9'))
			return -1;
		if (!nl)
			return 0;
		ll = (size_t)(nl - l);
		if (ll < 3)
			return -1;
		if (first) {
			size_t t = ll > 4 ? 4 : ll, n;

			*code = (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
			n = ll - t;
			if (n && l[ll - 1] == '\r')
				n--;
			printable(text, cap, l + t, n);
			first = false;
		}
		if (ll == 3 || l[3] != '-')
			return 1;
		at += ll + 1;
	}
	return 0;
}

static void smtp_run(struct chk *c)
{
	const struct chk_conf *cc = &c->srv->px->chk;
	char text[96];
	bool failed;
	int code = 0, r;

	if (!flush_out(c, &failed))
		return;
	if (!fill(c) || !c->buf)
		return;
	r = smtp_reply(c->buf ? c->buf : (const uint8_t *)"", c->blen, &code, text, sizeof(text));
	if (r == 0 && !c->eof) {
		want(c, EV_READ);
		return;
	}
	if (r <= 0) {
		chk_end_code(c, false, CHK_ST_L7RSP, c->blen ? "Invalid SMTP response" : "Empty response", 0);
		return;
	}
	if (code < 200 || code > 299) {
		chk_end_code(c, false, CHK_ST_L7STS, text, code);
		return;
	}
	if (c->step == 0) {
		/* the banner was fine: HELO (or EHLO) <domain> */
		if (memprintf(&c->req, "%s %s\r\n", cc->smtp_hello ? cc->smtp_hello : "HELO",
			      cc->smtp_domain ? cc->smtp_domain : "localhost") < 0 || !c->req) {
			chk_end_code(c, false, CHK_ST_SOCKERR, "out of memory", 0);
			return;
		}
		c->step = 1;
		c->blen = 0;
		c->eof = false;
		c->out = (const uint8_t *)c->req;
		c->olen = strlen(c->req);
		smtp_run(c);
		return;
	}
	chk_end_code(c, true, CHK_ST_L7OK, text, code);
}

/* ---- pgsql-check --------------------------------------------------------- */

static void pgsql_run(struct chk *c)
{
	const char *user = c->srv->px->chk.pg_user ? c->srv->px->chk.pg_user : "";
	bool failed;

	if (c->step == 0) {
		/* StartupMessage: length, protocol 3.0, "user" <user>, end */
		size_t ul = strlen(user), len = 4 + 4 + 5 + ul + 1 + 1;
		uint8_t *m = malloc(len);

		if (!m) {
			chk_end_code(c, false, CHK_ST_SOCKERR, "out of memory", 0);
			return;
		}
		m[0] = (uint8_t)(len >> 24); m[1] = (uint8_t)(len >> 16); m[2] = (uint8_t)(len >> 8); m[3] = (uint8_t)len;
		m[4] = 0; m[5] = 3; m[6] = 0; m[7] = 0;
		memcpy(m + 8, "user", 5);
		memcpy(m + 13, user, ul + 1);
		m[len - 1] = 0;
		c->req = (char *)m;
		c->out = m;
		c->olen = len;
		c->step = 1;
	}
	if (!flush_out(c, &failed))
		return;
	if (!fill(c) || !c->buf)
		return;
	if (c->blen && c->buf[0] == 'R' && (c->blen >= 9 || c->eof)) {
		chk_end_code(c, true, CHK_ST_L7OK, "PostgreSQL server is ok", 0);
		return;
	}
	if (c->blen && c->buf[0] == 'E' && c->blen >= 5) {
		size_t mlen = ((size_t)c->buf[1] << 24 | (size_t)c->buf[2] << 16 | (size_t)c->buf[3] << 8 | c->buf[4]);
		char info[128] = "PostgreSQL unknown error";

		if (1 + mlen > c->blen && !c->eof && 1 + mlen <= CHK_RESP_MAX) {
			want(c, EV_READ);
			return;
		}
		/* fields: a type byte and a NUL-terminated string each; M = message */
		for (size_t i = 5; i < c->blen && c->buf[i];) {
			const uint8_t *z = memchr(c->buf + i + 1, 0, c->blen - i - 1);

			if (!z)
				break;
			if (c->buf[i] == 'M') {
				printable(info, sizeof(info), c->buf + i + 1, (size_t)(z - (c->buf + i + 1)));
				break;
			}
			i = (size_t)(z - c->buf) + 1;
		}
		chk_end_code(c, false, CHK_ST_L7RSP, info, 0);
		return;
	}
	if (!c->eof && (c->blen < 5 || (c->buf[0] == 'R' && c->blen < 9))) {
		want(c, EV_READ);
		return;
	}
	chk_end_code(c, false, CHK_ST_L7RSP, c->blen ? "PostgreSQL unknown error" : "Empty response", 0);
}

/* ---- httpchk ------------------------------------------------------------- */

static int build_request(struct chk *c)
{
	const struct chk_rules *h = c->srv->px->chk.http;
	const char *meth = h && h->meth ? h->meth : "OPTIONS";
	const char *uri = h && h->uri ? h->uri : "/";
	const char *ver = h && h->ver ? h->ver : "HTTP/1.0";
	char *req = NULL;

	if (memprintf(&req, "%s %s %s\r\n", meth, uri, ver) < 0 || !req)
		return -1;
	for (size_t i = 0; h && i < h->nhdr; i++) {
		char *n = NULL;

		if (memprintf(&n, "%s%s\r\n", req, h->hdrs[i]) < 0 || !n) {
			free(req);
			return -1;
		}
		free(req);
		req = n;
	}
	{
		char *n = NULL;

		if (memprintf(&n, "%s\r\n", req) < 0 || !n) {
			free(req);
			return -1;
		}
		free(req);
		req = n;
	}
	c->req = req;
	c->out = (const uint8_t *)req;
	c->olen = strlen(req);
	return 0;
}

/* Parses "HTTP/x.y NNN reason\r\n" and finds the end of the headers and
 * Content-Length. Returns 1 when the head is complete, 0 when more is
 * needed, -1 when it is not HTTP. */
static int parse_head(const uint8_t *b, size_t len, int *status, char *reason, size_t rcap, size_t *body,
		      long long *clen)
{
	const uint8_t *eoh = memmem(b, len, "\r\n\r\n", 4);
	const uint8_t *eol;
	size_t rl;

	if (len >= 5 && memcmp(b, "HTTP/", 5))
		return -1;
	if (!eoh)
		return 0;
	eol = memmem(b, len, "\r\n", 2);
	if ((size_t)(eol - b) < 12 || b[8] != ' ' || b[9] < '1' || b[9] > '5' || b[10] < '0' || b[10] > '9' ||
	    b[11] < '0' || b[11] > '9' || ((size_t)(eol - b) > 12 && b[12] != ' '))
		return -1;
	*status = (b[9] - '0') * 100 + (b[10] - '0') * 10 + (b[11] - '0');
	rl = (size_t)(eol - b) > 13 ? (size_t)(eol - b) - 13 : 0;
	if (rl >= rcap)
		rl = rcap - 1;
	memcpy(reason, b + 13, rl);
	reason[rl] = '\0';
	*body = (size_t)(eoh - b) + 4;
	*clen = -1;
	for (const uint8_t *p = eol + 2; p < eoh; ) {
		const uint8_t *e = memmem(p, (size_t)(eoh + 2 - p), "\r\n", 2);

		if (!e)
			break;
		if (e - p > 15 && !strncasecmp((const char *)p, "content-length:", 15))
			*clen = strtoll((const char *)p + 15, NULL, 10);
		p = e + 2;
	}
	return 1;
}

static void http_run(struct chk *c)
{
	const struct chk_rules *h = c->srv->px->chk.http;
	char reason[64], info[128];
	long long clen;
	size_t body;
	int status = 0, r;
	bool failed, need_body = false;

	if (c->step == 0) {
		if (build_request(c) < 0) {
			chk_end_code(c, false, CHK_ST_SOCKERR, "out of memory", 0);
			return;
		}
		c->step = 1;
	}
	if (!flush_out(c, &failed))
		return;
	if (!fill(c) || !c->buf)
		return;
	r = parse_head(c->buf ? c->buf : (const uint8_t *)"", c->blen, &status, reason, sizeof(reason), &body, &clen);
	if (r == 0 && !c->eof) {
		want(c, EV_READ);
		return;
	}
	if (r <= 0) {
		chk_end_code(c, false, CHK_ST_L7RSP, c->blen ? "Invalid HTTP response" : "Empty response", 0);
		return;
	}
	for (size_t i = 0; h && i < h->n; i++)
		need_body |= h->v[i].match == CHKM_BODY || h->v[i].match == CHKM_RBODY;
	if (need_body && !c->eof && (clen < 0 || (long long)(c->blen - body) < clen)) {
		want(c, EV_READ);
		return;
	}
	if (clen >= 0 && (long long)(c->blen - body) > clen)
		c->blen = body + (size_t)clen;
	if (!h || !h->n) {
		/* HAProxy's default: any 2xx or 3xx is fine */
		chk_end_code(c, status >= 200 && status < 400, status >= 200 && status < 400 ? CHK_ST_L7OK : CHK_ST_L7STS,
			     reason, status);
		return;
	}
	for (size_t i = 0; i < h->n; i++) {
		const struct chk_rule *e = &h->v[i];
		bool more;

		if (chkrule_match(e, c->buf + body, c->blen - body, status, &more))
			continue;
		if (e->match == CHKM_STATUS || e->match == CHKM_RSTATUS) {
			snprintf(info, sizeof(info), "HTTP status check returned code <%d>", status);
			chk_end_code(c, false, CHK_ST_L7STS, info, status);
		} else {
			chk_end_code(c, false, CHK_ST_L7RSP, "HTTP content check did not match", status);
		}
		return;
	}
	chk_end_code(c, true, CHK_ST_L7OK, reason, status);
}

/* ---- dispatch ------------------------------------------------------------- */

static void run(struct chk *c)
{
	switch (c->srv->px->chk.kind) {
	case CHK_KIND_TCP: tcp_run(c); break;
	case CHK_KIND_HTTP: http_run(c); break;
	case CHK_KIND_REDIS: redis_run(c); break;
	case CHK_KIND_SMTP: smtp_run(c); break;
	case CHK_KIND_PGSQL: pgsql_run(c); break;
	case CHK_KIND_MYSQL: case CHK_KIND_LDAP: case CHK_KIND_SSL: chk_proto_run(c); break;
	case CHK_KIND_CONNECT: chk_end_code(c, true, CHK_ST_L4OK, NULL, 0); break;
	}
}

void chk_l7_connected(struct chk *c)
{
	run(c);
}

void chk_l7_io(struct chk *c, int revents)
{
	(void)revents;
	run(c);
}

void chk_l7_timeout(struct chk *c)
{
	char info[160];

	if (c->srv->px->chk.kind == CHK_KIND_TCP && tcp_rules(c) && c->step < tcp_rules(c)->n) {
		const struct chk_rule *r = &tcp_rules(c)->v[c->step];

		if (r->type == CHKR_EXPECT) {
			char pat[64];

			printable(pat, sizeof(pat), (const uint8_t *)r->text, strlen(r->text));
			snprintf(info, sizeof(info), "at step %zu of tcp-check (expect %s '%s')", c->step + 1,
				 chkrule_match_name(r), pat);
		} else {
			snprintf(info, sizeof(info), "at step %zu of tcp-check (%s)", c->step + 1,
				 r->type == CHKR_SEND ? "send" : "connect");
		}
		chk_end_code(c, false, CHK_ST_L7TOUT, info, 0);
		return;
	}
	/* ssl-hello-chk works at layer 6 */
	chk_end_code(c, false, c->srv->px->chk.kind == CHK_KIND_SSL ? CHK_ST_L6TOUT : CHK_ST_L7TOUT, NULL, 0);
}
