/* mirror_out.c — where the copies go: pcap files (batched, written by one
 * writer thread per file so the event loop never waits for a disk), one
 * pcap file per connection under a directory, a tap device, a VXLAN sensor.
 *
 * Never blocking, never breaking the relay: a frame that an output cannot
 * take right now (writer queue full, tap or socket buffer full, a failed
 * write) is dropped and counted; the failure is logged at most once a
 * minute per output. Outputs are shared by the generations in service
 * (registry keyed by destination): a reload keeps the same file, tap or
 * socket and, for pcap files, reopens the file (log rotation).
 *
 * Threads: an output is shared by every event-loop thread, and each thread
 * has its own slot in it (struct out_slot, on its own cache lines): its
 * pcap batch, its VXLAN packets staged for one sendmmsg(), its tap
 * io_uring, its live pcap-dir files, its counters (summed when read) and
 * its warning rate limit. A session only ever writes to its thread's slot:
 * no lock on the data path. Batches go to the output's writer thread from
 * any thread (its queue has a mutex, taken once per batch). Each thread
 * flushes its own slots with a timer on its own loop, armed when a copy
 * starts on it and stopped when no output is left. What touches other
 * threads' slots (opening and freeing an output, a reopen at reload, the
 * final flush) runs on the control thread with the others isolated or
 * stopped; the registry itself is changed only then.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "lib/addr.h"
#include "lib/pcapfmt.h"
#include "log/msg.h"
#include "net/ns.h"
#include "net/nscache.h"
#include "core/channel.h"
#include "core/loop.h"
#include "core/thread.h"
#include "core/mirror.h"
#include "core/mirror_int.h"
#include "model/counters.h"

#define SNAPLEN 65535
#define FLUSH_EVERY 0.2   /* s: batches and per-connection files reach the disk */

/* ---- the pcap writer thread ---------------------------------------------------- */

struct fw_item {
	struct fw_item *next;
	uint8_t *buf;
	size_t len;
	unsigned npkts;
	char *path;         /* pcap-dir: the connection's file; NULL: the output's file */
	bool fresh;         /* pcap-dir: create the file (with its header) */
};

struct fwriter {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct fw_item *head, *tail;
	size_t queued;      /* bytes in the queue */
	bool busy, stop, reopen, started;
	uint8_t *spare[MIRROR_SPARES]; /* written batches (MIRROR_BATCH bytes) for reuse */
	unsigned nspare;
	unsigned long long max_size;  /* rotation settings, under mu */
	unsigned max_files;
	/* the output's own file (pcap); the thread's alone once it runs */
	const char *path;
	unsigned long long cur_max_size;
	unsigned cur_max_files;
	int fd;
	unsigned long long size;
	/* results, read by the loop */
	atomic_ullong drops;
	atomic_ullong errors;
	atomic_int last_err;
};

/* What one thread has of an output: written by that thread only (others
 * read the counters, relaxed atomics), except by the control thread while
 * the others are isolated or stopped. */
struct out_slot {
	unsigned long long pkts, bytes, drops;
	/* pcap: this thread's batch */
	uint8_t *buf;
	size_t len;
	unsigned npkts;
	/* pcap-dir: the live files of this thread's sessions */
	struct mirror_dirfile *dirs;
	/* vxlan: packets staged for one sendmmsg() (MIRROR_VX_BATCH slots) */
	uint8_t *vx_stage;
	struct mmsghdr *vx_mm;
	struct iovec *vx_iov;
	unsigned vx_n;
	/* tap: frames staged for one io_uring_enter() (mirror_tap.c) */
	struct tap_batch *tb;
	bool tb_tried;
} __attribute__((aligned(CNT_LINE)));

struct mirror_out {
	struct mirror_out *next;
	char *key;          /* what it writes to, for sharing */
	char *name;         /* for messages: "mirror pcap '/x.pcap'" */
	enum mirror_kind kind;
	int refcnt;
	unsigned gen, reopened_gen;
	unsigned long long errors_seen; /* writer errors already reported (atomic) */
	unsigned long long last_warn;   /* ms (monotonic) of the last warning (atomic) */
	bool tb_noticed;                /* tap: "no io_uring" said (atomic: once) */
	struct out_slot *pt;            /* DP_MAX_THREADS slots, [tid] is ours */
	/* pcap / pcap-dir */
	struct fwriter *w;
	/* tap, vxlan: one descriptor, written by every thread */
	int fd;
	uint8_t vxlan_hdr[8];
	struct sockaddr_storage dst; /* vxlan: the sensor */
};

static int vx_stage_new(struct mirror_out *o, struct out_slot *s);

/* this thread's slot of o */
#define MY(o) (&(o)->pt[tid])

static inline void slot_add(unsigned long long *c, unsigned long long n)
{
	cnt_add_ull(c, n);
}

