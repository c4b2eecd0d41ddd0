/* runtime.h — process-wide state: the event loop, the running configuration,
 * connection accounting and the accept throttle. */
#ifndef DECOYPROXY_RUNTIME_H
#define DECOYPROXY_RUNTIME_H

#include <ev.h>
#include "lib/common.h"
#include "log/msg.h"

struct dp_config;
struct proxy;

struct runtime {
	struct ev_loop *loop;
	struct dp_config *conf;     /* running configuration */
	unsigned maxconn;           /* effective global maxconn */
	unsigned actconn;           /* sessions alive (%ac) */
	unsigned long long cum_conn;
	bool accept_paused;         /* global pause: maxconn, fd exhaustion, SIGTTOU */
	bool admin_paused;          /* SIGTTOU */
	bool stopping;              /* soft stop in progress */
	ev_timer resume_timer;      /* retry accepting after EMFILE/ENFILE */
	unsigned long long fd_exhaustion_events;
};

extern struct runtime rt;

/* Called by the accept path when it hit EMFILE/ENFILE/ENOBUFS: stop every
 * listener for a short while instead of spinning. */
void rt_accept_throttle(void);
/* Re-evaluate whether listeners may accept (after a session ended, etc.). */
void rt_listeners_update(void);
/* true when a new connection may be accepted on this frontend/listener now. */
bool rt_may_accept(const struct proxy *fe);
/* Effective maxconn for a frontend. */
unsigned rt_fe_maxconn(const struct proxy *fe);

#endif
