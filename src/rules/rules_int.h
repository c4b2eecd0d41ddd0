/* rules_int.h — private to the rules module's parts: rules.c (evaluation,
 * generation state, finalize), rules_kw.c (keywords), rules_log.c
 * (log-format %[...] hook). */
#ifndef DECOYPROXY_RULES_INT_H
#define DECOYPROXY_RULES_INT_H

#include "rules/rules.h"

struct dp_config;
struct proxy;

/* px's rules in generation c, created on first use (NULL: no memory). */
struct px_rules *px_rules_get(struct dp_config *c, struct proxy *px);
void px_rules_free(struct px_rules *r);
void rules_fmt_free(struct rules_fmt *f);
/* Compiles "text%[expr]text" (only %[...] and %% are special). Returns
 * 0 with *out or -1 with *err. */
int rules_fmt_parse(const char *s, struct smp_pctx *pc, struct rules_fmt **out, char **err);
/* Registers the log-format %[...] hook (rules_log.c). */
void rules_log_init(void);

#endif
