/* Unit tests: the CLI (ctl/cli*.c) on stats sockets. Keyword parsing; the
 * command interpreter driven through cli_exec_line() on a configuration built with
 * cfg_parse_buffer (CSV header and rows, server states, levels, sessions,
 * errors, reload answers); and the socket side on unix sockets in a
 * temporary directory with a real libev loop (serving, prompt mode,
 * backpressure on a big answer, reload takeover, stale and live socket
 * files, maxconn and idle timeout). No root, no network. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include <ev.h>

#include "cfg/cfg.h"
#include "model/conf.h"
#include "core/lb.h"
#include "model/proxy.h"
#include "core/loop.h"
#include "model/server.h"
#include "core/listener.h"
#include "core/sess.h"
#include "ctl/cli.h"
#include "log/msg.h"
#include "ctl/module.h"

#include "helpers.h"

static const char BASE_CFG[] =
	"defaults\n"
	"    mode tcp\n"
	"    timeout connect 1s\n"
	"    timeout client 5s\n"
	"    timeout server 5s\n"
	"frontend fe\n"
	"    bind 127.0.0.1:1\n"
	"    default_backend be\n"
	"backend be\n"
	"    server s1 127.0.0.1:7001\n"
	"    server s2 127.0.0.1:7002 weight 3\n"
	"    server s3 127.0.0.1:7003 backup\n"
	"listen li\n"
	"    bind 127.0.0.1:2\n"
	"    balance leastconn\n"
	"    server x 127.0.0.1:7004 maxconn 5\n";

static struct dp_config *parse_cfg(const char *buf, int *errors)
{
	struct dp_config *c;

	*errors = parse(buf, &c);
	return c;
}

/* Each command test runs on BASE_CFG as the configuration in service. */
static int setup_cfg(void **state)
{
	int e;

	ha_msg_hook = capture;
	dp_msg.quiet = true;
	rt.maxconn = 1000;
	/* SIGTTOU's pause: frontends show as PAUSED (test_show_stat_rows) */
	rt.admin_paused = true;
	rt.conf = parse_cfg(BASE_CFG, &e);
	if (e)
		fail_msg("base config: %s", msgs);
	return 0;
}

static int teardown_cfg(void **state)
{
	while (sess_thr[0].list)
		sess_kill(sess_thr[0].list);
	dp_config_put(rt.conf);
	rt.conf = NULL;
	cli_reload_hook = NULL;
	return 0;
}

static int setup_plain(void **state)
{
	ha_msg_hook = capture;
	dp_msg.quiet = true;
	return 0;
}

/* Runs one line at a level, returns the answer (caller frees). */
static char *run(int level, const char *line)
{
	struct cli_ctx cx = { .level = level };
	struct cli_buf out = { 0 };
	char *s;

	cli_exec_line(&cx, line, &out);
	s = strdup(out.data ? out.data : "");
	cli_buf_reset(&out);
	assert_non_null(s);
	return s;
}

static void expect_answer(int level, const char *line, const char *want)
{
	char *got = run(level, line);

	if (strcmp(got, want))
		fail_msg("'%s': expected [%s], got [%s]", line, want, got);
	free(got);
}

static void expect_has(int level, const char *line, const char *needle)
{
	char *got = run(level, line);

	if (!strstr(got, needle))
		fail_msg("'%s': expected to contain [%s], got [%s]", line, needle, got);
	free(got);
}

/* ---- CSV helpers ---- */

#define MAXF 128

/* Splits a CSV line (no quotes in these tests) into fields; returns the count. */
static int csv_split(char *line, char **f)
{
	int n = 0;

	f[n++] = line;
	for (char *p = line; *p && n < MAXF; p++) {
		if (*p == ',') {
			*p = '\0';
			f[n++] = p + 1;
		}
	}
	return n;
}

/* Line `idx` (0-based) of text, copied into buf. */
static bool nth_line(const char *text, int idx, char *buf, size_t cap)
{
	const char *p = text;

	for (int i = 0; i < idx; i++) {
		p = strchr(p, '\n');
		if (!p)
			return false;
		p++;
	}
	size_t n = strcspn(p, "\n");
	if (!p[n] || n >= cap)
		return false;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return true;
}

static int count_lines(const char *text, const char *prefix)
{
	int n = 0;
	size_t pl = strlen(prefix);

	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, prefix, pl))
			n++;
	return n;
}

/* Field `col` of the row whose pxname,svname are px,sv in a show stat answer. */
static const char *stat_field(const char *answer, const char *px, const char *sv, int col)
{
	static char line[8192];
	char *f[MAXF];

	for (int i = 1; nth_line(answer, i, line, sizeof(line)); i++) {
		int n = csv_split(line, f);

		if (n > col && !strcmp(f[0], px) && !strcmp(f[1], sv))
			return f[col];
	}
	fail_msg("no row %s/%s in:\n%s", px, sv, answer);
	return NULL;
}

static struct proxy *px_named(const char *name)
{
	struct proxy *p = dp_config_find_proxy(rt.conf, name, PR_CAP_FE | PR_CAP_BE);

	assert_non_null(p);
	return p;
}

static struct server *srv_named(const char *be, const char *name)
{
	for (struct server *s = px_named(be)->srv; s; s = s->next)
		if (!strcmp(s->name, name))
			return s;
	fail_msg("no server %s/%s", be, name);
	return NULL;
}

/* ---- keywords ---- */

static void test_kw_good(void **state)
{
	char buf[2048];
	struct dp_config *c;
	int e;
	char *out;

	snprintf(buf, sizeof(buf),
		 "global\n"
		 "    stats socket /tmp/stats-ut-a.sock mode 660 level admin uid %d gid %d\n"
		 "    stats socket unix@/tmp/stats-ut-b.sock level user expose-fd listeners\n"
		 "    stats socket ipv4@127.0.0.1:9999\n"
		 "    stats socket ipv6@[::1]:9998 level admin\n"
		 "    stats timeout 2m\n"
		 "    stats maxconn 3\n"
		 "%s", (int)getuid(), (int)getgid(), BASE_CFG);
	c = parse_cfg(buf, &e);
	assert_int_equal(e, 0);
	/* expose-fd is accepted with a warning naming it */
	assert_non_null(strstr(msgs, "'expose-fd' ignored"));
	assert_non_null(strstr(msgs, "t.cfg:3"));
	rt.conf = c;
	out = run(CLI_LVL_USER, "show cli sockets");
	assert_string_equal(out, "# socket lvl processes\n"
				 "unix@/tmp/stats-ut-a.sock admin all\n"
				 "unix@/tmp/stats-ut-b.sock user all\n"
				 "127.0.0.1:9999 operator all\n"
				 "[::1]:9998 admin all\n"
				 "\n");
	free(out);
	rt.conf = NULL;
	dp_config_put(c);
}

