/* sess_pp.c — the PROXY protocol on a session: reading the header a
 * trusted upstream hop sends (`bind ... accept-proxy`) and sending one to
 * the server (`server ... send-proxy | send-proxy-v2`), in a buffer sized
 * from the server's configuration.
 *
 * Receiving follows the protocol's receiver rules: the header is peeked,
 * decoded only once complete, and exactly its bytes are consumed, so no
 * payload byte is lost; nothing else happens on the session (no server
 * connection) until it has been validated. While a partial header sits in
 * the socket, SO_RCVLOWAT keeps the socket from being reported readable
 * again until enough bytes are there, so a slow sender costs no CPU.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/addr.h"
#include "core/listener.h"
#include "log/log.h"
#include "lib/pp.h"
#include "model/proxy.h"
#include "core/loop.h"
#include "model/server.h"
#include "core/sess.h"
#include "core/sess_int.h"
#include "log/msg.h"

#define PP_MIN_WAIT_MS 3000   /* the spec asks receivers to wait at least 3 s */

/* One peek buffer for the whole process: the loop is single-threaded. */
static _Thread_local uint8_t peek_buf[PP_V2_MAX]; /* per thread: sessions run in parallel */

long long sess_pp_timeout(const struct sess *s)
{
	long long to = s->fe->to.client;

	return to > PP_MIN_WAIT_MS ? to : PP_MIN_WAIT_MS;
}

void sess_pp_free(struct sess *s)
{
	if (s->pp) {
		pp_hdr_clear(s->pp);
		free(s->pp);
		s->pp = NULL;
	}
}

static void set_lowat(int fd, int v)
{
	setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &v, sizeof(v));
}

/* True once the peer has shut down or reset its side. With a partial header
 * queued, MSG_PEEK keeps returning the same bytes after the peer's FIN and
 * SO_RCVLOWAT does not hold EOF back, so without this check the level-
 * triggered watcher would spin until the header timeout. */
static bool peer_gone(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLRDHUP };

	return poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

static bool hdr_has_tlvs(const struct pp_hdr *h)
{
	return h->authority || h->unique_id || h->netns || h->alpn || h->ncustom;
}

/* ev: TERM_EV_CLI_ABORT (client gone: "CR") or TERM_EV_PROXY (invalid
 * header: "PR") */
static void fail(struct sess *s, const char *why, enum term_event ev)
{
	SESS_DEBUG(s, "%s.proxy-header: %s", s->fe->name, why);
	sess_log_conn_error(s, why);
	sess_close(s, ev);
}

static void hdr_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct sess *s = container_of(w, struct sess, cli.rio);
	struct pp_hdr h;
	size_t need = 0;
	ssize_t n;
	int r;

	n = recv(s->cli.fd, peek_buf, sizeof(peek_buf), MSG_PEEK);
	if (n == 0) {
		fail(s, "Connection closed while waiting for PROXY protocol header", TERM_EV_CLI_ABORT);
		return;
	}
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		fail(s, "Connection error while waiting for PROXY protocol header", TERM_EV_CLI_ABORT);
		return;
	}
	memset(&h, 0, sizeof(h));
	r = pp_decode(peek_buf, (size_t)n, &h, &need);
	if (r < 0) {
		char msg[256];

		snprintf(msg, sizeof(msg), "%s", pp_strerror(r));
		fail(s, msg, TERM_EV_PROXY);
		return;
	}
	if (r == 0) {
		if (peer_gone(s->cli.fd)) {
			/* HAProxy's words for a header cut short */
			fail(s, "Truncated PROXY protocol header received", TERM_EV_CLI_ABORT);
			return;
		}
		/* wait until at least `need` bytes are queued */
		if (need > (size_t)n)
			set_lowat(s->cli.fd, (int)(need > sizeof(peek_buf) ? sizeof(peek_buf) : need));
		return;
	}
	/* consume exactly the header; payload stays in the socket */
	n = recv(s->cli.fd, peek_buf, (size_t)r, 0);
	if (n != r) {
		pp_hdr_clear(&h);
		fail(s, "Connection error while reading PROXY protocol header", TERM_EV_CLI_ABORT);
		return;
	}
	set_lowat(s->cli.fd, 1);

	if (h.cmd == PP_CMD_PROXY && (h.family == AF_INET || h.family == AF_INET6)) {
		/* the advertised endpoints replace the real ones everywhere
		 * (IP addresses: kept in place, nothing to allocate) */
		struct sockaddr_storage src = h.src, dst = h.dst;

		addr_unmap_v4(&src);
		addr_unmap_v4(&dst);
		(void)sess_addr_set(&s->cli_addr, &src);
		(void)sess_addr_set(&s->fe_addr, &dst);
	} else {
		/* LOCAL (health checks, or UNKNOWN): keep the real endpoints */
		s->pp_local = true;
	}
	if (dp_msg.debug) {
		char a[64], b[64];
		struct sockaddr_storage ca, fa;

		sess_addr_get(&s->cli_addr, &ca);
		sess_addr_get(&s->fe_addr, &fa);
		sess_debug(s, "%s.proxy-header %s: client %s to %s", s->fe->name,
			   h.cmd == PP_CMD_PROXY && (h.family == AF_INET || h.family == AF_INET6) ? "PROXY" : "LOCAL",
			   addr_str(&ca, a, sizeof(a)), addr_str(&fa, b, sizeof(b)));
	}
	if (hdr_has_tlvs(&h)) {
		s->pp = malloc(sizeof(*s->pp));
		if (!s->pp) {
			pp_hdr_clear(&h);
			sess_close(s, TERM_EV_RESOURCE);
			return;
		}
		*s->pp = h;
	} else {
		pp_hdr_clear(&h);
	}
	if (ev_is_active(&s->cli.rio))
		ev_io_stop(sess_loop(s), &s->cli.rio);
	ev_set_cb(&s->cli.rio, sess_cli_read_cb);
	s->cli.last_act = sess_now();
	sess_arm_timer(s);
	sess_start(s);
}

