/* cli_int.h — private to the CLI module: its configuration (cli_kw.c), the
 * output helpers and lookups every command uses (cli.c, cli_cmds.c), and
 * the commands the table in cli.c names (cli_stat.c, cli_cmds.c).
 *
 * Files of the module:
 *   cli_kw.c    `stats socket|timeout|maxconn`: the generation's cli_conf
 *   cli.c       output buffer, command table, interpreter, clients, and
 *               the stats sockets' side of the listener layer
 *   cli_stat.c  show stat (CSV), show info
 *   cli_cmds.c  sessions, server states, reload, intercept, network
 *   cli_rules.c maps and ACL patterns (show/add/set/del/clear)
 */
#ifndef DECOYPROXY_CLI_INT_H
#define DECOYPROXY_CLI_INT_H

#include "lib/common.h"
#include "model/bind.h"
#include "model/conf.h"
#include "ctl/cli.h"

struct proxy;
struct server;

/* ---- configuration (cli_kw.c) ---- */

/* One `stats socket` line: a bind line of the CLI's (owner cli_bind_owner,
 * one listener: a unix path or a TCP address) and the level its clients
 * get. bc first: bind_conf_alloc / bind_conf_free handle the whole. */
struct cli_bind {
	struct bind_conf bc;
	int level;              /* CLI_LVL_* given to accepted clients */
};

/* A generation's `stats` settings (a model/conf.h extension). */
struct cli_conf {
	struct conf_ext ext;
	struct bind_conf *binds, *last;   /* struct cli_bind's */
	long long timeout_ms;
	unsigned maxconn;
};

#define CLI_DEFAULT_TIMEOUT_MS 10000      /* HAProxy's default `stats timeout` */
#define CLI_DEFAULT_MAXCONN    10         /* HAProxy's default `stats maxconn` */

/* c's `stats` settings, or NULL when it has none (c may be NULL). */
struct cli_conf *cli_conf_of(const struct dp_config *c);
/* c's `stats timeout` / `stats maxconn`, or the defaults. */
long long cli_conf_timeout_ms(const struct dp_config *c);
unsigned cli_conf_maxconn(const struct dp_config *c);

static inline struct cli_bind *cli_bind_of(const struct bind_conf *bc)
{
	return container_of(bc, struct cli_bind, bc);
}

/* The stats sockets' accept callback (cli.c): attaches a CLI client at
 * the level of l's `stats socket` line; takes fd. */
void cli_accept(struct listener *l, int fd, const struct sockaddr_storage *peer);

/* "user", "operator", "admin", indexed by CLI_LVL_*. */
extern const char *const cli_level_names[];

/* ---- output (cli.c) ---- */

/* (cli_buf_max, cli_put, cli_puts, cli_lines, cli_printf: cli.h) */
/* Appends a text that may hold several lines (messages from other modules),
 * each prefixed by pfx (NULL: none), dropping empty lines (they would end
 * the answer early) and control bytes. */
void cli_msg_lines(struct cli_buf *b, const char *pfx, const char *msg);

/* ---- lookups in the running configuration (cli_cmds.c) ---- */

/* A proxy of rt.conf with one of the cap bits, by name or "#<iid>"
 * (numbered from 1 in file order), or NULL. */
struct proxy *cli_proxy_by_ref(const char *ref, unsigned cap);
/* Resolves "<backend>/<server>" (names or #ids) or answers why not, with
 * HAProxy's messages. */
struct server *cli_find_server(const char *arg, struct cli_buf *out);

/* ---- process facts (cli_stat.c) ---- */

/* Notes the process start (wall clock and monotonic) on the first call:
 * the first generation's sockets are opened before the loop runs. */
void cli_note_start(void);

/* ---- commands: argv[0..] are the words of the command ---- */

typedef void (*cli_fn)(struct cli_ctx *cx, int argc, char **argv, struct cli_buf *out);

/* cli_stat.c */
void cli_cmd_show_stat(struct cli_ctx *cx, int argc, char **argv, struct cli_buf *out);
void cli_cmd_show_info(struct cli_ctx *cx, int argc, char **argv, struct cli_buf *out);
void cli_cmd_clear_counters(struct cli_ctx *cx, int argc, char **argv, struct cli_buf *out);
/* show mirror: one line per IDS copy output (core/mirror.h) */
void cli_cmd_show_mirror(struct cli_ctx *cx, int argc, char **argv, struct cli_buf *out);
/* cli_cmds.c */
void cli_cmd_show_servers_state(struct cli_ctx *cx, int argc, char **argv, struct cli_buf *out);
void cli_cmd_show_sess(struct cli_ctx *cx, int argc, char **argv, struct cli_buf *out);
void cli_cmd_shutdown_session(struct cli_ctx *cx, int argc, char **argv, struct cli_buf *out);
void cli_cmd_shutdown_sessions_server(struct cli_ctx *cx, int argc, char **argv, struct cli_buf *out);
void cli_cmd_disable_server(struct cli_ctx *cx, int argc, char **argv, struct cli_buf *out);
void cli_cmd_enable_server(struct cli_ctx *cx, int argc, char **argv, struct cli_buf *out);
void cli_cmd_set_server(struct cli_ctx *cx, int argc, char **argv, struct cli_buf *out);
void cli_cmd_reload(struct cli_ctx *cx, int argc, char **argv, struct cli_buf *out);
void cli_cmd_show_intercept(struct cli_ctx *cx, int argc, char **argv, struct cli_buf *out);
void cli_cmd_change_intercept(struct cli_ctx *cx, int argc, char **argv, struct cli_buf *out);
void cli_cmd_show_network(struct cli_ctx *cx, int argc, char **argv, struct cli_buf *out);
/* cli_rules.c: maps and ACL patterns */
void cli_cmd_show_map(struct cli_ctx *cx, int argc, char **argv, struct cli_buf *out);
void cli_cmd_show_acl(struct cli_ctx *cx, int argc, char **argv, struct cli_buf *out);
void cli_cmd_change_pattern(struct cli_ctx *cx, int argc, char **argv, struct cli_buf *out);
/* cli_stktable.c: stick tables */
void cli_cmd_show_table(struct cli_ctx *cx, int argc, char **argv, struct cli_buf *out);
void cli_cmd_clear_table(struct cli_ctx *cx, int argc, char **argv, struct cli_buf *out);

#endif
