/* Unit tests: the server keywords of issue 17 (slowstart, maxqueue,
 * minconn/fullconn, observe/on-error/error-limit, track, tfo): their
 * values, defaults and errors (file:line), and the dynamic limits of
 * core/srvdyn.c computed at given times. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cfg/cfg.h"
#include "core/lb.h"
#include "core/loop.h"
#include "core/srvdyn.h"
#include "ctl/module.h"
#include "ctl/srvstate.h"
#include "lib/addr.h"
#include "log/msg.h"
#include "model/conf.h"
#include "model/proxy.h"
#include "model/server.h"

static char msgs[16384];

static void capture(int kind, const char *m)
{
	static const char *const k[] = { "ALERT", "WARNING", "NOTICE", "DEBUG" };
	size_t l = strlen(msgs);

	snprintf(msgs + l, sizeof(msgs) - l, "%s: %s\n", k[kind], m);
}

static int setup(void **state)
{
	msgs[0] = '\0';
	ha_msg_hook = capture;
	dp_msg.quiet = true;
	return 0;
}

static int parse(const char *buf, struct dp_config **out)
{
	struct dp_config *c = dp_config_new();
	int errors;

	assert_non_null(c);
	msgs[0] = '\0';
	assert_int_equal(modules_init(), 0);
	errors = cfg_parse_buffer(c, "t.cfg", buf);
	if (!errors)
		errors = modules_finalize(c);
	if (out)
		*out = c;
	else
		dp_config_put(c);
	return errors;
}

static void expect_error(const char *buf, const char *needle)
{
	int e = parse(buf, NULL);

	if (e == 0 || !strstr(msgs, needle))
		fail_msg("expected an error containing \"%s\", got %d error(s):\n%s", needle, e, msgs);
}

static struct server *srv(struct dp_config *c, const char *be, const char *name)
{
	struct proxy *px = dp_config_find_proxy(c, be, PR_CAP_BE);

	assert_non_null(px);
	for (struct server *s = px->srv; s; s = s->next)
		if (!strcmp(s->name, name))
			return s;
	fail_msg("no server %s/%s", be, name);
	return NULL;
}

#define HDR "defaults\n mode tcp\n timeout connect 1s\n timeout client 1s\n timeout server 1s\n"

static void test_values_and_defaults(void **state)
{
	struct dp_config *c = NULL;
	struct server *s;

	assert_int_equal(parse(HDR "backend b\n default-server inter 3s slowstart 60s maxconn 250 maxqueue 256 weight 100\n"
				   " server a 10.0.0.1:80 check\n"
				   " server d 10.0.0.2:80 check minconn 10 maxconn 100 on-error mark-down error-limit 3 "
				   "observe layer4 tfo\n"
				   " server t 10.0.0.3:80 track a\n"
				   " server n 10.0.0.4:80 slowstart 0 maxqueue 0\n"
				   "backend plain\n server p 10.0.0.5:80\n", &c), 0);
	s = srv(c, "b", "a");
	assert_int_equal(s->slowstart, 60000);
	assert_int_equal(s->maxqueue, 256);
	assert_int_equal(s->maxconn, 250);
	assert_int_equal(s->minconn, 250);  /* maxconn alone: a static limit (HAProxy) */
	assert_int_equal(s->observe, SRV_OBS_NONE);
	assert_int_equal(s->on_error, SRV_ONERR_FAILCHK);
	assert_int_equal(s->error_limit, 10);
	assert_false(s->tfo);
	s = srv(c, "b", "d");
	assert_int_equal(s->minconn, 10);
	assert_int_equal(s->maxconn, 100);
	assert_int_equal(s->on_error, SRV_ONERR_MARKDWN);
	assert_int_equal(s->error_limit, 3);
	assert_int_equal(s->observe, SRV_OBS_LAYER4);
	assert_true(s->tfo);
	s = srv(c, "b", "t");
	assert_ptr_equal(s->track, srv(c, "b", "a"));
	assert_ptr_equal(srv(c, "b", "a")->trackers, s);
	s = srv(c, "b", "n");
	assert_int_equal(s->slowstart, 0);
	assert_int_equal(s->maxqueue, 0);
	/* HAProxy's defaults: no slowstart, unlimited queue, no minconn */
	s = srv(c, "plain", "p");
	assert_int_equal(s->slowstart, 0);
	assert_int_equal(s->maxqueue, 0);
	assert_int_equal(s->minconn, 0);
	assert_int_equal(s->maxconn, 0);
	assert_null(s->track);
	dp_config_put(c);

	/* minconn alone (or above maxconn) becomes the maxconn */
	assert_int_equal(parse(HDR "backend b\n server a 10.0.0.1:80 minconn 20\n server b 10.0.0.1:81 minconn 30 maxconn 5\n",
			       &c), 0);
	assert_int_equal(srv(c, "b", "a")->maxconn, 20);
	assert_int_equal(srv(c, "b", "b")->maxconn, 30);
	dp_config_put(c);
}

