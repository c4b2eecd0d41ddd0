/* dpclient.c — the attacker (or an upstream proxy hop) in decoyproxy's tests.
 *
 *   dpclient -c ADDR:PORT [options] [proxy1 LINE] MODE [TEXT]
 *
 * Each mode connects to ADDR:PORT, does one well-defined thing and prints one
 * result line a shell test can match (see usage()); `header` only prints the
 * PROXY header it would send, as hex, and needs no -c. Every mode is bounded by
 * the overall -w timeout. Like dpserver it is plain C and libc, one poll()
 * loop and no project code, so a PROXY v2 header built here is a second
 * opinion on the project's own encoder.
 *
 * Exit status: 0 when the mode's check passed, 1 when it failed (including
 * connect failures and timeouts), 2 on a usage error.
 */
#include "config.h"

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define IOBUF		65536
#define MAX_TLVS	16
#define MAX_REASONS	8
#define PROBE_MS	500
#define PROBE_TIMEOUT_MS 2000
#define DEFAULT_WAIT	10.0

enum hdr_kind { H_NONE, H_V1, H_V1_UNKNOWN, H_V2, H_V2_LOCAL, H_LINE, H_RAW };

struct tlv {
	uint8_t type;
	size_t len;
	uint8_t *val;
};

struct opts {
	struct sockaddr_storage dst, src;
	socklen_t dstlen, srclen;
	bool have_dst, have_src, transparent;
	unsigned int port_lo, port_hi;	/* -r; port_hi == 0: unused */
	double wait, dur;
	bool wait_set, dur_set;
	uint64_t size, seed;
	long n, par;
	bool echo, allow_fail, skip_banner, rst;
	/* PROXY header options, turned into hdr[] once all are parsed */
	enum hdr_kind hk;
	struct sockaddr_storage pp_src, pp_dst;
	const char *pp_line;
	struct tlv tlvs[MAX_TLVS];
	int ntlvs;
	bool crc;
	uint8_t *hdr;
	size_t hdrlen;
	const char *mode, *text;
};

static struct opts O;
static int64_t g_start, g_deadline;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int remaining_ms(int64_t until)
{
	int64_t left = until - now_ms();

	if (left <= 0)
		return 0;
	return left > INT_MAX ? INT_MAX : (int)left;
}

static double secs_since(int64_t t0)
{
	return (now_ms() - t0) / 1000.0;
}

/* ---- addresses ---------------------------------------------------------- */

/* Parses "1.2.3.4:80", "[fd00::1]:80", and when port_optional also "1.2.3.4",
 * "[fd00::1]" or bare "fd00::1" (port 0). Returns 0 or -EINVAL. */
static int parse_hostport(const char *s, struct sockaddr_storage *ss, socklen_t *sslen,
			  bool port_optional)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *hs = s, *he, *ps = NULL;
	unsigned long port = 0;
	bool v6;
	char *end;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		hs = s + 1;
		he = strchr(hs, ']');
		if (!he || (he[1] && he[1] != ':'))
			return -EINVAL;
		ps = he[1] ? he + 2 : NULL;
		v6 = true;
	} else if (strchr(s, ':') && strchr(s, ':') != strrchr(s, ':')) {
		he = s + strlen(s);	/* bare IPv6, no port */
		v6 = true;
	} else {
		he = strchr(s, ':');
		ps = he ? he + 1 : NULL;
		he = he ? he : s + strlen(s);
		v6 = false;
	}
	if (he == hs || (size_t)(he - hs) >= sizeof(host))
		return -EINVAL;
	memcpy(host, hs, he - hs);
	host[he - hs] = '\0';
	if (ps) {
		errno = 0;
		port = strtoul(ps, &end, 10);
		if (errno || end == ps || *end || port > 65535)
			return -EINVAL;
	} else if (!port_optional) {
		return -EINVAL;
	}
	if (v6) {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
			return -EINVAL;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		*sslen = sizeof(*a6);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
			return -EINVAL;
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		*sslen = sizeof(*a4);
	}
	return 0;
}

static uint16_t sa_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

static void sa_set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

/* Writes the 16-byte IPv6 form of an address (IPv4 as ::ffff:a.b.c.d). */
static void sa_to_v6(const struct sockaddr_storage *ss, uint8_t out[16])
{
	if (ss->ss_family == AF_INET6) {
		memcpy(out, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
		return;
	}
	memset(out, 0, 10);
	out[10] = out[11] = 0xff;
	memcpy(out + 12, &((const struct sockaddr_in *)ss)->sin_addr, 4);
}

/* ---- PROXY header, built by hand ------------------------------------------ */

static uint32_t crc32c(const uint8_t *p, size_t n)
{
	uint32_t crc = ~0u;
	int k;

	while (n--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1)));
	}
	return ~crc;
}

