/* dpserver.c — a decoy service for decoyproxy's integration tests.
 *
 * It plays the machine behind decoyproxy and reports what it saw, so a test
 * can assert on the far end of the path (the address the decoy saw, the bytes
 * it received, the PROXY header it was given) instead of on the proxy's own
 * opinion. It is deliberately independent of the project's code: plain C and
 * libc only, one epoll loop, one file.
 *
 *   dpserver -l ADDR:PORT [-l ...] -m MODE [-T] [-o FILE] [-x] [-t SECS] [-v]
 *
 * ADDR is `1.2.3.4`, `[fd00::1]` or `*` (0.0.0.0). Port 0 picks a free port.
 * Modes: echo, whoami, whoami-echo, sink, hold, proxy, close, rst (see
 * usage()). Prints `LISTEN <ip> <port>` per listener, then `READY`.
 * Exit status: 0 on SIGTERM/SIGINT, -t expiry or -x completion; 1 on a
 * start-up error; 2 on a usage error. The last line on stderr counts the
 * connections accepted and the most that were open at once (the exact
 * concurrency the service saw: a connection counts from accept() until it
 * is closed here, which in echo mode is before the peer sees our FIN).
 */
#include "config.h"

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_LISTENERS	32
/* Echo-capable connections need room to absorb a window's worth of data;
 * the others only ever hold one reply line, so thousands stay cheap. */
#define BIG_BUF		32768
#define SMALL_BUF	1024
/* Room kept free while a PROXY header is accumulated, so the reply line
 * (longer than a 28-byte v2 header) can replace it in place. */
#define LINE_SLACK	1024
#define MAX_LINE	600
#define DRAIN_MS	5000
#define TICK_MS		100
#define ACCEPT_PAUSE_MS	100

enum mode {
	M_ECHO, M_WHOAMI, M_WHOAMI_ECHO, M_SINK, M_HOLD, M_PROXY, M_CLOSE, M_RST,
};

static const char *const mode_names[] = {
	[M_ECHO] = "echo", [M_WHOAMI] = "whoami", [M_WHOAMI_ECHO] = "whoami-echo",
	[M_SINK] = "sink", [M_HOLD] = "hold", [M_PROXY] = "proxy",
	[M_CLOSE] = "close", [M_RST] = "rst",
};

/* What a connection is doing now; each phase has one reason to read. */
enum phase {
	PH_HDR,		/* accumulating a PROXY header in buf, not writing */
	PH_ECHO,	/* read into buf, write buf back */
	PH_SINK,	/* read and count, reply at EOF */
	PH_HOLD,	/* read and discard, never write */
	PH_DRAIN,	/* flush buf, then SHUT_WR, then discard until EOF */
};

enum kind { K_LISTENER, K_CONN, K_SIGNAL };

/* Every object registered in epoll starts with its kind. */
struct tag {
	enum kind kind;
};

struct listener {
	struct tag tag;
	int fd;
	bool paused;
};

struct link {
	struct link *prev, *next;
};

#define conn_of(l) ((struct conn *)((char *)(l) - offsetof(struct conn, link)))

struct conn {
	struct tag tag;
	int fd;
	struct link link;		/* in server.conns */
	enum phase phase;
	bool rd_eof;
	bool wr_shut;
	uint32_t evmask;
	int64_t drain_deadline;		/* ms, 0 while not lingering */
	uint64_t nbytes;		/* sink: bytes received */
	unsigned int nfirst;
	uint8_t first[16];
	size_t cap, off, len;		/* pending output is buf[off, off+len) */
	uint8_t buf[];
};

struct server {
	int ep;
	struct tag sig_tag;
	int sfd;
	struct listener lst[MAX_LISTENERS];
	int nlst;
	enum mode mode;
	bool transparent;
	bool oneshot;
	FILE *log;
	int64_t deadline;		/* ms, 0 = none */
	int64_t accept_resume;		/* ms, 0 = accepting */
	struct link conns;		/* live connections (sentinel) */
	unsigned long nconns;
	unsigned long peak;		/* most connections open at once */
	unsigned long accepted;
	bool stop;
};

/* Shared discard buffer: sink, hold and drain never keep what they read. */
static uint8_t scratch[65536];

/* -v: proxy mode also prints the value of each printable TLV. */
static bool tlv_values;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- addresses -------------------------------------------------------- */

/* Parses "1.2.3.4:80", "[fd00::1]:80" or "*:80" into *ss.
 * Returns 0, or -EINVAL for anything else (including a port above 65535). */
