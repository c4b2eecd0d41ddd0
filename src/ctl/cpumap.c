/* cpumap.c — `cpu-map`: parsing into per-thread CPU sets, and binding the
 * threads that run.
 *
 * HAProxy's syntax: `cpu-map [auto:]<process-set>[/<thread-set>] <cpu-set>...`
 * where a process or thread set is `all`, `odd`, `even`, a number or a range
 * `a-b` (1..64) and each cpu-set argument a comma-separated list of numbers
 * and ranges (0..1023). Without a thread set the line binds every thread of
 * the process. With `auto:` the members of the range (threads, or processes
 * when only those form a range) are bound one to one, in order, to the CPUs
 * of the set, which must have as many. decoyproxy runs one process: a
 * process set that does not name process 1 binds nothing (with a warning).
 * A later line overrides an earlier one for the threads they share.
 *
 * State outside the generation (thread 1 only touches it: the reload runs
 * there): the CPUs the process had at start, and whether the running
 * thread is pinned by a generation (so that a generation without cpu-map
 * gives the start-up set back, and leaves alone an affinity set from
 * outside, e.g. by taskset, when no generation ever pinned).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg/cfg.h"
#include "log/msg.h"
#include "model/conf.h"
#include "ctl/cpumap.h"
#include "core/thread.h"
#include "lib/thread.h"

struct cpumap_conf {
	struct conf_ext ext;
	uint64_t threads;                       /* bit tid-1: thread tid is bound */
	cpu_set_t cpus[CPUMAP_MAX_THREADS];
	int src[CPUMAP_MAX_THREADS];            /* index in lines[] of the binding line */
	struct { char *file; int line; } *lines;
	size_t nlines;
};

static void ext_free(struct dp_config *c, struct conf_ext *e)
{
	struct cpumap_conf *cm = container_of(e, struct cpumap_conf, ext);

	(void)c;
	for (size_t i = 0; i < cm->nlines; i++)
		free(cm->lines[i].file);
	free(cm->lines);
	free(cm);
}

static const struct conf_ext_ops cpumap_ext_ops = { "cpu-map", ext_free };

static struct cpumap_conf *conf_of(const struct dp_config *c)
{
	struct conf_ext *e = c ? conf_ext_find(c, &cpumap_ext_ops) : NULL;

	return e ? container_of(e, struct cpumap_conf, ext) : NULL;
}

/* ---- parsing ------------------------------------------------------------------ */

static bool parse_num(const char *s, const char **end, unsigned long *v)
{
	char *e;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*v = strtoul(s, &e, 10);
	if (errno)
		return false;
	*end = e;
	return true;
}

/* A process or thread set over 1..CPUMAP_MAX_THREADS into *out (bit n-1:
 * member n); false when s is none of all/odd/even/N/a-b within range. */
static bool parse_id_set(const char *s, uint64_t *out)
{
	unsigned long a, b;
	const char *e;

	if (!strcmp(s, "all")) {
		*out = UINT64_MAX;
		return true;
	}
	if (!strcmp(s, "odd") || !strcmp(s, "even")) {
		*out = 0;
		for (unsigned i = s[0] == 'o' ? 1 : 2; i <= CPUMAP_MAX_THREADS; i += 2)
			*out |= 1ull << (i - 1);
		return true;
	}
	if (!parse_num(s, &e, &a))
		return false;
	b = a;
	if (*e == '-' && !parse_num(e + 1, &e, &b))
		return false;
	if (*e || a < 1 || b < a || b > CPUMAP_MAX_THREADS)
		return false;
	*out = 0;
	for (unsigned long i = a; i <= b; i++)
		*out |= 1ull << (i - 1);
	return true;
}

/* Adds a comma-separated list of CPU numbers and ranges to *set. */
static bool parse_cpu_list(const char *s, cpu_set_t *set)
{
	for (;;) {
		unsigned long a, b;
		const char *e;

		if (!parse_num(s, &e, &a))
			return false;
		b = a;
		if (*e == '-' && !parse_num(e + 1, &e, &b))
			return false;
		if (b < a || b >= CPU_SETSIZE || (*e && *e != ','))
			return false;
		for (unsigned long i = a; i <= b; i++)
			CPU_SET(i, set);
		if (!*e)
			return true;
		s = e + 1;
	}
}

