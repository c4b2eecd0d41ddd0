/* sess_log.c — what a session tells operators: its log line (the
 * frontend's log-format, sent when it ends, or once connected with
 * `option logasap`), HAProxy's connection-error
 * line instead when it failed before any relaying (PROXY header errors),
 * and -d's "[DEBUG]" lines. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lib/addr.h"
#include "log/log.h"
#include "model/bind.h"
#include "model/conf.h"
#include "model/proxy.h"
#include "core/loop.h"
#include "model/server.h"
#include "core/sess.h"
#include "core/sess_int.h"
#include "log/msg.h"

void sess_fill_log(const struct sess *s, struct log_sess *ls_out)
{
	struct proxy *fe = s->fe;
	struct log_sess ls;

	memset(&ls, 0, sizeof(ls));
	sess_addr_get(&s->cli_addr, &ls.cli);
	sess_addr_get(&s->fe_addr, &ls.fe);
	sess_bsrc(s, &ls.bsrc);
	sess_addr_get(&s->srv_addr, &ls.srv);
	ls.frontend = fe->name;
	ls.backend = s->be ? s->be->name : fe->name;
	ls.server = s->srv ? s->srv->name : NULL;
	ls.accept_tv = s->accept_tv;
	ls.tw = s->tw;
	ls.tc = s->tc;
	ls.tt = sess_ms_since(s->t_accept);
	ls.bytes_up = s->req.total;
	ls.bytes_down = s->res.total;
	memcpy(ls.term, s->term, sizeof(ls.term));
	ls.ac = rt.actconn;
	ls.fc = fe->feconn;
	ls.bc = s->be ? s->be->beconn : 0;
	ls.sc = s->srv ? s->srv->cur_conn : 0;
	ls.rc = (unsigned)s->retries_done;
	ls.sq = 0; /* no server queues: every queued session waits in its backend */
	ls.bq = s->bq;
	ls.netns = s->netns;
	ls.unique_id = s->unique_id;
	ls.rt = s->id;
	ls.smp_ctx = sess_rules_view(s);
	ls.luid = s->li ? s->li->luid : 0;
	ls.logasap = (fe->options & PR_O_LOGASAP) != 0;
	*ls_out = ls;
}

void sess_log(struct sess *s)
{
	struct proxy *fe = s->fe;
	struct log_sess ls;
	char line[2048];
	size_t n;
	bool error;

	if (!fe->logs.n || !fe->lf || s->no_log)
		return;
	error = s->term[0] != '-';
	if ((fe->options & PR_O_DONTLOGNULL) && s->req.total == 0 && !error)
		return;
	sess_fill_log(s, &ls);
	n = lf_render(fe->lf, &ls, line, sizeof(line));
	log_list_send(&fe->logs, (error && (fe->options & PR_O_LOGERRSEP)) ? 3 /* err */ : 6 /* info */,
		      fe->conf->g.log_tag ? fe->conf->g.log_tag : "decoyproxy", line, n);
}

/* `option logasap`, as HAProxy in TCP mode: the line is written once the
 * server connection is established, with what is known then: %Tt is the
 * time to get there and %B the bytes so far (both printed with a '+'),
 * %ts "--"; nothing is logged at the end. A session that never reaches a
 * server is logged when it ends, as without the option (still with the
 * '+'). `option dontlognull` does not apply to this early line (no byte
 * may have passed yet), as in HAProxy. */
void sess_log_asap(struct sess *s)
{
	struct proxy *fe = s->fe;
	struct log_sess ls;
	char line[2048];
	size_t n;

	if (!(fe->options & PR_O_LOGASAP) || !fe->logs.n || !fe->lf || s->no_log)
		return;
	if (lf_uses_bsrc(fe->lf) && s->bsrc_addr.sa.sa_family == AF_UNSPEC)
		sess_fetch_bsrc(s);
	sess_fill_log(s, &ls);
	memcpy(ls.term, "--", 3);
	n = lf_render(fe->lf, &ls, line, sizeof(line));
	log_list_send(&fe->logs, 6 /* info */, fe->conf->g.log_tag ? fe->conf->g.log_tag : "decoyproxy", line, n);
	s->no_log = true;
}

void sess_log_conn_error(struct sess *s, const char *msg)
{
	struct proxy *fe = s->fe;
	char line[1024], cli[64], date[64];
	struct tm tm;
	const struct bind_conf *bc = s->li ? s->li->bc : NULL;

	s->no_log = true;
	if (!fe->logs.n)
		return;
	localtime_r(&s->accept_tv.tv_sec, &tm);
	strftime(date, sizeof(date), "%d/%b/%Y:%H:%M:%S", &tm);
	/* a unix socket's client: "unix:<listener id>", as HAProxy */
	if (sess_addr_family(&s->cli_addr) == AF_UNIX) {
		snprintf(cli, sizeof(cli), "unix:%u", s->li ? s->li->luid : 0);
	} else {
		struct sockaddr_storage ca;

		sess_addr_get(&s->cli_addr, &ca);
		addr_str(&ca, cli, sizeof(cli));
	}
	snprintf(line, sizeof(line), "%s [%s.%03d] %s/%s: %s", cli, date,
		 (int)(s->accept_tv.tv_usec / 1000), fe->name, bc ? (bc->name ? bc->name : bc->spec) : "-", msg);
	log_list_send(&fe->logs, 3 /* err */, fe->conf->g.log_tag ? fe->conf->g.log_tag : "decoyproxy", line,
		      strlen(line));
}

void sess_debug(const struct sess *s, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ha_debug("%08llx:%s", s->id, msg);
}
