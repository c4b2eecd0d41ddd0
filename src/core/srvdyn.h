/* srvdyn.h — what a server may take at this moment: HAProxy's dynamic
 * limits (`minconn` with the backend's `fullconn`), the `slowstart` ramp of
 * weight and maxconn after a server came back up, the per-server queue bound
 * (`maxqueue`), and the configuration checks of `track`, `minconn`,
 * `observe` and `tfo` (srvdyn_finalize). The live-traffic observation
 * (`observe layer4`, `on-error`) and the propagation of a tracked server's
 * state are the checks' (core/chk.h). */
#ifndef DECOYPROXY_SRVDYN_H
#define DECOYPROXY_SRVDYN_H

#include <sys/socket.h>
#include "lib/common.h"

struct dp_config;
struct proxy;
struct server;

/* The backend's fullconn: the configured one, else HAProxy's default of
 * 10% of the sum of the maxconn of the frontends that may use it (a
 * frontend without maxconn counting the global one), at least 1. */
unsigned srvdyn_fullconn(const struct proxy *be);

/* How far s is in its slowstart ramp at monotonic time now, in percent
 * (100: not warming up). */
unsigned srvdyn_ramp_pct(const struct server *s, double now);

/* The maxconn s has now (0: unlimited): max(minconn, maxconn * beconn /
 * fullconn) below fullconn, then scaled by the slowstart ramp (at least 1),
 * as HAProxy's srv_dynamic_maxconn(). */
unsigned srvdyn_maxconn(const struct server *s, double now);

/* The effective weight of s now: its weight, scaled by the slowstart ramp
 * (at least 1 while the weight is not 0). */
unsigned srvdyn_eweight(const struct server *s, double now);

/* Same, at the loop's current time. */
unsigned srv_cur_maxconn(const struct server *s);
unsigned srv_cur_eweight(const struct server *s);

/* maxqueue: where a session that found every slot taken waits. */
enum srvq_verdict {
	SRVQ_QUEUE = 0,     /* in the backend queue (*bound: the server it waits for, or NULL) */
	SRVQ_REDISPATCH,    /* its server's queue is full: any other server (option redispatch) */
	SRVQ_REFUSE,        /* its server's queue is full, no redispatch: close it ("SQ") */
};
/* For a session of be that lb_pick() could not place, target being the
 * server `balance source` maps its address to (lb_hash_target(), NULL
 * with other algorithms): it waits for that server, up to the server's
 * maxqueue (HAProxy's server queue), or in the backend queue. */
enum srvq_verdict srvq_admit(const struct proxy *be, struct server *target, struct server **bound);

/* `observe layer4`: a connection to s on live traffic succeeded (ok) or
 * failed; passed to the health checks' observer (chk_observe_l4, set by
 * them with srvdyn_set_observer: the session layer cannot include the
 * checks, which include it). */
void srvdyn_observe(struct server *s, bool ok);
void srvdyn_set_observer(void (*fn)(struct server *s, bool ok));

/* Resolves `track`, applies HAProxy's minconn/maxconn rule and checks the
 * options that need the whole configuration (track targets and loops,
 * observe without check, tfo on this kernel). Returns the number of
 * errors (reported with file:line). */
int srvdyn_finalize(struct dp_config *c);

#endif
