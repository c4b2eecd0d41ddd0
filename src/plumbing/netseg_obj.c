/* netseg_obj.c — one plan object against the system. Apply looks each
 * object up and keeps it (found as configured), creates it (missing), or
 * reports what is in the way, naming the object; removal deletes it, or on
 * undo restores what the last apply changed (sysctl value, replaced
 * route). A link or namespace it creates gets the run's mark; one found
 * with the mark of a run that is gone is adopted (net/owner.h). Every
 * system call goes through the struct netseg_sys table (netseg_sys.c), so
 * unit tests run all of this against a model.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_link.h>

#include "log/msg.h"
#include "net/nl.h"
#include "net/owner.h"
#include "plumbing/netseg.h"
#include "plumbing/netseg_int.h"

/* Addresses listed per look-up before growing the buffer. */
#define NETSEG_ADDR_CHUNK 256
/* Upper bound on addresses listed in one namespace; beyond it we refuse
 * rather than allocate without limit. */
#define NETSEG_ADDR_LIMIT 65536

/* ---- apply: keep, create or report each object -------------------------- */

/* Sysctl values compare as words: "4096 87380" equals "4096\t87380". */
static bool sysctl_val_eq(const char *a, const char *b)
{
	for (;;) {
		while (isspace((unsigned char)*a))
			a++;
		while (isspace((unsigned char)*b))
			b++;
		if (!*a || !*b)
			return !*a && !*b;
		while (*a && !isspace((unsigned char)*a)) {
			if (*a != *b)
				return false;
			a++;
			b++;
		}
		if (*b && !isspace((unsigned char)*b))
			return false;
	}
}

static int fail(const struct obj *o, char **err, int rc, const char *fmt, ...) DP_PRINTF(4, 5);
static int fail(const struct obj *o, char **err, int rc, const char *fmt, ...)
{
	va_list ap;
	char *m = NULL;

	va_start(ap, fmt);
	vmemprintf(&m, fmt, ap);
	va_end(ap);
	memprintf(err, "network '%s': %s", o->seg, m ? m : "out of memory");
	free(m);
	return rc < 0 ? rc : -EIO;
}

static const char *kind_desc(const char *kind, char *buf, size_t size)
{
	if (!kind[0])
		return "a device without link kind";
	snprintf(buf, size, "a %s link", kind);
	return buf;
}

/* Looks a link up: its index (> 0), 0 when absent, or -errno (*e set). */
static int link_lookup(struct run *r, const char *ns, const char *name, struct nl_link_info *li, char **e)
{
	int rc = SYS(link_get)(r->ctx, ns, name, li, e);

	if (rc == -ENODEV) {
		free(*e);
		*e = NULL;
		return 0;
	}
	return rc;
}

/* Brings a link to the configured state: up, enslaved, MTU, and our mark
 * as its alias (mark NULL: leave the alias). These are properties, not
 * objects: they are set, never recorded or undone. */
static int link_fix(struct run *r, const char *ns, const struct nl_link_info *li, int master, unsigned mtu,
		    const char *mark, char **e)
{
	struct nl_link_change ch = NL_LINK_CHANGE_INIT;
	bool any = false;

	if (mark && strcmp(li->alias, mark)) {
		ch.alias = mark;
		any = true;
	}
	if (!(li->flags & IFF_UP)) {
		ch.up = 1;
		any = true;
	}
	if (master > 0 && li->master != master) {
		ch.master = master;
		any = true;
	}
	if (mtu && li->mtu != mtu) {
		ch.mtu = mtu;
		any = true;
	}
	return any ? SYS(link_change)(r->ctx, ns, li->index, &ch, e) : 0;
}

/* Records that this pass created o: from here on a failure rolls it back. */
static int made(struct run *r, struct obj *o)
{
	o->owned = o->fresh = true;
	r->created++;
	return 1;
}

static int sys_alive(void *ctx, const char *mark)
{
	struct run *r = ctx;

	return SYS(mark_alive)(r->ctx, mark);
}

/* Who made a link (or namespace, through its lo) whose alias is alias. */
static enum owner_verdict judge(struct run *r, const char *alias)
{
	return owner_judge(alias, r->self, sys_alive, r);
}

void netseg_adopt(struct run *r, struct obj *o)
{
	(void)r;
	o->owned = o->adopted = o->adopted_now = true;
}

