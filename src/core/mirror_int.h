/* mirror_int.h — private to the mirror module's parts:
 *   mirror.c      the session's copy (tuple, depth, the synthesised flow)
 *   mirror_kw.c   `mirror` / `mirror-depth`, the generation's state, hooks
 *   mirror_out.c  outputs: registry, pcap writer threads, tap, VXLAN
 * Nothing outside src/core/mirror*.c includes it.
 *
 * Ownership: the generation's state (struct mirror_gen, a conf_ext) owns
 * every parsed line (struct mirror_target) and every proxy's list (struct
 * mirror_px, behind struct proxy's `mirror`, shared with the proxies that
 * inherit it from a defaults section until they add their own lines).
 * Outputs (struct mirror_out) are process objects in a registry keyed by
 * what they write to, referenced by the targets of each generation in
 * service, so a reload keeps the same file, tap or socket. Every event-loop
 * thread writes to the same outputs, each through its own slot of each
 * (its batches, staged packets, counters: mirror_out.c), and flushes its
 * slots with its own timer; the pcap writer threads take batches from any
 * thread. The registry and the outputs' life are the control thread's.
 */
#ifndef DECOYPROXY_MIRROR_INT_H
#define DECOYPROXY_MIRROR_INT_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "lib/common.h"
#include "lib/tcpsynth.h"
#include "model/conf.h"
#include "core/mirror.h"

#define MIRROR_DEPTH_DEFAULT (1024ULL * 1024)   /* Suricata's stream.reassembly.depth */
#define MIRROR_MAX_FILES_DEFAULT 10
#define MIRROR_BATCH (1024 * 1024)              /* pcap bytes per write */
#define MIRROR_SPARES 8                         /* written batches kept for reuse, per output */
#define MIRROR_QUEUE_MAX (32 * 1024 * 1024)     /* pcap bytes waiting for the disk, per output */
#define MIRROR_DIR_CHUNK (64 * 1024)            /* pcap-dir bytes per session per write */
#define MIRROR_VX_BATCH 64                      /* VXLAN packets per sendmmsg() */

enum mirror_kind { MK_PCAP = 0, MK_PCAP_DIR, MK_TAP, MK_VXLAN };

struct mirror_out;

/* One `mirror` line. */
struct mirror_target {
	struct mirror_target *next;     /* all lines of the generation */
	enum mirror_kind kind;
	char *path;                     /* pcap file, pcap-dir directory, tap name */
	char *ns;                       /* tap / vxlan: namespace, NULL = the process's */
	unsigned long long max_size;    /* pcap: 0 = never rotate */
	unsigned max_files;             /* pcap: rotated files kept */
	struct sockaddr_storage dst;    /* vxlan sensor */
	struct sockaddr_storage src;    /* vxlan `source`, AF_UNSPEC: none */
	uint32_t vni;
	char *file;                     /* where the line is */
	int line;
	struct mirror_out *out;         /* set by apply, dropped with the generation */
};

/* A proxy's mirror lines and depth. */
struct mirror_px {
	struct mirror_px *next;         /* all lists of the generation */
	const void *owner;              /* the proxy that may add to it */
	struct mirror_target **t;
	size_t n;
	unsigned long long depth;
	bool depth_set;
};

struct mirror_gen {
	struct conf_ext ext;
	struct mirror_target *targets;
	struct mirror_px *lists;
};

/* Per-session pcap-dir file: records wait in buf until it is full or the
 * session ends, then go to the output's writer thread. */
struct mirror_dirfile {
	struct mirror_dirfile *next, **pprev; /* the output's live files (the flush timer) */
	struct mirror_out *out;
	char *path;
	uint8_t *buf;
	size_t len;
	unsigned npkts;                 /* records in buf */
	bool started;                   /* the file was created */
};

/* A session's copy. */
struct mirror_sess {
	struct ts_flow flow;
	const struct mirror_px *px[2];  /* the frontend's and the backend's lines */
	unsigned long long left[2];     /* bytes of mirror-depth left, [TS_CLI], [TS_SRV] */
	struct timespec now;            /* time of the frames being written */
	struct mirror_dirfile *dirs;    /* pcap-dir outputs, ndirs of them */
	unsigned ndirs;
};

/* ---- mirror.c ---- */
/* The frame sink of a session's flow (ctx: the mirror_sess): every output
 * of the session once. */
void mirror_emit(void *ctx, const uint8_t *hdr, size_t hlen, const uint8_t *payload, size_t plen);
/* ts_flow's place: room in the session's first batch (mirror_first_batch). */
uint8_t *mirror_place(void *ctx, size_t flen);
/* The first output of ms that batches frames (pcap, or pcap-dir with its
 * file *df, else NULL): frames are built in its buffer. false: none. */
bool mirror_first_batch(struct mirror_sess *ms, struct mirror_out **o, struct mirror_dirfile **df);
/* What outputs staged goes out (before a hook returns). */
void mirror_push(struct mirror_sess *ms);
/* ms->now = the wall clock (the frames' time). */
void mirror_stamp(struct mirror_sess *ms);
/* Adds frames to the drops of every output of ms (each once). */
void mirror_sess_lost(struct mirror_sess *ms, unsigned long long frames);

