/* netseg_int.h — private to the parts of the netseg module (plumbing/netseg.h
 * is its public interface): the parsed sections, the plan's objects, the
 * generation's state, and the functions one part offers the others.
 *
 * The parts, each with one job:
 *   netseg_kw.c    `network` and `namespace_list`: sections and keywords;
 *   netseg_plan.c  finalize (checks, the plan) and describing objects
 *                  (plan text, `show network`); object vectors;
 *   netseg_obj.c   one plan object against the system: look it up, keep,
 *                  create or report a conflict; remove or restore it;
 *   netseg.c       the generation's state and the reconciler: apply,
 *                  commit, undo, remove, and the removal passes;
 *   netseg_sys.c   the real system table (/run/netns and rtnetlink through
 *                  net/nscache.h) and netseg_set_sys().
 */
#ifndef DECOYPROXY_NETSEG_INT_H
#define DECOYPROXY_NETSEG_INT_H

#include <arpa/inet.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "model/conf.h"
#include "net/nl.h"
#include "net/nscache.h"
#include "plumbing/netseg.h"

/* Longest sysctl value kept (the kernel takes at most a page per write). */
#define NETSEG_SYSCTL_MAX 4096

enum { UPLINK_NONE, UPLINK_VETH, UPLINK_MACVLAN };

struct seg_addr {
	int family;
	union nl_ip ip;
	unsigned plen;
	int line;
};

struct seg_sysctl {
	char *key;
	char *val;
	int line;
};

/* One `network` section as parsed. */
struct segment {
	struct segment *next;
	char *name;
	char *netns;                /* NULL until finalize: the section name */
	char *file;
	int line;
	int uplink;                 /* UPLINK_* */
	char *updev;                /* bridge (veth) or parent (macvlan) */
	int vlan;                   /* 0: none */
	unsigned mtu;               /* 0: leave as created */
	bool persist;
	struct seg_addr *addrs;
	size_t naddrs;
	bool has_gw[2];             /* [0] IPv4, [1] IPv6 */
	union nl_ip gw[2];
	int gw_line[2];
	struct seg_sysctl *sysctls;
	size_t nsysctls;
	char host_if[IFNAMSIZ];     /* veth host end */
	char tmp_if[IFNAMSIZ];      /* macvlan before its move */
	char ns_if[IFNAMSIZ];       /* where addresses go: eth0 or eth0.<vid> */
};

/* A namespace that must exist: a `namespace_list` line, or a bind/server
 * `namespace` that nothing declares. */
struct nsdecl {
	struct nsdecl *next;
	char *name;
	char *what;                 /* "namespace_list", "bind 'x' of frontend 'f'" ... */
	char *file;
	int line;
};

enum obj_type { OBJ_NETNS, OBJ_BRIDGE, OBJ_VETH, OBJ_MACVLAN, OBJ_VLAN, OBJ_ADDR, OBJ_ROUTE, OBJ_SYSCTL };

/* One system object of the plan. Self-contained (owns its strings) so
 * that it can outlive the generation that planned it (stale lists). */
struct obj {
	int type;                   /* OBJ_* */
	char *seg;                  /* section name, for messages */
	char *ns;                   /* NULL: the host namespace */
	char dev[IFNAMSIZ];         /* the link (or the link an address/route uses) */
	char peer[IFNAMSIZ];        /* veth: peer name in ns; macvlan: host temp name */
	char parent[IFNAMSIZ];      /* veth: bridge; macvlan: parent; vlan: base link */
	int vlan;
	unsigned mtu;
	int family;                 /* ADDR, ROUTE */
	union nl_ip ip;             /* address, or gateway */
	unsigned plen;
	char *key, *val;            /* SYSCTL */
	bool persist;
	/* state after apply */
	bool owned;                 /* created (or adopted) by this process */
	bool fresh;                 /* created by the last netseg_apply() */
	bool adopted;               /* owned because an earlier run made it */
	bool adopted_now;           /* adopted by the last netseg_apply() */
	char *orig_val;             /* SYSCTL: value before decoyproxy wrote it */
	char *prev_val;             /* SYSCTL: value before the last apply wrote it */
	bool replaced;              /* ROUTE: the last apply removed an older route of ours */
	char rep_dev[IFNAMSIZ];
	union nl_ip rep_gw;
};

struct objv {
	struct obj *v;
	size_t n, cap;
};

struct netseg {
	struct conf_ext ext;        /* in the generation (model/conf.h) */
	struct segment *segs, *segs_last;
	struct nsdecl *decls;       /* namespace_list */
	struct nsdecl *refs;        /* bind/server names nothing declares */
	struct objv plan;
	struct objv stale;          /* owned by the previous generation, not in ours */
	bool planned, applied, announced;
	struct ns_cache *nsc;        /* the generation's namespaces (net/nscache.h) */
};

/* One pass over the system for generation st (netseg_apply(),
 * netseg_cleanup()). */
