/* cli_cmds.c — the CLI commands that act on the running process: sessions
 * (show sess, shutdown session(s)), server states (disable/enable/set
 * server: the state change is model/server.c's), reload, the decoys of
 * frontends (show/add/del intercept, plumbing/tproxy.c) and the objects of
 * `network` sections (show network, plumbing/netseg.c); and the lookups of
 * proxies and servers by name or id that they share with `show stat`.
 */
#include "lib/thread.h"
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include "lib/addr.h"
#include "cfg/cfg.h"
#include "log/msg.h"
#include "model/bind.h"
#include "model/conf.h"
#include "model/proxy.h"
#include "model/server.h"
#include "core/loop.h"
#include "core/sess.h"
#include "core/thread.h"
#include "plumbing/netseg.h"
#include "plumbing/tproxy.h"
#include "ctl/cli.h"
#include "ctl/cli_int.h"

#define CLI_RELOAD_LOG_MAX     65536   /* messages quoted in a reload answer */

int (*cli_reload_hook)(char **msg);
void (*cli_reload_drain)(void);

/* ---- lookups ------------------------------------------------------------------ */

/* Proxies are numbered from 1 in file order (the CSV `iid`), servers from 1
 * within their backend (`sid`). */
struct proxy *cli_proxy_by_ref(const char *ref, unsigned cap)
{
	struct dp_config *c = rt.conf;
	unsigned long long id;
	unsigned i = 1;

	if (!c)
		return NULL;
	if (ref[0] == '#') {
		if (cfg_parse_uint(ref + 1, 0xffffffffULL, &id) < 0)
			return NULL;
		for (struct proxy *px = c->proxies; px; px = px->next, i++)
			if (i == id)
				return (px->cap & cap) ? px : NULL;
		return NULL;
	}
	return dp_config_find_proxy(c, ref, cap);
}

static struct server *server_by_ref(struct proxy *be, const char *ref)
{
	unsigned long long id;
	unsigned i = 1;

	if (ref[0] == '#') {
		if (cfg_parse_uint(ref + 1, 0xffffffffULL, &id) < 0)
			return NULL;
		for (struct server *s = be->srv; s; s = s->next, i++)
			if (i == id)
				return s;
		return NULL;
	}
	return proxy_find_server(be, ref);
}

/* Resolves "<backend>/<server>" (names or #ids) or answers why not, with
 * HAProxy's messages. */
struct server *cli_find_server(const char *arg, struct cli_buf *out)
{
	char *copy, *slash;
	struct proxy *be;
	struct server *s = NULL;

	if (!arg || !(slash = strchr(arg, '/'))) {
		cli_printf(out, "Require 'backend/server'.\n");
		return NULL;
	}
	copy = strdup(arg);
	if (!copy) {
		cli_printf(out, "Out of memory.\n");
		return NULL;
	}
	copy[slash - arg] = '\0';
	be = cli_proxy_by_ref(copy, PR_CAP_BE);
	if (!be)
		cli_printf(out, "No such backend.\n");
	else if (!(s = server_by_ref(be, copy + (slash - arg) + 1)))
		cli_printf(out, "No such server.\n");
	free(copy);
	return s;
}

/* ---- sessions --------------------------------------------------------------- */

static ev_tstamp now_ts(void)
{
	return rt.loop ? ev_now(rt.loop) : ev_time();
}

static const char *sess_state_name(enum sess_state st)
{
	switch (st) {
	case SST_HDR: return "header";
	case SST_INSPECT: return "inspect";
	case SST_QUEUE: return "queue";
	case SST_TURN: return "turn";
	case SST_CONNECT: return "connect";
	case SST_EST: return "est";
	default: return "closed";
	}
}

/* "42s", "3m12s", "5h07m", "2d03h" */
static void human_age(double secs, char *buf, size_t cap)
{
	unsigned long long s = secs > 0 ? (unsigned long long)secs : 0;

	if (s < 60)
		snprintf(buf, cap, "%llus", s);
	else if (s < 3600)
		snprintf(buf, cap, "%llum%02llus", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, cap, "%lluh%02llum", s / 3600, s / 60 % 60);
	else
		snprintf(buf, cap, "%llud%02lluh", s / 86400, s / 3600 % 24);
}

