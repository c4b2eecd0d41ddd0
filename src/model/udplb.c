/* udplb.c — `udp-lb` sections: their data and keywords (see udplb.h). */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"
#include "log/msg.h"
#include "model/udplb.h"

/* conf_kw.c's `log` line parser (shared by every section with `log`). */
int cfg_parse_log_line(struct cfg_ctx *ctx, struct log_list *dst, bool *global_flag, int argc, char **argv,
		       char **err);

/* ---- the generation's list ---------------------------------------------- */

static void lb_free(struct udp_lb *lb)
{
	while (lb->binds) {
		struct udp_bind *b = lb->binds;

		lb->binds = b->next;
		free(b->netns);
		free(b->file);
		free(b);
	}
	while (lb->srv) {
		struct udp_server *s = lb->srv;

		lb->srv = s->next;
		free(s->name);
		free(s->file);
		free(s);
	}
	icpt_list_free(&lb->decoys);
	src_conf_free(&lb->source);
	log_list_free(&lb->logs);
	free(lb->chk_probe);
	free(lb->icpt_file);
	free(lb->nft_set[0]);
	free(lb->nft_set[1]);
	free(lb->name);
	free(lb->file);
	free(lb);
}

static void udp_conf_free(struct dp_config *c, struct conf_ext *e)
{
	struct udp_conf *u = container_of(e, struct udp_conf, ext);

	(void)c;
	while (u->lbs) {
		struct udp_lb *lb = u->lbs;

		u->lbs = lb->next;
		lb_free(lb);
	}
	free(u);
}

const struct conf_ext_ops udp_conf_ops = { .name = "udp-lb", .free = udp_conf_free };

static struct udp_conf *uconf(const struct dp_config *c)
{
	struct conf_ext *e = conf_ext_find(c, &udp_conf_ops);

	return e ? container_of(e, struct udp_conf, ext) : NULL;
}

struct udp_lb *udplb_first(const struct dp_config *c)
{
	struct udp_conf *u = c ? uconf(c) : NULL;

	return u ? u->lbs : NULL;
}

struct udp_lb *udplb_find(const struct dp_config *c, const char *name)
{
	for (struct udp_lb *lb = udplb_first(c); lb; lb = lb->next)
		if (!strcmp(lb->name, name))
			return lb;
	return NULL;
}

size_t udplb_count_binds(const struct dp_config *c)
{
	size_t n = 0;

	for (struct udp_lb *lb = udplb_first(c); lb; lb = lb->next)
		for (struct udp_bind *b = lb->binds; b; b = b->next)
			n++;
	return n;
}

size_t udplb_fd_need(const struct dp_config *c)
{
	size_t n = 0;

	for (struct udp_lb *lb = udplb_first(c); lb; lb = lb->next) {
		n += 2 * (size_t)(lb->maxconn ? lb->maxconn : UDPLB_MAXCONN_DEFAULT);
		for (struct udp_bind *b = lb->binds; b; b = b->next)
			n++;
	}
	return n;
}

/* ---- the section ----------------------------------------------------------- */

static int sec_open(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct udp_conf *u = uconf(ctx->conf);
	struct udp_lb *lb;

	if (argc != 2) {
		memprintf(err, argc < 2 ? "expects a name" : "unexpected extra argument '%s'", argv[argc < 2 ? 0 : 2]);
		return CFG_ERR;
	}
	if (udplb_find(ctx->conf, argv[1])) {
		struct udp_lb *o = udplb_find(ctx->conf, argv[1]);

		memprintf(err, "udp-lb '%s' has the same name as another udp-lb declared at %s:%d",
			  argv[1], o->file, o->line);
		return CFG_ERR;
	}
	if (!u) {
		u = calloc(1, sizeof(*u));
		if (!u)
			goto nomem;
		u->ext.ops = &udp_conf_ops;
		conf_ext_add(ctx->conf, &u->ext);
	}
	lb = calloc(1, sizeof(*lb));
	if (!lb)
		goto nomem;
	icpt_list_init(&lb->decoys);
	lb->name = strdup(argv[1]);
	lb->file = strdup(ctx->file);
	lb->line = ctx->line;
	lb->timeout = UDPLB_TIMEOUT_DEFAULT;
	lb->lim = (struct udp_reply_limit){ UDPLB_REPLY_SIZE_DEF, UDPLB_REPLY_RATIO_DEF,
		UDPLB_REPLY_RATE_DEF, UDPLB_REPLY_BURST_DEF, UDPLB_REPLY_SOURCES_DEF };
	if (!lb->name || !lb->file) {
		lb_free(lb);
		goto nomem;
	}
	if (u->last)
		u->last->next = lb;
	else
		u->lbs = lb;
	u->last = lb;
	ctx->sec_data = lb;
	return CFG_OK;
nomem:
	memprintf(err, "out of memory");
	return CFG_ERR;
}