static int parse_hostport(const char *s, struct sockaddr_storage *ss, socklen_t *sslen)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon, *hs, *he;
	unsigned long port;
	char *end;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		hs = s + 1;
		he = strchr(hs, ']');
		if (!he || he[1] != ':')
			return -EINVAL;
		colon = he + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || memchr(s, ':', colon - s))
			return -EINVAL;	/* bare IPv6 needs brackets */
		hs = s;
		he = colon;
	}
	if ((size_t)(he - hs) >= sizeof(host) || he == hs)
		return -EINVAL;
	memcpy(host, hs, he - hs);
	host[he - hs] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || port > 65535)
		return -EINVAL;

	if (s[0] == '[') {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
			return -EINVAL;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		*sslen = sizeof(*a6);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)ss;

		if (strcmp(host, "*") == 0)
			a4->sin_addr.s_addr = htonl(INADDR_ANY);
		else if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
			return -EINVAL;
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		*sslen = sizeof(*a4);
	}
	return 0;
}

/* Formats an IPv4 or IPv6 address without brackets; an IPv4-mapped IPv6
 * address is printed as plain IPv4, since that is what the peer really is.
 * ip must hold INET6_ADDRSTRLEN bytes. */
static void fmt_ip(int family, const void *addr, char *ip)
{
	const uint8_t *b = addr;

	if (family == AF_INET6 && IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)addr)) {
		family = AF_INET;
		b += 12;
	}
	if (!inet_ntop(family, b, ip, INET6_ADDRSTRLEN))
		strcpy(ip, "?");
}

static void fmt_sa(const struct sockaddr_storage *ss, char *ip, unsigned int *port)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a4 = (const struct sockaddr_in *)ss;

		fmt_ip(AF_INET, &a4->sin_addr, ip);
		*port = ntohs(a4->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)ss;

		fmt_ip(AF_INET6, &a6->sin6_addr, ip);
		*port = ntohs(a6->sin6_port);
	} else {
		strcpy(ip, "?");
		*port = 0;
	}
}

/* ---- PROXY protocol: an independent, minimal receiver ------------------ */

static const uint8_t pp2_sig[12] = {
	0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A,
};

/* CRC32c (Castagnoli), reflected, bit by bit: slow but obviously right,
 * which is the point of a second opinion. Pass ~0 first, invert at the end. */
static uint32_t crc32c_step(uint32_t crc, const uint8_t *p, size_t n)
{
	int k;

	while (n--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1)));
	}
	return crc;
}

static bool v1_port(const char *s, unsigned int *port)
{
	size_t n = strlen(s);
	unsigned long v;

	if (n == 0 || n > 5 || strspn(s, "0123456789") != n || (n > 1 && s[0] == '0'))
		return false;
	v = strtoul(s, NULL, 10);
	if (v > 65535)
		return false;
	*port = v;
	return true;
}

/* Parses a v1 line at b[0, n). Returns like pp_parse(). */
static int pp1_parse(const uint8_t *b, size_t n, size_t *hlen, char *out, size_t outsz)
{
	char line[108], *tok[7], *save = NULL, *t;
	char sip[INET6_ADDRSTRLEN], dip[INET6_ADDRSTRLEN];
	unsigned int sp, dp;
	uint8_t sa[16], da[16];
	size_t i, end = 0;
	int ntok = 0, fam;

	for (i = 0; i < n && i < 107; i++) {
		if (b[i] == '\n') {
			if (i == 0 || b[i - 1] != '\r') {
				snprintf(out, outsz, "v1 lone LF");
				return -1;
			}
			end = i + 1;
			break;
		}
		if (i > 0 && b[i - 1] == '\r') {
			snprintf(out, outsz, "v1 lone CR");
			return -1;
		}
	}
	if (!end) {
		if (n >= 107) {
			snprintf(out, outsz, "v1 no CRLF within 107 bytes");
			return -1;
		}
		return 0;
	}
	memcpy(line, b, end - 2);
	line[end - 2] = '\0';
	*hlen = end;

	/* strtok_r would merge runs of spaces; the format allows exactly one. */
	if (strstr(line, "  ") || line[end - 3] == ' ') {
		snprintf(out, outsz, "v1 bad spacing");
		return -1;
	}
	for (t = strtok_r(line, " ", &save); t && ntok < 7; t = strtok_r(NULL, " ", &save))
		tok[ntok++] = t;
	if (ntok >= 2 && strcmp(tok[1], "UNKNOWN") == 0) {
		snprintf(out, outsz, "PROXY UNKNOWN");
		return 1;
	}
	if (ntok != 6) {
		snprintf(out, outsz, "v1 expects 6 fields, got %d", ntok);
		return -1;
	}
	if (strcmp(tok[1], "TCP4") == 0)
		fam = AF_INET;
	else if (strcmp(tok[1], "TCP6") == 0)
		fam = AF_INET6;
	else {
		snprintf(out, outsz, "v1 bad protocol");
		return -1;
	}
	if (inet_pton(fam, tok[2], sa) != 1 || inet_pton(fam, tok[3], da) != 1) {
		snprintf(out, outsz, "v1 bad address");
		return -1;
	}
	if (!v1_port(tok[4], &sp) || !v1_port(tok[5], &dp)) {
		snprintf(out, outsz, "v1 bad port");
		return -1;
	}
	/* Printed like v2 and whoami: canonical, IPv4-mapped as IPv4. */
	fmt_ip(fam, sa, sip);
	fmt_ip(fam, da, dip);
	snprintf(out, outsz, "PROXY %s %u %s %u", sip, sp, dip, dp);
	return 1;
}

