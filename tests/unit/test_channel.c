/* Unit tests: core/channel (chan_recv / chan_send and the buffer pool),
 * driven over AF_UNIX socketpairs: bytes arrive intact and in order, a
 * prefix (the PROXY header) goes first in a send of its own, the buffer goes
 * back to the pool when emptied, a full channel reads nothing, EOF is
 * reported, and a destination that does not read keeps the bytes in the
 * channel. No root, no network. */
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

#include "helpers.h"

/* src[1] is what the channel reads from (the test writes into src[0]);
 * dst[0] is what it writes to (the test reads dst[1]). */
struct rig {
	int src[2], dst[2];
	struct chan c;
	size_t pool_before;
};

static int setup(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	nb_socketpair(r->src);
	nb_socketpair(r->dst);
	r->pool_before = pump_pool_in_use();
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	struct rig *r = *state;

	chan_release(&r->c);
	/* every test gives back what it took */
	assert_int_equal(pump_pool_in_use(), r->pool_before);
	close_fds(r->src, 2);
	close_fds(r->dst, 2);
	free(r);
	return 0;
}

/* Several rounds of different sizes go through in order, counted on both
 * sides of the channel. */
static void test_bytes_in_order(void **state)
{
	struct rig *r = *state;
	static const size_t sizes[] = { 1, 5000, 16384, 3, 12000 };
	uint64_t wr = 0, rd = 0;

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		write_pat(r->src[0], wr, sizes[i]);
		wr += sizes[i];
		assert_int_equal(chan_recv(&r->c, r->src[1]), PUMP_PROGRESS);
		assert_int_equal(r->c.len, sizes[i]);
		assert_int_equal(chan_send(&r->c, r->dst[0]), PUMP_PROGRESS);
		assert_true(chan_empty(&r->c));
		assert_int_equal(read_check_pat(r->dst[1], &rd), sizes[i]);
	}
	assert_int_equal(rd, wr);
	assert_int_equal(r->c.total, wr);
	assert_int_equal(r->c.sent, wr);
	assert_false(r->c.eof);
}

/* The prefix leaves in a send() of its own, before any buffered byte:
 * over SOCK_SEQPACKET each send() is one record, so the first record must
 * be exactly the prefix. It is freed once sent and is not counted as
 * relayed bytes. */
static void test_prefix_first_own_send(void **state)
{
	struct rig *r = *state;
	static const char hdr[] = "PROXY TCP4 192.0.2.1 192.0.2.2 1234 80\r\n";
	int seq[2];
	char buf[256];
	char *pre = strdup(hdr);
	ssize_t n;

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, seq), 0);
	assert_non_null(pre);
	assert_int_equal(write(r->src[0], "payload", 7), 7);
	assert_int_equal(chan_recv(&r->c, r->src[1]), PUMP_PROGRESS);
	chan_set_prefix(&r->c, pre, strlen(pre));
	assert_false(chan_empty(&r->c));
	assert_int_equal(chan_send(&r->c, seq[0]), PUMP_PROGRESS);
	n = recv(seq[1], buf, sizeof(buf), 0);
	assert_int_equal(n, strlen(hdr));
	assert_memory_equal(buf, hdr, strlen(hdr));
	n = recv(seq[1], buf, sizeof(buf), 0);
	assert_int_equal(n, 7);
	assert_memory_equal(buf, "payload", 7);
	assert_true(recv(seq[1], buf, sizeof(buf), 0) < 0 && errno == EAGAIN);
	assert_null(r->c.pre);
	assert_int_equal(r->c.pre_len, 0);
	assert_int_equal(r->c.sent, 7);
	assert_true(chan_empty(&r->c));

	/* a prefix alone (nothing buffered yet) goes out too */
	pre = strdup(hdr);
	assert_non_null(pre);
	chan_set_prefix(&r->c, pre, strlen(pre));
	assert_int_equal(chan_send(&r->c, seq[0]), PUMP_PROGRESS);
	assert_int_equal(recv(seq[1], buf, sizeof(buf), 0), strlen(hdr));
	assert_null(r->c.pre);
	close(seq[0]);
	close(seq[1]);
}

