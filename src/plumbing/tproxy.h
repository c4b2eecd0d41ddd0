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
 *   spoofing server; NULL = the process's own):
 *   - one nft table `inet decoyproxy` (nft.h), applied in one atomic batch:
 *     for every frontend with `intercept` bound there and each family it
 *     has decoys of, one set and one tproxy rule to the frontend's first
 *     transparent listener of that family (a "divert"); all tproxy rules
 *     first, in configuration order, then the socket rule;
 *   - set names: TPROXY_SET4_PREFIX / TPROXY_SET6_PREFIX followed by the
 *     frontend's name ("decoys4_ssh", "decoys6_ssh"), the same in every
 *     namespace. A name that nft cannot take as it is (a character other
 *     than [A-Za-z0-9_.-], or longer than NFT_SET_NAME_MAX with the
 *     prefix) has those characters replaced by '_' and is cut to fit;
 *     when the result is the name of another frontend's sets, "_2", "_3",
 *     ... is appended (cut again to fit). Names that needed no change are
 *     given first, so they never get such a suffix;
 *   - several frontends may intercept in one namespace, but the decoys of
 *     two frontends there must not overlap (a connection must have one
 *     listener): tproxy_finalize() refuses an overlap naming both
 *     frontends, the specs with their file:line, and an overlapping
 *     element; a runtime `add intercept` that overlaps another frontend's
 *     set in a namespace is refused too. Decoys may overlap across
 *     namespaces: they are different networks;
 *   - with tproxy-routing on: `fwmark <mark> lookup <table>` rules and
 *     `local 0.0.0.0/0` / `local ::/0 dev lo` routes in <table>, IPv4 and
 *     IPv6. An identical object that already exists is left alone and never
 *     removed; what decoyproxy added is removed on stop;
 *   - a namespace with only spoofing servers (`source ... usesrc`) gets the
 *     table with the socket rule only (no set), plus the routing;
 *   - the proxy's own connections must never come back to it: the tproxy
 *     rules skip the loopback interface (net/nft.h), and decoys that hold
 *     an address a server or health check connects to are refused when
 *     those connections certainly come back (made in another namespace,
 *     toward an address local where the decoys are diverted), a warning
 *     otherwise (tproxy_finalize(), and `add intercept`). What slips
 *     through is refused at accept (core/selfconn.h).
 *
 * Parsing and tproxy_finalize() never touch the system (`decoyproxy -c`).
 *
 * At run time the stats socket's `add|del intercept` change a frontend's
 * decoys in place (tproxy_rt_change(): one nft delta batch per namespace);
 * the next reload rebuilds the sets from the configuration.
 */
#ifndef DECOYPROXY_TPROXY_H
#define DECOYPROXY_TPROXY_H

#include <stdbool.h>
#include <stdint.h>

#include "cfg/cfg.h"
#include "model/conf.h"
#include "lib/intercept.h"
#include "net/nft.h"

#define TPROXY_MARK_DEFAULT  NFT_MARK_DEFAULT
#define TPROXY_TABLE_DEFAULT 100u

/* Set names: prefix + the frontend's name (see above). */
#define TPROXY_SET4_PREFIX "decoys4_"
#define TPROXY_SET6_PREFIX "decoys6_"

/* Upper bound on the local routes `announce` may ask for in one frontend:
 * each is one netlink request at start-up. Scattered single addresses in
 * the hundreds of thousands are better announced as a covering prefix. */
#define TPROXY_MAX_ANNOUNCE 65536u

struct tproxy_gconf;
struct tproxy_fe;
struct proxy;

extern const struct cfg_kw_list tproxy_kw_list;


/* Validation once every file is read: normalises each frontend's decoy list
 * (overlaps within a frontend are warnings), checks the transparent binds
 * and families, names the sets, refuses decoys that two frontends
 * intercept in one namespace, and builds the per-namespace plan. Prints
 * alerts naming file:line; returns the error count. Touches nothing on
 * the system. */
int tproxy_finalize(struct dp_config *c);

/* Installs (or, with oldc, reconciles) nft tables and routing in every
 * namespace of c's plan: per namespace the nft part is one atomic batch
 * (on reload only the set contents are replaced, via nft_replace_elements()
 * against oldc's plan, when the sets and rules are unchanged; otherwise
 * the table is rebuilt, which also drops the sets and rules of frontends
 * that are gone or renamed). All or nothing: on
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

/* `decoyproxy --cleanup`: in every namespace of c's plan (c finalized,
 * never applied), removes what a run that is gone left: the nft table when
 * its comment is the mark of such a run (net/owner.h), and, where the table
 * is that or missing, the fwmark rules of c's tproxy-mark/tproxy-table,
 * the local default routes of that table and c's announce routes, those of
 * decoyproxy's protocol (RTPROT_DECOYPROXY) only. A table of a running
 * decoyproxy, or without a mark, is left with everything (a notice says
 * so). Each removal is a [NOTICE]; their number is added to *removed.
 * Returns the number of failures (each a warning). */
