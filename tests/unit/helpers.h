/* helpers.h — what several unit tests share (tests/unit/helpers.c):
 *
 *   - messages: ha_msg_hook = capture appends "ALERT: text\n" (WARNING,
 *     NOTICE, DEBUG) to msgs, which the tests search with strstr();
 *   - configurations: parse a buffer as file "t.cfg" the way the process
 *     does (modules_init(), cfg_parse_buffer(), modules_finalize()) and
 *     expect an error, a warning or none;
 *   - bytes: socketpairs, a test pattern written to and checked on a
 *     socket, a file read whole, an IPv4 sockaddr.
 *
 * Include it after <cmocka.h>. */
#ifndef DECOYPROXY_TESTS_UNIT_HELPERS_H
#define DECOYPROXY_TESTS_UNIT_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct dp_config;

/* ---- messages ---- */

#define MSGS_MAX 65536
/* Every message since the last reset (parse() resets it). */
extern char msgs[MSGS_MAX];

/* The ha_msg_hook of the tests: "<KIND>: <m>\n" appended to msgs. */
void capture(int kind, const char *m);

/* A cmocka setup: msgs emptied, ha_msg_hook = capture, quiet. */
int capture_setup(void **state);

/* ---- configurations ---- */

/* Parses buf as "t.cfg" after modules_init(), then runs every module's
 * finalize when finalize is set and parsing found no error; msgs holds
 * only this parse's messages. Returns the error count. With out, *out
 * receives the configuration whatever the outcome (the caller puts it). */
int parse_ex(const char *buf, bool finalize, struct dp_config **out);

/* parse_ex(buf, true, out). */
int parse(const char *buf, struct dp_config **out);

/* parse(), failing the test on any error; the caller puts the result. */
struct dp_config *parse_ok(const char *buf);

/* Fails unless parsing buf has an error and msgs holds needle. */
void expect_error(const char *buf, const char *needle);

/* Fails unless parsing buf has no error and msgs holds needle and a
 * warning. */
void expect_warning(const char *buf, const char *needle);

/* ---- bytes ---- */

/* A non-blocking AF_UNIX stream socketpair into sv (the test fails
 * without one). */
void nb_socketpair(int sv[2]);

/* Closes each of fds[0..n) that is >= 0. */
void close_fds(const int *fds, size_t n);

/* Byte i of the test stream: not periodic in any power of two. */
char pat(uint64_t i);

/* Writes bytes [from, from + n) of the pattern to fd (each write whole). */
void write_pat(int fd, uint64_t from, size_t n);

/* Reads everything queued on the non-blocking fd, checks that it continues
 * the pattern at *at (advanced), and that the read ended on EAGAIN.
 * Returns the byte count. */
size_t read_check_pat(int fd, uint64_t *at);

/* The whole file at path (malloc'd; at least one byte, else the test
 * fails); *len its size. */
uint8_t *load_file(const char *path, size_t *len);

/* ip:port as an AF_INET sockaddr_storage. */
struct sockaddr_storage inet(const char *ip, int port);

#endif
