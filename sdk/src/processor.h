/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals shared by the span processors (processor.c, batch.c): the
 * registry that repairs live processors in a child process after fork().
 */
#ifndef OTEL_SRC_PROCESSOR_H
#define OTEL_SRC_PROCESSOR_H

/*
 * A processor that keeps threads or locks embeds one of these. After fork()
 * the child runs @child for every registered hook, single-threaded, with the
 * registry locked: it must reset what the parent's other threads left behind
 * (held locks, a worker that does not exist in the child) without blocking.
 */
struct otel_fork_hook {
	struct otel_fork_hook *prev, *next;
	void (*child)(struct otel_fork_hook *h);
};

/* Start repairing @h in forked children (registers the atfork handlers once). */
void otel_fork_hook_add(struct otel_fork_hook *h);
/* Stop; @h must have been added. */
void otel_fork_hook_del(struct otel_fork_hook *h);

#endif
