/* value.c — the values of configuration words (numbers, times, word
 * counts) and the messages that say what is wrong with them. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cfg/value.h"

int cfg_parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
	return str_to_uint(s, max, out);
}

int cfg_parse_time_ms(const char *s, long long *ms)
{
	char *end;
	unsigned long long v;
	long double f;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (!*end || !strcmp(end, "ms"))
		f = v;
	else if (!strcmp(end, "us"))
		f = (v + 999) / 1000;
	else if (!strcmp(end, "s"))
		f = (long double)v * 1000;
	else if (!strcmp(end, "m"))
		f = (long double)v * 60000;
	else if (!strcmp(end, "h"))
		f = (long double)v * 3600000;
	else if (!strcmp(end, "d"))
		f = (long double)v * 86400000;
	else
		return -EINVAL;
	if (f > CFG_TIMER_MAX_MS)
		return -ERANGE;
	*ms = (long long)f;
	return 0;
}

void cfg_timer_overflow(char **err, const char *arg, const char *what)
{
	memprintf(err, "timer overflow in argument '%s' to '%s' (maximum value is %lld ms or ~24.8 days)",
		  arg, what, CFG_TIMER_MAX_MS);
}

int cfg_time_arg(const char *what, const char *arg, long long *ms, char **err)
{
	int r = cfg_parse_time_ms(arg, ms);

	if (r == -ERANGE)
		cfg_timer_overflow(err, arg, what);
	return r;
}

int cfg_opt_uint(const char *what, const char *arg, unsigned long long max, unsigned long long *out,
		 char **err)
{
	if (cfg_parse_uint(arg, max, out) < 0) {
		memprintf(err, "'%s' expects an integer from 0 to %llu, got '%s'", what, max, arg);
		return -EINVAL;
	}
	return 0;
}

int cfg_kw_uint(const char *arg, unsigned long long min, unsigned long long max, unsigned long long *out,
		char **err)
{
	if (cfg_parse_uint(arg, max, out) < 0 || *out < min) {
		memprintf(err, "invalid value '%s' (expects an integer from %llu to %llu)", arg, min, max);
		return -EINVAL;
	}
	return 0;
}

int cfg_need_args(int argc, char **argv, int n, char **err)
{
	if (argc < n + 1) {
		memprintf(err, "expects %d argument%s", n, n > 1 ? "s" : "");
		return -EINVAL;
	}
	return 0;
}

int cfg_max_args(int argc, char **argv, int max, char **err)
{
	if (argc > max + 1) {
		memprintf(err, "unexpected extra argument '%s'", argv[max + 1]);
		return -EINVAL;
	}
	return 0;
}

int cfg_one_arg(int argc, char **argv, char **err)
{
	if (argc < 2) {
		memprintf(err, "expects one argument");
		return -EINVAL;
	}
	return cfg_max_args(argc, argv, 1, err);
}

int cfg_no_arg(int argc, char **argv, char **err)
{
	if (argc != 1) {
		memprintf(err, "takes no argument");
		return -EINVAL;
	}
	return 0;
}
