/* chk_int.h — private to the chk module (chk.c: scheduling and TCP connect
 * checks; chk_l7.c: tcp-check, httpchk and redis-check conversations). */
#ifndef DECOYPROXY_CHK_INT_H
#define DECOYPROXY_CHK_INT_H

#include <ev.h>
#include <stdint.h>

#include "core/chk.h"
#include "core/selfconn.h"
#include "model/chkrule.h"

struct chk {
	struct server *srv;
	ev_timer timer;       /* next check, or the running check's timeout */
	ev_io io;
	int fd;
	struct selfconn own;  /* fd registered as the proxy's own (selfconn.h) */
	ev_tstamp started;
	enum chk_status last; /* status of the previous check (log-health-checks) */
	/* protocol checks (chk_l7.c); buf is CHK_RESP_MAX bytes */
	bool l7;              /* a conversation is under way */
	bool connected;       /* the current connection is established */
	bool eof;             /* the server closed (or the buffer is full) */
	bool expected;        /* an expect rule ran (success is L7OK, not L4OK) */
	size_t step;          /* current rule */
	uint8_t *buf;
	size_t blen;
	const uint8_t *out;   /* bytes still to send */
	size_t olen;
	char *req;            /* the request being sent (httpchk, smtpchk, pgsql-check) */
	ev_tstamp deadline;   /* end of the conversation (`timeout check`), 0: not connected yet */
};

/* Ends the running check (chk.c): closes the connection, applies the
 * result and schedules the next one. code: the layer-7 code (HTTP status),
 * 0 for none. */
void chk_end_code(struct chk *c, bool ok, enum chk_status st, const char *info, int code);

/* The socket of a new check connection to port (0: the check's port),
 * connecting; 0 or an error already reported through chk_end_code(). */
int chk_connect(struct chk *c, int port);

/* Closes the conversation's connection and opens the next one (a later
 * `tcp-check connect`). */
void chk_reconnect(struct chk *c, int port);

/* The connection is established: start or go on with the conversation
 * (chk_l7.c). */
void chk_l7_connected(struct chk *c);
/* The socket is readable or writable during a conversation. */
void chk_l7_io(struct chk *c, int revents);
/* The check timed out during a conversation (after the connect). */
void chk_l7_timeout(struct chk *c);
/* Frees the conversation state. */
void chk_l7_reset(struct chk *c);

/* For the conversations of other files: wait for ev on the socket; send
 * what c->out holds (false: not all out yet, or the check ended on an
 * error); read what is there into c->buf (false: the check ended). */
void chk_l7_want(struct chk *c, int ev);
bool chk_l7_flush(struct chk *c);
bool chk_l7_fill(struct chk *c);

/* mysql-check, ldap-check and ssl-hello-chk (chk_proto.c). */
void chk_proto_run(struct chk *c);

#endif
