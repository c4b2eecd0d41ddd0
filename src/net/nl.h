/* nl.h — rtnetlink over libmnl: one narrow door, message builders, links,
 * addresses, routes and policy rules.
 *
 * Shape:
 *   - nl_talk() is the only function that sends and receives. It sends one
 *     request with NLM_F_ACK, reads until the ACK (or NLMSG_DONE for a dump),
 *     checks sequence numbers and turns NLMSG_ERROR into -errno, copying the
 *     kernel's extended ACK text into *err when the kernel gave one.
 *   - nl_build_*() fill a caller's buffer and return the message, or NULL with
 *     errno = EINVAL (bad argument) / ENOBUFS (buffer too small). They never
 *     touch a socket, so unit tests inspect their attributes without a kernel.
 *   - nl_link_*, nl_addr_*, nl_route_*, nl_rule_*: build + nl_talk, with an
 *     operator-facing *err ("create veth 'dp-a': File exists").
 *
 * A socket talks to the network namespace it was created in. To work in
 * another namespace, create the socket there with ns_socket() (ns.h) and
 * hand it to nl_open_fd().
 *
 * Everything returns 0 (or a count / an index) on success and -errno on
 * failure, following common.h. Nothing here is thread-safe per socket.
 */
#ifndef DECOYPROXY_NL_H
#define DECOYPROXY_NL_H

#include <stdbool.h>
#include <stdint.h>
#include <net/if.h>
#include <netinet/in.h>
#include <libmnl/libmnl.h>

#include "lib/common.h"

/* Size of a request buffer that fits every message built here. */
#define NL_REQ_SIZE 1024

/* Longest link kind name we report ("macvlan", "bridge", ...). */
#define NL_KIND_MAX 32

/* Room for a link alias with its NUL (the kernel's IFALIASZ). */
#define NL_ALIAS_MAX 256

struct nl_sock;

/* ---- the narrow door (nl.c) ------------------------------------------ */

/* Opens a NETLINK_ROUTE socket in the calling thread's network namespace,
 * with extended ACKs and capped ACKs enabled and a receive timeout so that
 * nl_talk() never blocks forever. On success *out is owned by the caller
 * (release with nl_close()). Returns 0 or -errno. */
int nl_open(struct nl_sock **out);

/* Like nl_open() but adopts fd, an AF_NETLINK/NETLINK_ROUTE socket that the
 * caller created (typically with ns_socket() in another namespace). The fd
 * is owned by the new nl_sock from then on, and closed on failure too. */
int nl_open_fd(struct nl_sock **out, int fd);

/* Closes the socket and frees s. NULL is a no-op. */
void nl_close(struct nl_sock *s);

/* Sends req (built in a caller's buffer; nl_talk sets its sequence number,
 * port id, NLM_F_REQUEST and NLM_F_ACK) and reads the answer until the ACK,
 * the error or NLMSG_DONE. Every other message carrying our sequence number
 * is passed to cb (may be NULL) with data; messages with another sequence
 * number (late answers to an abandoned request) are skipped.
 *
 * cb returns MNL_CB_OK to go on, MNL_CB_STOP to stop being called, or
 * MNL_CB_ERROR with errno set to fail the call; in every case nl_talk reads
 * the rest of the answer so that the socket stays in step.
 *
 * Returns 0, or -errno: the kernel's error, cb's error, -ETIMEDOUT when the
 * answer did not come in time, -EINTR when a dump was interrupted by a
 * concurrent change (retry it). When the kernel attached an extended ACK
 * message to its error, *err (if err is non-NULL) is set to a copy of it and
 * the caller frees it; otherwise *err is left untouched. */
int nl_talk(struct nl_sock *s, struct nlmsghdr *req, mnl_cb_t cb, void *data,
	    char **err);

/* nl_talk() for callers that want a complete operator message: on failure
 * *err becomes "<what>: <kernel message>" or "<what>: <strerror>", where
 * <what> is formatted from fmt. Returns what nl_talk returned. */
int nl_talkf(struct nl_sock *s, struct nlmsghdr *req, mnl_cb_t cb, void *data,
	     char **err, const char *fmt, ...) DP_PRINTF(6, 7);

/* ---- building requests (nl.c) ---------------------------------------- */

/* A request being written into a caller's buffer. Each put that would
 * overflow the buffer marks the request failed instead of writing, so that a
 * builder can put everything and check once in nl_req_finish(). */
struct nl_req {
	struct nlmsghdr *nlh;
	size_t size;            /* bytes available from nlh */
	bool overflow;
};

/* Starts a message of type/flags in buf[size] followed by a zeroed family
 * header of hdrlen bytes, returned through *hdr (may be NULL). flags are
 * NLM_F_* bits besides NLM_F_REQUEST, which is always set. */
