/* conf.c — configuration generations: creation, release (with the
 * modules' extensions), look-ups and the proxies' cross-reference checks. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"
#include "log/msg.h"
#include "net/nscache.h"
#include "model/bind.h"
#include "model/conf.h"
#include "model/proxy.h"
#include "model/server.h"

static unsigned next_generation = 1;

struct dp_config *dp_config_new(void)
{
	struct dp_config *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->nscache = ns_cache_new();
	if (!c->nscache) {
		free(c);
		return NULL;
	}
	c->refcnt = 1;
	c->generation = next_generation++;
	c->g.nbthread = 0; /* unset: HAProxy's default (ctl/cpumap.c) */
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
	/* extensions first: they may hold data hung on the proxies */
	while (c->exts) {
		struct conf_ext *e = c->exts;

		c->exts = e->next;
		e->ops->free(c, e);
	}
	free_proxy_list(c->proxies);
	free_proxy_list(c->defaults);
	for (size_t i = 0; i < c->all_targets.n; i++)
		log_target_free(c->all_targets.v[i]);
	free(c->all_targets.v);
	ns_cache_free(c->nscache);
	free(c->g.logs.v);
	free(c->g.pidfile);
	free(c->g.user);
	free(c->g.group);
	free(c->g.log_tag);
	free(c->g.unix_bind.prefix);
	free(c->g.hostname);
	free(c->g.srvstate_file);
	free(c->g.srvstate_base);
	cfg_files_free(&c->files);
	free(c);
}

struct conf_ext *conf_ext_find(const struct dp_config *c, const struct conf_ext_ops *ops)
{
	for (struct conf_ext *e = c ? c->exts : NULL; e; e = e->next)
		if (e->ops == ops)
			return e;
	return NULL;
}

void conf_ext_add(struct dp_config *c, struct conf_ext *e)
{
	e->next = c->exts;
	c->exts = e;
}

struct proxy *dp_config_find_proxy(struct dp_config *c, const char *name, unsigned cap)
{
	for (struct proxy *px = c->proxies; px; px = px->next)
		if ((px->cap & cap) && px->name && !strcmp(px->name, name))
			return px;
	return NULL;
}

struct server *proxy_find_server(const struct proxy *px, const char *name)
{
	for (struct server *s = px->srv; s; s = s->next)
		if (!strcmp(s->name, name))
			return s;
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

static const char *cap_name(unsigned cap)
{
	if ((cap & (PR_CAP_FE | PR_CAP_BE)) == (PR_CAP_FE | PR_CAP_BE))
		return "listen";
	return cap & PR_CAP_FE ? "frontend" : "backend";
}

static const char *type_str(unsigned cap)
{
	/* HAProxy's proxy_type_str(): a listen section is a "proxy" */
	if ((cap & (PR_CAP_FE | PR_CAP_BE)) == (PR_CAP_FE | PR_CAP_BE))
		return "proxy";
	return cap & PR_CAP_FE ? "frontend" : "backend";
}

/* A proxy in TCP mode ignores the HTTP options it has (from a defaults
 * section of HTTP mode, usually) with HAProxy's warnings, and logs with
 * tcplog instead of httplog. Proxies in HTTP mode are the statistics
 * module's business (ctl/stats_http_kw.c). */
static void http_opts_in_tcp(struct proxy *px)
{
	if (px->mode != PR_MODE_TCP)
		return;
	if (px->httplog && (px->cap & PR_CAP_FE)) {
		ha_warning("config : parsing [%s:%d] : 'option %s' not usable with %s '%s' (needs 'mode http'). Falling back to 'option tcplog'.",
			   px->httplog_file, px->httplog_line, px->httplog == PR_HTTPLOG_HTTPS ? "httpslog" : "httplog",
			   type_str(px->cap), px->name);
		px->options |= PR_O_TCPLOG;
	}
	px->httplog = PR_HTTPLOG_NONE;
	for (unsigned i = 0; proxy_http_opts[i].name; i++) {
		if (!(px->http_opts & (1u << i)) || !(px->cap & proxy_http_opts[i].cap))
			continue;
		ha_warning("config : 'option %s' ignored for %s '%s' as it requires HTTP mode.", proxy_http_opts[i].name,
			   type_str(px->cap), px->name);
	}
	px->http_opts = 0;
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
				cfg_report_at(true, px->file, px->line, &errors,
					  "%s '%s' has the same name as %s '%s' declared at %s:%d",
					  cap_name(px->cap), px->name, cap_name(o->cap), o->name, o->file, o->line);
		}

