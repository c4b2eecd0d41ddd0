/* global.c — keywords of the `global` section. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg/cfg.h"
#include "model/conf.h"
#include "lib/thread.h"
#include "log/log.h"
#include "model/proxy.h"

int cfg_parse_log_line(struct cfg_ctx *ctx, struct log_list *dst, bool *global_flag, int argc, char **argv,
		       char **err);

static int g_maxconn(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	unsigned long long v;

	if (cfg_one_arg(argc, argv, err))
		return CFG_ERR;
	if (cfg_kw_uint(argv[1], 1, 10000000, &v, err) < 0)
		return CFG_ERR;
	ctx->conf->g.maxconn = (unsigned)v;
	return CFG_OK;
}

static int g_ulimit_n(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	unsigned long long v;

	if (cfg_one_arg(argc, argv, err))
		return CFG_ERR;
	if (cfg_parse_uint(argv[1], 100000000, &v) < 0) {
		memprintf(err, "invalid value '%s'", argv[1]);
		return CFG_ERR;
	}
	ctx->conf->g.ulimit_n = (unsigned)v;
	return CFG_OK;
}

/* "spread-checks <0..50>": HAProxy's random jitter, in percent of the
 * interval, applied to every health check interval (src/chk.c). */
static int g_spread_checks(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	unsigned long long v;

	if (cfg_one_arg(argc, argv, err))
		return CFG_ERR;
	if (cfg_parse_uint(argv[1], 50, &v) < 0) {
		memprintf(err, "expects an integer argument between 0 and 50, got '%s'", argv[1]);
		return CFG_ERR;
	}
	ctx->conf->g.spread_checks = (unsigned)v;
	return CFG_OK;
}

/* "max-spread-checks <time>": the first checks are spread over one check
 * interval, at most this long (src/core/chk.c). */
static int g_max_spread_checks(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	int r;

	if (cfg_one_arg(argc, argv, err))
		return CFG_ERR;
	r = cfg_time_arg(argv[0], argv[1], &ctx->conf->g.max_spread_checks, err);
	if (r == -ERANGE)
		return CFG_ERR;
	if (r < 0) {
		memprintf(err, "expects a delay in milliseconds (units allowed), got '%s'", argv[1]);
		return CFG_ERR;
	}
	return CFG_OK;
}

static int g_nbthread(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	long v;
	char *end;

	if (cfg_one_arg(argc, argv, err))
		return CFG_ERR;
	/* HAProxy's two errors: not a number, out of 1..64 */
	errno = 0;
	v = strtol(argv[1], &end, 10);
	if (!*argv[1] || *end) {
		memprintf(err, "passed a missing or unparsable integer value in '%s'", argv[1]);
		return CFG_ERR;
	}
	if (errno == ERANGE || v < 1 || v > DP_MAX_THREADS) {
		memprintf(err, "value must be between 1 and %d (was %s)", DP_MAX_THREADS, argv[1]);
		return CFG_ERR;
	}
	ctx->conf->g.nbthread = (int)v;
	return CFG_OK;
}

static int g_daemon(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	if (cfg_no_arg(argc, argv, err))
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
	if (cfg_one_arg(argc, argv, err))
		return CFG_ERR;
	return set_str(&ctx->conf->g.pidfile, argv[1], err);
}

static int g_user(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	unsigned id;

	if (cfg_one_arg(argc, argv, err))
		return CFG_ERR;
	if (user_id(argv[1], &id) < 0) {
		memprintf(err, "unknown user '%s'", argv[1]);
		return CFG_ERR;
	}
	ctx->conf->g.uid = id;
	ctx->conf->g.have_uid = true;
	return set_str(&ctx->conf->g.user, argv[1], err);
}

static int g_group(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	unsigned id;

	if (cfg_one_arg(argc, argv, err))
		return CFG_ERR;
	if (group_id(argv[1], &id) < 0) {
		memprintf(err, "unknown group '%s'", argv[1]);
		return CFG_ERR;
	}
	ctx->conf->g.gid = id;
	ctx->conf->g.have_gid = true;
	return set_str(&ctx->conf->g.group, argv[1], err);
}

