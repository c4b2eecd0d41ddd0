/* decoy.c — decoys that look like hosts: the keywords decoy-closed,
 * decoy-ping, probe-log and scan-threshold, their per-generation state (a
 * conf_ext), the edges of CIDR specs, and what each divert of the tproxy
 * plan gets in its nft_decoy (see decoy.h). Pure: nothing here touches the
 * system.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cfg/cfg.h"
#include "cfg/value.h"
#include "lib/intercept.h"
#include "log/msg.h"
#include "model/conf.h"
#include "model/proxy.h"
#include "plumbing/decoy.h"

/* What one frontend wrote. */
struct decoy_fe {
	const struct proxy *px;
	char *file;                     /* first decoy keyword, for messages */
	int line;
	uint8_t closed;                 /* 0: not written */
	int8_t ping;                    /* -1: not written */
	bool rate_set, scan_set;
	uint32_t log_rate, log_unit, log_burst;
	uint32_t scan_decoys, scan_ports, scan_window_ms;
	struct icpt_list edges;         /* by decoy_finalize() */
	char *hosts[2], *edgeset[2];    /* set names, [0] IPv4, [1] IPv6 */
};

struct decoy_gconf {
	struct conf_ext ext;
	uint16_t log_group;
	uint16_t answer_group;          /* decoy-answers group */
	char *answer_file;              /* where it was written (NULL: not) */
	int answer_line;
	uint32_t log_rate, log_unit, log_burst;
	uint32_t scan_decoys, scan_ports, scan_window_ms;
	struct decoy_fe **fe;
	size_t nfe;
};

static void gconf_free(struct dp_config *c, struct conf_ext *e);
static const struct conf_ext_ops decoy_ext_ops = { "decoy", gconf_free };

static struct decoy_gconf *gconf_of(const struct dp_config *c)
{
	struct conf_ext *e = conf_ext_find(c, &decoy_ext_ops);

	return e ? container_of(e, struct decoy_gconf, ext) : NULL;
}

static struct decoy_gconf *gconf_get(struct dp_config *c)
{
	struct decoy_gconf *g = gconf_of(c);

	if (g)
		return g;
	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->ext.ops = &decoy_ext_ops;
	g->log_group = DECOY_LOG_GROUP_DEFAULT;
	g->answer_group = DECOY_ANSWER_GROUP_DEFAULT;
	g->log_rate = DECOY_LOG_RATE_DEFAULT;
	g->log_unit = 1;
	g->log_burst = DECOY_LOG_RATE_DEFAULT;
	g->scan_decoys = DECOY_SCAN_DECOYS_DEFAULT;
	g->scan_ports = DECOY_SCAN_PORTS_DEFAULT;
	g->scan_window_ms = DECOY_SCAN_WINDOW_DEFAULT;
	conf_ext_add(c, &g->ext);
	return g;
}

static void fe_free(struct decoy_fe *f)
{
	icpt_list_free(&f->edges);
	for (int i = 0; i < 2; i++) {
		free(f->hosts[i]);
		free(f->edgeset[i]);
	}
	free(f->file);
	free(f);
}

static void gconf_free(struct dp_config *c, struct conf_ext *e)
{
	struct decoy_gconf *g = container_of(e, struct decoy_gconf, ext);

	(void)c;
	for (size_t i = 0; i < g->nfe; i++)
		fe_free(g->fe[i]);
	free(g->fe);
	free(g->answer_file);
	free(g);
}

static struct decoy_fe *fe_find(const struct decoy_gconf *g, const struct proxy *px)
{
	for (size_t i = 0; g && i < g->nfe; i++)
		if (g->fe[i]->px == px)
			return g->fe[i];
	return NULL;
}

static struct decoy_fe *fe_get(struct cfg_ctx *ctx, char **err)
{
	struct decoy_gconf *g = gconf_get(ctx->conf);
	struct decoy_fe *f, **v;

