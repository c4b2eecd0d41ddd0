/* rules_kw.c — the keywords of the rules layer: `acl`, `tcp-request`,
 * `use_backend`, `use-server` (see rules.h). Messages follow HAProxy's
 * where it has one. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg/cfg.h"
#include "model/conf.h"
#include "model/proxy.h"
#include "rules/acl.h"
#include "rules/rules.h"
#include "rules/rules_int.h"
#include "rules/sample.h"
#include "rules/stktable.h"

#define CAPTURE_MAX_LEN 16384

static struct px_rules *rules_of(struct cfg_ctx *ctx, struct smp_pctx *pc, char **err)
{
	struct proxy *px = ctx_px(ctx);
	struct px_rules *r = px ? px_rules_get(ctx->conf, px) : NULL;

	if (!r)
		memprintf(err, "out of memory");
	pc->conf = ctx->conf;
	pc->px = px;
	pc->file = ctx->file;
	pc->line = ctx->line;
	return r;
}

/* Index of the first "if"/"unless" at or after `from`, or argc. */
static int cond_start(int argc, char **argv, int from)
{
	for (int i = from; i < argc; i++)
		if (!strcmp(argv[i], "if") || !strcmp(argv[i], "unless"))
			return i;
	return argc;
}

/* Parses the condition at argv[at..) if any (at == argc: none). */
static int parse_cond(struct px_rules *r, int argc, char **argv, int at, struct smp_pctx *pc,
		      struct acl_cond **out, char **err)
{
	*out = NULL;
	if (at >= argc)
		return 0;
	if (acl_cond_parse(&r->acls, argc - at, argv + at, pc, out, err) < 0) {
		memprintf(err, "error detected while parsing an '%s' condition : %s", argv[at], *err);
		return -1;
	}
	return 0;
}

static int kw_acl(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct smp_pctx pc;
	struct px_rules *r = rules_of(ctx, &pc, err);

	if (!r)
		return CFG_ERR;
	if (ctx->section == CFG_SEC_DEFAULTS && !pc.px->name) {
		memprintf(err, "'%s' not allowed in anonymous 'defaults' section.", argv[0]);
		return CFG_ERR;
	}
	return acl_parse_line(&r->acls, argc, argv, &pc, err) < 0 ? CFG_ERR : CFG_OK;
}

/* ---- use_backend / use-server ------------------------------------------------------ */

int rules_fmt_parse(const char *s, struct smp_pctx *pc, struct rules_fmt **out, char **err)
{
	struct rules_fmt *f = calloc(1, sizeof(*f));
	const char *p = s;

	*out = NULL;
	if (!f)
		goto nomem;
	while (*p) {
		void *np = realloc(f->p, (f->n + 1) * sizeof(*f->p));

		if (!np)
			goto nomem;
		f->p = np;
		memset(&f->p[f->n], 0, sizeof(f->p[0]));
		if (p[0] == '%' && p[1] == '[') {
			const char *end;

			f->n++;
			if (smp_expr_parse(p + 2, "]", &end, pc, &f->p[f->n - 1].expr, err) < 0)
				goto fail;
			if (*end != ']') {
				memprintf(err, "missing ']' after '%s'", p);
				goto fail;
			}
			p = end + 1;
		} else if (p[0] == '%' && p[1] == '%') {
			f->n++;
			if (!(f->p[f->n - 1].text = strdup("%")))
				goto nomem;
			p += 2;
		} else if (p[0] == '%') {
			memprintf(err, "'%s': only '%%[<expr>]' sample expressions (and '%%%%') are supported in this format",
				  p);
			f->n++;
			goto fail;
		} else {
			size_t l = strcspn(p, "%");

			f->n++;
			if (!(f->p[f->n - 1].text = strndup(p, l)))
				goto nomem;
			p += l;
		}
	}
	*out = f;
	return 0;
nomem:
	memprintf(err, "out of memory");
fail:
	rules_fmt_free(f);
	return -1;
}

