/* stats.c — the stats socket: HAProxy's command line interface on unix and
 * TCP sockets.
 *
 * Three layers, each usable without the next:
 *   - keywords: `stats socket|timeout|maxconn` fill a generation's stats_conf;
 *   - the interpreter: stats_exec_line() turns one input line into answers
 *     in a stats_buf, reading the running configuration and the sessions;
 *   - the sockets: listening sockets belong to a configuration generation
 *     (a reload takes them over, so they never stop answering); CLI clients
 *     belong to the process and survive reloads. A client reads while its
 *     line buffer has room but interprets a line only once the previous
 *     answer is fully written: a slow reader of a huge `show sess` costs one
 *     capped answer of memory and never blocks the event loop.
 *
 * Behaviour follows HAProxy 2.6's management guide (section 9.3) and what its
 * CLI answers: every answer ends with an empty line, `prompt` toggles the
 * interactive mode, several commands per line are separated by ';', refused
 * commands answer "Permission denied", unknown ones the list of commands.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

#include "lib/addr.h"
#include "cfg/cfg.h"
#include "model/conf.h"
#include "log/log.h"
#include "plumbing/netseg.h"
#include "model/proxy.h"
#include "core/channel.h"
#include "core/loop.h"
#include "model/server.h"
#include "core/sess.h"
#include "core/connect.h"
#include "ctl/cli.h"
#include "plumbing/tproxy.h"
#include "log/msg.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

#define STATS_DEFAULT_TIMEOUT_MS 10000   /* HAProxy's default `stats timeout` */
#define STATS_DEFAULT_MAXCONN    10      /* HAProxy's default `stats maxconn` */
#define STATS_DEFAULT_MODE       0600    /* unix socket mode without `mode` */
#define STATS_MAX_MAXCONN        100000
#define STATS_BACKLOG            64
#define STATS_ACCEPT_BURST       16      /* accepts per wakeup */
#define STATS_MAX_WORDS          64
#define STATS_PAUSE_S            0.1     /* accept pause after EMFILE/ENFILE */
#define STATS_WRITE_BURST        16      /* send() calls per wakeup */
#define STATS_RELOAD_LOG_MAX     65536   /* messages quoted in a reload answer */

int (*stats_reload_hook)(char **msg);

/* ---- configuration ------------------------------------------------------- */

/* One `stats socket` line. */
struct stats_bind {
	struct stats_bind *next;
	char *spec;                 /* the address word as written, for messages */
	char *path;                 /* unix socket path; NULL for TCP */
	struct sockaddr_storage addr; /* TCP address */
	int level;                  /* STATS_LVL_* given to accepted clients */
	int mode;                   /* unix socket file mode */
	uid_t uid;
	gid_t gid;
	bool have_uid, have_gid;
	int fd;                     /* -1 while closed */
	ev_io io;
	struct stats_bind *taken_from; /* during stats_open: oldc's bind whose fd we hold */
	bool have_ino;              /* dev/ino identify the socket file created here */
	dev_t dev;
	ino_t ino;
};

struct stats_conf {
	struct conf_ext ext;        /* in the generation (model/conf.h) */
	struct stats_bind *binds, *last;
	long long timeout_ms;
	unsigned maxconn;
};

static void conf_ext_free_cb(struct dp_config *c, struct conf_ext *e);
static const struct conf_ext_ops stats_ext_ops = { "stats", conf_ext_free_cb };

/* c's `stats` settings, or NULL when it has none. */
static struct stats_conf *conf_of(const struct dp_config *c)
{
	struct conf_ext *e = conf_ext_find(c, &stats_ext_ops);

	return e ? container_of(e, struct stats_conf, ext) : NULL;
}

static struct stats_conf *conf_get(struct dp_config *c)
{
	struct stats_conf *sc = conf_of(c);

	if (sc)
		return sc;
	sc = calloc(1, sizeof(*sc));
	if (!sc)
		return NULL;
	sc->ext.ops = &stats_ext_ops;
	sc->timeout_ms = STATS_DEFAULT_TIMEOUT_MS;
	sc->maxconn = STATS_DEFAULT_MAXCONN;
	conf_ext_add(c, &sc->ext);
	return sc;
}

static long long conf_timeout_ms(const struct dp_config *c)
{
	return conf_of(c) ? conf_of(c)->timeout_ms : STATS_DEFAULT_TIMEOUT_MS;
}

static unsigned conf_maxconn(const struct dp_config *c)
{
	return conf_of(c) ? conf_of(c)->maxconn : STATS_DEFAULT_MAXCONN;
}

static const char *const level_names[] = { NULL, "user", "operator", "admin" };

static int level_by_name(const char *s)
{
	for (int i = STATS_LVL_USER; i <= STATS_LVL_ADMIN; i++)
		if (!strcmp(s, level_names[i]))
			return i;
	return -1;
}

static void bind_free(struct stats_bind *b)
{
	free(b->spec);
	free(b->path);
	free(b);
}

/* Where the socket lives: "unix@<path>" or a path starting with '/' or '.'
 * is a unix socket, otherwise an [ipv4@|ipv6@]address:port. */
static int bind_set_addr(struct stats_bind *b, const char *s, char **err)
{
	struct sockaddr_un sun;
	struct addr_spec as;
	const char *path = NULL;
	char *e = NULL;

	if (!strncmp(s, "unix@", 5))
		path = s + 5;
	else if (s[0] == '/' || s[0] == '.')
		path = s;
	else if (!strncmp(s, "abns@", 5) || !strncmp(s, "fd@", 3) || !strncmp(s, "sockpair@", 9)) {
		memprintf(err, "socket '%s': only unix socket paths and ipv4@/ipv6@ TCP addresses are supported", s);
		return -EINVAL;
	}
	if (path) {
		if (!*path) {
			memprintf(err, "socket '%s': empty path", s);
			return -EINVAL;
		}
		if (strlen(path) >= sizeof(sun.sun_path)) {
			memprintf(err, "socket '%s': path too long (at most %zu bytes)", s, sizeof(sun.sun_path) - 1);
			return -ENAMETOOLONG;
		}
		b->path = strdup(path);
		if (!b->path) {
			memprintf(err, "out of memory");
			return -ENOMEM;
		}
		return 0;
	}
	if (addr_parse(s, ADDR_F_PORT_REQUIRED, &as, &e) < 0) {
		memprintf(err, "socket '%s': %s", s, e ? e : "invalid address");
		free(e);
		return -EINVAL;
	}
	b->addr = as.ss;
	return 0;
}

static int opt_id(const char *opt, const char *val, unsigned *out, char **err)
{
	unsigned long long v;

	if (cfg_parse_uint(val, 0x7fffffff, &v) < 0) {
		memprintf(err, "'%s' expects a numeric id, got '%s'", opt, val);
		return -EINVAL;
	}
	*out = (unsigned)v;
	return 0;
}

/* One "<option> <value>" pair of a `stats socket` line. The caller adds
 * which socket it is about. */
static int bind_option(struct stats_bind *b, const char *opt, const char *val, char **err)
{
	unsigned id;

	if (!strcmp(opt, "mode")) {
		char *end;
		long m = strtol(val, &end, 8);

		if (!*val || *end || m < 0 || m > 0777) {
			memprintf(err, "'mode' expects an octal value from 0 to 777, got '%s'", val);
			return -EINVAL;
		}
		b->mode = (int)m;
	} else if (!strcmp(opt, "level")) {
		b->level = level_by_name(val);
		if (b->level < 0) {
			memprintf(err, "'level' expects 'user', 'operator' or 'admin', got '%s'", val);
			return -EINVAL;
		}
	} else if (!strcmp(opt, "user")) {
		struct passwd *pw = getpwnam(val);

		if (!pw) {
			memprintf(err, "'user': unknown user '%s'", val);
			return -EINVAL;
		}
		b->uid = pw->pw_uid;
		b->have_uid = true;
	} else if (!strcmp(opt, "group")) {
		struct group *gr = getgrnam(val);

		if (!gr) {
			memprintf(err, "'group': unknown group '%s'", val);
			return -EINVAL;
		}
		b->gid = gr->gr_gid;
		b->have_gid = true;
	} else if (!strcmp(opt, "uid")) {
		if (opt_id(opt, val, &id, err) < 0)
			return -EINVAL;
		b->uid = (uid_t)id;
		b->have_uid = true;
	} else if (!strcmp(opt, "gid")) {
		if (opt_id(opt, val, &id, err) < 0)
			return -EINVAL;
		b->gid = (gid_t)id;
		b->have_gid = true;
	} else {
		memprintf(err, "unknown option '%s' (supported: mode, level, user, uid, group, gid)", opt);
		return -EINVAL;
	}
	return 0;
}

