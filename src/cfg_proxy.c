/* cfg_proxy.c — keywords of defaults, frontend, backend and listen sections. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decoyproxy/cfg.h"
#include "decoyproxy/global.h"
#include "decoyproxy/listener.h"
#include "decoyproxy/log.h"
#include "decoyproxy/proxy.h"
#include "decoyproxy/server.h"

static int need_args(int argc, char **argv, int n, char **err)
{
	if (argc < n + 1) {
		memprintf(err, "expects %d argument%s", n, n > 1 ? "s" : "");
		return -1;
	}
	return 0;
}

static int too_many(int argc, char **argv, int max, char **err)
{
	if (argc > max + 1) {
		memprintf(err, "unexpected extra argument '%s'", argv[max + 1]);
		return -1;
	}
	return 0;
}

static int kw_mode(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	if (need_args(argc, argv, 1, err) || too_many(argc, argv, 1, err))
		return CFG_ERR;
	if (!strcmp(argv[1], "tcp")) {
		ctx->px->mode = PR_MODE_TCP;
		return CFG_OK;
	}
	if (!strcmp(argv[1], "http")) {
		memprintf(err, "decoyproxy is a layer-4 proxy: 'mode http' is not supported, use 'mode tcp'");
		return CFG_ERR;
	}
	if (!strcmp(argv[1], "health")) {
		memprintf(err, "'mode health' was removed from HAProxy and is not supported");
		return CFG_ERR;
	}
	memprintf(err, "unknown mode '%s' (decoyproxy supports 'tcp')", argv[1]);
	return CFG_ERR;
}

static int kw_maxconn(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	unsigned long long v;

	if (need_args(argc, argv, 1, err) || too_many(argc, argv, 1, err))
		return CFG_ERR;
	if (cfg_parse_uint(argv[1], 10000000, &v) < 0) {
		memprintf(err, "invalid value '%s' (expects an integer from 0 to 10000000)", argv[1]);
		return CFG_ERR;
	}
	ctx->px->maxconn = (unsigned)v;
	return CFG_OK;
}

static int kw_fullconn(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	unsigned long long v;

	/* Only meaningful with `minconn` dynamic limits, which decoyproxy does
	 * not have; HAProxy ignores it as well in that case. */
	if (need_args(argc, argv, 1, err) || cfg_parse_uint(argv[1], 10000000, &v) < 0) {
		memprintf(err, "expects an integer");
		return CFG_ERR;
	}
	return CFG_OK;
}

static int kw_retries(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	unsigned long long v;

	if (need_args(argc, argv, 1, err) || too_many(argc, argv, 1, err))
		return CFG_ERR;
	if (cfg_parse_uint(argv[1], 1000, &v) < 0) {
		memprintf(err, "invalid value '%s' (expects an integer from 0 to 1000)", argv[1]);
		return CFG_ERR;
	}
	ctx->px->retries = (int)v;
	return CFG_OK;
}

static int kw_default_backend(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	if (need_args(argc, argv, 1, err) || too_many(argc, argv, 1, err))
		return CFG_ERR;
	free(ctx->px->defbe_name);
	ctx->px->defbe_name = strdup(argv[1]);
	ctx->px->defbe_line = ctx->line;
	return ctx->px->defbe_name ? CFG_OK : CFG_ERR;
}

static int kw_balance(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	static const struct { const char *name; int algo; } algos[] = {
		{ "roundrobin", LB_ROUNDROBIN }, { "static-rr", LB_STATIC_RR },
		{ "leastconn", LB_LEASTCONN }, { "first", LB_FIRST }, { "source", LB_SOURCE },
	};

	if (need_args(argc, argv, 1, err))
		return CFG_ERR;
	for (size_t i = 0; i < ARRAY_SIZE(algos); i++) {
		if (!strcmp(argv[1], algos[i].name)) {
			if (too_many(argc, argv, 1, err))
				return CFG_ERR;
			ctx->px->lbalgo = algos[i].algo;
			return CFG_OK;
		}
	}
	if (!strcmp(argv[1], "uri") || !strcmp(argv[1], "url_param") || !strncmp(argv[1], "hdr(", 4) ||
	    !strcmp(argv[1], "random") || !strncmp(argv[1], "rdp-cookie", 10) || !strcmp(argv[1], "hash")) {
		memprintf(err, "algorithm '%s' is not supported (supported: roundrobin, static-rr, leastconn, first, source)",
			  argv[1]);
		return CFG_ERR;
	}
	memprintf(err, "unknown algorithm '%s' (supported: roundrobin, static-rr, leastconn, first, source)", argv[1]);
	return CFG_ERR;
}