static int kw_use_backend(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct smp_pctx pc;
	struct px_rules *r = rules_of(ctx, &pc, err);
	struct switch_rule *s;

	if (!r)
		return CFG_ERR;
	if (argc < 2) {
		memprintf(err, "'%s' expects a backend name.", argv[0]);
		return CFG_ERR;
	}
	if (argc > 2 && strcmp(argv[2], "if") && strcmp(argv[2], "unless")) {
		memprintf(err, "'%s' expects 'if' or 'unless' followed by a condition after the backend name, found '%s'.",
			  argv[0], argv[2]);
		return CFG_ERR;
	}
	s = calloc(1, sizeof(*s));
	if (!s || !(s->file = strdup(ctx->file))) {
		free(s);
		memprintf(err, "out of memory");
		return CFG_ERR;
	}
	s->line = ctx->line;
	if (parse_cond(r, argc, argv, 2, &pc, &s->cond, err) < 0)
		goto fail;
	if (strchr(argv[1], '%')) {
		/* a format, as HAProxy reads any name with a '%' */
		if (rules_fmt_parse(argv[1], &pc, &s->fmt, err) < 0)
			goto fail;
	} else if (!(s->name = strdup(argv[1]))) {
		memprintf(err, "out of memory");
		goto fail;
	}
	if (r->sw_last)
		r->sw_last->next = s;
	else
		r->sw = s;
	r->sw_last = s;
	return CFG_OK;
fail:
	acl_cond_free(s->cond);
	rules_fmt_free(s->fmt);
	free(s->name);
	free(s->file);
	free(s);
	return CFG_ERR;
}

static int kw_use_server(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct smp_pctx pc;
	struct px_rules *r = rules_of(ctx, &pc, err);
	struct srv_rule *v;

	if (!r)
		return CFG_ERR;
	if (argc < 2) {
		memprintf(err, "'%s' expects a server name.", argv[0]);
		return CFG_ERR;
	}
	if (strstr(argv[1], "%[")) {
		memprintf(err, "a dynamic server name ('%s') is not supported by decoyproxy yet", argv[1]);
		return CFG_ERR;
	}
	if (argc > 2 && strcmp(argv[2], "if") && strcmp(argv[2], "unless")) {
		memprintf(err, "'%s' expects 'if' or 'unless' followed by a condition after the server name, found '%s'.",
			  argv[0], argv[2]);
		return CFG_ERR;
	}
	v = calloc(1, sizeof(*v));
	if (!v || !(v->file = strdup(ctx->file)) || !(v->name = strdup(argv[1]))) {
		if (v)
			free(v->file);
		free(v);
		memprintf(err, "out of memory");
		return CFG_ERR;
	}
	v->line = ctx->line;
	if (parse_cond(r, argc, argv, 2, &pc, &v->cond, err) < 0) {
		free(v->name);
		free(v->file);
		free(v);
		return CFG_ERR;
	}
	if (r->srvr_last)
		r->srvr_last->next = v;
	else
		r->srvr = v;
	r->srvr_last = v;
	return CFG_OK;
}

/* ---- tcp-request ------------------------------------------------------------------------- */

static const char *const refused_acts[] = {
	"sc-inc-gpc", "sc-inc-gpc1", "sc-set-gpt", "sc-add-gpc", "set-mark", "set-tos", "set-nice", "set-log-level", "do-resolve",
	"switch-mode", "use-service", "send-spoe-group", "set-priority-class", "set-priority-offset",
	"attach-srv", "close", "set-bandwidth-limit", "set-fc-mark", "set-fc-tos", "set-bc-mark", "set-bc-tos",
};

static int set_var_name(const char *word, const char *pfx, char **out, char **err)
{
	size_t pl = strlen(pfx), l = strlen(word);

	if (l <= pl + 1 || word[l - 1] != ')') {
		memprintf(err, "'%s': expects '%s<scope>.<name>)'", word, pfx);
		return -1;
	}
	*out = strndup(word + pl, l - pl - 1);
	if (!*out) {
		memprintf(err, "out of memory");
		return -1;
	}
	if (strchr(*out, ',')) {
		memprintf(err, "'%s': conditions of set-var are not supported by decoyproxy yet", word);
		return -1;
	}
	return smp_var_name_check(*out, err);
}

/* "sc-inc-gpc0(<n>)" / "sc-inc-gpc0": the stick counter named between
 * the parentheses (0 without them). Returns it, or -1 with *err. */
