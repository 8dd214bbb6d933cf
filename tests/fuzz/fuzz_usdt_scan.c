// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target: an ELF file a traced process maps, which the agent reads
 * to find its otel:* USDT probes (kspan_usdt_scan_mem in userspace/usdt_scan.c).
 * The process controls the file entirely. Beyond memory safety it checks: on
 * success every site names a probe of the contract, the probe bits are exactly
 * the probes of the sites, and their count is bounded; on failure the result is
 * empty and a message is given.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "usdt_scan.h"

#define check(COND)                       \
	do {                              \
		if (!(COND))              \
			__builtin_trap(); \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kspan_usdt_scan s;
	char err[256] = "";
	uint32_t bits = 0;
	int rc;

	memset(&s, 0xa5, sizeof(s)); /* the scanner must fill it on every path */
	rc = kspan_usdt_scan_mem(data, size, &s, err, sizeof(err));
	if (rc) {
		check(rc < 0);
		check(s.n == 0 && s.sites == NULL);
		check(err[0] != '\0');
		return 0;
	}
	check(s.n <= KSPAN_USDT_SCAN_MAX_SITES);
	for (size_t i = 0; i < s.n; i++) {
		check(s.sites[i].probe >= KSPAN_USDT_SPAN_START &&
		      s.sites[i].probe <= KSPAN_USDT_PROBE_MAX);
		check(kspan_usdt_probe_name(s.sites[i].probe) != NULL);
		bits |= 1u << s.sites[i].probe;
	}
	check(bits == s.probes);
	check(kspan_usdt_scan_probe_count(&s) == (unsigned int)__builtin_popcount(bits));
	kspan_usdt_scan_free(&s);
	return 0;
}
