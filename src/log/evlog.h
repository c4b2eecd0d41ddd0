/* evlog.h — the JSON event log: one JSON object per line for every
 * connection end, probe, scan summary (and later UDP flow), written to the
 * targets of the global `event-log` lines (doc/events.md: schema v1).
 *
 * Parts: evlog_json.c (the escaper and the record builder: pure code on a
 * buffer), evlog.c (sinks: file@ files and syslog targets, the set of the
 * generation in service, emitting). The `event-log` keywords and the
 * generation hooks are model/events.c's; the connection event is built by
 * core/sess_event.c.
 *
 * Emitting an event of any kind (a probe, say) is a few lines:
 *
 *	struct evlog_rec r;
 *
 *	if (!evlog_enabled())
 *		return;
 *	evlog_begin(&r, "probe");               // {"v":1,"type":"probe","time":"…"
 *	evlog_addr(&r, "attacker", &src);       // "attacker_ip":"…","attacker_port":…
 *	evlog_addr(&r, "decoy", &dst);
 *	evlog_str(&r, "segment", ns);           // NULL: the field is left out
 *	evlog_str(&r, "outcome", "half-open");
 *	evlog_uint(&r, "count", n);
 *	evlog_emit(&r);                         // "}" + "\n" to every target
 *
 * Threads: the record lives in a per-thread buffer (one record per thread
 * at a time: build and emit an event before starting another); counters
 * are atomic; each line reaches a file in one write() with O_APPEND, so
 * lines of several threads never interleave (doc/events.md).
 */
#ifndef DECOYPROXY_EVLOG_H
#define DECOYPROXY_EVLOG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/time.h>
#include "lib/common.h"

#define EVLOG_VERSION 1
/* Largest line (with its "\n"); a record that does not fit is dropped and
 * counted. */
#define EVLOG_LINE_MAX 16384
/* Bounds of `event-log-first-bytes` and its default. */
#define EVLOG_FIRST_BYTES_MAX 4096
#define EVLOG_FIRST_BYTES_DEFAULT 64

/* ---------------------------------------------------------------------------
 * JSON (evlog_json.c): pure functions on buffers
 * ------------------------------------------------------------------------- */

/* Writes the n bytes at s (any bytes) as the inside of a JSON string (no
 * quotes) into out (cap bytes, not NUL-terminated): '"' and '\' get a
 * backslash; \b \f \n \r \t their short escapes; other bytes below 0x20
 * and 0x7f become \u00XX; well-formed UTF-8 (no overlong forms, no
 * surrogates, at most U+10FFFF) is copied as it is; every byte of an
 * ill-formed sequence becomes \u00XX (the byte's value, read as Latin-1).
 * Returns the length the whole escape needs: when it is above cap, only
 * the first cap bytes were written and the caller must treat it as
 * overflow. Never reads beyond s + n. */
size_t json_escape(char *out, size_t cap, const void *s, size_t n);

/* One event under construction, in the calling thread's buffer. */
struct evlog_rec {
	char *buf;
	size_t len, cap;
	size_t mark;            /* see evlog_mark_optional; 0: none */
	bool overflow;          /* something did not fit: evlog_emit drops it */
};

/* Starts {"v":1,"type":<type>,"time":"<now, UTC, µs>" in this thread's
 * buffer. */
void evlog_begin(struct evlog_rec *r, const char *type);
/* Same with a given buffer (tests, fuzzing) and time (NULL: now). */
void evlog_begin_buf(struct evlog_rec *r, char *buf, size_t cap, const char *type, const struct timeval *tv);

/* Fields. key is a constant of the caller's code (escaped anyway). A NULL
 * string or an address of family 0 leaves the field out: absent means
 * unknown or not applicable, never an empty string. */
void evlog_str(struct evlog_rec *r, const char *key, const char *s);
void evlog_strn(struct evlog_rec *r, const char *key, const void *s, size_t n);
void evlog_int(struct evlog_rec *r, const char *key, long long v);
void evlog_uint(struct evlog_rec *r, const char *key, unsigned long long v);
void evlog_bool(struct evlog_rec *r, const char *key, bool v);
/* "key":"2026-12-04T20:55:01.123456Z" */
void evlog_time(struct evlog_rec *r, const char *key, const struct timeval *tv);
/* "<prefix>_ip":"…","<prefix>_port":N for AF_INET/AF_INET6 (v4-mapped
 * addresses printed as IPv4); nothing for other families. */
