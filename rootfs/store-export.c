/* rootfs/store-export: a server's disk as one tar file and back.
 *
 * The file is a pax tar: vserver-export.json ({"version":1,"image":NAME,
 * "layers":[diff ids]}), config (the caller's bytes, e.g. the server's
 * config.json), then upper/... the server's overlay upper layer with its
 * overlayfs whiteouts (0:0 char devices) and opaque-dir xattrs, so that on
 * import the same image + this layer give the same view. Hard links inside
 * the upper layer stay hard links: libarchive's link resolver (by device
 * and inode) writes the first name with the data and the others as tar
 * hard-link entries, which import turns back into link(2)s. Links to a file
 * outside upper/ (overlayfs' shared whiteout in work/) are not followed:
 * such a file is written once per name inside upper/, then linked.
 * An extra file beside upper/ (a VM server's disk image) is one sparse pax
 * entry: libarchive finds its holes (SEEK_HOLE) and writes only the data.
 * Import writes it as NAME.import and renames it over NAME only when all
 * of the file was read and checked: a truncated or corrupt export leaves
 * the server's NAME as it was and no partial file. */
#include "image-internal.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define META_NAME "vserver-export.json"
#define CONFIG_NAME "config"
#define MAX_META (16u << 20)
#define EXTRA_TMP "%s/%s.import"   /* server dir, extra file's name */

static int ar_errno(struct archive *a)
{
	int e = archive_errno(a);
	return e > 0 ? e : EIO;
}

static int add_bytes(struct archive *a, const char *name, const void *data, size_t len)
{
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0600);
	archive_entry_set_size(e, (la_int64_t)len);
	archive_entry_set_mtime(e, time(NULL), 0);
	int r = archive_write_header(a, e);
	if (r == ARCHIVE_OK && len && archive_write_data(a, data, len) != (la_ssize_t)len)
		r = ARCHIVE_FATAL;
	archive_entry_free(e);
	return r == ARCHIVE_OK ? 0 : -ar_errno(a);
}

static char *meta_json(const struct vs_image *img)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	yajl_gen_map_open(g);
	img_gen_str(g, "version");
	yajl_gen_integer(g, 1);
	img_gen_kv(g, "image", img->name);
	char *empty[] = { NULL };
	img_gen_strv(g, "layers", img->layers ? img->layers : empty);
	yajl_gen_map_close(g);
	const unsigned char *buf;
	size_t len;
	yajl_gen_get_buf(g, &buf, &len);
	char *r = vs_xmalloc(len + 1);
	memcpy(r, buf, len);
	r[len] = '\0';
	yajl_gen_free(g);
	return r;
}

/* walks upper and writes it as upper/... */
static int write_upper(struct archive *out, const char *upper, struct vs_err *err)
{
	struct archive_entry_linkresolver *links = archive_entry_linkresolver_new();
	archive_entry_linkresolver_set_strategy(links, archive_format(out));
	struct archive *disk = archive_read_disk_new();
	archive_read_disk_set_standard_lookup(disk);
	archive_read_disk_set_symlink_physical(disk);
	archive_read_disk_set_behavior(disk, ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS);
	int r = 0;
	if (archive_read_disk_open(disk, upper) != ARCHIVE_OK) {
		r = vs_failx(err, ar_errno(disk), "disk: export: open %s: %s", upper,
			     archive_error_string(disk));
		goto out;
	}
	size_t plen = strlen(upper);
	void *buf = vs_xmalloc(IMG_BUFSZ);
	for (;;) {
		struct archive_entry *e = archive_entry_new();
		int q = archive_read_next_header2(disk, e);
		if (q == ARCHIVE_EOF) {
			archive_entry_free(e);
			break;
		}
		if (q < ARCHIVE_WARN) {
			r = vs_failx(err, ar_errno(disk), "disk: export: read %s: %s", upper,
				     archive_error_string(disk));
			archive_entry_free(e);
			break;
		}
		archive_read_disk_descend(disk);
		const char *p = archive_entry_pathname(e);
		char *name = vs_xasprintf("upper%s", p + (strlen(p) >= plen ? plen : strlen(p)));
		archive_entry_set_pathname(e, name);
		free(name);
		/* a second name of an inode seen before becomes a hard-link entry
		 * (size 0, no data); the tar strategy never holds entries back */
		struct archive_entry *spare = NULL;
		archive_entry_linkify(links, &e, &spare);
		q = archive_write_header(out, e);
		if (q == ARCHIVE_OK && archive_entry_filetype(e) == AE_IFREG && !archive_entry_hardlink(e)) {
			la_ssize_t n;
			while ((n = archive_read_data(disk, buf, IMG_BUFSZ)) > 0)
				if (archive_write_data(out, buf, (size_t)n) != n) {
					q = ARCHIVE_FATAL;
					break;
				}
			if (n < 0)
				q = ARCHIVE_FATAL;
		}
		if (q < ARCHIVE_WARN)
			r = vs_failx(err, ar_errno(out), "disk: export: %s: %s", archive_entry_pathname(e),
				     archive_error_string(out) ? archive_error_string(out)
							       : archive_error_string(disk));
		archive_entry_free(e);
		if (r < 0)
			break;
	}
	free(buf);
out:
	archive_read_free(disk);
	archive_entry_linkresolver_free(links);
	return r;
}

