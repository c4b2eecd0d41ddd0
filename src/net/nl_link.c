/* nl_link.c — links over rtnetlink: look-up, veth / bridge / 802.1Q VLAN /
 * macvlan creation, and changes (up, master, namespace, name, MTU, delete).
 * Requests are built by the nl_build_link_* functions and sent through
 * nl_talk(); nothing here opens a socket. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include "net/nl.h"

/* ---- kinds and their kernel options ---------------------------------- */

static const struct {
	const char *kind;
	const char *config;
} kind_configs[] = {
	{ "vlan",    "CONFIG_VLAN_8021Q" },
	{ "macvlan", "CONFIG_MACVLAN" },
	{ "veth",    "CONFIG_VETH" },
	{ "bridge",  "CONFIG_BRIDGE" },
	{ "vxlan",   "CONFIG_VXLAN" },
	{ "vrf",     "CONFIG_NET_VRF" },
	{ "dummy",   "CONFIG_DUMMY" },
	{ "ipvlan",  "CONFIG_IPVLAN" },
	{ "gre",     "CONFIG_NET_IPGRE" },
	{ "gretap",  "CONFIG_NET_IPGRE" },
	{ "bond",    "CONFIG_BONDING" },
};

const char *nl_kind_config(const char *kind)
{
	size_t i;

	if (!kind)
		return NULL;
	for (i = 0; i < ARRAY_SIZE(kind_configs); i++) {
		if (!strcmp(kind_configs[i].kind, kind))
			return kind_configs[i].config;
	}
	return NULL;
}

int nl_link_create_error(char **err, const char *kind, const char *name,
			 int rc, const char *ext)
{
	const char *config = nl_kind_config(kind);
	bool unknown_kind;

	/* rtnl_newlink() answers "Unknown device type" with -EOPNOTSUPP when
	 * no driver registered the kind (module absent or not built). */
	unknown_kind = rc == -EOPNOTSUPP &&
		       (!ext || strstr(ext, "Unknown device type"));
	if (unknown_kind && config)
		memprintf(err, "cannot create %s link '%s': this kernel has no "
			  "'%s' link support (%s)", kind, name, kind, config);
	else if (unknown_kind)
		memprintf(err, "cannot create %s link '%s': this kernel has no "
			  "'%s' link support", kind, name, kind);
	else if (rc == -EOPNOTSUPP)
		memprintf(err, "cannot create %s link '%s': %s (is %s built?)",
			  kind, name, ext, config ? config : "its driver");
	else
		memprintf(err, "cannot create %s link '%s': %s", kind, name,
			  ext ? ext : strerror(-rc));
	return rc;
}

/* ---- builders -------------------------------------------------------- */

/* Starts RTM_NEWLINK(CREATE|EXCL) for name with IFLA_LINK = parent (if
 * > 0), opens IFLA_LINKINFO with the kind, and returns the linkinfo nest.
 * Data for the kind goes in an IFLA_INFO_DATA nest opened by the caller. */
static struct nlattr *link_new_start(struct nl_req *r, void *buf, size_t size,
				     const char *name, const char *kind,
				     int parent)
{
	struct ifinfomsg *ifi;
	struct nlattr *info;

	nl_req_init(r, buf, size, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL,
		    sizeof(*ifi), (void **)&ifi);
	if (ifi)
		ifi->ifi_family = AF_UNSPEC;
	nl_req_put_str(r, IFLA_IFNAME, name);
	if (parent > 0)
		nl_req_put_u32(r, IFLA_LINK, (uint32_t)parent);
	info = nl_req_nest_start(r, IFLA_LINKINFO);
	nl_req_put_str(r, IFLA_INFO_KIND, kind);
	return info;
}

