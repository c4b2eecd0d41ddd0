/* term.h — the termination state of a session (HAProxy's two-letter %ts).
 *
 * First letter, what ended the session:
 *   C client abort   S server abort or refusal   P proxy (decoyproxy refused
 *   R resource       I internal error              it: bad PROXY header,
 *   D server down    K killed by admin/shutdown    cannot spoof, ...)
 *   c client timeout s server timeout (queue, connect, data)   - normal end
 * Second letter, the phase the session was in:
 *   R waiting for the request (here: the PROXY header)   Q queued
 *   C connecting to the server (turn-around included)    D data
 *   L last data (the server had ended, its last bytes were still going to
 *     the client)                                          - normal end
 *
 * Pure: no sockets, no event loop. The session code describes where it is
 * (struct term_snap) and what happened (enum term_event); term_compute()
 * says which two letters the log gets, so every rule lives here, once.
 */
#ifndef DECOYPROXY_TERM_H
#define DECOYPROXY_TERM_H

#include <stdbool.h>

/* Where the session is in its life. */
enum term_stage {
	TERM_ST_REQUEST = 0,   /* accepted, nothing decided yet (PROXY header) */
	TERM_ST_QUEUE,         /* waiting for a server slot */
	TERM_ST_CONNECT,       /* connecting, or waiting before a retry */
	TERM_ST_DATA,          /* established, relaying */
};

struct term_snap {
	enum term_stage stage;
	bool srv_eof;          /* the server's end (EOF) has been read */
	bool res_pending;      /* bytes from the server not yet written to the client */
};

enum term_event {
	TERM_EV_DONE = 0,      /* both directions carried their end: "--" */
	/* the second letter is the phase of the snapshot */
	TERM_EV_CLI_ABORT,     /* client side read/write error or reset: C */
	TERM_EV_SRV_ABORT,     /* server side read/write error or reset: S */
	TERM_EV_CLI_TIMEOUT,   /* timeout client (client-fin, PROXY header wait): c */
	TERM_EV_SRV_TIMEOUT,   /* timeout server (server-fin), timeout queue: s */
	TERM_EV_PROXY,         /* refused by the proxy, e.g. invalid PROXY header: P */
	TERM_EV_RESOURCE,      /* out of memory: R */
	TERM_EV_INTERNAL,      /* internal error: I */
	TERM_EV_SRV_DOWN,      /* server went down while in use: D */
	TERM_EV_KILLED,        /* `shutdown session`, hard stop: K */
	TERM_EV_SRV_UP,        /* an active server came up (on-marked-up
	                        * shutdown-backup-sessions): U */
	/* getting a server connection: the second letter is always C */
	TERM_EV_CONN_REFUSED,  /* connect() failed (refused, unreachable), no retry left: SC */
	TERM_EV_CONN_TIMEOUT,  /* timeout connect, no retry left: sC */
	TERM_EV_NO_SERVER,     /* no backend, or no usable server: SC */
	TERM_EV_CONN_PROXY,    /* cannot build the server connection (family mismatch
	                        * for spoofing, source bind failure, port offset out of
	                        * range, PROXY header cannot be built): PC */
	TERM_EV_CONN_RESOURCE, /* no socket for the server (fd/memory exhaustion): RC */
	TERM_EV_QUEUE_FULL,    /* the server's queue is at its maxqueue, no redispatch: SQ */
	TERM_EV_COUNT
};

/* The phase letter for a snapshot: R, Q, C, D or L. */
char term_phase(const struct term_snap *snap);

/* Writes the two letters and a NUL to out for event ev in the situation
 * snap. snap is only read for the events whose phase it decides; NULL there
 * gives phase '-'. An unknown event gives 'I' (internal) + phase. */
void term_compute(enum term_event ev, const struct term_snap *snap, char out[3]);

/* A short name for an event, for debug output ("client abort", ...). */
const char *term_event_name(enum term_event ev);

#endif
