/* probe.c — probe events and scan summaries (see probe.h).
 *
 * One array of entries is used as a ring in insertion order (the oldest is
 * at `head`), indexed by a chained hash. Four kinds of entries share it:
 *   K_PROBE  (attacker, decoy, port, proto, scope): verdict and counts;
 *   K_ATT    (attacker, scope): the current window and its counts;
 *   K_DEC    (attacker, decoy, scope, window start): seen in this window;
 *   K_PORT   (attacker, port, scope, window start): seen in this window.
 * Pending probes are also on a FIFO list (creation order = settle order).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/probe.h"

typedef unsigned __int128 u128;

enum { K_FREE = 0, K_PROBE, K_ATT, K_DEC, K_PORT };

struct pkey {
	uint8_t kind, family, proto, pad;
	uint16_t port, pad2;
	uint32_t scope;
	uint64_t wstart;
	union icpt_addr src, dst;
};

struct pent {
	struct pkey k;
	int32_t next;                   /* hash chain */
	int32_t pnext;                  /* pending list (probes) */
	uint64_t born, expire;
	union {
		struct {
			uint64_t first, due;    /* due: when a pending probe settles */
			uint32_t syn, rst;
			uint16_t sport;
			uint8_t verdict;
			bool accepted, emitted, pending;
		} p;
		struct {
			uint32_t ndecoys, nports, nprobes;
			union icpt_addr lo, hi;
			uint16_t plo, phi;
			uint32_t thr_decoys, thr_ports;
			uint64_t evict0;        /* evictions when the window began */
		} a;
	} u;
};

struct probe_table {
	struct pent *v;
	int32_t *bucket;
	size_t cap, nbucket, head, used;
	int32_t phead, ptail;           /* pending probes */
	uint32_t settle_ms;
	probe_emit_fn emit;
	probe_params_fn params;
	void *ctx;
	struct probe_stats st;
};

static const struct probe_params default_params = { 60000, 3, 5 };

const char *probe_verdict_name(enum probe_verdict v)
{
	switch (v) {
	case PROBE_V_CONNECTION: return "connection";
	case PROBE_V_HALF_OPEN: return "half-open";
	case PROBE_V_CLOSED: return "closed";
	default: return "syn";
	}
}

static size_t alen(int family)
{
	return family == AF_INET6 ? 16 : 4;
}

