/* Unit tests: cfg/opts — the dispatcher of keyword-line options (lookup,
 * argument counts, refused options, suggestions, variable word counts),
 * on a table of its own so that each rule is seen alone. The `bind` and
 * `server` tables are tested through the config reader in test_cfg.c. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cfg/opts.h"
#include "cfg/value.h"

struct toy {
	int flags;
	unsigned long long num;
	int pair_words;
	int var_words;
	char prefixed[32];      /* copied: the words do not outlive run() */
};

static int t_flag(void *obj, int argc, char **argv, char **err)
{
	((struct toy *)obj)->flags++;
	return 0;
}

static int t_num(void *obj, int argc, char **argv, char **err)
{
	return cfg_opt_uint("num", argv[1], 10, &((struct toy *)obj)->num, err);
}

static int t_pair(void *obj, int argc, char **argv, char **err)
{
	((struct toy *)obj)->pair_words = argc > 2 ? 2 : -1;
	return 0;
}

/* "var <word>... end": takes every word up to and including "end" */
static int t_var(void *obj, int argc, char **argv, char **err)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "end")) {
			((struct toy *)obj)->var_words = i;
			return i;
		}
	}
	memprintf(err, "'var' expects words up to 'end'");
	return -EINVAL;
}

static int t_prefixed(void *obj, int argc, char **argv, char **err)
{
	snprintf(((struct toy *)obj)->prefixed, sizeof(((struct toy *)obj)->prefixed), "%s", argv[0]);
	return 0;
}

static const struct cfg_opt toy_opts[] = {
	{ "flag", 0, t_flag, NULL, 0 },
	{ "num", 1, t_num, NULL, 0 },
	{ "pair", 2, t_pair, NULL, 0 },
	{ "var", CFG_OPT_VARARGS, t_var, NULL, 0 },
	{ "secret", 0, t_flag, NULL, CFG_OPT_F_NOSUGGEST },
	{ "x-*", 0, t_prefixed, NULL, 0 },
	{ "x-exact", 0, t_flag, NULL, 0 },
	{ "tls", 1, NULL, "no TLS here", 0 },
	{ "quic", 0, NULL, "no QUIC either", 0 },
};

static const struct cfg_opt_table plain = { toy_opts, ARRAY_SIZE(toy_opts), 0 };
static const struct cfg_opt_table counted = { toy_opts, ARRAY_SIZE(toy_opts), CFG_OPTS_COUNT_ARGS };

/* Splits line (modified in place) into at most 16 words. */
static int words(char *line, char **argv)
{
	int n = 0;

	for (char *w = strtok(line, " "); w && n < 16; w = strtok(NULL, " "))
		argv[n++] = w;
	return n;
}

/* Runs the dispatcher on line; returns its result, *msg the message (or ""). */
static int run(const struct cfg_opt_table *t, struct toy *toy, const char *line, const char *subject,
	       char *msg, size_t cap)
{
	char buf[256], *argv[16], *err = NULL;
	int argc, r;

	snprintf(buf, sizeof(buf), "%s", line);
	argc = words(buf, argv);
	memset(toy, 0, sizeof(*toy));
	r = cfg_opts_parse(t, toy, argc, argv, subject, &err);
	snprintf(msg, cap, "%s", err ? err : "");
	free(err);
	return r;
}

static void test_every_kind_of_entry(void **state)
{
	struct toy t;
	char m[256];

	assert_int_equal(run(&plain, &t, "flag num 7 pair a b var 1 2 end x-anything x-exact flag", NULL, m, sizeof(m)), 0);
	assert_string_equal(m, "");
	assert_int_equal(t.flags, 3);            /* flag, x-exact (exact beats the prefix), flag */
	assert_int_equal(t.num, 7);
	assert_int_equal(t.pair_words, 2);
	assert_int_equal(t.var_words, 3);        /* "1 2 end": the words after "var" */
	assert_string_equal(t.prefixed, "x-anything");
	/* no option at all */
	assert_int_equal(run(&plain, &t, "", NULL, m, sizeof(m)), 0);
}

