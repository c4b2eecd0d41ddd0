/* nft_io.c — nftables TPROXY plumbing, part 3 of 3: talking to the kernel.
 * Answers: the kernel's ACKs and errors fed into a batch, and an error
 * turned into the name of the refused object. Sending: one batch in one
 * sendmsg(), then every answer collected. One-call forms: build, send,
 * free (and, for a reload, the choice between delta and rebuild). See
 * nft.h for the API, nft_int.h for what the parts share.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "net/nft.h"
#include "net/nft_int.h"

/* ---- answers ---- */

struct ack_tlvs {
	const char *msg;
	int32_t offs;
};

static int ack_tlv_cb(const struct nlattr *attr, void *data)
{
	struct ack_tlvs *t = data;

	if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0)
		t->msg = mnl_attr_get_str(attr);
	else if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_OFFS &&
		 mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
		t->offs = (int32_t)mnl_attr_get_u32(attr);
	return MNL_CB_OK;
}

/* Extended ACK attributes follow the echoed request: only its header
 * when the kernel capped it (NETLINK_CAP_ACK), the whole request if not. */
static void parse_ack_tlvs(const struct nlmsghdr *nlh, const struct nlmsgerr *e,
			   struct ack_tlvs *t)
{
	size_t plen = nlh->nlmsg_len - NLMSG_HDRLEN;
	size_t off = sizeof(*e);

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
		if (e->msg.nlmsg_len < NLMSG_HDRLEN)
			return;
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	}
	if (off > plen)
		return;
	mnl_attr_parse(nlh, (unsigned)off, ack_tlv_cb, t);
}

static void feed_error_msg(struct nft_batch *b, const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	uint32_t idx = nlh->nlmsg_seq - b->seq0;
	struct ack_tlvs t = { NULL, -1 };

	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*e)) || idx >= b->nmsg)
		return;
	if (b->msg[idx].ack)
		b->nacked++;
	if (e->error >= 0)
		return;
	/* Keep the error of the earliest message: later ones are often
	 * consequences of it. */
	if (b->error && idx >= b->err_seq - b->seq0)
		return;
	parse_ack_tlvs(nlh, e, &t);
	b->error = e->error;
	b->err_seq = nlh->nlmsg_seq;
	b->err_offs = t.offs;
	snprintf(b->kmsg, sizeof(b->kmsg), "%s", t.msg ? t.msg : "");
}

void nft_batch_feed(struct nft_batch *b, const void *buf, size_t len)
{
	const struct nlmsghdr *nlh = buf;
	int rem = len > INT32_MAX ? INT32_MAX : (int)len;

	while (mnl_nlmsg_ok(nlh, rem)) {
		if (nlh->nlmsg_type == NLMSG_ERROR)
			feed_error_msg(b, nlh);
		nlh = mnl_nlmsg_next(nlh, &rem);
	}
}

bool nft_batch_complete(const struct nft_batch *b)
{
	return b->nacked >= b->nexpect;
}

/* Position, among the elements of message ref, of the element attribute
 * that contains byte offs of the message; -1 if none. */
static long elem_at(const struct nft_batch *b, const struct nft_msgref *ref, int32_t offs)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)(b->buf + ref->off);
	struct nlattr *top, *el;
	long k = 0;

	if (offs < 0)
		return -1;
	mnl_attr_for_each(top, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(top) != NFTA_SET_ELEM_LIST_ELEMENTS)
			continue;
		mnl_attr_for_each_nested(el, top) {
			long start = (char *)el - (char *)nlh;

			if (offs >= start && offs < start + el->nla_len)
				return k;
			k++;
		}
	}
	return -1;
}

/* The k-th element of message ref, or NULL. */
static const struct icpt_elem *elem_nth(const struct nft_batch *b, const struct nft_msgref *ref,
					long k)
{
	if (k < 0 || (size_t)k >= ref->count || ref->first + (size_t)k >= b->nsel)
		return NULL;
	return b->sel[ref->first + (size_t)k];
}

