/* owner.h — ownership marks: how decoyproxy recognises, after a crash, the
 * system objects an earlier run of it created, and only those.
 *
 * A run is one decoyproxy process. At start-up it picks a random run id
 * and holds an exclusive flock() on OWNER_RUN_DIR/runs/<id>.lock for as
 * long as it lives; the kernel releases the lock when the process ends,
 * SIGKILL included. Every object the run creates carries its mark,
 * "decoyproxy:<id>":
 *   - links (bridge, veth, macvlan, vlan): the link's alias (IFLA_IFALIAS,
 *     `ip link show` prints it as "alias");
 *   - a network namespace: the alias of its `lo` (a mark that lives and
 *     dies with the namespace itself, unlike a file next to it);
 *   - the nft table `inet decoyproxy`: its comment (NFTA_TABLE_USERDATA);
 *   - fwmark rules and routes: the protocol RTPROT_DECOYPROXY. A protocol
 *     has no room for the id: these objects belong to the run whose mark
 *     the namespace's nft table carries (the table is in every namespace
 *     that has them).
 * A later run finds an object and reads its mark: no mark (or a malformed
 * one) means someone else's; its own mark means its own; another run's
 * mark is that run's while the run holds its lock, and an orphan (to be
 * adopted or cleaned up) once nobody does.
 *
 * No global state: the caller (ctl/process.c) keeps the process's run.
 * Functions return 0 / a count, or -errno with a malloc'd *err.
 */
#ifndef DECOYPROXY_OWNER_H
#define DECOYPROXY_OWNER_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/common.h"

#define OWNER_RUN_DIR  "/run/decoyproxy"
#define OWNER_MARK_PFX "decoyproxy:"
#define OWNER_ID_LEN   16           /* lowercase hex digits */
/* A mark with its NUL: "decoyproxy:" + 16 hex digits. */
#define OWNER_MARK_SIZE (sizeof(OWNER_MARK_PFX) - 1 + OWNER_ID_LEN + 1)

/* Protocol of every route and fwmark rule decoyproxy adds (`ip route`
 * shows "proto 233"; /etc/iproute2/rt_protos.d/ can give it a name). Not
 * one of the kernel's RTPROT_* values nor of iproute2's rt_protos list. */
#define RTPROT_DECOYPROXY 233

/* Lock files examined (and removed when stale) per owner_run_open(). */
#define OWNER_SWEEP_MAX 1024

/* The lock of a live run. */
struct owner_run {
	int fd;                       /* -1: not open */
	char mark[OWNER_MARK_SIZE];   /* "decoyproxy:<id>" */
	char path[128];               /* its lock file */
};

/* Starts a run: creates dir and dir/runs (mode 0755) when missing, picks a
 * random id and holds an exclusive lock on dir/runs/<id>.lock (made under
 * a temporary name, locked, then renamed, so that nobody ever sees it
 * unlocked). Removes the lock files of runs that are gone (at most
 * OWNER_SWEEP_MAX looked at). The lock fd is O_CLOEXEC and survives a
 * fork (daemonizing keeps it). Returns 0 or -errno with *err naming the
 * file. */
int owner_run_open(struct owner_run *r, const char *dir, char **err);

/* Ends the run: removes its lock file (best effort: after a privilege
 * drop it may stay, unlocked, which says the same) and closes the lock.
 * Safe on a run that is not open. */
void owner_run_close(struct owner_run *r);

/* True when text is a mark: OWNER_MARK_PFX followed by exactly
 * OWNER_ID_LEN lowercase hex digits. */
bool owner_mark_valid(const char *text);

/* Whether the run that wrote mark is alive, i.e. holds its lock in dir:
 * 1 alive, 0 gone (no lock file, or nobody holds it), -EINVAL when mark is
 * not a mark, another -errno when it cannot be told (callers treat that as
 * alive: never take what may be someone's). */
int owner_mark_alive(const char *dir, const char *mark);

/* What a found object's mark says to a run whose own mark is self (NULL:
 * the caller has none, e.g. `--cleanup`). */
enum owner_verdict {
	OWNER_FOREIGN,                /* no mark: someone else's */
	OWNER_SELF,                   /* this run's own */
	OWNER_LIVE,                   /* a decoyproxy that is still running */
	OWNER_ORPHAN,                 /* left by a run that is gone: adopt it */
};

/* The verdict for found (the alias or comment read, NULL or "" when
 * none). alive(ctx, mark) answers as owner_mark_alive() (NULL: use it
 * with OWNER_RUN_DIR). */
enum owner_verdict owner_judge(const char *found, const char *self,
			       int (*alive)(void *ctx, const char *mark), void *ctx);

/* "created", "adopted" ... of a verdict, for debug messages. */
const char *owner_verdict_str(enum owner_verdict v);

#endif
