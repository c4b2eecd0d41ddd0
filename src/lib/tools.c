/* tools.c — small generic helpers (formatted allocation). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/common.h"

int vmemprintf(char **out, const char *fmt, va_list ap)
{
	char *s = NULL;
	int n;

	if (!out)
		return 0;
	n = vasprintf(&s, fmt, ap);
	free(*out);
	*out = NULL;
	if (n < 0)
		return -ENOMEM;
	*out = s;
	return n;
}

int memprintf(char **out, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vmemprintf(out, fmt, ap);
	va_end(ap);
	return n;
}
