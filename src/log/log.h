/* log.h — connection log lines (log-format rendering) and log targets.
 *
 * The session module fills a `struct log_sess` when a connection ends; the
 * proxy's compiled log-format renders it into one line, which is sent to each
 * of the proxy's log targets with the target's syslog framing.
 */
#ifndef DECOYPROXY_LOG_H
#define DECOYPROXY_LOG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/time.h>
#include "lib/common.h"

/* Everything a log-format alias can refer to, for one connection. */
struct log_sess {
	struct sockaddr_storage cli;   /* %ci %cp: client (attacker, or PROXY-advertised) */
	struct sockaddr_storage fe;    /* %fi %fp: accepting address = original destination */
	struct sockaddr_storage bsrc;  /* %bi %bp: our source toward the server (family 0: none) */
	struct sockaddr_storage srv;   /* %si %sp: server address (family 0: none) */
	const char *frontend;          /* %ft %f: frontend name */
	const char *backend;           /* %b: backend name (frontend name when none) */
	const char *server;            /* %s: server name, NULL -> "<NOSRV>" */
	struct timeval accept_tv;      /* %t %T? : accept date (local time) */
	long tw, tc, tt;               /* %Tw %Tc %Tt in ms; -1 when not reached */
	uint64_t bytes_up;             /* %U: bytes from client to server */
	uint64_t bytes_down;           /* %B: bytes from server to client */
	char term[3];                  /* %ts: two-letter termination state, NUL ended */
	unsigned ac, fc, bc, sc, rc;   /* %ac %fc %bc %sc %rc */
	unsigned sq, bq;               /* %sq %bq */
	const char *unique_id;         /* %ID (NULL -> "-") */
	unsigned long long rt;         /* %rt: the session's number, counted from 0 since start */
	const char *netns;             /* namespace the connection arrived in (NULL: none) */
	const void *smp_ctx;           /* what %[sample] expressions read (the rules
	                                * layer's session view); NULL: they print "-" */
	unsigned luid;                 /* the accepting listener's id: %cp and %fp of a
	                                * unix socket's client, as HAProxy */
	bool logasap;                  /* `option logasap`: %Tt and %B start with '+'
	                                * (values as known when the line was written) */
};

/* ---------------------------------------------------------------------------
 * log-format (src/logfmt.c)
 *
 * A format string is compiled once into a flat program of literal chunks,
 * separators and alias operations; rendering walks that program and never
 * allocates. Semantics follow HAProxy 2.6 for the TCP aliases (checked
 * against Debian's haproxy 2.6.12):
 *   - runs of spaces are one separator: leading ones vanish, others print
 *     as one space;
 *   - `%%` is a literal '%'; `%{+Q,-X}alias` sets or clears flags Q (quote
 *     strings), X (hex for IPs, ports, %Ts, %ms, %pid), E (backslash before
 *     '"', '\' and ']'), M (accepted, no effect); `%{...}o` makes its flags
 *     the default of every later alias;
 *   - a missing value prints `-` (`""` with Q); Q never quotes numbers,
 *     dates or %ts;
 *   - %[sample] expressions are compiled and rendered by a higher layer
 *     through lf_set_sample_ops() (the rules layer); without it they are
 *     compile errors, as are HTTP-only aliases and aliases decoyproxy has
 *     no data for;
 *   - decoyproxy adds %ns: the namespace (segment) of the accepting
 *     listener, "-" for the default one.
 * ------------------------------------------------------------------------- */

/* %[...] expressions, handed to a higher layer (this one knows nothing of
 * fetches). compile() gets the text between "%[" and "]" and returns 0 with
 * *out or -EINVAL with *err; render() writes the value's text for the
 * session context into buf (cap bytes, NUL-terminated) and returns its
 * length, or -1 when there is no value (printed "-"); free() frees *out. */
struct lf_sample_ops {
	int (*compile)(const char *expr, void **out, char **err);
	int (*render)(const void *compiled, const void *smp_ctx, char *buf, size_t cap);
	void (*free)(void *compiled);
	/* %hr ("{a|b}", slots separated by '|') and %hrl (list: "a b", an
	 * empty slot "-", each slot quoted with quote): the frontend's
	 * `tcp-request content capture` slots, encoded as HAProxy does ('#'
	 * and two hex digits for '"', '#', '{', '|', '}' and non-printable
	 * bytes). Returns the length, or -1 when the frontend has no capture
	 * slot (nothing is printed, as HAProxy). May be NULL. */
	int (*captures)(const void *smp_ctx, bool list, bool quote, char *buf, size_t cap);
};
/* Installs the hook (NULL: none). Call before any format is compiled. */
void lf_set_sample_ops(const struct lf_sample_ops *ops);

