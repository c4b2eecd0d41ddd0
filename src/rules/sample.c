/* sample.c — sample registries, expression parsing and evaluation, casts,
 * and the per-session store (see sample.h). The built-in fetches are
 * sample_fetch.c's, the converters sample_conv.c's. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg/cfg.h"
#include "rules/regex.h"
#include "rules/sample.h"
#include "rules/sample_int.h"

/* ---- registries ------------------------------------------------------------- */

#define MAX_TABLES 16

static struct {
	const struct smp_fetch_kw *kws;
	size_t n;
} fetch_tabs[MAX_TABLES];
static size_t nfetch_tabs;

static struct {
	const struct smp_conv_kw *kws;
	size_t n;
} conv_tabs[MAX_TABLES];
static size_t nconv_tabs;

int smp_register_fetches(const struct smp_fetch_kw *kws, size_t n)
{
	for (size_t i = 0; i < nfetch_tabs; i++)
		if (fetch_tabs[i].kws == kws)
			return 0;
	if (nfetch_tabs == MAX_TABLES)
		return -ENOSPC;
	fetch_tabs[nfetch_tabs].kws = kws;
	fetch_tabs[nfetch_tabs++].n = n;
	return 0;
}

int smp_register_convs(const struct smp_conv_kw *kws, size_t n)
{
	for (size_t i = 0; i < nconv_tabs; i++)
		if (conv_tabs[i].kws == kws)
			return 0;
	if (nconv_tabs == MAX_TABLES)
		return -ENOSPC;
	conv_tabs[nconv_tabs].kws = kws;
	conv_tabs[nconv_tabs++].n = n;
	return 0;
}

void smp_init(void)
{
	smp_register_fetches(smp_builtin_fetches, smp_builtin_nfetches);
	smp_register_convs(smp_builtin_convs, smp_builtin_nconvs);
}

static bool name_eq(const char *kw, const char *name, size_t len)
{
	return strlen(kw) == len && !memcmp(kw, name, len);
}

const struct smp_fetch_kw *smp_find_fetch(const char *name, size_t len)
{
	for (size_t t = 0; t < nfetch_tabs; t++)
		for (size_t i = 0; i < fetch_tabs[t].n; i++)
			if (name_eq(fetch_tabs[t].kws[i].name, name, len))
				return &fetch_tabs[t].kws[i];
	return NULL;
}

const struct smp_conv_kw *smp_find_conv(const char *name, size_t len)
{
	for (size_t t = 0; t < nconv_tabs; t++)
		for (size_t i = 0; i < conv_tabs[t].n; i++)
			if (name_eq(conv_tabs[t].kws[i].name, name, len))
				return &conv_tabs[t].kws[i];
	return NULL;
}

static const char *suggest_in(const char *name, bool fetch)
{
	const char **c;
	size_t n = 0, k = 0;
	const char *best;

	for (size_t t = 0; t < (fetch ? nfetch_tabs : nconv_tabs); t++)
		n += fetch ? fetch_tabs[t].n : conv_tabs[t].n;
	c = calloc(n + 1, sizeof(*c));
	if (!c)
		return NULL;
	for (size_t t = 0; t < (fetch ? nfetch_tabs : nconv_tabs); t++)
		for (size_t i = 0; i < (fetch ? fetch_tabs[t].n : conv_tabs[t].n); i++)
			c[k++] = fetch ? fetch_tabs[t].kws[i].name : conv_tabs[t].kws[i].name;
	best = cfg_suggest(name, c);
	free(c);
	return best;
}

const char *smp_suggest_fetch(const char *name)
{
	return suggest_in(name, true);
}

/* ---- types and casts ------------------------------------------------------------ */

const char *smp_type_name(enum smp_type t)
{
	static const char *const n[SMP_T_COUNT] = { "any", "boolean", "integer", "address", "string", "binary" };

	return t < SMP_T_COUNT ? n[t] : "?";
}

static __thread char trash[3][SMP_TRASH_SIZE];

char *smp_trash(const void *avoid)
{
	static __thread int cur;

	cur = (cur + 1) % 3;
	if ((const char *)avoid >= trash[cur] && (const char *)avoid < trash[cur] + SMP_TRASH_SIZE)
		cur = (cur + 1) % 3;
	return trash[cur];
}

