// SPDX-License-Identifier: Apache-2.0
/*
 * A span's life after start: attributes, events, links, status, name, end,
 * and its reference count. Recording spans live in one allocation (struct +
 * inline arena, see span.h); non-recording spans only carry a context.
 *
 * Mutations serialize on the span's own spinlock, which is uncontended in
 * normal use; nothing here takes a lock shared between spans or does I/O.
 * Ending hands the span to the provider's processors, whose on_end must not
 * block either.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include "clock.h"
#include "log.h"
#include "span.h"
#include "span_pool.h"

struct otel_span otel_noop_span = {
	.data = { .name = otel_empty_str },
	.flags = SPAN_F_STATIC,
	.lock = ATOMIC_FLAG_INIT,
};

static inline void span_lock(struct otel_span *s)
{
	while (atomic_flag_test_and_set_explicit(&s->lock, memory_order_acquire))
		sched_yield();
}

static inline void span_unlock(struct otel_span *s)
{
	atomic_flag_clear_explicit(&s->lock, memory_order_release);
}

/* Lock a span for mutation; false (not locked) when it does not record. */
static bool span_lock_recording(struct otel_span *s)
{
	if (!s || !(s->flags & SPAN_F_RECORDING))
		return false;
	span_lock(s);
	if (atomic_load_explicit(&s->ended, memory_order_relaxed)) {
		span_unlock(s);
		otel_log(OTEL_LOG_DEBUG, "span \"%s\" already ended; change ignored", s->data.name);
		return false;
	}
	return true;
}

static const struct otel_span_limits *limits_of(const struct otel_span *s)
{
	return &s->tp->limits;
}

bool otel_span_context_is_valid(const struct otel_span_context *sc)
{
	static const uint8_t zero[16];

	return sc && memcmp(sc->trace_id, zero, 16) && memcmp(sc->span_id, zero, 8);
}

struct otel_span *otel_span_new_nonrecording(const struct otel_span_context *sc)
{
	struct otel_span *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	atomic_init(&s->refcount, 1);
	atomic_flag_clear(&s->lock);
	s->data.name = otel_empty_str;
	s->data.context = *sc;
	if (sc->trace_state)
		otel_trace_state_ref(sc->trace_state);
	return s;
}

otel_span *otel_span_wrap(const struct otel_span_context *sc)
{
	struct otel_span *s = otel_span_new_nonrecording(sc);

	if (!s)
		errno = ENOMEM;
	return s;
}

otel_span *otel_span_ref(otel_span *s)
{
	if (s && !(s->flags & SPAN_F_STATIC))
		atomic_fetch_add_explicit(&s->refcount, 1, memory_order_relaxed);
	return s;
}

/* Free an attribute array an event or link owns. */
static void release_attrs(struct otel_span *s, const struct otel_attribute *attrs, size_t n)
{
	struct otel_attr_list l = { .items = (struct otel_attribute *)attrs, .count = (uint32_t)n };

	otel_attr_list_release(&l, &s->store);
}

static void release_events(struct otel_span *s)
{
	for (size_t i = 0; i < s->data.n_events; i++) {
		release_attrs(s, s->data.events[i].attributes, s->data.events[i].n_attributes);
		otel_store_release(&s->store, s->data.events[i].name);
	}
	otel_store_release(&s->store, s->data.events);
}

static void release_links(struct otel_span *s)
{
	for (size_t i = 0; i < s->data.n_links; i++) {
		release_attrs(s, s->data.links[i].attributes, s->data.links[i].n_attributes);
		otel_trace_state_unref(s->data.links[i].context.trace_state);
	}
	otel_store_release(&s->store, s->data.links);
}

static void span_free(struct otel_span *s)
{
	/*
	 * A span whose data all fit in its inline arena has nothing to free but
	 * the links' tracestates: skip the walk. This runs on the batch worker,
	 * where every line of the span read is a miss on the producer's data.
	 */
	if (s->store.heap_used) {
		otel_attr_list_release(&s->attrs, &s->store);
		release_events(s);
		release_links(s);
		otel_store_release(&s->store, s->data.name);
		otel_store_release(&s->store, s->data.status_description);
	} else {
		for (size_t i = 0; i < s->data.n_links; i++)
			otel_trace_state_unref(s->data.links[i].context.trace_state);
	}
	otel_trace_state_unref(s->data.context.trace_state);
	if (s->tp) {
		otel_tracer_provider_span_released(s->tp);
		otel_span_block_free(s);
	} else {
		free(s);
	}
}

void otel_span_unref(otel_span *s)
{
	if (!s || (s->flags & SPAN_F_STATIC))
		return;
	if (atomic_fetch_sub_explicit(&s->refcount, 1, memory_order_acq_rel) == 1)
		span_free(s);
}

