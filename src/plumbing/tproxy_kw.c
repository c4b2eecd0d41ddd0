/* tproxy_kw.c — the tproxy keywords (see tproxy.h): the global settings
 * `tproxy-mark`, `tproxy-table` and `tproxy-routing`, and the frontend
 * lines `intercept` and `intercept-file`, which fill the frontend's decoy
 * list as written and the address ranges of its `announce` lines. Parsing
 * only: tproxy_finalize() (tproxy_plan.c) checks and normalises.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/rtnetlink.h>

#include "cfg/cfg.h"
#include "lib/intercept.h"
#include "model/proxy.h"
#include "plumbing/tproxy.h"
#include "plumbing/tproxy_int.h"

/* ---- global keywords ----------------------------------------------------------- */

/* A 32-bit value in decimal or 0x-prefixed hex (marks are usually written
 * in hex, as `ip rule` prints them). */
static int parse_u32(const char *s, uint32_t *out)
{
	unsigned long long v;
	char *end;

	if (!strncmp(s, "0x", 2) || !strncmp(s, "0X", 2)) {
		const char *h = s + 2;

		if (!*h || strspn(h, "0123456789abcdefABCDEF") != strlen(h) || strlen(h) > 8)
			return -EINVAL;
		v = strtoull(h, &end, 16);
	} else if (cfg_parse_uint(s, UINT32_MAX, &v) < 0) {
		return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

static int kw_tproxy_mark(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct tproxy_gconf *g;
	uint32_t v;

	if (cfg_one_arg(argc, argv, err))
		return CFG_ERR;
	if (parse_u32(argv[1], &v) < 0 || !v) {
		memprintf(err, "invalid mark '%s' (expects 1 to 4294967295, decimal or 0x-hex; "
			  "mark 0 cannot be matched by an fwmark rule)", argv[1]);
		return CFG_ERR;
	}
	g = tproxy_gconf_get(ctx->conf);
	if (!g) {
		memprintf(err, "out of memory");
		return CFG_ERR;
	}
	g->mark = v;
	return CFG_OK;
}

static int kw_tproxy_table(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct tproxy_gconf *g;
	const char *why = NULL;
	uint32_t v;

	if (cfg_one_arg(argc, argv, err))
		return CFG_ERR;
	if (parse_u32(argv[1], &v) < 0) {
		memprintf(err, "invalid routing table id '%s' (expects 1 to 4294967295)", argv[1]);
		return CFG_ERR;
	}
	if (v == RT_TABLE_UNSPEC)
		why = "0 means no table";
	else if (v == RT_TABLE_DEFAULT)
		why = "it is the kernel's 'default' table";
	else if (v == RT_TABLE_MAIN)
		why = "it is the kernel's 'main' table";
	else if (v == RT_TABLE_LOCAL)
		why = "it is the kernel's 'local' table";
	if (why) {
		memprintf(err, "routing table id '%s' cannot be used: %s (default %u)", argv[1], why,
			  TPROXY_TABLE_DEFAULT);
		return CFG_ERR;
	}
	g = tproxy_gconf_get(ctx->conf);
	if (!g) {
		memprintf(err, "out of memory");
		return CFG_ERR;
	}
	g->table = v;
	return CFG_OK;
}

static int kw_tproxy_routing(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct tproxy_gconf *g;
	bool on;

	if (cfg_one_arg(argc, argv, err))
		return CFG_ERR;
	if (!strcmp(argv[1], "on")) {
		on = true;
	} else if (!strcmp(argv[1], "off")) {
		on = false;
	} else {
		memprintf(err, "expects 'on' or 'off', not '%s'", argv[1]);
		return CFG_ERR;
	}
	g = tproxy_gconf_get(ctx->conf);
	if (!g) {
		memprintf(err, "out of memory");
		return CFG_ERR;
	}
	g->routing = on;
	return CFG_OK;
}

/* ---- frontend keywords -------------------------------------------------------------- */

static struct tproxy_fe *fe_get(struct cfg_ctx *ctx, char **err)
{
	struct proxy *px = ctx_px(ctx);
	struct tproxy_fe *f = px->tproxy;

	if (f)
		return f;
	/* the generation's state frees every frontend's lists */
	if (!tproxy_gconf_get(ctx->conf)) {
		memprintf(err, "out of memory");
		return NULL;
	}
	f = calloc(1, sizeof(*f));
	if (!f || !(f->file = strdup(ctx->file))) {
		free(f);
		memprintf(err, "out of memory");
		return NULL;
	}
	icpt_list_init(&f->decoys);
	icpt_list_init(&f->raw);
	f->line = ctx->line;
	px->tproxy = f;
	return f;
}

/* Records the address ranges of the decoy elements [from, n) for
 * `announce`. Several elements of one spec share a range (one per port
 * item); the merge in tproxy_finalize() folds them. */
static int ranges_add(struct tproxy_fe *f, size_t from, char **err)
{
	size_t more = f->decoys.n - from;

	if (f->nranges + more > f->capranges) {
		size_t cap = f->capranges ? f->capranges : 16;
		struct tproxy_range *r;

		while (cap < f->nranges + more)
			cap *= 2;
		r = realloc(f->ranges, cap * sizeof(*r));
		if (!r) {
			memprintf(err, "out of memory");
			return -ENOMEM;
		}
		f->ranges = r;
		f->capranges = cap;
	}
	for (size_t i = from; i < f->decoys.n; i++) {
		struct tproxy_range *r = &f->ranges[f->nranges++];

		r->family = f->decoys.v[i].family;
		r->lo = f->decoys.v[i].lo;
		r->hi = f->decoys.v[i].hi;
	}
	return 0;
}

static int kw_intercept(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct tproxy_fe *f;
	bool announce = false;
	int nspec = argc - 1, ret;
	char *where = NULL;
	size_t n0;

	if (nspec > 0 && !strcmp(argv[argc - 1], "announce")) {
		announce = true;
		nspec--;
	}
	for (int i = 1; i <= nspec; i++) {
		if (!strcmp(argv[i], "announce")) {
			memprintf(err, "'announce' must be the last word of the line");
			return CFG_ERR;
		}
	}
	if (nspec == 0) {
		memprintf(err, "expects at least one decoy spec ADDRS:PORTS, e.g. "
			  "'192.0.2.0/24:22,80' or '[fd09::]/64:443'");
		return CFG_ERR;
	}
	f = fe_get(ctx, err);
	if (!f)
		return CFG_ERR;
	if (memprintf(&where, "%s:%d", ctx->file, ctx->line) < 0) {
		memprintf(err, "out of memory");
		return CFG_ERR;
	}
	n0 = f->decoys.n;
	ret = icpt_parse_args(&f->decoys, nspec, argv + 1, where, err);
	if (!ret && announce)
		ret = ranges_add(f, n0, err);
	free(where);
	return ret ? CFG_ERR : CFG_OK;
}

static void file_warn(void *data, const char *msg)
{
	cfg_warn(data, "'intercept-file': %s", msg);
}

static int kw_intercept_file(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct tproxy_fe *f;
	bool announce = false;
	size_t n0;

	if (argc < 2) {
		memprintf(err, "expects a file name, e.g. 'intercept-file /etc/decoyproxy/decoys.lst'");
		return CFG_ERR;
	}
	if (argc > 3 || (argc == 3 && strcmp(argv[2], "announce"))) {
		memprintf(err, "unexpected word '%s' after the file name (only 'announce' may follow)",
			  argv[argc > 3 ? 3 : 2]);
		return CFG_ERR;
	}
	announce = argc == 3;
	f = fe_get(ctx, err);
	if (!f)
		return CFG_ERR;
	n0 = f->decoys.n;
	if (icpt_file_load(argv[1], &f->decoys, file_warn, ctx, err) < 0)
		return CFG_ERR;
	if (announce && ranges_add(f, n0, err) < 0)
		return CFG_ERR;
	return CFG_OK;
}

static const struct cfg_kw tproxy_kws[] = {
	{ "tproxy-mark", CFG_SEC_GLOBAL, kw_tproxy_mark, NULL },
	{ "tproxy-table", CFG_SEC_GLOBAL, kw_tproxy_table, NULL },
	{ "tproxy-routing", CFG_SEC_GLOBAL, kw_tproxy_routing, NULL },
	{ "intercept", CFG_SEC_FE_NODEF, kw_intercept, NULL },
	{ "intercept-file", CFG_SEC_FE_NODEF, kw_intercept_file, NULL },
};

const struct cfg_kw_list tproxy_kw_list = { tproxy_kws, ARRAY_SIZE(tproxy_kws) };
