/* test_selfconn.c — core/selfconn: the table of the proxy's own outgoing
 * connections. Real loopback TCP connections (the local port comes from
 * the kernel, as in the daemon), no root, no namespaces: a connection is
 * found by its whole 4-tuple only, whether its local end was given at
 * registration or read lazily; unregistered, it is gone; a check's
 * 4-tuple outlives its fd with selfconn_keep(); hundreds of entries to
 * one destination cost one getsockname() each, once; a look-up on another
 * thread while the owner keeps its entries. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/selfconn.h"
#include "model/proxy.h"
#include "model/server.h"

#include "helpers.h"

/* A loopback listener; *addr gets its address. */
static int listener(struct sockaddr_storage *addr)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(*addr);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 4096), 0);
	memset(addr, 0, sizeof(*addr));
	assert_int_equal(getsockname(fd, (struct sockaddr *)addr, &l), 0);
	return fd;
}

/* Connects a fresh socket to dst after registering it in c (as the
 * session code does); *local gets its local end. */
static int connect_own(struct selfconn *c, const struct sockaddr_storage *dst,
		       struct sockaddr_storage *local, const struct server *srv, bool check)
{
	socklen_t l = sizeof(*local);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	selfconn_add(c, fd, dst, NULL, srv, check);
	assert_int_equal(connect(fd, (const struct sockaddr *)dst, sizeof(struct sockaddr_in)), 0);
	memset(local, 0, sizeof(*local));
	assert_int_equal(getsockname(fd, (struct sockaddr *)local, &l), 0);
	return fd;
}

static struct proxy be = { .name = "b" };
static struct server s1 = { .name = "s1", .px = &be };

static void test_found_by_whole_tuple(void **state)
{
	struct sockaddr_storage dst, other_dst, local, wrong;
	struct selfconn c;
	char who[128];
	int lfd, lfd2, fd;

	(void)state;
	assert_int_equal(selfconn_count(), 0);
	lfd = listener(&dst);
	lfd2 = listener(&other_dst);
	fd = connect_own(&c, &dst, &local, &s1, false);
	assert_int_equal(selfconn_count(), 1);

	/* an attacker connecting to the same destination: not ours */
	wrong = local;
	((struct sockaddr_in *)&wrong)->sin_port ^= htons(1);
	assert_false(selfconn_find(&wrong, &dst, who, sizeof(who)));
	/* our source, another destination: not ours either */
	assert_false(selfconn_find(&local, &other_dst, who, sizeof(who)));
	/* the 4-tuple: ours, and named */
	assert_true(selfconn_find(&local, &dst, who, sizeof(who)));
	assert_string_equal(who, "connection to backend 'b'/server 's1'");
	/* again, now from the 4-tuple chains (resolved on the first look-up) */
	assert_true(selfconn_find(&local, &dst, NULL, 0));
	/* an IPv4-mapped peer is the same address */
	{
		struct sockaddr_storage m;
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&m;

		memset(&m, 0, sizeof(m));
		s6->sin6_family = AF_INET6;
		s6->sin6_port = ((struct sockaddr_in *)&local)->sin_port;
		s6->sin6_addr.s6_addr[10] = s6->sin6_addr.s6_addr[11] = 0xff;
		memcpy(&s6->sin6_addr.s6_addr[12], &((struct sockaddr_in *)&local)->sin_addr, 4);
		assert_true(selfconn_find(&m, &dst, NULL, 0));
	}

	selfconn_del(&c);
	selfconn_del(&c);       /* twice is harmless */
	assert_int_equal(selfconn_count(), 0);
	assert_false(selfconn_find(&local, &dst, who, sizeof(who)));
	close(fd);
	close(lfd);
	close(lfd2);
}

/* `usesrc client`: the local end is given, no system call is needed (the
 * fd is not even a socket here). */
static void test_known_source(void **state)
{
	struct sockaddr_storage dst = inet("10.3.0.2", 9000), src = inet("203.0.113.7", 40001);
	struct selfconn c;
	char who[128];

	(void)state;
	selfconn_add(&c, -1, &dst, &src, &s1, false);
	assert_true(c.resolved);
	assert_true(selfconn_find(&src, &dst, who, sizeof(who)));
	assert_string_equal(who, "connection to backend 'b'/server 's1'");
	selfconn_del(&c);
	assert_int_equal(selfconn_count(), 0);
	/* a source without a port is not a known end */
	src = inet("203.0.113.7", 0);
	selfconn_add(&c, -1, &dst, &src, &s1, false);
	assert_false(c.resolved);
	selfconn_del(&c);
}

