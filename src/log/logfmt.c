/* logfmt.c — HAProxy log-format strings: compile once, render per connection.
 *
 * lf_compile() turns a format into a flat array of nodes: literal text (a
 * slice of one text pool), separators (a run of spaces) and alias operations
 * with their flags. lf_render() walks the array writing into the caller's
 * buffer through a bounded writer, so a render cannot overflow and never
 * allocates. The output rules were checked against haproxy 2.6.12 (see
 * tests/unit/test_logfmt.c for the captured reference lines).
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log/log.h"

const char LF_TCPLOG_FMT[] =
	"%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq";

/* tcplog, then the decoy the attacker targeted, the segment it came from
 * and the source used toward the server (the spoofed one under usesrc):
 * appended, so that tools reading tcplog fields by position still work. */
const char LF_DECOYLOG_FMT[] =
	"%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq %fi:%fp %ns %bi:%bp";

/* Node flags (HAProxy's log-format options). */
enum {
	LF_FL_Q = 1 << 0,       /* quote strings */
	LF_FL_X = 1 << 1,       /* hexadecimal IPs, ports, %Ts, %ms, %pid */
	LF_FL_E = 1 << 2,       /* escape '"', '\' and ']' */
	LF_FL_M = 1 << 3,       /* "mandatory": accepted, changes nothing here */
};

enum lf_op {
	LF_OP_TEXT = 0,
	LF_OP_SEP,
	LF_OP_CI, LF_OP_CP, LF_OP_FI, LF_OP_FP,
	LF_OP_BI, LF_OP_BP, LF_OP_SI, LF_OP_SP,
	LF_OP_FT, LF_OP_F, LF_OP_B, LF_OP_S,
	LF_OP_DATE,             /* %t  local, ms */
	LF_OP_DATE_GMT,         /* %T  GMT, +0000 */
	LF_OP_DATE_LOCAL,       /* %Tl local, +hhmm */
	LF_OP_TW, LF_OP_TC, LF_OP_TT,
	LF_OP_BYTES_DOWN, LF_OP_BYTES_UP,
	LF_OP_TS_STATE,
	LF_OP_AC, LF_OP_FC, LF_OP_BC, LF_OP_SC, LF_OP_RC, LF_OP_SQ, LF_OP_BQ,
	LF_OP_PID, LF_OP_RT, LF_OP_ID, LF_OP_HOST, LF_OP_MS, LF_OP_TS,
	LF_OP_NS,               /* decoyproxy: namespace (segment) of the listener */
	LF_OP_SAMPLE,           /* %[expr]: off = index in lf_expr.smp */
	LF_OP_HR, LF_OP_HRL,    /* capture slots (lf_sample_ops.captures) */
};

struct lf_node {
	uint8_t op;             /* enum lf_op */
	uint8_t flags;          /* LF_FL_* */
	uint32_t off, len;      /* LF_OP_TEXT: slice of lf_expr.text */
};

struct lf_expr {
	struct lf_node *nodes;
	size_t n;
	char *text;             /* literal bytes of every text node */
	size_t text_len;
	char host[256];         /* %H, read at compile time */
	bool uses_bsrc;         /* has %bi or %bp */
	void **smp;             /* compiled %[...] expressions (lf_sample_ops) */
	size_t nsmp;
};

static const struct lf_sample_ops *smp_ops;

void lf_set_sample_ops(const struct lf_sample_ops *ops)
{
	smp_ops = ops;
}

/* Alias table. op < 0 means "known to HAProxy but not available here", with
 * the reason given in why. Sorted like HAProxy's documentation, not searched
 * by bisection: it is only read at compile time. */
struct lf_alias {
	const char *name;
	int op;
	const char *why;
};

static const char lf_why_http[] = "is only available in HTTP mode, and decoyproxy relays TCP only";
static const char lf_why_nodata[] = "is not supported by decoyproxy (no such data is kept)";
static const char lf_why_ssl[] = "is only available with SSL, which decoyproxy does not terminate";

