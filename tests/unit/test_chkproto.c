/* Unit tests: the packets of mysql-check, ldap-check, ssl-hello-chk and the
 * agent's replies (lib/chkproto.c): builders byte for byte, parsers on good,
 * wrong, truncated and hostile replies. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "lib/chkproto.h"

/* A MySQL 8 initial handshake (protocol 10, version "8.0.35"), abridged. */
static const uint8_t my_hs[] = {
	0x1c, 0x00, 0x00, 0x00, 0x0a, '8', '.', '0', '.', '3', '5', 0x00, 0x2a, 0x00, 0x00, 0x00,
	'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 0x00, 0xff, 0xff, 0xff, 0x02, 0x00, 0xff, 0xdf,
};

static void test_mysql_auth(void **state)
{
	uint8_t b[256];
	size_t n;

	(void)state;
	/* post-4.1: 4 caps + 4 max packet + charset + 23 zeros + "hap\0" + 0 */
	n = chkp_mysql_auth(b, sizeof(b), "hap", true);
	assert_int_equal(n, 4 + 37 + 5);
	assert_memory_equal(b, "\x25\x00\x00\x01\x00\x82\x00\x00\x00\x80\x00\x01\x21", 13);
	for (int i = 13; i < 36; i++)
		assert_int_equal(b[i], 0);
	assert_memory_equal(b + 36, "hap\0\0", 5);
	assert_memory_equal(b + 41, "\x01\x00\x00\x00\x01", 5);  /* COM_QUIT */
	/* pre-4.1 */
	n = chkp_mysql_auth(b, sizeof(b), "hap", false);
	assert_int_equal(n, 4 + 10 + 5);
	assert_memory_equal(b, "\x0a\x00\x00\x01\x00\x80\x00\x00\x01hap\0\0\x01\x00\x00\x00\x01", 19);
	/* too small a buffer */
	assert_int_equal(chkp_mysql_auth(b, 20, "hap", true), 0);
}

static void test_mysql_reply(void **state)
{
	uint8_t b[128];
	struct chkp_out o;

	(void)state;
	assert_int_equal(chkp_mysql_reply(my_hs, sizeof(my_hs), false, false, &o), CHKP_OK);
	assert_string_equal(o.info, "8.0.35");
	/* truncated: wait, then invalid at the end */
	assert_int_equal(chkp_mysql_reply(my_hs, 10, false, false, &o), CHKP_MORE);
	assert_int_equal(chkp_mysql_reply(my_hs, 10, true, false, &o), CHKP_RSP);
	assert_int_equal(chkp_mysql_reply(my_hs, 2, true, false, &o), CHKP_RSP);
	/* an error packet instead of the handshake (host not allowed) */
	{
		static const uint8_t err[] = "\x16\x00\x00\x00\xff\x6a\x04Host 'x' is blocked";

		assert_int_equal(chkp_mysql_reply(err, 4 + 0x16, false, false, &o), CHKP_STS);
		assert_int_equal(o.code, 1130);
		assert_string_equal(o.info, "Host 'x' is blocked");
	}
	/* with a user: the handshake, then OK or an error */
	memcpy(b, my_hs, sizeof(my_hs));
	memcpy(b + sizeof(my_hs), "\x07\x00\x00\x02\x00\x00\x00\x02\x00\x00\x00", 11);
	assert_int_equal(chkp_mysql_reply(b, sizeof(my_hs), false, true, &o), CHKP_MORE);
	assert_int_equal(chkp_mysql_reply(b, sizeof(my_hs), true, true, &o), CHKP_RSP);
	assert_int_equal(chkp_mysql_reply(b, sizeof(my_hs) + 11, false, true, &o), CHKP_OK);
	assert_string_equal(o.info, "8.0.35");
	memcpy(b + sizeof(my_hs), "\x0f\x00\x00\x02\xff\x15\x04#28000Denied", 19);
	assert_int_equal(chkp_mysql_reply(b, sizeof(my_hs) + 19, false, true, &o), CHKP_STS);
	assert_int_equal(o.code, 1045);
	assert_string_equal(o.info, "#28000Denied");
	/* a zero-length packet, control bytes shown escaped */
	assert_int_equal(chkp_mysql_reply((const uint8_t *)"\0\0\0\0", 4, false, false, &o), CHKP_RSP);
	assert_int_equal(chkp_mysql_reply((const uint8_t *)"\x05\0\0\0\xff\x01\x00\x1b\n", 9, false, false, &o),
			 CHKP_STS);
	assert_string_equal(o.info, "\\x1b\\x0a");
}

