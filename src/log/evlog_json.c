/* evlog_json.c — JSON escaping and the event record builder (evlog.h).
 *
 * Everything here writes into a caller's buffer through bounds checks and
 * allocates nothing: an event carries attacker bytes (names it sent, later
 * SNI and protocol guesses), so escaping is strict and fuzzed
 * (tests/fuzz/fuzz_json.c): every output line must parse as JSON whatever
 * the input.
 */
#include "config.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log/evlog.h"

void (*evlog_now_hook)(struct timeval *tv);

/* Length of the well-formed UTF-8 sequence starting at s (n bytes left),
 * 0 when it is ill-formed (Unicode's table 3-7). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t need;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c >= 0xc2 && c <= 0xdf)
		need = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		need = 3;
		if (c == 0xe0)
			lo = 0xa0;      /* no overlong forms */
		else if (c == 0xed)
			hi = 0x9f;      /* no surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;      /* at most U+10FFFF */
	} else
		return 0;
	if (n < need || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < need; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return need;
}

size_t json_escape(char *out, size_t cap, const void *src, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = src;
	size_t o = 0, i = 0;

#define PUT(ch) do { if (o < cap) out[o] = (char)(ch); o++; } while (0)
	while (i < n) {
		unsigned char c = s[i];
		size_t u;

		if (c >= 0x20 && c < 0x7f) {
			if (c == '"' || c == '\\')
				PUT('\\');
			PUT(c);
			i++;
			continue;
		}
		if (c >= 0x80 && (u = utf8_len(s + i, n - i)) != 0) {
			for (size_t k = 0; k < u; k++)
				PUT(s[i + k]);
			i += u;
			continue;
		}
		PUT('\\');
		switch (c) {
		case '\b': PUT('b'); break;
		case '\f': PUT('f'); break;
		case '\n': PUT('n'); break;
		case '\r': PUT('r'); break;
		case '\t': PUT('t'); break;
		default:
			/* other controls, DEL, and each byte of an ill-formed
			 * UTF-8 sequence */
			PUT('u'); PUT('0'); PUT('0');
			PUT(hex[c >> 4]);
			PUT(hex[c & 15]);
			break;
		}
		i++;
	}
#undef PUT
	return o;
}

/* ---- the builder ------------------------------------------------------------ */

static void put_raw(struct evlog_rec *r, const char *s, size_t n)
{
	if (r->overflow || n > r->cap - r->len) {
		r->overflow = true;
		return;
	}
	memcpy(r->buf + r->len, s, n);
	r->len += n;
}

static void put_escaped(struct evlog_rec *r, const void *s, size_t n)
{
	size_t need;

	if (r->overflow)
		return;
	need = json_escape(r->buf + r->len, r->cap - r->len, s, n);
	if (need > r->cap - r->len) {
		r->overflow = true;
		return;
	}
	r->len += need;
}

/* ,"key": */
static void put_key(struct evlog_rec *r, const char *key)
{
	put_raw(r, ",\"", 2);
	put_escaped(r, key, strlen(key));
	put_raw(r, "\":", 2);
}

static void put_fmt(struct evlog_rec *r, const char *fmt, ...) DP_PRINTF(2, 3);
static void put_fmt(struct evlog_rec *r, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		r->overflow = true;
		return;
	}
	put_raw(r, tmp, (size_t)n);
}

static void put_time(struct evlog_rec *r, const struct timeval *tv)
{
	time_t t = tv->tv_sec;
	struct tm tm;

	gmtime_r(&t, &tm);
	put_fmt(r, "\"%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ\"", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		tm.tm_hour, tm.tm_min, tm.tm_sec, (long)tv->tv_usec % 1000000);
}

void evlog_begin_buf(struct evlog_rec *r, char *buf, size_t cap, const char *type, const struct timeval *tv)
{
	struct timeval now;

	r->buf = buf;
	r->cap = cap;
	r->len = 0;
	r->mark = 0;
	r->overflow = cap < 2;
	if (!tv) {
		if (evlog_now_hook)
			evlog_now_hook(&now);
		else
			gettimeofday(&now, NULL);
		tv = &now;
	}
	put_fmt(r, "{\"v\":%d", EVLOG_VERSION);
	evlog_str(r, "type", type ? type : "unknown");
	evlog_time(r, "time", tv);
}

void evlog_begin(struct evlog_rec *r, const char *type)
{
	/* per thread: events of several threads are built side by side */
	static __thread char buf[EVLOG_LINE_MAX];

	evlog_begin_buf(r, buf, sizeof(buf) - 2 /* "}" and "\n" */, type, NULL);
}

void evlog_strn(struct evlog_rec *r, const char *key, const void *s, size_t n)
{
	if (!s)
		return;
	put_key(r, key);
	put_raw(r, "\"", 1);
	put_escaped(r, s, n);
	put_raw(r, "\"", 1);
}

void evlog_str(struct evlog_rec *r, const char *key, const char *s)
{
	if (s)
		evlog_strn(r, key, s, strlen(s));
}

void evlog_int(struct evlog_rec *r, const char *key, long long v)
{
	put_key(r, key);
	put_fmt(r, "%lld", v);
}

void evlog_uint(struct evlog_rec *r, const char *key, unsigned long long v)
{
	put_key(r, key);
	put_fmt(r, "%llu", v);
}

void evlog_bool(struct evlog_rec *r, const char *key, bool v)
{
	put_key(r, key);
	if (v)
		put_raw(r, "true", 4);
	else
		put_raw(r, "false", 5);
}

void evlog_time(struct evlog_rec *r, const char *key, const struct timeval *tv)
{
	put_key(r, key);
	put_time(r, tv);
}

void evlog_addr(struct evlog_rec *r, const char *prefix, const struct sockaddr_storage *ss)
{
	char key[64], ip[INET6_ADDRSTRLEN];
	unsigned port;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
		port = ntohs(sin->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
			inet_ntop(AF_INET, &sin6->sin6_addr.s6_addr[12], ip, sizeof(ip));
		else
			inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
		port = ntohs(sin6->sin6_port);
	} else {
		return;
	}
	snprintf(key, sizeof(key), "%s_ip", prefix);
	evlog_str(r, key, ip);
	snprintf(key, sizeof(key), "%s_port", prefix);
	evlog_uint(r, key, port);
}

void evlog_hex(struct evlog_rec *r, const char *key, const void *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *b = p;

	put_key(r, key);
	put_raw(r, "\"", 1);
	if (!r->overflow && n > (r->cap - r->len) / 2)
		r->overflow = true;
	for (size_t i = 0; i < n && !r->overflow; i++) {
		r->buf[r->len++] = hex[b[i] >> 4];
		r->buf[r->len++] = hex[b[i] & 15];
	}
	put_raw(r, "\"", 1);
}

void evlog_mark_optional(struct evlog_rec *r)
{
	if (!r->overflow)
		r->mark = r->len;
}

size_t evlog_end(struct evlog_rec *r)
{
	put_raw(r, "}", 1);
	return r->overflow ? 0 : r->len;
}
