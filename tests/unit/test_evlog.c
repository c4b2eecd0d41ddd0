/* test_evlog.c — the JSON event log (log/evlog.h): escaping of hostile
 * bytes, the record builder, and file / syslog targets (drops on a full
 * disk, the optional tail cut for a short syslog `len`, reopening), and
 * four threads writing events while the file is rotated and reopened (run
 * under ThreadSanitizer by make check-tsan). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "log/evlog.h"
#include "log/log.h"
#include "../fuzz/json_check.h"

static char *esc(const char *in, size_t n)
{
	static char out[1024];
	size_t len = json_escape(out, sizeof(out) - 1, in, n);

	assert_true(len < sizeof(out));
	out[len] = '\0';
	assert_true(json_check_string_body((const unsigned char *)out, len));
	return out;
}

#define ESC(lit) esc(lit, sizeof(lit) - 1)

static void test_escape_vectors(void **state)
{
	(void)state;
	assert_string_equal(ESC("GET / HTTP/1.0"), "GET / HTTP/1.0");
	assert_string_equal(ESC("a\"b\\c/"), "a\\\"b\\\\c/");
	assert_string_equal(ESC("\b\f\n\r\t"), "\\b\\f\\n\\r\\t");
	assert_string_equal(ESC("\x00\x01\x1f\x7f"), "\\u0000\\u0001\\u001f\\u007f");
	/* well-formed UTF-8 is kept: 2, 3 and 4 bytes */
	assert_string_equal(ESC("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"), "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	/* ill-formed: each byte escaped */
	assert_string_equal(ESC("\xc0\xaf"), "\\u00c0\\u00af");               /* overlong '/' */
	assert_string_equal(ESC("\xed\xa0\x80"), "\\u00ed\\u00a0\\u0080");     /* surrogate */
	assert_string_equal(ESC("\xf4\x90\x80\x80"), "\\u00f4\\u0090\\u0080\\u0080"); /* > U+10FFFF */
	assert_string_equal(ESC("\xe2\x82"), "\\u00e2\\u0082");               /* cut at the end */
	assert_string_equal(ESC("\x80x"), "\\u0080x");                        /* lone continuation */
	assert_string_equal(ESC("\xff\xfe"), "\\u00ff\\u00fe");
	assert_string_equal(ESC("\xe2\x82" "A"), "\\u00e2\\u0082A");           /* cut in the middle */
	assert_string_equal(ESC("\xe0\x80\x80"), "\\u00e0\\u0080\\u0080");     /* overlong 3 bytes */
	assert_string_equal(ESC(""), "");
}

static void test_escape_overflow(void **state)
{
	char out[8];
	size_t n;

	(void)state;
	memset(out, 'Z', sizeof(out));
	/* 4 controls need 24 bytes: the length needed is returned, at most
	 * cap bytes written */
	n = json_escape(out, 4, "\x01\x02\x03\x04", 4);
	assert_int_equal(n, 24);
	assert_memory_equal(out, "\\u00", 4);
	assert_int_equal(out[4], 'Z');
	assert_int_equal(json_escape(NULL, 0, "abc\"", 4), 5);
}

/* Every escape of random bytes is a valid JSON string body. */
static void test_escape_random(void **state)
{
	unsigned char in[64];
	char out[64 * 6];
	unsigned seed = 12345;

	(void)state;
	for (int round = 0; round < 20000; round++) {
		size_t n = (size_t)(round % 64), len;

		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			/* bias toward the interesting bytes */
			in[i] = (unsigned char)((seed >> 16) & 1 ? (seed >> 8) : ((seed >> 8) & 0x9f) | 0x80);
		}
		len = json_escape(out, sizeof(out), in, n);
		assert_true(len <= sizeof(out));
		assert_true(json_check_string_body((unsigned char *)out, len));
	}
}

static const struct timeval T0 = { .tv_sec = 1795270290, .tv_usec = 778123 };