static int kw_timeout(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	static const struct {
		const char *name;
		size_t off;
		unsigned sections;
	} tos[] = {
		{ "connect", offsetof(struct proxy_timeouts, connect), CFG_SEC_BE },
		{ "client", offsetof(struct proxy_timeouts, client), CFG_SEC_FE },
		{ "server", offsetof(struct proxy_timeouts, server), CFG_SEC_BE },
		{ "client-fin", offsetof(struct proxy_timeouts, client_fin), CFG_SEC_FE },
		{ "server-fin", offsetof(struct proxy_timeouts, server_fin), CFG_SEC_BE },
		{ "tunnel", offsetof(struct proxy_timeouts, tunnel), CFG_SEC_BE },
		{ "queue", offsetof(struct proxy_timeouts, queue), CFG_SEC_BE },
	};
	/* HAProxy timeouts that have no effect on a TCP proxy (accepted like
	 * HAProxy does in TCP mode) or belong to features not implemented. */
	static const char *const tcp_noop[] = { "http-request", "http-keep-alive", "tarpit", "check", NULL };
	long long ms;
	const char *names[ARRAY_SIZE(tos) + 5];
	size_t n = 0;
	const char *best;

	if (argc < 3) {
		memprintf(err, "expects 'connect', 'client', 'server', 'client-fin', 'server-fin', 'tunnel' or 'queue' followed by a time");
		return CFG_ERR;
	}
	if (too_many(argc, argv, 2, err))
		return CFG_ERR;
	if (cfg_parse_time_ms(argv[2], &ms) < 0) {
		memprintf(err, "timeout %s: invalid time '%s' (a number with an optional unit: us, ms, s, m, h, d)",
			  argv[1], argv[2]);
		return CFG_ERR;
	}
	for (size_t i = 0; i < ARRAY_SIZE(tos); i++) {
		if (!strcmp(argv[1], tos[i].name)) {
			if (!(tos[i].sections & ctx->section)) {
				memprintf(err, "timeout %s is ignored in this section (it applies to %s)", argv[1],
					  tos[i].sections & CFG_SEC_FRONTEND ? "frontends" : "backends");
				return CFG_WARN;
			}
			*(long long *)((char *)&ctx->px->to + tos[i].off) = ms;
			return CFG_OK;
		}
	}
	for (size_t i = 0; tcp_noop[i]; i++)
		if (!strcmp(argv[1], tcp_noop[i]))
			return CFG_OK;
	if (!strcmp(argv[1], "contimeout") || !strcmp(argv[1], "clitimeout") || !strcmp(argv[1], "srvtimeout")) {
		memprintf(err, "'%s' was removed from HAProxy; use 'timeout connect/client/server'", argv[1]);
		return CFG_ERR;
	}
	for (size_t i = 0; i < ARRAY_SIZE(tos); i++)
		names[n++] = tos[i].name;
	for (size_t i = 0; tcp_noop[i]; i++)
		names[n++] = tcp_noop[i];
	names[n] = NULL;
	best = cfg_suggest(argv[1], names);
	if (best)
		memprintf(err, "unknown timeout '%s'; did you mean '%s' maybe ?", argv[1], best);
	else
		memprintf(err, "unknown timeout '%s'", argv[1]);
	return CFG_ERR;
}

struct opt_def {
	const char *name;
	unsigned flag;        /* 0 with why == NULL: accepted, no effect in TCP */
	unsigned sections;
	const char *why;      /* non-NULL: refused with this reason */
};

