/* ns.c — named network namespaces (iproute2-compatible) and scoped
 * switching. The only file of decoyproxy that calls setns(). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "net/ns.h"

/* Namespace the thread that called ns_init() returns to after ns_run():
 * the process's (threads inherit their creator's namespace). Set once by
 * the first ns_init() of any thread (compare-and-swap: two threads asking
 * at once keep one descriptor), read with atomic loads. */
static int ns_home_fd = -1;
/* Set while fn of ns_run() runs: a nested switch would return to the home
 * namespace instead of the outer one. setns() moves the calling thread
 * only, so this is the calling thread's state. */
static _Thread_local bool ns_inside;
/* Set when switching home failed: nothing is trustworthy afterwards (in
 * any thread: atomic loads and stores). */
static bool ns_stranded;
/* Set after a privilege drop: who adds and removes NS_RUN_DIR entries. */
static const struct ns_delegate *ns_deleg;

void ns_set_delegate(const struct ns_delegate *ops)
{
	ns_deleg = ops;
}

int ns_init(void)
{
	int fd, none = -1;

	if (__atomic_load_n(&ns_home_fd, __ATOMIC_ACQUIRE) >= 0)
		return 0;
	/* thread-self, not self: /proc/self/ns/net is the main thread's. */
	fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (!__atomic_compare_exchange_n(&ns_home_fd, &none, fd, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		close(fd); /* another thread's is in place */
	return 0;
}

void ns_fini(void)
{
	int fd = __atomic_exchange_n(&ns_home_fd, -1, __ATOMIC_ACQ_REL);

	if (fd >= 0)
		close(fd);
}

bool ns_is_home(int fd)
{
	struct stat a, b;
	int home;

	if (ns_init() < 0)
		return false;
	home = __atomic_load_n(&ns_home_fd, __ATOMIC_ACQUIRE);
	if (home < 0 || fstat(home, &a) < 0 || fstat(fd, &b) < 0)
		return false;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

bool ns_name_valid(const char *name)
{
	size_t len;

	if (!name)
		return false;
	len = strnlen(name, NS_NAME_MAX + 1);
	if (len == 0 || len > NS_NAME_MAX)
		return false;
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (; *name; name++) {
		/* Printable ASCII except space and '/'. */
		if (*name <= ' ' || *name >= 0x7f || *name == '/')
			return false;
	}
	return true;
}

/* NS_RUN_DIR "/" name into path[size]; -EINVAL for a bad name. */
static int ns_path(const char *name, char *path, size_t size)
{
	if (!ns_name_valid(name))
		return -EINVAL;
	if ((size_t)snprintf(path, size, "%s/%s", NS_RUN_DIR, name) >= size)
		return -ENAMETOOLONG;
	return 0;
}

/* ---- switching ------------------------------------------------------- */

int ns_run(int nsfd, int (*fn)(void *arg), void *arg)
{
	int rc, home;

	if (__atomic_load_n(&ns_stranded, __ATOMIC_RELAXED))
		return -ENOTRECOVERABLE;
	if (nsfd < 0)
		return fn(arg);
	home = __atomic_load_n(&ns_home_fd, __ATOMIC_ACQUIRE);
	if (home < 0)
		return -EBADF;
	if (ns_inside)
		return -EBUSY;
	if (setns(nsfd, CLONE_NEWNET) < 0)
		return -errno;
	ns_inside = true;
	rc = fn(arg);
	ns_inside = false;
	if (setns(home, CLONE_NEWNET) < 0) {
		__atomic_store_n(&ns_stranded, true, __ATOMIC_RELAXED);
		return -ENOTRECOVERABLE;
	}
	return rc;
}

struct sock_args {
	int domain, type, proto;
	int fd;
};

static int sock_in_ns(void *p)
{
	struct sock_args *a = p;

	a->fd = socket(a->domain, a->type, a->proto);
	return a->fd < 0 ? -errno : a->fd;
}

int ns_socket(int nsfd, int domain, int type, int proto)
{
	struct sock_args a = { domain, type, proto, -1 };
	int rc;

	rc = ns_run(nsfd, sock_in_ns, &a);
	/* A socket made before a failed switch home must not leak. */
	if (rc < 0 && a.fd >= 0)
		close(a.fd);
	return rc;
}

/* ---- named namespaces ------------------------------------------------ */

/* Makes NS_RUN_DIR exist and be a shared mount, as `ip netns add` does:
 * with shared propagation, the unmount done by a delete reaches the copies
 * of the mount in other mount namespaces, so the namespace can be freed. */
static int ns_prepare_run_dir(char **err)
{
	bool bound = false;
	int rc;

	if (mkdir(NS_RUN_DIR, 0755) < 0 && errno != EEXIST) {
		rc = -errno;
		memprintf(err, "cannot create %s: %s", NS_RUN_DIR,
			  strerror(-rc));
		return rc;
	}
	/* Bounded: at most one bind, then the second try must succeed. */
	for (;;) {
		if (mount("", NS_RUN_DIR, "none", MS_SHARED | MS_REC,
			  NULL) == 0)
			return 0;
		/* EINVAL: not a mount point yet. Make it one, once. */
		if (errno != EINVAL || bound)
			break;
		if (mount(NS_RUN_DIR, NS_RUN_DIR, "none", MS_BIND | MS_REC,
			  NULL) < 0)
			break;
		bound = true;
	}
	rc = -errno;
	memprintf(err, "cannot make %s a shared mount: %s", NS_RUN_DIR,
		  strerror(-rc));
	return rc;
}

struct create_args {
	const char *path;
	int rc;
	const char *step;
};

/* Runs in its own thread so that the caller's thread keeps its namespace:
 * unshare() moves only the calling thread. The thread ends right after, and
 * the bind mount is what keeps the new namespace alive. */
static void *ns_create_thread(void *p)
{
	struct create_args *a = p;

	a->rc = 0;
	if (unshare(CLONE_NEWNET) < 0) {
		a->rc = -errno;
		a->step = "unshare";
		return NULL;
	}
	if (mount("/proc/thread-self/ns/net", a->path, "none", MS_BIND,
		  NULL) < 0) {
		a->rc = -errno;
		a->step = "bind mount";
	}
	return NULL;
}

int ns_create(const char *name, char **err)
{
	struct create_args a = { .rc = -EIO, .step = "thread" };
	char path[sizeof(NS_RUN_DIR) + NS_NAME_MAX + 1];
	pthread_t tid;
	int fd, rc;

	if (ns_deleg)
		return ns_deleg->create(name, err);
	rc = ns_path(name, path, sizeof(path));
	if (rc < 0) {
		memprintf(err, "invalid namespace name '%s'", name ? name : "");
		return rc;
	}
	rc = ns_prepare_run_dir(err);
	if (rc < 0)
		return rc;
	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		if (rc == -EEXIST)
			memprintf(err, "namespace '%s' already exists", name);
		else
			memprintf(err, "cannot create namespace '%s': %s",
				  name, strerror(-rc));
		return rc;
	}
	close(fd);
	a.path = path;
	rc = -pthread_create(&tid, NULL, ns_create_thread, &a);
	if (rc == 0)
		rc = -pthread_join(tid, NULL);
	if (rc == 0)
		rc = a.rc;
	if (rc < 0) {
		memprintf(err, "cannot create namespace '%s': %s: %s", name,
			  a.step, strerror(-rc));
		goto fail_unlink;
	}
	return 0;
fail_unlink:
	unlink(path);
	return rc;
}

int ns_open(const char *name)
{
	char path[sizeof(NS_RUN_DIR) + NS_NAME_MAX + 1];
	int fd, rc;

	rc = ns_path(name, path, sizeof(path));
	if (rc < 0)
		return rc;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int ns_delete(const char *name, char **err)
{
	char path[sizeof(NS_RUN_DIR) + NS_NAME_MAX + 1];
	int rc;

	if (ns_deleg)
		return ns_deleg->remove(name, err);
	rc = ns_path(name, path, sizeof(path));
	if (rc < 0) {
		memprintf(err, "invalid namespace name '%s'", name ? name : "");
		return rc;
	}
	/* EINVAL: not mounted (a half-made namespace): still unlink it. */
	if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL) {
		rc = -errno;
		if (rc == -ENOENT)
			memprintf(err, "no namespace named '%s'", name);
		else
			memprintf(err, "cannot unmount namespace '%s': %s",
				  name, strerror(-rc));
		return rc;
	}
	if (unlink(path) < 0) {
		rc = -errno;
		if (rc == -ENOENT)
			memprintf(err, "no namespace named '%s'", name);
		else
			memprintf(err, "cannot remove namespace '%s': %s",
				  name, strerror(-rc));
		return rc;
	}
	return 0;
}

int ns_exists(const char *name)
{
	char path[sizeof(NS_RUN_DIR) + NS_NAME_MAX + 1];
	struct stat st;
	int rc;

	rc = ns_path(name, path, sizeof(path));
	if (rc < 0)
		return rc;
	if (stat(path, &st) == 0)
		return 1;
	return errno == ENOENT ? 0 : -errno;
}

int ns_list(int (*cb)(const char *name, void *data), void *data)
{
	struct dirent *de;
	int count = 0;
	DIR *dir;

	dir = opendir(NS_RUN_DIR);
	if (!dir)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(dir)) != NULL) {
		if (!ns_name_valid(de->d_name))
			continue;   /* ".", "..", and names we could not open */
		count++;
		if (cb(de->d_name, data))
			break;
	}
	closedir(dir);
	return count;
}
