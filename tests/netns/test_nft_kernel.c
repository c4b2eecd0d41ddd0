/* test_nft_kernel.c — nft module against the real kernel.
 *
 * Runs entirely inside network namespaces it creates: the process itself
 * moves to a fresh one with unshare(CLONE_NEWNET) ("decoy host"), and a
 * forked child moves to a second one ("attacker") joined by a veth pair.
 * Nothing here touches the host's own namespace. Checks the ruleset with
 * `nft -j list ruleset` run inside the test namespace.
 *
 * Exit: 0 all passed, 1 something failed, 77 skipped (not root, no
 * namespaces, nft missing, or kernel without nft tproxy/socket support).
 *
 * Whether the kernel can hold such a ruleset is asked first, of nft(8) (an
 * implementation independent of ours), in a throwaway table: only when nft
 * itself cannot load it is the run skipped. After that, any refusal of our
 * own batches (ENOENT from a rule sent to a chain that does not exist,
 * EOPNOTSUPP from a malformed expression) is a failure of the project.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/intercept.h"
#include "net/nft.h"

#define LISTEN_PORT 15001
#define MAX_OUTPUT (256u << 20)

static int passed, failed;

#define CHECK(cond, ...) do {                                   \
	if (cond) {                                             \
		passed++;                                       \
	} else {                                                \
		failed++;                                       \
		printf("FAIL %s:%d: ", __FILE__, __LINE__);     \
		printf(__VA_ARGS__);                            \
		printf("\n");                                   \
	}                                                       \
} while (0)

/* The time bounds below hold a normal build to what an operator expects
 * of a reload (a second for 100,000 elements). ThreadSanitizer slows the
 * process 5-15x (its documentation), so a --enable-tsan build is held to
 * ten times the bound instead, which still catches a quadratic walk. */
