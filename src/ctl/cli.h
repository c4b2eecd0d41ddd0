/* cli.h — the command line interface on the stats sockets: HAProxy's CLI
 * subset (show info/stat/sess, server state changes, shutdown session,
 * reload) and decoyproxy's own commands: show/add/del intercept (runtime
 * decoy changes, tproxy.h) and show network (the objects of `network`
 * sections, netseg.h).
 *
 * Configuration (global section), as in HAProxy:
 *   stats socket <path>|unix@<path>|ipv4@<ip>:<port>|ipv6@<ip>:<port>
 *                [mode <octal>] [level user|operator|admin]
 *                [user <name>|uid <n>] [group <name>|gid <n>]
 *   stats timeout <time>     a client that makes no progress for that long
 *                            (a complete line received, every answer
 *                            written) is closed (default 10s)
 *   stats maxconn <n>        CLI clients at once on each socket (default 10;
 *                            HAProxy counts all sockets together)
 *
 * The command interpreter is separate from the socket I/O: cli_exec_line()
 * runs one input line on the running configuration (rt.conf) and the session
 * list, and appends the answer to a cli_buf. The sockets are listeners of
 * the listener layer (core/listener.h) on bind lines the CLI owns; their
 * accept callback attaches a CLI client, which only moves bytes, with
 * backpressure: the next command of a line, or the next line, runs only
 * while the answers before it are (almost) written.
 */
#ifndef DECOYPROXY_CLI_H
#define DECOYPROXY_CLI_H

#include "cfg/cfg.h"
#include "model/bind.h"
#include "model/conf.h"

/* `stats socket|timeout|maxconn` (global section). */
extern const struct cfg_kw_list cli_kw_list;

/* The owner of the stats sockets' bind lines, registered with the listener
 * layer (listener_register_owner) by the module table. */
extern const struct bind_owner cli_bind_owner;

/* ---- a generation's stats sockets (module table hooks) ---- */

/* Opens c's stats sockets; on reload (oldc != NULL) a socket at the same
 * address (unix path or ip:port) is taken over from oldc instead of
 * re-created, so it never stops answering; its mode and owner are
 * re-applied when they changed and its new level applies to new
 * connections. A unix socket file left by a dead process (nothing accepts
 * on it) is replaced; a live one is an error. All or nothing: on failure
 * every socket c opened is closed, taken-over sockets go back to oldc, and
 * *err says why. Safe when neither generation has `stats` lines. Needs
 * rt.loop. Returns 0 or -errno with *err. */
int cli_open(struct dp_config *c, struct dp_config *oldc, char **err);
/* A later module failed: c's sockets go back to oldc or are closed. */
void cli_undo(struct dp_config *c, struct dp_config *oldc);
/* c is in service: its sockets accept (with c's `stats maxconn` and, for
 * new clients, `stats timeout`); oldc's remaining sockets close
 * (cli_close). oldc may be NULL. */
void cli_commit(struct dp_config *c, struct dp_config *oldc);
/* Closes the sockets c still owns (those not taken over) and removes their
 * unix socket files if the file is still the one created here. Connected
 * CLI clients belong to the process, not to a generation: they survive a
 * reload and are only closed when c is the generation in service
 * (shutdown). Safe when c has no `stats` lines. */
void cli_close(struct dp_config *c);

/* Set by main: performs a reload like SIGUSR2; returns 0 on success or
 * -errno, with *msg describing the outcome (errors included). */
extern int (*cli_reload_hook)(char **msg);
/* Set by main too (may stay NULL): before a `reload` command installs its
 * message capture, finishes a reload signal's parse still running on its
 * own thread (ctl/reload_int.h), so that the capture only ever sees this
 * thread's messages. */
extern void (*cli_reload_drain)(void);

/* ---- command interpreter (no I/O; used by the clients and by tests) ---- */

enum cli_level {
	CLI_LVL_USER = 1,       /* read non-sensitive stats only */
	CLI_LVL_OPER = 2,       /* HAProxy's default: all reads (show sess) */
	CLI_LVL_ADMIN = 3,      /* everything: server states, kill, reload */
};

