/* priv.c — switching user/group while keeping network capabilities.
 *
 * decoyproxy opens transparent and spoofing sockets for as long as it runs
 * (every server connection with `usesrc`), so a plain setuid() would break it.
 * We ask the kernel to keep the permitted set across setuid (PR_SET_KEEPCAPS),
 * then reduce the permitted and effective sets to exactly (inheritable, and
 * with it the ambient set, become empty):
 *   CAP_NET_ADMIN        IP_TRANSPARENT, nftables and netlink changes, and
 *                        the per-namespace /proc/sys/net files (their
 *                        permission check gives CAP_NET_ADMIN the owner's
 *                        rights: no CAP_DAC_OVERRIDE needed for sysctls)
 *   CAP_NET_RAW          IP_TRANSPARENT (either of the two suffices), SO_BINDTODEVICE
 *   CAP_NET_BIND_SERVICE listeners below port 1024 opened at reload
 *   CAP_SYS_ADMIN        only when network namespaces are configured:
 *                        setns() into them, for every socket made in one
 *                        (listeners, server connections, netlink, sysctl
 *                        files)
 * Adding and removing /run/netns entries (a file in a directory only root
 * may write, and a bind mount on it) is not done by this process after the
 * drop: the namespace helper (priv_helper.c), forked just before, does it
 * as uid 0 with CAP_SYS_ADMIN alone. So no process of decoyproxy keeps
 * CAP_DAC_OVERRIDE.
 * The same reduction happens with `group` alone (the process then keeps uid
 * 0, which still owns root's files: a warning says so). PR_SET_NO_NEW_PRIVS
 * finally makes the reduction permanent: decoyproxy never runs programs,
 * and no execve() — of a set-uid binary, or of anything while uid 0 — may
 * hand back a capability that was dropped.
 * The raw capset syscall is used to avoid a libcap dependency.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ctl/priv.h"
#include "ctl/priv_int.h"
#include "log/msg.h"

uint64_t priv_kept_caps(bool namespaces)
{
	uint64_t keep = (1ULL << CAP_NET_ADMIN) | (1ULL << CAP_NET_RAW) | (1ULL << CAP_NET_BIND_SERVICE);

	if (namespaces)
		keep |= 1ULL << CAP_SYS_ADMIN;
	return keep;
}

uint64_t priv_helper_caps(void)
{
	return 1ULL << CAP_SYS_ADMIN;
}

int priv_set_caps(uint64_t mask)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	data[0].permitted = data[0].effective = (uint32_t)mask;
	data[1].permitted = data[1].effective = (uint32_t)(mask >> 32);
	return (int)syscall(SYS_capset, &hdr, data);
}

int priv_drop(bool have_uid, uid_t uid, bool have_gid, gid_t gid, bool namespaces, char **err)
{
	uint64_t keep = priv_kept_caps(namespaces);
	int e;

	if (!have_uid && !have_gid)
		return 0;
	/* first, while still root: the helper keeps what this process gives up */
	if (namespaces) {
		e = priv_helper_start(err);
		if (e < 0)
			return e;
	}
	if (have_gid) {
		if (setgroups(0, NULL) < 0 || setgid(gid) < 0) {
			e = errno;
			memprintf(err, "cannot switch to group %u: %s", (unsigned)gid, strerror(e));
			return -e;
		}
	} else if (uid != 0) {
		ha_warning("[global] 'user' without 'group': the process keeps group %u and its supplementary groups; set 'group' as well",
			   (unsigned)getgid());
	}
	if (have_uid) {
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 || setuid(uid) < 0) {
			e = errno;
			memprintf(err, "cannot switch to user %u: %s", (unsigned)uid, strerror(e));
			return -e;
		}
	} else if (getuid() == 0) {
		ha_warning("[global] 'group' without 'user': the process stays uid 0, which still owns root's files; only the capabilities are reduced. Set 'user' as well");
	}
	if (priv_set_caps(keep) < 0) {
		e = errno;
		memprintf(err, "cannot keep CAP_NET_ADMIN/CAP_NET_RAW/CAP_NET_BIND_SERVICE%s: %s",
			  namespaces ? "/CAP_SYS_ADMIN" : "", strerror(e));
		return -e;
	}
	prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		e = errno;
		memprintf(err, "cannot set no_new_privs: %s", strerror(e));
		return -e;
	}
	return 0;
}
