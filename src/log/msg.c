/* msg.c — process messages (see msg.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log/log.h"
#include "log/msg.h"

struct msg_opts dp_msg;
void (*ha_msg_hook)(int kind, const char *msg);

static const struct log_list *msg_targets;
static const char *msg_tag;

/* Set by the control thread (start-up, reload), read by whichever thread
 * has something to say: atomic pointers. The tag is stored first so that
 * a thread seeing the new targets sees their tag. */
void msg_set_targets(const struct log_list *targets, const char *tag)
{
	__atomic_store_n(&msg_tag, tag, __ATOMIC_RELEASE);
	__atomic_store_n(&msg_targets, targets, __ATOMIC_RELEASE);
}

/* Whether log target t writes to the file stderr is: a message already
 * printed on stderr is not written there a second time (a `log stdout`
 * target on the terminal showed every notice twice, once prefixed, once
 * raw). */
static bool writes_to_stderr(const struct log_target *t)
{
	struct stat a, b;
	int fd = __atomic_load_n(&t->fd, __ATOMIC_ACQUIRE);

	if (t->kind != LOG_KIND_FD || fd < 0)
		return false;
	if (fd == STDERR_FILENO)
		return true;
	if (fstat(fd, &a) < 0 || fstat(STDERR_FILENO, &b) < 0)
		return false;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* "<prefix> (<pid>) : <m>\n" on stderr in one write(): messages of
 * several threads never interleave inside a line (stdio may split a line
 * in several writes). */
static void show(const char *pfx, const char *m)
{
	char *line = NULL;
	int n = memprintf(&line, "%s (%d) : %s\n", pfx, (int)getpid(), m);

	if (n < 0) {
		fprintf(stderr, "%s (%d) : %s\n", pfx, (int)getpid(), m);
		return;
	}
	for (size_t off = 0; off < (size_t)n;) {
		ssize_t w = write(STDERR_FILENO, line + off, (size_t)n - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	free(line);
}

static void vmsg(int kind, const char *fmt, va_list ap)
{
	static const char *const pfx[] = { "[ALERT]   ", "[WARNING] ", "[NOTICE]  ", "[DEBUG]   " };
	static const int lvl[] = { 1 /* alert */, 4 /* warning */, 5 /* notice */, 7 /* debug */ };
	const struct log_list *targets;
	const char *tag;
	char *m = NULL;
	bool shown;
	int n;

	n = vmemprintf(&m, fmt, ap);
	if (n < 0)
		return;
	if (ha_msg_hook)
		ha_msg_hook(kind, m);
	shown = kind == MSG_ALERT || (!dp_msg.quiet && kind != MSG_DEBUG) || (kind == MSG_DEBUG && dp_msg.debug);
	if (shown)
		show(pfx[kind], m);
	/* process messages also go to the global log targets once they exist,
	 * each once: not again to the file stderr just showed it in */
	targets = __atomic_load_n(&msg_targets, __ATOMIC_ACQUIRE);
	tag = __atomic_load_n(&msg_tag, __ATOMIC_ACQUIRE);
	for (size_t i = 0; targets && kind != MSG_DEBUG && i < targets->n; i++)
		if (!shown || !writes_to_stderr(targets->v[i]))
			log_target_send(targets->v[i], lvl[kind], tag ? tag : "decoyproxy", m, (size_t)n);
	free(m);
}

#define DEFINE_MSG(fn, kind)                            \
	void fn(const char *fmt, ...)                   \
	{                                               \
		va_list ap;                             \
		va_start(ap, fmt);                      \
		vmsg(kind, fmt, ap);                    \
		va_end(ap);                             \
	}

DEFINE_MSG(ha_alert, MSG_ALERT)
DEFINE_MSG(ha_warning, MSG_WARNING)
DEFINE_MSG(ha_notice, MSG_NOTICE)
DEFINE_MSG(ha_debug, MSG_DEBUG)

bool ha_ratelimit(double *last, double period_s)
{
	struct timespec ts;
	double t;

	if (!last)
		return true;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t = (double)ts.tv_sec + ts.tv_nsec / 1e9;
	if (*last && t - *last < period_s)
		return false;
	*last = t ? t : 1;
	return true;
}