static bool bind_same_addr(const struct stats_bind *a, const struct stats_bind *b)
{
	if (!a->path != !b->path)
		return false;
	if (a->path)
		return !strcmp(a->path, b->path);
	return addr_equal(&a->addr, &b->addr);
}

/* stats socket <addr> [option value]... ; argv[0] is "socket". */
static int parse_socket(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct stats_conf *sc;
	struct stats_bind *b;
	char *e = NULL;
	int ret = CFG_OK;

	if (argc < 2) {
		memprintf(err, "'socket' expects a path or an ipv4@/ipv6@ address:port");
		return CFG_ERR;
	}
	sc = conf_get(ctx->conf);
	b = calloc(1, sizeof(*b));
	if (!sc || !b || !(b->spec = strdup(argv[1]))) {
		memprintf(err, "out of memory");
		goto fail;
	}
	b->fd = -1;
	b->mode = STATS_DEFAULT_MODE;
	b->level = STATS_LVL_OPER; /* HAProxy's default level */
	if (bind_set_addr(b, argv[1], err) < 0)
		goto fail;
	for (int i = 2; i < argc; i += 2) {
		if (!strcmp(argv[i], "expose-fd")) {
			/* Debian's stock haproxy.cfg has "expose-fd listeners":
			 * accept it, it has nothing to do here */
			memprintf(err, "socket '%s': 'expose-fd' ignored: decoyproxy reloads in place and hands its sockets to no other process",
				  b->spec);
			ret = CFG_WARN;
			continue;
		}
		if (i + 1 >= argc) {
			memprintf(err, "socket '%s': option '%s' expects a value", b->spec, argv[i]);
			goto fail;
		}
		if (bind_option(b, argv[i], argv[i + 1], &e) < 0) {
			memprintf(err, "socket '%s': %s", b->spec, e);
			goto fail;
		}
	}
	for (struct stats_bind *o = sc->binds; o; o = o->next) {
		if (bind_same_addr(o, b)) {
			memprintf(err, "socket '%s': the same socket is already declared ('%s')", b->spec, o->spec);
			goto fail;
		}
	}
	if (sc->last)
		sc->last->next = b;
	else
		sc->binds = b;
	sc->last = b;
	free(e);
	return ret;

fail:
	free(e);
	if (b)
		bind_free(b);
	return CFG_ERR;
}

static int parse_timeout(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct stats_conf *sc;
	long long ms;

	if (argc != 2) {
		memprintf(err, "'timeout' expects one time value (e.g. 10s, 2m)");
		return CFG_ERR;
	}
	if (cfg_parse_time_ms(argv[1], &ms) < 0 || ms <= 0 || ms > 0x7fffffffLL) {
		memprintf(err, "'timeout' expects a positive time (e.g. 10s, 2m), got '%s'", argv[1]);
		return CFG_ERR;
	}
	sc = conf_get(ctx->conf);
	if (!sc) {
		memprintf(err, "out of memory");
		return CFG_ERR;
	}
	sc->timeout_ms = ms;
	return CFG_OK;
}

static int parse_maxconn(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct stats_conf *sc;
	unsigned long long v;

	if (argc != 2 || cfg_parse_uint(argv[1], STATS_MAX_MAXCONN, &v) < 0 || v == 0) {
		memprintf(err, "'maxconn' expects an integer from 1 to %u, got '%s'", STATS_MAX_MAXCONN,
			  argc > 1 ? argv[1] : "");
		return CFG_ERR;
	}
	sc = conf_get(ctx->conf);
	if (!sc) {
		memprintf(err, "out of memory");
		return CFG_ERR;
	}
	sc->maxconn = (unsigned)v;
	return CFG_OK;
}

/* global: stats socket|timeout|maxconn ... */
static int stats_kw(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	if (argc < 2) {
		memprintf(err, "expects 'socket', 'timeout' or 'maxconn'");
		return CFG_ERR;
	}
	if (!strcmp(argv[1], "socket"))
		return parse_socket(ctx, argc - 1, argv + 1, err);
	if (!strcmp(argv[1], "timeout"))
		return parse_timeout(ctx, argc - 1, argv + 1, err);
	if (!strcmp(argv[1], "maxconn"))
		return parse_maxconn(ctx, argc - 1, argv + 1, err);
	if (!strcmp(argv[1], "bind-process")) {
		memprintf(err, "'bind-process' ignored: decoyproxy runs one process");
		return CFG_WARN;
	}
	memprintf(err, "unknown word '%s' (expects 'socket', 'timeout' or 'maxconn')", argv[1]);
	return CFG_ERR;
}

static const struct cfg_kw stats_kws[] = {
	{ "stats", CFG_SEC_GLOBAL, stats_kw, NULL },
};

const struct cfg_kw_list stats_kw_list = { stats_kws, ARRAY_SIZE(stats_kws) };

/* ---- output buffer -------------------------------------------------------- */

static size_t buf_max(const struct stats_buf *b)
{
	return b->max ? b->max : STATS_OUT_MAX;
}

static int buf_reserve(struct stats_buf *b, size_t add)
{
	size_t need = b->len + add + 1, cap;
	char *d;

	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 4096;
	while (cap < need)
		cap *= 2;
	d = realloc(b->data, cap);
	if (!d)
		return -ENOMEM;
	b->data = d;
	b->cap = cap;
	return 0;
}