static void v4(struct sockaddr_storage *ss, const char *ip, int port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	assert_int_equal(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
}

static void test_builder(void **state)
{
	char buf[1024];
	struct evlog_rec r;
	struct sockaddr_storage a, b, none, m;
	struct sockaddr_in6 *m6 = (struct sockaddr_in6 *)&m;
	size_t n;

	(void)state;
	v4(&a, "10.1.0.2", 41000);
	v4(&b, "192.0.2.7", 22);
	memset(&none, 0, sizeof(none));
	memset(&m, 0, sizeof(m));
	m6->sin6_family = AF_INET6;
	m6->sin6_port = htons(80);
	inet_pton(AF_INET6, "::ffff:10.9.9.9", &m6->sin6_addr);

	evlog_begin_buf(&r, buf, sizeof(buf), "connection", &T0);
	evlog_addr(&r, "attacker", &a);
	evlog_addr(&r, "decoy", &b);
	evlog_addr(&r, "source", &none);        /* left out */
	evlog_addr(&r, "mapped", &m);
	evlog_str(&r, "segment", NULL);         /* left out */
	evlog_str(&r, "frontend", "fe\"x");
	evlog_int(&r, "queue_ms", -1);
	evlog_uint(&r, "bytes", 18446744073709551615ull);
	evlog_bool(&r, "spoofed", true);
	evlog_bool(&r, "no", false);
	evlog_strn(&r, "termination", "--", 2);
	evlog_mark_optional(&r);
	evlog_hex(&r, "first_bytes", "\x00\xffGET", 5);
	n = evlog_end(&r);
	assert_int_not_equal(n, 0);
	buf[n] = '\0';
	assert_string_equal(buf,
		"{\"v\":1,\"type\":\"connection\",\"time\":\"2026-11-21T14:11:30.778123Z\","
		"\"attacker_ip\":\"10.1.0.2\",\"attacker_port\":41000,\"decoy_ip\":\"192.0.2.7\",\"decoy_port\":22,"
		"\"mapped_ip\":\"10.9.9.9\",\"mapped_port\":80,"
		"\"frontend\":\"fe\\\"x\",\"queue_ms\":-1,\"bytes\":18446744073709551615,\"spoofed\":true,\"no\":false,"
		"\"termination\":\"--\",\"first_bytes\":\"00ff474554\"}");
	assert_string_equal(buf + r.mark, ",\"first_bytes\":\"00ff474554\"}");
}

static void test_builder_overflow(void **state)
{
	char buf[64];
	struct evlog_rec r;
	char big[200];

	(void)state;
	memset(big, 'a', sizeof(big));
	evlog_begin_buf(&r, buf, sizeof(buf), "probe", &T0);
	evlog_strn(&r, "k", big, sizeof(big));
	assert_true(r.overflow);
	assert_int_equal(evlog_end(&r), 0);
	/* a hex field too long for what is left */
	evlog_begin_buf(&r, buf, sizeof(buf), "p", &T0);
	evlog_hex(&r, "h", big, 20);
	assert_int_equal(evlog_end(&r), 0);
	/* a type with hostile bytes stays valid */
	evlog_begin_buf(&r, buf, sizeof(buf), "a\"\n", &T0);
	assert_int_not_equal(evlog_end(&r), 0);
}

static char tmpdir[64];

static int setup_dir(void **state)
{
	(void)state;
	strcpy(tmpdir, "/tmp/test_evlog.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct evlog_sink *sink(const char *spec)
{
	char *argv[16], *copy = strdup(spec), *save = NULL, *err = NULL;
	struct evlog_sink *s = NULL;
	int argc = 0;

	for (char *w = strtok_r(copy, " ", &save); w && argc < 16; w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	if (evlog_sink_parse(argc, argv, &s, &err) < 0)
		fail_msg("%s: %s", spec, err);
	free(copy);
	return s;
}

static char *slurp(const char *path)
{
	static char buf[65536];
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static void emit_one(const char *type)
{
	struct evlog_rec r;

	evlog_begin(&r, type);
	evlog_uint(&r, "n", 1);
	evlog_emit(&r);
}

static void test_file_target(void **state)
{
	struct evlog_set set = { 0 };
	char path[128], spec[160], moved[160], *err = NULL;
	struct evlog_sink *s;

	(void)state;
	snprintf(path, sizeof(path), "%s/ev.json", tmpdir);
	snprintf(spec, sizeof(spec), "file@%s", path);
	s = sink(spec);
	assert_int_equal(evlog_sink_open(s, &err), 0);
	assert_int_equal(evlog_set_add(&set, s), 0);
	set.first_bytes = 32;
	assert_false(evlog_enabled());
	evlog_set_active(&set);
	assert_true(evlog_enabled());
	assert_int_equal(evlog_first_bytes(), 32);

	emit_one("one");
	emit_one("two");
	assert_int_equal(s->sent, 2);
	assert_non_null(strstr(slurp(path), "\"type\":\"one\""));
	assert_non_null(strstr(slurp(path), "\"n\":1}\n{\"v\":1,\"type\":\"two\""));
	/* logrotate: the file is renamed, reopen starts a new one */
	snprintf(moved, sizeof(moved), "%s.1", path);
	assert_int_equal(rename(path, moved), 0);
	evlog_reopen();
	emit_one("three");
	assert_non_null(strstr(slurp(path), "\"type\":\"three\""));
	assert_null(strstr(slurp(path), "\"type\":\"one\""));
	assert_null(strstr(slurp(moved), "three"));
	evlog_set_free(&set);
	assert_false(evlog_enabled());
}

static void test_full_disk_drops(void **state)
{
	struct evlog_set set = { 0 };
	struct evlog_sink *s;
	char *err = NULL;

	(void)state;
	if (access("/dev/full", W_OK) < 0)
		skip();
	s = sink("file@/dev/full");
	assert_int_equal(evlog_sink_open(s, &err), 0);
	assert_int_equal(evlog_set_add(&set, s), 0);
	evlog_set_active(&set);
	for (int i = 0; i < 5; i++)
		emit_one("x");
	assert_int_equal(s->sent, 0);
	assert_int_equal(s->drops, 5);
	assert_int_equal(s->errors, 0);
	assert_int_equal(s->last_errno, ENOSPC);
	evlog_set_free(&set);
}

/* A syslog target whose `len` is too short for a line gets it without the
 * fields after the optional mark, ending in "truncated":true; the file
 * target beside it gets the whole line. */
static void test_syslog_len_cut(void **state)
{
	struct evlog_set set = { 0 };
	struct evlog_sink *s;
	char spec[64], path[128], fspec[160], line[512], *err = NULL, *p;
	struct evlog_rec r;
	char big[300];
	int fds[2];
	ssize_t n;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	snprintf(spec, sizeof(spec), "fd@%d len 200 format raw local0", fds[1]);
	s = sink(spec);
	assert_int_equal(evlog_sink_open(s, &err), 0);
	assert_int_equal(evlog_set_add(&set, s), 0);
	snprintf(path, sizeof(path), "%s/cut.json", tmpdir);
	snprintf(fspec, sizeof(fspec), "file@%s", path);
	s = sink(fspec);
	assert_int_equal(evlog_sink_open(s, &err), 0);
	assert_int_equal(evlog_set_add(&set, s), 0);
	evlog_set_active(&set);

	memset(big, 0x41, sizeof(big));
	evlog_begin(&r, "connection");
	evlog_str(&r, "frontend", "fe");
	evlog_mark_optional(&r);
	evlog_hex(&r, "first_bytes", big, sizeof(big));
	assert_int_equal(evlog_emit(&r), 2);
	n = read(fds[0], line, sizeof(line) - 1);
	assert_true(n > 0);
	line[n] = '\0';
	p = strstr(line, "\"frontend\":\"fe\",\"truncated\":true}\n");
	assert_non_null(p);
	assert_int_equal(p + strlen(p), line + n);
	assert_null(strstr(line, "first_bytes"));
	assert_non_null(strstr(slurp(path), "\"first_bytes\":\"4141"));

	/* without a mark the short target drops the line and counts it */
	evlog_begin(&r, "connection");
	evlog_hex(&r, "first_bytes", big, sizeof(big));
	evlog_emit(&r);
	assert_int_equal(set.v[0]->drops, 1);
	assert_int_equal(set.v[1]->sent, 2);
	evlog_set_free(&set);
	close(fds[0]);
	close(fds[1]);
}

static void expect_parse_error(const char *spec, const char *want)
{
	char *argv[16], *copy = strdup(spec), *save = NULL, *err = NULL;
	struct evlog_sink *s = (struct evlog_sink *)(uintptr_t)1;
	int argc = 0;

	for (char *w = strtok_r(copy, " ", &save); w && argc < 16; w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	assert_int_equal(evlog_sink_parse(argc, argv, &s, &err), -EINVAL);
	assert_null(s);
	assert_non_null(err);
	if (!strstr(err, want))
		fail_msg("'%s': error '%s' lacks '%s'", spec, err, want);
	free(err);
	free(copy);
}

static void test_parse_errors(void **state)
{
	(void)state;
	expect_parse_error("file@events.json", "must be an absolute path");
	expect_parse_error("file@/var/log/", "names a directory");
	expect_parse_error("file@/tmp/x.json local0", "unexpected argument 'local0' after a file target");
	expect_parse_error("127.0.0.1:514", "missing syslog facility");
	expect_parse_error("udp@127.0.0.1:514 len 10 local0", "'len' expects a length");
	expect_parse_error("bogus@x local0", "unsupported address prefix");
	expect_parse_error("stderr local0 notice", "events are sent at level 'info': a maximum level of 'notice' would drop them all");
}

static void test_open_errors(void **state)
{
	struct evlog_sink *s;
	char *err = NULL;

	(void)state;
	s = sink("file@/nonexistent-dir-xyz/ev.json");
	assert_int_equal(evlog_sink_open(s, &err), -ENOENT);
	assert_non_null(strstr(err, "cannot open '/nonexistent-dir-xyz/ev.json'"));
	free(err);
	evlog_sink_free(s);
}

/* ---- several threads ---- */

#define NTHR 4
#define MT_EVENTS 1500
#define MT_ROTATIONS 12

static void *mt_writer(void *arg)
{
	unsigned no = (unsigned)(uintptr_t)arg;

	for (unsigned i = 0; i < MT_EVENTS; i++) {
		struct evlog_rec r;

		evlog_begin(&r, "mt");
		evlog_uint(&r, "t", no);
		evlog_uint(&r, "i", i);
		evlog_emit(&r);
	}
	return NULL;
}

/* lines of path: each a whole event, counted in seen[t][i] */
static unsigned mt_count(const char *path, unsigned char seen[NTHR][MT_EVENTS])
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	unsigned n = 0;

	if (!f)
		return 0;
	while (getline(&line, &cap, f) > 0) {
		unsigned t, i;
		const char *p = strstr(line, "\"t\":");

		assert_non_null(p);
		assert_int_equal(sscanf(p, "\"t\":%u,\"i\":%u}", &t, &i), 2);
		assert_true(t < NTHR && i < MT_EVENTS);
		assert_int_equal(line[0], '{');
		assert_non_null(strstr(line, "}\n"));
		seen[t][i]++;
		n++;
	}
	free(line);
	fclose(f);
	return n;
}

/* four threads emit while the file is renamed and reopened twelve times:
 * no event lost nor split, each in exactly one file */
static void test_threads_reopen(void **state)
{
	static unsigned char seen[NTHR][MT_EVENTS];
	struct evlog_set set = { 0 };
	char path[128], spec[160], moved[160], *err = NULL;
	struct evlog_sink *s;
	pthread_t th[NTHR];
	unsigned total = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/mt.json", tmpdir);
	snprintf(spec, sizeof(spec), "file@%s", path);
	s = sink(spec);
	assert_int_equal(evlog_sink_open(s, &err), 0);
	assert_int_equal(evlog_set_add(&set, s), 0);
	evlog_set_active(&set);
	for (uintptr_t t = 0; t < NTHR; t++)
		assert_int_equal(pthread_create(&th[t], NULL, mt_writer, (void *)t), 0);
	for (unsigned r = 1; r <= MT_ROTATIONS; r++) {
		usleep(2000);
		snprintf(moved, sizeof(moved), "%s.%u", path, r);
		assert_int_equal(rename(path, moved), 0);
		evlog_reopen();
	}
	for (unsigned t = 0; t < NTHR; t++)
		pthread_join(th[t], NULL);
	assert_int_equal(s->sent, NTHR * MT_EVENTS);
	assert_int_equal(s->errors + s->drops, 0);
	evlog_set_free(&set);
	total = mt_count(path, seen);
	for (unsigned r = 1; r <= MT_ROTATIONS; r++) {
		snprintf(moved, sizeof(moved), "%s.%u", path, r);
		total += mt_count(moved, seen);
	}
	assert_int_equal(total, NTHR * MT_EVENTS);
	for (unsigned t = 0; t < NTHR; t++)
		for (unsigned i = 0; i < MT_EVENTS; i++)
			assert_int_equal(seen[t][i], 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_vectors),
		cmocka_unit_test(test_escape_overflow),
		cmocka_unit_test(test_escape_random),
		cmocka_unit_test(test_builder),
		cmocka_unit_test(test_builder_overflow),
		cmocka_unit_test(test_file_target),
		cmocka_unit_test(test_full_disk_drops),
		cmocka_unit_test(test_syslog_len_cut),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_threads_reopen),
	};

	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