/* ---- mirror_tap.c: a tap's frames, one io_uring_enter() per batch ---- */
struct tap_batch;
struct tap_batch_res {
	unsigned long long frames, bytes, drops; /* written, their bytes, not written */
	int err;                                 /* errno of the last failure, 0: none */
};
/* A batcher writing to tap fd, frames of at most slot_size bytes; NULL
 * with *err when the kernel offers no io_uring (then one writev() per
 * frame). */
struct tap_batch *tap_batch_new(int fd, size_t slot_size, int *err);
/* Room for a frame of flen bytes (pushing a full batch first), or NULL:
 * too big for a slot, or every slot in flight. */
uint8_t *tap_batch_slot(struct tap_batch *tb, size_t flen, struct tap_batch_res *r);
/* The frame was written into the room tap_batch_slot() gave. */
void tap_batch_commit(struct tap_batch *tb, size_t flen);
/* Submits the staged frames and collects the results of those done. */
void tap_batch_push(struct tap_batch *tb, struct tap_batch_res *r);
/* Pushes, waits for every frame in flight, frees tb. */
void tap_batch_free(struct tap_batch *tb, struct tap_batch_res *r);

/* ---- mirror_kw.c ---- */
struct mirror_gen *mirror_gen_of(const struct dp_config *c);

/* ---- mirror_out.c ---- */

/* The output target t writes to: the one already open for the same
 * destination, else a new one opened now (in t's namespace through c's
 * cache). Returns it with a reference, or NULL with *err. */
struct mirror_out *mirror_out_get(const struct mirror_target *t, struct dp_config *c, char **err);
void mirror_out_put(struct mirror_out *o);
/* Whether o, opened by an earlier generation, was not reopened yet for
 * generation gen; mirror_out_reopen() makes its pcap file be reopened
 * (once per generation however many lines share it). */
bool mirror_out_needs_reopen(const struct mirror_out *o, unsigned gen);
void mirror_out_reopen(struct mirror_out *o, unsigned gen);
enum mirror_kind mirror_out_kind(const struct mirror_out *o);
/* Writes one frame (hdr + payload) seen at ms->now to o; for pcap-dir, to
 * the session's file df. Never blocks: a frame o cannot take is dropped
 * and counted. */
void mirror_out_frame(struct mirror_out *o, struct mirror_sess *ms, struct mirror_dirfile *df, const uint8_t *hdr,
		      size_t hlen, const uint8_t *payload, size_t plen);
/* Room for a frame of flen bytes at the end of o's batch (pcap) or of the
 * session's file df (pcap-dir), after its record header; NULL when there
 * is none (the frame is then dropped by mirror_out_frame()). A frame built
 * there and then handed to mirror_out_frame() is taken without a copy. */
uint8_t *mirror_out_place(struct mirror_out *o, struct mirror_dirfile *df, size_t flen);
/* Room for several records at the end of o's batch (pcap) or of the
 * session's file df (pcap-dir): returns where the next record starts and
 * sets *room to the bytes free from there (at least need; a batch with
 * less is handed to the writer first), or NULL (no memory). Records built
 * there one after the other and handed to mirror_out_frame() in that
 * order are taken without a copy. */
uint8_t *mirror_out_room(struct mirror_out *o, struct mirror_dirfile *df, size_t need, size_t *room);
/* frames that never reached o (a hole in a copied stream) */
void mirror_out_lost(struct mirror_out *o, unsigned long long frames);
/* Sends what o holds back (VXLAN packets staged for one sendmmsg()); the
 * session hooks call it before they return. */
void mirror_out_push(struct mirror_out *o);
/* pcap-dir: the session's file name under o's directory. */
char *mirror_out_dir_path(const struct mirror_out *o, const struct mirror_sess *ms, unsigned long long id);
/* pcap-dir: df (out and path set) joins its output's live files, which
 * the flush timer hands to the writer every FLUSH_EVERY: a live
 * connection's file is readable within a second. */
void mirror_out_dir_attach(struct mirror_dirfile *df);
/* pcap-dir: hands df's records to the writer (final: the session ended,
 * frees df's buffer and path, and df leaves the live files). */
void mirror_out_dir_flush(struct mirror_dirfile *df, bool final);
/* Hands every pending batch of every thread to the writers (the process
 * stops, or the threads are isolated). */
void mirror_out_flush_all(bool wait);
/* Arms the calling thread's flush timer on its loop (loop_cur()) unless
 * it runs: each copy started on a thread calls it. The timer stops itself
 * once no output is left. */
void mirror_out_thread_arm(void);
/* Stops the calling thread's flush timer (before its loop is destroyed
 * while the process goes on: tests). */
void mirror_out_thread_stop(void);
/* rare events, counted from any thread: RARE_INC/RARE_GET (model/counters.h) */
extern unsigned long long mirror_sessions, mirror_nomem;

#endif
