/* stats_http_page.c — what the statistics page serves: the HTML page, in
 * HAProxy's layout (one table per proxy: its frontend, servers and
 * backend, with queue, sessions, bytes, errors, warnings and server state),
 * and the Prometheus metrics (HAProxy's exporter names, then decoyproxy's
 * own). Both read the rows of the CLI's `show stat` (cli_stat_walk), so
 * the page, `;csv`, /metrics and the stats socket always agree.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/intercept.h"
#include "model/conf.h"
#include "model/proxy.h"
#include "model/server.h"
#include "core/connect.h"
#include "core/loop.h"
#include "core/mirror.h"
#include "core/udp.h"
#include "plumbing/netseg.h"
#include "plumbing/icmpans.h"
#include "plumbing/probe.h"
#include "plumbing/tproxy.h"
#include "ctl/cli.h"
#include "ctl/stats_http.h"
#include "ctl/stats_http_int.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

/* The CSV columns the page and the metrics read, by HAProxy's names. */
enum {
	C_PXNAME, C_SVNAME, C_QCUR, C_SCUR, C_SLIM, C_STOT, C_BIN, C_BOUT, C_ECON, C_WRETR, C_WREDIS, C_STATUS,
	C_WEIGHT, C_ACT, C_BCK, C_CHKFAIL, C_CHKDOWN, C_LBTOT, C_LAST_CHK, C_ADDR, C_MODE, C_CONN_TOT, C_CONNECT,
	C_IID, C_TYPE, C_N,
};
static const char *const col_names[C_N] = {
	"pxname", "svname", "qcur", "scur", "slim", "stot", "bin", "bout", "econ", "wretr", "wredis", "status",
	"weight", "act", "bck", "chkfail", "chkdown", "lbtot", "last_chk", "addr", "mode", "conn_tot", "connect",
	"iid", "type",
};
static int cols[C_N];

static void cols_init(void)
{
	static bool done;

	if (done)
		return;
	for (int i = 0; i < C_N; i++)
		cols[i] = cli_stat_col(col_names[i]);
	done = true;
}

static const char *F(const struct stat_row *r, int c)
{
	const char *v = cli_stat_field(r, cols[c]);

	return v ? v : "";
}

void stats_html_esc(struct cli_buf *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': cli_puts(out, "&lt;"); break;
		case '>': cli_puts(out, "&gt;"); break;
		case '&': cli_puts(out, "&amp;"); break;
		case '"': cli_puts(out, "&quot;"); break;
		case '\'': cli_puts(out, "&#39;"); break;
		default: cli_put(out, s, 1); break;
		}
	}
}

/* ---- HTML ------------------------------------------------------------------ */

static const char page_css[] =
	"body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;font-size:13px;margin:0;background:#f6f7f9;color:#1d2330}"
	"header{background:#1d2330;color:#fff;padding:14px 22px;display:flex;align-items:baseline;gap:16px}"
	"header h1{font-size:20px;margin:0;font-weight:600}header h1 span{color:#7fd0ff}"
	"header .sub{color:#b9c2d0}"
	"main{padding:16px 22px}"
	".top{display:flex;flex-wrap:wrap;gap:16px;margin-bottom:18px}"
	".card{background:#fff;border:1px solid #dde1e7;border-radius:6px;padding:10px 14px;box-shadow:0 1px 2px rgba(0,0,0,.04)}"
	".card h3{margin:0 0 6px;font-size:13px;text-transform:uppercase;letter-spacing:.04em;color:#5b6577}"
	".card p{margin:2px 0}.card a{color:#0b63c5;text-decoration:none}.card a:hover{text-decoration:underline}"
	".legend td{padding:2px 8px;border-radius:3px}"
	".msg{padding:8px 14px;border-radius:6px;margin-bottom:14px;font-weight:600}"
	".msg.ok{background:#d8f5d0;border:1px solid #7cc66b}.msg.err{background:#ffe0e0;border:1px solid #e08080}"
	"table.px{border-collapse:collapse;margin:0 0 18px;background:#fff;box-shadow:0 1px 2px rgba(0,0,0,.06);min-width:60%}"
	"table.px th,table.px td{border:1px solid #d0d4da;padding:3px 7px;white-space:nowrap}"
	"table.px td.n{text-align:right;font-variant-numeric:tabular-nums}"
	"th.pxname{background:#b00040;color:#ffff40;text-align:left;font-size:14px;padding:5px 9px}"
	"th.pxname .mode{color:#ffd0e0;font-weight:normal;font-size:12px;margin-left:8px}"
	"th.pxname .desc{color:#fff;font-weight:normal;margin-left:12px}"
	"tr.titre th{background:#20d0d0;color:#000;font-weight:600}"
	"tr.frontend td,tr.backend td{background:#eef1f5;font-weight:600}"
	"tr.up td{background:#c0ffc0}tr.down td{background:#ff9090}tr.maint td{background:#d8b07a}"
	"tr.drain td{background:#b8b8ff}tr.nocheck td{background:#e6eaee}tr.backup.up td{background:#b0d0ff}"
	"tr.frontend.stop td,tr.backend.down td{background:#ff9090}"
	"td.st{font-weight:600}"
	"form .act{margin:-10px 0 18px;padding:6px 0}"
	"footer{color:#8a93a3;padding:0 22px 16px}";