static struct udp_lb *ctx_lb(const struct cfg_ctx *ctx)
{
	return ctx->sec_data;
}

/* ---- keywords --------------------------------------------------------------- */

static int kw_dgram_bind(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct udp_lb *lb = ctx_lb(ctx);
	struct addr_spec as;
	struct udp_bind *b;
	int i;

	if (cfg_need_args(argc, argv, 1, err))
		return CFG_ERR;
	if (addr_parse(argv[1], ADDR_F_PORT_REQUIRED, &as, err) < 0)
		return CFG_ERR;
	if (as.ss.ss_family != AF_INET && as.ss.ss_family != AF_INET6) {
		memprintf(err, "'%s': an IPv4 or IPv6 address and a port are expected", argv[1]);
		return CFG_ERR;
	}
	b = calloc(1, sizeof(*b));
	if (!b || !(b->file = strdup(ctx->file))) {
		free(b);
		memprintf(err, "out of memory");
		return CFG_ERR;
	}
	b->addr = as.ss;
	b->line = ctx->line;
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "transparent")) {
			b->transparent = true;
		} else if (!strcmp(argv[i], "accept-proxy")) {
			b->accept_proxy = true;
		} else if (!strcmp(argv[i], "namespace")) {
			if (i + 1 >= argc || !*argv[i + 1]) {
				memprintf(err, "'namespace' expects a namespace name");
				goto fail;
			}
			free(b->netns);
			if (!(b->netns = strdup(argv[++i]))) {
				memprintf(err, "out of memory");
				goto fail;
			}
		} else {
			memprintf(err, "unknown option '%s' (dgram-bind takes 'transparent', "
				  "'namespace <name>' and 'accept-proxy')", argv[i]);
			goto fail;
		}
	}
	if (lb->binds_last)
		lb->binds_last->next = b;
	else
		lb->binds = b;
	lb->binds_last = b;
	return CFG_OK;
fail:
	free(b->netns);
	free(b->file);
	free(b);
	return CFG_ERR;
}

static int kw_intercept(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct udp_lb *lb = ctx_lb(ctx);
	char where[512];

	if (cfg_need_args(argc, argv, 1, err))
		return CFG_ERR;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "announce")) {
			memprintf(err, "'announce' is not yet supported in a 'udp-lb' section: add the "
				  "local routes by hand or announce the addresses from a frontend's "
				  "'intercept ... announce'");
			return CFG_ERR;
		}
	}
	snprintf(where, sizeof(where), "%s:%d", ctx->file, ctx->line);
	if (icpt_parse_args(&lb->decoys, argc - 1, argv + 1, where, err) < 0)
		return CFG_ERR;
	if (!lb->icpt_file) {
		if (!(lb->icpt_file = strdup(ctx->file))) {
			memprintf(err, "out of memory");
			return CFG_ERR;
		}
		lb->icpt_line = ctx->line;
	}
	return CFG_OK;
}

static int kw_balance(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	if (cfg_need_args(argc, argv, 1, err) || cfg_max_args(argc, argv, 1, err))
		return CFG_ERR;
	if (!strcmp(argv[1], "roundrobin")) {
		ctx_lb(ctx)->balance = UDPLB_BALANCE_RR;
	} else if (!strcmp(argv[1], "source")) {
		ctx_lb(ctx)->balance = UDPLB_BALANCE_SOURCE;
	} else {
		memprintf(err, "'%s' is not supported in a 'udp-lb' section (expects 'roundrobin' or 'source')",
			  argv[1]);
		return CFG_ERR;
	}
	return CFG_OK;
}

