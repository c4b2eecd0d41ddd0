/* cli_stat.c — the CLI's statistics: `show stat` (HAProxy 2.6's CSV, with
 * the columns decoyproxy has values for) and `show info` (process facts in
 * HAProxy's "Name: value" format, then decoyproxy's own).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "lib/addr.h"
#include "lib/thread.h"
#include "model/conf.h"
#include "model/proxy.h"
#include "model/server.h"
#include "model/udplb.h"
#include "log/log.h"
#include "core/channel.h"
#include "core/connect.h"
#include "core/loop.h"
#include "core/mirror.h"
#include "core/pipe.h"
#include "core/srvdyn.h"
#include "core/udp.h"
#include "ctl/cli.h"
#include "plumbing/icmpans.h"
#include "plumbing/probe.h"
#include "ctl/cli_int.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

/* ---- process facts ---------------------------------------------------------- */

static time_t start_wall;
static struct timespec start_mono;

void cli_note_start(void)
{
	if (start_wall)
		return;
	start_wall = time(NULL);
	clock_gettime(CLOCK_MONOTONIC, &start_mono);
}

static unsigned long long uptime_sec(void)
{
	struct timespec t;

	cli_note_start();
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec > start_mono.tv_sec ? (unsigned long long)(t.tv_sec - start_mono.tv_sec) : 0;
}

/* ---- show stat ------------------------------------------------------------- */

/* HAProxy 2.6's fixed CSV columns, in its order (management guide 9.1). */
static const char *const stat_cols[] = {
	"pxname", "svname", "qcur", "qmax", "scur", "smax", "slim", "stot", "bin", "bout",
	"dreq", "dresp", "ereq", "econ", "eresp", "wretr", "wredis", "status", "weight", "act",
	"bck", "chkfail", "chkdown", "lastchg", "downtime", "qlimit", "pid", "iid", "sid", "throttle",
	"lbtot", "tracked", "type", "rate", "rate_lim", "rate_max", "check_status", "check_code",
	"check_duration", "hrsp_1xx", "hrsp_2xx", "hrsp_3xx", "hrsp_4xx", "hrsp_5xx", "hrsp_other",
	"hanafail", "req_rate", "req_rate_max", "req_tot", "cli_abrt", "srv_abrt", "comp_in",
	"comp_out", "comp_byp", "comp_rsp", "lastsess", "last_chk", "last_agt", "qtime", "ctime",
	"rtime", "ttime", "agent_status", "agent_code", "agent_duration", "check_desc",
	"agent_desc", "check_rise", "check_fall", "check_health", "agent_rise", "agent_fall",
	"agent_health", "addr", "cookie", "mode", "algo", "conn_rate", "conn_rate_max", "conn_tot",
	"intercepted", "dcon", "dses", "wrew", "connect", "reuse", "cache_lookups", "cache_hits",
	"srv_icur", "src_ilim", "qtime_max", "ctime_max", "rtime_max", "ttime_max", "eint",
	"idle_conn_cur", "safe_conn_cur", "used_conn_cur", "need_conn_est", "uweight",
};

/* The columns decoyproxy has values for; the others stay empty. */
enum {
	ST_PXNAME = 0, ST_SVNAME = 1, ST_QCUR = 2, ST_SCUR = 4, ST_SLIM = 6, ST_STOT = 7,
	ST_BIN = 8, ST_BOUT = 9, ST_DREQ = 10, ST_DRESP = 11, ST_EREQ = 12, ST_ECON = 13, ST_WRETR = 15, ST_WREDIS = 16, ST_STATUS = 17,
	ST_WEIGHT = 18, ST_ACT = 19, ST_BCK = 20, ST_CHKFAIL = 21, ST_CHKDOWN = 22, ST_QLIMIT = 25, ST_PID = 26,
	ST_IID = 27, ST_SID = 28, ST_THROTTLE = 29, ST_LBTOT = 30, ST_TRACKED = 31, ST_TYPE = 32, ST_CHECK_STATUS = 36, ST_CHECK_CODE = 37,
	ST_CHECK_DURATION = 38, ST_LAST_CHK = 56, ST_LAST_AGT = 57, ST_AGENT_STATUS = 62, ST_AGENT_DURATION = 64,
	ST_CHECK_RISE = 67,
	ST_CHECK_FALL = 68, ST_CHECK_HEALTH = 69, ST_ADDR = 73, ST_MODE = 75, ST_ALGO = 76, ST_CONN_TOT = 79,
	ST_CONNECT = 84, ST_UWEIGHT = 99, ST_NCOLS = 100,
};