/* An idle channel holds no buffer: taken on data, given back when the
 * bytes are written out, not taken by a recv that finds nothing. */
static void test_buffer_released_when_empty(void **state)
{
	struct rig *r = *state;
	uint64_t rd = 0;
	size_t base = pump_pool_in_use();

	assert_int_equal(chan_recv(&r->c, r->src[1]), PUMP_AGAIN);
	assert_null(r->c.buf);
	assert_int_equal(pump_pool_in_use(), base);

	write_pat(r->src[0], 0, 100);
	assert_int_equal(chan_recv(&r->c, r->src[1]), PUMP_PROGRESS);
	assert_non_null(r->c.buf);
	assert_int_equal(pump_pool_in_use(), base + 1);
	assert_true(pump_pool_allocated() >= base + 1);

	assert_int_equal(chan_send(&r->c, r->dst[0]), PUMP_PROGRESS);
	assert_null(r->c.buf);
	assert_int_equal(pump_pool_in_use(), base);
	assert_int_equal(read_check_pat(r->dst[1], &rd), 100);

	/* the pool keeps the freed buffer for the next one: no new malloc */
	{
		size_t alloc = pump_pool_allocated();

		write_pat(r->src[0], 100, 10);
		assert_int_equal(chan_recv(&r->c, r->src[1]), PUMP_PROGRESS);
		assert_int_equal(pump_pool_allocated(), alloc);
		chan_release(&r->c);
		assert_int_equal(pump_pool_in_use(), base);
	}
	pump_pool_trim();
	assert_int_equal(pump_pool_allocated(), pump_pool_in_use());
}

/* A full channel reads nothing (PUMP_FULL) and leaves the rest in the
 * source socket; once partly written out it reads again, compacting, and
 * the order is kept across the compaction. */