	if (!g)
		goto oom;
	f = fe_find(g, ctx_px(ctx));
	if (f)
		return f;
	v = realloc(g->fe, (g->nfe + 1) * sizeof(*v));
	if (!v)
		goto oom;
	g->fe = v;
	f = calloc(1, sizeof(*f));
	if (!f || !(f->file = strdup(ctx->file))) {
		free(f);
		goto oom;
	}
	f->px = ctx_px(ctx);
	f->line = ctx->line;
	f->ping = -1;
	icpt_list_init(&f->edges);
	g->fe[g->nfe++] = f;
	return f;
oom:
	memprintf(err, "out of memory");
	return NULL;
}

/* ---- keywords ---------------------------------------------------------------- */

static int kw_decoy_closed(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct decoy_fe *f;
	uint8_t v;

	if (cfg_one_arg(argc, argv, err))
		return CFG_ERR;
	if (!strcmp(argv[1], "reset")) {
		v = NFT_CLOSED_RESET;
	} else if (!strcmp(argv[1], "drop")) {
		v = NFT_CLOSED_DROP;
	} else {
		memprintf(err, "expects 'reset' or 'drop', not '%s'", argv[1]);
		return CFG_ERR;
	}
	f = fe_get(ctx, err);
	if (!f)
		return CFG_ERR;
	f->closed = v;
	return CFG_OK;
}

static int kw_decoy_ping(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct decoy_fe *f;
	int8_t v;

	if (cfg_one_arg(argc, argv, err))
		return CFG_ERR;
	if (!strcmp(argv[1], "on")) {
		v = 1;
	} else if (!strcmp(argv[1], "off")) {
		v = 0;
	} else {
		memprintf(err, "expects 'on' or 'off', not '%s'", argv[1]);
		return CFG_ERR;
	}
	f = fe_get(ctx, err);
	if (!f)
		return CFG_ERR;
	f->ping = v;
	return CFG_OK;
}

/* "<n>/<time>": n packets per whole number of seconds. */
static int parse_rate(const char *s, uint32_t *rate, uint32_t *unit, char **err)
{
	const char *slash = strchr(s, '/');
	unsigned long long n;
	long long ms;
	char num[24];

	if (!slash || (size_t)(slash - s) >= sizeof(num))
		goto bad;
	memcpy(num, s, (size_t)(slash - s));
	num[slash - s] = '\0';
	if (cfg_parse_uint(num, UINT32_MAX, &n) < 0 || !n)
		goto bad;
	if (cfg_parse_time_ms(slash + 1, &ms) < 0 || ms < 1000 || ms % 1000)
		goto bad;
	*rate = (uint32_t)n;
	*unit = (uint32_t)(ms / 1000);
	return 0;
bad:
	memprintf(err, "invalid rate '%s' (expects <packets>/<time>, packets from 1 to 4294967295 "
		  "and a whole number of seconds, e.g. '200/1s' or '1000/1m')", s);
	return -EINVAL;
}

static int kw_probe_log(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	bool global = ctx->section == CFG_SEC_GLOBAL;
	uint32_t rate, unit, burst;
	unsigned long long v;
	struct decoy_gconf *g;
	struct decoy_fe *f;

	if (argc >= 2 && !strcmp(argv[1], "group")) {
		if (!global) {
			memprintf(err, "'group' is a global setting (one NFLOG group per namespace): "
				  "write 'probe-log group <n>' in the global section");
			return CFG_ERR;
		}
		if (argc != 3) {
			memprintf(err, "'group' expects one number, e.g. 'probe-log group 1414'");
			return CFG_ERR;
		}
		if (cfg_kw_uint(argv[2], 0, 65535, &v, err) < 0)
			return CFG_ERR;
		g = gconf_get(ctx->conf);
		if (!g) {
			memprintf(err, "out of memory");
			return CFG_ERR;
		}
		g->log_group = (uint16_t)v;
		return CFG_OK;
	}
	if (argc < 3 || strcmp(argv[1], "rate") || (argc != 3 && argc != 5) ||
	    (argc == 5 && strcmp(argv[3], "burst"))) {
		memprintf(err, "expects 'rate <packets>/<time> [burst <packets>]'%s, e.g. "
			  "'probe-log rate 200/1s'", global ? " or 'group <n>'" : "");
		return CFG_ERR;
	}
	if (parse_rate(argv[2], &rate, &unit, err) < 0)
		return CFG_ERR;
	burst = rate;
	if (argc == 5) {
		if (cfg_kw_uint(argv[4], 1, UINT32_MAX, &v, err) < 0)
			return CFG_ERR;
		burst = (uint32_t)v;
	}
	if (global) {
		g = gconf_get(ctx->conf);
		if (!g) {
			memprintf(err, "out of memory");
			return CFG_ERR;
		}
		g->log_rate = rate;
		g->log_unit = unit;
		g->log_burst = burst;
		return CFG_OK;
	}
	f = fe_get(ctx, err);
	if (!f)
		return CFG_ERR;
	f->rate_set = true;
	f->log_rate = rate;
	f->log_unit = unit;
	f->log_burst = burst;
	return CFG_OK;
}

