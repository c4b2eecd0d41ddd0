/* cfg.h — configuration files: tokenizer, sections and keyword tables.
 *
 * The language is HAProxy's. A file is read line by line; each line is split
 * into words (quotes, escapes and "${ENV}" expansion as HAProxy does), the first
 * word either opens a section or is a keyword looked up in the tables of the
 * modules that own keywords for the current section. Handlers get the words and
 * return an error string that this module prefixes with "file:line".
 */
#ifndef DECOYPROXY_CFG_H
#define DECOYPROXY_CFG_H

#include "lib/common.h"
/* numbers, times and word counts: what every keyword handler checks */
#include "cfg/value.h"

/* The generation being filled: opaque here, defined by model/conf.h. */
struct dp_config;

/* Sections, also used as bit masks in keyword tables. */
enum {
	CFG_SEC_NONE     = 0,
	CFG_SEC_GLOBAL   = 1 << 0,
	CFG_SEC_DEFAULTS = 1 << 1,
	CFG_SEC_FRONTEND = 1 << 2,
	CFG_SEC_BACKEND  = 1 << 3,
	CFG_SEC_LISTEN   = 1 << 4,
	CFG_SEC_NETWORK  = 1 << 5,   /* decoyproxy: `network <name>` segment sections */
	CFG_SEC_NSLIST   = 1 << 6,   /* HAProxy's `namespace_list` */
	CFG_SEC_UDPLB    = 1 << 7,   /* decoyproxy: `udp-lb <name>` sections */
};
#define CFG_SEC_PROXIES (CFG_SEC_DEFAULTS | CFG_SEC_FRONTEND | CFG_SEC_BACKEND | CFG_SEC_LISTEN)
#define CFG_SEC_FE (CFG_SEC_DEFAULTS | CFG_SEC_FRONTEND | CFG_SEC_LISTEN)
#define CFG_SEC_BE (CFG_SEC_DEFAULTS | CFG_SEC_BACKEND | CFG_SEC_LISTEN)
#define CFG_SEC_FE_NODEF (CFG_SEC_FRONTEND | CFG_SEC_LISTEN)
#define CFG_SEC_BE_NODEF (CFG_SEC_BACKEND | CFG_SEC_LISTEN)

#define CFG_MAX_ARGS 64
#define CFG_MAX_LINE 65536

/* Where we are while parsing. */
struct cfg_ctx {
	struct dp_config *conf;
	const char *file;
	int line;
	int section;            /* CFG_SEC_* of the current section */
	void *sec_data;         /* the section's object, set by its open() (a proxy, a
	                         * network segment, ...); NULL when it has none */
	int warnings;           /* number of warnings emitted so far */
	int errors;             /* number of errors emitted so far */
};

/* Keyword handler. argv[0] is the keyword itself. Returns 0 on success,
 * CFG_WARN when *err holds a warning (parsing goes on), or CFG_ERR when *err
 * holds an error. Handlers must not print: the caller adds "file:line" and
 * "'<keyword>': " — unless the message already starts with the quoted
 * keyword ("'maxconn' ignored because ..."), as HAProxy's own messages do. */
enum { CFG_OK = 0, CFG_WARN = 1, CFG_ERR = -1 };
typedef int (*cfg_kw_fn)(struct cfg_ctx *ctx, int argc, char **argv, char **err);

/* A keyword table entry.
 *  - fn == NULL: a known HAProxy keyword that decoyproxy refuses:
 *    "'<kw>' is not supported by decoyproxy: <why>" (an error).
 *  - fn == cfg_kw_ignored: a known HAProxy keyword whose only effect is on
 *    something decoyproxy does not have at all (TLS, HTTP, compression,
 *    HAProxy's internal tuning): accepted with the warning
 *    "'<kw>' ignored: <why>", never silently.
 *  - otherwise fn parses the line; `why` is unused.
 * A name ending in '*' matches every keyword starting with what precedes
 * the '*' ("tune.*"); an exact name wins over a prefix, a longer prefix over
 * a shorter one. */
struct cfg_kw {
	const char *name;
	unsigned sections;      /* CFG_SEC_* mask where the keyword is allowed */
	cfg_kw_fn fn;
	const char *why;
};

/* Marker handler for cfg_kw entries that are accepted with a warning (see
 * struct cfg_kw); the dispatcher recognises it and never calls it. */
int cfg_kw_ignored(struct cfg_ctx *ctx, int argc, char **argv, char **err);

struct cfg_kw_list {
	const struct cfg_kw *kws;
	size_t n;
};

