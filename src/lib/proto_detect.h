/* proto_detect.h — classifies the first bytes a client sent on a TCP stream
 * (the `req.proto` fetch): ssh tls http rdp smb smtp-client ftp-client telnet
 * mysql postgres redis mongodb memcached sip socks4 socks5 openvpn, else
 * unknown, or silent when the client sent nothing before the caller gave up
 * waiting (see doc/protocol-detection.md for what each probe accepts and the
 * server-speaks-first trade-off).
 *
 * A pure module: no allocation, no global state, no recursion; every probe
 * reads only buf[0..len). Every probe runs on every call and answers on its
 * own, so one probe that waits for more bytes never hides another probe's
 * definite answer. Call it again on the whole buffer each time more bytes
 * arrived (the probes are cheap and stateless).
 */
#ifndef DECOYPROXY_PROTO_DETECT_H
#define DECOYPROXY_PROTO_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A probe's answer for the bytes seen so far. */
enum pd_verdict {
	PD_NO = 0,		/* these bytes cannot be this protocol */
	PD_NEED_MORE,		/* a prefix of this protocol: more bytes decide */
	PD_DEFINITE,		/* this protocol */
};

/* Protocols, in the order of precedence when two probes are definite. The
 * probes are written not to overlap; the order only settles hostile bytes
 * crafted to satisfy two of them. */
enum pd_proto {
	PD_SSH = 0,
	PD_TLS,
	PD_HTTP,
	PD_RDP,
	PD_SMB,
	PD_SMTP_CLIENT,
	PD_FTP_CLIENT,
	PD_TELNET,
	PD_MYSQL,
	PD_POSTGRES,
	PD_REDIS,
	PD_MONGODB,
	PD_MEMCACHED,
	PD_SIP,
	PD_SOCKS4,
	PD_SOCKS5,
	PD_OPENVPN,
	PD_PROBES,		/* number of probes; the two below are verdicts only */
	PD_UNKNOWN = PD_PROBES,	/* bytes that no probe recognises */
	PD_SILENT,		/* no byte at all before the final call */
	PD_PROTO_MAX
};

/* Flag for pd_classify: this is the last call (inspect delay over, buffer
 * full or client shut its side): probes still waiting count as NO. */
#define PD_F_FINAL	0x1

/* A probe waiting for its line (HTTP/SIP request line, SSH banner, SOCKS4
 * user id) gives up past this many bytes. */
#define PD_MAX_LINE	8192

struct pd_result {
	enum pd_proto proto;			/* see pd_classify */
	enum pd_verdict verdict[PD_PROBES];	/* each probe's own answer */
};

/* Runs every probe on buf[0..len) (buf may be NULL when len is 0) and fills
 * *r. Returns:
 *   PD_DEFINITE: r->proto is the recognised protocol (first definite probe
 *     in enum order);
 *   PD_NEED_MORE: no probe is definite yet but at least one waits for more
 *     bytes (never returned with PD_F_FINAL); r->proto is PD_UNKNOWN;
 *   PD_NO: final answer: r->proto is PD_SILENT when len is 0 (only with
 *     PD_F_FINAL), else PD_UNKNOWN. Without PD_F_FINAL this is returned as
 *     soon as every probe said NO, so a caller can act before the delay. */
enum pd_verdict pd_classify(const uint8_t *buf, size_t len, unsigned int flags,
			    struct pd_result *r);

/* The fetch's string for a protocol ("ssh", "smtp-client", "unknown",
 * "silent"...); "?" for a value out of range. Static. */
const char *pd_proto_name(enum pd_proto p);

/* The protocol named name (as pd_proto_name gives it), or -1. For checking
 * ACL patterns at configuration time. */
int pd_proto_lookup(const char *name);

#endif
