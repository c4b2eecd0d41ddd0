/* test_nl_kernel.c — proves nl_* and ns_* on the real kernel.
 *
 * Runs as root only (exit 77 otherwise). Before anything else it moves into
 * a fresh network namespace and a private mount namespace with its own
 * tmpfs on /run, so links, routes, rules, sysctls and /run/netns entries
 * never touch the host and all vanish when the process exits, even on a
 * crash. Results are re-read over netlink and, where it matters for
 * compatibility, through `ip -j` / `ip netns`. Prints "N passed, N failed"
 * and exits 1 on any failure; a SIGALRM bounds the whole run. Four
 * threads creating sockets through one namespace cache at once (the first
 * use of each namespace included) get each socket in the namespace asked
 * for, stay in their own, and the cache opens each namespace once (run
 * under ThreadSanitizer by make check-tsan).
 */
#include "config.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "net/nl.h"
#include "net/ns.h"
#include "net/nscache.h"
#include "plumbing/tproxy_int.h"

#define TEST_TIMEOUT_S 60

static int passed, failed, skipped;

static void check(bool ok, int line, const char *what, const char *detail)
{
	if (ok) {
		passed++;
		printf("ok    %s\n", what);
		return;
	}
	failed++;
	printf("FAIL  %s (line %d)%s%s\n", what, line, detail ? ": " : "",
	       detail ? detail : "");
}

#define CHECK(cond, detail) check((cond), __LINE__, #cond, (detail))
/* rc == want; the call may pass &err_ (declared here) so that the module's
 * error text is shown on mismatch. */
#define CHECK_RC(call, want) do {					\
		char *err_ = NULL;					\
		int rc_ = (call);					\
		char d_[512];						\
		snprintf(d_, sizeof(d_), "got %d (%s), want %d", rc_,	\
			 err_ ? err_ : "-", (int)(want));		\
		check(rc_ == (want), __LINE__, #call, d_);		\
		free(err_);						\
	} while (0)

static void skip(const char *what, const char *why)
{
	skipped++;
	printf("SKIP  %s: %s\n", what, why);
}

static void on_alarm(int sig)
{
	static const char msg[] = "FAIL  timeout: test took too long\n";

	(void)sig;
	if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(2);
	_exit(1);
}

/* Output of a shell command (bounded), "" on failure. Caller frees. */
static char *run(const char *cmd)
{
	size_t cap = 65536, n = 0;
	char *out = calloc(1, cap);
	FILE *f;

	if (!out)
		return NULL;
	f = popen(cmd, "r");
	if (!f)
		return out;
	n = fread(out, 1, cap - 1, f);
	out[n] = '\0';
	pclose(f);
	return out;
}

static bool cmd_has(const char *cmd, const char *needle)
{
	char *out = run(cmd);
	bool ok = out && strstr(out, needle);

	if (!ok)
		printf("      `%s` printed: %s\n", cmd, out ? out : "(null)");
	free(out);
	return ok;
}

static bool cmd_lacks(const char *cmd, const char *needle)
{
	char *out = run(cmd);
	bool ok = out && !strstr(out, needle);

	if (!ok)
		printf("      `%s` printed: %s\n", cmd, out ? out : "(null)");
	free(out);
	return ok;
}

static ino_t ino_of_fd(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 ? st.st_ino : 0;
}

static ino_t my_netns_ino(void)
{
	struct stat st;

	return stat("/proc/thread-self/ns/net", &st) == 0 ? st.st_ino : 0;
}

