/* acl.c — ACL lines, conditions and their three-valued evaluation (see
 * acl.h). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg/cfg.h"
#include "rules/acl.h"
#include "rules/pattern.h"
#include "rules/sample.h"

/* ---- predefined ACLs ------------------------------------------------------------- */

static const struct {
	const char *name;
	const char *def;        /* the words of the ACL, NULL: refused */
	const char *why;
} predef[] = {
	{ "TRUE", "always_true", NULL },
	{ "FALSE", "always_false", NULL },
	{ "WAIT_END", "wait_end", NULL },
	{ "REQ_CONTENT", "req.len gt 0", NULL },
	{ "RDP_COOKIE", "req.rdp_cookie_cnt gt 0", NULL },
	{ "HTTP", "req.proto_http", NULL },
	{ "LOCALHOST", "src 127.0.0.1/8 ::1", NULL },
	{ "HTTP_1.0", NULL, "it needs HTTP mode; decoyproxy is a layer-4 proxy" },
	{ "HTTP_1.1", NULL, "it needs HTTP mode; decoyproxy is a layer-4 proxy" },
	{ "HTTP_2.0", NULL, "it needs HTTP mode; decoyproxy is a layer-4 proxy" },
	{ "HTTP_CONTENT", NULL, "it needs HTTP mode; decoyproxy is a layer-4 proxy" },
	{ "HTTP_URL_ABS", NULL, "it needs HTTP mode; decoyproxy is a layer-4 proxy" },
	{ "HTTP_URL_SLASH", NULL, "it needs HTTP mode; decoyproxy is a layer-4 proxy" },
	{ "HTTP_URL_STAR", NULL, "it needs HTTP mode; decoyproxy is a layer-4 proxy" },
	{ "METH_CONNECT", NULL, "it needs HTTP mode; decoyproxy is a layer-4 proxy" },
	{ "METH_DELETE", NULL, "it needs HTTP mode; decoyproxy is a layer-4 proxy" },
	{ "METH_GET", NULL, "it needs HTTP mode; decoyproxy is a layer-4 proxy" },
	{ "METH_HEAD", NULL, "it needs HTTP mode; decoyproxy is a layer-4 proxy" },
	{ "METH_OPTIONS", NULL, "it needs HTTP mode; decoyproxy is a layer-4 proxy" },
	{ "METH_POST", NULL, "it needs HTTP mode; decoyproxy is a layer-4 proxy" },
	{ "METH_PUT", NULL, "it needs HTTP mode; decoyproxy is a layer-4 proxy" },
	{ "METH_TRACE", NULL, "it needs HTTP mode; decoyproxy is a layer-4 proxy" },
};

/* ---- freeing ----------------------------------------------------------------------- */

static void expr_free(struct acl_expr *x)
{
	smp_expr_free(x->smp);
	pat_expr_free(x->pat);
	free(x->file);
	free(x);
}

static void acl_free(struct acl *a)
{
	struct acl_expr *x, *n;

	for (x = a->exprs; x; x = n) {
		n = x->next;
		expr_free(x);
	}
	free(a->name);
	free(a);
}

void acl_list_free(struct acl_list *l)
{
	struct acl *a, *n;

	for (a = l->head; a; a = n) {
		n = a->next;
		acl_free(a);
	}
	l->head = NULL;
}

void acl_cond_free(struct acl_cond *c)
{
	struct acl *a, *n;

	if (!c)
		return;
	for (size_t i = 0; i < c->ns; i++)
		free(c->s[i].t);
	free(c->s);
	for (a = c->anon; a; a = n) {
		n = a->next;
		acl_free(a);
	}
	free(c->file);
	free(c);
}

struct acl *acl_find(const struct acl_list *l, const char *name)
{
	for (struct acl *a = l->head; a; a = a->next)
		if (!strcmp(a->name, name))
			return a;
	return NULL;
}

/* ---- one ACL expression ------------------------------------------------------------- */