void nl_req_init(struct nl_req *r, void *buf, size_t size, uint16_t type,
		 uint16_t flags, size_t hdrlen, void **hdr);
void nl_req_put(struct nl_req *r, uint16_t type, size_t len, const void *data);
void nl_req_put_u8(struct nl_req *r, uint16_t type, uint8_t v);
void nl_req_put_u16(struct nl_req *r, uint16_t type, uint16_t v);
void nl_req_put_u32(struct nl_req *r, uint16_t type, uint32_t v);
void nl_req_put_str(struct nl_req *r, uint16_t type, const char *s);
/* Appends len raw bytes (zero-padded to 4) outside any attribute: used for
 * the struct ifinfomsg that starts a veth peer. *out points at them. */
void nl_req_put_raw(struct nl_req *r, size_t len, void **out);
/* Returns NULL (and marks the request failed) when the nest does not fit;
 * nl_req_nest_end(r, NULL) is then a no-op. */
struct nlattr *nl_req_nest_start(struct nl_req *r, uint16_t type);
void nl_req_nest_end(struct nl_req *r, struct nlattr *nest);
/* Returns the finished message, or NULL with errno = ENOBUFS. */
struct nlmsghdr *nl_req_finish(struct nl_req *r);

/* ---- interface names (nl.c) ------------------------------------------ */

/* True when name is a name the kernel accepts for a link: 1 to 15 bytes
 * (IFNAMSIZ with its NUL), not "." or "..", no '/', ':' or whitespace. */
bool nl_ifname_valid(const char *name);

/* Derives a link name from prefix and base (for example "dp-" and a segment
 * name) into out[IFNAMSIZ]. The rule, stable across versions because names
 * outlive the process:
 *   - if prefix+base fits in 15 bytes, out = prefix+base;
 *   - otherwise out = the first 10 bytes of prefix+base, '-', and 4
 *     lowercase hex digits: the 32-bit FNV-1a hash of the whole prefix+base,
 *     folded to 16 bits by XOR of its halves.
 * Two long names sharing their first 10 bytes collide with probability
 * 1/65536; callers that must be sure check for an existing link.
 * Returns 0, or -EINVAL when base is empty or the result would not be a
 * valid name (e.g. base holds '/', ':' or whitespace); out is then "". */
int nl_ifname_derive(char out[IFNAMSIZ], const char *prefix, const char *base);

/* ---- links (nl_link.c) ----------------------------------------------- */

/* What the kernel reports about one link. */
struct nl_link_info {
	int index;
	char name[IFNAMSIZ];
	char kind[NL_KIND_MAX];  /* IFLA_INFO_KIND, "" for plain devices */
	unsigned flags;          /* IFF_* (IFF_UP, IFF_LOOPBACK, ...) */
	unsigned mtu;
	int master;              /* IFLA_MASTER ifindex, 0 if none */
	int link;                /* IFLA_LINK (parent / veth peer), 0 if none */
	int vlan_id;             /* IFLA_VLAN_ID for kind "vlan", else -1 */
	int macvlan_mode;        /* IFLA_MACVLAN_MODE for "macvlan", else -1 */
	char alias[NL_ALIAS_MAX]; /* IFLA_IFALIAS ("ip link set ... alias"), "" if none */
};

/* Kernel option that provides link kind `kind` ("vlan" ->
 * "CONFIG_VLAN_8021Q"), or NULL for a kind not in the table. */
const char *nl_kind_config(const char *kind);

/* Builds the operator message for a failed RTM_NEWLINK of `kind` named
 * `name`: when rc is -EOPNOTSUPP and the kernel did not know the kind (no
 * message, or "Unknown device type"), the text names the kind and the
 * kernel option; otherwise "create <kind> link '<name>': <ext or strerror>".
 * ext is the kernel's extended ACK text or NULL. Sets *err (freed first);
 * returns rc unchanged. */
int nl_link_create_error(char **err, const char *kind, const char *name,
			 int rc, const char *ext);

/* What nl_build_link_change() changes; fields left at their
 * NL_LINK_CHANGE_INIT value are not sent. */
struct nl_link_change {
	int up;              /* 1 up, 0 down, -1 unchanged */
	int master;          /* >0 enslave to it, 0 release, -1 unchanged */
	int netns_fd;        /* >=0 move to that namespace, -1 unchanged */
	const char *name;    /* new name, NULL unchanged */
	unsigned mtu;        /* new MTU, 0 unchanged */
	const char *alias;   /* new alias (IFLA_IFALIAS), "" removes it, NULL unchanged */
};
#define NL_LINK_CHANGE_INIT { .up = -1, .master = -1, .netns_fd = -1, \
			      .name = NULL, .mtu = 0, .alias = NULL }