static const char *errno_hint(const struct nft_msgref *ref, int error)
{
	switch (ref->kind) {
	case NFT_K_ELEMS:
		/* Recent kernels report a partial overlap as EEXIST too; an
		 * exact duplicate is accepted (no NLM_F_EXCL). A set created
		 * in the batch holds only the batch's elements; a delta is
		 * computed against what decoyproxy installed, with removals
		 * first, from normalised lists: the element it clashes with
		 * was put there by someone else. */
		if ((error == -ENOTEMPTY || error == -EEXIST) && ref->fresh)
			return "overlaps another element added to the new set in the same batch "
			       "(the decoy list was not normalised)";
		if (error == -ENOTEMPTY || error == -EEXIST)
			return "overlaps an element that is in the kernel's set but was not installed "
			       "by decoyproxy (added by hand, e.g. with 'nft add element'?)";
		if (error == -ENOSPC)
			return "the set is full";
		break;
	case NFT_K_RULE:
		if (error == -ENOENT || error == -EOPNOTSUPP)
			return "missing kernel support? (nft_tproxy, nft_socket, nf_tproxy_ipv4/6)";
		break;
	case NFT_K_SET:
		if (error == -EOPNOTSUPP || error == -EINVAL)
			return "concatenated interval sets need Linux >= 5.6";
		break;
	case NFT_K_ELEMS_DEL:
		if (error == -ENOENT)
			return "not in the kernel's set: it differs from the previous plan";
		break;
	}
	if (error == -EPERM)
		return "needs CAP_NET_ADMIN in the target namespace";
	return NULL;
}

int nft_batch_result(const struct nft_batch *b, char **err)
{
	const struct nft_msgref *ref;
	const char *hint;
	char what[ICPT_ELEM_STRLEN + NFT_SET_NAME_MAX + 1024], kpart[160] = "";
	uint32_t idx;

	if (!b->error) {
		if (nft_batch_complete(b))
			return 0;
		memprintf(err, "nft: the kernel answered %zu of %zu messages", b->nacked,
			  b->nexpect);
		return -ETIMEDOUT;
	}
	idx = b->err_seq - b->seq0;
	if (b->kmsg[0])
		snprintf(kpart, sizeof(kpart), "; kernel says: %s", b->kmsg);
	if (idx >= b->nmsg) {
		memprintf(err, "nftables refused the batch: %s%s", strerror(-b->error), kpart);
		return b->error;
	}
	ref = &b->msg[idx];
	snprintf(what, sizeof(what), "%s", ref->kind == NFT_K_BEGIN || ref->kind == NFT_K_END ?
		 "the batch" : ref->what);
	if (ref->kind == NFT_K_ELEMS || ref->kind == NFT_K_ELEMS_DEL) {
		const struct icpt_elem *e = elem_nth(b, ref, elem_at(b, ref, b->err_offs));
		const struct icpt_list *l = ref->list;
		const char *set = ref->set ? ref->set : "?";
		const char *verb = ref->kind == NFT_K_ELEMS ? "" : "the removal of ";
		char es[ICPT_ELEM_STRLEN];

		if (e && l && e->src != UINT32_MAX && e->src < l->srclen)
			snprintf(what, sizeof(what), "%selement %s (from %s) of set %s", verb,
				 icpt_elem_str(e, es, sizeof(es)), l->srcbuf + e->src, set);
		else if (e)
			snprintf(what, sizeof(what), "%selement %s of set %s", verb,
				 icpt_elem_str(e, es, sizeof(es)), set);
	}
	hint = errno_hint(ref, b->error);
	if (hint)
		memprintf(err, "nftables refused %s: %s (%s)%s", what, hint, strerror(-b->error),
			  kpart);
	else
		memprintf(err, "nftables refused %s: %s%s", what, strerror(-b->error), kpart);
	return b->error;
}

/* ---- sending ---- */

/* Sizes the socket for this batch: the whole batch goes in one sendmsg()
 * (the kernel only applies a batch that arrives in one piece), and every
 * message's ACK must fit in the receive queue. The FORCE variants need
 * CAP_NET_ADMIN, which changing nftables needs anyway; the plain ones are
 * a fallback bounded by net.core.[rw]mem_max. */
static int sock_setup(int fd, const struct nft_batch *b, char **err)
{
	size_t snd = b->len + 65536, rcv = b->nmsg * 2048 + 262144;
	int one = 1, v;

	if (snd > INT32_MAX / 2 || rcv > INT32_MAX / 2) {
		memprintf(err, "nft: batch of %zu bytes is too large for one netlink message",
			  b->len);
		return -E2BIG;
	}
	v = (int)snd;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
	v = (int)rcv;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	/* Optional: without them errors are still reported, only less
	 * precisely (no bad-attribute offset) and with longer echoes. */
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	return 0;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Reads answers until every ack'ed message is answered (or, after an
 * error, until the queue is empty), then drains what is left: the kernel
 * processes the batch inside sendmsg(), so everything is queued already
 * and waiting only guards against the unexpected. */
