/* Unit tests: core/sess, the session state machine, driven through its real
 * code path. A configuration is parsed as the daemon parses it (a `listen`
 * whose server is a loopback TCP socket this test listens on itself), and a
 * connection is handed to sess_accept() as the listener would: one end of a
 * socketpair, or of a loopback TCP pair where TCP semantics matter. The
 * libev loop runs in bounded steps (iterations and seconds), and the tests
 * assert on what the far ends saw: relayed bytes both ways, half-close,
 * backpressure with bounded memory, the PROXY v2 header the server got,
 * an accept-proxy header consumed exactly (and %ci in the log line, read
 * from a `log fd@` target), and a freed server slot serving the backend
 * queue from the loop, not from inside the close. No root, no namespaces. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include <ev.h>

#include "cfg/cfg.h"
#include "core/channel.h"
#include "core/chk.h"
#include "core/listener.h"
#include "core/loop.h"
#include "core/sess.h"
#include "core/thread.h"
#include "ctl/module.h"
#include "lib/addr.h"
#include "lib/pp.h"
#include "log/msg.h"
#include "model/conf.h"
#include "model/proxy.h"
#include "model/server.h"

#include "helpers.h"

/* Bounds of every wait on the loop. */
#define LOOP_SECS   10.0
#define LOOP_ITERS  200000
/* The loop never sleeps longer than this in one EVRUN_ONCE step. */
#define TICK_SECS   0.002

/* Runs the loop one step at a time until cond holds; fails the test after
 * LOOP_ITERS steps or LOOP_SECS seconds. cond is re-evaluated after each
 * step and may read the test's sockets. */
#define RUN_UNTIL(cond) do { \
	double end_ = ev_time() + LOOP_SECS; \
	int n_ = 0; \
	while (!(cond)) { \
		if (++n_ > LOOP_ITERS || ev_time() > end_) \
			fail_msg("%s:%d: gave up waiting for: %s", __FILE__, __LINE__, #cond); \
		ev_run(rt.loop, EVRUN_ONCE); \
	} \
} while (0)

/* Runs exactly n steps. */
static void run_steps(int n)
{
	for (int i = 0; i < n; i++)
		ev_run(rt.loop, EVRUN_ONCE);
}

/* ---- the world of one test ---- */

static struct {
	ev_timer tick;
	int srv_lfd;            /* the "server" the configuration points to */
	int srv_port;
	int log[2];             /* `log fd@log[0]`: datagrams read on log[1] */
	struct dp_config *c;
	struct listener *li;
	struct proxy *px;
	size_t pool_base;
	unsigned sess_base;
	const char *logfmt;     /* load(): this log-format instead of the default */
	const char *extra;      /* load(): more lines in the listen section */
} w;

static void tick_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)loop; (void)t; (void)revents;
}

static int tcp_listen(struct sockaddr_in *sin, int rcvbuf)
{
	socklen_t l = sizeof(*sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;

	assert_true(fd >= 0);
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* set before listen() so accepted sockets get a small window */
	if (rcvbuf)
		assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
	assert_int_equal(bind(fd, (struct sockaddr *)sin, sizeof(*sin)), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)sin, &l), 0);
	return fd;
}

static int setup(void **state)
{
	struct sockaddr_in sin;

	(void)state;
	memset(&w, 0, sizeof(w));
	msgs[0] = '\0';
	ha_msg_hook = capture;
	dp_msg.quiet = true;
	rt.loop = ev_default_loop(0);
	rt.maxconn = 100;
	w.srv_lfd = tcp_listen(&sin, 0);
	w.srv_port = ntohs(sin.sin_port);
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, w.log), 0);
	ev_timer_init(&w.tick, tick_cb, TICK_SECS, TICK_SECS);
	ev_timer_start(rt.loop, &w.tick);
	w.pool_base = pump_pool_in_use();
	w.sess_base = sess_count_get();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (unsigned t = 0; t < 2; t++)
		while (sess_thr[t].list)
			sess_kill(sess_thr[t].list);
	loop_run_deferred();
	threads_free();  /* the tests that prepared two (no-op otherwise) */
	/* every session gave its buffers back */
	assert_int_equal(pump_pool_in_use(), w.pool_base);
	assert_int_equal(rt.actconn, 0);
	ev_timer_stop(rt.loop, &w.tick);
	dp_config_put(rt.conf);
	rt.conf = NULL;
	close(w.srv_lfd);
	close(w.log[0]);
	close(w.log[1]);
	return 0;
}

/* Parses a `listen li` whose bind line is `bind <bind>` and whose server
 * line is `server s 127.0.0.1:<our port> <srv_opts>`, and puts it in
 * service as far as sessions care (rt.conf). */
