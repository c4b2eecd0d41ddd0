/* test_counters.c — per-thread counters (model/counters.h): slots on their
 * own cache lines, writers on 4 threads at once with no lost update, the
 * readers (sums, `show stat`, `show info`) while they write, and a
 * reload's carry-over of every thread's slot. Run under ThreadSanitizer by
 * make check-tsan.
 */
#include "config.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <errno.h>
#include <fcntl.h>
#include <cmocka.h>

#include "cfg/cfg.h"
#include "core/channel.h"
#include "core/connect.h"
#include "core/loop.h"
#include "ctl/cli.h"
#include "ctl/module.h"
#include "lib/thread.h"
#include "log/log.h"
#include "log/msg.h"
#include "model/conf.h"
#include "model/counters.h"
#include "model/proxy.h"
#include "model/server.h"
#include "net/ns.h"
#include "rules/pattern.h"
#include "rules/sample.h"

#define NTHR 4
#define ROUNDS 20000

static const char CFG[] =
	"global\n"
	"    maxconn 100\n"
	"defaults\n"
	"    mode tcp\n"
	"    timeout connect 1s\n"
	"    timeout client 1s\n"
	"    timeout server 1s\n"
	"frontend fe\n"
	"    bind 127.0.0.1:1\n"
	"    default_backend be\n"
	"backend be\n"
	"    server s1 127.0.0.1:7001\n";

static void quiet(int kind, const char *m)
{
	(void)kind;
	(void)m;
}

static struct dp_config *parse(void)
{
	struct dp_config *c = dp_config_new();

	assert_non_null(c);
	assert_int_equal(modules_init(), 0);
	assert_int_equal(cfg_parse_buffer(c, "t.cfg", CFG), 0);
	assert_int_equal(modules_finalize(c), 0);
	return c;
}

static struct proxy *px_named(struct dp_config *c, const char *name)
{
	for (struct proxy *px = c->proxies; px; px = px->next)
		if (px->name && !strcmp(px->name, name))
			return px;
	fail_msg("no proxy %s", name);
	return NULL;
}

static int setup(void **state)
{
	(void)state;
	ha_msg_hook = quiet;
	dp_msg.quiet = true;
	rt.maxconn = 100;
	rt.conf = parse();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	dp_config_put(rt.conf);
	rt.conf = NULL;
	dp_nbthread = 1;
	return 0;
}

static char *run(const char *line)
{
	struct cli_ctx cx = { .level = CLI_LVL_ADMIN };
	struct cli_buf out = { 0 };
	char *s;

	cli_exec_line(&cx, line, &out);
	s = strdup(out.data ? out.data : "");
	cli_buf_reset(&out);
	assert_non_null(s);
	return s;
}

/* field col (0-based) of the CSV row px,sv in a `show stat` answer */
static unsigned long long stat_u(const char *answer, const char *px, const char *sv, int col)
{
	char head[64];
	const char *p;

	snprintf(head, sizeof(head), "\n%s,%s,", px, sv);
	p = strstr(answer, head);
	if (!p)
		fail_msg("no row %s/%s in:\n%s", px, sv, answer);
	p++;
	for (int i = 0; i < col; i++) {
		p = strchr(p, ',');
		assert_non_null(p);
		p++;
	}
	return strtoull(p, NULL, 10);
}

static unsigned long long info_u(const char *answer, const char *name)
{
	char head[64];
	const char *p;

	snprintf(head, sizeof(head), "\n%s: ", name);
	p = strstr(answer, head);
	if (!p)
		fail_msg("no %s in:\n%s", name, answer);
	return strtoull(p + strlen(head), NULL, 10);
}

/* ---- layout ---- */

