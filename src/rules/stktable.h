/* stktable.h — stick tables (HAProxy's, the subset a front needs):
 * per-key counters about attackers, bounded in memory, shared by every
 * session and every thread.
 *
 *   stick-table type ip|ipv6|integer|string [len <n>] size <n>
 *               [expire <time>] [nopurge] [store <type>[,<type>...]]
 *
 * A table (struct stktable) is a hash of entries (struct stksess) keyed
 * by a fixed-size key (4 bytes for ip and integer, 16 for ipv6, len for
 * string), with the counters its `store` list names. Memory is bounded by
 * `size` entries: when full, a new key evicts the least recently updated
 * entry that no session tracks (none with `nopurge`: the new key is then
 * not stored). Entries that no session tracks expire `expire` after their
 * last update; rates are HAProxy's rolling periods: the count of the
 * current period plus the previous period's count weighted by the part of
 * it still inside the sliding window.
 *
 * Threads: one table is shared by every thread and generation that uses
 * it. Each table has one spinlock taken around every lookup and update
 * (critical sections are short and never block nor allocate more than one
 * entry); an entry tracked by a session holds a reference (ref) so it is
 * neither evicted nor expired until the session releases it. A table
 * itself is reference-counted (stktable_get/put): each generation that
 * uses it holds one, so a table carried over a reload lives until the last
 * generation using it is freed.
 *
 * Time is passed in (milliseconds of a monotonic clock, stk_now_ms()) so
 * that tests control it.
 */
#ifndef DECOYPROXY_STKTABLE_H
#define DECOYPROXY_STKTABLE_H

#include <pthread.h>

#include "lib/common.h"
#include "rules/sample.h"

struct dp_config;
struct proxy;
struct cfg_kw_list;

enum stk_type { STK_T_IP = 0, STK_T_IPV6, STK_T_INT, STK_T_STR };

/* Stored data types, in the order `show table` prints them (HAProxy's). */
enum stk_dt {
	STK_DT_GPT0 = 0,
	STK_DT_GPC0,
	STK_DT_GPC0_RATE,
	STK_DT_CONN_CNT,
	STK_DT_CONN_RATE,
	STK_DT_CONN_CUR,
	STK_DT_BYTES_IN_CNT,
	STK_DT_BYTES_IN_RATE,
	STK_DT_BYTES_OUT_CNT,
	STK_DT_BYTES_OUT_RATE,
	STK_DT_COUNT
};

#define STK_KEY_MAX 256         /* longest string key (len) */
#define STK_STR_LEN_DEFAULT 32  /* HAProxy's default string key length */
#define STK_SIZE_MAX (1u << 30)
#define STK_NB_SC 3             /* sc0, sc1, sc2 */

/* Name of a data type ("conn_rate"), whether it is a rate. */
const char *stk_dt_name(enum stk_dt dt);
bool stk_dt_is_rate(enum stk_dt dt);
/* The data type named name[0..len), or -1. */
int stk_dt_find(const char *name, size_t len);
const char *stk_type_name(enum stk_type t);

/* What a table is: compared on reload to decide whether it is kept. */
struct stk_def {
	enum stk_type type;
	unsigned klen;                  /* key bytes */
	unsigned size;                  /* most entries */
	unsigned expire;                /* ms; 0: never */
	bool nopurge;
	uint32_t store;                 /* 1 << enum stk_dt */
	unsigned period[STK_DT_COUNT];  /* ms, rates only */
};

struct stk_frq {
	uint64_t tick;                  /* start of the current period (ms) */
	uint64_t curr, prev;            /* events in the current / previous period */
};

struct stksess {
	struct stksess *hnext;          /* hash chain */
	struct stksess *lprev, *lnext;  /* idle list (not tracked), oldest first */
	uint64_t expire;                /* ms; 0: never (valid while idle) */
	unsigned ref;                   /* sessions tracking it */
	uint64_t cnt[STK_DT_COUNT];     /* counters (non-rate types) */
	struct stk_frq frq[STK_DT_COUNT];
	unsigned char key[];            /* klen bytes */
};

struct stktable {
	struct stk_def def;
	char *name;                     /* proxy holding it */
	pthread_spinlock_t lock;        /* everything below */
	unsigned refcnt;                /* generations using it (loop thread only) */
	struct stksess **hash;
	unsigned nbuckets;              /* power of 2 */
	uint32_t seed;                  /* hash seed: hostile keys cannot pick a chain */
	unsigned used;
	struct stksess *idle_head, *idle_tail;
};

/* A new empty table (refcnt 1) for def, named name. NULL: no memory. */
struct stktable *stktable_new(const char *name, const struct stk_def *def);
void stktable_get(struct stktable *t);
/* Drops a reference; the last one frees the table and its entries. */
void stktable_put(struct stktable *t);
bool stk_def_equal(const struct stk_def *a, const struct stk_def *b);

/* Monotonic milliseconds. */
uint64_t stk_now_ms(void);

/* Builds t's key from a sample (ip: IPv4 only; ipv6: IPv4 mapped;
 * integer: 32 bits; string: cut or zero-padded to len). Returns 0, or -1
 * when the sample does not fit the table's type. */
int stk_key_from_smp(const struct stktable *t, const struct sample *smp, unsigned char *key);
/* Builds a key from its text (CLI `key <k>`). Returns 0 or -1. */
int stk_key_from_text(const struct stktable *t, const char *s, unsigned char *key);
/* Writes a key as text (strings: printable bytes, others as \xHH). */
size_t stk_key_to_text(const struct stktable *t, const unsigned char *key, char *buf, size_t cap);

