/* events.h — the `event-log` keywords of the global section and the event
 * log of a configuration generation (the JSON lines themselves are
 * log/evlog.h's).
 *
 *   event-log file@<path>
 *   event-log <log target> [len <n>] [format <fmt>] <facility> [<level> [<minlevel>]]
 *   event-log-first-bytes <n>
 *
 * Several `event-log` lines send every event to each target. The state is
 * a generation extension (model/conf.h); the generation in service is the
 * one whose set log/evlog.c emits to.
 */
#ifndef DECOYPROXY_EVENTS_H
#define DECOYPROXY_EVENTS_H

#include "lib/common.h"

struct dp_config;
struct cfg_kw_list;
struct evlog_set;

extern const struct cfg_kw_list events_kw_list;

/* The event log of c, NULL when c has no `event-log` line. */
struct evlog_set *events_of(const struct dp_config *c);

/* Generation hooks (ctl/module.h). apply opens newc's targets (a file is
 * opened anew on every reload: logrotate's rename is followed); commit
 * makes newc's set the one events go to and closes oldc's; undo closes
 * newc's; remove stops emitting and closes c's. */
int events_apply(struct dp_config *newc, struct dp_config *oldc, char **err);
void events_undo(struct dp_config *newc, struct dp_config *oldc);
void events_commit(struct dp_config *newc, struct dp_config *oldc);
void events_remove(struct dp_config *c);

#endif
