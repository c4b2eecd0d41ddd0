/* opts.h — the options that follow a keyword's own words on its line:
 * "bind <addr> [<option> [<arg>...]]...", "server <name> <addr> [<option>...]",
 * "default-server [<option>...]".
 *
 * The module owning the keyword describes its options in a table (name,
 * number of argument words, handler, or the reason it is refused); one
 * dispatcher walks the words, finds each option, checks that its arguments
 * are there, refuses the known-but-unsupported ones and suggests the nearest
 * name for a misspelt one (cfg_suggest). Pure: it only writes *err.
 */
#ifndef DECOYPROXY_CFG_OPTS_H
#define DECOYPROXY_CFG_OPTS_H

#include "lib/common.h"

/* Option handler. obj is the object the line fills (the table's owner knows
 * its type); argv[0] is the option's name as written and argc counts the
 * words left on the line from argv[0], so argv[1..nargs] are its arguments.
 * Returns 0 — for a CFG_OPT_VARARGS entry, the number of words it used after
 * its name — or a negative errno with the message in *err (left NULL only
 * when out of memory). */
typedef int (*cfg_opt_fn)(void *obj, int argc, char **argv, char **err);

/* nargs of an option whose handler counts (and checks) its own words. */
#define CFG_OPT_VARARGS (-1)

enum {
	/* Never offered as the correction of a misspelt option. */
	CFG_OPT_F_NOSUGGEST = 1 << 0,
};

/* A table entry.
 *  - name: the option, or "prefix*" matching every word that starts with
 *    prefix (like struct cfg_kw; an exact name wins, prefixes are never
 *    suggested).
 *  - nargs: the words it takes after its name, or CFG_OPT_VARARGS.
 *  - fn == NULL: known but refused: "option '<name>' is not supported: <why>"
 *    (after its arguments were found, as a well-formed line is refused for
 *    what it asks, not for how it is written). */
struct cfg_opt {
	const char *name;
	int nargs;
	cfg_opt_fn fn;
	const char *why;
	unsigned flags;     /* CFG_OPT_F_* */
};

enum {
	/* Missing arguments read "option '<name>' expects <n> argument(s)"
	 * (`server`); without it "option '<name>' expects an argument"
	 * (`bind`). */
	CFG_OPTS_COUNT_ARGS = 1 << 0,
};

/* The options of one keyword. */
struct cfg_opt_table {
	const struct cfg_opt *opts;
	size_t n;
	unsigned flags;     /* CFG_OPTS_*: how its messages read */
};

/* Parses every word of argv[0..argc-1] as options of table t, filling obj
 * through the handlers, in order. Messages that the dispatcher writes
 * (unknown option, missing argument, not supported) start with
 * "'<subject>': " when subject is not NULL (`bind` names its addresses
 * there); a handler's message is passed on as it is. Returns 0, or a
 * negative errno with *err set (NULL only when out of memory). Stops at the
 * first error; what the handlers filled before it stays in obj. */
int cfg_opts_parse(const struct cfg_opt_table *t, void *obj, int argc, char **argv, const char *subject,
		   char **err);

#endif
