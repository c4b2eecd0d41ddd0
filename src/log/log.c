/* log.c — log targets: parse a `log` line, open it, frame and send messages.
 *
 * Framing follows what haproxy 2.6.12 puts on the wire (captured for the
 * unit tests): a header chosen by the target's format, the message, then
 * "\n" on every kind of target; `len` caps header + message. A send is one
 * writev()/sendmsg() of three pieces (header, message, "\n"), so a frame is
 * never split between two datagrams and nothing is allocated per message.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log/log.h"

void (*log_now_hook)(struct timeval *tv);

static const char *const log_facilities[] = {
	"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
	"uucp", "cron", "auth2", "ftp", "ntp", "audit", "alert", "cron2",
	"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
};

static const char *const log_levels[] = {
	"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
};

static const char *const log_formats[] = {
	[LOG_FMT_LOCAL] = "local",
	[LOG_FMT_RFC3164] = "rfc3164",
	[LOG_FMT_RFC5424] = "rfc5424",
	[LOG_FMT_PRIO] = "priority",
	[LOG_FMT_SHORT] = "short",
	[LOG_FMT_TIMED] = "timed",
	[LOG_FMT_ISO] = "iso",
	[LOG_FMT_RAW] = "raw",
};

static const char log_months[12][4] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

static int name_index(const char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return (int)i;
	return -1;
}

int log_facility_by_name(const char *name)
{
	return name_index(log_facilities, ARRAY_SIZE(log_facilities), name);
}

int log_level_by_name(const char *name)
{
	return name_index(log_levels, ARRAY_SIZE(log_levels), name);
}

const char *log_facility_name(int facility)
{
	if (facility < 0 || (size_t)facility >= ARRAY_SIZE(log_facilities))
		return NULL;
	return log_facilities[facility];
}

const char *log_level_name(int level)
{
	if (level < 0 || (size_t)level >= ARRAY_SIZE(log_levels))
		return NULL;
	return log_levels[level];
}

/* ---------------------------------------------------------------------------
 * parsing
 * ------------------------------------------------------------------------- */

static int parse_unix(struct log_target *t, const char *path, bool abstract, char **err)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)&t->addr;
	size_t n = strlen(path);
	/* one byte goes to the trailing NUL of a path, or to the leading NUL
	 * of an abstract name (which has no trailing one) */
	size_t room = sizeof(sun->sun_path) - 1;

	if (!n) {
		memprintf(err, "empty UNIX socket path in log target '%s'", t->name);
		return -EINVAL;
	}
	if (n > room) {
		memprintf(err, "UNIX socket path '%s' is too long (%zu bytes, at most %zu)", path, n, room);
		return -EINVAL;
	}
	t->kind = LOG_KIND_UNIX;
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path + (abstract ? 1 : 0), path, n);
	t->addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	return 0;
}

/* Fills t->addr from a numeric address or a host name of family fam
 * (AF_UNSPEC: either). */
static int resolve_host(struct log_target *t, const char *host, int fam, unsigned port, char **err)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&t->addr;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&t->addr;
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM, .ai_family = fam };
	struct addrinfo *res = NULL;
	int rc;

	if (fam != AF_INET6 && inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		t->addrlen = sizeof(*sin);
		return 0;
	}
	if (fam != AF_INET && inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		t->addrlen = sizeof(*sin6);
		return 0;
	}
	if (!*host) {
		memprintf(err, "missing address in log target '%s'", t->name);
		return -EINVAL;
	}
	rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc || !res) {
		memprintf(err, "cannot resolve '%s' in log target '%s': %s", host, t->name,
			  rc ? gai_strerror(rc) : "no address");
		if (res)
			freeaddrinfo(res);
		return -EINVAL;
	}
	if ((size_t)res->ai_addrlen > sizeof(t->addr)) {
		freeaddrinfo(res);
		memprintf(err, "unexpected address size for '%s'", host);
		return -EINVAL;
	}
	memcpy(&t->addr, res->ai_addr, res->ai_addrlen);
	t->addrlen = (socklen_t)res->ai_addrlen;
	freeaddrinfo(res);
	if (t->addr.ss_family == AF_INET)
		sin->sin_port = htons((uint16_t)port);
	else
		sin6->sin6_port = htons((uint16_t)port);
	return 0;
}

