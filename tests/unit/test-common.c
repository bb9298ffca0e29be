/* Unit tests for common/: the atomic file writer, against symlinks planted
 * where it makes its temporary file (F5: a --pid-file in a world-writable
 * directory let a local user make root truncate and write any file). */
#include "../../common/common.h"
#include "tap.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

static char dir[PATH_MAX], victim[PATH_MAX + 16], target[PATH_MAX + 16];

static const char *slurp(const char *path)
{
	static char buf[256];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (fd >= 0)
		close(fd);
	buf[n < 0 ? 0 : n] = '\0';
	return n < 0 ? NULL : buf;
}

static bool is_link(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 && S_ISLNK(st.st_mode);
}

static bool is_regular(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* entries of dir other than . and .. */
static int count_entries(void)
{
	DIR *d = opendir(dir);
	int n = 0;
	for (struct dirent *e; d && (e = readdir(d));)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	if (d)
		closedir(d);
	return n;
}

static void fixed_suffix(unsigned attempt, char *out, size_t len)
{
	snprintf(out, len, "n%u", attempt);
}

static void same_suffix(unsigned attempt, char *out, size_t len)
{
	snprintf(out, len, "same");
}

static void reset(void)
{
	char cmd[PATH_MAX + 32];
	snprintf(cmd, sizeof(cmd), "rm -rf %s/*", dir);
	(void)!system(cmd);
	int fd = open(victim, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, "precious\n", 9) != 9)
		printf("Bail out! %s: %s\n", victim, strerror(errno));
	if (fd >= 0)
		close(fd);
}

static void test_plain(void)
{
	reset();
	int r = vs_write_file_atomic(target, "12\n", 3, 0640);
	ok(r == 0, "atomic write");
	is_str(slurp(target), "12\n", "  content");
	struct stat st;
	ok(stat(target, &st) == 0 && (st.st_mode & 0777) == (0640 & ~022 & 0777),
	   "  mode 0640 less the umask");
	r = vs_write_file_replace(target, "34\n", 3, 0600);
	ok(r == 0, "replace without fsync");
	is_str(slurp(target), "34\n", "  content replaced");
	is_int(count_entries(), 2, "  no temporary file left (the target and the victim only)");
}

/* the name the writer used to use: path.tmp.PID */
static void test_old_name(void)
{
	reset();
	char old[PATH_MAX + 64];
	snprintf(old, sizeof(old), "%s.tmp.%d", target, (int)getpid());
	int r = symlink(victim, old);
	ok(r == 0, "symlink planted at the old predictable name");
	r = vs_write_file_atomic(target, "666\n", 4, 0644);
	ok(r == 0, "atomic write");
	is_str(slurp(victim), "precious\n", "  the symlink's target is untouched");
	is_str(slurp(target), "666\n", "  the file is written");
	ok(is_regular(target), "  as a regular file");
	ok(is_link(old), "  the planted symlink is left as it was");
}

/* symlinks at the first candidate names: each is skipped, none followed */
static void test_planted_candidates(void)
{
	reset();
	char t[PATH_MAX + 64];
	vs_tmp_suffix_hook = fixed_suffix;
	for (int i = 0; i < 5; i++) {
		snprintf(t, sizeof(t), "%s.tmp.n%d", target, i);
		(void)!symlink(victim, t);
	}
	/* a dangling one: O_CREAT alone would create the file it names */
	char dangling[PATH_MAX + 32];
	snprintf(dangling, sizeof(dangling), "%s/made-through-link", dir);
	snprintf(t, sizeof(t), "%s.tmp.n5", target);
	(void)!symlink(dangling, t);
	int r = vs_write_file_atomic(target, "777\n", 4, 0644);
	ok(r == 0, "atomic write past 6 planted symlinks");
	is_str(slurp(victim), "precious\n", "  the symlinks' target is untouched");
	ok(access(dangling, F_OK) < 0, "  nothing made through the dangling symlink");
	is_str(slurp(target), "777\n", "  the file is written");
	snprintf(t, sizeof(t), "%s.tmp.n6", target);
	ok(access(t, F_OK) < 0, "  the temporary file (7th name) is renamed away");
	int links = 0;
	for (int i = 0; i < 6; i++) {
		snprintf(t, sizeof(t), "%s.tmp.n%d", target, i);
		links += is_link(t);
	}
	is_int(links, 6, "  the planted symlinks are left as they were");

	/* every name taken: the write fails, nothing is written anywhere */
	reset();
	vs_tmp_suffix_hook = same_suffix;
	snprintf(t, sizeof(t), "%s.tmp.same", target);
	(void)!symlink(victim, t);
	r = vs_write_file_atomic(target, "888\n", 4, 0644);
	is_int(r, -EEXIST,
	       "every candidate name taken: EEXIST");
	is_str(slurp(victim), "precious\n", "  the symlink's target is untouched");
	ok(access(target, F_OK) < 0, "  the target is not made");
	vs_tmp_suffix_hook = NULL;
}

/* a symlink at the target itself is replaced, not followed (rename) */
static void test_target_link(void)
{
	reset();
	int r = symlink(victim, target);
	ok(r == 0, "symlink planted at the target");
	r = vs_write_file_atomic(target, "999\n", 4, 0644);
	ok(r == 0, "atomic write");
	is_str(slurp(victim), "precious\n", "  the symlink's target is untouched");
	ok(is_regular(target), "  the target is now a regular file");
	is_str(slurp(target), "999\n", "  with the content");
}

/* two writes with random names do not pick the same one */
static void test_random(void)
{
	reset();
	int r = vs_write_file_atomic(target, "a", 1, 0644);
	if (r == 0)
		r = vs_write_file_atomic(target, "b", 1, 0644);
	ok(r == 0, "two writes");
	is_str(slurp(target), "b", "  the last one wins");
	is_int(count_entries(), 2, "  no temporary file left");
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/vstest-common.XXXXXX");
	if (!mkdtemp(dir)) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	umask(022);
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	snprintf(target, sizeof(target), "%s/pid", dir);
	test_plain();
	test_old_name();
	test_planted_candidates();
	test_target_link();
	test_random();
	char cmd[PATH_MAX + 32];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	(void)!system(cmd);
	return tap_done();
}
