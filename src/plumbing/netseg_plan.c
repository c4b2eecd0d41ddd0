/* netseg_plan.c — finalize and the plan. Once every file is read the
 * sections are checked whole (names, addresses against gateways, interface
 * names, bind/server namespaces nothing declares) and turned into the plan:
 * an ordered array of system objects, computed without touching the system
 * so that `decoyproxy -c` checks it and unit tests inspect it. Also the
 * object vectors the plan is made of, and the text of an object (plan
 * text, `show network`, every message that names an object).
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/bind.h"
#include "model/conf.h"
#include "model/proxy.h"
#include "model/server.h"
#include "net/nl.h"
#include "net/ns.h"
#include "plumbing/netseg.h"
#include "plumbing/netseg_int.h"
#include "log/msg.h"

/* ---- object vectors ----------------------------------------------------- */

static void obj_clear(struct obj *o)
{
	free(o->seg);
	free(o->ns);
	free(o->key);
	free(o->val);
	free(o->orig_val);
	free(o->prev_val);
	memset(o, 0, sizeof(*o));
}

void netseg_objv_clear(struct objv *v)
{
	for (size_t i = 0; i < v->n; i++)
		obj_clear(&v->v[i]);
	free(v->v);
	memset(v, 0, sizeof(*v));
}

/* Appends a zeroed object; NULL on allocation failure. */
static struct obj *objv_add(struct objv *v)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 16;
		struct obj *nv = realloc(v->v, cap * sizeof(*nv));

		if (!nv)
			return NULL;
		v->v = nv;
		v->cap = cap;
	}
	memset(&v->v[v->n], 0, sizeof(v->v[0]));
	return &v->v[v->n++];
}

static int strdup_opt(char **dst, const char *src)
{
	*dst = NULL;
	if (src && !(*dst = strdup(src)))
		return -ENOMEM;
	return 0;
}

/* Deep copy of src appended to v. */
int netseg_objv_add_copy(struct objv *v, const struct obj *src)
{
	struct obj *o = objv_add(v);

	if (!o)
		return -ENOMEM;
	*o = *src;
	o->seg = o->ns = o->key = o->val = o->orig_val = o->prev_val = NULL;
	if (strdup_opt(&o->seg, src->seg) < 0 || strdup_opt(&o->ns, src->ns) < 0 ||
	    strdup_opt(&o->key, src->key) < 0 || strdup_opt(&o->val, src->val) < 0 ||
	    strdup_opt(&o->orig_val, src->orig_val) < 0 || strdup_opt(&o->prev_val, src->prev_val) < 0) {
		obj_clear(o);
		v->n--;
		return -ENOMEM;
	}
	return 0;
}

/* ---- finalize: checks and the plan -------------------------------------- */

struct segment *netseg_seg_by_netns(struct netseg *st, const char *ns)
{
	for (struct segment *s = st ? st->segs : NULL; s; s = s->next)
		if (s->netns && !strcmp(s->netns, ns))
			return s;
	return NULL;
}