/* True when the n bytes at p can be shown as is in a reply line: printable
 * ASCII without spaces (the line's separator) or commas (the list's). */
static bool tlv_printable(const uint8_t *p, size_t n)
{
	size_t i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++)
		if (p[i] <= 0x20 || p[i] >= 0x7f || p[i] == ',')
			return false;
	return true;
}

/* Walks the TLVs in b[0, n) (the part of a v2 header after the address
 * block); checks each fits, checks a CRC32c TLV against the whole header
 * hdr[0, hdrlen), and appends " tlv=TT:LEN,..." to out; with -v a printable
 * value follows its length, as in "30:5:seg-a" (a value too long for the
 * line shows as "30:300:..."). Returns 0 or -1. */
static int pp2_tlvs(const uint8_t *hdr, size_t hdrlen, size_t at, char *out, size_t outsz)
{
	static const uint8_t zero[4];
	size_t used = strlen(out);
	const char *sep = " tlv=";

	while (at < hdrlen) {
		size_t vlen;
		uint8_t type;

		if (hdrlen - at < 3) {
			snprintf(out, outsz, "v2 truncated TLV");
			return -1;
		}
		type = hdr[at];
		vlen = (size_t)hdr[at + 1] << 8 | hdr[at + 2];
		if (vlen > hdrlen - at - 3) {
			snprintf(out, outsz, "v2 TLV 0x%02x overruns header", type);
			return -1;
		}
		if (type == 0x03) {
			uint32_t c, want;

			if (vlen != 4) {
				snprintf(out, outsz, "v2 CRC32C TLV length %zu", vlen);
				return -1;
			}
			c = crc32c_step(~0u, hdr, at + 3);
			c = crc32c_step(c, zero, 4);
			c = ~crc32c_step(c, hdr + at + 7, hdrlen - at - 7);
			want = (uint32_t)hdr[at + 3] << 24 | (uint32_t)hdr[at + 4] << 16 |
			       (uint32_t)hdr[at + 5] << 8 | hdr[at + 6];
			if (c != want) {
				snprintf(out, outsz, "v2 CRC32C mismatch");
				return -1;
			}
		}
		if (used + 16 < outsz)
			used += snprintf(out + used, outsz - used, "%s%02x:%zu", sep, type, vlen);
		if (tlv_values && tlv_printable(hdr + at + 3, vlen) && used + 16 < outsz) {
			if (used + vlen + 16 < outsz)
				used += snprintf(out + used, outsz - used, ":%.*s", (int)vlen,
						 (const char *)hdr + at + 3);
			else
				used += snprintf(out + used, outsz - used, ":...");
		}
		sep = ",";
		at += 3 + vlen;
	}
	return 0;
}