/* Appends n bytes whatever the cap (terminators, prompt, notes). */
static void buf_put(struct stats_buf *b, const char *s, size_t n)
{
	if (buf_reserve(b, n) < 0) {
		b->truncated = true;
		return;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void buf_puts(struct stats_buf *b, const char *s)
{
	buf_put(b, s, strlen(s));
}

/* Appends whole lines within the cap, or nothing and marks the buffer
 * truncated: a cut answer never ends in the middle of a line. */
static void buf_lines(struct stats_buf *b, const char *s, size_t n)
{
	if (b->truncated || b->len + n > buf_max(b)) {
		b->truncated = true;
		return;
	}
	buf_put(b, s, n);
}

static void out_printf(struct stats_buf *b, const char *fmt, ...) DP_PRINTF(2, 3);
static void out_printf(struct stats_buf *b, const char *fmt, ...)
{
	char small[512], *big = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		buf_lines(b, small, (size_t)n);
		return;
	}
	va_start(ap, fmt);
	n = vmemprintf(&big, fmt, ap);
	va_end(ap);
	if (n >= 0)
		buf_lines(b, big, (size_t)n);
	else
		b->truncated = true;
	free(big);
}

void stats_buf_reset(struct stats_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->truncated = false;
}

/* Appends a text that may hold several lines (messages from other modules),
 * each prefixed, dropping empty lines (they would end the answer early) and
 * control bytes. */
static void out_msg_lines(struct stats_buf *b, const char *pfx, const char *msg)
{
	while (*msg) {
		size_t n = strcspn(msg, "\n");
		char *line;

		if (n) {
			line = strndup(msg, n);
			if (!line) {
				b->truncated = true;
				return;
			}
			for (char *p = line; *p; p++)
				if ((unsigned char)*p < 0x20 || *p == 0x7f)
					*p = ' ';
			out_printf(b, "%s%s%s\n", pfx ? pfx : "", pfx ? " " : "", line);
			free(line);
		}
		msg += n;
		if (*msg)
			msg++;
	}
}

/* ---- process facts ---------------------------------------------------------- */

static time_t start_wall;
static struct timespec start_mono;

/* The process start as this module sees it: the first stats_open() happens
 * when the first generation is activated, before the loop runs. */
static void note_start(void)
{
	if (start_wall)
		return;
	start_wall = time(NULL);
	clock_gettime(CLOCK_MONOTONIC, &start_mono);
}

static unsigned long long uptime_sec(void)
{
	struct timespec t;

	note_start();
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec > start_mono.tv_sec ? (unsigned long long)(t.tv_sec - start_mono.tv_sec) : 0;
}

static ev_tstamp now_ts(void)
{
	return rt.loop ? ev_now(rt.loop) : ev_time();
}

/* Proxies are numbered from 1 in file order (the CSV `iid`), servers from 1
 * within their backend (`sid`). */
static struct proxy *proxy_by_ref(const char *ref, unsigned cap)
{
	struct dp_config *c = rt.conf;
	unsigned long long id;
	unsigned i = 1;

	if (!c)
		return NULL;
	if (ref[0] == '#') {
		if (cfg_parse_uint(ref + 1, 0xffffffffULL, &id) < 0)
			return NULL;
		for (struct proxy *px = c->proxies; px; px = px->next, i++)
			if (i == id)
				return (px->cap & cap) ? px : NULL;
		return NULL;
	}
	return dp_config_find_proxy(c, ref, cap);
}

static struct server *server_by_ref(struct proxy *be, const char *ref)
{
	unsigned long long id;
	unsigned i = 1;

	if (ref[0] == '#') {
		if (cfg_parse_uint(ref + 1, 0xffffffffULL, &id) < 0)
			return NULL;
		for (struct server *s = be->srv; s; s = s->next, i++)
			if (i == id)
				return s;
		return NULL;
	}
	for (struct server *s = be->srv; s; s = s->next)
		if (!strcmp(s->name, ref))
			return s;
	return NULL;
}

/* Resolves "<backend>/<server>" (names or #ids) or answers why not, with
 * HAProxy's messages. */
static struct server *find_server(const char *arg, struct stats_buf *out)
{
	char *copy, *slash;
	struct proxy *be;
	struct server *s = NULL;

	if (!arg || !(slash = strchr(arg, '/'))) {
		out_printf(out, "Require 'backend/server'.\n");
		return NULL;
	}
	copy = strdup(arg);
	if (!copy) {
		out_printf(out, "Out of memory.\n");
		return NULL;
	}
	copy[slash - arg] = '\0';
	be = proxy_by_ref(copy, PR_CAP_BE);
	if (!be)
		out_printf(out, "No such backend.\n");
	else if (!(s = server_by_ref(be, copy + (slash - arg) + 1)))
		out_printf(out, "No such server.\n");
	free(copy);
	return s;
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
	ST_BIN = 8, ST_BOUT = 9, ST_ECON = 13, ST_WRETR = 15, ST_WREDIS = 16, ST_STATUS = 17,
	ST_WEIGHT = 18, ST_ACT = 19, ST_BCK = 20, ST_CHKFAIL = 21, ST_CHKDOWN = 22, ST_PID = 26,
	ST_IID = 27, ST_SID = 28, ST_LBTOT = 30, ST_TYPE = 32, ST_LAST_CHK = 56, ST_CHECK_RISE = 67,
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

static void row_init(struct stat_row *r, const char *px, const char *sv, unsigned iid, unsigned sid, int type)
{
	memset(r->v, 0, sizeof(r->v));
	r->v[ST_PXNAME] = px;
	r->v[ST_SVNAME] = sv;
	r->v[ST_MODE] = "tcp";
	r->v[ST_PID] = "1";
	snprintf(r->num[ST_IID], sizeof(r->num[0]), "%u", iid);
	r->v[ST_IID] = r->num[ST_IID];
	snprintf(r->num[ST_SID], sizeof(r->num[0]), "%u", sid);
	r->v[ST_SID] = r->num[ST_SID];
	snprintf(r->num[ST_TYPE], sizeof(r->num[0]), "%d", type);
	r->v[ST_TYPE] = r->num[ST_TYPE];
}

static void row_u(struct stat_row *r, int col, unsigned long long v)
{
	snprintf(r->num[col], sizeof(r->num[col]), "%llu", v);
	r->v[col] = r->num[col];
}

/* A field with ',', '"' or a line break is quoted, quotes doubled (the CSV
 * rules of the management guide); line breaks become spaces so that a row
 * stays one line. */
static void csv_put(struct stats_buf *line, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		buf_puts(line, s);
		return;
	}
	buf_put(line, "\"", 1);
	for (; *s; s++) {
		if (*s == '"')
			buf_put(line, "\"\"", 2);
		else if (*s == '\r' || *s == '\n')
			buf_put(line, " ", 1);
		else
			buf_put(line, s, 1);
	}
	buf_put(line, "\"", 1);
}

/* Every field is followed by a comma, the header's too, as HAProxy writes. */
static void row_emit(struct stats_buf *out, struct stats_buf *line, const struct stat_row *r)
{
	line->len = 0;
	for (int i = 0; i < ST_NCOLS; i++) {
		if (r->v[i])
			csv_put(line, r->v[i]);
		buf_put(line, ",", 1);
	}
	buf_put(line, "\n", 1);
	if (line->truncated)
		out->truncated = true;
	else
		buf_lines(out, line->data, line->len);
}

static void stat_header(struct stats_buf *out, struct stats_buf *line)
{
	line->len = 0;
	buf_put(line, "# ", 2);
	for (int i = 0; i < ST_NCOLS; i++) {
		buf_puts(line, stat_cols[i]);
		buf_put(line, ",", 1);
	}
	buf_put(line, "\n", 1);
	buf_lines(out, line->data, line->len);
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
	if (server_in_maint(s))
		return "MAINT";
	if (s->admin == SRV_ADMIN_DRAIN)
		return "DRAIN";
	if (!s->check)
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

static void stat_frontend(struct stats_buf *out, struct stats_buf *line, const struct proxy *fe, unsigned iid)
{
	struct stat_row r;
	unsigned lim = rt_fe_maxconn(fe);

	row_init(&r, fe->name, "FRONTEND", iid, 0, 0);
	row_u(&r, ST_SCUR, fe->feconn);
	if (lim)
		row_u(&r, ST_SLIM, lim);
	row_u(&r, ST_STOT, fe->cnt.cum_fe);
	row_u(&r, ST_BIN, fe->cnt.bytes_in);
	row_u(&r, ST_BOUT, fe->cnt.bytes_out);
	r.v[ST_STATUS] = fe_status(fe);
	row_u(&r, ST_CONN_TOT, fe->cnt.cum_fe);
	row_emit(out, line, &r);
}

static void stat_server(struct stats_buf *out, struct stats_buf *line, const struct server *s, unsigned iid,
			unsigned sid)
{
	struct stat_row r;
	char addr[INET6_ADDRSTRLEN + 16];
	bool backup = s->flags & SRV_F_BACKUP;

	row_init(&r, s->px->name, s->name, iid, sid, 2);
	row_u(&r, ST_QCUR, 0); /* queues are per backend here, never per server */
	row_u(&r, ST_SCUR, s->cur_conn);
	if (s->maxconn)
		row_u(&r, ST_SLIM, s->maxconn);
	row_u(&r, ST_STOT, s->cnt.cum_conn);
	row_u(&r, ST_BIN, s->cnt.bytes_in);
	row_u(&r, ST_BOUT, s->cnt.bytes_out);
	row_u(&r, ST_ECON, s->cnt.failed_conns);
	row_u(&r, ST_WRETR, s->cnt.retries);
	row_u(&r, ST_WREDIS, s->cnt.redispatches);
	r.v[ST_STATUS] = srv_status(s);
	row_u(&r, ST_WEIGHT, s->weight);
	row_u(&r, ST_ACT, backup ? 0 : 1);
	row_u(&r, ST_BCK, backup ? 1 : 0);
	if (s->check) {
		row_u(&r, ST_CHKFAIL, s->cnt.chk_failed);
		row_u(&r, ST_CHKDOWN, s->cnt.chk_down_transitions);
		if (s->chk_last[0])
			r.v[ST_LAST_CHK] = s->chk_last;
		row_u(&r, ST_CHECK_RISE, s->chk_rise);
		row_u(&r, ST_CHECK_FALL, s->chk_fall);
		row_u(&r, ST_CHECK_HEALTH, s->chk_health);
	}
	row_u(&r, ST_LBTOT, s->cnt.cum_conn);
	srv_addr_str(s, addr, sizeof(addr));
	r.v[ST_ADDR] = addr;
	row_u(&r, ST_CONNECT, s->cnt.cum_conn + s->cnt.retries);
	row_u(&r, ST_UWEIGHT, s->weight);
	row_emit(out, line, &r);
}

static void stat_backend(struct stats_buf *out, struct stats_buf *line, const struct proxy *be, unsigned iid)
{
	unsigned act = 0, bck = 0, act_w = 0, bck_w = 0, all_w = 0;
	unsigned long long econ = 0, wretr = 0, wredis = 0, lbtot = 0, connect = 0;
	struct stat_row r;

	for (const struct server *s = be->srv; s; s = s->next) {
		bool backup = s->flags & SRV_F_BACKUP;

		if (server_usable(s)) {
			*(backup ? &bck : &act) += 1;
			*(backup ? &bck_w : &act_w) += s->weight;
		}
		all_w += s->weight;
		econ += s->cnt.failed_conns;
		wretr += s->cnt.retries;
		wredis += s->cnt.redispatches;
		lbtot += s->cnt.cum_conn;
		connect += s->cnt.cum_conn + s->cnt.retries;
	}
	row_init(&r, be->name, "BACKEND", iid, 0, 1);
	row_u(&r, ST_QCUR, be->nbpend);
	row_u(&r, ST_SCUR, be->beconn);
	row_u(&r, ST_STOT, be->cnt.cum_be);
	row_u(&r, ST_BIN, be->cnt.bytes_in);
	row_u(&r, ST_BOUT, be->cnt.bytes_out);
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
	row_emit(out, line, &r);
}

struct stat_filter {
	const struct proxy *px;     /* NULL: every proxy */
	int types;                  /* STT_* */
	long sid;                   /* -1: every server */
	bool up_only, no_maint;
};

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
static bool stat_parse_filter(int argc, char **argv, struct stat_filter *f, struct stats_buf *out)
{
	int i = 2;

	f->px = NULL;
	f->types = STT_ALL;
	f->sid = -1;
	f->up_only = f->no_maint = false;
	if (argc - i >= 3 && strcmp(argv[i], "up") && strcmp(argv[i], "no-maint")) {
		long t, sid, iid;
		char ref[24];

		if (parse_int_arg(argv[i + 1], &t) < 0 || parse_int_arg(argv[i + 2], &sid) < 0) {
			out_printf(out, "show stat: <type> and <sid> must be integers (-1 for all).\n");
			return false;
		}
		if (strcmp(argv[i], "-1")) {
			/* a number is a proxy id, anything else a name */
			bool numeric = parse_int_arg(argv[i], &iid) == 0;

			snprintf(ref, sizeof(ref), "#%ld", numeric ? iid : 0L);
			f->px = proxy_by_ref(numeric ? ref : argv[i], PR_CAP_FE | PR_CAP_BE);
			if (!f->px) {
				out_printf(out, "No such proxy.\n");
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
			out_printf(out, "show stat: '%s' output is not supported (CSV only).\n", argv[i]);
			return false;
		} else {
			out_printf(out, "show stat: unexpected word '%s'; usage: show stat [{<iid>|<proxy>} <type> <sid>] [up|no-maint]\n",
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

static void cmd_show_stat(struct stats_cli_ctx *cx, int argc, char **argv, struct stats_buf *out)
{
	struct stats_buf line = { 0 };
	struct stat_filter f;
	unsigned iid = 1;

	if (!stat_parse_filter(argc, argv, &f, out))
		return;
	stat_header(out, &line);
	for (const struct proxy *px = rt.conf ? rt.conf->proxies : NULL; px && !out->truncated; px = px->next, iid++) {
		unsigned sid = 1;

		if (f.px && f.px != px)
			continue;
		if ((px->cap & PR_CAP_FE) && (f.types & STT_FE) && f.sid <= 0)
			stat_frontend(out, &line, px, iid);
		if (!(px->cap & PR_CAP_BE))
			continue;
		for (const struct server *s = px->srv; s; s = s->next, sid++)
			if (stat_show_server(&f, s, sid))
				stat_server(out, &line, s, iid, sid);
		if ((f.types & STT_BE) && f.sid <= 0)
			stat_backend(out, &line, px, iid);
	}
	stats_buf_reset(&line);
}

/* ---- show info ---------------------------------------------------------------- */

static unsigned long long dropped_logs(const struct dp_config *c)
{
	unsigned long long n = 0;

	for (size_t i = 0; c && i < c->all_targets.n; i++)
		n += c->all_targets.v[i]->drops;
	return n;
}

static void cmd_show_info(struct stats_cli_ctx *cx, int argc, char **argv, struct stats_buf *out)
{
	unsigned long long up = uptime_sec();
	struct rlimit rl = { 0 };
	char host[256] = "";
	const char *node;

	if (argc > 2) {
		out_printf(out, "show info: '%s' is not supported (only the default 'Name: value' format).\n", argv[2]);
		return;
	}
	getrlimit(RLIMIT_NOFILE, &rl);
	node = rt.conf && rt.conf->g.hostname ? rt.conf->g.hostname : NULL;
	if (!node) {
		gethostname(host, sizeof(host) - 1);
		node = host;
	}
	/* HAProxy's field names and order, for the fields that exist here */
	out_printf(out, "Name: decoyproxy\nVersion: %s\nNbthread: 1\nNbproc: 1\nProcess_num: 1\nPid: %d\n",
		   PACKAGE_VERSION, (int)getpid());
	out_printf(out, "Uptime: %llud %lluh%02llum%02llus\nUptime_sec: %llu\n", up / 86400, up / 3600 % 24,
		   up / 60 % 60, up % 60, up);
	out_printf(out, "Ulimit-n: %llu\nMaxconn: %u\nHard_maxconn: %u\nCurrConns: %u\nCumConns: %llu\n",
		   (unsigned long long)rl.rlim_cur, rt.maxconn, rt.maxconn, rt.actconn, rt.cum_conn);
	out_printf(out, "node: %s\nStopping: %d\nListeners: %zu\nDroppedLogs: %llu\n", node, rt.stopping ? 1 : 0,
		   rt.conf ? dp_config_count_listeners(rt.conf) : (size_t)0, dropped_logs(rt.conf));
	out_printf(out, "PoolAlloc_bytes: %zu\nPoolUsed_bytes: %zu\nStart_time_sec: %lld\n",
		   pump_pool_allocated() * PUMP_BUFSIZE, pump_pool_in_use() * PUMP_BUFSIZE, (long long)start_wall);
	/* decoyproxy's own, after HAProxy's */
	out_printf(out, "Generation: %u\n", rt.conf ? rt.conf->generation : 0);
	out_printf(out, "UsesrcClientCollisions: %llu\n", src_client_collisions);
}

/* ---- sessions --------------------------------------------------------------- */

static const char *sess_state_name(enum sess_state st)
{
	switch (st) {
	case SST_HDR: return "header";
	case SST_QUEUE: return "queue";
	case SST_TURN: return "turn";
	case SST_CONNECT: return "connect";
	case SST_EST: return "est";
	default: return "closed";
	}
}

/* "42s", "3m12s", "5h07m", "2d03h" */
static void human_age(double secs, char *buf, size_t cap)
{
	unsigned long long s = secs > 0 ? (unsigned long long)secs : 0;

	if (s < 60)
		snprintf(buf, cap, "%llus", s);
	else if (s < 3600)
		snprintf(buf, cap, "%llum%02llus", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, cap, "%lluh%02llum", s / 3600, s / 60 % 60);
	else
		snprintf(buf, cap, "%llud%02lluh", s / 86400, s / 3600 % 24);
}

static void sess_line(struct stats_buf *out, const struct sess *s, ev_tstamp now)
{
	char cli[64], dst[64], srv[64], age[32];
	int fam = s->cli_addr.ss_family;

	addr_str(&s->cli_addr, cli, sizeof(cli));
	addr_str(&s->fe_addr, dst, sizeof(dst));
	human_age(now - s->t_accept, age, sizeof(age));
	if (s->srv_addr.ss_family)
		addr_str(&s->srv_addr, srv, sizeof(srv));
	else
		snprintf(srv, sizeof(srv), "-");
	out_printf(out, "0x%llx: proto=%s src=%s dst=%s fe=%s be=%s srv=%s srvaddr=%s state=%s age=%s bin=%llu bout=%llu%s%s\n",
		   s->id, fam == AF_INET6 ? "tcpv6" : fam == AF_INET ? "tcpv4" : "tcp", cli, dst, s->fe->name,
		   s->be ? s->be->name : "<NONE>", s->srv ? s->srv->name : "<none>", srv, sess_state_name(s->state),
		   age, (unsigned long long)s->req.total, (unsigned long long)s->res.total,
		   s->netns ? " netns=" : "", s->netns ? s->netns : "");
}

static void cmd_show_sess(struct stats_cli_ctx *cx, int argc, char **argv, struct stats_buf *out)
{
	ev_tstamp now = now_ts();

	if (argc > 2) {
		out_printf(out, "show sess: per-session details are not supported; use 'show sess'.\n");
		return;
	}
	for (const struct sess *s = sess_list; s && !out->truncated; s = s->next)
		sess_line(out, s, now);
}

/* "0x2a" (as `show sess` prints it) or "42". */
static int parse_sess_id(const char *s, unsigned long long *id)
{
	const char *digits = s;
	char *end;
	int base = 10;

	if (!s)
		return -EINVAL;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		digits = s + 2;
		base = 16;
	}
	if (!isxdigit((unsigned char)digits[0]) || (base == 10 && !isdigit((unsigned char)digits[0])))
		return -EINVAL;
	errno = 0;
	*id = strtoull(digits, &end, base);
	return *end || errno ? -EINVAL : 0;
}

static struct sess *sess_by_id(unsigned long long id)
{
	for (struct sess *s = sess_list; s; s = s->next)
		if (s->id == id)
			return s;
	return NULL;
}

static void cmd_shutdown_session(struct stats_cli_ctx *cx, int argc, char **argv, struct stats_buf *out)
{
	unsigned long long id;
	struct sess *s;

	if (argc != 3 || parse_sess_id(argv[2], &id) < 0) {
		out_printf(out, "Session pointer expected (use 'show sess').\n");
		return;
	}
	s = sess_by_id(id);
	if (!s) {
		out_printf(out, "No such session (use 'show sess').\n");
		return;
	}
	sess_kill(s); /* logged with termination state K */
}

static struct sess *first_sess_of(const struct server *srv)
{
	for (struct sess *s = sess_list; s; s = s->next)
		if (s->srv == srv)
			return s;
	return NULL;
}

static void cmd_shutdown_sessions_server(struct stats_cli_ctx *cx, int argc, char **argv, struct stats_buf *out)
{
	struct server *srv = find_server(argc == 4 ? argv[3] : NULL, out);
	unsigned n = sess_count;
	struct sess *s;

	if (!srv)
		return;
	/* Killing one session may start or end others (its slot goes to a
	 * queued session), so the list is searched again after each kill;
	 * at most as many kills as there were sessions. */
	while (n-- && (s = first_sess_of(srv)))
		sess_kill(s);
}

/* ---- server state --------------------------------------------------------- */

/* The state change is the server's; queued sessions may use a server that
 * became ready (the dequeue runs from the loop, sess_dequeue_later). */
static void srv_set_admin(struct server *s, int admin)
{
	if (server_set_admin(s, admin))
		sess_dequeue_later(s->px);
}

static void cmd_disable_server(struct stats_cli_ctx *cx, int argc, char **argv, struct stats_buf *out)
{
	struct server *s = find_server(argc == 3 ? argv[2] : NULL, out);

	if (s)
		srv_set_admin(s, SRV_ADMIN_MAINT);
}

static void cmd_enable_server(struct stats_cli_ctx *cx, int argc, char **argv, struct stats_buf *out)
{
	struct server *s = find_server(argc == 3 ? argv[2] : NULL, out);

	if (s)
		srv_set_admin(s, SRV_ADMIN_READY);
}

static void cmd_set_server(struct stats_cli_ctx *cx, int argc, char **argv, struct stats_buf *out)
{
	static const char *const states[] = { "ready", "drain", "maint" };
	struct server *s;

	if (argc < 4 || strcmp(argv[3], "state")) {
		if (argc >= 4 && strcmp(argv[3], "state"))
			out_printf(out, "set server: '%s' is not supported here; ", argv[3]);
		out_printf(out, "usage: set server <backend>/<server> state ready|drain|maint\n");
		return;
	}
	s = find_server(argv[2], out);
	if (!s)
		return;
	for (int i = 0; i < (int)ARRAY_SIZE(states); i++) {
		if (argc == 5 && !strcmp(argv[4], states[i])) {
			srv_set_admin(s, i == 0 ? SRV_ADMIN_READY : i == 1 ? SRV_ADMIN_DRAIN : SRV_ADMIN_MAINT);
			return;
		}
	}
	out_printf(out, "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n");
}

/* ---- reload ----------------------------------------------------------------- */

static struct stats_buf *reload_log;
static void (*reload_prev_hook)(int kind, const char *msg);

/* Copies the process messages of a reload (parse errors above all) into
 * the answer, as HAProxy's master CLI quotes its startup logs. */
static void reload_msg_hook(int kind, const char *msg)
{
	static const char *const pfx[] = { "[ALERT]", "[WARNING]", "[NOTICE]", "[DEBUG]" };

	if (reload_prev_hook)
		reload_prev_hook(kind, msg);
	if (reload_log && kind >= 0 && kind < 3)
		out_msg_lines(reload_log, pfx[kind], msg);
}

static void cmd_reload(struct stats_cli_ctx *cx, int argc, char **argv, struct stats_buf *out)
{
	struct stats_buf log = { .max = STATS_RELOAD_LOG_MAX };
	char *msg = NULL;
	int r;

	if (!stats_reload_hook) {
		out_printf(out, "Success=0\n--\nreload is not available in this process\n");
		return;
	}
	reload_log = &log;
	reload_prev_hook = ha_msg_hook;
	ha_msg_hook = reload_msg_hook;
	r = stats_reload_hook(&msg);
	ha_msg_hook = reload_prev_hook;
	reload_log = NULL;
	reload_prev_hook = NULL;

	out_printf(out, "Success=%d\n--\n", r == 0);
	if (log.len)
		buf_lines(out, log.data, log.len);
	/* the outcome, unless it was already among the messages */
	if (msg && !(log.data && strstr(log.data, msg)))
		out_msg_lines(out, NULL, msg);
	free(msg);
	stats_buf_reset(&log);
}

/* ---- intercept (runtime decoy changes) and network sections ------------------- */

static void out_line_cb(void *ctx, const char *text)
{
	out_printf(ctx, "%s\n", text);
}

static void cmd_show_intercept(struct stats_cli_ctx *cx, int argc, char **argv, struct stats_buf *out)
{
	const struct proxy *px = NULL;

	if (argc > 3) {
		out_printf(out, "usage: show intercept [<frontend>]\n");
		return;
	}
	if (argc == 3 && !(px = proxy_by_ref(argv[2], PR_CAP_FE))) {
		out_printf(out, "No such frontend.\n");
		return;
	}
	tproxy_rt_show(rt.conf, px, out_line_cb, out);
}

/* add|del intercept <frontend> <spec> [<spec>...]: answers nothing on
 * success (as HAProxy's `add map`), else one error line. */
static void cmd_change_intercept(struct stats_cli_ctx *cx, int argc, char **argv, struct stats_buf *out)
{
	bool add = !strcmp(argv[0], "add");
	struct proxy *px;
	char *err = NULL;

	if (argc < 4) {
		out_printf(out, "usage: %s intercept <frontend> <ADDRS:PORTS> [<ADDRS:PORTS>...]\n", argv[0]);
		return;
	}
	px = proxy_by_ref(argv[2], PR_CAP_FE);
	if (!px) {
		out_printf(out, "No such frontend.\n");
		return;
	}
	if (tproxy_rt_change(rt.conf, px, add, argc - 3, argv + 3, &err) < 0)
		out_msg_lines(out, NULL, err ? err : "failed");
	free(err);
}

/* show network [<section>]: the objects of `network` sections */
static void cmd_show_network(struct stats_cli_ctx *cx, int argc, char **argv, struct stats_buf *out)
{
	const char *only = argc == 3 ? argv[2] : NULL;
	size_t olen = only ? strlen(only) : 0;
	bool found = false;
	char *text = NULL;

	if (argc > 3) {
		out_printf(out, "usage: show network [<section>]\n");
		return;
	}
	if (!rt.conf || netseg_show(rt.conf, &text) < 0) {
		out_printf(out, "Out of memory.\n");
		return;
	}
	out_printf(out, "# section state object\n");
	for (const char *p = text; *p;) {
		size_t n = strcspn(p, "\n");

		/* lines are "<section> <state> <object>" */
		if (!only || (n > olen && !strncmp(p, only, olen) && p[olen] == ' ')) {
			out_printf(out, "%.*s\n", (int)n, p);
			found = true;
		}
		p += n;
		if (*p)
			p++;
	}
	if (only && !found)
		out_printf(out, "No such network section.\n");
	free(text);
}

/* ---- small commands ------------------------------------------------------------ */

static void cmd_show_cli_level(struct stats_cli_ctx *cx, int argc, char **argv, struct stats_buf *out)
{
	out_printf(out, "%s\n", level_names[cx->level]);
}

static void cmd_show_cli_sockets(struct stats_cli_ctx *cx, int argc, char **argv, struct stats_buf *out)
{
	const struct stats_conf *sc = conf_of(rt.conf);

	out_printf(out, "# socket lvl processes\n");
	for (const struct stats_bind *b = sc ? sc->binds : NULL; b; b = b->next) {
		char a[80];

		if (b->path)
			snprintf(a, sizeof(a), "unix@%s", b->path);
		else
			addr_str(&b->addr, a, sizeof(a));
		out_printf(out, "%s %s all\n", a, level_names[b->level]);
	}
}

static void cmd_user(struct stats_cli_ctx *cx, int argc, char **argv, struct stats_buf *out)
{
	cx->level = STATS_LVL_USER;
}

static void cmd_operator(struct stats_cli_ctx *cx, int argc, char **argv, struct stats_buf *out)
{
	if (cx->level < STATS_LVL_OPER)
		out_printf(out, "Permission denied\n");
	else
		cx->level = STATS_LVL_OPER;
}

static void cmd_prompt(struct stats_cli_ctx *cx, int argc, char **argv, struct stats_buf *out)
{
	cx->interactive = !cx->interactive;
	/* leaving interactive mode ends the conversation after this line */
	if (!cx->interactive)
		cx->quit = true;
}

static void cmd_quit(struct stats_cli_ctx *cx, int argc, char **argv, struct stats_buf *out)
{
	cx->quit = true;
}

static void cmd_help(struct stats_cli_ctx *cx, int argc, char **argv, struct stats_buf *out);

/* ---- command table ------------------------------------------------------------- */

typedef void (*cli_fn)(struct stats_cli_ctx *cx, int argc, char **argv, struct stats_buf *out);

struct cli_cmd {
	const char *words[4];       /* the command's fixed words, NULL-ended */
	const char *usage;
	const char *desc;
	int level;                  /* lowest level allowed */
	bool always;                /* listed at the end of every help */
	cli_fn fn;
};

/* Levels follow HAProxy 2.6: `show sess` needs operator; killing sessions,
 * changing servers (and reloading) need admin. decoyproxy's own: the decoy
 * list and the segments' objects are operator reads (they reveal the
 * honeypot's layout), changing the decoys is admin. */
static const struct cli_cmd cli_cmds[] = {
	{ { "add", "intercept" }, "add intercept <fe> <spec>...", "intercept more decoys until the next reload",
	  STATS_LVL_ADMIN, false, cmd_change_intercept },
	{ { "del", "intercept" }, "del intercept <fe> <spec>...", "stop intercepting decoys until the next reload",
	  STATS_LVL_ADMIN, false, cmd_change_intercept },
	{ { "disable", "server" }, "disable server <bk>/<srv>", "put a server in maintenance (= set server state maint)",
	  STATS_LVL_ADMIN, false, cmd_disable_server },
	{ { "enable", "server" }, "enable server <bk>/<srv>", "make a server ready again (= set server state ready)",
	  STATS_LVL_ADMIN, false, cmd_enable_server },
	{ { "operator" }, "operator", "lower the level of this CLI connection to operator",
	  STATS_LVL_USER, false, cmd_operator },
	{ { "reload" }, "reload", "re-read the configuration and apply it in place (Success=0|1)",
	  STATS_LVL_ADMIN, false, cmd_reload },
	{ { "set", "server" }, "set server <bk>/<srv> state <st>", "set a server ready, drain or maint",
	  STATS_LVL_ADMIN, false, cmd_set_server },
	{ { "show", "cli", "level" }, "show cli level", "show the level of this CLI connection",
	  STATS_LVL_USER, false, cmd_show_cli_level },
	{ { "show", "cli", "sockets" }, "show cli sockets", "list the stats sockets",
	  STATS_LVL_USER, false, cmd_show_cli_sockets },
	{ { "show", "info" }, "show info", "report information about the running process",
	  STATS_LVL_USER, false, cmd_show_info },
	{ { "show", "intercept" }, "show intercept [<fe>]", "list the decoys each frontend intercepts, as installed",
	  STATS_LVL_OPER, false, cmd_show_intercept },
	{ { "show", "network" }, "show network [<section>]", "list the objects of the network sections",
	  STATS_LVL_OPER, false, cmd_show_network },
	{ { "show", "sess" }, "show sess", "list the current sessions",
	  STATS_LVL_OPER, false, cmd_show_sess },
	{ { "show", "stat" }, "show stat [<px> <type> <sid>] [up|no-maint]", "CSV counters of every proxy and server",
	  STATS_LVL_USER, false, cmd_show_stat },
	{ { "shutdown", "session" }, "shutdown session <id>", "kill one session (logged with state K)",
	  STATS_LVL_ADMIN, false, cmd_shutdown_session },
	{ { "shutdown", "sessions", "server" }, "shutdown sessions server <bk>/<srv>", "kill every session of a server",
	  STATS_LVL_ADMIN, false, cmd_shutdown_sessions_server },
	{ { "user" }, "user", "lower the level of this CLI connection to user",
	  STATS_LVL_USER, false, cmd_user },
	{ { "help" }, "help [<command>]", "list matching or all commands", STATS_LVL_USER, true, cmd_help },
	{ { "prompt" }, "prompt", "toggle interactive mode with prompt", STATS_LVL_USER, true, cmd_prompt },
	{ { "quit" }, "quit", "disconnect", STATS_LVL_USER, true, cmd_quit },
};

static int cmd_nwords(const struct cli_cmd *c)
{
	int n = 0;

	while (n < (int)ARRAY_SIZE(c->words) && c->words[n])
		n++;
	return n;
}

/* The command whose fixed words begin argv, the longest one. */
static const struct cli_cmd *cmd_find(int argc, char **argv)
{
	const struct cli_cmd *best = NULL;
	int best_n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(cli_cmds); i++) {
		const struct cli_cmd *c = &cli_cmds[i];
		int n = cmd_nwords(c), k;

		if (n > argc || n <= best_n)
			continue;
		for (k = 0; k < n && !strcmp(c->words[k], argv[k]); k++)
			;
		if (k == n) {
			best = c;
			best_n = n;
		}
	}
	return best;
}

/* Does c begin with the nf words of the filter? */
static bool cmd_matches(const struct cli_cmd *c, int nf, char **filter)
{
	int n = cmd_nwords(c);

	if (nf > n)
		return false;
	for (int k = 0; k < nf; k++)
		if (strcmp(c->words[k], filter[k]))
			return false;
	return true;
}

static void help_line(struct stats_buf *out, const struct cli_cmd *c)
{
	out_printf(out, "  %-40s: %s\n", c->usage, c->desc);
}

/* The commands allowed at this level that begin with the filter words, or
 * every one when none does, then help, prompt and quit. Returns how many
 * matched the filter. */
static int help_list(const struct stats_cli_ctx *cx, struct stats_buf *out, int nf, char **filter)
{
	int matched = 0;

	for (size_t i = 0; i < ARRAY_SIZE(cli_cmds); i++)
		if (!cli_cmds[i].always && cli_cmds[i].level <= cx->level && cmd_matches(&cli_cmds[i], nf, filter))
			matched++;
	for (size_t i = 0; i < ARRAY_SIZE(cli_cmds); i++) {
		const struct cli_cmd *c = &cli_cmds[i];

		if (!c->always && c->level <= cx->level && (!matched || cmd_matches(c, nf, filter)))
			help_line(out, c);
	}
	for (size_t i = 0; i < ARRAY_SIZE(cli_cmds); i++)
		if (cli_cmds[i].always)
			help_line(out, &cli_cmds[i]);
	return matched;
}

static void cmd_help(struct stats_cli_ctx *cx, int argc, char **argv, struct stats_buf *out)
{
	out_printf(out, "The following commands are valid at this level:\n");
	help_list(cx, out, argc - 1, argv + 1);
}

static void cmd_unknown(struct stats_cli_ctx *cx, int argc, char **argv, struct stats_buf *out)
{
	bool family = false;

	for (size_t i = 0; argc && i < ARRAY_SIZE(cli_cmds); i++)
		if (!cli_cmds[i].always && cli_cmds[i].level <= cx->level && !strcmp(cli_cmds[i].words[0], argv[0]))
			family = true;
	if (family) {
		out_printf(out, "Unknown command, but maybe one of the following ones is a better match:\n");
		help_list(cx, out, 1, argv);
	} else {
		out_printf(out, "Unknown command. Please enter one of the following commands only:\n");
		help_list(cx, out, 0, NULL);
	}
}

/* ---- interpreter ------------------------------------------------------------ */

static void run_command(struct stats_cli_ctx *cx, int argc, char **argv, struct stats_buf *out)
{
	const struct cli_cmd *c = argc ? cmd_find(argc, argv) : NULL;
	bool was_truncated = out->truncated;

	if (!c)
		cmd_unknown(cx, argc, argv, out);
	else if (c->level > cx->level)
		out_printf(out, "Permission denied\n");
	else
		c->fn(cx, argc, argv, out);
	if (out->truncated && !was_truncated) {
		char note[96];

		snprintf(note, sizeof(note), "Output truncated: the answer exceeds %zu bytes.\n", buf_max(out));
		buf_puts(out, note);
	}
	/* `quit` answers nothing at all; everything else ends with an empty line */
	if (!c || c->fn != cmd_quit)
		buf_put(out, "\n", 1);
}

/* Reads one command, up to an unescaped ';' or the end, from *pp into
 * words stored in w (at least end - *pp + 1 bytes). A backslash makes the
 * next character part of a word (so "\;" and "\ " are literal). Returns
 * the number of words, or -E2BIG when there are more than max. */
static int parse_command(const char **pp, const char *end, char *w, char **argv, int max)
{
	const char *p = *pp;
	bool in_word = false, overflow = false;
	size_t o = 0;
	int argc = 0;

	for (; p < end && *p != ';'; p++) {
		char ch = *p;

		if (ch == '\\' && p + 1 < end) {
			ch = *++p;
		} else if (ch == ' ' || ch == '\t') {
			if (in_word)
				w[o++] = '\0';
			in_word = false;
			continue;
		}
		if (!in_word) {
			if (argc == max) {
				overflow = true;
				continue;
			}
			argv[argc++] = w + o;
			in_word = true;
		}
		w[o++] = ch;
	}
	if (in_word)
		w[o] = '\0';
	*pp = p;
	return overflow ? -E2BIG : argc;
}

void stats_exec_line(struct stats_cli_ctx *cx, const char *line, struct stats_buf *out)
{
	size_t len = strlen(line);
	const char *p = line, *end;
	char *words;

	if (len && line[len - 1] == '\r')
		len--;
	end = line + len;
	words = malloc(len + 1);
	if (!words) {
		buf_puts(out, "Out of memory.\n\n");
		return;
	}
	while (!cx->quit) {
		char *argv[STATS_MAX_WORDS];
		int argc = parse_command(&p, end, words, argv, STATS_MAX_WORDS);

		if (argc < 0)
			out_printf(out, "Too many words (at most %d per command).\n\n", STATS_MAX_WORDS);
		else
			run_command(cx, argc, argv, out);
		if (p >= end)
			break;
		p++; /* the ';' */
	}
	free(words);
	if (cx->interactive && !cx->quit)
		buf_put(out, "> ", 2);
}

/* ---- CLI clients ---------------------------------------------------------------- */

struct stats_cli {
	struct stats_cli *prev, *next;
	int fd;
	ev_io rio, wio;
	ev_timer timer;
	struct stats_cli_ctx cx;
	double timeout;             /* idle seconds (stats timeout) */
	ev_tstamp last_act;         /* last read or write progress */
	bool served;                /* at least one line interpreted */
	bool rd_eof;
	bool closing;               /* close once the answer is written */
	struct stats_buf out;
	size_t out_off;             /* bytes of out already written */
	size_t in_len;
	char in[STATS_LINE_MAX];
};

static struct stats_cli *clients;
static unsigned nb_clients;
static struct dp_config *active_conf; /* generation whose sockets accept */
static ev_timer pause_timer;
static bool accept_paused;            /* after EMFILE/ENFILE */

static void binds_update(void);

static void io_want(ev_io *w, bool want)
{
	if (want && !ev_is_active(w))
		ev_io_start(rt.loop, w);
	else if (!want && ev_is_active(w))
		ev_io_stop(rt.loop, w);
}

unsigned stats_cli_count(void)
{
	return nb_clients;
}

static void cli_free(struct stats_cli *c)
{
	ev_io_stop(rt.loop, &c->rio);
	ev_io_stop(rt.loop, &c->wio);
	ev_timer_stop(rt.loop, &c->timer);
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	stats_buf_reset(&c->out);
	free(c);
	nb_clients--;
	binds_update(); /* a slot is free again */
}

static size_t cli_pending(const struct stats_cli *c)
{
	return c->out.len - c->out_off;
}

/* Writes what the socket takes. Returns 0, or -1 on a fatal error. */
static int cli_write(struct stats_cli *c)
{
	for (int i = 0; i < STATS_WRITE_BURST && cli_pending(c); i++) {
		ssize_t n = send(c->fd, c->out.data + c->out_off, cli_pending(c), MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			c->out_off += (size_t)n;
			c->last_act = ev_now(rt.loop);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		return -1;
	}
	return 0;
}

/* Interprets the next complete line. Returns false when there is none. */
static bool cli_next_line(struct stats_cli *c)
{
	char *nl = memchr(c->in, '\n', c->in_len);
	size_t used;

	if (!nl) {
		if (c->in_len < sizeof(c->in))
			return false;
		out_printf(&c->out, "Line too long (more than %zu bytes).\n\n", sizeof(c->in));
		c->closing = true;
		return true;
	}
	*nl = '\0';
	stats_exec_line(&c->cx, c->in, &c->out);
	used = (size_t)(nl - c->in) + 1;
	memmove(c->in, nl + 1, c->in_len - used);
	c->in_len -= used;
	c->served = true;
	if (c->cx.quit)
		c->closing = true;
	return true;
}

static void cli_update_io(struct stats_cli *c)
{
	io_want(&c->rio, !c->closing && !c->rd_eof && c->in_len < sizeof(c->in));
	io_want(&c->wio, cli_pending(c) > 0);
}

/* Drives one client: writes the pending answer; once it is out, interprets
 * the next buffered line; closes when the conversation is over
 * (non-interactive mode after its lines, `quit`, EOF, errors). Each round
 * consumes a line of the bounded input buffer, writes, or stops. */
static void cli_run(struct stats_cli *c)
{
	for (size_t round = 0; round <= sizeof(c->in) + 1; round++) {
		if (cli_pending(c)) {
			if (cli_write(c) < 0) {
				cli_free(c);
				return;
			}
			if (cli_pending(c))
				break; /* the rest on EV_WRITE */
			stats_buf_reset(&c->out);
			c->out_off = 0;
		}
		if (c->closing) {
			cli_free(c);
			return;
		}
		if (!cli_next_line(c)) {
			if (c->rd_eof || (c->served && !c->cx.interactive)) {
				c->closing = true;
				continue;
			}
			break;
		}
	}
	cli_update_io(c);
}

static void cli_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct stats_cli *c = container_of(w, struct stats_cli, rio);
	ssize_t n;

	if (c->in_len == sizeof(c->in)) {
		/* no room: a zero-length recv() would look like EOF */
		cli_run(c);
		return;
	}
	n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);
	if (n > 0) {
		c->in_len += (size_t)n;
		c->last_act = ev_now(loop);
	} else if (n == 0) {
		c->rd_eof = true;
	} else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
		return;
	} else {
		cli_free(c);
		return;
	}
	cli_run(c);
}

static void cli_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	cli_run(container_of(w, struct stats_cli, wio));
}

/* Idle timeout: no progress either way for `stats timeout`. The timer is
 * re-armed lazily from the last activity. */
static void cli_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct stats_cli *c = container_of(w, struct stats_cli, timer);
	ev_tstamp left = c->last_act + c->timeout - ev_now(loop);

	if (left > 0.001) {
		ev_timer_set(&c->timer, left, 0.0);
		ev_timer_start(loop, &c->timer);
		return;
	}
	cli_free(c);
}

static struct stats_cli *cli_new(int fd, int level)
{
	struct stats_cli *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->fd = fd;
	c->cx.level = level;
	c->timeout = conf_timeout_ms(active_conf) / 1000.0;
	c->last_act = ev_now(rt.loop);
	ev_io_init(&c->rio, cli_read_cb, fd, EV_READ);
	ev_io_init(&c->wio, cli_write_cb, fd, EV_WRITE);
	ev_timer_init(&c->timer, cli_timer_cb, c->timeout, 0.0);
	ev_timer_start(rt.loop, &c->timer);
	ev_io_start(rt.loop, &c->rio);
	c->next = clients;
	if (clients)
		clients->prev = c;
	clients = c;
	nb_clients++;
	return c;
}

int stats_cli_attach(int fd, int level)
{
	if (fd < 0)
		return -EINVAL;
	if (!rt.loop || level < STATS_LVL_USER || level > STATS_LVL_ADMIN) {
		close(fd);
		return -EINVAL;
	}
	note_start();
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0 || !cli_new(fd, level)) {
		close(fd);
		return -ENOMEM;
	}
	return 0;
}

