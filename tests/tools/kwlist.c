/* kwlist.c — lists the configuration keywords decoyproxy knows, for the
 * man page's completeness test (tests/test_manpage.sh).
 *
 *   kwlist              every keyword of the registry (ctl/module.c's module
 *                       table): one line "<section>\t<keyword>\t<status>" per
 *                       section where the keyword is allowed
 *   kwlist --probe      reads "<kind> <word>" lines on stdin (kind: option,
 *                       bind, server, timeout, stats, tcp-check, http-check,
 *                       tcp-request) and prints "<kind>\t<word>\t<status>"
 *                       for each word decoyproxy knows, by parsing a small
 *                       configuration that uses it and reading the message
 *
 * status: accepted (parsed; it may still want arguments), warned (accepted
 * with a warning and ignored), refused (a known keyword that decoyproxy
 * refuses). Unknown words are not printed. A keyword name ending in '*'
 * stands for every keyword starting with what precedes it.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg/cfg.h"
#include "ctl/module.h"
#include "log/msg.h"
#include "model/conf.h"

static char msgs[8192];

static void capture(int kind, const char *m)
{
	size_t l = strlen(msgs);

	(void)kind;
	snprintf(msgs + l, sizeof(msgs) - l, "%s\n", m);
}

static const char *const sec_names[] = {
	"global", "defaults", "frontend", "backend", "listen", "network", "namespace_list", "udp-lb",
};

static const char *status_of(const struct cfg_kw *kw)
{
	if (!kw->fn)
		return "refused";
	if (kw->fn == cfg_kw_ignored)
		return "warned";
	return "accepted";
}

static void list_registry(void)
{
	size_t n;
	const struct dp_module *const *t = modules_table(&n);

	for (size_t i = 0; i < n; i++) {
		const struct cfg_kw_list *l = t[i]->kws;

		for (size_t k = 0; l && k < l->n; k++)
			for (size_t s = 0; s < ARRAY_SIZE(sec_names); s++)
				if (l->kws[k].sections & (1u << s))
					printf("%s\t%s\t%s\n", sec_names[s], l->kws[k].name, status_of(&l->kws[k]));
	}
}

/* Parses `line` inside a listen section (or global for kind "global") and
 * classifies what decoyproxy said about `word`. NULL: unknown. */
static const char *probe_line(const char *kind, const char *line)
{
	struct dp_config *c = dp_config_new();
	char buf[1024];
	int errors;

	if (!c)
		return NULL;
	msgs[0] = '\0';
	snprintf(buf, sizeof(buf), "%s\n    %s\n",
		 !strcmp(kind, "stats-global") ? "global" : "listen probe\n    mode tcp\n    bind 127.0.0.1:1", line);
	errors = cfg_parse_buffer(c, "probe.cfg", buf);
	dp_config_put(c);
	if (strstr(msgs, "unknown ") || strstr(msgs, "unexpected word") || strstr(msgs, "did you mean") ||
	    strstr(msgs, "found '") || strstr(msgs, "but got '"))
		return NULL;
	if (strstr(msgs, "not supported") || strstr(msgs, "not yet supported") || strstr(msgs, "is an HTTP option") || strstr(msgs, "removed from HAProxy") ||
	    strstr(msgs, "is not allowed"))
		return "refused";
	if (!errors && strstr(msgs, "ignored"))
		return "warned";
	return "accepted";
}

static int probe(void)
{
	char in[256], kind[64], word[128], line[512];

	while (fgets(in, sizeof(in), stdin)) {
		const char *st = NULL, *r;

		if (sscanf(in, "%63s %127s", kind, word) != 2 || kind[0] == '#')
			continue;
		/* try the word alone, then with arguments for the options that
		 * need some before they are judged */
		for (int nargs = 0; nargs <= 3; nargs++) {
			const char *args = nargs == 0 ? "" : nargs == 1 ? " 1" : nargs == 2 ? " 1 1" : " 1 1 1";

			if (!strcmp(kind, "option"))
				snprintf(line, sizeof(line), "option %s%s", word, args);
			else if (!strcmp(kind, "bind"))
				snprintf(line, sizeof(line), "bind 127.0.0.1:2 %s%s", word, args);
			else if (!strcmp(kind, "server"))
				snprintf(line, sizeof(line), "server s 127.0.0.1:1 %s%s", word, args);
			else if (!strcmp(kind, "timeout"))
				snprintf(line, sizeof(line), "timeout %s 1s", word);
			else if (!strcmp(kind, "stats-global"))
				snprintf(line, sizeof(line), "stats %s%s", word, args);
			else
				snprintf(line, sizeof(line), "%s %s%s", kind, word, args);
			/* a later try that fails on the dummy arguments keeps
			 * what the first one found */
			r = probe_line(kind, line);
			if (r)
				st = r;
			if (!r || strcmp(r, "accepted") || !strstr(msgs, "expect"))
				break;
		}
		if (st)
			printf("%s\t%s\t%s\n", kind, word, st);
	}
	return 0;
}

int main(int argc, char **argv)
{
	ha_msg_hook = capture;
	dp_msg.quiet = true;
	if (modules_init() < 0) {
		fprintf(stderr, "kwlist: modules_init failed\n");
		return 1;
	}
	/* alerts are printed even when quiet: what they say is in msgs */
	if (!freopen("/dev/null", "w", stderr))
		return 1;
	if (argc > 1 && !strcmp(argv[1], "--probe"))
		return probe();
	if (argc > 1) {
		printf("usage: kwlist [--probe]\n");
		return 2;
	}
	list_registry();
	return 0;
}