#ifdef DP_TSAN
#define BOUND_MS 10000.0
#else
#define BOUND_MS 1000.0
#endif

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Runs a shell command in the current namespace, returns its stdout
 * (malloc'd, NUL-terminated) or NULL. */
static char *run_capture(const char *cmd)
{
	FILE *f = popen(cmd, "r");
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap);
	size_t n;

	if (!f || !buf) {
		if (f)
			pclose(f);
		free(buf);
		return NULL;
	}
	while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len - 1 == 0) {
			char *p = cap < MAX_OUTPUT ? realloc(buf, cap * 2) : NULL;

			if (!p)
				break;
			buf = p;
			cap *= 2;
		}
	}
	buf[len] = '\0';
	if (pclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int run(const char *cmd)
{
	int st = system(cmd);

	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *ruleset(void)
{
	return run_capture("nft -j list ruleset");
}

/* memmem with the lengths known: ASan's strstr interceptor measures the whole
 * haystack on every call, which made counting 100,000 elements in a
 * multi-megabyte listing quadratic (90 s of the sanitizer run). */
static size_t count_of(const char *hay, const char *needle)
{
	size_t n = 0, nlen = strlen(needle);
	const char *end;

	if (!hay)
		return 0;
	end = hay + strlen(hay);
	while ((hay = memmem(hay, (size_t)(end - hay), needle, nlen))) {
		n++;
		hay += nlen;
	}
	return n;
}

/* Set elements in a JSON listing: concatenations that are not the rules'
 * "ip daddr . tcp dport" match. */
static size_t elems_in(const char *js)
{
	return count_of(js, "{\"concat\":") - count_of(js, "{\"concat\": [{\"payload\"");
}

/* The handle of our table (it changes when the table is rebuilt). */
static long table_handle(const char *js)
{
	const char *key = "{\"table\": {\"family\": \"inet\", \"name\": \"decoyproxy\", \"handle\": ";
	const char *p = js ? strstr(js, key) : NULL;

	return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

static long pos_of(const char *hay, const char *needle)
{
	const char *p = hay ? strstr(hay, needle) : NULL;

	return p ? p - hay : -1;
}

/* A plan with its diverts. */
struct kplan {
	struct nft_divert d[4];
	struct nft_plan p;
};

/* divert n of k: set `set`, listener addr:port (family from the address) */
static void kdiv(struct kplan *k, size_t n, const char *set, const char *addr, int port,
		 const struct icpt_list *l)
{
	struct nft_divert *d = &k->d[n];

	memset(d, 0, sizeof(*d));
	d->set = set;
	d->decoys = l;
	if (strchr(addr, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&d->listen;

		d->family = s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		inet_pton(AF_INET6, addr, &s6->sin6_addr);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&d->listen;

		d->family = s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		inet_pton(AF_INET, addr, &s4->sin_addr);
	}
	if (k->p.ndiv < n + 1)
		k->p.ndiv = n + 1;
	k->p.div = k->d;
}

/* The usual plan: one frontend 'f', IPv4 and IPv6 fed from l. */
static void plan_init(struct kplan *k, const struct icpt_list *l)
{
	memset(k, 0, sizeof(*k));
	kdiv(k, 0, "decoys4_f", "127.0.0.1", LISTEN_PORT, l);
	kdiv(k, 1, "decoys6_f", "::1", LISTEN_PORT, l);
}

static void plan_list(struct kplan *k, const struct icpt_list *l)
{
	for (size_t i = 0; i < k->p.ndiv; i++)
		k->d[i].decoys = l;
}

static int list_from(struct icpt_list *l, const char *const *specs, bool normalise)
{
	char *err = NULL;

	icpt_list_init(l);
	for (; *specs; specs++) {
		if (icpt_parse_spec(l, *specs, "test", &err)) {
			printf("spec: %s\n", err);
			free(err);
			return -1;
		}
	}
	return normalise && icpt_normalise(l, NULL, NULL) < 0 ? -1 : 0;
}

/* ---- ruleset tests ---- */

static const char *const base_specs[] = {
	"192.0.2.0/24:22-80", "198.51.100.7:443", "[fd09::]/64:22", "[fd09:1::10]:8080", NULL
};

/* What the project's plan needs from the kernel, written for nft(8): an
 * interval set keyed by address . port, a prerouting chain at mangle
 * priority, a lookup feeding tproxy (both families) and a socket match.
 * Returns 0 when nft loads it (then removed again), or -1 with nft's own
 * error in why. */
static int probe_kernel(char *why, size_t whysz)
{
	static const char rules[] =
		"table inet dpprobe {\n"
		"  set d4 { type ipv4_addr . inet_service; flags interval; elements = { 192.0.2.0/24 . 22-80 } }\n"
		"  set d6 { type ipv6_addr . inet_service; flags interval; elements = { fd09::/64 . 22 } }\n"
		"  chain pre {\n"
		"    type filter hook prerouting priority mangle;\n"
		"    meta l4proto tcp ip daddr . tcp dport @d4 tproxy ip to 127.0.0.1:15001 meta mark set 1 accept\n"
		"    meta l4proto tcp ip6 daddr . tcp dport @d6 tproxy ip6 to [::1]:15001 meta mark set 1 accept\n"
		"    meta l4proto tcp socket transparent 1 meta mark set 1 accept\n"
		"  }\n"
		"}\n";
	char path[] = "/tmp/dpnftprobe.XXXXXX", cmd[256];
	int fd = mkstemp(path), rc;
	FILE *f;

	snprintf(why, whysz, "cannot write the probe ruleset");
	if (fd < 0)
		return -1;
	rc = write(fd, rules, sizeof(rules) - 1) == (ssize_t)(sizeof(rules) - 1) ? 0 : -1;
	close(fd);
	if (rc == 0) {
		snprintf(cmd, sizeof(cmd), "nft -f %s 2>%s.err", path, path);
		rc = run(cmd) == 0 ? 0 : -1;
		snprintf(cmd, sizeof(cmd), "%s.err", path);
		if (rc < 0 && (f = fopen(cmd, "r"))) {
			size_t n = fread(why, 1, whysz - 1, f);

			why[n] = '\0';
			for (char *p = why; *p; p++)
				if (*p == '\n')
					*p = ' ';
			fclose(f);
		}
		unlink(cmd);
	}
	unlink(path);
	if (rc == 0 && run("nft delete table inet dpprobe") != 0) {
		snprintf(why, whysz, "nft loaded the probe table but cannot delete it");
		return -1;
	}
	return rc;
}

static void test_apply(void)
{
	struct icpt_list l;
	struct kplan p;
	char *err = NULL, *js, *js2;
	long t4, t6, ts;
	int ret;

	if (list_from(&l, base_specs, true)) {
		CHECK(0, "base decoy list parses");
		return;
	}
	plan_init(&p, &l);
	/* the kernel took the same ruleset from nft(8): any refusal is ours */
	ret = nft_apply(-1, &p.p, &err);
	CHECK(ret == 0, "apply: %d %s", ret, err ? err : "");
	js = ruleset();
	CHECK(js && strstr(js, "{\"table\": {\"family\": \"inet\", \"name\": \"decoyproxy\""),
	      "our table is listed");
	CHECK(js && strstr(js, "\"name\": \"decoys4_f\", \"table\": \"decoyproxy\", \"type\": "
			   "[\"ipv4_addr\", \"inet_service\"]"), "decoys4_f key type");
	CHECK(js && strstr(js, "\"name\": \"decoys6_f\", \"table\": \"decoyproxy\", \"type\": "
			   "[\"ipv6_addr\", \"inet_service\"]"), "decoys6_f key type");
	CHECK(count_of(js, "\"flags\": [\"interval\"]") == 2, "both sets are interval sets");
	CHECK(js && strstr(js, "{\"concat\": [{\"prefix\": {\"addr\": \"192.0.2.0\", \"len\": 24}}, "
			   "{\"range\": [22, 80]}]}"), "element 192.0.2.0/24 . 22-80");
	CHECK(js && strstr(js, "{\"concat\": [\"198.51.100.7\", 443]}"), "element 198.51.100.7 . 443");
	CHECK(js && strstr(js, "{\"concat\": [{\"prefix\": {\"addr\": \"fd09::\", \"len\": 64}}, 22]}"),
	      "element fd09::/64 . 22");
	CHECK(js && strstr(js, "{\"concat\": [\"fd09:1::10\", 8080]}"), "element fd09:1::10 . 8080");
	CHECK(elems_in(js) == 4, "exactly 4 elements (%zu)", elems_in(js));
	CHECK(js && strstr(js, "\"name\": \"prerouting\", \"handle\": ") &&
	      strstr(js, "\"type\": \"filter\", \"hook\": \"prerouting\", \"prio\": -150"),
	      "chain hook prerouting priority mangle");
	t4 = pos_of(js, "{\"tproxy\": {\"family\": \"ip\", \"addr\": \"127.0.0.1\", \"port\": 15001}}");
	t6 = pos_of(js, "{\"tproxy\": {\"family\": \"ip6\", \"addr\": \"::1\", \"port\": 15001}}");
	ts = pos_of(js, "{\"socket\": {\"key\": \"transparent\"}}");
	CHECK(t4 > 0 && t6 > t4 && ts > t6, "rule order tproxy4 < tproxy6 < socket (%ld %ld %ld)",
	      t4, t6, ts);
	CHECK(count_of(js, "{\"mangle\": {\"key\": {\"meta\": {\"key\": \"mark\"}}, \"value\": 1}}") == 3,
	      "three rules set mark 1");
	/* the kernel's own listing: each tproxy rule skips loopback first
	 * (the proxy's own connections to local servers), the socket rule
	 * does not */
	CHECK(count_of(js, "{\"match\": {\"op\": \"!=\", \"left\": {\"meta\": {\"key\": "
			   "\"iiftype\"}}, \"right\": \"loopback\"}}") == 2,
	      "both tproxy rules skip the loopback interface");
	CHECK(pos_of(js, "\"iiftype\"") < t4 && pos_of(js, "\"iiftype\"") > 0,
	      "the loopback condition comes before the first tproxy statement");
	CHECK(js && strstr(js, "\"@decoys4_f\"}}, {\"tproxy\"") &&
	      strstr(js, "\"@decoys6_f\"}}, {\"tproxy\""), "tproxy rules look up their sets");
	CHECK(js && strstr(js, "{\"table\": {\"family\": \"inet\", \"name\": \"other\""),
	      "the other table is untouched");

	/* applying the same plan again is fine and leaves one table */
	ret = nft_apply(-1, &p.p, &err);
	CHECK(ret == 0, "re-apply: %d %s", ret, err ? err : "");
	js2 = ruleset();
	CHECK(count_of(js2, "\"name\": \"decoyproxy\"") == 1 && elems_in(js2) == 4,
	      "re-apply gives the same content");
	free(js);
	free(js2);
	free(err);
	icpt_list_free(&l);
}

/* A batch the kernel refuses half-way (overlapping elements, only caught
 * when the kernel inserts them): nothing changes, the error names it. */
static void test_atomic_failure(void)
{
	static const char *const bad[] = {
		"10.0.0.0/24:80", "10.0.0.9:22", "10.0.0.5:80-90", "10.0.0.77:1", NULL
	};
	struct icpt_list l;
	struct kplan p;
	char *err = NULL, *before, *after;
	int ret;

	if (list_from(&l, bad, false))
		return;
	plan_init(&p, &l);
	before = ruleset();
	ret = nft_apply(-1, &p.p, &err);
	after = ruleset();
	CHECK(ret == -EEXIST || ret == -ENOTEMPTY, "overlap refused: %d", ret);
	CHECK(err && strstr(err, "element 10.0.0.5:80-90 (from '10.0.0.5:80-90' (test)) of set "
			    "decoys4_f: overlaps another element added to the new set in the same "
			    "batch (the decoy list was not normalised)"),
	      "error names the element: %s", err ? err : "(none)");
	CHECK(before && after && !strcmp(before, after), "ruleset unchanged after a refused apply");
	printf("  refused apply said: %s\n", err ? err : "(none)");

	/* the same through a reload (the list is not normalised: rebuild) */
	free(after);
	ret = nft_replace_elements(-1, &p.p, NULL, &err);
	after = ruleset();
	CHECK(ret == -EEXIST || ret == -ENOTEMPTY, "overlap refused in replace: %d", ret);
	CHECK(before && after && !strcmp(before, after), "ruleset unchanged after a refused replace");
	free(before);
	free(after);
	free(err);
	icpt_list_free(&l);
}

static void test_replace(void)
{
	/* base_specs plus two: additions only */
	static const char *const more[] = { "192.0.2.0/24:22-80", "198.51.100.7:443",
					    "[fd09::]/64:22", "[fd09:1::10]:8080",
					    "203.0.113.1-203.0.113.9:25", "[fd09::5]:25", NULL };
	/* one removed, one added */
	static const char *const moved[] = { "192.0.2.0/24:22-80", "198.51.100.8:443", NULL };
	/* overlaps 192.0.2.0/24:22-80, which the stale list does not know */
	static const char *const overlap[] = { "192.0.2.0/24:22-90", NULL };
	struct icpt_list old, now, now2, now3, empty;
	struct kplan p, po;
	char *err = NULL, *before, *js;
	int ret;

	/* `old` is what test_apply put in the kernel */
	if (list_from(&old, base_specs, true) || list_from(&now, more, true) ||
	    list_from(&now2, moved, true) || list_from(&now3, overlap, true))
		return;
	icpt_list_init(&empty);
	icpt_normalise(&empty, NULL, NULL);
	plan_init(&p, &now);
	plan_init(&po, &old);
	before = ruleset();
	ret = nft_replace_elements(-1, &p.p, &po.p, &err);
	CHECK(ret == 0, "replace (additions): %d %s", ret, err ? err : "");
	js = ruleset();
	CHECK(js && strstr(js, "{\"concat\": [{\"range\": [\"203.0.113.1\", \"203.0.113.9\"]}, 25]}"),
	      "new element present");
	CHECK(js && strstr(js, "{\"concat\": [\"fd09::5\", 25]}"), "new IPv6 element present");
	CHECK(elems_in(js) == 6, "4 old + 2 new elements (%zu)", elems_in(js));
	CHECK(table_handle(before) > 0 && table_handle(js) == table_handle(before),
	      "additions went as a delta: table not rebuilt (handle %ld -> %ld)",
	      table_handle(before), table_handle(js));
	free(before);
	free(js);

	/* something removed: rebuilt, rules as before */
	before = ruleset();
	plan_list(&p, &now2);
	plan_list(&po, &now);
	ret = nft_replace_elements(-1, &p.p, &po.p, &err);
	CHECK(ret == 0, "replace (removal): %d %s", ret, err ? err : "");
	js = ruleset();
	CHECK(elems_in(js) == 2 && strstr(js, "{\"concat\": [\"198.51.100.8\", 443]}") &&
	      !strstr(js, "198.51.100.7"), "removal applied (%zu elements)", elems_in(js));
	CHECK(count_of(js, "{\"tproxy\":") == 2 && count_of(js, "{\"socket\":") == 1,
	      "rules in place after a rebuild");
	CHECK(table_handle(js) != table_handle(before), "removal went as a rebuild");
	free(before);
	free(js);

	/* a wrong idea of the kernel's state (thinks it is empty): the delta
	 * is refused, the table is rebuilt and ends up right anyway */
	plan_list(&p, &now3);
	plan_list(&po, &empty);
	ret = nft_replace_elements(-1, &p.p, &po.p, &err);
	CHECK(ret == 0, "replace from a stale list: %d %s", ret, err ? err : "");
	js = ruleset();
	CHECK(elems_in(js) == 1 && strstr(js, "{\"range\": [22, 90]}"),
	      "stale delta fell back to a rebuild with the right content");
	free(js);

	/* back to the base content for the tests that follow */
	plan_list(&p, &old);
	plan_list(&po, &now3);
	ret = nft_replace_elements(-1, &p.p, &po.p, &err);
	CHECK(ret == 0, "replace back: %d %s", ret, err ? err : "");
	free(err);
	icpt_list_free(&old);
	icpt_list_free(&now);
	icpt_list_free(&now2);
	icpt_list_free(&now3);
	icpt_list_free(&empty);
}

/* Three frontends in one namespace (ssh and web IPv4, pp both families):
 * one set and one tproxy rule each, every tproxy rule before the socket
 * rule; a delta that changes one set only; a refused delta (an element
 * added by hand) says so; a reload without one frontend drops its set and
 * rule in the same batch. */
static void test_several_diverts(void)
{
	static const char *const ssh[] = { "192.0.2.0/25:22", NULL };
	static const char *const ssh2[] = { "192.0.2.0/25:22", "203.0.113.9:22", NULL };
	static const char *const ssh3[] = { "192.0.2.0/25:22", "203.0.113.9:22", "203.0.113.20:22",
					    NULL };
	static const char *const web[] = { "192.0.2.128/25:80,443", NULL };
	static const char *const pp[] = { "198.51.100.0/24:25", "[fd09::]/64:25", NULL };
	struct icpt_list ls, ls2, ls3, lw, lp;
	struct kplan k, k2, k3, k4;
	char *err = NULL, *js, *before;
	long r_ssh, r_web, r_pp4, r_pp6, r_sock;
	int ret;

	if (list_from(&ls, ssh, true) || list_from(&ls2, ssh2, true) ||
	    list_from(&ls3, ssh3, true) || list_from(&lw, web, true) || list_from(&lp, pp, true))
		return;
	memset(&k, 0, sizeof(k));
	kdiv(&k, 0, "decoys4_ssh", "127.0.0.1", 15001, &ls);
	kdiv(&k, 1, "decoys4_web", "127.0.0.1", 15002, &lw);
	kdiv(&k, 2, "decoys4_pp", "127.0.0.1", 15003, &lp);
	kdiv(&k, 3, "decoys6_pp", "::1", 15003, &lp);
	ret = nft_apply(-1, &k.p, &err);
	CHECK(ret == 0, "apply of 4 diverts: %d %s", ret, err ? err : "");
	js = ruleset();
	CHECK(count_of(js, "\"set\": {\"family\": \"inet\"") == 4, "4 sets (%zu)",
	      count_of(js, "\"set\": {\"family\": \"inet\""));
	r_ssh = pos_of(js, "\"@decoys4_ssh\"}}, {\"tproxy\": {\"family\": \"ip\", \"addr\": "
		       "\"127.0.0.1\", \"port\": 15001}}");
	r_web = pos_of(js, "\"@decoys4_web\"}}, {\"tproxy\": {\"family\": \"ip\", \"addr\": "
		       "\"127.0.0.1\", \"port\": 15002}}");
	r_pp4 = pos_of(js, "\"@decoys4_pp\"}}, {\"tproxy\": {\"family\": \"ip\", \"addr\": "
		       "\"127.0.0.1\", \"port\": 15003}}");
	r_pp6 = pos_of(js, "\"@decoys6_pp\"}}, {\"tproxy\": {\"family\": \"ip6\", \"addr\": "
		       "\"::1\", \"port\": 15003}}");
	r_sock = pos_of(js, "{\"socket\": {\"key\": \"transparent\"}}");
	CHECK(r_ssh > 0 && r_web > r_ssh && r_pp4 > r_web && r_pp6 > r_pp4 && r_sock > r_pp6,
	      "rules: ssh, web, pp4, pp6 tproxy rules, then the socket rule (%ld %ld %ld %ld %ld)",
	      r_ssh, r_web, r_pp4, r_pp6, r_sock);
	CHECK(count_of(js, "{\"socket\":") == 1, "one socket rule");
	CHECK(elems_in(js) == 5, "1 + 2 + 1 + 1 elements (%zu)", elems_in(js));
	free(js);

	/* a delta: ssh gains a decoy, the others are not touched */
	before = ruleset();
	k2 = k;
	k2.p.div = k2.d;
	k2.d[0].decoys = &ls2;
	ret = nft_replace_elements(-1, &k2.p, &k.p, &err);
	CHECK(ret == 0, "delta on one set: %d %s", ret, err ? err : "");
	js = run_capture("nft list set inet decoyproxy decoys4_ssh");
	CHECK(js && strstr(js, "203.0.113.9 . 22"), "the new element is in decoys4_ssh");
	free(js);
	js = ruleset();
	CHECK(table_handle(js) == table_handle(before), "additions went as a delta");
	free(js);
	free(before);

	/* an element put there by hand makes a delta fail (an exact
	 * duplicate would be accepted: a range that overlaps), and the
	 * message does not blame the list */
	CHECK(run("nft add element inet decoyproxy decoys4_ssh '{ 203.0.113.20-203.0.113.21 . 22 }'")
	      == 0, "element added by hand");
	{
		struct nft_batch b;

		k3 = k2;
		k3.p.div = k3.d;
		k3.d[0].decoys = &ls3;
		nft_batch_init(&b);
		ret = nft_build_delta(&b, &k3.p, &k2.p, 1, &err);
		if (!ret)
			ret = nft_batch_send(-1, &b, &err);
		nft_batch_free(&b);
	}
	CHECK(ret == -EEXIST || ret == -ENOTEMPTY, "overlap with a hand-made element refused: %d",
	      ret);
	CHECK(err && strstr(err, "nftables refused element 203.0.113.20:22 (from '203.0.113.20:22' "
			    "(test)) of set decoys4_ssh: overlaps an element that is in the kernel's "
			    "set but was not installed by decoyproxy"),
	      "the refusal names the element and the set: %s", err ? err : "(none)");
	printf("  refused delta said: %s\n", err ? err : "(none)");

	/* a reload that changes nothing: an empty delta, nothing to send and
	 * nothing to wait for (a plan without diverts, as for spoofing
	 * servers only, is always such a reload) */
	{
		struct nft_plan none = { 0 };
		double t = now_ms();

		ret = nft_replace_elements(-1, &k2.p, &k2.p, &err);
		CHECK(ret == 0 && now_ms() - t < BOUND_MS, "empty delta: %d in %.0f ms %s", ret,
		      now_ms() - t, err ? err : "");
		t = now_ms();
		ret = nft_replace_elements(-1, &none, &none, &err);
		CHECK(ret == 0 && now_ms() - t < BOUND_MS, "empty delta without diverts: %d in %.0f ms %s",
		      ret, now_ms() - t, err ? err : "");
		js = ruleset();
		CHECK(js && strstr(js, "decoys4_web"), "an empty delta changes nothing");
		free(js);
	}

	/* reload without web: rebuilt in one batch, web's set and rule gone */
	memset(&k4, 0, sizeof(k4));
	kdiv(&k4, 0, "decoys4_ssh", "127.0.0.1", 15001, &ls2);
	kdiv(&k4, 1, "decoys4_pp", "127.0.0.1", 15003, &lp);
	kdiv(&k4, 2, "decoys6_pp", "::1", 15003, &lp);
	ret = nft_replace_elements(-1, &k4.p, &k2.p, &err);
	CHECK(ret == 0, "reload without web: %d %s", ret, err ? err : "");
	js = ruleset();
	CHECK(js && !strstr(js, "decoys4_web") && !strstr(js, "15002"),
	      "web's set and rule are gone");
	CHECK(count_of(js, "{\"tproxy\":") == 3 && count_of(js, "{\"socket\":") == 1 &&
	      pos_of(js, "{\"socket\":") > pos_of(js, "\"@decoys6_pp\""),
	      "3 tproxy rules, then the socket rule");
	CHECK(elems_in(js) == 2 + 1 + 1, "the hand-made element went with the rebuild (%zu)",
	      elems_in(js));
	free(js);
	free(err);
	icpt_list_free(&ls);
	icpt_list_free(&ls2);
	icpt_list_free(&ls3);
	icpt_list_free(&lw);
	icpt_list_free(&lp);
}

/* n discrete addresses 10.x.y.z:22, every other address (no merging),
 * starting at address index `shift`. */
static void discrete_list(struct icpt_list *l, int n, int shift)
{
	char spec[64], *err = NULL;
	int i;

	icpt_list_init(l);
	for (i = 0; i < n; i++) {
		unsigned a = (unsigned)(i + shift) * 2;

		snprintf(spec, sizeof(spec), "10.%u.%u.%u:22", a >> 16, (a >> 8) & 0xff, a & 0xff);
		if (icpt_parse_spec(l, spec, NULL, &err))
			break;
	}
	free(err);
	icpt_normalise(l, NULL, NULL);
}

static void test_scale(void)
{
	struct icpt_list l, l2, l3;
	struct kplan p, po;
	char *err = NULL, *out;
	double t0, t1, t, tapply, tdelta, tfull;
	int ret;

	t0 = now_ms();
	discrete_list(&l, 100000, 0);
	t1 = now_ms();
	CHECK(l.n == 100000, "100k elements after normalise (%zu)", l.n);
	plan_init(&p, &l);
	plan_init(&po, &l);
	ret = nft_apply(-1, &p.p, &err);
	tapply = now_ms() - t1;
	CHECK(ret == 0, "apply 100k: %d %s", ret, err ? err : "");
	CHECK(tapply < BOUND_MS, "apply of 100k elements under %.0f s (%.0f ms)", BOUND_MS / 1000, tapply);
	out = run_capture("nft list set inet decoyproxy decoys4_f");
	CHECK(count_of(out, " . 22") == 100000, "kernel holds 100,000 elements (%zu)",
	      count_of(out, " . 22"));
	CHECK(out && strstr(out, "10.0.0.0 . 22") && strstr(out, "10.3.13.62 . 22"),
	      "first and last element present");
	free(out);

	/* small reload: 50 added at the end (a delta) */
	discrete_list(&l2, 100050, 0);
	plan_list(&p, &l2);
	t = now_ms();
	ret = nft_replace_elements(-1, &p.p, &po.p, &err);
	tdelta = now_ms() - t;
	CHECK(ret == 0, "delta replace: %d %s", ret, err ? err : "");
	/* large reload: everything moves by one address (100k out, 100k in) */
	discrete_list(&l3, 100000, 0);
	for (size_t i = 0; i < l3.n; i++)
		l3.v[i].lo.v4.s_addr = l3.v[i].hi.v4.s_addr =
			htonl(ntohl(l3.v[i].lo.v4.s_addr) + 1);
	plan_list(&p, &l3);
	plan_list(&po, &l2);
	t = now_ms();
	ret = nft_replace_elements(-1, &p.p, &po.p, &err);
	tfull = now_ms() - t;
	CHECK(ret == 0, "full replace: %d %s", ret, err ? err : "");
	CHECK(tdelta < BOUND_MS && tfull < BOUND_MS, "reloads of 100k under %.0f s (%.0f, %.0f ms)",
	      BOUND_MS / 1000, tdelta, tfull);
	printf("  100,000 discrete addresses: parse+normalise %.0f ms, nft_apply %.0f ms, "
	       "reload (+50) %.0f ms, reload (100k out, 100k in) %.0f ms\n",
	       t1 - t0, tapply, tdelta, tfull);
	out = run_capture("nft list set inet decoyproxy decoys4_f");
	CHECK(count_of(out, " . 22") == 100000 && strstr(out, "10.0.0.1 . 22") &&
	      !strstr(out, "10.0.0.0 . 22"), "the reloaded set is the new one");
	free(out);
	free(err);
	icpt_list_free(&l);
	icpt_list_free(&l2);
	icpt_list_free(&l3);
}

/* The table's comment: where decoyproxy writes its run's ownership mark
 * (net/owner.h); `nft list` shows it, nft_table_comment() reads it back. */
static void test_comment(void)
{
	struct icpt_list l;
	struct kplan p;
	char *err = NULL, *txt, got[256];
	int ret;

	if (list_from(&l, base_specs, true))
		return;
	plan_init(&p, &l);
	p.p.comment = "decoyproxy:0123456789abcdef";
	ret = nft_apply(-1, &p.p, &err);
	CHECK(ret == 0, "apply with a comment: %d %s", ret, err ? err : "");
	ret = nft_table_comment(-1, got, sizeof(got), &err);
	CHECK(ret == 1 && !strcmp(got, "decoyproxy:0123456789abcdef"), "comment read back: %d '%s' %s",
	      ret, got, err ? err : "");
	txt = run_capture("nft list table inet decoyproxy");
	CHECK(txt && strstr(txt, "comment \"decoyproxy:0123456789abcdef\""), "nft shows the comment");
	free(txt);
	/* a rebuild without one drops it */
	p.p.comment = NULL;
	ret = nft_apply(-1, &p.p, &err);
	CHECK(ret == 0, "apply without a comment: %d %s", ret, err ? err : "");
	ret = nft_table_comment(-1, got, sizeof(got), &err);
	CHECK(ret == 1 && !got[0], "no comment: %d '%s'", ret, got);
	/* an absent table */
	ret = nft_remove(-1, &err);
	CHECK(ret == 0, "remove: %d", ret);
	ret = nft_table_comment(-1, got, sizeof(got), &err);
	CHECK(ret == 0, "no table: %d %s", ret, err ? err : "");
	icpt_list_free(&l);
	free(err);
}

static void test_remove(void)
{
	char *err = NULL, *js;
	int ret;

	ret = nft_remove(-1, &err);
	CHECK(ret == 0, "remove: %d %s", ret, err ? err : "");
	js = ruleset();
	CHECK(js && !strstr(js, "decoyproxy"), "no table left");
	CHECK(js && strstr(js, "\"name\": \"other\""), "the other table survives remove");
	ret = nft_remove(-1, &err);
	CHECK(ret == 0, "removing an absent table is fine: %d %s", ret, err ? err : "");
	free(js);
	free(err);
}

/* ---- packets ----
 * attacker netns (child) --veth-- this netns (decoy host): a connect to a
 * decoy address:port must land on the IP_TRANSPARENT listener and
 * getsockname() on the accepted socket must give the decoy address; a
 * non-decoy pair must not be answered. */

struct probe {
	int family;
	const char *addr;
	int port;
	bool expect;            /* should connect */
};

static const struct probe probes[] = {
	{ AF_INET, "192.0.2.10", 22, true },
	{ AF_INET, "192.0.2.200", 80, true },
	{ AF_INET, "192.0.2.10", 81, false },           /* port not a decoy */
	{ AF_INET, "198.51.100.8", 443, false },        /* address not a decoy */
	{ AF_INET6, "fd09::1234", 22, true },
	{ AF_INET6, "fd09::1234", 23, false },
};

static int tcp_listener(int family)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)&ss;

		setsockopt(fd, SOL_IP, IP_TRANSPARENT, &one, sizeof(one));
		s->sin_family = AF_INET;
		s->sin_port = htons(LISTEN_PORT);
		inet_pton(AF_INET, "127.0.0.1", &s->sin_addr);
		len = sizeof(*s);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;

		setsockopt(fd, SOL_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		setsockopt(fd, SOL_IPV6, IPV6_TRANSPARENT, &one, sizeof(one));
		s->sin6_family = AF_INET6;
		s->sin6_port = htons(LISTEN_PORT);
		inet_pton(AF_INET6, "::1", &s->sin6_addr);
		len = sizeof(*s);
	}
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 16) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Non-blocking connect bounded by timeout_ms; true when established. */
static bool try_connect(const struct probe *pr, int timeout_ms)
{
	struct sockaddr_storage ss = { 0 };
	struct pollfd pfd;
	socklen_t len, elen = sizeof(int);
	int fd, e = 0;
	bool ok = false;

	fd = socket(pr->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	if (pr->family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)&ss;

		s->sin_family = AF_INET;
		s->sin_port = htons((uint16_t)pr->port);
		inet_pton(AF_INET, pr->addr, &s->sin_addr);
		len = sizeof(*s);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;

		s->sin6_family = AF_INET6;
		s->sin6_port = htons((uint16_t)pr->port);
		inet_pton(AF_INET6, pr->addr, &s->sin6_addr);
		len = sizeof(*s);
	}
	if (connect(fd, (struct sockaddr *)&ss, len) == 0) {
		ok = true;
	} else if (errno == EINPROGRESS) {
		pfd = (struct pollfd){ .fd = fd, .events = POLLOUT };
		if (poll(&pfd, 1, timeout_ms) == 1 &&
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) == 0 && e == 0)
			ok = true;
	}
	close(fd);
	return ok;
}

/* The attacker: own netns, waits for its veth, configures it, probes,
 * writes one byte per probe ('1' connected, '0' not). */
static void attacker(int rd, int wr)
{
	char c;
	size_t i;

	if (unshare(CLONE_NEWNET) < 0)
		_exit(2);
	if (write(wr, "r", 1) != 1 || read(rd, &c, 1) != 1)
		_exit(2);
	if (run("ip link set lo up && ip link set dpatk up && "
		"ip addr add 10.99.0.2/24 dev dpatk && ip route add default via 10.99.0.1 && "
		"ip -6 addr add fd99::2/64 dev dpatk nodad && "
		"ip -6 route add default via fd99::1") != 0)
		_exit(3);
	for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		c = try_connect(&probes[i], probes[i].expect ? 3000 : 700) ? '1' : '0';
		if (write(wr, &c, 1) != 1)
			_exit(2);
		/* let the parent accept before the next probe */
		if (read(rd, &c, 1) != 1)
			_exit(2);
	}
	_exit(0);
}