struct html_ctx {
	struct cli_buf *out;
	const struct stats_view *v;
	const struct proxy *cur;    /* proxy whose table is open (NULL: a udp-lb section's) */
	bool open;                  /* a table is open */
	char cur_iid[24];           /* iid of the open table's rows */
	bool form;                  /* its table is inside an admin form */
	bool server_seen;
};

static void td_num(struct cli_buf *out, const char *v)
{
	cli_puts(out, "<td class=\"n\">");
	stats_html_esc(out, v);
	cli_puts(out, "</td>");
}

static void td_txt(struct cli_buf *out, const char *cls, const char *v)
{
	cli_printf(out, "<td%s%s%s>", cls ? " class=\"" : "", cls ? cls : "", cls ? "\"" : "");
	stats_html_esc(out, v);
	cli_puts(out, "</td>");
}

static void table_close(struct html_ctx *h)
{
	if (!h->open)
		return;
	cli_puts(h->out, "</tbody></table>\n");
	if (h->form) {
		cli_puts(h->out, "<div class=\"act\">Choose the action to perform on the checked servers : "
				 "<select name=\"action\"><option value=\"\"></option>"
				 "<option value=\"ready\">Set state to READY</option>"
				 "<option value=\"drain\">Set state to DRAIN</option>"
				 "<option value=\"maint\">Set state to MAINT</option>"
				 "<option value=\"shutdown\">Kill Sessions</option></select>"
				 "<input type=\"hidden\" name=\"b\" value=\"");
		stats_html_esc(h->out, h->cur->name);
		cli_puts(h->out, "\"> <input type=\"submit\" value=\"Apply\"></div></form>\n");
	}
	h->cur = NULL;
	h->open = false;
	h->form = false;
}

/* px NULL: a udp-lb section's table (no admin form: its servers have no
 * runtime state to set), named by the row. */
static void table_open(struct html_ctx *h, const struct proxy *px, const struct stat_row *r)
{
	struct cli_buf *o = h->out;
	bool admin = px && h->v->admin && (px->cap & PR_CAP_BE) && px->srv;
	const char *name = px ? px->name : F(r, C_PXNAME);

	h->cur = px;
	h->open = true;
	snprintf(h->cur_iid, sizeof(h->cur_iid), "%s", F(r, C_IID));
	h->form = admin;
	if (admin) {
		cli_puts(o, "<form method=\"post\" action=\"");
		stats_html_esc(o, h->v->base);
		cli_puts(o, "\">\n");
	}
	cli_puts(o, "<table class=\"px\" id=\"px-");
	stats_html_esc(o, name);
	cli_puts(o, "\" data-px=\"");
	stats_html_esc(o, name);
	cli_printf(o, "\" data-mode=\"%s\"><thead><tr><th class=\"pxname\" colspan=\"%d\"><a id=\"",
		   px ? (px->mode == PR_MODE_HTTP ? "http" : "tcp") : "udp", admin ? 20 : 19);
	stats_html_esc(o, name);
	cli_puts(o, "\"></a>");
	stats_html_esc(o, name);
	if (!px)
		cli_puts(o, "<span class=\"mode\">udp udp-lb</span>");
	else
		cli_printf(o, "<span class=\"mode\">%s %s</span>", px->mode == PR_MODE_HTTP ? "http" : "tcp",
			   (px->cap & (PR_CAP_FE | PR_CAP_BE)) == (PR_CAP_FE | PR_CAP_BE) ? "listen"
			   : px->cap & PR_CAP_FE ? "frontend" : "backend");
	if (px && px->description) {
		cli_puts(o, "<span class=\"desc\">");
		stats_html_esc(o, px->description);
		cli_puts(o, "</span>");
	}
	cli_puts(o, "</th></tr>\n<tr class=\"titre\">");
	if (admin)
		cli_puts(o, "<th rowspan=\"2\"></th>");
	cli_puts(o, "<th rowspan=\"2\"></th><th>Queue</th><th colspan=\"4\">Sessions</th><th colspan=\"2\">Bytes</th>"
		    "<th>Errors</th><th colspan=\"2\">Warnings</th><th colspan=\"8\">Server</th></tr>\n"
		    "<tr class=\"titre\"><th>Cur</th><th>Cur</th><th>Limit</th><th>Total</th><th>LbTot</th>"
		    "<th>In</th><th>Out</th><th>Conn</th><th>Retr</th><th>Redis</th><th>Status</th>"
		    "<th>LastChk</th><th>Wght</th><th>Act</th><th>Bck</th><th>Chk</th><th>Dwn</th><th>Addr</th></tr>"
		    "</thead><tbody>\n");
}