const struct otel_span_data *otel_span_data_ref(const struct otel_span_data *data)
{
	if (data)
		otel_span_ref(span_of_data(data));
	return data;
}

void otel_span_data_unref(const struct otel_span_data *data)
{
	if (data)
		otel_span_unref(span_of_data(data));
}

void otel_span_get_context(const otel_span *s, struct otel_span_context *out)
{
	if (!s) {
		memset(out, 0, sizeof(*out));
		return;
	}
	*out = s->data.context;
}

bool otel_span_is_recording(const otel_span *s)
{
	return s && (s->flags & SPAN_F_RECORDING) &&
	       !atomic_load_explicit(&((struct otel_span *)s)->ended, memory_order_relaxed);
}

void otel_span_set_attribute(otel_span *s, const char *key, const struct otel_value *value)
{
	if (!span_lock_recording(s))
		return;
	otel_attr_list_set(&s->attrs, &s->store, key, value, limits_of(s)->attribute_count,
			   limits_of(s)->attribute_value_length);
	span_unlock(s);
}

void otel_span_set_attributes(otel_span *s, const struct otel_attribute *attrs, size_t n)
{
	if (!span_lock_recording(s))
		return;
	otel_attr_list_set_all(&s->attrs, &s->store, attrs, n, limits_of(s)->attribute_count,
			       limits_of(s)->attribute_value_length);
	span_unlock(s);
}

void otel_span_set_attribute_strn(otel_span *s, const char *key, const char *value, size_t len)
{
	struct otel_value v = { .type = OTEL_VALUE_STRING, .str = { value ? value : "", len } };

	if (!value)
		v.str.len = 0;
	otel_span_set_attribute(s, key, &v);
}

void otel_span_set_attribute_str(otel_span *s, const char *key, const char *value)
{
	struct otel_value v = otel_value_str(value);

	otel_span_set_attribute(s, key, &v);
}

void otel_span_set_attribute_int(otel_span *s, const char *key, int64_t value)
{
	struct otel_value v = { .type = OTEL_VALUE_INT, .i = value };

	otel_span_set_attribute(s, key, &v);
}

void otel_span_set_attribute_double(otel_span *s, const char *key, double value)
{
	struct otel_value v = { .type = OTEL_VALUE_DOUBLE, .d = value };

	otel_span_set_attribute(s, key, &v);
}

void otel_span_set_attribute_bool(otel_span *s, const char *key, bool value)
{
	struct otel_value v = { .type = OTEL_VALUE_BOOL, .b = value };

	otel_span_set_attribute(s, key, &v);
}

/*
 * Make room for one more element in a growing array of a span (events,
 * links), up to @limit elements. Returns the slot or NULL (limit or ENOMEM).
 */
static void *grow_slot(struct otel_span *s, const void **array, size_t *count, uint32_t *cap,
		       size_t elem, uint32_t limit)
{
	if (*count >= limit)
		return NULL;
	if (*count == *cap) {
		uint32_t ncap = *cap ? *cap * 2 : 4;
		void *n;

		if (ncap > limit)
			ncap = limit;
		n = otel_store_alloc(&s->store, ncap * elem);
		if (!n)
			return NULL;
		if (*count)
			memcpy(n, *array, *count * elem);
		otel_store_release(&s->store, *array);
		*array = n;
		*cap = ncap;
	}
	return (char *)*array + *count * elem;
}

/* Add an event from two attribute arrays (the exception's own, then the caller's). Locked. */
static void add_event_locked(struct otel_span *s, const char *name, uint64_t time_ns,
			     const struct otel_attribute *a1, size_t n1,
			     const struct otel_attribute *a2, size_t n2)
{
	const struct otel_span_limits *lim = limits_of(s);
	struct otel_attr_list l = { 0 };
	struct otel_event *ev;

	ev = grow_slot(s, (const void **)&s->data.events, &s->data.n_events, &s->events_cap,
		       sizeof(*ev), lim->event_count);
	if (!ev) {
		s->data.dropped_events++;
		return;
	}
	ev->name = otel_store_strndup(&s->store, name ? name : "", name ? strlen(name) : 0);
	if (!ev->name) {
		s->data.dropped_events++;
		return;
	}
	ev->time_ns = time_ns ? time_ns : otel_now_ns();
	otel_attr_list_set_all(&l, &s->store, a1, n1, lim->attributes_per_event,
			       lim->attribute_value_length);
	otel_attr_list_set_all(&l, &s->store, a2, n2, lim->attributes_per_event,
			       lim->attribute_value_length);
	ev->attributes = l.items;
	ev->n_attributes = l.count;
	ev->dropped_attributes = l.dropped;
	s->data.n_events++;
}