/* o exists as configured and this pass did not create it; li is the link
 * that carries its mark. Adopts it when an earlier run that is gone made
 * it, takes it as ours when this run did. Returns the mark to write on it
 * (ours, when adopted), or NULL to leave it as it is. */
static const char *keep_or_adopt(struct run *r, struct obj *o, const struct nl_link_info *li)
{
	switch (judge(r, li->alias)) {
	case OWNER_ORPHAN:
		netseg_adopt(r, o);
		return r->self;
	case OWNER_SELF:
		o->owned = true;
		return NULL;
	case OWNER_LIVE:
	case OWNER_FOREIGN:
		break;
	}
	return NULL;
}

static int ensure_netns(struct run *r, struct obj *o)
{
	struct nl_link_info li;
	char *e = NULL;
	int rc, ret = 0;

	rc = SYS(ns_exists)(r->ctx, o->ns);
	if (rc < 0)
		return fail(o, r->err, rc, "cannot look for namespace '%s': %s", o->ns, strerror(-rc));
	if (rc == 0) {
		rc = SYS(ns_create)(r->ctx, o->ns, &e);
		if (rc < 0)
			goto out;
		ret = made(r, o);
	}
	rc = SYS(ns_hold)(r->ctx, o->ns, &e);
	if (rc < 0)
		goto out;
	/* A fresh namespace has lo down: nothing could bind 127.0.0.1. Its
	 * alias holds the namespace's mark. */
	rc = link_lookup(r, o->ns, "lo", &li, &e);
	if (rc > 0) {
		const char *mark = ret ? r->self : keep_or_adopt(r, o, &li);
		bool down = !(li.flags & IFF_UP);

		rc = link_fix(r, o->ns, &li, 0, 0, mark, &e);
		if (rc >= 0 && down && !ret)
			ha_notice("network '%s': brought 'lo' up in namespace '%s' (it was down)", o->seg, o->ns);
	}
out:
	if (rc < 0)
		ret = fail(o, r->err, rc, "%s", e ? e : strerror(-rc));
	free(e);
	return ret;
}

static int ensure_bridge(struct run *r, struct obj *o)
{
	struct nl_link_info li;
	char *e = NULL, kb[64];
	int rc, ret = 0;

	rc = link_lookup(r, NULL, o->dev, &li, &e);
	if (rc > 0 && strcmp(li.kind, "bridge")) {
		ret = fail(o, r->err, -EEXIST, "interface '%s' in the host namespace is %s, not a bridge",
			   o->dev, kind_desc(li.kind, kb, sizeof(kb)));
		goto done;
	}
	if (rc == 0) {
		rc = SYS(bridge_add)(r->ctx, o->dev, &e);
		if (rc < 0)
			goto out;
		ret = made(r, o);
		rc = link_lookup(r, NULL, o->dev, &li, &e);
		if (rc == 0)
			rc = -ENODEV;
	}
	if (rc > 0)
		rc = link_fix(r, NULL, &li, 0, 0, ret ? r->self : keep_or_adopt(r, o, &li), &e);
out:
	if (rc < 0)
		ret = fail(o, r->err, rc, "%s", e ? e : strerror(-rc));
done:
	free(e);
	return ret;
}

/* Both ends of the segment's veth as they should be after creation; the
 * host end carries the mark (NULL: left as it is). */
static int veth_fix(struct run *r, struct obj *o, int bridge, const char *mark, char **e)
{
	struct nl_link_info hl, pl;
	int rc;

	rc = link_lookup(r, NULL, o->dev, &hl, e);
	if (rc <= 0)
		return rc ? rc : -ENODEV;
	rc = link_fix(r, NULL, &hl, bridge, o->mtu, mark, e);
	if (rc < 0)
		return rc;
	rc = link_lookup(r, o->ns, o->peer, &pl, e);
	if (rc <= 0)
		return rc ? rc : -ENODEV;
	return link_fix(r, o->ns, &pl, 0, o->mtu, NULL, e);
}

/* Looks a link up and brings it to the configured state. 0 or -errno. */
static int link_settle(struct run *r, const char *ns, const char *name, unsigned mtu, const char *mark,
		       char **e)
{
	struct nl_link_info li;
	int rc = link_lookup(r, ns, name, &li, e);

	if (rc == 0 && !*e)
		memprintf(e, "link '%s' vanished while being set up", name);
	if (rc <= 0)
		return rc ? rc : -ENODEV;
	return link_fix(r, ns, &li, 0, mtu, mark, e);
}