static void test_full(void **state)
{
	struct rig *r = *state;
	uint64_t rd = 0;
	const size_t total = PUMP_BUFSIZE + 5000;
	int small = 4096;
	char buf[1000];
	int rounds = 0;

	write_pat(r->src[0], 0, total);
	assert_int_equal(chan_recv(&r->c, r->src[1]), PUMP_PROGRESS);
	assert_int_equal(r->c.len, PUMP_BUFSIZE);
	assert_true(chan_full(&r->c));
	assert_int_equal(chan_recv(&r->c, r->src[1]), PUMP_FULL);
	assert_int_equal(r->c.len, PUMP_BUFSIZE);
	assert_int_equal(r->c.total, PUMP_BUFSIZE);

	/* a destination with room for only part of the buffer: the rest
	 * stays at an offset, and the next recv compacts before reading */
	assert_int_equal(setsockopt(r->dst[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
	assert_int_equal(chan_send(&r->c, r->dst[0]), PUMP_PROGRESS);
	assert_true(r->c.len > 0 && r->c.len < PUMP_BUFSIZE);
	assert_false(chan_full(&r->c));
	while (rd < total) {
		ssize_t n = read(r->dst[1], buf, sizeof(buf));

		assert_true(++rounds < 100000);
		if (n > 0) {
			for (ssize_t i = 0; i < n; i++)
				assert_int_equal(buf[i], pat(rd + (uint64_t)i));
			rd += (uint64_t)n;
			continue;
		}
		assert_true(n < 0 && errno == EAGAIN);
		if (!chan_full(&r->c) && r->c.total < total) {
			int rr = chan_recv(&r->c, r->src[1]);

			assert_true(rr == PUMP_PROGRESS || rr == PUMP_FULL);
		}
		assert_true(r->c.len <= PUMP_BUFSIZE);
		if (!chan_empty(&r->c))
			assert_int_not_equal(chan_send(&r->c, r->dst[0]), PUMP_ERROR);
		else
			assert_int_equal(r->c.total, total);
	}
	assert_int_equal(rd, total);
	assert_int_equal(r->c.sent, total);
}

/* EOF is reported once the bytes before it were read; on an empty channel
 * it leaves no buffer behind. */
static void test_eof(void **state)
{
	struct rig *r = *state;
	uint64_t rd = 0;
	size_t base = pump_pool_in_use();
	struct chan e = { 0 };

	write_pat(r->src[0], 0, 300);
	assert_int_equal(shutdown(r->src[0], SHUT_WR), 0);
	assert_int_equal(chan_recv(&r->c, r->src[1]), PUMP_PROGRESS);
	assert_false(r->c.eof);
	assert_int_equal(chan_recv(&r->c, r->src[1]), PUMP_EOF);
	assert_true(r->c.eof);
	assert_int_equal(r->c.len, 300);
	assert_int_equal(chan_send(&r->c, r->dst[0]), PUMP_PROGRESS);
	assert_int_equal(read_check_pat(r->dst[1], &rd), 300);
	assert_int_equal(pump_pool_in_use(), base);

	/* EOF with nothing before it */
	{
		int p[2];

		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, p), 0);
		close(p[0]);
		assert_int_equal(chan_recv(&e, p[1]), PUMP_EOF);
		assert_true(e.eof);
		assert_null(e.buf);
		assert_int_equal(pump_pool_in_use(), base);
		close(p[1]);
	}
}

/* Backpressure: a destination that does not read makes chan_send return
 * PUMP_AGAIN with the bytes kept; they go out, in order, once it reads. */
static void test_backpressure(void **state)
{
	struct rig *r = *state;
	uint64_t wr = 0, rd = 0;
	int r_send = PUMP_PROGRESS;
	int rounds = 0;
	size_t kept;

	/* fill until the destination refuses */
	while (r_send != PUMP_AGAIN) {
		assert_true(++rounds < 10000);
		if (chan_empty(&r->c)) {
			write_pat(r->src[0], wr, PUMP_BUFSIZE);
			wr += PUMP_BUFSIZE;
			assert_int_equal(chan_recv(&r->c, r->src[1]), PUMP_PROGRESS);
		}
		r_send = chan_send(&r->c, r->dst[0]);
		assert_int_not_equal(r_send, PUMP_ERROR);
	}
	kept = r->c.len;
	assert_true(kept > 0);
	assert_non_null(r->c.buf);
	/* asking again changes nothing */
	assert_int_equal(chan_send(&r->c, r->dst[0]), PUMP_AGAIN);
	assert_int_equal(r->c.len, kept);
	assert_int_equal(r->c.sent + kept, wr);

	/* the reader drains: the kept bytes follow what it already got */
	while (rd < wr) {
		read_check_pat(r->dst[1], &rd);
		if (!chan_empty(&r->c))
			assert_int_not_equal(chan_send(&r->c, r->dst[0]), PUMP_ERROR);
	}
	assert_int_equal(rd, wr);
	assert_true(chan_empty(&r->c));
	assert_null(r->c.buf);
}

/* A destination gone is an error with errno preserved, not a signal. */
static void test_send_error(void **state)
{
	struct rig *r = *state;

	write_pat(r->src[0], 0, 10);
	assert_int_equal(chan_recv(&r->c, r->src[1]), PUMP_PROGRESS);
	close(r->dst[1]);
	r->dst[1] = -1;
	errno = 0;
	assert_int_equal(chan_send(&r->c, r->dst[0]), PUMP_ERROR);
	assert_int_equal(errno, EPIPE);
	assert_int_equal(r->c.len, 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bytes_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prefix_first_own_send, setup, teardown),
		cmocka_unit_test_setup_teardown(test_buffer_released_when_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eof, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backpressure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_error, setup, teardown),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	pump_pool_trim();
	return rc;
}