static void test_kw_bad(void **state)
{
	static const struct {
		const char *line, *needle;
	} cases[] = {
		{ "stats", "'stats': expects 'socket', 'timeout' or 'maxconn'" },
		{ "stats sockets /x", "unknown word 'sockets'" },
		{ "stats socket", "'socket' expects a path" },
		{ "stats socket /tmp/x.sock mode 999", "'mode' expects an octal value from 0 to 777, got '999'" },
		{ "stats socket /tmp/x.sock mode", "option 'mode' expects a value" },
		{ "stats socket /tmp/x.sock level root", "'level' expects 'user', 'operator' or 'admin', got 'root'" },
		{ "stats socket /tmp/x.sock user no-such-user-xyz", "unknown user 'no-such-user-xyz'" },
		{ "stats socket /tmp/x.sock group no-such-group-xyz", "unknown group 'no-such-group-xyz'" },
		{ "stats socket /tmp/x.sock uid abc", "'uid' expects a numeric id, got 'abc'" },
		{ "stats socket /tmp/x.sock accept-proxy 1", "unknown option 'accept-proxy'" },
		{ "stats socket abns@foo", "only unix socket paths and ipv4@/ipv6@ TCP addresses" },
		{ "stats socket 127.0.0.1", "socket '127.0.0.1'" },
		{ "stats socket /tmp/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock",
		  "path too long (at most 107 bytes)" },
		{ "stats socket /tmp/d.sock\n    stats socket unix@/tmp/d.sock", "the same socket is already declared ('/tmp/d.sock')" },
		{ "stats timeout 0", "'timeout' expects a positive time (e.g. 10s, 2m), got '0'" },
		{ "stats timeout soon", "got 'soon'" },
		{ "stats timeout", "'timeout' expects one time value" },
		{ "stats maxconn 0", "'maxconn' expects an integer from 1 to 100000, got '0'" },
		{ "stats maxconn many", "got 'many'" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char buf[2048];
		struct dp_config *c;
		int e;

		snprintf(buf, sizeof(buf), "global\n    %s\n%s", cases[i].line, BASE_CFG);
		c = parse_cfg(buf, &e);
		if (e == 0 || !strstr(msgs, cases[i].needle))
			fail_msg("'%s': expected an error containing \"%s\", got %d error(s):\n%s", cases[i].line,
				 cases[i].needle, e, msgs);
		/* file and line are named by the caller */
		assert_non_null(strstr(msgs, "parsing [t.cfg:"));
		dp_config_put(c);
	}
}

static void test_kw_section(void **state)
{
	struct dp_config *c;
	int e;
	char buf[1024];

	/* in a proxy, `stats` is HAProxy's HTTP page, refused */
	snprintf(buf, sizeof(buf), "%s    stats socket /tmp/x.sock\n", BASE_CFG);
	c = parse_cfg(buf, &e);
	assert_true(e > 0);
	dp_config_put(c);
	/* a configuration without stats lines has no stats settings */
	c = parse_cfg(BASE_CFG, &e);
	assert_int_equal(e, 0);
	for (const struct conf_ext *x = c->exts; x; x = x->next)
		assert_string_not_equal(x->ops->name, "stats");
	dp_config_put(c);
}

/* ---- show stat ---- */

static void test_show_stat_header(void **state)
{
	char *out = run(CLI_LVL_USER, "show stat");
	char line[8192], *f[MAXF];
	int n;

	assert_true(nth_line(out, 0, line, sizeof(line)));
	assert_true(!strncmp(line, "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,"
				   "wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,"
				   "sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,", 200));
	n = csv_split(line + 2, f);
	/* 100 named columns, each followed by a comma, as HAProxy writes */
	assert_int_equal(n, 101);
	assert_string_equal(f[0], "pxname");
	assert_string_equal(f[55], "lastsess");
	assert_string_equal(f[73], "addr");
	assert_string_equal(f[75], "mode");
	assert_string_equal(f[76], "algo");
	assert_string_equal(f[79], "conn_tot");
	assert_string_equal(f[84], "connect");
	assert_string_equal(f[99], "uweight");
	assert_string_equal(f[100], "");
	free(out);
}

static void test_show_stat_rows(void **state)
{
	struct proxy *fe = px_named("fe"), *be = px_named("be");
	struct server *s1 = srv_named("be", "s1");
	static const char *const order[][2] = {
		{ "fe", "FRONTEND" }, { "be", "s1" }, { "be", "s2" }, { "be", "s3" }, { "be", "BACKEND" },
		{ "li", "FRONTEND" }, { "li", "x" }, { "li", "BACKEND" },
	};
	char line[8192], *f[MAXF];
	char *out;
	int i;

	fe->feconn = 2;
	CNT_ADD(fe, cum_fe, 7);
	CNT_ADD(fe, bytes_in, 100);
	CNT_ADD(fe, bytes_out, 2000);
	s1->cur_conn = 1;
	CNT_ADD(s1, cum_conn, 5);
	CNT_ADD(s1, failed_conns, 1);
	CNT_ADD(s1, retries, 2);
	CNT_ADD(s1, bytes_in, 11);
	be->nbpend = 3;
	be->beconn = 2;
	CNT_ADD(be, cum_be, 6);

	out = run(CLI_LVL_USER, "show stat");
	/* one line per frontend, per server, per backend, in file order */
	for (i = 0; i < (int)ARRAY_SIZE(order); i++) {
		assert_true(nth_line(out, i + 1, line, sizeof(line)));
		assert_int_equal(csv_split(line, f), 101);
		assert_string_equal(f[0], order[i][0]);
		assert_string_equal(f[1], order[i][1]);
	}
	assert_false(nth_line(out, i + 2, line, sizeof(line)));
	assert_true(strlen(out) > 2 && !strcmp(out + strlen(out) - 2, "\n\n"));

	/* frontend: scur slim stot bin bout status pid iid sid type mode conn_tot */
	assert_string_equal(stat_field(out, "fe", "FRONTEND", 4), "2");
	assert_string_equal(stat_field(out, "fe", "FRONTEND", 6), "1000");
	assert_string_equal(stat_field(out, "fe", "FRONTEND", 7), "7");
	assert_string_equal(stat_field(out, "fe", "FRONTEND", 8), "100");
	assert_string_equal(stat_field(out, "fe", "FRONTEND", 9), "2000");
	assert_string_equal(stat_field(out, "fe", "FRONTEND", 17), "PAUSED"); /* rt.admin_paused */
	assert_string_equal(stat_field(out, "fe", "FRONTEND", 26), "1");
	assert_string_equal(stat_field(out, "fe", "FRONTEND", 27), "1");
	assert_string_equal(stat_field(out, "fe", "FRONTEND", 32), "0");
	assert_string_equal(stat_field(out, "fe", "FRONTEND", 75), "tcp");
	assert_string_equal(stat_field(out, "fe", "FRONTEND", 79), "7");
	assert_string_equal(stat_field(out, "fe", "FRONTEND", 2), ""); /* qcur: not for frontends */

	/* server s1 */
	assert_string_equal(stat_field(out, "be", "s1", 4), "1");
	assert_string_equal(stat_field(out, "be", "s1", 7), "5");
	assert_string_equal(stat_field(out, "be", "s1", 8), "11");
	assert_string_equal(stat_field(out, "be", "s1", 13), "1");
	assert_string_equal(stat_field(out, "be", "s1", 15), "2");
	assert_string_equal(stat_field(out, "be", "s1", 17), "no check");
	assert_string_equal(stat_field(out, "be", "s1", 18), "1");
	assert_string_equal(stat_field(out, "be", "s1", 19), "1");
	assert_string_equal(stat_field(out, "be", "s1", 20), "0");
	assert_string_equal(stat_field(out, "be", "s1", 27), "2");
	assert_string_equal(stat_field(out, "be", "s1", 28), "1");
	assert_string_equal(stat_field(out, "be", "s1", 32), "2");
	assert_string_equal(stat_field(out, "be", "s1", 73), "127.0.0.1:7001");
	assert_string_equal(stat_field(out, "be", "s1", 84), "7");
	assert_string_equal(stat_field(out, "be", "s2", 18), "3");
	assert_string_equal(stat_field(out, "be", "s2", 28), "2");
	assert_string_equal(stat_field(out, "be", "s3", 19), "0");
	assert_string_equal(stat_field(out, "be", "s3", 20), "1");
	assert_string_equal(stat_field(out, "li", "x", 6), "5");

	/* backend: qcur scur stot status weight act bck type algo */
	assert_string_equal(stat_field(out, "be", "BACKEND", 2), "3");
	assert_string_equal(stat_field(out, "be", "BACKEND", 4), "2");
	assert_string_equal(stat_field(out, "be", "BACKEND", 7), "6");
	assert_string_equal(stat_field(out, "be", "BACKEND", 13), "1");
	assert_string_equal(stat_field(out, "be", "BACKEND", 17), "UP");
	assert_string_equal(stat_field(out, "be", "BACKEND", 18), "4");
	assert_string_equal(stat_field(out, "be", "BACKEND", 19), "2");
	assert_string_equal(stat_field(out, "be", "BACKEND", 20), "1");
	assert_string_equal(stat_field(out, "be", "BACKEND", 32), "1");
	assert_string_equal(stat_field(out, "be", "BACKEND", 76), "roundrobin");
	assert_string_equal(stat_field(out, "li", "BACKEND", 76), "leastconn");
	assert_string_equal(stat_field(out, "li", "FRONTEND", 27), "3");
	free(out);
}

static void test_show_stat_filters(void **state)
{
	char *out;

	out = run(CLI_LVL_USER, "show stat be 4 -1");
	assert_int_equal(count_lines(out, "be,s"), 3);
	assert_int_equal(count_lines(out, "be,BACKEND"), 0);
	assert_int_equal(count_lines(out, "fe,"), 0);
	free(out);
	out = run(CLI_LVL_USER, "show stat -1 1 -1");
	assert_int_equal(count_lines(out, "fe,FRONTEND"), 1);
	assert_int_equal(count_lines(out, "li,FRONTEND"), 1);
	assert_int_equal(count_lines(out, "be,"), 0);
	free(out);
	out = run(CLI_LVL_USER, "show stat 2 -1 2");
	assert_int_equal(count_lines(out, "be,s2,"), 1);
	assert_int_equal(count_lines(out, "be,"), 1);
	free(out);
	srv_named("be", "s1")->admin = SRV_ADMIN_MAINT;
	srv_named("be", "s2")->admin = SRV_ADMIN_DRAIN;
	out = run(CLI_LVL_USER, "show stat no-maint");
	assert_int_equal(count_lines(out, "be,s1,"), 0);
	assert_int_equal(count_lines(out, "be,s2,"), 1);
	free(out);
	out = run(CLI_LVL_USER, "show stat up");
	assert_int_equal(count_lines(out, "be,s1,"), 0);
	assert_int_equal(count_lines(out, "be,s2,"), 0);
	assert_int_equal(count_lines(out, "be,s3,"), 1);
	free(out);
	expect_answer(CLI_LVL_USER, "show stat nope 1 -1", "No such proxy.\n\n");
	expect_answer(CLI_LVL_USER, "show stat be x y", "show stat: <type> and <sid> must be integers (-1 for all).\n\n");
	expect_answer(CLI_LVL_USER, "show stat typed", "show stat: 'typed' output is not supported (CSV only).\n\n");
	expect_has(CLI_LVL_USER, "show stat bogus", "show stat: unexpected word 'bogus'");
}

/* ---- server state ---- */

static struct server *pick(const char *be)
{
	struct server *s = NULL;
	struct sockaddr_storage cli = { .ss_family = AF_INET };

	if (lb_pick(px_named(be), &cli, NULL, &s) != LB_OK)
		return NULL;
	return s;
}

static void test_server_state(void **state)
{
	struct server *s1 = srv_named("be", "s1"), *s2 = srv_named("be", "s2"), *s3 = srv_named("be", "s3");
	char *out;

	expect_answer(CLI_LVL_ADMIN, "disable server be/s1", "\n");
	assert_int_equal(s1->admin, SRV_ADMIN_MAINT);
	for (int i = 0; i < 20; i++)
		assert_ptr_equal(pick("be"), s2);
	out = run(CLI_LVL_USER, "show stat");
	assert_string_equal(stat_field(out, "be", "s1", 17), "MAINT");
	assert_string_equal(stat_field(out, "be", "BACKEND", 18), "3");
	assert_string_equal(stat_field(out, "be", "BACKEND", 19), "1");
	free(out);

	/* drain: no new sessions through balancing, backups take over */
	expect_answer(CLI_LVL_ADMIN, "set server be/s2 state drain", "\n");
	assert_int_equal(s2->admin, SRV_ADMIN_DRAIN);
	for (int i = 0; i < 10; i++)
		assert_ptr_equal(pick("be"), s3);
	out = run(CLI_LVL_USER, "show stat");
	assert_string_equal(stat_field(out, "be", "s2", 17), "DRAIN");
	assert_string_equal(stat_field(out, "be", "BACKEND", 17), "UP");
	assert_string_equal(stat_field(out, "be", "BACKEND", 18), "1");
	assert_string_equal(stat_field(out, "be", "BACKEND", 19), "0");
	assert_string_equal(stat_field(out, "be", "BACKEND", 20), "1");
	free(out);

	/* by #id: backend 2, server 3 */
	expect_answer(CLI_LVL_ADMIN, "set server #2/#3 state maint", "\n");
	assert_int_equal(s3->admin, SRV_ADMIN_MAINT);
	assert_null(pick("be"));
	out = run(CLI_LVL_USER, "show stat");
	assert_string_equal(stat_field(out, "be", "BACKEND", 17), "DOWN");
	free(out);

	expect_answer(CLI_LVL_ADMIN, "enable server be/s1;set server be/s2 state ready;set server be/s3 state ready",
		      "\n\n\n");
	assert_int_equal(s1->admin, SRV_ADMIN_READY);
	assert_int_equal(s2->admin, SRV_ADMIN_READY);
	out = run(CLI_LVL_USER, "show stat");
	assert_string_equal(stat_field(out, "be", "s1", 17), "no check");
	free(out);

	/* `enable server` also brings up a server declared `disabled` */
	s1->flags |= SRV_F_DISABLED;
	out = run(CLI_LVL_USER, "show stat");
	assert_string_equal(stat_field(out, "be", "s1", 17), "MAINT");
	free(out);
	expect_answer(CLI_LVL_ADMIN, "enable server be/s1", "\n");
	assert_true(server_usable(s1));

	/* errors, as HAProxy words them */
	expect_answer(CLI_LVL_ADMIN, "disable server be", "Require 'backend/server'.\n\n");
	expect_answer(CLI_LVL_ADMIN, "disable server", "Require 'backend/server'.\n\n");
	expect_answer(CLI_LVL_ADMIN, "enable server nope/s1", "No such backend.\n\n");
	expect_answer(CLI_LVL_ADMIN, "enable server fe/s1", "No such backend.\n\n");
	expect_answer(CLI_LVL_ADMIN, "disable server be/nope", "No such server.\n\n");
	expect_answer(CLI_LVL_ADMIN, "set server be/s1 state READY",
		      "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n\n");
	expect_answer(CLI_LVL_ADMIN, "set server be/s1 state",
		      "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n\n");
	expect_answer(CLI_LVL_ADMIN, "set server be/s1",
		      "usage: set server <backend>/<server> state ready|drain|maint\n\n");
	expect_answer(CLI_LVL_ADMIN, "set server be/s1 weight 5",
		      "set server: 'weight' is not supported here; usage: set server <backend>/<server> state ready|drain|maint\n\n");
	assert_int_equal(s1->admin, SRV_ADMIN_READY);

	/* the state change itself is the server's (model/server.c): ready
	 * says so, so that the caller dequeues; nothing else changes */
	{
		struct srv_counters before = srv_cnt_sum(s2), after;

		assert_false(server_set_admin(s2, SRV_ADMIN_MAINT));
		assert_true(server_in_maint(s2));
		assert_false(server_usable(s2));
		assert_false(server_set_admin(s2, SRV_ADMIN_DRAIN));
		assert_false(server_in_maint(s2));
		s2->flags |= SRV_F_DISABLED;
		assert_true(server_in_maint(s2));
		assert_true(server_set_admin(s2, SRV_ADMIN_READY));
		assert_false(s2->flags & SRV_F_DISABLED);
		assert_true(server_usable(s2));
		after = srv_cnt_sum(s2);
		assert_memory_equal(&before, &after, sizeof(before));
	}
}

/* ---- levels ---- */

static void test_levels(void **state)
{
	struct cli_ctx cx = { .level = CLI_LVL_USER };
	struct cli_buf out = { 0 };

	/* user: reads only */
	expect_has(CLI_LVL_USER, "show info", "Name: decoyproxy\n");
	expect_has(CLI_LVL_USER, "show stat", "# pxname,");
	expect_answer(CLI_LVL_USER, "show sess", "Permission denied\n\n");
	expect_answer(CLI_LVL_USER, "disable server be/s1", "Permission denied\n\n");
	expect_answer(CLI_LVL_USER, "set server be/s1 state maint", "Permission denied\n\n");
	expect_answer(CLI_LVL_USER, "shutdown session 0x1", "Permission denied\n\n");
	expect_answer(CLI_LVL_USER, "reload", "Permission denied\n\n");
	expect_answer(CLI_LVL_USER, "operator;show cli level", "Permission denied\n\nuser\n\n");
	assert_int_equal(srv_named("be", "s1")->admin, SRV_ADMIN_READY);

	/* operator: show sess, but no changes */
	expect_answer(CLI_LVL_OPER, "show sess", "\n");
	expect_answer(CLI_LVL_OPER, "shutdown session 0x1", "Permission denied\n\n");
	expect_answer(CLI_LVL_OPER, "disable server be/s1", "Permission denied\n\n");
	expect_answer(CLI_LVL_OPER, "shutdown sessions server be/s1", "Permission denied\n\n");

	/* admin: everything; `user` lowers the level for the rest of the line
	 * and the connection */
	expect_answer(CLI_LVL_ADMIN, "disable server be/s1;user;enable server be/s1;show cli level",
		      "\n\nPermission denied\n\nuser\n\n");
	assert_int_equal(srv_named("be", "s1")->admin, SRV_ADMIN_MAINT);
	expect_answer(CLI_LVL_ADMIN, "operator;show cli level;show sess", "\noperator\n\n\n");
	cli_exec_line(&cx, "show cli level", &out);
	assert_string_equal(out.data, "user\n\n");
	cli_buf_reset(&out);

	/* help lists what the level allows */
	expect_has(CLI_LVL_ADMIN, "help", "  disable server <bk>/<srv>               : ");
	expect_has(CLI_LVL_ADMIN, "help", "  reload   ");
	{
		char *h = run(CLI_LVL_USER, "help");

		static const char title[] = "The following commands are valid at this level:\n";

		assert_true(!strncmp(h, title, strlen(title)));
		assert_null(strstr(h, "disable server"));
		assert_null(strstr(h, "show sess"));
		assert_non_null(strstr(h, "  show stat"));
		assert_non_null(strstr(h, "  quit                                    : disconnect\n\n"));
		free(h);
	}
}

/* ---- syntax ---- */

static void test_unknown_and_syntax(void **state)
{
	struct cli_ctx cx = { .level = CLI_LVL_ADMIN };
	struct cli_buf out = { 0 };
	char *a;
	char many[512] = "show";

	a = run(CLI_LVL_ADMIN, "frobnicate now");
	assert_true(!strncmp(a, "Unknown command. Please enter one of the following commands only:\n",
			     strlen("Unknown command. Please enter one of the following commands only:\n")));
	assert_non_null(strstr(a, "  show info "));
	assert_true(!strcmp(a + strlen(a) - 2, "\n\n"));
	free(a);
	/* a known first word: only that family, then help/prompt/quit */
	a = run(CLI_LVL_ADMIN, "show foo");
	assert_true(!strncmp(a, "Unknown command, but maybe one of the following ones is a better match:\n",
			     strlen("Unknown command, but maybe one of the following ones is a better match:\n")));
	assert_non_null(strstr(a, "  show info "));
	assert_non_null(strstr(a, "  show stat "));
	assert_null(strstr(a, "disable server"));
	assert_non_null(strstr(a, "  help [<command>] "));
	free(a);
	/* an empty line or command has an empty answer (current HAProxy,
	 * 3.x; 2.6 printed the whole usage for each) */
	expect_answer(CLI_LVL_ADMIN, "", "\n");
	expect_answer(CLI_LVL_ADMIN, " \t ", "\n");
	expect_answer(CLI_LVL_ADMIN, "show cli level;", "admin\n\n\n");
	expect_answer(CLI_LVL_ADMIN, ";;", "\n\n\n");
	expect_answer(CLI_LVL_USER, ";show cli level; ;", "\nuser\n\n\n\n");

	/* several commands per line; escapes; blanks; CR */
	expect_answer(CLI_LVL_ADMIN, "show cli level;show cli level", "admin\n\nadmin\n\n");
	expect_answer(CLI_LVL_ADMIN, "  show \t cli   level  \r", "admin\n\n");
	expect_has(CLI_LVL_ADMIN, "show\\;cli level", "Unknown command");
	expect_answer(CLI_LVL_ADMIN, "disable server be/s\\;1", "No such server.\n\n");
	expect_answer(CLI_LVL_ADMIN, "shutdown session", "Session pointer expected (use 'show sess').\n\n");
	expect_answer(CLI_LVL_ADMIN, "shutdown session zz", "Session pointer expected (use 'show sess').\n\n");
	expect_answer(CLI_LVL_ADMIN, "shutdown session 0x", "Session pointer expected (use 'show sess').\n\n");
	expect_answer(CLI_LVL_ADMIN, "shutdown session 0x99999999", "No such session (use 'show sess').\n\n");
	expect_answer(CLI_LVL_ADMIN, "show info typed",
		      "show info: 'typed' is not supported (only the default 'Name: value' format).\n\n");
	for (int i = 0; i < 70; i++)
		strcat(many, " x");
	expect_answer(CLI_LVL_ADMIN, many, "Too many words (at most 64 per command).\n\n");

	/* quit answers nothing and stops the line */
	expect_answer(CLI_LVL_ADMIN, "quit", "");
	expect_answer(CLI_LVL_ADMIN, "show cli level;quit;show cli level", "admin\n\n");

	/* prompt: interactive mode with "> " after each line; prompt again
	 * leaves it and ends the conversation */
	cli_exec_line(&cx, "prompt", &out);
	assert_true(cx.interactive);
	assert_false(cx.quit);
	assert_string_equal(out.data, "\n> ");
	cli_buf_reset(&out);
	cli_exec_line(&cx, "show cli level", &out);
	assert_string_equal(out.data, "admin\n\n> ");
	cli_buf_reset(&out);
	cli_exec_line(&cx, "prompt;show cli level", &out);
	assert_false(cx.interactive);
	assert_true(cx.quit);
	assert_string_equal(out.data, "\n");
	cli_buf_reset(&out);
}

/* A line of 16,383 ';' (the longest line) was 16,384 unknown commands:
 * 12.5 MB of answer for 16 kB. Empty commands answer an empty line and a
 * line runs at most CLI_MAX_CMDS commands. */
static const char cap_msg[] = "Too many commands on one line (at most 1024): the rest of the line is ignored.\n\n";

static void test_commands_per_line(void **state)
{
	struct cli_ctx cx = { .level = CLI_LVL_USER };
	struct cli_buf out = { 0 };
	char *line = malloc(CLI_LINE_MAX);
	size_t n;

	assert_non_null(line);
	memset(line, ';', CLI_LINE_MAX - 1);
	line[CLI_LINE_MAX - 1] = '\0';
	cli_exec_line(&cx, line, &out);
	assert_int_equal(out.len, CLI_MAX_CMDS + strlen(cap_msg));
	for (size_t i = 0; i < CLI_MAX_CMDS; i++)
		assert_int_equal(out.data[i], '\n');
	assert_string_equal(out.data + CLI_MAX_CMDS, cap_msg);
	cli_buf_reset(&out);

	/* real commands count the same; the ones before the cap all run */
	n = 0;
	for (int i = 0; i < CLI_MAX_CMDS + 5; i++)
		n += (size_t)sprintf(line + n, "show cli level;");
	line[n - 1] = '\0';
	cli_exec_line(&cx, line, &out);
	assert_int_equal(count_lines(out.data, "user"), CLI_MAX_CMDS);
	assert_true(!strcmp(out.data + out.len - strlen(cap_msg), cap_msg));
	cli_buf_reset(&out);

	/* in interactive mode the prompt still follows */
	cx.interactive = true;
	memset(line, ';', 2000);
	line[2000] = '\0';
	cli_exec_line(&cx, line, &out);
	assert_int_equal(out.len, CLI_MAX_CMDS + strlen(cap_msg) + 2);
	assert_true(!strcmp(out.data + out.len - 2, "> "));
	cli_buf_reset(&out);
	free(line);
}

/* ---- sessions ---- */

static struct sess *fake_sess(const char *fe_name, const char *srv, unsigned long long id, const char *src)
{
	struct sess *s = calloc(1, sizeof(*s));
	struct sockaddr_in *c = &s->cli_addr.in4, *d = &s->fe_addr.in4;

	assert_non_null(s);
	s->id = id;
	s->fe = px_named(fe_name);
	s->be = s->fe->defbe ? s->fe->defbe : s->fe;
	s->srv = srv ? srv_named(s->be->name, srv) : NULL;
	s->cli.fd = s->srv_h.fd = -1;
	s->state = srv ? SST_EST : SST_QUEUE;
	c->sin_family = AF_INET;
	inet_pton(AF_INET, src, &c->sin_addr);
	c->sin_port = htons(40000);
	d->sin_family = AF_INET;
	inet_pton(AF_INET, "192.0.2.7", &d->sin_addr);
	d->sin_port = htons(22);
	s->t_accept = ev_time() - 65;
	s->req.total = 12;
	s->res.total = 34;
	/* what sess_accept accounts, so that sess_close balances it */
	s->fe->conf->refcnt++;
	s->fe->feconn++;
	rt.actconn++;
	s->next = sess_thr[0].list;
	if (sess_thr[0].list)
		sess_thr[0].list->prev = s;
	sess_thr[0].list = s;
	sess_thr[0].count++;
	return s;
}

static void test_sessions(void **state)
{
	unsigned before = sess_count_get();
	char *out;

	fake_sess("fe", "s1", 0x2a, "10.0.0.1");
	fake_sess("fe", "s2", 0x2b, "10.0.0.2");
	fake_sess("li", NULL, 0x2c, "10.0.0.3");
	out = run(CLI_LVL_OPER, "show sess");
	assert_non_null(strstr(out, "0x2a: proto=tcpv4 src=10.0.0.1:40000 dst=192.0.2.7:22 fe=fe be=be srv=s1 srvaddr=- state=est age=1m0"));
	assert_non_null(strstr(out, " bin=12 bout=34\n"));
	assert_non_null(strstr(out, "0x2c: proto=tcpv4 src=10.0.0.3:40000 dst=192.0.2.7:22 fe=li be=li srv=<none> srvaddr=- state=queue age="));
	assert_int_equal(count_lines(out, "0x"), 3);
	assert_true(!strcmp(out + strlen(out) - 2, "\n\n"));
	free(out);

	expect_answer(CLI_LVL_ADMIN, "shutdown session 0x2b", "\n");
	assert_int_equal(sess_count_get(), before + 2);
	expect_answer(CLI_LVL_ADMIN, "shutdown session 0x2b", "No such session (use 'show sess').\n\n");
	expect_answer(CLI_LVL_ADMIN, "shutdown session 44", "\n"); /* decimal 44 = 0x2c */
	assert_int_equal(sess_count_get(), before + 1);
	fake_sess("fe", "s1", 0x30, "10.0.0.4");
	fake_sess("fe", "s2", 0x31, "10.0.0.5");
	expect_answer(CLI_LVL_ADMIN, "shutdown sessions server be/s1", "\n");
	assert_int_equal(sess_count_get(), before + 1);
	assert_ptr_equal(sess_thr[0].list->srv, srv_named("be", "s2"));
	expect_answer(CLI_LVL_ADMIN, "shutdown sessions server be/zz", "No such server.\n\n");
}

/* A big answer is cut at whole lines under the buffer's cap. */
static void test_truncation(void **state)
{
	struct cli_ctx cx = { .level = CLI_LVL_ADMIN };
	struct cli_buf out = { .max = 8192 };
	const char *note;

	for (int i = 0; i < 3000; i++)
		fake_sess("fe", "s1", 1000 + i, "10.1.2.3");
	cli_exec_line(&cx, "show sess;show cli level", &out);
	assert_true(out.truncated);
	note = strstr(out.data, "Output truncated: the answer exceeds 8192 bytes.\n\n");
	assert_non_null(note);
	/* whole lines only before the note */
	assert_true(note > out.data && note[-1] == '\n');
	assert_true(count_lines(out.data, "0x") > 10);
	for (const char *p = out.data; p < note; p = strchr(p, '\n') + 1)
		assert_true(!strncmp(p, "0x", 2));
	/* the next command of the line still ends with its empty line */
	assert_true(!strcmp(out.data + out.len - 2, "\n\n"));
	assert_true(out.len < 8192 + 200);
	cli_buf_reset(&out);
}

/* ---- reload ---- */

static int fake_reload_ok(char **msg)
{
	ha_notice("reload: configuration generation 9 in service (1 listener(s) kept, 0 opened, 0 closed; 0 session(s) carried over)");
	memprintf(msg, "reload succeeded: generation 9 in service");
	return 0;
}

static int fake_reload_bad(char **msg)
{
	ha_alert("config : parsing [new.cfg:3] : unknown keyword 'bogus' in 'frontend' section");
	ha_alert("config : Fatal errors found in configuration.");
	memprintf(msg, "reload failed: the new configuration has errors\n\n(see above)");
	ha_alert("%s", *msg);
	return -EINVAL;
}

static void test_reload(void **state)
{
	expect_answer(CLI_LVL_ADMIN, "reload", "Success=0\n--\nreload is not available in this process\n\n");
	cli_reload_hook = fake_reload_ok;
	expect_answer(CLI_LVL_ADMIN, "reload",
		      "Success=1\n--\n"
		      "[NOTICE] reload: configuration generation 9 in service (1 listener(s) kept, 0 opened, 0 closed; 0 session(s) carried over)\n"
		      "reload succeeded: generation 9 in service\n\n");
	cli_reload_hook = fake_reload_bad;
	/* no empty line inside the answer: it would end it early */
	expect_answer(CLI_LVL_ADMIN, "reload",
		      "Success=0\n--\n"
		      "[ALERT] config : parsing [new.cfg:3] : unknown keyword 'bogus' in 'frontend' section\n"
		      "[ALERT] config : Fatal errors found in configuration.\n"
		      "[ALERT] reload failed: the new configuration has errors\n"
		      "[ALERT] (see above)\n"
		      "reload failed: the new configuration has errors\n"
		      "(see above)\n\n");
	/* the process messages still reach the previous hook */
	assert_non_null(strstr(msgs, "ALERT: config : Fatal errors found in configuration."));
	assert_ptr_equal(ha_msg_hook, capture);
}

/* ---- intercept and network commands ---- */

/* add/del/show intercept: parsing, levels and errors. The configuration
 * in service was never applied, so a valid change stops at "not
 * installed" (the kernel side is tested in test_tproxy.c with a fake
 * sender, and against nftables in tests/netns/test_intercept.sh). */
static void test_intercept_cmds(void **state)
{
	static const char cfg[] =
		"defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n"
		"frontend decoys\n    bind 127.0.0.1:15001 transparent\n    intercept 192.0.2.0/24:22\n"
		"    default_backend be\n"
		"frontend fe\n    bind 127.0.0.1:1\n    default_backend be\n"
		"backend be\n    server s1 127.0.0.1:7001\n";
	struct dp_config *base = rt.conf;
	int e;

	rt.conf = parse_cfg(cfg, &e);
	if (e)
		fail_msg("intercept config: %s", msgs);
	/* levels: changes need admin, the listing operator */
	expect_answer(CLI_LVL_OPER, "add intercept decoys 203.0.113.1:80", "Permission denied\n\n");
	expect_answer(CLI_LVL_OPER, "del intercept decoys 192.0.2.1:22", "Permission denied\n\n");
	expect_answer(CLI_LVL_USER, "show intercept", "Permission denied\n\n");
	expect_answer(CLI_LVL_OPER, "show intercept",
		      "# frontend 'decoys': 1 element(s), 0 runtime change(s)\n"
		      "# set decoys4_decoys in the process's network namespace: 1 element(s), not installed\n"
		      "192.0.2.0/24:22\n\n");
	expect_answer(CLI_LVL_OPER, "show intercept decoys;show intercept #1",
		      "# frontend 'decoys': 1 element(s), 0 runtime change(s)\n"
		      "# set decoys4_decoys in the process's network namespace: 1 element(s), not installed\n"
		      "192.0.2.0/24:22\n\n"
		      "# frontend 'decoys': 1 element(s), 0 runtime change(s)\n"
		      "# set decoys4_decoys in the process's network namespace: 1 element(s), not installed\n"
		      "192.0.2.0/24:22\n\n");
	expect_answer(CLI_LVL_OPER, "show intercept fe",
		      "# frontend 'fe': no 'intercept' in the configuration\n\n");
	expect_answer(CLI_LVL_OPER, "show intercept nope", "No such frontend.\n\n");
	expect_answer(CLI_LVL_OPER, "show intercept be", "No such frontend.\n\n");
	expect_answer(CLI_LVL_OPER, "show intercept a b", "usage: show intercept [<frontend>]\n\n");
	/* syntax */
	expect_answer(CLI_LVL_ADMIN, "add intercept",
		      "usage: add intercept <frontend> <ADDRS:PORTS> [<ADDRS:PORTS>...]\n\n");
	expect_answer(CLI_LVL_ADMIN, "del intercept decoys",
		      "usage: del intercept <frontend> <ADDRS:PORTS> [<ADDRS:PORTS>...]\n\n");
	expect_answer(CLI_LVL_ADMIN, "add intercept nope 10.0.0.1:22", "No such frontend.\n\n");
	expect_answer(CLI_LVL_ADMIN, "add intercept be 10.0.0.1:22", "No such frontend.\n\n");
	expect_answer(CLI_LVL_ADMIN, "add intercept fe 10.0.0.1:22",
		      "frontend 'fe' has no 'intercept' in its configuration: runtime changes apply "
		      "to a frontend that already diverts decoys\n\n");
	expect_answer(CLI_LVL_ADMIN, "add intercept decoys 10.0.0.1:0",
		      "bad port '0' in '10.0.0.1:0' (1 to 65535)\n\n");
	expect_answer(CLI_LVL_ADMIN, "add intercept decoys 10.0.0.1:22 bogus",
		      "missing ':PORTS' in 'bogus' (e.g. '10.0.0.1:22' or '[fd09::1]:22')\n\n");
	expect_answer(CLI_LVL_ADMIN, "add intercept decoys 192.0.2.9:22",
		      "'192.0.2.9:22' is already intercepted by frontend 'decoys': nothing to add\n\n");
	expect_answer(CLI_LVL_ADMIN, "del intercept decoys 192.0.2.9:23",
		      "'192.0.2.9:23' is not intercepted by frontend 'decoys': nothing deleted\n\n");
	expect_answer(CLI_LVL_ADMIN, "del intercept #1 [fd09::1]:22",
		      "frontend 'decoys' diverts no IPv6 decoys, so '[fd09::1]:22' cannot be deleted: the "
		      "tproxy rule of a family is installed only when the configuration intercepts that "
		      "family (an 'intercept' line and a transparent IPv6 bind, then a reload)\n\n");
	expect_answer(CLI_LVL_ADMIN, "add intercept decoys 203.0.113.1:80",
		      "the process's network namespace: table inet decoyproxy is not installed (this "
		      "configuration is not in service): nothing changed\n\n");
	/* nothing changed */
	expect_has(CLI_LVL_ADMIN, "show intercept decoys", "0 runtime change(s)\n");
	expect_has(CLI_LVL_ADMIN, "help", "  add intercept <fe> <spec>...            : ");
	expect_has(CLI_LVL_ADMIN, "help", "  show intercept [<fe>]                   : ");
	expect_has(CLI_LVL_ADMIN, "help", "  show network [<section>]                : ");
	dp_config_put(rt.conf);
	rt.conf = base;
}

/* add intercept of decoys that would take the proxy's own connections back
 * (issue 18): a certain loop is answered with the refusal, naming the
 * server with its line and the loop, before the kernel is asked. */
static void test_intercept_loop_cmd(void **state)
{
	static const char cfg[] =
		"defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n"
		"frontend decoys\n    bind 127.0.0.1:15001 transparent namespace seg\n"
		"    intercept 10.9.0.0/24:22 announce\n    default_backend be\n"
		"backend be\n    server s1 10.9.0.5:80\n";
	struct dp_config *base = rt.conf;
	int e;

	(void)state;
	rt.conf = parse_cfg(cfg, &e);
	if (e)
		fail_msg("intercept config: %s", msgs);
	expect_answer(CLI_LVL_ADMIN, "add intercept decoys 10.9.0.0/24:80",
		      "server 'be/s1' 10.9.0.5:80 (t.cfg:11) is inside the decoys of frontend "
		      "'decoys' ('10.9.0.0/24:80' (stats socket)) in namespace 'seg', where it is a "
		      "decoy announced there (a local route): decoyproxy connects to it from the "
		      "process's network namespace, so its connections enter namespace 'seg' from "
		      "outside and are diverted back to frontend 'decoys', whose sessions connect "
		      "again: a loop (take the address out of the decoys, or make the connection from "
		      "namespace 'seg' with 'namespace'): nothing added\n\n");
	expect_has(CLI_LVL_ADMIN, "show intercept decoys", "0 runtime change(s)\n");
	dp_config_put(rt.conf);
	rt.conf = base;
}

static void test_show_network_cmd(void **state)
{
	/* no network sections: the header only */
	expect_answer(CLI_LVL_OPER, "show network", "# section state object\n\n");
	expect_answer(CLI_LVL_OPER, "show network seg",
		      "# section state object\nNo such network section.\n\n");
	expect_answer(CLI_LVL_OPER, "show network a b", "usage: show network [<section>]\n\n");
	expect_answer(CLI_LVL_USER, "show network", "Permission denied\n\n");
	/* two sections, not applied: every object "planned"; a filter keeps
	 * one section (a name that is a prefix of another matches only itself) */
	{
		static const char cfg[] =
			"network seg\n    netns segns\n    uplink br-x veth\n    address 192.168.9.2/24\n"
			"network seg2\n    netns seg2ns\n    uplink br-x veth\n"
			"defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 5s\n"
			"    timeout server 5s\n"
			"frontend fe\n    bind 127.0.0.1:1\n    default_backend be\n"
			"backend be\n    server s1 127.0.0.1:7001\n";
		struct dp_config *base = rt.conf;
		char *a;
		int e;

		rt.conf = parse_cfg(cfg, &e);
		if (e)
			fail_msg("network config: %s", msgs);
		a = run(CLI_LVL_OPER, "show network");
		assert_true(!strncmp(a, "# section state object\nseg planned namespace 'segns'\n",
				     strlen("# section state object\nseg planned namespace 'segns'\n")));
		assert_non_null(strstr(a, "\nseg planned address 192.168.9.2/24 on 'eth0' in namespace 'segns'\n"));
		assert_non_null(strstr(a, "\nseg2 planned namespace 'seg2ns'\n"));
		free(a);
		a = run(CLI_LVL_OPER, "show network seg");
		assert_null(strstr(a, "seg2"));
		assert_non_null(strstr(a, "\nseg planned veth "));
		free(a);
		a = run(CLI_LVL_OPER, "show network seg2");
		assert_null(strstr(a, "'segns'"));
		assert_non_null(strstr(a, "\nseg2 planned namespace 'seg2ns'\n"));
		free(a);
		dp_config_put(rt.conf);
		rt.conf = base;
	}
}

static void test_show_info(void **state)
{
	char *out, pid[32];
	const char *order[] = { "Name: decoyproxy\n", "Version: ", "Pid: ", "Uptime: ", "Uptime_sec: ", "Ulimit-n: ",
				"Maxconn: 1000\n", "CurrConns: ", "CumConns: ", "node: ", "Stopping: 0\n", "Listeners: 2\n",
				"Start_time_sec: ", "Generation: " };
	const char *p;

	rt.actconn = 4;
	out = run(CLI_LVL_USER, "show info");
	rt.actconn = 0;
	snprintf(pid, sizeof(pid), "\nPid: %d\n", (int)getpid());
	assert_non_null(strstr(out, pid));
	assert_non_null(strstr(out, "\nCurrConns: 4\n"));
	assert_non_null(strstr(out, "\nUptime: 0d 0h00m"));
	p = out;
	for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
		const char *q = strstr(p, order[i]);

		if (!q)
			fail_msg("'%s' missing or out of order in:\n%s", order[i], out);
		p = q;
	}
	/* "Name: value" lines, then the empty line */
	for (const char *l = out; *l != '\n'; l = strchr(l, '\n') + 1)
		assert_non_null(memchr(l, ':', strcspn(l, "\n")));
	assert_true(!strcmp(out + strlen(out) - 2, "\n\n"));
	free(out);
}

