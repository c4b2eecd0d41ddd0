/* mirror_tap.c — a tap output's frames, many per system call.
 *
 * A tap takes one frame per write(): that is the tun driver's interface,
 * and no flag changes it for an IDS. IFF_VNET_HDR with TUNSETOFFLOAD lets
 * one write carry a TCP "super-frame" that the kernel segments only on
 * transmit; frames written into a tap are received, and an af-packet
 * sensor on the tap sees the super-frame itself — 64 KiB packets where the
 * SYN said MSS 1400, which Suricata's own guide tells operators to avoid
 * (GRO/LRO off) and which a tpacket ring with the usual frame size
 * truncates. IFF_MULTI_QUEUE gives more file descriptors, not fewer
 * writes. So the writes stay one per frame, and what is batched is the
 * system call: the frames of one session hook are staged in slots and
 * handed to the kernel in one io_uring_enter() (the tun driver takes
 * non-blocking writes inline, in submission order: FMODE_NOWAIT). On the
 * machine measured (a paravirtualised guest), the entry and exit of one
 * writev() per frame was a third of the proxy's CPU with a tap at full
 * depth (bench/RESULTS.md).
 *
 * The ring is set up at the first frame (after any daemon fork); a kernel
 * without io_uring, or one that refuses it (kernel.io_uring_disabled,
 * a seccomp filter), leaves the output on one writev() per frame.
 * Raw system calls: liburing is not a dependency for ~100 lines.
 */
#include "config.h"

#include <errno.h>
#include <linux/io_uring.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/mirror_int.h"

#define TB_ENTRIES 64           /* frames per io_uring_enter() */
#define TB_SLOTS (2 * TB_ENTRIES) /* staged + in flight */

struct tap_batch {
	int ring, fd;
	/* submission queue */
	void *sq_map, *cq_map;
	size_t sq_map_len, cq_map_len, sqes_len;
	struct io_uring_sqe *sqes;
	unsigned *sq_head, *sq_tail, *sq_mask, *sq_array;
	/* completion queue */
	unsigned *cq_head, *cq_tail, *cq_mask;
	struct io_uring_cqe *cqes;
	/* frames: slot i holds len[i] bytes */
	uint8_t *slots;
	size_t slot_size;
	uint32_t len[TB_SLOTS];
	uint16_t free_[TB_SLOTS], nfree;
	uint16_t staged[TB_ENTRIES], nstaged;
	unsigned inflight;
};

static int sys_setup(unsigned entries, struct io_uring_params *p)
{
	return (int)syscall(__NR_io_uring_setup, entries, p);
}

static int sys_enter(int fd, unsigned submit, unsigned min_complete, unsigned flags)
{
	return (int)syscall(__NR_io_uring_enter, fd, submit, min_complete, flags, NULL, 0);
}

struct tap_batch *tap_batch_new(int fd, size_t slot_size, int *err)
{
	struct io_uring_params p;
	struct tap_batch *tb = calloc(1, sizeof(*tb));

	*err = ENOMEM;
	if (!tb)
		return NULL;
	tb->fd = fd;
	tb->ring = -1;
	tb->slot_size = slot_size;
	tb->slots = malloc(slot_size * TB_SLOTS);
	if (!tb->slots)
		goto fail;
	memset(&p, 0, sizeof(p));
	tb->ring = sys_setup(TB_ENTRIES, &p);
	if (tb->ring < 0) {
		*err = errno;
		goto fail;
	}
	*err = ENOTSUP;
	if (!(p.features & IORING_FEAT_NODROP) || p.sq_entries < TB_ENTRIES || p.cq_entries < TB_SLOTS)
		goto fail; /* older than 5.5: not worth a second code path */
	tb->sq_map_len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
	tb->cq_map_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	tb->sq_map = mmap(NULL, tb->sq_map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, tb->ring,
			  IORING_OFF_SQ_RING);
	tb->cq_map = mmap(NULL, tb->cq_map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, tb->ring,
			  IORING_OFF_CQ_RING);
	tb->sqes_len = p.sq_entries * sizeof(struct io_uring_sqe);
	tb->sqes = mmap(NULL, tb->sqes_len, PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_POPULATE, tb->ring, IORING_OFF_SQES);
	if (tb->sq_map == MAP_FAILED || tb->cq_map == MAP_FAILED || tb->sqes == MAP_FAILED) {
		*err = errno;
		goto fail;
	}
	tb->sq_head = (unsigned *)((char *)tb->sq_map + p.sq_off.head);
	tb->sq_tail = (unsigned *)((char *)tb->sq_map + p.sq_off.tail);
	tb->sq_mask = (unsigned *)((char *)tb->sq_map + p.sq_off.ring_mask);
	tb->sq_array = (unsigned *)((char *)tb->sq_map + p.sq_off.array);
	tb->cq_head = (unsigned *)((char *)tb->cq_map + p.cq_off.head);
	tb->cq_tail = (unsigned *)((char *)tb->cq_map + p.cq_off.tail);
	tb->cq_mask = (unsigned *)((char *)tb->cq_map + p.cq_off.ring_mask);
	tb->cqes = (struct io_uring_cqe *)((char *)tb->cq_map + p.cq_off.cqes);
	for (unsigned i = 0; i < TB_SLOTS; i++)
		tb->free_[tb->nfree++] = (uint16_t)(TB_SLOTS - 1 - i);
	return tb;
fail:
	if (tb->sq_map && tb->sq_map != MAP_FAILED)
		munmap(tb->sq_map, tb->sq_map_len);
	if (tb->cq_map && tb->cq_map != MAP_FAILED)
		munmap(tb->cq_map, tb->cq_map_len);
	if (tb->sqes && tb->sqes != MAP_FAILED)
		munmap(tb->sqes, tb->sqes_len);
	if (tb->ring >= 0)
		close(tb->ring);
	free(tb->slots);
	free(tb);
	return NULL;
}

