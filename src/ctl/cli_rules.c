/* cli_rules.c — the stats socket's map and ACL commands (HAProxy's):
 *   show map [<map>]            show acl [<acl>]
 *   add map <map> <key> <value> add acl <acl> <pattern>
 *   set map <map> <key> <value> del acl <acl> <pattern>
 *   del map <map> <key>         clear acl <acl>
 *   clear map <map>
 * <map> / <acl> is the file name or "#<id>" as `show map` / `show acl`
 * list them. Changes apply to the next connection and last until the next
 * reload, which reads the files again (as HAProxy). They are made on the
 * loop thread, between events: no connection sees half a change.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/common.h"
#include "model/conf.h"
#include "core/loop.h"
#include "rules/pattern.h"
#include "ctl/cli.h"
#include "ctl/cli_int.h"

static void list_refs(struct cli_buf *out, bool is_map)
{
	struct pat_refs *refs = pat_refs_of(rt.conf, false);

	cli_printf(out, "# id (file) description\n");
	for (struct pat_ref *r = refs ? refs->head : NULL; r; r = r->next)
		if (r->is_map == is_map)
			cli_printf(out, "%u (%s) %s. entry_cnt=%zu\n", r->id, r->path ? r->path : "", r->desc, r->n);
}

static struct pat_ref *find_ref(struct cli_buf *out, const char *name, bool is_map)
{
	struct pat_ref *r = pat_ref_find(pat_refs_of(rt.conf, false), name, is_map);

	if (!r)
		cli_printf(out, "Unknown %s identifier. Please use #<id> or <file>.\n", is_map ? "map" : "ACL");
	return r;
}

static void show(struct cli_buf *out, int argc, char **argv, bool is_map)
{
	struct pat_ref *r;

	if (argc < 3) {
		list_refs(out, is_map);
		return;
	}
	r = find_ref(out, argv[2], is_map);
	if (!r)
		return;
	for (struct pat_elt *e = r->head; e; e = e->next) {
		if (is_map)
			cli_printf(out, "%p %s %s\n", (void *)e, e->key, e->value ? e->value : "");
		else
			cli_printf(out, "%p %s\n", (void *)e, e->key);
	}
}

void cli_cmd_show_map(struct cli_ctx *cx, int argc, char **argv, struct cli_buf *out)
{
	show(out, argc, argv, true);
}

void cli_cmd_show_acl(struct cli_ctx *cx, int argc, char **argv, struct cli_buf *out)
{
	show(out, argc, argv, false);
}

/* The words from argv[i] on, joined by single spaces (a map value). */
static char *join(int argc, char **argv, int i)
{
	char *s = NULL;

	for (; i < argc; i++)
		memprintf(&s, "%s%s%s", s ? s : "", s ? " " : "", argv[i]);
	return s;
}

/* add|set|del|clear map|acl ... */
void cli_cmd_change_pattern(struct cli_ctx *cx, int argc, char **argv, struct cli_buf *out)
{
	bool is_map = !strcmp(argv[1], "map");
	const char *op = argv[0];
	struct pat_ref *r;
	char *err = NULL, *v = NULL;
	int n;

	if (argc < 3) {
		cli_printf(out, "Missing %s identifier.\n", is_map ? "map" : "ACL");
		return;
	}
	r = find_ref(out, argv[2], is_map);
	if (!r)
		return;
	if (!strcmp(op, "clear")) {
		pat_ref_clear(r);
		return;
	}
	if (argc < 4) {
		cli_printf(out, "'%s %s' expects a %s.\n", op, argv[1], is_map ? "key" : "pattern");
		return;
	}
	if (!strcmp(op, "del")) {
		if (argc > 4) {
			cli_printf(out, "'del %s' expects one %s.\n", argv[1], is_map ? "key" : "pattern");
			return;
		}
		n = pat_ref_del(r, argv[3]);
		if (!n)
			cli_printf(out, "Key not found.\n");
		return;
	}
	if (is_map && argc < 5) {
		cli_printf(out, "'%s map' expects a key and a value.\n", op);
		return;
	}
	if (!is_map && argc > 4) {
		cli_printf(out, "'%s acl' expects one pattern (quote it when it holds spaces).\n", op);
		return;
	}
	if (is_map && !(v = join(argc, argv, 4))) {
		cli_printf(out, "Out of memory.\n");
		return;
	}
	if (!strcmp(op, "add")) {
		if (pat_ref_add(r, argv[3], v, &err) < 0)
			cli_printf(out, "%s.\n", err ? err : "Out of memory");
	} else if (!is_map) {
		cli_printf(out, "'set acl' does not exist: use 'add acl' and 'del acl'.\n");
	} else {
		n = pat_ref_set(r, argv[3], v, &err);
		if (n < 0)
			cli_printf(out, "%s.\n", err ? err : "Out of memory");
		else if (!n)
			cli_printf(out, "Key not found.\n");
	}
	free(err);
	free(v);
}