static int ensure_veth(struct run *r, struct obj *o)
{
	struct nl_link_info br, hl, pl;
	const char *mark = NULL;
	char *e = NULL, kb[64];
	int rc, h, p, ret = 0;

	rc = link_lookup(r, NULL, o->parent, &br, &e);
	if (rc <= 0) {
		ret = fail(o, r->err, rc ? rc : -ENODEV, "bridge '%s': %s", o->parent,
			   e ? e : "missing in the host namespace");
		goto done;
	}
	rc = h = link_lookup(r, NULL, o->dev, &hl, &e);
	if (h < 0)
		goto err_sys;
	rc = p = link_lookup(r, o->ns, o->peer, &pl, &e);
	if (p < 0)
		goto err_sys;
	if (h > 0 && strcmp(hl.kind, "veth")) {
		ret = fail(o, r->err, -EEXIST, "interface '%s' in the host namespace is %s, not this segment's veth",
			   o->dev, kind_desc(hl.kind, kb, sizeof(kb)));
		goto done;
	}
	if (h > 0 && (p == 0 || strcmp(pl.kind, "veth") || pl.link != hl.index)) {
		ret = fail(o, r->err, -EEXIST,
			   "veth '%s' exists in the host namespace but its peer is not '%s' in namespace '%s'",
			   o->dev, o->peer, o->ns);
		goto done;
	}
	if (h == 0 && p > 0) {
		ret = fail(o, r->err, -EEXIST, "namespace '%s' already has an interface '%s' (%s), not the peer of '%s'",
			   o->ns, o->peer, kind_desc(pl.kind, kb, sizeof(kb)), o->dev);
		goto done;
	}
	if (h == 0) {
		rc = SYS(veth_add)(r->ctx, o->dev, o->peer, o->ns, &e);
		if (rc < 0)
			goto err_sys;
		ret = made(r, o);
		mark = r->self;
	} else {
		mark = keep_or_adopt(r, o, &hl);
	}
	rc = veth_fix(r, o, br.index, mark, &e);
	if (rc < 0)
		goto err_sys;
	goto done;
err_sys:
	ret = fail(o, r->err, rc < 0 ? rc : -EIO, "%s", e ? e : "system error");
done:
	free(e);
	return ret;
}

static int ensure_macvlan(struct run *r, struct obj *o)
{
	struct nl_link_info par, pl, tl;
	char *e = NULL, *e2 = NULL, kb[64];
	int rc, ret = 0;

	rc = link_lookup(r, NULL, o->parent, &par, &e);
	if (rc == 0) {
		ret = fail(o, r->err, -ENODEV, "uplink parent '%s' does not exist in the host namespace", o->parent);
		goto done;
	}
	if (rc < 0)
		goto err_sys;
	rc = link_lookup(r, o->ns, o->dev, &pl, &e);
	if (rc < 0)
		goto err_sys;
	if (rc > 0) {
		if (strcmp(pl.kind, "macvlan") || pl.link != par.index || pl.macvlan_mode != MACVLAN_MODE_BRIDGE) {
			ret = fail(o, r->err, -EEXIST,
				   "namespace '%s' already has an interface '%s' (%s) that is not a bridge-mode macvlan on '%s'",
				   o->ns, o->dev, kind_desc(pl.kind, kb, sizeof(kb)), o->parent);
			goto done;
		}
		rc = link_fix(r, o->ns, &pl, 0, o->mtu, keep_or_adopt(r, o, &pl), &e);
		if (rc < 0)
			goto err_sys;
		goto done;
	}
	rc = link_lookup(r, NULL, o->peer, &tl, &e);
	if (rc > 0) {
		ret = fail(o, r->err, -EEXIST, "temporary interface name '%s' is taken in the host namespace by %s",
			   o->peer, kind_desc(tl.kind, kb, sizeof(kb)));
		goto done;
	}
	if (rc < 0)
		goto err_sys;
	rc = SYS(macvlan_add)(r->ctx, o->peer, par.index, &e);
	if (rc < 0)
		goto err_sys;
	rc = link_lookup(r, NULL, o->peer, &tl, &e);
	if (rc <= 0)
		goto err_sys;
	/* Moved and renamed in one request: it never exists as eth0 in the
	 * host namespace, and never under the temporary name in the segment. */
	rc = SYS(link_move)(r->ctx, tl.index, o->ns, o->dev, &e);
	if (rc < 0) {
		SYS(link_del)(r->ctx, NULL, tl.index, &e2);
		free(e2);
		goto err_sys;
	}
	ret = made(r, o);
	rc = link_settle(r, o->ns, o->dev, o->mtu, r->self, &e);
	if (rc < 0)
		goto err_sys;
	goto done;
err_sys:
	ret = fail(o, r->err, rc < 0 ? rc : -ENODEV, "%s", e ? e : "link vanished while being set up");
done:
	free(e);
	return ret;
}

