/* nft.h — nftables TPROXY plumbing over libnftnl/libmnl.
 *
 * decoyproxy owns exactly one table, `inet decoyproxy`, and never touches
 * any other. A plan (struct nft_plan) is a list of diverts: each divert is
 * one set of decoy (address, port) pairs of one family and the listener its
 * connections go to. In the table, for diverts 1..n:
 *
 *   set <divert 1's set> { type ipv4_addr . inet_service; flags interval; }
 *   set <divert 2's set> { type ipv6_addr . inet_service; flags interval; }
 *   ...
 *   chain prerouting { type filter hook prerouting priority mangle; }
 *     1.   meta iiftype != loopback meta l4proto tcp
 *              ip daddr . tcp dport @<divert 1's set>
 *              tproxy ip to <its listener> meta mark set <mark> accept
 *     2.   meta iiftype != loopback meta l4proto tcp
 *              ip6 daddr . tcp dport @<divert 2's set>
 *              tproxy ip6 to <its listener> meta mark set <mark> accept
 *     ...
 *     n+1. meta l4proto tcp socket transparent 1 meta mark set <mark> accept
 *     n+2. meta l4proto udp socket transparent 1 meta mark set <mark> accept
 *          (only when the plan asks for it, or has a UDP divert)
 *
 * A divert with proto IPPROTO_UDP (udp-lb sections) gets the same rule
 * with `meta l4proto udp ... udp dport`; sets do not care about the
 * protocol (inet_service).
 *
 * A tproxy rule never takes a packet that came in on the loopback
 * interface. Every such packet was sent by a socket of this namespace to a
 * local address of it (a connection between two local sockets crosses
 * prerouting on `lo`); among them are decoyproxy's own connections to a
 * server or a health check at a local address. With a decoy range that
 * holds such an address (`intercept 0.0.0.0/0:*`, server 127.0.0.1) they
 * would be diverted back into the listener, and each session would open
 * the next: a loop up to maxconn. A connection from another host or
 * namespace always comes in on another interface. Matching the interface
 * type (ARPHRD_LOOPBACK) rather than a socket mark needs nothing from the
 * sockets (no SO_MARK, which CAP_NET_ADMIN and the operator's own fwmark
 * rules would have a say in) and covers every local socket, checks
 * included.
 *
 * Every tproxy rule comes BEFORE the socket rule: the other order diverts a
 * new SYN that matches a proxy-side TIME_WAIT socket to that socket instead
 * of the listener (see REFERENCE.md). The tproxy rules follow the order of
 * the diverts (their sets must not overlap, so the order between them does
 * not change where a packet goes; the caller checks that). A plan without
 * diverts (spoofing servers only) gets the table, the chain and the socket
 * rule. Set names are the caller's (tproxy.h derives them from frontend
 * names). Concatenated interval sets need Linux >= 5.6.
 *
 * Every change is one nfnetlink batch, so it applies atomically: when the
 * kernel refuses any message, nothing of the batch takes effect and the
 * previous ruleset stays. The batch builder is separate from the sender so
 * that unit tests can inspect the exact messages.
 *
 * Namespaces: this module never calls setns(). The functions take a
 * NETLINK_NETFILTER socket fd already opened in the right namespace (e.g.
 * by ns_socket(nsfd, AF_NETLINK, SOCK_RAW, NETLINK_NETFILTER)), or -1 to
 * open one in the current namespace for the duration of the call. A
 * caller's fd is not closed, but its SO_SNDBUF/SO_RCVBUF are raised and
 * NETLINK_EXT_ACK/NETLINK_CAP_ACK are switched on.
 */
#ifndef DECOYPROXY_NFT_H
#define DECOYPROXY_NFT_H

#include <sys/socket.h>
#include "lib/common.h"
#include "lib/intercept.h"

#define NFT_TABLE_NAME  "decoyproxy"
#define NFT_CHAIN_NAME  "prerouting"

/* Longest set name the kernel accepts (NFT_NAME_MAXLEN, 256, counts the
 * terminating NUL; a longer name is refused with ERANGE). */
#define NFT_SET_NAME_MAX 255
#define NFT_CHAIN_PRIO  (-150)          /* "mangle" */

/* The default mark: it is what the usual `ip rule add fwmark 1 lookup 100`
 * expects. A plan with mark 0 gets this one (mark 0 could never be matched
 * by an fwmark rule). */
#define NFT_MARK_DEFAULT 1u

/* Upper bound on one NFT_MSG_NEWSETELEM message: the element list is one
 * nested attribute, whose length field is 16 bits. Elements are split
 * across as many messages of the same batch as needed. */