/* Names and defaults of one section; alerts for what cannot work. */
static void fin_segment(struct netseg *st, struct segment *s, int *errors)
{
	bool has_fam[2] = { false, false };
	const char *fam_name[2] = { "IPv4", "IPv6" };

	if (!s->netns && !(s->netns = strdup(s->name))) {
		cfg_report_at(true, s->file, s->line, errors, "out of memory");
		return;
	}
	if (nl_ifname_derive(s->host_if, NETSEG_HOST_PFX, s->name) < 0 ||
	    nl_ifname_derive(s->tmp_if, NETSEG_TMP_PFX, s->name) < 0)
		cfg_report_at(true, s->file, s->line, errors,
			   "network '%s': no valid interface name can be derived from this name", s->name);
	if (s->vlan)
		snprintf(s->ns_if, sizeof(s->ns_if), "%s.%d", NETSEG_NS_IF, s->vlan);
	else
		snprintf(s->ns_if, sizeof(s->ns_if), "%s", NETSEG_NS_IF);

	if (s->uplink == UPLINK_NONE) {
		const char *need = s->naddrs ? "address" : (s->has_gw[0] || s->has_gw[1]) ? "gateway" :
				   s->vlan ? "vlan" : s->mtu ? "mtu" : NULL;

		if (need)
			cfg_report_at(true, s->file, s->line, errors,
				   "network '%s': '%s' needs an 'uplink' (the namespace has no interface to carry it)",
				   s->name, need);
	}
	for (size_t i = 0; i < s->naddrs; i++)
		has_fam[fam_idx(s->addrs[i].family)] = true;
	for (int f = 0; f < 2; f++) {
		if (s->has_gw[f] && !has_fam[f])
			cfg_report_at(true, s->file, s->gw_line[f], errors,
				   "network '%s': %s gateway without any %s 'address' in the segment",
				   s->name, fam_name[f], fam_name[f]);
	}
	if (s->mtu && s->mtu < 1280 && has_fam[1])
		cfg_report_at(true, s->file, s->line, errors,
			   "network '%s': mtu %u is below 1280, the minimum for IPv6 addresses", s->name, s->mtu);

	for (struct segment *o = st->segs; o != s; o = o->next) {
		if (!strcmp(o->netns, s->netns))
			cfg_report_at(true, s->file, s->line, errors,
				   "network '%s': namespace '%s' is already used by network '%s' at %s:%d",
				   s->name, s->netns, o->name, o->file, o->line);
		if (s->uplink == UPLINK_VETH && o->uplink == UPLINK_VETH && !strcmp(o->host_if, s->host_if))
			cfg_report_at(true, s->file, s->line, errors,
				   "network '%s': its host interface name '%s' is the same as that of network '%s' at %s:%d; rename one section",
				   s->name, s->host_if, o->name, o->file, o->line);
		if (s->uplink == UPLINK_MACVLAN && o->uplink == UPLINK_MACVLAN && !strcmp(o->tmp_if, s->tmp_if))
			cfg_report_at(true, s->file, s->line, errors,
				   "network '%s': its temporary interface name '%s' is the same as that of network '%s' at %s:%d; rename one section",
				   s->name, s->tmp_if, o->name, o->file, o->line);
	}
}

static bool ns_declared(struct netseg *st, const char *ns)
{
	return st && (netseg_seg_by_netns(st, ns) || netseg_decl_find(st->decls, ns));
}

/* A bind or server naming a namespace nothing declares: allowed (HAProxy
 * takes any /run/netns name), but it must exist at start-up. */
