/* chkproto.c — builders and reply parsers of the protocol health checks
 * (see chkproto.h). Everything here reads only within the given length. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/chkproto.h"

/* Copies n bytes of p into out as text: printable ASCII as is, others as
 * \xHH; cut to fit cap (always terminated). */
static void text_of(char *out, size_t cap, const uint8_t *p, size_t n)
{
	size_t o = 0;

	if (!cap)
		return;
	for (size_t i = 0; i < n; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && o + 1 < cap)
			out[o++] = (char)p[i];
		else if (p[i] >= 0x20 && p[i] < 0x7f)
			break;
		else if (o + 5 < cap)
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", p[i]);
		else
			break;
	}
	out[o] = '\0';
}

static void out_reset(struct chkp_out *o)
{
	o->code = 0;
	o->info[0] = '\0';
}

/* ---- MySQL ---------------------------------------------------------------- */

size_t chkp_mysql_auth(uint8_t *out, size_t cap, const char *user, bool post41)
{
	size_t ul = strlen(user), body = post41 ? 32 + ul + 2 : 5 + ul + 2, n = 0;

	if (ul > CHKP_MYSQL_USER_MAX || cap < 4 + body + 5)
		return 0;
	/* packet header: 3-byte little-endian length, sequence number 1 */
	out[n++] = (uint8_t)body;
	out[n++] = (uint8_t)(body >> 8);
	out[n++] = (uint8_t)(body >> 16);
	out[n++] = 1;
	if (post41) {
		/* capabilities (4.1 protocol, secure connection), max packet
		 * size, character set utf8, 23 reserved zero bytes */
		static const uint8_t head41[9] = { 0x00, 0x82, 0x00, 0x00, 0x00, 0x80, 0x00, 0x01, 0x21 };

		memcpy(out + n, head41, sizeof(head41));
		n += sizeof(head41);
		memset(out + n, 0, 23);
		n += 23;
	} else {
		/* 2-byte capabilities, 3-byte max packet size */
		static const uint8_t head40[5] = { 0x00, 0x80, 0x00, 0x00, 0x01 };

		memcpy(out + n, head40, sizeof(head40));
		n += sizeof(head40);
	}
	memcpy(out + n, user, ul + 1);  /* NUL-terminated user name */
	n += ul + 1;
	out[n++] = 0;                   /* empty auth response */
	/* COM_QUIT: length 1, sequence 0, command 0x01 */
	out[n++] = 1;
	out[n++] = 0;
	out[n++] = 0;
	out[n++] = 0;
	out[n++] = 1;
	return n;
}

/* One packet at off: CHKP_MORE / CHKP_RSP (truncated or empty), CHKP_STS
 * for an error packet, CHKP_OK otherwise with *end past it. */
static enum chkp_res mysql_packet(const uint8_t *b, size_t len, bool eof, size_t off, size_t *end,
				  struct chkp_out *o)
{
	size_t plen;

	if (len < off + 4)
		return eof ? CHKP_RSP : CHKP_MORE;
	plen = (size_t)b[off] | (size_t)b[off + 1] << 8 | (size_t)b[off + 2] << 16;
	if (len - off - 4 < plen)
		return eof ? CHKP_RSP : CHKP_MORE;
	if (!plen)
		return CHKP_RSP;
	*end = off + 4 + plen;
	if (b[off + 4] == 0xff) {
		/* error packet: 0xff, error number (LE16), then the text (with
		 * 4.1 servers "#" and the SQL state first), as HAProxy shows it */
		if (plen >= 3)
			o->code = b[off + 5] | b[off + 6] << 8;
		if (plen > 3)
			text_of(o->info, sizeof(o->info), b + off + 7, plen - 3);
		return CHKP_STS;
	}
	return CHKP_OK;
}

enum chkp_res chkp_mysql_reply(const uint8_t *b, size_t len, bool eof, bool auth, struct chkp_out *o)
{
	enum chkp_res r;
	size_t hs = 0, end = 0, v;

