/* stktable_fetch.c — the stick counters' fetches (HAProxy's):
 *   sc0_<x>, sc1_<x>, sc2_<x>, sc_<x>(<ctr>)   the entry the session tracks
 *                                             on that counter (no value when
 *                                             it tracks none);
 *   src_<x>([<table>])                        the entry of the client's
 *                                             address (0 when absent);
 *   table_cnt([<table>]), table_avl([<table>]) entries used / free;
 * with <x> among conn_cnt conn_cur conn_rate get_gpc0 inc_gpc0 clr_gpc0
 * gpc0_rate get_gpt0 bytes_in_rate bytes_out_rate kbytes_in kbytes_out,
 * and sc*_tracked. A data type the table does not store gives no value.
 * The table a src_* / table_* fetch reads is resolved once every section
 * is read (stk_ref, kept in the last argument slot, owned by the
 * generation). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "rules/sample.h"
#include "rules/stktable.h"

enum sc_op { OP_GET, OP_KB, OP_INC, OP_CLR };

#define REF_SLOT (SMP_MAX_ARGS - 1)

static int ret_uint(struct sample *smp, uint64_t v)
{
	smp->type = SMP_T_SINT;
	smp->u.sint = v > (uint64_t)INT64_MAX ? INT64_MAX : (long long)v;
	return 1;
}

static int sc_do(int sc, enum sc_op op, enum stk_dt dt, struct sample *smp, const struct smp_sess *ss)
{
	struct smp_store *st = ss->store;
	struct stktable *t;
	struct stksess *e;
	uint64_t v, now = stk_now_ms();
	int r;

	if (sc < 0 || sc >= STK_NB_SC || !st || !st->sc_e[sc])
		return 0;
	t = st->sc_t[sc];
	e = st->sc_e[sc];
	if (op == OP_INC)
		r = stk_entry_inc_gpc0(t, e, now, &v);
	else if (op == OP_CLR)
		r = stk_entry_clr_gpc0(t, e, now, &v);
	else
		r = stk_entry_get(t, e, dt, now, &v);
	if (!r)
		return 0;
	return ret_uint(smp, op == OP_KB ? v >> 10 : v);
}

static int src_do(const struct smp_arg *args, enum sc_op op, enum stk_dt dt, struct sample *smp,
		  const struct smp_sess *ss)
{
	struct stktable *t = stk_ref_table(args[REF_SLOT].ptr);
	unsigned char key[STK_KEY_MAX];
	struct sample s;
	uint64_t v, now = stk_now_ms();
	int r;

	if (!t || !ss->src)
		return 0;
	memset(&s, 0, sizeof(s));
	s.type = SMP_T_ADDR;
	s.u.addr = *ss->src;
	if (stk_key_from_smp(t, &s, key) < 0)
		return 0;
	if (op == OP_INC || op == OP_CLR)
		r = stk_key_inc_gpc0(t, key, op == OP_CLR, now, &v);
	else
		r = stk_key_get(t, key, dt, now, &v);
	if (!r)
		return 0;
	return ret_uint(smp, op == OP_KB ? v >> 10 : v);
}

#define FA const struct smp_arg *args, struct sample *smp, const struct smp_sess *ss
#define SC_FNS(sfx, op, dt)                                                                      \
	static int f_sc0_##sfx(FA) { (void)args; return sc_do(0, op, dt, smp, ss); }             \
	static int f_sc1_##sfx(FA) { (void)args; return sc_do(1, op, dt, smp, ss); }             \
	static int f_sc2_##sfx(FA) { (void)args; return sc_do(2, op, dt, smp, ss); }             \
	static int f_sc_##sfx(FA) { return sc_do((int)args[0].sint, op, dt, smp, ss); }          \
	static int f_src_##sfx(FA) { return src_do(args, op, dt, smp, ss); }

SC_FNS(conn_cnt, OP_GET, STK_DT_CONN_CNT)
SC_FNS(conn_cur, OP_GET, STK_DT_CONN_CUR)
SC_FNS(conn_rate, OP_GET, STK_DT_CONN_RATE)
SC_FNS(get_gpc0, OP_GET, STK_DT_GPC0)
SC_FNS(inc_gpc0, OP_INC, STK_DT_GPC0)
SC_FNS(clr_gpc0, OP_CLR, STK_DT_GPC0)
SC_FNS(gpc0_rate, OP_GET, STK_DT_GPC0_RATE)
SC_FNS(get_gpt0, OP_GET, STK_DT_GPT0)
SC_FNS(bytes_in_rate, OP_GET, STK_DT_BYTES_IN_RATE)
SC_FNS(bytes_out_rate, OP_GET, STK_DT_BYTES_OUT_RATE)
SC_FNS(kbytes_in, OP_KB, STK_DT_BYTES_IN_CNT)
SC_FNS(kbytes_out, OP_KB, STK_DT_BYTES_OUT_CNT)

static int tracked(int sc, struct sample *smp, const struct smp_sess *ss)
{
	smp->type = SMP_T_BOOL;
	smp->u.sint = sc >= 0 && sc < STK_NB_SC && ss->store && ss->store->sc_e[sc];
	return 1;
}

static int f_sc0_tracked(FA) { (void)args; return tracked(0, smp, ss); }
static int f_sc1_tracked(FA) { (void)args; return tracked(1, smp, ss); }
static int f_sc2_tracked(FA) { (void)args; return tracked(2, smp, ss); }
static int f_sc_tracked(FA) { return tracked((int)args[0].sint, smp, ss); }

static int f_table_cnt(FA)
{
	struct stktable *t = stk_ref_table(args[REF_SLOT].ptr);

	(void)ss;
	return t ? ret_uint(smp, stk_used(t, stk_now_ms())) : 0;
}

static int f_table_avl(FA)
{
	struct stktable *t = stk_ref_table(args[REF_SLOT].ptr);

	(void)ss;
	return t ? ret_uint(smp, t->def.size - stk_used(t, stk_now_ms())) : 0;
}

/* sc0_*: no table argument (HAProxy's lookup of the tracked key in
 * another table) yet. */