static void put16(uint8_t *p, unsigned int v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static int build_v1(void)
{
	char sip[INET6_ADDRSTRLEN], dip[INET6_ADDRSTRLEN];
	uint8_t a[16];
	bool v6 = O.pp_src.ss_family == AF_INET6 || O.pp_dst.ss_family == AF_INET6;
	char *line = NULL;
	int n;

	if (O.hk == H_V1_UNKNOWN) {
		n = asprintf(&line, "PROXY UNKNOWN\r\n");
	} else if (v6) {
		/* v1 cannot mix families: an IPv4 side goes as ::ffff:a.b.c.d */
		sa_to_v6(&O.pp_src, a);
		inet_ntop(AF_INET6, a, sip, sizeof(sip));
		sa_to_v6(&O.pp_dst, a);
		inet_ntop(AF_INET6, a, dip, sizeof(dip));
		n = asprintf(&line, "PROXY TCP6 %s %s %u %u\r\n", sip, dip,
			     sa_port(&O.pp_src), sa_port(&O.pp_dst));
	} else {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&O.pp_src)->sin_addr, sip, sizeof(sip));
		inet_ntop(AF_INET, &((struct sockaddr_in *)&O.pp_dst)->sin_addr, dip, sizeof(dip));
		n = asprintf(&line, "PROXY TCP4 %s %s %u %u\r\n", sip, dip,
			     sa_port(&O.pp_src), sa_port(&O.pp_dst));
	}
	if (n < 0)
		return -ENOMEM;
	O.hdr = (uint8_t *)line;
	O.hdrlen = n;
	return 0;
}

/* Builds a v2 header: PROXY (or LOCAL) + addresses + -X TLVs + optional
 * CRC32c TLV last, computed over the whole header with its value zeroed. */
static int build_v2(void)
{
	static const uint8_t sig[12] = {
		0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A,
	};
	bool local = O.hk == H_V2_LOCAL;
	bool v6 = O.pp_src.ss_family == AF_INET6 || O.pp_dst.ss_family == AF_INET6;
	size_t ab = local ? 0 : v6 ? 36 : 12, len = ab, at;
	uint8_t *b;
	uint32_t c;
	int i;

	for (i = 0; i < O.ntlvs; i++)
		len += 3 + O.tlvs[i].len;
	len += O.crc ? 7 : 0;
	if (len > 65535) {
		fprintf(stderr, "dpclient: PROXY v2 header too long (%zu)\n", len);
		return -EINVAL;
	}
	b = calloc(1, 16 + len);
	if (!b)
		return -ENOMEM;
	memcpy(b, sig, 12);
	b[12] = local ? 0x20 : 0x21;
	b[13] = local ? 0x00 : v6 ? 0x21 : 0x11;
	put16(b + 14, len);
	at = 16;
	if (!local && v6) {
		sa_to_v6(&O.pp_src, b + 16);
		sa_to_v6(&O.pp_dst, b + 32);
		put16(b + 48, sa_port(&O.pp_src));
		put16(b + 50, sa_port(&O.pp_dst));
	} else if (!local) {
		memcpy(b + 16, &((struct sockaddr_in *)&O.pp_src)->sin_addr, 4);
		memcpy(b + 20, &((struct sockaddr_in *)&O.pp_dst)->sin_addr, 4);
		put16(b + 24, sa_port(&O.pp_src));
		put16(b + 26, sa_port(&O.pp_dst));
	}
	at += ab;
	for (i = 0; i < O.ntlvs; i++) {
		b[at] = O.tlvs[i].type;
		put16(b + at + 1, O.tlvs[i].len);
		memcpy(b + at + 3, O.tlvs[i].val, O.tlvs[i].len);
		at += 3 + O.tlvs[i].len;
	}
	if (O.crc) {
		b[at] = 0x03;
		put16(b + at + 1, 4);
		c = crc32c(b, 16 + len);	/* value bytes are still zero */
		b[at + 3] = c >> 24;
		b[at + 4] = c >> 16;
		b[at + 5] = c >> 8;
		b[at + 6] = c;
	}
	O.hdr = b;
	O.hdrlen = 16 + len;
	return 0;
}

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Decodes a hex string into a new buffer. Returns the length or -EINVAL. */
static long unhex(const char *s, uint8_t **out)
{
	size_t n = strlen(s), i;
	uint8_t *b;

	if (n % 2)
		return -EINVAL;
	b = malloc(n / 2 + 1);
	if (!b)
		return -ENOMEM;
	for (i = 0; i < n / 2; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			free(b);
			return -EINVAL;
		}
		b[i] = hi << 4 | lo;
	}
	*out = b;
	return n / 2;
}

/* -X TYPE:HEX or -X TYPE=TEXT */
static int parse_tlv(const char *s)
{
	struct tlv *t;
	unsigned long type;
	char *end;
	long n;

	if (O.ntlvs >= MAX_TLVS)
		return -EINVAL;
	type = strtoul(s, &end, 0);
	if (end == s || type > 255 || (*end != ':' && *end != '='))
		return -EINVAL;
	t = &O.tlvs[O.ntlvs];
	if (*end == '=') {
		t->val = (uint8_t *)strdup(end + 1);
		if (!t->val)
			return -ENOMEM;
		n = strlen(end + 1);
	} else {
		n = unhex(end + 1, &t->val);
		if (n < 0)
			return n;
	}
	t->type = type;
	t->len = n;
	O.ntlvs++;
	return 0;
}

static int build_header(void)
{
	long n;

	switch (O.hk) {
	case H_NONE:
		return 0;
	case H_V1:
	case H_V1_UNKNOWN:
		return build_v1();
	case H_V2:
	case H_V2_LOCAL:
		return build_v2();
	case H_LINE:
		/* A literal line: CRLF is added unless given, so tests can also
		 * send malformed lines on purpose. */
		n = strlen(O.pp_line);
		O.hdr = malloc(n + 3);
		if (!O.hdr)
			return -ENOMEM;
		memcpy(O.hdr, O.pp_line, n);
		if (n < 2 || memcmp(O.pp_line + n - 2, "\r\n", 2) != 0) {
			memcpy(O.hdr + n, "\r\n", 2);
			n += 2;
		}
		O.hdrlen = n;
		return 0;
	case H_RAW:
		n = unhex(O.pp_line, &O.hdr);
		if (n < 0) {
			fprintf(stderr, "dpclient: -H wants an even number of hex digits\n");
			return -EINVAL;
		}
		O.hdrlen = n;
		return 0;
	}
	return -EINVAL;
}

