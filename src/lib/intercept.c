/* intercept.c — decoy lists: storage, normalisation (sort, make disjoint,
 * merge), printing and counting, set operations (append, subtract, covers)
 * and the overlaps between two lists (see intercept.h). Specs, files and
 * the origin texts of elements are in intercept_parse.c; intercept_int.h
 * is what the two share.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/intercept.h"
#include "lib/intercept_int.h"

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

/* ---- list storage ---- */

int icpt_list_reserve(struct icpt_list *l, size_t more)
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

void icpt_elem_make(struct icpt_elem *e, int family, u128 lo, u128 hi, unsigned plo,
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
			  icpt_src_text(sw->in, a->src));
	else
		memprintf(&msg, "decoy spec %s overlaps %s: some address:port pairs are "
			  "given twice", icpt_src_text(sw->in, a->src), icpt_src_text(sw->in, b->src));
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
			sw.warn(sw.ctx, msg);
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
	int bits = icpt_family_bits(family), host;
	u128 span = hi - lo;

	for (host = 0; host <= bits; host++) {
		u128 m = icpt_low_mask(host);

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
	ret = icpt_list_reserve(dst, add);
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
			icpt_elem_make(&v[n++], f, elo, rlo - 1, e->port_lo, e->port_hi, e->src);
		if (ehi > rhi)
			icpt_elem_make(&v[n++], f, rhi + 1, ehi, e->port_lo, e->port_hi, e->src);
		mlo = elo > rlo ? elo : rlo;
		mhi = ehi < rhi ? ehi : rhi;
		if (e->port_lo < r->port_lo)
			icpt_elem_make(&v[n++], f, mlo, mhi, e->port_lo, r->port_lo - 1u, e->src);
		if (e->port_hi > r->port_hi)
			icpt_elem_make(&v[n++], f, mlo, mhi, r->port_hi + 1u, e->port_hi, e->src);
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
		ret = icpt_list_reserve(&in, 1);
		if (ret)
			goto out;
		elo = icpt_addr_u128(f, &e->lo);
		ehi = icpt_addr_u128(f, &e->hi);
		icpt_elem_make(&in.v[in.n++], f, elo > rlo ? elo : rlo, ehi < rhi ? ehi : rhi,
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
	if (icpt_list_reserve(&rest, 1) < 0)
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

/* One list's active elements, sorted by port range (disjoint ranges):
 * v[0..n) are set, v has room for every element of the list. */
struct ovl_side {
	struct ovl_act *v;
	size_t n;
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

/* First active entry whose port range starts above port: 0..sd->n. */
static size_t ovl_upper(const struct ovl_side *sd, unsigned port)
{
	size_t a = 0, b = sd->n;

	while (a < b) {
		size_t m = a + (b - a) / 2;

		if (sd->v[m].lo <= port)
			a = m + 1;
		else
			b = m;
	}
	return a;
}

/* The active entry of sd that meets port range [lo, hi], or NULL: the
 * ranges being disjoint, only the last one starting at or below hi can. */
static const struct ovl_act *ovl_meet(const struct ovl_side *sd, unsigned lo, unsigned hi)
{
	size_t pos = ovl_upper(sd, hi);

	return pos && sd->v[pos - 1].hi >= lo ? &sd->v[pos - 1] : NULL;
}

/* Makes element idx (ports [lo, hi]) active in sd; sd->v has room. */
static void ovl_add(struct ovl_side *sd, unsigned lo, unsigned hi, uint32_t idx)
{
	size_t pos = ovl_upper(sd, lo);

	memmove(&sd->v[pos + 1], &sd->v[pos], (sd->n - pos) * sizeof(*sd->v));
	sd->v[pos] = (struct ovl_act){ (uint16_t)lo, (uint16_t)hi, idx };
	sd->n++;
}

/* Ends element idx (ports starting at lo); it is the last entry starting
 * at or below lo, as every end follows its own start. */
static void ovl_del(struct ovl_side *sd, unsigned lo, uint32_t idx)
{
	size_t pos = ovl_upper(sd, lo);

	if (pos && sd->v[pos - 1].idx == idx) {
		memmove(&sd->v[pos - 1], &sd->v[pos], (sd->n - pos) * sizeof(*sd->v));
		sd->n--;
	}
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
	size_t na = icpt_count(a, fam), nb = icpt_count(b, fam), nev = 0;
	struct ovl_side sa = { NULL, 0 }, sb = { NULL, 0 };
	struct ovl_ev *ev;
	int ret = 0;

	if (!na || !nb)
		return 0;
	ev = malloc(2 * (na + nb) * sizeof(*ev));
	sa.v = malloc(na * sizeof(*sa.v));
	sb.v = malloc(nb * sizeof(*sb.v));
	if (!ev || !sa.v || !sb.v) {
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
		/* each side by name, not act[s]: the active sets and their
		 * sizes stay two distinct objects (also to the analyzer) */
		struct ovl_side *mine = ev[k].side ? &sb : &sa, *other = ev[k].side ? &sa : &sb;
		const struct icpt_elem *e = &l[ev[k].side]->v[ev[k].idx];
		const struct ovl_act *hit;

		if (ev[k].end) {
			ovl_del(mine, e->port_lo, ev[k].idx);
			continue;
		}
		hit = ovl_meet(other, e->port_lo, e->port_hi);
		if (hit) {
			*(ev[k].side ? ib : ia) = ev[k].idx;
			*(ev[k].side ? ia : ib) = hit->idx;
			ret = 1;
			goto out;
		}
		ovl_add(mine, e->port_lo, e->port_hi, ev[k].idx);
	}
out:
	free(ev);
	free(sa.v);
	free(sb.v);
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