static int kw_source(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct udp_lb *lb = ctx_lb(ctx);
	int used = 0;

	if (cfg_need_args(argc, argv, 1, err))
		return CFG_ERR;
	src_conf_free(&lb->source);
	if (src_parse(argc - 1, argv + 1, &lb->source, &used, err) < 0)
		return CFG_ERR;
	if (used != argc - 1) {
		memprintf(err, "unexpected word '%s'", argv[1 + used]);
		return CFG_ERR;
	}
	return CFG_OK;
}

/* inter <time> | rise <n> | fall <n> | port <n> of a server line. */
static int srv_chk_opt(struct udp_server *s, const char *opt, const char *val, char **err)
{
	unsigned long long v;

	if (!val || !*val) {
		memprintf(err, "'%s' expects %s", opt, !strcmp(opt, "inter") ? "a time" : "an integer");
		return -1;
	}
	if (!strcmp(opt, "inter")) {
		long long ms;

		if (cfg_time_arg(opt, val, &ms, err) < 0 || ms <= 0) {
			free(*err);
			*err = NULL;
			memprintf(err, "'inter' expects a positive time, got '%s'", val);
			return -1;
		}
		s->chk_inter = ms;
		return 0;
	}
	if (cfg_opt_uint(opt, val, !strcmp(opt, "port") ? 65535 : 1000, &v, err) < 0)
		return -1;
	if (!v) {
		memprintf(err, "'%s' must be at least 1", opt);
		return -1;
	}
	if (!strcmp(opt, "rise"))
		s->chk_rise = (unsigned)v;
	else if (!strcmp(opt, "fall"))
		s->chk_fall = (unsigned)v;
	else
		s->chk_port = (uint16_t)v;
	return 0;
}

static int kw_server(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct udp_lb *lb = ctx_lb(ctx);
	struct udp_server *s;
	struct addr_spec as;

	if (argc < 3) {
		memprintf(err, "expects <name> and <addr>[:<port>] as arguments");
		return CFG_ERR;
	}
	for (s = lb->srv; s; s = s->next) {
		if (!strcmp(s->name, argv[1])) {
			memprintf(err, "udp-lb '%s' has two servers named '%s' (the other at %s:%d)",
				  lb->name, argv[1], s->file, s->line);
			return CFG_ERR;
		}
	}
	if (addr_parse(argv[2], ADDR_F_PORT_NONE_OK, &as, err) < 0)
		return CFG_ERR;
	if (as.ss.ss_family != AF_INET && as.ss.ss_family != AF_INET6) {
		memprintf(err, "'%s': an IPv4 or IPv6 address is expected", argv[2]);
		return CFG_ERR;
	}
	if (as.wildcard) {
		memprintf(err, "'%s': the address of the original destination (0.0.0.0, '*') is not "
			  "yet supported in a 'udp-lb' section: name the decoy service's address", argv[2]);
		return CFG_ERR;
	}
	if (as.port_hi != as.port_lo || as.port_offset_sign) {
		memprintf(err, "'%s': one port or none is expected", argv[2]);
		return CFG_ERR;
	}
	s = calloc(1, sizeof(*s));
	if (!s || !(s->name = strdup(argv[1])) || !(s->file = strdup(ctx->file))) {
		if (s)
			free(s->name);
		free(s);
		memprintf(err, "out of memory");
		return CFG_ERR;
	}
	s->line = ctx->line;
	s->addr = as.ss;
	s->no_port = !as.has_port;
	s->chk_inter = UDPLB_CHK_INTER_DEF;
	s->chk_rise = UDPLB_CHK_RISE_DEF;
	s->chk_fall = UDPLB_CHK_FALL_DEF;
	s->chk_up = true;
	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "send-proxy-v2")) {
			s->send_pp2 = true;
		} else if (!strcmp(argv[i], "disabled")) {
			s->disabled = true;
		} else if (!strcmp(argv[i], "check")) {
			s->check = true;
		} else if (!strcmp(argv[i], "inter") || !strcmp(argv[i], "rise") || !strcmp(argv[i], "fall") ||
			   !strcmp(argv[i], "port")) {
			if (srv_chk_opt(s, argv[i], i + 1 < argc ? argv[i + 1] : NULL, err) < 0)
				goto fail;
			i++;
		} else if (!strcmp(argv[i], "send-proxy")) {
			memprintf(err, "'send-proxy' (v1) cannot carry UDP: use 'send-proxy-v2'");
			goto fail;
		} else {
			memprintf(err, "unknown option '%s' (a 'udp-lb' server takes 'send-proxy-v2', "
				  "'disabled', 'check', 'inter', 'rise', 'fall' and 'port')", argv[i]);
			goto fail;
		}
	}
	if (lb->srv_last)
		lb->srv_last->next = s;
	else
		lb->srv = s;
	lb->srv_last = s;
	lb->nsrv++;
	return CFG_OK;
