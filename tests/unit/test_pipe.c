/* Unit tests: the splice() path of core/channel and the pipe pool
 * (core/pipe), over AF_UNIX socketpairs: bytes go socket -> pipe -> socket
 * intact and in order, counted like on the copy path; the pipe goes back
 * to the pool once empty and is reused; EOF and backpressure behave as on
 * the copy path; no pipe to be had (maxpipes) means copying; splice-auto
 * copies short exchanges and splices once the flow fills the buffer twice
 * in a row; four threads taking and giving back pipes at once never share
 * one nor exceed maxpipes, and a thread at the limit takes another
 * thread's kept pipe (run under ThreadSanitizer by make check-tsan). No
 * root, no network. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/channel.h"
#include "core/pipe.h"
#include "lib/thread.h"

#include "helpers.h"

struct rig {
	int src[2], dst[2];
	struct chan c;
};

static int setup(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	nb_socketpair(r->src);
	nb_socketpair(r->dst);
	pipe_cfg.maxpipes = 4;
	pipe_cfg.pipesize = 0;
	r->c.splice = CHAN_SPLICE;
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	struct rig *r = *state;

	chan_release(&r->c);
	/* every test gives back what it took */
	assert_int_equal(pipe_used(), 0);
	assert_int_equal(pump_pool_in_use(), 0);
	close_fds(r->src, 2);
	close_fds(r->dst, 2);
	free(r);
	return 0;
}

/* splice-request/-response: every byte goes through a pipe, none through
 * a buffer; the pipe is pooled when emptied and reused next time. */
static void test_spliced_in_order(void **state)
{
	struct rig *r = *state;
	static const size_t sizes[] = { 1, 5000, 16384, 3, 40000 };
	uint64_t wr = 0, rd = 0;
	unsigned free0 = pipe_free_count();

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		write_pat(r->src[0], wr, sizes[i]);
		wr += sizes[i];
		assert_int_equal(chan_recv(&r->c, r->src[1]), PUMP_PROGRESS);
		assert_null(r->c.buf);
		assert_non_null(r->c.pipe);
		assert_int_equal(chan_piped(&r->c), sizes[i]);
		assert_false(chan_empty(&r->c));
		assert_int_equal(pipe_used(), 1);
		assert_int_equal(chan_send(&r->c, r->dst[0]), PUMP_PROGRESS);
		assert_true(chan_empty(&r->c));
		assert_null(r->c.pipe);
		assert_int_equal(pipe_used(), 0);
		/* one pipe made, then reused */
		assert_int_equal(pipe_free_count(), free0 ? free0 : 1);
		assert_int_equal(read_check_pat(r->dst[1], &rd), sizes[i]);
	}
	assert_int_equal(r->c.total, wr);
	assert_int_equal(r->c.sent, wr);
	assert_int_equal(pump_pool_in_use(), 0);
}

/* EOF is reported after the last bytes; the bytes stay in the pipe until
 * sent. Nothing to read gives PUMP_AGAIN and no pipe is held. */
static void test_spliced_eof(void **state)
{
	struct rig *r = *state;
	uint64_t rd = 0;

	assert_int_equal(chan_recv(&r->c, r->src[1]), PUMP_AGAIN);
	assert_null(r->c.pipe);
	write_pat(r->src[0], 0, 10);
	shutdown(r->src[0], SHUT_WR);
	assert_int_equal(chan_recv(&r->c, r->src[1]), PUMP_PROGRESS);
	assert_int_equal(chan_recv(&r->c, r->src[1]), PUMP_EOF);
	assert_true(r->c.eof);
	assert_int_equal(chan_piped(&r->c), 10);
	assert_int_equal(chan_send(&r->c, r->dst[0]), PUMP_PROGRESS);
	assert_true(chan_empty(&r->c));
	assert_int_equal(read_check_pat(r->dst[1], &rd), 10);
}