static const struct lf_alias lf_aliases[] = {
	{ "B",   LF_OP_BYTES_DOWN, NULL },
	{ "H",   LF_OP_HOST, NULL },
	{ "ID",  LF_OP_ID, NULL },
	{ "T",   LF_OP_DATE_GMT, NULL },
	{ "Tc",  LF_OP_TC, NULL },
	{ "Tl",  LF_OP_DATE_LOCAL, NULL },
	{ "Ts",  LF_OP_TS, NULL },
	{ "Tt",  LF_OP_TT, NULL },
	{ "Tw",  LF_OP_TW, NULL },
	{ "U",   LF_OP_BYTES_UP, NULL },
	{ "ac",  LF_OP_AC, NULL },
	{ "b",   LF_OP_B, NULL },
	{ "bc",  LF_OP_BC, NULL },
	{ "bi",  LF_OP_BI, NULL },
	{ "bp",  LF_OP_BP, NULL },
	{ "bq",  LF_OP_BQ, NULL },
	{ "ci",  LF_OP_CI, NULL },
	{ "cp",  LF_OP_CP, NULL },
	{ "f",   LF_OP_F, NULL },
	{ "fc",  LF_OP_FC, NULL },
	{ "fi",  LF_OP_FI, NULL },
	{ "fp",  LF_OP_FP, NULL },
	{ "ft",  LF_OP_FT, NULL },
	{ "ms",  LF_OP_MS, NULL },
	{ "ns",  LF_OP_NS, NULL },      /* decoyproxy extension */
	{ "pid", LF_OP_PID, NULL },
	{ "rc",  LF_OP_RC, NULL },
	{ "rt",  LF_OP_RT, NULL },
	{ "s",   LF_OP_S, NULL },
	{ "sc",  LF_OP_SC, NULL },
	{ "si",  LF_OP_SI, NULL },
	{ "sp",  LF_OP_SP, NULL },
	{ "sq",  LF_OP_SQ, NULL },
	{ "t",   LF_OP_DATE, NULL },
	{ "ts",  LF_OP_TS_STATE, NULL },
	/* HTTP mode only */
	{ "CC",  -1, lf_why_http }, { "CS",  -1, lf_why_http },
	{ "HM",  -1, lf_why_http }, { "HP",  -1, lf_why_http },
	{ "HPO", -1, lf_why_http }, { "HQ",  -1, lf_why_http },
	{ "HU",  -1, lf_why_http }, { "HV",  -1, lf_why_http },
	{ "Ta",  -1, lf_why_http }, { "Ti",  -1, lf_why_http },
	{ "Tq",  -1, lf_why_http }, { "TR",  -1, lf_why_http },
	{ "Tr",  -1, lf_why_http }, { "r",   -1, lf_why_http },
	{ "tr",  -1, lf_why_http }, { "trg", -1, lf_why_http },
	/* tcp-request content capture slots (HAProxy prints them in TCP too) */
	{ "hr",  LF_OP_HR, NULL }, { "hrl", LF_OP_HRL, NULL },
	{ "trl", -1, lf_why_http }, { "hs",  -1, lf_why_http },
	{ "hsl", -1, lf_why_http }, { "ST",  -1, lf_why_http },
	{ "tsc", -1, lf_why_http },
	/* TCP aliases whose data decoyproxy does not record */
	{ "Th",  -1, lf_why_nodata }, { "Td",  -1, lf_why_nodata },
	{ "Tu",  -1, lf_why_nodata }, { "lc",  -1, lf_why_nodata },
	{ "sslc", -1, lf_why_ssl }, { "sslv", -1, lf_why_ssl },
};

/* ---------------------------------------------------------------------------
 * compile
 * ------------------------------------------------------------------------- */

/* Builder state: the arrays are sized for the worst case up front (one node
 * per input byte, the whole input as text), so appends cannot fail. */
