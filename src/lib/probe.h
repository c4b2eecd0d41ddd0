/* probe.h — probe events and scan summaries from packet observations
 * (issue 14): pure code, time injected, one table per thread.
 *
 * Observations come from the kernel's probe rules (a SYN to an intercepted
 * decoy address:port, a SYN to a closed port of a decoy, an RST from the
 * attacker to an intercepted pair: plumbing/probe.h reads them from NFLOG)
 * and from the listeners (a connection accepted). The table turns them into:
 *
 *   - one PROBE event per (attacker, decoy address, port, protocol, scope)
 *     per interval, with its verdict:
 *       closed      the SYN hit a port of the decoy that is not intercepted
 *                   (known at once: emitted at once);
 *       connection  the handshake completed and the connection was accepted
 *                   (emitted the settle time after the accept: the kernel's
 *                   log of the SYN may be read after the accept);
 *       half-open   SYN, then RST from the attacker, and no accept within
 *                   the settle time (a SYN scan);
 *       syn         SYN only, nothing else within the settle time (a
 *                   spoofed source, a flood, or an answer that never came);
 *     the event counts the key's packets seen until it is emitted (syn,
 *     rst); later ones within the interval are only counted in the
 *     table's `suppressed` statistic (an accept after a half-open or
 *     closed event is news, and gives a second event);
 *   - one SCAN event per attacker and scope per window when, within the
 *     window (starting at its first probe), it touched at least
 *     scan_decoys distinct decoy addresses or scan_ports distinct ports:
 *     emitted at the window's end, with the exact counts (distinct decoys,
 *     distinct ports, probes), the lowest and highest decoy and port.
 *
 * Memory is fixed at creation: `cap` entries (probe keys, attackers, and the
 * distinct (attacker, decoy) and (attacker, port) pairs of a window share
 * them). When full, the oldest entry is evicted: a pending probe or an
 * attacker over the threshold is emitted first (never lost), and the
 * eviction is counted (its counts may then be low). Expiry follows
 * insertion order.
 *
 * A `scope` is the caller's number for a (frontend, namespace) pair;
 * events carry it back.
 */
#ifndef DECOYPROXY_PROBE_H
#define DECOYPROXY_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/intercept.h"

enum probe_obs_kind {
	PROBE_OBS_SYN,          /* SYN to an intercepted pair */
	PROBE_OBS_RST,          /* RST from the attacker to an intercepted pair */
	PROBE_OBS_CLOSED,       /* SYN or UDP datagram to a closed port of a decoy address */
	PROBE_OBS_ACCEPT,       /* connection accepted */
};

enum probe_verdict {
	PROBE_V_SYN = 0, PROBE_V_CONNECTION, PROBE_V_HALF_OPEN, PROBE_V_CLOSED,
};

/* "syn", "connection", "half-open", "closed" */
const char *probe_verdict_name(enum probe_verdict v);

struct probe_obs {
	enum probe_obs_kind kind;
	uint8_t family;                 /* AF_INET or AF_INET6 */
	uint8_t proto;                  /* IPPROTO_TCP (IPPROTO_UDP: CLOSED only) */
	union icpt_addr src, dst;       /* attacker, decoy (network order) */
	uint16_t sport, dport;          /* host order */
	uint32_t scope;
};

/* Per-scope settings. */
struct probe_params {
	uint32_t interval_ms;           /* one probe event per key per interval
	                                 * (and the scan window) */
	uint32_t scan_decoys, scan_ports;
};

enum probe_event_type { PROBE_EV_PROBE, PROBE_EV_SCAN };

struct probe_event {
	enum probe_event_type type;
	uint64_t time_ms;               /* first packet of the probe / window start */
	uint64_t end_ms;                /* when it was decided / window end */
	uint32_t scope;
	uint8_t family, proto;
	union icpt_addr src, dst;       /* PROBE: attacker, decoy; SCAN: attacker,
	                                 * lowest decoy */
	uint16_t sport, dport;          /* PROBE: ports; SCAN: sport 0, dport = lowest port */
	enum probe_verdict verdict;     /* PROBE */
	uint32_t syn, rst;              /* PROBE: packets of the key counted */
	/* SCAN */
	uint32_t ndecoys, nports, nprobes;
	union icpt_addr dst_hi;
	uint16_t dport_hi;
	bool partial;                   /* SCAN: an entry of the window was evicted */
};

typedef void (*probe_emit_fn)(void *ctx, const struct probe_event *ev);
/* The parameters of scope (the caller's); NULL: use defaults. */
typedef const struct probe_params *(*probe_params_fn)(void *ctx, uint32_t scope);

struct probe_stats {
	uint64_t observed, probes, scans, evictions, suppressed;
};

struct probe_table;

/* A table of cap entries (at least 16), settle_ms: how long a pending
 * probe waits for its verdict. NULL when out of memory. */
struct probe_table *probe_table_new(size_t cap, uint32_t settle_ms, probe_emit_fn emit,
				    probe_params_fn params, void *ctx);
/* Emits what is pending (probes with what they have, scans over the
 * threshold) and frees t. NULL is a no-op. */
void probe_table_free(struct probe_table *t);

/* One observation at now_ms (monotonic). May emit events. */
void probe_observe(struct probe_table *t, uint64_t now_ms, const struct probe_obs *o);

/* Emits what is due at now_ms (settled probes, ended windows) and expires
 * old entries. Returns the delay in ms until something may be due next
 * (UINT32_MAX: nothing pending). */
uint32_t probe_tick(struct probe_table *t, uint64_t now_ms);

const struct probe_stats *probe_table_stats(const struct probe_table *t);
size_t probe_table_used(const struct probe_table *t);

#endif
