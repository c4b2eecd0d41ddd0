/* test_probe.c — probe events and scan summaries (lib/probe.h), with the
 * time injected: verdicts (closed, connection, half-open, syn), one event
 * per key per interval, scan counts at the end of the window, eviction
 * when the table is full. */
#include "config.h"

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "lib/probe.h"

#define MAXEV 256
static struct probe_event ev[MAXEV];
static int nev;

static void emit(void *ctx, const struct probe_event *e)
{
	(void)ctx;
	if (nev < MAXEV)
		ev[nev] = *e;
	nev++;
}

static const struct probe_params prm = { 10000, 3, 4 };

static const struct probe_params *params(void *ctx, uint32_t scope)
{
	(void)ctx;
	return scope == 1 ? &prm : NULL;
}

static struct probe_obs obs(enum probe_obs_kind k, const char *src, uint16_t sport, const char *dst,
			    uint16_t dport)
{
	struct probe_obs o;

	memset(&o, 0, sizeof(o));
	o.kind = k;
	o.family = AF_INET;
	o.proto = 6;
	inet_pton(AF_INET, src, &o.src);
	inet_pton(AF_INET, dst, &o.dst);
	o.sport = sport;
	o.dport = dport;
	o.scope = 1;
	return o;
}

static struct probe_table *mk(size_t cap)
{
	nev = 0;
	memset(ev, 0, sizeof(ev));
	return probe_table_new(cap, 1000, emit, params, NULL);
}

static void see(struct probe_table *t, uint64_t now, enum probe_obs_kind k, const char *src,
		uint16_t sport, const char *dst, uint16_t dport)
{
	struct probe_obs o = obs(k, src, sport, dst, dport);

	probe_observe(t, now, &o);
}

static void test_verdicts(void **state)
{
	struct probe_table *t = mk(256);
	char ip[INET_ADDRSTRLEN];

	(void)state;
	/* closed: at once */
	see(t, 100, PROBE_OBS_CLOSED, "10.1.0.2", 40000, "10.99.0.3", 443);
	assert_int_equal(nev, 1);
	assert_int_equal(ev[0].verdict, PROBE_V_CLOSED);
	assert_int_equal(ev[0].dport, 443);
	assert_int_equal(ev[0].sport, 40000);
	assert_string_equal(inet_ntop(AF_INET, &ev[0].dst, ip, sizeof(ip)), "10.99.0.3");
	assert_string_equal(inet_ntop(AF_INET, &ev[0].src, ip, sizeof(ip)), "10.1.0.2");
	/* connection: when accepted */
	see(t, 200, PROBE_OBS_SYN, "10.1.0.2", 40001, "10.99.0.3", 22);
	assert_int_equal(nev, 1);
	see(t, 201, PROBE_OBS_ACCEPT, "10.1.0.2", 40001, "10.99.0.3", 22);
	assert_int_equal(nev, 1);
	probe_tick(t, 1201);
	assert_int_equal(nev, 2);
	assert_int_equal(ev[1].verdict, PROBE_V_CONNECTION);
	assert_int_equal(ev[1].syn, 1);
	/* half-open: SYN, RST, no accept, after the settle time */
	see(t, 300, PROBE_OBS_SYN, "10.1.0.2", 40002, "10.99.0.4", 22);
	see(t, 301, PROBE_OBS_RST, "10.1.0.2", 40002, "10.99.0.4", 22);
	assert_int_equal(probe_tick(t, 1299), 1);
	assert_int_equal(nev, 2);
	probe_tick(t, 1300);
	assert_int_equal(nev, 3);
	assert_int_equal(ev[2].verdict, PROBE_V_HALF_OPEN);
	assert_int_equal(ev[2].rst, 1);
	assert_int_equal(ev[2].time_ms, 300);
	/* syn: nothing else */
	see(t, 400, PROBE_OBS_SYN, "10.1.0.9", 40003, "10.99.0.5", 80);
	probe_tick(t, 1400);
	assert_int_equal(nev, 4);
	assert_int_equal(ev[3].verdict, PROBE_V_SYN);
	assert_string_equal(probe_verdict_name(ev[3].verdict), "syn");
	assert_string_equal(probe_verdict_name(PROBE_V_HALF_OPEN), "half-open");
	/* an RST alone says nothing */
	see(t, 500, PROBE_OBS_RST, "10.1.0.7", 40004, "10.99.0.5", 80);
	probe_tick(t, 2000);
	assert_int_equal(nev, 4);
	probe_table_free(t);
}