/* "0-3,6" into buf. */
static const char *fmt_cpus(const cpu_set_t *set, char *buf, size_t cap)
{
	size_t n = 0;

	buf[0] = 0;
	for (int i = 0; i < CPU_SETSIZE && n < cap; i++) {
		int j = i;

		if (!CPU_ISSET(i, set))
			continue;
		while (j + 1 < CPU_SETSIZE && CPU_ISSET(j + 1, set))
			j++;
		n += (size_t)snprintf(buf + n, cap - n, j > i ? "%s%d-%d" : "%s%d", n ? "," : "", i, j);
		i = j;
	}
	if (!buf[0])
		snprintf(buf, cap, "none");
	return buf;
}

static int kw_cpu_map(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct cpumap_conf *cm;
	uint64_t procs, threads;
	bool autoinc = false;
	const char *spec;
	char *slash, *pspec, *tspec = NULL;
	cpu_set_t cpus;
	int cpu_order[CPU_SETSIZE];
	unsigned ncpu = 0, nrange, k;
	void *nl;

	if (argc < 3) {
		memprintf(err, "expects [auto:]<process-set>[/<thread-set>] followed by one or more CPU sets "
			       "(process and thread sets: 'all', 'odd', 'even', a number from 1 to %d or a range; "
			       "CPU numbers from 0 to %d)", CPUMAP_MAX_THREADS, CPU_SETSIZE - 1);
		return CFG_ERR;
	}
	spec = argv[1];
	if (!strncmp(spec, "auto:", 5)) {
		autoinc = true;
		spec += 5;
	}
	pspec = strdup(spec);
	if (!pspec) {
		memprintf(err, "out of memory");
		return CFG_ERR;
	}
	slash = strchr(pspec, '/');
	if (slash) {
		*slash = 0;
		tspec = slash + 1;
	}
	if (!parse_id_set(pspec, &procs)) {
		memprintf(err, "'%s' is not a valid process set ('all', 'odd', 'even', a number from 1 to %d or a range)",
			  pspec, CPUMAP_MAX_THREADS);
		free(pspec);
		return CFG_ERR;
	}
	if (tspec && !parse_id_set(tspec, &threads)) {
		memprintf(err, "'%s' is not a valid thread set ('all', 'odd', 'even', a number from 1 to %d or a range)",
			  tspec, CPUMAP_MAX_THREADS);
		free(pspec);
		return CFG_ERR;
	}
	free(pspec);
	pspec = tspec = NULL;
	if (!slash)
		threads = UINT64_MAX;

	CPU_ZERO(&cpus);
	for (int i = 2; i < argc; i++) {
		if (!parse_cpu_list(argv[i], &cpus)) {
			memprintf(err, "'%s' is not a valid CPU set (numbers and ranges from 0 to %d, separated by commas)",
				  argv[i], CPU_SETSIZE - 1);
			return CFG_ERR;
		}
	}
	for (int i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &cpus))
			cpu_order[ncpu++] = i;

	/* auto: the range is the thread set when it has several members,
	 * otherwise the process set */
	nrange = (unsigned)__builtin_popcountll(slash && __builtin_popcountll(threads) > 1 ? threads : procs);
	if (autoinc && nrange != ncpu) {
		memprintf(err, "with 'auto:', the process or thread range and the CPU set must have the same size "
			       "(%u in the range, %u CPU%s)", nrange, ncpu, ncpu == 1 ? "" : "s");
		return CFG_ERR;
	}
	if (!(procs & 1)) {
		memprintf(err, "process set '%.*s' does not name process 1, the only process of decoyproxy: line ignored",
			  (int)strcspn(argv[1] + (autoinc ? 5 : 0), "/"), argv[1] + (autoinc ? 5 : 0));
		return CFG_WARN;
	}

	cm = conf_of(ctx->conf);
	if (!cm) {
		cm = calloc(1, sizeof(*cm));
		if (!cm) {
			memprintf(err, "out of memory");
			return CFG_ERR;
		}
		cm->ext.ops = &cpumap_ext_ops;
		conf_ext_add(ctx->conf, &cm->ext);
	}
	nl = realloc(cm->lines, (cm->nlines + 1) * sizeof(*cm->lines));
	if (!nl) {
		memprintf(err, "out of memory");
		return CFG_ERR;
	}
	cm->lines = nl;
	cm->lines[cm->nlines].file = strdup(ctx->file);
	cm->lines[cm->nlines].line = ctx->line;
	if (!cm->lines[cm->nlines].file) {
		memprintf(err, "out of memory");
		return CFG_ERR;
	}
	cm->nlines++;

	/* with auto: and a process range, process 1 (the first member) takes
	 * the first CPU for every thread of the thread set */
	k = 0;
	for (unsigned t = 0; t < CPUMAP_MAX_THREADS; t++) {
		if (!(threads & (1ull << t)))
			continue;
		CPU_ZERO(&cm->cpus[t]);
		if (!autoinc)
			cm->cpus[t] = cpus;
		else if (slash && nrange > 1 && nrange == (unsigned)__builtin_popcountll(threads))
			CPU_SET(cpu_order[k++], &cm->cpus[t]);
		else
			CPU_SET(cpu_order[0], &cm->cpus[t]);
		cm->threads |= 1ull << t;
		cm->src[t] = (int)cm->nlines - 1;
	}
	return CFG_OK;
}

