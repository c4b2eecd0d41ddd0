/* sdnotify.h — the service manager's readiness protocol (sd_notify(3))
 * without libsystemd.
 *
 * When $NOTIFY_SOCKET names a unix datagram socket (a path, or an abstract
 * name written with a leading '@'), each message is one datagram of
 * newline-separated VAR=value assignments: READY=1, RELOADING=1,
 * MONOTONIC_USEC=…, STOPPING=1, STATUS=…, MAINPID=…. Without
 * $NOTIFY_SOCKET every call is a no-op, so callers never test for systemd.
 */
#ifndef DECOYPROXY_SDNOTIFY_H
#define DECOYPROXY_SDNOTIFY_H

#include "lib/common.h"

/* Reads $NOTIFY_SOCKET and creates the sending socket, once, in the
 * current network namespace (an abstract name is only reachable from the
 * namespace the socket was created in, so call this before any switch).
 * Returns 1 when notifications are enabled, 0 when $NOTIFY_SOCKET is unset
 * or empty, -errno for an unusable value (then notifications stay off and
 * *err says why). Idempotent. */
int sdnotify_init(char **err);

/* True when sdnotify_init() found a usable $NOTIFY_SOCKET. */
bool sdnotify_enabled(void);

/* Sends one message (printf format; newline-separated assignments). Never
 * blocks for more than a second. Newlines inside a STATUS= value must be
 * avoided by the caller (see sdnotify_status()). Returns 0, -errno on a
 * send failure, 0 as well when notifications are off. */
int sdnotify_send(const char *fmt, ...) DP_PRINTF(1, 2);

/* After a fork (-D): the next READY=1 message also carries MAINPID=pid, in
 * the same datagram, so the service manager follows the new process. */
void sdnotify_set_mainpid(int pid);

/* Helpers for the lifecycle messages. `status` is free text (its newlines
 * and control characters become spaces) for STATUS=; NULL: none. */
int sdnotify_ready(const char *status);
/* RELOADING=1 with MONOTONIC_USEC= (CLOCK_MONOTONIC now, as systemd's
 * Type=notify-reload requires). */
int sdnotify_reloading(const char *status);
int sdnotify_stopping(const char *status);
int sdnotify_status(const char *status);

/* Closes the socket; later calls are no-ops until sdnotify_init(). */
void sdnotify_fini(void);

/* Formats CLOCK_MONOTONIC in microseconds (for MONOTONIC_USEC=). */
unsigned long long sdnotify_monotonic_usec(void);

#endif
