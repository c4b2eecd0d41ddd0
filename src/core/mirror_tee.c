/* mirror_tee.c — the copy of a spliced direction (see mirror.h, *the tee
 * path*): the relay tee()s the bytes into a pipe of the copy's own, and
 * the copy reads that pipe straight into the frames it writes.
 *
 * The frames of the session's first batching output (pcap, pcap-dir) lie
 * one after the other in its buffer: record header, Ethernet/IP/TCP
 * header, payload. A run of segments is laid out ahead: one readv() puts
 * each segment's payload in its slot (the kernel's copy out of the pipe is
 * the only copy of the payload), then each header is written in front of
 * its payload, summing the payload where it lies (ts_segment_at()), and
 * the frame goes to every output of the session as any other frame (the
 * batch takes it without a copy, a tap by pointer, VXLAN staged). A run
 * ends where the other side's ACK is due (TS_ACK_EVERY), so an ACK never
 * lands in a slot read ahead. A session without a batching output (tap or
 * VXLAN only) reads through a buffer on the stack.
 */
#include "config.h"

#include <errno.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/mirror.h"
#include "core/mirror_int.h"
#include "lib/pcapfmt.h"

#define RUN_SEGS 64 /* segments per readv() at most (64 x 1400 > TS_ACK_EVERY) */

uint64_t mirror_sess_tee_want(const struct mirror_sess *ms, bool from_client)
{
	return mirror_sess_wants(ms, from_client) ? ms->left[from_client ? TS_CLI : TS_SRV] : 0;
}

/* One run of segments read in place; returns the bytes read, 0 when the
 * session has no batch to read into (or no memory for one), -1 when the
 * read failed. last: len is what is left of the write (PSH on its end). */
static ssize_t run_in_place(struct mirror_sess *ms, int dir, int fd, size_t len)
{
	struct ts_flow *f = &ms->flow;
	struct mirror_out *o;
	struct mirror_dirfile *df;
	struct iovec iov[RUN_SEGS];
	size_t hlen = ts_seg_hlen(f), mss = f->mss, slot = PCAP_REC_HDR_LEN + hlen + mss;
	size_t room, run, due, k;
	uint8_t *at;
	ssize_t got;

	if (!mirror_first_batch(ms, &o, &df))
		return 0;
	at = mirror_out_room(o, df, slot, &room);
	if (!at)
		return 0;
	/* up to the next ACK of the other side, what the batch holds */
	due = f->unacked[dir] < TS_ACK_EVERY ? TS_ACK_EVERY - f->unacked[dir] : 1;
	due = (due + mss - 1) / mss * mss; /* whole segments (ts_data() overshoots alike) */
	run = len < due ? len : due;
	if (run > room / slot * mss)
		run = room / slot * mss;
	if (run > RUN_SEGS * mss)
		run = RUN_SEGS * mss;
	for (k = 0; k * mss < run; k++) {
		iov[k].iov_base = at + k * slot + PCAP_REC_HDR_LEN + hlen;
		iov[k].iov_len = run - k * mss < mss ? run - k * mss : mss;
	}
	do
		got = readv(fd, iov, (int)k);
	while (got < 0 && errno == EINTR);
	if (got <= 0)
		return -1;
	for (size_t i = 0; i * mss < (size_t)got; i++) {
		size_t n = (size_t)got - i * mss < mss ? (size_t)got - i * mss : mss;

		ts_segment_at(f, dir, at + i * slot + PCAP_REC_HDR_LEN, n, i * mss + n == len, mirror_emit, ms);
	}
	ts_ack_data(f, dir, false, mirror_emit, ms);
	return got;
}

/* The same through a buffer (no batch): ts_data() copies from it. */
static ssize_t run_buffered(struct mirror_sess *ms, int dir, int fd, size_t len)
{
	uint8_t buf[16384];
	ssize_t got;

	do
		got = read(fd, buf, len < sizeof(buf) ? len : sizeof(buf));
	while (got < 0 && errno == EINTR);
	if (got <= 0)
		return -1;
	ts_data(&ms->flow, dir, buf, (size_t)got, mirror_emit, ms);
	return got;
}

size_t mirror_sess_tee(struct mirror_sess *ms, bool from_client, int fd, size_t n)
{
	int dir = from_client ? TS_CLI : TS_SRV;
	size_t done = 0;

	if (!ms || n > mirror_sess_tee_want(ms, from_client))
		return 0; /* never asked for so much: lost, a hole */
	mirror_stamp(ms);
	while (done < n) {
		ssize_t got = run_in_place(ms, dir, fd, n - done);

		if (!got)
			got = run_buffered(ms, dir, fd, n - done);
		if (got < 0)
			break;
		done += (size_t)got;
	}
	ts_ack_data(&ms->flow, dir, true, mirror_emit, ms);
	ms->left[dir] -= done;
	mirror_push(ms);
	return done;
}

void mirror_sess_tee_lost(struct mirror_sess *ms, bool from_client, size_t n)
{
	int dir = from_client ? TS_CLI : TS_SRV;
	unsigned long long take;

	if (!ms || !mirror_sess_wants(ms, from_client))
		return;
	take = n < ms->left[dir] ? n : ms->left[dir];
	ts_skip(&ms->flow, dir, (size_t)take);
	ms->left[dir] -= take;
	mirror_sess_lost(ms, (take + ms->flow.mss - 1) / ms->flow.mss);
}
