/* priv.h — dropping privileges while keeping the capabilities the proxy
 * still needs (CAP_NET_ADMIN, CAP_NET_RAW, CAP_NET_BIND_SERVICE). */
#ifndef DECOYPROXY_PRIV_H
#define DECOYPROXY_PRIV_H

#include <sys/types.h>
#include "lib/common.h"

/* The capability mask kept after a drop: CAP_NET_ADMIN, CAP_NET_RAW and
 * CAP_NET_BIND_SERVICE, plus CAP_SYS_ADMIN and CAP_DAC_OVERRIDE when
 * `keep_sys_admin` (network namespaces are configured). */
uint64_t priv_kept_caps(bool keep_sys_admin);

/* With have_gid: drops the supplementary groups and switches to gid; with
 * have_uid: switches to uid. In both cases (either one suffices) the
 * permitted and effective sets become exactly priv_kept_caps(keep_sys_admin)
 * (inheritable and ambient empty) and no_new_privs is set. `group` alone
 * keeps uid 0 and `user` alone keeps the group: each gives a warning.
 * Neither: nothing changes (the process keeps running as it was started).
 * Returns 0 or -errno with *err. */
int priv_drop(bool have_uid, uid_t uid, bool have_gid, gid_t gid, bool keep_sys_admin, char **err);

#endif
