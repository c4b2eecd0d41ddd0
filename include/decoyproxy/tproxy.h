/* tproxy.h — TPROXY plumbing: `intercept` decoy addresses on frontends with
 * a transparent bind, the nftables table that sends them to the listener,
 * and the fwmark rules / local routing table that deliver them.
 *
 * Configuration (decoyproxy extensions, HAProxy syntax):
 *
 *   global
 *       tproxy-mark <n>            mark set by the nft rules and matched by the
 *                                  fwmark rule (default 1; 0x.. accepted)
 *       tproxy-table <id>          routing table with the local default routes
 *                                  (default 100)
 *       tproxy-routing on|off      off: the operator manages `ip rule` / routes
 *   frontend | listen
 *       intercept <spec> [<spec>...] [announce]
 *       intercept-file <path> [announce]
 *
 * Specs are intercept.h's "ADDRS:PORTS". `announce` also adds local routes
 * (table local) for the addresses of that line, so that the kernel answers
 * ARP for them on the segment.
 *
 * Design, per network namespace (the one of the transparent bind, or of a
 * spoofing server; NULL = the process's own):
 *   - one nft table `inet decoyproxy` (nft.h), applied in one atomic batch:
 *     one decoy set per address family, the tproxy rules to the frontend's
 *     first transparent listener of each family, then the socket rule;
 *   - so per namespace and address family, ONE frontend may use `intercept`
 *     (a second one is a configuration error naming both): the nft module
 *     diverts a family's set to exactly one listener. An IPv4 frontend and
 *     an IPv6 frontend may share a namespace;
 *   - with tproxy-routing on: `fwmark <mark> lookup <table>` rules and
 *     `local 0.0.0.0/0` / `local ::/0 dev lo` routes in <table>, IPv4 and
 *     IPv6. An identical object that already exists is left alone and never
 *     removed; what decoyproxy added is removed on stop;
 *   - a namespace with only spoofing servers (`source ... usesrc`) gets the
 *     table with empty sets and the socket rule only, plus the routing.
 *
 * Parsing and tproxy_finalize() never touch the system (`decoyproxy -c`).
 */
#ifndef DECOYPROXY_TPROXY_H
#define DECOYPROXY_TPROXY_H

#include <stdbool.h>
#include <stdint.h>

#include "decoyproxy/cfg.h"
#include "decoyproxy/global.h"
#include "decoyproxy/intercept.h"
#include "decoyproxy/nft.h"

#define TPROXY_MARK_DEFAULT  NFT_MARK_DEFAULT
#define TPROXY_TABLE_DEFAULT 100u

/* Upper bound on the local routes `announce` may ask for in one frontend:
 * each is one netlink request at start-up. Scattered single addresses in
 * the hundreds of thousands are better announced as a covering prefix. */
#define TPROXY_MAX_ANNOUNCE 65536u

struct tproxy_gconf;
struct tproxy_fe;
struct proxy;

extern const struct cfg_kw_list tproxy_kw_list;

void tproxy_gconf_free(struct tproxy_gconf *g);
void tproxy_fe_free(struct tproxy_fe *f);

/* Validation once every file is read: normalises each frontend's decoy list
 * (overlaps are warnings), checks the transparent binds and families, and
 * builds the per-namespace plan. Prints alerts naming file:line; returns the
 * error count. Touches nothing on the system. */
int tproxy_finalize(struct dp_config *c);

/* Installs (or, with oldc, reconciles) nft tables and routing in every
 * namespace of c's plan: per namespace the nft part is one atomic batch
 * (on reload only the set contents are replaced, via nft_replace_elements()
 * against oldc's lists, when rules are unchanged). All or nothing: on
 * failure every namespace already done is put back to oldc's state (or
 * cleaned when oldc is NULL), and *err names the namespace and what the
 * kernel refused. Returns 0 or -errno. */
int tproxy_apply(struct dp_config *c, struct dp_config *oldc, char **err);

/* A reload failed after tproxy_apply(newc, oldc) succeeded: put back the
 * state of oldc (or remove newc's when oldc is NULL). Failures are printed. */
void tproxy_undo(struct dp_config *newc, struct dp_config *oldc);

/* After a successful reload: remove what oldc installed that newc does not
 * use any more (a namespace without intercepts or spoofing, routing objects
 * of a changed mark/table, announce routes no longer asked for). */
void tproxy_remove_stale(struct dp_config *oldc, struct dp_config *newc);

/* Removes exactly what c installed (process stop): the nft table of each
 * namespace and the rules/routes decoyproxy added itself. */
void tproxy_remove(struct dp_config *c);

/* ---- plan (read-only views, for logs and tests) ------------------------- */

/* A prefix for a local route. */
struct tproxy_cidr {
	uint8_t family;                 /* AF_INET or AF_INET6 */
	uint8_t plen;
	union icpt_addr addr;           /* network order, host bits zero */
};

/* What decoyproxy installs in one namespace (built by tproxy_finalize()),
 * and what it has installed there (set by tproxy_apply()). */
struct tproxy_ns {
	char *name;                     /* NULL: the process's own namespace */
	const struct proxy *fe[2];      /* [0] IPv4, [1] IPv6: the frontend whose decoys
	                                 * of that family are diverted here, or NULL
	                                 * (both NULL: only spoofing servers) */
	struct nft_plan nft;            /* mark, listeners, decoys */
	const struct tproxy_cidr *announce; /* local routes, sorted, disjoint */
	size_t nannounce;
	/* state of what this generation owns in the kernel */
	bool nft_on;                    /* our table holds this plan */
	bool rule_own[2], route_own[2]; /* [0] IPv4, [1] IPv6: added by us */
	bool *ann_own;                  /* per announce route: added by us */
	/* private: lists owned by the entry when two frontends share the
	 * namespace (one per family); otherwise nft.decoys and announce are
	 * the frontend's own */
	struct icpt_list *merged;
	struct tproxy_cidr *merged_announce;
};

/* The plan of c (NULL, *n = 0 before tproxy_finalize()). */
const struct tproxy_ns *tproxy_plan(const struct dp_config *c, size_t *n);

/* Effective global settings of c (defaults when not configured). */
uint32_t tproxy_mark(const struct dp_config *c);
uint32_t tproxy_table(const struct dp_config *c);
bool tproxy_routing(const struct dp_config *c);

/* The frontend's decoy list (normalised after tproxy_finalize()), or NULL
 * when px has no `intercept`. */
const struct icpt_list *tproxy_fe_decoys(const struct proxy *px);

/* Splits the inclusive address range lo..hi (network order, lo <= hi) of
 * family into the fewest CIDR prefixes, in address order. Writes at most
 * max of them to out (may be NULL with max 0) and returns how many the
 * range needs (1 to 2 * address bits), or 0 for a bad family or lo > hi. */
size_t tproxy_range_to_cidrs(int family, const union icpt_addr *lo, const union icpt_addr *hi,
			     struct tproxy_cidr *out, size_t max);

#endif