/* A destination that does not read: the channel fills (chan_full), keeps
 * every byte, and delivers them in order once it reads. */
static void test_spliced_backpressure(void **state)
{
	struct rig *r = *state;
	uint64_t wr = 0, rd = 0;
	int rounds = 0;

	while (!chan_full(&r->c)) {
		int rv;

		assert_true(++rounds < 10000);
		write_pat(r->src[0], wr, 4096);
		wr += 4096;
		rv = chan_recv(&r->c, r->src[1]);
		assert_true(rv == PUMP_PROGRESS || rv == PUMP_FULL || rv == PUMP_AGAIN);
		if (!chan_empty(&r->c))
			assert_int_not_equal(chan_send(&r->c, r->dst[0]), PUMP_ERROR);
	}
	assert_non_null(r->c.pipe);
	assert_int_equal(chan_send(&r->c, r->dst[0]), PUMP_AGAIN);
	/* what is not in the pipe yet waits in the source socket */
	while (rd < wr) {
		assert_true(++rounds < 100000);
		read_check_pat(r->dst[1], &rd);
		if (!chan_empty(&r->c))
			assert_int_not_equal(chan_send(&r->c, r->dst[0]), PUMP_ERROR);
		else if (!chan_full(&r->c))
			chan_recv(&r->c, r->src[1]);
	}
	assert_int_equal(rd, wr);
	assert_true(chan_empty(&r->c));
	assert_null(r->c.pipe);
}

/* No pipe free (maxpipes reached): the same bytes are copied, and the
 * refusal is counted. */
static void test_no_pipe_copies(void **state)
{
	struct rig *r = *state;
	unsigned long long refused = pipe_refused();
	uint64_t rd = 0;

	pipe_cfg.maxpipes = 0;
	write_pat(r->src[0], 0, 3000);
	assert_int_equal(chan_recv(&r->c, r->src[1]), PUMP_PROGRESS);
	assert_null(r->c.pipe);
	assert_non_null(r->c.buf);
	assert_int_equal(r->c.len, 3000);
	assert_int_equal(pipe_refused(), refused + 1);
	assert_int_equal(chan_send(&r->c, r->dst[0]), PUMP_PROGRESS);
	assert_int_equal(read_check_pat(r->dst[1], &rd), 3000);
	assert_int_equal(r->c.sent, 3000);
}

/* Bytes left in a pipe when the session ends: the pipe is closed, not
 * pooled, and no longer counted. */
static void test_release_with_data(void **state)
{
	struct rig *r = *state;
	unsigned free0;

	write_pat(r->src[0], 0, 100);
	assert_int_equal(chan_recv(&r->c, r->src[1]), PUMP_PROGRESS);
	free0 = pipe_free_count();
	assert_int_equal(pipe_used(), 1);
	chan_release(&r->c);
	assert_int_equal(pipe_used(), 0);
	assert_int_equal(pipe_free_count(), free0);
}

/* splice-auto: short exchanges are copied; a flow that fills the buffer
 * twice in a row is spliced from then on. */