/* ---- listening sockets ----------------------------------------------------------- */

static void pause_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	accept_paused = false;
	binds_update();
}

/* Accept while below `stats maxconn` (all sockets together, as HAProxy's
 * CLI frontend) and not paused; the kernel backlog holds the others. */
static void binds_update(void)
{
	const struct stats_conf *sc = conf_of(active_conf);
	bool want = !accept_paused && nb_clients < conf_maxconn(active_conf);

	if (!rt.loop)
		return;
	for (struct stats_bind *b = sc ? sc->binds : NULL; b; b = b->next)
		if (b->fd >= 0)
			io_want(&b->io, want);
}

static void accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct stats_bind *b = container_of(w, struct stats_bind, io);

	for (int i = 0; i < STATS_ACCEPT_BURST && nb_clients < conf_maxconn(active_conf); i++) {
		int fd = accept4(b->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			static double last;

			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (ha_ratelimit(&last, 10.0))
				ha_warning("stats socket '%s': accept: %s", b->spec, strerror(errno));
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				/* level-triggered: pause instead of spinning */
				accept_paused = true;
				ev_timer_init(&pause_timer, pause_cb, STATS_PAUSE_S, 0.0);
				ev_timer_start(loop, &pause_timer);
			}
			break;
		}
		if (!cli_new(fd, b->level)) {
			close(fd);
			break;
		}
	}
	binds_update();
}

