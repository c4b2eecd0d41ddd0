/* cfg.c — configuration files: tokenizer, sections, keyword dispatch.
 *
 * Keywords and sections are owned by the modules that implement them and
 * registered here (cfg_register_kws/cfg_register_section, from the module
 * table in ctl/module.c). This file only knows how to split lines, which
 * section is open, and how to find and call the owner of a keyword.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg/cfg.h"
#include "log/msg.h"

/* ---- registry ------------------------------------------------------------
 * Modules register the keywords and sections they own before any file is
 * read (ctl/module.c does it for every module, in the module table's
 * order); this file names none of them. */

#define CFG_MAX_KW_LISTS 32
#define CFG_MAX_SECTIONS 16

static const struct cfg_kw_list *kw_lists[CFG_MAX_KW_LISTS];
static size_t n_kw_lists;
static const struct cfg_section *sections[CFG_MAX_SECTIONS];
static size_t n_sections;

int cfg_register_kws(const struct cfg_kw_list *l)
{
	for (size_t i = 0; i < n_kw_lists; i++)
		if (kw_lists[i] == l)
			return 0;
	if (n_kw_lists == ARRAY_SIZE(kw_lists))
		return -ENOSPC;
	kw_lists[n_kw_lists++] = l;
	return 0;
}

int cfg_register_section(const struct cfg_section *sec)
{
	for (size_t i = 0; i < n_sections; i++)
		if (sections[i] == sec)
			return 0;
	if (n_sections == ARRAY_SIZE(sections))
		return -ENOSPC;
	sections[n_sections++] = sec;
	return 0;
}

/* Sections that HAProxy has and decoyproxy does not. */
static const struct {
	const char *name;
	const char *why;
} unsupported_sections[] = {
	{ "peers", "stick tables are not implemented" },
	{ "resolvers", "server addresses are resolved once at start-up" },
	{ "userlist", "decoyproxy is a layer-4 proxy (no HTTP authentication)" },
	{ "cache", "decoyproxy is a layer-4 proxy (no HTTP cache)" },
	{ "http-errors", "decoyproxy is a layer-4 proxy" },
	{ "program", "decoyproxy has no master process" },
	{ "ring", "log rings are not implemented" },
	{ "mailers", "mail alerts are not implemented" },
	{ "crt-store", "decoyproxy does not terminate TLS" },
};


/* ---- messages ----------------------------------------------------------- */

/* The one place that prints "config : parsing [file:line] : msg". */
static void vreport_at(bool alert, const char *file, int line, const char *fmt, va_list ap)
{
	char *msg = NULL;

	vmemprintf(&msg, fmt, ap);
	if (alert)
		ha_alert("config : parsing [%s:%d] : %s", file, line, msg ? msg : "out of memory");
	else
		ha_warning("config : parsing [%s:%d] : %s", file, line, msg ? msg : "out of memory");
	free(msg);
}

void cfg_report_at(bool alert, const char *file, int line, int *errors, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport_at(alert, file, line, fmt, ap);
	va_end(ap);
	if (alert && errors)
		(*errors)++;
}

static void cfg_vreport(struct cfg_ctx *ctx, bool alert, const char *fmt, va_list ap)
{
	if (alert)
		ctx->errors++;
	else
		ctx->warnings++;
	vreport_at(alert, ctx->file, ctx->line, fmt, ap);
}

static void cfg_report(struct cfg_ctx *ctx, bool alert, const char *fmt, ...) DP_PRINTF(3, 4);
static void cfg_report(struct cfg_ctx *ctx, bool alert, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cfg_vreport(ctx, alert, fmt, ap);
	va_end(ap);
}

void cfg_alert(struct cfg_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cfg_vreport(ctx, true, fmt, ap);
	va_end(ap);
}

void cfg_warn(struct cfg_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cfg_vreport(ctx, false, fmt, ap);
	va_end(ap);
}

