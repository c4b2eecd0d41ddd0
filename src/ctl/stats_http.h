/* stats_http.h — the statistics page: HAProxy's `stats` keywords of a
 * `listen` or `frontend` section in `mode http`, served by decoyproxy
 * itself with a small, strict HTTP/1.1 responder: the HTML page, `;csv`
 * (the rows of the CLI's `show stat`), Prometheus metrics
 * (`http-request use-service prometheus-exporter`), Basic authentication
 * (`stats auth`) and the server actions of `stats admin`.
 *
 * It is also where a proxy's HTTP mode is judged: a proxy left in `mode
 * http` (its own line or a defaults section's) is refused, naming that
 * line, unless it is a statistics proxy; `stats` and `http-request` lines
 * of a TCP proxy are ignored with HAProxy's warnings.
 *
 * The statistics proxy is an ordinary proxy of the generation (so `show
 * stat` lists it, in mode http, as HAProxy does); its bind lines are opened
 * and taken over across reloads by the listener layer like every other
 * frontend's, and their accept callback (set by the finalize hook) attaches
 * a stats client instead of a session. A client holds a reference to its
 * generation and survives reloads; it is counted in the frontend's current
 * sessions (its maxconn applies) but not in the process's (`show info`
 * CurrConns), which are the decoys' sessions; like every frontend, the page
 * stops accepting while those reach the global maxconn.
 */
#ifndef DECOYPROXY_STATS_HTTP_H
#define DECOYPROXY_STATS_HTTP_H

#include "cfg/cfg.h"
#include "model/conf.h"

/* `stats enable|uri|refresh|auth|realm|admin|hide-version|show-legends|
 * show-node|show-desc` and `http-request use-service prometheus-exporter`
 * (proxy sections). */
extern const struct cfg_kw_list stats_http_kw_list;

/* Module table hooks. finalize: judges every proxy's mode (see above) and
 * points the bind lines of the statistics proxies at the stats clients;
 * returns the number of errors. remove: the process stops, every stats
 * client is closed (c is the generation in service). */
int stats_http_finalize(struct dp_config *c);
void stats_http_remove(struct dp_config *c);

/* Connected stats clients. */
unsigned stats_http_count(void);

#endif
