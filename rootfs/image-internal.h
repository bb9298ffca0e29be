/* rootfs/image-internal: what the image store's files share. Not exported. */
#ifndef VS_ROOTFS_IMAGE_INTERNAL_H
#define VS_ROOTFS_IMAGE_INTERNAL_H

#include "image.h"

#include <yajl_gen.h>
#include <yajl_tree.h>

#define IMG_BUFSZ (1 << 17)

/* image-util.c */
/* snprintf into a PATH_MAX buffer; -ENAMETOOLONG when it does not fit. */
int img_path(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A fresh directory under <store>/tmp named <prefix>.XXXXXX. */
int img_mktemp(struct vs_store *s, const char *prefix, char *out, size_t len, struct vs_err *err);
/* flock(LOCK_EX) on <store>/lock; returns the fd (close to unlock). */
int img_lock(struct vs_store *s, struct vs_err *err);
/* Runs argv (argv[0] an absolute path or found in PATH), stdin and stderr on
 * /dev/null, stdout into *out (malloc'd) when out != NULL else /dev/null.
 * Returns 0, or -EIO / -errno with err "<argv0>: exited with status N". */
int img_run(char *const argv[], char **out, struct vs_err *err);
/* ISO 8601 UTC now. */
char *img_now_iso(void);
void img_free_ptr_array(struct vs_image **v, size_t n);

/* yajl helpers */
const char *img_json_str(yajl_val v, const char *key);
char **img_json_strv(yajl_val v, const char *key);   /* NULL when absent */
yajl_val img_json_get(yajl_val v, const char *key, yajl_type type);
void img_gen_str(yajl_gen g, const char *s);
void img_gen_kv(yajl_gen g, const char *key, const char *val);   /* skipped when val NULL */
void img_gen_strv(yajl_gen g, const char *key, char *const *v);  /* skipped when v NULL */

/* image-store.c: the index */
/* Reads index.json (missing = empty). Caller holds the lock for consistency. */
int img_index_read(struct vs_store *s, struct vs_image ***imgs, size_t *n, struct vs_err *err);
int img_index_write(struct vs_store *s, struct vs_image **imgs, size_t n, struct vs_err *err);
void img_gen_image(yajl_gen g, const struct vs_image *img);
/* Commits what an import left in tmpdir (layers/<hex>, blobs/<hex>) into the
 * store and adds/replaces img in the index, all under the lock. Consumes img. */
int img_commit(struct vs_store *s, const char *tmpdir, struct vs_image *img, struct vs_err *err);

/* image-oci.c */
/* Imports a tarball as a one-layer image with the given source and config
 * (copied; may be NULL). */
int img_import_single(struct vs_store *s, const char *tarball, const char *name,
		      const char *source, const struct vs_image_config *cfg, struct vs_err *err);

/* image-layer.c */
/* Copies src_fd to the new file dst while hashing it; checks the size
 * (unless want_size < 0) and the digest ("sha256:<hex>", NULL = none).
 * got_hex (may be NULL) receives the hex of what was read. */
int img_blob_copy_verify(int src_fd, const char *dst, const char *digest, int64_t want_size,
			 char got_hex[65], const struct vs_progress *pg, struct vs_err *err);
/* Decompresses and hashes the tar stream of blob (diff_hex gets the diff id's
 * hex) and, when dest != NULL, extracts it into the existing directory dest,
 * converting OCI whiteouts to overlayfs ones. */
/* A relative, normalised path of in: no "..", no empty or "." components;
 * "" is the root. -EINVAL for "..". */
int img_clean_path(const char *in, char *out, size_t len);
struct archive_entry;
/* Drops the entry's trusted.overlay.* xattrs (but the opaque marker when
 * keep_opaque): only our code decides what overlayfs sees. */
void img_filter_xattrs(struct archive_entry *e, bool keep_opaque);
int img_layer_extract(const char *blob, const char *dest, char diff_hex[65],
		      const struct vs_progress *pg, struct vs_err *err);
/* pg->fn(phase, done, total) when there is one */
void img_progress(const struct vs_progress *pg, const char *phase, uint64_t done, uint64_t total);

/* store-disk.c: a server's upper dir, its loop disk attached when needed */
int img_disk_open(const char *dir, char *upper, size_t len, bool *attached, struct vs_err *err);
void img_disk_close(const char *dir, bool attached);

#endif
