/* rootfs: real containers made with rootfs_setup/pivot/finalize in a
 * throwaway mount namespace, a busybox image in a temp dir, and attempts to
 * cross the boundary (symlinks out of the image, "..", propagation). Needs
 * root; skips otherwise. The whole test runs in its own mount namespace, so
 * whatever happens the machine's mount table is untouched. */
#include "../../rootfs/rootfs.h"
#include "tap.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#ifndef MQUEUE_MAGIC
#define MQUEUE_MAGIC 0x19800202
#endif

static char T[PATH_MAX];        /* the temp dir of this run */
static char ROOTFS[PATH_MAX];   /* T/rootfs, the busybox image */
static bool idmap_ok = true;    /* false: tmpfs cannot be idmapped (Linux < 6.3) */

#include <sys/utsname.h>
static void probe_idmap(void)
{
	struct utsname u;
	struct statfs sf;
	int major = 0, minor = 0;
	if (uname(&u) == 0)
		sscanf(u.release, "%d.%d", &major, &minor);
	if ((major < 6 || (major == 6 && minor < 3)) && statfs(T, &sf) == 0 &&
	    sf.f_type == TMPFS_MAGIC)
		idmap_ok = false;
}
static char MARKER[PATH_MAX];   /* a file only the host has, in /tmp */
static char DOTDOT[64];         /* "vs-dotdot-<pid>": must never appear at the host's / */

/* ---- results from inside the container, through a pipe ---- */

struct rec {
	int pass;               /* 1, 0, or -1 for "sync: check the host now" */
	char desc[400];
};
static int rep_fd = -1;

static void report(int pass, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(int pass, const char *fmt, ...)
{
	struct rec r = { .pass = pass };
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r.desc, sizeof(r.desc), fmt, ap);
	va_end(ap);
	if (vs_write_all(rep_fd, &r, sizeof(r)) < 0)
		_exit(99);
}
#define CHECK(cond, ...) report(!!(cond), __VA_ARGS__)

static bool check_host_mounts(const char *needle)
{
	char *mi = NULL;
	if (vs_read_file("/proc/self/mountinfo", &mi, NULL) < 0)
		return false;
	bool found = strstr(mi, needle) != NULL;
	free(mi);
	return !found;
}

/* Reads the child's records into TAP; a sync record makes the host check
 * for the leaked tmpfs and answers on down_fd. */
static void collect(int fd, int down_fd)
{
	struct rec r;
	while (vs_read_all(fd, &r, sizeof(r)) == (ssize_t)sizeof(r)) {
		r.desc[sizeof(r.desc) - 1] = '\0';
		if (r.pass == -1) {
			ok(check_host_mounts("vsproptest"),
			   "a tmpfs mounted inside the container does not propagate to the host");
			if (down_fd >= 0 && write(down_fd, "k", 1) < 0)
				break;
			continue;
		}
		ok(r.pass, "%s", r.desc);
	}
}

static int wait_status(pid_t pid)
{
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ---- small file helpers ---- */

static void put(const char *path, const char *data)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0) {
		vs_write_all(fd, data, strlen(data));
		close(fd);
	}
}

static bool has(const char *path, const char *want)
{
	char *s = NULL;
	bool r = vs_read_file(path, &s, NULL) >= 0 && !strcmp(s, want);
	free(s);
	return r;
}

static long fs_type(const char *path)
{
	struct statfs sf;
	return statfs(path, &sf) < 0 ? -1 : (long)sf.f_type;
}

static int creat_errno(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0) {
		close(fd);
		unlink(path);
		return 0;
	}
	return errno;
}

static int dir_entries(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static char *tpath(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *tpath(const char *fmt, ...)
{
	static char bufs[8][PATH_MAX];
	static int k;
	char *b = bufs[k++ % 8];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b, PATH_MAX, fmt, ap);
	va_end(ap);
	return b;
}

static int copy_file(const char *from, const char *to, mode_t mode)
{
	char *data = NULL;
	size_t len;
	int r = vs_read_file(from, &data, &len);
	if (r < 0)
		return r;
	int fd = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		free(data);
		return -errno;
	}
	r = vs_write_all(fd, data, len) < 0 ? -errno : 0;
	close(fd);
	free(data);
	return r;
}

