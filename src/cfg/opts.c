/* opts.c — the dispatcher of keyword-line options (`bind`, `server`):
 * lookup, argument count, refusal of unsupported options, suggestions. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cfg/cfg.h"
#include "cfg/opts.h"

/* The best entry of t matching word: an exact name, else the longest
 * matching "prefix*"; NULL when none matches. */
static const struct cfg_opt *opt_lookup(const struct cfg_opt_table *t, const char *word)
{
	const struct cfg_opt *best = NULL;
	size_t best_score = 0;

	for (size_t i = 0; i < t->n; i++) {
		size_t m = cfg_name_match(t->opts[i].name, word);

		if (m > best_score) {
			best = &t->opts[i];
			best_score = m;
		}
	}
	return best;
}

/* Writes a message of the dispatcher into *err, after "'<subject>': " when
 * there is a subject. */
static void opt_err(char **err, const char *subject, const char *fmt, ...) DP_PRINTF(3, 4);
static void opt_err(char **err, const char *subject, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmemprintf(err, fmt, ap);
	va_end(ap);
	if (subject && *err) {
		char *m = NULL;

		memprintf(&m, "'%s': %s", subject, *err);
		free(*err);
		*err = m;
	}
}

/* Writes "unknown option '<word>'", with the closest name of t when one is
 * close enough. */
static void opt_unknown(const struct cfg_opt_table *t, const char *word, const char *subject, char **err)
{
	const char *names[256];
	size_t n = 0;
	const char *best;

	for (size_t i = 0; i < t->n && n + 1 < ARRAY_SIZE(names); i++)
		if (!(t->opts[i].flags & CFG_OPT_F_NOSUGGEST) && !cfg_name_is_prefix(t->opts[i].name))
			names[n++] = t->opts[i].name;
	names[n] = NULL;
	best = cfg_suggest(word, names);
	if (best)
		opt_err(err, subject, "unknown option '%s'; did you mean '%s' maybe ?", word, best);
	else
		opt_err(err, subject, "unknown option '%s'", word);
}

int cfg_opts_parse(const struct cfg_opt_table *t, void *obj, int argc, char **argv, const char *subject,
		   char **err)
{
	int i = 0;

	while (i < argc) {
		const struct cfg_opt *o = opt_lookup(t, argv[i]);
		int r;

		if (!o) {
			opt_unknown(t, argv[i], subject, err);
			return -EINVAL;
		}
		if (o->nargs > 0 && i + o->nargs >= argc) {
			if (t->flags & CFG_OPTS_COUNT_ARGS)
				opt_err(err, subject, "option '%s' expects %d argument%s", argv[i], o->nargs,
					o->nargs > 1 ? "s" : "");
			else
				opt_err(err, subject, "option '%s' expects an argument", argv[i]);
			return -EINVAL;
		}
		if (!o->fn) {
			opt_err(err, subject, "option '%s' is not supported: %s", argv[i], o->why);
			return -EINVAL;
		}
		r = o->fn(obj, argc - i, argv + i, err);
		if (r < 0)
			return r;
		i += 1 + (o->nargs == CFG_OPT_VARARGS ? r : o->nargs);
	}
	return 0;
}
