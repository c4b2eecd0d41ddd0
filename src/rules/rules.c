/* rules.c — evaluating a proxy's rules (see rules.h), the generation's
 * rules state, and the checks made once every section is read. Keyword
 * parsing is rules_kw.c's, the log-format hook rules_log.c's. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"
#include "cfg/cfg.h"
#include "log/msg.h"
#include "model/conf.h"
#include "model/proxy.h"
#include "model/server.h"
#include "rules/acl.h"
#include "rules/pattern.h"
#include "rules/rules.h"
#include "rules/rules_int.h"
#include "rules/sample.h"
#include "rules/stktable.h"

/* ---- the generation's state: frees every proxy's rules --------------------------- */

static void tcp_rules_free(struct tcp_rule *t)
{
	struct tcp_rule *n;

	for (; t; t = n) {
		n = t->next;
		acl_cond_free(t->cond);
		smp_expr_free(t->expr);
		free(t->var);
		free(t->file);
		free(t);
	}
}

void rules_fmt_free(struct rules_fmt *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++) {
		free(f->p[i].text);
		smp_expr_free(f->p[i].expr);
	}
	free(f->p);
	free(f);
}

void px_rules_free(struct px_rules *r)
{
	struct switch_rule *s, *sn;
	struct srv_rule *v, *vn;

	if (!r)
		return;
	tcp_rules_free(r->conn);
	tcp_rules_free(r->sess);
	tcp_rules_free(r->content);
	for (s = r->sw; s; s = sn) {
		sn = s->next;
		acl_cond_free(s->cond);
		free(s->name);
		rules_fmt_free(s->fmt);
		free(s->file);
		free(s);
	}
	for (v = r->srvr; v; v = vn) {
		vn = v->next;
		acl_cond_free(v->cond);
		free(v->name);
		free(v->file);
		free(v);
	}
	/* ACLs last: conditions point at them */
	acl_list_free(&r->acls);
	free(r);
}

struct rules_conf {
	struct conf_ext ext;
};

static void rules_conf_free(struct dp_config *c, struct conf_ext *e)
{
	for (struct proxy *px = c->proxies; px; px = px->next) {
		px_rules_free(px->rules);
		px->rules = NULL;
	}
	for (struct proxy *px = c->defaults; px; px = px->next) {
		px_rules_free(px->rules);
		px->rules = NULL;
	}
	free(container_of(e, struct rules_conf, ext));
}

static const struct conf_ext_ops rules_conf_ops = { .name = "rules", .free = rules_conf_free };

struct px_rules *px_rules_get(struct dp_config *c, struct proxy *px)
{
	if (px->rules)
		return px->rules;
	if (!conf_ext_find(c, &rules_conf_ops)) {
		struct rules_conf *rc = calloc(1, sizeof(*rc));

		if (!rc)
			return NULL;
		rc->ext.ops = &rules_conf_ops;
		conf_ext_add(c, &rc->ext);
	}
	px->rules = calloc(1, sizeof(*px->rules));
	return px->rules;
}

/* ---- evaluation ------------------------------------------------------------------------ */

static void set_addr(struct sockaddr_storage *dst, const struct sample *smp)
{
	int port = addr_port(dst);

	*dst = smp->u.addr;
	addr_set_port(dst, port);
}

/* Performs a non-final action. */
static void do_action(const struct tcp_rule *t, struct smp_sess *ss)
{
	struct sample smp;

	if (t->act == TCP_ACT_SC_INC_GPC0) {
		struct smp_store *st = ss->store;
		uint64_t v;

		if (st && st->sc_e[t->sc])
			stk_entry_inc_gpc0(st->sc_t[t->sc], st->sc_e[t->sc], stk_now_ms(), &v);
		return;
	}
	if (t->act == TCP_ACT_TRACK_SC && (!ss->store || ss->store->sc_e[t->sc]))
		return; /* a counter already tracking keeps its entry */
	if (t->act == TCP_ACT_UNSET_VAR) {
		if (ss->store)
			smp_store_unset_var(ss->store, t->var);
		return;
	}
	if (!smp_expr_eval(t->expr, ss, &smp))
		return;
	switch (t->act) {
	case TCP_ACT_CAPTURE:
		if (ss->store)
			smp_store_capture(ss->store, t->cap_slot, &smp, t->cap_len);
		break;
	case TCP_ACT_SET_VAR:
		if (ss->store)
			smp_store_set_var(ss->store, t->var, &smp);
		break;
	case TCP_ACT_SET_SRC:
		if (smp_cast(&smp, SMP_T_ADDR) && ss->src)
			set_addr(ss->src, &smp);
		break;
	case TCP_ACT_SET_DST:
		if (smp_cast(&smp, SMP_T_ADDR) && ss->dst)
			set_addr(ss->dst, &smp);
		break;
	case TCP_ACT_SET_SRC_PORT:
		if (smp_cast(&smp, SMP_T_SINT) && ss->src && smp.u.sint >= 0 && smp.u.sint <= 65535)
			addr_set_port(ss->src, (int)smp.u.sint);
		break;
	case TCP_ACT_SET_DST_PORT:
		if (smp_cast(&smp, SMP_T_SINT) && ss->dst && smp.u.sint >= 0 && smp.u.sint <= 65535)
			addr_set_port(ss->dst, (int)smp.u.sint);
		break;
	case TCP_ACT_TRACK_SC:
		stk_sess_track(ss->store, t->sc, stk_ref_table(t->tref), &smp, stk_now_ms());
		break;
	case TCP_ACT_SC_SET_GPT0:
		if (smp_cast(&smp, SMP_T_SINT) && ss->store && ss->store->sc_e[t->sc] && smp.u.sint >= 0)
			stk_entry_set_gpt0(ss->store->sc_t[t->sc], ss->store->sc_e[t->sc], (uint64_t)smp.u.sint,
					   stk_now_ms());
		break;
	default:
		break;
	}
}