_Static_assert(ARRAY_SIZE(stat_cols) == ST_NCOLS, "one name per CSV column");

/* `show stat <px> <type> <sid>` type bits */
enum { STT_FE = 1, STT_BE = 2, STT_SRV = 4, STT_ALL = 7 };

struct stat_row {
	const char *v[ST_NCOLS];    /* NULL: empty field */
	char num[ST_NCOLS][24];
};

/* Where rows go: the CSV of `show stat`, or another reader of the rows
 * (cli_stat_walk(): the statistics page and its metrics). */
struct stat_sink {
	struct cli_buf *out, *line;          /* CSV */
	cli_stat_fn fn;                      /* or this */
	void *arg;
};

static void row_init_named(struct stat_row *r, const char *px, const char *mode, const char *sv,
			   unsigned iid, unsigned sid, int type)
{
	memset(r->v, 0, sizeof(r->v));
	r->v[ST_PXNAME] = px;
	r->v[ST_SVNAME] = sv;
	r->v[ST_MODE] = mode;
	r->v[ST_PID] = "1";
	snprintf(r->num[ST_IID], sizeof(r->num[0]), "%u", iid);
	r->v[ST_IID] = r->num[ST_IID];
	snprintf(r->num[ST_SID], sizeof(r->num[0]), "%u", sid);
	r->v[ST_SID] = r->num[ST_SID];
	snprintf(r->num[ST_TYPE], sizeof(r->num[0]), "%d", type);
	r->v[ST_TYPE] = r->num[ST_TYPE];
}

static void row_init(struct stat_row *r, const struct proxy *p, const char *sv, unsigned iid, unsigned sid, int type)
{
	row_init_named(r, p->name, p->mode == PR_MODE_HTTP ? "http" : "tcp", sv, iid, sid, type);
}

static void row_u(struct stat_row *r, int col, unsigned long long v)
{
	snprintf(r->num[col], sizeof(r->num[col]), "%llu", v);
	r->v[col] = r->num[col];
}

/* A field with ',', '"' or a line break is quoted, quotes doubled (the CSV
 * rules of the management guide); line breaks become spaces so that a row
 * stays one line. */
static void csv_put(struct cli_buf *line, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		cli_puts(line, s);
		return;
	}
	cli_put(line, "\"", 1);
	for (; *s; s++) {
		if (*s == '"')
			cli_put(line, "\"\"", 2);
		else if (*s == '\r' || *s == '\n')
			cli_put(line, " ", 1);
		else
			cli_put(line, s, 1);
	}
	cli_put(line, "\"", 1);
}

/* Every field is followed by a comma, the header's too, as HAProxy writes. */
static void row_emit(struct cli_buf *out, struct cli_buf *line, const struct stat_row *r)
{
	line->len = 0;
	for (int i = 0; i < ST_NCOLS; i++) {
		if (r->v[i])
			csv_put(line, r->v[i]);
		cli_put(line, ",", 1);
	}
	cli_put(line, "\n", 1);
	if (line->truncated)
		out->truncated = true;
	else
		cli_lines(out, line->data, line->len);
}

static void sink_emit(const struct stat_sink *k, const struct stat_row *r, const struct proxy *px,
		      const struct server *s)
{
	if (k->fn)
		k->fn(k->arg, r, px, s);
	else if (k->out && k->line)
		row_emit(k->out, k->line, r);
}

static void stat_header(struct cli_buf *out, struct cli_buf *line)
{
	line->len = 0;
	cli_put(line, "# ", 2);
	for (int i = 0; i < ST_NCOLS; i++) {
		cli_puts(line, stat_cols[i]);
		cli_put(line, ",", 1);
	}
	cli_put(line, "\n", 1);
	cli_lines(out, line->data, line->len);
}

static const char *fe_status(const struct proxy *fe)
{
	unsigned lim = rt_fe_maxconn(fe);

	if (fe->disabled || rt.stopping)
		return "STOP";
	if (rt.admin_paused)
		return "PAUSED";
	if (lim && fe->feconn >= lim)
		return "FULL";
	return "OPEN";
}

/* The administrative state first, then what checks say; without health
 * checks a ready server is "no check", as in HAProxy. */
static const char *srv_status(const struct server *s)
{
	if (s->rmaint && !(s->flags & SRV_F_DISABLED) && s->admin != SRV_ADMIN_MAINT)
		return "MAINT (resolution)";  /* HAProxy's: init-addr none */
	if (server_in_maint(s))
		return "MAINT";
	if (s->admin == SRV_ADMIN_DRAIN)
		return "DRAIN";
	if (!s->check && !s->agent_check && !s->track)  /* a tracking server has the tracked one's state */
		return "no check";
	return s->chk_up ? "UP" : "DOWN";
}