#define NFT_ELEM_MSG_MAX 64000

/* How long the sender waits for the kernel's answers (the kernel processes
 * a batch synchronously inside sendmsg(), so this is only a safety bound). */
#define NFT_REPLY_TIMEOUT_MS 10000

/* What a divert's decoy addresses do besides diverting (net/nft_decoy.c).
 * With hosts set, for the addresses of `decoys` (any port) that are not
 * in `edges`, after the tproxy and socket rules (a packet that reaches
 * them is for a decoy address but not for an intercepted port):
 *
 *   set <hosts>  { type ipv4_addr; flags interval; }     (ipv6_addr)
 *   set <edges>  { type ipv4_addr; flags interval; }     (IPv4 only)
 *   before every tproxy rule:
 *     E  meta iiftype != loopback meta pkttype host ip daddr @<edges> drop
 *     O  ... tcp flags & (fin|syn|rst|ack) == syn ip daddr . tcp dport @<set>
 *            limit rate <r>/<unit> burst <b> packets log group <g> prefix "o <set>"
 *     R  ... tcp flags & rst == rst ip daddr . tcp dport @<set> limit ... "r <set>"
 *   after the socket rule:
 *     S  meta iiftype != loopback ip daddr @<hosts> socket transparent 0 accept
 *     C  ... tcp flags & (fin|syn|rst|ack) == syn ip daddr @<hosts> limit ...
 *            log group <g> prefix "c <set>"
 *     T  ... meta l4proto tcp ip daddr @<hosts> reject with tcp reset   (or drop)
 *     U  ... meta l4proto udp ip daddr @<hosts> meta mark set <mark> accept (or drop)
 *     P  ... icmp type echo-request ip daddr @<hosts> meta mark set <mark> accept
 *                                                                   (or drop)
 *   with answer set, U and P (when they accept) become three rules each:
 *     U1 ... meta l4proto udp ip daddr @<hosts> fib daddr type local
 *            meta mark set <mark> accept
 *     U2 ... meta l4proto udp ip daddr @<hosts> meta pkttype host
 *            limit rate NFT_ANSWER_RATE/second burst NFT_ANSWER_BURST packets
 *            log group <answer_group> snaplen NFT_ANSWER_SNAPLEN prefix "a <set>"
 *     U3 ... meta l4proto udp ip daddr @<hosts> drop
 *     (P1, P2, P3 the same for `icmp type echo-request`; an IPv6 divert
 *     has no U1: for a local route, icmp6_send() answers from the
 *     sensor's own address, so decoyproxy answers every IPv6 datagram)
 * E keeps the network and broadcast addresses of an intercepted CIDR
 * silent (an L2 broadcast, pkttype broadcast, is left alone: DHCP and
 * friends). O, R and C send probes to NFLOG (only with log set). S leaves
 * alone whatever a local socket owns (the host's own services and
 * connections on an address inside the decoys). T answers RST in the
 * kernel itself (reject works in prerouting). U and P deliver the packet
 * locally through the tproxy fwmark route, so that the kernel answers as
 * a host does (ICMP port unreachable, echo reply) from the decoy address;
 * it can only send from an address that is local (`announce`), otherwise
 * nothing is sent, which never reveals the sensor's own address. With
 * answer, only a decoy address that is local (`fib daddr type local`: the
 * kernel's own test, a local route of the local table, which `announce`
 * adds) goes that way; the others are copied to NFLOG group answer_group,
 * rate-limited in the kernel, and dropped: decoyproxy answers them from
 * the decoy address through a raw socket (plumbing/icmpans.h). */
enum nft_closed { NFT_CLOSED_NONE = 0, NFT_CLOSED_RESET, NFT_CLOSED_DROP };

struct nft_decoy {
	const char *hosts;              /* host set name; NULL: no decoy rules */
	const char *edges;              /* edge set name; NULL: none */
	const struct icpt_list *edgelist; /* edges (addresses; ports ignored) */
	uint8_t closed;                 /* enum nft_closed */
	bool ping;                      /* answer echo requests (else drop them) */
	bool log;                       /* rules O, R, C */
	uint16_t log_group;             /* NFLOG group */
	uint32_t log_rate;              /* packets per log_unit seconds (>= 1) */
	uint64_t log_unit;              /* seconds: 1, 60, 3600, 86400 */
	uint32_t log_burst;             /* packets */
	bool answer;                    /* U2/U3, P2/P3: decoyproxy answers non-local decoys */
	uint16_t answer_group;          /* their NFLOG group */
};