static int g_uid(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	unsigned long long v;

	if (cfg_one_arg(argc, argv, err) || cfg_parse_uint(argv[1], 0x7fffffff, &v) < 0) {
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
	if (cfg_one_arg(argc, argv, err))
		return CFG_ERR;
	return set_str(&ctx->conf->g.log_tag, argv[1], err);
}

static int g_node(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	if (cfg_one_arg(argc, argv, err))
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
	int r;

	if (cfg_one_arg(argc, argv, err))
		return CFG_ERR;
	r = cfg_time_arg(argv[0], argv[1], &ms, err);
	if (r == -ERANGE)
		return CFG_ERR;
	if (r < 0) {
		memprintf(err, "invalid time '%s'", argv[1]);
		return CFG_ERR;
	}
	ctx->conf->g.hard_stop_after = ms;
	return CFG_OK;
}

/* HAProxy 2.6 enables strict-limits by default; decoyproxy always is strict:
 * start-up fails when the file descriptor limit that ulimit-n or maxconn
 * need cannot be set (main.c). The keyword states that behaviour. */
static int g_strict_limits(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	return cfg_no_arg(argc, argv, err) ? CFG_ERR : CFG_OK;
}

static int g_quiet(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	if (cfg_no_arg(argc, argv, err))
		return CFG_ERR;
	ctx->conf->g.quiet = true;
	return CFG_OK;
}

static int g_description(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	return argc >= 2 ? CFG_OK : (memprintf(err, "expects a text"), CFG_ERR);
}

#define NOTLS "decoyproxy does not terminate or originate TLS"
#define L7 "decoyproxy is a layer-4 proxy"
#define ONE_THREAD "decoyproxy runs one thread group (every thread of nbthread in it)"
#define NO_NUMA "decoyproxy does not read the NUMA topology: nbthread defaults to every CPU the process may run on; use taskset or cpu-map"
#define TUNING "HAProxy tuning setting without an equivalent in decoyproxy"
#define DEVICE_DETECTION "device detection needs HTTP; decoyproxy is a layer-4 proxy"

/* Known HAProxy 2.6 global keywords. Those that would change what the proxy
 * does are refused (fn NULL); those that only tune something decoyproxy does
 * not have (TLS, HTTP, compression, splice, HAProxy's internals) are
 * accepted with a warning (cfg_kw_ignored). */
static const struct cfg_kw global_kws[] = {
	{ "maxconn", CFG_SEC_GLOBAL, g_maxconn, NULL },
	{ "ulimit-n", CFG_SEC_GLOBAL, g_ulimit_n, NULL },
	{ "strict-limits", CFG_SEC_GLOBAL, g_strict_limits, NULL },
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

	/* accepted with a warning: TLS */
	{ "ca-base", CFG_SEC_GLOBAL, cfg_kw_ignored, NOTLS },
	{ "crt-base", CFG_SEC_GLOBAL, cfg_kw_ignored, NOTLS },
	{ "issuers-chain-path", CFG_SEC_GLOBAL, cfg_kw_ignored, NOTLS },
	{ "maxsslconn", CFG_SEC_GLOBAL, cfg_kw_ignored, NOTLS },
	{ "maxsslrate", CFG_SEC_GLOBAL, cfg_kw_ignored, NOTLS },
	{ "ssl-default-bind-ciphers", CFG_SEC_GLOBAL, cfg_kw_ignored, NOTLS },
	{ "ssl-default-bind-ciphersuites", CFG_SEC_GLOBAL, cfg_kw_ignored, NOTLS },
	{ "ssl-default-bind-curves", CFG_SEC_GLOBAL, cfg_kw_ignored, NOTLS },
	{ "ssl-default-bind-options", CFG_SEC_GLOBAL, cfg_kw_ignored, NOTLS },
	{ "ssl-default-server-ciphers", CFG_SEC_GLOBAL, cfg_kw_ignored, NOTLS },
	{ "ssl-default-server-ciphersuites", CFG_SEC_GLOBAL, cfg_kw_ignored, NOTLS },
	{ "ssl-default-server-options", CFG_SEC_GLOBAL, cfg_kw_ignored, NOTLS },
	{ "ssl-dh-param-file", CFG_SEC_GLOBAL, cfg_kw_ignored, NOTLS },
	{ "ssl-engine", CFG_SEC_GLOBAL, cfg_kw_ignored, NOTLS },
	{ "ssl-load-extra-del-ext", CFG_SEC_GLOBAL, cfg_kw_ignored, NOTLS },
	{ "ssl-load-extra-files", CFG_SEC_GLOBAL, cfg_kw_ignored, NOTLS },
	{ "ssl-mode-async", CFG_SEC_GLOBAL, cfg_kw_ignored, NOTLS },
	{ "ssl-propquery", CFG_SEC_GLOBAL, cfg_kw_ignored, NOTLS },
	{ "ssl-provider", CFG_SEC_GLOBAL, cfg_kw_ignored, NOTLS },
	{ "ssl-provider-path", CFG_SEC_GLOBAL, cfg_kw_ignored, NOTLS },
	{ "ssl-server-verify", CFG_SEC_GLOBAL, cfg_kw_ignored, NOTLS },
	{ "ssl-skip-self-issued-ca", CFG_SEC_GLOBAL, cfg_kw_ignored, NOTLS },
	{ "tune.ssl.*", CFG_SEC_GLOBAL, cfg_kw_ignored, NOTLS },
	/* accepted with a warning: HTTP, compression, splice, internals */
	{ "h1-accept-payload-with-any-method", CFG_SEC_GLOBAL, cfg_kw_ignored, L7 },
	{ "h1-case-adjust", CFG_SEC_GLOBAL, cfg_kw_ignored, L7 },
	{ "h1-case-adjust-file", CFG_SEC_GLOBAL, cfg_kw_ignored, L7 },
	{ "h2-workaround-bogus-websocket-clients", CFG_SEC_GLOBAL, cfg_kw_ignored, L7 },
	{ "httpclient.*", CFG_SEC_GLOBAL, cfg_kw_ignored, "decoyproxy has no internal HTTP client" },
	{ "maxcomprate", CFG_SEC_GLOBAL, cfg_kw_ignored, "decoyproxy does not compress" },
	{ "maxcompcpuusage", CFG_SEC_GLOBAL, cfg_kw_ignored, "decoyproxy does not compress" },
	{ "maxzlibmem", CFG_SEC_GLOBAL, cfg_kw_ignored, "decoyproxy does not compress" },
	{ "noreuseport", CFG_SEC_GLOBAL, cfg_kw_ignored, "decoyproxy never sets SO_REUSEPORT (a reload takes the listeners over in place)" },
	{ "nokqueue", CFG_SEC_GLOBAL, cfg_kw_ignored, "kqueue does not exist on Linux" },
	{ "noevports", CFG_SEC_GLOBAL, cfg_kw_ignored, "event ports do not exist on Linux" },
	{ "no-memory-trimming", CFG_SEC_GLOBAL, cfg_kw_ignored, "decoyproxy never calls malloc_trim()" },
	{ "insecure-fork-wanted", CFG_SEC_GLOBAL, cfg_kw_ignored, "decoyproxy never forks helper programs" },
	{ "insecure-setuid-wanted", CFG_SEC_GLOBAL, cfg_kw_ignored, "decoyproxy never runs setuid programs" },
	{ "tune.*", CFG_SEC_GLOBAL, cfg_kw_ignored, TUNING },

	/* refused */
	{ "nbproc", CFG_SEC_GLOBAL, NULL, "removed from HAProxy 2.5; decoyproxy runs one process" },
	{ "master-worker", CFG_SEC_GLOBAL, NULL, "decoyproxy reloads in place (SIGUSR2) without a master process" },
	{ "mworker-max-reloads", CFG_SEC_GLOBAL, NULL, "decoyproxy has no master process" },
	{ "thread-groups", CFG_SEC_GLOBAL, NULL, ONE_THREAD },
	{ "thread-group", CFG_SEC_GLOBAL, NULL, ONE_THREAD },
	{ "numa-cpu-mapping", CFG_SEC_GLOBAL, NULL, NO_NUMA },
	{ "busy-polling", CFG_SEC_GLOBAL, NULL, "the event loop always sleeps in the kernel when idle" },
	{ "noepoll", CFG_SEC_GLOBAL, NULL, "libev chooses the poller (epoll on Linux)" },
	{ "nopoll", CFG_SEC_GLOBAL, NULL, "libev chooses the poller (epoll on Linux)" },
	{ "nogetaddrinfo", CFG_SEC_GLOBAL, NULL, "host names are always resolved with getaddrinfo()" },
	{ "maxconnrate", CFG_SEC_GLOBAL, NULL, "connection rate limits are not implemented" },
	{ "maxsessrate", CFG_SEC_GLOBAL, NULL, "session rate limits are not implemented" },
	{ "fd-hard-limit", CFG_SEC_GLOBAL, NULL, "use ulimit-n, or the service manager's LimitNOFILE=" },
	{ "set-dumpable", CFG_SEC_GLOBAL, NULL, "not implemented" },
	{ "grace", CFG_SEC_GLOBAL, NULL, "a soft stop (SIGUSR1) stops listening at once; use hard-stop-after to bound it" },
	{ "zero-warning", CFG_SEC_GLOBAL, NULL, "not implemented" },
	{ "default-path", CFG_SEC_GLOBAL, NULL, "relative paths are relative to the current directory" },
	{ "cluster-secret", CFG_SEC_GLOBAL, NULL, "QUIC is not supported" },
	{ "pp2-never-send-local", CFG_SEC_GLOBAL, NULL, "health checks always send the PROXY LOCAL command" },
	{ "lua-load", CFG_SEC_GLOBAL, NULL, "Lua is not supported" },
	{ "lua-load-per-thread", CFG_SEC_GLOBAL, NULL, "Lua is not supported" },
	{ "lua-prepend-path", CFG_SEC_GLOBAL, NULL, "Lua is not supported" },
	{ "set-var", CFG_SEC_GLOBAL, NULL, "variables and sample expressions are not implemented" },
	{ "setenv", CFG_SEC_GLOBAL, NULL, "not implemented yet" },
	{ "presetenv", CFG_SEC_GLOBAL, NULL, "not implemented yet" },
	{ "unsetenv", CFG_SEC_GLOBAL, NULL, "not implemented yet" },
	{ "resetenv", CFG_SEC_GLOBAL, NULL, "not implemented yet" },
	{ "external-check", CFG_SEC_GLOBAL, NULL, "external checks are not supported; health checks are TCP connects" },
	{ "spread-checks", CFG_SEC_GLOBAL, g_spread_checks, NULL },
	{ "max-spread-checks", CFG_SEC_GLOBAL, g_max_spread_checks, NULL },
	{ "profiling.*", CFG_SEC_GLOBAL, NULL, "profiling is not implemented" },
	{ "expose-experimental-directives", CFG_SEC_GLOBAL, NULL, "not applicable" },
	{ "localpeer", CFG_SEC_GLOBAL, NULL, "peers are not implemented" },
	{ "51degrees-*", CFG_SEC_GLOBAL, NULL, DEVICE_DETECTION },
	{ "deviceatlas-*", CFG_SEC_GLOBAL, NULL, DEVICE_DETECTION },
	{ "wurfl-*", CFG_SEC_GLOBAL, NULL, DEVICE_DETECTION },
};

const struct cfg_kw_list global_kw_list = { global_kws, ARRAY_SIZE(global_kws) };