static const char *lb_name(int algo)
{
	switch (algo) {
	case LB_STATIC_RR: return "static-rr";
	case LB_LEASTCONN: return "leastconn";
	case LB_FIRST: return "first";
	case LB_SOURCE: return "source";
	default: return "roundrobin";
	}
}

/* Server address as configured: ip:port, ip alone when the client's port
 * is used, ip:+N / ip:-N for an offset. */
static void srv_addr_str(const struct server *s, char *buf, size_t cap)
{
	char ip[INET6_ADDRSTRLEN];
	bool v6 = s->addr.ss_family == AF_INET6;

	if (s->addr.ss_family == AF_UNIX) {
		/* as HAProxy's stats: no path */
		snprintf(buf, cap, "unix");
		return;
	}
	addr_ntop(&s->addr, ip, sizeof(ip));
	switch (s->port_mode) {
	case SRV_PORT_SAME:
		snprintf(buf, cap, "%s", ip);
		break;
	case SRV_PORT_OFFSET:
		snprintf(buf, cap, v6 ? "[%s]:%+d" : "%s:%+d", ip, s->port_offset);
		break;
	default:
		addr_str(&s->addr, buf, cap);
		break;
	}
}

static void stat_frontend(const struct stat_sink *k, const struct proxy *fe, unsigned iid)
{
	struct stat_row r;
	unsigned lim = rt_fe_maxconn(fe);
	const struct px_counters fc = px_cnt_sum(fe);

	row_init(&r, fe, "FRONTEND", iid, 0, 0);
	row_u(&r, ST_SCUR, fe->feconn);
	if (lim)
		row_u(&r, ST_SLIM, lim);
	row_u(&r, ST_STOT, fc.cum_fe);
	row_u(&r, ST_BIN, fc.bytes_in);
	row_u(&r, ST_BOUT, fc.bytes_out);
	r.v[ST_STATUS] = fe_status(fe);
	row_u(&r, ST_CONN_TOT, fc.cum_fe);
	sink_emit(k, &r, fe, NULL);
}

static void stat_server(const struct stat_sink *k, const struct server *s, unsigned iid, unsigned sid)
{
	struct stat_row r;
	char addr[INET6_ADDRSTRLEN + 16], tracked[256];
	bool backup = s->flags & SRV_F_BACKUP;
	const struct srv_counters sc = srv_cnt_sum(s);

	row_init(&r, s->px, s->name, iid, sid, 2);
	/* the backend queue's sessions bound to this server (balance source) */
	row_u(&r, ST_QCUR, s->nbpend);
	if (s->maxqueue)
		row_u(&r, ST_QLIMIT, s->maxqueue);
	row_u(&r, ST_SCUR, s->cur_conn);
	if (s->maxconn)
		row_u(&r, ST_SLIM, s->maxconn);
	row_u(&r, ST_STOT, sc.cum_conn);
	row_u(&r, ST_BIN, sc.bytes_in);
	row_u(&r, ST_BOUT, sc.bytes_out);
	row_u(&r, ST_ECON, sc.failed_conns);
	row_u(&r, ST_WRETR, sc.retries);
	row_u(&r, ST_WREDIS, sc.redispatches);
	r.v[ST_STATUS] = srv_status(s);
	/* as HAProxy: weight is the effective weight (slowstart), uweight the
	 * user's; throttle the slowstart ramp while it runs */
	row_u(&r, ST_WEIGHT, srv_cur_eweight(s));
	if (s->warming && server_usable(s) && srvdyn_ramp_pct(s, ev_now(rt.loop)) < 100)
		row_u(&r, ST_THROTTLE, srvdyn_ramp_pct(s, ev_now(rt.loop)));
	if (s->track) {
		snprintf(tracked, sizeof(tracked), "%s/%s", s->track->px->name, s->track->name);
		r.v[ST_TRACKED] = tracked;
	}
	row_u(&r, ST_ACT, backup ? 0 : 1);
	row_u(&r, ST_BCK, backup ? 1 : 0);
	if (s->check) {
		row_u(&r, ST_CHKFAIL, sc.chk_failed);
		row_u(&r, ST_CHKDOWN, sc.chk_down_transitions);
		if (s->chk_last[0])
			r.v[ST_LAST_CHK] = s->chk_last;
		if (s->chk_st[0]) {
			r.v[ST_CHECK_STATUS] = s->chk_st;
			row_u(&r, ST_CHECK_DURATION, (unsigned long long)s->chk_dur);
		}
		if (s->chk_code)
			row_u(&r, ST_CHECK_CODE, (unsigned long long)s->chk_code);
		row_u(&r, ST_CHECK_RISE, s->chk_rise);
		row_u(&r, ST_CHECK_FALL, s->chk_fall);
		row_u(&r, ST_CHECK_HEALTH, s->chk_health);
	}
	if (s->agent_st[0]) {
		r.v[ST_AGENT_STATUS] = s->agent_st;
		r.v[ST_LAST_AGT] = s->agent_last;
		row_u(&r, ST_AGENT_DURATION, (unsigned long long)s->agent_dur);
	}
	row_u(&r, ST_LBTOT, sc.cum_conn);
	srv_addr_str(s, addr, sizeof(addr));
	r.v[ST_ADDR] = addr;
	row_u(&r, ST_CONNECT, sc.cum_conn + sc.retries);
	row_u(&r, ST_UWEIGHT, s->weight);
	sink_emit(k, &r, s->px, s);
}