/* The class of a server row: active/backup and its state. */
static void srv_class(const struct stat_row *r, char *buf, size_t cap)
{
	const char *st = F(r, C_STATUS), *k;

	if (!strcmp(st, "UP"))
		k = "up";
	else if (!strcmp(st, "DOWN"))
		k = "down";
	else if (!strncmp(st, "MAINT", 5))  /* and "MAINT (resolution)" */
		k = "maint";
	else if (!strcmp(st, "DRAIN"))
		k = "drain";
	else
		k = "nocheck";
	snprintf(buf, cap, "srv %s %s", !strcmp(F(r, C_BCK), "1") ? "backup" : "active", k);
}

static void html_row(void *arg, const struct stat_row *r, const struct proxy *px, const struct server *s)
{
	struct html_ctx *h = arg;
	struct cli_buf *o = h->out;
	const char *sv = F(r, C_SVNAME), *st = F(r, C_STATUS);
	bool srv = !strcmp(F(r, C_TYPE), "2");
	bool fe = !strcmp(F(r, C_TYPE), "0");
	char cls[64];

	if (srv && h->v->up_only && strcmp(st, "UP") && strcmp(st, "no check"))
		return;
	if (!h->open || px != h->cur || strcmp(F(r, C_IID), h->cur_iid)) {
		table_close(h);
		table_open(h, px, r);
	}
	if (srv)
		srv_class(r, cls, sizeof(cls));
	else
		snprintf(cls, sizeof(cls), "%s %s", fe ? "frontend" : "backend",
			 !strcmp(st, "OPEN") || !strcmp(st, "UP") ? "up" : "stop");
	cli_printf(o, "<tr class=\"%s\" data-sv=\"", cls);
	stats_html_esc(o, sv);
	cli_puts(o, "\" data-status=\"");
	stats_html_esc(o, st);
	cli_puts(o, "\">");
	if (h->form) {
		if (srv) {
			cli_puts(o, "<td><input type=\"checkbox\" name=\"s\" value=\"");
			stats_html_esc(o, sv);
			cli_puts(o, "\"></td>");
		} else {
			cli_puts(o, "<td></td>");
		}
	}
	td_txt(o, "name", fe ? "Frontend" : srv ? sv : "Backend");
	td_num(o, F(r, C_QCUR));
	td_num(o, F(r, C_SCUR));
	td_num(o, F(r, C_SLIM));
	td_num(o, F(r, C_STOT));
	td_num(o, F(r, C_LBTOT));
	td_num(o, F(r, C_BIN));
	td_num(o, F(r, C_BOUT));
	td_num(o, F(r, C_ECON));
	td_num(o, F(r, C_WRETR));
	td_num(o, F(r, C_WREDIS));
	td_txt(o, "st", st);
	td_txt(o, NULL, F(r, C_LAST_CHK));
	td_num(o, F(r, C_WEIGHT));
	td_num(o, srv ? (strcmp(F(r, C_ACT), "1") ? "-" : "Y") : F(r, C_ACT));
	td_num(o, srv ? (strcmp(F(r, C_BCK), "1") ? "-" : "Y") : F(r, C_BCK));
	td_num(o, F(r, C_CHKFAIL));
	td_num(o, F(r, C_CHKDOWN));
	td_txt(o, NULL, F(r, C_ADDR));
	cli_puts(o, "</tr>\n");
}