static int bind_apply_perms(const struct stats_bind *b, char **err)
{
	uid_t uid = b->have_uid ? b->uid : (uid_t)-1;
	gid_t gid = b->have_gid ? b->gid : (gid_t)-1;
	int e;

	if (chmod(b->path, (mode_t)b->mode) < 0) {
		e = errno;
		memprintf(err, "stats socket '%s': chmod %o: %s", b->spec, (unsigned)b->mode, strerror(e));
		return -e;
	}
	if ((b->have_uid || b->have_gid) && chown(b->path, uid, gid) < 0) {
		e = errno;
		memprintf(err, "stats socket '%s': chown: %s", b->spec, strerror(e));
		return -e;
	}
	return 0;
}

/* Closes a bind's socket; unlinks its file only if the path still names the
 * file created here (another process may have replaced it since). */
static void bind_close(struct stats_bind *b, bool unlink_file)
{
	struct stat st;

	if (b->fd < 0)
		return;
	if (rt.loop && ev_is_active(&b->io))
		ev_io_stop(rt.loop, &b->io);
	close(b->fd);
	b->fd = -1;
	if (unlink_file && b->path && b->have_ino && stat(b->path, &st) == 0 && st.st_dev == b->dev &&
	    st.st_ino == b->ino && unlink(b->path) < 0)
		/* after a switch to `user` the directory may not be ours any
		 * more; the next start replaces the stale socket file */
		ha_warning("stats socket: cannot remove '%s': %s (the next start replaces it)", b->path,
			   strerror(errno));
	b->have_ino = false;
}