static void stat_backend(const struct stat_sink *k, const struct proxy *be, unsigned iid)
{
	unsigned act = 0, bck = 0, act_w = 0, bck_w = 0, all_w = 0;
	unsigned long long econ = 0, wretr = 0, wredis = 0, lbtot = 0, connect = 0;
	struct stat_row r;
	const struct px_counters bc = px_cnt_sum(be);

	for (const struct server *s = be->srv; s; s = s->next) {
		bool backup = s->flags & SRV_F_BACKUP;
		const struct srv_counters sc = srv_cnt_sum(s);

		if (server_usable(s)) {
			*(backup ? &bck : &act) += 1;
			*(backup ? &bck_w : &act_w) += srv_cur_eweight(s);
		}
		all_w += s->weight;
		econ += sc.failed_conns;
		wretr += sc.retries;
		wredis += sc.redispatches;
		lbtot += sc.cum_conn;
		connect += sc.cum_conn + sc.retries;
	}
	row_init(&r, be, "BACKEND", iid, 0, 1);
	row_u(&r, ST_QCUR, be->nbpend);
	row_u(&r, ST_SCUR, be->beconn);
	row_u(&r, ST_STOT, bc.cum_be);
	row_u(&r, ST_BIN, bc.bytes_in);
	row_u(&r, ST_BOUT, bc.bytes_out);
	row_u(&r, ST_ECON, econ);
	row_u(&r, ST_WRETR, wretr);
	row_u(&r, ST_WREDIS, wredis);
	r.v[ST_STATUS] = act || bck ? "UP" : "DOWN";
	/* backups carry the traffic only when no active server is usable */
	row_u(&r, ST_WEIGHT, act ? act_w : bck_w);
	row_u(&r, ST_ACT, act);
	row_u(&r, ST_BCK, bck);
	row_u(&r, ST_LBTOT, lbtot);
	r.v[ST_ALGO] = lb_name(be->lbalgo);
	row_u(&r, ST_CONNECT, connect);
	row_u(&r, ST_UWEIGHT, all_w);
	sink_emit(k, &r, be, NULL);
}

struct stat_filter {
	const struct proxy *px;     /* NULL: every proxy */
	const struct udp_lb *ulb;   /* a udp-lb section alone (px NULL) */
	int types;                  /* STT_* */
	long sid;                   /* -1: every server */
	bool up_only, no_maint;
};

/* The udp-lb section of iid (numbered after the proxies, as show stat
 * lists them), or NULL. */
static const struct udp_lb *udp_by_iid(long iid)
{
	long n = 1;

	for (const struct proxy *px = rt.conf ? rt.conf->proxies : NULL; px; px = px->next)
		n++;
	for (const struct udp_lb *lb = udplb_first(rt.conf); lb; lb = lb->next, n++)
		if (n == iid)
			return lb;
	return NULL;
}

static int parse_int_arg(const char *s, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (!*s || *end || errno || v < -1 || v > 0x7fffffffL)
		return -EINVAL;
	*out = v;
	return 0;
}

/* show stat [{<iid>|<proxy>} <type> <sid>] [up|no-maint]. Returns false
 * after answering the error. */