struct nlmsghdr *nl_build_link_veth(void *buf, size_t size, const char *name,
				    const char *peer, int peer_nsfd)
{
	struct nlattr *info, *data, *peer_nest;
	struct ifinfomsg *pifi;
	struct nl_req r;

	if (!nl_ifname_valid(name) || !nl_ifname_valid(peer)) {
		errno = EINVAL;
		return NULL;
	}
	info = link_new_start(&r, buf, size, name, "veth", 0);
	data = nl_req_nest_start(&r, IFLA_INFO_DATA);
	/* VETH_INFO_PEER holds a whole link description: an ifinfomsg
	 * followed by IFLA_* attributes that apply to the peer only. */
	peer_nest = nl_req_nest_start(&r, VETH_INFO_PEER);
	nl_req_put_raw(&r, sizeof(*pifi), (void **)&pifi);
	if (pifi)
		pifi->ifi_family = AF_UNSPEC;
	nl_req_put_str(&r, IFLA_IFNAME, peer);
	if (peer_nsfd >= 0)
		nl_req_put_u32(&r, IFLA_NET_NS_FD, (uint32_t)peer_nsfd);
	nl_req_nest_end(&r, peer_nest);
	nl_req_nest_end(&r, data);
	nl_req_nest_end(&r, info);
	return nl_req_finish(&r);
}

struct nlmsghdr *nl_build_link_bridge(void *buf, size_t size, const char *name)
{
	struct nlattr *info;
	struct nl_req r;

	if (!nl_ifname_valid(name)) {
		errno = EINVAL;
		return NULL;
	}
	info = link_new_start(&r, buf, size, name, "bridge", 0);
	nl_req_nest_end(&r, info);
	return nl_req_finish(&r);
}

struct nlmsghdr *nl_build_link_vlan(void *buf, size_t size, const char *name,
				    int parent, int vlan_id)
{
	struct nlattr *info, *data;
	struct nl_req r;

	/* 4095 is reserved by 802.1Q; 0 is priority tagging, which the
	 * kernel allows. */
	if (!nl_ifname_valid(name) || parent <= 0 || vlan_id < 0 ||
	    vlan_id > 4094) {
		errno = EINVAL;
		return NULL;
	}
	info = link_new_start(&r, buf, size, name, "vlan", parent);
	data = nl_req_nest_start(&r, IFLA_INFO_DATA);
	nl_req_put_u16(&r, IFLA_VLAN_ID, (uint16_t)vlan_id);
	nl_req_nest_end(&r, data);
	nl_req_nest_end(&r, info);
	return nl_req_finish(&r);
}

struct nlmsghdr *nl_build_link_macvlan(void *buf, size_t size, const char *name,
				       int parent, uint32_t mode)
{
	struct nlattr *info, *data;
	struct nl_req r;

	if (!nl_ifname_valid(name) || parent <= 0 || !mode) {
		errno = EINVAL;
		return NULL;
	}
	info = link_new_start(&r, buf, size, name, "macvlan", parent);
	data = nl_req_nest_start(&r, IFLA_INFO_DATA);
	nl_req_put_u32(&r, IFLA_MACVLAN_MODE, mode);
	nl_req_nest_end(&r, data);
	nl_req_nest_end(&r, info);
	return nl_req_finish(&r);
}

struct nlmsghdr *nl_build_link_change(void *buf, size_t size, int ifindex,
				      const struct nl_link_change *c)
{
	struct ifinfomsg *ifi;
	struct nl_req r;

	if (ifindex <= 0 || (c->name && !nl_ifname_valid(c->name)) ||
	    (c->alias && strlen(c->alias) >= NL_ALIAS_MAX) ||
	    c->up < -1 || c->up > 1 || c->master < -1 || c->netns_fd < -1) {
		errno = EINVAL;
		return NULL;
	}
	nl_req_init(&r, buf, size, RTM_SETLINK, 0, sizeof(*ifi), (void **)&ifi);
	if (ifi) {
		ifi->ifi_family = AF_UNSPEC;
		ifi->ifi_index = ifindex;
		/* ifi_change: which ifi_flags bits the kernel applies. */
		if (c->up >= 0) {
			ifi->ifi_change = IFF_UP;
			ifi->ifi_flags = c->up ? IFF_UP : 0;
		}
	}
	if (c->master >= 0)
		nl_req_put_u32(&r, IFLA_MASTER, (uint32_t)c->master);
	if (c->netns_fd >= 0)
		nl_req_put_u32(&r, IFLA_NET_NS_FD, (uint32_t)c->netns_fd);
	if (c->name)
		nl_req_put_str(&r, IFLA_IFNAME, c->name);
	if (c->mtu)
		nl_req_put_u32(&r, IFLA_MTU, c->mtu);
	if (c->alias)
		nl_req_put_str(&r, IFLA_IFALIAS, c->alias);
	return nl_req_finish(&r);
}

struct nlmsghdr *nl_build_link_del(void *buf, size_t size, int ifindex)
{
	struct ifinfomsg *ifi;
	struct nl_req r;

