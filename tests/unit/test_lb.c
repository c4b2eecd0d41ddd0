/* Unit tests: server selection. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <unistd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/addr.h"
#include "cfg/cfg.h"
#include "model/conf.h"
#include "core/lb.h"
#include "model/proxy.h"
#include "core/loop.h"
#include "model/server.h"
#include "log/msg.h"
#include "ctl/module.h"

static struct dp_config *load(const char *backend_body)
{
	struct dp_config *c = dp_config_new();
	char *buf = NULL;

	dp_msg.quiet = true;
	memprintf(&buf, "backend b\n timeout connect 1s\n timeout server 1s\n%s", backend_body);
	assert_int_equal(modules_init(), 0);
	assert_int_equal(cfg_parse_buffer(c, "lb.cfg", buf), 0);
	assert_int_equal(modules_finalize(c), 0);
	free(buf);
	return c;
}

static struct sockaddr_storage client(const char *a)
{
	struct addr_spec s;
	char *err = NULL;

	assert_int_equal(addr_parse(a, ADDR_F_PORT_NONE_OK, &s, &err), 0);
	return s.ss;
}

static void test_roundrobin_weights(void **state)
{
	struct dp_config *c = load(" server a 10.0.0.1:1 weight 3\n server b 10.0.0.2:1 weight 1\n");
	struct proxy *be = dp_config_find_proxy(c, "b", PR_CAP_BE);
	struct sockaddr_storage cl = client("1.1.1.1");
	int na = 0, nb = 0;
	char seq[9] = { 0 };

	for (int i = 0; i < 400; i++) {
		struct server *s;

		assert_int_equal(lb_pick(be, &cl, NULL, &s), LB_OK);
		if (i < 8)
			seq[i] = s->name[0];
		if (s->name[0] == 'a')
			na++;
		else
			nb++;
	}
	assert_int_equal(na, 300);
	assert_int_equal(nb, 100);
	/* smooth: b is interleaved, not bunched */
	assert_string_equal(seq, "aabaaaba");
	dp_config_put(c);
}

static void test_maxconn_and_queue(void **state)
{
	struct dp_config *c = load(" server a 10.0.0.1:1 maxconn 1\n server b 10.0.0.2:1 maxconn 1\n");
	struct proxy *be = dp_config_find_proxy(c, "b", PR_CAP_BE);
	struct sockaddr_storage cl = client("1.1.1.1");
	struct server *s1, *s2, *s3;

	assert_int_equal(lb_pick(be, &cl, NULL, &s1), LB_OK);
	s1->cur_conn++;
	assert_int_equal(lb_pick(be, &cl, NULL, &s2), LB_OK);
	s2->cur_conn++;
	assert_ptr_not_equal(s1, s2);
	assert_int_equal(lb_pick(be, &cl, NULL, &s3), LB_FULL);
	s1->cur_conn--;
	assert_int_equal(lb_pick(be, &cl, NULL, &s3), LB_OK);
	assert_ptr_equal(s3, s1);
	dp_config_put(c);
}

static void test_disabled_backup_nosrv(void **state)
{
	struct dp_config *c = load(" server a 10.0.0.1:1 disabled\n server k 10.0.0.9:1 backup\n");
	struct proxy *be = dp_config_find_proxy(c, "b", PR_CAP_BE);
	struct sockaddr_storage cl = client("1.1.1.1");
	struct server *s;

	assert_int_equal(lb_pick(be, &cl, NULL, &s), LB_OK);
	assert_string_equal(s->name, "k");   /* only the backup is usable */
	be->srv->flags &= ~SRV_F_DISABLED;
	assert_int_equal(lb_pick(be, &cl, NULL, &s), LB_OK);
	assert_string_equal(s->name, "a");   /* active again: backup unused */
	be->srv->admin = SRV_ADMIN_MAINT;
	be->srv->next->admin = SRV_ADMIN_MAINT;
	assert_int_equal(lb_pick(be, &cl, NULL, &s), LB_NOSRV);
	dp_config_put(c);
}

static void test_leastconn_first_source(void **state)
{
	struct dp_config *c = load(" balance leastconn\n server a 10.0.0.1:1\n server b 10.0.0.2:1\n");
	struct proxy *be = dp_config_find_proxy(c, "b", PR_CAP_BE);
	struct sockaddr_storage cl = client("1.1.1.1"), cl2 = client("2.2.2.2");
	struct server *s, *t;

	be->srv->cur_conn = 5;
	assert_int_equal(lb_pick(be, &cl, NULL, &s), LB_OK);
	assert_string_equal(s->name, "b");
	be->lbalgo = LB_FIRST;
	assert_int_equal(lb_pick(be, &cl, NULL, &s), LB_OK);
	assert_string_equal(s->name, "a");
	be->lbalgo = LB_SOURCE;
	be->srv->cur_conn = 0;
	assert_int_equal(lb_pick(be, &cl, NULL, &s), LB_OK);
	for (int i = 0; i < 20; i++) {
		assert_int_equal(lb_pick(be, &cl, NULL, &t), LB_OK);
		assert_ptr_equal(s, t); /* same client, same server */
	}
	/* different clients spread: over 64 addresses both servers are used */
	{
		int seen_a = 0, seen_b = 0;

		for (int i = 0; i < 64; i++) {
			char a[32];

			snprintf(a, sizeof(a), "10.9.%d.%d", i, i * 3);
			cl2 = client(a);
			assert_int_equal(lb_pick(be, &cl2, NULL, &t), LB_OK);
			if (t->name[0] == 'a')
				seen_a++;
			else
				seen_b++;
		}
		assert_true(seen_a > 8 && seen_b > 8);
	}
	dp_config_put(c);
}

static void test_exclude_for_redispatch(void **state)
{
	struct dp_config *c = load(" server a 10.0.0.1:1\n server b 10.0.0.2:1\n");
	struct proxy *be = dp_config_find_proxy(c, "b", PR_CAP_BE);
	struct sockaddr_storage cl = client("1.1.1.1");
	struct server *s;

	for (int i = 0; i < 5; i++) {
		assert_int_equal(lb_pick(be, &cl, be->srv, &s), LB_OK);
		assert_string_equal(s->name, "b");
	}
	dp_config_put(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundrobin_weights),
		cmocka_unit_test(test_maxconn_and_queue),
		cmocka_unit_test(test_disabled_backup_nosrv),
		cmocka_unit_test(test_leastconn_first_source),
		cmocka_unit_test(test_exclude_for_redispatch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
