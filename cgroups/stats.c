/* cgroups: statistics (cpu, memory, pids, io, hugetlb, PSI) and OOM counts, and the
 * runc `events --stats` JSON. */
#include "internal.h"

#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static uint64_t u64_or0(const char *dir, const char *file)
{
	uint64_t v = 0;
	if (!dir || cg_read_u64(dir, file, &v) < 0)
		return 0;
	return v;
}

static uint64_t keyed_or0(const char *text, const char *key)
{
	uint64_t v = 0;
	if (text)
		cg_keyed(text, key, &v);
	return v;
}

/* "some avg10=1.23 avg60=..." -> 1.23 for the line that starts with which */
static bool psi_avg10(const char *dir, const char *file, const char *which, double *out)
{
	_cleanup_free_ char *s = NULL;
	if (!dir || cg_read(dir, file, &s) < 0)
		return false;
	size_t wl = strlen(which);
	for (char *p = s; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, which, wl) && p[wl] == ' ') {
			char *a = strstr(p, "avg10=");
			if (!a)
				return false;
			*out = strtod(a + 6, NULL);
			return true;
		}
	return false;
}

static void read_psi(const char *dir, struct cg_stats *st)
{
	st->has_psi = psi_avg10(dir, "cpu.pressure", "some", &st->psi_cpu_some10);
	st->has_psi |= psi_avg10(dir, "memory.pressure", "some", &st->psi_mem_some10);
	psi_avg10(dir, "memory.pressure", "full", &st->psi_mem_full10);
	st->has_psi |= psi_avg10(dir, "io.pressure", "some", &st->psi_io_some10);
	psi_avg10(dir, "io.pressure", "full", &st->psi_io_full10);
}

