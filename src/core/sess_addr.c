/* sess_addr.c — a session's addresses in the room an IP address needs
 * (union sess_addr, core/sess.h).
 *
 * Every idle session holds three addresses (client, frontend, server).
 * As sockaddr_storage they took 384 of the session's 1296 bytes, while
 * almost every one is IPv4 or IPv6 (16 or 28 bytes). They are kept in
 * place now, and the rare other family (a unix socket: a unix bind's
 * client and address, a unix server) in a sockaddr_storage of its own,
 * copied byte for byte, so that every reader (log formats, sample
 * fetches, PROXY headers, events, `show sess`, connect()) gets exactly the
 * structure it got before, through sess_addr_get(). No allocation for an
 * IP address: the connection path of the common case is unchanged.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/sess.h"

static bool in_place(sa_family_t family)
{
	return family == AF_UNSPEC || family == AF_INET || family == AF_INET6;
}

void sess_addr_get(const union sess_addr *a, struct sockaddr_storage *out)
{
	memset(out, 0, sizeof(*out));
	switch (a->sa.sa_family) {
	case AF_UNSPEC:
		break;
	case AF_INET:
		memcpy(out, &a->in4, sizeof(a->in4));
		break;
	case AF_INET6:
		memcpy(out, &a->in6, sizeof(a->in6));
		break;
	default:
		*out = *a->ext.ss;
		break;
	}
}

int sess_addr_set(union sess_addr *a, const struct sockaddr_storage *in)
{
	struct sockaddr_storage *ss;

	if (in_place(in->ss_family)) {
		/* the bytes past the new address are never read */
		if (!in_place(a->sa.sa_family))
			free(a->ext.ss);
		if (in->ss_family == AF_INET)
			memcpy(&a->in4, in, sizeof(a->in4));
		else if (in->ss_family == AF_INET6)
			memcpy(&a->in6, in, sizeof(a->in6));
		else
			a->sa.sa_family = AF_UNSPEC;
		return 0;
	}
	/* the same room again (a retry toward the same unix server) */
	ss = in_place(a->sa.sa_family) ? malloc(sizeof(*ss)) : a->ext.ss;
	if (!ss)
		return -ENOMEM;
	if (ss != in)
		*ss = *in;
	a->ext.family = in->ss_family;
	a->ext.ss = ss;
	return 0;
}

void sess_addr_clear(union sess_addr *a)
{
	if (!in_place(a->sa.sa_family))
		free(a->ext.ss);
	a->sa.sa_family = AF_UNSPEC;
}