size_t smp_to_text(const struct sample *smp, char *buf, size_t cap)
{
	size_t n = 0;

	if (!cap)
		return 0;
	switch (smp->type) {
	case SMP_T_BOOL:
	case SMP_T_SINT:
		n = (size_t)snprintf(buf, cap, "%lld", smp->u.sint);
		break;
	case SMP_T_ADDR:
		if (smp->u.addr.ss_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)&smp->u.addr)->sin_addr, buf, (socklen_t)cap);
		else if (smp->u.addr.ss_family == AF_INET6)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&smp->u.addr)->sin6_addr, buf, (socklen_t)cap);
		else
			buf[0] = '\0';
		n = strlen(buf);
		break;
	case SMP_T_STR:
	case SMP_T_BIN:
		n = smp->u.str.len < cap - 1 ? smp->u.str.len : cap - 1;
		memcpy(buf, smp->u.str.ptr, n);
		break;
	default:
		break;
	}
	if (n >= cap)
		n = cap - 1;
	buf[n] = '\0';
	return n;
}

static int parse_addr(const char *s, size_t len, struct sockaddr_storage *out)
{
	char buf[INET6_ADDRSTRLEN];

	if (len >= sizeof(buf))
		return 0;
	memcpy(buf, s, len);
	buf[len] = '\0';
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, buf, &((struct sockaddr_in *)out)->sin_addr) == 1) {
		out->ss_family = AF_INET;
		return 1;
	}
	if (inet_pton(AF_INET6, buf, &((struct sockaddr_in6 *)out)->sin6_addr) == 1) {
		out->ss_family = AF_INET6;
		return 1;
	}
	return 0;
}

int smp_cast(struct sample *smp, enum smp_type t)
{
	if (t == SMP_T_ANY || smp->type == t)
		return 1;
	switch (t) {
	case SMP_T_BOOL:
	case SMP_T_SINT:
		if (smp->type == SMP_T_BOOL || smp->type == SMP_T_SINT) {
			if (t == SMP_T_BOOL)
				smp->u.sint = smp->u.sint != 0;
			smp->type = t;
			return 1;
		}
		if (smp->type == SMP_T_STR) {
			/* leading digits, as HAProxy's c_str2int */
			long long v = 0;
			size_t i = 0;
			bool neg = false;

			if (i < smp->u.str.len && (smp->u.str.ptr[i] == '-' || smp->u.str.ptr[i] == '+'))
				neg = smp->u.str.ptr[i++] == '-';
			if (i >= smp->u.str.len || !isdigit((unsigned char)smp->u.str.ptr[i]))
				return 0;
			for (; i < smp->u.str.len && isdigit((unsigned char)smp->u.str.ptr[i]); i++) {
				if (v > (LLONG_MAX - 9) / 10)
					return 0;
				v = v * 10 + (smp->u.str.ptr[i] - '0');
			}
			smp->u.sint = neg ? -v : v;
			if (t == SMP_T_BOOL)
				smp->u.sint = smp->u.sint != 0;
			smp->type = t;
			return 1;
		}
		return 0;
	case SMP_T_ADDR:
		if (smp->type == SMP_T_STR) {
			struct sockaddr_storage a;

			if (!parse_addr(smp->u.str.ptr, smp->u.str.len, &a))
				return 0;
			smp->u.addr = a;
			smp->type = SMP_T_ADDR;
			return 1;
		}
		if (smp->type == SMP_T_SINT) {
			/* an integer is an IPv4 address in host order */
			struct sockaddr_in *in = (struct sockaddr_in *)&smp->u.addr;
			uint32_t v = (uint32_t)smp->u.sint;

			memset(&smp->u.addr, 0, sizeof(smp->u.addr));
			in->sin_family = AF_INET;
			in->sin_addr.s_addr = htonl(v);
			smp->type = SMP_T_ADDR;
			return 1;
		}
		return 0;
	case SMP_T_STR:
	case SMP_T_BIN:
		if (smp->type == SMP_T_STR || smp->type == SMP_T_BIN) {
			smp->type = t;
			return 1;
		}
		{
			char *b = smp_trash(NULL);
			size_t n = smp_to_text(smp, b, SMP_TRASH_SIZE);

			smp->u.str.ptr = b;
			smp->u.str.len = n;
			smp->type = t;
		}
		return 1;
	default:
		return 0;
	}
}

/* ---- arguments ------------------------------------------------------------------- */