static void test_bad_values(void **state)
{
	expect_error(HDR "backend b\n server a 10.0.0.1:80 slowstart 5x\n", "[t.cfg:7] : 'server': server 'a': ");
	expect_error(HDR "backend b\n server a 10.0.0.1:80 slowstart 5x\n", "slowstart");
	expect_error(HDR "backend b\n server a 10.0.0.1:80 maxqueue -1\n", "[t.cfg:7]");
	expect_error(HDR "backend b\n server a 10.0.0.1:80 maxqueue lots\n", "'maxqueue'");
	expect_error(HDR "backend b\n server a 10.0.0.1:80 minconn x\n", "'minconn'");
	expect_error(HDR "backend b\n server a 10.0.0.1:80 on-error reboot\n",
		     "'on-error' expects one of 'fastinter', 'fail-check', 'sudden-death' or 'mark-down' but got 'reboot'");
	expect_error(HDR "backend b\n server a 10.0.0.1:80 check error-limit 0\n", "error-limit has to be > 0.");
	expect_error(HDR "backend b\n server a 10.0.0.1:80 check observe layer7\n",
		     "[t.cfg:7] : 'server': server 'a': 'layer7' can only be used in http proxies.");
	expect_error(HDR "backend b\n server a 10.0.0.1:80 check observe layer5\n",
		     "'observe' expects one of 'none', 'layer4', 'layer7' but got 'layer5'");
	expect_error(HDR "backend b\n server a 10.0.0.1:80 slowstart\n", "expects 1 argument");
	expect_error(HDR "backend b\n fullconn x\n server a 10.0.0.1:80\n", "[t.cfg:7]");
}

static void test_track_errors(void **state)
{
	expect_error(HDR "backend b\n server a 10.0.0.1:80\n server t 10.0.0.2:80 track a\n",
		     "[t.cfg:8] : 'server b/t' : unable to use b/a for tracking as it does not have any check nor agent "
		     "enabled.");
	expect_error(HDR "backend b\n server a 10.0.0.1:80 check\n server t 10.0.0.2:80 check track a\n",
		     "[t.cfg:8] : 'server b/t' : unable to enable checks and tracking at the same time!");
	expect_error(HDR "backend b\n server t 10.0.0.2:80 track nob/x\n",
		     "'server b/t' : unable to find required proxy 'nob' for tracking.");
	expect_error(HDR "backend b\n server t 10.0.0.2:80 track x\n",
		     "'server b/t' : unable to find required server 'x' for tracking.");
	expect_error(HDR "backend b\n server t 10.0.0.2:80 track t\n",
		     "'server b/t' : unable to track b/t as it belongs to a tracking chain looping back to b/t.");
	expect_error(HDR "backend b\n server u 10.0.0.1:80 track t\n server t 10.0.0.2:80 track u\n",
		     "'server b/t' : unable to track b/u as it belongs to a tracking chain looping back to b/t.");

	/* a chain across backends ending on a checked server is fine */
	struct dp_config *c = NULL;

	assert_int_equal(parse(HDR "backend b1\n server a 10.0.0.1:80 check\n"
				   "backend b2\n server u 10.0.0.1:81 track b1/a\n server v 10.0.0.1:82 track u\n",
			       &c), 0);
	assert_ptr_equal(srv(c, "b2", "v")->track, srv(c, "b2", "u"));
	assert_ptr_equal(srv(c, "b2", "u")->track, srv(c, "b1", "a"));
	/* a tracking server follows the tracked one's administrative state */
	assert_true(server_usable(srv(c, "b2", "v")));
	srv(c, "b1", "a")->admin = SRV_ADMIN_MAINT;
	assert_false(server_usable(srv(c, "b2", "v")));
	dp_config_put(c);
}