struct lf_expr;                 /* opaque compiled format */

/* HAProxy's "option tcplog" format (the default of every frontend that
 * neither intercepts decoys nor has a transparent bind). */
extern const char LF_TCPLOG_FMT[];
/* decoyproxy's decoy log: tcplog + " %fi:%fp %ns %bi:%bp", the default of a
 * frontend with `intercept` lines or a transparent bind when it has
 * neither `log-format` nor `option tcplog` (doc/configuration.md). */
extern const char LF_DECOYLOG_FMT[];

/* Compiles fmt (the final string, after the config tokenizer removed quotes
 * and escapes). On success stores a new expression in *out (the caller owns
 * it, free with lf_free) and returns 0. On error returns -EINVAL (or -ENOMEM)
 * and sets *err to a message naming the offending alias or flag. The system
 * host name for %H is read here, once. */
int lf_compile(const char *fmt, struct lf_expr **out, char **err);

/* Frees an expression; NULL is a no-op. */
void lf_free(struct lf_expr *e);

/* Whether e renders the source used toward the server (%bi or %bp): the
 * session asks the kernel for that address only when someone shows it. */
bool lf_uses_bsrc(const struct lf_expr *e);

/* Renders e for ls into buf (cap bytes). The result is always NUL-terminated
 * when cap > 0 and is cut at cap - 1 bytes if longer. Returns the number of
 * bytes written without the NUL. Control bytes found in string fields are
 * written as "#XX" so a value can never split or forge a log line.
 * Allocates nothing; reads the local time zone (localtime_r) for %t/%Tl. */
size_t lf_render(const struct lf_expr *e, const struct log_sess *ls, char *buf, size_t cap);

/* ---------------------------------------------------------------------------
 * log targets (src/log.c): one `log` line of HAProxy's language.
 *
 *   log <target> [len <n>] [format <fmt>] <facility> [<level> [<minlevel>]]
 *
 * target: stdout | stderr | fd@<n> | /abs/path | unix@<path> | abns@<name>
 *         | [udp@|udp4@|udp6@|ipv4@|ipv6@]<ip-or-host>[:<port>]  (UDP, 514)
 *         IPv6 as "[v6]:port", or bare "v6[:port]" (the last colon separates
 *         the port when what precedes it is an address).
 * fmt:    local (default: rfc3164 without host name) | rfc3164 | rfc5424 |
 *         priority | short | timed | iso | raw.
 * len:    80..65535, default 1024; caps header + message, then "\n" follows.
 *
 * Every frame ends with "\n", on sockets too (HAProxy 2.6 does the same).
 * A message less important than <level> is not sent; one more important than
 * <minlevel> is sent with its level lowered to <minlevel>.
 * ------------------------------------------------------------------------- */

enum log_fmt {
	LOG_FMT_LOCAL = 0,
	LOG_FMT_RFC3164,
	LOG_FMT_RFC5424,
	LOG_FMT_PRIO,
	LOG_FMT_SHORT,
	LOG_FMT_TIMED,
	LOG_FMT_ISO,
	LOG_FMT_RAW,
};

enum log_kind {
	LOG_KIND_FD = 0,                /* stdout, stderr, fd@n: borrowed fd */
	LOG_KIND_UNIX,                  /* AF_UNIX datagram (path or abstract) */
	LOG_KIND_UDP,                   /* AF_INET / AF_INET6 datagram */
};

#define LOG_DEFAULT_MAXLEN 1024
#define LOG_MIN_MAXLEN     80
#define LOG_MAX_MAXLEN     65535
#define LOG_DEFAULT_PORT   514

/* One parsed `log` line. Other modules may read the fields; only log.c
 * writes them. */
