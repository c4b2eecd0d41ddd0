/* mirror.h — a clean copy of every relayed stream for an IDS (Suricata,
 * Zeek, Snort): the attacker's original TCP conversation, rebuilt from the
 * bytes the session reads (lib/tcpsynth.h) on the attacker's real tuple —
 * the PROXY header's when the connection came with one — and written to
 * pcap files, one pcap file per connection, a tap device or a VXLAN sensor.
 *
 * Configuration (proxy sections, inherited from defaults; several lines fan
 * out): `mirror pcap|pcap-dir|tap|vxlan ...` and `mirror-depth <size>`.
 *
 * Parts: mirror.c (the session's copy), mirror_kw.c (keywords, the
 * generation's state, the module hooks), mirror_out.c (the outputs and their
 * writer threads); core/mirror_int.h is their private header.
 *
 * The session calls the hooks below; each costs one test of s->mirror when
 * the session is not mirrored. A mirrored session must hand every byte it
 * reads to mirror_sess_read(): a zero-copy relay (splice) must take the
 * copying path for it (mirror_sess_needs_copy()), or tee() into a pipe it
 * then reads for the mirror.
 */
#ifndef DECOYPROXY_MIRROR_H
#define DECOYPROXY_MIRROR_H

#include <stdint.h>
#include "lib/common.h"
#include "lib/term.h"

struct sess;
struct chan;
struct dp_config;
struct cfg_kw_list;

/* ---- session hooks (mirror.c) ---- */

/* The session's client side is ready (any PROXY header consumed): when its
 * frontend or backend has mirror lines, sets s->mirror and writes the
 * handshake on the tuple s->cli_addr -> s->fe_addr. Never fails the
 * session (out of memory: the session is not mirrored, counted). */
void mirror_sess_start(struct sess *s);
/* Channel c (s->req when from_client, else s->res) has just been read
 * into: its bytes past total_before are new, and eof says the source's end
 * was read. Copies them (within mirror-depth) and the FIN. */
void mirror_sess_read(struct sess *s, bool from_client, const struct chan *c, uint64_t total_before, bool eof);
/* The session ends because of ev: writes the end of the conversation (a RST
 * when the relay ended with one) and frees s->mirror. */
void mirror_sess_end(struct sess *s, enum term_event ev);
/* Whether the relay must copy s's bytes through user space (true for a
 * mirrored session): what a splice() path checks before splicing. */
bool mirror_sess_needs_copy(const struct sess *s);

/* ---- configuration and module hooks (mirror_kw.c) ---- */

extern const struct cfg_kw_list mirror_kw_list;
/* Pure checks once every file is read; returns the number of errors. */
int mirror_finalize(struct dp_config *c);
/* Opens (or shares with the running generation) every output of newc. */
int mirror_apply(struct dp_config *newc, struct dp_config *oldc, char **err);
void mirror_undo(struct dp_config *newc, struct dp_config *oldc);
/* Outputs newc shares with the generation before it reopen their files
 * (log rotation on SIGHUP/reload). */
void mirror_commit(struct dp_config *newc, struct dp_config *oldc);
/* The process stops: every pending packet is written out. */
void mirror_remove(struct dp_config *c);

/* ---- statistics (mirror_out.c) ---- */

struct mirror_stats {
	unsigned long long packets;   /* frames handed to outputs */
	unsigned long long bytes;
	unsigned long long drops;     /* frames an output could not take */
	unsigned long long sessions;  /* sessions mirrored */
	unsigned outputs;
};
void mirror_get_stats(struct mirror_stats *st);

#endif
