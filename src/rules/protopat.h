/* protopat.h — protocol patterns: `req.proto` extended by PCRE2 regexes
 * read from files named in the global section:
 *
 *   global
 *       proto-patterns /etc/decoyproxy/protocols.pat
 *
 * Each non-empty, non-comment line of such a file is
 *   <name> <regex>
 * (the regex is the rest of the line, leading and trailing blanks cut).
 * Every regex is compiled once when the configuration is loaded (JIT, with
 * partial matching) and runs within the match limits of rules/regex.h; a
 * reload reads the files again. On each chunk the patterns are tried on
 * the request bytes from the first byte, alongside the built-in probes of
 * lib/proto_detect.h: a pattern that matches names the protocol (the
 * first one in file order wins, before any built-in probe); a pattern that
 * could still match when more bytes come (a partial match up to the last
 * byte) waits like a built-in probe that needs more bytes, never past the
 * final pass. The patterns belong to the configuration generation. */
#ifndef DECOYPROXY_PROTOPAT_H
#define DECOYPROXY_PROTOPAT_H

#include "lib/common.h"
#include "lib/proto_detect.h"

struct dp_config;
struct cfg_kw_list;

/* The `proto-patterns` keyword (global section). */
extern const struct cfg_kw_list protopat_kw_list;

/* Loads the patterns of path into generation c (after those already
 * loaded). Returns 0, or -1 with *err naming the file and line. */
int protopat_load(struct dp_config *c, const char *path, char **err);

/* Number of patterns loaded into c (0 when c is NULL). */
size_t protopat_count(const struct dp_config *c);

/* Whether name is the name of one of c's patterns. */
bool protopat_known(const struct dp_config *c, const char *name);

/* Classifies buf[0..len): c's patterns, then the built-in probes
 * (pd_classify). Returns PD_DEFINITE with *name (static, or owned by c),
 * PD_NEED_MORE (never when final), or PD_NO with *name "unknown" or
 * "silent" (final and len 0). */
enum pd_verdict protopat_classify(const struct dp_config *c, const uint8_t *buf, size_t len, bool final,
				  const char **name);

#endif