static int kw_scan_threshold(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	unsigned long long d, p;
	long long ms;
	struct decoy_gconf *g;
	struct decoy_fe *f;

	if (argc != 4) {
		memprintf(err, "expects '<decoys> <ports> <time>', e.g. 'scan-threshold 3 5 60s'");
		return CFG_ERR;
	}
	if (cfg_kw_uint(argv[1], 1, 65535, &d, err) < 0 || cfg_kw_uint(argv[2], 1, 65535, &p, err) < 0)
		return CFG_ERR;
	if (cfg_time_arg(argv[0], argv[3], &ms, err) == -ERANGE)
		return CFG_ERR;
	if (cfg_parse_time_ms(argv[3], &ms) < 0 || ms < 100) {
		memprintf(err, "invalid time '%s' (expects a time from 100ms, e.g. '60s')", argv[3]);
		return CFG_ERR;
	}
	if (ctx->section == CFG_SEC_GLOBAL) {
		g = gconf_get(ctx->conf);
		if (!g) {
			memprintf(err, "out of memory");
			return CFG_ERR;
		}
		g->scan_decoys = (uint32_t)d;
		g->scan_ports = (uint32_t)p;
		g->scan_window_ms = (uint32_t)ms;
		return CFG_OK;
	}
	f = fe_get(ctx, err);
	if (!f)
		return CFG_ERR;
	f->scan_set = true;
	f->scan_decoys = (uint32_t)d;
	f->scan_ports = (uint32_t)p;
	f->scan_window_ms = (uint32_t)ms;
	return CFG_OK;
}

/* decoy-answers group <n> (global): the NFLOG group through which the
 * nft rules hand decoyproxy what it answers for decoys that are not local
 * (plumbing/icmpans.h). */
static int kw_decoy_answers(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	unsigned long long v;
	struct decoy_gconf *g;

	if (argc != 3 || strcmp(argv[1], "group")) {
		memprintf(err, "expects 'group <n>', e.g. 'decoy-answers group %u'", DECOY_ANSWER_GROUP_DEFAULT);
		return CFG_ERR;
	}
	if (cfg_kw_uint(argv[2], 0, 65535, &v, err) < 0)
		return CFG_ERR;
	g = gconf_get(ctx->conf);
	if (!g) {
		memprintf(err, "out of memory");
		return CFG_ERR;
	}
	free(g->answer_file);
	g->answer_file = strdup(ctx->file);
	g->answer_line = ctx->line;
	g->answer_group = (uint16_t)v;
	return CFG_OK;
}

static const struct cfg_kw decoy_kws[] = {
	{ "decoy-answers", CFG_SEC_GLOBAL, kw_decoy_answers, NULL },
	{ "decoy-closed", CFG_SEC_FE_NODEF, kw_decoy_closed, NULL },
	{ "decoy-ping", CFG_SEC_FE_NODEF, kw_decoy_ping, NULL },
	{ "probe-log", CFG_SEC_GLOBAL | CFG_SEC_FE_NODEF, kw_probe_log, NULL },
	{ "scan-threshold", CFG_SEC_GLOBAL | CFG_SEC_FE_NODEF, kw_scan_threshold, NULL },
};

const struct cfg_kw_list decoy_kw_list = { decoy_kws, ARRAY_SIZE(decoy_kws) };