static int fin_ref(struct dp_config *c, const char *ns, const char *what, const char *file, int line,
		   int *errors)
{
	struct netseg *st = netseg_state_of(c);

	if (!ns_name_valid(ns)) {
		cfg_report_at(true, file, line, errors,
			   "%s: invalid namespace name '%s' (1 to %d printable characters, no '/' or spaces)",
			   what, ns, NS_NAME_MAX);
		return 0;
	}
	if (ns_declared(st, ns))
		return 0;
	if (!st && !(st = netseg_state_get(c)))
		return -ENOMEM;
	if (!netseg_decl_find(st->refs, ns)) {
		int e = 0;

		cfg_report_at(false, file, line, &e,
			   "%s uses namespace '%s', which no 'network' section or 'namespace_list' declares; it must exist in %s at start-up",
			   what, ns, NS_RUN_DIR);
		if (netseg_decl_add(&st->refs, ns, what, file, line) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int fin_refs(struct dp_config *c, int *errors)
{
	for (struct proxy *px = c->proxies; px; px = px->next) {
		for (struct bind_conf *bc = px->binds; bc; bc = bc->next) {
			char *what = NULL;
			int rc;

			if (!bc->netns)
				continue;
			if (memprintf(&what, "bind '%s' of %s '%s'", bc->spec ? bc->spec : "?",
				      (px->cap & PR_CAP_BE) ? "listen" : "frontend", px->name) < 0)
				return -ENOMEM;
			rc = fin_ref(c, bc->netns, what, bc->file ? bc->file : px->file, bc->line, errors);
			free(what);
			if (rc < 0)
				return rc;
		}
		for (struct server *s = px->srv; s; s = s->next) {
			char *what = NULL;
			int rc;

			if (!s->netns)
				continue;
			if (memprintf(&what, "server '%s/%s'", px->name, s->name) < 0)
				return -ENOMEM;
			rc = fin_ref(c, s->netns, what, s->file ? s->file : px->file, s->line, errors);
			free(what);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

static struct obj *plan_new(struct objv *plan, int type, const struct segment *s, const char *ns)
{
	struct obj *o = objv_add(plan);

	if (!o)
		return NULL;
	o->type = type;
	o->persist = s->persist;
	if (strdup_opt(&o->seg, s->name) < 0 || strdup_opt(&o->ns, ns) < 0) {
		obj_clear(o);
		plan->n--;
		return NULL;
	}
	return o;
}

static struct obj *plan_find_bridge(struct objv *plan, const char *dev)
{
	for (size_t i = 0; i < plan->n; i++)
		if (plan->v[i].type == OBJ_BRIDGE && !strcmp(plan->v[i].dev, dev))
			return &plan->v[i];
	return NULL;
}

#define IFCPY(dst, src) snprintf((dst), sizeof(dst), "%s", (src))

/* Appends the objects of one section, in creation order. */
static int plan_segment(struct objv *plan, const struct segment *s)
{
	struct obj *o;

	if (!plan_new(plan, OBJ_NETNS, s, s->netns))
		return -ENOMEM;
	if (s->uplink == UPLINK_VETH) {
		o = plan_find_bridge(plan, s->updev);
		if (o) {
			/* shared: it stays while any section using it persists */
			o->persist |= s->persist;
		} else {
			if (!(o = plan_new(plan, OBJ_BRIDGE, s, NULL)))
				return -ENOMEM;
			IFCPY(o->dev, s->updev);
		}
		if (!(o = plan_new(plan, OBJ_VETH, s, s->netns)))
			return -ENOMEM;
		IFCPY(o->dev, s->host_if);
		IFCPY(o->peer, NETSEG_NS_IF);
		IFCPY(o->parent, s->updev);
		o->mtu = s->mtu;
	} else if (s->uplink == UPLINK_MACVLAN) {
		if (!(o = plan_new(plan, OBJ_MACVLAN, s, s->netns)))
			return -ENOMEM;
		IFCPY(o->dev, NETSEG_NS_IF);
		IFCPY(o->peer, s->tmp_if);
		IFCPY(o->parent, s->updev);
		o->mtu = s->mtu;
	}
	if (s->vlan) {
		if (!(o = plan_new(plan, OBJ_VLAN, s, s->netns)))
			return -ENOMEM;
		IFCPY(o->dev, s->ns_if);
		IFCPY(o->parent, NETSEG_NS_IF);
		o->vlan = s->vlan;
	}
	for (size_t i = 0; i < s->naddrs; i++) {
		if (!(o = plan_new(plan, OBJ_ADDR, s, s->netns)))
			return -ENOMEM;
		IFCPY(o->dev, s->ns_if);
		o->family = s->addrs[i].family;
		o->ip = s->addrs[i].ip;
		o->plen = s->addrs[i].plen;
	}
	for (int f = 0; f < 2; f++) {
		if (!s->has_gw[f])
			continue;
		if (!(o = plan_new(plan, OBJ_ROUTE, s, s->netns)))
			return -ENOMEM;
		IFCPY(o->dev, s->ns_if);
		o->family = f ? AF_INET6 : AF_INET;
		o->ip = s->gw[f];
	}
	for (size_t i = 0; i < s->nsysctls; i++) {
		if (!(o = plan_new(plan, OBJ_SYSCTL, s, s->netns)))
			return -ENOMEM;
		if (strdup_opt(&o->key, s->sysctls[i].key) < 0 || strdup_opt(&o->val, s->sysctls[i].val) < 0)
			return -ENOMEM;
	}
	return 0;
}

int netseg_plan_build(struct netseg *st)
{
	netseg_objv_clear(&st->plan);
	for (struct segment *s = st->segs; s; s = s->next) {
		if (plan_segment(&st->plan, s) < 0) {
			netseg_objv_clear(&st->plan);
			return -ENOMEM;
		}
	}
	st->planned = true;
	return 0;
}

int netseg_finalize(struct dp_config *c)
{
	struct netseg *st = netseg_state_of(c);
	int errors = 0;

	if (st && st->planned)
		return 0;
	for (struct segment *s = st ? st->segs : NULL; s; s = s->next)
		fin_segment(st, s, &errors);
	for (struct nsdecl *d = st ? st->decls : NULL; d; d = d->next) {
		struct segment *s = netseg_seg_by_netns(st, d->name);

		if (s)
			cfg_report_at(false, d->file, d->line, &errors,
				   "namespace '%s' is also managed by network '%s' at %s:%d, which creates it if missing",
				   d->name, s->name, s->file, s->line);
	}
	if (fin_refs(c, &errors) < 0) {
		ha_alert("config : out of memory while checking namespaces");
		return errors + 1;
	}
	st = netseg_state_of(c);
	if (!errors && st && netseg_plan_build(st) < 0) {
		ha_alert("config : out of memory while planning network segments");
		errors++;
	}
	return errors;
}

/* ---- describing objects ------------------------------------------------- */

int netseg_obj_text(const struct obj *o, char *buf, size_t size)
{
	char ip[INET6_ADDRSTRLEN], mtu[24] = "";

	if (o->mtu)
		snprintf(mtu, sizeof(mtu), ", mtu %u", o->mtu);
	switch (o->type) {
	case OBJ_NETNS:
		return snprintf(buf, size, "namespace '%s'", o->ns);
	case OBJ_BRIDGE:
		return snprintf(buf, size, "bridge '%s'", o->dev);
	case OBJ_VETH:
		return snprintf(buf, size, "veth '%s' on bridge '%s', peer '%s' in namespace '%s'%s",
				o->dev, o->parent, o->peer, o->ns, mtu);
	case OBJ_MACVLAN:
		return snprintf(buf, size, "macvlan '%s' on '%s' (bridge mode) in namespace '%s'%s",
				o->dev, o->parent, o->ns, mtu);
	case OBJ_VLAN:
		return snprintf(buf, size, "vlan '%s' (id %d) on '%s' in namespace '%s'",
				o->dev, o->vlan, o->parent, o->ns);
	case OBJ_ADDR:
		return snprintf(buf, size, "address %s/%u on '%s' in namespace '%s'",
				ip_str(o->family, &o->ip, ip, sizeof(ip)), o->plen, o->dev, o->ns);
	case OBJ_ROUTE:
		return snprintf(buf, size, "default %s route via %s dev '%s' onlink in namespace '%s'",
				o->family == AF_INET6 ? "IPv6" : "IPv4",
				ip_str(o->family, &o->ip, ip, sizeof(ip)), o->dev, o->ns);
	case OBJ_SYSCTL:
		return snprintf(buf, size, "sysctl %s = %s in namespace '%s'", o->key, o->val, o->ns);
	}
	return snprintf(buf, size, "?");
}

bool netseg_in_use(const struct dp_config *c)
{
	return netseg_state_of(c) != NULL;
}

size_t netseg_plan_count(const struct dp_config *c)
{
	return netseg_state_of(c) ? netseg_state_of(c)->plan.n : 0;
}

int netseg_plan_text(const struct dp_config *c, size_t i, char *buf, size_t size)
{
	if (i >= netseg_plan_count(c))
		return -ENOENT;
	return netseg_obj_text(&netseg_state_of(c)->plan.v[i], buf, size);
}

int netseg_show(const struct dp_config *c, char **out)
{
	const struct netseg *st = netseg_state_of(c);
	char *s = strdup("");

	for (size_t i = 0; s && st && i < st->plan.n; i++) {
		const struct obj *o = &st->plan.v[i];
		char text[512];
		const char *state = !st->applied ? "planned" : !o->owned ? "kept" :
				    o->persist ? "persist" : o->adopted ? "adopted" : "created";

		netseg_obj_text(o, text, sizeof(text));
		if (memprintf(&s, "%s%s %s %s\n", s, o->seg, state, text) < 0)
			s = NULL;
	}
	*out = s;
	return s ? 0 : -ENOMEM;
}