/* Parses a v2 header at b[0, n); cap is the largest header we can hold. */
static int pp2_parse(const uint8_t *b, size_t n, size_t cap, size_t *hlen,
		     char *out, size_t outsz)
{
	char sip[INET6_ADDRSTRLEN], dip[INET6_ADDRSTRLEN];
	size_t len, ab;
	unsigned int cmd, fam, proto;

	if (n < 16)
		return 0;
	if ((b[12] >> 4) != 2) {
		snprintf(out, outsz, "v2 bad version %u", b[12] >> 4);
		return -1;
	}
	cmd = b[12] & 0x0f;
	fam = b[13] >> 4;
	proto = b[13] & 0x0f;
	len = (size_t)b[14] << 8 | b[15];
	if (cmd > 1) {
		snprintf(out, outsz, "v2 bad command %u", cmd);
		return -1;
	}
	if (fam > 3 || proto > 2) {
		snprintf(out, outsz, "v2 bad family/transport 0x%02x", b[13]);
		return -1;
	}
	if (16 + len > cap) {
		snprintf(out, outsz, "v2 header of %zu bytes too large for dpserver", 16 + len);
		return -1;
	}
	if (n < 16 + len)
		return 0;
	*hlen = 16 + len;

	ab = fam == 1 ? 12 : fam == 2 ? 36 : fam == 3 ? 216 : 0;
	if (len < ab) {
		snprintf(out, outsz, "v2 length %zu shorter than address block %zu", len, ab);
		return -1;
	}
	if (cmd == 0)
		snprintf(out, outsz, "PROXY LOCAL");
	else if (fam == 1) {
		fmt_ip(AF_INET, b + 16, sip);
		fmt_ip(AF_INET, b + 20, dip);
		snprintf(out, outsz, "PROXY %s %u %s %u", sip, b[24] << 8 | b[25],
			 dip, b[26] << 8 | b[27]);
	} else if (fam == 2) {
		fmt_ip(AF_INET6, b + 16, sip);
		fmt_ip(AF_INET6, b + 32, dip);
		snprintf(out, outsz, "PROXY %s %u %s %u", sip, b[48] << 8 | b[49],
			 dip, b[50] << 8 | b[51]);
	} else if (fam == 3)
		snprintf(out, outsz, "PROXY UNIX");
	else
		snprintf(out, outsz, "PROXY UNKNOWN");
	return pp2_tlvs(b, 16 + len, 16 + ab, out, outsz) < 0 ? -1 : 1;
}

/* Looks for a PROXY v1 or v2 header at the start of b[0, n).
 * Returns 1 with *hlen and the reply line (without newline) in out, 0 when
 * more bytes are needed, -1 with the reason in out when invalid. */
static int pp_parse(const uint8_t *b, size_t n, size_t cap, size_t *hlen,
		    char *out, size_t outsz)
{
	size_t k = n < 12 ? n : 12;

	if (n == 0)
		return 0;
	if (b[0] == 'P') {
		k = n < 6 ? n : 6;
		if (memcmp(b, "PROXY ", k) != 0) {
			snprintf(out, outsz, "not a PROXY header");
			return -1;
		}
		return pp1_parse(b, n, hlen, out, outsz);
	}
	if (memcmp(b, pp2_sig, k) != 0) {
		snprintf(out, outsz, "not a PROXY header");
		return -1;
	}
	return pp2_parse(b, n, cap, hlen, out, outsz);
}

/* ---- connections ------------------------------------------------------- */

static void log_line(struct server *srv, const char *line)
{
	if (!srv->log)
		return;
	fputs(line, srv->log);
	fflush(srv->log);
}

