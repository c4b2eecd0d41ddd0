/* cli.c — the command line interface: output buffer, command table,
 * interpreter, clients, and the stats sockets' side of the listener layer.
 *
 * Three layers, each usable without the next:
 *   - the interpreter: cli_exec_line() turns one input line into answers
 *     in a cli_buf, reading the running configuration and the sessions
 *     (the commands live in cli_stat.c and cli_cmds.c);
 *   - clients: a CLI client belongs to the process and survives reloads. It
 *     reads while its line buffer has room but runs the next command only
 *     while less than CLI_OUT_LOWAT of earlier answers waits to be written:
 *     a slow or absent reader of a huge `show sess`, or of a line of 1,024
 *     commands, costs one capped answer of memory and never blocks the
 *     event loop. Its `stats timeout` counts from its last progress (a
 *     complete line received, every answer written), never from a byte;
 *   - sockets: each `stats socket` line is a bind line owned by the CLI
 *     (cli_kw.c) and its listener is the listener layer's, as a frontend's:
 *     the same opening (unix sockets with mode, owner and stale-file
 *     removal, or TCP), the same takeover of an unchanged socket across a
 *     reload (a stats socket never stops answering), the same accept loop
 *     and fd-exhaustion pause. The CLI keeps them apart from the proxies:
 *     they are not in any proxy, so they are neither shown by `show stat`,
 *     nor counted as listeners (`-c` exit code 2, `show info`), nor paused
 *     by SIGTTOU, closed by a soft stop or limited by the global and
 *     frontend maxconn; what admits a connection is `stats maxconn` alone
 *     (per socket, cli_bind_owner), and accepting one attaches a CLI
 *     client, never a session (so none is logged).
 *
 * Behaviour follows HAProxy 2.6's management guide (section 9.3) and what its
 * CLI answers: every answer ends with an empty line, `prompt` toggles the
 * interactive mode, several commands per line are separated by ';', refused
 * commands answer "Permission denied", unknown ones the list of commands.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <ev.h>

#include "lib/addr.h"
#include "log/msg.h"
#include "model/bind.h"
#include "model/conf.h"
#include "core/listener.h"
#include "core/loop.h"
#include "core/thread.h"
#include "ctl/cli.h"
#include "ctl/cli_int.h"

#define CLI_MAX_WORDS          64
#define CLI_WRITE_BURST        16      /* send() calls per wakeup */
/* A client's next command runs only while less than this is waiting to be
 * written: a reader that does not keep up stops the interpretation, so a
 * client costs at most this plus one answer. */
#define CLI_OUT_LOWAT          16384

/* ---- output buffer -------------------------------------------------------- */

size_t cli_buf_max(const struct cli_buf *b)
{
	return b->max ? b->max : CLI_OUT_MAX;
}

static int buf_reserve(struct cli_buf *b, size_t add)
{
	size_t need = b->len + add + 1, cap;
	char *d;

	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 4096;
	while (cap < need)
		cap *= 2;
	d = realloc(b->data, cap);
	if (!d)
		return -ENOMEM;
	b->data = d;
	b->cap = cap;
	return 0;
}