/* ---- sockets ------------------------------------------------------------------ */

/* Creates a nonblocking socket, binds the source per -b/-r/-T and starts
 * connecting. idx picks the source port in a -r range. Returns the fd or
 * -errno with the failing step in *step. */
static int sock_start(long idx, const char **step)
{
	struct sockaddr_storage src;
	socklen_t srclen;
	int one = 1, fd, e;

	*step = "socket";
	fd = socket(O.dst.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (O.have_src || O.port_hi) {
		if (O.have_src) {
			src = O.src;
			srclen = O.srclen;
		} else {
			memset(&src, 0, sizeof(src));
			src.ss_family = O.dst.ss_family;
			srclen = O.dstlen;
		}
		if (O.port_hi)
			sa_set_port(&src, O.port_lo + idx % (O.port_hi - O.port_lo + 1));
		*step = "setsockopt";
		/* A quick reuse of a source port must not fail on TIME_WAIT. */
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
			goto fail;
		if (O.transparent) {
			if (O.dst.ss_family == AF_INET)
				e = setsockopt(fd, SOL_IP, IP_TRANSPARENT, &one, sizeof(one));
			else
				e = setsockopt(fd, SOL_IPV6, IPV6_TRANSPARENT, &one, sizeof(one));
			if (e < 0)
				goto fail;
		}
		/* Port 0: let connect() pick it per 4-tuple, not bind() per address. */
		if (sa_port(&src) == 0)
			setsockopt(fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		*step = "bind";
		if (bind(fd, (struct sockaddr *)&src, srclen) < 0)
			goto fail;
	}
	*step = "connect";
	if (connect(fd, (struct sockaddr *)&O.dst, O.dstlen) < 0 && errno != EINPROGRESS)
		goto fail;
	return fd;
fail:
	e = -errno;
	close(fd);
	return e;
}

/* Result of a finished nonblocking connect: 0 or -errno. */
static int sock_result(int fd)
{
	socklen_t len = sizeof(int);
	int err = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return -errno;
	return -err;
}

static void sock_close(int fd)
{
	static const struct linger rst = { .l_onoff = 1, .l_linger = 0 };

	if (O.rst)
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &rst, sizeof(rst));
	close(fd);
}

/* Connects one socket, waiting until the overall deadline. Prints
 * "CONNECT FAIL <reason>" on stdout when it fails, except for a reset that
 * came after the handshake when quiet_reset (the server accepted and reset
 * before we looked). Returns fd or -errno. */
static int connect_one(bool quiet_reset)
{
	struct pollfd p;
	const char *step;
	int fd, r;

	fd = sock_start(0, &step);
	if (fd < 0) {
		printf("CONNECT FAIL %s: %s\n", step, strerror(-fd));
		return fd;
	}
	p.fd = fd;
	p.events = POLLOUT;
	do {
		r = poll(&p, 1, remaining_ms(g_deadline));
	} while (r < 0 && errno == EINTR);
	if (r == 0) {
		r = -ETIMEDOUT;
	} else {
		r = r < 0 ? -errno : sock_result(fd);
	}
	if (r < 0) {
		if (r != -ECONNRESET || !quiet_reset)
			printf("CONNECT FAIL connect: %s\n", strerror(-r));
		close(fd);
		return r;
	}
	return fd;
}

/* Writes all of b[0, n) before the deadline. Returns 0 or -errno. */
static int send_all(int fd, const uint8_t *b, size_t n)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	ssize_t w;

	while (n) {
		w = send(fd, b, n, MSG_NOSIGNAL);
		if (w > 0) {
			b += w;
			n -= w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		if (poll(&p, 1, remaining_ms(g_deadline)) == 0)
			return -ETIMEDOUT;
	}
	return 0;
}

/* Waits for input until `until` and reads it. Returns bytes, 0 on EOF,
 * -ETIMEDOUT, or -errno. */
static ssize_t recv_until(int fd, uint8_t *b, size_t cap, int64_t until)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	for (;;) {
		n = recv(fd, b, cap, 0);
		if (n >= 0)
			return n;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		if (poll(&p, 1, remaining_ms(until)) == 0)
			return -ETIMEDOUT;
	}
}

/* ---- the deterministic pattern of bulk ---------------------------------------- */

static uint64_t mix64(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ull;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
	return x ^ (x >> 31);
}

/* Byte i of the stream is a function of (seed, i) alone, so the verifier
 * can check any received chunk without replaying the sender. */
static void pattern(uint64_t off, uint8_t *p, size_t n)
{
	while (n) {
		uint64_t v = mix64(O.seed ^ mix64(off / 8));
		unsigned int k;

		for (k = off % 8; k < 8 && n; k++, n--, off++)
			*p++ = v >> (8 * k);
	}
}

/* ---- modes -------------------------------------------------------------------- */

/* Removes a banner line from the front of b[0, *n) when -k asked for it.
 * Returns true once it is gone (nothing to do without -k). */
static bool skip_banner(uint8_t *b, size_t *n, bool *done)
{
	uint8_t *nl;

	if (!O.skip_banner || *done)
		return true;
	nl = memchr(b, '\n', *n);
	if (!nl) {
		*n = 0;		/* still inside the banner: drop it */
		return false;
	}
	*n -= nl + 1 - b;
	memmove(b, nl + 1, *n);
	*done = true;
	return true;
}

