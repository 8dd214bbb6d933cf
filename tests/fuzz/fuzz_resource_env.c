// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target: the OTEL_RESOURCE_ATTRIBUTES value parser
 * (otel_resource_parse_kv_list in sdk/src/resource.c), fed raw bytes without
 * going through setenv. Beyond memory safety it checks the parser's promises:
 * all or nothing, non-empty NUL-free keys, unique keys, well-formed UTF-8
 * strings, and no pair longer than its input could decode to.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "attrs.h"
#include "resource.h"

#define check(COND)                       \
	do {                              \
		if (!(COND))              \
			__builtin_trap(); \
	} while (0)

/* Well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF). */
static int utf8_valid(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		size_t len = c < 0x80		? 1 :
			     (c & 0xE0) == 0xC0 ? 2 :
			     (c & 0xF0) == 0xE0 ? 3 :
			     (c & 0xF8) == 0xF0 ? 4 :
						  0;
		uint32_t cp = len == 1 ? c : len == 2 ? c & 0x1F : len == 3 ? c & 0x0F : c & 0x07;
		static const uint32_t min[] = { 0, 0, 0x80, 0x800, 0x10000 };

		if (!len || i + len > n)
			return 0;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3F);
		}
		if (cp < min[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += len;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct otel_store st = { 0 }; /* heap-only */
	struct otel_attr_list l = { 0 };
	int rc;

	rc = otel_resource_parse_kv_list((const char *)data, size, &l, &st);
	check(rc == 0 || rc == -EINVAL || rc == -ENOMEM);
	if (rc)
		check(l.count == 0 && !l.items);
	for (uint32_t i = 0; i < l.count; i++) {
		const struct otel_attribute *a = &l.items[i];
		size_t klen = strlen(a->key);

		check(klen > 0 && klen <= 3 * size);
		check(utf8_valid((const unsigned char *)a->key, klen));
		check(a->value.type == OTEL_VALUE_STRING);
		check(a->value.str.ptr[a->value.str.len] == '\0');
		check(a->value.str.len <= 3 * size);
		check(utf8_valid((const unsigned char *)a->value.str.ptr, a->value.str.len));
		for (uint32_t k = 0; k < i; k++)
			check(strcmp(l.items[k].key, a->key));
	}
	otel_attr_list_release(&l, &st);
	return 0;
}
