/* intercept_parse.c — decoy specs: parsing "ADDRS:PORTS" specs and
 * intercept files into a list, and the origin texts ("'spec' (file:line)")
 * that a list keeps for its elements so that warnings and errors can name
 * where a decoy came from (see intercept.h). The list operations are in
 * intercept.c; intercept_int.h is what the two share.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/intercept.h"
#include "lib/intercept_int.h"

/* ---- origin texts ---- */

/* Appends "'spec'" or "'spec' (where)" to the arena; returns its offset, or
 * SRC_NONE when out of memory or past the 32-bit offset range (the element
 * then simply has no origin for warnings). */
static uint32_t src_add(struct icpt_list *l, const char *spec, const char *where)
{
	size_t need = strlen(spec) + (where ? strlen(where) : 0) + 8;
	size_t off = l->srclen;
	int n;

	if (off + need >= SRC_NONE)
		return SRC_NONE;
	if (off + need > l->srccap) {
		size_t cap = l->srccap ? l->srccap : 4096;
		char *p;

		while (cap < off + need)
			cap *= 2;
		p = realloc(l->srcbuf, cap);
		if (!p)
			return SRC_NONE;
		l->srcbuf = p;
		l->srccap = cap;
	}
	if (where)
		n = snprintf(l->srcbuf + off, need, "'%s' (%s)", spec, where);
	else
		n = snprintf(l->srcbuf + off, need, "'%s'", spec);
	if (n < 0 || (size_t)n >= need)
		return SRC_NONE;
	l->srclen = off + (size_t)n + 1;
	return (uint32_t)off;
}

/* The spec text an element came from ("file:line: spec"), NULL if none. */
static const char *origin_at(const struct icpt_list *l, uint32_t src)
{
	if (src == SRC_NONE || src >= l->srclen)
		return NULL;
	return l->srcbuf + src;
}

const char *icpt_src_text(const struct icpt_list *l, uint32_t src)
{
	const char *o = origin_at(l, src);

	return o ? o : "(unknown origin)";
}

const char *icpt_elem_origin(const struct icpt_list *l, const struct icpt_elem *e)
{
	return origin_at(l, e->src);
}

/* ---- spec parsing ---- */

/* Copies s[0..n) into buf (cap bytes) as a C string; false if too long. */
static bool copy_tok(char *buf, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return true;
}

