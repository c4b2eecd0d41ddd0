/* tune.h — the data path's tuning keywords of the `global` section:
 * `maxpipes`, `nosplice`, `tune.pipesize` (core/pipe.h) and
 * `tune.maxaccept` (core/listener.c). They are parsed into the
 * generation's struct dp_global; tune_commit() puts a generation's values
 * in service (start-up and every reload). */
#ifndef DECOYPROXY_TUNE_H
#define DECOYPROXY_TUNE_H

#include "lib/common.h"

struct dp_config;
struct cfg_kw_list;

extern const struct cfg_kw_list tune_kw_list;

/* HAProxy's default for tune.maxaccept */
#define TUNE_MAXACCEPT_DEFAULT 64

/* Connections a listener accepts in one wake-up before the loop serves
 * other work (tune.maxaccept; UINT_MAX = no limit). Read-only on the data
 * path, set by tune_commit(). */
extern unsigned tune_maxaccept;

/* Module hook: newc is in service. */
void tune_commit(struct dp_config *newc, struct dp_config *oldc);

#endif
