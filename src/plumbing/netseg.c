/* netseg.c — network segments (`network` sections) and HAProxy's
 * `namespace_list`: the generation's state and the reconciler.
 *
 * Three stages, kept apart so that each can be checked on its own:
 *   1. parsing and finalize: sections become a plan, an ordered array of
 *      system objects, without touching the system (`decoyproxy -c`;
 *      netseg_kw.c, netseg_plan.c);
 *   2. apply: each object is looked up and kept, created, or reported as a
 *      conflict (netseg_obj.c); objects created by this call are rolled
 *      back on failure;
 *   3. removal (stop, reload, failed reload): only what this process owns
 *      (created, or adopted from a run that is gone), in reverse order;
 *      `--cleanup` removes what runs that are gone left, without applying.
 * This file holds the passes of stages 2 and 3 (netseg_apply, _commit,
 * _undo, _remove, _cleanup) and the per-generation state they work on.
 * Stages 2 and 3 reach the system only through a `struct netseg_sys` table
 * (netlink and /run/netns at run time, netseg_sys.c; an in-memory model in
 * unit tests).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model/conf.h"
#include "net/ns.h"
#include "net/nscache.h"
#include "net/owner.h"
#include "plumbing/netseg.h"
#include "plumbing/netseg_int.h"
#include "log/msg.h"

/* ---- state -------------------------------------------------------------- */

static void netseg_ext_free(struct dp_config *c, struct conf_ext *e);
static const struct conf_ext_ops netseg_ext_ops = { "network segments", netseg_ext_free };

/* c's segment state, or NULL when c has none. */
struct netseg *netseg_state_of(const struct dp_config *c)
{
	struct conf_ext *e = conf_ext_find(c, &netseg_ext_ops);

	return e ? container_of(e, struct netseg, ext) : NULL;
}

struct netseg *netseg_state_get(struct dp_config *c)
{
	struct netseg *st = netseg_state_of(c);

	if (st)
		return st;
	st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	st->ext.ops = &netseg_ext_ops;
	st->nsc = c->nscache;
	conf_ext_add(c, &st->ext);
	return st;
}

static void nl_release(struct netseg *st)
{
	ns_cache_release_rtnl(st->nsc);
}

static void netseg_free_all(struct netseg *st)
{
	if (!st)
		return;
	while (st->segs) {
		struct segment *n = st->segs->next;

		netseg_segment_free(st->segs);
		st->segs = n;
	}
	netseg_decls_free(st->decls);
	netseg_decls_free(st->refs);
	netseg_objv_clear(&st->plan);
	netseg_objv_clear(&st->stale);
	nl_release(st);
	free(st);
}

static void netseg_ext_free(struct dp_config *c, struct conf_ext *e)
{
	(void)c;
	netseg_free_all(container_of(e, struct netseg, ext));
}

/* ---- removal passes ----------------------------------------------------- */

enum { SEL_OWNED, SEL_FRESH, SEL_ALL };

static bool selected(const struct obj *o, int sel)
{
	if (sel == SEL_OWNED)
		return o->owned && !o->persist;
	if (sel == SEL_FRESH)
		return o->fresh;
	return true;
}

/* True when the same pass also removes namespace ns: what lives only
 * inside it (addresses, routes, sysctls) goes with it. */
static bool ns_dying(const struct obj *v, size_t n, int sel, const char *ns)
{
	for (size_t i = 0; ns && i < n; i++)
		if (v[i].type == OBJ_NETNS && selected(&v[i], sel) && str_eq(v[i].ns, ns))
			return true;
	return false;
}

/* Whatever the reason, these mean "already gone". */
static bool gone(int rc)
{
	return rc == -ENODEV || rc == -ENOENT || rc == -ESRCH || rc == -EADDRNOTAVAIL;
}

/* Removes the selected objects of v in reverse order. Returns the number of
 * failures (each reported as a warning). */
static unsigned remove_pass(struct netseg *st, struct objv *v, int sel, const char *verb)
{
	void *ctx = netseg_sys_ctx(st);
	unsigned failed = 0;

	for (size_t i = v->n; i-- > 0;) {
		struct obj *o = &v->v[i];
		char text[512], *e = NULL;
		int rc;

		if (!selected(o, sel))
			continue;
		netseg_obj_text(o, text, sizeof(text));
		if ((o->type == OBJ_ADDR || o->type == OBJ_ROUTE || o->type == OBJ_SYSCTL) &&
		    ns_dying(v->v, v->n, sel, o->ns)) {
			ha_debug("network '%s': %s goes with its namespace", o->seg, text);
		} else {
			rc = netseg_obj_remove(ctx, o, sel == SEL_FRESH, &e);
			if (rc < 0 && !gone(rc)) {
				ha_warning("network '%s': cannot remove %s: %s", o->seg, text, e ? e : strerror(-rc));
				failed++;
			} else {
				ha_notice("network '%s': %s %s", o->seg, verb, text);
			}
		}
		free(e);
		o->owned = o->fresh = false;
	}
	return failed;
}

