/* stktable_kw.c — the `stick-table` keyword, the generation's tables,
 * references to them (`table <t>`, fetches' table arguments) resolved
 * once every section is read, and the reload carry-over (see
 * stktable.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg/cfg.h"
#include "log/msg.h"
#include "model/conf.h"
#include "model/proxy.h"
#include "rules/stktable.h"

struct stk_tab {
	struct stk_tab *next;
	struct proxy *px;
	char *file;
	int line;
	struct stktable *t;             /* swapped for the old one by the carry-over */
};

struct stk_conf {
	struct conf_ext ext;
	struct stk_tab *tabs, *tabs_last;
	struct stk_ref *refs;
};

static void stk_conf_free(struct dp_config *c, struct conf_ext *e)
{
	struct stk_conf *sc = container_of(e, struct stk_conf, ext);
	struct stk_tab *t, *tn;
	struct stk_ref *r, *rn;

	(void)c;
	for (t = sc->tabs; t; t = tn) {
		tn = t->next;
		stktable_put(t->t);
		free(t->file);
		free(t);
	}
	for (r = sc->refs; r; r = rn) {
		rn = r->next;
		free(r->name);
		free(r->file);
		free(r->what);
		free(r);
	}
	free(sc);
}

static const struct conf_ext_ops stk_conf_ops = { .name = "stick-tables", .free = stk_conf_free };

static struct stk_conf *stk_conf_of(const struct dp_config *c, bool create)
{
	struct conf_ext *e = c ? conf_ext_find(c, &stk_conf_ops) : NULL;
	struct stk_conf *sc;

	if (e || !create || !c)
		return e ? container_of(e, struct stk_conf, ext) : NULL;
	sc = calloc(1, sizeof(*sc));
	if (!sc)
		return NULL;
	sc->ext.ops = &stk_conf_ops;
	conf_ext_add((struct dp_config *)c, &sc->ext);
	return sc;
}

static struct stk_tab *tab_of_px(const struct stk_conf *sc, const struct proxy *px)
{
	for (struct stk_tab *t = sc ? sc->tabs : NULL; t; t = t->next)
		if (t->px == px)
			return t;
	return NULL;
}

static struct stk_tab *tab_named(const struct stk_conf *sc, const char *name)
{
	for (struct stk_tab *t = sc ? sc->tabs : NULL; t; t = t->next)
		if (!strcmp(t->px->name, name))
			return t;
	return NULL;
}

struct stktable *stk_px_table(const struct dp_config *c, const struct proxy *px)
{
	struct stk_tab *t = tab_of_px(stk_conf_of(c, false), px);

	return t ? t->t : NULL;
}

struct stktable *stk_conf_table(const struct dp_config *c, unsigned i)
{
	struct stk_conf *sc = stk_conf_of(c, false);

	for (struct stk_tab *t = sc ? sc->tabs : NULL; t; t = t->next)
		if (!i--)
			return t->t;
	return NULL;
}

struct stktable *stk_conf_find(const struct dp_config *c, const char *name)
{
	struct stk_tab *t = tab_named(stk_conf_of(c, false), name);

	return t ? t->t : NULL;
}

struct stk_ref *stk_ref_add(struct smp_pctx *pc, const char *name, const char *what, char **err)
{
	struct stk_conf *sc = stk_conf_of(pc ? pc->conf : NULL, true);
	struct stk_ref *r;

	if (!sc || !pc->px) {
		memprintf(err, "'%s' needs a stick-table, and there is none here", what);
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r || !(r->file = strdup(pc->file ? pc->file : "?")) || !(r->what = strdup(what)) ||
	    (name && !(r->name = strdup(name)))) {
		if (r) {
			free(r->file);
			free(r->what);
		}
		free(r);
		memprintf(err, "out of memory");
		return NULL;
	}
	r->px = pc->px;
	r->line = pc->line;
	r->next = sc->refs;
	sc->refs = r;
	return r;
}

/* ---- stick-table ---------------------------------------------------------------------------- */

/* HAProxy's sizes: a number with an optional k, m or g (powers of 1024). */
static int parse_size(const char *s, unsigned long long *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	default: break;
	}
	if (*end)
		return -1;
	*out = v;
	return 0;
}

static const char *const refused_dt[] = {
	"server_id", "server_key", "server_name", "gpc1", "gpc1_rate", "gpt", "gpc", "gpc_rate", "sess_cnt",
	"sess_rate", "http_req_cnt", "http_req_rate", "http_err_cnt", "http_err_rate", "http_fail_cnt",
	"http_fail_rate", "glitch_cnt", "glitch_rate",
};