static int sc_id(const char *act, size_t pl, char **err)
{
	const char *p = act + pl;

	if (!*p)
		return 0;
	if (p[0] == '(' && p[1] >= '0' && p[1] < '0' + STK_NB_SC && p[2] == ')' && !p[3])
		return p[1] - '0';
	memprintf(err, "'%s': expects '%.*s(<sc-id>)' with a stick counter from 0 to %d", act, (int)pl, act,
		  STK_NB_SC - 1);
	return -1;
}

static int parse_tcp_rule(struct cfg_ctx *ctx, struct px_rules *r, struct smp_pctx *pc, bool conn, bool l5, int argc,
			  char **argv, struct tcp_rule **out, char **err)
{
	const char *where = l5 ? "tcp-request session" : conn ? "tcp-request connection" : "tcp-request content";
	int ce = cond_start(argc, argv, 3);
	const char *act = argv[2];
	struct tcp_rule *t = calloc(1, sizeof(*t));
	int nargs = ce - 3;
	const char *exprw = NULL;

	*out = NULL;
	if (!t || !(t->file = strdup(ctx->file))) {
		free(t);
		memprintf(err, "out of memory");
		return -1;
	}
	t->line = ctx->line;
	if (!strcmp(act, "accept") || !strcmp(act, "reject") || !strcmp(act, "silent-drop")) {
		t->act = act[0] == 'a' ? TCP_ACT_ACCEPT : act[0] == 'r' ? TCP_ACT_REJECT : TCP_ACT_SILENT_DROP;
		if (nargs) {
			memprintf(err, "'%s %s' takes no argument, found '%s'", where, act, argv[3]);
			goto fail;
		}
	} else if (l5 && (!strcmp(act, "expect-proxy") || !strcmp(act, "capture"))) {
		/* HAProxy's words: the PROXY header was read already; captures are content's */
		memprintf(err, "'%s%s%s' is not allowed in '%s' rules", act, nargs ? " " : "", nargs ? argv[3] : "", where);
		goto fail;
	} else if (!strcmp(act, "expect-proxy")) {
		if (!conn) {
			memprintf(err, "'%s %s' is only allowed in 'tcp-request connection' rules", where, act);
			goto fail;
		}
		if (nargs != 1 || strcmp(argv[3], "layer4")) {
			memprintf(err, "'%s %s' only supports 'layer4'", where, act);
			goto fail;
		}
		t->act = TCP_ACT_EXPECT_PROXY;
	} else if (!strcmp(act, "capture")) {
		unsigned long long len;

		if (nargs != 3 || strcmp(argv[4], "len")) {
			memprintf(err, "'%s capture' expects '<sample> len <length>'", where);
			goto fail;
		}
		if (cfg_parse_uint(argv[5], CAPTURE_MAX_LEN, &len) < 0 || !len) {
			memprintf(err, "'%s capture': length '%s' must be an integer from 1 to %d", where, argv[5],
				  CAPTURE_MAX_LEN);
			goto fail;
		}
		if (pc->px->cap & PR_CAP_DEF) {
			memprintf(err, "'%s capture' in a 'defaults' section is not supported by decoyproxy yet; capture in the frontend",
				  where);
			goto fail;
		}
		if (!(pc->px->cap & PR_CAP_FE)) {
			/* capture slots are the frontend's (capture.req.hdr) */
			memprintf(err, "'%s capture' in a backend section is not supported by decoyproxy yet; capture in the frontend",
				  where);
			goto fail;
		}
		if (r->ncaptures >= SMP_MAX_CAPTURES) {
			memprintf(err, "'%s capture': at most %d captures per proxy", where, SMP_MAX_CAPTURES);
			goto fail;
		}
		t->act = TCP_ACT_CAPTURE;
		t->cap_len = (unsigned)len;
		t->cap_slot = r->ncaptures;
		exprw = argv[3];
	} else if (!strncmp(act, "set-var(", 8)) {
		if (set_var_name(act, "set-var(", &t->var, err) < 0)
			goto fail;
		if (nargs != 1) {
			memprintf(err, "'%s %s' expects one sample expression", where, act);
			goto fail;
		}
		t->act = TCP_ACT_SET_VAR;
		exprw = argv[3];
	} else if (!strncmp(act, "unset-var(", 10)) {
		if (set_var_name(act, "unset-var(", &t->var, err) < 0)
			goto fail;
		if (nargs) {
			memprintf(err, "'%s %s' takes no argument", where, act);
			goto fail;
		}
		t->act = TCP_ACT_UNSET_VAR;
	} else if (!strcmp(act, "set-src") || !strcmp(act, "set-dst") || !strcmp(act, "set-src-port") ||
		   !strcmp(act, "set-dst-port")) {
		if (nargs != 1) {
			memprintf(err, "'%s %s' expects one sample expression", where, act);
			goto fail;
		}
		t->act = !strcmp(act, "set-src") ? TCP_ACT_SET_SRC : !strcmp(act, "set-dst") ? TCP_ACT_SET_DST :
			 !strcmp(act, "set-src-port") ? TCP_ACT_SET_SRC_PORT : TCP_ACT_SET_DST_PORT;
		exprw = argv[3];
	} else if (l5 && (!strncmp(act, "track-sc", 8) || !strncmp(act, "sc-", 3))) {
		/* session rules run outside the stick-table hooks of connection and content rules */
		memprintf(err, "'%s %s' is not supported by decoyproxy yet; track in 'tcp-request connection' or 'tcp-request content' rules",
			  where, act);
		goto fail;
	} else if (!strncmp(act, "track-sc", 8) && act[8] >= '0' && act[8] < '0' + STK_NB_SC && !act[9]) {
		if (nargs != 1 && (nargs != 3 || strcmp(argv[4], "table"))) {
			memprintf(err, "'%s %s' expects a sample expression and optionally 'table <name>'", where, act);
			goto fail;
		}
		t->act = TCP_ACT_TRACK_SC;
		t->sc = act[8] - '0';
		exprw = argv[3];
		if (!(t->tref = stk_ref_add(pc, nargs == 3 ? argv[5] : NULL, act, err)))
			goto fail;
	} else if (!strncmp(act, "sc-inc-gpc0", 11)) {
		if ((t->sc = sc_id(act, 11, err)) < 0)
			goto fail;
		if (nargs) {
			memprintf(err, "'%s %s' takes no argument", where, act);
			goto fail;
		}
		t->act = TCP_ACT_SC_INC_GPC0;
	} else if (!strncmp(act, "sc-set-gpt0", 11)) {
		if ((t->sc = sc_id(act, 11, err)) < 0)
			goto fail;
		if (nargs != 1) {
			memprintf(err, "'%s %s' expects an integer or a sample expression", where, act);
			goto fail;
		}
		t->act = TCP_ACT_SC_SET_GPT0;
		exprw = argv[3];
		if (strspn(argv[3], "0123456789") == strlen(argv[3])) {
			/* a bare integer: the constant fetch */
			static __thread char num[40];

			snprintf(num, sizeof(num), "int(%.30s)", argv[3]);
			exprw = num;
		}
	} else {
		for (size_t i = 0; i < ARRAY_SIZE(refused_acts); i++)
			if (!strcmp(act, refused_acts[i]) || !strncmp(act, "lua.", 4) ||
			    (!strncmp(act, "sc-", 3) && !strncmp(act, refused_acts[i], 3))) {
				memprintf(err, "'%s %s' is not supported by decoyproxy yet", where, act);
				goto fail;
			}
		memprintf(err, "'%s' expects 'accept', 'reject', 'silent-drop', %s'set-var(<name>)', 'unset-var(<name>)', 'set-src', 'set-dst', 'set-src-port', 'set-dst-port'%s, but got '%s'",
			  where, l5 ? "" : conn ? "'expect-proxy layer4', 'capture', " : "'capture', ",
			  l5 ? "" : ", 'track-sc0', 'track-sc1', 'track-sc2', 'sc-inc-gpc0(<sc-id>)', 'sc-set-gpt0(<sc-id>)'", act);
		goto fail;
	}
	if (exprw) {
		unsigned ctxu = conn ? SMP_CTX_CONN : SMP_CTX_CONTENT;

		if (smp_expr_parse(exprw, NULL, NULL, pc, &t->expr, err) < 0)
			goto fail;
		if (smp_expr_use(t->expr) & ~ctxu) {
			memprintf(err, "'%s %s': fetch method '%s' extracts information from %s, none of which is available here",
				  where, act, t->expr->fetch->name,
				  (smp_expr_use(t->expr) & SMP_USE_REQ) ? "the request contents" : "the server");
			goto fail;
		}
	}
	if (parse_cond(r, argc, argv, ce, pc, &t->cond, err) < 0)
		goto fail;
	if (t->act == TCP_ACT_CAPTURE)
		r->ncaptures++;
	*out = t;
	return 0;
fail:
	acl_cond_free(t->cond);
	smp_expr_free(t->expr);
	free(t->var);
	free(t->file);
	free(t);
	return -1;
}

