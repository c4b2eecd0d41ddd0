/* reload.h — bringing a configuration generation to life, replacing it in
 * place on SIGUSR2, and the process-control signals. */
#ifndef DECOYPROXY_RELOAD_H
#define DECOYPROXY_RELOAD_H

#include "lib/common.h"
#include "model/conf.h"

/* Files given with -f, kept for reloads. */
void reload_set_files(const char *const *files, size_t n);

/* Parses the -f files into a fresh, finalized configuration, or NULL after
 * printing the errors. */
struct dp_config *reload_load_config(void);

/* Puts newc in service: network segments, listeners (taking over oldc's
 * unchanged sockets, so no SYN is refused during a reload), log targets,
 * nft/routing plumbing and stats sockets. All or nothing: on failure
 * everything newc opened is closed again, oldc keeps running untouched,
 * and *err says why. On success rt.conf is newc and oldc's leftover
 * listeners are closed; oldc itself lives on while its sessions do, except
 * that sessions of frontends newc no longer has are killed once newc's
 * `hard-stop-after` has elapsed from this reload (a later reload does not
 * extend that bound; one that brings the frontend back cancels it). */
int reload_activate(struct dp_config *newc, struct dp_config *oldc, char **err);

/* Reparses the files and activates them. Returns 0 or -errno; *msg (always
 * set) describes the outcome for the log / stats socket. Tells the service
 * manager (sdnotify.h) RELOADING=1 first and READY=1 after, success or not;
 * refused (-EBUSY, nothing sent) while the process is stopping. */
int reload_now(char **msg);

/* READY=1 with a STATUS= line describing the generation in service (no-op
 * without $NOTIFY_SOCKET). */
void reload_notify_ready(void);

/* Installs the signal watchers (SIGUSR2/SIGHUP reload, SIGUSR1 soft stop,
 * SIGTERM/SIGINT hard stop, SIGTTOU/SIGTTIN pause/resume). Stop signals
 * send STOPPING=1 to the service manager. */
void reload_setup_signals(void);

/* At exit, before the worker threads stop: waits for the parse of a reload
 * signal still running on its own thread and drops its result. */
void reload_stop_parsing(void);

/* Tears down the running configuration at exit: kills sessions, cancels
 * pending hard-stop-after bounds, closes listeners and stats sockets,
 * removes nft/routing/segments. */
void reload_shutdown(void);

#endif