/* Isolation first: nothing below may see the host's network or mounts. */
static int isolate(void)
{
	if (unshare(CLONE_NEWNET | CLONE_NEWNS) < 0) {
		perror("unshare");
		return -1;
	}
	if (mount("none", "/", "none", MS_PRIVATE | MS_REC, NULL) < 0) {
		perror("mount private");
		return -1;
	}
	/* Our own /run: /run/netns entries live and die with this process. */
	if (mount("dptest", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=755")
	    < 0) {
		perror("mount tmpfs /run");
		return -1;
	}
	return 0;
}

/* ---- links ----------------------------------------------------------- */

static int link_idx(struct nl_sock *s, const char *name)
{
	return nl_link_index(s, name, NULL, NULL);
}

static void test_links(struct nl_sock *s)
{
	struct nl_link_info a, b, br, mv;
	char buf[NL_REQ_SIZE], *err = NULL, *ext = NULL;
	struct nlmsghdr *nlh;
	int rc;

	CHECK_RC(nl_link_add_veth(s, "dpt-v0", "dpt-v1", -1, &err_), 0);
	CHECK(nl_link_get(s, "dpt-v0", &a, NULL) > 0, NULL);
	CHECK(nl_link_get(s, "dpt-v1", &b, NULL) > 0, NULL);
	CHECK(!strcmp(a.kind, "veth") && !strcmp(b.kind, "veth"), a.kind);
	CHECK(a.link == b.index && b.link == a.index, "veth peers");
	CHECK(cmd_has("ip -d -j link show dev dpt-v0",
		      "\"info_kind\":\"veth\""), NULL);

	rc = nl_link_add_veth(s, "dpt-v0", "dpt-v9", -1, &err);
	CHECK(rc == -EEXIST, err);
	CHECK(err && strstr(err, "veth") && strstr(err, "dpt-v0"), err);

	CHECK_RC(nl_link_get(s, "dpt-none", &a, &err_), -ENODEV);

	/* Rename needs the link down; MTU as well afterwards. */
	CHECK_RC(nl_link_rename(s, a.index = link_idx(s, "dpt-v0"), "dpt-v0x",
				&err_), 0);
	CHECK(link_idx(s, "dpt-v0") == -ENODEV, NULL);
	CHECK(link_idx(s, "dpt-v0x") == a.index, NULL);
	CHECK_RC(nl_link_set_mtu(s, a.index, 1400, &err_), 0);
	CHECK(nl_link_get(s, "dpt-v0x", &a, NULL) > 0 && a.mtu == 1400, NULL);
	CHECK_RC(nl_link_set_up(s, a.index, true, &err_), 0);
	CHECK(nl_link_get(s, "dpt-v0x", &a, NULL) > 0 && (a.flags & IFF_UP),
	      NULL);
	CHECK(cmd_has("ip -j link show dev dpt-v0x", "\"mtu\":1400"), NULL);

	/* Several changes in one request; errors name the change. */
	{
		struct nl_link_change c = NL_LINK_CHANGE_INIT;

		c.up = 1;
		c.mtu = 1380;
		CHECK_RC(nl_link_set(s, a.index, &c, &err_), 0);
		CHECK(nl_link_get(s, "dpt-v0x", &a, NULL) > 0 &&
		      a.mtu == 1380 && (a.flags & IFF_UP), NULL);
		rc = nl_link_set(s, 0, &c, &err);
		CHECK(rc == -EINVAL && err &&
		      strstr(err, "change link #0: invalid parameter"), err);
	}

	/* The alias (where decoyproxy writes its ownership mark): set, read
	 * back by nl_link_get(), seen by `ip link`. */
	{
		struct nl_link_change c = NL_LINK_CHANGE_INIT;

		CHECK(nl_link_get(s, "dpt-v0x", &a, NULL) > 0 && !a.alias[0], a.alias);
		c.alias = "decoyproxy:0123456789abcdef";
		CHECK_RC(nl_link_set(s, a.index, &c, &err_), 0);
		CHECK(nl_link_get(s, "dpt-v0x", &a, NULL) > 0 &&
		      !strcmp(a.alias, "decoyproxy:0123456789abcdef"), a.alias);
		CHECK(cmd_has("ip -j link show dev dpt-v0x",
			      "\"ifalias\":\"decoyproxy:0123456789abcdef\""), NULL);
	}

	CHECK_RC(nl_link_add_bridge(s, "dpt-br0", &err_), 0);
	CHECK(nl_link_get(s, "dpt-br0", &br, NULL) > 0 &&
	      !strcmp(br.kind, "bridge"), br.kind);
	CHECK_RC(nl_link_set_master(s, b.index, br.index, &err_), 0);
	CHECK(nl_link_get(s, "dpt-v1", &b, NULL) > 0 && b.master == br.index,
	      NULL);
	CHECK(cmd_has("ip -j link show dev dpt-v1", "\"master\":\"dpt-br0\""),
	      NULL);
	CHECK_RC(nl_link_set_master(s, b.index, 0, &err_), 0);
	CHECK(nl_link_get(s, "dpt-v1", &b, NULL) > 0 && b.master == 0, NULL);

	CHECK_RC(nl_link_add_macvlan(s, "dpt-mv0", a.index, &err_), 0);
	CHECK(nl_link_get(s, "dpt-mv0", &mv, NULL) > 0 &&
	      !strcmp(mv.kind, "macvlan") && mv.link == a.index &&
	      mv.macvlan_mode == MACVLAN_MODE_BRIDGE, mv.kind);
	CHECK(cmd_has("ip -d -j link show dev dpt-mv0", "\"mode\":\"bridge\""),
	      NULL);

	/* The kernel's own text reaches the caller through nl_talk. */
	nlh = nl_build_link_vlan(buf, sizeof(buf), "dpt-v0x.5", a.index, 5);
	rc = nl_talk(s, nlh, NULL, NULL, &ext);
	if (rc == 0) {
		struct nl_link_info v;

		CHECK(nl_link_get(s, "dpt-v0x.5", &v, NULL) > 0 &&
		      v.vlan_id == 5 && !strcmp(v.kind, "vlan"), v.kind);
		CHECK_RC(nl_link_del(s, v.index, &err_), 0);
	} else {
		CHECK(rc == -EOPNOTSUPP, ext);
		CHECK(ext && strstr(ext, "Unknown device type"), ext);
		rc = nl_link_add_vlan(s, "dpt-v0x.5", a.index, 5, &err);
		CHECK(rc == -EOPNOTSUPP && err &&
		      strstr(err, "CONFIG_VLAN_8021Q") &&
		      !strstr(err, "Operation not supported"), err);
		skip("802.1Q VLAN link", err ? err : "no vlan support");
	}
	free(ext);
	free(err);
}

/* ---- addresses ------------------------------------------------------- */

static bool has_addr(struct nl_sock *s, int ifindex, int family,
		     const void *addr, unsigned plen, uint32_t *flags)
{
	struct nl_addr_entry e[16];
	int i, n;

	n = nl_addr_list(s, ifindex, family, e, 16, NULL);
	for (i = 0; i < n && i < 16; i++) {
		if (e[i].family == family && e[i].prefixlen == plen &&
		    !memcmp(&e[i].addr, addr, family == AF_INET ? 4 : 16)) {
			if (flags)
				*flags = e[i].flags;
			return true;
		}
	}
	return false;
}

static void test_addrs(struct nl_sock *s)
{
	int v0 = link_idx(s, "dpt-v0x");
	struct in_addr a4;
	struct in6_addr a6;
	uint32_t flags = 0;
	char *err = NULL;
	int rc;

	inet_pton(AF_INET, "10.77.0.1", &a4);
	inet_pton(AF_INET6, "fd00:77::1", &a6);
	CHECK_RC(nl_addr_add(s, v0, AF_INET, &a4, 24, 0, &err_), 0);
	CHECK_RC(nl_addr_add(s, v0, AF_INET6, &a6, 64, NL_ADDR_NODAD, &err_),
		 0);
	CHECK(has_addr(s, v0, AF_INET, &a4, 24, NULL), NULL);
	CHECK(has_addr(s, v0, AF_INET6, &a6, 64, &flags) &&
	      (flags & IFA_F_NODAD) && !(flags & IFA_F_TENTATIVE), NULL);
	CHECK(cmd_has("ip -j addr show dev dpt-v0x",
		      "\"local\":\"10.77.0.1\",\"prefixlen\":24"), NULL);
	CHECK(cmd_has("ip -j addr show dev dpt-v0x", "\"nodad\":true"), NULL);
	/* Other links' addresses are not listed for v0. */
	CHECK(!has_addr(s, v0, AF_INET, &(struct in_addr){ htonl(0x7f000001) },
			8, NULL), NULL);
	CHECK(has_addr(s, 0, AF_INET, &(struct in_addr){ htonl(0x7f000001) },
		       8, NULL), NULL);

	rc = nl_addr_add(s, v0, AF_INET, &a4, 24, 0, &err);
	CHECK(rc == -EEXIST && err && strstr(err, "already exists"), err);
	free(err);
}

static void test_addrs_del(struct nl_sock *s)
{
	int v0 = link_idx(s, "dpt-v0x");
	struct in_addr a4;
	struct in6_addr a6;

	inet_pton(AF_INET, "10.77.0.1", &a4);
	inet_pton(AF_INET6, "fd00:77::1", &a6);
	CHECK_RC(nl_addr_del(s, v0, AF_INET, &a4, 24, &err_), 0);
	CHECK_RC(nl_addr_del(s, v0, AF_INET6, &a6, 64, &err_), 0);
	CHECK(!has_addr(s, v0, AF_INET, &a4, 24, NULL), NULL);
	CHECK(!has_addr(s, v0, AF_INET6, &a6, 64, NULL), NULL);
	CHECK_RC(nl_addr_del(s, v0, AF_INET, &a4, 24, &err_), -EADDRNOTAVAIL);
}

/* ---- routes and rules ------------------------------------------------ */

struct proto_seen {
	bool found;
	int protocol;
};

/* nl_route_dump() callback: notes the protocol of local 203.0.113.9. */
static void proto_seen_fn(void *data, const struct nl_route *r)
{
	struct proto_seen *p = data;
	struct in_addr want;

	inet_pton(AF_INET, "203.0.113.9", &want);
	if (r->type == RTN_LOCAL && r->dst_len == 32 && r->dst.v4.s_addr == want.s_addr) {
		p->found = true;
		p->protocol = r->protocol;
	}
}

static void test_routes(struct nl_sock *s, bool del)
{
	int v0 = link_idx(s, "dpt-v0x");
	struct nl_route l4 = { .family = AF_INET, .type = RTN_LOCAL,
			       .table = 100, .oif = 1 };
	struct nl_route l6 = { .family = AF_INET6, .type = RTN_LOCAL,
			       .table = 100, .oif = 1 };
	struct nl_route gw = { .family = AF_INET, .has_gw = true, .oif = v0 };
	struct nl_route gw6 = { .family = AF_INET6, .has_gw = true, .oif = v0,
				.onlink = true };
	struct nl_route pfx = { .family = AF_INET, .table = 1000, .oif = v0,
				.dst_len = 24 };
	char *err = NULL;
	int rc;

	inet_pton(AF_INET, "192.0.2.1", &gw.gw.v4);
	inet_pton(AF_INET6, "2001:db8:77::1", &gw6.gw.v6);
	inet_pton(AF_INET, "198.51.100.0", &pfx.dst.v4);

	if (del) {
		CHECK_RC(nl_route_del(s, &l4, &err_), 0);
		CHECK_RC(nl_route_del(s, &l6, &err_), 0);
		gw.onlink = true;
		CHECK_RC(nl_route_del(s, &gw, &err_), 0);
		CHECK_RC(nl_route_del(s, &gw6, &err_), 0);
		CHECK_RC(nl_route_del(s, &pfx, &err_), 0);
		CHECK_RC(nl_route_exists(s, &l4, &err_), 0);
		CHECK_RC(nl_route_exists(s, &l6, &err_), 0);
		CHECK_RC(nl_route_exists(s, &gw, &err_), 0);
		CHECK_RC(nl_route_exists(s, &pfx, &err_), 0);
		CHECK(cmd_lacks("ip -j route show table 100", "local"), NULL);
		CHECK_RC(nl_route_del(s, &pfx, &err_), -ESRCH);
		return;
	}

	CHECK_RC(nl_route_exists(s, &l4, &err_), 0);
	CHECK_RC(nl_route_add(s, &l4, &err_), 0);
	CHECK_RC(nl_route_add(s, &l6, &err_), 0);
	CHECK_RC(nl_route_exists(s, &l4, &err_), 1);
	CHECK_RC(nl_route_exists(s, &l6, &err_), 1);
	CHECK(cmd_has("ip -j route show table 100",
		      "{\"type\":\"local\",\"dst\":\"default\",\"dev\":\"lo\""),
	      NULL);
	CHECK(cmd_has("ip -j -6 route show table 100",
		      "{\"type\":\"local\",\"dst\":\"default\",\"dev\":\"lo\""),
	      NULL);
	rc = nl_route_add(s, &l4, &err);
	CHECK(rc == -EEXIST && err && strstr(err, "already exists"), err);

	/* Without onlink the gateway is unreachable: the kernel says so. */
	rc = nl_route_add(s, &gw, &err);
	CHECK(rc < 0 && err && strstr(err, "gateway"), err);
	gw.onlink = true;
	CHECK_RC(nl_route_add(s, &gw, &err_), 0);
	CHECK_RC(nl_route_exists(s, &gw, &err_), 1);
	CHECK(cmd_has("ip -j route show default",
		      "\"gateway\":\"192.0.2.1\",\"dev\":\"dpt-v0x\","
		      "\"flags\":[\"onlink\""), NULL);
	CHECK_RC(nl_route_add(s, &gw6, &err_), 0);
	CHECK(cmd_has("ip -j -6 route show default",
		      "\"gateway\":\"2001:db8:77::1\""), NULL);

	CHECK_RC(nl_route_add(s, &pfx, &err_), 0);
	CHECK_RC(nl_route_exists(s, &pfx, &err_), 1);
	CHECK(cmd_has("ip -j route show table 1000",
		      "\"dst\":\"198.51.100.0/24\",\"dev\":\"dpt-v0x\""), NULL);
	pfx.table = 1001;
	CHECK_RC(nl_route_exists(s, &pfx, &err_), 0);

	/* Protocols: an announce-like local route of decoyproxy's protocol
	 * is found by it, listed with it, and only deleted with it. */
	{
		struct nl_route an = { .family = AF_INET, .type = RTN_LOCAL,
				       .table = RT_TABLE_LOCAL, .oif = 1,
				       .dst_len = 32, .protocol = 233 };
		struct proto_seen seen = { 0 };

		inet_pton(AF_INET, "203.0.113.9", &an.dst.v4);
		CHECK_RC(nl_route_add(s, &an, &err_), 0);
		CHECK_RC(nl_route_find(s, &an, 233, &err_), 1);
		CHECK_RC(nl_route_find(s, &an, RTPROT_BOOT, &err_), 0);
		CHECK(nl_route_dump(s, AF_INET, proto_seen_fn, &seen, NULL) > 0 &&
		      seen.found && seen.protocol == 233, "dump names the protocol");
		CHECK(cmd_has("ip route show table local", "203.0.113.9 dev lo proto 233"), NULL);
		an.protocol = RTPROT_STATIC;
		CHECK_RC(nl_route_del(s, &an, &err_), -ESRCH);
		an.protocol = 233;
		CHECK_RC(nl_route_del(s, &an, &err_), 0);
		CHECK_RC(nl_route_find(s, &an, -1, &err_), 0);
	}
	free(err);
}

static void test_rules(struct nl_sock *s, bool del)
{
	struct nl_rule r4 = { .family = AF_INET, .has_fwmark = true,
			      .fwmark = 1, .fwmask = 0xff, .table = 100,
			      .has_priority = true, .priority = 100 };
	struct nl_rule r6 = r4;
	struct nl_rule other = r4;
	char *err = NULL;
	int rc;

	r6.family = AF_INET6;
	if (del) {
		CHECK_RC(nl_rule_del(s, &r4, &err_), 0);
		CHECK_RC(nl_rule_del(s, &r6, &err_), 0);
		CHECK_RC(nl_rule_exists(s, &r4, &err_), 0);
		CHECK_RC(nl_rule_exists(s, &r6, &err_), 0);
		CHECK(cmd_lacks("ip -j rule show", "\"fwmark\""), NULL);
		CHECK_RC(nl_rule_del(s, &r4, &err_), -ENOENT);
		return;
	}
	CHECK_RC(nl_rule_exists(s, &r4, &err_), 0);
	CHECK_RC(nl_rule_add(s, &r4, &err_), 0);
	CHECK_RC(nl_rule_add(s, &r6, &err_), 0);
	CHECK_RC(nl_rule_exists(s, &r4, &err_), 1);
	CHECK_RC(nl_rule_exists(s, &r6, &err_), 1);
	CHECK(cmd_has("ip -j rule show", "{\"priority\":100,\"src\":\"all\","
		      "\"fwmark\":\"0x1\",\"fwmask\":\"0xff\","
		      "\"table\":\"100\"}"), NULL);
	CHECK(cmd_has("ip -j -6 rule show", "{\"priority\":100,\"src\":\"all\","
		      "\"fwmark\":\"0x1\",\"fwmask\":\"0xff\","
		      "\"table\":\"100\"}"), NULL);
	/* Idempotence: the second add is told apart from other failures. */
	rc = nl_rule_add(s, &r4, &err);
	CHECK(rc == -EEXIST && err && strstr(err, "already exists"), err);

	/* "Exact" means exact: other mask, priority, table, family. */
	other.fwmask = 0;
	CHECK_RC(nl_rule_exists(s, &other, &err_), 0);
	other = r4;
	other.priority = 101;
	CHECK_RC(nl_rule_exists(s, &other, &err_), 0);
	other.has_priority = false;
	CHECK_RC(nl_rule_exists(s, &other, &err_), 1);
	other.table = 101;
	CHECK_RC(nl_rule_exists(s, &other, &err_), 0);
	/* A rule with an extra selector is not ours. */
	system("ip rule add fwmark 2 iif lo lookup 102 priority 102");
	other = r4;
	other.fwmark = 2;
	other.fwmask = 0;
	other.table = 102;
	other.priority = 102;
	CHECK_RC(nl_rule_exists(s, &other, &err_), 0);
	system("ip rule del priority 102");
	/* ...and `ip rule add fwmark 3 lookup 103` (full mask) is. */
	system("ip rule add fwmark 3 lookup 103 priority 103");
	other.fwmark = 3;
	other.table = 103;
	other.priority = 103;
	CHECK_RC(nl_rule_exists(s, &other, &err_), 1);
	system("ip rule del priority 103");

	/* Protocols: found by protocol, deleted by protocol, so that an
	 * identical rule of someone else's is never the one deleted. */
	system("ip rule add fwmark 4 lookup 104 priority 104");
	other = r4;
	other.fwmark = 4;
	other.fwmask = 0;
	other.table = 104;
	other.has_priority = false;
	other.protocol = 233;
	CHECK_RC(nl_rule_find(s, &other, 233, &err_), 0);
	CHECK_RC(nl_rule_find(s, &other, -1, &err_), 1);
	CHECK_RC(nl_rule_add(s, &other, &err_), 0);
	CHECK_RC(nl_rule_find(s, &other, 233, &err_), 1);
	CHECK(cmd_has("ip rule show", "fwmark 0x4 lookup 104 proto 233"), NULL);
	CHECK_RC(nl_rule_del(s, &other, &err_), 0);
	CHECK_RC(nl_rule_find(s, &other, 233, &err_), 0);
	CHECK_RC(nl_rule_del(s, &other, &err_), -ENOENT);
	CHECK(cmd_has("ip rule show", "104:\tfrom all fwmark 0x4 lookup 104"), NULL);
	system("ip rule del priority 104");
	free(err);
}

static void test_links_del(struct nl_sock *s)
{
	CHECK_RC(nl_link_del(s, link_idx(s, "dpt-mv0"), &err_), 0);
	CHECK_RC(nl_link_del(s, link_idx(s, "dpt-br0"), &err_), 0);
	CHECK_RC(nl_link_del(s, link_idx(s, "dpt-v0x"), &err_), 0);
	CHECK(link_idx(s, "dpt-mv0") == -ENODEV, NULL);
	CHECK(link_idx(s, "dpt-br0") == -ENODEV, NULL);
	CHECK(link_idx(s, "dpt-v0x") == -ENODEV, NULL);
	CHECK(link_idx(s, "dpt-v1") == -ENODEV, "peer goes with its veth");
	CHECK(cmd_lacks("ip -j link show", "dpt-"), NULL);
}

/* ---- named namespaces ------------------------------------------------ */

static int list_find(const char *name, void *data)
{
	const char **want = data;

	if (!strcmp(name, *want)) {
		*want = NULL;
		return 1;
	}
	return 0;
}

static int netns_ino_fn(void *arg)
{
	*(ino_t *)arg = my_netns_ino();
	return 42;
}

/* tproxy_ns_is_self(name) asked from another thread while this one is
 * switched into name (ns_run): the answer must be about the process's
 * home namespace, not this thread's namespace of the moment (what
 * /proc/self/ns/net shows). */
struct isself {
	const char *name;
	int answer;
};

static void *isself_thread(void *arg)
{
	struct isself *q = arg;

	q->answer = tproxy_ns_is_self(q->name);
	return NULL;
}

static int isself_fn(void *arg)
{
	pthread_t th;

	if (pthread_create(&th, NULL, isself_thread, arg))
		return -1;
	pthread_join(th, NULL);
	return 0;
}

static ino_t socket_ns_ino(int fd)
{
	int nsfd = ioctl(fd, SIOCGSKNS);
	ino_t ino;

	if (nsfd < 0)
		return 0;
	ino = ino_of_fd(nsfd);
	close(nsfd);
	return ino;
}

static void test_named_ns(struct nl_sock *s, const char *name)
{
	ino_t home = my_netns_ino(), seen = 0, ns_ino;
	struct nl_sock *ins = NULL;
	struct nl_link_info info;
	const char *want = name;
	char cmd[256], val[64];
	int nsfd, fd, rc, i;
	char *err = NULL;

	CHECK_RC(ns_create(name, &err_), 0);
	CHECK(my_netns_ino() == home, "caller's namespace unchanged");
	CHECK_RC(ns_exists(name), 1);
	rc = ns_create(name, &err);
	CHECK(rc == -EEXIST && err && strstr(err, "already exists"), err);
	CHECK(ns_list(list_find, &want) >= 1 && want == NULL, NULL);
	CHECK(cmd_has("ip netns list", name), NULL);
	CHECK(cmd_has("findmnt -n -o PROPAGATION /run/netns", "shared"), NULL);

	nsfd = ns_open(name);
	CHECK(nsfd >= 0, strerror(-nsfd));
	if (nsfd < 0)
		goto out;
	ns_ino = ino_of_fd(nsfd);
	CHECK(ns_ino != 0 && ns_ino != home, NULL);

	CHECK(ns_run(nsfd, netns_ino_fn, &seen) == 42 && seen == ns_ino, NULL);
	CHECK(my_netns_ino() == home, "back home after ns_run");
	{
		struct isself q = { name, -1 };

		CHECK(ns_run(nsfd, isself_fn, &q) == 0 && q.answer == 0,
		      "a segment is not the process's namespace, asked while the main thread is in it");
		CHECK(tproxy_ns_is_self(name) == false && tproxy_ns_is_self(NULL) == true, NULL);
		CHECK(ns_is_home(nsfd) == false, NULL);
	}

	fd = ns_socket(nsfd, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(fd >= 0 && socket_ns_ino(fd) == ns_ino, NULL);
	if (fd >= 0)
		close(fd);
	fd = ns_socket(-1, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(fd >= 0 && socket_ns_ino(fd) == home, NULL);
	if (fd >= 0)
		close(fd);

	/* A netlink socket made there sees that namespace's links. */
	fd = ns_socket(nsfd, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC,
		       NETLINK_ROUTE);
	CHECK(fd >= 0, NULL);
	CHECK_RC(nl_open_fd(&ins, fd), 0);
	if (!ins)
		goto out_fd;

	/* veth whose peer is born in the named namespace. */
	CHECK_RC(nl_link_add_veth(s, "dpt-h0", "dpt-n0", nsfd, &err_), 0);
	CHECK(link_idx(s, "dpt-h0") > 0, NULL);
	CHECK(link_idx(s, "dpt-n0") == -ENODEV, "peer not here");
	CHECK(nl_link_get(ins, "dpt-n0", &info, NULL) > 0 &&
	      !strcmp(info.kind, "veth"), "peer there");
	snprintf(cmd, sizeof(cmd), "ip netns exec %s ip -j link show dpt-n0",
		 name);
	CHECK(cmd_has(cmd, "\"ifname\":\"dpt-n0\""), NULL);

	/* Moving an existing link (bridges refuse to move: use a veth). */
	CHECK_RC(nl_link_add_veth(s, "dpt-mva", "dpt-mvb", -1, &err_), 0);
	CHECK_RC(nl_link_set_netns(s, link_idx(s, "dpt-mva"), nsfd, &err_), 0);
	CHECK(link_idx(s, "dpt-mva") == -ENODEV, NULL);
	CHECK(link_idx(ins, "dpt-mva") > 0, NULL);

	/* Sysctls are per namespace and written from inside it. */
	CHECK_RC(sysctl_get(-1, "net.ipv4.ip_forward", val, sizeof(val),
			    &err_), 1);
	CHECK(!strcmp(val, "0"), val);
	CHECK_RC(sysctl_set(nsfd, "net.ipv4.ip_forward", "1", &err_), 0);
	CHECK_RC(sysctl_get(nsfd, "net.ipv4.ip_forward", val, sizeof(val),
			    &err_), 1);
	CHECK(!strcmp(val, "1"), val);
	CHECK_RC(sysctl_get(-1, "net.ipv4.ip_forward", val, sizeof(val),
			    &err_), 1);
	CHECK(!strcmp(val, "0"), "home namespace untouched");
	snprintf(cmd, sizeof(cmd),
		 "ip netns exec %s cat /proc/sys/net/ipv4/ip_forward", name);
	CHECK(cmd_has(cmd, "1"), NULL);
	CHECK_RC(sysctl_set(nsfd, "net.ipv4.conf.all.rp_filter", "2", &err_),
		 0);
	CHECK_RC(sysctl_get(nsfd, "net/ipv4/conf/all/rp_filter", val,
			    sizeof(val), &err_), 1);
	CHECK(!strcmp(val, "2"), val);
	CHECK_RC(sysctl_get(nsfd, "net.ipv4.tcp_rmem", val, 4, &err_),
		 -EOVERFLOW);
	rc = sysctl_set(nsfd, "net.ipv4.no_such_key", "1", &err);
	CHECK(rc == -ENOENT && err && strstr(err, "unknown key"), err);
	CHECK(my_netns_ino() == home, "back home after sysctl");

	nl_close(ins);
	ins = NULL;
out_fd:
	close(nsfd);
out:
	CHECK_RC(ns_delete(name, &err_), 0);
	CHECK_RC(ns_exists(name), 0);
	CHECK(cmd_lacks("ip netns list", name), NULL);
	CHECK_RC(ns_delete(name, &err_), -ENOENT);
	/* Last reference gone: the kernel tears the namespace down, and the
	 * veth with it. Cleanup runs from a workqueue, so poll (bounded). */
	for (i = 0; i < 100 && link_idx(s, "dpt-h0") > 0; i++)
		usleep(20000);
	for (i = 0; i < 100 && link_idx(s, "dpt-mvb") > 0; i++)
		usleep(20000);
	CHECK(link_idx(s, "dpt-h0") == -ENODEV, "veth freed with the netns");
	CHECK(link_idx(s, "dpt-mvb") == -ENODEV, "moved veth's peer too");
	nl_close(ins);
	free(err);
}

/* ---- the namespace cache from several threads ---- */

#define MT_THR 4
#define MT_NS 3
#define MT_ROUNDS 300

struct mt_ns {
	struct ns_cache *c;
	char names[MT_NS][NS_NAME_MAX];
	ino_t ino[MT_NS + 1];           /* [MT_NS]: home */
	pthread_barrier_t go;
	unsigned bad, errs;
};

struct mt_arg {
	struct mt_ns *m;
	unsigned no;
};

static void *mt_sockets(void *p)
{
	struct mt_arg *a = p;
	struct mt_ns *m = a->m;
	unsigned bad = 0, errs = 0;

	pthread_barrier_wait(&m->go);
	for (unsigned i = 0; i < MT_ROUNDS; i++) {
		unsigned k = (i + a->no) % (MT_NS + 1);
		char *err = NULL;
		int fd = ns_cache_socket(m->c, k < MT_NS ? m->names[k] : NULL, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0,
					 &err);

		if (fd < 0) {
			errs++;
			free(err);
			continue;
		}
		if (socket_ns_ino(fd) != m->ino[k])
			bad++;
		close(fd);
		if (my_netns_ino() != m->ino[MT_NS])
			bad++; /* the thread did not come back home */
	}
	__atomic_add_fetch(&m->bad, bad, __ATOMIC_RELAXED);
	__atomic_add_fetch(&m->errs, errs, __ATOMIC_RELAXED);
	return NULL;
}

/* descriptors this process holds on the test's namespaces */
static unsigned netns_fds(const struct mt_ns *m)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	unsigned n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		struct stat st;
		int fd = atoi(de->d_name);

		if (de->d_name[0] == '.' || fd == dirfd(d) || fstat(fd, &st) < 0)
			continue;
		for (unsigned k = 0; k < MT_NS; k++)
			n += m->ino[k] && st.st_ino == m->ino[k];
	}
	closedir(d);
	return n;
}

static void test_nscache_threads(void)
{
	static struct mt_ns m;
	struct mt_arg args[MT_THR];
	pthread_t th[MT_THR];
	unsigned before;

	memset(&m, 0, sizeof(m));
	m.ino[MT_NS] = my_netns_ino();
	for (unsigned k = 0; k < MT_NS; k++) {
		int fd;

		snprintf(m.names[k], sizeof(m.names[k]), "dpmt%u-%d", k, (int)getpid());
		CHECK_RC(ns_create(m.names[k], &err_), 0);
		fd = ns_open(m.names[k]);
		CHECK(fd >= 0, NULL);
		m.ino[k] = fd >= 0 ? ino_of_fd(fd) : 0;
		if (fd >= 0)
			close(fd);
	}
	m.c = ns_cache_new();
	CHECK(m.c != NULL, NULL);
	if (!m.c)
		goto out;
	before = netns_fds(&m);
	pthread_barrier_init(&m.go, NULL, MT_THR);
	for (unsigned t = 0; t < MT_THR; t++) {
		args[t] = (struct mt_arg){ &m, t };
		CHECK(pthread_create(&th[t], NULL, mt_sockets, &args[t]) == 0, NULL);
	}
	for (unsigned t = 0; t < MT_THR; t++)
		pthread_join(th[t], NULL);
	pthread_barrier_destroy(&m.go);
	CHECK(m.errs == 0, "a socket could not be created");
	CHECK(m.bad == 0, "a socket in the wrong namespace, or a thread left away from home");
	/* each namespace opened once, whatever the threads raced for */
	CHECK(netns_fds(&m) == before + MT_NS, NULL);
	ns_cache_free(m.c);
	CHECK(netns_fds(&m) == before, NULL);
out:
	for (unsigned k = 0; k < MT_NS; k++)
		CHECK_RC(ns_delete(m.names[k], &err_), 0);
}

int main(void)
{
	struct nl_sock *s = NULL;
	char name[NS_NAME_MAX];

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0) {
		printf("SKIP: needs root (network and mount namespaces)\n");
		return 77;
	}
	signal(SIGALRM, on_alarm);
	alarm(TEST_TIMEOUT_S);
	if (isolate() < 0) {
		printf("SKIP: cannot create private namespaces\n");
		return 77;
	}
	CHECK_RC(ns_init(), 0);
	CHECK_RC(nl_open(&s), 0);
	if (!s)
		goto done;
	CHECK_RC(nl_link_set_up(s, 1, true, &err_), 0);

	test_links(s);
	test_addrs(s);
	test_routes(s, false);
	test_rules(s, false);
	test_rules(s, true);
	test_routes(s, true);
	test_addrs_del(s);
	test_links_del(s);

	snprintf(name, sizeof(name), "dptest-%d", (int)getpid());
	test_named_ns(s, name);
	test_nscache_threads();
	/* Whatever happened above, leave no name behind (it would vanish
	 * with our private /run anyway). */
	if (ns_exists(name) == 1)
		ns_delete(name, NULL);
done:
	nl_close(s);
	ns_fini();
	if (skipped)
		printf("%d skipped (see SKIP lines)\n", skipped);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