fail:
	free(s->name);
	free(s->file);
	free(s);
	return CFG_ERR;
}

static int kw_timeout(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	long long ms;

	if (argc < 3) {
		memprintf(err, "expects 'client' and a time");
		return CFG_ERR;
	}
	if (strcmp(argv[1], "client") && strcmp(argv[1], "check")) {
		memprintf(err, "'timeout %s' is not supported in a 'udp-lb' section (only 'timeout "
			  "client', the flow idle timeout, and 'timeout check')", argv[1]);
		return CFG_ERR;
	}
	if (argc > 3) {
		memprintf(err, "unexpected extra argument '%s'", argv[3]);
		return CFG_ERR;
	}
	if (cfg_time_arg(argv[1][1] == 'l' ? "timeout client" : "timeout check", argv[2], &ms, err) < 0) {
		if (!*err)
			memprintf(err, "'timeout %s': invalid time '%s'", argv[1], argv[2]);
		return CFG_ERR;
	}
	if (ms <= 0) {
		memprintf(err, "'timeout %s' must be above 0 in a 'udp-lb' section", argv[1]);
		return CFG_ERR;
	}
	if (!strcmp(argv[1], "check"))
		ctx_lb(ctx)->chk_timeout = ms;
	else
		ctx_lb(ctx)->timeout = ms;
	return CFG_OK;
}

static int kw_maxconn(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	unsigned long long v;

	if (cfg_need_args(argc, argv, 1, err) || cfg_max_args(argc, argv, 1, err))
		return CFG_ERR;
	if (cfg_kw_uint(argv[1], 1, UDPLB_MAXCONN_MAX, &v, err) < 0)
		return CFG_ERR;
	ctx_lb(ctx)->maxconn = (unsigned)v;
	return CFG_OK;
}

static int kw_log(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct udp_lb *lb = ctx_lb(ctx);

	return cfg_parse_log_line(ctx, &lb->logs, &lb->log_global, argc, argv, err);
}

/* `option udp-check` (HAProxy Enterprise's word): the checks of `check`
 * servers are UDP, which is the only kind a udp-lb section has. */
static int kw_option(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	if (cfg_need_args(argc, argv, 1, err))
		return CFG_ERR;
	if (strcmp(argv[1], "udp-check")) {
		memprintf(err, "'option %s' is not supported in a 'udp-lb' section (only 'option udp-check')",
			  argv[1]);
		return CFG_ERR;
	}
	if (argc > 2) {
		memprintf(err, "'option udp-check' takes no argument (the probe is 'udp-check-send')");
		return CFG_ERR;
	}
	ctx_lb(ctx)->opt_udp_check = true;
	return CFG_OK;
}

static int hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* udp-check-send hex <hex>: the datagram a check sends (decoyproxy). */
static int kw_chk_send(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct udp_lb *lb = ctx_lb(ctx);
	size_t n;
	uint8_t *p;

	if (cfg_need_args(argc, argv, 2, err) || cfg_max_args(argc, argv, 2, err))
		return CFG_ERR;
	if (strcmp(argv[1], "hex")) {
		memprintf(err, "expects 'hex <hex digits>', got '%s'", argv[1]);
		return CFG_ERR;
	}
	n = strlen(argv[2]);
	if (!n || n % 2 || n / 2 > UDPLB_CHK_PROBE_MAX) {
		memprintf(err, "'%s': an even number of hex digits is expected, at most %u bytes", argv[2],
			  UDPLB_CHK_PROBE_MAX);
		return CFG_ERR;
	}
	p = malloc(n / 2);
	if (!p) {
		memprintf(err, "out of memory");
		return CFG_ERR;
	}
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hexval((unsigned char)argv[2][2 * i]), lo = hexval((unsigned char)argv[2][2 * i + 1]);

		if (hi < 0 || lo < 0) {
			memprintf(err, "'%s': invalid hex digit at position %zu", argv[2], 2 * i + (hi < 0 ? 1 : 2));
			free(p);
			return CFG_ERR;
		}
		p[i] = (uint8_t)(hi << 4 | lo);
	}
	free(lb->chk_probe);
	lb->chk_probe = p;
	lb->chk_probe_len = n / 2;
	return CFG_OK;
}

