/* netseg.h — network segments: `network <name>` sections (a namespace per
 * segment, its uplink, addresses, gateway, sysctls), HAProxy's
 * `namespace_list`, and sockets created inside a named namespace.
 *
 * Model. A configuration generation owns one `struct netseg` (dp_config's
 * `netsegs`): the parsed sections, the namespaces declared or referenced by
 * `bind ... namespace` / `server ... namespace`, a cache of namespace fds,
 * and the plan: the ordered list of system objects the sections describe
 * (namespace, bridge, veth or macvlan, VLAN, addresses, default routes,
 * sysctls). The plan is computed without touching the system (finalize), so
 * `decoyproxy -c` checks it and unit tests inspect it.
 *
 * Applying walks the plan: an object that exists as configured is kept, a
 * missing one is created, anything in the way is a conflict that names the
 * object. Each object remembers whether this process created it ("owned");
 * ownership passes from one generation to the next on reload, so only what
 * decoyproxy itself created is ever removed, and never an object of a
 * `persist` section.
 *
 * Marks (net/owner.h): links and namespaces this process creates carry its
 * run's mark (a link's alias; a namespace's `lo` alias). An object found in
 * place with the mark of a run that is gone (killed, crashed) is adopted:
 * owned from then on, re-marked, removed when no longer wanted like one
 * this process created. What lives inside an adopted namespace or on an
 * adopted link (addresses, default routes, sysctls) is adopted with it.
 * An object without a mark, or marked by a decoyproxy that is still
 * running, is kept as before. netseg_cleanup() removes orphans without
 * starting anything (`decoyproxy --cleanup`).
 *
 * Host-side interface names (doc/segments.md has the full rule):
 *   veth host end    nl_ifname_derive("dp-", <section name>)
 *   macvlan, while still in the host namespace (before its move and
 *   rename to eth0)  nl_ifname_derive("dpm-", <section name>)
 *   namespace side   "eth0", and "eth0.<vlan id>" with `vlan`.
 *
 * The implementation is split by job (keywords, plan, one object, the
 * reconciler, the real system); netseg_int.h, its private header, lists
 * the files.
 */
#ifndef DECOYPROXY_NETSEG_H
#define DECOYPROXY_NETSEG_H

#include <stddef.h>

#include "cfg/cfg.h"
#include "model/conf.h"
#include "net/nl.h"

struct netseg;

extern const struct cfg_kw_list netseg_kw_list;
/* `network` and `namespace_list` (ended by a NULL name). */
extern const struct cfg_section netseg_sections[];

#define NETSEG_HOST_PFX "dp-"     /* veth host end: prefix + section name */
#define NETSEG_TMP_PFX  "dpm-"    /* macvlan before it moves into its namespace */
#define NETSEG_NS_IF    "eth0"    /* uplink name inside the segment namespace */

/* Checks the sections once every file is read, without touching the
 * system: duplicate section and namespace names, addresses and gateways
 * (a gateway needs an address of its family), interface names against
 * IFNAMSIZ, keywords that need an uplink. Warns about bind/server
 * namespaces that nothing declares (they must then exist at start-up).
 * Builds the plan. Prints alerts; returns the number of errors. */
int netseg_finalize(struct dp_config *c);

/* Makes the system match c's sections: creates what is missing, keeps what
 * exists as configured, reports conflicts naming the object, checks that
 * every namespace named by namespace_list, bind or server exists, and opens
 * (once, cached in c) the fd of every namespace used. Objects that oldc
 * created and c no longer has are scheduled for removal by
 * netseg_commit() (oldc may be NULL). Every object created is announced
 * as a [NOTICE] line. On failure what this call created is removed again,
 * *err (malloc'd, the caller frees) says why, and -errno is returned. */
int netseg_apply(struct dp_config *c, struct dp_config *oldc, char **err);

/* The reload that made newc succeeded (the point of no return, next to
 * tproxy_remove_stale()): removes what oldc created that newc no longer
 * has, and at first start (oldc NULL) sends the list of created objects to
 * newc's global log targets, which are open by then. If a caller never
 * calls it, the removal happens at the next netseg_apply() or at
 * netseg_remove(newc) instead. */
void netseg_commit(struct dp_config *newc, struct dp_config *oldc);

/* A reload failed after netseg_apply(newc, oldc) succeeded: removes what
 * that call created (restores sysctls it changed) and forgets the removals
 * it scheduled, so oldc's state is what it was. */
void netseg_undo(struct dp_config *newc, struct dp_config *oldc);

/* Removes what c owns (what this process created, in this or an earlier
 * generation), except objects of `persist` sections, in reverse order of
 * creation, and closes c's netlink sockets. Best effort: a failure is a
 * warning and the rest goes on. */
