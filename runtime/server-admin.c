/* vserver's images, networks and alert rules. */
#include "internal.h"
#include "server-internal.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static int with_store(struct srv_ctx *c, struct vs_store **s, struct vs_err *err)
{
	char dir[PATH_MAX];
	srv_store_dir(c, dir, sizeof(dir));
	return vs_store_open(dir, s, err);
}

int srv_image_import(struct srv_ctx *c, const char *path, const char *name,
		     srv_progress_fn *progress, void *progress_arg, char out_name[256],
		     struct vs_err *err)
{
	struct vs_store *s = NULL;
	struct stat st;
	if (stat(path, &st) < 0)
		return vs_fail(err, errno, "image: import %s", path);
	char derived[256];
	if (!name && !S_ISDIR(st.st_mode)) {
		/* "debian-12.tar.gz" -> "debian-12:latest" */
		const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
		snprintf(derived, sizeof(derived), "%s", base);
		char *dot = strstr(derived, ".tar");
		if (!dot)
			dot = strchr(derived, '.');
		if (dot && dot != derived)
			*dot = '\0';
		strncat(derived, ":latest", sizeof(derived) - strlen(derived) - 1);
		name = derived;
	} else if (!name) {
		/* an OCI layout dir: "<basename>:latest", as vs_image_import_oci names it */
		size_t l = strlen(path);
		while (l > 1 && path[l - 1] == '/')
			l--;
		const char *base = path + l;
		while (base > path && base[-1] != '/')
			base--;
		snprintf(derived, sizeof(derived), "%.*s:latest", (int)(path + l - base), base);
		name = derived;
	}
	if (out_name)
		snprintf(out_name, 256, "%s", name);
	int r = with_store(c, &s, err);
	if (r >= 0)
		s->progress = (struct vs_progress){ progress, progress_arg };
	if (r >= 0)
		r = S_ISDIR(st.st_mode) ? vs_image_import_oci(s, path, NULL, name, err)
					: vs_image_import_tarball(s, path, name, err);
	vs_store_close(s);
	return r;
}

int srv_image_list(struct srv_ctx *c, char ***names, struct vs_err *err)
{
	struct vs_store *s = NULL;
	int r = with_store(c, &s, err);
	if (r >= 0)
		r = vs_image_list(s, names, err);
	vs_store_close(s);
	return r;
}

int srv_image_inspect(struct srv_ctx *c, const char *name, char **json, struct vs_err *err)
{
	struct vs_store *s = NULL;
	int r = with_store(c, &s, err);
	if (r >= 0)
		r = vs_image_inspect_json(s, name, json, err);
	vs_store_close(s);
	return r;
}

int srv_image_remove(struct srv_ctx *c, const char *name, struct vs_err *err)
{
	char **names = NULL;
	int r = srv_names(c, &names, err);
	for (size_t i = 0; r >= 0 && names[i]; i++) {
		struct conf_server *s = NULL;
		if (srv_load(c, names[i], &s, NULL) < 0)
			continue;
		bool used = !strcmp(s->image, name);
		conf_server_free(s);
		if (used)
			r = vs_failx(err, EBUSY, "image \"%s\" is used by server \"%s\"", name, names[i]);
	}
	vs_strv_free(names);
	if (r < 0)
		return r;
	struct vs_store *st = NULL;
	r = with_store(c, &st, err);
	if (r >= 0)
		r = vs_image_remove(st, name, err);
	vs_store_close(st);
	return r;
}

int srv_image_gc(struct srv_ctx *c, unsigned *removed, struct vs_err *err)
{
	struct vs_store *s = NULL;
	int r = with_store(c, &s, err);
	if (r >= 0)
		r = vs_store_gc(s, NULL, removed, err);
	vs_store_close(s);
	return r;
}

int srv_image_default(struct srv_ctx *c, struct vs_err *err)
{
	struct vs_store *s = NULL;
	int r = with_store(c, &s, err);
	if (r >= 0)
		r = vs_image_make_default(s, NULL, err);
	vs_store_close(s);
	return r;
}

int srv_net_create(struct srv_ctx *c, const char *name, const char *bridge, const char *subnet4,
		   const char *subnet6, bool isolate, struct vs_err *err)
{
	char dir[PATH_MAX];
	srv_net_dir(c, dir, sizeof(dir));
	struct netns_net_opts o = { .state_dir = dir, .name = name, .bridge = bridge,
				    .subnet4 = subnet4, .subnet6 = subnet6, .isolate = isolate };
	return netns_net_create(&o, err);
}

int srv_net_list(struct srv_ctx *c, char ***names, struct vs_err *err)
{
	char dir[PATH_MAX];
	srv_net_dir(c, dir, sizeof(dir));
	return netns_net_list(dir, names, err);
}

int srv_net_remove(struct srv_ctx *c, const char *name, bool force, struct vs_err *err)
{
	char dir[PATH_MAX];
	srv_net_dir(c, dir, sizeof(dir));
	return netns_net_remove(dir, name, force, err);
}

int srv_alert_change(struct srv_ctx *c, const char *name, const char *spec, bool add,
		     struct vs_err *err)
{
	struct conf_server *s = NULL;
	int r = srv_load(c, name, &s, err);
	if (r < 0)
		return r;
	_cleanup_close_ int lock = srv_lock(c, name, err);
	if (lock < 0) {
		conf_server_free(s);
		return lock;
	}
	if (add) {
		struct srv_alert a;
		r = srv_alert_parse(spec, &a, err);
		free(a.cmd);
		if (r >= 0)
			vs_strv_push(&s->alerts, spec);
	} else {
		size_t n = vs_strv_len(s->alerts), k = 0;
		bool found = false;
		for (size_t i = 0; i < n; i++) {
			char idx[16];
			snprintf(idx, sizeof(idx), "%zu", i + 1);
			if (!found && (!strcmp(s->alerts[i], spec) || !strcmp(idx, spec))) {
				free(s->alerts[i]);
				found = true;
				continue;
			}
			s->alerts[k++] = s->alerts[i];
		}
		if (s->alerts)
			s->alerts[k] = NULL;
		if (!found)
			r = vs_failx(err, ENOENT, "alert \"%s\" not found on \"%s\"", spec, name);
	}
	if (r >= 0)
		r = srv_save(c, s, err);
	conf_server_free(s);
	return r;
}