static int kw_reply_limit(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct udp_reply_limit l = ctx_lb(ctx)->lim;
	static const struct {
		const char *name;
		size_t off;
		unsigned long long min, max;
	} opts[] = {
		{ "size", offsetof(struct udp_reply_limit, size), 0, 65535 },
		{ "ratio", offsetof(struct udp_reply_limit, ratio), 0, 1000 },
		{ "rate", offsetof(struct udp_reply_limit, rate), 0, 1000000 },
		{ "burst", offsetof(struct udp_reply_limit, burst), 1, 1000000 },
		{ "sources", offsetof(struct udp_reply_limit, sources), 16, 1000000 },
	};

	if (cfg_need_args(argc, argv, 2, err))
		return CFG_ERR;
	for (int i = 1; i < argc; i += 2) {
		size_t k;
		unsigned long long v;

		for (k = 0; k < ARRAY_SIZE(opts) && strcmp(opts[k].name, argv[i]); k++)
			;
		if (k == ARRAY_SIZE(opts)) {
			memprintf(err, "unknown limit '%s' (expects 'size', 'ratio', 'rate', 'burst' or 'sources')",
				  argv[i]);
			return CFG_ERR;
		}
		if (i + 1 >= argc) {
			memprintf(err, "'%s' expects a value", argv[i]);
			return CFG_ERR;
		}
		if (cfg_opt_uint(argv[i], argv[i + 1], opts[k].max, &v, err) < 0)
			return CFG_ERR;
		if (v < opts[k].min) {
			memprintf(err, "'%s' expects an integer from %llu to %llu, got '%s'", argv[i],
				  opts[k].min, opts[k].max, argv[i + 1]);
			return CFG_ERR;
		}
		*(unsigned *)((char *)&l + opts[k].off) = (unsigned)v;
	}
	ctx_lb(ctx)->lim = l;
	return CFG_OK;
}

static const struct cfg_kw kws[] = {
	{ "dgram-bind", CFG_SEC_UDPLB, kw_dgram_bind, NULL },
	{ "intercept", CFG_SEC_UDPLB, kw_intercept, NULL },
	{ "balance", CFG_SEC_UDPLB, kw_balance, NULL },
	{ "source", CFG_SEC_UDPLB, kw_source, NULL },
	{ "server", CFG_SEC_UDPLB, kw_server, NULL },
	{ "timeout", CFG_SEC_UDPLB, kw_timeout, NULL },
	{ "maxconn", CFG_SEC_UDPLB, kw_maxconn, NULL },
	{ "log", CFG_SEC_UDPLB, kw_log, NULL },
	{ "udp-reply-limit", CFG_SEC_UDPLB, kw_reply_limit, NULL },
	{ "option", CFG_SEC_UDPLB, kw_option, NULL },
	{ "udp-check-send", CFG_SEC_UDPLB, kw_chk_send, NULL },
	{ "intercept-file", CFG_SEC_UDPLB, NULL, "not yet supported in a 'udp-lb' section (use 'intercept')" },
};

const struct cfg_kw_list udplb_kw_list = { kws, ARRAY_SIZE(kws) };

const struct cfg_section udplb_sections[] = {
	{ "udp-lb", CFG_SEC_UDPLB, sec_open, true },
	{ NULL, 0, NULL, false },
};

/* ---- finalize and carry -------------------------------------------------- */

static void norm_warn(void *data, const char *msg)
{
	const struct udp_lb *lb = data;

	ha_warning("config : udp-lb '%s': %s", lb->name, msg);
}

