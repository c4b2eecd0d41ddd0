/* sdnotify.c — sd_notify(3) without libsystemd: one datagram per message
 * to the unix socket named by $NOTIFY_SOCKET.
 *
 * The socket is created once, at start-up, before any namespace switch: an
 * abstract socket name ('@…') is resolved in the network namespace of the
 * sending socket, and the process may later create sockets elsewhere. The
 * receiver (systemd) identifies the sender by its credentials, which the
 * kernel attaches itself, so plain sendto() suffices. A send may block only
 * if the receiver's queue is full; SO_SNDTIMEO bounds that to one second so
 * a wedged service manager cannot stall the event loop for long.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl/sdnotify.h"

static int notify_fd = -1;
static struct sockaddr_un notify_addr;
static socklen_t notify_len;
static int pending_mainpid;      /* sent with the next READY=1 */

unsigned long long sdnotify_monotonic_usec(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		return 0;
	return (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000ULL;
}

int sdnotify_init(char **err)
{
	const char *e = getenv("NOTIFY_SOCKET");
	struct timeval tv = { 1, 0 };
	size_t n;
	int fd;

	if (notify_fd >= 0)
		return 1;
	if (!e || !*e)
		return 0;
	n = strlen(e);
	if (e[0] != '/' && e[0] != '@') {
		memprintf(err, "NOTIFY_SOCKET='%s': only unix socket paths and abstract '@' names are supported", e);
		return -EAFNOSUPPORT;
	}
	if (n >= sizeof(notify_addr.sun_path) || n < 2) {
		memprintf(err, "NOTIFY_SOCKET='%s': bad socket name length", e);
		return -ENAMETOOLONG;
	}
	memset(&notify_addr, 0, sizeof(notify_addr));
	notify_addr.sun_family = AF_UNIX;
	memcpy(notify_addr.sun_path, e, n);
	if (e[0] == '@') {
		/* abstract: a leading NUL, and the length counts only the name */
		notify_addr.sun_path[0] = '\0';
		notify_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	} else {
		notify_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	}
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		int r = errno;

		memprintf(err, "NOTIFY_SOCKET: socket: %s", strerror(r));
		return -r;
	}
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	notify_fd = fd;
	return 1;
}

bool sdnotify_enabled(void)
{
	return notify_fd >= 0;
}

void sdnotify_fini(void)
{
	if (notify_fd >= 0)
		close(notify_fd);
	notify_fd = -1;
}

int sdnotify_send(const char *fmt, ...)
{
	char *m = NULL;
	va_list ap;
	ssize_t w;
	int n;

	if (notify_fd < 0)
		return 0;
	va_start(ap, fmt);
	n = vmemprintf(&m, fmt, ap);
	va_end(ap);
	if (n < 0)
		return n;
	do
		w = sendto(notify_fd, m, (size_t)n, MSG_NOSIGNAL, (struct sockaddr *)&notify_addr, notify_len);
	while (w < 0 && errno == EINTR);
	n = w < 0 ? -errno : 0;
	free(m);
	return n;
}

/* STATUS= is one line: newlines and other control characters become spaces. */
static char *clean_status(const char *s)
{
	char *c;

	if (!s)
		return NULL;
	c = strdup(s);
	if (!c)
		return NULL;
	for (char *p = c; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return c;
}

static int send_state(const char *state, bool monotonic, const char *status)
{
	char *st = clean_status(status);
	char mono[48] = "";
	int r;

	if (notify_fd < 0) {
		free(st);
		return 0;
	}
	if (monotonic)
		snprintf(mono, sizeof(mono), "MONOTONIC_USEC=%llu\n", sdnotify_monotonic_usec());
	r = sdnotify_send("%s%s%s%s%s", state ? state : "", state ? "\n" : "", mono, st ? "STATUS=" : "",
			  st ? st : "");
	free(st);
	return r;
}

void sdnotify_set_mainpid(int pid)
{
	pending_mainpid = pid;
}

int sdnotify_ready(const char *status)
{
	char st[40];

	if (!pending_mainpid || notify_fd < 0)
		return send_state("READY=1", false, status);
	snprintf(st, sizeof(st), "MAINPID=%d\nREADY=1", pending_mainpid);
	pending_mainpid = 0;
	return send_state(st, false, status);
}

int sdnotify_reloading(const char *status)
{
	return send_state("RELOADING=1", true, status);
}

int sdnotify_stopping(const char *status)
{
	return send_state("STOPPING=1", false, status);
}

int sdnotify_status(const char *status)
{
	return send_state(NULL, false, status);
}
