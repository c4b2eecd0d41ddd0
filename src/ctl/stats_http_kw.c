/* stats_http_kw.c — the statistics page's configuration: `stats ...` and
 * `http-request use-service prometheus-exporter` in proxy sections, kept in
 * the generation's extension; and the finalize hook, which judges every
 * proxy's HTTP mode (see stats_http.h).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg/cfg.h"
#include "log/msg.h"
#include "model/bind.h"
#include "model/conf.h"
#include "model/proxy.h"
#include "ctl/stats_http.h"
#include "ctl/stats_http_int.h"

#define NOT_YET "not yet supported"

/* A generation's statistics settings (a model/conf.h extension). */
struct stats_conf {
	struct conf_ext ext;
	struct stats_px *list;
};

static void stats_conf_free(struct dp_config *c, struct conf_ext *e)
{
	struct stats_conf *sc = container_of(e, struct stats_conf, ext);

	(void)c;
	while (sc->list) {
		struct stats_px *n = sc->list->next;

		while (sc->list->users) {
			struct stats_user *u = sc->list->users;

			sc->list->users = u->next;
			free(u->user);
			free(u->pass);
			free(u);
		}
		free(sc->list->uri);
		free(sc->list->realm);
		free(sc->list->node);
		free(sc->list->desc);
		free(sc->list->prom_path);
		free(sc->list);
		sc->list = n;
	}
	free(sc);
}

static const struct conf_ext_ops stats_ext_ops = { "stats page", stats_conf_free };

static struct stats_conf *conf_of(const struct dp_config *c)
{
	struct conf_ext *e = c ? conf_ext_find(c, &stats_ext_ops) : NULL;

	return e ? container_of(e, struct stats_conf, ext) : NULL;
}

struct stats_px *stats_px_of(const struct dp_config *c, const struct proxy *px)
{
	const struct stats_conf *sc = conf_of(c);

	for (struct stats_px *sp = sc ? sc->list : NULL; sp; sp = sp->next)
		if (sp->px == px)
			return sp;
	return NULL;
}

/* The settings of the proxy being parsed, created on first use. */
static struct stats_px *px_get(struct cfg_ctx *ctx)
{
	struct stats_conf *sc = conf_of(ctx->conf);
	struct stats_px *sp;

	if (!sc) {
		sc = calloc(1, sizeof(*sc));
		if (!sc)
			return NULL;
		sc->ext.ops = &stats_ext_ops;
		conf_ext_add(ctx->conf, &sc->ext);
	}
	sp = stats_px_of(ctx->conf, ctx_px(ctx));
	if (sp)
		return sp;
	sp = calloc(1, sizeof(*sp));
	if (!sp)
		return NULL;
	sp->px = ctx_px(ctx);
	sp->next = sc->list;
	sc->list = sp;
	return sp;
}

static int set_str(char **dst, const char *v, char **err)
{
	char *d = strdup(v);

	if (!d) {
		memprintf(err, "out of memory");
		return CFG_ERR;
	}
	free(*dst);
	*dst = d;
	return CFG_OK;
}

/* The rest of the line from argv[i], words joined by spaces (realm,
 * show-desc: HAProxy takes one word but configurations write several). */
static int set_words(char **dst, int argc, char **argv, int i, char **err)
{
	size_t len = 1;
	char *d;

	for (int k = i; k < argc; k++)
		len += strlen(argv[k]) + 1;
	d = calloc(1, len);
	if (!d) {
		memprintf(err, "out of memory");
		return CFG_ERR;
	}
	for (int k = i; k < argc; k++) {
		if (k > i)
			strcat(d, " ");
		strcat(d, argv[k]);
	}
	free(*dst);
	*dst = d;
	return CFG_OK;
}