/* ---- tokenizer ---------------------------------------------------------- */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int cfg_tokenize(const char *line, char **argv, int max_args, char *out, size_t cap, char **err)
{
	const char *p = line;
	size_t o = 0;
	int argc = 0;

#define PUT(ch) do {                                                    \
		if (o + 1 >= cap) {                                     \
			memprintf(err, "line too long");                \
			return CFG_ERR;                                 \
		}                                                       \
		out[o++] = (ch);                                        \
	} while (0)

	for (;;) {
		char quote = 0;
		bool in_word = false;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '#' || *p == '\n' || *p == '\r')
			break;
		if (argc >= max_args) {
			memprintf(err, "too many words on the line (max %d)", max_args);
			return CFG_ERR;
		}
		argv[argc++] = out + o;
		for (;;) {
			char c = *p;

			if (c == '\0' || ((c == '\n' || c == '\r') && !quote))
				break;
			if (!quote && (c == ' ' || c == '\t' || c == '#'))
				break;
			if (c == '\\' && quote != '\'') {
				char n = p[1];
				int h1, h2;

				switch (n) {
				case '\\': case '\'': case '"': case '#': case ' ': case '$':
					PUT(n); p += 2; break;
				case 't': PUT('\t'); p += 2; break;
				case 'r': PUT('\r'); p += 2; break;
				case 'n': PUT('\n'); p += 2; break;
				case 'x':
					h1 = p[2] ? hexval((unsigned char)p[2]) : -1;
					h2 = (h1 >= 0 && p[3]) ? hexval((unsigned char)p[3]) : -1;
					if (h1 < 0 || h2 < 0) {
						memprintf(err, "invalid \\x escape (two hex digits expected)");
						return CFG_ERR;
					}
					PUT((char)(h1 << 4 | h2));
					p += 4;
					break;
				case '\0':
					memprintf(err, "backslash at end of line");
					return CFG_ERR;
				default:
					/* HAProxy keeps unknown escapes verbatim */
					PUT('\\');
					PUT(n);
					p += 2;
					break;
				}
				in_word = true;
				continue;
			}
			if (c == '"' || c == '\'') {
				if (!quote) {
					quote = c;
					p++;
					in_word = true;
					continue;
				}
				if (quote == c) {
					quote = 0;
					p++;
					continue;
				}
			}
			if (c == '$' && quote == '"' && p[1] == '{') {
				const char *end = strchr(p + 2, '}');
				char name[256];
				const char *val;
				size_t n;

				if (!end) {
					memprintf(err, "unterminated '${' in environment variable reference");
					return CFG_ERR;
				}
				n = (size_t)(end - (p + 2));
				if (n == 0 || n >= sizeof(name)) {
					memprintf(err, "invalid environment variable name");
					return CFG_ERR;
				}
				memcpy(name, p + 2, n);
				name[n] = '\0';
				val = getenv(name);
				for (; val && *val; val++)
					PUT(*val);
				p = end + 1;
				continue;
			}
			PUT(c);
			p++;
		}
		if (quote) {
			memprintf(err, "unmatched %s quote", quote == '"' ? "double" : "single");
			return CFG_ERR;
		}
		(void)in_word;
		PUT('\0');
	}
#undef PUT
	return argc;
}

/* ---- helpers for keyword handlers -------------------------------------- */

int cfg_kw_ignored(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	/* never called: parse_line() reports these entries itself */
	memprintf(err, "ignored");
	return CFG_WARN;
}

static size_t lev(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t row[64], prev, tmp;

	if (lb >= ARRAY_SIZE(row) || la >= 64)
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
			size_t best = prev + cost;

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			tmp = row[j];
			row[j] = best;
			prev = tmp;
		}
	}
	return row[lb];
}

const char *cfg_suggest(const char *word, const char *const *cands)
{
	const char *best = NULL;
	size_t bestd = SIZE_MAX, len = strlen(word);

	for (; *cands; cands++) {
		size_t d = lev(word, *cands);

		if (d < bestd) {
			bestd = d;
			best = *cands;
		}
	}
	/* close enough: at most a third of the word wrong, and at most 3 edits */
	if (best && bestd <= 3 && bestd * 3 <= len + 1)
		return best;
	return NULL;
}

/* ---- dispatch ----------------------------------------------------------- */

bool cfg_name_is_prefix(const char *pat)
{
	size_t n = strlen(pat);

	return n > 1 && pat[n - 1] == '*';
}

