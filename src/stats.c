/* stats.c — the stats socket.
 * (First version: `stats` keyword refused; the CLI implementation replaces
 * this file.) */
#include "config.h"

#include <stdlib.h>

#include "decoyproxy/stats.h"

int (*stats_reload_hook)(char **msg);

static const struct cfg_kw stats_kws[] = {
	{ "stats", CFG_SEC_GLOBAL, NULL, "the stats socket is not implemented yet" },
};

const struct cfg_kw_list stats_kw_list = { stats_kws, ARRAY_SIZE(stats_kws) };

void stats_conf_free(struct stats_conf *s)
{
	(void)s;
}

int stats_open(struct dp_config *c, struct dp_config *oldc, char **err)
{
	return 0;
}

void stats_close(struct dp_config *c)
{
}