void sess_pp_wait_header(struct sess *s)
{
	ev_set_cb(&s->cli.rio, hdr_read_cb);
	ev_io_start(sess_loop(s), &s->cli.rio);
	sess_arm_timer(s);
}

void sess_set_unique_id(struct sess *s)
{
	char buf[PP_UNIQUE_ID_MAX + 1];
	struct log_sess ls;
	size_t n;

	if (s->unique_id)
		return;
	/* a chain keeps one id end to end: a received UNIQUE_ID wins */
	if (s->pp && s->pp->unique_id) {
		s->unique_id = malloc(s->pp->unique_id_len + 1);
		if (s->unique_id) {
			memcpy(s->unique_id, s->pp->unique_id, s->pp->unique_id_len);
			s->unique_id[s->pp->unique_id_len] = '\0';
			s->unique_id_len = s->pp->unique_id_len;
		}
		return;
	}
	if (!s->fe->unique_id_lf)
		return;
	sess_fill_log(s, &ls);
	n = lf_render(s->fe->unique_id_lf, &ls, buf, sizeof(buf));
	s->unique_id = strndup(buf, n);
	s->unique_id_len = s->unique_id ? n : 0;
}

/* ---- sending ----------------------------------------------------------------
 *
 * The header toward a server is sized from what its configuration can put
 * in it, never from a fixed guess: 16 custom TLVs of 255 bytes once made
 * every connection fail against a 4,096-byte buffer. Every part has a cap:
 *   set-proxy-v2-tlv-fmt  one per type 0xE0-0xEF, rendered value cut to
 *                         SEND_CUSTOM_MAX bytes;
 *   UNIQUE_ID             ours (unique-id-format, rendered into 128 bytes)
 *                         or the upstream's (the receiver caps it at 128);
 *   AUTHORITY             the upstream's (capped at 255 when received);
 *   NETNS                 the upstream's (capped at 1024 when received) or
 *                         the bind's namespace name;
 *   CRC32C                4 bytes; addresses at most two AF_UNIX paths.
 * So the largest header any configuration can ask for is a constant, well
 * under the protocol's 16 + 65,535 bytes (checked at compile time below):
 * no server line can exceed it and -c has nothing to refuse. */

/* A custom TLV value is cut to this many bytes (a log-format can render
 * anything, including a %ID received from upstream). */
#define SEND_CUSTOM_MAX 255
#define SEND_NCUSTOM (PP2_TYPE_MAX_CUSTOM - PP2_TYPE_MIN_CUSTOM + 1)
#define SEND_TLV(len) (3 + (len))        /* type, 16-bit length, value */
#define SEND_ADDR_MAX 216                /* two AF_UNIX paths */
#define SEND_V2_MAX (PP_V2_HDR_LEN + SEND_ADDR_MAX + SEND_TLV(PP_AUTHORITY_MAX) + SEND_TLV(4) + \
		     SEND_TLV(PP_UNIQUE_ID_MAX) + SEND_TLV(PP_TLV_MAX) + SEND_NCUSTOM * SEND_TLV(SEND_CUSTOM_MAX))

