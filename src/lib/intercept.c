/* intercept.c — decoy specs: parsing, files, normalisation (see intercept.h). */
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

/* A 128-bit integer makes address arithmetic (contiguity, +1, ranges) the
 * same code for both families. GNU extension, available on every target
 * gcc/clang support for this daemon. */
typedef unsigned __int128 u128;

/* Hard cap on list size: bounds memory use (about 48 bytes per element) and
 * keeps element indices in 32 bits. */
#define ICPT_MAX_ELEMS (16u * 1024 * 1024)

#define SRC_NONE UINT32_MAX

void icpt_list_init(struct icpt_list *l)
{
	memset(l, 0, sizeof(*l));
}

void icpt_list_free(struct icpt_list *l)
{
	free(l->v);
	free(l->srcbuf);
	icpt_list_init(l);
}

/* ---- address helpers ---- */

u128 icpt_addr_u128(int family, const union icpt_addr *a)
{
	u128 x = 0;
	int i;

	if (family == AF_INET)
		return ntohl(a->v4.s_addr);
	for (i = 0; i < 16; i++)
		x = (x << 8) | a->v6.s6_addr[i];
	return x;
}

void icpt_u128_addr(int family, u128 x, union icpt_addr *a)
{
	int i;

	memset(a, 0, sizeof(*a));
	if (family == AF_INET) {
		a->v4.s_addr = htonl((uint32_t)x);
		return;
	}
	for (i = 15; i >= 0; i--) {
		a->v6.s6_addr[i] = (uint8_t)x;
		x >>= 8;
	}
}

static int family_bits(int family)
{
	return family == AF_INET ? 32 : 128;
}

/* All-ones in the low `bits` bits (bits 0..128). */
static u128 low_mask(int bits)
{
	if (bits <= 0)
		return 0;
	if (bits >= 128)
		return ~(u128)0;
	return ((u128)1 << bits) - 1;
}

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

static const char *src_text(const struct icpt_list *l, uint32_t src)
{
	const char *o = origin_at(l, src);

	return o ? o : "(unknown origin)";
}

