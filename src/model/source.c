/* source.c — the `source` statement as configured: which local address the
 * server-side socket binds to, including HAProxy's transparent `usesrc`
 * forms (applied to sockets by core/connect.c). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"
#include "model/source.h"

void src_conf_free(struct src_conf *s)
{
	free(s->iface);
	memset(s, 0, sizeof(*s));
}

int src_conf_copy(struct src_conf *dst, const struct src_conf *src)
{
	*dst = *src;
	dst->iface = NULL;
	if (src->iface && !(dst->iface = strdup(src->iface)))
		return -ENOMEM;
	return 0;
}

int src_parse(int argc, char **argv, struct src_conf *out, int *consumed, char **err)
{
	struct addr_spec a;
	int i = 1;

	memset(out, 0, sizeof(*out));
	if (argc < 1) {
		memprintf(err, "'source' expects an address");
		return -EINVAL;
	}
	if (addr_parse(argv[0], ADDR_F_PORT_NONE_OK, &a, err) < 0)
		return -EINVAL;
	out->set = true;
	out->addr = a.ss;

	while (i < argc) {
		if (!strcmp(argv[i], "usesrc")) {
			const char *v = i + 1 < argc ? argv[i + 1] : NULL;

			if (!v) {
				memprintf(err, "'usesrc' expects 'client', 'clientip' or an address");
				goto fail;
			}
			if (!strcmp(v, "client")) {
				out->usesrc = SRC_USESRC_CLIENT;
			} else if (!strcmp(v, "clientip")) {
				out->usesrc = SRC_USESRC_CLIENTIP;
			} else if (!strncmp(v, "hdr_ip(", 7)) {
				memprintf(err, "'usesrc %s' needs HTTP; decoyproxy is a layer-4 proxy", v);
				goto fail;
			} else {
				struct addr_spec u;

				if (addr_parse(v, ADDR_F_PORT_NONE_OK, &u, err) < 0)
					goto fail;
				out->usesrc = SRC_USESRC_ADDR;
				out->usesrc_addr = u.ss;
			}
			i += 2;
		} else if (!strcmp(argv[i], "interface")) {
			if (i + 1 >= argc) {
				memprintf(err, "'interface' expects an interface name");
				goto fail;
			}
			free(out->iface);
			out->iface = strdup(argv[i + 1]);
			if (!out->iface)
				goto fail;
			i += 2;
		} else {
			break;
		}
	}
	*consumed = i;
	return 0;
fail:
	src_conf_free(out);
	return -EINVAL;
}

#include <netinet/in.h>
