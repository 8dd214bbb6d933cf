// SPDX-License-Identifier: Apache-2.0
/*
 * tests/helpers/ring_recs.c: copies of ring-buffer records for the kernel-side tests
 * (see ring_recs.h).
 */
#include "ring_recs.h"

#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

int ring_recs_keep(void *ctx, void *data, size_t size)
{
	struct ring_recs *r = ctx;
	void *copy;

	if (r->n == RING_RECS_MAX || !(copy = malloc(size))) {
		r->lost++;
		return 0;
	}
	memcpy(copy, data, size);
	r->recs[r->n++] = copy;
	return 0;
}

void ring_recs_forget(struct ring_recs *r)
{
	while (r->n)
		free(r->recs[--r->n]);
	r->lost = 0;
}

int ring_recs_collect(struct ring_recs *r, struct ring_buffer *rb)
{
	ring_recs_forget(r);
	return ring_buffer__consume(rb);
}
