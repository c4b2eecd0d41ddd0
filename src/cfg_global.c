/* cfg_global.c — keywords of the `global` section. */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decoyproxy/cfg.h"
#include "decoyproxy/global.h"
#include "decoyproxy/log.h"
#include "decoyproxy/proxy.h"

int cfg_parse_log_line(struct cfg_ctx *ctx, struct log_list *dst, bool *global_flag, int argc, char **argv,
		       char **err);

static int one_arg(int argc, char **argv, char **err)
{
	if (argc != 2) {
		memprintf(err, argc < 2 ? "expects one argument" : "unexpected extra argument '%s'",
			  argc < 2 ? "" : argv[2]);
		return -1;
	}
	return 0;
}

static int no_arg(int argc, char **argv, char **err)
{
	if (argc != 1) {
		memprintf(err, "takes no argument");
		return -1;
	}
	return 0;
}

static int g_maxconn(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	unsigned long long v;

	if (one_arg(argc, argv, err))
		return CFG_ERR;
	if (cfg_parse_uint(argv[1], 10000000, &v) < 0 || v == 0) {
		memprintf(err, "invalid value '%s' (expects an integer from 1 to 10000000)", argv[1]);
		return CFG_ERR;
	}
	ctx->conf->g.maxconn = (unsigned)v;
	return CFG_OK;
}

static int g_ulimit_n(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	unsigned long long v;

	if (one_arg(argc, argv, err))
		return CFG_ERR;
	if (cfg_parse_uint(argv[1], 100000000, &v) < 0) {
		memprintf(err, "invalid value '%s'", argv[1]);
		return CFG_ERR;
	}
	ctx->conf->g.ulimit_n = (unsigned)v;
	return CFG_OK;
}

static int g_nbthread(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	unsigned long long v;

	if (one_arg(argc, argv, err))
		return CFG_ERR;
	if (cfg_parse_uint(argv[1], 4096, &v) < 0 || v == 0) {
		memprintf(err, "invalid value '%s' (expects a positive integer)", argv[1]);
		return CFG_ERR;
	}
	ctx->conf->g.nbthread = (int)v;
	if (v != 1) {
		memprintf(err, "decoyproxy runs one event-loop thread; 'nbthread %s' is treated as 'nbthread 1'",
			  argv[1]);
		return CFG_WARN;
	}
	return CFG_OK;
}

static int g_daemon(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	if (no_arg(argc, argv, err))
		return CFG_ERR;
	ctx->conf->g.daemon = true;
	return CFG_OK;
}

static int set_str(char **dst, const char *v, char **err)
{
	free(*dst);
	*dst = strdup(v);
	if (!*dst) {
		memprintf(err, "out of memory");
		return CFG_ERR;
	}
	return CFG_OK;
}

static int g_pidfile(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	if (one_arg(argc, argv, err))
		return CFG_ERR;
	return set_str(&ctx->conf->g.pidfile, argv[1], err);
}

static int g_user(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct passwd *pw;

	if (one_arg(argc, argv, err))
		return CFG_ERR;
	pw = getpwnam(argv[1]);
	if (!pw) {
		memprintf(err, "unknown user '%s'", argv[1]);
		return CFG_ERR;
	}
	ctx->conf->g.uid = pw->pw_uid;
	ctx->conf->g.have_uid = true;
	return set_str(&ctx->conf->g.user, argv[1], err);
}

static int g_group(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct group *gr;

	if (one_arg(argc, argv, err))
		return CFG_ERR;
	gr = getgrnam(argv[1]);
	if (!gr) {
		memprintf(err, "unknown group '%s'", argv[1]);
		return CFG_ERR;
	}
	ctx->conf->g.gid = gr->gr_gid;
	ctx->conf->g.have_gid = true;
	return set_str(&ctx->conf->g.group, argv[1], err);
}

static int g_uid(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	unsigned long long v;

	if (one_arg(argc, argv, err) || cfg_parse_uint(argv[1], 0x7fffffff, &v) < 0) {
		memprintf(err, "expects a numeric id");
		return CFG_ERR;
	}
	if (!strcmp(argv[0], "uid")) {
		ctx->conf->g.uid = (uid_t)v;
		ctx->conf->g.have_uid = true;
	} else {
		ctx->conf->g.gid = (gid_t)v;
		ctx->conf->g.have_gid = true;
	}
	return CFG_OK;
}

static int g_log(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	return cfg_parse_log_line(ctx, &ctx->conf->g.logs, NULL, argc, argv, err);
}

static int g_log_tag(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	if (one_arg(argc, argv, err))
		return CFG_ERR;
	return set_str(&ctx->conf->g.log_tag, argv[1], err);
}

static int g_node(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	if (one_arg(argc, argv, err))
		return CFG_ERR;
	return set_str(&ctx->conf->g.hostname, argv[1], err);
}

static int g_log_send_hostname(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	if (argc > 2) {
		memprintf(err, "expects at most one argument");
		return CFG_ERR;
	}
	if (argc == 2)
		return set_str(&ctx->conf->g.hostname, argv[1], err);
	return CFG_OK;
}

static int g_hard_stop_after(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	long long ms;

	if (one_arg(argc, argv, err))
		return CFG_ERR;
	if (cfg_parse_time_ms(argv[1], &ms) < 0) {
		memprintf(err, "invalid time '%s'", argv[1]);
		return CFG_ERR;
	}
	ctx->conf->g.hard_stop_after = ms;
	return CFG_OK;
}

