/* msg.c — process messages (see msg.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "log/log.h"
#include "log/msg.h"

struct msg_opts dp_msg;
void (*ha_msg_hook)(int kind, const char *msg);

static const struct log_list *msg_targets;
static const char *msg_tag;

void msg_set_targets(const struct log_list *targets, const char *tag)
{
	msg_targets = targets;
	msg_tag = tag;
}

static void vmsg(int kind, const char *fmt, va_list ap)
{
	static const char *const pfx[] = { "[ALERT]   ", "[WARNING] ", "[NOTICE]  ", "[DEBUG]   " };
	static const int lvl[] = { 1 /* alert */, 4 /* warning */, 5 /* notice */, 7 /* debug */ };
	char *m = NULL;
	int n;

	n = vmemprintf(&m, fmt, ap);
	if (n < 0)
		return;
	if (ha_msg_hook)
		ha_msg_hook(kind, m);
	if (kind == MSG_ALERT || (!dp_msg.quiet && kind != MSG_DEBUG) || (kind == MSG_DEBUG && dp_msg.debug))
		fprintf(stderr, "%s (%d) : %s\n", pfx[kind], (int)getpid(), m);
	/* process messages also go to the global log targets once they exist */
	if (msg_targets && msg_targets->n && kind != MSG_DEBUG)
		log_list_send(msg_targets, lvl[kind], msg_tag ? msg_tag : "decoyproxy", m, (size_t)n);
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
