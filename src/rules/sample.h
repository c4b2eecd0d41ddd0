/* sample.h — samples, sample fetches and converters (HAProxy's "sample
 * expressions": `fetch(args),conv(args),conv`).
 *
 * A fetch reads one value about a connection from a session view (struct
 * smp_sess, filled by the session layer: this layer never sees a session);
 * converters transform it in a chain. Fetches and converters are looked up
 * by name in registries of static tables (smp_register_fetches /
 * smp_register_convs): adding one is one table entry and one function. An
 * entry whose fn is NULL is a name the parser knows but refuses with its
 * `refuse` text (e.g. fetches whose parser is not built yet).
 *
 * Values produced by converters live in per-thread scratch buffers until
 * the next evaluation: whoever keeps a value (capture, variable) copies it.
 * Parsing happens at configuration time only; evaluation never allocates.
 */
#ifndef DECOYPROXY_SAMPLE_H
#define DECOYPROXY_SAMPLE_H

#include <sys/socket.h>
#include "lib/common.h"

struct proxy;
struct server;
struct listener;
struct pp_hdr;
struct dp_config;
struct smp_store;
struct pat_expr;
struct stktable;
struct stksess;

enum smp_type {
	SMP_T_ANY = 0,  /* (converters: any input) */
	SMP_T_BOOL,
	SMP_T_SINT,
	SMP_T_ADDR,     /* IPv4 or IPv6 address (port 0) */
	SMP_T_STR,
	SMP_T_BIN,
	SMP_T_COUNT
};

enum {
	SMP_F_MAY_CHANGE = 1 << 0,  /* more request bytes may change the answer */
	SMP_F_NOT_LAST   = 1 << 1,  /* a multi-valued fetch has more values:
	                             * smp_expr_eval_next() gives the next one */
};

struct sample {
	enum smp_type type;
	unsigned flags;
	size_t ctx;                 /* a multi-valued fetch's position (0: first) */
	union {
		long long sint;             /* BOOL, SINT */
		struct sockaddr_storage addr; /* ADDR */
		struct {
			const char *ptr;
			size_t len;
		} str;                      /* STR, BIN */
	} u;
};

/* What the rules may read about one connection, filled by the session
 * layer right before an evaluation (cheap: pointers). src and dst are the
 * session's own addresses: set-src / set-dst write through them. */
struct smp_sess {
	struct sockaddr_storage *src, *dst;
	struct proxy *fe, *be;          /* be == fe until a backend is chosen */
	struct server *srv;             /* NULL until a server is chosen */
	const struct listener *li;
	const struct pp_hdr *pp;        /* TLVs of a received PROXY header (NULL: none) */
	bool pp_rcvd;                   /* a PROXY header was received */
	const char *netns;              /* namespace the connection arrived in */
	const unsigned char *req;       /* request bytes buffered so far */
	size_t req_len;
	bool final;                     /* no more request bytes will be waited for */
	struct smp_store *store;        /* captures and variables (NULL: none) */
	struct dp_config *conf;
};

/* Argument types of fetches and converters. */
enum arg_type {
	ARGT_STOP = 0,
	ARGT_SINT,      /* integer */
	ARGT_STR,       /* string */
	ARGT_BE,        /* backend name, resolved once every section is read */
	ARGT_FE,        /* frontend name */
	ARGT_SRV,       /* [<backend>/]<server> */
	ARGT_REG,       /* PCRE2 regex (compiled at load) */
	ARGT_MSK4,      /* IPv4 mask: bits or dotted */
	ARGT_MSK6,      /* IPv6 mask: bits */
	ARGT_VAR,       /* variable name scope.name */
};

#define SMP_MAX_ARGS 4

struct smp_arg {
	enum arg_type type;
	long long sint;
	char *str;              /* STR, and the text of every other kind */
	size_t len;
	void *ptr;              /* BE/FE: struct proxy; SRV: struct server;
	                         * REG: struct rx; VAR: struct var_ref;
	                         * maps: struct pat_expr (owned) */
	unsigned char mask[16]; /* MSK4 (4 bytes) / MSK6 */
};

/* Where a sample may be fetched: a fetch needing request bytes means
 * nothing in `tcp-request connection`. */
