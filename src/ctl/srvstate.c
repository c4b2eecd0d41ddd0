/* srvstate.c — HAProxy's server-state file (srvstate.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg/cfg.h"
#include "core/chk.h"
#include "core/loop.h"
#include "ctl/srvstate.h"
#include "lib/addr.h"
#include "lib/common.h"
#include "log/msg.h"
#include "model/conf.h"
#include "model/proxy.h"
#include "model/server.h"
#include "model/srvstate.h"

/* HAProxy's numbers in the file */
enum { OP_STOPPED = 0, OP_STARTING = 1, OP_RUNNING = 2, OP_STOPPING = 3 };
enum {
	ADM_FMAINT = 0x01, /* maintenance forced at run time (CLI, stats page, agent) */
	ADM_IMAINT = 0x02, /* inherited from a tracked server */
	ADM_CMAINT = 0x04, /* `disabled` in the configuration */
	ADM_FDRAIN = 0x08, /* drain forced at run time */
	ADM_IDRAIN = 0x10,
	ADM_RMAINT = 0x20, /* address resolution failed */
	ADM_HMAINT = 0x40,
};
/* longest file read */
#define SRVSTATE_MAX (16u << 20)

/* HAProxy 2.6's check status numbers (HCHK_STATUS_*) for every status
 * decoyproxy has (core/chk.h); 15 (L7OKC, "conditionally passed") is
 * HAProxy's disable-on-404 only */
static const struct { const char *name; int v; } hchk_map[] = {
	{ "HANA", 4 }, { "SOCKERR", 5 }, { "L4OK", 6 }, { "L4TOUT", 7 }, { "L4CON", 8 }, { "L6OK", 9 },
	{ "L6TOUT", 10 }, { "L6RSP", 11 }, { "L7TOUT", 12 }, { "L7RSP", 13 }, { "L7OK", 14 }, { "L7STS", 16 },
};

static int hchk_status(const struct server *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(hchk_map); i++)
		if (!strcmp(s->chk_st, hchk_map[i].name))
			return hchk_map[i].v;
	return 1;  /* INI: no result yet (HAProxy writes it for unchecked servers too) */
}

static const char *hchk_name(long v)
{
	for (size_t i = 0; i < ARRAY_SIZE(hchk_map); i++)
		if (hchk_map[i].v == v)
			return hchk_map[i].name;
	return NULL;
}

static double now_s(void)
{
	return rt.loop ? ev_now(rt.loop) : 0;
}

int srvstate_line(char *buf, size_t cap, const struct server *s, unsigned be_id, unsigned srv_id)
{
	char addr[64] = "-", caddr[64] = "-", aaddr[64] = "-";
	int adm = 0, st = hchk_status(s);
	long since;

	if (!(s->flags & SRV_F_ADDR_ORIG) && !s->rmaint)
		addr_ntop(&s->addr, addr, sizeof(addr));
	if (s->chk_addr.ss_family)
		addr_ntop(&s->chk_addr, caddr, sizeof(caddr));
	if (s->agent_addr.ss_family)
		addr_ntop(&s->agent_addr, aaddr, sizeof(aaddr));
	/* as HAProxy: `disabled` in the configuration is CMAINT and FMAINT */
	if (s->flags & SRV_F_DISABLED)
		adm |= ADM_CMAINT | ADM_FMAINT;
	if (s->rmaint)
		adm |= ADM_RMAINT;
	if (s->admin == SRV_ADMIN_MAINT)
		adm |= ADM_FMAINT;
	else if (s->admin == SRV_ADMIN_DRAIN)
		adm |= ADM_FDRAIN;
	/* seconds since the last change of operational state (the start of
	 * this generation, or what the file said, when there was none) */
	since = s->last_change > 0 && now_s() > s->last_change ? (long)(now_s() - s->last_change) : 0;
	return snprintf(buf, cap, "%u %s %u %s %s %d %d %u %u %ld %d %d %u %d %d %d %d - %u - 0 %d %s %s %d", be_id,
			s->px->name, srv_id, s->name, addr,
			server_in_maint(s) || (s->check && !s->chk_up) ? OP_STOPPED : OP_RUNNING, adm, s->weight,
			s->iweight, since, st, st == 1 ? 0 : strstr(s->chk_st, "OK") ? 3 : 2, s->check ? s->chk_health : 0,
			/* check state: configured and enabled, paused in maintenance */
			(s->check ? 0x06 : 0) | (server_in_maint(s) ? 0x08 : 0), s->agent_check ? 0x16 : 0, 0, 0,
			s->port_mode == SRV_PORT_FIXED ? addr_port(&s->addr) : 0, s->chk_port, caddr, aaddr,
			s->agent_port);
}

/* Reads a decimal field; false when it is not one. */
static bool num(const char *f, long *v)
{
	char *e;

	errno = 0;
	*v = strtol(f, &e, 10);
	return f && *f && !*e && !errno;
}