static int parse_cond(const char *kw, int argc, char **argv, int i, int *cond, bool *unless, char **err)
{
	if (i >= argc || (strcmp(argv[i], "if") && strcmp(argv[i], "unless"))) {
		memprintf(err, "'%s' requires either 'if' or 'unless' followed by a condition.", kw);
		return CFG_ERR;
	}
	*unless = !strcmp(argv[i], "unless");
	if (i + 2 != argc) {
		memprintf(err, "'%s': conditions other than one of the predefined ACLs TRUE, FALSE and LOCALHOST are %s (the ACL engine is not in this build)",
			  kw, NOT_YET);
		return CFG_ERR;
	}
	if (!strcmp(argv[i + 1], "TRUE"))
		*cond = STATS_COND_TRUE;
	else if (!strcmp(argv[i + 1], "FALSE"))
		*cond = STATS_COND_FALSE;
	else if (!strcmp(argv[i + 1], "LOCALHOST"))
		*cond = STATS_COND_LOCALHOST;
	else {
		memprintf(err, "'%s': condition '%s' is %s (only the predefined ACLs TRUE, FALSE and LOCALHOST)", kw,
			  argv[i + 1], NOT_YET);
		return CFG_ERR;
	}
	return CFG_OK;
}

/* stats <word> ... in a proxy section. */
static int kw_stats(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct stats_px *sp;
	const char *w = argc > 1 ? argv[1] : "";

	if (argc < 2) {
		memprintf(err, "expects 'admin', 'auth', 'enable', 'hide-version', 'realm', 'refresh', 'show-desc', 'show-legends', 'show-node' or 'uri'");
		return CFG_ERR;
	}
	if (ctx->section == CFG_SEC_DEFAULTS) {
		memprintf(err, "'stats %s' in a defaults section is %s: put the 'stats' lines in the statistics proxy ('listen' or 'frontend' with 'mode http')",
			  w, NOT_YET);
		return CFG_ERR;
	}
	if (ctx->section == CFG_SEC_BACKEND) {
		memprintf(err, "'stats %s': a statistics backend is %s: serve the page from a 'listen' or 'frontend' section",
			  w, NOT_YET);
		return CFG_ERR;
	}
	if (!strcmp(w, "scope") || !strcmp(w, "http-request") || !strcmp(w, "show-modules")) {
		memprintf(err, "'stats %s' is %s", w, NOT_YET);
		return CFG_ERR;
	}
	if (!strcmp(w, "bind-process")) {
		memprintf(err, "'stats bind-process' ignored: decoyproxy runs one process");
		return CFG_WARN;
	}
	sp = px_get(ctx);
	if (!sp) {
		memprintf(err, "out of memory");
		return CFG_ERR;
	}
	if (!sp->stats_line)
		sp->stats_line = ctx->line;
	if (!strcmp(w, "enable")) {
		if (cfg_max_args(argc, argv, 1, err))
			return CFG_ERR;
		sp->enabled = true;
		return CFG_OK;
	}
	if (!strcmp(w, "hide-version") || !strcmp(w, "show-legends")) {
		if (cfg_max_args(argc, argv, 1, err))
			return CFG_ERR;
		*(w[0] == 'h' ? &sp->hide_version : &sp->show_legends) = true;
		return CFG_OK;
	}
	if (!strcmp(w, "show-node") || !strcmp(w, "show-desc")) {
		bool node = !strcmp(w, "show-node");

		*(node ? &sp->show_node : &sp->show_desc) = true;
		if (argc > 2)
			return set_words(node ? &sp->node : &sp->desc, argc, argv, 2, err);
		return CFG_OK;
	}
	/* the others enable the page, as in HAProxy */
	sp->enabled = true;
	if (!strcmp(w, "uri")) {
		if (argc != 3 || argv[2][0] != '/') {
			memprintf(err, "'uri' needs a URI prefix starting with '/'.");
			return CFG_ERR;
		}
		return set_str(&sp->uri, argv[2], err);
	}
	if (!strcmp(w, "realm")) {
		if (argc < 3) {
			memprintf(err, "'realm' needs a realm name.");
			return CFG_ERR;
		}
		for (int i = 2; i < argc; i++)
			if (strpbrk(argv[i], "\"\\\r\n")) {
				memprintf(err, "'realm': quotes, backslashes and line breaks are not allowed in a realm name.");
				return CFG_ERR;
			}
		return set_words(&sp->realm, argc, argv, 2, err);
	}
	if (!strcmp(w, "refresh")) {
		long long ms;

		if (argc != 3 || cfg_parse_time_ms(argv[2], &ms) < 0 || ms < 0 || ms > 86400000LL) {
			memprintf(err, "'refresh' needs a positive interval in seconds (a time with an optional unit, at most 1d), got '%s'.",
				  argc > 2 ? argv[2] : "");
			return CFG_ERR;
		}
		sp->refresh_ms = ms;
		return CFG_OK;
	}
	if (!strcmp(w, "auth")) {
		struct stats_user *u;
		const char *colon = argc == 3 ? strchr(argv[2], ':') : NULL;

		if (!colon || colon == argv[2]) {
			memprintf(err, "'auth' needs a user:password account.");
			return CFG_ERR;
		}
		u = calloc(1, sizeof(*u));
		if (!u || !(u->user = strndup(argv[2], (size_t)(colon - argv[2]))) || !(u->pass = strdup(colon + 1))) {
			if (u)
				free(u->user);
			free(u);
			memprintf(err, "out of memory");
			return CFG_ERR;
		}
		u->next = sp->users;
		sp->users = u;
		return CFG_OK;
	}
	if (!strcmp(w, "admin"))
		return parse_cond("stats admin", argc, argv, 2, &sp->admin_cond, &sp->admin_unless, err);
	memprintf(err, "unknown stats parameter '%s', expects 'admin', 'auth', 'enable', 'hide-version', 'realm', 'refresh', 'show-desc', 'show-legends', 'show-node' or 'uri'.",
		  w);
	return CFG_ERR;
}