void cli_put(struct cli_buf *b, const char *s, size_t n)
{
	if (buf_reserve(b, n) < 0) {
		b->truncated = true;
		return;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void cli_puts(struct cli_buf *b, const char *s)
{
	cli_put(b, s, strlen(s));
}

void cli_lines(struct cli_buf *b, const char *s, size_t n)
{
	if (b->truncated || b->len + n > cli_buf_max(b)) {
		b->truncated = true;
		return;
	}
	cli_put(b, s, n);
}

void cli_printf(struct cli_buf *b, const char *fmt, ...)
{
	char small[512], *big = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		cli_lines(b, small, (size_t)n);
		return;
	}
	va_start(ap, fmt);
	n = vmemprintf(&big, fmt, ap);
	va_end(ap);
	if (n >= 0)
		cli_lines(b, big, (size_t)n);
	else
		b->truncated = true;
	free(big);
}

void cli_buf_reset(struct cli_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->truncated = false;
}

void cli_msg_lines(struct cli_buf *b, const char *pfx, const char *msg)
{
	while (*msg) {
		size_t n = strcspn(msg, "\n");
		char *line;

		if (n) {
			line = strndup(msg, n);
			if (!line) {
				b->truncated = true;
				return;
			}
			for (char *p = line; *p; p++)
				if ((unsigned char)*p < 0x20 || *p == 0x7f)
					*p = ' ';
			cli_printf(b, "%s%s%s\n", pfx ? pfx : "", pfx ? " " : "", line);
			free(line);
		}
		msg += n;
		if (*msg)
			msg++;
	}
}

/* ---- small commands ------------------------------------------------------------ */

static void cmd_show_cli_level(struct cli_ctx *cx, int argc, char **argv, struct cli_buf *out)
{
	cli_printf(out, "%s\n", cli_level_names[cx->level]);
}

static void cmd_show_cli_sockets(struct cli_ctx *cx, int argc, char **argv, struct cli_buf *out)
{
	const struct cli_conf *sc = cli_conf_of(rt.conf);

	cli_printf(out, "# socket lvl processes\n");
	for (const struct bind_conf *bc = sc ? sc->binds : NULL; bc; bc = bc->next) {
		const struct sockaddr_storage *ss = &bc->listeners->addr;
		char a[sizeof(((struct sockaddr_un *)0)->sun_path) + 8];

		if (ss->ss_family == AF_UNIX)
			snprintf(a, sizeof(a), "unix@%s", ((const struct sockaddr_un *)ss)->sun_path);
		else
			addr_str(ss, a, sizeof(a));
		cli_printf(out, "%s %s all\n", a, cli_level_names[cli_bind_of(bc)->level]);
	}
}

static void cmd_user(struct cli_ctx *cx, int argc, char **argv, struct cli_buf *out)
{
	cx->level = CLI_LVL_USER;
}

static void cmd_operator(struct cli_ctx *cx, int argc, char **argv, struct cli_buf *out)
{
	if (cx->level < CLI_LVL_OPER)
		cli_printf(out, "Permission denied\n");
	else
		cx->level = CLI_LVL_OPER;
}

static void cmd_prompt(struct cli_ctx *cx, int argc, char **argv, struct cli_buf *out)
{
	cx->interactive = !cx->interactive;
	/* leaving interactive mode ends the conversation after this line */
	if (!cx->interactive)
		cx->quit = true;
}

static void cmd_quit(struct cli_ctx *cx, int argc, char **argv, struct cli_buf *out)
{
	cx->quit = true;
}

static void cmd_help(struct cli_ctx *cx, int argc, char **argv, struct cli_buf *out);

/* ---- command table ------------------------------------------------------------- */

typedef void (*cli_fn)(struct cli_ctx *cx, int argc, char **argv, struct cli_buf *out);

struct cli_cmd {
	const char *words[4];       /* the command's fixed words, NULL-ended */
	const char *usage;
	const char *desc;
	int level;                  /* lowest level allowed */
	bool always;                /* listed at the end of every help */
	cli_fn fn;
};

/* Levels follow HAProxy 2.6: `show sess` needs operator; killing sessions,
 * changing servers (and reloading) need admin. decoyproxy's own: the decoy
 * list and the segments' objects are operator reads (they reveal the
 * honeypot's layout), changing the decoys is admin. */
static const struct cli_cmd cli_cmds[] = {
	{ { "add", "acl" }, "add acl <acl> <pattern>", "add a pattern to an ACL until the next reload",
	  CLI_LVL_ADMIN, false, cli_cmd_change_pattern },
	{ { "add", "map" }, "add map <map> <key> <value>", "add an entry to a map until the next reload",
	  CLI_LVL_ADMIN, false, cli_cmd_change_pattern },
	{ { "clear", "acl" }, "clear acl <acl>", "remove every pattern of an ACL until the next reload",
	  CLI_LVL_ADMIN, false, cli_cmd_change_pattern },
	{ { "clear", "counters" }, "clear counters [all]", "reset the statistics counters (all: the proxies' and servers' cumulated ones)",
	  CLI_LVL_OPER, false, cli_cmd_clear_counters },
	{ { "clear", "map" }, "clear map <map>", "remove every entry of a map until the next reload",
	  CLI_LVL_ADMIN, false, cli_cmd_change_pattern },
	{ { "clear", "table" }, "clear table <table> [data.<type> <op> <v>] [key <k>]", "remove entries of a stick table",
	  CLI_LVL_ADMIN, false, cli_cmd_clear_table },
	{ { "del", "acl" }, "del acl <acl> <pattern>", "remove a pattern from an ACL until the next reload",
	  CLI_LVL_ADMIN, false, cli_cmd_change_pattern },
	{ { "del", "map" }, "del map <map> <key>", "remove the entries of a key until the next reload",
	  CLI_LVL_ADMIN, false, cli_cmd_change_pattern },
	{ { "add", "intercept" }, "add intercept <fe> <spec>...", "intercept more decoys until the next reload",
	  CLI_LVL_ADMIN, false, cli_cmd_change_intercept },
	{ { "del", "intercept" }, "del intercept <fe> <spec>...", "stop intercepting decoys until the next reload",
	  CLI_LVL_ADMIN, false, cli_cmd_change_intercept },
	{ { "disable", "server" }, "disable server <bk>/<srv>", "put a server in maintenance (= set server state maint)",
	  CLI_LVL_ADMIN, false, cli_cmd_disable_server },
	{ { "enable", "server" }, "enable server <bk>/<srv>", "make a server ready again (= set server state ready)",
	  CLI_LVL_ADMIN, false, cli_cmd_enable_server },
	{ { "operator" }, "operator", "lower the level of this CLI connection to operator",
	  CLI_LVL_USER, false, cmd_operator },
	{ { "reload" }, "reload", "re-read the configuration and apply it in place (Success=0|1)",
	  CLI_LVL_ADMIN, false, cli_cmd_reload },
	{ { "set", "map" }, "set map <map> <key> <value>", "change the value of a key until the next reload",
	  CLI_LVL_ADMIN, false, cli_cmd_change_pattern },
	{ { "set", "server" }, "set server <bk>/<srv> state <st>", "set a server ready, drain or maint",
	  CLI_LVL_ADMIN, false, cli_cmd_set_server },
	{ { "show", "acl" }, "show acl [<acl>]", "list the ACL pattern lists, or the patterns of one",
	  CLI_LVL_OPER, false, cli_cmd_show_acl },
	{ { "show", "cli", "level" }, "show cli level", "show the level of this CLI connection",
	  CLI_LVL_USER, false, cmd_show_cli_level },
	{ { "show", "cli", "sockets" }, "show cli sockets", "list the stats sockets",
	  CLI_LVL_USER, false, cmd_show_cli_sockets },
	{ { "show", "info" }, "show info", "report information about the running process",
	  CLI_LVL_USER, false, cli_cmd_show_info },
	{ { "show", "intercept" }, "show intercept [<fe>]", "list the decoys each frontend intercepts, as installed",
	  CLI_LVL_OPER, false, cli_cmd_show_intercept },
	{ { "show", "map" }, "show map [<map>]", "list the maps, or the entries of one",
	  CLI_LVL_OPER, false, cli_cmd_show_map },
	{ { "show", "mirror" }, "show mirror", "the IDS copy's outputs: frames written, bytes, frames dropped",
	  CLI_LVL_USER, false, cli_cmd_show_mirror },
	{ { "show", "network" }, "show network [<section>]", "list the objects of the network sections",
	  CLI_LVL_OPER, false, cli_cmd_show_network },
	{ { "show", "servers", "state" }, "show servers state [<backend>]",
	  "the servers' state, in HAProxy's server-state file format", CLI_LVL_USER, false, cli_cmd_show_servers_state },
	{ { "show", "sess" }, "show sess", "list the current sessions",
	  CLI_LVL_OPER, false, cli_cmd_show_sess },
	{ { "show", "stat" }, "show stat [<px> <type> <sid>] [up|no-maint]", "CSV counters of every proxy and server",
	  CLI_LVL_USER, false, cli_cmd_show_stat },
	{ { "show", "table" }, "show table [<table> [data.<type> <op> <v>] [key <k>]]", "list the stick tables, or the entries of one",
	  CLI_LVL_OPER, false, cli_cmd_show_table },
	{ { "shutdown", "session" }, "shutdown session <id>", "kill one session (logged with state K)",
	  CLI_LVL_ADMIN, false, cli_cmd_shutdown_session },
	{ { "shutdown", "sessions", "server" }, "shutdown sessions server <bk>/<srv>", "kill every session of a server",
	  CLI_LVL_ADMIN, false, cli_cmd_shutdown_sessions_server },
	{ { "user" }, "user", "lower the level of this CLI connection to user",
	  CLI_LVL_USER, false, cmd_user },
	{ { "help" }, "help [<command>]", "list matching or all commands", CLI_LVL_USER, true, cmd_help },
	{ { "prompt" }, "prompt", "toggle interactive mode with prompt", CLI_LVL_USER, true, cmd_prompt },
	{ { "quit" }, "quit", "disconnect", CLI_LVL_USER, true, cmd_quit },
};

static int cmd_nwords(const struct cli_cmd *c)
{
	int n = 0;

	while (n < (int)ARRAY_SIZE(c->words) && c->words[n])
		n++;
	return n;
}

/* The command whose fixed words begin argv, the longest one. */
static const struct cli_cmd *cmd_find(int argc, char **argv)
{
	const struct cli_cmd *best = NULL;
	int best_n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(cli_cmds); i++) {
		const struct cli_cmd *c = &cli_cmds[i];
		int n = cmd_nwords(c), k;

		if (n > argc || n <= best_n)
			continue;
		for (k = 0; k < n && !strcmp(c->words[k], argv[k]); k++)
			;
		if (k == n) {
			best = c;
			best_n = n;
		}
	}
	return best;
}

