/* rootfs/image-layer: verifying blobs, and extracting one layer with its OCI
 * whiteouts turned into overlayfs whiteouts.
 *
 * Every layer is kept as its own directory and the stack is given to
 * overlayfs as lowerdirs, so a layer's deletions must be expressed the way
 * overlayfs reads them in a lower layer:
 *   .wh.<name>       -> <name> as a character device 0:0 (hides <name> below)
 *   .wh..wh..opq     -> trusted.overlay.opaque="y" on the directory (hides
 *                       everything below it, shows only this layer's content)
 * A whiteout applies to the layers below only: if <name> already exists in
 * this same layer it is kept (a directory becomes opaque), and a directory
 * the layer creates where it whited out <name> is made opaque.
 *
 * Security: entry paths are made relative and may not contain "..";
 * ARCHIVE_EXTRACT_SECURE_SYMLINKS refuses to write through a symlink, so a
 * layer cannot reach outside its directory. trusted.overlay.* xattrs in a
 * tar are dropped: only this code decides what overlayfs sees as a whiteout,
 * opaque dir or redirect. */
#include "image-internal.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#define OPQ_XATTR "trusted.overlay.opaque"

void img_progress(const struct vs_progress *pg, const char *phase, uint64_t done, uint64_t total)
{
	if (pg && pg->fn)
		pg->fn(pg->arg, phase, done, total);
}

int img_blob_copy_verify(int src_fd, const char *dst, const char *digest, int64_t want_size,
			 char got_hex[65], const struct vs_progress *pg, struct vs_err *err)
{
	const char *want_hex = NULL;
	if (!digest)
		digest = "(new)";
	else if (!vs_digest_valid(digest, &want_hex))
		return vs_failx(err, EINVAL, "image: blob %s: unsupported digest", digest);
	struct stat st;
	if (fstat(src_fd, &st) < 0)
		return vs_fail(err, errno, "image: blob %s: stat", digest);
	if (want_size >= 0 && st.st_size != want_size)
		return vs_failx(err, EINVAL, "image: blob %s: size mismatch (descriptor %lld, file %lld)",
				digest, (long long)want_size, (long long)st.st_size);
	_cleanup_close_ int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (out < 0)
		return vs_fail(err, errno, "image: blob %s: create %s", digest, dst);
	_cleanup_free_ uint8_t *buf = vs_xmalloc(IMG_BUFSZ);
	struct vs_sha256 c;
	vs_sha256_init(&c);
	for (;;) {
		ssize_t n = read(src_fd, buf, IMG_BUFSZ);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return vs_fail(err, errno, "image: blob %s: read", digest);
		if (n == 0)
			break;
		vs_sha256_update(&c, buf, (size_t)n);
		ssize_t w = vs_write_all(out, buf, (size_t)n);
		if (w < 0)
			return vs_fail(err, (int)-w, "image: blob %s: write %s", digest, dst);
		img_progress(pg, "copy", c.len, (uint64_t)st.st_size);
	}
	img_progress(pg, "copy", c.len, c.len);
	if (want_size >= 0 && (int64_t)c.len != want_size)
		return vs_failx(err, EINVAL, "image: blob %s: size mismatch (descriptor %lld, read %llu)",
				digest, (long long)want_size, (unsigned long long)c.len);
	char hex[65];
	vs_sha256_final_hex(&c, hex);
	if (got_hex)
		memcpy(got_hex, hex, 65);
	if (want_hex && strcmp(hex, want_hex))
		return vs_failx(err, EINVAL, "image: blob %.19s...: digest mismatch (got sha256:%.12s...)",
				digest, hex);
	if (fsync(out) < 0)
		return vs_fail(err, errno, "image: blob %s: fsync", digest);
	return 0;
}

/* The decompressed tar stream: an outer reader ("raw" format, every filter)
 * undoes the compression; the tar reader pulls from it through this
 * callback, which hashes every byte for the diff id. */
struct tarsrc {
	struct archive *outer;
	const struct vs_progress *pg;
	uint64_t total;           /* the blob's size on disk */
	struct vs_sha256 sha;
	void *buf;
	int eof;
};

static la_ssize_t tarsrc_read(struct archive *a, void *data, const void **buf)
{
	struct tarsrc *t = data;
	(void)a;
	if (t->eof)
		return 0;
	la_ssize_t n = archive_read_data(t->outer, t->buf, IMG_BUFSZ);
	if (n < 0) {
		archive_set_error(a, archive_errno(t->outer) ? archive_errno(t->outer) : EIO,
				  "%s", archive_error_string(t->outer));
		return -1;
	}
	if (n == 0)
		t->eof = 1;
	vs_sha256_update(&t->sha, t->buf, (size_t)n);
	/* bytes of the compressed file consumed so far */
	img_progress(t->pg, "unpack", (uint64_t)archive_filter_bytes(t->outer, -1), t->total);
	*buf = t->buf;
	return n;
}

