/* rootfs/image-oci: importing an OCI image layout (as skopeo and umoci write
 * them) and plain rootfs tarballs.
 *
 * Everything is first copied into a private temp dir inside the store while
 * its digest and size are checked against the descriptor; manifests and
 * configs are parsed and layers extracted from those verified copies only
 * (the source cannot change under us). Each layer's uncompressed stream must
 * hash to the config's diff id. Only when all of it is verified is it renamed
 * into place (img_commit), so a refused import leaves the store as it was. */
#include "image-internal.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define MT_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define REF_ANNOTATION "org.opencontainers.image.ref.name"

struct import {
	struct vs_store *s;
	const char *layout;
	int layout_fd;
	char tmp[PATH_MAX];
	char **blobs;          /* digests kept by the image */
};

static bool name_ok(const char *name)
{
	if (!name)
		return false;
	size_t n = strlen(name);
	if (!n || n > 255)
		return false;
	for (const char *p = name; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

/* copies + verifies layout blob <digest> into tmp/blobs/<hex>; path gets it */
static int fetch_blob(struct import *im, const char *digest, int64_t size, char *path,
		      size_t len, struct vs_err *err)
{
	const char *hex;
	if (!vs_digest_valid(digest, &hex))
		return vs_failx(err, EINVAL, "image: import %s: unsupported digest \"%s\"",
				im->layout, digest ? digest : "");
	char rel[128];
	snprintf(rel, sizeof(rel), "blobs/sha256/%s", hex);
	_cleanup_close_ int fd = openat(im->layout_fd, rel, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return vs_fail(err, errno, "image: blob %s: open %s/%s", digest, im->layout, rel);
	if (img_path(path, len, "%s/blobs/%s", im->tmp, hex) < 0)
		return vs_failx(err, ENAMETOOLONG, "image: blob %s: path too long", digest);
	struct stat st;
	if (stat(path, &st) == 0)
		return 0; /* the same blob twice in one image */
	int r = img_blob_copy_verify(fd, path, digest, size, NULL, &im->s->progress, err);
	if (r < 0) {
		unlink(path);
		return r;
	}
	vs_strv_push(&im->blobs, digest);
	return 0;
}

/* a descriptor: digest and size */
static int descriptor(struct import *im, yajl_val d, const char *what, const char **digest,
		      int64_t *size, struct vs_err *err)
{
	*digest = img_json_str(d, "digest");
	yajl_val sz = img_json_get(d, "size", yajl_t_number);
	if (!*digest || !sz || !YAJL_IS_INTEGER(sz) || YAJL_GET_INTEGER(sz) < 0)
		return vs_failx(err, EINVAL, "image: import %s: %s: descriptor without digest or size",
				im->layout, what);
	*size = YAJL_GET_INTEGER(sz);
	return 0;
}

/* fetches a JSON blob and parses it */
static int fetch_json(struct import *im, yajl_val d, const char *what, yajl_val *out,
		      struct vs_err *err)
{
	const char *digest;
	int64_t size;
	char path[PATH_MAX];
	int r = descriptor(im, d, what, &digest, &size, err);
	if (r == 0)
		r = fetch_blob(im, digest, size, path, sizeof(path), err);
	if (r < 0)
		return r;
	_cleanup_free_ char *data = NULL;
	r = vs_read_file(path, &data, NULL);
	if (r < 0)
		return vs_fail(err, -r, "image: %s %s: read", what, digest);
	char ebuf[256];
	*out = yajl_tree_parse(data, ebuf, sizeof(ebuf));
	if (!*out || !YAJL_IS_OBJECT(*out)) {
		yajl_tree_free(*out);
		return vs_failx(err, EINVAL, "image: %s %s: not a JSON object", what, digest);
	}
	return 0;
}

static bool platform_matches(yajl_val d)
{
	yajl_val p = img_json_get(d, "platform", yajl_t_object);
	if (!p)
		return true;
	const char *os = img_json_str(p, "os"), *arch = img_json_str(p, "architecture");
#if defined(__x86_64__)
	const char *host = "amd64";
#elif defined(__aarch64__)
	const char *host = "arm64";
#else
	const char *host = NULL;
#endif
	return (!os || !strcmp(os, "linux")) && (!arch || !host || !strcmp(arch, host));
}

/* picks the manifest descriptor from an index (recursing into nested ones) */
static int select_manifest(struct import *im, yajl_val index, const char *ref, int depth,
			   yajl_val *keep, yajl_val *out, struct vs_err *err)
{
	yajl_val ms = img_json_get(index, "manifests", yajl_t_array);
	if (!ms || !ms->u.array.len)
		return vs_failx(err, EINVAL, "image: import %s: index lists no manifests", im->layout);
	yajl_val pick = NULL;
	for (size_t i = 0; i < ms->u.array.len && !pick; i++) {
		yajl_val d = ms->u.array.values[i];
		if (ref && depth == 0) {
			yajl_val ann = img_json_get(d, "annotations", yajl_t_object);
			const char *rn = img_json_str(ann, REF_ANNOTATION);
			if (rn && !strcmp(rn, ref))
				pick = d;
		} else if (platform_matches(d)) {
			pick = d;
		}
	}
	if (!pick)
		return ref && depth == 0
			? vs_failx(err, ENOENT, "image: import %s: no manifest named \"%s\"", im->layout, ref)
			: vs_failx(err, ENOENT, "image: import %s: no manifest for linux on this "
				   "architecture", im->layout);
	const char *mt = img_json_str(pick, "mediaType");
	if (mt && (!strcmp(mt, MT_INDEX) || !strcmp(mt, MT_DOCKER_LIST))) {
		if (depth >= 3)
			return vs_failx(err, ELOOP, "image: import %s: indexes nested too deep", im->layout);
		yajl_val sub;
		int r = fetch_json(im, pick, "index", &sub, err);
		if (r < 0)
			return r;
		keep[depth] = sub;
		return select_manifest(im, sub, ref, depth + 1, keep, out, err);
	}
	*out = pick;
	return 0;
}

static void parse_config(yajl_val cfgdoc, struct vs_image_config *c)
{
	yajl_val v = img_json_get(cfgdoc, "config", yajl_t_object);
	if (!v)
		return;
	c->entrypoint = img_json_strv(v, "Entrypoint");
	c->cmd = img_json_strv(v, "Cmd");
	c->env = img_json_strv(v, "Env");
	const char *w = img_json_str(v, "WorkingDir"), *u = img_json_str(v, "User");
	c->workdir = w && *w ? vs_xstrdup(w) : NULL;
	c->user = u && *u ? vs_xstrdup(u) : NULL;
	yajl_val ports = img_json_get(v, "ExposedPorts", yajl_t_object);
	if (ports) {
		c->exposed_ports = vs_xcalloc(1, sizeof(char *));
		for (size_t i = 0; i < ports->u.object.len; i++)
			vs_strv_push(&c->exposed_ports, ports->u.object.keys[i]);
	}
}

/* extracts (or, when the store has it, only verifies) one layer blob */
static int apply_layer(struct import *im, const char *blob_path, const char *blob_digest,
		       const char *want_diff, struct vs_err *err)
{
	const char *want_hex;
	if (!vs_digest_valid(want_diff, &want_hex))
		return vs_failx(err, EINVAL, "image: layer %s: bad diff id", blob_digest);
	char stored[PATH_MAX], work[PATH_MAX], final[PATH_MAX], got[65];
	struct stat st;
	int r = vs_store_layer_path(im->s, want_diff, stored, sizeof(stored), err);
	if (r < 0)
		return r;
	bool have = stat(stored, &st) == 0 ||
		    (img_path(final, sizeof(final), "%s/layers/%s", im->tmp, want_hex) == 0 &&
		     stat(final, &st) == 0);
	if (img_path(work, sizeof(work), "%s/layers/.new", im->tmp) < 0 ||
	    img_path(final, sizeof(final), "%s/layers/%s", im->tmp, want_hex) < 0)
		return vs_failx(err, ENAMETOOLONG, "image: layer %s: path too long", want_diff);
	if (!have && mkdir(work, 0700) < 0)
		return vs_fail(err, errno, "image: layer %s: mkdir", want_diff);
	r = img_layer_extract(blob_path, have ? NULL : work, got, &im->s->progress, err);
	if (r < 0) {
		vs_rm_rf(work);
		return vs_wrap(err, "image: layer %.19s...", want_diff);
	}
	if (strcmp(got, want_hex)) {
		vs_rm_rf(work);
		return vs_failx(err, EINVAL, "image: layer %.19s...: diff id mismatch (blob %.19s... "
				"unpacks to sha256:%.12s...)", want_diff, blob_digest, got);
	}
	if (!have && rename(work, final) < 0)
		return vs_fail(err, errno, "image: layer %s: rename", want_diff);
	return 0;
}

static int import_manifest(struct import *im, yajl_val manifest, struct vs_image *img,
			   struct vs_err *err)
{
	yajl_val cfgd = img_json_get(manifest, "config", yajl_t_object);
	yajl_val layers = img_json_get(manifest, "layers", yajl_t_array);
	if (!cfgd || !layers)
		return vs_failx(err, EINVAL, "image: import %s: manifest without config or layers",
				im->layout);
	if (layers->u.array.len > VS_IMAGE_MAX_LAYERS)
		return vs_failx(err, E2BIG, "image: import %s: %zu layers (at most %d)", im->layout,
				layers->u.array.len, VS_IMAGE_MAX_LAYERS);
	yajl_val cfgdoc;
	int r = fetch_json(im, cfgd, "config", &cfgdoc, err);
	if (r < 0)
		return r;
	const char *path[] = { "rootfs", "diff_ids", NULL };
	yajl_val diffs = yajl_tree_get(cfgdoc, path, yajl_t_array);
	if (!diffs || diffs->u.array.len != layers->u.array.len) {
		yajl_tree_free(cfgdoc);
		return vs_failx(err, EINVAL, "image: import %s: config lists %zu diff ids for %zu layers",
				im->layout, diffs ? diffs->u.array.len : 0, layers->u.array.len);
	}
	parse_config(cfgdoc, &img->config);
	img->layers = vs_xcalloc(1, sizeof(char *));
	for (size_t i = 0; r == 0 && i < layers->u.array.len; i++) {
		const char *digest, *diff = YAJL_GET_STRING(diffs->u.array.values[i]);
		int64_t size;
		char blob[PATH_MAX];
		r = descriptor(im, layers->u.array.values[i], "layer", &digest, &size, err);
		if (r == 0)
			r = fetch_blob(im, digest, size, blob, sizeof(blob), err);
		if (r == 0)
			r = apply_layer(im, blob, digest, diff ? diff : "", err);
		if (r == 0)
			vs_strv_push(&img->layers, diff);
	}
	yajl_tree_free(cfgdoc);
	return r;
}

static int import_begin(struct import *im, struct vs_err *err)
{
	char p[PATH_MAX];
	int r = img_mktemp(im->s, "import", im->tmp, sizeof(im->tmp), err);
	if (r < 0)
		return r;
	static const char *const sub[] = { "layers", "blobs" };
	for (size_t i = 0; i < VS_ARRAY_SIZE(sub); i++) {
		img_path(p, sizeof(p), "%s/%s", im->tmp, sub[i]);
		if (mkdir(p, 0700) < 0)
			return vs_fail(err, errno, "image: mkdir %s", p);
	}
	im->blobs = vs_xcalloc(1, sizeof(char *));
	return 0;
}

int vs_image_import_oci(struct vs_store *s, const char *layout, const char *ref,
			const char *name, struct vs_err *err)
{
	struct import im = { .s = s, .layout = layout };
	_cleanup_free_ char *defname = NULL;
	if (!name) {
		const char *base = strrchr(layout, '/');
		base = base && base[1] ? base + 1 : layout;
		if (ref && strchr(ref, ':'))
			defname = vs_xstrdup(ref);
		else
			defname = vs_xasprintf("%s:%s", base, ref ? ref : "latest");
		name = defname;
	}
	if (!name_ok(name))
		return vs_failx(err, EINVAL, "image: import %s: bad image name \"%s\"", layout, name);
	_cleanup_close_ int lfd = open(layout, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (lfd < 0)
		return vs_fail(err, errno, "image: import %s", layout);
	im.layout_fd = lfd;
	_cleanup_free_ char *data = NULL, *ol = NULL;
	if (vs_read_file_at(lfd, "index.json", &data, NULL) < 0)
		return vs_failx(err, EINVAL, "image: import %s: not an OCI layout (no index.json)", layout);
	if (vs_read_file_at(lfd, "oci-layout", &ol, NULL) < 0 || !strstr(ol, "imageLayoutVersion"))
		return vs_failx(err, EINVAL, "image: import %s: not an OCI layout (no oci-layout)", layout);
	char ebuf[256];
	yajl_val index = yajl_tree_parse(data, ebuf, sizeof(ebuf));
	if (!index || !YAJL_IS_OBJECT(index)) {
		yajl_tree_free(index);
		return vs_failx(err, EINVAL, "image: import %s: index.json: not a JSON object", layout);
	}
	yajl_val keep[4] = { NULL }, mdesc = NULL, manifest = NULL;
	struct vs_image *img = vs_xcalloc(1, sizeof(*img));
	int r = import_begin(&im, err);
	if (r == 0)
		r = select_manifest(&im, index, ref, 0, keep, &mdesc, err);
	if (r == 0)
		r = fetch_json(&im, mdesc, "manifest", &manifest, err);
	if (r == 0)
		r = import_manifest(&im, manifest, img, err);
	yajl_tree_free(manifest);
	for (size_t i = 0; i < VS_ARRAY_SIZE(keep); i++)
		yajl_tree_free(keep[i]);
	yajl_tree_free(index);
	if (r == 0) {
		img->name = vs_xstrdup(name);
		img->source = vs_xstrdup("oci");
		img->created = img_now_iso();
		img->blobs = TAKE_PTR(im.blobs);
		r = img_commit(s, im.tmp, TAKE_PTR(img), err);
	}
	vs_image_free(img);
	vs_strv_free(im.blobs);
	if (im.tmp[0])
		vs_rm_rf(im.tmp);
	return r;
}

int img_import_single(struct vs_store *s, const char *tarball, const char *name,
		      const char *source, const struct vs_image_config *cfg, struct vs_err *err)
{
	struct import im = { .s = s, .layout = tarball, .layout_fd = -1 };
	if (!name_ok(name))
		return vs_failx(err, EINVAL, "image: import %s: bad image name \"%s\"", tarball,
				name ? name : "(none)");
	_cleanup_close_ int fd = open(tarball, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return vs_fail(err, errno, "image: import %s", tarball);
	if (!S_ISREG(st.st_mode))
		return vs_failx(err, EINVAL, "image: import %s: not a regular file", tarball);
	struct vs_image *img = vs_xcalloc(1, sizeof(*img));
	char blob[PATH_MAX], dst[PATH_MAX], work[PATH_MAX], hex[65], diff[65];
	int r = import_begin(&im, err);
	if (r == 0 && (img_path(blob, sizeof(blob), "%s/blobs/.new", im.tmp) < 0 ||
		       img_path(work, sizeof(work), "%s/layers/.new", im.tmp) < 0))
		r = vs_failx(err, ENAMETOOLONG, "image: import %s: path too long", tarball);
	if (r == 0)
		r = img_blob_copy_verify(fd, blob, NULL, -1, hex, &s->progress, err);
	if (r == 0 && mkdir(work, 0700) < 0)
		r = vs_fail(err, errno, "image: import %s: mkdir", tarball);
	if (r == 0 && img_layer_extract(blob, work, diff, &s->progress, err) < 0)
		r = vs_wrap(err, "image: import %s", tarball);
	if (r == 0) {
		img_path(dst, sizeof(dst), "%s/blobs/%s", im.tmp, hex);
		if (rename(blob, dst) < 0)
			r = vs_fail(err, errno, "image: import %s: rename", tarball);
		img_path(dst, sizeof(dst), "%s/layers/%s", im.tmp, diff);
		if (r == 0 && rename(work, dst) < 0)
			r = vs_fail(err, errno, "image: import %s: rename", tarball);
	}
	if (r == 0) {
		img->name = vs_xstrdup(name);
		img->source = vs_xstrdup(source);
		img->created = img_now_iso();
		img->layers = vs_xcalloc(1, sizeof(char *));
		char *d = vs_xasprintf("sha256:%s", diff);
		vs_strv_push(&img->layers, d);
		free(d);
		d = vs_xasprintf("sha256:%s", hex);
		vs_strv_push(&im.blobs, d);
		free(d);
		img->blobs = TAKE_PTR(im.blobs);
		if (cfg) {
			img->config.entrypoint = cfg->entrypoint ? vs_strv_dup(cfg->entrypoint) : NULL;
			img->config.cmd = cfg->cmd ? vs_strv_dup(cfg->cmd) : NULL;
			img->config.env = cfg->env ? vs_strv_dup(cfg->env) : NULL;
			img->config.exposed_ports = cfg->exposed_ports ? vs_strv_dup(cfg->exposed_ports) : NULL;
			img->config.workdir = vs_xstrdup(cfg->workdir);
			img->config.user = vs_xstrdup(cfg->user);
		}
		r = img_commit(s, im.tmp, TAKE_PTR(img), err);
	}
	vs_image_free(img);
	vs_strv_free(im.blobs);
	if (im.tmp[0])
		vs_rm_rf(im.tmp);
	return r;
}

int vs_image_import_tarball(struct vs_store *s, const char *tarball, const char *name,
			    struct vs_err *err)
{
	return img_import_single(s, tarball, name, "tarball", NULL, err);
}