/* init-addr `last`, as HAProxy: a server whose address is a host name and
 * whose init-addr names `last` before the method that gave its address
 * takes the address the file holds (field srv_addr), and with it the port
 * (srv_port) when its port is fixed; a server started without an address
 * (`none`) leaves its resolution maintenance. Servers with a literal
 * address keep the configuration's. */
static void apply_last(struct server *s, char **f, int nf, const char *path, int line)
{
	struct sockaddr_storage ss;
	struct addr_spec a;
	char *e = NULL;
	long port;
	int keep;

	if (!s->addr_last || nf < 5 || !strcmp(f[4], "-"))
		return;
	if (addr_parse(f[4], ADDR_F_PORT_NONE_OK, &a, &e) < 0 || a.has_port || a.wildcard) {
		ha_warning("server-state file '%s', line %d: server '%s/%s': invalid address '%s', ignored.", path, line,
			   s->px->name, s->name, f[4]);
		free(e);
		return;
	}
	ss = a.ss;
	keep = addr_port(&s->addr);
	if (s->port_mode == SRV_PORT_FIXED && nf > 18 && num(f[18], &port) && port > 0 && port <= 65535)
		keep = (int)port;
	addr_set_port(&ss, keep);
	s->addr = ss;
	if (s->need_last) {
		/* init-addr last without `none`: the file gave it its address */
		s->need_last = false;
		s->rmaint = false;
	} else if (s->rmaint) {
		/* its name did not resolve when the configuration was read (warned then) */
		char txt[64];

		ha_notice("server-state file '%s', line %d: server '%s/%s' takes the address %s from the file "
			  "(init-addr last) and leaves maintenance.", path, line, s->px->name, s->name,
			  addr_ntop(&ss, txt, sizeof(txt)));
		s->rmaint = false;
	}
}

/* how a file is applied: at finalize, the addresses only (init-addr last,
 * before they are resolved) with every warning; at commit, the whole
 * state, quietly (the same file was judged at finalize) */
enum { AP_ADDR_ONLY = 1 << 0, AP_QUIET = 1 << 1 };
static _Thread_local unsigned ap_mode;  /* the reload thread finalizes, T0 loads */

static void apply_one(struct server *s, char **f, int nf, const char *path, int line)
{
	long op, adm, uw, iw, health, since, st;

	if (nf < 9 || !num(f[5], &op) || !num(f[6], &adm) || !num(f[7], &uw) || !num(f[8], &iw)) {
		if (!(ap_mode & AP_QUIET))
			ha_warning("server-state file '%s', line %d: server '%s/%s': invalid or truncated line, ignored.",
				   path, line, s->px->name, s->name);
		return;
	}
	apply_last(s, f, nf, path, line);
	if (ap_mode & AP_ADDR_ONLY)
		return;
	/* as HAProxy: the time of the last change, and the last check status */
	if (nf > 9 && num(f[9], &since) && since >= 0 && now_s() > 0)
		s->last_change = now_s() - (double)since;
	if (s->check && nf > 10 && num(f[10], &st) && hchk_name(st) && !s->chk_st[0]) {
		snprintf(s->chk_st, sizeof(s->chk_st), "%s", hchk_name(st));
		snprintf(s->chk_last, sizeof(s->chk_last), "%s (server-state file)", hchk_name(st));
	}
	/* the administrative state forced at run time; the configuration's
	 * `disabled` (CMAINT, written with FMAINT) stays the configuration's:
	 * a server no longer disabled there comes back */
	if (adm & ADM_CMAINT)
		s->admin = SRV_ADMIN_READY;  /* the flag `disabled` sets, if still there, stays */
	else if (adm & ADM_FMAINT)
		server_set_admin(s, SRV_ADMIN_MAINT);
	else if (adm & ADM_FDRAIN)
		server_set_admin(s, SRV_ADMIN_DRAIN);
	else if (s->admin != SRV_ADMIN_READY)
		s->admin = SRV_ADMIN_READY;
	/* a checked server known down starts down, until its checks say */
	if (s->check && (op == OP_STOPPED || op == OP_STOPPING)) {
		s->chk_up = false;
		s->chk_health = 0;
	} else if (s->check && op == OP_RUNNING) {
		s->chk_up = true;
		s->chk_health = nf > 12 && num(f[12], &health) && health >= (long)s->chk_rise &&
					health < (long)(s->chk_rise + s->chk_fall)
				? (unsigned)health
				: s->chk_rise;
	}
	/* the weight set at run time, unless the configured one changed */
	if (iw == (long)s->iweight && uw >= 0 && uw <= 256)
		s->weight = (unsigned)uw;
	else if (iw != (long)s->iweight && !(ap_mode & AP_QUIET))
		ha_warning("server-state file '%s', line %d: server '%s/%s': the configured weight changed (%ld -> %u); "
			   "the weight in the file is ignored.", path, line, s->px->name, s->name, iw, s->iweight);
}