struct run {
	struct netseg *st;
	struct netseg *old;         /* previous generation, NULL at start */
	void *ctx;
	char **err;
	const char *self;           /* our mark (net/owner.h), NULL: none */
	unsigned created, kept, adopted;
};

/* Every system call goes through the table netseg_set_sys() chose. */
#define SYS(op) (netseg_sys_ops()->op)

#define IFCPY(dst, src) snprintf((dst), sizeof(dst), "%s", (src))

/* ---- small helpers ------------------------------------------------------ */

static inline bool str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return !strcmp(a, b);
}

static inline int fam_idx(int family)
{
	return family == AF_INET6;
}

static inline size_t fam_len(int family)
{
	return family == AF_INET6 ? sizeof(struct in6_addr) : sizeof(struct in_addr);
}

static inline char *ip_str(int family, const union nl_ip *ip, char *buf, size_t size)
{
	if (!inet_ntop(family, ip, buf, (socklen_t)size))
		snprintf(buf, size, "?");
	return buf;
}

/* ---- netseg.c: the generation's state ----------------------------------- */

/* c's segment state, or NULL when c has none. */
struct netseg *netseg_state_of(const struct dp_config *c);
/* c's segment state, created (empty, in c's extensions) when c has none;
 * NULL on allocation failure. c owns it. */
struct netseg *netseg_state_get(struct dp_config *c);

/* ---- netseg_kw.c: the parsed sections ----------------------------------- */

/* Frees a section and everything it holds. */
void netseg_segment_free(struct segment *s);
/* Frees a list of declarations. */
void netseg_decls_free(struct nsdecl *d);
/* The declaration of namespace name in list d, or NULL. */
struct nsdecl *netseg_decl_find(struct nsdecl *d, const char *name);
/* Appends a declaration (copies of name, what and file; file NULL: "?") to
 * *list; 0 or -ENOMEM. */
int netseg_decl_add(struct nsdecl **list, const char *name, const char *what, const char *file, int line);

/* ---- netseg_plan.c: the plan -------------------------------------------- */

/* Frees the objects of v and their strings; v is left empty. */
void netseg_objv_clear(struct objv *v);
/* Appends a deep copy of src to v. 0 or -ENOMEM (v unchanged). */
int netseg_objv_add_copy(struct objv *v, const struct obj *src);
/* The section of st whose namespace is ns, or NULL (st may be NULL). */
struct segment *netseg_seg_by_netns(struct netseg *st, const char *ns);
/* (Re)builds st->plan from st's sections and sets st->planned. 0 or
 * -ENOMEM (the plan is then empty). */
int netseg_plan_build(struct netseg *st);
/* Describes o into buf[size]; returns the length it needed (as snprintf). */
int netseg_obj_text(const struct obj *o, char *buf, size_t size);

/* ---- netseg_obj.c: one object against the system ------------------------ */

/* Brings o to its configured state: keeps it, creates it (o becomes owned
 * and fresh), or reports a conflict naming it in *r->err. Returns 1 when
 * created, 0 when kept, -errno on failure. */
int netseg_ensure(struct run *r, struct obj *o);
/* o was kept: counts it, and makes it ours if r->old owned it, or adopts
 * it with the namespace or link it lives in (see netseg.h). */
void netseg_inherit(struct run *r, struct obj *o);
/* For netseg_cleanup(): who made o, as found on the system: an enum
 * owner_verdict (a link of another kind under o's name is OWNER_FOREIGN),
 * -ENOENT when o is not there, another -errno (*r->err set) when it cannot
 * be looked up. Addresses, routes and sysctls have no mark of their own:
 * -ENOENT (they go with their namespace or link). */
int netseg_probe(struct run *r, struct obj *o);
/* o is adopted (owned, left by an earlier run): flags and counts it. */
void netseg_adopt(struct run *r, struct obj *o);
/* The namespace or link object of st's plan that o (an address, route or
 * sysctl) lives in was adopted by the pass under way. */
bool netseg_container_adopted(const struct netseg *st, const struct obj *o);
/* The object of v that is the same system object as o (identity, not
 * every property), or NULL (v may be NULL). */
const struct obj *netseg_find_same(const struct objv *v, const struct obj *o);
/* Removes o from the system through the table with ctx. undo: restores
 * the state before the last apply (previous sysctl value, replaced route)
 * rather than before decoyproxy. 0 or -errno with *e set. */
int netseg_obj_remove(void *ctx, struct obj *o, bool undo, char **e);

/* ---- netseg_sys.c: the system table ------------------------------------- */

/* The table in use: the real one unless netseg_set_sys() replaced it. */
const struct netseg_sys *netseg_sys_ops(void);
/* The context its calls take for generation st: the one given to
 * netseg_set_sys(), else st itself (what the real table expects). */
void *netseg_sys_ctx(struct netseg *st);

#endif