/* Builders: RTM_NEWLINK with NLM_F_CREATE|NLM_F_EXCL for the add builders,
 * RTM_SETLINK for changes, RTM_DELLINK, RTM_GETLINK by name (ifindex 0). */
struct nlmsghdr *nl_build_link_veth(void *buf, size_t size, const char *name,
				    const char *peer, int peer_nsfd);
struct nlmsghdr *nl_build_link_bridge(void *buf, size_t size, const char *name);
struct nlmsghdr *nl_build_link_vlan(void *buf, size_t size, const char *name,
				    int parent, int vlan_id);
struct nlmsghdr *nl_build_link_macvlan(void *buf, size_t size, const char *name,
				       int parent, uint32_t mode);
struct nlmsghdr *nl_build_link_change(void *buf, size_t size, int ifindex,
				      const struct nl_link_change *c);
struct nlmsghdr *nl_build_link_del(void *buf, size_t size, int ifindex);
struct nlmsghdr *nl_build_link_get(void *buf, size_t size, const char *name);

/* Fills *out for the link called name. Returns its ifindex (> 0), -ENODEV
 * when there is no such link (*err then names it), or another -errno. */
int nl_link_get(struct nl_sock *s, const char *name, struct nl_link_info *out,
		char **err);
/* Ifindex of name (> 0); kind (may be NULL) receives IFLA_INFO_KIND or "".
 * Errors as nl_link_get(). */
int nl_link_index(struct nl_sock *s, const char *name, char kind[NL_KIND_MAX],
		  char **err);

/* Creators. They fail with -EEXIST when the name is taken and with
 * -EOPNOTSUPP when the kernel lacks the kind (see nl_link_create_error()).
 * A veth peer goes into namespace peer_nsfd when >= 0 (the fd stays the
 * caller's). Parents are ifindexes in the socket's namespace. */
int nl_link_add_veth(struct nl_sock *s, const char *name, const char *peer,
		     int peer_nsfd, char **err);
int nl_link_add_bridge(struct nl_sock *s, const char *name, char **err);
int nl_link_add_vlan(struct nl_sock *s, const char *name, int parent,
		     int vlan_id, char **err);
/* Macvlan in MACVLAN_MODE_BRIDGE: siblings on one parent reach each other. */
int nl_link_add_macvlan(struct nl_sock *s, const char *name, int parent,
			char **err);

int nl_link_set_up(struct nl_sock *s, int ifindex, bool up, char **err);
/* master 0 releases the link from its master. */
int nl_link_set_master(struct nl_sock *s, int ifindex, int master, char **err);
/* Moves the link into the namespace nsfd (the fd stays the caller's); the
 * ifindex is meaningless in this socket's namespace afterwards. */
int nl_link_set_netns(struct nl_sock *s, int ifindex, int nsfd, char **err);
int nl_link_rename(struct nl_sock *s, int ifindex, const char *name,
		   char **err);
int nl_link_set_mtu(struct nl_sock *s, int ifindex, unsigned mtu, char **err);
/* Every change c names, in one RTM_SETLINK request; an error names
 * "change link #<ifindex>". */
int nl_link_set(struct nl_sock *s, int ifindex, const struct nl_link_change *c,
		char **err);
/* Deleting one end of a veth pair deletes both. */
int nl_link_del(struct nl_sock *s, int ifindex, char **err);

/* ---- addresses (nl_addr.c) ------------------------------------------- */

union nl_ip {
	struct in_addr v4;
	struct in6_addr v6;
};

/* One address of a link, as dumped. */
struct nl_addr_entry {
	int family;              /* AF_INET or AF_INET6 */
	int ifindex;
	unsigned prefixlen;
	union nl_ip addr;        /* IFA_LOCAL if present, else IFA_ADDRESS */
	uint32_t flags;          /* IFA_F_* (IFA_FLAGS when present) */
	unsigned scope;
};

/* nl_addr_add() flag: IPv6 only, skip duplicate address detection so the
 * address is usable at once (IFA_F_NODAD). */
#define NL_ADDR_NODAD 0x1

/* RTM_NEWADDR (NLM_F_CREATE|NLM_F_EXCL) or RTM_DELADDR for addr/prefixlen
 * (addr points at a struct in_addr or in6_addr per family) on ifindex. */
struct nlmsghdr *nl_build_addr(void *buf, size_t size, uint16_t type,
			       int ifindex, int family, const void *addr,
			       unsigned prefixlen, unsigned nl_flags);

/* Adds addr/prefixlen to ifindex. -EEXIST (distinct, with *err set) when
 * the link already has that address, so callers can treat it as done. */
int nl_addr_add(struct nl_sock *s, int ifindex, int family, const void *addr,
		unsigned prefixlen, unsigned nl_flags, char **err);
/* Removes it; -EADDRNOTAVAIL when the link does not have it. */
int nl_addr_del(struct nl_sock *s, int ifindex, int family, const void *addr,
		unsigned prefixlen, char **err);