static enum rules_verdict run_tcp(const struct tcp_rule *t, struct smp_sess *ss, bool *expect_proxy)
{
	for (; t; t = t->next) {
		int r = acl_cond_eval(t->cond, ss);

		if (r < 0)
			return RV_WAIT;
		if (!r)
			continue;
		switch (t->act) {
		case TCP_ACT_ACCEPT: return RV_ACCEPT;
		case TCP_ACT_REJECT: return RV_REJECT;
		case TCP_ACT_SILENT_DROP: return RV_SILENT_DROP;
		case TCP_ACT_EXPECT_PROXY:
			if (expect_proxy)
				*expect_proxy = true;
			break;
		default:
			do_action(t, ss);
			break;
		}
	}
	return RV_CONTINUE;
}

/* The defaults section's list first, then the proxy's, as one list (an
 * accept among the defaults' rules ends both, as HAProxy). */
static enum rules_verdict run_both(const struct tcp_rule *def, const struct tcp_rule *own, struct smp_sess *ss,
				   bool *expect_proxy)
{
	enum rules_verdict v = run_tcp(def, ss, expect_proxy);

	return v != RV_CONTINUE ? v : run_tcp(own, ss, expect_proxy);
}

enum rules_verdict rules_tcp_connection(const struct px_rules *r, struct smp_sess *ss, bool *expect_proxy)
{
	if (!r)
		return RV_CONTINUE;
	return run_both(r->def ? r->def->conn : NULL, r->conn, ss, expect_proxy);
}

enum rules_verdict rules_tcp_session(const struct px_rules *r, struct smp_sess *ss)
{
	if (!r)
		return RV_CONTINUE;
	return run_both(r->def ? r->def->sess : NULL, r->sess, ss, NULL);
}

enum rules_verdict rules_tcp_content(const struct px_rules *r, struct smp_sess *ss)
{
	if (!r)
		return RV_CONTINUE;
	return run_both(r->def ? r->def->content : NULL, r->content, ss, NULL);
}

size_t rules_fmt_render(const struct rules_fmt *fmt, const struct smp_sess *ss, char *buf, size_t cap)
{
	size_t o = 0;

	if (!cap)
		return 0;
	for (size_t i = 0; i < fmt->n; i++) {
		if (fmt->p[i].text) {
			size_t l = strlen(fmt->p[i].text);

			if (l > cap - 1 - o)
				l = cap - 1 - o;
			memcpy(buf + o, fmt->p[i].text, l);
			o += l;
		} else {
			struct sample smp;

			if (smp_expr_eval(fmt->p[i].expr, ss, &smp))
				o += smp_to_text(&smp, buf + o, cap - o);
		}
	}
	buf[o] = '\0';
	return o;
}

struct proxy *rules_pick_backend(const struct px_rules *r, struct smp_sess *ss)
{
	if (!r)
		return NULL;
	for (const struct switch_rule *s = r->sw; s; s = s->next) {
		char name[256];

		if (acl_cond_eval(s->cond, ss) != 1)
			continue;
		if (!s->fmt)
			return s->be;
		rules_fmt_render(s->fmt, ss, name, sizeof(name));
		/* an unknown name falls back to default_backend, as HAProxy */
		return *name && ss->conf ? dp_config_find_proxy(ss->conf, name, PR_CAP_BE) : NULL;
	}
	return NULL;
}

struct server *rules_pick_server(const struct px_rules *r, struct smp_sess *ss)
{
	if (!r)
		return NULL;
	for (const struct srv_rule *v = r->srvr; v; v = v->next) {
		if (acl_cond_eval(v->cond, ss) != 1)
			continue;
		/* a server that cannot take the session: the next rule */
		if (v->srv && server_usable(v->srv))
			return v->srv;
	}
	return NULL;
}