/* http-request use-service prometheus-exporter [if { path <p> }]: the one
 * `http-request` rule decoyproxy has, for its statistics proxy. */
static int kw_http_request(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct stats_px *sp;

	if (argc < 3 || strcmp(argv[1], "use-service") || strcmp(argv[2], "prometheus-exporter")) {
		memprintf(err, "'http-request' is not supported by decoyproxy: decoyproxy is a layer-4 proxy (it only serves 'http-request use-service prometheus-exporter' in a statistics proxy)");
		return CFG_ERR;
	}
	if (ctx->section & (CFG_SEC_DEFAULTS | CFG_SEC_BACKEND)) {
		memprintf(err, "'http-request use-service prometheus-exporter' in a %s section is %s: put it in the statistics proxy",
			  ctx->section == CFG_SEC_DEFAULTS ? "defaults" : "backend", NOT_YET);
		return CFG_ERR;
	}
	if (argc > 3 && !(argc == 8 && !strcmp(argv[3], "if") && !strcmp(argv[4], "{") && !strcmp(argv[5], "path") &&
			  !strcmp(argv[7], "}") && argv[6][0] == '/')) {
		memprintf(err, "'http-request use-service prometheus-exporter': conditions other than 'if { path /<path> }' are %s (the ACL engine is not in this build)",
			  NOT_YET);
		return CFG_ERR;
	}
	sp = px_get(ctx);
	if (!sp) {
		memprintf(err, "out of memory");
		return CFG_ERR;
	}
	if (sp->prom) {
		memprintf(err, "only one 'http-request use-service prometheus-exporter' line per proxy is supported");
		return CFG_ERR;
	}
	sp->prom = true;
	sp->prom_line = ctx->line;
	if (argc == 3) {
		sp->prom_all = true;
		return CFG_OK;
	}
	return set_str(&sp->prom_path, argv[6], err);
}

static const struct cfg_kw stats_kws[] = {
	{ "stats", CFG_SEC_PROXIES, kw_stats, NULL },
	{ "http-request", CFG_SEC_PROXIES, kw_http_request, NULL },
};

const struct cfg_kw_list stats_http_kw_list = { stats_kws, ARRAY_SIZE(stats_kws) };

/* ---- finalize --------------------------------------------------------------- */

static const char *type_str(unsigned cap)
{
	/* HAProxy's proxy_type_str() */
	if ((cap & (PR_CAP_FE | PR_CAP_BE)) == (PR_CAP_FE | PR_CAP_BE))
		return "proxy";
	return cap & PR_CAP_FE ? "frontend" : "backend";
}

