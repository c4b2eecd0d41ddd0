/* cli_kw.c — the CLI's configuration: `stats socket|timeout|maxconn` in
 * the global section fill the generation's cli_conf extension.
 *
 * Each `stats socket` line becomes a bind line owned by the CLI (struct
 * cli_bind: a bind_conf with one listener and the clients' level), so that
 * its socket is opened, taken over across reloads and accepted on by the
 * listener layer like a frontend's; its accept callback attaches a CLI
 * client (cli.c).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "lib/addr.h"
#include "cfg/cfg.h"
#include "model/bind.h"
#include "model/conf.h"
#include "core/listener.h"
#include "ctl/cli.h"
#include "ctl/cli_int.h"

#define CLI_DEFAULT_MODE       0600     /* unix socket mode without `mode` */
#define CLI_MAX_MAXCONN        100000
#define CLI_BACKLOG            64

const char *const cli_level_names[] = { NULL, "user", "operator", "admin" };

static void conf_ext_free_cb(struct dp_config *c, struct conf_ext *e);
static const struct conf_ext_ops cli_ext_ops = { "stats", conf_ext_free_cb };

struct cli_conf *cli_conf_of(const struct dp_config *c)
{
	struct conf_ext *e = c ? conf_ext_find(c, &cli_ext_ops) : NULL;

	return e ? container_of(e, struct cli_conf, ext) : NULL;
}

static struct cli_conf *conf_get(struct dp_config *c)
{
	struct cli_conf *sc = cli_conf_of(c);

	if (sc)
		return sc;
	sc = calloc(1, sizeof(*sc));
	if (!sc)
		return NULL;
	sc->ext.ops = &cli_ext_ops;
	sc->timeout_ms = CLI_DEFAULT_TIMEOUT_MS;
	sc->maxconn = CLI_DEFAULT_MAXCONN;
	conf_ext_add(c, &sc->ext);
	return sc;
}

long long cli_conf_timeout_ms(const struct dp_config *c)
{
	return cli_conf_of(c) ? cli_conf_of(c)->timeout_ms : CLI_DEFAULT_TIMEOUT_MS;
}

unsigned cli_conf_maxconn(const struct dp_config *c)
{
	return cli_conf_of(c) ? cli_conf_of(c)->maxconn : CLI_DEFAULT_MAXCONN;
}

static int level_by_name(const char *s)
{
	for (int i = CLI_LVL_USER; i <= CLI_LVL_ADMIN; i++)
		if (!strcmp(s, cli_level_names[i]))
			return i;
	return -1;
}

/* Where the socket lives: "unix@<path>" or a path starting with '/' or '.'
 * is a unix socket, otherwise an [ipv4@|ipv6@]address:port. Adds the bind
 * line's one listener. */
