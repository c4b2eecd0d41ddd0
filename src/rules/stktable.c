/* stktable.c — the stick table itself (see stktable.h): hash, idle list,
 * expiry, rolling-period rates, keys, filters, and a session's tracked
 * entries. Every access to a table's entries holds its spinlock. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "rules/stktable.h"

static const char *const dt_names[STK_DT_COUNT] = {
	[STK_DT_GPT0] = "gpt0",
	[STK_DT_GPC0] = "gpc0",
	[STK_DT_GPC0_RATE] = "gpc0_rate",
	[STK_DT_CONN_CNT] = "conn_cnt",
	[STK_DT_CONN_RATE] = "conn_rate",
	[STK_DT_CONN_CUR] = "conn_cur",
	[STK_DT_BYTES_IN_CNT] = "bytes_in_cnt",
	[STK_DT_BYTES_IN_RATE] = "bytes_in_rate",
	[STK_DT_BYTES_OUT_CNT] = "bytes_out_cnt",
	[STK_DT_BYTES_OUT_RATE] = "bytes_out_rate",
};

const char *stk_dt_name(enum stk_dt dt)
{
	return dt < STK_DT_COUNT ? dt_names[dt] : "?";
}

bool stk_dt_is_rate(enum stk_dt dt)
{
	return dt == STK_DT_GPC0_RATE || dt == STK_DT_CONN_RATE || dt == STK_DT_BYTES_IN_RATE ||
	       dt == STK_DT_BYTES_OUT_RATE;
}

int stk_dt_find(const char *name, size_t len)
{
	for (int i = 0; i < STK_DT_COUNT; i++)
		if (strlen(dt_names[i]) == len && !memcmp(dt_names[i], name, len))
			return i;
	return -1;
}

const char *stk_type_name(enum stk_type t)
{
	static const char *const n[] = { "ip", "ipv6", "integer", "string" };

	return t <= STK_T_STR ? n[t] : "?";
}

uint64_t stk_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

bool stk_def_equal(const struct stk_def *a, const struct stk_def *b)
{
	if (a->type != b->type || a->klen != b->klen || a->size != b->size || a->expire != b->expire ||
	    a->nopurge != b->nopurge || a->store != b->store)
		return false;
	for (int i = 0; i < STK_DT_COUNT; i++)
		if (stk_dt_is_rate(i) && (a->store & (1u << i)) && a->period[i] != b->period[i])
			return false;
	return true;
}

/* ---- table life -------------------------------------------------------------------- */

struct stktable *stktable_new(const char *name, const struct stk_def *def)
{
	struct stktable *t = calloc(1, sizeof(*t));
	unsigned nb = 16;

	if (!t)
		return NULL;
	/* about one entry per bucket when full, within reason: the bucket
	 * array is allocated up front, the entries as they come */
	while (nb < def->size && nb < (1u << 20))
		nb <<= 1;
	t->def = *def;
	t->nbuckets = nb;
	t->refcnt = 1;
	t->name = strdup(name);
	t->hash = calloc(nb, sizeof(*t->hash));
	if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) != sizeof(t->seed))
		t->seed = (uint32_t)(uintptr_t)t ^ (uint32_t)stk_now_ms();
	if (!t->name || !t->hash || pthread_spin_init(&t->lock, PTHREAD_PROCESS_PRIVATE)) {
		free(t->name);
		free(t->hash);
		free(t);
		return NULL;
	}
	return t;
}

void stktable_get(struct stktable *t)
{
	__atomic_add_fetch(&t->refcnt, 1, __ATOMIC_RELAXED);
}

void stktable_put(struct stktable *t)
{
	if (!t || __atomic_sub_fetch(&t->refcnt, 1, __ATOMIC_ACQ_REL))
		return;
	for (unsigned b = 0; b < t->nbuckets; b++) {
		struct stksess *e, *n;

		for (e = t->hash[b]; e; e = n) {
			n = e->hnext;
			free(e);
		}
	}
	pthread_spin_destroy(&t->lock);
	free(t->hash);
	free(t->name);
	free(t);
}

