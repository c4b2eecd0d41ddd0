/* chk_proto.c — the conversations of `option mysql-check`, `option
 * ldap-check` and `option ssl-hello-chk`, with HAProxy's statuses and
 * texts. The bytes are built and judged by lib/chkproto.c; this file only
 * sends, reads and reports.
 *
 * mysql-check: with a user, the authentication packet and a COM_QUIT go out
 * at once; the server's handshake (and with a user, the packet after it)
 * must not be an error packet. L7OK carries the server version, L7STS the
 * MySQL error number and text. ldap-check: an anonymous bind; the
 * bindResponse's resultCode must be 0. ssl-hello-chk: an SSLv3 ClientHello;
 * a TLS handshake or alert record back is L6OK, anything else L6RSP.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/chk_int.h"
#include "lib/chkproto.h"
#include "model/proxy.h"
#include "model/server.h"

/* The request of the check, built once per check into c->req. */
static int build(struct chk *c)
{
	const struct chk_conf *cc = &c->srv->px->chk;
	uint8_t *m = NULL;
	size_t n = 0;

	switch (cc->kind) {
	case CHK_KIND_MYSQL:
		if (!cc->my_user)
			return 0;  /* only the handshake is read */
		if (!(m = malloc(128 + CHKP_MYSQL_USER_MAX)))
			return -1;
		n = chkp_mysql_auth(m, 128 + CHKP_MYSQL_USER_MAX, cc->my_user, !cc->my_pre41);
		break;
	case CHK_KIND_LDAP:
		if (!(m = malloc(sizeof(chkp_ldap_bind))))
			return -1;
		memcpy(m, chkp_ldap_bind, sizeof(chkp_ldap_bind));
		n = sizeof(chkp_ldap_bind);
		break;
	case CHK_KIND_SSL:
		if (!(m = malloc(CHKP_SSL_HELLO_LEN)))
			return -1;
		chkp_ssl_hello(m, (uint32_t)time(NULL));
		n = CHKP_SSL_HELLO_LEN;
		break;
	default:
		return -1;
	}
	if (!n) {
		free(m);
		return -1;
	}
	c->req = (char *)m;
	c->out = m;
	c->olen = n;
	return 0;
}

void chk_proto_run(struct chk *c)
{
	const struct chk_conf *cc = &c->srv->px->chk;
	struct chkp_out o;
	enum chkp_res r;

	if (c->step == 0) {
		if (build(c) < 0) {
			chk_end_code(c, false, CHK_ST_SOCKERR, "out of memory", 0);
			return;
		}
		c->step = 1;
	}
	if (!chk_l7_flush(c))
		return;
	if (!chk_l7_fill(c))
		return;
	switch (cc->kind) {
	case CHK_KIND_SSL:
		r = chkp_ssl_reply(c->buf, c->blen, c->eof);
		if (r == CHKP_MORE)
			break;
		chk_end_code(c, r == CHKP_OK, r == CHKP_OK ? CHK_ST_L6OK : CHK_ST_L6RSP, NULL, 0);
		return;
	case CHK_KIND_LDAP:
	case CHK_KIND_MYSQL:
		if (!c->blen && c->eof) {
			/* the step of the first expect in HAProxy's rulesets:
			 * mysql-check is connect[, send], expect; ldap-check is
			 * send, expect */
			chk_end_code(c, false, CHK_ST_L7RSP,
				     cc->kind == CHK_KIND_MYSQL && cc->my_user ? "TCPCHK got an empty response at step 3"
										 : "TCPCHK got an empty response at step 2",
				     0);
			return;
		}
		if (cc->kind == CHK_KIND_LDAP)
			r = chkp_ldap_reply(c->buf, c->blen, c->eof, &o);
		else
			r = chkp_mysql_reply(c->buf, c->blen, c->eof, cc->my_user != NULL, &o);
		if (r == CHKP_MORE)
			break;
		chk_end_code(c, r == CHKP_OK, r == CHKP_OK ? CHK_ST_L7OK : r == CHKP_STS ? CHK_ST_L7STS : CHK_ST_L7RSP,
			     o.info, r == CHKP_OK && cc->kind == CHK_KIND_MYSQL ? 0 : o.code);
		return;
	default:
		chk_end_code(c, false, CHK_ST_SOCKERR, "internal error", 0);
		return;
	}
	chk_l7_want(c, EV_READ);
}