size_t cfg_name_match(const char *pat, const char *word)
{
	if (cfg_name_is_prefix(pat)) {
		size_t n = strlen(pat) - 1;

		return strncmp(pat, word, n) ? 0 : n;
	}
	return strcmp(pat, word) ? 0 : SIZE_MAX;
}

/* The best entry matching `name` (see struct cfg_kw) that is valid in
 * `section`; failing that, the best one valid elsewhere (so the caller can
 * say where it belongs); NULL when none matches. */
static const struct cfg_kw *kw_lookup(const char *name, int section)
{
	const struct cfg_kw *in = NULL, *any = NULL;
	size_t in_score = 0, any_score = 0;

	for (size_t l = 0; l < n_kw_lists; l++) {
		for (size_t i = 0; i < kw_lists[l]->n; i++) {
			const struct cfg_kw *kw = &kw_lists[l]->kws[i];
			size_t m = cfg_name_match(kw->name, name);

			if (!m)
				continue;
			if ((kw->sections & section) && m > in_score) {
				in = kw;
				in_score = m;
			} else if (!(kw->sections & section) && m > any_score) {
				any = kw;
				any_score = m;
			}
		}
	}
	return in ? in : any;
}

static const char *section_str(int sec)
{
	for (size_t i = 0; i < n_sections; i++)
		if (sections[i]->sec == sec)
			return sections[i]->name;
	return "(no section)";
}

/* Reports an unknown keyword, suggesting the closest keyword of the current
 * section or the closest section name (a misspelt "frontend" line). */
static void suggest_keyword(struct cfg_ctx *ctx, const char *word)
{
	const char *cands[1024];
	size_t n = 0;
	const char *best;

#define ADD_CAND(w) do { if (n + 1 < ARRAY_SIZE(cands)) cands[n++] = (w); } while (0)
	for (size_t i = 0; i < n_sections; i++)
		if (sections[i]->suggest)
			ADD_CAND(sections[i]->name);
	for (size_t i = 0; i < ARRAY_SIZE(unsupported_sections); i++)
		ADD_CAND(unsupported_sections[i].name);
	for (size_t l = 0; l < n_kw_lists; l++)
		for (size_t i = 0; i < kw_lists[l]->n; i++)
			if ((kw_lists[l]->kws[i].sections & ctx->section) && !cfg_name_is_prefix(kw_lists[l]->kws[i].name))
				ADD_CAND(kw_lists[l]->kws[i].name);
#undef ADD_CAND
	cands[n] = NULL;
	best = cfg_suggest(word, cands);
	if (ctx->section == CFG_SEC_NONE) {
		if (best)
			cfg_alert(ctx, "unknown keyword '%s' out of section; did you mean '%s' maybe ?", word, best);
		else
			cfg_alert(ctx, "unknown keyword '%s' out of section", word);
	} else if (best) {
		cfg_alert(ctx, "unknown keyword '%s' in '%s' section; did you mean '%s' maybe ?",
			  word, section_str(ctx->section), best);
	} else {
		cfg_alert(ctx, "unknown keyword '%s' in '%s' section", word, section_str(ctx->section));
	}
}

/* Whether msg already names keyword kw the way HAProxy's messages do:
 * "'kw' ..." or "'kw <more words>' ...". */
static bool msg_names_kw(const char *msg, const char *kw)
{
	size_t n = strlen(kw);

	return msg[0] == '\'' && !strncmp(msg + 1, kw, n) && (msg[n + 1] == '\'' || msg[n + 1] == ' ');
}

/* Prints a handler's message, prefixed with "'<kw>': " unless it already
 * names the keyword. */
static void report_kw_msg(struct cfg_ctx *ctx, bool alert, const char *kw, const char *msg)
{
	if (msg_names_kw(msg, kw))
		cfg_report(ctx, alert, "%s", msg);
	else
		cfg_report(ctx, alert, "'%s': %s", kw, msg);
}

/* Opens the section named by argv[0] if it is one: 0 when opened, -1 when
 * it is a section whose header is broken (reported; its keywords are
 * skipped), 1 when argv[0] is not a section word. */
