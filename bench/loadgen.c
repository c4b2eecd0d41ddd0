/* loadgen.c — TCP load generator for decoyproxy's benchmarks (bench/run.sh).
 *
 *   loadgen cps  -c ADDR:PORT [-C CONC] [-d SECS] [-W SECS] [-s BYTES]
 *   loadgen rps  -c ADDR:PORT [-C CONC] [-d SECS] [-W SECS] [-s BYTES]
 *   loadgen idle -c ADDR:PORT -n COUNT [-C CONC] [-d SECS] [-w SECS] [-s BYTES]
 *
 * The peer is an echo service (dpserver -m echo), reached directly or
 * through a proxy. One exchange = send BYTES, read the same BYTES back and
 * compare them with what was sent, so a proxy that loses or mangles data
 * shows up as failures, never as speed.
 *
 *   cps   CONC connections in flight; each does one exchange and closes
 *         (the client closes first, like a short request/response protocol)
 *         and is replaced at once by a new one.
 *   rps   CONC persistent connections, each doing exchanges back to back.
 *   idle  opens COUNT connections (at most CONC being set up at once), one
 *         exchange each to prove the path works end to end, then keeps them
 *         open and silent until SIGTERM/SIGINT or -d SECS.
 *
 * cps and rps count exchanges completed in the window [W, W + d) after the
 * start (W is a warm-up) and print one line,
 *   CPS ok=N fail=N stalled=N secs=S rate=R   (RPS ... for rps)
 * where stalled counts the exchanges left without progress for 1 s or more
 * when the window closed.
 * idle prints, once every connection has been tried,
 *   IDLE open=N fail=N secs=S
 * and, when it ends, IDLE-END alive=N dropped=N.
 *
 * Plain C and libc, one epoll loop, no project code, so the harness measures
 * every proxy with the same tool. Every loop is bounded by a deadline.
 * Exit status: 0 when the run completed (failures are reported, not fatal),
 * 1 on a setup error, 2 on a usage error.
 */
#include "config.h"

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONC	100000
#define MAX_COUNT	1000000
#define MAX_SIZE	65536
#define MAX_EVENTS	256
#define TICK_MS		20
/* An exchange that makes no progress for this long is a failure; a proxy
 * that stalls a connection must not stall the measurement with it. */
#define STALL_NS	(3LL * 1000000000)
#define NS		1000000000LL

enum mode { MODE_CPS, MODE_RPS, MODE_IDLE };

enum cstate {
	C_FREE,		/* no socket */
	C_CONNECTING,	/* waiting for the connect to complete */
	C_SENDING,	/* writing the request */
	C_RECVING,	/* reading the echo */
	C_IDLE,		/* idle mode: exchange done, held open */
};

struct conn {
	int fd;
	enum cstate st;
	uint32_t events;	/* what epoll currently watches for this fd */
	size_t off;		/* bytes of the current exchange sent or received */
	int64_t t_act;		/* last progress, for the stall check */
};

struct opts {
	enum mode mode;
	struct sockaddr_storage dst;
	socklen_t dstlen;
	long conc;
	long count;
	double dur;
	double warm;
	double wait;
	size_t size;
};

struct run {
	struct opts o;
	int ep;
	struct conn *conns;
	long nconns;
	unsigned char *tx, *rx;
	int64_t t0, win_start, win_end, deadline;
	uint64_t ok, ok_win, fail;
	long launched;		/* idle: connections started so far */
	long inflight;		/* idle: connections not yet idle nor failed */
	long idle;		/* idle: connections held when the hold began */
};

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: loadgen cps|rps|idle -c ADDR:PORT [options]\n"
		"  -c ADDR:PORT  echo service or proxy (1.2.3.4:80, [fd00::1]:80)\n"
		"  -C CONC       connections in flight (cps, rps) or being opened (idle); default 50\n"
		"  -n COUNT      idle: connections to open and hold\n"
		"  -d SECS       cps/rps: measured duration (default 5); idle: hold time (default 30)\n"
		"  -W SECS       cps/rps: warm-up before the measured window (default 0.5)\n"
		"  -w SECS       idle: limit for opening all connections (default 60)\n"
		"  -s BYTES      request size, echoed back (default 64, at most %d)\n",
		MAX_SIZE);
}