/* io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0" per device */
static void read_io_stat(const char *dir, struct cg_stats *st)
{
	_cleanup_free_ char *s = NULL;
	if (cg_read(dir, "io.stat", &s) < 0)
		return;
	char *save = NULL;
	for (char *tok = strtok_r(s, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
		char *eq = strchr(tok, '=');
		if (!eq)
			continue;
		uint64_t v = strtoull(eq + 1, NULL, 10);
		*eq = '\0';
		if (!strcmp(tok, "rbytes"))
			st->io_read_bytes += v;
		else if (!strcmp(tok, "wbytes"))
			st->io_write_bytes += v;
		else if (!strcmp(tok, "rios"))
			st->io_read_ops += v;
		else if (!strcmp(tok, "wios"))
			st->io_write_ops += v;
	}
}

/* hugetlb.<size>.* of dir, for every page size it lists: cgroup2 has
 * .current and .events ("max N"), v1 .usage_in_bytes, .max_usage_in_bytes
 * and .failcnt. */
static void read_hugetlb(const char *dir, bool v2, struct cg_stats *st)
{
	const char *suffix = v2 ? ".current" : ".usage_in_bytes";
	DIR *d = dir ? opendir(dir) : NULL;
	struct dirent *de;
	while (d && (de = readdir(d)) && st->n_hugetlb < (int)VS_ARRAY_SIZE(st->hugetlb)) {
		size_t l = strlen(de->d_name), sl = strlen(suffix);
		if (strncmp(de->d_name, "hugetlb.", 8) || l <= 8 + sl ||
		    strcmp(de->d_name + l - sl, suffix) || l - 8 - sl >= sizeof(st->hugetlb[0].size))
			continue;
		struct cg_hugetlb_stats *h = &st->hugetlb[st->n_hugetlb];
		snprintf(h->size, sizeof(h->size), "%.*s", (int)(l - 8 - sl), de->d_name + 8);
		if (strchr(h->size, '.'))
			continue;   /* hugetlb.2MB.rsvd.current */
		char f[64];
		h->usage = u64_or0(dir, de->d_name);
		if (v2) {
			_cleanup_free_ char *ev = NULL;
			snprintf(f, sizeof(f), "hugetlb.%s.events", h->size);
			if (cg_read(dir, f, &ev) == 0)
				h->failcnt = keyed_or0(ev, "max");
		} else {
			snprintf(f, sizeof(f), "hugetlb.%s.max_usage_in_bytes", h->size);
			h->max_usage = u64_or0(dir, f);
			snprintf(f, sizeof(f), "hugetlb.%s.failcnt", h->size);
			h->failcnt = u64_or0(dir, f);
		}
		st->n_hugetlb++;
	}
	if (d)
		closedir(d);
}

static int stats_v2(const char *d, struct cg_stats *st)
{
	_cleanup_free_ char *cpu = NULL, *mem = NULL, *ev = NULL;
	if (cg_read(d, "cpu.stat", &cpu) < 0)
		return -ENOENT;
	st->cpu_usage_ns = keyed_or0(cpu, "usage_usec") * 1000;
	st->cpu_user_ns = keyed_or0(cpu, "user_usec") * 1000;
	st->cpu_system_ns = keyed_or0(cpu, "system_usec") * 1000;
	st->cpu_nr_periods = keyed_or0(cpu, "nr_periods");
	st->cpu_nr_throttled = keyed_or0(cpu, "nr_throttled");
	st->cpu_throttled_ns = keyed_or0(cpu, "throttled_usec") * 1000;

	st->mem_usage = u64_or0(d, "memory.current");
	st->mem_max_usage = u64_or0(d, "memory.peak");
	st->mem_limit = u64_or0(d, "memory.max");
	if (cg_read(d, "memory.stat", &mem) == 0) {
		st->mem_cache = keyed_or0(mem, "file");
		st->mem_rss = keyed_or0(mem, "anon");
	}
	st->mem_swap_usage = u64_or0(d, "memory.swap.current");
	st->mem_swap_limit = u64_or0(d, "memory.swap.max");
	if (cg_read(d, "memory.events", &ev) == 0) {
		st->mem_failcnt = keyed_or0(ev, "max");
		st->oom_kill_count = keyed_or0(ev, "oom_kill");
	}
	st->pids_current = u64_or0(d, "pids.current");
	st->pids_limit = u64_or0(d, "pids.max");
	read_io_stat(d, st);
	read_hugetlb(d, true, st);
	read_psi(d, st);
	return 0;
}

/* blkio.throttle.io_service_bytes: "8:0 Read 123" ... "Total 456" */
static void blkio_sum(const char *dir, const char *file, uint64_t *rd, uint64_t *wr)
{
	_cleanup_free_ char *s = NULL;
	if (!dir || cg_read(dir, file, &s) < 0)
		return;
	for (char *line = s; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		char dev[32], op[16];
		unsigned long long v;
		if (sscanf(line, "%31s %15s %llu", dev, op, &v) != 3)
			continue;
		if (!strcmp(op, "Read"))
			*rd += v;
		else if (!strcmp(op, "Write"))
			*wr += v;
	}
}

static int stats_v1(const struct cg_dirs *dirs, struct cg_stats *st)
{
	const char *acct = cg_v1_dir(dirs, CG1_CPUACCT), *cpu = cg_v1_dir(dirs, CG1_CPU);
	const char *mem = cg_v1_dir(dirs, CG1_MEMORY), *pids = cg_v1_dir(dirs, CG1_PIDS);
	const char *blk = cg_v1_dir(dirs, CG1_BLKIO);
	_cleanup_free_ char *s = NULL, *cs = NULL, *ms = NULL, *oc = NULL;
	if (!cg_main_dir(dirs))
		return -ENOENT;
	st->cpu_usage_ns = u64_or0(acct, "cpuacct.usage");
	if (acct && cg_read(acct, "cpuacct.stat", &s) == 0) {
		long hz = sysconf(_SC_CLK_TCK);
		uint64_t ns_per_tick = hz > 0 ? 1000000000ULL / (uint64_t)hz : 10000000ULL;
		st->cpu_user_ns = keyed_or0(s, "user") * ns_per_tick;
		st->cpu_system_ns = keyed_or0(s, "system") * ns_per_tick;
	}
	if (cpu && cg_read(cpu, "cpu.stat", &cs) == 0) {
		st->cpu_nr_periods = keyed_or0(cs, "nr_periods");
		st->cpu_nr_throttled = keyed_or0(cs, "nr_throttled");
		st->cpu_throttled_ns = keyed_or0(cs, "throttled_time");
	}
	if (mem) {
		st->mem_usage = u64_or0(mem, "memory.usage_in_bytes");
		st->mem_max_usage = u64_or0(mem, "memory.max_usage_in_bytes");
		st->mem_limit = u64_or0(mem, "memory.limit_in_bytes");
		st->mem_failcnt = u64_or0(mem, "memory.failcnt");
		if (cg_read(mem, "memory.stat", &ms) == 0) {
			uint64_t v;
			st->mem_cache = cg_keyed(ms, "total_cache", &v) == 0 ? v : keyed_or0(ms, "cache");
			st->mem_rss = cg_keyed(ms, "total_rss", &v) == 0 ? v : keyed_or0(ms, "rss");
		}
		/* memsw counts memory+swap; we keep swap alone, as v2 does */
		uint64_t sw = u64_or0(mem, "memory.memsw.usage_in_bytes");
		st->mem_swap_usage = sw > st->mem_usage ? sw - st->mem_usage : 0;
		uint64_t swl = u64_or0(mem, "memory.memsw.limit_in_bytes");
		st->mem_swap_limit = swl > st->mem_limit ? swl - st->mem_limit : 0;
		if (cg_read(mem, "memory.oom_control", &oc) == 0)
			st->oom_kill_count = keyed_or0(oc, "oom_kill");
	}
	st->pids_current = u64_or0(pids, "pids.current");
	st->pids_limit = u64_or0(pids, "pids.max");
	blkio_sum(blk, "blkio.throttle.io_service_bytes_recursive", &st->io_read_bytes,
		  &st->io_write_bytes);
	blkio_sum(blk, "blkio.throttle.io_serviced_recursive", &st->io_read_ops, &st->io_write_ops);
	/* hugetlb: v1, or the hybrid's cgroup2 where it lives there (hybrid.c) */
	const char *huge = cg_v1_dir(dirs, CG1_HUGETLB);
	read_hugetlb(huge ? huge : cg_unified_dir(dirs), !huge, st);
	/* a hybrid host's cgroup2 has PSI even without controllers */
	read_psi(cg_unified_dir(dirs), st);
	return 0;
}

int cg_stats(const struct vs_cgroup *cg, struct cg_stats *st, struct vs_err *err)
{
	memset(st, 0, sizeof(*st));
	if (!cg_exists(cg))
		return vs_failx(err, ENOENT, "cgroup: %s does not exist", cg->path);
	struct cg_dirs dirs;
	cg_list_dirs(cg, &dirs, NULL);
	int r = cg->mode == CG_MODE_V2 ? stats_v2(dirs.d[0].path, st) : stats_v1(&dirs, st);
	if (r < 0)
		return vs_fail(err, -r, "cgroup: stats of %s", cg->path);
	if (st->pids_limit == UINT64_MAX)
		st->pids_limit = 0;
	return 0;
}

int cg_oom_kills(const struct vs_cgroup *cg, uint64_t *count)
{
	struct cg_dirs dirs;
	cg_list_dirs(cg, &dirs, NULL);
	*count = 0;
	if (cg->mode == CG_MODE_V2)
		return cg_read_keyed(dirs.d[0].path, "memory.events", "oom_kill", count);
	const char *mem = cg_v1_dir(&dirs, CG1_MEMORY);
	if (!mem)
		return -EOPNOTSUPP;
	return cg_read_keyed(mem, "memory.oom_control", "oom_kill", count);
}

/* ---- JSON ---- */


static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

char *cg_stats_json(const char *id, const struct cg_stats *st)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		abort();
	fputs("{\"type\":\"stats\",\"id\":", f);
	vs_json_fputs(f, id);
	fprintf(f, ",\"data\":{\"cpu\":{\"usage\":{\"total\":%" PRIu64 ",\"percpu\":[],"
		"\"kernel\":%" PRIu64 ",\"user\":%" PRIu64 "},",
		st->cpu_usage_ns, st->cpu_system_ns, st->cpu_user_ns);
	fprintf(f, "\"throttling\":{\"periods\":%" PRIu64 ",\"throttled_periods\":%" PRIu64
		",\"throttled_time\":%" PRIu64 "}},",
		st->cpu_nr_periods, st->cpu_nr_throttled, st->cpu_throttled_ns);
	/* runc reports swap as memory+swap (v1's memsw), on v2 too */
	fprintf(f, "\"memory\":{\"usage\":{\"limit\":%" PRIu64 ",\"usage\":%" PRIu64
		",\"max\":%" PRIu64 ",\"failcnt\":%" PRIu64 "},",
		st->mem_limit, st->mem_usage, st->mem_max_usage, st->mem_failcnt);
	fprintf(f, "\"swap\":{\"limit\":%" PRIu64 ",\"usage\":%" PRIu64 ",\"failcnt\":0},",
		sat_add(st->mem_swap_limit, st->mem_limit), sat_add(st->mem_swap_usage, st->mem_usage));
	fprintf(f, "\"cache\":%" PRIu64 ",\"raw\":{\"cache\":%" PRIu64 ",\"rss\":%" PRIu64
		",\"oom_kill\":%" PRIu64 "}},",
		st->mem_cache, st->mem_cache, st->mem_rss, st->oom_kill_count);
	fprintf(f, "\"pids\":{\"current\":%" PRIu64 ",\"limit\":%" PRIu64 "},",
		st->pids_current, st->pids_limit);
	fprintf(f, "\"blkio\":{\"ioServiceBytesRecursive\":[{\"op\":\"Read\",\"value\":%" PRIu64
		"},{\"op\":\"Write\",\"value\":%" PRIu64 "},{\"op\":\"Total\",\"value\":%" PRIu64 "}],",
		st->io_read_bytes, st->io_write_bytes, sat_add(st->io_read_bytes, st->io_write_bytes));
	fprintf(f, "\"ioServicedRecursive\":[{\"op\":\"Read\",\"value\":%" PRIu64
		"},{\"op\":\"Write\",\"value\":%" PRIu64 "},{\"op\":\"Total\",\"value\":%" PRIu64 "}]},",
		st->io_read_ops, st->io_write_ops, sat_add(st->io_read_ops, st->io_write_ops));
	/* runc's shape: the peak ("max") only where the kernel keeps one (v1) */
	fputs("\"hugetlb\":{", f);
	for (int i = 0; i < st->n_hugetlb; i++) {
		const struct cg_hugetlb_stats *h = &st->hugetlb[i];
		fprintf(f, "%s\"%s\":{\"usage\":%" PRIu64, i ? "," : "", h->size, h->usage);
		if (h->max_usage)
			fprintf(f, ",\"max\":%" PRIu64, h->max_usage);
		fprintf(f, ",\"failcnt\":%" PRIu64 "}", h->failcnt);
	}
	fputs("}", f);
	if (st->has_psi)
		fprintf(f, ",\"pressure\":{\"cpu\":{\"some\":{\"avg10\":%.2f}},"
			"\"memory\":{\"some\":{\"avg10\":%.2f},\"full\":{\"avg10\":%.2f}},"
			"\"io\":{\"some\":{\"avg10\":%.2f},\"full\":{\"avg10\":%.2f}}}",
			st->psi_cpu_some10, st->psi_mem_some10, st->psi_mem_full10,
			st->psi_io_some10, st->psi_io_full10);
	fputs("}}", f);
	if (fclose(f) != 0)
		abort();
	return buf;
}
