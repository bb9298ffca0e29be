/* The defence against the /proc/self/exe class of escapes (CVE-2019-5736):
 * a process inside a container that opens /proc/<pid>/exe of a runtime
 * process entering it must never reach the runtime binary on the host. So the
 * verbs that enter a container re-execute themselves from a sealed memfd
 * copy: writes to it fail (F_SEAL_WRITE) and it lives nowhere on disk. */
#include "internal.h"

#include <elf.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

/* The copy is named after the binary it was copied from, so that the
 * programs beside it can still be found (rt_exe_path): /proc/PID/exe of a
 * sealed vsrun reads "/memfd:vsrun:/usr/sbin/vsrun (deleted)". */
#define SEALED_PREFIX "vsrun:"
#define MEMFD_PREFIX "/memfd:"
#define MEMFD_NAME_MAX 249   /* the kernel's limit for memfd_create's name */

static bool is_sealed(int fd)
{
	int seals = fcntl(fd, F_GET_SEALS);
	return seals >= 0 && (seals & F_SEAL_WRITE) && (seals & F_SEAL_SEAL);
}

bool rt_exe_path(char *buf, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return false;
	exe[n] = '\0';
	const char *p = exe;
	if (!strncmp(p, MEMFD_PREFIX, strlen(MEMFD_PREFIX))) {
		p += strlen(MEMFD_PREFIX);
		if (strncmp(p, SEALED_PREFIX, strlen(SEALED_PREFIX)))
			return false;
		p += strlen(SEALED_PREFIX);
		size_t l = strlen(exe), d = strlen(" (deleted)");
		if (l > d && !strcmp(exe + l - d, " (deleted)"))
			exe[l - d] = '\0';
	}
	if (*p != '/' || strlen(p) >= len)
		return false;
	memcpy(buf, p, strlen(p) + 1);
	return true;
}

/* How much of the binary execve needs: up to the end of the last part a
 * program header names (the segments, the interpreter's name, notes). The
 * symbols and debug sections after it are not copied: with -g they are
 * three quarters of the file, and the copy is on the path of every create.
 * The whole file when the headers do not say. */
static off_t exec_size(int fd, off_t file_size)
{
	union { Elf64_Ehdr e; unsigned char b[4096]; } h;
	ssize_t n = pread(fd, &h, sizeof(h), 0);
	if (n < (ssize_t)sizeof(Elf64_Ehdr) || memcmp(h.e.e_ident, ELFMAG, SELFMAG) ||
	    h.e.e_ident[EI_CLASS] != ELFCLASS64 || h.e.e_phentsize != sizeof(Elf64_Phdr) ||
	    h.e.e_phoff + (uint64_t)h.e.e_phnum * sizeof(Elf64_Phdr) > (uint64_t)n)
		return file_size;
	const Elf64_Phdr *ph = (const Elf64_Phdr *)(h.b + h.e.e_phoff);
	uint64_t end = h.e.e_phoff + (uint64_t)h.e.e_phnum * sizeof(Elf64_Phdr);
	for (int i = 0; i < h.e.e_phnum; i++)
		if (ph[i].p_offset + ph[i].p_filesz > end)
			end = ph[i].p_offset + ph[i].p_filesz;
	return end < (uint64_t)file_size ? (off_t)end : file_size;
}

int rt_ensure_sealed_exe(char **argv, char **envp)
{
	_cleanup_close_ int src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (src < 0)
		return -errno;
	if (is_sealed(src))
		return 0;
	struct stat st;
	if (fstat(src, &st) < 0)
		return -errno;
	char name[MEMFD_NAME_MAX + 1] = SEALED_PREFIX, path[PATH_MAX];
	if (rt_exe_path(path, sizeof(path)) && strlen(SEALED_PREFIX) + strlen(path) <= MEMFD_NAME_MAX)
		strcat(name, path);
	else
		snprintf(name, sizeof(name), "vsrun");
	_cleanup_close_ int mfd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0)
		return -errno;
	off_t left = exec_size(src, st.st_size);
	while (left > 0) {
		ssize_t n = sendfile(mfd, src, NULL, (size_t)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		left -= n;
	}
	if (fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE |
					   F_SEAL_FUTURE_WRITE | F_SEAL_SEAL) < 0)
		return -errno;
	syscall(SYS_execveat, mfd, "", argv, envp, AT_EMPTY_PATH);
	return -errno;
}
