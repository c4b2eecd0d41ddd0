/* term.c — termination state (%ts) of a session: which two letters the log
 * gets for what happened and where the session was. See term.h. */
#include "config.h"

#include <stddef.h>

#include "lib/term.h"

char term_phase(const struct term_snap *snap)
{
	switch (snap->stage) {
	case TERM_ST_REQUEST: return 'R';
	case TERM_ST_QUEUE: return 'Q';
	case TERM_ST_CONNECT: return 'C';
	case TERM_ST_DATA:
		/* the server had finished; only its last bytes toward the
		 * client were still on their way */
		return snap->srv_eof && snap->res_pending ? 'L' : 'D';
	}
	return '-';
}

static const struct {
	char cause;     /* first letter */
	char phase;     /* fixed second letter, or 0: the snapshot's phase */
	const char *name;
} ev_tab[TERM_EV_COUNT] = {
	[TERM_EV_DONE]          = { '-', '-', "normal end" },
	[TERM_EV_CLI_ABORT]     = { 'C', 0, "client abort" },
	[TERM_EV_SRV_ABORT]     = { 'S', 0, "server abort" },
	[TERM_EV_CLI_TIMEOUT]   = { 'c', 0, "client timeout" },
	[TERM_EV_SRV_TIMEOUT]   = { 's', 0, "server timeout" },
	[TERM_EV_PROXY]         = { 'P', 0, "refused by the proxy" },
	[TERM_EV_RESOURCE]      = { 'R', 0, "out of resources" },
	[TERM_EV_INTERNAL]      = { 'I', 0, "internal error" },
	[TERM_EV_SRV_DOWN]      = { 'D', 0, "server down" },
	[TERM_EV_KILLED]        = { 'K', 0, "killed" },
	[TERM_EV_SRV_UP]        = { 'U', 0, "an active server came up" },
	[TERM_EV_CONN_REFUSED]  = { 'S', 'C', "connection to the server failed" },
	[TERM_EV_CONN_TIMEOUT]  = { 's', 'C', "connect timeout" },
	[TERM_EV_NO_SERVER]     = { 'S', 'C', "no server available" },
	[TERM_EV_CONN_PROXY]    = { 'P', 'C', "cannot set up the server connection" },
	[TERM_EV_CONN_RESOURCE] = { 'R', 'C', "no socket for the server" },
	[TERM_EV_QUEUE_FULL]    = { 'S', 'Q', "server queue full" },
};

void term_compute(enum term_event ev, const struct term_snap *snap, char out[3])
{
	char cause = 'I', phase = 0;

	if ((unsigned)ev < TERM_EV_COUNT) {
		cause = ev_tab[ev].cause;
		phase = ev_tab[ev].phase;
	}
	if (!phase)
		phase = snap ? term_phase(snap) : '-';
	out[0] = cause;
	out[1] = phase;
	out[2] = '\0';
}

const char *term_event_name(enum term_event ev)
{
	return (unsigned)ev < TERM_EV_COUNT ? ev_tab[ev].name : "internal error";
}
