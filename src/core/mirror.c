/* mirror.c — the session's copy for the IDS (see mirror.h): the tuple, the
 * depth per direction, and the synthesised TCP flow fanned out to the
 * session's outputs.
 *
 * Bytes are copied when the session reads them, not when it writes them:
 * what the attacker sent that was never relayed (the decoy closed first, a
 * rule refused the connection, no server answered) is in the copy too.
 * Ends are written in the order they are read: the FIN of a side once its
 * EOF was read (after its last bytes), and at the session's end a RST from
 * the side that reset, or our FIN toward the attacker when the relay closed
 * the connection without one.
 */
#include "config.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/channel.h"
#include "core/mirror.h"
#include "core/mirror_int.h"
#include "lib/udpsynth.h"
#include "model/udplb.h"
#include "model/proxy.h"

unsigned long long mirror_sessions, mirror_nomem;

static bool px_has(const struct mirror_px *p, const struct mirror_out *o)
{
	for (size_t i = 0; p && i < p->n; i++)
		if (p->t[i]->out == o)
			return true;
	return false;
}

/* Fans one frame out to every output of the session, each once (the
 * frontend's and the backend's lines may name the same output). */
void mirror_emit(void *ctx, const uint8_t *hdr, size_t hlen, const uint8_t *payload, size_t plen)
{
	struct mirror_sess *ms = ctx;
	unsigned d = 0;

	for (int k = 0; k < 2; k++) {
		const struct mirror_px *p = ms->px[k];

		for (size_t i = 0; p && i < p->n; i++) {
			struct mirror_out *o = p->t[i]->out;
			struct mirror_dirfile *df = NULL;

			if (!o || (k == 1 && px_has(ms->px[0], o)))
				continue;
			if (k == 0) {
				/* an output named twice in one list gets one copy */
				bool dup = false;

				for (size_t j = 0; j < i; j++)
					dup |= p->t[j]->out == o;
				if (dup)
					continue;
			}
			if (mirror_out_kind(o) == MK_PCAP_DIR) {
				for (d = 0; d < ms->ndirs && ms->dirs[d].out != o; d++)
					;
				if (d == ms->ndirs)
					continue;
				df = &ms->dirs[d];
			}
			mirror_out_frame(o, ms, df, hdr, hlen, payload, plen);
		}
	}
}

void mirror_sess_lost(struct mirror_sess *ms, unsigned long long frames)
{
	for (int k = 0; k < 2; k++) {
		const struct mirror_px *p = ms->px[k];

		for (size_t i = 0; p && i < p->n; i++) {
			struct mirror_out *o = p->t[i]->out;
			bool dup = !o || (k == 1 && px_has(ms->px[0], o));

			for (size_t j = 0; j < i && !dup; j++)
				dup = p->t[j]->out == o;
			if (!dup)
				mirror_out_lost(o, frames);
		}
	}
}

bool mirror_first_batch(struct mirror_sess *ms, struct mirror_out **out, struct mirror_dirfile **df)
{
	for (int k = 0; k < 2; k++) {
		const struct mirror_px *p = ms->px[k];

		for (size_t i = 0; p && i < p->n; i++) {
			struct mirror_out *o = p->t[i]->out;

			if (!o)
				continue;
			if (mirror_out_kind(o) == MK_PCAP) {
				*out = o;
				*df = NULL;
				return true;
			}
			if (mirror_out_kind(o) == MK_PCAP_DIR) {
				for (unsigned d = 0; d < ms->ndirs; d++)
					if (ms->dirs[d].out == o) {
						*out = o;
						*df = &ms->dirs[d];
						return true;
					}
			}
		}
	}
	return false;
}

/* Room for the next frame in the first output of the session that copies
 * frames into a batch (pcap, pcap-dir): the frame is built there, and
 * mirror_emit() hands the same bytes to the other outputs. */
uint8_t *mirror_place(void *ctx, size_t flen)
{
	struct mirror_sess *ms = ctx;
	struct mirror_out *o;
	struct mirror_dirfile *df;

	return mirror_first_batch(ms, &o, &df) ? mirror_out_place(o, df, flen) : NULL;
}

/* Before a hook returns: what outputs staged goes out (the frames of one
 * read leave in one sendmmsg()). */
void mirror_push(struct mirror_sess *ms)
{
	for (int k = 0; k < 2; k++)
		for (size_t i = 0; ms->px[k] && i < ms->px[k]->n; i++)
			if (ms->px[k]->t[i]->out && (mirror_out_kind(ms->px[k]->t[i]->out) == MK_VXLAN ||
						     mirror_out_kind(ms->px[k]->t[i]->out) == MK_TAP))
				mirror_out_push(ms->px[k]->t[i]->out);
}