/* Does c begin with the nf words of the filter? */
static bool cmd_matches(const struct cli_cmd *c, int nf, char **filter)
{
	int n = cmd_nwords(c);

	if (nf > n)
		return false;
	for (int k = 0; k < nf; k++)
		if (strcmp(c->words[k], filter[k]))
			return false;
	return true;
}

static void help_line(struct cli_buf *out, const struct cli_cmd *c)
{
	cli_printf(out, "  %-40s: %s\n", c->usage, c->desc);
}

/* The commands allowed at this level that begin with the filter words, or
 * every one when none does, then help, prompt and quit. Returns how many
 * matched the filter. */
static int help_list(const struct cli_ctx *cx, struct cli_buf *out, int nf, char **filter)
{
	int matched = 0;

	for (size_t i = 0; i < ARRAY_SIZE(cli_cmds); i++)
		if (!cli_cmds[i].always && cli_cmds[i].level <= cx->level && cmd_matches(&cli_cmds[i], nf, filter))
			matched++;
	for (size_t i = 0; i < ARRAY_SIZE(cli_cmds); i++) {
		const struct cli_cmd *c = &cli_cmds[i];

		if (!c->always && c->level <= cx->level && (!matched || cmd_matches(c, nf, filter)))
			help_line(out, c);
	}
	for (size_t i = 0; i < ARRAY_SIZE(cli_cmds); i++)
		if (cli_cmds[i].always)
			help_line(out, &cli_cmds[i]);
	return matched;
}

