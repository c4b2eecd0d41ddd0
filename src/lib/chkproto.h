/* chkproto.h — the bytes of HAProxy's protocol health checks that are more
 * than a string: `option mysql-check` (client authentication packet, the
 * server's handshake / OK / error packets), `option ldap-check` (LDAPv3
 * anonymous simple bind and its bindResponse), `option ssl-hello-chk` (an
 * SSLv3 ClientHello and the first record of the answer) and the agent's
 * one-line replies (`agent-check`).
 *
 * A pure module: builders write into caller buffers, parsers read a
 * caller's buffer of untrusted bytes (every length checked against what is
 * there) and never print. core/chk_l7.c and core/chk_agent.c drive them.
 */
#ifndef DECOYPROXY_CHKPROTO_H
#define DECOYPROXY_CHKPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a reply parser decided. */
enum chkp_res {
	CHKP_MORE = 0, /* not complete yet: read on (only when !eof) */
	CHKP_OK,       /* the check passes */
	CHKP_RSP,      /* not this protocol, or truncated: "invalid response" */
	CHKP_STS,      /* the protocol's own error: "wrong status" (code set) */
};

/* The verdict with HAProxy's details: code (MySQL error number, LDAP
 * resultCode) and info (server version, error text), printable. */
struct chkp_out {
	int code;
	char info[128];
};

/* Longest user name option mysql-check takes (its packet stays small). */
#define CHKP_MYSQL_USER_MAX 64

/* The client authentication packet (sequence 1) for user, in the post-4.1
 * layout (post41) or the pre-4.1 one, followed by a COM_QUIT packet, as
 * HAProxy sends them. Returns the length written, 0 when cap is too small
 * or user too long. */
size_t chkp_mysql_auth(uint8_t *out, size_t cap, const char *user, bool post41);

/* Judges a MySQL server's reply: the initial handshake packet and, with
 * auth (a user was given), the packet that follows it. An error packet
 * (0xff) is CHKP_STS with the error number as code and its text as info;
 * success gives the server version as info. eof: no more bytes will come. */
enum chkp_res chkp_mysql_reply(const uint8_t *b, size_t len, bool eof, bool auth, struct chkp_out *o);

/* The LDAPv3 anonymous simple bind request (messageID 1), 14 bytes. */
extern const uint8_t chkp_ldap_bind[14];

/* Judges a bindResponse: "Not LDAPv3 protocol" (CHKP_RSP) when the bytes
 * are not one, the resultCode as code (CHKP_STS) when it is not 0. */
enum chkp_res chkp_ldap_reply(const uint8_t *b, size_t len, bool eof, struct chkp_out *o);

/* Length of the SSLv3 ClientHello of ssl-hello-chk. */
#define CHKP_SSL_HELLO_LEN 126

/* Writes the ClientHello (record version 3.0, 39 classic cipher suites,
 * null compression) with gmt_time (seconds) in its random. */
void chkp_ssl_hello(uint8_t out[CHKP_SSL_HELLO_LEN], uint32_t gmt_time);

/* Judges the first bytes of the answer: a TLS handshake (0x16) or alert
 * (0x15) record is a server speaking SSL/TLS, anything else is not. */
enum chkp_res chkp_ssl_reply(const uint8_t *b, size_t len, bool eof);

/* An agent's reply: one line of words ("up", "down", "stopped", "fail",
 * "ready", "drain", "maint", "<n>%", "maxconn:<n>") and an optional
 * "# description". The last word of each kind wins. */
enum chkp_health { CHKP_H_NONE = 0, CHKP_H_UP, CHKP_H_DOWN };
enum chkp_admin { CHKP_A_NONE = 0, CHKP_A_READY, CHKP_A_DRAIN, CHKP_A_MAINT };

struct chkp_agent {
	enum chkp_health health;
	char hword[8];      /* the health word as written ("down", "fail"...) */
	enum chkp_admin admin;
	int weight_pct;     /* -1: none; else the percentage (may exceed 100) */
	bool weight_bad;    /* a "<n>%" word that is not a valid number */
	long maxconn;       /* -1: none */
	char err[64];       /* the first word not understood */
	char desc[128];     /* the text after '#' */
};

/* Parses the first line of b. CHKP_MORE while no end of line has come and
 * more can; CHKP_RSP for a reply without a complete line at eof
 * ("Ignoring incomplete line from agent"); CHKP_OK with *a filled. */
enum chkp_res chkp_agent_reply(const uint8_t *b, size_t len, bool eof, struct chkp_agent *a);

#endif
