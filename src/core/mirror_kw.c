/* mirror_kw.c — `mirror` and `mirror-depth` (see mirror.h), the
 * generation's mirror state, and the module hooks that put the outputs in
 * service.
 *
 *   mirror pcap <file> [max-size <size>] [max-files <n>]
 *   mirror pcap-dir <dir>
 *   mirror tap <ifname> [namespace <ns>]
 *   mirror vxlan <ip>:<port> vni <n> [source <ip>] [namespace <ns>]
 *   mirror-depth <size>
 *
 * Parsing checks every value and touches nothing on the system (`-c`);
 * outputs are opened by mirror_apply().
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "cfg/cfg.h"
#include "lib/addr.h"
#include "model/conf.h"
#include "model/proxy.h"
#include "model/udplb.h"
#include "net/ns.h"
#include "core/mirror.h"
#include "core/mirror_int.h"

static void gen_free(struct dp_config *c, struct conf_ext *e);
static const struct conf_ext_ops mirror_ext_ops = { "mirror", gen_free };

struct mirror_gen *mirror_gen_of(const struct dp_config *c)
{
	struct conf_ext *e = c ? conf_ext_find(c, &mirror_ext_ops) : NULL;

	return e ? container_of(e, struct mirror_gen, ext) : NULL;
}

static struct mirror_gen *gen_get(struct dp_config *c)
{
	struct mirror_gen *g = mirror_gen_of(c);

	if (g)
		return g;
	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->ext.ops = &mirror_ext_ops;
	conf_ext_add(c, &g->ext);
	return g;
}

static void target_free(struct mirror_target *t)
{
	if (t->out)
		mirror_out_put(t->out);
	free(t->path);
	free(t->ns);
	free(t->file);
	free(t);
}

static void gen_free(struct dp_config *c, struct conf_ext *e)
{
	struct mirror_gen *g = container_of(e, struct mirror_gen, ext);

	for (struct proxy *px = c->proxies; px; px = px->next)
		px->mirror = NULL;
	for (struct proxy *px = c->defaults; px; px = px->next)
		px->mirror = NULL;
	while (g->targets) {
		struct mirror_target *n = g->targets->next;

		target_free(g->targets);
		g->targets = n;
	}
	while (g->lists) {
		struct mirror_px *n = g->lists->next;

		free(g->lists->t);
		free(g->lists);
		g->lists = n;
	}
	free(g);
}

/* The proxy's own list: a fresh one, or a copy of the one it inherited
 * from a defaults section (whose lines it keeps, as HAProxy proxies keep
 * the `log` lines of their defaults). */
static struct mirror_px *px_list(struct cfg_ctx *ctx, char **err)
{
	/* a udp-lb section has its own lines (no defaults to inherit) */
	struct udp_lb *lb = ctx->section == CFG_SEC_UDPLB ? ctx->sec_data : NULL;
	struct proxy *px = lb ? NULL : ctx_px(ctx);
	const void *owner = lb ? (const void *)lb : (const void *)px;
	struct mirror_px **slot = lb ? &lb->mirror : &px->mirror;
	struct mirror_gen *g = gen_get(ctx->conf);
	struct mirror_px *l, *from = *slot;

	if (from && from->owner == owner)
		return from;
	if (!g || !(l = calloc(1, sizeof(*l))))
		goto nomem;
	l->owner = owner;
	l->next = g->lists;
	g->lists = l;
	if (from) {
		l->depth = from->depth;
		l->depth_set = from->depth_set;
		if (from->n) {
			l->t = malloc(from->n * sizeof(*l->t));
			if (!l->t)
				goto nomem;
			memcpy(l->t, from->t, from->n * sizeof(*l->t));
			l->n = from->n;
		}
	}
	*slot = l;
	return l;
nomem:
	memprintf(err, "out of memory");
	return NULL;
}

/* "<n>[k|m|g]": bytes, units of 1024 as HAProxy's sizes. */
static int parse_size(const char *s, unsigned long long *out)
{
	unsigned long long v, mul = 1;
	char num[32];
	size_t l = strlen(s);

	if (!l || l >= sizeof(num))
		return -EINVAL;
	memcpy(num, s, l + 1);
	switch (num[l - 1]) {
	case 'k': case 'K': mul = 1ULL << 10; break;
	case 'm': case 'M': mul = 1ULL << 20; break;
	case 'g': case 'G': mul = 1ULL << 30; break;
	default: break;
	}
	if (mul != 1)
		num[--l] = 0;
	if (cfg_parse_uint(num, (1ULL << 50), &v) < 0)
		return -EINVAL;
	*out = v * mul;
	return 0;
}

static const char *const kind_names[] = { "pcap", "pcap-dir", "tap", "vxlan" };

static int parse_ns(const char *kw, const char *v, char **ns, char **err)
{
	if (!ns_name_valid(v)) {
		memprintf(err, "'%s': invalid namespace name '%s'", kw, v);
		return -1;
	}
	free(*ns);
	*ns = strdup(v);
	if (!*ns) {
		memprintf(err, "out of memory");
		return -1;
	}
	return 0;
}