/* ---- finalize ------------------------------------------------------------------------------ */

static bool tcp_uses_req(const struct tcp_rule *t)
{
	for (; t; t = t->next)
		if ((t->cond && (t->cond->use & SMP_USE_REQ)) || (t->expr && (smp_expr_use(t->expr) & SMP_USE_REQ)))
			return true;
	return false;
}

static const char *px_kind(const struct proxy *px)
{
	if ((px->cap & PR_CAP_FE) && (px->cap & PR_CAP_BE))
		return "listen";
	return px->cap & PR_CAP_FE ? "frontend" : "backend";
}

/* HAProxy 2.6's rules for a proxy inheriting from a named defaults section
 * that has tcp-request rules: frontends only or backends only (a backend:
 * no connection or session rules), never a listen or another defaults
 * section. Links the proxy's rules to the defaults' ones. Returns -1 on
 * error (reported). */
static int inherit_rules(struct dp_config *c, struct proxy *px, int *errors)
{
	const struct proxy *d = px->defpx;
	struct px_rules *dr = d ? d->rules : NULL, *r;
	unsigned side = px->cap & (PR_CAP_FE | PR_CAP_BE);

	if (!dr)
		return 0;
	if (dr->conn || dr->sess || dr->content) {
		if (px->cap & PR_CAP_DEF) {
			cfg_report_at(true, px->file, px->line, errors,
				      "a defaults section cannot inherit from a defaults section defining TCP/HTTP rules (defaults section at %s:%d).",
				      d->file, d->line);
			return -1;
		}
		if (side == (PR_CAP_FE | PR_CAP_BE)) {
			cfg_report_at(true, px->file, px->line, errors,
				      "a listen section cannot inherit from a defaults section defining TCP/HTTP rules.");
			return -1;
		}
		if (dr->def_users && dr->def_users != side) {
			cfg_report_at(true, px->file, px->line, errors,
				      "frontends and backends cannot inherit from the same defaults section if it defines TCP/HTTP rules (defaults section at %s:%d).",
				      d->file, d->line);
			return -1;
		}
		if (side == PR_CAP_BE && (dr->conn || dr->sess)) {
			cfg_report_at(true, px->file, px->line, errors,
				      "a backend section cannot inherit from a defaults section defining 'tcp-request connection' or 'tcp-request session' rules (defaults section at %s:%d).",
				      d->file, d->line);
			return -1;
		}
		dr->def_users = side;
	}
	if (px->cap & PR_CAP_DEF)
		return 0;
	r = px_rules_get(c, px);
	if (!r) {
		cfg_report_at(true, px->file, px->line, errors, "out of memory");
		return -1;
	}
	r->def = dr;
	if (!r->inspect_delay)
		r->inspect_delay = dr->inspect_delay;
	return 0;
}

int rules_finalize(struct dp_config *c)
{
	int errors = 0;

	for (struct proxy *px = c->defaults; px; px = px->next)
		inherit_rules(c, px, &errors);
	for (struct proxy *px = c->proxies; px; px = px->next) {
		struct px_rules *r;

		if (inherit_rules(c, px, &errors) < 0)
			continue;
		r = px->rules;
		if (!r)
			continue;
		for (struct switch_rule *s = r->sw; s; s = s->next) {
			if (s->fmt)
				continue;
			s->be = dp_config_find_proxy(c, s->name, PR_CAP_BE);
			if (!s->be)
				cfg_report_at(true, s->file, s->line, &errors,
					      "Proxy '%s': unable to find required use_backend: '%s'.", px->name, s->name);
			else if (s->be == px && !(px->cap & PR_CAP_BE))
				cfg_report_at(true, s->file, s->line, &errors,
					      "Proxy '%s': use_backend '%s' is the frontend itself.", px->name, s->name);
		}
		for (struct srv_rule *v = r->srvr; v; v = v->next) {
			for (struct server *s = px->srv; s; s = s->next)
				if (!strcmp(s->name, v->name))
					v->srv = s;
			if (!v->srv)
				cfg_report_at(true, v->file, v->line, &errors,
					      "%s '%s' : unable to find server '%s' referenced in a 'use-server' rule.",
					      px_kind(px), px->name, v->name);
		}
		if (!r->inspect_delay && (tcp_uses_req(r->content) || (r->def && tcp_uses_req(r->def->content))))
			ha_warning("config : %s '%s' : some 'tcp-request content' rules explicitly depend on request contents without any 'tcp-request inspect-delay' setting: they will only see what already arrived with the first packet, if anything.",
				   px_kind(px), px->name);
	}
	return errors;
}
