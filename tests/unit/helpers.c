/* helpers.c — what several unit tests share; see helpers.h. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "cfg/cfg.h"
#include "ctl/module.h"
#include "log/msg.h"
#include "model/conf.h"

#include "helpers.h"

/* ---- messages ---- */

char msgs[MSGS_MAX];

void capture(int kind, const char *m)
{
	static const char *const k[] = { "ALERT", "WARNING", "NOTICE", "DEBUG" };
	size_t l = strlen(msgs);

	snprintf(msgs + l, sizeof(msgs) - l, "%s: %s\n", k[kind & 3], m);
}

int capture_setup(void **state)
{
	(void)state;
	msgs[0] = '\0';
	ha_msg_hook = capture;
	dp_msg.quiet = true;
	return 0;
}

/* ---- configurations ---- */

int parse_ex(const char *buf, bool finalize, struct dp_config **out)
{
	struct dp_config *c = dp_config_new();
	int errors;

	assert_non_null(c);
	msgs[0] = '\0';
	assert_int_equal(modules_init(), 0);
	errors = cfg_parse_buffer(c, "t.cfg", buf);
	if (!errors && finalize)
		errors = modules_finalize(c);
	if (out)
		*out = c;
	else
		dp_config_put(c);
	return errors;
}

int parse(const char *buf, struct dp_config **out)
{
	return parse_ex(buf, true, out);
}

struct dp_config *parse_ok(const char *buf)
{
	struct dp_config *c;

	if (parse(buf, &c) != 0)
		fail_msg("unexpected errors:\n%s", msgs);
	return c;
}

void expect_error(const char *buf, const char *needle)
{
	int e = parse(buf, NULL);

	if (e == 0 || !strstr(msgs, needle))
		fail_msg("expected an error containing \"%s\", got %d error(s):\n%s", needle, e, msgs);
}

void expect_warning(const char *buf, const char *needle)
{
	int e = parse(buf, NULL);

	if (e != 0 || !strstr(msgs, needle) || !strstr(msgs, "WARNING"))
		fail_msg("expected a warning containing \"%s\" and no error, got %d error(s):\n%s", needle, e, msgs);
}

/* ---- bytes ---- */

void nb_socketpair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
}

void close_fds(const int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

char pat(uint64_t i)
{
	return (char)(i * 7 % 251);
}

void write_pat(int fd, uint64_t from, size_t n)
{
	char buf[8192];

	while (n) {
		size_t k = n < sizeof(buf) ? n : sizeof(buf);

		for (size_t i = 0; i < k; i++)
			buf[i] = pat(from + i);
		assert_true(write(fd, buf, k) == (ssize_t)k);
		from += k;
		n -= k;
	}
}

size_t read_check_pat(int fd, uint64_t *at)
{
	char buf[8192];
	size_t total = 0;
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != pat(*at + (uint64_t)i))
				fail_msg("byte %llu: got %d, expected %d", (unsigned long long)(*at + (uint64_t)i),
					 buf[i], pat(*at + (uint64_t)i));
		*at += (uint64_t)n;
		total += (size_t)n;
	}
	assert_true(n < 0 && errno == EAGAIN);
	return total;
}

uint8_t *load_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p;
	long n;

	if (!f)
		fail_msg("cannot open %s", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	p = malloc((size_t)n);
	assert_non_null(p);
	assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return p;
}

struct sockaddr_storage inet(const char *ip, int port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	sin->sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
	sin->sin_port = htons((uint16_t)port);
	return ss;
}
