/* priv.h — dropping privileges while keeping the capabilities the proxy
 * still needs (CAP_NET_ADMIN, CAP_NET_RAW, CAP_NET_BIND_SERVICE). */
#ifndef DECOYPROXY_PRIV_H
#define DECOYPROXY_PRIV_H

#include <sys/types.h>
#include "decoyproxy/common.h"

/* Switch to gid/uid (when have_*), keeping the network capabilities in the
 * permitted and effective sets, plus CAP_SYS_ADMIN and CAP_DAC_OVERRIDE when
 * `keep_sys_admin` (network namespaces: setns(), the /run/netns mounts and
 * per-namespace sysctls under root-owned paths need them).
 * Returns 0 or -errno with *err. */
int priv_drop(bool have_uid, uid_t uid, bool have_gid, gid_t gid, bool keep_sys_admin, char **err);

#endif
