/* Unit tests: HAProxy address syntax. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <cmocka.h>

#include "lib/addr.h"

static void ok(const char *in, unsigned flags, const char *want, bool has_port)
{
	struct addr_spec a;
	char *err = NULL, buf[80];

	if (addr_parse(in, flags, &a, &err) < 0)
		fail_msg("'%s' refused: %s", in, err);
	assert_string_equal(addr_str(&a.ss, buf, sizeof(buf)), want);
	assert_int_equal(a.has_port, has_port);
}

static void bad(const char *in, unsigned flags, const char *needle)
{
	struct addr_spec a;
	char *err = NULL;

	if (addr_parse(in, flags, &a, &err) == 0)
		fail_msg("'%s' accepted", in);
	if (!strstr(err, needle))
		fail_msg("'%s': error '%s' lacks '%s'", in, err, needle);
	free(err);
}

static void test_forms(void **state)
{
	ok("1.2.3.4:80", 0, "1.2.3.4:80", true);
	ok(":80", 0, "0.0.0.0:80", true);
	ok("*:80", 0, "0.0.0.0:80", true);
	ok("[::1]:443", 0, "[::1]:443", true);
	ok(":::8080", 0, "[::]:8080", true);
	ok("::1:22", 0, "[::1]:22", true);
	ok("ipv6@:80", 0, "[::]:80", true);
	ok("ipv4@127.0.0.1:1", 0, "127.0.0.1:1", true);
	ok("10.0.0.1", ADDR_F_PORT_NONE_OK, "10.0.0.1:0", false);
	ok("[fd02::2]", ADDR_F_PORT_NONE_OK, "[fd02::2]:0", false);
	ok("0.0.0.0", ADDR_F_PORT_NONE_OK, "0.0.0.0:0", false);
	ok("::ffff:10.1.2.3:99", 0, "10.1.2.3:99", true); /* printed as IPv4 */
}

static void test_ranges_offsets(void **state)
{
	struct addr_spec a;
	char *err = NULL;

	assert_int_equal(addr_parse("1.2.3.4:80-90", ADDR_F_PORT_RANGE, &a, &err), 0);
	assert_int_equal(a.port_lo, 80);
	assert_int_equal(a.port_hi, 90);
	assert_int_equal(addr_parse("1.2.3.4:+1000", ADDR_F_PORT_OFFSET, &a, &err), 0);
	assert_int_equal(a.port_offset_sign, 1);
	assert_int_equal(a.port_lo, 1000);
	assert_int_equal(addr_parse("1.2.3.4:-10", ADDR_F_PORT_OFFSET, &a, &err), 0);
	assert_int_equal(a.port_offset_sign, -1);
	assert_true(a.has_port);
	assert_true(addr_parse("0.0.0.0", ADDR_F_PORT_NONE_OK, &a, &err) == 0 && a.wildcard);
	free(err);
}

static void test_bad(void **state)
{
	bad("1.2.3.4", 0, "missing port");
	bad("1.2.3.4:99999", 0, "invalid port");
	bad("1.2.3.4:80-70", ADDR_F_PORT_RANGE, "invalid port");
	bad("1.2.3.4:80-90", 0, "invalid port");
	bad("1.2.3.4:+5", 0, "invalid port");
	bad("999.1.1.1:80", 0, "invalid or unresolvable address");
	bad("[::1:80", 0, "missing ']'");
	bad("unix@/x", 0, "only IPv4/IPv6");
	bad("/run/x.sock", 0, "only IPv4/IPv6");
	bad("1.2.3.4:0", ADDR_F_PORT_REQUIRED, "invalid port");
}