	if (ifindex <= 0) {
		errno = EINVAL;
		return NULL;
	}
	nl_req_init(&r, buf, size, RTM_DELLINK, 0, sizeof(*ifi), (void **)&ifi);
	if (ifi) {
		ifi->ifi_family = AF_UNSPEC;
		ifi->ifi_index = ifindex;
	}
	return nl_req_finish(&r);
}

struct nlmsghdr *nl_build_link_get(void *buf, size_t size, const char *name)
{
	struct ifinfomsg *ifi;
	struct nl_req r;

	if (!nl_ifname_valid(name)) {
		errno = EINVAL;
		return NULL;
	}
	nl_req_init(&r, buf, size, RTM_GETLINK, 0, sizeof(*ifi), (void **)&ifi);
	if (ifi)
		ifi->ifi_family = AF_UNSPEC;
	nl_req_put_str(&r, IFLA_IFNAME, name);
	/* Counters are of no use here and make the answer bigger. */
	nl_req_put_u32(&r, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	return nl_req_finish(&r);
}

/* ---- parsing RTM_NEWLINK --------------------------------------------- */

/* Collects the attributes of one nesting level, indexed by type, keeping
 * only those that pass validation against `types` (MNL_TYPE_UNSPEC =
 * ignore). */
struct attr_tab {
	const struct nlattr **tb;
	const enum mnl_attr_data_type *types;
	unsigned max;
};

static int attr_tab_cb(const struct nlattr *attr, void *data)
{
	const struct attr_tab *t = data;
	unsigned type = mnl_attr_get_type(attr);

	if (type > t->max || t->types[type] == MNL_TYPE_UNSPEC)
		return MNL_CB_OK;
	if (mnl_attr_validate(attr, t->types[type]) < 0)
		return MNL_CB_OK;   /* malformed: treat as absent */
	t->tb[type] = attr;
	return MNL_CB_OK;
}

static void link_parse_kind_data(const struct nlattr *data,
				 struct nl_link_info *out)
{
	/* IFLA_VLAN_ID and IFLA_MACVLAN_MODE are both attribute 1 of their
	 * kind's IFLA_INFO_DATA; only the kind tells them apart. */
	const struct nlattr *tb[2] = { 0 };
	enum mnl_attr_data_type types[2] = { MNL_TYPE_UNSPEC };
	struct attr_tab t = { tb, types, 1 };

	if (!strcmp(out->kind, "vlan")) {
		types[IFLA_VLAN_ID] = MNL_TYPE_U16;
		mnl_attr_parse_nested(data, attr_tab_cb, &t);
		if (tb[IFLA_VLAN_ID])
			out->vlan_id = mnl_attr_get_u16(tb[IFLA_VLAN_ID]);
	} else if (!strcmp(out->kind, "macvlan")) {
		types[IFLA_MACVLAN_MODE] = MNL_TYPE_U32;
		mnl_attr_parse_nested(data, attr_tab_cb, &t);
		if (tb[IFLA_MACVLAN_MODE])
			out->macvlan_mode =
				(int)mnl_attr_get_u32(tb[IFLA_MACVLAN_MODE]);
	}
}

static void link_parse_linkinfo(const struct nlattr *linkinfo,
				struct nl_link_info *out)
{
	const struct nlattr *tb[IFLA_INFO_MAX + 1] = { 0 };
	enum mnl_attr_data_type types[IFLA_INFO_MAX + 1] = {
		[IFLA_INFO_KIND] = MNL_TYPE_STRING,
		[IFLA_INFO_DATA] = MNL_TYPE_NESTED,
	};
	struct attr_tab t = { tb, types, IFLA_INFO_MAX };
	const char *kind;
	size_t len;