static bool accepted_dst_is(int lfd, const struct probe *pr)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct pollfd pfd = { .fd = lfd, .events = POLLIN };
	char buf[INET6_ADDRSTRLEN] = "";
	int fd, port;
	bool ok;

	if (poll(&pfd, 1, 1000) != 1)
		return false;
	fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		return false;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
		close(fd);
		return false;
	}
	if (ss.ss_family == AF_INET) {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, buf, sizeof(buf));
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	} else {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, buf, sizeof(buf));
		port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	ok = !strcmp(buf, pr->addr) && port == pr->port;
	if (!ok)
		printf("  accepted socket's local address is %s:%d, expected %s:%d\n", buf, port,
		       pr->addr, pr->port);
	close(fd);
	return ok;
}

static bool nothing_pending(int lfd)
{
	struct pollfd pfd = { .fd = lfd, .events = POLLIN };

	return poll(&pfd, 1, 0) == 0;
}

static void test_packets(void)
{
	static const char *const specs[] = { "192.0.2.0/24:22-80", "[fd09::]/64:22", NULL };
	struct icpt_list l;
	struct kplan p;
	int p2c[2], c2p[2], l4, l6, st = 0, ret;
	char cmd[512], c, *err = NULL;
	pid_t pid;
	size_t i;

	if (list_from(&l, specs, true))
		return;
	plan_init(&p, &l);
	ret = nft_apply(-1, &p.p, &err);
	CHECK(ret == 0, "apply for packets: %d %s", ret, err ? err : "");
	l4 = tcp_listener(AF_INET);
	l6 = tcp_listener(AF_INET6);
	CHECK(l4 >= 0 && l6 >= 0, "transparent listeners on 127.0.0.1/::1 port %d", LISTEN_PORT);
	if (ret || l4 < 0 || l6 < 0 || pipe(p2c) < 0 || pipe(c2p) < 0)
		goto out;
	pid = fork();
	if (pid == 0) {
		close(p2c[1]);
		close(c2p[0]);
		attacker(p2c[0], c2p[1]);
	}
	close(p2c[0]);
	close(c2p[1]);
	if (pid < 0 || read(c2p[0], &c, 1) != 1)
		goto reap;
	snprintf(cmd, sizeof(cmd),
		 "ip link add dphost type veth peer name dpatk netns %d && "
		 "ip link set dphost up && ip addr add 10.99.0.1/24 dev dphost && "
		 "ip -6 addr add fd99::1/64 dev dphost nodad && "
		 "ip rule add fwmark 1 lookup 100 && ip route add local 0.0.0.0/0 dev lo table 100 && "
		 "ip -6 rule add fwmark 1 lookup 100 && ip -6 route add local ::/0 dev lo table 100",
		 (int)pid);
	CHECK(run(cmd) == 0, "veth, policy routing in the test namespaces");
	if (write(p2c[1], "g", 1) != 1)
		goto reap;
	for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		const struct probe *pr = &probes[i];
		int lfd = pr->family == AF_INET ? l4 : l6;

		if (read(c2p[0], &c, 1) != 1)
			break;
		CHECK((c == '1') == pr->expect, "connect to %s:%d %s", pr->addr, pr->port,
		      pr->expect ? "should succeed" : "should not be answered");
		if (pr->expect)
			CHECK(accepted_dst_is(lfd, pr), "getsockname() gives the decoy %s:%d",
			      pr->addr, pr->port);
		else
			CHECK(nothing_pending(lfd), "no connection reached the listener for %s:%d",
			      pr->addr, pr->port);
		if (write(p2c[1], "n", 1) != 1)
			break;
	}
