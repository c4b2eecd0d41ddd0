/* httpreq.c — strict HTTP/1.x request head parser and small decoders (see
 * httpreq.h for the rules). Every index is checked against the bytes
 * present; nothing is read past buf[len). */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "lib/httpreq.h"

/* RFC 9110 tchar */
static bool is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c);
}

static unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

bool http_str_ieq(struct http_str s, const char *lit)
{
	size_t n = strlen(lit);

	if (s.len != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower((unsigned char)s.p[i]) != lower((unsigned char)lit[i]))
			return false;
	return true;
}

/* Whether a comma-separated header value holds token tok. */
static bool has_token(struct http_str v, const char *tok)
{
	size_t i = 0;

	while (i < v.len) {
		size_t b, e;

		while (i < v.len && (v.p[i] == ' ' || v.p[i] == '\t' || v.p[i] == ','))
			i++;
		b = i;
		while (i < v.len && v.p[i] != ',')
			i++;
		e = i;
		while (e > b && (v.p[e - 1] == ' ' || v.p[e - 1] == '\t'))
			e--;
		if (e > b && http_str_ieq((struct http_str){ v.p + b, e - b }, tok))
			return true;
	}
	return false;
}

/* The end of the line starting at p: the index of its CR (followed by LF),
 * or (size_t)-1 when incomplete, (size_t)-2 on a bare CR or LF. */
static size_t line_end(const char *buf, size_t len, size_t p)
{
	for (size_t i = p; i < len; i++) {
		if (buf[i] == '\n')
			return (size_t)-2;
		if (buf[i] == '\r') {
			if (i + 1 >= len)
				return (size_t)-1;
			return buf[i + 1] == '\n' ? i : (size_t)-2;
		}
	}
	return (size_t)-1;
}

static int parse_request_line(const char *buf, size_t eol, struct http_req *r)
{
	size_t i = 0, b;

	while (i < eol && is_tchar((unsigned char)buf[i]))
		i++;
	if (i == 0 || i >= eol || buf[i] != ' ')
		return -400;
	r->meth = (struct http_str){ buf, i };
	b = ++i;
	while (i < eol && (unsigned char)buf[i] > 0x20 && (unsigned char)buf[i] < 0x7f)
		i++;
	if (i == b || i >= eol || buf[i] != ' ')
		return -400;
	r->target = (struct http_str){ buf + b, i - b };
	i++;
	if (eol - i != 8 || memcmp(buf + i, "HTTP/", 5) || buf[i + 6] != '.')
		return -400;
	if (buf[i + 5] < '0' || buf[i + 5] > '9' || buf[i + 7] < '0' || buf[i + 7] > '9')
		return -400;
	if (buf[i + 5] != '1' || (buf[i + 7] != '0' && buf[i + 7] != '1'))
		return -505;
	r->minor = buf[i + 7] - '0';
	return 0;
}

static int parse_clen(struct http_str v, unsigned long long *out)
{
	unsigned long long n = 0;

	if (!v.len || v.len > 15)
		return -1;
	for (size_t i = 0; i < v.len; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return -1;
		n = n * 10 + (unsigned long long)(v.p[i] - '0');
	}
	*out = n;
	return 0;
}

/* One header line buf[b..eol): checks it and notes what matters. */
static int parse_header(const char *buf, size_t b, size_t eol, struct http_req *r, unsigned *hosts, bool *te)
{
	size_t i = b, vb, ve;
	struct http_str name, val;

	if (buf[b] == ' ' || buf[b] == '\t')
		return -400; /* obsolete line folding */
	while (i < eol && is_tchar((unsigned char)buf[i]))
		i++;
	if (i == b || i >= eol || buf[i] != ':')
		return -400; /* empty name, bad byte, or whitespace before ':' */
	name = (struct http_str){ buf + b, i - b };
	vb = i + 1;
	while (vb < eol && (buf[vb] == ' ' || buf[vb] == '\t'))
		vb++;
	ve = eol;
	while (ve > vb && (buf[ve - 1] == ' ' || buf[ve - 1] == '\t'))
		ve--;
	for (size_t k = vb; k < ve; k++) {
		unsigned char c = (unsigned char)buf[k];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return -400;
	}
	val = (struct http_str){ buf + vb, ve - vb };
	if (http_str_ieq(name, "content-length")) {
		if (r->has_clen || parse_clen(val, &r->clen) < 0)
			return -400;
		r->has_clen = true;
	} else if (http_str_ieq(name, "transfer-encoding")) {
		*te = true;
	} else if (http_str_ieq(name, "host")) {
		if (++*hosts > 1)
			return -400;
		r->host = val;
	} else if (http_str_ieq(name, "authorization")) {
		if (r->authorization.p)
			return -400;
		r->authorization = val;
	} else if (http_str_ieq(name, "connection")) {
		r->conn_close |= has_token(val, "close");
		r->conn_keepalive |= has_token(val, "keep-alive");
	}
	return 0;
}