void smp_arg_free(struct smp_arg *a)
{
	if (a->type == ARGT_REG)
		rx_free(a->ptr);
	free(a->str);
	memset(a, 0, sizeof(*a));
}

static const char *argt_name(int t)
{
	switch (t) {
	case ARGT_SINT: return "integer";
	case ARGT_STR: return "string";
	case ARGT_BE: return "backend";
	case ARGT_FE: return "frontend";
	case ARGT_SRV: return "server";
	case ARGT_REG: return "regex";
	case ARGT_MSK4: return "IPv4 mask";
	case ARGT_MSK6: return "IPv6 mask";
	case ARGT_VAR: return "variable";
	default: return "?";
	}
}

/* Converts the text already in a->str to a->type. */
static int arg_convert(struct smp_arg *a, bool icase, char **err)
{
	char *end;

	switch (a->type) {
	case ARGT_SINT:
		errno = 0;
		a->sint = strtoll(a->str, &end, 10);
		if (!*a->str || *end || errno) {
			memprintf(err, "'%s' is not an integer", a->str);
			return -1;
		}
		return 0;
	case ARGT_REG:
		a->ptr = rx_compile(a->str, icase, err);
		return a->ptr ? 0 : -1;
	case ARGT_MSK4: {
		struct in_addr m;

		memset(a->mask, 0, sizeof(a->mask));
		if (strchr(a->str, '.')) {
			if (inet_pton(AF_INET, a->str, &m) != 1) {
				memprintf(err, "'%s' is not an IPv4 mask", a->str);
				return -1;
			}
			memcpy(a->mask, &m, 4);
		} else {
			long b = strtol(a->str, &end, 10);

			if (!*a->str || *end || b < 0 || b > 32) {
				memprintf(err, "'%s' is not an IPv4 mask (0..32 or dotted)", a->str);
				return -1;
			}
			for (int i = 0; i < 4; i++)
				a->mask[i] = b >= (i + 1) * 8 ? 0xff : b > i * 8 ? (unsigned char)(0xff << ((i + 1) * 8 - b)) : 0;
		}
		return 0;
	}
	case ARGT_MSK6: {
		long b = strtol(a->str, &end, 10);

		if (!*a->str || *end || b < 0 || b > 128) {
			memprintf(err, "'%s' is not an IPv6 mask (0..128)", a->str);
			return -1;
		}
		for (int i = 0; i < 16; i++)
			a->mask[i] = b >= (i + 1) * 8 ? 0xff : b > i * 8 ? (unsigned char)(0xff << ((i + 1) * 8 - b)) : 0;
		return 0;
	}
	case ARGT_VAR:
		return smp_var_name_check(a->str, err);
	case ARGT_BE:
	case ARGT_FE:
	case ARGT_SRV:
		if (!*a->str) {
			memprintf(err, "missing %s name", argt_name(a->type));
			return -1;
		}
		return 0;
	default:
		return 0;
	}
}

/* Parses "(a,b,...)" at *p (pointing at '('): fills args per spec. */
static int parse_args(const char **p, const char *kwname, const uint8_t *spec, int min, struct smp_arg *args,
		      int *nargs, char **err)
{
	const char *s = *p + 1;
	char buf[4096];
	size_t bl = 0;
	int depth = 0, n = 0, maxn = 0;
	char q = 0;

	while (maxn < SMP_MAX_ARGS && spec[maxn] != ARGT_STOP)
		maxn++;
	for (;;) {
		char c = *s;

		if (!c) {
			memprintf(err, "missing closing ')' after arguments to '%s'", kwname);
			return -1;
		}
		if (q) {
			if (c == q) {
				q = 0;
			} else if (c == '\\' && s[1] && strchr("\\\"'", s[1])) {
				if (bl + 1 >= sizeof(buf))
					goto toolong;
				buf[bl++] = *++s;
			} else {
				if (bl + 1 >= sizeof(buf))
					goto toolong;
				buf[bl++] = c;
			}
			s++;
			continue;
		}
		if (c == '"' || c == '\'') {
			q = c;
			s++;
			continue;
		}
		if (c == '\\' && s[1] && strchr("\\\"',()", s[1])) {
			/* escapes what would end or split the argument; any
			 * other backslash stays (regex escapes, \1 groups) */
			if (bl + 1 >= sizeof(buf))
				goto toolong;
			buf[bl++] = *++s;
			s++;
			continue;
		}
		if ((c == ',' || c == ')') && depth == 0) {
			if (!(c == ')' && n == 0 && bl == 0 && s == *p + 1)) {
				/* an argument ends */
				if (n >= maxn) {
					memprintf(err, "too many arguments to '%s' (at most %d)", kwname, maxn);
					return -1;
				}
				args[n].type = spec[n];
				args[n].str = strndup(buf, bl);
				args[n].len = bl;
				if (!args[n].str) {
					memprintf(err, "out of memory");
					return -1;
				}
				n++;
				*nargs = n;
				bl = 0;
			}
			s++;
			if (c == ')')
				break;
			continue;
		}
		if (c == '(')
			depth++;
		else if (c == ')')
			depth--;
		if (bl + 1 >= sizeof(buf))
			goto toolong;
		buf[bl++] = c;
		s++;
	}
	if (n < min) {
		memprintf(err, "missing arguments to '%s' (got %d, needs at least %d)", kwname, n, min);
		return -1;
	}
	*p = s;
	return 0;
toolong:
	memprintf(err, "argument to '%s' too long", kwname);
	return -1;
}