struct lf_build {
	struct lf_expr *e;
	const char *fmt;
	uint8_t defflags;       /* set by %{...}o */
	bool last_text;         /* previous node is text and may be extended */
};

static void lf_add_text(struct lf_build *b, const char *s, size_t n)
{
	struct lf_expr *e = b->e;

	if (!b->last_text) {
		e->nodes[e->n].op = LF_OP_TEXT;
		e->nodes[e->n].flags = 0;
		e->nodes[e->n].off = (uint32_t)e->text_len;
		e->nodes[e->n].len = 0;
		e->n++;
		b->last_text = true;
	}
	memcpy(e->text + e->text_len, s, n);
	e->text_len += n;
	e->nodes[e->n - 1].len += (uint32_t)n;
}

static void lf_add_op(struct lf_build *b, int op, uint8_t flags)
{
	struct lf_expr *e = b->e;

	e->nodes[e->n].op = (uint8_t)op;
	e->nodes[e->n].flags = flags;
	e->nodes[e->n].off = 0;
	e->nodes[e->n].len = 0;
	e->n++;
	b->last_text = false;
}

/* Parses the flag list between "%{" and "}" (s, n bytes), starting from
 * *flags. Returns 0 or -EINVAL with *err naming the bad flag; where is the
 * whole "%{...}" text for the message. */
static int lf_parse_flags(const char *s, size_t n, uint8_t *flags, const char *where,
			  int where_len, char **err)
{
	size_t i = 0;

	while (i <= n) {
		size_t j = i;
		uint8_t bit = 0;
		char sign;

		while (j < n && s[j] != ',')
			j++;
		/* s[i..j) is one item such as "+Q" */
		if (j - i < 2 || (s[i] != '+' && s[i] != '-')) {
			memprintf(err, "invalid flag '%.*s' in '%.*s': expected '+' or '-' followed by Q, X, E or M",
				  (int)(j - i), s + i, where_len, where);
			return -EINVAL;
		}
		sign = s[i];
		if (j - i == 2) {
			switch (s[i + 1]) {
			case 'Q': bit = LF_FL_Q; break;
			case 'X': bit = LF_FL_X; break;
			case 'E': bit = LF_FL_E; break;
			case 'M': bit = LF_FL_M; break;
			default: break;
			}
		}
		if (!bit) {
			memprintf(err, "unknown flag '%.*s' in '%.*s' (supported: Q, X, E, M)",
				  (int)(j - i - 1), s + i + 1, where_len, where);
			return -EINVAL;
		}
		if (sign == '+')
			*flags |= bit;
		else
			*flags &= (uint8_t)~bit;
		i = j + 1;
	}
	return 0;
}

static const struct lf_alias *lf_find_alias(const char *name, size_t n)
{
	for (size_t i = 0; i < ARRAY_SIZE(lf_aliases); i++)
		if (strlen(lf_aliases[i].name) == n && !memcmp(lf_aliases[i].name, name, n))
			return &lf_aliases[i];
	return NULL;
}

