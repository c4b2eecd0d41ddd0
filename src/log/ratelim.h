/* ratelim.h — "at most one log per source per interval": what keeps a flood
 * of refused connections from one attacker from flooding the logs while
 * every attacker still shows up.
 *
 * A fixed table of slots (no allocation), one per thread (each session is
 * owned by one thread, so no lock): a source hashes to one slot, which
 * remembers the last second it was logged and how many of its events were
 * left out since. Two sources sharing a slot replace each other, so under
 * more distinct sources at once than slots some events are logged that
 * would have been left out (never the reverse), and a replaced source's
 * count of left-out events is lost.
 */
#ifndef DECOYPROXY_RATELIM_H
#define DECOYPROXY_RATELIM_H

#include <sys/socket.h>

#include "lib/common.h"

#define RATELIM_SLOTS 4096

/* Whether an event of src at now_ms (monotonic) is logged: the first of
 * each interval_ms per source is. When it is, *skipped gets how many of
 * that source's events were not logged since its previous logged one. */
bool ratelim_allow(const struct sockaddr_storage *src, uint64_t now_ms, unsigned interval_ms, unsigned *skipped);

#endif
