/* udpload.c — UDP load generator for bench/udp.sh (not part of make check).
 *
 *   udpload -d ADDR:PORT -m pps|flows [-w WINDOW] [-t SECS] [-s SIZE]
 *
 * pps:   one socket (one flow), WINDOW datagrams in flight, each answered
 *        datagram sends the next: prints "pps <answers per second> lost <n>".
 * flows: WINDOW sockets at once; each sends one datagram from a fresh port
 *        and closes after its answer (a new flow each time): prints
 *        "flows <answered exchanges per second> lost <n>".
 * A datagram unanswered after 200 ms counts as lost and is replaced.
 * IPv4 only. Plain libc.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int fresh(void)
{
	return socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
}

int main(int argc, char **argv)
{
	struct sockaddr_in dst = { .sin_family = AF_INET };
	const char *mode = "pps";
	int opt, win = 32, size = 64;
	double secs = 3;
	char buf[2048], *colon;

	while ((opt = getopt(argc, argv, "d:m:w:t:s:")) != -1) {
		switch (opt) {
		case 'd':
			colon = strrchr(optarg, ':');
			if (!colon)
				return 2;
			*colon = 0;
			inet_pton(AF_INET, optarg, &dst.sin_addr);
			dst.sin_port = htons((uint16_t)atoi(colon + 1));
			break;
		case 'm': mode = optarg; break;
		case 'w': win = atoi(optarg); break;
		case 't': secs = atof(optarg); break;
		case 's': size = atoi(optarg); break;
		default: return 2;
		}
	}
	if (win < 1 || win > 1000 || size < 1 || size > (int)sizeof(buf))
		return 2;
	memset(buf, 'x', sizeof(buf));
	if (!strcmp(mode, "pps")) {
		int fd = fresh();
		unsigned long long got = 0, lost = 0;
		double end = now() + secs, last = now();
		int inflight = 0;

		connect(fd, (struct sockaddr *)&dst, sizeof(dst));
		while (now() < end) {
			struct pollfd p = { fd, POLLIN, 0 };

			while (inflight < win && send(fd, buf, (size_t)size, 0) > 0)
				inflight++;
			if (poll(&p, 1, 50) > 0)
				while (recv(fd, buf, sizeof(buf), 0) > 0) {
					got++;
					inflight--;
					last = now();
				}
			if (now() - last > 0.2 && inflight) {
				lost += (unsigned long long)inflight;
				inflight = 0;
				last = now();
			}
		}
		printf("pps %.0f lost %llu\n", got / secs, lost);
		return 0;
	}
	if (!strcmp(mode, "flows")) {
		struct pollfd *p = calloc((size_t)win, sizeof(*p));
		double *sent = calloc((size_t)win, sizeof(*sent));
		unsigned long long got = 0, lost = 0;
		double end = now() + secs;

		if (!p || !sent)
			return 1;
		for (int i = 0; i < win; i++)
			p[i].fd = -1;
		while (now() < end) {
			double t = now();

			for (int i = 0; i < win; i++) {
				if (p[i].fd >= 0 && t - sent[i] > 0.2) {
					close(p[i].fd);
					p[i].fd = -1;
					lost++;
				}
				if (p[i].fd < 0) {
					p[i].fd = fresh();
					p[i].events = POLLIN;
					connect(p[i].fd, (struct sockaddr *)&dst, sizeof(dst));
					send(p[i].fd, buf, (size_t)size, 0);
					sent[i] = t;
				}
			}
			if (poll(p, (nfds_t)win, 50) <= 0)
				continue;
			for (int i = 0; i < win; i++) {
				if (p[i].fd >= 0 && (p[i].revents & POLLIN) && recv(p[i].fd, buf, sizeof(buf), 0) > 0) {
					got++;
					close(p[i].fd);
					p[i].fd = -1;
				}
			}
		}
		printf("flows %.0f lost %llu\n", got / secs, lost);
		return 0;
	}
	return 2;
}
