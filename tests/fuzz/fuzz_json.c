/* fuzz_json.c — libFuzzer target of the event log's JSON escaping and
 * record builder (src/log/evlog_json.c): whatever the bytes, json_escape()
 * must write a valid JSON string body (tests/fuzz/json_check.h) within its
 * bound and report the length it needs, and a whole record built from the
 * bytes (string, hex, address fields) must be one JSON object whose
 * strings all check. Run bounded by tests/fuzz/run_fuzz.sh. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "log/evlog.h"
#include "json_check.h"

/* Every "..." string of a record checks; outside strings only the bytes a
 * flat object of numbers, booleans and strings can hold. */
static void check_record(const char *p, size_t n)
{
	size_t i = 0;

	if (n < 2 || p[0] != '{' || p[n - 1] != '}')
		abort();
	while (i < n) {
		if (p[i] == '"') {
			size_t j = i + 1;

			while (j < n && p[j] != '"')
				j += p[j] == '\\' ? 2 : 1;
			if (j >= n || !json_check_string_body((const unsigned char *)p + i + 1, j - i - 1))
				abort();
			i = j + 1;
			continue;
		}
		if (!strchr("{}:,-0123456789truefals", p[i]))
			abort();
		i++;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[4096 * 6 + 64];
	static char rec[4096 * 8];
	struct timeval tv = { .tv_sec = 1795270290, .tv_usec = 1 };
	struct sockaddr_storage ss;
	struct evlog_rec r;
	size_t cap, need, half;

	if (size > 4096)
		size = 4096;
	/* the escape, with a cap chosen by the first byte */
	cap = size ? (size_t)data[0] * 24 % sizeof(out) : 0;
	need = json_escape(out, cap, data, size);
	if (need > size * 6)
		abort();
	if (need <= cap && !json_check_string_body((const unsigned char *)out, need))
		abort();
	need = json_escape(out, sizeof(out), data, size);
	if (!json_check_string_body((const unsigned char *)out, need))
		abort();

	/* a record: the bytes as a key and a value, hex, an address */
	half = size / 2;
	memset(&ss, 0, sizeof(ss));
	if (size >= 18) {
		ss.ss_family = data[1] & 1 ? AF_INET6 : AF_INET;
		memcpy(&((struct sockaddr_in6 *)&ss)->sin6_addr, data + 2, 16);
		((struct sockaddr_in6 *)&ss)->sin6_port = (uint16_t)(data[0] << 8 | data[1]);
		if (ss.ss_family == AF_INET)
			memcpy(&((struct sockaddr_in *)&ss)->sin_addr, data + 2, 4);
	}
	evlog_begin_buf(&r, rec, size ? sizeof(rec) / (1 + data[0] % 8) : sizeof(rec), "fuzz", &tv);
	evlog_strn(&r, "s", data, size);
	evlog_addr(&r, "a", &ss);
	evlog_mark_optional(&r);
	evlog_hex(&r, "h", data, half);
	evlog_int(&r, "i", size ? (long long)data[0] - 128 : 0);
	evlog_bool(&r, "b", size & 1);
	need = evlog_end(&r);
	if (need)
		check_record(rec, need);
	else if (!r.overflow)
		abort();
	return 0;
}