/* ---- sockets (real loop, unix sockets in a temporary directory) ---- */

/* cli.c's CLI_OUT_LOWAT: a client's next command runs only while less
 * than this is waiting to be written */
#define CLI_OUT_LOWAT_TEST 16384

static char tmpdir[64];

static int setup_io(void **state)
{
	setup_cfg(state);
	rt.loop = ev_default_loop(0);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/stats-ut.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	return 0;
}

static int teardown_io(void **state)
{
	char cmd[128];

	teardown_cfg(state);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static struct dp_config *io_cfg(const char *global_lines)
{
	char buf[4096];
	struct dp_config *c;
	int e;

	snprintf(buf, sizeof(buf), "global\n%s%s", global_lines, BASE_CFG);
	c = parse_cfg(buf, &e);
	if (e)
		fail_msg("config: %s", msgs);
	return c;
}

/* c goes in service after oldc (NULL at start-up), as the module table
 * does: open (apply), then commit, which closes what oldc still holds. */
static int activate(struct dp_config *c, struct dp_config *oldc, char **err)
{
	int r = cli_open(c, oldc, err);

	if (r == 0)
		cli_commit(c, oldc);
	return r;
}

static void path_in(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "%s/%s", tmpdir, name);
}

static int connect_unix(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		close(fd);
		return -errno;
	}
	return fd;
}