void evlog_addr(struct evlog_rec *r, const char *prefix, const struct sockaddr_storage *ss);
/* "key":"<lowercase hex of the n bytes>" */
void evlog_hex(struct evlog_rec *r, const char *key, const void *p, size_t n);
/* Fields added after this call may be left out by a target that cannot
 * take the whole line (a syslog `len`); the line then ends with
 * "truncated":true. Call it once, before the bulky fields. */
void evlog_mark_optional(struct evlog_rec *r);
/* Closes the object ("}" without "\n"). Returns the length, or 0 when the
 * record overflowed its buffer. */
size_t evlog_end(struct evlog_rec *r);

/* ---------------------------------------------------------------------------
 * sinks and emitting (evlog.c)
 * ------------------------------------------------------------------------- */

struct log_target;

/* One `event-log` line. */
struct evlog_sink {
	char *name;             /* target word as written, for messages */
	char *path;             /* file@<path>: the file; NULL: lt */
	struct log_target *lt;  /* a syslog target (log.h), owned; NULL: file */
	int fd;                 /* file: -1 while closed */
	unsigned maxlen;        /* longest line accepted ("\n" excluded) */
	uint64_t sent;          /* lines written whole (atomic) */
	uint64_t drops;         /* lines dropped: full disk, full socket, too long */
	uint64_t errors;        /* lines lost to other errors */
	int last_errno;
};

/* The event log of one configuration generation. */
struct evlog_set {
	struct evlog_sink **v;
	size_t n;
	unsigned first_bytes;   /* event-log-first-bytes */
};

/* Parses the words after `event-log` (argv[0] is the target):
 *   file@<absolute path>
 *   <log target> [len <n>] [format <fmt>] <facility> [<level> [<minlevel>]]
 * (a `log` line's words, log.h). Returns 0 with a closed sink in *out, or
 * -EINVAL/-ENOMEM with *err. */
int evlog_sink_parse(int argc, char **argv, struct evlog_sink **out, char **err);
/* Opens s: a file with O_WRONLY|O_APPEND|O_CREAT (mode 0640), close-on-exec
 * and non-blocking; a syslog target as log_target_open. Reopens an open
 * file (its fd is replaced only once the new open succeeded). Returns 0 or
 * -errno with *err. */
int evlog_sink_open(struct evlog_sink *s, char **err);
void evlog_sink_close(struct evlog_sink *s);
void evlog_sink_free(struct evlog_sink *s);
/* Writes one line (len bytes, no "\n": it is added) to s. Never blocks:
 * a line s cannot take (ENOSPC, EAGAIN, ENOBUFS, too long) counts in
 * drops, other failures in errors. */
void evlog_sink_write(struct evlog_sink *s, const char *line, size_t len);

int evlog_set_add(struct evlog_set *set, struct evlog_sink *s);
/* Frees the sinks (closing them) and the array; set itself is the
 * caller's. */
void evlog_set_free(struct evlog_set *set);

/* The set events go to (the generation in service; NULL: none). Set by the
 * generation's commit, from the main thread. */
void evlog_set_active(struct evlog_set *set);
struct evlog_set *evlog_active(void);
/* Whether any event target is configured: build no event otherwise. */
bool evlog_enabled(void);
/* How many first bytes of a client a session keeps (0: none). */
unsigned evlog_first_bytes(void);
/* Reopens the file targets of the active set (SIGHUP when the reload
 * failed: logrotate's files must still be let go). Failures are warnings;
 * a sink whose reopen fails keeps its old file. */
void evlog_reopen(void);

/* Ends r and sends the line to every target of the active set; a target
 * whose maxlen is shorter gets the line cut at the optional mark with
 * "truncated":true, or nothing (counted) without a mark. Returns the
 * number of targets that took the line. */
int evlog_emit(struct evlog_rec *r);

/* Clock of evlog_begin (tests); NULL: gettimeofday. */
extern void (*evlog_now_hook)(struct timeval *tv);

#endif