/* One `store` word list: "conn_cnt,conn_rate(10s),gpc0". */
static int parse_store(const char *list, struct stk_def *d, char **err)
{
	const char *p = list;

	while (*p) {
		size_t n = strcspn(p, ",(");
		int dt = stk_dt_find(p, n);
		const char *q = p + n;
		long long ms = 0;

		if (dt < 0) {
			for (size_t i = 0; i < ARRAY_SIZE(refused_dt); i++)
				if (strlen(refused_dt[i]) == n && !memcmp(refused_dt[i], p, n)) {
					memprintf(err, "'store': data type '%.*s' is not supported by decoyproxy yet (supported: gpt0, gpc0, gpc0_rate, conn_cnt, conn_rate, conn_cur, bytes_in_cnt, bytes_in_rate, bytes_out_cnt, bytes_out_rate)",
						  (int)n, p);
					return -1;
				}
			memprintf(err, "'store': unknown data type '%.*s'", (int)n, p);
			return -1;
		}
		if (*q == '(') {
			const char *e = strchr(q, ')');
			char buf[64];

			if (!e || (size_t)(e - q - 1) >= sizeof(buf)) {
				memprintf(err, "'store': missing ')' after '%s'", p);
				return -1;
			}
			memcpy(buf, q + 1, (size_t)(e - q - 1));
			buf[e - q - 1] = '\0';
			if (!stk_dt_is_rate(dt)) {
				memprintf(err, "'store': data type '%s' takes no argument", stk_dt_name(dt));
				return -1;
			}
			if (cfg_parse_time_ms(buf, &ms) < 0 || ms <= 0) {
				memprintf(err, "'store': '%s' expects a period as a positive time (e.g. '10s'), found '%s'",
					  stk_dt_name(dt), buf);
				return -1;
			}
			q = e + 1;
		} else if (stk_dt_is_rate(dt)) {
			memprintf(err, "'store': data type '%s' expects a period in parentheses, e.g. '%s(10s)'",
				  stk_dt_name(dt), stk_dt_name(dt));
			return -1;
		}
		if (d->store & (1u << dt)) {
			memprintf(err, "'store': data type '%s' is given twice", stk_dt_name(dt));
			return -1;
		}
		d->store |= 1u << dt;
		d->period[dt] = (unsigned)ms;
		if (*q == ',')
			q++;
		else if (*q) {
			memprintf(err, "'store': unexpected '%s' after '%.*s'", q, (int)(q - p), p);
			return -1;
		}
		p = q;
	}
	return 0;
}