static void sess_line(struct cli_buf *out, const struct sess *s, ev_tstamp now)
{
	char cli[64], dst[64], srv[64], age[32], thr[24] = "";
	int fam = sess_addr_family(&s->cli_addr);
	struct sockaddr_storage a;

	/* a unix socket's client has no address: HAProxy shows its listener's id */
	sess_addr_get(&s->cli_addr, &a);
	if (fam == AF_UNIX)
		snprintf(cli, sizeof(cli), "unix:%u", s->li ? s->li->luid : 0);
	else
		addr_str(&a, cli, sizeof(cli));
	sess_addr_get(&s->fe_addr, &a);
	addr_str(&a, dst, sizeof(dst));
	human_age(now - s->t_accept, age, sizeof(age));
	sess_addr_get(&s->srv_addr, &a);
	if (a.ss_family)
		addr_str(&a, srv, sizeof(srv));
	else
		snprintf(srv, sizeof(srv), "-");
	/* thread mode: the thread that owns it (HAProxy's 1-based number) */
	if (dp_nbthread > 1)
		snprintf(thr, sizeof(thr), " thread=%u", s->tid + 1);
	cli_printf(out, "0x%llx: proto=%s src=%s dst=%s fe=%s be=%s srv=%s srvaddr=%s state=%s age=%s bin=%llu bout=%llu%s%s%s\n",
		   s->id, fam == AF_INET6 ? "tcpv6" : fam == AF_INET ? "tcpv4" : fam == AF_UNIX ? "unix_stream" : "tcp", cli, dst, s->fe->name,
		   s->be ? s->be->name : "<NONE>", s->srv ? s->srv->name : "<none>", srv, sess_state_name(s->state),
		   age, (unsigned long long)s->req.total, (unsigned long long)s->res.total, thr,
		   s->netns ? " netns=" : "", s->netns ? s->netns : "");
}

void cli_cmd_show_sess(struct cli_ctx *cx, int argc, char **argv, struct cli_buf *out)
{
	ev_tstamp now = now_ts();

	if (argc > 2) {
		cli_printf(out, "show sess: per-session details are not supported; use 'show sess'.\n");
		return;
	}
	FOR_EACH_SESS(s) {
		if (out->truncated)
			break;
		sess_line(out, s, now);
	}
}

/* "0x2a" (as `show sess` prints it) or "42". */
static int parse_sess_id(const char *s, unsigned long long *id)
{
	const char *digits = s;
	char *end;
	int base = 10;

	if (!s)
		return -EINVAL;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		digits = s + 2;
		base = 16;
	}
	if (!isxdigit((unsigned char)digits[0]) || (base == 10 && !isdigit((unsigned char)digits[0])))
		return -EINVAL;
	errno = 0;
	*id = strtoull(digits, &end, base);
	return *end || errno ? -EINVAL : 0;
}

static struct sess *sess_by_id(unsigned long long id)
{
	FOR_EACH_SESS(s)
		if (s->id == id)
			return s;
	return NULL;
}

void cli_cmd_shutdown_session(struct cli_ctx *cx, int argc, char **argv, struct cli_buf *out)
{
	unsigned long long id;
	struct sess *s;

	if (argc != 3 || parse_sess_id(argv[2], &id) < 0) {
		cli_printf(out, "Session pointer expected (use 'show sess').\n");
		return;
	}
	s = sess_by_id(id);
	if (!s) {
		cli_printf(out, "No such session (use 'show sess').\n");
		return;
	}
	/* logged with termination state K; a session of another thread is
	 * killed by its owner (posted), right after this command */
	sess_kill_where(sess_match_id, (uintptr_t)id, TERM_EV_KILLED);
}

void cli_cmd_shutdown_sessions_server(struct cli_ctx *cx, int argc, char **argv, struct cli_buf *out)
{
	struct server *srv = cli_find_server(argc == 4 ? argv[3] : NULL, out);

	if (!srv)
		return;
	/* each thread kills its own (sess_kill_where) */
	sess_kill_where(sess_match_srv, (uintptr_t)srv, TERM_EV_KILLED);
}

/* ---- server state --------------------------------------------------------- */

/* The state change is the server's; queued sessions may use a server that
 * became ready (the dequeue runs from the loop, sess_dequeue_later). */
static void srv_set_admin(struct server *s, int admin)
{
	if (server_set_admin(s, admin))
		sess_dequeue_later(s->px);
}

void cli_cmd_disable_server(struct cli_ctx *cx, int argc, char **argv, struct cli_buf *out)
{
	struct server *s = cli_find_server(argc == 3 ? argv[2] : NULL, out);

	if (s)
		srv_set_admin(s, SRV_ADMIN_MAINT);
}

void cli_cmd_enable_server(struct cli_ctx *cx, int argc, char **argv, struct cli_buf *out)
{
	struct server *s = cli_find_server(argc == 3 ? argv[2] : NULL, out);

	if (s)
		srv_set_admin(s, SRV_ADMIN_READY);
}

void cli_cmd_set_server(struct cli_ctx *cx, int argc, char **argv, struct cli_buf *out)
{
	static const char *const states[] = { "ready", "drain", "maint" };
	struct server *s;

	if (argc < 4 || strcmp(argv[3], "state")) {
		if (argc >= 4 && strcmp(argv[3], "state"))
			cli_printf(out, "set server: '%s' is not supported here; ", argv[3]);
		cli_printf(out, "usage: set server <backend>/<server> state ready|drain|maint\n");
		return;
	}
	s = cli_find_server(argv[2], out);
	if (!s)
		return;
	for (int i = 0; i < (int)ARRAY_SIZE(states); i++) {
		if (argc == 5 && !strcmp(argv[4], states[i])) {
			srv_set_admin(s, i == 0 ? SRV_ADMIN_READY : i == 1 ? SRV_ADMIN_DRAIN : SRV_ADMIN_MAINT);
			return;
		}
	}
	cli_printf(out, "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n");
}