static void conn_free(struct server *srv, struct conn *c)
{
	epoll_ctl(srv->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->link.prev->next = c->link.next;
	c->link.next->prev = c->link.prev;
	srv->nconns--;
	free(c);
}

/* Appends a line to the pending output. The caller guarantees room. */
static void conn_put(struct conn *c, const char *s)
{
	size_t n = strlen(s);

	if (c->off + c->len + n > c->cap) {
		memmove(c->buf, c->buf + c->off, c->len);
		c->off = 0;
	}
	memcpy(c->buf + c->off + c->len, s, n);
	c->len += n;
}

/* The bytes we are willing to read now into buf (echo and header phases). */
static size_t conn_room(const struct conn *c)
{
	size_t limit = c->cap - (c->phase == PH_HDR ? LINE_SLACK : 0);

	return c->len >= limit ? 0 : limit - c->len;
}

/* Re-arms epoll to what the phase needs. Returns false when the connection
 * has nothing left to do and should be freed. */
static bool conn_arm(struct server *srv, struct conn *c)
{
	uint32_t want = 0;
	struct epoll_event ev;

	if (!c->rd_eof) {
		if (c->phase == PH_ECHO || c->phase == PH_HDR)
			want |= conn_room(c) ? EPOLLIN : 0;
		else
			want |= EPOLLIN;
	}
	if (c->len && c->phase != PH_HDR)
		want |= EPOLLOUT;
	if (!want)
		return false;
	if (want != c->evmask) {
		ev.events = want;
		ev.data.ptr = c;
		if (epoll_ctl(srv->ep, EPOLL_CTL_MOD, c->fd, &ev) < 0)
			return false;
		c->evmask = want;
	}
	return true;
}

/* Replaces the PROXY header at the front of buf by the reply line and keeps
 * whatever followed it as data to echo. */
static void conn_header_done(struct server *srv, struct conn *c, size_t hlen, const char *line)
{
	char reply[MAX_LINE + 2];
	size_t n, rest;

	n = snprintf(reply, sizeof(reply), "%s\n", line);
	rest = c->len - hlen;
	memmove(c->buf + n, c->buf + c->off + hlen, rest);
	memcpy(c->buf, reply, n);
	c->off = 0;
	c->len = n + rest;
	c->phase = PH_ECHO;
	log_line(srv, reply);
}

static void conn_try_header(struct server *srv, struct conn *c)
{
	char line[MAX_LINE], reply[MAX_LINE + 16];
	size_t hlen = 0;
	int r;

	r = pp_parse(c->buf + c->off, c->len, c->cap - LINE_SLACK, &hlen, line, sizeof(line));
	if (r == 0)
		return;
	if (r > 0) {
		conn_header_done(srv, c, hlen, line);
		return;
	}
	/* A broken header gets a diagnostic the test can read, then the end. */
	snprintf(reply, sizeof(reply), "PROXY ERROR %s\n", line);
	c->off = c->len = 0;
	conn_put(c, reply);
	log_line(srv, reply);
	c->phase = PH_DRAIN;
}

static void conn_sink_eof(struct server *srv, struct conn *c)
{
	char line[64 + 2 * sizeof(c->first)];
	size_t n;
	unsigned int i;

	n = snprintf(line, sizeof(line), "GOT %llu ", (unsigned long long)c->nbytes);
	for (i = 0; i < c->nfirst; i++)
		n += snprintf(line + n, sizeof(line) - n, "%02x", c->first[i]);
	if (!c->nfirst)
		n += snprintf(line + n, sizeof(line) - n, "-");
	snprintf(line + n, sizeof(line) - n, "\n");
	conn_put(c, line);
	log_line(srv, line);
	c->phase = PH_DRAIN;
}

/* Returns false when the connection must be freed. */
static bool conn_read(struct server *srv, struct conn *c)
{
	ssize_t n;

	if (c->phase == PH_ECHO || c->phase == PH_HDR) {
		size_t room = conn_room(c);

		/* EPOLLHUP/ERR arrive even while reading is paused; a zero-length
		 * recv would look like EOF, so let the write side find the error. */
		if (!room)
			return true;
		if (c->off + c->len + room > c->cap) {
			memmove(c->buf, c->buf + c->off, c->len);
			c->off = 0;
		}
		n = recv(c->fd, c->buf + c->off + c->len, room, 0);
	} else {
		n = recv(c->fd, scratch, sizeof(scratch), 0);
	}
	if (n < 0)
		return errno == EAGAIN || errno == EINTR;
	if (n == 0) {
		c->rd_eof = true;
		if (c->phase == PH_HDR)
			return false;	/* peer gave up inside its header */
		if (c->phase == PH_SINK)
			conn_sink_eof(srv, c);
		if (c->phase == PH_HOLD)
			return false;
		return c->len || !c->wr_shut;
	}
	switch (c->phase) {
	case PH_HDR:
		c->len += n;
		conn_try_header(srv, c);
		break;
	case PH_ECHO:
		c->len += n;
		break;
	case PH_SINK:
		if (c->nfirst < sizeof(c->first)) {
			size_t k = sizeof(c->first) - c->nfirst;

			k = (size_t)n < k ? (size_t)n : k;
			memcpy(c->first + c->nfirst, scratch, k);
			c->nfirst += k;
		}
		c->nbytes += n;
		break;
	case PH_HOLD:
	case PH_DRAIN:
		break;
	}
	return true;
}

/* Writes pending output; once it is all out and the phase says so, half-closes.
 * Returns false when the connection must be freed. */
static bool conn_write(struct conn *c)
{
	ssize_t n;

	if (c->phase == PH_HDR)
		return true;	/* buf holds input until the header is parsed */
	if (c->len) {
		n = send(c->fd, c->buf + c->off, c->len, MSG_NOSIGNAL);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
		c->off += n;
		c->len -= n;
		if (c->len == 0)
			c->off = 0;
	}
	if (c->len || c->wr_shut)
		return true;
	/* Everything we owe is written: echo half-closes once the peer has,
	 * a one-shot reply half-closes at once and lingers for the peer's EOF
	 * so that closing does not turn unread input into an RST. */
	if (c->phase == PH_DRAIN || (c->phase == PH_ECHO && c->rd_eof)) {
		shutdown(c->fd, SHUT_WR);
		c->wr_shut = true;
		c->drain_deadline = now_ms() + DRAIN_MS;
		c->phase = PH_DRAIN;
	}
	return true;
}

static void conn_event(struct server *srv, struct conn *c, uint32_t events)
{
	bool keep = true;

	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		keep = conn_read(srv, c);
	/* Write straight after reading so an echo does not wait a loop turn. */
	if (keep)
		keep = conn_write(c);
	if (keep && c->rd_eof && c->wr_shut)
		keep = false;
	if (!keep || !conn_arm(srv, c)) {
		conn_free(srv, c);
		if (srv->oneshot && srv->nconns == 0 && srv->accepted)
			srv->stop = true;
	}
}

/* ---- accepting ---------------------------------------------------------- */

static void listeners_pause(struct server *srv, bool pause)
{
	struct epoll_event ev;
	int i;

	for (i = 0; i < srv->nlst; i++) {
		if (srv->lst[i].fd < 0 || srv->lst[i].paused == pause)
			continue;
		ev.events = pause ? 0 : EPOLLIN;
		ev.data.ptr = &srv->lst[i];
		epoll_ctl(srv->ep, EPOLL_CTL_MOD, srv->lst[i].fd, &ev);
		srv->lst[i].paused = pause;
	}
}

static void listeners_close(struct server *srv)
{
	int i;

	for (i = 0; i < srv->nlst; i++) {
		if (srv->lst[i].fd < 0)
			continue;
		epoll_ctl(srv->ep, EPOLL_CTL_DEL, srv->lst[i].fd, NULL);
		close(srv->lst[i].fd);
		srv->lst[i].fd = -1;
	}
}

static void write_peer_line(struct server *srv, int fd, char *line, size_t sz)
{
	struct sockaddr_storage peer, local;
	socklen_t pl = sizeof(peer), ll = sizeof(local);
	char pip[INET6_ADDRSTRLEN], lip[INET6_ADDRSTRLEN];
	unsigned int pport, lport;

	memset(&peer, 0, sizeof(peer));
	memset(&local, 0, sizeof(local));
	getpeername(fd, (struct sockaddr *)&peer, &pl);
	/* Under tproxy this is the attacker's original destination. */
	getsockname(fd, (struct sockaddr *)&local, &ll);
	fmt_sa(&peer, pip, &pport);
	fmt_sa(&local, lip, &lport);
	snprintf(line, sz, "PEER %s %u LOCAL %s %u\n", pip, pport, lip, lport);
	log_line(srv, line);
}

/* Sets up one accepted socket per the mode. Returns 0 or -errno (fd closed). */
static int conn_start(struct server *srv, int fd)
{
	static const struct linger rst = { .l_onoff = 1, .l_linger = 0 };
	char line[160];
	struct epoll_event ev;
	struct conn *c;
	bool big;

	write_peer_line(srv, fd, line, sizeof(line));
	if (srv->mode == M_RST)
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &rst, sizeof(rst));
	if (srv->mode == M_CLOSE || srv->mode == M_RST) {
		close(fd);
		return 0;
	}
	big = srv->mode == M_ECHO || srv->mode == M_WHOAMI_ECHO || srv->mode == M_PROXY;
	c = calloc(1, sizeof(*c) + (big ? BIG_BUF : SMALL_BUF));
	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	c->tag.kind = K_CONN;
	c->fd = fd;
	c->cap = big ? BIG_BUF : SMALL_BUF;
	switch (srv->mode) {
	case M_ECHO:
		c->phase = PH_ECHO;
		break;
	case M_WHOAMI:
		conn_put(c, line);
		c->phase = PH_DRAIN;
		break;
	case M_WHOAMI_ECHO:
		conn_put(c, line);
		c->phase = PH_ECHO;
		break;
	case M_SINK:
		c->phase = PH_SINK;
		break;
	case M_HOLD:
		c->phase = PH_HOLD;
		break;
	default:
		c->phase = PH_HDR;
		break;
	}
	ev.events = c->evmask = EPOLLIN | (c->len ? EPOLLOUT : 0);
	ev.data.ptr = c;
	if (epoll_ctl(srv->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int e = -errno;

		close(fd);
		free(c);
		return e;
	}
	c->link.next = srv->conns.next;
	c->link.prev = &srv->conns;
	c->link.next->prev = &c->link;
	srv->conns.next = &c->link;
	if (++srv->nconns > srv->peak)
		srv->peak = srv->nconns;
	return 0;
}

static void listener_event(struct server *srv, struct listener *l)
{
	int i, fd;

	/* Bounded so a flood of SYNs cannot starve established connections. */
	for (i = 0; i < 64 && !srv->stop; i++) {
		fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				/* Level-triggered epoll would spin: back off. */
				fprintf(stderr, "dpserver: accept: %s (pausing)\n", strerror(errno));
				listeners_pause(srv, true);
				srv->accept_resume = now_ms() + ACCEPT_PAUSE_MS;
			}
			return;
		}
		srv->accepted++;
		if (conn_start(srv, fd) < 0)
			fprintf(stderr, "dpserver: connection setup failed\n");
		if (srv->oneshot) {
			listeners_close(srv);
			if (srv->nconns == 0)
				srv->stop = true;
			return;
		}
	}
}