static const char *admin_msg(const char *st, bool *ok)
{
	static const struct { const char *st; bool ok; const char *msg; } m[] = {
		{ "DONE", true, "Action processed successfully." },
		{ "PART", false, "Action not processed for every server: some of them failed." },
		{ "NONE", false, "Nothing has changed: no server was checked." },
		{ "DENY", false, "Action denied: this page does not allow server actions for you ('stats admin')." },
		{ "ERRP", false, "Action not processed because of invalid parameters." },
		{ "EXCD", false, "Action not processed: too many servers at once." },
		{ "UNKN", false, "Unexpected result: unknown action." },
	};

	for (size_t i = 0; i < ARRAY_SIZE(m); i++)
		if (!strcmp(st, m[i].st)) {
			*ok = m[i].ok;
			return m[i].msg;
		}
	*ok = false;
	return NULL;
}

static void legend(struct cli_buf *o)
{
	cli_puts(o, "<div class=\"card legend\"><h3>Legend</h3><table>"
		    "<tr><td style=\"background:#c0ffc0\">active UP</td><td style=\"background:#b0d0ff\">backup UP</td></tr>"
		    "<tr><td style=\"background:#ff9090\">DOWN</td><td style=\"background:#b8b8ff\">DRAIN (no new sessions)</td></tr>"
		    "<tr><td style=\"background:#d8b07a\">MAINT (set by the operator)</td><td style=\"background:#e6eaee\">no check</td></tr>"
		    "</table></div>\n");
}

