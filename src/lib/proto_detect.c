/* proto_detect.c — the protocol probes behind req.proto (proto_detect.h).
 *
 * Each probe is a function of the bytes alone that says NO as soon as one
 * byte contradicts its protocol, NEED_MORE while every byte so far fits, and
 * DEFINITE once enough of a signature is there that another protocol (or
 * random bytes) is very unlikely to look like it. Signatures are those the
 * protocols' own specifications give for the first message a client sends;
 * doc/protocol-detection.md lists them.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "lib/proto_detect.h"

static const char *const pd_names[PD_PROTO_MAX] = {
	[PD_SSH] = "ssh",
	[PD_TLS] = "tls",
	[PD_HTTP] = "http",
	[PD_RDP] = "rdp",
	[PD_SMB] = "smb",
	[PD_SMTP_CLIENT] = "smtp-client",
	[PD_FTP_CLIENT] = "ftp-client",
	[PD_TELNET] = "telnet",
	[PD_MYSQL] = "mysql",
	[PD_POSTGRES] = "postgres",
	[PD_REDIS] = "redis",
	[PD_MONGODB] = "mongodb",
	[PD_MEMCACHED] = "memcached",
	[PD_SIP] = "sip",
	[PD_SOCKS4] = "socks4",
	[PD_SOCKS5] = "socks5",
	[PD_OPENVPN] = "openvpn",
	[PD_UNKNOWN] = "unknown",
	[PD_SILENT] = "silent",
};

const char *pd_proto_name(enum pd_proto p)
{
	return (unsigned int)p < PD_PROTO_MAX ? pd_names[p] : "?";
}

int pd_proto_lookup(const char *name)
{
	int i;

	for (i = 0; name && i < PD_PROTO_MAX; i++)
		if (!strcmp(name, pd_names[i]))
			return i;
	return -1;
}

/* ------------------------------------------------------------ helpers -- */

static inline uint32_t be16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static inline uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static inline uint8_t upper(uint8_t c)
{
	return c >= 'a' && c <= 'z' ? (uint8_t)(c - 32) : c;
}

/* buf against the literal lit: NO on a differing byte, NEED_MORE when buf
 * is a strict prefix of lit, DEFINITE when buf starts with lit. */
static enum pd_verdict prefix(const uint8_t *buf, size_t len, const char *lit, bool nocase)
{
	size_t n = strlen(lit), i;

	for (i = 0; i < n && i < len; i++) {
		uint8_t c = buf[i];

		if (nocase ? upper(c) != upper((uint8_t)lit[i]) : c != (uint8_t)lit[i])
			return PD_NO;
	}
	return len >= n ? PD_DEFINITE : PD_NEED_MORE;
}

/* The best answer of prefix() over a NULL-terminated list; *which is the
 * index of the definite literal. */
static enum pd_verdict prefixes(const uint8_t *buf, size_t len, const char *const *lits,
				bool nocase, size_t *which)
{
	enum pd_verdict best = PD_NO, v;
	size_t i;

	for (i = 0; lits[i]; i++) {
		v = prefix(buf, len, lits[i], nocase);
		if (v == PD_DEFINITE) {
			if (which)
				*which = i;
			return v;
		}
		if (v == PD_NEED_MORE)
			best = v;
	}
	return best;
}

/* A request line "METHOD SP target SP VERSION..." where METHOD SP is one of
 * methods (each literal ends with the space) and VERSION starts with
 * version. With http09, "GET target CRLF" (HTTP/0.9) is definite too. */
static enum pd_verdict reqline(const uint8_t *buf, size_t len, const char *const *methods,
			       const char *version, bool http09)
{
	size_t m = 0, pos, start;
	enum pd_verdict v;

	v = prefixes(buf, len, methods, false, &m);
	if (v != PD_DEFINITE)
		return v;
	start = pos = strlen(methods[m]);
	for (; pos < len && pos < PD_MAX_LINE; pos++) {
		uint8_t c = buf[pos];

		if (c == ' ')
			break;
		if ((c == '\r' || c == '\n') && http09 && pos > start && m == 0)
			return PD_DEFINITE;	/* methods[0] is "GET " */
		if (c <= 0x20 || c == 0x7f)
			return PD_NO;
	}
	if (pos >= PD_MAX_LINE)
		return PD_NO;
	if (pos == len)
		return PD_NEED_MORE;
	if (pos == start)
		return PD_NO;		/* empty target */
	return prefix(buf + pos + 1, len - pos - 1, version, false);
}