	mnl_attr_parse_nested(linkinfo, attr_tab_cb, &t);
	if (!tb[IFLA_INFO_KIND])
		return;
	kind = mnl_attr_get_payload(tb[IFLA_INFO_KIND]);
	len = strnlen(kind, mnl_attr_get_payload_len(tb[IFLA_INFO_KIND]));
	if (len >= sizeof(out->kind))
		len = sizeof(out->kind) - 1;
	memcpy(out->kind, kind, len);
	out->kind[len] = '\0';
	if (tb[IFLA_INFO_DATA])
		link_parse_kind_data(tb[IFLA_INFO_DATA], out);
}

static int link_info_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[IFLA_MAX + 1] = { 0 };
	enum mnl_attr_data_type types[IFLA_MAX + 1] = {
		[IFLA_IFNAME] = MNL_TYPE_STRING,
		[IFLA_MTU] = MNL_TYPE_U32,
		[IFLA_MASTER] = MNL_TYPE_U32,
		[IFLA_LINK] = MNL_TYPE_U32,
		[IFLA_LINKINFO] = MNL_TYPE_NESTED,
		[IFLA_IFALIAS] = MNL_TYPE_STRING,
	};
	struct attr_tab t = { tb, types, IFLA_MAX };
	struct nl_link_info *out = data;
	const struct ifinfomsg *ifi;
	const char *name;
	size_t len;