static inline unsigned long long slot_get(const unsigned long long *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/* every thread's drops of o, and those of its writer */
static unsigned long long out_drops(const struct mirror_out *o)
{
	unsigned long long d = o->w ? atomic_load(&o->w->drops) : 0;

	for (unsigned t = 0; t < DP_MAX_THREADS; t++)
		d += slot_get(&o->pt[t].drops);
	return d;
}

/* A staged VXLAN packet: the header and the largest frame tcpsynth makes. */
#define VX_SLOT (8 + TS_HDR_MAX + TS_MSS_V4 + 64)

static struct mirror_out *outs;

/* Each thread's flush timer, on its own loop (only that thread touches
 * its entry): armed by the first copy started on the thread. */
static struct {
	ev_timer t;
	struct ev_loop *loop;           /* where it runs; NULL: not armed */
} __attribute__((aligned(CNT_LINE))) flushers[DP_MAX_THREADS];

/* Whether o may warn now: at most once a minute per output, whichever
 * threads see failures (one of them wins the minute). */
static bool warn_due(struct mirror_out *o)
{
	struct timespec ts;
	unsigned long long now, last;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (unsigned long long)ts.tv_sec * 1000 + (unsigned long long)ts.tv_nsec / 1000000 + 1;
	last = __atomic_load_n(&o->last_warn, __ATOMIC_RELAXED);
	if (last && now - last < 60000)
		return false;
	return __atomic_compare_exchange_n(&o->last_warn, &last, now, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

static void note_error(struct mirror_out *o, int err, const char *what)
{
	if (warn_due(o))
		ha_warning("%s: %s: %s; %llu packet(s) dropped so far (reported at most once a minute)", o->name,
			   what, strerror(err), out_drops(o));
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Opens the output's own pcap file for appending: a new or empty file gets
 * the file header; an existing one must be a classic pcap file of our
 * format. Returns 0 or -errno (-EPROTO: not such a file). */
static int main_open(struct fwriter *w)
{
	uint8_t hdr[PCAP_FILE_HDR_LEN];
	struct stat st;
	int fd, r;

	fd = open(w->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW, 0640);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	if (st.st_size == 0) {
		pcap_file_hdr(hdr, false, SNAPLEN, PCAP_LINKTYPE_ETHERNET);
		if ((r = write_all(fd, hdr, sizeof(hdr))) < 0) {
			if (ftruncate(fd, 0) < 0) {
				/* nothing more to undo */
			}
			close(fd);
			return r;
		}
		st.st_size = sizeof(hdr);
	} else if (pread(fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr) ||
		   !pcap_file_hdr_matches(hdr, sizeof(hdr), false, PCAP_LINKTYPE_ETHERNET)) {
		close(fd);
		return -EPROTO;
	}
	w->fd = fd;
	w->size = (unsigned long long)st.st_size;
	return 0;
}

static void rotated_name(char *out, size_t cap, const char *path, unsigned i)
{
	snprintf(out, cap, "%s.%u", path, i);
}

/* The file reached max-size: file -> file.1 -> ... -> file.<max-files>,
 * the oldest dropped. */
static int rotate(struct fwriter *w)
{
	char a[4200], b[4200];

	close(w->fd);
	w->fd = -1;
	if (!w->cur_max_files) {
		unlink(w->path);
	} else {
		for (unsigned i = w->cur_max_files; i > 1; i--) {
			rotated_name(a, sizeof(a), w->path, i - 1);
			rotated_name(b, sizeof(b), w->path, i);
			rename(a, b);
		}
		rotated_name(b, sizeof(b), w->path, 1);
		rename(w->path, b);
	}
	return main_open(w);
}

static void fail_item(struct fwriter *w, const struct fw_item *it, int err)
{
	atomic_fetch_add(&w->drops, it->npkts);
	atomic_store(&w->last_err, -err);
	atomic_fetch_add(&w->errors, 1);
}

/* Bytes of the whole records at the start of buf[0..len) that fit in room
 * (at least one record when none fits: a file always takes one). */
static size_t records_fitting(const uint8_t *buf, size_t len, unsigned long long room, bool one)
{
	size_t off = 0;

	while (off + PCAP_REC_HDR_LEN <= len) {
		uint32_t cap;
		size_t rec;

		memcpy(&cap, buf + off + 8, 4);
		rec = PCAP_REC_HDR_LEN + cap;
		if (off + rec > len || (off + rec > room && !(one && off == 0)))
			break;
		off += rec;
	}
	return off;
}

static void write_main(struct fwriter *w, struct fw_item *it)
{
	size_t off = 0;
	int r = 0;

	while (off < it->len) {
		size_t n = it->len - off;

		if (w->fd < 0 && (r = main_open(w)) < 0)
			break;
		if (w->cur_max_size) {
			/* rotate on a record boundary: no file above max-size */
			unsigned long long room = w->size < w->cur_max_size ? w->cur_max_size - w->size : 0;
			bool fresh = w->size <= PCAP_FILE_HDR_LEN;

			n = records_fitting(it->buf + off, it->len - off, room, fresh);
			if (!n) {
				if ((r = rotate(w)) < 0)
					break;
				continue;
			}
		}
		r = write_all(w->fd, it->buf + off, n);
		if (r < 0) {
			/* never leave half a record: readers would stop there */
			if (ftruncate(w->fd, (off_t)w->size) < 0) {
				close(w->fd);
				w->fd = -1;
			}
			break;
		}
		w->size += n;
		off += n;
	}
	if (r < 0)
		fail_item(w, it, r);
}

static void write_dir(struct fwriter *w, struct fw_item *it)
{
	uint8_t hdr[PCAP_FILE_HDR_LEN];
	int fd, r = 0;

	fd = open(it->path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | (it->fresh ? O_TRUNC : O_APPEND), 0640);
	if (fd < 0) {
		fail_item(w, it, -errno);
		return;
	}
	if (it->fresh) {
		pcap_file_hdr(hdr, false, SNAPLEN, PCAP_LINKTYPE_ETHERNET);
		r = write_all(fd, hdr, sizeof(hdr));
	}
	if (!r)
		r = write_all(fd, it->buf, it->len);
	close(fd);
	if (r < 0)
		fail_item(w, it, r);
}

static void item_free(struct fw_item *it)
{
	free(it->buf);
	free(it->path);
	free(it);
}

static void *writer_main(void *arg)
{
	struct fwriter *w = arg;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		struct fw_item *it;

		while (!w->head && !w->stop && !w->reopen)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->reopen) {
			w->reopen = false;
			pthread_mutex_unlock(&w->mu);
			if (w->fd >= 0)
				close(w->fd);
			w->fd = -1; /* reopened by the next write */
			pthread_mutex_lock(&w->mu);
			continue;
		}
		if (!w->head)
			break; /* stop, and nothing left to write */
		it = w->head;
		w->head = it->next;
		if (!w->head)
			w->tail = NULL;
		w->queued -= it->len;
		w->busy = true;
		w->cur_max_size = w->max_size;
		w->cur_max_files = w->max_files;
		pthread_mutex_unlock(&w->mu);
		if (it->path)
			write_dir(w, it);
		else
			write_main(w, it);
		pthread_mutex_lock(&w->mu);
		/* a batch buffer goes back to the loop: a fresh 1 MiB malloc
		 * is a fresh mapping, and every page of it would fault */
		if (!it->path && w->nspare < MIRROR_SPARES) {
			w->spare[w->nspare++] = it->buf;
			it->buf = NULL;
		}
		item_free(it);
		w->busy = false;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static int writer_start(struct fwriter *w);

/* Queues buf (malloc'd, taken) for the writer; drops it when the queue
 * holds too much already (the disk does not keep up). */
static void submit(struct mirror_out *o, uint8_t *buf, size_t len, unsigned npkts, char *path, bool fresh)
{
	struct fwriter *w = o->w;
	struct fw_item *it = calloc(1, sizeof(*it));
	bool full, started;

	/* the first batch of any thread starts the writer, once */
	pthread_mutex_lock(&w->mu);
	if (!w->started && writer_start(w) < 0) {
		/* reported by the caller's next check: count as a failed write */
		atomic_store(&w->last_err, EAGAIN);
		atomic_fetch_add(&w->errors, 1);
	}
	started = w->started;
	pthread_mutex_unlock(&w->mu);
	if (!it || !started) {
		free(it);
		free(buf);
		free(path);
		slot_add(&MY(o)->drops, npkts);
		return;
	}
	it->buf = buf;
	it->len = len;
	it->npkts = npkts;
	it->path = path;
	it->fresh = fresh;
	pthread_mutex_lock(&w->mu);
	full = w->queued + len > MIRROR_QUEUE_MAX;
	if (!full) {
		if (w->tail)
			w->tail->next = it;
		else
			w->head = it;
		w->tail = it;
		w->queued += len;
		pthread_cond_signal(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	if (full) {
		slot_add(&MY(o)->drops, npkts);
		item_free(it);
		note_error(o, EAGAIN, "the disk does not keep up, writer queue full");
	}
}

/* The thread starts with the first batch, from an event loop (w->mu held):
 * a daemon forks after its outputs are opened, and threads do not cross a
 * fork. */
static int writer_start(struct fwriter *w)
{
	int r = pthread_create(&w->th, NULL, writer_main, w);

	if (r)
		return -r;
	w->started = true;
	return 0;
}

/* Waits until the writer has written everything queued. */
static void writer_drain(struct fwriter *w)
{
	pthread_mutex_lock(&w->mu);
	while (w->head || w->busy)
		pthread_cond_wait(&w->cv, &w->mu);
	pthread_mutex_unlock(&w->mu);
}

static void writer_stop(struct fwriter *w)
{
	/* the control thread, every other one isolated or stopped */
	if (w->started) {
		pthread_mutex_lock(&w->mu);
		w->stop = true;
		pthread_cond_signal(&w->cv);
		pthread_mutex_unlock(&w->mu);
		pthread_join(w->th, NULL);
	}
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	if (w->fd >= 0)
		close(w->fd);
	while (w->nspare)
		free(w->spare[--w->nspare]);
	free(w);
}

/* ---- batches -------------------------------------------------------------------------- */

/* A batch buffer for slot s: a written one back from the writer, else a
 * new one; NULL when there is no memory. */
static uint8_t *batch_buf(struct mirror_out *o)
{
	uint8_t *b = NULL;

	pthread_mutex_lock(&o->w->mu);
	if (o->w->nspare)
		b = o->w->spare[--o->w->nspare];
	pthread_mutex_unlock(&o->w->mu);
	return b ? b : malloc(MIRROR_BATCH);
}

/* Hands slot s's batch to the writer (s: this thread's, or any with the
 * others isolated). */
static void pcap_handoff_slot(struct mirror_out *o, struct out_slot *s)
{
	uint8_t *b = s->buf;

	if (!s->len)
		return;
	s->buf = batch_buf(o);
	if (!s->buf) {
		/* keep the full batch; what comes next is dropped */
		s->buf = b;
		return;
	}
	submit(o, b, s->len, s->npkts, NULL, false);
	s->len = 0;
	s->npkts = 0;
}

static void pcap_handoff(struct mirror_out *o)
{
	pcap_handoff_slot(o, MY(o));
}

/* This thread's batch of o, created at its first frame (NULL: no memory,
 * the frames are dropped and counted). */
static inline uint8_t *my_batch(struct mirror_out *o)
{
	struct out_slot *s = MY(o);

	if (!s->buf)
		s->buf = batch_buf(o);
	return s->buf;
}

void mirror_out_dir_flush(struct mirror_dirfile *df, bool final)
{
	struct mirror_out *o = df->out;

	if (df->len) {
		char *path = final ? df->path : strdup(df->path);

		if (final)
			df->path = NULL;
		if (!path) {
			slot_add(&MY(o)->drops, df->npkts);
			df->npkts = 0;
			df->len = 0;
		} else {
			submit(o, df->buf, df->len, df->npkts, path, !df->started);
			df->started = true;
			df->buf = NULL;
			df->len = 0;
			df->npkts = 0;
		}
	}
	if (final) {
		free(df->buf);
		free(df->path);
		df->buf = NULL;
		df->path = NULL;
		if (df->pprev) {
			*df->pprev = df->next;
			if (df->next)
				df->next->pprev = df->pprev;
			df->pprev = NULL;
			df->next = NULL;
		}
	}
}

void mirror_out_dir_attach(struct mirror_dirfile *df)
{
	struct out_slot *s = MY(df->out);

	df->next = s->dirs;
	if (s->dirs)
		s->dirs->pprev = &df->next;
	df->pprev = &s->dirs;
	s->dirs = df;
}

/* Writer errors not reported yet are reported, by whichever thread sees
 * them first. */
static void check_errors(struct mirror_out *o)
{
	unsigned long long e, seen;

	if (!o->w)
		return;
	e = atomic_load(&o->w->errors);
	seen = __atomic_load_n(&o->errors_seen, __ATOMIC_RELAXED);
	if (e != seen && __atomic_compare_exchange_n(&o->errors_seen, &seen, e, false, __ATOMIC_RELAXED,
						     __ATOMIC_RELAXED))
		note_error(o, atomic_load(&o->w->last_err), o->kind == MK_PCAP ? "write" : "write of a connection's file");
}

static void flush_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)revents;
	if (!outs) {
		/* the last output went: nothing to flush until a copy starts
		 * on this thread again */
		ev_ref(loop);
		ev_timer_stop(loop, t);
		flushers[tid].loop = NULL;
		return;
	}
	for (struct mirror_out *o = outs; o; o = o->next) {
		struct out_slot *s = MY(o);

		if (o->kind == MK_PCAP)
			pcap_handoff(o);
		if (s->vx_n || s->tb)
			mirror_out_push(o);
		for (struct mirror_dirfile *df = s->dirs; df; df = df->next)
			if (df->len)
				mirror_out_dir_flush(df, false);
		check_errors(o);
	}
}

void mirror_out_thread_arm(void)
{
	struct ev_loop *loop = loop_cur();

	if (flushers[tid].loop || !loop)
		return;
	flushers[tid].loop = loop;
	ev_timer_init(&flushers[tid].t, flush_cb, FLUSH_EVERY, FLUSH_EVERY);
	ev_timer_start(loop, &flushers[tid].t);
	ev_unref(loop); /* the timer alone does not keep the loop running */
}

void mirror_out_thread_stop(void)
{
	struct ev_loop *loop = flushers[tid].loop;

	if (!loop)
		return;
	ev_ref(loop);
	ev_timer_stop(loop, &flushers[tid].t);
	flushers[tid].loop = NULL;
}

void mirror_out_flush_all(bool wait)
{
	/* the control thread, every other one isolated or stopped: every
	 * thread's batch goes */
	for (struct mirror_out *o = outs; o; o = o->next) {
		for (unsigned t = 0; o->kind == MK_PCAP && t < DP_MAX_THREADS; t++)
			pcap_handoff_slot(o, &o->pt[t]);
		if (wait && o->w) {
			bool started;

			pthread_mutex_lock(&o->w->mu);
			started = o->w->started;
			pthread_mutex_unlock(&o->w->mu);
			if (started)
				writer_drain(o->w);
		}
		check_errors(o);
	}
}

/* ---- frames ---------------------------------------------------------------------------- */

uint8_t *mirror_out_place(struct mirror_out *o, struct mirror_dirfile *df, size_t flen)
{
	size_t rec = PCAP_REC_HDR_LEN + flen;

	if (o->kind == MK_PCAP) {
		struct out_slot *s = MY(o);

		if (s->len + rec > MIRROR_BATCH)
			pcap_handoff(o);
		if (!my_batch(o) || s->len + rec > MIRROR_BATCH)
			return NULL;
		return s->buf + s->len + PCAP_REC_HDR_LEN;
	}
	if (o->kind == MK_PCAP_DIR && df) {
		if (df->buf && df->len + rec > MIRROR_DIR_CHUNK)
			mirror_out_dir_flush(df, false);
		if (!df->buf && !(df->buf = malloc(MIRROR_DIR_CHUNK)))
			return NULL;
		return df->buf + df->len + PCAP_REC_HDR_LEN;
	}
	return NULL;
}

uint8_t *mirror_out_room(struct mirror_out *o, struct mirror_dirfile *df, size_t need, size_t *room)
{
	if (o->kind == MK_PCAP) {
		struct out_slot *s = MY(o);

		if (s->len + need > MIRROR_BATCH)
			pcap_handoff(o);
		if (!my_batch(o) || s->len + need > MIRROR_BATCH)
			return NULL;
		*room = MIRROR_BATCH - s->len;
		return s->buf + s->len;
	}
	if (o->kind == MK_PCAP_DIR && df) {
		if (df->buf && df->len + need > MIRROR_DIR_CHUNK)
			mirror_out_dir_flush(df, false);
		if (!df->buf && !(df->buf = malloc(MIRROR_DIR_CHUNK)))
			return NULL;
		if (df->len + need > MIRROR_DIR_CHUNK)
			return NULL;
		*room = MIRROR_DIR_CHUNK - df->len;
		return df->buf + df->len;
	}
	return NULL;
}

void mirror_out_lost(struct mirror_out *o, unsigned long long frames)
{
	slot_add(&MY(o)->drops, frames);
}

/* Appends a record to buf at *len (room checked): the frame is copied
 * unless it was built there (mirror_out_place()). */
static void put_record(uint8_t *buf, size_t *len, const struct timespec *now, const uint8_t *hdr, size_t hlen,
		       const uint8_t *payload, size_t plen)
{
	uint8_t *at = buf + *len + PCAP_REC_HDR_LEN;

	pcap_rec_hdr(buf + *len, false, (uint64_t)now->tv_sec, (uint32_t)now->tv_nsec, (uint32_t)(hlen + plen));
	if (hdr != at) {
		memcpy(at, hdr, hlen);
		if (plen)
			memcpy(at + hlen, payload, plen);
	}
	*len += PCAP_REC_HDR_LEN + hlen + plen;
}

/* Counts what the tap batcher reports. */
static void tap_account(struct mirror_out *o, const struct tap_batch_res *r)
{
	struct out_slot *s = MY(o);

	slot_add(&s->pkts, r->frames);
	slot_add(&s->bytes, r->bytes);
	slot_add(&s->drops, r->drops);
	if (r->err && r->err != EAGAIN && r->err != ENOBUFS)
		note_error(o, r->err, "write");
}

static void tap_account_push(struct mirror_out *o)
{
	struct tap_batch_res r = { 0 };

	tap_batch_push(MY(o)->tb, &r);
	tap_account(o, &r);
}

void mirror_out_frame(struct mirror_out *o, struct mirror_sess *ms, struct mirror_dirfile *df, const uint8_t *hdr,
		      size_t hlen, const uint8_t *payload, size_t plen)
{
	size_t flen = hlen + plen, rec = PCAP_REC_HDR_LEN + flen;
	struct out_slot *s = MY(o);
	ssize_t n;

	switch (o->kind) {
	case MK_PCAP:
		if (s->len + rec > MIRROR_BATCH)
			pcap_handoff(o);
		if (!my_batch(o) || s->len + rec > MIRROR_BATCH) {
			slot_add(&s->drops, 1);
			return;
		}
		put_record(s->buf, &s->len, &ms->now, hdr, hlen, payload, plen);
		s->npkts++;
		break;
	case MK_PCAP_DIR:
		if (df->buf && df->len + rec > MIRROR_DIR_CHUNK)
			mirror_out_dir_flush(df, false);
		if (!df->buf && !(df->buf = malloc(MIRROR_DIR_CHUNK))) {
			slot_add(&s->drops, 1);
			return;
		}
		put_record(df->buf, &df->len, &ms->now, hdr, hlen, payload, plen);
		df->npkts++;
		break;
	case MK_TAP: {
		struct iovec iov[2] = { { (void *)hdr, hlen }, { (void *)payload, plen } };
		uint8_t *slot;

		if (!s->tb_tried) {
			int e;

			/* at the thread's first frame: after a daemon's fork,
			 * and a ring per thread (io_uring_enter() from its own) */
			s->tb_tried = true;
			s->tb = tap_batch_new(o->fd, VX_SLOT, &e);
			if (!s->tb && !__atomic_exchange_n(&o->tb_noticed, true, __ATOMIC_RELAXED))
				ha_notice("%s: no io_uring (%s): one write per frame", o->name, strerror(e));
		}
		if (s->tb) {
			struct tap_batch_res r = { 0 };

			slot = tap_batch_slot(s->tb, flen, &r);
			tap_account(o, &r);
			if (slot) {
				memcpy(slot, hdr, hlen);
				if (plen)
					memcpy(slot + hlen, payload, plen);
				tap_batch_commit(s->tb, flen);
				return; /* counted when written */
			}
			if (flen <= VX_SLOT) {
				slot_add(&s->drops, 1); /* every slot in flight */
				return;
			}
			/* a frame too big for a slot (a large datagram): the
			 * staged ones first, to keep the order */
			tap_account_push(o);
		}
		n = writev(o->fd, iov, plen ? 2 : 1);
		if (n < 0) {
			int e = errno;

			slot_add(&s->drops, 1);
			if (e != EAGAIN && e != ENOBUFS)
				note_error(o, e, "write");
			return;
		}
		break;
	}
	case MK_VXLAN: {
		/* staged: one sendmmsg() for up to MIRROR_VX_BATCH packets
		 * (a syscall per frame cost more than this copy) */
		uint8_t *slot;

		if ((!s->vx_stage && vx_stage_new(o, s) < 0) || 8 + flen > VX_SLOT) {
			slot_add(&s->drops, 1);
			return;
		}
		if (s->vx_n == MIRROR_VX_BATCH)
			mirror_out_push(o);
		slot = s->vx_stage + (size_t)s->vx_n * VX_SLOT;
		memcpy(slot, o->vxlan_hdr, 8);
		memcpy(slot + 8, hdr, hlen);
		if (plen)
			memcpy(slot + 8 + hlen, payload, plen);
		s->vx_iov[s->vx_n].iov_len = 8 + flen;
		s->vx_n++;
		return; /* counted when sent */
	}
	}
	slot_add(&s->pkts, 1);
	slot_add(&s->bytes, flen);
}

/* Sends the VXLAN packets staged in slot s (this thread's, or any with the
 * others isolated). */
static void vx_push_slot(struct mirror_out *o, struct out_slot *s)
{
	unsigned i = 0;

	while (i < s->vx_n) {
		int r = sendmmsg(o->fd, s->vx_mm + i, s->vx_n - i, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (r > 0) {
			unsigned long long bytes = 0;

			for (unsigned k = i; k < i + (unsigned)r; k++)
				bytes += s->vx_iov[k].iov_len - 8;
			slot_add(&s->pkts, (unsigned)r);
			slot_add(&s->bytes, bytes);
			i += (unsigned)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno != EAGAIN && errno != ENOBUFS) {
			/* this packet failed (e.g. the sensor's port
			 * unreachable reported late): the next ones may pass */
			note_error(o, errno, "send");
			slot_add(&s->drops, 1);
			i++;
			continue;
		}
		/* the socket's buffer is full: the rest is dropped */
		slot_add(&s->drops, s->vx_n - i);
		break;
	}
	s->vx_n = 0;
}

void mirror_out_push(struct mirror_out *o)
{
	struct out_slot *s = MY(o);

	if (s->tb) {
		tap_account_push(o);
		return;
	}
	vx_push_slot(o, s);
}

char *mirror_out_dir_path(const struct mirror_out *o, const struct mirror_sess *ms, unsigned long long id)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN], when[32];
	const struct ts_flow *f = &ms->flow;
	struct tm tm;
	char *p = NULL;
	int fam = f->family;

	gmtime_r(&ms->now.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y%m%dT%H%M%SZ", &tm);
	inet_ntop(fam, f->addr[TS_CLI], a, sizeof(a));
	inet_ntop(fam, f->addr[TS_SRV], b, sizeof(b));
	/* key is "pcap-dir:<dir>" */
	if (memprintf(&p, "%s/%s-%llu-%s_%u-%s_%u.pcap", o->key + strlen("pcap-dir:"), when, id, a,
		      f->port[TS_CLI], b, f->port[TS_SRV]) < 0)
		return NULL;
	return p;
}

/* ---- opening ------------------------------------------------------------------------------ */

struct tap_args {
	const char *name;
	int fd;
	int err;
};

static int tap_open_here(void *arg)
{
	struct tap_args *a = arg;
	struct ifreq ifr;
	char path[128];
	int fd, s;

	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", a->name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	/* no IPv6 of its own on the tap: the kernel's router solicitations
	 * would show up in the IDS's capture */
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", a->name);
	s = open(path, O_WRONLY | O_CLOEXEC);
	if (s >= 0) {
		if (write(s, "1", 1) < 0) {
			/* IPv6 may be off altogether */
		}
		close(s);
	}
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s >= 0) {
		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", a->name);
		if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0 && !(ifr.ifr_flags & IFF_UP)) {
			ifr.ifr_flags |= IFF_UP;
			if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
				a->err = errno;
		}
		close(s);
	}
	a->fd = fd;
	return 0;
}

static int open_tap(struct mirror_out *o, const struct mirror_target *t, struct dp_config *c, char **err)
{
	struct tap_args a = { .name = t->path, .fd = -1 };
	int nsfd = -1, r;

	if (t->ns) {
		char *e = NULL;

		nsfd = ns_cache_fd(c->nscache, t->ns, &e);
		if (nsfd < 0) {
			memprintf(err, "%s", e ? e : strerror(-nsfd));
			free(e);
			return -1;
		}
	}
	r = ns_run(nsfd, tap_open_here, &a);
	if (r < 0) {
		memprintf(err, "cannot create or attach tap '%s'%s%s: %s%s", t->path, t->ns ? " in namespace " : "",
			  t->ns ? t->ns : "", strerror(-r),
			  r == -EINVAL || r == -EBUSY ? " (an interface of that name exists and is not a free tap?)" : "");
		return -1;
	}
	if (a.err)
		ha_warning("%s: cannot set the interface up: %s", o->name, strerror(a.err));
	o->fd = a.fd;
	return 0;
}

static void vx_stage_free(struct out_slot *s)
{
	free(s->vx_stage);
	free(s->vx_mm);
	free(s->vx_iov);
	s->vx_stage = NULL;
	s->vx_mm = NULL;
	s->vx_iov = NULL;
}

/* Slot s's staging area for o (the opening thread's at once, the others'
 * at their first frame). Returns 0, or -1 without memory. */
static int vx_stage_new(struct mirror_out *o, struct out_slot *s)
{
	s->vx_stage = malloc((size_t)MIRROR_VX_BATCH * VX_SLOT);
	s->vx_mm = calloc(MIRROR_VX_BATCH, sizeof(*s->vx_mm));
	s->vx_iov = calloc(MIRROR_VX_BATCH, sizeof(*s->vx_iov));
	if (!s->vx_stage || !s->vx_mm || !s->vx_iov) {
		vx_stage_free(s);
		return -1;
	}
	for (unsigned i = 0; i < MIRROR_VX_BATCH; i++) {
		s->vx_iov[i].iov_base = s->vx_stage + (size_t)i * VX_SLOT;
		s->vx_mm[i].msg_hdr.msg_name = &o->dst;
		s->vx_mm[i].msg_hdr.msg_namelen = addr_len(&o->dst);
		s->vx_mm[i].msg_hdr.msg_iov = &s->vx_iov[i];
		s->vx_mm[i].msg_hdr.msg_iovlen = 1;
	}
	return 0;
}

static int open_vxlan(struct mirror_out *o, const struct mirror_target *t, struct dp_config *c, char **err)
{
	int fd, off = t->dst.ss_family == AF_INET ? IP_PMTUDISC_DONT : IPV6_PMTUDISC_DONT;
	char *e = NULL;

	fd = ns_cache_socket(c->nscache, t->ns, t->dst.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, &e);
	if (fd < 0) {
		memprintf(err, "%s", e ? e : strerror(-fd));
		free(e);
		return -1;
	}
	/* frames of 1454 bytes plus 50 of encapsulation may exceed a path's
	 * MTU: let the kernel fragment rather than refuse */
	if (t->dst.ss_family == AF_INET)
		setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &off, sizeof(off));
	else
		setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &off, sizeof(off));
	if (t->src.ss_family != AF_UNSPEC && bind(fd, (const struct sockaddr *)&t->src, addr_len(&t->src)) < 0) {
		char a[INET6_ADDRSTRLEN];

		memprintf(err, "cannot bind source %s: %s", addr_ntop(&t->src, a, sizeof(a)), strerror(errno));
		close(fd);
		return -1;
	}
	/* not connected: a sensor that captures without a UDP socket of its
	 * own answers port unreachable, which a connected socket would turn
	 * into an error on every other send */
	o->dst = t->dst;
	if (vx_stage_new(o, MY(o)) < 0) {
		memprintf(err, "%s", strerror(ENOMEM));
		close(fd);
		return -1;
	}
	/* RFC 7348: flags (I), reserved, VNI, reserved */
	memset(o->vxlan_hdr, 0, sizeof(o->vxlan_hdr));
	o->vxlan_hdr[0] = 0x08;
	o->vxlan_hdr[4] = (uint8_t)(t->vni >> 16);
	o->vxlan_hdr[5] = (uint8_t)(t->vni >> 8);
	o->vxlan_hdr[6] = (uint8_t)t->vni;
	o->fd = fd;
	return 0;
}

