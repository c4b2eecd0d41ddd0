/* conf_kw.c — keywords of the defaults, frontend, backend and listen
 * sections, and the section lines that create those proxies. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <ctype.h>
#include <string.h>

#include "cfg/cfg.h"
#include "model/conf.h"
#include "model/bind.h"
#include "log/log.h"
#include "model/proxy.h"
#include "model/server.h"

/* HAProxy's warnifnotcap(): a keyword of frontends (need == CFG_SEC_FRONTEND)
 * or of backends (CFG_SEC_BACKEND) in a proxy without that side is ignored
 * with HAProxy's warning, optionally followed by a hint. Returns CFG_OK when
 * the current section has the capability (defaults and listen have both),
 * else CFG_WARN with the message in *err. */
static int ignored_unless(struct cfg_ctx *ctx, unsigned need, const char *what, const char *hint, char **err)
{
	if (ctx->section & (need | CFG_SEC_DEFAULTS | CFG_SEC_LISTEN))
		return CFG_OK;
	memprintf(err, "'%s' ignored because %s '%s' has no %s capability.%s%s", what,
		  ctx->section == CFG_SEC_FRONTEND ? "frontend" : "backend", ctx_px(ctx)->name,
		  need == CFG_SEC_FRONTEND ? "frontend" : "backend", hint ? " " : "", hint ? hint : "");
	return CFG_WARN;
}

static int kw_mode(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct proxy *px = ctx_px(ctx);

	if (cfg_need_args(argc, argv, 1, err) || cfg_max_args(argc, argv, 1, err))
		return CFG_ERR;
	if (!strcmp(argv[1], "tcp") || !strcmp(argv[1], "http")) {
		/* `mode http` is accepted here: a defaults section of HTTP
		 * mode is fine as long as every proxy that relays sets `mode
		 * tcp`, and a statistics proxy is served in HTTP mode. A
		 * proxy left in HTTP mode otherwise is refused once every file
		 * is read (ctl/stats_http_kw.c), naming this line. */
		px->mode = strcmp(argv[1], "tcp") ? PR_MODE_HTTP : PR_MODE_TCP;
		px->mode_file = px->file;
		px->mode_line = ctx->line;
		return CFG_OK;
	}
	if (!strcmp(argv[1], "health")) {
		memprintf(err, "'mode health' was removed from HAProxy and is not supported");
		return CFG_ERR;
	}
	memprintf(err, "unknown mode '%s' (decoyproxy supports 'tcp', and 'http' for a statistics proxy)", argv[1]);
	return CFG_ERR;
}

static int kw_maxconn(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	unsigned long long v;

	if (cfg_need_args(argc, argv, 1, err) || cfg_max_args(argc, argv, 1, err))
		return CFG_ERR;
	if (cfg_kw_uint(argv[1], 0, 10000000, &v, err) < 0)
		return CFG_ERR;
	/* a backend limits its servers with `maxconn` on each server line */
	if (ignored_unless(ctx, CFG_SEC_FRONTEND, argv[0], "Maybe you want 'fullconn' instead ?", err))
		return CFG_WARN;
	ctx_px(ctx)->maxconn = (unsigned)v;
	return CFG_OK;
}

static int kw_fullconn(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	unsigned long long v;
	int r;

	/* the backend load at which `minconn` servers reach their maxconn */
	if (cfg_need_args(argc, argv, 1, err) || cfg_max_args(argc, argv, 1, err))
		return CFG_ERR;
	if (cfg_kw_uint(argv[1], 0, 10000000, &v, err) < 0)
		return CFG_ERR;
	r = ignored_unless(ctx, CFG_SEC_BACKEND, argv[0], "Maybe you want 'maxconn' instead ?", err);
	if (r == CFG_OK)
		ctx_px(ctx)->fullconn = (unsigned)v;
	return r;
}

static int kw_retries(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	unsigned long long v;

	if (cfg_need_args(argc, argv, 1, err) || cfg_max_args(argc, argv, 1, err))
		return CFG_ERR;
	/* HAProxy takes any int; a negative or non-numeric value would mean 0
	 * there, which is surely not what was meant: refuse it */
	if (cfg_kw_uint(argv[1], 0, INT_MAX, &v, err) < 0)
		return CFG_ERR;
	if (ignored_unless(ctx, CFG_SEC_BACKEND, argv[0], NULL, err))
		return CFG_WARN;
	ctx_px(ctx)->retries = (int)v;
	return CFG_OK;
}

/* "retry-on conn-failure" is HAProxy's default and the only kind of retry
 * decoyproxy makes (a layer-4 proxy never sees a response to judge). */