static int mode_send(void)
{
	static uint8_t buf[IOBUF];
	size_t tlen = strlen(O.text);
	ssize_t n;
	int fd, r = 1;

	fd = connect_one(false);
	if (fd < 0)
		return 1;
	n = O.hdrlen ? send_all(fd, O.hdr, O.hdrlen) : 0;
	if (n == 0)
		n = send_all(fd, (const uint8_t *)O.text, tlen);
	if (n < 0) {
		fprintf(stderr, "dpclient: send: %s\n", strerror(-n));
		goto out;
	}
	shutdown(fd, SHUT_WR);
	while ((n = recv_until(fd, buf, sizeof(buf), g_deadline)) > 0)
		fwrite(buf, 1, n, stdout);
	fflush(stdout);
	if (n < 0)
		fprintf(stderr, "dpclient: recv: %s\n", strerror(-n));
	else
		r = 0;
out:
	sock_close(fd);
	return r;
}

static int mode_bulk(void)
{
	static uint8_t wbuf[IOBUF], rbuf[IOBUF], want[IOBUF];
	uint64_t sent = 0, got = 0;
	const char *why = NULL;
	char whybuf[96];
	bool banner = false;
	struct pollfd p;
	int64_t t0;
	ssize_t n;
	size_t k;
	double s;
	int fd;

	fd = connect_one(false);
	if (fd < 0)
		return 1;
	t0 = now_ms();
	if (O.hdrlen && send_all(fd, O.hdr, O.hdrlen) < 0) {
		why = "header send failed";
		goto done;
	}
	if (O.size == 0)
		shutdown(fd, SHUT_WR);
	p.fd = fd;
	for (;;) {
		/* Reads and writes interleave: a blocking write while the echo
		 * fills our receive window would deadlock both ends. */
		p.events = POLLIN | (sent < O.size ? POLLOUT : 0);
		n = poll(&p, 1, remaining_ms(g_deadline));
		if (n == 0) {
			why = "timeout";
			break;
		}
		if (n < 0 && errno != EINTR) {
			why = "poll failed";
			break;
		}
		if ((p.revents & POLLOUT) && sent < O.size) {
			k = O.size - sent < sizeof(wbuf) ? O.size - sent : sizeof(wbuf);
			pattern(sent, wbuf, k);
			n = send(fd, wbuf, k, MSG_NOSIGNAL);
			if (n < 0 && errno != EAGAIN && errno != EINTR) {
				snprintf(whybuf, sizeof(whybuf), "send: %s", strerror(errno));
				why = whybuf;
				break;
			}
			sent += n > 0 ? n : 0;
			if (sent == O.size)
				shutdown(fd, SHUT_WR);
		}
		if (!(p.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		n = recv(fd, rbuf, sizeof(rbuf), 0);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			snprintf(whybuf, sizeof(whybuf), "recv: %s", strerror(errno));
			why = whybuf;
			break;
		}
		k = n;
		if (!skip_banner(rbuf, &k, &banner) || k == 0)
			continue;
		if (got + k > O.size) {
			why = "received more than sent";
			break;
		}
		pattern(got, want, k);
		if (memcmp(rbuf, want, k) != 0) {
			size_t i = 0;

			while (rbuf[i] == want[i])
				i++;
			snprintf(whybuf, sizeof(whybuf), "mismatch at offset %llu",
				 (unsigned long long)(got + i));
			why = whybuf;
			break;
		}
		got += k;
	}
	if (!why && got != O.size)
		why = "short echo";
done:
	s = secs_since(t0);
	if (why)
		printf("BULK FAIL sent=%llu recv=%llu secs=%.3f reason=%s\n",
		       (unsigned long long)sent, (unsigned long long)got, s, why);
	else
		printf("BULK OK sent=%llu recv=%llu secs=%.3f rate=%.1fMiB/s\n",
		       (unsigned long long)sent, (unsigned long long)got, s,
		       s > 0 ? got / s / 1048576.0 : 0.0);
	sock_close(fd);
	return why ? 1 : 0;
}

static int mode_expect_close(void)
{
	static uint8_t buf[IOBUF];
	uint64_t bytes = 0;
	const char *how = NULL;
	int64_t t0, end;
	ssize_t n;
	int fd;

	/* The clock starts before connect(): the proxy's timeouts run from its
	 * accept(), which a loaded machine can put well before connect() returns
	 * here; a clock started after it measured 875 ms for a 1 s timeout. */
	t0 = now_ms();
	fd = connect_one(true);
	if (fd == -ECONNRESET) {
		printf("CLOSED after=0 how=rst bytes=0\n");
		return 0;
	}
	if (fd < 0)
		return 1;
	end = t0 + (int64_t)(O.dur * 1000);
	if (end > g_deadline)
		end = g_deadline;
	if (O.hdrlen && send_all(fd, O.hdr, O.hdrlen) < 0)
		how = "senderr";
	while (!how) {
		n = recv_until(fd, buf, sizeof(buf), end);
		if (n > 0)
			bytes += n;
		else if (n == 0)
			how = "eof";
		else if (n == -ECONNRESET)
			how = "rst";
		else if (n == -ETIMEDOUT)
			break;
		else
			how = strerror(-n);
	}
	if (how)
		printf("CLOSED after=%lld how=%s bytes=%llu\n", (long long)(now_ms() - t0), how,
		       (unsigned long long)bytes);
	else
		printf("OPEN after=%lld bytes=%llu\n", (long long)(now_ms() - t0),
		       (unsigned long long)bytes);
	close(fd);
	return how ? 0 : 1;
}

static int mode_hold(void)
{
	uint8_t rbuf[512];
	char probe[64], why[96] = "";
	size_t plen = 0, pgot = 0, k;
	int64_t t0, end, next, sent_at = 0;
	bool banner = false, waiting = false;
	long probes = 0;
	struct pollfd p;
	ssize_t n;
	int fd, tmo;

	fd = connect_one(false);
	if (fd < 0)
		return 1;
	t0 = next = now_ms();
	end = t0 + (int64_t)(O.dur * 1000);
	if (O.hdrlen && send_all(fd, O.hdr, O.hdrlen) < 0) {
		snprintf(why, sizeof(why), "header send failed");
		goto out;
	}
	p.fd = fd;
	p.events = POLLIN;
	while (!why[0] && (now_ms() < end || waiting)) {
		if (now_ms() >= g_deadline) {
			snprintf(why, sizeof(why), "timeout");
			break;
		}
		if (O.echo && waiting && now_ms() - sent_at > PROBE_TIMEOUT_MS) {
			snprintf(why, sizeof(why), "probe %ld not echoed in %d ms", probes,
				 PROBE_TIMEOUT_MS);
			break;
		}
		if (O.echo && !waiting && now_ms() >= next && now_ms() < end) {
			plen = snprintf(probe, sizeof(probe), "hold probe %ld\n", probes);
			if (send_all(fd, (uint8_t *)probe, plen) < 0) {
				snprintf(why, sizeof(why), "probe send failed");
				break;
			}
			waiting = true;
			pgot = 0;
			sent_at = now_ms();
			next += PROBE_MS;
		}
		/* Wake at least every 100 ms to check the probe's own timeout. */
		tmo = remaining_ms(O.echo && !waiting && next < end ? next : end);
		if (waiting || tmo > 100)
			tmo = 100;
		if (poll(&p, 1, tmo) <= 0)
			continue;
		n = recv(fd, rbuf, sizeof(rbuf), 0);
		if (n == 0) {
			snprintf(why, sizeof(why), "closed by peer (eof)");
		} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
			snprintf(why, sizeof(why), "closed by peer (%s)",
				 errno == ECONNRESET ? "rst" : strerror(errno));
		} else if (n > 0 && O.echo) {
			k = n;
			if (!skip_banner(rbuf, &k, &banner) || k == 0)
				continue;
			if (!waiting || pgot + k > plen ||
			    memcmp(rbuf, probe + pgot, k) != 0) {
				snprintf(why, sizeof(why), "unexpected data after probe %ld",
					 probes);
				break;
			}
			pgot += k;
			if (pgot == plen) {
				waiting = false;
				probes++;
			}
		}
	}
out:
	if (why[0])
		printf("HOLD FAIL after=%lld probes=%ld reason=%s\n",
		       (long long)(now_ms() - t0), probes, why);
	else
		printf("HOLD OK secs=%.3f probes=%ld\n", secs_since(t0), probes);
	sock_close(fd);
	return why[0] ? 1 : 0;
}

