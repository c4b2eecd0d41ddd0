/* cpumap.h — `cpu-map [auto:]<process-set>[/<thread-set>] <cpu-set>...`
 * (global section, HAProxy's syntax): which CPUs each thread may run on.
 *
 * Sets are resolved per thread number (1..CPUMAP_MAX_THREADS) when the line
 * is parsed; the generation's apply pins every thread that runs with
 * pthread_setaffinity_np() (the workers, started after the first apply,
 * by cpumap_pin_workers()). A generation without `cpu-map` gives a thread
 * that an earlier generation pinned back the CPUs the process had at start.
 */
#ifndef DECOYPROXY_CPUMAP_H
#define DECOYPROXY_CPUMAP_H

#include <sched.h>
#include "cfg/cfg.h"
#include "model/conf.h"

#define CPUMAP_MAX_THREADS 64   /* HAProxy's thread numbers: 1..64 */

extern const struct cfg_kw_list cpumap_kw_list;

/* Module table hooks. finalize: every thread that runs must be left at
 * least one CPU the process may use (errors name the cpu-map line); returns
 * the number of errors. apply: pins the running threads to newc's sets (or
 * back to the start-up set when oldc pinned them and newc has no cpu-map);
 * 0, or -1 with *err and nothing changed. undo: gives back oldc's binding. */
int cpumap_finalize(struct dp_config *c);
int cpumap_apply(struct dp_config *newc, struct dp_config *oldc, char **err);
void cpumap_undo(struct dp_config *newc, struct dp_config *oldc);

/* The CPUs c binds thread tid (1-based) to: true with *out filled, false
 * when no cpu-map line names that thread. */
bool cpumap_thread_set(const struct dp_config *c, unsigned tid, cpu_set_t *out);

/* Threads c runs: its `nbthread`, else cpumap_default_threads(). */
unsigned cpumap_running_threads(const struct dp_config *c);
/* HAProxy's default `nbthread`: the number of CPUs the process could run on
 * when this was first called (sched_getaffinity; the first call comes
 * before any cpu-map binding), 1 to DP_MAX_THREADS; 1 when unknowable. The
 * same value for the life of the process. */
unsigned cpumap_default_threads(void);
/* The CPUs the process could run on when it started (every CPU when that
 * is unknowable): where a helper thread that no `cpu-map` thread number
 * names runs (the reload's parse), instead of inheriting the CPUs of the
 * thread that started it. Call it from thread 1. */
void cpumap_start_set(cpu_set_t *out);
/* Start-up, once the worker threads run: binds threads 2..n as c says.
 * 0, or -1 with *err. */
int cpumap_pin_workers(const struct dp_config *c, char **err);

#endif