static int kw_retry_on(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	static const char *const haproxy_kinds[] = {
		"none", "empty-response", "junk-response", "response-timeout", "0rtt-rejected",
		"401", "403", "404", "408", "425", "500", "501", "502", "503", "504",
		"all-retryable-errors", NULL,
	};

	if (cfg_need_args(argc, argv, 1, err))
		return CFG_ERR;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "conn-failure"))
			continue;
		for (size_t k = 0; haproxy_kinds[k]; k++) {
			if (strcmp(argv[i], haproxy_kinds[k]))
				continue;
			memprintf(err, "'%s' is not supported: decoyproxy retries failed connections only ('retry-on conn-failure'%s)",
				  argv[i], strcmp(argv[i], "none") ? "" : "; use 'retries 0' to never retry");
			return CFG_ERR;
		}
		memprintf(err, "unknown keyword '%s'", argv[i]);
		return CFG_ERR;
	}
	return CFG_OK;
}

static int kw_default_backend(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	if (cfg_need_args(argc, argv, 1, err) || cfg_max_args(argc, argv, 1, err))
		return CFG_ERR;
	if (ignored_unless(ctx, CFG_SEC_FRONTEND, argv[0], NULL, err))
		return CFG_WARN;
	free(ctx_px(ctx)->defbe_name);
	ctx_px(ctx)->defbe_name = strdup(argv[1]);
	ctx_px(ctx)->defbe_line = ctx->line;
	return ctx_px(ctx)->defbe_name ? CFG_OK : CFG_ERR;
}