void otel_span_add_event(otel_span *s, const char *name, uint64_t time_ns,
			 const struct otel_attribute *attrs, size_t n)
{
	if (!span_lock_recording(s))
		return;
	add_event_locked(s, name, time_ns, attrs, n, NULL, 0);
	span_unlock(s);
}

void otel_span_record_exception(otel_span *s, const char *type, const char *message,
				const char *stacktrace, const struct otel_attribute *attrs, size_t n)
{
	struct otel_attribute ex[3];
	size_t k = 0;

	if (!span_lock_recording(s))
		return;
	if (type)
		ex[k++] = (struct otel_attribute){ "exception.type", otel_value_str(type) };
	if (message)
		ex[k++] = (struct otel_attribute){ "exception.message", otel_value_str(message) };
	if (stacktrace)
		ex[k++] = (struct otel_attribute){ "exception.stacktrace",
						   otel_value_str(stacktrace) };
	add_event_locked(s, "exception", 0, ex, k, attrs, n);
	span_unlock(s);
}

/* Add a link (at start or later). The span must be locked or not yet published. */
void otel_span_add_link_locked(struct otel_span *s, const struct otel_span_context *sc,
			       const struct otel_attribute *attrs, size_t n)
{
	const struct otel_span_limits *lim = limits_of(s);
	struct otel_attr_list l = { 0 };
	struct otel_link *ln;

	/* The spec keeps links with an invalid context only if they carry something. */
	if (!otel_span_context_is_valid(sc) && !sc->trace_state && !n)
		return;
	ln = grow_slot(s, (const void **)&s->data.links, &s->data.n_links, &s->links_cap,
		       sizeof(*ln), lim->link_count);
	if (!ln) {
		s->data.dropped_links++;
		return;
	}
	ln->context = *sc;
	if (sc->trace_state)
		otel_trace_state_ref(sc->trace_state);
	otel_attr_list_set_all(&l, &s->store, attrs, n, lim->attributes_per_link,
			       lim->attribute_value_length);
	ln->attributes = l.items;
	ln->n_attributes = l.count;
	ln->dropped_attributes = l.dropped;
	s->data.n_links++;
}

void otel_span_add_link(otel_span *s, const struct otel_span_context *sc,
			const struct otel_attribute *attrs, size_t n)
{
	if (!sc || !span_lock_recording(s))
		return;
	otel_span_add_link_locked(s, sc, attrs, n);
	span_unlock(s);
}

void otel_span_set_status(otel_span *s, enum otel_status_code code, const char *description)
{
	if (code == OTEL_STATUS_UNSET || code > OTEL_STATUS_ERROR || !span_lock_recording(s))
		return;
	if (s->data.status_code != OTEL_STATUS_OK) {
		otel_store_release(&s->store, s->data.status_description);
		s->data.status_description = NULL;
		s->data.status_code = code;
		if (code == OTEL_STATUS_ERROR && description && *description)
			s->data.status_description =
				otel_store_strndup(&s->store, description, strlen(description));
	}
	span_unlock(s);
}

void otel_span_update_name(otel_span *s, const char *name)
{
	char *copy;

	if (!name || !span_lock_recording(s))
		return;
	copy = otel_store_strndup(&s->store, name, strlen(name));
	if (copy) {
		otel_store_release(&s->store, s->data.name);
		s->data.name = copy;
	}
	span_unlock(s);
}

void otel_span_end(otel_span *s, uint64_t end_time_ns)
{
	struct otel_tracer_provider *tp;

	if (!s || (s->flags & SPAN_F_STATIC))
		return;
	if (!(s->flags & SPAN_F_RECORDING)) {
		atomic_store_explicit(&s->ended, true, memory_order_relaxed);
		otel_span_unref(s);
		return;
	}
	span_lock(s);
	if (atomic_load_explicit(&s->ended, memory_order_relaxed)) {
		span_unlock(s);
		otel_log(OTEL_LOG_DEBUG, "span \"%s\" ended twice", s->data.name);
		otel_span_unref(s);
		return;
	}
	s->data.end_time_ns = end_time_ns ? end_time_ns : otel_now_ns();
	if (s->data.end_time_ns < s->data.start_time_ns)
		s->data.end_time_ns = s->data.start_time_ns;
	s->data.attributes = s->attrs.items;
	s->data.n_attributes = s->attrs.count;
	s->data.dropped_attributes = s->attrs.dropped;
	atomic_store_explicit(&s->ended, true, memory_order_release);
	span_unlock(s);

	tp = s->tp;
	if (!atomic_load_explicit(&tp->shut_down, memory_order_acquire)) {
		for (size_t i = 0; i < tp->n_processors; i++)
			tp->processors[i]->ops->on_end(tp->processors[i], &s->data);
	}
	otel_span_unref(s);
}