static void test_unknown_option_suggests(void **state)
{
	struct toy t;
	char m[256];

	assert_int_equal(run(&plain, &t, "flagg", NULL, m, sizeof(m)), -EINVAL);
	assert_string_equal(m, "unknown option 'flagg'; did you mean 'flag' maybe ?");
	/* with a subject, as `bind` names its addresses */
	assert_int_equal(run(&plain, &t, "flag nun 3", ":80", m, sizeof(m)), -EINVAL);
	assert_string_equal(m, "':80': unknown option 'nun'; did you mean 'num' maybe ?");
	assert_int_equal(t.flags, 1);            /* what came before the error was applied */
	assert_int_equal(run(&plain, &t, "zzzzzzzz", NULL, m, sizeof(m)), -EINVAL);
	assert_string_equal(m, "unknown option 'zzzzzzzz'");
	/* neither a CFG_OPT_F_NOSUGGEST entry nor a prefix is offered */
	assert_int_equal(run(&plain, &t, "secrat", NULL, m, sizeof(m)), -EINVAL);
	assert_string_equal(m, "unknown option 'secrat'");
	assert_int_equal(run(&plain, &t, "x", NULL, m, sizeof(m)), -EINVAL);
	assert_string_equal(m, "unknown option 'x'");
	/* a hidden entry still works */
	assert_int_equal(run(&plain, &t, "secret", NULL, m, sizeof(m)), 0);
}

static void test_missing_argument(void **state)
{
	struct toy t;
	char m[256];

	/* `bind` wording */
	assert_int_equal(run(&plain, &t, "flag num", ":80", m, sizeof(m)), -EINVAL);
	assert_string_equal(m, "':80': option 'num' expects an argument");
	assert_int_equal(run(&plain, &t, "pair a", NULL, m, sizeof(m)), -EINVAL);
	assert_string_equal(m, "option 'pair' expects an argument");
	/* `server` wording */
	assert_int_equal(run(&counted, &t, "num", NULL, m, sizeof(m)), -EINVAL);
	assert_string_equal(m, "option 'num' expects 1 argument");
	assert_int_equal(run(&counted, &t, "pair a", NULL, m, sizeof(m)), -EINVAL);
	assert_string_equal(m, "option 'pair' expects 2 arguments");
	/* a refused option is first checked for its argument */
	assert_int_equal(run(&counted, &t, "tls", NULL, m, sizeof(m)), -EINVAL);
	assert_string_equal(m, "option 'tls' expects 1 argument");
	/* a variable-length option checks its words itself */
	assert_int_equal(run(&plain, &t, "var a b", NULL, m, sizeof(m)), -EINVAL);
	assert_string_equal(m, "'var' expects words up to 'end'");
}

static void test_unsupported_option(void **state)
{
	struct toy t;
	char m[256];

	assert_int_equal(run(&plain, &t, "tls x", NULL, m, sizeof(m)), -EINVAL);
	assert_string_equal(m, "option 'tls' is not supported: no TLS here");
	assert_int_equal(run(&counted, &t, "flag quic", "10.0.0.1:80", m, sizeof(m)), -EINVAL);
	assert_string_equal(m, "'10.0.0.1:80': option 'quic' is not supported: no QUIC either");
}

static void test_handler_message_passed_on(void **state)
{
	struct toy t;
	char m[256];

	/* the handler's own words, without the dispatcher's subject */
	assert_int_equal(run(&plain, &t, "num 11", ":80", m, sizeof(m)), -EINVAL);
	assert_string_equal(m, "'num' expects an integer from 0 to 10, got '11'");
	assert_int_equal(run(&plain, &t, "num -1", NULL, m, sizeof(m)), -EINVAL);
	assert_string_equal(m, "'num' expects an integer from 0 to 10, got '-1'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_kind_of_entry),
		cmocka_unit_test(test_unknown_option_suggests),
		cmocka_unit_test(test_missing_argument),
		cmocka_unit_test(test_unsupported_option),
		cmocka_unit_test(test_handler_message_passed_on),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