/* ---- hash, idle list ---------------------------------------------------------------- */

static uint32_t key_hash(const struct stktable *t, const unsigned char *k)
{
	/* FNV-1a with a per-table seed, then a final mix */
	uint32_t h = 2166136261u ^ t->seed;

	for (unsigned i = 0; i < t->def.klen; i++) {
		h ^= k[i];
		h *= 16777619u;
	}
	h ^= h >> 16;
	h *= 0x7feb352du;
	h ^= h >> 15;
	return h & (t->nbuckets - 1);
}

static void idle_unlink(struct stktable *t, struct stksess *e)
{
	if (e->lprev)
		e->lprev->lnext = e->lnext;
	else if (t->idle_head == e)
		t->idle_head = e->lnext;
	if (e->lnext)
		e->lnext->lprev = e->lprev;
	else if (t->idle_tail == e)
		t->idle_tail = e->lprev;
	e->lprev = e->lnext = NULL;
}

/* e was updated and nobody tracks it: it becomes the youngest idle entry
 * and expires `expire` from now. */
static void idle_touch(struct stktable *t, struct stksess *e, uint64_t now)
{
	idle_unlink(t, e);
	e->expire = t->def.expire ? now + t->def.expire : 0;
	e->lprev = t->idle_tail;
	if (t->idle_tail)
		t->idle_tail->lnext = e;
	else
		t->idle_head = e;
	t->idle_tail = e;
}

static void entry_remove(struct stktable *t, struct stksess *e)
{
	struct stksess **pp = &t->hash[key_hash(t, e->key)];

	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
	idle_unlink(t, e);
	t->used--;
	free(e);
}

/* Removes idle entries whose time has come (the idle list is in expiry
 * order: the same delay from each one's last update). */
static void purge_expired(struct stktable *t, uint64_t now)
{
	while (t->idle_head && t->idle_head->expire && t->idle_head->expire <= now)
		entry_remove(t, t->idle_head);
}

static struct stksess *lookup(struct stktable *t, const unsigned char *key, uint64_t now)
{
	struct stksess *e;

	purge_expired(t, now);
	for (e = t->hash[key_hash(t, key)]; e; e = e->hnext)
		if (!memcmp(e->key, key, t->def.klen))
			return e;
	return NULL;
}

/* Finds or creates key (idle, touched by the caller). NULL: the table is
 * full of tracked entries or has nopurge, or no memory. */
static struct stksess *lookup_create(struct stktable *t, const unsigned char *key, uint64_t now)
{
	struct stksess *e = lookup(t, key, now);
	unsigned b;

	if (e)
		return e;
	if (t->used >= t->def.size) {
		/* HAProxy flushes the oldest unused entries to make room,
		 * unless told not to */
		if (t->def.nopurge || !t->idle_head)
			return NULL;
		entry_remove(t, t->idle_head);
	}
	e = calloc(1, sizeof(*e) + t->def.klen);
	if (!e)
		return NULL;
	memcpy(e->key, key, t->def.klen);
	for (int i = 0; i < STK_DT_COUNT; i++)
		e->frq[i].tick = now;
	b = key_hash(t, key);
	e->hnext = t->hash[b];
	t->hash[b] = e;
	t->used++;
	idle_touch(t, e, now);
	return e;
}

/* Entries being tracked are off the idle list (never evicted nor
 * expired); they are re-queued when the last tracker leaves. */
static void touch(struct stktable *t, struct stksess *e, uint64_t now)
{
	if (!e->ref)
		idle_touch(t, e, now);
}

/* ---- rolling-period rates (HAProxy's freq_ctr_period) -------------------------------- */

/* Moves the counter's window to the period holding now. */
static void frq_rotate(struct stk_frq *f, unsigned period, uint64_t now)
{
	uint64_t el;

	if (now < f->tick || !period)
		return;
	el = now - f->tick;
	if (el < period)
		return;
	f->prev = el < 2ull * period ? f->curr : 0;
	f->curr = 0;
	f->tick = now - el % period;
}

