/* addr.h — socket addresses as HAProxy writes them. */
#ifndef DECOYPROXY_ADDR_H
#define DECOYPROXY_ADDR_H

#include <sys/socket.h>
#include <netinet/in.h>
#include "lib/common.h"

enum {
	ADDR_F_PORT_NONE_OK = 1 << 0,  /* no port allowed (server: use client's) */
	ADDR_F_PORT_RANGE   = 1 << 1,  /* "80-90" allowed (bind) */
	ADDR_F_PORT_OFFSET  = 1 << 2,  /* "+N" / "-N" allowed (server) */
	ADDR_F_PORT_REQUIRED = 1 << 3, /* a port must be given */
	ADDR_F_RESOLVE      = 1 << 4,  /* host names may be resolved */
};

struct addr_spec {
	struct sockaddr_storage ss;    /* port of port_lo stored in ss */
	bool has_port;
	int port_lo, port_hi;          /* equal unless a range */
	int port_offset_sign;          /* +1 / -1 for "+N" / "-N", else 0 */
	bool wildcard;                 /* "*", "", 0.0.0.0 or :: */
};

/* Parse "[ipv4@|ipv6@]<addr>[:<port>[-<port>]]", "[v6]:port", "v6:port" (the
 * last colon separates the port), "*:port", ":port". Returns 0 or -EINVAL
 * with *err naming what is wrong. */
int addr_parse(const char *str, unsigned flags, struct addr_spec *out, char **err);

/* Whether str names a unix socket in HAProxy's words: "unix@<path>",
 * "abns@<name>" (Linux abstract namespace) or a path starting with '/'. */
bool addr_is_unix_spec(const char *str);
/* Parses such a unix socket address into out (AF_UNIX). prefix (NULL:
 * none) is put in front of a path as written, as HAProxy's `unix-bind
 * prefix` does (never in front of an abstract name). An abstract name is
 * stored as HAProxy 2.6 does: a NUL, the name, NULs up to the end of
 * sun_path (the whole structure is its address). Returns 0 or -EINVAL /
 * -ENAMETOOLONG with *err. */
int addr_parse_unix(const char *str, const char *prefix, struct sockaddr_storage *out, char **err);
/* Whether ss is an AF_UNIX address in the abstract namespace. */
bool addr_is_abns(const struct sockaddr_storage *ss);

/* Prints the IP only (IPv6 without brackets, v4-mapped as dotted v4).
 * Returns buf; "-" for AF_UNSPEC. cap >= INET6_ADDRSTRLEN recommended. */
const char *addr_ntop(const struct sockaddr_storage *ss, char *buf, size_t cap);
/* "ip:port", with brackets for IPv6; "unix@<path>" or "abns@<name>" for a
 * unix socket (an unnamed one: "unix"). */
const char *addr_str(const struct sockaddr_storage *ss, char *buf, size_t cap);
int addr_port(const struct sockaddr_storage *ss);
void addr_set_port(struct sockaddr_storage *ss, int port);
/* The length to give bind()/connect(): AF_INET, AF_INET6 or AF_UNIX (a
 * whole struct sockaddr_un, path NUL-terminated). */
socklen_t addr_len(const struct sockaddr_storage *ss);
bool addr_is_any(const struct sockaddr_storage *ss);
/* Converts an IPv4-mapped IPv6 address to AF_INET in place (keeps port). */
void addr_unmap_v4(struct sockaddr_storage *ss);
/* Same family and address: IP, port (and IPv6 scope), or unix path. */
bool addr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b);

#endif
