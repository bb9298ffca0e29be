/* rootfs/image-store: the store's layout, its index (names -> image records),
 * list, inspect, remove, garbage collection, and the embedded default image.
 *
 * index.json is only rewritten under <store>/lock, atomically (temp file,
 * fsync, rename). New layers and blobs are renamed into place under the same
 * lock just before the index names them, and gc runs entirely under it, so a
 * reader of the index always finds every layer it names. */
#include "image-internal.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* tmp/ entries older than this are leftovers of a killed import */
#define STALE_TMP_SECONDS (6 * 3600)

int vs_store_open(const char *root, struct vs_store **out, struct vs_err *err)
{
	if (!root)
		root = VS_IMAGE_STORE_DEFAULT;
	static const char *const sub[] = { "", "/blobs/sha256", "/layers", "/tmp" };
	char p[PATH_MAX];
	for (size_t i = 0; i < VS_ARRAY_SIZE(sub); i++) {
		if (img_path(p, sizeof(p), "%s%s", root, sub[i]) < 0)
			return vs_failx(err, ENAMETOOLONG, "image: store %s: path too long", root);
		int r = vs_mkdir_p(p, 0700);
		if (r < 0)
			return vs_fail(err, -r, "image: store: mkdir %s", p);
	}
	char *real = realpath(root, NULL);
	if (!real)
		return vs_fail(err, errno, "image: store: realpath %s", root);
	if (strpbrk(real, ",:\\")) {
		free(real);
		return vs_failx(err, EINVAL, "image: store %s: path may not contain ',', ':' or '\\'"
				" (overlayfs options)", root);
	}
	int fd = open(real, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		free(real);
		return vs_fail(err, e, "image: store: open %s", root);
	}
	struct vs_store *s = vs_xcalloc(1, sizeof(*s));
	s->root = real;
	s->root_fd = fd;
	*out = s;
	return 0;
}

void vs_store_close(struct vs_store *s)
{
	if (!s)
		return;
	if (s->root_fd >= 0)
		close(s->root_fd);
	free(s->root);
	free(s);
}

static void config_free(struct vs_image_config *c)
{
	vs_strv_free(c->entrypoint);
	vs_strv_free(c->cmd);
	vs_strv_free(c->env);
	vs_strv_free(c->exposed_ports);
	free(c->workdir);
	free(c->user);
}

void vs_image_free(struct vs_image *img)
{
	if (!img)
		return;
	free(img->name);
	vs_strv_free(img->layers);
	vs_strv_free(img->blobs);
	free(img->source);
	free(img->created);
	config_free(&img->config);
	free(img);
}

void img_gen_image(yajl_gen g, const struct vs_image *img)
{
	yajl_gen_map_open(g);
	img_gen_kv(g, "name", img->name);
	img_gen_kv(g, "source", img->source);
	img_gen_kv(g, "created", img->created);
	char *empty[] = { NULL };
	img_gen_strv(g, "layers", img->layers ? img->layers : empty);
	img_gen_strv(g, "blobs", img->blobs ? img->blobs : empty);
	img_gen_str(g, "config");
	yajl_gen_map_open(g);
	img_gen_strv(g, "entrypoint", img->config.entrypoint);
	img_gen_strv(g, "cmd", img->config.cmd);
	img_gen_strv(g, "env", img->config.env);
	img_gen_kv(g, "workdir", img->config.workdir);
	img_gen_kv(g, "user", img->config.user);
	img_gen_strv(g, "exposed_ports", img->config.exposed_ports);
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
}

static struct vs_image *image_from_json(yajl_val v)
{
	const char *name = img_json_str(v, "name");
	if (!name)
		return NULL;
	struct vs_image *img = vs_xcalloc(1, sizeof(*img));
	img->name = vs_xstrdup(name);
	img->source = vs_xstrdup(img_json_str(v, "source"));
	img->created = vs_xstrdup(img_json_str(v, "created"));
	img->layers = img_json_strv(v, "layers");
	img->blobs = img_json_strv(v, "blobs");
	if (!img->layers)
		img->layers = vs_xcalloc(1, sizeof(char *));
	if (!img->blobs)
		img->blobs = vs_xcalloc(1, sizeof(char *));
	for (size_t i = 0; img->layers[i]; i++)
		if (!vs_digest_valid(img->layers[i], NULL)) {
			vs_image_free(img);
			return NULL;
		}
	yajl_val c = img_json_get(v, "config", yajl_t_object);
	img->config.entrypoint = img_json_strv(c, "entrypoint");
	img->config.cmd = img_json_strv(c, "cmd");
	img->config.env = img_json_strv(c, "env");
	img->config.workdir = vs_xstrdup(img_json_str(c, "workdir"));
	img->config.user = vs_xstrdup(img_json_str(c, "user"));
	img->config.exposed_ports = img_json_strv(c, "exposed_ports");
	return img;
}