static int kw_balance(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	static const struct { const char *name; int algo; } algos[] = {
		{ "roundrobin", LB_ROUNDROBIN }, { "static-rr", LB_STATIC_RR },
		{ "leastconn", LB_LEASTCONN }, { "first", LB_FIRST }, { "source", LB_SOURCE },
	};

	if (cfg_need_args(argc, argv, 1, err))
		return CFG_ERR;
	for (size_t i = 0; i < ARRAY_SIZE(algos); i++) {
		if (!strcmp(argv[1], algos[i].name)) {
			if (cfg_max_args(argc, argv, 1, err))
				return CFG_ERR;
			if (ignored_unless(ctx, CFG_SEC_BACKEND, argv[0], NULL, err))
				return CFG_WARN;
			ctx_px(ctx)->lbalgo = algos[i].algo;
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
	/* HAProxy timeouts that have no effect on a TCP proxy, in HAProxy
	 * either (HTTP request, keep-alive and tarpit phases). */
	static const char *const tcp_noop[] = { "http-request", "http-keep-alive", "tarpit", NULL };
	long long ms;
	const char *names[ARRAY_SIZE(tos) + 8];
	size_t n = 0;
	const char *best;
	char what[64];
	int r;

	if (argc < 3) {
		memprintf(err, "expects 'connect', 'client', 'server', 'client-fin', 'server-fin', 'tunnel', 'queue' or 'check' followed by a time");
		return CFG_ERR;
	}
	if (cfg_max_args(argc, argv, 2, err))
		return CFG_ERR;
	snprintf(what, sizeof(what), "timeout %s", argv[1]);
	r = cfg_time_arg(what, argv[2], &ms, err);
	if (r == -ERANGE)
		return CFG_ERR;
	if (r < 0) {
		memprintf(err, "timeout %s: invalid time '%s' (a number with an optional unit: us, ms, s, m, h, d)",
			  argv[1], argv[2]);
		return CFG_ERR;
	}
	for (size_t i = 0; i < ARRAY_SIZE(tos); i++) {
		if (!strcmp(argv[1], tos[i].name)) {
			if (!(tos[i].sections & ctx->section)) {
				/* HAProxy's wording for timeouts */
				memprintf(err, "'%s' will be ignored because %s '%s' has no %s capability", what,
					  ctx->section == CFG_SEC_FRONTEND ? "frontend" : "backend", ctx_px(ctx)->name,
					  ctx->section == CFG_SEC_FRONTEND ? "backend" : "frontend");
				return CFG_WARN;
			}
			*(long long *)((char *)&ctx_px(ctx)->to + tos[i].off) = ms;
			return CFG_OK;
		}
	}
	if (!strcmp(argv[1], "check")) {
		/* Checks end once connected, so only HAProxy's rule for the
		 * connect phase applies (chk_conn_timeout_ms()). */
		if (!(ctx->section & CFG_SEC_BE)) {
			memprintf(err, "'%s' will be ignored because frontend '%s' has no backend capability", what,
				  ctx_px(ctx)->name);
			return CFG_WARN;
		}
		ctx_px(ctx)->to.check = ms;
		if (ms)
			ctx_px(ctx)->options |= CHK_PXO_TIMEOUT;
		else
			ctx_px(ctx)->options &= ~CHK_PXO_TIMEOUT;
		return CFG_OK;
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
	names[n++] = "check";
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

enum opt_kind {
	OPT_FLAG,       /* sets (or with `no`, clears) `flag` in proxy->options */
	OPT_FIXED,      /* what decoyproxy always does: accepted; `no option` refused with `why` */
	OPT_NOEFFECT,   /* no effect on a TCP proxy, in HAProxy either: accepted */
	OPT_REFUSED,    /* refused with `why` */
};

struct opt_def {
	const char *name;
	enum opt_kind kind;
	unsigned flag;
	unsigned sections;    /* where HAProxy uses it; elsewhere it is ignored with a warning */
	const char *why;
};

#define L4_CHECKS "this protocol check is not yet supported by decoyproxy (tcp-check, httpchk, redis-check, smtpchk, pgsql-check, mysql-check, ldap-check and ssl-hello-chk are)"

static const struct opt_def options[] = {
	{ "tcplog", OPT_FLAG, PR_O_TCPLOG, CFG_SEC_FE, NULL },
	{ "dontlognull", OPT_FLAG, PR_O_DONTLOGNULL, CFG_SEC_FE, NULL },
	{ "log-separate-errors", OPT_FLAG, PR_O_LOGERRSEP, CFG_SEC_FE, NULL },
	{ "redispatch", OPT_FLAG, PR_O_REDISPATCH, CFG_SEC_BE, NULL },
	{ "nolinger", OPT_FLAG, PR_O_NOLINGER_CL | PR_O_NOLINGER_SV, CFG_SEC_PROXIES, NULL },
	{ "clitcpka", OPT_FLAG, PR_O_KA_CL, CFG_SEC_FE, NULL },
	{ "srvtcpka", OPT_FLAG, PR_O_KA_SV, CFG_SEC_BE, NULL },
	{ "tcpka", OPT_FLAG, PR_O_KA_CL | PR_O_KA_SV, CFG_SEC_PROXIES, NULL },
	{ "log-health-checks", OPT_FLAG, CHK_PXO_LOG, CFG_SEC_BE, NULL },
	{ "log-probes", OPT_FLAG, PR_O_LOGPROBES, CFG_SEC_FE_NODEF, NULL },
	{ "allbackups", OPT_FIXED, 0, CFG_SEC_BE,
	  "decoyproxy always balances over every usable backup server when no active server is usable" },
	{ "tcp-smart-accept", OPT_NOEFFECT, 0, CFG_SEC_FE, NULL },
	{ "tcp-smart-connect", OPT_NOEFFECT, 0, CFG_SEC_BE, NULL },
	{ "independent-streams", OPT_NOEFFECT, 0, CFG_SEC_PROXIES, NULL },
	{ "splice-auto", OPT_FLAG, PR_O_SPLICE_AUT, CFG_SEC_PROXIES, NULL },
	{ "splice-request", OPT_FLAG, PR_O_SPLICE_REQ, CFG_SEC_PROXIES, NULL },
	{ "splice-response", OPT_FLAG, PR_O_SPLICE_RES, CFG_SEC_PROXIES, NULL },
	{ "logasap", OPT_FLAG, PR_O_LOGASAP, CFG_SEC_FE, NULL },
	{ "dontlog-normal", OPT_REFUSED, 0, CFG_SEC_FE, "not implemented yet" },
	{ "contstats", OPT_REFUSED, 0, CFG_SEC_FE, "traffic counters are updated when a session ends" },
	{ "socket-stats", OPT_REFUSED, 0, CFG_SEC_FE, "per-listener stats are not implemented yet" },
	{ "abortonclose", OPT_REFUSED, 0, CFG_SEC_BE, "not implemented yet" },
	{ "persist", OPT_REFUSED, 0, CFG_SEC_BE, "persistence needs cookies; decoyproxy is a layer-4 proxy" },
	{ "spop-check", OPT_REFUSED, 0, CFG_SEC_BE, L4_CHECKS },
	{ "external-check", OPT_REFUSED, 0, CFG_SEC_BE, "external checks are not supported; health checks are TCP connects" },
	{ "transparent", OPT_REFUSED, 0, CFG_SEC_BE, "HAProxy's deprecated 'option transparent' is not supported; use 'server ... 0.0.0.0' or 'source ... usesrc'" },
};

/* HTTP options decoyproxy refuses wherever they appear (removed from
 * HAProxy, or health checks of the HTTP kind). */
static const char *const http_options[] = {
	"forceclose", "http-tunnel", "http_proxy", NULL,
};

/* HTTP options without effect on a TCP proxy, in HAProxy either, which
 * accepts them silently there: the connection-mode options Debian's
 * default configuration carries, and header-case tweaks. */
static const char *const http_noeffect[] = {
	"httpclose", "http-server-close", "http-keep-alive", "h1-case-adjust-bogus-client",
	"h1-case-adjust-bogus-server", "http-restrict-req-hdr-names", NULL,
};

/* Arguments of `option forwardfor [except <net>] [header <name>] [if-none]`
 * and `option originalto [except <net>] [header <name>]`: checked for
 * their shape only (the options have no effect here, see
 * set_http_option()). */
static int http_opt_args(int argc, char **argv, char **err)
{
	bool ff = !strcmp(argv[1], "forwardfor");

	for (int i = 2; i < argc; i++) {
		if (ff && !strcmp(argv[i], "if-none"))
			continue;
		if (!strcmp(argv[i], "except") || !strcmp(argv[i], "header")) {
			if (i + 1 >= argc || !*argv[i + 1]) {
				memprintf(err, "option '%s': '%s' expects a value", argv[1], argv[i]);
				return -EINVAL;
			}
			i++;
			continue;
		}
		memprintf(err, "option '%s': unexpected word '%s' (expects 'except', 'header'%s)", argv[1], argv[i],
			  ff ? " or 'if-none'" : "");
		return -EINVAL;
	}
	return 0;
}

/* The HTTP options HAProxy accepts in every proxy: remembered (inherited
 * from defaults like the others) so that a proxy that ends up in TCP mode
 * ignores them with HAProxy's warning (dp_config_finalize), and `option
 * httplog` falls back to tcplog there. Returns CFG_OK/CFG_WARN/CFG_ERR, or
 * NOT_HTTP_OPT when argv[1] is not one of them. */
#define NOT_HTTP_OPT 2
static int set_http_option(struct cfg_ctx *ctx, int argc, char **argv, bool neg, char **err)
{
	struct proxy *px = ctx_px(ctx);

	if (!strcmp(argv[1], "httplog") || !strcmp(argv[1], "httpslog")) {
		bool https = !strcmp(argv[1], "httpslog");

		if (argc > 3 || (argc == 3 && (https || strcmp(argv[2], "clf")))) {
			memprintf(err, "option '%s' %s", argv[1], https ? "takes no argument" : "only accepts 'clf'");
			return CFG_ERR;
		}
		if (ignored_unless(ctx, CFG_SEC_FRONTEND, https ? "option httpslog" : "option httplog", NULL, err))
			return CFG_WARN;
		if (neg) {
			px->httplog = PR_HTTPLOG_NONE;
			return CFG_OK;
		}
		/* replaces tcplog and any earlier log-format, as in HAProxy */
		free(px->log_format);
		px->log_format = NULL;
		px->options &= ~PR_O_TCPLOG;
		px->httplog = https ? PR_HTTPLOG_HTTPS : PR_HTTPLOG_HTTP;
		px->httplog_file = px->file;
		px->httplog_line = ctx->line;
		return CFG_OK;
	}
	for (unsigned i = 0; proxy_http_opts[i].name; i++) {
		const struct proxy_http_opt *o = &proxy_http_opts[i];
		bool args = !strcmp(o->name, "forwardfor") || !strcmp(o->name, "originalto");
		char what[64];

		if (strcmp(argv[1], o->name))
			continue;
		if (!args && argc > 2) {
			memprintf(err, "option '%s' takes no argument", o->name);
			return CFG_ERR;
		}
		if (args && !neg && http_opt_args(argc, argv, err) < 0)
			return CFG_ERR;
		snprintf(what, sizeof(what), "option %s", o->name);
		if (o->cap != (PR_CAP_FE | PR_CAP_BE) &&
		    ignored_unless(ctx, o->cap == PR_CAP_FE ? CFG_SEC_FRONTEND : CFG_SEC_BACKEND, what, NULL, err))
			return CFG_WARN;
		if (neg)
			px->http_opts &= ~(1u << i);
		else
			px->http_opts |= 1u << i;
		return CFG_OK;
	}
	for (size_t i = 0; http_noeffect[i]; i++) {
		if (strcmp(argv[1], http_noeffect[i]))
			continue;
		if (!strcmp(argv[1], "http-restrict-req-hdr-names")) {
			if (!neg && (argc != 3 || (strcmp(argv[2], "preserve") && strcmp(argv[2], "reject") &&
						   strcmp(argv[2], "delete")))) {
				memprintf(err, "option '%s' expects 'preserve', 'reject' or 'delete'", argv[1]);
				return CFG_ERR;
			}
		} else if (argc > 2) {
			memprintf(err, "option '%s' takes no argument", argv[1]);
			return CFG_ERR;
		}
		return CFG_OK;
	}
	return NOT_HTTP_OPT;
}

static int set_option(struct cfg_ctx *ctx, int argc, char **argv, bool neg, char **err)
{
	const char *names[ARRAY_SIZE(options) + 1];
	const char *best;
	int r;

	if (argc < 2) {
		memprintf(err, "expects an option name");
		return CFG_ERR;
	}
	/* the protocol health checks (model/proxy_chk.c) */
	if ((r = proxy_chk_option(ctx, argc, argv, neg, err)) != CHKRULE_NOT_MINE)
		return r;
	if ((r = set_http_option(ctx, argc, argv, neg, err)) != NOT_HTTP_OPT)
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(options); i++) {
		const struct opt_def *o = &options[i];

		if (strcmp(argv[1], o->name))
			continue;
		if (o->kind == OPT_REFUSED) {
			memprintf(err, "option '%s' is not supported: %s", o->name, o->why);
			return CFG_ERR;
		}
		if (o->kind == OPT_FIXED && neg) {
			memprintf(err, "'no option %s' is not supported: %s", o->name, o->why);
			return CFG_ERR;
		}
		if (argc > 2 && strcmp(o->name, "tcplog")) {
			memprintf(err, "option '%s' takes no argument", o->name);
			return CFG_ERR;
		}
		if (argc > 2 && !strcmp(argv[2], "clf")) {
			memprintf(err, "option tcplog: the 'clf' format is not supported");
			return CFG_ERR;
		}
		if (!(o->sections & ctx->section)) {
			char what[64];

			snprintf(what, sizeof(what), "option %s", o->name);
			return ignored_unless(ctx, (o->sections & CFG_SEC_FRONTEND) ? CFG_SEC_FRONTEND : CFG_SEC_BACKEND,
					      what, NULL, err);
		}
		if (o->kind != OPT_FLAG)
			return CFG_OK;
		if (neg)
			ctx_px(ctx)->options &= ~o->flag;
		else
			ctx_px(ctx)->options |= o->flag;
		if (o->flag == PR_O_TCPLOG && !neg) {
			/* option tcplog replaces any earlier log-format or httplog */
			free(ctx_px(ctx)->log_format);
			ctx_px(ctx)->log_format = NULL;
			ctx_px(ctx)->httplog = PR_HTTPLOG_NONE;
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
		if (cfg_max_args(argc, argv, 1, err))
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
	return cfg_parse_log_line(ctx, &ctx_px(ctx)->logs, &ctx_px(ctx)->log_global, argc, argv, err);
}

static int kw_no(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	if (argc >= 2 && !strcmp(argv[1], "option"))
		return set_option(ctx, argc - 1, argv + 1, true, err);
	if (argc == 2 && !strcmp(argv[1], "log")) {
		log_list_free(&ctx_px(ctx)->logs);
		ctx_px(ctx)->log_global = false;
		return CFG_OK;
	}
	memprintf(err, "'no' applies to 'option <name>' and 'log'");
	return CFG_ERR;
}

static int kw_log_format(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct lf_expr *e = NULL;

	if (cfg_need_args(argc, argv, 1, err))
		return CFG_ERR;
	if (argc > 2) {
		memprintf(err, "expects one argument: quote the format or escape its spaces with '\\ '");
		return CFG_ERR;
	}
	/* compile now so the error names this line */
	if (lf_compile(argv[1], &e, err) < 0)
		return CFG_ERR;
	lf_free(e);
	if (ignored_unless(ctx, CFG_SEC_FRONTEND, argv[0], NULL, err))
		return CFG_WARN;
	free(ctx_px(ctx)->log_format);
	ctx_px(ctx)->log_format = strdup(argv[1]);
	ctx_px(ctx)->options &= ~PR_O_TCPLOG;
	ctx_px(ctx)->httplog = PR_HTTPLOG_NONE;
	return ctx_px(ctx)->log_format ? CFG_OK : CFG_ERR;
}

static int kw_unique_id_format(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct lf_expr *e = NULL;

	if (cfg_need_args(argc, argv, 1, err))
		return CFG_ERR;
	if (argc > 2) {
		memprintf(err, "expects one argument: quote the format or escape its spaces with '\\ '");
		return CFG_ERR;
	}
	if (lf_compile(argv[1], &e, err) < 0)
		return CFG_ERR;
	lf_free(e);
	free(ctx_px(ctx)->unique_id_fmt);
	ctx_px(ctx)->unique_id_fmt = strdup(argv[1]);
	return ctx_px(ctx)->unique_id_fmt ? CFG_OK : CFG_ERR;
}

static int kw_description(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	size_t len = 0;

	if (cfg_need_args(argc, argv, 1, err))
		return CFG_ERR;
	free(ctx_px(ctx)->description);
	for (int i = 1; i < argc; i++)
		len += strlen(argv[i]) + 1;
	ctx_px(ctx)->description = calloc(1, len + 1);
	if (!ctx_px(ctx)->description)
		return CFG_ERR;
	for (int i = 1; i < argc; i++) {
		if (i > 1)
			strcat(ctx_px(ctx)->description, " ");
		strcat(ctx_px(ctx)->description, argv[i]);
	}
	return CFG_OK;
}

static int kw_disabled(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	if (cfg_max_args(argc, argv, 0, err))
		return CFG_ERR;
	ctx_px(ctx)->disabled = !strcmp(argv[0], "disabled");
	return CFG_OK;
}

static int kw_id(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	unsigned long long v;

	if (cfg_need_args(argc, argv, 1, err) || cfg_parse_uint(argv[1], 0x7fffffff, &v) < 0) {
		memprintf(err, "expects a positive integer");
		return CFG_ERR;
	}
	return CFG_OK;
}

static int kw_source(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	int used = 0;

	if (cfg_need_args(argc, argv, 1, err))
		return CFG_ERR;
	if (ignored_unless(ctx, CFG_SEC_BACKEND, argv[0], NULL, err))
		return CFG_WARN;
	src_conf_free(&ctx_px(ctx)->source);
	if (src_parse(argc - 1, argv + 1, &ctx_px(ctx)->source, &used, err) < 0)
		return CFG_ERR;
	if (used != argc - 1) {
		memprintf(err, "unexpected word '%s'", argv[1 + used]);
		return CFG_ERR;
	}
	return CFG_OK;
}

static int kw_bind(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	/* in a backend HAProxy warns and opens nothing that would be used */
	if (ignored_unless(ctx, CFG_SEC_FRONTEND, argv[0], NULL, err))
		return CFG_WARN;
	struct proxy *px = ctx_px(ctx);
	struct bind_conf *bc;

	if (bind_parse(ctx, argc, argv, &ctx->conf->g.unix_bind, &bc, err) != CFG_OK)
		return CFG_ERR;
	bc->fe = px;
	if (!px->binds)
		px->binds = bc;
	else
		px->binds_last->next = bc;
	px->binds_last = bc;
	return CFG_OK;
}

static int kw_bind_process(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	/* HAProxy 2.6's own words: it has no effect there either */
	memprintf(err, "'%s' has no effect, is deprecated, and will be removed in version 2.7.", argv[0]);
	return CFG_WARN;
}

static int kw_default_server(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct proxy *px = ctx_px(ctx);
	int r = server_parse_default(ctx, argc, argv, &px->defsrv, err);

	if (px->defsrv)
		px->defsrv->px = px;
	return r;
}

static int kw_server(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct proxy *px = ctx_px(ctx);
	struct server *s;

	if (server_parse(ctx, argc, argv, px->defsrv, &s, err) != CFG_OK)
		return CFG_ERR;
	s->px = px;
	if (!px->srv)
		px->srv = s;
	else
		px->srv_last->next = s;
	px->srv_last = s;
	px->nsrv++;
	return CFG_OK;
}

/* errorfile <code> <file>, errorloc|errorloc302|errorloc303 <code> <url>:
 * HTTP error pages. They only matter to HTTP proxies (HAProxy ignores them
 * in TCP mode without a word), and the one HTTP service decoyproxy has, the
 * statistics page, writes its own answers: the status code is checked as
 * HAProxy does, the file is not read (so that a configuration such as
 * Debian's, whose defaults name /etc/haproxy/errors/, loads on a host
 * without them, and a reload inside a chroot does not need them). */
static int kw_errorfile(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	static const int codes[] = { 200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 425, 429,
				     500, 501, 502, 503, 504 };
	unsigned long long code;

	if (argc != 3) {
		memprintf(err, "%s <code> <%s> expected", argv[0], strcmp(argv[0], "errorfile") ? "url" : "file");
		return CFG_ERR;
	}
	if (cfg_parse_uint(argv[1], 999, &code) == 0)
		for (size_t i = 0; i < ARRAY_SIZE(codes); i++)
			if ((int)code == codes[i])
				return CFG_OK;
	memprintf(err, "status code '%s' not handled.", argv[1]);
	return CFG_ERR;
}

#define NEEDS_ACL "response content rules are not implemented yet"
#define L7 "decoyproxy is a layer-4 proxy"
#define KEEPALIVE "TCP keep-alive ('option clitcpka'/'srvtcpka') uses the kernel's idle, interval and count settings"
/* Keywords of one side that HAProxy ignores with a warning on the other side
 * are registered for every proxy section; their handler says so
 * (ignored_unless()). */
static const struct cfg_kw proxy_kws[] = {
	{ "mode", CFG_SEC_PROXIES, kw_mode, NULL },
	{ "bind", CFG_SEC_FRONTEND | CFG_SEC_LISTEN | CFG_SEC_BACKEND, kw_bind, NULL },
	{ "server", CFG_SEC_BE_NODEF, kw_server, NULL },
	{ "default_backend", CFG_SEC_PROXIES, kw_default_backend, NULL },
	{ "maxconn", CFG_SEC_PROXIES, kw_maxconn, NULL },
	{ "fullconn", CFG_SEC_PROXIES, kw_fullconn, NULL },
	{ "retries", CFG_SEC_PROXIES, kw_retries, NULL },
	{ "retry-on", CFG_SEC_BE, kw_retry_on, NULL },
	{ "balance", CFG_SEC_PROXIES, kw_balance, NULL },
	{ "timeout", CFG_SEC_PROXIES, kw_timeout, NULL },
	{ "option", CFG_SEC_PROXIES, kw_option, NULL },
	{ "no", CFG_SEC_PROXIES, kw_no, NULL },
	{ "log", CFG_SEC_PROXIES, kw_log, NULL },
	{ "log-format", CFG_SEC_PROXIES, kw_log_format, NULL },
	{ "description", CFG_SEC_PROXIES & ~CFG_SEC_DEFAULTS, kw_description, NULL },
	{ "disabled", CFG_SEC_PROXIES, kw_disabled, NULL },
	{ "enabled", CFG_SEC_PROXIES, kw_disabled, NULL },
	{ "id", CFG_SEC_FE_NODEF | CFG_SEC_BE_NODEF, kw_id, NULL },
	{ "source", CFG_SEC_PROXIES, kw_source, NULL },
	{ "default-server", CFG_SEC_BE, kw_default_server, NULL },
	{ "unique-id-format", CFG_SEC_FE, kw_unique_id_format, NULL },
	{ "bind-process", CFG_SEC_PROXIES, kw_bind_process, NULL },
	/* known HAProxy keywords decoyproxy does not implement (yet) */
	{ "tcp-response", CFG_SEC_BE, NULL, NEEDS_ACL },
	{ "clitcpka-cnt", CFG_SEC_FE, NULL, KEEPALIVE },
	{ "clitcpka-idle", CFG_SEC_FE, NULL, KEEPALIVE },
	{ "clitcpka-intvl", CFG_SEC_FE, NULL, KEEPALIVE },
	{ "srvtcpka-cnt", CFG_SEC_BE, NULL, KEEPALIVE },
	{ "srvtcpka-idle", CFG_SEC_BE, NULL, KEEPALIVE },
	{ "srvtcpka-intvl", CFG_SEC_BE, NULL, KEEPALIVE },
	{ "log-format-sd", CFG_SEC_FE, NULL, "RFC 5424 structured data is not implemented" },
	{ "error-log-format", CFG_SEC_FE, NULL, "connection errors are logged in HAProxy's default format" },
	{ "unique-id-header", CFG_SEC_FE, NULL, L7 },
	{ "stick", CFG_SEC_BE, NULL, "stick persistence rules are not implemented" },
	{ "hash-type", CFG_SEC_BE, NULL, "consistent hashing is not implemented" },
	{ "hash-balance-factor", CFG_SEC_BE, NULL, "consistent hashing is not implemented" },
	{ "http-response", CFG_SEC_PROXIES, NULL, L7 },
	{ "http-after-response", CFG_SEC_PROXIES, NULL, L7 },
	{ "http-reuse", CFG_SEC_BE, NULL, L7 },
	{ "http-error", CFG_SEC_PROXIES, NULL, L7 },
	{ "http-send-name-header", CFG_SEC_BE, NULL, L7 },
	{ "max-session-srv-conns", CFG_SEC_FE, NULL, L7 },
	{ "use-fcgi-app", CFG_SEC_BE_NODEF, NULL, L7 },
	{ "errorfile", CFG_SEC_PROXIES, kw_errorfile, NULL },
	{ "errorfiles", CFG_SEC_PROXIES, NULL, L7 },
	{ "errorloc", CFG_SEC_PROXIES, kw_errorfile, NULL },
	{ "errorloc302", CFG_SEC_PROXIES, kw_errorfile, NULL },
	{ "errorloc303", CFG_SEC_PROXIES, kw_errorfile, NULL },
	{ "redirect", CFG_SEC_PROXIES, NULL, L7 },
	{ "cookie", CFG_SEC_BE, NULL, L7 },
	{ "capture", CFG_SEC_FE_NODEF, NULL, L7 },
	{ "compression", CFG_SEC_PROXIES, NULL, L7 },
	{ "monitor-uri", CFG_SEC_FE, NULL, L7 },
	{ "monitor", CFG_SEC_FE_NODEF, NULL, L7 },
	{ "filter", CFG_SEC_PROXIES, NULL, "filters are not implemented" },
	{ "email-alert", CFG_SEC_PROXIES, NULL, "mail alerts are not implemented" },
	{ "persist", CFG_SEC_BE, NULL, L7 },
	{ "dispatch", CFG_SEC_BE_NODEF, NULL, "deprecated in HAProxy; use a 'server' line" },
	{ "transparent", CFG_SEC_BE, NULL, "HAProxy's deprecated 'transparent' is not supported; use 'server ... 0.0.0.0' or 'source ... usesrc'" },
	{ "log-tag", CFG_SEC_PROXIES, NULL, "per-proxy log tags are not implemented yet; use it in 'global'" },
	{ "rate-limit", CFG_SEC_FE, NULL, "not implemented yet" },
	{ "backlog", CFG_SEC_FE, NULL, "not implemented yet; use the 'backlog' option of 'bind'" },
	{ "server-template", CFG_SEC_BE_NODEF, NULL, "not implemented yet" },
	{ "external-check", CFG_SEC_BE, NULL, "external checks are not supported; health checks are TCP connects" },
	{ "declare", CFG_SEC_PROXIES, NULL, "not implemented" },
	{ "force-persist", CFG_SEC_FE_NODEF | CFG_SEC_BE_NODEF, NULL, L7 },
	{ "ignore-persist", CFG_SEC_FE_NODEF | CFG_SEC_BE_NODEF, NULL, L7 },
	{ "max-keep-alive-queue", CFG_SEC_BE, NULL, L7 },
	{ "grace", CFG_SEC_PROXIES, NULL, "removed from HAProxy" },
};

const struct cfg_kw_list proxy_kw_list = { proxy_kws, ARRAY_SIZE(proxy_kws) };

/* ---- sections: defaults, frontend, backend, listen ------------------------ */

/* "<section> [<name>] [from <defaults>]": creates the proxy (inheriting
 * from the named or the latest defaults section) and makes it the current
 * object. Reports its own errors (returns CFG_ERR with *err left NULL). */
static int proxy_section_open(struct cfg_ctx *ctx, int argc, char **argv, char **err_out)
{
	const char *s = argv[0];
	int sec = ctx->section;
	unsigned cap;
	const char *name = NULL, *from = NULL;
	struct proxy *px;
	char *err = NULL;

	(void)err_out;
	switch (sec) {
	case CFG_SEC_DEFAULTS: cap = PR_CAP_DEF; break;
	case CFG_SEC_FRONTEND: cap = PR_CAP_FE; break;
	case CFG_SEC_BACKEND: cap = PR_CAP_BE; break;
	default: cap = PR_CAP_FE | PR_CAP_BE; break;
	}

	/* "<section> [<name>] [from <defaults>]" */
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "from")) {
			if (i + 1 >= argc) {
				cfg_alert(ctx, "'%s': 'from' expects the name of a defaults section", s);
				return CFG_ERR;
			}
			from = argv[++i];
		} else if (!name) {
			name = argv[i];
		} else if (sec == CFG_SEC_LISTEN || sec == CFG_SEC_FRONTEND) {
			/* HAProxy 1.x's "listen <name> <addr>", refused by
			 * HAProxy 2.x with these words */
			cfg_alert(ctx, "please use the 'bind' keyword for listening addresses.");
			return CFG_ERR;
		} else {
			cfg_alert(ctx, "'%s %s': unexpected word '%s'", s, name, argv[i]);
			return CFG_ERR;
		}
	}
	if (!name && sec != CFG_SEC_DEFAULTS) {
		cfg_alert(ctx, "'%s' expects a name", s);
		return CFG_ERR;
	}
	if (name) {
		for (const char *c = name; *c; c++) {
			if (!isalnum((unsigned char)*c) && !strchr("-_.:", *c)) {
				cfg_alert(ctx, "%s '%s': character '%c' is not permitted in a proxy name", s, name, *c);
				return CFG_ERR;
			}
		}
	}

	px = proxy_new(ctx->conf, name, cap, ctx->file, ctx->line);
	if (!px) {
		cfg_alert(ctx, "out of memory");
		return CFG_ERR;
	}
	if (from) {
		struct proxy *def = NULL;

		for (struct proxy *d = ctx->conf->defaults; d; d = d->next)
			if (d->name && !strcmp(d->name, from)) {
				def = d;
				break;
			}
		if (!def) {
			cfg_alert(ctx, "%s '%s': defaults section '%s' not found%s", s, name ? name : "", from,
				  "");
			proxy_free(px);
			return CFG_ERR;
		}
		if (proxy_inherit(px, def, &err) < 0) {
			cfg_alert(ctx, "%s '%s': %s", s, name ? name : "", err);
			free(err);
			proxy_free(px);
			return CFG_ERR;
		}
		px->defpx = def;
	} else if (ctx->conf->cur_defaults) {
		if (proxy_inherit(px, ctx->conf->cur_defaults, &err) < 0) {
			cfg_alert(ctx, "%s '%s': %s", s, name ? name : "", err);
			free(err);
			proxy_free(px);
			return CFG_ERR;
		}
		if (sec != CFG_SEC_DEFAULTS)
			px->defpx = ctx->conf->cur_defaults;
	}

	if (sec == CFG_SEC_DEFAULTS) {
		if (name) {
			for (struct proxy *d = ctx->conf->defaults; d; d = d->next)
				if (d->name && !strcmp(d->name, name))
					cfg_warn(ctx, "defaults section '%s' redefines the one declared at %s:%d",
						 name, d->file, d->line);
		}
		px->next = ctx->conf->defaults;
		ctx->conf->defaults = px;
		ctx->conf->cur_defaults = px;
	} else {
		struct proxy **pp = &ctx->conf->proxies;

		while (*pp)
			pp = &(*pp)->next;
		*pp = px;
	}
	ctx->sec_data = px;
	return CFG_OK;
}

/* `global`: its keywords fill conf->g; the section has no object. */
static int global_section_open(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	if (argc > 1)
		cfg_warn(ctx, "'global' takes no argument, ignoring '%s'", argv[1]);
	return CFG_OK;
}

const struct cfg_section proxy_sections[] = {
	{ "global", CFG_SEC_GLOBAL, global_section_open, true },
	{ "defaults", CFG_SEC_DEFAULTS, proxy_section_open, true },
	{ "frontend", CFG_SEC_FRONTEND, proxy_section_open, true },
	{ "backend", CFG_SEC_BACKEND, proxy_section_open, true },
	{ "listen", CFG_SEC_LISTEN, proxy_section_open, true },
	{ NULL, 0, NULL, false },
};
