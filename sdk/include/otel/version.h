/* SPDX-License-Identifier: Apache-2.0 */
/* The libotel version, as numbers for the preprocessor and as a string at run time. */
#ifndef OTEL_VERSION_H
#define OTEL_VERSION_H

#include <otel/common.h>

#ifdef __cplusplus
extern "C" {
#endif

#define OTEL_VERSION_MAJOR 0
#define OTEL_VERSION_MINOR 1
#define OTEL_VERSION_PATCH 0
#define OTEL_VERSION_STRING "0.1.0"
/** Compare with `#if OTEL_VERSION_NUMBER >= OTEL_VERSION_ENCODE(0, 2, 0)`. */
#define OTEL_VERSION_ENCODE(MA, MI, PA) (((MA) << 16) | ((MI) << 8) | (PA))
#define OTEL_VERSION_NUMBER OTEL_VERSION_ENCODE(OTEL_VERSION_MAJOR, OTEL_VERSION_MINOR, OTEL_VERSION_PATCH)

/** @brief The version of the library actually loaded, e.g. "0.1.0". */
OTEL_API const char *otel_version_string(void);

#ifdef __cplusplus
}
#endif
#endif /* OTEL_VERSION_H */
