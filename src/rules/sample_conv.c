/* sample_conv.c — the built-in converters (maps are pattern_map.c's).
 * Each writes its output into a scratch buffer (smp_trash) other than
 * its input's; an output that does not fit fails the conversion. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/regex.h"
#include "rules/sample.h"
#include "rules/sample_int.h"

static int c_lower(const struct smp_arg *a, struct sample *smp, const struct smp_sess *ss)
{
	char *b = smp_trash(smp->u.str.ptr);
	size_t n = smp->u.str.len;

	if (n > SMP_TRASH_SIZE)
		return 0;
	for (size_t i = 0; i < n; i++)
		b[i] = (char)tolower((unsigned char)smp->u.str.ptr[i]);
	smp->u.str.ptr = b;
	return 1;
}

static int c_upper(const struct smp_arg *a, struct sample *smp, const struct smp_sess *ss)
{
	char *b = smp_trash(smp->u.str.ptr);
	size_t n = smp->u.str.len;

	if (n > SMP_TRASH_SIZE)
		return 0;
	for (size_t i = 0; i < n; i++)
		b[i] = (char)toupper((unsigned char)smp->u.str.ptr[i]);
	smp->u.str.ptr = b;
	return 1;
}

static int c_hex(const struct smp_arg *a, struct sample *smp, const struct smp_sess *ss)
{
	static const char hx[] = "0123456789ABCDEF";
	char *b = smp_trash(smp->u.str.ptr);
	size_t n = smp->u.str.len;

	if (n * 2 > SMP_TRASH_SIZE)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)smp->u.str.ptr[i];

		b[2 * i] = hx[c >> 4];
		b[2 * i + 1] = hx[c & 15];
	}
	smp->u.str.ptr = b;
	smp->u.str.len = n * 2;
	smp->type = SMP_T_STR;
	return 1;
}

static int c_length(const struct smp_arg *a, struct sample *smp, const struct smp_sess *ss)
{
	long long n = (long long)smp->u.str.len;

	smp->type = SMP_T_SINT;
	smp->u.sint = n;
	return 1;
}

/* bytes(<offset>[,<length>]) */
static int c_bytes(const struct smp_arg *a, struct sample *smp, const struct smp_sess *ss)
{
	unsigned long long off = (unsigned long long)a[0].sint;

	if (off >= smp->u.str.len) {
		/* nothing there (yet) */
		return 0;
	}
	smp->u.str.ptr += off;
	smp->u.str.len -= off;
	if (a[1].type) {
		unsigned long long l = (unsigned long long)a[1].sint;

		if (l > smp->u.str.len)
			return 0;
		smp->u.str.len = l;
	}
	return 1;
}

static int check_nonneg(struct smp_arg *a, int n, const char *kw, struct smp_pctx *pc, char **err)
{
	for (int i = 0; i < n; i++)
		if (a[i].type == ARGT_SINT && a[i].sint < 0) {
			memprintf(err, "argument %d of '%s' must not be negative", i + 1, kw);
			return -1;
		}
	return 0;
}

/* ipmask(<mask4>[,<mask6>]) */
static int c_ipmask(const struct smp_arg *a, struct sample *smp, const struct smp_sess *ss)
{
	if (smp->u.addr.ss_family == AF_INET) {
		unsigned char *p = (unsigned char *)&((struct sockaddr_in *)&smp->u.addr)->sin_addr;

		for (int i = 0; i < 4; i++)
			p[i] &= a[0].mask[i];
		return 1;
	}
	if (smp->u.addr.ss_family == AF_INET6) {
		unsigned char *p = ((struct sockaddr_in6 *)&smp->u.addr)->sin6_addr.s6_addr;

		if (!a[1].type)
			return 0; /* as HAProxy: no IPv6 mask, no value */
		for (int i = 0; i < 16; i++)
			p[i] &= a[1].mask[i];
		return 1;
	}
	return 0;
}

/* field(<index>,<delimiters>[,<count>]) and word(): the index counts from
 * 1, negative from the end; word() skips empty fields. */