/* Takes the completions the kernel posted: each frees its slot. */
static void reap(struct tap_batch *tb, struct tap_batch_res *r)
{
	unsigned head = *tb->cq_head;
	unsigned tail = __atomic_load_n(tb->cq_tail, __ATOMIC_ACQUIRE);

	while (head != tail) {
		const struct io_uring_cqe *c = &tb->cqes[head & *tb->cq_mask];
		unsigned slot = (unsigned)c->user_data;

		if (c->res == (int)tb->len[slot]) {
			r->frames++;
			r->bytes += tb->len[slot];
		} else {
			r->drops++;
			if (c->res < 0)
				r->err = -c->res;
		}
		tb->free_[tb->nfree++] = (uint16_t)slot;
		tb->inflight--;
		head++;
	}
	__atomic_store_n(tb->cq_head, head, __ATOMIC_RELEASE);
}

uint8_t *tap_batch_slot(struct tap_batch *tb, size_t flen, struct tap_batch_res *r)
{
	if (flen > tb->slot_size)
		return NULL;
	if (tb->nstaged == TB_ENTRIES)
		tap_batch_push(tb, r);
	if (!tb->nfree)
		reap(tb, r);
	if (!tb->nfree || tb->nstaged == TB_ENTRIES)
		return NULL;
	return tb->slots + (size_t)tb->free_[tb->nfree - 1] * tb->slot_size;
}

void tap_batch_commit(struct tap_batch *tb, size_t flen)
{
	uint16_t slot = tb->free_[--tb->nfree];

	tb->len[slot] = (uint32_t)flen;
	tb->staged[tb->nstaged++] = slot;
}

void tap_batch_push(struct tap_batch *tb, struct tap_batch_res *r)
{
	unsigned tail = *tb->sq_tail, n = tb->nstaged;
	int k;

	if (n) {
		for (unsigned i = 0; i < n; i++) {
			unsigned idx = (tail + i) & *tb->sq_mask;
			struct io_uring_sqe *e = &tb->sqes[idx];
			unsigned slot = tb->staged[i];

			memset(e, 0, sizeof(*e));
			e->opcode = IORING_OP_WRITE;
			e->fd = tb->fd;
			e->addr = (uint64_t)(uintptr_t)(tb->slots + (size_t)slot * tb->slot_size);
			e->len = tb->len[slot];
			e->off = (uint64_t)-1; /* the file's position: a tap has none */
			e->user_data = slot;
			tb->sq_array[idx] = idx;
		}
		__atomic_store_n(tb->sq_tail, tail + n, __ATOMIC_RELEASE);
		tb->nstaged = 0;
		tb->inflight += n;
		do
			k = sys_enter(tb->ring, n, 0, 0);
		while (k < 0 && errno == EINTR);
		if (k < 0 || (unsigned)k < n) {
			/* not taken (EAGAIN, EBUSY: completions pile up):
			 * take them back from the queue, dropped */
			unsigned taken = k < 0 ? 0 : (unsigned)k;

			__atomic_store_n(tb->sq_tail, tail + taken, __ATOMIC_RELEASE);
			for (unsigned i = taken; i < n; i++) {
				tb->free_[tb->nfree++] = (uint16_t)tb->staged[i];
				r->drops++;
			}
			tb->inflight -= n - taken;
			if (k < 0)
				r->err = errno;
		}
	}
	reap(tb, r);
}

void tap_batch_free(struct tap_batch *tb, struct tap_batch_res *r)
{
	tap_batch_push(tb, r);
	/* the kernel may still read slots: wait for every completion */
	while (tb->inflight) {
		if (sys_enter(tb->ring, 0, tb->inflight, IORING_ENTER_GETEVENTS) < 0 && errno != EINTR)
			break;
		reap(tb, r);
	}
	munmap(tb->sqes, tb->sqes_len);
	munmap(tb->cq_map, tb->cq_map_len);
	munmap(tb->sq_map, tb->sq_map_len);
	close(tb->ring);
	free(tb->slots);
	free(tb);
}