static int finish_args(struct smp_arg *args, int n, const char *kw, char **err)
{
	for (int i = 0; i < n; i++) {
		if (arg_convert(&args[i], false, err) < 0) {
			memprintf(err, "argument %d of '%s' (%s): %s", i + 1, kw, argt_name(args[i].type), *err);
			return -1;
		}
	}
	return 0;
}

/* ---- expressions ------------------------------------------------------------------- */

void smp_expr_free(struct smp_expr *e)
{
	if (!e)
		return;
	for (int i = 0; i < e->nargs; i++)
		smp_arg_free(&e->args[i]);
	for (size_t c = 0; c < e->nconv; c++) {
		if (e->convs[c].kw && e->convs[c].kw->release)
			e->convs[c].kw->release(e->convs[c].args, e->convs[c].nargs);
		for (int i = 0; i < e->convs[c].nargs; i++)
			smp_arg_free(&e->convs[c].args[i]);
	}
	free(e->convs);
	free(e->text);
	free(e);
}

static bool name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '-';
}

int smp_expr_parse(const char *str, const char *stop, const char **end, struct smp_pctx *pc,
		   struct smp_expr **out, char **err)
{
	struct smp_expr *e = calloc(1, sizeof(*e));
	const char *p = str, *name;
	size_t n;
	enum smp_type cur;

