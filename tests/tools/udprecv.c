/* udprecv.c — a UDP decoy service for decoyproxy's integration tests.
 *
 * It plays the UDP service behind decoyproxy and reports what it saw, one
 * line per datagram, so a test asserts on the far end. Independent of the
 * project's code (its own PROXY v2 parser, not lib/pp.c): plain C, libc.
 *
 *   udprecv -l ADDR:PORT [-l ...] -m MODE [-o FILE] [-t SECS]
 *
 * ADDR is `1.2.3.4` or `[fd00::1]`. Prints `READY` once bound.
 * Modes:
 *   pp2   every datagram must start with a PROXY v2 header (DGRAM): writes
 *         "PP2 <cmd> <fam>/<proto> src=<ip>:<port> dst=<ip>:<port> peer=<ip>:<port>
 *         payload=<text>" (a bad header: "BAD <why> peer=..."), and answers
 *         "ECHO <payload>" to the peer (no header: replies are plain);
 *   ntp   a tiny NTP server: answers a client request (mode 3) with a
 *         server reply (mode 4, stratum 2, the current time), writes
 *         "NTP peer=<ip>:<port>";
 *   echo  writes "DGRAM peer=<ip>:<port> len=<n>" and sends the datagram back.
 * Exit: 0 on SIGTERM/-t expiry, 1 start-up error, 2 usage.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXL 8

static volatile sig_atomic_t stop;

static void on_sig(int s)
{
	(void)s;
	stop = 1;
}

static int parse_addr(const char *s, struct sockaddr_storage *ss)
{
	char host[128];
	const char *colon;
	long port;

	memset(ss, 0, sizeof(*ss));
	if (*s == '[') {
		const char *e = strchr(s, ']');

		if (!e || e[1] != ':' || (size_t)(e - s - 1) >= sizeof(host))
			return -1;
		memcpy(host, s + 1, (size_t)(e - s - 1));
		host[e - s - 1] = 0;
		colon = e + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || (size_t)(colon - s) >= sizeof(host))
			return -1;
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = 0;
	}
	port = strtol(colon + 1, NULL, 10);
	if (port <= 0 || port > 65535)
		return -1;
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		ss->ss_family = AF_INET;
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		ss->ss_family = AF_INET6;
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
		return 0;
	}
	return -1;
}

static const char *str_of(const struct sockaddr_storage *ss, char *buf, size_t cap)
{
	char a[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)ss;

		inet_ntop(AF_INET6, &s->sin6_addr, a, sizeof(a));
		snprintf(buf, cap, "[%s]:%u", a, ntohs(s->sin6_port));
	} else {
		const struct sockaddr_in *s = (const void *)ss;

		inet_ntop(AF_INET, &s->sin_addr, a, sizeof(a));
		snprintf(buf, cap, "%s:%u", a, ntohs(s->sin_port));
	}
	return buf;
}

static void printable(const uint8_t *p, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 5 < cap; i++)
		o += (size_t)snprintf(out + o, cap - o, p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\' ? "%c" : "\\x%02x", p[i]);
	out[o] = 0;
}

static const uint8_t sig[12] = { 0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A };

/* The PROXY v2 header at p: its length, or -1 with *why. */
static int pp2_parse(const uint8_t *p, size_t n, char *line, size_t cap, const char **why)
{
	size_t len;
	unsigned ver, cmd, fam, proto;
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

	if (n < 16 || memcmp(p, sig, 12)) {
		*why = "no PROXY v2 signature";
		return -1;
	}
	ver = p[12] >> 4;
	cmd = p[12] & 15;
	fam = p[13] >> 4;
	proto = p[13] & 15;
	len = (size_t)p[14] << 8 | p[15];
	if (ver != 2 || cmd > 1) {
		*why = "bad version or command";
		return -1;
	}
	if (16 + len > n) {
		*why = "header longer than the datagram";
		return -1;
	}
	if (cmd == 0) {
		snprintf(line, cap, "PP2 LOCAL");
		return (int)(16 + len);
	}
	if (fam == 1 && len >= 12) {
		inet_ntop(AF_INET, p + 16, a, sizeof(a));
		inet_ntop(AF_INET, p + 20, b, sizeof(b));
		snprintf(line, cap, "PP2 PROXY inet/%s src=%s:%u dst=%s:%u", proto == 2 ? "dgram" : "stream", a,
			 p[24] << 8 | p[25], b, p[26] << 8 | p[27]);
	} else if (fam == 2 && len >= 36) {
		inet_ntop(AF_INET6, p + 16, a, sizeof(a));
		inet_ntop(AF_INET6, p + 32, b, sizeof(b));
		snprintf(line, cap, "PP2 PROXY inet6/%s src=[%s]:%u dst=[%s]:%u", proto == 2 ? "dgram" : "stream", a,
			 p[48] << 8 | p[49], b, p[50] << 8 | p[51]);
	} else {
		*why = "unsupported family or short address block";
		return -1;
	}
	return (int)(16 + len);
}