static int parse_target(struct mirror_target *t, int argc, char **argv, char **err)
{
	const char *what = argv[1];
	int i = 3;

	if (!strcmp(what, "pcap"))
		t->kind = MK_PCAP;
	else if (!strcmp(what, "pcap-dir"))
		t->kind = MK_PCAP_DIR;
	else if (!strcmp(what, "tap"))
		t->kind = MK_TAP;
	else if (!strcmp(what, "vxlan"))
		t->kind = MK_VXLAN;
	else {
		memprintf(err, "unknown output '%s' (expects 'pcap', 'pcap-dir', 'tap' or 'vxlan')", what);
		return -1;
	}
	if (argc < 3 || !*argv[2]) {
		static const char *const arg[] = { "a file name", "a directory", "an interface name",
						   "<ip>:<port> of the sensor" };

		memprintf(err, "'mirror %s' expects %s", what, arg[t->kind]);
		return -1;
	}
	if (t->kind == MK_VXLAN) {
		struct addr_spec a;

		if (addr_parse(argv[2], ADDR_F_PORT_REQUIRED, &a, err) < 0) {
			char *e = *err;

			*err = NULL;
			memprintf(err, "'mirror vxlan': invalid sensor address '%s': %s", argv[2], e ? e : "");
			free(e);
			return -1;
		}
		if (a.wildcard || a.port_lo == 0 || a.port_lo != a.port_hi) {
			memprintf(err, "'mirror vxlan': the sensor address '%s' must be one IP address and one port",
				  argv[2]);
			return -1;
		}
		t->dst = a.ss;
	} else {
		t->path = strdup(argv[2]);
		if (!t->path) {
			memprintf(err, "out of memory");
			return -1;
		}
	}
	if (t->kind == MK_TAP && (strlen(argv[2]) >= IFNAMSIZ || strchr(argv[2], '/') || strchr(argv[2], ' ') ||
				  strchr(argv[2], ':') || !strcmp(argv[2], ".") || !strcmp(argv[2], ".."))) {
		memprintf(err, "'mirror tap': invalid interface name '%s' (1 to %d characters, no '/', ':' or blank)",
			  argv[2], IFNAMSIZ - 1);
		return -1;
	}
	for (; i < argc; i += 2) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		unsigned long long n;

		if (t->kind == MK_PCAP && !strcmp(k, "max-size")) {
			if (!v || parse_size(v, &n) < 0 || n < 4096) {
				memprintf(err, "'mirror pcap': 'max-size' expects a size of at least 4096 bytes "
					  "(units k, m, g), got '%s'", v ? v : "");
				return -1;
			}
			t->max_size = n;
		} else if (t->kind == MK_PCAP && !strcmp(k, "max-files")) {
			if (!v || cfg_parse_uint(v, 1000, &n) < 0) {
				memprintf(err, "'mirror pcap': 'max-files' expects an integer from 0 to 1000, got '%s'",
					  v ? v : "");
				return -1;
			}
			t->max_files = (unsigned)n;
		} else if ((t->kind == MK_TAP || t->kind == MK_VXLAN) && !strcmp(k, "namespace")) {
			if (!v) {
				memprintf(err, "'mirror %s': 'namespace' expects a name", what);
				return -1;
			}
			if (parse_ns("namespace", v, &t->ns, err) < 0)
				return -1;
		} else if (t->kind == MK_VXLAN && !strcmp(k, "vni")) {
			if (!v || cfg_parse_uint(v, 0xffffff, &n) < 0) {
				memprintf(err, "'mirror vxlan': 'vni' expects an integer from 0 to 16777215, got '%s'",
					  v ? v : "");
				return -1;
			}
			t->vni = (uint32_t)n;
			t->max_files = 1; /* marks "vni given" */
		} else if (t->kind == MK_VXLAN && !strcmp(k, "source")) {
			/* an address alone: "2001:db8::1" has no port to split off */
			struct sockaddr_in *s4 = (struct sockaddr_in *)&t->src;
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&t->src;

			memset(&t->src, 0, sizeof(t->src));
			if (v && inet_pton(AF_INET, v, &s4->sin_addr) == 1) {
				s4->sin_family = AF_INET;
			} else if (v && inet_pton(AF_INET6, v, &s6->sin6_addr) == 1) {
				s6->sin6_family = AF_INET6;
			} else {
				memprintf(err, "'mirror vxlan': 'source' expects one IP address without port, got '%s'",
					  v ? v : "");
				return -1;
			}
		} else {
			static const char *const opts[] = { "'max-size' or 'max-files'", "nothing",
							    "'namespace'", "'vni', 'source' or 'namespace'" };

			memprintf(err, "'mirror %s': unknown option '%s' (expects %s)", what, k, opts[t->kind]);
			return -1;
		}
	}
	if (t->kind == MK_VXLAN) {
		if (!t->max_files) {
			memprintf(err, "'mirror vxlan': 'vni <n>' is required");
			return -1;
		}
		t->max_files = 0;
		if (t->src.ss_family != AF_UNSPEC && t->src.ss_family != t->dst.ss_family) {
			memprintf(err, "'mirror vxlan': the source address and the sensor '%s' are not of the same family",
				  argv[2]);
			return -1;
		}
	}
	if (t->kind == MK_PCAP && t->max_size && !t->max_files)
		t->max_files = MIRROR_MAX_FILES_DEFAULT;
	return 0;
}