static void test_tfo_and_observe_warnings(void **state)
{
	struct dp_config *c = NULL;

	/* HAProxy's warning about retries, word for word */
	assert_int_equal(parse(HDR "backend b\n server a 10.0.0.1:80 tfo\n", &c), 0);
	assert_non_null(strstr(msgs, "WARNING: config : parsing [t.cfg:7] : 'server b/a' : server has tfo activated, the "
				     "backend should be configured with at least 'conn-failure', 'empty-response' and "
				     "'response-timeout' or we wouldn't be able to retry the connection on failure."));
	dp_config_put(c);
	assert_int_equal(parse(HDR "backend b\n server a 10.0.0.1:80 observe layer4\n", &c), 0);
	assert_non_null(strstr(msgs, "'server b/a' : 'observe' has no effect without 'check'"));
	dp_config_put(c);
}

static void test_dynamic_maxconn(void **state)
{
	struct dp_config *c = NULL;
	struct proxy *be;
	struct server *s;

	assert_int_equal(parse(HDR "frontend f\n bind :1\n maxconn 1000\n default_backend b\n"
				   "frontend g\n bind :2\n maxconn 500\n use_backend b if TRUE\n default_backend b\n"
				   "backend b\n server a 10.0.0.1:80 minconn 10 maxconn 100\n"
				   "backend full\n fullconn 200\n server a 10.0.0.1:80 minconn 10 maxconn 100\n", &c),
			 0);
	be = dp_config_find_proxy(c, "b", PR_CAP_BE);
	/* HAProxy's default: 10% of the frontends' maxconn (each counted once) */
	assert_int_equal(srvdyn_fullconn(be), 150);
	s = be->srv;
	be->beconn = 0;
	assert_int_equal(srvdyn_maxconn(s, 0), 10);    /* at least minconn */
	be->beconn = 75;
	assert_int_equal(srvdyn_maxconn(s, 0), 50);    /* maxconn * beconn / fullconn */
	be->beconn = 150;
	assert_int_equal(srvdyn_maxconn(s, 0), 100);   /* at fullconn: maxconn */
	be->beconn = 0;
	be = dp_config_find_proxy(c, "full", PR_CAP_BE);
	assert_int_equal(srvdyn_fullconn(be), 200);
	be->beconn = 100;
	assert_int_equal(srvdyn_maxconn(be->srv, 0), 50);
	be->beconn = 0;
	dp_config_put(c);

	/* a frontend without maxconn counts the global one */
	assert_int_equal(parse("global\n maxconn 2000\n" HDR "frontend f\n bind :1\n default_backend b\n"
			       "backend b\n server a 10.0.0.1:80 minconn 1 maxconn 10\n", &c), 0);
	assert_int_equal(srvdyn_fullconn(dp_config_find_proxy(c, "b", PR_CAP_BE)), 200);
	dp_config_put(c);
	/* no frontend at all: 1 (no division by zero) */
	assert_int_equal(parse(HDR "backend b\n server a 10.0.0.1:80 minconn 1 maxconn 10\n", &c), 0);
	assert_int_equal(srvdyn_fullconn(dp_config_find_proxy(c, "b", PR_CAP_BE)), 1);
	dp_config_put(c);
}

static void test_slowstart_ramp(void **state)
{
	struct dp_config *c = NULL;
	struct server *s;

	assert_int_equal(parse(HDR "backend b\n server a 10.0.0.1:80 check slowstart 10s weight 100 maxconn 50\n", &c), 0);
	s = srv(c, "b", "a");
	/* at start-up: no ramp (HAProxy: only after a failure) */
	assert_int_equal(srvdyn_eweight(s, 1000.0), 100);
	assert_int_equal(srvdyn_maxconn(s, 1000.0), 50);
	assert_int_equal(srvdyn_ramp_pct(s, 1000.0), 100);
	/* came up at t=1000 */
	s->warming = true;
	s->last_change = 1000.0;
	assert_int_equal(srvdyn_eweight(s, 1000.0), 1);     /* at least 1 */
	assert_int_equal(srvdyn_maxconn(s, 1000.0), 1);
	assert_int_equal(srvdyn_ramp_pct(s, 1002.5), 25);
	assert_int_equal(srvdyn_eweight(s, 1002.5), 25);
	assert_int_equal(srvdyn_maxconn(s, 1002.5), 12);
	assert_int_equal(srvdyn_eweight(s, 1005.0), 50);
	assert_int_equal(srvdyn_eweight(s, 1010.0), 100);
	assert_int_equal(srvdyn_maxconn(s, 1010.0), 50);
	assert_int_equal(srvdyn_ramp_pct(s, 1011.0), 100);
	s->weight = 0;  /* drained by weight: stays 0 */
	assert_int_equal(srvdyn_eweight(s, 1005.0), 0);
	dp_config_put(c);
}