/* A socket file at the path: stale (nothing accepts: a dead process left
 * it) is removed; a live one, or anything else than a socket, is an error. */
static int unix_clear_stale(const struct stats_bind *b, const struct sockaddr_un *sun, char **err)
{
	struct stat st;
	int fd, r, e;

	if (lstat(b->path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		e = errno;
		memprintf(err, "stats socket '%s': %s", b->spec, strerror(e));
		return -e;
	}
	if (!S_ISSOCK(st.st_mode)) {
		memprintf(err, "stats socket '%s': the path exists and is not a socket", b->spec);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		e = errno;
		memprintf(err, "stats socket '%s': socket: %s", b->spec, strerror(e));
		return -e;
	}
	r = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	e = r < 0 ? errno : 0;
	close(fd);
	if (r == 0 || e == EAGAIN) {
		memprintf(err, "stats socket '%s': another process is already listening on it", b->spec);
		return -EADDRINUSE;
	}
	if (e != ECONNREFUSED) {
		memprintf(err, "stats socket '%s': cannot tell whether the existing socket is in use: %s", b->spec,
			  strerror(e));
		return -e;
	}
	if (unlink(b->path) < 0 && errno != ENOENT) {
		e = errno;
		memprintf(err, "stats socket '%s': cannot remove the stale socket: %s", b->spec, strerror(e));
		return -e;
	}
	return 0;
}

static int bind_open_unix(struct stats_bind *b, char **err)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t old_mask;
	int fd, r, e;

	memcpy(sun.sun_path, b->path, strlen(b->path) + 1); /* length checked when parsed */
	r = unix_clear_stale(b, &sun, err);
	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		e = errno;
		memprintf(err, "stats socket '%s': socket: %s", b->spec, strerror(e));
		return -e;
	}
	/* created owner-only, then opened up to `mode`: never wider than asked */
	old_mask = umask(0177);
	r = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	e = errno;
	umask(old_mask);
	if (r < 0) {
		memprintf(err, "stats socket '%s': bind: %s", b->spec, strerror(e));
		goto fail_close;
	}
	if (stat(b->path, &st) == 0) {
		b->dev = st.st_dev;
		b->ino = st.st_ino;
		b->have_ino = true;
	}
	r = bind_apply_perms(b, err);
	if (r < 0) {
		e = -r;
		goto fail_unlink;
	}
	if (listen(fd, STATS_BACKLOG) < 0) {
		e = errno;
		memprintf(err, "stats socket '%s': listen: %s", b->spec, strerror(e));
		goto fail_unlink;
	}
	b->fd = fd;
	return 0;

