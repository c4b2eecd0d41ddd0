/* intercept_int.h — private to the intercept module: what its two parts
 * share.
 *
 *   intercept.c        list storage, normalisation, printing, set
 *                      operations, overlaps between two lists
 *   intercept_parse.c  spec parsing, intercept files, origin texts
 *
 * Only lib/intercept*.c include this; everyone else uses intercept.h.
 */
#ifndef DECOYPROXY_INTERCEPT_INT_H
#define DECOYPROXY_INTERCEPT_INT_H

#include <sys/socket.h>
#include "lib/intercept.h"

/* A 128-bit integer makes address arithmetic (contiguity, +1, ranges) the
 * same code for both families. GNU extension, available on every target
 * gcc/clang support for this daemon. */
typedef unsigned __int128 u128;

/* Hard cap on list size: bounds memory use (about 48 bytes per element) and
 * keeps element indices in 32 bits. */
#define ICPT_MAX_ELEMS (16u * 1024 * 1024)

/* icpt_elem.src of an element without origin text. */
#define SRC_NONE UINT32_MAX

static inline int icpt_family_bits(int family)
{
	return family == AF_INET ? 32 : 128;
}

/* All-ones in the low `bits` bits (bits 0..128). */
static inline u128 icpt_low_mask(int bits)
{
	if (bits <= 0)
		return 0;
	if (bits >= 128)
		return ~(u128)0;
	return ((u128)1 << bits) - 1;
}

/* ---- intercept.c ---- */

/* Makes room in l for `more` elements past l->n. Returns 0, -E2BIG (the
 * list would exceed ICPT_MAX_ELEMS) or -ENOMEM; l is unchanged on error. */
int icpt_list_reserve(struct icpt_list *l, size_t more);
/* Fills *e: addresses [lo, hi] of family, ports [plo, phi], origin src. */
void icpt_elem_make(struct icpt_elem *e, int family, u128 lo, u128 hi, unsigned plo,
		    unsigned phi, uint32_t src);

/* ---- intercept_parse.c ---- */

/* The origin text at offset src of l's arena ("'spec' (where)"), or
 * "(unknown origin)"; for warnings. */
const char *icpt_src_text(const struct icpt_list *l, uint32_t src);

#endif