/* ---- many connections: burst, loop, whoami ---------------------------------------- */

/* S_LINGER: a line-mode success waiting briefly for the server's FIN, so
 * the server (not us) ends in TIME_WAIT and -r can reuse our ports. */
enum { S_IDLE, S_CONNECTING, S_OPEN, S_LINGER };
#define LINGER_MS 500

struct slot {
	int fd;
	int state;
	long idx;
	int64_t linger_until;
	uint8_t *out;
	size_t outlen, sent, probelen;
	size_t rlen;
	bool banner;
	uint8_t rbuf[512];
};

struct tally {
	long ok, fail;
	int nreasons;
	char reason[MAX_REASONS][96];
	long count[MAX_REASONS];
	bool print_line;
	bool connect_failed;
};

/* Counts a failure; err > 0 appends strerror(err) to what. */
static void tally_fail(struct tally *t, const char *what, int err)
{
	char r[96];
	int i;

	if (err > 0)
		snprintf(r, sizeof(r), "%s: %s", what, strerror(err));
	else
		snprintf(r, sizeof(r), "%s", what);
	t->fail++;
	for (i = 0; i < t->nreasons; i++) {
		if (strcmp(t->reason[i], r) == 0) {
			t->count[i]++;
			return;
		}
	}
	if (t->nreasons < MAX_REASONS) {
		strcpy(t->reason[t->nreasons], r);
		t->count[t->nreasons++] = 1;
	}
}

/* Ends the connection in slot s: a success when what is NULL. */
static void slot_close(struct slot *s)
{
	sock_close(s->fd);
	s->fd = -1;
	s->state = S_IDLE;
}

static void slot_end(struct slot *s, struct tally *t, const char *what, int err)
{
	if (what) {
		tally_fail(t, what, err);
	} else {
		t->ok++;
		if (s->probelen == 0 && s->state == S_OPEN) {
			s->state = S_LINGER;
			s->linger_until = now_ms() + LINGER_MS;
			return;
		}
	}
	slot_close(s);
}

/* Starts connection number idx in slot s. Returns false if it failed at once. */
static bool slot_start(struct slot *s, long idx, bool echo, struct tally *t)
{
	const char *step;
	int fd;

	fd = sock_start(idx, &step);
	if (fd < 0) {
		tally_fail(t, step, -fd);
		t->connect_failed = true;
		return false;
	}
	s->fd = fd;
	s->state = S_CONNECTING;
	s->idx = idx;
	s->sent = s->rlen = 0;
	s->banner = false;
	s->outlen = O.hdrlen;
	s->probelen = 0;
	if (echo) {
		/* Each probe names its connection, so crossed streams show. */
		s->probelen = sprintf((char *)s->out + O.hdrlen, "probe %ld %016llx\n", idx,
				      (unsigned long long)mix64(idx));
		s->outlen += s->probelen;
	}
	return true;
}