static int collect(int fd, struct nft_batch *b, char **err)
{
	size_t cap = 128 * 1024;
	char *buf = malloc(cap);
	struct timespec t0;
	/* a batch without ack'ed messages is answered with nothing at all */
	bool draining = nft_batch_complete(b);
	int ret = 0, spins = 0;

	if (!buf)
		return -ENOMEM;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (spins++ < 1000000) {
		ssize_t n = recv(fd, buf, cap, MSG_DONTWAIT);

		if (n > 0) {
			nft_batch_feed(b, buf, (size_t)n);
			if (nft_batch_complete(b))
				draining = true;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };
			long left = NFT_REPLY_TIMEOUT_MS - ms_since(&t0);

			if (draining || b->error)
				break;
			if (left <= 0 || poll(&pfd, 1, (int)left) == 0) {
				ret = -ETIMEDOUT;
				memprintf(err, "nft: no answer from the kernel within %d ms "
					  "(%zu of %zu messages answered)", NFT_REPLY_TIMEOUT_MS,
					  b->nacked, b->nexpect);
				break;
			}
			continue;
		}
		ret = n < 0 ? -errno : -EPIPE;
		memprintf(err, "nft: reading the kernel's answers: %s%s", strerror(-ret),
			  ret == -ENOBUFS ? " (receive buffer overflow: answers lost)" : "");
		break;
	}
	free(buf);
	return ret;
}

int nft_batch_send(int nlfd, struct nft_batch *b, char **err)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	int fd = nlfd, ret;
	ssize_t n;

	if (fd < 0) {
		fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
		if (fd < 0) {
			ret = -errno;
			memprintf(err, "nft: cannot open a netfilter netlink socket: %s",
				  strerror(errno));
			return ret;
		}
	}
	b->nacked = 0;
	b->error = 0;
	b->err_offs = -1;
	b->kmsg[0] = '\0';
	/* Nothing between BEGIN and END (a delta without difference): the
	 * kernel would change nothing and answer nothing. */
	if (!b->nexpect) {
		ret = 0;
		goto out;
	}
	ret = sock_setup(fd, b, err);
	if (ret)
		goto out;
	do {
		n = sendto(fd, b->buf, b->len, 0, (struct sockaddr *)&kernel, sizeof(kernel));
	} while (n < 0 && errno == EINTR);
	if (n < 0 || (size_t)n != b->len) {
		ret = n < 0 ? -errno : -EMSGSIZE;
		memprintf(err, "nft: sending a batch of %zu bytes: %s%s", b->len, strerror(-ret),
			  ret == -EMSGSIZE ? " (send buffer too small: CAP_NET_ADMIN lets "
			  "SO_SNDBUFFORCE raise it)" : "");
		goto out;
	}
	ret = collect(fd, b, err);
	if (!ret)
		ret = nft_batch_result(b, err);
out:
	if (nlfd < 0)
		close(fd);
	return ret;
}

/* ---- one-call forms ---- */

/* Sequence numbers only have to be distinct between the batches sent on
 * one socket; starting from the clock makes stale answers of an earlier
 * run easy to tell apart (the nft tool does the same). */
static uint32_t seq_next;

static uint32_t seq_base(void)
{
	if (!seq_next)
		seq_next = (uint32_t)time(NULL);
	return seq_next;
}

typedef int (*build_fn)(struct nft_batch *b, const struct nft_plan *p, uint32_t seq,
			char **err);

static int build_and_send(int nlfd, const struct nft_plan *p, build_fn build, char **err)
{
	struct nft_batch b;
	int ret;

	nft_batch_init(&b);
	ret = build(&b, p, seq_base(), err);
	if (!ret) {
		seq_next += (uint32_t)b.nmsg;
		ret = nft_batch_send(nlfd, &b, err);
	}
	nft_batch_free(&b);
	return ret;
}

int nft_apply(int nlfd, const struct nft_plan *p, char **err)
{
	return build_and_send(nlfd, p, nft_build_apply, err);
}


int nft_replace_elements(int nlfd, const struct nft_plan *p, const struct nft_plan *old,
			 char **err)
{
	struct nft_batch b;
	int ret;

	if (!old || !nft_plan_same_rules(p, old) || !nft_lists_normalised(p) ||
	    !nft_lists_normalised(old) || !nft_delta_is_cheap(p, old))
		return nft_apply(nlfd, p, err);
	nft_batch_init(&b);
	ret = nft_build_delta(&b, p, old, seq_base(), err);
	/* nothing changed (a reload of the same lists): nothing to send */
	if (!ret && b.nmsg <= 2) {
		nft_batch_free(&b);
		return 0;
	}
	if (!ret) {
		seq_next += (uint32_t)b.nmsg;
		ret = nft_batch_send(nlfd, &b, err);
	}
	nft_batch_free(&b);
	/* The kernel's sets were not what `old` says (or the table is gone):
	 * rebuild the table, which does not depend on what is there. A bad
	 * new element fails again there and is reported by that attempt. */
	if (ret) {
		free(*err);
		*err = NULL;
		ret = nft_apply(nlfd, p, err);
	}
	return ret;
}