static int ensure_vlan(struct run *r, struct obj *o)
{
	struct nl_link_info vl, bl;
	char *e = NULL, kb[64];
	int rc, ret = 0;

	rc = link_lookup(r, o->ns, o->dev, &vl, &e);
	if (rc < 0)
		goto err_sys;
	if (rc > 0) {
		if (strcmp(vl.kind, "vlan") || vl.vlan_id != o->vlan) {
			ret = fail(o, r->err, -EEXIST,
				   "namespace '%s' already has an interface '%s' (%s) that is not VLAN %d",
				   o->ns, o->dev, kind_desc(vl.kind, kb, sizeof(kb)), o->vlan);
			goto done;
		}
		rc = link_fix(r, o->ns, &vl, 0, 0, keep_or_adopt(r, o, &vl), &e);
		if (rc < 0)
			goto err_sys;
		goto done;
	}
	rc = link_lookup(r, o->ns, o->parent, &bl, &e);
	if (rc == 0)
		memprintf(&e, "base link '%s' missing in namespace '%s'", o->parent, o->ns);
	if (rc <= 0)
		goto err_sys;
	rc = SYS(vlan_add)(r->ctx, o->ns, o->dev, bl.index, o->vlan, &e);
	if (rc < 0)
		goto err_sys;
	ret = made(r, o);
	rc = link_settle(r, o->ns, o->dev, 0, r->self, &e);
	if (rc < 0)
		goto err_sys;
	goto done;
err_sys:
	ret = fail(o, r->err, rc < 0 ? rc : -ENODEV, "%s", e ? e : "link missing");
done:
	free(e);
	return ret;
}

/* Every address of ns, in *out (the caller frees). Returns the count. */
static int addrs_get(struct run *r, const char *ns, struct nl_addr_entry **out, char **e)
{
	size_t max = NETSEG_ADDR_CHUNK;
	struct nl_addr_entry *v = NULL;
	int rc;

	for (int tries = 0; tries < 4; tries++) {
		struct nl_addr_entry *nv = realloc(v, max * sizeof(*v));

		if (!nv) {
			free(v);
			return -ENOMEM;
		}
		v = nv;
		rc = SYS(addr_list)(r->ctx, ns, v, max, e);
		if (rc < 0 || (size_t)rc <= max)
			break;
		/* grew between two dumps: try again with what it said */
		if ((size_t)rc > NETSEG_ADDR_LIMIT) {
			rc = -E2BIG;
			break;
		}
		max = (size_t)rc + 16;
	}
	if (rc >= 0 && (size_t)rc > max)
		rc = -EAGAIN;
	if (rc < 0) {
		free(v);
		return rc;
	}
	*out = v;
	return rc;
}

static int ensure_addr(struct run *r, struct obj *o)
{
	struct nl_addr_entry *v = NULL;
	struct nl_link_info li;
	char *e = NULL, ip[INET6_ADDRSTRLEN];
	int rc, n, idx, ret = 0;

	ip_str(o->family, &o->ip, ip, sizeof(ip));
	idx = link_lookup(r, o->ns, o->dev, &li, &e);
	if (idx <= 0) {
		ret = fail(o, r->err, idx ? idx : -ENODEV, "address %s/%u: %s", ip, o->plen,
			   e ? e : "its interface is missing");
		goto done;
	}
	n = addrs_get(r, o->ns, &v, &e);
	if (n < 0) {
		ret = fail(o, r->err, n, "cannot list the addresses of namespace '%s': %s", o->ns,
			   e ? e : strerror(-n));
		goto done;
	}
	for (int i = 0; i < n; i++) {
		if (v[i].family != o->family || memcmp(&v[i].addr, &o->ip, fam_len(o->family)))
			continue;
		if (v[i].ifindex == idx && v[i].prefixlen == o->plen)
			goto done;      /* kept */
		if (v[i].ifindex == idx)
			ret = fail(o, r->err, -EEXIST, "address %s is already on '%s' in namespace '%s' as /%u, not /%u",
				   ip, o->dev, o->ns, v[i].prefixlen, o->plen);
		else
			ret = fail(o, r->err, -EEXIST,
				   "address %s is already on another interface (index %d) in namespace '%s'",
				   ip, v[i].ifindex, o->ns);
		goto done;
	}
	/* No DAD: the address must be usable by listeners at once. */
	rc = SYS(addr_add)(r->ctx, o->ns, idx, o->family, &o->ip, o->plen,
			   o->family == AF_INET6 ? NL_ADDR_NODAD : 0, &e);
	if (rc < 0)
		ret = fail(o, r->err, rc, "%s", e ? e : strerror(-rc));
	else
		ret = made(r, o);
done:
	free(v);
	free(e);
	return ret;
}