static void load(const char *bind, const char *srv_opts)
{
	char buf[2048];
	int e;

	snprintf(buf, sizeof(buf),
		 "defaults\n"
		 "    mode tcp\n"
		 "    timeout connect 5s\n"
		 "    timeout client 20s\n"
		 "    timeout server 20s\n"
		 "listen li\n"
		 "    bind %s\n"
		 "    log fd@%d format raw local0\n"
		 "    log-format \"%s\"\n"
		 "%s"
		 "    server s 127.0.0.1:%d %s\n",
		 bind, w.log[0], w.logfmt ? w.logfmt : "%ci:%cp %fi:%fp %ts %U %B %s", w.extra ? w.extra : "",
		 w.srv_port, srv_opts);
	w.c = dp_config_new();
	assert_non_null(w.c);
	assert_int_equal(modules_init(), 0);
	e = cfg_parse_buffer(w.c, "sess.cfg", buf);
	if (!e)
		e = modules_finalize(w.c);
	if (e)
		fail_msg("config:\n%s\n%s", buf, msgs);
	rt.conf = w.c;
	w.px = dp_config_find_proxy(w.c, "li", PR_CAP_FE);
	assert_non_null(w.px);
	w.li = w.px->binds->listeners;
	assert_non_null(w.li);
}

/* Hands a new connection to the session code the way the listener does;
 * returns the session (fd is the session's from now on). */
static struct sess *accept_conn(int fd, const struct sockaddr_storage *peer)
{
	unsigned before = sess_count_get();

	sess_accept(w.li, fd, peer);
	assert_int_equal(sess_count_get(), before + 1);
	return sess_thr[0].list; /* sess_accept puts it first */
}

/* A client over an AF_UNIX socketpair: *mine is the test's end. */
static struct sess *unix_client(int *mine, const struct sockaddr_storage *peer)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	*mine = sv[1];
	return accept_conn(sv[0], peer);
}

/* A client over loopback TCP: *mine is the connecting end; the accepted
 * end goes to the session with the peer address accept() gave. */
static struct sess *tcp_client(int *mine)
{
	struct sockaddr_in sin;
	struct sockaddr_storage peer;
	socklen_t pl = sizeof(peer);
	int lfd = tcp_listen(&sin, 0);
	int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int a;

	assert_true(c >= 0);
	assert_int_equal(connect(c, (struct sockaddr *)&sin, sizeof(sin)), 0);
	a = accept4(lfd, (struct sockaddr *)&peer, &pl, SOCK_NONBLOCK | SOCK_CLOEXEC);
	assert_true(a >= 0);
	close(lfd);
	assert_int_equal(fcntl(c, F_SETFL, fcntl(c, F_GETFL) | O_NONBLOCK), 0);
	*mine = c;
	return accept_conn(a, &peer);
}