/* Parses "N" (decimal, no sign, no leading zeros beyond "0") up to max. */
static bool parse_small_uint(const char *s, size_t n, unsigned max, unsigned *out)
{
	unsigned v = 0;
	size_t i;

	if (n == 0 || n > 5 || (n > 1 && s[0] == '0'))
		return false;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

/* One address, IPv4 "a.b.c.d" or bracketed IPv6 "[x]", at s[0..n).
 * Sets *family and *x. Errors name the token and the whole spec. */
static int parse_one_addr(const char *s, size_t n, const char *spec, int *family, u128 *x,
			  char **err)
{
	char buf[INET6_ADDRSTRLEN + 1];
	union icpt_addr a;

	if (n == 0) {
		memprintf(err, "missing address in '%s'", spec);
		return -EINVAL;
	}
	if (s[0] == '[') {
		if (n < 2 || s[n - 1] != ']' || !copy_tok(buf, sizeof(buf), s + 1, n - 2) ||
		    inet_pton(AF_INET6, buf, &a.v6) != 1) {
			memprintf(err, "bad IPv6 address '%.*s' in '%s'", (int)n, s, spec);
			return -EINVAL;
		}
		*family = AF_INET6;
		*x = icpt_addr_u128(AF_INET6, &a);
		return 0;
	}
	if (memchr(s, ':', n)) {
		memprintf(err, "IPv6 address in '%s' must be written in brackets: "
			  "'[ADDR]:PORTS', e.g. '[fd09::1]:22' or '[fd09::]/64:80,443'", spec);
		return -EINVAL;
	}
	if (!copy_tok(buf, sizeof(buf), s, n) || inet_pton(AF_INET, buf, &a.v4) != 1) {
		memprintf(err, "bad IPv4 address '%.*s' in '%s'", (int)n, s, spec);
		return -EINVAL;
	}
	*family = AF_INET;
	*x = icpt_addr_u128(AF_INET, &a);
	return 0;
}

/* Writes the network address of x/plen for the "did you mean" hint. */
static void fmt_addr(int family, u128 x, char *buf, size_t cap)
{
	union icpt_addr a;

	icpt_u128_addr(family, x, &a);
	if (!inet_ntop(family, &a, buf, cap))
		snprintf(buf, cap, "?");
}

/* ADDRS at s[0..n): single address, CIDR or range. */
static int parse_addrs(const char *s, size_t n, const char *spec, int *family, u128 *lo,
		       u128 *hi, char **err)
{
	const char *end = s + n, *slash, *dash;
	size_t alen;
	int fam2, bits, ret;
	unsigned plen;
	u128 x, y, host;

	/* The first address ends at ']' for IPv6, else at '/' or '-'. */
	if (n && s[0] == '[') {
		const char *rb = memchr(s, ']', n);

		alen = rb ? (size_t)(rb - s) + 1 : n;
	} else {
		for (alen = 0; alen < n && s[alen] != '/' && s[alen] != '-'; alen++)
			;
	}
	ret = parse_one_addr(s, alen, spec, family, &x, err);
	if (ret)
		return ret;
	bits = icpt_family_bits(*family);
	if (alen == n) {
		*lo = *hi = x;
		return 0;
	}
	slash = s[alen] == '/' ? s + alen : NULL;
	dash = s[alen] == '-' ? s + alen : NULL;
	if (slash) {
		if (!parse_small_uint(slash + 1, (size_t)(end - slash - 1), (unsigned)bits, &plen)) {
			memprintf(err, "bad prefix length '%.*s' in '%s' (0 to %d)",
				  (int)(end - slash - 1), slash + 1, spec, bits);
			return -EINVAL;
		}
		host = icpt_low_mask(bits - (int)plen);
		if (x & host) {
			char net[INET6_ADDRSTRLEN];

			fmt_addr(*family, x & ~host, net, sizeof(net));
			memprintf(err, "CIDR %.*s has host bits set in '%s' (did you mean %s%s%s/%u?)",
				  (int)n, s, spec, *family == AF_INET6 ? "[" : "", net,
				  *family == AF_INET6 ? "]" : "", plen);
			return -EINVAL;
		}
		*lo = x;
		*hi = x | host;
		return 0;
	}
	if (!dash) {
		memprintf(err, "unexpected '%.*s' after address in '%s'", (int)(end - s - alen),
			  s + alen, spec);
		return -EINVAL;
	}
	ret = parse_one_addr(dash + 1, (size_t)(end - dash - 1), spec, &fam2, &y, err);
	if (ret)
		return ret;
	if (fam2 != *family) {
		memprintf(err, "address range '%.*s' mixes IPv4 and IPv6 in '%s'", (int)n, s, spec);
		return -EINVAL;
	}
	if (y < x) {
		memprintf(err, "address range '%.*s' is reversed in '%s'", (int)n, s, spec);
		return -EINVAL;
	}
	*lo = x;
	*hi = y;
	return 0;
}

static int parse_port(const char *s, size_t n, const char *spec, unsigned *out, char **err)
{
	if (!parse_small_uint(s, n, 65535, out) || *out == 0) {
		memprintf(err, "bad port '%.*s' in '%s' (1 to 65535)", (int)n, s, spec);
		return -EINVAL;
	}
	return 0;
}

/* One PORTS item ("22", "1-1024", "*") at s[0..n). */
static int parse_port_item(const char *s, size_t n, const char *spec, unsigned *lo, unsigned *hi,
			   char **err)
{
	const char *dash;
	int ret;

	if (n == 0) {
		memprintf(err, "empty item in port list of '%s'", spec);
		return -EINVAL;
	}
	if (n == 1 && s[0] == '*') {
		*lo = 1;
		*hi = 65535;
		return 0;
	}
	dash = memchr(s, '-', n);
	if (!dash)
		ret = parse_port(s, n, spec, lo, err);
	else
		ret = parse_port(s, (size_t)(dash - s), spec, lo, err);
	if (ret)
		return ret;
	if (!dash) {
		*hi = *lo;
		return 0;
	}
	ret = parse_port(dash + 1, (size_t)(s + n - dash - 1), spec, hi, err);
	if (ret)
		return ret;
	if (*hi < *lo) {
		memprintf(err, "port range '%.*s' is reversed in '%s'", (int)n, s, spec);
		return -EINVAL;
	}
	return 0;
}

static int push_elem(struct icpt_list *l, int family, u128 lo, u128 hi, unsigned plo,
		     unsigned phi, uint32_t src)
{
	int ret = icpt_list_reserve(l, 1);

	if (ret)
		return ret;
	icpt_elem_make(&l->v[l->n++], family, lo, hi, plo, phi, src);
	return 0;
}

/* Parses without rolling back: the public wrappers own the rollback. */
static int parse_spec_noroll(struct icpt_list *l, const char *spec, const char *where,
			     char **err)
{
	const char *colon, *rbr, *p, *ports, *end;
	int family, ret;
	u128 lo, hi;
	uint32_t src;

	colon = strrchr(spec, ':');
	rbr = strrchr(spec, ']');
	if (!colon || (rbr && colon < rbr)) {
		memprintf(err, "missing ':PORTS' in '%s' (e.g. '10.0.0.1:22' or '[fd09::1]:22')",
			  spec);
		return -EINVAL;
	}
	ret = parse_addrs(spec, (size_t)(colon - spec), spec, &family, &lo, &hi, err);
	if (ret)
		return ret;
	ports = colon + 1;
	if (!*ports) {
		memprintf(err, "missing ports after ':' in '%s'", spec);
		return -EINVAL;
	}
	src = src_add(l, spec, where);
	end = ports + strlen(ports);
	for (p = ports; p <= end;) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *stop = comma ? comma : end;
		unsigned plo, phi;

		ret = parse_port_item(p, (size_t)(stop - p), spec, &plo, &phi, err);
		if (ret)
			return ret;
		ret = push_elem(l, family, lo, hi, plo, phi, src);
		if (ret == -E2BIG) {
			memprintf(err, "too many decoy elements at '%s' (at most %u before merging)",
				  spec, ICPT_MAX_ELEMS);
			return -EINVAL;
		}
		if (ret) {
			memprintf(err, "out of memory at '%s'", spec);
			return ret;
		}
		p = stop + 1;
	}
	l->normalised = false;
	return 0;
}

