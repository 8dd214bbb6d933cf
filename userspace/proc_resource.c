// SPDX-License-Identifier: Apache-2.0
/*
 * Per-process resources: the attribute array of one traced process, from its
 * procfs files (proc_resource_new) or from values already read (the pure
 * builder, which the environ fuzzer drives). The OTEL_RESOURCE_ATTRIBUTES
 * value is parsed by libotel's own parser, so a target reads the same here as
 * under the SDK.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "attrs.h"
#include "cli.h"
#include "log.h"
#include "proc_resource.h"
#include "procfs.h"
#include "resource.h"
#include "text.h"

#define DELETED_SUFFIX " (deleted)"
/* Fixed attributes: service.name, process.* (4), host.name, telemetry.* (5). */
#define N_FIXED 11

/* Strings made while building, freed together at the end. */
struct scratch {
	char *bufs[4];
	size_t n;
	struct otel_store st; /* heap-only, for the parsed OTEL_RESOURCE_ATTRIBUTES */
	struct otel_attr_list env_attrs;
};

/* A NUL-terminated copy of s[0..len) with ill-formed UTF-8 replaced by U+FFFD, or NULL. */
static const char *utf8_copy(struct scratch *sc, const char *s, size_t len)
{
	char *out;

	if (sc->n == sizeof(sc->bufs) / sizeof(sc->bufs[0]) || len > (SIZE_MAX - 1) / 3)
		return NULL;
	out = malloc(3 * len + 1);
	if (!out)
		return NULL;
	out[otel_text_utf8_repair(s, len, out)] = '\0';
	sc->bufs[sc->n++] = out;
	return out;
}

static void scratch_release(struct scratch *sc)
{
	for (size_t i = 0; i < sc->n; i++)
		free(sc->bufs[i]);
	otel_attr_list_release(&sc->env_attrs, &sc->st);
}

/* Append a string attribute when the value is known and non-empty. */
static void put_str(struct otel_attribute *a, size_t *n, const char *key, const char *value)
{
	if (value && *value)
		a[(*n)++] = (struct otel_attribute){ .key = key, .value = otel_value_str(value) };
}

/* The target's variable NAME, trimmed as the SDK trims it; false: unset, empty or too long. */
static bool target_env(const struct kspan_proc_info *info, const char *name, const char **val,
		       size_t *len)
{
	if (!kspan_environ_find(info->environ, info->environ_len, name, val, len))
		return false;
	otel_text_trim_ows(val, len);
	if (*len > KSPAN_ENV_VALUE_MAX) {
		otel_log(OTEL_LOG_WARN, "kspan: PID %d: %s is longer than %u bytes; ignored",
			 (int)info->pid, name, KSPAN_ENV_VALUE_MAX);
		return false;
	}
	return *len > 0;
}

/* The target's OTEL_RESOURCE_ATTRIBUTES into sc->env_attrs; malformed: warned and ignored. */
static int parse_target_attrs(const struct kspan_proc_info *info, struct scratch *sc)
{
	const char *v;
	size_t len;
	int err;

	if (!target_env(info, "OTEL_RESOURCE_ATTRIBUTES", &v, &len))
		return 0;
	err = otel_resource_parse_kv_list(v, len, &sc->env_attrs, &sc->st);
	if (err == -EINVAL) {
		/* The value is not logged: it belongs to the target and may hold secrets. */
		otel_log(OTEL_LOG_WARN,
			 "kspan: PID %d: OTEL_RESOURCE_ATTRIBUTES is malformed (expected key=value "
			 "pairs separated by ',', percent-encoded); ignored",
			 (int)info->pid);
		err = 0;
	}
	return err;
}

/* The executable path without the " (deleted)" the kernel adds for a replaced binary. */
static const char *exe_path(const struct kspan_proc_info *info, struct scratch *sc)
{
	const char *p = info->exe_path;
	size_t len = p ? strlen(p) : 0, sfx = strlen(DELETED_SUFFIX);

	if (!len)
		return NULL;
	if (len > sfx && !strcmp(p + len - sfx, DELETED_SUFFIX))
		len -= sfx;
	return utf8_copy(sc, p, len);
}

