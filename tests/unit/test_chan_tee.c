/* Unit tests: the tee path of core/channel (core/channel_tee.c) over
 * AF_UNIX socketpairs: a splicing channel hands a consumer the bytes it
 * wants through tee() while relaying every byte intact and in order; the
 * consumer's count stops at what it wants (then plain splice); a slow
 * destination makes tee() take part, the rest waits and is handed over
 * later in order; no second pipe (maxpipes) means copying; a failed tee()
 * relays what was read, reports it lost, and copies from then on. No
 * root, no network. */
#include "config.h"

#include <errno.h>
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

#define MAXTAKE (4 * 1024 * 1024)

struct rig {
	int src[2], dst[2];
	struct chan c;
	uint64_t want;          /* bytes the consumer still wants */
	uint8_t *taken;         /* what take() read, in order */
	size_t ntaken, lost;
	unsigned takes;
};

static uint64_t t_want(void *ctx, const struct chan *c)
{
	struct rig *r = ctx;

	assert_ptr_equal(c, &r->c);
	return r->want;
}

static size_t t_take(void *ctx, const struct chan *c, int fd, size_t n)
{
	struct rig *r = ctx;
	size_t got = 0;

	assert_ptr_equal(c, &r->c);
	assert_true(n <= r->want);
	assert_true(r->ntaken + n <= MAXTAKE);
	while (got < n) {
		ssize_t k = read(fd, r->taken + r->ntaken + got, n - got);

		assert_true(k > 0);
		got += (size_t)k;
	}
	r->ntaken += n;
	r->want -= n;
	r->takes++;
	return n;
}

static void t_lost(void *ctx, const struct chan *c, size_t n)
{
	struct rig *r = ctx;

	assert_ptr_equal(c, &r->c);
	r->lost += n;
	r->want = r->want > n ? r->want - n : 0;
}

static const struct chan_tee_ops ops = { t_want, t_take, t_lost };

static int setup(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));
	int sz = 1 << 20;

	assert_non_null(r);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, r->src), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, r->dst), 0);
	setsockopt(r->src[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	r->taken = malloc(MAXTAKE);
	assert_non_null(r->taken);
	pipe_cfg.maxpipes = 4;
	pipe_cfg.pipesize = 0;
	chan_tee_fault = 0;
	r->c.splice = CHAN_SPLICE;
	r->want = UINT64_MAX;
	chan_set_tee(&r->c, &ops, r);
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	struct rig *r = *state;

	chan_release(&r->c);
	chan_tee_fault = 0;
	assert_int_equal(pipe_used(), 0);
	assert_int_equal(pump_pool_in_use(), 0);
	for (int i = 0; i < 2; i++) {
		close(r->src[i]);
		close(r->dst[i]);
	}
	free(r->taken);
	free(r);
	return 0;
}

static uint8_t pat(uint64_t i)
{
	return (uint8_t)(i * 7 % 251);
}

/* Writes what the source socket takes of [from, to); returns the new from. */
static uint64_t write_pat(int fd, uint64_t from, uint64_t to)
{
	uint8_t buf[8192];

	while (from < to) {
		size_t k = to - from < sizeof(buf) ? (size_t)(to - from) : sizeof(buf);
		ssize_t n;

		for (size_t i = 0; i < k; i++)
			buf[i] = pat(from + i);
		n = write(fd, buf, k);
		if (n < 0 && errno == EAGAIN)
			break;
		assert_true(n > 0);
		from += (uint64_t)n;
	}
	return from;
}

static void read_check(int fd, uint64_t *at)
{
	uint8_t buf[8192];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != pat(*at + (uint64_t)i))
				fail_msg("relayed byte %llu wrong", (unsigned long long)(*at + (uint64_t)i));
		*at += (uint64_t)n;
	}
	assert_true(n < 0 && errno == EAGAIN);
}

static void check_taken(const struct rig *r, uint64_t from)
{
	for (size_t i = 0; i < r->ntaken; i++)
		if (r->taken[i] != pat(from + i))
			fail_msg("taken byte %zu wrong", i);
}

/* Moves total bytes src -> channel -> dst, the destination reading only
 * when slow is false or the channel is full. */
static void relay(struct rig *r, uint64_t total, bool slow)
{
	uint64_t wr = 0, rd = 0;
	int rounds = 0;

	while (rd < total) {
		assert_true(++rounds < 200000);
		wr = write_pat(r->src[0], wr, total);
		if (wr == total)
			shutdown(r->src[0], SHUT_WR);
		if (!r->c.eof && !chan_full(&r->c))
			assert_int_not_equal(chan_recv(&r->c, r->src[1]), PUMP_ERROR);
		if (!chan_empty(&r->c))
			assert_int_not_equal(chan_send(&r->c, r->dst[0]), PUMP_ERROR);
		/* the consumer never runs ahead of what was read */
		assert_true(r->ntaken + r->lost <= r->c.total);
		if (!slow || chan_full(&r->c) || r->c.eof)
			read_check(r->dst[1], &rd);
	}
	assert_int_equal(rd, total);
	assert_int_equal(r->c.sent, total);
}

