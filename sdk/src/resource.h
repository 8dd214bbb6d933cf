/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals of resource.c that tests and fuzzers call directly: the parser
 * of the OTEL_RESOURCE_ATTRIBUTES value.
 */
#ifndef OTEL_SRC_RESOURCE_H
#define OTEL_SRC_RESOURCE_H

#include <stddef.h>
#include "attrs.h"

/*
 * Parse an OTEL_RESOURCE_ATTRIBUTES value s[0..len) ("k1=v1,k2=v2", W3C
 * Baggage without properties; keys and values percent-decoded with ill-formed
 * UTF-8 repaired, blanks around them ignored, empty members skipped, later
 * duplicates win) into @out, which must be empty. Returns 0, -EINVAL
 * (malformed: @out is left empty, the spec discards the whole value) or
 * -ENOMEM (@out left empty). Logs nothing.
 */
int otel_resource_parse_kv_list(const char *s, size_t len, struct otel_attr_list *out,
				struct otel_store *st);

#endif
