/* nflog.c — nfnetlink_log configuration and the packet message parser
 * (see nflog.h). The parser reads untrusted lengths from the kernel's
 * message and from the packet headers: each is checked against what is
 * left before it is used.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netlink.h>

#include <libmnl/libmnl.h>

#include "lib/common.h"
#include "net/nflog.h"

/* Packet headers: the network header (IPv4 with options, or IPv6 without
 * extension headers: the probe rules only log TCP and UDP, whose header
 * follows the fixed IPv6 header unless the attacker adds extensions, and
 * those packets are skipped) then the transport header. */
static int parse_l3(const uint8_t *p, size_t n, struct nflog_pkt *o)
{
	size_t hl;

	if (n < 1)
		return -1;
	if ((p[0] >> 4) == 4) {
		if (n < 20)
			return -1;
		hl = (size_t)(p[0] & 0x0f) * 4;
		if (hl < 20 || hl > n)
			return -1;
		o->family = AF_INET;
		o->proto = p[9];
		memcpy(&o->src.v4, p + 12, 4);
		memcpy(&o->dst.v4, p + 16, 4);
		/* a fragment other than the first carries no port */
		if ((((unsigned)p[6] << 8) | p[7]) & 0x1fff)
			return 0;
	} else if ((p[0] >> 4) == 6) {
		if (n < 40)
			return -1;
		hl = 40;
		o->family = AF_INET6;
		o->proto = p[6];
		memcpy(&o->src.v6, p + 8, 16);
		memcpy(&o->dst.v6, p + 24, 16);
	} else {
		return -1;
	}
	p += hl;
	n -= hl;
	if (o->proto == IPPROTO_TCP || o->proto == IPPROTO_UDP) {
		if (n < 4)
			return -1;
		o->sport = (uint16_t)((p[0] << 8) | p[1]);
		o->dport = (uint16_t)((p[2] << 8) | p[3]);
		if (o->proto == IPPROTO_TCP) {
			if (n < 14)
				return -1;
			o->tcp_flags = p[13];
		}
	}
	return 0;
}

/* One NFULNL_MSG_PACKET message. 0 (o filled) or -1. */
static int parse_packet(const struct nlmsghdr *nlh, struct nflog_pkt *o)
{
	const struct nfgenmsg *g;
	const struct nlattr *a;
	const uint8_t *payload = NULL;
	size_t plen = 0;
	bool have_hdr = false;

	if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(*g))
		return -1;
	g = mnl_nlmsg_get_payload(nlh);
	memset(o, 0, sizeof(*o));
	o->set = "";
	o->group = ntohs(g->res_id);
	mnl_attr_for_each(a, nlh, sizeof(*g)) {
		uint16_t type = mnl_attr_get_type(a), alen = mnl_attr_get_payload_len(a);
		const char *v = mnl_attr_get_payload(a);

		switch (type) {
		case NFULA_PACKET_HDR:
			if (alen < sizeof(struct nfulnl_msg_packet_hdr))
				return -1;
			have_hdr = true;
			break;
		case NFULA_PAYLOAD:
			payload = (const uint8_t *)v;
			plen = alen;
			break;
		case NFULA_PREFIX: {
			/* a NUL-terminated string; never trust that it is */
			size_t sl = strnlen(v, alen);

			if (sl == alen)
				return -1;
			if (sl >= 1) {
				o->kind = v[0];
				if (sl >= 2 && v[1] == ' ') {
					o->set = v + 2;
					o->setlen = sl - 2;
				}
			}
			break;
		}
		default:
			break;
		}
	}
	/* mnl_attr_for_each stops at the first attribute that does not fit:
	 * the walk must have consumed the whole message */
	if (!have_hdr || !payload)
		return -1;
	o->payload = payload;
	o->paylen = plen;
	return parse_l3(payload, plen, o);
}

/* Whether the attributes after the family header fill the message exactly
 * (the last one's padding may be missing). Walks them by hand, bounded by
 * nlmsg_len itself: mnl_attr_for_each bounds its walk by the *aligned*
 * length, so with an unaligned nlmsg_len at the very end of the buffer it
 * would read an attribute header past it (found by tests/fuzz/fuzz_nflog.c).
 * Once this holds, mnl_attr_for_each in parse_packet() stays inside. */
static bool attrs_ok(const struct nlmsghdr *nlh, size_t off)
{
	size_t pos = NLMSG_HDRLEN + NLMSG_ALIGN(off);
	size_t end = nlh->nlmsg_len;

	while (pos < end) {
		const struct nlattr *a = (const struct nlattr *)((const char *)nlh + pos);

		if (end - pos < sizeof(*a) || a->nla_len < sizeof(*a) || a->nla_len > end - pos)
			return false;
		pos += NLA_ALIGN(a->nla_len);
	}
	return true;
}

