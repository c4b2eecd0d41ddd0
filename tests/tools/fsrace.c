/* fsrace.c — a local attacker for decoyproxy's file-system race tests
 * (issue 18, item 1: the unix stats socket).
 *
 * Run as an unprivileged user who may write in DIR:
 *
 *   fsrace DIR NAME TARGET SECS
 *
 * For SECS seconds it watches DIR/NAME as fast as it can and, each time a
 * socket appears there, replaces it at once with a symbolic link to TARGET
 * (rename() of a link made in advance, so the swap is one system call). A
 * daemon that changes the mode or owner of the socket by name after
 * bind() then changes TARGET instead. Prints `READY` once watching, then
 * `SWAPS <n>` when the time is up (or on SIGTERM/SIGINT).
 *
 * Plain C and libc only, independent of the project's code.
 */
#include "config.h"

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	char tmp[64];
	unsigned long swaps = 0, loops = 0;
	double end;
	int dfd;

	if (argc != 5) {
		fprintf(stderr, "usage: fsrace DIR NAME TARGET SECS\n");
		return 2;
	}
	dfd = open(argv[1], O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		fprintf(stderr, "fsrace: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	snprintf(tmp, sizeof(tmp), ".fsrace.%d", (int)getpid());
	unlinkat(dfd, tmp, 0);
	if (symlinkat(argv[3], dfd, tmp) < 0) {
		fprintf(stderr, "fsrace: symlink in %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	end = now() + atof(argv[4]);
	printf("READY\n");
	fflush(stdout);
	while (!stop) {
		struct stat st;

		if (fstatat(dfd, argv[2], &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISSOCK(st.st_mode) &&
		    renameat(dfd, tmp, dfd, argv[2]) == 0) {
			swaps++;
			symlinkat(argv[3], dfd, tmp);
		}
		if (!(++loops & 1023) && now() > end)
			break;
	}
	unlinkat(dfd, tmp, 0);
	printf("SWAPS %lu\n", swaps);
	return 0;
}
