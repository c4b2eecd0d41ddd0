/* netseg.c — network segments and named namespaces.
 * (First version: no `network` section keyword yet; sockets in the current
 * namespace only. The netlink-backed implementation replaces this file.) */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "decoyproxy/netseg.h"

static int open_unsupported(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	memprintf(err, "section '%s' is not supported yet", argv[0]);
	return CFG_ERR;
}

static const struct cfg_kw netseg_kws[] = {
	{ "netns", CFG_SEC_NETWORK, NULL, "not supported yet" },
};

const struct cfg_kw_list netseg_kw_list = { netseg_kws, ARRAY_SIZE(netseg_kws) };
const struct cfg_section netseg_section = { "network", CFG_SEC_NETWORK, open_unsupported };
const struct cfg_section nslist_section = { "namespace_list", CFG_SEC_NSLIST, open_unsupported };

void netseg_free_all(struct netseg *list)
{
	(void)list;
}

int netseg_finalize(struct dp_config *c)
{
	return 0;
}

int netseg_apply(struct dp_config *c, struct dp_config *oldc, char **err)
{
	return 0;
}

void netseg_undo(struct dp_config *newc, struct dp_config *oldc)
{
}

void netseg_remove(struct dp_config *c)
{
}

int netseg_socket(struct dp_config *c, const char *ns, int domain, int type, int proto, char **err)
{
	int fd;

	if (ns) {
		memprintf(err, "namespace '%s': network namespaces are not supported yet", ns);
		return -EOPNOTSUPP;
	}
	fd = socket(domain, type, proto);
	if (fd < 0) {
		int e = errno;

		memprintf(err, "socket: %s", strerror(e));
		return -e;
	}
	return fd;
}