static void test_ldap(void **state)
{
	static const uint8_t ok[] = { 0x30, 0x0c, 0x02, 0x01, 0x01, 0x61, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00 };
	static const uint8_t bad[] = { 0x30, 0x0c, 0x02, 0x01, 0x01, 0x61, 0x07, 0x0a, 0x01, 0x31, 0x04, 0x00, 0x04, 0x00 };
	/* long-form lengths, as OpenLDAP writes them */
	static const uint8_t lf[] = { 0x30, 0x84, 0x00, 0x00, 0x00, 0x10, 0x02, 0x01, 0x01, 0x61, 0x84, 0x00,
				      0x00, 0x00, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00 };
	static const uint8_t lf2[] = { 0x30, 0x81, 0x0e, 0x02, 0x01, 0x01, 0x61, 0x81, 0x07, 0x0a, 0x01, 0x00,
				       0x04, 0x00, 0x04, 0x00 };
	struct chkp_out o;

	(void)state;
	assert_memory_equal(chkp_ldap_bind, "\x30\x0c\x02\x01\x01\x60\x07\x02\x01\x03\x04\x00\x80\x00", 14);
	assert_int_equal(chkp_ldap_reply(ok, sizeof(ok), false, &o), CHKP_OK);
	assert_string_equal(o.info, "Success");
	assert_int_equal(chkp_ldap_reply(bad, sizeof(bad), false, &o), CHKP_STS);
	assert_int_equal(o.code, 0x31);  /* invalidCredentials */
	assert_string_equal(o.info, "See RFC: http://tools.ietf.org/html/rfc4511#section-4.1.9");
	assert_int_equal(chkp_ldap_reply(lf, sizeof(lf), false, &o), CHKP_RSP);  /* 4-byte lengths: too long for HAProxy */
	assert_string_equal(o.info, "Not LDAPv3 protocol");
	assert_int_equal(chkp_ldap_reply(lf2, sizeof(lf2), false, &o), CHKP_OK);
	assert_int_equal(chkp_ldap_reply(ok, 8, false, &o), CHKP_MORE);
	assert_int_equal(chkp_ldap_reply(ok, 8, true, &o), CHKP_RSP);
	assert_int_equal(chkp_ldap_reply(lf2, 10, true, &o), CHKP_RSP);
	assert_int_equal(chkp_ldap_reply((const uint8_t *)"HTTP/1.0 400 Bad\r\n", 18, false, &o), CHKP_RSP);
	assert_string_equal(o.info, "Not LDAPv3 protocol");
	assert_int_equal(chkp_ldap_reply((const uint8_t *)"", 0, false, &o), CHKP_MORE);
	assert_int_equal(chkp_ldap_reply((const uint8_t *)"", 0, true, &o), CHKP_RSP);
	/* a search result (not a bindResponse) */
	assert_int_equal(chkp_ldap_reply((const uint8_t *)"\x30\x0c\x02\x01\x01\x65\x07\x0a\x01\x00\x04\x00\x04\x00",
					 14, false, &o), CHKP_RSP);
}