static void test_slots_own_lines(void **state)
{
	struct proxy *fe = px_named(rt.conf, "fe");
	struct server *s1 = px_named(rt.conf, "be")->srv;

	(void)state;
	assert_int_equal((uintptr_t)fe->cnt % CNT_LINE, 0);
	assert_int_equal((uintptr_t)s1->cnt % CNT_LINE, 0);
	assert_int_equal(sizeof(fe->cnt[0]) % CNT_LINE, 0);
	assert_int_equal(sizeof(s1->cnt[0]) % CNT_LINE, 0);
	assert_int_equal(sizeof(pt_cnt[0]) % CNT_LINE, 0);
	assert_true(sizeof(fe->cnt[0]) >= sizeof(struct px_counters));
	assert_true(sizeof(s1->cnt[0]) >= sizeof(struct srv_counters));
	/* only the threads that ran are summed */
	fe->cnt[5].v.cum_fe = 1000;
	dp_nbthread = 5;
	assert_int_equal(px_cnt_sum(fe).cum_fe, 0);
	dp_nbthread = 6;
	assert_int_equal(px_cnt_sum(fe).cum_fe, 1000);
	fe->cnt[5].v.cum_fe = 0;
	dp_nbthread = 1;
}

/* ---- writers on several threads ---- */

struct worker {
	pthread_t th;
	unsigned id;
	struct proxy *fe, *be;
	struct server *s1;
};

static unsigned long long rare_events;
static int go;

static void *work(void *arg)
{
	struct worker *w = arg;

	tid = w->id;
	while (!__atomic_load_n(&go, __ATOMIC_ACQUIRE))
		;
	for (unsigned i = 0; i < ROUNDS; i++) {
		/* the data path's lines (core/sess.c, sess_conn.c) */
		PT_CNT_INC(cum_conn);
		CNT_INC(w->fe, cum_fe);
		CNT_INC(w->be, cum_be);
		CNT_INC(w->s1, cum_conn);
		CNT_ADD(w->fe, bytes_in, 3);
		CNT_ADD(w->fe, bytes_out, 5);
		CNT_ADD(w->s1, bytes_in, 3);
		CNT_ADD(w->s1, bytes_out, 5);
		if (i % 16 == 0) {
			CNT_INC(w->s1, retries);
			RARE_INC(rare_events);
			RARE_INC(src_client_collisions);
		}
	}
	return NULL;
}

static void test_threads_no_lost_update(void **state)
{
	struct worker w[NTHR];
	struct proxy *fe = px_named(rt.conf, "fe"), *be = px_named(rt.conf, "be");
	struct server *s1 = be->srv;
	unsigned long long conn0, coll0, last = 0, n = (unsigned long long)NTHR * ROUNDS;
	unsigned long long rare = (unsigned long long)NTHR * ((ROUNDS + 15) / 16);
	char *out;

	(void)state;
	dp_nbthread = NTHR;
	conn0 = pt_cnt_sum().cum_conn;
	coll0 = RARE_GET(src_client_collisions);
	rare_events = 0;
	go = 0;
	for (unsigned i = 0; i < NTHR; i++) {
		w[i] = (struct worker){ .id = i, .fe = fe, .be = be, .s1 = s1 };
		assert_int_equal(pthread_create(&w[i].th, NULL, work, &w[i]), 0);
	}
	__atomic_store_n(&go, 1, __ATOMIC_RELEASE);
	/* readers while the threads write: each sum only grows, never past
	 * the end (no torn value), and the CLI's walk reads them too */
	for (int k = 0; k < 50; k++) {
		unsigned long long v = px_cnt_sum(fe).cum_fe;

		assert_true(v >= last);
		assert_true(v <= n);
		last = v;
		if (k % 10 == 0)
			free(run("show stat"));
	}
	for (unsigned i = 0; i < NTHR; i++)
		assert_int_equal(pthread_join(w[i].th, NULL), 0);

	assert_int_equal(px_cnt_sum(fe).cum_fe, n);
	assert_int_equal(px_cnt_sum(fe).bytes_in, 3 * n);
	assert_int_equal(px_cnt_sum(fe).bytes_out, 5 * n);
	assert_int_equal(px_cnt_sum(be).cum_be, n);
	assert_int_equal(srv_cnt_sum(s1).cum_conn, n);
	assert_int_equal(srv_cnt_sum(s1).retries, rare);
	assert_int_equal(pt_cnt_sum().cum_conn - conn0, n);
	assert_int_equal(RARE_GET(rare_events), rare);
	assert_int_equal(RARE_GET(src_client_collisions) - coll0, rare);
	/* each thread wrote its own slot only */
	for (unsigned i = 0; i < NTHR; i++)
		assert_int_equal(fe->cnt[i].v.cum_fe, ROUNDS);

	/* what an operator reads: the sums */
	out = run("show stat");
	assert_int_equal(stat_u(out, "fe", "FRONTEND", 7), n);     /* stot */
	assert_int_equal(stat_u(out, "fe", "FRONTEND", 8), 3 * n); /* bin */
	assert_int_equal(stat_u(out, "fe", "FRONTEND", 9), 5 * n); /* bout */
	assert_int_equal(stat_u(out, "be", "s1", 7), n);
	assert_int_equal(stat_u(out, "be", "s1", 15), rare);       /* wretr */
	assert_int_equal(stat_u(out, "be", "BACKEND", 7), n);
	assert_int_equal(stat_u(out, "be", "BACKEND", 15), rare);
	free(out);
	out = run("show info");
	assert_int_equal(info_u(out, "CumConns"), conn0 + n);
	assert_int_equal(info_u(out, "UsesrcClientCollisions"), coll0 + rare);
	free(out);
	dp_nbthread = 1;
}