static int open_section(struct cfg_ctx *ctx, int argc, char **argv)
{
	for (size_t i = 0; i < n_sections; i++) {
		const struct cfg_section *sec = sections[i];
		char *err = NULL;

		if (strcmp(argv[0], sec->name))
			continue;
		ctx->section = sec->sec;
		ctx->sec_data = NULL;
		if (sec->open && sec->open(ctx, argc, argv, &err) != CFG_OK) {
			/* the handler either reported itself (err NULL) or
			 * left the message to us */
			if (err)
				cfg_alert(ctx, "'%s': %s", argv[0], err);
			free(err);
			ctx->section = CFG_SEC_NONE;
			ctx->sec_data = NULL;
			return -1;
		}
		return 0;
	}
	return 1; /* not a section */
}

static void parse_line(struct cfg_ctx *ctx, int argc, char **argv)
{
	const struct cfg_kw *kw;
	char *err = NULL;
	int ret;

	ret = open_section(ctx, argc, argv);
	if (ret <= 0)
		return;

	for (size_t i = 0; i < ARRAY_SIZE(unsupported_sections); i++) {
		if (!strcmp(argv[0], unsupported_sections[i].name)) {
			cfg_alert(ctx, "section '%s' is not supported: %s", argv[0], unsupported_sections[i].why);
			ctx->section = CFG_SEC_NONE;
			ctx->sec_data = NULL;
			return;
		}
	}

	if (ctx->section == CFG_SEC_NONE) {
		/* keywords of an unsupported section, or before any section */
		if (ctx->errors == 0)
			suggest_keyword(ctx, argv[0]);
		return;
	}

	kw = kw_lookup(argv[0], ctx->section);
	if (!kw) {
		suggest_keyword(ctx, argv[0]);
		return;
	}
	if (!(kw->sections & ctx->section)) {
		cfg_alert(ctx, "'%s' is not allowed in '%s' section", argv[0], section_str(ctx->section));
		return;
	}
	if (!kw->fn) {
		cfg_alert(ctx, "'%s' is not supported by decoyproxy%s%s", argv[0],
			  kw->why ? ": " : "", kw->why ? kw->why : "");
		return;
	}
	if (kw->fn == cfg_kw_ignored) {
		cfg_warn(ctx, "'%s' ignored: %s", argv[0], kw->why ? kw->why : "it has no effect in decoyproxy");
		return;
	}
	ret = kw->fn(ctx, argc, argv, &err);
	if (ret == CFG_ERR)
		report_kw_msg(ctx, true, argv[0], err ? err : "invalid arguments");
	else if (ret == CFG_WARN && err)
		report_kw_msg(ctx, false, argv[0], err);
	free(err);
}

/* ---- reading lines -----------------------------------------------------
 *
 * Lines are measured by the bytes read, never by strlen(): a NUL byte must
 * not hide the rest of a line (the bytes after the 65,535th of an over-long
 * line were once parsed as lines of their own, so a section could hide in
 * a comment). A line holding a NUL is refused; an over-long one is refused
 * and skipped to its end; a file is read up to CFG_MAX_FILE bytes. */

#define CFG_MAX_FILE (64u << 20) /* bytes read from one file, at most */

/* Where lines come from: a stream, or a buffer of known length. */
struct line_src {
	FILE *f;                /* or NULL: */
	const char *p, *end;    /* the buffer left */
	unsigned long long total; /* bytes read so far */
};

enum line_res { LINE_EOF, LINE_OK, LINE_NUL, LINE_LONG, LINE_BOUND, LINE_ERR };

/* One byte from src, or EOF. */
static inline int src_getc(struct line_src *src)
{
	if (src->f)
		return getc_unlocked(src->f);
	return src->p < src->end ? (unsigned char)*src->p++ : EOF;
}

/* Reads the next line, its '\n' included, into line[0..CFG_MAX_LINE) and
 * NUL-terminates it. A line longer than CFG_MAX_LINE - 2 bytes (newline
 * excluded), or holding a NUL byte, is read to its end and reported as
 * LINE_LONG or LINE_NUL (a NUL wins); LINE_BOUND when the file reaches
 * CFG_MAX_FILE bytes, LINE_ERR on a read error, LINE_EOF when nothing is
 * left. */