/* Every byte both relayed and taken, through pipes only. */
static void test_tee_all(void **state)
{
	struct rig *r = *state;
	unsigned long long b0 = chan_tee_bytes();

	relay(r, 3 * 1024 * 1024 + 17, false);
	assert_int_equal(r->ntaken, 3 * 1024 * 1024 + 17);
	check_taken(r, 0);
	assert_int_equal(r->lost, 0);
	assert_int_equal(chan_tee_bytes() - b0, r->ntaken);
	assert_int_equal(pump_pool_in_use(), 0);
	/* the end is read after every byte, the pipes given back */
	if (!r->c.eof)
		assert_int_equal(chan_recv(&r->c, r->src[1]), PUMP_EOF);
	assert_null(r->c.pipe);
	assert_null(r->c.tpipe);
}

/* The consumer wants the first 100000 bytes: exactly those, then plain
 * splice (the copy pipe goes back). */
static void test_tee_depth(void **state)
{
	struct rig *r = *state;

	r->want = 100000;
	relay(r, 1024 * 1024, false);
	assert_int_equal(r->ntaken, 100000);
	check_taken(r, 0);
	assert_null(r->c.tpipe);
}

/* A destination that reads late: tee() takes part of the copy pipe, the
 * rest waits (the channel is full) and goes on in order. */
static void test_tee_slow_destination(void **state)
{
	struct rig *r = *state;

	relay(r, 2 * 1024 * 1024, true);
	assert_int_equal(r->ntaken, 2 * 1024 * 1024);
	check_taken(r, 0);
	assert_int_equal(r->lost, 0);
}

/* One pipe to be had, two needed: the read is copied (the consumer would
 * see it on the copy path), the pipe refusal counted. */
static void test_tee_refused_copies(void **state)
{
	struct rig *r = *state;
	unsigned long long refused = pipe_refused();
	uint64_t rd = 0;

	pipe_cfg.maxpipes = 1;
	write_pat(r->src[0], 0, 3000);
	assert_int_equal(chan_recv(&r->c, r->src[1]), PUMP_PROGRESS);
	assert_null(r->c.pipe);
	assert_null(r->c.tpipe);
	assert_int_equal(r->c.len, 3000);
	assert_int_equal(r->takes, 0);
	assert_int_equal(pipe_refused(), refused + 1);
	assert_int_equal(pipe_used(), 0);
	assert_int_equal(chan_send(&r->c, r->dst[0]), PUMP_PROGRESS);
	read_check(r->dst[1], &rd);
	assert_int_equal(rd, 3000);
}

/* tee() fails: what was read is relayed all the same and reported lost;
 * the channel copies from then on while the consumer wants bytes. */
static void test_tee_failure(void **state)
{
	struct rig *r = *state;
	unsigned long long f0 = chan_tee_failures();
	uint64_t rd = 0, wr;

	wr = write_pat(r->src[0], 0, 5000);
	chan_tee_fault = ENOMEM;
	assert_int_equal(chan_recv(&r->c, r->src[1]), PUMP_PROGRESS);
	assert_int_equal(chan_tee_failures(), f0 + 1);
	assert_int_equal(r->lost, 5000);
	assert_int_equal(r->takes, 0);
	assert_true(r->c.tee_broken);
	/* the pipe is not empty yet: nothing more is read */
	assert_true(chan_full(&r->c));
	assert_int_equal(chan_send(&r->c, r->dst[0]), PUMP_PROGRESS);
	assert_null(r->c.pipe);
	read_check(r->dst[1], &rd);
	assert_int_equal(rd, 5000);
	chan_tee_fault = 0;
	/* copied now: the bytes are in the buffer */
	wr = write_pat(r->src[0], wr, 8000);
	assert_false(chan_full(&r->c));
	assert_int_equal(chan_recv(&r->c, r->src[1]), PUMP_PROGRESS);
	assert_null(r->c.pipe);
	assert_int_equal(r->c.len, 3000);
	assert_int_equal(chan_send(&r->c, r->dst[0]), PUMP_PROGRESS);
	read_check(r->dst[1], &rd);
	assert_int_equal(rd, wr);
	/* the consumer done: spliced again */
	r->want = 0;
	write_pat(r->src[0], wr, wr + 100);
	assert_int_equal(chan_recv(&r->c, r->src[1]), PUMP_PROGRESS);
	assert_non_null(r->c.pipe);
	assert_null(r->c.tpipe);
	assert_int_equal(chan_send(&r->c, r->dst[0]), PUMP_PROGRESS);
	read_check(r->dst[1], &rd);
	assert_int_equal(rd, wr + 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tee_all, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tee_depth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tee_slow_destination, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tee_refused_copies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tee_failure, setup, teardown),
	};

	pipe_set_fd_room(1000);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
