/* unixsock.h — unix sockets in the configuration, beyond one bind line:
 * the global `unix-bind` keyword (its settings live in the generation's
 * global ones, model/conf.h, and reach each `bind` through bind_parse()),
 * listener ids, and what a unix socket server cannot do. */
#ifndef DECOYPROXY_UNIXSOCK_H
#define DECOYPROXY_UNIXSOCK_H

#include "cfg/cfg.h"

struct dp_config;

/* `unix-bind [prefix <p>] [mode <m>] [user <u>] [uid <n>] [group <g>] [gid <n>]` */
extern const struct cfg_kw_list unixsock_kw_list;

/* After every file is read: numbers each frontend's listeners (`id` or
 * the next free one, as HAProxy 2.6), refuses a duplicate `id`, refuses
 * `usesrc` toward a unix socket server (it has no source address) and
 * warns that a plain `source` is ignored for one. Returns the number of
 * errors reported (file:line). */
int unixsock_finalize(struct dp_config *c);

#endif