static int parse_port(struct log_target *t, const char *s, unsigned *port, char **err)
{
	unsigned long long v;

	if (!*s) {
		*port = LOG_DEFAULT_PORT;
		return 0;
	}
	if (str_to_uint(s, 65535, &v) < 0 || v < 1) {
		memprintf(err, "invalid port '%s' in log target '%s' (expected 1 to 65535)", s, t->name);
		return -EINVAL;
	}
	*port = (unsigned)v;
	return 0;
}

/* Whether the first n bytes of s are an IPv6 address by themselves. */
static bool is_ipv6_prefix(const char *s, size_t n)
{
	char tmp[INET6_ADDRSTRLEN];
	struct in6_addr a;

	if (n >= sizeof(tmp))
		return false;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	return inet_pton(AF_INET6, tmp, &a) == 1;
}

/* "<host>[:<port>]", "[<v6>][:<port>]" or a bare IPv6 address with an
 * optional ":<port>" after it. */
static int parse_inet(struct log_target *t, const char *s, int fam, char **err)
{
	char host[256];
	const char *port_str = "";
	const char *colon;
	unsigned port;
	size_t hlen;
	int ret;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close) {
			memprintf(err, "missing ']' in log target '%s'", t->name);
			return -EINVAL;
		}
		hlen = (size_t)(close - s - 1);
		if (close[1] == ':')
			port_str = close + 2;
		else if (close[1]) {
			memprintf(err, "unexpected '%s' after ']' in log target '%s'", close + 1, t->name);
			return -EINVAL;
		}
		s++;
		if (fam == AF_INET) {
			memprintf(err, "IPv6 address in an IPv4-only log target '%s'", t->name);
			return -EINVAL;
		}
		fam = AF_INET6;
	} else {
		colon = strrchr(s, ':');
		hlen = colon ? (size_t)(colon - s) : strlen(s);
		if (colon)
			port_str = colon + 1;
		if (colon && strchr(s, ':') != colon) {
			/* several colons: an unbracketed IPv6 address. The last
			 * colon separates a port only if what precedes it is an
			 * address by itself ("fe80::1:514"); otherwise the whole
			 * word is the address ("2001:db8::1", "::1"). */
			if (!is_ipv6_prefix(s, hlen)) {
				hlen = strlen(s);
				port_str = "";
			}
		}
	}
	if (hlen >= sizeof(host)) {
		memprintf(err, "host name too long in log target '%s'", t->name);
		return -EINVAL;
	}
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	ret = parse_port(t, port_str, &port, err);
	if (ret < 0)
		return ret;
	ret = resolve_host(t, host, fam, port, err);
	if (ret < 0)
		return ret;
	t->kind = LOG_KIND_UDP;
	return 0;
}

/* Address prefixes accepted before an inet address, and their family. */
static const struct {
	const char *pfx;
	int fam;
} log_inet_pfx[] = {
	{ "udp@", AF_UNSPEC }, { "udp4@", AF_INET }, { "udp6@", AF_INET6 },
	{ "ipv4@", AF_INET }, { "ipv6@", AF_INET6 },
};

