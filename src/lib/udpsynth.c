/* udpsynth.c — UDP datagrams as Ethernet frames (see udpsynth.h). */
#include "config.h"

#include <netinet/in.h>
#include <string.h>

#include "lib/udpsynth.h"

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

size_t us_frame(struct ts_flow *f, int dir, uint8_t *h, const void *payload, size_t plen)
{
	size_t iplen = f->family == AF_INET ? 20 : 40, alen = f->family == AF_INET ? 4 : 16;
	uint8_t *ip = h + TS_ETH_LEN, *udp = ip + iplen, pseudo[4];
	uint16_t ulen, c;
	uint32_t sum;

	if (plen > US_PAYLOAD_MAX)
		return 0;
	ulen = (uint16_t)(8 + plen);
	memcpy(h, dir == TS_CLI ? ts_mac_server : ts_mac_client, 6);
	memcpy(h + 6, dir == TS_CLI ? ts_mac_client : ts_mac_server, 6);
	put16(h + 12, f->family == AF_INET ? 0x0800 : 0x86dd);
	if (f->family == AF_INET) {
		ip[0] = 0x45;
		ip[1] = 0;
		put16(ip + 2, (uint16_t)(20 + ulen));
		put16(ip + 4, f->ip_id[dir]++);
		put16(ip + 6, 0); /* a datagram may be fragmented on the way: no DF */
		ip[8] = dir == TS_CLI ? 64 : 63;
		ip[9] = IPPROTO_UDP;
		put16(ip + 10, 0);
		memcpy(ip + 12, f->addr[dir], 4);
		memcpy(ip + 16, f->addr[!dir], 4);
		c = (uint16_t)~ts_csum_fold(ts_csum_add(0, ip, 20));
		memcpy(ip + 10, &c, 2);
	} else {
		put16(ip, 0x6000);
		put16(ip + 2, 0);
		put16(ip + 4, ulen);
		ip[6] = IPPROTO_UDP;
		ip[7] = dir == TS_CLI ? 64 : 63;
		memcpy(ip + 8, f->addr[dir], 16);
		memcpy(ip + 24, f->addr[!dir], 16);
	}
	put16(udp, f->port[dir]);
	put16(udp + 2, f->port[!dir]);
	put16(udp + 4, ulen);
	put16(udp + 6, 0);
	/* pseudo-header (source, destination, protocol, UDP length; IPv6's
	 * 32-bit length and next header sum the same), header, payload */
	put16(pseudo, IPPROTO_UDP);
	put16(pseudo + 2, ulen);
	sum = ts_csum_add(0, f->addr[dir], alen);
	sum = ts_csum_add(sum, f->addr[!dir], alen);
	sum = ts_csum_add(sum, pseudo, 4);
	sum = ts_csum_add(sum, udp, 8);
	if (plen)
		sum = ts_csum_add(sum, payload, plen);
	c = (uint16_t)~ts_csum_fold(sum);
	if (!c)
		c = 0xffff; /* 0 means "no checksum" */
	memcpy(udp + 6, &c, 2);
	return TS_ETH_LEN + iplen + 8;
}