static void spin(double secs)
{
	double end = ev_time() + secs;

	while (ev_time() < end) {
		ev_run(rt.loop, EVRUN_NOWAIT);
		usleep(1000);
	}
}

/* Runs the loop and reads fd until `suffix` ends what was read, EOF (when
 * want_eof) or `secs`. Returns what was read (caller frees); *eof tells. */
static char *collect(int fd, const char *suffix, bool want_eof, double secs, bool *eof)
{
	size_t len = 0, cap = 1 << 16;
	char *buf = malloc(cap);
	double end = ev_time() + secs;

	assert_non_null(buf);
	*eof = false;
	while (ev_time() < end) {
		ssize_t n;

		ev_run(rt.loop, EVRUN_NOWAIT);
		if (len + 4096 > cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		n = recv(fd, buf + len, cap - len - 1, 0);
		if (n > 0) {
			len += (size_t)n;
			buf[len] = '\0';
			if (!want_eof && suffix && len >= strlen(suffix) && !strcmp(buf + len - strlen(suffix), suffix))
				break;
			continue;
		}
		if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
			/* a reset after the data (unix sockets closed with
			 * unread input) ends the conversation too */
			*eof = true;
			break;
		}
		usleep(500);
	}
	buf[len] = '\0';
	return buf;
}

