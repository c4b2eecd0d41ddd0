/* regex.c — PCRE2 regexes compiled once, matched within bounds (see
 * regex.h). */
#include "config.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <stdlib.h>
#include <string.h>

#include "rules/regex.h"
#include "model/counters.h"

/* Bounds of one match: backtracking steps, nesting depth and heap (KiB).
 * Generous for real patterns, small enough that a crafted payload ends a
 * match in well under a millisecond. */
#define RX_MATCH_LIMIT 100000
#define RX_DEPTH_LIMIT 2000
#define RX_HEAP_LIMIT_KB 1024

struct rx {
	pcre2_code *code;
	bool jit;
};

unsigned long long rx_limit_hits;

static __thread pcre2_match_data *rx_md;
static __thread pcre2_match_context *rx_mctx;

static struct rx *compile(const char *pattern, bool icase, bool partial, char **err)
{
	struct rx *r = calloc(1, sizeof(*r));
	int ec;
	PCRE2_SIZE eo;

	if (!r) {
		memprintf(err, "out of memory");
		return NULL;
	}
	r->code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, icase ? PCRE2_CASELESS : 0, &ec, &eo,
				NULL);
	if (!r->code) {
		PCRE2_UCHAR msg[160];

		pcre2_get_error_message(ec, msg, sizeof(msg));
		memprintf(err, "regex '%s' failed to compile at offset %zu: %s", pattern, (size_t)eo, (char *)msg);
		free(r);
		return NULL;
	}
#ifdef PCRE2_JIT_COMPLETE
	r->jit = pcre2_jit_compile(r->code, PCRE2_JIT_COMPLETE | (partial ? PCRE2_JIT_PARTIAL_SOFT : 0)) == 0;
#else
	(void)partial;
#endif
	return r;
}

struct rx *rx_compile(const char *pattern, bool icase, char **err)
{
	return compile(pattern, icase, false, err);
}

struct rx *rx_compile_partial(const char *pattern, char **err)
{
	return compile(pattern, false, true, err);
}

void rx_free(struct rx *r)
{
	if (!r)
		return;
	pcre2_code_free(r->code);
	free(r);
}

void rx_thread_free(void)
{
	pcre2_match_data_free(rx_md);
	pcre2_match_context_free(rx_mctx);
	rx_md = NULL;
	rx_mctx = NULL;
}

/* The calling thread's match data and bounded match context. */
static bool rx_thread_init(void)
{
	if (!rx_md) {
		rx_md = pcre2_match_data_create(16, NULL);
		rx_mctx = pcre2_match_context_create(NULL);
		if (!rx_md || !rx_mctx)
			return false;
		pcre2_set_match_limit(rx_mctx, RX_MATCH_LIMIT);
		pcre2_set_depth_limit(rx_mctx, RX_DEPTH_LIMIT);
		pcre2_set_heap_limit(rx_mctx, RX_HEAP_LIMIT_KB);
	}
	return true;
}

int rx_exec_partial(const struct rx *r, const char *s, size_t len)
{
	int rc;

	if (!rx_thread_init())
		return 0;
	rc = pcre2_match(r->code, (PCRE2_SPTR)(s ? s : ""), len, 0, PCRE2_PARTIAL_SOFT, rx_md, rx_mctx);
	if (rc == PCRE2_ERROR_PARTIAL)
		return RX_PARTIAL;
	if (rc < 0) {
		if (rc != PCRE2_ERROR_NOMATCH)
			RARE_INC(rx_limit_hits);
		return 0;
	}
	return 1;
}

int rx_exec(const struct rx *r, const char *s, size_t len, size_t *ovec, int nvec)
{
	int rc;

	if (!rx_thread_init())
		return 0;
	/* pcre2_match() uses the JIT code when there is some */
	rc = pcre2_match(r->code, (PCRE2_SPTR)(s ? s : ""), len, 0, 0, rx_md, rx_mctx);
	if (rc < 0) {
		if (rc != PCRE2_ERROR_NOMATCH)
			RARE_INC(rx_limit_hits);
		return 0;
	}
	if (ovec && nvec > 0) {
		PCRE2_SIZE *v = pcre2_get_ovector_pointer(rx_md);
		int n = rc < nvec ? rc : nvec;

		for (int i = 0; i < nvec; i++) {
			ovec[2 * i] = i < n ? v[2 * i] : (size_t)-1;
			ovec[2 * i + 1] = i < n ? v[2 * i + 1] : (size_t)-1;
		}
	}
	return 1;
}