static void test_auto(void **state)
{
	struct rig *r = *state;
	uint64_t wr = 0, rd = 0;

	r->c.splice = CHAN_SPLICE_AUTO;
	for (int i = 0; i < 5; i++) {
		write_pat(r->src[0], wr, 100);
		wr += 100;
		assert_int_equal(chan_recv(&r->c, r->src[1]), PUMP_PROGRESS);
		assert_null(r->c.pipe);
		assert_int_equal(chan_send(&r->c, r->dst[0]), PUMP_PROGRESS);
		read_check_pat(r->dst[1], &rd);
	}
	/* full, short (the streak restarts), then full reads in a row */
	static const size_t sizes[] = { PUMP_BUFSIZE, 1000, PUMP_BUFSIZE, PUMP_BUFSIZE };
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		write_pat(r->src[0], wr, sizes[i]);
		wr += sizes[i];
		assert_int_equal(chan_recv(&r->c, r->src[1]), PUMP_PROGRESS);
		assert_null(r->c.pipe);
		assert_int_equal(chan_send(&r->c, r->dst[0]), PUMP_PROGRESS);
		read_check_pat(r->dst[1], &rd);
	}
	assert_int_equal(CHAN_AUTO_FULL_READS, 2);
	write_pat(r->src[0], wr, 3 * PUMP_BUFSIZE);
	wr += 3 * PUMP_BUFSIZE;
	/* buffers were filled twice in a row: this flow is bulk now */
	assert_int_equal(chan_recv(&r->c, r->src[1]), PUMP_PROGRESS);
	assert_non_null(r->c.pipe);
	assert_null(r->c.buf);
	while (!chan_empty(&r->c)) {
		assert_int_not_equal(chan_send(&r->c, r->dst[0]), PUMP_ERROR);
		read_check_pat(r->dst[1], &rd);
	}
	assert_int_equal(rd, wr);
	assert_int_equal(r->c.sent, wr);
}

/* tune.pipesize unset: 1 MiB pipes (or pipe-max-size rounded down to a
 * power of two), within half of pipe-user-pages-soft */
static void test_auto_policy(void **state)
{
	unsigned sz, budget;

	(void)state;
	pipe_auto_policy(1048576, 16384, &sz, &budget);
	assert_int_equal(sz, 1048576);
	assert_int_equal(budget, 8192);
	pipe_auto_policy(8u << 20, 0, &sz, &budget);
	assert_int_equal(sz, 1048576); /* never above 1 MiB */
	assert_int_equal(budget, UINT_MAX); /* no soft limit */
	pipe_auto_policy(600000, 16384, &sz, &budget);
	assert_int_equal(sz, 524288); /* 1 MiB would be refused */
	pipe_auto_policy(65536, 16384, &sz, &budget);
	assert_int_equal(sz, 0); /* no bigger than the default: leave it */
	pipe_auto_policy(4096, 16384, &sz, &budget);
	assert_int_equal(sz, 0);
}

/* pipes grow while the budget has room, then keep the kernel's size; a
 * closed large pipe gives its pages back */
static void test_auto_budget(void **state)
{
	struct dp_pipe *a, *b, *c;

	(void)state;
	pipe_pool_trim(); /* pipes pooled by the tests before */
	pipe_cfg.autosize = 1048576;
	pipe_cfg.large_budget = 256; /* one 1 MiB pipe */
	a = pipe_get();
	b = pipe_get();
	assert_non_null(a);
	assert_non_null(b);
	assert_true(a->large);
	assert_int_equal(a->size, 1048576);
	assert_false(b->large);
	assert_int_equal(b->size, 65536);
	assert_int_equal(pipe_large_count(), 1);
	pipe_kill(a); /* closed: its pages are free again */
	assert_int_equal(pipe_large_count(), 0);
	c = pipe_get();
	assert_non_null(c);
	assert_true(c->large);
	pipe_put(c);
	pipe_put(b);
	assert_int_equal(pipe_large_count(), 1); /* pooled, still counted */
	pipe_pool_trim();
	assert_int_equal(pipe_large_count(), 0);
	pipe_cfg.autosize = 0;
	pipe_cfg.large_budget = 0;
}

/* ---- several threads ---- */

#define NTHR 4
#define MT_ROUNDS 3000
#define MT_MAX 6

static unsigned mt_bad;         /* a pipe found shared, or the limit exceeded */