static int parse_target_addr(struct log_target *t, const char *s, char **err)
{
	const char *at;
	unsigned long long v;

	if (!strcmp(s, "stdout") || !strcmp(s, "stderr")) {
		t->kind = LOG_KIND_FD;
		t->cfg_fd = s[3] == 'o' ? STDOUT_FILENO : STDERR_FILENO;
		return 0;
	}
	if (!strncmp(s, "fd@", 3)) {
		if (str_to_uint(s + 3, INT_MAX, &v) < 0) {
			memprintf(err, "invalid file descriptor number in log target '%s'", s);
			return -EINVAL;
		}
		t->kind = LOG_KIND_FD;
		t->cfg_fd = (int)v;
		return 0;
	}
	if (s[0] == '/')
		return parse_unix(t, s, false, err);
	if (!strncmp(s, "unix@", 5))
		return parse_unix(t, s + 5, false, err);
	if (!strncmp(s, "abns@", 5))
		return parse_unix(t, s + 5, true, err);
	if (!strncmp(s, "ring@", 5)) {
		memprintf(err, "ring buffers ('%s') are not supported as log targets", s);
		return -EINVAL;
	}
	for (size_t i = 0; i < ARRAY_SIZE(log_inet_pfx); i++) {
		size_t n = strlen(log_inet_pfx[i].pfx);

		if (!strncmp(s, log_inet_pfx[i].pfx, n))
			return parse_inet(t, s + n, log_inet_pfx[i].fam, err);
	}
	at = strchr(s, '@');
	if (at) {
		memprintf(err, "unsupported address prefix '%.*s' in log target '%s' (use udp@, ipv4@, ipv6@, unix@, abns@ or fd@)",
			  (int)(at - s + 1), s, s);
		return -EINVAL;
	}
	return parse_inet(t, s, AF_UNSPEC, err);
}

static int parse_level(const char *s, char **err)
{
	int x = log_level_by_name(s);

	if (x < 0)
		memprintf(err, "unknown log level '%s' (expected emerg, alert, crit, err, warning, notice, info or debug)",
			  s);
	return x;
}

/* Parses "[len <n>] [format <f>] <facility> [<level> [<minlevel>]]". */
static int parse_target_opts(struct log_target *t, int argc, char **argv, char **err)
{
	unsigned long long v;
	int i = 1, x;

	while (i < argc) {
		if (!strcmp(argv[i], "len")) {
			if (i + 1 >= argc || str_to_uint(argv[i + 1], LOG_MAX_MAXLEN, &v) < 0 ||
			    v < LOG_MIN_MAXLEN) {
				memprintf(err, "'len' expects a length from %d to %d, got '%s'",
					  LOG_MIN_MAXLEN, LOG_MAX_MAXLEN, i + 1 < argc ? argv[i + 1] : "");
				return -EINVAL;
			}
			t->maxlen = (unsigned)v;
			i += 2;
		} else if (!strcmp(argv[i], "format")) {
			x = i + 1 < argc ? name_index(log_formats, ARRAY_SIZE(log_formats), argv[i + 1]) : -1;
			if (x < 0) {
				memprintf(err, "unknown log format '%s' (expected local, rfc3164, rfc5424, priority, short, timed, iso or raw)",
					  i + 1 < argc ? argv[i + 1] : "");
				return -EINVAL;
			}
			t->format = (enum log_fmt)x;
			i += 2;
		} else if (!strcmp(argv[i], "sample")) {
			memprintf(err, "'sample' is not supported on log targets");
			return -EINVAL;
		} else {
			break;
		}
	}
	if (i >= argc) {
		memprintf(err, "missing syslog facility after '%s' (e.g. daemon, local0)", argv[i - 1]);
		return -EINVAL;
	}
	t->facility = log_facility_by_name(argv[i]);
	if (t->facility < 0) {
		memprintf(err, "unknown facility '%s' (expected kern, user, mail, daemon, auth, syslog, lpr, news, uucp, cron, auth2, ftp, ntp, audit, alert, cron2 or local0..local7)",
			  argv[i]);
		return -EINVAL;
	}
	if (++i < argc && (t->level = parse_level(argv[i], err)) < 0)
		return -EINVAL;
	if (++i < argc && (t->minlevel = parse_level(argv[i], err)) < 0)
		return -EINVAL;
	if (++i < argc) {
		memprintf(err, "unexpected argument '%s' after the log levels", argv[i]);
		return -EINVAL;
	}
	return 0;
}