static int kw_mirror(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct mirror_gen *g;
	struct mirror_target *t, **v;
	struct mirror_px *l;

	if (argc < 2) {
		memprintf(err, "expects an output: 'pcap <file>', 'pcap-dir <dir>', 'tap <ifname>' or "
			  "'vxlan <ip>:<port> vni <n>'");
		return CFG_ERR;
	}
	t = calloc(1, sizeof(*t));
	if (!t || !(t->file = strdup(ctx->file))) {
		free(t);
		memprintf(err, "out of memory");
		return CFG_ERR;
	}
	t->line = ctx->line;
	if (parse_target(t, argc, argv, err) < 0 || !(g = gen_get(ctx->conf)) || !(l = px_list(ctx, err))) {
		if (!*err)
			memprintf(err, "out of memory");
		target_free(t);
		return CFG_ERR;
	}
	t->next = g->targets;
	g->targets = t;
	v = realloc(l->t, (l->n + 1) * sizeof(*v));
	if (!v) {
		memprintf(err, "out of memory");
		return CFG_ERR;
	}
	l->t = v;
	l->t[l->n++] = t;
	return CFG_OK;
}

static int kw_mirror_depth(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct mirror_px *l;
	unsigned long long n;

	if (cfg_need_args(argc, argv, 1, err) || cfg_max_args(argc, argv, 1, err))
		return CFG_ERR;
	if (parse_size(argv[1], &n) < 0) {
		memprintf(err, "invalid size '%s' (expects bytes with an optional unit k, m or g; 0: "
			  "handshake and close only)", argv[1]);
		return CFG_ERR;
	}
	if (!(l = px_list(ctx, err)))
		return CFG_ERR;
	l->depth = n;
	l->depth_set = true;
	return CFG_OK;
}

static const struct cfg_kw kws[] = {
	{ "mirror", CFG_SEC_PROXIES | CFG_SEC_UDPLB, kw_mirror, NULL },
	{ "mirror-depth", CFG_SEC_PROXIES | CFG_SEC_UDPLB, kw_mirror_depth, NULL },
};

const struct cfg_kw_list mirror_kw_list = { kws, ARRAY_SIZE(kws) };

/* ---- module hooks --------------------------------------------------------------- */

/* Two lines writing the same pcap file with different rotation settings
 * cannot both be obeyed. */
int mirror_finalize(struct dp_config *c)
{
	struct mirror_gen *g = mirror_gen_of(c);
	int errors = 0;

	for (struct mirror_target *t = g ? g->targets : NULL; t; t = t->next)
		for (struct mirror_target *u = t->next; u; u = u->next)
			if (t->kind == u->kind && t->kind == MK_PCAP && !strcmp(t->path, u->path) &&
			    (t->max_size != u->max_size || t->max_files != u->max_files))
				cfg_report_at(true, t->file, t->line, &errors,
					      "'mirror pcap %s': written with other max-size/max-files at %s:%d",
					      t->path, u->file, u->line);
	return errors;
}

int mirror_apply(struct dp_config *newc, struct dp_config *oldc, char **err)
{
	struct mirror_gen *g = mirror_gen_of(newc);

	(void)oldc;
	for (struct mirror_target *t = g ? g->targets : NULL; t; t = t->next) {
		char *e = NULL;

		t->out = mirror_out_get(t, newc, &e);
		if (!t->out) {
			memprintf(err, "parsing [%s:%d] : 'mirror %s': %s", t->file, t->line, kind_names[t->kind],
				  e ? e : "out of memory");
			free(e);
			mirror_undo(newc, oldc);
			return -1;
		}
	}
	return 0;
}

void mirror_undo(struct dp_config *newc, struct dp_config *oldc)
{
	struct mirror_gen *g = mirror_gen_of(newc);

	(void)oldc;
	for (struct mirror_target *t = g ? g->targets : NULL; t; t = t->next)
		if (t->out) {
			mirror_out_put(t->out);
			t->out = NULL;
		}
}

void mirror_commit(struct dp_config *newc, struct dp_config *oldc)
{
	struct mirror_gen *g = mirror_gen_of(newc);

	if (!oldc)
		return;
	for (struct mirror_target *t = g ? g->targets : NULL; t; t = t->next)
		if (t->out && mirror_out_needs_reopen(t->out, newc->generation))
			mirror_out_reopen(t->out, newc->generation);
}

void mirror_remove(struct dp_config *c)
{
	(void)c;
	mirror_out_flush_all(true);
}
