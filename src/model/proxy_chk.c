/* proxy_chk.c — the health-check keywords of proxies (`tcp-check`,
 * `http-check`; `option tcp-check|httpchk|redis-check` comes through
 * conf_kw.c's `option`): they hand the proxy's chk_conf to model/chkrule.c,
 * which owns the rules. */
#include "config.h"

#include "model/proxy.h"

static int kw_tcp_check(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	return chkrule_tcp_check(ctx, &ctx_px(ctx)->chk, argc, argv, err);
}

static int kw_http_check(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	return chkrule_http_check(ctx, &ctx_px(ctx)->chk, argc, argv, err);
}

int proxy_chk_option(struct cfg_ctx *ctx, int argc, char **argv, bool neg, char **err)
{
	return chkrule_option(ctx, &ctx_px(ctx)->chk, ctx_px(ctx)->name, argc, argv, neg, err);
}

int proxy_chk_finalize(struct proxy *px)
{
	if (!(px->cap & PR_CAP_BE) || (px->cap & PR_CAP_DEF))
		return 0;
	return chkrule_finalize(&px->chk, px->name);
}

static const struct cfg_kw proxy_chk_kws[] = {
	{ "tcp-check", CFG_SEC_BE, kw_tcp_check, NULL },
	{ "http-check", CFG_SEC_BE, kw_http_check, NULL },
};

const struct cfg_kw_list proxy_chk_kw_list = { proxy_chk_kws, ARRAY_SIZE(proxy_chk_kws) };