/* ---- edges -------------------------------------------------------------------- */

/* The prefix length of an IPv4 CIDR spec as written ("'10.0.0.0/28:22'
 * (file:line)"), or -1 when the spec is no CIDR. */
static int origin_plen(const char *origin)
{
	const char *q, *slash, *colon;

	if (!origin || origin[0] != '\'')
		return -1;
	q = strchr(origin + 1, '\'');
	slash = strchr(origin + 1, '/');
	colon = strchr(origin + 1, ':');
	if (!q || !slash || slash > q || (colon && colon < slash) || origin[1] == '[')
		return -1;
	return atoi(slash + 1);
}

static int edge_push(struct icpt_list *out, const struct icpt_elem *e, bool hi)
{
	char spec[40], ip[INET_ADDRSTRLEN];
	struct icpt_list one;
	int ret;

	inet_ntop(AF_INET, hi ? &e->hi.v4 : &e->lo.v4, ip, sizeof(ip));
	snprintf(spec, sizeof(spec), "%s:*", ip);
	icpt_list_init(&one);
	ret = icpt_parse_spec(&one, spec, NULL, NULL);
	if (!ret)
		ret = icpt_list_append(out, &one, 0);
	icpt_list_free(&one);
	return ret == -EINVAL ? -ENOMEM : ret;
}

static bool listed_alone(const struct icpt_list *l, const union icpt_addr *a)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].family == AF_INET && l->v[i].lo.v4.s_addr == a->v4.s_addr &&
		    l->v[i].hi.v4.s_addr == a->v4.s_addr)
			return true;
	return false;
}

int decoy_edges_compute(const struct icpt_list *l, struct icpt_list *out)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct icpt_elem *e = &l->v[i];
		int plen, ret;

		if (e->family != AF_INET)
			continue;
		plen = origin_plen(icpt_elem_origin(l, e));
		if (plen < 0 || plen > 30)
			continue;
		if (!listed_alone(l, &e->lo) && (ret = edge_push(out, e, false)) < 0)
			return ret;
		if (!listed_alone(l, &e->hi) && (ret = edge_push(out, e, true)) < 0)
			return ret;
	}
	if (out->n && icpt_normalise(out, NULL, NULL) < 0)
		return -ENOMEM;
	return 0;
}

/* ---- finalize -------------------------------------------------------------------- */

int decoy_note_decoys(struct dp_config *c, const struct proxy *px, const struct icpt_list *l)
{
	struct cfg_ctx ctx = { .conf = c, .file = px->file ? px->file : "?", .line = px->line,
		.sec_data = (void *)px };
	struct decoy_fe *f;
	char *err = NULL;

	f = fe_get(&ctx, &err);
	free(err);
	if (!f)
		return -ENOMEM;
	icpt_list_free(&f->edges);
	return decoy_edges_compute(l, &f->edges);
}

int decoy_finalize(struct dp_config *c)
{
	struct decoy_gconf *g = gconf_of(c);
	int errors = 0;

	if (g && !g->answer_file && g->log_group == DECOY_ANSWER_GROUP_DEFAULT)
		g->answer_group = DECOY_LOG_GROUP_DEFAULT;      /* the two defaults swap */
	if (g && g->answer_group == g->log_group)
		cfg_report_at(true, g->answer_file ? g->answer_file : "global", g->answer_line, &errors,
			      "decoy-answers group %u is also the probe-log group: the two need NFLOG "
			      "groups of their own", g->answer_group);
	for (struct proxy *px = c->proxies; px; px = px->next) {
		struct decoy_fe *f = fe_find(g, px);
		const char *kind = (px->cap & PR_CAP_BE) ? "listen" : "frontend";

		if (!(px->cap & PR_CAP_FE) || (px->cap & PR_CAP_DEF) || px->tproxy)
			continue;
		if (f)
			cfg_report_at(true, f->file, f->line, &errors,
				      "%s '%s': decoy-closed, decoy-ping, probe-log and scan-threshold "
				      "apply to the decoys of 'intercept' lines, and this %s has none",
				      kind, px->name, kind);
		else if (px->options & PR_O_LOGPROBES)
			cfg_report_at(true, px->file, px->line, &errors,
				      "%s '%s': 'option log-probes' needs 'intercept' lines: probes "
				      "are the packets sent to decoys", kind, px->name);
	}
	return errors;
}

