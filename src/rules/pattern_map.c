/* pattern_map.c — a generation's pattern references (a model/conf.h
 * extension: loaded at start and at each reload, runtime changes lost on
 * reload as in HAProxy) and the map converters:
 *   map(<file>[,<default>])                 = map_str
 *   map_<match>[_<output>](<file>[,<default>])
 * match: str beg sub dir dom end reg int ip len; output: str (default),
 * int, ip. The input is cast for the match method (map_ip takes an
 * address, map_int an integer, the others a string). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg/cfg.h"
#include "model/conf.h"
#include "rules/pattern.h"
#include "rules/sample.h"

struct pat_conf {
	struct conf_ext ext;
	struct pat_refs refs;
};

static void pat_conf_free(struct dp_config *c, struct conf_ext *e)
{
	struct pat_conf *pc = container_of(e, struct pat_conf, ext);

	(void)c;
	pat_refs_free(&pc->refs);
	free(pc);
}

static const struct conf_ext_ops pat_conf_ops = { .name = "patterns", .free = pat_conf_free };

struct pat_refs *pat_refs_of(struct dp_config *c, bool create)
{
	struct conf_ext *e;
	struct pat_conf *pc;

	if (!c)
		return NULL;
	e = conf_ext_find(c, &pat_conf_ops);
	if (e)
		return &container_of(e, struct pat_conf, ext)->refs;
	if (!create)
		return NULL;
	pc = calloc(1, sizeof(*pc));
	if (!pc)
		return NULL;
	pc->ext.ops = &pat_conf_ops;
	conf_ext_add(c, &pc->ext);
	return &pc->refs;
}

/* ---- map converters ------------------------------------------------------------ */

static int map_value(const struct pat_expr *e, const char *v, struct sample *smp)
{
	switch (e->out) {
	case SMP_T_SINT: {
		char *end;

		smp->type = SMP_T_SINT;
		smp->u.sint = strtoll(v, &end, 10);
		return *v && !*end;
	}
	case SMP_T_ADDR:
		smp->type = SMP_T_STR;
		smp->u.str.ptr = v;
		smp->u.str.len = strlen(v);
		return smp_cast(smp, SMP_T_ADDR);
	default:
		smp->type = SMP_T_STR;
		smp->u.str.ptr = v;
		smp->u.str.len = strlen(v);
		return 1;
	}
}

struct map_ctx {
	const struct smp_arg *a;
	struct sample *smp;
};

/* Runs under the map's read locks: a string value another thread's `del
 * map`/`set map` could free is copied to this thread's scratch first. */
static int map_found(const struct pat_elt *m, bool shared, void *arg)
{
	struct map_ctx *x = arg;
	const struct pat_expr *e = x->a[0].ptr;
	const char *v;

	if (!m)
		return x->a[1].type ? map_value(e, x->a[1].str, x->smp) : 0;
	v = m->value ? m->value : "";
	if (shared) {
		char *b = smp_trash(NULL);
		size_t n = strlen(v);

		if (n >= SMP_TRASH_SIZE)
			n = SMP_TRASH_SIZE - 1;
		memcpy(b, v, n);
		b[n] = '\0';
		v = b;
	}
	return map_value(e, v, x->smp);
}

static int c_map(const struct smp_arg *a, struct sample *smp, const struct smp_sess *ss)
{
	struct map_ctx x = { .a = a, .smp = smp };

	(void)ss;
	return pat_match_with(a[0].ptr, smp, map_found, &x);
}

static int check_map(struct smp_arg *a, int n, const char *kw, struct smp_pctx *pc, char **err)
{
	const struct smp_conv_kw *ck = smp_find_conv(kw, strlen(kw));
	struct pat_refs *refs = pat_refs_of(pc ? pc->conf : NULL, true);
	struct pat_ref *r;
	struct pat_expr *e;
	char *desc = NULL;

	if (!ck || !refs) {
		memprintf(err, "%s: maps can only be used while a configuration is loaded", kw);
		return -1;
	}
	if (!*a[0].str) {
		memprintf(err, "%s: missing map file name", kw);
		return -1;
	}
	memprintf(&desc, "map '%s' used by '%s' at file '%s' line %d", a[0].str, kw, pc->file ? pc->file : "?",
		  pc->line);
	r = pat_ref_load(refs, a[0].str, true, desc, err);
	free(desc);
	if (!r)
		return -1;
	e = pat_expr_new(ck->map_match, false, ck->map_out);
	if (!e) {
		memprintf(err, "out of memory");
		return -1;
	}
	if (pat_expr_attach(e, r, err) < 0) {
		memprintf(err, "map '%s': %s", a[0].str, *err);
		pat_expr_free(e);
		return -1;
	}
	a[0].ptr = e;
	if (n > 1) {
		struct sample s;

		if (!map_value(e, a[1].str, &s)) {
			memprintf(err, "%s: default value '%s' is not a%s", kw, a[1].str,
				  e->out == SMP_T_SINT ? "n integer" : "n IP address");
			return -1;
		}
	}
	return 0;
}

static void release_map(struct smp_arg *a, int n)
{
	(void)n;
	pat_expr_free(a[0].ptr);
	a[0].ptr = NULL;
}

#define MAPARGS { ARGT_STR, ARGT_STR }
#define MAP(name, in, m, out) \
	{ name, c_map, MAPARGS, 1, in, out, check_map, release_map, NULL, m, out }
#define MAP3(m, in, mt) \
	MAP("map_" m, in, mt, SMP_T_STR), MAP("map_" m "_str", in, mt, SMP_T_STR), \
	MAP("map_" m "_int", in, mt, SMP_T_SINT), MAP("map_" m "_ip", in, mt, SMP_T_ADDR)

static const struct smp_conv_kw map_convs[] = {
	MAP("map", SMP_T_STR, PAT_M_STR, SMP_T_STR),
	MAP3("str", SMP_T_STR, PAT_M_STR),
	MAP3("beg", SMP_T_STR, PAT_M_BEG),
	MAP3("sub", SMP_T_STR, PAT_M_SUB),
	MAP3("dir", SMP_T_STR, PAT_M_DIR),
	MAP3("dom", SMP_T_STR, PAT_M_DOM),
	MAP3("end", SMP_T_STR, PAT_M_END),
	MAP3("reg", SMP_T_STR, PAT_M_REG),
	MAP3("len", SMP_T_STR, PAT_M_LEN),
	MAP3("int", SMP_T_SINT, PAT_M_INT),
	MAP3("ip", SMP_T_ADDR, PAT_M_IP),
};

void pat_init(void)
{
	smp_register_convs(map_convs, ARRAY_SIZE(map_convs));
}