/* Accepts the session's connection on our server socket, or -1. */
static int srv_accept(void)
{
	return accept4(w.srv_lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

static int srv_wait_accept(void)
{
	int fd = -1;

	RUN_UNTIL((fd = srv_accept()) >= 0);
	return fd;
}

/* What one end received so far. */
struct rx {
	char d[1 << 16];
	size_t len;
	bool eof;
};

/* Appends what fd has now to b (up to its capacity); returns b->len. */
static size_t rx_drain(int fd, struct rx *b)
{
	for (;;) {
		ssize_t n;

		if (b->len == sizeof(b->d))
			return b->len;
		n = recv(fd, b->d + b->len, sizeof(b->d) - b->len, 0);
		if (n > 0) {
			b->len += (size_t)n;
			continue;
		}
		if (n == 0)
			b->eof = true;
		else
			assert_true(errno == EAGAIN);
		return b->len;
	}
}

static void send_all(int fd, const void *p, size_t n)
{
	assert_int_equal(send(fd, p, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* The session's log line (raw format: the line and "\n"). */
static void expect_log(const char *want)
{
	char line[1024];
	ssize_t n;

	RUN_UNTIL((n = recv(w.log[1], line, sizeof(line) - 1, 0)) > 0);
	line[n] = '\0';
	if (n && line[n - 1] == '\n')
		line[n - 1] = '\0';
	assert_string_equal(line, want);
}

static void wait_sessions_gone(void)
{
	RUN_UNTIL(sess_count_get() == w.sess_base);
}

/* ---- relay ---- */

/* Bytes go both ways unchanged, several exchanges and a big stream each
 * way at once; the session ends when both sides have closed and logs the
 * byte counts. */
static void test_relay_both_ways(void **state)
{
	struct sockaddr_storage peer = inet("192.0.2.10", 40000);
	static struct rx crx, srx;
	const size_t big = 50000;
	size_t cw = 0, sw = 0;
	char out[4096];
	int cfd, sfd;
	struct sess *s;

	(void)state;
	load("127.0.0.1:8001", "");
	s = unix_client(&cfd, &peer);
	assert_true(s->state == SST_CONNECT || s->state == SST_EST);
	sfd = srv_wait_accept();
	RUN_UNTIL(s->state == SST_EST);

	send_all(cfd, "hello server", 12);
	RUN_UNTIL(rx_drain(sfd, &srx) >= 12);
	assert_int_equal(srx.len, 12);
	assert_memory_equal(srx.d, "hello server", 12);
	send_all(sfd, "hello client!", 13);
	RUN_UNTIL(rx_drain(cfd, &crx) >= 13);
	assert_int_equal(crx.len, 13);
	assert_memory_equal(crx.d, "hello client!", 13);

	/* both directions at once, non-blocking writers */
	memset(&crx, 0, sizeof(crx));
	memset(&srx, 0, sizeof(srx));
	RUN_UNTIL(({
		for (int side = 0; side < 2; side++) {
			size_t *done = side ? &sw : &cw;
			size_t k = big - *done < sizeof(out) ? big - *done : sizeof(out);
			ssize_t n;

			if (!k)
				continue;
			for (size_t i = 0; i < k; i++)
				out[i] = pat(*done + i + (side ? 7 : 0));
			n = send(side ? sfd : cfd, out, k, MSG_NOSIGNAL);
			if (n > 0)
				*done += (size_t)n;
			else
				assert_true(errno == EAGAIN);
		}
		rx_drain(sfd, &srx);
		rx_drain(cfd, &crx);
		srx.len == big && crx.len == big;
	}));
	for (size_t i = 0; i < big; i++) {
		if (srx.d[i] != pat(i))
			fail_msg("server side byte %zu differs", i);
		if (crx.d[i] != pat(i + 7))
			fail_msg("client side byte %zu differs", i);
	}
	assert_int_equal(s->req.total, 12 + big);
	assert_int_equal(s->res.total, 13 + big);

	/* the client closes, then the server: the session ends cleanly */
	close(cfd);
	RUN_UNTIL(rx_drain(sfd, &srx) && srx.eof);
	close(sfd);
	wait_sessions_gone();
	expect_log("192.0.2.10:40000 127.0.0.1:8001 -- 50012 50013 s");
}

/* Half-close over TCP: the client shuts its write side; the server sees
 * EOF, can still answer, and the client gets the answer, then EOF. */
static void test_half_close(void **state)
{
	static struct rx crx, srx;
	char want[128];
	struct sockaddr_storage me;
	socklen_t ml = sizeof(me);
	char a[64];
	int cfd, sfd;
	struct sess *s;

	(void)state;
	load("127.0.0.1:8002", "");
	s = tcp_client(&cfd);
	sfd = srv_wait_accept();
	send_all(cfd, "request", 7);
	assert_int_equal(shutdown(cfd, SHUT_WR), 0);
	RUN_UNTIL(rx_drain(sfd, &srx) == 7 && srx.eof);
	assert_memory_equal(srx.d, "request", 7);
	/* one direction is over, the other is open */
	assert_int_equal(sess_count_get(), w.sess_base + 1);
	assert_true(s->req.shut);
	assert_false(s->res.shut);

	run_steps(5);
	send_all(sfd, "answer", 6);
	RUN_UNTIL(rx_drain(cfd, &crx) >= 6);
	assert_memory_equal(crx.d, "answer", 6);
	assert_false(crx.eof);
	assert_int_equal(sess_count_get(), w.sess_base + 1);

	assert_int_equal(shutdown(sfd, SHUT_WR), 0);
	RUN_UNTIL(rx_drain(cfd, &crx) == 6 && crx.eof);
	wait_sessions_gone();
	getsockname(cfd, (struct sockaddr *)&me, &ml);
	snprintf(want, sizeof(want), "%s 127.0.0.1:8002 -- 7 6 s", addr_str(&me, a, sizeof(a)));
	expect_log(want);
	close(cfd);
	close(sfd);
}

/* A server that stops reading: the client is no longer read once the
 * request channel is full (memory stays at one buffer), and the relay
 * resumes, in order and complete, once the server reads again. */
static void test_backpressure(void **state)
{
	struct sockaddr_storage peer = inet("192.0.2.11", 40001);
	struct sockaddr_in sin;
	uint64_t wr = 0, rd = 0;
	const uint64_t cap = 64ull << 20;
	char buf[16384];
	int stalled = 0;
	int cfd, sfd;
	int small = 4096;
	struct sess *s;

	(void)state;
	/* a small window on the server side keeps the test short */
	close(w.srv_lfd);
	w.srv_lfd = tcp_listen(&sin, small);
	w.srv_port = ntohs(sin.sin_port);
	load("127.0.0.1:8003", "");
	s = unix_client(&cfd, &peer);
	assert_int_equal(setsockopt(cfd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
	sfd = srv_wait_accept();
	RUN_UNTIL(s->state == SST_EST);

	/* write until the client cannot write any more for many steps */
	while (stalled < 50) {
		ssize_t n;

		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = pat(wr + i);
		n = send(cfd, buf, sizeof(buf), MSG_NOSIGNAL);
		if (n > 0) {
			wr += (uint64_t)n;
			stalled = 0;
		} else {
			assert_true(errno == EAGAIN);
			stalled++;
		}
		if (wr > cap)
			fail_msg("%llu bytes accepted from a client toward a server that does not read",
				 (unsigned long long)wr);
		ev_run(rt.loop, EVRUN_ONCE);
		/* never more than one buffer for this session */
		assert_true(s->req.len <= PUMP_BUFSIZE);
		assert_true(pump_pool_in_use() <= w.pool_base + 1);
	}
	assert_true(chan_full(&s->req));
	assert_false(ev_is_active(&s->cli.rio));
	assert_int_equal(pump_pool_in_use(), w.pool_base + 1);

	/* the server reads again: everything written arrives, then more */
	{
		const uint64_t total = wr + 300000;

		RUN_UNTIL(({
			ssize_t n;

			while (wr < total) {
				size_t k = total - wr < sizeof(buf) ? (size_t)(total - wr) : sizeof(buf);

				for (size_t i = 0; i < k; i++)
					buf[i] = pat(wr + i);
				n = send(cfd, buf, k, MSG_NOSIGNAL);
				if (n <= 0) {
					assert_true(errno == EAGAIN);
					break;
				}
				wr += (uint64_t)n;
			}
			while ((n = recv(sfd, buf, sizeof(buf), 0)) > 0) {
				for (ssize_t i = 0; i < n; i++)
					if (buf[i] != pat(rd + (uint64_t)i))
						fail_msg("byte %llu differs", (unsigned long long)(rd + (uint64_t)i));
				rd += (uint64_t)n;
			}
			assert_true(n < 0 && errno == EAGAIN);
			rd == total;
		}));
	}
	assert_int_equal(s->req.total, rd);
	close(cfd);
	close(sfd);
	wait_sessions_gone();
}

/* ---- PROXY protocol ---- */

/* send-proxy-v2: before any payload the server receives a v2 header whose
 * addresses are the client's and the original destination as the session
 * computed them (bind on the wildcard address: the destination is the
 * accepted socket's local address). */
static void test_send_proxy_v2(void **state)
{
	static struct rx srx;
	struct sockaddr_storage cli, dst;
	socklen_t l = sizeof(cli);
	struct pp_hdr h;
	size_t need = 0;
	int cfd, sfd, r;
	char a[64], b[64];

	(void)state;
	load("*:8004", "send-proxy-v2");
	tcp_client(&cfd);
	assert_int_equal(getsockname(cfd, (struct sockaddr *)&cli, &l), 0);
	l = sizeof(dst);
	assert_int_equal(getpeername(cfd, (struct sockaddr *)&dst, &l), 0);
	sfd = srv_wait_accept();

	/* the header comes alone, before the client sent anything */
	RUN_UNTIL(({
		rx_drain(sfd, &srx);
		memset(&h, 0, sizeof(h));
		(r = pp_decode((uint8_t *)srx.d, srx.len, &h, &need)) != 0;
	}));
	assert_true(r > 0);
	run_steps(5);
	rx_drain(sfd, &srx);
	assert_int_equal(srx.len, (size_t)r);
	assert_int_equal(h.version, 2);
	assert_int_equal(h.cmd, PP_CMD_PROXY);
	assert_int_equal(h.family, AF_INET);
	assert_int_equal(h.socktype, SOCK_STREAM);
	assert_string_equal(addr_str(&h.src, a, sizeof(a)), addr_str(&cli, b, sizeof(b)));
	assert_string_equal(addr_str(&h.dst, a, sizeof(a)), addr_str(&dst, b, sizeof(b)));
	pp_hdr_clear(&h);

	/* the payload follows it, untouched */
	send_all(cfd, "payload", 7);
	RUN_UNTIL(rx_drain(sfd, &srx) >= (size_t)r + 7);
	assert_int_equal(srx.len, (size_t)r + 7);
	assert_memory_equal(srx.d + r, "payload", 7);
	close(cfd);
	close(sfd);
	wait_sessions_gone();
}

/* accept-proxy: the header the test writes is consumed exactly (the payload
 * in the same segment reaches the server, nothing of the header does), and
 * the advertised addresses are the session's (%ci/%fi in the log line, and
 * the PROXY header sent on with send-proxy-v2). */
static void test_accept_proxy(void **state)
{
	static struct rx srx;
	struct sockaddr_storage peer = inet("192.0.2.12", 40002);
	struct pp_hdr in = { .cmd = PP_CMD_PROXY };
	struct pp_hdr out;
	uint8_t hdr[256];
	char msg[512];
	int n, cfd, sfd, r;
	char a[64];

	(void)state;
	load("127.0.0.1:8005 accept-proxy", "send-proxy-v2");
	in.src = inet("203.0.113.5", 1234);
	in.dst = inet("198.51.100.7", 443);
	n = pp_encode_v2(hdr, sizeof(hdr), &in, 0);
	assert_true(n > 0);
	memcpy(msg, hdr, (size_t)n);
	memcpy(msg + n, "after-the-header", 16);

	unix_client(&cfd, &peer);
	send_all(cfd, msg, (size_t)n + 16);
	sfd = srv_wait_accept();
	RUN_UNTIL(({
		memset(&out, 0, sizeof(out));
		rx_drain(sfd, &srx);
		(r = pp_decode((uint8_t *)srx.d, srx.len, &out, NULL)) > 0 && srx.len >= (size_t)r + 16;
	}));
	assert_int_equal(srx.len, (size_t)r + 16);
	assert_memory_equal(srx.d + r, "after-the-header", 16);
	assert_string_equal(addr_str(&out.src, a, sizeof(a)), "203.0.113.5:1234");
	assert_string_equal(addr_str(&out.dst, a, sizeof(a)), "198.51.100.7:443");
	pp_hdr_clear(&out);

	close(cfd);
	close(sfd);
	wait_sessions_gone();
	expect_log("203.0.113.5:1234 198.51.100.7:443 -- 16 0 s");
}

/* accept-proxy over TCP with a v1 header arriving in two pieces: nothing
 * is connected while the header is incomplete, then exactly the header is
 * consumed. */
static void test_accept_proxy_split(void **state)
{
	static struct rx srx;
	static const char part1[] = "PROXY TCP4 203.0.113.9 198.51.100.8 5555 ";
	static const char part2[] = "22\r\nSSH-2.0-x\r\n";
	int cfd, sfd;
	struct sess *s;

	(void)state;
	load("127.0.0.1:8006 accept-proxy", "");
	s = tcp_client(&cfd);
	send_all(cfd, part1, strlen(part1));
	run_steps(20);
	assert_int_equal(s->state, SST_HDR);
	assert_true(srv_accept() < 0 && errno == EAGAIN);
	send_all(cfd, part2, strlen(part2));
	sfd = srv_wait_accept();
	RUN_UNTIL(rx_drain(sfd, &srx) >= 11);
	run_steps(5);
	rx_drain(sfd, &srx);
	assert_int_equal(srx.len, 11);
	assert_memory_equal(srx.d, "SSH-2.0-x\r\n", 11);
	close(cfd);
	close(sfd);
	wait_sessions_gone();
	expect_log("203.0.113.9:5555 198.51.100.8:22 -- 11 0 s");
}

/* ---- the backend queue ---- */

/* A server with maxconn 1: the second and third clients wait in the
 * backend queue; a session end frees the slot, and the next one connects
 * from the loop afterwards, never from inside the close. */
static void test_queue_dequeue_deferred(void **state)
{
	struct sockaddr_storage p1 = inet("192.0.2.21", 1001), p2 = inet("192.0.2.22", 1002),
				p3 = inet("192.0.2.23", 1003);
	static struct rx rx1, rx2, rx3;
	struct sess *s1, *s2, *s3;
	struct server *srv;
	int c1, c2, c3, f1, f2, f3;

	(void)state;
	load("127.0.0.1:8007", "maxconn 1");
	srv = w.px->srv;
	s1 = unix_client(&c1, &p1);
	s2 = unix_client(&c2, &p2);
	s3 = unix_client(&c3, &p3);
	assert_int_equal(s2->state, SST_QUEUE);
	assert_int_equal(s3->state, SST_QUEUE);
	assert_int_equal(w.px->nbpend, 2);
	f1 = srv_wait_accept();
	send_all(c1, "one", 3);
	send_all(c2, "two", 3);
	send_all(c3, "three", 5);
	RUN_UNTIL(rx_drain(f1, &rx1) == 3);
	assert_int_equal(s1->state, SST_EST);
	run_steps(20);
	/* still one connection only */
	assert_true(srv_accept() < 0 && errno == EAGAIN);
	assert_int_equal(s2->state, SST_QUEUE);
	assert_int_equal(srv->cur_conn, 1);

	/* the first ends through the loop (client, then server close) */
	close(c1);
	RUN_UNTIL(rx_drain(f1, &rx1) == 3 && rx1.eof);
	assert_true(srv_accept() < 0 && errno == EAGAIN);
	close(f1);
	f2 = srv_wait_accept();
	assert_int_equal(sess_count_get(), w.sess_base + 2);
	RUN_UNTIL(rx_drain(f2, &rx2) == 3);
	assert_memory_equal(rx2.d, "two", 3);
	assert_int_equal(s3->state, SST_QUEUE);
	assert_int_equal(w.px->nbpend, 1);

	/* ended from outside any callback: the queue is served by the loop,
	 * not by the close itself */
	sess_kill(s2);
	assert_int_equal(s3->state, SST_QUEUE);
	assert_int_equal(w.px->nbpend, 1);
	assert_int_equal(srv->cur_conn, 0);
	ev_run(rt.loop, EVRUN_NOWAIT);
	assert_int_equal(w.px->nbpend, 0);
	assert_true(s3->state == SST_CONNECT || s3->state == SST_EST);
	assert_int_equal(srv->cur_conn, 1);
	f3 = srv_wait_accept();
	RUN_UNTIL(rx_drain(f3, &rx3) == 5);
	assert_memory_equal(rx3.d, "three", 5);
	/* %bq: the third waited behind one dequeue */
	assert_int_equal(s3->bq, 2);

	close(c2);
	close(f2);
	close(c3);
	close(f3);
	wait_sessions_gone();
	assert_int_equal(srv->cur_conn, 0);
}

/* ---- a session another thread dequeued, ended before its start ran ---- */

/* Makes s a session of thread 2 (tid 1) as far as the queue and the
 * session lists are concerned: its loop is still this one, but a dequeue
 * here posts its start to thread 2, whose loop does not run in this test,
 * so the start stays pending for as long as the test wants. */
static void owned_by_thread2(struct sess *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		sess_thr[0].list = s->next;
	if (s->next)
		s->next->prev = s->prev;
	sess_thr[0].count--;
	s->prev = NULL;
	s->next = sess_thr[1].list;
	if (s->next)
		s->next->prev = s;
	sess_thr[1].list = s;
	sess_thr[1].count++;
	s->tid = 1;
}

/* Two threads prepared (none started); s1 holds the server's only slot,
 * s2 (thread 2's) waits; s1 ends and this thread's dequeue gives s2 the
 * slot and posts its start to thread 2. Returns s2; *c2 its client. */
static struct sess *dequeued_not_started(int *c2, struct server **srv)
{
	struct sockaddr_storage p1 = inet("192.0.2.31", 1001), p2 = inet("192.0.2.32", 1002);
	char line[512];
	char *err = NULL;
	struct sess *s1, *s2;
	int c1, f1;
	ssize_t n;

	thread_init_main();
	if (threads_prepare(2, &err) < 0)
		fail_msg("threads_prepare: %s", err ? err : "?");
	*srv = w.px->srv;
	s1 = unix_client(&c1, &p1);
	s2 = unix_client(c2, &p2);
	assert_int_equal(s2->state, SST_QUEUE);
	owned_by_thread2(s2);
	f1 = srv_wait_accept();
	sess_kill(s1);
	close(c1);
	close(f1);
	RUN_UNTIL((n = recv(w.log[1], line, sizeof(line) - 1, 0)) > 0);  /* s1's line */
	loop_run_deferred();  /* the dequeue: s2's start posted to thread 2 */
	assert_int_equal(w.px->nbpend, 0);
	assert_int_equal((*srv)->cur_conn, 1);
	assert_ptr_equal(s2->srv, *srv);
	assert_int_equal(s2->state, SST_QUEUE);  /* its start has not run */
	return s2;
}

static void end_threads(void)
{
	wait_sessions_gone();
	threads_free();
}

/* Ended (here: killed) before its start ran, it is logged as HAProxy logs
 * a stream the queue gave a server to: connection phase ("KC", not "KQ"),
 * the server's name, and the time it waited (%Tw, not -1). Its slot is
 * given back and its start never runs. */
static void test_dequeued_elsewhere_then_closed(void **state)
{
	struct server *srv;
	struct sess *s2;
	char line[512];
	int c2, tw = -2;
	ssize_t n;

	(void)state;
	w.logfmt = "%ts %s %Tw";
	load("127.0.0.1:8009", "maxconn 1");
	s2 = dequeued_not_started(&c2, &srv);
	sess_kill(s2);
	RUN_UNTIL((n = recv(w.log[1], line, sizeof(line) - 1, 0)) > 0);
	line[n] = '\0';
	assert_int_equal(sscanf(line, "KC s %d", &tw), 1);
	assert_true(tw >= 0);
	assert_int_equal(srv->cur_conn, 0);
	close(c2);
	end_threads();
}

/* Its `timeout queue` expires before the start ran: the dequeue came
 * first (HAProxy checks it before the timeout), so it connects and relays
 * instead of ending "sQ". */
static void test_dequeued_elsewhere_queue_timeout(void **state)
{
	static struct rx rx2;
	struct server *srv;
	struct sess *s2;
	int c2, f2;

	(void)state;
	w.extra = "    timeout queue 50ms\n";
	load("127.0.0.1:8010", "maxconn 1");
	s2 = dequeued_not_started(&c2, &srv);
	f2 = srv_wait_accept();  /* after the 50 ms: started by the timer */
	assert_true(s2->state == SST_CONNECT || s2->state == SST_EST);
	send_all(c2, "two", 3);
	RUN_UNTIL(rx_drain(f2, &rx2) == 3);
	assert_memory_equal(rx2.d, "two", 3);
	close(c2);
	close(f2);
	end_threads();
	assert_int_equal(srv->cur_conn, 0);
}

/* ---- the proxy's own connection coming back (issue 18, a loop) ---- */

/* The session's own connection to its server, handed back to sess_accept()
 * as a transparent listener would get it if interception sent it there.
 * The listener's address (port 1) is not where the connection went, so it
 * counts as diverted, like a tproxy'd one. */
static int own_conn_back(struct sockaddr_storage *back)
{
	socklen_t bl = sizeof(*back);
	int fd = -1;

	RUN_UNTIL((fd = accept4(w.srv_lfd, (struct sockaddr *)back, &bl,
				SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0);
	return fd;
}

/* Refused at accept instead of becoming a session that connects again (and
 * is diverted again, up to maxconn): no session is made, the warning names
 * the loop, the origin session sees a reset and ends. A connection from
 * another socket toward the same server is an ordinary session. */
static void test_own_connection_refused(void **state)
{
	struct sockaddr_storage back, dst;
	socklen_t dl = sizeof(dst);
	unsigned long long refused0 = sess_own_refused;
	struct sess *s;
	int cfd, fd, other, ofd;
	unsigned n;

	(void)state;
	load("127.0.0.1:1 transparent", "");
	s = tcp_client(&cfd);
	fd = own_conn_back(&back);
	RUN_UNTIL(s->state == SST_EST);
	n = sess_count_get();
	sess_accept(w.li, fd, &back);
	assert_int_equal(sess_count_get(), n);
	assert_int_equal(sess_own_refused, refused0 + 1);
	assert_non_null(strstr(msgs, "frontend 'li': refused a connection from 127.0.0.1:"));
	assert_non_null(strstr(msgs, "diverted to 127.0.0.1:1: it is decoyproxy's own connection "
			       "to backend 'li'/server 's', sent back by the intercept rules (a loop"));
	/* the reset reaches the origin session: its client gets the end */
	{
		static struct rx crx;

		RUN_UNTIL(rx_drain(cfd, &crx) == 0 && crx.eof);
	}
	close(cfd);
	wait_sessions_gone();

	/* someone else's connection to the same server: a session */
	other = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(other >= 0);
	assert_int_equal(getsockname(w.srv_lfd, (struct sockaddr *)&dst, &dl), 0);
	assert_int_equal(connect(other, (struct sockaddr *)&dst, dl), 0);
	ofd = own_conn_back(&back);
	n = sess_count_get();
	sess_accept(w.li, ofd, &back);
	assert_int_equal(sess_count_get(), n + 1);
	assert_int_equal(sess_own_refused, refused0 + 1);
	close(other);
	/* the new session's server connection (to our own server socket) */
	close(own_conn_back(&back));
	wait_sessions_gone();
}

/* A direct connection to the listener's own address is not diverted: a
 * frontend chained on purpose to another (here: to itself) still gets its
 * session. */
static void test_own_connection_direct(void **state)
{
	char bind[64];
	struct sockaddr_storage back;
	unsigned long long refused0 = sess_own_refused;
	int cfd, fd;
	unsigned n;

	(void)state;
	snprintf(bind, sizeof(bind), "127.0.0.1:%d transparent", w.srv_port);
	load(bind, "");
	(void)tcp_client(&cfd);
	fd = own_conn_back(&back);
	n = sess_count_get();
	sess_accept(w.li, fd, &back);
	assert_int_equal(sess_count_get(), n + 1);
	assert_int_equal(sess_own_refused, refused0);
	close(cfd);
	close(own_conn_back(&back));
	while (sess_thr[0].list)
		sess_kill(sess_thr[0].list);
	wait_sessions_gone();
}

/* ---- union sess_addr (core/sess_addr.c) ---- */

/* a sockaddr_storage whose bytes past addr_len are not zero (as accept()
 * leaves a stack buffer), with the address set by fill */
static void garbage(struct sockaddr_storage *ss)
{
	memset(ss, 0xa5, sizeof(*ss));
}

static void test_sess_addr_ip(void **state)
{
	union sess_addr a;
	struct sockaddr_storage in, out, zero;
	struct sockaddr_in *v4 = (struct sockaddr_in *)&in;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&in;

	(void)state;
	/* the point of it: an IP address in place, in far less than 128 bytes */
	assert_true(sizeof(a) <= 32);
	memset(&a, 0, sizeof(a));
	memset(&zero, 0, sizeof(zero));
	sess_addr_get(&a, &out);
	assert_memory_equal(&out, &zero, sizeof(out));

	garbage(&in);
	v4->sin_family = AF_INET;
	v4->sin_port = htons(4242);
	v4->sin_addr.s_addr = htonl(0xc0000209);
	memset(v4->sin_zero, 0, sizeof(v4->sin_zero));
	assert_int_equal(sess_addr_set(&a, &in), 0);
	assert_int_equal(sess_addr_family(&a), AF_INET);
	sess_addr_get(&a, &out);
	/* the address back whole, zeroes after it */
	assert_memory_equal(&out, &in, sizeof(struct sockaddr_in));
	assert_memory_equal((char *)&out + sizeof(struct sockaddr_in), (char *)&zero + sizeof(struct sockaddr_in),
			    sizeof(out) - sizeof(struct sockaddr_in));

	garbage(&in);
	v6->sin6_family = AF_INET6;
	v6->sin6_port = htons(22);
	v6->sin6_flowinfo = htonl(7);
	inet_pton(AF_INET6, "fe80::1", &v6->sin6_addr);
	v6->sin6_scope_id = 3;
	assert_int_equal(sess_addr_set(&a, &in), 0);
	sess_addr_get(&a, &out);
	assert_memory_equal(&out, &in, sizeof(struct sockaddr_in6));
	assert_memory_equal((char *)&out + sizeof(struct sockaddr_in6), (char *)&zero + sizeof(struct sockaddr_in6),
			    sizeof(out) - sizeof(struct sockaddr_in6));

	memset(&in, 0, sizeof(in));
	assert_int_equal(sess_addr_set(&a, &in), 0);
	assert_int_equal(sess_addr_family(&a), AF_UNSPEC);
	sess_addr_get(&a, &out);
	assert_memory_equal(&out, &zero, sizeof(out));
	sess_addr_clear(&a);
}

static void test_sess_addr_unix(void **state)
{
	union sess_addr a;
	struct sockaddr_storage path, abns, v4, out;
	struct sockaddr_storage *kept;
	char *err = NULL;

	(void)state;
	memset(&a, 0, sizeof(a));
	/* a unix path and an abstract name come back byte for byte, whatever
	 * the bytes after them */
	garbage(&path);
	assert_int_equal(addr_parse_unix("unix@/run/decoy.sock", NULL, &path, &err), 0);
	memset(&abns, 0, sizeof(abns));
	assert_int_equal(addr_parse_unix("abns@decoy", NULL, &abns, &err), 0);
	assert_int_equal(sess_addr_set(&a, &path), 0);
	assert_int_equal(sess_addr_family(&a), AF_UNIX);
	kept = a.ext.ss;
	assert_non_null(kept);
	sess_addr_get(&a, &out);
	assert_memory_equal(&out, &path, sizeof(out));

	/* another unix address (a retry toward another unix server): the
	 * same room */
	assert_int_equal(sess_addr_set(&a, &abns), 0);
	assert_ptr_equal(a.ext.ss, kept);
	sess_addr_get(&a, &out);
	assert_memory_equal(&out, &abns, sizeof(out));
	assert_true(addr_is_abns(&out));

	/* set-src of an IPv4 address on a unix client: in place, the room is
	 * freed (the sanitizer build sees a leak otherwise) */
	memset(&v4, 0, sizeof(v4));
	((struct sockaddr_in *)&v4)->sin_family = AF_INET;
	((struct sockaddr_in *)&v4)->sin_addr.s_addr = htonl(0xc0000209);
	assert_int_equal(sess_addr_set(&a, &v4), 0);
	assert_int_equal(sess_addr_family(&a), AF_INET);
	sess_addr_get(&a, &out);
	assert_memory_equal(&out, &v4, sizeof(out));

	/* and a unix address again, then cleared */
	assert_int_equal(sess_addr_set(&a, &path), 0);
	sess_addr_clear(&a);
	assert_int_equal(sess_addr_family(&a), AF_UNSPEC);
	free(err);
}

/* ---- a timer that expired in the iteration that frees its owner ----
 * libev makes an expired one-shot timer inactive and pending before it
 * runs any callback of that iteration; a callback that runs first (here a
 * timer of higher priority that expires at the same instant, in the daemon
 * a reload's activation or an I/O event) and frees the timer's owner must
 * stop the timer even though it is no longer active, or its callback runs
 * on freed memory (a use-after-free that AddressSanitizer caught in a
 * reload: chk_stop() after a check's timer had expired). */

static struct {
	ev_timer t;
	struct sess *s;         /* sess_kill() it */
	struct dp_config *c;    /* or chk_stop() it */
	int fired;
} killer;

static void killer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)loop; (void)t; (void)revents;
	killer.fired++;
	if (killer.s)
		sess_kill(killer.s);
	if (killer.c)
		chk_stop(killer.c);
}

/* Starts the killer at EV_MAXPRI so that it fires at `at` (seconds from
 * the loop's now), sleeps until both it and the victim's timer (due at
 * `at` too) have expired, and runs one iteration: both become pending in
 * it and the killer runs first. */
static void kill_in_same_iteration(double at)
{
	ev_timer_init(&killer.t, killer_cb, at, 0.0);
	ev_set_priority(&killer.t, EV_MAXPRI);
	ev_timer_start(rt.loop, &killer.t);
	usleep((useconds_t)((at + 0.03) * 1e6));
	ev_run(rt.loop, EVRUN_ONCE);
	assert_int_equal(killer.fired, 1);
}

/* A check's timer: chk_stop() in that iteration; the freed check must
 * not run (it would connect to our server). */
static void test_chk_stop_pending_timer(void **state)
{
	int fd;

	(void)state;
	memset(&killer, 0, sizeof(killer));
	load("127.0.0.1:8031", "check inter 1s");
	assert_int_equal(chk_start(w.c), 0);
	killer.c = w.c;
	assert_non_null(w.px->srv->chk);
	/* chk_start() makes the first check due 1 ms after the loop's now */
	kill_in_same_iteration(0.001);
	assert_null(w.px->srv->chk);
	run_steps(20);
	fd = srv_accept();
	if (fd >= 0)
		close(fd);
	assert_int_equal(fd, -1);
	chk_stop(w.c); /* idempotent: nothing left */
}

/* A session's timeout: sess_kill() in that iteration; the freed session's
 * timer must not run (one log line, the kill's). In the sanitizer build
 * (no session pool) running it is a use-after-free that ASan reports; in
 * the normal build a pooled session's timer finds nothing to do. */
static void test_sess_kill_pending_timer(void **state)
{
	struct sess *s;
	int c, sfd;
	char line[512];
	ssize_t n;

	(void)state;
	memset(&killer, 0, sizeof(killer));
	w.extra = "    timeout client 1s\n";
	w.logfmt = "%ts";
	load("127.0.0.1:8032", "");
	struct sockaddr_storage peer = inet("10.0.0.1", 40000);

	s = unix_client(&c, &peer);
	sfd = srv_wait_accept();
	RUN_UNTIL(s->state == SST_EST);
	killer.s = s;
	assert_true(ev_is_active(&s->timer));
	kill_in_same_iteration(ev_timer_remaining(rt.loop, &s->timer));
	run_steps(20);
	assert_int_equal(sess_count_get(), w.sess_base);
	n = recv(w.log[1], line, sizeof(line) - 1, 0);
	assert_true(n > 0);
	line[n] = '\0';
	assert_string_equal(line, "KD\n");
	/* no second line */
	assert_int_equal(recv(w.log[1], line, sizeof(line), MSG_DONTWAIT), -1);
	close(c);
	close(sfd);
	w.extra = NULL;
	w.logfmt = NULL;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_relay_both_ways, setup, teardown),
		cmocka_unit_test_setup_teardown(test_half_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backpressure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_proxy_v2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_accept_proxy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_accept_proxy_split, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_dequeue_deferred, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dequeued_elsewhere_then_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dequeued_elsewhere_queue_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_own_connection_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_own_connection_direct, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chk_stop_pending_timer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sess_kill_pending_timer, setup, teardown),
		cmocka_unit_test(test_sess_addr_ip),
		cmocka_unit_test(test_sess_addr_unix),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	pump_pool_trim();
	sess_pool_trim();
	ev_loop_destroy(EV_DEFAULT);
	return rc;
}
