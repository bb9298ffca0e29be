/* Tests of the image store and server disks (rootfs/image*.c, store*.c).
 * Real: runs as root, makes OCI layouts and tarballs with tar/gzip/xz/zstd,
 * mounts overlays and loop devices under a temp dir and removes them all. */
#include "tap.h"
#include "../../rootfs/image.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>

static char T[256];

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
	static char bufs[64][PATH_MAX];
	static int k;
	char *b = bufs[k++ % 64];
	va_list ap;
	va_start(ap, f);
	vsnprintf(b, PATH_MAX, f, ap);
	va_end(ap);
	return b;
}

static int sh(const char *f, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *f, ...)
{
	char cmd[8192];
	va_list ap;
	va_start(ap, f);
	vsnprintf(cmd, sizeof(cmd), f, ap);
	va_end(ap);
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *sh_out(const char *cmd)
{
	static char buf[8192];
	FILE *p = popen(cmd, "r");
	size_t n = p ? fread(buf, 1, sizeof(buf) - 1, p) : 0;
	buf[n] = '\0';
	if (p)
		pclose(p);
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

static bool exists(const char *p)
{
	struct stat st;
	return lstat(p, &st) == 0;
}

static char *slurp(const char *p)
{
	char *s = NULL;
	return vs_read_file(p, &s, NULL) < 0 ? NULL : s;
}

static int write_file_n(const char *path, const char *data, size_t len)
{
	return vs_write_file_atomic(path, data, len, 0644);
}

static void put(const char *path, const char *data)
{
	vs_write_file_atomic(path, data, strlen(data), 0644);
}

static int count_dir(const char *p)
{
	DIR *d = opendir(p);
	int n = 0;
	struct dirent *de;
	while (d && (de = readdir(d)))
		n += de->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

static void file_sha(const char *path, char hex[65], uint64_t *size)
{
	if (vs_sha256_file(path, hex, size) < 0)
		hex[0] = '\0';
}

/* ---- sha256 ---- */

static void test_sha256(void)
{
	static const size_t sizes[] = { 0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 128, 1000, 65536, 1048583 };
	char path[512];
	snprintf(path, sizeof(path), "%s/sha-input", T);
	int good = 0;
	for (size_t i = 0; i < VS_ARRAY_SIZE(sizes); i++) {
		uint8_t *buf = vs_xmalloc(sizes[i] + 1);
		for (size_t j = 0; j < sizes[i]; j++)
			buf[j] = (uint8_t)(j * 2654435761u >> 13);
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		vs_write_all(fd, buf, sizes[i]);
		close(fd);
		char want[65], got[65], got2[65];
		snprintf(want, sizeof(want), "%s", sh_out(fmt("sha256sum %s | cut -c1-64", path)));
		file_sha(path, got, NULL);
		/* the same through odd-sized updates */
		struct vs_sha256 c;
		vs_sha256_init(&c);
		for (size_t off = 0, step = 1; off < sizes[i]; off += step, step = step * 3 % 97 + 1)
			vs_sha256_update(&c, buf + off, off + step > sizes[i] ? sizes[i] - off : step);
		vs_sha256_final_hex(&c, got2);
		good += !strcmp(want, got) && !strcmp(want, got2);
		if (strcmp(want, got) || strcmp(want, got2))
			printf("# size %zu: sha256sum %s, ours %s / %s\n", sizes[i], want, got, got2);
		free(buf);
	}
	is_int(good, VS_ARRAY_SIZE(sizes), "sha256 matches sha256sum on %zu sizes (0 .. 1 MiB+7)",
	       VS_ARRAY_SIZE(sizes));
	ok(vs_digest_valid("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
			   NULL) && !vs_digest_valid("sha256:E3B0", NULL), "digest syntax check");
}

/* ---- a hand-made OCI layout ---- */

struct blob {
	char digest[80];
	char diff[80];
	uint64_t size;
};

/* tars dir into <layout>/blobs, compressed with comp ("", "gzip", "zstd") */
static int add_layer(const char *layout, const char *dir, const char *comp, struct blob *b)
{
	char tar[512], hex[65];
	snprintf(tar, sizeof(tar), "%s/layer.tmp", T);
	if (sh("tar --numeric-owner --owner=0 --group=0 --sort=name --mtime=@0 -C %s -cf %s .",
	       dir, tar))
		return -1;
	file_sha(tar, hex, NULL);
	snprintf(b->diff, sizeof(b->diff), "sha256:%s", hex);
	if (*comp && sh("%s -q -f %s -o %s.c >/dev/null 2>&1 || %s -n -c %s > %s.c", comp, tar, tar,
			comp, tar, tar))
		return -1;
	if (*comp)
		sh("mv %s.c %s", tar, tar);
	file_sha(tar, hex, &b->size);
	snprintf(b->digest, sizeof(b->digest), "sha256:%s", hex);
	sh("mkdir -p %s/blobs/sha256 && mv %s %s/blobs/sha256/%s", layout, tar, layout, hex);
	return 0;
}

static void add_json_blob(const char *layout, const char *json, struct blob *b)
{
	struct vs_sha256 c;
	char hex[65];
	vs_sha256_init(&c);
	vs_sha256_update(&c, json, strlen(json));
	vs_sha256_final_hex(&c, hex);
	snprintf(b->digest, sizeof(b->digest), "sha256:%s", hex);
	b->size = strlen(json);
	vs_mkdir_p(fmt("%s/blobs/sha256", layout), 0755);
	put(fmt("%s/blobs/sha256/%s", layout, hex), json);
}

/* writes config, manifest, index.json and oci-layout for the layers */
static void finish_layout(const char *layout, struct blob *layers, int n)
{
	char cfg[4096], man[4096], idx[1024], diffs[1024] = "", descs[2048] = "";
	for (int i = 0; i < n; i++) {
		snprintf(diffs + strlen(diffs), sizeof(diffs) - strlen(diffs), "%s\"%s\"", i ? "," : "",
			 layers[i].diff);
		snprintf(descs + strlen(descs), sizeof(descs) - strlen(descs),
			 "%s{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\","
			 "\"digest\":\"%s\",\"size\":%llu}", i ? "," : "", layers[i].digest,
			 (unsigned long long)layers[i].size);
	}
	snprintf(cfg, sizeof(cfg), "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{"
		 "\"Entrypoint\":[\"/bin/sh\",\"-c\"],\"Cmd\":[\"echo hi\"],\"Env\":[\"PATH=/bin\","
		 "\"A=1\"],\"WorkingDir\":\"/srv\",\"User\":\"1000:1000\",\"ExposedPorts\":"
		 "{\"80/tcp\":{},\"53/udp\":{}}},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[%s]}}",
		 diffs);
	struct blob cb, mb;
	add_json_blob(layout, cfg, &cb);
	snprintf(man, sizeof(man), "{\"schemaVersion\":2,\"mediaType\":"
		 "\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":"
		 "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":%llu},"
		 "\"layers\":[%s]}", cb.digest, (unsigned long long)cb.size, descs);
	add_json_blob(layout, man, &mb);
	snprintf(idx, sizeof(idx), "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
		 "\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\",\"size\":%llu,"
		 "\"annotations\":{\"org.opencontainers.image.ref.name\":\"v1\"}}]}", mb.digest,
		 (unsigned long long)mb.size);
	put(fmt("%s/index.json", layout), idx);
	put(fmt("%s/oci-layout", layout), "{\"imageLayoutVersion\":\"1.0.0\"}");
}

static char *listing(const char *dir)
{
	return vs_xstrdup(sh_out(fmt("cd %s && find . | sort | sha256sum", dir)));
}

static struct vs_store *S;
static struct blob L1, L2, L3;

static void build_layouts(void)
{
	char r1[PATH_MAX];
	snprintf(r1, sizeof(r1), "%s", fmt("%s/r1", T));
	char r2[PATH_MAX];
	snprintf(r2, sizeof(r2), "%s", fmt("%s/r2", T));
	char r3[PATH_MAX];
	snprintf(r3, sizeof(r3), "%s", fmt("%s/r3", T));
	sh("mkdir -p %s/etc %s/opq/sub %s/keep %s/bin %s/gone", r1, r1, r1, r1, r1);
	sh("echo root > %s/etc/passwd; echo x > %s/etc/removeme; echo a > %s/opq/a;"
	   "echo b > %s/opq/sub/b; echo 1 > %s/keep/k1; echo g > %s/gone/g; ln -s ../etc/passwd %s/bin/pw",
	   r1, r1, r1, r1, r1, r1, r1);
	/* layer 2: whiteout etc/removeme and gone/, opaque opq/, new files */
	sh("mkdir -p %s/etc %s/opq %s/keep %s/gone && touch %s/etc/.wh.removeme %s/opq/.wh..wh..opq"
	   " %s/.wh.gone && echo c > %s/opq/c && echo 2 > %s/keep/k2 && echo new > %s/newfile",
	   r2, r2, r2, r2, r2, r2, r2, r2, r2, r2);
	sh("rmdir %s/gone", r2);
	sh("mkdir -p %s/srv && echo three > %s/srv/three", r3, r3);
	char l1[PATH_MAX];
	snprintf(l1, sizeof(l1), "%s", fmt("%s/layout1", T));
	char l2[PATH_MAX];
	snprintf(l2, sizeof(l2), "%s", fmt("%s/layout2", T));
	add_layer(l1, r1, "", &L1);
	add_layer(l1, r2, "gzip", &L2);
	struct blob a[2] = { L1, L2 };
	finish_layout(l1, a, 2);
	/* layout2 shares layer 1, adds a zstd (or gzip) layer */
	add_layer(l2, r1, "", &L1);
	bool zstd = sh("command -v zstd >/dev/null") == 0;
	add_layer(l2, r3, zstd ? "zstd" : "gzip", &L3);
	struct blob b[2] = { L1, L3 };
	finish_layout(l2, b, 2);
}

static void test_oci_import(void)
{
	struct vs_err err = { 0 };
	build_layouts();
	uint64_t t0 = vs_now_ns();
	int r = vs_image_import_oci(S, fmt("%s/layout1", T), "v1", "t1:latest", &err);
	is_int(r, 0, "import OCI layout (plain + gzip layer) in %.1f ms%s%s",
	       (vs_now_ns() - t0) / 1e6, r ? ": " : "", r ? err.msg : "");
	r = vs_image_import_oci(S, fmt("%s/layout2", T), NULL, "t2:latest", &err);
	is_int(r, 0, "import a second layout sharing a layer (zstd layer)%s%s", r ? ": " : "",
	       r ? err.msg : "");
	is_int(count_dir(fmt("%s/store/layers", T)), 3, "3 distinct layers stored for 4 layer uses");
	struct vs_image *img = NULL;
	r = vs_image_get(S, "t1:latest", &img, &err);
	ok(r == 0 && vs_strv_len(img->layers) == 2 && !strcmp(img->layers[0], L1.diff) &&
	   !strcmp(img->layers[1], L2.diff), "t1 lists its diff ids bottom first");
	ok(img && img->config.entrypoint && !strcmp(img->config.entrypoint[1], "-c") &&
	   img->config.cmd && !strcmp(img->config.cmd[0], "echo hi") &&
	   vs_strv_len(img->config.env) == 2 && img->config.workdir &&
	   !strcmp(img->config.workdir, "/srv") && img->config.user &&
	   !strcmp(img->config.user, "1000:1000") && vs_strv_len(img->config.exposed_ports) == 2,
	   "config defaults parsed (entrypoint, cmd, env, workdir, user, ports)");
	char *json = NULL;
	r = vs_image_inspect_json(S, "t1:latest", &json, &err);
	ok(r == 0 && strstr(json, "\"80/tcp\"") && strstr(json, L2.diff), "inspect gives JSON");
	free(json);
	char **names = NULL;
	vs_image_list(S, &names, &err);
	ok(vs_strv_len(names) == 2 && !strcmp(names[0], "t1:latest"), "list: t1, t2");
	vs_strv_free(names);
	r = vs_image_get(S, "nope:latest", &img, &err);
	ok(r == -ENOENT && strstr(err.msg, "no such image"), "unknown image: %s", err.msg);

	/* the layer on disk: overlayfs whiteouts */
	const char *hex2 = L2.diff + 7;
	struct stat st;
	char x[8] = "";
	ok(lstat(fmt("%s/store/layers/%s/etc/removeme", T, hex2), &st) == 0 && S_ISCHR(st.st_mode) &&
	   st.st_rdev == 0, "layer 2: .wh.removeme became a 0:0 char device");
	ok(getxattr(fmt("%s/store/layers/%s/opq", T, hex2), "trusted.overlay.opaque", x, sizeof(x)) == 1 &&
	   x[0] == 'y', "layer 2: opq/ has trusted.overlay.opaque=y");
	vs_image_free(img);
}

static void test_oci_mount(void)
{
	struct vs_err err = { 0 };
	struct vs_image *img = NULL;
	char srv[PATH_MAX];
	snprintf(srv, sizeof(srv), "%s", fmt("%s/srv1", T));
	char mnt[PATH_MAX];
	snprintf(mnt, sizeof(mnt), "%s", fmt("%s/mnt1", T));
	vs_mkdir_p(mnt, 0755);
	int r = vs_image_get(S, "t1:latest", &img, &err);
	if (r == 0)
		r = vs_disk_create(srv, 0, &err);
	is_int(r, VS_DISK_PLAIN, "plain disk created%s%s", r < 0 ? ": " : "", r < 0 ? err.msg : "");
	r = vs_disk_mount(S, img, srv, mnt, &err);
	is_int(r, 0, "overlay of t1 mounted%s%s", r ? ": " : "", r ? err.msg : "");
	char *s = slurp(fmt("%s/etc/passwd", mnt));
	ok(s && !strcmp(s, "root\n"), "etc/passwd from layer 1 visible");
	free(s);
	ok(!exists(fmt("%s/etc/removeme", mnt)), "whited-out etc/removeme is absent");
	ok(!exists(fmt("%s/gone", mnt)), "whited-out directory gone/ is absent");
	ok(exists(fmt("%s/opq/c", mnt)) && !exists(fmt("%s/opq/a", mnt)) &&
	   !exists(fmt("%s/opq/sub", mnt)) && count_dir(fmt("%s/opq", mnt)) == 1,
	   "opaque opq/ shows only layer 2's content");
	ok(exists(fmt("%s/keep/k1", mnt)) && exists(fmt("%s/keep/k2", mnt)), "keep/ merges both layers");
	ok(exists(fmt("%s/newfile", mnt)) && exists(fmt("%s/bin/pw", mnt)), "new file and symlink there");
	put(fmt("%s/written", mnt), "by the server\n");
	unlink(fmt("%s/keep/k1", mnt));
	vs_disk_umount(srv, mnt, &err);
	ok(exists(fmt("%s/upper/written", srv)) && exists(fmt("%s/upper/keep/k1", srv)),
	   "writes and deletions land in the server's upper/");
	vs_image_free(img);
}

static void test_refused(void)
{
	struct vs_err err = { 0 };
	char *before = listing(fmt("%s/store", T));
	sh("cp -a %s/layout1 %s/bad1 && cp -a %s/layout1 %s/bad2", T, T, T, T);
	/* flip one byte in the gzip layer */
	char b[PATH_MAX];
	snprintf(b, sizeof(b), "%s", fmt("%s/bad1/blobs/sha256/%s", T, L2.digest + 7));
	sh("printf '\\x%%02x' $(( ( $(od -An -tu1 -j100 -N1 %s) ^ 1 ) )) | dd of=%s bs=1 seek=100 conv=notrunc 2>/dev/null",
	   b, b);
	int r = vs_image_import_oci(S, fmt("%s/bad1", T), NULL, "bad:1", &err);
	ok(r == -EINVAL && strstr(err.msg, "digest mismatch") && strstr(err.msg, "image: blob sha256:"),
	   "flipped byte refused: %s", err.msg);
	sh("truncate -s -100 %s/bad2/blobs/sha256/%s", T, L2.digest + 7);
	r = vs_image_import_oci(S, fmt("%s/bad2", T), NULL, "bad:2", &err);
	ok(r == -EINVAL && strstr(err.msg, "size mismatch"), "truncated blob refused: %s", err.msg);
	sh("mkdir -p %s/empty", T);
	r = vs_image_import_oci(S, fmt("%s/empty", T), NULL, NULL, &err);
	ok(r < 0 && strstr(err.msg, "not an OCI layout (no index.json)"), "no layout: %s", err.msg);
	char *after = listing(fmt("%s/store", T));
	is_str(after, before, "store unchanged by the refused imports");
	free(before);
	free(after);
}

static void test_tarballs(void)
{
	struct vs_err err = { 0 };
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", fmt("%s/tarroot", T));
	sh("mkdir -p %s/bin %s/etc && echo hello > %s/etc/motd && ln -s motd %s/etc/issue", dir, dir,
	   dir, dir);
	sh("tar --numeric-owner -C %s -cf %s/rootfs.tar .", dir, T);
	static const char *const comp[][2] = { { "", "plain" }, { "gzip", "gzip" }, { "xz", "xz" },
					       { "zstd", "zstd" } };
	int layers_before = count_dir(fmt("%s/store/layers", T));
	int imported = 0;
	char first[80] = "";
	for (size_t i = 0; i < VS_ARRAY_SIZE(comp); i++) {
		const char *c = comp[i][0];
		if (*c && sh("command -v %s >/dev/null", c)) {
			skip(1, fmt("%s is not installed", c));
			continue;
		}
		const char *f = *c ? fmt("%s/rootfs.tar.%s", T, c) : fmt("%s/rootfs.tar", T);
		if (*c)
			sh("%s -c %s/rootfs.tar > %s 2>/dev/null", c, T, f);
		char name[PATH_MAX];
	snprintf(name, sizeof(name), "%s", fmt("tar-%s:latest", comp[i][1]));
		int r = vs_image_import_tarball(S, f, name, &err);
		struct vs_image *img = NULL;
		if (r == 0)
			r = vs_image_get(S, name, &img, &err);
		if (r == 0 && !*first)
			snprintf(first, sizeof(first), "%s", img->layers[0]);
		ok(r == 0 && vs_strv_len(img->layers) == 1 && !strcmp(img->layers[0], first),
		   "%s tarball imported, same diff id%s%s", comp[i][1], r ? ": " : "", r ? err.msg : "");
		imported += r == 0;
		vs_image_free(img);
	}
	is_int(count_dir(fmt("%s/store/layers", T)), layers_before + (imported ? 1 : 0),
	       "one layer stored for %d tarballs of the same tree", imported);
	put(fmt("%s/notatar", T), "this is not a tar archive at all, just some text\n");
	int r = vs_image_import_tarball(S, fmt("%s/notatar", T), "junk:1", &err);
	ok(r < 0, "a text file is refused: %s", err.msg);
}

static void test_gc(void)
{
	struct vs_err err = { 0 };
	unsigned removed = 0;
	int r = vs_image_remove(S, "t2:latest", &err);
	is_int(r, 0, "rm t2");
	int blobs = count_dir(fmt("%s/store/blobs/sha256", T));
	char *keep[] = { L3.diff, NULL };
	r = vs_store_gc(S, keep, &removed, &err);
	ok(r == 0 && exists(fmt("%s/store/layers/%s", T, L3.diff + 7)),
	   "gc keeps a layer in the keep list (a server still uses it)");
	r = vs_store_gc(S, NULL, &removed, &err);
	ok(r == 0 && !exists(fmt("%s/store/layers/%s", T, L3.diff + 7)) &&
	   exists(fmt("%s/store/layers/%s", T, L1.diff + 7)) &&
	   exists(fmt("%s/store/layers/%s", T, L2.diff + 7)),
	   "gc removed t2's own layer, kept the one t1 shares (%u removed)", removed);
	ok(count_dir(fmt("%s/store/blobs/sha256", T)) < blobs &&
	   exists(fmt("%s/store/blobs/sha256/%s", T, L1.digest + 7)), "gc removed t2's blobs only");
	r = vs_image_remove(S, "t2:latest", &err);
	ok(r == -ENOENT, "rm of a missing image: %s", err.msg);
}

static void test_default(void)
{
	struct vs_err err = { 0 };
	if (!exists("/bin/busybox")) {
		skip(3, "no /bin/busybox (busybox-static not installed)");
		return;
	}
	uint64_t t0 = vs_now_ns();
	int r = vs_image_make_default(S, NULL, &err);
	double ms = (vs_now_ns() - t0) / 1e6;
	is_int(r, 0, "default image built in %.1f ms%s%s", ms, r ? ": " : "", r ? err.msg : "");
	struct vs_image *img = NULL;
	char srv[PATH_MAX];
	snprintf(srv, sizeof(srv), "%s", fmt("%s/srvd", T));
	char mnt[PATH_MAX];
	snprintf(mnt, sizeof(mnt), "%s", fmt("%s/mntd", T));
	vs_mkdir_p(mnt, 0755);
	if (r == 0)
		r = vs_image_get(S, VS_IMAGE_DEFAULT_NAME, &img, &err);
	if (r == 0)
		r = vs_disk_create(srv, 0, &err);
	if (r >= 0)
		r = vs_disk_mount(S, img, srv, mnt, &err);
	ok(r == 0 && exists(fmt("%s/bin/sh", mnt)) && access(fmt("%s/bin/busybox", mnt), X_OK) == 0,
	   "default image mounted, /bin/sh there%s%s", r ? ": " : "", r ? err.msg : "");
	ok(r == 0 && sh("chroot %s /bin/sh -c 'grep -q ^root: /etc/passwd && echo ok >/tmp/ran'",
			mnt) == 0 && exists(fmt("%s/upper/tmp/ran", srv)),
	   "/bin/sh runs in it (chroot) and writes to the upper layer");
	vs_disk_umount(srv, mnt, &err);
	vs_image_free(img);
}

static bool loop_leftover(void)
{
	return sh("grep -qs '%s' /sys/block/loop*/loop/backing_file", T) == 0;
}

/* writes up to mb MiB; returns the errno that stopped it, 0 if none */
static int fill(const char *path, int mb, int *written)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return errno;
	static char buf[1 << 20];
	memset(buf, 'q', sizeof(buf));
	int e = 0;
	*written = 0;
	for (int i = 0; i < mb && !e; i++) {
		ssize_t n = vs_write_all(fd, buf, sizeof(buf));
		if (n < 0)
			e = (int)-n;
		else
			(*written)++;
	}
	if (!e && fsync(fd) < 0)
		e = errno;
	close(fd);
	return e;
}

static void test_quota(void)
{
	struct vs_err err = { 0 };
	struct vs_image *img = NULL;
	char srv[PATH_MAX];
	snprintf(srv, sizeof(srv), "%s", fmt("%s/srvq", T));
	char mnt[PATH_MAX];
	snprintf(mnt, sizeof(mnt), "%s", fmt("%s/mntq", T));
	vs_mkdir_p(mnt, 0755);
	struct statvfs before, after;
	statvfs(T, &before);
	int r = vs_image_get(S, "t1:latest", &img, &err);
	if (r == 0)
		r = vs_disk_create(srv, 20u << 20, &err);
	ok(r == VS_DISK_LOOP || r == VS_DISK_PROJQUOTA, "20M disk created (%s)%s%s",
	   r == VS_DISK_LOOP ? "loop ext4" : r == VS_DISK_PROJQUOTA ? "project quota" : "?",
	   r < 0 ? ": " : "", r < 0 ? err.msg : "");
	if (r >= 0)
		r = vs_disk_mount(S, img, srv, mnt, &err);
	is_int(r, 0, "overlay mounted on the quota disk%s%s", r ? ": " : "", r ? err.msg : "");
	int written = 0, e = r == 0 ? fill(fmt("%s/big", mnt), 30, &written) : -1;
	ok(e == ENOSPC || e == EDQUOT, "30M write refused after %d MiB: %s", written,
	   e > 0 ? vs_errno_name(e) : "no error");
	put(fmt("%s/snapfile", mnt), "A\n");
	unlink(fmt("%s/big", mnt));
	r = vs_disk_umount(srv, mnt, &err);
	is_int(r, 0, "unmounted (overlay and loop)%s%s", r ? ": " : "", r ? err.msg : "");
	ok(!loop_leftover(), "no loop device left attached");
	struct stat st;
	statvfs(T, &after);
	ok(stat(fmt("%s/disk.img", srv), &st) < 0 || (uint64_t)st.st_blocks * 512 <= (21u << 20),
	   "the host gave the disk at most its quota (%lld KiB used)",
	   (long long)(stat(fmt("%s/disk.img", srv), &st) == 0 ? st.st_blocks / 2 : 0));
	/* snapshot / restore on the loop disk */
	r = vs_disk_snapshot(srv, fmt("%s/snapq", T), &err);
	is_int(r, 0, "snapshot of the quota disk%s%s", r ? ": " : "", r ? err.msg : "");
	r = vs_disk_mount(S, img, srv, mnt, &err);
	put(fmt("%s/snapfile", mnt), "B\n");
	unlink(fmt("%s/etc/passwd", mnt));
	vs_disk_umount(srv, mnt, &err);
	r = vs_disk_restore(srv, fmt("%s/snapq", T), &err);
	is_int(r, 0, "restore%s%s", r ? ": " : "", r ? err.msg : "");
	r = vs_disk_mount(S, img, srv, mnt, &err);
	char *s = slurp(fmt("%s/snapfile", mnt));
	ok(r == 0 && s && !strcmp(s, "A\n") && exists(fmt("%s/etc/passwd", mnt)),
	   "restored: the snapshot's content back, the later deletion undone");
	free(s);
	vs_disk_umount(srv, mnt, &err);
	r = vs_disk_destroy(srv, &err);
	ok(r == 0 && !exists(fmt("%s/disk.img", srv)) && !loop_leftover(), "disk destroyed");
	vs_image_free(img);
}

/* project quota for real: an ext4 image with the project feature, prjquota */
static void test_projquota(void)
{
	struct vs_err err = { 0 };
	char fs[PATH_MAX];
	snprintf(fs, sizeof(fs), "%s", fmt("%s/prj.img", T));
	char fsm[PATH_MAX];
	snprintf(fsm, sizeof(fsm), "%s", fmt("%s/prjfs", T));
	vs_mkdir_p(fsm, 0755);
	if (sh("truncate -s 128M %s && mkfs.ext4 -q -F -O quota,project -E quotatype=prjquota %s"
	       " >/dev/null 2>&1 && mount -o loop,prjquota %s %s 2>/dev/null", fs, fs, fs, fsm)) {
		skip(2, "no ext4 with project quota here (a kernel without CONFIG_QUOTA?)");
		return;
	}
	char srv[PATH_MAX];
	snprintf(srv, sizeof(srv), "%s", fmt("%s/srv", fsm));
	int r = vs_disk_create(srv, 20u << 20, &err);
	is_int(r, VS_DISK_PROJQUOTA, "project quota used where the fs has it%s%s", r < 0 ? ": " : "",
	       r < 0 ? err.msg : "");
	int written = 0, e = fill(fmt("%s/upper/big", srv), 30, &written);
	ok(e == EDQUOT || e == ENOSPC, "30M write into upper/ refused after %d MiB: %s", written,
	   e ? vs_errno_name(e) : "no error");
	vs_disk_destroy(srv, &err);
	umount2(fsm, 0);
}

static void test_export_clone(void)
{
	struct vs_err err = { 0 };
	struct vs_image *img = NULL;
	char srv[PATH_MAX];
	snprintf(srv, sizeof(srv), "%s", fmt("%s/srv1", T));
	const char *cfg = "{\"ociVersion\":\"1.0.2\",\"hostname\":\"x\"}";
	/* hard links in the server's layer: a, b and sub/c one inode, d a copy */
	int made = sh("cd %s/upper && mkdir -p hl/sub && echo linked >hl/a && ln hl/a hl/b &&"
		      " ln hl/a hl/sub/c && cp hl/a hl/d", srv);
	is_int(made, 0, "hard links made in server 1's upper layer");
	int r = vs_image_get(S, "t1:latest", &img, &err);
	if (r == 0)
		r = vs_disk_export(srv, img, cfg, strlen(cfg), NULL, fmt("%s/exp.tar", T), &err);
	is_int(r, 0, "export server 1%s%s", r ? ": " : "", r ? err.msg : "");
	/* a fresh store on "another host" */
	struct vs_store *s2 = NULL;
	r = vs_store_open(fmt("%s/store2", T), &s2, &err);
	if (r == 0)
		r = vs_image_import_oci(s2, fmt("%s/layout1", T), NULL, "t1:latest", &err);
	char *name = NULL, *conf = NULL;
	size_t clen = 0;
	if (r == 0)
		r = vs_disk_import(fmt("%s/exp.tar", T), fmt("%s/srv-imp", T), 0, NULL, &name, &conf, &clen,
				   &err);
	ok(r == 0 && !strcmp(name, "t1:latest") && clen == strlen(cfg) && !strcmp(conf, cfg),
	   "import: image name and config bytes back%s%s", r ? ": " : "", r ? err.msg : "");
	struct stat ha, hb, hc, hd;
	const char *iu = fmt("%s/srv-imp/upper/hl", T);
	bool st_ok = stat(fmt("%s/a", iu), &ha) == 0 && stat(fmt("%s/b", iu), &hb) == 0 &&
		     stat(fmt("%s/sub/c", iu), &hc) == 0 && stat(fmt("%s/d", iu), &hd) == 0;
	ok(st_ok && ha.st_ino == hb.st_ino && ha.st_ino == hc.st_ino && ha.st_nlink == 3 &&
	   hd.st_ino != ha.st_ino && hd.st_nlink == 1,
	   "hard links survive export/import: a, b, sub/c one inode with 3 links (%lu), d apart (%lu links)",
	   st_ok ? (unsigned long)ha.st_nlink : 0, st_ok ? (unsigned long)hd.st_nlink : 0);
	char *lc = slurp(fmt("%s/sub/c", iu));
	ok(lc && !strcmp(lc, "linked\n"), "the linked file's data is there once, under every name");
	free(lc);
	struct vs_image *img2 = NULL;
	char mnt[PATH_MAX];
	snprintf(mnt, sizeof(mnt), "%s", fmt("%s/mnti", T));
	vs_mkdir_p(mnt, 0755);
	if (r == 0)
		r = vs_image_get(s2, name, &img2, &err);
	if (r == 0)
		r = vs_disk_mount(s2, img2, fmt("%s/srv-imp", T), mnt, &err);
	char *w = slurp(fmt("%s/written", mnt));
	ok(r == 0 && w && !strcmp(w, "by the server\n") && !exists(fmt("%s/keep/k1", mnt)) &&
	   exists(fmt("%s/keep/k2", mnt)), "imported server: its file there, its deletion kept%s%s",
	   r ? ": " : "", r ? err.msg : "");
	free(w);
	vs_disk_umount(fmt("%s/srv-imp", T), mnt, &err);
	/* clone into a quota disk */
	r = vs_disk_clone(srv, fmt("%s/srv-clone", T), 16u << 20, &err);
	if (r == 0)
		r = vs_disk_mount(S, img, fmt("%s/srv-clone", T), mnt, &err);
	w = slurp(fmt("%s/written", mnt));
	ok(r == 0 && w && !strcmp(w, "by the server\n") && !exists(fmt("%s/keep/k1", mnt)),
	   "clone (into a 16M disk) has the same view%s%s", r ? ": " : "", r ? err.msg : "");
	free(w);
	vs_disk_umount(fmt("%s/srv-clone", T), mnt, &err);
	vs_disk_destroy(fmt("%s/srv-clone", T), &err);
	free(name);
	free(conf);
	name = conf = NULL;
	/* an extra file (a VM's disk): sparse out, sparse back, refused unasked */
	is_int(sh("truncate -s 64M %s/extra.img && printf vm-data | dd of=%s/extra.img bs=1 seek=1048576"
		  " conv=notrunc status=none", srv, srv), 0, "a sparse 64M file with 7 bytes at 1M");
	r = img ? vs_disk_export(srv, img, cfg, strlen(cfg), "extra.img", fmt("%s/exp2.tar", T), &err) : -1;
	struct stat xs;
	is_int(r, 0, "export with an extra file%s%s", r ? ": " : "", r ? err.msg : "");
	ok(stat(fmt("%s/exp2.tar", T), &xs) == 0 && xs.st_size < (1 << 20),
	   "the export holds the data, not the holes (%lld bytes)", (long long)xs.st_size);
	r = vs_disk_import(fmt("%s/exp2.tar", T), fmt("%s/srv-imp2", T), 0, "extra.img", &name, &conf,
			   &clen, &err);
	is_int(r, 0, "import with the extra file%s%s", r ? ": " : "", r ? err.msg : "");
	bool xok = stat(fmt("%s/srv-imp2/extra.img", T), &xs) == 0;
	ok(xok && xs.st_size == (64 << 20) && xs.st_blocks * 512 < (1 << 20),
	   "the extra file is back: 64M long, sparse (%lld blocks)", xok ? (long long)xs.st_blocks : -1LL);
	is_int(sh("dd if=%s/srv-imp2/extra.img bs=1 skip=1048576 count=7 status=none | grep -qx vm-data",
		  T), 0, "its data at 1M");
	ok(!exists(fmt("%s/srv-imp2/extra.img.import", T)), "no temporary name left beside it");
	vs_disk_destroy(fmt("%s/srv-imp2", T), &err);
	free(name);
	free(conf);
	name = conf = NULL;
	/* cut in the middle of the extra file's data: refused, and the server's
	 * own extra file (and all else in its dir) as it was, byte for byte */
	char *tar = NULL;
	size_t tlen = 0;
	vs_read_file(fmt("%s/exp2.tar", T), &tar, &tlen);
	char *data = tar ? memmem(tar, tlen, "vm-data", 7) : NULL;
	ok(data && write_file_n(fmt("%s/cut.tar", T), tar, (size_t)(data - tar) + 3) == 0,
	   "an export cut 3 bytes into the extra file's data");
	free(tar);
	const char *imp4 = fmt("%s/srv-imp4", T);
	vs_mkdir_p(imp4, 0755);
	put(fmt("%s/extra.img", imp4), "the server's disk\n");
	const char *sum = "(find . | sort; find . -type f | sort | xargs md5sum) | md5sum";
	char before[128];
	snprintf(before, sizeof(before), "%s", sh_out(fmt("cd %s && %s", imp4, sum)));
	r = vs_disk_import(fmt("%s/cut.tar", T), imp4, 0, "extra.img", &name, &conf, &clen, &err);
	ok(r < 0, "a truncated export is refused: %s", r < 0 ? err.msg : "imported");
	char *old = slurp(fmt("%s/extra.img", imp4));
	is_str(old, "the server's disk\n", "the extra file there before is untouched");
	free(old);
	is_str(sh_out(fmt("cd %s && %s", imp4, sum)), before,
	       "the server's dir is byte-identical (no partial file, no temporary name, no disk)");
	free(name);
	free(conf);
	name = conf = NULL;
	r = vs_disk_import(fmt("%s/exp2.tar", T), fmt("%s/srv-imp3", T), 0, NULL, &name, &conf, &clen,
			   &err);
	is_int(r, -EINVAL, "an extra entry nobody asked for is refused");
	is_str(err.msg, "disk: import: unexpected entry extra.img", "its message");
	ok(!exists(fmt("%s/srv-imp3/upper", T)), "and leaves no disk");
	unlink(fmt("%s/extra.img", srv));
	free(name);
	free(conf);
	vs_image_free(img);
	vs_image_free(img2);
	vs_store_close(s2);
}

static void cleanup(void)
{
	/* never leave a mount behind */
	sh("grep -o ' %s[^ ]*' /proc/self/mountinfo | sort -r | while read m; do umount -l $m; done",
	   T);
	ok(sh("grep -q ' %s' /proc/self/mountinfo", T) != 0 && !loop_leftover(),
	   "no mount or loop device left");
	vs_store_close(S);
	sh("rm -rf %s", T);
}

/* a small driver for tests/image.bats (there is no image CLI yet):
 *   test-image import-oci STORE LAYOUT REF NAME
 *   test-image import-tar STORE TARBALL NAME
 *   test-image default STORE
 *   test-image inspect STORE NAME
 *   test-image mount STORE NAME SERVERDIR TARGET   (makes a plain disk if none)
 *   test-image umount SERVERDIR TARGET */
static int driver(int argc, char **argv)
{
	struct vs_err err = { 0 };
	struct vs_store *s = NULL;
	struct vs_image *img = NULL;
	char *json = NULL;
	const char *c = argv[1];
	int r;
	if (!strcmp(c, "umount") && argc == 4)
		r = vs_disk_umount(argv[2], argv[3], &err);
	else if ((r = vs_store_open(argv[2], &s, &err)) < 0)
		;
	else if (!strcmp(c, "import-oci") && argc == 6)
		r = vs_image_import_oci(s, argv[3], argv[4], argv[5], &err);
	else if (!strcmp(c, "import-tar") && argc == 5)
		r = vs_image_import_tarball(s, argv[3], argv[4], &err);
	else if (!strcmp(c, "default") && argc == 3)
		r = vs_image_make_default(s, NULL, &err);
	else if (!strcmp(c, "inspect") && argc == 4 &&
		 (r = vs_image_inspect_json(s, argv[3], &json, &err)) == 0)
		printf("%s\n", json);
	else if (!strcmp(c, "mount") && argc == 6 && (r = vs_image_get(s, argv[3], &img, &err)) == 0) {
		if (vs_disk_kind(argv[4]) < 0)
			r = vs_disk_create(argv[4], 0, &err);
		if (r >= 0)
			r = vs_disk_mount(s, img, argv[4], argv[5], &err);
	} else if (r == 0)
		r = vs_failx(&err, EINVAL, "usage: see tests/unit/test-image.c");
	if (r < 0)
		fprintf(stderr, "%s\n", err.msg);
	free(json);
	vs_image_free(img);
	vs_store_close(s);
	return r < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc > 2)
		return driver(argc, argv);
	if (geteuid() != 0) {
		skip(1, "needs root (mounts, loop devices, trusted xattrs)");
		return tap_done();
	}
	snprintf(T, sizeof(T), "/tmp/vs-image-test.XXXXXX");
	if (!mkdtemp(T))
		return 1;
	struct vs_err err = { 0 };
	test_sha256();
	int r = vs_store_open(fmt("%s/store", T), &S, &err);
	is_int(r, 0, "store opened%s%s", r ? ": " : "", r ? err.msg : "");
	if (r == 0) {
		test_oci_import();
		test_oci_mount();
		test_refused();
		test_tarballs();
		test_gc();
		test_default();
		test_quota();
		test_projquota();
		test_export_clone();
	}
	cleanup();
	return tap_done();
}
