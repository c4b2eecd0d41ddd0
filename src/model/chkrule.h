/* chkrule.h — the rules of HAProxy's protocol health checks, as parsed:
 * `option tcp-check` + `tcp-check connect|send|send-binary|expect`,
 * `option httpchk` + `http-check send|expect`, `option redis-check`.
 * A backend holds one rule set (struct chk_rules); a defaults section passes
 * its set on by reference, and a backend's first own `tcp-check` or
 * `http-check` line starts a fresh set, as HAProxy does. core/chk_l7.c runs
 * the sets; this module only parses and owns them (regexes are compiled
 * once here, at load). */
#ifndef DECOYPROXY_CHKRULE_H
#define DECOYPROXY_CHKRULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg/cfg.h"

enum chk_kind {
	CHK_KIND_CONNECT = 0,  /* no option: the check is a TCP connect */
	CHK_KIND_TCP,          /* option tcp-check */
	CHK_KIND_HTTP,         /* option httpchk */
	CHK_KIND_REDIS,        /* option redis-check */
	CHK_KIND_SMTP,         /* option smtpchk */
	CHK_KIND_PGSQL,        /* option pgsql-check */
	CHK_KIND_MYSQL,        /* option mysql-check */
	CHK_KIND_LDAP,         /* option ldap-check */
	CHK_KIND_SSL,          /* option ssl-hello-chk */
};

enum chkr_type { CHKR_CONNECT, CHKR_SEND, CHKR_EXPECT };

enum chkr_match {
	CHKM_STRING,   /* tcp-check expect string: the bytes appear in the response */
	CHKM_RSTRING,  /* tcp-check expect rstring: PCRE2 on the response text */
	CHKM_BINARY,   /* tcp-check expect binary <hex> */
	CHKM_RBINARY,  /* tcp-check expect rbinary: PCRE2 on the hex of the response */
	CHKM_STATUS,   /* http-check expect status <code>[,<code>...] */
	CHKM_RSTATUS,  /* http-check expect rstatus: PCRE2 on the status code */
	CHKM_BODY,     /* http-check expect string: the bytes appear in the body */
	CHKM_RBODY,    /* http-check expect rstring: PCRE2 on the body */
};

struct chk_rule {
	enum chkr_type type;
	int port;               /* connect: 0 = the check's port */
	enum chkr_match match;  /* expect */
	bool inverse;           /* expect !... */
	uint8_t *data;          /* send: bytes; expect: pattern (string, binary, status list) */
	size_t len;
	void *re;               /* pcre2_code * for the r* matches */
	char *text;             /* the pattern as written, for messages */
};

/* Longest response a check reads (HAProxy's default check buffer is 16 kB). */
#define CHK_RESP_MAX 16384

struct chk_rules {
	unsigned refcnt;
	enum chk_kind kind;
	struct chk_rule *v;
	size_t n;
	/* httpchk: request line and headers ("Name: value" each) */
	char *meth, *uri, *ver;
	char **hdrs;
	size_t nhdr;
	char *file;         /* where the set was started, for finalize messages */
	int line;
};

/* A proxy's checks: the kind (`option ...`) and the rule sets, each either
 * the proxy's own or a reference to its defaults section's. */
struct chk_conf {
	enum chk_kind kind;
	struct chk_rules *tcp, *http;
	bool tcp_own, http_own;
	char *smtp_hello;   /* smtpchk: "HELO" (default) or "EHLO" */
	char *smtp_domain;  /* smtpchk: "localhost" (default) */
	char *pg_user;      /* pgsql-check: user name */
	char *my_user;      /* mysql-check: user name (NULL: only read the handshake) */
	bool my_pre41;      /* mysql-check ... pre-41 */
};

void chkconf_free(struct chk_conf *cc);
/* dst takes def's kind, references to def's sets and copies of its strings.
 * Returns 0 or -ENOMEM. */
int chkconf_inherit(struct chk_conf *dst, const struct chk_conf *def);

/* Drops one reference; frees the set with the last. */
void chkrule_put(struct chk_rules *r);
/* Takes one reference (proxy_inherit). */
struct chk_rules *chkrule_get(struct chk_rules *r);

/* `option tcp-check|httpchk|redis-check [...]` for the proxy pxname whose
 * checks are cc. Returns CFG_OK / CFG_WARN / CFG_ERR (with *err), or
 * CHKRULE_NOT_MINE when argv[1] is none of these. */
#define CHKRULE_NOT_MINE 2
int chkrule_option(struct cfg_ctx *ctx, struct chk_conf *cc, const char *pxname, int argc, char **argv, bool neg,
		   char **err);
/* `tcp-check ...` and `http-check ...` lines (CFG_OK or CFG_ERR + *err). */
int chkrule_tcp_check(struct cfg_ctx *ctx, struct chk_conf *cc, int argc, char **argv, char **err);
int chkrule_http_check(struct cfg_ctx *ctx, struct chk_conf *cc, int argc, char **argv, char **err);

/* Matches one response against an expect rule: true when it matches (the
 * `!` already applied). For HTTP rules, status is the parsed code and
 * body/blen the body. *more is set when the bytes so far do not match but
 * more could (the check should read on). */
bool chkrule_match(const struct chk_rule *r, const uint8_t *buf, size_t len, int status, bool *more);

/* "string", "rbinary", "status"...: the match word of an expect rule. */
const char *chkrule_match_name(const struct chk_rule *r);

/* Checks a backend's sets once parsing is done; returns the number of
 * errors (printed). */
int chkrule_finalize(const struct chk_conf *cc, const char *pxname);

#endif