/* Checks whether the reply in s->rbuf is complete and right. */
static void slot_check(struct slot *s, bool echo, struct tally *t)
{
	uint8_t *nl;

	if (!skip_banner(s->rbuf, &s->rlen, &s->banner))
		return;
	if (echo) {
		if (s->rlen < s->probelen)
			return;
		if (memcmp(s->rbuf, s->out + O.hdrlen, s->probelen) != 0 ||
		    s->rlen > s->probelen)
			slot_end(s, t, "echo mismatch", 0);
		else
			slot_end(s, t, NULL, 0);
		return;
	}
	nl = memchr(s->rbuf, '\n', s->rlen);
	if (nl) {
		if (t->print_line)
			fwrite(s->rbuf, 1, nl + 1 - s->rbuf, stdout);
		slot_end(s, t, NULL, 0);
	} else if (s->rlen == sizeof(s->rbuf)) {
		slot_end(s, t, "reply line too long", 0);
	}
}

static void slot_event(struct slot *s, short rev, bool echo, struct tally *t)
{
	ssize_t n;
	int e;

	if (s->state == S_LINGER) {
		n = recv(s->fd, s->rbuf, sizeof(s->rbuf), 0);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			slot_close(s);
		return;
	}
	if (s->state == S_CONNECTING) {
		if (!(rev & (POLLOUT | POLLERR | POLLHUP)))
			return;
		e = sock_result(s->fd);
		if (e < 0) {
			t->connect_failed = true;
			slot_end(s, t, "connect", -e);
			return;
		}
		s->state = S_OPEN;
		rev |= POLLOUT;
	}
	if ((rev & POLLOUT) && s->sent < s->outlen) {
		n = send(s->fd, s->out + s->sent, s->outlen - s->sent, MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			slot_end(s, t, "send", errno);
			return;
		}
		s->sent += n > 0 ? n : 0;
	}
	if (!(rev & (POLLIN | POLLHUP | POLLERR)))
		return;
	n = recv(s->fd, s->rbuf + s->rlen, sizeof(s->rbuf) - s->rlen, 0);
	if (n == 0) {
		slot_end(s, t, "eof before reply", 0);
	} else if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			slot_end(s, t, "recv", errno);
	} else {
		s->rlen += n;
		slot_check(s, echo, t);
	}
}

/* Runs n connections, par at a time, each expecting a line or (echo) the
 * echo of its probe. New connections start until stop_at. */
static void run_many(long n, long par, bool echo, int64_t stop_at, struct tally *t)
{
	struct slot *slots = calloc(par, sizeof(*slots));
	struct pollfd *pfd = calloc(par, sizeof(*pfd));
	int *map = calloc(par, sizeof(*map));
	long started = 0, i;
	int np, r;

	if (!slots || !pfd || !map) {
		tally_fail(t, "out of memory", 0);
		goto out;
	}
	for (i = 0; i < par; i++) {
		slots[i].fd = -1;
		slots[i].out = malloc(O.hdrlen + 64);
		if (!slots[i].out) {
			tally_fail(t, "out of memory", 0);
			goto out;
		}
		if (O.hdrlen)
			memcpy(slots[i].out, O.hdr, O.hdrlen);
	}
	for (;;) {
		bool starting = started < n && now_ms() < stop_at && now_ms() < g_deadline;

		np = 0;
		for (i = 0; i < par; i++) {
			struct slot *s = &slots[i];

			if (s->state == S_LINGER && now_ms() >= s->linger_until)
				slot_close(s);
			while (s->state == S_IDLE && starting && started < n)
				slot_start(s, started++, echo, t);
			if (s->state == S_IDLE)
				continue;
			pfd[np].fd = s->fd;
			pfd[np].events = s->state == S_CONNECTING ? POLLOUT :
					 s->state == S_LINGER ? POLLIN :
					 POLLIN | (s->sent < s->outlen ? POLLOUT : 0);
			map[np++] = i;
		}
		if (np == 0)
			break;
		if (now_ms() >= g_deadline) {
			for (i = 0; i < np; i++) {
				if (slots[map[i]].state == S_LINGER)
					slot_close(&slots[map[i]]);
				else
					slot_end(&slots[map[i]], t, "timeout", 0);
			}
			break;
		}
		r = poll(pfd, np, remaining_ms(g_deadline) < 100 ? remaining_ms(g_deadline) : 100);
		for (i = 0; i < np && r > 0; i++)
			if (pfd[i].revents)
				slot_event(&slots[map[i]], pfd[i].revents, echo, t);
	}
	/* Connections never started because time ran out count as failures. */
	if (stop_at == INT64_MAX)
		for (; started < n; started++)
			tally_fail(t, "not started: timeout", 0);
out:
	for (i = 0; slots && i < par; i++) {
		if (slots[i].fd >= 0)
			close(slots[i].fd);
		free(slots[i].out);
	}
	free(slots);
	free(pfd);
	free(map);
}

static void tally_report(const struct tally *t)
{
	int i;

	for (i = 0; i < t->nreasons; i++)
		fprintf(stderr, "dpclient: %ld x %s\n", t->count[i], t->reason[i]);
}