int tproxy_cleanup(struct dp_config *c, unsigned *removed);

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
	struct nft_plan nft;            /* mark and diverts (nft.div[i], nft.ndiv of
	                                 * them: none when only spoofing servers) */
	const struct proxy **fe;        /* fe[i]: the frontend of divert nft.div[i] */
	const struct tproxy_cidr *announce; /* local routes of every frontend here,
	                                 * sorted, disjoint */
	size_t nannounce;
	/* state of what this generation owns in the kernel */
	bool nft_on;                    /* our table holds this plan */
	bool rule_own[2], route_own[2]; /* [0] IPv4, [1] IPv6: added by us */
	bool *ann_own;                  /* per announce route: added by us */
	/* private: storage behind nft.div and announce */
	struct nft_divert *div;
	size_t capdiv;
	struct tproxy_cidr *announce_v;
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

/* The name of px's set of family (AF_INET or AF_INET6) after
 * tproxy_finalize(), or NULL (no `intercept`, or disabled). */
const char *tproxy_fe_set(const struct proxy *px, int family);

/* ---- runtime changes (stats socket `add|del|show intercept`) ----------- */

/* Adds (add true) or removes the decoys of the argc specs (intercept
 * syntax, argv holds the specs only) to or from frontend px of c, the
 * configuration in service. Every namespace where px's decoys are diverted
 * gets one atomic nft batch: a delta of element additions and removals
 * against what this generation installed there (nft_build_delta()); the
 * sets of other frontends are untouched. When a batch is refused, the
 * namespaces already changed are put back, nothing of the change remains,
 * and *err names the namespace and the element the kernel refused.
 * Checked first, without touching the system: px has `intercept` lines and
 * diverts the specs' address families (the rules of a family exist only
 * when the configuration intercepts it), the specs parse, `add` overlaps
 * no other frontend's set in a namespace where px diverts (-EEXIST, *err
 * names the frontend, the namespace and the element) and adds at least
 * one pair that is not intercepted yet, every pair `del` names is
 * intercepted (else *err names a missing part), `add` takes no
 * decoy that certainly sends the proxy's own connections back to it
 * (-ELOOP, *err naming the server with its file:line, the namespaces and
 * ": nothing added"; a possible loop is added and warned in the log), and
 * the generation's nft table is installed.
 *
 * The configuration files are not changed: a reload rebuilds the sets from
 * them (the installed list this function keeps up to date is what the
 * reload's delta is computed against), so runtime changes last until the
 * next reload or restart, like HAProxy's `add map`. A failed reload keeps
 * them, with the rest of the running state.
 *
 * Returns 0 (a [NOTICE] is logged) or -errno with *err set. */
int tproxy_rt_change(struct dp_config *c, struct proxy *px, bool add, int argc,
		     char *const *argv, char **err);

/* Lists the decoys of c's frontends with `intercept` (only px when not
 * NULL), one line per call of line(ctx, text), never an empty line:
 *   # frontend 'decoys': 3 element(s), 1 runtime change(s)
 *   # set decoys4_decoys in the process's network namespace: 2 element(s)
 *   # set decoys6_decoys in namespace 'seg': 1 element(s)
 *   192.0.2.0/24:22
 *   ...
 * The elements are the frontend's list as installed (configuration plus
 * runtime changes), in spec syntax; a set's count is that of its family
 * ("not installed" when the generation never applied). A px without
 * `intercept` gives one line saying so. */
void tproxy_rt_show(const struct dp_config *c, const struct proxy *px,
		    void (*line)(void *ctx, const char *text), void *ctx);

/* For unit tests only: replaces how tproxy_rt_change() sends a batch into
 * namespace ns (NULL: the process's own); NULL restores the real sender
 * (a NETLINK_NETFILTER socket in ns and nft_batch_send()). */
typedef int (*tproxy_rt_send_fn)(struct dp_config *c, const char *ns, struct nft_batch *b,
				 char **err);
void tproxy_set_rt_sender(tproxy_rt_send_fn fn);

/* Splits the inclusive address range lo..hi (network order, lo <= hi) of
 * family into the fewest CIDR prefixes, in address order. Writes at most
 * max of them to out (may be NULL with max 0) and returns how many the
 * range needs (1 to 2 * address bits), or 0 for a bad family or lo > hi. */
size_t tproxy_range_to_cidrs(int family, const union icpt_addr *lo, const union icpt_addr *hi,
			     struct tproxy_cidr *out, size_t max);

#endif
