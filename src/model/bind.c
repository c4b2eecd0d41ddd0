/* bind.c — `bind` lines: addresses, port ranges and options.
 *
 * One bind line may name several addresses and port ranges; each address and
 * port becomes one listener (its socket is core/listener.c's business).
 */
#include "config.h"

#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/addr.h"
#include "cfg/cfg.h"
#include "cfg/opts.h"
#include "cfg/value.h"
#include "model/bind.h"

int bind_unix_owner(const char *opt, const char *val, unsigned *id, char **err)
{
	unsigned long long v;

	if (!strcmp(opt, "user")) {
		if (user_id(val, id) < 0) {
			memprintf(err, "'%s' : '%s' unknown user", opt, val);
			return -EINVAL;
		}
		return 0;
	}
	if (!strcmp(opt, "group")) {
		if (group_id(val, id) < 0) {
			memprintf(err, "'%s' : '%s' unknown group", opt, val);
			return -EINVAL;
		}
		return 0;
	}
	if (cfg_parse_uint(val, 0x7fffffff, &v) < 0) {
		memprintf(err, "'%s' expects a numeric id, got '%s'", opt, val);
		return -EINVAL;
	}
	*id = (unsigned)v;
	return 0;
}

int bind_unix_check(const struct bind_conf *bc, char **err)
{
	static const struct {
		unsigned opt;
		const char *name;
	} socket_opts[] = {
		{ BC_O_TRANSPARENT, "transparent" }, { BC_O_V6ONLY, "v6only" }, { BC_O_V4V6, "v4v6" },
		{ BC_O_DEFER_ACCEPT, "defer-accept" }, { BC_O_TFO, "tfo" },
	};
	bool ux = false;

	for (const struct listener *l = bc->listeners; l; l = l->next)
		ux |= l->addr.ss_family == AF_UNIX;
	if (!ux)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(socket_opts); i++) {
		if (bc->options & socket_opts[i].opt) {
			memprintf(err, "'%s': '%s' cannot be used on a unix socket (TCP and TPROXY options need an IP address)",
				  bc->spec, socket_opts[i].name);
			return -EINVAL;
		}
	}
	if (bc->iface) {
		memprintf(err, "'%s': 'interface' cannot be used on a unix socket", bc->spec);
		return -EINVAL;
	}
	if (bc->netns) {
		memprintf(err, "'%s': 'namespace' cannot be used on a unix socket (its path is in the file system, not in a network namespace)",
			  bc->spec);
		return -EINVAL;
	}
	return 0;
}

/* Option handlers (cfg/opts.h): obj is the bind_conf, args[0] the option. */

static int bk_flag(void *obj, int argc, char **args, char **err)
{
	struct bind_conf *bc = obj;

	if (!strcmp(args[0], "transparent"))
		bc->options |= BC_O_TRANSPARENT;
	else if (!strcmp(args[0], "v6only"))
		bc->options = (bc->options | BC_O_V6ONLY) & ~BC_O_V4V6;
	else if (!strcmp(args[0], "v4v6"))
		bc->options = (bc->options | BC_O_V4V6) & ~BC_O_V6ONLY;
	else if (!strcmp(args[0], "defer-accept"))
		bc->options |= BC_O_DEFER_ACCEPT;
	else if (!strcmp(args[0], "tfo"))
		bc->options |= BC_O_TFO;
	else if (!strcmp(args[0], "accept-proxy"))
		bc->options |= BC_O_ACCEPT_PROXY;
	return 0;
}

static int bk_maxconn(void *obj, int argc, char **args, char **err)
{
	struct bind_conf *bc = obj;
	unsigned long long v;

	if (cfg_opt_uint("maxconn", args[1], 10000000, &v, err) < 0)
		return -EINVAL;
	bc->maxconn = (unsigned)v;
	return 0;
}

static int bk_backlog(void *obj, int argc, char **args, char **err)
{
	struct bind_conf *bc = obj;
	unsigned long long v;

	if (cfg_opt_uint("backlog", args[1], 1000000, &v, err) < 0)
		return -EINVAL;
	bc->backlog = (int)v;
	return 0;
}