static int mode_whoami(void)
{
	struct tally t = { .print_line = true };

	run_many(1, 1, false, INT64_MAX, &t);
	tally_report(&t);
	fflush(stdout);
	if (t.ok == 1)
		return 0;
	if (t.connect_failed)
		printf("CONNECT FAIL %s\n", t.reason[0]);
	return 1;
}

static int mode_burst(void)
{
	struct tally t = { 0 };
	int64_t t0 = now_ms();

	run_many(O.n, O.par, O.echo, INT64_MAX, &t);
	printf("BURST ok=%ld fail=%ld secs=%.3f\n", t.ok, t.fail, secs_since(t0));
	tally_report(&t);
	return t.fail == 0 || O.allow_fail ? 0 : 1;
}

static int mode_loop(void)
{
	struct tally t = { 0 };
	int64_t t0 = now_ms();
	int64_t stop = O.dur_set ? t0 + (int64_t)(O.dur * 1000) : INT64_MAX;

	run_many(O.n, 1, true, stop, &t);
	printf("LOOP ok=%ld fail=%ld secs=%.3f\n", t.ok, t.fail, secs_since(t0));
	tally_report(&t);
	return (t.fail == 0 || O.allow_fail) && t.ok > 0 ? 0 : 1;
}

/* ---- command line -------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: dpclient -c ADDR:PORT [options] [proxy1 LINE] MODE [TEXT]\n"
		"modes:\n"
		"  header           print the PROXY header as hex, connect nowhere (no -c)\n"
		"  whoami           print the first line the server sends (exit 0 if one came)\n"
		"  send TEXT        send TEXT, half-close, print all that comes back\n"
		"  bulk -s BYTES    send a seeded pattern (-S SEED), verify the echo:\n"
		"                   'BULK OK sent=N recv=N secs=S ...' or 'BULK FAIL ...'\n"
		"  burst -n N -P PAR [-e] [-f] [-r LO-HI]\n"
		"                   N connections, PAR at once, each expects a line (or with\n"
		"                   -e the echo of its probe): 'BURST ok=N fail=N secs=S'\n"
		"  loop -n N | -d SECS   sequential probe/echo: 'LOOP ok=N fail=N secs=S'\n"
		"  hold -d SECS [-e]     keep one connection (probe every 0.5 s with -e):\n"
		"                   'HOLD OK secs=S probes=N' or 'HOLD FAIL ...'\n"
		"  expect-close -d SECS  wait for the server to close:\n"
		"                   'CLOSED after=MS how=eof|rst bytes=N' or 'OPEN after=MS ...'\n"
		"options:\n"
		"  -c ADDR:PORT     destination (1.2.3.4:80, [fd00::1]:80)\n"
		"  -b SRC[:PORT]    bind the source (SO_REUSEADDR); -T adds IP_TRANSPARENT\n"
		"  -r LO-HI         burst/loop: cycle source ports through LO..HI (keep it\n"
		"                   outside ip_local_port_range; with -e add -R, else our\n"
		"                   TIME_WAIT blocks the reuse)\n"
		"  -w SECS          overall timeout (default 10, or -d + 5 when longer)\n"
		"  -k               skip one banner line (whoami-echo, proxy mode) first\n"
		"  -R               close with RST (SO_LINGER 0)\n"
		"  -f               burst/loop: exit 0 even with failures\n"
		"PROXY header sent first on every connection (one write):\n"
		"  -p v1|v2 SRC:PORT DST:PORT, -p v1-unknown, -p v2-local\n"
		"  -X TYPE:HEX | -X TYPE=TEXT   add a v2 TLV;  -C  add a CRC32C TLV\n"
		"  proxy1 LINE      send LINE (+CRLF if missing) as a v1 header\n"
		"  -H HEX           send these raw bytes first\n");
}

static int parse_secs(const char *s, double *out)
{
	char *end;

	*out = strtod(s, &end);
	return end != s && !*end && *out > 0 ? 0 : -EINVAL;
}

static int parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 'G': case 'g': v <<= 10; /* fall through */
	case 'M': case 'm': v <<= 10; /* fall through */
	case 'K': case 'k': v <<= 10; end++; break;
	default: break;
	}
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_range(const char *s)
{
	unsigned long lo, hi;
	char *end;

	lo = strtoul(s, &end, 10);
	if (*end != '-')
		return -EINVAL;
	hi = strtoul(end + 1, &end, 10);
	if (*end || lo == 0 || hi > 65535 || lo > hi)
		return -EINVAL;
	O.port_lo = lo;
	O.port_hi = hi;
	return 0;
}

/* Parses -p's 1 or 3 arguments starting at argv[*i]. */
static int parse_p(int argc, char **argv, int *i)
{
	const char *k = argv[*i];
	socklen_t l;

	if (strcmp(k, "v1-unknown") == 0) {
		O.hk = H_V1_UNKNOWN;
		return 0;
	}
	if (strcmp(k, "v2-local") == 0) {
		O.hk = H_V2_LOCAL;
		return 0;
	}
	if (strcmp(k, "v1") != 0 && strcmp(k, "v2") != 0)
		return -EINVAL;
	if (*i + 2 >= argc ||
	    parse_hostport(argv[*i + 1], &O.pp_src, &l, false) < 0 ||
	    parse_hostport(argv[*i + 2], &O.pp_dst, &l, false) < 0)
		return -EINVAL;
	O.hk = k[1] == '1' ? H_V1 : H_V2;
	*i += 2;
	return 0;
}

