/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Common types of the libotel API: attribute values, key/value pairs, the
 * options-struct convention and the export visibility macro.
 *
 * Conventions (like libbpf): functions returning int return 0 or a negative
 * errno; functions returning a pointer return NULL and set errno. Options are
 * passed as structs whose first field is their size, filled by OTEL_OPTS().
 */
#ifndef OTEL_COMMON_H
#define OTEL_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define OTEL_API __attribute__((visibility("default")))

/**
 * @brief Declare and zero an options struct, setting its size field.
 *
 * Example: `OTEL_OPTS(otel_span_start_opts, o, .kind = OTEL_SPAN_KIND_SERVER);`
 */
#define OTEL_OPTS(TYPE, NAME, ...)                                                                 \
	struct TYPE NAME = ({                                                                      \
		struct TYPE ___##NAME;                                                             \
		__builtin_memset(&___##NAME, 0, sizeof(___##NAME));                                \
		___##NAME = (struct TYPE){ .sz = sizeof(struct TYPE), __VA_ARGS__ };               \
		___##NAME;                                                                         \
	})

/** Type of an attribute value; every OTLP AnyValue form an attribute may take. */
enum otel_value_type {
	OTEL_VALUE_NONE = 0, /**< empty value (dropped by setters) */
	OTEL_VALUE_STRING,
	OTEL_VALUE_BOOL,
	OTEL_VALUE_INT,
	OTEL_VALUE_DOUBLE,
	OTEL_VALUE_BYTES,
	OTEL_VALUE_STRING_ARRAY, /**< array.items is `const char *const *` */
	OTEL_VALUE_BOOL_ARRAY, /**< array.items is `const bool *` */
	OTEL_VALUE_INT_ARRAY, /**< array.items is `const int64_t *` */
	OTEL_VALUE_DOUBLE_ARRAY, /**< array.items is `const double *` */
};

/**
 * An attribute value. Strings carry an explicit length (they need not be
 * NUL-terminated on input; stored copies always are). Values read back from
 * the SDK (span data, resources) are always NUL-terminated.
 */
struct otel_value {
	enum otel_value_type type;
	union {
		struct {
			const char *ptr;
			size_t len;
		} str;
		bool b;
		int64_t i;
		double d;
		struct {
			const uint8_t *ptr;
			size_t len;
		} bytes;
		struct {
			const void *items;
			size_t count;
		} array;
	};
};

/** A key and its value. */
struct otel_attribute {
	const char *key;
	struct otel_value value;
};

/* Initializers for attribute lists: `struct otel_attribute a[] = { OTEL_ATTR_STR("k", "v") };` */
#define OTEL_ATTR_STR(K, V)                                                                        \
	{ .key = (K), .value = { .type = OTEL_VALUE_STRING, .str = { (V), __builtin_strlen(V) } } }
#define OTEL_ATTR_INT(K, V) { .key = (K), .value = { .type = OTEL_VALUE_INT, .i = (V) } }
#define OTEL_ATTR_DOUBLE(K, V) { .key = (K), .value = { .type = OTEL_VALUE_DOUBLE, .d = (V) } }
#define OTEL_ATTR_BOOL(K, V) { .key = (K), .value = { .type = OTEL_VALUE_BOOL, .b = (V) } }

/** @brief Make a string value from a NUL-terminated string (NULL gives an empty string). */
static inline struct otel_value otel_value_str(const char *s)
{
	struct otel_value v = { .type = OTEL_VALUE_STRING };

	v.str.ptr = s ? s : "";
	v.str.len = s ? __builtin_strlen(s) : 0;
	return v;
}

#ifdef __cplusplus
}
#endif
#endif /* OTEL_COMMON_H */