/* "gt 5" -> "6:", for the int and len methods. */
static int int_op(const char *op, const char *v, char *out, size_t cap, char **err)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (!*v || *end || errno) {
		memprintf(err, "'%s %s': '%s' is not an integer", op, v, v);
		return -1;
	}
	if (!strcmp(op, "eq"))
		snprintf(out, cap, "%lld", n);
	else if (!strcmp(op, "ge"))
		snprintf(out, cap, "%lld:", n);
	else if (!strcmp(op, "gt"))
		snprintf(out, cap, "%lld:", n + 1);
	else if (!strcmp(op, "le"))
		snprintf(out, cap, ":%lld", n);
	else
		snprintf(out, cap, ":%lld", n - 1);
	return 0;
}

static enum smp_pat_kind pat_kind(int match)
{
	return match == PAT_M_STR ? SMP_PAT_STR : match == PAT_M_INT ? SMP_PAT_INT : SMP_PAT_OTHER;
}

static bool is_int_op(const char *w)
{
	return !strcmp(w, "eq") || !strcmp(w, "ge") || !strcmp(w, "gt") || !strcmp(w, "le") || !strcmp(w, "lt");
}

/* Parses "<fetch> [flags] [values]" from argv[0..argc) into a new
 * expression. name: the ACL's name for descriptions. */
static int expr_parse(int argc, char **argv, const char *name, struct smp_pctx *pc, struct acl_expr **out,
		      char **err)
{
	struct acl_expr *x = calloc(1, sizeof(*x));
	struct pat_refs *refs = pat_refs_of(pc->conf, true);
	const char *files[16];
	int nfiles = 0, i = 1;
	bool icase = false, as_map = false;
	int match = -1;
	struct pat_ref *inl = NULL;
	char *desc = NULL;

	*out = NULL;
	if (!x || !refs) {
		free(x);
		memprintf(err, "out of memory");
		return -1;
	}
	if (argc < 1) {
		memprintf(err, "missing fetch method");
		goto fail;
	}
	if (smp_expr_parse(argv[0], NULL, NULL, pc, &x->smp, err) < 0)
		goto fail;
	x->line = pc->line;
	x->file = pc->file ? strdup(pc->file) : NULL;
	while (i < argc && argv[i][0] == '-') {
		const char *f = argv[i];

		if (!strcmp(f, "--")) {
			i++;
			break;
		}
		if (!strcmp(f, "-i")) {
			icase = true;
		} else if (!strcmp(f, "-n")) {
			/* no DNS resolution: decoyproxy never resolves patterns */
		} else if (!strcmp(f, "-M")) {
			as_map = true;
		} else if (!strcmp(f, "-f") || !strcmp(f, "-m") || !strcmp(f, "-u")) {
			if (i + 1 >= argc) {
				memprintf(err, "'%s' expects an argument", f);
				goto fail;
			}
			if (f[1] == 'f') {
				if (nfiles == (int)ARRAY_SIZE(files)) {
					memprintf(err, "too many '-f' files on one line");
					goto fail;
				}
				files[nfiles++] = argv[++i];
			} else if (f[1] == 'm') {
				match = pat_match_by_name(argv[++i]);
				if (match < 0) {
					memprintf(err, "unknown matching method '%s' for ACL", argv[i]);
					goto fail;
				}
			} else {
				memprintf(err, "'-u' (unique id of a pattern list) is not supported by decoyproxy yet");
				goto fail;
			}
		} else {
			memprintf(err, "'%s' is not a valid ACL option. Please use '--' before any pattern beginning with a '-'.",
				  f);
			goto fail;
		}
		i++;
	}
	if (match < 0)
		match = pat_match_for_type(smp_expr_type(x->smp));
	x->match = match;
	if (match == PAT_M_FOUND || match == PAT_M_BOOL) {
		if (i < argc || nfiles) {
			memprintf(err, "match method '%s' takes no pattern ('%s')", pat_match_name(match),
				  i < argc ? argv[i] : files[0]);
			goto fail;
		}
		*out = x;
		return 0;
	}
	x->pat = pat_expr_new(match, icase, 0);
	if (!x->pat) {
		memprintf(err, "out of memory");
		goto fail;
	}
	for (int k = 0; k < nfiles; k++) {
		struct pat_ref *r;

		memprintf(&desc, "pattern loaded from file '%s' used by acl at file '%s' line %d", files[k],
			  pc->file ? pc->file : "?", pc->line);
		r = pat_ref_load(refs, files[k], as_map, desc, err);
		if (!r || pat_expr_attach(x->pat, r, err) < 0) {
			memprintf(err, "acl '%s': %s", name, *err);
			goto fail;
		}
	}
	if (i < argc) {
		memprintf(&desc, "acl '%s' file '%s' line %d", name, pc->file ? pc->file : "?", pc->line);
		inl = pat_ref_new(refs, desc, false);
		if (!inl) {
			memprintf(err, "out of memory");
			goto fail;
		}
		for (; i < argc; i++) {
			const char *v = argv[i];
			char tmp[64], fv[64];

			if (!((match == PAT_M_INT || match == PAT_M_LEN) && is_int_op(v)) &&
			    smp_fetch_pattern(x->smp, pat_kind(match), icase, v, fv, sizeof(fv), &v, err) < 0)
				goto fail;

			if ((match == PAT_M_INT || match == PAT_M_LEN) && is_int_op(v)) {
				const char *opv;

				if (i + 1 >= argc) {
					memprintf(err, "'%s' expects a value", v);
					goto fail;
				}
				if (smp_fetch_pattern(x->smp, pat_kind(match), icase, argv[i + 1], fv, sizeof(fv), &opv, err) < 0)
					goto fail;
				if (int_op(v, opv, tmp, sizeof(tmp), err) < 0)
					goto fail;
				v = tmp;
				i++;
			}
			if (pat_check(match, icase, v, err) < 0)
				goto fail;
			if (pat_ref_append(inl, v, NULL, pc->line) < 0) {
				memprintf(err, "out of memory");
				goto fail;
			}
		}
		if (pat_expr_attach(x->pat, inl, err) < 0)
			goto fail;
	}
	free(desc);
	*out = x;
	return 0;
fail:
	free(desc);
	expr_free(x);
	return -1;
}

