/* decoy.h — decoys that look like hosts, and the settings of probe events
 * (issue 14, parts 1 and 2). decoyproxy extensions, HAProxy syntax:
 *
 *   global
 *       probe-log group <n>                 NFLOG group of the probe rules
 *                                           (default 1414; one per namespace)
 *       decoy-answers group <n>             NFLOG group through which decoyproxy
 *                                           gets the UDP datagrams and echo
 *                                           requests it answers for decoys that
 *                                           are not local (default 1415, or
 *                                           1414 when probe-log group is 1415)
 *       probe-log rate <n>/<time> [burst <n>]   default for every frontend
 *       scan-threshold <decoys> <ports> <time>  default for every frontend
 *   frontend | listen   (with `intercept` lines)
 *       decoy-closed reset|drop             closed ports of a decoy address:
 *                                           RST / ICMP port unreachable like a
 *                                           host (default), or no answer
 *       decoy-ping on|off                   echo requests to decoy addresses
 *                                           (default: on with reset, off with drop)
 *       option log-probes                   probe events (plumbing/probe.h)
 *       probe-log rate <n>/<time> [burst <n>]   kernel rate limit of each probe
 *                                           rule (default 200/1s burst 200)
 *       scan-threshold <decoys> <ports> <time>  an attacker that touched this
 *                                           many decoys or ports within <time>
 *                                           is reported once as a scan
 *                                           (default 3 5 60s)
 *
 * The network and broadcast addresses of an IPv4 CIDR spec of /30 or wider
 * (10.0.0.0 and 10.0.0.15 of `intercept 10.0.0.0/28:22`) are not decoys:
 * not diverted, not answered, not announced, unless a spec of the same
 * frontend names them alone (`intercept 10.0.0.0:22`). Specs of
 * `intercept-file` count the same; `add intercept` on the stats socket
 * does not cut them (what is added at run time is taken as written).
 *
 * The nft side is struct nft_decoy (net/nft.h): tproxy_finalize() asks
 * decoy_fill_divert() for each divert of its plan, so that the decoy rules
 * are in the same table and the same atomic batch as the tproxy rules.
 * Everything here is pure (`decoyproxy -c`).
 */
#ifndef DECOYPROXY_DECOY_H
#define DECOYPROXY_DECOY_H

#include <stdbool.h>
#include <stdint.h>

#include "cfg/cfg.h"
#include "lib/intercept.h"
#include "model/conf.h"
#include "net/nft.h"

struct proxy;

#define DECOY_LOG_GROUP_DEFAULT 1414u
#define DECOY_ANSWER_GROUP_DEFAULT 1415u
#define DECOY_LOG_RATE_DEFAULT  200u    /* per second */
#define DECOY_SCAN_DECOYS_DEFAULT 3u
#define DECOY_SCAN_PORTS_DEFAULT  5u
#define DECOY_SCAN_WINDOW_DEFAULT 60000u /* ms */

extern const struct cfg_kw_list decoy_kw_list;

/* Effective settings of one frontend. */
struct decoy_settings {
	enum nft_closed closed;         /* RESET or DROP */
	bool ping;
	bool log;                       /* option log-probes */
	uint16_t log_group;
	uint16_t answer_group;          /* decoy-answers group (plumbing/icmpans.h) */
	uint32_t log_rate;              /* per log_unit seconds */
	uint32_t log_unit;
	uint32_t log_burst;
	uint32_t scan_decoys, scan_ports;
	uint32_t scan_window_ms;        /* also the interval of one probe event per
	                                 * (attacker, decoy, port) */
};

/* Module finalize: the decoy keywords and `option log-probes` are written
 * only in frontends with `intercept`. Alerts with file:line; returns the
 * error count. */
int decoy_finalize(struct dp_config *c);

/* tproxy_finalize() gives px's decoy list as written (before it is
 * normalised: its origins still name each spec); the edges of px are
 * computed from it. 0 or -ENOMEM. */
int decoy_note_decoys(struct dp_config *c, const struct proxy *px, const struct icpt_list *l);

/* px's effective settings (defaults when none were written). */
void decoy_settings_of(const struct dp_config *c, const struct proxy *px, struct decoy_settings *out);

/* Fills d->dec for the divert d of frontend px (d->set and d->decoys set
 * already). Names and lists stay owned by c. 0 or -ENOMEM. */
int decoy_fill_divert(const struct dp_config *c, const struct proxy *px, struct nft_divert *d);

/* The edges of px (network and broadcast addresses its CIDR specs cut),
 * or NULL when none. */
const struct icpt_list *decoy_edges(const struct dp_config *c, const struct proxy *px);

/* Pure helper (unit-tested): the edges of a decoy list as written (not
 * normalised; its origins name the specs): for every IPv4 element written
 * as a CIDR of /30 or wider, its first and last address, unless an element
 * of one address of l holds it. Appends them (ports 1-65535) to out. 0 or
 * -ENOMEM. */
int decoy_edges_compute(const struct icpt_list *l, struct icpt_list *out);

#endif