static void test_one_per_interval(void **state)
{
	struct probe_table *t = mk(256);

	(void)state;
	for (int i = 0; i < 5; i++)
		see(t, 100 + i, PROBE_OBS_CLOSED, "10.1.0.2", 40000 + i, "10.99.0.3", 443);
	assert_int_equal(nev, 1);
	assert_int_equal(probe_table_stats(t)->suppressed, 4);
	/* the interval (10 s) is over: a new event */
	see(t, 10200, PROBE_OBS_CLOSED, "10.1.0.2", 40100, "10.99.0.3", 443);
	assert_int_equal(nev, 2);
	assert_int_equal(ev[1].time_ms, 10200);
	/* a connection after a half-open of the same key is news */
	see(t, 11000, PROBE_OBS_SYN, "10.1.0.2", 40200, "10.99.0.3", 22);
	see(t, 11001, PROBE_OBS_RST, "10.1.0.2", 40200, "10.99.0.3", 22);
	probe_tick(t, 12001);
	assert_int_equal(ev[nev - 1].verdict, PROBE_V_HALF_OPEN);
	see(t, 12500, PROBE_OBS_ACCEPT, "10.1.0.2", 40201, "10.99.0.3", 22);
	/* the accept is read before the kernel's log of its SYN */
	see(t, 12501, PROBE_OBS_SYN, "10.1.0.2", 40201, "10.99.0.3", 22);
	probe_tick(t, 13500);
	assert_int_equal(ev[nev - 1].verdict, PROBE_V_CONNECTION);
	assert_int_equal(ev[nev - 1].syn, 2);
	assert_int_equal(ev[nev - 1].sport, 40201);
	probe_table_free(t);
}

static void test_scan(void **state)
{
	struct probe_table *t = mk(1024);
	char ip[INET_ADDRSTRLEN];
	int probes;

	(void)state;
	/* attacker A: 4 decoys x 2 ports (a scan: >= 3 decoys), B: one probe */
	for (int d = 1; d <= 4; d++) {
		for (int p = 0; p < 2; p++) {
			char dst[32];

			snprintf(dst, sizeof(dst), "10.99.0.%d", d);
			see(t, 1000 + d * 10 + p, PROBE_OBS_CLOSED, "10.1.0.2", 40000, dst, p ? 443 : 8080);
		}
	}
	see(t, 1100, PROBE_OBS_CLOSED, "10.1.0.3", 40000, "10.99.0.1", 443);
	probes = nev;
	assert_int_equal(probes, 9);
	probe_tick(t, 10999);
	assert_int_equal(nev, probes);
	probe_tick(t, 11011);
	assert_int_equal(nev, probes + 1);
	assert_int_equal(ev[probes].type, PROBE_EV_SCAN);
	assert_int_equal(ev[probes].ndecoys, 4);
	assert_int_equal(ev[probes].nports, 2);
	assert_int_equal(ev[probes].nprobes, 8);
	assert_int_equal(ev[probes].time_ms, 1010);
	assert_int_equal(ev[probes].dport, 443);
	assert_int_equal(ev[probes].dport_hi, 8080);
	assert_string_equal(inet_ntop(AF_INET, &ev[probes].src, ip, sizeof(ip)), "10.1.0.2");
	assert_string_equal(inet_ntop(AF_INET, &ev[probes].dst, ip, sizeof(ip)), "10.99.0.1");
	assert_string_equal(inet_ntop(AF_INET, &ev[probes].dst_hi, ip, sizeof(ip)), "10.99.0.4");
	assert_false(ev[probes].partial);
	/* B stays below the thresholds: no scan, ever */
	probe_tick(t, 30000);
	assert_int_equal(nev, probes + 1);
	/* A again, after its window: a new window, counted from zero */
	see(t, 40000, PROBE_OBS_CLOSED, "10.1.0.2", 40000, "10.99.0.1", 443);
	see(t, 40001, PROBE_OBS_CLOSED, "10.1.0.2", 40000, "10.99.0.1", 444);
	see(t, 40002, PROBE_OBS_CLOSED, "10.1.0.2", 40000, "10.99.0.1", 445);
	see(t, 40003, PROBE_OBS_CLOSED, "10.1.0.2", 40000, "10.99.0.1", 446);
	probe_table_free(t);    /* emits the window over the port threshold */
	assert_int_equal(ev[nev - 1].type, PROBE_EV_SCAN);
	assert_int_equal(ev[nev - 1].nports, 4);
	assert_int_equal(ev[nev - 1].ndecoys, 1);
}

static void test_eviction(void **state)
{
	struct probe_table *t = mk(16);
	int syns = 0;

	(void)state;
	/* 40 pending SYNs of distinct keys in a table of 16: every one is
	 * emitted (early, when evicted), and evictions are counted */
	for (int i = 0; i < 40; i++) {
		char src[32];

		snprintf(src, sizeof(src), "10.2.%d.%d", i / 200, i % 200 + 1);
		see(t, 100 + (uint64_t)i, PROBE_OBS_SYN, src, 40000, "10.99.0.1", 22);
	}
	assert_true(probe_table_used(t) <= 16);
	assert_true(probe_table_stats(t)->evictions > 0);
	probe_table_free(t);
	for (int i = 0; i < nev; i++)
		syns += ev[i].type == PROBE_EV_PROBE;
	assert_int_equal(syns, 40);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verdicts),
		cmocka_unit_test(test_one_per_interval),
		cmocka_unit_test(test_scan),
		cmocka_unit_test(test_eviction),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
