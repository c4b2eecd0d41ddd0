/* nl.c — the one door to rtnetlink (nl_talk), request building helpers and
 * interface name rules. Links, addresses and routes live in nl_link.c,
 * nl_addr.c and nl_route.c and only ever talk through nl_talk(). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "net/nl.h"

/* A dump's messages come in skbs of up to 32 KiB when the reader's buffer
 * allows it; a smaller buffer would make recvmsg() truncate them. */
#define NL_RCVBUF_SIZE 32768
/* One recv never waits longer than this... */
#define NL_RECV_TIMEOUT_S 5
/* ...and one whole request never takes longer than this. */
#define NL_TALK_DEADLINE_MS 15000

struct nl_sock {
	struct mnl_socket *mnl;
	uint32_t portid;
	uint32_t seq;
	char buf[NL_RCVBUF_SIZE];
};

/* ---- socket ---------------------------------------------------------- */

/* Bind, enable extended/capped ACKs and bound each recv in time. */
static int nl_setup(struct nl_sock *s)
{
	struct timeval tv = { .tv_sec = NL_RECV_TIMEOUT_S };
	int fd = mnl_socket_get_fd(s->mnl);
	int one = 1;

	if (mnl_socket_bind(s->mnl, 0, MNL_SOCKET_AUTOPID) < 0)
		return -errno;
	/* Older kernels lack these: the door then works without the kernel's
	 * text and with full echoes of our requests in errors. */
	(void)mnl_socket_setsockopt(s->mnl, NETLINK_EXT_ACK, &one, sizeof(one));
	(void)mnl_socket_setsockopt(s->mnl, NETLINK_CAP_ACK, &one, sizeof(one));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;
	s->portid = mnl_socket_get_portid(s->mnl);
	/* Any start works since replies are matched exactly; a time-based one
	 * keeps late answers to a previous process's socket from matching. */
	s->seq = (uint32_t)time(NULL);
	return 0;
}

int nl_open(struct nl_sock **out)
{
	struct nl_sock *s;
	int rc;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->mnl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!s->mnl) {
		rc = -errno;
		goto fail;
	}
	rc = nl_setup(s);
	if (rc < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	nl_close(s);
	return rc;
}

int nl_open_fd(struct nl_sock **out, int fd)
{
	struct nl_sock *s = NULL;
	socklen_t len = sizeof(int);
	int proto = -1;
	int rc;

	*out = NULL;
	if (fd < 0)
		return -EBADF;
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) < 0) {
		rc = -errno;
		goto fail_fd;
	}
	if (proto != NETLINK_ROUTE) {
		rc = -EPROTONOSUPPORT;
		goto fail_fd;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		rc = -ENOMEM;
		goto fail_fd;
	}
	s->mnl = mnl_socket_fdopen(fd);
	if (!s->mnl) {
		rc = errno ? -errno : -EINVAL;
		goto fail_fd;
	}
	/* From here on, nl_close() closes fd through s->mnl. */
	rc = nl_setup(s);
	if (rc < 0)
		goto fail;
	*out = s;
	return 0;
fail_fd:
	close(fd);
fail:
	nl_close(s);
	return rc;
}

void nl_close(struct nl_sock *s)
{
	if (!s)
		return;
	if (s->mnl)
		mnl_socket_close(s->mnl);
	free(s);
}

/* ---- the door -------------------------------------------------------- */

/* State of one nl_talk() across the datagrams of its answer. */
struct talk {
	uint32_t seq;
	mnl_cb_t cb;
	void *data;
	bool cb_stopped;
	int cb_err;         /* first -errno from cb */
	bool intr;          /* a dump message carried NLM_F_DUMP_INTR */
	bool done;
	int kernel_err;     /* -errno from NLMSG_ERROR / NLMSG_DONE */
	char **err;
};

static int ext_ack_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **msg = data;

	if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_get_payload_len(attr) > 0)
		*msg = attr;
	return MNL_CB_OK;
}

/* Copies the NLMSGERR_ATTR_MSG text that follows a payload of `offset`
 * bytes in nlh into *t->err, when the kernel flagged TLVs and there is one. */
static void talk_copy_ext_ack(struct talk *t, const struct nlmsghdr *nlh,
			      size_t offset)
{
	const struct nlattr *msg = NULL;
	const char *text;
	size_t len;

	if (!t->err || !(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (MNL_ALIGN(offset) >= mnl_nlmsg_get_payload_len(nlh))
		return;
	if (mnl_attr_parse(nlh, offset, ext_ack_attr_cb, &msg) < 0 || !msg)
		return;
	text = mnl_attr_get_payload(msg);
	len = strnlen(text, mnl_attr_get_payload_len(msg));
	if (!len)
		return;
	free(*t->err);
	*t->err = strndup(text, len);
}

static void talk_error(struct talk *t, const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	size_t offset = sizeof(*e);

	t->done = true;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e)) {
		t->kernel_err = -EPROTO;
		return;
	}
	if (e->error == 0)
		return;               /* the ACK */
	t->kernel_err = e->error < 0 ? e->error : -EPROTO;
	/* Without NLM_F_CAPPED the kernel echoed our whole request first. */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
		if (e->msg.nlmsg_len < sizeof(struct nlmsghdr))
			return;
		offset += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
	}
	talk_copy_ext_ack(t, nlh, offset);
}

