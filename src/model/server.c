/* server.c — `server` lines: address rules (fixed, same port, port offset,
 * original destination) and options; the server's administrative state
 * (ready, drain, maintenance) and what makes it usable. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"
#include "cfg/cfg.h"
#include "cfg/opts.h"
#include "log/log.h"
#include "lib/pp.h"
#include "model/server.h"

/* Option handlers (cfg/opts.h): obj is the server (or the default-server
 * template), args[0] the option. */

static int sk_weight(void *obj, int argc, char **args, char **err)
{
	unsigned long long v;

	if (cfg_opt_uint("weight", args[1], 256, &v, err) < 0)
		return -EINVAL;
	((struct server *)obj)->weight = (unsigned)v;
	return 0;
}

static int sk_maxconn(void *obj, int argc, char **args, char **err)
{
	unsigned long long v;

	if (cfg_opt_uint("maxconn", args[1], 10000000, &v, err) < 0)
		return -EINVAL;
	((struct server *)obj)->maxconn = (unsigned)v;
	return 0;
}

static int sk_disabled(void *obj, int argc, char **args, char **err)
{
	struct server *s = obj;

	if (!strcmp(args[0], "disabled"))
		s->flags |= SRV_F_DISABLED;
	else
		s->flags &= ~SRV_F_DISABLED;
	return 0;
}

static int sk_backup(void *obj, int argc, char **args, char **err)
{
	((struct server *)obj)->flags |= SRV_F_BACKUP;
	return 0;
}

static int sk_send_proxy(void *obj, int argc, char **args, char **err)
{
	struct server *s = obj;

	if (!strcmp(args[0], "send-proxy"))
		s->flags = (s->flags & ~SRV_F_SEND_PROXY_V2) | SRV_F_SEND_PROXY;
	else
		s->flags = (s->flags & ~SRV_F_SEND_PROXY) | SRV_F_SEND_PROXY_V2;
	return 0;
}

