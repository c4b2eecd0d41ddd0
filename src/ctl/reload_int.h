/* reload_int.h — private to the reload module (reload.c, reload_bg.c). */
#ifndef DECOYPROXY_RELOAD_INT_H
#define DECOYPROXY_RELOAD_INT_H

#include "model/conf.h"

/* T0: the start of a reload: refused (-EBUSY, *msg) while the process is
 * stopping; tells the service manager RELOADING=1. */
int reload_begin(char **msg);
/* T0: puts newc (a parsed, finalized generation; NULL when the parse
 * failed) in service or keeps the running one, as reload_now() says;
 * READY=1 after. A newc parsed while a stop began is dropped (-EBUSY). */
int reload_end(struct dp_config *newc, char **msg);
/* T0: what a reload signal's outcome logs (r, msg: reload_now's). */
void reload_signal_done(int signum, int r, const char *msg);

/* ---- reload_bg.c: a signal's configuration parsed off the loop threads ----
 * The parse (files, maps, intercept lists, finalize) runs on a short-lived
 * thread of its own, so thread 1 keeps relaying (UDP, its TCP sessions,
 * the CLI, checks) meanwhile; its result is activated on T0, isolated, as
 * before. One parse at a time: a reload signal that comes meanwhile is
 * kept (one) and served after it. */
void reload_bg_setup(void);
/* SIGUSR2 / SIGHUP (the "received" notice already logged). */
void reload_bg_signal(int signum);
/* A parse in flight: waits for it and activates its result (a CLI reload
 * goes after it); a signal kept meanwhile is dropped (the caller reloads). */
void reload_bg_drain(void);
/* At exit: waits for a parse in flight and drops its result. */
void reload_bg_cancel(void);

#endif
