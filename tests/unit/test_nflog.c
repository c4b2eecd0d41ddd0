/* test_nflog.c — the NFLOG packet parser (net/nflog.h) on real bytes: the
 * two messages below were received from Linux 6.18 (nfnetlink_log, copy
 * mode packet, 128 bytes) for a SYN logged by an nft rule with prefix
 * "o decoys4_web" (IPv4, 10.5.0.1:41942 -> 10.5.0.9:22) and "c decoys6_web"
 * (IPv6, [fd05::1]:46066 -> [fd05::9]:443); then cut and damaged copies
 * of them, UDP copies of them, and the configuration message.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netlink.h>

#include "net/nflog.h"

static const uint8_t msg4[] = {
	0x88, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x07, 0x08, 0x00, 0x01, 0x00,
	0x08, 0x00, 0x03, 0x00, 0x12, 0x00, 0x0a, 0x00, 0x6f, 0x20, 0x64, 0x65,
	0x63, 0x6f, 0x79, 0x73, 0x34, 0x5f, 0x77, 0x65, 0x62, 0x00, 0x00, 0x00,
	0x08, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x03, 0x08, 0x00, 0x0b, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x0e, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x40, 0x00, 0x09, 0x00, 0x45, 0x00, 0x00, 0x3c, 0x07, 0xad, 0x40, 0x00,
	0x40, 0x06, 0x1e, 0xfc, 0x0a, 0x05, 0x00, 0x01, 0x0a, 0x05, 0x00, 0x09,
	0xa3, 0xd6, 0x00, 0x16, 0x95, 0x77, 0xa6, 0x42, 0x00, 0x00, 0x00, 0x00,
	0xa0, 0x02, 0xfa, 0xf0, 0x14, 0x42, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4,
	0x04, 0x02, 0x08, 0x0a, 0x91, 0x49, 0xc3, 0x32, 0x00, 0x00, 0x00, 0x00,
	0x01, 0x03, 0x03, 0x0a,
};

static const uint8_t msg6[] = {
	0x9c, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x07, 0x08, 0x00, 0x01, 0x00,
	0x86, 0xdd, 0x03, 0x00, 0x12, 0x00, 0x0a, 0x00, 0x63, 0x20, 0x64, 0x65,
	0x63, 0x6f, 0x79, 0x73, 0x36, 0x5f, 0x77, 0x65, 0x62, 0x00, 0x00, 0x00,
	0x08, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x03, 0x08, 0x00, 0x0b, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x0e, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x54, 0x00, 0x09, 0x00, 0x60, 0x0b, 0xe9, 0xac, 0x00, 0x28, 0x06, 0x40,
	0xfd, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x01, 0xfd, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09, 0xb3, 0xf2, 0x01, 0xbb,
	0xfc, 0x94, 0xd8, 0x69, 0x00, 0x00, 0x00, 0x00, 0xa0, 0x02, 0xfd, 0x20,
	0xfa, 0x43, 0x00, 0x00, 0x02, 0x04, 0x05, 0xa0, 0x04, 0x02, 0x08, 0x0a,
	0x96, 0x5d, 0xd9, 0xf6, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x0a,
};

struct got {
	int n;
	struct nflog_pkt p[4];
	char set[4][64];
};

static void collect(void *ctx, const struct nflog_pkt *p)
{
	struct got *g = ctx;

	if (g->n < 4) {
		g->p[g->n] = *p;
		snprintf(g->set[g->n], sizeof(g->set[0]), "%.*s", (int)p->setlen, p->set);
	}
	g->n++;
}

static void test_ipv4_syn(void **state)
{
	struct got g = { 0 };
	char ip[INET6_ADDRSTRLEN];
	unsigned bad = 0;

	(void)state;
	assert_int_equal(nflog_parse(msg4, sizeof(msg4), collect, &g, &bad), 1);
	assert_int_equal(bad, 0);
	assert_int_equal(g.p[0].family, AF_INET);
	assert_int_equal(g.p[0].proto, IPPROTO_TCP);
	assert_int_equal(g.p[0].tcp_flags, 0x02);
	assert_string_equal(inet_ntop(AF_INET, &g.p[0].src, ip, sizeof(ip)), "10.5.0.1");
	assert_string_equal(inet_ntop(AF_INET, &g.p[0].dst, ip, sizeof(ip)), "10.5.0.9");
	assert_int_equal(g.p[0].sport, 41942);
	assert_int_equal(g.p[0].dport, 22);
	assert_int_equal(g.p[0].kind, 'o');
	assert_string_equal(g.set[0], "decoys4_web");
	assert_int_equal(g.p[0].group, 7);
	/* the packet itself, from its IP header on (ICMP answers quote it) */
	assert_ptr_equal(g.p[0].payload, msg4 + 76);
	assert_int_equal(g.p[0].paylen, 60);
}