static void say(int fd, const char *s)
{
	assert_int_equal(send(fd, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s));
}

static void test_io_serve(void **state)
{
	char path[100], spec[256], *got;
	struct dp_config *c;
	struct stat st;
	char *err = NULL;
	bool eof;
	int fd;

	path_in(path, sizeof(path), "a.sock");
	snprintf(spec, sizeof(spec), "    stats socket %s mode 640 level operator\n", path);
	c = io_cfg(spec);
	assert_int_equal(activate(c, NULL, &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0640);

	/* non-interactive: one answer, then the server closes */
	fd = connect_unix(path);
	assert_true(fd >= 0);
	say(fd, "show cli level;show sess\n");
	got = collect(fd, NULL, true, 3.0, &eof);
	assert_true(eof);
	assert_string_equal(got, "operator\n\n\n");
	free(got);
	close(fd);

	/* several lines sent at once are all answered */
	fd = connect_unix(path);
	say(fd, "show cli level\nuser;show cli level\n");
	got = collect(fd, NULL, true, 3.0, &eof);
	assert_true(eof);
	assert_string_equal(got, "operator\n\n\nuser\n\n");
	free(got);
	close(fd);

	/* interactive */
	fd = connect_unix(path);
	say(fd, "prompt\n");
	got = collect(fd, "> ", false, 3.0, &eof);
	assert_string_equal(got, "\n> ");
	free(got);
	say(fd, "show cli level\r\n");
	got = collect(fd, "> ", false, 3.0, &eof);
	assert_string_equal(got, "operator\n\n> ");
	free(got);
	say(fd, "disable server be/s1\n");
	got = collect(fd, "> ", false, 3.0, &eof);
	assert_string_equal(got, "Permission denied\n\n> ");
	free(got);
	assert_int_equal(cli_count(), 1);
	say(fd, "quit\n");
	got = collect(fd, NULL, true, 3.0, &eof);
	assert_true(eof);
	assert_string_equal(got, "");
	free(got);
	close(fd);
	spin(0.01);
	assert_int_equal(cli_count(), 0);

	/* a line longer than the buffer is refused and the connection closed */
	fd = connect_unix(path);
	{
		char *big = malloc(CLI_LINE_MAX + 10);

		assert_non_null(big);
		memset(big, 'a', CLI_LINE_MAX + 9);
		big[CLI_LINE_MAX + 9] = '\0';
		send(fd, big, CLI_LINE_MAX + 9, MSG_NOSIGNAL);
		free(big);
	}
	got = collect(fd, NULL, true, 3.0, &eof);
	assert_true(eof);
	assert_string_equal(got, "Line too long (more than 16384 bytes).\n\n");
	free(got);
	close(fd);

	cli_close(c);
	assert_int_equal(lstat(path, &st), -1); /* unlinked */
	dp_config_put(c);
}

/* A slow reader of a big answer: the loop keeps running, the answer is
 * written as the reader drains it, whole and in order. */
static void test_io_backpressure(void **state)
{
	char path[100], spec[256], *got;
	struct dp_config *c;
	char *err = NULL;
	bool eof;
	int fd, n = 0;

	for (int i = 0; i < 5000; i++)
		fake_sess("fe", "s1", 100000 + i, "10.9.8.7");
	path_in(path, sizeof(path), "big.sock");
	snprintf(spec, sizeof(spec), "    stats socket %s level admin\n", path);
	c = io_cfg(spec);
	assert_int_equal(activate(c, NULL, &err), 0);
	fd = connect_unix(path);
	say(fd, "show sess\n");
	/* not reading: the loop must come back every time */
	for (int i = 0; i < 50; i++) {
		double t0 = ev_time();

		ev_run(rt.loop, EVRUN_NOWAIT);
		assert_true(ev_time() - t0 < 1.0);
		usleep(1000);
	}
	assert_int_equal(cli_count(), 1);
	got = collect(fd, NULL, true, 10.0, &eof);
	assert_true(eof);
	assert_true(strlen(got) > 500000); /* more than a socket buffer */
	for (const char *p = got; *p && *p != '\n'; p = strchr(p, '\n') + 1)
		n++;
	assert_int_equal(n, 5000);
	assert_int_equal(count_lines(got, "0x"), 5000);
	assert_true(!strcmp(got + strlen(got) - 2, "\n\n"));
	assert_non_null(strstr(got, "0x19a27: proto=tcpv4")); /* 100000 + 4999 */
	free(got);
	close(fd);
	cli_close(c);
	dp_config_put(c);
}

/* Reload: a socket at the same path is taken over (same file, new mode and
 * level), clients stay attached, removed sockets go away; a failing
 * cli_open gives everything back. */
static void test_io_reload(void **state)
{
	char a[100], b[100], cpath[100], d[100], e[100], f[100], spec[1024], *got;
	struct dp_config *c1, *c2, *c3, *c4;
	struct stat st1, st2;
	char *err = NULL;
	bool eof;
	int fd_old, fd, live;

	path_in(a, sizeof(a), "a.sock");
	path_in(b, sizeof(b), "b.sock");
	path_in(cpath, sizeof(cpath), "c.sock");
	path_in(d, sizeof(d), "d.sock");
	path_in(e, sizeof(e), "e.sock");
	path_in(f, sizeof(f), "f.sock");

	snprintf(spec, sizeof(spec), "    stats socket %s mode 660 level user\n    stats socket %s\n", a, b);
	c1 = io_cfg(spec);
	assert_int_equal(activate(c1, NULL, &err), 0);
	assert_int_equal(stat(a, &st1), 0);
	fd_old = connect_unix(a);
	say(fd_old, "prompt\n");
	got = collect(fd_old, "> ", false, 3.0, &eof);
	free(got);

	snprintf(spec, sizeof(spec), "    stats socket %s level admin\n    stats socket %s\n", a, cpath);
	c2 = io_cfg(spec);
	assert_int_equal(activate(c2, c1, &err), 0);
	cli_close(c1);
	dp_config_put(c1);
	assert_int_equal(stat(a, &st2), 0);
	assert_true(st1.st_ino == st2.st_ino); /* the same socket file */
	assert_int_equal(st2.st_mode & 0777, 0600); /* the new (default) mode */
	assert_int_equal(stat(b, &st2), -1);          /* removed with its line */
	assert_int_equal(stat(cpath, &st2), 0);       /* added */

	/* the old client is still served, at its own level */
	say(fd_old, "show cli level\n");
	got = collect(fd_old, "> ", false, 3.0, &eof);
	assert_string_equal(got, "user\n\n> ");
	free(got);
	/* new clients get the new level */
	fd = connect_unix(a);
	say(fd, "show cli level\n");
	got = collect(fd, NULL, true, 3.0, &eof);
	assert_string_equal(got, "admin\n\n");
	free(got);
	close(fd);

	/* a live socket owned by someone else at a new path: refused, and
	 * c2 keeps serving on its sockets */
	{
		struct sockaddr_un sun = { .sun_family = AF_UNIX };

		live = socket(AF_UNIX, SOCK_STREAM, 0);
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", d);
		assert_int_equal(bind(live, (struct sockaddr *)&sun, sizeof(sun)), 0);
		assert_int_equal(listen(live, 4), 0);
	}
	snprintf(spec, sizeof(spec), "    stats socket %s level user\n    stats socket %s\n    stats socket %s\n", a, e, d);
	c3 = io_cfg(spec);
	assert_true(cli_open(c3, c2, &err) < 0);
	assert_non_null(err);
	assert_non_null(strstr(err, "another process is already listening on it"));
	assert_non_null(strstr(err, d));
	free(err);
	err = NULL;
	assert_int_equal(stat(e, &st2), -1); /* what c3 opened is gone again */
	assert_int_equal(stat(d, &st2), 0);  /* the other process's socket is untouched */
	cli_close(c3); /* owns nothing: must not unlink a or d */
	dp_config_put(c3);
	assert_int_equal(stat(a, &st2), 0);
	fd = connect_unix(a);
	say(fd, "show cli level\n");
	got = collect(fd, NULL, true, 3.0, &eof);
	assert_string_equal(got, "admin\n\n");
	free(got);
	close(fd);
	close(live);

	/* d is now stale (nobody accepts): replaced. f is a regular file:
	 * refused and left alone. */
	snprintf(spec, sizeof(spec), "    stats socket %s\n    stats socket %s\n", a, d);
	c4 = io_cfg(spec);
	/* unchanged mode and owner are not re-applied (after a privilege drop
	 * that chmod would fail): an outside change stays */
	assert_int_equal(chmod(a, 0640), 0);
	assert_int_equal(activate(c4, c2, &err), 0);
	assert_int_equal(stat(a, &st2), 0);
	assert_int_equal(st2.st_mode & 0777, 0640);
	cli_close(c2);
	dp_config_put(c2);
	fd = connect_unix(d);
	assert_true(fd >= 0);
	say(fd, "show cli level\n");
	got = collect(fd, NULL, true, 3.0, &eof);
	assert_string_equal(got, "operator\n\n");
	free(got);
	close(fd);
	{
		int rf = open(f, O_CREAT | O_WRONLY, 0600);
		struct dp_config *c5;

		assert_true(rf >= 0);
		close(rf);
		snprintf(spec, sizeof(spec), "    stats socket %s\n    stats socket %s\n", a, f);
		c5 = io_cfg(spec);
		assert_true(cli_open(c5, c4, &err) < 0);
		assert_non_null(strstr(err, "the path exists and is not a socket"));
		free(err);
		err = NULL;
		assert_int_equal(stat(f, &st2), 0);
		assert_true(S_ISREG(st2.st_mode));
		dp_config_put(c5);
	}

	/* the generation in service closing = the process stopping: clients too */
	assert_int_equal(cli_count(), 1);
	cli_close(c4);
	assert_int_equal(cli_count(), 0);
	got = collect(fd_old, NULL, true, 1.0, &eof);
	assert_true(eof);
	free(got);
	close(fd_old);
	assert_int_equal(stat(a, &st2), -1);
	assert_int_equal(stat(d, &st2), -1);
	dp_config_put(c4);
}

static void test_io_maxconn_timeout(void **state)
{
	char path[100], spec[256], *got;
	struct dp_config *c;
	char *err = NULL;
	bool eof;
	int fd1, fd2, fd3;
	double t0;

	path_in(path, sizeof(path), "m.sock");
	snprintf(spec, sizeof(spec), "    stats socket %s level admin\n    stats maxconn 1\n    stats timeout 300ms\n", path);
	c = io_cfg(spec);
	assert_int_equal(activate(c, NULL, &err), 0);

	fd1 = connect_unix(path);
	say(fd1, "prompt\n");
	got = collect(fd1, "> ", false, 3.0, &eof);
	free(got);
	/* the second waits in the backlog while the first is connected */
	fd2 = connect_unix(path);
	assert_true(fd2 >= 0);
	say(fd2, "show cli level\n");
	got = collect(fd2, NULL, true, 0.15, &eof);
	assert_false(eof);
	assert_string_equal(got, "");
	free(got);
	assert_int_equal(cli_count(), 1);
	say(fd1, "quit\n");
	got = collect(fd1, NULL, true, 3.0, &eof);
	assert_true(eof);
	free(got);
	got = collect(fd2, NULL, true, 3.0, &eof);
	assert_true(eof);
	assert_string_equal(got, "admin\n\n");
	free(got);
	close(fd1);
	close(fd2);

	/* an idle client is closed after `stats timeout` */
	spin(0.01);
	fd3 = connect_unix(path);
	t0 = ev_time();
	got = collect(fd3, NULL, true, 3.0, &eof);
	assert_true(eof);
	assert_true(ev_time() - t0 >= 0.25);
	assert_true(ev_time() - t0 < 2.0);
	free(got);
	close(fd3);
	cli_close(c);
	dp_config_put(c);
}

/* The stats sockets are listeners of the listener layer, but none of the
 * frontends' limits apply to them: SIGTTOU (rt.admin_paused, set by
 * setup_cfg), a soft stop, the global maxconn; they are not the proxies'
 * listeners (not counted, not in show stat). The process-wide
 * fd-exhaustion pause does apply, and ends by itself. */
static void test_io_limits(void **state)
{
	char path[100], spec[256], *got;
	struct dp_config *c;
	char *err = NULL;
	bool eof;
	int fd;

	path_in(path, sizeof(path), "l.sock");
	snprintf(spec, sizeof(spec), "    stats socket %s level admin\n", path);
	c = io_cfg(spec);
	assert_int_equal(activate(c, NULL, &err), 0);
	assert_int_equal(dp_config_count_listeners(c), 2); /* BASE_CFG's two binds */

	rt.stopping = true;
	rt.actconn = rt.maxconn;
	fd = connect_unix(path);
	assert_true(fd >= 0);
	say(fd, "show cli level\n");
	got = collect(fd, NULL, true, 3.0, &eof);
	assert_true(eof);
	assert_string_equal(got, "admin\n\n");
	free(got);
	close(fd);
	rt.stopping = false;
	rt.actconn = 0;

	/* out of fds (EMFILE) anywhere: every listener pauses, this one too */
	errno = EMFILE;
	listeners_throttle();
	assert_true(rt.accept_paused);
	fd = connect_unix(path);
	assert_true(fd >= 0);
	say(fd, "show cli level\n");
	got = collect(fd, NULL, true, 0.05, &eof);
	assert_false(eof);
	assert_string_equal(got, "");
	free(got);
	got = collect(fd, NULL, true, 3.0, &eof);
	assert_true(eof);
	assert_false(rt.accept_paused);
	assert_string_equal(got, "admin\n\n");
	free(got);
	close(fd);
	assert_non_null(strstr(msgs, "pausing accept for 100 ms"));

	/* not a proxy: show stat has the configuration's rows only */
	{
		struct dp_config *saved = rt.conf;

		rt.conf = c;
		got = run(CLI_LVL_USER, "show stat");
		assert_int_equal(count_lines(got, "fe,"), 1);
		assert_null(strstr(got, "stats"));
		assert_null(strstr(got, "GLOBAL"));
		free(got);
		got = run(CLI_LVL_USER, "show cli sockets");
		snprintf(spec, sizeof(spec), "# socket lvl processes\nunix@%s admin all\n\n", path);
		assert_string_equal(got, spec);
		free(got);
		rt.conf = saved;
	}
	cli_close(c);
	dp_config_put(c);
}

/* Is fd closed by the other end (EOF or reset)? Drains what is readable. */
static bool peer_closed(int fd)
{
	char buf[4096];

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n > 0)
			continue;
		return n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
	}
}

