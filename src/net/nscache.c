/* nscache.c — per-generation namespace fds and rtnetlink sockets (see
 * nscache.h).
 *
 * Threads: sessions of every thread create their server sockets through
 * ns_cache_socket() while the control thread may open a namespace for the
 * first time in the same cache (a health check, a mirror output): the
 * entries array may move (realloc) then. Every look-up and change holds
 * the cache's mutex, for a few comparisons (and the open, the first time
 * only); the socket itself is created after, outside the lock, in the
 * namespace whose fd was found (the fd stays open while the generation
 * does). */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>
#include <linux/netlink.h>

#include "net/nl.h"
#include "net/ns.h"
#include "net/nscache.h"

struct ns_entry {
	char *name;
	int fd;
	struct nl_sock *nl;
};

struct ns_cache {
	pthread_mutex_t mu;     /* everything below */
	struct ns_entry *v;
	size_t n;
	struct nl_sock *host_nl;
};

struct ns_cache *ns_cache_new(void)
{
	struct ns_cache *c = calloc(1, sizeof(struct ns_cache));

	if (c && pthread_mutex_init(&c->mu, NULL)) {
		free(c);
		return NULL;
	}
	return c;
}

static void release_rtnl_locked(struct ns_cache *c)
{
	nl_close(c->host_nl);
	c->host_nl = NULL;
	for (size_t i = 0; i < c->n; i++) {
		nl_close(c->v[i].nl);
		c->v[i].nl = NULL;
	}
}

void ns_cache_release_rtnl(struct ns_cache *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	release_rtnl_locked(c);
	pthread_mutex_unlock(&c->mu);
}

void ns_cache_free(struct ns_cache *c)
{
	if (!c)
		return;
	release_rtnl_locked(c);
	for (size_t i = 0; i < c->n; i++) {
		if (c->v[i].fd >= 0)
			close(c->v[i].fd);
		free(c->v[i].name);
	}
	free(c->v);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

static struct ns_entry *find(struct ns_cache *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->v[i].name, name))
			return &c->v[i];
	return NULL;
}

static int fd_locked(struct ns_cache *c, const char *ns, char **err)
{
	struct ns_entry *f = find(c, ns), *v;
	struct statfs sfs;
	int fd, rc;

	if (f)
		return f->fd;
	/* records the namespace to come back to; idempotent */
	rc = ns_init();
	if (rc < 0) {
		memprintf(err, "cannot open the current network namespace: %s", strerror(-rc));
		return rc;
	}
	fd = ns_open(ns);
	if (fd < 0) {
		if (fd == -ENOENT)
			memprintf(err, "namespace '%s' does not exist in %s", ns, NS_RUN_DIR);
		else
			memprintf(err, "cannot open namespace '%s': %s", ns, strerror(-fd));
		return fd;
	}
	/* A name made under another mount namespace (`ip netns exec`, a
	 * private /run) is an empty file here: say so instead of a bare
	 * EINVAL from setns() later. */
	if (fstatfs(fd, &sfs) < 0 || sfs.f_type != NSFS_MAGIC) {
		close(fd);
		memprintf(err, "%s/%s is not a mounted network namespace (made in another mount namespace? "
			  "`ip netns delete %s` removes the leftover)", NS_RUN_DIR, ns, ns);
		return -EINVAL;
	}
	v = realloc(c->v, (c->n + 1) * sizeof(*v));
	if (!v || !(v[c->n].name = strdup(ns))) {
		if (v)
			c->v = v;
		close(fd);
		memprintf(err, "out of memory");
		return -ENOMEM;
	}
	c->v = v;
	v[c->n].fd = fd;
	v[c->n].nl = NULL;
	c->n++;
	return fd;
}

int ns_cache_fd(struct ns_cache *c, const char *ns, char **err)
{
	int fd;

	pthread_mutex_lock(&c->mu);
	fd = fd_locked(c, ns, err);
	pthread_mutex_unlock(&c->mu);
	return fd;
}

static int rtnl_locked(struct ns_cache *c, const char *ns, struct nl_sock **out, char **err)
{
	struct ns_entry *f;
	int fd, rc;

	if (!ns) {
		if (!c->host_nl && (rc = nl_open(&c->host_nl)) < 0) {
			memprintf(err, "cannot open a netlink socket: %s", strerror(-rc));
			return rc;
		}
		*out = c->host_nl;
		return 0;
	}
	fd = fd_locked(c, ns, err);
	if (fd < 0)
		return fd;
	f = find(c, ns);
	if (!f)
		return -ENOENT;     /* cannot happen: ns_cache_fd() just cached it */
	if (!f->nl) {
		int sfd = ns_socket(fd, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

		rc = sfd < 0 ? sfd : nl_open_fd(&f->nl, sfd);
		if (rc < 0) {
			f->nl = NULL;
			memprintf(err, "cannot open a netlink socket in namespace '%s': %s", ns, strerror(-rc));
			return rc;
		}
	}
	*out = f->nl;
	return 0;
}

int ns_cache_rtnl(struct ns_cache *c, const char *ns, struct nl_sock **out, char **err)
{
	int rc;

	pthread_mutex_lock(&c->mu);
	rc = rtnl_locked(c, ns, out, err);
	pthread_mutex_unlock(&c->mu);
	return rc;
}

void ns_cache_forget(struct ns_cache *c, const char *ns)
{
	struct ns_entry *f;

	pthread_mutex_lock(&c->mu);
	f = find(c, ns);
	if (f) {
		nl_close(f->nl);
		close(f->fd);
		free(f->name);
		*f = c->v[--c->n];
	}
	pthread_mutex_unlock(&c->mu);
}

int ns_cache_socket(struct ns_cache *c, const char *ns, int domain, int type, int proto, char **err)
{
	char *e = NULL;
	int fd;

	if (!ns) {
		fd = socket(domain, type, proto);
		if (fd < 0) {
			int rc = -errno;

			memprintf(err, "socket: %s", strerror(-rc));
			return rc;
		}
		return fd;
	}
	if (!c) {
		memprintf(err, "namespace '%s': out of memory", ns);
		return -ENOMEM;
	}
	fd = ns_cache_fd(c, ns, &e);
	if (fd < 0) {
		memprintf(err, "%s", e ? e : strerror(-fd));
		free(e);
		return fd;
	}
	fd = ns_socket(fd, domain, type, proto);
	if (fd < 0)
		memprintf(err, "cannot create a socket in namespace '%s': %s%s", ns, strerror(-fd),
			  fd == -ENOTRECOVERABLE ? " (the process is stranded in another namespace and must stop)" : "");
	return fd;
}
