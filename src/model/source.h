/* src.h — `source <addr>[:<port>] [usesrc clientip|client|<addr>[:<port>]]`:
 * which source address the server-side socket uses (HAProxy semantics). */
#ifndef DECOYPROXY_SRC_H
#define DECOYPROXY_SRC_H

#include <sys/socket.h>
#include "lib/common.h"

enum {
	SRC_USESRC_NONE = 0,   /* plain bind to `addr` (when set) */
	SRC_USESRC_CLIENTIP,   /* the client's IP, a fresh port (IP_BIND_ADDRESS_NO_PORT) */
	SRC_USESRC_CLIENT,     /* the client's IP and port */
	SRC_USESRC_ADDR,       /* a fixed, possibly foreign, address */
};

struct src_conf {
	bool set;
	struct sockaddr_storage addr;         /* `source` address (port 0: any) */
	int usesrc;
	struct sockaddr_storage usesrc_addr;  /* SRC_USESRC_ADDR */
	char *iface;                          /* `interface <name>` */
};

/* Parse the words after "source" (argv[0] is the address). *consumed gets
 * the number of words used. Returns 0 or -EINVAL with *err set. */
int src_parse(int argc, char **argv, struct src_conf *out, int *consumed, char **err);
void src_conf_free(struct src_conf *s);
int src_conf_copy(struct src_conf *dst, const struct src_conf *src);


#endif