/* Whether a whole netlink message starts at p with rem bytes left. Not
 * mnl_nlmsg_ok(): it compares the length as an int, so a header claiming
 * 4 GiB passes it (found by tests/fuzz/fuzz_nflog.c). */
static bool msg_ok(const struct nlmsghdr *nlh, size_t rem)
{
	return rem >= sizeof(*nlh) && nlh->nlmsg_len >= sizeof(*nlh) && nlh->nlmsg_len <= rem;
}

int nflog_parse(const void *buf, size_t len, nflog_pkt_fn fn, void *ctx, unsigned *bad)
{
	const char *p = buf;
	size_t rem = len;
	int n = 0;

	if (len && !msg_ok(buf, len))
		return -EBADMSG;
	while (msg_ok((const struct nlmsghdr *)p, rem)) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)p;
		size_t step = NLMSG_ALIGN((size_t)nlh->nlmsg_len);
		struct nflog_pkt pkt;

		if (nlh->nlmsg_type == ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET)) {
			if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(struct nfgenmsg) ||
			    !attrs_ok(nlh, sizeof(struct nfgenmsg)) || parse_packet(nlh, &pkt) < 0) {
				if (bad)
					(*bad)++;
			} else {
				n++;
				if (fn)
					fn(ctx, &pkt);
			}
		}
		if (step >= rem)
			break;
		p += step;
		rem -= step;
	}
	return n;
}

size_t nflog_build_cfg(void *buf, uint16_t group, bool bind, uint32_t copy_range,
		       uint32_t qthresh, uint32_t timeout_cs, uint32_t seq)
{
	struct nlmsghdr *nlh;
	struct nfulnl_msg_config_cmd cmd = { bind ? NFULNL_CFG_CMD_BIND : NFULNL_CFG_CMD_UNBIND };
	struct nfgenmsg *g;

	memset(buf, 0, NFLOG_CFG_MSG_MAX);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = AF_UNSPEC;
	g->version = NFNETLINK_V0;
	g->res_id = htons(group);
	mnl_attr_put(nlh, NFULA_CFG_CMD, sizeof(cmd), &cmd);
	if (bind) {
		struct nfulnl_msg_config_mode mode;

		memset(&mode, 0, sizeof(mode));
		mode.copy_range = htonl(copy_range);
		mode.copy_mode = NFULNL_COPY_PACKET;
		mnl_attr_put(nlh, NFULA_CFG_MODE, sizeof(mode), &mode);
		mnl_attr_put_u32(nlh, NFULA_CFG_QTHRESH, htonl(qthresh));
		mnl_attr_put_u32(nlh, NFULA_CFG_TIMEOUT, htonl(timeout_cs));
	}
	return nlh->nlmsg_len;
}

int nflog_bind(int fd, uint16_t group, uint32_t copy_range, char **err)
{
	return nflog_bind_q(fd, group, copy_range, 16, 5, err);
}

int nflog_bind_q(int fd, uint16_t group, uint32_t copy_range, uint32_t qthresh, uint32_t timeout_cs,
		 char **err)
{
	char buf[NFLOG_CFG_MSG_MAX], rbuf[4096];
	size_t len = nflog_build_cfg(buf, group, true, copy_range, qthresh, timeout_cs, 1);
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t r;

	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINVAL) {
		memprintf(err, "NFLOG socket: bind: %s", strerror(errno));
		return -errno;
	}
	if (sendto(fd, buf, len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		memprintf(err, "NFLOG group %u: %s", group, strerror(errno));
		return -errno;
	}
	for (;;) {
		const struct nlmsghdr *nlh = (const void *)rbuf;
		int rem;

		if (poll(&pfd, 1, 2000) <= 0) {
			memprintf(err, "NFLOG group %u: no answer from the kernel", group);
			return -ETIMEDOUT;
		}
		r = recv(fd, rbuf, sizeof(rbuf), 0);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			memprintf(err, "NFLOG group %u: %s", group, strerror(errno));
			return -errno;
		}
		rem = (int)r;
		for (; mnl_nlmsg_ok(nlh, rem); nlh = mnl_nlmsg_next(nlh, &rem)) {
			const struct nlmsgerr *e;

			if (nlh->nlmsg_type != NLMSG_ERROR || nlh->nlmsg_seq != 1)
				continue;
			if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(*e))
				continue;
			e = mnl_nlmsg_get_payload(nlh);
			if (!e->error)
				return 0;
			if (e->error == -EBUSY)
				memprintf(err, "NFLOG group %u is used by another program in this namespace "
					  "(%s): choose another with 'probe-log group'", group,
					  strerror(-e->error));
			else
				memprintf(err, "NFLOG group %u: %s%s", group, strerror(-e->error),
					  e->error == -EPERM ? " (needs CAP_NET_ADMIN)" : "");
			return e->error;
		}
	}
}
