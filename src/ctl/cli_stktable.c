/* cli_stktable.c — the stats socket's stick table commands (HAProxy's):
 *   show table                                   one line per table
 *   show table <name> [data.<type> <op> <value>] [key <key>]
 *   clear table <name> [data.<type> <op> <value>] [key <key>]
 * <op> is eq ne le lt ge gt. `clear table` removes the matching entries
 * that no session tracks (all of them without a filter). Each table is
 * read under its own lock (rules/stktable.h), so threads relaying
 * meanwhile see either the entry before or after a clear. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/common.h"
#include "model/conf.h"
#include "core/loop.h"
#include "rules/stktable.h"
#include "ctl/cli.h"
#include "ctl/cli_int.h"

static void table_line(struct cli_buf *out, struct stktable *t, uint64_t now)
{
	cli_printf(out, "# table: %s, type: %s, size:%u, used:%u\n", t->name, stk_type_name(t->def.type), t->def.size,
		   stk_used(t, now));
}

static void dump_entry(void *arg, const struct stktable *t, const struct stksess *e, uint64_t now)
{
	struct cli_buf *out = arg;
	char key[STK_KEY_MAX * 4 + 1], line[2048];
	unsigned exp = t->def.expire;
	size_t o;

	stk_key_to_text(t, e->key, key, sizeof(key));
	if (!e->ref && e->expire)
		exp = e->expire > now ? (unsigned)(e->expire - now) : 0;
	/* one cli_printf per entry: a cut answer holds whole lines only */
	o = (size_t)snprintf(line, sizeof(line), "%p: key=%s use=%u exp=%u", (const void *)e, key, e->ref, exp);
	for (int dt = 0; dt < STK_DT_COUNT && o < sizeof(line); dt++) {
		unsigned long long v;

		if (!(t->def.store & (1u << dt)))
			continue;
		v = stk_entry_value_locked(t, e, dt, now);
		if (stk_dt_is_rate(dt))
			o += (size_t)snprintf(line + o, sizeof(line) - o, " %s(%u)=%llu", stk_dt_name(dt),
					      t->def.period[dt], v);
		else
			o += (size_t)snprintf(line + o, sizeof(line) - o, " %s=%llu", stk_dt_name(dt), v);
	}
	cli_printf(out, "%s\n", line);
}

/* The table named argv[2] and the filter of argv[3..); NULL when the
 * answer was an error. */
static struct stktable *table_and_filter(int argc, char **argv, struct stk_filter *f, struct cli_buf *out)
{
	struct stktable *t = stk_conf_find(rt.conf, argv[2]);
	char *err = NULL;

	if (!t) {
		cli_printf(out, "No such table\n");
		return NULL;
	}
	if (stk_filter_parse(t, argc - 3, argv + 3, f, &err) < 0) {
		cli_printf(out, "%s\n", err ? err : "Out of memory.");
		free(err);
		return NULL;
	}
	return t;
}

void cli_cmd_show_table(struct cli_ctx *cx, int argc, char **argv, struct cli_buf *out)
{
	uint64_t now = stk_now_ms();
	struct stk_filter f;
	struct stktable *t;

	(void)cx;
	if (argc < 3) {
		for (unsigned i = 0; (t = stk_conf_table(rt.conf, i)); i++)
			table_line(out, t, now);
		return;
	}
	t = table_and_filter(argc, argv, &f, out);
	if (!t)
		return;
	table_line(out, t, now);
	stk_dump(t, &f, now, dump_entry, out);
}

void cli_cmd_clear_table(struct cli_ctx *cx, int argc, char **argv, struct cli_buf *out)
{
	struct stk_filter f;
	struct stktable *t;

	(void)cx;
	if (argc < 3) {
		cli_printf(out, "Missing table name.\n");
		return;
	}
	t = table_and_filter(argc, argv, &f, out);
	if (t)
		stk_clear(t, &f, stk_now_ms());
}