/* Parses "1.2.3.4:80" or "[fd00::1]:80" into o->dst. Returns 0 or -EINVAL. */
static int parse_dst(const char *s, struct opts *o)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon, *hs = s;
	size_t hlen;
	unsigned long port;
	char *end;

	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':')
			return -EINVAL;
		hs = s + 1;
		hlen = (size_t)(rb - hs);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -EINVAL;
		hlen = (size_t)(colon - s);
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, hs, hlen);
	host[hlen] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || port == 0 || port > 65535)
		return -EINVAL;

	memset(&o->dst, 0, sizeof(o->dst));
	if (s[0] == '[') {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&o->dst;

		if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
			return -EINVAL;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		o->dstlen = sizeof(*a6);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)&o->dst;

		if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
			return -EINVAL;
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		o->dstlen = sizeof(*a4);
	}
	return 0;
}

/* strtol/strtod wrappers that reject junk and out-of-range values. */
static int parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_secs(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || end == s || !(v >= lo && v <= hi))
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	bool have_dst = false, dur_set = false;
	long v;
	int c;

	if (argc < 2)
		return -EINVAL;
	if (!strcmp(argv[1], "cps"))
		o->mode = MODE_CPS;
	else if (!strcmp(argv[1], "rps"))
		o->mode = MODE_RPS;
	else if (!strcmp(argv[1], "idle"))
		o->mode = MODE_IDLE;
	else
		return -EINVAL;

	o->conc = 50;
	o->dur = 5;
	o->warm = 0.5;
	o->wait = 60;
	o->size = 64;
	optind = 2;
	while ((c = getopt(argc, argv, "c:C:n:d:W:w:s:h")) != -1) {
		switch (c) {
		case 'c':
			if (parse_dst(optarg, o) < 0)
				return -EINVAL;
			have_dst = true;
			break;
		case 'C':
			if (parse_long(optarg, 1, MAX_CONC, &o->conc) < 0)
				return -EINVAL;
			break;
		case 'n':
			if (parse_long(optarg, 1, MAX_COUNT, &o->count) < 0)
				return -EINVAL;
			break;
		case 'd':
			if (parse_secs(optarg, 0.1, 3600, &o->dur) < 0)
				return -EINVAL;
			dur_set = true;
			break;
		case 'W':
			if (parse_secs(optarg, 0, 60, &o->warm) < 0)
				return -EINVAL;
			break;
		case 'w':
			if (parse_secs(optarg, 0.1, 3600, &o->wait) < 0)
				return -EINVAL;
			break;
		case 's':
			if (parse_long(optarg, 1, MAX_SIZE, &v) < 0)
				return -EINVAL;
			o->size = (size_t)v;
			break;
		default:
			return -EINVAL;
		}
	}
	if (optind != argc || !have_dst)
		return -EINVAL;
	if (o->mode == MODE_IDLE) {
		if (o->count == 0)
			return -EINVAL;
		if (!dur_set)
			o->dur = 30;
	}
	return 0;
}

/* Each connection needs one descriptor; the soft limit is raised to the
 * hard one (the caller raises the hard one as root). Returns 0 or -EMFILE. */
static int ensure_nofile(long want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			return -errno;
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)want)
		return -EMFILE;
	return 0;
}

/* Sets what epoll watches for c (nothing when events is 0). */
static int conn_watch(struct run *r, struct conn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };
	int op;

	if (events == c->events)
		return 0;
	if (!c->events)
		op = EPOLL_CTL_ADD;
	else if (!events)
		op = EPOLL_CTL_DEL;
	else
		op = EPOLL_CTL_MOD;
	if (epoll_ctl(r->ep, op, c->fd, &ev) < 0)
		return -errno;
	c->events = events;
	return 0;
}