/* The image: busybox and its applets, plus what the checks look at. */
static int make_image(void)
{
	static const char *const dirs[] = { "bin", "proc", "sys", "dev", "tmp", "etc", "mnt",
					    "etc/rodir", "etc/masked", "etc/cp", "etc/cp/sub" };
	for (size_t i = 0; i < VS_ARRAY_SIZE(dirs); i++)
		if (vs_mkdir_p(tpath("%s/%s", ROOTFS, dirs[i]), 0755) < 0)
			return -1;
	if (copy_file("/bin/busybox", tpath("%s/bin/busybox", ROOTFS), 0755) < 0)
		return -1;
	static const char *const applets[] = { "sh", "cat", "ls", "echo", "test", "true" };
	for (size_t i = 0; i < VS_ARRAY_SIZE(applets); i++)
		if (symlink("busybox", tpath("%s/bin/%s", ROOTFS, applets[i])) < 0)
			return -1;
	put(tpath("%s/etc/rodir/file", ROOTFS), "ro");
	put(tpath("%s/etc/masked/secret", ROOTFS), "secret");
	put(tpath("%s/etc/cp/a", ROOTFS), "copied");
	put(tpath("%s/etc/cp/sub/b", ROOTFS), "deep");
	if (symlink("a", tpath("%s/etc/cp/link", ROOTFS)) < 0)
		return -1;
	/* the attack: /mnt/evil points at a directory of the host */
	if (symlink(tpath("%s/evil-target", T), tpath("%s/mnt/evil", ROOTFS)) < 0)
		return -1;
	/* and /mnt/up climbs as far as it can */
	if (symlink("../../../../../../..", tpath("%s/mnt/up", ROOTFS)) < 0)
		return -1;
	return 0;
}

/* ---- rootfs_open_in_root, directly ---- */

static void test_open_in_root(void)
{
	struct vs_err err = { 0 };
	char r[PATH_MAX];
	snprintf(r, sizeof(r), "%s/resolve", T);
	vs_mkdir_p(r, 0755);
	vs_mkdir_p(tpath("%s/host", T), 0755);
	bool links = symlink(tpath("%s/host", T), tpath("%s/abs", r)) == 0 &&
		     symlink("../../../../..", tpath("%s/up", r)) == 0 &&
		     symlink("/nonexistent-vs-test/dir", tpath("%s/dangling", r)) == 0;
	ok(links, "open_in_root: an image with escaping symlinks");
	int root = open(r, O_PATH | O_DIRECTORY | O_CLOEXEC);

	int fd = rootfs_open_in_root(root, "/abs/x", true, false, &err);
	ok(fd >= 0, "open_in_root: mkdirs through an absolute symlink");
	if (fd >= 0)
		close(fd);
	ok(dir_entries(tpath("%s/host", T)) == 0, "  ... created nothing in the host directory");
	struct stat st;
	ok(stat(tpath("%s%s/host/x", r, T), &st) == 0 && S_ISDIR(st.st_mode),
	   "  ... but under the root, where the link points when root is /");

	fd = rootfs_open_in_root(root, "/up/../../y/z", true, false, &err);
	ok(fd >= 0 && stat(tpath("%s/y/z", r), &st) == 0, "open_in_root: \"..\" stops at the root");
	if (fd >= 0)
		close(fd);

	fd = rootfs_open_in_root(root, "d1//d2/f", true, true, &err);
	ok(fd >= 0 && stat(tpath("%s/d1/d2/f", r), &st) == 0 && S_ISREG(st.st_mode),
	   "open_in_root: make_file creates the last component as a file");
	if (fd >= 0)
		close(fd);

	fd = rootfs_open_in_root(root, "/missing/thing", false, false, &err);
	is_int(fd, -ENOENT, "open_in_root: missing without mkdirs is ENOENT");
	is_str(err.msg, "rootfs: open /missing/thing in root: ENOENT (No such file or directory)",
	       "  ... with a message naming the path");

	fd = rootfs_open_in_root(root, "/dangling/q", true, false, &err);
	ok(fd >= 0 && access("/nonexistent-vs-test", F_OK) < 0 &&
	   stat(tpath("%s/nonexistent-vs-test/dir/q", r), &st) == 0,
	   "open_in_root: a dangling absolute symlink gets its target made inside the root");
	if (fd >= 0)
		close(fd);

	fd = rootfs_open_in_root(root, "/", false, false, &err);
	ok(fd >= 0, "open_in_root: \"/\" is the root itself");
	if (fd >= 0)
		close(fd);
	close(root);
}