struct log_target {
	char *name;                     /* target word as written, for messages */
	enum log_kind kind;
	int cfg_fd;                     /* LOG_KIND_FD: the configured fd number */
	struct sockaddr_storage addr;   /* UNIX / UDP destination */
	socklen_t addrlen;
	unsigned maxlen;                /* header + message bytes, "\n" excluded */
	enum log_fmt format;
	int facility;                   /* 0 (kern) .. 23 (local7) */
	int level;                      /* send levels <= this (0 emerg..7 debug) */
	int minlevel;                   /* levels < this are raised to it */
	char *hostname;                 /* rfc3164/rfc5424 host; NULL: defaults */
	int fd;                         /* -1 while closed; atomic (log.c) */
	bool own_fd;                    /* fd was created by log_target_open */
	bool fd_is_sock;                /* LOG_KIND_FD on a socket: use send() */
	/* counted from any thread: relaxed atomics (__atomic_load_n to read) */
	uint64_t sent;                  /* frames fully handed to the kernel */
	uint64_t drops;                 /* frames dropped on EAGAIN/ENOBUFS */
	uint64_t errors;                /* frames lost to any other error */
	int last_errno;                 /* errno of the last error, 0 if none */
};

/* Clock used for syslog headers; NULL (the default) means gettimeofday().
 * Tests point it at a fixed time. */
extern void (*log_now_hook)(struct timeval *tv);

/* Facility/level names <-> numbers. Return -1 / NULL when unknown. */
int log_facility_by_name(const char *name);
int log_level_by_name(const char *name);
const char *log_facility_name(int facility);
const char *log_level_name(int level);

/* Parses the words of one `log` line after the keyword: argv[0] is the
 * target. Host names are resolved here (getaddrinfo, may block: config time
 * only). On success stores a new closed target in *out (caller owns it, free
 * with log_target_free) and returns 0; on error returns -EINVAL/-ENOMEM and
 * sets *err naming the bad word. "global" is the caller's business and is
 * rejected here. */
int log_target_parse(int argc, char **argv, struct log_target **out, char **err);

/* Closes (if open) and frees t; NULL is a no-op. */
void log_target_free(struct log_target *t);

/* Host name written by the rfc3164/rfc5424 formats (HAProxy's
 * "log-send-hostname"). NULL restores the defaults: "localhost" for rfc3164,
 * "-" for rfc5424. Returns 0 or -ENOMEM (the old value is kept). */
int log_target_set_hostname(struct log_target *t, const char *host);

/* Makes t ready to send. Sockets are created non-blocking and close-on-exec
 * and stay unconnected (each frame names its destination, so a syslog daemon
 * that recreates /dev/log is found again). fd targets are borrowed: pipes and
 * sockets are switched to O_NONBLOCK, ttys and files are left alone. Calling
 * it on an open target does nothing. Any thread, any number at once: one
 * descriptor is created (under a lock taken only while t is closed).
 * Returns 0, or -errno with *err set. */
int log_target_open(struct log_target *t, char **err);

/* Closes a socket created by log_target_open; borrowed fds stay open.
 * Only when no thread sends to t any more (its generation is gone, or the
 * threads are isolated). */
void log_target_close(struct log_target *t);

/* Frames msg (len bytes; trailing "\n" and NUL bytes are ignored) for t's
 * format with the given level (0..7) and tag (NULL: "decoyproxy") and sends
 * it in one writev/sendmsg. Never blocks: EAGAIN counts in t->drops, other
 * failures in t->errors. Filters on t->level, caps at t->minlevel, opens t
 * first if needed (an open failure counts as an error). Returns 0 (sent,
 * or filtered out) or -errno of this frame's loss (log_errno_is_drop: a
 * drop rather than an error). Safe from several threads, the lazy open
 * included: one datagram per call, counters are atomics. */
int log_target_send(struct log_target *t, int level, const char *tag, const char *msg, size_t len);
/* true when errno e means "full, dropped" (EAGAIN, ENOBUFS), not an error */
bool log_errno_is_drop(int e);

/* A list of log targets (not owning them: a generation's all_targets owns
 * every target; proxies and `log global` hold borrowed pointers). */
struct log_list {
	struct log_target **v;
	size_t n;
};

int log_list_add(struct log_list *l, struct log_target *t);
void log_list_free(struct log_list *l);
void log_list_send(const struct log_list *l, int level, const char *tag, const char *msg, size_t len);

#endif
