/* Unit tests: termination state (%ts) — every combination the daemon
 * produces, from the event and the session's phase. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lib/term.h"

static const struct term_snap REQ = { TERM_ST_REQUEST, false, false };
static const struct term_snap QUE = { TERM_ST_QUEUE, false, false };
static const struct term_snap CON = { TERM_ST_CONNECT, false, false };
static const struct term_snap DAT = { TERM_ST_DATA, false, false };
/* the server ended, its last bytes are still going to the client */
static const struct term_snap LST = { TERM_ST_DATA, true, true };
/* the server ended and everything was delivered: still plain data */
static const struct term_snap EOFD = { TERM_ST_DATA, true, false };
/* bytes pending toward the client while the server is still open */
static const struct term_snap PEND = { TERM_ST_DATA, false, true };

static const char *ts(enum term_event ev, const struct term_snap *snap)
{
	static char out[3];

	memset(out, 'x', sizeof(out));
	term_compute(ev, snap, out);
	return out;
}

static void test_phase(void **state)
{
	(void)state;
	assert_int_equal(term_phase(&REQ), 'R');
	assert_int_equal(term_phase(&QUE), 'Q');
	assert_int_equal(term_phase(&CON), 'C');
	assert_int_equal(term_phase(&DAT), 'D');
	assert_int_equal(term_phase(&LST), 'L');
	assert_int_equal(term_phase(&EOFD), 'D');
	assert_int_equal(term_phase(&PEND), 'D');
}

static void test_normal(void **state)
{
	(void)state;
	/* the phase never shows on a normal end */
	assert_string_equal(ts(TERM_EV_DONE, &DAT), "--");
	assert_string_equal(ts(TERM_EV_DONE, &LST), "--");
	assert_string_equal(ts(TERM_EV_DONE, NULL), "--");
}

static void test_aborts(void **state)
{
	(void)state;
	/* client reset / write error */
	assert_string_equal(ts(TERM_EV_CLI_ABORT, &DAT), "CD");
	assert_string_equal(ts(TERM_EV_CLI_ABORT, &LST), "CL");
	assert_string_equal(ts(TERM_EV_CLI_ABORT, &CON), "CC");
	assert_string_equal(ts(TERM_EV_CLI_ABORT, &QUE), "CQ");
	/* client gone while its PROXY header was awaited */
	assert_string_equal(ts(TERM_EV_CLI_ABORT, &REQ), "CR");
	/* server reset / write error */
	assert_string_equal(ts(TERM_EV_SRV_ABORT, &DAT), "SD");
	assert_string_equal(ts(TERM_EV_SRV_ABORT, &LST), "SL");
	assert_string_equal(ts(TERM_EV_SRV_ABORT, &PEND), "SD");
}

static void test_timeouts(void **state)
{
	(void)state;
	assert_string_equal(ts(TERM_EV_CLI_TIMEOUT, &DAT), "cD");
	assert_string_equal(ts(TERM_EV_CLI_TIMEOUT, &LST), "cL");
	assert_string_equal(ts(TERM_EV_CLI_TIMEOUT, &QUE), "cQ");
	assert_string_equal(ts(TERM_EV_CLI_TIMEOUT, &CON), "cC");
	/* PROXY header not complete within timeout client */
	assert_string_equal(ts(TERM_EV_CLI_TIMEOUT, &REQ), "cR");
	assert_string_equal(ts(TERM_EV_SRV_TIMEOUT, &DAT), "sD");
	assert_string_equal(ts(TERM_EV_SRV_TIMEOUT, &LST), "sL");
	/* timeout queue */
	assert_string_equal(ts(TERM_EV_SRV_TIMEOUT, &QUE), "sQ");
}

static void test_connect(void **state)
{
	(void)state;
	/* connect outcomes are "C" whatever stage the session was in when
	 * the failure was found (e.g. no server chosen yet) */
	const struct term_snap *all[] = { &REQ, &QUE, &CON, &DAT, &LST, NULL };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		assert_string_equal(ts(TERM_EV_CONN_REFUSED, all[i]), "SC");
		assert_string_equal(ts(TERM_EV_CONN_TIMEOUT, all[i]), "sC");
		assert_string_equal(ts(TERM_EV_NO_SERVER, all[i]), "SC");
		/* family mismatch, source bind failure, port offset, PROXY
		 * header that cannot be built */
		assert_string_equal(ts(TERM_EV_CONN_PROXY, all[i]), "PC");
		assert_string_equal(ts(TERM_EV_CONN_RESOURCE, all[i]), "RC");
	}
}

static void test_proxy_resource_internal(void **state)
{
	(void)state;
	/* invalid PROXY header */
	assert_string_equal(ts(TERM_EV_PROXY, &REQ), "PR");
	/* out of memory at accept / while storing the header's TLVs */
	assert_string_equal(ts(TERM_EV_RESOURCE, &REQ), "RR");
	assert_string_equal(ts(TERM_EV_INTERNAL, &DAT), "ID");
	assert_string_equal(ts(TERM_EV_SRV_DOWN, &DAT), "DD");
	assert_string_equal(ts(TERM_EV_SRV_DOWN, &QUE), "DQ");
	/* no snapshot where one is needed: the phase is unknown */
	assert_string_equal(ts(TERM_EV_PROXY, NULL), "P-");
}

static void test_killed(void **state)
{
	(void)state;
	/* `shutdown session`, hard-stop-after, hard stop */
	assert_string_equal(ts(TERM_EV_KILLED, &DAT), "KD");
	assert_string_equal(ts(TERM_EV_KILLED, &REQ), "KR");
	assert_string_equal(ts(TERM_EV_KILLED, &QUE), "KQ");
	assert_string_equal(ts(TERM_EV_KILLED, &CON), "KC");
	assert_string_equal(ts(TERM_EV_KILLED, &LST), "KL");
}

static void test_unknown_and_names(void **state)
{
	(void)state;
	assert_string_equal(ts(TERM_EV_COUNT, &DAT), "ID");
	assert_string_equal(ts((enum term_event)-1, &CON), "IC");
	for (int ev = 0; ev < TERM_EV_COUNT; ev++) {
		const char *n = term_event_name((enum term_event)ev);

		assert_non_null(n);
		assert_true(n[0] != '\0');
	}
	assert_string_equal(term_event_name(TERM_EV_COUNT), "internal error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_phase),
		cmocka_unit_test(test_normal),
		cmocka_unit_test(test_aborts),
		cmocka_unit_test(test_timeouts),
		cmocka_unit_test(test_connect),
		cmocka_unit_test(test_proxy_resource_internal),
		cmocka_unit_test(test_killed),
		cmocka_unit_test(test_unknown_and_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
