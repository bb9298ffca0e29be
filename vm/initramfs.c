/* vm: the initramfs of a kernel-booted guest. Our static agent is /init;
 * beside it go the modules the guest needs from that kernel's
 * /lib/modules/<version> (Debian's cloud kernel has virtio, the ACPI button
 * and evdev as modules), dependencies first as modules.dep lists them,
 * decompressed (.ko.xz/.ko.zst/.ko.gz through libarchive's raw reader), and
 * the server's process as /vs/process. Written as cpio newc by libarchive. */
#include "internal.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

/* what the agent loads, in this order (each after its dependencies) */
static const char *const wanted[] = {
	"virtio_mmio", "virtio_blk", "virtio_net", "virtio_console", "virtio_balloon",
	"button", "evdev", NULL,
};

void vm_kernel_version(const char *kernel, char *buf, size_t len)
{
	const char *b = strrchr(kernel, '/');
	b = b ? b + 1 : kernel;
	buf[0] = '\0';
	if (!strncmp(b, "vmlinuz-", 8))
		snprintf(buf, len, "%s", b + 8);
	else if (!strncmp(b, "bzImage-", 8))
		snprintf(buf, len, "%s", b + 8);
}

/* the module's name from a modules.dep path: kernel/x/virtio_blk.ko.xz */
static void mod_name(const char *path, char *buf, size_t len)
{
	const char *b = strrchr(path, '/');
	b = b ? b + 1 : path;
	size_t n = strcspn(b, ".");
	snprintf(buf, len, "%.*s", (int)n, b);
	for (char *p = buf; *p; p++)
		if (*p == '-')
			*p = '_';
}

/* modules.dep line of a module: its path and its dependencies */
static char *dep_line(char *dep, const char *name)
{
	for (char *line = dep; line && *line;) {
		char *nl = strchr(line, '\n');
		char *colon = strchr(line, ':');
		if (colon && (!nl || colon < nl)) {
			char n[128], path[PATH_MAX];
			snprintf(path, sizeof(path), "%.*s", (int)(colon - line), line);
			mod_name(path, n, sizeof(n));
			if (!strcmp(n, name))
				return line;
		}
		line = nl ? nl + 1 : NULL;
	}
	return NULL;
}

/* adds name (after its dependencies) to order, once */
static void resolve(char *dep, const char *name, char ***order, char ***paths, int depth)
{
	for (size_t i = 0; *order && (*order)[i]; i++)
		if (!strcmp((*order)[i], name))
			return;
	char *line = dep_line(dep, name);
	if (!line || depth > 16)
		return;  /* built in, or unknown to this kernel */
	size_t n = strcspn(line, "\n");
	_cleanup_free_ char *copy = vs_xasprintf("%.*s", (int)n, line);
	char *colon = strchr(copy, ':');
	*colon = '\0';
	for (char *save = NULL, *d = strtok_r(colon + 1, " ", &save); d; d = strtok_r(NULL, " ", &save)) {
		char dn[128];
		mod_name(d, dn, sizeof(dn));
		resolve(dep, dn, order, paths, depth + 1);
	}
	vs_strv_push(order, name);
	vs_strv_push(paths, copy);
}

static int add_entry(struct archive *a, const char *path, mode_t mode, dev_t rdev,
		     const void *data, size_t len, struct vs_err *err)
{
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, path);
	archive_entry_set_mode(e, mode);
	archive_entry_set_size(e, S_ISREG(mode) ? (la_int64_t)len : 0);
	archive_entry_set_rdev(e, rdev);
	archive_entry_set_nlink(e, S_ISDIR(mode) ? 2 : 1);
	archive_entry_set_mtime(e, 0, 0);
	int r = archive_write_header(a, e);
	if (r == ARCHIVE_OK && S_ISREG(mode) && len &&
	    archive_write_data(a, data, len) != (la_ssize_t)len)
		r = ARCHIVE_FATAL;
	archive_entry_free(e);
	if (r != ARCHIVE_OK)
		return vs_failx(err, EIO, "vm: initramfs: add %s: %s", path, archive_error_string(a));
	return 0;
}

