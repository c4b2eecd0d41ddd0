/* events.c — `event-log` and `event-log-first-bytes` (events.h), and the
 * generation hooks that open, switch and close the event log targets.
 *
 * Why a global keyword and not `log <target> format json`: a `log` line's
 * `format` chooses the syslog header in HAProxy (rfc3164, rfc5424, raw...)
 * while the message is the frontend's log-format; events are not lines of
 * one frontend (probes and scan summaries belong to a segment), their
 * schema is fixed and versioned, and one of their targets is a file, which
 * HAProxy's `log` has no word for. So the event log is its own global
 * keyword whose words after the target are exactly a `log` line's, plus
 * the file@ target (doc/events.md).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "cfg/cfg.h"
#include "log/evlog.h"
#include "log/msg.h"
#include "model/conf.h"
#include "model/events.h"

struct events_conf {
	struct conf_ext ext;
	struct evlog_set set;
};

static void events_ext_free(struct dp_config *c, struct conf_ext *e)
{
	struct events_conf *ec = container_of(e, struct events_conf, ext);

	(void)c;
	evlog_set_free(&ec->set);
	free(ec);
}

static const struct conf_ext_ops events_ext_ops = { .name = "events", .free = events_ext_free };

static struct events_conf *conf_of(const struct dp_config *c)
{
	struct conf_ext *e = conf_ext_find(c, &events_ext_ops);

	return e ? container_of(e, struct events_conf, ext) : NULL;
}

static struct events_conf *conf_get(struct dp_config *c)
{
	struct events_conf *ec = conf_of(c);

	if (ec)
		return ec;
	ec = calloc(1, sizeof(*ec));
	if (!ec)
		return NULL;
	ec->ext.ops = &events_ext_ops;
	ec->set.first_bytes = EVLOG_FIRST_BYTES_DEFAULT;
	conf_ext_add(c, &ec->ext);
	return ec;
}

struct evlog_set *events_of(const struct dp_config *c)
{
	struct events_conf *ec = conf_of(c);

	return ec && ec->set.n ? &ec->set : NULL;
}

static int kw_event_log(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct events_conf *ec;
	struct evlog_sink *s = NULL;

	if (argc < 2) {
		memprintf(err, "expects a target: file@<path>, or a 'log' target (stdout, /dev/log, udp@<ip>:<port>, ...) and a facility");
		return CFG_ERR;
	}
	if (evlog_sink_parse(argc - 1, argv + 1, &s, err) < 0)
		return CFG_ERR;
	ec = conf_get(ctx->conf);
	if (!ec || evlog_set_add(&ec->set, s) < 0) {
		evlog_sink_free(s);
		memprintf(err, "out of memory");
		return CFG_ERR;
	}
	return CFG_OK;
}

static int kw_first_bytes(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct events_conf *ec;
	unsigned long long v;

	if (cfg_one_arg(argc, argv, err))
		return CFG_ERR;
	if (str_to_uint(argv[1], EVLOG_FIRST_BYTES_MAX, &v) < 0) {
		memprintf(err, "expects a number of bytes from 0 to %d, got '%s'", EVLOG_FIRST_BYTES_MAX, argv[1]);
		return CFG_ERR;
	}
	ec = conf_get(ctx->conf);
	if (!ec) {
		memprintf(err, "out of memory");
		return CFG_ERR;
	}
	ec->set.first_bytes = (unsigned)v;
	return CFG_OK;
}

static const struct cfg_kw events_kws[] = {
	{ "event-log", CFG_SEC_GLOBAL, kw_event_log, NULL },
	{ "event-log-first-bytes", CFG_SEC_GLOBAL, kw_first_bytes, NULL },
};

const struct cfg_kw_list events_kw_list = { events_kws, ARRAY_SIZE(events_kws) };

/* ---- generation hooks ------------------------------------------------------------ */

static void close_all(struct evlog_set *set)
{
	for (size_t i = 0; set && i < set->n; i++)
		evlog_sink_close(set->v[i]);
}

/* The open file target of set writing to path, or NULL. */
static struct evlog_sink *open_file_sink(struct evlog_set *set, const char *path)
{
	for (size_t i = 0; set && i < set->n; i++)
		if (set->v[i]->path && set->v[i]->fd >= 0 && !strcmp(set->v[i]->path, path))
			return set->v[i];
	return NULL;
}

int events_apply(struct dp_config *newc, struct dp_config *oldc, char **err)
{
	struct evlog_set *set = events_of(newc);
	struct evlog_sink *old;

	for (size_t i = 0; set && i < set->n; i++) {
		struct evlog_sink *s = set->v[i];

		if (evlog_sink_open(s, err) == 0)
			continue;
		/* A file the running generation writes already: after the
		 * privilege drop its directory may not let us create it anew.
		 * That must not refuse the whole reload: keep writing to the
		 * file opened before, and say so. */
		if (s->path && oldc && (old = open_file_sink(events_of(oldc), s->path)) &&
		    (s->fd = fcntl(old->fd, F_DUPFD_CLOEXEC, 0)) >= 0) {
			ha_warning("%s; still writing to the file opened before", *err);
			free(*err);
			*err = NULL;
			continue;
		}
		close_all(set);
		return -1;
	}
	return 0;
}

void events_undo(struct dp_config *newc, struct dp_config *oldc)
{
	(void)oldc;
	close_all(events_of(newc));
}

void events_commit(struct dp_config *newc, struct dp_config *oldc)
{
	evlog_set_active(events_of(newc));
	if (oldc)
		close_all(events_of(oldc));
}

void events_remove(struct dp_config *c)
{
	struct evlog_set *set = events_of(c);

	if (set && evlog_active() == set)
		evlog_set_active(NULL);
	close_all(set);
}
