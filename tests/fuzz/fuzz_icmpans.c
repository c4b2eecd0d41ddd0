/* fuzz_icmpans.c — libFuzzer target for the ICMP answers of decoys
 * (lib/icmpans.h): any bytes, as if copied by NFLOG from the attacker's
 * packet (the capture cut at ICMPANS_SNAPLEN), classified and, when Linux
 * would answer, built. The answer is copied into a buffer exactly its size
 * (an overrun shows as an ASan report) and checked: its length stays within
 * what Linux sends, its checksums are right. Seeds: tests/fuzz/corpus_icmpans
 * (the requests of tests/unit/test_icmpans.c). */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/icmpans.h"
#include "lib/tcpsynth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t out[ICMPANS_MAX], *pkt;
	struct icmpans_req r;
	size_t cap = size < ICMPANS_SNAPLEN ? size : ICMPANS_SNAPLEN, n;
	int kind;

	/* a heap copy of exactly cap bytes: a read past it is caught */
	pkt = malloc(cap ? cap : 1);
	if (!pkt)
		return 0;
	memcpy(pkt, data, cap);
	kind = icmpans_classify(pkt, cap, &r);
	if (kind > 0) {
		n = icmpans_build(pkt, cap, &r, 0x12345, out, sizeof(out));
		if (!n)
			abort();        /* ICMPANS_MAX always does */
		if (r.kind == ICMPANS_UNREACH && n > (r.family == AF_INET ? ICMPANS_ERR4_MAX : ICMPANS_ERR6_MAX))
			abort();
		if (r.family == AF_INET && (ts_csum_fold(ts_csum_add(0, out, 20)) != 0xffff ||
					    ts_csum_fold(ts_csum_add(0, out + 20, n - 20)) != 0xffff))
			abort();
	}
	free(pkt);
	return 0;
}