/* ------------------------------------------------------------- probes -- */

/* RFC 4253 4.2: the identification string "SSH-protoversion-...". */
static enum pd_verdict probe_ssh(const uint8_t *b, size_t len)
{
	static const char *const ids[] = { "SSH-2.0-", "SSH-1.99-", "SSH-1.5-", NULL };

	return prefixes(b, len, ids, false, NULL);
}

/* A TLS record carrying a ClientHello (type 0x16, version 3.x, a length a
 * record can have, handshake type 1, client_version 3.x), or an SSLv2
 * CLIENT-HELLO with consistent lengths. Decided from the headers: the
 * full hello is tls_hello_parse()'s business. */
static enum pd_verdict probe_tls(const uint8_t *b, size_t len)
{
	size_t rlen, cilen, silen, chlen;

	if (len < 1)
		return PD_NEED_MORE;
	if (b[0] == 0x16) {
		if (len >= 2 && b[1] != 3)
			return PD_NO;
		if (len >= 3 && b[2] > 4)
			return PD_NO;
		if (len >= 5 && (be16(b + 3) < 4 || be16(b + 3) > 16384 + 2048))
			return PD_NO;
		if (len >= 6 && b[5] != 1)
			return PD_NO;
		if (len >= 7 && b[6] != 0)
			return PD_NO;	/* hellos are far below 64 kB */
		if (len >= 10 && b[9] != 3)
			return PD_NO;
		return len >= 10 ? PD_DEFINITE : PD_NEED_MORE;
	}
	if (!(b[0] & 0x80))
		return PD_NO;
	if (len >= 3 && b[2] != 1)
		return PD_NO;
	if (len >= 4 && b[3] != 0 && b[3] != 3)
		return PD_NO;
	if (len < 11)
		return PD_NEED_MORE;
	rlen = (size_t)(b[0] & 0x7f) << 8 | b[1];
	cilen = be16(b + 5);
	silen = be16(b + 7);
	chlen = be16(b + 9);
	if (cilen == 0 || cilen % 3 || (silen && silen != 16) || chlen < 16 ||
	    chlen > 32 || rlen != 9 + cilen + silen + chlen)
		return PD_NO;
	return PD_DEFINITE;
}

/* RFC 9110 request line with a known method and an "HTTP/" version, the
 * HTTP/2 connection preface (method PRI), or an HTTP/0.9 "GET /path". */
static enum pd_verdict probe_http(const uint8_t *b, size_t len)
{
	static const char *const methods[] = {
		"GET ", "HEAD ", "POST ", "PUT ", "DELETE ", "CONNECT ", "OPTIONS ",
		"TRACE ", "PATCH ", "PRI ", "PROPFIND ", "PROPPATCH ", "MKCOL ",
		"COPY ", "MOVE ", "LOCK ", "UNLOCK ", "SEARCH ", "REPORT ", NULL
	};

	return reqline(b, len, methods, "HTTP/", true);
}

/* RFC 1006 TPKT (version 3, reserved 0, length) carrying an X.224
 * Connection Request TPDU (length indicator = TPKT length - 5, code 0xE0),
 * what every RDP client sends first ([MS-RDPBCGR] 2.2.1.1). */
static enum pd_verdict probe_rdp(const uint8_t *b, size_t len)
{
	if (len >= 1 && b[0] != 3)
		return PD_NO;
	if (len >= 2 && b[1] != 0)
		return PD_NO;
	if (len >= 4 && (be16(b + 2) < 11 || be16(b + 2) > 4096))
		return PD_NO;
	if (len >= 5 && b[4] != be16(b + 2) - 5)
		return PD_NO;
	if (len >= 6 && (b[5] & 0xf0) != 0xe0)
		return PD_NO;
	return len >= 6 ? PD_DEFINITE : PD_NEED_MORE;
}

