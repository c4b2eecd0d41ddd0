/* chroot.c — `chroot <dir>`: the root change at start, and how a reload
 * still reads the configuration afterwards.
 *
 * Everything decoyproxy opens by name is opened before the chroot: the
 * listeners and stats sockets (kept across reloads by takeover), the log
 * targets' sockets, the pid file (removed at exit through the directory
 * descriptor kept when it was written), the namespace fds. A reload re-reads
 * the configuration: the paths given with -f are reached through directory
 * descriptors opened here before the chroot — the directory of each file,
 * or each directory itself — and nothing else of the outside file system:
 * every other path a reload opens (intercept-file, a new stats socket, a
 * unix log target, ...) is resolved inside the chroot, and when it is not
 * there the reload fails and the running configuration stays.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cfg/cfg.h"
#include "log/log.h"
#include "log/msg.h"
#include "model/conf.h"
#include "ctl/chroot.h"
#include "ctl/process.h"

struct chroot_conf {
	struct conf_ext ext;
	char *dir;
	char *file;
	int line;
};

static void ext_free(struct dp_config *c, struct conf_ext *e)
{
	struct chroot_conf *cc = container_of(e, struct chroot_conf, ext);

	(void)c;
	free(cc->dir);
	free(cc->file);
	free(cc);
}

static const struct conf_ext_ops chroot_ext_ops = { "chroot", ext_free };

static struct chroot_conf *conf_of(const struct dp_config *c)
{
	struct conf_ext *e = c ? conf_ext_find(c, &chroot_ext_ops) : NULL;

	return e ? container_of(e, struct chroot_conf, ext) : NULL;
}

static int kw_chroot(struct cfg_ctx *ctx, int argc, char **argv, char **err)
{
	struct chroot_conf *cc;

	if (cfg_need_args(argc, argv, 1, err) || cfg_max_args(argc, argv, 1, err))
		return CFG_ERR;
	if (argv[1][0] != '/') {
		memprintf(err, "'%s' is not an absolute path", argv[1]);
		return CFG_ERR;
	}
	cc = conf_of(ctx->conf);
	if (!cc) {
		cc = calloc(1, sizeof(*cc));
		if (!cc) {
			memprintf(err, "out of memory");
			return CFG_ERR;
		}
		cc->ext.ops = &chroot_ext_ops;
		conf_ext_add(ctx->conf, &cc->ext);
	}
	free(cc->dir);
	free(cc->file);
	cc->dir = strdup(argv[1]);
	cc->file = strdup(ctx->file);
	cc->line = ctx->line;
	if (!cc->dir || !cc->file) {
		memprintf(err, "out of memory");
		return CFG_ERR;
	}
	return CFG_OK;
}

static const struct cfg_kw chroot_kws[] = {
	{ "chroot", CFG_SEC_GLOBAL, kw_chroot, NULL },
};

const struct cfg_kw_list chroot_kw_list = { chroot_kws, ARRAY_SIZE(chroot_kws) };

/* ---- the process's root ----------------------------------------------------- */

/* A configuration path of the command line and the descriptor it is read
 * through after the chroot: its directory (dir), or its parent (a file). */
struct cfg_path {
	char *path;
	int dirfd;
	bool is_dir;
};

static struct cfg_path *paths;
static size_t npaths;
static char *entered;           /* the directory the process is chrooted in */

int chroot_finalize(struct dp_config *c)
{
	struct chroot_conf *cc = conf_of(c);
	struct stat st;
	int errors = 0;

	if (!cc)
		return 0;
	if (entered) {
		/* a reload: the root cannot change any more */
		if (strcmp(entered, cc->dir))
			cfg_report_at(false, cc->file, cc->line, NULL,
				      "'chroot %s': the process is chrooted in '%s'; a reload cannot change it (it applies at the next start)",
				      cc->dir, entered);
	} else if (stat(cc->dir, &st) < 0) {
		cfg_report_at(true, cc->file, cc->line, &errors, "'chroot': cannot use '%s': %s", cc->dir, strerror(errno));
	} else if (!S_ISDIR(st.st_mode)) {
		cfg_report_at(true, cc->file, cc->line, &errors, "'chroot': cannot use '%s': not a directory", cc->dir);
	}
	if (process_uses_namespaces(c))
		cfg_report_at(true, cc->file, cc->line, &errors,
			      "'chroot' together with network namespaces is not yet supported (namespaces are opened by path at every reload)");
	return errors;
}