/* Soft cap on the answer to one connection before it is written out. */
#define CLI_OUT_MAX (32u << 20)
/* Longest command line accepted (HAProxy's default buffer size). */
#define CLI_LINE_MAX 16384
/* Most commands run from one line; the rest is answered by one message. */
#define CLI_MAX_CMDS 1024

/* A growing output buffer. Lines are appended whole or not at all: once
 * appending would exceed `max` (0 = CLI_OUT_MAX), `truncated` is set and
 * further lines are dropped, so a cut answer still has only whole lines. */
struct cli_buf {
	char *data;
	size_t len, cap;
	size_t max;
	bool truncated;
};

/* Frees the data and resets the buffer (max is kept). */
void cli_buf_reset(struct cli_buf *b);
/* The cap of b (max, or CLI_OUT_MAX). */
size_t cli_buf_max(const struct cli_buf *b);
/* Appends n bytes whatever the cap (terminators, prompt, notes). */
void cli_put(struct cli_buf *b, const char *s, size_t n);
void cli_puts(struct cli_buf *b, const char *s);
/* Appends whole lines within the cap, or nothing and marks the buffer
 * truncated: a cut answer never ends in the middle of a line. */
void cli_lines(struct cli_buf *b, const char *s, size_t n);
/* Formats whole lines within the cap (cli_lines). */
void cli_printf(struct cli_buf *b, const char *fmt, ...) DP_PRINTF(2, 3);

/* State of one CLI conversation. */
struct cli_ctx {
	int level;              /* CLI_LVL_*; `user`/`operator` may lower it */
	bool interactive;       /* `prompt` mode: stay connected, print "> " */
	bool quit;              /* close once the answer is written */
};

/* Runs one input line (without its "\n"; a trailing "\r" is ignored):
 * commands separated by ';' ("\;" is a literal ';', a backslash escapes the
 * next character), each answered by its output followed by an empty line
 * (an empty command answers that empty line only), and in interactive mode
 * a "> " prompt after the line. At most CLI_MAX_CMDS commands run; one
 * message answers the rest. `quit` (and leaving interactive mode) set
 * cx->quit; commands after `quit` are not run. Never fails: errors are
 * answers. Reads rt.conf, sess_list and rt; may change
 * server states, kill sessions or reload. */
void cli_exec_line(struct cli_ctx *cx, const char *line, struct cli_buf *out);

/* Serves the CLI on an already connected stream socket (made non-blocking
 * here) like a client accepted on a stats socket of that level, with the
 * `stats timeout` of the generation in service. Takes the fd in every case:
 * this module closes it when the conversation ends or on error. Needs
 * rt.loop. Returns 0, or -EINVAL / -ENOMEM. */
int cli_attach(int fd, int level);

/* ---- statistics rows: `show stat`, and the statistics page ---- */

struct proxy;
struct server;
/* One row of `show stat`: HAProxy's CSV columns, as strings. */
struct stat_row;

/* Appends what `show stat` answers (header and every row of the running
 * configuration, HAProxy's CSV; with up_only, servers not usable are left
 * out as with `show stat up`), without the CLI's closing empty line. */
void cli_stat_csv(struct cli_buf *out, bool up_only);
/* Calls fn for every row of the running configuration, in the order of
 * `show stat`: px is the row's proxy, s its server (NULL for a FRONTEND or
 * BACKEND row). The row lives during the call only. */
typedef void (*cli_stat_fn)(void *arg, const struct stat_row *r, const struct proxy *px, const struct server *s);
void cli_stat_walk(cli_stat_fn fn, void *arg);
/* The index of HAProxy's CSV column `name` ("scur", "status"...), or -1. */
int cli_stat_col(const char *name);
/* A field of a row (NULL: empty, or no such column). */
const char *cli_stat_field(const struct stat_row *r, int col);

/* Number of connected CLI clients. */
unsigned cli_count(void);
/* Bytes of answers waiting to be written, all CLI clients together. */
size_t cli_queued(void);

#endif
