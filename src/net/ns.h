/* ns.h — network namespaces: named ones compatible with `ip netns`, scoped
 * switching, per-namespace sockets and sysctls.
 *
 * This module is the only place in decoyproxy that calls setns(). A switch
 * is always scoped: ns_run() enters a namespace, runs one function and comes
 * back to the namespace the thread had at ns_init(), on every path. Sockets
 * keep the namespace they were created in, so "create this socket in N"
 * (ns_socket) is all most callers need.
 *
 * Named namespaces live as bind mounts of an nsfs file under NS_RUN_DIR,
 * exactly where and how iproute2 keeps them, so `ip netns exec NAME ...`
 * sees ours and we see its.
 *
 * Return values follow common.h: 0 / a count / an fd, or -errno.
 */
#ifndef DECOYPROXY_NS_H
#define DECOYPROXY_NS_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/common.h"

#define NS_RUN_DIR "/run/netns"
/* A name is a file name under NS_RUN_DIR; 64 bytes is plenty for an
 * operator and keeps names printable in logs and PROXY NETNS TLVs. */
#define NS_NAME_MAX 64

/* Opens the calling thread's current network namespace (the one ns_run()
 * returns to) once. Call it from the thread that will call ns_run(), before
 * any switch. Idempotent. Returns 0 or -errno. */
int ns_init(void);
/* Closes what ns_init() opened. Safe without ns_init(). */
void ns_fini(void);

/* True when the namespace fd refers to is the home one (ns_init()'s; it is
 * called first when it was not yet: from a thread that never switched,
 * that is the process's). Any thread may ask, also while another thread
 * is switched elsewhere by ns_run(). False on any error. */
bool ns_is_home(int fd);

/* True for 1..NS_NAME_MAX bytes of printable ASCII without '/' or spaces,
 * other than "." and "..". */
bool ns_name_valid(const char *name);

/* Creates the named namespace like `ip netns add NAME`: makes NS_RUN_DIR a
 * shared mount (a bind mount of itself if it is not a mount point yet) so
 * that a later delete propagates to other mount namespaces, creates the
 * file, and in a short-lived thread unshares a fresh network namespace and
 * bind-mounts that thread's /proc/thread-self/ns/net onto the file. The
 * calling thread's namespace is not touched. -EEXIST when the name is
 * taken. Sets *err on failure. With a delegate (ns_set_delegate()), the
 * delegate does all this instead. */
int ns_create(const char *name, char **err);

/* Opens the named namespace. Returns an O_CLOEXEC fd (the caller closes
 * it) or -errno (-ENOENT: no such namespace, -EINVAL: bad name). */
int ns_open(const char *name);

/* Removes the named namespace like `ip netns delete`: lazy unmount then
 * unlink. The namespace itself lives on while a process or fd holds it.
 * -ENOENT when there is no such name. Sets *err on failure. With a
 * delegate, the delegate does it instead. */
int ns_delete(const char *name, char **err);

/* Who creates and removes named namespaces. NS_RUN_DIR is root's: after a
 * privilege drop the process may no longer add or remove names there, and
 * a privileged helper process does it instead (ctl/priv_helper.c). Each
 * function has the contract of ns_create()/ns_delete() (same return values,
 * same messages). */
struct ns_delegate {
	int (*create)(const char *name, char **err);
	int (*remove)(const char *name, char **err);
};

/* From now on ns_create()/ns_delete() call ops instead of doing the work in
 * this process; NULL: back to doing it here. ops is not copied and must
 * outlive its use. */
void ns_set_delegate(const struct ns_delegate *ops);

/* 1 when the named namespace exists, 0 when not, -EINVAL for a bad name. */
int ns_exists(const char *name);

/* Calls cb(name, data) for each named namespace (no particular order)
 * until cb returns non-zero. Returns the number of names passed to cb, 0
 * when NS_RUN_DIR does not exist, or -errno. */
int ns_list(int (*cb)(const char *name, void *data), void *data);

/* Runs fn(arg) inside namespace nsfd (nsfd < 0: in the current one, no
 * switch) and switches back to the namespace recorded by ns_init(). Returns
 * what fn returned, or -errno when the switch in fails (fn not called),
 * -EBADF before ns_init(), -EBUSY when called from inside fn (no nesting).
 * If switching back fails the thread is stranded in the wrong namespace:
 * the result is -ENOTRECOVERABLE, every later ns_run()/ns_socket() refuses
 * with the same code, and the caller must stop the process. */
int ns_run(int nsfd, int (*fn)(void *arg), void *arg);

/* socket(domain, type, proto) created inside namespace nsfd (nsfd < 0:
 * the current namespace). Returns the fd (the caller owns it) or -errno,
 * with -ENOTRECOVERABLE as for ns_run(). */
int ns_socket(int nsfd, int domain, int type, int proto);

/* ---- sysctl (sysctl.c) ----------------------------------------------- */

/* Maps a sysctl key to its /proc/sys path in out[size]. Dotted keys
 * ("net.ipv4.conf.all.rp_filter") have each '.' turned into '/'; a key
 * written with '/' ("net/ipv4/conf/eth0.5/rp_filter", needed when an
 * interface name holds a dot) is used as is. Only keys under "net" are
 * accepted: everything else is not per network namespace. Components are
 * non-empty, not "." or "..", of [A-Za-z0-9_@+-.] characters. Returns 0,
 * -EINVAL (bad key) or -ENAMETOOLONG. */
int sysctl_path(const char *key, char *out, size_t size);

/* Writes val to sysctl key as seen from namespace nsfd (< 0: the current
 * one); the file is opened inside the namespace, because /proc/sys/net
 * shows the namespace of the task that opens it. val is printable text
 * (tabs and spaces allowed), at most 4095 bytes. Sets *err on failure
 * ("sysctl net.ipv4.ip_forward: unknown key"). */
int sysctl_set(int nsfd, const char *key, const char *val, char **err);

/* Reads sysctl key from namespace nsfd into out[size] without the trailing
 * newline. Returns the length, -EOVERFLOW when out is too small, or -errno.
 * Sets *err on failure. */
int sysctl_get(int nsfd, const char *key, char *out, size_t size, char **err);

#endif
