/* stats.h — the stats socket: HAProxy's CLI subset (show info/stat/sess,
 * server state changes, shutdown session, reload). */
#ifndef DECOYPROXY_STATS_H
#define DECOYPROXY_STATS_H

#include "decoyproxy/cfg.h"
#include "decoyproxy/global.h"

struct stats_conf;

extern const struct cfg_kw_list stats_kw_list;

void stats_conf_free(struct stats_conf *s);

/* Opens the configured sockets; on reload (oldc != NULL) a socket whose path
 * and settings are unchanged is taken over from oldc instead of re-created.
 * Returns 0 or -errno with *err. */
int stats_open(struct dp_config *c, struct dp_config *oldc, char **err);

/* Closes c's sockets (those not taken over) and their client connections. */
void stats_close(struct dp_config *c);

/* Set by main: performs a reload like SIGUSR2; returns 0 on success or
 * -errno, with *msg describing the outcome (errors included). */
extern int (*stats_reload_hook)(char **msg);

#endif