/* Compiles the '%' sequence starting at fmt + *pos; advances *pos past it. */
static int lf_parse_alias(struct lf_build *b, size_t *pos, char **err)
{
	const char *fmt = b->fmt;
	const char *start = fmt + *pos;
	const char *p = start + 1;
	const struct lf_alias *a;
	uint8_t flags = b->defflags;
	const char *name;
	size_t n;
	int ret;

	if (*p == '%') {
		lf_add_text(b, "%", 1);
		*pos += 2;
		return 0;
	}
	if (*p == '\0') {
		memprintf(err, "format ends with a lone '%%' (write '%%%%' for a literal '%%')");
		return -EINVAL;
	}
	if (*p == '{') {
		const char *close = strchr(p, '}');

		if (!close) {
			memprintf(err, "unterminated '%%{' in '%s': missing '}'", start);
			return -EINVAL;
		}
		ret = lf_parse_flags(p + 1, (size_t)(close - p - 1), &flags, start,
				     (int)(close - start + 1), err);
		if (ret < 0)
			return ret;
		p = close + 1;
	}
	if (*p == '[') {
		const char *close = p + 1;
		int depth = 0;
		char q = 0, *txt;
		void *c = NULL, **v;

		/* the matching ']': outside quotes and parentheses */
		for (; *close && (q || depth || *close != ']'); close++) {
			if (q) {
				if (*close == '\\' && close[1])
					close++;
				else if (*close == q)
					q = 0;
			} else if (*close == '"' || *close == '\'') {
				q = *close;
			} else if (*close == '\\' && close[1]) {
				close++;
			} else if (*close == '(') {
				depth++;
			} else if (*close == ')' && depth) {
				depth--;
			}
		}
		if (!*close) {
			memprintf(err, "missing ']' after sample expression '%s'", start);
			return -EINVAL;
		}
		if (!smp_ops) {
			memprintf(err, "sample fetch expressions are not supported here: '%.*s'",
				  (int)(close - start + 1), start);
			return -EINVAL;
		}
		txt = strndup(p + 1, (size_t)(close - p - 1));
		v = realloc(b->e->smp, (b->e->nsmp + 1) * sizeof(*v));
		if (!txt || !v) {
			free(txt);
			if (v)
				b->e->smp = v;
			memprintf(err, "out of memory");
			return -ENOMEM;
		}
		b->e->smp = v;
		ret = smp_ops->compile(txt, &c, err);
		free(txt);
		if (ret < 0)
			return ret;
		b->e->smp[b->e->nsmp] = c;
		lf_add_op(b, LF_OP_SAMPLE, flags);
		b->e->nodes[b->e->n - 1].off = (uint32_t)b->e->nsmp++;
		*pos = (size_t)(close + 1 - fmt);
		return 0;
	}
	name = p;
	while (isalnum((unsigned char)*p))
		p++;
	n = (size_t)(p - name);
	if (!n) {
		if (p != start + 1)
			memprintf(err, "flags '%.*s' are not followed by an alias name",
				  (int)(p - start), start);
		else
			memprintf(err, "unexpected character '%c' after '%%' (write '%%%%' for a literal '%%')",
				  *p);
		return -EINVAL;
	}
	if (n == 1 && *name == 'o') {
		/* %o: its flags become the default of every following alias */
		b->defflags = flags;
		*pos = (size_t)(p - fmt);
		return 0;
	}
	a = lf_find_alias(name, n);
	if (!a) {
		memprintf(err, "unknown log-format alias '%%%.*s' (write '%%%%' for a literal '%%')",
			  (int)n, name);
		return -EINVAL;
	}
	if (a->op < 0) {
		memprintf(err, "log-format alias '%%%.*s' %s", (int)n, name, a->why);
		return -EINVAL;
	}
	lf_add_op(b, a->op, flags);
	*pos = (size_t)(p - fmt);
	return 0;
}