void mirror_stamp(struct mirror_sess *ms)
{
	clock_gettime(CLOCK_REALTIME, &ms->now);
}

static bool tuple_of(const struct sockaddr_storage *ss, const void **a, uint16_t *port)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

		*a = &s4->sin_addr;
		*port = ntohs(s4->sin_port);
		return true;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		*a = &s6->sin6_addr;
		*port = ntohs(s6->sin6_port);
		return true;
	}
	return false;
}

static bool has_outputs(const struct mirror_px *p)
{
	for (size_t i = 0; p && i < p->n; i++)
		if (p->t[i]->out)
			return true;
	return false;
}

static void free_ms(struct mirror_sess *ms)
{
	for (unsigned i = 0; i < ms->ndirs; i++)
		mirror_out_dir_flush(&ms->dirs[i], true);
	free(ms->dirs);
	free(ms);
}

/* A copy writing to the outputs of lists fe and be (either may be NULL)
 * for the flow cli -> dst, its pcap-dir files named with id; nothing
 * written yet. NULL when there is nothing to write or no memory (counted). */
static struct mirror_sess *sess_new(const struct mirror_px *fe, const struct mirror_px *be,
				    const struct sockaddr_storage *cli, const struct sockaddr_storage *dst,
				    unsigned long long id)
{
	struct mirror_sess *ms;
	const void *ca, *sa;
	uint16_t cp, sp;
	unsigned long long depth = MIRROR_DEPTH_DEFAULT;
	unsigned ndirs = 0;

	if (!has_outputs(fe) && !has_outputs(be))
		return NULL;
	/* a LOCAL PROXY header or a unix socket: no TCP tuple to show */
	if (cli->ss_family != dst->ss_family || !tuple_of(cli, &ca, &cp) || !tuple_of(dst, &sa, &sp))
		return NULL;
	ms = calloc(1, sizeof(*ms));
	if (!ms) {
		RARE_INC(mirror_nomem);
		return NULL;
	}
	ms->px[0] = fe;
	ms->px[1] = be;
	if (fe && fe->depth_set)
		depth = fe->depth;
	else if (be && be->depth_set)
		depth = be->depth;
	ms->left[TS_CLI] = ms->left[TS_SRV] = depth;
	mirror_stamp(ms);
	ts_flow_init(&ms->flow, cli->ss_family, ca, cp, sa, sp, id ^ ((uint64_t)ms->now.tv_nsec << 32));
	ms->flow.place = mirror_place;
	for (int k = 0; k < 2; k++)
		for (size_t i = 0; ms->px[k] && i < ms->px[k]->n; i++)
			if (ms->px[k]->t[i]->out && mirror_out_kind(ms->px[k]->t[i]->out) == MK_PCAP_DIR)
				ndirs++;
	if (ndirs) {
		ms->dirs = calloc(ndirs, sizeof(*ms->dirs));
		if (!ms->dirs) {
			free(ms);
			RARE_INC(mirror_nomem);
			return NULL;
		}
		for (int k = 0; k < 2; k++)
			for (size_t i = 0; ms->px[k] && i < ms->px[k]->n; i++) {
				struct mirror_out *o = ms->px[k]->t[i]->out;
				bool seen = false;

				if (!o || mirror_out_kind(o) != MK_PCAP_DIR)
					continue;
				for (unsigned j = 0; j < ms->ndirs; j++)
					seen |= ms->dirs[j].out == o;
				if (seen)
					continue;
				ms->dirs[ms->ndirs].out = o;
				ms->dirs[ms->ndirs].path = mirror_out_dir_path(o, ms, id);
				if (!ms->dirs[ms->ndirs].path) {
					RARE_INC(mirror_nomem);
					free_ms(ms);
					return NULL;
				}
				mirror_out_dir_attach(&ms->dirs[ms->ndirs]);
				ms->ndirs++;
			}
	}
	RARE_INC(mirror_sessions);
	mirror_out_thread_arm(); /* this thread's batches reach the disk in time */
	return ms;
}

struct mirror_sess *mirror_sess_start(const struct proxy *fep, const struct proxy *bep,
				      const struct sockaddr_storage *cli, const struct sockaddr_storage *dst,
				      unsigned long long id)
{
	struct mirror_sess *ms = sess_new(fep->mirror, bep && bep != fep ? bep->mirror : NULL, cli, dst, id);

	if (!ms)
		return NULL;
	ts_handshake(&ms->flow, mirror_emit, ms);
	mirror_push(ms);
	return ms;
}