void decoy_settings_of(const struct dp_config *c, const struct proxy *px, struct decoy_settings *out)
{
	const struct decoy_gconf *g = gconf_of(c);
	const struct decoy_fe *f = fe_find(g, px);

	memset(out, 0, sizeof(*out));
	out->closed = f && f->closed ? (enum nft_closed)f->closed : NFT_CLOSED_RESET;
	out->ping = f && f->ping >= 0 ? f->ping : out->closed == NFT_CLOSED_RESET;
	out->log = px->options & PR_O_LOGPROBES;
	out->log_group = g ? g->log_group : DECOY_LOG_GROUP_DEFAULT;
	out->answer_group = g ? g->answer_group : DECOY_ANSWER_GROUP_DEFAULT;
	if (f && f->rate_set) {
		out->log_rate = f->log_rate;
		out->log_unit = f->log_unit;
		out->log_burst = f->log_burst;
	} else {
		out->log_rate = g ? g->log_rate : DECOY_LOG_RATE_DEFAULT;
		out->log_unit = g ? g->log_unit : 1;
		out->log_burst = g ? g->log_burst : DECOY_LOG_RATE_DEFAULT;
	}
	if (f && f->scan_set) {
		out->scan_decoys = f->scan_decoys;
		out->scan_ports = f->scan_ports;
		out->scan_window_ms = f->scan_window_ms;
	} else {
		out->scan_decoys = g ? g->scan_decoys : DECOY_SCAN_DECOYS_DEFAULT;
		out->scan_ports = g ? g->scan_ports : DECOY_SCAN_PORTS_DEFAULT;
		out->scan_window_ms = g ? g->scan_window_ms : DECOY_SCAN_WINDOW_DEFAULT;
	}
}

const struct icpt_list *decoy_edges(const struct dp_config *c, const struct proxy *px)
{
	const struct decoy_fe *f = fe_find(gconf_of(c), px);

	return f && f->edges.n ? &f->edges : NULL;
}

/* "hosts4_<what follows decoys4_>" */
static char *set_name(const char *prefix, const char *set)
{
	const char *sfx = strchr(set, '_');
	char *s = NULL;

	if (memprintf(&s, "%s%s", prefix, sfx ? sfx + 1 : set) < 0)
		return NULL;
	return s;
}

int decoy_fill_divert(const struct dp_config *c, const struct proxy *px, struct nft_divert *d)
{
	struct decoy_fe *f = fe_find(gconf_of(c), px);
	int fi = d->family == AF_INET6;
	struct decoy_settings s;

	memset(&d->dec, 0, sizeof(d->dec));
	if (!f || !d->set)
		return 0;       /* decoy_finalize() made one for every frontend with decoys */
	decoy_settings_of(c, px, &s);
	if (!f->hosts[fi] && !(f->hosts[fi] = set_name(fi ? "hosts6_" : "hosts4_", d->set)))
		return -ENOMEM;
	d->dec.hosts = f->hosts[fi];
	if (!fi && f->edges.n) {
		if (!f->edgeset[0] && !(f->edgeset[0] = set_name("edges4_", d->set)))
			return -ENOMEM;
		d->dec.edges = f->edgeset[0];
		d->dec.edgelist = &f->edges;
	}
	d->dec.closed = (uint8_t)s.closed;
	d->dec.ping = s.ping;
	d->dec.log = s.log;
	d->dec.log_group = s.log_group;
	d->dec.log_rate = s.log_rate;
	d->dec.log_unit = s.log_unit;
	d->dec.log_burst = s.log_burst;
	/* decoys that are not local: decoyproxy answers what the kernel
	 * cannot (plumbing/icmpans.h) */
	d->dec.answer = s.closed == NFT_CLOSED_RESET || s.ping;
	d->dec.answer_group = s.answer_group;
	return 0;
}
