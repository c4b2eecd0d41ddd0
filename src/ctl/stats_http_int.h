/* stats_http_int.h — private to the statistics page module (see
 * stats_http.h).
 *
 * Files of the module:
 *   stats_http_kw.c    keywords, the generation's extension, finalize
 *   stats_http.c       clients: accept, requests, timeouts, auth, admin
 *   stats_http_page.c  what is served: the HTML page, Prometheus metrics
 */
#ifndef DECOYPROXY_STATS_HTTP_INT_H
#define DECOYPROXY_STATS_HTTP_INT_H

#include <sys/socket.h>

#include "lib/common.h"
#include "model/bind.h"
#include "model/conf.h"
#include "ctl/cli.h"
#include "ctl/stats_http.h"

struct proxy;

#define STATS_DEFAULT_URI    "/haproxy?stats"      /* HAProxy's default */
#define STATS_DEFAULT_REALM  "HAProxy Statistics"  /* HAProxy's default */

/* `stats admin if|unless <cond>` conditions decoyproxy evaluates itself
 * (HAProxy's predefined ACLs), until the ACL engine can. */
enum stats_cond {
	STATS_COND_NONE = 0,    /* no `stats admin`: read-only page */
	STATS_COND_TRUE,
	STATS_COND_FALSE,
	STATS_COND_LOCALHOST,   /* src 127.0.0.1/8 or ::1 */
};

struct stats_user {
	struct stats_user *next;
	char *user, *pass;
};

/* The statistics settings of one proxy (whatever its mode: a TCP proxy's
 * are ignored with HAProxy's warning at finalize). */
struct stats_px {
	struct stats_px *next;
	struct proxy *px;
	bool enabled;               /* a `stats` line that enables the page */
	char *uri;                  /* NULL: STATS_DEFAULT_URI */
	long long refresh_ms;       /* 0: no automatic refresh */
	char *realm;                /* NULL: STATS_DEFAULT_REALM */
	struct stats_user *users;   /* `stats auth`; NULL: no authentication */
	int admin_cond;             /* STATS_COND_* */
	bool admin_unless;          /* `unless` rather than `if` */
	bool hide_version, show_legends, show_node, show_desc;
	char *node, *desc;          /* show-node/show-desc values (NULL: default) */
	char *prom_path;            /* prometheus-exporter: on this path only */
	bool prom_all;              /* prometheus-exporter without condition */
	bool prom;                  /* a prometheus-exporter line was given */
	int stats_line, prom_line;  /* first `stats` / `http-request` line */
};

/* The stats settings of px in c, or NULL. */
struct stats_px *stats_px_of(const struct dp_config *c, const struct proxy *px);

/* stats_http.c: the bind lines' accept callback. */
void stats_http_accept(struct listener *l, int fd, const struct sockaddr_storage *peer);

/* ---- what is served (stats_http_page.c): appended to out ---- */

struct stats_view {
	const struct stats_px *sp;
	const char *base;           /* the stats URI as requested, without ;options */
	bool admin;                 /* the client may act on servers */
	bool up_only, norefresh;
	const char *done;           /* result of the last admin action, or NULL */
};

/* The HTML page of every proxy of the running configuration. */
void stats_page_html(struct cli_buf *out, const struct stats_view *v);
/* Prometheus text exposition format 0.0.4 (HAProxy's metric names). */
void stats_page_metrics(struct cli_buf *out);
/* Appends s HTML-escaped. */
void stats_html_esc(struct cli_buf *out, const char *s);

#endif