static int split(const struct smp_arg *a, struct sample *smp, bool words)
{
	const char *s = smp->u.str.ptr, *end = s + smp->u.str.len, *delims = a[1].str;
	long long idx = a[0].sint, cnt = a[2].type ? a[2].sint : 1;
	const char *fs[1024], *fe[1024];
	int nf = 0;
	const char *p = s, *start = s;

	if (!idx || !*delims)
		return 0;
	for (;; p++) {
		if (p == end || strchr(delims, *p)) {
			if (!(words && p == start)) {
				if (nf == (int)ARRAY_SIZE(fs))
					return 0;
				fs[nf] = start;
				fe[nf++] = p;
			}
			if (p == end)
				break;
			start = p + 1;
		}
	}
	if (idx < 0)
		idx = nf + idx + 1;
	if (idx < 1 || idx > nf)
		return 0;
	if (cnt <= 0 || idx - 1 + cnt > nf)
		cnt = nf - idx + 1;
	smp->u.str.ptr = fs[idx - 1];
	smp->u.str.len = (size_t)(fe[idx - 1 + cnt - 1] - fs[idx - 1]);
	return 1;
}

static int c_field(const struct smp_arg *a, struct sample *smp, const struct smp_sess *ss)
{
	return split(a, smp, false);
}

static int c_word(const struct smp_arg *a, struct sample *smp, const struct smp_sess *ss)
{
	return split(a, smp, true);
}

/* regsub(<regex>,<subst>[,<flags>]): flags "i" (caseless, at load) and
 * "g" (every match). \1..\9 in subst are groups. */
static int c_regsub(const struct smp_arg *a, struct sample *smp, const struct smp_sess *ss)
{
	const char *s = smp->u.str.ptr;
	size_t len = smp->u.str.len, pos = 0, o = 0;
	char *b = smp_trash(s);
	bool global = a[2].type && strchr(a[2].str, 'g');
	size_t ov[20];

	while (pos <= len) {
		const char *sub = a[1].str;

		if (!rx_exec(a[0].ptr, s + pos, len - pos, ov, 10))
			break;
		/* text before the match */
		if (o + ov[0] > SMP_TRASH_SIZE)
			return 0;
		memcpy(b + o, s + pos, ov[0]);
		o += ov[0];
		for (; *sub; sub++) {
			if (*sub == '\\' && sub[1] >= '0' && sub[1] <= '9') {
				int g = *++sub - '0';

				if (ov[2 * g] != (size_t)-1) {
					size_t gl = ov[2 * g + 1] - ov[2 * g];

					if (o + gl > SMP_TRASH_SIZE)
						return 0;
					memcpy(b + o, s + pos + ov[2 * g], gl);
					o += gl;
				}
				continue;
			}
			if (o + 1 > SMP_TRASH_SIZE)
				return 0;
			b[o++] = *sub;
		}
		if (ov[1] == 0 && ov[0] == 0) {
			/* empty match: copy one byte to move on */
			if (pos < len) {
				if (o + 1 > SMP_TRASH_SIZE)
					return 0;
				b[o++] = s[pos];
			}
			pos += 1;
		} else {
			pos += ov[1];
		}
		if (!global)
			break;
	}
	if (pos < len) {
		if (o + (len - pos) > SMP_TRASH_SIZE)
			return 0;
		memcpy(b + o, s + pos, len - pos);
		o += len - pos;
	}
	smp->u.str.ptr = b;
	smp->u.str.len = o;
	return 1;
}

static int check_regsub(struct smp_arg *a, int n, const char *kw, struct smp_pctx *pc, char **err)
{
	if (n > 2) {
		for (const char *f = a[2].str; *f; f++)
			if (*f != 'i' && *f != 'g') {
				memprintf(err, "regsub: flag '%c' is not supported (use 'i' and 'g')", *f);
				return -1;
			}
		if (strchr(a[2].str, 'i')) {
			/* recompile caseless */
			char *e2 = NULL;
			struct rx *r = rx_compile(a[0].str, true, &e2);

			if (!r) {
				memprintf(err, "%s", e2);
				free(e2);
				return -1;
			}
			rx_free(a[0].ptr);
			a[0].ptr = r;
		}
	}
	return 0;
}

