/* module.c — the module table (see module.h): the one place that names
 * every module owning keywords or per-generation state, in the order a
 * generation is put in service.
 *
 * Order, and why:
 *   global, tune,    keywords and sections only (their objects are the
 *   proxies          generation itself); proxies carry their counters; tune's
 *                    commit puts the data path's tuning (pipes, accept
 *                    batches) in service;
 *   unix sockets     `unix-bind`; finalize numbers the listeners and checks
 *                    unix socket servers, once the proxies are whole;
 *   rules            acl / tcp-request / use_backend / use-server keywords;
 *                    resolves the names they use once every file is read;
 *   stick-tables     `stick-table` keyword; resolves the tables rules and
 *                    fetches name; carries unchanged tables over a reload;
 *   source           refuses a spoofing configuration without the
 *                    privilege to spoof, before anything is changed;
 *   logs             opens log targets (first to open, last to close, so
 *                    every other module's messages reach them);
 *   events           opens the `event-log` targets (a file anew at each
 *                    reload, for logrotate); commit switches emitting to
 *                    them and closes the old generation's;
 *   netseg           namespaces and links, which listeners may bind in;
 *   mirror           the IDS copy's outputs (pcap files, taps in those
 *                    namespaces, VXLAN sockets), open before any session;
 *   listeners        sockets, taken over from the old generation;
 *   udp              udp-lb sections: their sockets (taken over too) and
 *                    flows (adopted by the new generation);
 *   decoy            (finalize only) what decoy addresses answer, for tproxy;
 *   tproxy           nft rules and routing that send traffic to them;
 *   probe            NFLOG sockets reading the probe rules' packets;
 *   icmpans          NFLOG and raw sockets answering ICMP for decoys
 *                    that are not local (port unreachable, echo reply);
 *   cli              stats sockets (listeners of the CLI's own bind lines);
 *   stats page       judges HTTP mode; its clients come through the
 *                    listeners of the statistics proxies;
 *   chroot           (finalize only) checks `chroot`; main enters it once
 *                    everything that needs the file system is open;
 *   checks           health checks of the generation in service.
 *   servers          (finalize only) `track`, minconn/maxconn, `tfo` on this
 *                    kernel, the default fullconn: once every backend and
 *                    use_backend rule is resolved (core/srvdyn.h).
 * Commit walks the table backwards, as a teardown of the old generation:
 * checks stop and start, stats sockets close, stale tproxy rules go, old
 * listeners close, stale segments go.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "cfg/cfg.h"
#include "log/log.h"
#include "log/msg.h"
#include "model/conf.h"
#include "model/events.h"
#include "model/proxy.h"
#include "model/udplb.h"
#include "model/unixsock.h"
#include "core/connect.h"
#include "core/chk.h"
#include "core/listener.h"
#include "core/loop.h"
#include "core/mirror.h"
#include "core/sess.h"
#include "core/thread.h"
#include "core/srvdyn.h"
#include "plumbing/decoy.h"
#include "core/tune.h"
#include "core/udp.h"
#include "plumbing/netseg.h"
#include "plumbing/icmpans.h"
#include "plumbing/probe.h"
#include "plumbing/tproxy.h"
#include "rules/protopat.h"
#include "rules/rules.h"
#include "rules/stktable.h"
#include "ctl/chroot.h"
#include "ctl/cpumap.h"
#include "ctl/cli.h"
#include "ctl/module.h"
#include "ctl/srvstate.h"
#include "ctl/stats_http.h"
#include "model/srvstate.h"

/* ---- small adapters ------------------------------------------------------ */

static int source_apply(struct dp_config *newc, struct dp_config *oldc, char **err)
{
	(void)oldc;
	return src_check_privileges(newc, err) < 0 ? -1 : 0;
}

static int logs_apply(struct dp_config *newc, struct dp_config *oldc, char **err)
{
	(void)oldc;
	for (size_t i = 0; i < newc->all_targets.n; i++)
		if (log_target_open(newc->all_targets.v[i], err) < 0)
			return -1;
	return 0;
}

