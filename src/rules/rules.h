/* rules.h — a proxy's routing and inspection rules, and the keywords that
 * declare them:
 *   acl <name> ...                              (acl.h)
 *   tcp-request inspect-delay <time>
 *   tcp-request connection <action> [if|unless <cond>]   (frontends)
 *   tcp-request session <action> [if|unless <cond>]      (frontends)
 *   tcp-request content <action> [if|unless <cond>]
 *   use_backend <backend>|<format with %[expr]> [if|unless <cond>]
 *   use-server <server> [if|unless <cond>]               (backends)
 * Actions: accept reject silent-drop expect-proxy layer4 (connection)
 * capture <expr> len <n>, set-var(<name>) <expr>, unset-var(<name>),
 * set-src <expr>, set-dst <expr>, set-src-port / set-dst-port <expr>.
 *
 * This layer decides; the session (core/sess_rules.c) acts: it fills a
 * struct smp_sess for each evaluation, and applies the verdicts (closing,
 * waiting for more bytes, reading a PROXY header, switching backends).
 * Everything here is read-only once the generation is loaded.
 */
#ifndef DECOYPROXY_RULES_H
#define DECOYPROXY_RULES_H

#include "lib/common.h"
#include "rules/acl.h"
#include "rules/sample.h"

struct proxy;
struct server;
struct dp_config;
struct cfg_kw_list;
struct stk_ref;

enum tcp_act {
	TCP_ACT_ACCEPT = 0,
	TCP_ACT_REJECT,
	TCP_ACT_SILENT_DROP,
	TCP_ACT_EXPECT_PROXY,
	TCP_ACT_CAPTURE,
	TCP_ACT_SET_VAR,
	TCP_ACT_UNSET_VAR,
	TCP_ACT_SET_SRC,
	TCP_ACT_SET_DST,
	TCP_ACT_SET_SRC_PORT,
	TCP_ACT_SET_DST_PORT,
	TCP_ACT_TRACK_SC,               /* track-sc<n> <key> [table <t>] (stktable.h) */
	TCP_ACT_SC_INC_GPC0,            /* sc-inc-gpc0(<n>) */
	TCP_ACT_SC_SET_GPT0,            /* sc-set-gpt0(<n>) <int>|<expr> */
};

struct tcp_rule {
	struct tcp_rule *next;
	enum tcp_act act;
	struct acl_cond *cond;
	struct smp_expr *expr;          /* capture, set-* */
	char *var;                      /* set-var / unset-var */
	unsigned cap_slot;              /* capture */
	unsigned cap_len;
	int sc;                         /* track-sc / sc-*: the stick counter */
	struct stk_ref *tref;           /* track-sc: its table (owned by the generation) */
	char *file; int line;
};

/* "text %[expr] text": a use_backend name built per connection. */
struct rules_fmt {
	size_t n;
	struct {
		char *text;             /* literal, or NULL for expr */
		struct smp_expr *expr;
	} *p;
};

struct switch_rule {
	struct switch_rule *next;
	struct acl_cond *cond;
	char *name;                     /* static backend name */
	struct proxy *be;               /* resolved at finalize (static) */
	struct rules_fmt *fmt;          /* dynamic: NULL when static */
	char *file; int line;
};

struct srv_rule {
	struct srv_rule *next;
	struct acl_cond *cond;
	char *name;
	struct server *srv;             /* resolved at finalize */
	char *file; int line;
};

struct px_rules {
	struct acl_list acls;
	long long inspect_delay;        /* ms, 0: none */
	struct tcp_rule *conn, *conn_last;
	struct tcp_rule *sess, *sess_last;      /* tcp-request session */
	struct tcp_rule *content, *content_last;
	struct switch_rule *sw, *sw_last;
	struct srv_rule *srvr, *srvr_last;
	unsigned ncaptures;
	/* the tcp-request rules of the named defaults section the proxy
	 * inherits from, run before its own (set at finalize; owned by the
	 * defaults section) */
	const struct px_rules *def;
	unsigned def_users;             /* defaults: PR_CAP_FE/BE of its users */
};

/* Verdicts of a tcp-request rule list. */
enum rules_verdict {
	RV_CONTINUE = 0,        /* no rule ended the list: go on */
	RV_ACCEPT,              /* an accept rule matched */
	RV_REJECT,              /* close (logged) */
	RV_SILENT_DROP,         /* close without telling the client */
	RV_WAIT,                /* content: not decided, wait for more bytes */
};

/* Runs the `tcp-request connection` rules of r on ss. *expect_proxy is
 * set when an expect-proxy rule matched. */
enum rules_verdict rules_tcp_connection(const struct px_rules *r, struct smp_sess *ss, bool *expect_proxy);
/* Runs the `tcp-request session` rules of r on ss (after any PROXY
 * header, before content inspection). */
enum rules_verdict rules_tcp_session(const struct px_rules *r, struct smp_sess *ss);
/* Whether r has connection / session rules, its own or its defaults'. */
static inline bool rules_has_conn(const struct px_rules *r)
{
	return r && (r->conn || (r->def && r->def->conn));
}
static inline bool rules_has_session(const struct px_rules *r)
{
	return r && (r->sess || (r->def && r->def->sess));
}
/* Runs the `tcp-request content` rules (from the first one, as HAProxy
 * does on each new chunk; ss->final on the last pass). */
enum rules_verdict rules_tcp_content(const struct px_rules *r, struct smp_sess *ss);
/* The backend the use_backend rules choose, or NULL for the default one
 * (no rule matched, or a dynamic name that is no backend). */
struct proxy *rules_pick_backend(const struct px_rules *r, struct smp_sess *ss);
/* The server the use-server rules force (a usable one), or NULL. */
struct server *rules_pick_server(const struct px_rules *r, struct smp_sess *ss);

/* Whether a session of px needs content inspection (content rules). */
static inline bool rules_inspects(const struct px_rules *r)
{
	return r && (r->content || (r->def && r->def->content));
}

/* Keyword table (`acl`, `tcp-request`, `use_backend`, `use-server`). */
extern const struct cfg_kw_list rules_kw_list;
/* Registers fetches, converters and the log-format %[...] hook. */
void rules_init(void);
/* Resolves names (backends, servers) and checks what can only be checked
 * once every section is read. Returns the number of errors. */
int rules_finalize(struct dp_config *c);

/* Renders fmt for ss into buf (NUL-terminated). Returns the length. */
size_t rules_fmt_render(const struct rules_fmt *fmt, const struct smp_sess *ss, char *buf, size_t cap);

#endif