/* server_dir/name as the entry name, holes kept: the entry carries the
 * sparse map, the pax writer drops the bytes of the holes from the stream */
static int write_extra(struct archive *out, const char *server_dir, const char *name,
		       struct vs_err *err)
{
	char path[PATH_MAX];
	if (img_path(path, sizeof(path), "%s/%s", server_dir, name) < 0)
		return vs_failx(err, ENAMETOOLONG, "disk: export %s: path too long", name);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return vs_fail(err, errno, "disk: export: open %s", path);
	struct archive *disk = archive_read_disk_new();
	struct archive_entry *e = archive_entry_new();
	int r = 0;
	if (archive_read_disk_entry_from_file(disk, e, fd, &st) != ARCHIVE_OK) {
		r = vs_failx(err, ar_errno(disk), "disk: export: %s: %s", path,
			     archive_error_string(disk));
		goto out;
	}
	archive_entry_set_pathname(e, name);
	if (archive_write_header(out, e) != ARCHIVE_OK) {
		r = vs_failx(err, ar_errno(out), "disk: export: %s: %s", name, archive_error_string(out));
		goto out;
	}
	void *buf = vs_xmalloc(IMG_BUFSZ);
	lseek(fd, 0, SEEK_SET);
	for (off_t done = 0; r == 0 && done < st.st_size;) {
		ssize_t n = read(fd, buf, IMG_BUFSZ);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			r = vs_fail(err, n < 0 ? errno : EIO, "disk: export: read %s", path);
		else if (archive_write_data(out, buf, (size_t)n) != n)
			r = vs_failx(err, ar_errno(out), "disk: export: %s: %s", name,
				     archive_error_string(out));
		else
			done += n;
	}
	free(buf);
out:
	archive_entry_free(e);
	archive_read_free(disk);
	return r;
}

int vs_disk_export(const char *server_dir, const struct vs_image *img, const void *config,
		   size_t config_len, const char *extra, const char *out_path, struct vs_err *err)
{
	char upper[PATH_MAX], tmp[PATH_MAX];
	bool attached;
	_cleanup_free_ char *meta = meta_json(img);
	if (img_path(tmp, sizeof(tmp), "%s.tmp.%d", out_path, (int)getpid()) < 0)
		return vs_failx(err, ENAMETOOLONG, "disk: export %s: path too long", out_path);
	int r = img_disk_open(server_dir, upper, sizeof(upper), &attached, err);
	if (r < 0)
		return r;
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	if (archive_write_open_filename(a, tmp) != ARCHIVE_OK) {
		r = vs_failx(err, ar_errno(a), "disk: export: create %s: %s", tmp, archive_error_string(a));
		goto out;
	}
	if ((r = add_bytes(a, META_NAME, meta, strlen(meta))) < 0 ||
	    (r = add_bytes(a, CONFIG_NAME, config, config ? config_len : 0)) < 0) {
		r = vs_fail(err, -r, "disk: export: write %s", tmp);
		goto out;
	}
	r = write_upper(a, upper, err);
	if (r == 0 && extra)
		r = write_extra(a, server_dir, extra, err);
	if (r == 0 && archive_write_close(a) != ARCHIVE_OK)
		r = vs_failx(err, ar_errno(a), "disk: export: write %s: %s", tmp, archive_error_string(a));
	if (r == 0 && rename(tmp, out_path) < 0)
		r = vs_fail(err, errno, "disk: export: rename to %s", out_path);
out:
	archive_write_free(a);
	if (r < 0)
		unlink(tmp);
	img_disk_close(server_dir, attached);
	return r;
}

