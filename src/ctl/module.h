/* module.h — the module table: every module that owns configuration
 * keywords or per-generation state, in one explicit order.
 *
 * Lower layers never call upward: this table (in ctl/, the top layer but
 * main) is the one place that names them all. It registers their keywords
 * and sections with cfg/ before any file is read, and ctl/reload.c walks
 * its hooks to bring a configuration generation to life and to retire it.
 *
 * Hooks of one generation, all optional, in table order unless said:
 *   finalize(c)            pure checks and plans once every file is read;
 *                          prints alerts naming file:line, returns the
 *                          number of errors; touches nothing on the system.
 *   apply(newc, oldc, err) puts newc's part in service next to oldc's (oldc
 *                          NULL at start-up). All or nothing: on failure it
 *                          has undone its own work and *err says why.
 *   undo(newc, oldc)       a later module's apply failed: removes what this
 *                          apply did and gives oldc back what it took
 *                          (walked in reverse order).
 *   commit(newc, oldc)     the point of no return has passed: newc is in
 *                          service, oldc (NULL at start-up) retires.
 *                          Cannot fail.
 *   remove(c)              the process stops: removes what c put on the
 *                          system (walked in reverse order).
 *   carry(newc, oldc)      counters and operator state that survive a
 *                          reload (one struct copy per object).
 *   cleanup(c, removed)    `decoyproxy --cleanup`: c is finalized and never
 *                          applied; removes what an earlier run that is
 *                          gone left of c's objects (only objects carrying
 *                          such a run's mark, net/owner.h), adds their
 *                          number to *removed, returns the number of
 *                          failures (walked in reverse order, like remove).
 * A generation's private state is freed with the generation (model/conf.h
 * extensions), not from this table: a generation outlives its reload while
 * sessions hold it.
 */
#ifndef DECOYPROXY_MODULE_H
#define DECOYPROXY_MODULE_H

#include "lib/common.h"

struct dp_config;
struct cfg_kw_list;
struct cfg_section;

struct dp_module {
	const char *name;
	const struct cfg_kw_list *kws;          /* keywords it owns, or NULL */
	const struct cfg_section *sections;     /* sections it owns (ended by a NULL name), or NULL */
	int (*finalize)(struct dp_config *c);
	int (*apply)(struct dp_config *newc, struct dp_config *oldc, char **err);
	void (*undo)(struct dp_config *newc, struct dp_config *oldc);
	void (*commit)(struct dp_config *newc, struct dp_config *oldc);
	void (*remove)(struct dp_config *c);
	void (*carry)(struct dp_config *newc, struct dp_config *oldc);
	int (*cleanup)(struct dp_config *c, unsigned *removed);
};

/* Registers every module's keywords and sections with cfg/, the session
 * as the default accept callback of listeners, and the CLI as the owner of
 * the stats sockets' bind lines. Idempotent; call before parsing anything.
 * Returns 0 or -errno. */
int modules_init(void);

/* The table, in order. */
const struct dp_module *const *modules_table(size_t *n);

/* Runs every finalize hook on c; returns the number of errors. */
int modules_finalize(struct dp_config *c);
/* Applies newc next to oldc, module by module; on failure undoes what the
 * modules before the failing one did (in reverse) and returns -1 with
 * *err. */
int modules_apply(struct dp_config *newc, struct dp_config *oldc, char **err);
/* Listener sockets of the last apply/commit, for the reload notice. */
struct reload_counts {
	unsigned kept, opened, closed;
};
extern struct reload_counts modules_last_counts;

/* carry (every module), then commit (backwards). */
void modules_commit(struct dp_config *newc, struct dp_config *oldc);
/* remove, every module, in reverse order. */
void modules_remove(struct dp_config *c);
/* cleanup, every module, in reverse order, then a notice with the number
 * of objects removed. Returns 0, or -1 when anything could not be removed
 * (each failure was a warning). */
int modules_cleanup(struct dp_config *c);

#endif
