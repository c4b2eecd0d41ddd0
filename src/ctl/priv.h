/* priv.h — dropping privileges while keeping the capabilities the proxy
 * still needs (CAP_NET_ADMIN, CAP_NET_RAW, CAP_NET_BIND_SERVICE, and
 * CAP_SYS_ADMIN with namespaces), and the namespace helper: the small
 * process that keeps adding and removing /run/netns entries, which only
 * root may write, after the drop. */
#ifndef DECOYPROXY_PRIV_H
#define DECOYPROXY_PRIV_H

#include <sys/types.h>
#include "lib/common.h"

/* The capability mask kept after a drop: CAP_NET_ADMIN, CAP_NET_RAW and
 * CAP_NET_BIND_SERVICE, plus CAP_SYS_ADMIN (setns()) when `namespaces`
 * (network namespaces are configured). */
uint64_t priv_kept_caps(bool namespaces);

/* The namespace helper's capability mask: CAP_SYS_ADMIN alone (mount,
 * umount and unshare; it stays uid 0, which owns /run/netns). */
uint64_t priv_helper_caps(void);

/* With have_gid: drops the supplementary groups and switches to gid; with
 * have_uid: switches to uid. In both cases (either one suffices) the
 * permitted and effective sets become exactly priv_kept_caps(namespaces)
 * (inheritable and ambient empty) and no_new_privs is set. `group` alone
 * keeps uid 0 and `user` alone keeps the group: each gives a warning.
 * With `namespaces`, the namespace helper is started first (see
 * priv_helper_stop()) and from then on creates and removes the named
 * namespaces (ns_create()/ns_delete() are delegated to it).
 * Neither uid nor gid: nothing changes (the process keeps running as it was
 * started, no helper). Returns 0 or -errno with *err. */
int priv_drop(bool have_uid, uid_t uid, bool have_gid, gid_t gid, bool namespaces, char **err);

/* At exit, once the last namespace has been removed: closes the channel to
 * the namespace helper, which then exits, and reaps it. Later namespace
 * creations and removals fail. No-op when no helper was started. */
void priv_helper_stop(void);

#endif