/* a relative, normalised path without ".." or empty components; "" = root */
int img_clean_path(const char *in, char *out, size_t len)
{
	size_t o = 0;
	const char *p = in;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *e = strchrnul(p, '/');
		size_t n = (size_t)(e - p);
		if (n == 1 && p[0] == '.') {
			p = e;
			continue;
		}
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return -EINVAL;
		if (o + n + 2 > len)
			return -ENAMETOOLONG;
		if (o)
			out[o++] = '/';
		memcpy(out + o, p, n);
		o += n;
		p = e;
	}
	out[o] = '\0';
	return 0;
}

static int ensure_parent(const char *dest, const char *rel, char *abs, size_t len)
{
	if (img_path(abs, len, "%s/%s", dest, rel) < 0)
		return -ENAMETOOLONG;
	char *slash = strrchr(abs, '/');
	*slash = '\0';
	int r = vs_mkdir_p(abs, 0755);
	*slash = '/';
	return r;
}

static int is_whiteout(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

/* .wh.<name> or .wh..wh..opq: rel is the cleaned path of the marker. */
static int apply_whiteout(const char *dest, const char *rel, const char *base)
{
	char abs[PATH_MAX];
	int r = ensure_parent(dest, rel, abs, sizeof(abs));
	if (r < 0)
		return r;
	char *slash = strrchr(abs, '/');
	struct stat st;
	if (!strcmp(base, ".wh..wh..opq")) {
		*slash = '\0';
		return setxattr(abs, OPQ_XATTR, "y", 1, 0) < 0 ? -errno : 0;
	}
	const char *name = base + 4;
	if (!*name || !strcmp(name, ".") || !strcmp(name, "..") || strchr(name, '/'))
		return -EINVAL;
	memmove(slash + 1, name, strlen(name) + 1);
	if (lstat(abs, &st) == 0) {
		/* the same layer has <name>: the whiteout only hides lower ones */
		if (S_ISDIR(st.st_mode))
			return setxattr(abs, OPQ_XATTR, "y", 1, 0) < 0 ? -errno : 0;
		return 0;
	}
	return mknod(abs, S_IFCHR | 0000, makedev(0, 0)) < 0 ? -errno : 0;
}

void img_filter_xattrs(struct archive_entry *e, bool keep_opaque)
{
	if (archive_entry_xattr_reset(e) == 0)
		return;
	struct kept { char *name; void *val; size_t len; } *kept = NULL;
	size_t n = 0;
	bool dropped = false;
	const char *name;
	const void *val;
	size_t len;
	while (archive_entry_xattr_next(e, &name, &val, &len) == ARCHIVE_OK) {
		if (!strncmp(name, "trusted.overlay.", 16) && !(keep_opaque && !strcmp(name, OPQ_XATTR))) {
			dropped = true;
			continue;
		}
		kept = vs_xrealloc(kept, (n + 1) * sizeof(*kept));
		kept[n].name = vs_xstrdup(name);
		kept[n].val = vs_xmalloc(len);
		memcpy(kept[n].val, val, len);
		kept[n++].len = len;
	}
	if (dropped) {
		archive_entry_xattr_clear(e);
		for (size_t i = 0; i < n; i++)
			archive_entry_xattr_add_entry(e, kept[i].name, kept[i].val, kept[i].len);
	}
	for (size_t i = 0; i < n; i++) {
		free(kept[i].name);
		free(kept[i].val);
	}
	free(kept);
}

static int copy_data(struct archive *in, struct archive *out)
{
	for (;;) {
		const void *buf;
		size_t size;
		la_int64_t off;
		int r = archive_read_data_block(in, &buf, &size, &off);
		if (r == ARCHIVE_EOF)
			return ARCHIVE_OK;
		if (r < ARCHIVE_OK)
			return r;
		if (archive_write_data_block(out, buf, size, off) < ARCHIVE_OK)
			return ARCHIVE_FATAL - 1; /* marks "write side" */
	}
}

static int ar_errno(struct archive *a)
{
	int e = archive_errno(a);
	return e > 0 ? e : EIO;
}

/* a write of libarchive's disk writer failed: the OS's reason (ENOSPC, EDQUOT)
 * and where, not libarchive's bare "Write failed" */
static int disk_fail(struct archive *disk, const char *dest, const char *rel,
		     struct vs_err *err)
{
	int e = archive_errno(disk);
	if (e > 0)
		return vs_fail(err, e, "extract %s into %s", rel, dest);
	return vs_failx(err, EIO, "extract %s into %s: %s", rel, dest,
			archive_error_string(disk) ? archive_error_string(disk) : "write failed");
}

/* one regular tar entry, path already cleaned */
static int extract_entry(struct archive *in, struct archive *disk, struct archive_entry *e,
			 const char *dest, const char *rel, struct vs_err *err)
{
	char abs[PATH_MAX], link[PATH_MAX];
	int q = ensure_parent(dest, rel, abs, sizeof(abs));
	if (q < 0)
		return vs_fail(err, -q, "extract %s into %s: parent", rel, dest);
	const char *hl = archive_entry_hardlink(e);
	if (hl) {
		char hrel[PATH_MAX];
		if (img_clean_path(hl, hrel, sizeof(hrel)) < 0 || !*hrel ||
		    img_path(link, sizeof(link), "%s/%s", dest, hrel) < 0)
			return vs_failx(err, EINVAL, "extract %s: bad hardlink target %s", rel, hl);
		archive_entry_set_hardlink(e, link);
	}
	struct stat st;
	bool was_whiteout = lstat(abs, &st) == 0 && is_whiteout(&st);
	archive_entry_set_pathname(e, abs);
	img_filter_xattrs(e, false);
	if (archive_write_header(disk, e) < ARCHIVE_WARN)
		return disk_fail(disk, dest, rel, err);
	if (archive_entry_size(e) > 0 && !hl) {
		int r = copy_data(in, disk);
		if (r == ARCHIVE_FATAL - 1)
			return disk_fail(disk, dest, rel, err);
		if (r < ARCHIVE_WARN)
			return vs_failx(err, ar_errno(in), "read %s: %s", rel, archive_error_string(in));
	}
	if (archive_write_finish_entry(disk) < ARCHIVE_WARN)
		return disk_fail(disk, dest, rel, err);
	/* the layer deleted <rel> below and made a new directory there */
	if (was_whiteout && archive_entry_filetype(e) == AE_IFDIR &&
	    setxattr(abs, OPQ_XATTR, "y", 1, 0) < 0)
		return vs_fail(err, errno, "extract %s: set opaque", rel);
	return 0;
}

static int extract_all(struct archive *in, struct archive *disk, const char *dest,
		       struct vs_err *err)
{
	struct archive_entry *e;
	char rel[PATH_MAX];
	for (;;) {
		int r = archive_read_next_header(in, &e);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r < ARCHIVE_WARN)
			return vs_failx(err, ar_errno(in), "read: %s", archive_error_string(in));
		const char *path = archive_entry_pathname(e);
		if (!path || img_clean_path(path, rel, sizeof(rel)) < 0)
			return vs_failx(err, EINVAL, "entry %s: path leaves the layer", path ? path : "?");
		if (!*rel)
			continue; /* "./": the root's attributes come from the upper layer */
		if (!dest)
			continue; /* only hashing: the data is skipped (and still hashed) */
		const char *base = strrchr(rel, '/');
		base = base ? base + 1 : rel;
		if (!strncmp(base, ".wh.", 4)) {
			int q = apply_whiteout(dest, rel, base);
			if (q < 0)
				return vs_fail(err, -q, "whiteout %s into %s", rel, dest);
			continue;
		}
		int q = extract_entry(in, disk, e, dest, rel, err);
		if (q < 0)
			return q;
	}
}

