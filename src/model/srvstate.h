/* srvstate.h — HAProxy's server-state file settings, as parsed: global
 * `server-state-file <file>` and `server-state-base <dir>`, backend
 * `load-server-state-from-file global|local|none` and
 * `server-state-file-name [<file>|use-backend-name]`. ctl/srvstate.c
 * writes the file's format (`show servers state`) and loads it. */
#ifndef DECOYPROXY_SRVSTATE_H
#define DECOYPROXY_SRVSTATE_H

#include "cfg/cfg.h"

struct proxy;
struct dp_config;

enum {
	SRVSTATE_NONE = 0,  /* HAProxy's default */
	SRVSTATE_GLOBAL,    /* the global server-state-file */
	SRVSTATE_LOCAL,     /* the backend's own file (server-state-file-name) */
};

/* The file backend px loads its servers' state from, resolved against
 * server-state-base as HAProxy does (an absolute name is kept), malloc'd;
 * NULL when px loads none (or on ENOMEM). */
char *srvstate_path(const struct dp_config *c, const struct proxy *px);

extern const struct cfg_kw_list srvstate_kw_list;

#endif