/* ---- reload ----------------------------------------------------------------- */

static struct cli_buf *reload_log;
static void (*reload_prev_hook)(int kind, const char *msg);

/* Copies the process messages of a reload (parse errors above all) into
 * the answer, as HAProxy's master CLI quotes its startup logs. */
static void reload_msg_hook(int kind, const char *msg)
{
	static const char *const pfx[] = { "[ALERT]", "[WARNING]", "[NOTICE]", "[DEBUG]" };

	if (reload_prev_hook)
		reload_prev_hook(kind, msg);
	/* the reload's messages are thread 1's: the other threads keep
	 * relaying while it parses, and theirs are not part of the answer */
	if (tid == 0 && reload_log && kind >= 0 && kind < 3)
		cli_msg_lines(reload_log, pfx[kind], msg);
}

void cli_cmd_reload(struct cli_ctx *cx, int argc, char **argv, struct cli_buf *out)
{
	struct cli_buf log = { .max = CLI_RELOAD_LOG_MAX };
	char *msg = NULL;
	int r;

	if (!cli_reload_hook) {
		cli_printf(out, "Success=0\n--\nreload is not available in this process\n");
		return;
	}
	if (cli_reload_drain)
		cli_reload_drain();
	/* this command runs without isolation (the parse must not park
	 * the relays): the hook is swapped with the other threads parked,
	 * so that they see it whole, and stays the same meanwhile */
	thread_isolate();
	reload_log = &log;
	reload_prev_hook = ha_msg_hook;
	ha_msg_hook = reload_msg_hook;
	thread_release();
	r = cli_reload_hook(&msg);
	thread_isolate();
	ha_msg_hook = reload_prev_hook;
	reload_log = NULL;
	reload_prev_hook = NULL;
	thread_release();

	cli_printf(out, "Success=%d\n--\n", r == 0);
	if (log.len)
		cli_lines(out, log.data, log.len);
	/* the outcome, unless it was already among the messages */
	if (msg && !(log.data && strstr(log.data, msg)))
		cli_msg_lines(out, NULL, msg);
	free(msg);
	cli_buf_reset(&log);
}

/* ---- intercept (runtime decoy changes) and network sections ------------------- */

static void out_line_cb(void *ctx, const char *text)
{
	cli_printf(ctx, "%s\n", text);
}

void cli_cmd_show_intercept(struct cli_ctx *cx, int argc, char **argv, struct cli_buf *out)
{
	const struct proxy *px = NULL;

	if (argc > 3) {
		cli_printf(out, "usage: show intercept [<frontend>]\n");
		return;
	}
	if (argc == 3 && !(px = cli_proxy_by_ref(argv[2], PR_CAP_FE))) {
		cli_printf(out, "No such frontend.\n");
		return;
	}
	tproxy_rt_show(rt.conf, px, out_line_cb, out);
}

/* add|del intercept <frontend> <spec> [<spec>...]: answers nothing on
 * success (as HAProxy's `add map`), else one error line. */
void cli_cmd_change_intercept(struct cli_ctx *cx, int argc, char **argv, struct cli_buf *out)
{
	bool add = !strcmp(argv[0], "add");
	struct proxy *px;
	char *err = NULL;

	if (argc < 4) {
		cli_printf(out, "usage: %s intercept <frontend> <ADDRS:PORTS> [<ADDRS:PORTS>...]\n", argv[0]);
		return;
	}
	px = cli_proxy_by_ref(argv[2], PR_CAP_FE);
	if (!px) {
		cli_printf(out, "No such frontend.\n");
		return;
	}
	if (tproxy_rt_change(rt.conf, px, add, argc - 3, argv + 3, &err) < 0)
		cli_msg_lines(out, NULL, err ? err : "failed");
	free(err);
}

/* show network [<section>]: the objects of `network` sections */
void cli_cmd_show_network(struct cli_ctx *cx, int argc, char **argv, struct cli_buf *out)
{
	const char *only = argc == 3 ? argv[2] : NULL;
	size_t olen = only ? strlen(only) : 0;
	bool found = false;
	char *text = NULL;

	if (argc > 3) {
		cli_printf(out, "usage: show network [<section>]\n");
		return;
	}
	if (!rt.conf || netseg_show(rt.conf, &text) < 0) {
		cli_printf(out, "Out of memory.\n");
		return;
	}
	cli_printf(out, "# section state object\n");
	for (const char *p = text; *p;) {
		size_t n = strcspn(p, "\n");

		/* lines are "<section> <state> <object>" */
		if (!only || (n > olen && !strncmp(p, only, olen) && p[olen] == ' ')) {
			cli_printf(out, "%.*s\n", (int)n, p);
			found = true;
		}
		p += n;
		if (*p)
			p++;
	}
	if (only && !found)
		cli_printf(out, "No such network section.\n");
	free(text);
}

