/* priv_helper.c — the namespace helper: the one part of decoyproxy that
 * keeps root's ownership after the privilege drop, to add and remove
 * /run/netns entries when a reload creates or removes a `network` segment.
 *
 * Why a separate process. Naming a namespace means creating a file in
 * /run/netns (iproute2's directory: root's, mode 0755) and bind-mounting the
 * namespace on it; removing one means unmounting and unlinking it. After
 * switching to `user`, the process could do that only by keeping
 * CAP_DAC_OVERRIDE, which would let it read and write every file of the
 * system — in the process that parses attacker traffic. Instead, just
 * before the drop, the process forks this helper, which:
 *  - stays uid 0 / gid 0 (so it owns /run/netns and needs no DAC override,
 *    and no process of the service user may signal or trace it), drops its
 *    supplementary groups, and keeps CAP_SYS_ADMIN alone (mount, umount2,
 *    unshare), with no_new_privs;
 *  - closes every file descriptor but its end of a SOCK_SEQPACKET pair:
 *    no listener, log target or netlink socket is reachable from it;
 *  - blocks every signal: a stop signal sent to the whole service (systemd
 *    sends KillSignal= to every process of the unit, a terminal's ^C to the
 *    process group) must not end it before the main process has removed
 *    its namespaces at stop. It exits when the main process closes its end
 *    or exits (even when killed): the next read sees end-of-file;
 *  - answers exactly two requests, "create NAME" and "delete NAME", NAME
 *    being checked by ns_name_valid() on both sides, with ns_create() /
 *    ns_delete()'s own result and message.
 * The main process keeps CAP_SYS_ADMIN all the same (setns() for every
 * socket made in a namespace): what the split removes is CAP_DAC_OVERRIDE.
 *
 * Requests are synchronous, as ns_create() already was (it joins a thread):
 * a request blocks the event loop for one mount or unmount.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl/priv.h"
#include "ctl/priv_int.h"
#include "net/ns.h"

#define HELPER_CREATE 'c'
#define HELPER_DELETE 'd'

struct helper_req {
	char op;                    /* HELPER_CREATE or HELPER_DELETE */
	char name[NS_NAME_MAX + 1]; /* NUL-terminated */
};

/* Also the greeting the helper sends once confined (rc 0), or the reason it
 * could not confine itself. */
struct helper_rep {
	int rc;          /* 0 or -errno */
	char msg[512];   /* the error message when rc < 0 ("" if none) */
};

/* Main process side: the channel and the helper's pid (-1: none). */
static int helper_fd = -1;
static pid_t helper_pid = -1;

/* ---- in the helper ------------------------------------------------------- */

/* Closes every descriptor from 3 up but keep. */
static void helper_close_fds(int keep)
{
	unsigned int from = keep >= 3 ? (unsigned int)keep + 1 : 3;
	struct rlimit rl;
	int max = 65536;

#ifdef SYS_close_range
	if ((keep <= 3 || syscall(SYS_close_range, 3U, (unsigned int)keep - 1, 0U) == 0) &&
	    syscall(SYS_close_range, from, ~0U, 0U) == 0)
		return;
#endif
	(void)from;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		max = (int)rl.rlim_cur;
	for (int fd = 3; fd < max; fd++)
		if (fd != keep)
			close(fd);
}

static void helper_reply(int sock, int rc, const char *msg)
{
	struct helper_rep rep;

	memset(&rep, 0, sizeof(rep));
	rep.rc = rc;
	if (rc < 0 && msg)
		snprintf(rep.msg, sizeof(rep.msg), "%s", msg);
	while (send(sock, &rep, sizeof(rep), MSG_NOSIGNAL) < 0)
		if (errno != EINTR)
			_exit(0); /* the main process is gone */
}

/* Reduces the helper to what it is for; returns 0 or -errno with *err. */
static int helper_confine(char **err)
{
	int e;

	if (setgroups(0, NULL) < 0) {
		e = errno;
		memprintf(err, "cannot drop the supplementary groups: %s", strerror(e));
		return -e;
	}
	if (priv_set_caps(priv_helper_caps()) < 0) {
		e = errno;
		memprintf(err, "cannot reduce the capabilities to CAP_SYS_ADMIN: %s", strerror(e));
		return -e;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		e = errno;
		memprintf(err, "cannot set no_new_privs: %s", strerror(e));
		return -e;
	}
	return 0;
}

/* The helper's whole life; never returns (only _exit(): the atexit
 * handlers and stdio buffers copied from the main process are not ours). */
