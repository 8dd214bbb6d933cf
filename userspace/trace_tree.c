// SPDX-License-Identifier: Apache-2.0
/*
 * trace_tree: the console exporter that prints traces as trees (see trace_tree.h for the format
 * and when a trace is printed). Owns the buffered traces: a hash table by trace id over two
 * lists, the open traces (waiting for their root, oldest first) and the printed ones (ids only,
 * to recognise late spans, oldest first); the tree built from a trace's spans at print time;
 * and its text.
 *
 * Memory is bounded by max_spans (span references held) and max_remembered (printed ids). A tree
 * is built in O(n log n) (sort by start, parents found by binary search on span ids); a cycle
 * of parent ids (malformed input) is cut where it closes, so every span is printed once.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "buf.h"
#include "trace_tree.h"

#define DEFAULT_ROOT_WAIT_MS 10000
#define DEFAULT_REMOTE_SETTLE_MS 1000
#define DEFAULT_MAX_SPANS 4096
#define DEFAULT_MAX_REMEMBERED 1024
/* Deeper spans are drawn at this depth with a "+N" marker: a line stays readable. */
#define MAX_DRAW_DEPTH 24

enum trace_state {
	TRACE_OPEN, /* waiting for its root */
	TRACE_PRINTED, /* printed; holds late spans until the end of the export call */
};

struct trace {
	uint8_t id[16];
	enum trace_state state;
	struct trace *hash_next;
	struct trace *prev, *next; /* in the open or the printed list */
	const struct otel_span_data **spans; /* references, in arrival order */
	uint32_t n, cap;
	uint64_t first_ns, last_ns; /* arrival of the first and the last span (monotonic) */
	uint64_t start_ns; /* printed: the start of the printed tree, origin of late offsets */
	bool has_root; /* open: a span without parent arrived */
	bool remote_top; /* open: a span with a remote parent arrived since the last check */
};

struct trace_list {
	struct trace *head, *tail;
	size_t n;
};

struct tree_exporter {
	struct otel_span_exporter base;
	pthread_mutex_t lock;
	FILE *out;
	struct kspan_trace_tree_opts opts;
	struct trace **buckets;
	size_t mask;
	uint64_t seed;
	struct trace_list open, printed;
	size_t n_spans; /* references held, open and late */
	size_t n_ready; /* open traces whose root arrived */
	size_t n_late; /* printed traces holding late spans */
	struct otel_buf text;
	bool write_failed; /* since the start of the current call */
	bool shut_down;
	struct kspan_trace_tree_stats stats;
};

static const struct otel_span_exporter_ops tree_ops;