static int sk_pp_options(void *obj, int argc, char **args, char **err)
{
	struct server *s = obj;
	char *list = strdup(args[1]), *save = NULL, *o;

	if (!list)
		return -ENOMEM;
	for (o = strtok_r(list, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
		if (!strcmp(o, "crc32c")) {
			s->pp_opts |= SRV_PP_CRC32C;
		} else if (!strcmp(o, "unique-id")) {
			s->pp_opts |= SRV_PP_UNIQUE_ID;
		} else if (!strcmp(o, "authority")) {
			s->pp_opts |= SRV_PP_AUTHORITY;
		} else if (!strcmp(o, "ssl") || !strcmp(o, "cert-cn") || !strcmp(o, "ssl-cipher") ||
			   !strcmp(o, "cert-sig") || !strcmp(o, "cert-key")) {
			memprintf(err, "proxy-v2-options '%s' is not supported: decoyproxy does not terminate TLS", o);
			free(list);
			return -EINVAL;
		} else {
			memprintf(err, "unknown proxy-v2-options '%s' (supported: crc32c, unique-id, authority)", o);
			free(list);
			return -EINVAL;
		}
	}
	free(list);
	return 0;
}

/* `id <n>`: HAProxy's server id, only shown by its stats; checked, not kept. */
static int sk_id(void *obj, int argc, char **args, char **err)
{
	unsigned long long v;

	return cfg_opt_uint("id", args[1], 0x7fffffff, &v, err);
}

/* `namespace <name>`: connect from a socket created in that namespace
 * (ns_cache_socket); the name is checked in netseg_finalize(). */
static int sk_namespace(void *obj, int argc, char **args, char **err)
{
	struct server *s = obj;

	free(s->netns);
	s->netns = strdup(args[1]);
	if (!s->netns) {
		memprintf(err, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

static int sk_check(void *obj, int argc, char **args, char **err)
{
	((struct server *)obj)->check = true;
	return 0;
}

static int sk_inter(void *obj, int argc, char **args, char **err)
{
	struct server *s = obj;
	long long *dst = !strcmp(args[0], "inter") ? &s->chk_inter :
			 !strcmp(args[0], "fastinter") ? &s->chk_fastinter : &s->chk_downinter;
	int r = cfg_time_arg(args[0], args[1], dst, err);

	if (r == -ERANGE)
		return -EINVAL;
	if (r < 0 || *dst <= 0) {
		memprintf(err, "'%s' expects a positive time, got '%s'", args[0], args[1]);
		return -EINVAL;
	}
	return 0;
}

static int sk_risefall(void *obj, int argc, char **args, char **err)
{
	struct server *s = obj;
	unsigned long long v;

	if (cfg_opt_uint(args[0], args[1], 1000, &v, err) < 0)
		return -EINVAL;
	if (!v) {
		memprintf(err, "'%s' must be at least 1", args[0]);
		return -EINVAL;
	}
	if (!strcmp(args[0], "rise"))
		s->chk_rise = (unsigned)v;
	else
		s->chk_fall = (unsigned)v;
	return 0;
}

static int sk_chk_port(void *obj, int argc, char **args, char **err)
{
	unsigned long long v;

	if (cfg_parse_uint(args[1], 65535, &v) < 0 || !v) {
		memprintf(err, "'port' expects a port from 1 to 65535, got '%s'", args[1]);
		return -EINVAL;
	}
	((struct server *)obj)->chk_port = (int)v;
	return 0;
}

/* on-marked-down shutdown-sessions / on-marked-up shutdown-backup-sessions */
static int sk_on_marked(void *obj, int argc, char **args, char **err)
{
	struct server *s = obj;
	bool down = !strcmp(args[0], "on-marked-down");
	const char *want = down ? "shutdown-sessions" : "shutdown-backup-sessions";

	if (strcmp(args[1], want)) {
		memprintf(err, "'%s' expects '%s' but got '%s'", args[0], want, args[1]);
		return -EINVAL;
	}
	if (down)
		s->on_down_shutdown = true;
	else
		s->on_up_shutdown_backup = true;
	return 0;
}

static int sk_agent_check(void *obj, int argc, char **args, char **err)
{
	((struct server *)obj)->agent_check = true;
	return 0;
}

static int sk_agent_port(void *obj, int argc, char **args, char **err)
{
	unsigned long long v;

	if (cfg_parse_uint(args[1], 65535, &v) < 0 || !v) {
		memprintf(err, "'agent-port' expects a port from 1 to 65535, got '%s'", args[1]);
		return -EINVAL;
	}
	((struct server *)obj)->agent_port = (int)v;
	return 0;
}

static int sk_agent_inter(void *obj, int argc, char **args, char **err)
{
	struct server *s = obj;
	int r = cfg_time_arg(args[0], args[1], &s->agent_inter, err);

	if (r == -ERANGE)
		return -EINVAL;
	if (r < 0 || s->agent_inter <= 0) {
		memprintf(err, "'%s' expects a positive time, got '%s'", args[0], args[1]);
		return -EINVAL;
	}
	return 0;
}

static int sk_agent_send(void *obj, int argc, char **args, char **err)
{
	struct server *s = obj;
	char *v = strdup(args[1]);

	if (!v) {
		memprintf(err, "out of memory");
		return -ENOMEM;
	}
	free(s->agent_send);
	s->agent_send = v;
	return 0;
}

static int sk_agent_addr(void *obj, int argc, char **args, char **err)
{
	struct addr_spec a;

	if (addr_parse(args[1], ADDR_F_PORT_NONE_OK | ADDR_F_RESOLVE, &a, err) < 0)
		return -EINVAL;
	if (a.has_port) {
		memprintf(err, "'agent-addr' expects an address without a port (the port is 'agent-port'), got '%s'",
			  args[1]);
		return -EINVAL;
	}
	((struct server *)obj)->agent_addr = a.ss;
	return 0;
}

/* init-addr {last|libc|none|<ip>}[,...]: HAProxy's methods, tried in the
 * order written when the server's address is a host name (default
 * "last,libc"): `last` the address the server-state file holds for it,
 * `libc` getaddrinfo(), `none` start without an address (in maintenance),
 * `<ip>` that address. server_parse() applies libc, none and <ip>; `last`
 * is applied when the state file is loaded (srvstate_apply()). */
static int sk_init_addr(void *obj, int argc, char **args, char **err)
{
	struct server *s = obj;
	const char *p = args[1];
	unsigned char m[SRV_IADDR_MAX] = { 0 };
	struct sockaddr_storage ip = { 0 };
	size_t nm = 0;

	while (*p) {
		size_t n = strcspn(p, ",");
		unsigned char v;
		char tok[64];

		if (!n) {
			memprintf(err, "'init-addr': empty method in '%s'", args[1]);
			return -EINVAL;
		}
		snprintf(tok, sizeof(tok), "%.*s", (int)n, p);
		if (!strcmp(tok, "last"))
			v = SRV_IADDR_LAST;
		else if (!strcmp(tok, "libc"))
			v = SRV_IADDR_LIBC;
		else if (!strcmp(tok, "none"))
			v = SRV_IADDR_NONE;
		else {
			struct addr_spec a;
			char *e = NULL;

			/* an IP address, nothing else (no port, no name) */
			if (n >= sizeof(tok) || addr_parse(tok, ADDR_F_PORT_NONE_OK, &a, &e) < 0 || a.has_port ||
			    a.wildcard) {
				free(e);
				memprintf(err, "'init-addr': unknown method '%.*s', supported methods are 'last', 'libc', "
					  "'none' and an IP address", (int)n, p);
				return -EINVAL;
			}
			v = SRV_IADDR_IP;
			ip = a.ss;
		}
		for (size_t i = 0; i < nm; i++)
			if (m[i] == v) {
				memprintf(err, "'init-addr': method '%s' is given twice in '%s'",
					  v == SRV_IADDR_IP ? "<ip>" : tok, args[1]);
				return -EINVAL;
			}
		m[nm++] = v;  /* at most one of each of the SRV_IADDR_MAX kinds */
		p += n + (p[n] == ',');
	}
	memcpy(s->init_addr, m, sizeof(m));
	s->init_addr_ip = ip;
	return 0;
}

static int sk_check_send_proxy(void *obj, int argc, char **args, char **err)
{
	((struct server *)obj)->chk_send_proxy = true;
	return 0;
}

static int sk_chk_addr(void *obj, int argc, char **args, char **err)
{
	struct server *s = obj;
	struct addr_spec a = { 0 };

	if (addr_parse(args[1], ADDR_F_PORT_NONE_OK | ADDR_F_RESOLVE, &a, err) < 0)
		return -EINVAL;
	s->chk_addr = a.ss;
	if (a.has_port && a.port_lo)
		s->chk_port = a.port_lo;
	return 0;
}

/* "source <addr> [usesrc ...] [interface ...]": as many words as
 * src_parse() recognises; returns how many it used after "source". */
static int sk_source(void *obj, int argc, char **args, char **err)
{
	struct server *s = obj;
	int used = 0;

	src_conf_free(&s->source);
	if (src_parse(argc - 1, args + 1, &s->source, &used, err) < 0)
		return -EINVAL;
	return used;
}

/* "set-proxy-v2-tlv-fmt(<type>) <fmt>": returns 1 (the format word). */
static int sk_tlv_fmt(void *obj, int argc, char **argv, char **err)
{
	static const char kw[] = "set-proxy-v2-tlv-fmt(";
	struct server *s = obj;
	unsigned long type;
	char *end;
	struct srv_tlv *v;
	struct lf_expr *lf = NULL;

	/* C notation (base 0): the type is written in hex (0xE1) as a rule,
	 * decimal works too; not a decimal-only word like the other numbers */
	type = strtoul(argv[0] + sizeof(kw) - 1, &end, 0);
	if (end == argv[0] + sizeof(kw) - 1 || strcmp(end, ")")) {
		memprintf(err, "'%s': expects set-proxy-v2-tlv-fmt(<type>) <format>", argv[0]);
		return -EINVAL;
	}
	if (type < PP2_TYPE_MIN_CUSTOM || type > PP2_TYPE_MAX_CUSTOM) {
		memprintf(err, "'%s': TLV type must be in the custom range 0xE0-0xEF", argv[0]);
		return -EINVAL;
	}
	if (argc < 2) {
		memprintf(err, "'%s' expects a log-format string", argv[0]);
		return -EINVAL;
	}
	if (lf_compile(argv[1], &lf, err) < 0)
		return -EINVAL;
	/* One TLV per type: a later setting (the server's own after one
	 * inherited from default-server) replaces the earlier one, so at most
	 * 16 custom TLVs exist and a receiver never sees a type twice. */
	for (size_t i = 0; i < s->ntlvs; i++) {
		if (s->tlvs[i].type != type)
			continue;
		char *fmt = strdup(argv[1]);

		if (!fmt) {
			lf_free(lf);
			return -ENOMEM;
		}
		lf_free(s->tlvs[i].lf);
		free(s->tlvs[i].fmt);
		s->tlvs[i].lf = lf;
		s->tlvs[i].fmt = fmt;
		return 1;
	}
	v = realloc(s->tlvs, (s->ntlvs + 1) * sizeof(*v));
	if (!v) {
		lf_free(lf);
		return -ENOMEM;
	}
	s->tlvs = v;
	v[s->ntlvs].type = (uint8_t)type;
	v[s->ntlvs].lf = lf;
	v[s->ntlvs].fmt = strdup(argv[1]);
	s->ntlvs++;
	return 1;
}

/* `slowstart <time>`: how long a server that came back up takes to reach
 * its full weight and maxconn (core/srvdyn.c); 0 disables it. */
static int sk_slowstart(void *obj, int argc, char **args, char **err)
{
	struct server *s = obj;
	long long ms = 0;
	int r = cfg_time_arg(args[0], args[1], &ms, err);

	if (r == -ERANGE)
		return -EINVAL;
	if (r < 0 || ms < 0) {
		memprintf(err, "'%s' expects a positive time, got '%s'", args[0], args[1]);
		return -EINVAL;
	}
	s->slowstart = ms;
	return 0;
}

/* maxqueue, minconn, error-limit: plain numbers */
static int sk_count(void *obj, int argc, char **args, char **err)
{
	struct server *s = obj;
	unsigned long long v;

	if (cfg_opt_uint(args[0], args[1], 10000000, &v, err) < 0)
		return -EINVAL;
	if (!strcmp(args[0], "maxqueue"))
		s->maxqueue = (unsigned)v;
	else if (!strcmp(args[0], "minconn"))
		s->minconn = (unsigned)v;
	else if (!v) {
		memprintf(err, "error-limit has to be > 0.");  /* HAProxy's words */
		return -EINVAL;
	} else
		s->error_limit = (unsigned)v;
	return 0;
}

/* observe none|layer4 (layer7 is HAProxy's for HTTP proxies only) */
static int sk_observe(void *obj, int argc, char **args, char **err)
{
	struct server *s = obj;

	if (!strcmp(args[1], "none"))
		s->observe = SRV_OBS_NONE;
	else if (!strcmp(args[1], "layer4"))
		s->observe = SRV_OBS_LAYER4;
	else if (!strcmp(args[1], "layer7")) {
		/* HAProxy's words: every decoyproxy proxy relays TCP */
		memprintf(err, "'%s' can only be used in http proxies.", args[1]);
		return -EINVAL;
	} else {
		memprintf(err, "'%s' expects one of 'none', 'layer4', 'layer7' but got '%s'", args[0], args[1]);
		return -EINVAL;
	}
	return 0;
}

static int sk_on_error(void *obj, int argc, char **args, char **err)
{
	static const struct { const char *name; int v; } modes[] = {
		{ "fastinter", SRV_ONERR_FASTINTER }, { "fail-check", SRV_ONERR_FAILCHK },
		{ "sudden-death", SRV_ONERR_SUDDTH }, { "mark-down", SRV_ONERR_MARKDWN },
	};

	for (size_t i = 0; i < ARRAY_SIZE(modes); i++)
		if (!strcmp(args[1], modes[i].name)) {
			((struct server *)obj)->on_error = modes[i].v;
			return 0;
		}
	memprintf(err, "'%s' expects one of 'fastinter', 'fail-check', 'sudden-death' or 'mark-down' but got '%s'",
		  args[0], args[1]);
	return -EINVAL;
}

/* track [<backend>/]<server>: resolved once every backend is read */
static int sk_track(void *obj, int argc, char **args, char **err)
{
	struct server *s = obj;
	char *v = strdup(args[1]);

	if (!v) {
		memprintf(err, "out of memory");
		return -ENOMEM;
	}
	free(s->trackit);
	s->trackit = v;
	return 0;
}

static int sk_tfo(void *obj, int argc, char **args, char **err)
{
	((struct server *)obj)->tfo = true;
	return 0;
}

#define L7 "decoyproxy is a layer-4 proxy"
#define NOTLS "decoyproxy does not originate TLS"

static const struct cfg_opt srv_opts[] = {
	{ "weight", 1, sk_weight, NULL, 0 },
	{ "maxconn", 1, sk_maxconn, NULL, 0 },
	{ "disabled", 0, sk_disabled, NULL, 0 },
	{ "enabled", 0, sk_disabled, NULL, 0 },
	{ "backup", 0, sk_backup, NULL, 0 },
	{ "id", 1, sk_id, NULL, 0 },
	{ "check", 0, sk_check, NULL, 0 },
	{ "inter", 1, sk_inter, NULL, 0 },
	{ "fastinter", 1, sk_inter, NULL, 0 },
	{ "downinter", 1, sk_inter, NULL, 0 },
	{ "rise", 1, sk_risefall, NULL, 0 },
	{ "fall", 1, sk_risefall, NULL, 0 },
	{ "port", 1, sk_chk_port, NULL, 0 },
	{ "addr", 1, sk_chk_addr, NULL, 0 },
	{ "agent-check", 0, sk_agent_check, NULL, 0 },
	{ "agent-port", 1, sk_agent_port, NULL, 0 },
	{ "agent-inter", 1, sk_agent_inter, NULL, 0 },
	{ "agent-send", 1, sk_agent_send, NULL, 0 },
	{ "agent-addr", 1, sk_agent_addr, NULL, 0 },
	{ "check-send-proxy", 0, sk_check_send_proxy, NULL, 0 },
	{ "send-proxy", 0, sk_send_proxy, NULL, 0 },
	{ "send-proxy-v2", 0, sk_send_proxy, NULL, 0 },
	{ "proxy-v2-options", 1, sk_pp_options, NULL, 0 },
	/* both check their own words, with their own messages */
	{ "set-proxy-v2-tlv-fmt(*", CFG_OPT_VARARGS, sk_tlv_fmt, NULL, 0 },
	{ "source", CFG_OPT_VARARGS, sk_source, NULL, CFG_OPT_F_NOSUGGEST },
	{ "send-proxy-v2-ssl", 0, NULL, NOTLS, 0 },
	{ "send-proxy-v2-ssl-cn", 0, NULL, NOTLS, 0 },
	{ "namespace", 1, sk_namespace, NULL, 0 },
	{ "cookie", 1, NULL, L7, 0 },
	{ "ssl", 0, NULL, NOTLS, 0 },
	{ "check-ssl", 0, NULL, NOTLS, 0 },
	{ "verify", 1, NULL, NOTLS, 0 },
	{ "sni", 1, NULL, NOTLS, 0 },
	{ "ca-file", 1, NULL, NOTLS, 0 },
	{ "crt", 1, NULL, NOTLS, 0 },
	{ "alpn", 1, NULL, NOTLS, 0 },
	{ "resolvers", 1, NULL, "addresses are resolved once at start-up", 0 },
	{ "init-addr", 1, sk_init_addr, NULL, 0 },
	{ "slowstart", 1, sk_slowstart, NULL, 0 },
	{ "on-error", 1, sk_on_error, NULL, 0 },
	{ "error-limit", 1, sk_count, NULL, 0 },
	{ "observe", 1, sk_observe, NULL, 0 },
	{ "on-marked-down", 1, sk_on_marked, NULL, 0 },
	{ "on-marked-up", 1, sk_on_marked, NULL, 0 },
	{ "redir", 1, NULL, L7, 0 },
	{ "track", 1, sk_track, NULL, 0 },
	{ "minconn", 1, sk_count, NULL, 0 },
	{ "maxqueue", 1, sk_count, NULL, 0 },
	{ "tfo", 0, sk_tfo, NULL, 0 },
	{ "proto", 1, NULL, L7, 0 },
	{ "pool-max-conn", 1, NULL, L7, 0 },
};

/* `server` counts the missing words: "expects 1 argument" */
static const struct cfg_opt_table srv_opt_table = { srv_opts, ARRAY_SIZE(srv_opts), CFG_OPTS_COUNT_ARGS };

void server_free(struct server *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->ntlvs; i++) {
		free(s->tlvs[i].fmt);
		lf_free(s->tlvs[i].lf);
	}
	free(s->tlvs);
	src_conf_free(&s->source);
	free(s->agent_send);
	free(s->trackit);
	free(s->host);
	free(s->netns);
	free(s->cnt);
	free(s->name);
	free(s->file);
	free(s);
}

static void server_set_defaults(struct server *s)
{
	s->weight = 1;
	s->chk_up = true;
	s->chk_rise = 2;
	s->chk_fall = 3;
	s->chk_inter = 2000;
	s->agent_inter = 2000;
	s->error_limit = SRV_ERROR_LIMIT_DEF;
	s->init_addr[0] = SRV_IADDR_LAST;  /* HAProxy's default "last,libc" */
	s->init_addr[1] = SRV_IADDR_LIBC;
}

/* Copies the option fields of src (a default-server template) into dst. */
int server_copy_options(struct server *dst, const struct server *src)
{
	dst->flags = src->flags & ~SRV_F_ADDR_ORIG;
	dst->weight = src->weight;
	dst->maxconn = src->maxconn;
	dst->pp_opts = src->pp_opts;
	dst->check = src->check;
	dst->chk_send_proxy = src->chk_send_proxy;
	dst->chk_inter = src->chk_inter;
	dst->chk_fastinter = src->chk_fastinter;
	dst->chk_downinter = src->chk_downinter;
	dst->chk_rise = src->chk_rise;
	dst->chk_fall = src->chk_fall;
	dst->chk_port = src->chk_port;
	dst->chk_addr = src->chk_addr;
	dst->on_down_shutdown = src->on_down_shutdown;
	memcpy(dst->init_addr, src->init_addr, sizeof(dst->init_addr));
	dst->init_addr_ip = src->init_addr_ip;
	dst->agent_check = src->agent_check;
	dst->agent_port = src->agent_port;
	dst->agent_inter = src->agent_inter;
	dst->agent_addr = src->agent_addr;
	if (src->agent_send && !(dst->agent_send = strdup(src->agent_send)))
		return -ENOMEM;
	dst->on_up_shutdown_backup = src->on_up_shutdown_backup;
	dst->slowstart = src->slowstart;
	dst->minconn = src->minconn;
	dst->maxqueue = src->maxqueue;
	dst->observe = src->observe;
	dst->on_error = src->on_error;
	dst->error_limit = src->error_limit;
	dst->tfo = src->tfo;
	if (src->trackit && !(dst->trackit = strdup(src->trackit)))
		return -ENOMEM;
	if (src_conf_copy(&dst->source, &src->source) < 0)
		return -ENOMEM;
	if (src->netns && !(dst->netns = strdup(src->netns)))
		return -ENOMEM;
	if (src->ntlvs) {
		dst->tlvs = calloc(src->ntlvs, sizeof(*dst->tlvs));
		if (!dst->tlvs)
			return -ENOMEM;
		for (size_t i = 0; i < src->ntlvs; i++) {
			char *e = NULL;

			dst->tlvs[i].type = src->tlvs[i].type;
			dst->tlvs[i].fmt = strdup(src->tlvs[i].fmt);
			dst->ntlvs++;
			if (!dst->tlvs[i].fmt || lf_compile(dst->tlvs[i].fmt, &dst->tlvs[i].lf, &e) < 0) {
				free(e);
				return -ENOMEM;
			}
		}
	}
	return 0;
}

static void prefix_err(const char *what, char **err)
{
	char *m = NULL;

	memprintf(&m, "%s: %s", what, *err ? *err : "invalid");
	free(*err);
	*err = m;
}

int server_parse_default(struct cfg_ctx *ctx, int argc, char **argv, struct server **defsrv, char **err)
{
	if (!*defsrv) {
		*defsrv = calloc(1, sizeof(**defsrv));
		if (!*defsrv || !((*defsrv)->name = strdup("default-server")) ||
		    !((*defsrv)->file = strdup(ctx->file))) {
			memprintf(err, "out of memory");
			return CFG_ERR;
		}
		server_set_defaults(*defsrv);
	}
	if (cfg_opts_parse(&srv_opt_table, *defsrv, argc - 1, argv + 1, NULL, err) < 0)
		return CFG_ERR;
	return CFG_OK;
}

#define SRV_ADDR_FLAGS (ADDR_F_PORT_NONE_OK | ADDR_F_PORT_OFFSET)

static void srv_set_addr_spec(struct server *s, const struct addr_spec *a)
{
	s->addr = a->ss;
	if (a->port_offset_sign) {
		s->port_mode = SRV_PORT_OFFSET;
		s->port_offset = a->port_offset_sign * a->port_lo;
	} else if (!a->has_port || a->port_lo == 0) {
		s->port_mode = SRV_PORT_SAME;
	} else {
		s->port_mode = SRV_PORT_FIXED;
	}
}

/* The host part of "[ipv4@|ipv6@]<name>[:<port>]" (a name has no colon). */
static void host_of(const char *str, char *host, size_t cap)
{
	if (!strncmp(str, "ipv4@", 5) || !strncmp(str, "ipv6@", 5))
		str += 5;
	snprintf(host, cap, "%.*s", (int)strcspn(str, ":"), str);
}

/* str with its host name replaced by ip (family 0: 0.0.0.0, the address
 * of a server without one, which s->rmaint keeps unused), parsed:
 * the port part of the server's address with another address. */
static int with_ip(const char *str, const struct sockaddr_storage *ip, struct addr_spec *a, char **err)
{
	char host[256], buf[512], txt[64] = "0.0.0.0";
	const char *rest;

	host_of(str, host, sizeof(host));
	rest = strstr(str, host) + strlen(host);
	if (ip->ss_family)
		addr_ntop(ip, txt, sizeof(txt));
	snprintf(buf, sizeof(buf), ip->ss_family == AF_INET6 ? "[%s]%s" : "%s%s", txt, rest);
	return addr_parse(buf, SRV_ADDR_FLAGS, a, err) < 0 ? -EINVAL : 0;
}

/* A server whose address is a host name: its init-addr methods in order.
 * `last` is the server-state file's, applied when it is loaded. */
static int srv_init_addr(struct cfg_ctx *ctx, struct server *s, const char *str, char **err)
{
	struct sockaddr_storage none = { 0 };
	struct addr_spec a;
	char *libc_err = NULL, host[256];
	bool last = false;

	host_of(str, host, sizeof(host));
	/* what is wrong besides the name (a bad port) is said as such */
	if (with_ip(str, &none, &a, err) < 0) {
		free(*err);
		*err = NULL;
		if (addr_parse(str, SRV_ADDR_FLAGS, &a, err) == 0)  /* cannot be: keep an error */
			memprintf(err, "invalid address '%s'", str);
		return -EINVAL;
	}
	for (size_t i = 0; i < SRV_IADDR_MAX && s->init_addr[i]; i++) {
		switch (s->init_addr[i]) {
		case SRV_IADDR_LAST:
			last = true;
			continue;
		case SRV_IADDR_LIBC:
			free(libc_err);
			libc_err = NULL;
			if (addr_parse(str, SRV_ADDR_FLAGS | ADDR_F_RESOLVE, &a, &libc_err) < 0)
				continue;
			break;
		case SRV_IADDR_IP:
			if (with_ip(str, &s->init_addr_ip, &a, err) < 0)
				goto fail;
			break;
		default: /* none */
			if (with_ip(str, &none, &a, err) < 0)
				goto fail;
			s->rmaint = true;
			/* HAProxy's warning "could not resolve address, disabling
			 * server" comes once the server-state file is read
			 * (srvstate_finalize): `last` may give it one there */
			s->rmaint_warn = true;
			break;
		}
		srv_set_addr_spec(s, &a);
		s->addr_last = last;
		free(libc_err);
		return s->rmaint && !(s->host = strdup(host)) ? -ENOMEM : 0;
	}
	if (last) {
		/* the server-state file, read before addresses are resolved
		 * (srvstate_finalize), must give it one: no address until
		 * then */
		if (with_ip(str, &none, &a, err) < 0)
			goto fail;
		srv_set_addr_spec(s, &a);
		s->addr_last = true;
		s->rmaint = true;
		s->need_last = true;
		free(libc_err);
		return (s->host = strdup(host)) ? 0 : -ENOMEM;
	}
	if (libc_err) {
		*err = libc_err;
		libc_err = NULL;
	} else {
		memprintf(err, "could not resolve address '%s'", host);
	}
fail:
	free(libc_err);
	return -EINVAL;
}

int server_parse(struct cfg_ctx *ctx, int argc, char **argv, const struct server *defsrv, struct server **out,
		 char **err)
{
	struct server *s;
	struct addr_spec a = { 0 };
	bool hostname = false;
	char what[300];

	if (argc < 3) {
		memprintf(err, "expects <name> and <addr>[:<port>]");
		return CFG_ERR;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		goto nomem;
	server_set_defaults(s);
	s->line = ctx->line;
	s->name = strdup(argv[1]);
	s->file = strdup(ctx->file);
	s->cnt = cnt_slots_alloc(sizeof(*s->cnt));
	if (!s->name || !s->file || !s->cnt)
		goto nomem;
	if (defsrv && server_copy_options(s, defsrv) < 0)
		goto nomem;
	snprintf(what, sizeof(what), "server '%s'", s->name);

	if (addr_is_unix_spec(argv[2])) {
		/* a unix socket decoy: no port (bind_finalize checks `source`) */
		if (addr_parse_unix(argv[2], NULL, &s->addr, err) < 0)
			goto fail_prefix;
		s->port_mode = SRV_PORT_FIXED;
	} else if (addr_parse(argv[2], SRV_ADDR_FLAGS, &a, err) < 0) {
		/* a host name: init-addr says how, once the options are read */
		free(*err);
		*err = NULL;
		hostname = true;
	} else {
		srv_set_addr_spec(s, &a);
		if (a.wildcard)
			s->flags |= SRV_F_ADDR_ORIG;
	}
	if (cfg_opts_parse(&srv_opt_table, s, argc - 3, argv + 3, NULL, err) < 0)
		goto fail_prefix;
	if (hostname && srv_init_addr(ctx, s, argv[2], err) < 0)
		goto fail_prefix;

	if (s->ntlvs && !(s->flags & SRV_F_SEND_PROXY_V2)) {
		memprintf(err, "'set-proxy-v2-tlv-fmt' needs 'send-proxy-v2'");
		goto fail_prefix;
	}
	if (s->check && s->port_mode != SRV_PORT_FIXED && !s->chk_port) {
		memprintf(err, "health check needs a port: give the server a port or use 'port <n>'");
		goto fail_prefix;
	}
	if (s->check && (s->flags & SRV_F_ADDR_ORIG) && !s->chk_addr.ss_family) {
		memprintf(err, "health check of a 0.0.0.0 server needs 'addr <ip>'");
		goto fail_prefix;
	}
	if (s->agent_check && !s->agent_port) {
		/* HAProxy's words; decoyproxy refuses the configuration */
		memprintf(err, "does not have agent port. Agent check has been disabled: give 'agent-port <n>'");
		goto fail_prefix;
	}
	if (s->agent_check && (s->flags & SRV_F_ADDR_ORIG) && !s->agent_addr.ss_family) {
		memprintf(err, "agent check of a 0.0.0.0 server needs 'agent-addr <ip>'");
		goto fail_prefix;
	}
	if (!s->chk_fastinter)
		s->chk_fastinter = s->chk_inter;
	if (!s->chk_downinter)
		s->chk_downinter = s->chk_inter;
	s->chk_health = s->chk_rise; /* checked servers start up, as in HAProxy */
	s->iweight = s->weight;
	if (s->pp_opts && !(s->flags & SRV_F_SEND_PROXY_V2)) {
		memprintf(err, "'proxy-v2-options' needs 'send-proxy-v2'");
		goto fail_prefix;
	}

	*out = s;
	return CFG_OK;
fail_prefix:
	prefix_err(what, err);
	goto fail;
nomem:
	memprintf(err, "out of memory");
fail:
	server_free(s);
	return CFG_ERR;
}

int server_target(const struct server *s, const struct sockaddr_storage *orig, struct sockaddr_storage *out)
{
	int port;

	if (s->flags & SRV_F_ADDR_ORIG) {
		/* the client's original destination (tproxy), port per rules below */
		*out = *orig;
	} else {
		*out = s->addr;
	}
	switch (s->port_mode) {
	case SRV_PORT_FIXED:
		port = addr_port(&s->addr);
		break;
	case SRV_PORT_OFFSET:
		port = addr_port(orig) + s->port_offset;
		if (port <= 0 || port > 65535)
			return -ERANGE;
		break;
	default:
		port = addr_port(orig);
		break;
	}
	addr_set_port(out, port);
	return 0;
}

bool server_usable(const struct server *s)
{
	/* a tracking server also follows the administrative state of the
	 * server it tracks (HAProxy's inherited maintenance and drain) */
	return !(s->flags & SRV_F_DISABLED) && !s->rmaint && s->admin == SRV_ADMIN_READY && s->chk_up &&
	       (!s->track || server_usable(s->track));
}

bool server_in_maint(const struct server *s)
{
	return (s->flags & SRV_F_DISABLED) || s->admin == SRV_ADMIN_MAINT || s->rmaint;
}

bool server_set_admin(struct server *s, int admin)
{
	s->admin = admin;
	if (admin != SRV_ADMIN_READY)
		return false;
	s->flags &= ~SRV_F_DISABLED;
	return true;
}