int srvstate_apply(struct proxy *px, const char *text, const char *path)
{
	const char *p = text;
	int line = 0, applied = 0;
	bool version = false;

	while (*p) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		char *l = strndup(p, n), *f[32], *save = NULL;
		int nf = 0;

		p += n + (e ? 1 : 0);
		line++;
		if (!l)
			return applied;
		for (char *t = strtok_r(l, " \t\r", &save); t && nf < 32; t = strtok_r(NULL, " \t\r", &save))
			f[nf++] = t;
		if (!version) {
			if (nf != 1 || strcmp(f[0], SRVSTATE_VERSION)) {
				if (!(ap_mode & AP_QUIET))
					ha_warning("server-state file '%s': unknown version (expects '%s' on the first line); file "
					   "ignored.", path, SRVSTATE_VERSION);
				free(l);
				return 0;
			}
			version = true;
			free(l);
			continue;
		}
		if (nf && f[0][0] != '#' && nf >= 4 && !strcmp(f[1], px->name)) {
			struct server *s = proxy_find_server(px, f[3]);

			if (s) {
				apply_one(s, f, nf, path, line);
				applied++;
			} else if (!(ap_mode & AP_QUIET)) {
				ha_warning("server-state file '%s', line %d: backend '%s' has no server '%s' anymore.", path,
					   line, px->name, f[3]);
			}
		}
		free(l);
	}
	return applied;
}

/* The whole of the file at path (regular, or /dev/null as an empty state,
 * which HAProxy reads too), or NULL with why (wlen bytes) saying why not. */
static char *read_file(const char *path, char *why, size_t wlen)
{
	unsigned int mode;
	FILE *fp = fopen_regular(path, true, &mode);
	char *buf = NULL;
	size_t len = 0, cap = 0;

	if (!fp) {
		if (mode)
			snprintf(why, wlen, "not a regular file (%s)", file_kind(mode));
		else
			snprintf(why, wlen, "%s", strerror(errno));
		return NULL;
	}
	for (;;) {
		size_t n;

		if (len + 4096 + 1 > cap) {
			char *nb;

			cap = cap ? cap * 2 : 8192;
			if (cap > SRVSTATE_MAX || !(nb = realloc(buf, cap))) {
				snprintf(why, wlen, "%s", strerror(cap > SRVSTATE_MAX ? EFBIG : ENOMEM));
				free(buf);
				fclose(fp);
				return NULL;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len - 1, fp);
		len += n;
		if (n == 0)
			break;
	}
	buf[len] = '\0';
	fclose(fp);
	return buf;
}

static void load(struct dp_config *c);

void srvstate_load(struct dp_config *c)
{
	ap_mode = AP_QUIET;
	load(c);
	ap_mode = 0;
}

int srvstate_finalize(struct dp_config *c)
{
	int errors = 0;

	ap_mode = AP_ADDR_ONLY;
	load(c);
	ap_mode = 0;
	for (struct proxy *px = c->proxies; px; px = px->next) {
		if (!(px->cap & PR_CAP_BE) || (px->cap & PR_CAP_DEF))
			continue;
		for (struct server *s = px->srv; s; s = s->next) {
			if (s->need_last)
				cfg_report_at(true, s->file, s->line, &errors,
					      "'server %s/%s' : no method found to resolve address '%s'. (init-addr 'last': "
					      "no server-state file gives it an address; add 'none' to start it in "
					      "maintenance until one is set)", px->name, s->name, s->host ? s->host : "?");
			else if (s->rmaint && s->rmaint_warn)  /* HAProxy's words */
				cfg_report_at(false, s->file, s->line, NULL,
					      "'server %s' : could not resolve address '%s', disabling server.", s->name,
					      s->host ? s->host : "?");
			s->rmaint_warn = false;
		}
	}
	return errors;
}

static void load(struct dp_config *c)
{
	char *gtext = NULL, *gpath = NULL;
	bool gread = false;

	for (struct proxy *px = c->proxies; px; px = px->next) {
		char *path, *text;
		char why[96];

		if (!(px->cap & PR_CAP_BE) || px->srvstate_load == SRVSTATE_NONE)
			continue;
		if (px->srvstate_load == SRVSTATE_GLOBAL) {
			/* one file for every backend: read (and complained about) once */
			if (!gread) {
				gread = true;
				gpath = srvstate_path(c, px);
				if (!gpath && !(ap_mode & AP_QUIET))
					ha_warning("'load-server-state-from-file global' without a global 'server-state-file': "
						   "no server state loaded.");
				else if (gpath && !(gtext = read_file(gpath, why, sizeof(why))) && !(ap_mode & AP_QUIET))
					ha_warning("Can't open global server state file '%s': %s", gpath, why);
			}
			if (gtext)
				srvstate_apply(px, gtext, gpath);
			continue;
		}
		path = srvstate_path(c, px);
		if (!path)
			continue;
		text = read_file(path, why, sizeof(why));
		if (!text && !(ap_mode & AP_QUIET))
			ha_warning("Proxy '%s': Can't open server state file '%s': %s", px->name, path, why);
		else if (text)
			srvstate_apply(px, text, path);
		free(text);
		free(path);
	}
	free(gtext);
	free(gpath);
}
