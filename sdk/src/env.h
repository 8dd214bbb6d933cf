/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading OTEL_* environment variables the way the specification asks: an
 * empty value counts as unset, values are trimmed, and an invalid value is
 * reported once (naming the variable, the value and what is accepted) and
 * replaced by the default.
 */
#ifndef OTEL_SRC_ENV_H
#define OTEL_SRC_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The value trimmed of surrounding whitespace into buf, or NULL when unset/empty/too long. */
const char *otel_env_str(const char *name, char *buf, size_t size);
/* "true"/"false" case-insensitively; anything else warns and gives @def. */
bool otel_env_bool(const char *name, bool def);
/* A non-negative integer up to UINT32_MAX; else warns and gives @def. */
uint32_t otel_env_u32(const char *name, uint32_t def);
/* A floating point number in [lo, hi]; else warns and gives @def. */
double otel_env_double(const char *name, double def, double lo, double hi);
/* Case-insensitive match of one of @choices (NULL-terminated): its index, else warns and -1. */
int otel_env_enum(const char *name, const char *const *choices);

#endif