static bool stat_parse_filter(int argc, char **argv, struct stat_filter *f, struct cli_buf *out)
{
	int i = 2;

	f->px = NULL;
	f->ulb = NULL;
	f->types = STT_ALL;
	f->sid = -1;
	f->up_only = f->no_maint = false;
	if (argc - i >= 3 && strcmp(argv[i], "up") && strcmp(argv[i], "no-maint")) {
		long t, sid, iid;
		char ref[24];

		if (parse_int_arg(argv[i + 1], &t) < 0 || parse_int_arg(argv[i + 2], &sid) < 0) {
			cli_printf(out, "show stat: <type> and <sid> must be integers (-1 for all).\n");
			return false;
		}
		if (strcmp(argv[i], "-1")) {
			/* a number is a proxy id, anything else a name */
			bool numeric = parse_int_arg(argv[i], &iid) == 0;

			snprintf(ref, sizeof(ref), "#%ld", numeric ? iid : 0L);
			f->px = cli_proxy_by_ref(numeric ? ref : argv[i], PR_CAP_FE | PR_CAP_BE);
			if (!f->px)
				f->ulb = numeric ? udp_by_iid(iid) : udplb_find(rt.conf, argv[i]);
			if (!f->px && !f->ulb) {
				cli_printf(out, "No such proxy.\n");
				return false;
			}
		}
		f->types = t == -1 ? STT_ALL : (int)(t & STT_ALL);
		f->sid = sid;
		i += 3;
	}
	for (; i < argc; i++) {
		if (!strcmp(argv[i], "up")) {
			f->up_only = true;
		} else if (!strcmp(argv[i], "no-maint")) {
			f->no_maint = true;
		} else if (!strcmp(argv[i], "typed") || !strcmp(argv[i], "json") || !strcmp(argv[i], "desc")) {
			cli_printf(out, "show stat: '%s' output is not supported (CSV only).\n", argv[i]);
			return false;
		} else {
			cli_printf(out, "show stat: unexpected word '%s'; usage: show stat [{<iid>|<proxy>} <type> <sid>] [up|no-maint]\n",
				   argv[i]);
			return false;
		}
	}
	return true;
}

static bool stat_show_server(const struct stat_filter *f, const struct server *s, unsigned sid)
{
	if (!(f->types & STT_SRV) || (f->sid >= 0 && (unsigned long)f->sid != sid))
		return false;
	if (f->up_only && !server_usable(s))
		return false;
	return !(f->no_maint && server_in_maint(s));
}

/* udp-lb sections (mode "udp"), after the proxies (their iids follow the
 * proxies'): a FRONTEND row (scur: flows alive, slim: maxconn, stot: flows
 * so far, dreq: datagrams of flows refused at maxconn, dresp: replies held
 * back by udp-reply-limit, ereq: bad datagrams and socket errors), one row
 * per server (scur: its flows alive, stot: flows, bin/bout: payload bytes
 * each way, its check state) and a BACKEND row. The rows reach every sink
 * (CSV, the page's HTML and /metrics) with no proxy nor server object. */
static const char *udp_srv_status(const struct udp_server *s)
{
	if (s->disabled)
		return "MAINT";
	if (!s->check)
		return "no check";
	return s->chk_up ? "UP" : "DOWN";
}

static void stat_udp_server(const struct stat_sink *k, const struct udp_lb *lb, const struct udp_server *s,
			    unsigned iid, unsigned sid)
{
	char addr[INET6_ADDRSTRLEN + 16];
	struct stat_row r;

	row_init_named(&r, lb->name, "udp", s->name, iid, sid, 2);
	row_u(&r, ST_QCUR, 0);
	row_u(&r, ST_SCUR, s->cur_flows);
	row_u(&r, ST_STOT, s->cnt.flows);
	row_u(&r, ST_BIN, s->cnt.bytes_in);
	row_u(&r, ST_BOUT, s->cnt.bytes_out);
	r.v[ST_STATUS] = udp_srv_status(s);
	row_u(&r, ST_WEIGHT, 1);
	row_u(&r, ST_ACT, 1);
	row_u(&r, ST_BCK, 0);
	if (s->check) {
		row_u(&r, ST_CHKFAIL, s->cnt.chk_failed);
		row_u(&r, ST_CHKDOWN, s->cnt.chk_down);
		if (s->chk_desc[0])
			r.v[ST_LAST_CHK] = s->chk_desc;
		if (s->chk_st[0]) {
			r.v[ST_CHECK_STATUS] = s->chk_st;
			row_u(&r, ST_CHECK_DURATION, (unsigned long long)s->chk_dur);
		}
		row_u(&r, ST_CHECK_RISE, s->chk_rise);
		row_u(&r, ST_CHECK_FALL, s->chk_fall);
		row_u(&r, ST_CHECK_HEALTH, s->chk_health);
	}
	if (s->no_port)
		addr_ntop(&s->addr, addr, sizeof(addr));
	else
		addr_str(&s->addr, addr, sizeof(addr));
	r.v[ST_ADDR] = addr;
	row_u(&r, ST_LBTOT, s->cnt.flows);
	row_u(&r, ST_UWEIGHT, 1);
	sink_emit(k, &r, NULL, NULL);
}