	*out = NULL;
	if (!e) {
		memprintf(err, "out of memory");
		return -1;
	}
	name = p;
	while (name_char(*p))
		p++;
	n = (size_t)(p - name);
	if (!n) {
		memprintf(err, "missing fetch method in '%s'", str);
		goto fail;
	}
	e->fetch = smp_find_fetch(name, n);
	if (!e->fetch) {
		char *nm = strndup(name, n);
		const char *sug = nm ? smp_suggest_fetch(nm) : NULL;

		memprintf(err, "unknown fetch method '%.*s'%s%s%s", (int)n, name, sug ? ", did you mean '" : "",
			  sug ? sug : "", sug ? "' ?" : "");
		free(nm);
		goto fail;
	}
	if (!e->fetch->fn) {
		memprintf(err, "fetch method '%s' is not supported by decoyproxy yet: %s", e->fetch->name,
			  e->fetch->refuse ? e->fetch->refuse : "no implementation");
		goto fail;
	}
	if (*p == '(') {
		if (parse_args(&p, e->fetch->name, e->fetch->args, e->fetch->min_args, e->args, &e->nargs, err) < 0)
			goto fail;
	} else if (e->fetch->min_args) {
		memprintf(err, "fetch method '%s' expects %d argument(s)", e->fetch->name, e->fetch->min_args);
		goto fail;
	}
	if (finish_args(e->args, e->nargs, e->fetch->name, err) < 0)
		goto fail;
	if (e->fetch->check && e->fetch->check(e->args, e->nargs, e->fetch->name, pc, err) < 0)
		goto fail;
	cur = e->fetch->out;
	while (*p == ',') {
		const struct smp_conv_kw *ck;
		struct smp_conv_inst *ci, *nc;

		p++;
		name = p;
		while (name_char(*p))
			p++;
		n = (size_t)(p - name);
		ck = n ? smp_find_conv(name, n) : NULL;
		if (!ck) {
			char *nm = strndup(name, n);
			const char *sug = nm && n ? suggest_in(nm, false) : NULL;

			memprintf(err, "unknown converter '%.*s'%s%s%s", (int)n, name, sug ? ", did you mean '" : "",
				  sug ? sug : "", sug ? "' ?" : "");
			free(nm);
			goto fail;
		}
		if (!ck->fn) {
			memprintf(err, "converter '%s' is not supported by decoyproxy yet: %s", ck->name,
				  ck->refuse ? ck->refuse : "no implementation");
			goto fail;
		}
		nc = realloc(e->convs, (e->nconv + 1) * sizeof(*nc));
		if (!nc) {
			memprintf(err, "out of memory");
			goto fail;
		}
		e->convs = nc;
		ci = &e->convs[e->nconv++];
		memset(ci, 0, sizeof(*ci));
		ci->kw = ck;
		if (*p == '(') {
			if (parse_args(&p, ck->name, ck->args, ck->min_args, ci->args, &ci->nargs, err) < 0)
				goto fail;
		} else if (ck->min_args) {
			memprintf(err, "converter '%s' expects %d argument(s)", ck->name, ck->min_args);
			goto fail;
		}
		/* can the value reach the converter's input type at all? */
		if ((cur == SMP_T_ADDR && (ck->in == SMP_T_SINT || ck->in == SMP_T_BOOL)) ||
		    (ck->in == SMP_T_ADDR && cur != SMP_T_ADDR && cur != SMP_T_STR && cur != SMP_T_SINT)) {
			memprintf(err, "converter '%s' cannot be applied: it takes %s and '%.*s' gives %s", ck->name,
				  smp_type_name(ck->in), (int)(name - 1 - str), str, smp_type_name(cur));
			goto fail;
		}
		if (finish_args(ci->args, ci->nargs, ck->name, err) < 0)
			goto fail;
		if (ck->check && ck->check(ci->args, ci->nargs, ck->name, pc, err) < 0)
			goto fail;
		cur = ck->map_match ? ck->map_out : ck->out == SMP_T_ANY ? cur : ck->out;
	}
	if (*p && !(stop && strchr(stop, *p))) {
		memprintf(err, "unexpected character '%c' after fetch expression '%.*s'", *p, (int)(p - str), str);
		goto fail;
	}
	e->text = strndup(str, (size_t)(p - str));
	if (!e->text) {
		memprintf(err, "out of memory");
		goto fail;
	}
	if (end)
		*end = p;
	*out = e;
	return 0;
fail:
	smp_expr_free(e);
	return -1;
}

enum smp_type smp_expr_type(const struct smp_expr *e)
{
	enum smp_type t = e->fetch->out;

	for (size_t i = 0; i < e->nconv; i++) {
		const struct smp_conv_kw *k = e->convs[i].kw;

		t = k->map_match ? k->map_out : k->out == SMP_T_ANY ? t : k->out;
	}
	return t;
}

unsigned smp_expr_use(const struct smp_expr *e)
{
	return e->fetch->use;
}

static int eval_from(const struct smp_expr *e, const struct smp_sess *ss, struct sample *smp, size_t ctx)
{
	size_t next;
	unsigned multi;
	int r = 1;

	memset(smp, 0, sizeof(*smp));
	smp->ctx = ctx;
	if (!e->fetch->fn(e->args, smp, ss))
		return 0;
	/* the fetch's position and "more values" survive the converters */
	next = smp->ctx;
	multi = smp->flags & SMP_F_NOT_LAST;
	for (size_t i = 0; i < e->nconv; i++) {
		const struct smp_conv_inst *c = &e->convs[i];
		unsigned keep = smp->flags;

		if (!smp_cast(smp, c->kw->in)) {
			r = 0;
			break;
		}
		if (!c->kw->fn(c->args, smp, ss)) {
			smp->flags = keep;
			r = 0;
			break;
		}
		smp->flags |= keep;
	}
	smp->ctx = next;
	smp->flags = (smp->flags & ~SMP_F_NOT_LAST) | multi;
	return r;
}

int smp_expr_eval(const struct smp_expr *e, const struct smp_sess *ss, struct sample *smp)
{
	return eval_from(e, ss, smp, 0);
}