static int bk_str(char **dst, const char *v, char **err)
{
	free(*dst);
	*dst = strdup(v);
	if (!*dst) {
		memprintf(err, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

static int bk_interface(void *obj, int argc, char **args, char **err)
{
	struct bind_conf *bc = obj;

	if (strlen(args[1]) >= IFNAMSIZ) {
		memprintf(err, "interface name '%s' is longer than %d characters", args[1], IFNAMSIZ - 1);
		return -EINVAL;
	}
	return bk_str(&bc->iface, args[1], err);
}

static int bk_name(void *obj, int argc, char **args, char **err)
{
	return bk_str(&((struct bind_conf *)obj)->name, args[1], err);
}

/* `thread <set>` and `shards <n|by-thread>` (HAProxy's): every thread
 * accepts on its own socket of every bind line (core/listener.c), which is
 * what `thread all` and `shards by-thread` say; any other split of the
 * threads is refused. */
static int bk_thread(void *obj, int argc, char **args, char **err)
{
	(void)obj;
	(void)argc;
	if (!strcmp(args[0], "thread") ? !strcmp(args[1], "all") : !strcmp(args[1], "by-thread"))
		return 0;
	memprintf(err, "'%s %s' is not yet supported: every thread accepts on its own socket of every bind line "
		  "(only '%s' is accepted)", args[0], args[1], !strcmp(args[0], "thread") ? "thread all" : "shards by-thread");
	return -EINVAL;
}

/* `namespace <name>`: the socket is created in that namespace
 * (ns_cache_socket); the name is checked in netseg_finalize(). */
static int bk_namespace(void *obj, int argc, char **args, char **err)
{
	return bk_str(&((struct bind_conf *)obj)->netns, args[1], err);
}

/* `id <n>`: HAProxy's listener id (%cp/%fp of a unix socket's clients,
 * `show sess`); one socket only, checked in bind_parse(). */
static int bk_id(void *obj, int argc, char **args, char **err)
{
	struct bind_conf *bc = obj;
	unsigned long long v;

	if (cfg_parse_uint(args[1], 0x7fffffff, &v) < 0 || v == 0) {
		memprintf(err, "'id' : custom id has to be > 0, got '%s'", args[1]);
		return -EINVAL;
	}
	bc->id = (unsigned)v;
	return 0;
}

/* `mode <octal>`, `user|uid`, `group|gid`: the unix socket file's; on a
 * TCP address they change nothing, as in HAProxy. */
static int bk_mode(void *obj, int argc, char **args, char **err)
{
	struct bind_conf *bc = obj;
	char *end;
	long m = strtol(args[1], &end, 8);

	if (!*args[1] || *end || m < 0 || m > 0777) {
		memprintf(err, "'mode' expects an octal value from 0 to 777, got '%s'", args[1]);
		return -EINVAL;
	}
	bc->ux.mode = (mode_t)m;
	bc->ux.have_mode = true;
	return 0;
}

static int bk_owner(void *obj, int argc, char **args, char **err)
{
	struct bind_conf *bc = obj;
	bool user = !strcmp(args[0], "user") || !strcmp(args[0], "uid");
	unsigned id;

	if (bind_unix_owner(args[0], args[1], &id, err) < 0)
		return -EINVAL;
	if (user) {
		bc->ux.uid = (uid_t)id;
		bc->ux.have_uid = true;
	} else {
		bc->ux.gid = (gid_t)id;
		bc->ux.have_gid = true;
	}
	return 0;
}

#define NOTLS "decoyproxy does not terminate TLS"

static const struct cfg_opt bind_opts[] = {
	{ "transparent", 0, bk_flag, NULL, 0 },
	{ "v6only", 0, bk_flag, NULL, 0 },
	{ "v4v6", 0, bk_flag, NULL, 0 },
	{ "defer-accept", 0, bk_flag, NULL, 0 },
	{ "tfo", 0, bk_flag, NULL, 0 },
	{ "maxconn", 1, bk_maxconn, NULL, 0 },
	{ "backlog", 1, bk_backlog, NULL, 0 },
	{ "interface", 1, bk_interface, NULL, 0 },
	{ "name", 1, bk_name, NULL, 0 },
	{ "id", 1, bk_id, NULL, 0 },
	{ "accept-proxy", 0, bk_flag, NULL, 0 },
	{ "namespace", 1, bk_namespace, NULL, 0 },
	{ "mss", 1, NULL, "not implemented yet", 0 },
	{ "process", 1, NULL, "decoyproxy runs one process", 0 },
	{ "thread", 1, bk_thread, NULL, 0 },
	{ "shards", 1, bk_thread, NULL, 0 },
	{ "nice", 1, NULL, "not implemented", 0 },
	{ "ssl", 0, NULL, NOTLS, 0 },
	{ "crt", 1, NULL, NOTLS, 0 },
	{ "crt-list", 1, NULL, NOTLS, 0 },
	{ "ca-file", 1, NULL, NOTLS, 0 },
	{ "alpn", 1, NULL, NOTLS, 0 },
	{ "npn", 1, NULL, NOTLS, 0 },
	{ "verify", 1, NULL, NOTLS, 0 },
	{ "ciphers", 1, NULL, NOTLS, 0 },
	{ "ssl-min-ver", 1, NULL, NOTLS, 0 },
	{ "ssl-max-ver", 1, NULL, NOTLS, 0 },
	{ "proto", 1, NULL, "decoyproxy is a layer-4 proxy", 0 },
	{ "user", 1, bk_owner, NULL, 0 },
	{ "group", 1, bk_owner, NULL, 0 },
	{ "mode", 1, bk_mode, NULL, 0 },
	{ "uid", 1, bk_owner, NULL, 0 },
	{ "gid", 1, bk_owner, NULL, 0 },
	{ "level", 1, NULL, "'level' applies to 'stats socket' lines in the global section, not to 'bind'", 0 },
	{ "expose-fd", 1, NULL, "decoyproxy has no master process", 0 },
	{ "quic-cc-algo", 1, NULL, "QUIC is not supported", 0 },
};

/* `bind` says "expects an argument" (every option takes at most one) */
static const struct cfg_opt_table bind_opt_table = { bind_opts, ARRAY_SIZE(bind_opts), 0 };

void bind_conf_free(struct bind_conf *bc)
{
	if (!bc)
		return;
	while (bc->listeners) {
		struct listener *n = bc->listeners->next;

		/* a generation is freed once its sockets are closed or taken
		 * over (core/listener.c): an fd left here was never watched */
		if (bc->listeners->fd >= 0)
			close(bc->listeners->fd);
		if (bc->listeners->dirfd >= 0)
			close(bc->listeners->dirfd);
		free(bc->listeners);
		bc->listeners = n;
	}
	free(bc->file);
	free(bc->spec);
	free(bc->iface);
	free(bc->netns);
	free(bc->name);
	free(bc);
}

struct bind_conf *bind_conf_alloc(size_t size, const char *spec)
{
	struct bind_conf *bc;

	if (size < sizeof(*bc))
		return NULL;
	bc = calloc(1, size);
	if (!bc)
		return NULL;
	bc->spec = strdup(spec);
	if (!bc->spec) {
		free(bc);
		return NULL;
	}
	return bc;
}

int bind_add_listener(struct bind_conf *bc, const struct sockaddr_storage *ss)
{
	struct listener *l = calloc(1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	l->bc = bc;
	l->addr = *ss;
	l->fd = -1;
	l->dirfd = -1;
	if (!bc->listeners)
		bc->listeners = l;
	else
		bc->listeners_last->next = l;
	bc->listeners_last = l;
	return 0;
}

static int parse_addresses(struct bind_conf *bc, char *spec, const char *prefix, char **err)
{
	char *save = NULL, *tok;

	for (tok = strtok_r(spec, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct addr_spec a;

		if (addr_is_unix_spec(tok)) {
			if (addr_parse_unix(tok, prefix, &a.ss, err) < 0)
				return -EINVAL;
			if (bind_add_listener(bc, &a.ss) < 0) {
				memprintf(err, "out of memory");
				return -ENOMEM;
			}
			continue;
		}
		if (addr_parse(tok, ADDR_F_PORT_RANGE | ADDR_F_PORT_REQUIRED | ADDR_F_RESOLVE, &a, err) < 0)
			return -EINVAL;
		for (int p = a.port_lo; p <= a.port_hi; p++) {
			addr_set_port(&a.ss, p);
			if (bind_add_listener(bc, &a.ss) < 0) {
				memprintf(err, "out of memory");
				return -ENOMEM;
			}
		}
	}
	if (!bc->listeners) {
		memprintf(err, "no address given");
		return -EINVAL;
	}
	return 0;
}

int bind_parse(struct cfg_ctx *ctx, int argc, char **argv, const struct bind_unix_defaults *ud,
	       struct bind_conf **out, char **err)
{
	struct bind_conf *bc;
	char *spec = NULL;

	if (argc < 2) {
		memprintf(err, "expects <addr>:<port>[,<addr>:<port>...] followed by options");
		return CFG_ERR;
	}
	bc = calloc(1, sizeof(*bc));
	if (!bc || !(bc->file = strdup(ctx->file)) || !(bc->spec = strdup(argv[1])) ||
	    !(spec = strdup(argv[1]))) {
		memprintf(err, "out of memory");
		goto fail;
	}
	bc->line = ctx->line;
	if (ud) {
		/* unix-bind's, unless the line sets its own */
		bc->ux.mode = ud->mode;
		bc->ux.have_mode = ud->have_mode;
		bc->ux.uid = ud->uid;
		bc->ux.have_uid = ud->have_uid;
		bc->ux.gid = ud->gid;
		bc->ux.have_gid = ud->have_gid;
	}
	if (parse_addresses(bc, spec, ud ? ud->prefix : NULL, err) < 0)
		goto fail;

	/* the dispatcher's messages name the addresses: "':80': unknown option ..." */
	if (cfg_opts_parse(&bind_opt_table, bc, argc - 2, argv + 2, bc->spec, err) < 0)
		goto fail;
	if (bc->id && bc->listeners != bc->listeners_last) {
		memprintf(err, "'%s': 'id' can only be used with a single socket", bc->spec);
		goto fail;
	}
	if (bind_unix_check(bc, err) < 0)
		goto fail;
	free(spec);
	*out = bc;
	return CFG_OK;
fail:
	free(spec);
	bind_conf_free(bc);
	return CFG_ERR;
}

/* No name and an empty one are the same (no interface, no namespace). */
static bool str_same(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

bool listener_same_socket(const struct listener *a, const struct listener *b)
{
	const struct bind_conf *x = a->bc, *y = b->bc;

	return addr_equal(&a->addr, &b->addr) && (x->options & BC_O_SOCKET) == (y->options & BC_O_SOCKET) &&
	       str_same(x->iface, y->iface) && str_same(x->netns, y->netns);
}