static bool name_ok(const char *n, char **err)
{
	if (!*n) {
		memprintf(err, "missing ACL name");
		return false;
	}
	for (const char *c = n; *c; c++)
		if (!isalnum((unsigned char)*c) && !strchr("_.:-", *c)) {
			memprintf(err, "character '%c' is not permitted in acl name '%s'", *c, n);
			return false;
		}
	return true;
}

static bool is_predef(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(predef); i++)
		if (!strcmp(predef[i].name, name))
			return true;
	return false;
}

int acl_parse_line(struct acl_list *l, int argc, char **argv, struct smp_pctx *pc, char **err)
{
	struct acl *a;
	struct acl_expr *x;
	bool created = false;

	if (argc < 3) {
		memprintf(err, "'acl' expects a name and a fetch method");
		return -1;
	}
	if (!name_ok(argv[1], err))
		return -1;
	if (is_predef(argv[1])) {
		memprintf(err, "acl name '%s' is reserved for a predefined ACL", argv[1]);
		return -1;
	}
	if (expr_parse(argc - 2, argv + 2, argv[1], pc, &x, err) < 0) {
		memprintf(err, "error detected while parsing ACL '%s' : %s", argv[1], *err);
		return -1;
	}
	a = acl_find(l, argv[1]);
	if (!a) {
		a = calloc(1, sizeof(*a));
		if (!a || !(a->name = strdup(argv[1]))) {
			free(a);
			expr_free(x);
			memprintf(err, "out of memory");
			return -1;
		}
		created = true;
	}
	if (a->last)
		a->last->next = x;
	else
		a->exprs = x;
	a->last = x;
	a->use |= smp_expr_use(x->smp);
	if (created) {
		struct acl **pp = &l->head;

		while (*pp)
			pp = &(*pp)->next;
		*pp = a;
	}
	return 0;
}

/* The predefined ACL `name` of l (made on first use), NULL with *err
 * when refused, NULL without *err when not predefined. */