/* Closes c's socket (the kernel drops it from epoll) and frees the slot. */
static void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->events = 0;
	c->st = C_FREE;
	c->off = 0;
}

static bool counting(const struct run *r, int64_t t)
{
	return t >= r->win_start && t < r->win_end;
}

static void conn_fail(struct run *r, struct conn *c)
{
	if (counting(r, now_ns()))
		r->fail++;
	if (r->o.mode == MODE_IDLE && c->st != C_IDLE)
		r->inflight--;
	conn_close(c);
}

/* Starts a non-blocking connect on a free slot. Returns 0 or -errno (the
 * slot stays free, e.g. on EADDRNOTAVAIL when source ports run out). */
static int conn_open(struct run *r, struct conn *c)
{
	int one = 1;
	int fd, ret;

	fd = socket(r->o.dst.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* small exchanges must not wait for Nagle */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&r->o.dst, r->o.dstlen) < 0 && errno != EINPROGRESS) {
		ret = -errno;
		close(fd);
		return ret;
	}
	c->fd = fd;
	c->st = C_CONNECTING;
	c->off = 0;
	c->events = 0;
	c->t_act = now_ns();
	/* completion (or immediate success) is reported as writability */
	ret = conn_watch(r, c, EPOLLOUT);
	if (ret < 0) {
		conn_close(c);
		return ret;
	}
	return 0;
}

/* Writes what is left of the request; on completion waits for the echo. */
static int conn_send(struct run *r, struct conn *c)
{
	while (c->off < r->o.size) {
		ssize_t n = send(c->fd, r->tx + c->off, r->o.size - c->off, MSG_NOSIGNAL);

		if (n > 0) {
			c->off += (size_t)n;
			c->t_act = now_ns();
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return conn_watch(r, c, EPOLLOUT);
		return -EPIPE;
	}
	c->st = C_RECVING;
	c->off = 0;
	return conn_watch(r, c, EPOLLIN);
}

/* One exchange completed on c: count it, then do what the mode does next. */
static int conn_done(struct run *r, struct conn *c)
{
	int64_t t = now_ns();

	r->ok++;
	if (counting(r, t))
		r->ok_win++;
	switch (r->o.mode) {
	case MODE_CPS:
		conn_close(c);
		return 0;	/* the refill pass opens the next one */
	case MODE_RPS:
		c->st = C_SENDING;
		c->off = 0;
		return conn_send(r, c);
	case MODE_IDLE:
		c->st = C_IDLE;
		r->inflight--;
		/* still watched for input: data or EOF on a held connection is a drop */
		return 0;
	}
	return -EINVAL;
}

/* Reads the echo and checks it byte for byte against the request. */
static int conn_recv(struct run *r, struct conn *c)
{
	while (c->off < r->o.size) {
		ssize_t n = recv(c->fd, r->rx, r->o.size - c->off, 0);

		if (n > 0) {
			if (memcmp(r->rx, r->tx + c->off, (size_t)n) != 0)
				return -EBADMSG;
			c->off += (size_t)n;
			c->t_act = now_ns();
			continue;
		}
		if (n == 0)
			return -ECONNRESET;	/* EOF before the whole echo */
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN)
			return 0;
		return -errno;
	}
	return conn_done(r, c);
}

static int conn_connected(struct run *r, struct conn *c)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return -errno;
	if (err)
		return -err;
	c->st = C_SENDING;
	c->off = 0;
	return conn_send(r, c);
}

