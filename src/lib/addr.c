/* addr.c — parsing and printing socket addresses the way HAProxy writes them. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "lib/addr.h"

socklen_t addr_len(const struct sockaddr_storage *ss)
{
	switch (ss->ss_family) {
	case AF_INET: return sizeof(struct sockaddr_in);
	case AF_INET6: return sizeof(struct sockaddr_in6);
	case AF_UNIX: return sizeof(struct sockaddr_un);
	}
	return sizeof(*ss);
}

int addr_port(const struct sockaddr_storage *ss)
{
	switch (ss->ss_family) {
	case AF_INET: return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	case AF_INET6: return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	}
	return 0;
}

void addr_set_port(struct sockaddr_storage *ss, int port)
{
	switch (ss->ss_family) {
	case AF_INET: ((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port); break;
	case AF_INET6: ((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port); break;
	}
}

bool addr_is_any(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == htonl(INADDR_ANY);
	if (ss->ss_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)ss)->sin6_addr);
	return false;
}

void addr_unmap_v4(struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in s4 = { .sin_family = AF_INET };

	if (ss->ss_family != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
		return;
	s4.sin_port = s6->sin6_port;
	memcpy(&s4.sin_addr, &s6->sin6_addr.s6_addr[12], 4);
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, &s4, sizeof(s4));
}

bool addr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		       !memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) &&
		       x->sin6_scope_id == y->sin6_scope_id;
	}
	if (a->ss_family == AF_UNIX) {
		const struct sockaddr_un *x = (const void *)a, *y = (const void *)b;

		/* an abstract name starts with a NUL: all of it counts */
		if (!x->sun_path[0] || !y->sun_path[0])
			return !memcmp(x->sun_path, y->sun_path, sizeof(x->sun_path));
		return !strncmp(x->sun_path, y->sun_path, sizeof(x->sun_path));
	}
	return a->ss_family == AF_UNSPEC;
}

const char *addr_ntop(const struct sockaddr_storage *ss, char *buf, size_t cap)
{
	if (ss->ss_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, buf, (socklen_t)cap);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
			inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], buf, (socklen_t)cap);
		else
			inet_ntop(AF_INET6, &s6->sin6_addr, buf, (socklen_t)cap);
	} else {
		snprintf(buf, cap, "-");
	}
	return buf;
}

const char *addr_str(const struct sockaddr_storage *ss, char *buf, size_t cap)
{
	char ip[INET6_ADDRSTRLEN];

	addr_ntop(ss, ip, sizeof(ip));
	if (ss->ss_family == AF_INET6 && strchr(ip, ':'))
		snprintf(buf, cap, "[%s]:%d", ip, addr_port(ss));
	else if (ss->ss_family == AF_INET || ss->ss_family == AF_INET6)
		snprintf(buf, cap, "%s:%d", ip, addr_port(ss));
	else if (ss->ss_family == AF_UNIX) {
		const struct sockaddr_un *sun = (const struct sockaddr_un *)ss;

		if (addr_is_abns(ss))
			snprintf(buf, cap, "abns@%.*s", (int)sizeof(sun->sun_path) - 1, sun->sun_path + 1);
		else if (sun->sun_path[0])
			snprintf(buf, cap, "unix@%.*s", (int)sizeof(sun->sun_path), sun->sun_path);
		else
			snprintf(buf, cap, "unix");
	} else
		snprintf(buf, cap, "-");
	return buf;
}

bool addr_is_abns(const struct sockaddr_storage *ss)
{
	const struct sockaddr_un *sun = (const struct sockaddr_un *)ss;

	if (ss->ss_family != AF_UNIX || sun->sun_path[0])
		return false;
	/* an unnamed socket (accept()'s peer) is all NULs */
	for (size_t i = 1; i < sizeof(sun->sun_path); i++)
		if (sun->sun_path[i])
			return true;
	return false;
}

bool addr_is_unix_spec(const char *str)
{
	return !strncmp(str, "unix@", 5) || !strncmp(str, "abns@", 5) || str[0] == '/';
}

int addr_parse_unix(const char *str, const char *prefix, struct sockaddr_storage *out, char **err)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)out;
	bool abstract = !strncmp(str, "abns@", 5);
	const char *name = !strncmp(str, "unix@", 5) || abstract ? str + 5 : str;
	size_t pl = prefix && !abstract ? strlen(prefix) : 0, nl = strlen(name);
	/* a path ends with a NUL; an abstract name starts with one */
	size_t max = sizeof(sun->sun_path) - 1;

	memset(out, 0, sizeof(*out));
	if (!nl) {
		memprintf(err, "address '%s': empty %s", str, abstract ? "abstract socket name" : "unix socket path");
		return -EINVAL;
	}
	if (pl + nl > max) {
		memprintf(err, "address '%s': socket path%s too long (at most %zu bytes)", str,
			  pl ? " with the unix-bind prefix" : "", max);
		return -ENAMETOOLONG;
	}
	sun->sun_family = AF_UNIX;
	if (abstract) {
		memcpy(sun->sun_path + 1, name, nl);
		return 0;
	}
	if (pl)
		memcpy(sun->sun_path, prefix, pl);
	memcpy(sun->sun_path + pl, name, nl);
	return 0;
}