static struct acl *predef_get(struct acl_list *l, const char *name, struct smp_pctx *pc, char **err)
{
	for (size_t i = 0; i < ARRAY_SIZE(predef); i++) {
		char buf[128], *w[8], *sp = NULL;
		int n = 0;
		struct acl *a;
		struct acl_expr *x;

		if (strcmp(predef[i].name, name))
			continue;
		if (!predef[i].def) {
			memprintf(err, "predefined ACL '%s' is not supported by decoyproxy: %s", name, predef[i].why);
			return NULL;
		}
		snprintf(buf, sizeof(buf), "%s", predef[i].def);
		for (char *t = strtok_r(buf, " ", &sp); t && n < 8; t = strtok_r(NULL, " ", &sp))
			w[n++] = t;
		if (expr_parse(n, w, name, pc, &x, err) < 0)
			return NULL;
		a = calloc(1, sizeof(*a));
		if (!a || !(a->name = strdup(name))) {
			free(a);
			expr_free(x);
			memprintf(err, "out of memory");
			return NULL;
		}
		a->exprs = a->last = x;
		a->predef = true;
		a->use = smp_expr_use(x->smp);
		a->next = l->head;
		l->head = a;
		return a;
	}
	return NULL;
}

static const char *suggest_acl(const struct acl_list *l, const char *name)
{
	const char *c[256];
	size_t n = 0;

	for (const struct acl *a = l->head; a && n < ARRAY_SIZE(c) - ARRAY_SIZE(predef) - 1; a = a->next)
		c[n++] = a->name;
	for (size_t i = 0; i < ARRAY_SIZE(predef); i++)
		c[n++] = predef[i].name;
	c[n] = NULL;
	return cfg_suggest(name, c);
}

static int suite_add(struct acl_suite *s, struct acl *a, bool neg)
{
	struct acl_term *t = realloc(s->t, (s->n + 1) * sizeof(*t));

	if (!t)
		return -1;
	s->t = t;
	s->t[s->n].acl = a;
	s->t[s->n++].neg = neg;
	return 0;
}

int acl_cond_parse(struct acl_list *l, int argc, char **argv, struct smp_pctx *pc, struct acl_cond **out,
		   char **err)
{
	struct acl_cond *c = calloc(1, sizeof(*c));
	struct acl_suite *cur = NULL;
	bool neg = false;
	int i = 1;

	*out = NULL;
	if (!c) {
		memprintf(err, "out of memory");
		return -1;
	}
	c->unless = !strcmp(argv[0], "unless");
	c->line = pc->line;
	c->file = pc->file ? strdup(pc->file) : NULL;
	if (argc < 2) {
		memprintf(err, "missing condition after '%s'", argv[0]);
		goto fail;
	}
	for (; i < argc; i++) {
		const char *w = argv[i];
		struct acl *a = NULL;

		if (!strcmp(w, "||") || !strcmp(w, "or")) {
			if (!cur || !cur->n || neg) {
				memprintf(err, "missing ACL before '%s'", w);
				goto fail;
			}
			cur = NULL;
			continue;
		}
		if (!strcmp(w, "!")) {
			neg = !neg;
			continue;
		}
		if (!cur) {
			struct acl_suite *s = realloc(c->s, (c->ns + 1) * sizeof(*s));

			if (!s)
				goto nomem;
			c->s = s;
			cur = &c->s[c->ns++];
			memset(cur, 0, sizeof(*cur));
		}
		if (!strcmp(w, "!{")) {
			/* "!{ ... }": a negated anonymous ACL */
			neg = !neg;
			w = "{";
		}
		if (!strcmp(w, "{")) {
			int j = i + 1;
			struct acl_expr *x;

			while (j < argc && strcmp(argv[j], "}"))
				j++;
			if (j >= argc) {
				memprintf(err, "missing '}' after anonymous ACL '{ %s ...'", i + 1 < argc ? argv[i + 1] : "");
				goto fail;
			}
			if (j == i + 1) {
				memprintf(err, "empty anonymous ACL '{ }'");
				goto fail;
			}
			if (expr_parse(j - i - 1, argv + i + 1, "anonymous", pc, &x, err) < 0) {
				memprintf(err, "error detected while parsing anonymous ACL : %s", *err);
				goto fail;
			}
			a = calloc(1, sizeof(*a));
			if (!a || !(a->name = strdup("anonymous"))) {
				free(a);
				expr_free(x);
				goto nomem;
			}
			a->exprs = a->last = x;
			a->use = smp_expr_use(x->smp);
			a->next = c->anon;
			c->anon = a;
			i = j;
		} else {
			const char *name = w;

			if (*name == '!') {
				neg = !neg;
				name++;
			}
			a = acl_find(l, name);
			if (!a) {
				char *perr = NULL;

				a = predef_get(l, name, pc, &perr);
				if (!a) {
					if (perr) {
						memprintf(err, "%s", perr);
						free(perr);
					} else {
						const char *sug = suggest_acl(l, name);

						memprintf(err, "no such ACL : '%s'%s%s%s", name, sug ? ", did you mean '" : "",
							  sug ? sug : "", sug ? "' ?" : "");
					}
					goto fail;
				}
			}
		}
		if (suite_add(cur, a, neg) < 0)
			goto nomem;
		c->use |= a->use;
		neg = false;
	}
	if (!cur || !cur->n || neg) {
		memprintf(err, "missing ACL at the end of the condition");
		goto fail;
	}
	*out = c;
	return 0;
nomem:
	memprintf(err, "out of memory");
fail:
	acl_cond_free(c);
	return -1;
}

