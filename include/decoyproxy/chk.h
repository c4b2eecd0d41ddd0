/* chk.h — TCP health checks of servers (`check`, `inter`, `rise`, `fall`). */
#ifndef DECOYPROXY_CHK_H
#define DECOYPROXY_CHK_H

#include "decoyproxy/global.h"

/* Starts the checks of every `check` server of c (staggered over the first
 * interval). Returns 0 or -ENOMEM. */
int chk_start(struct dp_config *c);
/* Stops and frees c's checks (reload: the old generation; stop). */
void chk_stop(struct dp_config *c);

#endif
