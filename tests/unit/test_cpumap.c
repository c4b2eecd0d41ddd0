/* Unit tests: `cpu-map` parsed into per-thread CPU sets (ctl/cpumap.c). */
#include "config.h"

#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
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
	/* the CPUs of each thread named, after the cpu-map lines */
	static const struct {
		const char *lines;
		struct { unsigned tid; const char *cpus; } want[6];
	} sets[] = {
		{ " cpu-map 1/1-2 0-1\n", { { 1, "0,1" }, { 2, "0,1" }, { 3, "-" } } },
		/* auto: one CPU each, in order; lists with commas and several args */
		{ " cpu-map auto:1/1-3 4,6 9\n", { { 1, "4" }, { 2, "6" }, { 3, "9" } } },
		/* no thread set: every thread; a later line wins for its threads */
		{ " cpu-map 1 0-3\n cpu-map 1/even 7\n",
		  { { 1, "0,1,2,3" }, { 2, "7" }, { 63, "0,1,2,3" }, { 64, "7" }, { 65, "-" } } },
		/* auto: with a process set of one and a single thread: one CPU */
		{ " cpu-map auto:all/odd 0-31\n", { { 1, "0" }, { 3, "1" }, { 63, "31" }, { 2, "-" } } },
	};
	char b[64];

	(void)state;
	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		int e;
		struct dp_config *c = parse_lines(sets[i].lines, &e);

		if (e != 0)
			fail_msg("'%s': %d error(s): %s", sets[i].lines, e, msgs);
		for (size_t k = 0; k < 6 && sets[i].want[k].cpus; k++) {
			const char *got = cpus_of(c, sets[i].want[k].tid, b, sizeof(b));

			if (strcmp(got, sets[i].want[k].cpus))
				fail_msg("'%s': thread %u has CPUs %s, expected %s", sets[i].lines,
					 sets[i].want[k].tid, got, sets[i].want[k].cpus);
		}
		dp_config_put(c);
	}
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

/* HAProxy's default nbthread: the CPUs of the affinity mask when first
 * asked, kept afterwards. Run in a child pinned to one CPU (the parent's
 * count is taken unpinned, and kept for the other tests). */
static void test_default(void **state)
{
	cpu_set_t all, one;
	unsigned got[4] = { 0 }, want;
	int p[2], st, first = -1;
	pid_t pid;

	(void)state;
	assert_int_equal(sched_getaffinity(0, sizeof(all), &all), 0);
	for (int i = 0; i < CPU_SETSIZE && first < 0; i++)
		if (CPU_ISSET(i, &all))
			first = i;
	CPU_ZERO(&one);
	CPU_SET(first, &one);
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct dp_config *c;
		int e;

		close(p[0]);
		if (sched_setaffinity(0, sizeof(one), &one) < 0)
			_exit(2);
		got[0] = cpumap_default_threads();
		/* the affinity widened afterwards: the count stays */
		if (sched_setaffinity(0, sizeof(all), &all) < 0)
			_exit(2);
		got[1] = cpumap_default_threads();
		c = parse_lines("", &e);
		got[2] = c ? cpumap_running_threads(c) : 0;
		dp_config_put(c);
		c = parse_lines(" nbthread 3\n", &e);
		got[3] = c ? cpumap_running_threads(c) : 0;
		dp_config_put(c);
		_exit(write(p[1], got, sizeof(got)) == (ssize_t)sizeof(got) ? 0 : 3);
	}
	close(p[1]);
	assert_int_equal(read(p[0], got, sizeof(got)), (ssize_t)sizeof(got));
	close(p[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(got[0], 1);    /* one CPU: one thread */
	assert_int_equal(got[1], 1);    /* kept */
	assert_int_equal(got[2], 1);    /* nbthread unset */
	assert_int_equal(got[3], 3);    /* explicit wins */

	want = (unsigned)CPU_COUNT(&all);
	if (want > 64)
		want = 64;
	assert_int_equal(cpumap_default_threads(), want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default),
		cmocka_unit_test(test_sets),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_other_process),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