static void stat_udp(const struct stat_filter *f, const struct stat_sink *k, unsigned iid)
{
	for (const struct udp_lb *lb = udplb_first(rt.conf); lb && !(k->out && k->out->truncated);
	     lb = lb->next, iid++) {
		struct udp_lb_stats st;
		struct stat_row r;
		unsigned sid = 1, act = 0;

		if (f->ulb && f->ulb != lb)
			continue;
		udp_lb_stats(lb, &st);
		for (const struct udp_server *s = lb->srv; s; s = s->next)
			act += udplb_srv_usable(s);
		if ((f->types & STT_FE) && f->sid <= 0) {
			row_init_named(&r, lb->name, "udp", "FRONTEND", iid, 0, 0);
			row_u(&r, ST_SCUR, st.flows);
			row_u(&r, ST_SLIM, lb->maxconn);
			row_u(&r, ST_STOT, lb->cnt.flows);
			row_u(&r, ST_BIN, lb->cnt.bytes_in);
			row_u(&r, ST_BOUT, lb->cnt.bytes_out);
			row_u(&r, ST_DREQ, lb->cnt.flows_refused);
			row_u(&r, ST_DRESP, lb->cnt.replies_dropped);
			row_u(&r, ST_EREQ, lb->cnt.errors);
			r.v[ST_STATUS] = st.sockets ? (st.flows >= lb->maxconn ? "FULL" : "OPEN") : "STOP";
			row_u(&r, ST_CONN_TOT, lb->cnt.flows);
			sink_emit(k, &r, NULL, NULL);
		}
		for (const struct udp_server *s = lb->srv; s && (f->types & STT_SRV); s = s->next, sid++) {
			if (f->sid >= 0 && (unsigned long)f->sid != sid)
				continue;
			if (f->up_only && !udplb_srv_usable(s))
				continue;
			if (f->no_maint && s->disabled)
				continue;
			stat_udp_server(k, lb, s, iid, sid);
		}
		if ((f->types & STT_BE) && f->sid <= 0) {
			row_init_named(&r, lb->name, "udp", "BACKEND", iid, 0, 1);
			row_u(&r, ST_QCUR, 0);
			row_u(&r, ST_SCUR, st.flows);
			row_u(&r, ST_STOT, lb->cnt.flows);
			row_u(&r, ST_BIN, lb->cnt.bytes_in);
			row_u(&r, ST_BOUT, lb->cnt.bytes_out);
			r.v[ST_STATUS] = act ? "UP" : "DOWN";
			row_u(&r, ST_WEIGHT, act);
			row_u(&r, ST_ACT, act);
			row_u(&r, ST_BCK, 0);
			row_u(&r, ST_LBTOT, lb->cnt.flows);
			r.v[ST_ALGO] = lb->balance == UDPLB_BALANCE_SOURCE ? "source" : "roundrobin";
			row_u(&r, ST_UWEIGHT, lb->nsrv);
			sink_emit(k, &r, NULL, NULL);
		}
	}
}

/* Every row the filter lets through, in HAProxy's order: per proxy, its
 * frontend, its servers, its backend. Stops early once a CSV is cut. */
static void stat_walk(const struct stat_filter *f, const struct stat_sink *k)
{
	unsigned iid = 1;

	for (const struct proxy *px = rt.conf ? rt.conf->proxies : NULL; px && !(k->out && k->out->truncated);
	     px = px->next, iid++) {
		unsigned sid = 1;

		if ((f->px && f->px != px) || f->ulb)
			continue;
		if ((px->cap & PR_CAP_FE) && (f->types & STT_FE) && f->sid <= 0)
			stat_frontend(k, px, iid);
		if (!(px->cap & PR_CAP_BE))
			continue;
		for (const struct server *s = px->srv; s; s = s->next, sid++)
			if (stat_show_server(f, s, sid))
				stat_server(k, s, iid, sid);
		if ((f->types & STT_BE) && f->sid <= 0)
			stat_backend(k, px, iid);
	}
	if (!f->px && !(k->out && k->out->truncated))
		stat_udp(f, k, iid);
}