static void frq_add(struct stk_frq *f, unsigned period, uint64_t now, uint64_t n)
{
	frq_rotate(f, period, now);
	f->curr += n;
}

/* Events over the last period: the current period's plus the previous
 * one's, weighted by the part of it the sliding window still covers. */
static uint64_t frq_read(const struct stk_frq *f, unsigned period, uint64_t now)
{
	struct stk_frq c = *f;
	uint64_t el;

	if (!period)    /* never: a rate is always stored with its period */
		return f->curr;
	frq_rotate(&c, period, now);
	el = now > c.tick ? now - c.tick : 0;
	if (el >= period)
		el = period;
	return c.curr + (c.prev * (period - el)) / period;
}

/* ---- data ------------------------------------------------------------------------------ */

static inline bool stores(const struct stktable *t, enum stk_dt dt)
{
	return (t->def.store >> dt) & 1;
}

static void add(struct stktable *t, struct stksess *e, enum stk_dt dt, uint64_t now, uint64_t n)
{
	if (!stores(t, dt))
		return;
	if (stk_dt_is_rate(dt))
		frq_add(&e->frq[dt], t->def.period[dt], now, n);
	else
		e->cnt[dt] += n;
}

uint64_t stk_entry_value_locked(const struct stktable *t, const struct stksess *e, enum stk_dt dt, uint64_t now)
{
	if (stk_dt_is_rate(dt))
		return frq_read(&e->frq[dt], t->def.period[dt], now);
	return e->cnt[dt];
}

struct stksess *stk_track(struct stktable *t, const unsigned char *key, uint64_t now)
{
	struct stksess *e;

	pthread_spin_lock(&t->lock);
	e = lookup_create(t, key, now);
	if (e) {
		if (!e->ref++)
			idle_unlink(t, e);
		add(t, e, STK_DT_CONN_CNT, now, 1);
		add(t, e, STK_DT_CONN_CUR, now, 1);
		add(t, e, STK_DT_CONN_RATE, now, 1);
	}
	pthread_spin_unlock(&t->lock);
	return e;
}

void stk_untrack(struct stktable *t, struct stksess *e, uint64_t in, uint64_t out, uint64_t now)
{
	pthread_spin_lock(&t->lock);
	if (stores(t, STK_DT_CONN_CUR) && e->cnt[STK_DT_CONN_CUR])
		e->cnt[STK_DT_CONN_CUR]--;
	add(t, e, STK_DT_BYTES_IN_CNT, now, in);
	add(t, e, STK_DT_BYTES_IN_RATE, now, in);
	add(t, e, STK_DT_BYTES_OUT_CNT, now, out);
	add(t, e, STK_DT_BYTES_OUT_RATE, now, out);
	if (e->ref && !--e->ref)
		idle_touch(t, e, now);
	pthread_spin_unlock(&t->lock);
}

int stk_entry_get(struct stktable *t, struct stksess *e, enum stk_dt dt, uint64_t now, uint64_t *v)
{
	if (!stores(t, dt))
		return 0;
	pthread_spin_lock(&t->lock);
	*v = stk_entry_value_locked(t, e, dt, now);
	pthread_spin_unlock(&t->lock);
	return 1;
}

static int inc_gpc0_locked(struct stktable *t, struct stksess *e, bool clr, uint64_t now, uint64_t *v)
{
	if (clr) {
		if (!stores(t, STK_DT_GPC0))
			return 0;
		*v = e->cnt[STK_DT_GPC0];
		e->cnt[STK_DT_GPC0] = 0;
	} else {
		if (!stores(t, STK_DT_GPC0) && !stores(t, STK_DT_GPC0_RATE))
			return 0;
		add(t, e, STK_DT_GPC0_RATE, now, 1);
		add(t, e, STK_DT_GPC0, now, 1);
		*v = stores(t, STK_DT_GPC0) ? e->cnt[STK_DT_GPC0] :
		     frq_read(&e->frq[STK_DT_GPC0_RATE], t->def.period[STK_DT_GPC0_RATE], now);
	}
	touch(t, e, now);
	return 1;
}