static void __attribute__((noreturn)) helper_main(int sock)
{
	struct helper_req req;
	sigset_t all;
	char *err = NULL;
	ssize_t n;
	int rc;

	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	helper_close_fds(sock);
	prctl(PR_SET_NAME, "decoyproxy-ns", 0, 0, 0);
	rc = helper_confine(&err);
	helper_reply(sock, rc, err);
	if (rc < 0)
		_exit(1);
	for (;;) {
		free(err);
		err = NULL;
		n = recv(sock, &req, sizeof(req), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(0); /* end-of-file: the main process is done */
		if ((size_t)n != sizeof(req) || memchr(req.name, '\0', sizeof(req.name)) == NULL ||
		    !ns_name_valid(req.name) || (req.op != HELPER_CREATE && req.op != HELPER_DELETE)) {
			helper_reply(sock, -EINVAL, "namespace helper: malformed request");
			continue;
		}
		rc = req.op == HELPER_CREATE ? ns_create(req.name, &err) : ns_delete(req.name, &err);
		helper_reply(sock, rc, err);
	}
}

/* ---- in the main process ------------------------------------------------- */

/* The failed call's errno as a negative code, never 0: a reply is read
 * only on 0, so a call failing without errno must not pass for success. */
static int helper_errno(void)
{
	int e = errno;

	return e > 0 ? -e : -EIO;
}

/* Reads one reply; returns 0 (*rep set) or -errno (-EPIPE: the helper is
 * gone). */
static int helper_recv(int fd, struct helper_rep *rep)
{
	ssize_t n;

	do
		n = recv(fd, rep, sizeof(*rep), 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == ECONNRESET ? -EPIPE : helper_errno();
	if ((size_t)n != sizeof(*rep))
		return -EPIPE;
	rep->msg[sizeof(rep->msg) - 1] = '\0';
	return 0;
}

static int helper_call(char op, const char *name, char **err)
{
	const char *verb = op == HELPER_CREATE ? "create" : "remove";
	struct helper_req req;
	struct helper_rep rep;
	ssize_t n;
	int rc;

	/* the same check and message as ns_create()/ns_delete() */
	if (!ns_name_valid(name)) {
		memprintf(err, "invalid namespace name '%s'", name ? name : "");
		return -EINVAL;
	}
	memset(&req, 0, sizeof(req));
	req.op = op;
	memcpy(req.name, name, strlen(name));
	/* rep is read only after a reply was received: every other path
	 * leaves through fail */
	if (helper_fd < 0) {
		rc = -EPIPE;
		goto fail;
	}
	do
		n = send(helper_fd, &req, sizeof(req), MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		rc = helper_errno();
		goto fail;
	}
	rc = helper_recv(helper_fd, &rep);
	if (rc < 0)
		goto fail;
	if (rep.rc < 0)
		memprintf(err, "%s", rep.msg[0] ? rep.msg : strerror(-rep.rc));
	return rep.rc;
fail:
	memprintf(err, "cannot %s namespace '%s': the namespace helper process%s: %s", verb, name,
		  rc == -EPIPE ? " has exited" : "", strerror(-rc));
	return rc;
}

static int helper_create(const char *name, char **err)
{
	return helper_call(HELPER_CREATE, name, err);
}

static int helper_delete(const char *name, char **err)
{
	return helper_call(HELPER_DELETE, name, err);
}

static const struct ns_delegate helper_ops = {
	.create = helper_create,
	.remove = helper_delete,
};

int priv_helper_start(char **err)
{
	struct helper_rep rep;
	int sv[2], rc;
	pid_t pid;

	if (helper_pid > 0)
		return 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		rc = -errno;
		memprintf(err, "cannot start the namespace helper: socketpair: %s", strerror(-rc));
		return rc;
	}
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		close(sv[0]);
		close(sv[1]);
		memprintf(err, "cannot start the namespace helper: fork: %s", strerror(-rc));
		return rc;
	}
	if (pid == 0)
		helper_main(sv[1]);
	close(sv[1]);
	rc = helper_recv(sv[0], &rep);
	if (rc == 0 && rep.rc < 0) {
		rc = rep.rc;
		memprintf(err, "cannot start the namespace helper: %s", rep.msg);
	} else if (rc < 0) {
		memprintf(err, "cannot start the namespace helper: %s", strerror(-rc));
	}
	if (rc < 0) {
		close(sv[0]);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		return rc;
	}
	helper_fd = sv[0];
	helper_pid = pid;
	ns_set_delegate(&helper_ops);
	return 0;
}

void priv_helper_stop(void)
{
	if (helper_pid <= 0)
		return;
	close(helper_fd);
	helper_fd = -1;
	/* the event loop may have reaped it already (it died): ECHILD */
	while (waitpid(helper_pid, NULL, 0) < 0 && errno == EINTR)
		;
	helper_pid = -1;
}