static int list_reserve(struct icpt_list *l, size_t more)
{
	size_t cap;
	struct icpt_elem *v;

	if (more > ICPT_MAX_ELEMS - l->n)
		return -E2BIG;
	if (l->n + more <= l->cap)
		return 0;
	cap = l->cap ? l->cap : 64;
	while (cap < l->n + more)
		cap *= 2;
	v = realloc(l->v, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	l->v = v;
	l->cap = cap;
	return 0;
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
	bits = family_bits(*family);
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
		host = low_mask(bits - (int)plen);
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

static void elem_make(struct icpt_elem *e, int family, u128 lo, u128 hi, unsigned plo,
		      unsigned phi, uint32_t src)
{
	memset(e, 0, sizeof(*e));
	e->family = (uint8_t)family;
	icpt_u128_addr(family, lo, &e->lo);
	icpt_u128_addr(family, hi, &e->hi);
	e->port_lo = (uint16_t)plo;
	e->port_hi = (uint16_t)phi;
	e->src = src;
}

static int push_elem(struct icpt_list *l, int family, u128 lo, u128 hi, unsigned plo,
		     unsigned phi, uint32_t src)
{
	int ret = list_reserve(l, 1);

	if (ret)
		return ret;
	elem_make(&l->v[l->n++], family, lo, hi, plo, phi, src);
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

/* ---- normalisation ----
 *
 * Sweep over the address axis. Each element is a start event at addr_lo
 * and an end event at addr_hi. Between two consecutive events the set of
 * active port ranges is constant; its union (overlapping and adjacent port
 * ranges merged) gives the disjoint elements of that address slab. An
 * element of the previous slab with the same port range that ends just
 * below the new slab is extended instead of starting a new one, which is
 * the "contiguous addresses, same ports" merge. Overlaps are seen when an
 * element starts while an active one intersects it in ports.
 */

struct ev {
	u128 key;
	uint32_t idx;           /* element index in the input */
	uint8_t fam6;           /* 0 IPv4, 1 IPv6: IPv4 sorts first */
	uint8_t end;            /* 0 start (active from key), 1 end (active through key) */
};

struct act {
	uint16_t lo, hi;        /* port range */
	uint32_t cnt;           /* how many active elements have exactly this range */
	uint32_t idx;           /* one of them, for warnings and origins */
};

struct sweep {
	struct icpt_list *in;
	struct act *act;
	size_t nact, capact;
	struct icpt_elem *out;
	size_t nout, capout;
	size_t *open, *open2;   /* output elements of the previous slab, by port */
	size_t nopen, capopen;
	int family;
	u128 prev_hi;           /* last address of the previous slab */
	bool have_prev;
	long overlaps;
	unsigned warned;
	icpt_warn_fn warn;
	void *ctx;
};

static int ev_cmp(const void *a, const void *b)
{
	const struct ev *x = a, *y = b;

	if (x->fam6 != y->fam6)
		return x->fam6 < y->fam6 ? -1 : 1;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	if (x->idx != y->idx)
		return x->idx < y->idx ? -1 : 1;
	return 0;
}

static void warn_overlap(struct sweep *sw, uint32_t newer, uint32_t older)
{
	const struct icpt_elem *a = &sw->in->v[newer], *b = &sw->in->v[older];
	char *msg = NULL;

	sw->overlaps++;
	if (!sw->warn || sw->warned >= ICPT_MAX_WARNINGS)
		return;
	sw->warned++;
	if (a->src == b->src)
		memprintf(&msg, "decoy spec %s covers some address:port pairs twice",
			  src_text(sw->in, a->src));
	else
		memprintf(&msg, "decoy spec %s overlaps %s: some address:port pairs are "
			  "given twice", src_text(sw->in, a->src), src_text(sw->in, b->src));
	if (msg)
		sw->warn(sw->ctx, msg);
	free(msg);
}

/* Position of the first active entry not below (lo, hi). */
static size_t act_pos(const struct sweep *sw, uint16_t lo, uint16_t hi)
{
	size_t a = 0, b = sw->nact;

	while (a < b) {
		size_t m = a + (b - a) / 2;
		const struct act *e = &sw->act[m];

		if (e->lo < lo || (e->lo == lo && e->hi < hi))
			a = m + 1;
		else
			b = m;
	}
	return a;
}

static int act_add(struct sweep *sw, uint32_t idx)
{
	const struct icpt_elem *e = &sw->in->v[idx];
	size_t pos = act_pos(sw, e->port_lo, e->port_hi), i;

	if (pos < sw->nact && sw->act[pos].lo == e->port_lo && sw->act[pos].hi == e->port_hi) {
		warn_overlap(sw, idx, sw->act[pos].idx);
		sw->act[pos].cnt++;
		return 0;
	}
	/* Entries are sorted by start: only those starting at or before our
	 * end can intersect us. */
	for (i = 0; i < sw->nact && sw->act[i].lo <= e->port_hi; i++) {
		if (sw->act[i].hi >= e->port_lo) {
			warn_overlap(sw, idx, sw->act[i].idx);
			break;
		}
	}
	if (sw->nact == sw->capact) {
		size_t cap = sw->capact ? sw->capact * 2 : 16;
		struct act *p = realloc(sw->act, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		sw->act = p;
		sw->capact = cap;
	}
	memmove(&sw->act[pos + 1], &sw->act[pos], (sw->nact - pos) * sizeof(*sw->act));
	sw->act[pos] = (struct act){ e->port_lo, e->port_hi, 1, idx };
	sw->nact++;
	return 0;
}

static void act_del(struct sweep *sw, uint32_t idx)
{
	const struct icpt_elem *e = &sw->in->v[idx];
	size_t pos = act_pos(sw, e->port_lo, e->port_hi);

	/* The entry exists: every end follows its own start. */
	if (pos >= sw->nact)
		return;
	if (--sw->act[pos].cnt)
		return;
	memmove(&sw->act[pos], &sw->act[pos + 1], (sw->nact - pos - 1) * sizeof(*sw->act));
	sw->nact--;
}

static int out_push(struct sweep *sw, u128 lo, u128 hi, uint16_t plo, uint16_t phi,
		    uint32_t src, size_t *where)
{
	struct icpt_elem *e;

	if (sw->nout == sw->capout) {
		size_t cap = sw->capout ? sw->capout * 2 : 64;
		struct icpt_elem *p = realloc(sw->out, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		sw->out = p;
		sw->capout = cap;
	}
	e = &sw->out[sw->nout];
	memset(e, 0, sizeof(*e));
	e->family = (uint8_t)sw->family;
	icpt_u128_addr(sw->family, lo, &e->lo);
	icpt_u128_addr(sw->family, hi, &e->hi);
	e->port_lo = plo;
	e->port_hi = phi;
	e->src = src;
	*where = sw->nout++;
	return 0;
}

/* Emits the slab [x, y] with the union of the active port ranges. */
static int emit_slab(struct sweep *sw, u128 x, u128 y)
{
	bool contiguous = sw->have_prev && sw->prev_hi + 1 == x && sw->prev_hi + 1 != 0;
	size_t i = 0, j = 0, n2 = 0, idx;
	size_t *tmp;
	int ret;

	if (sw->capopen < sw->nopen + sw->nact) {
		size_t cap = (sw->nopen + sw->nact) * 2;
		size_t *a = realloc(sw->open, cap * sizeof(*a));

		if (!a)
			return -ENOMEM;
		sw->open = a;
		a = realloc(sw->open2, cap * sizeof(*a));
		if (!a)
			return -ENOMEM;
		sw->open2 = a;
		sw->capopen = cap;
	}
	while (i < sw->nact) {
		uint16_t lo = sw->act[i].lo, hi = sw->act[i].hi;
		uint32_t src = sw->in->v[sw->act[i].idx].src;

		/* Merge overlapping and adjacent port ranges. */
		for (i++; i < sw->nact && sw->act[i].lo <= (unsigned)hi + 1; i++)
			if (sw->act[i].hi > hi)
				hi = sw->act[i].hi;
		/* Previous-slab elements are sorted by port too: walk along. */
		while (contiguous && j < sw->nopen && sw->out[sw->open[j]].port_lo < lo)
			j++;
		if (contiguous && j < sw->nopen && sw->out[sw->open[j]].port_lo == lo &&
		    sw->out[sw->open[j]].port_hi == hi) {
			idx = sw->open[j];
			icpt_u128_addr(sw->family, y, &sw->out[idx].hi);
		} else {
			ret = out_push(sw, x, y, lo, hi, src, &idx);
			if (ret)
				return ret;
		}
		sw->open2[n2++] = idx;
	}
	tmp = sw->open;
	sw->open = sw->open2;
	sw->open2 = tmp;
	sw->nopen = n2;
	sw->prev_hi = y;
	sw->have_prev = true;
	return 0;
}

static int sweep_run(struct sweep *sw, const struct ev *ev, size_t nev)
{
	size_t i = 0, k;
	u128 cur = 0;
	int ret;

	while (i < nev) {
		const struct ev *g = &ev[i];
		int fam = g->fam6 ? AF_INET6 : AF_INET;

		if (fam != sw->family) {
			sw->family = fam;
			sw->have_prev = false;
			sw->nopen = 0;
		}
		if (!g->end) {
			if (sw->nact && cur < g->key) {
				ret = emit_slab(sw, cur, g->key - 1);
				if (ret)
					return ret;
			}
		} else if (cur <= g->key) {
			ret = emit_slab(sw, cur, g->key);
			if (ret)
				return ret;
		}
		for (k = i; k < nev && ev[k].fam6 == g->fam6 && ev[k].key == g->key &&
		     ev[k].end == g->end; k++) {
			if (g->end) {
				act_del(sw, ev[k].idx);
			} else {
				ret = act_add(sw, ev[k].idx);
				if (ret)
					return ret;
			}
		}
		/* After an end at the top address cur wraps to 0; nothing is
		 * active then, and the next start sets cur again. */
		cur = g->end ? g->key + 1 : g->key;
		i = k;
	}
	return 0;
}

static int build_events(const struct icpt_list *l, struct ev **out)
{
	struct ev *ev;
	size_t i;

	ev = malloc((l->n ? l->n : 1) * 2 * sizeof(*ev));
	if (!ev)
		return -ENOMEM;
	for (i = 0; i < l->n; i++) {
		const struct icpt_elem *e = &l->v[i];
		uint8_t f6 = e->family == AF_INET6;

		ev[2 * i] = (struct ev){ icpt_addr_u128(e->family, &e->lo), (uint32_t)i, f6, 0 };
		ev[2 * i + 1] = (struct ev){ icpt_addr_u128(e->family, &e->hi), (uint32_t)i, f6, 1 };
	}
	qsort(ev, l->n * 2, sizeof(*ev), ev_cmp);
	*out = ev;
	return 0;
}

long icpt_normalise(struct icpt_list *l, icpt_warn_fn warn, void *ctx)
{
	struct sweep sw = { .in = l, .warn = warn, .ctx = ctx };
	struct ev *ev = NULL;
	int ret;

	ret = build_events(l, &ev);
	if (ret)
		goto fail;
	ret = sweep_run(&sw, ev, l->n * 2);
	if (ret)
		goto fail;
	if (sw.warn && sw.overlaps > (long)sw.warned) {
		char *msg = NULL;

		if (memprintf(&msg, "... and %ld more overlapping decoy specs",
			      sw.overlaps - (long)sw.warned) >= 0)
			warn(ctx, msg);
		free(msg);
	}
	free(l->v);
	l->v = sw.out;
	l->n = sw.nout;
	l->cap = sw.capout;
	l->normalised = true;
	sw.out = NULL;
fail:
	free(ev);
	free(sw.act);
	free(sw.open);
	free(sw.open2);
	free(sw.out);
	return ret ? ret : sw.overlaps;
}

size_t icpt_count(const struct icpt_list *l, int family)
{
	size_t i, n = 0;

	if (!family)
		return l->n;
	for (i = 0; i < l->n; i++)
		n += l->v[i].family == family;
	return n;
}

/* Prefix length when [lo, hi] is exactly one CIDR block, else -1. */
static int range_prefix(int family, u128 lo, u128 hi)
{
	int bits = family_bits(family), host;
	u128 span = hi - lo;

	for (host = 0; host <= bits; host++) {
		u128 m = low_mask(host);

		if (span == m)
			return (lo & m) ? -1 : bits - host;
		if (span < m)
			return -1;
	}
	return -1;
}

const char *icpt_elem_str(const struct icpt_elem *e, char *buf, size_t cap)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN], ports[16];
	const char *ob = e->family == AF_INET6 ? "[" : "", *cb = e->family == AF_INET6 ? "]" : "";
	u128 lo = icpt_addr_u128(e->family, &e->lo), hi = icpt_addr_u128(e->family, &e->hi);
	int plen;

	if (!cap)
		return buf;
	if (!inet_ntop(e->family, &e->lo, a, sizeof(a)) ||
	    !inet_ntop(e->family, &e->hi, b, sizeof(b))) {
		snprintf(buf, cap, "(bad element)");
		return buf;
	}
	if (e->port_lo == 1 && e->port_hi == 65535)
		snprintf(ports, sizeof(ports), "*");
	else if (e->port_lo == e->port_hi)
		snprintf(ports, sizeof(ports), "%u", e->port_lo);
	else
		snprintf(ports, sizeof(ports), "%u-%u", e->port_lo, e->port_hi);
	plen = range_prefix(e->family, lo, hi);
	if (lo == hi)
		snprintf(buf, cap, "%s%s%s:%s", ob, a, cb, ports);
	else if (plen >= 0)
		snprintf(buf, cap, "%s%s%s/%d:%s", ob, a, cb, plen, ports);
	else
		snprintf(buf, cap, "%s%s%s-%s%s%s:%s", ob, a, cb, ob, b, cb, ports);
	return buf;
}

uint64_t icpt_pairs(const struct icpt_list *l)
{
	u128 total = 0;
	size_t i;

	for (i = 0; i < l->n; i++) {
		const struct icpt_elem *e = &l->v[i];
		u128 span = icpt_addr_u128(e->family, &e->hi) - icpt_addr_u128(e->family, &e->lo);
		u128 ports = (u128)(e->port_hi - e->port_lo + 1);

		/* span + 1 may not fit (::/0); anything near 2^64 saturates anyway. */
		if (span >= ((u128)1 << 64))
			return UINT64_MAX;
		total += (span + 1) * ports;
		if (total >= (u128)UINT64_MAX)
			return UINT64_MAX;
	}
	return (uint64_t)total;
}

/* ---- set operations ---- */

int icpt_list_append(struct icpt_list *dst, const struct icpt_list *src, int family)
{
	size_t add = icpt_count(src, family), shift = dst->srclen, i;
	bool keep_src = src->srclen && shift + src->srclen < SRC_NONE;
	int ret;

	if (!add)
		return 0;
	ret = list_reserve(dst, add);
	if (ret)
		return ret;
	/* the whole arena of src goes along: its offsets stay valid after a
	 * shift, and stale texts in it cost a few bytes at most */
	if (keep_src && shift + src->srclen > dst->srccap) {
		size_t cap = dst->srccap ? dst->srccap : 4096;
		char *p;

		while (cap < shift + src->srclen)
			cap *= 2;
		p = realloc(dst->srcbuf, cap);
		if (!p)
			return -ENOMEM;
		dst->srcbuf = p;
		dst->srccap = cap;
	}
	if (keep_src) {
		memcpy(dst->srcbuf + shift, src->srcbuf, src->srclen);
		dst->srclen += src->srclen;
	}
	for (i = 0; i < src->n; i++) {
		const struct icpt_elem *e = &src->v[i];
		struct icpt_elem *d;

		if (family && e->family != family)
			continue;
		d = &dst->v[dst->n++];
		*d = *e;
		d->src = keep_src && e->src < src->srclen ? e->src + (uint32_t)shift : SRC_NONE;
	}
	dst->normalised = false;
	return 0;
}

static bool elem_overlaps(const struct icpt_elem *a, const struct icpt_elem *b)
{
	int f = a->family;

	return f == b->family && a->port_lo <= b->port_hi && b->port_lo <= a->port_hi &&
	       icpt_addr_u128(f, &a->lo) <= icpt_addr_u128(f, &b->hi) &&
	       icpt_addr_u128(f, &b->lo) <= icpt_addr_u128(f, &a->hi);
}

int icpt_subtract(struct icpt_list *l, const struct icpt_elem *r)
{
	int f = r->family;
	u128 rlo = icpt_addr_u128(f, &r->lo), rhi = icpt_addr_u128(f, &r->hi);
	size_t ov = 0, cap, n = 0, i;
	struct icpt_elem *v;

	for (i = 0; i < l->n; i++)
		ov += elem_overlaps(&l->v[i], r);
	if (!ov)
		return 0;
	/* each element cut leaves at most 4 pieces: below and above r's
	 * addresses (all its ports), below and above r's ports (r's addresses) */
	if (3 * ov > ICPT_MAX_ELEMS - l->n)
		return -E2BIG;
	cap = l->n + 3 * ov;
	v = malloc(cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < l->n; i++) {
		const struct icpt_elem *e = &l->v[i];
		u128 elo, ehi, mlo, mhi;

		if (!elem_overlaps(e, r)) {
			v[n++] = *e;
			continue;
		}
		elo = icpt_addr_u128(f, &e->lo);
		ehi = icpt_addr_u128(f, &e->hi);
		if (elo < rlo)
			elem_make(&v[n++], f, elo, rlo - 1, e->port_lo, e->port_hi, e->src);
		if (ehi > rhi)
			elem_make(&v[n++], f, rhi + 1, ehi, e->port_lo, e->port_hi, e->src);
		mlo = elo > rlo ? elo : rlo;
		mhi = ehi < rhi ? ehi : rhi;
		if (e->port_lo < r->port_lo)
			elem_make(&v[n++], f, mlo, mhi, e->port_lo, r->port_lo - 1u, e->src);
		if (e->port_hi > r->port_hi)
			elem_make(&v[n++], f, mlo, mhi, r->port_hi + 1u, e->port_hi, e->src);
	}
	free(l->v);
	l->v = v;
	l->n = n;
	l->cap = cap;
	l->normalised = false;
	return 0;
}

/* The gap search subtracts the covered parts from r one by one; it stops
 * (and names r itself) once the remainder is this fragmented. */
#define COVERS_MAX_PIECES 4096

static bool elem_same_rect(const struct icpt_elem *a, const struct icpt_elem *b)
{
	size_t alen = a->family == AF_INET6 ? 16 : 4;

	return a->family == b->family && a->port_lo == b->port_lo && a->port_hi == b->port_hi &&
	       !memcmp(&a->lo, &b->lo, alen) && !memcmp(&a->hi, &b->hi, alen);
}

int icpt_covers(const struct icpt_list *l, const struct icpt_elem *r, struct icpt_elem *gap)
{
	struct icpt_list in, rest;
	int f = r->family, ret = 0;
	u128 rlo = icpt_addr_u128(f, &r->lo), rhi = icpt_addr_u128(f, &r->hi);
	size_t i;

	icpt_list_init(&in);
	icpt_list_init(&rest);
	/* the part of l inside r; normalised, it is exactly {r} when l covers
	 * r: every address slab of r then has r's whole port range, and
	 * contiguous slabs with the same ports merge into one element */
	for (i = 0; i < l->n; i++) {
		const struct icpt_elem *e = &l->v[i];
		u128 elo, ehi;

		if (!elem_overlaps(e, r))
			continue;
		ret = list_reserve(&in, 1);
		if (ret)
			goto out;
		elo = icpt_addr_u128(f, &e->lo);
		ehi = icpt_addr_u128(f, &e->hi);
		elem_make(&in.v[in.n++], f, elo > rlo ? elo : rlo, ehi < rhi ? ehi : rhi,
			  e->port_lo > r->port_lo ? e->port_lo : r->port_lo,
			  e->port_hi < r->port_hi ? e->port_hi : r->port_hi, SRC_NONE);
	}
	if (in.n) {
		long nr = icpt_normalise(&in, NULL, NULL);

		if (nr < 0) {
			ret = (int)nr;
			goto out;
		}
		if (in.n == 1 && elem_same_rect(&in.v[0], r)) {
			ret = 1;
			goto out;
		}
	}
	ret = 0;
	if (!gap)
		goto out;
	*gap = *r;
	if (list_reserve(&rest, 1) < 0)
		goto out;
	rest.v[rest.n++] = *r;
	for (i = 0; i < in.n && rest.n; i++) {
		if (icpt_subtract(&rest, &in.v[i]) < 0 || rest.n > COVERS_MAX_PIECES) {
			rest.n = 0;
			break;
		}
	}
	if (rest.n && icpt_normalise(&rest, NULL, NULL) >= 0 && rest.n)
		*gap = rest.v[0];
	gap->src = r->src;
out:
	icpt_list_free(&in);
	icpt_list_free(&rest);
	return ret;
}

/* ---- two lists: overlaps between them ---- */

struct ovl_ev {
	u128 key;
	uint32_t idx;           /* element index in its list */
	uint8_t side;           /* 0: list a, 1: list b */
	uint8_t end;            /* 0 start (active from key), 1 end (active through key) */
};

struct ovl_act {
	uint16_t lo, hi;        /* port range */
	uint32_t idx;
};

static int ovl_ev_cmp(const void *x, const void *y)
{
	const struct ovl_ev *a = x, *b = y;

	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	if (a->end != b->end)
		return a->end < b->end ? -1 : 1;
	if (a->side != b->side)
		return a->side < b->side ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* First active entry whose port range starts above port. */
static size_t ovl_upper(const struct ovl_act *v, size_t n, unsigned port)
{
	size_t a = 0, b = n;

	while (a < b) {
		size_t m = a + (b - a) / 2;

		if (v[m].lo <= port)
			a = m + 1;
		else
			b = m;
	}
	return a;
}

/* Finds two intersecting elements of family fam, one of a and one of b
 * (both normalised: the elements of each are pairwise disjoint). A sweep
 * over the address axis: every element active at an address contains it,
 * so the active elements of one list have disjoint port ranges, and the
 * one that could meet a new element is the last one starting at or below
 * its highest port. Returns 1 (*ia, *ib set to the first pair in address
 * order), 0 (disjoint) or -ENOMEM. O((|a| + |b|) log). */
int icpt_lists_overlap(const struct icpt_list *a, const struct icpt_list *b, int fam,
			 size_t *ia, size_t *ib)
{
	const struct icpt_list *l[2] = { a, b };
	size_t na = icpt_count(a, fam), nb = icpt_count(b, fam), nev = 0, nact[2] = { 0, 0 };
	struct ovl_act *act[2] = { NULL, NULL };
	struct ovl_ev *ev;
	int ret = 0;

	if (!na || !nb)
		return 0;
	ev = malloc(2 * (na + nb) * sizeof(*ev));
	act[0] = malloc(na * sizeof(*act[0]));
	act[1] = malloc(nb * sizeof(*act[1]));
	if (!ev || !act[0] || !act[1]) {
		ret = -ENOMEM;
		goto out;
	}
	for (int s = 0; s < 2; s++) {
		for (size_t i = 0; i < l[s]->n; i++) {
			const struct icpt_elem *e = &l[s]->v[i];

			if (e->family != fam)
				continue;
			ev[nev++] = (struct ovl_ev){ icpt_addr_u128(fam, &e->lo), (uint32_t)i, (uint8_t)s, 0 };
			ev[nev++] = (struct ovl_ev){ icpt_addr_u128(fam, &e->hi), (uint32_t)i, (uint8_t)s, 1 };
		}
	}
	qsort(ev, nev, sizeof(*ev), ovl_ev_cmp);
	for (size_t k = 0; k < nev; k++) {
		int s = ev[k].side;
		const struct icpt_elem *e = &l[s]->v[ev[k].idx];
		struct ovl_act *mine = act[s], *other = act[!s];
		size_t pos;

		if (ev[k].end) {
			pos = ovl_upper(mine, nact[s], e->port_lo);
			/* the entry is there: every end follows its own start */
			if (pos && mine[pos - 1].idx == ev[k].idx) {
				memmove(&mine[pos - 1], &mine[pos], (nact[s] - pos) * sizeof(*mine));
				nact[s]--;
			}
			continue;
		}
		pos = ovl_upper(other, nact[!s], e->port_hi);
		if (pos && other[pos - 1].hi >= e->port_lo) {
			*(s ? ib : ia) = ev[k].idx;
			*(s ? ia : ib) = other[pos - 1].idx;
			ret = 1;
			goto out;
		}
		pos = ovl_upper(mine, nact[s], e->port_lo);
		memmove(&mine[pos + 1], &mine[pos], (nact[s] - pos) * sizeof(*mine));
		mine[pos] = (struct ovl_act){ e->port_lo, e->port_hi, ev[k].idx };
		nact[s]++;
	}
out:
	free(ev);
	free(act[0]);
	free(act[1]);
	return ret;
}

/* The intersection of two intersecting elements of one family. */
void icpt_elem_meet(const struct icpt_elem *x, const struct icpt_elem *y, struct icpt_elem *out)
{
	int fam = x->family;

	memset(out, 0, sizeof(*out));
	out->family = x->family;
	out->src = SRC_NONE;
	icpt_u128_addr(fam, icpt_addr_u128(fam, &x->lo) > icpt_addr_u128(fam, &y->lo) ? icpt_addr_u128(fam, &x->lo) :
		  icpt_addr_u128(fam, &y->lo), &out->lo);
	icpt_u128_addr(fam, icpt_addr_u128(fam, &x->hi) < icpt_addr_u128(fam, &y->hi) ? icpt_addr_u128(fam, &x->hi) :
		  icpt_addr_u128(fam, &y->hi), &out->hi);
	out->port_lo = x->port_lo > y->port_lo ? x->port_lo : y->port_lo;
	out->port_hi = x->port_hi < y->port_hi ? x->port_hi : y->port_hi;
}

bool icpt_elem_has(const struct icpt_elem *e, int fam, const union icpt_addr *a, uint16_t port)
{
	u128 x = icpt_addr_u128(fam, a);

	return e->family == fam && icpt_addr_u128(fam, &e->lo) <= x && x <= icpt_addr_u128(fam, &e->hi) &&
	       e->port_lo <= port && port <= e->port_hi;
}

const char *icpt_elem_origin(const struct icpt_list *l, const struct icpt_elem *e)
{
	return origin_at(l, e->src);
}