int lf_compile(const char *fmt, struct lf_expr **out, char **err)
{
	struct lf_build b = { .fmt = fmt };
	struct lf_expr *e;
	size_t len, pos = 0;
	int ret = -ENOMEM;

	*out = NULL;
	if (!fmt)
		fmt = b.fmt = "";
	len = strlen(fmt);
	if (len > UINT32_MAX / 2) {
		memprintf(err, "log-format too long");
		return -EINVAL;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		goto fail_nomem;
	b.e = e;
	e->nodes = calloc(len + 1, sizeof(*e->nodes));
	e->text = malloc(len + 1);
	if (!e->nodes || !e->text)
		goto fail_nomem;

	while (fmt[pos]) {
		if (fmt[pos] == ' ') {
			while (fmt[pos] == ' ')
				pos++;
			lf_add_op(&b, LF_OP_SEP, 0);
		} else if (fmt[pos] == '%') {
			ret = lf_parse_alias(&b, &pos, err);
			if (ret < 0)
				goto fail;
		} else {
			lf_add_text(&b, fmt + pos, 1);
			pos++;
		}
	}

	for (size_t i = 0; i < e->n; i++)
		if (e->nodes[i].op == LF_OP_BI || e->nodes[i].op == LF_OP_BP)
			e->uses_bsrc = true;
	/* %H is the system host name, as in HAProxy; read once here */
	if (gethostname(e->host, sizeof(e->host) - 1) < 0)
		e->host[0] = '\0';
	e->host[sizeof(e->host) - 1] = '\0';
	*out = e;
	return 0;

fail_nomem:
	memprintf(err, "out of memory");
	ret = -ENOMEM;
fail:
	lf_free(e);
	return ret;
}

bool lf_uses_bsrc(const struct lf_expr *e)
{
	return e && e->uses_bsrc;
}

void lf_free(struct lf_expr *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->nsmp; i++)
		if (smp_ops && e->smp[i])
			smp_ops->free(e->smp[i]);
	free(e->smp);
	free(e->nodes);
	free(e->text);
	free(e);
}

/* ---------------------------------------------------------------------------
 * render
 * ------------------------------------------------------------------------- */

/* Bounded writer: p is where the next byte goes, left how many bytes may
 * still be written (the NUL slot is not counted). Writes past the end are
 * silently cut, which is how lf_render truncates. */
struct lf_out {
	char *p;
	size_t left;
};

static void out_mem(struct lf_out *o, const char *s, size_t n)
{
	if (n > o->left)
		n = o->left;
	memcpy(o->p, s, n);
	o->p += n;
	o->left -= n;
}

static void out_chr(struct lf_out *o, char c)
{
	if (o->left) {
		*o->p++ = c;
		o->left--;
	}
}

static void out_str(struct lf_out *o, const char *s)
{
	out_mem(o, s, strlen(s));
}

static void out_fmt(struct lf_out *o, const char *fmt, ...) DP_PRINTF(2, 3);
static void out_fmt(struct lf_out *o, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(tmp))
		n = sizeof(tmp) - 1;
	out_mem(o, tmp, (size_t)n);
}

/* A string field: quoted with Q, escaped with E. Control bytes and DEL are
 * always written as "#XX" (HAProxy's escape for captured bytes) so that no
 * value can inject a line break into a log line. NULL or "" is a missing
 * value: "-", or "" with Q. */
static void out_text(struct lf_out *o, const char *s, uint8_t flags)
{
	static const char hex[] = "0123456789ABCDEF";

	if (flags & LF_FL_Q)
		out_chr(o, '"');
	else if (!s || !*s) {
		out_chr(o, '-');
		return;
	}
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f) {
			out_chr(o, '#');
			out_chr(o, hex[c >> 4]);
			out_chr(o, hex[c & 15]);
			continue;
		}
		if ((flags & LF_FL_E) && (c == '"' || c == '\\' || c == ']'))
			out_chr(o, '\\');
		out_chr(o, (char)c);
	}
	if (flags & LF_FL_Q)
		out_chr(o, '"');
}

static void out_ip(struct lf_out *o, const struct sockaddr_storage *ss, uint8_t flags)
{
	char buf[INET6_ADDRSTRLEN];

	switch (ss->ss_family) {
	case AF_INET: {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
		const unsigned char *a = (const unsigned char *)&sin->sin_addr;

		if (flags & LF_FL_X) {
			out_fmt(o, "%02X%02X%02X%02X", a[0], a[1], a[2], a[3]);
			return;
		}
		inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf));
		out_text(o, buf, flags);
		return;
	}
	case AF_INET6: {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

		if (flags & LF_FL_X) {
			for (int i = 0; i < 16; i++)
				out_fmt(o, "%02X", sin6->sin6_addr.s6_addr[i]);
			return;
		}
		inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof(buf));
		out_text(o, buf, flags);
		return;
	}
	case AF_UNIX:
		/* HAProxy writes "unix" for a client of a UNIX listener */
		out_text(o, "unix", flags);
		return;
	default:
		out_text(o, NULL, flags);
		return;
	}
}

