/* chroot.h — `chroot <dir>` (global section): once everything that needs
 * the file system is open, the process changes its root to <dir>, before
 * dropping its privileges (see ctl/priv.h). What a reload can still reach
 * afterwards is described in doc/configuration.md, *chroot*.
 */
#ifndef DECOYPROXY_CHROOT_H
#define DECOYPROXY_CHROOT_H

#include "cfg/cfg.h"
#include "model/conf.h"

/* `chroot <dir>` (global section). */
extern const struct cfg_kw_list chroot_kw_list;

/* Module table hook: the directory must exist (checked by -c too); network
 * namespaces together with chroot are refused (not yet supported); after
 * the chroot a reload naming another directory gets a warning (it applies
 * at the next start). Returns the number of errors. */
int chroot_finalize(struct dp_config *c);

/* At start, after the first generation is in service and the pid file is
 * written, before the privilege drop (chroot() needs CAP_SYS_CHROOT): keeps
 * a directory descriptor for each configuration path of the command line
 * (files[0..n)), so that a reload reads them through cfg_set_opener(), then
 * enters c's chroot directory. Warns about unix log targets that do not
 * exist inside it (HAProxy needs /dev/log there too). No-op without
 * `chroot`. Returns 0 or -errno with *err. */
int chroot_enter(const struct dp_config *c, const char *const *files, size_t n, char **err);

/* Closes the kept descriptors (at exit). */
void chroot_release(void);

#endif