static int read_small(struct archive *a, struct archive_entry *e, char **out, size_t *len)
{
	la_int64_t size = archive_entry_size(e);
	if (size < 0 || size > (la_int64_t)MAX_META)
		return -EFBIG;
	char *buf = vs_xmalloc((size_t)size + 1);
	la_ssize_t n = size ? archive_read_data(a, buf, (size_t)size) : 0;
	if (n != size) {
		free(buf);
		return n < 0 ? -ar_errno(a) : -EPIPE;
	}
	buf[size] = '\0';
	free(*out);
	*out = buf;
	if (len)
		*len = (size_t)size;
	return 0;
}

/* rel is upper/... (into the layer) or, with extra, the extra file's name
 * (into the server's dir, a regular file only) */
static int import_entry(struct archive *in, struct archive *disk, struct archive_entry *e,
			const char *dir, const char *rel, bool extra, struct vs_err *err)
{
	char abs[PATH_MAX], hl[PATH_MAX], hrel[PATH_MAX];
	if (img_path(abs, sizeof(abs), extra ? EXTRA_TMP : "%s/%s", dir, extra ? rel : rel + 6) < 0)
		return vs_failx(err, ENAMETOOLONG, "disk: import %s: path too long", rel);
	const char *link = archive_entry_hardlink(e);
	if (extra && (link || archive_entry_filetype(e) != AE_IFREG))
		return vs_failx(err, EINVAL, "disk: import: %s is not a regular file", rel);
	if (link) {
		if (img_clean_path(link, hrel, sizeof(hrel)) < 0 || strncmp(hrel, "upper/", 6) ||
		    img_path(hl, sizeof(hl), "%s/%s", dir, hrel + 6) < 0)
			return vs_failx(err, EINVAL, "disk: import %s: bad hardlink target", rel);
		archive_entry_set_hardlink(e, hl);
	}
	archive_entry_set_pathname(e, abs);
	img_filter_xattrs(e, true);
	int q = archive_write_header(disk, e);
	if (q >= ARCHIVE_WARN && archive_entry_size(e) > 0 && !link) {
		const void *buf;
		size_t size;
		la_int64_t off;
		while ((q = archive_read_data_block(in, &buf, &size, &off)) == ARCHIVE_OK)
			if (archive_write_data_block(disk, buf, size, off) < ARCHIVE_WARN) {
				q = ARCHIVE_FATAL;
				break;
			}
		if (q == ARCHIVE_EOF)
			q = ARCHIVE_OK;
	}
	if (q >= ARCHIVE_WARN)
		q = archive_write_finish_entry(disk);
	if (q < ARCHIVE_WARN)
		return vs_failx(err, ar_errno(disk), "disk: import: extract %s: %s (%s)", extra ? rel : rel + 6,
				vs_errno_name(ar_errno(disk)), archive_error_string(disk)
				? archive_error_string(disk) : archive_error_string(in));
	return 0;
}

