/* tproxy.c — the tproxy module's per-generation state: creating it with
 * the defaults, freeing it with the generation (the plan and every
 * frontend's `intercept` state), and the read-only accessors of tproxy.h.
 *
 * The module (tproxy.h says what it does) is split by job:
 *   tproxy_kw.c      the keywords: tproxy-mark, tproxy-table, tproxy-routing,
 *                    intercept, intercept-file;
 *   tproxy_plan.c    tproxy_finalize(): announce routes, the per-namespace
 *                    plan, set names, overlaps between frontends; pure, so
 *                    `decoyproxy -c` stops there;
 *   tproxy_kernel.c  the kernel side: fwmark rules, local routes and the nft
 *                    batch installed and released per namespace, and the
 *                    generation hooks tproxy_apply/undo/remove_stale/remove;
 *   tproxy_rt.c      runtime changes from the stats socket (add, del and
 *                    show intercept);
 *   tproxy_int.h     the types and small lookups the parts share.
 */
#include "config.h"

#include <stdlib.h>
#include <unistd.h>

#include "lib/intercept.h"
#include "model/proxy.h"
#include "net/ns.h"
#include "plumbing/tproxy.h"
#include "plumbing/tproxy_int.h"

/* ---- namespaces ------------------------------------------------------------ */

bool tproxy_ns_is_self(const char *name)
{
	/* compared with the home namespace that net/ns.c opened at start
	 * (main.c, before any thread or chroot): not /proc/self/ns/net, which
	 * is the main thread's namespace of the moment, another one while it
	 * makes a socket in a segment (ns_run), and this may be asked from
	 * the reload's parse thread meanwhile */
	bool r;
	int fd;

	if (!name)
		return true;
	fd = ns_open(name);
	if (fd < 0)
		return false;
	r = ns_is_home(fd);
	close(fd);
	return r;
}

/* ---- allocation ------------------------------------------------------------ */

static void gconf_ext_free(struct dp_config *c, struct conf_ext *e);
const struct conf_ext_ops tproxy_ext_ops = { "tproxy", gconf_ext_free };

struct tproxy_gconf *tproxy_gconf_get(struct dp_config *c)
{
	struct tproxy_gconf *g = gconf_of(c);

	if (g)
		return g;
	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->ext.ops = &tproxy_ext_ops;
	g->mark = TPROXY_MARK_DEFAULT;
	g->table = TPROXY_TABLE_DEFAULT;
	g->routing = true;
	conf_ext_add(c, &g->ext);
	return g;
}

void tproxy_plan_free(struct tproxy_gconf *g)
{
	for (size_t i = 0; i < g->nns; i++) {
		free(g->ns[i].name);
		free(g->ns[i].ann_own);
		free(g->ns[i].fe);
		free(g->ns[i].div);
		free(g->ns[i].announce_v);
	}
	free(g->ns);
	g->ns = NULL;
	g->nns = 0;
}

static void tproxy_fe_free(struct tproxy_fe *f)
{
	if (!f)
		return;
	icpt_list_free(&f->decoys);
	icpt_list_free(&f->raw);
	free(f->set[0]);
	free(f->set[1]);
	free(f->ranges);
	free(f->announce);
	free(f->file);
	free(f);
}

/* With c: the plan, and every frontend's decoy lists (each frontend with an
 * `intercept` line made this state exist, see fe_get() in tproxy_kw.c). */
static void gconf_ext_free(struct dp_config *c, struct conf_ext *e)
{
	struct tproxy_gconf *g = container_of(e, struct tproxy_gconf, ext);

	for (struct proxy *px = c->proxies; px; px = px->next) {
		tproxy_fe_free(px->tproxy);
		px->tproxy = NULL;
	}
	tproxy_plan_free(g);
	free(g);
}

/* ---- accessors ---------------------------------------------------------------------------- */

const struct tproxy_ns *tproxy_plan(const struct dp_config *c, size_t *n)
{
	*n = gconf_of(c) ? gconf_of(c)->nns : 0;
	return gconf_of(c) ? gconf_of(c)->ns : NULL;
}

uint32_t tproxy_mark(const struct dp_config *c)
{
	return gconf_of(c) ? gconf_of(c)->mark : TPROXY_MARK_DEFAULT;
}

uint32_t tproxy_table(const struct dp_config *c)
{
	return gconf_of(c) ? gconf_of(c)->table : TPROXY_TABLE_DEFAULT;
}

bool tproxy_routing(const struct dp_config *c)
{
	return gconf_of(c) ? gconf_of(c)->routing : true;
}

const struct icpt_list *tproxy_fe_decoys(const struct proxy *px)
{
	return px->tproxy ? &px->tproxy->decoys : NULL;
}

const char *tproxy_fe_set(const struct proxy *px, int family)
{
	int fi = fam_index(family);

	return px->tproxy && fi >= 0 ? px->tproxy->set[fi] : NULL;
}