static void ntp_reply(uint8_t *p, size_t n, size_t *olen)
{
	struct timespec ts;
	uint32_t sec, frac;
	uint8_t out[48] = { 0 };

	clock_gettime(CLOCK_REALTIME, &ts);
	sec = (uint32_t)((uint64_t)ts.tv_sec + 2208988800ull);
	frac = (uint32_t)(((uint64_t)ts.tv_nsec << 32) / 1000000000ull);
	out[0] = (uint8_t)((0 << 6) | ((p[0] >> 3 & 7) << 3) | 4);   /* LI 0, client's version, mode 4 */
	out[1] = 2;                                                   /* stratum */
	out[2] = p[2];
	out[3] = (uint8_t)-20;
	memcpy(out + 12, "LOCL", 4);                                  /* reference id */
	for (int k = 16; k < 48; k += 8) {                            /* ref, -, rx, tx times */
		out[k] = (uint8_t)(sec >> 24); out[k + 1] = (uint8_t)(sec >> 16);
		out[k + 2] = (uint8_t)(sec >> 8); out[k + 3] = (uint8_t)sec;
		out[k + 4] = (uint8_t)(frac >> 24); out[k + 5] = (uint8_t)(frac >> 16);
		out[k + 6] = (uint8_t)(frac >> 8); out[k + 7] = (uint8_t)frac;
	}
	memcpy(out + 24, p + 40, 8);                                  /* origin = client's transmit */
	(void)n;
	memcpy(p, out, 48);
	*olen = 48;
}

int main(int argc, char **argv)
{
	struct pollfd pfd[MAXL];
	int nl = 0, opt, secs = 0;
	const char *mode = "echo";
	FILE *out = stdout;
	time_t end;

	while ((opt = getopt(argc, argv, "l:m:o:t:")) != -1) {
		struct sockaddr_storage ss;
		int fd, one = 1;

		switch (opt) {
		case 'l':
			if (nl == MAXL || parse_addr(optarg, &ss) < 0) {
				fprintf(stderr, "udprecv: bad -l '%s'\n", optarg);
				return 2;
			}
			fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
			if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
			    (ss.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
			    bind(fd, (struct sockaddr *)&ss, ss.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
				 sizeof(struct sockaddr_in)) < 0) {
				fprintf(stderr, "udprecv: %s: %s\n", optarg, strerror(errno));
				return 1;
			}
			pfd[nl].fd = fd;
			pfd[nl++].events = POLLIN;
			break;
		case 'm':
			mode = optarg;
			break;
		case 'o':
			out = fopen(optarg, "a");
			if (!out) {
				fprintf(stderr, "udprecv: %s: %s\n", optarg, strerror(errno));
				return 1;
			}
			setvbuf(out, NULL, _IOLBF, 0);
			break;
		case 't':
			secs = atoi(optarg);
			break;
		default:
			return 2;
		}
	}
	if (!nl || (strcmp(mode, "pp2") && strcmp(mode, "ntp") && strcmp(mode, "echo"))) {
		fprintf(stderr, "usage: udprecv -l ADDR:PORT [-l ...] -m pp2|ntp|echo [-o FILE] [-t SECS]\n");
		return 2;
	}
	signal(SIGTERM, on_sig);
	signal(SIGINT, on_sig);
	printf("READY\n");
	fflush(stdout);
	end = time(NULL) + secs;
	while (!stop && (!secs || time(NULL) < end)) {
		if (poll(pfd, (nfds_t)nl, 200) <= 0)
			continue;
		for (int i = 0; i < nl; i++) {
			uint8_t buf[65536];
			char line[512], peer[80], pl[300];
			struct sockaddr_storage from;
			socklen_t fl = sizeof(from);
			ssize_t n;
			size_t olen;

			if (!(pfd[i].revents & POLLIN))
				continue;
			memset(&from, 0, sizeof(from));
			n = recvfrom(pfd[i].fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
			if (n < 0)
				continue;
			str_of(&from, peer, sizeof(peer));
			if (!strcmp(mode, "pp2")) {
				const char *why = NULL;
				int h = pp2_parse(buf, (size_t)n, line, sizeof(line), &why);
				char rep[400];

				if (h < 0) {
					fprintf(out, "BAD %s peer=%s\n", why, peer);
					continue;
				}
				printable(buf + h, (size_t)n - (size_t)h, pl, sizeof(pl));
				fprintf(out, "%s peer=%s payload=%s\n", line, peer, pl);
				olen = (size_t)snprintf(rep, sizeof(rep), "ECHO %.*s", (int)((size_t)n - (size_t)h > 300 ? 300 : (size_t)n - (size_t)h),
							(const char *)buf + h);
				sendto(pfd[i].fd, rep, olen, 0, (struct sockaddr *)&from, fl);
			} else if (!strcmp(mode, "ntp")) {
				if (n < 48 || (buf[0] & 7) != 3)
					continue;
				fprintf(out, "NTP peer=%s\n", peer);
				ntp_reply(buf, (size_t)n, &olen);
				sendto(pfd[i].fd, buf, olen, 0, (struct sockaddr *)&from, fl);
			} else {
				fprintf(out, "DGRAM peer=%s len=%zd\n", peer, n);
				sendto(pfd[i].fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
			}
		}
	}
	return 0;
}
