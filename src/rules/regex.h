/* regex.h — PCRE2 regexes for `-m reg`, `regsub` and the `reg` arguments
 * of fetches and converters.
 *
 * Compiled once at load (JIT when the library has it), never per
 * connection, and run with match, depth and heap limits so that a hostile
 * payload cannot stall the loop: hitting a limit is "no match", counted
 * in rx_limit_hits. Matching uses per-thread match data.
 */
#ifndef DECOYPROXY_REGEX_H
#define DECOYPROXY_REGEX_H

#include "lib/common.h"

struct rx;

/* Compiles pattern (icase: caseless). Returns NULL with *err. */
struct rx *rx_compile(const char *pattern, bool icase, char **err);
/* As rx_compile, for subjects that grow (the first bytes of a stream):
 * the JIT code also supports rx_exec_partial. */
struct rx *rx_compile_partial(const char *pattern, char **err);
void rx_free(struct rx *r);
/* Frees the calling thread's match data (a worker thread as it stops). */
void rx_thread_free(void);
/* 1 on a match, 0 on none (or when a limit was hit). ovec (may be NULL)
 * gets nvec (<= 16) pairs of offsets, (size_t)-1 for unset groups. */
int rx_exec(const struct rx *r, const char *s, size_t len, size_t *ovec, int nvec);
/* Matches s[0..len) as the start of a subject that may continue: 1 on a
 * match, RX_PARTIAL when s is a prefix of a possible match (more bytes
 * decide), 0 on none (or a limit hit). Soft partial matching: a complete
 * match wins over a partial one. */
#define RX_PARTIAL 2
int rx_exec_partial(const struct rx *r, const char *s, size_t len);
/* Matches that hit a limit (process-wide; RARE_INC/RARE_GET, model/counters.h). */
extern unsigned long long rx_limit_hits;

#endif