static int parse_port(const char *s, int *out)
{
	unsigned long long v;

	if (str_to_uint(s, 65535, &v) < 0)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

static int resolve(const char *host, int family, struct sockaddr_storage *ss, bool allow_dns)
{
	struct addrinfo hints = { .ai_family = family, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST };
	struct addrinfo *res = NULL;
	int ret;

	ret = getaddrinfo(host, NULL, &hints, &res);
	if (ret && allow_dns) {
		hints.ai_flags = AI_ADDRCONFIG;
		ret = getaddrinfo(host, NULL, &hints, &res);
	}
	if (ret || !res)
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return 0;
}

int addr_parse(const char *str, unsigned flags, struct addr_spec *out, char **err)
{
	int family = AF_UNSPEC;
	const char *s = str;
	char host[256];
	const char *port = NULL;
	size_t hl;

	memset(out, 0, sizeof(*out));
	if (!strncmp(s, "ipv4@", 5)) {
		family = AF_INET;
		s += 5;
	} else if (!strncmp(s, "ipv6@", 5)) {
		family = AF_INET6;
		s += 5;
	} else if (!strncmp(s, "tcp@", 4) || !strncmp(s, "tcp4@", 5) || !strncmp(s, "tcp6@", 5)) {
		family = s[3] == '4' ? AF_INET : s[3] == '6' ? AF_INET6 : AF_UNSPEC;
		s = strchr(s, '@') + 1;
	} else if (strchr(s, '@') || s[0] == '/') {
		memprintf(err, "address '%s': only IPv4/IPv6 TCP addresses are supported (no unix@, abns@, fd@, udp@ or paths)",
			  str);
		return -EINVAL;
	}

	if (*s == '[') {
		const char *rb = strchr(s, ']');

		if (!rb) {
			memprintf(err, "address '%s': missing ']'", str);
			return -EINVAL;
		}
		hl = (size_t)(rb - s - 1);
		if (hl >= sizeof(host))
			goto bad;
		memcpy(host, s + 1, hl);
		host[hl] = '\0';
		if (rb[1] == ':')
			port = rb + 2;
		else if (rb[1])
			goto bad;
		if (family == AF_UNSPEC)
			family = AF_INET6;
	} else {
		/* the last colon separates the port (HAProxy: "::1:80", ":::80") */
		const char *colon = strrchr(s, ':');

		if (colon) {
			hl = (size_t)(colon - s);
			port = colon + 1;
		} else {
			hl = strlen(s);
		}
		if (hl >= sizeof(host))
			goto bad;
		memcpy(host, s, hl);
		host[hl] = '\0';
	}

	if (port && *port) {
		int lo, hi;
		const char *dash;

		if ((*port == '+' || *port == '-') && (flags & ADDR_F_PORT_OFFSET)) {
			if (parse_port(port + 1, &lo) < 0) {
				memprintf(err, "address '%s': invalid port offset '%s'", str, port);
				return -EINVAL;
			}
			out->port_offset_sign = *port == '+' ? 1 : -1;
			out->port_lo = out->port_hi = lo;
		} else if ((dash = strchr(port, '-')) && (flags & ADDR_F_PORT_RANGE)) {
			char a[16];
			size_t al = (size_t)(dash - port);

			if (al >= sizeof(a))
				goto badport;
			memcpy(a, port, al);
			a[al] = '\0';
			if (parse_port(a, &lo) < 0 || parse_port(dash + 1, &hi) < 0 || lo == 0 || hi < lo)
				goto badport;
			out->port_lo = lo;
			out->port_hi = hi;
		} else {
			if (parse_port(port, &lo) < 0)
				goto badport;
			if (lo == 0 && (flags & ADDR_F_PORT_REQUIRED))
				goto badport;
			out->port_lo = out->port_hi = lo;
		}
		out->has_port = true;
	} else if (port && !*port) {
		if (!(flags & ADDR_F_PORT_NONE_OK))
			goto missing_port;
	} else if (!(flags & ADDR_F_PORT_NONE_OK)) {
		goto missing_port;
	}

	if (host[0] == '\0' || !strcmp(host, "*")) {
		out->wildcard = true;
		memset(&out->ss, 0, sizeof(out->ss));
		if (family == AF_INET6) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&out->ss;

			s6->sin6_family = AF_INET6;
			s6->sin6_addr = in6addr_any;
		} else {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&out->ss;

			s4->sin_family = AF_INET;
			s4->sin_addr.s_addr = htonl(INADDR_ANY);
		}
	} else if (resolve(host, family, &out->ss, flags & ADDR_F_RESOLVE) < 0) {
		memprintf(err, "address '%s': invalid or unresolvable address '%s'%s", str, host,
			  strchr(host, ':') && !strchr(s, '[') ? " (write IPv6 addresses as [addr]:port)" : "");
		return -EINVAL;
	} else {
		out->wildcard = addr_is_any(&out->ss);
	}
	if (out->has_port && !out->port_offset_sign)
		addr_set_port(&out->ss, out->port_lo);
	return 0;

bad:
	memprintf(err, "invalid address '%s'", str);
	return -EINVAL;
badport:
	memprintf(err, "address '%s': invalid port '%s'", str, port);
	return -EINVAL;
missing_port:
	memprintf(err, "address '%s': missing port", str);
	return -EINVAL;
}
