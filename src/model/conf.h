/* conf.h — one configuration generation: the `global` settings plus every
 * proxy parsed from the files. A reload parses into a fresh dp_config,
 * validates it whole, then swaps; the old one lives on while sessions that
 * started under it still hold references to its proxies.
 *
 * Modules above this layer (segments, tproxy plumbing, the CLI) keep their
 * per-generation state in extensions (struct conf_ext) that this layer
 * frees without knowing them. */
#ifndef DECOYPROXY_CONF_H
#define DECOYPROXY_CONF_H

#include <sys/types.h>
#include "lib/common.h"
#include "cfg/cfg.h"
#include "lib/job.h"
#include "log/log.h"
#include "model/bind.h"

struct proxy;
struct log_target;
struct ns_cache;
struct conf_ext;
struct dp_config;

/* What a module's extension needs from this layer: a name for messages and
 * how to free it (with everything it owns, e.g. per-proxy data it hung on
 * the generation's proxies, which still exist when free() runs). */
struct conf_ext_ops {
	const char *name;
	void (*free)(struct dp_config *c, struct conf_ext *e);
};

/* Embedded in a module's per-generation state; container_of() gets back
 * to the state. */
struct conf_ext {
	struct conf_ext *next;
	const struct conf_ext_ops *ops;
};

struct dp_global {
	unsigned maxconn;           /* 0 = derive from the fd limit */
	unsigned ulimit_n;          /* 0 = compute from maxconn */
	int nbthread;               /* 0: unset (HAProxy's default, ctl/cpumap.c) */
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
	long long max_spread_checks; /* max-spread-checks (ms): bound on the first checks' spreading, 0 none */
	char *srvstate_file;        /* server-state-file (model/srvstate_kw.c) */
	char *srvstate_base;        /* server-state-base */
	/* data path tuning (core/tune.c) */
	unsigned maxpipes;          /* 0 = maxconn / 4 */
	unsigned pipesize;          /* tune.pipesize, 0 = the kernel's default */
	bool nosplice;
	int maxaccept;              /* tune.maxaccept, 0 = default (64), -1 = no limit */
	struct bind_unix_defaults unix_bind;  /* `unix-bind` (model/unixsock.c) */
};

struct dp_config {
	struct dp_global g;
	struct proxy *proxies;      /* frontends, backends, listens in file order */
	struct proxy *defaults;     /* defaults sections, most recent first */
	struct proxy *cur_defaults; /* last anonymous-or-named defaults seen (for inheritance) */
	_Atomic int refcnt;         /* 1 for being current + 1 per proxy reference held by
	                             * sessions (of any thread; freed on T0: core/sess.c) */
	struct thread_job put_job;  /* the last reference dropped by a worker: the free
	                             * posted to T0 without allocating (core/sess.c) */
	unsigned generation;
	struct cfg_files files;      /* the files it was read from */
	struct log_list all_targets; /* owns every log target of this generation */
	struct conf_ext *exts;       /* modules' state: segments, tproxy, CLI ... */
	struct ns_cache *nscache;    /* namespaces this generation opened (net/ns.h) */
	const char *owner;           /* the mark written on what it creates
	                              * ("decoyproxy:<run id>", net/owner.h); NULL:
	                              * nothing is marked. Borrowed from the process's
	                              * run (ctl/process.c), set before apply */
};

struct dp_config *dp_config_new(void);

/* The extension of c registered with ops, or NULL. */
struct conf_ext *conf_ext_find(const struct dp_config *c, const struct conf_ext_ops *ops);
/* Hands e (with e->ops set) to c, which frees it with c. */
void conf_ext_add(struct dp_config *c, struct conf_ext *e);
/* Drops one reference; frees everything at zero. */
void dp_config_put(struct dp_config *c);
struct proxy *dp_config_find_proxy(struct dp_config *c, const char *name, unsigned cap);
/* px's first server named name, or NULL. */
struct server *proxy_find_server(const struct proxy *px, const char *name);

/* Cross-reference checks and defaults resolution of the proxies after all
 * files are read (other modules' checks are their own finalize hooks, see
 * ctl/module.h). Prints alerts naming file:line. Returns the number of
 * errors. */
int dp_config_finalize(struct dp_config *c);

/* After a reload: newc's proxies and servers take over the counters and
 * the operator/health state of oldc's of the same name. */
void dp_config_carry_over(struct dp_config *newc, struct dp_config *oldc);

/* Keywords of the proxy sections, and the sections that make proxies
 * (conf_kw.c): `global`, `defaults`, `frontend`, `backend`, `listen`
 * (ended by a NULL name). */
extern const struct cfg_kw_list proxy_kw_list;
extern const struct cfg_section proxy_sections[];
/* Keywords of the `global` section (global.c). */
extern const struct cfg_kw_list global_kw_list;

/* Number of listeners (bind addresses) in the config. */
size_t dp_config_count_listeners(const struct dp_config *c);

#endif
