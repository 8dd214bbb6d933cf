// SPDX-License-Identifier: Apache-2.0
/*
 * The target set (a sorted array of TGIDs with a change hook) and the
 * resolution of the selectors into its first members, through procfs.c.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <otel/sdk.h>
#include "log.h"
#include "procfs.h"
#include "targets.h"

void kspan_targets_init(struct kspan_targets *t, const char *procfs_root)
{
	*t = (struct kspan_targets){ .procfs_root = procfs_root };
}

/* Index of tgid, or of where it would go; *found tells which. */
static size_t find_slot(const struct kspan_targets *t, pid_t tgid, bool *found)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->tgids[mid] < tgid)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < t->n && t->tgids[lo] == tgid;
	return lo;
}

bool kspan_targets_contains(const struct kspan_targets *t, pid_t tgid)
{
	bool found;

	find_slot(t, tgid, &found);
	return found;
}

static void insert_at(struct kspan_targets *t, size_t i, pid_t tgid)
{
	memmove(&t->tgids[i + 1], &t->tgids[i], (t->n - i) * sizeof(*t->tgids));
	t->tgids[i] = tgid;
	t->n++;
}

static void remove_at(struct kspan_targets *t, size_t i)
{
	memmove(&t->tgids[i], &t->tgids[i + 1], (t->n - i - 1) * sizeof(*t->tgids));
	t->n--;
}

static int notify(struct kspan_targets *t, pid_t tgid, bool added)
{
	return t->on_change ? t->on_change(t->ctx, tgid, added) : 0;
}

int kspan_targets_add(struct kspan_targets *t, pid_t tgid)
{
	bool found;
	size_t i = find_slot(t, tgid, &found);
	int err;

	if (found)
		return 0;
	if (t->n == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 64;
		pid_t *nv = reallocarray(t->tgids, ncap, sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		t->tgids = nv;
		t->cap = ncap;
	}
	insert_at(t, i, tgid);
	err = notify(t, tgid, true);
	if (err) {
		remove_at(t, i);
		return err;
	}
	return 1;
}

int kspan_targets_remove(struct kspan_targets *t, pid_t tgid)
{
	bool found;
	size_t i = find_slot(t, tgid, &found);
	int err;

	if (!found)
		return 0;
	remove_at(t, i);
	err = notify(t, tgid, false);
	if (err) {
		insert_at(t, i, tgid);
		return err;
	}
	return 1;
}

int kspan_targets_add_tree(struct kspan_targets *t, pid_t tgid)
{
	struct kspan_pidvec queue = { 0 };
	int err = kspan_pidvec_push(&queue, tgid);

	/* Breadth first; the queue doubles as the visited set (children are pushed once). */
	for (size_t i = 0; i < queue.n && !err; i++) {
		err = kspan_targets_add(t, queue.v[i]);
		if (err >= 0)
			err = kspan_procfs_children(t->procfs_root, queue.v[i], &queue);
		if (err == -ENOENT || err == -ESRCH) /* exited meanwhile */
			err = 0;
	}
	kspan_pidvec_free(&queue);
	return err < 0 ? err : 0;
}

bool kspan_targets_exe_selected(const struct kspan_targets *t, dev_t dev, ino_t ino)
{
	for (size_t i = 0; i < t->n_exes; i++)
		if (t->exes[i].dev == dev && t->exes[i].ino == ino)
			return true;
	return false;
}

const struct kspan_exe_id *kspan_targets_exes(const struct kspan_targets *t, size_t *n)
{
	*n = t->n_exes;
	return t->exes;
}

static int record_exes(struct kspan_targets *t, const struct kspan_config *cfg)
{
	struct kspan_exe_id *ids;

	if (!cfg->n_exes)
		return 0;
	ids = reallocarray(t->exes, t->n_exes + cfg->n_exes, sizeof(*ids));
	if (!ids)
		return -ENOMEM;
	t->exes = ids;
	for (size_t i = 0; i < cfg->n_exes; i++)
		if (!kspan_targets_exe_selected(t, cfg->exes[i].dev, cfg->exes[i].ino))
			ids[t->n_exes++] =
				(struct kspan_exe_id){ cfg->exes[i].dev, cfg->exes[i].ino };
	return 0;
}

/* --pid: the process of each ID (a thread ID gives its thread group). */
static int roots_from_pids(struct kspan_targets *t, const struct kspan_config *cfg,
			   struct kspan_pidvec *roots)
{
	int err = 0;

	for (size_t i = 0; i < cfg->n_pids && !err; i++) {
		pid_t tgid;

		if (kspan_procfs_status(t->procfs_root, cfg->pids[i], &tgid, NULL)) {
			otel_log(OTEL_LOG_WARN, "kspan: PID %d exited; not traced",
				 (int)cfg->pids[i]);
			continue;
		}
		err = kspan_pidvec_push(roots, tgid);
	}
	return err;
}

/* --exe: every running process whose executable is one of the files. */
static int roots_from_exes(struct kspan_targets *t, struct kspan_pidvec *roots)
{
	struct kspan_pidvec all = { 0 };
	char path[PATH_MAX];
	int err;

	if (!t->n_exes)
		return 0;
	err = kspan_procfs_list_pids(t->procfs_root, &all);
	for (size_t i = 0; i < all.n && !err; i++) {
		dev_t dev;
		ino_t ino;

		/* Kernel threads have no exe; processes of other users may be unreadable. */
		if (kspan_procfs_exe(t->procfs_root, all.v[i], path, sizeof(path), &dev, &ino))
			continue;
		if (kspan_targets_exe_selected(t, dev, ino))
			err = kspan_pidvec_push(roots, all.v[i]);
	}
	kspan_pidvec_free(&all);
	return err;
}

/* --port: the owners of the listening sockets. */
static int roots_from_ports(struct kspan_targets *t, const struct kspan_config *cfg,
			    struct kspan_pidvec *roots)
{
	int err = 0;

	for (size_t i = 0; i < cfg->n_ports && !err; i++) {
		size_t before = roots->n;

		err = kspan_procfs_listeners(t->procfs_root, cfg->ports[i], roots);
		if (!err && roots->n == before)
			otel_log(OTEL_LOG_WARN, "kspan: no process listens on TCP port %u",
				 (unsigned)cfg->ports[i]);
	}
	return err;
}

int kspan_targets_resolve(struct kspan_targets *t, const struct kspan_config *cfg)
{
	struct kspan_pidvec roots = { 0 };
	int err = record_exes(t, cfg);

	if (!err)
		err = roots_from_pids(t, cfg, &roots);
	if (!err)
		err = roots_from_exes(t, &roots);
	if (!err)
		err = roots_from_ports(t, cfg, &roots);
	/* A root already in the set came in with an earlier tree, its descendants too. */
	for (size_t i = 0; i < roots.n && !err; i++)
		if (!kspan_targets_contains(t, roots.v[i]))
			err = kspan_targets_add_tree(t, roots.v[i]);
	kspan_pidvec_free(&roots);
	return err;
}

void kspan_targets_free(struct kspan_targets *t)
{
	if (!t)
		return;
	free(t->tgids);
	free(t->exes);
	kspan_targets_init(t, t->procfs_root);
}