static void cmd_help(struct cli_ctx *cx, int argc, char **argv, struct cli_buf *out)
{
	cli_printf(out, "The following commands are valid at this level:\n");
	help_list(cx, out, argc - 1, argv + 1);
}

static void cmd_unknown(struct cli_ctx *cx, int argc, char **argv, struct cli_buf *out)
{
	bool family = false;

	for (size_t i = 0; argc && i < ARRAY_SIZE(cli_cmds); i++)
		if (!cli_cmds[i].always && cli_cmds[i].level <= cx->level && !strcmp(cli_cmds[i].words[0], argv[0]))
			family = true;
	if (family) {
		cli_printf(out, "Unknown command, but maybe one of the following ones is a better match:\n");
		help_list(cx, out, 1, argv);
	} else {
		cli_printf(out, "Unknown command. Please enter one of the following commands only:\n");
		help_list(cx, out, 0, NULL);
	}
}

/* ---- interpreter ------------------------------------------------------------ */

static void run_command(struct cli_ctx *cx, int argc, char **argv, struct cli_buf *out)
{
	const struct cli_cmd *c = argc ? cmd_find(argc, argv) : NULL;
	bool was_truncated = out->truncated;

	if (!c)
		cmd_unknown(cx, argc, argv, out);
	else if (c->level > cx->level)
		cli_printf(out, "Permission denied\n");
	else {
		/* commands walk and change state every thread shares (servers,
		 * sessions lists, maps): run with the other threads parked
		 * (core/thread.h); free with one thread */
		if (c->fn == cli_cmd_reload) {
			/* `reload` parses without parking anyone, as SIGUSR2
			 * does: only its activation is isolated */
			c->fn(cx, argc, argv, out);
		} else {
			thread_isolate();
			c->fn(cx, argc, argv, out);
			thread_release();
		}
	}
	if (out->truncated && !was_truncated) {
		char note[96];

		snprintf(note, sizeof(note), "Output truncated: the answer exceeds %zu bytes.\n", cli_buf_max(out));
		cli_puts(out, note);
	}
	/* `quit` answers nothing at all; everything else ends with an empty line */
	if (!c || c->fn != cmd_quit)
		cli_put(out, "\n", 1);
}

