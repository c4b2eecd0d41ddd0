/* nscache.h — the namespaces one configuration generation works in: each
 * named namespace's fd, opened once and kept with the generation, and a
 * netlink (rtnetlink) socket inside it, kept for one pass of changes.
 *
 * Every module that needs a socket in a named namespace (listeners,
 * connections to servers, health checks, the tproxy and segment plumbing)
 * asks the generation's cache: "create this socket in namespace N". The
 * cache never switches namespaces itself (ns.c does, scoped).
 *
 * Threads: every function may be called from any thread at once (a mutex
 * per cache, held for the look-up; the socket is created outside it).
 * ns_cache_forget() and ns_cache_free() close fds that a thread could be
 * about to use: they run when no thread uses the generation any more, or
 * with the threads isolated. The rtnetlink sockets are the control
 * thread's (system changes).
 */
#ifndef DECOYPROXY_NSCACHE_H
#define DECOYPROXY_NSCACHE_H

#include "lib/common.h"

struct ns_cache;
struct nl_sock;

struct ns_cache *ns_cache_new(void);
/* Closes every fd and socket; NULL is a no-op. */
void ns_cache_free(struct ns_cache *c);

/* The fd of namespace `ns` (under NS_RUN_DIR), opened on first use and
 * checked to be a mounted namespace. Returns the fd (owned by the cache)
 * or -errno with *err naming the namespace. */
int ns_cache_fd(struct ns_cache *c, const char *ns, char **err);

/* A socket created inside namespace `ns` (NULL: the current one). Returns
 * the new fd (the caller owns it) or -errno with *err. */
int ns_cache_socket(struct ns_cache *c, const char *ns, int domain, int type, int proto, char **err);

/* An rtnetlink socket talking to `ns` (NULL: the current namespace), kept
 * until ns_cache_release_rtnl(). Returns 0 or -errno with *err. */
int ns_cache_rtnl(struct ns_cache *c, const char *ns, struct nl_sock **out, char **err);
/* Closes the rtnetlink sockets (the fds of namespaces stay open). */
void ns_cache_release_rtnl(struct ns_cache *c);

/* Closes what the cache holds for `ns` (before deleting the namespace: our
 * own references would keep it alive). */
void ns_cache_forget(struct ns_cache *c, const char *ns);

#endif