static enum line_res read_line(struct line_src *src, char *line)
{
	size_t n = 0, len = 0;
	bool nul = false, eol = false;
	int c;

	while ((c = src_getc(src)) != EOF) {
		if (++src->total > CFG_MAX_FILE)
			return LINE_BOUND;
		if (c == '\n') {
			eol = true;
			if (n < CFG_MAX_LINE - 1)
				line[n++] = (char)c;
			break;
		}
		len++;
		if (!c)
			nul = true;
		if (n < CFG_MAX_LINE - 2)
			line[n++] = (char)c;
	}
	line[n] = '\0';
	if (src->f && ferror(src->f))
		return LINE_ERR;
	if (!len && !eol)
		return LINE_EOF;
	if (nul)
		return LINE_NUL;
	return len > CFG_MAX_LINE - 2 ? LINE_LONG : LINE_OK;
}

_Thread_local struct dp_config *cfg_cur_conf;  /* per thread: a reload parses on a thread of its own */

static int parse_stream_conf(struct dp_config *conf, const char *name, struct line_src *src);

/* parse_stream() with cfg_cur_conf set to conf meanwhile. */
static int parse_stream(struct dp_config *conf, const char *name, struct line_src *src)
{
	struct dp_config *prev = cfg_cur_conf;
	int r;

	cfg_cur_conf = conf;
	r = parse_stream_conf(conf, name, src);
	cfg_cur_conf = prev;
	return r;
}

static int parse_stream_conf(struct dp_config *conf, const char *name, struct line_src *src)
{
	struct cfg_ctx ctx = { .conf = conf, .file = name, .section = CFG_SEC_NONE };
	char *line = malloc(CFG_MAX_LINE);
	char *words = malloc(CFG_MAX_LINE + CFG_MAX_ARGS);
	char *argv[CFG_MAX_ARGS];

	if (!line || !words) {
		free(line);
		free(words);
		ha_alert("config : out of memory while reading '%s'", name);
		return 1;
	}
	for (;;) {
		enum line_res res = read_line(src, line);
		char *err = NULL;
		int argc;

		if (res == LINE_EOF)
			break;
		ctx.line++;
		if (res == LINE_ERR) {
			cfg_alert(&ctx, "read error: %s", strerror(errno));
			break;
		}
		if (res == LINE_BOUND) {
			cfg_alert(&ctx, "file larger than %u MiB: not read further", CFG_MAX_FILE >> 20);
			break;
		}
		if (res == LINE_NUL) {
			cfg_alert(&ctx, "line contains a NUL byte (not a text file?)");
			continue;
		}
		if (res == LINE_LONG) {
			cfg_alert(&ctx, "line too long (more than %d bytes)", CFG_MAX_LINE - 2);
			continue;
		}
		argc = cfg_tokenize(line, argv, CFG_MAX_ARGS, words, CFG_MAX_LINE + CFG_MAX_ARGS, &err);
		if (argc < 0) {
			cfg_alert(&ctx, "%s", err);
			free(err);
			continue;
		}
		if (argc == 0)
			continue;
		parse_line(&ctx, argc, argv);
	}
	free(line);
	free(words);
	return ctx.errors;
}

