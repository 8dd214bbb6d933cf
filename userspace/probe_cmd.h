/* SPDX-License-Identifier: Apache-2.0 */
/*
 * userspace/probe_cmd.h: `kspan probe`: what the running kernel offers and the
 * attach plan the agent would choose.
 */
#ifndef KSPAN_USERSPACE_PROBE_CMD_H
#define KSPAN_USERSPACE_PROBE_CMD_H

#include <stdio.h>

/**
 * @brief Print the kernel release, every feature (yes/no and why), whether each
 * hook flavor's programs pass the verifier, and the attach plan, one per line:
 *
 *     feature <name>: yes|no (<reason>)
 *     verifier <flavor>: ok|failed (<reason>)
 *     plan: <flavor> (<why>)            or    plan: none (<why>)
 *
 * @return 0 when a flavor can be attached, -ENOTSUP when none can, -EINVAL if out is NULL.
 */
int kspan_probe_cmd(FILE *out);

#endif /* KSPAN_USERSPACE_PROBE_CMD_H */