/* ---- clear counters ---- */

static char *run_at(int level, const char *line)
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

static void test_clear_counters_all(void **state)
{
	struct proxy *fe = px_named(rt.conf, "fe"), *be = px_named(rt.conf, "be");
	struct server *s1 = be->srv;
	unsigned long long conns;
	char *out;

	(void)state;
	dp_nbthread = 3;
	for (unsigned t = 0; t < 3; t++) {
		fe->cnt[t].v.cum_fe = 5;
		be->cnt[t].v.bytes_out = 7;
		s1->cnt[t].v.retries = 2;
	}
	PT_CNT_INC(cum_conn);
	conns = pt_cnt_sum().cum_conn;
	/* operator: not all of it; admin: yes */
	out = run_at(CLI_LVL_OPER, "clear counters all");
	assert_string_equal(out, "Permission denied\n\n");
	free(out);
	assert_int_equal(px_cnt_sum(fe).cum_fe, 15);
	out = run_at(CLI_LVL_OPER, "clear counters");
	assert_non_null(strstr(out, "nothing to clear"));
	free(out);
	out = run_at(CLI_LVL_ADMIN, "clear counters everything");
	assert_string_equal(out, "'clear counters' only accepts 'all'.\n\n");
	free(out);
	out = run_at(CLI_LVL_ADMIN, "clear counters all");
	assert_string_equal(out, "\n");
	free(out);
	for (unsigned t = 0; t < DP_MAX_THREADS; t++) {
		assert_int_equal(fe->cnt[t].v.cum_fe, 0);
		assert_int_equal(be->cnt[t].v.bytes_out, 0);
		assert_int_equal(s1->cnt[t].v.retries, 0);
	}
	out = run("show stat");
	assert_int_equal(stat_u(out, "fe", "FRONTEND", 7), 0);
	assert_int_equal(stat_u(out, "be", "BACKEND", 9), 0);
	assert_int_equal(stat_u(out, "be", "s1", 15), 0);
	free(out);
	/* the process total stays */
	assert_int_equal(pt_cnt_sum().cum_conn, conns);
	dp_nbthread = 1;
}

/* ---- reload ---- */

static void test_carry_every_slot(void **state)
{
	struct dp_config *old = parse(), *nc = parse();
	struct proxy *ofe = px_named(old, "fe"), *nfe = px_named(nc, "fe");
	struct server *os = px_named(old, "be")->srv, *ns = px_named(nc, "be")->srv;

	(void)state;
	dp_nbthread = 3;
	for (unsigned t = 0; t < 3; t++) {
		ofe->cnt[t].v.cum_fe = 10 + t;
		ofe->cnt[t].v.bytes_out = 100 * (t + 1);
		os->cnt[t].v.failed_conns = t + 1;
		os->cnt[t].v.chk_down_transitions = 7;
	}
	dp_config_carry_over(nc, old);
	for (unsigned t = 0; t < 3; t++) {
		assert_int_equal(nfe->cnt[t].v.cum_fe, 10 + t);
		assert_int_equal(nfe->cnt[t].v.bytes_out, 100 * (t + 1));
		assert_int_equal(ns->cnt[t].v.failed_conns, t + 1);
	}
	assert_int_equal(px_cnt_sum(nfe).cum_fe, 33);
	assert_int_equal(px_cnt_sum(nfe).bytes_out, 600);
	assert_int_equal(srv_cnt_sum(ns).failed_conns, 6);
	assert_int_equal(srv_cnt_sum(ns).chk_down_transitions, 21);
	/* counting goes on from there in the new generation */
	CNT_INC(nfe, cum_fe);
	assert_int_equal(px_cnt_sum(nfe).cum_fe, 34);
	assert_int_equal(px_cnt_sum(ofe).cum_fe, 33);
	dp_nbthread = 1;
	dp_config_put(old);
	dp_config_put(nc);
}