enum {
	SMP_USE_L4   = 1 << 0,  /* connection: addresses, names, counters */
	SMP_USE_REQ  = 1 << 1,  /* request bytes (content inspection) */
	SMP_USE_SRV  = 1 << 2,  /* the chosen server (logs only) */
	SMP_USE_CONST = 1 << 3, /* constant or state of the process */
};
/* Where a sample expression is used (what it may fetch). */
enum {
	SMP_CTX_CONN = SMP_USE_L4 | SMP_USE_CONST,
	SMP_CTX_CONTENT = SMP_USE_L4 | SMP_USE_REQ | SMP_USE_CONST,
	SMP_CTX_LOG = SMP_USE_L4 | SMP_USE_REQ | SMP_USE_SRV | SMP_USE_CONST,
};

/* The parse context of expressions: the generation (maps, names to
 * resolve later), the proxy whose line is read, and the line. */
struct smp_pctx {
	struct dp_config *conf;
	struct proxy *px;
	const char *file;
	int line;
};

typedef int (*smp_fetch_fn)(const struct smp_arg *args, struct sample *smp, const struct smp_sess *ss);
typedef int (*smp_conv_fn)(const struct smp_arg *args, struct sample *smp, const struct smp_sess *ss);
/* Validates / prepares args once parsed (load a map, compile a regex).
 * kw is the keyword's name for messages. Returns 0 or -1 with *err. */
typedef int (*smp_check_fn)(struct smp_arg *args, int nargs, const char *kw, struct smp_pctx *pc, char **err);

struct smp_fetch_kw {
	const char *name;
	smp_fetch_fn fn;                /* NULL: known but refused (`refuse`) */
	uint8_t args[SMP_MAX_ARGS + 1]; /* ARGT_* list ended by ARGT_STOP */
	uint8_t min_args;
	enum smp_type out;
	unsigned use;                   /* SMP_USE_* */
	smp_check_fn check;
	const char *refuse;
};

struct smp_conv_kw {
	const char *name;
	smp_conv_fn fn;                 /* NULL: known but refused */
	uint8_t args[SMP_MAX_ARGS + 1];
	uint8_t min_args;
	enum smp_type in, out;
	smp_check_fn check;
	/* frees what check() attached to the arguments (maps), or NULL */
	void (*release)(struct smp_arg *args, int nargs);
	const char *refuse;
	/* maps: match method and output type (pattern.h), else 0 */
	int map_match;
	enum smp_type map_out;
};

/* Registries. Tables must live as long as the process. Returns 0 or
 * -ENOSPC. Registering the same table twice is a no-op. */
int smp_register_fetches(const struct smp_fetch_kw *kws, size_t n);
int smp_register_convs(const struct smp_conv_kw *kws, size_t n);
/* Registers this layer's built-in fetches and converters (idempotent). */
void smp_init(void);
const struct smp_fetch_kw *smp_find_fetch(const char *name, size_t len);
const struct smp_conv_kw *smp_find_conv(const char *name, size_t len);
/* The closest known fetch name to `name` (for "did you mean"), or NULL. */
const char *smp_suggest_fetch(const char *name);

struct smp_conv_inst {
	const struct smp_conv_kw *kw;
	struct smp_arg args[SMP_MAX_ARGS];
	int nargs;
};

/* A parsed sample expression. */
struct smp_expr {
	const struct smp_fetch_kw *fetch;
	struct smp_arg args[SMP_MAX_ARGS];
	int nargs;
	struct smp_conv_inst *convs;
	size_t nconv;
	char *text;             /* as written, for messages and `show` */
};

/* Parses the expression at the start of str (one word, or inside %[...]):
 * stops at the end, or at the first byte of `stop` found outside
 * parentheses and quotes (stop may be NULL); *end (may be NULL) gets where
 * it stopped. Returns 0 with *out (free with smp_expr_free) or -1 with
 * *err. */
int smp_expr_parse(const char *str, const char *stop, const char **end, struct smp_pctx *pc,
		   struct smp_expr **out, char **err);
void smp_expr_free(struct smp_expr *e);
/* Type the expression produces. */
enum smp_type smp_expr_type(const struct smp_expr *e);
/* SMP_USE_* bits of what the expression fetches. */
unsigned smp_expr_use(const struct smp_expr *e);