int img_index_read(struct vs_store *s, struct vs_image ***imgs, size_t *n, struct vs_err *err)
{
	_cleanup_free_ char *data = NULL;
	*imgs = NULL;
	*n = 0;
	int r = vs_read_file_at(s->root_fd, "index.json", &data, NULL);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return vs_fail(err, -r, "image: read %s/index.json", s->root);
	char ebuf[256];
	yajl_val root = yajl_tree_parse(data, ebuf, sizeof(ebuf));
	yajl_val arr = img_json_get(root, "images", yajl_t_array);
	if (!arr) {
		yajl_tree_free(root);
		return vs_failx(err, EINVAL, "image: %s/index.json: not an image index", s->root);
	}
	struct vs_image **v = vs_xcalloc(arr->u.array.len + 1, sizeof(*v));
	size_t k = 0;
	for (size_t i = 0; i < arr->u.array.len; i++) {
		struct vs_image *img = image_from_json(arr->u.array.values[i]);
		if (!img) {
			yajl_tree_free(root);
			img_free_ptr_array(v, k);
			return vs_failx(err, EINVAL, "image: %s/index.json: images[%zu]: bad record",
					s->root, i);
		}
		v[k++] = img;
	}
	yajl_tree_free(root);
	*imgs = v;
	*n = k;
	return 0;
}

static int cmp_img(const void *a, const void *b)
{
	return strcmp((*(struct vs_image *const *)a)->name, (*(struct vs_image *const *)b)->name);
}

int img_index_write(struct vs_store *s, struct vs_image **imgs, size_t n, struct vs_err *err)
{
	qsort(imgs, n, sizeof(*imgs), cmp_img);
	yajl_gen g = yajl_gen_alloc(NULL);
	yajl_gen_config(g, yajl_gen_beautify, 1);
	yajl_gen_map_open(g);
	img_gen_str(g, "version");
	yajl_gen_integer(g, 1);
	img_gen_str(g, "images");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < n; i++)
		img_gen_image(g, imgs[i]);
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	const unsigned char *buf;
	size_t len;
	yajl_gen_get_buf(g, &buf, &len);
	char p[PATH_MAX];
	int r = img_path(p, sizeof(p), "%s/index.json", s->root);
	if (r == 0)
		r = vs_write_file_atomic(p, buf, len, 0600);
	yajl_gen_free(g);
	return r < 0 ? vs_fail(err, -r, "image: write %s/index.json", s->root) : 0;
}

/* moves every entry of tmpdir/<sub> to <store>/<dst>; an existing one wins */
static int move_all(struct vs_store *s, const char *tmpdir, const char *sub, const char *dst,
		    struct vs_err *err)
{
	char from[PATH_MAX], to[PATH_MAX];
	if (img_path(from, sizeof(from), "%s/%s", tmpdir, sub) < 0)
		return vs_failx(err, ENAMETOOLONG, "image: commit: path too long");
	DIR *d = opendir(from);
	if (!d)
		return errno == ENOENT ? 0 : vs_fail(err, errno, "image: commit: open %s", from);
	struct dirent *de;
	int r = 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (img_path(from, sizeof(from), "%s/%s/%s", tmpdir, sub, de->d_name) < 0 ||
		    img_path(to, sizeof(to), "%s/%s/%s", s->root, dst, de->d_name) < 0) {
			r = vs_failx(err, ENAMETOOLONG, "image: commit: path too long");
			break;
		}
		if (rename(from, to) < 0 && errno != EEXIST && errno != ENOTEMPTY) {
			r = vs_fail(err, errno, "image: commit: rename %s", to);
			break;
		}
	}
	closedir(d);
	return r;
}