/* The kernel's bound on what rules U2 and P2 hand to decoyproxy (each
 * rule, per second), and what they copy of a packet. */
#define NFT_ANSWER_RATE    2000u
#define NFT_ANSWER_BURST   200u
#define NFT_ANSWER_SNAPLEN 1500u
#define NFT_PROBE_ANSWER 'a'            /* prefix of rules U2 and P2 */

/* NFLOG prefixes of the probe rules: "<kind> <set name>". */
#define NFT_PROBE_OPEN   'o'            /* SYN to an intercepted address:port */
#define NFT_PROBE_RESET  'r'            /* RST to an intercepted address:port */
#define NFT_PROBE_CLOSED 'c'            /* SYN or UDP datagram to a closed port of a decoy */
#define NFT_LOG_PREFIX_MAX 127
#define NFT_LOG_SNAPLEN 128

/* One set of decoys and the listener its connections are diverted to. */
struct nft_divert {
	int family;                     /* AF_INET or AF_INET6 */
	const char *set;                /* set name, 1 to NFT_SET_NAME_MAX bytes, unique
	                                 * in the plan; borrowed */
	struct sockaddr_storage listen; /* listener of `family`, with a port; address
	                                 * 0.0.0.0 (::) = "tproxy to :port" (the kernel
	                                 * picks the address of the interface the packet
	                                 * came in on) */
	const struct icpt_list *decoys; /* normalised; its elements of `family` fill the
	                                 * set, the others are ignored; NULL = empty;
	                                 * borrowed, must outlive the batch */
	struct nft_decoy dec;           /* decoys that look like hosts, probe logging
	                                 * (all zero: none, the table of before) */
	uint8_t proto;                  /* IPPROTO_UDP: the rule matches UDP (`meta l4proto
	                                 * udp ... udp dport`); 0 or IPPROTO_TCP: TCP */
};

/* What should exist in one namespace. */
struct nft_plan {
	uint32_t mark;                  /* tproxy mark; 0 = NFT_MARK_DEFAULT */
	const struct nft_divert *div;   /* the diverts, in rule order; borrowed */
	size_t ndiv;
	bool udp;                       /* a second socket rule, for UDP (`meta l4proto udp
	                                 * socket transparent 1 ...`), after the TCP one:
	                                 * replies to udp-lb sockets that spoof or answer
	                                 * from decoy addresses; also implied by a UDP divert */
	const char *comment;            /* the table's comment (`nft list` shows it;
	                                 * decoyproxy writes its run's ownership mark
	                                 * there, net/owner.h), set when the table is
	                                 * (re)built; NULL: none; borrowed */
};

/* What each message of a batch is, so that a kernel error (which names the
 * message by its sequence number) can be turned into the object's name. */
enum nft_msg_kind {
	NFT_K_BEGIN, NFT_K_END, NFT_K_TABLE, NFT_K_TABLE_DEL, NFT_K_SET, NFT_K_CHAIN,
	NFT_K_RULE, NFT_K_ELEMS, NFT_K_ELEMS_DEL, NFT_K_HOSTS,
};

struct nft_msgref {
	uint32_t off;                   /* offset of the message in buf */
	uint8_t kind;                   /* enum nft_msg_kind */
	uint8_t family;                 /* elements: AF_INET or AF_INET6 */
	bool ack;                       /* NLM_F_ACK set: the kernel answers it */
	bool fresh;                     /* elements: the set is created in this batch */
	uint32_t first, count;          /* elements: they are sel[first .. first+count) */
	const struct icpt_list *list;   /* elements: the list they belong to */
	const char *set;                /* elements: the set's name (the plan's) */
	char what[NFT_SET_NAME_MAX + 256]; /* "set decoys4_ssh (…)", "rule 1 (…)", … */
};

/* A built batch: one contiguous buffer of netlink messages, the message
 * map, and (after sending) the kernel's verdict. Message i has sequence
 * number seq0 + i. */
struct nft_batch {
	char *buf;
	size_t len, cap;
	struct nft_msgref *msg;
	size_t nmsg, capmsg;
	uint32_t seq0;
	const struct icpt_elem **sel;   /* elements sent, in message order (they
	                                 * point into the plans' lists) */
	size_t nsel, capsel;
	/* reply state, filled by nft_batch_feed() */
	size_t nacked;                  /* answers received for ack'ed messages */
	size_t nexpect;                 /* ack'ed messages in the batch */
	int error;                      /* first (lowest seq) negative errno, or 0 */
	uint32_t err_seq;
	int32_t err_offs;               /* extended-ACK offset of the bad attribute
	                                 * in that message, or -1 */
	char kmsg[128];                 /* extended-ACK text from the kernel, or "" */
};