fail_unlink:
	unlink(b->path);
	b->have_ino = false;
fail_close:
	close(fd);
	return -e;
}

static int bind_open_tcp(struct stats_bind *b, char **err)
{
	int fd, one = 1, e;

	fd = socket(b->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
	if (fd < 0) {
		e = errno;
		memprintf(err, "stats socket '%s': socket: %s", b->spec, strerror(e));
		return -e;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&b->addr, addr_len(&b->addr)) < 0) {
		e = errno;
		memprintf(err, "stats socket '%s': bind: %s", b->spec, strerror(e));
		goto fail;
	}
	if (listen(fd, STATS_BACKLOG) < 0) {
		e = errno;
		memprintf(err, "stats socket '%s': listen: %s", b->spec, strerror(e));
		goto fail;
	}
	b->fd = fd;
	return 0;

fail:
	close(fd);
	return -e;
}

static bool bind_same_perms(const struct stats_bind *a, const struct stats_bind *b)
{
	return a->mode == b->mode && a->have_uid == b->have_uid && (!a->have_uid || a->uid == b->uid) &&
	       a->have_gid == b->have_gid && (!a->have_gid || a->gid == b->gid);
}

/* Moves oldc's open socket at the same address to b. The file's mode and
 * owner are only touched when the configuration changed them: after
 * `user`/`group` dropped privileges, a chmod of the root-owned file would
 * fail and make every reload fail with it. */