static void *mt_worker(void *arg)
{
	struct dp_pipe *held[3] = { 0 };
	unsigned bad = 0;

	tid = (unsigned)(uintptr_t)arg;
	for (unsigned i = 0; i < MT_ROUNDS; i++) {
		unsigned k = i % 3;
		unsigned char b = (unsigned char)(tid * 16 + k), got = 0;

		if (held[k]) {
			/* the byte written when it was taken is still there:
			 * nobody else used this pipe meanwhile */
			if (read(held[k]->cons, &got, 1) != 1 || got != b)
				bad++;
			if (i % 7 == 0)
				pipe_kill(held[k]);
			else
				pipe_put(held[k]);
			held[k] = NULL;
			continue;
		}
		held[k] = pipe_get();
		if (!held[k])
			continue;       /* the limit: the caller copies */
		if (held[k]->data || write(held[k]->prod, &b, 1) != 1)
			bad++;
		/* a reservation over the limit is undone at once: never more
		 * than one per thread above it */
		if (pipe_used() + pipe_free_count() > MT_MAX + NTHR)
			bad++;
	}
	for (unsigned k = 0; k < 3; k++)
		if (held[k]) {
			unsigned char got;

			if (read(held[k]->cons, &got, 1) != 1)
				bad++;
			pipe_put(held[k]);
		}
	__atomic_add_fetch(&mt_bad, bad, __ATOMIC_RELAXED);
	return NULL;
}

/* four threads take, fill, check and give back pipes at once */
static void test_threads(void **state)
{
	pthread_t th[NTHR];

	(void)state;
	pipe_pool_trim();
	pipe_cfg.maxpipes = MT_MAX;
	dp_nbthread = NTHR;
	for (uintptr_t t = 0; t < NTHR; t++)
		assert_int_equal(pthread_create(&th[t], NULL, mt_worker, (void *)(t + 1)), 0);
	for (unsigned t = 0; t < NTHR; t++)
		pthread_join(th[t], NULL);
	dp_nbthread = 1;
	assert_int_equal(mt_bad, 0);
	assert_int_equal(pipe_used(), 0);
	assert_in_range(pipe_free_count(), 1, MT_MAX);
	pipe_pool_trim();
	assert_int_equal(pipe_free_count(), 0);
}

struct steal_arg {
	struct dp_pipe *p[4];
};

static void *fill_pool(void *arg)
{
	struct steal_arg *a = arg;

	tid = 3;
	for (int i = 0; i < 4; i++)
		a->p[i] = pipe_get();
	for (int i = 0; i < 4; i++)
		if (a->p[i])
			pipe_put(a->p[i]);
	return NULL;
}

/* maxpipes pipes kept by thread 3: thread 0 takes one of them instead of
 * creating a fifth, then is refused */
static void test_steal(void **state)
{
	struct steal_arg a = { 0 };
	struct dp_pipe *p, *q;
	pthread_t th;

	(void)state;
	pipe_pool_trim();
	pipe_cfg.maxpipes = 4;
	assert_int_equal(pthread_create(&th, NULL, fill_pool, &a), 0);
	pthread_join(th, NULL);
	for (int i = 0; i < 4; i++)
		assert_non_null(a.p[i]);
	assert_int_equal(pipe_free_count(), 4);
	p = pipe_get();
	assert_non_null(p);
	assert_true(p == a.p[0] || p == a.p[1] || p == a.p[2] || p == a.p[3]);
	assert_int_equal(pipe_free_count(), 3);
	assert_int_equal(pipe_used(), 1);
	pipe_put(p);
	assert_int_equal(pipe_free_count(), 4);
	/* four in use: a fifth is refused */
	struct dp_pipe *all[4];
	for (int i = 0; i < 4; i++)
		assert_non_null(all[i] = pipe_get());
	q = pipe_get();
	assert_null(q);
	for (int i = 0; i < 4; i++)
		pipe_put(all[i]);
	assert_int_equal(pipe_used(), 0);
	pipe_pool_trim();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_spliced_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spliced_eof, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spliced_backpressure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_pipe_copies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release_with_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auto, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auto_policy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auto_budget, setup, teardown),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_steal),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	pump_pool_trim();
	pipe_pool_trim();
	return rc;
}