/* ---- a log target shared by several threads ---- */

#define LOG_ROUNDS 2000

static void *log_work(void *arg)
{
	struct log_target *t = arg;
	unsigned long long lost = 0;

	for (int i = 0; i < LOG_ROUNDS; i++)
		if (log_target_send(t, 6, "x", "a line from a worker", 20) < 0)
			lost++;
	return (void *)(uintptr_t)lost;
}

static void test_log_target_threads(void **state)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char path[64], *argv[2] = { path, "local0" }, *err = NULL, buf[256];
	struct log_target *t = NULL;
	pthread_t th[NTHR];
	unsigned long long lost = 0, got = 0;
	int rx, rcvbuf = 4096;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/dp-test-counters-%d.sock", (int)getpid());
	unlink(path);
	strcpy(sun.sun_path, path);
	rx = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(rx >= 0);
	/* a small receive buffer: some frames are dropped, and counted */
	setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	assert_int_equal(bind(rx, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(log_target_parse(2, argv, &t, &err), 0);
	assert_int_equal(log_target_open(t, &err), 0);
	for (int i = 0; i < NTHR; i++)
		assert_int_equal(pthread_create(&th[i], NULL, log_work, t), 0);
	for (int i = 0; i < NTHR; i++) {
		void *r;

		assert_int_equal(pthread_join(th[i], &r), 0);
		lost += (uintptr_t)r;
	}
	while (recv(rx, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		got++;
	/* every frame is counted once: sent (and received) or lost */
	assert_int_equal(t->sent + t->drops + t->errors, (unsigned long long)NTHR * LOG_ROUNDS);
	assert_int_equal(t->drops + t->errors, lost);
	assert_int_equal(t->sent, got);
	close(rx);
	unlink(path);
	log_target_free(t);
}

/* ---- namespace switches on two threads at once ---- */

struct ns_pair {
	int nsfd;
	int inner_rc;           /* the second thread's ns_run() while the first is inside */
	pthread_barrier_t in, out;
};

static int inside_second(void *arg)
{
	(void)arg;
	return 7;
}

static void *second(void *arg)
{
	struct ns_pair *p = arg;

	pthread_barrier_wait(&p->in);
	/* the first thread is inside its ns_run(): this thread is not */
	p->inner_rc = ns_run(p->nsfd, inside_second, NULL);
	pthread_barrier_wait(&p->out);
	return NULL;
}

static int inside_first(void *arg)
{
	struct ns_pair *p = arg;

	pthread_barrier_wait(&p->in);
	pthread_barrier_wait(&p->out);
	/* nesting on this thread is still refused */
	return ns_run(p->nsfd, inside_second, NULL);
}

static void test_ns_run_per_thread(void **state)
{
	struct ns_pair p = { .inner_rc = -1 };
	pthread_t th;
	int rc;

	(void)state;
	p.nsfd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	assert_true(p.nsfd >= 0);
	assert_int_equal(ns_init(), 0);
	/* setns() needs CAP_SYS_ADMIN */
	rc = ns_run(p.nsfd, inside_second, NULL);
	if (rc == -EPERM) {
		printf("SKIP test_ns_run_per_thread: setns() not permitted here (needs root)\n");
		close(p.nsfd);
		ns_fini();
		skip();
	}
	assert_int_equal(rc, 7);
	pthread_barrier_init(&p.in, NULL, 2);
	pthread_barrier_init(&p.out, NULL, 2);
	assert_int_equal(pthread_create(&th, NULL, second, &p), 0);
	assert_int_equal(ns_run(p.nsfd, inside_first, &p), -EBUSY);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(p.inner_rc, 7);
	pthread_barrier_destroy(&p.in);
	pthread_barrier_destroy(&p.out);
	close(p.nsfd);
	ns_fini();
}

/* ---- buffer pools, one per thread ---- */

#define HELD 3

struct pool_worker {
	pthread_t th;
	unsigned id;
	pthread_barrier_t *held, *released;
	int rounds_ok, nbuf;    /* rounds that moved bytes, buffers held */
};

static void *pool_work(void *arg)
{
	struct pool_worker *w = arg;
	struct chan c[HELD] = { 0 };
	int sp[HELD][2];

	tid = w->id;
	for (int i = 0; i < HELD; i++)
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sp[i]), 0);
	/* buffers taken and returned on this thread, over and over */
	for (int r = 0; r < 200; r++) {
		w->rounds_ok += write(sp[0][0], "hello", 5) == 5 && chan_recv(&c[0], sp[0][1]) == PUMP_PROGRESS;
		chan_release(&c[0]);
	}
	/* then HELD buffers held at once while the main thread counts */
	for (int i = 0; i < HELD; i++) {
		assert_int_equal(write(sp[i][0], "hello", 5), 5);
		assert_int_equal(chan_recv(&c[i], sp[i][1]), PUMP_PROGRESS);
	}
	for (int i = 0; i < HELD; i++)
		w->nbuf += c[i].buf != NULL;
	pthread_barrier_wait(w->held);
	/* the main thread counts, then lets go */
	pthread_barrier_wait(w->held);
	for (int i = 0; i < HELD; i++)
		chan_release(&c[i]);
	pthread_barrier_wait(w->released);
	/* this thread's free buffers: freed by this thread */
	pump_pool_trim();
	for (int i = 0; i < HELD; i++) {
		close(sp[i][0]);
		close(sp[i][1]);
	}
	return NULL;
}

static void test_pool_per_thread(void **state)
{
	struct pool_worker w[NTHR];
	pthread_barrier_t held, released;
	size_t used0, alloc0;

	(void)state;
	pump_pool_trim();
	used0 = pump_pool_in_use();
	alloc0 = pump_pool_allocated();
	dp_nbthread = NTHR + 1;
	pthread_barrier_init(&held, NULL, NTHR + 1);
	pthread_barrier_init(&released, NULL, NTHR + 1);
	for (unsigned i = 0; i < NTHR; i++) {
		w[i] = (struct pool_worker){ .id = i + 1, .held = &held, .released = &released };
		assert_int_equal(pthread_create(&w[i].th, NULL, pool_work, &w[i]), 0);
	}
	pthread_barrier_wait(&held);
	assert_int_equal(pump_pool_in_use(), used0 + NTHR * HELD);
	/* each thread reuses its own buffers: HELD each, not one per round */
	assert_int_equal(pump_pool_allocated(), alloc0 + NTHR * HELD);
	pthread_barrier_wait(&held);
	pthread_barrier_wait(&released);
	for (unsigned i = 0; i < NTHR; i++) {
		assert_int_equal(pthread_join(w[i].th, NULL), 0);
		assert_int_equal(w[i].rounds_ok, 200);
		assert_int_equal(w[i].nbuf, HELD);
	}
	assert_int_equal(pump_pool_in_use(), used0);
	assert_int_equal(pump_pool_allocated(), alloc0);
	pthread_barrier_destroy(&held);
	pthread_barrier_destroy(&released);
	dp_nbthread = 1;
}

/* ---- maps changed from the CLI while threads match ---- */

#define MAP_READERS 3
#define MAP_LOOKUPS 6000
#define MAP_CHANGES 1500

struct map_reader {
	pthread_t th;
	unsigned id;
	const struct smp_conv_kw *conv;
	struct pat_expr *e;
	unsigned long long hits, bad;
};

static int map_stop;

static void *map_read(void *arg)
{
	struct map_reader *w = arg;
	struct smp_arg a[2] = { { .ptr = w->e } };

	tid = w->id;
	for (int i = 0; i < MAP_LOOKUPS || !__atomic_load_n(&map_stop, __ATOMIC_ACQUIRE); i++) {
		char key[8];
		struct sample smp = { .type = SMP_T_STR };

		snprintf(key, sizeof(key), "k%d", i % 4);
		smp.u.str.ptr = key;
		smp.u.str.len = strlen(key);
		/* the `map` converter, as a rule runs it: the value it returns
		 * stays readable after the lock is gone (a copy) */
		if (w->conv->fn(a, &smp, NULL)) {
			size_t n = smp.u.str.len;

			w->hits++;
			/* "v<k>" or "v<k>-set-<pad>": never another key's, never freed */
			if (smp.type != SMP_T_STR || n < 2 || smp.u.str.ptr[0] != 'v' ||
			    smp.u.str.ptr[1] != key[1] || (n > 2 && smp.u.str.ptr[2] != '-'))
				w->bad++;
		}
		smp = (struct sample){ .type = SMP_T_STR, .u.str = { key, strlen(key) } };
		(void)pat_match_found(w->e, &smp);
		if (i > 4 * MAP_LOOKUPS)
			break;
	}
	return NULL;
}

static void test_map_changes_while_matching(void **state)
{
	struct pat_refs refs = { 0 };
	struct pat_ref *r;
	struct pat_expr *e;
	struct map_reader w[MAP_READERS];
	char *err = NULL, key[8], val[64];
	unsigned long long hits = 0;

	(void)state;
	pat_init();
	dp_nbthread = MAP_READERS + 1;
	r = pat_ref_new(&refs, "test map", true);
	assert_non_null(r);
	for (int k = 0; k < 4; k++) {
		snprintf(key, sizeof(key), "k%d", k);
		snprintf(val, sizeof(val), "v%d", k);
		assert_int_equal(pat_ref_append(r, key, val, k + 1), 0);
	}
	e = pat_expr_new(PAT_M_STR, false, SMP_T_STR);
	assert_non_null(e);
	assert_int_equal(pat_expr_attach(e, r, &err), 0);
	map_stop = 0;
	for (unsigned i = 0; i < MAP_READERS; i++) {
		w[i] = (struct map_reader){ .id = i + 1, .conv = smp_find_conv("map", 3), .e = e };
		assert_non_null(w[i].conv);
		assert_int_equal(pthread_create(&w[i].th, NULL, map_read, &w[i]), 0);
	}
	/* the CLI's add map / set map / del map / clear map, meanwhile */
	for (int i = 0; i < MAP_CHANGES; i++) {
		int k = i % 4;

		snprintf(key, sizeof(key), "k%d", k);
		snprintf(val, sizeof(val), "v%d-set-%d-padding-padding", k, i);
		switch (i % 5) {
		case 0:
			assert_true(pat_ref_set(r, key, val, &err) >= 0);
			break;
		case 1:
			assert_true(pat_ref_del(r, key) >= 0);
			break;
		case 2:
			val[2] = '\0';
			assert_int_equal(pat_ref_add(r, key, val, &err), 0);
			break;
		case 3:
			if (i % 50 == 3)
				pat_ref_clear(r);
			break;
		default:
			assert_int_equal(pat_ref_add(r, key, val, &err), 0);
			break;
		}
	}
	__atomic_store_n(&map_stop, 1, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < MAP_READERS; i++) {
		assert_int_equal(pthread_join(w[i].th, NULL), 0);
		assert_int_equal(w[i].bad, 0);
		hits += w[i].hits;
	}
	assert_true(hits > 0);
	/* the index is whole afterwards: what the list holds is what matches */
	pat_ref_clear(r);
	assert_int_equal(pat_ref_add(r, "k1", "v1", &err), 0);
	{
		struct sample smp = { .type = SMP_T_STR, .u.str = { "k1", 2 } };
		const struct pat_elt *m = pat_match(e, &smp);

		assert_non_null(m);
		assert_string_equal(m->value, "v1");
		smp.u.str.ptr = "k2";
		assert_null(pat_match(e, &smp));
	}
	assert_null(err);
	pat_expr_free(e);
	pat_refs_free(&refs);
	dp_nbthread = 1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_slots_own_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads_no_lost_update, setup, teardown),
		cmocka_unit_test_setup_teardown(test_carry_every_slot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clear_counters_all, setup, teardown),
		cmocka_unit_test(test_log_target_threads),
		cmocka_unit_test(test_ns_run_per_thread),
		cmocka_unit_test(test_pool_per_thread),
		cmocka_unit_test(test_map_changes_while_matching),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
