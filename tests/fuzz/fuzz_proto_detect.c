/* fuzz_proto_detect.c — libFuzzer target for the req.proto classifier
 * (src/lib/proto_detect.c).
 *
 * Classifies arbitrary bytes, as a middle chunk and as the final one, and
 * checks the contract: a definite answer names a probe that said DEFINITE
 * and no earlier probe did; NEED_MORE only when some probe waits and never
 * with PD_F_FINAL; a final answer is the same definite protocol or
 * unknown/silent; the answer for the empty input is silent.
 *
 * Seeds: tests/unit/data/proto/ (real and hand-made first bytes).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "lib/proto_detect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const uint8_t *data, size_t size, unsigned int flags)
{
	struct pd_result r;
	enum pd_verdict v = pd_classify(data, size, flags, &r);
	bool waiting = false;
	int i;

	for (i = 0; i < PD_PROBES; i++) {
		if (r.verdict[i] > PD_DEFINITE)
			abort();
		if (r.verdict[i] == PD_DEFINITE && (v != PD_DEFINITE || (int)r.proto > i))
			abort();
		if (r.verdict[i] == PD_NEED_MORE)
			waiting = true;
	}
	switch (v) {
	case PD_DEFINITE:
		if ((int)r.proto >= PD_PROBES || r.verdict[r.proto] != PD_DEFINITE)
			abort();
		break;
	case PD_NEED_MORE:
		if ((flags & PD_F_FINAL) || !waiting || r.proto != PD_UNKNOWN)
			abort();
		break;
	case PD_NO:
		if (r.proto != (size ? PD_UNKNOWN : PD_SILENT))
			abort();
		if (!(flags & PD_F_FINAL) && waiting)
			abort();
		break;
	default:
		abort();
	}
	if (pd_proto_lookup(pd_proto_name(r.proto)) != (int)r.proto)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check(data, size, 0);
	check(data, size, PD_F_FINAL);
	if (size > 1)
		check(data, size / 2, 0);
	return 0;
}
