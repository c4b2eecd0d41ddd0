/* global.h — one configuration generation: the `global` settings plus every
 * proxy parsed from the files. A reload parses into a fresh dp_config,
 * validates it whole, then swaps; the old one lives on while sessions that
 * started under it still hold references to its proxies. */
#ifndef DECOYPROXY_GLOBAL_H
#define DECOYPROXY_GLOBAL_H

#include <sys/types.h>
#include "lib/common.h"
#include "log/log.h"

struct proxy;
struct log_target;
struct stats_conf;
struct tproxy_gconf;
struct netseg;

struct dp_global {
	unsigned maxconn;           /* 0 = derive from the fd limit */
	unsigned ulimit_n;          /* 0 = compute from maxconn */
	int nbthread;
	bool daemon;
	char *pidfile;
	char *user, *group;
	uid_t uid; gid_t gid; bool have_uid, have_gid;
	char *log_tag;              /* default "decoyproxy" */
	char *hostname;             /* for %H and rfc5424 */
	struct log_list logs;
	long long hard_stop_after;  /* ms, 0 = none */
	bool quiet;                 /* `quiet`: as -q, unless -V */
	unsigned spread_checks;     /* spread-checks: +/- percent of jitter on check intervals */
};

struct dp_config {
	struct dp_global g;
	struct proxy *proxies;      /* frontends, backends, listens in file order */
	struct proxy *defaults;     /* defaults sections, most recent first */
	struct proxy *cur_defaults; /* last anonymous-or-named defaults seen (for inheritance) */
	int refcnt;                 /* 1 for being current + 1 per proxy reference held by sessions */
	unsigned generation;
	char **files; size_t nfiles;
	struct log_list all_targets; /* owns every log target of this generation */
	struct stats_conf *stats;    /* `stats socket` lines (stats.c) */
	struct tproxy_gconf *tproxy; /* tproxy marks/tables and nft state (tproxy.c) */
	struct netseg *netsegs;      /* `network` sections and namespaces (netseg.c) */
};

struct dp_config *dp_config_new(void);
/* Drops one reference; frees everything at zero. */
void dp_config_put(struct dp_config *c);
struct proxy *dp_config_find_proxy(struct dp_config *c, const char *name, unsigned cap);

/* Cross-reference checks and defaults resolution after all files are read.
 * Prints alerts naming file:line. Returns the number of errors. */
int dp_config_finalize(struct dp_config *c);

/* Number of listeners (bind addresses) in the config. */
size_t dp_config_count_listeners(const struct dp_config *c);

#endif
