/* counters.h — per-thread counters of proxies and servers.
 *
 * A proxy's `cnt` and a server's `cnt` are arrays of DP_MAX_THREADS slots,
 * one per event-loop thread, each on its own cache lines: thread `tid`
 * writes only slot `tid` (no locked instruction, no line shared between
 * writers), and whoever reads (stats socket, CSV, stats page, metrics)
 * sums the slots of the threads that ran. The slots belong to the
 * proxy/server of one configuration generation; a reload carries every
 * slot over (dp_config_carry_over). Every field of a counters struct is an
 * unsigned long long (cnt_sum adds them as such).
 *
 * Writes are a relaxed atomic load and store of the writer's own slot (one
 * writer per slot: nothing is lost, and it compiles to a plain add on
 * x86-64 and arm64); reads are relaxed atomic loads, so a reader racing a
 * writer sees the old or the new value of each field, never a torn one.
 */
#ifndef DP_MODEL_COUNTERS_H
#define DP_MODEL_COUNTERS_H

#include <stddef.h>

#include "lib/thread.h"

#define CNT_LINE 64

/* Add n (or 1) to `field` of this thread's slot of obj->cnt (obj: a
 * struct proxy or struct server). */
#define CNT_ADD(obj, field, n) cnt_add_ull(&(obj)->cnt[tid].v.field, (n))
#define CNT_INC(obj, field) CNT_ADD(obj, field, 1)
/* Two fields of the same object at once: the slot is found once. */
#define CNT_ADD2(obj, f1, n1, f2, n2)                                              \
	do {                                                                       \
		__typeof__(&(obj)->cnt[0].v) cnt_mine_ = &(obj)->cnt[tid].v;       \
		cnt_add_ull(&cnt_mine_->f1, (n1));                                 \
		cnt_add_ull(&cnt_mine_->f2, (n2));                                 \
	} while (0)
/* This thread's copy of `field`, for helpers that take a counter's address
 * (chk_health_step): written on this thread only. */
#define CNT_PTR(obj, field) (&(obj)->cnt[tid].v.field)

static inline void cnt_add_ull(unsigned long long *p, unsigned long long n)
{
	__atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}

/* DP_MAX_THREADS zeroed slots of slot_size bytes (a multiple of CNT_LINE),
 * aligned on CNT_LINE; NULL when out of memory. Free with free(). */
void *cnt_slots_alloc(size_t slot_size);

/* Sum into out (size bytes of unsigned long long fields) the first size
 * bytes of the slots of threads 0..dp_nbthread-1. */
void cnt_sum(const void *slots, size_t slot_size, size_t size, void *out);

/* Copy every slot of src into dst (a reload's carry-over: thread k goes on
 * counting where its old slot stopped). Relaxed loads of src: its writers
 * may still run sessions of the old generation. */
void cnt_slots_copy(void *dst, const void *src, size_t slot_size, size_t size);

/* Zero every slot (`clear counters all` semantics; a writer adding at the
 * same time may keep its own pre-clear value). */
void cnt_slots_clear(void *slots, size_t slot_size, size_t size);

/* Runtime counters that are not a proxy's or a server's: one slot per
 * thread, written by its thread (PT_CNT_INC), summed by pt_cnt_sum(). */
struct pt_counters {
	unsigned long long cum_conn;   /* sessions accepted since start (was rt.cum_conn) */
};
struct pt_counters_slot {
	struct pt_counters v;
} __attribute__((aligned(CNT_LINE)));
extern struct pt_counters_slot pt_cnt[DP_MAX_THREADS];

#define PT_CNT_ADD(field, n) cnt_add_ull(&pt_cnt[tid].v.field, (n))
#define PT_CNT_INC(field) PT_CNT_ADD(field, 1)
/* The sum over the threads that ran. */
struct pt_counters pt_cnt_sum(void);

/* Rare events counted from any thread: one atomic add (RARE_INC), read
 * with RARE_GET. */
#define RARE_INC(var) ((void)__atomic_add_fetch(&(var), 1, __ATOMIC_RELAXED))
#define RARE_GET(var) __atomic_load_n(&(var), __ATOMIC_RELAXED)

#endif