static int build_remove(struct nft_batch *b, const struct nft_plan *p, uint32_t seq,
			char **err)
{
	(void)p;
	return nft_build_remove(b, seq, err);
}

int nft_remove(int nlfd, char **err)
{
	return build_and_send(nlfd, NULL, build_remove, err);
}

/* ---- reading our table's comment ---- */

struct table_get {
	uint32_t seq;
	bool done, found;
	int error;
	char *out;
	size_t size;
};

static int udata_comment_cb(const struct nftnl_udata *attr, void *data)
{
	const struct nftnl_udata **slot = data;

	if (nftnl_udata_type(attr) == NFTNL_UDATA_TABLE_COMMENT)
		*slot = attr;
	return 0;
}

/* The comment of a NEWTABLE answer into g->out. */
static void table_get_parse(struct table_get *g, const struct nlmsghdr *nlh)
{
	struct nftnl_table *t = nftnl_table_alloc();
	const struct nftnl_udata *c = NULL;
	const void *ud;
	uint32_t len = 0;

	g->found = true;
	if (!t || nftnl_table_nlmsg_parse(nlh, t) < 0)
		goto out;
	ud = nftnl_table_get_data(t, NFTNL_TABLE_USERDATA, &len);
	if (!ud || nftnl_udata_parse(ud, len, udata_comment_cb, &c) < 0 || !c)
		goto out;
	len = nftnl_udata_len(c);
	/* stored with its NUL (nft's own strz); never trust it */
	snprintf(g->out, g->size, "%.*s", (int)len, (const char *)nftnl_udata_get(c));
out:
	nftnl_table_free(t);
}

static void table_get_feed(struct table_get *g, const void *buf, size_t len)
{
	const struct nlmsghdr *nlh = buf;
	int n = (int)len;

	for (; mnl_nlmsg_ok(nlh, n); nlh = mnl_nlmsg_next(nlh, &n)) {
		if (nlh->nlmsg_seq != g->seq)
			continue;
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

			if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(*e))
				g->error = e->error;
			g->done = true;
		} else if (nlh->nlmsg_type == ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWTABLE)) {
			table_get_parse(g, nlh);
		}
	}
}

int nft_table_comment(int nlfd, char *out, size_t size, char **err)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct table_get g = { .out = out, .size = size };
	struct nftnl_table *t = nftnl_table_alloc();
	char req[512], *buf = malloc(16384);
	struct nlmsghdr *nlh;
	struct timespec t0;
	int fd = nlfd, ret = 0;

	if (size)
		out[0] = '\0';
	if (!t || !buf || nftnl_table_set_str(t, NFTNL_TABLE_NAME, NFT_TABLE_NAME) < 0) {
		ret = -ENOMEM;
		memprintf(err, "nft: out of memory");
		goto out;
	}
	if (fd < 0 && (fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER)) < 0) {
		ret = -errno;
		memprintf(err, "nft: cannot open a netfilter netlink socket: %s", strerror(-ret));
		goto out;
	}
	g.seq = seq_base();
	seq_next++;
	/* zeroed: attribute padding must not carry stack bytes to the kernel */
	memset(req, 0, sizeof(req));
	nlh = nftnl_nlmsg_build_hdr(req, NFT_MSG_GETTABLE, NFPROTO_INET, NLM_F_ACK, g.seq);
	nftnl_table_nlmsg_build_payload(nlh, t);
	if (sendto(fd, nlh, nlh->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0) {
		ret = -errno;
		memprintf(err, "nft: asking for table inet %s: %s", NFT_TABLE_NAME, strerror(-ret));
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!g.done) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long left = NFT_REPLY_TIMEOUT_MS - ms_since(&t0);
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, (int)left) == 0) {
			ret = -ETIMEDOUT;
			memprintf(err, "nft: no answer about table inet %s within %d ms", NFT_TABLE_NAME,
				  NFT_REPLY_TIMEOUT_MS);
			goto out;
		}
		n = recv(fd, buf, 16384, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : -EPIPE;
			memprintf(err, "nft: reading the answer about table inet %s: %s", NFT_TABLE_NAME,
				  strerror(-ret));
			goto out;
		}
		table_get_feed(&g, buf, (size_t)n);
	}
	if (g.error == -ENOENT)
		ret = 0;
	else if (g.error < 0) {
		ret = g.error;
		memprintf(err, "nft: asking for table inet %s: %s", NFT_TABLE_NAME, strerror(-ret));
	} else
		ret = g.found;
out:
	if (nlfd < 0 && fd >= 0)
		close(fd);
	nftnl_table_free(t);
	free(buf);
	return ret;
}