/* Reads one command, up to an unescaped ';' or the end, from *pp into
 * words stored in w (at least end - *pp + 1 bytes). A backslash makes the
 * next character part of a word (so "\;" and "\ " are literal). Returns
 * the number of words, or -E2BIG when there are more than max. */
static int parse_command(const char **pp, const char *end, char *w, char **argv, int max)
{
	const char *p = *pp;
	bool in_word = false, overflow = false;
	size_t o = 0;
	int argc = 0;

	for (; p < end && *p != ';'; p++) {
		char ch = *p;

		if (ch == '\\' && p + 1 < end) {
			ch = *++p;
		} else if (ch == ' ' || ch == '\t') {
			if (in_word)
				w[o++] = '\0';
			in_word = false;
			continue;
		}
		if (!in_word) {
			if (argc == max) {
				overflow = true;
				continue;
			}
			argv[argc++] = w + o;
			in_word = true;
		}
		w[o++] = ch;
	}
	if (in_word)
		w[o] = '\0';
	*pp = p;
	return overflow ? -E2BIG : argc;
}

/* A line being interpreted, one command at a time: the CLI clients run
 * the next command only once the previous answers are (almost) written. */
struct cli_line {
	const char *p, *end;    /* the next command; the end of the line */
	char *words;            /* room for the words of any command of it */
	unsigned ncmds;         /* commands run so far */
	bool more;              /* a command (maybe empty) is left */
};

/* Starts interpreting line[0..len) (a trailing "\r" is ignored). Returns 0
 * or -ENOMEM. */
static int line_start(struct cli_line *ln, const char *line, size_t len)
{
	if (len && line[len - 1] == '\r')
		len--;
	ln->words = malloc(len + 1);
	if (!ln->words)
		return -ENOMEM;
	ln->p = line;
	ln->end = line + len;
	ln->ncmds = 0;
	ln->more = true;
	return 0;
}

static void line_end(struct cli_line *ln)
{
	free(ln->words);
	ln->words = NULL;
}

/* Runs the next command of ln into out. Returns true when it ran one (or
 * said why it stopped), false when the line is over: then, in interactive
 * mode, the prompt has been appended. */
