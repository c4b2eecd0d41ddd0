/* bind.c — `bind` lines: addresses, port ranges and options.
 *
 * One bind line may name several addresses and port ranges; each address and
 * port becomes one listener (its socket is core/listener.c's business).
 */
#include "config.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/addr.h"
#include "cfg/cfg.h"
#include "model/bind.h"

typedef int (*bind_kw_fn)(struct bind_conf *bc, char **args, char **err);

struct bind_kw {
	const char *name;
	int nargs;
	bind_kw_fn fn;      /* NULL: known but not supported */
	const char *why;
};

static int bk_flag(struct bind_conf *bc, char **args, char **err)
{
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

static int bk_uint(const char *v, unsigned max, unsigned *out, const char *what, char **err)
{
	unsigned long long x;

	if (cfg_parse_uint(v, max, &x) < 0) {
		memprintf(err, "'%s' expects an integer from 0 to %u, got '%s'", what, max, v);
		return -EINVAL;
	}
	*out = (unsigned)x;
	return 0;
}

static int bk_maxconn(struct bind_conf *bc, char **args, char **err)
{
	return bk_uint(args[1], 10000000, &bc->maxconn, "maxconn", err);
}

static int bk_backlog(struct bind_conf *bc, char **args, char **err)
{
	unsigned v;

	if (bk_uint(args[1], 1000000, &v, "backlog", err) < 0)
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

static int bk_interface(struct bind_conf *bc, char **args, char **err)
{
	if (strlen(args[1]) >= IFNAMSIZ) {
		memprintf(err, "interface name '%s' is longer than %d characters", args[1], IFNAMSIZ - 1);
		return -EINVAL;
	}
	return bk_str(&bc->iface, args[1], err);
}

static int bk_name(struct bind_conf *bc, char **args, char **err)
{
	return bk_str(&bc->name, args[1], err);
}

/* `namespace <name>`: the socket is created in that namespace
 * (ns_cache_socket); the name is checked in netseg_finalize(). */
static int bk_namespace(struct bind_conf *bc, char **args, char **err)
{
	return bk_str(&bc->netns, args[1], err);
}

static int bk_ignore1(struct bind_conf *bc, char **args, char **err)
{
	return 0;
}

#define NOTLS "decoyproxy does not terminate TLS"

static const struct bind_kw bind_kws[] = {
	{ "transparent", 0, bk_flag, NULL },
	{ "v6only", 0, bk_flag, NULL },
	{ "v4v6", 0, bk_flag, NULL },
	{ "defer-accept", 0, bk_flag, NULL },
	{ "tfo", 0, bk_flag, NULL },
	{ "maxconn", 1, bk_maxconn, NULL },
	{ "backlog", 1, bk_backlog, NULL },
	{ "interface", 1, bk_interface, NULL },
	{ "name", 1, bk_name, NULL },
	{ "id", 1, bk_ignore1, NULL },
	{ "accept-proxy", 0, bk_flag, NULL },
	{ "namespace", 1, bk_namespace, NULL },
	{ "mss", 1, NULL, "not implemented yet" },
	{ "process", 1, NULL, "decoyproxy runs one process" },
	{ "thread", 1, NULL, "decoyproxy runs one thread" },
	{ "nice", 1, NULL, "not implemented" },
	{ "ssl", 0, NULL, NOTLS },
	{ "crt", 1, NULL, NOTLS },
	{ "crt-list", 1, NULL, NOTLS },
	{ "ca-file", 1, NULL, NOTLS },
	{ "alpn", 1, NULL, NOTLS },
	{ "npn", 1, NULL, NOTLS },
	{ "verify", 1, NULL, NOTLS },
	{ "ciphers", 1, NULL, NOTLS },
	{ "ssl-min-ver", 1, NULL, NOTLS },
	{ "ssl-max-ver", 1, NULL, NOTLS },
	{ "proto", 1, NULL, "decoyproxy is a layer-4 proxy" },
	{ "user", 1, NULL, "unix sockets are not supported" },
	{ "group", 1, NULL, "unix sockets are not supported" },
	{ "mode", 1, NULL, "unix sockets are not supported" },
	{ "uid", 1, NULL, "unix sockets are not supported" },
	{ "gid", 1, NULL, "unix sockets are not supported" },
	{ "level", 1, NULL, "'level' applies to 'stats socket' lines in the global section, not to 'bind'" },
	{ "expose-fd", 1, NULL, "decoyproxy has no master process" },
	{ "quic-cc-algo", 1, NULL, "QUIC is not supported" },
};

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
	if (!bc->listeners)
		bc->listeners = l;
	else
		bc->listeners_last->next = l;
	bc->listeners_last = l;
	return 0;
}

static int parse_addresses(struct bind_conf *bc, char *spec, char **err)
{
	char *save = NULL, *tok;

	for (tok = strtok_r(spec, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct addr_spec a;

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

int bind_parse(struct cfg_ctx *ctx, int argc, char **argv, struct bind_conf **out, char **err)
{
	struct bind_conf *bc;
	char *spec = NULL;
	int i;

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
	if (parse_addresses(bc, spec, err) < 0)
		goto fail;

	for (i = 2; i < argc;) {
		const struct bind_kw *kw = NULL;

		for (size_t k = 0; k < ARRAY_SIZE(bind_kws); k++)
			if (!strcmp(bind_kws[k].name, argv[i]))
				kw = &bind_kws[k];
		if (!kw) {
			const char *names[ARRAY_SIZE(bind_kws) + 1];
			const char *best;

			for (size_t k = 0; k < ARRAY_SIZE(bind_kws); k++)
				names[k] = bind_kws[k].name;
			names[ARRAY_SIZE(bind_kws)] = NULL;
			best = cfg_suggest(argv[i], names);
			memprintf(err, "'%s': unknown option '%s'%s%s%s", bc->spec, argv[i],
				  best ? "; did you mean '" : "", best ? best : "", best ? "' maybe ?" : "");
			goto fail;
		}
		if (kw->nargs > 0 && i + kw->nargs >= argc) {
			memprintf(err, "'%s': option '%s' expects an argument", bc->spec, kw->name);
			goto fail;
		}
		if (!kw->fn) {
			memprintf(err, "'%s': option '%s' is not supported: %s", bc->spec, kw->name, kw->why);
			goto fail;
		}
		if (kw->fn(bc, argv + i, err) < 0)
			goto fail;
		i += 1 + kw->nargs;
	}
	free(spec);
	*out = bc;
	return CFG_OK;
fail:
	free(spec);
	bind_conf_free(bc);
	return CFG_ERR;
}

void listener_key(const struct listener *l, char *buf, size_t cap)
{
	char a[sizeof(((struct sockaddr_un *)0)->sun_path) + 8];
	const struct bind_conf *bc = l->bc;

	if (l->addr.ss_family == AF_UNIX)
		snprintf(a, sizeof(a), "unix@%s", ((const struct sockaddr_un *)&l->addr)->sun_path);
	else
		addr_str(&l->addr, a, sizeof(a));
	snprintf(buf, cap, "%s|%x|%s|%s", a,
		 bc->options & (BC_O_TRANSPARENT | BC_O_V6ONLY | BC_O_V4V6 | BC_O_DEFER_ACCEPT | BC_O_TFO),
		 bc->iface ? bc->iface : "", bc->netns ? bc->netns : "");
}

