/* msg.h — process messages: [ALERT], [WARNING], [NOTICE] and [DEBUG] lines.
 *
 * The lowest layer every module prints with. Messages go to stderr (alerts
 * always; warnings and notices unless quiet; debug only with -d) and, once a
 * configuration generation is in service, to its global log targets (the
 * caller that puts a generation in service names them with
 * msg_set_targets()). Nothing here knows about configurations or loops.
 */
#ifndef DECOYPROXY_MSG_H
#define DECOYPROXY_MSG_H

#include "lib/common.h"

struct log_list;

/* Command-line verbosity: -d (debug, counted), -q (quiet), -V (verbose). */
struct msg_opts {
	int debug;
	bool quiet;
	bool verbose;
};
extern struct msg_opts dp_msg;

enum { MSG_ALERT, MSG_WARNING, MSG_NOTICE, MSG_DEBUG };

void ha_alert(const char *fmt, ...) DP_PRINTF(1, 2);
void ha_warning(const char *fmt, ...) DP_PRINTF(1, 2);
void ha_notice(const char *fmt, ...) DP_PRINTF(1, 2);
void ha_debug(const char *fmt, ...) DP_PRINTF(1, 2);

/* When set, every process message is also handed to this hook (kind:
 * MSG_ALERT .. MSG_DEBUG), e.g. for tests or the CLI to capture them. */
extern void (*ha_msg_hook)(int kind, const char *msg);

/* The log targets (and syslog tag) process messages also go to; NULL: none.
 * The list is not copied: it must live until replaced. */
void msg_set_targets(const struct log_list *targets, const char *tag);

/* Rate limit for a message call site: true at most once per period_s
 * seconds for the same *last (a static of the caller, 0 at first), on the
 * monotonic clock. last NULL: always true. A call site that runs on worker
 * threads keeps `static _Thread_local double last`: each thread limits its
 * own messages, and no timestamp is shared between threads. */
bool ha_ratelimit(double *last, double period_s);

#endif