void nft_batch_init(struct nft_batch *b);
void nft_batch_free(struct nft_batch *b);

/* Builders. Each one resets b and fills it with one complete batch whose
 * first sequence number is seq. The plan (its set names and decoy lists)
 * is borrowed and must outlive b. Return 0, -EINVAL with *err set when the
 * plan is inconsistent (a divert of an unknown family, a listener of
 * another family or without port, a set name empty, too long or used
 * twice), or -ENOMEM. */

/* Whole table: create it if missing, delete it (ours only), create it again
 * with sets, chain, rules and all elements. */
int nft_build_apply(struct nft_batch *b, const struct nft_plan *p, uint32_t seq, char **err);
/* Set contents only: for each divert, removes the elements of old's
 * divert that p's lacks and adds the ones it has in addition; table and
 * rules untouched. old must have the same rules (nft_plan_same_rules())
 * and every list must be normalised (-EINVAL otherwise). A divert whose
 * list is the same object on both sides is skipped without a look. */
int nft_build_delta(struct nft_batch *b, const struct nft_plan *p, const struct nft_plan *old,
		    uint32_t seq, char **err);
/* Delete our table; an absent table is not an error (it is created first
 * within the same batch, the usual nft idiom). */
int nft_build_remove(struct nft_batch *b, uint32_t seq, char **err);

/* Whether a and b give the same table apart from set contents: same mark,
 * and the same diverts in the same order (family, set name, listener). */
bool nft_plan_same_rules(const struct nft_plan *a, const struct nft_plan *b);

/* Processes len bytes of netlink messages received from the kernel for b:
 * counts ACKs, keeps the first error with its extended-ACK details.
 * Messages whose sequence number is not b's are ignored. Pure function on
 * the buffer (the unit tests feed it synthetic answers). */
void nft_batch_feed(struct nft_batch *b, const void *buf, size_t len);

/* True once every ack'ed message has been answered. */
bool nft_batch_complete(const struct nft_batch *b);

/* Turns b's reply state into the result: 0, -ETIMEDOUT when answers are
 * missing, or the kernel's -errno with *err naming the refused object (the
 * failing message is found by its sequence number, the element inside it
 * by the extended-ACK offset), e.g. "nftables refused element
 * 10.0.0.5:80-90 (from '10.0.0.5:80-90' (a.cfg:2)) of set decoys4_web:
 * overlaps another element added to the new set in the same batch (the
 * decoy list was not normalised) (File exists)". An overlap refused in a
 * set that exists already (a delta) is with an element decoyproxy did not
 * install there, and the message says so. */
int nft_batch_result(const struct nft_batch *b, char **err);

/* Sends b as one sendmsg() on nlfd (or a fresh socket when nlfd < 0) and
 * collects every answer. Returns 0, or -errno with *err set (kernel refusal,
 * see nft_batch_result(); or a socket error). */
int nft_batch_send(int nlfd, struct nft_batch *b, char **err);

/* One-call forms: build, send, free. Same returns as above. */
int nft_apply(int nlfd, const struct nft_plan *p, char **err);
int nft_remove(int nlfd, char **err);

/* Reads our table's comment (NFTA_TABLE_USERDATA, as `nft add table ...
 * { comment "..." }` writes it) into out[size] ("" when it has none).
 * Returns 1 when the table exists, 0 when it does not, or -errno with
 * *err. nlfd as above (< 0: a socket of the current namespace). */
int nft_table_comment(int nlfd, char *out, size_t size, char **err);

/* Reload: makes the sets hold p's decoys. `old` is the plan the previous
 * successful call put in the kernel (NULL if unknown). When old has the
 * same rules and every new list only adds elements to old's, one small
 * batch adds just those (rules and table untouched). Otherwise (rules
 * changed, something removed, old unknown, a list not normalised, or the
 * delta refused because the kernel's state was not `old`) the whole table
 * is rebuilt with nft_apply(), atomic as well. Why not "flush the sets,
 * add everything": on the kernel's concatenated interval sets every
 * removal is slow (measured on Linux 6.18: 10-35 ms per removed element,
 * 45 s to flush 100,000), while a rebuild with 100,000 elements takes
 * 0.3 s. */
int nft_replace_elements(int nlfd, const struct nft_plan *p, const struct nft_plan *old,
			 char **err);

#endif
