/* evlog.c — event log targets (evlog.h): file@ files and syslog targets,
 * the set of the generation in service, and emitting a line to it.
 *
 * A file target is written with one write() of the whole line ("\n"
 * included, through writev) on an O_APPEND descriptor: the kernel appends
 * each such write whole, so the lines of several threads (or of a second
 * process appending to the same file) never interleave, and a line is
 * never split across two writes. A full disk makes write() fail at once
 * (ENOSPC): the line is dropped and counted, and a warning says so at most
 * once a minute; nothing waits. Syslog targets are log.h's: non-blocking
 * datagrams, a full socket drops and counts.
 *
 * Threads: any thread writes lines (evlog_emit) while the control thread
 * may reopen the files (logrotate's SIGHUP): a reopen puts the new file in
 * place under the same descriptor number (dup3), so a writer never sees a
 * closed or reused number, and needs no lock. The set in service is an
 * atomic pointer; a set is closed and freed only once no thread writes to
 * it (the control thread, threads isolated).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "log/evlog.h"
#include "log/log.h"
#include "log/msg.h"

static struct evlog_set *active;

static void count(uint64_t *c)
{
	__atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
}

int evlog_sink_parse(int argc, char **argv, struct evlog_sink **out, char **err)
{
	struct evlog_sink *s;
	int ret;

	*out = NULL;
	if (argc < 1 || !argv[0] || !*argv[0]) {
		memprintf(err, "expects a target: file@<path>, or a 'log' target (stdout, /dev/log, udp@<ip>:<port>, ...) and a facility");
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (!s || !(s->name = strdup(argv[0])))
		goto nomem;
	s->fd = -1;
	if (!strncmp(argv[0], "file@", 5)) {
		const char *p = argv[0] + 5;

		if (p[0] != '/') {
			memprintf(err, "'%s': the file of an event log target must be an absolute path (file@/var/log/decoyproxy/events.json)",
				  argv[0]);
			ret = -EINVAL;
			goto fail;
		}
		if (p[strlen(p) - 1] == '/') {
			memprintf(err, "'%s' names a directory, not a file", argv[0]);
			ret = -EINVAL;
			goto fail;
		}
		if (argc > 1) {
			memprintf(err, "unexpected argument '%s' after a file target (facility, level, len and format apply to syslog targets)",
				  argv[1]);
			ret = -EINVAL;
			goto fail;
		}
		if (!(s->path = strdup(p)))
			goto nomem;
		s->maxlen = EVLOG_LINE_MAX - 1;
		*out = s;
		return 0;
	}
	ret = log_target_parse(argc, argv, &s->lt, err);
	if (ret < 0)
		goto fail;
	if (s->lt->level < 6) {
		/* the level would filter every event out: say so, not nothing */
		memprintf(err, "events are sent at level 'info': a maximum level of '%s' would drop them all",
			  log_level_name(s->lt->level));
		ret = -EINVAL;
		goto fail;
	}
	s->maxlen = s->lt->maxlen;
	*out = s;
	return 0;
nomem:
	memprintf(err, "out of memory");
	ret = -ENOMEM;
fail:
	evlog_sink_free(s);
	return ret;
}

int evlog_sink_open(struct evlog_sink *s, char **err)
{
	struct stat st;
	int fd, e, old;

	if (s->lt)
		return log_target_open(s->lt, err);
	fd = open(s->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK | O_NOCTTY, 0640);
	if (fd < 0) {
		e = errno;
		memprintf(err, "event log '%s': cannot open '%s': %s", s->name, s->path, strerror(e));
		return -e;
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		memprintf(err, "event log '%s': '%s' is a directory", s->name, s->path);
		return -EISDIR;
	}
	old = __atomic_load_n(&s->fd, __ATOMIC_ACQUIRE);
	if (old < 0) {
		__atomic_store_n(&s->fd, fd, __ATOMIC_RELEASE);
		return 0;
	}
	/* a reopen: the new file takes the old one's number at once, so
	 * writers on other threads go on with s->fd and never write to a
	 * number closed meanwhile (or already reused by another open) */
	if (dup3(fd, old, O_CLOEXEC) < 0) {
		e = errno;
		close(fd);
		memprintf(err, "event log '%s': cannot reopen '%s': %s", s->name, s->path, strerror(e));
		return -e;
	}
	close(fd);
	return 0;
}