static int kw_stick_table(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct proxy *px = ctx_px(ctx);
	struct stk_conf *sc = stk_conf_of(ctx->conf, true);
	struct stk_def d;
	struct stk_tab *tab;
	bool has_type = false, has_size = false, has_len = false;

	if (!px || !sc) {
		memprintf(err, "out of memory");
		return CFG_ERR;
	}
	if (tab_of_px(sc, px)) {
		memprintf(err, "only one stick-table per proxy allowed.");
		return CFG_ERR;
	}
	memset(&d, 0, sizeof(d));
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "nopurge")) {
			d.nopurge = true;
			continue;
		}
		if (!strcmp(a, "peers") || !strcmp(a, "srvkey") || !strcmp(a, "write-to") || !strcmp(a, "recv-only")) {
			memprintf(err, "'%s' is not supported by decoyproxy yet (tables are not shared with peers)", a);
			return CFG_ERR;
		}
		if (strcmp(a, "type") && strcmp(a, "size") && strcmp(a, "expire") && strcmp(a, "store") &&
		    strcmp(a, "len")) {
			memprintf(err, "unknown argument '%s' (expects 'type', 'size', 'expire', 'nopurge' or 'store')", a);
			return CFG_ERR;
		}
		if (!v) {
			memprintf(err, "'%s' expects a value", a);
			return CFG_ERR;
		}
		i++;
		if (!strcmp(a, "type")) {
			if (!strcmp(v, "ip") || !strcmp(v, "ipv4"))
				d.type = STK_T_IP;
			else if (!strcmp(v, "ipv6"))
				d.type = STK_T_IPV6;
			else if (!strcmp(v, "integer"))
				d.type = STK_T_INT;
			else if (!strcmp(v, "string"))
				d.type = STK_T_STR;
			else if (!strcmp(v, "binary")) {
				memprintf(err, "'type binary' is not supported by decoyproxy yet (use ip, ipv6, integer or string)");
				return CFG_ERR;
			} else {
				memprintf(err, "'type' expects 'ip', 'ipv6', 'integer' or 'string', found '%s'", v);
				return CFG_ERR;
			}
			has_type = true;
			/* `len` may follow the type */
			if (d.type == STK_T_STR && i + 2 < argc && !strcmp(argv[i + 1], "len")) {
				unsigned long long l;

				if (cfg_parse_uint(argv[i + 2], STK_KEY_MAX, &l) < 0 || !l) {
					memprintf(err, "'len' expects a key length from 1 to %d, found '%s'", STK_KEY_MAX,
						  argv[i + 2]);
					return CFG_ERR;
				}
				d.klen = (unsigned)l;
				has_len = true;
				i += 2;
			}
		} else if (!strcmp(a, "len")) {
			memprintf(err, "'len' is only allowed right after 'type string'");
			return CFG_ERR;
		} else if (!strcmp(a, "size")) {
			unsigned long long n;

			if (parse_size(v, &n) < 0 || !n || n > STK_SIZE_MAX) {
				memprintf(err, "'size' expects a number of entries from 1 to %u (k, m, g suffixes allowed), found '%s'",
					  STK_SIZE_MAX, v);
				return CFG_ERR;
			}
			d.size = (unsigned)n;
			has_size = true;
		} else if (!strcmp(a, "expire")) {
			long long ms;

			switch (cfg_time_arg("stick-table expire", v, &ms, err)) {
			case 0:
				break;
			case -EINVAL:
				memprintf(err, "'expire' expects a delay in format <time>[ms|s|m|h|d], found '%s'", v);
				return CFG_ERR;
			default:
				return CFG_ERR;
			}
			d.expire = (unsigned)ms;
		} else if (parse_store(v, &d, err) < 0) {
			return CFG_ERR;
		}
	}
	if (!has_type) {
		memprintf(err, "missing type (expects 'type ip|ipv6|integer|string').");
		return CFG_ERR;
	}
	if (!has_size) {
		memprintf(err, "missing size.");
		return CFG_ERR;
	}
	d.klen = d.type == STK_T_IP || d.type == STK_T_INT ? 4 : d.type == STK_T_IPV6 ? 16 :
		 has_len ? d.klen : STK_STR_LEN_DEFAULT;
	tab = calloc(1, sizeof(*tab));
	if (!tab || !(tab->file = strdup(ctx->file)) || !(tab->t = stktable_new(px->name, &d))) {
		if (tab)
			free(tab->file);
		free(tab);
		memprintf(err, "out of memory (a table of %u entries)", d.size);
		return CFG_ERR;
	}
	tab->px = px;
	tab->line = ctx->line;
	if (sc->tabs_last)
		sc->tabs_last->next = tab;
	else
		sc->tabs = tab;
	sc->tabs_last = tab;
	return CFG_OK;
}

static const struct cfg_kw stktable_kws[] = {
	{ "stick-table", CFG_SEC_FE_NODEF | CFG_SEC_BE_NODEF, kw_stick_table, NULL },
};

const struct cfg_kw_list stktable_kw_list = { stktable_kws, ARRAY_SIZE(stktable_kws) };

/* ---- finalize, carry ---------------------------------------------------------------------- */

int stktable_finalize(struct dp_config *c)
{
	struct stk_conf *sc = stk_conf_of(c, false);
	int errors = 0;

	for (struct stk_ref *r = sc ? sc->refs : NULL; r; r = r->next) {
		struct stk_tab *t = r->name ? tab_named(sc, r->name) : tab_of_px(sc, r->px);

		if (t) {
			r->tp = &t->t;
			continue;
		}
		if (r->name)
			cfg_report_at(true, r->file, r->line, &errors,
				      "proxy '%s': unable to find stick-table '%s' referenced by '%s'.", r->px->name, r->name,
				      r->what);
		else
			cfg_report_at(true, r->file, r->line, &errors,
				      "proxy '%s': '%s' refers to this proxy's stick-table, and it has none (add one, or name another proxy's with 'table <name>').",
				      r->px->name, r->what);
	}
	return errors;
}

void stktable_carry(struct dp_config *newc, struct dp_config *oldc)
{
	struct stk_conf *nc = stk_conf_of(newc, false), *oc = stk_conf_of(oldc, false);

	for (struct stk_tab *t = nc ? nc->tabs : NULL; t; t = t->next) {
		struct stk_tab *o = tab_named(oc, t->px->name);

		if (!o)
			continue;
		if (!stk_def_equal(&o->t->def, &t->t->def)) {
			ha_notice("stick-table '%s': its definition changed, it starts empty.", t->px->name);
			continue;
		}
		stktable_get(o->t);
		stktable_put(t->t);
		t->t = o->t;
	}
}