/* Removes what a generation scheduled for removal and forgets it. */
static void stale_flush(struct netseg *st)
{
	if (!st || !st->stale.n)
		return;
	remove_pass(st, &st->stale, SEL_ALL, "removed");
	netseg_objv_clear(&st->stale);
	nl_release(st);
}

/* What old owns and st no longer plans (persist aside) goes to st->stale:
 * st is responsible for removing it once in service. */
static int stale_compute(struct netseg *st, struct netseg *old)
{
	for (size_t i = 0; old && i < old->plan.n; i++) {
		const struct obj *oo = &old->plan.v[i];

		if (!oo->owned || oo->persist || netseg_find_same(&st->plan, oo))
			continue;
		if (netseg_objv_add_copy(&st->stale, oo) < 0)
			return -ENOMEM;
	}
	return 0;
}

static bool has_owned(const struct netseg *st)
{
	for (size_t i = 0; st && i < st->plan.n; i++)
		if (st->plan.v[i].owned && !st->plan.v[i].persist)
			return true;
	return false;
}

/* ---- apply, commit, undo, remove ---------------------------------------- */

/* Namespaces that must exist already: namespace_list lines and bind/server
 * names that no section creates. Their fds are opened now, once. */
static int check_declared(struct run *r, struct nsdecl *list)
{
	for (struct nsdecl *d = list; d; d = d->next) {
		char *e = NULL;
		int rc;

		if (netseg_seg_by_netns(r->st, d->name))
			continue;
		rc = SYS(ns_exists)(r->ctx, d->name);
		if (rc == 0) {
			memprintf(r->err, "namespace '%s' (%s at %s:%d) does not exist in %s%s", d->name, d->what,
				  d->file, d->line, NS_RUN_DIR,
				  strcmp(d->what, "namespace_list") ? "" :
				  "; namespace_list only declares namespaces, a 'network' section creates one");
			return -ENOENT;
		}
		if (rc > 0)
			rc = SYS(ns_hold)(r->ctx, d->name, &e);
		if (rc < 0) {
			memprintf(r->err, "namespace '%s' (%s at %s:%d): %s", d->name, d->what, d->file, d->line,
				  e ? e : strerror(-rc));
			free(e);
			return rc;
		}
	}
	return 0;
}

static void announce(struct run *r)
{
	size_t nsegs = 0;

	for (struct segment *s = r->st->segs; s; s = s->next)
		nsegs++;
	for (size_t i = 0; i < r->st->plan.n; i++) {
		const struct obj *o = &r->st->plan.v[i];
		char text[512];

		netseg_obj_text(o, text, sizeof(text));
		if (o->fresh)
			ha_notice("network '%s': created %s", o->seg, text);
		else if (o->adopted_now)
			ha_notice("network '%s': adopted %s left by an earlier run", o->seg, text);
		else
			ha_debug("network '%s': kept %s%s", o->seg, text, o->owned ? " (ours)" : "");
	}
	/* the count of adopted objects only when there are some: the line
	 * stays what it always was otherwise */
	if (nsegs && r->adopted)
		ha_notice("network: %zu segment(s): %u object(s) created, %u adopted, %u kept, %zu to remove",
			  nsegs, r->created, r->adopted, r->kept, r->st->stale.n);
	else if (nsegs)
		ha_notice("network: %zu segment(s): %u object(s) created, %u kept, %zu to remove",
			  nsegs, r->created, r->kept, r->st->stale.n);
}

int netseg_apply(struct dp_config *c, struct dp_config *oldc, char **err)
{
	struct netseg *old = oldc ? netseg_state_of(oldc) : NULL;
	struct netseg *st = netseg_state_of(c);
	struct run r = { 0 };
	size_t i;
	int rc;

	/* the previous reload was never committed: oldc is in service now */
	stale_flush(old);
	if (!st && has_owned(old) && !(st = netseg_state_get(c))) {
		memprintf(err, "network: out of memory");
		return -ENOMEM;
	}
	if (!st)
		return 0;
	if (!st->planned && netseg_plan_build(st) < 0) {
		memprintf(err, "network: out of memory");
		return -ENOMEM;
	}
	r.st = st;
	r.old = old;
	r.ctx = netseg_sys_ctx(st);
	r.err = err;
	r.self = c->owner;
	for (i = 0; i < st->plan.n; i++)
		st->plan.v[i].adopted_now = false;
	rc = check_declared(&r, st->decls);
	if (rc == 0)
		rc = check_declared(&r, st->refs);
	if (rc < 0)
		goto fail;
	for (i = 0; i < st->plan.n; i++) {
		rc = netseg_ensure(&r, &st->plan.v[i]);
		if (rc < 0)
			goto fail;
		if (rc == 0)
			netseg_inherit(&r, &st->plan.v[i]);
	}
	if (stale_compute(st, old) < 0) {
		rc = -ENOMEM;
		memprintf(err, "network: out of memory");
		goto fail;
	}
	announce(&r);
	nl_release(st);
	st->applied = true;
	return 0;
fail:
	/* leave nothing half-built: undo what this call created */
	remove_pass(st, &st->plan, SEL_FRESH, "rolled back");
	netseg_objv_clear(&st->stale);
	nl_release(st);
	return rc;
}