static void logs_remove(struct dp_config *c)
{
	for (size_t i = 0; i < c->all_targets.n; i++)
		log_target_close(c->all_targets.v[i]);
}

struct reload_counts modules_last_counts;

static int listeners_apply(struct dp_config *newc, struct dp_config *oldc, char **err)
{
	modules_last_counts.kept = modules_last_counts.opened = modules_last_counts.closed = 0;
	return listeners_open(newc, oldc, &modules_last_counts.kept, &modules_last_counts.opened, err);
}

static void listeners_undo_hook(struct dp_config *newc, struct dp_config *oldc)
{
	(void)oldc;
	listeners_undo(newc);
}

static void listeners_commit_hook(struct dp_config *newc, struct dp_config *oldc)
{
	if (oldc)
		modules_last_counts.closed = listeners_close(oldc);
	listeners_commit(newc);
}

static void listeners_remove(struct dp_config *c)
{
	listeners_close(c);
}

static void tproxy_commit(struct dp_config *newc, struct dp_config *oldc)
{
	if (oldc)
		tproxy_remove_stale(oldc, newc);
}

static int probes_apply(struct dp_config *newc, struct dp_config *oldc, char **err)
{
	return probe_apply(newc, oldc, rt.loop, err);
}

static int icmpans_apply_hook(struct dp_config *newc, struct dp_config *oldc, char **err)
{
	return icmpans_apply(newc, oldc, rt.loop, err);
}

/* probe state is T0's: a worker's accept is noted there (the generation
 * held until then) */
struct probe_accept_job {
	struct thread_job j;
	struct proxy *fe;
	const char *ns;
	struct sockaddr_storage peer, local;
};

static void probe_accept_posted(struct thread_job *tj)
{
	struct probe_accept_job *j = container_of(tj, struct probe_accept_job, j);
	struct dp_config *c = j->fe->conf;

	probe_note_accept(j->fe, j->ns, &j->peer, &j->local);
	free(j);
	sess_conf_put(c);
}

/* The accept callback of every frontend: a frontend that logs probes
 * tells the probe module (plumbing) which connection became real; then
 * the session (core). ctl is the one layer that sees both. */
static void accept_glue(struct listener *l, int fd, const struct sockaddr_storage *peer)
{
	static _Thread_local double nomem_warn; /* per thread: ha_ratelimit */
	struct proxy *fe = l->bc ? l->bc->fe : NULL;

	if (fe && (fe->options & PR_O_LOGPROBES) && fe->tproxy) {
		struct sockaddr_storage local;
		socklen_t len = sizeof(local);
		struct probe_accept_job *j;

		if (getsockname(fd, (struct sockaddr *)&local, &len) < 0)
			;
		else if (tid == 0)
			probe_note_accept(fe, l->bc->netns, peer, &local);
		else if ((j = malloc(sizeof(*j)))) {
			/* one allocation, the job inside: posting cannot fail */
			*j = (struct probe_accept_job){ .j.fn = probe_accept_posted, .fe = fe, .ns = l->bc->netns,
							.peer = *peer, .local = local };
			fe->conf->refcnt++;
			thread_post_job(0, &j->j);
		} else if (ha_ratelimit(&nomem_warn, 60.0))
			/* the probe module then sees this SYN as not answered
			 * by a connection: said, not silent */
			ha_warning("frontend '%s': out of memory: an accepted connection is missing from the probe events "
				   "(this warning at most once a minute)", fe->name);
	}
	sess_accept(l, fd, peer);
}

static void checks_commit(struct dp_config *newc, struct dp_config *oldc)
{
	if (oldc)
		chk_stop(oldc);
	/* load-server-state-from-file: before the first checks */
	srvstate_load(newc);
	if (chk_start(newc) < 0)
		ha_alert("out of memory starting health checks");
}

/* ---- the table -------------------------------------------------------------- */

