/* priv_int.h — private to the priv module (priv.c, priv_helper.c). */
#ifndef DECOYPROXY_PRIV_INT_H
#define DECOYPROXY_PRIV_INT_H

#include "lib/common.h"

/* Sets the calling thread's permitted and effective capability sets to
 * exactly mask (inheritable empty) with the raw capset syscall (no libcap
 * dependency). Returns 0 or -1 with errno. */
int priv_set_caps(uint64_t mask);

/* Forks the namespace helper (as the process is now: before any switch of
 * user or group), waits until it has confined itself and delegates
 * ns_create()/ns_delete() to it. Returns 0 or -errno with *err. */
int priv_helper_start(char **err);

#endif