/* Runs the loop for secs, returns the most bytes queued for CLI clients
 * at any time meanwhile. */
static size_t spin_peak(double secs)
{
	double end = ev_time() + secs;
	size_t peak = 0;

	while (ev_time() < end) {
		ev_run(rt.loop, EVRUN_NOWAIT);
		if (cli_queued() > peak)
			peak = cli_queued();
		usleep(500);
	}
	return peak;
}

/* Issue 18 item 4: a local user on a user-level socket can neither lock the
 * admin out (`stats maxconn` counts per socket), nor hold a slot by
 * trickling bytes (only a complete line or a fully written answer resets
 * the `stats timeout`), nor make the daemon queue megabytes (the next
 * command runs only once the answers before it are almost written). */
static void test_io_exhaustion(void **state)
{
	char adm[100], usr[100], spec[512], *got, *line;
	struct dp_config *c;
	char *err = NULL;
	double t0, closed_at[2] = { 0, 0 };
	size_t peak, n;
	int u[3], fd;
	bool eof;

	path_in(adm, sizeof(adm), "adm.sock");
	path_in(usr, sizeof(usr), "usr.sock");
	snprintf(spec, sizeof(spec),
		 "    stats socket %s level admin\n    stats socket %s mode 666 level user\n"
		 "    stats maxconn 2\n    stats timeout 400ms\n", adm, usr);
	c = io_cfg(spec);
	assert_int_equal(activate(c, NULL, &err), 0);

	/* two user clients fill their socket, a third waits in the backlog;
	 * the admin socket's slots are its own */
	t0 = ev_time();
	for (int i = 0; i < 3; i++) {
		u[i] = connect_unix(usr);
		assert_true(u[i] >= 0);
	}
	spin(0.05);
	assert_int_equal(cli_count(), 2);
	fd = connect_unix(adm);
	say(fd, "show cli level\n");
	got = collect(fd, NULL, true, 1.0, &eof);
	assert_true(eof);
	assert_string_equal(got, "admin\n\n");
	free(got);
	close(fd);

	/* bytes of a line that never ends: closed at `stats timeout` after
	 * connecting, whatever was trickled */
	while (ev_time() - t0 < 2.0 && !(closed_at[0] && closed_at[1])) {
		for (int i = 0; i < 2; i++) {
			if (closed_at[i])
				continue;
			send(u[i], "s", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			spin(0.02);
			if (peer_closed(u[i]))
				closed_at[i] = ev_time() - t0;
		}
	}
	for (int i = 0; i < 2; i++) {
		assert_true(closed_at[i] >= 0.35);
		assert_true(closed_at[i] < 1.2);
		close(u[i]);
	}
	/* the third one got a slot meanwhile */
	say(u[2], "show cli level\n");
	got = collect(u[2], NULL, true, 1.0, &eof);
	assert_true(eof);
	assert_string_equal(got, "user\n\n");
	free(got);
	close(u[2]);
	spin(0.01);
	assert_int_equal(cli_count(), 0);

	/* 1,024 unknown commands (the cap) in one line, to a client that never
	 * reads: at most CLI_OUT_LOWAT and one answer queued at any time (the
	 * kernel's socket buffer holds some more), then closed at the timeout */
	line = malloc(CLI_LINE_MAX);
	assert_non_null(line);
	for (n = 0; n + 3 < CLI_LINE_MAX; n += 2)
		memcpy(line + n, "x;", 2);
	line[n - 1] = '\n';
	fd = connect_unix(usr);
	assert_int_equal(send(fd, line, n, MSG_NOSIGNAL), (ssize_t)n);
	t0 = ev_time();
	peak = spin_peak(0.3);
	assert_true(peak > 0);
	assert_true(peak < CLI_OUT_LOWAT_TEST + 4096);
	while (cli_count() && ev_time() - t0 < 2.0)
		spin(0.01);
	assert_int_equal(cli_count(), 0);
	assert_true(ev_time() - t0 >= 0.35);
	close(fd);

	/* read, the same line has every answer, then the cap's message */
	fd = connect_unix(usr);
	assert_int_equal(send(fd, line, n, MSG_NOSIGNAL), (ssize_t)n);
	got = collect(fd, NULL, true, 5.0, &eof);
	assert_true(eof);
	assert_int_equal(count_lines(got, "Unknown command. Please enter"), CLI_MAX_CMDS);
	assert_true(!strcmp(got + strlen(got) - strlen(cap_msg), cap_msg));
	free(got);
	close(fd);

	/* the longest line of ';': 1 kB of empty answers, nothing more */
	memset(line, ';', CLI_LINE_MAX - 1);
	line[CLI_LINE_MAX - 1] = '\n';
	fd = connect_unix(usr);
	assert_int_equal(send(fd, line, CLI_LINE_MAX, MSG_NOSIGNAL), CLI_LINE_MAX);
	peak = spin_peak(0.1);
	assert_true(peak < 2048);
	got = collect(fd, NULL, true, 2.0, &eof);
	assert_true(eof);
	assert_int_equal(strlen(got), CLI_MAX_CMDS + strlen(cap_msg));
	free(got);
	close(fd);
	free(line);
	cli_close(c);
	dp_config_put(c);
}

/* cli_open/cli_commit/cli_close with no `stats` line at all. */
static void test_io_no_stats(void **state)
{
	struct dp_config *c = io_cfg("");
	char *err = NULL;
	int sv[2];
	bool eof;
	char *got;

	assert_int_equal(activate(c, NULL, &err), 0);
	/* a CLI attached by hand uses the defaults */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	assert_int_equal(cli_attach(sv[0], CLI_LVL_USER), 0);
	say(sv[1], "show cli level\n");
	got = collect(sv[1], NULL, true, 3.0, &eof);
	assert_true(eof);
	assert_string_equal(got, "user\n\n");
	free(got);
	close(sv[1]);
	assert_int_equal(cli_attach(-1, CLI_LVL_USER), -EINVAL);
	cli_close(c);
	cli_close(c);
	dp_config_put(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_kw_good, setup_plain),
		cmocka_unit_test_setup(test_kw_bad, setup_plain),
		cmocka_unit_test_setup(test_kw_section, setup_plain),
		cmocka_unit_test_setup_teardown(test_show_stat_header, setup_cfg, teardown_cfg),
		cmocka_unit_test_setup_teardown(test_show_stat_rows, setup_cfg, teardown_cfg),
		cmocka_unit_test_setup_teardown(test_show_stat_filters, setup_cfg, teardown_cfg),
		cmocka_unit_test_setup_teardown(test_server_state, setup_cfg, teardown_cfg),
		cmocka_unit_test_setup_teardown(test_levels, setup_cfg, teardown_cfg),
		cmocka_unit_test_setup_teardown(test_unknown_and_syntax, setup_cfg, teardown_cfg),
		cmocka_unit_test_setup_teardown(test_commands_per_line, setup_cfg, teardown_cfg),
		cmocka_unit_test_setup_teardown(test_sessions, setup_cfg, teardown_cfg),
		cmocka_unit_test_setup_teardown(test_truncation, setup_cfg, teardown_cfg),
		cmocka_unit_test_setup_teardown(test_reload, setup_cfg, teardown_cfg),
		cmocka_unit_test_setup_teardown(test_show_info, setup_cfg, teardown_cfg),
		cmocka_unit_test_setup_teardown(test_intercept_cmds, setup_cfg, teardown_cfg),
		cmocka_unit_test_setup_teardown(test_intercept_loop_cmd, setup_cfg, teardown_cfg),
		cmocka_unit_test_setup_teardown(test_show_network_cmd, setup_cfg, teardown_cfg),
		cmocka_unit_test_setup_teardown(test_io_serve, setup_io, teardown_io),
		cmocka_unit_test_setup_teardown(test_io_backpressure, setup_io, teardown_io),
		cmocka_unit_test_setup_teardown(test_io_reload, setup_io, teardown_io),
		cmocka_unit_test_setup_teardown(test_io_maxconn_timeout, setup_io, teardown_io),
		cmocka_unit_test_setup_teardown(test_io_limits, setup_io, teardown_io),
		cmocka_unit_test_setup_teardown(test_io_exhaustion, setup_io, teardown_io),
		cmocka_unit_test_setup_teardown(test_io_no_stats, setup_io, teardown_io),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