void cli_cmd_show_stat(struct cli_ctx *cx, int argc, char **argv, struct cli_buf *out)
{
	struct cli_buf line = { 0 };
	struct stat_filter f;
	struct stat_sink k = { .out = out, .line = &line };

	if (!stat_parse_filter(argc, argv, &f, out))
		return;
	stat_header(out, &line);
	stat_walk(&f, &k);
	cli_buf_reset(&line);
}

void cli_stat_csv(struct cli_buf *out, bool up_only)
{
	struct cli_buf line = { 0 };
	struct stat_filter f = { .px = NULL, .types = STT_ALL, .sid = -1, .up_only = up_only };
	struct stat_sink k = { .out = out, .line = &line };

	stat_header(out, &line);
	stat_walk(&f, &k);
	cli_buf_reset(&line);
}

void cli_stat_walk(cli_stat_fn fn, void *arg)
{
	struct stat_filter f = { .px = NULL, .types = STT_ALL, .sid = -1 };
	struct stat_sink k = { .fn = fn, .arg = arg };

	stat_walk(&f, &k);
}

int cli_stat_col(const char *name)
{
	for (int i = 0; i < ST_NCOLS; i++)
		if (!strcmp(stat_cols[i], name))
			return i;
	return -1;
}

const char *cli_stat_field(const struct stat_row *r, int col)
{
	return col >= 0 && col < ST_NCOLS ? r->v[col] : NULL;
}

/* ---- clear counters ------------------------------------------------------------ */

/* `clear counters all` (admin): every cumulated counter of every proxy and
 * server (every thread's slot) back to zero, as after a restart. The
 * process totals of `show info` (CumConns, ...) stay, and so do the udp-lb
 * sections' counters: their flow count numbers the flows and feeds
 * CumConns.
 * A worker adding to its own slot while its slot is cleared may keep its
 * count of that instant (one load and store, as HAProxy's). `clear
 * counters` alone clears HAProxy's maximum values, which decoyproxy does
 * not keep: it says so. */
void cli_cmd_clear_counters(struct cli_ctx *cx, int argc, char **argv, struct cli_buf *out)
{
	if (argc < 3) {
		cli_printf(out, "decoyproxy keeps no maximum values (smax, qmax, rate_max): nothing to clear; "
				"'clear counters all' resets the cumulated counters.\n");
		return;
	}
	if (argc > 3 || strcmp(argv[2], "all")) {
		cli_printf(out, "'clear counters' only accepts 'all'.\n");
		return;
	}
	if (cx->level < CLI_LVL_ADMIN) {
		cli_printf(out, "Permission denied\n");
		return;
	}
	for (struct proxy *px = rt.conf ? rt.conf->proxies : NULL; px; px = px->next) {
		cnt_slots_clear(px->cnt, sizeof(px->cnt[0]), sizeof(px->cnt[0].v));
		for (struct server *s = px->srv; s; s = s->next)
			cnt_slots_clear(s->cnt, sizeof(s->cnt[0]), sizeof(s->cnt[0].v));
	}
}

/* ---- show info ---------------------------------------------------------------- */

static unsigned long long dropped_logs(const struct dp_config *c)
{
	unsigned long long n = 0;

	for (size_t i = 0; c && i < c->all_targets.n; i++)
		n += __atomic_load_n(&c->all_targets.v[i]->drops, __ATOMIC_RELAXED);
	return n;
}

