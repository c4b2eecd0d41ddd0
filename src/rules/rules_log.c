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

static const struct lf_sample_ops lf_smp_ops = {
	.compile = lf_smp_compile,
	.render = lf_smp_render,
	.free = lf_smp_free,
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