void stats_page_html(struct cli_buf *out, const struct stats_view *v)
{
	const struct stats_px *sp = v->sp;
	struct html_ctx h = { .out = out, .v = v };
	char host[256] = "";
	const char *node;
	time_t now = time(NULL);
	struct tm tm;
	char date[64];

	cols_init();
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S UTC", &tm);
	node = sp->node ? sp->node : rt.conf && rt.conf->g.hostname ? rt.conf->g.hostname : NULL;
	if (!node) {
		gethostname(host, sizeof(host) - 1);
		node = host;
	}
	cli_puts(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
	if (sp->refresh_ms && !v->norefresh)
		cli_printf(out, "<meta http-equiv=\"refresh\" content=\"%lld\">",
			   (sp->refresh_ms + 999) / 1000);
	cli_puts(out, "<title>Statistics Report for decoyproxy");
	if (sp->show_node) {
		cli_puts(out, " on ");
		stats_html_esc(out, node);
	}
	cli_printf(out, "</title><style>%s</style></head><body>\n<header><h1>decoyproxy", page_css);
	if (!sp->hide_version)
		cli_printf(out, " <span>%s</span>", PACKAGE_VERSION);
	cli_printf(out, "</h1><div class=\"sub\">Statistics Report for pid %d", (int)getpid());
	if (sp->show_node) {
		cli_puts(out, " on ");
		stats_html_esc(out, node);
	}
	if (sp->show_desc && (sp->desc || sp->px->description)) {
		cli_puts(out, " &mdash; ");
		stats_html_esc(out, sp->desc ? sp->desc : sp->px->description);
	}
	cli_puts(out, "</div></header>\n<main>\n");
	if (v->done) {
		bool ok;
		const char *m = admin_msg(v->done, &ok);

		if (m)
			cli_printf(out, "<div class=\"msg %s\" id=\"admin-result\">%s <a href=\"", ok ? "ok" : "err", m);
		if (m) {
			stats_html_esc(out, v->base);
			cli_puts(out, "\">[X]</a></div>\n");
		}
	}
	cli_puts(out, "<div class=\"top\"><div class=\"card\"><h3>General process information</h3>");
	cli_printf(out, "<p>pid = %d, configuration generation %u</p>", (int)getpid(),
		   rt.conf ? rt.conf->generation : 0);
	cli_printf(out, "<p>system limits: maxconn = %u</p><p>current sessions = %u; total = %llu</p>", rt.maxconn,
		   rt.actconn + (rt.conf ? udp_flows_total(rt.conf) : 0),
		   pt_cnt_sum().cum_conn + (rt.conf ? udp_flows_cum(rt.conf) : 0));
	cli_printf(out, "<p>generated %s%s</p></div>\n", date, rt.stopping ? " &mdash; <b>stopping</b>" : "");
	if (sp->show_legends)
		legend(out);
	cli_puts(out, "<div class=\"card\"><h3>Display options</h3>");
	cli_puts(out, v->up_only ? "<p><a href=\"" : "<p><a href=\"");
	stats_html_esc(out, v->base);
	cli_puts(out, v->up_only ? "" : ";up");
	if (v->norefresh)
		cli_puts(out, ";norefresh");
	cli_puts(out, v->up_only ? "\">Show all servers</a></p>" : "\">Hide 'DOWN' servers</a></p>");
	if (sp->refresh_ms) {
		cli_puts(out, "<p><a href=\"");
		stats_html_esc(out, v->base);
		if (v->up_only)
			cli_puts(out, ";up");
		cli_puts(out, v->norefresh ? "\">Enable refresh</a></p>" : ";norefresh\">Disable refresh</a></p>");
	}
	cli_puts(out, "<p><a href=\"");
	stats_html_esc(out, v->base);
	if (v->up_only)
		cli_puts(out, ";up");
	if (v->norefresh)
		cli_puts(out, ";norefresh");
	cli_puts(out, "\">Refresh now</a></p><p><a href=\"");
	stats_html_esc(out, v->base);
	cli_puts(out, ";csv\">CSV export</a></p>");
	if (sp->prom_path) {
		cli_puts(out, "<p><a href=\"");
		stats_html_esc(out, sp->prom_path);
		cli_puts(out, "\">Prometheus metrics</a></p>");
	}
	cli_puts(out, "</div></div>\n");
	cli_stat_walk(html_row, &h);
	table_close(&h);
	cli_puts(out, "</main><footer>decoyproxy statistics page &middot; the same rows as <code>show stat</code> on the stats socket</footer></body></html>\n");
}

/* ---- Prometheus -------------------------------------------------------------- */

enum { R_FE = 1, R_BE = 2, R_SRV = 4 };

struct metric {
	const char *name;
	const char *type;           /* "gauge" or "counter" */
	int rows;                   /* R_* */
	int col;                    /* C_*, or -1 for the status family */
	const char *help;
};

static const struct metric metrics[] = {
	{ "haproxy_frontend_status", "gauge", R_FE, -1, "Current status of the service." },
	{ "haproxy_frontend_current_sessions", "gauge", R_FE, C_SCUR, "Number of current sessions." },
	{ "haproxy_frontend_limit_sessions", "gauge", R_FE, C_SLIM, "Configured session limit." },
	{ "haproxy_frontend_sessions_total", "counter", R_FE, C_STOT, "Total number of sessions." },
	{ "haproxy_frontend_bytes_in_total", "counter", R_FE, C_BIN, "Current total of incoming bytes." },
	{ "haproxy_frontend_bytes_out_total", "counter", R_FE, C_BOUT, "Current total of outgoing bytes." },
	{ "haproxy_frontend_connections_total", "counter", R_FE, C_CONN_TOT, "Total number of connections." },
	{ "haproxy_backend_status", "gauge", R_BE, -1, "Current status of the service." },
	{ "haproxy_backend_current_queue", "gauge", R_BE, C_QCUR, "Current number of queued requests." },
	{ "haproxy_backend_current_sessions", "gauge", R_BE, C_SCUR, "Number of current sessions." },
	{ "haproxy_backend_sessions_total", "counter", R_BE, C_STOT, "Total number of sessions." },
	{ "haproxy_backend_bytes_in_total", "counter", R_BE, C_BIN, "Current total of incoming bytes." },
	{ "haproxy_backend_bytes_out_total", "counter", R_BE, C_BOUT, "Current total of outgoing bytes." },
	{ "haproxy_backend_connection_errors_total", "counter", R_BE, C_ECON, "Total number of connection errors." },
	{ "haproxy_backend_retry_warnings_total", "counter", R_BE, C_WRETR, "Total number of retry warnings." },
	{ "haproxy_backend_redispatch_warnings_total", "counter", R_BE, C_WREDIS, "Total number of redispatch warnings." },
	{ "haproxy_backend_weight", "gauge", R_BE, C_WEIGHT, "Service weight." },
	{ "haproxy_backend_active_servers", "gauge", R_BE, C_ACT, "Current number of active servers." },
	{ "haproxy_backend_backup_servers", "gauge", R_BE, C_BCK, "Current number of backup servers." },
	{ "haproxy_backend_loadbalanced_total", "counter", R_BE, C_LBTOT, "Total number of times a service was selected, either for new sessions, or when redispatching." },
	{ "haproxy_backend_connection_attempts_total", "counter", R_BE, C_CONNECT, "Total number of connection establishment attempts." },
	{ "haproxy_server_status", "gauge", R_SRV, -1, "Current status of the service, per state label value." },
	{ "haproxy_server_current_queue", "gauge", R_SRV, C_QCUR, "Current number of queued requests." },
	{ "haproxy_server_current_sessions", "gauge", R_SRV, C_SCUR, "Number of current sessions." },
	{ "haproxy_server_limit_sessions", "gauge", R_SRV, C_SLIM, "Configured session limit." },
	{ "haproxy_server_sessions_total", "counter", R_SRV, C_STOT, "Total number of sessions." },
	{ "haproxy_server_bytes_in_total", "counter", R_SRV, C_BIN, "Current total of incoming bytes." },
	{ "haproxy_server_bytes_out_total", "counter", R_SRV, C_BOUT, "Current total of outgoing bytes." },
	{ "haproxy_server_connection_errors_total", "counter", R_SRV, C_ECON, "Total number of connection errors." },
	{ "haproxy_server_retry_warnings_total", "counter", R_SRV, C_WRETR, "Total number of retry warnings." },
	{ "haproxy_server_redispatch_warnings_total", "counter", R_SRV, C_WREDIS, "Total number of redispatch warnings." },
	{ "haproxy_server_weight", "gauge", R_SRV, C_WEIGHT, "Service weight." },
	{ "haproxy_server_check_failures_total", "counter", R_SRV, C_CHKFAIL, "Total number of failed individual health checks." },
	{ "haproxy_server_check_up_down_total", "counter", R_SRV, C_CHKDOWN, "Total number of failed checks causing UP to DOWN server transitions." },
	{ "haproxy_server_loadbalanced_total", "counter", R_SRV, C_LBTOT, "Total number of times a service was selected, either for new sessions, or when redispatching." },
	{ "haproxy_server_connection_attempts_total", "counter", R_SRV, C_CONNECT, "Total number of connection establishment attempts." },
};

struct prom_ctx {
	struct cli_buf *out;
	const struct metric *m;
};

/* A label value: backslash, double quote and line feed escaped. */
static void prom_label(struct cli_buf *o, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			cli_put(o, "\\", 1);
		if (*s == '\n')
			cli_puts(o, "\\n");
		else
			cli_put(o, s, 1);
	}
}

