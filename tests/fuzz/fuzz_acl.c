/* fuzz_acl.c — libFuzzer target for the ACL and condition parser and the
 * sample expression parser (src/rules/), with evaluation of what parses.
 *
 * Input: lines of words. "acl <name> ..." lines declare ACLs; "if ..." /
 * "unless ..." lines are conditions, parsed against the ACLs so far and
 * evaluated on a fixed connection (partial then final pass); any other
 * line is a sample expression, parsed and evaluated. "tls [<n>]" makes the
 * request bytes a built-in ClientHello (SNI, two ALPN names, groups), cut
 * to n bytes when given, for the req.ssl_* and req.proto fetches and the
 * multi-valued req.ssl_alpn. Lines naming files
 * (-f, maps) are skipped: the target must not read the file system.
 * Everything parsed is freed; a leak, crash or sanitizer report is a bug.
 *
 * The layers below rules/ are replaced by the few stubs at the end (a
 * generation's extension list, no proxies, no namespaces). run_fuzz.sh
 * builds it with the rules sources, lib/tools.c, lib/addr.c and PCRE2.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"
#include "model/conf.h"
#include "rules/acl.h"
#include "rules/pattern.h"
#include "rules/sample.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct dp_config fake_conf;

static const char req[] = "SSH-2.0-OpenSSH_9.2\r\nGET / HTTP/1.1\r\nCookie: mstshash=x\r\n";

static uint8_t hello[256];
static size_t hello_len;

static void put16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* A TLS 1.2 ClientHello: one suite, SNI a.example, ALPN h2 and http/1.1,
 * supported_groups x25519. */
static void build_hello(void)
{
	static const uint8_t ext[] = {
		0x00, 0x00, 0x00, 0x0e, 0x00, 0x0c, 0x00, 0x00, 0x09, 'a', '.', 'e', 'x', 'a', 'm', 'p', 'l', 'e',
		0x00, 0x10, 0x00, 0x0e, 0x00, 0x0c, 0x02, 'h', '2', 0x08, 'h', 't', 't', 'p', '/', '1', '.', '1',
		0x00, 0x0a, 0x00, 0x04, 0x00, 0x02, 0x00, 0x1d,
		0x00, 0x23, 0x00, 0x00,
	};
	size_t n = 0, body;

	hello[n++] = 0x16, hello[n++] = 0x03, hello[n++] = 0x01, n += 2;  /* record, length later */
	hello[n++] = 0x01, n += 3;                                         /* ClientHello, length later */
	hello[n++] = 0x03, hello[n++] = 0x03;
	n += 32;                                                           /* random */
	hello[n++] = 0;                                                    /* session id */
	put16(hello + n, 2), n += 2, put16(hello + n, 0xc02f), n += 2;     /* suites */
	hello[n++] = 1, hello[n++] = 0;                                    /* compression */
	put16(hello + n, sizeof(ext)), n += 2;
	memcpy(hello + n, ext, sizeof(ext)), n += sizeof(ext);
	body = n - 9;
	hello[6] = (uint8_t)(body >> 16);
	put16(hello + 7, body);
	put16(hello + 3, n - 5);
	hello_len = n;
}

static void run_line(struct acl_list *l, int argc, char **argv, struct smp_sess *ss)
{
	struct smp_pctx pc = { .conf = &fake_conf, .file = "fuzz", .line = 1 };
	char *err = NULL;

	if (!strcmp(argv[0], "tls")) {
		size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : hello_len;

		if (!hello_len)
			build_hello();
		ss->req = hello;
		ss->req_len = n < hello_len ? n : hello_len;
	} else if (!strcmp(argv[0], "acl")) {
		acl_parse_line(l, argc, argv, &pc, &err);
	} else if (!strcmp(argv[0], "if") || !strcmp(argv[0], "unless")) {
		struct acl_cond *c = NULL;

		if (acl_cond_parse(l, argc, argv, &pc, &c, &err) == 0) {
			ss->final = false;
			acl_cond_eval(c, ss);
			ss->final = true;
			acl_cond_eval(c, ss);
			acl_cond_free(c);
		}
	} else {
		struct smp_expr *e = NULL;
		struct sample smp;
		char out[256];

		if (smp_expr_parse(argv[0], NULL, NULL, &pc, &e, &err) == 0) {
			ss->final = false;
			for (int r = smp_expr_eval(e, ss, &smp), k = 0; k < 64; r = smp_expr_eval_next(e, ss, &smp), k++) {
				if (r)
					smp_to_text(&smp, out, sizeof(out));
				if (!(smp.flags & SMP_F_NOT_LAST))
					break;
			}
			smp_expr_free(e);
		}
	}
	free(err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *line, *save = NULL;
	struct acl_list l = { 0 };
	struct sockaddr_storage src, dst;
	struct smp_sess ss;
	struct smp_store *st;

	if (size > 4096)
		return 0;
	buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (size_t i = 0; i < size; i++)
		if (!buf[i])
			buf[i] = ' ';
	memset(&src, 0, sizeof(src));
	memset(&dst, 0, sizeof(dst));
	src.ss_family = AF_INET;
	inet_pton(AF_INET, "10.1.2.3", &((struct sockaddr_in *)&src)->sin_addr);
	dst.ss_family = AF_INET6;
	inet_pton(AF_INET6, "fd00::22", &((struct sockaddr_in6 *)&dst)->sin6_addr);
	st = smp_store_new();
	memset(&ss, 0, sizeof(ss));
	ss.src = &src;
	ss.dst = &dst;
	ss.req = (const unsigned char *)req;
	ss.req_len = sizeof(req) - 1;
	ss.store = st;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *argv[64], *w, *ws = NULL;
		int argc = 0;
		bool files = false;

		for (w = strtok_r(line, " \t\r", &ws); w && argc < 64; w = strtok_r(NULL, " \t\r", &ws)) {
			if (!strcmp(w, "-f") || strstr(w, "map"))
				files = true;
			argv[argc++] = w;
		}
		if (argc && !files)
			run_line(&l, argc, argv, &ss);
	}
	acl_list_free(&l);
	smp_store_free(st);
	/* the generation's pattern references */
	while (fake_conf.exts) {
		struct conf_ext *e = fake_conf.exts;

		fake_conf.exts = e->next;
		e->ops->free(&fake_conf, e);
	}
	free(buf);
	return 0;
}

/* ---- stubs of the layers below ------------------------------------------------------------ */

struct conf_ext *conf_ext_find(const struct dp_config *c, const struct conf_ext_ops *ops)
{
	for (struct conf_ext *e = c ? c->exts : NULL; e; e = e->next)
		if (e->ops == ops)
			return e;
	return NULL;
}

void conf_ext_add(struct dp_config *c, struct conf_ext *e)
{
	e->next = c->exts;
	c->exts = e;
}

/* cfg/cfg.c's: the generation being parsed (req.proto checks pattern names) */
_Thread_local struct dp_config *cfg_cur_conf;

struct proxy *dp_config_find_proxy(struct dp_config *c, const char *name, unsigned cap)
{
	return NULL;
}

struct server *proxy_find_server(const struct proxy *px, const char *name)
{
	return NULL;
}

bool server_usable(const struct server *s)
{
	return false;
}

int ns_cache_socket(struct ns_cache *c, const char *ns, int domain, int type, int proto, char **err)
{
	return -1;
}

const char *cfg_suggest(const char *word, const char *const *cands)
{
	return NULL;
}