/* ---- evaluation ------------------------------------------------------------------------- */

/* One value against x's patterns. */
static int value_exec(const struct acl_expr *x, struct sample *smp)
{
	if (x->match == PAT_M_FOUND)
		return ACL_PASS;
	if (x->match == PAT_M_BOOL)
		return smp_cast(smp, SMP_T_BOOL) && smp->u.sint ? ACL_PASS : ACL_FAIL;
	return smp_cast(smp, pat_match_input(x->match)) && pat_match_found(x->pat, smp) ? ACL_PASS : ACL_FAIL;
}

static int expr_exec(const struct acl_expr *x, const struct smp_sess *ss)
{
	struct sample smp;
	bool may_change = false;
	int r = ACL_FAIL, got, n = 0;

	/* a multi-valued fetch (req.ssl_alpn) matches when any value does */
	for (got = smp_expr_eval(x->smp, ss, &smp);; got = smp_expr_eval_next(x->smp, ss, &smp)) {
		may_change |= (smp.flags & SMP_F_MAY_CHANGE) != 0;
		if (got) {
			struct sample v = smp;

			r = value_exec(x, &v);
			if (r == ACL_PASS)
				return r;
		}
		if (!(smp.flags & SMP_F_NOT_LAST) || ++n >= SMP_MAX_VALUES)
			break;
	}
	/* no value yet, or a value that may still change (request length...):
	 * may match later */
	if (may_change && !ss->final)
		r = ACL_MISS;
	return r;
}

int acl_exec(const struct acl *a, const struct smp_sess *ss)
{
	int res = ACL_FAIL;

	for (const struct acl_expr *x = a->exprs; x; x = x->next) {
		res |= expr_exec(x, ss);
		if (res == ACL_PASS)
			break;
	}
	return res;
}

static int neg(int r)
{
	return r == ACL_PASS ? ACL_FAIL : r == ACL_FAIL ? ACL_PASS : ACL_MISS;
}

int acl_cond_eval(const struct acl_cond *c, const struct smp_sess *ss)
{
	int res = ACL_FAIL;

	if (!c)
		return 1;
	for (size_t i = 0; i < c->ns && res != ACL_PASS; i++) {
		int sr = ACL_PASS;

		for (size_t k = 0; k < c->s[i].n; k++) {
			int r = acl_exec(c->s[i].t[k].acl, ss);

			if (c->s[i].t[k].neg)
				r = neg(r);
			sr &= r;
			if (sr == ACL_FAIL)
				break;
		}
		res |= sr;
	}
	if (res == ACL_MISS) {
		if (!ss->final)
			return -1;
		res = ACL_FAIL;
	}
	return (res == ACL_PASS) != c->unless;
}
