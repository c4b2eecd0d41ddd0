/* tproxy_int.h — private to the tproxy module (tproxy.c and its parts
 * tproxy_kw.c, tproxy_plan.c, tproxy_loop.c, tproxy_kernel.c, tproxy_rt.c): the
 * generation's tproxy state (struct tproxy_gconf, a conf_ext of the
 * generation), a frontend's `intercept` state (struct tproxy_fe, behind
 * struct proxy's tproxy pointer), and the small lookups every part uses.
 * The module's interface is tproxy.h; nothing else includes this file.
 *
 * Who writes what: the keywords (tproxy_kw.c) fill tproxy_gconf's settings
 * and tproxy_fe's lists as written; tproxy_finalize() (tproxy_plan.c)
 * normalises the lists and builds the plan (tproxy_gconf.ns), then holds
 * the addresses the proxy connects to against them (tproxy_loop.c); the kernel
 * part (tproxy_kernel.c) records in the plan what it installed; runtime
 * changes (tproxy_rt.c) replace a frontend's list in place.
 */
#ifndef DECOYPROXY_TPROXY_INT_H
#define DECOYPROXY_TPROXY_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/netlink.h>

#include "lib/intercept.h"
#include "model/conf.h"
#include "model/proxy.h"
#include "net/nscache.h"
#include "plumbing/tproxy.h"

/* Families by index, as in struct tproxy_ns: [0] IPv4, [1] IPv6. */
static const int fam_of[2] = { AF_INET, AF_INET6 };

/* "namespace '<name>'" or "the process's network namespace" */
#define NS_DESC_MAX 128

/* One address range written on an `announce` line. */
struct tproxy_range {
	uint8_t family;
	union icpt_addr lo, hi;
};

struct tproxy_fe {
	struct icpt_list decoys;        /* every spec of the frontend */
	struct icpt_list raw;           /* during tproxy_finalize() only: the list as
	                                 * written, when another frontend diverts the
	                                 * same family in a namespace (origins for
	                                 * overlap errors) */
	struct tproxy_range *ranges;    /* address ranges of `announce` lines */
	size_t nranges, capranges;
	struct tproxy_cidr *announce;   /* built by tproxy_finalize(), sorted */
	size_t nannounce;
	char *file;                     /* the first `intercept*` line, for messages */
	int line;
	char *set[2];                   /* set names, [0] IPv4, [1] IPv6 (tproxy.h) */
	bool shared;                    /* see raw */
	unsigned rt_changes;            /* add/del intercept applied on the stats socket */
};

struct tproxy_gconf {
	struct conf_ext ext;            /* in the generation (model/conf.h) */
	uint32_t mark;
	uint32_t table;
	bool routing;
	struct tproxy_ns *ns;           /* the plan, one entry per namespace */
	size_t nns;
};

/* ---- the generation's state (tproxy.c) --------------------------------------- */

/* Identifies the tproxy extension of a generation; its free() releases the
 * plan and every frontend's tproxy_fe. */
extern const struct conf_ext_ops tproxy_ext_ops;

/* c's tproxy state, or NULL when c has none (no tproxy keyword). */
static inline struct tproxy_gconf *gconf_of(const struct dp_config *c)
{
	struct conf_ext *e = conf_ext_find(c, &tproxy_ext_ops);

	return e ? container_of(e, struct tproxy_gconf, ext) : NULL;
}

/* c's tproxy state, created with the defaults (and owned by c) when
 * missing. NULL: out of memory. */
struct tproxy_gconf *tproxy_gconf_get(struct dp_config *c);

/* Frees g's plan (every namespace entry and what it points to); g has no
 * plan afterwards. */
void tproxy_plan_free(struct tproxy_gconf *g);

/* ---- the proxy's own connections inside the decoys (tproxy_loop.c) ------------ */

enum tproxy_loop_kind {
	TPROXY_LOOP_CERTAIN,    /* the proxy's connections are certainly diverted back: refuse */
	TPROXY_LOOP_MAY,        /* they are if the network routes them through the namespace */
	TPROXY_LOOP_SAME_NS,    /* never diverted (same namespace), but the decoys hold the address */
	TPROXY_LOOP_LOCAL,      /* a plain bind's address: other hosts' connections are taken over */
};

/* One finding: file:line of the server or bind line it is about, and the
 * whole message (naming that line's object, the decoy spec with its own
 * file:line, the namespaces and what happens). */
typedef void (*tproxy_loop_report_fn)(void *ctx, enum tproxy_loop_kind kind, const char *file,
				      int line, const char *msg);

/* Holds l (normalised: px's decoys, or the specs an `add intercept` would
 * add to them) against the addresses c's servers and health checks
 * connect to and the addresses of c's plain binds, in every namespace of
 * c's plan where px diverts (see tproxy_loop.c for the cases). Calls
 * report for each finding; returns the number of TPROXY_LOOP_CERTAIN
 * ones. Needs c's plan (after tproxy_finalize()'s plan is built). */
int tproxy_loop_check(const struct dp_config *c, const struct proxy *px,
		      const struct icpt_list *l, tproxy_loop_report_fn report, void *ctx);

/* ---- small lookups shared by the parts --------------------------------------- */

/* Whether namespace name (under NS_RUN_DIR; NULL: none named) is the
 * process's own network namespace: the same nsfs inode (st_dev, st_ino)
 * as /proc/self/ns/net. A `namespace` naming it acts as none. */
bool tproxy_ns_is_self(const char *name);

/* Whether names a and b (NULL: the process's namespace) are one namespace. */
static inline bool name_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b)) || (tproxy_ns_is_self(a) && tproxy_ns_is_self(b));
}

static inline const char *ns_desc(const char *name, char *buf, size_t cap)
{
	if (tproxy_ns_is_self(name))
		snprintf(buf, cap, "the process's network namespace");
	else
		snprintf(buf, cap, "namespace '%s'", name);
	return buf;
}

/* The plan entry of namespace name in g (g may be NULL), or NULL. */
static inline struct tproxy_ns *ns_find(const struct tproxy_gconf *g, const char *name)
{
	for (size_t i = 0; g && i < g->nns; i++)
		if (name_eq(g->ns[i].name, name))
			return &g->ns[i];
	return NULL;
}

static inline const char *px_kind(const struct proxy *px)
{
	return (px->cap & PR_CAP_BE) ? "listen" : "frontend";
}

static inline int fam_index(int family)
{
	return family == AF_INET ? 0 : family == AF_INET6 ? 1 : -1;
}

static inline const char *fam_name(int fi)
{
	return fi ? "IPv6" : "IPv4";
}

/* The divert of px for family fam in n, or -1. */
static inline long ns_div_of(const struct tproxy_ns *n, const struct proxy *px, int fam)
{
	for (size_t i = 0; n && i < n->nft.ndiv; i++)
		if (n->fe[i] == px && n->div[i].family == fam)
			return (long)i;
	return -1;
}

/* A NETLINK_NETFILTER socket in namespace ns (NULL: the process's own),
 * or -errno with *err set; the caller closes it. */
static inline int nft_sock(struct dp_config *c, const char *ns, char **err)
{
	return ns_cache_socket(c->nscache, ns, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER, err);
}

#endif