static int bind_set_addr(struct bind_conf *bc, const char *s, char **err)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_un *sun = (struct sockaddr_un *)&ss;
	struct addr_spec as;
	const char *path = NULL;
	char *e = NULL;

	if (!strncmp(s, "unix@", 5))
		path = s + 5;
	else if (s[0] == '/' || s[0] == '.')
		path = s;
	else if (!strncmp(s, "abns@", 5) || !strncmp(s, "fd@", 3) || !strncmp(s, "sockpair@", 9)) {
		memprintf(err, "socket '%s': only unix socket paths and ipv4@/ipv6@ TCP addresses are supported", s);
		return -EINVAL;
	}
	if (path) {
		if (!*path) {
			memprintf(err, "socket '%s': empty path", s);
			return -EINVAL;
		}
		if (strlen(path) >= sizeof(sun->sun_path)) {
			memprintf(err, "socket '%s': path too long (at most %zu bytes)", s, sizeof(sun->sun_path) - 1);
			return -ENAMETOOLONG;
		}
		sun->sun_family = AF_UNIX;
		memcpy(sun->sun_path, path, strlen(path) + 1);
	} else if (addr_parse(s, ADDR_F_PORT_REQUIRED, &as, &e) < 0) {
		memprintf(err, "socket '%s': %s", s, e ? e : "invalid address");
		free(e);
		return -EINVAL;
	} else {
		ss = as.ss;
	}
	if (bind_add_listener(bc, &ss) < 0) {
		memprintf(err, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

static int opt_id(const char *opt, const char *val, unsigned *out, char **err)
{
	unsigned long long v;

	if (cfg_parse_uint(val, 0x7fffffff, &v) < 0) {
		memprintf(err, "'%s' expects a numeric id, got '%s'", opt, val);
		return -EINVAL;
	}
	*out = (unsigned)v;
	return 0;
}

/* One "<option> <value>" pair of a `stats socket` line. The caller adds
 * which socket it is about. */
static int bind_option(struct cli_bind *b, const char *opt, const char *val, char **err)
{
	struct bind_conf *bc = &b->bc;
	unsigned id;

	if (!strcmp(opt, "mode")) {
		char *end;
		long m = strtol(val, &end, 8);

		if (!*val || *end || m < 0 || m > 0777) {
			memprintf(err, "'mode' expects an octal value from 0 to 777, got '%s'", val);
			return -EINVAL;
		}
		bc->ux.mode = (mode_t)m;
	} else if (!strcmp(opt, "level")) {
		b->level = level_by_name(val);
		if (b->level < 0) {
			memprintf(err, "'level' expects 'user', 'operator' or 'admin', got '%s'", val);
			return -EINVAL;
		}
	} else if (!strcmp(opt, "user")) {
		if (user_id(val, &id) < 0) {
			memprintf(err, "'user': unknown user '%s'", val);
			return -EINVAL;
		}
		bc->ux.uid = id;
		bc->ux.have_uid = true;
	} else if (!strcmp(opt, "group")) {
		if (group_id(val, &id) < 0) {
			memprintf(err, "'group': unknown group '%s'", val);
			return -EINVAL;
		}
		bc->ux.gid = id;
		bc->ux.have_gid = true;
	} else if (!strcmp(opt, "uid")) {
		if (opt_id(opt, val, &id, err) < 0)
			return -EINVAL;
		bc->ux.uid = (uid_t)id;
		bc->ux.have_uid = true;
	} else if (!strcmp(opt, "gid")) {
		if (opt_id(opt, val, &id, err) < 0)
			return -EINVAL;
		bc->ux.gid = (gid_t)id;
		bc->ux.have_gid = true;
	} else {
		memprintf(err, "unknown option '%s' (supported: mode, level, user, uid, group, gid)", opt);
		return -EINVAL;
	}
	return 0;
}

/* stats socket <addr> [option value]... ; argv[0] is "socket". */
static int parse_socket(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct cli_conf *sc;
	struct cli_bind *b = NULL;
	struct bind_conf *bc;
	char *e = NULL;
	int ret = CFG_OK;

	if (argc < 2) {
		memprintf(err, "'socket' expects a path or an ipv4@/ipv6@ address:port");
		return CFG_ERR;
	}
	sc = conf_get(ctx->conf);
	bc = bind_conf_alloc(sizeof(*b), argv[1]);
	if (!sc || !bc) {
		memprintf(err, "out of memory");
		goto fail;
	}
	b = cli_bind_of(bc);
	bc->owner = &cli_bind_owner;
	bc->accept = cli_accept;
	bc->backlog = CLI_BACKLOG;
	bc->ux.mode = CLI_DEFAULT_MODE;
	b->level = CLI_LVL_OPER; /* HAProxy's default level */
	if (bind_set_addr(bc, argv[1], err) < 0)
		goto fail;
	for (int i = 2; i < argc; i += 2) {
		if (!strcmp(argv[i], "expose-fd")) {
			/* Debian's stock haproxy.cfg has "expose-fd listeners":
			 * accept it, it has nothing to do here */
			memprintf(err, "socket '%s': 'expose-fd' ignored: decoyproxy reloads in place and hands its sockets to no other process",
				  bc->spec);
			ret = CFG_WARN;
			continue;
		}
		if (i + 1 >= argc) {
			memprintf(err, "socket '%s': option '%s' expects a value", bc->spec, argv[i]);
			goto fail;
		}
		if (bind_option(b, argv[i], argv[i + 1], &e) < 0) {
			memprintf(err, "socket '%s': %s", bc->spec, e);
			goto fail;
		}
	}
	for (const struct bind_conf *o = sc->binds; o; o = o->next) {
		if (addr_equal(&o->listeners->addr, &bc->listeners->addr)) {
			memprintf(err, "socket '%s': the same socket is already declared ('%s')", bc->spec, o->spec);
			goto fail;
		}
	}
	if (sc->last)
		sc->last->next = bc;
	else
		sc->binds = bc;
	sc->last = bc;
	free(e);
	return ret;

fail:
	free(e);
	bind_conf_free(bc);
	return CFG_ERR;
}

static int parse_timeout(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct cli_conf *sc;
	long long ms;

	if (argc != 2) {
		memprintf(err, "'timeout' expects one time value (e.g. 10s, 2m)");
		return CFG_ERR;
	}
	if (cfg_parse_time_ms(argv[1], &ms) < 0 || ms <= 0 || ms > 0x7fffffffLL) {
		memprintf(err, "'timeout' expects a positive time (e.g. 10s, 2m), got '%s'", argv[1]);
		return CFG_ERR;
	}
	sc = conf_get(ctx->conf);
	if (!sc) {
		memprintf(err, "out of memory");
		return CFG_ERR;
	}
	sc->timeout_ms = ms;
	return CFG_OK;
}

static int parse_maxconn(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct cli_conf *sc;
	unsigned long long v;

	if (argc != 2 || cfg_parse_uint(argv[1], CLI_MAX_MAXCONN, &v) < 0 || v == 0) {
		memprintf(err, "'maxconn' expects an integer from 1 to %u, got '%s'", CLI_MAX_MAXCONN,
			  argc > 1 ? argv[1] : "");
		return CFG_ERR;
	}
	sc = conf_get(ctx->conf);
	if (!sc) {
		memprintf(err, "out of memory");
		return CFG_ERR;
	}
	sc->maxconn = (unsigned)v;
	return CFG_OK;
}

/* global: stats socket|timeout|maxconn ... */
static int stats_kw(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	if (argc < 2) {
		memprintf(err, "expects 'socket', 'timeout' or 'maxconn'");
		return CFG_ERR;
	}
	if (!strcmp(argv[1], "socket"))
		return parse_socket(ctx, argc - 1, argv + 1, err);
	if (!strcmp(argv[1], "timeout"))
		return parse_timeout(ctx, argc - 1, argv + 1, err);
	if (!strcmp(argv[1], "maxconn"))
		return parse_maxconn(ctx, argc - 1, argv + 1, err);
	if (!strcmp(argv[1], "bind-process")) {
		memprintf(err, "'bind-process' ignored: decoyproxy runs one process");
		return CFG_WARN;
	}
	memprintf(err, "unknown word '%s' (expects 'socket', 'timeout' or 'maxconn')", argv[1]);
	return CFG_ERR;
}

static const struct cfg_kw cli_kws[] = {
	{ "stats", CFG_SEC_GLOBAL, stats_kw, NULL },
};

const struct cfg_kw_list cli_kw_list = { cli_kws, ARRAY_SIZE(cli_kws) };

/* A generation's sockets are closed (cli_close) or given back (cli_undo)
 * before it is freed; a socket still watched here would be a bug, so stop
 * watching it before bind_conf_free closes it. */
static void conf_ext_free_cb(struct dp_config *c, struct conf_ext *e)
{
	struct cli_conf *sc = container_of(e, struct cli_conf, ext);

	(void)c;
	while (sc->binds) {
		struct bind_conf *n = sc->binds->next;

		for (struct listener *l = sc->binds->listeners; l; l = l->next)
			if (ev_is_active(&l->io))
				listener_stop(l);
		bind_conf_free(sc->binds);
		sc->binds = n;
	}
	free(sc);
}
