/* tproxy.h — TPROXY plumbing: `intercept` decoy addresses on frontends with
 * a transparent bind, the nftables table that sends them to the listener,
 * and the fwmark rules / local routing table that deliver them. */
#ifndef DECOYPROXY_TPROXY_H
#define DECOYPROXY_TPROXY_H

#include "decoyproxy/cfg.h"
#include "decoyproxy/global.h"

struct tproxy_gconf;
struct tproxy_fe;

extern const struct cfg_kw_list tproxy_kw_list;

void tproxy_gconf_free(struct tproxy_gconf *g);
void tproxy_fe_free(struct tproxy_fe *f);

/* Validation once every file is read; prints alerts, returns error count. */
int tproxy_finalize(struct dp_config *c);

/* Installs (or, with oldc, reconciles) nft tables and routing in every
 * namespace that needs them, each namespace in one atomic batch. Returns 0 or
 * -errno with *err naming what the kernel refused; the previous state stays. */
int tproxy_apply(struct dp_config *c, struct dp_config *oldc, char **err);

/* A reload failed after tproxy_apply(newc, oldc) succeeded: put back the
 * state of oldc (or remove newc's when oldc is NULL). */
void tproxy_undo(struct dp_config *newc, struct dp_config *oldc);

/* After a successful reload: remove what oldc installed that newc does not
 * use any more (e.g. a namespace that no longer has a transparent bind). */
void tproxy_remove_stale(struct dp_config *oldc, struct dp_config *newc);

/* Removes exactly what c installed (process stop). */
void tproxy_remove(struct dp_config *c);

#endif
