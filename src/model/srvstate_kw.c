/* srvstate_kw.c — the server-state file keywords (srvstate.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cfg/value.h"
#include "lib/common.h"
#include "model/conf.h"
#include "model/proxy.h"
#include "model/srvstate.h"

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

/* server-state-file <file> / server-state-base <dir> */
static int kw_global(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	bool base = !strcmp(argv[0], "server-state-base");
	char **dst = base ? &ctx->conf->g.srvstate_base : &ctx->conf->g.srvstate_file;

	if (argc != 2 || !*argv[1]) {
		memprintf(err, "expects one argument: a %s", base ? "directory path" : "file path");
		return CFG_ERR;
	}
	if (*dst) {
		memprintf(err, "already specified. Continuing.");
		return CFG_WARN;
	}
	return set_str(dst, argv[1], err);
}

static int kw_load(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct proxy *px = ctx_px(ctx);

	if (argc != 2) {
		memprintf(err, "expects 'global', 'local' or 'none'. Got %s.", argc < 2 ? "no argument" : "more");
		return CFG_ERR;
	}
	if (!strcmp(argv[1], "global"))
		px->srvstate_load = SRVSTATE_GLOBAL;
	else if (!strcmp(argv[1], "local"))
		px->srvstate_load = SRVSTATE_LOCAL;
	else if (!strcmp(argv[1], "none"))
		px->srvstate_load = SRVSTATE_NONE;
	else {
		memprintf(err, "expects 'global', 'local' or 'none'. Got '%s'", argv[1]);
		return CFG_ERR;
	}
	return CFG_OK;
}

static int kw_name(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct proxy *px = ctx_px(ctx);

	if (argc > 2) {
		memprintf(err, "expects at most one argument, a file name or 'use-backend-name'");
		return CFG_ERR;
	}
	if (argc == 1 || !strcmp(argv[1], "use-backend-name")) {
		free(px->srvstate_name);
		px->srvstate_name = NULL;
		return CFG_OK;
	}
	if (!*argv[1]) {
		memprintf(err, "expects a non-empty file name");
		return CFG_ERR;
	}
	return set_str(&px->srvstate_name, argv[1], err);
}

char *srvstate_path(const struct dp_config *c, const struct proxy *px)
{
	const char *name, *base = c->g.srvstate_base;
	char *p = NULL;

	switch (px->srvstate_load) {
	case SRVSTATE_GLOBAL:
		name = c->g.srvstate_file;
		break;
	case SRVSTATE_LOCAL:
		name = px->srvstate_name ? px->srvstate_name : px->name;
		break;
	default:
		return NULL;
	}
	if (!name)
		return NULL;
	if (name[0] == '/' || !base || !*base)
		return strdup(name);
	memprintf(&p, "%s%s%s", base, base[strlen(base) - 1] == '/' ? "" : "/", name);
	return p;
}

static const struct cfg_kw srvstate_kws[] = {
	{ "server-state-file", CFG_SEC_GLOBAL, kw_global, NULL },
	{ "server-state-base", CFG_SEC_GLOBAL, kw_global, NULL },
	{ "load-server-state-from-file", CFG_SEC_BE, kw_load, NULL },
	{ "server-state-file-name", CFG_SEC_BE, kw_name, NULL },
};

const struct cfg_kw_list srvstate_kw_list = { srvstate_kws, ARRAY_SIZE(srvstate_kws) };