static int kw_tcp_request(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct smp_pctx pc;
	struct px_rules *r;
	struct tcp_rule *t;
	bool conn, l5;
	int ret = CFG_OK;

	if (argc < 2) {
		memprintf(err, "'%s' expects 'inspect-delay', 'connection', 'session' or 'content'.", argv[0]);
		return CFG_ERR;
	}
	r = rules_of(ctx, &pc, err);
	if (!r)
		return CFG_ERR;
	if (ctx->section == CFG_SEC_DEFAULTS && !pc.px->name) {
		/* HAProxy 2.6: rules (and the delay) only in named defaults */
		memprintf(err, "%s %s is not allowed in anonymous 'defaults' sections", argv[0], argv[1]);
		return CFG_ERR;
	}
	if (!strcmp(argv[1], "inspect-delay")) {
		long long ms;

		if (argc != 3) {
			memprintf(err, "'%s %s' expects exactly 1 argument (a time)", argv[0], argv[1]);
			return CFG_ERR;
		}
		if (r->inspect_delay) {
			memprintf(err, "'%s %s' was already set", argv[0], argv[1]);
			return CFG_ERR;
		}
		switch (cfg_time_arg("tcp-request inspect-delay", argv[2], &ms, err)) {
		case 0:
			break;
		case -EINVAL:
			memprintf(err, "'%s %s' expects a positive delay in milliseconds, in format <time>[ms|s|m|h|d], found '%s'",
				  argv[0], argv[1], argv[2]);
			return CFG_ERR;
		default:
			return CFG_ERR;
		}
		r->inspect_delay = ms;
		return CFG_OK;
	}
	if (strcmp(argv[1], "connection") && strcmp(argv[1], "session") && strcmp(argv[1], "content")) {
		memprintf(err, "'%s' expects 'inspect-delay', 'connection', 'session' or 'content', found '%s'.", argv[0],
			  argv[1]);
		return CFG_ERR;
	}
	l5 = argv[1][1] == 'e';
	conn = l5 || (argv[1][3] == 'n' && argv[1][4] == 'e');
	if (conn && !(pc.px->cap & (PR_CAP_FE | PR_CAP_DEF))) {
		memprintf(err, "'%s %s' is not allowed in 'backend' sections.", argv[0], argv[1]);
		return CFG_ERR;
	}
	if (argc < 3) {
		memprintf(err, "'%s %s' expects an action.", argv[0], argv[1]);
		return CFG_ERR;
	}
	if (parse_tcp_rule(ctx, r, &pc, conn, l5, argc, argv, &t, err) < 0)
		return CFG_ERR;
	if (conn && acl_cond_unusable(t->cond, SMP_CTX_CONN)) {
		memprintf(err, "acl-based condition will never match in '%s %s' rules: it needs the request contents (use 'tcp-request content')",
			  argv[0], argv[1]);
		ret = CFG_WARN;
	}
	if (l5) {
		if (r->sess_last)
			r->sess_last->next = t;
		else
			r->sess = t;
		r->sess_last = t;
	} else if (conn) {
		if (r->conn_last)
			r->conn_last->next = t;
		else
			r->conn = t;
		r->conn_last = t;
	} else {
		if (r->content_last)
			r->content_last->next = t;
		else
			r->content = t;
		r->content_last = t;
	}
	return ret;
}

static const struct cfg_kw rules_kws[] = {
	{ "acl", CFG_SEC_PROXIES, kw_acl, NULL },
	{ "use_backend", CFG_SEC_FE_NODEF, kw_use_backend, NULL },
	{ "use-server", CFG_SEC_BE_NODEF, kw_use_server, NULL },
	{ "tcp-request", CFG_SEC_PROXIES, kw_tcp_request, NULL },
};

const struct cfg_kw_list rules_kw_list = { rules_kws, ARRAY_SIZE(rules_kws) };
