/* proxy.c — configuration generations and proxies: creation, defaults
 * inheritance, cross-reference checks, release. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/bind.h"
#include "log/log.h"
#include "model/proxy.h"
#include "model/server.h"
#include "log/msg.h"

/* HAProxy 2.6's HTTP-mode options (cfg_opts entries with PR_MODE_HTTP, and
 * forwardfor/originalto), in the order it warns about them. */
const struct proxy_http_opt proxy_http_opts[] = {
	{ "forwardfor", PR_CAP_FE | PR_CAP_BE },
	{ "originalto", PR_CAP_FE | PR_CAP_BE },
	{ "accept-invalid-http-request", PR_CAP_FE },
	{ "accept-invalid-http-response", PR_CAP_BE },
	{ "checkcache", PR_CAP_BE },
	{ "disable-h2-upgrade", PR_CAP_FE },
	{ "http-buffer-request", PR_CAP_FE | PR_CAP_BE },
	{ "http-ignore-probes", PR_CAP_FE },
	{ "http-no-delay", PR_CAP_FE | PR_CAP_BE },
	{ "http-pretend-keepalive", PR_CAP_BE },
	{ "http-use-proxy-header", PR_CAP_FE },
	{ "idle-close-on-response", PR_CAP_FE },
	{ "prefer-last-server", PR_CAP_BE },
	{ NULL, 0 },
};

void proxy_set_builtin_defaults(struct proxy *px)
{
	px->mode = PR_MODE_TCP;
	px->retries = 3;        /* HAProxy's default */
	px->lbalgo = LB_ROUNDROBIN;
}

struct proxy *proxy_new(struct dp_config *c, const char *name, unsigned cap, const char *file, int line)
{
	struct proxy *px = calloc(1, sizeof(*px));

	if (!px)
		return NULL;
	px->cap = cap;
	px->conf = c;
	px->line = line;
	px->file = strdup(file);
	if (name)
		px->name = strdup(name);
	px->cnt = cnt_slots_alloc(sizeof(*px->cnt));
	if (!px->file || (name && !px->name) || !px->cnt) {
		proxy_free(px);
		return NULL;
	}
	proxy_set_builtin_defaults(px);
	return px;
}

void proxy_free(struct proxy *px)
{
	if (!px)
		return;
	while (px->binds) {
		struct bind_conf *n = px->binds->next;

		bind_conf_free(px->binds);
		px->binds = n;
	}
	while (px->srv) {
		struct server *n = px->srv->next;

		server_free(px->srv);
		px->srv = n;
	}
	server_free(px->defsrv);
	chkconf_free(&px->chk);
	lf_free(px->lf);
	lf_free(px->unique_id_lf);
	free(px->unique_id_fmt);
	free(px->log_format);
	free(px->logs.v);
	free(px->defbe_name);
	free(px->srvstate_name);
	free(px->description);
	src_conf_free(&px->source);
	free(px->cnt);
	free(px->name);
	free(px->file);
	free(px);
}

int proxy_inherit(struct proxy *px, const struct proxy *def, char **err)
{
	px->mode = def->mode;
	px->mode_file = def->mode_file;
	px->mode_line = def->mode_line;
	px->http_opts = def->http_opts;
	px->httplog = def->httplog;
	px->httplog_file = def->httplog_file;
	px->httplog_line = def->httplog_line;
	px->maxconn = def->maxconn;
	px->retries = def->retries;
	px->fullconn = def->fullconn;
	px->to = def->to;
	px->options = def->options;
	px->lbalgo = def->lbalgo;
	px->srvstate_load = def->srvstate_load;
	if (def->srvstate_name && !(px->srvstate_name = strdup(def->srvstate_name)))
		goto nomem;
	if (chkconf_inherit(&px->chk, &def->chk) < 0)
		goto nomem;
	px->log_global = def->log_global;
	px->mirror = def->mirror; /* shared until the proxy adds to it (core/mirror_kw.c) */
	if (def->log_format && !(px->log_format = strdup(def->log_format)))
		goto nomem;
	if (def->unique_id_fmt && !(px->unique_id_fmt = strdup(def->unique_id_fmt)))
		goto nomem;
	for (size_t i = 0; i < def->logs.n; i++)
		if (log_list_add(&px->logs, def->logs.v[i]) < 0)
			goto nomem;
	if ((px->cap & (PR_CAP_FE | PR_CAP_DEF)) && def->defbe_name) {
		if (!(px->defbe_name = strdup(def->defbe_name)))
			goto nomem;
		px->defbe_line = def->defbe_line;
	}
	if (src_conf_copy(&px->source, &def->source) < 0)
		goto nomem;
	if (def->defsrv) {
		px->defsrv = calloc(1, sizeof(*px->defsrv));
		if (!px->defsrv || !(px->defsrv->name = strdup("default-server")) ||
		    server_copy_options(px->defsrv, def->defsrv) < 0)
			goto nomem;
		px->defsrv->px = px;
	}
	return 0;
nomem:
	memprintf(err, "out of memory");
	return -ENOMEM;
}

const char *proxy_default_log_format(const struct proxy *px)
{
	if (px->options & PR_O_TCPLOG)
		return LF_TCPLOG_FMT;
	if (px->tproxy)
		return LF_DECOYLOG_FMT;
	for (const struct bind_conf *bc = px->binds; bc; bc = bc->next)
		if (bc->options & BC_O_TRANSPARENT)
			return LF_DECOYLOG_FMT;
	return LF_TCPLOG_FMT;
}

long long proxy_cli_timeout(const struct proxy *fe, const struct proxy *be, bool established, bool half_closed)
{
	/* Once both sides are connected, `timeout tunnel` (from the backend)
	 * supersedes client and server timeouts; after a half-close the *-fin
	 * timeouts apply when set. */
	if (half_closed && fe->to.client_fin)
		return fe->to.client_fin;
	if (established && be && be->to.tunnel)
		return be->to.tunnel;
	return fe->to.client;
}

long long proxy_srv_timeout(const struct proxy *be, bool established, bool half_closed)
{
	if (half_closed && be->to.server_fin)
		return be->to.server_fin;
	if (established && be->to.tunnel)
		return be->to.tunnel;
	return be->to.server;
}