/* SMB over TCP 445 / NetBIOS (RFC 1002): a session message (type 0, 17-bit
 * length) starting with the SMB1 (\xFFSMB), SMB2/3 (\xFESMB) or transform
 * (\xFDSMB) signature; or a NetBIOS session request (type 0x81) with its two
 * encoded 32-byte names, as clients of port 139 send first. */
static enum pd_verdict probe_smb(const uint8_t *b, size_t len)
{
	if (len < 1)
		return PD_NEED_MORE;
	if (b[0] == 0x81) {
		if (len >= 2 && b[1] != 0)
			return PD_NO;
		if (len >= 4 && be16(b + 2) != 68)
			return PD_NO;
		if (len >= 5 && b[4] != 0x20)
			return PD_NO;
		return len >= 5 ? PD_DEFINITE : PD_NEED_MORE;
	}
	if (b[0] != 0)
		return PD_NO;
	if (len >= 2 && b[1] > 1)
		return PD_NO;
	if (len >= 5 && b[4] != 0xff && b[4] != 0xfe && b[4] != 0xfd)
		return PD_NO;
	if (len > 5)
		return prefix(b + 5, len - 5, "SMB", false);
	return PD_NEED_MORE;
}

/* SMTP (RFC 5321) is server-speaks-first: a client that talks before the
 * greeting pipelines or is a blind scanner. Its first command is EHLO/HELO
 * (LHLO for LMTP). */
static enum pd_verdict probe_smtp(const uint8_t *b, size_t len)
{
	static const char *const cmds[] = { "EHLO ", "HELO ", "LHLO ", NULL };

	return prefixes(b, len, cmds, true, NULL);
}

/* FTP (RFC 959) is server-speaks-first too: USER, AUTH TLS/SSL (RFC 4217),
 * FEAT, SYST, OPTS sent blind. POP3 also has USER: reported as ftp-client. */
static enum pd_verdict probe_ftp(const uint8_t *b, size_t len)
{
	static const char *const cmds[] = {
		"USER ", "AUTH TLS", "AUTH SSL", "FEAT\r\n", "SYST\r\n", "OPTS ", NULL
	};

	return prefixes(b, len, cmds, true, NULL);
}

/* RFC 854/855: IAC (255) followed by WILL/WONT/DO/DONT (251-254) and an
 * option: what a telnet client that negotiates first sends. */
static enum pd_verdict probe_telnet(const uint8_t *b, size_t len)
{
	if (len >= 1 && b[0] != 0xff)
		return PD_NO;
	if (len >= 2 && (b[1] < 0xfb || b[1] == 0xff))
		return PD_NO;
	return len >= 3 ? PD_DEFINITE : PD_NEED_MORE;
}

/* MySQL is server-speaks-first: the client's first packet answers the
 * greeting. A client that sends it blind (or a replay) sends a
 * HandshakeResponse41 or an SSLRequest: 3-byte length >= 32, sequence 1,
 * capability flags with CLIENT_PROTOCOL_41 (0x200), max packet size,
 * charset, then 23 zero bytes. */
static enum pd_verdict probe_mysql(const uint8_t *b, size_t len)
{
	size_t i;

	if (len >= 3 && (b[0] | b[1] << 8 | b[2] << 16) < 32)
		return PD_NO;
	if (len >= 4 && b[3] != 1)
		return PD_NO;
	if (len >= 6 && !(b[5] & 0x02))
		return PD_NO;
	for (i = 13; i < 36 && i < len; i++)
		if (b[i])
			return PD_NO;
	return len >= 36 ? PD_DEFINITE : PD_NEED_MORE;
}

/* PostgreSQL frontend first messages: StartupMessage (protocol 3.0,
 * 196608), SSLRequest (80877103), GSSENCRequest (80877104), CancelRequest
 * (80877102, length 16): a 4-byte big-endian length then the code. */
static enum pd_verdict probe_postgres(const uint8_t *b, size_t len)
{
	uint32_t l, code;

	if (len >= 1 && b[0] != 0)
		return PD_NO;
	if (len < 8)
		return len >= 4 && (be32(b) < 8 || be32(b) > 10000) ? PD_NO : PD_NEED_MORE;
	l = be32(b);
	code = be32(b + 4);
	if (code == 196608 && l > 8 && l <= 10000)
		return PD_DEFINITE;
	if ((code == 80877103 || code == 80877104) && l == 8)
		return PD_DEFINITE;
	if (code == 80877102 && l == 16)
		return PD_DEFINITE;
	return PD_NO;
}

