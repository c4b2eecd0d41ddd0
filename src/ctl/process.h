/* process.h — the process around the proxy: its file descriptor limit and
 * the global maxconn derived from it, whether it needs namespaces (for the
 * privilege drop), its pid file, and going to the background.
 *
 * main() calls these in its start-up order; nothing here runs the loop or
 * decides an exit code. Functions that can fail return 0 or -errno with a
 * malloc'd message in *err (the caller prints and frees it).
 */
#ifndef DECOYPROXY_PROCESS_H
#define DECOYPROXY_PROCESS_H

#include "lib/common.h"

struct dp_config;

/* Sets rt.maxconn from c (`maxconn`, or derived from the fd limit as
 * HAProxy does when unset) and raises RLIMIT_NOFILE to what it needs
 * (`ulimit-n` first when set). Returns 0 or -errno with *err. */
int process_setup_limits(struct dp_config *c, char **err);

/* True when any part of c works in a named network namespace (a `network`
 * section, or `namespace` on a bind or server): the privilege drop then
 * keeps CAP_SYS_ADMIN for setns() and starts the namespace helper that
 * adds and removes /run/netns entries (ctl/priv.h). */
bool process_uses_namespaces(const struct dp_config *c);

/* The ownership mark of this process's run (net/owner.h) for generation
 * c: when c makes system objects (`network` sections, `intercept` or
 * spoofing plumbing), the first call takes the run lock under
 * OWNER_RUN_DIR, kept until process_owner_close(). NULL when c makes
 * nothing, or when the lock cannot be taken: a warning then says that
 * what this process creates is not marked, so a later run cannot reclaim
 * it after a crash. The string lives until process_owner_close(). */
const char *process_owner_mark(const struct dp_config *c);

/* At exit: releases the run lock and removes its file. */
void process_owner_close(void);

/* A pid file this process wrote; opaque. */
struct pidfile;

/* Writes this process's pid to path, as root before any privilege drop.
 * On success *out is the handle pidfile_remove() takes (owned by the
 * caller). Returns 0 or -errno with *err naming path. */
int pidfile_write(const char *path, struct pidfile **out, char **err);

/* At exit: removes the pid file if it is still the one written here and
 * still names this process, then frees pf (NULL: nothing). `dropped`: the
 * process switched user/group since (explains a permission failure).
 * Best effort: prints a notice or warning when the file stays. */
void pidfile_remove(struct pidfile *pf, bool dropped);

/* Opens /dev/null on each of descriptors 0, 1 and 2 that is closed, so
 * that nothing the process opens later (a namespace, a socket) takes one
 * of those numbers: a daemonize's dup2() or a library writing to stderr
 * would replace or write into it. Call it first thing. */
void process_std_fds(void);

/* Forks to the background. In the parent, once a service manager has been
 * told the child's pid (MAINPID=), returns 1: the caller then leaves with
 * _exit(0) (nothing below main() exits). In the child, which becomes a
 * session leader with stdin, stdout and stderr on /dev/null and quiet
 * messages, returns 0. -errno with *err when the fork or setsid fails. */
int process_daemonize(char **err);

#endif
