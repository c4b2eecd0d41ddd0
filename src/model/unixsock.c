/* unixsock.c — unix sockets in the configuration, beyond one bind line
 * (model/bind.c parses and checks those): the global `unix-bind` defaults,
 * listener ids, and what a unix socket server cannot do.
 *
 * HAProxy 2.6's semantics:
 *  - `unix-bind` gives the bind lines parsed after it (not the `stats
 *    socket` lines) their file mode and owner unless the line sets its own,
 *    and its `prefix` is put in front of their paths as written (no '/'
 *    added; never in front of an abns@ name);
 *  - every listener of a frontend has an id: its bind line's `id`, else
 *    the next free number counted in bind order (a unix socket's clients
 *    have no port: %cp, %fp and `show sess` show that id instead);
 *  - a unix socket server is reached without a source address: `usesrc`
 *    toward one is refused here (the attacker's address reaches such a
 *    decoy through send-proxy / send-proxy-v2), a plain `source` address
 *    is ignored for it with a warning.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/addr.h"
#include "cfg/cfg.h"
#include "cfg/value.h"
#include "model/bind.h"
#include "model/conf.h"
#include "model/proxy.h"
#include "model/server.h"
#include "model/unixsock.h"
#include "log/msg.h"

/* unix-bind [prefix <p>] [mode <m>] [user <u>] [uid <n>] [group <g>] [gid <n>] */
static int kw_unix_bind(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct bind_unix_defaults *ub = &ctx->conf->g.unix_bind;

	if (argc < 2) {
		memprintf(err, "expects at least one of 'prefix', 'mode', 'uid', 'gid', 'user' and 'group'");
		return CFG_ERR;
	}
	for (int i = 1; i < argc; i += 2) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		unsigned id;

		if (strcmp(o, "prefix") && strcmp(o, "mode") && strcmp(o, "uid") && strcmp(o, "gid") &&
		    strcmp(o, "user") && strcmp(o, "group")) {
			memprintf(err, "only supports the 'prefix', 'mode', 'uid', 'gid', 'user' and 'group' options, got '%s'", o);
			return CFG_ERR;
		}
		if (!v || !*v) {
			memprintf(err, "'%s' expects a value", o);
			return CFG_ERR;
		}
		if (!strcmp(o, "prefix")) {
			if (ub->prefix) {
				memprintf(err, "'prefix' already specified");
				return CFG_ERR;
			}
			ub->prefix = strdup(v);
			if (!ub->prefix) {
				memprintf(err, "out of memory");
				return CFG_ERR;
			}
		} else if (!strcmp(o, "mode")) {
			char *end;
			long m = strtol(v, &end, 8);

			if (*end || m < 0 || m > 0777) {
				memprintf(err, "'mode' expects an octal value from 0 to 777, got '%s'", v);
				return CFG_ERR;
			}
			ub->mode = (mode_t)m;
			ub->have_mode = true;
		} else {
			if (bind_unix_owner(o, v, &id, err) < 0)
				return CFG_ERR;
			if (!strcmp(o, "user") || !strcmp(o, "uid")) {
				ub->uid = (uid_t)id;
				ub->have_uid = true;
			} else {
				ub->gid = (gid_t)id;
				ub->have_gid = true;
			}
		}
	}
	return CFG_OK;
}

static const struct cfg_kw unixsock_kws[] = {
	{ "unix-bind", CFG_SEC_GLOBAL, kw_unix_bind, NULL },
};

const struct cfg_kw_list unixsock_kw_list = { unixsock_kws, ARRAY_SIZE(unixsock_kws) };

/* ---- finalize ---------------------------------------------------------------- */

static bool luid_used(const struct proxy *px, unsigned id)
{
	for (const struct bind_conf *bc = px->binds; bc; bc = bc->next)
		for (const struct listener *l = bc->listeners; l; l = l->next)
			if (l->luid == id)
				return true;
	return false;
}

/* HAProxy 2.6's numbering: fixed ids first, then each listener without
 * one takes the first free id from a counter that every listener, fixed
 * or not, advances by one. */
static void number_listeners(struct proxy *px, int *errors)
{
	unsigned next = 1;

	for (struct bind_conf *bc = px->binds; bc; bc = bc->next) {
		if (!bc->id || !bc->listeners)
			continue;
		for (struct bind_conf *o = px->binds; o != bc; o = o->next) {
			if (o->id == bc->id) {
				cfg_report_at(true, bc->file, bc->line, errors,
					      "'bind %s' : 'id' : custom id %u already used at %s:%d ('bind %s')", bc->spec,
					      bc->id, o->file, o->line, o->spec);
				break;
			}
		}
		bc->listeners->luid = bc->id;
	}
	for (struct bind_conf *bc = px->binds; bc; bc = bc->next) {
		for (struct listener *l = bc->listeners; l; l = l->next) {
			if (!l->luid) {
				while (luid_used(px, next))
					next++;
				l->luid = next;
			}
			next++;
		}
	}
}

/* usesrc toward a unix socket server: refused; a plain source: ignored. */
static void check_unix_server(const struct proxy *be, const struct server *s, int *errors)
{
	const struct src_conf *sc = s->source.set ? &s->source : &be->source;

	if (s->addr.ss_family != AF_UNIX || !sc->set)
		return;
	if (sc->usesrc != SRC_USESRC_NONE)
		cfg_report_at(true, s->file, s->line, errors,
			      "backend '%s': server '%s' is a unix socket: 'usesrc' (from %s) cannot apply, a unix socket connection has no source address; use 'send-proxy-v2' to pass the client's address",
			      be->name, s->name, s->source.set ? "its 'source'" : "the backend's 'source'");
	else
		ha_warning("config : parsing [%s:%d] : backend '%s': server '%s' is a unix socket: 'source' is ignored for it",
			   s->file, s->line, be->name, s->name);
}

int unixsock_finalize(struct dp_config *c)
{
	int errors = 0;

	for (struct proxy *px = c->proxies; px; px = px->next) {
		if (px->cap & PR_CAP_FE)
			number_listeners(px, &errors);
		if (px->cap & PR_CAP_BE)
			for (const struct server *s = px->srv; s; s = s->next)
				check_unix_server(px, s, &errors);
	}
	return errors;
}