int img_commit(struct vs_store *s, const char *tmpdir, struct vs_image *img, struct vs_err *err)
{
	struct vs_image **imgs = NULL;
	size_t n = 0;
	_cleanup_close_ int lock = img_lock(s, err);
	if (lock < 0) {
		vs_image_free(img);
		return lock;
	}
	int r = move_all(s, tmpdir, "layers", "layers", err);
	if (r == 0)
		r = move_all(s, tmpdir, "blobs", "blobs/sha256", err);
	for (size_t i = 0; r == 0 && img->layers[i]; i++) {
		char p[PATH_MAX];
		struct stat st;
		r = vs_store_layer_path(s, img->layers[i], p, sizeof(p), err);
		if (r == 0 && stat(p, &st) < 0)
			r = vs_failx(err, EAGAIN, "image: layer %s vanished during import (gc?): retry",
				     img->layers[i]);
	}
	if (r == 0)
		r = img_index_read(s, &imgs, &n, err);
	if (r < 0) {
		vs_image_free(img);
		return r;
	}
	size_t i;
	for (i = 0; i < n; i++)
		if (!strcmp(imgs[i]->name, img->name))
			break;
	if (i < n) {
		vs_image_free(imgs[i]);
		imgs[i] = img;
	} else {
		imgs = vs_xrealloc(imgs, (n + 1) * sizeof(*imgs));
		imgs[n++] = img;
	}
	r = img_index_write(s, imgs, n, err);
	img_free_ptr_array(imgs, n);
	return r;
}

int vs_image_get(struct vs_store *s, const char *name, struct vs_image **out, struct vs_err *err)
{
	struct vs_image **imgs;
	size_t n;
	int r = img_index_read(s, &imgs, &n, err);
	if (r < 0)
		return r;
	r = -ENOENT;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(imgs[i]->name, name)) {
			*out = imgs[i];
			imgs[i] = NULL;
			r = 0;
			break;
		}
	img_free_ptr_array(imgs, n);
	return r < 0 ? vs_failx(err, ENOENT, "image: %s: no such image", name) : 0;
}

int vs_image_list(struct vs_store *s, char ***names, struct vs_err *err)
{
	struct vs_image **imgs;
	size_t n;
	int r = img_index_read(s, &imgs, &n, err);
	if (r < 0)
		return r;
	qsort(imgs, n, sizeof(*imgs), cmp_img);
	char **v = vs_xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		v[i] = vs_xstrdup(imgs[i]->name);
	img_free_ptr_array(imgs, n);
	*names = v;
	return 0;
}

int vs_image_inspect_json(struct vs_store *s, const char *name, char **json, struct vs_err *err)
{
	struct vs_image *img;
	int r = vs_image_get(s, name, &img, err);
	if (r < 0)
		return r;
	yajl_gen g = yajl_gen_alloc(NULL);
	yajl_gen_config(g, yajl_gen_beautify, 1);
	img_gen_image(g, img);
	const unsigned char *buf;
	size_t len;
	yajl_gen_get_buf(g, &buf, &len);
	*json = vs_xmalloc(len + 1);
	memcpy(*json, buf, len);
	(*json)[len] = '\0';
	yajl_gen_free(g);
	vs_image_free(img);
	return 0;
}

int vs_image_remove(struct vs_store *s, const char *name, struct vs_err *err)
{
	_cleanup_close_ int lock = img_lock(s, err);
	if (lock < 0)
		return lock;
	struct vs_image **imgs;
	size_t n;
	int r = img_index_read(s, &imgs, &n, err);
	if (r < 0)
		return r;
	size_t i;
	for (i = 0; i < n; i++)
		if (!strcmp(imgs[i]->name, name))
			break;
	if (i == n) {
		img_free_ptr_array(imgs, n);
		return vs_failx(err, ENOENT, "image: %s: no such image", name);
	}
	vs_image_free(imgs[i]);
	memmove(imgs + i, imgs + i + 1, (n - i - 1) * sizeof(*imgs));
	n--;
	r = img_index_write(s, imgs, n, err);
	img_free_ptr_array(imgs, n);
	return r;
}

