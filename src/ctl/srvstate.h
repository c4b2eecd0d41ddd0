/* srvstate.h — HAProxy's server-state file, version 1: the lines `show
 * servers state` prints (cli_srvstate.c) and their loading into a new
 * generation at start and reload, for backends with
 * `load-server-state-from-file` (model/srvstate.h holds the settings).
 * What a line restores, as HAProxy does: the administrative state set at
 * run time (maintenance or drain forced from the CLI), the operational state
 * of a checked server (a server known DOWN starts DOWN) and the weight set
 * at run time, when the configured weight did not change meanwhile. */
#ifndef DECOYPROXY_CTL_SRVSTATE_H
#define DECOYPROXY_CTL_SRVSTATE_H

#include <stddef.h>

struct dp_config;
struct proxy;
struct server;

/* The file's first line and column header. */
#define SRVSTATE_VERSION "1"
#define SRVSTATE_HEADER                                                                                              \
	"# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight "            \
	"srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state "            \
	"srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port "    \
	"srv_check_addr srv_agent_addr srv_agent_port"

/* One line (no newline) for server s of backend number be_id, s being
 * its srv_id-th server. Returns the length snprintf() would write. */
int srvstate_line(char *buf, size_t cap, const struct server *s, unsigned be_id, unsigned srv_id);

/* Applies the state text of a file (path: for messages) to backend px of
 * c: only lines naming px and one of its servers. Returns the number of
 * servers changed; warnings for what does not fit. */
int srvstate_apply(struct proxy *px, const char *text, const char *path);

/* Loads, for every backend of c that asks for it, its state file. Never
 * fails: a missing or bad file is a warning, as in HAProxy. */
void srvstate_load(struct dp_config *c);

/* Reads the state files of c as HAProxy does before it resolves
 * addresses (also under -c): applies the addresses of init-addr `last`
 * servers, warns about what in the files cannot be used, refuses a server
 * that only `last` could give an address and got none, and gives HAProxy's
 * "disabling server" warning for those left without one (init-addr none).
 * The rest of the state is applied at commit (srvstate_load, quietly).
 * Returns the number of errors. */
int srvstate_finalize(struct dp_config *c);

#endif
