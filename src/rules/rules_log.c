/* rules_log.c — %[<fetch>[,<conv>...]] in log-format, unique-id-format and
 * the custom PROXY v2 TLV formats: the log layer hands the expression text
 * here (lf_sample_ops); it is parsed against the generation being loaded
 * (cfg_cur_conf: maps) and rendered from the session view the session
 * layer puts in struct log_sess. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cfg/cfg.h"
#include "log/log.h"
#include "model/proxy.h"
#include "rules/pattern.h"
#include "rules/rules.h"
#include "rules/rules_int.h"
#include "rules/sample.h"

static int lf_smp_compile(const char *text, void **out, char **err)
{
	struct smp_pctx pc = { .conf = cfg_cur_conf, .file = "log-format", .line = 0 };
	struct smp_expr *e;

	if (smp_expr_parse(text, NULL, NULL, &pc, &e, err) < 0)
		return -EINVAL;
	*out = e;
	return 0;
}

static int lf_smp_render(const void *compiled, const void *ctx, char *buf, size_t cap)
{
	struct smp_sess ss = *(const struct smp_sess *)ctx;
	struct sample smp;

	/* logs come at the end: nothing more will arrive */
	ss.final = true;
	if (!smp_expr_eval(compiled, &ss, &smp))
		return -1;
	return (int)smp_to_text(&smp, buf, cap);
}

static void lf_smp_free(void *compiled)
{
	smp_expr_free(compiled);
}

/* Appends s[0..n) to buf with HAProxy's header encoding ('#' + 2 hex
 * digits for '"', '#', '{', '|', '}' and bytes outside 0x20..0x7e). */
static size_t put_encoded(char *buf, size_t o, size_t cap, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c >= 0x7f || strchr("\"#{|}", c)) {
			if (o + 3 >= cap)
				break;
			buf[o++] = '#';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 15];
		} else {
			if (o + 1 >= cap)
				break;
			buf[o++] = (char)c;
		}
	}
	return o;
}

static size_t put_chr(char *buf, size_t o, size_t cap, char c)
{
	if (o + 1 < cap)
		buf[o++] = c;
	return o;
}

static int lf_smp_captures(const void *ctx, bool list, bool quote, char *buf, size_t cap)
{
	const struct smp_sess *ss = ctx;
	const struct px_rules *r = ss->fe ? ss->fe->rules : NULL;
	unsigned n = r ? r->ncaptures : 0;
	size_t o = 0;

	if (!n || !cap)
		return -1;
	if (!list && quote)
		o = put_chr(buf, o, cap, '"');
	if (!list)
		o = put_chr(buf, o, cap, '{');
	for (unsigned i = 0; i < n; i++) {
		const char *v = ss->store ? ss->store->cap[i] : NULL;

		if (i)
			o = put_chr(buf, o, cap, list ? ' ' : '|');
		if (list && quote)
			o = put_chr(buf, o, cap, '"');
		if (v)
			o = put_encoded(buf, o, cap, v, ss->store->cap_len[i]);
		else if (list && !quote)
			o = put_chr(buf, o, cap, '-');
		if (list && quote)
			o = put_chr(buf, o, cap, '"');
	}
	if (!list)
		o = put_chr(buf, o, cap, '}');
	if (!list && quote)
		o = put_chr(buf, o, cap, '"');
	buf[o] = '\0';
	return (int)o;
}

static const struct lf_sample_ops lf_smp_ops = {
	.compile = lf_smp_compile,
	.render = lf_smp_render,
	.free = lf_smp_free,
	.captures = lf_smp_captures,
};

void rules_log_init(void)
{
	lf_set_sample_ops(&lf_smp_ops);
}

void rules_init(void)
{
	smp_init();
	pat_init();
	rules_log_init();
}