static const struct cfg_kw cpumap_kws[] = {
	{ "cpu-map", CFG_SEC_GLOBAL, kw_cpu_map, NULL },
};

const struct cfg_kw_list cpumap_kw_list = { cpumap_kws, ARRAY_SIZE(cpumap_kws) };

/* ---- the threads' binding ------------------------------------------------------- */

static cpu_set_t start_set;     /* the CPUs the process had at start */
static bool have_start;
/* per thread (0-based): bound by a generation; its set before the last
 * apply, whether that apply changed it */
static bool pinned[CPUMAP_MAX_THREADS];
static cpu_set_t undo_set[CPUMAP_MAX_THREADS];
static bool undo_pinned[CPUMAP_MAX_THREADS], undo_changed[CPUMAP_MAX_THREADS];

static bool start_known;         /* sched_getaffinity() answered */

static const cpu_set_t *start_cpus(void)
{
	if (!have_start) {
		start_known = sched_getaffinity(0, sizeof(start_set), &start_set) == 0;
		if (!start_known) {
			/* unknowable: do not refuse any CPU */
			CPU_ZERO(&start_set);
			for (int i = 0; i < CPU_SETSIZE; i++)
				CPU_SET(i, &start_set);
		}
		have_start = true;
	}
	return &start_set;
}

void cpumap_start_set(cpu_set_t *out)
{
	*out = *start_cpus();
}

unsigned cpumap_default_threads(void)
{
	int n;

	(void)start_cpus();
	/* HAProxy's rule: as many threads as CPUs the process may run on when
	 * it starts (so `taskset` sets it), 1 when that cannot be known; at
	 * most the highest thread number. Computed once: the CPUs are those
	 * of the start, kept over reloads (cpu-map pinning thread 1, or an
	 * affinity changed from outside, does not change it). */
	n = start_known ? CPU_COUNT(&start_set) : 1;
	if (n < 1)
		n = 1;
	if (n > DP_MAX_THREADS)
		n = DP_MAX_THREADS;
	return (unsigned)n;
}

unsigned cpumap_running_threads(const struct dp_config *c)
{
	if (c->g.nbthread > 0)
		return (unsigned)c->g.nbthread;
	return cpumap_default_threads();
}

bool cpumap_thread_set(const struct dp_config *c, unsigned thr, cpu_set_t *out)
{
	const struct cpumap_conf *cm = conf_of(c);

	if (!cm || thr < 1 || thr > CPUMAP_MAX_THREADS || !(cm->threads & (1ull << (thr - 1))))
		return false;
	*out = cm->cpus[thr - 1];
	return true;
}