/* A section, owned by the module that registers it. open() (optional) is
 * called with the section line (argv[0] is the section word) once
 * ctx->section is `sec`; it may create the section's object and store it in
 * ctx->sec_data, and returns CFG_OK, or CFG_ERR either with *err (printed as
 * "'<section>': <err>") or with *err NULL after reporting by itself. After
 * an error the section's keywords are skipped. Keywords of the section are
 * ordinary cfg_kw entries whose mask has `sec`. `suggest`: offered as a
 * correction of a misspelt word. */
struct cfg_section {
	const char *name;
	int sec;
	int (*open)(struct cfg_ctx *ctx, int argc, char **argv, char **err);
	bool suggest;
};

/* Registry: modules register what they own before any file is read (each
 * once; registering again is a no-op). Returns 0 or -ENOSPC. */
int cfg_register_kws(const struct cfg_kw_list *l);
int cfg_register_section(const struct cfg_section *sec);

/* Split one line into words, in place. Handles 'single' and "double" quotes,
 * backslash escapes (\\ \' \" \# \<space> \t \r \n \xHH), "${VAR}" expansion
 * inside double quotes, and '#' comments. The words are written into out
 * (cap bytes). Returns the number of words (0 for an empty/comment line) or
 * CFG_ERR with *err set (unterminated quote, bad escape, too many words). */
int cfg_tokenize(const char *line, char **argv, int max_args, char *out, size_t cap, char **err);

/* The files a configuration was read from. */
struct cfg_files {
	char **v;
	size_t n;
};
void cfg_files_free(struct cfg_files *files);

/* Parse one file (or every *.cfg file of a directory, in lexical order)
 * into conf, recording each file read in *files (NULL: not recorded). Errors and warnings are printed as [ALERT]/[WARNING] lines
 * naming file, line and keyword. Only regular files are read (a FIFO, a
 * device, or a *.cfg directory entry that is not a regular file is an
 * error naming it); a line holding a NUL byte or longer than
 * CFG_MAX_LINE - 2 bytes is an error naming file:line, and a file is read
 * up to 64 MiB. Returns the number of errors (0 = ok) or -errno when the
 * file cannot be read (reported too). */
int cfg_parse_path(struct dp_config *conf, struct cfg_files *files, const char *path);

/* Sets how cfg_parse_path() opens configuration paths (files and
 * directories): fn(path, flags) returns an fd or -errno; NULL restores
 * open(2). Set by ctl/chroot.c once the process is in a chroot, so that a
 * reload still reads the configuration files named at start. */
void cfg_set_opener(int (*fn)(const char *path, int flags));

/* Parse buf[0..len) as if it were a file named `name` (tests, fuzzing):
 * the same line rules as a file, NUL bytes included. Returns the number of
 * errors. */
int cfg_parse_mem(struct dp_config *conf, const char *name, const char *buf, size_t len);

/* cfg_parse_mem() of a NUL-terminated buffer. */
int cfg_parse_buffer(struct dp_config *conf, const char *name, const char *buf);

/* The generation being parsed (set by cfg_parse_* while they run) or
 * finalized (set by the module table around the finalize hooks); NULL
 * otherwise. For compilers called without a parse context, such as the
 * log-format's %[...] hook, that need their generation (maps). Per thread:
 * a reload signal's configuration is parsed on a thread of its own. */
extern _Thread_local struct dp_config *cfg_cur_conf;

/* Report helpers that add the "parsing [file:line] : " prefix. */
void cfg_alert(struct cfg_ctx *ctx, const char *fmt, ...) DP_PRINTF(2, 3);
void cfg_warn(struct cfg_ctx *ctx, const char *fmt, ...) DP_PRINTF(2, 3);
/* The same, for checks made once every file is read (finalize hooks), which
 * name the line themselves: an alert (alert true: counted in *errors when
 * errors is not NULL) or a warning. */
void cfg_report_at(bool alert, const char *file, int line, int *errors, const char *fmt, ...) DP_PRINTF(5, 6);

/* Levenshtein-based suggestion: the closest entry of `cands` (NULL-ended)
 * to `word`, or NULL when nothing is close enough. */
const char *cfg_suggest(const char *word, const char *const *cands);

/* How well table name `pat` matches `word`: SIZE_MAX when equal, the length
 * of the prefix for a matching "prefix*" entry (see struct cfg_kw), 0 when
 * it does not match. Keyword tables and option tables (opts.h) match names
 * alike. */
size_t cfg_name_match(const char *pat, const char *word);
/* Whether table name `pat` is a "prefix*" entry (never offered as a
 * correction: it is no word one could have meant). */
bool cfg_name_is_prefix(const char *pat);

#endif