/* The opener of configuration paths once chrooted (cfg_set_opener). */
static int open_cfg(const char *path, int flags)
{
	size_t len;
	int fd;

	for (size_t i = 0; i < npaths; i++) {
		const struct cfg_path *p = &paths[i];

		len = strlen(p->path);
		if (!strcmp(path, p->path)) {
			char *copy = strdup(path);

			if (!copy)
				return -ENOMEM;
			fd = openat(p->dirfd, p->is_dir ? "." : basename(copy), flags);
			free(copy);
			return fd < 0 ? -errno : fd;
		}
		/* a *.cfg file of a configuration directory */
		if (p->is_dir && !strncmp(path, p->path, len) && path[len] == '/' && !strchr(path + len + 1, '/')) {
			fd = openat(p->dirfd, path + len + 1, flags);
			return fd < 0 ? -errno : fd;
		}
	}
	fd = open(path, flags);
	return fd < 0 ? -errno : fd;
}

void chroot_release(void)
{
	cfg_set_opener(NULL);
	for (size_t i = 0; i < npaths; i++) {
		close(paths[i].dirfd);
		free(paths[i].path);
	}
	free(paths);
	paths = NULL;
	npaths = 0;
	free(entered);
	entered = NULL;
}

/* A unix log target missing inside the chroot loses its lines: say so. */
static void check_log_targets(const struct dp_config *c, const char *dir)
{
	for (size_t i = 0; i < c->all_targets.n; i++) {
		const struct log_target *t = c->all_targets.v[i];
		const struct sockaddr_un *sun = (const struct sockaddr_un *)&t->addr;
		char *inside = NULL;
		struct stat st;

		if (t->kind != LOG_KIND_UNIX || !sun->sun_path[0])
			continue;
		if (memprintf(&inside, "%s%s", dir, sun->sun_path) < 0)
			continue;
		if (stat(inside, &st) < 0)
			ha_warning("chroot '%s': log target '%s' does not exist inside it ('%s'): its log lines will be lost",
				   dir, sun->sun_path, inside);
		free(inside);
	}
}

int chroot_enter(const struct dp_config *c, const char *const *files, size_t n, char **err)
{
	const struct chroot_conf *cc = conf_of(c);
	int e;

	if (!cc)
		return 0;
	paths = calloc(n ? n : 1, sizeof(*paths));
	if (!paths) {
		memprintf(err, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		struct cfg_path *p = &paths[npaths];
		struct stat st;
		char *copy;

		if (stat(files[i], &st) < 0)
			continue; /* read at start, gone since: a reload will say so */
		p->is_dir = S_ISDIR(st.st_mode);
		copy = strdup(files[i]);
		p->path = strdup(files[i]);
		if (!copy || !p->path) {
			free(copy);
			free(p->path);
			memprintf(err, "out of memory");
			return -ENOMEM;
		}
		p->dirfd = open(p->is_dir ? files[i] : dirname(copy), O_PATH | O_DIRECTORY | O_CLOEXEC);
		e = errno;
		free(copy);
		if (p->dirfd < 0) {
			free(p->path);
			memprintf(err, "chroot: cannot keep the directory of '%s' open for reloads: %s", files[i],
				  strerror(e));
			return -e;
		}
		npaths++;
	}
	check_log_targets(c, cc->dir);
	if (chdir(cc->dir) < 0 || chroot(".") < 0 || chdir("/") < 0) {
		e = errno;
		memprintf(err, "Cannot chroot(%s): %s", cc->dir, strerror(e));
		return -e;
	}
	entered = strdup(cc->dir);
	cfg_set_opener(open_cfg);
	ha_notice("chroot: the process's root is now '%s'", cc->dir);
	return 0;
}