void evlog_sink_close(struct evlog_sink *s)
{
	if (!s)
		return;
	if (s->lt)
		log_target_close(s->lt);
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

void evlog_sink_free(struct evlog_sink *s)
{
	if (!s)
		return;
	evlog_sink_close(s);
	log_target_free(s->lt);
	free(s->name);
	free(s->path);
	free(s);
}

static void warn_drop(struct evlog_sink *s, int e)
{
	static _Thread_local double last; /* per thread: ha_ratelimit */

	if (ha_ratelimit(&last, 60.0))
		ha_warning("event log '%s': dropped an event: %s (%llu dropped, %llu lost so far; warned at most once a minute)",
			   s->name, strerror(e), (unsigned long long)__atomic_load_n(&s->drops, __ATOMIC_RELAXED),
			   (unsigned long long)__atomic_load_n(&s->errors, __ATOMIC_RELAXED));
}

void evlog_sink_write(struct evlog_sink *s, const char *line, size_t len)
{
	struct iovec iov[2];
	ssize_t n;
	int e, fd;

	if (len > s->maxlen) {
		count(&s->drops);
		warn_drop(s, EMSGSIZE);
		return;
	}
	if (s->lt) {
		/* the outcome of this send, not the target's counters: another
		 * thread may be logging to the same target */
		int r = log_target_send(s->lt, 6 /* info */, NULL, line, len);

		if (r < 0) {
			count(log_errno_is_drop(-r) ? &s->drops : &s->errors);
			__atomic_store_n(&s->last_errno, -r, __ATOMIC_RELAXED);
			warn_drop(s, -r);
		} else {
			count(&s->sent);
		}
		return;
	}
	fd = __atomic_load_n(&s->fd, __ATOMIC_ACQUIRE);
	if (fd < 0) {
		count(&s->errors);
		return;
	}
	iov[0].iov_base = (void *)(uintptr_t)line;
	iov[0].iov_len = len;
	iov[1].iov_base = (void *)(uintptr_t)"\n";
	iov[1].iov_len = 1;
	do
		n = writev(fd, iov, 2);
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)len + 1) {
		count(&s->sent);
		return;
	}
	e = n < 0 ? errno : ENOSPC;
	__atomic_store_n(&s->last_errno, e, __ATOMIC_RELAXED);
	if (n < 0 && e != ENOSPC && e != EAGAIN && e != EDQUOT && e != EFBIG)
		count(&s->errors);
	else
		count(&s->drops);
	if (n > 0) {
		/* a part of the line went out (the disk filled up in the
		 * middle): end it, so the next line starts on its own */
		if (write(fd, "\n", 1) < 0)
			count(&s->errors);
	}
	warn_drop(s, e);
}

int evlog_set_add(struct evlog_set *set, struct evlog_sink *s)
{
	struct evlog_sink **v = realloc(set->v, (set->n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	set->v = v;
	v[set->n++] = s;
	return 0;
}

void evlog_set_free(struct evlog_set *set)
{
	if (!set)
		return;
	if (__atomic_load_n(&active, __ATOMIC_ACQUIRE) == set)
		evlog_set_active(NULL);
	for (size_t i = 0; i < set->n; i++)
		evlog_sink_free(set->v[i]);
	free(set->v);
	set->v = NULL;
	set->n = 0;
}

void evlog_set_active(struct evlog_set *set)
{
	__atomic_store_n(&active, set && set->n ? set : NULL, __ATOMIC_RELEASE);
}

struct evlog_set *evlog_active(void)
{
	return __atomic_load_n(&active, __ATOMIC_ACQUIRE);
}

bool evlog_enabled(void)
{
	return evlog_active() != NULL;
}

unsigned evlog_first_bytes(void)
{
	struct evlog_set *set = evlog_active();

	return set ? set->first_bytes : 0;
}

void evlog_reopen(void)
{
	struct evlog_set *set = evlog_active();
	char *err = NULL;

	for (size_t i = 0; set && i < set->n; i++) {
		if (set->v[i]->lt)
			continue;
		if (evlog_sink_open(set->v[i], &err) < 0) {
			ha_warning("%s; still writing to the file opened before", err);
			free(err);
			err = NULL;
		}
	}
}

int evlog_emit(struct evlog_rec *r)
{
	static const char trunc[] = ",\"truncated\":true}";
	struct evlog_set *set = evlog_active();
	size_t len = evlog_end(r);
	int taken = 0;

	if (!set)
		return 0;
	if (!len) {
		/* only a field of absurd size does that: count it once per target */
		for (size_t i = 0; i < set->n; i++) {
			count(&set->v[i]->drops);
			warn_drop(set->v[i], EMSGSIZE);
		}
		return 0;
	}
	for (size_t i = 0; i < set->n; i++) {
		struct evlog_sink *s = set->v[i];

		if (len <= s->maxlen) {
			evlog_sink_write(s, r->buf, len);
		} else if (r->mark && r->mark + sizeof(trunc) - 1 <= s->maxlen) {
			/* the head, then the marker: written to a scratch copy so
			 * the full line stays for the other targets */
			char tmp[EVLOG_LINE_MAX];

			memcpy(tmp, r->buf, r->mark);
			memcpy(tmp + r->mark, trunc, sizeof(trunc) - 1);
			evlog_sink_write(s, tmp, r->mark + sizeof(trunc) - 1);
		} else {
			evlog_sink_write(s, r->buf, len); /* counts the drop */
			continue;
		}
		taken++;
	}
	return taken;
}