		http_opts_in_tcp(px);
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
					cfg_report_at(true, px->file, px->defbe_line, &errors,
						  "%s '%s': unable to find required default_backend: '%s'.",
						  cap_name(px->cap), px->name, px->defbe_name);
				else
					px->defbe = be;
			} else if (px->cap & PR_CAP_BE) {
				px->defbe = px; /* a listen section is its own backend */
			} else if (px->binds && px->mode != PR_MODE_HTTP) {
				/* valid for HAProxy too: every connection ends
				 * with <NOSRV>; say it, since it is rarely meant.
				 * Not for a proxy in HTTP mode: a statistics
				 * frontend answers by itself (any other HTTP
				 * proxy is refused, ctl/stats_http_kw.c) */
				ha_warning("config : %s '%s' (%s:%d) has no backend: connections will be closed ('default_backend' missing).",
					   cap_name(px->cap), px->name, px->file, px->line);
			}
			if (px->unique_id_fmt && lf_compile(px->unique_id_fmt, &px->unique_id_lf, &err) < 0) {
				cfg_report_at(true, px->file, px->line, &errors, "%s '%s': unique-id-format: %s",
					  cap_name(px->cap), px->name, err ? err : "invalid");
				free(err);
				err = NULL;
			}
			if (lf_compile(px->log_format ? px->log_format : proxy_default_log_format(px), &px->lf, &err) < 0) {
				cfg_report_at(true, px->file, px->line, &errors, "%s '%s': log-format: %s",
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
						cfg_report_at(true, px->file, s->line, &errors,
							  "backend '%s': server '%s' already declared at %s:%d",
							  px->name, s->name, o->file, o->line);
				tw += s->weight;
			}
			px->lb_total_weight = tw;
			if (!px->to.queue)
				px->to.queue = px->to.connect;
		}
	}
	return errors;
}

/* ---- counters and state that survive a reload ---- */

void dp_config_carry_over(struct dp_config *newc, struct dp_config *oldc)
{
	for (struct proxy *np = newc->proxies; np; np = np->next) {
		struct proxy *op = dp_config_find_proxy(oldc, np->name, np->cap & (PR_CAP_FE | PR_CAP_BE));

		if (!op)
			continue;
		cnt_slots_copy(np->cnt, op->cnt, sizeof(np->cnt[0]), sizeof(np->cnt[0].v));
		for (struct server *ns = np->srv; ns; ns = ns->next) {
			for (struct server *os = op->srv; os; os = os->next) {
				if (strcmp(ns->name, os->name))
					continue;
				cnt_slots_copy(ns->cnt, os->cnt, sizeof(ns->cnt[0]), sizeof(ns->cnt[0].v));
				/* an operator's `disable server` / `set server state`
				 * survives a reload, as with a server-state file */
				ns->admin = os->admin;
				/* a server known down stays down until checks say otherwise */
				if (ns->check && os->check) {
					ns->chk_up = os->chk_up;
					ns->chk_health = os->chk_health;
					memcpy(ns->chk_last, os->chk_last, sizeof(ns->chk_last));
					memcpy(ns->chk_st, os->chk_st, sizeof(ns->chk_st));
					ns->chk_code = os->chk_code;
					ns->chk_dur = os->chk_dur;
				}
				break;
			}
		}
	}
}