int stk_entry_inc_gpc0(struct stktable *t, struct stksess *e, uint64_t now, uint64_t *v)
{
	int r;

	pthread_spin_lock(&t->lock);
	r = inc_gpc0_locked(t, e, false, now, v);
	pthread_spin_unlock(&t->lock);
	return r;
}

int stk_entry_clr_gpc0(struct stktable *t, struct stksess *e, uint64_t now, uint64_t *v)
{
	int r;

	pthread_spin_lock(&t->lock);
	r = inc_gpc0_locked(t, e, true, now, v);
	pthread_spin_unlock(&t->lock);
	return r;
}

int stk_entry_set_gpt0(struct stktable *t, struct stksess *e, uint64_t val, uint64_t now)
{
	if (!stores(t, STK_DT_GPT0))
		return 0;
	pthread_spin_lock(&t->lock);
	e->cnt[STK_DT_GPT0] = val;
	touch(t, e, now);
	pthread_spin_unlock(&t->lock);
	return 1;
}

int stk_key_get(struct stktable *t, const unsigned char *key, enum stk_dt dt, uint64_t now, uint64_t *v)
{
	struct stksess *e;

	if (!stores(t, dt))
		return 0;
	pthread_spin_lock(&t->lock);
	e = lookup(t, key, now);
	*v = e ? stk_entry_value_locked(t, e, dt, now) : 0;
	pthread_spin_unlock(&t->lock);
	return 1;
}

int stk_key_inc_gpc0(struct stktable *t, const unsigned char *key, bool clr, uint64_t now, uint64_t *v)
{
	struct stksess *e;
	int r = 0;

	if (!stores(t, STK_DT_GPC0) && (clr || !stores(t, STK_DT_GPC0_RATE)))
		return 0;
	pthread_spin_lock(&t->lock);
	e = lookup_create(t, key, now);
	if (e)
		r = inc_gpc0_locked(t, e, clr, now, v);
	pthread_spin_unlock(&t->lock);
	return r;
}

unsigned stk_used(struct stktable *t, uint64_t now)
{
	unsigned n;

	pthread_spin_lock(&t->lock);
	purge_expired(t, now);
	n = t->used;
	pthread_spin_unlock(&t->lock);
	return n;
}

/* ---- keys ------------------------------------------------------------------------------- */

int stk_key_from_smp(const struct stktable *t, const struct sample *smp, unsigned char *key)
{
	struct sample s = *smp;

	memset(key, 0, t->def.klen);
	switch (t->def.type) {
	case STK_T_IP:
		if (!smp_cast(&s, SMP_T_ADDR))
			return -1;
		if (s.u.addr.ss_family == AF_INET) {
			memcpy(key, &((struct sockaddr_in *)&s.u.addr)->sin_addr, 4);
			return 0;
		}
		if (s.u.addr.ss_family == AF_INET6 &&
		    IN6_IS_ADDR_V4MAPPED(&((struct sockaddr_in6 *)&s.u.addr)->sin6_addr)) {
			memcpy(key, ((struct sockaddr_in6 *)&s.u.addr)->sin6_addr.s6_addr + 12, 4);
			return 0;
		}
		return -1;
	case STK_T_IPV6:
		if (!smp_cast(&s, SMP_T_ADDR))
			return -1;
		if (s.u.addr.ss_family == AF_INET6) {
			memcpy(key, &((struct sockaddr_in6 *)&s.u.addr)->sin6_addr, 16);
			return 0;
		}
		if (s.u.addr.ss_family == AF_INET) {
			key[10] = key[11] = 0xff;
			memcpy(key + 12, &((struct sockaddr_in *)&s.u.addr)->sin_addr, 4);
			return 0;
		}
		return -1;
	case STK_T_INT: {
		uint32_t v;

		if (!smp_cast(&s, SMP_T_SINT))
			return -1;
		v = (uint32_t)s.u.sint;
		memcpy(key, &v, 4);
		return 0;
	}
	case STK_T_STR:
		if (s.type != SMP_T_STR && s.type != SMP_T_BIN && !smp_cast(&s, SMP_T_STR))
			return -1;
		memcpy(key, s.u.str.ptr, s.u.str.len < t->def.klen ? s.u.str.len : t->def.klen);
		return 0;
	}
	return -1;
}