/* A health check ends (closes its fd) as soon as it is connected: its
 * 4-tuple stays known until the next check. */
static void test_check_kept_after_close(void **state)
{
	struct sockaddr_storage dst, local;
	struct selfconn c;
	char who[128];
	int lfd, fd;

	(void)state;
	lfd = listener(&dst);
	fd = connect_own(&c, &dst, &local, &s1, true);
	selfconn_keep(&c);
	close(fd);
	assert_int_equal(c.fd, -1);
	assert_true(selfconn_find(&local, &dst, who, sizeof(who)));
	assert_string_equal(who, "health check of backend 'b'/server 's1'");
	selfconn_del(&c);
	assert_false(selfconn_find(&local, &dst, NULL, 0));
	close(lfd);
}

/* 300 connections to one destination (a busy server): the first look-up
 * toward it resolves each once; every one is then found; the chains grew
 * past the inline buckets; unregistering empties the table. */
static void test_many(void **state)
{
	enum { N = 300 };
	static struct selfconn c[N];
	static struct sockaddr_storage local[N];
	static int fd[N];
	struct sockaddr_storage dst, stranger = inet("127.0.0.1", 1);
	int lfd;

	(void)state;
	lfd = listener(&dst);
	for (int i = 0; i < N; i++) {
		fd[i] = connect_own(&c[i], &dst, &local[i], &s1, false);
		/* keep the backlog from filling: the other ends are not needed */
		close(accept(lfd, NULL, NULL));
	}
	assert_int_equal(selfconn_count(), N);
	assert_false(selfconn_find(&stranger, &dst, NULL, 0));
	for (int i = 0; i < N; i++)
		assert_true(c[i].resolved);
	for (int i = N - 1; i >= 0; i--)
		assert_true(selfconn_find(&local[i], &dst, NULL, 0));
	for (int i = 0; i < N; i += 2)
		selfconn_del(&c[i]);
	assert_int_equal(selfconn_count(), N / 2);
	for (int i = 0; i < N; i++)
		assert_int_equal(selfconn_find(&local[i], &dst, NULL, 0), i % 2 == 1);
	for (int i = 0; i < N; i++) {
		selfconn_del(&c[i]);
		close(fd[i]);
	}
	assert_int_equal(selfconn_count(), 0);
	close(lfd);
}

/* Another thread's look-up resolves and rechains entries (it writes their
 * links) while their owner keeps them (a check that connected): keep reads
 * the links under the table's lock only (ThreadSanitizer, make check-tsan,
 * reported the unlocked read), and every kept 4-tuple is found after. */
static struct {
	struct sockaddr_storage dst, stranger;
	int stop;
	unsigned long lookups;
} race;

static void *lookup_loop(void *arg)
{
	double end;
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	end = (double)ts.tv_sec + ts.tv_nsec / 1e9 + 10.0;
	while (!__atomic_load_n(&race.stop, __ATOMIC_ACQUIRE)) {
		(void)selfconn_find(&race.stranger, &race.dst, NULL, 0);
		race.lookups++;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		if ((double)ts.tv_sec + ts.tv_nsec / 1e9 > end || race.lookups > 1000000)
			break;
	}
	return NULL;
}

static void test_keep_while_found_elsewhere(void **state)
{
	enum { N = 64 };
	static struct selfconn c[N];
	static struct sockaddr_storage local[N];
	static int fd[N];
	pthread_t th;
	int lfd;

	(void)state;
	memset(&race, 0, sizeof(race));
	race.stranger = inet("127.0.0.1", 1);
	lfd = listener(&race.dst);
	for (int i = 0; i < N; i++) {
		fd[i] = connect_own(&c[i], &race.dst, &local[i], &s1, true);
		close(accept(lfd, NULL, NULL));
	}
	assert_int_equal(pthread_create(&th, NULL, lookup_loop, NULL), 0);
	for (int i = 0; i < N; i++) {
		selfconn_keep(&c[i]);
		close(fd[i]);
		if (i % 8 == 0)
			usleep(1000);
	}
	__atomic_store_n(&race.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	for (int i = 0; i < N; i++) {
		assert_int_equal(c[i].fd, -1);
		assert_true(selfconn_find(&local[i], &race.dst, NULL, 0));
	}
	for (int i = 0; i < N; i++)
		selfconn_del(&c[i]);
	assert_int_equal(selfconn_count(), 0);
	close(lfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_found_by_whole_tuple),
		cmocka_unit_test(test_known_source),
		cmocka_unit_test(test_check_kept_after_close),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_keep_while_found_elsewhere),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
