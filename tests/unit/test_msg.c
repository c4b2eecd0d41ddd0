/* test_msg.c — process messages (log/msg.c): each message is printed once
 * where it lands. A global `log stdout` target that is the same file as
 * stderr (a terminal, `2>&1`) used to show every notice twice, once with its
 * [NOTICE] prefix on stderr and once raw through the log target. Four
 * threads printing long messages at once, while the global targets are
 * swapped, never interleave inside a line (run under ThreadSanitizer by
 * make check-tsan). */
#include "config.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log/log.h"
#include "log/msg.h"

/* Occurrences of needle in s. */
static int count(const char *s, const char *needle)
{
	int n = 0;

	for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* Everything readable now from fd (non-blocking), NUL-terminated. */
static void drain(int fd, char *buf, size_t cap)
{
	size_t len = 0;
	ssize_t r;

	while (len + 1 < cap && (r = read(fd, buf + len, cap - 1 - len)) > 0)
		len += (size_t)r;
	buf[len] = '\0';
}

struct lab {
	int err_pipe[2];        /* what stderr shows */
	int tgt_pipe[2];        /* where the log target writes, when not stderr's */
	int saved_stderr;
	struct log_list targets;
};

/* stderr -> err_pipe; one raw log target "fd@<n>" on the write end of
 * err_pipe (same_as_stderr) or of tgt_pipe. */
static void lab_start(struct lab *l, bool same_as_stderr)
{
	char fdname[32], *err = NULL;
	char *argv[4];
	struct log_target *t = NULL;
	int tfd;

	memset(l, 0, sizeof(*l));
	assert_int_equal(pipe2(l->err_pipe, O_NONBLOCK), 0);
	assert_int_equal(pipe2(l->tgt_pipe, O_NONBLOCK), 0);
	fflush(stderr);
	l->saved_stderr = dup(STDERR_FILENO);
	assert_true(l->saved_stderr >= 0);
	assert_true(dup2(l->err_pipe[1], STDERR_FILENO) >= 0);
	/* another descriptor of the same pipe: what `log stdout` is when both
	 * streams go to one terminal or file */
	tfd = dup(same_as_stderr ? l->err_pipe[1] : l->tgt_pipe[1]);
	assert_true(tfd > STDERR_FILENO);
	snprintf(fdname, sizeof(fdname), "fd@%d", tfd);
	argv[0] = fdname;
	argv[1] = "format";
	argv[2] = "raw";
	argv[3] = "local0";
	assert_int_equal(log_target_parse(4, argv, &t, &err), 0);
	assert_int_equal(log_target_open(t, &err), 0);
	assert_int_equal(log_list_add(&l->targets, t), 0);
	msg_set_targets(&l->targets, "test");
}

static void lab_stop(struct lab *l, char *err_out, char *tgt_out, size_t cap)
{
	fflush(stderr);
	msg_set_targets(NULL, NULL);
	dup2(l->saved_stderr, STDERR_FILENO);
	close(l->saved_stderr);
	drain(l->err_pipe[0], err_out, cap);
	drain(l->tgt_pipe[0], tgt_out, cap);
	for (int i = 0; i < 2; i++) {
		close(l->err_pipe[i]);
		close(l->tgt_pipe[i]);
	}
	/* an fd target borrows its fd: the test closes what it opened */
	for (size_t i = 0; i < l->targets.n; i++) {
		int fd = l->targets.v[i]->fd;

		log_target_free(l->targets.v[i]);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	log_list_free(&l->targets);
}

/* log target on the same file as stderr: every message once, prefixed. */
static void test_once_when_target_is_stderr(void **state)
{
	struct lab l;
	char e[4096], t[4096];

	(void)state;
	dp_msg.quiet = false;
	lab_start(&l, true);
	ha_notice("Proxy %s started.", "p1");
	ha_warning("a warning %d", 7);
	ha_alert("an alert");
	lab_stop(&l, e, t, sizeof(e));
	assert_int_equal(count(e, "Proxy p1 started."), 1);
	assert_int_equal(count(e, "[NOTICE]"), 1);
	assert_int_equal(count(e, "a warning 7"), 1);
	assert_int_equal(count(e, "an alert"), 1);
	assert_string_equal(t, "");
}

/* a log target elsewhere (a file, a pipe to a collector) still gets each
 * message, raw, and stderr gets it prefixed. */
static void test_both_when_target_is_elsewhere(void **state)
{
	struct lab l;
	char e[4096], t[4096];

	(void)state;
	dp_msg.quiet = false;
	lab_start(&l, false);
	ha_notice("Proxy %s started.", "p2");
	lab_stop(&l, e, t, sizeof(e));
	assert_int_equal(count(e, "Proxy p2 started."), 1);
	assert_non_null(strstr(e, "[NOTICE]"));
	assert_string_equal(t, "Proxy p2 started.\n");
}

/* quiet: stderr shows no notice, so the target on the same file shows it
 * (once, raw); an alert is still shown on stderr, once. */
static void test_quiet_goes_to_target_once(void **state)
{
	struct lab l;
	char e[4096], t[4096];

	(void)state;
	dp_msg.quiet = true;
	lab_start(&l, true);
	ha_notice("quiet notice");
	ha_alert("loud alert");
	lab_stop(&l, e, t, sizeof(e));
	dp_msg.quiet = false;
	assert_int_equal(count(e, "quiet notice"), 1);
	assert_null(strstr(e, "[NOTICE]"));
	assert_int_equal(count(e, "loud alert"), 1);
	assert_non_null(strstr(e, "[ALERT]"));
}

/* ---- several threads ---- */

#define NTHR 4
#define MT_MSGS 40
#define MT_LEN 9000     /* above stdio's 8 KiB helper buffer of stderr */

static char mt_pad[MT_LEN + 1];

static void *mt_talker(void *arg)
{
	unsigned no = (unsigned)(uintptr_t)arg;

	for (unsigned i = 0; i < MT_MSGS; i++)
		ha_warning("T%u %u %s E", no, i, mt_pad);
	return NULL;
}

/* four threads warn at once (stderr: a file opened O_APPEND) while the
 * control thread swaps the global targets: every line whole */
static void test_threads_whole_lines(void **state)
{
	char path[] = "/tmp/test_msg.XXXXXX", *line = NULL, t[4096];
	struct lab l;
	pthread_t th[NTHR];
	unsigned seen[NTHR] = { 0 }, lines = 0;
	size_t cap = 0;
	int fd, saved;
	FILE *f;

	(void)state;
	dp_msg.quiet = false;
	memset(mt_pad, 'x', MT_LEN);
	lab_start(&l, false);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	fd = open(path, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	saved = dup(STDERR_FILENO);
	assert_true(dup2(fd, STDERR_FILENO) >= 0);
	for (uintptr_t k = 0; k < NTHR; k++)
		assert_int_equal(pthread_create(&th[k], NULL, mt_talker, (void *)k), 0);
	for (unsigned i = 0; i < 200; i++)
		msg_set_targets(i & 1 ? NULL : &l.targets, "test");
	for (unsigned k = 0; k < NTHR; k++)
		pthread_join(th[k], NULL);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fd);
	lab_stop(&l, t, t, sizeof(t));
	f = fopen(path, "r");
	assert_non_null(f);
	while (getline(&line, &cap, f) > 0) {
		static char want[MT_LEN + 128];
		unsigned no, i;
		char *p = strstr(line, " : T");

		assert_non_null(p);
		assert_int_equal(sscanf(p, " : T%u %u ", &no, &i), 2);
		assert_true(no < NTHR && i == seen[no]);
		snprintf(want, sizeof(want), "[WARNING]  (%d) : T%u %u %s E\n", (int)getpid(), no, i, mt_pad);
		assert_string_equal(line, want);
		seen[no]++;
		lines++;
	}
	free(line);
	fclose(f);
	unlink(path);
	assert_int_equal(lines, NTHR * MT_MSGS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_once_when_target_is_stderr),
		cmocka_unit_test(test_both_when_target_is_elsewhere),
		cmocka_unit_test(test_quiet_goes_to_target_once),
		cmocka_unit_test(test_threads_whole_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