/* json([input-code]): escapes for a JSON string ("ascii" default: bytes
 * >= 0x80 as \u00XX; "utf8", "utf8s", "utf8p", "utf8ps" keep them). */
static int c_json(const struct smp_arg *a, struct sample *smp, const struct smp_sess *ss)
{
	static const char hx[] = "0123456789abcdef";
	char *b = smp_trash(smp->u.str.ptr);
	size_t o = 0;
	bool utf8 = a[0].type && !strncmp(a[0].str, "utf8", 4);

	for (size_t i = 0; i < smp->u.str.len; i++) {
		unsigned char c = (unsigned char)smp->u.str.ptr[i];
		char tmp[8];
		size_t tl;

		if (c == '"' || c == '\\' || c == '/') {
			tmp[0] = '\\';
			tmp[1] = (char)c;
			tl = 2;
		} else if (c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f') {
			tmp[0] = '\\';
			tmp[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : c == '\b' ? 'b' : 'f';
			tl = 2;
		} else if (c < 0x20 || (c >= 0x80 && !utf8)) {
			memcpy(tmp, "\\u00", 4);
			tmp[4] = hx[c >> 4];
			tmp[5] = hx[c & 15];
			tl = 6;
		} else {
			tmp[0] = (char)c;
			tl = 1;
		}
		if (o + tl > SMP_TRASH_SIZE)
			return 0;
		memcpy(b + o, tmp, tl);
		o += tl;
	}
	smp->u.str.ptr = b;
	smp->u.str.len = o;
	smp->type = SMP_T_STR;
	return 1;
}

static int check_json(struct smp_arg *a, int n, const char *kw, struct smp_pctx *pc, char **err)
{
	static const char *const ok[] = { "ascii", "utf8", "utf8s", "utf8p", "utf8ps" };

	if (!n)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++)
		if (!strcmp(a[0].str, ok[i]))
			return 0;
	memprintf(err, "json: unknown input code '%s' (ascii, utf8, utf8s, utf8p, utf8ps)", a[0].str);
	return -1;
}

#define A0 { ARGT_STOP }

const struct smp_conv_kw smp_builtin_convs[] = {
	{ "lower", c_lower, A0, 0, SMP_T_STR, SMP_T_STR, NULL, NULL, NULL, 0, 0 },
	{ "upper", c_upper, A0, 0, SMP_T_STR, SMP_T_STR, NULL, NULL, NULL, 0, 0 },
	{ "hex", c_hex, A0, 0, SMP_T_BIN, SMP_T_STR, NULL, NULL, NULL, 0, 0 },
	{ "length", c_length, A0, 0, SMP_T_STR, SMP_T_SINT, NULL, NULL, NULL, 0, 0 },
	{ "bytes", c_bytes, { ARGT_SINT, ARGT_SINT }, 1, SMP_T_BIN, SMP_T_BIN, check_nonneg, NULL, NULL, 0, 0 },
	{ "ipmask", c_ipmask, { ARGT_MSK4, ARGT_MSK6 }, 1, SMP_T_ADDR, SMP_T_ADDR, NULL, NULL, NULL, 0, 0 },
	{ "field", c_field, { ARGT_SINT, ARGT_STR, ARGT_SINT }, 2, SMP_T_STR, SMP_T_STR, NULL, NULL, NULL, 0, 0 },
	{ "word", c_word, { ARGT_SINT, ARGT_STR, ARGT_SINT }, 2, SMP_T_STR, SMP_T_STR, NULL, NULL, NULL, 0, 0 },
	{ "regsub", c_regsub, { ARGT_REG, ARGT_STR, ARGT_STR }, 2, SMP_T_STR, SMP_T_STR, check_regsub, NULL, NULL, 0, 0 },
	{ "json", c_json, { ARGT_STR }, 0, SMP_T_STR, SMP_T_STR, check_json, NULL, NULL, 0, 0 },
};
const size_t smp_builtin_nconvs = ARRAY_SIZE(smp_builtin_convs);
