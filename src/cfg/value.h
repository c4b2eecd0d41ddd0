/* value.h — the values of configuration words: unsigned integers, times,
 * and how many words a keyword takes, each with the message the
 * configuration language prints when it is wrong.
 *
 * Every keyword handler (cfg.h includes this header) and every option
 * handler (opts.h) checks its words with these, so a given mistake reads
 * the same wherever it is made. Helpers taking `char **err` set it to a
 * malloc'd message on failure; the caller prefixes "file:line" and the
 * keyword. Nothing here prints.
 */
#ifndef DECOYPROXY_CFG_VALUE_H
#define DECOYPROXY_CFG_VALUE_H

#include "lib/common.h"

/* HAProxy keeps timers in a signed 32-bit count of milliseconds. */
#define CFG_TIMER_MAX_MS 2147483647LL

/* ---- numbers, without a message ----------------------------------------- */

/* Unsigned decimal integer (digits only) of at most max: str_to_uint().
 * Returns 0 with *out set, -EINVAL (not a number) or -ERANGE (above max). */
int cfg_parse_uint(const char *s, unsigned long long max, unsigned long long *out);

/* Time value with HAProxy units (us ms s m h d; no unit = ms). Result in
 * milliseconds (us rounded up). Returns 0, -EINVAL (not a time) or -ERANGE
 * (more than CFG_TIMER_MAX_MS). */
int cfg_parse_time_ms(const char *s, long long *ms);

/* ---- numbers, with their message ---------------------------------------- */

/* Writes HAProxy's message for a time above CFG_TIMER_MAX_MS into *err:
 * "timer overflow in argument '<arg>' to '<what>' (maximum value is
 * 2147483647 ms or ~24.8 days)". */
void cfg_timer_overflow(char **err, const char *arg, const char *what);

/* A time argument `arg` of keyword or option `what`, in milliseconds.
 * Returns 0 with *ms set; -ERANGE with HAProxy's timer overflow message
 * in *err; -EINVAL when arg is not a time, with *err left alone: each
 * keyword says in its own words what it expects. */
int cfg_time_arg(const char *what, const char *arg, long long *ms, char **err);

/* An integer argument of an option of a keyword line (`bind`, `server`):
 * 0 to max, else -EINVAL with "'<what>' expects an integer from 0 to <max>,
 * got '<arg>'" in *err. */
int cfg_opt_uint(const char *what, const char *arg, unsigned long long max, unsigned long long *out,
		 char **err);

/* The value of a keyword that takes one integer (`maxconn`, `retries`):
 * min to max, else -EINVAL with "invalid value '<arg>' (expects an integer
 * from <min> to <max>)" in *err. */
int cfg_kw_uint(const char *arg, unsigned long long min, unsigned long long max, unsigned long long *out,
		char **err);

/* ---- number of words ----------------------------------------------------- */

/* argv[0] is the keyword, argv[1..argc-1] its arguments. Each returns 0, or
 * -EINVAL with the message in *err. */

/* At least n arguments: "expects <n> argument(s)". */
int cfg_need_args(int argc, char **argv, int n, char **err);
/* At most max arguments: "unexpected extra argument '<word>'". */
int cfg_max_args(int argc, char **argv, int max, char **err);
/* Exactly one argument: "expects one argument", or "unexpected extra
 * argument '<word>'" (the `global` keywords' wording). */
int cfg_one_arg(int argc, char **argv, char **err);
/* No argument at all: "takes no argument" (the `global` keywords' wording). */
int cfg_no_arg(int argc, char **argv, char **err);

#endif