int icpt_parse_spec(struct icpt_list *l, const char *spec, const char *where, char **err)
{
	return icpt_parse_args(l, 1, (char *const *)&spec, where, err);
}

int icpt_parse_args(struct icpt_list *l, int argc, char *const *argv, const char *where,
		    char **err)
{
	size_t n0 = l->n, s0 = l->srclen;
	bool norm0 = l->normalised;
	int i, ret = 0;

	if (argc <= 0) {
		memprintf(err, "expects at least one decoy spec ADDRS:PORTS");
		return -EINVAL;
	}
	for (i = 0; i < argc && !ret; i++)
		ret = parse_spec_noroll(l, argv[i], where, err);
	if (ret) {
		l->n = n0;
		l->srclen = s0;
		l->normalised = norm0;
	}
	return ret;
}

/* ---- files ---- */

/* Trims a file line in place: '#' comment, CR/LF and blanks at both ends.
 * Returns the start of what is left. */
static char *trim_line(char *s)
{
	char *hash = strchr(s, '#');
	size_t n;

	if (hash)
		*hash = '\0';
	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' ||
		     s[n - 1] == '\n'))
		s[--n] = '\0';
	return s;
}

/* Reads one line, its '\n' included, into line[0..ICPT_MAX_LINE] and
 * NUL-terminates it. Returns its length in bytes, ICPT_MAX_LINE + 1 as soon
 * as it is longer than ICPT_MAX_LINE (the rest is not read: the load stops
 * there), or -1 when nothing is left. Bounded: an endless line (a device)
 * costs ICPT_MAX_LINE bytes, not all the memory getline() would take. */