void mirror_sess_read(struct mirror_sess *ms, bool from_client, const struct chan *c, uint64_t total_before,
		      bool eof)
{
	int dir = from_client ? TS_CLI : TS_SRV;
	uint64_t n = c->total - total_before;

	if (!ms)
		return;
	if (!n && !eof)
		return;
	mirror_stamp(ms);
	/* (bytes spliced past the depth are not in the buffer: never read) */
	if (n && ms->left[dir] && n <= c->len) {
		/* the new bytes are the last n of the pending ones (nothing was
		 * sent out of the channel since they were read) */
		const uint8_t *p = (const uint8_t *)c->buf + c->off + c->len - n;
		size_t take = n < ms->left[dir] ? (size_t)n : (size_t)ms->left[dir];

		ts_data(&ms->flow, dir, p, take, mirror_emit, ms);
		ms->left[dir] -= take;
	}
	if (eof)
		ts_fin(&ms->flow, dir, mirror_emit, ms);
	mirror_push(ms);
}

void mirror_sess_end(struct mirror_sess *ms, enum term_event ev, bool nolinger_cl)
{
	if (!ms)
		return;
	mirror_stamp(ms);
	switch (ev) {
	case TERM_EV_CLI_ABORT:
		/* the attacker's side failed: its reset (or it vanished) */
		ts_rst(&ms->flow, TS_CLI, mirror_emit, ms);
		break;
	case TERM_EV_DONE:
		break;
	default:
		/* we close the attacker's connection: a reset when the frontend
		 * says nolinger or the decoy reset, else our FIN */
		if (nolinger_cl || ev == TERM_EV_SRV_ABORT)
			ts_rst(&ms->flow, TS_SRV, mirror_emit, ms);
		else
			ts_fin(&ms->flow, TS_SRV, mirror_emit, ms);
		break;
	}
	mirror_push(ms);
	free_ms(ms);
}

bool mirror_sess_needs_copy(const struct mirror_sess *ms)
{
	return ms != NULL;
}

bool mirror_sess_wants(const struct mirror_sess *ms, bool from_client)
{
	int dir = from_client ? TS_CLI : TS_SRV;

	return ms && ms->flow.open && !ms->flow.fin[dir] && ms->left[dir] > 0;
}

/* ---- UDP flows (core/udp.c) ---- */

struct mirror_sess *mirror_udp_start(const struct udp_lb *lb, const struct sockaddr_storage *cli,
				     const struct sockaddr_storage *dst, unsigned long long id)
{
	return lb ? sess_new(lb->mirror, NULL, cli, dst, id) : NULL;
}

void mirror_udp_dgram(struct mirror_sess *ms, bool from_client, const void *p, size_t len)
{
	int dir = from_client ? TS_CLI : TS_SRV;
	uint8_t hdr[US_HDR_MAX];
	size_t hlen;

	/* whole datagrams only: the first one that does not fit in what is
	 * left of mirror-depth ends the copy of that direction */
	if (!ms || !ms->left[dir])
		return;
	if (len > ms->left[dir] || !(hlen = us_frame(&ms->flow, dir, hdr, p, len))) {
		ms->left[dir] = 0;
		return;
	}
	ms->left[dir] -= len;
	mirror_stamp(ms);
	mirror_emit(ms, hdr, hlen, p, len);
	mirror_push(ms);
}

struct mirror_sess *mirror_udp_move(struct mirror_sess *ms, const struct udp_lb *lb,
				    const struct sockaddr_storage *cli, const struct sockaddr_storage *dst,
				    unsigned long long id)
{
	if (!ms)
		return mirror_udp_start(lb, cli, dst, id);
	if (!has_outputs(lb->mirror)) {
		free_ms(ms);
		return NULL;
	}
	/* the new lines (whose outputs the old ones share when they name
	 * the same file, tap or sensor) from now on; mirror-depth keeps
	 * what is left */
	ms->px[0] = lb->mirror;
	for (unsigned d = 0; d < ms->ndirs; d++)
		if (ms->dirs[d].out && !px_has(lb->mirror, ms->dirs[d].out)) {
			/* that pcap-dir output left: the flow's file ends
			 * (the output may go with the old generation) */
			mirror_out_dir_flush(&ms->dirs[d], true);
			ms->dirs[d].out = NULL;
		}
	return ms;
}

void mirror_udp_end(struct mirror_sess *ms)
{
	if (ms)
		free_ms(ms);
}
