/* fuzz_nflog.c — libFuzzer target for the NFLOG packet parser
 * (net/nflog.h): any bytes, as if read from the NFLOG socket. The
 * callback reads every field it is given, so that a wrong length shows as
 * an ASan report. Seeds: tests/fuzz/corpus_nflog (messages received from
 * the kernel). */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "net/nflog.h"

static volatile unsigned sink;

static void seen(void *ctx, const struct nflog_pkt *p)
{
	(void)ctx;
	sink += p->sport + p->dport + p->tcp_flags + (unsigned char)p->kind;
	for (size_t i = 0; i < p->setlen; i++)
		sink += (unsigned char)p->set[i];
	sink += p->src.v6.s6_addr[15] + p->dst.v6.s6_addr[15];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned bad = 0;

	nflog_parse(data, size, seen, NULL, &bad);
	return 0;
}