static ssize_t read_line(FILE *f, char *line)
{
	size_t n = 0;
	int c;

	while ((c = getc(f)) != EOF) {
		if (n == ICPT_MAX_LINE)
			return ICPT_MAX_LINE + 1;
		line[n++] = (char)c;
		if (c == '\n')
			break;
	}
	line[n] = '\0';
	return n ? (ssize_t)n : -1;
}

static int load_stream(FILE *f, const char *path, struct icpt_list *l, size_t *nspecs,
		       char **err)
{
	char *line = malloc(ICPT_MAX_LINE + 1), *where = NULL, *s, *sp;
	ssize_t len;
	int lineno = 0, ret = 0;

	if (!line)
		return -ENOMEM;
	while ((len = read_line(f, line)) >= 0) {
		char *msg = NULL;

		lineno++;
		if (len > ICPT_MAX_LINE || memchr(line, '\0', (size_t)len)) {
			memprintf(err, "%s:%d: line too long or contains a NUL byte", path, lineno);
			ret = -EINVAL;
			goto out;
		}
		s = trim_line(line);
		if (!*s)
			continue;
		sp = s + strcspn(s, " \t");
		if (*sp) {
			memprintf(err, "%s:%d: one spec per line expected, found '%s'", path,
				  lineno, s);
			ret = -EINVAL;
			goto out;
		}
		if (memprintf(&where, "%s:%d", path, lineno) < 0) {
			ret = -ENOMEM;
			goto out;
		}
		ret = parse_spec_noroll(l, s, where, &msg);
		if (ret) {
			memprintf(err, "%s:%d: %s", path, lineno, msg ? msg : "out of memory");
			free(msg);
			goto out;
		}
		(*nspecs)++;
	}
	if (ferror(f)) {
		ret = errno ? -errno : -EIO;
		memprintf(err, "%s: read error: %s", path, strerror(-ret));
	}
out:
	free(where);
	free(line);
	return ret;
}

/* Opens path for reading unless it is a FIFO, a socket or a directory: a
 * FIFO would make the loader wait for a writer (O_NONBLOCK: it is refused
 * right after). A device is read (/dev/null is an empty list; /dev/zero
 * stops at its first line, read_line() being bounded). Returns the stream,
 * or NULL with *err and *ret set. */
static FILE *open_regular(const char *path, char **err, int *ret)
{
	struct stat st;
	FILE *f;
	int fd;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		*ret = -errno;
		memprintf(err, "cannot open intercept file '%s': %s", path, strerror(-*ret));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || S_ISDIR(st.st_mode)) {
		*ret = -EINVAL;
		memprintf(err, "cannot open intercept file '%s': not a regular file (%s)", path,
			  file_kind(st.st_mode));
		close(fd);
		return NULL;
	}
	f = fdopen(fd, "r");
	if (!f) {
		*ret = -errno;
		memprintf(err, "cannot open intercept file '%s': %s", path, strerror(-*ret));
		close(fd);
	}
	return f;
}

int icpt_file_load(const char *path, struct icpt_list *l, icpt_warn_fn warn, void *ctx,
		   char **err)
{
	size_t n0 = l->n, s0 = l->srclen, nspecs = 0;
	bool norm0 = l->normalised;
	FILE *f;
	int ret;

	f = open_regular(path, err, &ret);
	if (!f)
		return ret;
	errno = 0;
	ret = load_stream(f, path, l, &nspecs, err);
	fclose(f);
	if (ret) {
		l->n = n0;
		l->srclen = s0;
		l->normalised = norm0;
		return ret;
	}
	if (!nspecs && warn) {
		char *msg = NULL;

		if (memprintf(&msg, "%s: no decoy spec in file", path) >= 0)
			warn(ctx, msg);
		free(msg);
	}
	return 0;
}
