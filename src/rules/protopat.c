/* protopat.c — protocol patterns for `req.proto` (see protopat.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg/cfg.h"
#include "model/conf.h"
#include "rules/protopat.h"
#include "rules/regex.h"

/* A pattern name is a protocol name as req.proto returns it. */
#define PROTOPAT_NAME_MAX 31

struct protopat {
	struct protopat *next;
	char *name;
	struct rx *rx;
};

struct protopat_conf {
	struct conf_ext ext;
	struct protopat *head, *tail;
	size_t n;
};

static void protopat_conf_free(struct dp_config *c, struct conf_ext *e)
{
	struct protopat_conf *pc = container_of(e, struct protopat_conf, ext);
	struct protopat *p, *n;

	(void)c;
	for (p = pc->head; p; p = n) {
		n = p->next;
		rx_free(p->rx);
		free(p->name);
		free(p);
	}
	free(pc);
}

static const struct conf_ext_ops protopat_ops = { .name = "proto-patterns", .free = protopat_conf_free };

static struct protopat_conf *conf_of(const struct dp_config *c)
{
	struct conf_ext *e = c ? conf_ext_find(c, &protopat_ops) : NULL;

	return e ? container_of(e, struct protopat_conf, ext) : NULL;
}

size_t protopat_count(const struct dp_config *c)
{
	const struct protopat_conf *pc = conf_of(c);

	return pc ? pc->n : 0;
}

bool protopat_known(const struct dp_config *c, const char *name)
{
	const struct protopat_conf *pc = conf_of(c);

	for (const struct protopat *p = pc ? pc->head : NULL; p; p = p->next)
		if (!strcmp(p->name, name))
			return true;
	return false;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

/* 0 when name is a valid pattern name, else -1 with *err. */
static int check_name(const char *name, char **err)
{
	size_t l = strlen(name);

	if (l > PROTOPAT_NAME_MAX) {
		memprintf(err, "protocol name '%s' is longer than %d characters", name, PROTOPAT_NAME_MAX);
		return -1;
	}
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.')) {
			memprintf(err, "protocol name '%s' may only hold lower-case letters, digits, '-', '_' and '.'", name);
			return -1;
		}
	/* the verdicts that are not protocols */
	if (!strcmp(name, "unknown") || !strcmp(name, "silent")) {
		memprintf(err, "'%s' is a verdict of req.proto, not a protocol name a pattern may give", name);
		return -1;
	}
	return 0;
}

int protopat_load(struct dp_config *c, const char *path, char **err)
{
	struct protopat_conf *pc = conf_of(c);
	struct protopat *first = NULL, *last = NULL, *p, *n;
	size_t count = 0;
	FILE *f;
	char *line = NULL, *msg = NULL;
	size_t cap = 0;
	ssize_t len;
	int lineno = 0;
	unsigned int mode;

	f = fopen_regular(path, false, &mode);
	if (!f) {
		if (mode)
			memprintf(err, "protocol pattern file '%s' is %s, not a regular file", path, file_kind(mode));
		else
			memprintf(err, "failed to open protocol pattern file '%s': %s", path, strerror(errno));
		return -1;
	}
	while ((len = getline(&line, &cap, f)) >= 0) {
		char *k, *v;

		lineno++;
		if (memchr(line, '\0', (size_t)len)) {
			memprintf(&msg, "NUL byte in the line");
			goto fail;
		}
		k = trim(line);
		if (!*k || *k == '#')
			continue;
		v = k + strcspn(k, " \t");
		if (*v)
			*v++ = '\0';
		v = trim(v);
		if (!*v) {
			memprintf(&msg, "'%s' expects a regex after the protocol name ('<name> <regex>')", k);
			goto fail;
		}
		if (check_name(k, &msg) < 0)
			goto fail;
		p = calloc(1, sizeof(*p));
		if (!p || !(p->name = strdup(k))) {
			free(p);
			memprintf(&msg, "out of memory");
			goto fail;
		}
		if (!(p->rx = rx_compile_partial(v, &msg))) {
			free(p->name);
			free(p);
			goto fail;
		}
		if (last)
			last->next = p;
		else
			first = p;
		last = p;
		count++;
	}
	free(line);
	fclose(f);
	if (!first)
		return 0;
	if (!pc) {
		pc = calloc(1, sizeof(*pc));
		if (!pc) {
			memprintf(err, "out of memory");
			goto free_list;
		}
		pc->ext.ops = &protopat_ops;
		conf_ext_add(c, &pc->ext);
	}
	if (pc->tail)
		pc->tail->next = first;
	else
		pc->head = first;
	pc->tail = last;
	pc->n += count;
	return 0;
fail:
	memprintf(err, "protocol pattern file '%s' line %d: %s", path, lineno, msg);
	free(msg);
	free(line);
	fclose(f);
free_list:
	for (p = first; p; p = n) {
		n = p->next;
		rx_free(p->rx);
		free(p->name);
		free(p);
	}
	return -1;
}

enum pd_verdict protopat_classify(const struct dp_config *c, const uint8_t *buf, size_t len, bool final,
				  const char **name)
{
	const struct protopat_conf *pc = conf_of(c);
	bool waiting = false;
	struct pd_result r;
	enum pd_verdict v;

	/* an empty subject says nothing yet (a pattern could match "") */
	for (const struct protopat *p = pc && len ? pc->head : NULL; p; p = p->next) {
		int m = rx_exec_partial(p->rx, (const char *)buf, len);

		if (m == 1) {
			*name = p->name;
			return PD_DEFINITE;
		}
		if (m == RX_PARTIAL)
			waiting = true;
	}
	v = pd_classify(buf, len, final ? PD_F_FINAL : 0, &r);
	if (v == PD_NO && waiting && !final)
		v = PD_NEED_MORE;
	*name = pd_proto_name(r.proto);
	return v;
}

/* ---- keyword ----------------------------------------------------------------------------- */

static int kw_proto_patterns(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	if (argc != 2) {
		memprintf(err, "'%s' expects <file>", argv[0]);
		return CFG_ERR;
	}
	return protopat_load(ctx->conf, argv[1], err) < 0 ? CFG_ERR : CFG_OK;
}

static const struct cfg_kw protopat_kws[] = {
	{ "proto-patterns", CFG_SEC_GLOBAL, kw_proto_patterns, NULL },
};

const struct cfg_kw_list protopat_kw_list = { protopat_kws, ARRAY_SIZE(protopat_kws) };