static const struct opt_def options[] = {
	{ "tcplog", PR_O_TCPLOG, CFG_SEC_FE, NULL },
	{ "dontlognull", PR_O_DONTLOGNULL, CFG_SEC_FE, NULL },
	{ "log-separate-errors", PR_O_LOGERRSEP, CFG_SEC_FE, NULL },
	{ "redispatch", PR_O_REDISPATCH, CFG_SEC_BE, NULL },
	{ "nolinger", PR_O_NOLINGER_CL | PR_O_NOLINGER_SV, CFG_SEC_PROXIES, NULL },
	{ "clitcpka", PR_O_KA_CL, CFG_SEC_FE, NULL },
	{ "srvtcpka", PR_O_KA_SV, CFG_SEC_BE, NULL },
	{ "tcpka", PR_O_KA_CL | PR_O_KA_SV, CFG_SEC_PROXIES, NULL },
	{ "splice-auto", 0, CFG_SEC_PROXIES, "splice() is not implemented yet" },
	{ "splice-request", 0, CFG_SEC_PROXIES, "splice() is not implemented yet" },
	{ "splice-response", 0, CFG_SEC_PROXIES, "splice() is not implemented yet" },
	{ "logasap", 0, CFG_SEC_FE, "logs are written when the connection ends" },
	{ "tcp-smart-accept", 0, CFG_SEC_FE, NULL },
	{ "tcp-smart-connect", 0, CFG_SEC_BE, NULL },
	{ "abortonclose", 0, CFG_SEC_BE, "not implemented yet" },
	{ "allbackups", 0, CFG_SEC_BE, "backup servers are not implemented yet" },
	{ "persist", 0, CFG_SEC_BE, "health checks are not implemented yet" },
	{ "tcp-check", 0, CFG_SEC_BE, "health checks are not implemented yet" },
	{ "ssl-hello-chk", 0, CFG_SEC_BE, "health checks are not implemented yet" },
	{ "mysql-check", 0, CFG_SEC_BE, "health checks are not implemented yet" },
	{ "pgsql-check", 0, CFG_SEC_BE, "health checks are not implemented yet" },
	{ "redis-check", 0, CFG_SEC_BE, "health checks are not implemented yet" },
	{ "smtpchk", 0, CFG_SEC_BE, "health checks are not implemented yet" },
	{ "ldap-check", 0, CFG_SEC_BE, "health checks are not implemented yet" },
	{ "spop-check", 0, CFG_SEC_BE, "health checks are not implemented yet" },
	{ "log-health-checks", 0, CFG_SEC_BE, "health checks are not implemented yet" },
	{ "socket-stats", 0, CFG_SEC_FE, "per-listener stats are not implemented yet" },
	{ "transparent", 0, CFG_SEC_BE, "HAProxy's deprecated 'option transparent' is not supported; use 'server ... 0.0.0.0' or 'source ... usesrc'" },
	{ "dontlog-normal", 0, CFG_SEC_FE, "not implemented yet" },
	{ "independent-streams", 0, CFG_SEC_PROXIES, NULL },
};

static const char *const http_options[] = {
	"httplog", "httpclose", "http-server-close", "http-keep-alive", "forwardfor", "httpchk",
	"http-buffer-request", "http-ignore-probes", "http-no-delay", "http-pretend-keepalive",
	"http-use-proxy-header", "http-restrict-req-hdr-names", "httpslog", "originalto",
	"accept-invalid-http-request", "accept-invalid-http-response", "checkcache",
	"forceclose", "http-tunnel", "http_proxy", "h1-case-adjust-bogus-client",
	"h1-case-adjust-bogus-server", "disable-h2-upgrade", "prefer-last-server", NULL,
};