/* Starts tracking key: finds or creates the entry, counts one connection
 * (conn_cnt, conn_cur, conn_rate) and holds a reference. Returns the
 * entry, or NULL when it cannot be stored (full with nopurge, no memory). */
struct stksess *stk_track(struct stktable *t, const unsigned char *key, uint64_t now);
/* Ends a session's tracking: conn_cur - 1, bytes (bytes_in_* / bytes_out_*)
 * added, the reference dropped, the expiry restarted. */
void stk_untrack(struct stktable *t, struct stksess *e, uint64_t in, uint64_t out, uint64_t now);

/* Reads data type dt of a tracked entry (rates as of now). Returns 1 with
 * *v, or 0 when the table does not store dt. */
int stk_entry_get(struct stktable *t, struct stksess *e, enum stk_dt dt, uint64_t now, uint64_t *v);
/* Increments gpc0 (and gpc0_rate); *v = the new gpc0 (or the rate when
 * only that is stored). Returns 1, or 0 when neither is stored. */
int stk_entry_inc_gpc0(struct stktable *t, struct stksess *e, uint64_t now, uint64_t *v);
/* Sets gpc0 to 0; *v = its value before. Returns 1, or 0 when not stored. */
int stk_entry_clr_gpc0(struct stktable *t, struct stksess *e, uint64_t now, uint64_t *v);
/* Sets gpt0. Returns 1, or 0 when not stored. */
int stk_entry_set_gpt0(struct stktable *t, struct stksess *e, uint64_t val, uint64_t now);

/* By key, without tracking (src_* fetches): reads dt; an absent key reads
 * 0. Returns 1 with *v, or 0 when dt is not stored. */
int stk_key_get(struct stktable *t, const unsigned char *key, enum stk_dt dt, uint64_t now, uint64_t *v);
/* Finds or creates key and increments gpc0 (src_inc_gpc0), or clears it
 * (clr), as the entry functions. Returns 1 with *v, or 0 (not stored, or
 * the key cannot be stored). */
int stk_key_inc_gpc0(struct stktable *t, const unsigned char *key, bool clr, uint64_t now, uint64_t *v);

/* Entries in use, and free slots (size - used). */
unsigned stk_used(struct stktable *t, uint64_t now);

/* A filter on entries: `data.<type> <op> <value>` and/or `key <k>`. */
enum stk_op { STK_OP_NONE = 0, STK_OP_EQ, STK_OP_NE, STK_OP_LE, STK_OP_LT, STK_OP_GE, STK_OP_GT };
struct stk_filter {
	int dt;                         /* -1: none */
	enum stk_op op;
	uint64_t val;
	bool has_key;
	unsigned char key[STK_KEY_MAX];
};
/* Parses the CLI words after the table name. Returns 0, or -1 with *err
 * (a sentence for the operator). */
int stk_filter_parse(const struct stktable *t, int argc, char **argv, struct stk_filter *f, char **err);

/* Calls fn for each entry matching f (f may be NULL), under the table's
 * lock: fn must not call back into the table. */
typedef void (*stk_dump_fn)(void *arg, const struct stktable *t, const struct stksess *e, uint64_t now);
void stk_dump(struct stktable *t, const struct stk_filter *f, uint64_t now, stk_dump_fn fn, void *arg);
/* Reads dt of e as stk_entry_get, for a dump callback (lock held). */
uint64_t stk_entry_value_locked(const struct stktable *t, const struct stksess *e, enum stk_dt dt, uint64_t now);
/* Removes the entries matching f that no session tracks. Returns how
 * many were removed. */
unsigned stk_clear(struct stktable *t, const struct stk_filter *f, uint64_t now);

/* ---- configuration (stktable_kw.c) ---------------------------------------------------- */

/* A name a rule or fetch uses for a table (`table <t>`, or the proxy's
 * own), resolved when every section is read. Owned by the generation. */
struct stk_ref {
	struct stk_ref *next;
	char *name;                     /* NULL: the proxy's own table */
	struct proxy *px;
	char *file;
	int line;
	char *what;                     /* "track-sc0", "src_conn_rate" ... */
	struct stktable **tp;           /* the generation's slot of that table */
};

/* The table a reference names in its generation (NULL before finalize). */
static inline struct stktable *stk_ref_table(const struct stk_ref *r)
{
	return r && r->tp ? *r->tp : NULL;
}

/* Records a reference made at pc's line. Returns it, or NULL (no memory,
 * *err set). */
struct stk_ref *stk_ref_add(struct smp_pctx *pc, const char *name, const char *what, char **err);
/* px's own table in generation c (NULL: none). */
struct stktable *stk_px_table(const struct dp_config *c, const struct proxy *px);
/* The tables of generation c, in configuration order; *n gets the count. */
struct stktable *stk_conf_table(const struct dp_config *c, unsigned i);
struct stktable *stk_conf_find(const struct dp_config *c, const char *name);

extern const struct cfg_kw_list stktable_kw_list;
/* Registers the fetches (sc*_ / src_* / table_*). */
void stktable_init(void);
/* Resolves references and checks them. Returns the number of errors. */
int stktable_finalize(struct dp_config *c);
/* Reload: a table whose definition did not change keeps its entries. */
void stktable_carry(struct dp_config *newc, struct dp_config *oldc);

/* ---- a session's tracked entries (in its smp_store) -------------------------------- */

/* Tracks key (from the sample of expr) in t on counter slot sc, unless
 * the slot is already tracking. */
void stk_sess_track(struct smp_store *st, int sc, struct stktable *t, const struct sample *key, uint64_t now);
/* Ends the session's tracking on every slot: in/out are its bytes. */
void stk_sess_release(struct smp_store *st, uint64_t in, uint64_t out);

#endif
