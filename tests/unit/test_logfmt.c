/* test_logfmt.c — log-format compile and render, checked against lines
 * captured from haproxy 2.6.12 (Debian 12) run in a throwaway network
 * namespace with `log stdout format raw local0`. The session values below
 * are the ones that haproxy run reported (pid and host name, which differ
 * per run, are substituted).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "log/log.h"

/* 2026-11-21 14:11:30 UTC, as in the captured lines */
#define T0 1795270290L

static void set_tz(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

static void set_v4(struct sockaddr_storage *ss, const char *ip, int port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	assert_int_equal(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
}

static void set_v6(struct sockaddr_storage *ss, const char *ip, int port)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons((uint16_t)port);
	assert_int_equal(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1);
}

/* The session of haproxy's first captured tcplog line. */
static void sess_v4(struct log_sess *ls)
{
	memset(ls, 0, sizeof(*ls));
	set_v4(&ls->cli, "127.0.0.1", 32978);
	set_v4(&ls->fe, "127.0.0.1", 9000);
	set_v4(&ls->bsrc, "127.0.0.1", 41152);
	set_v4(&ls->srv, "127.0.0.1", 8000);
	ls->frontend = "fnt";
	ls->backend = "bck";
	ls->server = "srv1";
	ls->accept_tv.tv_sec = T0;
	ls->accept_tv.tv_usec = 778123;
	ls->tw = 1;
	ls->tc = 0;
	ls->tt = 2;
	ls->bytes_up = 5;
	ls->bytes_down = 18;
	memcpy(ls->term, "--", 3);
	ls->ac = 1;
	ls->fc = 1;
}

/* Compiles fmt (must succeed) and renders ls into buf. */
static size_t render(const char *fmt, const struct log_sess *ls, char *buf, size_t cap)
{
	struct lf_expr *e = NULL;
	char *err = NULL;
	size_t n;

	assert_int_equal(lf_compile(fmt, &e, &err), 0);
	assert_null(err);
	assert_non_null(e);
	n = lf_render(e, ls, buf, cap);
	lf_free(e);
	return n;
}

/* Compiles fmt, expects failure, and checks the message contains want. */
static void expect_error(const char *fmt, const char *want)
{
	struct lf_expr *e = (struct lf_expr *)(uintptr_t)1;
	char *err = NULL;
	int ret;

	ret = lf_compile(fmt, &e, &err);
	assert_int_equal(ret, -EINVAL);
	assert_null(e);
	assert_non_null(err);
	if (!strstr(err, want))
		fail_msg("format '%s': error '%s' lacks '%s'", fmt, err, want);
	free(err);
}

static void test_tcplog_string(void **state)
{
	(void)state;
	/* HAProxy's default_tcp_log_format */
	assert_string_equal(LF_TCPLOG_FMT,
			    "%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq");
}

static void test_tcplog_v4_reference(void **state)
{
	/* captured: option tcplog, IPv4 client, normal end */
	static const char ref[] =
		"127.0.0.1:32978 [21/Nov/2026:14:11:30.778] fnt bck/srv1 1/0/2 18 -- 1/1/0/0/0 0/0";
	struct log_sess ls;
	char buf[256];
	size_t n;

	(void)state;
	sess_v4(&ls);
	n = render(LF_TCPLOG_FMT, &ls, buf, sizeof(buf));
	assert_string_equal(buf, ref);
	assert_int_equal(n, strlen(ref));
}

/* decoyproxy's decoy format: tcplog unchanged, then the original
 * destination, the segment and the source toward the server. */
static void test_decoylog(void **state)
{
	static const char ref[] =
		"127.0.0.1:32978 [21/Nov/2026:14:11:30.778] fnt bck/srv1 1/0/2 18 -- 1/1/0/0/0 0/0 "
		"127.0.0.1:9000 seg-a 127.0.0.1:41152";
	struct log_sess ls;
	char buf[256];

	(void)state;
	assert_string_equal(LF_DECOYLOG_FMT, "%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq"
			    " %fi:%fp %ns %bi:%bp");
	/* tcplog is its prefix, byte for byte */
	assert_memory_equal(LF_DECOYLOG_FMT, LF_TCPLOG_FMT, strlen(LF_TCPLOG_FMT));
	sess_v4(&ls);
	ls.netns = "seg-a";
	render(LF_DECOYLOG_FMT, &ls, buf, sizeof(buf));
	assert_string_equal(buf, ref);
	/* no namespace, no server connection: "-" for each missing value */
	ls.netns = NULL;
	memset(&ls.bsrc, 0, sizeof(ls.bsrc));
	render(LF_DECOYLOG_FMT, &ls, buf, sizeof(buf));
	assert_non_null(strstr(buf, " 0/0 127.0.0.1:9000 - -:-"));
	/* %ns is a string: quoted with Q, control bytes as #XX */
	ls.netns = "a\x01" "b";
	render("%{+Q}ns %ns", &ls, buf, sizeof(buf));
	assert_string_equal(buf, "\"a#01b\" a#01b");
}

static void test_tcplog_v6_reference(void **state)
{
	/* captured: IPv6 client on [::1]:9000 (no brackets around ::1) */
	static const char ref[] =
		"::1:52330 [21/Nov/2026:14:11:31.322] fnt bck/srv1 1/0/2 18 -- 2/1/0/0/0 0/0";
	struct log_sess ls;
	char buf[256];

	(void)state;
	sess_v4(&ls);
	set_v6(&ls.cli, "::1", 52330);
	set_v6(&ls.fe, "::1", 9000);
	ls.accept_tv.tv_sec = T0 + 1;
	ls.accept_tv.tv_usec = 322999;
	ls.ac = 2;
	render(LF_TCPLOG_FMT, &ls, buf, sizeof(buf));
	assert_string_equal(buf, ref);
}

static void test_tcplog_nosrv_reference(void **state)
{
	/* captured: backend without servers */
	static const char ref[] =
		"127.0.0.1:55902 [21/Nov/2026:14:11:30.805] nosrv empty/<NOSRV> -1/-1/0 0 SC 1/1/0/0/0 0/0";
	static const char ref2[] =
		"N ci=127.0.0.1 cp=38820 bi=- bp=- si=- sp=- b=empty s=<NOSRV> Tw=-1 Tc=-1 Tt=0 ts=SC \"\" - - \"<NOSRV>\"";
	struct log_sess ls;
	char buf[256];

	(void)state;
	memset(&ls, 0, sizeof(ls));
	set_v4(&ls.cli, "127.0.0.1", 55902);
	set_v4(&ls.fe, "127.0.0.1", 9003);
	ls.frontend = "nosrv";
	ls.backend = "empty";
	ls.server = NULL;
	ls.accept_tv.tv_sec = T0;
	ls.accept_tv.tv_usec = 805000;
	ls.tw = -1;
	ls.tc = -1;
	ls.tt = 0;
	memcpy(ls.term, "SC", 3);
	ls.ac = 1;
	ls.fc = 1;
	render(LF_TCPLOG_FMT, &ls, buf, sizeof(buf));
	assert_string_equal(buf, ref);

	set_v4(&ls.cli, "127.0.0.1", 38820);
	render("N ci=%ci cp=%cp bi=%bi bp=%bp si=%si sp=%sp b=%b s=%s Tw=%Tw Tc=%Tc Tt=%Tt ts=%ts %{+Q}bi %{+X}bi %{+X}bp %{+Q}s",
	       &ls, buf, sizeof(buf));
	assert_string_equal(buf, ref2);
}

/* Every supported alias, captured from haproxy with an IPv4 and an IPv6
 * client (backend side IPv4 in both). */
static const char all_fmt[] =
	"A ci=%ci cp=%cp fi=%fi fp=%fp bi=%bi bp=%bp si=%si sp=%sp ft=%ft f=%f b=%b s=%s t=%t T=%T Tl=%Tl Tw=%Tw Tc=%Tc Tt=%Tt B=%B U=%U ts=%ts ac=%ac fc=%fc bc=%bc sc=%sc rc=%rc sq=%sq bq=%bq pid=%pid ID=%ID H=%H ms=%ms Ts=%Ts pct=%%";

static void all_sess(struct log_sess *ls, bool v6)
{
	sess_v4(ls);
	ls->frontend = "all";
	if (v6) {
		set_v6(&ls->cli, "::1", 49066);
		set_v6(&ls->fe, "::1", 9001);
		set_v4(&ls->bsrc, "127.0.0.1", 41160);
		ls->accept_tv.tv_sec = T0 + 1;
		ls->accept_tv.tv_usec = 333500;
		ls->ac = 2;
	} else {
		set_v4(&ls->cli, "127.0.0.1", 48784);
		set_v4(&ls->fe, "127.0.0.1", 9001);
		set_v4(&ls->bsrc, "127.0.0.1", 41150);
		ls->accept_tv.tv_usec = 787000;
	}
}

static void test_all_aliases_reference(void **state)
{
	static const char ref4[] =
		"A ci=127.0.0.1 cp=48784 fi=127.0.0.1 fp=9001 bi=127.0.0.1 bp=41150 si=127.0.0.1 sp=8000 ft=all f=all b=bck s=srv1 t=21/Nov/2026:14:11:30.787 T=21/Nov/2026:14:11:30 +0000 Tl=21/Nov/2026:14:11:30 +0000 Tw=1 Tc=0 Tt=2 B=18 U=5 ts=-- ac=1 fc=1 bc=0 sc=0 rc=0 sq=0 bq=0 pid=%d ID=- H=%s ms=787 Ts=1795270290 pct=%%";
	static const char ref6[] =
		"A ci=::1 cp=49066 fi=::1 fp=9001 bi=127.0.0.1 bp=41160 si=127.0.0.1 sp=8000 ft=all f=all b=bck s=srv1 t=21/Nov/2026:14:11:31.333 T=21/Nov/2026:14:11:31 +0000 Tl=21/Nov/2026:14:11:31 +0000 Tw=1 Tc=0 Tt=2 B=18 U=5 ts=-- ac=2 fc=1 bc=0 sc=0 rc=0 sq=0 bq=0 pid=%d ID=- H=%s ms=333 Ts=1795270291 pct=%%";
	char host[256] = "";
	char want[1024], buf[1024];
	struct log_sess ls;

	(void)state;
	assert_int_equal(gethostname(host, sizeof(host) - 1), 0);
	all_sess(&ls, false);
	render(all_fmt, &ls, buf, sizeof(buf));
	snprintf(want, sizeof(want), ref4, (int)getpid(), host);
	assert_string_equal(buf, want);

	all_sess(&ls, true);
	render(all_fmt, &ls, buf, sizeof(buf));
	snprintf(want, sizeof(want), ref6, (int)getpid(), host);
	assert_string_equal(buf, want);
}

/* %rt: HAProxy 2.6 counts sessions from 0 ("rt=0 X=0000 Q=0" for the first
 * connection, captured); numbers are never quoted. */
static void test_request_counter(void **state)
{
	struct log_sess ls;
	char buf[128];

	(void)state;
	all_sess(&ls, false);
	ls.rt = 0;
	render("rt=%rt X=%{+X}rt Q=%{+Q}rt", &ls, buf, sizeof(buf));
	assert_string_equal(buf, "rt=0 X=0000 Q=0");
	ls.rt = 70000;
	render("rt=%rt X=%{+X}rt", &ls, buf, sizeof(buf));
	assert_string_equal(buf, "rt=70000 X=11170");
}

static const char flags_fmt[] =
	"F %{+Q}ci %{+X}ci %{+X}cp %{+Q}cp %{+X}Ts %{+X}pid %{+Q}ft %{+Q}b %{+Q}s %{+Q}ts %{+Q}ID %{+Q}bi %{+X}bi %{+X}bp %{+Q}B %{+X}B %{+Q}t %{+X}si %{+Q,+X}ci %{+Q}o %ft %ci %{-Q}ft %b";

static void test_flags_reference(void **state)
{
	static const char ref4[] =
		"F \"127.0.0.1\" 7F000001 E912 59666 6B01A692 %04X \"flags\" \"bck\" \"srv1\" -- \"\" \"127.0.0.1\" 7F000001 A0C0 18 18 21/Nov/2026:14:11:30.796 7F000001 7F000001 \"flags\" \"127.0.0.1\" flags \"bck\"";
	static const char ref6[] =
		"F \"::1\" 00000000000000000000000000000001 EA6A 60010 6B01A693 %04X \"flags\" \"bck\" \"srv1\" -- \"\" \"127.0.0.1\" 7F000001 A0D2 18 18 21/Nov/2026:14:11:31.343 7F000001 00000000000000000000000000000001 \"flags\" \"::1\" flags \"bck\"";
	char want[1024], buf[1024];
	struct log_sess ls;

	(void)state;
	sess_v4(&ls);
	ls.frontend = "flags";
	set_v4(&ls.cli, "127.0.0.1", 59666);
	set_v4(&ls.bsrc, "127.0.0.1", 0xA0C0);
	ls.accept_tv.tv_usec = 796000;
	render(flags_fmt, &ls, buf, sizeof(buf));
	snprintf(want, sizeof(want), ref4, (unsigned)getpid());
	assert_string_equal(buf, want);

	set_v6(&ls.cli, "::1", 60010);
	set_v4(&ls.bsrc, "127.0.0.1", 0xA0D2);
	ls.accept_tv.tv_sec = T0 + 1;
	ls.accept_tv.tv_usec = 343000;
	render(flags_fmt, &ls, buf, sizeof(buf));
	snprintf(want, sizeof(want), ref6, (unsigned)getpid());
	assert_string_equal(buf, want);
}

static void test_spaces_and_timezone_reference(void **state)
{
	/* captured with TZ=Asia/Kolkata (+05:30); runs of spaces collapse,
	 * leading ones vanish, a trailing run leaves one space */
	static const char ref[] =
		"S x y z t=21/Nov/2026:19:42:38.117 T=21/Nov/2026:14:12:38 +0000 Tl=21/Nov/2026:19:42:38 +0530 ms=117 all \"bck\" - \"%s\" end";
	static const char ref2[] = "lead x y - 971 3CB 1 1 21/Nov/2026:14:13:52 +0000 %s a\\b trail ";
	char host[256] = "";
	char want[1024], buf[1024];
	struct log_sess ls;

	(void)state;
	assert_int_equal(gethostname(host, sizeof(host) - 1), 0);
	sess_v4(&ls);
	ls.frontend = "all";
	ls.accept_tv.tv_sec = T0 + 68;
	ls.accept_tv.tv_usec = 117000;
	set_tz("IST-5:30");     /* POSIX form of +05:30, needs no tz database */
	render("S x  y   z t=%t T=%T Tl=%Tl ms=%ms %{+E}ft %{+Q,+E}b %{+M}ID  %{+Q}H end", &ls, buf, sizeof(buf));
	set_tz("UTC");
	snprintf(want, sizeof(want), ref, host);
	assert_string_equal(buf, want);

	ls.accept_tv.tv_sec = T0 + 142;
	ls.accept_tv.tv_usec = 971000;
	render("  lead x  y %ID %{+Q}ms %{+X}ms %{+Q}Tw %{+Q}ac %{+Q}T %{+E}H a\\b trail  ", &ls, buf, sizeof(buf));
	snprintf(want, sizeof(want), ref2, host);
	assert_string_equal(buf, want);
}

static void test_negative_utc_offset(void **state)
{
	struct log_sess ls;
	char buf[128];

	(void)state;
	sess_v4(&ls);
	ls.accept_tv.tv_usec = 5000;    /* 5 ms: %t and %ms pad to 3 digits */
	set_tz("EST5");
	render("%t|%Tl|%ms", &ls, buf, sizeof(buf));
	set_tz("UTC");
	assert_string_equal(buf, "21/Nov/2026:09:11:30.005|21/Nov/2026:09:11:30 -0500|005");
}

static void test_ipv6_everywhere_and_missing(void **state)
{
	struct log_sess ls;
	char buf[512];

	(void)state;
	sess_v4(&ls);
	set_v6(&ls.cli, "2001:db8::7", 40000);
	set_v6(&ls.fe, "2001:db8:1::80", 80);
	set_v6(&ls.bsrc, "2001:db8::7", 51000);
	set_v6(&ls.srv, "fd00::10", 8080);
	render("%ci %cp %fi %fp %bi %bp %si %sp %{+X}fi %{+X}sp", &ls, buf, sizeof(buf));
	assert_string_equal(buf,
			    "2001:db8::7 40000 2001:db8:1::80 80 2001:db8::7 51000 fd00::10 8080 "
			    "20010DB8000100000000000000000080 1F90");

	/* v4-mapped stays as the kernel reports it, as in HAProxy */
	set_v6(&ls.cli, "::ffff:192.0.2.1", 1);
	render("%ci", &ls, buf, sizeof(buf));
	assert_string_equal(buf, "::ffff:192.0.2.1");

	/* nothing known about the server side, no client either */
	memset(&ls.cli, 0, sizeof(ls.cli));
	memset(&ls.bsrc, 0, sizeof(ls.bsrc));
	memset(&ls.srv, 0, sizeof(ls.srv));
	ls.backend = NULL;
	ls.server = NULL;
	ls.unique_id = NULL;
	render("%ci:%cp %bi:%bp %si:%sp %b/%s %ID %{+Q}sp %{+Q}ID %{+X}bi", &ls, buf, sizeof(buf));
	assert_string_equal(buf, "-:- -:- -:- fnt/<NOSRV> - \"\" \"\" -");
}

static void test_values_and_unix(void **state)
{
	struct log_sess ls;
	char buf[256];

	(void)state;
	sess_v4(&ls);
	ls.bytes_up = UINT64_MAX;
	ls.bytes_down = 1234567890123ULL;
	ls.tw = -1;
	ls.tc = -1;
	ls.tt = 123456789;
	ls.ac = 4000000000u;
	ls.fc = 2; ls.bc = 3; ls.sc = 4; ls.rc = 5; ls.sq = 6; ls.bq = 7;
	ls.unique_id = "id-42";
	memcpy(ls.term, "cD", 3);
	ls.cli.ss_family = AF_UNIX;
	ls.luid = 3;
	render("%U %B %Tw/%Tc/%Tt %ac/%fc/%bc/%sc/%rc %sq/%bq %ID %ts %ci %cp %{+Q}ci", &ls, buf, sizeof(buf));
	/* a unix socket's client: HAProxy 2.6.12 prints "unix" and the
	 * listener's id (captured: "unix:7" for `bind unix@... id 7`) */
	assert_string_equal(buf,
			    "18446744073709551615 1234567890123 -1/-1/123456789 4000000000/2/3/4/5 6/7 id-42 cD unix 3 \"unix\"");
	/* a unix socket server and its source: "unix:0", as HAProxy */
	ls.srv.ss_family = AF_UNIX;
	ls.bsrc.ss_family = AF_UNIX;
	ls.fe.ss_family = AF_UNIX;
	render("%fi:%fp %si:%sp %bi:%bp", &ls, buf, sizeof(buf));
	assert_string_equal(buf, "unix:3 unix:0 unix:0");
}

/* `option logasap`: '+' before %Tt and %B only (HAProxy 2.6.12 wrote
 * "1/0/+0 +0 0" for "%Tw/%Tc/%Tt %B %U") */
static void test_logasap(void **state)
{
	struct log_sess ls;
	char buf[256];

	(void)state;
	sess_v4(&ls);
	ls.tw = 1;
	ls.tc = 0;
	ls.tt = 0;
	ls.bytes_down = 0;
	ls.bytes_up = 0;
	ls.logasap = true;
	render("%Tw/%Tc/%Tt %B %U", &ls, buf, sizeof(buf));
	assert_string_equal(buf, "1/0/+0 +0 0");
	ls.logasap = false;
	render("%Tw/%Tc/%Tt %B %U", &ls, buf, sizeof(buf));
	assert_string_equal(buf, "1/0/0 0 0");
}

static void test_escapes(void **state)
{
	struct log_sess ls;
	char buf[256];

	(void)state;
	sess_v4(&ls);
	ls.frontend = "a\"b]c\\d";
	ls.unique_id = "x\ny\r\x7fz";
	render("%{+E}ft %{+Q,+E}f %ft %ID", &ls, buf, sizeof(buf));
	assert_string_equal(buf, "a\\\"b\\]c\\\\d \"a\\\"b\\]c\\\\d\" a\"b]c\\d x#0Ay#0D#7Fz");
}

static void test_global_flags(void **state)
{
	struct log_sess ls;
	char buf[256];

	(void)state;
	sess_v4(&ls);
	/* %o's flags apply to later aliases, which may still remove them */
	render("%b %{+Q}o %b %{-Q}s %s %{+X,-Q}o %cp %b %o %s", &ls, buf, sizeof(buf));
	assert_string_equal(buf, "bck \"bck\" srv1 \"srv1\" 80D2 bck srv1");
}

static void test_truncation(void **state)
{
	struct lf_expr *e = NULL;
	struct log_sess ls;
	char *err = NULL;
	char full[256], buf[256];
	size_t n, full_len;

	(void)state;
	sess_v4(&ls);
	assert_int_equal(lf_compile(LF_TCPLOG_FMT, &e, &err), 0);
	full_len = lf_render(e, &ls, full, sizeof(full));
	assert_true(full_len > 40);

	/* cap 0: nothing written at all */
	memset(buf, 'Z', sizeof(buf));
	assert_int_equal(lf_render(e, &ls, buf, 0), 0);
	assert_int_equal(buf[0], 'Z');

	/* cap 1: only the NUL */
	memset(buf, 'Z', sizeof(buf));
	assert_int_equal(lf_render(e, &ls, buf, 1), 0);
	assert_int_equal(buf[0], '\0');
	assert_int_equal(buf[1], 'Z');

	/* every cap up to the full length: a prefix, NUL at cap - 1, nothing
	 * written beyond (cuts inside addresses, dates, numbers and text) */
	for (size_t cap = 2; cap <= full_len + 1; cap++) {
		memset(buf, 'Z', sizeof(buf));
		n = lf_render(e, &ls, buf, cap);
		assert_int_equal(n, cap - 1);
		assert_memory_equal(buf, full, n);
		assert_int_equal(buf[n], '\0');
		if (cap < sizeof(buf))
			assert_int_equal(buf[cap], 'Z');
	}
	/* larger buffer: whole line */
	n = lf_render(e, &ls, buf, sizeof(buf));
	assert_int_equal(n, full_len);
	assert_string_equal(buf, full);
	lf_free(e);
}

static void test_literals(void **state)
{
	struct log_sess ls;
	char buf[128];

	(void)state;
	sess_v4(&ls);
	assert_int_equal(render("", &ls, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	render("100%% of %b:", &ls, buf, sizeof(buf));
	assert_string_equal(buf, "100% of bck:");
	/* an alias name is letters and digits: '_' ends it */
	render("%B_x%Tt.%s", &ls, buf, sizeof(buf));
	assert_string_equal(buf, "18_x2.srv1");
}

static void test_compile_errors(void **state)
{
	(void)state;
	expect_error("%zz", "unknown log-format alias '%zz'");
	expect_error("x %cx y", "'%cx'");
	expect_error("%B123", "'%B123'");
	expect_error("%{+Q", "unterminated '%{'");
	expect_error("a %{+Q,+X ci", "unterminated '%{'");
	expect_error("%[src]", "sample fetch expressions are not supported here");
	expect_error("%{+Q}[src,lower] x", "'%{+Q}[src,lower]'");
	expect_error("%{+Z}ci", "unknown flag 'Z'");
	expect_error("%{+Q,+json}ci", "unknown flag 'json'");
	expect_error("%{Q}ci", "invalid flag 'Q'");
	expect_error("%{}ci", "invalid flag ''");
	expect_error("%{+Q}", "not followed by an alias name");
	expect_error("%{+Q} ci", "not followed by an alias name");
	expect_error("x %", "lone '%'");
	expect_error("% x", "unexpected character ' '");
	expect_error("%r", "'%r' is only available in HTTP mode");
	expect_error("%ST", "'%ST' is only available in HTTP mode");
	expect_error("%Th", "'%Th' is not supported");
	expect_error("%sslv", "'%sslv' is only available with SSL");
}

static void test_free_null(void **state)
{
	(void)state;
	lf_free(NULL);
}

static int group_setup(void **state)
{
	(void)state;
	set_tz("UTC");
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcplog_string),
		cmocka_unit_test(test_tcplog_v4_reference),
		cmocka_unit_test(test_decoylog),
		cmocka_unit_test(test_tcplog_v6_reference),
		cmocka_unit_test(test_tcplog_nosrv_reference),
		cmocka_unit_test(test_all_aliases_reference),
		cmocka_unit_test(test_request_counter),
		cmocka_unit_test(test_flags_reference),
		cmocka_unit_test(test_spaces_and_timezone_reference),
		cmocka_unit_test(test_negative_utc_offset),
		cmocka_unit_test(test_ipv6_everywhere_and_missing),
		cmocka_unit_test(test_values_and_unix),
		cmocka_unit_test(test_logasap),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_global_flags),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_literals),
		cmocka_unit_test(test_compile_errors),
		cmocka_unit_test(test_free_null),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
