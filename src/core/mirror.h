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
 * The session calls the hooks below (they take what they need, not the
 * session: core/sess includes this module, not the other way round); each
 * costs one test of s->mirror when the session is not mirrored. A mirrored
 * session must hand every byte it reads to mirror_sess_read() or, on the
 * splice path, to mirror_sess_tee(): a splicing direction tee()s the
 * bytes the copy wants (within mirror-depth) into it, and splices the
 * bytes past mirror-depth plainly (doc/ids-feeding.md, *With splice*).
 */
#ifndef DECOYPROXY_MIRROR_H
#define DECOYPROXY_MIRROR_H

#include <stddef.h>
#include <stdint.h>
#include "lib/common.h"
#include "lib/term.h"

struct sockaddr_storage;
struct chan;
struct proxy;
struct dp_config;
struct cfg_kw_list;
struct mirror_sess;

/* ---- session hooks (mirror.c) ---- */

/* A session's client side is ready (any PROXY header consumed): when its
 * frontend fe or its backend be (NULL: none yet) has mirror lines, returns
 * the session's copy, the handshake written on the tuple cli -> dst (the
 * attacker and the decoy it reached); else NULL. id (the session's) names
 * the per-connection files and seeds the sequence numbers. NULL too when
 * memory is short (counted): the session is then not mirrored. */
struct mirror_sess *mirror_sess_start(const struct proxy *fe, const struct proxy *be,
				      const struct sockaddr_storage *cli, const struct sockaddr_storage *dst,
				      unsigned long long id);
/* Channel c (the request channel when from_client, else the response one)
 * has just been read into: its bytes past total_before are new, and eof
 * says the source's end was read. Copies them (within mirror-depth) and
 * the FIN. */
void mirror_sess_read(struct mirror_sess *ms, bool from_client, const struct chan *c, uint64_t total_before,
		      bool eof);
/* The session ends because of ev (nolinger_cl: its frontend closes the
 * client side with a reset): writes the end of the conversation and frees
 * ms. */
void mirror_sess_end(struct mirror_sess *ms, enum term_event ev, bool nolinger_cl);
/* Whether the relay must copy a session's bytes through user space: true
 * for a mirrored one (ms = its s->mirror) as long as it lives. */
bool mirror_sess_needs_copy(const struct mirror_sess *ms);
/* Whether the copy still wants the bytes of one direction (from_client:
 * the request's): the flow is open, that side did not close, and
 * mirror-depth is not used up. While true, the relay hands that
 * direction's bytes to the copy (read into user space, or tee()d on the
 * splice path); once false it splices them plainly (the bytes are past
 * the depth: mirror_sess_read() then copies nothing, and still writes
 * the FIN). */
bool mirror_sess_wants(const struct mirror_sess *ms, bool from_client);

/* ---- the tee path (mirror_tee.c; core/sess gives them to a splicing
 * channel as its struct chan_tee_ops, core/channel.h) ---- */

/* Bytes of one direction the copy still wants (what mirror-depth leaves
 * while mirror_sess_wants()); 0: none. */
uint64_t mirror_sess_tee_want(const struct mirror_sess *ms, bool from_client);
/* n bytes of that direction, just read from the socket, wait in pipe fd:
 * reads them straight into the frames of the session's first pcap batch
 * (one readv() per run of segments, the payload summed where it lands),
 * or through a buffer when the session has no pcap output. Returns the
 * bytes read (n but on a failed read). */
size_t mirror_sess_tee(struct mirror_sess *ms, bool from_client, int fd, size_t n);
/* n bytes of that direction were relayed unseen (tee() failed): the copy
 * leaves a hole of that size (its sequence numbers go on after it), the
 * frames it would have held are counted as drops. */
void mirror_sess_tee_lost(struct mirror_sess *ms, bool from_client, size_t n);

/* ---- UDP flows (mirror.c; core/udp.c calls them) ---- */

struct udp_lb;
/* A UDP flow of section lb (its `mirror` lines) from the attacker cli to
 * the decoy address dst it addressed starts: its copy, or NULL (no mirror
 * line, no memory: counted). id names its pcap-dir files. Nothing is
 * written until a datagram is. */
struct mirror_sess *mirror_udp_start(const struct udp_lb *lb, const struct sockaddr_storage *cli,
				     const struct sockaddr_storage *dst, unsigned long long id);
/* One datagram of the flow, its payload p[0..len) as relayed (never a
 * PROXY header), from the attacker (from_client) or to it: one UDP packet
 * on the flow's tuple, stamped now, while mirror-depth lasts (whole
 * datagrams: the first that does not fit ends that direction's copy). */
void mirror_udp_dgram(struct mirror_sess *ms, bool from_client, const void *p, size_t len);
/* A reload kept the flow, now of lb (the new generation's section): its
 * copy ms (NULL: none yet) follows lb's lines from now on; its pcap-dir
 * files go on in the outputs lb still names, end in the others, and
 * pcap-dir outputs lb adds get the flows that start after the reload.
 * Returns the flow's copy (NULL: lb has none). */
struct mirror_sess *mirror_udp_move(struct mirror_sess *ms, const struct udp_lb *lb,
				    const struct sockaddr_storage *cli, const struct sockaddr_storage *dst,
				    unsigned long long id);
/* The flow ends: frees ms, its pcap-dir files handed to the writer. */
void mirror_udp_end(struct mirror_sess *ms);

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
	unsigned long long tee_bytes; /* payload bytes read through tee() (zero-copy relay) */
	unsigned long long tee_failures; /* tee() failures (the channel copied from then on) */
	unsigned outputs;
};
void mirror_get_stats(struct mirror_stats *st);
/* Calls cb for every output open: its name ("mirror pcap '/x.pcap'") and
 * counters (frames written, their bytes, frames dropped). */
void mirror_foreach_output(void (*cb)(void *arg, const char *name, unsigned long long packets,
				      unsigned long long bytes, unsigned long long drops),
			   void *arg);

#endif