static void test_ssl(void **state)
{
	uint8_t h[CHKP_SSL_HELLO_LEN];

	(void)state;
	chkp_ssl_hello(h, 0x01020304);
	assert_memory_equal(h, "\x16\x03\x00\x00\x79\x01\x00\x00\x75\x03\x00\x01\x02\x03\x04", 15);
	assert_int_equal(h[5 + 4 + 2 + 32], 0);          /* session id */
	assert_int_equal(h[44] << 8 | h[45], 78);          /* cipher suites */
	assert_memory_equal(h + 46, "\x00\x01\x00\x02", 4);
	assert_memory_equal(h + 46 + 76, "\x00\x3a", 2);
	assert_memory_equal(h + 124, "\x01\x00", 2);        /* null compression */
	assert_int_equal(chkp_ssl_reply((const uint8_t *)"\x16\x03\x03\x00\x5a", 5, false), CHKP_OK);
	assert_int_equal(chkp_ssl_reply((const uint8_t *)"\x15\x03\x00\x00\x02\x02\x46", 7, true), CHKP_OK);
	assert_int_equal(chkp_ssl_reply((const uint8_t *)"\x16\x03", 2, false), CHKP_MORE);
	assert_int_equal(chkp_ssl_reply((const uint8_t *)"\x15\x03", 2, true), CHKP_OK);
	assert_int_equal(chkp_ssl_reply((const uint8_t *)"HTTP/1.1 400", 12, false), CHKP_RSP);
	assert_int_equal(chkp_ssl_reply((const uint8_t *)"SSH-2.0-OpenSSH\r\n", 17, false), CHKP_RSP);
	assert_int_equal(chkp_ssl_reply((const uint8_t *)"", 0, true), CHKP_RSP);
}

static enum chkp_res agent(const char *s, struct chkp_agent *a)
{
	return chkp_agent_reply((const uint8_t *)s, strlen(s), false, a);
}

static void test_agent(void **state)
{
	struct chkp_agent a;

	(void)state;
	assert_int_equal(agent("up\n", &a), CHKP_OK);
	assert_int_equal(a.health, CHKP_H_UP);
	assert_int_equal(a.admin, CHKP_A_NONE);
	assert_int_equal(a.weight_pct, -1);
	assert_int_equal(agent("75%\r\n", &a), CHKP_OK);
	assert_int_equal(a.health, CHKP_H_NONE);
	assert_int_equal(a.weight_pct, 75);
	assert_int_equal(agent("DOWN, drain 10% # disk full\n", &a), CHKP_OK);
	assert_int_equal(a.health, CHKP_H_DOWN);
	assert_string_equal(a.hword, "DOWN");
	assert_int_equal(a.admin, CHKP_A_DRAIN);
	assert_int_equal(a.weight_pct, 10);
	assert_string_equal(a.desc, "disk full");
	assert_int_equal(agent("maint\tready maxconn:30 stopped\n", &a), CHKP_OK);
	assert_int_equal(a.admin, CHKP_A_READY);
	assert_int_equal(a.maxconn, 30);
	assert_int_equal(a.health, CHKP_H_DOWN);
	assert_string_equal(a.hword, "stopped");
	assert_int_equal(agent("fail bogus 1x% up\n", &a), CHKP_OK);
	assert_int_equal(a.health, CHKP_H_UP);
	assert_string_equal(a.err, "bogus");
	assert_true(a.weight_bad);
	assert_int_equal(a.weight_pct, -1);
	assert_int_equal(agent("maxconn:x\n", &a), CHKP_OK);
	assert_int_equal(a.maxconn, -1);
	assert_string_equal(a.err, "maxconn:x");
	assert_int_equal(agent("up", &a), CHKP_MORE);
	assert_int_equal(chkp_agent_reply((const uint8_t *)"up", 2, true, &a), CHKP_RSP);
	assert_int_equal(agent("\n", &a), CHKP_OK);
	assert_int_equal(a.health, CHKP_H_NONE);
	assert_int_equal(agent("99999999999999%\n", &a), CHKP_OK);
	assert_true(a.weight_bad);
	assert_int_equal(agent("\x1b[31mup\n", &a), CHKP_OK);
	assert_string_equal(a.err, "\\x1b[31mup");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mysql_auth),
		cmocka_unit_test(test_mysql_reply),
		cmocka_unit_test(test_ldap),
		cmocka_unit_test(test_ssl),
		cmocka_unit_test(test_agent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