static const struct dp_module mod_global = {
	.name = "global", .kws = &global_kw_list,
};
static const struct dp_module mod_proxies = {
	.name = "proxies", .kws = &proxy_kw_list, .sections = proxy_sections,
	.finalize = dp_config_finalize, .carry = dp_config_carry_over,
};
/* `unix-bind`; listener ids and unix socket servers, once proxies are whole */
static const struct dp_module mod_unixsock = {
	.name = "unix sockets", .kws = &unixsock_kw_list, .finalize = unixsock_finalize,
};
static const struct dp_module mod_rules = {
	.name = "rules", .kws = &rules_kw_list, .finalize = rules_finalize,
};
/* `proto-patterns` (global): req.proto's regexes, read at each load */
static const struct dp_module mod_protopat = {
	.name = "proto patterns", .kws = &protopat_kw_list,
};
static const struct dp_module mod_stktable = {
	.name = "stick-tables", .kws = &stktable_kw_list, .finalize = stktable_finalize, .carry = stktable_carry,
};
static const struct dp_module mod_source = {
	.name = "source", .apply = source_apply,
};
static const struct dp_module mod_logs = {
	.name = "logs", .apply = logs_apply, .remove = logs_remove,
};
static const struct dp_module mod_events = {
	.name = "events", .kws = &events_kw_list, .apply = events_apply, .undo = events_undo,
	.commit = events_commit, .remove = events_remove,
};

static const struct dp_module mod_mirror = {
	.name = "mirror", .kws = &mirror_kw_list, .finalize = mirror_finalize, .apply = mirror_apply,
	.undo = mirror_undo, .commit = mirror_commit, .remove = mirror_remove,
};

static const struct dp_module mod_netseg = {
	.name = "netseg", .kws = &netseg_kw_list, .sections = netseg_sections,
	.finalize = netseg_finalize, .apply = netseg_apply, .undo = netseg_undo,
	.commit = netseg_commit, .remove = netseg_remove, .cleanup = netseg_cleanup,
};
static const struct dp_module mod_listeners = {
	.name = "listeners", .apply = listeners_apply, .undo = listeners_undo_hook,
	.commit = listeners_commit_hook, .remove = listeners_remove,
};
static const struct dp_module mod_udp = {
	.name = "udp", .kws = &udplb_kw_list, .sections = udplb_sections,
	.finalize = udplb_finalize, .apply = udp_apply, .undo = udp_undo,
	.commit = udp_commit, .remove = udp_remove, .carry = udplb_carry,
};
/* before tproxy: its finalize asks for each divert's decoy rules */
static const struct dp_module mod_decoy = {
	.name = "decoy", .kws = &decoy_kw_list, .finalize = decoy_finalize,
};
static const struct dp_module mod_tproxy = {
	.name = "tproxy", .kws = &tproxy_kw_list,
	.finalize = tproxy_finalize, .apply = tproxy_apply, .undo = tproxy_undo,
	.commit = tproxy_commit, .remove = tproxy_remove, .cleanup = tproxy_cleanup,
};
static const struct dp_module mod_probe = {
	.name = "probe", .apply = probes_apply, .undo = probe_undo, .commit = probe_commit,
	.remove = probe_remove,
};
static const struct dp_module mod_icmpans = {
	.name = "icmpans", .apply = icmpans_apply_hook, .undo = icmpans_undo, .commit = icmpans_commit,
	.remove = icmpans_remove,
};
static const struct dp_module mod_cli = {
	.name = "cli", .kws = &cli_kw_list, .apply = cli_open, .undo = cli_undo,
	.commit = cli_commit, .remove = cli_close,
};
/* After the proxies (their mode and binds) and tproxy (intercepted decoys). */
static const struct dp_module mod_stats_http = {
	.name = "stats page", .kws = &stats_http_kw_list, .finalize = stats_http_finalize,
	.remove = stats_http_remove,
};
/* `chroot`: entered by main at start (ctl/chroot.h); finalize only. */
static const struct dp_module mod_chroot = {
	.name = "chroot", .kws = &chroot_kw_list, .finalize = chroot_finalize,
};
/* the rules of every backend's health checks */
static int checks_finalize(struct dp_config *c)
{
	int errors = 0;

	for (struct proxy *px = c->proxies; px; px = px->next)
		errors += proxy_chk_finalize(px);
	return errors;
}
static const struct dp_module mod_checks = {
	.name = "checks", .kws = &proxy_chk_kw_list, .finalize = checks_finalize, .commit = checks_commit,
	.remove = chk_stop,
};

