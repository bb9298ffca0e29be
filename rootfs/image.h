/* rootfs/image: the overlay image store and the per-server disk.
 *
 * A content-addressed store under one root directory (default
 * VS_IMAGE_STORE_DEFAULT):
 *
 *   blobs/sha256/<hex>      blobs as imported (manifests, configs, compressed layers)
 *   layers/<diffid-hex>/    each layer extracted once, OCI whiteouts converted to
 *                           overlayfs whiteouts; shared by every image and server
 *   index.json              image name -> record (layers bottom-first, config defaults)
 *   lock                    flock(2) guarding index.json and the commit of new content
 *   tmp/                    work area; an import builds everything here and renames
 *                           it into place only when complete and verified
 *
 * A server's disk (store-disk.c) lives in its own directory:
 *
 *   <server>/upper/ work/   the overlay's writable layer, or, with a quota on a
 *                           filesystem without project quota:
 *   <server>/disk.img       a sparse ext4 image of the quota's size, loop-mounted at
 *   <server>/disk/          which holds upper/ and work/
 *
 * Every function returns >= 0 on success or -errno with err filled (one line
 * naming what failed). Nothing here prints or exits. Will be merged into
 * rootfs.h. */
#ifndef VS_ROOTFS_IMAGE_H
#define VS_ROOTFS_IMAGE_H

#include "../common/common.h"

#define VS_IMAGE_STORE_DEFAULT "/var/lib/vserver/images"
#define VS_IMAGE_DEFAULT_NAME "default:latest"
/* lowerdir+ (new mount API) takes any number up to the kernel's 500; the
 * legacy mount(2) string is limited to one page. */
#define VS_IMAGE_MAX_LAYERS 500

/* ---- sha256 (image-sha256.c), FIPS 180-4 ---- */
struct vs_sha256 {
	uint32_t h[8];
	uint64_t len;         /* bytes hashed so far */
	uint8_t buf[64];
	size_t buflen;
};
void vs_sha256_init(struct vs_sha256 *c);
void vs_sha256_update(struct vs_sha256 *c, const void *data, size_t len);
void vs_sha256_final(struct vs_sha256 *c, uint8_t out[32]);
/* Finishes c and writes 64 lowercase hex digits and a NUL to hex. */
void vs_sha256_final_hex(struct vs_sha256 *c, char hex[65]);
/* Hashes a whole file; size may be NULL. */
int vs_sha256_file(const char *path, char hex[65], uint64_t *size);
/* "sha256:<64 hex>" -> true, and hex points at the hex part. */
bool vs_digest_valid(const char *digest, const char **hex);

/* ---- the store (image-store.c) ---- */
/* Progress of a long import, for a front end to show: called as the input
 * is read, once per buffer and once at the end of each phase. phase is
 * "copy" (the input hashed into the store) or "unpack" (a layer read again
 * and extracted); done and total are bytes of the input as stored
 * (compressed). The callback must not fail or block. */
struct vs_progress {
	void (*fn)(void *arg, const char *phase, uint64_t done, uint64_t total);
	void *arg;
};

struct vs_store {
	char *root;           /* absolute, symlinks resolved */
	int root_fd;          /* O_PATH|O_DIRECTORY */
	struct vs_progress progress;   /* zero: none */
};

/* Creates the store layout if missing; root NULL = VS_IMAGE_STORE_DEFAULT. */
int vs_store_open(const char *root, struct vs_store **out, struct vs_err *err);
void vs_store_close(struct vs_store *s);

struct vs_image_config {
	char **entrypoint;    /* NULL-terminated, NULL when unset */
	char **cmd;
	char **env;
	char *workdir;        /* NULL when unset */
	char *user;
	char **exposed_ports; /* "80/tcp", ... */
};

struct vs_image {
	char *name;           /* "busybox:latest" */
	char **layers;        /* diff ids "sha256:<hex>", bottom layer first */
	char **blobs;         /* every blob the image keeps alive (manifest, config, layers) */
	char *source;         /* "oci", "tarball", "default" */
	char *created;        /* ISO 8601 time of import (UTC) */
	struct vs_image_config config;
};
void vs_image_free(struct vs_image *img);

/* Looks an image up by name; -ENOENT "image: busybox:latest: no such image". */
int vs_image_get(struct vs_store *s, const char *name, struct vs_image **out, struct vs_err *err);
/* Sorted NULL-terminated list of names (free with vs_strv_free). */
int vs_image_list(struct vs_store *s, char ***names, struct vs_err *err);
/* The record as a JSON object (malloc'd, NUL-terminated). */
int vs_image_inspect_json(struct vs_store *s, const char *name, char **json, struct vs_err *err);
/* Removes the name from the index (layers stay until vs_store_gc). */
int vs_image_remove(struct vs_store *s, const char *name, struct vs_err *err);
/* Removes every layer and blob no image references, nor any diff id in keep
 * (NULL-terminated, may be NULL: layers in use by servers whose image was
 * removed), and stale tmp/ entries. *removed (may be NULL) counts what went. */