static int open_pcap(struct mirror_out *o, const struct mirror_target *t, char **err)
{
	struct fwriter *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return -1;
	o->w = w;
	w->fd = -1;
	w->max_size = t->max_size;
	w->max_files = t->max_files;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	if (t->kind == MK_PCAP) {
		w->path = o->key + strlen("pcap:");
		r = main_open(w);
		if (r < 0) {
			memprintf(err, "cannot open '%s': %s", t->path,
				  r == -EPROTO ? "it exists and is not a pcap file decoyproxy can append to "
						 "(classic pcap, microseconds, Ethernet, this host's byte order)"
					       : strerror(-r));
			return -1;
		}
		MY(o)->buf = malloc(MIRROR_BATCH);
		if (!MY(o)->buf)
			return -1;
	} else {
		struct stat st;

		if (stat(t->path, &st) < 0) {
			memprintf(err, "cannot use directory '%s': %s", t->path, strerror(errno));
			return -1;
		}
		if (!S_ISDIR(st.st_mode)) {
			memprintf(err, "'%s' is %s, not a directory", t->path, file_kind(st.st_mode));
			return -1;
		}
		if (access(t->path, W_OK | X_OK) < 0) {
			memprintf(err, "cannot write into '%s': %s", t->path, strerror(errno));
			return -1;
		}
	}
	return 0;
}