int log_target_parse(int argc, char **argv, struct log_target **out, char **err)
{
	struct log_target *t;
	int ret;

	*out = NULL;
	if (argc < 1 || !argv[0] || !*argv[0]) {
		memprintf(err, "missing log target");
		return -EINVAL;
	}
	if (!strcmp(argv[0], "global")) {
		memprintf(err, "'global' is not a log target here");
		return -EINVAL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		goto fail_nomem;
	t->fd = -1;
	t->cfg_fd = -1;
	t->maxlen = LOG_DEFAULT_MAXLEN;
	t->format = LOG_FMT_LOCAL;
	t->level = 7;           /* debug: everything goes */
	t->minlevel = 0;        /* emerg: nothing is lowered */
	t->name = strdup(argv[0]);
	if (!t->name)
		goto fail_nomem;
	ret = parse_target_addr(t, argv[0], err);
	if (ret < 0)
		goto fail;
	ret = parse_target_opts(t, argc, argv, err);
	if (ret < 0)
		goto fail;
	*out = t;
	return 0;

fail_nomem:
	memprintf(err, "out of memory");
	ret = -ENOMEM;
fail:
	log_target_free(t);
	return ret;
}

void log_target_free(struct log_target *t)
{
	if (!t)
		return;
	log_target_close(t);
	free(t->name);
	free(t->hostname);
	free(t);
}

int log_target_set_hostname(struct log_target *t, const char *host)
{
	char *dup = NULL;

	if (host && !(dup = strdup(host)))
		return -ENOMEM;
	free(t->hostname);
	t->hostname = dup;
	return 0;
}

/* ---------------------------------------------------------------------------
 * opening
 * ------------------------------------------------------------------------- */

/* Opening a closed target: at apply time on the control thread, or lazily
 * by the first message of any thread (log_target_send). Two threads may
 * find the same target closed at once: the open runs under this lock and
 * publishes the descriptor last (release), after the fields that describe
 * it, so a thread that sees fd >= 0 (acquire) sees them too and only one
 * descriptor is ever created. Taken only while a target is closed. */
static pthread_mutex_t open_lock = PTHREAD_MUTEX_INITIALIZER;

static int open_fd_target(struct log_target *t, char **err)
{
	struct stat st;
	int fl;

	if (fstat(t->cfg_fd, &st) < 0 || (fl = fcntl(t->cfg_fd, F_GETFL)) < 0) {
		int e = errno;

		memprintf(err, "log target '%s': fd %d is not open: %s", t->name, t->cfg_fd, strerror(e));
		return -e;
	}
	/* pipes and sockets can fill up: make them non-blocking so a stuck
	 * reader costs dropped lines, not a frozen proxy. A tty or a file is
	 * left as it is (O_NONBLOCK on a shared terminal would leak into the
	 * shell; files do not block anyway). */
	if ((S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) && !(fl & O_NONBLOCK) &&
	    fcntl(t->cfg_fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		int e = errno;

		memprintf(err, "log target '%s': cannot make fd %d non-blocking: %s", t->name, t->cfg_fd,
			  strerror(e));
		return -e;
	}
	t->own_fd = false;
	t->fd_is_sock = S_ISSOCK(st.st_mode);
	__atomic_store_n(&t->fd, t->cfg_fd, __ATOMIC_RELEASE);
	return 0;
}

static int open_locked(struct log_target *t, char **err)
{
	int fd, e;

	if (__atomic_load_n(&t->fd, __ATOMIC_ACQUIRE) >= 0)
		return 0; /* another thread opened it meanwhile */
	if (t->kind == LOG_KIND_FD)
		return open_fd_target(t, err);
	fd = socket(t->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		e = errno;
		memprintf(err, "log target '%s': socket: %s", t->name, strerror(e));
		return -e;
	}
	/* never read: keep the receive buffer from holding stray datagrams */
	shutdown(fd, SHUT_RD);
	t->own_fd = true;
	__atomic_store_n(&t->fd, fd, __ATOMIC_RELEASE);
	return 0;
}

int log_target_open(struct log_target *t, char **err)
{
	int r;

	if (__atomic_load_n(&t->fd, __ATOMIC_ACQUIRE) >= 0)
		return 0;
	pthread_mutex_lock(&open_lock);
	r = open_locked(t, err);
	pthread_mutex_unlock(&open_lock);
	return r;
}

void log_target_close(struct log_target *t)
{
	int fd;

	if (!t)
		return;
	pthread_mutex_lock(&open_lock);
	fd = __atomic_exchange_n(&t->fd, -1, __ATOMIC_ACQ_REL);
	if (fd >= 0 && t->own_fd)
		close(fd);
	t->own_fd = false;
	t->fd_is_sock = false;
	pthread_mutex_unlock(&open_lock);
}

/* ---------------------------------------------------------------------------
 * framing and sending
 * ------------------------------------------------------------------------- */

/* "2009-02-06T12:12:51.443123+01:00" (local time, microseconds). */
static int fmt_iso(char *buf, size_t cap, const struct timeval *tv, const struct tm *tm)
{
	long off = tm->tm_gmtoff;

	return snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%06ld%c%02d:%02d",
			tm->tm_year + 1900, tm->tm_mon + 1, tm->tm_mday, tm->tm_hour, tm->tm_min,
			tm->tm_sec, (long)tv->tv_usec, off < 0 ? '-' : '+', (int)(labs(off) / 3600 % 100),
			(int)(labs(off) / 60 % 60));
}

/* Builds the header for format t->format into hdr; returns its length
 * (0 for raw), or a negative value if it did not fit. Fields taken from
 * the configuration are length-capped so a header always fits in 512. */
static int build_header(const struct log_target *t, int level, const char *tag, char *hdr, size_t cap)
{
	int pri = t->facility * 8 + level;
	char iso[48];
	struct timeval tv;
	struct tm tm;
	time_t now;

	if (t->format == LOG_FMT_RAW)
		return 0;
	if (t->format == LOG_FMT_PRIO)
		return snprintf(hdr, cap, "<%d>", pri);
	if (t->format == LOG_FMT_SHORT)
		return snprintf(hdr, cap, "<%d>", level);

	if (log_now_hook)
		log_now_hook(&tv);
	else
		gettimeofday(&tv, NULL);
	now = tv.tv_sec;
	localtime_r(&now, &tm);

	switch (t->format) {
	case LOG_FMT_TIMED:
		fmt_iso(iso, sizeof(iso), &tv, &tm);
		return snprintf(hdr, cap, "<%d>%s ", level, iso);
	case LOG_FMT_ISO:
		fmt_iso(iso, sizeof(iso), &tv, &tm);
		return snprintf(hdr, cap, "%s ", iso);
	case LOG_FMT_RFC5424:
		fmt_iso(iso, sizeof(iso), &tv, &tm);
		/* no MSGID and no STRUCTURED-DATA: "- -" */
		return snprintf(hdr, cap, "<%d>1 %s %.255s %.48s %d - - ", pri, iso,
				t->hostname ? t->hostname : "-", tag, (int)getpid());
	case LOG_FMT_RFC3164:
		return snprintf(hdr, cap, "<%d>%s %2d %02d:%02d:%02d %.255s %.64s[%d]: ", pri,
				log_months[tm.tm_mon % 12], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
				t->hostname ? t->hostname : "localhost", tag, (int)getpid());
	case LOG_FMT_LOCAL:
	default:
		return snprintf(hdr, cap, "<%d>%s %2d %02d:%02d:%02d %.64s[%d]: ", pri,
				log_months[tm.tm_mon % 12], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
				tag, (int)getpid());
	}
}

/* sent/drops/errors/last_errno are counted from whichever thread logs:
 * relaxed atomics (readers: LOG_CNT_GET) */
#define LOG_CNT_INC(v) ((void)__atomic_add_fetch(&(v), 1, __ATOMIC_RELAXED))

bool log_errno_is_drop(int e)
{
	return e == EAGAIN || e == EWOULDBLOCK || e == ENOBUFS;
}

static int count_failure(struct log_target *t, int e)
{
	if (log_errno_is_drop(e))
		LOG_CNT_INC(t->drops);
	else
		LOG_CNT_INC(t->errors);
	__atomic_store_n(&t->last_errno, e, __ATOMIC_RELAXED);
	return -e;
}

int log_target_send(struct log_target *t, int level, const char *tag, const char *msg, size_t len)
{
	char hdr[512];
	struct iovec iov[3];
	struct msghdr mh = { 0 };
	size_t room, hlen;
	ssize_t n;
	int h, fd;

	if (!t || level < 0 || level > 7 || level > t->level)
		return 0;
	if (level < t->minlevel)
		level = t->minlevel;
	fd = __atomic_load_n(&t->fd, __ATOMIC_ACQUIRE);
	if (fd < 0) {
		int ret = log_target_open(t, NULL);

		if (ret < 0)
			return count_failure(t, -ret);
		fd = __atomic_load_n(&t->fd, __ATOMIC_ACQUIRE);
	}
	if (!tag || !*tag)
		tag = "decoyproxy";
	if (!msg)
		len = 0;
	/* the "\n" is ours to add: drop any the caller left (HAProxy too) */
	while (len && (msg[len - 1] == '\n' || msg[len - 1] == '\0'))
		len--;

	h = build_header(t, level, tag, hdr, sizeof(hdr));
	if (h < 0)
		h = 0;
	hlen = (size_t)h < sizeof(hdr) ? (size_t)h : sizeof(hdr) - 1;
	room = t->maxlen;
	if (hlen > room)
		hlen = room;
	room -= hlen;
	if (len > room)
		len = room;

	iov[0].iov_base = hdr;
	iov[0].iov_len = hlen;
	iov[1].iov_base = (void *)(uintptr_t)msg;
	iov[1].iov_len = len;
	iov[2].iov_base = (void *)(uintptr_t)"\n";
	iov[2].iov_len = 1;

	mh.msg_iov = iov;
	mh.msg_iovlen = 3;
	if (t->kind != LOG_KIND_FD) {
		mh.msg_name = &t->addr;
		mh.msg_namelen = t->addrlen;
		n = sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	} else if (t->fd_is_sock) {
		/* journald's stdout is a socket: no SIGPIPE if it goes away */
		n = sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	} else {
		/* a pipe whose reader died raises SIGPIPE: the daemon ignores it */
		n = writev(fd, iov, 3);
	}
	if (n < 0)
		return count_failure(t, errno);
	if ((size_t)n < hlen + len + 1) {
		/* a short write on a pipe: the rest is lost, say so */
		LOG_CNT_INC(t->errors);
		__atomic_store_n(&t->last_errno, EMSGSIZE, __ATOMIC_RELAXED);
		return -EMSGSIZE;
	}
	LOG_CNT_INC(t->sent);
	return 0;
}

/* ---- lists of targets ---- */

int log_list_add(struct log_list *l, struct log_target *t)
{
	struct log_target **v = realloc(l->v, (l->n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	l->v = v;
	v[l->n++] = t;
	return 0;
}

void log_list_free(struct log_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void log_list_send(const struct log_list *l, int level, const char *tag, const char *msg, size_t len)
{
	for (size_t i = 0; i < l->n; i++)
		log_target_send(l->v[i], level, tag, msg, len);
}