static void route_of(const struct obj *o, int oif, const union nl_ip *gw, struct nl_route *rte)
{
	memset(rte, 0, sizeof(*rte));
	rte->family = o->family;
	rte->has_gw = true;
	rte->gw = *gw;
	rte->oif = oif;
	/* onlink: the gateway need not be inside one of our prefixes */
	rte->onlink = true;
}

/* Our own default route of another generation, with another gateway or
 * device, that the new one replaces. */
static const struct obj *old_route(struct run *r, const struct obj *o)
{
	for (size_t i = 0; r->old && i < r->old->plan.n; i++) {
		const struct obj *oo = &r->old->plan.v[i];

		if (oo->type == OBJ_ROUTE && oo->owned && oo->family == o->family && str_eq(oo->ns, o->ns))
			return oo;
	}
	return NULL;
}

static int ensure_route(struct run *r, struct obj *o)
{
	struct nl_link_info li;
	struct nl_route rte, ort;
	const struct obj *oo;
	char *e = NULL, ip[INET6_ADDRSTRLEN];
	int rc, idx, ret = 0;

	ip_str(o->family, &o->ip, ip, sizeof(ip));
	idx = link_lookup(r, o->ns, o->dev, &li, &e);
	if (idx <= 0) {
		ret = fail(o, r->err, idx ? idx : -ENODEV, "default route via %s: %s", ip,
			   e ? e : "its interface is missing");
		goto done;
	}
	route_of(o, idx, &o->ip, &rte);
	rc = SYS(route_exists)(r->ctx, o->ns, &rte, &e);
	if (rc > 0)
		goto done;
	if (rc == 0)
		rc = SYS(route_add)(r->ctx, o->ns, &rte, &e);
	if (rc == -EEXIST && (oo = old_route(r, o)) && !netseg_find_same(&r->st->plan, oo)) {
		/* A reload changed the gateway of a route we own: swap it. */
		struct nl_link_info ol;
		int oidx = link_lookup(r, o->ns, oo->dev, &ol, &e);

		route_of(oo, oidx > 0 ? oidx : 0, &oo->ip, &ort);
		free(e);
		e = NULL;
		rc = SYS(route_del)(r->ctx, o->ns, &ort, &e);
		if (rc == 0) {
			rc = SYS(route_add)(r->ctx, o->ns, &rte, &e);
			if (rc == 0) {
				o->replaced = true;
				IFCPY(o->rep_dev, oo->dev);
				o->rep_gw = oo->ip;
			} else {
				char *e2 = NULL;

				SYS(route_add)(r->ctx, o->ns, &ort, &e2);
				free(e2);
			}
		}
	}
	if (rc == -EEXIST)
		ret = fail(o, r->err, rc, "namespace '%s' already has a default %s route that is not via %s dev '%s'",
			   o->ns, o->family == AF_INET6 ? "IPv6" : "IPv4", ip, o->dev);
	else if (rc < 0)
		ret = fail(o, r->err, rc, "%s", e ? e : strerror(-rc));
	else
		ret = made(r, o);
done:
	free(e);
	return ret;
}