/* a module file, decompressed whatever its compression */
static int read_module(const char *path, char **data, size_t *len, struct vs_err *err)
{
	struct archive *a = archive_read_new();
	archive_read_support_filter_all(a);
	archive_read_support_format_raw(a);
	struct archive_entry *e;
	int r = 0;
	if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK ||
	    archive_read_next_header(a, &e) != ARCHIVE_OK) {
		r = vs_failx(err, EIO, "vm: initramfs: read %s: %s", path, archive_error_string(a));
		goto out;
	}
	size_t cap = 1 << 20, n = 0;
	char *buf = vs_xmalloc(cap);
	for (;;) {
		if (n == cap)
			buf = vs_xrealloc(buf, cap *= 2);
		la_ssize_t k = archive_read_data(a, buf + n, cap - n);
		if (k < 0) {
			free(buf);
			r = vs_failx(err, EIO, "vm: initramfs: read %s: %s", path, archive_error_string(a));
			goto out;
		}
		if (k == 0)
			break;
		n += (size_t)k;
	}
	*data = buf;
	*len = n;
out:
	archive_read_free(a);
	return r;
}

static int add_modules(struct archive *a, const char *dir, struct vs_err *err)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/modules.dep", dir);
	_cleanup_free_ char *dep = NULL;
	if (vs_read_file(path, &dep, NULL) < 0)
		return 0;  /* no modules: a kernel with everything built in */
	_cleanup_strv_ char **order = NULL, **paths = NULL;
	for (size_t i = 0; wanted[i]; i++)
		resolve(dep, wanted[i], &order, &paths, 0);
	size_t olen = 0;
	_cleanup_free_ char *olist = vs_xstrdup("");
	for (size_t i = 0; order && order[i]; i++) {
		char *data = NULL, dst[256];
		size_t len = 0;
		snprintf(path, sizeof(path), "%s/%s", dir, paths[i]);
		int r = read_module(path, &data, &len, err);
		snprintf(dst, sizeof(dst), "modules/%s.ko", order[i]);
		if (r >= 0)
			r = add_entry(a, dst, S_IFREG | 0644, 0, data, len, err);
		free(data);
		if (r < 0)
			return r;
		char *n = vs_xasprintf("%s%s\n", olist, order[i]);
		free(olist);
		olist = n;
	}
	olen = strlen(olist);
	return add_entry(a, "modules/order", S_IFREG | 0644, 0, olist, olen, err);
}

int vm_initramfs_build(const struct vm_initramfs *s, struct vs_err *err)
{
	char dir[PATH_MAX], ver[256];
	if (!s->agent || !s->agent_len)
		return vs_failx(err, EINVAL, "vm: initramfs: no agent binary");
	if (s->modules_dir) {
		snprintf(dir, sizeof(dir), "%s", s->modules_dir);
	} else {
		vm_kernel_version(s->kernel ? s->kernel : "", ver, sizeof(ver));
		snprintf(dir, sizeof(dir), "/lib/modules/%s", ver);
	}
	_cleanup_free_ char *tmp = vs_xasprintf("%s.tmp", s->out);
	struct archive *a = archive_write_new();
	archive_write_set_format_cpio_newc(a);
	archive_write_add_filter_none(a);
	int r = 0;
	if (archive_write_open_filename(a, tmp) != ARCHIVE_OK) {
		r = vs_failx(err, EIO, "vm: initramfs: create %s: %s", tmp, archive_error_string(a));
		archive_write_free(a);
		return r;
	}
	static const char *const dirs[] = { "dev", "proc", "sys", "newroot", "modules", "vs", NULL };
	for (size_t i = 0; dirs[i] && r >= 0; i++)
		r = add_entry(a, dirs[i], S_IFDIR | 0755, 0, NULL, 0, err);
	if (r >= 0)
		r = add_entry(a, "dev/console", S_IFCHR | 0600, makedev(5, 1), NULL, 0, err);
	if (r >= 0)
		r = add_entry(a, "init", S_IFREG | 0755, 0, s->agent, s->agent_len, err);
	if (r >= 0 && s->process)
		r = add_entry(a, "vs/process", S_IFREG | 0644, 0, s->process, s->process_len, err);
	if (r >= 0 && s->init)
		r = add_entry(a, "vs/init", S_IFREG | 0644, 0, "", 0, err);
	if (r >= 0)
		r = add_modules(a, dir, err);
	if (r >= 0 && archive_write_close(a) != ARCHIVE_OK)
		r = vs_failx(err, EIO, "vm: initramfs: write %s: %s", tmp, archive_error_string(a));
	archive_write_free(a);
	if (r >= 0 && rename(tmp, s->out) < 0)
		r = vs_fail(err, errno, "vm: initramfs: rename to %s", s->out);
	if (r < 0)
		unlink(tmp);
	return r;
}