static uint32_t hash_key(const struct pkey *k)
{
	const uint8_t *p = (const uint8_t *)k;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static const struct probe_params *params_of(struct probe_table *t, uint32_t scope)
{
	const struct probe_params *p = t->params ? t->params(t->ctx, scope) : NULL;

	return p ? p : &default_params;
}

struct probe_table *probe_table_new(size_t cap, uint32_t settle_ms, probe_emit_fn emit,
				    probe_params_fn params, void *ctx)
{
	struct probe_table *t;

	if (cap < 16)
		cap = 16;
	if (cap > (1u << 30))
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->cap = cap;
	t->nbucket = 1;
	while (t->nbucket < cap)
		t->nbucket <<= 1;
	t->v = calloc(cap, sizeof(*t->v));
	t->bucket = malloc(t->nbucket * sizeof(*t->bucket));
	if (!t->v || !t->bucket) {
		free(t->v);
		free(t->bucket);
		free(t);
		return NULL;
	}
	for (size_t i = 0; i < t->nbucket; i++)
		t->bucket[i] = -1;
	t->phead = t->ptail = -1;
	t->settle_ms = settle_ms;
	t->emit = emit;
	t->params = params;
	t->ctx = ctx;
	return t;
}

static struct pent *find(struct probe_table *t, const struct pkey *k)
{
	int32_t i = t->bucket[hash_key(k) & (t->nbucket - 1)];

	for (; i >= 0; i = t->v[i].next)
		if (!memcmp(&t->v[i].k, k, sizeof(*k)))
			return &t->v[i];
	return NULL;
}

static void unlink_hash(struct probe_table *t, int32_t idx)
{
	int32_t *pp = &t->bucket[hash_key(&t->v[idx].k) & (t->nbucket - 1)];

	while (*pp >= 0 && *pp != idx)
		pp = &t->v[*pp].next;
	if (*pp == idx)
		*pp = t->v[idx].next;
}

static void pending_remove(struct probe_table *t, int32_t idx)
{
	int32_t *pp = &t->phead, prev = -1;

	while (*pp >= 0 && *pp != idx) {
		prev = *pp;
		pp = &t->v[*pp].pnext;
	}
	if (*pp != idx)
		return;
	*pp = t->v[idx].pnext;
	if (t->ptail == idx)
		t->ptail = prev;
	t->v[idx].u.p.pending = false;
}

static void pending_add(struct probe_table *t, struct pent *e, uint64_t now)
{
	int32_t idx = (int32_t)(e - t->v);

	e->u.p.pending = true;
	e->u.p.due = now + t->settle_ms;
	e->pnext = -1;
	if (t->ptail >= 0)
		t->v[t->ptail].pnext = idx;
	else
		t->phead = idx;
	t->ptail = idx;
}

static void emit_probe(struct probe_table *t, struct pent *e, uint64_t now)
{
	struct probe_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = PROBE_EV_PROBE;
	ev.time_ms = e->u.p.first;
	ev.end_ms = now;
	ev.scope = e->k.scope;
	ev.family = e->k.family;
	ev.proto = e->k.proto;
	ev.src = e->k.src;
	ev.dst = e->k.dst;
	ev.sport = e->u.p.sport;
	ev.dport = e->k.port;
	ev.verdict = (enum probe_verdict)e->u.p.verdict;
	ev.syn = e->u.p.syn;
	ev.rst = e->u.p.rst;
	e->u.p.emitted = true;
	t->st.probes++;
	if (t->emit)
		t->emit(t->ctx, &ev);
}

/* A pending probe's verdict from what was seen. */
static void settle(struct probe_table *t, struct pent *e, uint64_t now)
{
	if (e->u.p.pending)
		pending_remove(t, (int32_t)(e - t->v));
	if (e->u.p.accepted)
		e->u.p.verdict = PROBE_V_CONNECTION;
	else if (e->u.p.rst)
		e->u.p.verdict = PROBE_V_HALF_OPEN;
	emit_probe(t, e, now);
}

static void emit_scan(struct probe_table *t, struct pent *e, uint64_t now)
{
	struct probe_event ev;

	if (e->u.a.ndecoys < e->u.a.thr_decoys && e->u.a.nports < e->u.a.thr_ports)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.type = PROBE_EV_SCAN;
	ev.time_ms = e->born;
	ev.end_ms = now;
	ev.scope = e->k.scope;
	ev.family = e->k.family;
	ev.proto = e->k.proto;
	ev.src = e->k.src;
	ev.dst = e->u.a.lo;
	ev.dst_hi = e->u.a.hi;
	ev.dport = e->u.a.plo;
	ev.dport_hi = e->u.a.phi;
	ev.ndecoys = e->u.a.ndecoys;
	ev.nports = e->u.a.nports;
	ev.nprobes = e->u.a.nprobes;
	ev.partial = t->st.evictions > e->u.a.evict0;
	t->st.scans++;
	if (t->emit)
		t->emit(t->ctx, &ev);
}

/* Frees entry idx: a pending probe or an attacker's window is emitted
 * first (at its due time at most: an eviction emits early). */
static void release(struct probe_table *t, int32_t idx, uint64_t now, bool evicted)
{
	struct pent *e = &t->v[idx];

	if (e->k.kind == K_FREE) {      /* a slot already let go */
		memset(e, 0, sizeof(*e));
		t->used--;
		return;
	}
	if (e->k.kind == K_PROBE && e->u.p.pending)
		settle(t, e, now);
	else if (e->k.kind == K_ATT)
		emit_scan(t, e, now);
	if (evicted)
		t->st.evictions++;
	unlink_hash(t, idx);
	memset(e, 0, sizeof(*e));
	t->used--;
}

/* A fresh entry for k (the oldest is evicted when the table is full). */
static struct pent *insert(struct probe_table *t, const struct pkey *k, uint64_t now, uint64_t expire)
{
	size_t idx = (t->head + t->used) % t->cap;
	struct pent *e;
	uint32_t h;

	if (t->used == t->cap) {
		idx = t->head;
		release(t, (int32_t)idx, now, true);
		t->head = (t->head + 1) % t->cap;
	}
	e = &t->v[idx];
	memset(e, 0, sizeof(*e));
	e->k = *k;
	e->born = now;
	e->expire = expire;
	e->pnext = -1;
	h = hash_key(k) & (uint32_t)(t->nbucket - 1);
	e->next = t->bucket[h];
	t->bucket[h] = (int32_t)idx;
	t->used++;
	return e;
}

static int addr_cmp(int family, const union icpt_addr *a, const union icpt_addr *b)
{
	return memcmp(a, b, alen(family));
}

/* Counts a new probe key in its attacker's window. */
static void count_window(struct probe_table *t, const struct probe_obs *o, uint64_t now,
			 const struct probe_params *pp)
{
	struct pkey ak, dk, pk;
	struct pent *a;

	memset(&ak, 0, sizeof(ak));
	ak.kind = K_ATT;
	ak.family = o->family;
	ak.scope = o->scope;
	memcpy(&ak.src, &o->src, alen(o->family));
	a = find(t, &ak);
	if (a && a->expire <= now) {
		int32_t idx = (int32_t)(a - t->v);

		/* the window ended: report it now, start a new one (the slot
		 * stays in the ring, freed when its turn comes) */
		emit_scan(t, a, now);
		unlink_hash(t, idx);
		a->k.kind = K_FREE;
		a = NULL;
	}
	if (!a) {
		/* the window's start (born) is in the keys of its pairs */
		a = insert(t, &ak, now, now + pp->interval_ms);
		a->u.a.thr_decoys = pp->scan_decoys;
		a->u.a.thr_ports = pp->scan_ports;
		a->u.a.lo = a->u.a.hi = o->dst;
		a->u.a.plo = a->u.a.phi = o->dport;
		a->u.a.evict0 = t->st.evictions;
	}
	a->u.a.nprobes++;
	memset(&dk, 0, sizeof(dk));
	dk.kind = K_DEC;
	dk.family = o->family;
	dk.scope = o->scope;
	dk.wstart = a->born;
	memcpy(&dk.src, &o->src, alen(o->family));
	memcpy(&dk.dst, &o->dst, alen(o->family));
	pk = dk;
	pk.kind = K_PORT;
	memset(&pk.dst, 0, sizeof(pk.dst));
	pk.port = o->dport;
	if (!find(t, &dk)) {
		int32_t ai = (int32_t)(a - t->v);

		insert(t, &dk, now, a->expire);
		a = &t->v[ai];
		if (a->k.kind != K_ATT) /* evicted by that insert */
			return;
		a->u.a.ndecoys++;
		if (addr_cmp(o->family, &o->dst, &a->u.a.lo) < 0)
			a->u.a.lo = o->dst;
		if (addr_cmp(o->family, &o->dst, &a->u.a.hi) > 0)
			a->u.a.hi = o->dst;
	}
	if (!find(t, &pk)) {
		int32_t ai = (int32_t)(a - t->v);

		insert(t, &pk, now, a->expire);
		a = &t->v[ai];
		if (a->k.kind != K_ATT)
			return;
		a->u.a.nports++;
		if (o->dport < a->u.a.plo)
			a->u.a.plo = o->dport;
		if (o->dport > a->u.a.phi)
			a->u.a.phi = o->dport;
	}
}

void probe_observe(struct probe_table *t, uint64_t now, const struct probe_obs *o)
{
	const struct probe_params *pp = params_of(t, o->scope);
	struct pkey k;
	struct pent *e;
	bool fresh = false;

	t->st.observed++;
	memset(&k, 0, sizeof(k));
	k.kind = K_PROBE;
	k.family = o->family;
	k.proto = o->proto;
	k.port = o->dport;
	k.scope = o->scope;
	memcpy(&k.src, &o->src, alen(o->family));
	memcpy(&k.dst, &o->dst, alen(o->family));
	e = find(t, &k);
	if (e && e->expire <= now) {
		/* interval over: a new event for the key */
		if (e->u.p.pending)
			settle(t, e, now);
		unlink_hash(t, (int32_t)(e - t->v));
		e->k.kind = K_FREE;
		e = NULL;
	}
	if (!e) {
		if (o->kind == PROBE_OBS_RST)
			return;         /* an RST alone says nothing new */
		e = insert(t, &k, now, now + pp->interval_ms);
		e->u.p.first = now;
		e->u.p.sport = o->sport;
		fresh = true;
	} else if (e->u.p.emitted && o->kind != PROBE_OBS_ACCEPT) {
		t->st.suppressed++;
	}
	switch (o->kind) {
	case PROBE_OBS_SYN:
		e->u.p.syn++;
		if (fresh)
			pending_add(t, e, now);
		break;
	case PROBE_OBS_RST:
		e->u.p.rst++;
		break;
	case PROBE_OBS_CLOSED:
		e->u.p.syn++;
		if (fresh) {
			e->u.p.verdict = PROBE_V_CLOSED;
			emit_probe(t, e, now);
		}
		break;
	case PROBE_OBS_ACCEPT:
		/* the first accept of the key in the interval is news, even
		 * after a half-open or closed event of the same key; it waits
		 * for the settle time too, as the kernel's log of the SYN may
		 * be read after the accept */
		if (!e->u.p.accepted) {
			e->u.p.accepted = true;
			e->u.p.sport = o->sport;
			if (!e->u.p.pending)
				pending_add(t, e, now);
		}
		break;
	}
	if (fresh)
		count_window(t, o, now, pp);
}

uint32_t probe_tick(struct probe_table *t, uint64_t now)
{
	uint64_t next = UINT64_MAX;

	while (t->phead >= 0) {
		struct pent *e = &t->v[t->phead];

		if (e->u.p.due > now) {
			next = e->u.p.due;
			break;
		}
		settle(t, e, now);
	}
	while (t->used) {
		struct pent *e = &t->v[t->head];

		if (e->k.kind != K_FREE && e->expire > now) {
			if (e->expire < next)
				next = e->expire;
			break;
		}
		if (e->k.kind != K_FREE) {
			release(t, (int32_t)t->head, now, false);
		} else {
			memset(e, 0, sizeof(*e));
			t->used--;
		}
		t->head = (t->head + 1) % t->cap;
	}
	if (next == UINT64_MAX)
		return UINT32_MAX;
	return next - now > UINT32_MAX - 1 ? UINT32_MAX - 1 : (uint32_t)(next - now);
}

void probe_table_free(struct probe_table *t)
{
	if (!t)
		return;
	while (t->used) {
		struct pent *e = &t->v[t->head];

		if (e->k.kind != K_FREE) {
			release(t, (int32_t)t->head, UINT64_MAX / 2, false);
		} else {
			memset(e, 0, sizeof(*e));
			t->used--;
		}
		t->head = (t->head + 1) % t->cap;
	}
	free(t->v);
	free(t->bucket);
	free(t);
}

const struct probe_stats *probe_table_stats(const struct probe_table *t)
{
	return &t->st;
}

size_t probe_table_used(const struct probe_table *t)
{
	return t->used;
}
