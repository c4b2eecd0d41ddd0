/* pattern.h — HAProxy's match methods and pattern lists: what an ACL
 * compares a sample with, and the keys of maps.
 *
 * A pattern reference (struct pat_ref) is the list of entries as written:
 * one file (`-f`, a map), or the inline values of one `acl` line. It is
 * shared by every expression using the same file, and it is what the
 * stats socket changes (add/del/set/clear). A pattern expression (struct
 * pat_expr) is one match method over one or more references, with the
 * index that method needs: exact strings in a hash table, addresses in
 * one hash table per prefix length (longest prefix first), the other
 * methods in file order (first match wins, as HAProxy's lists).
 *
 * Built at load. Runtime changes (stats socket: pat_ref_add/del/set/clear)
 * happen on the main thread and take the reference's lock for writing;
 * matching from any thread goes through pat_match_found/pat_match_with,
 * which hold the read side of every reference of the expression while
 * matching and while the caller reads the entry (with one thread, no lock
 * is taken: the CLI runs between events).
 */
#ifndef DECOYPROXY_PATTERN_H
#define DECOYPROXY_PATTERN_H

#include <pthread.h>
#include <sys/socket.h>
#include "lib/common.h"
#include "rules/sample.h"

enum pat_match {
	PAT_M_NONE = 0,
	PAT_M_FOUND, PAT_M_BOOL, PAT_M_INT, PAT_M_IP, PAT_M_BIN, PAT_M_LEN,
	PAT_M_STR, PAT_M_SUB, PAT_M_REG, PAT_M_BEG, PAT_M_END, PAT_M_DIR, PAT_M_DOM,
	PAT_M_COUNT
};

/* "str" -> PAT_M_STR; -1 when unknown. */
int pat_match_by_name(const char *name);
const char *pat_match_name(int m);
/* The default method for a sample type (bool int ip bin str). */
int pat_match_for_type(enum smp_type t);
/* Type a sample must be cast to for method m (SMP_T_ANY: found). */
enum smp_type pat_match_input(int m);

/* ---- references ---- */

struct pat_elt {
	struct pat_elt *next;
	char *key;
	char *value;            /* maps: the rest of the line; NULL for ACLs */
	int line;               /* 0 when added at runtime */
};

struct pat_expr;

struct pat_ref {
	struct pat_ref *next;
	unsigned id;            /* #<id> on the stats socket */
	char *path;             /* file, or NULL for inline values */
	char *desc;             /* "acl 'src' file 'x.cfg' line 12", for show acl/map */
	bool is_map;
	struct pat_elt *head, *tail;
	size_t n;
	struct pat_expr **exprs;/* expressions indexing it */
	size_t nexprs;
	pthread_rwlock_t lock;  /* runtime changes: writers (CLI) exclusive,
	                         * matchers shared (pat_match_found/_with) */
};

struct pat_refs {               /* a generation's references */
	struct pat_ref *head;
	unsigned next_id;
};

/* The reference of file path (loaded once per generation: key = whole
 * trimmed line, or first word + value with is_map / map_keys). Returns
 * NULL with *err naming file:line. */
struct pat_ref *pat_ref_load(struct pat_refs *refs, const char *path, bool is_map, const char *desc, char **err);
/* A new reference for inline values. */
struct pat_ref *pat_ref_new(struct pat_refs *refs, const char *desc, bool is_map);
int pat_ref_append(struct pat_ref *r, const char *key, const char *value, int line);
/* Finds by path or "#<id>"; is_map: maps only, else ACL references only
 * (a file used both ways is both). */
struct pat_ref *pat_ref_find(struct pat_refs *refs, const char *name, bool is_map);
void pat_refs_free(struct pat_refs *refs);

/* Runtime changes (the stats socket): each keeps every expression's index
 * in step. Return 0 or -1 with *err. */
int pat_ref_add(struct pat_ref *r, const char *key, const char *value, char **err);
/* Removes every entry whose key is `key`; returns how many. */
int pat_ref_del(struct pat_ref *r, const char *key);
/* Sets the value of every entry whose key is `key`; returns how many (-1
 * with *err on a value the maps cannot use). */
int pat_ref_set(struct pat_ref *r, const char *key, const char *value, char **err);
void pat_ref_clear(struct pat_ref *r);

/* ---- expressions ---- */

struct pat_entry;

struct pat_expr {
	int match;              /* PAT_M_* */
	bool icase;             /* -i */
	enum smp_type out;      /* maps: value type (STR, SINT, ADDR); 0: ACL */
	struct pat_ref **refs;
	size_t nrefs;
	/* index */
	struct pat_entry **list;/* linear methods, in order */
	size_t nlist, caplist;
	struct pat_entry **hash;/* STR and IP */
	size_t hmask, hcount;
	uint64_t plen4;         /* IPv4 prefix lengths present (bit n: /n, 0..32) */
	uint64_t plen6[3];      /* IPv6 prefix lengths present (0..128) */
	struct pat_entry *all;  /* every entry (for freeing) */
};

struct pat_expr *pat_expr_new(int match, bool icase, enum smp_type map_out);
/* Attaches r (indexing its entries). Returns 0 or -1 with *err naming
 * the bad pattern (and its line). */
int pat_expr_attach(struct pat_expr *e, struct pat_ref *r, char **err);
void pat_expr_free(struct pat_expr *e);
/* Checks a pattern for method m (ACL values given on a line): 0 or -1
 * with *err. */
int pat_check(int m, bool icase, const char *key, char **err);

/* Matches smp (already cast for the method) against e. Returns the entry
 * matched (its element gives a map's value) or NULL. No lock: for callers
 * that hold e's references (loading, tests); the data path uses the two
 * below. */
const struct pat_elt *pat_match(const struct pat_expr *e, const struct sample *smp);
/* pat_match under the read locks: whether an entry matches. */
bool pat_match_found(const struct pat_expr *e, const struct sample *smp);
/* pat_match under the read locks, then fn(entry or NULL, shared, arg)
 * before they are released: the entry and its value are valid inside fn
 * only; shared is true when other threads run (a value kept beyond fn
 * must be copied). Returns fn's result. */
int pat_match_with(const struct pat_expr *e, const struct sample *smp,
		   int (*fn)(const struct pat_elt *m, bool shared, void *arg), void *arg);

/* ---- a generation's references and the map converters (pattern_map.c) ---- */

struct dp_config;
/* c's references (created when create and missing); NULL: none / no c. */
struct pat_refs *pat_refs_of(struct dp_config *c, bool create);
/* Registers the map converters (idempotent). */
void pat_init(void);

#endif