int vs_store_gc(struct vs_store *s, char *const *keep, unsigned *removed, struct vs_err *err);
/* Absolute path of an extracted layer into buf (diffid "sha256:<hex>"). */
int vs_store_layer_path(struct vs_store *s, const char *diffid, char *buf, size_t len,
			struct vs_err *err);
/* Builds "default:latest" from a static busybox (busybox NULL = /bin/busybox):
 * applet symlinks, /etc/passwd, group, hosts, the usual empty dirs. Offline. */
int vs_image_make_default(struct vs_store *s, const char *busybox, struct vs_err *err);

/* ---- imports (image-oci.c) ---- */
/* Imports an OCI image layout directory. ref selects the manifest by its
 * org.opencontainers.image.ref.name annotation (NULL: the only manifest, or
 * the first). Stored under name (NULL: "<ref or dir basename>:latest").
 * Every blob is checked against its descriptor's digest and size and every
 * layer against the config's diff id; any mismatch leaves the store as it was. */
int vs_image_import_oci(struct vs_store *s, const char *layout, const char *ref,
			const char *name, struct vs_err *err);
/* Imports a rootfs tarball (uncompressed, gzip, xz, zstd, bzip2...) as a
 * single-layer image with an empty config. */
int vs_image_import_tarball(struct vs_store *s, const char *tarball, const char *name,
			    struct vs_err *err);

/* ---- a server's disk (store-disk.c) ---- */
enum vs_disk_kind {
	VS_DISK_PLAIN = 0,    /* upper/ work/ in the server dir, no limit */
	VS_DISK_PROJQUOTA,    /* the same with an ext4/XFS project quota */
	VS_DISK_LOOP,         /* upper/ work/ inside a loop-mounted ext4 image */
};

/* The smallest quota: it covers the server's own writes only (the image's
 * layers are shared read-only and not counted), and below it a loop ext4 has
 * no room for its journal and the overlay's upper/ and work/. */
#define VS_DISK_MIN (8ull << 20)

/* Makes the server's writable layer: quota 0 = no limit; otherwise project
 * quota when the filesystem has it enabled, else a sparse ext4 image. The
 * kind used is returned (>= 0). A quota below VS_DISK_MIN is refused (EINVAL)
 * before anything is made. */
int vs_disk_create(const char *server_dir, uint64_t quota, struct vs_err *err);
/* Which kind a server dir holds (-ENOENT when none). */
int vs_disk_kind(const char *server_dir);
/* Mounts the overlay of img's layers + the server's upper at target
 * (attaching the loop image first when there is one). */
int vs_disk_mount(struct vs_store *s, const struct vs_image *img, const char *server_dir,
		  const char *target, struct vs_err *err);
/* Unmounts target (may be NULL) and detaches the loop image, if any. */
int vs_disk_umount(const char *server_dir, const char *target, struct vs_err *err);
/* Unmounts and removes every file of the disk (not the server dir itself). */
int vs_disk_destroy(const char *server_dir, struct vs_err *err);
/* The server must be stopped (its overlay unmounted) for these. */
/* Copies the upper layer to snap_dir/upper (reflinks where the fs can). */
int vs_disk_snapshot(const char *server_dir, const char *snap_dir, struct vs_err *err);
/* Replaces the upper layer with snap_dir/upper. */
int vs_disk_restore(const char *server_dir, const char *snap_dir, struct vs_err *err);
/* New disk in dst_dir (quota as vs_disk_create) holding a copy of src's upper. */
int vs_disk_clone(const char *src_dir, const char *dst_dir, uint64_t quota, struct vs_err *err);
/* Writes a tar to out_path: vserver-export.json (image name, layer diff ids),
 * config (the bytes given), upper/... (the layer, whiteouts and xattrs kept),
 * and, with extra (a file name in server_dir, e.g. a VM's disk), that file
 * under its name as a sparse entry (its holes stay holes). */
int vs_disk_export(const char *server_dir, const struct vs_image *img, const void *config,
		   size_t config_len, const char *extra, const char *out_path, struct vs_err *err);
/* Makes a disk in server_dir (quota as vs_disk_create) from an export;
 * returns the image name and the config bytes (malloc'd, NUL-terminated).
 * An entry named extra (if not NULL) is written to server_dir/extra, sparse;
 * any other entry beside those of vs_disk_export is refused. */
int vs_disk_import(const char *in_path, const char *server_dir, uint64_t quota, const char *extra,
		   char **image_name, char **config, size_t *config_len, struct vs_err *err);

#endif