/* ---- the main container ---- */

#define MNT(dst, typ, src, fl, dat) \
	{ .destination = (dst), .type = (typ), .source = (src), .flags = (fl), .data = (dat) }

static void container_checks(int down_fd)
{
	char buf[64];
	struct stat st;
	ssize_t n = readlink("/proc/self", buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	CHECK(!strcmp(buf, "1"), "/proc is the new pid namespace's (self is %s)", buf);

	CHECK(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3),
	      "/dev/null is the null device");
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0 && write(fd, "abc", 3) == 3 && read(fd, buf, 1) == 0, "/dev/null works");
	if (fd >= 0)
		close(fd);
	fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	buf[0] = 1;
	CHECK(fd >= 0 && read(fd, buf, 4) == 4 && buf[0] == 0, "/dev/zero reads zeros");
	if (fd >= 0)
		close(fd);
	CHECK(stat("/dev/extra/zero2", &st) == 0 && S_ISCHR(st.st_mode) &&
	      st.st_rdev == makedev(1, 5) && (st.st_mode & 07777) == 0600 && st.st_uid == 1 &&
	      st.st_gid == 2, "a configured device has its type, numbers, mode and owner");
	n = readlink("/dev/fd", buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	CHECK(!strcmp(buf, "/proc/self/fd"), "/dev/fd -> /proc/self/fd");
	n = readlink("/dev/ptmx", buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	CHECK(!strcmp(buf, "pts/ptmx"), "/dev/ptmx -> pts/ptmx");
	fd = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	CHECK(fd >= 0, "a pty opens from the container's devpts instance");
	if (fd >= 0)
		close(fd);
	CHECK(stat("/dev/console", &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == 136,
	      "/dev/console is the pty we passed");
	CHECK(fs_type("/dev/shm") == TMPFS_MAGIC && creat_errno("/dev/shm/x") == 0,
	      "/dev/shm is a writable tmpfs");
	CHECK(fs_type("/dev/mqueue") == MQUEUE_MAGIC, "/dev/mqueue is mqueue");
	CHECK(fs_type("/sys") == SYSFS_MAGIC && mkdir("/sys/vs", 0755) < 0 && errno == EROFS,
	      "/sys is a read-only sysfs");
	if (fs_type("/sys/fs/cgroup") == CGROUP2_SUPER_MAGIC) {
		/* a pure cgroup2 host: one read-only cgroup2 mount */
		CHECK(stat("/sys/fs/cgroup/cgroup.controllers", &st) == 0,
		      "/sys/fs/cgroup is the cgroup2 hierarchy");
		CHECK(mkdir("/sys/fs/cgroup/vs", 0755) < 0 && errno == EROFS,
		      "cgroup2 is mounted read-only");
	} else {
		CHECK(stat("/sys/fs/cgroup/memory", &st) == 0 && S_ISDIR(st.st_mode),
		      "/sys/fs/cgroup/memory is there");
		CHECK(mkdir("/sys/fs/cgroup/memory/vs", 0755) < 0 && errno == EROFS &&
		      mkdir("/sys/fs/cgroup/vs", 0755) < 0 && errno == EROFS,
		      "cgroups are mounted read-only, hierarchies and the tmpfs above them");
	}
	CHECK(has("/data/hello", "hello") && creat_errno("/data/fromct") == 0 &&
	      open("/data/fromct", O_CREAT | O_WRONLY | O_CLOEXEC, 0644) >= 0,
	      "a rw bind of a host directory is visible and writable");
	CHECK(has("/etc/hostfile", "file content"), "a bind of a file is visible");
	CHECK(has("/ro/file", "in ro") && creat_errno("/ro/new") == EROFS,
	      "an rbind ro refuses writes (EROFS)");
	CHECK(creat_errno("/ro/sub/new") == 0,
	      "  ... on its top mount only, as runc (\"ro\" is not \"rro\")");
	CHECK(creat_errno("/rro/sub/new") == EROFS, "rro makes submounts read-only too");
	CHECK(dir_entries("/etc/masked") == 0, "a masked directory reads empty");
	CHECK(stat("/proc/timer_list", &st) == 0 && st.st_rdev == makedev(1, 3) &&
	      has("/proc/timer_list", ""), "a masked file is /dev/null and reads empty");
	CHECK(creat_errno("/etc/rodir/new") == EROFS, "a readonly path refuses writes");
	fd = open("/proc/sys/kernel/hostname", O_WRONLY | O_CLOEXEC);
	CHECK(fd < 0 && errno == EROFS, "/proc/sys as a readonly path refuses writes");
	if (fd >= 0)
		close(fd);
	CHECK(creat_errno("/newfile") == EROFS, "the read-only root refuses writes");
	CHECK(access(MARKER, F_OK) < 0 && errno == ENOENT,
	      "the host's /tmp marker is not reachable");
	CHECK(has("/etc/cp/a", "copied") && has("/etc/cp/sub/b", "deep") &&
	      has("/etc/cp/link", "copied") && fs_type("/etc/cp") == TMPFS_MAGIC,
	      "tmpcopyup copied the image's files into the tmpfs");
	CHECK(fs_type("/mnt/evil/x") == TMPFS_MAGIC,
	      "a destination through an absolute symlink is mounted inside the rootfs");
	CHECK(fs_type(tpath("/%s", DOTDOT)) == TMPFS_MAGIC,
	      "a destination with ../../.. is mounted inside the rootfs");
	CHECK(fs_type("/up-through/z") == TMPFS_MAGIC,
	      "a destination through a climbing symlink is mounted inside the rootfs");
	if (idmap_ok)
		CHECK(stat("/idmapped/hello", &st) == 0 && st.st_uid == 1000 && st.st_gid == 1000,
		      "an idmapped bind shows root's files as 1000");
	else
		CHECK(stat("/idmapped/hello", &st) == 0,
		      "a plain bind instead of an idmapped one: tmpfs cannot be idmapped before Linux 6.3");

	pid_t pid = fork();
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", "echo hi > /dev/null && test -d /proc/1 && cat /data/hello >/dev/null",
		      (char *)NULL);
		_exit(127);
	}
	CHECK(wait_status(pid) == 0, "busybox sh runs in the container");

	/* propagation: a mount under a bind of a host shared mount */
	CHECK(mkdir("/data/sub", 0755) == 0 || errno == EEXIST, "mkdir /data/sub");
	CHECK(mount("vsproptest", "/data/sub", "tmpfs", 0, NULL) == 0 &&
	      mount("vsproptest", "/dev/shm", "tmpfs", 0, NULL) == 0, "mount inside");
	report(-1, "sync");
	char c;
	if (read(down_fd, &c, 1) != 1)
		_exit(98);
}