void netseg_remove(struct dp_config *c);

/* `decoyproxy --cleanup`: looks up every object of c's plan (c finalized,
 * never applied) and removes, in reverse order, those that carry the mark
 * of a run that is gone, except objects of `persist` sections (a notice
 * says they stay). Objects without a mark, or of a decoyproxy still
 * running, are left alone (a notice names those of a running one). Each
 * removal is a [NOTICE] "network '<section>': removed <object>"; their
 * number is added to *removed. Returns the number of failures (each a
 * warning naming the object). */
int netseg_cleanup(struct dp_config *c, unsigned *removed);

/* ---- inspection (stats socket, tests) ---------------------------------- */

/* Whether c has `network` or `namespace_list` sections, or names a
 * namespace on a bind or server line. */
bool netseg_in_use(const struct dp_config *c);

/* Number of objects in c's plan (0 without sections). */
size_t netseg_plan_count(const struct dp_config *c);

/* Describes plan object i into buf[size], e.g. "veth 'dp-seg' on bridge
 * 'br0', peer 'eth0' in namespace 'seg'". Returns the length it needed
 * (as snprintf), or -ENOENT when i is out of range. */
int netseg_plan_text(const struct dp_config *c, size_t i, char *buf, size_t size);

/* A listing of the plan, one line per object: "<section> <state>
 * <object>", state being "created" (owned by this process), "adopted"
 * (owned: left by an earlier run that is gone), "kept" (existed before,
 * not ours), "persist" (owned, left on stop) or "planned" (not applied).
 * *out is malloc'd (the caller frees). Returns 0 or -ENOMEM. */
int netseg_show(const struct dp_config *c, char **out);

/* ---- system access (a seam for unit tests) ----------------------------- */

/* Every system call the reconciler makes goes through this table. Names
 * are namespace names; NULL means the namespace decoyproxy runs in. Each
 * returns 0 (or what is documented) or -errno with *err set. */
struct netseg_sys {
	int (*ns_exists)(void *ctx, const char *ns);                 /* 1, 0, -errno */
	int (*ns_hold)(void *ctx, const char *ns, char **err);       /* open for later use */
	int (*ns_create)(void *ctx, const char *ns, char **err);
	int (*ns_delete)(void *ctx, const char *ns, char **err);
	/* ifindex > 0 or -ENODEV */
	int (*link_get)(void *ctx, const char *ns, const char *name, struct nl_link_info *out, char **err);
	int (*veth_add)(void *ctx, const char *name, const char *peer, const char *peer_ns, char **err);
	int (*bridge_add)(void *ctx, const char *name, char **err);
	int (*macvlan_add)(void *ctx, const char *name, int parent, char **err);
	int (*vlan_add)(void *ctx, const char *ns, const char *name, int parent, int vid, char **err);
	/* moves a host link into ns, renaming it to newname on the way */
	int (*link_move)(void *ctx, int ifindex, const char *ns, const char *newname, char **err);
	int (*link_change)(void *ctx, const char *ns, int ifindex, const struct nl_link_change *ch, char **err);
	int (*link_del)(void *ctx, const char *ns, int ifindex, char **err);
	/* all addresses of ns; returns how many exist (may exceed max) */
	int (*addr_list)(void *ctx, const char *ns, struct nl_addr_entry *out, size_t max, char **err);
	int (*addr_add)(void *ctx, const char *ns, int ifindex, int family, const void *addr,
			unsigned plen, unsigned flags, char **err);
	int (*addr_del)(void *ctx, const char *ns, int ifindex, int family, const void *addr,
			unsigned plen, char **err);
	int (*route_exists)(void *ctx, const char *ns, const struct nl_route *r, char **err); /* 1, 0 */
	int (*route_add)(void *ctx, const char *ns, const struct nl_route *r, char **err);
	int (*route_del)(void *ctx, const char *ns, const struct nl_route *r, char **err);
	int (*sysctl_get)(void *ctx, const char *ns, const char *key, char *out, size_t size, char **err);
	int (*sysctl_set)(void *ctx, const char *ns, const char *key, const char *val, char **err);
	/* whether the run that wrote mark is alive, as owner_mark_alive() */
	int (*mark_alive)(void *ctx, const char *mark);                 /* 1, 0, -errno */
};

/* Replaces the system table (ops NULL: back to the real one, netlink and
 * /run/netns). ctx is passed to every call; NULL hands the generation's own
 * state to the real table. For unit tests only. */
void netseg_set_sys(const struct netseg_sys *ops, void *ctx);

#endif
