/* pattern.c — match methods, pattern references and their indexes,
 * PCRE2 regexes with bounded matching (see pattern.h). */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/pattern.h"
#include "rules/regex.h"
#include "lib/thread.h"

/* ---- match methods ---------------------------------------------------------- */

static const char *const match_names[PAT_M_COUNT] = {
	[PAT_M_FOUND] = "found", [PAT_M_BOOL] = "bool", [PAT_M_INT] = "int", [PAT_M_IP] = "ip",
	[PAT_M_BIN] = "bin", [PAT_M_LEN] = "len", [PAT_M_STR] = "str", [PAT_M_SUB] = "sub",
	[PAT_M_REG] = "reg", [PAT_M_BEG] = "beg", [PAT_M_END] = "end", [PAT_M_DIR] = "dir",
	[PAT_M_DOM] = "dom",
};

int pat_match_by_name(const char *name)
{
	for (int i = 1; i < PAT_M_COUNT; i++)
		if (!strcmp(match_names[i], name))
			return i;
	return -1;
}

const char *pat_match_name(int m)
{
	return m > 0 && m < PAT_M_COUNT ? match_names[m] : "none";
}

int pat_match_for_type(enum smp_type t)
{
	switch (t) {
	case SMP_T_BOOL: return PAT_M_BOOL;
	case SMP_T_SINT: return PAT_M_INT;
	case SMP_T_ADDR: return PAT_M_IP;
	case SMP_T_BIN: return PAT_M_BIN;
	default: return PAT_M_STR;
	}
}

enum smp_type pat_match_input(int m)
{
	switch (m) {
	case PAT_M_FOUND: return SMP_T_ANY;
	case PAT_M_BOOL: return SMP_T_BOOL;
	case PAT_M_INT: return SMP_T_SINT;
	case PAT_M_IP: return SMP_T_ADDR;
	case PAT_M_BIN: return SMP_T_BIN;
	default: return SMP_T_STR;
	}
}

/* ---- references --------------------------------------------------------------- */

static void expr_clear(struct pat_expr *e);

static void elt_free(struct pat_elt *e)
{
	free(e->key);
	free(e->value);
	free(e);
}

struct pat_ref *pat_ref_new(struct pat_refs *refs, const char *desc, bool is_map)
{
	struct pat_ref *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->desc = strdup(desc ? desc : "");
	if (!r->desc) {
		free(r);
		return NULL;
	}
	if (pthread_rwlock_init(&r->lock, NULL)) {
		free(r->desc);
		free(r);
		return NULL;
	}
	r->is_map = is_map;
	r->id = refs->next_id++;
	r->next = NULL;
	/* keep creation order: `show acl` lists by id */
	{
		struct pat_ref **pp = &refs->head;

		while (*pp)
			pp = &(*pp)->next;
		*pp = r;
	}
	return r;
}

