/* tune.c — the data path's tuning keywords (see tune.h). */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cfg/cfg.h"
#include "core/loop.h"
#include "core/pipe.h"
#include "core/tune.h"
#include "model/conf.h"

unsigned tune_maxaccept = TUNE_MAXACCEPT_DEFAULT;

/* `maxpipes <n>`: the most pipes splice() may use at once, process-wide
 * (each holds two file descriptors, counted in the fd limit); 0 keeps
 * HAProxy's default, maxconn / 4. */
static int t_maxpipes(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	unsigned long long v;

	if (cfg_one_arg(argc, argv, err))
		return CFG_ERR;
	if (cfg_parse_uint(argv[1], 10000000, &v) < 0) {
		memprintf(err, "expects a positive integer, got '%s'", argv[1]);
		return CFG_ERR;
	}
	ctx->conf->g.maxpipes = (unsigned)v;
	return CFG_OK;
}

/* `nosplice`: never splice, whatever the proxies' options say. */
static int t_nosplice(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	if (cfg_no_arg(argc, argv, err))
		return CFG_ERR;
	ctx->conf->g.nosplice = true;
	return CFG_OK;
}

/* `tune.pipesize <bytes>`: the size asked of the kernel for each pipe
 * (F_SETPIPE_SZ); 0 keeps the kernel's default (64 kB). */
static int t_pipesize(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	unsigned long long v;

	if (cfg_one_arg(argc, argv, err))
		return CFG_ERR;
	if (cfg_parse_uint(argv[1], 1U << 30, &v) < 0) {
		memprintf(err, "expects a size in bytes between 0 and 1073741824, got '%s'", argv[1]);
		return CFG_ERR;
	}
	ctx->conf->g.pipesize = (unsigned)v;
	return CFG_OK;
}

/* `tune.maxaccept <n>`: connections accepted in a row per listener wake-up;
 * -1 = no limit, 0 = the default (64). */
static int t_maxaccept(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	unsigned long long v;

	if (cfg_one_arg(argc, argv, err))
		return CFG_ERR;
	if (!strcmp(argv[1], "-1")) {
		ctx->conf->g.maxaccept = -1;
		return CFG_OK;
	}
	if (cfg_parse_uint(argv[1], 1000000, &v) < 0) {
		memprintf(err, "expects -1 (no limit) or an integer between 0 and 1000000, got '%s'", argv[1]);
		return CFG_ERR;
	}
	ctx->conf->g.maxaccept = (int)v;
	return CFG_OK;
}

static const struct cfg_kw kws[] = {
	{ "maxpipes", CFG_SEC_GLOBAL, t_maxpipes, NULL },
	{ "nosplice", CFG_SEC_GLOBAL, t_nosplice, NULL },
	{ "tune.pipesize", CFG_SEC_GLOBAL, t_pipesize, NULL },
	{ "tune.maxaccept", CFG_SEC_GLOBAL, t_maxaccept, NULL },
};

const struct cfg_kw_list tune_kw_list = { kws, ARRAY_SIZE(kws) };

void tune_commit(struct dp_config *newc, struct dp_config *oldc)
{
	(void)oldc;
	pipe_setup(newc, rt.maxconn);
	tune_maxaccept = newc->g.maxaccept < 0 ? UINT_MAX :
			 newc->g.maxaccept ? (unsigned)newc->g.maxaccept : TUNE_MAXACCEPT_DEFAULT;
}