/* A unix socket has no port: HAProxy prints 0, except for the client's
 * and frontend's (%cp, %fp), where it prints the listener's id (luid). */
static void out_port(struct lf_out *o, const struct sockaddr_storage *ss, uint8_t flags, unsigned luid)
{
	unsigned port;

	if (ss->ss_family == AF_INET)
		port = ntohs(((const struct sockaddr_in *)ss)->sin_port);
	else if (ss->ss_family == AF_INET6)
		port = ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	else if (ss->ss_family == AF_UNIX)
		port = luid;
	else {
		out_text(o, NULL, flags);
		return;
	}
	if (flags & LF_FL_X)
		out_fmt(o, "%04X", port);
	else
		out_fmt(o, "%u", port);
}

static const char lf_months[12][4] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

/* "06/Feb/2009:12:12:51" from tm; the caller appends the rest. */
static void out_clf_date(struct lf_out *o, const struct tm *tm)
{
	out_fmt(o, "%02d/%s/%04d:%02d:%02d:%02d", tm->tm_mday, lf_months[tm->tm_mon % 12],
		tm->tm_year + 1900, tm->tm_hour, tm->tm_min, tm->tm_sec);
}

static void out_date(struct lf_out *o, const struct timeval *tv, int op)
{
	time_t t = tv->tv_sec;
	struct tm tm;
	long off;

	if (op == LF_OP_DATE_GMT) {
		gmtime_r(&t, &tm);
		out_clf_date(o, &tm);
		out_str(o, " +0000");
		return;
	}
	localtime_r(&t, &tm);
	out_clf_date(o, &tm);
	if (op == LF_OP_DATE) {
		out_fmt(o, ".%03u", (unsigned)(tv->tv_usec / 1000) % 1000);
		return;
	}
	off = tm.tm_gmtoff;
	out_fmt(o, " %c%02ld%02ld", off < 0 ? '-' : '+', labs(off) / 3600, labs(off) / 60 % 60);
}

