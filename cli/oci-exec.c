/* vsrun exec: runs a new process in a container, from -p process.json or
 * from the command line over the container's own process settings. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *usage_exec =
	"exec [-p process.json | options] ID [COMMAND [ARG...]]\n"
	"  -p, --process FILE      the process, as process.json (- for stdin)\n"
	"  -t, --tty               allocate a pseudo-terminal\n"
	"  -w, --cwd DIR           working directory\n"
	"  -e, --env K=V           set an environment variable (repeatable)\n"
	"  -u, --user UID[:GID]    run as this user\n"
	"  -g, --additional-gids G add a supplementary group (repeatable)\n"
	"  -c, --cap CAP           add a capability (repeatable)\n"
	"  -d, --detach            do not wait for the process\n"
	"      --pid-file FILE     write the process's pid here\n"
	"      --console-socket P  send the pty master to this unix socket\n"
	"      --preserve-fds N    pass fds 3..3+N-1 to the process\n"
	"      --no-new-privs      set no_new_privs\n"
	"      --apparmor PROFILE  run under this AppArmor profile (refused where\n"
	"                          AppArmor is not enabled)\n"
	"      --process-label L   run with this SELinux label (refused where\n"
	"                          SELinux is not enabled)\n"
	"      --cgroup PATH, --ignore-paused\n"
	"                          accepted for compatibility; ignored";

static void set_env(struct conf_process *p, const char *kv)
{
	size_t klen = strcspn(kv, "=");
	for (size_t i = 0; p->env && p->env[i]; i++)
		if (!strncmp(p->env[i], kv, klen) && p->env[i][klen] == '=') {
			free(p->env[i]);
			p->env[i] = vs_xstrdup(kv);
			return;
		}
	vs_strv_push(&p->env, kv);
}

static int parse_u32(const char *s, uint32_t *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int load_process_file(const char *path, struct conf_process **out, struct vs_err *err)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	int r = vs_read_file(strcmp(path, "-") ? path : "/dev/stdin", &data, &len);
	if (r < 0)
		return vs_fail(err, -r, "exec: read %s", path);
	return conf_parse_process(data, len, path, out, err);
}

int oci_exec(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "process", required_argument, NULL, 'p' },
		{ "tty", no_argument, NULL, 't' },
		{ "cwd", required_argument, NULL, 'w' },
		{ "env", required_argument, NULL, 'e' },
		{ "user", required_argument, NULL, 'u' },
		{ "additional-gids", required_argument, NULL, 'g' },
		{ "cap", required_argument, NULL, 'c' },
		{ "detach", no_argument, NULL, 'd' },
		{ "pid-file", required_argument, NULL, 'P' },
		{ "console-socket", required_argument, NULL, 'C' },
		{ "preserve-fds", required_argument, NULL, 'f' },
		{ "no-new-privs", no_argument, NULL, 'n' },
		{ "process-label", required_argument, NULL, 'L' },
		{ "apparmor", required_argument, NULL, 'A' },
		{ "ignore-paused", no_argument, NULL, 'I' },
		{ "cgroup", required_argument, NULL, 'G' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct rt_exec_opts o = { 0 };
	const char *process_file = NULL, *cwd = NULL, *user = NULL, *apparmor = NULL, *label = NULL;
	bool tty = false, nnp = false;
	char **envs = NULL, **gids = NULL, **caps = NULL;
	int c, ret = 2;
	while ((c = getopt_long(argc, argv, "+p:tw:e:u:g:c:dh", opts, NULL)) != -1) {
		switch (c) {
		case 'p': process_file = optarg; break;
		case 't': tty = true; break;
		case 'w': cwd = optarg; break;
		case 'e': vs_strv_push(&envs, optarg); break;
		case 'u': user = optarg; break;
		case 'g': vs_strv_push(&gids, optarg); break;
		case 'c': vs_strv_push(&caps, optarg); break;
		case 'd': o.detach = true; break;
		case 'P': o.pid_file = optarg; break;
		case 'C': o.console_socket = optarg; break;
		case 'n': nnp = true; break;
		case 'A': apparmor = optarg; break;
		case 'L': label = optarg; break;
		case 'I': case 'G': break;
		case 'f': {
			char *end;
			long n = strtol(optarg, &end, 10);
			if (*end || n < 0 || n > 10000) {
				cli_errorf("exec: --preserve-fds: expected a count, got \"%s\"", optarg);
				goto out;
			}
			o.preserve_fds = (int)n;
			if (cli_fill_preserved_fds(o.preserve_fds) < 0)
				goto out;
			break;
		}
		case 'h': printf("usage: vsrun %s\n", usage_exec); ret = 0; goto out;
		default: goto out;
		}
	}
	if (cli_need_args(argc, optind, process_file ? 1 : 2, true, "exec [options] ID COMMAND...") < 0)
		goto out;
	o.id = argv[optind];
	struct vs_err err = { 0 };
	struct conf_process *p = NULL;
	if (process_file) {
		if (load_process_file(process_file, &p, &err) < 0) {
			ret = cli_error(&err);
			goto out;
		}
	} else {
		struct conf_config *cfg = NULL;
		if (rt_container_config(&g_cli.ctx, o.id, &cfg, &err) < 0) {
			ret = cli_error(&err);
			goto out;
		}
		p = cfg->process;
		cfg->process = NULL;
		conf_free(cfg);
		vs_strv_free(p->args);
		p->args = vs_strv_dup(argv + optind + 1);
		p->terminal = tty;
	}
	if (cwd) {
		free(p->cwd);
		p->cwd = vs_xstrdup(cwd);
	}
	for (size_t i = 0; envs && envs[i]; i++)
		set_env(p, envs[i]);
	if (user) {
		char *colon = strchr(user, ':');
		if (colon)
			*colon = '\0';
		if (parse_u32(user, &p->user.uid) < 0 || (colon && parse_u32(colon + 1, &p->user.gid) < 0)) {
			ret = cli_errorf("exec: --user: expected UID[:GID] as numbers, got \"%s\"", user);
			goto out_p;
		}
	}
	for (size_t i = 0; gids && gids[i]; i++) {
		uint32_t gid;
		if (parse_u32(gids[i], &gid) < 0) {
			ret = cli_errorf("exec: --additional-gids: expected a number, got \"%s\"", gids[i]);
			goto out_p;
		}
		p->user.additional_gids = vs_xrealloc(p->user.additional_gids,
						      (p->user.n_additional_gids + 1) * sizeof(uint32_t));
		p->user.additional_gids[p->user.n_additional_gids++] = gid;
	}
	for (size_t i = 0; caps && caps[i]; i++) {
		int cap = conf_cap_from_name(caps[i]);
		if (cap < 0) {
			ret = cli_errorf("exec: --cap: unknown capability \"%s\"", caps[i]);
			goto out_p;
		}
		uint64_t bit = 1ULL << cap;
		p->caps.set = true;
		p->caps.bounding |= bit;
		p->caps.effective |= bit;
		p->caps.permitted |= bit;
	}
	if (nnp)
		p->no_new_privileges = true;
	if (apparmor) {
		free(p->apparmor_profile);
		p->apparmor_profile = vs_xstrdup(apparmor);
	}
	if (label) {
		free(p->selinux_label);
		p->selinux_label = vs_xstrdup(label);
	}
	o.process = p;
	int status = 0;
	if (rt_exec(&g_cli.ctx, &o, &status, &err) < 0)
		ret = cli_error(&err);
	else
		ret = status;
out_p:
	conf_process_free(p);
out:
	vs_strv_free(envs);
	vs_strv_free(gids);
	vs_strv_free(caps);
	return ret;
}