	out_reset(o);
	r = mysql_packet(b, len, eof, 0, &hs, o);
	if (r != CHKP_OK)
		return r;
	if (auth) {
		r = mysql_packet(b, len, eof, hs, &end, o);
		if (r != CHKP_OK)
			return r;
	}
	/* the handshake: protocol version byte, then the NUL-terminated
	 * server version, kept as the check's description */
	for (v = 5; v < hs && b[v]; v++)
		;
	if (hs > 5)
		text_of(o->info, sizeof(o->info), b + 5, v - 5);
	return CHKP_OK;
}

/* ---- LDAP ----------------------------------------------------------------- */

/* LDAPMessage { messageID 1, bindRequest [APPLICATION 0] { version 3,
 * name "", authentication simple [0] "" } } in BER. */
const uint8_t chkp_ldap_bind[14] = { 0x30, 0x0c, 0x02, 0x01, 0x01, 0x60, 0x07,
				     0x02, 0x01, 0x03, 0x04, 0x00, 0x80, 0x00 };

static const char ldap_not[] = "Not LDAPv3 protocol";

enum chkp_res chkp_ldap_reply(const uint8_t *b, size_t len, bool eof, struct chkp_out *o)
{
	size_t l1, l2;

	out_reset(o);
	if (!len)
		return eof ? CHKP_RSP : CHKP_MORE;
	if (b[0] != 0x30)
		goto not_ldap;
	/* as HAProxy, judge once 14 bytes are there (the shortest answer) */
	if (len < 14 && !eof)
		return CHKP_MORE;
	/* SEQUENCE length: short form, or long form on at most 2 bytes */
	if (len < 2)
		goto short_read;
	l1 = (b[1] & 0x80) ? (b[1] & 0x7f) : 0;
	if (l1 > 2)
		goto not_ldap;
	/* messageID INTEGER 1, then bindResponse [APPLICATION 1] */
	if (len < 2 + l1 + 4)
		goto short_read;
	if (memcmp(b + 2 + l1, "\x02\x01\x01\x61", 4))
		goto not_ldap;
	if (len < l1 + 7)
		goto short_read;
	l2 = (b[l1 + 6] & 0x80) ? (b[l1 + 6] & 0x7f) : 0;
	if (l1 + l2 > 4)
		goto not_ldap;
	/* LDAPResult starts with resultCode ENUMERATED, one byte */
	if (len < 7 + l1 + l2 + 3)
		goto short_read;
	if (memcmp(b + 7 + l1 + l2, "\x0a\x01", 2))
		goto not_ldap;
	o->code = b[9 + l1 + l2];
	if (o->code) {
		snprintf(o->info, sizeof(o->info), "See RFC: http://tools.ietf.org/html/rfc4511#section-4.1.9");
		return CHKP_STS;
	}
	snprintf(o->info, sizeof(o->info), "Success");
	return CHKP_OK;
short_read:
	if (!eof)
		return CHKP_MORE;
not_ldap:
	snprintf(o->info, sizeof(o->info), "%s", ldap_not);
	return CHKP_RSP;
}

/* ---- SSL hello ------------------------------------------------------------ */

void chkp_ssl_hello(uint8_t out[CHKP_SSL_HELLO_LEN], uint32_t gmt_time)
{
	static const char marker[] = "decoyproxy ssl-hello-chk 3.0"; /* 28 random bytes */
	size_t n = 0;

	/* record: handshake, version 3.0, 121 bytes */
	out[n++] = 0x16; out[n++] = 0x03; out[n++] = 0x00; out[n++] = 0x00; out[n++] = 0x79;
	/* ClientHello, 117 bytes, client version 3.0 */
	out[n++] = 0x01; out[n++] = 0x00; out[n++] = 0x00; out[n++] = 0x75;
	out[n++] = 0x03; out[n++] = 0x00;
	out[n++] = (uint8_t)(gmt_time >> 24); out[n++] = (uint8_t)(gmt_time >> 16);
	out[n++] = (uint8_t)(gmt_time >> 8); out[n++] = (uint8_t)gmt_time;
	memcpy(out + n, marker, 28);
	n += 28;
	out[n++] = 0;              /* no session id */
	out[n++] = 0; out[n++] = 78; /* 39 cipher suites: 0x0001-0x001b, 0x002f-0x003a */
	for (unsigned c = 0x01; c <= 0x1b; c++) {
		out[n++] = 0;
		out[n++] = (uint8_t)c;
	}
	for (unsigned c = 0x2f; c <= 0x3a; c++) {
		out[n++] = 0;
		out[n++] = (uint8_t)c;
	}
	out[n++] = 1; out[n++] = 0; /* compression: null */
}