static void lf_render_node(struct lf_out *o, const struct lf_expr *e, const struct lf_node *nd,
			   const struct log_sess *ls)
{
	uint8_t fl = nd->flags;

	switch ((enum lf_op)nd->op) {
	case LF_OP_TEXT:
	case LF_OP_SEP:
		break;  /* handled by the caller */
	case LF_OP_CI: out_ip(o, &ls->cli, fl); break;
	case LF_OP_CP: out_port(o, &ls->cli, fl, ls->luid); break;
	case LF_OP_FI: out_ip(o, &ls->fe, fl); break;
	case LF_OP_FP: out_port(o, &ls->fe, fl, ls->luid); break;
	case LF_OP_BI: out_ip(o, &ls->bsrc, fl); break;
	case LF_OP_BP: out_port(o, &ls->bsrc, fl, 0); break;
	case LF_OP_SI: out_ip(o, &ls->srv, fl); break;
	case LF_OP_SP: out_port(o, &ls->srv, fl, 0); break;
	case LF_OP_FT:
	case LF_OP_F:
		out_text(o, ls->frontend, fl);
		break;
	case LF_OP_B:
		out_text(o, ls->backend ? ls->backend : ls->frontend, fl);
		break;
	case LF_OP_S:
		out_text(o, ls->server ? ls->server : "<NOSRV>", fl);
		break;
	case LF_OP_DATE:
	case LF_OP_DATE_GMT:
	case LF_OP_DATE_LOCAL:
		out_date(o, &ls->accept_tv, nd->op);
		break;
	case LF_OP_TW: out_fmt(o, "%ld", ls->tw); break;
	case LF_OP_TC: out_fmt(o, "%ld", ls->tc); break;
	case LF_OP_TT: out_fmt(o, ls->logasap ? "+%ld" : "%ld", ls->tt); break;
	case LF_OP_BYTES_DOWN: out_fmt(o, ls->logasap ? "+%" PRIu64 : "%" PRIu64, ls->bytes_down); break;
	case LF_OP_BYTES_UP: out_fmt(o, "%" PRIu64, ls->bytes_up); break;
	case LF_OP_TS_STATE:
		/* never quoted, like HAProxy; at most two letters */
		out_mem(o, ls->term, strnlen(ls->term, 2));
		break;
	case LF_OP_AC: out_fmt(o, "%u", ls->ac); break;
	case LF_OP_FC: out_fmt(o, "%u", ls->fc); break;
	case LF_OP_BC: out_fmt(o, "%u", ls->bc); break;
	case LF_OP_SC: out_fmt(o, "%u", ls->sc); break;
	case LF_OP_RC: out_fmt(o, "%u", ls->rc); break;
	case LF_OP_SQ: out_fmt(o, "%u", ls->sq); break;
	case LF_OP_BQ: out_fmt(o, "%u", ls->bq); break;
	case LF_OP_PID:
		/* not cached: the daemon forks after the format is compiled */
		out_fmt(o, (fl & LF_FL_X) ? "%04X" : "%d", (int)getpid());
		break;
	case LF_OP_RT:
		/* HAProxy's request counter: in TCP mode, one per session */
		out_fmt(o, (fl & LF_FL_X) ? "%04llX" : "%llu", ls->rt);
		break;
	case LF_OP_ID: out_text(o, ls->unique_id, fl); break;
	case LF_OP_NS: out_text(o, ls->netns, fl); break;
	case LF_OP_HOST: out_text(o, e->host, fl); break;
	case LF_OP_MS:
		out_fmt(o, (fl & LF_FL_X) ? "%02X" : "%03u",
			(unsigned)(ls->accept_tv.tv_usec / 1000) % 1000);
		break;
	case LF_OP_SAMPLE: {
		char v[1024];
		int n = smp_ops && ls->smp_ctx ? smp_ops->render(e->smp[nd->off], ls->smp_ctx, v, sizeof(v)) : -1;

		out_text(o, n < 0 ? NULL : v, fl);
		break;
	}
	case LF_OP_HR:
	case LF_OP_HRL: {
		char v[2048];
		int n = smp_ops && smp_ops->captures && ls->smp_ctx ?
			smp_ops->captures(ls->smp_ctx, nd->op == LF_OP_HRL, (fl & LF_FL_Q) != 0, v, sizeof(v)) : -1;

		if (n > 0)
			out_mem(o, v, (size_t)n);
		break;
	}
	case LF_OP_TS:
		if (fl & LF_FL_X)
			out_fmt(o, "%04X", (unsigned)ls->accept_tv.tv_sec);
		else
			out_fmt(o, "%lld", (long long)ls->accept_tv.tv_sec);
		break;
	}
}

size_t lf_render(const struct lf_expr *e, const struct log_sess *ls, char *buf, size_t cap)
{
	struct lf_out o;
	bool last_space = true;     /* drops leading separators, as HAProxy */

	if (!cap)
		return 0;
	o.p = buf;
	o.left = cap - 1;
	for (size_t i = 0; e && i < e->n && o.left; i++) {
		const struct lf_node *nd = &e->nodes[i];

		if (nd->op == LF_OP_SEP) {
			if (!last_space)
				out_chr(&o, ' ');
			last_space = true;
			continue;
		}
		char *before = o.p;

		if (nd->op == LF_OP_TEXT)
			out_mem(&o, e->text + nd->off, nd->len);
		else
			lf_render_node(&o, e, nd, ls);
		/* a node that printed nothing (%hr without capture slots)
		 * leaves the separator state alone, as HAProxy */
		if (o.p != before)
			last_space = false;
	}
	*o.p = '\0';
	return (size_t)(o.p - buf);
}