/* Evaluates e on ss: 1 with *smp set, 0 when there is no value (then
 * smp->flags may hold SMP_F_MAY_CHANGE). */
int smp_expr_eval(const struct smp_expr *e, const struct smp_sess *ss, struct sample *smp);
/* After a value with SMP_F_NOT_LAST (req.ssl_alpn): evaluates the next
 * value of the same fetch through the same converters, as smp_expr_eval.
 * Contexts that take one value (logs, captures) keep the first; ACLs try
 * each until one matches, as HAProxy does. */
int smp_expr_eval_next(const struct smp_expr *e, const struct smp_sess *ss, struct sample *smp);
/* Most values of a multi-valued fetch an ACL tries: each one re-reads the
 * request bytes, so a hostile hello with thousands of ALPN names must not
 * cost thousands of parses (real clients send a handful). */
#define SMP_MAX_VALUES 64

/* What the event log records of a session's first bytes: the protocol
 * verdict (req.proto) and the ClientHello's fingerprints. */
struct smp_first_facts {
	const char *proto;      /* static name; NULL: not decided */
	char ja3[33];           /* "" when none */
	char ja4[37];
	char sni[256];          /* cut at 255 bytes (a DNS name is shorter) */
	size_t sni_len;         /* 0: none */
};
/* Computes them once from ss's request bytes (as the fetches would with
 * ss->final); for sessions whose bytes were inspected, when the event log
 * is on. */
void smp_first_facts(const struct smp_sess *ss, struct smp_first_facts *f);

/* Load-time check of one ACL pattern against what e's fetch can return
 * (req.proto: a protocol name; req.ssl_ver: "3.1" style versions, turned
 * into the integer the fetch gives, written to buf); kind says how the
 * ACL compares. Returns 0 with *out
 * (v or buf), or -1 with *err naming the nearest valid value. */
enum smp_pat_kind {
	SMP_PAT_OTHER = 0,
	SMP_PAT_STR,            /* exact string match (-m str) */
	SMP_PAT_INT,            /* integer match (-m int) */
};
int smp_fetch_pattern(const struct smp_expr *e, enum smp_pat_kind kind, bool icase, const char *v,
		      char *buf, size_t bufsz, const char **out, char **err);

/* Converts smp in place to type t. Returns 1, or 0 when it cannot. */
int smp_cast(struct sample *smp, enum smp_type t);
/* Renders smp as text into buf (NUL-terminated, cut at cap - 1). Returns
 * the length. */
size_t smp_to_text(const struct sample *smp, char *buf, size_t cap);
const char *smp_type_name(enum smp_type t);

/* Per-thread scratch buffer for converter output, different from the one
 * holding `avoid` (the input) when it is one of them. */
#define SMP_TRASH_SIZE 32768
char *smp_trash(const void *avoid);

/* Frees what parse/check put in an argument. */
void smp_arg_free(struct smp_arg *a);

/* ---- per-session store: captures and variables ---- */

#define SMP_MAX_CAPTURES 16

struct smp_var {
	struct smp_var *next;
	char *name;             /* "txn.x" as written after the scope check */
	struct sample smp;      /* STR/BIN point at data */
	char *data;
};

struct smp_store {
	char *cap[SMP_MAX_CAPTURES];    /* tcp-request content capture slots */
	size_t cap_len[SMP_MAX_CAPTURES];
	struct smp_var *vars;
	/* stick counters sc0..sc2 (rules/stktable.h): the table and entry
	 * each tracks, NULL when none */
	struct stktable *sc_t[3];
	struct stksess *sc_e[3];
};

struct smp_store *smp_store_new(void);
void smp_store_free(struct smp_store *st);
/* Copies smp (cut to max bytes when it is text) into capture slot i. */
int smp_store_capture(struct smp_store *st, unsigned i, const struct sample *smp, size_t max);
int smp_store_set_var(struct smp_store *st, const char *name, const struct sample *smp);
void smp_store_unset_var(struct smp_store *st, const char *name);
const struct smp_var *smp_store_get_var(const struct smp_store *st, const char *name);

/* Checks a variable name "<scope>.<name>" (scopes proc sess txn req res,
 * name of [a-zA-Z0-9._-]). Returns 0 or -1 with *err. */
int smp_var_name_check(const char *name, char **err);

#endif