void cli_cmd_show_info(struct cli_ctx *cx, int argc, char **argv, struct cli_buf *out)
{
	unsigned long long up = uptime_sec();
	struct rlimit rl = { 0 };
	char host[256] = "";
	const char *node;

	if (argc > 2) {
		cli_printf(out, "show info: '%s' is not supported (only the default 'Name: value' format).\n", argv[2]);
		return;
	}
	getrlimit(RLIMIT_NOFILE, &rl);
	node = rt.conf && rt.conf->g.hostname ? rt.conf->g.hostname : NULL;
	if (!node) {
		gethostname(host, sizeof(host) - 1);
		node = host;
	}
	/* HAProxy's field names and order, for the fields that exist here */
	cli_printf(out, "Name: decoyproxy\nVersion: %s\nNbthread: %u\nNbproc: 1\nProcess_num: 1\nPid: %d\n",
		   PACKAGE_VERSION, dp_nbthread, (int)getpid());
	cli_printf(out, "Uptime: %llud %lluh%02llum%02llus\nUptime_sec: %llu\n", up / 86400, up / 3600 % 24,
		   up / 60 % 60, up % 60, up);
	cli_printf(out, "Ulimit-n: %llu\nMaxconn: %u\nHard_maxconn: %u\nCurrConns: %u\nCumConns: %llu\n",
		   (unsigned long long)rl.rlim_cur, rt.maxconn, rt.maxconn,
		   /* udp-lb flows are connections too */
		   rt.actconn + (rt.conf ? udp_flows_total(rt.conf) : 0),
		   pt_cnt_sum().cum_conn + (rt.conf ? udp_flows_cum(rt.conf) : 0));
	cli_printf(out, "Maxpipes: %u\nPipesUsed: %u\nPipesFree: %u\n", pipe_cfg.maxpipes, pipe_used(),
		   pipe_free_count());
	cli_printf(out, "node: %s\nStopping: %d\nListeners: %zu\nDroppedLogs: %llu\n", node, rt.stopping ? 1 : 0,
		   rt.conf ? dp_config_count_listeners(rt.conf) : (size_t)0, dropped_logs(rt.conf));
	cli_printf(out, "PoolAlloc_bytes: %zu\nPoolUsed_bytes: %zu\nStart_time_sec: %lld\n",
		   pump_pool_allocated() * PUMP_BUFSIZE, pump_pool_in_use() * PUMP_BUFSIZE, (long long)start_wall);
	/* decoyproxy's own, after HAProxy's */
	cli_printf(out, "Generation: %u\n", rt.conf ? rt.conf->generation : 0);
	cli_printf(out, "UsesrcClientCollisions: %llu\n", RARE_GET(src_client_collisions));
	{
		struct mirror_stats ms;

		mirror_get_stats(&ms);
		cli_printf(out, "MirrorSessions: %llu\nMirrorPackets: %llu\nMirrorBytes: %llu\nMirrorDrops: %llu\n",
			   ms.sessions, ms.packets, ms.bytes, ms.drops);
		cli_printf(out, "MirrorTeeBytes: %llu\nMirrorTeeFailures: %llu\n", ms.tee_bytes, ms.tee_failures);
	}
	cli_printf(out, "PipesRefused: %llu\n", pipe_refused());
	cli_printf(out, "PipesLarge: %u\n", pipe_large_count());
	cli_printf(out, "UdpFlows: %u\n", rt.conf ? udp_flows_total(rt.conf) : 0);
	{
		struct probe_counters pc;

		probe_get_counters(&pc);
		cli_printf(out, "ProbePackets: %llu\nProbePacketsBad: %llu\nProbePacketsLost: %llu\n",
			   (unsigned long long)pc.packets, (unsigned long long)pc.bad, (unsigned long long)pc.drops);
		cli_printf(out, "ProbeEvents: %llu\nProbeConnections: %llu\nProbeHalfOpen: %llu\nProbeClosed: %llu\n"
			   "ProbeSynOnly: %llu\n", (unsigned long long)pc.probes,
			   (unsigned long long)pc.verdict[PROBE_V_CONNECTION], (unsigned long long)pc.verdict[PROBE_V_HALF_OPEN],
			   (unsigned long long)pc.verdict[PROBE_V_CLOSED], (unsigned long long)pc.verdict[PROBE_V_SYN]);
		cli_printf(out, "ProbeScans: %llu\nProbeSuppressed: %llu\nProbeEvictions: %llu\n",
			   (unsigned long long)pc.scans, (unsigned long long)pc.suppressed,
			   (unsigned long long)pc.evictions);
	}
	{
		struct icmpans_counters ic;

		icmpans_get_counters(&ic);
		cli_printf(out, "DecoyAnswersUnreach: %llu\nDecoyAnswersEcho: %llu\nDecoyAnswersLimited: %llu\n"
			   "DecoyAnswersIgnored: %llu\nDecoyAnswersFailed: %llu\n", (unsigned long long)ic.unreach,
			   (unsigned long long)ic.echo, (unsigned long long)ic.limited, (unsigned long long)ic.ignored,
			   (unsigned long long)ic.failed);
	}
}


/* ---- show mirror ---------------------------------------------------------------- */

static void mirror_line(void *arg, const char *name, unsigned long long packets, unsigned long long bytes,
			unsigned long long drops)
{
	cli_printf(arg, "%s packets=%llu bytes=%llu drops=%llu\n", name, packets, bytes, drops);
}

void cli_cmd_show_mirror(struct cli_ctx *cx, int argc, char **argv, struct cli_buf *out)
{
	(void)cx;
	if (argc > 2) {
		cli_printf(out, "show mirror: unexpected word '%s'; usage: show mirror\n", argv[2]);
		return;
	}
	mirror_foreach_output(mirror_line, out);
}