int smp_expr_eval_next(const struct smp_expr *e, const struct smp_sess *ss, struct sample *smp)
{
	if (!(smp->flags & SMP_F_NOT_LAST))
		return 0;
	return eval_from(e, ss, smp, smp->ctx);
}

/* ---- variables and captures ---------------------------------------------------------- */

int smp_var_name_check(const char *name, char **err)
{
	static const char *const scopes[] = { "sess.", "txn.", "req.", "res.", "proc." };
	size_t i;
	const char *n = NULL;

	for (i = 0; i < ARRAY_SIZE(scopes); i++)
		if (!strncmp(name, scopes[i], strlen(scopes[i]))) {
			n = name + strlen(scopes[i]);
			break;
		}
	if (!n) {
		memprintf(err, "invalid variable name '%s': it must start with one of 'proc.', 'sess.', 'txn.', 'req.', 'res.'",
			  name);
		return -1;
	}
	if (i == 4) {
		memprintf(err, "variable '%s': the 'proc' scope is not supported by decoyproxy yet (variables live as long as their connection)",
			  name);
		return -1;
	}
	if (!*n) {
		memprintf(err, "invalid variable name '%s': empty name after the scope", name);
		return -1;
	}
	for (; *n; n++)
		if (!isalnum((unsigned char)*n) && *n != '_' && *n != '.' && *n != '-') {
			memprintf(err, "invalid variable name '%s': character '%c' is not allowed", name, *n);
			return -1;
		}
	return 0;
}

struct smp_store *smp_store_new(void)
{
	return calloc(1, sizeof(struct smp_store));
}

void smp_store_free(struct smp_store *st)
{
	struct smp_var *v, *n;

	if (!st)
		return;
	for (unsigned i = 0; i < SMP_MAX_CAPTURES; i++)
		free(st->cap[i]);
	for (v = st->vars; v; v = n) {
		n = v->next;
		free(v->name);
		free(v->data);
		free(v);
	}
	free(st);
}

int smp_store_capture(struct smp_store *st, unsigned i, const struct sample *smp, size_t max)
{
	struct sample s = *smp;
	char *d;

	if (i >= SMP_MAX_CAPTURES || !smp_cast(&s, SMP_T_STR))
		return -EINVAL;
	if (s.u.str.len > max)
		s.u.str.len = max;
	d = malloc(s.u.str.len + 1);
	if (!d)
		return -ENOMEM;
	memcpy(d, s.u.str.ptr, s.u.str.len);
	d[s.u.str.len] = '\0';
	free(st->cap[i]);
	st->cap[i] = d;
	st->cap_len[i] = s.u.str.len;
	return 0;
}

static struct smp_var *var_find(const struct smp_store *st, const char *name)
{
	for (struct smp_var *v = st->vars; v; v = v->next)
		if (!strcmp(v->name, name))
			return v;
	return NULL;
}

int smp_store_set_var(struct smp_store *st, const char *name, const struct sample *smp)
{
	struct smp_var *v = var_find(st, name);

	if (!v) {
		v = calloc(1, sizeof(*v));
		if (!v || !(v->name = strdup(name))) {
			free(v);
			return -ENOMEM;
		}
		v->next = st->vars;
		st->vars = v;
	}
	free(v->data);
	v->data = NULL;
	v->smp = *smp;
	v->smp.flags = 0;
	if (smp->type == SMP_T_STR || smp->type == SMP_T_BIN) {
		v->data = malloc(smp->u.str.len + 1);
		if (!v->data) {
			v->smp.type = SMP_T_BOOL;
			v->smp.u.sint = 0;
			return -ENOMEM;
		}
		memcpy(v->data, smp->u.str.ptr, smp->u.str.len);
		v->data[smp->u.str.len] = '\0';
		v->smp.u.str.ptr = v->data;
	}
	return 0;
}

void smp_store_unset_var(struct smp_store *st, const char *name)
{
	for (struct smp_var **pp = &st->vars; *pp; pp = &(*pp)->next)
		if (!strcmp((*pp)->name, name)) {
			struct smp_var *v = *pp;

			*pp = v->next;
			free(v->name);
			free(v->data);
			free(v);
			return;
		}
}

const struct smp_var *smp_store_get_var(const struct smp_store *st, const char *name)
{
	return st ? var_find(st, name) : NULL;
}