static void talk_done(struct talk *t, const struct nlmsghdr *nlh)
{
	int v;

	t->done = true;
	/* Since Linux 4.x a dump that fails midway says why in DONE. */
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(int))
		return;
	memcpy(&v, mnl_nlmsg_get_payload(nlh), sizeof(v));
	if (v < 0) {
		t->kernel_err = v;
		talk_copy_ext_ack(t, nlh, sizeof(int));
	}
}

static void talk_data(struct talk *t, const struct nlmsghdr *nlh)
{
	int r;

	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		t->intr = true;
	if (!t->cb || t->cb_stopped)
		return;
	errno = 0;
	r = t->cb(nlh, t->data);
	if (r == MNL_CB_OK)
		return;
	t->cb_stopped = true;
	if (r < 0 && !t->cb_err)
		t->cb_err = errno > 0 ? -errno : -EIO;
}

/* Walks one datagram. Messages not for this request are skipped. */
static void talk_datagram(struct nl_sock *s, struct talk *t, size_t n)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)s->buf;
	int len = (int)n;

	while (!t->done && mnl_nlmsg_ok(nlh, len)) {
		if (nlh->nlmsg_seq != t->seq ||
		    !mnl_nlmsg_portid_ok(nlh, s->portid))
			goto next;
		switch (nlh->nlmsg_type) {
		case NLMSG_NOOP:
			break;
		case NLMSG_ERROR:
			talk_error(t, nlh);
			break;
		case NLMSG_DONE:
			talk_done(t, nlh);
			break;
		case NLMSG_OVERRUN:
			t->done = true;
			t->kernel_err = -ENOBUFS;
			break;
		default:
			talk_data(t, nlh);
			break;
		}
next:
		nlh = mnl_nlmsg_next(nlh, &len);
	}
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int nl_talk(struct nl_sock *s, struct nlmsghdr *req, mnl_cb_t cb, void *data,
	    char **err)
{
	struct talk t = { .cb = cb, .data = data, .err = err };
	long long deadline;
	ssize_t n;

	if (!s || !req || req->nlmsg_len < sizeof(*req))
		return -EINVAL;
	if (++s->seq == 0)
		s->seq = 1;
	t.seq = s->seq;
	req->nlmsg_seq = t.seq;
	req->nlmsg_pid = 0;
	req->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;

	if (mnl_socket_sendto(s->mnl, req, req->nlmsg_len) < 0)
		return -errno;
	deadline = now_ms() + NL_TALK_DEADLINE_MS;
	while (!t.done) {
		if (now_ms() > deadline)
			return -ETIMEDOUT;
		n = mnl_socket_recvfrom(s->mnl, s->buf, sizeof(s->buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return -ETIMEDOUT;
			return -errno;
		}
		talk_datagram(s, &t, (size_t)n);
	}
	if (t.kernel_err)
		return t.kernel_err;
	if (t.cb_err)
		return t.cb_err;
	return t.intr ? -EINTR : 0;
}

int nl_talkf(struct nl_sock *s, struct nlmsghdr *req, mnl_cb_t cb, void *data,
	     char **err, const char *fmt, ...)
{
	char *ext = NULL, *what = NULL;
	va_list ap;
	int rc;

	rc = nl_talk(s, req, cb, data, &ext);
	if (rc < 0 && err) {
		va_start(ap, fmt);
		if (vmemprintf(&what, fmt, ap) < 0)
			what = NULL;
		va_end(ap);
		memprintf(err, "%s: %s", what ? what : "netlink",
			  ext ? ext : strerror(-rc));
	}
	free(what);
	free(ext);
	return rc;
}

/* ---- request building ------------------------------------------------ */

void nl_req_init(struct nl_req *r, void *buf, size_t size, uint16_t type,
		 uint16_t flags, size_t hdrlen, void **hdr)
{
	r->nlh = buf;
	r->size = size;
	r->overflow = false;
	if (hdr)
		*hdr = NULL;
	if (size < MNL_NLMSG_HDRLEN + MNL_ALIGN(hdrlen)) {
		r->overflow = true;
		if (size >= MNL_NLMSG_HDRLEN)
			memset(buf, 0, MNL_NLMSG_HDRLEN);
		return;
	}
	memset(buf, 0, MNL_NLMSG_HDRLEN + MNL_ALIGN(hdrlen));
	mnl_nlmsg_put_header(buf);
	r->nlh->nlmsg_type = type;
	r->nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	if (hdrlen) {
		void *h = mnl_nlmsg_put_extra_header(r->nlh, hdrlen);

		if (hdr)
			*hdr = h;
	}
}

void nl_req_put(struct nl_req *r, uint16_t type, size_t len, const void *data)
{
	size_t need = MNL_ATTR_HDRLEN + MNL_ALIGN(len);

	if (r->overflow || need > UINT16_MAX ||
	    need > r->size - r->nlh->nlmsg_len) {
		r->overflow = true;
		return;
	}
	/* Older libmnl leaves the alignment padding as it was: zero it so
	 * that no stale stack byte goes to the kernel. */
	memset(mnl_nlmsg_get_payload_tail(r->nlh), 0, need);
	mnl_attr_put(r->nlh, type, len, data);
}

void nl_req_put_u8(struct nl_req *r, uint16_t type, uint8_t v)
{
	nl_req_put(r, type, sizeof(v), &v);
}

void nl_req_put_u16(struct nl_req *r, uint16_t type, uint16_t v)
{
	nl_req_put(r, type, sizeof(v), &v);
}

void nl_req_put_u32(struct nl_req *r, uint16_t type, uint32_t v)
{
	nl_req_put(r, type, sizeof(v), &v);
}

void nl_req_put_str(struct nl_req *r, uint16_t type, const char *s)
{
	nl_req_put(r, type, strlen(s) + 1, s);
}

void nl_req_put_raw(struct nl_req *r, size_t len, void **out)
{
	char *p;

	*out = NULL;
	if (r->overflow || MNL_ALIGN(len) > r->size - r->nlh->nlmsg_len) {
		r->overflow = true;
		return;
	}
	/* Same as an extra header, but anywhere: inside a nest too. */
	p = mnl_nlmsg_get_payload_tail(r->nlh);
	memset(p, 0, MNL_ALIGN(len));
	r->nlh->nlmsg_len += MNL_ALIGN(len);
	*out = p;
}

struct nlattr *nl_req_nest_start(struct nl_req *r, uint16_t type)
{
	struct nlattr *nest;

	if (r->overflow)
		return NULL;
	nest = mnl_attr_nest_start_check(r->nlh, r->size, type);
	if (!nest)
		r->overflow = true;
	return nest;
}

void nl_req_nest_end(struct nl_req *r, struct nlattr *nest)
{
	if (!nest || r->overflow)
		return;
	mnl_attr_nest_end(r->nlh, nest);
}

struct nlmsghdr *nl_req_finish(struct nl_req *r)
{
	if (r->overflow) {
		errno = ENOBUFS;
		return NULL;
	}
	return r->nlh;
}

/* ---- interface names ------------------------------------------------- */

/* Checked on the whole input, not only on what survives truncation, so that
 * a bad segment name is refused whatever its length. */
static bool ifname_chars_ok(const char *s)
{
	for (; *s; s++) {
		if (*s == '/' || *s == ':' || isspace((unsigned char)*s))
			return false;
	}
	return true;
}

/* The kernel's dev_valid_name() rules, plus non-NULL. */
bool nl_ifname_valid(const char *name)
{
	size_t len;

	if (!name)
		return false;
	len = strnlen(name, IFNAMSIZ);
	if (len == 0 || len >= IFNAMSIZ)
		return false;
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	return ifname_chars_ok(name);
}

/* 32-bit FNV-1a over two strings as if concatenated. Part of the naming
 * rule in nl.h: do not change it, existing links carry its output. */
static uint32_t fnv1a_2(const char *a, const char *b)
{
	uint32_t h = 2166136261u;

	for (; *a; a++)
		h = (h ^ (unsigned char)*a) * 16777619u;
	for (; *b; b++)
		h = (h ^ (unsigned char)*b) * 16777619u;
	return h;
}

#define DERIVE_KEEP 10   /* bytes of prefix+base kept before "-hhhh" */

int nl_ifname_derive(char out[IFNAMSIZ], const char *prefix, const char *base)
{
	size_t plen, blen, take;
	uint32_t h;

	out[0] = '\0';
	if (!prefix)
		prefix = "";
	if (!base || !*base || !ifname_chars_ok(prefix) ||
	    !ifname_chars_ok(base))
		return -EINVAL;
	plen = strlen(prefix);
	blen = strlen(base);
	if (plen + blen < IFNAMSIZ) {
		memcpy(out, prefix, plen);
		memcpy(out + plen, base, blen + 1);
	} else {
		take = plen < DERIVE_KEEP ? plen : DERIVE_KEEP;
		memcpy(out, prefix, take);
		memcpy(out + take, base, DERIVE_KEEP - take);
		h = fnv1a_2(prefix, base);
		snprintf(out + DERIVE_KEEP, IFNAMSIZ - DERIVE_KEEP, "-%04x",
			 (unsigned)((h >> 16) ^ (h & 0xffff)));
	}
	if (!nl_ifname_valid(out)) {
		out[0] = '\0';
		return -EINVAL;
	}
	return 0;
}
