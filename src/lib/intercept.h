/* intercept.h — decoy specs: which (address, TCP port) pairs are intercepted.
 *
 * A spec is "ADDRS:PORTS":
 *   ADDRS  10.0.0.1 | 10.0.0.0/24 | 10.0.0.1-10.0.0.9
 *          [fd09::1] | [fd09::]/64 | [fd09::1]-[fd09::ff]   (IPv6 always in brackets)
 *   PORTS  comma list of ports and ranges: 22,80,443 | 1-1024 | * (= 1-65535)
 *
 * Each spec adds one element per PORTS item to a list. The list is then
 * normalised once (icpt_normalise): sorted, overlaps removed, contiguous
 * elements merged, so that the elements are disjoint, which is what the
 * kernel's interval set wants. That element count is what goes to nftables.
 *
 * Policy on CIDR with host bits set ("10.0.0.1/24"): rejected with an error
 * that suggests the network address. A decoy list decides which traffic is
 * hijacked: silently widening a typo'd single address to a /24 could steal a
 * real host's connections, so the operator must write what is meant.
 *
 * Pure module: no sockets, no globals.
 */
#ifndef DECOYPROXY_INTERCEPT_H
#define DECOYPROXY_INTERCEPT_H

#include <netinet/in.h>
#include "lib/common.h"

/* One rectangle of (address range) x (port range). Addresses are in network
 * byte order (only .v4 is meaningful for AF_INET); ports in host order.
 * Bounds are inclusive: lo <= hi on both axes. */
union icpt_addr {
	struct in_addr v4;
	struct in6_addr v6;
};

struct icpt_elem {
	union icpt_addr lo, hi;
	uint16_t port_lo, port_hi;
	uint8_t family;                 /* AF_INET or AF_INET6 */
	uint32_t src;                   /* private: origin of the element (warnings) */
};

struct icpt_list {
	struct icpt_elem *v;            /* elements; after icpt_normalise sorted by
	                                 * family (v4 first), then address, then port */
	size_t n, cap;
	bool normalised;                /* set by icpt_normalise, cleared by any add */
	char *srcbuf;                   /* private: arena of "'spec' (where)" texts */
	size_t srclen, srccap;
};

/* Warning sink: msg is only valid during the call. */
typedef void (*icpt_warn_fn)(void *ctx, const char *msg);

/* Upper bound on warnings one icpt_normalise() call delivers one by one; the
 * rest are summarised in a final "... and N more" warning. */
#define ICPT_MAX_WARNINGS 20

/* Longest line icpt_file_load() accepts. */
#define ICPT_MAX_LINE 4096

void icpt_list_init(struct icpt_list *l);
/* Frees what the list owns; the list is left empty and reusable. */
void icpt_list_free(struct icpt_list *l);

/* Parses one spec and appends its elements to l. `where` (may be NULL) names
 * the origin, e.g. "decoyproxy.cfg:12", and is only used in later warnings
 * (copied). Returns 0, -EINVAL with *err set to what is wrong, quoting the
 * spec (e.g. "bad port '70000' in '10.0.0.1:70000'"), or -ENOMEM. On error
 * the list is left as it was. */
int icpt_parse_spec(struct icpt_list *l, const char *spec, const char *where, char **err);

/* The `intercept <spec> [<spec>...]` keyword: parses argc specs (argv holds
 * the specs only, not the keyword). All or nothing: on error the list is left
 * as it was. Returns as icpt_parse_spec(). */
int icpt_parse_args(struct icpt_list *l, int argc, char *const *argv, const char *where,
		    char **err);

/* The `intercept-file <path>` keyword: one spec per line, '#' starts a
 * comment, blank lines ignored, surrounding blanks and a CR before the LF
 * stripped. Errors are prefixed with "path:line: ". All or nothing: on error
 * the list is left as it was. warn (may be NULL) is reserved for non-fatal
 * remarks on the file itself; overlaps are reported by icpt_normalise().
 * A FIFO, a socket or a directory is -EINVAL (*err naming the path and
 * what it is); a device is read like a file, one line at most
 * ICPT_MAX_LINE bytes. Returns 0, -EINVAL (syntax; *err set), -errno
 * from open/read (*err names the path) or -ENOMEM. */