int cpumap_finalize(struct dp_config *c)
{
	const struct cpumap_conf *cm = conf_of(c);
	const cpu_set_t *avail = start_cpus();
	int errors = 0;

	if (!cm)
		return 0;
	for (unsigned t = 1; t <= cpumap_running_threads(c); t++) {
		cpu_set_t s, both;
		char b1[128], b2[128];

		if (!cpumap_thread_set(c, t, &s))
			continue;
		CPU_AND(&both, &s, avail);
		if (CPU_COUNT(&both) == 0)
			cfg_report_at(true, cm->lines[cm->src[t - 1]].file, cm->lines[cm->src[t - 1]].line, &errors,
				      "'cpu-map': thread %u: none of its CPUs (%s) is one the process may run on (%s)", t,
				      fmt_cpus(&s, b1, sizeof(b1)), fmt_cpus(avail, b2, sizeof(b2)));
	}
	return errors;
}

/* The pthread of thread t (1-based) when it runs (T0 is the caller). */
static bool thread_of(unsigned t, pthread_t *out)
{
	if (t == 1) {
		*out = pthread_self();
		return true;
	}
	return thread_handle(t - 1, out);
}

/* Binds running thread t (1-based) as newc says (or back to the start-up
 * set when an earlier generation bound it), remembering how to undo. */
static int pin_one(const struct dp_config *newc, unsigned t, char **err)
{
	cpu_set_t want, cur;
	pthread_t th;
	bool bind;
	int r;
	char b[128];

	undo_changed[t - 1] = false;
	if (!thread_of(t, &th))
		return 0;
	bind = cpumap_thread_set(newc, t, &want);
	if (!bind && !pinned[t - 1])
		return 0;               /* never bound: leave the affinity alone */
	if (!bind)
		want = *start_cpus();
	else
		(void)start_cpus();
	r = pthread_getaffinity_np(th, sizeof(cur), &cur);
	if (r) {
		memprintf(err, "cpu-map: cannot read the CPUs of thread %u: %s", t, strerror(r));
		return -1;
	}
	r = pthread_setaffinity_np(th, sizeof(want), &want);
	if (r) {
		memprintf(err, "cpu-map: cannot bind thread %u to CPUs %s: %s", t, fmt_cpus(&want, b, sizeof(b)),
			  strerror(r));
		return -1;
	}
	undo_set[t - 1] = cur;
	undo_pinned[t - 1] = pinned[t - 1];
	undo_changed[t - 1] = true;
	pinned[t - 1] = bind;
	ha_debug("cpu-map: thread %u runs on CPUs %s", t, fmt_cpus(&want, b, sizeof(b)));
	return 0;
}

static void unpin_all(void)
{
	for (unsigned t = 1; t <= CPUMAP_MAX_THREADS; t++) {
		pthread_t th;

		if (!undo_changed[t - 1])
			continue;
		if (thread_of(t, &th))
			(void)pthread_setaffinity_np(th, sizeof(undo_set[t - 1]), &undo_set[t - 1]);
		pinned[t - 1] = undo_pinned[t - 1];
		undo_changed[t - 1] = false;
	}
}

int cpumap_apply(struct dp_config *newc, struct dp_config *oldc, char **err)
{
	unsigned n = cpumap_running_threads(newc);

	/* the threads and every listener's sockets per thread are made at
	 * start-up: a reload cannot change how many there are */
	if (oldc && n != dp_nbthread) {
		memprintf(err, "nbthread: %u thread(s) asked, %u running: the number of threads cannot change "
			  "on reload (restart the process to change it)", n, dp_nbthread);
		return -1;
	}
	for (unsigned t = 1; t <= dp_nbthread; t++) {
		if (pin_one(newc, t, err) < 0) {
			unpin_all();
			return -1;
		}
	}
	return 0;
}

int cpumap_pin_workers(const struct dp_config *c, char **err)
{
	for (unsigned t = 2; t <= dp_nbthread; t++)
		if (pin_one(c, t, err) < 0)
			return -1;
	return 0;
}

void cpumap_undo(struct dp_config *newc, struct dp_config *oldc)
{
	(void)newc;
	(void)oldc;
	unpin_all();
}