int stk_key_from_text(const struct stktable *t, const char *s, unsigned char *key)
{
	memset(key, 0, t->def.klen);
	switch (t->def.type) {
	case STK_T_IP:
		return inet_pton(AF_INET, s, key) == 1 ? 0 : -1;
	case STK_T_IPV6: {
		struct in_addr a4;

		if (inet_pton(AF_INET6, s, key) == 1)
			return 0;
		if (inet_pton(AF_INET, s, &a4) != 1)
			return -1;
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &a4, 4);
		return 0;
	}
	case STK_T_INT: {
		char *end;
		unsigned long long v;
		uint32_t k;

		errno = 0;
		v = strtoull(s, &end, 10);
		if (!*s || *end || errno || v > UINT32_MAX || *s == '-')
			return -1;
		k = (uint32_t)v;
		memcpy(key, &k, 4);
		return 0;
	}
	case STK_T_STR: {
		size_t l = strlen(s);

		memcpy(key, s, l < t->def.klen ? l : t->def.klen);
		return 0;
	}
	}
	return -1;
}

size_t stk_key_to_text(const struct stktable *t, const unsigned char *key, char *buf, size_t cap)
{
	size_t o = 0;

	if (!cap)
		return 0;
	buf[0] = '\0';
	switch (t->def.type) {
	case STK_T_IP:
		inet_ntop(AF_INET, key, buf, (socklen_t)cap);
		return strlen(buf);
	case STK_T_IPV6:
		inet_ntop(AF_INET6, key, buf, (socklen_t)cap);
		return strlen(buf);
	case STK_T_INT: {
		uint32_t v;

		memcpy(&v, key, 4);
		return (size_t)snprintf(buf, cap, "%u", v) < cap ? strlen(buf) : cap - 1;
	}
	case STK_T_STR:
		/* attacker bytes: printable ones as they are, others escaped */
		for (unsigned i = 0; i < t->def.klen && key[i] && o + 5 < cap; i++) {
			if (key[i] >= 0x21 && key[i] < 0x7f && key[i] != '\\')
				buf[o++] = (char)key[i];
			else
				o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", key[i]);
		}
		buf[o] = '\0';
		return o;
	}
	return 0;
}

/* ---- dump, clear, filters ---------------------------------------------------------------- */

int stk_filter_parse(const struct stktable *t, int argc, char **argv, struct stk_filter *f, char **err)
{
	static const char *const ops[] = { "", "eq", "ne", "le", "lt", "ge", "gt" };

	memset(f, 0, sizeof(*f));
	f->dt = -1;
	for (int i = 0; i < argc;) {
		if (!strcmp(argv[i], "key")) {
			if (i + 1 >= argc) {
				memprintf(err, "'key' expects a key of the table's type (%s).", stk_type_name(t->def.type));
				return -1;
			}
			if (f->has_key) {
				memprintf(err, "only one 'key' may be given.");
				return -1;
			}
			if (stk_key_from_text(t, argv[i + 1], f->key) < 0) {
				memprintf(err, "'%s' is not a valid key for table '%s' of type %s.", argv[i + 1], t->name,
					  stk_type_name(t->def.type));
				return -1;
			}
			f->has_key = true;
			i += 2;
		} else if (!strncmp(argv[i], "data.", 5)) {
			int dt = stk_dt_find(argv[i] + 5, strlen(argv[i] + 5));
			char *end;

			if (f->dt >= 0) {
				memprintf(err, "only one 'data.<type>' filter may be given.");
				return -1;
			}
			if (dt < 0) {
				memprintf(err, "Unknown data type '%s'.", argv[i] + 5);
				return -1;
			}
			if (!stores(t, dt)) {
				memprintf(err, "Data type '%s' not stored in table '%s'.", argv[i] + 5, t->name);
				return -1;
			}
			if (i + 2 >= argc) {
				memprintf(err, "'%s' expects an operator (eq, ne, le, lt, ge, gt) and a value.", argv[i]);
				return -1;
			}
			for (int o = 1; o < (int)ARRAY_SIZE(ops); o++)
				if (!strcmp(argv[i + 1], ops[o]))
					f->op = o;
			if (!f->op) {
				memprintf(err, "Require an operator among \"eq\", \"ne\", \"le\", \"ge\", \"lt\", \"gt\", found '%s'.",
					  argv[i + 1]);
				return -1;
			}
			errno = 0;
			f->val = strtoull(argv[i + 2], &end, 10);
			if (!*argv[i + 2] || *end || errno || argv[i + 2][0] == '-') {
				memprintf(err, "Require a valid integer value to compare against, found '%s'.", argv[i + 2]);
				return -1;
			}
			f->dt = dt;
			i += 3;
		} else {
			memprintf(err, "Optional argument only supports \"data.<store_data_type>\" <operator> <value> or key <key>, found '%s'.",
				  argv[i]);
			return -1;
		}
	}
	return 0;
}