static int ensure_sysctl(struct run *r, struct obj *o)
{
	const struct obj *oo = r->old ? netseg_find_same(&r->old->plan, o) : NULL;
	char *cur = malloc(NETSEG_SYSCTL_MAX), *e = NULL;
	int rc, ret = 0;

	if (!cur)
		return fail(o, r->err, -ENOMEM, "out of memory");
	rc = SYS(sysctl_get)(r->ctx, o->ns, o->key, cur, NETSEG_SYSCTL_MAX, &e);
	if (rc < 0)
		goto out;
	if (sysctl_val_eq(cur, o->val))
		goto out;       /* kept */
	free(o->prev_val);
	free(o->orig_val);
	o->prev_val = strdup(cur);
	/* across reloads, remember what was there before decoyproxy */
	o->orig_val = strdup(oo && oo->owned && oo->orig_val ? oo->orig_val : cur);
	if (!o->prev_val || !o->orig_val) {
		rc = -ENOMEM;
		goto out;
	}
	rc = SYS(sysctl_set)(r->ctx, o->ns, o->key, o->val, &e);
	if (rc == 0)
		ret = made(r, o);
out:
	if (rc < 0)
		ret = fail(o, r->err, rc, "%s", e ? e : strerror(-rc));
	free(cur);
	free(e);
	return ret;
}

int netseg_ensure(struct run *r, struct obj *o)
{
	switch (o->type) {
	case OBJ_NETNS: return ensure_netns(r, o);
	case OBJ_BRIDGE: return ensure_bridge(r, o);
	case OBJ_VETH: return ensure_veth(r, o);
	case OBJ_MACVLAN: return ensure_macvlan(r, o);
	case OBJ_VLAN: return ensure_vlan(r, o);
	case OBJ_ADDR: return ensure_addr(r, o);
	case OBJ_ROUTE: return ensure_route(r, o);
	case OBJ_SYSCTL: return ensure_sysctl(r, o);
	}
	return -EINVAL;
}

/* Same system object (identity, not every property). */
static bool obj_same(const struct obj *a, const struct obj *b)
{
	if (a->type != b->type || !str_eq(a->ns, b->ns))
		return false;
	switch (a->type) {
	case OBJ_NETNS:
		return true;
	case OBJ_BRIDGE:
	case OBJ_MACVLAN:
	case OBJ_VLAN:
		return !strcmp(a->dev, b->dev);
	case OBJ_VETH:
		return !strcmp(a->dev, b->dev) && !strcmp(a->peer, b->peer);
	case OBJ_ADDR:
		return !strcmp(a->dev, b->dev) && a->family == b->family && a->plen == b->plen &&
		       !memcmp(&a->ip, &b->ip, fam_len(a->family));
	case OBJ_ROUTE:
		return !strcmp(a->dev, b->dev) && a->family == b->family &&
		       !memcmp(&a->ip, &b->ip, fam_len(a->family));
	case OBJ_SYSCTL:
		return !strcmp(a->key, b->key);
	}
	return false;
}

const struct obj *netseg_find_same(const struct objv *v, const struct obj *o)
{
	for (size_t i = 0; v && i < v->n; i++)
		if (obj_same(&v->v[i], o))
			return &v->v[i];
	return NULL;
}

bool netseg_container_adopted(const struct netseg *st, const struct obj *o)
{
	for (size_t i = 0; i < st->plan.n && &st->plan.v[i] != o; i++) {
		const struct obj *c = &st->plan.v[i];

		if (!c->adopted_now || !str_eq(c->ns, o->ns))
			continue;
		if (c->type == OBJ_NETNS)
			return true;
		if (o->type == OBJ_SYSCTL)
			continue;
		/* the link the address or route is on: the veth's peer, the
		 * macvlan or the vlan link */
		if ((c->type == OBJ_VETH && !strcmp(c->peer, o->dev)) ||
		    ((c->type == OBJ_MACVLAN || c->type == OBJ_VLAN) && !strcmp(c->dev, o->dev)))
			return true;
	}
	return false;
}

/* An object found as configured: ours if the previous generation made it,
 * or adopted (by netseg_ensure(), or here with its container). */
void netseg_inherit(struct run *r, struct obj *o)
{
	const struct obj *oo = r->old ? netseg_find_same(&r->old->plan, o) : NULL;

	if (!o->owned && !(oo && oo->owned) &&
	    (o->type == OBJ_ADDR || o->type == OBJ_ROUTE || o->type == OBJ_SYSCTL) &&
	    netseg_container_adopted(r->st, o))
		netseg_adopt(r, o);
	if (o->adopted_now) {
		r->adopted++;
		return;
	}
	r->kept++;
	if (!oo || !oo->owned)
		return;
	o->owned = true;
	o->adopted = oo->adopted;
	if (o->type == OBJ_SYSCTL && oo->orig_val && !o->orig_val)
		o->orig_val = strdup(oo->orig_val);
}