int icpt_file_load(const char *path, struct icpt_list *l, icpt_warn_fn warn, void *ctx,
		   char **err);

/* Sorts l, makes its elements pairwise disjoint and merges neighbours:
 * elements with the same port range and contiguous addresses, and elements
 * with the same address range and contiguous or overlapping ports. The set
 * of (address, port) pairs covered is unchanged. Every element that
 * overlaps an earlier one (the operator wrote the same decoy twice) is
 * reported through warn (may be NULL), naming both specs and where they came
 * from; at most ICPT_MAX_WARNINGS, then one summary. O(n log n) for usual
 * inputs. Returns the number of overlaps found (>= 0) or -ENOMEM (the list
 * is then unchanged). */
long icpt_normalise(struct icpt_list *l, icpt_warn_fn warn, void *ctx);

/* Number of elements of the given family (AF_INET / AF_INET6; 0 = all). */
size_t icpt_count(const struct icpt_list *l, int family);

/* Writes an element in spec syntax ("10.0.0.0/24:22-80", "[fd09::1]:443",
 * "10.0.0.1-10.0.0.7:1-65535"): a CIDR when the range is exactly one,
 * otherwise a range. Returns buf (always NUL-terminated, truncated if cap is
 * short; ICPT_ELEM_STRLEN is always enough). */
#define ICPT_ELEM_STRLEN 112
const char *icpt_elem_str(const struct icpt_elem *e, char *buf, size_t cap);

/* ---- set operations (runtime changes from the stats socket) ---- */

/* Appends the elements of src of the given family (AF_INET, AF_INET6; 0 =
 * all) to dst, keeping their origin texts. dst is no longer normalised
 * when something was appended. All or nothing: returns 0, -ENOMEM or
 * -E2BIG (too many elements), dst unchanged on error. */
int icpt_list_append(struct icpt_list *dst, const struct icpt_list *src, int family);

/* Removes from l every (address, port) pair that r covers (elements of
 * another family are untouched). An element cut by r is replaced by the
 * pieces of it that remain (at most four, keeping its origin), so l is no
 * longer normalised when something changed. All or nothing: returns 0,
 * -ENOMEM or -E2BIG, l unchanged on error. */
int icpt_subtract(struct icpt_list *l, const struct icpt_elem *r);

/* Whether l covers every (address, port) pair of r. Returns 1 (covered),
 * 0 (not: *gap, if not NULL, is set to a part of r that l lacks, the one
 * with the lowest address; when l is very fragmented around r the search
 * may give up and set *gap to r itself) or -ENOMEM. l need not be
 * normalised. */
int icpt_covers(const struct icpt_list *l, const struct icpt_elem *r, struct icpt_elem *gap);

/* Number of (address, port) pairs covered by l (saturates at UINT64_MAX);
 * exact once l is normalised. Useful for logs and tests. */
uint64_t icpt_pairs(const struct icpt_list *l);

/* An address of family as a number (host order, IPv4 in the low 32 bits),
 * and back; the arithmetic of ranges, prefixes and sweeps uses these. */
unsigned __int128 icpt_addr_u128(int family, const union icpt_addr *a);
void icpt_u128_addr(int family, unsigned __int128 x, union icpt_addr *a);

/* Finds two intersecting elements of family fam, one of a and one of b, both
 * normalised (the elements of each pairwise disjoint). Returns 1 with *ia,
 * *ib the indexes of the first such pair in address order, 0 when the lists
 * are disjoint in that family, or -ENOMEM. O((|a| + |b|) log). */
int icpt_lists_overlap(const struct icpt_list *a, const struct icpt_list *b, int fam,
		       size_t *ia, size_t *ib);

/* The intersection of two intersecting elements of one family (origin: none). */
void icpt_elem_meet(const struct icpt_elem *x, const struct icpt_elem *y, struct icpt_elem *out);

/* Whether e (of family fam) holds address a and port. */
bool icpt_elem_has(const struct icpt_elem *e, int fam, const union icpt_addr *a, uint16_t port);

/* The spec text e came from ("file:line: spec"), or NULL when unknown. */
const char *icpt_elem_origin(const struct icpt_list *l, const struct icpt_elem *e);

#endif
