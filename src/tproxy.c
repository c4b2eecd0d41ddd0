/* tproxy.c — `intercept` and the nftables/routing plumbing.
 * (First version: no keyword yet, nothing installed. The libnftnl-backed
 * implementation replaces this file.) */
#include "config.h"

#include <stdlib.h>

#include "decoyproxy/tproxy.h"

static const struct cfg_kw tproxy_kws[] = {
	{ "intercept", CFG_SEC_FE_NODEF, NULL, "not supported yet" },
	{ "intercept-file", CFG_SEC_FE_NODEF, NULL, "not supported yet" },
};

const struct cfg_kw_list tproxy_kw_list = { tproxy_kws, ARRAY_SIZE(tproxy_kws) };

void tproxy_gconf_free(struct tproxy_gconf *g)
{
	(void)g;
}

void tproxy_fe_free(struct tproxy_fe *f)
{
	(void)f;
}

int tproxy_finalize(struct dp_config *c)
{
	return 0;
}

int tproxy_apply(struct dp_config *c, struct dp_config *oldc, char **err)
{
	return 0;
}

void tproxy_undo(struct dp_config *newc, struct dp_config *oldc)
{
}

void tproxy_remove_stale(struct dp_config *oldc, struct dp_config *newc)
{
}

void tproxy_remove(struct dp_config *c)
{
}