/* {proxy="..."[,server="..."][,<lname>="<lval>"]} */
static void prom_labels(struct cli_buf *o, const char *px, const char *sv, const char *lname, const char *lval)
{
	cli_puts(o, "{proxy=\"");
	prom_label(o, px);
	if (sv) {
		cli_puts(o, "\",server=\"");
		prom_label(o, sv);
	}
	if (lname)
		cli_printf(o, "\",%s=\"%s", lname, lval);
	cli_puts(o, "\"}");
}

static void prom_row(void *arg, const struct stat_row *r, const struct proxy *px, const struct server *s)
{
	struct prom_ctx *p = arg;
	const struct metric *m = p->m;
	const char *sv = F(r, C_SVNAME), *pxn = F(r, C_PXNAME), *v;
	const char *type = F(r, C_TYPE);
	int kind = !strcmp(type, "2") ? R_SRV : !strcmp(type, "0") ? R_FE : R_BE;
	const char *svl = kind == R_SRV ? sv : NULL;

	(void)px;
	(void)s;
	if (!(m->rows & kind))
		return;
	if (m->col < 0) {
		/* HAProxy's exporter: one sample per state, 1 for the current */
		static const char *const fe_st[] = { "DOWN", "UP", NULL };
		static const char *const srv_st[] = { "DOWN", "UP", "MAINT", "DRAIN", "NOLB", NULL };
		const char *st = F(r, C_STATUS), *cur;

		if (kind == R_SRV)
			cur = !strcmp(st, "no check") ? "UP" : !strncmp(st, "MAINT", 5) ? "MAINT" : st;
		else
			cur = !strcmp(st, "OPEN") || !strcmp(st, "FULL") || !strcmp(st, "UP") ? "UP" : "DOWN";
		for (const char *const *k = kind == R_SRV ? srv_st : fe_st; *k; k++) {
			cli_puts(p->out, m->name);
			prom_labels(p->out, pxn, svl, "state", *k);
			cli_printf(p->out, " %d\n", !strcmp(*k, cur));
		}
		return;
	}
	v = F(r, m->col);
	if (!*v)
		return;
	cli_puts(p->out, m->name);
	prom_labels(p->out, pxn, svl, NULL, NULL);
	cli_printf(p->out, " %s\n", v);
}

