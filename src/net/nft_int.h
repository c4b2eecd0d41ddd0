/* nft_int.h — private to the nft module: what its three parts share.
 *
 *   nft.c       batch buffer, message framing, object builders
 *   nft_plan.c  plans: what a batch must contain (apply, delta, remove)
 *   nft_io.c    answers (the kernel's ACKs and errors), sending, one-call forms
 *
 * Only net/nft*.c include this; everyone else uses nft.h.
 */
#ifndef DECOYPROXY_NFT_INT_H
#define DECOYPROXY_NFT_INT_H

#include "net/nft.h"

/* A batch goes to the kernel in one send, through a socket buffer whose
 * size is an int: 1 GiB (some 25 million elements) is far beyond use. */
#define BATCH_MAX (1u << 30)

/* ---- nft.c: framing and object builders ----
 *
 * Each builder appends its message(s) to b, recording in b->msg what each
 * one is (for error messages), and returns 0 or -ENOMEM (element messages
 * also -E2BIG once the batch passes BATCH_MAX). Names and lists are
 * borrowed from the plan, which must outlive b. */

/* Empties b (keeping its buffers) for a batch whose first sequence number
 * is seq. */
void nft_batch_reset(struct nft_batch *b, uint32_t seq);
/* A message without payload: NFNL_MSG_BATCH_BEGIN or NFNL_MSG_BATCH_END. */
int nft_add_bare(struct nft_batch *b, uint16_t type, enum nft_msg_kind kind);
/* NFT_MSG_NEWTABLE (create if missing) or NFT_MSG_DELTABLE of our table;
 * comment (NEWTABLE only, NULL: none) goes into its user data. */
int nft_add_table(struct nft_batch *b, uint16_t type, const char *comment);
/* Our prerouting chain. */
int nft_add_chain(struct nft_batch *b);
/* The set of divert d, created in this batch with ID id. */
int nft_add_set(struct nft_batch *b, const struct nft_divert *d, uint32_t id);
/* Appends e to b->sel, the elements the batch's element messages carry. */
int nft_sel_push(struct nft_batch *b, const struct icpt_elem *e);
/* NFT_MSG_NEWSETELEM or NFT_MSG_DELSETELEM messages for the set of divert
 * d carrying b->sel[from .. b->nsel) (taken from list l), as many as their
 * size needs. id: the set's ID when this batch creates it, else 0. */
int nft_add_elem_msgs(struct nft_batch *b, uint16_t type, const struct nft_divert *d,
		      const struct icpt_list *l, uint32_t id, size_t from);
/* Every element of d's family in d's list, added to its set (ID id). */
int nft_add_elems(struct nft_batch *b, const struct nft_divert *d, uint32_t id);
/* The mark p's rules set: p->mark, or NFT_MARK_DEFAULT for 0. */
uint32_t nft_plan_mark(const struct nft_plan *p);
/* Rule number pos of the chain: divert d's tproxy rule (its set has ID id). */
int nft_add_tproxy_rule(struct nft_batch *b, const struct nft_plan *p,
			const struct nft_divert *d, uint32_t id, int pos);
/* Rule number pos of the chain: the socket rule (after every tproxy rule). */
int nft_add_socket_rule(struct nft_batch *b, const struct nft_plan *p, int pos);
/* The same for UDP (plans with p->udp or a UDP divert), after the TCP one. */
int nft_add_socket_rule_udp(struct nft_batch *b, const struct nft_plan *p, int pos);
/* Whether p needs the UDP socket rule. */
bool nft_plan_udp(const struct nft_plan *p);

/* Message framing: starts message number b->nmsg (an NFT_MSG_* type with
 * flags; NLM_F_ACK is added) and records it as kind in *refp (may be
 * NULL); NULL when out of memory. nft_msg_end() closes it. */
struct nlmsghdr *nft_msg_start(struct nft_batch *b, uint16_t type, uint16_t flags,
			       enum nft_msg_kind kind, struct nft_msgref **refp);
void nft_msg_end(struct nft_batch *b, const struct nlmsghdr *nlh);

/* A rule is written as a short program of expression steps, turned into
 * libnftnl expressions by one function (nft.c, xop_expr()). */
enum xop_kind { X_META_LOAD, X_CMP_EQ, X_CMP_NEQ, X_PAYLOAD, X_LOOKUP, X_IMM, X_VERDICT, X_TPROXY,
		X_META_SET, X_SOCKET, X_BITWISE, X_LIMIT, X_LOG, X_REJECT, X_FIB };

struct xop {
	enum xop_kind op;
	uint32_t a, b, c, d;    /* per op, see xop_expr() */
	const void *data;
	uint32_t len;
	const char *str;
};

/* Appends one rule (the ops, in order) to our chain; what describes it
 * for error messages. 0 or -ENOMEM. */
int nft_add_rule(struct nft_batch *b, const struct xop *ops, size_t n, const char *what);

/* ---- nft_decoy.c: decoys that look like hosts, probe logging (nft.h) ----
 * Each returns 0 or -ENOMEM/-E2BIG; *pos is the rule number so far and
 * advances with every rule added. id0: first set ID free for them. */

/* The host and edge sets of every divert with decoy rules (IDs from id0). */
int nft_add_decoy_sets(struct nft_batch *b, const struct nft_plan *p, uint32_t id0);
/* Rules E, O, R of every divert (before the tproxy rules). */
int nft_add_decoy_pre(struct nft_batch *b, const struct nft_plan *p, uint32_t id0, int *pos);
/* Rules S, C, T, U, P of every divert (after the socket rule). */
int nft_add_decoy_post(struct nft_batch *b, const struct nft_plan *p, uint32_t id0, int *pos);
/* The elements of the host and edge sets. */
int nft_add_decoy_elems(struct nft_batch *b, const struct nft_plan *p, uint32_t id0);
/* Delta of divert d's decoy list: flushes its host set and fills it
 * again (nothing when d has no decoy rules). */
int nft_add_decoy_refill(struct nft_batch *b, const struct nft_divert *d);
/* Whether the decoy parts of a and b are the same (sets named alike,
 * same edges, same settings): a delta of the decoy elements may then
 * leave them alone only if the decoy lists did not change either. */
bool nft_decoy_same(const struct nft_plan *a, const struct nft_plan *b);

/* ---- nft_plan.c: comparisons the one-call forms use ---- */

/* Whether a and b (normalised) hold the same elements: compared by
 * content, since each generation has lists of its own. */
bool nft_list_same(const struct icpt_list *a, const struct icpt_list *b);

/* Whether every decoy list of p (a missing one counts as empty) is
 * normalised. */
bool nft_lists_normalised(const struct nft_plan *p);
/* Whether going from old to p (same rules, normalised lists) only adds
 * elements, the one case where a delta is cheaper than a rebuild. */
bool nft_delta_is_cheap(const struct nft_plan *p, const struct nft_plan *old);

#endif