static int bind_take(struct stats_bind *b, struct stats_bind *old, char **err)
{
	if (ev_is_active(&old->io))
		ev_io_stop(rt.loop, &old->io);
	b->fd = old->fd;
	old->fd = -1;
	b->taken_from = old;
	b->have_ino = old->have_ino;
	b->dev = old->dev;
	b->ino = old->ino;
	if (!b->path || bind_same_perms(b, old))
		return 0;
	return bind_apply_perms(b, err);
}

static struct stats_bind *find_reusable(const struct dp_config *oldc, const struct stats_bind *b)
{
	for (struct stats_bind *o = conf_of(oldc) ? conf_of(oldc)->binds : NULL; o; o = o->next)
		if (o->fd >= 0 && bind_same_addr(o, b))
			return o;
	return NULL;
}

/* Gives taken-over sockets back to oldc (with its permissions), closes the
 * ones newc created. */
static void binds_undo(struct dp_config *c)
{
	for (struct stats_bind *b = conf_of(c) ? conf_of(c)->binds : NULL; b; b = b->next) {
		struct stats_bind *old = b->taken_from;

		if (b->fd < 0)
			continue;
		if (!old) {
			bind_close(b, true);
			continue;
		}
		if (ev_is_active(&b->io))
			ev_io_stop(rt.loop, &b->io);
		old->fd = b->fd;
		b->fd = -1;
		b->have_ino = false;
		b->taken_from = NULL;
		if (old->path && !bind_same_perms(b, old))
			bind_apply_perms(old, NULL);
	}
}

int stats_open(struct dp_config *c, struct dp_config *oldc, char **err)
{
	struct stats_bind *b;

	note_start();
	if (conf_of(c) && conf_of(c)->binds && !rt.loop) {
		memprintf(err, "stats socket: no event loop");
		return -EINVAL;
	}
	for (b = conf_of(c) ? conf_of(c)->binds : NULL; b; b = b->next) {
		struct stats_bind *old = find_reusable(oldc, b);
		int r;

		if (old)
			r = bind_take(b, old, err);
		else
			r = b->path ? bind_open_unix(b, err) : bind_open_tcp(b, err);
		if (r < 0) {
			binds_undo(c);
			binds_update(); /* oldc's sockets accept again */
			return r;
		}
		ev_io_init(&b->io, accept_cb, b->fd, EV_READ);
	}
	for (b = conf_of(c) ? conf_of(c)->binds : NULL; b; b = b->next)
		b->taken_from = NULL; /* oldc may be freed from now on */
	active_conf = c;
	binds_update();
	return 0;
}

void stats_close(struct dp_config *c)
{
	if (!c)
		return;
	for (struct stats_bind *b = conf_of(c) ? conf_of(c)->binds : NULL; b; b = b->next)
		bind_close(b, true);
	if (c != active_conf)
		return;
	/* the generation in service goes away: the process is stopping */
	active_conf = NULL;
	while (clients)
		cli_free(clients);
	if (rt.loop && ev_is_active(&pause_timer))
		ev_timer_stop(rt.loop, &pause_timer);
	accept_paused = false;
}

static void conf_ext_free_cb(struct dp_config *c, struct conf_ext *e)
{
	struct stats_conf *s = container_of(e, struct stats_conf, ext);

	(void)c;
	while (s->binds) {
		struct stats_bind *n = s->binds->next;

		bind_close(s->binds, false);
		bind_free(s->binds);
		s->binds = n;
	}
	free(s);
}