static void test_ipv6_syn(void **state)
{
	struct got g = { 0 };
	char ip[INET6_ADDRSTRLEN];

	(void)state;
	assert_int_equal(nflog_parse(msg6, sizeof(msg6), collect, &g, NULL), 1);
	assert_int_equal(g.p[0].family, AF_INET6);
	assert_string_equal(inet_ntop(AF_INET6, &g.p[0].src, ip, sizeof(ip)), "fd05::1");
	assert_string_equal(inet_ntop(AF_INET6, &g.p[0].dst, ip, sizeof(ip)), "fd05::9");
	assert_int_equal(g.p[0].sport, 46066);
	assert_int_equal(g.p[0].dport, 443);
	assert_int_equal(g.p[0].kind, 'c');
	assert_string_equal(g.set[0], "decoys6_web");
}

/* A datagram to a closed UDP port (probe rule "c <set>"): the SYN messages
 * above made UDP (protocol 17, destination port 53) and cut after the
 * 8-byte UDP header, l3len bytes of IP header before it. A UDP header
 * needs only its ports: cut at udplen bytes of it. */
static size_t udp_of(uint8_t *out, const uint8_t *msg, size_t l3len, size_t udplen, int v6)
{
	size_t ip = 76, len = ip + l3len + udplen;

	memcpy(out, msg, len);
	out[0] = (uint8_t)len;                  /* nlmsg_len (< 256) */
	out[72] = (uint8_t)(4 + l3len + udplen); /* NFULA_PAYLOAD nla_len */
	out[ip + (v6 ? 6 : 9)] = 17;            /* IPPROTO_UDP */
	if (udplen >= 4) {
		out[ip + l3len + 2] = 0x00;
		out[ip + l3len + 3] = 0x35;
	}
	return len;
}

static void test_udp(void **state)
{
	uint8_t buf[sizeof(msg6)];
	struct got g = { 0 };
	char ip[INET6_ADDRSTRLEN];
	unsigned bad = 0;
	size_t len;

	(void)state;
	len = udp_of(buf, msg4, 20, 8, 0);
	assert_int_equal(nflog_parse(buf, len, collect, &g, &bad), 1);
	assert_int_equal(bad, 0);
	assert_int_equal(g.p[0].family, AF_INET);
	assert_int_equal(g.p[0].proto, IPPROTO_UDP);
	assert_int_equal(g.p[0].tcp_flags, 0);
	assert_string_equal(inet_ntop(AF_INET, &g.p[0].src, ip, sizeof(ip)), "10.5.0.1");
	assert_string_equal(inet_ntop(AF_INET, &g.p[0].dst, ip, sizeof(ip)), "10.5.0.9");
	assert_int_equal(g.p[0].sport, 41942);
	assert_int_equal(g.p[0].dport, 53);

	len = udp_of(buf, msg6, 40, 8, 1);
	assert_int_equal(nflog_parse(buf, len, collect, &g, &bad), 1);
	assert_int_equal(bad, 0);
	assert_int_equal(g.p[1].family, AF_INET6);
	assert_int_equal(g.p[1].proto, IPPROTO_UDP);
	assert_string_equal(inet_ntop(AF_INET6, &g.p[1].src, ip, sizeof(ip)), "fd05::1");
	assert_string_equal(inet_ntop(AF_INET6, &g.p[1].dst, ip, sizeof(ip)), "fd05::9");
	assert_int_equal(g.p[1].sport, 46066);
	assert_int_equal(g.p[1].dport, 53);
	assert_int_equal(g.p[1].kind, 'c');
	assert_string_equal(g.set[1], "decoys6_web");

	/* the ports are enough (4 bytes); 3 are not */
	len = udp_of(buf, msg4, 20, 4, 0);
	assert_int_equal(nflog_parse(buf, len, collect, &g, &bad), 1);
	assert_int_equal(g.p[2].dport, 53);
	len = udp_of(buf, msg6, 40, 3, 1);
	assert_int_equal(nflog_parse(buf, len, collect, &g, &bad), 0);
	assert_int_equal(bad, 1);
}