static void container_init(const struct conf_config *cfg, const char *console, int down_fd)
{
	struct vs_err err = { 0 };
	int r = rootfs_setup(cfg, ROOTFS, console, &err);
	CHECK(r == 0, "rootfs_setup%s%s", r ? ": " : "", r ? err.msg : "");
	if (r < 0)
		_exit(1);
	r = rootfs_pivot(ROOTFS, false, &err);
	CHECK(r == 0, "rootfs_pivot%s%s", r ? ": " : "", r ? err.msg : "");
	if (r < 0)
		_exit(1);
	r = rootfs_finalize(cfg, &err);
	CHECK(r == 0, "rootfs_finalize%s%s", r ? ": " : "", r ? err.msg : "");
	if (r < 0)
		_exit(1);
	container_checks(down_fd);
	_exit(0);
}

/* fork; the child unshares flags and forks again so the grandchild is pid
 * 1 of the new pid namespace when asked; fn runs there. */
static pid_t spawn(int flags, void (*fn)(void *), void *arg)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	if (unshare(flags) < 0) {
		report(0, "unshare: %s", strerror(errno));
		_exit(1);
	}
	pid_t g = fork();
	if (g == 0) {
		fn(arg);
		_exit(0);
	}
	_exit(g < 0 ? 1 : wait_status(g));
}