static char *target_key(const struct mirror_target *t)
{
	char *k = NULL;
	char a[80], b[INET6_ADDRSTRLEN];

	switch (t->kind) {
	case MK_PCAP:
		memprintf(&k, "pcap:%s", t->path);
		break;
	case MK_PCAP_DIR:
		memprintf(&k, "pcap-dir:%s", t->path);
		break;
	case MK_TAP:
		memprintf(&k, "tap:%s@%s", t->path, t->ns ? t->ns : "");
		break;
	case MK_VXLAN:
		memprintf(&k, "vxlan:%s:%u:%s@%s", addr_str(&t->dst, a, sizeof(a)), t->vni,
			  t->src.ss_family ? addr_ntop(&t->src, b, sizeof(b)) : "", t->ns ? t->ns : "");
		break;
	}
	return k;
}

/* The control thread, every other one isolated or stopped: what every
 * thread staged goes out, then everything is freed. */
static void out_free(struct mirror_out *o)
{
	for (unsigned t = 0; o->pt && t < DP_MAX_THREADS; t++) {
		struct out_slot *s = &o->pt[t];

		if (o->kind == MK_PCAP)
			pcap_handoff_slot(o, s);
		if (s->vx_n)
			vx_push_slot(o, s);
		if (s->tb) {
			struct tap_batch_res r = { 0 };

			tap_batch_free(s->tb, &r);
			s->tb = NULL;
		}
		vx_stage_free(s);
	}
	if (o->w)
		writer_stop(o->w);
	if (o->fd >= 0)
		close(o->fd);
	for (unsigned t = 0; o->pt && t < DP_MAX_THREADS; t++)
		free(o->pt[t].buf);
	free(o->pt);
	free(o->key);
	free(o->name);
	free(o);
}