static bool line_step(struct cli_ctx *cx, struct cli_line *ln, struct cli_buf *out)
{
	char *argv[CLI_MAX_WORDS];
	int argc;

	if (!ln->more || cx->quit) {
		if (cx->interactive && !cx->quit)
			cli_put(out, "> ", 2);
		return false;
	}
	if (ln->ncmds == CLI_MAX_CMDS) {
		/* a 16 kB line of ';' would otherwise be 16,384 commands */
		cli_printf(out, "Too many commands on one line (at most %d): the rest of the line is ignored.\n\n",
			   CLI_MAX_CMDS);
		ln->more = false;
		return true;
	}
	argc = parse_command(&ln->p, ln->end, ln->words, argv, CLI_MAX_WORDS);
	if (argc < 0)
		cli_printf(out, "Too many words (at most %d per command).\n\n", CLI_MAX_WORDS);
	else if (argc == 0)
		/* an empty command has an empty answer, as in current HAProxy
		 * (3.x; 2.6 printed the whole usage: 1 kB per ';') */
		cli_put(out, "\n", 1);
	else
		run_command(cx, argc, argv, out);
	ln->ncmds++;
	if (ln->p >= ln->end)
		ln->more = false;
	else
		ln->p++; /* the ';' */
	return true;
}

void cli_exec_line(struct cli_ctx *cx, const char *line, struct cli_buf *out)
{
	struct cli_line ln;

	if (line_start(&ln, line, strlen(line)) < 0) {
		cli_puts(out, "Out of memory.\n\n");
		return;
	}
	while (line_step(cx, &ln, out))
		;
	line_end(&ln);
}

/* ---- CLI clients ---------------------------------------------------------------- */

struct cli_client {
	struct cli_client *prev, *next;
	int fd;
	int lfd;                    /* the stats socket it came from (its
				     * listening fd; -1: none, cli_attach) */
	ev_io rio, wio;
	ev_timer timer;
	struct cli_ctx cx;
	double timeout;             /* stats timeout, in seconds */
	ev_tstamp last_act;         /* last progress: connected, a complete
				     * line received, every answer written */
	bool served;                /* at least one line interpreted */
	bool rd_eof;
	bool closing;               /* close once the answer is written */
	bool in_line;               /* `line` is being interpreted */
	struct cli_line line;       /* (its text is the start of in[]) */
	size_t line_len;            /* bytes of in[] it takes, "\n" included */
	struct cli_buf out;
	size_t out_off;             /* bytes of out already written */
	size_t in_len;
	char in[CLI_LINE_MAX];
};

static struct cli_client *clients;
static unsigned nb_clients;
/* The generation whose stats sockets accept, and whose `stats maxconn` and
 * (for new clients) `stats timeout` apply: the last one committed. */
static struct dp_config *active_conf;

static struct bind_conf *in_service(void);

static void io_want(ev_io *w, bool want)
{
	if (want && !ev_is_active(w))
		ev_io_start(rt.loop, w);
	else if (!want && ev_is_active(w))
		ev_io_stop(rt.loop, w);
}

unsigned cli_count(void)
{
	return nb_clients;
}

static size_t client_pending(const struct cli_client *c)
{
	return c->out.len - c->out_off;
}

size_t cli_queued(void)
{
	size_t n = 0;

	for (const struct cli_client *c = clients; c; c = c->next)
		n += client_pending(c);
	return n;
}

static void client_free(struct cli_client *c)
{
	ev_io_stop(rt.loop, &c->rio);
	ev_io_stop(rt.loop, &c->wio);
	ev_timer_stop(rt.loop, &c->timer);
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	line_end(&c->line);
	cli_buf_reset(&c->out);
	free(c);
	nb_clients--;
	listeners_update_list(in_service()); /* a slot is free again */
}