int netseg_probe(struct run *r, struct obj *o)
{
	static const char *const kind[] = {
		[OBJ_BRIDGE] = "bridge", [OBJ_VETH] = "veth", [OBJ_MACVLAN] = "macvlan", [OBJ_VLAN] = "vlan",
	};
	struct nl_link_info li;
	char *e = NULL;
	int rc;

	switch (o->type) {
	case OBJ_NETNS:
		rc = SYS(ns_exists)(r->ctx, o->ns);
		if (rc > 0) {
			rc = SYS(ns_hold)(r->ctx, o->ns, &e);
			if (rc == 0)
				rc = link_lookup(r, o->ns, "lo", &li, &e);
		}
		break;
	case OBJ_BRIDGE:
	case OBJ_VETH:
		rc = link_lookup(r, NULL, o->dev, &li, &e);
		break;
	case OBJ_MACVLAN:
	case OBJ_VLAN:
		/* inside the namespace, which may be gone already */
		rc = SYS(ns_exists)(r->ctx, o->ns);
		if (rc > 0)
			rc = link_lookup(r, o->ns, o->dev, &li, &e);
		break;
	default:
		return -ENOENT;
	}
	if (rc < 0 && rc != -ENOENT) {
		fail(o, r->err, rc, "%s", e ? e : strerror(-rc));
		free(e);
		return rc;
	}
	free(e);
	if (rc <= 0)
		return -ENOENT;
	if (o->type != OBJ_NETNS && strcmp(li.kind, kind[o->type]))
		return OWNER_FOREIGN;
	return (int)judge(r, li.alias);
}

/* ---- removal of one object ---------------------------------------------- */

/* Deletes link `name` of namespace ns if it is of `kind`. 0 when gone. */
static int link_remove(void *ctx, const char *ns, const char *name, const char *kind, char **e)
{
	struct nl_link_info li;
	int rc = SYS(link_get)(ctx, ns, name, &li, e);

	if (rc == -ENODEV || (rc > 0 && strcmp(li.kind, kind)))
		return 0;       /* gone already, or someone else's now */
	if (rc < 0)
		return rc;
	return SYS(link_del)(ctx, ns, li.index, e);
}

/* Undoes one object. undo: restore the state before the last apply
 * (previous sysctl value, replaced route) rather than before decoyproxy. */
int netseg_obj_remove(void *ctx, struct obj *o, bool undo, char **e)
{
	struct nl_link_info li;
	struct nl_route rte;
	int rc;

	switch (o->type) {
	case OBJ_NETNS:
		return SYS(ns_delete)(ctx, o->ns, e);
	case OBJ_BRIDGE:
		return link_remove(ctx, NULL, o->dev, "bridge", e);
	case OBJ_VETH:
		/* deleting the host end takes the peer with it */
		return link_remove(ctx, NULL, o->dev, "veth", e);
	case OBJ_MACVLAN:
		return link_remove(ctx, o->ns, o->dev, "macvlan", e);
	case OBJ_VLAN:
		return link_remove(ctx, o->ns, o->dev, "vlan", e);
	case OBJ_ADDR:
		rc = SYS(link_get)(ctx, o->ns, o->dev, &li, e);
		if (rc > 0)
			rc = SYS(addr_del)(ctx, o->ns, li.index, o->family, &o->ip, o->plen, e);
		return rc;
	case OBJ_ROUTE:
		rc = SYS(link_get)(ctx, o->ns, o->dev, &li, e);
		if (rc <= 0)
			return rc;
		route_of(o, li.index, &o->ip, &rte);
		rc = SYS(route_del)(ctx, o->ns, &rte, e);
		if (rc == 0 && undo && o->replaced) {
			rc = SYS(link_get)(ctx, o->ns, o->rep_dev, &li, e);
			if (rc > 0) {
				route_of(o, li.index, &o->rep_gw, &rte);
				rc = SYS(route_add)(ctx, o->ns, &rte, e);
			}
		}
		return rc;
	case OBJ_SYSCTL:
		if (undo ? !o->prev_val : !o->orig_val)
			return 0;
		return SYS(sysctl_set)(ctx, o->ns, o->key, undo ? o->prev_val : o->orig_val, e);
	}
	return -EINVAL;
}