void netseg_commit(struct dp_config *newc, struct dp_config *oldc)
{
	struct netseg *st = netseg_state_of(newc);
	const char *tag = newc->g.log_tag ? newc->g.log_tag : "decoyproxy";

	if (!st)
		return;
	stale_flush(st);
	for (size_t i = 0; i < st->plan.n; i++) {
		struct obj *o = &st->plan.v[i];
		char *m = NULL, text[512];
		int n;

		/* at start the [NOTICE] lines went to stderr only: the log
		 * targets were not open yet */
		if (!oldc && !st->announced && (o->fresh || o->adopted_now)) {
			netseg_obj_text(o, text, sizeof(text));
			n = o->fresh ? memprintf(&m, "network '%s': created %s", o->seg, text) :
			    memprintf(&m, "network '%s': adopted %s left by an earlier run", o->seg, text);
			if (n > 0)
				log_list_send(&newc->g.logs, 5 /* notice */, tag, m, (size_t)n);
			free(m);
		}
		o->fresh = o->adopted_now = false;
	}
	st->announced = true;
}

void netseg_undo(struct dp_config *newc, struct dp_config *oldc)
{
	struct netseg *st = netseg_state_of(newc);

	(void)oldc;
	if (!st)
		return;
	remove_pass(st, &st->plan, SEL_FRESH, "rolled back");
	netseg_objv_clear(&st->stale);
	nl_release(st);
	st->applied = false;
}

void netseg_remove(struct dp_config *c)
{
	struct netseg *st = netseg_state_of(c);

	if (!st)
		return;
	stale_flush(st);
	for (struct segment *s = st->segs; s; s = s->next)
		if (s->persist)
			ha_notice("network '%s': persistent, left in place", s->name);
	remove_pass(st, &st->plan, SEL_OWNED, "removed");
	nl_release(st);
}

/* ---- --cleanup: what runs that are gone left ----------------------------- */

int netseg_cleanup(struct dp_config *c, unsigned *removed)
{
	struct netseg *st = netseg_state_of(c);
	struct run r = { 0 };
	unsigned failed = 0;
	char *err = NULL;

	if (!st)
		return 0;
	if (!st->planned && netseg_plan_build(st) < 0) {
		ha_warning("network: out of memory");
		return 1;
	}
	r.st = st;
	r.ctx = netseg_sys_ctx(st);
	r.err = &err;
	r.self = NULL;          /* a cleanup run marks nothing and owns nothing */
	for (size_t i = 0; i < st->plan.n; i++) {
		struct obj *o = &st->plan.v[i];
		char text[512];
		int v = netseg_probe(&r, o);

		netseg_obj_text(o, text, sizeof(text));
		if (v == -ENOENT && (o->type == OBJ_ADDR || o->type == OBJ_ROUTE || o->type == OBJ_SYSCTL)) {
			if (netseg_container_adopted(st, o))
				netseg_adopt(&r, o);
			continue;
		}
		if (v == -ENOENT)
			continue;
		if (v < 0) {
			ha_warning("%s", err ? err : "network: lookup failed");
			free(err);
			err = NULL;
			failed++;
			continue;
		}
		if (v == OWNER_LIVE)
			ha_notice("network '%s': %s belongs to a decoyproxy that is still running: left in place",
				  o->seg, text);
		else if (v == OWNER_FOREIGN)
			ha_debug("network '%s': %s was not made by decoyproxy: left in place", o->seg, text);
		else if (v == OWNER_ORPHAN)
			netseg_adopt(&r, o);
	}
	for (struct segment *s = st->segs; s; s = s->next) {
		bool any = false;

		for (size_t i = 0; s->persist && i < st->plan.n; i++)
			any |= st->plan.v[i].adopted && !strcmp(st->plan.v[i].seg, s->name);
		if (any)
			ha_notice("network '%s': persistent, left in place", s->name);
	}
	for (size_t i = 0; i < st->plan.n; i++) {
		const struct obj *o = &st->plan.v[i];

		/* what goes with its namespace is not counted on its own */
		if (o->owned && !o->persist &&
		    !((o->type == OBJ_ADDR || o->type == OBJ_ROUTE || o->type == OBJ_SYSCTL) &&
		      ns_dying(st->plan.v, st->plan.n, SEL_OWNED, o->ns)))
			(*removed)++;
	}
	failed += remove_pass(st, &st->plan, SEL_OWNED, "removed");
	nl_release(st);
	return (int)failed;
}