int img_layer_extract(const char *blob, const char *dest, char diff_hex[65],
		      const struct vs_progress *pg, struct vs_err *err)
{
	struct tarsrc t = { .buf = vs_xmalloc(IMG_BUFSZ), .pg = pg };
	struct stat bst;
	if (stat(blob, &bst) == 0)
		t.total = (uint64_t)bst.st_size;
	vs_sha256_init(&t.sha);
	struct archive *in = NULL, *disk = NULL;
	struct archive_entry *e;
	int r;

	t.outer = archive_read_new();
	archive_read_support_filter_all(t.outer);
	archive_read_support_format_raw(t.outer);
	if (archive_read_open_filename(t.outer, blob, IMG_BUFSZ) != ARCHIVE_OK ||
	    archive_read_next_header(t.outer, &e) != ARCHIVE_OK) {
		r = vs_failx(err, ar_errno(t.outer), "open: %s", archive_error_string(t.outer));
		goto out;
	}
	in = archive_read_new();
	archive_read_support_format_tar(in);
	if (archive_read_open(in, &t, NULL, tarsrc_read, NULL) != ARCHIVE_OK) {
		r = vs_failx(err, ar_errno(in), "not a tar archive: %s", archive_error_string(in));
		goto out;
	}
	if (dest) {
		disk = archive_write_disk_new();
		archive_write_disk_set_options(disk, ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM |
			ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_ACL |
			ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
			ARCHIVE_EXTRACT_UNLINK);
		archive_write_disk_set_standard_lookup(disk);
	}
	r = extract_all(in, disk, dest, err);
	if (r < 0)
		goto out;
	if (disk && archive_write_close(disk) != ARCHIVE_OK) {
		r = disk_fail(disk, dest, "(close)", err);
		goto out;
	}
	/* the diff id covers the whole stream, padding after the end blocks too */
	for (;;) {
		la_ssize_t n = archive_read_data(t.outer, t.buf, IMG_BUFSZ);
		if (n < 0) {
			r = vs_failx(err, ar_errno(t.outer), "read: %s", archive_error_string(t.outer));
			goto out;
		}
		if (n == 0)
			break;
		vs_sha256_update(&t.sha, t.buf, (size_t)n);
	}
	vs_sha256_final_hex(&t.sha, diff_hex);
	img_progress(pg, "unpack", t.total, t.total);
	if (dest && chmod(dest, 0755) < 0)
		r = vs_fail(err, errno, "chmod %s", dest);
out:
	if (disk)
		archive_write_free(disk);
	if (in)
		archive_read_free(in);
	archive_read_free(t.outer);
	free(t.buf);
	return r;
}
