/* acl.h — ACLs and conditions, as HAProxy's language has them:
 *   acl <name> <fetch>[,<conv>...] [-i] [-f <file>]... [-m <method>] [-n] [-M] [--] [<value>...]
 *   ... if|unless <acl> [!<acl>] ... [|| | or ...]   (implicit AND, ! negates)
 *   anonymous ACLs: { <fetch> [flags] [values] } in place of a name.
 * Several `acl` lines with one name are OR'ed. An ACL must be declared
 * before a condition uses it (later lines of the same name still extend
 * it). Predefined ACLs (TRUE FALSE WAIT_END REQ_CONTENT RDP_COOKIE HTTP
 * LOCALHOST) are made on first use.
 *
 * Results are three-valued like HAProxy's: a fetch that has no value yet
 * but may get one with more request bytes makes an ACL "missing" (MISS),
 * so that inspection waits; at the final pass MISS counts as a failure.
 */
#ifndef DECOYPROXY_ACL_H
#define DECOYPROXY_ACL_H

#include "lib/common.h"
#include "rules/sample.h"

struct pat_expr;
struct pat_refs;

enum { ACL_FAIL = 0, ACL_MISS = 1, ACL_PASS = 3 };

struct acl_expr {
	struct acl_expr *next;
	struct smp_expr *smp;
	int match;                      /* PAT_M_* */
	struct pat_expr *pat;           /* NULL for found / bool */
	char *file; int line;
};

struct acl {
	struct acl *next;
	char *name;
	struct acl_expr *exprs, *last;  /* OR'ed */
	bool predef;
	unsigned use;                   /* SMP_USE_* of its fetches */
};

/* The ACLs of one proxy. */
struct acl_list {
	struct acl *head;
};

struct acl_term {
	struct acl *acl;
	bool neg;
};

struct acl_suite {                      /* terms AND'ed */
	struct acl_term *t;
	size_t n;
};

struct acl_cond {
	bool unless;
	struct acl_suite *s;            /* suites OR'ed */
	size_t ns;
	struct acl *anon;               /* anonymous ACLs it owns */
	unsigned use;
	char *file; int line;
};

/* `acl <name> ...`: argv[0] is "acl". Returns 0 or -1 with *err. */
int acl_parse_line(struct acl_list *l, int argc, char **argv, struct smp_pctx *pc, char **err);
/* Parses a condition: argv[0] is "if" or "unless". Returns 0 with *out
 * (free with acl_cond_free) or -1 with *err (naming the nearest known ACL
 * for an unknown name). */
int acl_cond_parse(struct acl_list *l, int argc, char **argv, struct smp_pctx *pc, struct acl_cond **out,
		   char **err);
void acl_cond_free(struct acl_cond *c);
void acl_list_free(struct acl_list *l);
struct acl *acl_find(const struct acl_list *l, const char *name);

/* ACL_PASS / ACL_FAIL / ACL_MISS of one ACL or of a condition's terms
 * (without its if/unless). */
int acl_exec(const struct acl *a, const struct smp_sess *ss);
/* The verdict of a condition: 1 it applies, 0 it does not, -1 not known
 * yet (wait for more request bytes; never at the final pass). NULL: 1. */
int acl_cond_eval(const struct acl_cond *c, const struct smp_sess *ss);

/* Whether an ACL expression's text looks like a fetch the context cannot
 * provide: the SMP_USE_* bits of c that ctx (SMP_CTX_*) lacks. */
static inline unsigned acl_cond_unusable(const struct acl_cond *c, unsigned ctx)
{
	return c ? c->use & ~ctx : 0;
}

#endif