/* Redis RESP: an array of bulk strings "*<n>\r\n$<len>\r\n", as every
 * client library sends; or an inline command from a short list of
 * Redis-only words: not GET/SET (memcached's too), not "AUTH x" (FTP's
 * AUTH TLS), not "INFO x" (a SIP method). */
static enum pd_verdict probe_redis(const uint8_t *b, size_t len)
{
	static const char *const inl[] = {
		"PING\r\n", "PING ", "INFO\r\n", "CONFIG ", "HELLO ",
		"HELLO\r\n", "KEYS ", "FLUSHALL", "SLAVEOF ", "REPLICAOF ", "MODULE ",
		"EVAL ", "CLIENT ", NULL
	};
	size_t pos = 1;

	if (len == 0)
		return PD_NEED_MORE;
	if (b[0] != '*')
		return prefixes(b, len, inl, true, NULL);
	/* "*" digits "\r\n$" */
	while (pos < len && pos < 12 && b[pos] >= '0' && b[pos] <= '9')
		pos++;
	if (pos == len)
		return pos < 12 ? PD_NEED_MORE : PD_NO;
	if (pos == 1 || pos >= 12)
		return PD_NO;
	return prefix(b + pos, len - pos, "\r\n$", false);
}

/* MongoDB wire protocol: a 16-byte MsgHeader (little-endian length,
 * requestID, responseTo, opCode OP_QUERY 2004, OP_MSG 2013 or
 * OP_COMPRESSED 2012). responseTo is not checked: drivers send 0, nmap
 * sends -1. */
static enum pd_verdict probe_mongodb(const uint8_t *b, size_t len)
{
	uint32_t l, op;

	if (len >= 4) {
		l = le32(b);
		if (l < 21 || l > 48 * 1024 * 1024)
			return PD_NO;
	}
	if (len < 16)
		return PD_NEED_MORE;
	op = le32(b + 12);
	return op == 2004 || op == 2013 || op == 2012 ? PD_DEFINITE : PD_NO;
}

/* memcached: a text command (lower case, as the protocol defines them), or
 * a binary request header (magic 0x80, a known opcode, data type 0, body
 * length >= key + extras). */
static enum pd_verdict probe_memcached(const uint8_t *b, size_t len)
{
	static const char *const cmds[] = {
		"stats\r\n", "stats ", "version\r\n", "get ", "gets ", "gat ", "gats ",
		"set ", "add ", "replace ", "append ", "prepend ", "cas ", "delete ",
		"incr ", "decr ", "touch ", "flush_all", "verbosity ", "lru_crawler ",
		"mg ", "ms ", "md ", "ma ", "mn\r\n", "me ", "quit\r\n", NULL
	};

	if (len >= 1 && b[0] == 0x80) {
		if (len >= 2 && b[1] > 0x48)
			return PD_NO;
		if (len >= 6 && b[5] != 0)
			return PD_NO;
		if (len < 12)
			return PD_NEED_MORE;
		if (be32(b + 8) < be16(b + 2) + (uint32_t)b[4])
			return PD_NO;
		return PD_DEFINITE;
	}
	return prefixes(b, len, cmds, false, NULL);
}

/* SIP over TCP (RFC 3261): a request line with a SIP method and version
 * SIP/2.0. */
static enum pd_verdict probe_sip(const uint8_t *b, size_t len)
{
	static const char *const methods[] = {
		"INVITE ", "REGISTER ", "OPTIONS ", "ACK ", "BYE ", "CANCEL ",
		"SUBSCRIBE ", "NOTIFY ", "MESSAGE ", "INFO ", "PRACK ", "UPDATE ",
		"REFER ", "PUBLISH ", NULL
	};

	return reqline(b, len, methods, "SIP/2.0", false);
}

/* SOCKS4/4a request: version 4, command CONNECT (1) or BIND (2), port,
 * IPv4 address, NUL-terminated user id (<= 255 bytes). */
static enum pd_verdict probe_socks4(const uint8_t *b, size_t len)
{
	size_t i;