struct main_arg { struct conf_config *cfg; const char *console; int down; };

static void main_fn(void *p)
{
	struct main_arg *a = p;
	container_init(a->cfg, a->console, a->down);
}

static void test_container(void)
{
	vs_mkdir_p(tpath("%s/hostdir/sub", T), 0755);
	put(tpath("%s/hostdir/hello", T), "hello");
	vs_mkdir_p(tpath("%s/rodir/sub", T), 0755);
	put(tpath("%s/rodir/file", T), "in ro");
	put(tpath("%s/hostfile", T), "file content");
	vs_mkdir_p(tpath("%s/evil-target", T), 0755);
	/* hostdir becomes a shared mount of the "host", so a container mount
	 * under its bind would propagate back unless the runtime stops it */
	mount(tpath("%s/hostdir", T), tpath("%s/hostdir", T), NULL, MS_BIND, NULL);
	mount(NULL, tpath("%s/hostdir", T), NULL, MS_SHARED, NULL);
	/* and rodir has a submount, to see rbind and rro reach it */
	mount("vsrosub", tpath("%s/rodir/sub", T), "tmpfs", 0, NULL);

	int ptm = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	char console[64] = "";
	if (ptm >= 0 && grantpt(ptm) == 0 && unlockpt(ptm) == 0)
		snprintf(console, sizeof(console), "%s", ptsname(ptm));

	struct conf_idmap idm = { .container_id = 0, .host_id = 1000, .size = 1 };
	char dotdot_dst[128];
	snprintf(dotdot_dst, sizeof(dotdot_dst), "/../../../%s", DOTDOT);
	struct conf_mount mounts[] = {
		MNT("/proc", "proc", "proc", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL),
		MNT("/dev", "tmpfs", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k"),
		MNT("/dev/pts", "devpts", "devpts", MS_NOSUID | MS_NOEXEC,
		    "newinstance,ptmxmode=0666,mode=0620,gid=5"),
		MNT("/dev/shm", "tmpfs", "shm", MS_NOSUID | MS_NOEXEC | MS_NODEV, "mode=1777,size=65536k"),
		MNT("/dev/mqueue", "mqueue", "mqueue", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL),
		MNT("/sys", "sysfs", "sysfs", MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY, NULL),
		MNT("/sys/fs/cgroup", "cgroup", "cgroup",
		    MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RELATIME | MS_RDONLY, NULL),
		MNT("/data", "bind", tpath("%s/hostdir", T), MS_BIND | MS_REC, NULL),
		MNT("/etc/hostfile", "bind", tpath("%s/hostfile", T), MS_BIND, NULL),
		MNT("/ro", "bind", tpath("%s/rodir", T), MS_BIND | MS_REC | MS_RDONLY, NULL),
		MNT("/rro", "bind", tpath("%s/rodir", T), MS_BIND | MS_REC, NULL),
		MNT("/mnt/evil/x", "tmpfs", "tmpfs", 0, NULL),
		MNT(dotdot_dst, "tmpfs", "tmpfs", 0, NULL),
		MNT("/mnt/up/up-through/z", "tmpfs", "tmpfs", 0, NULL),
		MNT("/etc/cp", "tmpfs", "tmpfs", 0, NULL),
		MNT("/idmapped", "bind", tpath("%s/hostdir", T), MS_BIND, NULL),
	};
	mounts[10].attr_set = MOUNT_ATTR_RDONLY;
	mounts[14].copy_up = true;
	probe_idmap();
	mounts[15].idmap = idmap_ok;
	mounts[15].uid_mappings = mounts[15].gid_mappings = &idm;
	mounts[15].n_uid_mappings = mounts[15].n_gid_mappings = 1;
	struct conf_device devs[] = { {
		.path = "/dev/extra/zero2", .type = 'c', .major = 1, .minor = 5,
		.file_mode = { true, 0600 }, .uid = { true, 1 }, .gid = { true, 2 },
	} };
	char *masked[] = { "/proc/kcore", "/proc/timer_list", "/etc/masked", "/nonexistent", NULL };
	char *ro[] = { "/proc/sys", "/etc/rodir", "/nonexistent/either", NULL };
	struct conf_config cfg = { 0 };
	cfg.mounts = mounts;
	cfg.n_mounts = VS_ARRAY_SIZE(mounts);
	cfg.root.readonly = true;
	cfg.linux_.devices = devs;
	cfg.linux_.n_devices = 1;
	cfg.linux_.masked_paths = masked;
	cfg.linux_.readonly_paths = ro;

	int rep[2], down[2];
	if (pipe2(rep, O_CLOEXEC) < 0 || pipe2(down, O_CLOEXEC) < 0)
		return;
	rep_fd = rep[1];
	struct main_arg a = { &cfg, console[0] ? console : NULL, down[0] };
	pid_t pid = spawn(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC, main_fn, &a);
	close(rep[1]);
	close(down[0]);
	collect(rep[0], down[1]);
	close(rep[0]);
	close(down[1]);
	is_int(wait_status(pid), 0, "the container exited cleanly");
	if (ptm >= 0)
		close(ptm);

	struct stat st;
	ok(stat(tpath("%s/hostdir/fromct", T), &st) == 0, "the container's write reached the host dir");
	ok(dir_entries(tpath("%s/evil-target", T)) == 0,
	   "the host directory behind the image's symlink is untouched");
	ok(access(tpath("/%s", DOTDOT), F_OK) < 0, "nothing was created at the host's /");
	ok(access(MARKER, F_OK) == 0, "the host marker is still there");
	ok(check_host_mounts(ROOTFS), "no mount of the container is left in the host's table");
	umount2(tpath("%s/rodir/sub", T), MNT_DETACH);
	umount2(tpath("%s/hostdir", T), MNT_DETACH);
}

/* ---- errors ---- */

static void error_fn(void *p)
{
	(void)p;
	struct vs_err err = { 0 };
	struct conf_mount bad[] = { MNT("/x", "nosuchfs", NULL, 0, NULL) };
	struct conf_config cfg = { 0 };
	cfg.mounts = bad;
	cfg.n_mounts = 1;
	int r = rootfs_setup(&cfg, ROOTFS, NULL, &err);
	CHECK(r == -ENODEV && !strcmp(err.msg, "rootfs: mount none on /x (nosuchfs): ENODEV (No such device)"),
	      "an unknown fs type fails with one line: %s", err.msg);
	bad[0] = (struct conf_mount)MNT("/x", "tmpfs", "tmpfs", 0, NULL);
	bad[0].idmap = true;
	r = rootfs_setup(&cfg, ROOTFS, NULL, &err);
	CHECK(r == -EOPNOTSUPP && strstr(err.msg, "idmapped mounts of type tmpfs not supported"),
	      "idmap on a new filesystem is refused clearly: %s", err.msg);
	bad[0] = (struct conf_mount)MNT("/y", "bind", "/nonexistent-vs-src", MS_BIND, NULL);
	r = rootfs_setup(&cfg, ROOTFS, NULL, &err);
	CHECK(r == -ENOENT && strstr(err.msg, "rootfs: mount /nonexistent-vs-src on /y (bind)"),
	      "a missing bind source: %s", err.msg);

	/* and --no-pivot */
	cfg.n_mounts = 0;
	r = rootfs_setup(&cfg, ROOTFS, NULL, &err);
	if (r == 0)
		r = rootfs_pivot(ROOTFS, true, &err);
	CHECK(r == 0 && access("/bin/busybox", X_OK) == 0 && access(MARKER, F_OK) < 0,
	      "no_pivot: MS_MOVE + chroot enters the rootfs%s%s", r ? ": " : "", r ? err.msg : "");
	_exit(0);
}

/* rootfsPropagation "shared": pivot_root still works (the rootfs's parent
 * mount is made private) and / ends up shared in the container. */
static void shared_fn(void *p)
{
	(void)p;
	struct vs_err err = { 0 };
	struct conf_mount m[] = { MNT("/proc", "proc", "proc", 0, NULL) };
	struct conf_config cfg = { 0 };
	cfg.mounts = m;
	cfg.n_mounts = 1;
	cfg.linux_.rootfs_propagation = MS_SHARED | MS_REC;
	int r = rootfs_setup(&cfg, ROOTFS, NULL, &err);
	if (r == 0)
		r = rootfs_pivot(ROOTFS, false, &err);
	if (r == 0)
		r = rootfs_finalize(&cfg, &err);
	CHECK(r == 0, "rootfsPropagation shared: setup, pivot, finalize%s%s", r ? ": " : "",
	      r ? err.msg : "");
	char *mi = NULL, *save = NULL;
	bool shared = false;
	if (vs_read_file("/proc/self/mountinfo", &mi, NULL) >= 0) {
		for (char *l = strtok_r(mi, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			char mp[PATH_MAX];
			if (sscanf(l, "%*d %*d %*s %*s %4095s", mp) == 1 && !strcmp(mp, "/"))
				shared = strstr(l, " shared:") != NULL;
		}
	}
	free(mi);
	CHECK(shared, "rootfsPropagation shared: / is shared inside");
	_exit(0);
}

static void test_errors(void)
{
	int rep[2];
	if (pipe2(rep, O_CLOEXEC) < 0)
		return;
	rep_fd = rep[1];
	pid_t pid = spawn(CLONE_NEWNS, error_fn, NULL);
	close(rep[1]);
	collect(rep[0], -1);
	close(rep[0]);
	is_int(wait_status(pid), 0, "the error-test child exited cleanly");

	if (pipe2(rep, O_CLOEXEC) < 0)
		return;
	rep_fd = rep[1];
	pid = spawn(CLONE_NEWNS | CLONE_NEWPID, shared_fn, NULL);
	close(rep[1]);
	collect(rep[0], -1);
	close(rep[0]);
	is_int(wait_status(pid), 0, "the shared-propagation child exited cleanly");
}

/* ---- a user namespace ---- */

static void userns_fn(void *p)
{
	(void)p;
	struct conf_mount mounts[] = {
		MNT("/proc", "proc", "proc", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL),
		MNT("/dev", "tmpfs", "tmpfs", MS_NOSUID, "mode=755"),
		MNT("/dev/pts", "devpts", "devpts", MS_NOSUID | MS_NOEXEC,
		    "newinstance,ptmxmode=0666,mode=0620"),
		MNT("/dev/mqueue", "mqueue", "mqueue", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL),
		MNT("/sys", "sysfs", "sysfs", MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY, NULL),
	};
	struct conf_device devs[] = { { .path = "/dev/extra/zero2", .type = 'c', .major = 1, .minor = 5 } };
	char *masked[] = { "/proc/kcore", NULL };
	char *ro[] = { "/proc/sys", NULL };
	struct conf_config cfg = { 0 };
	cfg.mounts = mounts;
	cfg.n_mounts = VS_ARRAY_SIZE(mounts);
	cfg.linux_.devices = devs;
	cfg.linux_.n_devices = 1;
	cfg.linux_.masked_paths = masked;
	cfg.linux_.readonly_paths = ro;
	cfg.linux_.ns[CONF_NS_USER].present = true;

	struct vs_err err = { 0 };
	int r = rootfs_setup(&cfg, ROOTFS, NULL, &err);
	if (r == 0)
		r = rootfs_pivot(ROOTFS, false, &err);
	if (r == 0)
		r = rootfs_finalize(&cfg, &err);
	CHECK(r == 0, "userns: setup, pivot, finalize%s%s", r ? ": " : "", r ? err.msg : "");
	if (r < 0)
		_exit(1);
	struct stat st;
	struct statx stx;
	CHECK(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3) &&
	      statx(AT_FDCWD, "/dev/null", 0, 0, &stx) == 0 &&
	      (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT),
	      "userns: /dev/null is the host's node, bind-mounted");
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	CHECK(fd >= 0 && write(fd, "x", 1) == 1, "userns: /dev/null works");
	if (fd >= 0)
		close(fd);
	CHECK(stat("/dev/extra/zero2", &st) == 0 && st.st_rdev == makedev(1, 5),
	      "userns: a configured device absent on the host is bound from the host's node of that number");
	CHECK(stat("/sys/kernel", &st) == 0 && mkdir("/sys/vs", 0755) < 0 && errno == EROFS,
	      "userns: /sys falls back to a read-only rbind of the host's");
	char buf[16];
	ssize_t n = readlink("/proc/self", buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	CHECK(!strcmp(buf, "1"), "userns: /proc is the new pid namespace's");
	_exit(0);
}

static void test_userns(void)
{
	int rep[2], go[2], ready[2];
	if (pipe2(rep, O_CLOEXEC) < 0 || pipe2(go, O_CLOEXEC) < 0 || pipe2(ready, O_CLOEXEC) < 0)
		return;
	rep_fd = rep[1];
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		if (unshare(CLONE_NEWUSER) < 0)
			_exit(2);
		if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(3);
		pid_t p = spawn(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC,
				userns_fn, NULL);
		_exit(wait_status(p));
	}
	close(rep[1]);
	char c;
	bool mapped = false;
	if (read(ready[0], &c, 1) == 1) {
		mapped = vs_write_file(tpath("/proc/%d/uid_map", pid), "0 0 1\n") == 0 &&
			 vs_write_file(tpath("/proc/%d/gid_map", pid), "0 0 1\n") == 0;
	}
	ok(mapped, "userns: the parent wrote the child's id maps");
	if (write(go[1], "g", 1) != 1)
		return;
	collect(rep[0], -1);
	close(rep[0]);
	is_int(wait_status(pid), 0, "userns: the container exited cleanly");
	close(go[0]), close(go[1]), close(ready[0]), close(ready[1]);
}

int main(void)
{
	if (geteuid() != 0) {
		skip(1, "needs root (mount namespaces, mknod, pivot_root)");
		return tap_done();
	}
	/* everything below happens in a mount namespace of this test */
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_PRIVATE | MS_REC, NULL) < 0) {
		skip(1, "cannot make a mount namespace");
		return tap_done();
	}
	snprintf(T, sizeof(T), "/tmp/vs-rootfs-XXXXXX");
	snprintf(MARKER, sizeof(MARKER), "/tmp/vs-rootfs-marker-XXXXXX");
	if (!mkdtemp(T) || mkstemp(MARKER) < 0) {
		ok(0, "make temp dirs");
		return tap_done();
	}
	snprintf(ROOTFS, sizeof(ROOTFS), "%s/rootfs", T);
	snprintf(DOTDOT, sizeof(DOTDOT), "vs-dotdot-%d", (int)getpid());
	setvbuf(stdout, NULL, _IONBF, 0);

	int made = make_image();
	ok(made == 0, "a busybox image in %s", ROOTFS);
	test_open_in_root();
	test_container();
	test_errors();
	test_userns();

	unlink(MARKER);
	ok(vs_rm_rf(T) == 0, "temp dir removed");
	return tap_done();
}