static int g_ignored(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	memprintf(err, "ignored: decoyproxy does not terminate TLS");
	return CFG_WARN;
}

static int g_tune(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	memprintf(err, "tuning keyword ignored: decoyproxy has its own buffer and polling settings");
	return CFG_WARN;
}

static int g_quiet(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	return no_arg(argc, argv, err) ? CFG_ERR : CFG_OK;
}

static int g_description(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	return argc >= 2 ? CFG_OK : (memprintf(err, "expects a text"), CFG_ERR);
}

static const struct cfg_kw global_kws[] = {
	{ "maxconn", CFG_SEC_GLOBAL, g_maxconn, NULL },
	{ "ulimit-n", CFG_SEC_GLOBAL, g_ulimit_n, NULL },
	{ "nbthread", CFG_SEC_GLOBAL, g_nbthread, NULL },
	{ "daemon", CFG_SEC_GLOBAL, g_daemon, NULL },
	{ "pidfile", CFG_SEC_GLOBAL, g_pidfile, NULL },
	{ "user", CFG_SEC_GLOBAL, g_user, NULL },
	{ "group", CFG_SEC_GLOBAL, g_group, NULL },
	{ "uid", CFG_SEC_GLOBAL, g_uid, NULL },
	{ "gid", CFG_SEC_GLOBAL, g_uid, NULL },
	{ "log", CFG_SEC_GLOBAL, g_log, NULL },
	{ "log-tag", CFG_SEC_GLOBAL, g_log_tag, NULL },
	{ "log-send-hostname", CFG_SEC_GLOBAL, g_log_send_hostname, NULL },
	{ "node", CFG_SEC_GLOBAL, g_node, NULL },
	{ "description", CFG_SEC_GLOBAL, g_description, NULL },
	{ "hard-stop-after", CFG_SEC_GLOBAL, g_hard_stop_after, NULL },
	{ "quiet", CFG_SEC_GLOBAL, g_quiet, NULL },
	{ "ca-base", CFG_SEC_GLOBAL, g_ignored, NULL },
	{ "crt-base", CFG_SEC_GLOBAL, g_ignored, NULL },
	{ "ssl-default-bind-ciphers", CFG_SEC_GLOBAL, g_ignored, NULL },
	{ "ssl-default-bind-ciphersuites", CFG_SEC_GLOBAL, g_ignored, NULL },
	{ "ssl-default-bind-options", CFG_SEC_GLOBAL, g_ignored, NULL },
	{ "ssl-default-server-ciphers", CFG_SEC_GLOBAL, g_ignored, NULL },
	{ "ssl-default-server-ciphersuites", CFG_SEC_GLOBAL, g_ignored, NULL },
	{ "ssl-default-server-options", CFG_SEC_GLOBAL, g_ignored, NULL },
	{ "ssl-dh-param-file", CFG_SEC_GLOBAL, g_ignored, NULL },
	{ "ssl-server-verify", CFG_SEC_GLOBAL, g_ignored, NULL },
	{ "tune.bufsize", CFG_SEC_GLOBAL, g_tune, NULL },
	{ "tune.maxaccept", CFG_SEC_GLOBAL, g_tune, NULL },
	{ "tune.maxpollevents", CFG_SEC_GLOBAL, g_tune, NULL },
	{ "tune.rcvbuf.client", CFG_SEC_GLOBAL, g_tune, NULL },
	{ "tune.rcvbuf.server", CFG_SEC_GLOBAL, g_tune, NULL },
	{ "tune.sndbuf.client", CFG_SEC_GLOBAL, g_tune, NULL },
	{ "tune.sndbuf.server", CFG_SEC_GLOBAL, g_tune, NULL },
	{ "tune.ssl.default-dh-param", CFG_SEC_GLOBAL, g_ignored, NULL },
	{ "nbproc", CFG_SEC_GLOBAL, NULL, "removed from HAProxy 2.5; decoyproxy runs one process" },
	{ "master-worker", CFG_SEC_GLOBAL, NULL, "decoyproxy reloads in place (SIGUSR2) without a master process" },
	{ "chroot", CFG_SEC_GLOBAL, NULL, "not implemented yet" },
	{ "cpu-map", CFG_SEC_GLOBAL, NULL, "decoyproxy runs one thread" },
	{ "lua-load", CFG_SEC_GLOBAL, NULL, "Lua is not supported" },
	{ "setenv", CFG_SEC_GLOBAL, NULL, "not implemented yet" },
	{ "presetenv", CFG_SEC_GLOBAL, NULL, "not implemented yet" },
	{ "unsetenv", CFG_SEC_GLOBAL, NULL, "not implemented yet" },
	{ "resetenv", CFG_SEC_GLOBAL, NULL, "not implemented yet" },
	{ "server-state-file", CFG_SEC_GLOBAL, NULL, "not implemented" },
	{ "spread-checks", CFG_SEC_GLOBAL, NULL, "health checks are not implemented yet" },
	{ "expose-experimental-directives", CFG_SEC_GLOBAL, NULL, "not applicable" },
	{ "localpeer", CFG_SEC_GLOBAL, NULL, "peers are not implemented" },
};

const struct cfg_kw_list global_kw_list = { global_kws, ARRAY_SIZE(global_kws) };