/* two messages in one read, as the kernel batches them */
static void test_batch(void **state)
{
	uint8_t buf[sizeof(msg4) + sizeof(msg6)];
	struct got g = { 0 };

	(void)state;
	memcpy(buf, msg4, sizeof(msg4));
	memcpy(buf + sizeof(msg4), msg6, sizeof(msg6));
	assert_int_equal(nflog_parse(buf, sizeof(buf), collect, &g, NULL), 2);
	assert_int_equal(g.p[0].dport, 22);
	assert_int_equal(g.p[1].dport, 443);
}

/* every cut of a message is refused or skipped, never read past */
static void test_truncated(void **state)
{
	(void)state;
	for (size_t len = 0; len < sizeof(msg4); len++) {
		uint8_t *copy = malloc(len ? len : 1);
		struct got g = { 0 };
		unsigned bad = 0;
		int r;

		memcpy(copy, msg4, len);
		r = nflog_parse(copy, len, collect, &g, &bad);
		assert_true(r == 0 || r == -EBADMSG);
		assert_int_equal(g.n, 0);
		free(copy);
	}
}

/* damaged inside: a message length that claims more, an IP header length
 * beyond the payload, a prefix without NUL; each packet skipped */
static void test_damaged(void **state)
{
	uint8_t copy[sizeof(msg4)];
	struct got g = { 0 };
	unsigned bad = 0;
	size_t pay = 0, pre = 0;

	(void)state;
	for (size_t i = 0; i + 5 < sizeof(msg4); i++) {
		if (msg4[i] == 0x45 && msg4[i + 1] == 0x00 && !pay)
			pay = i;
		if (msg4[i] == 'o' && msg4[i + 1] == ' ' && !pre)
			pre = i;
	}
	assert_true(pay && pre);
	memcpy(copy, msg4, sizeof(copy));
	copy[pay] = 0x4f;                       /* IHL 60 > what is there */
	assert_int_equal(nflog_parse(copy, sizeof(copy), collect, &g, &bad), 0);
	assert_int_equal(bad, 1);
	memcpy(copy, msg4, sizeof(copy));
	memset(copy + pre, 'x', 16);            /* prefix without its NUL */
	bad = 0;
	assert_int_equal(nflog_parse(copy, sizeof(copy), collect, &g, &bad), 0);
	assert_int_equal(bad, 1);
	memcpy(copy, msg4, sizeof(copy));
	copy[0] = 0xff;                         /* message longer than the buffer */
	assert_int_equal(nflog_parse(copy, sizeof(copy), collect, &g, &bad), -EBADMSG);
	assert_int_equal(g.n, 0);
}

static void test_cfg_message(void **state)
{
	uint8_t buf[NFLOG_CFG_MSG_MAX];
	const struct nlmsghdr *nlh = (const void *)buf;
	size_t len;

	(void)state;
	len = nflog_build_cfg(buf, 1414, true, 128, 16, 5, 9);
	assert_int_equal(len, nlh->nlmsg_len);
	assert_int_equal(nlh->nlmsg_type, (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG);
	assert_int_equal(nlh->nlmsg_seq, 9);
	/* nfgenmsg: group in network order */
	assert_int_equal(buf[16 + 2], 1414 >> 8);
	assert_int_equal(buf[16 + 3], 1414 & 0xff);
	/* first attribute: the command, BIND */
	assert_int_equal(buf[20 + 2], NFULA_CFG_CMD);
	assert_int_equal(buf[24], NFULNL_CFG_CMD_BIND);
	/* the message a kernel sends is not a config message: skipped */
	assert_int_equal(nflog_parse(buf, len, NULL, NULL, NULL), 0);
	assert_true(nflog_build_cfg(buf, 1, false, 0, 0, 0, 1) < len);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_syn),
		cmocka_unit_test(test_ipv6_syn),
		cmocka_unit_test(test_udp),
		cmocka_unit_test(test_batch),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_damaged),
		cmocka_unit_test(test_cfg_message),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