/* Opens one listener. Returns 0 or -1 with a message on stderr. */
static int listener_open(struct server *srv, const char *spec)
{
	struct sockaddr_storage ss;
	socklen_t sslen = 0;
	struct epoll_event ev;
	struct listener *l;
	char ip[INET6_ADDRSTRLEN];
	unsigned int port;
	int one = 1, fd;

	if (srv->nlst >= MAX_LISTENERS) {
		fprintf(stderr, "dpserver: too many listeners (max %d)\n", MAX_LISTENERS);
		return -1;
	}
	if (parse_hostport(spec, &ss, &sslen) < 0) {
		fprintf(stderr, "dpserver: bad address '%s' (want 1.2.3.4:80 or [fd00::1]:80)\n",
			spec);
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		goto fail;
	if (srv->transparent) {
		/* Lets the listener bind a foreign address and accept tproxy'd flows. */
		if (ss.ss_family == AF_INET)
			one = setsockopt(fd, SOL_IP, IP_TRANSPARENT, &one, sizeof(one));
		else
			one = setsockopt(fd, SOL_IPV6, IPV6_TRANSPARENT, &one, sizeof(one));
		if (one < 0)
			goto fail;
	}
	if (bind(fd, (struct sockaddr *)&ss, sslen) < 0 || listen(fd, 4096) < 0)
		goto fail;
	sslen = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) < 0)
		goto fail;
	l = &srv->lst[srv->nlst];
	l->tag.kind = K_LISTENER;
	l->fd = fd;
	ev.events = EPOLLIN;
	ev.data.ptr = l;
	if (epoll_ctl(srv->ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		goto fail;
	srv->nlst++;
	fmt_sa(&ss, ip, &port);
	printf("LISTEN %s %u\n", ip, port);
	return 0;
fail:
	fprintf(stderr, "dpserver: listen %s: %s\n", spec, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

/* ---- main loop ----------------------------------------------------------- */

static void tick(struct server *srv)
{
	int64_t now = now_ms();
	struct link *l, *next;

	if (srv->deadline && now >= srv->deadline)
		srv->stop = true;
	if (srv->accept_resume && now >= srv->accept_resume) {
		srv->accept_resume = 0;
		listeners_pause(srv, false);
	}
	for (l = srv->conns.next; l != &srv->conns; l = next) {
		next = l->next;
		if (conn_of(l)->drain_deadline && now >= conn_of(l)->drain_deadline)
			conn_free(srv, conn_of(l));
	}
	if (srv->oneshot && srv->accepted && srv->nconns == 0)
		srv->stop = true;
}

static void run(struct server *srv)
{
	struct epoll_event evs[256];
	int64_t next_tick = 0;
	int i, n;

	while (!srv->stop) {
		n = epoll_wait(srv->ep, evs, 256, TICK_MS);
		if (n < 0 && errno != EINTR) {
			perror("dpserver: epoll_wait");
			return;
		}
		for (i = 0; i < n && !srv->stop; i++) {
			struct tag *t = evs[i].data.ptr;

			if (t->kind == K_SIGNAL)
				srv->stop = true;
			else if (t->kind == K_LISTENER)
				listener_event(srv, (struct listener *)t);
			else
				conn_event(srv, (struct conn *)t, evs[i].events);
		}
		/* The timer scan walks every connection: keep it off the hot path. */
		if (now_ms() >= next_tick || srv->stop) {
			tick(srv);
			next_tick = now_ms() + TICK_MS;
		}
	}
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: dpserver -l ADDR:PORT [-l ...] -m MODE [-T] [-o FILE] [-x] [-t SECS] [-v]\n"
		"  -l ADDR:PORT  listen (1.2.3.4:80, [fd00::1]:80, *:80; port 0 = any)\n"
		"  -T            IP_TRANSPARENT on listeners (foreign address, tproxy)\n"
		"  -o FILE       append 'PEER ...' (and PROXY/GOT reply) lines to FILE\n"
		"  -x            one shot: stop listening after the first accept and exit\n"
		"                once that connection is done\n"
		"  -t SECS       exit after SECS (safety net)\n"
		"  -v            proxy mode: print printable TLV values too, as\n"
		"                'tlv=30:5:seg-a' (printable: ASCII 0x21-0x7e but ',')\n"
		"modes:\n"
		"  echo          echo bytes; on peer EOF finish writing, then half-close\n"
		"  whoami        write 'PEER ip port LOCAL ip port' and close\n"
		"  whoami-echo   that line, then echo\n"
		"  sink          discard; at EOF write 'GOT <bytes> <hex of first 16>'\n"
		"  hold          accept, read, never answer\n"
		"  proxy         expect a PROXY v1/v2 header, write 'PROXY src sport dst\n"
		"                dport' / 'PROXY LOCAL' / 'PROXY UNKNOWN' (plus ' tlv=TT:LEN,..'),\n"
		"                or 'PROXY ERROR reason' and close; then echo\n"
		"  close         accept and close (FIN)\n"
		"  rst           accept and reset (SO_LINGER 0)\n");
}

static int parse_mode(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++)
		if (strcmp(s, mode_names[i]) == 0)
			return i;
	return -1;
}

static int setup_signals(struct server *srv)
{
	struct epoll_event ev;
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	srv->sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (srv->sfd < 0)
		return -1;
	srv->sig_tag.kind = K_SIGNAL;
	ev.events = EPOLLIN;
	ev.data.ptr = &srv->sig_tag;
	return epoll_ctl(srv->ep, EPOLL_CTL_ADD, srv->sfd, &ev);
}

static void raise_nofile(void)
{
	struct rlimit rl;

	/* Thousands of concurrent connections need more than the usual 1024. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void server_close(struct server *srv)
{
	while (srv->conns.next != &srv->conns)
		conn_free(srv, conn_of(srv->conns.next));
	listeners_close(srv);
	if (srv->sfd >= 0)
		close(srv->sfd);
	if (srv->ep >= 0)
		close(srv->ep);
	if (srv->log)
		fclose(srv->log);
}

int main(int argc, char **argv)
{
	const char *specs[MAX_LISTENERS];
	const char *logpath = NULL;
	struct server srv;
	int nspec = 0, mode = -1, opt, i, rc = 1;
	double secs = 0;
	char *end;

	memset(&srv, 0, sizeof(srv));
	srv.ep = srv.sfd = -1;
	srv.conns.next = srv.conns.prev = &srv.conns;
	while ((opt = getopt(argc, argv, "l:m:o:xt:Thv")) != -1) {
		switch (opt) {
		case 'l':
			if (nspec >= MAX_LISTENERS) {
				fprintf(stderr, "dpserver: at most %d -l\n", MAX_LISTENERS);
				return 2;
			}
			specs[nspec++] = optarg;
			break;
		case 'm':
			mode = parse_mode(optarg);
			if (mode < 0) {
				fprintf(stderr, "dpserver: unknown mode '%s'\n", optarg);
				return 2;
			}
			break;
		case 'o':
			logpath = optarg;
			break;
		case 'x':
			srv.oneshot = true;
			break;
		case 't':
			secs = strtod(optarg, &end);
			if (*end || secs <= 0) {
				fprintf(stderr, "dpserver: bad -t '%s'\n", optarg);
				return 2;
			}
			break;
		case 'T':
			srv.transparent = true;
			break;
		case 'v':
			tlv_values = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!nspec || mode < 0 || optind != argc) {
		usage(stderr);
		return 2;
	}
	srv.mode = mode;
	raise_nofile();
	if (logpath) {
		srv.log = fopen(logpath, "a");
		if (!srv.log) {
			fprintf(stderr, "dpserver: %s: %s\n", logpath, strerror(errno));
			return 1;
		}
		setvbuf(srv.log, NULL, _IOLBF, 0);
	}
	srv.ep = epoll_create1(EPOLL_CLOEXEC);
	if (srv.ep < 0 || setup_signals(&srv) < 0) {
		perror("dpserver: setup");
		goto out;
	}
	for (i = 0; i < nspec; i++)
		if (listener_open(&srv, specs[i]) < 0)
			goto out;
	if (secs > 0)
		srv.deadline = now_ms() + (int64_t)(secs * 1000);
	printf("READY\n");
	fflush(stdout);
	run(&srv);
	fprintf(stderr, "dpserver: exiting, %lu connections accepted, at most %lu at once\n", srv.accepted,
		srv.peak);
	rc = 0;
out:
	server_close(&srv);
	return rc;
}