int vs_store_layer_path(struct vs_store *s, const char *diffid, char *buf, size_t len,
			struct vs_err *err)
{
	const char *hex;
	if (!vs_digest_valid(diffid, &hex))
		return vs_failx(err, EINVAL, "image: layer %s: not a sha256 digest", diffid);
	if (img_path(buf, len, "%s/layers/%s", s->root, hex) < 0)
		return vs_failx(err, ENAMETOOLONG, "image: layer %s: path too long", diffid);
	return 0;
}

static bool strv_has(char *const *v, const char *s)
{
	for (size_t i = 0; v && v[i]; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

static bool in_use(struct vs_image **imgs, size_t n, char *const *keep, const char *digest,
		   bool layer)
{
	if (layer && strv_has(keep, digest))
		return true;
	for (size_t i = 0; i < n; i++)
		if (strv_has(layer ? imgs[i]->layers : imgs[i]->blobs, digest))
			return true;
	return false;
}

/* removes unreferenced entries of <store>/<sub> (layers or blobs) */
static int gc_dir(struct vs_store *s, const char *sub, bool layer, struct vs_image **imgs,
		  size_t n, char *const *keep, unsigned *removed, struct vs_err *err)
{
	char p[PATH_MAX], digest[300];
	img_path(p, sizeof(p), "%s/%s", s->root, sub);
	DIR *d = opendir(p);
	if (!d)
		return vs_fail(err, errno, "image: gc: open %s", p);
	struct dirent *de;
	int r = 0;
	time_t now = time(NULL);
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(digest, sizeof(digest), "sha256:%s", de->d_name);
		if (!layer && !strcmp(sub, "tmp")) {
			struct stat st;
			if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
			    now - st.st_mtime < STALE_TMP_SECONDS)
				continue;
		} else if (in_use(imgs, n, keep, digest, layer)) {
			continue;
		}
		if (img_path(p, sizeof(p), "%s/%s/%s", s->root, sub, de->d_name) < 0)
			continue;
		int q = vs_rm_rf(p);
		if (q < 0 && r == 0)
			r = vs_fail(err, -q, "image: gc: remove %s", p);
		else if (q == 0 && removed)
			(*removed)++;
	}
	closedir(d);
	return r;
}

int vs_store_gc(struct vs_store *s, char *const *keep, unsigned *removed, struct vs_err *err)
{
	if (removed)
		*removed = 0;
	_cleanup_close_ int lock = img_lock(s, err);
	if (lock < 0)
		return lock;
	struct vs_image **imgs;
	size_t n;
	int r = img_index_read(s, &imgs, &n, err);
	if (r < 0)
		return r;
	r = gc_dir(s, "layers", true, imgs, n, keep, removed, err);
	if (r == 0)
		r = gc_dir(s, "blobs/sha256", false, imgs, n, keep, removed, err);
	if (r == 0)
		r = gc_dir(s, "tmp", false, imgs, n, keep, removed, err);
	img_free_ptr_array(imgs, n);
	return r;
}

/* ---- the embedded default image ---- */

static int tar_add(struct archive *a, const char *path, mode_t type, mode_t perm,
		   const char *link, const void *data, size_t len)
{
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, path);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, perm);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_mtime(e, 0, 0);
	if (link)
		archive_entry_set_symlink(e, link);
	archive_entry_set_size(e, type == AE_IFREG ? (la_int64_t)len : 0);
	int r = archive_write_header(a, e);
	if (r == ARCHIVE_OK && len && archive_write_data(a, data, len) != (la_ssize_t)len)
		r = ARCHIVE_FATAL;
	archive_entry_free(e);
	return r == ARCHIVE_OK ? 0 : -(archive_errno(a) > 0 ? archive_errno(a) : EIO);
}

/* "usr/bin/awk" -> "../../bin/busybox" */
static void applet_link(const char *path, char *out, size_t len)
{
	size_t depth = 0;
	for (const char *p = path; *p; p++)
		depth += *p == '/';
	out[0] = '\0';
	for (size_t i = 0; i < depth; i++)
		strncat(out, "../", len - strlen(out) - 1);
	strncat(out, "bin/busybox", len - strlen(out) - 1);
	if (depth == 1 && !strncmp(path, "bin/", 4))
		snprintf(out, len, "busybox");
}