static int import_all(struct archive *in, const char *upper, const char *server_dir,
		      const char *extra, char **meta, char **config, size_t *config_len,
		      struct vs_err *err)
{
	struct archive *disk = archive_write_disk_new();
	archive_write_disk_set_options(disk, ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM |
		ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_ACL |
		ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
		ARCHIVE_EXTRACT_UNLINK);
	archive_write_disk_set_standard_lookup(disk);
	struct archive_entry *e;
	char rel[PATH_MAX];
	int r = 0;
	for (;;) {
		int q = archive_read_next_header(in, &e);
		if (q == ARCHIVE_EOF)
			break;
		if (q < ARCHIVE_WARN) {
			r = vs_failx(err, ar_errno(in), "disk: import: read: %s", archive_error_string(in));
			break;
		}
		const char *p = archive_entry_pathname(e);
		if (!p || img_clean_path(p, rel, sizeof(rel)) < 0) {
			r = vs_failx(err, EINVAL, "disk: import: entry %s leaves the layer", p ? p : "?");
			break;
		}
		if (!strcmp(rel, META_NAME) || !strcmp(rel, CONFIG_NAME)) {
			bool is_meta = !strcmp(rel, META_NAME);
			q = read_small(in, e, is_meta ? meta : config, is_meta ? NULL : config_len);
			if (q < 0) {
				r = vs_fail(err, -q, "disk: import: read %s", rel);
				break;
			}
		} else if (!strncmp(rel, "upper/", 6)) {
			if ((r = import_entry(in, disk, e, upper, rel, false, err)) < 0)
				break;
		} else if (extra && !strcmp(rel, extra)) {
			if ((r = import_entry(in, disk, e, server_dir, rel, true, err)) < 0)
				break;
		} else if (strcmp(rel, "upper")) {
			r = vs_failx(err, EINVAL, "disk: import: unexpected entry %s", rel);
			break;
		}
	}
	if (r == 0 && archive_write_close(disk) != ARCHIVE_OK)
		r = vs_failx(err, ar_errno(disk), "disk: import: %s", archive_error_string(disk));
	archive_write_free(disk);
	return r;
}

int vs_disk_import(const char *in_path, const char *server_dir, uint64_t quota, const char *extra,
		   char **image_name, char **config, size_t *config_len, struct vs_err *err)
{
	char upper[PATH_MAX];
	bool attached = false;
	_cleanup_free_ char *meta = NULL;
	char *cfg = NULL;
	size_t cfg_len = 0;
	struct archive *in = archive_read_new();
	archive_read_support_filter_all(in);
	archive_read_support_format_tar(in);
	int r = 0;
	if (archive_read_open_filename(in, in_path, IMG_BUFSZ) != ARCHIVE_OK) {
		r = vs_failx(err, ar_errno(in), "disk: import %s: %s", in_path, archive_error_string(in));
		archive_read_free(in);
		return r;
	}
	r = vs_disk_create(server_dir, quota, err);
	if (r < 0) {
		archive_read_free(in);
		return r;
	}
	char tmp[PATH_MAX] = "", dst[PATH_MAX];
	if (extra && (img_path(tmp, sizeof(tmp), EXTRA_TMP, server_dir, extra) < 0 ||
		      img_path(dst, sizeof(dst), "%s/%s", server_dir, extra) < 0))
		r = vs_failx(err, ENAMETOOLONG, "disk: import %s: path too long", extra);
	if (r == 0)
		r = img_disk_open(server_dir, upper, sizeof(upper), &attached, err);
	if (r == 0)
		r = import_all(in, upper, server_dir, extra, &meta, &cfg, &cfg_len, err);
	archive_read_free(in);
	img_disk_close(server_dir, attached);
	yajl_val v = NULL;
	if (r == 0) {
		char ebuf[128];
		v = meta ? yajl_tree_parse(meta, ebuf, sizeof(ebuf)) : NULL;
		if (!img_json_str(v, "image"))
			r = vs_failx(err, EINVAL, "disk: import %s: no " META_NAME " naming the image",
				     in_path);
	}
	/* the extra file, whole: in place of the old one */
	if (r == 0 && tmp[0] && access(tmp, F_OK) == 0 && rename(tmp, dst) < 0)
		r = vs_fail(err, errno, "disk: import: rename %s to %s", tmp, dst);
	if (tmp[0])
		unlink(tmp);
	if (r < 0) {
		yajl_tree_free(v);
		free(cfg);
		vs_disk_destroy(server_dir, NULL);
		return r;
	}
	*image_name = vs_xstrdup(img_json_str(v, "image"));
	yajl_tree_free(v);
	if (!cfg)
		cfg = vs_xcalloc(1, 1);
	*config = cfg;
	if (config_len)
		*config_len = cfg_len;
	return 0;
}