static uint64_t mono_ns(void *ctx)
{
	struct timespec ts;

	(void)ctx;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t now_ns(struct tree_exporter *t)
{
	return t->opts.now_ns(t->opts.now_ctx);
}

static bool id_is_zero(const uint8_t *id, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (id[i])
			return false;
	return true;
}

/* ---- Lists and the hash table ---- */

static void list_append(struct trace_list *l, struct trace *tr)
{
	tr->next = NULL;
	tr->prev = l->tail;
	if (l->tail)
		l->tail->next = tr;
	else
		l->head = tr;
	l->tail = tr;
	l->n++;
}

static void list_remove(struct trace_list *l, struct trace *tr)
{
	if (tr->prev)
		tr->prev->next = tr->next;
	else
		l->head = tr->next;
	if (tr->next)
		tr->next->prev = tr->prev;
	else
		l->tail = tr->prev;
	tr->prev = tr->next = NULL;
	l->n--;
}

/* Trace ids can come from outside (traceparent): the seed keeps collisions hard to aim. */
static size_t bucket_of(const struct tree_exporter *t, const uint8_t id[16])
{
	uint64_t a, b, h;

	memcpy(&a, id, 8);
	memcpy(&b, id + 8, 8);
	h = (a ^ t->seed) * 0x9e3779b97f4a7c15ull;
	h = (h ^ (h >> 29) ^ b) * 0xbf58476d1ce4e5b9ull;
	return (size_t)(h ^ (h >> 32)) & t->mask;
}

static struct trace *trace_find(const struct tree_exporter *t, const uint8_t id[16])
{
	struct trace *tr = t->buckets[bucket_of(t, id)];

	while (tr && memcmp(tr->id, id, 16))
		tr = tr->hash_next;
	return tr;
}

static void hash_remove(struct tree_exporter *t, struct trace *tr)
{
	struct trace **pp = &t->buckets[bucket_of(t, tr->id)];

	while (*pp != tr)
		pp = &(*pp)->hash_next;
	*pp = tr->hash_next;
}

static void release_spans(struct tree_exporter *t, struct trace *tr)
{
	for (uint32_t i = 0; i < tr->n; i++)
		otel_span_data_unref(tr->spans[i]);
	t->n_spans -= tr->n;
	free(tr->spans);
	tr->spans = NULL;
	tr->n = tr->cap = 0;
}

/* ---- Building a tree ---- */

struct node {
	const struct otel_span_data *d;
	uint32_t seq; /* arrival order: ties of start time keep it */
	int parent, first_child, last_child, next_sibling;
};

struct id_ref {
	uint8_t id[8];
	int idx;
};

struct tree {
	struct node *nodes; /* in start order */
	bool *last_at; /* while printing: is the line at depth k the last of its siblings */
	int n;
	int first_top;
	uint64_t start_ns, end_ns;
};

static int cmp_start(const void *a, const void *b)
{
	const struct node *x = a, *y = b;

	if (x->d->start_time_ns != y->d->start_time_ns)
		return x->d->start_time_ns < y->d->start_time_ns ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int cmp_id(const void *a, const void *b)
{
	return memcmp(((const struct id_ref *)a)->id, ((const struct id_ref *)b)->id, 8);
}

/* Parent indexes (-1: not in the tree) by binary search on the span ids. */
static int find_parents(struct tree *tr)
{
	struct id_ref *ids = malloc((size_t)tr->n * sizeof(*ids));

	if (!ids)
		return -ENOMEM;
	for (int i = 0; i < tr->n; i++) {
		memcpy(ids[i].id, tr->nodes[i].d->context.span_id, 8);
		ids[i].idx = i;
	}
	qsort(ids, (size_t)tr->n, sizeof(*ids), cmp_id);
	for (int i = 0; i < tr->n; i++) {
		const struct otel_span_data *d = tr->nodes[i].d;
		struct id_ref key, *hit;

		tr->nodes[i].parent = -1;
		if (id_is_zero(d->parent_span_id, 8))
			continue;
		memcpy(key.id, d->parent_span_id, 8);
		hit = bsearch(&key, ids, (size_t)tr->n, sizeof(*ids), cmp_id);
		if (hit && hit->idx != i)
			tr->nodes[i].parent = hit->idx;
	}
	free(ids);
	return 0;
}

/*
 * Cut parent cycles (only malformed input has them): walk up from each span marking the path;
 * reaching a span of the same walk closes a cycle, which is cut at the last span walked.
 */
static int cut_cycles(struct tree *tr)
{
	uint8_t *state = calloc((size_t)tr->n, 1); /* 0 unseen, 1 on this walk, 2 done */

	if (!state)
		return -ENOMEM;
	for (int i = 0; i < tr->n; i++) {
		int j = i, last = -1;

		while (j >= 0 && !state[j]) {
			state[j] = 1;
			last = j;
			j = tr->nodes[j].parent;
		}
		if (j >= 0 && state[j] == 1)
			tr->nodes[last].parent = -1;
		for (j = i; j >= 0 && state[j] == 1; j = tr->nodes[j].parent)
			state[j] = 2;
	}
	free(state);
	return 0;
}

static void tree_free(struct tree *tr)
{
	free(tr->nodes);
	free(tr->last_at);
}

/* The forest of @n spans: children and tops in start order. 0 or -ENOMEM. */
static int tree_build(struct tree *tr, const struct otel_span_data *const *spans, uint32_t n)
{
	int last_top = -1;

	*tr = (struct tree){ .n = (int)n, .first_top = -1 };
	tr->nodes = malloc((n ? n : 1) * sizeof(*tr->nodes));
	tr->last_at = malloc(n + 1);
	if (!tr->nodes || !tr->last_at)
		goto nomem;
	for (uint32_t i = 0; i < n; i++)
		tr->nodes[i] = (struct node){ .d = spans[i], .seq = i };
	qsort(tr->nodes, n, sizeof(*tr->nodes), cmp_start);
	if (find_parents(tr) || cut_cycles(tr))
		goto nomem;
	tr->start_ns = n ? tr->nodes[0].d->start_time_ns : 0;
	for (int i = 0; i < tr->n; i++)
		tr->nodes[i].first_child = tr->nodes[i].last_child = tr->nodes[i].next_sibling = -1;
	/* a parent may start after its child (clock skew, malformed input): link after the reset */
	for (int i = 0; i < tr->n; i++) {
		struct node *x = &tr->nodes[i];
		int *tail = x->parent >= 0 ? &tr->nodes[x->parent].last_child : &last_top;

		if (x->d->end_time_ns > tr->end_ns)
			tr->end_ns = x->d->end_time_ns;
		if (*tail >= 0)
			tr->nodes[*tail].next_sibling = i;
		else if (x->parent >= 0)
			tr->nodes[x->parent].first_child = i;
		else
			tr->first_top = i;
		*tail = i;
	}
	return 0;
nomem:
	tree_free(tr);
	return -ENOMEM;
}

/* A top span that is a root here: no parent, or a remote one. */
static bool tree_has_local_root(const struct tree *tr)
{
	for (int i = tr->first_top; i >= 0; i = tr->nodes[i].next_sibling)
		if (id_is_zero(tr->nodes[i].d->parent_span_id, 8) ||
		    tr->nodes[i].d->parent_is_remote)
			return true;
	return false;
}

/* ---- Text ---- */

static const char *kind_name(enum otel_span_kind kind)
{
	static const char *const names[] = { "INTERNAL", "SERVER", "CLIENT", "PRODUCER",
					     "CONSUMER" };

	return (unsigned)kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "UNSPECIFIED";
}

static void put_text(struct otel_buf *b, const char *s)
{
	if (s)
		otel_buf_json_escape(b, s, strlen(s));
}

/* @ns as milliseconds with 3 decimals: "12.345"; "+"/"-" first when @sign. */
static void put_ms(struct otel_buf *b, int64_t ns, bool sign)
{
	uint64_t abs = ns < 0 ? -(uint64_t)ns : (uint64_t)ns;

	if (sign || ns < 0)
		otel_buf_putc(b, ns < 0 ? '-' : '+');
	otel_buf_printf(b, "%llu.%03llu ms", (unsigned long long)(abs / 1000000),
			(unsigned long long)(abs % 1000000 / 1000));
}

static const struct otel_value *find_attr(const struct otel_attribute *attrs, size_t n,
					  const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (attrs[i].key && !strcmp(attrs[i].key, key))
			return &attrs[i].value;
	return NULL;
}

static const char *attr_str(const struct otel_attribute *attrs, size_t n, const char *key)
{
	const struct otel_value *v = find_attr(attrs, n, key);

	return v && v->type == OTEL_VALUE_STRING ? v->str.ptr : NULL;
}

static const char *service_of(const struct otel_span_data *d)
{
	const struct otel_value *v = d->resource ? otel_resource_get(d->resource, "service.name") :
						   NULL;

	return v && v->type == OTEL_VALUE_STRING ? v->str.ptr : NULL;
}

static const struct otel_event *first_exception(const struct otel_span_data *d)
{
	for (size_t i = 0; i < d->n_events; i++)
		if (d->events[i].name && !strcmp(d->events[i].name, "exception"))
			return &d->events[i];
	return NULL;
}

/* The tree lines left of a span at @depth (its ancestors' continuation lines). */
static void put_indent(struct otel_buf *b, const struct tree *tr, int depth)
{
	for (int k = 0; k < depth && k < MAX_DRAW_DEPTH; k++)
		otel_buf_puts(b, tr->last_at[k] ? "   " : "│  ");
	if (depth > MAX_DRAW_DEPTH)
		otel_buf_printf(b, "+%d ", depth - MAX_DRAW_DEPTH);
}

static void put_span_line(struct otel_buf *b, const struct tree *tr, int i, int depth,
			  uint64_t origin)
{
	const struct node *x = &tr->nodes[i];
	const struct otel_span_data *d = x->d;
	const char *svc = service_of(d),
		   *psvc = x->parent >= 0 ? service_of(tr->nodes[x->parent].d) : NULL;
	const struct otel_value *code =
		find_attr(d->attributes, d->n_attributes, "http.response.status_code");

	put_indent(b, tr, depth);
	otel_buf_puts(b, tr->last_at[depth] ? "└─ " : "├─ ");
	otel_buf_puts(b, kind_name(d->kind));
	otel_buf_putc(b, ' ');
	put_text(b, d->name);
	if (svc && (x->parent < 0 || !psvc || strcmp(svc, psvc))) {
		otel_buf_puts(b, " [");
		put_text(b, svc);
		otel_buf_putc(b, ']');
	}
	otel_buf_putc(b, ' ');
	put_ms(b, (int64_t)(d->end_time_ns - d->start_time_ns), false);
	otel_buf_puts(b, " @");
	put_ms(b, (int64_t)(d->start_time_ns - origin), true);
	if (code && code->type == OTEL_VALUE_INT)
		otel_buf_printf(b, " http %lld", (long long)code->i);
	if (d->status_code == OTEL_STATUS_ERROR) {
		const struct otel_event *e = first_exception(d);
		const char *why = d->status_description;

		if (!why && e)
			why = attr_str(e->attributes, e->n_attributes, "exception.message");
		otel_buf_puts(b, " ERROR");
		if (why) {
			otel_buf_putc(b, ' ');
			otel_buf_json_string(b, why, strlen(why));
		}
	}
	if (x->parent < 0 && !id_is_zero(d->parent_span_id, 8)) {
		otel_buf_puts(b, d->parent_is_remote ? " (remote parent " : " (parent ");
		otel_buf_hex(b, d->parent_span_id, 8);
		otel_buf_putc(b, ')');
	}
	otel_buf_putc(b, '\n');
}

static void put_events(struct otel_buf *b, const struct tree *tr, int i, int depth, uint64_t origin)
{
	const struct otel_span_data *d = tr->nodes[i].d;

	for (size_t k = 0; k < d->n_events; k++) {
		const struct otel_event *e = &d->events[k];
		const char *type = attr_str(e->attributes, e->n_attributes, "exception.type");
		const char *msg = attr_str(e->attributes, e->n_attributes, "exception.message");

		put_indent(b, tr, depth + 1);
		otel_buf_puts(b, tr->nodes[i].first_child >= 0 ? "│  • " : "   • ");
		put_text(b, e->name);
		if (e->name && !strcmp(e->name, "exception") && (type || msg)) {
			otel_buf_putc(b, ' ');
			put_text(b, type);
			otel_buf_puts(b, type && msg ? ": " : "");
			put_text(b, msg);
		}
		otel_buf_puts(b, " @");
		put_ms(b, (int64_t)(e->time_ns - origin), true);
		otel_buf_putc(b, '\n');
	}
}

/* The header and every span, depth first; offsets from @origin (wall ns). */
static void put_tree(struct otel_buf *b, struct tree *tr, const uint8_t *trace_id, uint64_t origin,
		     const char *note)
{
	int i = tr->first_top, depth = 0;

	otel_buf_puts(b, "trace ");
	otel_buf_hex(b, trace_id, 16);
	otel_buf_putc(b, ' ');
	put_ms(b, (int64_t)(tr->end_ns - tr->start_ns), false);
	otel_buf_printf(b, ", %d span%s", tr->n, tr->n == 1 ? "" : "s");
	if (note)
		otel_buf_printf(b, " (%s)", note);
	otel_buf_putc(b, '\n');
	while (i >= 0) {
		tr->last_at[depth] = tr->nodes[i].next_sibling < 0;
		put_span_line(b, tr, i, depth, origin);
		/* the node's own line continues past its events when children follow */
		put_events(b, tr, i, depth, origin);
		if (tr->nodes[i].first_child >= 0) {
			i = tr->nodes[i].first_child;
			depth++;
			continue;
		}
		while (i >= 0 && tr->nodes[i].next_sibling < 0) {
			i = tr->nodes[i].parent;
			depth--;
		}
		if (i >= 0)
			i = tr->nodes[i].next_sibling;
	}
}

static void emit(struct tree_exporter *t)
{
	if (t->text.failed || fwrite(t->text.data, 1, t->text.len, t->out) != t->text.len) {
		t->stats.write_errors++;
		t->write_failed = true;
	}
	otel_buf_clear(&t->text);
}

/* ---- Printing traces ---- */

enum print_reason {
	PRINT_ROOT, /* its root arrived, or its remote-parented top settled */
	PRINT_ROOT_WAIT, /* root_wait_ms passed */
	PRINT_FLUSH, /* force_flush or shutdown */
	PRINT_FULL, /* the buffer is full */
};

/* Forget the oldest printed ids beyond max_remembered. */
static void trim_printed(struct tree_exporter *t);

/* The text of an open trace (n > 0); true when it has a local root. *@start: the tree's start. */
static bool put_open(struct tree_exporter *t, struct trace *tr, enum print_reason why,
		     uint64_t *start)
{
	struct tree tree;
	char note[64];
	bool complete;

	*start = tr->spans[0]->start_time_ns;
	if (tree_build(&tree, tr->spans, tr->n)) {
		otel_buf_puts(&t->text, "trace ");
		otel_buf_hex(&t->text, tr->id, 16);
		otel_buf_printf(&t->text, ": %u spans not printed (out of memory)\n", tr->n);
		return false;
	}
	complete = tree_has_local_root(&tree);
	if (why == PRINT_ROOT_WAIT && t->opts.root_wait_ms % 1000)
		snprintf(note, sizeof(note), "partial: no root span after %u ms",
			 t->opts.root_wait_ms);
	else if (why == PRINT_ROOT_WAIT)
		snprintf(note, sizeof(note), "partial: no root span after %u s",
			 t->opts.root_wait_ms / 1000);
	else
		snprintf(note, sizeof(note), "partial: %s",
			 why == PRINT_FULL ? "buffer full" : "flushed before its root span");
	put_tree(&t->text, &tree, tr->id, tree.start_ns, complete ? NULL : note);
	*start = tree.start_ns;
	tree_free(&tree);
	return complete;
}

/* Print an open trace and make it a printed one (its spans released). */
static void print_open(struct tree_exporter *t, struct trace *tr, enum print_reason why)
{
	uint64_t start = 0;

	if (tr->n) { /* none when its spans could not be kept: nothing to say */
		bool complete = put_open(t, tr, why, &start);

		emit(t);
		if (complete) {
			t->stats.traces++;
		} else {
			t->stats.partial++;
			t->stats.evicted += why == PRINT_FULL;
		}
	}
	if (tr->has_root)
		t->n_ready--;
	release_spans(t, tr);
	list_remove(&t->open, tr);
	tr->state = TRACE_PRINTED;
	tr->start_ns = start;
	list_append(&t->printed, tr);
	trim_printed(t);
}

/* Print the late spans a printed trace holds, and release them. */
static void print_late(struct tree_exporter *t, struct trace *tr)
{
	struct tree tree;

	if (tree_build(&tree, tr->spans, tr->n)) {
		otel_buf_puts(&t->text, "trace ");
		otel_buf_hex(&t->text, tr->id, 16);
		otel_buf_printf(&t->text, ": %u late spans not printed (out of memory)\n", tr->n);
	} else {
		put_tree(&t->text, &tree, tr->id, tr->start_ns,
			 "late: its trace was printed already");
		tree_free(&tree);
	}
	emit(t);
	release_spans(t, tr);
	t->n_late--;
}

static void trim_printed(struct tree_exporter *t)
{
	while (t->printed.n > t->opts.max_remembered) {
		struct trace *tr = t->printed.head;

		if (tr->n)
			print_late(t, tr);
		list_remove(&t->printed, tr);
		hash_remove(t, tr);
		free(tr);
	}
}

static void print_all_late(struct tree_exporter *t)
{
	for (struct trace *tr = t->printed.head; tr && t->n_late; tr = tr->next)
		if (tr->n)
			print_late(t, tr);
}

static void print_ready(struct tree_exporter *t)
{
	struct trace *tr = t->open.head, *next;

	for (; tr && t->n_ready; tr = next) {
		next = tr->next;
		if (tr->has_root)
			print_open(t, tr, PRINT_ROOT);
	}
}

/* The settle and root-wait rules (trace_tree.h). */
static void expire(struct tree_exporter *t, uint64_t now)
{
	uint64_t settle = (uint64_t)t->opts.remote_settle_ms * 1000000;
	uint64_t wait = (uint64_t)t->opts.root_wait_ms * 1000000;
	struct trace *tr, *next;

	for (tr = t->open.head; tr; tr = next) {
		next = tr->next;
		if (tr->remote_top && now - tr->last_ns >= settle) {
			struct tree tree;
			bool rooted = false;

			tr->remote_top = false;
			if (!tree_build(&tree, tr->spans, tr->n)) {
				rooted = tree_has_local_root(&tree);
				tree_free(&tree);
			}
			if (rooted) {
				print_open(t, tr, PRINT_ROOT);
				continue;
			}
		}
		if (now - tr->first_ns >= wait)
			print_open(t, tr, PRINT_ROOT_WAIT);
	}
}

static void flush_open(struct tree_exporter *t)
{
	while (t->open.head)
		print_open(t, t->open.head, PRINT_FLUSH);
	print_all_late(t);
}

/* Make room for one more span: the oldest open trace goes out, else the late spans. */
static void make_room(struct tree_exporter *t)
{
	while (t->n_spans >= t->opts.max_spans) {
		if (t->open.head)
			print_open(t, t->open.head, PRINT_FULL);
		else if (t->n_late)
			print_all_late(t);
		else
			break; /* cannot happen: every span held is open or late */
	}
}

/* ---- Taking spans ---- */

static void add_span(struct tree_exporter *t, const struct otel_span_data *d, uint64_t now)
{
	struct trace *tr;

	make_room(t);
	tr = trace_find(t, d->context.trace_id);
	if (!tr) {
		size_t b = bucket_of(t, d->context.trace_id);

		tr = calloc(1, sizeof(*tr));
		if (!tr) {
			t->stats.dropped_spans++;
			return;
		}
		memcpy(tr->id, d->context.trace_id, 16);
		tr->first_ns = now;
		tr->hash_next = t->buckets[b];
		t->buckets[b] = tr;
		list_append(&t->open, tr);
	}
	if (tr->n == tr->cap) {
		uint32_t cap = tr->cap ? tr->cap * 2 : 8;
		const struct otel_span_data **spans = realloc(tr->spans, cap * sizeof(*spans));

		if (!spans) {
			t->stats.dropped_spans++;
			return; /* an empty open trace is printed (as nothing) by the root wait */
		}
		tr->spans = spans;
		tr->cap = cap;
	}
	if (tr->state == TRACE_PRINTED) {
		t->stats.late_spans++;
		t->n_late += !tr->n;
	} else if (id_is_zero(d->parent_span_id, 8)) {
		t->n_ready += !tr->has_root;
		tr->has_root = true;
	} else if (d->parent_is_remote) {
		tr->remote_top = true;
	}
	tr->spans[tr->n++] = otel_span_data_ref(d);
	tr->last_ns = now;
	t->n_spans++;
}

/* ---- The exporter ---- */

#define tree_of(E) ((struct tree_exporter *)(E))

static enum otel_export_result tree_export(struct otel_span_exporter *exp,
					   const struct otel_span_data *const *spans, size_t n,
					   uint64_t deadline_ns)
{
	struct tree_exporter *t = tree_of(exp);
	bool failed;
	uint64_t now;

	(void)deadline_ns;
	pthread_mutex_lock(&t->lock);
	if (t->shut_down) {
		pthread_mutex_unlock(&t->lock);
		return OTEL_EXPORT_FAILURE;
	}
	t->write_failed = false;
	now = now_ns(t);
	for (size_t i = 0; i < n; i++)
		add_span(t, spans[i], now);
	print_ready(t);
	print_all_late(t);
	expire(t, now);
	if (fflush(t->out))
		t->write_failed = true;
	failed = t->write_failed;
	pthread_mutex_unlock(&t->lock);
	return failed ? OTEL_EXPORT_FAILURE : OTEL_EXPORT_SUCCESS;
}

static int tree_force_flush(struct otel_span_exporter *exp, uint64_t deadline_ns)
{
	struct tree_exporter *t = tree_of(exp);
	int err = 0;

	(void)deadline_ns;
	pthread_mutex_lock(&t->lock);
	if (!t->shut_down) {
		t->write_failed = false;
		flush_open(t);
		if (fflush(t->out) || t->write_failed)
			err = -EIO;
	}
	pthread_mutex_unlock(&t->lock);
	return err;
}

static int tree_shutdown(struct otel_span_exporter *exp, uint64_t deadline_ns)
{
	struct tree_exporter *t = tree_of(exp);
	int err = tree_force_flush(exp, deadline_ns);

	pthread_mutex_lock(&t->lock);
	t->shut_down = true;
	pthread_mutex_unlock(&t->lock);
	return err;
}

static void free_list(struct tree_exporter *t, struct trace_list *l)
{
	struct trace *tr, *next;

	for (tr = l->head; tr; tr = next) {
		next = tr->next;
		release_spans(t, tr);
		free(tr);
	}
}

static void tree_destroy(struct otel_span_exporter *exp)
{
	struct tree_exporter *t = tree_of(exp);

	free_list(t, &t->open);
	free_list(t, &t->printed);
	free(t->buckets);
	otel_buf_release(&t->text);
	pthread_mutex_destroy(&t->lock);
	free(t); /* the stream is the caller's */
}

static const struct otel_span_exporter_ops tree_ops = {
	.export_spans = tree_export,
	.force_flush = tree_force_flush,
	.shutdown = tree_shutdown,
	.destroy = tree_destroy,
};

struct otel_span_exporter *kspan_trace_tree_exporter_new(FILE *out,
							 const struct kspan_trace_tree_opts *opts)
{
	struct tree_exporter *t = calloc(1, sizeof(*t));
	size_t buckets = 64;

	if (!t)
		return NULL;
	if (opts)
		t->opts = *opts;
	if (!t->opts.root_wait_ms)
		t->opts.root_wait_ms = DEFAULT_ROOT_WAIT_MS;
	if (!t->opts.remote_settle_ms)
		t->opts.remote_settle_ms = DEFAULT_REMOTE_SETTLE_MS;
	if (!t->opts.max_spans)
		t->opts.max_spans = DEFAULT_MAX_SPANS;
	if (!t->opts.max_remembered)
		t->opts.max_remembered = DEFAULT_MAX_REMEMBERED;
	if (!t->opts.now_ns)
		t->opts.now_ns = mono_ns;
	/* a trace holds at least one span while open: open + printed traces are bounded */
	while (buckets < (size_t)t->opts.max_spans + t->opts.max_remembered && buckets < (1u << 20))
		buckets *= 2;
	t->buckets = calloc(buckets, sizeof(*t->buckets));
	if (!t->buckets) {
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	t->mask = buckets - 1;
	t->seed = mono_ns(NULL) ^ (uint64_t)(uintptr_t)t;
	t->base.ops = &tree_ops;
	t->out = out ? out : stdout;
	pthread_mutex_init(&t->lock, NULL);
	return &t->base;
}

int kspan_trace_tree_expire(struct otel_span_exporter *exp)
{
	struct tree_exporter *t = tree_of(exp);
	int err = 0;

	if (!exp || exp->ops != &tree_ops)
		return -EINVAL;
	pthread_mutex_lock(&t->lock);
	if (!t->shut_down) {
		t->write_failed = false;
		expire(t, now_ns(t));
		if (fflush(t->out) || t->write_failed)
			err = -EIO;
	}
	pthread_mutex_unlock(&t->lock);
	return err;
}

int kspan_trace_tree_stats(struct otel_span_exporter *exp, struct kspan_trace_tree_stats *out)
{
	struct tree_exporter *t = tree_of(exp);

	if (!exp || exp->ops != &tree_ops || !out)
		return -EINVAL;
	pthread_mutex_lock(&t->lock);
	*out = t->stats;
	pthread_mutex_unlock(&t->lock);
	return 0;
}
