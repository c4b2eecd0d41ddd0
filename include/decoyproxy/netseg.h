/* netseg.h — network segments: `network <name>` sections (a namespace per
 * segment, its uplink, addresses, gateway, sysctls), HAProxy's
 * `namespace_list`, and sockets created inside a named namespace. */
#ifndef DECOYPROXY_NETSEG_H
#define DECOYPROXY_NETSEG_H

#include "decoyproxy/cfg.h"
#include "decoyproxy/global.h"

struct netseg;

extern const struct cfg_kw_list netseg_kw_list;
extern const struct cfg_section netseg_section;
extern const struct cfg_section nslist_section;

void netseg_free_all(struct netseg *list);

/* Checks the sections once every file is read (names, conflicts) without
 * touching the system. Prints alerts; returns the number of errors. */
int netseg_finalize(struct dp_config *c);

/* Makes the system match c's sections: creates what is missing, keeps what
 * exists as configured, reports conflicts naming the object, and removes what
 * oldc created that c no longer has (oldc may be NULL). On failure nothing
 * half-built is left and *err says why. Returns 0 or -errno. */
int netseg_apply(struct dp_config *c, struct dp_config *oldc, char **err);

/* A reload failed after netseg_apply(newc, oldc) succeeded: remove what
 * newc created that oldc does not have, restoring oldc's state. */
void netseg_undo(struct dp_config *newc, struct dp_config *oldc);

/* Removes what c created, except sections marked `persist`. */
void netseg_remove(struct dp_config *c);

/* A socket created inside namespace `ns` (NULL: the current one). Returns
 * the fd or -errno with *err naming the namespace. */
int netseg_socket(struct dp_config *c, const char *ns, int domain, int type, int proto, char **err);

#endif