struct mirror_out *mirror_out_get(const struct mirror_target *t, struct dp_config *c, char **err)
{
	static const char *const kinds[] = { "pcap", "pcap-dir", "tap", "vxlan" };
	char *key = target_key(t);
	struct mirror_out *o;
	int r = -1;

	if (!key)
		return NULL;
	for (o = outs; o; o = o->next)
		if (!strcmp(o->key, key)) {
			free(key);
			o->refcnt++;
			/* a reload may change the rotation settings */
			if (o->kind == MK_PCAP && o->w) {
				pthread_mutex_lock(&o->w->mu);
				o->w->max_size = t->max_size;
				o->w->max_files = t->max_files;
				pthread_mutex_unlock(&o->w->mu);
			}
			return o;
		}
	o = calloc(1, sizeof(*o));
	if (!o) {
		free(key);
		return NULL;
	}
	o->key = key;
	o->kind = t->kind;
	o->fd = -1;
	o->refcnt = 1;
	o->pt = cnt_slots_alloc(sizeof(*o->pt));
	if (!o->pt) {
		free(key);
		free(o);
		return NULL;
	}
	o->gen = o->reopened_gen = c->generation;
	memprintf(&o->name, "mirror %s '%s'", kinds[t->kind], key + strlen(kinds[t->kind]) + 1);
	switch (t->kind) {
	case MK_PCAP:
	case MK_PCAP_DIR:
		r = open_pcap(o, t, err);
		break;
	case MK_TAP:
		r = open_tap(o, t, c, err);
		break;
	case MK_VXLAN:
		r = open_vxlan(o, t, c, err);
		break;
	}
	if (r < 0 || !o->name) {
		out_free(o);
		return NULL;
	}
	o->next = outs;
	outs = o;
	return o;
}

