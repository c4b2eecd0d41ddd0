/* Unit tests: `cpu-map` parsed into per-thread CPU sets (ctl/cpumap.c). */
#include "config.h"

#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cfg/cfg.h"
#include "model/conf.h"
#include "log/msg.h"
#include "ctl/module.h"
#include "ctl/cpumap.h"

#include "helpers.h"

static struct dp_config *parse_lines(const char *lines, int *errors)
{
	char buf[1024];
	struct dp_config *c;

	snprintf(buf, sizeof(buf), "global\n%sfrontend f\n bind 127.0.0.1:1\n default_backend b\n"
		 "backend b\n server s 127.0.0.1:2\n", lines);
	ha_msg_hook = capture;
	dp_msg.quiet = true;
	*errors = parse_ex(buf, false, &c);
	return c;
}

/* The CPUs of thread tid as "0,2,3" ("-" when unbound). */
static const char *cpus_of(const struct dp_config *c, unsigned tid, char *buf, size_t cap)
{
	cpu_set_t s;
	size_t n = 0;

	if (!cpumap_thread_set(c, tid, &s))
		return "-";
	buf[0] = 0;
	for (int i = 0; i < CPU_SETSIZE && n < cap; i++)
		if (CPU_ISSET(i, &s))
			n += (size_t)snprintf(buf + n, cap - n, "%s%d", n ? "," : "", i);
	return buf;
}

static void test_sets(void **state)
{
	struct dp_config *c;
	char b[64];
	int e;

	(void)state;
	c = parse_lines(" cpu-map 1/1-2 0-1\n", &e);
	assert_int_equal(e, 0);
	assert_string_equal(cpus_of(c, 1, b, sizeof(b)), "0,1");
	assert_string_equal(cpus_of(c, 2, b, sizeof(b)), "0,1");
	assert_string_equal(cpus_of(c, 3, b, sizeof(b)), "-");
	dp_config_put(c);

	/* auto: one CPU each, in order; lists with commas and several args */
	c = parse_lines(" cpu-map auto:1/1-3 4,6 9\n", &e);
	assert_int_equal(e, 0);
	assert_string_equal(cpus_of(c, 1, b, sizeof(b)), "4");
	assert_string_equal(cpus_of(c, 2, b, sizeof(b)), "6");
	assert_string_equal(cpus_of(c, 3, b, sizeof(b)), "9");
	dp_config_put(c);

	/* no thread set: every thread; a later line wins for its threads */
	c = parse_lines(" cpu-map 1 0-3\n cpu-map 1/even 7\n", &e);
	assert_int_equal(e, 0);
	assert_string_equal(cpus_of(c, 1, b, sizeof(b)), "0,1,2,3");
	assert_string_equal(cpus_of(c, 2, b, sizeof(b)), "7");
	assert_string_equal(cpus_of(c, 63, b, sizeof(b)), "0,1,2,3");
	assert_string_equal(cpus_of(c, 64, b, sizeof(b)), "7");
	assert_string_equal(cpus_of(c, 65, b, sizeof(b)), "-");
	dp_config_put(c);

	/* auto: with a process set of one and a single thread: one CPU */
	c = parse_lines(" cpu-map auto:all/odd 0-31\n", &e);
	assert_int_equal(e, 0);
	assert_string_equal(cpus_of(c, 1, b, sizeof(b)), "0");
	assert_string_equal(cpus_of(c, 3, b, sizeof(b)), "1");
	assert_string_equal(cpus_of(c, 63, b, sizeof(b)), "31");
	assert_string_equal(cpus_of(c, 2, b, sizeof(b)), "-");
	dp_config_put(c);
}

static void test_errors(void **state)
{
	static const struct { const char *line, *msg; } bad[] = {
		{ " cpu-map 1/0 0\n", "[t.cfg:2] : 'cpu-map': '0' is not a valid thread set" },
		{ " cpu-map 1/2-1 0\n", "'2-1' is not a valid thread set" },
		{ " cpu-map 1/1x 0\n", "'1x' is not a valid thread set" },
		{ " cpu-map 0/1 0\n", "'0' is not a valid process set" },
		{ " cpu-map 1/1 1024\n", "'1024' is not a valid CPU set" },
		{ " cpu-map 1/1 0,\n", "'0,' is not a valid CPU set" },
		{ " cpu-map 1/1 -1\n", "'-1' is not a valid CPU set" },
		{ " cpu-map 1/1\n", "expects [auto:]<process-set>[/<thread-set>]" },
		{ " cpu-map auto:1/1-4 0-2\n", "same size (4 in the range, 3 CPUs)" },
		{ " cpu-map auto:1/1 0-1\n", "same size (1 in the range, 2 CPUs)" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int e;
		struct dp_config *c = parse_lines(bad[i].line, &e);

		if (e == 0 || !strstr(msgs, bad[i].msg))
			fail_msg("'%s': expected an error with \"%s\", got %d error(s): %s", bad[i].line, bad[i].msg,
				 e, msgs);
		dp_config_put(c);
	}
}

static void test_other_process(void **state)
{
	struct dp_config *c;
	int e;

	(void)state;
	c = parse_lines(" cpu-map 2/1 0\n", &e);
	assert_int_equal(e, 0);
	assert_non_null(strstr(msgs, "WARNING: config : parsing [t.cfg:2] : 'cpu-map': process set '2' does not name process 1"));
	assert_false(cpumap_thread_set(c, 1, &(cpu_set_t){ 0 }));
	dp_config_put(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sets),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_other_process),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