static int write_default_tar(const char *busybox, const char *tar, struct vs_err *err)
{
	static const struct { const char *p; mode_t m; } dirs[] = {
		{ "bin", 0755 }, { "sbin", 0755 }, { "usr", 0755 }, { "usr/bin", 0755 },
		{ "usr/sbin", 0755 }, { "etc", 0755 }, { "proc", 0555 }, { "sys", 0555 },
		{ "dev", 0755 }, { "tmp", 01777 }, { "root", 0700 }, { "home", 0755 },
		{ "run", 0755 }, { "var", 0755 }, { "var/tmp", 01777 }, { "var/log", 0755 },
	};
	static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\n"
				     "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
	static const char group[] = "root:x:0:\nnobody:x:65534:\n";
	static const char hosts[] = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n";
	_cleanup_free_ char *bin = NULL, *list = NULL;
	size_t binlen;
	int r = vs_read_file(busybox, &bin, &binlen);
	if (r < 0)
		return vs_fail(err, -r, "image: default: read %s", busybox);
	char *argv[] = { (char *)busybox, "--list-full", NULL };
	if (img_run(argv, &list, err) < 0)
		return vs_wrap(err, "image: default: %s --list-full", busybox);
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	if (archive_write_open_filename(a, tar) != ARCHIVE_OK) {
		r = vs_failx(err, EIO, "image: default: %s: %s", tar, archive_error_string(a));
		archive_write_free(a);
		return r;
	}
	for (size_t i = 0; r == 0 && i < VS_ARRAY_SIZE(dirs); i++)
		r = tar_add(a, dirs[i].p, AE_IFDIR, dirs[i].m, NULL, NULL, 0);
	if (r == 0)
		r = tar_add(a, "bin/busybox", AE_IFREG, 0755, NULL, bin, binlen);
	if (r == 0)
		r = tar_add(a, "etc/passwd", AE_IFREG, 0644, NULL, passwd, sizeof(passwd) - 1);
	if (r == 0)
		r = tar_add(a, "etc/group", AE_IFREG, 0644, NULL, group, sizeof(group) - 1);
	if (r == 0)
		r = tar_add(a, "etc/hosts", AE_IFREG, 0644, NULL, hosts, sizeof(hosts) - 1);
	if (r == 0)
		r = tar_add(a, "etc/hostname", AE_IFREG, 0644, NULL, "vserver\n", 8);
	char *save = NULL;
	for (char *l = strtok_r(list, "\n", &save); r == 0 && l; l = strtok_r(NULL, "\n", &save)) {
		char link[64];
		while (*l == '/')
			l++;
		if (!*l || !strcmp(l, "bin/busybox") || strstr(l, "..") ||
		    !(strncmp(l, "bin/", 4) == 0 || strncmp(l, "sbin/", 5) == 0 ||
		      strncmp(l, "usr/bin/", 8) == 0 || strncmp(l, "usr/sbin/", 9) == 0))
			continue;
		applet_link(l, link, sizeof(link));
		r = tar_add(a, l, AE_IFLNK, 0777, link, NULL, 0);
	}
	if (archive_write_close(a) != ARCHIVE_OK && r == 0)
		r = -EIO;
	archive_write_free(a);
	return r < 0 ? vs_fail(err, -r, "image: default: write %s", tar) : 0;
}

int vs_image_make_default(struct vs_store *s, const char *busybox, struct vs_err *err)
{
	if (!busybox)
		busybox = "/bin/busybox";
	char tmp[PATH_MAX], tar[PATH_MAX];
	int r = img_mktemp(s, "default", tmp, sizeof(tmp), err);
	if (r < 0)
		return r;
	if (img_path(tar, sizeof(tar), "%s/rootfs.tar", tmp) < 0)
		r = vs_failx(err, ENAMETOOLONG, "image: default: path too long");
	if (r == 0)
		r = write_default_tar(busybox, tar, err);
	if (r == 0) {
		char *cmd[] = { "/bin/sh", NULL };
		char *env[] = { "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
				"HOME=/root", NULL };
		struct vs_image_config cfg = { .cmd = cmd, .env = env, .workdir = "/" };
		r = img_import_single(s, tar, VS_IMAGE_DEFAULT_NAME, "default", &cfg, err);
	}
	vs_rm_rf(tmp);
	return r;
}