int http_req_parse(const char *buf, size_t len, size_t max_head, struct http_req *r)
{
	size_t p = 0, eol;
	unsigned hosts = 0;
	bool te = false;
	int ret;

	memset(r, 0, sizeof(*r));
	eol = line_end(buf, len, 0);
	if (eol == (size_t)-2)
		return -400;
	if (eol == (size_t)-1) {
		/* the request line is visible ASCII and spaces: a client
		 * sending anything else (a TLS handshake...) is answered now,
		 * not once the head is full */
		for (size_t i = 0; i < len; i++) {
			unsigned char c = (unsigned char)buf[i];

			if ((c < 0x20 && !(c == '\r' && i + 1 == len)) || c >= 0x7f)
				return -400;
		}
		return len >= max_head ? -413 : 0;
	}
	if (eol + 2 > max_head)
		return -413;
	if ((ret = parse_request_line(buf, eol, r)) < 0)
		return ret;
	p = eol + 2;
	for (;;) {
		eol = line_end(buf, len, p);
		if (eol == (size_t)-2)
			return -400;
		if (eol == (size_t)-1)
			return len >= max_head ? -413 : 0;
		if (eol + 2 > max_head)
			return -413;
		if (eol == p)
			break; /* the empty line: end of the head */
		if (++r->nhdrs > HTTPREQ_MAX_HDRS)
			return -413;
		if ((ret = parse_header(buf, p, eol, r, &hosts, &te)) < 0)
			return ret;
		p = eol + 2;
	}
	if (te)
		return r->has_clen ? -400 : -501;
	if (r->minor == 1 && hosts != 1)
		return -400;
	r->head_len = eol + 2;
	r->keep_alive = r->minor == 1 ? !r->conn_close : (r->conn_keepalive && !r->conn_close);
	return (int)r->head_len;
}

/* ---- decoders ------------------------------------------------------------ */

static int b64_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int http_basic_decode(struct http_str v, char *out, size_t cap, const char **pass)
{
	size_t i = 0, o = 0, n;
	uint32_t acc = 0;
	int bits = 0;
	char *colon;

	if (v.len < 6 || !http_str_ieq((struct http_str){ v.p, 5 }, "basic") || (v.p[5] != ' '))
		return -1;
	i = 6;
	while (i < v.len && v.p[i] == ' ')
		i++;
	n = v.len;
	while (n > i && v.p[n - 1] == '=')
		n--;
	if (v.len - n > 2 || ((v.len - i) % 4))
		return -1;
	for (; i < n; i++) {
		int d = b64_val((unsigned char)v.p[i]);

		if (d < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o + 1 >= cap)
				return -1;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	out[o] = '\0';
	if (memchr(out, '\0', o))
		return -1;
	colon = strchr(out, ':');
	if (!colon)
		return -1;
	*colon = '\0';
	*pass = colon + 1;
	return 0;
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decodes body[b..e) into dst[0..cap). Returns 0 or -1. */
static int form_decode(const char *body, size_t b, size_t e, char *dst, size_t cap)
{
	size_t o = 0;

	for (size_t i = b; i < e; i++) {
		unsigned char c = (unsigned char)body[i];

		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			int h, l;

			if (i + 2 >= e || (h = hexval((unsigned char)body[i + 1])) < 0 ||
			    (l = hexval((unsigned char)body[i + 2])) < 0)
				return -1;
			c = (unsigned char)(h * 16 + l);
			i += 2;
		}
		if (c < 0x20 || c == 0x7f)
			return -1;
		if (o + 1 >= cap)
			return -1;
		dst[o++] = (char)c;
	}
	dst[o] = '\0';
	return 0;
}

int http_form_next(const char *body, size_t len, size_t *pos, char *name, size_t ncap, char *val, size_t vcap)
{
	size_t b = *pos, e, eq;

	while (b < len && body[b] == '&')
		b++;
	if (b >= len) {
		*pos = len;
		return 0;
	}
	e = b;
	while (e < len && body[e] != '&')
		e++;
	eq = b;
	while (eq < e && body[eq] != '=')
		eq++;
	if (form_decode(body, b, eq, name, ncap) < 0)
		return -1;
	if (form_decode(body, eq < e ? eq + 1 : e, e, val, vcap) < 0)
		return -1;
	*pos = e;
	return 1;
}

bool http_secret_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d = la != lb;

	for (size_t i = 0; i < la; i++)
		d |= (unsigned char)(a[i] ^ b[i < lb ? i : 0]);
	return !d && la == lb;
}
