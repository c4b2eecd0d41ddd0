/* Unit tests: ownership marks and run locks (net/owner.h), in a scratch
 * directory instead of /run/decoyproxy: mark syntax, a live run's lock
 * seen from another open file (as another process sees it), a closed or
 * killed run seen as gone, stale lock files swept, the verdicts, and a
 * directory that others may write refused. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "net/owner.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_owner.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	return chmod(dir, 0755);
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_mark_syntax(void **state)
{
	(void)state;
	assert_true(owner_mark_valid("decoyproxy:0123456789abcdef"));
	assert_false(owner_mark_valid("decoyproxy:0123456789ABCDEF"));
	assert_false(owner_mark_valid("decoyproxy:0123456789abcde"));
	assert_false(owner_mark_valid("decoyproxy:0123456789abcdef0"));
	assert_false(owner_mark_valid("decoyproxy:"));
	assert_false(owner_mark_valid("decoyproxy"));
	assert_false(owner_mark_valid(""));
	assert_false(owner_mark_valid(NULL));
	assert_false(owner_mark_valid("haproxy:0123456789abcdef"));
	assert_int_equal(owner_mark_alive(dir, "not a mark"), -EINVAL);
}

static void test_live_then_gone(void **state)
{
	struct owner_run r, r2;
	char *err = NULL;

	(void)state;
	/* no run ever locked anything here */
	assert_int_equal(owner_mark_alive(dir, "decoyproxy:0123456789abcdef"), 0);
	assert_int_equal(owner_run_open(&r, dir, &err), 0);
	assert_null(err);
	assert_true(owner_mark_valid(r.mark));
	assert_true(r.fd >= 0);
	/* our own lock, looked at through another open file */
	assert_int_equal(owner_mark_alive(dir, r.mark), 1);
	assert_int_equal(owner_run_open(&r2, dir, &err), 0);
	assert_string_not_equal(r.mark, r2.mark);
	assert_int_equal(owner_mark_alive(dir, r2.mark), 1);
	/* another run's mark that was never locked */
	assert_int_equal(owner_mark_alive(dir, "decoyproxy:00000000000000ff"), 0);
	owner_run_close(&r2);
	assert_int_equal(owner_mark_alive(dir, r2.mark), 0);
	assert_int_equal(access(r2.path, F_OK), -1);
	assert_int_equal(owner_mark_alive(dir, r.mark), 1);
	owner_run_close(&r);
	owner_run_close(&r);        /* twice: no-op */
	assert_int_equal(owner_mark_alive(dir, r.mark), 0);
}

static void test_killed_run_is_gone_and_swept(void **state)
{
	struct owner_run r;
	char *err = NULL, path[sizeof(r.path)], mark[sizeof(r.mark)];
	int fds[2], status;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* a run that is killed: its lock file stays, unlocked */
		if (owner_run_open(&r, dir, &err) < 0)
			_exit(1);
		if (write(fds[1], &r, sizeof(r)) != (ssize_t)sizeof(r))
			_exit(1);
		pause();
		_exit(0);
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], &r, sizeof(r)), (ssize_t)sizeof(r));
	close(fds[0]);
	snprintf(path, sizeof(path), "%s", r.path);
	snprintf(mark, sizeof(mark), "%s", r.mark);
	assert_int_equal(owner_mark_alive(dir, mark), 1);
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(access(path, F_OK), 0);
	assert_int_equal(owner_mark_alive(dir, mark), 0);
	/* the next run removes the stale file */
	assert_int_equal(owner_run_open(&r, dir, &err), 0);
	assert_int_equal(access(path, F_OK), -1);
	owner_run_close(&r);
}

static int alive_if_b(void *ctx, const char *mark)
{
	(void)ctx;
	if (!strcmp(mark, "decoyproxy:00000000000000bb"))
		return 1;
	if (!strcmp(mark, "decoyproxy:00000000000000ee"))
		return -EACCES;
	return 0;
}

static void test_verdicts(void **state)
{
	const char *self = "decoyproxy:00000000000000aa";

	(void)state;
	assert_int_equal(owner_judge(NULL, self, alive_if_b, NULL), OWNER_FOREIGN);
	assert_int_equal(owner_judge("", self, alive_if_b, NULL), OWNER_FOREIGN);
	assert_int_equal(owner_judge("uplink to the lab", self, alive_if_b, NULL), OWNER_FOREIGN);
	assert_int_equal(owner_judge(self, self, alive_if_b, NULL), OWNER_SELF);
	assert_int_equal(owner_judge("decoyproxy:00000000000000bb", self, alive_if_b, NULL), OWNER_LIVE);
	assert_int_equal(owner_judge("decoyproxy:00000000000000cc", self, alive_if_b, NULL), OWNER_ORPHAN);
	/* cannot tell: never take what may be someone's */
	assert_int_equal(owner_judge("decoyproxy:00000000000000ee", self, alive_if_b, NULL), OWNER_LIVE);
	/* a cleanup run has no mark of its own */
	assert_int_equal(owner_judge(self, NULL, alive_if_b, NULL), OWNER_ORPHAN);
}

static void test_unsafe_directory_refused(void **state)
{
	struct owner_run r;
	char *err = NULL, sub[96];

	(void)state;
	assert_int_equal(chmod(dir, 0777), 0);
	assert_int_equal(owner_run_open(&r, dir, &err), -EPERM);
	assert_non_null(strstr(err, "writable by others"));
	free(err);
	err = NULL;
	assert_int_equal(chmod(dir, 0755), 0);
	/* runs/ as a symlink is refused too */
	snprintf(sub, sizeof(sub), "%s/runs", dir);
	assert_int_equal(symlink("/tmp", sub), 0);
	assert_true(owner_run_open(&r, dir, &err) < 0);
	assert_non_null(err);
	free(err);
	assert_int_equal(r.fd, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mark_syntax, setup, teardown),
		cmocka_unit_test_setup_teardown(test_live_then_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_killed_run_is_gone_and_swept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verdicts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsafe_directory_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
