/* counters.c — see counters.h */
#include <stdlib.h>
#include <string.h>

#include "model/counters.h"

struct pt_counters_slot pt_cnt[DP_MAX_THREADS];

void *cnt_slots_alloc(size_t slot_size)
{
	size_t n = slot_size * DP_MAX_THREADS;
	void *p = aligned_alloc(CNT_LINE, n);

	if (p)
		memset(p, 0, n);
	return p;
}

void cnt_sum(const void *slots, size_t slot_size, size_t size, void *out)
{
	unsigned long long *o = out;
	size_t nf = size / sizeof(*o);
	unsigned nt = dp_nbthread;

	memset(out, 0, size);
	if (!slots)
		return;
	if (nt > DP_MAX_THREADS)
		nt = DP_MAX_THREADS;
	for (unsigned t = 0; t < nt; t++) {
		const unsigned long long *f = (const void *)((const char *)slots + (size_t)t * slot_size);

		for (size_t i = 0; i < nf; i++)
			o[i] += __atomic_load_n(&f[i], __ATOMIC_RELAXED);
	}
}

void cnt_slots_copy(void *dst, const void *src, size_t slot_size, size_t size)
{
	size_t nf = size / sizeof(unsigned long long);

	if (!dst || !src)
		return;
	for (unsigned t = 0; t < DP_MAX_THREADS; t++) {
		const unsigned long long *s = (const void *)((const char *)src + (size_t)t * slot_size);
		unsigned long long *d = (void *)((char *)dst + (size_t)t * slot_size);

		for (size_t i = 0; i < nf; i++)
			__atomic_store_n(&d[i], __atomic_load_n(&s[i], __ATOMIC_RELAXED), __ATOMIC_RELAXED);
	}
}

void cnt_slots_clear(void *slots, size_t slot_size, size_t size)
{
	size_t nf = size / sizeof(unsigned long long);

	if (!slots)
		return;
	for (unsigned t = 0; t < DP_MAX_THREADS; t++) {
		unsigned long long *d = (void *)((char *)slots + (size_t)t * slot_size);

		for (size_t i = 0; i < nf; i++)
			__atomic_store_n(&d[i], 0, __ATOMIC_RELAXED);
	}
}

struct pt_counters pt_cnt_sum(void)
{
	struct pt_counters r;

	cnt_sum(pt_cnt, sizeof(pt_cnt[0]), sizeof(r), &r);
	return r;
}
