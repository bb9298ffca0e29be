/* libFuzzer target for conf/: every input goes through the three entry
 * points that take untrusted text (config.json, process.json of `exec -p`,
 * resources of `update --resources`). Whatever they return, nothing may
 * crash, leak, or leave an error without a message.
 *
 *   make build/fuzz-conf && build/fuzz-conf -max_total_time=60 tests/fuzz/corpus */
#include <stdio.h>
#include <string.h>

#include "../../conf/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_err(int r, const struct vs_err *err)
{
	/* a refusal always says why, in one line */
	if (r < 0 && (err->code != -r || !err->msg[0] || strchr(err->msg, '\n')))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *json = (const char *)data;
	struct vs_err err;

	struct conf_config *cfg = NULL;
	memset(&err, 0, sizeof(err));
	int r = conf_parse(json, size, "config.json", &cfg, &err);
	check_err(r, &err);
	if (r == 0) {
		/* walk what the runtime would read */
		(void)conf_annotation(cfg, "org.opencontainers.image.os");
		for (size_t i = 0; i < cfg->n_mounts; i++)
			if (cfg->mounts[i].destination[0] != '/')
				__builtin_trap();
		if (cfg->process && (!cfg->process->args || !cfg->process->args[0] ||
				     cfg->process->cwd[0] != '/'))
			__builtin_trap();
		conf_free(cfg);
	}

	struct conf_process *p = NULL;
	memset(&err, 0, sizeof(err));
	r = conf_parse_process(json, size, "process.json", &p, &err);
	check_err(r, &err);
	if (r == 0)
		conf_process_free(p);

	struct conf_resources res;
	memset(&err, 0, sizeof(err));
	r = conf_parse_resources(json, size, "resources.json", &res, &err);
	check_err(r, &err);
	if (r == 0)
		conf_resources_free(&res);
	return 0;
}
