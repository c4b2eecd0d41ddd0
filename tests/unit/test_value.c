/* Unit tests: cfg/value — numbers, times and word counts of configuration
 * words and their messages (and lib's str_to_uint under them). How they
 * read after "file:line" in the config reader is in test_cfg.c. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cfg/value.h"

static void test_uint_parse(void **state)
{
	unsigned long long v = 0;

	assert_int_equal(cfg_parse_uint("0", 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(cfg_parse_uint("10", 10, &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(cfg_parse_uint("007", 10, &v), 0);   /* decimal, never octal */
	assert_int_equal(v, 7);
	assert_int_equal(cfg_parse_uint("11", 10, &v), -ERANGE);
	assert_int_equal(cfg_parse_uint("99999999999999999999999", ULLONG_MAX, &v), -ERANGE);
	assert_int_equal(cfg_parse_uint("18446744073709551615", ULLONG_MAX, &v), 0);
	assert_true(v == ULLONG_MAX);
	v = 42;
	/* only digits: no sign, blank, base prefix, unit, nor an empty word */
	for (const char *const *s = (const char *const[]){ "", "-1", "+1", " 1", "1 ", "0x10", "1k", "x", NULL }; *s; s++)
		assert_int_equal(cfg_parse_uint(*s, ULLONG_MAX, &v), -EINVAL);
	assert_int_equal(cfg_parse_uint(NULL, 10, &v), -EINVAL);
	assert_int_equal(v, 42);                              /* untouched on failure */
	/* lib's parser is the same one */
	assert_int_equal(str_to_uint("65535", 65535, &v), 0);
	assert_int_equal(str_to_uint("65536", 65535, &v), -ERANGE);
	assert_int_equal(str_to_uint("6553x", 65535, &v), -EINVAL);
}

static void test_uint_messages(void **state)
{
	unsigned long long v;
	char *err = NULL;

	assert_int_equal(cfg_opt_uint("weight", "256", 256, &v, &err), 0);
	assert_int_equal(v, 256);
	assert_null(err);
	assert_int_equal(cfg_opt_uint("weight", "257", 256, &v, &err), -EINVAL);
	assert_string_equal(err, "'weight' expects an integer from 0 to 256, got '257'");
	assert_int_equal(cfg_opt_uint("maxconn", "99999999999999999999", 10000000, &v, &err), -EINVAL);
	assert_string_equal(err, "'maxconn' expects an integer from 0 to 10000000, got '99999999999999999999'");

	assert_int_equal(cfg_kw_uint("1", 1, 10000000, &v, &err), 0);
	assert_int_equal(v, 1);
	assert_int_equal(cfg_kw_uint("0", 1, 10000000, &v, &err), -EINVAL);
	assert_string_equal(err, "invalid value '0' (expects an integer from 1 to 10000000)");
	assert_int_equal(cfg_kw_uint("2147483648", 0, INT_MAX, &v, &err), -EINVAL);
	assert_string_equal(err, "invalid value '2147483648' (expects an integer from 0 to 2147483647)");
	assert_int_equal(cfg_kw_uint("lots", 0, 10000000, &v, &err), -EINVAL);
	assert_string_equal(err, "invalid value 'lots' (expects an integer from 0 to 10000000)");
	free(err);
}

static void test_time_messages(void **state)
{
	long long ms = 0;
	char *err = NULL;

	assert_int_equal(cfg_time_arg("inter", "2s", &ms, &err), 0);
	assert_int_equal(ms, 2000);
	assert_null(err);
	assert_int_equal(cfg_time_arg("inter", "2147483647", &ms, &err), 0);
	assert_int_equal(ms, CFG_TIMER_MAX_MS);
	/* HAProxy's overflow message */
	assert_int_equal(cfg_time_arg("timeout client", "30d", &ms, &err), -ERANGE);
	assert_string_equal(err, "timer overflow in argument '30d' to 'timeout client' (maximum value is 2147483647 ms or ~24.8 days)");
	assert_int_equal(cfg_time_arg("inter", "99999999999999999999999", &ms, &err), -ERANGE);
	assert_string_equal(err, "timer overflow in argument '99999999999999999999999' to 'inter' (maximum value is 2147483647 ms or ~24.8 days)");
	free(err);
	err = NULL;
	/* not a time: no message, the keyword words it */
	assert_int_equal(cfg_time_arg("inter", "2x", &ms, &err), -EINVAL);
	assert_null(err);
	assert_int_equal(cfg_time_arg("inter", "-1", &ms, &err), -EINVAL);
	assert_null(err);
}

static void test_word_counts(void **state)
{
	char *a0[] = { "kw" }, *a1[] = { "kw", "x" }, *a2[] = { "kw", "x", "y" }, *a3[] = { "kw", "x", "y", "z" };
	char *err = NULL;

	assert_int_equal(cfg_need_args(2, a1, 1, &err), 0);
	assert_int_equal(cfg_need_args(1, a0, 1, &err), -EINVAL);
	assert_string_equal(err, "expects 1 argument");
	assert_int_equal(cfg_need_args(2, a1, 2, &err), -EINVAL);
	assert_string_equal(err, "expects 2 arguments");

	assert_int_equal(cfg_max_args(3, a2, 2, &err), 0);
	assert_int_equal(cfg_max_args(4, a3, 2, &err), -EINVAL);
	assert_string_equal(err, "unexpected extra argument 'z'");
	assert_int_equal(cfg_max_args(2, a1, 0, &err), -EINVAL);
	assert_string_equal(err, "unexpected extra argument 'x'");

	assert_int_equal(cfg_one_arg(2, a1, &err), 0);
	assert_int_equal(cfg_one_arg(1, a0, &err), -EINVAL);
	assert_string_equal(err, "expects one argument");
	assert_int_equal(cfg_one_arg(3, a2, &err), -EINVAL);
	assert_string_equal(err, "unexpected extra argument 'y'");

	assert_int_equal(cfg_no_arg(1, a0, &err), 0);
	assert_int_equal(cfg_no_arg(2, a1, &err), -EINVAL);
	assert_string_equal(err, "takes no argument");
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uint_parse),
		cmocka_unit_test(test_uint_messages),
		cmocka_unit_test(test_time_messages),
		cmocka_unit_test(test_word_counts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