/* Writes what the socket takes. Returns 0, or -1 on a fatal error. */
static int client_write(struct cli_client *c)
{
	for (int i = 0; i < CLI_WRITE_BURST && client_pending(c); i++) {
		ssize_t n = send(c->fd, c->out.data + c->out_off, client_pending(c), MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			c->out_off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		return -1;
	}
	/* a partial write is no progress: a client that reads a byte now
	 * and then must not hold its slot for ever */
	if (!client_pending(c))
		c->last_act = ev_now(rt.loop);
	return 0;
}

/* Makes room for the next answer: drops what was written. Each answer has
 * its own cap (cli_buf's truncation). */
static void client_compact(struct cli_client *c)
{
	size_t left = client_pending(c);

	if (!left) {
		cli_buf_reset(&c->out);
	} else if (c->out_off) {
		memmove(c->out.data, c->out.data + c->out_off, left);
		c->out.len = left;
		c->out.data[left] = '\0';
		c->out.truncated = false;
	}
	c->out_off = 0;
}

/* Runs the next command of the line being interpreted, taking the next
 * complete line of in[] when there is none. Returns false when there is
 * nothing to run yet. */
static bool client_step(struct cli_client *c)
{
	if (!c->in_line) {
		char *nl = memchr(c->in, '\n', c->in_len);

		if (!nl) {
			if (c->in_len < sizeof(c->in))
				return false;
			cli_printf(&c->out, "Line too long (more than %zu bytes).\n\n", sizeof(c->in));
			c->closing = true;
			return true;
		}
		*nl = '\0';
		c->line_len = (size_t)(nl - c->in) + 1;
		/* a complete line is progress; bytes alone are not */
		c->last_act = ev_now(rt.loop);
		if (line_start(&c->line, c->in, c->line_len - 1) < 0) {
			cli_puts(&c->out, "Out of memory.\n\n");
			c->closing = true;
			return true;
		}
		c->in_line = true;
	}
	if (line_step(&c->cx, &c->line, &c->out))
		return true;
	line_end(&c->line);
	c->in_line = false;
	memmove(c->in, c->in + c->line_len, c->in_len - c->line_len);
	c->in_len -= c->line_len;
	c->served = true;
	if (c->cx.quit)
		c->closing = true;
	return true;
}

static void client_update_io(struct cli_client *c)
{
	io_want(&c->rio, !c->closing && !c->rd_eof && c->in_len < sizeof(c->in));
	io_want(&c->wio, client_pending(c) > 0);
}

/* Drives one client: writes what is pending; while less than
 * CLI_OUT_LOWAT is left, runs the next command of the current line, or
 * starts the next buffered line; closes when the conversation is over
 * (non-interactive mode after its lines, `quit`, EOF, errors). A reader
 * that does not keep up stops the interpretation until it drains. Each
 * round runs at most one command; the input buffer holds fewer commands
 * than rounds. */
static void client_run(struct cli_client *c)
{
	for (size_t round = 0; round <= 2 * sizeof(c->in) + 2; round++) {
		if (client_pending(c)) {
			if (client_write(c) < 0) {
				client_free(c);
				return;
			}
			if (client_pending(c) >= CLI_OUT_LOWAT)
				break; /* the rest on EV_WRITE */
		}
		client_compact(c);
		if (c->closing) {
			if (client_pending(c))
				break;
			client_free(c);
			return;
		}
		if (!client_step(c)) {
			if (c->rd_eof || (c->served && !c->cx.interactive)) {
				c->closing = true;
				continue;
			}
			break;
		}
	}
	client_update_io(c);
}

static void client_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct cli_client *c = container_of(w, struct cli_client, rio);
	ssize_t n;

	if (c->in_len == sizeof(c->in)) {
		/* no room: a zero-length recv() would look like EOF */
		client_run(c);
		return;
	}
	n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);
	if (n > 0) {
		c->in_len += (size_t)n;
	} else if (n == 0) {
		c->rd_eof = true;
	} else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
		return;
	} else {
		client_free(c);
		return;
	}
	client_run(c);
}

static void client_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	client_run(container_of(w, struct cli_client, wio));
}

/* `stats timeout` without progress (a complete line received, or every
 * answer written): a client trickling bytes of a line, or reading its
 * answer a byte at a time, is closed all the same. The timer is re-armed
 * lazily from the last progress. */
static void client_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct cli_client *c = container_of(w, struct cli_client, timer);
	ev_tstamp left = c->last_act + c->timeout - ev_now(loop);

	if (left > 0.001) {
		ev_timer_set(&c->timer, left, 0.0);
		ev_timer_start(loop, &c->timer);
		return;
	}
	client_free(c);
}