static void conn_event(struct run *r, struct conn *c, uint32_t ev)
{
	int ret = 0;

	switch (c->st) {
	case C_CONNECTING:
		ret = conn_connected(r, c);
		break;
	case C_SENDING:
		ret = conn_send(r, c);
		break;
	case C_RECVING:
		ret = (ev & (EPOLLIN | EPOLLERR | EPOLLHUP)) ? conn_recv(r, c) : 0;
		break;
	case C_IDLE:
		ret = -ECONNRESET;	/* a held connection must stay silent */
		break;
	case C_FREE:
		return;
	}
	if (ret < 0)
		conn_fail(r, c);
}

/* Fails exchanges that made no progress for STALL_NS. */
static void check_stalls(struct run *r, int64_t t)
{
	long i;

	for (i = 0; i < r->nconns; i++) {
		struct conn *c = &r->conns[i];

		if (c->st != C_FREE && c->st != C_IDLE && t - c->t_act > STALL_NS)
			conn_fail(r, c);
	}
}

/* cps/rps: keeps every slot busy. idle: starts connections until COUNT have
 * been tried, with at most CONC being set up at once. A connect that fails
 * at once counts as a failure; the slot is retried on the next tick. */
static void refill(struct run *r)
{
	long i;

	if (r->o.mode == MODE_IDLE) {
		while (r->launched < r->o.count && r->inflight < r->o.conc) {
			struct conn *c = &r->conns[r->launched++];

			if (conn_open(r, c) < 0) {
				r->fail++;
				continue;
			}
			r->inflight++;
		}
		return;
	}
	for (i = 0; i < r->nconns; i++) {
		struct conn *c = &r->conns[i];

		if (c->st == C_FREE && conn_open(r, c) < 0) {
			if (counting(r, now_ns()))
				r->fail++;
			return;		/* do not spin on a resource shortage */
		}
	}
}

/* Waits at most until `until` and dispatches what epoll reports. */
static int poll_once(struct run *r, int64_t until)
{
	struct epoll_event evs[MAX_EVENTS];
	int64_t left = until - now_ns();
	int tmo, n, i;

	if (left <= 0)
		return 0;
	tmo = left / 1000000 > TICK_MS ? TICK_MS : (int)(left / 1000000) + 1;
	n = epoll_wait(r->ep, evs, MAX_EVENTS, tmo);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (i = 0; i < n; i++)
		conn_event(r, evs[i].data.ptr, evs[i].events);
	return 0;
}

static int run_load(struct run *r)
{
	int64_t last_check = r->t0, end;
	long i, stalled = 0;
	double secs;
	int ret;

	while (!g_stop) {
		int64_t t = now_ns();

		if (t >= r->win_end)
			break;
		refill(r);
		ret = poll_once(r, r->win_end);
		if (ret < 0)
			return ret;
		if (t - last_check > NS / 10) {
			check_stalls(r, t);
			last_check = t;
		}
	}
	end = now_ns();
	/* exchanges hung at the end are reported: a proxy that stalls every
	 * connection must not look like one that was merely slow */
	for (i = 0; i < r->nconns; i++)
		if (r->conns[i].st != C_FREE && end - r->conns[i].t_act >= NS)
			stalled++;
	secs = (double)(end - r->win_start) / NS;
	if (secs > r->o.dur)
		secs = r->o.dur;	/* the window closed at win_end */
	if (secs <= 0)
		secs = 1e-9;
	printf("%s ok=%llu fail=%llu stalled=%ld secs=%.3f rate=%.1f\n",
	       r->o.mode == MODE_CPS ? "CPS" : "RPS",
	       (unsigned long long)r->ok_win, (unsigned long long)r->fail,
	       stalled, secs, (double)r->ok_win / secs);
	return 0;
}