reap:
	close(p2c[1]);
	close(c2p[0]);
	if (pid > 0) {
		waitpid(pid, &st, 0);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "attacker exit status %d", st);
	}
out:
	if (l4 >= 0)
		close(l4);
	if (l6 >= 0)
		close(l6);
	free(err);
	icpt_list_free(&l);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0) {
		printf("SKIP: needs root (CAP_NET_ADMIN) for network namespaces and nftables\n");
		return 77;
	}
	if (unshare(CLONE_NEWNET) < 0) {
		printf("SKIP: unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return 77;
	}
	if (run("nft --version >/dev/null 2>&1") != 0 || run("ip -V >/dev/null 2>&1") != 0) {
		printf("SKIP: the nft and ip commands are needed\n");
		return 77;
	}
	/* Hard bound on the whole run: SIGALRM ends the process. The 100k
	 * scale part runs several times slower under ASan and ThreadSanitizer. */
#if defined(DP_SANITIZERS) || defined(DP_TSAN)
	alarm(900);
#else
	alarm(120);
#endif
#ifdef DP_TSAN
	printf("  built with --enable-tsan: time bounds of %.0f s instead of 1 s "
	       "(ThreadSanitizer runs 5-15x slower)\n", BOUND_MS / 1000);
#endif
	if (run("ip link set lo up && nft add table inet other && "
		"nft add chain inet other c '{ type filter hook input priority 0; }'") != 0) {
		printf("SKIP: nftables unusable in a fresh network namespace "
		       "(nft add table/chain failed: no nf_tables in this kernel?)\n");
		return 77;
	}
	{
		char why[512];

		if (probe_kernel(why, sizeof(why)) < 0) {
			printf("SKIP: this kernel cannot hold the tproxy ruleset even when nft(8) "
			       "loads it (nft_tproxy, nft_socket, concatenated interval sets?): %s\n", why);
			return 77;
		}
	}
	test_apply();
	test_atomic_failure();
	test_replace();
	test_several_diverts();
	test_packets();
	test_scale();
	test_comment();
	test_remove();
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