	if (len >= 1 && b[0] != 4)
		return PD_NO;
	if (len >= 2 && b[1] != 1 && b[1] != 2)
		return PD_NO;
	for (i = 8; i < len && i < 8 + 256; i++)
		if (b[i] == 0)
			return PD_DEFINITE;
	return i >= 8 + 256 ? PD_NO : PD_NEED_MORE;
}

/* SOCKS5 greeting (RFC 1928): version 5, 1-255 methods, each a defined
 * method (0-3), IANA-assigned (up to 9) or private (0x80-0xFE). A client
 * then waits for the server's choice, so the greeting is all there is; one
 * that pipelines its request puts version 5 right after. */
static enum pd_verdict probe_socks5(const uint8_t *b, size_t len)
{
	size_t n, i;

	if (len >= 1 && b[0] != 5)
		return PD_NO;
	if (len < 2)
		return PD_NEED_MORE;
	n = b[1];
	if (n == 0)
		return PD_NO;
	for (i = 2; i < len && i < 2 + n; i++)
		if ((b[i] > 9 && b[i] < 0x80) || b[i] == 0xff)
			return PD_NO;
	if (len < 2 + n)
		return PD_NEED_MORE;
	if (len > 2 + n && b[2 + n] != 5)
		return PD_NO;
	return PD_DEFINITE;
}

/* OpenVPN over TCP: a 2-byte packet length, then opcode/key id:
 * P_CONTROL_HARD_RESET_CLIENT_V2 (7) or _V3 (10, tls-crypt-v2) with key id 0,
 * an 8-byte session id. The client waits for the server's reset after it,
 * so the packet is the whole first flight: its length must match. */
static enum pd_verdict probe_openvpn(const uint8_t *b, size_t len)
{
	size_t plen;

	if (len >= 1 && b[0] > 0x05)
		return PD_NO;
	if (len >= 2 && (be16(b) < 14 || be16(b) > 1500))
		return PD_NO;
	if (len >= 3 && b[2] != (7 << 3) && b[2] != (10 << 3))
		return PD_NO;
	if (len < 3)
		return PD_NEED_MORE;
	plen = be16(b);
	if (len < 2 + plen)
		return PD_NEED_MORE;
	return len == 2 + plen ? PD_DEFINITE : PD_NO;
}

typedef enum pd_verdict (*pd_probe_fn)(const uint8_t *b, size_t len);

static const pd_probe_fn pd_probes[PD_PROBES] = {
	[PD_SSH] = probe_ssh,
	[PD_TLS] = probe_tls,
	[PD_HTTP] = probe_http,
	[PD_RDP] = probe_rdp,
	[PD_SMB] = probe_smb,
	[PD_SMTP_CLIENT] = probe_smtp,
	[PD_FTP_CLIENT] = probe_ftp,
	[PD_TELNET] = probe_telnet,
	[PD_MYSQL] = probe_mysql,
	[PD_POSTGRES] = probe_postgres,
	[PD_REDIS] = probe_redis,
	[PD_MONGODB] = probe_mongodb,
	[PD_MEMCACHED] = probe_memcached,
	[PD_SIP] = probe_sip,
	[PD_SOCKS4] = probe_socks4,
	[PD_SOCKS5] = probe_socks5,
	[PD_OPENVPN] = probe_openvpn,
};

enum pd_verdict pd_classify(const uint8_t *buf, size_t len, unsigned int flags,
			    struct pd_result *r)
{
	static const uint8_t none[1];
	bool waiting = false;
	int i, found = -1;

	if (!buf)
		buf = none, len = 0;
	r->proto = PD_UNKNOWN;
	for (i = 0; i < PD_PROBES; i++) {
		/* with no byte at all every probe can only wait */
		r->verdict[i] = len ? pd_probes[i](buf, len) : PD_NEED_MORE;
		if (r->verdict[i] == PD_DEFINITE && found < 0)
			found = i;
		else if (r->verdict[i] == PD_NEED_MORE)
			waiting = true;
	}
	if (found >= 0) {
		r->proto = (enum pd_proto)found;
		return PD_DEFINITE;
	}
	if (waiting && !(flags & PD_F_FINAL))
		return PD_NEED_MORE;
	if (len == 0)
		r->proto = PD_SILENT;
	return PD_NO;
}
