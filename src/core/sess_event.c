/* sess_event.c — the session's part of the JSON event log (log/evlog.h):
 * the first bytes a client sent, kept bounded while it runs, and its
 * "connection" event when it ends (schema: doc/events.md). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "log/evlog.h"
#include "model/proxy.h"
#include "model/server.h"
#include "model/source.h"
#include "core/sess.h"
#include "core/sess_int.h"
#include "rules/sample.h"

void sess_keep_first(struct sess *s, uint64_t before)
{
	const struct chan *c = &s->req;
	uint64_t got = c->total - before;
	size_t take;

	if (before == 0 && !s->first) {
		/* decided once, on the first bytes: a reload meanwhile does
		 * not resize what a session keeps */
		s->first_cap = evlog_first_bytes();
		if (!s->first_cap || !(s->first = malloc(s->first_cap))) {
			s->first_cap = 0;
			return;
		}
	}
	if (s->first_len >= s->first_cap || got > c->len)
		return;
	take = s->first_cap - s->first_len;
	if (take > got)
		take = (size_t)got;
	/* what this read added is the tail of the pending bytes */
	memcpy(s->first + s->first_len, c->buf + c->off + c->len - got, take);
	s->first_len += (unsigned)take;
}

void sess_event(struct sess *s)
{
	struct proxy *fe = s->fe;
	struct evlog_rec r;
	struct timeval end;
	struct sockaddr_storage a;

	if (!evlog_enabled() || s->rl.refused_quiet)
		goto out;
	gettimeofday(&end, NULL);
	evlog_begin(&r, "connection");
	evlog_time(&r, "start", &s->accept_tv);
	evlog_uint(&r, "session", s->id);
	sess_addr_get(&s->cli_addr, &a);
	evlog_addr(&r, "attacker", &a);
	sess_addr_get(&s->fe_addr, &a);
	evlog_addr(&r, "decoy", &a);
	evlog_str(&r, "segment", s->netns);
	evlog_str(&r, "frontend", fe->name);
	evlog_str(&r, "backend", s->be ? s->be->name : NULL);
	if (s->srv) {
		/* as sess_connect: the server's own `source`, else its backend's */
		const struct src_conf *sc = s->srv->source.set || !s->be ? &s->srv->source : &s->be->source;
		struct sockaddr_storage bs;

		sess_bsrc(s, &bs);
		evlog_str(&r, "server", s->srv->name);
		sess_addr_get(&s->srv_addr, &a);
		evlog_addr(&r, "server", &a);
		evlog_addr(&r, "source", &bs);
		evlog_bool(&r, "spoofed", sc->set && sc->usesrc != SRC_USESRC_NONE);
		if (s->tc >= 0 && (s->srv->flags & (SRV_F_SEND_PROXY | SRV_F_SEND_PROXY_V2)))
			evlog_uint(&r, "proxy_protocol", (s->srv->flags & SRV_F_SEND_PROXY) ? 1 : 2);
	}
	evlog_uint(&r, "bytes_from_attacker", s->req.total);
	evlog_uint(&r, "bytes_to_attacker", s->res.total);
	if (s->tw >= 0)
		evlog_int(&r, "queue_ms", s->tw);
	if (s->tc >= 0)
		evlog_int(&r, "connect_ms", s->tc);
	evlog_int(&r, "duration_ms", sess_ms_since(s->t_accept));
	evlog_strn(&r, "termination", s->term, strnlen(s->term, 2));
	if (s->unique_id)
		evlog_strn(&r, "unique_id", s->unique_id, s->unique_id_len);
	if (s->rl.refused) {
		evlog_str(&r, "refused", s->rl.refused == 1 ? "reject" : "silent-drop");
		evlog_uint(&r, "refused_unlogged", s->rl.refused_skipped);
	}
	if (s->rl.facts) {
		/* noted at the end of inspection (sess_rules.c) */
		const struct smp_first_facts *f = s->rl.facts;

		evlog_str(&r, "protocol", f->proto);
		if (f->sni_len)
			evlog_strn(&r, "tls_sni", f->sni, f->sni_len);
		evlog_str(&r, "tls_ja3", f->ja3[0] ? f->ja3 : NULL);
		evlog_str(&r, "tls_ja4", f->ja4[0] ? f->ja4 : NULL);
	}
	/* a syslog target too short for the whole line gets it without these */
	evlog_mark_optional(&r);
	if (s->first_len)
		evlog_hex(&r, "first_bytes", s->first, s->first_len);
	evlog_emit(&r);
out:
	free(s->first);
	s->first = NULL;
	s->first_len = s->first_cap = 0;
}