static void test_helpers(void **state)
{
	struct addr_spec a, b;
	char *err = NULL, buf[64];

	assert_int_equal(addr_parse("[::ffff:192.0.2.1]:5", 0, &a, &err), 0);
	addr_unmap_v4(&a.ss);
	assert_int_equal(a.ss.ss_family, AF_INET);
	assert_string_equal(addr_str(&a.ss, buf, sizeof(buf)), "192.0.2.1:5");
	assert_int_equal(addr_parse("192.0.2.1:5", 0, &b, &err), 0);
	assert_true(addr_equal(&a.ss, &b.ss));
	addr_set_port(&b.ss, 6);
	assert_false(addr_equal(&a.ss, &b.ss));
	assert_int_equal(addr_port(&b.ss), 6);
	assert_int_equal(addr_len(&b.ss), sizeof(struct sockaddr_in));
	{
		/* unix socket paths (the CLI's stats sockets) */
		struct sockaddr_storage u1 = { .ss_family = AF_UNIX }, u2 = { .ss_family = AF_UNIX };

		strcpy(((struct sockaddr_un *)&u1)->sun_path, "/run/a.sock");
		strcpy(((struct sockaddr_un *)&u2)->sun_path, "/run/a.sock");
		assert_true(addr_equal(&u1, &u2));
		strcpy(((struct sockaddr_un *)&u2)->sun_path, "/run/b.sock");
		assert_false(addr_equal(&u1, &u2));
		assert_false(addr_equal(&u1, &b.ss));
		assert_int_equal(addr_len(&u1), sizeof(struct sockaddr_un));
	}
}

/* unix@, abns@ and plain paths, as `bind`, `server` and `unix-bind prefix` write them */
static void test_unix(void **state)
{
	struct sockaddr_storage ss, ab2;
	const struct sockaddr_un *sun = (const struct sockaddr_un *)&ss;
	char *err = NULL, buf[160], longp[200];

	assert_true(addr_is_unix_spec("unix@/x"));
	assert_true(addr_is_unix_spec("abns@x"));
	assert_true(addr_is_unix_spec("/run/x.sock"));
	assert_false(addr_is_unix_spec("1.2.3.4:80"));
	assert_false(addr_is_unix_spec("ipv4@1.2.3.4:80"));
	assert_false(addr_is_unix_spec("x.sock"));

	assert_int_equal(addr_parse_unix("unix@/run/a.sock", NULL, &ss, &err), 0);
	assert_int_equal(ss.ss_family, AF_UNIX);
	assert_string_equal(sun->sun_path, "/run/a.sock");
	assert_string_equal(addr_str(&ss, buf, sizeof(buf)), "unix@/run/a.sock");
	assert_false(addr_is_abns(&ss));
	assert_int_equal(addr_port(&ss), 0);

	/* the prefix is put in front as written (HAProxy adds no '/') */
	assert_int_equal(addr_parse_unix("/a.sock", "/var/lib/dp", &ss, &err), 0);
	assert_string_equal(sun->sun_path, "/var/lib/dp/a.sock");

	/* abstract: NUL, name, NUL padding; never prefixed */
	assert_int_equal(addr_parse_unix("abns@decoy", "/pfx", &ss, &err), 0);
	assert_int_equal(sun->sun_path[0], 0);
	assert_memory_equal(sun->sun_path + 1, "decoy\0\0", 7);
	assert_true(addr_is_abns(&ss));
	assert_string_equal(addr_str(&ss, buf, sizeof(buf)), "abns@decoy");
	assert_int_equal(addr_parse_unix("abns@decoy2", NULL, &ab2, &err), 0);
	assert_false(addr_equal(&ss, &ab2));
	assert_int_equal(addr_parse_unix("abns@decoy", NULL, &ab2, &err), 0);
	assert_true(addr_equal(&ss, &ab2));

	/* an unnamed peer (accept() of a unix listener) */
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	assert_false(addr_is_abns(&ss));
	assert_string_equal(addr_str(&ss, buf, sizeof(buf)), "unix");

	assert_int_equal(addr_parse_unix("unix@", NULL, &ss, &err), -EINVAL);
	assert_non_null(strstr(err, "empty unix socket path"));
	free(err);
	err = NULL;
	memset(longp, 'a', sizeof(longp));
	longp[0] = '/';
	longp[108] = '\0';
	assert_int_equal(addr_parse_unix(longp, NULL, &ss, &err), -ENAMETOOLONG);
	assert_non_null(strstr(err, "too long (at most 107 bytes)"));
	free(err);
	err = NULL;
	longp[100] = '\0';
	assert_int_equal(addr_parse_unix(longp, NULL, &ss, &err), 0);
	assert_int_equal(addr_parse_unix(longp, "/0123456789", &ss, &err), -ENAMETOOLONG);
	assert_non_null(strstr(err, "with the unix-bind prefix"));
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_ranges_offsets),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_helpers),
		cmocka_unit_test(test_unix),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