_Static_assert(SEND_V2_MAX <= PP_V2_MAX, "the largest header a server can send fits a PROXY v2 header");
_Static_assert(SEND_CUSTOM_MAX <= PP_TLV_MAX, "custom TLV values within what receivers accept");

/* The most bytes srv's header can take, from its configuration: v1 is one
 * short line; v2 counts what srv's options may add, with the upstream
 * parts (UNIQUE_ID, NETNS) always counted at their caps. */
static size_t send_max(const struct server *srv)
{
	size_t n = PP_V2_HDR_LEN + SEND_ADDR_MAX + SEND_TLV(PP_UNIQUE_ID_MAX) + SEND_TLV(PP_TLV_MAX);
	size_t ncustom = srv->ntlvs < SEND_NCUSTOM ? srv->ntlvs : SEND_NCUSTOM;

	if (srv->flags & SRV_F_SEND_PROXY)
		return PP_V1_MAX;
	if (srv->pp_opts & SRV_PP_AUTHORITY)
		n += SEND_TLV(PP_AUTHORITY_MAX);
	if (srv->pp_opts & SRV_PP_CRC32C)
		n += SEND_TLV(4);
	return n + ncustom * SEND_TLV(SEND_CUSTOM_MAX);
}

int sess_pp_prepare(struct sess *s)
{
	const struct server *srv = s->srv;
	struct pp_hdr h;
	struct pp_tlv_custom custom[SEND_NCUSTOM];
	char vals[SEND_NCUSTOM][SEND_CUSTOM_MAX + 1];
	size_t cap;
	uint8_t *buf;
	int n;

	if (!(srv->flags & (SRV_F_SEND_PROXY | SRV_F_SEND_PROXY_V2)))
		return 0;
	memset(&h, 0, sizeof(h));
	h.cmd = PP_CMD_PROXY;
	h.socktype = SOCK_STREAM;
	sess_addr_get(&s->cli_addr, &h.src);
	sess_addr_get(&s->fe_addr, &h.dst);
	/* a unix socket's client (no PROXY header told its address): LOCAL,
	 * "PROXY UNKNOWN" in v1, as HAProxy sends */
	if ((h.src.ss_family != AF_INET && h.src.ss_family != AF_INET6) ||
	    (h.dst.ss_family != AF_INET && h.dst.ss_family != AF_INET6)) {
		h.cmd = PP_CMD_LOCAL;
		memset(&h.src, 0, sizeof(h.src));
		memset(&h.dst, 0, sizeof(h.dst));
	}
	cap = send_max(srv);
	buf = malloc(cap);
	if (!buf)
		return -1;
	if (srv->flags & SRV_F_SEND_PROXY) {
		n = pp_encode_v1(buf, cap, &h);
	} else {
		struct log_sess ls;

		if (s->unique_id && ((srv->pp_opts & SRV_PP_UNIQUE_ID) || (s->pp && s->pp->unique_id))) {
			h.unique_id = s->unique_id;
			h.unique_id_len = s->unique_id_len > PP_UNIQUE_ID_MAX ? PP_UNIQUE_ID_MAX : s->unique_id_len;
		}
		/* the namespace the attacker arrived in, or the one upstream said */
		if (s->pp && s->pp->netns)
			h.netns = s->pp->netns;
		else if (s->netns)
			h.netns = (char *)s->netns; /* only read: h is encoded, never cleared */
		if ((srv->pp_opts & SRV_PP_AUTHORITY) && s->pp && s->pp->authority)
			h.authority = s->pp->authority;
		if (srv->ntlvs) {
			sess_fill_log(s, &ls);
			for (size_t i = 0; i < srv->ntlvs && i < ARRAY_SIZE(custom); i++) {
				size_t l = lf_render(srv->tlvs[i].lf, &ls, vals[i], sizeof(vals[i]));

				custom[i].type = srv->tlvs[i].type;
				custom[i].len = (uint16_t)l;
				custom[i].val = (uint8_t *)vals[i];
				h.ncustom++;
			}
			h.custom = custom;
		}
		n = pp_encode_v2(buf, cap, &h, (srv->pp_opts & SRV_PP_CRC32C) ? PP_OPT_CRC32C : 0);
	}
	if (n <= 0) {
		static _Thread_local double last; /* per thread: ha_ratelimit */

		if (ha_ratelimit(&last, 1.0))
			ha_warning("backend '%s'/server '%s': cannot build the PROXY header (%s)", s->be->name,
				   srv->name, strerror(-n));
		free(buf);
		return -1;
	}
	chan_set_prefix(&s->req, (char *)buf, (size_t)n);
	return 0;
}