static void test_maxqueue_admit(void **state)
{
	struct dp_config *c = NULL;
	struct proxy *be;
	struct server *s, *bound = NULL;

	assert_int_equal(parse(HDR "backend b\n balance source\n server a 10.0.0.1:80 maxconn 1 maxqueue 2\n"
				   "backend r\n balance source\n option redispatch\n server a 10.0.0.1:80 maxconn 1 maxqueue 1\n",
			       &c), 0);
	be = dp_config_find_proxy(c, "b", PR_CAP_BE);
	s = be->srv;
	assert_int_equal(srvq_admit(be, NULL, &bound), SRVQ_QUEUE);  /* other algorithms: backend queue */
	assert_null(bound);
	assert_int_equal(srvq_admit(be, s, &bound), SRVQ_QUEUE);
	assert_ptr_equal(bound, s);
	s->nbpend = 2;
	assert_int_equal(srvq_admit(be, s, &bound), SRVQ_REFUSE);   /* no redispatch: closed, "SQ" */
	s->nbpend = 0;
	be = dp_config_find_proxy(c, "r", PR_CAP_BE);
	be->srv->nbpend = 1;
	assert_int_equal(srvq_admit(be, be->srv, &bound), SRVQ_REDISPATCH);
	be->srv->nbpend = 0;
	dp_config_put(c);
}

/* the server-state file: srv_time_since_last_change is real, every check
 * status has HAProxy's number (HANA included), and both are read back */
static void test_state_file_fields(void **state)
{
	struct dp_config *c = NULL;
	struct server *s;
	char line[512], *f[32], *save = NULL;
	int nf = 0;

	rt.loop = ev_default_loop(0);
	assert_non_null(rt.loop);
	ev_now_update(rt.loop);
	assert_int_equal(parse(HDR "backend b\n server a 10.0.0.1:80 check\n", &c), 0);
	s = srv(c, "b", "a");
	s->last_change = ev_now(rt.loop) - 42.2;
	snprintf(s->chk_st, sizeof(s->chk_st), "HANA");
	assert_true(srvstate_line(line, sizeof(line), s, 3, 1) > 0);
	for (char *w = strtok_r(line, " ", &save); w && nf < 32; w = strtok_r(NULL, " ", &save))
		f[nf++] = w;
	assert_int_equal(nf, 25);
	assert_string_equal(f[9], "42");   /* srv_time_since_last_change */
	assert_string_equal(f[10], "4");   /* srv_check_status: HCHK_STATUS_HANA */
	snprintf(s->chk_st, sizeof(s->chk_st), "L7STS");
	assert_true(srvstate_line(line, sizeof(line), s, 3, 1) > 0);
	assert_non_null(strstr(line, " 42 16 "));
	/* read back */
	s->chk_st[0] = '\0';
	s->last_change = 0;
	assert_int_equal(srvstate_apply(s->px, "1\n3 b 1 a 10.0.0.1 2 0 1 1 100 8 2 3 6 0 0 0 - 80 - 0 0 - - 0\n", "f"), 1);
	assert_true(ev_now(rt.loop) - s->last_change > 99.9 && ev_now(rt.loop) - s->last_change < 100.1);
	assert_string_equal(s->chk_st, "L4CON");
	dp_config_put(c);
	ev_loop_destroy(rt.loop);
	rt.loop = NULL;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_values_and_defaults, setup),
		cmocka_unit_test_setup(test_bad_values, setup),
		cmocka_unit_test_setup(test_track_errors, setup),
		cmocka_unit_test_setup(test_tfo_and_observe_warnings, setup),
		cmocka_unit_test_setup(test_dynamic_maxconn, setup),
		cmocka_unit_test_setup(test_slowstart_ramp, setup),
		cmocka_unit_test_setup(test_maxqueue_admit, setup),
		cmocka_unit_test_setup(test_state_file_fields, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