static const char *mode_file(const struct proxy *px)
{
	return px->mode_file ? px->mode_file : px->file;
}

static int mode_line(const struct proxy *px)
{
	return px->mode_line ? px->mode_line : px->line;
}

/* Whether px, in HTTP mode, is no statistics proxy at all. */
static bool http_not_stats(const struct dp_config *c, const struct proxy *px)
{
	const struct stats_px *sp = stats_px_of(c, px);

	return px->mode == PR_MODE_HTTP && (!sp || (!sp->enabled && !sp->prom));
}

/* Proxies in HTTP mode that are no statistics proxy: one error per `mode
 * http` line (usually a defaults section's), naming every proxy it puts in
 * HTTP mode; first is the first of them. */
static void refuse_http_mode(struct dp_config *c, struct proxy *first, int *errors)
{
	struct cli_buf names = { 0 };
	unsigned n = 0;

	for (struct proxy *o = c->proxies; o != first; o = o->next)
		if (http_not_stats(c, o) && mode_line(o) == mode_line(first) && !strcmp(mode_file(o), mode_file(first)))
			return; /* reported with an earlier proxy */
	for (struct proxy *o = first; o; o = o->next) {
		if (!http_not_stats(c, o) || mode_line(o) != mode_line(first) || strcmp(mode_file(o), mode_file(first)))
			continue;
		cli_printf(&names, "%s%s '%s' (%s:%d)", n++ ? ", " : "", o->cap & PR_CAP_FE ?
			   (o->cap & PR_CAP_BE ? "listen" : "frontend") : "backend", o->name, o->file, o->line);
	}
	cfg_report_at(true, mode_file(first), mode_line(first), errors,
		      "'mode http' puts %s in HTTP mode, which is not supported: decoyproxy is a layer-4 proxy and serves HTTP only for a statistics page ('stats enable'); use 'mode tcp'",
		      names.data ? names.data : first->name);
	cli_buf_reset(&names);
}

/* A statistics proxy serves its page and nothing else. */
static void check_stats_proxy(struct proxy *px, int *errors)
{
	if (px->srv || px->defbe_name || px->tproxy) {
		cfg_report_at(true, mode_file(px), mode_line(px), errors,
			      "%s '%s' (%s:%d) is in 'mode http' with %s, which is not supported: decoyproxy serves HTTP only for a statistics page, which relays nothing; put the statistics page in a proxy of its own",
			      type_str(px->cap), px->name, px->file, px->line,
			      px->srv ? "servers" : px->defbe_name ? "a default_backend" : "intercepted decoys");
		return;
	}
	for (struct bind_conf *bc = px->binds; bc; bc = bc->next) {
		if (bc->options & (BC_O_ACCEPT_PROXY | BC_O_TRANSPARENT)) {
			cfg_report_at(true, bc->file, bc->line, errors,
				      "statistics %s '%s': bind '%s': 'accept-proxy' and 'transparent' are %s on a statistics page",
				      type_str(px->cap), px->name, bc->spec, NOT_YET);
			continue;
		}
		bc->accept = stats_http_accept;
	}
}

int stats_http_finalize(struct dp_config *c)
{
	int errors = 0;

	for (struct proxy *px = c->proxies; px; px = px->next) {
		struct stats_px *sp = stats_px_of(c, px);

		if (px->mode == PR_MODE_HTTP) {
			if (http_not_stats(c, px))
				refuse_http_mode(c, px, &errors);
			else
				check_stats_proxy(px, &errors);
			continue;
		}
		if (!sp)
			continue;
		/* HAProxy's warnings for a TCP proxy */
		if (sp->enabled)
			ha_warning("config : 'stats' statement ignored for %s '%s' as it requires HTTP mode.",
				   type_str(px->cap), px->name);
		if (sp->prom)
			ha_warning("config : 'http-request' rules ignored for %s '%s' as they require HTTP mode.",
				   type_str(px->cap), px->name);
		sp->enabled = sp->prom = false;
	}
	return errors;
}