/* Lists the addresses of ifindex (0: all links) of family (AF_UNSPEC: both)
 * into out[max]. Returns how many there are, which may exceed max (only max
 * are stored), or -errno. */
int nl_addr_list(struct nl_sock *s, int ifindex, int family,
		 struct nl_addr_entry *out, size_t max, char **err);

/* ---- routes and rules (nl_route.c) ----------------------------------- */

/* A route to add, delete or look for. Zero-initialise, then set fields. */
struct nl_route {
	int family;              /* AF_INET / AF_INET6 */
	uint8_t type;            /* RTN_UNICAST (0 means unicast), RTN_LOCAL… */
	uint32_t table;          /* 0 means RT_TABLE_MAIN; any id, > 255 ok */
	union nl_ip dst;         /* destination prefix (zero: default) */
	unsigned dst_len;
	bool has_gw;
	union nl_ip gw;
	int oif;                 /* output ifindex, 0 none */
	bool onlink;             /* RTNH_F_ONLINK: gw needs no route to it */
	uint32_t metric;         /* RTA_PRIORITY, 0 not sent */
	uint8_t protocol;        /* add: 0 means RTPROT_BOOT, as `ip route`;
	                          * delete: 0 matches any, else only routes of
	                          * that protocol */
};

/* RTM_NEWROUTE (NLM_F_CREATE|NLM_F_EXCL) or RTM_DELROUTE. rtm_table holds
 * the table when < 256, else RT_TABLE_UNSPEC; RTA_TABLE is always sent.
 * Scope: host for local routes, link for gateway-less unicast, universe
 * otherwise; RT_SCOPE_NOWHERE (match any) on delete. */
struct nlmsghdr *nl_build_route(void *buf, size_t size, uint16_t type,
				const struct nl_route *r);

int nl_route_add(struct nl_sock *s, const struct nl_route *r, char **err);
int nl_route_del(struct nl_sock *s, const struct nl_route *r, char **err);
/* Dumps the family's routes and looks for one with the same table, type,
 * destination, gateway and oif (oif 0 matches any). Returns 1, 0 or -errno. */
int nl_route_exists(struct nl_sock *s, const struct nl_route *r, char **err);
/* The same, counting only routes of `protocol` (< 0: any); r->protocol
 * is not looked at. Returns 1, 0 or -errno. */
int nl_route_find(struct nl_sock *s, const struct nl_route *r, int protocol,
		  char **err);
/* Calls fn(data, route) for every route of family (its table, type,
 * destination, gateway, oif and protocol filled in; cached clones
 * skipped). Returns the number of routes passed, or -errno. */
int nl_route_dump(struct nl_sock *s, int family,
		  void (*fn)(void *data, const struct nl_route *r), void *data,
		  char **err);

/* A policy rule `fwmark M/mask lookup T priority P`. Zero-initialise. */
struct nl_rule {
	int family;              /* AF_INET / AF_INET6 */
	bool has_fwmark;
	uint32_t fwmark;
	uint32_t fwmask;         /* 0 means 0xffffffff, as the kernel does */
	uint32_t table;          /* lookup table, any id */
	bool has_priority;       /* without it the kernel picks one */
	uint32_t priority;
	uint8_t protocol;        /* FRA_PROTOCOL, who added it; 0 not sent.
	                          * On delete it narrows the match to rules of
	                          * that protocol */
};

/* RTM_NEWRULE (NLM_F_CREATE|NLM_F_EXCL: the kernel then refuses an
 * identical rule with -EEXIST) or RTM_DELRULE, action FR_ACT_TO_TBL, with
 * FRA_FWMARK, FRA_FWMASK, FRA_TABLE, FRA_PRIORITY and FRA_PROTOCOL as
 * given. */
struct nlmsghdr *nl_build_rule(void *buf, size_t size, uint16_t type,
			       const struct nl_rule *r);

/* -EEXIST (distinct, *err set) when an identical rule exists. */
int nl_rule_add(struct nl_sock *s, const struct nl_rule *r, char **err);
/* -ENOENT when there is no such rule. */
int nl_rule_del(struct nl_sock *s, const struct nl_rule *r, char **err);
/* Dumps the family's rules and looks for a "lookup" rule with exactly this
 * fwmark/mask, table and (when has_priority) priority, and no other
 * selector (addresses, interfaces, ports, uid, invert...). 1, 0 or -errno. */
int nl_rule_exists(struct nl_sock *s, const struct nl_rule *r, char **err);
/* The same, counting only rules of `protocol` (< 0: any); r->protocol is
 * not looked at. Returns 1, 0 or -errno. */
int nl_rule_find(struct nl_sock *s, const struct nl_rule *r, int protocol,
		 char **err);

#endif