static int record_file(struct cfg_files *files, const char *path)
{
	char **v;

	if (!files)
		return 0;
	v = realloc(files->v, (files->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	files->v = v;
	v[files->n] = strdup(path);
	if (!v[files->n])
		return -ENOMEM;
	files->n++;
	return 0;
}

void cfg_files_free(struct cfg_files *files)
{
	for (size_t i = 0; i < files->n; i++)
		free(files->v[i]);
	free(files->v);
	files->v = NULL;
	files->n = 0;
}

static int (*path_opener)(const char *path, int flags);

void cfg_set_opener(int (*fn)(const char *path, int flags))
{
	path_opener = fn;
}

/* open(2), or the opener a module set (cfg_set_opener); sets errno. */
static int cfg_open(const char *path, int flags)
{
	int fd;

	if (!path_opener)
		return open(path, flags);
	fd = path_opener(path, flags);
	if (fd < 0) {
		errno = -fd;
		return -1;
	}
	return fd;
}

/* Opens path for reading if it is a regular file. O_NONBLOCK: opening a
 * FIFO must not wait for a writer (it is refused right after). Returns the
 * stream or NULL with the alert printed and *e set. */
static FILE *open_regular(const char *path, int *e)
{
	struct stat st;
	FILE *f;
	int fd;

	fd = cfg_open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		*e = errno;
		ha_alert("config : could not open configuration file '%s' : %s", path, strerror(*e));
		return NULL;
	}
	if (fstat(fd, &st) < 0) {
		*e = errno;
		ha_alert("config : could not open configuration file '%s' : %s", path, strerror(*e));
		close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		*e = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		ha_alert("config : could not open configuration file '%s' : not a regular file (%s)", path,
			 file_kind(st.st_mode));
		close(fd);
		return NULL;
	}
	f = fdopen(fd, "r");
	if (!f) {
		*e = errno;
		ha_alert("config : could not open configuration file '%s' : %s", path, strerror(*e));
		close(fd);
	}
	return f;
}

static int parse_file(struct dp_config *conf, struct cfg_files *files, const char *path)
{
	struct line_src src = { 0 };
	int ret, e = 0;

	src.f = open_regular(path, &e);
	if (!src.f)
		return -e;
	if (record_file(files, path) < 0) {
		fclose(src.f);
		return -ENOMEM;
	}
	ret = parse_stream(conf, path, &src);
	fclose(src.f);
	return ret;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int cfg_parse_path(struct dp_config *conf, struct cfg_files *files, const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;
	int errors = 0;

	if (path_opener) {
		/* through the opener: the path may be out of reach of stat() */
		int fd = cfg_open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

		if (fd < 0 || fstat(fd, &st) < 0) {
			int e = errno;

			if (fd >= 0)
				close(fd);
			ha_alert("config : could not open configuration file '%s' : %s", path, strerror(e));
			return -e;
		}
		close(fd);
	} else if (stat(path, &st) < 0) {
		int e = errno;

		ha_alert("config : could not open configuration file '%s' : %s", path, strerror(e));
		return -e;
	}
	if (!S_ISDIR(st.st_mode))
		return parse_file(conf, files, path);

	/* A directory: every regular "*.cfg" file in lexical order, as HAProxy. */
	if (path_opener) {
		int fd = cfg_open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		d = fd >= 0 ? fdopendir(fd) : NULL;
		if (!d && fd >= 0)
			close(fd);
	} else {
		d = opendir(path);
	}
	if (!d) {
		int e = errno;

		ha_alert("config : could not open configuration directory '%s' : %s", path, strerror(e));
		return -e;
	}
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		char **v;

		if (l < 5 || strcmp(de->d_name + l - 4, ".cfg") || de->d_name[0] == '.')
			continue;
		v = realloc(names, (n + 1) * sizeof(*v));
		if (!v)
			break;
		names = v;
		if (asprintf(&names[n], "%s/%s", path, de->d_name) < 0)
			break;
		n++;
	}
	closedir(d);
	/* a directory without a *.cfg file leaves names NULL, which qsort()
	 * must not be given, even with no element */
	if (n > 1)
		qsort(names, n, sizeof(*names), cmp_str);
	/* every *.cfg entry is read: one that is not a regular file (a FIFO,
	 * a device, a directory, a dangling link) is named as an error rather
	 * than skipped in silence */
	for (size_t i = 0; i < n; i++) {
		int r = parse_file(conf, files, names[i]);

		errors += r < 0 ? 1 : r;
		free(names[i]);
	}
	free(names);
	return errors;
}

int cfg_parse_mem(struct dp_config *conf, const char *name, const char *buf, size_t len)
{
	struct line_src src = { .p = buf, .end = buf + len };

	return parse_stream(conf, name, &src);
}

int cfg_parse_buffer(struct dp_config *conf, const char *name, const char *buf)
{
	return cfg_parse_mem(conf, name, buf, strlen(buf));
}