static const struct dp_module mod_servers = {
	.name = "servers", .finalize = srvdyn_finalize,
};

static const struct dp_module mod_srvstate = {
	.name = "server-state", .kws = &srvstate_kw_list, .finalize = srvstate_finalize,
};

static const struct dp_module mod_tune = {
	.name = "tune", .kws = &tune_kw_list, .commit = tune_commit,
};

/* `cpu-map`: binds the running threads first, so that nothing started by a
 * later module (helper threads inherit the binding) runs elsewhere */
static const struct dp_module mod_cpumap = {
	.name = "cpu-map", .kws = &cpumap_kw_list, .finalize = cpumap_finalize, .apply = cpumap_apply,
	.undo = cpumap_undo,
};

static const struct dp_module *const table[] = {
	&mod_global, &mod_cpumap, &mod_tune, &mod_proxies, &mod_unixsock, &mod_rules, &mod_protopat, &mod_stktable,
	&mod_source, &mod_logs, &mod_events,
	&mod_netseg, &mod_mirror, &mod_listeners, &mod_udp, &mod_decoy, &mod_tproxy, &mod_probe,
	&mod_icmpans,
	&mod_cli, &mod_stats_http, &mod_chroot, &mod_checks, &mod_servers, &mod_srvstate,
};

const struct dp_module *const *modules_table(size_t *n)
{
	*n = ARRAY_SIZE(table);
	return table;
}

int modules_init(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(table); i++) {
		const struct dp_module *m = table[i];
		int r;

		if (m->kws && (r = cfg_register_kws(m->kws)) < 0)
			return r;
		for (const struct cfg_section *s = m->sections; s && s->name; s++)
			if ((r = cfg_register_section(s)) < 0)
				return r;
	}
	rules_init();
	stktable_init();
	listener_set_default_accept(accept_glue);
	return listener_register_owner(&cli_bind_owner);
}

int modules_finalize(struct dp_config *c)
{
	struct dp_config *prev = cfg_cur_conf;
	int errors = 0;

	cfg_cur_conf = c; /* formats compiled now may load maps into c */
	for (size_t i = 0; i < ARRAY_SIZE(table); i++)
		if (table[i]->finalize)
			errors += table[i]->finalize(c);
	cfg_cur_conf = prev;
	return errors;
}

int modules_apply(struct dp_config *newc, struct dp_config *oldc, char **err)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(table); i++)
		if (table[i]->apply && table[i]->apply(newc, oldc, err) < 0)
			break;
	if (i == ARRAY_SIZE(table))
		return 0;
	while (i-- > 0)
		if (table[i]->undo)
			table[i]->undo(newc, oldc);
	return -1;
}

void modules_commit(struct dp_config *newc, struct dp_config *oldc)
{
	if (oldc)
		for (size_t i = 0; i < ARRAY_SIZE(table); i++)
			if (table[i]->carry)
				table[i]->carry(newc, oldc);
	for (size_t i = ARRAY_SIZE(table); i-- > 0;)
		if (table[i]->commit)
			table[i]->commit(newc, oldc);
}

void modules_remove(struct dp_config *c)
{
	for (size_t i = ARRAY_SIZE(table); i-- > 0;)
		if (table[i]->remove)
			table[i]->remove(c);
}

int modules_cleanup(struct dp_config *c)
{
	unsigned removed = 0;
	int failed = 0;

	for (size_t i = ARRAY_SIZE(table); i-- > 0;)
		if (table[i]->cleanup)
			failed += table[i]->cleanup(c, &removed);
	if (failed)
		ha_alert("cleanup: %u object(s) removed, %d could not be: see the warnings", removed, failed);
	else
		ha_notice("cleanup: %u object(s) left by an earlier run removed", removed);
	return failed ? -1 : 0;
}
