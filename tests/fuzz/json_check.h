/* json_check.h — a strict checker of what json_escape() produces, shared by
 * tests/unit/test_evlog.c and tests/fuzz/fuzz_json.c: the bytes must be
 * the inside of a valid JSON string (RFC 8259) that is valid UTF-8.
 * Returns 1 when they are, 0 otherwise. */
#ifndef DECOYPROXY_JSON_CHECK_H
#define DECOYPROXY_JSON_CHECK_H

#include <stddef.h>

static inline int json_check_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static inline int json_check_string_body(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];

		if (c < 0x20 || c == '"')
			return 0;
		if (c == '\\') {
			if (i + 1 >= n)
				return 0;
			switch (s[i + 1]) {
			case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
				i += 2;
				continue;
			case 'u':
				if (i + 6 > n)
					return 0;
				for (size_t k = 2; k < 6; k++)
					if (!json_check_hex(s[i + k]))
						return 0;
				i += 6;
				continue;
			default:
				return 0;
			}
		}
		if (c < 0x80) {
			i++;
			continue;
		}
		/* UTF-8, strictly */
		{
			size_t need = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
			unsigned char lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80;
			unsigned char hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;

			if (!need || i + need > n || s[i + 1] < lo || s[i + 1] > hi)
				return 0;
			for (size_t k = 2; k < need; k++)
				if (s[i + k] < 0x80 || s[i + k] > 0xbf)
					return 0;
			i += need;
		}
	}
	return 1;
}

#endif