static const char *exe_name(const char *path, const struct kspan_proc_info *info,
			    struct scratch *sc)
{
	const char *slash = path ? strrchr(path, '/') : NULL;

	if (path)
		return slash ? slash + 1 : path;
	return info->comm ? utf8_copy(sc, info->comm, strlen(info->comm)) : NULL;
}

/* "service.name=" with nothing after it names no service: the fallback stays. */
static bool empty_service_name(const struct otel_attribute *attr)
{
	return !strcmp(attr->key, "service.name") && attr->value.type == OTEL_VALUE_STRING &&
	       !attr->value.str.len;
}

/*
 * The fixed attributes first and the target's own after them: otel_resource_new()
 * lets a later duplicate win, which gives the precedence in one pass.
 */
static otel_resource *assemble(const struct kspan_proc_info *info, struct scratch *sc)
{
	size_t n = 0, cap = N_FIXED + sc->env_attrs.count + 1, vlen;
	struct otel_attribute *a = calloc(cap, sizeof(*a));
	const char *path = exe_path(info, sc), *name = exe_name(path, info, sc), *v;
	const char *cmd = info->command_line;
	otel_resource *r;

	if (!a)
		return NULL;
	put_str(a, &n, "service.name", name);
	a[n++] = (struct otel_attribute)OTEL_ATTR_INT("process.pid", info->pid);
	put_str(a, &n, "process.executable.name", name);
	put_str(a, &n, "process.executable.path", path);
	put_str(a, &n, "process.command_line", cmd ? utf8_copy(sc, cmd, strlen(cmd)) : NULL);
	put_str(a, &n, "host.name", info->host_name);
	put_str(a, &n, "telemetry.sdk.name", "libotel");
	put_str(a, &n, "telemetry.sdk.language", "c");
	put_str(a, &n, "telemetry.sdk.version", otel_version_string());
	put_str(a, &n, "telemetry.distro.name", KSPAN_DISTRO_NAME);
	put_str(a, &n, "telemetry.distro.version", KSPAN_VERSION);
	for (uint32_t i = 0; i < sc->env_attrs.count; i++)
		if (!empty_service_name(&sc->env_attrs.items[i]))
			a[n++] = sc->env_attrs.items[i];
	/* OTEL_SERVICE_NAME wins over service.name in OTEL_RESOURCE_ATTRIBUTES (the spec's rule). */
	if (target_env(info, "OTEL_SERVICE_NAME", &v, &vlen))
		put_str(a, &n, "service.name", utf8_copy(sc, v, vlen));
	r = otel_resource_new(a, n, NULL);
	free(a);
	return r;
}

otel_resource *kspan_proc_resource_build(const struct kspan_proc_info *info)
{
	struct scratch sc = { 0 };
	otel_resource *r = NULL;

	if (!parse_target_attrs(info, &sc))
		r = assemble(info, &sc);
	scratch_release(&sc);
	if (!r)
		errno = ENOMEM;
	return r;
}

otel_resource *kspan_proc_resource_new(const char *procfs_root, pid_t pid, const char *host_name)
{
	char path[PATH_MAX], comm[64], cmd[KSPAN_CMDLINE_MAX + 1], host[HOST_NAME_MAX + 1];
	struct kspan_proc_info info = { .pid = pid, .comm = comm, .command_line = cmd };
	char *env;
	otel_resource *r;

	if (kspan_procfs_comm(procfs_root, pid, comm, sizeof(comm))) {
		errno = ESRCH;
		return NULL;
	}
	if (!kspan_procfs_exe(procfs_root, pid, path, sizeof(path), NULL, NULL))
		info.exe_path = path;
	if (kspan_procfs_cmdline(procfs_root, pid, cmd, sizeof(cmd)))
		cmd[0] = '\0';
	if (!host_name && !gethostname(host, sizeof(host))) {
		host[sizeof(host) - 1] = '\0';
		host_name = host;
	}
	info.host_name = host_name;
	env = kspan_procfs_read_environ(procfs_root, pid, &info.environ_len);
	info.environ = env;
	if (!env)
		info.environ_len = 0;
	r = kspan_proc_resource_build(&info);
	free(env);
	return r;
}