	if (nlh->nlmsg_type != RTM_NEWLINK ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
		return MNL_CB_OK;
	ifi = mnl_nlmsg_get_payload(nlh);
	memset(out, 0, sizeof(*out));
	out->vlan_id = -1;
	out->macvlan_mode = -1;
	out->index = ifi->ifi_index;
	out->flags = ifi->ifi_flags;
	if (mnl_attr_parse(nlh, sizeof(*ifi), attr_tab_cb, &t) < 0)
		return MNL_CB_OK;
	if (tb[IFLA_IFNAME]) {
		name = mnl_attr_get_payload(tb[IFLA_IFNAME]);
		len = strnlen(name, mnl_attr_get_payload_len(tb[IFLA_IFNAME]));
		if (len < IFNAMSIZ)
			memcpy(out->name, name, len);
	}
	if (tb[IFLA_MTU])
		out->mtu = mnl_attr_get_u32(tb[IFLA_MTU]);
	if (tb[IFLA_MASTER])
		out->master = (int)mnl_attr_get_u32(tb[IFLA_MASTER]);
	if (tb[IFLA_LINK])
		out->link = (int)mnl_attr_get_u32(tb[IFLA_LINK]);
	if (tb[IFLA_LINKINFO])
		link_parse_linkinfo(tb[IFLA_LINKINFO], out);
	if (tb[IFLA_IFALIAS]) {
		const char *alias = mnl_attr_get_payload(tb[IFLA_IFALIAS]);

		len = strnlen(alias, mnl_attr_get_payload_len(tb[IFLA_IFALIAS]));
		if (len < sizeof(out->alias))
			memcpy(out->alias, alias, len);
	}
	return MNL_CB_STOP;
}

/* ---- operations ------------------------------------------------------ */

int nl_link_get(struct nl_sock *s, const char *name, struct nl_link_info *out,
		char **err)
{
	char buf[NL_REQ_SIZE];
	struct nlmsghdr *nlh;
	int rc;

	memset(out, 0, sizeof(*out));
	nlh = nl_build_link_get(buf, sizeof(buf), name);
	if (!nlh) {
		memprintf(err, "invalid interface name '%s'", name ? name : "");
		return -EINVAL;
	}
	rc = nl_talkf(s, nlh, link_info_cb, out, err, "look up link '%s'",
		      name);
	if (rc == -ENODEV)
		memprintf(err, "no link named '%s'", name);
	if (rc < 0)
		return rc;
	if (out->index <= 0) {
		memprintf(err, "look up link '%s': no answer", name);
		return -ENODEV;
	}
	return out->index;
}

int nl_link_index(struct nl_sock *s, const char *name, char kind[NL_KIND_MAX],
		  char **err)
{
	struct nl_link_info info;
	int rc;

	rc = nl_link_get(s, name, &info, err);
	if (kind) {
		kind[0] = '\0';
		if (rc > 0)
			memcpy(kind, info.kind, NL_KIND_MAX);
	}
	return rc;
}

/* Sends a built RTM_NEWLINK and turns a failure into the kind-aware text. */
static int link_create(struct nl_sock *s, struct nlmsghdr *nlh,
		       const char *kind, const char *name, char **err)
{
	char *ext = NULL;
	int rc;

	if (!nlh) {
		rc = -errno;
		memprintf(err, "cannot create %s link '%s': %s", kind,
			  name ? name : "", rc == -EINVAL ?
			  "invalid name or parameter" : strerror(-rc));
		return rc;
	}
	rc = nl_talk(s, nlh, NULL, NULL, &ext);
	if (rc < 0)
		nl_link_create_error(err, kind, name, rc, ext);
	free(ext);
	return rc;
}

int nl_link_add_veth(struct nl_sock *s, const char *name, const char *peer,
		     int peer_nsfd, char **err)
{
	char buf[NL_REQ_SIZE];

	return link_create(s, nl_build_link_veth(buf, sizeof(buf), name, peer,
						 peer_nsfd),
			   "veth", name, err);
}

int nl_link_add_bridge(struct nl_sock *s, const char *name, char **err)
{
	char buf[NL_REQ_SIZE];

	return link_create(s, nl_build_link_bridge(buf, sizeof(buf), name),
			   "bridge", name, err);
}

int nl_link_add_vlan(struct nl_sock *s, const char *name, int parent,
		     int vlan_id, char **err)
{
	char buf[NL_REQ_SIZE];

	return link_create(s, nl_build_link_vlan(buf, sizeof(buf), name, parent,
						 vlan_id),
			   "vlan", name, err);
}

int nl_link_add_macvlan(struct nl_sock *s, const char *name, int parent,
			char **err)
{
	char buf[NL_REQ_SIZE];

	return link_create(s, nl_build_link_macvlan(buf, sizeof(buf), name,
						    parent,
						    MACVLAN_MODE_BRIDGE),
			   "macvlan", name, err);
}

static int link_change(struct nl_sock *s, int ifindex,
		       const struct nl_link_change *c, const char *what,
		       char **err)
{
	char buf[NL_REQ_SIZE];
	struct nlmsghdr *nlh;

	nlh = nl_build_link_change(buf, sizeof(buf), ifindex, c);
	if (!nlh) {
		memprintf(err, "%s link #%d: invalid parameter", what, ifindex);
		return -EINVAL;
	}
	return nl_talkf(s, nlh, NULL, NULL, err, "%s link #%d", what, ifindex);
}

int nl_link_set(struct nl_sock *s, int ifindex, const struct nl_link_change *c,
		char **err)
{
	return link_change(s, ifindex, c, "change", err);
}

int nl_link_set_up(struct nl_sock *s, int ifindex, bool up, char **err)
{
	struct nl_link_change c = NL_LINK_CHANGE_INIT;

	c.up = up;
	return link_change(s, ifindex, &c, up ? "set up" : "set down", err);
}

int nl_link_set_master(struct nl_sock *s, int ifindex, int master, char **err)
{
	struct nl_link_change c = NL_LINK_CHANGE_INIT;

	c.master = master < 0 ? 0 : master;
	return link_change(s, ifindex, &c, master > 0 ? "enslave" : "release",
			   err);
}

int nl_link_set_netns(struct nl_sock *s, int ifindex, int nsfd, char **err)
{
	struct nl_link_change c = NL_LINK_CHANGE_INIT;

	if (nsfd < 0) {
		memprintf(err, "move link #%d: no namespace fd", ifindex);
		return -EBADF;
	}
	c.netns_fd = nsfd;
	return link_change(s, ifindex, &c, "move to namespace", err);
}

int nl_link_rename(struct nl_sock *s, int ifindex, const char *name,
		   char **err)
{
	struct nl_link_change c = NL_LINK_CHANGE_INIT;

	if (!nl_ifname_valid(name)) {
		memprintf(err, "rename link #%d: invalid interface name '%s'",
			  ifindex, name ? name : "");
		return -EINVAL;
	}
	c.name = name;
	return link_change(s, ifindex, &c, "rename", err);
}

int nl_link_set_mtu(struct nl_sock *s, int ifindex, unsigned mtu, char **err)
{
	struct nl_link_change c = NL_LINK_CHANGE_INIT;

	if (!mtu) {
		memprintf(err, "set MTU of link #%d: MTU 0", ifindex);
		return -EINVAL;
	}
	c.mtu = mtu;
	return link_change(s, ifindex, &c, "set MTU of", err);
}

int nl_link_del(struct nl_sock *s, int ifindex, char **err)
{
	char buf[NL_REQ_SIZE];
	struct nlmsghdr *nlh;

	nlh = nl_build_link_del(buf, sizeof(buf), ifindex);
	if (!nlh) {
		memprintf(err, "delete link #%d: invalid index", ifindex);
		return -EINVAL;
	}
	return nl_talkf(s, nlh, NULL, NULL, err, "delete link #%d", ifindex);
}