static void prom_head(struct cli_buf *o, const char *name, const char *type, const char *help)
{
	cli_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A metric without labels: its HELP and TYPE lines, then its value. */
static void prom_metric(struct cli_buf *o, const char *name, const char *type, unsigned long long v, const char *help)
{
	prom_head(o, name, type, help);
	cli_printf(o, "%s %llu\n", name, v);
}

/* One mirror output's drops, labelled with its name ("mirror pcap '/x'"). */
static void prom_mirror_output(void *arg, const char *name, unsigned long long packets, unsigned long long bytes,
			       unsigned long long drops)
{
	struct cli_buf *o = arg;

	(void)packets;
	(void)bytes;
	cli_printf(o, "decoyproxy_mirror_output_drops_total{output=\"");
	prom_label(o, name);
	cli_printf(o, "\"} %llu\n", drops);
}

void stats_page_metrics(struct cli_buf *out)
{
	unsigned long long drops = 0;

	cols_init();
	prom_head(out, "haproxy_process_build_info", "gauge", "Build info");
	cli_printf(out, "haproxy_process_build_info{version=\"decoyproxy %s\"} 1\n", PACKAGE_VERSION);
	prom_metric(out, "haproxy_process_max_connections", "gauge", rt.maxconn,
		    "Maximum number of concurrent connections.");
	prom_head(out, "haproxy_process_current_connections", "gauge", "Number of active sessions.");
	cli_printf(out, "haproxy_process_current_connections %u\n",
		   rt.actconn + (rt.conf ? udp_flows_total(rt.conf) : 0));
	prom_head(out, "haproxy_process_connections_total", "counter", "Total number of created sessions.");
	cli_printf(out, "haproxy_process_connections_total %llu\n",
		   pt_cnt_sum().cum_conn + (rt.conf ? udp_flows_cum(rt.conf) : 0));
	prom_head(out, "haproxy_process_stopping", "gauge", "Non zero means stopping in progress.");
	cli_printf(out, "haproxy_process_stopping %d\n", rt.stopping ? 1 : 0);
	for (size_t i = 0; i < ARRAY_SIZE(metrics); i++) {
		struct prom_ctx p = { .out = out, .m = &metrics[i] };

		prom_head(out, metrics[i].name, metrics[i].type, metrics[i].help);
		cli_stat_walk(prom_row, &p);
	}

	/* decoyproxy's own */
	prom_metric(out, "decoyproxy_config_generation", "gauge", rt.conf ? rt.conf->generation : 0,
		    "Configuration generation in service (1 at start, +1 per reload).");
	prom_head(out, "decoyproxy_frontend_decoy_entries", "gauge",
		  "Decoy address entries (addresses, ranges or ports) a frontend intercepts, per address family.");
	for (const struct proxy *px = rt.conf ? rt.conf->proxies : NULL; px; px = px->next) {
		const struct icpt_list *l = (px->cap & PR_CAP_FE) ? tproxy_fe_decoys(px) : NULL;

		if (!l)
			continue;
		cli_puts(out, "decoyproxy_frontend_decoy_entries");
		prom_labels(out, px->name, NULL, "family", "ipv4");
		cli_printf(out, " %zu\n", icpt_count(l, AF_INET));
		cli_puts(out, "decoyproxy_frontend_decoy_entries");
		prom_labels(out, px->name, NULL, "family", "ipv6");
		cli_printf(out, " %zu\n", icpt_count(l, AF_INET6));
	}
	prom_metric(out, "decoyproxy_segment_objects", "gauge", rt.conf ? netseg_plan_count(rt.conf) : (size_t)0,
		    "Objects (namespaces, links, addresses) of the network segment sections.");
	prom_metric(out, "decoyproxy_usesrc_client_collisions_total", "counter", RARE_GET(src_client_collisions),
		    "Server connections whose spoofed client address and port were already in use.");
	for (size_t i = 0; rt.conf && i < rt.conf->all_targets.n; i++)
		drops += __atomic_load_n(&rt.conf->all_targets.v[i]->drops, __ATOMIC_RELAXED);
	prom_metric(out, "decoyproxy_log_dropped_total", "counter", drops,
		    "Log lines dropped because a log target was full.");
	{
		/* the IDS copy (mirror lines, core/mirror.h) */
		struct mirror_stats ms;

		mirror_get_stats(&ms);
		prom_metric(out, "decoyproxy_mirror_sessions_total", "counter", ms.sessions,
			    "Sessions copied to the IDS outputs (mirror).");
		prom_metric(out, "decoyproxy_mirror_packets_total", "counter", ms.packets,
			    "Frames handed to the mirror outputs.");
		prom_metric(out, "decoyproxy_mirror_bytes_total", "counter", ms.bytes,
			    "Bytes of the frames handed to the mirror outputs.");
		prom_metric(out, "decoyproxy_mirror_drops_total", "counter", ms.drops,
			    "Frames a mirror output could not take (full queue, disk, gone device); never a stalled relay.");
		prom_head(out, "decoyproxy_mirror_output_drops_total", "counter", "Frames dropped, per mirror output.");
		mirror_foreach_output(prom_mirror_output, out);
	}
	prom_metric(out, "decoyproxy_stats_page_clients", "gauge", stats_http_count(),
		    "Connected clients of the statistics pages.");
	prom_metric(out, "decoyproxy_cli_clients", "gauge", cli_count(),
		    "Connected clients of the stats sockets.");
	{
		/* probe events (option log-probes, plumbing/probe.h) */
		struct probe_counters pc;
		static const enum probe_verdict vs[] = { PROBE_V_CONNECTION, PROBE_V_HALF_OPEN, PROBE_V_CLOSED, PROBE_V_SYN };

		probe_get_counters(&pc);
		prom_metric(out, "decoyproxy_probe_packets_total", "counter", pc.packets,
			    "Packets the kernel's probe rules logged to NFLOG and decoyproxy read.");
		prom_metric(out, "decoyproxy_probe_packets_bad_total", "counter", pc.bad,
			    "NFLOG packets that could not be parsed.");
		prom_metric(out, "decoyproxy_probe_packets_lost_total", "counter", pc.drops,
			    "Times the kernel dropped NFLOG packets because the socket buffer was full (ENOBUFS).");
		prom_head(out, "decoyproxy_probe_events_total", "counter",
			  "Probe events emitted (one per attacker, decoy and port per interval), by verdict.");
		for (size_t i = 0; i < ARRAY_SIZE(vs); i++)
			cli_printf(out, "decoyproxy_probe_events_total{verdict=\"%s\"} %llu\n", probe_verdict_name(vs[i]),
				   (unsigned long long)pc.verdict[vs[i]]);
		prom_metric(out, "decoyproxy_probe_scans_total", "counter", pc.scans,
			    "Scan summaries reported.");
		prom_metric(out, "decoyproxy_probe_suppressed_total", "counter", pc.suppressed,
			    "Probe packets folded into an event already emitted within its interval.");
		prom_metric(out, "decoyproxy_probe_table_evictions_total", "counter", pc.evictions,
			    "Probe table entries evicted because the table was full (counts may be low).");
	}
	{
		/* ICMP answers of decoys that are not local (plumbing/icmpans.h) */
		struct icmpans_counters ic;

		icmpans_get_counters(&ic);
		prom_head(out, "decoyproxy_decoy_answers_total", "counter",
			  "ICMP answers sent for decoys that are not local addresses, by type.");
		cli_printf(out, "decoyproxy_decoy_answers_total{type=\"port-unreachable\"} %llu\n",
			   (unsigned long long)ic.unreach);
		cli_printf(out, "decoyproxy_decoy_answers_total{type=\"echo-reply\"} %llu\n", (unsigned long long)ic.echo);
		prom_metric(out, "decoyproxy_decoy_answers_limited_total", "counter", ic.limited,
			    "ICMP errors not sent because of the rate limits (per destination, per namespace).");
		prom_metric(out, "decoyproxy_decoy_answers_ignored_total", "counter", ic.ignored,
			    "Packets handed over for an answer that a Linux host would not answer (malformed, fragments, bad sources).");
		prom_metric(out, "decoyproxy_decoy_answers_failed_total", "counter", ic.failed,
			    "Answers that could not be sent, and NFLOG overruns (ENOBUFS).");
	}
}
