/* httpreq.h — a strict HTTP/1.x request head parser for the statistics
 * page (ctl/stats_http.c), and the small decoders it needs (Basic
 * credentials, form fields). Pure functions on buffers: no allocation, no
 * I/O, no globals.
 *
 * Strict on purpose: the only HTTP server decoyproxy has faces whoever can
 * reach the stats address, so anything two parsers could read differently
 * is refused rather than guessed (RFC 9112 sections 2.2, 3, 5 and 6.3):
 *   - the request line is "<token> SP <target> SP HTTP/1.0|HTTP/1.1 CRLF",
 *     the target visible ASCII only; every line ends with CRLF (a bare LF
 *     or CR is an error);
 *   - a header name is a token immediately followed by ':' (whitespace
 *     before the colon, obsolete line folding, and control bytes in a
 *     value are errors);
 *   - Transfer-Encoding is refused (501 alone, 400 with Content-Length:
 *     the classic smuggling pair); Content-Length must be digits only and
 *     appear once; Host must appear exactly once in HTTP/1.1 and at most
 *     once in HTTP/1.0;
 *   - sizes are bounded by the caller: the head (request line and headers)
 *     and the number of header lines.
 */
#ifndef DECOYPROXY_HTTPREQ_H
#define DECOYPROXY_HTTPREQ_H

#include <stdbool.h>
#include <stddef.h>

/* Most header lines in one request. */
#define HTTPREQ_MAX_HDRS 64

/* A string inside the parsed buffer (not NUL-terminated). */
struct http_str {
	const char *p;
	size_t len;
};

struct http_req {
	struct http_str meth;
	struct http_str target;     /* the request target as sent */
	int minor;                  /* HTTP/1.<minor>: 0 or 1 */
	size_t head_len;            /* bytes of the head, final CRLF included */
	struct http_str host;       /* empty when absent */
	struct http_str authorization; /* value of Authorization, empty when absent */
	bool has_clen;
	unsigned long long clen;    /* Content-Length (0 when absent) */
	bool conn_close;            /* "Connection: close" (a token of it) */
	bool conn_keepalive;        /* "Connection: keep-alive" */
	bool keep_alive;            /* the connection may serve another request:
	                             * HTTP/1.1 without close, HTTP/1.0 with
	                             * keep-alive */
	unsigned nhdrs;
};

/* Parses the head of the request at buf[0..len). Returns the head length
 * (> 0) once it is complete and valid, 0 when more bytes are needed (and
 * what is there is valid so far, within max_head), or minus an HTTP status
 * to answer before closing: -400 (malformed, ambiguous), -413 (head longer
 * than max_head, or more than HTTPREQ_MAX_HDRS header lines), -501
 * (Transfer-Encoding), -505 (a version other than 1.0/1.1). r is filled
 * when the result is > 0. */
int http_req_parse(const char *buf, size_t len, size_t max_head, struct http_req *r);

/* Whether s equals the NUL-terminated lit, ASCII case-insensitively. */
bool http_str_ieq(struct http_str s, const char *lit);

/* Decodes the value of an Authorization header of the Basic scheme into
 * user and password (NUL-terminated, in out[0..cap)): user = out,
 * *pass = the byte after the first ':'. Returns 0, or -1 when the value is
 * not Basic, not base64, has no ':' or does not fit. */
int http_basic_decode(struct http_str value, char *out, size_t cap, const char **pass);

/* Iterates over "name=value&..." (application/x-www-form-urlencoded):
 * copies the next field's name and value, '+' and %XX decoded and
 * NUL-terminated, into name[0..ncap) and val[0..vcap), advancing *pos.
 * Returns 1 for a field, 0 at the end, -1 for a malformed or oversized
 * field (a NUL or control byte after decoding is malformed). */
int http_form_next(const char *body, size_t len, size_t *pos, char *name, size_t ncap, char *val, size_t vcap);

/* Compares a and b in time that depends on their lengths only (password
 * checks). Returns true when equal. */
bool http_secret_eq(const char *a, const char *b);

#endif