static struct cli_client *client_new(int fd, int level, int lfd)
{
	struct cli_client *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->fd = fd;
	c->lfd = lfd;
	c->cx.level = level;
	c->timeout = cli_conf_timeout_ms(active_conf) / 1000.0;
	c->last_act = ev_now(rt.loop);
	ev_io_init(&c->rio, client_read_cb, fd, EV_READ);
	ev_io_init(&c->wio, client_write_cb, fd, EV_WRITE);
	ev_timer_init(&c->timer, client_timer_cb, c->timeout, 0.0);
	ev_timer_start(rt.loop, &c->timer);
	ev_io_start(rt.loop, &c->rio);
	c->next = clients;
	if (clients)
		clients->prev = c;
	clients = c;
	nb_clients++;
	return c;
}

int cli_attach(int fd, int level)
{
	if (fd < 0)
		return -EINVAL;
	if (!rt.loop || level < CLI_LVL_USER || level > CLI_LVL_ADMIN) {
		close(fd);
		return -EINVAL;
	}
	cli_note_start();
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0 || !client_new(fd, level, -1)) {
		close(fd);
		return -ENOMEM;
	}
	return 0;
}

/* ---- the stats sockets on the listener layer ------------------------------------ */

/* Accept while this socket has fewer clients than `stats maxconn`; the
 * kernel backlog holds the others. Per socket, unlike HAProxy (whose stats
 * sockets are one frontend and share its maxconn): the clients of one
 * socket, e.g. a user-level one other local users may open, never take the
 * slots of another, such as the admin socket. A socket taken over by a
 * reload keeps its fd, hence its clients. */
static bool may_accept(const struct listener *l)
{
	unsigned n = 0, max = cli_conf_maxconn(active_conf);

	for (const struct cli_client *c = clients; c && n < max; c = c->next)
		n += c->lfd == l->fd;
	return n < max;
}

/* c's `stats socket` lines (struct cli_bind's), or NULL. */
static struct bind_conf *binds_of(const struct dp_config *c)
{
	const struct cli_conf *sc = cli_conf_of(c);

	return sc ? sc->binds : NULL;
}

static struct bind_conf *in_service(void)
{
	return binds_of(active_conf);
}

const struct bind_owner cli_bind_owner = { "stats socket", may_accept, in_service };

void cli_accept(struct listener *l, int fd, const struct sockaddr_storage *peer)
{
	(void)peer;
	if (!client_new(fd, cli_bind_of(l->bc)->level, l->fd))
		close(fd);
}

int cli_open(struct dp_config *c, struct dp_config *oldc, char **err)
{
	int r;

	cli_note_start();
	if (!binds_of(c))
		return 0;
	if (!rt.loop) {
		memprintf(err, "stats socket: no event loop");
		return -EINVAL;
	}
	r = listeners_open_list(binds_of(c), binds_of(oldc), err);
	if (r < 0)
		listeners_update_list(in_service()); /* oldc's sockets accept again */
	return r;
}

void cli_undo(struct dp_config *c, struct dp_config *oldc)
{
	(void)oldc;
	listeners_undo_list(binds_of(c));
	listeners_update_list(in_service());
}

void cli_commit(struct dp_config *c, struct dp_config *oldc)
{
	listeners_commit_list(binds_of(c));
	active_conf = c;
	cli_close(oldc);
	listeners_update_list(in_service());
}

void cli_close(struct dp_config *c)
{
	if (!c)
		return;
	/* the clients of a socket that closes no longer count for the
	 * socket that may get its fd number next */
	for (const struct bind_conf *bc = binds_of(c); bc; bc = bc->next)
		for (const struct listener *l = bc->listeners; l; l = l->next)
			for (struct cli_client *cl = clients; cl && l->fd >= 0; cl = cl->next)
				if (cl->lfd == l->fd)
					cl->lfd = -1;
	listeners_close_list(binds_of(c));
	if (c != active_conf)
		return;
	/* the generation in service goes away: the process is stopping */
	active_conf = NULL;
	while (clients)
		client_free(clients);
}