/* Parses one option at argv[*i]. Returns 0 or -EINVAL. */
static int parse_opt(int argc, char **argv, int *i)
{
	const char *a = argv[*i], *v = NULL;
	long l;

	if (a[2])
		return -EINVAL;
	/* options without an argument */
	switch (a[1]) {
	case 'T': O.transparent = true; return 0;
	case 'e': O.echo = true; return 0;
	case 'f': O.allow_fail = true; return 0;
	case 'k': O.skip_banner = true; return 0;
	case 'R': O.rst = true; return 0;
	case 'C': O.crc = true; return 0;
	default: break;
	}
	if (*i + 1 >= argc)
		return -EINVAL;
	v = argv[++*i];
	switch (a[1]) {
	case 'c':
		O.have_dst = true;
		return parse_hostport(v, &O.dst, &O.dstlen, false);
	case 'b':
		O.have_src = true;
		return parse_hostport(v, &O.src, &O.srclen, true);
	case 'w':
		O.wait_set = true;
		return parse_secs(v, &O.wait);
	case 'd':
		O.dur_set = true;
		return parse_secs(v, &O.dur);
	case 's':
		return parse_size(v, &O.size);
	case 'S':
		return parse_size(v, &O.seed);
	case 'n':
	case 'P':
		l = strtol(v, NULL, 10);
		if (l <= 0 || l > 100000000)
			return -EINVAL;
		*(a[1] == 'n' ? &O.n : &O.par) = l;
		return 0;
	case 'r':
		return parse_range(v);
	case 'p':
		return parse_p(argc, argv, i);
	case 'X':
		return parse_tlv(v);
	case 'H':
		O.hk = H_RAW;
		O.pp_line = v;
		return 0;
	default:
		return -EINVAL;
	}
}

static int parse_args(int argc, char **argv)
{
	const char *pos[4];
	int i, np = 0, p = 0;
	bool opts_done = false;

	O.n = 0;
	O.par = 1;
	O.seed = 1;
	for (i = 1; i < argc; i++) {
		if (!opts_done && strcmp(argv[i], "--") == 0) {
			opts_done = true;
		} else if (!opts_done && argv[i][0] == '-' && argv[i][1]) {
			if (parse_opt(argc, argv, &i) < 0) {
				fprintf(stderr, "dpclient: bad option or value: %s\n", argv[i]);
				return -EINVAL;
			}
		} else if (np < 4) {
			pos[np++] = argv[i];
		} else {
			return -EINVAL;
		}
	}
	if (np >= 2 && strcmp(pos[0], "proxy1") == 0) {
		O.hk = H_LINE;
		O.pp_line = pos[1];
		p = 2;
	}
	if (p >= np)
		return -EINVAL;
	O.mode = pos[p++];
	/* only `header` makes no connection */
	if (!O.have_dst && strcmp(O.mode, "header") != 0)
		return -EINVAL;
	if (strcmp(O.mode, "send") == 0) {
		if (p >= np)
			return -EINVAL;
		O.text = pos[p++];
	}
	if (p != np)
		return -EINVAL;
	if (O.have_src && O.have_dst && O.src.ss_family != O.dst.ss_family) {
		fprintf(stderr, "dpclient: -b and -c must be the same address family\n");
		return -EINVAL;
	}
	if (!O.wait_set)
		O.wait = O.dur_set && O.dur + 5 > DEFAULT_WAIT ? O.dur + 5 : DEFAULT_WAIT;
	return 0;
}

static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void free_opts(void)
{
	int i;

	for (i = 0; i < O.ntlvs; i++)
		free(O.tlvs[i].val);
	free(O.hdr);
}

/* header: the bytes the other modes would send first, as one line of
 * lowercase hex, so a test can alter a valid header and send it with -H. */
static int mode_header(void)
{
	size_t i;

	for (i = 0; i < O.hdrlen; i++)
		printf("%02x", O.hdr[i]);
	printf("\n");
	return 0;
}

static int dispatch(void)
{
	const char *m = O.mode;

	if (strcmp(m, "header") == 0)
		return mode_header();
	if (strcmp(m, "whoami") == 0)
		return mode_whoami();
	if (strcmp(m, "send") == 0)
		return mode_send();
	if (strcmp(m, "bulk") == 0)
		return mode_bulk();
	if (strcmp(m, "burst") == 0 && O.n > 0)
		return mode_burst();
	if (strcmp(m, "loop") == 0 && (O.n > 0 || O.dur_set)) {
		if (!O.n)
			O.n = LONG_MAX;
		return mode_loop();
	}
	if (strcmp(m, "hold") == 0 && O.dur_set)
		return mode_hold();
	if (strcmp(m, "expect-close") == 0 && O.dur_set)
		return mode_expect_close();
	fprintf(stderr, "dpclient: unknown mode '%s' or missing -n/-d\n", m);
	usage(stderr);
	return 2;
}

int main(int argc, char **argv)
{
	struct rlimit rl;
	int rc;

	if (argc == 2 && strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	if (parse_args(argc, argv) < 0) {
		usage(stderr);
		free_opts();
		return 2;
	}
	if (build_header() < 0) {
		free_opts();
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();
	/* Keep PAR below the descriptor limit rather than fail mid-burst. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && (rlim_t)O.par + 16 > rl.rlim_cur)
		O.par = rl.rlim_cur > 32 ? (long)rl.rlim_cur - 16 : 1;
	if (O.par > O.n && O.n > 0)
		O.par = O.n;
	g_start = now_ms();
	g_deadline = g_start + (int64_t)(O.wait * 1000);
	rc = dispatch();
	fflush(stdout);
	free_opts();
	return rc;
}