static int check_sc(struct smp_arg *args, int nargs, const char *kw, struct smp_pctx *pc, char **err)
{
	(void)args;
	(void)pc;
	if (nargs > 0) {
		memprintf(err, "'%s': a table argument is not supported by decoyproxy yet", kw);
		return -1;
	}
	return 0;
}

static int check_sc_gen(struct smp_arg *args, int nargs, const char *kw, struct smp_pctx *pc, char **err)
{
	(void)pc;
	if (args[0].sint < 0 || args[0].sint >= STK_NB_SC) {
		memprintf(err, "'%s': invalid stick counter %lld (0 to %d)", kw, args[0].sint, STK_NB_SC - 1);
		return -1;
	}
	if (nargs > 1) {
		memprintf(err, "'%s': a table argument is not supported by decoyproxy yet", kw);
		return -1;
	}
	return 0;
}

/* src_* / table_*: the named table, or the proxy's own. */
static int check_table(struct smp_arg *args, int nargs, const char *kw, struct smp_pctx *pc, char **err)
{
	args[REF_SLOT].ptr = stk_ref_add(pc, nargs ? args[0].str : NULL, kw, err);
	return args[REF_SLOT].ptr ? 0 : -1;
}

#define L4 SMP_USE_L4
#define SC_KWS(sfx)                                                                                        \
	{ "sc0_" #sfx, f_sc0_##sfx, { ARGT_STR }, 0, SMP_T_SINT, L4, check_sc, NULL },                    \
	{ "sc1_" #sfx, f_sc1_##sfx, { ARGT_STR }, 0, SMP_T_SINT, L4, check_sc, NULL },                    \
	{ "sc2_" #sfx, f_sc2_##sfx, { ARGT_STR }, 0, SMP_T_SINT, L4, check_sc, NULL },                    \
	{ "sc_" #sfx, f_sc_##sfx, { ARGT_SINT, ARGT_STR }, 1, SMP_T_SINT, L4, check_sc_gen, NULL },        \
	{ "src_" #sfx, f_src_##sfx, { ARGT_STR }, 0, SMP_T_SINT, L4, check_table, NULL }

static const struct smp_fetch_kw stk_fetches[] = {
	SC_KWS(conn_cnt),
	SC_KWS(conn_cur),
	SC_KWS(conn_rate),
	SC_KWS(get_gpc0),
	SC_KWS(inc_gpc0),
	SC_KWS(clr_gpc0),
	SC_KWS(gpc0_rate),
	SC_KWS(get_gpt0),
	SC_KWS(bytes_in_rate),
	SC_KWS(bytes_out_rate),
	SC_KWS(kbytes_in),
	SC_KWS(kbytes_out),
	{ "sc0_tracked", f_sc0_tracked, { ARGT_STR }, 0, SMP_T_BOOL, L4, check_sc, NULL },
	{ "sc1_tracked", f_sc1_tracked, { ARGT_STR }, 0, SMP_T_BOOL, L4, check_sc, NULL },
	{ "sc2_tracked", f_sc2_tracked, { ARGT_STR }, 0, SMP_T_BOOL, L4, check_sc, NULL },
	{ "sc_tracked", f_sc_tracked, { ARGT_SINT, ARGT_STR }, 1, SMP_T_BOOL, L4, check_sc_gen, NULL },
	{ "table_cnt", f_table_cnt, { ARGT_STR }, 0, SMP_T_SINT, SMP_USE_CONST, check_table, NULL },
	{ "table_avl", f_table_avl, { ARGT_STR }, 0, SMP_T_SINT, SMP_USE_CONST, check_table, NULL },
};

void stktable_init(void)
{
	smp_register_fetches(stk_fetches, ARRAY_SIZE(stk_fetches));
}