int udplb_finalize(struct dp_config *c)
{
	int errors = 0;

	for (struct udp_lb *lb = udplb_first(c); lb; lb = lb->next) {
		if (!lb->binds)
			cfg_report_at(true, lb->file, lb->line, &errors,
				      "udp-lb '%s' has no 'dgram-bind' line", lb->name);
		if (!lb->srv)
			cfg_report_at(true, lb->file, lb->line, &errors,
				      "udp-lb '%s' has no server", lb->name);
		if (!lb->maxconn)
			lb->maxconn = c->g.maxconn && c->g.maxconn < UDPLB_MAXCONN_DEFAULT ?
				c->g.maxconn : UDPLB_MAXCONN_DEFAULT;
		if (lb->log_global) {
			lb->log_global = false;
			for (size_t i = 0; i < c->g.logs.n; i++)
				if (log_list_add(&lb->logs, c->g.logs.v[i]) < 0)
					cfg_report_at(true, lb->file, lb->line, &errors, "out of memory");
		}
		for (struct udp_bind *b = lb->binds; b; b = b->next)
			if (b->accept_proxy && b->transparent)
				cfg_report_at(false, b->file, b->line, NULL,
					      "udp-lb '%s': 'accept-proxy' and 'transparent' on one "
					      "dgram-bind: the PROXY header names the decoy, replies "
					      "leave from it", lb->name);
		for (struct udp_server *s = lb->srv; s; s = s->next) {
			if (s->check && s->no_port && !s->chk_port)
				cfg_report_at(true, s->file, s->line, &errors,
					      "udp-lb '%s' server '%s': a port-less server follows the "
					      "decoy's port: 'check' needs 'port <n>'", lb->name, s->name);
			if (s->check)
				s->chk_health = s->chk_rise;    /* checked servers start up, as in HAProxy */
			if (udplb_spoofs(lb) && lb->source.usesrc != SRC_USESRC_ADDR && s->send_pp2)
				cfg_report_at(true, s->file, s->line, &errors,
					      "udp-lb '%s' server '%s': 'send-proxy-v2' and 'source ... "
					      "usesrc' are exclusive (the decoy learns the attacker's "
					      "address either way)", lb->name, s->name);
			if (udplb_spoofs(lb) && lb->source.usesrc == SRC_USESRC_ADDR &&
			    lb->source.usesrc_addr.ss_family != s->addr.ss_family) {
				char a[INET6_ADDRSTRLEN];

				cfg_report_at(true, s->file, s->line, &errors,
					      "udp-lb '%s' server '%s': not of the address family of "
					      "'usesrc %s'", lb->name, s->name,
					      addr_ntop(&lb->source.usesrc_addr, a, sizeof(a)));
			}
		}
		if (lb->decoys.n) {
			bool transparent = false;

			for (struct udp_bind *b = lb->binds; b; b = b->next)
				transparent |= b->transparent;
			if (!transparent)
				cfg_report_at(true, lb->icpt_file, lb->icpt_line, &errors,
					      "udp-lb '%s': 'intercept' needs a 'dgram-bind ... "
					      "transparent': decoy datagrams are diverted to it", lb->name);
			if (icpt_normalise(&lb->decoys, norm_warn, lb) < 0)
				cfg_report_at(true, lb->icpt_file, lb->icpt_line, &errors, "out of memory");
		}
	}
	return errors;
}

void udplb_carry(struct dp_config *newc, struct dp_config *oldc)
{
	for (struct udp_lb *lb = udplb_first(newc); lb; lb = lb->next) {
		struct udp_lb *o = udplb_find(oldc, lb->name);

		if (!o)
			continue;
		lb->cnt = o->cnt;
		for (struct udp_server *s = lb->srv; s; s = s->next)
			for (struct udp_server *os = o->srv; os; os = os->next)
				if (!strcmp(os->name, s->name)) {
					s->cnt = os->cnt;
					if (s->check && os->check) {
						unsigned max = s->chk_rise + s->chk_fall - 1;

						s->chk_up = os->chk_up;
						s->chk_health = os->chk_health > max ? max : os->chk_health;
						memcpy(s->chk_st, os->chk_st, sizeof(s->chk_st));
						memcpy(s->chk_desc, os->chk_desc, sizeof(s->chk_desc));
						s->chk_dur = os->chk_dur;
					}
				}
	}
}
