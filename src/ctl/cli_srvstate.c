/* cli_srvstate.c — `show servers state [<backend>]`: HAProxy's
 * server-state file, version 1 (ctl/srvstate.c writes the lines), so that
 * `show servers state > file` feeds `load-server-state-from-file`. */
#include "config.h"

#include "ctl/cli_int.h"
#include "ctl/srvstate.h"
#include "core/loop.h"
#include "model/proxy.h"
#include "model/server.h"

void cli_cmd_show_servers_state(struct cli_ctx *cx, int argc, char **argv, struct cli_buf *out)
{
	const struct proxy *only = NULL;
	unsigned iid = 1;
	char line[1024];

	(void)cx;
	if (argc > 3) {
		only = rt.conf ? dp_config_find_proxy(rt.conf, argv[3], PR_CAP_BE) : NULL;
		if (!only) {
			cli_printf(out, "Can't find backend.\n");
			return;
		}
	}
	cli_printf(out, "%s\n%s\n", SRVSTATE_VERSION, SRVSTATE_HEADER);
	for (const struct proxy *px = rt.conf ? rt.conf->proxies : NULL; px && !out->truncated; px = px->next, iid++) {
		unsigned sid = 1;

		if (!(px->cap & PR_CAP_BE) || (only && px != only))
			continue;
		for (const struct server *s = px->srv; s && !out->truncated; s = s->next, sid++) {
			srvstate_line(line, sizeof(line), s, iid, sid);
			cli_printf(out, "%s\n", line);
		}
	}
}