static int set_option(struct cfg_ctx *ctx, int argc, char **argv, bool neg, char **err)
{
	const char *names[ARRAY_SIZE(options) + 1];
	const char *best;

	if (argc < 2) {
		memprintf(err, "expects an option name");
		return CFG_ERR;
	}
	for (size_t i = 0; i < ARRAY_SIZE(options); i++) {
		const struct opt_def *o = &options[i];

		if (strcmp(argv[1], o->name))
			continue;
		if (o->why) {
			memprintf(err, "option '%s' is not supported: %s", o->name, o->why);
			return CFG_ERR;
		}
		if (!(o->sections & ctx->section)) {
			memprintf(err, "option '%s' is ignored in this section", o->name);
			return CFG_WARN;
		}
		if (argc > 2 && strcmp(o->name, "tcplog")) {
			memprintf(err, "option '%s' takes no argument", o->name);
			return CFG_ERR;
		}
		if (argc > 2 && !strcmp(argv[2], "clf")) {
			memprintf(err, "option tcplog: the 'clf' format is not supported");
			return CFG_ERR;
		}
		if (neg)
			ctx->px->options &= ~o->flag;
		else
			ctx->px->options |= o->flag;
		if (o->flag == PR_O_TCPLOG && !neg) {
			/* option tcplog replaces any earlier log-format */
			free(ctx->px->log_format);
			ctx->px->log_format = NULL;
		}
		return CFG_OK;
	}
	for (size_t i = 0; http_options[i]; i++) {
		if (!strcmp(argv[1], http_options[i])) {
			memprintf(err, "option '%s' is an HTTP option; decoyproxy is a layer-4 proxy", argv[1]);
			return CFG_ERR;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(options); i++)
		names[i] = options[i].name;
	names[ARRAY_SIZE(options)] = NULL;
	best = cfg_suggest(argv[1], names);
	if (best)
		memprintf(err, "unknown option '%s'; did you mean '%s' maybe ?", argv[1], best);
	else
		memprintf(err, "unknown option '%s'", argv[1]);
	return CFG_ERR;
}

static int kw_option(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	return set_option(ctx, argc, argv, false, err);
}

/* Parses a `log` line for a proxy or for global: "log global", or a target. */
int cfg_parse_log_line(struct cfg_ctx *ctx, struct log_list *dst, bool *global_flag, int argc, char **argv,
		       char **err);
int cfg_parse_log_line(struct cfg_ctx *ctx, struct log_list *dst, bool *global_flag, int argc, char **argv,
		       char **err)
{
	struct log_target *t = NULL;

	if (argc < 2) {
		memprintf(err, "expects 'global' or a target (stdout, stderr, /dev/log, <ip>:<port>) and a facility");
		return CFG_ERR;
	}
	if (!strcmp(argv[1], "global")) {
		if (!global_flag) {
			memprintf(err, "'log global' is only valid in proxies");
			return CFG_ERR;
		}
		if (too_many(argc, argv, 1, err))
			return CFG_ERR;
		*global_flag = true;
		return CFG_OK;
	}
	if (log_target_parse(argc - 1, argv + 1, &t, err) < 0)
		return CFG_ERR;
	if (log_list_add(&ctx->conf->all_targets, t) < 0) {
		log_target_free(t);
		memprintf(err, "out of memory");
		return CFG_ERR;
	}
	if (log_list_add(dst, t) < 0) {
		memprintf(err, "out of memory");
		return CFG_ERR;
	}
	return CFG_OK;
}

static int kw_log(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	return cfg_parse_log_line(ctx, &ctx->px->logs, &ctx->px->log_global, argc, argv, err);
}

static int kw_no(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	if (argc >= 2 && !strcmp(argv[1], "option"))
		return set_option(ctx, argc - 1, argv + 1, true, err);
	if (argc == 2 && !strcmp(argv[1], "log")) {
		log_list_free(&ctx->px->logs);
		ctx->px->log_global = false;
		return CFG_OK;
	}
	memprintf(err, "'no' applies to 'option <name>' and 'log'");
	return CFG_ERR;
}

static int kw_log_format(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct lf_expr *e = NULL;

	if (need_args(argc, argv, 1, err))
		return CFG_ERR;
	if (argc > 2) {
		memprintf(err, "expects one argument: quote the format or escape its spaces with '\\ '");
		return CFG_ERR;
	}
	/* compile now so the error names this line */
	if (lf_compile(argv[1], &e, err) < 0)
		return CFG_ERR;
	lf_free(e);
	free(ctx->px->log_format);
	ctx->px->log_format = strdup(argv[1]);
	ctx->px->options &= ~PR_O_TCPLOG;
	return ctx->px->log_format ? CFG_OK : CFG_ERR;
}

static int kw_unique_id_format(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct lf_expr *e = NULL;

	if (need_args(argc, argv, 1, err))
		return CFG_ERR;
	if (argc > 2) {
		memprintf(err, "expects one argument: quote the format or escape its spaces with '\\ '");
		return CFG_ERR;
	}
	if (lf_compile(argv[1], &e, err) < 0)
		return CFG_ERR;
	lf_free(e);
	free(ctx->px->unique_id_fmt);
	ctx->px->unique_id_fmt = strdup(argv[1]);
	return ctx->px->unique_id_fmt ? CFG_OK : CFG_ERR;
}

static int kw_description(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	size_t len = 0;

	if (need_args(argc, argv, 1, err))
		return CFG_ERR;
	free(ctx->px->description);
	for (int i = 1; i < argc; i++)
		len += strlen(argv[i]) + 1;
	ctx->px->description = calloc(1, len + 1);
	if (!ctx->px->description)
		return CFG_ERR;
	for (int i = 1; i < argc; i++) {
		if (i > 1)
			strcat(ctx->px->description, " ");
		strcat(ctx->px->description, argv[i]);
	}
	return CFG_OK;
}

static int kw_disabled(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	if (too_many(argc, argv, 0, err))
		return CFG_ERR;
	ctx->px->disabled = !strcmp(argv[0], "disabled");
	return CFG_OK;
}

static int kw_id(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	unsigned long long v;

	if (need_args(argc, argv, 1, err) || cfg_parse_uint(argv[1], 0x7fffffff, &v) < 0) {
		memprintf(err, "expects a positive integer");
		return CFG_ERR;
	}
	return CFG_OK;
}

static int kw_source(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	int used = 0;

	if (need_args(argc, argv, 1, err))
		return CFG_ERR;
	src_conf_free(&ctx->px->source);
	if (src_parse(argc - 1, argv + 1, &ctx->px->source, &used, err) < 0)
		return CFG_ERR;
	if (used != argc - 1) {
		memprintf(err, "unexpected word '%s'", argv[1 + used]);
		return CFG_ERR;
	}
	return CFG_OK;
}

static int kw_bind(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	return bind_parse(ctx, argc, argv, err);
}

static int kw_default_server(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	return server_parse_default(ctx, argc, argv, err);
}

static int kw_server(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	return server_parse(ctx, argc, argv, err);
}

#define NEEDS_ACL "ACLs and content rules are not implemented yet"
#define L7 "decoyproxy is a layer-4 proxy"

static const struct cfg_kw proxy_kws[] = {
	{ "mode", CFG_SEC_PROXIES, kw_mode, NULL },
	{ "bind", CFG_SEC_FE_NODEF, kw_bind, NULL },
	{ "server", CFG_SEC_BE_NODEF, kw_server, NULL },
	{ "default_backend", CFG_SEC_FE, kw_default_backend, NULL },
	{ "maxconn", CFG_SEC_FE, kw_maxconn, NULL },
	{ "fullconn", CFG_SEC_BE, kw_fullconn, NULL },
	{ "retries", CFG_SEC_BE, kw_retries, NULL },
	{ "balance", CFG_SEC_BE, kw_balance, NULL },
	{ "timeout", CFG_SEC_PROXIES, kw_timeout, NULL },
	{ "option", CFG_SEC_PROXIES, kw_option, NULL },
	{ "no", CFG_SEC_PROXIES, kw_no, NULL },
	{ "log", CFG_SEC_PROXIES, kw_log, NULL },
	{ "log-format", CFG_SEC_FE, kw_log_format, NULL },
	{ "description", CFG_SEC_PROXIES & ~CFG_SEC_DEFAULTS, kw_description, NULL },
	{ "disabled", CFG_SEC_PROXIES, kw_disabled, NULL },
	{ "enabled", CFG_SEC_PROXIES, kw_disabled, NULL },
	{ "id", CFG_SEC_FE_NODEF | CFG_SEC_BE_NODEF, kw_id, NULL },
	{ "source", CFG_SEC_BE, kw_source, NULL },
	/* known HAProxy keywords decoyproxy does not implement (yet) */
	{ "default-server", CFG_SEC_BE, kw_default_server, NULL },
	{ "use_backend", CFG_SEC_FE_NODEF, NULL, NEEDS_ACL },
	{ "use-server", CFG_SEC_BE_NODEF, NULL, NEEDS_ACL },
	{ "acl", CFG_SEC_FE_NODEF | CFG_SEC_BE_NODEF, NULL, NEEDS_ACL },
	{ "tcp-request", CFG_SEC_PROXIES, NULL, NEEDS_ACL },
	{ "tcp-response", CFG_SEC_BE, NULL, NEEDS_ACL },
	{ "unique-id-format", CFG_SEC_FE, kw_unique_id_format, NULL },
	{ "unique-id-header", CFG_SEC_FE, NULL, L7 },
	{ "stick-table", CFG_SEC_PROXIES, NULL, "stick tables are not implemented" },
	{ "stick", CFG_SEC_BE, NULL, "stick tables are not implemented" },
	{ "hash-type", CFG_SEC_BE, NULL, "consistent hashing is not implemented" },
	{ "http-request", CFG_SEC_PROXIES, NULL, L7 },
	{ "http-response", CFG_SEC_PROXIES, NULL, L7 },
	{ "http-after-response", CFG_SEC_PROXIES, NULL, L7 },
	{ "http-check", CFG_SEC_BE, NULL, L7 },
	{ "http-reuse", CFG_SEC_BE, NULL, L7 },
	{ "http-error", CFG_SEC_PROXIES, NULL, L7 },
	{ "errorfile", CFG_SEC_PROXIES, NULL, L7 },
	{ "errorfiles", CFG_SEC_PROXIES, NULL, L7 },
	{ "errorloc", CFG_SEC_PROXIES, NULL, L7 },
	{ "errorloc302", CFG_SEC_PROXIES, NULL, L7 },
	{ "errorloc303", CFG_SEC_PROXIES, NULL, L7 },
	{ "redirect", CFG_SEC_PROXIES, NULL, L7 },
	{ "cookie", CFG_SEC_BE, NULL, L7 },
	{ "capture", CFG_SEC_FE_NODEF, NULL, L7 },
	{ "compression", CFG_SEC_PROXIES, NULL, L7 },
	{ "monitor-uri", CFG_SEC_FE, NULL, L7 },
	{ "monitor", CFG_SEC_FE_NODEF, NULL, L7 },
	{ "stats", CFG_SEC_PROXIES, NULL, "the HTTP statistics page needs HTTP; decoyproxy is a layer-4 proxy" },
	{ "filter", CFG_SEC_PROXIES, NULL, "filters are not implemented" },
	{ "email-alert", CFG_SEC_PROXIES, NULL, "mail alerts are not implemented" },
	{ "persist", CFG_SEC_BE, NULL, L7 },
	{ "dispatch", CFG_SEC_BE_NODEF, NULL, "deprecated in HAProxy; use a 'server' line" },
	{ "log-tag", CFG_SEC_PROXIES, NULL, "per-proxy log tags are not implemented yet; use it in 'global'" },
	{ "rate-limit", CFG_SEC_FE, NULL, "not implemented yet" },
	{ "backlog", CFG_SEC_FE, NULL, "not implemented yet; use the 'backlog' option of 'bind'" },
	{ "server-template", CFG_SEC_BE_NODEF, NULL, "not implemented yet" },
	{ "external-check", CFG_SEC_BE, NULL, "health checks are not implemented yet" },
	{ "load-server-state-from-file", CFG_SEC_BE, NULL, "not implemented" },
	{ "declare", CFG_SEC_PROXIES, NULL, "not implemented" },
	{ "force-persist", CFG_SEC_FE_NODEF | CFG_SEC_BE_NODEF, NULL, L7 },
	{ "ignore-persist", CFG_SEC_FE_NODEF | CFG_SEC_BE_NODEF, NULL, L7 },
	{ "max-keep-alive-queue", CFG_SEC_BE, NULL, L7 },
	{ "grace", CFG_SEC_PROXIES, NULL, "removed from HAProxy" },
};

const struct cfg_kw_list proxy_kw_list = { proxy_kws, ARRAY_SIZE(proxy_kws) };