enum chkp_res chkp_ssl_reply(const uint8_t *b, size_t len, bool eof)
{
	/* a record header is 5 bytes: judge on those, as HAProxy does */
	if (len < 5 && !eof)
		return CHKP_MORE;
	if (len && (b[0] == 0x15 || b[0] == 0x16))
		return CHKP_OK;
	return CHKP_RSP;
}

/* ---- agent ---------------------------------------------------------------- */

static void copy_word(char *dst, size_t cap, const uint8_t *p, size_t n)
{
	text_of(dst, cap, p, n);
}

static bool word_is(const uint8_t *p, size_t n, const char *w)
{
	return strlen(w) == n && !strncasecmp((const char *)p, w, n);
}

enum chkp_res chkp_agent_reply(const uint8_t *b, size_t len, bool eof, struct chkp_agent *a)
{
	size_t eol = 0, i = 0;

	memset(a, 0, sizeof(*a));
	a->weight_pct = -1;
	a->maxconn = -1;
	while (eol < len && b[eol] != '\n' && b[eol] != '\r' && b[eol])
		eol++;
	if (eol == len)
		return eof ? CHKP_RSP : CHKP_MORE;
	while (i < eol) {
		size_t s, n;

		if (b[i] == ' ' || b[i] == '\t' || b[i] == ',') {
			i++;
			continue;
		}
		if (b[i] == '#') {
			/* the description of a state change */
			for (i++; i < eol && (b[i] == ' ' || b[i] == '\t'); i++)
				;
			text_of(a->desc, sizeof(a->desc), b + i, eol - i);
			break;
		}
		for (s = i; i < eol && b[i] != ' ' && b[i] != '\t' && b[i] != ','; i++)
			;
		n = i - s;
		if (word_is(b + s, n, "up")) {
			a->health = CHKP_H_UP;
			copy_word(a->hword, sizeof(a->hword), b + s, n);
		} else if (word_is(b + s, n, "down") || word_is(b + s, n, "stopped") || word_is(b + s, n, "fail")) {
			a->health = CHKP_H_DOWN;
			copy_word(a->hword, sizeof(a->hword), b + s, n);
		} else if (word_is(b + s, n, "ready")) {
			a->admin = CHKP_A_READY;
		} else if (word_is(b + s, n, "drain")) {
			a->admin = CHKP_A_DRAIN;
		} else if (word_is(b + s, n, "maint")) {
			a->admin = CHKP_A_MAINT;
		} else if (isdigit(b[s]) && memchr(b + s, '%', n)) {
			long v = 0;
			size_t k = s;

			for (; k < i && isdigit(b[k]) && v <= 100000; k++)
				v = v * 10 + (b[k] - '0');
			a->weight_bad = k >= i || b[k] != '%' || k + 1 != i || v > 100000;
			a->weight_pct = a->weight_bad ? -1 : (int)v;
		} else if (n > 8 && !strncasecmp((const char *)b + s, "maxconn:", 8)) {
			long v = 0;
			size_t k = s + 8;

			for (; k < i && isdigit(b[k]) && v <= 10000000; k++)
				v = v * 10 + (b[k] - '0');
			a->maxconn = (k == i && k > s + 8 && v <= 10000000) ? v : -1;
			if (a->maxconn < 0 && !a->err[0])
				copy_word(a->err, sizeof(a->err), b + s, n);
		} else if (!a->err[0]) {
			copy_word(a->err, sizeof(a->err), b + s, n);
		}
	}
	return CHKP_OK;
}