void mirror_out_put(struct mirror_out *o)
{
	if (--o->refcnt > 0)
		return;
	for (struct mirror_out **pp = &outs; *pp; pp = &(*pp)->next)
		if (*pp == o) {
			*pp = o->next;
			break;
		}
	/* each thread's flush timer stops itself at its next tick when
	 * no output is left */
	out_free(o);
}

bool mirror_out_needs_reopen(const struct mirror_out *o, unsigned gen)
{
	return o->reopened_gen != gen;
}

void mirror_out_reopen(struct mirror_out *o, unsigned gen)
{
	o->reopened_gen = gen;
	if (o->kind != MK_PCAP || !o->w)
		return;
	/* at apply, the other threads isolated: what every thread has
	 * batched goes to the file being replaced */
	for (unsigned t = 0; t < DP_MAX_THREADS; t++)
		pcap_handoff_slot(o, &o->pt[t]);
	pthread_mutex_lock(&o->w->mu);
	o->w->reopen = true;
	pthread_cond_signal(&o->w->cv);
	pthread_mutex_unlock(&o->w->mu);
}

enum mirror_kind mirror_out_kind(const struct mirror_out *o)
{
	return o->kind;
}

void mirror_foreach_output(void (*cb)(void *arg, const char *name, unsigned long long packets,
				      unsigned long long bytes, unsigned long long drops),
			   void *arg)
{
	for (const struct mirror_out *o = outs; o; o = o->next) {
		unsigned long long pkts = 0, bytes = 0;

		for (unsigned t = 0; t < DP_MAX_THREADS; t++) {
			pkts += slot_get(&o->pt[t].pkts);
			bytes += slot_get(&o->pt[t].bytes);
		}
		cb(arg, o->name, pkts, bytes, out_drops(o));
	}
}

void mirror_get_stats(struct mirror_stats *st)
{
	memset(st, 0, sizeof(*st));
	for (const struct mirror_out *o = outs; o; o = o->next) {
		for (unsigned t = 0; t < DP_MAX_THREADS; t++) {
			st->packets += slot_get(&o->pt[t].pkts);
			st->bytes += slot_get(&o->pt[t].bytes);
		}
		st->drops += out_drops(o);
		st->outputs++;
	}
	st->sessions = RARE_GET(mirror_sessions);
	st->tee_bytes = chan_tee_bytes();
	st->tee_failures = chan_tee_failures();
}