int pat_ref_append(struct pat_ref *r, const char *key, const char *value, int line)
{
	struct pat_elt *e = calloc(1, sizeof(*e));

	if (!e || !(e->key = strdup(key)) || (value && !(e->value = strdup(value)))) {
		if (e)
			elt_free(e);
		return -ENOMEM;
	}
	e->line = line;
	if (r->tail)
		r->tail->next = e;
	else
		r->head = e;
	r->tail = e;
	r->n++;
	return 0;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

struct pat_ref *pat_ref_load(struct pat_refs *refs, const char *path, bool is_map, const char *desc, char **err)
{
	struct pat_ref *r;
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int lineno = 0;
	unsigned int mode;

	for (r = refs->head; r; r = r->next)
		if (r->path && r->is_map == is_map && !strcmp(r->path, path))
			return r;
	f = fopen_regular(path, false, &mode);
	if (!f) {
		if (mode)
			memprintf(err, "pattern file '%s' is %s, not a regular file", path, file_kind(mode));
		else
			memprintf(err, "failed to open pattern file '%s': %s", path, strerror(errno));
		return NULL;
	}
	r = pat_ref_new(refs, desc, is_map);
	if (!r || !(r->path = strdup(path))) {
		memprintf(err, "out of memory");
		fclose(f);
		return NULL;
	}
	while ((n = getline(&line, &cap, f)) >= 0) {
		char *k, *v = NULL;

		lineno++;
		if (memchr(line, '\0', (size_t)n)) {
			memprintf(err, "'%s' line %d: NUL byte in pattern file", path, lineno);
			goto fail;
		}
		k = trim(line);
		if (!*k || *k == '#')
			continue;
		if (is_map) {
			char *sp = k + strcspn(k, " \t");

			if (*sp) {
				*sp++ = '\0';
				v = trim(sp);
			} else {
				v = sp; /* no value: an empty one */
			}
		}
		if (pat_ref_append(r, k, v, lineno) < 0) {
			memprintf(err, "out of memory");
			goto fail;
		}
	}
	free(line);
	fclose(f);
	return r;
fail:
	free(line);
	fclose(f);
	/* r stays in refs (freed with them), emptied */
	pat_ref_clear(r);
	return NULL;
}

struct pat_ref *pat_ref_find(struct pat_refs *refs, const char *name, bool is_map)
{
	if (!refs)
		return NULL;
	if (name[0] == '#' && name[1]) {
		char *end;
		unsigned long id = strtoul(name + 1, &end, 10);

		if (*end)
			return NULL;
		for (struct pat_ref *r = refs->head; r; r = r->next)
			if (r->id == id && r->is_map == is_map)
				return r;
		return NULL;
	}
	for (struct pat_ref *r = refs->head; r; r = r->next)
		if (r->path && r->is_map == is_map && !strcmp(r->path, name))
			return r;
	return NULL;
}

void pat_refs_free(struct pat_refs *refs)
{
	struct pat_ref *r, *n;

	for (r = refs->head; r; r = n) {
		n = r->next;
		/* expressions may outlive their references (log formats are
		 * freed with the proxies, after the generation's extensions):
		 * they forget r, and keep no entry pointing at its elements */
		for (size_t i = 0; i < r->nexprs; i++) {
			struct pat_expr *e = r->exprs[i];

			for (size_t j = 0; j < e->nrefs; j++)
				if (e->refs[j] == r) {
					e->refs[j] = e->refs[--e->nrefs];
					break;
				}
			expr_clear(e);
		}
		r->nexprs = 0;
		pat_ref_clear(r);
		pthread_rwlock_destroy(&r->lock);
		free(r->exprs);
		free(r->path);
		free(r->desc);
		free(r);
	}
	refs->head = NULL;
}

/* ---- entries and indexes ------------------------------------------------------ */

struct pat_entry {
	struct pat_entry *hnext;        /* hash chain */
	struct pat_entry *anext;        /* every entry of the expression */
	const struct pat_elt *elt;
	long long lo, hi;               /* INT, LEN: inclusive range */
	int fam, plen;                  /* IP */
	unsigned char ip[16];
	unsigned char *bin;             /* BIN */
	size_t binlen;
	struct rx *rx;                  /* REG */
	size_t slen;                    /* strlen(elt->key) */
	uint32_t h;
};

static uint32_t hash_bytes(const void *p, size_t n, uint32_t seed, bool lower)
{
	const unsigned char *b = p;
	uint32_t h = 2166136261u ^ seed;

	for (size_t i = 0; i < n; i++) {
		h ^= lower ? (unsigned char)tolower(b[i]) : b[i];
		h *= 16777619u;
	}
	return h;
}

static int parse_range(const char *s, long long *lo, long long *hi)
{
	const char *colon = strchr(s, ':');
	char *end;

	errno = 0;
	if (!*s)
		return -1;
	if (!colon) {
		*lo = *hi = strtoll(s, &end, 10);
		return (*end || errno || end == s) ? -1 : 0;
	}
	if (colon == s) {
		*lo = LLONG_MIN;
	} else {
		*lo = strtoll(s, &end, 10);
		if (end != colon || errno)
			return -1;
	}
	if (!colon[1]) {
		*hi = LLONG_MAX;
	} else {
		*hi = strtoll(colon + 1, &end, 10);
		if (*end || errno)
			return -1;
	}
	return *lo <= *hi ? 0 : -1;
}

/* "a.b.c.d[/n|/mask]" or "v6[/n]" */
static int parse_net(const char *s, int *fam, unsigned char *ip, int *plen)
{
	char buf[INET6_ADDRSTRLEN + 8];
	char *slash;
	size_t n = strlen(s);

	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n + 1);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	memset(ip, 0, 16);
	if (inet_pton(AF_INET, buf, ip) == 1) {
		*fam = AF_INET;
		*plen = 32;
		if (slash) {
			unsigned char m[4];
			char *end;
			long v;

			if (strchr(slash, '.')) {
				uint32_t mm;

				if (inet_pton(AF_INET, slash, m) != 1)
					return -1;
				mm = ntohl(*(uint32_t *)(void *)m);
				/* contiguous masks only */
				if (mm && (~mm & (~mm + 1)))
					return -1;
				*plen = mm ? 32 - __builtin_ctz(mm) : 0;
				if (mm == 0xffffffffu)
					*plen = 32;
			} else {
				v = strtol(slash, &end, 10);
				if (!*slash || *end || v < 0 || v > 32)
					return -1;
				*plen = (int)v;
			}
		}
	} else if (inet_pton(AF_INET6, buf, ip) == 1) {
		*fam = AF_INET6;
		*plen = 128;
		if (slash) {
			char *end;
			long v = strtol(slash, &end, 10);

			if (!*slash || *end || v < 0 || v > 128)
				return -1;
			*plen = (int)v;
		}
	} else {
		return -1;
	}
	/* keep only the network part */
	{
		int len = *fam == AF_INET ? 4 : 16;

		for (int i = 0; i < len; i++) {
			int bits = *plen - i * 8;

			if (bits <= 0)
				ip[i] = 0;
			else if (bits < 8)
				ip[i] &= (unsigned char)(0xff << (8 - bits));
		}
	}
	return 0;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static void entry_free(struct pat_entry *p)
{
	free(p->bin);
	rx_free(p->rx);
	free(p);
}

/* Builds the entry of key for method m, or -1 with *err. */
static int entry_make(int m, bool icase, const char *key, struct pat_entry **out, char **err)
{
	struct pat_entry *p = calloc(1, sizeof(*p));

	*out = NULL;
	if (!p) {
		memprintf(err, "out of memory");
		return -1;
	}
	p->slen = strlen(key);
	switch (m) {
	case PAT_M_FOUND:
		break;
	case PAT_M_BOOL:
		memprintf(err, "match method 'bool' takes no pattern ('%s')", key);
		goto fail;
	case PAT_M_INT:
	case PAT_M_LEN:
		if (parse_range(key, &p->lo, &p->hi) < 0) {
			memprintf(err, "'%s' is not a number or a range (<min>:<max>)", key);
			goto fail;
		}
		break;
	case PAT_M_IP:
		if (parse_net(key, &p->fam, p->ip, &p->plen) < 0) {
			memprintf(err, "'%s' is not an IPv4 or IPv6 address or network (host names are not resolved in patterns)",
				  key);
			goto fail;
		}
		break;
	case PAT_M_BIN:
		if (p->slen % 2) {
			memprintf(err, "'%s' is not an even number of hexadecimal digits", key);
			goto fail;
		}
		p->binlen = p->slen / 2;
		p->bin = malloc(p->binlen + 1);
		if (!p->bin) {
			memprintf(err, "out of memory");
			goto fail;
		}
		for (size_t i = 0; i < p->binlen; i++) {
			int h = hexval(key[2 * i]), l = hexval(key[2 * i + 1]);

			if (h < 0 || l < 0) {
				memprintf(err, "'%s' is not an even number of hexadecimal digits", key);
				goto fail;
			}
			p->bin[i] = (unsigned char)(h << 4 | l);
		}
		break;
	case PAT_M_REG:
		p->rx = rx_compile(key, icase, err);
		if (!p->rx)
			goto fail;
		break;
	default:
		break;
	}
	*out = p;
	return 0;
fail:
	entry_free(p);
	return -1;
}

int pat_check(int m, bool icase, const char *key, char **err)
{
	struct pat_entry *p;

	if (entry_make(m, icase, key, &p, err) < 0)
		return -1;
	entry_free(p);
	return 0;
}

struct pat_expr *pat_expr_new(int match, bool icase, enum smp_type map_out)
{
	struct pat_expr *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->match = match;
	e->icase = icase;
	e->out = map_out;
	return e;
}

static bool uses_hash(int m)
{
	return m == PAT_M_STR || m == PAT_M_IP;
}

static uint32_t entry_hash(const struct pat_expr *e, const struct pat_entry *p)
{
	if (e->match == PAT_M_IP)
		return hash_bytes(p->ip, p->fam == AF_INET ? 4 : 16, (uint32_t)(p->plen | p->fam << 8), false);
	return hash_bytes(p->elt->key, p->slen, 0, e->icase);
}

static int hash_grow(struct pat_expr *e)
{
	size_t n = e->hash ? (e->hmask + 1) * 2 : 64;
	struct pat_entry **h = calloc(n, sizeof(*h));

	if (!h)
		return -1;
	/* re-insert in the order of the `all` list so chains keep file order */
	for (struct pat_entry *p = e->all; p; p = p->anext) {
		struct pat_entry **pp = &h[p->h & (n - 1)];

		p->hnext = NULL;
		while (*pp)
			pp = &(*pp)->hnext;
		*pp = p;
	}
	free(e->hash);
	e->hash = h;
	e->hmask = n - 1;
	return 0;
}

/* Adds the entry of elt to e's index (appended: file order). */
static int expr_index(struct pat_expr *e, const struct pat_elt *elt, struct pat_entry **tailp, char **err)
{
	struct pat_entry *p;

	if (entry_make(e->match, e->icase, elt->key, &p, err) < 0) {
		if (elt->line)
			memprintf(err, "line %d: %s", elt->line, *err);
		return -1;
	}
	p->elt = elt;
	if (e->out && e->out != SMP_T_STR) {
		/* map values are checked once, at load */
		const char *v = elt->value ? elt->value : "";

		if (e->out == SMP_T_SINT) {
			char *end;

			errno = 0;
			(void)strtoll(v, &end, 10);
			if (!*v || *end || errno) {
				memprintf(err, "'%s' is not an integer value", v);
				if (elt->line)
					memprintf(err, "line %d: '%s' is not an integer value", elt->line, v);
				entry_free(p);
				return -1;
			}
		} else if (e->out == SMP_T_ADDR) {
			unsigned char b[16];

			if (inet_pton(AF_INET, v, b) != 1 && inet_pton(AF_INET6, v, b) != 1) {
				memprintf(err, "'%s' is not an IP address value", v);
				if (elt->line)
					memprintf(err, "line %d: '%s' is not an IP address value", elt->line, v);
				entry_free(p);
				return -1;
			}
		}
	}
	/* the `all` list keeps insertion order */
	if (tailp && *tailp) {
		(*tailp)->anext = p;
	} else {
		struct pat_entry **pp = &e->all;

		while (*pp)
			pp = &(*pp)->anext;
		*pp = p;
	}
	if (tailp)
		*tailp = p;
	if (uses_hash(e->match)) {
		struct pat_entry **pp;

		p->h = entry_hash(e, p);
		if ((e->hcount + 1) > (e->hash ? e->hmask + 1 : 0) && hash_grow(e) < 0)
			goto nomem;
		if (e->hash) {
			/* hash_grow may already have placed p (it walks `all`) */
			for (pp = &e->hash[p->h & e->hmask]; *pp && *pp != p; pp = &(*pp)->hnext)
				;
			if (!*pp)
				*pp = p;
		}
		e->hcount++;
		if (e->match == PAT_M_IP) {
			if (p->fam == AF_INET)
				e->plen4 |= 1ull << p->plen;
			else
				e->plen6[p->plen / 64] |= 1ull << (p->plen % 64);
		}
	} else {
		if (e->nlist == e->caplist) {
			size_t n = e->caplist ? e->caplist * 2 : 16;
			struct pat_entry **l = realloc(e->list, n * sizeof(*l));

			if (!l)
				goto nomem;
			e->list = l;
			e->caplist = n;
		}
		e->list[e->nlist++] = p;
	}
	return 0;
nomem:
	memprintf(err, "out of memory");
	return -1;
}

static void expr_clear(struct pat_expr *e)
{
	struct pat_entry *p, *n;

	for (p = e->all; p; p = n) {
		n = p->anext;
		entry_free(p);
	}
	e->all = NULL;
	free(e->list);
	e->list = NULL;
	e->nlist = e->caplist = 0;
	free(e->hash);
	e->hash = NULL;
	e->hmask = e->hcount = 0;
	e->plen4 = 0;
	memset(e->plen6, 0, sizeof(e->plen6));
}

/* Rebuilds e's index from its references (after a delete or a change). */
static int expr_rebuild(struct pat_expr *e, char **err)
{
	struct pat_entry *tail = NULL;

	expr_clear(e);
	for (size_t i = 0; i < e->nrefs; i++)
		for (struct pat_elt *el = e->refs[i]->head; el; el = el->next)
			if (expr_index(e, el, &tail, err) < 0)
				return -1;
	return 0;
}

int pat_expr_attach(struct pat_expr *e, struct pat_ref *r, char **err)
{
	struct pat_ref **rv = realloc(e->refs, (e->nrefs + 1) * sizeof(*rv));
	struct pat_expr **ev;
	struct pat_entry *tail = e->all;

	if (!rv)
		goto nomem;
	e->refs = rv;
	ev = realloc(r->exprs, (r->nexprs + 1) * sizeof(*ev));
	if (!ev)
		goto nomem;
	r->exprs = ev;
	e->refs[e->nrefs++] = r;
	r->exprs[r->nexprs++] = e;
	while (tail && tail->anext)
		tail = tail->anext;
	for (struct pat_elt *el = r->head; el; el = el->next)
		if (expr_index(e, el, &tail, err) < 0)
			return -1;
	return 0;
nomem:
	memprintf(err, "out of memory");
	return -1;
}

void pat_expr_free(struct pat_expr *e)
{
	if (!e)
		return;
	/* detach from the references (they may outlive e) */
	for (size_t i = 0; i < e->nrefs; i++) {
		struct pat_ref *r = e->refs[i];

		for (size_t j = 0; j < r->nexprs; j++)
			if (r->exprs[j] == e) {
				r->exprs[j] = r->exprs[--r->nexprs];
				break;
			}
	}
	expr_clear(e);
	free(e->refs);
	free(e);
}

/* ---- runtime changes ---------------------------------------------------------- */

/* ---- the writers' lock: the stats socket changes a reference while
 * worker threads match against it (pat_match_found/pat_match_with take
 * the read side); one thread needs no lock (the CLI runs between events) */

static void ref_wrlock(struct pat_ref *r)
{
	pthread_rwlock_wrlock(&r->lock);
}

static void ref_unlock(struct pat_ref *r)
{
	pthread_rwlock_unlock(&r->lock);
}

static int ref_add(struct pat_ref *r, const char *key, const char *value, char **err);
static int ref_del(struct pat_ref *r, const char *key);
static int ref_set(struct pat_ref *r, const char *key, const char *value, char **err);
static void ref_clear(struct pat_ref *r);

int pat_ref_add(struct pat_ref *r, const char *key, const char *value, char **err)
{
	int rc;

	ref_wrlock(r);
	rc = ref_add(r, key, value, err);
	ref_unlock(r);
	return rc;
}

int pat_ref_del(struct pat_ref *r, const char *key)
{
	int rc;

	ref_wrlock(r);
	rc = ref_del(r, key);
	ref_unlock(r);
	return rc;
}

int pat_ref_set(struct pat_ref *r, const char *key, const char *value, char **err)
{
	int rc;

	ref_wrlock(r);
	rc = ref_set(r, key, value, err);
	ref_unlock(r);
	return rc;
}

void pat_ref_clear(struct pat_ref *r)
{
	ref_wrlock(r);
	ref_clear(r);
	ref_unlock(r);
}

static int ref_add(struct pat_ref *r, const char *key, const char *value, char **err)
{
	/* check against every expression before changing anything */
	for (size_t i = 0; i < r->nexprs; i++) {
		struct pat_expr probe = { .match = r->exprs[i]->match, .icase = r->exprs[i]->icase,
					  .out = r->exprs[i]->out };
		struct pat_elt tmp = { .key = (char *)key, .value = (char *)value };
		int rc = expr_index(&probe, &tmp, NULL, err);

		expr_clear(&probe);
		if (rc < 0)
			return -1;
	}
	if (pat_ref_append(r, key, value, 0) < 0) {
		memprintf(err, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < r->nexprs; i++) {
		struct pat_entry *tail = r->exprs[i]->all;

		while (tail && tail->anext)
			tail = tail->anext;
		if (expr_index(r->exprs[i], r->tail, &tail, err) < 0)
			return -1;
	}
	return 0;
}

static void rebuild_all(struct pat_ref *r)
{
	for (size_t i = 0; i < r->nexprs; i++) {
		char *err = NULL;

		/* entries were all valid when added: only memory can fail */
		expr_rebuild(r->exprs[i], &err);
		free(err);
	}
}

static int ref_del(struct pat_ref *r, const char *key)
{
	struct pat_elt **pp = &r->head, *prev = NULL;
	int n = 0;

	while (*pp) {
		struct pat_elt *e = *pp;

		if (!strcmp(e->key, key)) {
			*pp = e->next;
			elt_free(e);
			r->n--;
			n++;
			continue;
		}
		prev = e;
		pp = &e->next;
	}
	r->tail = prev;
	if (n)
		rebuild_all(r);
	return n;
}

static int ref_set(struct pat_ref *r, const char *key, const char *value, char **err)
{
	int n = 0;

	for (size_t i = 0; i < r->nexprs; i++) {
		struct pat_expr probe = { .match = r->exprs[i]->match, .icase = r->exprs[i]->icase,
					  .out = r->exprs[i]->out };
		struct pat_elt tmp = { .key = (char *)key, .value = (char *)value };
		int rc = expr_index(&probe, &tmp, NULL, err);

		expr_clear(&probe);
		if (rc < 0)
			return -1;
	}
	for (struct pat_elt *e = r->head; e; e = e->next) {
		if (strcmp(e->key, key))
			continue;
		char *v = strdup(value);

		if (!v) {
			memprintf(err, "out of memory");
			return -1;
		}
		free(e->value);
		e->value = v;
		n++;
	}
	/* entries point at their element: values are read at match time */
	return n;
}

static void ref_clear(struct pat_ref *r)
{
	struct pat_elt *e, *n;

	for (e = r->head; e; e = n) {
		n = e->next;
		elt_free(e);
	}
	r->head = r->tail = NULL;
	r->n = 0;
	rebuild_all(r);
}

/* ---- matching ----------------------------------------------------------------- */

static bool mem_eq(const char *a, const char *b, size_t n, bool icase)
{
	return icase ? strncasecmp(a, b, n) == 0 : memcmp(a, b, n) == 0;
}

static const struct pat_entry *ip_lookup(const struct pat_expr *e, int fam, const unsigned char *addr)
{
	int len = fam == AF_INET ? 4 : 16, maxp = fam == AF_INET ? 32 : 128;

	if (!e->hash)
		return NULL;
	for (int pl = maxp; pl >= 0; pl--) {
		unsigned char k[16];
		uint32_t h;

		if (fam == AF_INET ? !(e->plen4 & (1ull << pl)) : !(e->plen6[pl / 64] & (1ull << (pl % 64))))
			continue;
		memcpy(k, addr, len);
		for (int i = 0; i < len; i++) {
			int bits = pl - i * 8;

			if (bits <= 0)
				k[i] = 0;
			else if (bits < 8)
				k[i] &= (unsigned char)(0xff << (8 - bits));
		}
		h = hash_bytes(k, len, (uint32_t)(pl | fam << 8), false);
		for (const struct pat_entry *p = e->hash[h & e->hmask]; p; p = p->hnext)
			if (p->h == h && p->fam == fam && p->plen == pl && !memcmp(p->ip, k, len))
				return p;
	}
	return NULL;
}

static bool delim_match(const char *s, size_t len, const char *pat, size_t plen, bool icase, const char *delims)
{
	/* pat must be found in s as a whole delimited token sequence */
	const char *p = s, *end = s + len;

	while (plen && strchr(delims, *pat)) { /* ignore delimiters around the pattern */
		pat++;
		plen--;
	}
	while (plen && strchr(delims, pat[plen - 1]))
		plen--;
	if (!plen)
		return false;
	for (; p + plen <= end; p++) {
		if ((p == s || strchr(delims, p[-1])) && mem_eq(p, pat, plen, icase) &&
		    (p + plen == end || strchr(delims, p[plen])))
			return true;
	}
	return false;
}

const struct pat_elt *pat_match(const struct pat_expr *e, const struct sample *smp)
{
	switch (e->match) {
	case PAT_M_IP: {
		const struct pat_entry *p = NULL;

		if (smp->type != SMP_T_ADDR)
			return NULL;
		if (smp->u.addr.ss_family == AF_INET) {
			const struct sockaddr_in *a = (const struct sockaddr_in *)&smp->u.addr;
			unsigned char m[16] = { [10] = 0xff, [11] = 0xff };

			p = ip_lookup(e, AF_INET, (const unsigned char *)&a->sin_addr);
			if (!p) {
				memcpy(m + 12, &a->sin_addr, 4);
				p = ip_lookup(e, AF_INET6, m);
			}
		} else if (smp->u.addr.ss_family == AF_INET6) {
			const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&smp->u.addr;

			p = ip_lookup(e, AF_INET6, a->sin6_addr.s6_addr);
			if (!p && IN6_IS_ADDR_V4MAPPED(&a->sin6_addr))
				p = ip_lookup(e, AF_INET, a->sin6_addr.s6_addr + 12);
		}
		return p ? p->elt : NULL;
	}
	case PAT_M_STR: {
		uint32_t h;

		if (!e->hash)
			return NULL;
		h = hash_bytes(smp->u.str.ptr, smp->u.str.len, 0, e->icase);
		for (const struct pat_entry *p = e->hash[h & e->hmask]; p; p = p->hnext)
			if (p->h == h && p->slen == smp->u.str.len && mem_eq(p->elt->key, smp->u.str.ptr, p->slen, e->icase))
				return p->elt;
		return NULL;
	}
	default:
		break;
	}
	for (size_t i = 0; i < e->nlist; i++) {
		const struct pat_entry *p = e->list[i];
		const char *s = smp->u.str.ptr, *k = p->elt->key;
		size_t l = smp->u.str.len, kl = p->slen;

		switch (e->match) {
		case PAT_M_INT:
			if (smp->u.sint >= p->lo && smp->u.sint <= p->hi)
				return p->elt;
			break;
		case PAT_M_LEN:
			if ((long long)l >= p->lo && (long long)l <= p->hi)
				return p->elt;
			break;
		case PAT_M_BIN:
			if (l == p->binlen && !memcmp(s, p->bin, l))
				return p->elt;
			break;
		case PAT_M_SUB:
			if (kl <= l) {
				for (size_t o = 0; o + kl <= l; o++)
					if (mem_eq(s + o, k, kl, e->icase))
						return p->elt;
			}
			break;
		case PAT_M_BEG:
			if (kl <= l && mem_eq(s, k, kl, e->icase))
				return p->elt;
			break;
		case PAT_M_END:
			if (kl <= l && mem_eq(s + l - kl, k, kl, e->icase))
				return p->elt;
			break;
		case PAT_M_DIR:
			if (delim_match(s, l, k, kl, e->icase, "/?"))
				return p->elt;
			break;
		case PAT_M_DOM:
			if (delim_match(s, l, k, kl, e->icase, "/?.:"))
				return p->elt;
			break;
		case PAT_M_REG:
			if (rx_exec(p->rx, s, l, NULL, 0))
				return p->elt;
			break;
		default:
			break;
		}
	}
	return NULL;
}

/* ---- matching under the references' read locks ---- */

/* Several references (an ACL with several files): always locked in e's
 * order; a writer holds one lock at a time, so no cycle can form. */
static bool match_lock(const struct pat_expr *e)
{
	if (__atomic_load_n(&dp_nbthread, __ATOMIC_RELAXED) <= 1)
		return false;
	for (size_t i = 0; i < e->nrefs; i++)
		pthread_rwlock_rdlock(&e->refs[i]->lock);
	return true;
}

static void match_unlock(const struct pat_expr *e)
{
	for (size_t i = e->nrefs; i-- > 0;)
		pthread_rwlock_unlock(&e->refs[i]->lock);
}

bool pat_match_found(const struct pat_expr *e, const struct sample *smp)
{
	bool locked = match_lock(e);
	bool found = pat_match(e, smp) != NULL;

	if (locked)
		match_unlock(e);
	return found;
}

int pat_match_with(const struct pat_expr *e, const struct sample *smp,
		   int (*fn)(const struct pat_elt *m, bool shared, void *arg), void *arg)
{
	bool locked = match_lock(e);
	int rc = fn(pat_match(e, smp), locked, arg);

	if (locked)
		match_unlock(e);
	return rc;
}