static int run_idle(struct run *r)
{
	int64_t open_end = r->t0 + (int64_t)(r->o.wait * NS);
	int64_t last_check = r->t0, hold_end;
	long i, alive = 0;
	int ret;

	/* phase 1: open them all, bounded by -w */
	while (!g_stop && (r->launched < r->o.count || r->inflight > 0)) {
		int64_t t = now_ns();

		if (t >= open_end)
			break;
		refill(r);
		ret = poll_once(r, open_end);
		if (ret < 0)
			return ret;
		if (t - last_check > NS / 10) {
			check_stalls(r, t);
			last_check = t;
		}
	}
	/* whatever has not become idle by now has failed */
	for (i = 0; i < r->nconns; i++)
		if (r->conns[i].st != C_FREE && r->conns[i].st != C_IDLE)
			conn_fail(r, &r->conns[i]);
	r->fail += (uint64_t)(r->o.count - r->launched);
	for (i = 0; i < r->nconns; i++)
		if (r->conns[i].st == C_IDLE)
			alive++;
	printf("IDLE open=%ld fail=%llu secs=%.3f\n", alive,
	       (unsigned long long)r->fail, (double)(now_ns() - r->t0) / NS);
	fflush(stdout);

	/* phase 2: hold, bounded by -d, ended early by SIGTERM/SIGINT */
	r->idle = alive;
	alive = 0;
	hold_end = now_ns() + (int64_t)(r->o.dur * NS);
	while (!g_stop && now_ns() < hold_end) {
		ret = poll_once(r, hold_end);
		if (ret < 0)
			return ret;
	}
	for (i = 0; i < r->nconns; i++)
		if (r->conns[i].st == C_IDLE)
			alive++;
	printf("IDLE-END alive=%ld dropped=%ld\n", alive, r->idle - alive);
	return 0;
}

static int run_init(struct run *r)
{
	size_t i;

	r->nconns = r->o.mode == MODE_IDLE ? r->o.count : r->o.conc;
	r->conns = calloc((size_t)r->nconns, sizeof(*r->conns));
	r->tx = malloc(r->o.size);
	r->rx = malloc(r->o.size);
	if (!r->conns || !r->tx || !r->rx)
		return -ENOMEM;
	for (i = 0; i < (size_t)r->nconns; i++)
		r->conns[i].fd = -1;
	/* a recognisable, non-repeating-per-byte pattern, so a shifted echo fails */
	for (i = 0; i < r->o.size; i++)
		r->tx[i] = (unsigned char)('a' + (i * 7 + i / 26) % 26);
	r->ep = epoll_create1(EPOLL_CLOEXEC);
	if (r->ep < 0)
		return -errno;
	r->t0 = now_ns();
	if (r->o.mode == MODE_IDLE) {
		/* every exchange counts; the window covers the whole run */
		r->win_start = r->t0;
		r->win_end = INT64_MAX;
	} else {
		r->win_start = r->t0 + (int64_t)(r->o.warm * NS);
		r->win_end = r->win_start + (int64_t)(r->o.dur * NS);
	}
	/* room for stdio, the epoll fd and a few spares */
	return ensure_nofile(r->nconns + 32);
}

static void run_free(struct run *r)
{
	long i;

	for (i = 0; r->conns && i < r->nconns; i++)
		if (r->conns[i].fd >= 0)
			close(r->conns[i].fd);
	if (r->ep >= 0)
		close(r->ep);
	free(r->conns);
	free(r->tx);
	free(r->rx);
}

int main(int argc, char **argv)
{
	struct run r = { .ep = -1 };
	struct sigaction sa;
	int ret;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (parse_args(argc, argv, &r.o) < 0) {
		usage(stderr);
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	/* no SA_RESTART: epoll_wait returns EINTR and the loop sees g_stop */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	ret = run_init(&r);
	if (ret < 0) {
		fprintf(stderr, "loadgen: setup: %s%s\n", strerror(-ret),
			ret == -EMFILE ? " (raise ulimit -n)" : "");
		run_free(&r);
		return 1;
	}
	ret = r.o.mode == MODE_IDLE ? run_idle(&r) : run_load(&r);
	if (ret < 0)
		fprintf(stderr, "loadgen: %s\n", strerror(-ret));
	run_free(&r);
	return ret < 0 ? 1 : 0;
}
