/* nl_addr.c — IPv4/IPv6 addresses of links over rtnetlink: add, delete and
 * list (the list lets callers check what is already there). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "net/nl.h"

static size_t family_len(int family)
{
	if (family == AF_INET)
		return sizeof(struct in_addr);
	if (family == AF_INET6)
		return sizeof(struct in6_addr);
	return 0;
}

struct nlmsghdr *nl_build_addr(void *buf, size_t size, uint16_t type,
			       int ifindex, int family, const void *addr,
			       unsigned prefixlen, unsigned nl_flags)
{
	size_t alen = family_len(family);
	struct ifaddrmsg *ifa;
	uint32_t flags = 0;
	struct nl_req r;

	if ((type != RTM_NEWADDR && type != RTM_DELADDR) || ifindex <= 0 ||
	    !alen || !addr || prefixlen > alen * 8) {
		errno = EINVAL;
		return NULL;
	}
	nl_req_init(&r, buf, size, type,
		    type == RTM_NEWADDR ? NLM_F_CREATE | NLM_F_EXCL : 0,
		    sizeof(*ifa), (void **)&ifa);
	/* Duplicate address detection would keep an IPv6 address "tentative"
	 * (unusable for bind) for a second or more after the add. */
	if (family == AF_INET6 && (nl_flags & NL_ADDR_NODAD))
		flags |= IFA_F_NODAD;
	if (ifa) {
		ifa->ifa_family = (uint8_t)family;
		ifa->ifa_prefixlen = (uint8_t)prefixlen;
		ifa->ifa_index = (uint32_t)ifindex;
		ifa->ifa_scope = RT_SCOPE_UNIVERSE;
		ifa->ifa_flags = (uint8_t)flags;
	}
	/* As `ip addr add`: IFA_LOCAL is the address itself, IFA_ADDRESS the
	 * peer, which is the same address on a non point-to-point link. */
	nl_req_put(&r, IFA_LOCAL, alen, addr);
	nl_req_put(&r, IFA_ADDRESS, alen, addr);
	if (flags)
		nl_req_put_u32(&r, IFA_FLAGS, flags);
	return nl_req_finish(&r);
}

/* "192.0.2.1/24" for messages; buf holds INET6_ADDRSTRLEN + 4. */
static const char *addr_text(char *buf, size_t size, int family,
			     const void *addr, unsigned prefixlen)
{
	size_t n;

	if (!addr || !inet_ntop(family, addr, buf, (socklen_t)size)) {
		snprintf(buf, size, "?");
		return buf;
	}
	n = strlen(buf);
	snprintf(buf + n, size - n, "/%u", prefixlen);
	return buf;
}

static int addr_change(struct nl_sock *s, uint16_t type, int ifindex,
		       int family, const void *addr, unsigned prefixlen,
		       unsigned nl_flags, char **err)
{
	char buf[NL_REQ_SIZE], text[INET6_ADDRSTRLEN + 8];
	const char *verb = type == RTM_NEWADDR ? "add" : "delete";
	struct nlmsghdr *nlh;
	int rc;

	addr_text(text, sizeof(text), family, addr, prefixlen);
	nlh = nl_build_addr(buf, sizeof(buf), type, ifindex, family, addr,
			    prefixlen, nl_flags);
	if (!nlh) {
		memprintf(err, "%s address %s on link #%d: invalid parameter",
			  verb, text, ifindex);
		return -EINVAL;
	}
	rc = nl_talkf(s, nlh, NULL, NULL, err, "%s address %s on link #%d",
		      verb, text, ifindex);
	if (rc == -EEXIST)
		memprintf(err, "address %s already exists on link #%d", text,
			  ifindex);
	return rc;
}

int nl_addr_add(struct nl_sock *s, int ifindex, int family, const void *addr,
		unsigned prefixlen, unsigned nl_flags, char **err)
{
	return addr_change(s, RTM_NEWADDR, ifindex, family, addr, prefixlen,
			   nl_flags, err);
}

int nl_addr_del(struct nl_sock *s, int ifindex, int family, const void *addr,
		unsigned prefixlen, char **err)
{
	return addr_change(s, RTM_DELADDR, ifindex, family, addr, prefixlen, 0,
			   err);
}

/* ---- listing --------------------------------------------------------- */

struct addr_list {
	int ifindex;
	int family;
	struct nl_addr_entry *out;
	size_t max;
	size_t count;
};

struct addr_attrs {
	const struct nlattr *local, *address, *flags;
};

static int addr_attr_cb(const struct nlattr *attr, void *data)
{
	struct addr_attrs *a = data;

	switch (mnl_attr_get_type(attr)) {
	case IFA_LOCAL:
		a->local = attr;
		break;
	case IFA_ADDRESS:
		a->address = attr;
		break;
	case IFA_FLAGS:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			a->flags = attr;
		break;
	}
	return MNL_CB_OK;
}

static int addr_list_cb(const struct nlmsghdr *nlh, void *data)
{
	struct addr_list *l = data;
	const struct ifaddrmsg *ifa;
	struct addr_attrs a = { 0 };
	const struct nlattr *ip;
	struct nl_addr_entry *e;
	size_t alen;

	if (nlh->nlmsg_type != RTM_NEWADDR ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifa))
		return MNL_CB_OK;
	ifa = mnl_nlmsg_get_payload(nlh);
	alen = family_len(ifa->ifa_family);
	/* Without strict checking the kernel dumps every link and family. */
	if (!alen || (l->ifindex && (int)ifa->ifa_index != l->ifindex) ||
	    (l->family != AF_UNSPEC && ifa->ifa_family != l->family))
		return MNL_CB_OK;
	if (mnl_attr_parse(nlh, sizeof(*ifa), addr_attr_cb, &a) < 0)
		return MNL_CB_OK;
	ip = a.local ? a.local : a.address;
	if (!ip || mnl_attr_get_payload_len(ip) != alen)
		return MNL_CB_OK;
	if (l->count < l->max) {
		e = &l->out[l->count];
		memset(e, 0, sizeof(*e));
		e->family = ifa->ifa_family;
		e->ifindex = (int)ifa->ifa_index;
		e->prefixlen = ifa->ifa_prefixlen;
		e->scope = ifa->ifa_scope;
		e->flags = a.flags ? mnl_attr_get_u32(a.flags) : ifa->ifa_flags;
		memcpy(&e->addr, mnl_attr_get_payload(ip), alen);
	}
	l->count++;
	return MNL_CB_OK;
}

int nl_addr_list(struct nl_sock *s, int ifindex, int family,
		 struct nl_addr_entry *out, size_t max, char **err)
{
	struct addr_list l = { ifindex, family, out, max, 0 };
	char buf[NL_REQ_SIZE];
	struct ifaddrmsg *ifa;
	struct nl_req r;
	int rc;

	if (family != AF_UNSPEC && !family_len(family))
		return -EAFNOSUPPORT;
	if (max && !out)
		return -EINVAL;
	nl_req_init(&r, buf, sizeof(buf), RTM_GETADDR, NLM_F_DUMP,
		    sizeof(*ifa), (void **)&ifa);
	if (ifa) {
		ifa->ifa_family = (uint8_t)family;
		ifa->ifa_index = (uint32_t)(ifindex > 0 ? ifindex : 0);
	}
	rc = nl_talkf(s, nl_req_finish(&r), addr_list_cb, &l, err,
		      "list addresses of link #%d", ifindex);
	if (rc < 0)
		return rc;
	return l.count > INT32_MAX ? INT32_MAX : (int)l.count;
}
