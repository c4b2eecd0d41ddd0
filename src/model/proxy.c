/* proxy.c — configuration generations and proxies: creation, defaults
 * inheritance, cross-reference checks, release. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/conf.h"
#include "core/listener.h"
#include "log/log.h"
#include "model/proxy.h"
#include "plumbing/netseg.h"
#include "model/server.h"
#include "ctl/cli.h"
#include "plumbing/tproxy.h"
#include "log/msg.h"

static unsigned next_generation = 1;

struct dp_config *dp_config_new(void)
{
	struct dp_config *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->refcnt = 1;
	c->generation = next_generation++;
	c->g.nbthread = 1;
	return c;
}

static void free_proxy_list(struct proxy *px)
{
	while (px) {
		struct proxy *n = px->next;

		proxy_free(px);
		px = n;
	}
}

void dp_config_put(struct dp_config *c)
{
	if (!c || --c->refcnt > 0)
		return;
	free_proxy_list(c->proxies);
	free_proxy_list(c->defaults);
	for (size_t i = 0; i < c->all_targets.n; i++)
		log_target_free(c->all_targets.v[i]);
	free(c->all_targets.v);
	stats_conf_free(c->stats);
	tproxy_gconf_free(c->tproxy);
	netseg_free_all(c->netsegs);
	free(c->g.logs.v);
	free(c->g.pidfile);
	free(c->g.user);
	free(c->g.group);
	free(c->g.log_tag);
	free(c->g.hostname);
	for (size_t i = 0; i < c->nfiles; i++)
		free(c->files[i]);
	free(c->files);
	free(c);
}

struct proxy *dp_config_find_proxy(struct dp_config *c, const char *name, unsigned cap)
{
	for (struct proxy *px = c->proxies; px; px = px->next)
		if ((px->cap & cap) && px->name && !strcmp(px->name, name))
			return px;
	return NULL;
}

size_t dp_config_count_listeners(const struct dp_config *c)
{
	size_t n = 0;

	for (struct proxy *px = c->proxies; px; px = px->next)
		for (struct bind_conf *bc = px->binds; bc; bc = bc->next)
			for (struct listener *l = bc->listeners; l; l = l->next)
				n++;
	return n;
}

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
	if (!px->file || (name && !px->name)) {
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
	tproxy_fe_free(px->tproxy);
	lf_free(px->lf);
	lf_free(px->unique_id_lf);
	free(px->unique_id_fmt);
	free(px->log_format);
	free(px->logs.v);
	free(px->defbe_name);
	free(px->description);
	src_conf_free(&px->source);
	free(px->name);
	free(px->file);
	free(px);
}

int proxy_inherit(struct proxy *px, const struct proxy *def, char **err)
{
	px->mode = def->mode;
	px->maxconn = def->maxconn;
	px->retries = def->retries;
	px->to = def->to;
	px->options = def->options;
	px->lbalgo = def->lbalgo;
	px->log_global = def->log_global;
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

static void fin_alert(struct proxy *px, int line, int *errors, const char *fmt, ...) DP_PRINTF(4, 5);
static void fin_alert(struct proxy *px, int line, int *errors, const char *fmt, ...)
{
	va_list ap;
	char *m = NULL;

	va_start(ap, fmt);
	vmemprintf(&m, fmt, ap);
	va_end(ap);
	ha_alert("config : parsing [%s:%d] : %s", px->file, line, m ? m : "out of memory");
	free(m);
	(*errors)++;
}

static const char *cap_name(unsigned cap)
{
	if ((cap & (PR_CAP_FE | PR_CAP_BE)) == (PR_CAP_FE | PR_CAP_BE))
		return "listen";
	return cap & PR_CAP_FE ? "frontend" : "backend";
}

int dp_config_finalize(struct dp_config *c)
{
	int errors = 0;

	for (struct proxy *px = c->proxies; px; px = px->next) {
		/* duplicate names: a frontend and a backend may share a name,
		 * two proxies with a common capability may not */
		for (struct proxy *o = c->proxies; o != px; o = o->next) {
			if (o->name && px->name && !strcmp(o->name, px->name) &&
			    (o->cap & px->cap & (PR_CAP_FE | PR_CAP_BE)))
				fin_alert(px, px->line, &errors,
					  "%s '%s' has the same name as %s '%s' declared at %s:%d",
					  cap_name(px->cap), px->name, cap_name(o->cap), o->name, o->file, o->line);
		}

		if (px->log_global)
			for (size_t i = 0; i < c->g.logs.n; i++)
				log_list_add(&px->logs, c->g.logs.v[i]);

		if (px->cap & PR_CAP_FE) {
			char *err = NULL;

			if (!px->binds)
				ha_warning("config : %s '%s' (%s:%d) has no 'bind' directive. Please declare it as a backend if this was intended.",
					   cap_name(px->cap), px->name, px->file, px->line);
			if (px->defbe_name) {
				struct proxy *be = dp_config_find_proxy(c, px->defbe_name, PR_CAP_BE);

				if (!be)
					fin_alert(px, px->defbe_line, &errors,
						  "%s '%s': unable to find required default_backend: '%s'.",
						  cap_name(px->cap), px->name, px->defbe_name);
				else
					px->defbe = be;
			} else if (px->cap & PR_CAP_BE) {
				px->defbe = px; /* a listen section is its own backend */
			} else if (px->binds) {
				/* valid for HAProxy too: every connection ends
				 * with <NOSRV>; say it, since it is rarely meant */
				ha_warning("config : %s '%s' (%s:%d) has no backend: connections will be closed ('default_backend' missing).",
					   cap_name(px->cap), px->name, px->file, px->line);
			}
			if (px->unique_id_fmt && lf_compile(px->unique_id_fmt, &px->unique_id_lf, &err) < 0) {
				fin_alert(px, px->line, &errors, "%s '%s': unique-id-format: %s",
					  cap_name(px->cap), px->name, err ? err : "invalid");
				free(err);
				err = NULL;
			}
			if (lf_compile(px->log_format ? px->log_format : LF_TCPLOG_FMT, &px->lf, &err) < 0) {
				fin_alert(px, px->line, &errors, "%s '%s': log-format: %s",
					  cap_name(px->cap), px->name, err ? err : "invalid");
				free(err);
			}
			if (!px->to.client)
				ha_warning("config : missing timeouts for %s '%s'.\n   | While not properly invalid, you will certainly encounter various problems\n   | with such a configuration. To fix this, please ensure that all following\n   | timeouts are set to a non-zero value: 'client', 'connect', 'server'.",
					   cap_name(px->cap), px->name);
		}
		if ((px->cap & PR_CAP_BE) && !(px->cap & PR_CAP_FE)) {
			if (!px->to.connect || !px->to.server)
				ha_warning("config : missing timeouts for backend '%s'.\n   | While not properly invalid, you will certainly encounter various problems\n   | with such a configuration. To fix this, please ensure that all following\n   | timeouts are set to a non-zero value: 'client', 'connect', 'server'.",
					   px->name);
		}
		if (px->cap & PR_CAP_BE) {
			unsigned long tw = 0;

			for (struct server *s = px->srv; s; s = s->next) {
				for (struct server *o = px->srv; o != s; o = o->next)
					if (!strcmp(o->name, s->name))
						fin_alert(px, s->line, &errors,
							  "backend '%s': server '%s' already declared at %s:%d",
							  px->name, s->name, o->file, o->line);
				tw += s->weight;
			}
			px->lb_total_weight = tw;
			if (!px->to.queue)
				px->to.queue = px->to.connect;
		}
	}
	errors += netseg_finalize(c);
	errors += tproxy_finalize(c);
	return errors;
}
