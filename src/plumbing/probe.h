/* probe.h — probe events from the kernel (issue 14, part 1).
 *
 * For every frontend with `intercept` and `option log-probes`, the nft table
 * (net/nft.h, struct nft_decoy) sends to NFLOG group `probe-log group`,
 * rate-limited in the kernel by `probe-log rate`: each new SYN to an
 * intercepted decoy address:port, each RST from the attacker to one, and
 * each new SYN to a closed port of a decoy address. This module reads them
 * (one NETLINK_NETFILTER socket per namespace, created there through
 * net/nscache, parsed by net/nflog.h), adds the connections the
 * listeners accept (probe_note_accept(), called by ctl's accept glue: core
 * and plumbing never include each other), and turns them into probe events
 * and scan summaries (lib/probe.h: one event per attacker, decoy, port per
 * interval; a scan per attacker per window).
 *
 * Every event becomes a struct probe_record, given to probe_record_hook
 * (NULL: none; nothing in the tree sets it today), written as a "probe" or
 * "scan" event to the JSON event log when `event-log` is configured
 * (log/evlog.h, doc/events.md) and as one line to the frontend's log
 * targets (level info):
 *
 *   probe: <attacker>:<aport> [<date>] <frontend> <segment> probe <proto> <decoy>:<dport> <verdict> syn=<n> rst=<n>
 *   scan:  <attacker> [<date>] <frontend> <segment> scan <proto> decoys=<n> ports=<n> probes=<n> <lo>-<hi> <plo>-<phi> <window>ms[ partial]
 *
 * <date> is HAProxy's accept date format (local time, ms) of the first
 * packet (probe) or of the window's start (scan); <segment> is the network
 * namespace of the transparent bind, "-" for the process's own; IPv6
 * addresses are in brackets. Verdicts: connection, half-open, closed, syn.
 *
 * Threads: the sockets, the table and its timer belong to the thread that
 * applies the configuration (the main loop); a second thread would get its
 * own table and sockets of its own groups. Memory: a fixed table of
 * PROBE_TABLE_SIZE entries (oldest evicted, counted).
 */
#ifndef DECOYPROXY_PROBE_PLUMB_H
#define DECOYPROXY_PROBE_PLUMB_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "lib/probe.h"
#include "model/conf.h"

struct ev_loop;
struct proxy;

#define PROBE_TABLE_SIZE 16384u
#define PROBE_SETTLE_MS  1000u

/* One event with everything the JSON event log wants. */
struct probe_record {
	enum probe_event_type type;     /* PROBE_EV_PROBE or PROBE_EV_SCAN */
	struct timeval time;            /* first packet / window start (wall clock) */
	struct timeval end;             /* decided / window end */
	const char *frontend;
	const char *segment;            /* namespace name, NULL: the process's own */
	const char *proto;              /* "tcp" */
	struct sockaddr_storage attacker; /* port 0 for a scan */
	struct sockaddr_storage decoy;  /* probe: the decoy; scan: the lowest decoy */
	struct sockaddr_storage decoy_hi; /* scan: the highest decoy */
	uint16_t port_lo, port_hi;      /* scan: lowest, highest port */
	enum probe_verdict verdict;     /* probe */
	const char *verdict_name;
	uint32_t syn, rst;              /* probe */
	uint32_t ndecoys, nports, nprobes; /* scan */
	uint32_t window_ms;             /* scan */
	bool partial;                   /* scan: counts may be low (table evictions) */
};

extern void (*probe_record_hook)(const struct probe_record *r);

/* Renders r as the log line above into buf (always NUL-terminated when
 * cap > 0); returns the length written. */
size_t probe_record_line(const struct probe_record *r, char *buf, size_t cap);

/* Generation hooks (ctl/module.c): opens and binds an NFLOG socket in every
 * namespace of c's tproxy plan with a logging divert (a socket of the
 * previous generation for the same namespace and group is kept), watched
 * on loop. 0, or -1 with *err (namespace, group, reason). */
int probe_apply(struct dp_config *c, struct dp_config *oldc, struct ev_loop *loop, char **err);
void probe_undo(struct dp_config *c, struct dp_config *oldc);
void probe_commit(struct dp_config *c, struct dp_config *oldc);
/* Process stop: pending events are emitted, sockets closed. */
void probe_remove(struct dp_config *c);

/* A connection accepted by frontend fe in namespace ns (NULL: the
 * process's own): peer is the attacker, local the decoy (original
 * destination). Cheap when fe does not log probes. */
void probe_note_accept(const struct proxy *fe, const char *ns, const struct sockaddr_storage *peer,
		       const struct sockaddr_storage *local);

/* Counters for the stats socket (`show info`), the metrics page and
 * tests. Each probe thread (the one applying the configuration today)
 * keeps its own, written only by it; probe_get_counters() sums them. */
struct probe_counters {
	uint64_t packets, bad, drops;   /* NFLOG packets read, unparsable, lost (ENOBUFS) */
	uint64_t probes, scans, evictions, suppressed, unknown;
	uint64_t verdict[4];            /* probe events by enum probe_verdict */
};
void probe_get_counters(struct probe_counters *out);

#endif