static bool filter_match(const struct stktable *t, const struct stk_filter *f, const struct stksess *e,
			 uint64_t now)
{
	uint64_t v;

	if (!f)
		return true;
	if (f->has_key && memcmp(e->key, f->key, t->def.klen))
		return false;
	if (f->dt < 0)
		return true;
	v = stk_entry_value_locked(t, e, f->dt, now);
	switch (f->op) {
	case STK_OP_EQ: return v == f->val;
	case STK_OP_NE: return v != f->val;
	case STK_OP_LE: return v <= f->val;
	case STK_OP_LT: return v < f->val;
	case STK_OP_GE: return v >= f->val;
	case STK_OP_GT: return v > f->val;
	default: return true;
	}
}

void stk_dump(struct stktable *t, const struct stk_filter *f, uint64_t now, stk_dump_fn fn, void *arg)
{
	pthread_spin_lock(&t->lock);
	purge_expired(t, now);
	for (unsigned b = 0; b < t->nbuckets; b++)
		for (const struct stksess *e = t->hash[b]; e; e = e->hnext)
			if (filter_match(t, f, e, now))
				fn(arg, t, e, now);
	pthread_spin_unlock(&t->lock);
}

unsigned stk_clear(struct stktable *t, const struct stk_filter *f, uint64_t now)
{
	unsigned n = 0;

	pthread_spin_lock(&t->lock);
	purge_expired(t, now);
	for (unsigned b = 0; b < t->nbuckets; b++) {
		struct stksess *e, *next;

		for (e = t->hash[b]; e; e = next) {
			next = e->hnext;
			/* entries in use stay, as HAProxy's `clear table` */
			if (!e->ref && filter_match(t, f, e, now)) {
				entry_remove(t, e);
				n++;
			}
		}
	}
	pthread_spin_unlock(&t->lock);
	return n;
}

/* ---- a session's counters ------------------------------------------------------------ */

void stk_sess_track(struct smp_store *st, int sc, struct stktable *t, const struct sample *key, uint64_t now)
{
	unsigned char k[STK_KEY_MAX];

	if (!st || !t || sc < 0 || sc >= STK_NB_SC || st->sc_e[sc])
		return;
	if (stk_key_from_smp(t, key, k) < 0)
		return;
	st->sc_e[sc] = stk_track(t, k, now);
	if (st->sc_e[sc])
		st->sc_t[sc] = t;
}

void stk_sess_release(struct smp_store *st, uint64_t in, uint64_t out)
{
	uint64_t now;

	if (!st)
		return;
	now = stk_now_ms();
	for (int i = 0; i < STK_NB_SC; i++) {
		if (!st->sc_e[i])
			continue;
		stk_untrack(st->sc_t[i], st->sc_e[i], in, out, now);
		st->sc_e[i] = NULL;
		st->sc_t[i] = NULL;
	}
}
